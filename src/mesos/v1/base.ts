/**
 * The base messages of Mesos's `include/mesos/v1/mesos.proto` (ids, values, resources,
 * framework/master/agent info) as they travel in JSON: field
 * names in snake_case, enums as their names (`"TASK_RUNNING"`), `bytes` as base64 strings.
 *
 * Each message has a zod schema (`TaskInfoSchema`) and a type derived from it (`TaskInfo`), so
 * the two cannot drift apart. Schemas check what Mesos's JSON-to-protobuf conversion checks:
 * required fields, JSON types, enum names. Semantic checks (a task with both `command` and
 * `executor`, a negative `cpus`) are the master's job and end in `TASK_ERROR`, as in Mesos.
 *
 * Proto defaults are not filled in when parsing, so a parsed message serializes back to what
 * was sent; read a defaulted field through its accessor (`refuseSeconds(filters)`).
 *
 * Messages this project carries without interpreting (`ContainerInfo`, `DiscoveryInfo`,
 * `CheckInfo`, `DiskInfo`, ...) are typed `JsonObject` and kept whole. Keys unknown to the
 * proto are dropped, as Mesos drops them.
 */

import { z } from 'zod';

import { double, int32, int64, jsonObject, uint32, uint64 } from './validate.ts';

export { type JsonObject } from './validate.ts';

// ---------------------------------------------------------------------------------------------
// IDs.

/** `FrameworkID`: assigned by the master, `<master-uuid>-0000`. */
export const FrameworkIDSchema = z.object({ value: z.string() });
export type FrameworkID = z.infer<typeof FrameworkIDSchema>;

/** `AgentID`: assigned by the master, `<master-uuid>-S0`. */
export const AgentIDSchema = z.object({ value: z.string() });
export type AgentID = z.infer<typeof AgentIDSchema>;

/** `OfferID`: assigned by the master, `<master-uuid>-O0`. */
export const OfferIDSchema = z.object({ value: z.string() });
export type OfferID = z.infer<typeof OfferIDSchema>;

/** `TaskID`: chosen by the framework. */
export const TaskIDSchema = z.object({ value: z.string() });
export type TaskID = z.infer<typeof TaskIDSchema>;

/** `ExecutorID`: chosen by the framework (the task id for the command executor). */
export const ExecutorIDSchema = z.object({ value: z.string() });
export type ExecutorID = z.infer<typeof ExecutorIDSchema>;

/** `ResourceProviderID`. */
export const ResourceProviderIDSchema = z.object({ value: z.string() });
export type ResourceProviderID = z.infer<typeof ResourceProviderIDSchema>;

/** `OperationID`: chosen by the framework to get operation feedback. */
export const OperationIDSchema = z.object({ value: z.string() });
export type OperationID = z.infer<typeof OperationIDSchema>;

/** `ContainerID`: a UUID chosen by the agent; `parent` is set for a nested container. */
export interface ContainerID {
  value: string;
  parent?: ContainerID | undefined;
}
export const ContainerIDSchema: z.ZodType<ContainerID> = z.object({
  value: z.string(),
  get parent() {
    return ContainerIDSchema.optional();
  },
});

// ---------------------------------------------------------------------------------------------
// Time.

/** `TimeInfo`: time since the epoch, in nanoseconds. */
export const TimeInfoSchema = z.object({ nanoseconds: int64 });
export type TimeInfo = z.infer<typeof TimeInfoSchema>;

/** `DurationInfo`: a duration in nanoseconds. */
export const DurationInfoSchema = z.object({ nanoseconds: int64 });
export type DurationInfo = z.infer<typeof DurationInfoSchema>;

/** `Unavailability`: an interval (maintenance); no `duration` means forever. */
export const UnavailabilitySchema = z.object({
  start: TimeInfoSchema,
  duration: DurationInfoSchema.optional(),
});
export type Unavailability = z.infer<typeof UnavailabilitySchema>;

// ---------------------------------------------------------------------------------------------
// Addresses, labels, domains.

/** `Address`: a hostname and/or an IP, and a port. */
export const AddressSchema = z.object({
  hostname: z.string().optional(),
  ip: z.string().optional(),
  port: int32,
});
export type Address = z.infer<typeof AddressSchema>;

/** `Parameter`: a key/value pair. */
export const ParameterSchema = z.object({ key: z.string(), value: z.string() });
export type Parameter = z.infer<typeof ParameterSchema>;

/** `URL`. */
export const URLSchema = z.object({
  scheme: z.string(),
  address: AddressSchema,
  path: z.string().optional(),
  query: z.array(ParameterSchema).optional(),
  fragment: z.string().optional(),
});
export type URL = z.infer<typeof URLSchema>;

/** `Label`: free-form metadata; `value` is optional. */
export const LabelSchema = z.object({ key: z.string(), value: z.string().optional() });
export type Label = z.infer<typeof LabelSchema>;

/** `Labels`: `{labels: [{key, value}]}`. */
export const LabelsSchema = z.object({ labels: z.array(LabelSchema).optional() });
export type Labels = z.infer<typeof LabelsSchema>;

/** `DomainInfo`: the fault domain (region and zone) of a master or agent. */
export const DomainInfoSchema = z.object({
  fault_domain: z
    .object({
      region: z.object({ name: z.string() }),
      zone: z.object({ name: z.string() }),
    })
    .optional(),
});
export type DomainInfo = z.infer<typeof DomainInfoSchema>;

// ---------------------------------------------------------------------------------------------
// Values, attributes, resources.

/** `Value.Type`. */
export const VALUE_TYPES = ['SCALAR', 'RANGES', 'SET', 'TEXT'] as const;
export const ValueTypeSchema = z.enum(VALUE_TYPES);
export type ValueType = z.infer<typeof ValueTypeSchema>;

/** `Value.Scalar`: Mesos keeps three decimal digits of precision. */
export const ScalarSchema = z.object({ value: double });
export type Scalar = z.infer<typeof ScalarSchema>;

/** `Value.Range`: inclusive `[begin, end]`. */
export const RangeSchema = z.object({ begin: uint64, end: uint64 });
export type Range = z.infer<typeof RangeSchema>;

/** `Value.Ranges`: `{range: [{begin, end}]}`. */
export const RangesSchema = z.object({ range: z.array(RangeSchema).optional() });
export type Ranges = z.infer<typeof RangesSchema>;

/** `Value.Set`: `{item: [...]}`. */
export const ValueSetSchema = z.object({ item: z.array(z.string()).optional() });
export type ValueSet = z.infer<typeof ValueSetSchema>;

/** `Value.Text`. */
export const TextSchema = z.object({ value: z.string() });
export type Text = z.infer<typeof TextSchema>;

/** `Value`: the union of scalar, ranges, set and text, selected by `type`. */
export const ValueSchema = z.object({
  type: ValueTypeSchema,
  scalar: ScalarSchema.optional(),
  ranges: RangesSchema.optional(),
  set: ValueSetSchema.optional(),
  text: TextSchema.optional(),
});
export type Value = z.infer<typeof ValueSchema>;

/** `Attribute`: an agent property used in placement (`rack:r1`). */
export const AttributeSchema = z.object({
  name: z.string(),
  type: ValueTypeSchema,
  scalar: ScalarSchema.optional(),
  ranges: RangesSchema.optional(),
  set: ValueSetSchema.optional(),
  text: TextSchema.optional(),
});
export type Attribute = z.infer<typeof AttributeSchema>;

/** `Resource.ReservationInfo.Type`. */
export const RESERVATION_TYPES = ['UNKNOWN', 'STATIC', 'DYNAMIC'] as const;
export const ReservationTypeSchema = z.enum(RESERVATION_TYPES);
export type ReservationType = z.infer<typeof ReservationTypeSchema>;

/** `Resource.ReservationInfo`: one level of a (possibly refined) reservation. */
export const ReservationInfoSchema = z.object({
  type: ReservationTypeSchema.optional(),
  role: z.string().optional(),
  principal: z.string().optional(),
  labels: LabelsSchema.optional(),
});
export type ReservationInfo = z.infer<typeof ReservationInfoSchema>;

/** `Resource.AllocationInfo`: the role an offered resource is allocated to. */
export const AllocationInfoSchema = z.object({ role: z.string().optional() });
export type AllocationInfo = z.infer<typeof AllocationInfoSchema>;

/**
 * `Resource`: `name` (`cpus`, `mem`, `disk`, `ports`, ...), a value of `type`, and where it is
 * reserved. `reservations` is the post-refinement format (empty means unreserved); `role`
 * (default `"*"`) and `reservation` are the legacy format. `disk` (a persistent volume's
 * `DiskInfo`) is carried as JSON here and checked by `Resources.fromJSON`.
 */
export const ResourceSchema = z.object({
  provider_id: ResourceProviderIDSchema.optional(),
  name: z.string(),
  type: ValueTypeSchema,
  scalar: ScalarSchema.optional(),
  ranges: RangesSchema.optional(),
  set: ValueSetSchema.optional(),
  role: z.string().optional(),
  allocation_info: AllocationInfoSchema.optional(),
  reservation: ReservationInfoSchema.optional(),
  reservations: z.array(ReservationInfoSchema).optional(),
  disk: jsonObject.optional(),
  revocable: z.object({}).optional(),
  shared: z.object({}).optional(),
});
export type Resource = z.infer<typeof ResourceSchema>;

/** The default of `Resource.role` and `FrameworkInfo.role`: unreserved. */
export const DEFAULT_ROLE = '*';

/** `Request`: resources a framework asks the allocator for (the built-in one ignores it). */
export const RequestSchema = z.object({
  agent_id: AgentIDSchema.optional(),
  resources: z.array(ResourceSchema).optional(),
});
export type Request = z.infer<typeof RequestSchema>;

// ---------------------------------------------------------------------------------------------
// Frameworks, masters, agents.

/** `FrameworkInfo.Capability.Type`. */
export const FRAMEWORK_CAPABILITIES = [
  'UNKNOWN',
  'REVOCABLE_RESOURCES',
  'TASK_KILLING_STATE',
  'GPU_RESOURCES',
  'SHARED_RESOURCES',
  'PARTITION_AWARE',
  'MULTI_ROLE',
  'RESERVATION_REFINEMENT',
  'REGION_AWARE',
] as const;
export const FrameworkCapabilityTypeSchema = z.enum(FRAMEWORK_CAPABILITIES);
export type FrameworkCapabilityType = z.infer<typeof FrameworkCapabilityTypeSchema>;

/**
 * `FrameworkInfo`: who a framework is. `user` and `name` are required; `id` is unset on the
 * first SUBSCRIBE and set to the assigned id afterwards. `failover_timeout` is in seconds
 * (default 0: tear down at once on disconnection). `offer_filters` is carried uninterpreted.
 */
export const FrameworkInfoSchema = z.object({
  user: z.string(),
  name: z.string(),
  id: FrameworkIDSchema.optional(),
  failover_timeout: double.optional(),
  checkpoint: z.boolean().optional(),
  role: z.string().optional(),
  roles: z.array(z.string()).optional(),
  hostname: z.string().optional(),
  principal: z.string().optional(),
  webui_url: z.string().optional(),
  capabilities: z.array(z.object({ type: FrameworkCapabilityTypeSchema.optional() })).optional(),
  labels: LabelsSchema.optional(),
  offer_filters: z.record(z.string(), jsonObject).optional(),
});
export type FrameworkInfo = z.infer<typeof FrameworkInfoSchema>;

/** `FrameworkInfo.failover_timeout` default: 0 seconds. */
export const DEFAULT_FAILOVER_TIMEOUT_SECONDS = 0;

/** `FrameworkInfo.failover_timeout` in seconds, defaulting to 0 as the proto does. */
export function failoverTimeoutSeconds(info: FrameworkInfo): number {
  return info.failover_timeout ?? DEFAULT_FAILOVER_TIMEOUT_SECONDS;
}

/** Whether the framework declares capability `type` (`PARTITION_AWARE`, `MULTI_ROLE`, ...). */
export function hasFrameworkCapability(info: FrameworkInfo, type: FrameworkCapabilityType): boolean {
  return info.capabilities?.some((c) => c.type === type) ?? false;
}

/**
 * The roles a framework subscribes with, as Mesos reads them: `roles` when it has the
 * `MULTI_ROLE` capability, otherwise the single legacy `role` (default `"*"`).
 *
 * @example
 * frameworkRoles({ user: 'u', name: 'n' }); // ['*']
 * frameworkRoles({ user: 'u', name: 'n', roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] }); // ['a', 'b']
 */
export function frameworkRoles(info: FrameworkInfo): string[] {
  return hasFrameworkCapability(info, 'MULTI_ROLE') ? [...(info.roles ?? [])] : [info.role ?? DEFAULT_ROLE];
}

/** `MasterInfo.Capability.Type`. */
export const MASTER_CAPABILITIES = ['UNKNOWN', 'AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2'] as const;
export const MasterCapabilityTypeSchema = z.enum(MASTER_CAPABILITIES);
export type MasterCapabilityType = z.infer<typeof MasterCapabilityTypeSchema>;

/**
 * `MasterInfo`: the leading master. `ip` is a packed IPv4 in network order and `port` the HTTP
 * port (5050); both deprecated in favour of `address` but still required by the proto.
 */
export const MasterInfoSchema = z.object({
  id: z.string(),
  ip: uint32,
  port: uint32,
  pid: z.string().optional(),
  hostname: z.string().optional(),
  version: z.string().optional(),
  address: AddressSchema.optional(),
  domain: DomainInfoSchema.optional(),
  capabilities: z.array(z.object({ type: MasterCapabilityTypeSchema.optional() })).optional(),
});
export type MasterInfo = z.infer<typeof MasterInfoSchema>;

/** `MasterInfo.port` default. */
export const DEFAULT_MASTER_PORT = 5050;

/** `AgentInfo`: an agent's host, configured resources and attributes; `id` once registered. */
export const AgentInfoSchema = z.object({
  hostname: z.string(),
  port: int32.optional(),
  resources: z.array(ResourceSchema).optional(),
  attributes: z.array(AttributeSchema).optional(),
  id: AgentIDSchema.optional(),
  domain: DomainInfoSchema.optional(),
});
export type AgentInfo = z.infer<typeof AgentInfoSchema>;

/** `AgentInfo.port` default. */
export const DEFAULT_AGENT_PORT = 5051;
