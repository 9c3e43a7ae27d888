import test from 'ava';
import fc from 'fast-check';

import {
  agentIdFor,
  frameworkIdFor,
  MasterIdGenerator,
  newMasterId,
  newStatusUuid,
  newUuidBytes,
  offerIdFor,
  randomByteSource,
  seededByteSource,
  statusUuidBytes,
  statusUuidKey,
  statusUuidToString,
  uuidToString,
} from '../../src/mesos/ids.ts';
import { isBase64, parseSchedulerCall } from '../../src/mesos/v1/index.ts';

const MASTER = '7f5c2a3e-9b1d-4e8f-a2c4-6d0b1e3f5a79';

test('ids - shaped like Mesos master ids', (t) => {
  t.deepEqual(frameworkIdFor(MASTER, 0), { value: `${MASTER}-0000` });
  t.deepEqual(frameworkIdFor(MASTER, 42), { value: `${MASTER}-0042` });
  t.deepEqual(frameworkIdFor(MASTER, 12345), { value: `${MASTER}-12345` });
  t.deepEqual(agentIdFor(MASTER, 0), { value: `${MASTER}-S0` });
  t.deepEqual(agentIdFor(MASTER, 17), { value: `${MASTER}-S17` });
  t.deepEqual(offerIdFor(MASTER, 3), { value: `${MASTER}-O3` });
});

test('ids - the generator counts each kind from 0', (t) => {
  const ids = new MasterIdGenerator(MASTER);
  t.is(ids.nextFrameworkId().value, `${MASTER}-0000`);
  t.is(ids.nextFrameworkId().value, `${MASTER}-0001`);
  t.is(ids.nextAgentId().value, `${MASTER}-S0`);
  t.is(ids.nextOfferId().value, `${MASTER}-O0`);
  t.is(ids.nextOfferId().value, `${MASTER}-O1`);
  t.is(ids.nextAgentId().value, `${MASTER}-S1`);
});

test('ids - two masters never hand out the same id', (t) => {
  const a = new MasterIdGenerator(newMasterId(seededByteSource(1)));
  const b = new MasterIdGenerator(newMasterId(seededByteSource(2)));
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    for (const g of [a, b]) for (const id of [g.nextFrameworkId(), g.nextAgentId(), g.nextOfferId()]) seen.add(id.value);
  }
  t.is(seen.size, 300);
});

test('ids - bad master ids and counters are invariant breaks', (t) => {
  t.throws(() => new MasterIdGenerator(''), { message: 'master id must not be empty' });
  t.throws(() => offerIdFor(MASTER, -1), { message: 'id counter must be a non-negative integer, got -1' });
});

test('uuids - a seeded source gives the same uuids every run', (t) => {
  const a = seededByteSource(42);
  const b = seededByteSource(42);
  const first = newStatusUuid(a);
  t.is(first, newStatusUuid(b));
  t.not(newStatusUuid(a), first);
  t.not(newStatusUuid(seededByteSource(43)), first);
  t.is(newMasterId(seededByteSource(7)), newMasterId(seededByteSource(7)));
});

test('uuids - status uuids are 16 version-4 bytes in base64 and acknowledge cleanly', (t) => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const uuid = newStatusUuid(seededByteSource(seed));
      const bytes = statusUuidBytes(uuid);
      if (bytes === undefined || !isBase64(uuid) || bytes.length !== 16) return false;
      if (((bytes[6] ?? 0) & 0xf0) !== 0x40 || ((bytes[8] ?? 0) & 0xc0) !== 0x80) return false;
      const ack = {
        type: 'ACKNOWLEDGE',
        framework_id: { value: `${MASTER}-0000` },
        acknowledge: { agent_id: { value: `${MASTER}-S0` }, task_id: { value: 't' }, uuid },
      };
      return parseSchedulerCall(ack).type === 'ACKNOWLEDGE';
    }),
  );
  const random = newStatusUuid();
  t.is(statusUuidBytes(random)?.length, 16);
  t.not(newStatusUuid(), random);
});

test('uuids - a status uuid is keyed by its bytes: URL-safe or unpadded spellings key alike, other strings key as themselves', (t) => {
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const uuid = newStatusUuid(seededByteSource(seed));
      const urlSafe = uuid.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      return statusUuidKey(urlSafe) === uuid && statusUuidKey(uuid) === uuid;
    }),
  );
  t.is(statusUuidKey('not-a-uuid'), 'not-a-uuid');
});

test('uuids - the random source hands out fresh bytes from its pool, each call its own copy', (t) => {
  // Past several refills of the pool (4 KiB), every draw has its length, none repeats, and
  // bytes already handed out stay as they were while the pool is refilled under them.
  const draws: Uint8Array[] = [];
  const copies: string[] = [];
  for (let i = 0; i < 2_000; i++) {
    const n = 1 + (i % 37);
    const bytes = randomByteSource(n);
    t.is(bytes.length, n);
    draws.push(bytes);
    copies.push(Buffer.from(bytes).toString('hex'));
  }
  t.deepEqual(
    draws.map((b) => Buffer.from(b).toString('hex')),
    copies,
    'a later draw changed bytes handed out before',
  );
  const uuids = new Set(Array.from({ length: 1_000 }, () => newStatusUuid()));
  t.is(uuids.size, 1_000);
  // More than the pool holds at once.
  const big = randomByteSource(10_000);
  t.is(big.length, 10_000);
  t.true(big.some((b) => b !== 0));
});

test('uuids - canonical strings for logs', (t) => {
  const bytes = Uint8Array.from(Buffer.from('123e4567e89b42d3a456426614174000', 'hex'));
  t.is(uuidToString(bytes), '123e4567-e89b-42d3-a456-426614174000');
  t.is(statusUuidToString(Buffer.from(bytes).toString('base64')), '123e4567-e89b-42d3-a456-426614174000');
  t.is(statusUuidToString('not-a-uuid'), 'not-a-uuid');
  t.regex(newMasterId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.throws(() => newUuidBytes(() => new Uint8Array(3)), { message: 'byte source returned 3 bytes, expected 16' });
});
