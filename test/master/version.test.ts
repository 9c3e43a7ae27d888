import test from 'ava';
import { pino } from 'pino';
import { detectBuildInfo, formatBuildDate, VersionProcess } from '../../actors/master/version.ts';
import { MESOS_VERSION } from '../../actors/master/constants.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';
import { http } from '../helpers/http.ts';

/** `/version`, as Mesos's `VersionProcess` serves it beside the master. */
async function serve(t: { teardown(fn: () => unknown): void }, node: string, version: VersionProcess) {
  const runtime = await Runtime.start({ node, logger: pino({ level: 'silent' }), transport: new LocalTransport(new LocalBus()), http: { port: 0 } });
  t.teardown(() => runtime.shutdown());
  runtime.spawn(version);
  return runtime.httpAddress!.port;
}

const build = { build_date: '2026-01-02 03:04:05', build_time: 1767323045, build_user: 'builder', git_sha: 'a'.repeat(40) };

test('version - GET /version answers Mesos\'s fields, integers where Mesos has integers', async (t) => {
  const port = await serve(t, 'version-a', new VersionProcess(build));
  const reply = await http(port, 'GET', '/version');
  t.is(reply.status, 200);
  t.is(reply.headers['content-type'], 'application/json');
  t.deepEqual(reply.json(), { version: '1.11.0', ...build });
  t.is(MESOS_VERSION, '1.11.0');
  t.deepEqual((await http(port, 'GET', '/version/')).json(), reply.json());
  const jsonp = await http(port, 'GET', '/version?jsonp=cb');
  t.is(jsonp.headers['content-type'], 'text/javascript');
  t.is(jsonp.body, `cb(${JSON.stringify({ version: '1.11.0', git_sha: build.git_sha, build_date: build.build_date, build_time: build.build_time, build_user: build.build_user })});`);
});

test('version - the build facts of the source tree: commit time and sha, the user', async (t) => {
  const detected = detectBuildInfo();
  t.true(Number.isInteger(detected.build_time));
  t.true(detected.build_time > 0);
  t.is(detected.build_date, formatBuildDate(detected.build_time));
  t.regex(detected.build_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  t.is(typeof detected.build_user, 'string');
  if (detected.git_sha !== undefined) t.regex(detected.git_sha, /^[0-9a-f]{40}$/);
  t.is(formatBuildDate(1443894750), '2015-10-03 17:52:30');
  const port = await serve(t, 'version-b', new VersionProcess());
  const body = (await http(port, 'GET', '/version')).json();
  t.is(body.version, '1.11.0');
  t.true(Number.isInteger(body.build_time));
});
