import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicAuthenticator, basicAuthorization, CredentialsError, parseCredentials, readCredentials } from '../../src/http/authentication.ts';
import { Process } from '../../src/process/process.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { http } from '../helpers/http.ts';

/** HTTP Basic authentication of routes by realm (libprocess's `http::authentication`). */

const ops = { principal: 'ops', secret: 's3cret' };

test('credentials - both of Mesos forms: JSON {"credentials": [...]} and one "principal secret" per line', (t) => {
  t.deepEqual(parseCredentials('{"credentials":[{"principal":"ops","secret":"s3cret"},{"principal":"ci","secret":"x y"}]}', 'f'), [ops, { principal: 'ci', secret: 'x y' }]);
  t.deepEqual(parseCredentials('ops s3cret\n\n  ci   other\n', 'f'), [ops, { principal: 'ci', secret: 'other' }]);
});

test('credentials - a file that is not what Mesos accepts is an error naming the file and the entry', (t) => {
  t.throws(() => parseCredentials('{"credentials":[{"principal":"ops"}]}', '/etc/creds'), { instanceOf: CredentialsError, message: /'\/etc\/creds'.*'credentials\[0\]\.secret' must be a string, got undefined/ });
  t.throws(() => parseCredentials('{"credentials": 3}', 'f'), { message: /'credentials' must be an array/ });
  t.throws(() => parseCredentials('{"credentials": [', 'f'), { message: /is not valid JSON/ });
  t.throws(() => parseCredentials('ops s3cret\nonly-a-principal\n', 'f'), { message: /line 2: expecting 'principal secret', got 'only-a-principal'/ });
  t.throws(() => readCredentials('/nonexistent/creds'), { instanceOf: CredentialsError, message: /cannot read credentials file '\/nonexistent\/creds'/ });
  const dir = mkdtempSync(join(tmpdir(), 'creds-'));
  writeFileSync(join(dir, 'c'), 'ops s3cret\n');
  t.deepEqual(readCredentials(`file://${join(dir, 'c')}`), [ops], "the file:// form, as Mesos's flags allow");
});

test('BasicAuthenticator - the right secret passes with its principal; no header, another scheme, a wrong secret or an unknown principal get 401 naming the realm', (t) => {
  const auth = new BasicAuthenticator('mesos-master-readonly', [ops]);
  const headers = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } });
  t.deepEqual(auth.authenticate(headers(basicAuthorization(ops))), { principal: 'ops' });
  for (const [authorization, reason] of [
    [undefined, /Authentication required/],
    ['Bearer abc', /Expecting 'Basic' credentials.*'Bearer'/],
    [basicAuthorization({ principal: 'ops', secret: 'wrong' }), /Invalid credentials/],
    [basicAuthorization({ principal: 'eve', secret: 's3cret' }), /Invalid credentials/],
    [`Basic ${Buffer.from('no-colon').toString('base64')}`, /Malformed 'Basic' credentials/],
  ] as const) {
    const result = auth.authenticate(headers(authorization));
    if (!('response' in result)) return t.fail(`${authorization} passed`);
    t.is(result.response.status, 401);
    t.is(result.response.headers?.['WWW-Authenticate'], 'Basic realm="mesos-master-readonly"');
    t.regex(String(result.response.body), reason);
  }
});

class Guarded extends Process {
  constructor() {
    super('guarded');
    this.route('/open', () => ({ status: 200, body: { open: true } }));
    this.route('/read', (request) => ({ status: 200, body: { principal: request.principal ?? null } }), 'test-readonly');
    this.route('/write', (request) => ({ status: 200, body: { principal: request.principal ?? null } }), 'test-readwrite');
  }
}

test('routes - a realm with an authenticator asks for credentials and hands the principal to the handler; a realm without one, and a route without a realm, stay open', async (t) => {
  const runtime = await Runtime.start({ http: { host: '127.0.0.1', port: 0 } });
  t.teardown(() => runtime.shutdown());
  runtime.spawn(new Guarded());
  const port = runtime.httpAddress!.port;
  const as = (credential: typeof ops): { headers: Record<string, string> } => ({ headers: { Authorization: basicAuthorization(credential) } });

  // Nothing installed: every route answers, with no principal.
  t.deepEqual((await http(port, 'GET', '/guarded/read')).json(), { principal: null });

  runtime.setAuthenticator('test-readonly', new BasicAuthenticator('test-readonly', [ops]));
  const refused = await http(port, 'GET', '/guarded/read');
  t.is(refused.status, 401);
  t.is(refused.headers['www-authenticate'], 'Basic realm="test-readonly"');
  t.deepEqual((await http(port, 'GET', '/guarded/read', undefined, as(ops))).json(), { principal: 'ops' });
  t.is((await http(port, 'GET', '/guarded/read', undefined, as({ principal: 'ops', secret: 'no' }))).status, 401);
  t.deepEqual((await http(port, 'GET', '/guarded/write')).json(), { principal: null }, 'another realm, without an authenticator, is open');
  t.is((await http(port, 'GET', '/guarded/open')).status, 200);
  // The runtime's own read-only routes follow its read-only realm once it is named.
  t.is((await http(port, 'GET', '/metrics/snapshot')).status, 200);
  runtime.readonlyRealm = 'test-readonly';
  t.is((await http(port, 'GET', '/metrics/snapshot')).status, 401);
  t.is((await http(port, 'GET', '/metrics/snapshot', undefined, as(ops))).status, 200);
  t.is((await http(port, 'GET', '/metrics', undefined, as(ops))).status, 200);

  runtime.setAuthenticator('test-readonly', undefined);
  t.is((await http(port, 'GET', '/guarded/read')).status, 200, 'removed: open again');
});
