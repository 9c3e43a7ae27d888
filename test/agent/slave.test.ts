import test from 'ava';
import { EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS } from '../../actors/agent/constants.ts';
import { SUM_RECOVERED } from '../../actors/status-update-manager/protocol.ts';
import {
  EXECUTOR_TO_FRAMEWORK,
  KILL_TASK,
  PING_SLAVE,
  PONG_SLAVE,
  REGISTER_EXECUTOR,
  RUN_TASK,
  SHUTDOWN_EXECUTOR,
  SHUTDOWN_FRAMEWORK,
  SLAVE_REREGISTERED,
  STATUS_UPDATE,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  type ExecutorToFramework,
  type KillTask,
  type ShutdownExecutor,
  type StatusUpdateAcknowledgement,
  type StatusUpdateMessage,
} from '../../src/mesos/protocol.ts';
import { isTerminalState, type ExecutorInfo, type FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { dropMessage, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import {
  acknowledge,
  commandTask,
  customTask,
  executorUpdate,
  FRAMEWORK,
  FRAMEWORK_ID,
  nextUpdate,
  register,
  reregistration,
  runTask,
  scriptedCommandExecutor,
  spawnAgent,
  startAgent,
  stubbornExecutor,
  type Harness,
} from './harness.ts';

/**
 * The agent's handling of tasks, kills, status updates and pings where Apache Mesos's agent
 * (`src/slave/slave.cpp`) decides something specific; names follow `slave_tests.cpp` where a
 * test there covers the case.
 */

resetFiltersAfterEach(test);

const PARTITION_AWARE: FrameworkInfo = { ...FRAMEWORK, capabilities: [{ type: 'PARTITION_AWARE' }] };

/** An executor whose process never registers. */
function silentExecutor(id = 'silent'): ExecutorInfo {
  return { executor_id: { value: id }, command: { value: 'sleep 60' } };
}

/** Starts a registered agent whose command executors are scripted, and runs command task `taskId` on one. */
async function scriptedTask(t: Parameters<typeof startAgent>[0], taskId: string, framework: FrameworkInfo = FRAMEWORK): Promise<{ h: Harness; probe: Probe }> {
  const probes: Probe[] = [];
  const h = await startAgent(t, { commandExecutor: scriptedCommandExecutor(probes) });
  await register(h);
  runTask(h, commandTask(taskId, 'true'), framework);
  await h.settle();
  const probe = probes[0]!;
  if (probe.bodies(RUN_TASK).length !== 1) throw new Error('the scripted executor did not get its task');
  return { h, probe };
}

function acknowledged(probe: Probe): string[] {
  return probe.bodies(STATUS_UPDATE_ACKNOWLEDGEMENT).map((body) => (body as StatusUpdateAcknowledgement).uuid);
}

function kill(h: Harness, taskId: string): void {
  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: taskId } } satisfies KillTask);
}

// ---------------------------------------------------------------------------------------------
// Run.

test.serial('RunTask - a task meant for an old agent id is ignored', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, { ...commandTask('task-old', 'true'), agent_id: { value: 'old-agent-S7' } });
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.is(h.master.bodies(STATUS_UPDATE).length, 0);
});

test.serial('RunTask - a framework that ran here before leaves the completed frameworks and keeps its completed executors', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('task-1', 'true'));
  let update: StatusUpdateMessage;
  for (;;) {
    update = await nextUpdate(h);
    acknowledge(h, update);
    if (isTerminalState(update.update.status.state)) break;
  }
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.deepEqual(h.agent.completedFrameworks.map((f) => f.id), [FRAMEWORK_ID]);

  runTask(h, commandTask('task-2', 'true'));
  await h.settle();
  t.deepEqual(h.agent.completedFrameworks.map((f) => f.id), []);
  t.deepEqual(h.agent.frameworks.get(FRAMEWORK_ID)?.completedExecutors.map((e) => e.id), ['task-1']);
});

test.serial('RunTask - a task for an executor that is shutting down is TASK_DROPPED for a partition-aware framework', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', stubbornExecutor()), PARTITION_AWARE);
  await registering;
  await h.settle();
  h.master.send(h.agent.self, SHUTDOWN_EXECUTOR, { framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'stubborn' } } satisfies ShutdownExecutor);
  await h.settle();

  runTask(h, customTask('task-2', stubbornExecutor()), PARTITION_AWARE);
  const dropped = await nextUpdate(h);
  t.is(dropped.update.status.task_id.value, 'task-2');
  t.is(dropped.update.status.state, 'TASK_DROPPED');
  t.is(dropped.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
  t.is(dropped.update.status.message, 'Executor terminating');
  t.is(dropped.update.status.source, 'SOURCE_AGENT');
});

// ---------------------------------------------------------------------------------------------
// Kill.

test.serial('KillQueuedTask - a kill that arrives while the agent re-registers kills the task queued for its executor', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, customTask('task-1', silentExecutor()));
  await h.settle();
  h.agentRuntime.reconnected();
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');

  kill(h, 'task-1');
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)?.executors.get('silent');
  t.is(executor?.task('task-1')?.state, 'TASK_KILLED');

  // The master hears of it on re-registration, and from the update once it takes the agent back.
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_KILLED']]);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: body.slave.id });
  const killed = await nextUpdate(h);
  t.is(killed.update.status.state, 'TASK_KILLED');
  t.is(killed.update.status.reason, 'REASON_TASK_KILLED_DURING_LAUNCH');
});

test.serial('KillTask - a task the agent does not know is TASK_DROPPED for a partition-aware framework', async (t) => {
  const { h } = await scriptedTask(t, 'task-known', PARTITION_AWARE);
  kill(h, 'task-unknown');
  const dropped = await nextUpdate(h);
  t.is(dropped.update.status.task_id.value, 'task-unknown');
  t.is(dropped.update.status.state, 'TASK_DROPPED');
  t.is(dropped.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
  t.is(dropped.update.status.message, 'Cannot find executor');
});

test.serial('KillTask - a kill for a framework that is shutting down is ignored: no update', async (t) => {
  const { h, probe } = await scriptedTask(t, 'task-1');
  h.master.send(h.agent.self, SHUTDOWN_FRAMEWORK, { framework_id: { value: FRAMEWORK_ID } });
  await h.settle();
  t.is(probe.bodies(SHUTDOWN_EXECUTOR).length, 1);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)?.state, 'TERMINATING');

  kill(h, 'task-unknown');
  await h.settle();
  t.is(h.master.bodies(STATUS_UPDATE).length, 0);

  // The executor ignored the shutdown: it is killed after the grace period, still without updates.
  h.clock.advance(EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS);
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.is(h.master.bodies(STATUS_UPDATE).length, 0);
});

// ---------------------------------------------------------------------------------------------
// Status updates.

test.serial('StatusUpdate - an update for a task that already ended is dropped but acknowledged; the task keeps its terminal state', async (t) => {
  const { h, probe } = await scriptedTask(t, 'task-1');
  const finished = executorUpdate(probe, 'task-1', 'TASK_FINISHED', 1);
  probe.send(h.agent.self, STATUS_UPDATE, finished);
  t.is((await nextUpdate(h)).update.status.state, 'TASK_FINISHED');
  await h.settle();
  t.deepEqual(acknowledged(probe), [finished.update.uuid]);

  // Not acknowledged by the framework yet: the task is terminated, not completed.
  const late = executorUpdate(probe, 'task-1', 'TASK_RUNNING', 2);
  probe.send(h.agent.self, STATUS_UPDATE, late);
  await h.settle();
  t.deepEqual(acknowledged(probe), [finished.update.uuid, late.update.uuid]);
  const task = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-1')!.task('task-1')!;
  t.is(task.state, 'TASK_FINISHED');
  t.deepEqual(task.statuses.map((s) => s.state), ['TASK_FINISHED']);
  t.is(h.master.bodies(STATUS_UPDATE).length, 1);

  // A resent copy of the terminal update is acknowledged again, by way of the manager.
  probe.send(h.agent.self, STATUS_UPDATE, finished);
  await h.settle();
  t.deepEqual(acknowledged(probe), [finished.update.uuid, late.update.uuid, finished.update.uuid]);
  t.is(h.master.bodies(STATUS_UPDATE).length, 1);
});

test.serial("StatusUpdate - a repeated state replaces the task's last status", async (t) => {
  const { h, probe } = await scriptedTask(t, 'task-1');
  probe.send(h.agent.self, STATUS_UPDATE, executorUpdate(probe, 'task-1', 'TASK_RUNNING', 1));
  probe.send(h.agent.self, STATUS_UPDATE, executorUpdate(probe, 'task-1', 'TASK_RUNNING', 2));
  await h.settle();
  const task = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-1')!.task('task-1')!;
  t.deepEqual(task.statuses.map((s) => [s.state, s.uuid]), [['TASK_RUNNING', Buffer.alloc(16, 2).toString('base64')]]);
  t.is(acknowledged(probe).length, 2);
});

// ---------------------------------------------------------------------------------------------
// Framework messages.

test.serial('ExecutorMessage - a message from an executor of a framework that is shutting down is dropped', async (t) => {
  const { h, probe } = await scriptedTask(t, 'task-1');
  const message = (text: string): ExecutorToFramework => ({
    slave_id: h.agent.info.id!,
    framework_id: { value: FRAMEWORK_ID },
    executor_id: { value: 'task-1' },
    data: Buffer.from(text).toString('base64'),
  });
  probe.send(h.agent.self, EXECUTOR_TO_FRAMEWORK, message('before'));
  await h.settle();
  t.is(h.master.bodies(EXECUTOR_TO_FRAMEWORK).length, 1);

  h.master.send(h.agent.self, SHUTDOWN_FRAMEWORK, { framework_id: { value: FRAMEWORK_ID } });
  await h.settle();
  probe.send(h.agent.self, EXECUTOR_TO_FRAMEWORK, message('during the shutdown'));
  await h.settle();
  t.is(h.master.bodies(EXECUTOR_TO_FRAMEWORK).length, 1);
});

// ---------------------------------------------------------------------------------------------
// Pings.

test.serial('PingPong - a recovering agent answers the pings of its master', async (t) => {
  const h = await startAgent(t);
  await register(h);
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();

  // The restarted agent finds its id and waits for its status update manager: it stays recovering.
  const recovering = dropMessage(SUM_RECOVERED);
  h.agent = spawnAgent(h);
  await recovering;
  await h.settle();
  t.is(h.agent.state, 'RECOVERING');

  const pong = futureMessage(PONG_SLAVE, h.agent.self, h.master.self);
  let answered = false;
  void pong.then(() => (answered = true));
  h.master.send(h.agent.self, PING_SLAVE, { connected: true });
  await h.settle();
  t.true(answered);
  t.is(h.agent.state, 'RECOVERING');
});
