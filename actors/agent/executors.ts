import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  EXECUTOR_REGISTERED,
  EXECUTOR_REREGISTERED,
  EXITED_EXECUTOR,
  RECONNECT_EXECUTOR,
  SHUTDOWN_EXECUTOR,
  type ExecutorRegistered,
  type ExecutorReregistered,
  type ReconnectExecutor,
  type ExitedExecutor,
  type RegisterExecutor,
  type ReregisterExecutor,
  type ShutdownExecutor,
  type ShutdownFramework,
} from '../../src/mesos/protocol.ts';
import { commandShell, type CommandInfo, type ExecutorInfo, type TaskInfo } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import { launchCommandExecutor, describeExit, type LaunchCommandExecutorOptions } from '../executor/command-executor.ts';
import { DEFAULT_EXECUTOR_MAIN, launchDefaultExecutor } from '../executor/default-executor.ts';
import { executorEnvironment, executorNodeName, MESOS_TS_EXECUTOR_TOKEN, MESOS_TS_MEMORY_CGROUP } from '../executor/environment.ts';
import { StatusUpdateManager } from '../status-update-manager/status-update-manager-process.ts';
import { SUM_CLEANUP, type SumCleanup } from '../status-update-manager/protocol.ts';
import type { Agent } from './agent.ts';
import { checkpointExecutor, checkpointRunPid, createSandbox, metaDir, removeExecutorCheckpoint, removeFrameworkCheckpoint } from './checkpoint.ts';
import { bundleCommandExecutor, bundleExecutorMain, commandExecutorCommand, executorMainCommand } from './command-executor-bundle.ts';
import { MAX_COMPLETED_FRAMEWORKS } from './constants.ts';
import { drainProgressed } from './drain.ts';
import { UNKNOWN_EXIT_STATUS, type Container, type ContainerExit } from './containerizer.ts';
import { attachSandbox, detachFramework, detachSandbox } from './files.ts';
import { formatDuration } from './flags.ts';
import * as gc from './gc.ts';
import { agentEndpoint } from './http-executor.ts';
import { ExecutorRecord, type FrameworkRecord } from './state.ts';
import { launchQueuedTasks } from './task-groups.ts';
import { droppedState, sendAgentUpdate, statusUpdate } from './tasks.ts';

/**
 * Executors: launching them (custom ones as child processes through the containerizer, reached
 * over the agent's executor socket; the built-in command and default executors in this runtime,
 * or in a process of its own for a checkpointing framework), their registration and its timeout
 * (what was queued for them goes to them then, task groups whole: `task-groups.ts`), their
 * re-registration after the agent restarted, shutting them down (framework or executor
 * shutdown) with a grace period, and their exits.
 */

/** Starts a built-in executor in the agent's runtime (`launchCommandExecutor`, `launchDefaultExecutor`). */
export type CommandExecutorLauncher = (options: LaunchCommandExecutorOptions) => { readonly pid: UPID };

export const defaultCommandExecutor: CommandExecutorLauncher = launchCommandExecutor;

/** The agent's status update manager, in its runtime (one per agent). */
export function createStatusUpdateManager(agent: Agent): StatusUpdateManager {
  return new StatusUpdateManager({ workDir: agent.flags.workDir, id: agent.runtime.generateId('status-update-manager') });
}

/** The name of every executor info the agent generates for a command task begins so. */
const COMMAND_EXECUTOR_NAME = 'Command Executor (Task: ';

/**
 * Whether `info` is one the agent generated for a command task: those have no command to run of
 * their own (no command at all, or, for a task that names its user, one that carries only that
 * user and is named as generated), nor the default executor's `type: DEFAULT`.
 */
export function isCommandExecutorInfo(info: ExecutorInfo): boolean {
  if (info.type === 'DEFAULT') return false;
  return info.command === undefined || (info.command.value === undefined && info.name?.startsWith(COMMAND_EXECUTOR_NAME) === true);
}

/** The executor info of a command task (Mesos `Slave::getExecutorInfo`): the executor id is the task id. */
export function commandExecutorInfo(task: TaskInfo, frameworkId: string): ExecutorInfo {
  const command = task.command ?? {};
  const value = command.value ?? '';
  const shown = commandShell(command)
    ? `sh -c '${value.length > 15 ? `${value.slice(0, 15)}...` : value}'`
    : `[${[value, ...(command.arguments ?? []).slice(1)].join(', ')}]`;
  const info: ExecutorInfo = {
    executor_id: { value: task.task_id.value },
    framework_id: { value: frameworkId },
    name: `${COMMAND_EXECUTOR_NAME}${task.task_id.value}) (Command: ${shown})`,
    source: task.task_id.value,
  };
  // As Mesos's `getExecutorInfo`, the executor runs as the task's user: whose sandbox it is
  // (`access_sandboxes`) and whose executor (`view_executors`).
  if (command.user !== undefined) info.command = { user: command.user };
  if (task.labels !== undefined) info.labels = task.labels;
  return info;
}

// ---------------------------------------------------------------------------------------------
// Launch.

/** A new executor record (`REGISTERING`), its sandbox, and its registration timeout; `launchExecutor` starts it. */
export function createExecutor(agent: Agent, framework: FrameworkRecord, info: ExecutorInfo, commandExecutor: boolean): ExecutorRecord {
  const agentId = agent.agentId;
  if (agentId === undefined) throw new Error('an agent without an id cannot launch executors');
  const containerId = agent.newContainerId();
  gc.unscheduleForRun(agent, agentId, framework.id, info.executor_id.value);
  const directory = createSandbox(agent.flags.workDir, agentId, framework.id, info.executor_id.value, containerId);
  const executor = new ExecutorRecord(info, framework.id, containerId, directory, commandExecutor);
  framework.executors.set(executor.id, executor);
  attachSandbox(agent, executor, framework);
  if (framework.checkpoint) checkpointExecutor(agent.flags.workDir, agentId, framework.id, info);
  executor.registrationTimer = agent.after(agent.flags.executorRegistrationTimeoutMs, () =>
    registerExecutorTimeout(agent, framework.id, executor.id, containerId),
  );
  return executor;
}

/**
 * Starts the executor: a custom one in a container; the command executor (and the default
 * executor) in this runtime, or, for a checkpointing framework whose executors are to survive an
 * agent restart (`--recover=reconnect`), in a container of its own (`command-executor-main.ts`,
 * `default-executor-main.ts`), as Mesos always runs them. One in this runtime dies with the agent.
 */
export function launchExecutor(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord): void {
  agent.log.info({ executor_id: executor.id, framework_id: framework.id, container_id: executor.containerId, directory: executor.directory }, 'Launching executor');
  // The default executor (task groups) runs as the command executor does, each of its tasks in
  // a container nested in the executor's.
  if (executor.defaultExecutor && !survivesRestart(agent, framework)) launchBuiltIn(agent, framework, executor, launchDefaultExecutor);
  else if (executor.defaultExecutor) agent.continueWith(defaultExecutorBundle(agent), (bundled) => launchCustom(agent, framework, executor, executorMainCommand(bundled, DEFAULT_EXECUTOR_MAIN)));
  else if (!executor.commandExecutor) launchCustom(agent, framework, executor, executor.info.command);
  else if (agent.commandExecutor !== defaultCommandExecutor || !survivesRestart(agent, framework)) launchBuiltIn(agent, framework, executor);
  else agent.continueWith(commandExecutorBundle(agent), (bundled) => launchCustom(agent, framework, executor, commandExecutorCommand(bundled)));
}

/** The agent's bundle of the command executor (`command-executor-bundle.ts`), made once, on first use. */
function commandExecutorBundle(agent: Agent): Promise<string | Error> {
  agent.commandExecutorBundle ??= bundleCommandExecutor(metaDir(agent.flags.workDir)).catch((error: unknown) => {
    agent.log.warn({ err: error }, 'Cannot bundle the command executor; running its TypeScript source through tsx');
    return error instanceof Error ? error : new Error(String(error));
  });
  return agent.commandExecutorBundle;
}

const defaultExecutorBundles = new WeakMap<Agent, Promise<string | Error>>();

/** The agent's bundle of the default executor (`default-executor.mjs` in its `meta/`), made once, on first use. */
function defaultExecutorBundle(agent: Agent): Promise<string | Error> {
  let bundle = defaultExecutorBundles.get(agent);
  if (bundle === undefined) {
    bundle = bundleExecutorMain(DEFAULT_EXECUTOR_MAIN, join(metaDir(agent.flags.workDir), 'default-executor.mjs')).catch((error: unknown) => {
      agent.log.warn({ err: error }, 'Cannot bundle the default executor; running its TypeScript source through tsx');
      return error instanceof Error ? error : new Error(String(error));
    });
    defaultExecutorBundles.set(agent, bundle);
  }
  return bundle;
}

/** Whether the framework's executors outlive the agent's process, to be recovered by its next run. */
export function survivesRestart(agent: Agent, framework: FrameworkRecord): boolean {
  return framework.checkpoint && agent.flags.recover === 'reconnect' && !agent.killExecutorsOnExit;
}

/**
 * An executor's environment: `--executor_environment_variables` if given, else the agent's own
 * (as Mesos), plus the Mesos executor variables. The command executor's task inherits it, as in
 * Mesos.
 */
function executorEnv(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, node: string): Record<string, string> {
  const env: Record<string, string> = { ...agent.flags.executorEnvironmentVariables };
  if (agent.flags.executorEnvironmentVariables === undefined) {
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  }
  const endpoint = agentEndpoint(agent.runtime.httpAddress);
  const memoryCgroup = agent.containerizer.isolator?.memoryDir(executor.containerId);
  return Object.assign(
    env,
    executorEnvironment({
      frameworkId: framework.id,
      executorId: executor.id,
      directory: executor.directory,
      agent: agent.self,
      // Where an executor that speaks the HTTP API subscribes (`/api/v1/executor`).
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(agent.executorSocket !== undefined ? { socket: agent.executorSocket.path } : {}),
      node,
      checkpoint: framework.checkpoint,
      shutdownGracePeriodMs: shutdownGracePeriodMs(agent, executor),
      recoveryTimeoutMs: agent.flags.recoveryTimeoutMs,
    }),
    { MESOS_SLAVE_ID: agent.agentId ?? '', MESOS_AGENT_ID: agent.agentId ?? '' },
    memoryCgroup !== undefined ? { [MESOS_TS_MEMORY_CGROUP]: memoryCgroup } : {},
  );
}

function launchBuiltIn(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, launcher: CommandExecutorLauncher = agent.commandExecutor): void {
  let pid: UPID;
  try {
    pid = launcher({
      runtime: agent.runtime,
      agent: agent.self,
      frameworkId: { value: framework.id },
      executorId: executor.info.executor_id,
      directory: executor.directory,
      containerizer: agent.containerizer,
      containerId: executor.containerId,
      checkpoint: framework.checkpoint,
      shutdownGracePeriodMs: shutdownGracePeriodMs(agent, executor),
      recoveryTimeoutMs: agent.flags.recoveryTimeoutMs,
      env: executorEnv(agent, framework, executor, agent.self.node),
    }).pid;
  } catch (error) {
    launchFailed(agent, framework, executor, error);
    return;
  }
  executor.destroy = (gracePeriodMs) => {
    agent.runtime.terminate(pid);
    void agent.containerizer.destroy(executor.containerId, gracePeriodMs);
  };
  // Its exit is the executor's termination (`exited`).
  executor.builtInPid = pid;
  agent.linkTo(pid);
}

function launchCustom(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, command: CommandInfo | undefined): void {
  if (command === undefined) {
    launchFailed(agent, framework, executor, new Error('the executor has no command'));
    return;
  }
  const node = executorNodeName(agent.self.node, executor.containerId);
  executor.node = node;
  // Its secret for the executor socket's hello, kept for the agent's next run if it is to survive it.
  const token = randomBytes(16).toString('hex');
  agent.executorTokens.set(node, token);
  if (framework.checkpoint && agent.agentId !== undefined) checkpointRunPid(agent.flags.workDir, agent.agentId, framework.id, executor.id, executor.containerId, 'token', token);
  const env = { ...executorEnv(agent, framework, executor, node), [MESOS_TS_EXECUTOR_TOKEN]: token };
  const launch = agent.containerizer.launch({ containerId: executor.containerId, command, sandbox: executor.directory, env });
  executor.launch = launch;
  agent.continueWith(
    launch,
    (container) => _launchCustom(agent, framework, executor, container),
    (error) => launchFailed(agent, framework, executor, error),
  );
}

function _launchCustom(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, container: Container): void {
  executor.destroy = (gracePeriodMs) => void agent.containerizer.destroy(executor.containerId, gracePeriodMs);
  agent.whenever(container.exited, (exit) => containerExited(agent, framework.id, executor, exit));
  if (container.error !== undefined) {
    agent.stats.containerLaunchErrors.inc();
    executor.pendingTermination ??= { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: `Failed to launch container: ${container.error}` };
    return;
  }
  executor.osPid = container.pid;
  agent.log.info({ executor_id: executor.id, framework_id: framework.id, os_pid: container.pid }, 'Launched executor');
  // Shut down (or timed out) while it was starting.
  if (executor.state === 'TERMINATING' && executor.pid === undefined) executor.destroy(0);
}

function launchFailed(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, error: unknown): void {
  const message = `Failed to launch container: ${(error as Error)?.message ?? String(error)}`;
  agent.log.error({ executor_id: executor.id, framework_id: framework.id, reason: message }, 'Failed to launch executor');
  agent.stats.containerLaunchErrors.inc();
  executor.pendingTermination ??= { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message };
  executorTerminated(agent, framework, executor, { status: UNKNOWN_EXIT_STATUS, code: null, signal: null });
}

function shutdownGracePeriodMs(agent: Agent, executor: ExecutorRecord): number {
  const grace = executor.info.shutdown_grace_period;
  return grace !== undefined ? grace.nanoseconds / 1e6 : agent.flags.executorShutdownGracePeriodMs;
}

// ---------------------------------------------------------------------------------------------
// Registration.

function replyShutdown(agent: Agent, to: UPID, body: RegisterExecutor, reason: string): void {
  agent.log.warn({ executor_id: body.executor_id.value, framework_id: body.framework_id.value, from: String(to), reason }, 'Shutting down executor');
  agent.send(to, SHUTDOWN_EXECUTOR, { framework_id: body.framework_id, executor_id: body.executor_id } satisfies ShutdownExecutor);
}

/** `RegisterExecutorMessage`: the executor is up; it gets its info and the tasks queued for it. */
export function registerExecutor(agent: Agent, from: UPID, body: RegisterExecutor): void {
  if (agent.state === 'RECOVERING' || agent.state === 'TERMINATING') {
    replyShutdown(agent, from, body, `the agent is ${agent.state.toLowerCase()}`);
    return;
  }
  const framework = agent.frameworks.get(body.framework_id.value);
  if (framework === undefined || framework.state === 'TERMINATING') {
    replyShutdown(agent, from, body, framework === undefined ? 'unknown framework' : 'the framework is terminating');
    return;
  }
  const executor = framework.executors.get(body.executor_id.value);
  if (executor === undefined) {
    replyShutdown(agent, from, body, 'unknown executor');
    return;
  }
  const expectedNode = executor.node ?? agent.self.node;
  if (from.node !== expectedNode) {
    agent.log.warn({ executor_id: executor.id, from: String(from), expected: expectedNode }, 'Ignoring executor registration from an unexpected node');
    return;
  }
  if (executor.state === 'RUNNING' && executor.pid?.equals(from) === true) {
    // The driver retries until it hears back: answer again, without the tasks it already has.
    agent.send(from, EXECUTOR_REGISTERED, registeredMessage(agent, framework, executor));
    return;
  }
  if (executor.state !== 'REGISTERING') {
    replyShutdown(agent, from, body, `the executor is ${executor.state.toLowerCase()}`);
    return;
  }
  executor.state = 'RUNNING';
  executor.pid = from;
  executor.registrationTimer?.cancel();
  executor.registrationTimer = undefined;
  agent.linkTo(from);
  // Where a restarted agent finds it again (an executor in its own process; an HTTP one
  // subscribes again by itself).
  if (framework.checkpoint && executor.node !== undefined && agent.agentId !== undefined) {
    checkpointRunPid(agent.flags.workDir, agent.agentId, framework.id, executor.id, executor.containerId, 'libprocess.pid', String(from));
  }
  agent.log.info({ executor_id: executor.id, framework_id: framework.id, executor: String(from) }, 'Executor registered');
  agent.send(from, EXECUTOR_REGISTERED, registeredMessage(agent, framework, executor));
  launchQueuedTasks(agent, framework, executor);
}

function registeredMessage(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord): ExecutorRegistered {
  return {
    executor_info: executor.info,
    framework_id: { value: framework.id },
    framework_info: framework.info,
    slave_id: agent.info.id ?? { value: '' },
    slave_info: agent.info,
  };
}

// ---------------------------------------------------------------------------------------------
// Re-registration after the agent restarted (`--recover=reconnect`).

/** The recovered executors still to re-register. */
function awaitingReregistration(agent: Agent): ExecutorRecord[] {
  const waiting: ExecutorRecord[] = [];
  for (const framework of agent.frameworks.values()) {
    for (const executor of framework.executors.values()) if (executor.recovered && executor.state === 'REGISTERING') waiting.push(executor);
  }
  return waiting;
}

/**
 * The status update manager has recovered: watch the executors that survived the restart, ask
 * each to re-register (`ReconnectExecutorMessage`; again whenever its runtime connects to the
 * executor socket; an HTTP executor subscribes again by itself), and finish recovery once all
 * have, or after `--executor_reregistration_timeout`, as Mesos's `Slave::_recover`.
 */
export function reconnectExecutors(agent: Agent): void {
  const waiting = awaitingReregistration(agent);
  for (const executor of waiting) {
    const framework = agent.frameworks.get(executor.frameworkId)!;
    if (executor.container !== undefined) agent.whenever(executor.container.exited, (exit) => containerExited(agent, framework.id, executor, exit));
    reconnectExecutor(agent, executor);
  }
  if (waiting.length === 0) {
    agent.machine.send({ type: 'RECOVERED' });
    return;
  }
  agent.log.info({ executors: waiting.length, timeout_ms: agent.flags.executorReregistrationTimeoutMs }, 'Waiting for executors to re-register');
  agent.reregistrationTimer = agent.after(agent.flags.executorReregistrationTimeoutMs, () => reregisterExecutorTimeout(agent));
}

/** Asks a recovered executor (at its checkpointed UPID) to re-register. */
export function reconnectExecutor(agent: Agent, executor: ExecutorRecord): void {
  if (executor.pid === undefined || agent.info.id === undefined) return;
  agent.log.info({ executor_id: executor.id, framework_id: executor.frameworkId, executor: String(executor.pid) }, 'Sending reconnect request to executor');
  agent.send(executor.pid, RECONNECT_EXECUTOR, { slave_id: agent.info.id } satisfies ReconnectExecutor);
}

/** An executor's runtime connected to the executor socket: one we wait for is asked again. */
export function executorConnected(agent: Agent, node: string): void {
  if (agent.state !== 'RECOVERING' || agent.reregistrationTimer === undefined) return;
  for (const executor of awaitingReregistration(agent)) if (executor.node === node) reconnectExecutor(agent, executor);
}

/**
 * `ReregisterExecutorMessage`: a recovered executor is back. Its unacknowledged updates are
 * taken as if sent now (the status update manager drops the ones it already has); a task the
 * agent launched that is still staging and that the executor does not list never reached it,
 * and is reported TASK_LOST (TASK_DROPPED to partition-aware frameworks); and it is told
 * `ExecutorReregisteredMessage`. Only a recovering agent takes executors back; any other
 * is told to shut down, as in Mesos.
 */
export function reregisterExecutor(agent: Agent, from: UPID, body: ReregisterExecutor): void {
  if (agent.state !== 'RECOVERING') {
    replyShutdown(agent, from, body, 'the agent is not recovering executors');
    return;
  }
  const framework = agent.frameworks.get(body.framework_id.value);
  const executor = framework?.executors.get(body.executor_id.value);
  if (framework === undefined || executor === undefined) {
    replyShutdown(agent, from, body, framework === undefined ? 'unknown framework' : 'unknown executor');
    return;
  }
  if (executor.node === undefined || from.node !== executor.node) {
    agent.log.warn({ executor_id: executor.id, from: String(from), expected: executor.node }, 'Ignoring executor re-registration from an unexpected node');
    return;
  }
  if (executor.state === 'RUNNING' && executor.pid?.equals(from) === true) {
    agent.send(from, EXECUTOR_REREGISTERED, { slave_id: agent.info.id!, slave_info: agent.info } satisfies ExecutorReregistered);
    return;
  }
  if (!executor.recovered || executor.state !== 'REGISTERING') {
    replyShutdown(agent, from, body, `the executor is ${executor.state.toLowerCase()}`);
    return;
  }
  executor.state = 'RUNNING';
  executor.pid = from;
  agent.linkTo(from);
  agent.log.info({ executor_id: executor.id, framework_id: framework.id, executor: String(from), updates: body.updates?.length ?? 0 }, 'Executor re-registered');
  for (const update of body.updates ?? []) statusUpdate(agent, from, { update, pid: String(from) });
  // A task still staging that the executor does not know: the agent died after it checkpointed
  // the task and before the executor got it (Mesos's "Task launched during agent restart").
  const known = new Set((body.tasks ?? []).map((task) => task.task_id.value));
  for (const task of [...executor.launchedTasks.values()]) {
    if (task.state !== 'TASK_STAGING' || known.has(task.task_id.value)) continue;
    sendAgentUpdate(agent, framework, executor, task.task_id.value, droppedState(framework), 'REASON_AGENT_RESTARTED', 'Task launched during agent restart');
  }
  agent.send(from, EXECUTOR_REREGISTERED, { slave_id: agent.info.id!, slave_info: agent.info } satisfies ExecutorReregistered);
  recoveryProgressed(agent);
}

/** A recovered executor is back, or gone: recovery ends once none is awaited. */
export function recoveryProgressed(agent: Agent): void {
  if (agent.state === 'RECOVERING' && agent.reregistrationTimer !== undefined && awaitingReregistration(agent).length === 0) finishRecovery(agent);
}

/** The executors that survived and did not re-register in time are destroyed; recovery ends. */
function reregisterExecutorTimeout(agent: Agent): void {
  agent.reregistrationTimer = undefined;
  if (agent.state !== 'RECOVERING') return;
  const message = `Executor did not re-register within ${formatDuration(agent.flags.executorReregistrationTimeoutMs)}`;
  for (const executor of awaitingReregistration(agent)) {
    agent.log.warn({ executor_id: executor.id, framework_id: executor.frameworkId }, `Killing executor: ${message}`);
    executor.state = 'TERMINATING';
    executor.pendingTermination = { state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT', message };
    executor.destroy?.(0);
  }
  finishRecovery(agent);
}

function finishRecovery(agent: Agent): void {
  agent.reregistrationTimer?.cancel();
  agent.reregistrationTimer = undefined;
  agent.log.info('Finished recovery');
  agent.machine.send({ type: 'RECOVERED' });
}

/** The executor did not register in time: destroy it; its tasks fail with `REASON_EXECUTOR_REGISTRATION_TIMEOUT`. */
export function registerExecutorTimeout(agent: Agent, frameworkId: string, executorId: string, containerId: string): void {
  const framework = agent.frameworks.get(frameworkId);
  const executor = framework?.executors.get(executorId);
  if (framework === undefined || executor === undefined || executor.containerId !== containerId) {
    agent.log.debug({ executor_id: executorId, framework_id: frameworkId }, 'Ignoring registration timeout of an executor that is gone');
    return;
  }
  if (executor.state !== 'REGISTERING') {
    agent.log.debug({ executor_id: executorId, state: executor.state }, 'Ignoring registration timeout: the executor is not registering');
    return;
  }
  const message = `Executor did not register within ${formatDuration(agent.flags.executorRegistrationTimeoutMs)}`;
  agent.log.warn({ executor_id: executorId, framework_id: frameworkId }, message);
  executor.state = 'TERMINATING';
  executor.pendingTermination = { state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_REGISTRATION_TIMEOUT', message };
  executor.destroy?.(0);
}

// ---------------------------------------------------------------------------------------------
// Shutdown.

/**
 * Whether a shutdown from the master is taken now. As Mesos's `Slave::shutdownFramework` and
 * `Slave::shutdownExecutor`, not before the agent has (re-)registered with the master: while it
 * recovers, is disconnected or is (re-)registering, the shutdown is ignored (a master that still
 * wants it sends it again once the agent re-registers). Mesos also takes it while terminating,
 * where its own shutdown calls these handlers; here `TERMINATING` is only entered in `finalize`,
 * after which no message is handled.
 */
function heedsShutdown(agent: Agent, from: UPID, what: string): boolean {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from) }, `Ignoring ${what} from a process that is not our master`);
    return false;
  }
  if (agent.state !== 'RUNNING') {
    agent.log.warn({ state: agent.state }, `Ignoring ${what}: the agent has not yet registered with the master`);
    return false;
  }
  return true;
}

/** `ShutdownFrameworkMessage`: every executor of the framework shuts down; no updates for its tasks. */
export function shutdownFramework(agent: Agent, from: UPID, body: ShutdownFramework): void {
  if (!heedsShutdown(agent, from, 'shutdown framework message')) return;
  const framework = agent.frameworks.get(body.framework_id.value);
  if (framework === undefined || framework.state === 'TERMINATING') {
    agent.log.debug({ framework_id: body.framework_id.value }, 'Ignoring shutdown of a framework that is unknown or terminating');
    return;
  }
  agent.log.info({ framework_id: framework.id }, 'Asked to shut down framework');
  _shutdownFramework(agent, framework);
}

/**
 * Shuts every executor of the framework down (`ShutdownExecutorMessage`, destroyed after its
 * grace period); the framework is removed when the last is gone. Its tasks get no more updates.
 */
function _shutdownFramework(agent: Agent, framework: FrameworkRecord): void {
  framework.state = 'TERMINATING';
  for (const executor of [...framework.executors.values()]) {
    if (executor.state === 'REGISTERING' || executor.state === 'RUNNING') _shutdownExecutor(agent, framework, executor);
    else if (executor.state === 'TERMINATED') removeExecutor(agent, framework, executor);
  }
  if (framework.executors.size === 0 && agent.frameworks.get(framework.id) === framework) removeFramework(agent, framework);
}

/**
 * The agent leaves for good (Mesos's `Slave::shutdown`: the master's `ShutdownMessage`, or
 * SIGUSR1): every framework shuts down, so each executor is asked to shut down and gets its
 * grace period to kill its tasks (the command executor's SIGTERM, then SIGKILL) before its
 * container is destroyed. `Agent.onLastFrameworkRemoved` is called when the last framework is
 * gone (within this call if none had a live executor). Returns the longest grace period given.
 */
export function shutdownAllFrameworks(agent: Agent): number {
  let longest = 0;
  for (const framework of [...agent.frameworks.values()]) {
    for (const executor of framework.executors.values()) {
      if (executor.state !== 'TERMINATED') longest = Math.max(longest, shutdownGracePeriodMs(agent, executor));
    }
    if (framework.state !== 'TERMINATING') _shutdownFramework(agent, framework);
  }
  return longest;
}

/** `ShutdownExecutorMessage` from the master. */
export function shutdownExecutor(agent: Agent, from: UPID, body: ShutdownExecutor): void {
  if (!heedsShutdown(agent, from, 'shutdown executor message')) return;
  const executor = agent.frameworks.get(body.framework_id.value)?.executors.get(body.executor_id.value);
  if (executor === undefined || executor.state === 'TERMINATING' || executor.state === 'TERMINATED') {
    agent.log.debug({ executor_id: body.executor_id.value }, 'Ignoring shutdown of an executor that is unknown or terminating');
    return;
  }
  agent.log.info({ executor_id: executor.id, framework_id: executor.frameworkId }, 'Asked to shut down executor');
  _shutdownExecutor(agent, agent.frameworks.get(executor.frameworkId)!, executor);
}

/** Asks the executor to shut down, and destroys it after the grace period (at once if it never registered). */
export function _shutdownExecutor(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord): void {
  executor.state = 'TERMINATING';
  if (executor.pid === undefined) {
    executor.destroy?.(0);
    return;
  }
  agent.send(executor.pid, SHUTDOWN_EXECUTOR, { framework_id: { value: framework.id }, executor_id: executor.info.executor_id } satisfies ShutdownExecutor);
  const containerId = executor.containerId;
  executor.shutdownTimer = agent.after(shutdownGracePeriodMs(agent, executor), () => {
    const current = agent.frameworks.get(framework.id)?.executors.get(executor.id);
    if (current !== executor || executor.containerId !== containerId || executor.state !== 'TERMINATING') return;
    agent.log.warn({ executor_id: executor.id, framework_id: framework.id }, 'Killing executor: it did not exit within the shutdown grace period');
    executor.destroy?.(0);
  });
}

// ---------------------------------------------------------------------------------------------
// Termination.

/** A linked process exited: a command executor stopped, or a custom executor's runtime is gone. */
export function executorExited(agent: Agent, upid: UPID): void {
  for (const framework of agent.frameworks.values()) {
    for (const executor of framework.executors.values()) {
      if (executor.builtInPid?.equals(upid) === true) {
        // The task's container outlives a command executor only by accident (and the tasks'
        // containers, nested in it, the default executor).
        void agent.containerizer.destroy(executor.containerId, 0);
        // The master books the default executor, not a command executor: it hears that it exited.
        executorTerminated(agent, framework, executor, executor.defaultExecutor ? { status: 0, code: 0, signal: null } : undefined);
        return;
      }
      if (executor.builtInPid === undefined && executor.pid?.equals(upid) === true && executor.state !== 'TERMINATED') {
        // Its runtime closed the channel: the process is exiting, and its exit status is what
        // the master should hear. Destroy the container only if it lingers (a shutdown already
        // has its own timer).
        if (executor.state === 'TERMINATING') return;
        agent.log.info({ executor_id: executor.id, framework_id: framework.id }, 'Executor exited; destroying its container if it does not exit');
        executor.state = 'TERMINATING';
        const grace = shutdownGracePeriodMs(agent, executor);
        executor.shutdownTimer = agent.after(grace, () => {
          if (executor.state === 'TERMINATING') executor.destroy?.(0);
        });
        return;
      }
    }
  }
  agent.log.debug({ upid: String(upid) }, 'Ignoring exit of an unknown process');
}

function containerExited(agent: Agent, frameworkId: string, executor: ExecutorRecord, exit: ContainerExit): void {
  const framework = agent.frameworks.get(frameworkId);
  if (framework === undefined || framework.executors.get(executor.id) !== executor) {
    agent.log.debug({ executor_id: executor.id }, 'Ignoring exit of an executor that is gone');
    return;
  }
  if (exit.limitation !== undefined) {
    // Its tasks fail for the limit the container ran into (Mesos's `REASON_CONTAINER_LIMITATION_*`).
    agent.log.warn({ executor_id: executor.id, framework_id: frameworkId, reason: exit.limitation.reason }, exit.limitation.message);
    executor.pendingTermination ??= { state: 'TASK_FAILED', reason: exit.limitation.reason, message: exit.limitation.message };
  }
  executorTerminated(agent, framework, executor, exit);
}

/**
 * The executor is gone (Mesos `executorTerminated`): each of its tasks that is not terminal gets
 * a final update (TASK_FAILED with REASON_EXECUTOR_TERMINATED unless the agent ended it for a
 * reason of its own), unless the framework is shutting down; the master hears
 * `ExitedExecutorMessage` for a custom executor; the executor is removed once every task is done.
 */
export function executorTerminated(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, exit: ContainerExit | undefined, note?: string): void {
  if (executor.reaped) return;
  executor.reaped = true;
  executor.state = 'TERMINATED';
  executor.registrationTimer?.cancel();
  executor.shutdownTimer?.cancel();
  executor.detach?.();
  if (executor.node !== undefined) agent.executorTokens.delete(executor.node);
  agent.stats.executorsTerminated.inc();
  const how = exit === undefined ? undefined : exit.status === UNKNOWN_EXIT_STATUS ? undefined : `Executor ${describeExit(exit)}`;
  agent.log.info({ executor_id: executor.id, framework_id: framework.id, status: exit?.status, exit: how }, 'Executor terminated');
  const message = [executor.pendingTermination?.message, note, how].filter((m) => m !== undefined).join('; ') || 'Executor terminated';

  if (framework.state !== 'TERMINATING') {
    const live = [...executor.queuedTasks.keys(), ...[...executor.launchedTasks.values()].map((t) => t.task_id.value)];
    for (const taskId of live) {
      sendAgentUpdate(
        agent,
        framework,
        executor,
        taskId,
        executor.pendingTermination?.state ?? 'TASK_FAILED',
        executor.pendingTermination?.reason ?? 'REASON_EXECUTOR_TERMINATED',
        message,
      );
    }
  }
  if (!executor.commandExecutor && exit !== undefined && agent.state === 'RUNNING' && agent.info.id !== undefined) {
    agent.send(agent.master, EXITED_EXECUTOR, {
      slave_id: agent.info.id,
      framework_id: { value: framework.id },
      executor_id: executor.info.executor_id,
      status: exit.status,
      message,
    } satisfies ExitedExecutor);
  }
  // Tasks of a framework that is going away are not waited for.
  if (framework.state === 'TERMINATING' || !executor.incomplete) removeExecutor(agent, framework, executor);
  if (executor.recovered) recoveryProgressed(agent);
}

/**
 * Done with the executor: every task completed. Its sandbox is deleted `--gc_delay` later
 * (`gc.ts`). The framework goes when its last executor does.
 */
export function removeExecutor(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord): void {
  agent.log.debug({ executor_id: executor.id, framework_id: framework.id }, 'Removing executor');
  const forgotten = framework.completeExecutor(executor);
  if (forgotten !== undefined) detachSandbox(agent, forgotten);
  gc.scheduleExecutor(agent, executor);
  if (framework.checkpoint && agent.agentId !== undefined) removeExecutorCheckpoint(agent.flags.workDir, agent.agentId, framework.id, executor.id);
  if (framework.executors.size === 0) removeFramework(agent, framework);
}

export function removeFramework(agent: Agent, framework: FrameworkRecord): void {
  agent.log.info({ framework_id: framework.id }, 'Removing framework');
  agent.frameworks.delete(framework.id);
  agent.completedFrameworks.push(framework);
  if (agent.completedFrameworks.length > MAX_COMPLETED_FRAMEWORKS) detachFramework(agent, agent.completedFrameworks.shift()!);
  // A framework that shut down leaves its streams behind; otherwise every stream is closed
  // (its terminal update acknowledged), or still carries an update the master must get.
  if (framework.state === 'TERMINATING') agent.send(agent.sum, SUM_CLEANUP, { framework_id: { value: framework.id } } satisfies SumCleanup);
  if (framework.checkpoint && agent.agentId !== undefined) removeFrameworkCheckpoint(agent.flags.workDir, agent.agentId, framework.id);
  gc.scheduleFramework(agent, framework);
  // A draining agent is drained once its last framework is gone (Mesos's `updateDrainStatus`).
  drainProgressed(agent);
  // An agent leaving for good terminates once its last framework is gone (Mesos's `removeFramework`).
  if (agent.frameworks.size === 0) agent.onLastFrameworkRemoved?.();
}

/**
 * The agent terminates. As Mesos's `Slave::finalize`, the executors of checkpointing frameworks
 * are left running (`--recover=reconnect`) for the agent's next run to reconnect to; every
 * other is killed.
 */
export function destroyAll(agent: Agent): void {
  for (const framework of agent.frameworks.values()) {
    const spared = survivesRestart(agent, framework);
    for (const executor of framework.executors.values()) {
      if (executor.state === 'TERMINATED') continue;
      // An HTTP executor's stream ends with the agent; it subscribes again to the next run.
      executor.detach?.();
      if (spared && executor.builtInPid === undefined) continue;
      if (executor.builtInPid !== undefined) agent.runtime.terminate(executor.builtInPid);
      // SIGKILL at once: the agent's timers die with it, so no escalation would follow a SIGTERM.
      // A container still starting is killed once it runs.
      const kill = (): boolean => agent.containerizer.kill(executor.containerId, 'SIGKILL');
      if (executor.launch !== undefined) void executor.launch.then(kill, () => undefined);
      else kill();
    }
  }
}
