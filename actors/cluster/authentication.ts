import {
  AGENT_READONLY_REALM,
  AGENT_READWRITE_REALM,
  BASIC_AUTHENTICATOR,
  BasicAuthenticator,
  CredentialsError,
  MASTER_READONLY_REALM,
  MASTER_READWRITE_REALM,
  MASTER_SCHEDULER_REALM,
  readCredentials,
  type Credential,
} from '../../src/http/authentication.ts';
import { FlagError, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { InvalidAclsError, readAcls, type LocalAuthorizer } from './acls.ts';

/**
 * HTTP authentication of a master or an agent, from Mesos's flags (`src/http/authentication.ts`
 * does the work):
 * - master: `--authenticate_http_readonly` (the state endpoints and `/metrics`),
 *   `--authenticate_http_readwrite` (the v1 operator API, teardown, quota, weights, ...),
 *   `--authenticate_http_frameworks` (the v1 scheduler API), with `--credentials`;
 * - agent: `--authenticate_http_readonly` (`/state`, `/files/*`, `/monitor/*`, `/metrics`) and
 *   `--authenticate_http_readwrite` (its v1 operator API), with `--http_credentials`.
 * All off by default, as in Mesos. The only authenticator is Mesos's default, `basic`
 * (`--http_authenticators`, `--http_framework_authenticators`).
 *
 * What this does not cover: frameworks and agents on the bus (Mesos's `--authenticate_frameworks`
 * and `--authenticate_agents`, SASL over libprocess). On NATS, who may publish to the cluster's
 * subjects is the nats-server's to decide (its users and permissions), as the bus is the wire.
 */

/** Which realms are to ask for credentials, and the credentials they accept. */
export interface HttpAuthentication {
  readonly readonly: boolean;
  readonly readwrite: boolean;
  /** Master only: the v1 scheduler API. */
  readonly frameworks: boolean;
  readonly credentials: readonly Credential[];
}

/** Mesos's default (and here only) authorizer, of `--acls`. */
const LOCAL_AUTHORIZER = 'local';

const AUTHENTICATE_FLAGS: FlagSpec[] = [
  { name: 'authenticate_http_readonly', type: 'bool', help: 'ask HTTP Basic credentials of every request to a read-only endpoint (state, metrics, files)', default: false },
  { name: 'authenticate_http_readwrite', type: 'bool', help: 'ask HTTP Basic credentials of every request to an endpoint that changes the cluster, and of the v1 operator API', default: false },
];

const authenticatorsFlag = (name: string, what: string): FlagSpec => ({
  name,
  type: 'string',
  help: `the HTTP authenticator of ${what}; only Mesos's default, '${BASIC_AUTHENTICATOR}' (HTTP Basic against the credentials)`,
  default: BASIC_AUTHENTICATOR,
});

/** The master's authentication flags (also `mesos-ts dev`'s, for its master and agents). */
export const MASTER_AUTHENTICATION_FLAGS: FlagSpec[] = [
  ...AUTHENTICATE_FLAGS,
  { name: 'authenticate_http_frameworks', type: 'bool', help: 'ask HTTP Basic credentials of every request to the v1 scheduler API; a framework then is the principal it authenticated as', default: false },
  {
    name: 'credentials',
    type: 'string',
    help: 'a file of the principals and secrets HTTP clients may authenticate as: JSON {"credentials":[{"principal":"ops","secret":"s3cret"}]} or one \'principal secret\' per line',
  },
  authenticatorsFlag('http_authenticators', 'the operator endpoints'),
  authenticatorsFlag('http_framework_authenticators', 'the scheduler API'),
];

/** The master's authorization flags (also `mesos-ts dev`'s): Mesos's `--acls` and `--authorizers`. */
export const AUTHORIZATION_FLAGS: FlagSpec[] = [
  {
    name: 'acls',
    type: 'string',
    help: 'who may do what, as Mesos\'s ACLs JSON (or a file holding it): e.g. \'{"permissive": false, "register_frameworks": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}]}\' (register_frameworks, run_tasks, teardown_frameworks, reserve_resources, unreserve_resources, update_quotas, update_weights, mark_agents_gone, drain_agents, deactivate_agents, reactivate_agents, ...; view_frameworks, view_tasks, view_executors, view_roles and get_quotas filter what the state endpoints and the operator API show; access_sandboxes is enforced by the agents, on /files/*: the master\'s own processes have no sandboxes)',
  },
  { name: 'authorizers', type: 'string', help: "the authorizer; only Mesos's default, 'local' (the --acls)", default: LOCAL_AUTHORIZER },
];

/** The agent's authorization flags: Mesos's agent `--acls` and `--authorizer`. */
export const AGENT_AUTHORIZATION_FLAGS: FlagSpec[] = [
  {
    name: 'acls',
    type: 'string',
    help: 'who may see what of this agent, as Mesos\'s ACLs JSON (or a file holding it): access_sandboxes (users) decides who may read which sandboxes through /files/*, e.g. \'{"access_sandboxes": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}, {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}]}\'; view_frameworks, view_executors and view_tasks filter /state and the operator API\'s GET_* calls',
  },
  { name: 'authorizer', type: 'string', help: "the authorizer; only Mesos's default, 'local' (the --acls)", default: LOCAL_AUTHORIZER },
];

/**
 * The `LocalAuthorizer` of `--acls`, or `undefined` without; a `FlagError` names a bad value.
 * `authorizersFlag` is the master's `--authorizers`, or the agent's `--authorizer`.
 */
export function masterAuthorizer(values: Record<string, FlagValue>, authorizersFlag: 'authorizers' | 'authorizer' = 'authorizers'): LocalAuthorizer | undefined {
  const authorizers = values[authorizersFlag];
  if (authorizers !== undefined && authorizers !== LOCAL_AUTHORIZER) throw new FlagError(authorizersFlag, authorizers, `the only authorizer is '${LOCAL_AUTHORIZER}'`);
  const acls = values.acls as string | undefined;
  if (acls === undefined) return undefined;
  try {
    return readAcls(acls);
  } catch (error) {
    if (error instanceof InvalidAclsError) throw new FlagError('acls', undefined, error.message);
    throw error;
  }
}

/** The `LocalAuthorizer` of the agent's `--acls` (and `--authorizer`), or `undefined` without. */
export function agentAuthorizer(values: Record<string, FlagValue>): LocalAuthorizer | undefined {
  return masterAuthorizer(values, 'authorizer');
}

/** The agent's authentication flags. */
export const AGENT_AUTHENTICATION_FLAGS: FlagSpec[] = [
  ...AUTHENTICATE_FLAGS,
  { name: 'http_credentials', type: 'string', help: "a file of the principals and secrets HTTP clients may authenticate as, in --credentials's forms" },
  authenticatorsFlag('http_authenticators', 'the agent endpoints'),
];

/**
 * The authentication the flags ask for, or `undefined` when they ask for none; a `FlagError`
 * names the flag when they cannot be met (an authenticator other than `basic`, no credentials
 * file, a file that cannot be read or parsed).
 */
export function httpAuthentication(values: Record<string, FlagValue>, credentialsFlag: 'credentials' | 'http_credentials'): HttpAuthentication | undefined {
  for (const name of ['http_authenticators', 'http_framework_authenticators']) {
    const value = values[name];
    if (value !== undefined && value !== BASIC_AUTHENTICATOR) throw new FlagError(name, value, `the only HTTP authenticator is '${BASIC_AUTHENTICATOR}'`);
  }
  const readonly = values.authenticate_http_readonly === true;
  const readwrite = values.authenticate_http_readwrite === true;
  const frameworks = values.authenticate_http_frameworks === true;
  const path = values[credentialsFlag] as string | undefined;
  if (!readonly && !readwrite && !frameworks) {
    // Mesos reads the file anyway: a bad one is an error even while nothing asks for it.
    if (path !== undefined) credentialsFrom(credentialsFlag, path);
    return undefined;
  }
  if (path === undefined) {
    const flag = readonly ? 'authenticate_http_readonly' : readwrite ? 'authenticate_http_readwrite' : 'authenticate_http_frameworks';
    throw new FlagError(flag, undefined, `no credentials provided for the default '${BASIC_AUTHENTICATOR}' HTTP authenticator: give --${credentialsFlag}`);
  }
  return { readonly, readwrite, frameworks, credentials: credentialsFrom(credentialsFlag, path) };
}

function credentialsFrom(flag: string, path: string): Credential[] {
  try {
    return readCredentials(path);
  } catch (error) {
    if (error instanceof CredentialsError) throw new FlagError(flag, path, error.message);
    throw error;
  }
}

/** Installs the master's authenticators on its runtime (the runtime's own `/metrics` included). */
export function authenticateMaster(runtime: Runtime, auth: HttpAuthentication): void {
  install(runtime, MASTER_READONLY_REALM, auth.readonly, auth.credentials);
  install(runtime, MASTER_READWRITE_REALM, auth.readwrite, auth.credentials);
  install(runtime, MASTER_SCHEDULER_REALM, auth.frameworks, auth.credentials);
  runtime.readonlyRealm = MASTER_READONLY_REALM;
}

/**
 * Installs the agent's authenticators on its runtime. In a runtime that also runs the master
 * (`mesos-ts dev`), `/metrics` stays in the master's read-only realm.
 */
export function authenticateAgent(runtime: Runtime, auth: HttpAuthentication): void {
  install(runtime, AGENT_READONLY_REALM, auth.readonly, auth.credentials);
  install(runtime, AGENT_READWRITE_REALM, auth.readwrite, auth.credentials);
  runtime.readonlyRealm ??= AGENT_READONLY_REALM;
}

function install(runtime: Runtime, realm: string, on: boolean, credentials: readonly Credential[]): void {
  runtime.setAuthenticator(realm, on ? new BasicAuthenticator(realm, credentials) : undefined);
}
