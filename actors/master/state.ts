import type { Timer } from '../../src/process/clock.ts';
import type { UPID } from '../../src/process/upid.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { RecentList, RecentMap } from '../../src/recent.ts';
import { MAX_COMPLETED_TASKS_PER_FRAMEWORK, MAX_UNREACHABLE_TASKS_PER_FRAMEWORK } from './constants.ts';
import type { Task } from '../../src/mesos/protocol.ts';
import type {
  AgentInfo,
  ExecutorInfo,
  FrameworkCapabilityType,
  FrameworkInfo,
  Offer as OfferJSON,
  TaskState,
  TaskStatus,
} from '../../src/mesos/v1/common.ts';
import { frameworkRoles, hasFrameworkCapability, isTerminalState } from '../../src/mesos/v1/common.ts';
import type { SchedulerEvent } from '../../src/mesos/v1/index.ts';

/**
 * The master's soft state: frameworks, agents, offers and tasks, as plain records (Mesos's
 * `Framework`, `Slave`, `Offer` in `master.hpp`). The handlers in this folder change them; they
 * hold no behaviour beyond bookkeeping.
 */

/** How events reach a framework's scheduler: a driver on the bus, or (later) an HTTP stream. */
export interface SchedulerConnection {
  readonly kind: 'bus' | 'http';
  /** The driver's address (bus), used to link and to tell connections apart. */
  readonly pid?: UPID;
  send(event: SchedulerEvent): void;
  close(): void;
}

export class FrameworkRecord {
  readonly id: string;
  info: FrameworkInfo;
  connection: SchedulerConnection | undefined;
  /**
   * The address of its driver when it disconnected, as Mesos keeps `framework->pid`: calls from
   * any other address are still not the framework's (`frameworks.call`).
   */
  disconnectedPid: UPID | undefined;
  /** Connected and not deactivated: gets offers. */
  active = true;
  readonly tasks = new Map<string, Task>();
  /** The last `--max_completed_tasks_per_framework` tasks that ended, oldest first. */
  readonly completedTasks: RecentList<Task>;
  /**
   * Tasks of a partition-aware framework whose agent became unreachable (TASK_UNREACHABLE is not
   * terminal for it): they come back to `tasks` if their agent re-registers with them. The last
   * `MAX_UNREACHABLE_TASKS_PER_FRAMEWORK`, as Mesos keeps them.
   */
  readonly unreachableTasks = new RecentMap<string, Task>(MAX_UNREACHABLE_TASKS_PER_FRAMEWORK);
  /** Offers outstanding with this framework. */
  readonly offers = new Set<string>();
  /** Executors per agent id. */
  readonly executors = new Map<string, Map<string, ExecutorInfo>>();
  suppressedRoles = new Set<string>();
  registeredTime: number;
  reregisteredTime: number | undefined;
  unregisteredTime: number | undefined;
  failoverTimer: Timer | undefined;

  constructor(id: string, info: FrameworkInfo, now: number, completedTaskLimit = MAX_COMPLETED_TASKS_PER_FRAMEWORK) {
    this.id = id;
    this.completedTasks = new RecentList(completedTaskLimit);
    this.info = { ...info, id: { value: id } };
    this.registeredTime = now;
  }

  get roles(): string[] {
    return frameworkRoles(this.info);
  }

  /**
   * Resources its tasks and executors use on every agent (Mesos's `totalUsedResources`): a
   * terminal task waiting for its acknowledgement uses nothing.
   */
  usedResources(): Resources {
    let used = Resources.EMPTY;
    for (const task of this.tasks.values()) if (!isTerminalState(task.state)) used = used.plus(Resources.fromJSON(task.resources));
    for (const executors of this.executors.values()) for (const e of executors.values()) used = used.plus(Resources.fromJSON(e.resources ?? []));
    return used;
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  hasCapability(type: FrameworkCapabilityType): boolean {
    return hasFrameworkCapability(this.info, type);
  }

  get partitionAware(): boolean {
    return this.hasCapability('PARTITION_AWARE');
  }

  addExecutor(agentId: string, executor: ExecutorInfo): void {
    let map = this.executors.get(agentId);
    if (map === undefined) this.executors.set(agentId, (map = new Map()));
    map.set(executor.executor_id.value, executor);
  }

  removeExecutor(agentId: string, executorId: string): ExecutorInfo | undefined {
    const map = this.executors.get(agentId);
    const executor = map?.get(executorId);
    map?.delete(executorId);
    if (map?.size === 0) this.executors.delete(agentId);
    return executor;
  }

  completeTask(task: Task): void {
    this.tasks.delete(task.task_id.value);
    this.completedTasks.push(task);
  }

  /** Its agent became unreachable: the task waits, out of `tasks`, for the agent to come back. */
  unreachableTask(task: Task): void {
    this.tasks.delete(task.task_id.value);
    this.unreachableTasks.set(task.task_id.value, task);
  }
}

export class AgentRecord {
  readonly id: string;
  info: AgentInfo;
  pid: UPID;
  /** Its `--resources` (`info.resources`) with its dynamic reservations and volumes (`checkpointed`) applied. */
  total: Resources;
  /** Its dynamically reserved resources and persistent volumes, which it checkpoints (Mesos's `checkpointedResources`). */
  checkpointed: Resources = Resources.EMPTY;
  /**
   * Volumes an operator's CREATE_VOLUMES is creating here while the allocator answers: their
   * persistence ids are taken, so that no other CREATE makes one with the same id meanwhile.
   */
  creatingVolumes: Resources = Resources.EMPTY;
  connected = true;
  active = true;
  registeredTime: number;
  reregisteredTime: number | undefined;
  /** Tasks on this agent: framework id → task id → task (the same objects as the framework's). */
  readonly tasks = new Map<string, Map<string, Task>>();
  /** Executors on this agent: framework id → executor id → info. */
  readonly executors = new Map<string, Map<string, ExecutorInfo>>();
  readonly offers = new Set<string>();
  /** Pings sent without a pong since the last pong. */
  missedPings = 0;
  pongReceived = true;
  pingTimer: Timer | undefined;
  version: string | undefined;
  /** The IP address it announced (`RegisterSlaveMessage.ip`), which maintenance machines may name. */
  ip: string | undefined;

  constructor(id: string, info: AgentInfo, pid: UPID, now: number) {
    this.id = id;
    this.info = { ...info, id: { value: id } };
    this.pid = pid;
    this.total = Resources.fromJSON(info.resources ?? []);
    this.registeredTime = now;
  }

  addTask(task: Task): void {
    const fid = task.framework_id.value;
    let map = this.tasks.get(fid);
    if (map === undefined) this.tasks.set(fid, (map = new Map()));
    map.set(task.task_id.value, task);
  }

  removeTask(task: Task): void {
    const map = this.tasks.get(task.framework_id.value);
    map?.delete(task.task_id.value);
    if (map?.size === 0) this.tasks.delete(task.framework_id.value);
  }

  addExecutor(frameworkId: string, executor: ExecutorInfo): void {
    let map = this.executors.get(frameworkId);
    if (map === undefined) this.executors.set(frameworkId, (map = new Map()));
    map.set(executor.executor_id.value, executor);
  }

  removeExecutor(frameworkId: string, executorId: string): void {
    const map = this.executors.get(frameworkId);
    map?.delete(executorId);
    if (map?.size === 0) this.executors.delete(frameworkId);
  }

  *allTasks(): Iterable<Task> {
    for (const map of this.tasks.values()) yield* map.values();
  }

  /** Resources used by its tasks and executors, all frameworks together (`usedByFramework` summed). */
  usedResources(): Resources {
    let used = Resources.EMPTY;
    for (const r of this.usedByFramework().values()) used = used.plus(r);
    return used;
  }

  /**
   * Resources used by tasks and executors, per framework. A terminal task waiting for its
   * acknowledgement uses nothing (its resources went back when it ended), as in Mesos.
   */
  usedByFramework(): Map<string, Resources> {
    const used = new Map<string, Resources>();
    const add = (fid: string, r: Resources): void => {
      used.set(fid, (used.get(fid) ?? Resources.EMPTY).plus(r));
    };
    for (const task of this.allTasks()) {
      if (!isTerminalState(task.state)) add(task.framework_id.value, Resources.fromJSON(task.resources));
    }
    for (const [fid, map] of this.executors) {
      for (const e of map.values()) add(fid, Resources.fromJSON(e.resources ?? []));
    }
    return used;
  }
}

export class OfferRecord {
  #resources: Resources | undefined;
  constructor(
    readonly id: string,
    readonly frameworkId: string,
    readonly agentId: string,
    readonly role: string,
    readonly json: OfferJSON,
  ) {}
  timer: Timer | undefined;

  /**
   * The offered resources, parsed from `json.resources` when first needed: most offers are
   * declined, and a declined offer goes back to the allocator as the JSON it came in.
   */
  get resources(): Resources {
    this.#resources ??= Resources.fromJSON(this.json.resources ?? []);
    return this.#resources;
  }
}

/** Builds a status update the master itself generates (no uuid: no acknowledgement needed). */
export function masterStatus(
  task: { task_id: Task['task_id']; agent_id?: Task['agent_id']; executor_id?: Task['executor_id'] },
  state: TaskState,
  reason: TaskStatus['reason'],
  message: string,
  nowMs: number,
): TaskStatus {
  const status: TaskStatus = {
    task_id: task.task_id,
    state,
    source: 'SOURCE_MASTER',
    reason,
    message,
    timestamp: nowMs / 1000,
  };
  if (task.agent_id !== undefined) status.agent_id = task.agent_id;
  if (task.executor_id !== undefined) status.executor_id = task.executor_id;
  return status;
}

/** A task's latest known state is terminal. */
export function taskTerminal(task: Task): boolean {
  return isTerminalState(task.state);
}

/** What the outstanding offers among `ids` hold (a framework's or an agent's offers). */
export function offeredResources(offers: ReadonlyMap<string, OfferRecord>, ids: Iterable<string>): Resources {
  let offered = Resources.EMPTY;
  for (const id of ids) {
    const offer = offers.get(id);
    if (offer !== undefined) offered = offered.plus(offer.resources);
  }
  return offered;
}
