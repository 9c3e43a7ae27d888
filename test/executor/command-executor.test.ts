import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { HealthCheck, TaskStatus } from '../../src/mesos/v1/common.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Containerizer } from '../../actors/agent/containerizer.ts';
import { launchCommandExecutor, describeExit } from '../../actors/executor/command-executor.ts';
import {
  DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS,
  DEFAULT_KILL_GRACE_PERIOD_MS,
  SHUTDOWN_KILL_BUFFER_MS,
  TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS,
} from '../../actors/executor/constants.ts';
import { seededByteSource } from '../../src/mesos/ids.ts';
import { STATUS_UPDATE_ACKNOWLEDGEMENT } from '../../src/mesos/protocol.ts';
import { futureExited, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { heldFifo } from '../helpers/fifo.ts';
import { localWorld } from '../helpers/runtime.ts';
import { AGENT_ID, AgentStub, commandTask, FRAMEWORK_ID } from './agent-stub.ts';

resetFiltersAfterEach(test);

/** An agent stub and a command executor in one runtime, with the Clock paused. */
async function world(t: { teardown(fn: () => unknown): void; title: string }) {
  const w = await localWorld([`cmd-${t.title.replace(/[^A-Za-z0-9]/g, '').slice(-40)}`], { logger: pino({ level: 'error' }) });
  const runtime = w.runtimes[0]!;
  w.clock.pause();
  const agent = new AgentStub();
  runtime.spawn(agent);
  const containerizer = new Containerizer({ delay: (ms, fn) => agent.later(ms, fn) });
  const sandbox = mkdtempSync(join(tmpdir(), 'mesos-ts-command-executor-'));
  t.teardown(async () => {
    for (const id of containerizer.containerIds()) await containerizer.destroy(id, 0);
    await w.shutdown();
    rmSync(sandbox, { recursive: true, force: true });
  });
  const handle = launchCommandExecutor({
    runtime,
    agent: agent.self,
    frameworkId: FRAMEWORK_ID,
    executorId: { value: 'task-1' },
    directory: sandbox,
    containerizer,
    containerId: 'container-1',
    uuidSource: seededByteSource(7),
  });
  const executor = await agent.registered;
  return { ...w, runtime, agent, containerizer, sandbox, handle, executor };
}

// Filters are process-wide: tests that arm them run serially (before the concurrent ones).
test.serial('CommandExecutor - echo hi: TASK_STARTING, TASK_RUNNING, TASK_FINISHED, output in the sandbox, then it stops', async (t) => {
  const { agent, sandbox, handle, executor, clock } = await world(t);
  t.true(executor.equals(handle.pid));
  t.regex(handle.pid.id, /^executor\(\d+\)$/);
  const exited = futureExited(handle.pid, agent.self);

  agent.runTask(commandTask('task-1', 'echo hi'));
  const starting = await agent.updates.take();
  const running = await agent.updates.take();
  const finished = await agent.updates.take();
  t.deepEqual(
    [starting, running, finished].map((m) => m.update.status.state),
    ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED'],
  );
  for (const { update, pid } of [starting, running, finished]) {
    t.is(pid, String(handle.pid));
    t.deepEqual(update.framework_id, FRAMEWORK_ID);
    t.deepEqual(update.agent_id, AGENT_ID);
    t.is(update.status.source, 'SOURCE_EXECUTOR');
    t.deepEqual(update.status.executor_id, { value: 'task-1' });
    t.is(update.status.uuid, update.uuid);
    t.is(update.status.timestamp, clock.now() / 1000);
  }
  t.is(finished.update.status.message, 'Command exited with status 0');
  t.is(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'hi\n');

  // Every update was acknowledged, the terminal one last: the executor stops.
  t.is(await handle.done, 'DRIVER_STOPPED');
  await exited;
  t.deepEqual(handle.driver.unacknowledgedUpdates(), []);
});

test('CommandExecutor - exit 3: TASK_FAILED with the exit status in the message', async (t) => {
  const { agent, handle } = await world(t);
  agent.runTask(commandTask('task-1', 'echo bad >&2; exit 3'));
  const states: string[] = [];
  let last;
  do {
    last = (await agent.updates.take()).update.status;
    states.push(last.state);
  } while (last.state !== 'TASK_FAILED');
  t.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
  t.is(last.message, 'Command exited with status 3');
  t.is(last.reason, 'REASON_COMMAND_EXECUTOR_FAILED');
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - KillTask: TASK_KILLING, SIGTERM to the task, TASK_KILLED', async (t) => {
  const { agent, handle } = await world(t);
  agent.runTask(commandTask('task-1', 'sleep 30'));
  t.is((await agent.updates.take()).update.status.state, 'TASK_STARTING');
  t.is((await agent.updates.take()).update.status.state, 'TASK_RUNNING');

  agent.killTask('task-1');
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.is(killed.message, 'Command terminated with signal Terminated');
  t.is(killed.reason, undefined);
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - a task ignoring SIGTERM is killed with SIGKILL once the default grace period has passed', async (t) => {
  const { agent, handle, clock, runtime, sandbox } = await world(t);
  const { opened } = heldFifo(sandbox);
  // `> held` comes after the trap: once the FIFO is open, SIGTERM is ignored.
  agent.runTask(commandTask('task-1', `trap '' TERM; sleep 300 > held`));
  await agent.updates.take(); // TASK_STARTING
  await agent.updates.take(); // TASK_RUNNING
  await opened;

  agent.killTask('task-1');
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  await runtime.settle();
  t.is(agent.updates.pending, 0, 'no terminal update while the grace period runs');

  clock.advance(DEFAULT_KILL_GRACE_PERIOD_MS);
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.is(killed.message, 'Command terminated with signal Killed');
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - the kill policy of the KillTask overrides the task\'s', async (t) => {
  const { agent, clock, runtime, sandbox } = await world(t);
  const seconds = (s: number) => ({ grace_period: { nanoseconds: s * 1e9 } });
  const { opened } = heldFifo(sandbox);
  agent.runTask(commandTask('task-1', `trap '' TERM; sleep 300 > held`, { kill_policy: seconds(60) }));
  await agent.updates.take();
  await agent.updates.take();
  await opened;

  agent.killTask('task-1', seconds(1));
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  clock.advance(999);
  await runtime.settle();
  t.is(agent.updates.pending, 0);
  clock.advance(1);
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLED');
});

// Serial: a FIFO's reader holds a libuv pool thread until its writer opens it, and the pool
// (4 threads) is shared with the containerizer's file operations; the concurrent tests that
// hold a FIFO already take three.
test.serial('CommandExecutor - a second kill may shorten the grace period, never lengthen it (Mesos: the escalation is rescheduled)', async (t) => {
  const { agent, handle, clock, runtime, sandbox } = await world(t);
  const seconds = (s: number) => ({ grace_period: { nanoseconds: s * 1e9 } });
  const { opened } = heldFifo(sandbox);
  agent.runTask(commandTask('task-1', `trap '' TERM; sleep 300 > held`));
  await agent.updates.take(); // TASK_STARTING
  await agent.updates.take(); // TASK_RUNNING
  await opened;

  agent.killTask('task-1', seconds(60));
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  clock.advance(1_000);
  // A retry, and a kill with a longer grace period: no-ops (no second TASK_KILLING either).
  agent.killTask('task-1', seconds(60));
  agent.killTask('task-1', seconds(120));
  // A shorter one: SIGKILL 5 s after the first kill, that is 4 s from now.
  agent.killTask('task-1', seconds(5));
  await runtime.settle();
  clock.advance(3_999);
  await runtime.settle();
  t.is(agent.updates.pending, 0, 'no terminal update before the shortened grace period is over');
  clock.advance(1);
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.is(killed.message, 'Command terminated with signal Killed');
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test.serial('CommandExecutor - a kill whose shorter grace period has already passed sends SIGKILL at once', async (t) => {
  const { agent, clock, runtime, sandbox } = await world(t);
  const seconds = (s: number) => ({ grace_period: { nanoseconds: s * 1e9 } });
  const { opened } = heldFifo(sandbox);
  agent.runTask(commandTask('task-1', `trap '' TERM; sleep 300 > held`, { kill_policy: seconds(60) }));
  await agent.updates.take();
  await agent.updates.take();
  await opened;

  agent.killTask('task-1');
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  clock.advance(10_000);
  await runtime.settle();
  t.is(agent.updates.pending, 0);
  agent.killTask('task-1', seconds(5));
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.is(killed.message, 'Command terminated with signal Killed');
});

test.serial('CommandExecutor - shutdown while a kill waits out a long grace period escalates within the shutdown grace period', async (t) => {
  const { agent, handle, clock, runtime, sandbox } = await world(t);
  const { opened } = heldFifo(sandbox);
  agent.runTask(commandTask('task-1', `trap '' TERM; sleep 300 > held`));
  await agent.updates.take();
  await agent.updates.take();
  await opened;
  agent.killTask('task-1', { grace_period: { nanoseconds: 60e9 } });
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');

  agent.shutdownExecutor();
  await runtime.settle();
  clock.advance(DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS - SHUTDOWN_KILL_BUFFER_MS - 1);
  await runtime.settle();
  t.is(agent.updates.pending, 0);
  clock.advance(1);
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLED');
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - shutdown kills the task within the shutdown grace period', async (t) => {
  const { agent, handle, clock, sandbox } = await world(t);
  const { opened } = heldFifo(sandbox);
  agent.runTask(commandTask('task-1', `trap '' TERM; sleep 300 > held`));
  await agent.updates.take();
  await agent.updates.take();
  await opened;
  agent.shutdownExecutor();
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  clock.advance(DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS - SHUTDOWN_KILL_BUFFER_MS);
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLED');
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - shut down, it stops once the task\'s end is sent, without waiting for an acknowledgement (an agent shutting a framework down drops its updates)', async (t) => {
  const { agent, handle, runtime } = await world(t);
  agent.runTask(commandTask('task-1', 'exec sleep 300'));
  t.is((await agent.updates.take()).update.status.state, 'TASK_STARTING');
  t.is((await agent.updates.take()).update.status.state, 'TASK_RUNNING');
  await runtime.settle();
  agent.autoAck = false;
  agent.shutdownExecutor();
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.is(killed.message, 'Command terminated with signal Terminated', 'SIGTERM was enough');
  // The Clock is paused: no acknowledgement timeout ends; the executor stops by itself.
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - a task running past its max_completion_time is killed and fails (REASON_MAX_COMPLETION_TIME_REACHED), without TASK_KILLING', async (t) => {
  const { agent, handle, clock, runtime } = await world(t);
  agent.runTask(commandTask('task-1', 'sleep 300', { max_completion_time: { nanoseconds: 10e9 } }));
  t.is((await agent.updates.take()).update.status.state, 'TASK_STARTING');
  t.is((await agent.updates.take()).update.status.state, 'TASK_RUNNING');
  clock.advance(9_999);
  await runtime.settle();
  t.is(agent.updates.pending, 0);
  clock.advance(1);
  const failed = (await agent.updates.take()).update.status;
  t.is(failed.state, 'TASK_FAILED', 'no TASK_KILLING first: nobody asked for the kill');
  t.is(failed.reason, 'REASON_MAX_COMPLETION_TIME_REACHED');
  t.regex(failed.message ?? '', /^Command terminated with signal /);
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - a kill cancels the max_completion_time timer: the task ends TASK_KILLED', async (t) => {
  const { agent, handle, clock, runtime } = await world(t);
  agent.runTask(commandTask('task-1', 'sleep 300', { max_completion_time: { nanoseconds: 10e9 } }));
  await agent.updates.take();
  await agent.updates.take();
  agent.killTask('task-1');
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.is(killed.reason, undefined);
  clock.advance(10_000);
  await runtime.settle();
  t.is(agent.updates.pending, 0);
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - a command that cannot be started fails the task', async (t) => {
  const { agent, handle, sandbox } = await world(t);
  agent.runTask({ ...commandTask('task-1', ''), command: { shell: false, value: join(sandbox, 'missing') } });
  t.is((await agent.updates.take()).update.status.state, 'TASK_STARTING');
  const failed = (await agent.updates.take()).update.status;
  t.is(failed.state, 'TASK_FAILED');
  t.is(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  t.regex(failed.message ?? '', /^Failed to launch the command: .*missing/);
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('CommandExecutor - one task only: a second one fails at once', async (t) => {
  const { agent } = await world(t);
  agent.runTask(commandTask('task-1', 'sleep 30'));
  await agent.updates.take();
  await agent.updates.take();
  agent.runTask(commandTask('task-2', 'true'));
  const second = (await agent.updates.take()).update.status;
  t.deepEqual(second.task_id, { value: 'task-2' });
  t.is(second.state, 'TASK_FAILED');
  t.is(second.message, 'Attempted to run multiple tasks using a "command" executor');
});

test.serial('StatusUpdate - updates not acknowledged are kept by the driver and re-sent on re-registration', async (t) => {
  const { agent, handle, clock, runtime } = await world(t);
  agent.autoAck = false;
  agent.runTask(commandTask('task-1', 'echo hi'));
  const starting = await agent.updates.take();
  const running = await agent.updates.take();
  const finished = await agent.updates.take();
  await runtime.settle();

  const kept = () => handle.driver.unacknowledgedUpdates().map((u) => u.status.state);
  t.deepEqual(kept(), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  t.deepEqual(handle.driver.unacknowledgedUpdates().map((u) => u.uuid), [starting, running, finished].map((m) => m.update.uuid));
  t.deepEqual(handle.driver.unacknowledgedTasks().map((task) => task.task_id.value), ['task-1']);
  t.is(handle.driver.status, 'DRIVER_RUNNING', 'no stop before the terminal update is acknowledged');

  const acked = futureMessage(STATUS_UPDATE_ACKNOWLEDGEMENT, agent.self, handle.pid);
  agent.acknowledge(starting);
  await acked;
  await runtime.settle();
  t.deepEqual(kept(), ['TASK_RUNNING', 'TASK_FINISHED']);
  t.deepEqual(handle.driver.unacknowledgedTasks(), [], 'the agent knows the task once an update of it is acknowledged');

  // A recovered agent asks the executor to re-register: what is unacknowledged goes along.
  agent.reconnect(handle.pid);
  const reregister = await agent.reregistrations.take();
  t.deepEqual(reregister.updates?.map((u) => u.status.state), ['TASK_RUNNING', 'TASK_FINISHED']);
  t.deepEqual(reregister.tasks, []);

  // Never acknowledged: the executor stops after waiting for the acknowledgement that long.
  clock.advance(TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS);
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('describeExit - words exits as Mesos does', (t) => {
  t.is(describeExit({ status: 3, code: 3, signal: null }), 'exited with status 3');
  t.is(describeExit({ status: 143, code: null, signal: 'SIGTERM' }), 'terminated with signal Terminated');
  t.is(describeExit({ status: 137, code: null, signal: 'SIGKILL' }), 'terminated with signal Killed');
});

// ---------------------------------------------------------------------------------------------
// Health checks (Mesos 1.2's `HealthChecker`, run by the command executor).

/** A health check with every timing at 1 s of Clock time unless given. */
function healthCheck(check: Partial<HealthCheck>): HealthCheck {
  return { delay_seconds: 1, interval_seconds: 1, timeout_seconds: 1, grace_period_seconds: 0, consecutive_failures: 2, ...check };
}

/** Runs `sleep 300` with `check`; returns once its TASK_RUNNING is taken. */
async function checkedTask(t: ExecutionContext, check: HealthCheck) {
  const w = await world(t);
  w.agent.runTask(commandTask('task-1', 'exec sleep 300', { health_check: check }));
  t.is((await w.agent.updates.take()).update.status.state, 'TASK_STARTING');
  t.is((await w.agent.updates.take()).update.status.state, 'TASK_RUNNING');
  return w;
}

/** The next update: a TASK_RUNNING health report. */
async function healthReport(t: ExecutionContext, agent: AgentStub): Promise<TaskStatus> {
  const status = (await agent.updates.take()).update.status;
  t.is(status.state, 'TASK_RUNNING');
  t.is(status.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
  return status;
}

test('HealthCheck - COMMAND: every failure is reported unhealthy; consecutive_failures of them kill the task, which ends TASK_KILLED, healthy false', async (t) => {
  const { agent, clock, handle } = await checkedTask(t, healthCheck({ type: 'COMMAND', command: { value: 'exit 3' } }));
  clock.advance(1_000);
  const first = await healthReport(t, agent);
  t.false(first.healthy);
  t.is(first.message, 'Command returned: exit status 3');
  clock.advance(1_000);
  t.false((await healthReport(t, agent)).healthy);
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED', 'killed with SIGTERM (sleep dies of it at once)');
  t.false(killed.healthy);
  t.is(await handle.done, 'DRIVER_STOPPED');
});

test('HealthCheck - failures within grace_period_seconds are ignored until a check has succeeded', async (t) => {
  const { agent, clock, runtime } = await checkedTask(t, healthCheck({ type: 'COMMAND', command: { value: 'exit 1' }, grace_period_seconds: 2 }));
  clock.advance(1_000);
  await runtime.settle();
  clock.advance(1_000);
  await runtime.settle();
  t.is(agent.updates.pending, 0, 'two failures within the grace period: nothing reported');
  clock.advance(1_000);
  t.false((await healthReport(t, agent)).healthy, 'past the grace period a failure counts');
});

test('HealthCheck - a check that does not finish within timeout_seconds is a failure; its command is killed', async (t) => {
  const { agent, clock, runtime } = await checkedTask(t, healthCheck({ type: 'COMMAND', command: { value: 'exec sleep 300' }, consecutive_failures: 5 }));
  clock.advance(1_000); // the check starts
  await runtime.settle();
  clock.advance(1_000); // and times out
  const status = await healthReport(t, agent);
  t.false(status.healthy);
  t.is(status.message, 'COMMAND health check timed out after 1s');
});

test.serial('HealthCheck - HTTP: a status from 200 to 399 of GET http://127.0.0.1:<port><path> is healthy, another is not', async (t) => {
  let status = 204;
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.writeHead(status).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => void server.close());
  const port = (server.address() as AddressInfo).port;
  const { agent, clock } = await checkedTask(t, healthCheck({ type: 'HTTP', http: { port, path: '/health' } }));
  clock.advance(1_000);
  t.true((await healthReport(t, agent)).healthy);
  status = 503;
  clock.advance(1_000);
  const failed = await healthReport(t, agent);
  t.false(failed.healthy);
  t.is(failed.message, `Unexpected HTTP response code: 503 (http://127.0.0.1:${port}/health)`);
  t.deepEqual(paths, ['/health', '/health']);
});

test.serial('HealthCheck - TCP: a connection to 127.0.0.1:<port> is healthy; a refused one is not', async (t) => {
  const server = createNetServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const { agent, clock } = await checkedTask(t, healthCheck({ type: 'TCP', tcp: { port } }));
  clock.advance(1_000);
  t.true((await healthReport(t, agent)).healthy);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clock.advance(1_000);
  const failed = await healthReport(t, agent);
  t.false(failed.healthy);
  t.regex(failed.message ?? '', new RegExp(`^TCP health check of 127\\.0\\.0\\.1:${port} failed: connect ECONNREFUSED`));
});

test('HealthCheck - a task killed by the framework is no longer checked', async (t) => {
  const { agent, clock, runtime } = await checkedTask(t, healthCheck({ type: 'COMMAND', command: { value: 'exit 1' } }));
  agent.killTask('task-1');
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING');
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLED');
  clock.advance(5_000);
  await runtime.settle();
  t.is(agent.updates.pending, 0, 'no health report after the end');
});

test('Check - the first TASK_RUNNING carries an empty check_status; each new result is a TASK_RUNNING with REASON_TASK_CHECK_STATUS_UPDATED; the task runs on', async (t) => {
  const { agent, clock } = await world(t);
  agent.runTask(commandTask('task-1', 'exec sleep 300', { check: { type: 'COMMAND', command: { command: { value: 'exit 4' } }, delay_seconds: 1, interval_seconds: 1 } }));
  t.is((await agent.updates.take()).update.status.state, 'TASK_STARTING');
  const running = (await agent.updates.take()).update.status;
  t.is(running.state, 'TASK_RUNNING');
  t.deepEqual(running.check_status, { type: 'COMMAND', command: {} });
  clock.advance(1_000);
  const checked = (await agent.updates.take()).update.status;
  t.is(checked.state, 'TASK_RUNNING');
  t.is(checked.reason, 'REASON_TASK_CHECK_STATUS_UPDATED');
  t.deepEqual(checked.check_status, { type: 'COMMAND', command: { exit_code: 4 } });
  agent.killTask('task-1');
  t.is((await agent.updates.take()).update.status.state, 'TASK_KILLING', 'the check killed nothing: the framework does');
});
