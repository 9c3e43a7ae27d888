import anyTest, { type TestFn } from 'ava';
import { AGENT_PING_TIMEOUT_MS, MAX_AGENT_PING_TIMEOUTS, MAX_OFFERS_PER_EVENT } from '../../actors/master/constants.ts';
import { DEFAULT_REFUSE_SECONDS } from '../../actors/allocator/constants.ts';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import type { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { RECONCILE_TASKS, type ReconcileTasks } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo, Offer, TaskInfo } from '../../src/mesos/v1/common.ts';
import { dropMessages, futureMessage, futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { useBuses, type BusesContext } from '../helpers/worlds.ts';
import { FakeAgent, reportedTask } from '../helpers/fake-agent.ts';
import { http } from '../helpers/http.ts';

/**
 * Master scenarios, named after Apache Mesos's own tests, on the paused Clock with message
 * filters; every case runs on the local bus and on a real nats-server.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);

useBuses(test);

function commandTask(offer: Offer, id: string, resources = 'cpus:1;mem:128'): TaskInfo {
  return {
    name: id,
    task_id: { value: id },
    agent_id: offer.agent_id,
    resources: Resources.parse(resources).toJSON(),
    command: { value: 'sleep 1000' },
  };
}

/** The usual opening: an agent (2 cpus, 1 GB), a framework, and task t1 launched on its first offer. */
async function launchT1(cluster: TestCluster, framework: Partial<FrameworkInfo> = {}) {
  const agent = await cluster.addAgent('cpus:2;mem:1024');
  const { driver, scheduler, frameworkId } = await cluster.startFramework(framework);
  const [offers] = await scheduler.next('resourceOffers');
  driver.launchTasks(offers[0]!.id, [commandTask(offers[0]!, 't1')]);
  await cluster.settle();
  return { agent, driver, scheduler, frameworkId };
}

function runFor(agent: FakeAgent, taskId: string) {
  const run = agent.runTasks.find((r) => r.task.task_id.value === taskId);
  if (run === undefined) throw new Error(`no RunTaskMessage for ${taskId}`);
  return run;
}

/**
 * t1 launched and RUNNING, then its agent partitioned (pings unanswered) until the master
 * removes it; returns the status the framework heard then (TASK_LOST, or TASK_UNREACHABLE when
 * partition-aware), with the pings flowing again.
 */
async function partitionT1(cluster: TestCluster, framework: Partial<FrameworkInfo> = {}) {
  const pings = dropMessages('PingSlaveMessage');
  const launched = await launchT1(cluster, framework);
  const run = runFor(launched.agent, 't1');
  launched.agent.update(run, 'TASK_RUNNING');
  await launched.scheduler.next('statusUpdate');
  for (let i = 0; i < MAX_AGENT_PING_TIMEOUTS; i++) {
    cluster.clock.advance(AGENT_PING_TIMEOUT_MS);
    await cluster.settle();
  }
  const [status] = await launched.scheduler.next('statusUpdate');
  pings.stop();
  return { ...launched, run, status };
}

for (const kind of ['local', 'nats'] as const) {
  const title = (name: string) => `${kind} - ${name}`;

  test.serial(title('TaskLaunch: offer, launch, RUNNING update reaches the scheduler, ack reaches the agent'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const { driver, scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    t.is(offers.length, 1);
    const offer = offers[0]!;
    t.is(offer.agent_id.value, agent.agentId!);
    t.is(offer.hostname, 'host1');
    t.true(Resources.fromJSON(offer.resources!).equals(Resources.parse('cpus:2;mem:1024')));

    const runTask = futureMessage('RunTaskMessage', cluster.master.self, agent.self);
    driver.launchTasks(offer.id, [commandTask(offer, 't1')]);
    const run = (await runTask).body as { task: TaskInfo; framework_id: { value: string } };
    t.is(run.task.task_id.value, 't1');
    await cluster.settle();

    const ack = futureMessage('StatusUpdateAcknowledgementMessage', cluster.master.self, agent.self);
    const uuid = agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
    const [status] = await scheduler.next('statusUpdate');
    t.is(status.state, 'TASK_RUNNING');
    t.is(status.task_id.value, 't1');
    t.is((await ack).body && ((await ack).body as { uuid: string }).uuid, uuid);
    const state = cluster.master.frameworks.get(run.framework_id.value)!.tasks.get('t1')!;
    t.is(state.state, 'TASK_RUNNING');
  });

  test.serial(title('DeclineWithFilter: no re-offer to the framework until refuse_seconds pass'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    await cluster.addAgent('cpus:2;mem:1024');
    const { driver, scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    driver.declineOffer(offers[0]!.id, { refuse_seconds: 10 });
    await cluster.settle();
    cluster.clock.advance(9_000);
    await cluster.settle();
    t.is(scheduler.all('resourceOffers').length, 1, 'filtered for 10 s');
    const again = scheduler.next('resourceOffers');
    cluster.clock.advance(1_000 + ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    await again;
    t.is(scheduler.all('resourceOffers').length, 2);
  });

  test.serial(title('DeclineWithFilter: the default filter is refuse_seconds 5'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    await cluster.addAgent('cpus:2;mem:1024');
    const { driver, scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    driver.declineOffer(offers[0]!.id);
    await cluster.settle();
    cluster.clock.advance(DEFAULT_REFUSE_SECONDS * 1000 - ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    t.is(scheduler.all('resourceOffers').length, 1);
    cluster.clock.advance(2 * ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    t.is(scheduler.all('resourceOffers').length, 2);
  });

  test.serial(title('AgentPingTimeout / RescindOnAgentRemoval: TASK_LOST, slaveLost and offerRescinded'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    // The agent never hears a ping, from its registration on.
    const pings = dropMessages('PingSlaveMessage');
    const agent = await cluster.addAgent('cpus:4;mem:2048');
    const { driver, scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    const offer = offers[0]!;
    driver.launchTasks(offer.id, [commandTask(offer, 't1', 'cpus:1;mem:512')]);
    await cluster.settle();
    agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
    await scheduler.next('statusUpdate');
    // The rest of the agent is offered again once declined with no filter.
    const [second] = await (async () => {
      const next = scheduler.next('resourceOffers');
      cluster.clock.advance(DEFAULT_REFUSE_SECONDS * 1000 + ALLOCATION_INTERVAL_MS);
      await cluster.settle();
      return next;
    })();
    t.is(second.length, 1);

    for (let i = 0; i < MAX_AGENT_PING_TIMEOUTS - 1; i++) {
      cluster.clock.advance(AGENT_PING_TIMEOUT_MS);
      await cluster.settle();
    }
    t.is(scheduler.all('slaveLost').length, 0, 'not removed before the last missed ping');
    const lost = scheduler.next('slaveLost');
    const rescinded = scheduler.next('offerRescinded');
    cluster.clock.advance(AGENT_PING_TIMEOUT_MS);
    await cluster.settle();
    const [agentId] = await lost;
    t.is(agentId.value, agent.agentId!);
    t.is((await rescinded)[0].value, second[0]!.id.value);
    const lostUpdate = scheduler.all('statusUpdate').find(([s]) => s.state === 'TASK_LOST');
    t.truthy(lostUpdate);
    t.is(lostUpdate![0].reason, 'REASON_AGENT_REMOVED');
    t.is(lostUpdate![0].task_id.value, 't1');
    t.false(cluster.master.agents.has(agent.agentId!));
    t.true(pings.dropped.length >= MAX_AGENT_PING_TIMEOUTS);
  });

  test.serial(title('FrameworkFailover: a new scheduler with the framework id takes over within failover_timeout'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const first = await cluster.startFramework({ failover_timeout: 60 });
    const [offers] = await first.scheduler.next('resourceOffers');
    first.driver.launchTasks(offers[0]!.id, [commandTask(offers[0]!, 't1')]);
    await cluster.settle();
    agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
    await first.scheduler.next('statusUpdate');

    await first.driver.abort(); // The scheduler dies; the master keeps the framework.
    await cluster.settle();
    const record = cluster.master.frameworks.get(first.frameworkId)!;
    t.false(record.connected);
    t.is(record.tasks.get('t1')!.state, 'TASK_RUNNING');

    cluster.clock.advance(30_000);
    await cluster.settle();
    const second = await cluster.startFramework({ id: { value: first.frameworkId }, failover_timeout: 60 });
    t.is(second.frameworkId, first.frameworkId);
    t.true(cluster.master.frameworks.get(first.frameworkId)!.connected);
    // Its task is still there, and reconciliation tells the new scheduler about it.
    second.driver.reconcileTasks([]);
    const [status] = await second.scheduler.next('statusUpdate');
    t.is(status.task_id.value, 't1');
    t.is(status.state, 'TASK_RUNNING');
    t.is(status.reason, 'REASON_RECONCILIATION');
    cluster.clock.advance(60_000);
    await cluster.settle();
    t.true(cluster.master.frameworks.has(first.frameworkId), 'the failover timer was cancelled');
  });

  test.serial(title('FailoverTimeout: a disconnected framework is removed after failover_timeout; its agents shut it down'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, driver, frameworkId } = await launchT1(cluster, { failover_timeout: 10 });
    await driver.abort();
    await cluster.settle();
    cluster.clock.advance(9_000);
    await cluster.settle();
    t.true(cluster.master.frameworks.has(frameworkId));
    const shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    cluster.clock.advance(1_000);
    await cluster.settle();
    t.deepEqual((await shutdown).body, { framework_id: { value: frameworkId } });
    t.false(cluster.master.frameworks.has(frameworkId));
    const completed = cluster.master.completedFrameworks.find((f) => f.id === frameworkId)!;
    t.is(completed.completedTasks.at(0)!.state, 'TASK_KILLED');
  });

  test.serial(title('ReconcileTasks: explicit for known and unknown tasks, implicit for all'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:4;mem:2048');
    const { driver, scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    driver.launchTasks(offers[0]!.id, [commandTask(offers[0]!, 't1'), commandTask(offers[0]!, 't2')]);
    await cluster.settle();
    agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
    await scheduler.next('statusUpdate');

    driver.reconcileTasks([{ task_id: { value: 't1' } }, { task_id: { value: 'nope' }, agent_id: { value: agent.agentId! } }]);
    const [known] = await scheduler.next('statusUpdate');
    const [unknown] = await scheduler.next('statusUpdate');
    t.is(known.state, 'TASK_RUNNING');
    t.is(known.reason, 'REASON_RECONCILIATION');
    t.is(known.uuid, undefined, 'reconciliation updates need no acknowledgement');
    t.is(unknown.task_id.value, 'nope');
    t.is(unknown.state, 'TASK_LOST');
    t.is(unknown.reason, 'REASON_RECONCILIATION');

    driver.reconcileTasks([]);
    const states = [(await scheduler.next('statusUpdate'))[0], (await scheduler.next('statusUpdate'))[0]].map((s) => `${s.task_id.value}:${s.state}`).sort();
    t.deepEqual(states, ['t1:TASK_RUNNING', 't2:TASK_STAGING']);
  });

  test.serial(title('ReconcileTasks: a partition-aware framework hears TASK_UNKNOWN or TASK_GONE'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:1;mem:128');
    const { driver, scheduler } = await cluster.startFramework({ capabilities: [{ type: 'PARTITION_AWARE' }] });
    driver.reconcileTasks([{ task_id: { value: 'a' } }, { task_id: { value: 'b' }, agent_id: { value: agent.agentId! } }]);
    const [a] = await scheduler.next('statusUpdate');
    const [b] = await scheduler.next('statusUpdate');
    t.is(a.state, 'TASK_UNKNOWN');
    t.is(b.state, 'TASK_GONE');
  });

  test.serial(title('KillTask: the agent is told; an unknown task is reconciled as lost'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, driver, scheduler, frameworkId } = await launchT1(cluster);
    const kill = futureMessage('KillTaskMessage', cluster.master.self, agent.self);
    driver.killTask({ value: 't1' });
    t.deepEqual((await kill).body, { framework_id: { value: frameworkId }, task_id: { value: 't1' } });
    driver.killTask({ value: 'ghost' });
    const [status] = await scheduler.next('statusUpdate');
    t.is(status.task_id.value, 'ghost');
    t.is(status.state, 'TASK_LOST');
  });

  test.serial(title('FrameworkMessage: scheduler to executor through the agent, and back'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const { driver, scheduler, frameworkId } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    const task: TaskInfo = {
      ...commandTask(offers[0]!, 't1'),
      command: undefined,
      executor: { executor_id: { value: 'e1' }, command: { value: 'my-executor' } },
    };
    delete task.command;
    driver.launchTasks(offers[0]!.id, [task]);
    await cluster.settle();
    const toExecutor = futureMessage('FrameworkToExecutorMessage', cluster.master.self, agent.self);
    driver.sendFrameworkMessage({ value: 'e1' }, { value: agent.agentId! }, 'hello executor');
    const body = (await toExecutor).body as { framework_id: { value: string }; executor_id: { value: string }; data: string };
    t.is(body.framework_id.value, frameworkId);
    t.is(body.executor_id.value, 'e1');
    t.is(Buffer.from(body.data, 'base64').toString(), 'hello executor');

    agent.messageToFramework(runFor(agent, 't1'), 'hello scheduler');
    const [executorId, agentId, data] = await scheduler.next('frameworkMessage');
    t.is(executorId.value, 'e1');
    t.is(agentId.value, agent.agentId!);
    t.is(data.toString(), 'hello scheduler');

    agent.executorExited(runFor(agent, 't1'), 137);
    const [lostExecutor, , status] = await scheduler.next('executorLost');
    t.is(lostExecutor.value, 'e1');
    t.is(status, 137);
  });

  test.serial(title('SuppressRevive: no offers while suppressed; revive offers at once and clears filters'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    await cluster.addAgent('cpus:2;mem:1024');
    const { driver, scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    driver.suppressOffers();
    driver.declineOffer(offers[0]!.id, { refuse_seconds: 3600 });
    await cluster.settle();
    cluster.clock.advance(60_000);
    await cluster.settle();
    t.is(scheduler.all('resourceOffers').length, 1);
    const again = scheduler.next('resourceOffers');
    driver.reviveOffers();
    await cluster.settle();
    await again;
    t.is(scheduler.all('resourceOffers').length, 2, 'offered again although the decline filter had an hour left');
  });

  test.serial(title('TaskValidation: invalid tasks are TASK_ERROR with REASON_TASK_INVALID; valid ones launch'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const { driver, scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    const offer = offers[0]!;
    const both: TaskInfo = { ...commandTask(offer, 'both'), executor: { executor_id: { value: 'e' }, command: { value: 'x' } } };
    driver.launchTasks(offer.id, [
      commandTask(offer, 'ok'),
      commandTask(offer, 'ok'),
      commandTask(offer, 'greedy', 'cpus:8;mem:64'),
      both,
      commandTask(offer, 'bad/id'),
      { ...commandTask(offer, 'unhealthy'), health_check: { type: 'HTTP', http: { port: 80, path: 'health' } } },
      { ...commandTask(offer, 'unchecked'), check: { type: 'TCP' } },
    ]);
    const errors = [];
    for (let i = 0; i < 6; i++) errors.push((await scheduler.next('statusUpdate'))[0]);
    t.true(errors.every((s) => s.state === 'TASK_ERROR' && s.reason === 'REASON_TASK_INVALID' && s.source === 'SOURCE_MASTER'));
    const byId = Object.fromEntries(errors.map((s) => [s.task_id.value, s.message]));
    t.is(byId.ok, 'Task has duplicate ID: ok');
    t.regex(byId.greedy!, /^Task uses more resources cpus:8;mem:64 than available /);
    t.is(byId.both, 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present');
    t.regex(byId['bad/id']!, /'\/' is disallowed/);
    t.is(byId.unhealthy, "Task's health check is invalid: The path 'health' of HTTP health check must start with '/'");
    t.is(byId.unchecked, "Task's check is invalid: Expecting 'tcp' to be set for TCP check");
    await cluster.settle();
    t.deepEqual(agent.runTasks.map((r) => r.task.task_id.value), ['ok']);
  });

  test.serial(title('InvalidOffers: launching on a used offer reports TASK_LOST, or TASK_DROPPED when partition-aware'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    await cluster.addAgent('cpus:2;mem:1024');
    await cluster.addAgent('cpus:2;mem:1024');
    for (const [aware, expected] of [[false, 'TASK_LOST'], [true, 'TASK_DROPPED']] as const) {
      const { driver, scheduler } = await cluster.startFramework(aware ? { capabilities: [{ type: 'PARTITION_AWARE' }] } : {});
      const [offers] = await scheduler.next('resourceOffers');
      const offer = offers[0]!;
      driver.declineOffer(offer.id, { refuse_seconds: 0 });
      driver.launchTasks(offer.id, [commandTask(offer, 'late')]);
      const [status] = await scheduler.next('statusUpdate');
      t.is(status.state, expected);
      t.is(status.reason, 'REASON_INVALID_OFFERS');
      t.regex(status.message!, /no longer valid/);
      await driver.stop();
      await cluster.settle();
    }
  });

  test.serial(title('TerminalUpdate: a finished task frees its resources when the master hears it, before the acknowledgement'), async (t) => {
    // Mesos `Master::updateTask`: "Once the task becomes terminal, we recover the resources";
    // the task stays listed until its update is acknowledged, and `removeTask` then returns
    // nothing a second time.
    const cluster = await startTestCluster(t, t.context.buses[kind], { http: { port: 0 } });
    const agent = await cluster.addAgent('cpus:1;mem:512');
    const { driver, scheduler, frameworkId } = await cluster.startFramework({}, { implicitAcknowledgements: false });
    const [offers] = await scheduler.next('resourceOffers');
    driver.launchTasks(offers[0]!.id, [commandTask(offers[0]!, 't1', 'cpus:1;mem:512')]);
    await cluster.settle();
    agent.update(runFor(agent, 't1'), 'TASK_FINISHED');
    const [status] = await scheduler.next('statusUpdate');
    t.is(status.state, 'TASK_FINISHED');
    cluster.clock.advance(ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    const all = scheduler.all('resourceOffers');
    t.is(all.length, 2, 'offered again while the update is unacknowledged');
    const again = all[1]![0][0]!;
    t.true(Resources.fromJSON(again.resources!).equals(Resources.parse('cpus:1;mem:512')));
    const framework = cluster.master.frameworks.get(frameworkId)!;
    t.is(framework.tasks.get('t1')?.state, 'TASK_FINISHED', 'listed until acknowledged');
    const state = (await http(cluster.runtime.httpAddress!.port, 'GET', '/master/frameworks')).json() as { frameworks: { used_resources: { cpus: number; mem: number } }[] };
    t.like(state.frameworks[0]!.used_resources, { cpus: 0, mem: 0 }, 'a terminal task uses nothing');

    const ack = futureMessage('StatusUpdateAcknowledgementMessage', cluster.master.self, agent.self);
    driver.acknowledgeStatusUpdate(status);
    await ack;
    await cluster.settle();
    t.false(framework.tasks.has('t1'), 'completed once acknowledged');
    // The acknowledgement returned nothing: a second return would have freed the resources
    // under the outstanding offer, and the allocator would have offered them twice.
    t.is(scheduler.all('resourceOffers').length, 2, 'no offer of resources already offered');
    const books = cluster.runtime.process<AllocatorProcess>('allocator')!.allocation.agent(agent.agentId!)!;
    t.true(books.allocated.equals(Resources.parse('cpus:1;mem:512')));
    t.true(books.available.isEmpty());
  });

  test.serial(title('TerminalUpdate: latest_state terminal on an earlier update frees the resources once; the state stays terminal'), async (t) => {
    // The agent sends TASK_RUNNING while the task has finished already (`latest_state`): the
    // master takes the task as terminal then (Mesos `updateTask`), and the TASK_FINISHED after
    // it neither returns the resources again nor changes the state.
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:1;mem:512');
    const { driver, scheduler, frameworkId } = await cluster.startFramework({}, { implicitAcknowledgements: false });
    const [offers] = await scheduler.next('resourceOffers');
    driver.launchTasks(offers[0]!.id, [commandTask(offers[0]!, 't1', 'cpus:1;mem:512')]);
    await cluster.settle();
    const run = runFor(agent, 't1');
    agent.update(run, 'TASK_RUNNING', {}, 'TASK_FINISHED');
    const [running] = await scheduler.next('statusUpdate');
    t.is(running.state, 'TASK_RUNNING');
    const task = cluster.master.frameworks.get(frameworkId)!.tasks.get('t1')!;
    t.is(task.state, 'TASK_FINISHED');
    cluster.clock.advance(ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    t.is(scheduler.all('resourceOffers').length, 2, 'offered again on the first update');

    driver.acknowledgeStatusUpdate(running);
    await cluster.settle();
    agent.update(run, 'TASK_RUNNING', {}, 'TASK_RUNNING');
    await scheduler.next('statusUpdate');
    t.is(task.state, 'TASK_FINISHED', 'a terminal task does not come back to life');
    agent.update(run, 'TASK_FINISHED', {}, 'TASK_FINISHED');
    const [finished] = await scheduler.next('statusUpdate');
    driver.acknowledgeStatusUpdate(finished);
    cluster.clock.advance(ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    t.is(scheduler.all('resourceOffers').length, 2, 'nothing returned twice, nothing offered twice');
    const books = cluster.runtime.process<AllocatorProcess>('allocator')!.allocation.agent(agent.agentId!)!;
    t.true(books.allocated.equals(Resources.parse('cpus:1;mem:512')));
  });

  test.serial(title('OfferTimeout: an unused offer is rescinded after offer_timeout and offered again'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind], { master: { offerTimeoutMs: 30_000 } });
    await cluster.addAgent('cpus:2;mem:1024');
    const { scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    cluster.clock.advance(29_000);
    await cluster.settle();
    t.is(scheduler.all('offerRescinded').length, 0);
    const rescinded = scheduler.next('offerRescinded');
    const reoffered = scheduler.next('resourceOffers');
    cluster.clock.advance(1_000 + ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    t.is((await rescinded)[0].value, offers[0]!.id.value);
    await reoffered;
  });

  test.serial(title('Teardown: stop() removes the framework and shuts it down on its agents'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, driver, frameworkId } = await launchT1(cluster, { failover_timeout: 3600 });
    const shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    t.is(await driver.stop(), 'DRIVER_STOPPED');
    await shutdown;
    await cluster.settle();
    t.false(cluster.master.frameworks.has(frameworkId));
    t.true(cluster.master.completedFrameworks.some((f) => f.id === frameworkId));
  });

  test.serial(title('RemovedAgentReregisters: a framework that is not partition-aware is shut down there; its lost task never comes back'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, scheduler, frameworkId, run, status } = await partitionT1(cluster);
    t.is(status.state, 'TASK_LOST');

    // The partition heals: the agent comes back with the task it still runs.
    const shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    agent.reregister([reportedTask(run, agent.agentId!, 'TASK_RUNNING')]);
    t.deepEqual((await shutdown).body, { framework_id: { value: frameworkId } });
    const ack = futureMessage('StatusUpdateAcknowledgementMessage', cluster.master.self, agent.self);
    const uuid = agent.update(run, 'TASK_KILLED');
    t.is(((await ack).body as { uuid: string }).uuid, uuid, 'the agent is answered, so it stops resending');
    await cluster.settle();
    t.deepEqual(scheduler.all('statusUpdate').map(([s]) => s.state), ['TASK_RUNNING', 'TASK_LOST'], 'one terminal state per task');
    t.true(cluster.master.agents.has(agent.agentId!));
  });

  test.serial(title('UnreachableTaskEnds: a partition-aware framework hears how a task it heard TASK_UNREACHABLE of ended while its agent was away'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind], { http: { port: 0 } });
    const { agent, scheduler, frameworkId, run, status } = await partitionT1(cluster, { capabilities: [{ type: 'PARTITION_AWARE' }] });
    t.is(status.state, 'TASK_UNREACHABLE');
    // Listed as unreachable (Mesos's `unreachable_tasks`), not completed: it may come back.
    const listed = async () => {
      const [view] = (await http(cluster.runtime.httpAddress!.port, 'GET', '/master/frameworks')).json().frameworks as { [k: string]: { id: string; state: string }[] }[];
      return { tasks: view!.tasks!.map((x) => x.state), unreachable: view!.unreachable_tasks!.map((x) => x.state), completed: view!.completed_tasks!.map((x) => x.state) };
    };
    t.deepEqual(await listed(), { tasks: [], unreachable: ['TASK_UNREACHABLE'], completed: [] });

    // The task finished during the partition; the agent comes back with it (terminal, its
    // update not acknowledged yet), then delivers that update.
    const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
    agent.reregister([reportedTask(run, agent.agentId!, 'TASK_FINISHED')]);
    await reregistered;
    // Acknowledged either way: by the framework, or by the master for a task it had ended.
    const ack = futureMessage('StatusUpdateAcknowledgementMessage', cluster.master.self, agent.self);
    agent.update(run, 'TASK_FINISHED');
    await ack;
    await cluster.settle();
    t.deepEqual(scheduler.all('statusUpdate').map(([s]) => s.state), ['TASK_RUNNING', 'TASK_UNREACHABLE', 'TASK_FINISHED']);
    t.false(cluster.master.frameworks.get(frameworkId)!.tasks.has('t1'), 'completed once acknowledged');
    t.deepEqual(await listed(), { tasks: [], unreachable: [], completed: ['TASK_FINISHED'] }, 'listed once');
  });

  test.serial(title('RemovedFrameworkOnReregisteringAgent: its tasks are not taken back, and the agent is told to shut it down'), async (t) => {
    // Found by the books property (test/master/books.test.ts): the framework is torn down, its
    // agent is removed, and comes back still reporting the framework's task. Taken back, the
    // task held its resources for good (the master drops updates of a removed framework).
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, driver, frameworkId } = await launchT1(cluster);
    const run = runFor(agent, 't1');
    await driver.stop();
    await cluster.settle();
    agent.answerPings = false;
    for (let i = 0; i <= MAX_AGENT_PING_TIMEOUTS; i++) {
      cluster.clock.advance(AGENT_PING_TIMEOUT_MS);
      await cluster.settle();
    }
    t.false(cluster.master.agents.has(agent.agentId!));
    agent.answerPings = true;

    const task = reportedTask(run, agent.agentId!, 'TASK_RUNNING');
    const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
    let shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    agent.reregister([task]);
    await reregistered;
    t.is(cluster.master.agents.get(agent.agentId!)!.tasks.size, 0, 'the removed framework has no task there');
    t.deepEqual((await shutdown).body, { framework_id: { value: frameworkId } });
    await cluster.settle();
    const { scheduler } = await cluster.startFramework();
    const [offers] = await scheduler.next('resourceOffers');
    t.true(Resources.fromJSON(offers[0]!.resources!).equals(Resources.parse('cpus:2;mem:1024')), 'the whole agent is free');

    // Known now, it re-registers again (say after a bus outage) with the task still there.
    shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    agent.reregister([task]);
    t.deepEqual((await shutdown).body, { framework_id: { value: frameworkId } });
  });

  test.serial(title('ReregisteredAgentMissingTask: the master asks the agent (ReconcileTasksMessage) rather than calling the task lost itself'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, scheduler, frameworkId } = await launchT1(cluster);
    const run = runFor(agent, 't1');

    // The agent re-registers without t1 (its RunTaskMessage may still be on the way).
    const reconcile = futureMessage(RECONCILE_TASKS, cluster.master.self, agent.self);
    agent.reregister([]);
    const body = (await reconcile).body as ReconcileTasks;
    t.is(body.framework_id.value, frameworkId);
    t.deepEqual(body.statuses.map((s) => [s.task_id.value, s.state, s.reason, s.source]), [['t1', 'TASK_STAGING', 'REASON_RECONCILIATION', 'SOURCE_MASTER']]);
    await cluster.settle();
    t.is(cluster.master.frameworks.get(frameworkId)!.tasks.get('t1')!.state, 'TASK_STAGING');
    t.deepEqual(scheduler.all('statusUpdate'), []);

    // It does not know t1: its TASK_LOST reaches the framework like any update.
    agent.update(run, 'TASK_LOST', { source: 'SOURCE_AGENT', reason: 'REASON_RECONCILIATION' });
    const [lost] = await scheduler.next('statusUpdate');
    t.deepEqual([lost.task_id.value, lost.state, lost.reason], ['t1', 'TASK_LOST', 'REASON_RECONCILIATION']);
    await cluster.settle();
    t.false(cluster.master.frameworks.get(frameworkId)!.tasks.has('t1'));
  });

  test.serial(title('LargeAllocation: offers of one cycle over many agents come in events of at most MAX_OFFERS_PER_EVENT'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agents = MAX_OFFERS_PER_EVENT + 20;
    const registered = futureMessages(agents, 'SlaveRegisteredMessage');
    const runtime = await cluster.world.add('many');
    for (let i = 0; i < agents; i++) runtime.spawn(new FakeAgent(`slave(${i + 1})`, cluster.master.self, 'cpus:1;mem:32', `h${i}`));
    await registered;
    await cluster.settle();
    // The framework's arrival triggers one allocation over every agent.
    const { scheduler } = await cluster.startFramework();
    await cluster.settle();
    const sizes = scheduler.all('resourceOffers').map(([offers]) => offers.length);
    t.deepEqual(sizes, [MAX_OFFERS_PER_EVENT, 20]);
  });
}

test.serial('local - MaxCompletedTasks: a framework keeps its last max_completed_tasks_per_framework ended tasks, in order', async (t) => {
  const cluster = await startTestCluster(t, t.context.buses.local, { master: { maxCompletedTasksPerFramework: 2 }, http: { port: 0 } });
  const agent = await cluster.addAgent('cpus:3;mem:1024');
  const { driver, scheduler, frameworkId } = await cluster.startFramework();
  const [offers] = await scheduler.next('resourceOffers');
  const ids = ['t1', 't2', 't3'];
  driver.launchTasks(offers[0]!.id, ids.map((id) => commandTask(offers[0]!, id)));
  await cluster.settle();
  for (const id of ids) {
    agent.update(runFor(agent, id), 'TASK_FINISHED');
    await scheduler.next('statusUpdate');
    await cluster.settle();
  }
  const framework = cluster.master.frameworks.get(frameworkId)!;
  t.is(framework.tasks.size, 0);
  t.deepEqual(framework.completedTasks.map((task) => task.task_id.value), ['t2', 't3'], 't1 was the oldest');
  const reply = await http(cluster.runtime.httpAddress!.port, 'GET', '/master/frameworks');
  const [view] = JSON.parse(reply.body).frameworks;
  t.deepEqual(view.completed_tasks.map((task: { id: string }) => task.id), ['t2', 't3'], 'the state endpoint shows them, oldest first');
});
