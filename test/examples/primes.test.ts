import test from 'ava';
import { countPrimes, countPrimesStepwise, decodeRange, encodeRange, primesUpTo, splitRange } from '../../examples/lib/primes.ts';
import { runExample } from './run-example.ts';

/**
 * The primes example as a user runs it: a child process that starts its own embedded cluster,
 * runs one custom executor per task, and prints the sum of the counts they report.
 */

test('primes - counts the primes below 10000 in 5 executors', async (t) => {
  const run = await runExample('primes.ts', ['--max', '10000', '--tasks', '5']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, 'primes below 10000: 1229\n');
});

test('primes - a small range over 3 tasks', async (t) => {
  const run = await runExample('primes.ts', ['--max=100', '--tasks=3']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, 'primes below 100: 25\n');
});

test('primes - a bad flag value exits 2 naming the flag', async (t) => {
  const [zero, master] = await Promise.all([runExample('primes.ts', ['--tasks', '0']), runExample('primes.ts', ['--master', 'master@elsewhere'])]);
  t.is(zero.code, 2);
  t.is(zero.stdout, '');
  t.regex(zero.stderr, /invalid value '0' for --tasks: must be at least 1/);
  // A master in another process is reachable only over NATS.
  t.is(master.code, 2);
  t.regex(master.stderr, /invalid value 'master@elsewhere' for --master: needs --nats/);
});

test('primes - --help prints the flags and exits 0', async (t) => {
  const run = await runExample('primes.ts', ['--help']);
  t.is(run.code, 0);
  for (const flag of ['--max', '--tasks', '--master', '--timeout', '--verbose']) t.true(run.stdout.includes(flag), flag);
});

test('primes - a run longer than --timeout exits 1 saying how far it got', async (t) => {
  // Far shorter than starting an executor process takes: the run cannot finish in time.
  const run = await runExample('primes.ts', ['--max', '1000', '--tasks', '1', '--timeout', '10ms']);
  t.is(run.code, 1);
  t.is(run.stdout, '');
  t.regex(run.stderr, /^primes: timed out after 0.01s: 0 of 1 tasks reported/m);
});

test('primes - splitRange covers the range with sizes one apart', (t) => {
  t.deepEqual(splitRange({ lo: 2, hi: 12 }, 3), [
    { lo: 2, hi: 6 },
    { lo: 6, hi: 9 },
    { lo: 9, hi: 12 },
  ]);
  const parts = splitRange({ lo: 2, hi: 4 }, 4);
  t.deepEqual(parts.map((r) => r.hi - r.lo), [1, 1, 0, 0]);
  t.is(parts.at(-1)!.hi, 4);
});

test('primes - the windowed sieve agrees with a plain sieve, across window edges', (t) => {
  const primes = primesUpTo(50_000);
  const naive = (lo: number, hi: number) => primes.filter((p) => p >= lo && p < hi).length;
  t.is(countPrimes({ lo: 2, hi: 10_000 }), 1229);
  t.is(countPrimes({ lo: 0, hi: 2 }), 0);
  for (const [lo, hi] of [[0, 50_000], [7, 8], [9, 11], [24_000, 24_100], [49_000, 50_000]] as const) {
    t.is(countPrimes({ lo, hi }), naive(lo, hi), `[${lo}, ${hi})`);
  }
  // In windows of 1000 numbers: one step per window, and the same count.
  const steps = countPrimesStepwise({ lo: 100, hi: 10_500 }, 1000);
  let windows = 1;
  let step = steps.next();
  for (; step.done !== true; step = steps.next()) windows++;
  t.is(windows, 11);
  t.is(step.value, naive(100, 10_500));
});

test('primes - a range survives TaskInfo.data, and bad data is named', (t) => {
  t.deepEqual(decodeRange(encodeRange({ lo: 35, hi: 68 })), { lo: 35, hi: 68 });
  t.throws(() => decodeRange(undefined), { message: /no data/ });
  t.throws(() => decodeRange(Buffer.from('{"lo":5,"hi":2}').toString('base64')), { message: /'hi' must be an integer/ });
  t.throws(() => decodeRange(Buffer.from('nope').toString('base64')), { message: /not JSON/ });
});
