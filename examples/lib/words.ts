/**
 * The text side of the word count example, shared by its scheduler and executor: a seeded text
 * generator, the tokenizer, cutting a text into chunks at whitespace (so no word is ever cut in
 * two), and the report messages an executor sends back, cut into parts of bounded size.
 */

import { seededRandom } from '../../src/random.ts';

/** A word: letters and digits, with inner apostrophes (`don't`); counted in lower case. */
const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/** The generated text's words, most frequent first (drawn with Zipf weights 1/rank). */
export const VOCABULARY: readonly string[] = [
  'the', 'of', 'and', 'to', 'in', 'a', 'is', 'that', 'for', 'it', 'as', 'was', 'with', 'be', 'by', 'on',
  'not', 'he', 'this', 'are', 'or', 'his', 'from', 'at', 'which', 'but', 'have', 'an', 'had', 'they', 'you', 'were',
  'their', 'one', 'all', 'we', 'can', 'her', 'has', 'there', 'been', 'if', 'more', 'when', 'will', 'would', 'who', 'so',
  'master', 'agent', 'offer', 'task', 'executor', 'framework', 'scheduler', 'resources', 'cluster', 'actor', 'message', 'status', 'update', 'mesos',
];


/** `words` words from `VOCABULARY`, Zipf-distributed, twelve to a line; reproducible from `seed`. */
export function generateText(words: number, seed: number): string {
  const random = seededRandom(seed);
  const cumulative: number[] = [];
  let sum = 0;
  for (let rank = 1; rank <= VOCABULARY.length; rank++) cumulative.push((sum += 1 / rank));
  const lines: string[] = [];
  let line: string[] = [];
  for (let i = 0; i < words; i++) {
    const x = random() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    line.push(VOCABULARY[lo]!);
    if (line.length === 12) {
      lines.push(line.join(' '));
      line = [];
    }
  }
  if (line.length > 0) lines.push(line.join(' '));
  return lines.join('\n') + '\n';
}

/** How often each word occurs in `text`. */
export function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(WORD)) {
    const word = match[0].toLowerCase();
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/**
 * `text` cut into `parts` pieces of about equal length, each cut at the first whitespace at or
 * after its target, so the pieces concatenate to `text` and no word spans two. Pieces may be
 * empty (a short text, or one long word).
 */
export function cutAtWhitespace(text: string, parts: number): string[] {
  const pieces: string[] = [];
  const space = /\s/g;
  let start = 0;
  for (let i = 1; i < parts; i++) {
    space.lastIndex = Math.max(start, Math.round((i * text.length) / parts));
    const end = space.exec(text)?.index ?? text.length;
    pieces.push(text.slice(start, end));
    start = end;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/**
 * The text for `parallelism` workers: one chunk per worker, each cut further into pieces of at
 * most `maxBytes` of UTF-8 (one task each) where whitespace allows. `result[i]` is worker i's.
 */
export function splitForWorkers(text: string, parallelism: number, maxBytes: number): string[][] {
  return cutAtWhitespace(text, parallelism).map((chunk) => fitPieces(chunk, maxBytes));
}

function fitPieces(chunk: string, maxBytes: number): string[] {
  const bytes = Buffer.byteLength(chunk);
  if (bytes <= maxBytes) return [chunk];
  const pieces = cutAtWhitespace(chunk, Math.ceil(bytes / maxBytes));
  // A piece no smaller than its chunk has no whitespace to cut at: it stays whole.
  return pieces.filter((p) => p.length > 0).flatMap((p) => (p.length < chunk.length ? fitPieces(p, maxBytes) : [p]));
}

/** Words in all, distinct words, and the most frequent word (ties: alphabetically first). */
export interface Totals {
  readonly words: number;
  readonly unique: number;
  readonly top: readonly [string, number] | undefined;
}

export function totals(counts: ReadonlyMap<string, number>): Totals {
  let words = 0;
  let top: [string, number] | undefined;
  for (const [word, n] of counts) {
    words += n;
    if (top === undefined || n > top[1] || (n === top[1] && word < top[0])) top = [word, n];
  }
  return { words, unique: counts.size, top };
}

/** Whether two counts agree on every word. */
export function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [word, n] of a) if (b.get(word) !== n) return false;
  return true;
}

/** Adds `counts` into `into`. */
export function mergeCounts(into: Map<string, number>, counts: Iterable<readonly [string, number]>): void {
  for (const [word, n] of counts) into.set(word, (into.get(word) ?? 0) + n);
}

/** One framework message of a task's counts: part `part` of `parts`. */
export interface CountsReport {
  readonly task: string;
  readonly part: number;
  readonly parts: number;
  readonly counts: [string, number][];
}

/**
 * A task's counts as framework messages (JSON) of about `maxBytes` at most each, so a text with
 * many distinct words does not make one message larger than the bus carries. Always one at least.
 */
export function encodeReports(task: string, counts: ReadonlyMap<string, number>, maxBytes: number): string[] {
  const groups: [string, number][][] = [[]];
  let size = 0;
  for (const [word, n] of counts) {
    const entry = Buffer.byteLength(word) * 2 + 20; // quoted, maybe escaped, with its count
    if (size + entry > maxBytes && groups.at(-1)!.length > 0) {
      groups.push([]);
      size = 0;
    }
    groups.at(-1)!.push([word, n]);
    size += entry;
  }
  return groups.map((group, part) => JSON.stringify({ task, part, parts: groups.length, counts: group } satisfies CountsReport));
}

/** Parses a `CountsReport`; `undefined` for anything else. */
export function parseCountsReport(data: Buffer): CountsReport | undefined {
  try {
    const r = JSON.parse(data.toString('utf8')) as Partial<CountsReport> | null;
    if (r === null || typeof r.task !== 'string' || !Array.isArray(r.counts)) return undefined;
    if (!Number.isSafeInteger(r.parts) || r.parts! < 1 || !Number.isSafeInteger(r.part) || r.part! < 0 || r.part! >= r.parts!) return undefined;
    for (const entry of r.counts) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Number.isSafeInteger(entry[1]) || (entry[1] as number) < 1) return undefined;
    }
    return { task: r.task, part: r.part!, parts: r.parts!, counts: r.counts };
  } catch {
    return undefined;
  }
}
