import anyTest, { type TestFn } from 'ava';
import { PING_SLAVE, PONG_SLAVE, REREGISTER_SLAVE, SHUTDOWN_FRAMEWORK, type ReregisterSlave, type Task } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { UPID } from '../../src/process/upid.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * `ReregisterSlaveMessage.completed_frameworks`, as Mesos's master reads it when it admits an
 * agent it does not know (after a failover: `__reregisterSlave` then `addSlave`): the completed
 * tasks of a framework it knows go back among that framework's completed tasks; a framework it
 * does not know is not made up from the report ("Possibly orphaned completed task").
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const AGENT_ID = 'previous-master-S7';

function finished(taskId: string, frameworkId: string): Task {
  return {
    name: taskId,
    task_id: { value: taskId },
    framework_id: { value: frameworkId },
    agent_id: { value: AGENT_ID },
    state: 'TASK_FINISHED',
    resources: Resources.parse('cpus:1;mem:32').toJSON(),
    statuses: [{ task_id: { value: taskId }, state: 'TASK_FINISHED', source: 'SOURCE_EXECUTOR' }],
  };
}

test.serial('MasterTest - an agent re-registering after a master failover reports its completed frameworks: a known framework gets its completed tasks back, an unknown one is not made up', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const { frameworkId } = await cluster.startFramework();
  await cluster.settle();

  // An agent of the previous master (this one never admitted it) comes back.
  const runtime = await cluster.world.add('agent-host');
  const agent = new Probe('slave(1)', [SHUTDOWN_FRAMEWORK], {
    [PING_SLAVE](this: Probe, from: UPID) {
      this.send(from, PONG_SLAVE, {});
    },
  });
  const upid = runtime.spawn(agent);
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, upid);
  agent.send(cluster.master.self, REREGISTER_SLAVE, {
    slave: { id: { value: AGENT_ID }, hostname: 'agent-host', resources: Resources.parse('cpus:2;mem:1024').toJSON() },
    tasks: [],
    frameworks: [],
    completed_frameworks: [
      { framework_info: { user: 'test', name: 'known', id: { value: frameworkId } }, tasks: [finished('done-1', frameworkId), finished('done-2', frameworkId)] },
      { framework_info: { user: 'test', name: 'gone', id: { value: 'never-subscribed' } }, tasks: [finished('other-1', 'never-subscribed')] },
    ],
    version: 'test',
  } satisfies ReregisterSlave);
  await reregistered;
  await cluster.settle();

  const m = cluster.master;
  t.true(m.agents.has(AGENT_ID), 'the agent is admitted');
  const completed = m.frameworks.get(frameworkId)!.completedTasks.map((task) => [task.task_id.value, task.state, task.agent_id.value]);
  t.deepEqual(completed, [
    ['done-1', 'TASK_FINISHED', AGENT_ID],
    ['done-2', 'TASK_FINISHED', AGENT_ID],
  ]);
  t.false(m.frameworks.has('never-subscribed'), 'an unknown framework is not resurrected as an active one');
  t.false(m.isCompletedFramework('never-subscribed'), 'nor listed among the completed frameworks');
  t.deepEqual(agent.bodies(SHUTDOWN_FRAMEWORK), [], 'nothing is shut down');

  // The same agent re-registers again with the same report: the master knows it now and keeps
  // its own books (Mesos's `___reregisterSlave` does not read `completed_frameworks`).
  const again = futureMessage('SlaveReregisteredMessage', cluster.master.self, upid);
  agent.send(cluster.master.self, REREGISTER_SLAVE, {
    slave: { id: { value: AGENT_ID }, hostname: 'agent-host', resources: Resources.parse('cpus:2;mem:1024').toJSON() },
    tasks: [],
    completed_frameworks: [{ framework_info: { user: 'test', name: 'known', id: { value: frameworkId } }, tasks: [finished('done-3', frameworkId)] }],
    version: 'test',
  } satisfies ReregisterSlave);
  await again;
  await cluster.settle();
  t.deepEqual(
    m.frameworks.get(frameworkId)!.completedTasks.map((task) => task.task_id.value),
    ['done-1', 'done-2'],
  );
});
