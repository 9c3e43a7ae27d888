import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { agentCommand, agentOptions } from '../../actors/cli/agent.ts';
import { devCommand } from '../../actors/cli/dev.ts';
import { masterCommand, masterNodeOptions } from '../../actors/cli/master.ts';
import { fetchOrSay } from '../../actors/cli/state.ts';
import { httpAuthentication, type HttpAuthentication } from '../../actors/cluster/authentication.ts';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { FlagError, parseFlags } from '../../src/cli/flags.ts';
import { basicAuthorization } from '../../src/http/authentication.ts';
import { http } from '../helpers/http.ts';
import { TestScheduler } from '../helpers/scheduler.ts';

/**
 * `--authenticate_http_readonly`, `--authenticate_http_readwrite` and
 * `--authenticate_http_frameworks` with `--credentials`, as Mesos's master and agent take them:
 * which endpoints ask for HTTP Basic credentials, and what a framework authenticated over the
 * scheduler API may do.
 */

const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
const ops = { principal: 'ops', secret: 's3cret' };
const ci = { principal: 'ci', secret: 'other' };
const as = (credential: { principal: string; secret: string }): { headers: Record<string, string> } => ({ headers: { Authorization: basicAuthorization(credential) } });

function credentialsFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mesos-ts-creds-')), 'credentials');
  writeFileSync(path, text);
  return path;
}

async function cluster(t: { teardown(fn: () => Promise<void>): void }, auth: Partial<HttpAuthentication>): Promise<{ cluster: EmbeddedCluster; port: number }> {
  const c = await startEmbeddedCluster({
    agents: 1,
    port: 0,
    resources: 'cpus:2;mem:1024',
    logger,
    httpAuthentication: { readonly: false, readwrite: false, frameworks: false, credentials: [ops, ci], ...auth },
  });
  t.teardown(() => c.stop());
  return { cluster: c, port: c.runtime.httpAddress!.port };
}

const v1 = (call: object, headers: Record<string, string> = {}) => ({ headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(call) });

test('flags - authentication without --credentials, an authenticator other than basic, or an unreadable file is a FlagError naming the flag', (t) => {
  const dev = (argv: string[]) => httpAuthentication(parseFlags(devCommand.flags, argv, {}), 'credentials');
  t.is(dev([]), undefined, 'off by default, as in Mesos');
  t.throws(() => dev(['--authenticate_http_readonly']), { instanceOf: FlagError, message: /--authenticate_http_readonly: no credentials provided for the default 'basic' HTTP authenticator: give --credentials/ });
  t.throws(() => dev(['--authenticate_http_frameworks']), { instanceOf: FlagError, message: /--authenticate_http_frameworks: no credentials/ });
  t.throws(() => dev(['--authenticate_http_readwrite', '--credentials', '/nonexistent/creds']), { instanceOf: FlagError, message: /invalid value '\/nonexistent\/creds' for --credentials: cannot read credentials file/ });
  t.throws(() => dev(['--credentials', credentialsFile('{"credentials": 1}')]), { instanceOf: FlagError, message: /--credentials: .*'credentials' must be an array/ }, 'a bad file is refused even while nothing asks for it');
  t.throws(() => dev(['--http_authenticators', 'jwt']), { instanceOf: FlagError, message: /invalid value 'jwt' for --http_authenticators: the only HTTP authenticator is 'basic'/ });
  const file = credentialsFile('ops s3cret\n');
  t.deepEqual(dev(['--authenticate_http_readwrite', '--credentials', file]), { readonly: false, readwrite: true, frameworks: false, credentials: [ops] });
  // The master and the agent read them into their node options; the agent's file is --http_credentials.
  const master = masterNodeOptions(parseFlags(masterCommand.flags, ['--authenticate_http_readonly', '--credentials', file], {}));
  t.deepEqual(master.httpAuthentication, { readonly: true, readwrite: false, frameworks: false, credentials: [ops] });
  const agent = agentOptions(parseFlags(agentCommand.flags, ['--work_dir', '/tmp/x', '--resources', 'cpus:1;mem:64;disk:64;ports:[1-2]', '--authenticate_http_readonly', '--http_credentials', file], {}));
  t.deepEqual(agent.httpAuthentication, { readonly: true, readwrite: false, frameworks: false, credentials: [ops] });
  t.throws(() => agentOptions(parseFlags(agentCommand.flags, ['--work_dir', '/tmp/x', '--authenticate_http_readwrite'], {})), { message: /give --http_credentials/ });
});

test.serial('master and agent endpoints - read-only and read-write realms ask for credentials; /health and the web UI stay open', async (t) => {
  const { port } = await cluster(t, { readonly: true, readwrite: true });
  for (const path of ['/master/state', '/master/slaves', '/master/roles', '/master/flags', '/metrics/snapshot', '/slave(1)/state', '/slave(1)/flags', '/agent/state', '/monitor/statistics', '/files/debug']) {
    const refused = await http(port, 'GET', path);
    t.is(refused.status, 401, path);
    t.regex(String(refused.headers['www-authenticate']), /^Basic realm="mesos-(master|agent)-readonly"$/, path);
    t.is((await http(port, 'GET', path, undefined, as(ops))).status, 200, path);
    t.is((await http(port, 'GET', path, undefined, as({ principal: 'ops', secret: 'guess' }))).status, 401, path);
  }
  for (const path of ['/health', '/', '/master/health']) t.is((await http(port, 'GET', path)).status, 200, path);

  // The v1 operator API and what changes the cluster are read-write.
  const call = v1({ type: 'GET_HEALTH' });
  const refused = await http(port, 'POST', '/api/v1', call.body, { headers: call.headers });
  t.is(refused.status, 401);
  t.is(refused.headers['www-authenticate'], 'Basic realm="mesos-master-readwrite"');
  const answered = await http(port, 'POST', '/api/v1', call.body, { headers: { ...call.headers, ...as(ops).headers } });
  t.is(answered.status, 200);
  t.deepEqual(answered.json(), { type: 'GET_HEALTH', get_health: { healthy: true } });
  t.is((await http(port, 'POST', '/master/teardown', 'frameworkId=x')).status, 401);
  t.is((await http(port, 'POST', '/master/teardown', 'frameworkId=x', as(ops))).status, 400, 'past authentication, the unknown framework');
  const agentCall = await http(port, 'POST', '/slave(1)/api/v1', call.body, { headers: call.headers });
  t.is(agentCall.status, 401);
  t.is(agentCall.headers['www-authenticate'], 'Basic realm="mesos-agent-readwrite"');
});

test.serial('realms - only the realms asked for are closed: with --authenticate_http_readwrite alone the state endpoints stay open', async (t) => {
  const { port } = await cluster(t, { readwrite: true });
  t.is((await http(port, 'GET', '/master/state')).status, 200);
  t.is((await http(port, 'GET', '/metrics/snapshot')).status, 200);
  t.is((await http(port, 'GET', '/slave(1)/state')).status, 200);
  const call = v1({ type: 'GET_HEALTH' });
  t.is((await http(port, 'POST', '/api/v1', call.body, { headers: call.headers })).status, 401);
  // The client commands say which credentials to give.
  const url = `http://127.0.0.1:${port}/master/state`;
  t.is((await fetchOrSay(url, 5_000)).status, 200);
});

test.serial('--authenticate_http_frameworks - a driver without credentials is refused; with them it subscribes as its principal; a FrameworkInfo naming another principal is refused', async (t) => {
  const { cluster: c, port } = await cluster(t, { readonly: true, frameworks: true });
  const url = `http://127.0.0.1:${port}`;

  const anonymous = new TestScheduler();
  const refused = new SchedulerDriver(anonymous, { user: 'test', name: 'anonymous' }, url, { logger });
  t.teardown(() => refused.abort());
  const error = anonymous.next('error');
  await refused.start();
  const [message] = await error;
  t.regex(message, /SUBSCRIBE refused with 401: Authentication required/);
  t.is(c.master.frameworks.size, 0);

  const impostor = new TestScheduler();
  const wrong = new SchedulerDriver(impostor, { user: 'test', name: 'impostor', principal: 'admin' }, url, { logger, credential: ops });
  t.teardown(() => wrong.abort());
  const mismatch = impostor.next('error');
  await wrong.start();
  t.regex((await mismatch)[0], /SUBSCRIBE refused with 400: .*Authenticated principal 'ops' does not match principal 'admin' set in `FrameworkInfo`/);

  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'authenticated' }, url, { logger, credential: ops });
  t.teardown(() => driver.abort());
  const registered = scheduler.next('registered');
  await driver.start();
  const [frameworkId] = await registered;
  t.is(c.master.frameworks.get(frameworkId.value)?.info.principal, 'ops', 'a framework that names no principal is the one it authenticated as');
  // Another principal cannot make calls for it, even with its stream id.
  const streamId = (c.master.frameworks.get(frameworkId.value)!.connection as unknown as { streamId: string }).streamId;
  const kill = v1({ type: 'KILL', framework_id: frameworkId, kill: { task_id: { value: 'x' } } }, { 'Mesos-Stream-Id': streamId, ...as(ci).headers });
  const foreign = await http(port, 'POST', '/api/v1/scheduler', kill.body, { headers: kill.headers });
  t.is(foreign.status, 400);
  t.is(foreign.body, "Authenticated principal 'ci' does not match principal 'ops' set in `FrameworkInfo`");
  // Its calls carry the credential too: a DECLINE of the first offer is accepted by the master.
  const [offers] = await scheduler.next('resourceOffers');
  driver.declineOffer(offers[0]!.id, { refuse_seconds: 3600 });
  await driver.stop();
  t.false(c.master.frameworks.has(frameworkId.value), 'TEARDOWN went through, authenticated');

  // The CLI's fetch says what is missing.
  await t.throwsAsync(fetchOrSay(`${url}/master/state`, 5_000), { message: /asks for credentials \(realm 'mesos-master-readonly'\): give --principal and --secret/ });
  await t.throwsAsync(fetchOrSay(`${url}/master/state`, 5_000, 'the master', { principal: 'ops', secret: 'no' }), { message: /the master asks for credentials .*Invalid credentials for principal 'ops'/ });
  t.is((await fetchOrSay(`${url}/master/state`, 5_000, 'the master', ops)).status, 200);
});
