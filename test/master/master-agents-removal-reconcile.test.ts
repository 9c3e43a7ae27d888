import anyTest, { type TestFn } from 'ava';
import { stateJSON } from '../../actors/master/http.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { UNREGISTER_SLAVE } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo, Offer, TaskInfo } from '../../src/mesos/v1/common.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { partitionAgent, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { useBuses, type BusesContext } from '../helpers/worlds.ts';
import { reportedTask, type FakeAgent } from '../helpers/fake-agent.ts';

/**
 * An agent removed for good (it unregistered: Mesos's `removeSlave`) is not an unreachable one
 * (it failed its health checks: Mesos's `markUnreachable`): its tasks are lost for every
 * framework, reconciliation does not call its tasks unreachable, and a framework that heard
 * TASK_LOST there does not get its task back if the agent re-registers.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);

useBuses(test);

const PARTITION_AWARE: Partial<FrameworkInfo> = { capabilities: [{ type: 'PARTITION_AWARE' }] };

function commandTask(offer: Offer, id: string): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse('cpus:1;mem:128').toJSON(), command: { value: 'sleep 1000' } };
}

/** An agent, a framework, and task t1 launched on it and RUNNING. */
async function runningT1(cluster: TestCluster, framework: Partial<FrameworkInfo>) {
  const agent = await cluster.addAgent('cpus:2;mem:1024');
  const { driver, scheduler, frameworkId } = await cluster.startFramework(framework);
  const [offers] = await scheduler.next('resourceOffers');
  driver.launchTasks(offers[0]!.id, [commandTask(offers[0]!, 't1')]);
  await cluster.settle();
  const run = agent.runTasks.find((r) => r.task.task_id.value === 't1')!;
  agent.update(run, 'TASK_RUNNING');
  await scheduler.next('statusUpdate');
  return { agent, driver, scheduler, frameworkId, run };
}

/** The agent shuts down for good: `UnregisterSlaveMessage`. */
async function unregister(cluster: TestCluster, agent: FakeAgent): Promise<void> {
  agent.send(cluster.master.self, UNREGISTER_SLAVE, { slave_id: { value: agent.agentId! } });
  await cluster.settle();
}

for (const kind of ['local', 'nats'] as const) {
  const title = (name: string) => `${kind} - ${name}`;

  test.serial(title('RemovedAgent: a partition-aware framework hears TASK_LOST (REASON_AGENT_REMOVED) for the tasks of an agent that unregistered; they end there'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, scheduler, frameworkId } = await runningT1(cluster, PARTITION_AWARE);
    const lost = scheduler.next('slaveLost');
    await unregister(cluster, agent);
    const [status] = await scheduler.next('statusUpdate');
    t.is((await lost)[0].value, agent.agentId!);
    t.is(status.task_id.value, 't1');
    t.is(status.state, 'TASK_LOST', 'Mesos `_removeSlave`: TASK_LOST for every framework');
    t.is(status.reason, 'REASON_AGENT_REMOVED');
    t.is(status.unreachable_time, undefined);
    const framework = cluster.master.frameworks.get(frameworkId)!;
    t.is(framework.unreachableTasks.size, 0, 'not kept as an unreachable task');
    t.deepEqual([...framework.completedTasks].map((x) => `${x.task_id.value}:${x.state}`), ['t1:TASK_LOST']);
    t.true(cluster.master.removedAgents.has(agent.agentId!));
    t.false(cluster.master.unreachableAgents.has(agent.agentId!));
    t.is(stateJSON(cluster.master).unreachable_slaves, 0, '/master/state counts it removed, not unreachable');
  });

  test.serial(title('ReconciliationTest.UnknownTaskOnRemovedAgent: TASK_UNKNOWN (partition-aware) or TASK_LOST for a task on an agent that unregistered, not TASK_UNREACHABLE'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:1;mem:128');
    const aware = await cluster.startFramework(PARTITION_AWARE);
    const plain = await cluster.startFramework();
    await unregister(cluster, agent);
    const target = [{ task_id: { value: 'x' }, agent_id: { value: agent.agentId! } }];
    aware.driver.reconcileTasks(target);
    plain.driver.reconcileTasks(target);
    const [a] = await aware.scheduler.next('statusUpdate');
    const [p] = await plain.scheduler.next('statusUpdate');
    t.is(a.state, 'TASK_UNKNOWN', 'Mesos `reconcile` case (6): the agent is neither registered, unreachable nor gone');
    t.is(a.reason, 'REASON_RECONCILIATION');
    t.is(a.unreachable_time, undefined);
    t.is(p.state, 'TASK_LOST');
  });

  test.serial(title('ReconciliationTest.UnknownTaskOnUnreachableAgent: TASK_UNREACHABLE with the unreachable_time (partition-aware) or TASK_LOST'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:1;mem:128');
    const aware = await cluster.startFramework(PARTITION_AWARE);
    const plain = await cluster.startFramework();
    const lost = aware.scheduler.next('slaveLost');
    await partitionAgent(cluster, agent);
    await lost;
    const markedAt = cluster.master.unreachableAgents.get(agent.agentId!);
    t.not(markedAt, undefined);
    t.is(stateJSON(cluster.master).unreachable_slaves, 1);
    cluster.clock.advance(1_000);
    const target = [{ task_id: { value: 'x' }, agent_id: { value: agent.agentId! } }];
    aware.driver.reconcileTasks(target);
    plain.driver.reconcileTasks(target);
    const [a] = await aware.scheduler.next('statusUpdate');
    const [p] = await plain.scheduler.next('statusUpdate');
    t.is(a.state, 'TASK_UNREACHABLE');
    t.deepEqual(a.unreachable_time, { nanoseconds: markedAt! * 1e6 }, 'when the agent was marked unreachable, not now');
    t.is(p.state, 'TASK_LOST');
  });

  test.serial(title('RemovedAgentReregisters: a partition-aware framework that heard TASK_LOST when the agent unregistered is shut down there; its task never comes back'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, scheduler, frameworkId, run } = await runningT1(cluster, PARTITION_AWARE);
    await unregister(cluster, agent);
    t.is((await scheduler.next('statusUpdate'))[0].state, 'TASK_LOST');

    // The agent did not shut down after all, and comes back with the task it still runs.
    const shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    agent.reregister([reportedTask(run, agent.agentId!, 'TASK_RUNNING')]);
    t.deepEqual((await shutdown).body, { framework_id: { value: frameworkId } });
    const ack = futureMessage('StatusUpdateAcknowledgementMessage', cluster.master.self, agent.self);
    const uuid = agent.update(run, 'TASK_KILLED');
    t.is(((await ack).body as { uuid: string }).uuid, uuid, 'the agent is answered, so it stops resending');
    await cluster.settle();
    t.deepEqual(scheduler.all('statusUpdate').map(([s]) => s.state), ['TASK_RUNNING', 'TASK_LOST'], 'one terminal state per task');
    const framework = cluster.master.frameworks.get(frameworkId)!;
    t.false(framework.tasks.has('t1'));
    t.true(cluster.master.agents.has(agent.agentId!), 'the agent itself is admitted again');
    t.false(cluster.master.removedAgents.has(agent.agentId!));
  });

  test.serial(title('PartitionTest.ReregisterSlavePartitionAware: an unreachable agent that re-registers gives a partition-aware framework its task back'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const { agent, scheduler, frameworkId, run } = await runningT1(cluster, PARTITION_AWARE);
    await partitionAgent(cluster, agent);
    const [status] = await scheduler.next('statusUpdate');
    t.is(status.state, 'TASK_UNREACHABLE');
    t.is(status.reason, 'REASON_AGENT_REMOVED', 'Mesos `__removeSlave` keeps REASON_SLAVE_REMOVED for unreachable agents too');
    t.deepEqual(status.unreachable_time, { nanoseconds: cluster.master.unreachableAgents.get(agent.agentId!)! * 1e6 });

    const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
    agent.reregister([reportedTask(run, agent.agentId!, 'TASK_RUNNING')]);
    await reregistered;
    await cluster.settle();
    t.false(agent.received.some((r) => r.name === 'ShutdownFrameworkMessage'));
    t.true(cluster.master.frameworks.get(frameworkId)!.tasks.has('t1'));
    t.false(cluster.master.unreachableAgents.has(agent.agentId!));
  });
}
