import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { processRuns, UNKNOWN_EXIT_STATUS } from '../../actors/agent/containerizer.ts';
import { state } from '../../actors/agent/http.ts';
import {
  EXITED_EXECUTOR,
  KILL_TASK,
  REREGISTER_EXECUTOR,
  RUN_TASK_GROUP,
  RunTaskGroupSchema,
  SHUTDOWN_EXECUTOR,
  SLAVE_REREGISTERED,
  validator,
  type ExitedExecutor,
  type KillTask,
  type RunTaskGroup,
  type ShutdownExecutor,
  type StatusUpdateMessage,
} from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { isTerminalState, type ExecutorInfo, type FrameworkInfo, type TaskInfo, type TaskStatus } from '../../src/mesos/v1/common.ts';
import { subscribe } from '../helpers/event-stream.ts';
import { dropMessages, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { acknowledge, AGENT_ID, echoExecutor, FRAMEWORK, FRAMEWORK_ID, nextUpdate, register, reregistration, spawnAgent, startAgent, type Harness } from './harness.ts';

/**
 * Task groups at the agent (Mesos's `RunTaskGroupMessage`) and the default executor that runs
 * them: one agent on a paused Clock, its master a probe, each task a real child process in a
 * sandbox of its own under the executor's.
 */
resetFiltersAfterEach(test);

const CHECKPOINTING: FrameworkInfo = { ...FRAMEWORK, checkpoint: true };

function defaultExecutor(id = 'default'): ExecutorInfo {
  return { type: 'DEFAULT', executor_id: { value: id }, framework_id: { value: FRAMEWORK_ID }, resources: Resources.parse('cpus:0.1;mem:32;disk:32').toJSON() };
}

function task(id: string, command: string, executor: ExecutorInfo = defaultExecutor()): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: { value: AGENT_ID }, resources: Resources.parse('cpus:0.5;mem:64').toJSON(), command: { value: command }, executor };
}

/** The master sends `RunTaskGroupMessage`. */
function runTaskGroup(h: Harness, tasks: TaskInfo[], executor: ExecutorInfo = defaultExecutor(), framework: FrameworkInfo = FRAMEWORK): void {
  h.master.send(h.agent.self, RUN_TASK_GROUP, { framework: { ...framework, id: { value: FRAMEWORK_ID } }, executor, task_group: { tasks } } satisfies RunTaskGroup);
}

function kill(h: Harness, taskId: string): void {
  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: taskId } } satisfies KillTask);
}

/**
 * Takes the master's updates, acknowledging each, until every one of `taskIds` is terminal;
 * returns each task's states in order and its terminal status.
 */
async function untilEnded(h: Harness, taskIds: string[], ack = true): Promise<Map<string, { states: string[]; last: TaskStatus }>> {
  const seen = new Map<string, { states: string[]; last: TaskStatus }>();
  const ended = new Set<string>();
  while (ended.size < taskIds.length) {
    const message = await nextUpdate(h);
    const status = message.update.status;
    const entry = seen.get(status.task_id.value) ?? { states: [], last: status };
    entry.states.push(status.state);
    entry.last = status;
    seen.set(status.task_id.value, entry);
    if (isTerminalState(status.state)) ended.add(status.task_id.value);
    if (ack) acknowledge(h, message);
  }
  return seen;
}

/** Takes (and acknowledges) updates until `taskId` reports `state`. */
async function untilState(h: Harness, taskId: string, state: string): Promise<StatusUpdateMessage> {
  for (;;) {
    const message = await nextUpdate(h);
    acknowledge(h, message);
    if (message.update.status.task_id.value === taskId && message.update.status.state === state) return message;
  }
}

test.serial('TaskGroup - two tasks run in the default executor, each a process in its own sandbox: STARTING, RUNNING, FINISHED; the executor stops after the last one', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const exited = futureMessage(EXITED_EXECUTOR, h.agent.self, h.master.self);
  runTaskGroup(h, [task('t1', 'echo "$MESOS_SANDBOX" > where; echo one'), task('t2', 'echo two; echo "$MESOS_FRAMEWORK_ID" > framework')]);
  await h.settle();

  // Both tasks are the default executor's, in /state as in Mesos.
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('default')!;
  t.true(executor.defaultExecutor);
  t.false(executor.commandExecutor);
  const json = state(h.agent) as { frameworks: { executors: { id: string; type: string; tasks: { id: string; executor_id: string }[]; queued_tasks: unknown[] }[] }[] };
  t.is(json.frameworks[0]!.executors[0]!.type, 'DEFAULT');

  const ended = await untilEnded(h, ['t1', 't2']);
  for (const id of ['t1', 't2']) {
    t.deepEqual(ended.get(id)!.states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED'], id);
    t.is(ended.get(id)!.last.message, 'Command exited with status 0');
    t.is(ended.get(id)!.last.executor_id?.value, 'default');
  }
  const sandbox = (id: string) => join(executor.directory, 'tasks', id);
  t.is(readFileSync(join(sandbox('t1'), 'stdout'), 'utf8'), 'one\n');
  t.is(readFileSync(join(sandbox('t2'), 'stdout'), 'utf8'), 'two\n');
  t.is(readFileSync(join(sandbox('t1'), 'where'), 'utf8'), `${sandbox('t1')}\n`, 'MESOS_SANDBOX is the task\'s own sandbox');
  t.is(readFileSync(join(sandbox('t2'), 'framework'), 'utf8'), `${FRAMEWORK_ID}\n`, 'the executor environment');

  // Every end acknowledged: the executor has nothing left and stops; the master hears it.
  const exit = (await exited).body as ExitedExecutor;
  t.is(exit.executor_id.value, 'default');
  t.is(exit.status, 0);
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.deepEqual(h.agent.containerizer.containerIds(), []);
});

test.serial('TaskGroup - a task that exits non-zero fails, and the other task of its group is killed (TASK_KILLED)', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTaskGroup(h, [task('bad', 'sleep 0.2; exit 3'), task('long', 'exec sleep 60')]);
  const ended = await untilEnded(h, ['bad', 'long']);
  t.is(ended.get('bad')!.last.state, 'TASK_FAILED');
  t.is(ended.get('bad')!.last.message, 'Command exited with status 3');
  t.is(ended.get('long')!.last.state, 'TASK_KILLED');
  t.is(ended.get('long')!.last.message, 'Command terminated with signal Terminated');
  t.deepEqual(ended.get('long')!.states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
});

test.serial('TaskGroup - a KILL of one task kills its whole group; TASK_KILLING first to a framework with TASK_KILLING_STATE', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const framework: FrameworkInfo = { ...FRAMEWORK, capabilities: [{ type: 'TASK_KILLING_STATE' }] };
  runTaskGroup(h, [task('k1', 'exec sleep 60'), task('k2', 'exec sleep 60')], defaultExecutor(), framework);
  const running = new Set<string>();
  while (running.size < 2) {
    const message = await nextUpdate(h);
    acknowledge(h, message);
    if (message.update.status.state === 'TASK_RUNNING') running.add(message.update.status.task_id.value);
  }
  const exited = futureMessage(EXITED_EXECUTOR, h.agent.self, h.master.self);
  kill(h, 'k1');
  const ended = await untilEnded(h, ['k1', 'k2']);
  t.deepEqual(ended.get('k1')!.states, ['TASK_KILLING', 'TASK_KILLED']);
  t.deepEqual(ended.get('k2')!.states, ['TASK_KILLING', 'TASK_KILLED']);
  await exited;
});

test.serial('TaskGroup - a task killed by its failing health check (no request) has the rest of its group killed', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const unhealthy = { ...task('sick', 'exec sleep 60'), health_check: { type: 'COMMAND' as const, command: { value: 'exit 1' }, delay_seconds: 1, interval_seconds: 1, timeout_seconds: 5, grace_period_seconds: 0, consecutive_failures: 1 } };
  runTaskGroup(h, [unhealthy, task('well', 'exec sleep 60')]);
  await untilState(h, 'sick', 'TASK_RUNNING');
  h.clock.advance(1_000);
  const ended = await untilEnded(h, ['sick', 'well']);
  t.like(ended.get('sick')!.last, { state: 'TASK_KILLED', healthy: false });
  t.is(ended.get('well')!.last.state, 'TASK_KILLED');
});

test.serial('TaskGroup - a shutdown of the default executor kills every task (TASK_KILLED), then it exits', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTaskGroup(h, [task('s1', 'exec sleep 60'), task('s2', 'exec sleep 60')]);
  await untilState(h, 's1', 'TASK_RUNNING');
  const exited = futureMessage(EXITED_EXECUTOR, h.agent.self, h.master.self);
  h.master.send(h.agent.self, SHUTDOWN_EXECUTOR, { framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'default' } } satisfies ShutdownExecutor);
  const ended = await untilEnded(h, ['s1', 's2']);
  t.is(ended.get('s1')!.last.state, 'TASK_KILLED');
  t.is(ended.get('s2')!.last.state, 'TASK_KILLED');
  await exited;
  await h.settle();
  t.deepEqual(h.agent.containerizer.containerIds(), []);
});

test.serial('TaskGroup - one executor runs several groups; a failing task takes its own group only', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTaskGroup(h, [task('a1', 'exec sleep 60'), task('a2', 'exec sleep 60')]);
  await untilState(h, 'a1', 'TASK_RUNNING');
  runTaskGroup(h, [task('b1', 'exit 1'), task('b2', 'exec sleep 60')]);
  const b = await untilEnded(h, ['b1', 'b2']);
  t.is(b.get('b1')!.last.state, 'TASK_FAILED');
  t.is(b.get('b2')!.last.state, 'TASK_KILLED');
  // The first group runs on, in the same executor.
  const framework = h.agent.frameworks.get(FRAMEWORK_ID)!;
  t.deepEqual([...framework.executors.keys()], ['default']);
  t.deepEqual([...framework.executors.get('default')!.launchedTasks.keys()].sort(), ['a1', 'a2']);
  kill(h, 'a2');
  const a = await untilEnded(h, ['a1', 'a2']);
  t.is(a.get('a1')!.last.state, 'TASK_KILLED');
  t.is(a.get('a2')!.last.state, 'TASK_KILLED');
});

test.serial('TaskGroup - queued until the executor registers; a kill of a queued task kills its whole group (REASON_TASK_KILLED_DURING_LAUNCH)', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const registrations = dropMessages('RegisterExecutorMessage');
  runTaskGroup(h, [task('q1', 'exec sleep 60'), task('q2', 'exec sleep 60')]);
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('default')!;
  t.is(executor.state, 'REGISTERING');
  t.deepEqual([...executor.queuedTasks.keys()], ['q1', 'q2']);
  t.deepEqual(executor.queuedTaskGroups, [['q1', 'q2']]);
  const json = state(h.agent) as { frameworks: { executors: { queued_tasks: { id: string }[] }[] }[] };
  t.deepEqual(json.frameworks[0]!.executors[0]!.queued_tasks.map((x) => x.id), ['q1', 'q2']);

  kill(h, 'q2');
  const ended = await untilEnded(h, ['q1', 'q2']);
  for (const id of ['q1', 'q2']) t.like(ended.get(id)!.last, { state: 'TASK_KILLED', reason: 'REASON_TASK_KILLED_DURING_LAUNCH', source: 'SOURCE_AGENT' }, id);
  registrations.stop();
});

test.serial('TaskGroup - a group sent while the executor registers goes to it whole once it has', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const registering = dropMessages('RegisterExecutorMessage');
  runTaskGroup(h, [task('w1', 'true'), task('w2', 'true')]);
  await h.settle();
  // The executor's driver retries its registration: let it through.
  registering.stop();
  const delivered = futureMessage(RUN_TASK_GROUP, h.agent.self);
  h.clock.advance(1_000);
  t.deepEqual(((await delivered).body as RunTaskGroup).task_group.tasks?.map((x) => x.task_id.value), ['w1', 'w2']);
  const ended = await untilEnded(h, ['w1', 'w2']);
  t.is(ended.get('w1')!.last.state, 'TASK_FINISHED');
  t.is(ended.get('w2')!.last.state, 'TASK_FINISHED');
});

test.serial('TaskGroup - a RunTaskGroupMessage that is not one (no executor) is dropped, naming the field; the agent runs on', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const bad = { framework: { ...FRAMEWORK }, task_group: { tasks: [task('x', 'true')] } };
  t.throws(() => validator(RunTaskGroupSchema, RUN_TASK_GROUP)(bad), { message: /executor/ });
  h.master.send(h.agent.self, RUN_TASK_GROUP, bad);
  await h.settle();
  t.is(h.agentRuntime.metrics.snapshot()['runtime/messages_invalid'], 1);
  t.is(h.agent.frameworks.size, 0);
  t.is(h.agent.state, 'RUNNING');
  runTaskGroup(h, [task('y', 'true')]);
  const ended = await untilEnded(h, ['y']);
  t.is(ended.get('y')!.last.state, 'TASK_FINISHED');
});

test.serial('TaskGroup - an executor subscribed over /api/v1/executor gets the group as one LAUNCH_GROUP event', async (t) => {
  const h = await startAgent(t, {}, { http: true });
  await register(h);
  const custom: ExecutorInfo = { type: 'CUSTOM', executor_id: { value: 'x' }, framework_id: { value: FRAMEWORK_ID }, command: { value: 'exec sleep 600' } };
  runTaskGroup(h, [task('h1', 'true', custom), task('h2', 'true', custom)], custom);
  await h.settle();
  const port = h.agentRuntime.httpAddress!.port;
  const path = `/${h.agent.id}/api/v1/executor`;
  const ids = { framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'x' } };
  const stream = await subscribe(port, { type: 'SUBSCRIBE', ...ids, subscribe: {} }, { path });
  t.is((await stream.next()).type, 'SUBSCRIBED');
  const launch = await stream.next('LAUNCH_GROUP');
  t.deepEqual(launch.launch_group.task_group.tasks.map((x: TaskInfo) => x.task_id.value), ['h1', 'h2']);
  t.is(launch.launch_group.task_group.tasks[0].executor.executor_id.value, 'x');

  // Its updates are taken as any executor's.
  const uuid = Buffer.alloc(16, 5).toString('base64');
  const answer = await http(port, 'POST', path, { type: 'UPDATE', ...ids, update: { status: { task_id: { value: 'h1' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid } } });
  t.is(answer.status, 202);
  const update = await nextUpdate(h);
  t.like(update.update.status, { task_id: { value: 'h1' }, state: 'TASK_RUNNING', executor_id: { value: 'x' } });
  // A kill goes to it as a KILL event.
  kill(h, 'h2');
  t.is((await stream.next('KILL')).kill.task_id.value, 'h2');
  stream.close();
});

test.serial("TaskGroup - a driver-based custom executor that has no launchTaskGroup gets each task of the group through launchTask", async (t) => {
  const h = await startAgent(t);
  await register(h);
  const echo: ExecutorInfo = { ...echoExecutor(), type: 'CUSTOM', framework_id: { value: FRAMEWORK_ID } };
  runTaskGroup(h, [task('e1', 'unused', echo), task('e2', 'unused', echo)], echo);
  const running = new Set<string>();
  while (running.size < 2) {
    const message = await nextUpdate(h);
    acknowledge(h, message);
    t.is(message.update.status.executor_id?.value, 'echo');
    if (message.update.status.state === 'TASK_RUNNING') running.add(message.update.status.task_id.value);
  }
  t.deepEqual([...running].sort(), ['e1', 'e2']);
});

/** Restarts the agent: it terminates (its checkpointing framework's executors run on), and a new one recovers. */
async function restart(h: Harness): Promise<void> {
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  h.agent = spawnAgent(h);
}

test.serial("AgentRestart - a checkpointing framework's task group runs on in its default executor (a process of its own) across an agent restart; its ends are reported", async (t) => {
  const h = await startAgent(t);
  await register(h);
  // Each runs until the test creates `release` in its sandbox.
  const waitForRelease = 'while [ ! -e release ]; do sleep 0.02; done';
  runTaskGroup(h, [task('r1', `${waitForRelease}; exit 0`), task('r2', `${waitForRelease}; exit 0`)], defaultExecutor(), CHECKPOINTING);
  const running = new Set<string>();
  while (running.size < 2) {
    const message = await nextUpdate(h);
    acknowledge(h, message);
    if (message.update.status.state === 'TASK_RUNNING') running.add(message.update.status.task_id.value);
  }
  await h.settle();
  const { directory, osPid } = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('default')!;
  // The default executor runs in a process of its own, bundled into one file for plain node.
  const argv = readFileSync(`/proc/${osPid!}/cmdline`, 'utf8').split('\0');
  t.deepEqual(argv.slice(0, 2), [process.execPath, join(h.workDir, 'meta', 'default-executor.mjs')]);

  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  await restart(h);
  await reregistering;
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((x) => [x.task_id.value, x.state, x.executor_id?.value]).sort(), [
    ['r1', 'TASK_RUNNING', 'default'],
    ['r2', 'TASK_RUNNING', 'default'],
  ]);
  // The master books the default executor (it is not a command executor).
  t.deepEqual(body.executor_infos?.map((e) => [e.executor_id.value, e.type]), [['default', 'DEFAULT']]);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('default')!.osPid, osPid, 'the same process, not a new one');

  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  const exited = futureMessage(EXITED_EXECUTOR, h.agent.self, h.master.self);
  for (const id of ['r1', 'r2']) writeFileSync(join(directory, 'tasks', id, 'release'), '');
  const ended = await untilEnded(h, ['r1', 'r2']);
  t.is(ended.get('r1')!.last.state, 'TASK_FINISHED');
  t.is(ended.get('r2')!.last.state, 'TASK_FINISHED');
  // It stopped by itself once both ends were acknowledged; the agent's next run is not its
  // parent, so how it exited is unknown (Mesos's -1).
  t.is(((await exited).body as ExitedExecutor).status, UNKNOWN_EXIT_STATUS);
  t.false(processRuns(osPid!));
});
