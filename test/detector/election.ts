import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { ElectionEvent } from '../../actors/detector/contender.ts';
import type { LeaderInfo } from '../../actors/detector/detector.ts';

/**
 * What the leader-election tests share: a queue of a contender's events, a logger whose lines
 * can be awaited, and a bound on a wait (never a sleep).
 */

/** A contender's events, in order; `next` waits for the next one not yet taken. */
export class ElectionEvents {
  readonly all: ElectionEvent[] = [];
  #taken = 0;
  #wake: (() => void) | undefined;

  readonly listener = (event: ElectionEvent): void => {
    this.all.push(event);
    this.#wake?.();
  };

  async next(what: string, timeoutMs = 10_000): Promise<ElectionEvent> {
    while (this.#taken >= this.all.length) {
      await within(new Promise<void>((resolve) => (this.#wake = resolve)), timeoutMs, what);
    }
    return this.all[this.#taken++]!;
  }

  /** Waits for an event of `type`, skipping others. */
  async until(type: ElectionEvent['type'], timeoutMs = 10_000): Promise<ElectionEvent> {
    for (;;) {
      const event = await this.next(`a '${type}' event`, timeoutMs);
      if (event.type === type) return event;
    }
  }
}

/** A master's `LeaderInfo`, as a contender writes it. */
export function candidate(node: string, port = 5050): LeaderInfo {
  return { pid: `master@${node}`, id: `id-${node}`, hostname: node, url: `http://127.0.0.1:${port}`, version: 'test' };
}

/** Rejects if `promise` takes longer than `ms` (a bound, never a wait). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A logger keeping its JSON lines (at `level` and above); `waitFor` resolves on the first whose `msg` matches. */
export class LogLines {
  readonly lines: Record<string, unknown>[] = [];
  readonly logger: Logger;
  #listeners = new Set<() => void>();

  constructor(level = 'info') {
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const text of chunk.toString().split('\n')) if (text.trim() !== '') this.lines.push(JSON.parse(text) as Record<string, unknown>);
        for (const listener of [...this.#listeners]) listener();
        callback();
      },
    });
    this.logger = pino({ level }, stream);
  }

  /** The first line from index `from` on whose `msg` matches and whose fields include `fields`. */
  waitFor(msg: RegExp, fields: Record<string, unknown> = {}, options: { from?: number; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const matches = (line: Record<string, unknown>): boolean =>
      typeof line.msg === 'string' && msg.test(line.msg) && Object.entries(fields).every(([k, v]) => line[k] === v);
    return within(
      new Promise((resolve) => {
        const check = (): void => {
          const line = this.lines.slice(options.from ?? 0).find(matches);
          if (line === undefined) return;
          this.#listeners.delete(check);
          resolve(line);
        };
        this.#listeners.add(check);
        check();
      }),
      options.timeoutMs ?? 10_000,
      `a log line matching ${msg} ${JSON.stringify(fields)}`,
    );
  }
}
