import { readFileSync } from 'node:fs';
import { MesosError } from '../../src/errors.ts';

/**
 * Authorization by access control lists, as Mesos's `LocalAuthorizer` (`--acls`):
 *
 * 1. The ACLs are JSON, Mesos's `ACLs` message: `permissive` (default true) and, per action, a
 *    list of ACLs, each a set of subjects (`principals`) and a set of objects (`roles`, `users`,
 *    `framework_principals`, `agents`, ...). A set is `{"values": [...]}`, `{"type": "ANY"}` or
 *    `{"type": "NONE"}`.
 * 2. A request (a principal doing an action on an object) is decided by the first ACL of its
 *    action that *applies* to it: one whose subjects and objects both match. `ANY` and `NONE`
 *    match everything; `values` match a request whose value is one of them. The ACL allows the
 *    request unless its subjects or objects are `NONE` ("can not"). When none applies,
 *    `permissive` decides.
 * 3. A request without a principal (HTTP without authentication, a framework that names none)
 *    is matched only by `ANY` and `NONE` subjects, as Mesos matches its `ANY` subject.
 *
 * The actions checked (`AUTHORIZED_ACTIONS`). By the master (`actors/master/authorizer.ts`):
 * `register_frameworks` (each role a framework subscribes with), `run_tasks` (the user a task
 * or executor runs as), `teardown_frameworks` (the principal of the framework torn down),
 * `reserve_resources` (the role reserved to), `unreserve_resources` (the principal that made
 * the reservation), `create_volumes` (the role of the volume), `destroy_volumes` (the principal
 * that created it), `update_quotas` and `update_weights` (the role), `mark_agents_gone`,
 * `drain_agents`, `deactivate_agents`, `reactivate_agents` (any agent),
 * `update_maintenance_schedules`, `start_maintenances` and `stop_maintenances` (any machine: as
 * Mesos's local authorizer, their `machines` are `ANY` or `NONE`, and `values` never match). By
 * the agent (`actors/agent/authorization.ts`): `access_sandboxes` (the user whose sandbox
 * `/files/*` would read: the executor's command user, else its framework's); the master's own
 * processes have no sandboxes. By both, what an operator may see, which filters the state
 * endpoints and the operator API rather than refuse them (`view-approvers.ts`):
 * `view_frameworks`, `view_tasks` and `view_executors` (the user a framework, a task or an
 * executor runs as), and on the master `view_roles` and `get_quotas` (the role). ACLs of
 * Mesos's other actions are refused with an error naming them, rather than accepted and not
 * enforced.
 */

/** What an ACL entity holds: some values, anything, or nothing. */
export type AclEntity = { readonly kind: 'SOME'; readonly values: ReadonlySet<string> } | { readonly kind: 'ANY' } | { readonly kind: 'NONE' };

/** One ACL: who (`subjects`) may act on what (`objects`). */
export interface Acl {
  readonly subjects: AclEntity;
  readonly objects: AclEntity;
}

/** Each action the master or the agent authorizes, with the JSON name of its object field. */
export const AUTHORIZED_ACTIONS = {
  register_frameworks: 'roles',
  run_tasks: 'users',
  teardown_frameworks: 'framework_principals',
  reserve_resources: 'roles',
  unreserve_resources: 'reserver_principals',
  create_volumes: 'roles',
  destroy_volumes: 'creator_principals',
  update_quotas: 'roles',
  update_weights: 'roles',
  mark_agents_gone: 'agents',
  drain_agents: 'agents',
  deactivate_agents: 'agents',
  reactivate_agents: 'agents',
  update_maintenance_schedules: 'machines',
  start_maintenances: 'machines',
  stop_maintenances: 'machines',
  view_frameworks: 'users',
  view_tasks: 'users',
  view_executors: 'users',
  view_roles: 'roles',
  get_quotas: 'roles',
  access_sandboxes: 'users',
} as const;

export type AuthorizedAction = keyof typeof AUTHORIZED_ACTIONS;

/** `--acls` is not valid JSON, or not Mesos's `ACLs`. */
export class InvalidAclsError extends MesosError {}

/** The decisions of a set of ACLs (Mesos's `LocalAuthorizer`). */
export class LocalAuthorizer {
  constructor(
    readonly permissive: boolean,
    private readonly acls: ReadonlyMap<AuthorizedAction, readonly Acl[]>,
  ) {}

  /**
   * Whether `principal` (undefined: none) may do `action` on `object` (a role, a user, a
   * principal; undefined for actions on any agent).
   */
  authorized(action: AuthorizedAction, principal: string | undefined, object?: string): boolean {
    for (const acl of this.acls.get(action) ?? []) {
      if (!matches(principal, acl.subjects) || !matches(object, acl.objects)) continue;
      return acl.subjects.kind !== 'NONE' && acl.objects.kind !== 'NONE';
    }
    return this.permissive;
  }
}

function matches(value: string | undefined, entity: AclEntity): boolean {
  if (entity.kind !== 'SOME') return true;
  return value !== undefined && entity.values.has(value);
}

/**
 * Reads `--acls`: the JSON itself, or a path to a file holding it (`file://` allowed), as
 * Mesos's flag takes either. Errors name the field and the value.
 */
export function readAcls(flag: string): LocalAuthorizer {
  const trimmed = flag.trim();
  if (trimmed.startsWith('{')) return parseAcls(trimmed, '--acls');
  const path = trimmed.startsWith('file://') ? trimmed.slice('file://'.length) : trimmed;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidAclsError(`cannot read ACLs file '${path}': ${(error as Error).message}`);
  }
  return parseAcls(text, `ACLs file '${path}'`);
}

/** Every action Mesos's `ACLs` names; those not in `AUTHORIZED_ACTIONS` are refused by name. */
const MESOS_ACTIONS = new Set([
  ...Object.keys(AUTHORIZED_ACTIONS),
  'get_endpoints', 'resize_volumes', 'access_mesos_logs',
  'register_agents', 'get_maintenance_schedules', 'get_maintenance_statuses', 'launch_nested_containers', 'view_containers',
  'set_log_level', 'launch_standalone_containers', 'view_resource_providers', 'prune_images',
]);

/** Parses Mesos's `ACLs` JSON (`where` names it in errors). */
export function parseAcls(text: string, where: string): LocalAuthorizer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidAclsError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InvalidAclsError(`${where} must be a JSON object of ACLs, got ${JSON.stringify(json)}`);
  let permissive = true;
  const acls = new Map<AuthorizedAction, Acl[]>();
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === 'permissive') {
      if (typeof value !== 'boolean') throw new InvalidAclsError(`${where}: 'permissive' must be true or false, got ${JSON.stringify(value)}`);
      permissive = value;
      continue;
    }
    if (!MESOS_ACTIONS.has(key)) throw new InvalidAclsError(`${where}: unknown action '${key}'`);
    if (!(key in AUTHORIZED_ACTIONS)) throw new InvalidAclsError(`${where}: '${key}' ACLs are not enforced by this master (it checks ${Object.keys(AUTHORIZED_ACTIONS).join(', ')})`);
    const action = key as AuthorizedAction;
    const objectField = AUTHORIZED_ACTIONS[action];
    if (!Array.isArray(value)) throw new InvalidAclsError(`${where}: '${key}' must be an array of ACLs, got ${JSON.stringify(value)}`);
    acls.set(
      action,
      value.map((acl: unknown, i) => {
        const at = `${key}[${i}]`;
        if (acl === null || typeof acl !== 'object' || Array.isArray(acl)) throw new InvalidAclsError(`${where}: '${at}' must be an object, got ${JSON.stringify(acl)}`);
        const fields = acl as Record<string, unknown>;
        for (const field of Object.keys(fields)) {
          if (field !== 'principals' && field !== objectField) throw new InvalidAclsError(`${where}: '${at}.${field}' is not a field of '${key}' ACLs (they have 'principals' and '${objectField}')`);
        }
        return { subjects: entity(fields.principals, `${at}.principals`, where), objects: entity(fields[objectField], `${at}.${objectField}`, where) };
      }),
    );
  }
  return new LocalAuthorizer(permissive, acls);
}

function entity(value: unknown, at: string, where: string): AclEntity {
  // As Mesos's protobuf default: an entity left out is ANY.
  if (value === undefined) return { kind: 'ANY' };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidAclsError(`${where}: '${at}' must be {"values": [...]} or {"type": "ANY" | "NONE"}, got ${JSON.stringify(value)}`);
  const e = value as { type?: unknown; values?: unknown };
  if (e.values !== undefined) {
    if (!Array.isArray(e.values) || e.values.some((v) => typeof v !== 'string')) throw new InvalidAclsError(`${where}: '${at}.values' must be an array of strings, got ${JSON.stringify(e.values)}`);
    if (e.type !== undefined && e.type !== 'SOME') throw new InvalidAclsError(`${where}: '${at}' has both 'values' and type '${String(e.type)}'`);
    return { kind: 'SOME', values: new Set(e.values as string[]) };
  }
  if (e.type === 'ANY' || e.type === 'NONE') return { kind: e.type };
  throw new InvalidAclsError(`${where}: '${at}.type' must be 'ANY' or 'NONE' (or give 'values'), got ${JSON.stringify(e.type)}`);
}
