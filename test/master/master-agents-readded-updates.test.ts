import anyTest, { type TestFn } from 'ava';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { partitionAgent, runningTask, startTestCluster } from '../helpers/cluster.ts';
import { useBuses, type BusesContext } from '../helpers/worlds.ts';
import { reportedTask } from '../helpers/fake-agent.ts';

/**
 * An agent the master marked unreachable re-registers with the tasks it still runs: as Mesos
 * 1.5+ `__reregisterSlave`, each framework whose task is taken back hears it at once, with the
 * task's state, from the master, REASON_AGENT_REREGISTERED (no uuid: nothing to acknowledge),
 * rather than only when it reconciles.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);

useBuses(test);

const PARTITION_AWARE: Partial<FrameworkInfo> = { capabilities: [{ type: 'PARTITION_AWARE' }] };


for (const kind of ['local', 'nats'] as const) {
  const title = (name: string) => `${kind} - ${name}`;

  test.serial(title('PartitionTest.ReregisterSlavePartitionAware: a partition-aware framework hears TASK_RUNNING (REASON_AGENT_REREGISTERED) when the unreachable agent comes back'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const { scheduler, frameworkId, run } = await runningTask(cluster, agent, PARTITION_AWARE, 't1');
    await partitionAgent(cluster, agent);
    t.is((await scheduler.next('statusUpdate'))[0].state, 'TASK_UNREACHABLE');

    const acks = () => agent.received.filter((r) => r.name === 'StatusUpdateAcknowledgementMessage').length;
    const acked = acks();
    const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
    agent.reregister([reportedTask(run, agent.agentId!, 'TASK_RUNNING')]);
    await reregistered;
    const [status] = await scheduler.next('statusUpdate');
    t.is(status.state, 'TASK_RUNNING');
    t.is(status.reason, 'REASON_AGENT_REREGISTERED');
    t.is(status.source, 'SOURCE_MASTER');
    t.is(status.message, 'Unreachable agent reregistered');
    t.deepEqual(status.task_id, { value: 't1' });
    t.deepEqual(status.agent_id, { value: agent.agentId! });
    t.is(status.uuid, undefined, 'made up by the master: nothing to acknowledge');

    await cluster.settle();
    t.deepEqual(scheduler.all('statusUpdate').map(([s]) => s.state), ['TASK_RUNNING', 'TASK_UNREACHABLE', 'TASK_RUNNING'], 'once');
    t.is(acks(), acked, 'no acknowledgement reaches the agent');
    const framework = cluster.master.frameworks.get(frameworkId)!;
    t.is(framework.tasks.get('t1')?.state, 'TASK_RUNNING');
    t.false(framework.unreachableTasks.has('t1'));
  });

  test.serial(title('PartitionTest.ReregisterSlaveNotPartitionAware: a framework that is not partition-aware is shut down on the agent and hears no TASK_RUNNING for the task it heard TASK_LOST of'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const aware = await runningTask(cluster, agent, PARTITION_AWARE, 'aware');
    const plain = await runningTask(cluster, agent, {}, 'plain');
    await partitionAgent(cluster, agent);
    t.is((await aware.scheduler.next('statusUpdate'))[0].state, 'TASK_UNREACHABLE');
    t.is((await plain.scheduler.next('statusUpdate'))[0].state, 'TASK_LOST');

    const shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    agent.reregister([reportedTask(aware.run, agent.agentId!, 'TASK_RUNNING'), reportedTask(plain.run, agent.agentId!, 'TASK_RUNNING')]);
    t.deepEqual((await shutdown).body, { framework_id: { value: plain.frameworkId } });
    const [status] = await aware.scheduler.next('statusUpdate');
    t.is(status.state, 'TASK_RUNNING');
    t.is(status.reason, 'REASON_AGENT_REREGISTERED');
    t.deepEqual(status.task_id, { value: 'aware' });

    await cluster.settle();
    t.deepEqual(plain.scheduler.all('statusUpdate').map(([s]) => s.state), ['TASK_RUNNING', 'TASK_LOST'], 'its lost task does not come back');
    t.false(cluster.master.frameworks.get(plain.frameworkId)!.tasks.has('plain'));
    t.is(cluster.master.frameworks.get(aware.frameworkId)!.tasks.get('aware')?.state, 'TASK_RUNNING');
  });

  test.serial(title('ReregisteredTerminalTask: a task the unreachable agent reports ended gets no master update; the agent delivers its terminal update once'), async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const { scheduler, run } = await runningTask(cluster, agent, PARTITION_AWARE, 't1');
    await partitionAgent(cluster, agent);
    t.is((await scheduler.next('statusUpdate'))[0].state, 'TASK_UNREACHABLE');

    const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
    agent.reregister([reportedTask(run, agent.agentId!, 'TASK_FINISHED')]);
    await reregistered;
    await cluster.settle();
    t.is(scheduler.all('statusUpdate').length, 2, 'nothing from the master');
    agent.update(run, 'TASK_FINISHED');
    const [status] = await scheduler.next('statusUpdate');
    t.is(status.state, 'TASK_FINISHED');
    t.is(status.source, 'SOURCE_EXECUTOR');
  });
}
