import test from 'ava';
import { EXECUTOR_REGISTRATION_TIMEOUT_MS, EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS } from '../../actors/agent/constants.ts';
import { Resources } from '../../src/mesos/resources.ts';
import {
  EXECUTOR_TO_FRAMEWORK,
  EXITED_EXECUTOR,
  KILL_TASK,
  REGISTER_EXECUTOR,
  SHUTDOWN_EXECUTOR,
  SHUTDOWN_FRAMEWORK,
  type ExecutorToFramework,
  type ExitedExecutor,
  type KillTask,
  type ShutdownExecutor,
} from '../../src/mesos/protocol.ts';
import type { ExecutorInfo } from '../../src/mesos/v1/common.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import {
  acknowledge,
  AGENT_ID,
  customTask,
  echoExecutor,
  FRAMEWORK_ID,
  frameworkMessage,
  nextUpdate,
  register,
  runTask,
  startAgent,
  stubbornExecutor,
  type Harness,
} from './harness.ts';

resetFiltersAfterEach(test);

/** An executor whose process never registers. */
function silentExecutor(id = 'silent'): ExecutorInfo {
  return { executor_id: { value: id }, command: { value: 'sleep 60' } };
}

/** Runs an echo executor task and waits until it is RUNNING (acknowledged). */
async function runningEchoTask(h: Harness): Promise<void> {
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()));
  await registering;
  const running = await nextUpdate(h);
  if (running.update.status.state !== 'TASK_RUNNING') throw new Error(`expected TASK_RUNNING, got ${running.update.status.state}`);
  acknowledge(h, running);
  await h.settle();
}

function exitedExecutor(h: Harness): Promise<ExitedExecutor> {
  return futureMessage(EXITED_EXECUTOR, h.agent.self, h.master.self).then((m) => m.body as ExitedExecutor);
}

test.serial('CustomExecutor - a child process registers over the executor socket, runs its task, and framework messages go both ways', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()));
  await h.settle();

  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;
  t.is(executor.state, 'REGISTERING');
  t.true(h.agent.usedResources().equals(Resources.parse('cpus:1.1;mem:160')));
  const from = (await registering).from;
  t.is(from.node, executor.node!);

  const running = await nextUpdate(h);
  t.is(running.update.status.state, 'TASK_RUNNING');
  t.is(running.update.status.source, 'SOURCE_EXECUTOR');
  t.is(running.update.executor_id?.value, 'echo');
  t.is(running.update.status.message, `pid ${executor.osPid}`);
  acknowledge(h, running);

  const echoed = futureMessage(EXECUTOR_TO_FRAMEWORK, h.agent.self, h.master.self);
  frameworkMessage(h, 'echo', 'ping');
  const reply = (await echoed).body as ExecutorToFramework;
  t.is(Buffer.from(reply.data, 'base64').toString(), 'echo:ping');
  t.is(reply.slave_id.value, AGENT_ID);
  t.is(reply.executor_id.value, 'echo');

  frameworkMessage(h, 'echo', 'finish');
  const finished = await nextUpdate(h);
  t.is(finished.update.status.state, 'TASK_FINISHED');

  // The task is done; the executor keeps only its own resources.
  acknowledge(h, finished);
  await h.settle();
  t.true(h.agent.usedResources().equals(Resources.parse('cpus:0.1;mem:32')));

  // Shut down by the master: the executor stops, its process exits 0, the master hears of it.
  const exited = exitedExecutor(h);
  h.master.send(h.agent.self, SHUTDOWN_EXECUTOR, { framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'echo' } } satisfies ShutdownExecutor);
  const body = await exited;
  t.is(body.status, 0);
  t.is(body.executor_id.value, 'echo');
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.true(h.agent.usedResources().isEmpty());
});

test.serial('CustomExecutor - a killed task is killed by its executor', async (t) => {
  const h = await startAgent(t);
  await register(h);
  await runningEchoTask(h);
  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: 'task-1' } } satisfies KillTask);
  const killed = await nextUpdate(h);
  t.is(killed.update.status.state, 'TASK_KILLED');
  t.is(killed.update.status.source, 'SOURCE_EXECUTOR');
});

test.serial('ExecutorCrash - the tasks of an executor that dies fail with REASON_EXECUTOR_TERMINATED; the master hears ExitedExecutorMessage', async (t) => {
  const h = await startAgent(t);
  await register(h);
  await runningEchoTask(h);
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;

  const exited = exitedExecutor(h);
  process.kill(executor.osPid!, 'SIGKILL');
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
  t.is(failed.update.status.source, 'SOURCE_AGENT');
  t.is(failed.update.status.message, 'Executor terminated with signal Killed');
  const body = await exited;
  t.is(body.status, 128 + 9);
  t.is(body.slave_id.value, AGENT_ID);
  t.is(body.framework_id.value, FRAMEWORK_ID);

  // The failed task holds nothing; the executor's own resources stay until the terminal
  // update is acknowledged and the executor is gone.
  await h.settle();
  t.true(h.agent.usedResources().equals(Resources.parse('cpus:0.1;mem:32')));
  acknowledge(h, failed);
  await h.settle();
  t.true(h.agent.usedResources().isEmpty());
  t.is(h.agent.frameworks.size, 0);
});

test.serial('ExecutorRegistrationTimeout - an executor that does not register is destroyed and its tasks fail', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, customTask('task-1', silentExecutor()));
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('silent')!;
  t.is(executor.state, 'REGISTERING');
  t.true(executor.osPid! > 0);

  h.clock.advance(EXECUTOR_REGISTRATION_TIMEOUT_MS - 1);
  await h.settle();
  t.is(executor.state, 'REGISTERING');

  const exited = exitedExecutor(h);
  h.clock.advance(1);
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_EXECUTOR_REGISTRATION_TIMEOUT');
  t.regex(failed.update.status.message ?? '', /^Executor did not register within 1mins/);
  // SIGTERM, or SIGKILL right after it: the container is destroyed without a grace period.
  t.true([128 + 9, 128 + 15].includes((await exited).status));
});

test.serial('KillTask - a task queued for an executor that has not registered is killed by the agent, and the executor shut down', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, customTask('task-1', silentExecutor()));
  await h.settle();
  const exited = exitedExecutor(h);
  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: 'task-1' } } satisfies KillTask);
  const killed = await nextUpdate(h);
  t.is(killed.update.status.state, 'TASK_KILLED');
  t.is(killed.update.status.reason, 'REASON_TASK_KILLED_DURING_LAUNCH');
  t.is(killed.update.status.source, 'SOURCE_AGENT');
  await exited;
  acknowledge(h, killed);
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
});

test.serial('ShutdownFramework - executors shut down, no updates for their tasks, the framework completes', async (t) => {
  const h = await startAgent(t);
  await register(h);
  await runningEchoTask(h);
  const exited = exitedExecutor(h);
  h.master.send(h.agent.self, SHUTDOWN_FRAMEWORK, { framework_id: { value: FRAMEWORK_ID } });
  await exited;
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.is(h.agent.completedFrameworks[0]?.id, FRAMEWORK_ID);
  t.is(h.master.received.slice(h.cursor).filter((m) => m.name === 'StatusUpdateMessage').length, 0);
});

test.serial('ShutdownExecutor - an executor that ignores the shutdown is destroyed after the grace period', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', stubbornExecutor()));
  await registering;
  await h.settle();
  h.master.send(h.agent.self, SHUTDOWN_EXECUTOR, { framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'stubborn' } } satisfies ShutdownExecutor);
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('stubborn')!;
  t.is(executor.state, 'TERMINATING');

  const exited = exitedExecutor(h);
  h.clock.advance(EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS - 1);
  await h.settle();
  t.is(executor.state, 'TERMINATING');
  h.clock.advance(1);
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
  t.true([128 + 9, 128 + 15].includes((await exited).status));
});

test.serial('ExecutorLaunchFailed - an executor that cannot start fails its tasks with REASON_CONTAINER_LAUNCH_FAILED', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const exited = exitedExecutor(h);
  runTask(h, customTask('task-1', { executor_id: { value: 'missing' }, command: { shell: false, value: '/nonexistent/executor' } }));
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  t.regex(failed.update.status.message ?? '', /^Failed to launch container: failed to execute '\/nonexistent\/executor'/);
  t.is((await exited).status, 127);
  acknowledge(h, failed);
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
});
