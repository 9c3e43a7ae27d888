/**
 * Offer-related messages of `mesos/v1/mesos.proto`: `Offer` and its `Operation`s, `Filters`,
 * `InverseOffer`, and operation feedback (`OperationStatus`). Conventions as in `base.ts`.
 */

import { z } from 'zod';

import {
  AgentIDSchema,
  AllocationInfoSchema,
  AttributeSchema,
  DomainInfoSchema,
  ExecutorIDSchema,
  FrameworkIDSchema,
  OfferIDSchema,
  OperationIDSchema,
  ResourceProviderIDSchema,
  ResourceSchema,
  UnavailabilitySchema,
  URLSchema,
} from './base.ts';
import { ExecutorInfoSchema, TaskGroupInfoSchema, TaskInfoSchema } from './task.ts';
import { bytes, double, jsonObject } from './validate.ts';

/**
 * `Offer`: resources of one agent offered to one of a framework's roles (`allocation_info`),
 * until accepted, declined or rescinded. `executor_ids` lists the framework's executors
 * already running there.
 */
export const OfferSchema = z.object({
  id: OfferIDSchema,
  framework_id: FrameworkIDSchema,
  agent_id: AgentIDSchema,
  hostname: z.string(),
  url: URLSchema.optional(),
  domain: DomainInfoSchema.optional(),
  resources: z.array(ResourceSchema).optional(),
  attributes: z.array(AttributeSchema).optional(),
  executor_ids: z.array(ExecutorIDSchema).optional(),
  unavailability: UnavailabilitySchema.optional(),
  allocation_info: AllocationInfoSchema.optional(),
});
export type Offer = z.infer<typeof OfferSchema>;

/** `Offer.Operation.Type`; the last four are experimental in Mesos. */
export const OPERATION_TYPES = [
  'LAUNCH',
  'LAUNCH_GROUP',
  'RESERVE',
  'UNRESERVE',
  'CREATE',
  'DESTROY',
  'GROW_VOLUME',
  'SHRINK_VOLUME',
  'CREATE_DISK',
  'DESTROY_DISK',
] as const;
export const OperationTypeSchema = z.enum(OPERATION_TYPES);
export type OperationType = z.infer<typeof OperationTypeSchema>;

/** `Offer.Operation.Launch`. */
export const LaunchSchema = z.object({ task_infos: z.array(TaskInfoSchema).optional() });
/** `Offer.Operation.LaunchGroup`: all tasks go to `executor` atomically. */
export const LaunchGroupSchema = z.object({ executor: ExecutorInfoSchema, task_group: TaskGroupInfoSchema });
/** `Offer.Operation.Reserve`: `source` is set to refine an existing reservation. */
export const ReserveSchema = z.object({
  source: z.array(ResourceSchema).optional(),
  resources: z.array(ResourceSchema).optional(),
});
/** `Offer.Operation.Unreserve`. */
export const UnreserveSchema = z.object({ resources: z.array(ResourceSchema).optional() });
/** `Offer.Operation.Create` (persistent volumes). */
export const CreateSchema = z.object({ volumes: z.array(ResourceSchema).optional() });
/** `Offer.Operation.Destroy` (persistent volumes). */
export const DestroySchema = z.object({ volumes: z.array(ResourceSchema).optional() });

const operation = <T extends OperationType, P extends string, S extends z.ZodType>(type: T, key: P, payload: S) =>
  z.object({ type: z.literal(type), id: OperationIDSchema.optional(), [key]: payload } as {
    type: z.ZodLiteral<T>;
    id: z.ZodOptional<typeof OperationIDSchema>;
  } & { [K in P]: S });

/**
 * `Offer.Operation`: what to do with accepted offers, applied in order. An operation of type
 * `X` must carry its payload under the lower-case key `x` (`{type: 'LAUNCH', launch: {...}}`).
 * `id` asks for operation feedback (`UPDATE_OPERATION_STATUS`). The experimental volume and
 * disk payloads are carried uninterpreted.
 */
export const OperationSchema = z.discriminatedUnion('type', [
  operation('LAUNCH', 'launch', LaunchSchema),
  operation('LAUNCH_GROUP', 'launch_group', LaunchGroupSchema),
  operation('RESERVE', 'reserve', ReserveSchema),
  operation('UNRESERVE', 'unreserve', UnreserveSchema),
  operation('CREATE', 'create', CreateSchema),
  operation('DESTROY', 'destroy', DestroySchema),
  operation('GROW_VOLUME', 'grow_volume', jsonObject),
  operation('SHRINK_VOLUME', 'shrink_volume', jsonObject),
  operation('CREATE_DISK', 'create_disk', jsonObject),
  operation('DESTROY_DISK', 'destroy_disk', jsonObject),
]);
export type Operation = z.infer<typeof OperationSchema>;
/** `Offer.Operation` under its proto name (Mesos's separate `Operation` message is not modelled). */
export const OfferOperationSchema = OperationSchema;
export type OfferOperation = Operation;
export type LaunchOperation = Extract<Operation, { type: 'LAUNCH' }>;
export type LaunchGroupOperation = Extract<Operation, { type: 'LAUNCH_GROUP' }>;

/**
 * `Filters`: how long resources left unused by an ACCEPT or DECLINE are not re-offered to the
 * framework. Read it through `refuseSeconds`.
 */
export const FiltersSchema = z.object({ refuse_seconds: double.optional() });
export type Filters = z.infer<typeof FiltersSchema>;

/** `Filters.refuse_seconds` default: 5 seconds. */
export const DEFAULT_REFUSE_SECONDS = 5;
/** Mesos caps `refuse_seconds` at 365 days. */
export const MAX_REFUSE_SECONDS = 31536000;

/**
 * The refusal time `filters` ask for, as Mesos reads it: the default 5 s when unset or
 * negative, at most 365 days.
 *
 * @example
 * refuseSeconds(undefined); // 5
 * refuseSeconds({ refuse_seconds: 60 }); // 60
 */
export function refuseSeconds(filters: Filters | undefined): number {
  const seconds = filters?.refuse_seconds;
  if (seconds === undefined || seconds < 0) return DEFAULT_REFUSE_SECONDS;
  return Math.min(seconds, MAX_REFUSE_SECONDS);
}

/** `InverseOffer`: a request to give resources back (maintenance). */
export const InverseOfferSchema = z.object({
  id: OfferIDSchema,
  url: URLSchema.optional(),
  framework_id: FrameworkIDSchema,
  agent_id: AgentIDSchema.optional(),
  unavailability: UnavailabilitySchema,
  resources: z.array(ResourceSchema).optional(),
});
export type InverseOffer = z.infer<typeof InverseOfferSchema>;

/** `OperationState`. */
export const OPERATION_STATES = [
  'OPERATION_UNSUPPORTED',
  'OPERATION_PENDING',
  'OPERATION_FINISHED',
  'OPERATION_FAILED',
  'OPERATION_ERROR',
  'OPERATION_DROPPED',
  'OPERATION_UNREACHABLE',
  'OPERATION_GONE_BY_OPERATOR',
  'OPERATION_RECOVERING',
  'OPERATION_UNKNOWN',
] as const;
export const OperationStateSchema = z.enum(OPERATION_STATES);
export type OperationState = z.infer<typeof OperationStateSchema>;

/**
 * `OperationStatus`: feedback on an operation that had an `id`. Unlike `TaskStatus.uuid`,
 * `uuid` here is a `UUID` message: `{"value": "<base64>"}`.
 */
export const OperationStatusSchema = z.object({
  operation_id: OperationIDSchema.optional(),
  state: OperationStateSchema,
  message: z.string().optional(),
  converted_resources: z.array(ResourceSchema).optional(),
  uuid: z.object({ value: bytes }).optional(),
  agent_id: AgentIDSchema.optional(),
  resource_provider_id: ResourceProviderIDSchema.optional(),
});
export type OperationStatus = z.infer<typeof OperationStatusSchema>;
