import test from 'ava';
import { pino } from 'pino';
import {
  DEFAULT_RECOVERY_TIMEOUT_MS,
  EXECUTOR_REGISTRATION_RETRY_INTERVAL_MAX_MS,
  EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS,
} from '../../actors/executor/constants.ts';
import { ExecutorDriver, type Executor } from '../../actors/executor/executor-driver.ts';
import { seededByteSource } from '../../src/mesos/ids.ts';
import { REGISTER_EXECUTOR } from '../../src/mesos/protocol.ts';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskID, TaskInfo, TaskStatus } from '../../src/mesos/v1/common.ts';
import { dropMessage, futureExited, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { localWorld } from '../helpers/runtime.ts';
import { AGENT_ID, AGENT_INFO, AgentStub, commandTask, FRAMEWORK_ID, FRAMEWORK_INFO } from './agent-stub.ts';

resetFiltersAfterEach(test);

/** An executor that records its callbacks; `on` adds behaviour. */
class Recorder implements Executor {
  readonly calls: string[] = [];
  readonly args: unknown[][] = [];
  constructor(readonly on: Partial<Executor> = {}) {}
  #record(name: string, ...args: unknown[]): void {
    this.calls.push(name);
    this.args.push(args);
  }
  registered(driver: ExecutorDriver, executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, agentInfo: AgentInfo): void {
    this.#record('registered', executorInfo, frameworkInfo, agentInfo);
    this.on.registered?.(driver, executorInfo, frameworkInfo, agentInfo);
  }
  reregistered(driver: ExecutorDriver, agentInfo: AgentInfo): void {
    this.#record('reregistered', agentInfo);
    this.on.reregistered?.(driver, agentInfo);
  }
  disconnected(driver: ExecutorDriver): void {
    this.#record('disconnected');
    this.on.disconnected?.(driver);
  }
  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    this.#record('launchTask', task);
    this.on.launchTask?.(driver, task);
  }
  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    this.#record('killTask', taskId, killPolicy);
    this.on.killTask?.(driver, taskId, killPolicy);
  }
  frameworkMessage(driver: ExecutorDriver, data: Buffer): void {
    this.#record('frameworkMessage', data.toString('utf8'));
    this.on.frameworkMessage?.(driver, data);
  }
  shutdown(driver: ExecutorDriver): void {
    this.#record('shutdown');
    this.on.shutdown?.(driver);
  }
  error(driver: ExecutorDriver, message: string): void {
    this.#record('error', message);
    this.on.error?.(driver, message);
  }
  acknowledged(driver: ExecutorDriver, status: TaskStatus): void {
    this.#record('acknowledged', status.state);
  }
}

async function world(
  t: { teardown(fn: () => unknown): void; title: string },
  executor: Executor,
  options: { checkpoint?: boolean; answer?: boolean; beforeStart?: (agent: AgentStub) => void } = {},
) {
  const w = await localWorld([`drv-${t.title.replace(/[^A-Za-z0-9]/g, '').slice(-40)}`], { logger: pino({ level: 'error' }) });
  t.teardown(() => w.shutdown());
  const runtime = w.runtimes[0]!;
  w.clock.pause();
  const agent = new AgentStub();
  agent.answerRegistrations = options.answer ?? true;
  runtime.spawn(agent);
  const driver = new ExecutorDriver(executor, {
    runtime,
    agent: agent.self,
    frameworkId: FRAMEWORK_ID,
    executorId: agent.executorInfo.executor_id,
    directory: '/tmp/sandbox',
    checkpoint: options.checkpoint ?? false,
    uuidSource: seededByteSource(1),
  });
  options.beforeStart?.(agent);
  await driver.start();
  return { ...w, runtime, agent, driver, pid: driver.pid! };
}

test('ExecutorDriver - registration is retried with backoff until the agent answers', async (t) => {
  const recorder = new Recorder();
  const { agent, driver, clock, runtime } = await world(t, recorder, { answer: false });
  await agent.registrations.take();
  t.is(driver.state, 'CONNECTING');

  clock.advance(EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS);
  await agent.registrations.take();
  // The wait doubles.
  clock.advance(EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS);
  await runtime.settle();
  t.is(agent.registrations.pending, 0);
  clock.advance(EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS);
  await agent.registrations.take();

  agent.answerRegistrations = true;
  clock.advance(4 * EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS);
  await agent.registrations.take();
  await runtime.settle();
  t.is(driver.state, 'REGISTERED');
  t.deepEqual(recorder.calls, ['registered']);
  t.deepEqual(recorder.args[0], [agent.executorInfo, FRAMEWORK_INFO, AGENT_INFO]);

  clock.advance(EXECUTOR_REGISTRATION_RETRY_INTERVAL_MAX_MS);
  await runtime.settle();
  t.is(agent.registrations.pending, 0, 'no retry once registered');
});

// Filters are process-wide: tests that arm them run serially (before the concurrent ones).
test.serial('ExecutorDriver - a lost registration is sent again after the retry interval', async (t) => {
  // As Mesos's fault tests: drop the message, advance the Clock by the constant the code uses.
  let dropped: Promise<unknown> = Promise.resolve();
  const recorder = new Recorder();
  const { agent, driver, clock, runtime } = await world(t, recorder, {
    beforeStart: (agent) => (dropped = dropMessage(REGISTER_EXECUTOR, undefined, agent.self)),
  });
  await dropped;
  t.is(driver.state, 'CONNECTING');
  const retried = futureMessage(REGISTER_EXECUTOR, driver.pid, agent.self);
  clock.advance(EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS);
  await retried;
  await agent.registered;
  await runtime.settle();
  t.is(driver.state, 'REGISTERED');
});

test.serial('ExecutorDriver - the agent\'s messages reach the callbacks; framework messages go both ways', async (t) => {
  const recorder = new Recorder({
    launchTask: (driver, task) => driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING' }),
    frameworkMessage: (driver, data) => driver.sendFrameworkMessage(`echo:${data.toString('utf8')}`),
    killTask: (driver, taskId) => driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_KILLED' }),
    shutdown: (driver) => driver.stop(),
  });
  const { agent, driver, runtime } = await world(t, recorder);
  await agent.registered;
  agent.runTask(commandTask('t1', 'true'));
  t.is((await agent.updates.take()).update.status.state, 'TASK_RUNNING');
  agent.frameworkMessage('ping');
  t.is(await agent.messages.take(), 'echo:ping');
  agent.killTask('t1', { grace_period: { nanoseconds: 5e9 } });
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLED');

  const exited = futureExited(driver.pid, agent.self);
  agent.shutdownExecutor();
  t.is(await driver.join(), 'DRIVER_STOPPED');
  await exited;
  await runtime.settle();
  t.deepEqual(recorder.calls, [
    'registered',
    'launchTask',
    'acknowledged',
    'frameworkMessage',
    'killTask',
    'acknowledged',
    'shutdown',
  ]);
  t.deepEqual(recorder.args[4], [{ value: 't1' }, { grace_period: { nanoseconds: 5e9 } }]);
  t.is(driver.state, 'TERMINATED');
});

test('ExecutorDriver - sendStatusUpdate fills uuid, timestamp, source and ids; an update sent before stop() still goes out', async (t) => {
  const recorder = new Recorder({
    launchTask: (driver, task) => {
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FINISHED', message: 'done', data: 'AAEC' });
      driver.stop();
    },
  });
  const { agent, driver, clock } = await world(t, recorder);
  await agent.registered;
  clock.advance(1234);
  agent.runTask(commandTask('t1', 'true'));
  const { update, pid } = await agent.updates.take();
  t.is(pid, String(driver.pid));
  t.deepEqual(update.status, {
    task_id: { value: 't1' },
    state: 'TASK_FINISHED',
    message: 'done',
    data: 'AAEC',
    executor_id: agent.executorInfo.executor_id,
    source: 'SOURCE_EXECUTOR',
    timestamp: clock.now() / 1000,
    uuid: update.uuid!,
    agent_id: update.agent_id!,
  });
  t.regex(update.uuid!, /^[A-Za-z0-9+/]{22}==$/);
  t.deepEqual(update.framework_id, FRAMEWORK_ID);
  t.is(await driver.join(), 'DRIVER_STOPPED');
  t.is(driver.sendStatusUpdate({ task_id: { value: 't1' }, state: 'TASK_RUNNING' }), 'DRIVER_STOPPED');
});

test('ExecutorDriver - sendStatusUpdate overwrites the agent id the executor set with the one it registered with', async (t) => {
  const recorder = new Recorder({
    launchTask: (driver, task) => driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING', agent_id: { value: 'some-other-agent' } }),
  });
  const { agent } = await world(t, recorder);
  await agent.registered;
  agent.runTask(commandTask('t1', 'true'));
  const { update } = await agent.updates.take();
  t.deepEqual(update.status.agent_id, AGENT_ID);
  t.deepEqual(update.agent_id, AGENT_ID);
});

test('ExecutorDriver - TASK_STAGING is refused: the driver aborts and reports an error', async (t) => {
  const recorder = new Recorder({
    launchTask: (driver, task) => driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_STAGING' }),
  });
  const { agent, driver, runtime } = await world(t, recorder);
  await agent.registered;
  agent.runTask(commandTask('t1', 'true'));
  t.is(await driver.join(), 'DRIVER_ABORTED');
  await runtime.settle();
  t.deepEqual(recorder.calls, ['registered', 'launchTask', 'error']);
  t.deepEqual(recorder.args[2], ['Attempted to send TASK_STAGING status update']);
  t.is(agent.updates.all.length, 0);
  // Aborted: the agent's messages are ignored.
  agent.frameworkMessage('ignored');
  await runtime.settle();
  t.is(recorder.calls.length, 3);
  t.is(driver.stop(), 'DRIVER_ABORTED');
});

test('ExecutorDriver - without checkpointing, the agent\'s exit means disconnected, then shutdown', async (t) => {
  const recorder = new Recorder({ shutdown: (driver) => driver.stop() });
  const { agent, driver, runtime } = await world(t, recorder);
  await agent.registered;
  await runtime.settle();
  runtime.terminate(agent.self);
  t.is(await driver.join(), 'DRIVER_STOPPED');
  t.deepEqual(recorder.calls, ['registered', 'disconnected', 'shutdown']);
});

test('ExecutorDriver - with checkpointing, a disconnected executor re-registers with its recovered agent', async (t) => {
  const recorder = new Recorder({
    launchTask: (driver, task) => driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING' }),
  });
  const { agent, driver, runtime, clock } = await world(t, recorder, { checkpoint: true });
  await agent.registered;
  agent.autoAck = false;
  agent.runTask(commandTask('t1', 'true'));
  await agent.updates.take();

  runtime.terminate(agent.self);
  await runtime.settle();
  t.is(driver.state, 'DISCONNECTED');
  t.deepEqual(recorder.calls, ['registered', 'launchTask', 'disconnected']);

  // The agent comes back (a new process, as after a restart) before the recovery timeout.
  clock.advance(DEFAULT_RECOVERY_TIMEOUT_MS - 1);
  const recovered = new AgentStub('slave(2)');
  runtime.spawn(recovered);
  recovered.reconnect(driver.pid!);
  const reregister = await recovered.reregistrations.take();
  t.deepEqual(reregister.framework_id, FRAMEWORK_ID);
  t.deepEqual(reregister.tasks?.map((task) => task.task_id.value), ['t1']);
  t.deepEqual(reregister.updates?.map((u) => u.status.state), ['TASK_RUNNING']);
  await runtime.settle();
  t.is(driver.state, 'REGISTERED');
  t.deepEqual(recorder.calls, ['registered', 'launchTask', 'disconnected', 'reregistered']);

  // Updates now go to the recovered agent; the old recovery timeout is gone.
  driver.sendStatusUpdate({ task_id: { value: 't1' }, state: 'TASK_FINISHED' });
  t.is((await recovered.updates.take()).update.status.state, 'TASK_FINISHED');
  clock.advance(DEFAULT_RECOVERY_TIMEOUT_MS);
  await runtime.settle();
  t.is(driver.status, 'DRIVER_RUNNING');
  t.false(recorder.calls.includes('shutdown'));
});

test('ExecutorDriver - with checkpointing, the executor shuts down when the agent is not back within the recovery timeout', async (t) => {
  const recorder = new Recorder({ shutdown: (driver) => driver.stop() });
  const { agent, driver, runtime, clock } = await world(t, recorder, { checkpoint: true });
  await agent.registered;
  runtime.terminate(agent.self);
  await runtime.settle();
  t.is(driver.state, 'DISCONNECTED');
  clock.advance(DEFAULT_RECOVERY_TIMEOUT_MS - 1);
  await runtime.settle();
  t.deepEqual(recorder.calls, ['registered', 'disconnected']);
  clock.advance(1);
  t.is(await driver.join(), 'DRIVER_STOPPED');
  t.deepEqual(recorder.calls, ['registered', 'disconnected', 'shutdown']);
});

test('ExecutorDriver - with checkpointing, an executor whose agent exits before registering it shuts down at once', async (t) => {
  // Mesos's driver waits for a recovered agent only when `checkpoint && connected`: an agent
  // that never registered the executor cannot reconnect it.
  const recorder = new Recorder({ shutdown: (driver) => driver.stop() });
  const { agent, driver, runtime } = await world(t, recorder, { checkpoint: true, answer: false });
  await agent.registrations.take();
  t.is(driver.state, 'CONNECTING');
  runtime.terminate(agent.self);
  await runtime.settle();
  t.deepEqual(recorder.calls, ['disconnected', 'shutdown'], 'no wait for the recovery timeout');
  t.is(await driver.join(), 'DRIVER_STOPPED');
});

test('ExecutorDriver - an invalid message from another node is dropped, not handed to the executor', async (t) => {
  const recorder = new Recorder();
  const w = await localWorld(['drv-invalid-agent', 'drv-invalid-exec'], { logger: pino({ level: 'error' }) });
  t.teardown(() => w.shutdown());
  const agentRuntime = w.runtimes[0]!;
  const executorRuntime = w.runtimes[1]!;
  const agent = new AgentStub();
  agentRuntime.spawn(agent);
  const driver = new ExecutorDriver(recorder, {
    runtime: executorRuntime,
    agent: agent.self,
    frameworkId: FRAMEWORK_ID,
    executorId: agent.executorInfo.executor_id,
    directory: '/tmp/sandbox',
  });
  t.is(await driver.start(), 'DRIVER_RUNNING');
  await agent.registered;
  agent.send(driver.pid!, 'RunTaskMessage', { framework_id: FRAMEWORK_ID, task: { name: 'no id' } });
  agent.runTask(commandTask('t1', 'true'));
  await agentRuntime.settle();
  t.deepEqual(recorder.calls, ['registered', 'launchTask']);
  t.is(executorRuntime.metrics.counter('runtime/messages_invalid').value, 1);
});
