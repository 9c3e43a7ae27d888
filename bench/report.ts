import { pino, type Logger } from 'pino';

/**
 * The logger of a bench's runtimes: to stderr, since stdout carries the CSV rows and a child
 * run's result line; level `BENCH_LOG_LEVEL`, else `level`.
 */
export function benchLogger(level = 'warn'): Logger {
  return pino({ level: process.env.BENCH_LOG_LEVEL ?? level }, pino.destination(2));
}

/** CSV rows as they come, and a summary table at the end. */
export class Report {
  readonly rows: Record<string, string | number>[] = [];
  #headerPrinted = false;

  constructor(readonly columns: string[]) {}

  add(row: Record<string, string | number>): void {
    if (!this.#headerPrinted) {
      console.log(this.columns.join(','));
      this.#headerPrinted = true;
    }
    this.rows.push(row);
    console.log(this.columns.map((c) => String(row[c] ?? '')).join(','));
  }

  /** Prints the rows as an aligned table under `title`. */
  table(title: string, columns = this.columns): void {
    const cells = [columns, ...this.rows.map((r) => columns.map((c) => String(r[c] ?? '')))];
    const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
    console.log(`\n${title}`);
    for (const [n, row] of cells.entries()) {
      console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
      if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    }
  }
}

/** The q-quantile of unsorted samples. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
