/**
 * The scheduler API of `include/mesos/v1/scheduler/scheduler.proto` as JSON wire shapes:
 * `Call` (scheduler to master) and `Event` (master to scheduler), as served at
 * `/api/v1/scheduler` and sent over the bus by the scheduler driver.
 *
 * Both are the proto "union trick": a `type` and, for most types, a payload under the
 * lower-case key of that type (`{type: 'ACCEPT', accept: {...}}`). Here they are discriminated
 * unions, so `call.type === 'ACCEPT'` narrows `call.accept` to a present `Accept`.
 *
 * `parseCall` applies the checks of Mesos's `validation::scheduler::call::validate` on top of
 * the shape: every type but SUBSCRIBE needs `framework_id`; a SUBSCRIBE's `framework_id`, if
 * any, must match `subscribe.framework_info.id`; ACKNOWLEDGE carries a 16-byte `uuid`. Payloads
 * of other types that ride along are dropped, as are unknown keys.
 *
 * Cost: zod takes about 5 µs on Node 20 for the ACCEPT example of the scheduler HTTP API docs
 * (one LAUNCH of one task with two resources), as long as the `JSON.parse` of its text, and
 * about 8 µs for an UPDATE event with every `TaskStatus` field set. On the hot path that was a
 * quarter of a busy cluster's CPU, so the hot calls (ACCEPT of command tasks, DECLINE,
 * ACKNOWLEDGE, REVIVE, SUPPRESS) and events (OFFERS, UPDATE, RESCIND, HEARTBEAT) first go
 * through the hand-written checks of `fast.ts`, which return what the schemas would return or
 * nothing; anything they do not take, valid or not, is parsed by the schemas as before.
 */

import { z } from 'zod';

import {
  AgentIDSchema,
  ExecutorIDSchema,
  FiltersSchema,
  FrameworkIDSchema,
  FrameworkInfoSchema,
  InverseOfferSchema,
  KillPolicySchema,
  MasterInfoSchema,
  OfferIDSchema,
  OfferSchema,
  OperationIDSchema,
  OperationSchema,
  OperationStatusSchema,
  RequestSchema,
  ResourceProviderIDSchema,
  TaskIDSchema,
  TaskStatusSchema,
} from './common.ts';
import { fastSchedulerCall, fastSchedulerEvent } from './fast.ts';
import {
  bytes,
  double,
  int32,
  jsonObject,
  parseWith,
  safeParseWith,
  uuidBytes,
  type SafeParseResult,
} from './validate.ts';

// ---------------------------------------------------------------------------------------------
// Calls.

/** `Call.Type`, without `UNKNOWN`. */
export const CALL_TYPES = [
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'REVIVE',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'ACKNOWLEDGE_OPERATION_STATUS',
  'RECONCILE',
  'RECONCILE_OPERATIONS',
  'MESSAGE',
  'REQUEST',
  'SUPPRESS',
  'UPDATE_FRAMEWORK',
] as const;
export type CallType = (typeof CALL_TYPES)[number];

/**
 * `Call.Subscribe`: `suppressed_roles` must be among the framework's roles;
 * `offer_constraints` (Mesos 1.11) is carried uninterpreted. `force` (a scheduler failing over
 * to take its framework over from another address) lets the master fail the framework's
 * current scheduler over, as Mesos's `Call.Subscribe.force`.
 */
export const SubscribeSchema = z.object({
  framework_info: FrameworkInfoSchema,
  force: z.boolean().optional(),
  suppressed_roles: z.array(z.string()).optional(),
  offer_constraints: jsonObject.optional(),
});
export type Subscribe = z.infer<typeof SubscribeSchema>;

/** `Call.Accept`: the operations run in order on the union of the offers' resources. */
export const AcceptSchema = z.object({
  offer_ids: z.array(OfferIDSchema).optional(),
  operations: z.array(OperationSchema).optional(),
  filters: FiltersSchema.optional(),
});
export type Accept = z.infer<typeof AcceptSchema>;

/** `Call.Decline`: an ACCEPT without operations. */
export const DeclineSchema = z.object({
  offer_ids: z.array(OfferIDSchema).optional(),
  filters: FiltersSchema.optional(),
});
export type Decline = z.infer<typeof DeclineSchema>;

/** `Call.AcceptInverseOffers` and `Call.DeclineInverseOffers`. */
export const InverseOffersReplySchema = z.object({
  inverse_offer_ids: z.array(OfferIDSchema).optional(),
  filters: FiltersSchema.optional(),
});
export type InverseOffersReply = z.infer<typeof InverseOffersReplySchema>;

/** `Call.Revive` and `Call.Suppress`: no roles means all of the framework's roles. */
export const RolesSchema = z.object({ roles: z.array(z.string()).optional() });
export type Roles = z.infer<typeof RolesSchema>;

/** `Call.Kill`: `kill_policy` overrides the task's own. */
export const KillSchema = z.object({
  task_id: TaskIDSchema,
  agent_id: AgentIDSchema.optional(),
  kill_policy: KillPolicySchema.optional(),
});
export type Kill = z.infer<typeof KillSchema>;

/** `Call.Shutdown`: shut down a custom executor. */
export const ShutdownSchema = z.object({ executor_id: ExecutorIDSchema, agent_id: AgentIDSchema });
export type Shutdown = z.infer<typeof ShutdownSchema>;

/** `Call.Acknowledge`: `uuid` is the status update's `uuid`, 16 bytes in base64. */
export const AcknowledgeSchema = z.object({ agent_id: AgentIDSchema, task_id: TaskIDSchema, uuid: uuidBytes });
export type Acknowledge = z.infer<typeof AcknowledgeSchema>;

/** `Call.AcknowledgeOperationStatus`. */
export const AcknowledgeOperationStatusSchema = z.object({
  agent_id: AgentIDSchema.optional(),
  resource_provider_id: ResourceProviderIDSchema.optional(),
  uuid: uuidBytes,
  operation_id: OperationIDSchema,
});
export type AcknowledgeOperationStatus = z.infer<typeof AcknowledgeOperationStatusSchema>;

/** `Call.Reconcile`: no tasks means all of the framework's known tasks. */
export const ReconcileSchema = z.object({
  tasks: z.array(z.object({ task_id: TaskIDSchema, agent_id: AgentIDSchema.optional() })).optional(),
});
export type Reconcile = z.infer<typeof ReconcileSchema>;

/** `Call.ReconcileOperations`. */
export const ReconcileOperationsSchema = z.object({
  operations: z
    .array(
      z.object({
        operation_id: OperationIDSchema,
        agent_id: AgentIDSchema.optional(),
        resource_provider_id: ResourceProviderIDSchema.optional(),
      }),
    )
    .optional(),
});
export type ReconcileOperations = z.infer<typeof ReconcileOperationsSchema>;

/** `Call.Message` and `Event.Message`: opaque bytes between scheduler and executor. */
export const FrameworkMessageSchema = z.object({ agent_id: AgentIDSchema, executor_id: ExecutorIDSchema, data: bytes });
export type FrameworkMessage = z.infer<typeof FrameworkMessageSchema>;

/** `Call.Request`. */
export const RequestCallSchema = z.object({ requests: z.array(RequestSchema).optional() });
export type RequestCall = z.infer<typeof RequestCallSchema>;

/** `Call.UpdateFramework` (Mesos 1.9): change `framework_info` and suppressed roles. */
export const UpdateFrameworkSchema = SubscribeSchema;
export type UpdateFramework = z.infer<typeof UpdateFrameworkSchema>;

const withFramework = { framework_id: FrameworkIDSchema } as const;

const sameId = (a: { value: string } | undefined, b: { value: string } | undefined): boolean =>
  a?.value === b?.value;

/** `Call` variants, one per type, each with exactly the payload its type needs. */
export const CallSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('SUBSCRIBE'), framework_id: FrameworkIDSchema.optional(), subscribe: SubscribeSchema })
    .superRefine((call, ctx) => {
      const infoId = call.subscribe.framework_info.id;
      if (!sameId(call.framework_id, infoId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['subscribe', 'framework_info', 'id'],
          message: `must match 'framework_id' (${show(call.framework_id)}), got ${show(infoId)}`,
        });
      }
    }),
  z.object({ type: z.literal('TEARDOWN'), ...withFramework }),
  z.object({ type: z.literal('ACCEPT'), ...withFramework, accept: AcceptSchema }),
  z.object({ type: z.literal('DECLINE'), ...withFramework, decline: DeclineSchema }),
  z.object({
    type: z.literal('ACCEPT_INVERSE_OFFERS'),
    ...withFramework,
    accept_inverse_offers: InverseOffersReplySchema,
  }),
  z.object({
    type: z.literal('DECLINE_INVERSE_OFFERS'),
    ...withFramework,
    decline_inverse_offers: InverseOffersReplySchema,
  }),
  z.object({ type: z.literal('REVIVE'), ...withFramework, revive: RolesSchema.optional() }),
  z.object({ type: z.literal('KILL'), ...withFramework, kill: KillSchema }),
  z.object({ type: z.literal('SHUTDOWN'), ...withFramework, shutdown: ShutdownSchema }),
  z.object({ type: z.literal('ACKNOWLEDGE'), ...withFramework, acknowledge: AcknowledgeSchema }),
  z.object({
    type: z.literal('ACKNOWLEDGE_OPERATION_STATUS'),
    ...withFramework,
    acknowledge_operation_status: AcknowledgeOperationStatusSchema,
  }),
  z.object({ type: z.literal('RECONCILE'), ...withFramework, reconcile: ReconcileSchema }),
  z.object({
    type: z.literal('RECONCILE_OPERATIONS'),
    ...withFramework,
    reconcile_operations: ReconcileOperationsSchema,
  }),
  z.object({ type: z.literal('MESSAGE'), ...withFramework, message: FrameworkMessageSchema }),
  z.object({ type: z.literal('REQUEST'), ...withFramework, request: RequestCallSchema }),
  z.object({ type: z.literal('SUPPRESS'), ...withFramework, suppress: RolesSchema.optional() }),
  z
    .object({ type: z.literal('UPDATE_FRAMEWORK'), ...withFramework, update_framework: UpdateFrameworkSchema })
    .superRefine((call, ctx) => {
      const infoId = call.update_framework.framework_info.id;
      if (!sameId(call.framework_id, infoId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['update_framework', 'framework_info', 'id'],
          message: `must match 'framework_id' (${show(call.framework_id)}), got ${show(infoId)}`,
        });
      }
    }),
]);

function show(id: { value: string } | undefined): string {
  return id === undefined ? 'nothing' : `{value: '${id.value}'}`;
}

/** A scheduler `Call`; narrow on `type`. */
export type Call = z.infer<typeof CallSchema>;
/** `Call` under the name the master and drivers use. */
export type SchedulerCall = Call;
/** The `Call` variant of one type, e.g. `CallOf<'ACCEPT'>`. */
export type CallOf<T extends CallType> = Extract<Call, { type: T }>;

/**
 * Validates a scheduler call from outside (an HTTP body, a bus message) and returns it typed.
 * Throws `InvalidMessageError` naming the first bad field and its value.
 *
 * @example
 * const call = parseCall(JSON.parse(body));
 * if (call.type === 'DECLINE') decline(call.framework_id, call.decline.offer_ids ?? []);
 * // parseCall({ type: 'ACCEPT' }) throws
 * //   invalid call: 'framework_id' is required for a call of type ACCEPT
 */
export function parseCall(json: unknown): Call {
  return (fastSchedulerCall(json) as Call | undefined) ?? parseWith(CallSchema, json, CALL);
}

/** Like `parseCall`, but returns `{ok: false, error}` instead of throwing. */
export function safeParseCall(json: unknown): SafeParseResult<Call> {
  const fast = fastSchedulerCall(json) as Call | undefined;
  return fast !== undefined ? { ok: true, value: fast } : safeParseWith(CallSchema, json, CALL);
}

/** `parseCall` under the name used outside this module. */
export const parseSchedulerCall = parseCall;

const CALL = { what: 'call' } as const;

// ---------------------------------------------------------------------------------------------
// Events.

/** `Event.Type`, without `UNKNOWN`. */
export const EVENT_TYPES = [
  'SUBSCRIBED',
  'OFFERS',
  'INVERSE_OFFERS',
  'RESCIND',
  'RESCIND_INVERSE_OFFER',
  'UPDATE',
  'UPDATE_OPERATION_STATUS',
  'MESSAGE',
  'FAILURE',
  'ERROR',
  'HEARTBEAT',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `Event.Subscribed`: heartbeats come every `heartbeat_interval_seconds` (Mesos: 15). */
export const SubscribedSchema = z.object({
  framework_id: FrameworkIDSchema,
  heartbeat_interval_seconds: double.optional(),
  master_info: MasterInfoSchema.optional(),
});
export type Subscribed = z.infer<typeof SubscribedSchema>;

/** `Event.Failure`: an agent was removed, or (with `executor_id`) an executor exited. */
export const FailureSchema = z.object({
  agent_id: AgentIDSchema.optional(),
  executor_id: ExecutorIDSchema.optional(),
  status: int32.optional(),
});
export type Failure = z.infer<typeof FailureSchema>;

/** `Event` variants, one per type. */
export const EventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('SUBSCRIBED'), subscribed: SubscribedSchema }),
  z.object({ type: z.literal('OFFERS'), offers: z.object({ offers: z.array(OfferSchema).optional() }) }),
  z.object({
    type: z.literal('INVERSE_OFFERS'),
    inverse_offers: z.object({ inverse_offers: z.array(InverseOfferSchema).optional() }),
  }),
  z.object({ type: z.literal('RESCIND'), rescind: z.object({ offer_id: OfferIDSchema }) }),
  z.object({
    type: z.literal('RESCIND_INVERSE_OFFER'),
    rescind_inverse_offer: z.object({ inverse_offer_id: OfferIDSchema }),
  }),
  z.object({ type: z.literal('UPDATE'), update: z.object({ status: TaskStatusSchema }) }),
  z.object({
    type: z.literal('UPDATE_OPERATION_STATUS'),
    update_operation_status: z.object({ status: OperationStatusSchema }),
  }),
  z.object({ type: z.literal('MESSAGE'), message: FrameworkMessageSchema }),
  z.object({ type: z.literal('FAILURE'), failure: FailureSchema }),
  z.object({ type: z.literal('ERROR'), error: z.object({ message: z.string() }) }),
  z.object({ type: z.literal('HEARTBEAT') }),
]);

/** A scheduler `Event`; narrow on `type`. */
export type Event = z.infer<typeof EventSchema>;
/** `Event` under the name used outside this module. */
export type SchedulerEvent = Event;
/** The `Event` variant of one type, e.g. `EventOf<'OFFERS'>`. */
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;

const EVENT = { what: 'event' } as const;

/**
 * Validates a scheduler event received from a master (what an SDK reads off the RecordIO
 * stream) and returns it typed. Throws `InvalidMessageError`.
 *
 * @example
 * const event = parseEvent(JSON.parse(record));
 * if (event.type === 'OFFERS') handleOffers(event.offers.offers ?? []);
 */
export function parseEvent(json: unknown): Event {
  return (fastSchedulerEvent(json) as Event | undefined) ?? parseWith(EventSchema, json, EVENT);
}

/** Like `parseEvent`, but returns `{ok: false, error}` instead of throwing. */
export function safeParseEvent(json: unknown): SafeParseResult<Event> {
  const fast = fastSchedulerEvent(json) as Event | undefined;
  return fast !== undefined ? { ok: true, value: fast } : safeParseWith(EventSchema, json, EVENT);
}

/** `parseEvent` under the name used outside this module. */
export const parseSchedulerEvent = parseEvent;
