import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { agentMetaDir, checkpointTask, containerPidsDir } from '../../actors/agent/checkpoint.ts';
import { Containerizer, killOrphans, processRuns } from '../../actors/agent/containerizer.ts';
import { EXECUTOR_REREGISTRATION_TIMEOUT_MS } from '../../actors/agent/constants.ts';
import { SUM_UPDATE } from '../../actors/status-update-manager/protocol.ts';
import { encodeFrame } from '../../src/transport/socket.ts';
import { KILL_TASK, REGISTER_EXECUTOR, REREGISTER_EXECUTOR, REREGISTER_SLAVE, SLAVE_REREGISTERED, STATUS_UPDATE, type KillTask, type ReregisterExecutor, type StatusUpdateMessage } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { dropMessage, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
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
  runTask,
  spawnAgent,
  startAgent,
  reregistration,
} from './harness.ts';

resetFiltersAfterEach(test);

test.serial('Reregistration - the agent reports its frameworks, custom executors and tasks', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()));
  await registering;
  acknowledge(h, await nextUpdate(h));
  runTask(h, commandTask('task-2', 'sleep 60'));
  acknowledge(h, await nextUpdate(h));
  await h.settle();

  h.masterRuntime.terminate(h.master.self);
  await h.settle();
  h.master = new Probe('master', [REREGISTER_SLAVE]);
  h.masterRuntime.spawn(h.master);
  const body = await reregistration(h);
  t.is(body.slave.id.value, AGENT_ID);
  t.deepEqual(body.frameworks, [FRAMEWORK]);
  // The command executor is the agent's own: the master does not hear of it.
  t.deepEqual(body.executor_infos?.map((e) => e.executor_id.value), ['echo']);
  const tasks = Object.fromEntries((body.tasks ?? []).map((task) => [task.task_id.value, task]));
  t.is(tasks['task-1']?.state, 'TASK_RUNNING');
  t.is(tasks['task-1']?.executor_id?.value, 'echo');
  t.is(tasks['task-1']?.agent_id.value, AGENT_ID);
  t.true(['TASK_STARTING', 'TASK_RUNNING'].includes(tasks['task-2']!.state));
  t.is(tasks['task-2']?.executor_id, undefined);
});

/**
 * Terminates an agent that kills its executors on exit, and waits until their processes are gone
 * (reaped), so that its next run finds nothing alive to take back.
 */
async function terminateKillingAll(h: Harness): Promise<void> {
  const containers = h.agent.containerizer.containerIds().map((id) => h.agent.containerizer.get(id)!);
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  await Promise.all(containers.map((container) => container.exited));
}

test.serial("AgentRestart - a checkpointing framework's tasks are recovered; their executor did not survive (killed with the agent), so they fail", async (t) => {
  const framework: FrameworkInfo = { ...FRAMEWORK, checkpoint: true };
  const h = await startAgent(t, { killExecutorsOnExit: true });
  await register(h);
  runTask(h, commandTask('task-1', 'sleep 60'), framework);
  const starting = await nextUpdate(h);
  acknowledge(h, starting);
  const running = await nextUpdate(h);
  t.is(running.update.status.state, 'TASK_RUNNING');
  acknowledge(h, running);
  await h.settle();
  const meta = join(h.workDir, 'meta', 'slaves', AGENT_ID, 'frameworks', FRAMEWORK_ID);
  t.true(existsSync(join(meta, 'framework.info')));

  await terminateKillingAll(h);
  h.agent = spawnAgent(h);
  const body = await reregistration(h);
  t.is(body.slave.id.value, AGENT_ID);
  t.deepEqual(body.frameworks, [framework]);
  t.deepEqual(
    body.tasks?.map((task) => [task.task_id.value, task.state]),
    [['task-1', 'TASK_FAILED']],
  );

  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  const failed = await nextUpdate(h);
  t.is(failed.update.status.task_id.value, 'task-1');
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_EXECUTOR_TERMINATED');
  t.regex(failed.update.status.message ?? '', /agent restarted/);
  acknowledge(h, failed);
  await h.settle();
  t.is(h.agent.frameworks.size, 0);
  t.false(existsSync(meta));
});

test.serial('AgentRestart - a task that ended and was acknowledged before the restart is not failed again', async (t) => {
  const framework: FrameworkInfo = { ...FRAMEWORK, checkpoint: true };
  const h = await startAgent(t, { killExecutorsOnExit: true });
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()), framework);
  await registering;
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  h.master.send(h.agent.self, KILL_TASK, { framework_id: { value: FRAMEWORK_ID }, task_id: { value: 'task-1' } } satisfies KillTask);
  const killed = await nextUpdate(h);
  t.is(killed.update.status.state, 'TASK_KILLED');
  acknowledge(h, killed);
  runTask(h, customTask('task-2', echoExecutor()), framework);
  const running = await nextUpdate(h);
  t.is(running.update.status.task_id.value, 'task-2');
  acknowledge(h, running);
  await h.settle();

  await terminateKillingAll(h);
  const restartedAt = h.master.received.length;
  h.agent = spawnAgent(h);
  const body = await reregistration(h);
  // task-1 is over and its end acknowledged: the master and the framework are done with it. Only
  // task-2, whose executor was killed with the agent, fails (before, task-1 came back TASK_FAILED too).
  t.deepEqual(
    body.tasks?.map((task) => [task.task_id.value, task.state]),
    [['task-2', 'TASK_FAILED']],
  );
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  const failed = await nextUpdate(h);
  t.is(failed.update.status.task_id.value, 'task-2');
  acknowledge(h, failed);
  await h.settle();
  const task1 = h.master.received.slice(restartedAt).filter((m) => m.name === STATUS_UPDATE && (m.body as StatusUpdateMessage).update.status.task_id.value === 'task-1');
  t.deepEqual(task1, [], 'no update of task-1 after the restart');
});

// --recover=reconnect (the default): executors of checkpointing frameworks outlive the agent.

const CHECKPOINTING: FrameworkInfo = { ...FRAMEWORK, checkpoint: true };

/**
 * A registered agent running `task-1` in the echo executor for `framework`, its TASK_RUNNING
 * acknowledged and settled.
 */
async function echoRunning(t: ExecutionContext, framework: FrameworkInfo): Promise<Harness> {
  const h = await startAgent(t);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()), framework);
  await registering;
  const running = await nextUpdate(h);
  if (running.update.status.state !== 'TASK_RUNNING') throw new Error(`task-1 is ${running.update.status.state}`);
  acknowledge(h, running);
  await h.settle();
  return h;
}

/** Terminates the agent (its executors of checkpointing frameworks are left running) and starts its next run. */
async function restart(h: Harness): Promise<void> {
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  h.agent = spawnAgent(h);
}

test.serial("AgentRestart - a checkpointing framework's custom executor survives the restart, re-registers, and its task runs on", async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  const osPid = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.osPid!;

  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  await restart(h);
  await reregistering;
  const body = await reregistration(h);
  // Before: the executor died with the agent and task-1 came back TASK_FAILED.
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_RUNNING']]);
  t.deepEqual(body.executor_infos?.map((e) => e.executor_id.value), ['echo']);
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;
  t.is(executor.state, 'RUNNING');
  t.is(executor.osPid, osPid, 'the same process, not a new one');

  // It is reachable both ways: a framework message in, its task's end out.
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  frameworkMessage(h, 'echo', 'finish');
  const finished = await nextUpdate(h);
  t.is(finished.update.status.task_id.value, 'task-1');
  t.is(finished.update.status.state, 'TASK_FINISHED');
  acknowledge(h, finished);
});

test.serial('AgentRestart - an update the executor kept while its agent was away comes through when it re-registers', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  // The task finishes, but its update never reaches the agent (as if it was sent while the agent
  // was down): the executor keeps it until acknowledged.
  const lost = dropMessage(STATUS_UPDATE, undefined, h.agent.self);
  frameworkMessage(h, 'echo', 'finish');
  t.is(((await lost).body as StatusUpdateMessage).update.status.state, 'TASK_FINISHED');
  await h.settle();

  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  await restart(h);
  const kept = ((await reregistering).body as ReregisterExecutor).updates ?? [];
  t.deepEqual(kept.map((u) => u.status.state), ['TASK_FINISHED']);
  await reregistration(h);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  const finished = await nextUpdate(h);
  t.is(finished.update.status.task_id.value, 'task-1');
  t.is(finished.update.status.state, 'TASK_FINISHED');
  acknowledge(h, finished);
});

test.serial('AgentRestart - a task the executor never got (the agent died after checkpointing it) is reported TASK_LOST when the executor re-registers', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  const containerId = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.containerId;

  // The agent dies right after it checkpointed task-2, before the executor got it.
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  checkpointTask(h.workDir, AGENT_ID, FRAMEWORK_ID, 'echo', containerId, customTask('task-2', echoExecutor()));
  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  h.agent = spawnAgent(h);
  await reregistering;
  const body = await reregistration(h);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_RUNNING'], ['task-2', 'TASK_LOST']]);
  const update = await nextUpdate(h);
  t.like(update.update.status, { task_id: { value: 'task-2' }, state: 'TASK_LOST', reason: 'REASON_AGENT_RESTARTED', source: 'SOURCE_AGENT', message: 'Task launched during agent restart' });
  acknowledge(h, update);
});

test.serial("AgentRestart - a checkpointing framework's command task survives the restart, and its end is reported by its executor", async (t) => {
  const h = await startAgent(t);
  await register(h);
  // Runs until the test creates `release` in its sandbox.
  runTask(h, commandTask('task-1', 'while [ ! -e release ]; do sleep 0.02; done; exit 3'), CHECKPOINTING);
  for (const state of ['TASK_STARTING', 'TASK_RUNNING']) {
    const update = await nextUpdate(h);
    t.is(update.update.status.state as string, state);
    acknowledge(h, update);
  }
  await h.settle();
  const { directory: sandbox, osPid } = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-1')!;
  // Its command executor runs in a process of its own, bundled into one file for plain node.
  const argv = readFileSync(`/proc/${osPid!}/cmdline`, 'utf8').split('\0');
  t.deepEqual(argv.slice(0, 2), [process.execPath, join(h.workDir, 'meta', 'command-executor.mjs')]);

  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  await restart(h);
  await reregistering;
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_RUNNING']]);
  // The command executor is the agent's own: the master still does not hear of it.
  t.deepEqual(body.executor_infos, []);

  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  writeFileSync(join(sandbox, 'release'), '');
  const failed = await nextUpdate(h);
  // Its exit status is known: the executor that reports it is the task's parent, not the agent.
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.message, 'Command exited with status 3');
  acknowledge(h, failed);
});

test.serial('AgentRestart - an executor that does not re-register in time is killed, and its tasks fail with REASON_EXECUTOR_REREGISTRATION_TIMEOUT', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);

  // The executor's answer to the reconnect request is lost.
  const dropped = dropMessage(REREGISTER_EXECUTOR);
  await restart(h);
  await dropped;
  await h.settle();
  t.is(h.agent.state, 'RECOVERING', 'waiting for the executor');
  h.clock.advance(EXECUTOR_REREGISTRATION_TIMEOUT_MS);
  const body = await reregistration(h);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  const failed = await nextUpdate(h);
  t.is(failed.update.status.task_id.value, 'task-1');
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT');
  t.regex(failed.update.status.message ?? '', /did not re-register within 2secs/);
  // Reported as it was when the agent re-registered: still running, or already failed.
  t.true(['TASK_RUNNING', 'TASK_FAILED'].includes(String(body.tasks?.[0]?.state)));
  acknowledge(h, failed);
});

test.serial('AgentRestart - an executor that dies before it re-registers ends the wait at once: its tasks fail', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  const osPid = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.osPid!;

  const dropped = dropMessage(REREGISTER_EXECUTOR);
  await restart(h);
  await dropped;
  // It dies while the agent waits for it (no longer the agent's child: its end is looked for).
  const failing = futureMessage(SUM_UPDATE, h.agent.self);
  process.kill(osPid, 'SIGKILL');
  await failing;
  // Recovery is over without waiting for --executor_reregistration_timeout (the clock did not move).
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_FAILED']]);
});

test.serial('AgentRestart - with --recover=cleanup the next run kills what the previous one left running, forgets its id and terminates', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  const container = h.agent.containerizer.get(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.containerId)!;

  // The next run, for an incompatible upgrade.
  let heard: string | undefined;
  Object.assign(h.options, { recover: 'cleanup', onShutdown: (reason: string) => (heard = reason) });
  await restart(h);
  const agentId = h.agent.id;
  t.is((await container.exited).signal, 'SIGKILL', 'the executor the previous run left is killed');
  await h.settle();
  t.regex(heard ?? '', /recovered with --recover=cleanup: killed what agent master-uuid-S0 left running/);
  t.is(h.agentRuntime.process(agentId), undefined, 'the agent terminated');
  t.false(existsSync(join(h.workDir, 'meta', 'slaves', 'latest')), 'its next start registers as a new agent');
});

/** A framework's checkpoint directory under the agent's meta directory, with `framework.info` holding `text` (none if undefined). */
function strayFramework(h: Harness, frameworkId: string, text: string | undefined): string {
  const dir = join(agentMetaDir(h.workDir, AGENT_ID), 'frameworks', frameworkId);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'framework.info');
  if (text !== undefined) writeFileSync(file, text);
  return file;
}

test.serial('AgentRestart - --strict (the default): a checkpoint that cannot be read stops the agent, naming it; what the previous run left runs on', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;
  const osPid = executor.osPid!;
  const corrupt = strayFramework(h, 'framework-0001', '{"user": "te');
  const failed = new Promise<Error>((resolve) => Object.assign(h.options, { onFailure: resolve }));
  await restart(h);
  const agentId = h.agent.id;
  const failure = await failed;
  await h.settle();
  t.true(failure.message.startsWith(`checkpoint '${corrupt}' is not valid JSON`), failure.message);
  t.is(h.agentRuntime.process(agentId), undefined, 'the agent terminated');
  t.true(processRuns(osPid), "the previous run's executor was not touched");
  t.true(existsSync(join(h.workDir, 'meta', 'slaves', 'latest')), 'the agent id is kept for the run after the remedy');
  t.is(h.master.received.slice(h.cursor).filter((m) => m.name === 'ReregisterSlaveMessage' || m.name === 'RegisterSlaveMessage').length, 0, 'it did not register as a new agent');

  // The operator's remedy (here: --strict=false) and a restart: the executor is taken back.
  Object.assign(h.options, { strict: false });
  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  h.agent = spawnAgent(h);
  await reregistering;
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_RUNNING']]);
  t.deepEqual(body.frameworks?.map((f) => f.id?.value), [FRAMEWORK_ID], 'the unreadable framework is left out');
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.osPid, osPid, 'the same process');
});

test.serial('AgentRestart - an agent restarted with other --resources refuses to recover (Mesos\'s "Incompatible agent info"), touching nothing; with the old ones it takes its executor back', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  const osPid = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.osPid!;
  const resources = h.agent.flags.resources;
  const failed = new Promise<Error>((resolve) => Object.assign(h.options, { onFailure: resolve, resources: 'cpus:64;mem:1024' }));
  await restart(h);
  const agentId = h.agent.id;
  const failure = await failed;
  await h.settle();
  t.regex(failure.message, /^Incompatible agent info detected: resources were '.*', now 'cpus:64;mem:1024'$/);
  t.is(h.agentRuntime.process(agentId), undefined, 'the agent terminated');
  t.true(processRuns(osPid), "the previous run's executor was not touched");
  t.true(existsSync(join(h.workDir, 'meta', 'slaves', 'latest')));

  Object.assign(h.options, { resources });
  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  h.agent = spawnAgent(h);
  await reregistering;
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_RUNNING']]);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.osPid, osPid, 'the same process');
});

test.serial('AgentRestart - a second agent on the same work directory stops before it touches anything: the first one runs on', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('sleeper', 'exec sleep 600'));
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  const first = h.agent;
  const container = first.containerizer.get(first.frameworks.get(FRAMEWORK_ID)!.executors.get('sleeper')!.containerId)!;

  const failed = new Promise<Error>((resolve) => Object.assign(h.options, { onFailure: resolve }));
  const second = spawnAgent(h);
  const failure = await failed;
  await h.settle();
  t.is(failure.message, `another agent runs on work directory '${h.workDir}' (its executor socket is in use)`);
  t.is(h.agentRuntime.process(second.id), undefined, 'the second agent terminated');
  // To the second agent the first one's container was an orphan of a previous run, to be killed.
  t.true(processRuns(container.pid), "the first agent's task runs on");
  t.is(first.state, 'RUNNING');
  t.true(existsSync(join(h.workDir, 'meta', 'slaves', 'latest')));
});

test.serial('AgentRestart - a framework directory without its framework.info (the agent died between the two) is no recovery error', async (t) => {
  const h = await echoRunning(t, CHECKPOINTING);
  const osPid = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.osPid!;
  strayFramework(h, 'framework-0001', undefined);
  let failure: Error | undefined;
  Object.assign(h.options, { onFailure: (error: Error) => (failure = error) });
  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  await restart(h);
  await reregistering;
  const body = await reregistration(h);
  t.is(failure, undefined);
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['task-1', 'TASK_RUNNING']]);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.osPid, osPid);
});

test.serial('AgentRestart - executors of frameworks that do not checkpoint die with the agent', async (t) => {
  const h = await echoRunning(t, FRAMEWORK);
  const container = h.agent.containerizer.get(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.containerId)!;
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  t.is((await container.exited).signal, 'SIGKILL');
});

test.serial("executor socket - a local process that says hello as an executor's node without its secret is refused; the executor is still reached", async (t) => {
  const h = await echoRunning(t, FRAMEWORK);
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;
  const rogue = createConnection({ path: h.agent.executorSocket!.path });
  t.teardown(() => rogue.destroy());
  await once(rogue, 'connect');
  const closed = once(rogue, 'close');
  rogue.write(encodeFrame(JSON.stringify({ hello: { node: executor.node } })));
  await closed;
  // Had it taken the executor's place, the framework message would have gone to it.
  frameworkMessage(h, 'echo', 'finish');
  const finished = await nextUpdate(h);
  t.is(finished.update.status.state, 'TASK_FINISHED');
  acknowledge(h, finished);
});

test.serial('AgentRestart - containers a previous run left running (it died without a word) are killed on recovery', async (t) => {
  const h = await startAgent(t);
  // As the previous run would have: launch through a containerizer that notes its processes.
  const previous = new Containerizer({ delay: () => ({ cancel: () => undefined }), pidDir: containerPidsDir(h.workDir) });
  const orphan = await previous.launch({ containerId: 'left-behind', command: { value: 'sleep 60' }, sandbox: join(h.workDir, 'orphan'), env: {} });
  t.true(orphan.pid > 0);
  // A note whose pid now belongs to some other process (here: the test itself) must not be acted on.
  writeFileSync(join(containerPidsDir(h.workDir), 'reused.pid'), JSON.stringify({ pid: process.pid, startTime: 'not-ours' }));
  // The agent restarts on the same work directory.
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  h.agent = spawnAgent(h);
  await register(h);
  const exit = await orphan.exited;
  t.is(exit.signal, 'SIGKILL');
  t.deepEqual(readdirSync(containerPidsDir(h.workDir)), [], 'the notes are gone');
});

test.serial('Containerizer - a running container is noted in pidDir until it exits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-pids-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const containerizer = new Containerizer({ delay: () => ({ cancel: () => undefined }), pidDir: join(dir, 'pids') });
  const container = await containerizer.launch({ containerId: 'c1', command: { value: 'sleep 60' }, sandbox: join(dir, 'sandbox'), env: {} });
  const note = JSON.parse(readFileSync(join(dir, 'pids', 'c1.pid'), 'utf8')) as { pid: number; startTime: string };
  t.is(note.pid, container.pid);
  t.regex(note.startTime, /^\d+$/);
  t.deepEqual(await killOrphans(join(dir, 'pids')), [container.pid]);
  await container.exited;
  t.deepEqual(await killOrphans(join(dir, 'pids')), []);
});
