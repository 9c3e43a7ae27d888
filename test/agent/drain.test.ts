import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { checkpointAgent, checkpointDrainConfig, drainConfigFile, recoverState } from '../../actors/agent/checkpoint.ts';
import { drainKillPolicy } from '../../actors/agent/drain.ts';
import { state } from '../../actors/agent/http.ts';
import {
  DRAIN_SLAVE,
  EXECUTOR_TO_FRAMEWORK,
  KILL_TASK,
  REGISTER_EXECUTOR,
  REREGISTER_EXECUTOR,
  SLAVE_REREGISTERED,
  type DrainConfig,
  type DrainSlave,
  type ExecutorToFramework,
  type KillTask,
} from '../../src/mesos/protocol.ts';
import type { FrameworkInfo, TaskInfo } from '../../src/mesos/v1/common.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { heldFifo } from '../helpers/fifo.ts';
import { Probe } from '../helpers/runtime.ts';
import {
  acknowledge,
  AGENT_ID,
  commandTask,
  customTask,
  echoExecutor,
  FRAMEWORK,
  FRAMEWORK_ID,
  frameworkMessage,
  type Harness,
  nextUpdate,
  register,
  reregistration,
  runTask,
  spawnAgent,
  startAgent,
} from './harness.ts';

resetFiltersAfterEach(test);

/**
 * The agent's side of draining (Mesos 1.9's `Slave::drain`, MESOS-9818): `DrainSlaveMessage`
 * from its master kills every task (within the drain's `max_grace_period`), the kills' updates
 * say `REASON_AGENT_DRAINING` (`TASK_GONE_BY_OPERATOR` with `mark_gone`), no new task runs, and
 * the config is checkpointed until no framework is left, so that a restarted agent goes on
 * draining.
 */

const seconds = (s: number) => ({ nanoseconds: s * 1e9 });

function drain(h: Harness, config: DrainConfig, from: Probe = h.master): void {
  from.send(h.agent.self, DRAIN_SLAVE, { config } satisfies DrainSlave);
}

/** Runs `task` (a command task) and acknowledges its TASK_STARTING and TASK_RUNNING; returns its container. */
async function commandRunning(h: Harness, task: TaskInfo, framework: FrameworkInfo = FRAMEWORK) {
  runTask(h, task, framework);
  for (const expected of ['TASK_STARTING', 'TASK_RUNNING']) {
    const update = await nextUpdate(h);
    if (update.update.status.state !== expected) throw new Error(`${task.task_id.value} is ${update.update.status.state}, not ${expected}`);
    acknowledge(h, update);
  }
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get(task.task_id.value)!;
  return h.agent.containerizer.get(executor.containerId)!;
}

test('drainKillPolicy - the smaller of the task\'s grace period and max_grace_period; none without max_grace_period', (t) => {
  t.deepEqual(drainKillPolicy({ max_grace_period: seconds(1) }, { grace_period: seconds(60) }), { grace_period: seconds(1) });
  t.deepEqual(drainKillPolicy({ max_grace_period: seconds(60) }, { grace_period: seconds(1) }), { grace_period: seconds(1) });
  t.deepEqual(drainKillPolicy({ max_grace_period: seconds(5) }, undefined), { grace_period: seconds(5) });
  t.deepEqual(drainKillPolicy({ max_grace_period: seconds(5) }, {}), { grace_period: seconds(5) });
  t.is(drainKillPolicy({}, { grace_period: seconds(60) }), undefined, "the executor applies the task's own");
});

test('recoverState - the drain config is recovered with the agent; one that is not a DrainConfig is an error naming its file', async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-drain-'));
  t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  checkpointAgent(workDir, { hostname: 'agent-host', id: { value: AGENT_ID } });
  t.is((await recoverState(workDir)).drainConfig, undefined, 'not draining');
  checkpointDrainConfig(workDir, AGENT_ID, { max_grace_period: seconds(2), mark_gone: true });
  t.deepEqual((await recoverState(workDir)).drainConfig, { max_grace_period: seconds(2), mark_gone: true });

  const file = drainConfigFile(workDir, AGENT_ID);
  writeFileSync(file, JSON.stringify({ mark_gone: 'yes' }));
  const recovered = await recoverState(workDir);
  t.is(recovered.drainConfig, undefined);
  t.is(recovered.errors.length, 1);
  t.true(recovered.errors[0]!.startsWith(`checkpoint '${file}' is not a drain config: 'mark_gone': `), recovered.errors[0]);
});

test.serial('DrainSlaveMessage - from its master: a running command task is killed (SIGTERM) and its TASK_KILLED says REASON_AGENT_DRAINING; the config is checkpointed, shown in /state, and forgotten once no task is left', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const container = await commandRunning(h, commandTask('sleeper', 'exec sleep 600'));

  const kill = futureMessage(KILL_TASK, h.agent.self);
  drain(h, {});
  const body = (await kill).body as KillTask;
  t.is(body.task_id.value, 'sleeper');
  t.is(body.kill_policy, undefined, 'no max_grace_period: the task is killed within its own grace period');
  // The Clock is paused: no grace period ends, so only the SIGTERM can end the task.
  t.is((await container.exited).signal, 'SIGTERM');
  const killed = await nextUpdate(h);
  t.like(killed.update.status, { task_id: { value: 'sleeper' }, state: 'TASK_KILLED', reason: 'REASON_AGENT_DRAINING' });

  // Draining until the last task is done: checkpointed, and shown.
  const file = drainConfigFile(h.workDir, AGENT_ID);
  t.is(file, join(h.workDir, 'meta', 'slaves', AGENT_ID, 'drain.config'));
  t.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {});
  t.deepEqual(h.agent.drainConfig, {});
  t.deepEqual(state(h.agent).drain_config, {});
  t.is(typeof state(h.agent).estimated_drain_start_time_seconds, 'number');

  acknowledge(h, killed);
  await h.settle();
  t.is(h.agent.frameworks.size, 0, 'the command executor exited once its end was acknowledged');
  t.is(h.agent.drainConfig, undefined, 'drained: the config is forgotten');
  t.false(existsSync(file), 'and so is its checkpoint');
  t.false('drain_config' in state(h.agent));
  // Drained, the agent runs tasks again.
  runTask(h, commandTask('after', 'exec sleep 600'));
  t.is((await nextUpdate(h)).update.status.state, 'TASK_STARTING');
});

test.serial('DrainSlaveMessage - with mark_gone: the kill is announced TASK_KILLING and ends TASK_GONE_BY_OPERATOR, both with REASON_AGENT_DRAINING', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const framework: FrameworkInfo = { ...FRAMEWORK, capabilities: [{ type: 'TASK_KILLING_STATE' }] };
  const container = await commandRunning(h, commandTask('sleeper', 'exec sleep 600'), framework);

  drain(h, { mark_gone: true });
  const killing = await nextUpdate(h);
  t.like(killing.update.status, { state: 'TASK_KILLING', reason: 'REASON_AGENT_DRAINING' });
  acknowledge(h, killing);
  t.is((await container.exited).signal, 'SIGTERM');
  const gone = await nextUpdate(h);
  t.like(gone.update.status, { task_id: { value: 'sleeper' }, state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_AGENT_DRAINING' });
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)?.executors.get('sleeper')?.terminatedTasks.get('sleeper')?.state, 'TASK_GONE_BY_OPERATOR', 'recorded as sent');
  acknowledge(h, gone);
});

test.serial("DrainSlaveMessage - max_grace_period caps the task's longer kill policy: a task that ignores SIGTERM is SIGKILLed after max_grace_period", async (t) => {
  const h = await startAgent(t);
  await register(h);
  const dir = join(h.workDir, 'fifo');
  const { opened } = heldFifo(dir);
  // `> held` comes after the trap: once the FIFO is open, SIGTERM is ignored.
  const task: TaskInfo = { ...commandTask('stubborn', `trap '' TERM; sleep 600 > '${dir}/held'`), kill_policy: { grace_period: seconds(60) } };
  const container = await commandRunning(h, task);
  await opened;

  const kill = futureMessage(KILL_TASK, h.agent.self);
  drain(h, { max_grace_period: seconds(1) });
  t.deepEqual(((await kill).body as KillTask).kill_policy, { grace_period: seconds(1) });
  let exited = false;
  void container.exited.then(() => (exited = true));
  await h.settle();
  h.clock.advance(999);
  await h.settle();
  t.false(exited, 'SIGTERM is ignored, and the grace period is not over');

  h.clock.advance(1);
  t.is((await container.exited).signal, 'SIGKILL', 'killed after max_grace_period, not after its own 60 secs');
  const killed = await nextUpdate(h);
  t.like(killed.update.status, { state: 'TASK_KILLED', reason: 'REASON_AGENT_DRAINING' });
  acknowledge(h, killed);
});

test.serial('DrainSlaveMessage - a task queued for an executor that has not registered ends at once TASK_KILLED, and the executor is shut down', async (t) => {
  // A command executor that never registers: the task stays queued.
  const h = await startAgent(t, {
    commandExecutor: (options) => {
      const probe = new Probe(options.runtime.generateId('executor'));
      options.runtime.spawn(probe);
      return { pid: probe.self };
    },
  });
  await register(h);
  runTask(h, commandTask('queued', 'exec sleep 600'));
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('queued')!;
  t.true(executor.queuedTasks.has('queued'));

  drain(h, { max_grace_period: seconds(1) });
  const killed = await nextUpdate(h);
  t.like(killed.update.status, { task_id: { value: 'queued' }, state: 'TASK_KILLED', reason: 'REASON_AGENT_DRAINING', source: 'SOURCE_AGENT' });
  await h.settle();
  t.is(executor.queuedTasks.size, 0);
  t.not(executor.state, 'REGISTERING', 'the executor has nothing left to run');
  acknowledge(h, killed);
});

test.serial('DrainSlaveMessage - RunTask while draining: TASK_LOST (TASK_DROPPED to a partition-aware framework), REASON_AGENT_DRAINING', async (t) => {
  const h = await startAgent(t);
  await register(h);
  await commandRunning(h, commandTask('sleeper', 'exec sleep 600'));
  drain(h, {});
  const killed = await nextUpdate(h);
  t.is(killed.update.status.state, 'TASK_KILLED');
  // Not acknowledged: the agent still has the task, and is still draining.

  runTask(h, commandTask('late', 'exec sleep 600'));
  const lost = await nextUpdate(h);
  t.like(lost.update.status, { task_id: { value: 'late' }, state: 'TASK_LOST', reason: 'REASON_AGENT_DRAINING', message: 'Agent is currently draining', source: 'SOURCE_AGENT' });
  acknowledge(h, lost);

  const partitionAware: FrameworkInfo = { user: 'test', name: 'partition aware', id: { value: 'framework-0001' }, capabilities: [{ type: 'PARTITION_AWARE' }] };
  runTask(h, commandTask('later', 'exec sleep 600'), partitionAware);
  const dropped = await nextUpdate(h);
  t.like(dropped.update.status, { task_id: { value: 'later' }, state: 'TASK_DROPPED', reason: 'REASON_AGENT_DRAINING' });
  t.is(dropped.update.framework_id.value, 'framework-0001');
  acknowledge(h, dropped);
  await h.settle();
  t.deepEqual([...h.agent.frameworks.keys()], [FRAMEWORK_ID], 'nothing was launched for the refused tasks');
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.size, 1);
});

test.serial('DrainSlaveMessage - from anyone but its master, or before the agent registered: ignored', async (t) => {
  const h = await startAgent(t);
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');
  drain(h, { mark_gone: true });
  await h.settle();
  t.is(h.agent.drainConfig, undefined, 'not registered yet');

  await register(h);
  await commandRunning(h, commandTask('sleeper', 'exec sleep 600'));
  const stranger = new Probe('stranger');
  h.masterRuntime.spawn(stranger);
  drain(h, { mark_gone: true }, stranger);
  await h.settle();
  t.is(h.agent.drainConfig, undefined);
  t.false(existsSync(drainConfigFile(h.workDir, AGENT_ID)));
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('sleeper')!.launchedTasks.get('sleeper')?.state, 'TASK_RUNNING', 'not killed');
  t.false('drain_config' in state(h.agent));

  // The same message from its master, registered, is heeded.
  drain(h, { mark_gone: true });
  await h.settle();
  t.deepEqual(h.agent.drainConfig, { mark_gone: true });
  t.like((await nextUpdate(h)).update.status, { task_id: { value: 'sleeper' }, state: 'TASK_GONE_BY_OPERATOR' });
});

const CHECKPOINTING: FrameworkInfo = { ...FRAMEWORK, checkpoint: true };

/** The framework message the echo executor sends next, as text. */
async function executorSays(h: Harness): Promise<string> {
  const message = futureMessage(EXECUTOR_TO_FRAMEWORK, h.agent.self, h.master.self);
  return Buffer.from(((await message).body as ExecutorToFramework).data, 'base64').toString();
}

test.serial('DrainSlaveMessage - a restarted agent goes on draining: once its surviving executor re-registered, it kills the task', async (t: ExecutionContext) => {
  const h = await startAgent(t);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()), CHECKPOINTING);
  await registering;
  const running = await nextUpdate(h);
  t.is(running.update.status.state, 'TASK_RUNNING');
  acknowledge(h, running);
  await h.settle();

  // The executor ignores the drain's kill, as if the agent had died before sending it.
  let said = executorSays(h);
  frameworkMessage(h, 'echo', 'ignore-next-kill');
  t.is(await said, 'echo:ignore-next-kill');
  said = executorSays(h);
  const config: DrainConfig = { max_grace_period: seconds(5), mark_gone: true };
  drain(h, config);
  // A task without a kill policy of its own is killed within max_grace_period.
  t.is(await said, `ignored-kill:task-1:${5e9}`);
  await h.settle();
  t.deepEqual(JSON.parse(readFileSync(drainConfigFile(h.workDir, AGENT_ID), 'utf8')), config);

  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  h.agent = spawnAgent(h);
  await reregistering;
  await reregistration(h);
  t.deepEqual(h.agent.drainConfig, config, 'recovered from its checkpoint');
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  const gone = await nextUpdate(h);
  t.like(gone.update.status, { task_id: { value: 'task-1' }, state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_AGENT_DRAINING' });
  acknowledge(h, gone);
  await h.settle();
  // Its task done, the agent is drained though its executor stays (it runs no task).
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)?.executors.get('echo')?.state, 'RUNNING', 'the executor is still there');
  t.is(h.agent.drainConfig, undefined, 'no task left: drained');
  t.false(existsSync(drainConfigFile(h.workDir, AGENT_ID)));
  // So a task the master sends it again (reactivated) runs, on that very executor.
  runTask(h, customTask('task-2', echoExecutor()), CHECKPOINTING);
  t.like((await nextUpdate(h)).update.status, { task_id: { value: 'task-2' }, state: 'TASK_RUNNING' });
});
