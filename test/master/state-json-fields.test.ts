import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { VersionProcess } from '../../actors/master/version.ts';
import { attributesModel } from '../../src/mesos/model.ts';
import type { RunTask } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * The master's operator JSON field by field against Mesos's (`readonly_handler.cpp`,
 * `common/http.cpp`): what `/master/state`, `/master/slaves`, `/master/tasks` and
 * `/master/state-summary` show of frameworks, executors, tasks and agents.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const BUILD = { build_date: '2024-01-02 03:04:05', build_time: 1704164645, build_user: 'ci', git_sha: 'abc123' };

async function launched(t: ExecutionContext<{ bus: Bus }>) {
  const cluster = await startTestCluster(t, t.context.bus, { master: { flags: { cluster: 'test-cluster' } }, http: { port: 0 } });
  cluster.runtime.spawn(new VersionProcess(BUILD));
  const agent = await cluster.addAgent('cpus:4;mem:4096;cpus(web):1;ports:[31000-32000]');
  const { driver, scheduler, frameworkId } = await cluster.startFramework({ role: 'web', principal: 'ops', labels: { labels: [{ key: 'team', value: 'a' }] } });
  const [offers] = await scheduler.next('resourceOffers');
  const offer = offers[0]!;
  driver.launchTasks(offer.id, [
    {
      name: 't1',
      task_id: { value: 't1' },
      agent_id: offer.agent_id,
      resources: Resources.parse('cpus:1;mem:128').toJSON(),
      labels: { labels: [{ key: 'tier', value: 'front' }] },
      executor: {
        executor_id: { value: 'e1' },
        type: 'CUSTOM',
        command: { value: 'run-executor', arguments: ['run-executor', '--fast'], uris: [{ value: 'http://x/e.tgz' }] },
        resources: Resources.parse('cpus:0.5;mem:32').toJSON(),
        labels: { labels: [{ key: 'kind', value: 'e' }] },
      },
    },
  ]);
  await cluster.settle();
  const run = agent.runTasks.find((r: RunTask) => r.task.task_id.value === 't1')!;
  agent.update(run, 'TASK_RUNNING', { labels: { labels: [{ key: 'phase', value: 'up' }] }, container_status: { container_id: { value: 'c1' }, executor_pid: 42 } });
  await scheduler.next('statusUpdate');
  await cluster.settle();
  return { cluster, agent, frameworkId, port: cluster.runtime.httpAddress!.port };
}

test.serial('state json - /master/state: build facts, cluster, recovered_slaves; a framework its labels, principal and one role', async (t) => {
  const { port, frameworkId } = await launched(t);
  const state = (await http(port, 'GET', '/master/state')).json();
  t.like(state, BUILD);
  t.is(state.cluster, 'test-cluster');
  t.deepEqual(state.recovered_slaves, []);
  const framework = state.frameworks.find((f: { id: string }) => f.id === frameworkId);
  t.is(framework.role, 'web');
  t.false('roles' in framework, 'a single-role framework shows `role` only, as Mesos');
  t.is(framework.principal, 'ops');
  t.deepEqual(framework.labels, [{ key: 'team', value: 'a' }]);
});

test.serial('state json - a task: its role, its status labels and container status as Mesos models them', async (t) => {
  const { port } = await launched(t);
  const state = (await http(port, 'GET', '/master/state')).json();
  const task = state.frameworks[0].tasks[0];
  t.is(task.role, 'web');
  t.deepEqual(task.labels, [{ key: 'tier', value: 'front' }]);
  t.deepEqual(task.statuses[0].labels, [{ key: 'phase', value: 'up' }]);
  t.deepEqual(task.statuses[0].container_status, { container_id: { value: 'c1' } }, 'container_id, network_infos, cgroup_info only');
  t.is(typeof task.statuses[0].timestamp, 'number');
  const listed = (await http(port, 'GET', '/master/tasks')).json();
  t.is(listed.tasks[0].role, 'web');
});

test.serial("state json - an executor as Mesos's json(ExecutorInfo): command with argv and uris, role, labels, type", async (t) => {
  const { port, agent } = await launched(t);
  const state = (await http(port, 'GET', '/master/state')).json();
  const executor = state.frameworks[0].executors[0];
  t.like(executor, { executor_id: 'e1', role: 'web', type: 'CUSTOM', slave_id: agent.agentId, labels: [{ key: 'kind', value: 'e' }] });
  t.deepEqual(executor.command, { value: 'run-executor', argv: ['run-executor', '--fast'], uris: [{ value: 'http://x/e.tgz', executable: false }] });
  t.like(executor.resources, { cpus: 0.5, mem: 32 });
});

test.serial('state json - /master/slaves: the *_full resources; /master/state-summary counts every task state', async (t) => {
  const { port } = await launched(t);
  const slaves = (await http(port, 'GET', '/master/slaves')).json();
  const slave = slaves.slaves[0];
  t.deepEqual(slave.reserved_resources_full, { web: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'STATIC', role: 'web' }] }] });
  t.deepEqual(slave.unreserved_resources_full.map((r: { name: string }) => r.name).sort(), ['cpus', 'mem', 'ports']);
  const used = Resources.fromJSON(slave.used_resources_full);
  t.true(used.equals(Resources.parse('cpus:1.5;mem:160')), String(used));
  t.true(Array.isArray(slave.offered_resources_full));
  const summary = (await http(port, 'GET', '/master/state-summary')).json();
  t.like(summary.slaves[0], { TASK_RUNNING: 1, TASK_DROPPED: 0, TASK_GONE: 0, TASK_GONE_BY_OPERATOR: 0, TASK_UNKNOWN: 0 });
  t.like(summary.frameworks[0], { TASK_RUNNING: 1, TASK_DROPPED: 0, TASK_GONE: 0, TASK_GONE_BY_OPERATOR: 0, TASK_UNKNOWN: 0 });
});

test.serial('state json - a MULTI_ROLE framework shows `roles`, not `role`', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 } });
  const { frameworkId } = await cluster.startFramework({ roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  const state = (await http(cluster.runtime.httpAddress!.port, 'GET', '/master/frameworks')).json();
  const framework = state.frameworks.find((f: { id: string }) => f.id === frameworkId);
  t.deepEqual(framework.roles, ['a', 'b']);
  t.false('role' in framework);
});

test('state json - attributes: a SET as Mesos stringifies it, items joined by ", "', (t) => {
  t.deepEqual(attributesModel([{ name: 'zones', type: 'SET', set: { item: ['a', 'b'] } }, { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } }]), { zones: '{a, b}', ports: '[1-2]' });
});
