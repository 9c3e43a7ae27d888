import { Clock } from '../../src/process/clock.ts';
import { Process, type Handler } from '../../src/process/process.ts';
import { Runtime, type RuntimeOptions } from '../../src/process/runtime.ts';
import type { UPID } from '../../src/process/upid.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';

/** Runtimes on a private local bus with a private clock, so tests of one file can run at once. */
export async function localWorld(nodes: string[], options: Omit<RuntimeOptions, 'node' | 'transport' | 'clock'> = {}) {
  const bus = new LocalBus();
  const clock = new Clock();
  const runtimes = await Promise.all(
    nodes.map((node) => Runtime.start({ ...options, node, clock, transport: new LocalTransport(bus) })),
  );
  return { bus, clock, runtimes, shutdown: () => Promise.all(runtimes.map((r) => r.shutdown())) };
}

/** A process whose handlers the test supplies, recording every message it gets. */
export class Probe extends Process {
  readonly received: { name: string; from: UPID; body: unknown }[] = [];
  readonly exits: UPID[] = [];
  /** Every `linkInterrupted`, in order. */
  readonly interruptions: UPID[] = [];
  readonly waiting = new Map<string, ((body: unknown) => void)[]>();

  constructor(id: string, names: string[] = [], handlers: Record<string, Handler<any>> = {}) {
    super(id);
    for (const name of new Set([...names, ...Object.keys(handlers)])) {
      this.install(name, (from, body) => {
        this.received.push({ name, from, body });
        handlers[name]?.call(this, from, body);
        const waiters = this.waiting.get(name);
        if (waiters !== undefined) {
          this.waiting.delete(name);
          for (const w of waiters) w(body);
        }
      });
    }
  }

  override exited(upid: UPID): void {
    this.exits.push(upid);
  }

  override linkInterrupted(upid: UPID): void {
    this.interruptions.push(upid);
  }

  /** Resolves with the body of the next `name` message. */
  next(name: string): Promise<unknown> {
    return new Promise((resolve) => {
      const list = this.waiting.get(name) ?? [];
      list.push(resolve);
      this.waiting.set(name, list);
    });
  }

  linkTo(upid: UPID): void {
    this.link(upid);
  }

  later(ms: number, fn: () => void) {
    return this.delay(ms, fn);
  }

  after<T>(promise: Promise<T>, fn: (value: T) => void): void {
    this.defer(promise, fn);
  }

  bodies(name: string): unknown[] {
    return this.received.filter((m) => m.name === name).map((m) => m.body);
  }
}
