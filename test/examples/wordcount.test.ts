import test from 'ava';
import {
  countWords,
  cutAtWhitespace,
  encodeReports,
  generateText,
  mergeCounts,
  parseCountsReport,
  sameCounts,
  splitForWorkers,
  totals,
} from '../../examples/lib/words.ts';
import { runExample } from './run-example.ts';

/**
 * The word count example as a user runs it: a child process that starts its own embedded
 * cluster, counts a generated text once per parallelism with reused executors, and prints a row
 * per run whose totals must agree.
 */

const ROW = /^parallelism=(\d+) tasks=(\d+) time=(\d+)ms words=(\d+) unique=(\d+) top=(\S+):(\d+)$/;

test('wordcount - one row per parallelism, with the same totals', async (t) => {
  const run = await runExample('wordcount.ts', ['--words', '20000', '--parallelism', '1,2']);
  t.is(run.code, 0, run.stderr);
  const rows = run.stdout.trimEnd().split('\n');
  t.is(rows.length, 2, run.stdout);
  const [one, two] = rows.map((row) => ROW.exec(row));
  t.truthy(one, rows[0]);
  t.truthy(two, rows[1]);
  t.is(one![1], '1');
  t.is(two![1], '2');
  t.is(two![2], '2');
  // words, unique and top agree between the runs, and with counting the same text here.
  t.deepEqual(one!.slice(4), two!.slice(4));
  const expected = totals(countWords(generateText(20_000, 42)));
  t.is(Number(one![4]), 20_000);
  t.is(Number(one![4]), expected.words);
  t.is(Number(one![5]), expected.unique);
  t.deepEqual([one![6], Number(one![7])], expected.top);
});

test('wordcount - a bad flag value exits 2 naming the flag', async (t) => {
  const run = await runExample('wordcount.ts', ['--parallelism', '1,x']);
  t.is(run.code, 2);
  t.is(run.stdout, '');
  t.regex(run.stderr, /^wordcount: invalid value '1,x' for --parallelism: 'x' is not a whole number from 1 to 64$/m);
});

test('wordcount - the generated text is reproducible from its seed', (t) => {
  t.is(generateText(1000, 7), generateText(1000, 7));
  t.not(generateText(1000, 7), generateText(1000, 8));
  t.is(totals(countWords(generateText(1000, 7))).words, 1000);
});

test('wordcount - cutting at whitespace keeps every word whole', (t) => {
  const text = generateText(5000, 1);
  for (const parts of [1, 2, 3, 7]) {
    const pieces = cutAtWhitespace(text, parts);
    t.is(pieces.length, parts);
    t.is(pieces.join(''), text);
    const merged = new Map<string, number>();
    for (const piece of pieces) mergeCounts(merged, countWords(piece));
    t.true(sameCounts(merged, countWords(text)), `${parts} parts`);
  }
  t.deepEqual(cutAtWhitespace('oneword', 3), ['oneword', '', '']);
});

test('wordcount - pieces stay under the size limit where whitespace allows', (t) => {
  const text = generateText(20_000, 3);
  const workers = splitForWorkers(text, 2, 10_000);
  t.is(workers.length, 2);
  t.is(workers.flat().join(''), text);
  for (const piece of workers.flat()) t.true(Buffer.byteLength(piece) <= 10_000);
  t.true(workers[0]!.length > 1);
  // A word longer than the limit cannot be cut: it stays whole.
  t.deepEqual(splitForWorkers('x'.repeat(50), 1, 10), [['x'.repeat(50)]]);
});

test('wordcount - reports come in parts of bounded size and parse back', (t) => {
  const counts = new Map(Array.from({ length: 500 }, (_, i) => [`word${i}`, i + 1] as [string, number]));
  const reports = encodeReports('t1', counts, 1000);
  t.true(reports.length > 1);
  const merged = new Map<string, number>();
  reports.forEach((text, i) => {
    const report = parseCountsReport(Buffer.from(text));
    t.truthy(report);
    t.is(report!.part, i);
    t.is(report!.parts, reports.length);
    mergeCounts(merged, report!.counts);
  });
  t.true(sameCounts(merged, counts));
  t.is(encodeReports('empty', new Map(), 1000).length, 1);
  t.is(parseCountsReport(Buffer.from('{"task":"t","part":1,"parts":1,"counts":[]}')), undefined);
  t.is(parseCountsReport(Buffer.from('not json')), undefined);
});
