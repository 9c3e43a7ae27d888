/**
 * The executor API of `include/mesos/v1/executor/executor.proto` as JSON wire shapes: `Call`
 * (executor to agent) and `Event` (agent to executor), as served at `/api/v1/executor` and sent
 * over the bus by the executor driver. Discriminated on `type`, like the scheduler API.
 *
 * `parseCall` applies the checks of Mesos's `validation::executor::call::validate`: every call
 * names `executor_id` and `framework_id`; an UPDATE's status carries a 16-byte `uuid`, comes
 * from `SOURCE_EXECUTOR`, is not `TASK_STAGING`, and names no other executor.
 */

import { z } from 'zod';

import {
  AgentInfoSchema,
  ContainerIDSchema,
  ExecutorIDSchema,
  ExecutorInfoSchema,
  FrameworkIDSchema,
  FrameworkInfoSchema,
  KillPolicySchema,
  TaskGroupInfoSchema,
  TaskIDSchema,
  TaskInfoSchema,
  TaskStatusSchema,
} from './common.ts';
import { base64ByteLength, bytes, describeValue, parseWith, safeParseWith, uuidBytes } from './validate.ts';

// ---------------------------------------------------------------------------------------------
// Calls.

/** `Call.Type`, without `UNKNOWN`. */
export const CALL_TYPES = ['SUBSCRIBE', 'UPDATE', 'MESSAGE', 'HEARTBEAT'] as const;
export type CallType = (typeof CALL_TYPES)[number];

/** `Call.Update`: a status update for one of the executor's tasks. */
export const UpdateSchema = z.object({ status: TaskStatusSchema });
export type Update = z.infer<typeof UpdateSchema>;

/**
 * `Call.Subscribe`: on re-subscription, the tasks and updates the agent has not seen
 * acknowledged, so none is lost across an agent restart.
 */
export const SubscribeSchema = z.object({
  unacknowledged_tasks: z.array(TaskInfoSchema).optional(),
  unacknowledged_updates: z.array(UpdateSchema).optional(),
});
export type Subscribe = z.infer<typeof SubscribeSchema>;

/** `Call.Message` and `Event.Message`: opaque bytes between executor and scheduler. */
export const MessageSchema = z.object({ data: bytes });
export type Message = z.infer<typeof MessageSchema>;

const ids = { executor_id: ExecutorIDSchema, framework_id: FrameworkIDSchema } as const;

/** `Call` variants, one per type. */
export const CallSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('SUBSCRIBE'), ...ids, subscribe: SubscribeSchema }),
  z.object({ type: z.literal('UPDATE'), ...ids, update: UpdateSchema }).superRefine((call, ctx) => {
    const status = call.update.status;
    const at = (field: string): PropertyKey[] => ['update', 'status', field];
    if (status.uuid === undefined) {
      ctx.addIssue({ code: 'custom', path: at('uuid'), message: 'is required for an UPDATE from an executor' });
    } else if (base64ByteLength(status.uuid) !== 16) {
      ctx.addIssue({
        code: 'custom',
        path: at('uuid'),
        message: `must be a base64 16-byte UUID, got ${describeValue(status.uuid)}`,
      });
    }
    if (status.executor_id !== undefined && status.executor_id.value !== call.executor_id.value) {
      ctx.addIssue({
        code: 'custom',
        path: [...at('executor_id'), 'value'],
        message: `must match 'executor_id.value' ('${call.executor_id.value}'), got ${describeValue(status.executor_id.value)}`,
      });
    }
    if (status.source !== 'SOURCE_EXECUTOR') {
      ctx.addIssue({
        code: 'custom',
        path: at('source'),
        message: `must be SOURCE_EXECUTOR, got ${describeValue(status.source)}`,
      });
    }
    if (status.state === 'TASK_STAGING') {
      ctx.addIssue({ code: 'custom', path: at('state'), message: "must not be TASK_STAGING, got 'TASK_STAGING'" });
    }
  }),
  z.object({ type: z.literal('MESSAGE'), ...ids, message: MessageSchema }),
  z.object({ type: z.literal('HEARTBEAT'), ...ids }),
]);

/** An executor `Call`; narrow on `type`. */
export type Call = z.infer<typeof CallSchema>;
/** `Call` under the name used outside this module. */
export type ExecutorCall = Call;
/** The `Call` variant of one type, e.g. `CallOf<'UPDATE'>`. */
export type CallOf<T extends CallType> = Extract<Call, { type: T }>;

const CALL = { what: 'call' } as const;

/**
 * Validates an executor call (an HTTP body at `/api/v1/executor`, a bus message) and returns
 * it typed. Throws `InvalidMessageError` naming the first bad field and its value.
 *
 * @example
 * const call = parseCall(JSON.parse(body));
 * if (call.type === 'UPDATE') forward(call.update.status);
 */
export function parseCall(json: unknown): Call {
  return parseWith(CallSchema, json, CALL);
}

/** Like `parseCall`, but returns `{ok: false, error}` instead of throwing. */
export function safeParseCall(json: unknown) {
  return safeParseWith(CallSchema, json, CALL);
}

/** `parseCall` under the name used outside this module. */
export const parseExecutorCall = parseCall;

// ---------------------------------------------------------------------------------------------
// Events.

/** `Event.Type`, without `UNKNOWN`. */
export const EVENT_TYPES = [
  'SUBSCRIBED',
  'LAUNCH',
  'LAUNCH_GROUP',
  'KILL',
  'ACKNOWLEDGED',
  'MESSAGE',
  'SHUTDOWN',
  'ERROR',
  'HEARTBEAT',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `Event.Subscribed`: `framework_info.id` is set; `container_id` is the executor's container. */
export const SubscribedSchema = z.object({
  executor_info: ExecutorInfoSchema,
  framework_info: FrameworkInfoSchema,
  agent_info: AgentInfoSchema,
  container_id: ContainerIDSchema.optional(),
});
export type Subscribed = z.infer<typeof SubscribedSchema>;

/** `Event` variants, one per type. */
export const EventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('SUBSCRIBED'), subscribed: SubscribedSchema }),
  z.object({ type: z.literal('LAUNCH'), launch: z.object({ task: TaskInfoSchema }) }),
  z.object({ type: z.literal('LAUNCH_GROUP'), launch_group: z.object({ task_group: TaskGroupInfoSchema }) }),
  z.object({
    type: z.literal('KILL'),
    kill: z.object({ task_id: TaskIDSchema, kill_policy: KillPolicySchema.optional() }),
  }),
  z.object({ type: z.literal('ACKNOWLEDGED'), acknowledged: z.object({ task_id: TaskIDSchema, uuid: uuidBytes }) }),
  z.object({ type: z.literal('MESSAGE'), message: MessageSchema }),
  z.object({ type: z.literal('SHUTDOWN') }),
  z.object({ type: z.literal('ERROR'), error: z.object({ message: z.string() }) }),
  z.object({ type: z.literal('HEARTBEAT') }),
]);

/** An executor `Event`; narrow on `type`. */
export type Event = z.infer<typeof EventSchema>;
/** `Event` under the name used outside this module. */
export type ExecutorEvent = Event;
/** The `Event` variant of one type, e.g. `EventOf<'LAUNCH'>`. */
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;

const EVENT = { what: 'event' } as const;

/**
 * Validates an executor event received from an agent and returns it typed. Throws
 * `InvalidMessageError`.
 *
 * @example
 * const event = parseEvent(JSON.parse(record));
 * if (event.type === 'LAUNCH') launchTask(event.launch.task);
 */
export function parseEvent(json: unknown): Event {
  return parseWith(EventSchema, json, EVENT);
}

/** Like `parseEvent`, but returns `{ok: false, error}` instead of throwing. */
export function safeParseEvent(json: unknown) {
  return safeParseWith(EventSchema, json, EVENT);
}

/** `parseEvent` under the name used outside this module. */
export const parseExecutorEvent = parseEvent;
