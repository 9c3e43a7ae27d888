import anyTest, { type TestFn } from 'ava';
import { authenticateMaster } from '../../actors/cluster/authentication.ts';
import { parseAcls, type LocalAuthorizer } from '../../actors/master/authorizer.ts';
import { basicAuthorization } from '../../src/http/authentication.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { ExecutorInfo, FrameworkInfo, Offer, TaskInfo } from '../../src/mesos/v1/common.ts';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { subscribe as openStream, type EventStream } from '../helpers/event-stream.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import type { TestScheduler } from '../helpers/scheduler.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';
import type { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';

/**
 * The `view_*` and `get_quotas` ACLs, as Mesos's read-only handlers and operator event stream
 * apply them: what an authenticated principal may see of the state endpoints, the v1 operator
 * API's GET_* calls and its SUBSCRIBE stream. A master with `FakeAgent`s on the paused Clock,
 * behind a real HTTP server on 127.0.0.1 asking HTTP Basic credentials; two frameworks, one of
 * user `alice` in role `prod`, one of user `bob` in role `dev`; principal `ops` may view
 * everything, `alice` what runs as `alice` and the role `prod`, `eve` nothing.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const ANY = { type: 'ANY' };
const NONE = { type: 'NONE' };
const only = (action: 'users' | 'roles', alice: string) => [
  { principals: { values: ['ops'] }, [action]: ANY },
  { principals: { values: ['alice'] }, [action]: { values: [alice] } },
  { principals: ANY, [action]: NONE },
];
const ACLS = {
  view_frameworks: only('users', 'alice'),
  view_tasks: only('users', 'alice'),
  view_executors: only('users', 'alice'),
  view_roles: only('roles', 'prod'),
  get_quotas: only('roles', 'prod'),
};
const CREDENTIALS = [
  { principal: 'ops', secret: 'o' },
  { principal: 'alice', secret: 'a' },
  { principal: 'eve', secret: 'e' },
];
const as = (principal: string) => ({ Authorization: basicAuthorization({ principal, secret: principal[0]! }) });

interface Scene {
  cluster: TestCluster;
  port: number;
  agent: FakeAgent;
  alice: { frameworkId: string; driver: SchedulerDriver; scheduler: TestScheduler };
  bob: { frameworkId: string; driver: SchedulerDriver; scheduler: TestScheduler };
}

/** A dynamic reservation of `text` to `role`. */
function reserved(text: string, role: string): Resources {
  return Resources.parse(text.replace(':', `(reservations: [(DYNAMIC,${role})]):`));
}

function task(offer: Offer, id: string, how: { user?: string; executor?: ExecutorInfo } = {}): TaskInfo {
  const resources = Resources.parse('cpus:0.1').toJSON();
  if (how.executor !== undefined) return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources, executor: how.executor };
  return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources, command: { value: 'sleep 1000', ...(how.user !== undefined ? { user: how.user } : {}) } };
}

/** An offer outstanding with the framework, after allocations on the paused Clock if none is yet. */
async function outstandingOffer(cluster: TestCluster, frameworkId: string): Promise<Offer> {
  for (let i = 0; i < 10; i++) {
    const id = [...cluster.master.frameworks.get(frameworkId)!.offers][0];
    if (id !== undefined) return cluster.master.offers.get(id)!.json;
    cluster.clock.advance(ALLOCATION_INTERVAL_MS);
    await cluster.settle();
  }
  throw new Error(`no offer for framework ${frameworkId}`);
}

/**
 * The cluster: an agent with a reservation to `prod` and one to `dev`; alice's framework (role
 * `prod`) runs `a-web` (as alice), `a-root` (its command as root), `a-custom` (in executor
 * `a-root-executor`, whose command runs as root) and `a-own` (in executor `a-executor`, as the
 * framework's user); bob's (role `dev`) runs `b-web`. Weights and quotas are set for both roles.
 */
async function scene(t: { teardown(fn: () => unknown): void; context: { bus: Bus } }, authorizer: LocalAuthorizer | undefined): Promise<Scene> {
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 }, master: authorizer === undefined ? {} : { authorizer } });
  authenticateMaster(cluster.runtime, { readonly: true, readwrite: true, frameworks: false, credentials: CREDENTIALS });
  const port = cluster.runtime.httpAddress!.port;
  const rt = await cluster.world.add('agent1');
  const agent = new FakeAgent('slave(1)', cluster.master.self, 'cpus:8;mem:4096', 'host1');
  agent.checkpointed = String(reserved('cpus:1', 'prod').plus(reserved('cpus:1', 'dev')));
  rt.spawn(agent);
  await cluster.settle();

  const alice = await cluster.startFramework({ name: 'alice-fw', user: 'alice', role: 'prod' });
  const offer = await outstandingOffer(cluster, alice.frameworkId);
  const command = (user?: string) => ({ value: 'run-executor', ...(user !== undefined ? { user } : {}) });
  alice.driver.launchTasks(offer.id, [
    task(offer, 'a-web'),
    task(offer, 'a-root', { user: 'root' }),
    task(offer, 'a-custom', { executor: { executor_id: { value: 'a-root-executor' }, command: command('root'), resources: Resources.parse('cpus:0.1').toJSON() } }),
    task(offer, 'a-own', { executor: { executor_id: { value: 'a-executor' }, command: command(), resources: Resources.parse('cpus:0.1').toJSON() } }),
  ]);
  await cluster.settle();
  const bob = await cluster.startFramework({ name: 'bob-fw', user: 'bob', role: 'dev' });
  const bobOffer = await outstandingOffer(cluster, bob.frameworkId);
  bob.driver.launchTasks(bobOffer.id, [task(bobOffer, 'b-web')]);
  await cluster.settle();
  const ops = { ...as('ops'), 'Content-Type': 'application/json' };
  const weights = await http(port, 'POST', '/api/v1', { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'prod', weight: 2 }, { role: 'dev', weight: 3 }] } }, { headers: ops });
  const quota = await http(port, 'POST', '/api/v1', { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'prod', guarantees: { cpus: { value: 1 } } }, { role: 'dev', guarantees: { cpus: { value: 1 } } }] } }, { headers: ops });
  if (weights.status !== 200 || quota.status !== 200) throw new Error(`weights ${weights.status} ${weights.body}, quota ${quota.status} ${quota.body}`);
  await cluster.settle();
  if (agent.runTasks.length !== 5) throw new Error(`expected 5 tasks to run, got ${agent.runTasks.map((r) => r.task.task_id.value).join(', ')}`);
  return { cluster, port, agent, alice, bob };
}

async function get(s: Scene, principal: string, path: string): Promise<any> {
  const reply = await http(s.port, 'GET', path, undefined, { headers: as(principal) });
  if (reply.status !== 200) throw new Error(`GET ${path} as ${principal}: ${reply.status} ${reply.body}`);
  return reply.json();
}

async function call(s: Scene, principal: string, type: string): Promise<any> {
  const reply = await http(s.port, 'POST', '/api/v1', { type }, { headers: { ...as(principal), 'Content-Type': 'application/json' } });
  if (reply.status !== 200) throw new Error(`${type} as ${principal}: ${reply.status} ${reply.body}`);
  return reply.json()[type.toLowerCase()];
}

const sorted = (values: string[]) => [...values].sort();
const ids = (list: { id: string }[]) => sorted(list.map((x) => x.id));
const taskIds = (list: { task_id: { value: string } }[]) => sorted(list.map((x) => x.task_id.value));

test('view ACLs - parsed as Mesos names their objects; access_sandboxes is taken, for the agents', (t) => {
  const acls = parseAcls(JSON.stringify(ACLS), 'acls');
  t.true(acls.authorized('view_tasks', 'alice', 'alice'));
  t.false(acls.authorized('view_tasks', 'alice', 'root'));
  t.false(acls.authorized('view_roles', undefined, 'prod'), 'no principal: only the ANY rule applies');
  t.throws(() => parseAcls('{"view_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}', 'acls'), {
    message: /'view_frameworks\[0\]\.roles' is not a field of 'view_frameworks' ACLs \(they have 'principals' and 'users'\)/,
  });
  t.throws(() => parseAcls('{"get_quotas": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]}', 'acls'), { message: /they have 'principals' and 'roles'/ });
  t.true(parseAcls('{"access_sandboxes": []}', 'acls').authorized('access_sandboxes', 'alice', 'root'), 'taken, and enforced by the agents (test/agent/acls.test.ts)');
});

test.serial('view ACLs - the state endpoints show each principal the frameworks, tasks, executors and roles it may view', async (t) => {
  const s = await scene(t, parseAcls(JSON.stringify(ACLS), 'acls'));
  const [a, b] = [s.alice.frameworkId, s.bob.frameworkId];

  const ops = await get(s, 'ops', '/master/state');
  t.deepEqual(ids(ops.frameworks), sorted([a, b]));
  const opsAlice = ops.frameworks.find((f: { id: string }) => f.id === a);
  t.deepEqual(ids(opsAlice.tasks), ['a-custom', 'a-own', 'a-root', 'a-web']);
  t.deepEqual(sorted(opsAlice.executors.map((e: { executor_id: string }) => e.executor_id)), ['a-executor', 'a-root-executor']);
  t.deepEqual(sorted(Object.keys(ops.slaves[0].reserved_resources)), ['dev', 'prod']);

  const alice = await get(s, 'alice', '/master/state');
  t.deepEqual(ids(alice.frameworks), [a], 'bob\'s framework is left out');
  t.deepEqual(ids(alice.frameworks[0].tasks), ['a-own', 'a-web'], 'a task whose command, or executor, runs as root is left out');
  t.deepEqual(alice.frameworks[0].executors.map((e: { executor_id: string }) => e.executor_id), ['a-executor'], 'the executor running as root is left out');
  t.deepEqual(Object.keys(alice.slaves[0].reserved_resources), ['prod']);
  t.deepEqual(Object.keys(alice.slaves[0].reserved_resources_full), ['prod']);
  t.is(alice.slaves[0].resources.cpus, 8, 'the agent\'s total is shown whole, as Mesos\'s');

  const eve = await get(s, 'eve', '/master/state');
  t.deepEqual(eve.frameworks, []);
  t.deepEqual(eve.slaves[0].reserved_resources, {});
  t.is(eve.slaves.length, 1, 'agents are not filtered, only their reservations');

  t.deepEqual(ids((await get(s, 'alice', '/master/state-summary')).frameworks), [a]);
  t.deepEqual(ids((await get(s, 'ops', '/master/state-summary')).frameworks), sorted([a, b]));
  t.deepEqual(ids((await get(s, 'alice', '/master/frameworks')).frameworks), [a]);
  t.deepEqual((await get(s, 'alice', `/master/frameworks?framework_id=${b}`)).frameworks, [], 'not even by its id');
  t.deepEqual(ids((await get(s, 'alice', '/master/tasks')).tasks), ['a-own', 'a-web']);
  t.deepEqual(ids((await get(s, 'ops', '/master/tasks')).tasks), ['a-custom', 'a-own', 'a-root', 'a-web', 'b-web']);
  t.deepEqual((await get(s, 'alice', '/master/tasks?task_id=b-web')).tasks, []);
  t.deepEqual((await get(s, 'eve', '/master/tasks')).tasks, []);

  const roles = (body: { roles: { name: string }[] }) => body.roles.map((r) => r.name);
  t.deepEqual(roles(await get(s, 'ops', '/master/roles')), ['dev', 'prod']);
  t.deepEqual(roles(await get(s, 'alice', '/master/roles')), ['prod']);
  t.deepEqual(roles(await get(s, 'eve', '/master/roles')), []);
  const slaves = (await get(s, 'alice', '/master/slaves')).slaves[0];
  t.deepEqual(Object.keys(slaves.reserved_resources_full), ['prod']);
  t.true(slaves.used_resources_full.every((r: { reservations?: { role: string }[] }) => (r.reservations ?? []).every((x) => x.role === 'prod')));
  t.deepEqual((await get(s, 'alice', '/master/weights')).map((w: { role: string }) => w.role), ['prod']);
  t.deepEqual((await get(s, 'ops', '/master/weights')).map((w: { role: string }) => w.role), ['dev', 'prod']);
  const quota = await get(s, 'alice', '/master/quota');
  t.deepEqual(quota.infos.map((q: { role: string }) => q.role), ['prod']);
  t.deepEqual(quota.configs.map((q: { role: string }) => q.role), ['prod']);
  t.deepEqual((await get(s, 'eve', '/master/quota')).configs, []);
  t.deepEqual((await get(s, 'ops', '/master/quota')).configs.map((q: { role: string }) => q.role), ['dev', 'prod']);
});

test.serial('view ACLs - the v1 GET_* calls answer each principal what it may view', async (t) => {
  const s = await scene(t, parseAcls(JSON.stringify(ACLS), 'acls'));
  const [a, b] = [s.alice.frameworkId, s.bob.frameworkId];
  const frameworkIds = (body: { frameworks: { framework_info: FrameworkInfo }[] }) => sorted(body.frameworks.map((f) => f.framework_info.id!.value));

  t.deepEqual(frameworkIds(await call(s, 'ops', 'GET_FRAMEWORKS')), sorted([a, b]));
  t.deepEqual(frameworkIds(await call(s, 'alice', 'GET_FRAMEWORKS')), [a]);
  t.deepEqual(frameworkIds(await call(s, 'eve', 'GET_FRAMEWORKS')), []);

  t.deepEqual(taskIds((await call(s, 'ops', 'GET_TASKS')).tasks), ['a-custom', 'a-own', 'a-root', 'a-web', 'b-web']);
  t.deepEqual(taskIds((await call(s, 'alice', 'GET_TASKS')).tasks), ['a-own', 'a-web']);
  t.deepEqual((await call(s, 'eve', 'GET_TASKS')).tasks, []);

  const executorIds = (body: { executors: { executor_info: ExecutorInfo }[] }) => sorted(body.executors.map((e) => e.executor_info.executor_id.value));
  t.deepEqual(executorIds(await call(s, 'ops', 'GET_EXECUTORS')), ['a-executor', 'a-root-executor']);
  t.deepEqual(executorIds(await call(s, 'alice', 'GET_EXECUTORS')), ['a-executor']);

  const roleNames = (body: { roles: { name: string }[] }) => body.roles.map((r) => r.name);
  t.deepEqual(roleNames(await call(s, 'ops', 'GET_ROLES')), ['dev', 'prod']);
  t.deepEqual(roleNames(await call(s, 'alice', 'GET_ROLES')), ['prod']);
  t.deepEqual((await call(s, 'alice', 'GET_WEIGHTS')).weight_infos, [{ role: 'prod', weight: 2 }]);
  const quota = (await call(s, 'alice', 'GET_QUOTA')).status;
  t.deepEqual(quota.infos.map((q: { role: string }) => q.role), ['prod']);
  t.deepEqual(quota.configs.map((q: { role: string }) => q.role), ['prod']);

  const reservedRoles = (resources: { reservations?: { role: string }[] }[]) => sorted([...new Set(resources.flatMap((r) => (r.reservations ?? []).map((x) => x.role)))]);
  const opsAgent = (await call(s, 'ops', 'GET_AGENTS')).agents[0];
  t.deepEqual(reservedRoles(opsAgent.total_resources), ['dev', 'prod']);
  const aliceAgent = (await call(s, 'alice', 'GET_AGENTS')).agents[0];
  t.deepEqual(reservedRoles(aliceAgent.total_resources), ['prod']);
  t.deepEqual(reservedRoles((await call(s, 'eve', 'GET_AGENTS')).agents[0].total_resources), []);

  const state = await call(s, 'alice', 'GET_STATE');
  t.deepEqual(frameworkIds(state.get_frameworks), [a]);
  t.deepEqual(taskIds(state.get_tasks.tasks), ['a-own', 'a-web']);
  t.deepEqual(executorIds(state.get_executors), ['a-executor']);
  t.deepEqual(reservedRoles(state.get_agents.agents[0].total_resources), ['prod']);
});

test.serial('view ACLs - a principal the ACLs say nothing of, with permissive false, sees no frameworks', async (t) => {
  const strict = parseAcls(
    JSON.stringify({
      permissive: false,
      register_frameworks: [{ principals: ANY, roles: ANY }],
      run_tasks: [{ principals: ANY, users: ANY }],
      update_weights: [{ principals: ANY, roles: ANY }],
      update_quotas: [{ principals: ANY, roles: ANY }],
      view_frameworks: [{ principals: { values: ['ops'] }, users: ANY }],
    }),
    'acls',
  );
  const s = await scene(t, strict);
  t.deepEqual((await get(s, 'alice', '/master/state')).frameworks, []);
  t.deepEqual((await get(s, 'alice', '/master/frameworks')).frameworks, []);
  t.deepEqual((await call(s, 'alice', 'GET_FRAMEWORKS')).frameworks, []);
  t.deepEqual((await call(s, 'alice', 'GET_TASKS')).tasks, []);
  t.deepEqual((await call(s, 'alice', 'GET_ROLES')).roles, [], 'no view_roles ACL: no role either');
  t.deepEqual((await call(s, 'alice', 'GET_QUOTA')).status.infos, []);
  const ops = await get(s, 'ops', '/master/state');
  t.is(ops.frameworks.length, 2, 'ops may view the frameworks');
  t.deepEqual(ops.frameworks.flatMap((f: { tasks: unknown[] }) => f.tasks), [], 'but no view_tasks ACL lets it view their tasks');
});

test.serial('view ACLs - without ACLs, or with ACLs that allow everything, every endpoint and call answers the same, byte for byte', async (t) => {
  const s = await scene(t, undefined);
  // Without ACLs, every principal sees everything.
  t.deepEqual(ids((await get(s, 'eve', '/master/state')).frameworks), sorted([s.alice.frameworkId, s.bob.frameworkId]));
  t.is((await call(s, 'eve', 'GET_TASKS')).tasks.length, 5);

  const paths = ['/master/state', '/master/state-summary', '/master/frameworks', '/master/tasks', '/master/roles', '/master/slaves', '/master/weights', '/master/quota'];
  const calls = ['GET_STATE', 'GET_AGENTS', 'GET_FRAMEWORKS', 'GET_EXECUTORS', 'GET_TASKS', 'GET_ROLES', 'GET_WEIGHTS', 'GET_QUOTA'];
  const bodies = async (principal: string) => [
    ...(await Promise.all(paths.map(async (path) => (await http(s.port, 'GET', path, undefined, { headers: as(principal) })).body))),
    ...(await Promise.all(calls.map(async (type) => (await http(s.port, 'POST', '/api/v1', { type }, { headers: { ...as(principal), 'Content-Type': 'application/json' } })).body))),
  ];
  const without = await bodies('eve');
  // The same master, the same state (the Clock is paused), now with ACLs that let anyone view anything.
  const everything = { principals: ANY, users: ANY };
  const allowAll = parseAcls(JSON.stringify({ view_frameworks: [everything], view_tasks: [everything], view_executors: [everything], view_roles: [{ principals: ANY, roles: ANY }], get_quotas: [{ principals: ANY, roles: ANY }] }), 'acls');
  (s.cluster.master.options as { authorizer?: LocalAuthorizer }).authorizer = allowAll;
  const withAcls = await bodies('eve');
  for (const [i, body] of without.entries()) t.is(withAcls[i], body, [...paths, ...calls][i]);
  t.true(without[0]!.includes('"b-web"'), 'the bodies hold the tasks');
});

/** SUBSCRIBE as `principal`; the stream is closed after the test. */
async function subscribe(t: { teardown(fn: () => unknown): void }, s: Scene, principal: string): Promise<EventStream> {
  const stream = await openStream(s.port, { type: 'SUBSCRIBE' }, { path: '/api/v1', headers: as(principal) });
  t.teardown(() => stream.close());
  if (stream.status !== 200) throw new Error(`SUBSCRIBE as ${principal}: ${stream.status}`);
  return stream;
}

/** The events of `stream` after SUBSCRIBED that are not heartbeats, as `TYPE name`. */
function seen(stream: EventStream): string[] {
  return stream.events.flatMap((e) => {
    switch (e.type) {
      case 'TASK_ADDED':
        return [`TASK_ADDED ${e.task_added.task.task_id.value}`];
      case 'TASK_UPDATED':
        return [`TASK_UPDATED ${e.task_updated.status.task_id.value} ${e.task_updated.state}`];
      case 'FRAMEWORK_ADDED':
        return [`FRAMEWORK_ADDED ${e.framework_added.framework.framework_info.name}`];
      case 'FRAMEWORK_REMOVED':
        return [`FRAMEWORK_REMOVED ${e.framework_removed.framework_info.name}`];
      case 'AGENT_ADDED':
        return [`AGENT_ADDED ${e.agent_added.agent.agent_info.hostname}`];
      default:
        return [];
    }
  });
}

test.serial('view ACLs - the event stream: SUBSCRIBED is filtered as GET_STATE, and each subscriber hears only of the tasks and frameworks it may view', async (t) => {
  const s = await scene(t, parseAcls(JSON.stringify(ACLS), 'acls'));
  const ops = await subscribe(t, s, 'ops');
  const alice = await subscribe(t, s, 'alice');
  const eve = await subscribe(t, s, 'eve');
  const opsState = (await ops.next('SUBSCRIBED')).subscribed.get_state;
  const aliceState = (await alice.next('SUBSCRIBED')).subscribed.get_state;
  t.is(opsState.get_frameworks.frameworks.length, 2);
  t.deepEqual(aliceState, await call(s, 'alice', 'GET_STATE'), 'the state GET_STATE answers alice');
  t.deepEqual(taskIds(aliceState.get_tasks.tasks), ['a-own', 'a-web']);
  t.deepEqual((await eve.next('SUBSCRIBED')).subscribed.get_state.get_frameworks.frameworks, []);

  // Bob's task runs, a framework of bob's subscribes, alice's launches as alice and as root.
  const bobRun = s.agent.runTasks.find((r) => r.task.task_id.value === 'b-web')!;
  s.agent.update(bobRun, 'TASK_RUNNING');
  await s.cluster.settle();
  const carol = await s.cluster.startFramework({ name: 'bob-2', user: 'bob', role: 'dev' });
  await carol.driver.stop();
  await s.cluster.settle();
  const offer = await outstandingOffer(s.cluster, s.alice.frameworkId);
  s.alice.driver.launchTasks(offer.id, [task(offer, 'a-late'), task(offer, 'a-late-root', { user: 'root' })]);
  await s.cluster.settle();
  const aliceRun = s.agent.runTasks.find((r) => r.task.task_id.value === 'a-late')!;
  s.agent.update(aliceRun, 'TASK_RUNNING');
  await s.cluster.settle();
  // An agent with reservations to both roles registers.
  const rt = await s.cluster.world.add('agent2');
  const agent2 = new FakeAgent('slave(2)', s.cluster.master.self, 'cpus:2;mem:512', 'host2');
  agent2.checkpointed = String(reserved('cpus:1', 'prod').plus(reserved('mem:64', 'dev')));
  rt.spawn(agent2);
  await s.cluster.settle();

  // The last event each may view has come: whatever was written before it came before it.
  await ops.next('AGENT_ADDED');
  const agentAdded = await alice.next('AGENT_ADDED');
  await eve.next('AGENT_ADDED');
  t.deepEqual(seen(ops), [
    'TASK_UPDATED b-web TASK_RUNNING',
    'FRAMEWORK_ADDED bob-2',
    'FRAMEWORK_REMOVED bob-2',
    'TASK_ADDED a-late',
    'TASK_ADDED a-late-root',
    'TASK_UPDATED a-late TASK_RUNNING',
    'AGENT_ADDED host2',
  ]);
  t.deepEqual(seen(alice), ['TASK_ADDED a-late', 'TASK_UPDATED a-late TASK_RUNNING', 'AGENT_ADDED host2']);
  t.deepEqual(seen(eve), ['AGENT_ADDED host2']);
  const roles = (agent: { total_resources: { reservations?: { role: string }[] }[] }) => sorted([...new Set(agent.total_resources.flatMap((r) => (r.reservations ?? []).map((x) => x.role)))]);
  t.deepEqual(roles(agentAdded.agent_added.agent), ['prod'], 'alice hears of the agent without its reservation to dev');
  t.deepEqual(roles(ops.events.find((e) => e.type === 'AGENT_ADDED').agent_added.agent), ['dev', 'prod']);
});
