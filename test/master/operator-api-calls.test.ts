import anyTest, { type TestFn } from 'ava';
import { Resources } from '../../src/mesos/resources.ts';
import type { Offer, TaskInfo } from '../../src/mesos/v1/common.ts';
import { MESOS_VERSION } from '../../actors/master/constants.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import type { FakeAgent } from '../helpers/fake-agent.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';
import { operatorCall as call } from '../helpers/operator.ts';

/**
 * The v1 operator API, `POST /api/v1` (Mesos's `Master::Http::api`), read-only calls: a real
 * HTTP server on 127.0.0.1 in front of a master with a `FakeAgent`, a driver framework in role
 * `web` and two tasks (a command task RUNNING, one with its own executor STAGING), on the
 * paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

interface Ctx {
  cluster: TestCluster;
  agent: FakeAgent;
  port: number;
  frameworkId: string;
  agentId: string;
}

function task(offer: Offer, id: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.5;mem:128').toJSON(), command: { value: 'sleep 1000' }, ...extra };
}

async function start(t: { teardown(fn: () => unknown): void; context: { bus: Bus } }): Promise<Ctx> {
  const cluster = await startTestCluster(t, t.context.bus, {
    http: { port: 0 },
    master: { flags: { cluster: 'ops', weights: 'web=2.5' }, weights: { web: 2.5 } },
  });
  const agent = await cluster.addAgent('cpus:2;mem:1024;ports:[31000-31010]');
  cluster.clock.advance(1_000);
  const { driver, scheduler, frameworkId } = await cluster.startFramework({ name: 'ops-framework', role: 'web' });
  const [offers] = await scheduler.next('resourceOffers');
  const offer = offers[0]!;
  const executor = {
    executor_id: { value: 'e1' },
    command: { value: 'my-executor' },
    resources: Resources.parse('cpus:0.1;mem:32').toJSON(),
  };
  driver.launchTasks(offer.id, [task(offer, 't1'), task(offer, 't2', { command: undefined, executor })]);
  await cluster.settle();
  const run = agent.runTasks.find((r) => r.task.task_id.value === 't1')!;
  agent.update(run, 'TASK_RUNNING');
  await scheduler.next('statusUpdate');
  await cluster.settle();
  return { cluster, agent, port: cluster.runtime.httpAddress!.port, frameworkId, agentId: agent.agentId! };
}


async function answer(t: { is(a: unknown, b: unknown, m?: string): void }, ctx: Ctx, type: string): Promise<any> {
  const reply = await call(ctx, { type });
  t.is(reply.status, 200, `${type}: ${reply.body}`);
  t.is(reply.headers['content-type'], 'application/json', type);
  const json = reply.json();
  t.is(json.type, type);
  return json;
}

const scalar = (resources: any[], name: string) => resources.filter((r) => r.name === name).reduce((sum, r) => sum + r.scalar.value, 0);

test.serial('operator API - GET_TASKS lists the RUNNING and the STAGING task as v1 Tasks', async (t) => {
  const ctx = await start(t);
  const { get_tasks } = await answer(t, ctx, 'GET_TASKS');
  t.deepEqual(get_tasks.pending_tasks, []);
  t.deepEqual(get_tasks.completed_tasks, []);
  t.deepEqual(get_tasks.unreachable_tasks, []);
  const byId = new Map(get_tasks.tasks.map((x: any) => [x.task_id.value, x]));
  const t1: any = byId.get('t1');
  t.like(t1, { name: 't1', framework_id: { value: ctx.frameworkId }, agent_id: { value: ctx.agentId }, state: 'TASK_RUNNING' });
  t.is(t1.statuses.length, 1);
  t.is(t1.statuses[0].state, 'TASK_RUNNING');
  t.is(scalar(t1.resources, 'cpus'), 0.5);
  t.is(scalar(t1.resources, 'mem'), 128);
  const t2: any = byId.get('t2');
  t.like(t2, { state: 'TASK_STAGING', executor_id: { value: 'e1' } });
});

test.serial('operator API - GET_AGENTS gives the agent_info, total, allocated and offered resources, registered_time', async (t) => {
  const ctx = await start(t);
  const { get_agents } = await answer(t, ctx, 'GET_AGENTS');
  t.is(get_agents.agents.length, 1);
  t.deepEqual(get_agents.recovered_agents, []);
  const agent = get_agents.agents[0];
  t.like(agent, { agent_info: { id: { value: ctx.agentId }, hostname: 'host1' }, active: true, version: 'test', pid: String(ctx.agent.self) });
  t.is(scalar(agent.total_resources, 'cpus'), 2);
  t.is(scalar(agent.total_resources, 'mem'), 1024);
  t.deepEqual(agent.total_resources.find((r: any) => r.name === 'ports').ranges, { range: [{ begin: 31000, end: 31010 }] });
  // t1 and t2 (0.5 cpus each) and e1 (0.1): 1.1 cpus in use.
  t.is(Math.round(scalar(agent.allocated_resources, 'cpus') * 1000), 1100);
  t.is(scalar(agent.allocated_resources, 'mem'), 128 + 128 + 32);
  t.true(Array.isArray(agent.offered_resources));
  t.deepEqual(agent.registered_time, { nanoseconds: ctx.cluster.master.agents.get(ctx.agentId)!.registeredTime * 1e6 });
});

test.serial('operator API - GET_FRAMEWORKS gives framework_info, active, connected, registered_time in nanoseconds', async (t) => {
  const ctx = await start(t);
  const { get_frameworks } = await answer(t, ctx, 'GET_FRAMEWORKS');
  t.is(get_frameworks.frameworks.length, 1);
  t.deepEqual(get_frameworks.completed_frameworks, []);
  const f = get_frameworks.frameworks[0];
  t.like(f, { framework_info: { id: { value: ctx.frameworkId }, name: 'ops-framework', role: 'web', user: 'test' }, active: true, connected: true, recovered: false });
  const record = ctx.cluster.master.frameworks.get(ctx.frameworkId)!;
  t.deepEqual(f.registered_time, { nanoseconds: record.registeredTime * 1e6 });
  t.is(Math.round(f.registered_time.nanoseconds / 1e6) - ctx.cluster.master.agents.get(ctx.agentId)!.registeredTime, 1_000, 'subscribed a second after the agent registered');
  t.is(Math.round(scalar(f.allocated_resources, 'cpus') * 1000), 1100);
  t.deepEqual(f.inverse_offers, []);
  for (const offer of f.offers) t.is(offer.framework_id.value, ctx.frameworkId);
});

test.serial('operator API - GET_EXECUTORS lists the custom executor with its agent', async (t) => {
  const ctx = await start(t);
  const { get_executors } = await answer(t, ctx, 'GET_EXECUTORS');
  t.is(get_executors.executors.length, 1);
  const [e] = get_executors.executors;
  t.like(e, { executor_info: { executor_id: { value: 'e1' }, framework_id: { value: ctx.frameworkId }, command: { value: 'my-executor' } }, agent_id: { value: ctx.agentId } });
});

test.serial('operator API - GET_STATE holds the four GET_* parts', async (t) => {
  const ctx = await start(t);
  const { get_state } = await answer(t, ctx, 'GET_STATE');
  t.deepEqual(Object.keys(get_state).sort(), ['get_agents', 'get_executors', 'get_frameworks', 'get_tasks']);
  for (const part of ['GET_TASKS', 'GET_EXECUTORS', 'GET_FRAMEWORKS', 'GET_AGENTS']) {
    const alone = await answer(t, ctx, part);
    const field = part.toLowerCase();
    t.deepEqual(get_state[field], alone[field], part);
  }
  t.true(get_state.get_tasks.tasks.some((x: any) => x.task_id.value === 't1' && x.state === 'TASK_RUNNING'));
  t.is(get_state.get_agents.agents[0].agent_info.id.value, ctx.agentId);
  t.is(get_state.get_frameworks.frameworks[0].framework_info.name, 'ops-framework');
});

test.serial('operator API - GET_ROLES gives the role, its --weights weight, frameworks and allocation', async (t) => {
  const ctx = await start(t);
  const { get_roles } = await answer(t, ctx, 'GET_ROLES');
  t.deepEqual(get_roles.roles.map((r: any) => r.name), ['web']);
  const [web] = get_roles.roles;
  t.is(web.weight, 2.5);
  t.deepEqual(web.frameworks, [{ value: ctx.frameworkId }]);
  t.is(scalar(web.resources, 'mem'), 128 + 128 + 32);
});

test.serial('/master/roles - the same roles in the v0 model, as Mesos: name, weight, framework ids, allocated resources, quota', async (t) => {
  const ctx = await start(t);
  const reply = await http(ctx.port, 'GET', '/master/roles');
  t.is(reply.status, 200);
  t.deepEqual(reply.json(), {
    roles: [{ name: 'web', weight: 2.5, frameworks: [ctx.frameworkId], resources: { cpus: 1.1, mem: 288, disk: 0, gpus: 0 }, quota: { role: 'web', guarantee: {}, limit: {} } }],
  });
  t.deepEqual((await http(ctx.port, 'GET', '/master/roles.json')).json(), reply.json());
});

test.serial('operator API - GET_HEALTH, GET_FLAGS, GET_VERSION, GET_LOGGING_LEVEL, GET_MASTER', async (t) => {
  const ctx = await start(t);
  t.deepEqual((await answer(t, ctx, 'GET_HEALTH')).get_health, { healthy: true });
  t.deepEqual((await answer(t, ctx, 'GET_FLAGS')).get_flags, { flags: [{ name: 'cluster', value: 'ops' }, { name: 'weights', value: 'web=2.5' }] });
  // The same flags at Mesos's `/master/flags`, as an object.
  t.deepEqual((await http(ctx.port, 'GET', '/master/flags')).json(), { flags: { cluster: 'ops', weights: 'web=2.5' } });
  t.is((await answer(t, ctx, 'GET_VERSION')).get_version.version_info.version, MESOS_VERSION);
  t.is((await answer(t, ctx, 'GET_LOGGING_LEVEL')).get_logging_level.level, 0, 'the tests log at error');
  const { get_master } = await answer(t, ctx, 'GET_MASTER');
  const m = ctx.cluster.master;
  t.like(get_master.master_info, { id: m.masterInfo.id, pid: String(m.self), port: ctx.port, version: MESOS_VERSION });
  t.is(get_master.start_time, m.startTime / 1000);
  t.is(get_master.elected_time, m.electedTime / 1000);
});

test.serial('operator API - GET_METRICS is the metrics snapshot as {name, value}, with or without a timeout', async (t) => {
  const ctx = await start(t);
  const { get_metrics } = await answer(t, ctx, 'GET_METRICS');
  const metrics = new Map(get_metrics.metrics.map((x: any) => [x.name, x.value]));
  t.is(metrics.get('master/tasks_running'), 1);
  t.is(metrics.get('master/tasks_staging'), 1);
  t.is(metrics.get('master/slaves_active'), 1);
  t.is(metrics.get('master/frameworks_active'), 1);
  t.is(metrics.get('master/elected'), 1);

  const timed = await call(ctx, { type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: 5e9 } } });
  t.is(timed.status, 200, timed.body);
  t.is(timed.json().get_metrics.metrics.length, get_metrics.metrics.length);
  const bad = await call(ctx, { type: 'GET_METRICS', get_metrics: { timeout: { nanoseconds: 'soon' } } });
  t.is(bad.status, 400);
  t.regex(bad.body, /get_metrics\.timeout\.nanoseconds/);
});

test.serial('operator API - served at /api/v1 (the master is the delegate) and at /master/api/v1', async (t) => {
  const ctx = await start(t);
  const reply = await http(ctx.port, 'POST', '/master/api/v1', { type: 'GET_HEALTH' });
  t.deepEqual([reply.status, reply.json()], [200, { type: 'GET_HEALTH', get_health: { healthy: true } }]);
});
