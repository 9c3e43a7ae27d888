/**
 * Counters, gauges and timers, keyed by Mesos-style names (`master/messages_received`), as
 * libprocess's `process::metrics`. One `Metrics` registry per runtime; a process gets its own
 * names under its id. Counters are plain numbers on the hot path: `counter.inc()` is a field add.
 */

export class Counter {
  value = 0;
  constructor(readonly name: string) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class Gauge {
  constructor(
    readonly name: string,
    readonly read: () => number,
  ) {}
}

/**
 * Durations in milliseconds. The snapshot gives, as Mesos does, `<name>` (the last value) and
 * `<name>/count`, `/min`, `/max`, `/p50`, `/p90`, `/p99` over a window of recent samples.
 */
export class TimerMetric {
  count = 0;
  last = 0;
  readonly #window: number[] = [];
  constructor(
    readonly name: string,
    readonly windowSize = 1000,
  ) {}

  record(ms: number): void {
    this.count++;
    this.last = ms;
    if (this.#window.length >= this.windowSize) this.#window.shift();
    this.#window.push(ms);
  }

  snapshot(): Record<string, number> {
    const sorted = [...this.#window].sort((a, b) => a - b);
    const out: Record<string, number> = { [this.name]: this.last, [`${this.name}/count`]: this.count };
    if (sorted.length > 0) {
      out[`${this.name}/min`] = sorted[0]!;
      out[`${this.name}/max`] = sorted[sorted.length - 1]!;
      for (const [label, q] of QUANTILES) out[`${this.name}/${label}`] = quantile(sorted, q);
    }
    return out;
  }
}

const QUANTILES: [string, number][] = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p99', 0.99],
];

function quantile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export class Metrics {
  readonly #counters = new Map<string, Counter>();
  readonly #gauges = new Map<string, Gauge>();
  readonly #timers = new Map<string, TimerMetric>();

  /** The counter called `name`, created at zero on first use. */
  counter(name: string): Counter {
    let c = this.#counters.get(name);
    if (c === undefined) {
      c = new Counter(name);
      this.#counters.set(name, c);
    }
    return c;
  }

  /** Registers (or replaces) a gauge read at snapshot time. */
  gauge(name: string, read: () => number): Gauge {
    const g = new Gauge(name, read);
    this.#gauges.set(name, g);
    return g;
  }

  timer(name: string): TimerMetric {
    let t = this.#timers.get(name);
    if (t === undefined) {
      t = new TimerMetric(name);
      this.#timers.set(name, t);
    }
    return t;
  }

  /** Forgets every metric under `prefix/` (a terminated process's). */
  removePrefix(prefix: string): void {
    const p = `${prefix}/`;
    for (const map of [this.#counters, this.#gauges, this.#timers] as Map<string, unknown>[]) {
      for (const key of [...map.keys()]) if (key.startsWith(p)) map.delete(key);
    }
  }

  /** Mesos's `/metrics/snapshot` shape: one flat object of names to numbers, keys sorted. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.#counters.values()) out[c.name] = c.value;
    for (const g of this.#gauges.values()) {
      let v: number;
      try {
        v = g.read();
      } catch {
        continue; // A gauge that cannot be read is left out, as Mesos leaves out failed futures.
      }
      if (Number.isFinite(v)) out[g.name] = v;
    }
    for (const t of this.#timers.values()) Object.assign(out, t.snapshot());
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The Prometheus text exposition format (version 0.0.4) of the same numbers. */
  prometheus(): string {
    const lines: string[] = [];
    const typed = (name: string, type: string, value: number): void => {
      const metric = prometheusName(name);
      lines.push(`# TYPE ${metric} ${type}`, `${metric} ${formatNumber(value)}`);
    };
    for (const c of this.#counters.values()) typed(c.name, 'counter', c.value);
    for (const g of this.#gauges.values()) {
      try {
        typed(g.name, 'gauge', g.read());
      } catch {
        // Left out, as in the snapshot.
      }
    }
    for (const t of this.#timers.values()) {
      const metric = prometheusName(t.name);
      const snap = t.snapshot();
      lines.push(`# TYPE ${metric} summary`);
      for (const [label, q] of QUANTILES) {
        const v = snap[`${t.name}/${label}`];
        if (v !== undefined) lines.push(`${metric}{quantile="${q}"} ${formatNumber(v)}`);
      }
      lines.push(`${metric}_count ${t.count}`);
    }
    return lines.join('\n') + '\n';
  }
}

/** `master/messages_received` → `master_messages_received`; `slave(1)/x` → `slave_1__x`. */
export function prometheusName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_:]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
