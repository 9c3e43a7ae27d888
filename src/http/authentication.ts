import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { MesosError } from '../errors.ts';
import type { HttpRequest, HttpResponse } from './types.ts';

/**
 * HTTP authentication, as libprocess's `process::http::authentication`:
 * 1. A route may name an authentication **realm** (`Process.route(path, handler, realm)`); the
 *    runtime holds at most one `Authenticator` per realm (`Runtime.setAuthenticator`), as
 *    libprocess's `setAuthenticator(realm, authenticator)`. A realm without one is open: its
 *    routes answer everybody, with no principal.
 * 2. The one authenticator here is Mesos's default, `basic`: HTTP Basic credentials checked
 *    against the `--credentials` file. A request without them, or with others, gets `401
 *    Unauthorized` and `WWW-Authenticate: Basic realm="<realm>"`, so that a browser asks.
 * 3. A request that passes carries its `principal` to the handler (`HttpRequest.principal`).
 *
 * The realms are Mesos's: `mesos-master-readonly` (state endpoints), `mesos-master-readwrite`
 * (what changes the cluster, and the v1 operator API), `mesos-master-scheduler` (the v1
 * scheduler API), `mesos-agent-readonly` and `mesos-agent-readwrite`.
 */

export const MASTER_READONLY_REALM = 'mesos-master-readonly';
export const MASTER_READWRITE_REALM = 'mesos-master-readwrite';
export const MASTER_SCHEDULER_REALM = 'mesos-master-scheduler';
export const AGENT_READONLY_REALM = 'mesos-agent-readonly';
export const AGENT_READWRITE_REALM = 'mesos-agent-readwrite';

/** Mesos's name for its default HTTP authenticator (`--http_authenticators`). */
export const BASIC_AUTHENTICATOR = 'basic';

/** A principal and its secret, as Mesos's `Credential`. */
export interface Credential {
  readonly principal: string;
  readonly secret: string;
}

/** The outcome of authenticating a request: its principal, or the response that refuses it. */
export type AuthenticationResult = { readonly principal: string } | { readonly response: HttpResponse };

export interface Authenticator {
  authenticate(request: Pick<HttpRequest, 'headers'>): AuthenticationResult;
}

/** A `--credentials` file cannot be read or is not what Mesos accepts. */
export class CredentialsError extends MesosError {}

/**
 * HTTP Basic against a fixed set of credentials (Mesos's `BasicAuthenticator`). Secrets are
 * compared in constant time.
 */
export class BasicAuthenticator implements Authenticator {
  readonly #secrets = new Map<string, Buffer>();

  constructor(
    readonly realm: string,
    credentials: readonly Credential[],
  ) {
    for (const c of credentials) this.#secrets.set(c.principal, Buffer.from(c.secret, 'utf8'));
  }

  authenticate(request: Pick<HttpRequest, 'headers'>): AuthenticationResult {
    const header = request.headers?.authorization;
    if (typeof header !== 'string' || header.trim() === '') return { response: this.#unauthorized('Authentication required') };
    const [scheme, encoded] = header.trim().split(/\s+/, 2);
    if (scheme?.toLowerCase() !== 'basic' || encoded === undefined) return { response: this.#unauthorized(`Expecting 'Basic' credentials in the 'Authorization' header, got scheme '${scheme ?? ''}'`) };
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { response: this.#unauthorized("Malformed 'Basic' credentials: expecting 'principal:secret' in base64") };
    const principal = decoded.slice(0, colon);
    const given = Buffer.from(decoded.slice(colon + 1), 'utf8');
    const secret = this.#secrets.get(principal);
    // Compare against something of the same length even for an unknown principal, so that the
    // time taken does not tell which principals exist.
    const expected = secret ?? Buffer.alloc(given.length);
    const same = expected.length === given.length && timingSafeEqual(expected, given);
    if (secret === undefined || !same) return { response: this.#unauthorized('Invalid credentials') };
    return { principal };
  }

  #unauthorized(reason: string): HttpResponse {
    return { status: 401, headers: { 'WWW-Authenticate': `Basic realm="${this.realm}"` }, body: reason };
  }
}

/**
 * Reads a `--credentials` file in either of Mesos's forms: JSON
 * `{"credentials": [{"principal": "ops", "secret": "s3cret"}]}`, or text with one
 * `principal secret` pair per line. `path` may be written `file:///path`, as Mesos allows.
 */
export function readCredentials(path: string): Credential[] {
  const file = path.startsWith('file://') ? path.slice('file://'.length) : path;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CredentialsError(`cannot read credentials file '${file}': ${(error as Error).message}`);
  }
  return parseCredentials(text, file);
}

/** Parses the text of a credentials file (`where` names it in errors). */
export function parseCredentials(text: string, where: string): Credential[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      throw new CredentialsError(`credentials file '${where}' is not valid JSON: ${(error as Error).message}`);
    }
    const list = (json as { credentials?: unknown }).credentials;
    if (!Array.isArray(list)) throw new CredentialsError(`credentials file '${where}': 'credentials' must be an array of {"principal", "secret"}`);
    return list.map((entry: unknown, i) => {
      const e = entry as { principal?: unknown; secret?: unknown } | null;
      if (e === null || typeof e !== 'object') throw new CredentialsError(`credentials file '${where}': 'credentials[${i}]' must be an object, got ${JSON.stringify(entry)}`);
      if (typeof e.principal !== 'string' || e.principal === '') throw new CredentialsError(`credentials file '${where}': 'credentials[${i}].principal' must be a non-empty string, got ${JSON.stringify(e.principal)}`);
      if (typeof e.secret !== 'string') throw new CredentialsError(`credentials file '${where}': 'credentials[${i}].secret' must be a string, got ${JSON.stringify(e.secret)}`);
      return { principal: e.principal, secret: e.secret };
    });
  }
  const out: Credential[] = [];
  trimmed.split('\n').forEach((line, i) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') return;
    if (fields.length !== 2) throw new CredentialsError(`credentials file '${where}', line ${i + 1}: expecting 'principal secret', got '${line.trim()}'`);
    out.push({ principal: fields[0]!, secret: fields[1]! });
  });
  return out;
}

/** The `Authorization` header value for `credential` (what clients send). */
export function basicAuthorization(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.principal}:${credential.secret}`, 'utf8').toString('base64')}`;
}
