/**
 * Fast paths for the hot messages: checks that return what the zod schema would return for an
 * input (the input itself, or for a scheduler call a copy of its top level), or `undefined` to
 * leave the input to the schema. A parser tries the fast path first and runs zod only on
 * `undefined`, so every error message is zod's, unchanged.
 *
 * Returning the input means zod would return a deep-equal copy of it. zod builds a new object
 * per `z.object`, holding only the keys of the schema; so below the top level the checks
 * accept only plain objects (prototype `Object.prototype`) and plain arrays, and an object only
 * when every key it has is one the schema knows. (Not checked, as neither `JSON.parse` nor an
 * object literal makes them: symbol keys, non-enumerable properties, named properties on an
 * array.)
 *
 * An object's check is a table, `object(required, optional)` of a check a field, much as its
 * schema is (`arrayOf` for `z.array`); `object` is the one place that walks an object's keys.
 * Written out by hand: the scalars, the enums, base64, and the top level of a scheduler call
 * (rebuilt, see `fastSchedulerCall`).
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
import { Resources } from '../resources.ts';

/** An object that passed `isPlain`: its keys can be read. */
export type Plain = { readonly [key: string]: unknown };

/** A check of one value: true when zod would return it unchanged. */
export type Check = (v: unknown) => boolean;

const OBJECT_PROTOTYPE = Object.prototype;
const ARRAY_PROTOTYPE = Array.prototype;

// ---------------------------------------------------------------------------------------------
// Building blocks: objects, arrays, and JSON values as the scalar schemas of `validate.ts`
// accept them.

/** A plain object (what `JSON.parse` and object literals make), not an array, class or null. */
export function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === OBJECT_PROTOTYPE;
}

/** The fields of an `object` check: a check a key. */
type Fields = Readonly<Record<string, Check>>;

/**
 * `z.object` of `required` and `optional` fields (each `.optional()`), strict as above: a plain
 * object each of whose required keys passes its check (so a required check must turn down
 * `undefined`), and whose every key is one of the table's, an optional one `undefined` or
 * passing its check. Each value is checked once: the required ones by name, then one pass over
 * the object's keys checks the optional ones and turns down any other.
 *
 * The table is compiled once into that function, as it would be written by hand: a `switch` on
 * the key, keys as JSON string literals, checks as arguments (no input reaches the source; zod
 * compiles its `z.object`s the same way). A closure reading the table would do the same at
 * about twice the cost: V8 shares the type feedback of all closures of one function literal,
 * so its loads and calls would be megamorphic and none of its checks inlined. Where code
 * generation is disallowed (`--disallow-code-generation-from-strings`), that closure it is.
 */
export function object(required: Fields, optional: Fields = {}): Check {
  return CAN_COMPILE ? compiled(required, optional) : interpreted(required, optional);
}

/** Whether this process may compile code from strings (zod asks the same). */
const CAN_COMPILE = ((): boolean => {
  try {
    return new Function('return true')() === true;
  } catch {
    return false;
  }
})();

function compiled(required: Fields, optional: Fields): Check {
  const checks: Check[] = [];
  const check = (c: Check, x: string): string => `c${checks.push(c) - 1}(${x})`;
  const name = (key: string): string => JSON.stringify(key);
  const requiredKeys = Object.keys(required);
  const source = [
    'return function object(v) {',
    '  if (!isPlain(v)) return false;',
    ...requiredKeys.map((key) => `  if (!${check(required[key]!, `v[${name(key)}]`)}) return false;`),
    '  for (const k in v) {',
    '    switch (k) {',
    ...requiredKeys.map((key) => `      case ${name(key)}:`),
    ...(requiredKeys.length > 0 ? ['        break;'] : []),
    ...Object.entries(optional).map(([key, c]) => `      case ${name(key)}: { const x = v[k]; if (x !== undefined && !${check(c, 'x')}) return false; break; }`),
    '      default:',
    '        return false;',
    '    }',
    '  }',
    '  return true;',
    '};',
  ].join('\n');
  const make = new Function('isPlain', ...checks.map((_, i) => `c${i}`), source) as (...args: unknown[]) => Check;
  return make(isPlain, ...checks);
}

/** What `compiled` compiles, read from the table on every call. */
function interpreted(required: Fields, optional: Fields): Check {
  const requiredFields = Object.entries(required);
  const known = new Map<string, Check>(Object.entries(optional));
  for (const key of Object.keys(required)) known.set(key, checked);
  return (v) => {
    if (!isPlain(v)) return false;
    for (const [key, check] of requiredFields) if (!check(v[key])) return false;
    for (const k in v) {
      const check = known.get(k);
      if (check === undefined) return false;
      const x = v[k];
      if (x !== undefined && !check(x)) return false;
    }
    return true;
  };
}

/** A required field's value in `interpreted`'s loop: checked already. */
const checked: Check = () => true;

/** A plain array whose every element passes `item` (holes fail: `item(undefined)` is false). */
export function isArrayOf(v: unknown, item: Check): boolean {
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== ARRAY_PROTOTYPE) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
  return true;
}

/** `z.array` of `item`, as `isArrayOf`. */
export function arrayOf(item: Check): Check {
  return (v) => isArrayOf(v, item);
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean';
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
function oneOf(values: readonly string[]): Check {
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

// ---------------------------------------------------------------------------------------------
// `base.ts`.

/** Any id message (`FrameworkID`, `AgentID`, `OfferID`, ...) and `Value.Text`: `{value: string}`. */
export const isId = object({ value: isString });
const isIds = arrayOf(isId);

/** `TimeInfo` and `DurationInfo`: `{nanoseconds: int64}`. */
const isNanoseconds = object({ nanoseconds: isInt64 });

/** `Labels`: `{labels?: [{key, value?}]}`. */
export const isLabels = object({}, { labels: arrayOf(object({ key: isString }, { value: isString })) });

/** `AllocationInfo`: `{role?: string}`. */
const isAllocationInfo = object({}, { role: isString });

const isReservationInfo = object({}, { type: isReservationType, role: isString, principal: isString, labels: isLabels });

/** `Value.Scalar`, `Value.Ranges` and `Value.Set`, as `Attribute` and `Resource` carry them. */
const VALUES = {
  scalar: object({ value: isDouble }),
  ranges: object({}, { range: arrayOf(object({ begin: isUint64, end: isUint64 })) }),
  set: object({}, { item: arrayOf(isString) }),
};

/** `Attribute`, every field. */
export const isAttribute = object({ name: isString, type: isValueType }, { ...VALUES, text: isId });

/** `z.object({})`, e.g. `Resource.revocable`. */
const isEmpty = object({});

/** `Resource`, every field but `disk` (a `JsonObject`). */
export const isResource = object(
  { name: isString, type: isValueType },
  {
    ...VALUES,
    role: isString,
    allocation_info: isAllocationInfo,
    reservation: isReservationInfo,
    reservations: arrayOf(isReservationInfo),
    provider_id: isId,
    revocable: isEmpty,
    shared: isEmpty,
  },
);

/**
 * `Resource[]`. An array `Resources.toJSON()` made (frozen, so unchanged) is valid as it is:
 * on an in-process bus offers and tasks carry those very arrays.
 */
export const isResources: Check = (v) => Resources.isOwnJSON(v) || isArrayOf(v, isResource);

// ---------------------------------------------------------------------------------------------
// `task.ts`.

const isCommandURI = object({ value: isString }, { executable: isBoolean, extract: isBoolean, cache: isBoolean, output_file: isString });

/** An `Environment.Variable` without `secret` (a `JsonObject`). */
const isVariable = object({ name: isString }, { type: isEnvironmentVariableType, value: isString });

/** `CommandInfo`, every field (a variable's `secret` excepted). */
export const isCommandInfo = object(
  {},
  {
    uris: arrayOf(isCommandURI),
    environment: object({}, { variables: arrayOf(isVariable) }),
    shell: isBoolean,
    value: isString,
    user: isString,
    arguments: arrayOf(isString),
  },
);

/**
 * A `TaskInfo` of a command task: `name`, `task_id`, `agent_id`, `resources`, `command`,
 * `kill_policy`, `data`, `labels`, `max_completion_time`. A task with `executor`, `container`,
 * `health_check`, `check`, `discovery` or `limits` goes to zod.
 */
export const isCommandTaskInfo = object(
  { name: isString, task_id: isId, agent_id: isId },
  {
    resources: isResources,
    command: isCommandInfo,
    kill_policy: object({}, { grace_period: isNanoseconds }),
    data: isBytes,
    labels: isLabels,
    max_completion_time: isNanoseconds,
  },
);

/**
 * `TaskStatus`, every field but `check_status` and `container_status` (carried uninterpreted,
 * in part): a status with either goes to zod.
 */
export const isTaskStatus = object(
  { task_id: isId, state: isTaskState },
  {
    message: isString,
    source: isTaskStatusSource,
    reason: isTaskStatusReason,
    data: isBytes,
    uuid: isBytes,
    agent_id: isId,
    executor_id: isId,
    timestamp: isDouble,
    healthy: isBoolean,
    labels: isLabels,
    unreachable_time: isNanoseconds,
    limitation: object({}, { resources: isResources }),
  },
);

// ---------------------------------------------------------------------------------------------
// `offer.ts`.

/**
 * `Offer` as the master makes it: `id`, `framework_id`, `agent_id`, `hostname`, `resources`,
 * `attributes`, `executor_ids`, `allocation_info`. One with `url`, `domain` or
 * `unavailability` goes to zod.
 */
export const isOffer = object(
  { id: isId, framework_id: isId, agent_id: isId, hostname: isString },
  { resources: isResources, attributes: arrayOf(isAttribute), executor_ids: isIds, allocation_info: isAllocationInfo },
);

/** `Filters`: `{refuse_seconds?: double}`. */
export const isFilters = object({}, { refuse_seconds: isDouble });

/** An `Offer.Operation` of type LAUNCH whose tasks pass `isCommandTaskInfo`; other types go to zod. */
export const isLaunchOperation = object(
  { type: (v) => v === 'LAUNCH', launch: object({}, { task_infos: arrayOf(isCommandTaskInfo) }) },
  { id: isId },
);

// ---------------------------------------------------------------------------------------------
// `scheduler.ts`: the hot calls and events.

/** `Call.Accept` whose operations are all LAUNCHes of command tasks. */
const isAccept = object({}, { offer_ids: isIds, operations: arrayOf(isLaunchOperation), filters: isFilters });

/** `Call.Decline`. */
const isDecline = object({}, { offer_ids: isIds, filters: isFilters });

/** `Call.Acknowledge`: `uuid` is base64 of 16 bytes. */
const isAcknowledge = object({ agent_id: isId, task_id: isId, uuid: isUuidBytes });

/** `Call.Revive` and `Call.Suppress`: `{roles?: string[]}`. */
const isRoles = object({}, { roles: arrayOf(isString) });

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

/** The hot events by type, each a whole `Event` (its `type` already matched). */
const EVENTS = new Map<unknown, Check>([
  ['OFFERS', object({ type: isString, offers: object({}, { offers: arrayOf(isOffer) }) })],
  ['UPDATE', object({ type: isString, update: object({ status: isTaskStatus }) })],
  ['RESCIND', object({ type: isString, rescind: object({ offer_id: isId }) })],
  ['HEARTBEAT', object({ type: isString })],
]);

/**
 * A scheduler `Event` of type OFFERS, UPDATE, RESCIND or HEARTBEAT as `EventSchema` returns it
 * (the input itself), or `undefined` (then ask zod).
 */
export function fastSchedulerEvent(v: unknown): Plain | undefined {
  if (!isPlain(v)) return undefined;
  const check = EVENTS.get(v.type);
  return check !== undefined && check(v) ? v : undefined;
}
