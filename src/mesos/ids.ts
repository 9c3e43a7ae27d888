/**
 * Ids shaped like Mesos's, and the UUIDs of status updates.
 *
 * The master assigns framework, agent and offer ids by appending a counter to its own id (a
 * UUID string, `MasterInfo.id`), as Mesos's `Master::newFrameworkId` and friends do:
 *
 *     framework  <master-uuid>-0000, <master-uuid>-0001, ...
 *     agent      <master-uuid>-S0,   <master-uuid>-S1, ...
 *     offer      <master-uuid>-O0,   <master-uuid>-O1, ...
 *
 * Counters start at 0, as in Mesos. Nothing here draws randomness by itself except
 * `randomByteSource`: every generator takes the master's id or a `ByteSource`, so tests pass a
 * `seededByteSource` and get the same ids every run.
 */

import { randomFillSync } from 'node:crypto';

import type { AgentID, FrameworkID, OfferID } from './v1/common.ts';

function checkMasterId(masterId: string): void {
  if (masterId === '') throw new Error('master id must not be empty');
}

function checkCounter(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`id counter must be a non-negative integer, got ${n}`);
}

/**
 * The `n`th framework id of a master: `<master-uuid>-0000` (at least four digits).
 *
 * @example
 * frameworkIdFor('5e3f6c9a-0c1d-4b8e-9f3a-2d7c1b0e4a55', 1).value; // '5e3f...4a55-0001'
 */
export function frameworkIdFor(masterId: string, n: number): FrameworkID {
  checkMasterId(masterId);
  checkCounter(n);
  return { value: `${masterId}-${String(n).padStart(4, '0')}` };
}

/** The `n`th agent id of a master: `<master-uuid>-S<n>`. */
export function agentIdFor(masterId: string, n: number): AgentID {
  checkMasterId(masterId);
  checkCounter(n);
  return { value: `${masterId}-S${n}` };
}

/** The `n`th offer id of a master: `<master-uuid>-O<n>`. */
export function offerIdFor(masterId: string, n: number): OfferID {
  checkMasterId(masterId);
  checkCounter(n);
  return { value: `${masterId}-O${n}` };
}

/**
 * The master's id counters. One per master incarnation: a new leading master has a new id, so
 * its counters start again at 0 without clashing with ids its predecessor handed out.
 *
 * @example
 * const ids = new MasterIdGenerator(masterInfo.id);
 * ids.nextFrameworkId(); // { value: '<master-uuid>-0000' }
 * ids.nextOfferId();     // { value: '<master-uuid>-O0' }
 */
export class MasterIdGenerator {
  private frameworks = 0;
  private agents = 0;
  private offers = 0;

  constructor(readonly masterId: string) {
    checkMasterId(masterId);
  }

  nextFrameworkId(): FrameworkID {
    return frameworkIdFor(this.masterId, this.frameworks++);
  }

  nextAgentId(): AgentID {
    return agentIdFor(this.masterId, this.agents++);
  }

  nextOfferId(): OfferID {
    return offerIdFor(this.masterId, this.offers++);
  }
}

// ---------------------------------------------------------------------------------------------
// UUIDs.

/** A source of bytes: returns `n` fresh bytes per call. */
export type ByteSource = (n: number) => Uint8Array;

/**
 * Cryptographically random bytes; the default source outside tests.
 *
 * Drawn from a pool filled `RANDOM_POOL_BYTES` at a time, as the `uuid` package does: a
 * `randomBytes(16)` per status update uuid cost 2.5 µs (a call into the OS's generator each
 * time), a slice of the pool 0.4 µs. Every call returns a copy, so the pool being refilled never
 * changes bytes already handed out, and no byte is handed out twice.
 */
export const randomByteSource: ByteSource = (n) => {
  if (n > RANDOM_POOL_BYTES) return randomFillSync(new Uint8Array(n));
  if (randomPoolOffset + n > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const out = randomPool.slice(randomPoolOffset, randomPoolOffset + n);
  randomPoolOffset += n;
  return out;
};

const RANDOM_POOL_BYTES = 4096;
const randomPool = new Uint8Array(RANDOM_POOL_BYTES);
/** The next unused byte of `randomPool`; at the end, so the first call fills it. */
let randomPoolOffset = RANDOM_POOL_BYTES;

/**
 * A deterministic byte source for tests: the same `seed` yields the same bytes, call after
 * call (splitmix32).
 */
export function seededByteSource(seed: number): ByteSource {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const word = next();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
    }
    return out;
  };
}

/** 16 bytes of an RFC 4122 version 4 UUID, drawn from `source`. */
export function newUuidBytes(source: ByteSource = randomByteSource): Uint8Array {
  const raw = source(16);
  if (raw.length !== 16) throw new Error(`byte source returned ${raw.length} bytes, expected 16`);
  const bytes = Uint8Array.from(raw);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return bytes;
}

/** The canonical string of 16 UUID bytes: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
export function uuidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new Error(`a UUID has 16 bytes, got ${bytes.length}`);
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A new master id (`MasterInfo.id`): a UUID string from `source`. Pass a `seededByteSource` in
 * tests for stable ids.
 */
export function newMasterId(source: ByteSource = randomByteSource): string {
  return uuidToString(newUuidBytes(source));
}

/**
 * A new status update uuid as it travels in `TaskStatus.uuid` and `Acknowledge.uuid`: 16 UUID
 * bytes in base64.
 *
 * @example
 * newStatusUuid();                      // 'q1Vx0v3nQ8m0Hk1sZ9f0Ig==' (random)
 * newStatusUuid(seededByteSource(42));  // the same string every run
 */
export function newStatusUuid(source: ByteSource = randomByteSource): string {
  return Buffer.from(newUuidBytes(source)).toString('base64');
}

/**
 * The bytes of a base64 status uuid, or `undefined` if it does not decode to 16 bytes. Both
 * base64 alphabets are accepted, padded or not.
 */
export function statusUuidBytes(uuid: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]{22}(==)?$/.test(uuid)) return undefined;
  const bytes = Buffer.from(uuid, 'base64');
  return bytes.length === 16 ? new Uint8Array(bytes) : undefined;
}

/**
 * What a status uuid is compared by: its 16 bytes (as Mesos compares `id::UUID`s), written as
 * padded standard base64, not the way it was spelled. Proto `bytes` in JSON may come in either
 * base64 alphabet, padded or not, so an acknowledgement need not spell the uuid as its update
 * did. A string that is not a base64 UUID is its own key.
 *
 * @example
 * statusUuidKey('q1Vx0v3nQ8m0Hk1sZ9f0Ig');  // 'q1Vx0v3nQ8m0Hk1sZ9f0Ig=='
 */
export function statusUuidKey(uuid: string): string {
  const bytes = statusUuidBytes(uuid);
  return bytes === undefined ? uuid : Buffer.from(bytes).toString('base64');
}

/** A base64 status uuid in canonical UUID form, for logs; the input itself if not a UUID. */
export function statusUuidToString(uuid: string): string {
  const bytes = statusUuidBytes(uuid);
  return bytes === undefined ? uuid : uuidToString(bytes);
}
