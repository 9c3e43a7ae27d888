import {
  EXECUTOR_REGISTERED,
  EXECUTOR_REREGISTERED,
  EXECUTOR_TO_FRAMEWORK,
  FRAMEWORK_TO_EXECUTOR,
  KILL_TASK,
  RECONNECT_EXECUTOR,
  REGISTER_EXECUTOR,
  REREGISTER_EXECUTOR,
  RUN_TASK,
  SHUTDOWN_EXECUTOR,
  STATUS_UPDATE,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  type ExecutorRegistered,
  type ExecutorToFramework,
  type KillTask,
  type RegisterExecutor,
  type ReregisterExecutor,
  type RunTask,
  type StatusUpdateAcknowledgement,
  type StatusUpdateMessage,
} from '../../src/mesos/protocol.ts';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskInfo } from '../../src/mesos/v1/common.ts';
import { Process } from '../../src/process/process.ts';
import type { UPID } from '../../src/process/upid.ts';

/**
 * A stand-in for the agent in executor tests (Mesos tests use a mock slave the same way): it
 * answers `RegisterExecutorMessage` with `ExecutorRegisteredMessage`, sends `RunTaskMessage`,
 * `KillTaskMessage` and framework messages, collects status updates and, if asked, acknowledges
 * them.
 */

export const FRAMEWORK_ID = { value: 'framework-0000' };
export const AGENT_ID = { value: 'master-S0' };
export const FRAMEWORK_INFO: FrameworkInfo = { user: 'tester', name: 'executor tests', id: FRAMEWORK_ID, capabilities: [{ type: 'TASK_KILLING_STATE' }] };
export const AGENT_INFO: AgentInfo = { hostname: 'localhost', id: AGENT_ID };

/** Messages in arrival order, awaited one at a time. */
export class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];
  readonly all: T[] = [];

  push(item: T): void {
    this.all.push(item);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.#items.push(item);
  }

  /** The next item not taken yet. */
  take(): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** How many arrived and were not taken. */
  get pending(): number {
    return this.#items.length;
  }
}

export class AgentStub extends Process {
  /** Acknowledge every status update as it arrives. */
  autoAck = true;
  /** Answer registrations. */
  answerRegistrations = true;
  executor: UPID | undefined;
  readonly registrations = new Inbox<UPID>();
  readonly reregistrations = new Inbox<ReregisterExecutor>();
  readonly updates = new Inbox<StatusUpdateMessage>();
  readonly messages = new Inbox<string>();
  readonly exits: UPID[] = [];
  #registered: (pid: UPID) => void = () => undefined;
  /** Resolves with the executor's pid at its first registration. */
  readonly registered = new Promise<UPID>((resolve) => (this.#registered = resolve));

  constructor(
    id = 'slave(1)',
    readonly executorInfo: ExecutorInfo = { executor_id: { value: 'executor-1' }, framework_id: FRAMEWORK_ID },
  ) {
    super(id);
    this.install<RegisterExecutor>(REGISTER_EXECUTOR, (from) => {
      this.registrations.push(from);
      if (!this.answerRegistrations) return;
      const first = this.executor === undefined;
      this.executor = from;
      if (first) this.link(from);
      this.send(from, EXECUTOR_REGISTERED, {
        executor_info: this.executorInfo,
        framework_id: FRAMEWORK_ID,
        framework_info: FRAMEWORK_INFO,
        slave_id: AGENT_ID,
        slave_info: AGENT_INFO,
      } satisfies ExecutorRegistered);
      if (first) this.#registered(from);
    });
    this.install<ReregisterExecutor>(REREGISTER_EXECUTOR, (from, body) => {
      this.executor = from;
      this.link(from);
      this.reregistrations.push(body);
      this.send(from, EXECUTOR_REREGISTERED, { slave_id: AGENT_ID, slave_info: AGENT_INFO });
    });
    this.install<StatusUpdateMessage>(STATUS_UPDATE, (_from, body) => {
      this.updates.push(body);
      if (this.autoAck) this.acknowledge(body);
    });
    this.install<ExecutorToFramework>(EXECUTOR_TO_FRAMEWORK, (_from, body) => {
      this.messages.push(Buffer.from(body.data, 'base64').toString('utf8'));
    });
  }

  override exited(upid: UPID): void {
    this.exits.push(upid);
  }

  /** The agent's Clock-driven delay, for its `Containerizer`. */
  later(ms: number, fn: () => void) {
    return this.delay(ms, fn);
  }

  acknowledge(message: StatusUpdateMessage): void {
    const ack: StatusUpdateAcknowledgement = {
      slave_id: AGENT_ID,
      framework_id: message.update.framework_id,
      task_id: message.update.status.task_id,
      uuid: message.update.uuid!,
    };
    this.send(message.pid!, STATUS_UPDATE_ACKNOWLEDGEMENT, ack);
  }

  runTask(task: TaskInfo): void {
    this.send(this.executor!, RUN_TASK, { framework_id: FRAMEWORK_ID, framework: FRAMEWORK_INFO, task } satisfies RunTask);
  }

  killTask(taskId: string, killPolicy?: KillPolicy): void {
    const body: KillTask = { framework_id: FRAMEWORK_ID, task_id: { value: taskId }, ...(killPolicy ? { kill_policy: killPolicy } : {}) };
    this.send(this.executor!, KILL_TASK, body);
  }

  frameworkMessage(text: string): void {
    this.send(this.executor!, FRAMEWORK_TO_EXECUTOR, {
      slave_id: AGENT_ID,
      framework_id: FRAMEWORK_ID,
      executor_id: this.executorInfo.executor_id,
      data: Buffer.from(text, 'utf8').toString('base64'),
    });
  }

  shutdownExecutor(): void {
    this.send(this.executor!, SHUTDOWN_EXECUTOR, { framework_id: FRAMEWORK_ID, executor_id: this.executorInfo.executor_id });
  }

  /** As a recovered agent does: asks the executor to re-register with it. */
  reconnect(executor: UPID): void {
    this.send(executor, RECONNECT_EXECUTOR, { slave_id: AGENT_ID });
  }
}

/** A command task as a framework would launch it. */
export function commandTask(id: string, command: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: AGENT_ID, command: { value: command }, ...extra };
}
