import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { sandboxDir } from '../../actors/agent/checkpoint.ts';
import { state } from '../../actors/agent/http.ts';
import { KILL_TASK, RECONCILE_TASKS, STATUS_UPDATE_ACKNOWLEDGEMENT, type KillTask, type ReconcileTasks, type StatusUpdateMessage } from '../../src/mesos/protocol.ts';
import { isTerminalState } from '../../src/mesos/v1/common.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { acknowledge, AGENT_ID, commandTask, FRAMEWORK, FRAMEWORK_ID, nextUpdate, register, reregistration, runTask, startAgent, type Harness } from './harness.ts';

resetFiltersAfterEach(test);

/** Acknowledges every update the master gets until (not including) the terminal one, which it returns. */
async function untilTerminal(h: Harness, states: string[]): Promise<StatusUpdateMessage> {
  for (;;) {
    const message = await nextUpdate(h);
    states.push(message.update.status.state);
    if (isTerminalState(message.update.status.state)) return message;
    acknowledge(h, message);
  }
}

test.serial('CommandTask - runs through the command executor: STARTING, RUNNING, FINISHED; stdout in the sandbox; resources freed when it ends, the task completed on the acknowledgement', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const task = commandTask('task-1', 'echo hello from the sandbox');
  runTask(h, task);

  const states: string[] = [];
  const finished = await untilTerminal(h, states);
  t.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  const { update, pid } = finished;
  t.is(pid, String(h.agent.self));
  t.is(update.agent_id?.value, AGENT_ID);
  t.is(update.framework_id.value, FRAMEWORK_ID);
  t.is(update.executor_id?.value, 'task-1');
  t.is(update.status.source, 'SOURCE_EXECUTOR');
  t.is(update.status.message, 'Command exited with status 0');

  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-1')!;
  const sandbox = sandboxDir(h.workDir, AGENT_ID, FRAMEWORK_ID, 'task-1', executor.containerId);
  t.is(executor.directory, sandbox);
  t.is(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'hello from the sandbox\n');
  t.is(readFileSync(join(h.workDir, 'slaves', AGENT_ID, 'frameworks', FRAMEWORK_ID, 'executors', 'task-1', 'runs', 'latest', 'stdout'), 'utf8'), 'hello from the sandbox\n');

  // Terminal but unacknowledged: the task holds nothing (Mesos's `Executor::terminateTask`; the
  // command executor has no resources of its own) and /state lists it among the executor's
  // completed tasks, as Mesos's `ExecutorWriter` adds `terminatedTasks` there.
  await h.settle();
  t.true(h.agent.usedResources().isEmpty());
  const json = state(h.agent) as { frameworks: { executors: { tasks: unknown[]; completed_tasks: { id: string; state: string }[] }[] }[] };
  t.deepEqual(json.frameworks[0]!.executors[0]!.tasks, []);
  t.deepEqual(json.frameworks[0]!.executors[0]!.completed_tasks.map((x) => [x.id, x.state]), [['task-1', 'TASK_FINISHED']]);

  acknowledge(h, finished);
  await h.settle();
  t.true(h.agent.usedResources().isEmpty());
  t.is(h.agent.frameworks.size, 0);
  const done = state(h.agent) as { completed_frameworks: { id: string; completed_executors: { completed_tasks: { state: string }[] }[] }[] };
  t.is(done.completed_frameworks[0]!.id, FRAMEWORK_ID);
  t.is(done.completed_frameworks[0]!.completed_executors[0]!.completed_tasks[0]!.state, 'TASK_FINISHED');
});

test.serial('CommandTask - a command that exits non-zero is TASK_FAILED', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('task-fail', 'echo oops >&2; exit 3'));
  const states: string[] = [];
  const failed = await untilTerminal(h, states);
  t.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  t.is(failed.update.status.message, 'Command exited with status 3');
  t.is(failed.update.status.reason, 'REASON_COMMAND_EXECUTOR_FAILED');
  acknowledge(h, failed);
  await h.settle();
  t.true(h.agent.usedResources().isEmpty());
});

test.serial('CommandTask - the executor is acknowledged once the status update manager has the update', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const ack = futureMessage(STATUS_UPDATE_ACKNOWLEDGEMENT, h.agent.self);
  runTask(h, commandTask('task-ack', 'true'));
  const first = await nextUpdate(h);
  const acked = (await ack).body as { uuid: string; task_id: { value: string } };
  t.is(acked.task_id.value, 'task-ack');
  t.is(acked.uuid, first.update.uuid!);
});

test.serial('KillTask - a running command task is killed: TASK_KILLING (the framework has TASK_KILLING_STATE), then TASK_KILLED', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('task-sleep', 'sleep 60'), { ...FRAMEWORK, capabilities: [{ type: 'TASK_KILLING_STATE' }] });
  const starting = await nextUpdate(h);
  acknowledge(h, starting);
  const running = await nextUpdate(h);
  t.is(running.update.status.state, 'TASK_RUNNING');
  acknowledge(h, running);

  const kill = futureMessage(KILL_TASK, h.agent.self);
  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: 'task-sleep' } } satisfies KillTask);
  await kill;
  const states: string[] = [];
  const killed = await untilTerminal(h, states);
  t.deepEqual(states, ['TASK_KILLING', 'TASK_KILLED']);
  t.is(killed.update.status.message, 'Command terminated with signal Terminated');
  acknowledge(h, killed);
  await h.settle();
  t.true(h.agent.usedResources().isEmpty());
});

test.serial('KillTask - a framework without TASK_KILLING_STATE hears TASK_KILLED only, as from Mesos\'s command executor', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('task-sleep', 'sleep 60'));
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  const running = await nextUpdate(h);
  t.is(running.update.status.state, 'TASK_RUNNING');
  acknowledge(h, running);

  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: 'task-sleep' } } satisfies KillTask);
  const states: string[] = [];
  const killed = await untilTerminal(h, states);
  t.deepEqual(states, ['TASK_KILLED']);
  acknowledge(h, killed);
  await h.settle();
});

test.serial('KillTask - a task the agent does not know is reported lost', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('task-known', 'sleep 60'));
  acknowledge(h, await nextUpdate(h));
  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: 'task-unknown' } } satisfies KillTask);
  let lost: StatusUpdateMessage;
  do lost = await nextUpdate(h);
  while (lost.update.status.task_id.value !== 'task-unknown');
  t.is(lost.update.status.state, 'TASK_LOST');
  t.is(lost.update.status.source, 'SOURCE_AGENT');
});

test.serial('ReconcileTasks - a task the agent does not know ends TASK_LOST (REASON_RECONCILIATION); one it runs is left alone', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('task-known', 'sleep 60'));
  acknowledge(h, await nextUpdate(h));
  const asked = (id: string) => ({ task_id: { value: id }, state: 'TASK_STAGING' as const, source: 'SOURCE_MASTER' as const, reason: 'REASON_RECONCILIATION' as const });
  h.master.send(h.agent.self, RECONCILE_TASKS, { framework_id: { value: FRAMEWORK_ID }, statuses: [asked('task-known'), asked('task-never-got')] } satisfies ReconcileTasks);
  // Another framework's, which this agent never heard of, all the same.
  h.master.send(h.agent.self, RECONCILE_TASKS, { framework_id: { value: 'framework-other' }, statuses: [asked('task-other')] } satisfies ReconcileTasks);
  const updates: StatusUpdateMessage[] = [];
  while (updates.filter((u) => u.update.status.task_id.value !== 'task-known').length < 2) {
    const u = await nextUpdate(h);
    updates.push(u);
    acknowledge(h, u);
  }
  const lost = updates.filter((u) => u.update.status.task_id.value !== 'task-known');
  t.deepEqual(
    lost.map((u) => [u.update.framework_id.value, u.update.status.task_id.value, u.update.status.state, u.update.status.reason, u.update.status.source]),
    [
      [FRAMEWORK_ID, 'task-never-got', 'TASK_LOST', 'REASON_RECONCILIATION', 'SOURCE_AGENT'],
      ['framework-other', 'task-other', 'TASK_LOST', 'REASON_RECONCILIATION', 'SOURCE_AGENT'],
    ],
  );
  t.false(updates.some((u) => u.update.status.task_id.value === 'task-known' && isTerminalState(u.update.status.state)));
  t.truthy(h.agent.frameworks.get(FRAMEWORK_ID)?.executorOfTask('task-known'));
});

test.serial('RunTask - a task sent while the agent re-registers is run', async (t) => {
  const h = await startAgent(t);
  await register(h);
  h.agentRuntime.reconnected();
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');
  runTask(h, commandTask('task-meanwhile', 'true'));
  await h.settle();
  t.truthy(h.agent.frameworks.get(FRAMEWORK_ID)?.executorOfTask('task-meanwhile'));
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((task) => task.task_id.value), ['task-meanwhile']);
});

test.serial('RunTask - a task with neither a command nor an executor is TASK_ERROR, and leaves nothing behind', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const { command: _command, ...task } = commandTask('task-bad', 'true');
  runTask(h, task);
  const error = await nextUpdate(h);
  t.is(error.update.status.state, 'TASK_ERROR');
  t.is(error.update.status.reason, 'REASON_TASK_INVALID');
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.true(h.agent.usedResources().isEmpty());
});

test.serial('CommandTask - with --executor_environment_variables the task starts with those and the Mesos variables, not the agent\'s environment', async (t) => {
  process.env.MESOS_TS_AGENT_ONLY = 'agent-secret';
  t.teardown(() => delete process.env.MESOS_TS_AGENT_ONLY);
  const h = await startAgent(t, { executorEnvironmentVariables: { ONLY: 'this', PATH: '/usr/bin:/bin' } });
  await register(h);
  runTask(h, commandTask('env', 'echo "$ONLY ${MESOS_TS_AGENT_ONLY:-unset} $PATH $MESOS_FRAMEWORK_ID"'));
  const states: string[] = [];
  t.is((await untilTerminal(h, states)).update.status.state, 'TASK_FINISHED');
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('env')!;
  t.is(readFileSync(join(executor.directory, 'stdout'), 'utf8'), `this unset /usr/bin:/bin ${FRAMEWORK_ID}\n`);
});
