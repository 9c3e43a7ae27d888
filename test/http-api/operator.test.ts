import test from 'ava';
import { parseStat, readUsage } from '../../actors/agent/monitor.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { accept, acknowledge, schedulerCall, startCluster, subscribeFramework } from './support.ts';

/**
 * Operator endpoints of the embedded cluster in Mesos's shapes, beside the v1 APIs: the
 * master's, the top-level ones (`/version`, `/health`, `/metrics/snapshot`), and the agents'
 * (`/agent/state`, `/monitor/statistics`).
 */
resetFiltersAfterEach(test);

test.serial('operator endpoints - /monitor/statistics: per executor, Mesos shape, limits and usage read from /proc', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  t.deepEqual((await http(port, 'GET', '/monitor/statistics')).json(), [], 'nothing runs yet');

  const { stream, frameworkId } = await subscribeFramework(port);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  // Two processes in the container (the shell and its `sleep`), some CPU time first.
  const command = 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 600 & wait';
  t.is((await schedulerCall(port, stream, accept(frameworkId, offer, [{ id: 'busy', command, cpus: 1.5, mem: 100 }]))).status, 202);
  for (;;) {
    const status = (await stream.next('UPDATE', 20_000)).update.status;
    await schedulerCall(port, stream, acknowledge(frameworkId, status));
    if (status.state === 'TASK_RUNNING') break;
  }

  const reply = await http(port, 'GET', '/monitor/statistics');
  t.is(reply.status, 200);
  t.is(reply.headers['content-type'], 'application/json');
  const entries = reply.json();
  t.is(entries.length, 1);
  const [entry] = entries;
  t.like(entry, { executor_id: 'busy', framework_id: frameworkId, source: 'busy' });
  t.regex(entry.executor_name, /^Command Executor \(Task: busy\)/);
  const s = entry.statistics;
  t.is(s.cpus_limit, 1.5);
  t.is(s.mem_limit_bytes, 100 * 1024 * 1024);
  t.true(typeof s.timestamp === 'number' && s.timestamp > 1.6e9, 'seconds since the epoch');
  if (process.platform === 'linux') {
    t.true(s.mem_rss_bytes > 0, 'resident memory of the container');
    t.true(s.processes >= 1 && s.threads >= s.processes);
    t.true(s.cpus_user_time_secs >= 0 && s.cpus_system_time_secs >= 0);
  }
  t.deepEqual(Object.keys((await http(port, 'GET', '/monitor/statistics.json')).json()[0]), Object.keys(entry));
  t.is((await http(port, 'POST', '/monitor/statistics', {})).status, 405);

  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' })).status, 202);
  await stream.ended;
});

test.serial('operator endpoints - the master, /version, /health, /metrics/snapshot, /master/redirect and /agent/state', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  const agent = cluster.agents[0]!;

  const alias = await http(port, 'GET', '/agent/state');
  t.is(alias.status, 200);
  const own = (await http(port, 'GET', `/${agent.id}/state`)).json();
  t.is(alias.json().id, own.id);
  t.is(alias.json().pid, String(agent.self));
  t.is((await http(port, 'GET', '/agent/state.json')).json().id, own.id);

  const summary = (await http(port, 'GET', '/master/state-summary')).json();
  t.is(summary.hostname, '127.0.0.1');
  t.is(summary.slaves.length, 1);
  t.like(summary.slaves[0], { id: agent.agentId, TASK_RUNNING: 0 });
  t.deepEqual(summary.frameworks, []);

  const redirect = await http(port, 'GET', '/master/redirect');
  t.is(redirect.status, 307);
  t.is(redirect.headers.location, `//127.0.0.1:${port}`);
  t.is((await http(port, 'GET', '/redirect')).status, 307, 'through the master, the delegate');

  const version = (await http(port, 'GET', '/version')).json();
  t.is(version.version, '1.11.0');
  t.true(Number.isInteger(version.build_time), 'plain integers');
  t.is((await http(port, 'GET', '/health')).status, 200);

  const metrics = (await http(port, 'GET', '/metrics/snapshot')).json();
  t.is(metrics['master/elected'], 1);
  t.is(metrics[`${agent.id}/registered`], 1);
  t.is(typeof metrics['runtime/processes'], 'number');
});

test.serial('operator endpoints - with several agents in one runtime, /agent/state names theirs', async (t) => {
  const cluster = await startCluster(t, { agents: 2 });
  const reply = await http(cluster.port, 'GET', '/agent/state');
  t.is(reply.status, 404);
  t.is(reply.body, `2 agents run here: ask /${cluster.agents[0]!.id}/state, /${cluster.agents[1]!.id}/state`);
});

test('monitor - /proc/<pid>/stat fields, even with spaces and parentheses in the command name', (t) => {
  const line = '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194304 99 0 0 0 250 30 0 0 20 0 3 0 500790 3133440 412 18446744073709551615';
  t.deepEqual(parseStat(line), { session: 4242, utime: 250, stime: 30, threads: 3 });
  t.is(parseStat('garbage'), undefined);
});

test('monitor - usage of this test process\'s session, or none without procfs', async (t) => {
  if (process.platform !== 'linux') {
    t.pass('no procfs here');
    return;
  }
  const stat = parseStat(await import('node:fs/promises').then((fs) => fs.readFile('/proc/self/stat', 'utf8')))!;
  const usage = await readUsage('/proc', new Set([stat.session]));
  const mine = usage!.get(stat.session)!;
  t.true(mine.processes >= 1);
  t.true(mine.rssBytes > 10 * 1024 * 1024, 'a node process holds megabytes');
  t.is(await readUsage('/no/such/proc', new Set([1])), undefined);
});
