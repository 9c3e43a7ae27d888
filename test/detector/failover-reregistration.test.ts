import anyTest, { type TestFn } from 'ava';
import { stateJSON } from '../../actors/master/http.ts';
import { KILL_TASK, PING_SLAVE, PONG_SLAVE, REREGISTER_SLAVE, type ReregisterSlave, type Task } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { ExecutorInfo } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * After a master failover the new leader knows nothing: agents re-register with their tasks
 * (`ReregisterSlaveMessage`) and frameworks re-subscribe with their ids, in either order. Either
 * way the framework gets its running tasks and executors back (Mesos's `addFramework` takes them
 * from the registered agents; `reregisterAgent` gives them to a known framework), `/master/state`
 * lists them under it, and a KILL reaches the agent.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const AGENT_ID = 'old-leader-S1';
const FRAMEWORK_ID = 'old-leader-0001';
const EXECUTOR: ExecutorInfo = {
  executor_id: { value: 'long' },
  framework_id: { value: FRAMEWORK_ID },
  command: { value: 'sleep 600' },
  resources: Resources.parse('cpus:0.1;mem:32').toJSON(),
};

function running(taskId: string): Task {
  return {
    name: taskId,
    task_id: { value: taskId },
    framework_id: { value: FRAMEWORK_ID },
    agent_id: { value: AGENT_ID },
    executor_id: EXECUTOR.executor_id,
    state: 'TASK_RUNNING',
    resources: Resources.parse('cpus:1;mem:128').toJSON(),
    statuses: [{ task_id: { value: taskId }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR' }],
  };
}

/** An agent of the previous leader, re-registering with one running task. */
async function reregisterAgent(cluster: TestCluster): Promise<Probe> {
  const runtime = await cluster.world.add('agent-host');
  const agent = new Probe('slave(1)', [KILL_TASK], {
    [PING_SLAVE](this: Probe, from: UPID) {
      this.send(from, PONG_SLAVE, {});
    },
  });
  runtime.spawn(agent);
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
  agent.send(cluster.master.self, REREGISTER_SLAVE, {
    slave: { id: { value: AGENT_ID }, hostname: 'agent-host', resources: Resources.parse('cpus:2;mem:1024').toJSON() },
    tasks: [running('sleeper')],
    executor_infos: [EXECUTOR],
    frameworks: [{ user: 'test', name: 'failover', id: { value: FRAMEWORK_ID }, checkpoint: true }],
    version: 'test',
  } satisfies ReregisterSlave);
  await reregistered;
  await cluster.settle();
  return agent;
}

async function resubscribe(cluster: TestCluster) {
  return cluster.startFramework({ id: { value: FRAMEWORK_ID }, checkpoint: true, failover_timeout: 60 });
}

async function assertRebuilt(t: { is: (a: unknown, b: unknown, m?: string) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void }, cluster: TestCluster, agent: Probe, driver: Awaited<ReturnType<typeof resubscribe>>['driver']) {
  const m = cluster.master;
  const framework = m.frameworks.get(FRAMEWORK_ID)!;
  t.is(framework.tasks.get('sleeper')?.state, 'TASK_RUNNING', 'the framework has its task back');
  t.deepEqual([...(framework.executors.get(AGENT_ID)?.keys() ?? [])], ['long'], 'and its executor');
  const state = stateJSON(m) as unknown as { frameworks: { id: string; tasks: { id: string; state: string; slave_id: string }[] }[] };
  const listed = state.frameworks.find((f) => f.id === FRAMEWORK_ID);
  t.deepEqual(listed?.tasks.map((task) => [task.id, task.state, task.slave_id]), [['sleeper', 'TASK_RUNNING', AGENT_ID]]);
  // The framework may kill it: the master knows where it runs.
  const kill = futureMessage(KILL_TASK, m.self, agent.self);
  driver.killTask({ value: 'sleeper' });
  const event = await kill;
  t.deepEqual((event.body as { task_id: unknown }).task_id, { value: 'sleeper' });
}

test.serial('failover - an agent re-registers before its framework re-subscribes: the framework gets its running task and executor back', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await reregisterAgent(cluster);
  t.false(cluster.master.frameworks.has(FRAMEWORK_ID), 'not made up from the agent');
  const { driver, frameworkId } = await resubscribe(cluster);
  t.is(frameworkId, FRAMEWORK_ID);
  await assertRebuilt(t, cluster, agent, driver);
});

test.serial('failover - a framework re-subscribes before its agent re-registers: the agent gives it its running task and executor back', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const { driver, frameworkId } = await resubscribe(cluster);
  t.is(frameworkId, FRAMEWORK_ID);
  t.is(cluster.master.frameworks.get(FRAMEWORK_ID)?.tasks.size, 0);
  const agent = await reregisterAgent(cluster);
  await assertRebuilt(t, cluster, agent, driver);
});
