import { createActor, type Actor } from 'xstate';
import { newStatusUuid, type ByteSource } from '../../src/mesos/ids.ts';
import {
  EXECUTOR_REGISTERED,
  EXECUTOR_REREGISTERED,
  EXECUTOR_TO_FRAMEWORK,
  ExecutorRegisteredSchema,
  ExecutorReregisteredSchema,
  FRAMEWORK_TO_EXECUTOR,
  FrameworkToExecutorSchema,
  KILL_TASK,
  KillTaskSchema,
  RECONNECT_EXECUTOR,
  REGISTER_EXECUTOR,
  REREGISTER_EXECUTOR,
  RUN_TASK,
  RUN_TASK_GROUP,
  ReconnectExecutorSchema,
  RunTaskGroupSchema,
  RunTaskSchema,
  SHUTDOWN_EXECUTOR,
  STATUS_UPDATE,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  ShutdownExecutorSchema,
  StatusUpdateAcknowledgementSchema,
  validator,
  type ExecutorRegistered,
  type ExecutorReregistered,
  type ExecutorToFramework,
  type FrameworkToExecutor,
  type KillTask,
  type ReconnectExecutor,
  type RegisterExecutor,
  type ReregisterExecutor,
  type RunTask,
  type RunTaskGroup,
  type StatusUpdate,
  type StatusUpdateAcknowledgement,
  type StatusUpdateMessage,
} from '../../src/mesos/protocol.ts';
import type { AgentID, ExecutorID, FrameworkID, TaskInfo, TaskStatus } from '../../src/mesos/v1/common.ts';
import { Process } from '../../src/process/process.ts';
import type { Timer } from '../../src/process/clock.ts';
import { UPID } from '../../src/process/upid.ts';
import { EXECUTOR_REGISTRATION_RETRY_INTERVAL_MAX_MS, EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS } from './constants.ts';
import { executorMachine, type ExecutorState } from './executor.machine.ts';
import type { Executor, ExecutorDriver } from './executor-driver.ts';

/**
 * The executor driver's actor, as Mesos's `ExecutorProcess` (`src/exec/exec.cpp`). It is
 * responsible for
 *
 * 1. registering with the agent (`RegisterExecutorMessage`, retried with backoff until
 *    `ExecutorRegisteredMessage`), and re-registering when a recovered agent asks
 *    (`ReconnectExecutorMessage` → `ReregisterExecutorMessage` with what is unacknowledged);
 * 2. handing the agent's messages to the `Executor` callbacks (launch a task or a task group,
 *    kill, framework message, shutdown), in its mailbox, one at a time;
 * 3. sending status updates and keeping each until the agent acknowledges it;
 * 4. watching the agent (a link): when it exits, `disconnected`, then either waiting up to the
 *    recovery timeout for it to come back (checkpointing frameworks, once registered) or
 *    shutting down.
 *
 * Frameworks never see this class: they use `ExecutorDriver`.
 */

export interface ExecutorProcessOptions {
  readonly agent: UPID;
  readonly frameworkId: FrameworkID;
  readonly executorId: ExecutorID;
  readonly checkpoint: boolean;
  readonly recoveryTimeoutMs: number;
  readonly uuidSource?: ByteSource | undefined;
  /** Called once when the executor is asked to shut down (or must, its agent gone). */
  readonly onShutdown: () => void;
  /** Called once when the process terminates. */
  readonly onTerminated: () => void;
}

export class ExecutorProcess extends Process {
  /** The agent's UPID; changes when a recovered agent reconnects. */
  agent: UPID;
  agentId: AgentID | undefined;
  /** Set by `ExecutorDriver.abort()`: every message is then ignored. */
  aborted = false;
  /** Set once shutdown began: new tasks and framework messages are ignored. */
  shuttingDown = false;
  /** Unacknowledged status updates by uuid, oldest first. */
  readonly updates = new Map<string, StatusUpdate>();
  /** Tasks launched for which no update was acknowledged yet, by task id. */
  readonly tasks = new Map<string, TaskInfo>();

  readonly #driver: ExecutorDriver;
  readonly #executor: Executor;
  readonly #options: ExecutorProcessOptions;
  #machine: Actor<typeof executorMachine> | undefined;
  #retry: Timer | undefined;
  #retryIntervalMs = EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS;

  constructor(id: string, driver: ExecutorDriver, executor: Executor, options: ExecutorProcessOptions) {
    super(id);
    this.#driver = driver;
    this.#executor = executor;
    this.#options = options;
    this.agent = options.agent;

    this.install<ExecutorRegistered>(EXECUTOR_REGISTERED, this.registered, validator(ExecutorRegisteredSchema, EXECUTOR_REGISTERED));
    this.install<ExecutorReregistered>(EXECUTOR_REREGISTERED, this.reregistered, validator(ExecutorReregisteredSchema, EXECUTOR_REREGISTERED));
    this.install<ReconnectExecutor>(RECONNECT_EXECUTOR, this.reconnect, validator(ReconnectExecutorSchema, RECONNECT_EXECUTOR));
    this.install<RunTask>(RUN_TASK, this.runTask, validator(RunTaskSchema, RUN_TASK));
    this.install<RunTaskGroup>(RUN_TASK_GROUP, this.runTaskGroup, validator(RunTaskGroupSchema, RUN_TASK_GROUP));
    this.install<KillTask>(KILL_TASK, this.killTask, validator(KillTaskSchema, KILL_TASK));
    this.install<StatusUpdateAcknowledgement>(
      STATUS_UPDATE_ACKNOWLEDGEMENT,
      this.statusUpdateAcknowledgement,
      validator(StatusUpdateAcknowledgementSchema, STATUS_UPDATE_ACKNOWLEDGEMENT),
    );
    this.install<FrameworkToExecutor>(FRAMEWORK_TO_EXECUTOR, this.frameworkMessage, validator(FrameworkToExecutorSchema, FRAMEWORK_TO_EXECUTOR));
    this.install(SHUTDOWN_EXECUTOR, this.shutdown, validator(ShutdownExecutorSchema, SHUTDOWN_EXECUTOR));
  }

  /** The lifecycle state (`CONNECTING` before the process starts). */
  get state(): ExecutorState {
    return (this.#machine?.getSnapshot().value as ExecutorState | undefined) ?? 'CONNECTING';
  }

  override initialize(): void {
    this.#machine = createActor(
      executorMachine.provide({ actions: { recoveryTimedOut: () => this.#recoveryTimedOut() } }),
      { clock: this.machineClock, input: { recoveryTimeoutMs: this.#options.recoveryTimeoutMs } },
    );
    this.#machine.start();
    this.log.debug({ agent: String(this.agent) }, 'Executor started');
    this.link(this.agent);
    this.#register();
  }

  override finalize(): void {
    this.#retry?.cancel();
    this.#machine?.send({ type: 'TERMINATE' });
    this.#machine?.stop();
    this.#options.onTerminated();
  }

  override exited(upid: UPID): void {
    if (!upid.equals(this.agent)) return;
    this.agentLost(`agent ${String(upid)} exited`, true);
  }

  // -------------------------------------------------------------------------------------------
  // Handlers.

  registered(_from: UPID, message: ExecutorRegistered): void {
    if (this.aborted) {
      this.log.debug('Ignoring registration because the driver is aborted');
      return;
    }
    if (this.state === 'REGISTERED' || this.state === 'TERMINATED') {
      this.log.debug({ state: this.state }, 'Ignoring registration in state');
      return;
    }
    this.log.info({ agent_id: message.slave_id.value }, 'Executor registered on agent');
    this.#retry?.cancel();
    this.#retry = undefined;
    this.agentId = message.slave_id;
    this.#machine?.send({ type: 'REGISTERED' });
    this.#executor.registered(this.#driver, message.executor_info, message.framework_info, message.slave_info);
  }

  reregistered(_from: UPID, message: ExecutorReregistered): void {
    if (this.aborted) {
      this.log.debug('Ignoring re-registration because the driver is aborted');
      return;
    }
    if (this.state !== 'DISCONNECTED' && this.state !== 'CONNECTING') {
      this.log.debug({ state: this.state }, 'Ignoring re-registration in state');
      return;
    }
    this.log.info({ agent_id: message.slave_id.value }, 'Executor re-registered on agent');
    this.agentId = message.slave_id;
    this.#machine?.send({ type: 'REREGISTERED' });
    this.#executor.reregistered(this.#driver, message.slave_info);
  }

  reconnect(from: UPID, message: ReconnectExecutor): void {
    if (this.aborted || this.state === 'TERMINATED') {
      this.log.debug('Ignoring reconnect request because the driver is aborted or terminated');
      return;
    }
    this.log.info({ agent: String(from), agent_id: message.slave_id.value }, 'Received reconnect request from agent');
    if (!from.equals(this.agent)) {
      this.unlink(this.agent);
      this.agent = from;
    }
    this.link(this.agent);
    const reregister: ReregisterExecutor = {
      framework_id: this.#options.frameworkId,
      executor_id: this.#options.executorId,
      tasks: [...this.tasks.values()],
      updates: [...this.updates.values()],
    };
    this.send(this.agent, REREGISTER_EXECUTOR, reregister);
  }

  runTask(_from: UPID, message: RunTask): void {
    if (this.aborted || this.shuttingDown) {
      this.log.debug({ task_id: message.task.task_id.value }, 'Ignoring run task because the executor is aborted or shutting down');
      return;
    }
    this.log.debug({ task_id: message.task.task_id.value }, 'Executor asked to run task');
    this.tasks.set(message.task.task_id.value, message.task);
    this.#executor.launchTask(this.#driver, message.task);
  }

  /** `RunTaskGroupMessage`: the group goes whole to `launchTaskGroup`, or task by task to `launchTask`. */
  runTaskGroup(_from: UPID, message: RunTaskGroup): void {
    const tasks = message.task_group.tasks ?? [];
    if (this.aborted || this.shuttingDown) {
      this.log.debug({ task_ids: tasks.map((t) => t.task_id.value) }, 'Ignoring run task group because the executor is aborted or shutting down');
      return;
    }
    this.log.debug({ task_ids: tasks.map((t) => t.task_id.value) }, 'Executor asked to run task group');
    for (const task of tasks) this.tasks.set(task.task_id.value, task);
    if (this.#executor.launchTaskGroup !== undefined) this.#executor.launchTaskGroup(this.#driver, message.task_group);
    else for (const task of tasks) this.#executor.launchTask(this.#driver, task);
  }

  killTask(_from: UPID, message: KillTask): void {
    if (this.aborted) {
      this.log.debug({ task_id: message.task_id.value }, 'Ignoring kill task because the driver is aborted');
      return;
    }
    this.log.debug({ task_id: message.task_id.value }, 'Executor asked to kill task');
    this.#executor.killTask(this.#driver, message.task_id, message.kill_policy);
  }

  statusUpdateAcknowledgement(_from: UPID, message: StatusUpdateAcknowledgement): void {
    if (this.aborted) {
      this.log.debug('Ignoring status update acknowledgement because the driver is aborted');
      return;
    }
    const uuid = canonicalUuid(message.uuid);
    const update = this.updates.get(uuid);
    if (update === undefined) {
      this.log.warn({ task_id: message.task_id.value, uuid: message.uuid }, 'Ignoring unknown status update acknowledgement');
      return;
    }
    this.log.debug({ task_id: message.task_id.value, state: update.status.state }, 'Executor received status update acknowledgement');
    this.updates.delete(uuid);
    // The agent knows the task now; it no longer needs to be re-sent on re-registration.
    this.tasks.delete(message.task_id.value);
    this.#executor.acknowledged?.(this.#driver, update.status);
  }

  frameworkMessage(_from: UPID, message: FrameworkToExecutor): void {
    if (this.aborted || this.shuttingDown) {
      this.log.debug('Ignoring framework message because the executor is aborted or shutting down');
      return;
    }
    this.#executor.frameworkMessage(this.#driver, Buffer.from(message.data, 'base64'));
  }

  shutdown(): void {
    if (this.aborted) {
      this.log.debug('Ignoring shutdown because the driver is aborted');
      return;
    }
    this.log.info('Executor asked to shut down');
    this.#shutdown();
  }

  // -------------------------------------------------------------------------------------------
  // Called by the driver, inside the mailbox.

  sendStatusUpdate(status: TaskStatus): void {
    if (status.state === 'TASK_STAGING') {
      this.log.warn({ task_id: status.task_id.value }, 'Executor is not allowed to send TASK_STAGING status updates, aborting');
      this.#driver.abort();
      this.#executor.error(this.#driver, 'Attempted to send TASK_STAGING status update');
      return;
    }
    const uuid = newStatusUuid(this.#options.uuidSource);
    const timestamp = this.clock.now() / 1_000;
    // The agent's id as the driver knows it, whatever the executor put there (Mesos's driver
    // overwrites `slave_id`); the executor's own only before registration.
    const agentId = this.agentId ?? status.agent_id;
    const full: TaskStatus = {
      ...status,
      executor_id: this.#options.executorId,
      source: 'SOURCE_EXECUTOR',
      timestamp,
      uuid,
      ...(agentId !== undefined ? { agent_id: agentId } : {}),
    };
    const update: StatusUpdate = {
      framework_id: this.#options.frameworkId,
      executor_id: this.#options.executorId,
      ...(this.agentId !== undefined ? { agent_id: this.agentId } : {}),
      status: full,
      timestamp,
      uuid,
    };
    this.updates.set(canonicalUuid(uuid), update);
    this.log.debug({ task_id: status.task_id.value, state: status.state }, 'Executor sending status update');
    this.send(this.agent, STATUS_UPDATE, { update, pid: String(this.self) } satisfies StatusUpdateMessage);
  }

  sendFrameworkMessage(data: Buffer): void {
    const message: ExecutorToFramework = {
      slave_id: this.agentId ?? { value: '' },
      framework_id: this.#options.frameworkId,
      executor_id: this.#options.executorId,
      data: data.toString('base64'),
    };
    this.send(this.agent, EXECUTOR_TO_FRAMEWORK, message);
  }

  /** The agent is gone: `disconnected`, then wait for it (if it can come back) or shut down. */
  agentLost(reason: string, reconnectable: boolean): void {
    if (this.aborted) {
      this.log.debug('Ignoring the loss of the agent because the driver is aborted');
      return;
    }
    if (this.state === 'DISCONNECTED' || this.state === 'TERMINATED') return;
    // Only an executor the agent registered can be reconnected by the recovered agent (Mesos's
    // driver waits when `checkpoint && connected`); one still connecting was never recorded.
    const registered = this.state === 'REGISTERED';
    this.#retry?.cancel();
    this.#retry = undefined;
    this.#machine?.send({ type: 'AGENT_EXITED' });
    this.#executor.disconnected(this.#driver);
    if (reconnectable && registered && this.#options.checkpoint && !this.shuttingDown) {
      this.log.info(
        { reason, recovery_timeout_ms: this.#options.recoveryTimeoutMs },
        'Agent exited, but framework has checkpointing enabled; waiting to reconnect',
      );
      return;
    }
    this.log.info({ reason }, 'Agent exited, shutting down');
    this.#shutdown();
  }

  /** Runs `fn` after `ms` of Clock time, in this mailbox. */
  later(ms: number, fn: () => void): Timer {
    return this.delay(ms, fn);
  }

  // -------------------------------------------------------------------------------------------

  #register(): void {
    if (this.state !== 'CONNECTING' || this.aborted) return;
    const message: RegisterExecutor = { framework_id: this.#options.frameworkId, executor_id: this.#options.executorId };
    this.send(this.agent, REGISTER_EXECUTOR, message);
    const wait = this.#retryIntervalMs;
    this.#retryIntervalMs = Math.min(wait * 2, EXECUTOR_REGISTRATION_RETRY_INTERVAL_MAX_MS);
    this.#retry = this.delay(wait, () => {
      this.#retry = undefined;
      if (this.state === 'CONNECTING') this.log.debug({ after_ms: wait }, 'Retrying registration with the agent');
      this.#register();
    });
  }

  #recoveryTimedOut(): void {
    this.log.info({ recovery_timeout_ms: this.#options.recoveryTimeoutMs }, 'Recovery timeout exceeded; shutting down');
    this.#shutdown();
  }

  #shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.#retry?.cancel();
    this.#retry = undefined;
    this.#options.onShutdown();
    this.#executor.shutdown(this.#driver);
  }
}

/** Status update uuids compare by their bytes: both base64 alphabets, padded or not. */
export function canonicalUuid(uuid: string): string {
  return Buffer.from(uuid, 'base64').toString('base64');
}
