import test, { type ExecutionContext } from 'ava';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { EXITED_EXECUTOR, RUN_TASK_GROUP, type RunTask, type RunTaskGroup } from '../../src/mesos/protocol.ts';
import type { ExecutorInfo, Offer, OfferOperation, TaskInfo, TaskStatus } from '../../src/mesos/v1/common.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { subscribe } from '../helpers/event-stream.ts';
import type { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { TestScheduler } from '../helpers/scheduler.ts';
import { parseAcls } from '../../actors/master/authorizer.ts';
import { Bus } from '../helpers/worlds.ts';

/**
 * LAUNCH_GROUP at the master (Mesos 1.1's task groups), against a `FakeAgent` on the paused
 * Clock: the group goes whole to the agent as one `RunTaskGroupMessage` and its tasks are
 * launched tasks in the master's books, or every task of it is refused with the reason, as
 * Mesos's `TaskGroupValidationTest`s expect.
 */
resetFiltersAfterEach(test);

const bus = new Bus('local');

function defaultExecutor(frameworkId: string, id = 'default', resources = 'cpus:0.1;mem:32;disk:32'): ExecutorInfo {
  return { type: 'DEFAULT', executor_id: { value: id }, framework_id: { value: frameworkId }, resources: Resources.parse(resources).toJSON() };
}

function groupTask(offer: Offer, id: string, resources = 'cpus:1;mem:128'): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse(resources).toJSON(), command: { value: 'sleep 1000' } };
}

function launchGroup(executor: ExecutorInfo, tasks: TaskInfo[]): OfferOperation {
  return { type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks } } };
}

async function started(t: ExecutionContext) {
  const cluster = await startTestCluster(t, bus);
  const agent = await cluster.addAgent('cpus:4;mem:4096;disk:1024');
  const { driver, scheduler, frameworkId } = await cluster.startFramework();
  const [offers] = await scheduler.next('resourceOffers');
  return { cluster, agent, driver, scheduler, frameworkId, offer: offers[0]! };
}

/** The `RunTask`-shaped record `FakeAgent.update` takes, for one task of a group. */
function runOf(group: RunTaskGroup, taskId: string): RunTask {
  const task = group.task_group.tasks!.find((t) => t.task_id.value === taskId)!;
  return { framework_id: group.framework.id, framework: group.framework, task };
}

function agentUsed(cluster: TestCluster, agent: FakeAgent): Resources {
  return cluster.master.agents.get(agent.agentId!)!.usedResources();
}

test.serial('TaskGroup - LAUNCH_GROUP sends one RunTaskGroupMessage; every task is launched in the books with the executor; updates, reconciliation and resources as for any task', async (t) => {
  const { cluster, agent, driver, scheduler, frameworkId, offer } = await started(t);
  const executor = defaultExecutor(frameworkId);
  const sent = futureMessage(RUN_TASK_GROUP, cluster.master.self, agent.self);
  driver.acceptOffers(offer.id, [launchGroup(executor, [groupTask(offer, 't1'), groupTask(offer, 't2')])], { refuse_seconds: 0 });
  const group = (await sent).body as RunTaskGroup;
  t.is(group.framework.id.value, frameworkId);
  t.deepEqual(group.executor, executor);
  t.deepEqual(group.task_group.tasks?.map((task) => task.task_id.value), ['t1', 't2']);
  // Each task names the group's executor, as Mesos's master fills it in.
  t.true(group.task_group.tasks!.every((task) => task.executor?.executor_id.value === 'default' && task.command?.value === 'sleep 1000'));
  await cluster.settle();

  const framework = cluster.master.frameworks.get(frameworkId)!;
  t.deepEqual([...framework.tasks.values()].map((task) => [task.task_id.value, task.state, task.executor_id?.value]), [
    ['t1', 'TASK_STAGING', 'default'],
    ['t2', 'TASK_STAGING', 'default'],
  ]);
  t.true(framework.executors.get(agent.agentId!)?.has('default'));
  t.true(agentUsed(cluster, agent).equals(Resources.parse('cpus:2.1;mem:288;disk:32')));
  t.is(cluster.master.stats.tasksLaunched.value, 2);

  // The rest of the agent is offered again, with the executor now running there.
  cluster.clock.advance(ALLOCATION_INTERVAL_MS);
  const [again] = await scheduler.next('resourceOffers');
  t.deepEqual(again[0]!.executor_ids, [{ value: 'default' }]);
  t.true(Resources.fromJSON(again[0]!.resources).equals(Resources.parse('cpus:1.9;mem:3808;disk:992')));
  driver.declineOffer(again[0]!.id);

  agent.update(runOf(group, 't1'), 'TASK_RUNNING');
  t.is((await scheduler.next('statusUpdate'))[0].state, 'TASK_RUNNING');
  agent.update(runOf(group, 't1'), 'TASK_FINISHED');
  t.is((await scheduler.next('statusUpdate'))[0].state, 'TASK_FINISHED');
  await cluster.settle();
  // A task that ended gives its resources back; its sibling and the executor keep theirs.
  t.true(agentUsed(cluster, agent).equals(Resources.parse('cpus:1.1;mem:160;disk:32')));

  driver.reconcileTasks([]);
  const reconciled: TaskStatus[] = [];
  while (reconciled.length < 1) reconciled.push((await scheduler.next('statusUpdate'))[0]);
  t.deepEqual(reconciled.map((s) => [s.task_id.value, s.state, s.reason]), [['t2', 'TASK_STAGING', 'REASON_RECONCILIATION']]);
  t.is(reconciled[0]!.executor_id?.value, 'default');

  // The executor exits: the framework hears it, and its resources come back.
  agent.send(cluster.master.self, EXITED_EXECUTOR, { slave_id: { value: agent.agentId! }, framework_id: { value: frameworkId }, executor_id: { value: 'default' }, status: 0 });
  await scheduler.next('executorLost');
  agent.update(runOf(group, 't2'), 'TASK_FAILED');
  t.is((await scheduler.next('statusUpdate'))[0].state, 'TASK_FAILED');
  await cluster.settle();
  t.true(agentUsed(cluster, agent).isEmpty());
});

test.serial('TaskGroupValidation - an invalid group is refused whole: every task TASK_ERROR, REASON_TASK_GROUP_INVALID, with the problem; valid groups of the same ACCEPT launch', async (t) => {
  const { cluster, agent, driver, scheduler, frameworkId, offer } = await started(t);
  const executor = defaultExecutor(frameworkId);
  const task = (id: string, resources?: string) => groupTask(offer, id, resources);
  const custom: ExecutorInfo = { ...executor, executor_id: { value: 'custom' }, type: 'CUSTOM', command: { value: 'my-executor' } };
  const { type: _type, ...untyped } = { ...executor, executor_id: { value: 'untyped' } };
  const { framework_id: _fid, ...orphan } = { ...executor, executor_id: { value: 'orphan' } };
  const { command: _command, ...commandless } = task('e2');
  driver.acceptOffers(offer.id, [
    launchGroup(executor, [task('ok1'), task('ok2')]),
    launchGroup(custom, [task('a1'), task('a2')]),
    launchGroup(executor, [{ ...task('b1'), executor: { ...executor, executor_id: { value: 'other' } } }, task('b2')]),
    launchGroup(executor, [task('dup'), task('dup')]),
    launchGroup(executor, [task('ok1'), task('c2')]),
    launchGroup(executor, [task('g1', 'cpus:1;mem:128'), task('g2', 'cpus:8;mem:128')]),
    launchGroup(untyped, [task('u1')]),
    launchGroup(orphan, [task('o1')]),
    launchGroup(defaultExecutor(frameworkId, 'small', 'cpus:0.1;mem:16;disk:32'), [task('s1')]),
    launchGroup(defaultExecutor(frameworkId, 'diskless', 'cpus:0.1;mem:32'), [task('n1')]),
    launchGroup(executor, [task('e1'), commandless]),
  ]);
  const expected: [string[], string][] = [
    [['a1', 'a2'], "'ExecutorInfo.type' must be 'DEFAULT' for a task group, got 'CUSTOM'"],
    [['b1', 'b2'], "The `ExecutorInfo` of task 'b1' is different from executor 'default'"],
    [['dup', 'dup'], "Task 'dup' is invalid: Task has duplicate ID: dup"],
    [['ok1', 'c2'], "Task 'ok1' is invalid: Task has duplicate ID: ok1"],
    [['g1', 'g2'], 'Total resources cpus:9;mem:256 required by task group and its executor are more than available cpus:1.9;disk:992;mem:3808'],
    [['u1'], "'ExecutorInfo.type' must be set"],
    [['o1'], "'ExecutorInfo.framework_id' must be set"],
    [['s1'], "Executor 'small' uses less memory (16MB) than the minimum required (32MB)"],
    [['n1'], "Executor 'diskless' uses no disk"],
    [['e1', 'e2'], "Task 'e2' is invalid: 'TaskInfo.command' must be set: the default executor runs each task's command"],
  ];
  for (const [ids, message] of expected) {
    for (const id of ids) {
      const [status] = await scheduler.next('statusUpdate');
      t.like(status, { task_id: { value: id }, state: 'TASK_ERROR', reason: 'REASON_TASK_GROUP_INVALID', source: 'SOURCE_MASTER', message }, id);
    }
  }
  await cluster.settle();
  // Only the valid group reached the agent, and only its tasks are the framework's.
  t.deepEqual(agent.bodies(RUN_TASK_GROUP).map((g) => (g as RunTaskGroup).task_group.tasks?.map((x) => x.task_id.value)), [['ok1', 'ok2']]);
  t.deepEqual([...cluster.master.frameworks.get(frameworkId)!.tasks.keys()], ['ok1', 'ok2']);
  t.is(cluster.master.stats.tasksErrored.value, 16);
  t.true(agentUsed(cluster, agent).equals(Resources.parse('cpus:2.1;mem:288;disk:32')));
});

test.serial('TaskGroup - on offers no longer valid, every task of the group is TASK_LOST (REASON_INVALID_OFFERS)', async (t) => {
  const { driver, scheduler, frameworkId, offer } = await started(t);
  driver.declineOffer(offer.id);
  driver.acceptOffers(offer.id, [launchGroup(defaultExecutor(frameworkId), [groupTask(offer, 'l1'), groupTask(offer, 'l2')])]);
  for (const id of ['l1', 'l2']) {
    const [status] = await scheduler.next('statusUpdate');
    t.like(status, { task_id: { value: id }, state: 'TASK_LOST', reason: 'REASON_INVALID_OFFERS' });
  }
});

test.serial('TaskGroup - /api/v1/scheduler: ACCEPT with LAUNCH_GROUP reaches the agent; a malformed one is 400 naming the field', async (t) => {
  const cluster = await startTestCluster(t, bus, { http: { port: 0 } });
  const agent = await cluster.addAgent('cpus:4;mem:4096;disk:1024');
  const port = cluster.runtime.httpAddress!.port;
  const stream = await subscribe(port, { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'test', name: 'http-groups' } } });
  const frameworkId = (await stream.next('SUBSCRIBED')).subscribed.framework_id.value as string;
  const offer = (await stream.next('OFFERS')).offers.offers[0] as Offer;
  const post = (body: object) => http(port, 'POST', '/api/v1/scheduler', body, { headers: { 'Mesos-Stream-Id': stream.streamId } });

  const malformed = await post({
    framework_id: { value: frameworkId },
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks: [groupTask(offer, 'x')] } } }] },
  });
  t.is(malformed.status, 400);
  t.regex(malformed.body, /launch_group\.executor/);

  const sent = futureMessage(RUN_TASK_GROUP, cluster.master.self, agent.self);
  const accepted = await post({
    framework_id: { value: frameworkId },
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [launchGroup(defaultExecutor(frameworkId), [groupTask(offer, 'h1'), groupTask(offer, 'h2')])] },
  });
  t.is(accepted.status, 202);
  const group = (await sent).body as RunTaskGroup;
  t.deepEqual(group.task_group.tasks?.map((task) => task.task_id.value), ['h1', 'h2']);
  stream.close();
});

test.serial('TaskGroup - a LAUNCH_GROUP while the driver is disconnected reports every task of the group TASK_LOST (REASON_MASTER_DISCONNECTED)', async (t) => {
  const cluster = await startTestCluster(t, bus);
  const rt = await cluster.world.add('fw');
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'u', name: 'away' }, 'master@nowhere', { runtime: rt, random: () => 1 });
  t.teardown(() => driver.abort());
  await driver.start();
  const offer = { id: { value: 'o1' }, framework_id: { value: 'f' }, agent_id: { value: 'a' }, hostname: 'h' } satisfies Offer;
  driver.acceptOffers(offer.id, [launchGroup(defaultExecutor('f'), [groupTask(offer, 'd1'), groupTask(offer, 'd2')])]);
  for (const id of ['d1', 'd2']) {
    const [status] = await scheduler.next('statusUpdate');
    t.like(status, { task_id: { value: id }, state: 'TASK_LOST', source: 'SOURCE_MASTER', reason: 'REASON_MASTER_DISCONNECTED' });
  }
});

test.serial('TaskGroup - run_tasks ACLs: a group with a task whose user its principal may not use is refused whole, REASON_TASK_GROUP_UNAUTHORIZED', async (t) => {
  const authorizer = parseAcls('{"run_tasks": [{"principals": {"values": ["ci"]}, "users": {"values": ["nobody"]}}, {"principals": {"values": ["ci"]}, "users": {"type": "NONE"}}]}', 'acls');
  const cluster = await startTestCluster(t, bus, { master: { authorizer } });
  const agent = await cluster.addAgent('cpus:4;mem:4096;disk:1024');
  const { driver, scheduler, frameworkId } = await cluster.startFramework({ principal: 'ci', user: 'nobody' });
  const [offers] = await scheduler.next('resourceOffers');
  const offer = offers[0]!;
  const executor = defaultExecutor(frameworkId);
  const asRoot = { ...groupTask(offer, 'u2'), command: { value: 'true', user: 'root' } };
  driver.acceptOffers(offer.id, [launchGroup(executor, [groupTask(offer, 'u1'), asRoot])]);
  const statuses: TaskStatus[] = [(await scheduler.next('statusUpdate'))[0], (await scheduler.next('statusUpdate'))[0]];
  t.deepEqual(statuses.map((s) => [s.task_id.value, s.state, s.reason, s.message]).sort(), [
    ['u1', 'TASK_ERROR', 'REASON_TASK_GROUP_UNAUTHORIZED', "Not authorized to launch as user 'root'"],
    ['u2', 'TASK_ERROR', 'REASON_TASK_GROUP_UNAUTHORIZED', "Not authorized to launch as user 'root'"],
  ]);
  await cluster.settle();
  t.false(agent.received.some((m) => m.name === RUN_TASK_GROUP), 'nothing of the group reached the agent');
  t.is(cluster.master.frameworks.get(frameworkId)!.tasks.size, 0);
});

test.serial('TaskValidation - a LAUNCH naming the DEFAULT executor is TASK_ERROR: it takes task groups only', async (t) => {
  const { driver, scheduler, frameworkId, offer } = await started(t);
  driver.launchTasks(offer.id, [{ ...groupTask(offer, 'single'), command: undefined, executor: defaultExecutor(frameworkId) }]);
  const [status] = await scheduler.next('statusUpdate');
  t.like(status, { state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID', message: "'ExecutorInfo.type' must be 'CUSTOM'" });
});
