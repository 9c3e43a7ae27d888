/**
 * The fast paths of the hot messages (`src/mesos/v1/fast.ts`, `src/mesos/protocol.ts`) against
 * the zod schemas they stand in for. For any input, a fast path that returns a value must
 * agree with zod, which must accept the input and return a deep-equal value, and the parsers
 * that use the fast paths must return or throw exactly what zod alone returns or throws. Inputs: arbitrary values, the
 * hot messages with every field the guards cover, and those messages mutated (a wrong type, a
 * missing or extra field, bad base64, an unknown enum name, another prototype, a hole).
 */

import { isDeepStrictEqual } from 'node:util';

import test from 'ava';
import fc from 'fast-check';
import type { z } from 'zod';

import {
  fastStatusUpdateAcknowledgement,
  fastStatusUpdateMessage,
  StatusUpdateAcknowledgementSchema,
  StatusUpdateMessageSchema,
  validator,
} from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { fastSchedulerCall, fastSchedulerEvent } from '../../src/mesos/v1/fast.ts';
import {
  InvalidMessageError,
  RESERVATION_TYPES,
  TASK_STATES,
  TASK_STATUS_REASONS,
  TASK_STATUS_SOURCES,
  VALUE_TYPES,
} from '../../src/mesos/v1/index.ts';
import { CallSchema, EventSchema, parseCall, parseEvent, safeParseCall, safeParseEvent } from '../../src/mesos/v1/scheduler.ts';
import { base64ByteLength, base64Bytes, isBase64, parseWith } from '../../src/mesos/v1/validate.ts';
import { schedulerCalls, schedulerEvents } from './v1-fixtures.ts';

// ---------------------------------------------------------------------------------------------
// Valid hot messages, every field the guards check.

type Fields = Record<string, fc.Arbitrary<unknown>>;
/** A plain object with `fields`, those not `required` present or absent independently. */
const obj = (fields: Fields, required: readonly string[] = Object.keys(fields)): fc.Arbitrary<Record<string, unknown>> =>
  fc.record(fields, { requiredKeys: [...required], noNullPrototype: true });
/** Optional fields only. */
const some = (fields: Fields) => obj(fields, []);
const id = obj({ value: fc.string({ maxLength: 12 }) });

/** base64 of `bytes` in the forms proto3 JSON accepts: standard or URL-safe, padded or not. */
const base64Of = (bytes: fc.Arbitrary<Uint8Array>) =>
  fc.tuple(bytes, fc.boolean(), fc.boolean()).map(([b, urlSafe, padded]) => {
    let s = Buffer.from(b).toString('base64');
    if (urlSafe) s = s.replace(/\+/g, '-').replace(/\//g, '_');
    return padded ? s : s.replace(/=+$/, '');
  });
const bytes = base64Of(fc.uint8Array({ maxLength: 24 }));
const uuid = base64Of(fc.uint8Array({ minLength: 16, maxLength: 16 }));
const double = fc.double({ noNaN: true, noDefaultInfinity: true });
const uint64 = fc.oneof(fc.nat(), fc.constantFrom(0, 31000, 2 ** 53 - 1, 2 ** 64));
const nanoseconds = obj({ nanoseconds: fc.oneof(fc.integer(), fc.constantFrom(1.7e18, -5)) });
const text = fc.string({ maxLength: 8 });

const labels = some({ labels: fc.array(obj({ key: text, value: text }, ['key']), { maxLength: 2 }) });
const valueFields = {
  scalar: obj({ value: double }),
  ranges: some({ range: fc.array(obj({ begin: uint64, end: uint64 }), { maxLength: 3 }) }),
  set: some({ item: fc.array(text, { maxLength: 3 }) }),
};
const reservation = some({ type: fc.constantFrom(...RESERVATION_TYPES), role: text, principal: text, labels });
const resource = obj(
  {
    name: fc.constantFrom('cpus', 'mem', 'disk', 'ports', 'gpus'),
    type: fc.constantFrom(...VALUE_TYPES),
    ...valueFields,
    role: fc.constantFrom('*', 'web'),
    allocation_info: some({ role: text }),
    reservation,
    reservations: fc.array(reservation, { maxLength: 2 }),
    provider_id: id,
    revocable: fc.constant({}),
    shared: fc.constant({}),
  },
  ['name', 'type'],
);
const resources = fc.array(resource, { maxLength: 4 });
const attribute = obj(
  { name: text, type: fc.constantFrom(...VALUE_TYPES), ...valueFields, text: obj({ value: text }) },
  ['name', 'type'],
);

const command = some({
  uris: fc.array(
    obj(
      { value: text, executable: fc.boolean(), extract: fc.boolean(), cache: fc.boolean(), output_file: text },
      ['value'],
    ),
    { maxLength: 2 },
  ),
  environment: some({
    variables: fc.array(
      obj({ name: text, type: fc.constantFrom('UNKNOWN', 'VALUE', 'SECRET'), value: text }, ['name']),
      { maxLength: 2 },
    ),
  }),
  shell: fc.boolean(),
  value: fc.constantFrom('true', 'sleep 1'),
  arguments: fc.array(text, { maxLength: 3 }),
  user: text,
});
const task = obj(
  {
    name: text,
    task_id: id,
    agent_id: id,
    resources,
    command,
    kill_policy: some({ grace_period: nanoseconds }),
    data: bytes,
    labels,
    max_completion_time: nanoseconds,
  },
  ['name', 'task_id', 'agent_id'],
);
const launch = obj(
  { type: fc.constant('LAUNCH'), id, launch: some({ task_infos: fc.array(task, { maxLength: 2 }) }) },
  ['type', 'launch'],
);
const filters = some({ refuse_seconds: double });
const roles = some({ roles: fc.array(text, { maxLength: 3 }) });

const status = obj(
  {
    task_id: id,
    state: fc.constantFrom(...TASK_STATES),
    message: text,
    source: fc.constantFrom(...TASK_STATUS_SOURCES),
    reason: fc.constantFrom(...TASK_STATUS_REASONS),
    data: bytes,
    agent_id: id,
    executor_id: id,
    timestamp: double,
    uuid,
    healthy: fc.boolean(),
    labels,
    unreachable_time: nanoseconds,
    limitation: some({ resources }),
  },
  ['task_id', 'state'],
);
const offer = obj(
  {
    id,
    framework_id: id,
    agent_id: id,
    hostname: text,
    resources,
    attributes: fc.array(attribute, { maxLength: 2 }),
    executor_ids: fc.array(id, { maxLength: 2 }),
    allocation_info: some({ role: text }),
  },
  ['id', 'framework_id', 'agent_id', 'hostname'],
);

const call = (type: string, payloadKey: string, payload: fc.Arbitrary<unknown>, optional = false) =>
  obj({ type: fc.constant(type), framework_id: id, [payloadKey]: payload }, optional ? ['type', 'framework_id'] : ['type', 'framework_id', payloadKey]);

const hotCalls = fc.oneof(
  call('ACCEPT', 'accept', some({ offer_ids: fc.array(id, { maxLength: 3 }), operations: fc.array(launch, { maxLength: 2 }), filters })),
  call('DECLINE', 'decline', some({ offer_ids: fc.array(id, { maxLength: 3 }), filters })),
  call('ACKNOWLEDGE', 'acknowledge', obj({ agent_id: id, task_id: id, uuid })),
  call('REVIVE', 'revive', roles, true),
  call('SUPPRESS', 'suppress', roles, true),
);
const hotEvents = fc.oneof(
  obj({ type: fc.constant('OFFERS'), offers: some({ offers: fc.array(offer, { maxLength: 3 }) }) }),
  obj({ type: fc.constant('UPDATE'), update: obj({ status }) }),
  obj({ type: fc.constant('RESCIND'), rescind: obj({ offer_id: id }) }),
  fc.constant({ type: 'HEARTBEAT' }),
);
const statusUpdateMessages = obj(
  {
    update: obj(
      {
        framework_id: id,
        executor_id: id,
        agent_id: id,
        status,
        timestamp: double,
        uuid,
        latest_state: fc.constantFrom(...TASK_STATES),
      },
      ['framework_id', 'status', 'timestamp'],
    ),
    pid: fc.constant('slave(1)@agent-1'),
  },
  ['update'],
);
const acknowledgements = obj({ slave_id: id, framework_id: id, task_id: id, uuid });

// ---------------------------------------------------------------------------------------------
// Mutations.

type Path = string[];

/** Every path into `value`'s objects and arrays, the root (`[]`) included. */
function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  }
  return out;
}

class NotPlain {
  constructor(fields: object) {
    Object.assign(this, fields);
  }
}

/** Values that break some field: wrong types, non-finite and non-integer numbers, bad base64, near-miss enum names. */
const badValue = fc.oneof(
  fc.constantFrom<unknown>(
    undefined,
    null,
    true,
    0,
    -1,
    1.5,
    NaN,
    Infinity,
    -Infinity,
    2 ** 31,
    -(2 ** 53),
    '',
    'x',
    'not base64!',
    'QQ',
    'QQ=',
    'Q',
    'Ej5FZ+ibQtOkVkJmFBdAAA=',
    'Ej5FZ+ibQtOkVkJmFBdAAAAA',
    'TASK_RUNNINGX',
    'task_running',
    'SCALARS',
    'LAUNCH_GROUP',
    'toString',
    '__proto__',
    [],
    {},
    [{}],
    { value: 1 },
    new Date(0),
  ),
  fc.jsonValue({ maxDepth: 2 }),
  fc.anything({ maxDepth: 2 }),
);
/** Keys a message might carry that the guards do not know. */
const extraKey = fc.oneof(
  fc.constantFrom('executor', 'container', 'disk', 'limits', 'check_status', 'container_status', 'url', 'domain', '__proto__', 'constructor', 'accept', 'decline', 'value', 'type', 'id'),
  fc.string({ maxLength: 6 }),
);

type Mutation =
  | { kind: 'set'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'extra'; at: number; key: string; value: unknown }
  | { kind: 'reshape'; at: number; how: 'null-prototype' | 'class' | 'hole' | 'array-subclass' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: badValue }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extra' as const), at: fc.nat(), key: extraKey, value: badValue }),
  fc.record({
    kind: fc.constant('reshape' as const),
    at: fc.nat(),
    how: fc.constantFrom('null-prototype' as const, 'class' as const, 'hole' as const, 'array-subclass' as const),
  }),
);

class SubArray<T> extends Array<T> {}

/**
 * A copy of a generated value, so that a later mutation never changes it: `constantFrom` hands
 * out the same object every time, and fast-check reuses values while shrinking.
 */
const fresh = (value: unknown): unknown => (value !== null && typeof value === 'object' ? structuredClone(value) : value);

/** `message` with `mutations` applied, each at one of its paths (picked modulo their count). */
function mutate(message: unknown, mutations: readonly Mutation[]): unknown {
  let root: unknown = structuredClone(message);
  for (const m of mutations) {
    const all = paths(root);
    const path = all[m.at % all.length]!;
    const parent = path.length === 0 ? undefined : (path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root) as Record<string, unknown>);
    const key = path[path.length - 1];
    const current = path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root);
    const replace = (value: unknown): void => {
      if (parent === undefined || key === undefined) root = value;
      else parent[key] = value;
    };
    switch (m.kind) {
      case 'set':
        replace(fresh(m.value));
        break;
      case 'delete':
        if (parent !== undefined && key !== undefined) delete parent[key];
        break;
      case 'extra':
        // Not on arrays: a named property on an array is the one difference the guards let
        // through (zod's copy drops it); neither `JSON.parse` nor a literal makes one.
        if (current !== null && typeof current === 'object' && !Array.isArray(current)) Object.defineProperty(current, m.key, { value: fresh(m.value), enumerable: true, writable: true, configurable: true });
        break;
      case 'reshape':
        if (current === null || typeof current !== 'object') break;
        if (Array.isArray(current)) {
          if (m.how === 'hole') {
            const holed = [...current];
            holed.length += 1;
            replace(holed);
          } else if (m.how === 'array-subclass') replace(SubArray.from(current));
        } else if (m.how === 'null-prototype') replace(Object.assign(Object.create(null) as object, current));
        else if (m.how === 'class') replace(new NotPlain(current));
        break;
    }
  }
  return root;
}

/** A valid message, or one with one to three mutations. */
const mutated = (valid: fc.Arbitrary<unknown>) =>
  fc.oneof(valid, fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([v, ms]) => mutate(v, ms)));

/** Arbitrary values, including objects that look like a hot message from afar. */
const arbitrary = (types: readonly string[], payloadKeys: readonly string[]) =>
  fc.oneof(
    fc.jsonValue(),
    fc.anything(),
    fc.dictionary(fc.constantFrom('type', 'framework_id', 'update', 'pid', 'slave_id', 'task_id', 'uuid', ...payloadKeys), fc.oneof(fc.constantFrom('TEARDOWN', ...types), fc.anything())),
  );

// ---------------------------------------------------------------------------------------------
// The properties.

interface FastPath {
  readonly name: string;
  /** The fast path: zod's value, or `undefined`. */
  readonly fast: (json: unknown) => unknown;
  readonly schema: z.ZodType;
  readonly what: string;
  /** The parsers that use the guard, each to behave as `parseWith(schema)`. */
  readonly parsers: readonly ((json: unknown) => unknown)[];
  readonly valid: fc.Arbitrary<unknown>;
  readonly arbitrary: fc.Arbitrary<unknown>;
}

const unwrap = (result: { ok: true; value: unknown } | { ok: false; error: InvalidMessageError }): unknown => {
  if (result.ok) return result.value;
  throw result.error;
};

const PATHS: FastPath[] = [
  {
    name: 'scheduler Call',
    fast: fastSchedulerCall,
    schema: CallSchema,
    what: 'call',
    parsers: [parseCall, (json) => unwrap(safeParseCall(json))],
    valid: hotCalls,
    arbitrary: arbitrary(['ACCEPT', 'DECLINE', 'ACKNOWLEDGE', 'REVIVE', 'SUPPRESS', 'TEARDOWN'], ['accept', 'decline', 'acknowledge', 'revive', 'suppress']),
  },
  {
    name: 'scheduler Event',
    fast: fastSchedulerEvent,
    schema: EventSchema,
    what: 'event',
    parsers: [parseEvent, (json) => unwrap(safeParseEvent(json))],
    valid: hotEvents,
    arbitrary: arbitrary(['OFFERS', 'UPDATE', 'RESCIND', 'HEARTBEAT', 'ERROR'], ['offers', 'update', 'rescind']),
  },
  {
    name: 'StatusUpdateMessage',
    fast: fastStatusUpdateMessage,
    schema: StatusUpdateMessageSchema,
    what: 'StatusUpdateMessage',
    parsers: [validator(StatusUpdateMessageSchema, 'StatusUpdateMessage')],
    valid: statusUpdateMessages,
    arbitrary: arbitrary(['TASK_RUNNING'], ['status', 'timestamp']),
  },
  {
    name: 'StatusUpdateAcknowledgementMessage',
    fast: fastStatusUpdateAcknowledgement,
    schema: StatusUpdateAcknowledgementSchema,
    what: 'StatusUpdateAcknowledgementMessage',
    parsers: [validator(StatusUpdateAcknowledgementSchema, 'StatusUpdateAcknowledgementMessage')],
    valid: acknowledgements,
    arbitrary: arbitrary([], ['value']),
  },
];

/** Fails unless zod accepts `json` and returns a deep-equal value, whenever the fast path returns one. */
function checkFast(p: FastPath, json: unknown): void {
  const value = p.fast(json);
  if (value === undefined) return;
  const result = p.schema.safeParse(json);
  if (!result.success) throw new Error(`the fast path accepted what zod rejects: ${result.error.message}`);
  if (!isDeepStrictEqual(result.data, value)) throw new Error('the fast path returned another value than zod');
}

type Outcome = { ok: true; value: unknown } | { ok: false; message: string; issues: unknown };

function outcome(parse: (json: unknown) => unknown, json: unknown): Outcome {
  try {
    return { ok: true, value: parse(json) };
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    return { ok: false, message: error.message, issues: error.issues };
  }
}

/** Fails unless every parser returns (deep-equal) or throws (same message and issues) as zod does. */
function checkParsers(p: FastPath, json: unknown): void {
  const expected = outcome((j) => parseWith(p.schema, j, { what: p.what }), json);
  for (const parse of p.parsers) {
    const got = outcome(parse, json);
    if (!isDeepStrictEqual(got, expected)) {
      throw new Error(`parser differs from zod: got ${describe(got)}, zod ${describe(expected)}`);
    }
  }
}

const describe = (o: Outcome): string => (o.ok ? 'a value' : `'${o.message}'`);

const RUNS = Number(process.env.FAST_RUNS ?? 400);

for (const p of PATHS) {
  test(`fast validation - ${p.name}: the fast path takes every hot message`, (t) => {
    fc.assert(fc.property(p.valid, (json) => p.fast(json) !== undefined), { numRuns: RUNS });
    t.pass();
  });

  test(`fast validation - ${p.name}: on arbitrary values, the fast path returns nothing or what zod returns`, (t) => {
    fc.assert(fc.property(p.arbitrary, (json) => checkFast(p, json)), { numRuns: RUNS });
    t.pass();
  });

  test(`fast validation - ${p.name}: on mutated messages, the fast path returns nothing or what zod returns`, (t) => {
    fc.assert(fc.property(mutated(p.valid), (json) => checkFast(p, json)), { numRuns: RUNS * 5 });
    t.pass();
  });

  test(`fast validation - ${p.name}: the parsers return and throw exactly what zod does`, (t) => {
    fc.assert(fc.property(fc.oneof(p.arbitrary, mutated(p.valid)), (json) => checkParsers(p, json)), { numRuns: RUNS * 2 });
    t.pass();
  });
}

test('fast validation - the fast paths take the hot fixtures and leave the rest to zod', (t) => {
  const fastCalls = Object.values(schedulerCalls).filter((c) => fastSchedulerCall(structuredClone(c)) !== undefined).map((c) => c.type);
  // The ACCEPT fixture launches tasks with executors and health checks: zod's.
  t.deepEqual(fastCalls, ['DECLINE', 'REVIVE', 'ACKNOWLEDGE', 'SUPPRESS']);
  const fastEvents = Object.values(schedulerEvents).filter((e) => fastSchedulerEvent(structuredClone(e)) !== undefined).map((e) => e.type);
  // The OFFERS fixture has a `url` and the UPDATE fixture a `container_status`: zod's.
  t.deepEqual(fastEvents, ['RESCIND', 'HEARTBEAT']);
});

test('fast validation - an invalid hot call fails with the message zod gives', (t) => {
  const call = { type: 'ACKNOWLEDGE', framework_id: { value: 'f' }, acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: 'QQ==' } };
  const error = t.throws(() => parseCall(call), { instanceOf: InvalidMessageError });
  t.is(error?.message, "invalid call: 'acknowledge.uuid' must be a base64 16-byte UUID, got 'QQ=='");
});

test('fast validation - a hot message is returned as is below the top level', (t) => {
  const decline = { type: 'DECLINE' as const, framework_id: { value: 'f' }, decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: 1 } } };
  const parsed = parseCall(decline);
  t.deepEqual(parsed, decline);
  if (parsed.type !== 'DECLINE') return t.fail();
  t.is(parsed.decline, decline.decline);
  // The top level is rebuilt, so keys zod drops there are dropped on the fast path too.
  t.deepEqual(parseCall({ ...decline, accept: {} }), decline);
  const heartbeat = { type: 'HEARTBEAT' as const };
  t.is(parseEvent(heartbeat), heartbeat);
});

test('fast validation - resources made by toJSON (taken without a look inside) and good copies pass; a bad copy goes to zod', (t) => {
  const own = Resources.parse('cpus:1;mem:64;ports:[1-2]').toJSON();
  const offers = (resources: unknown) => ({
    type: 'OFFERS',
    offers: { offers: [{ id: { value: 'o' }, framework_id: { value: 'f' }, agent_id: { value: 'a' }, hostname: 'h', resources }] },
  });
  t.not(fastSchedulerEvent(offers(own)), undefined);
  t.not(fastSchedulerEvent(offers(structuredClone(own))), undefined, 'a copy is valid too, checked field by field');
  const bad = structuredClone(own) as unknown as Record<string, unknown>[];
  bad[0]!.scalar = { value: 'one' };
  t.is(fastSchedulerEvent(offers(bad)), undefined, 'a copy with a bad field is left to zod');
  t.throws(() => parseEvent(offers(bad)), { instanceOf: InvalidMessageError });
});

test('fast validation - base64Bytes is isBase64 and base64ByteLength in one', (t) => {
  const base64ish = fc.string({ unit: fc.constantFrom(...'AZaz09+/_-=.!é \n'), maxLength: 30 });
  fc.assert(
    fc.property(fc.oneof(base64ish, fc.string(), bytes, uuid), (s) => base64Bytes(s) === (isBase64(s) ? base64ByteLength(s) : -1)),
    { numRuns: RUNS * 10 },
  );
  t.pass();
});
