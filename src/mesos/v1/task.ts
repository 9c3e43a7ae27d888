/**
 * Task-related messages of `mesos/v1/mesos.proto`: `CommandInfo`, `ExecutorInfo`, `TaskInfo`,
 * `TaskGroupInfo`, and the task lifecycle (`TaskState`, `TaskStatus` and its reasons).
 * Conventions as in `base.ts`.
 */

import { z } from 'zod';

import {
  AgentIDSchema,
  ContainerIDSchema,
  DurationInfoSchema,
  ExecutorIDSchema,
  FrameworkIDSchema,
  LabelsSchema,
  ResourceSchema,
  TaskIDSchema,
  TimeInfoSchema,
} from './base.ts';
import { bytes, describeValue, double, jsonObject, uint32 } from './validate.ts';

// ---------------------------------------------------------------------------------------------
// Commands, executors, tasks.

/** `Environment.Variable.Type`. */
export const ENVIRONMENT_VARIABLE_TYPES = ['UNKNOWN', 'VALUE', 'SECRET'] as const;

/** `Environment`: variables set before a command runs; a `secret` is carried uninterpreted. */
export const EnvironmentSchema = z.object({
  variables: z
    .array(
      z.object({
        name: z.string(),
        type: z.enum(ENVIRONMENT_VARIABLE_TYPES).optional(),
        value: z.string().optional(),
        secret: jsonObject.optional(),
      }),
    )
    .optional(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

/** `CommandInfo.URI`: fetched into the sandbox before the command runs. */
export const CommandURISchema = z.object({
  value: z.string(),
  executable: z.boolean().optional(),
  extract: z.boolean().optional(),
  cache: z.boolean().optional(),
  output_file: z.string().optional(),
});
export type CommandURI = z.infer<typeof CommandURISchema>;

/**
 * `CommandInfo`: with `shell` (the default) `value` runs under `/bin/sh -c`; otherwise `value`
 * is the executable and `arguments` its argv.
 */
export const CommandInfoSchema = z.object({
  uris: z.array(CommandURISchema).optional(),
  environment: EnvironmentSchema.optional(),
  shell: z.boolean().optional(),
  value: z.string().optional(),
  arguments: z.array(z.string()).optional(),
  user: z.string().optional(),
});
export type CommandInfo = z.infer<typeof CommandInfoSchema>;

/** `CommandInfo.shell`, defaulting to `true` as the proto does. */
export function commandShell(command: CommandInfo): boolean {
  return command.shell ?? true;
}

/** `KillPolicy`: how long to wait between a graceful and a forcible kill. */
export const KillPolicySchema = z.object({ grace_period: DurationInfoSchema.optional() });
export type KillPolicy = z.infer<typeof KillPolicySchema>;

/** `HealthCheck.Type`. */
export const HEALTH_CHECK_TYPES = ['UNKNOWN', 'COMMAND', 'HTTP', 'TCP'] as const;
const NETWORK_PROTOCOLS = ['IPv4', 'IPv6'] as const;

/** `HealthCheck`: run by the executor; failures past `consecutive_failures` kill the task. */
export const HealthCheckSchema = z.object({
  type: z.enum(HEALTH_CHECK_TYPES).optional(),
  command: CommandInfoSchema.optional(),
  http: z
    .object({
      protocol: z.enum(NETWORK_PROTOCOLS).optional(),
      scheme: z.string().optional(),
      port: uint32,
      path: z.string().optional(),
      statuses: z.array(uint32).optional(),
    })
    .optional(),
  tcp: z.object({ protocol: z.enum(NETWORK_PROTOCOLS).optional(), port: uint32 }).optional(),
  delay_seconds: double.optional(),
  interval_seconds: double.optional(),
  timeout_seconds: double.optional(),
  consecutive_failures: uint32.optional(),
  grace_period_seconds: double.optional(),
});
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

/** `CheckInfo.Type` (Mesos 1.2's general checks; `TCP` is 7 in the proto). */
export const CHECK_TYPES = ['UNKNOWN', 'COMMAND', 'HTTP', 'TCP'] as const;

/**
 * `CheckInfo`: a check the executor runs and reports (`TaskStatus.check_status`) without
 * interpreting it: unlike a health check it never kills the task.
 */
export const CheckInfoSchema = z.object({
  type: z.enum(CHECK_TYPES).optional(),
  command: z.object({ command: CommandInfoSchema }).optional(),
  http: z.object({ port: uint32, path: z.string().optional() }).optional(),
  tcp: z.object({ port: uint32 }).optional(),
  delay_seconds: double.optional(),
  interval_seconds: double.optional(),
  timeout_seconds: double.optional(),
});
export type CheckInfo = z.infer<typeof CheckInfoSchema>;

/** `CheckStatusInfo`: a check's last result; a field left empty when there is none (a timeout). */
export type CheckStatusInfo = {
  type?: (typeof CHECK_TYPES)[number];
  command?: { exit_code?: number };
  http?: { status_code?: number };
  tcp?: { succeeded?: boolean };
};

/** `ExecutorInfo.Type`. */
export const EXECUTOR_TYPES = ['UNKNOWN', 'DEFAULT', 'CUSTOM'] as const;
export const ExecutorTypeSchema = z.enum(EXECUTOR_TYPES);
export type ExecutorType = z.infer<typeof ExecutorTypeSchema>;

/**
 * `ExecutorInfo`: a `CUSTOM` executor runs `command`; the `DEFAULT` executor (no `command`)
 * runs task groups. `data` is opaque bytes for the executor; `source` is deprecated.
 */
export const ExecutorInfoSchema = z.object({
  type: ExecutorTypeSchema.optional(),
  executor_id: ExecutorIDSchema,
  framework_id: FrameworkIDSchema.optional(),
  command: CommandInfoSchema.optional(),
  container: jsonObject.optional(),
  resources: z.array(ResourceSchema).optional(),
  name: z.string().optional(),
  source: z.string().optional(),
  data: bytes.optional(),
  discovery: jsonObject.optional(),
  shutdown_grace_period: DurationInfoSchema.optional(),
  labels: LabelsSchema.optional(),
});
export type ExecutorInfo = z.infer<typeof ExecutorInfoSchema>;

const isLimit = (v: unknown): boolean =>
  (typeof v === 'number' && Number.isFinite(v)) ||
  v === 'Infinity' ||
  (v !== null &&
    typeof v === 'object' &&
    ((v as { value?: unknown }).value === 'Infinity' ||
      (typeof (v as { value?: unknown }).value === 'number' && Number.isFinite((v as { value: number }).value))));

/**
 * A `TaskInfo.limits` entry. Mesos's docs render these both as `{"value": 512}` and as a bare
 * number or `"Infinity"`; all three forms are accepted and kept as sent.
 */
export const LimitSchema = z.custom<number | 'Infinity' | { value: number | 'Infinity' }>(isLimit, {
  error: (issue) => `must be a number, 'Infinity' or {value: number}, got ${describeValue(issue.input)}`,
});

/**
 * `TaskInfo`: what a framework launches. Either `executor` or `command` is set (the master
 * checks which). `container`, `check` and `discovery` are carried uninterpreted.
 */
export const TaskInfoSchema = z.object({
  name: z.string(),
  task_id: TaskIDSchema,
  agent_id: AgentIDSchema,
  resources: z.array(ResourceSchema).optional(),
  executor: ExecutorInfoSchema.optional(),
  command: CommandInfoSchema.optional(),
  container: jsonObject.optional(),
  health_check: HealthCheckSchema.optional(),
  check: CheckInfoSchema.optional(),
  kill_policy: KillPolicySchema.optional(),
  data: bytes.optional(),
  labels: LabelsSchema.optional(),
  discovery: jsonObject.optional(),
  max_completion_time: DurationInfoSchema.optional(),
  limits: z.record(z.string(), LimitSchema).optional(),
});
export type TaskInfo = z.infer<typeof TaskInfoSchema>;

/** `TaskGroupInfo`: tasks delivered to one executor atomically. */
export const TaskGroupInfoSchema = z.object({ tasks: z.array(TaskInfoSchema).optional() });
export type TaskGroupInfo = z.infer<typeof TaskGroupInfoSchema>;

// ---------------------------------------------------------------------------------------------
// Task states and status updates.

/** `TaskState`: every state of v1, in the proto's order. */
export const TASK_STATES = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
] as const;
export const TaskStateSchema = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskStateSchema>;

const TERMINAL_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_LOST',
  'TASK_ERROR',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

/**
 * Whether a task in `state` is done and its resources are released, as Mesos's
 * `protobuf::isTerminalState` decides. `TASK_LOST` and `TASK_GONE_BY_OPERATOR` count as terminal
 * for bookkeeping although the task might come back; `TASK_UNREACHABLE` and `TASK_UNKNOWN` do not.
 *
 * @example
 * isTerminalState('TASK_FINISHED'); // true
 * isTerminalState('TASK_UNREACHABLE'); // false
 */
export function isTerminalState(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

/** `TaskStatus.Source`: who generated a status update. */
export const TASK_STATUS_SOURCES = ['SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR'] as const;
export const TaskStatusSourceSchema = z.enum(TASK_STATUS_SOURCES);
export type TaskStatusSource = z.infer<typeof TaskStatusSourceSchema>;

/** `TaskStatus.Reason`: the full v1 list, in the proto's order (see task-state-reasons.md). */
export const TASK_STATUS_REASONS = [
  'REASON_COMMAND_EXECUTOR_FAILED',
  'REASON_CONTAINER_LAUNCH_FAILED',
  'REASON_CONTAINER_LIMITATION',
  'REASON_CONTAINER_LIMITATION_DISK',
  'REASON_CONTAINER_LIMITATION_MEMORY',
  'REASON_CONTAINER_PREEMPTED',
  'REASON_CONTAINER_UPDATE_FAILED',
  'REASON_MAX_COMPLETION_TIME_REACHED',
  'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_TERMINATED',
  'REASON_EXECUTOR_UNREGISTERED',
  'REASON_FRAMEWORK_REMOVED',
  'REASON_GC_ERROR',
  'REASON_INVALID_FRAMEWORKID',
  'REASON_INVALID_OFFERS',
  'REASON_IO_SWITCHBOARD_EXITED',
  'REASON_MASTER_DISCONNECTED',
  'REASON_RECONCILIATION',
  'REASON_RESOURCES_UNKNOWN',
  'REASON_AGENT_DISCONNECTED',
  'REASON_AGENT_DRAINING',
  'REASON_AGENT_REMOVED',
  'REASON_AGENT_REMOVED_BY_OPERATOR',
  'REASON_AGENT_REREGISTERED',
  'REASON_AGENT_RESTARTED',
  'REASON_AGENT_UNKNOWN',
  'REASON_TASK_KILLED_DURING_LAUNCH',
  'REASON_TASK_CHECK_STATUS_UPDATED',
  'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  'REASON_TASK_GROUP_INVALID',
  'REASON_TASK_GROUP_UNAUTHORIZED',
  'REASON_TASK_INVALID',
  'REASON_TASK_UNAUTHORIZED',
  'REASON_TASK_UNKNOWN',
] as const;
export const TaskStatusReasonSchema = z.enum(TASK_STATUS_REASONS);
export type TaskStatusReason = z.infer<typeof TaskStatusReasonSchema>;

/**
 * `ContainerStatus`: container facts resolved at launch. `network_infos` and `cgroup_info` are
 * carried uninterpreted.
 */
export const ContainerStatusSchema = z.object({
  container_id: ContainerIDSchema.optional(),
  network_infos: z.array(jsonObject).optional(),
  cgroup_info: jsonObject.optional(),
  executor_pid: uint32.optional(),
});
export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;

/**
 * `TaskStatus`: one status update. `uuid` (base64 of 16 bytes) is set on updates that are
 * retried until acknowledged; `timestamp` is seconds since the epoch (a double).
 * `check_status` is carried uninterpreted.
 */
export const TaskStatusSchema = z.object({
  task_id: TaskIDSchema,
  state: TaskStateSchema,
  message: z.string().optional(),
  source: TaskStatusSourceSchema.optional(),
  reason: TaskStatusReasonSchema.optional(),
  data: bytes.optional(),
  agent_id: AgentIDSchema.optional(),
  executor_id: ExecutorIDSchema.optional(),
  timestamp: double.optional(),
  uuid: bytes.optional(),
  healthy: z.boolean().optional(),
  check_status: jsonObject.optional(),
  labels: LabelsSchema.optional(),
  container_status: ContainerStatusSchema.optional(),
  unreachable_time: TimeInfoSchema.optional(),
  limitation: z.object({ resources: z.array(ResourceSchema).optional() }).optional(),
});
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
