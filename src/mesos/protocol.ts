import { z } from 'zod';
import {
  AgentIDSchema,
  DurationInfoSchema,
  AgentInfoSchema,
  ExecutorIDSchema,
  ExecutorInfoSchema,
  FrameworkIDSchema,
  FrameworkInfoSchema,
  ResourceSchema,
  TaskGroupInfoSchema,
  TaskIDSchema,
  TaskInfoSchema,
  TaskStateSchema,
  TaskStatusSchema,
  KillPolicySchema,
  LabelsSchema,
} from './v1/common.ts';
import { isBytes, isDouble, isId, isString, isTaskState, isTaskStatus, object } from './v1/fast.ts';
import { bytes, double, parseWith } from './v1/validate.ts';
import type { Validator } from '../process/process.ts';

/**
 * The internal messages between master, agent and executor, named and shaped after Mesos's
 * `messages.proto` (`RegisterSlaveMessage`, `RunTaskMessage`, `StatusUpdateMessage`, ...), with
 * v1 JSON field names inside (`agent_id`, not `slave_id`, where the v1 types are reused; the
 * message *names* keep Mesos's historical `Slave`, as the wire names do in Mesos 1.x).
 *
 * Schedulers talk to the master with v1 `scheduler.Call` / `scheduler.Event` bodies under the
 * message names `SCHEDULER_CALL` and `SCHEDULER_EVENT`.
 *
 * Every schema here validates bodies that arrive from another node (`Process.install`'s
 * validator); within one node bodies are trusted. A failed validation names the field and value.
 */

// ---------------------------------------------------------------------------------------------
// Names.

export const SCHEDULER_CALL = 'mesos.scheduler.Call';
export const SCHEDULER_EVENT = 'mesos.scheduler.Event';

export const REGISTER_SLAVE = 'RegisterSlaveMessage';
export const SLAVE_REGISTERED = 'SlaveRegisteredMessage';
export const REREGISTER_SLAVE = 'ReregisterSlaveMessage';
export const SLAVE_REREGISTERED = 'SlaveReregisteredMessage';
export const UNREGISTER_SLAVE = 'UnregisterSlaveMessage';
export const PING_SLAVE = 'PingSlaveMessage';
export const PONG_SLAVE = 'PongSlaveMessage';
export const RUN_TASK = 'RunTaskMessage';
/** Master → agent → executor: a task group for one executor, all or nothing (Mesos 1.1's `RunTaskGroupMessage`). */
export const RUN_TASK_GROUP = 'RunTaskGroupMessage';
export const KILL_TASK = 'KillTaskMessage';
export const STATUS_UPDATE = 'StatusUpdateMessage';
export const STATUS_UPDATE_ACKNOWLEDGEMENT = 'StatusUpdateAcknowledgementMessage';
export const EXITED_EXECUTOR = 'ExitedExecutorMessage';
export const SHUTDOWN_FRAMEWORK = 'ShutdownFrameworkMessage';
/** Master → agent: shut down (Mesos's `ShutdownMessage`), e.g. an agent the registry marks gone. */
export const SHUTDOWN_SLAVE = 'ShutdownMessage';
export const SHUTDOWN_EXECUTOR = 'ShutdownExecutorMessage';
/** Master → agent: drain (DRAIN_AGENT): kill every task, within `config.max_grace_period` if given. */
export const DRAIN_SLAVE = 'DrainSlaveMessage';
export const FRAMEWORK_TO_EXECUTOR = 'FrameworkToExecutorMessage';
export const EXECUTOR_TO_FRAMEWORK = 'ExecutorToFrameworkMessage';
export const REGISTER_EXECUTOR = 'RegisterExecutorMessage';
export const EXECUTOR_REGISTERED = 'ExecutorRegisteredMessage';
export const REREGISTER_EXECUTOR = 'ReregisterExecutorMessage';
export const EXECUTOR_REREGISTERED = 'ExecutorReregisteredMessage';
export const RECONNECT_EXECUTOR = 'ReconnectExecutorMessage';
/** Master → agent: the master lost track; the agent re-registers (Mesos sends this on a ping from an unknown agent). */
export const REREGISTER_REQUEST = 'ReregisterRequestMessage';
/**
 * Master → agent, after a re-registration that did not report tasks the master launched there:
 * the agent answers TASK_LOST (TASK_DROPPED when partition-aware) for each it does not know, and
 * nothing for one it knows (its RunTaskMessage was still on the way; it comes before this).
 */
export const RECONCILE_TASKS = 'ReconcileTasksMessage';
/**
 * Master → agent: the agent's whole new set of checkpointed resources (its dynamic reservations
 * and persistent volumes), after a RESERVE, UNRESERVE, CREATE or DESTROY, or when it
 * re-registers with other ones than the master's.
 */
export const CHECKPOINT_RESOURCES = 'CheckpointResourcesMessage';

// ---------------------------------------------------------------------------------------------
// Shapes.

/** A task as the master and the agent keep it (v1 `Task`). */
export const TaskSchema = z.object({
  name: z.string(),
  task_id: TaskIDSchema,
  framework_id: FrameworkIDSchema,
  executor_id: ExecutorIDSchema.optional(),
  agent_id: AgentIDSchema,
  state: TaskStateSchema,
  resources: z.array(ResourceSchema),
  statuses: z.array(TaskStatusSchema),
  /** The state of the latest update not yet acknowledged by the framework, if any. */
  status_update_state: TaskStateSchema.optional(),
  status_update_uuid: bytes.optional(),
  labels: LabelsSchema.optional(),
});
export type Task = z.infer<typeof TaskSchema>;

/** One status update as the agent's StatusUpdateManager streams it (Mesos `StatusUpdate`). */
export const StatusUpdateSchema = z.object({
  framework_id: FrameworkIDSchema,
  executor_id: ExecutorIDSchema.optional(),
  agent_id: AgentIDSchema.optional(),
  status: TaskStatusSchema,
  /** Seconds since the epoch. */
  timestamp: double,
  /** The update's id (base64 of 16 bytes); equal to `status.uuid`. Absent for updates that need no ack. */
  uuid: bytes.optional(),
  /** The latest state of the task when the update was sent (may be newer than `status.state`). */
  latest_state: TaskStateSchema.optional(),
});
export type StatusUpdate = z.infer<typeof StatusUpdateSchema>;

/** How the master wants the agent to judge the connection (Mesos `SlaveRegisteredMessage.connection`). */
const ConnectionSchema = z.object({ total_ping_timeout_seconds: double.optional() });

export const RegisterSlaveSchema = z.object({
  slave: AgentInfoSchema,
  /** The agent's dynamically reserved resources, as it checkpointed them; `slave.resources` are its `--resources`. */
  checkpointed_resources: z.array(ResourceSchema).optional(),
  version: z.string().optional(),
  /**
   * The agent's IP address, where Mesos's master reads it from the agent's libprocess address:
   * with its hostname, the machine it runs on, which maintenance schedules name (`MachineID`).
   */
  ip: z.string().optional(),
});
export type RegisterSlave = z.infer<typeof RegisterSlaveSchema>;

export const SlaveRegisteredSchema = z.object({
  slave_id: AgentIDSchema,
  connection: ConnectionSchema.optional(),
});
export type SlaveRegistered = z.infer<typeof SlaveRegisteredSchema>;

/**
 * A framework the agent has done with, and its tasks that ended there (Mesos's
 * `Archive.Framework`, as `ReregisterSlaveMessage.completed_frameworks` carries it).
 */
export const CompletedFrameworkSchema = z.object({
  framework_info: FrameworkInfoSchema,
  pid: z.string().optional(),
  tasks: z.array(TaskSchema).optional(),
});
export type CompletedFramework = z.infer<typeof CompletedFrameworkSchema>;

export const ReregisterSlaveSchema = z.object({
  slave: AgentInfoSchema.extend({ id: AgentIDSchema }),
  tasks: z.array(TaskSchema).optional(),
  executor_infos: z.array(ExecutorInfoSchema).optional(),
  frameworks: z.array(FrameworkInfoSchema).optional(),
  /** The frameworks the agent completed, with their tasks (terminal, acknowledged or not). */
  completed_frameworks: z.array(CompletedFrameworkSchema).optional(),
  /** As `RegisterSlaveMessage.checkpointed_resources`: what a master that failed over learns reservations from. */
  checkpointed_resources: z.array(ResourceSchema).optional(),
  version: z.string().optional(),
  /** As `RegisterSlaveMessage.ip`. */
  ip: z.string().optional(),
});
export type ReregisterSlave = z.infer<typeof ReregisterSlaveSchema>;

export const SlaveReregisteredSchema = SlaveRegisteredSchema;
export type SlaveReregistered = SlaveRegistered;

export const UnregisterSlaveSchema = z.object({ slave_id: AgentIDSchema });
export type UnregisterSlave = z.infer<typeof UnregisterSlaveSchema>;

export const PingSlaveSchema = z.object({ connected: z.boolean() });
export type PingSlave = z.infer<typeof PingSlaveSchema>;
export const PongSlaveSchema = z.object({});
export type PongSlave = z.infer<typeof PongSlaveSchema>;

export const RunTaskSchema = z.object({
  framework_id: FrameworkIDSchema,
  framework: FrameworkInfoSchema,
  task: TaskInfoSchema,
});
export type RunTask = z.infer<typeof RunTaskSchema>;

/**
 * Mesos's `RunTaskGroupMessage`: the tasks of `task_group` run together in `executor` (the
 * default executor, `ExecutorInfo.type` DEFAULT). `framework.id` is set; each task names
 * `executor`, as the master fills it in (Mesos's `Master::accept`).
 */
export const RunTaskGroupSchema = z.object({
  framework: FrameworkInfoSchema.extend({ id: FrameworkIDSchema }),
  executor: ExecutorInfoSchema,
  task_group: TaskGroupInfoSchema,
});
export type RunTaskGroup = z.infer<typeof RunTaskGroupSchema>;

export const KillTaskSchema = z.object({
  framework_id: FrameworkIDSchema,
  task_id: TaskIDSchema,
  kill_policy: KillPolicySchema.optional(),
});
export type KillTask = z.infer<typeof KillTaskSchema>;

export const StatusUpdateMessageSchema = z.object({
  update: StatusUpdateSchema,
  /** The sender to acknowledge to (the agent's UPID), as Mesos's `StatusUpdateMessage.pid`. */
  pid: z.string().optional(),
});
export type StatusUpdateMessage = z.infer<typeof StatusUpdateMessageSchema>;

export const StatusUpdateAcknowledgementSchema = z.object({
  slave_id: AgentIDSchema,
  framework_id: FrameworkIDSchema,
  task_id: TaskIDSchema,
  uuid: bytes,
});
export type StatusUpdateAcknowledgement = z.infer<typeof StatusUpdateAcknowledgementSchema>;

export const ExitedExecutorSchema = z.object({
  slave_id: AgentIDSchema,
  framework_id: FrameworkIDSchema,
  executor_id: ExecutorIDSchema,
  /** The wait status: the exit code, or 128 + signal number when killed by a signal. */
  status: z.number().int(),
  message: z.string().optional(),
});
export type ExitedExecutor = z.infer<typeof ExitedExecutorSchema>;

export const ShutdownSlaveSchema = z.object({ message: z.string().optional() });
export type ShutdownSlave = z.infer<typeof ShutdownSlaveSchema>;

/**
 * `DrainConfig` (Mesos 1.9): `max_grace_period` caps each task's kill grace period while the agent
 * drains; `mark_gone` marks the agent gone once it is drained (its killed tasks end
 * `TASK_GONE_BY_OPERATOR` rather than `TASK_KILLED`).
 */
export const DrainConfigSchema = z.object({ max_grace_period: DurationInfoSchema.optional(), mark_gone: z.boolean().optional() });
export type DrainConfig = z.infer<typeof DrainConfigSchema>;

/** `DrainSlaveMessage`: the master tells an agent to drain. */
export const DrainSlaveSchema = z.object({ config: DrainConfigSchema });
export type DrainSlave = z.infer<typeof DrainSlaveSchema>;

export const ShutdownFrameworkSchema = z.object({ framework_id: FrameworkIDSchema });
export type ShutdownFramework = z.infer<typeof ShutdownFrameworkSchema>;

export const ShutdownExecutorSchema = z.object({ framework_id: FrameworkIDSchema, executor_id: ExecutorIDSchema });
export type ShutdownExecutor = z.infer<typeof ShutdownExecutorSchema>;

export const FrameworkToExecutorSchema = z.object({
  slave_id: AgentIDSchema,
  framework_id: FrameworkIDSchema,
  executor_id: ExecutorIDSchema,
  data: bytes,
});
export type FrameworkToExecutor = z.infer<typeof FrameworkToExecutorSchema>;

export const ExecutorToFrameworkSchema = FrameworkToExecutorSchema;
export type ExecutorToFramework = FrameworkToExecutor;

export const RegisterExecutorSchema = z.object({ framework_id: FrameworkIDSchema, executor_id: ExecutorIDSchema });
export type RegisterExecutor = z.infer<typeof RegisterExecutorSchema>;

export const ExecutorRegisteredSchema = z.object({
  executor_info: ExecutorInfoSchema,
  framework_id: FrameworkIDSchema,
  framework_info: FrameworkInfoSchema,
  slave_id: AgentIDSchema,
  slave_info: AgentInfoSchema,
});
export type ExecutorRegistered = z.infer<typeof ExecutorRegisteredSchema>;

export const ReregisterExecutorSchema = z.object({
  framework_id: FrameworkIDSchema,
  executor_id: ExecutorIDSchema,
  tasks: z.array(TaskInfoSchema).optional(),
  updates: z.array(StatusUpdateSchema).optional(),
});
export type ReregisterExecutor = z.infer<typeof ReregisterExecutorSchema>;

export const ExecutorReregisteredSchema = z.object({ slave_id: AgentIDSchema, slave_info: AgentInfoSchema });
export type ExecutorReregistered = z.infer<typeof ExecutorReregisteredSchema>;

export const ReconnectExecutorSchema = z.object({ slave_id: AgentIDSchema });
export type ReconnectExecutor = z.infer<typeof ReconnectExecutorSchema>;

export const ReregisterRequestSchema = z.object({});

/** Mesos's `CheckpointResourcesMessage`: every resource the agent is to checkpoint (its dynamic reservations). */
export const CheckpointResourcesSchema = z.object({ resources: z.array(ResourceSchema) });
export type CheckpointResources = z.infer<typeof CheckpointResourcesSchema>;

/** Mesos `ReconcileTasksMessage`: the master's view of the tasks it asks about. */
export const ReconcileTasksSchema = z.object({ framework_id: FrameworkIDSchema, statuses: z.array(TaskStatusSchema) });
export type ReconcileTasks = z.infer<typeof ReconcileTasksSchema>;

// ---------------------------------------------------------------------------------------------
// Fast paths for the hot messages (see `v1/fast.ts`): the body itself when the schema would
// return it unchanged, otherwise `undefined` (then zod parses it).

/** `StatusUpdate` whose `status` passes `isTaskStatus`. */
const isStatusUpdate = object(
  { framework_id: isId, status: isTaskStatus, timestamp: isDouble },
  { executor_id: isId, agent_id: isId, uuid: isBytes, latest_state: isTaskState },
);
const isStatusUpdateMessage = object({ update: isStatusUpdate }, { pid: isString });
const isStatusUpdateAcknowledgement = object({ slave_id: isId, framework_id: isId, task_id: isId, uuid: isBytes });

/** The master's and the agent's hot message: `StatusUpdateMessageSchema`. */
export function fastStatusUpdateMessage(v: unknown): StatusUpdateMessage | undefined {
  return isStatusUpdateMessage(v) ? (v as StatusUpdateMessage) : undefined;
}

/** The agent's and the executor's: `StatusUpdateAcknowledgementSchema`. */
export function fastStatusUpdateAcknowledgement(v: unknown): StatusUpdateAcknowledgement | undefined {
  return isStatusUpdateAcknowledgement(v) ? (v as StatusUpdateAcknowledgement) : undefined;
}

/** The schemas that have a fast path, and their fast paths. */
const FAST_PATHS: ReadonlyMap<z.ZodType, (body: unknown) => unknown> = new Map<z.ZodType, (body: unknown) => unknown>([
  [StatusUpdateMessageSchema, fastStatusUpdateMessage],
  [StatusUpdateAcknowledgementSchema, fastStatusUpdateAcknowledgement],
]);

// ---------------------------------------------------------------------------------------------
// Validators for `Process.install`.

/**
 * Turns a schema into an install-time validator whose errors name the message, field and value.
 * A schema with a fast path (`StatusUpdateMessageSchema`, ...) tries it first; zod parses what
 * the fast path does not take.
 */
export function validator<T>(schema: z.ZodType<T>, what: string): Validator<T> {
  const ctx = { what };
  const fast = FAST_PATHS.get(schema) as ((body: unknown) => T | undefined) | undefined;
  if (fast === undefined) return (body: unknown) => parseWith(schema, body, ctx);
  return (body: unknown) => fast(body) ?? parseWith(schema, body, ctx);
}
