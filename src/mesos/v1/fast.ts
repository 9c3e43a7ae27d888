/**
 * Fast paths for the hot messages: hand-written checks that return what the zod schema would
 * return for an input (the input itself, or for a scheduler call a copy of its top level), or
 * `undefined` to leave the input to the schema. A parser tries the fast path first and runs zod
 * only on `undefined`, so every error message is zod's, unchanged.
 *
 * Returning the input means zod would return a deep-equal copy of it. zod builds a new object
 * per `z.object`, holding only the keys of the schema; so below the top level the checks
 * accept only plain objects (prototype `Object.prototype`) and plain arrays, and an object only
 * when every key it has is one the schema knows. (Not checked, as neither `JSON.parse` nor an
 * object literal makes them: symbol keys, non-enumerable properties, named properties on an
 * array.)
 *
 * A check covers the fields its message carries on the hot path, each as zod checks it. A field
 * it does not check cheaply (a task's `executor`, `container` or `health_check`, anything
 * carried uninterpreted as a `JsonObject`) sends the message to zod, as does any other call or
 * event type: the fast paths may turn down valid input, never accept input that zod rejects or
 * return anything but what zod returns. `test/mesos/fast-validation.test.ts` checks this with
 * property tests.
 *
 * Why: zod was 27% of the CPU of a local `100 x 10 accept` run of the `offers` benchmark (every
 * scheduler call at the master, every event at the driver, every status update at the master);
 * on the same messages these checks cost a sixth (mixed shapes) to a tenth (one shape) of zod.
 */

import { RESERVATION_TYPES, VALUE_TYPES } from './base.ts';
import { ENVIRONMENT_VARIABLE_TYPES, TASK_STATES, TASK_STATUS_REASONS, TASK_STATUS_SOURCES } from './task.ts';
import { base64Bytes } from './validate.ts';

/** An object that passed `isPlain`: its keys can be read. */
export type Plain = { readonly [key: string]: unknown };

const OBJECT_PROTOTYPE = Object.prototype;
const ARRAY_PROTOTYPE = Array.prototype;

// ---------------------------------------------------------------------------------------------
// Building blocks: JSON values as the scalar schemas of `validate.ts` accept them.

/** A plain object (what `JSON.parse` and object literals make), not an array, class or null. */
export function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === OBJECT_PROTOTYPE;
}

/** A plain array whose every element passes `item` (holes fail: `item(undefined)` is false). */
export function isArrayOf(v: unknown, item: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== ARRAY_PROTOTYPE) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
  return true;
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** `double` (`z.number()`): a finite number. */
export function isDouble(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** `int64`: an integer (so finite). */
function isInt64(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** `uint64`: a non-negative integer. */
function isUint64(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** `bytes`: base64, as `isBase64` decides. */
export function isBytes(v: unknown): v is string {
  return typeof v === 'string' && base64Bytes(v) >= 0;
}

/** `uuidBytes`: base64 of 16 bytes. */
export function isUuidBytes(v: unknown): v is string {
  return typeof v === 'string' && base64Bytes(v) === 16;
}

/** A member of a `z.enum` of `values`. */
function oneOf(values: readonly string[]): (v: unknown) => boolean {
  const set = new Set<unknown>(values);
  return (v) => typeof v === 'string' && set.has(v);
}

const isValueType = oneOf(VALUE_TYPES);
const isReservationType = oneOf(RESERVATION_TYPES);
const isEnvironmentVariableType = oneOf(ENVIRONMENT_VARIABLE_TYPES);
/** `TaskState`. */
export const isTaskState = oneOf(TASK_STATES);
const isTaskStatusSource = oneOf(TASK_STATUS_SOURCES);
const isTaskStatusReason = oneOf(TASK_STATUS_REASONS);

/** An object with no keys (`z.object({})`, e.g. `Resource.revocable`). */
function isEmpty(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const _ in v) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// `base.ts`.

/** Any id message (`FrameworkID`, `AgentID`, `OfferID`, ...): `{value: string}`. */
export function isId(v: unknown): boolean {
  if (!isPlain(v) || typeof v.value !== 'string') return false;
  for (const k in v) if (k !== 'value') return false;
  return true;
}

/** `TimeInfo` and `DurationInfo`: `{nanoseconds: int64}`. */
function isNanoseconds(v: unknown): boolean {
  if (!isPlain(v) || !isInt64(v.nanoseconds)) return false;
  for (const k in v) if (k !== 'nanoseconds') return false;
  return true;
}

function isLabel(v: unknown): boolean {
  if (!isPlain(v) || typeof v.key !== 'string') return false;
  for (const k in v) {
    if (k === 'key') continue;
    if (k !== 'value' || (v.value !== undefined && typeof v.value !== 'string')) return false;
  }
  return true;
}

/** `Labels`: `{labels?: [{key, value?}]}`. */
export function isLabels(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'labels' || (v.labels !== undefined && !isArrayOf(v.labels, isLabel))) return false;
  return true;
}

function isScalar(v: unknown): boolean {
  if (!isPlain(v) || !isDouble(v.value)) return false;
  for (const k in v) if (k !== 'value') return false;
  return true;
}

function isRange(v: unknown): boolean {
  if (!isPlain(v) || !isUint64(v.begin) || !isUint64(v.end)) return false;
  for (const k in v) if (k !== 'begin' && k !== 'end') return false;
  return true;
}

function isRanges(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'range' || (v.range !== undefined && !isArrayOf(v.range, isRange))) return false;
  return true;
}

function isValueSet(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'item' || (v.item !== undefined && !isArrayOf(v.item, isString))) return false;
  return true;
}

function isText(v: unknown): boolean {
  if (!isPlain(v) || typeof v.value !== 'string') return false;
  for (const k in v) if (k !== 'value') return false;
  return true;
}

/** `AllocationInfo`: `{role?: string}`. */
function isAllocationInfo(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'role' || (v.role !== undefined && typeof v.role !== 'string')) return false;
  return true;
}

function isReservationInfo(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'type':
        if (x !== undefined && !isReservationType(x)) return false;
        break;
      case 'role':
      case 'principal':
        if (x !== undefined && typeof x !== 'string') return false;
        break;
      case 'labels':
        if (x !== undefined && !isLabels(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `Attribute`, every field. */
export function isAttribute(v: unknown): boolean {
  if (!isPlain(v) || typeof v.name !== 'string' || !isValueType(v.type)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'name':
      case 'type':
        break;
      case 'scalar':
        if (x !== undefined && !isScalar(x)) return false;
        break;
      case 'ranges':
        if (x !== undefined && !isRanges(x)) return false;
        break;
      case 'set':
        if (x !== undefined && !isValueSet(x)) return false;
        break;
      case 'text':
        if (x !== undefined && !isText(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `Resource`, every field but `disk` (a `JsonObject`). */
export function isResource(v: unknown): boolean {
  if (!isPlain(v) || typeof v.name !== 'string' || !isValueType(v.type)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'name':
      case 'type':
        break;
      case 'scalar':
        if (x !== undefined && !isScalar(x)) return false;
        break;
      case 'ranges':
        if (x !== undefined && !isRanges(x)) return false;
        break;
      case 'set':
        if (x !== undefined && !isValueSet(x)) return false;
        break;
      case 'role':
        if (x !== undefined && typeof x !== 'string') return false;
        break;
      case 'allocation_info':
        if (x !== undefined && !isAllocationInfo(x)) return false;
        break;
      case 'reservation':
        if (x !== undefined && !isReservationInfo(x)) return false;
        break;
      case 'reservations':
        if (x !== undefined && !isArrayOf(x, isReservationInfo)) return false;
        break;
      case 'provider_id':
        if (x !== undefined && !isId(x)) return false;
        break;
      case 'revocable':
      case 'shared':
        if (x !== undefined && !isEmpty(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `Resource[]`. */
export function isResources(v: unknown): boolean {
  return isArrayOf(v, isResource);
}

// ---------------------------------------------------------------------------------------------
// `task.ts`.

function isCommandURI(v: unknown): boolean {
  if (!isPlain(v) || typeof v.value !== 'string') return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'value':
        break;
      case 'executable':
      case 'extract':
      case 'cache':
        if (x !== undefined && typeof x !== 'boolean') return false;
        break;
      case 'output_file':
        if (x !== undefined && typeof x !== 'string') return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** An `Environment.Variable` without `secret` (a `JsonObject`). */
function isVariable(v: unknown): boolean {
  if (!isPlain(v) || typeof v.name !== 'string') return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'name':
        break;
      case 'type':
        if (x !== undefined && !isEnvironmentVariableType(x)) return false;
        break;
      case 'value':
        if (x !== undefined && typeof x !== 'string') return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isEnvironment(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'variables' || (v.variables !== undefined && !isArrayOf(v.variables, isVariable))) return false;
  return true;
}

/** `CommandInfo`, every field (a variable's `secret` excepted). */
export function isCommandInfo(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'uris':
        if (x !== undefined && !isArrayOf(x, isCommandURI)) return false;
        break;
      case 'environment':
        if (x !== undefined && !isEnvironment(x)) return false;
        break;
      case 'shell':
        if (x !== undefined && typeof x !== 'boolean') return false;
        break;
      case 'value':
      case 'user':
        if (x !== undefined && typeof x !== 'string') return false;
        break;
      case 'arguments':
        if (x !== undefined && !isArrayOf(x, isString)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isKillPolicy(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'grace_period' || (v.grace_period !== undefined && !isNanoseconds(v.grace_period))) return false;
  return true;
}

/**
 * A `TaskInfo` of a command task: `name`, `task_id`, `agent_id`, `resources`, `command`,
 * `kill_policy`, `data`, `labels`, `max_completion_time`. A task with `executor`, `container`,
 * `health_check`, `check`, `discovery` or `limits` goes to zod.
 */
export function isCommandTaskInfo(v: unknown): boolean {
  if (!isPlain(v) || typeof v.name !== 'string' || !isId(v.task_id) || !isId(v.agent_id)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'name':
      case 'task_id':
      case 'agent_id':
        break;
      case 'resources':
        if (x !== undefined && !isResources(x)) return false;
        break;
      case 'command':
        if (x !== undefined && !isCommandInfo(x)) return false;
        break;
      case 'kill_policy':
        if (x !== undefined && !isKillPolicy(x)) return false;
        break;
      case 'data':
        if (x !== undefined && !isBytes(x)) return false;
        break;
      case 'labels':
        if (x !== undefined && !isLabels(x)) return false;
        break;
      case 'max_completion_time':
        if (x !== undefined && !isNanoseconds(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isLimitation(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'resources' || (v.resources !== undefined && !isResources(v.resources))) return false;
  return true;
}

/**
 * `TaskStatus`, every field but `check_status` and `container_status` (carried uninterpreted,
 * in part): a status with either goes to zod.
 */
export function isTaskStatus(v: unknown): boolean {
  if (!isPlain(v) || !isId(v.task_id) || !isTaskState(v.state)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'task_id':
      case 'state':
        break;
      case 'message':
        if (x !== undefined && typeof x !== 'string') return false;
        break;
      case 'source':
        if (x !== undefined && !isTaskStatusSource(x)) return false;
        break;
      case 'reason':
        if (x !== undefined && !isTaskStatusReason(x)) return false;
        break;
      case 'data':
      case 'uuid':
        if (x !== undefined && !isBytes(x)) return false;
        break;
      case 'agent_id':
      case 'executor_id':
        if (x !== undefined && !isId(x)) return false;
        break;
      case 'timestamp':
        if (x !== undefined && !isDouble(x)) return false;
        break;
      case 'healthy':
        if (x !== undefined && typeof x !== 'boolean') return false;
        break;
      case 'labels':
        if (x !== undefined && !isLabels(x)) return false;
        break;
      case 'unreachable_time':
        if (x !== undefined && !isNanoseconds(x)) return false;
        break;
      case 'limitation':
        if (x !== undefined && !isLimitation(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// `offer.ts`.

/**
 * `Offer` as the master makes it: `id`, `framework_id`, `agent_id`, `hostname`, `resources`,
 * `attributes`, `executor_ids`, `allocation_info`. One with `url`, `domain` or
 * `unavailability` goes to zod.
 */
export function isOffer(v: unknown): boolean {
  if (!isPlain(v) || !isId(v.id) || !isId(v.framework_id) || !isId(v.agent_id) || typeof v.hostname !== 'string') return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'id':
      case 'framework_id':
      case 'agent_id':
      case 'hostname':
        break;
      case 'resources':
        if (x !== undefined && !isResources(x)) return false;
        break;
      case 'attributes':
        if (x !== undefined && !isArrayOf(x, isAttribute)) return false;
        break;
      case 'executor_ids':
        if (x !== undefined && !isArrayOf(x, isId)) return false;
        break;
      case 'allocation_info':
        if (x !== undefined && !isAllocationInfo(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `Filters`: `{refuse_seconds?: double}`. */
export function isFilters(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'refuse_seconds' || (v.refuse_seconds !== undefined && !isDouble(v.refuse_seconds))) return false;
  return true;
}

function isLaunch(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'task_infos' || (v.task_infos !== undefined && !isArrayOf(v.task_infos, isCommandTaskInfo))) return false;
  return true;
}

/** An `Offer.Operation` of type LAUNCH whose tasks pass `isCommandTaskInfo`; other types go to zod. */
export function isLaunchOperation(v: unknown): boolean {
  if (!isPlain(v) || v.type !== 'LAUNCH' || !isLaunch(v.launch)) return false;
  for (const k in v) {
    if (k === 'type' || k === 'launch') continue;
    if (k !== 'id' || (v.id !== undefined && !isId(v.id))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// `scheduler.ts`: the hot calls and events.

/** A list of offer ids (`offer_ids`), optional. */
function isOptionalIds(v: unknown): boolean {
  return v === undefined || isArrayOf(v, isId);
}

/** `Call.Accept` whose operations are all LAUNCHes of command tasks. */
function isAccept(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'offer_ids':
        if (!isOptionalIds(x)) return false;
        break;
      case 'operations':
        if (x !== undefined && !isArrayOf(x, isLaunchOperation)) return false;
        break;
      case 'filters':
        if (x !== undefined && !isFilters(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `Call.Decline`. */
function isDecline(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) {
    const x = v[k];
    switch (k) {
      case 'offer_ids':
        if (!isOptionalIds(x)) return false;
        break;
      case 'filters':
        if (x !== undefined && !isFilters(x)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** `Call.Acknowledge`: `uuid` is base64 of 16 bytes. */
function isAcknowledge(v: unknown): boolean {
  if (!isPlain(v) || !isId(v.agent_id) || !isId(v.task_id) || !isUuidBytes(v.uuid)) return false;
  for (const k in v) if (k !== 'agent_id' && k !== 'task_id' && k !== 'uuid') return false;
  return true;
}

/** `Call.Revive` and `Call.Suppress`: `{roles?: string[]}`. */
function isRoles(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'roles' || (v.roles !== undefined && !isArrayOf(v.roles, isString))) return false;
  return true;
}

/**
 * A scheduler `Call` of type ACCEPT (of LAUNCHes of command tasks), DECLINE, ACKNOWLEDGE,
 * REVIVE or SUPPRESS as `CallSchema` returns it, or `undefined` (then ask zod).
 *
 * Unlike the levels below it, the call itself is rebuilt from its known keys rather than
 * checked for unknown ones, as zod does: the scheduler driver makes it with
 * `{...call, framework_id}`, and V8 (Node 20) gives an object made that way no enum cache, so
 * a `for...in` over it costs about 250 ns, more than the rest of a DECLINE's checks.
 */
export function fastSchedulerCall(v: unknown): Plain | undefined {
  if (!isPlain(v)) return undefined;
  const frameworkId = v.framework_id;
  if (!isId(frameworkId)) return undefined;
  switch (v.type) {
    case 'ACCEPT':
      return isAccept(v.accept) ? { type: 'ACCEPT', framework_id: frameworkId, accept: v.accept } : undefined;
    case 'DECLINE':
      return isDecline(v.decline) ? { type: 'DECLINE', framework_id: frameworkId, decline: v.decline } : undefined;
    case 'ACKNOWLEDGE':
      return isAcknowledge(v.acknowledge) ? { type: 'ACKNOWLEDGE', framework_id: frameworkId, acknowledge: v.acknowledge } : undefined;
    case 'REVIVE':
      return withRoles(v, 'REVIVE', 'revive', frameworkId);
    case 'SUPPRESS':
      return withRoles(v, 'SUPPRESS', 'suppress', frameworkId);
    default:
      return undefined;
  }
}

/** REVIVE or SUPPRESS, whose payload is optional: absent stays absent, as in zod's output. */
function withRoles(v: Plain, type: string, key: string, frameworkId: unknown): Plain | undefined {
  const roles = v[key];
  if (roles === undefined) return Object.hasOwn(v, key) ? { type, framework_id: frameworkId, [key]: undefined } : { type, framework_id: frameworkId };
  return isRoles(roles) ? { type, framework_id: frameworkId, [key]: roles } : undefined;
}

/** `Event.offers`: `{offers?: Offer[]}`. */
function isOffers(v: unknown): boolean {
  if (!isPlain(v)) return false;
  for (const k in v) if (k !== 'offers' || (v.offers !== undefined && !isArrayOf(v.offers, isOffer))) return false;
  return true;
}

/** `Event.update`: `{status: TaskStatus}`. */
function isUpdate(v: unknown): boolean {
  if (!isPlain(v) || !isTaskStatus(v.status)) return false;
  for (const k in v) if (k !== 'status') return false;
  return true;
}

/** `Event.rescind`: `{offer_id}`. */
function isRescind(v: unknown): boolean {
  if (!isPlain(v) || !isId(v.offer_id)) return false;
  for (const k in v) if (k !== 'offer_id') return false;
  return true;
}

/**
 * A scheduler `Event` of type OFFERS, UPDATE, RESCIND or HEARTBEAT as `EventSchema` returns it
 * (the input itself), or `undefined` (then ask zod).
 */
export function fastSchedulerEvent(v: unknown): Plain | undefined {
  if (!isPlain(v)) return undefined;
  let payload: string | undefined;
  switch (v.type) {
    case 'OFFERS':
      if (!isOffers(v.offers)) return undefined;
      payload = 'offers';
      break;
    case 'UPDATE':
      if (!isUpdate(v.update)) return undefined;
      payload = 'update';
      break;
    case 'RESCIND':
      if (!isRescind(v.rescind)) return undefined;
      payload = 'rescind';
      break;
    case 'HEARTBEAT':
      payload = undefined;
      break;
    default:
      return undefined;
  }
  for (const k in v) if (k !== 'type' && k !== payload) return undefined;
  return v;
}
