/**
 * The arithmetic of the primes example, shared by its scheduler and executor: splitting `[2, max)`
 * into ranges, counting the primes in a range with a segmented sieve, and the two messages (a
 * task's range in `TaskInfo.data`, its count in a framework message) with their validation.
 */

/** The integers `lo <= n < hi`. */
export interface Range {
  readonly lo: number;
  readonly hi: number;
}

/** The largest `--max`: sieving below it needs base primes up to 10^6 only. */
export const MAX_LIMIT = 1e12;

/** Numbers sieved per window: bounds the executor's memory and how long it keeps its mailbox waiting. */
export const WINDOW = 1 << 20;

/**
 * `[lo, hi)` cut into `parts` contiguous ranges whose sizes differ by at most one (some empty
 * when there are more parts than numbers).
 *
 * @example
 * splitRange({ lo: 2, hi: 12 }, 3); // [{ lo: 2, hi: 6 }, { lo: 6, hi: 9 }, { lo: 9, hi: 12 }]
 */
export function splitRange(range: Range, parts: number): Range[] {
  const size = Math.max(0, range.hi - range.lo);
  const base = Math.floor(size / parts);
  const extra = size % parts;
  const out: Range[] = [];
  let lo = range.lo;
  for (let i = 0; i < parts; i++) {
    const hi = lo + base + (i < extra ? 1 : 0);
    out.push({ lo, hi });
    lo = hi;
  }
  return out;
}

/** The primes `<= limit`, by the sieve of Eratosthenes. */
export function primesUpTo(limit: number): number[] {
  if (limit < 2) return [];
  const composite = new Uint8Array(limit + 1);
  const primes: number[] = [];
  for (let n = 2; n <= limit; n++) {
    if (composite[n] === 1) continue;
    primes.push(n);
    for (let m = n * n; m <= limit; m += n) composite[m] = 1;
  }
  return primes;
}

/**
 * Counts the primes in `range` one window of `window` numbers per step, so a caller can let
 * other work run between steps (an executor answers its agent meanwhile). The generator's
 * return value is the count.
 */
export function* countPrimesStepwise(range: Range, window = WINDOW): Generator<void, number, void> {
  const lo = Math.max(range.lo, 2);
  if (range.hi <= lo) return 0;
  const base = primesUpTo(Math.floor(Math.sqrt(range.hi - 1)));
  let count = 0;
  for (let start = lo; start < range.hi; start += window) {
    const end = Math.min(start + window, range.hi);
    const composite = new Uint8Array(end - start);
    for (const p of base) {
      if (p * p >= end) break;
      for (let m = Math.max(p * p, Math.ceil(start / p) * p); m < end; m += p) composite[m - start] = 1;
    }
    for (let i = 0; i < composite.length; i++) if (composite[i] === 0) count++;
    if (end < range.hi) yield;
  }
  return count;
}

/** The number of primes in `range`, in one go. */
export function countPrimes(range: Range): number {
  const steps = countPrimesStepwise(range);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** What a primes task's `TaskInfo.data` holds (base64 of this JSON). */
export function encodeRange(range: Range): string {
  return Buffer.from(JSON.stringify({ lo: range.lo, hi: range.hi })).toString('base64');
}

/** The range in a task's `data`; throws naming what is wrong. */
export function decodeRange(data: string | undefined): Range {
  if (data === undefined) throw new Error('the task has no data (expected its range, {"lo":..,"hi":..})');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    throw new Error('the task data is not JSON (expected its range, {"lo":..,"hi":..})');
  }
  const { lo, hi } = (value ?? {}) as { lo?: unknown; hi?: unknown };
  if (!Number.isSafeInteger(lo) || (lo as number) < 0) throw new Error(`invalid range: 'lo' must be an integer >= 0, got ${JSON.stringify(lo)}`);
  if (!Number.isSafeInteger(hi) || (hi as number) < (lo as number) || (hi as number) > MAX_LIMIT) {
    throw new Error(`invalid range: 'hi' must be an integer from 'lo' to ${MAX_LIMIT}, got ${JSON.stringify(hi)}`);
  }
  return { lo: lo as number, hi: hi as number };
}

/** The framework message an executor sends with a task's result. */
export interface PrimesReport {
  readonly task: string;
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
}

/** Parses a `PrimesReport`; `undefined` for anything else. */
export function parseReport(data: Buffer): PrimesReport | undefined {
  try {
    const r = JSON.parse(data.toString('utf8')) as Partial<PrimesReport> | null;
    if (r === null || typeof r.task !== 'string') return undefined;
    if (!Number.isSafeInteger(r.lo) || !Number.isSafeInteger(r.hi) || !Number.isSafeInteger(r.count) || r.count! < 0) return undefined;
    return { task: r.task, lo: r.lo!, hi: r.hi!, count: r.count! };
  } catch {
    return undefined;
  }
}
