import test from 'ava';
import {
  REREGISTER_REQUEST,
  RUN_TASK,
  SHUTDOWN_EXECUTOR,
  SHUTDOWN_FRAMEWORK,
  SLAVE_REREGISTERED,
  STATUS_UPDATE,
  type ShutdownExecutor,
} from '../../src/mesos/protocol.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import {
  acknowledge,
  AGENT_ID,
  commandTask,
  executorUpdate,
  FRAMEWORK,
  FRAMEWORK_ID,
  nextUpdate,
  register,
  reregistration,
  runTask,
  scriptedCommandExecutor,
  startAgent,
  type Harness,
} from './harness.ts';

/**
 * Where our agent followed Apache Mesos's (`src/slave/slave.cpp`) less closely: what it reports
 * of completed frameworks when it re-registers (`doReliableRegistration`), an executor's
 * TASK_STAGING (`statusUpdate`), and the master's shutdowns before the agent has re-registered
 * (`shutdownFramework`, `shutdownExecutor`).
 */

resetFiltersAfterEach(test);

/** A registered agent whose command executors are scripted, running command task `taskId`. */
async function scriptedTask(t: Parameters<typeof startAgent>[0], taskId: string): Promise<{ h: Harness; probe: Probe }> {
  const probes: Probe[] = [];
  const h = await startAgent(t, { commandExecutor: scriptedCommandExecutor(probes) });
  await register(h);
  runTask(h, commandTask(taskId, 'true'));
  await h.settle();
  const probe = probes[0]!;
  if (probe.bodies(RUN_TASK).length !== 1) throw new Error('the scripted executor did not get its task');
  return { h, probe };
}

test.serial('SlaveTest - re-registration reports the completed frameworks with the tasks that ended there (ReregisterSlaveMessage.completed_frameworks)', async (t) => {
  const { h, probe } = await scriptedTask(t, 'task-1');
  probe.send(h.agent.self, STATUS_UPDATE, executorUpdate(probe, 'task-1', 'TASK_FINISHED', 1));
  const finished = await nextUpdate(h);
  t.is(finished.update.status.state, 'TASK_FINISHED');
  acknowledge(h, finished);
  await h.settle();
  // The command executor goes; with it its framework, which the agent now counts completed.
  h.agentRuntime.terminate(probe.self);
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.is(h.agent.completedFrameworks.length, 1);

  h.master.send(h.agent.self, REREGISTER_REQUEST, {});
  const body = await reregistration(h);
  t.deepEqual(body.frameworks, []);
  t.deepEqual(body.tasks, []);
  const completed = body.completed_frameworks ?? [];
  t.deepEqual(
    completed.map((f) => f.framework_info.id?.value),
    [FRAMEWORK_ID],
  );
  t.deepEqual(completed[0]!.framework_info.name, FRAMEWORK.name);
  t.deepEqual(
    completed[0]!.tasks?.map((task) => [task.task_id.value, task.state, task.framework_id.value, task.agent_id.value]),
    [['task-1', 'TASK_FINISHED', FRAMEWORK_ID, AGENT_ID]],
  );
});

test.serial('SlaveTest - an executor that sends TASK_STAGING is shut down, and its update goes nowhere', async (t) => {
  const { h, probe } = await scriptedTask(t, 'task-1');
  probe.send(h.agent.self, STATUS_UPDATE, executorUpdate(probe, 'task-1', 'TASK_STAGING', 1));
  await h.settle();
  t.deepEqual(probe.bodies(SHUTDOWN_EXECUTOR), [{ framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'task-1' } } satisfies ShutdownExecutor]);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-1')!.state, 'TERMINATING');
  t.deepEqual(h.master.bodies(STATUS_UPDATE), [], 'the update is not forwarded');
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executorOfTask('task-1')!.task('task-1')!.state, 'TASK_STAGING');
});

test.serial('SlaveTest - shutdowns of a framework or an executor that arrive before the agent has re-registered are ignored', async (t) => {
  const { h, probe } = await scriptedTask(t, 'task-1');
  // The bus connection to the master broke and came back: the agent re-registers.
  h.agentRuntime.reconnected();
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');

  h.master.send(h.agent.self, SHUTDOWN_EXECUTOR, { framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'task-1' } } satisfies ShutdownExecutor);
  h.master.send(h.agent.self, SHUTDOWN_FRAMEWORK, { framework_id: { value: FRAMEWORK_ID } });
  await h.settle();
  t.deepEqual(probe.bodies(SHUTDOWN_EXECUTOR), [], 'not while re-registering');
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.state, 'RUNNING');
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-1')!.state, 'RUNNING');

  // Re-registered, the agent takes the master's shutdown.
  await reregistration(h);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  await h.settle();
  t.is(h.agent.state, 'RUNNING');
  h.master.send(h.agent.self, SHUTDOWN_FRAMEWORK, { framework_id: { value: FRAMEWORK_ID } });
  await h.settle();
  t.is(probe.bodies(SHUTDOWN_EXECUTOR).length, 1);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.state, 'TERMINATING');
});

test.serial('RecoveryTimeout - the agent\'s --recovery_timeout reaches its executors (the built-in one\'s driver and MESOS_RECOVERY_TIMEOUT)', async (t) => {
  const probes: Probe[] = [];
  const scripted = scriptedCommandExecutor(probes);
  const seen: { recoveryTimeoutMs?: number | undefined; env?: string | undefined }[] = [];
  const h = await startAgent(t, {
    recoveryTimeoutMs: 7_000,
    commandExecutor: (options) => {
      seen.push({ recoveryTimeoutMs: options.recoveryTimeoutMs, env: options.env?.MESOS_RECOVERY_TIMEOUT });
      return scripted(options);
    },
  });
  await register(h);
  runTask(h, commandTask('task-1', 'sleep 60'));
  await h.settle();
  t.deepEqual(seen, [{ recoveryTimeoutMs: 7_000, env: '7secs' }]);
});
