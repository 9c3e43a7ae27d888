import { pino, type Logger } from 'pino';
import { Clock } from '../../src/process/clock.ts';
import { Runtime, type RuntimeOptions } from '../../src/process/runtime.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';

/**
 * A transport under test: `local` (a private in-process bus) or `nats` (a real nats-server
 * started for the test file). Suites written against `TransportKind` run the same cases on both.
 */
export type TransportKind = 'local' | 'nats';

export interface World {
  readonly clock: Clock;
  readonly runtimes: Runtime[];
  /** Starts one more runtime on the same bus and clock. */
  add(node: string, options?: Partial<RuntimeOptions>): Promise<Runtime>;
  shutdown(): Promise<void>;
}

export class Bus {
  #nats: NatsServer | undefined;
  #local = new LocalBus();
  #worlds = 0;

  constructor(readonly kind: TransportKind) {}

  async start(): Promise<void> {
    if (this.kind === 'nats') this.#nats = await startNatsServer();
  }

  get nats(): NatsServer {
    if (this.#nats === undefined) throw new Error('not a nats bus');
    return this.#nats;
  }

  transport(logger?: Logger): Transport {
    return this.kind === 'nats' ? new NatsTransport({ servers: this.nats.url, logger }) : new LocalTransport(this.#local);
  }

  /**
   * Runtimes named `w<i>-<node>` (unique per world) sharing a fresh clock, shut down when the
   * test ends whatever its outcome.
   */
  async world(t: { teardown(fn: () => unknown): void }, nodes: string[], options: Partial<RuntimeOptions> = {}): Promise<World> {
    const clock = new Clock();
    const tag = `w${++this.#worlds}`;
    const runtimes: Runtime[] = [];
    const logger = options.logger ?? pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
    const add = async (node: string, extra: Partial<RuntimeOptions> = {}): Promise<Runtime> => {
      const rt = await Runtime.start({ logger, ...options, ...extra, node: `${tag}-${node}`, clock, transport: this.transport(logger) });
      runtimes.push(rt);
      return rt;
    };
    const shutdown = async (): Promise<void> => {
      await Promise.all(runtimes.map((r) => r.shutdown()));
    };
    t.teardown(shutdown);
    for (const node of nodes) await add(node);
    return { clock, runtimes, add, shutdown };
  }

  async stop(): Promise<void> {
    await this.#nats?.stop();
  }
}

/** Context of a test file that runs its cases on both buses. */
export interface BusesContext {
  buses: Record<TransportKind, Bus>;
}

/**
 * Starts a local bus and a real nats-server for the test file (before all its tests) and
 * stops them after; cases read `t.context.buses[kind]`.
 */
export function useBuses(test: { before(fn: (t: { context: BusesContext }) => Promise<void>): void; after: { always(fn: (t: { context: BusesContext }) => Promise<void>): void } }): void {
  test.before(async (t) => {
    const local = new Bus('local');
    const nats = new Bus('nats');
    await Promise.all([local.start(), nats.start()]);
    t.context.buses = { local, nats };
  });
  test.after.always(async (t) => {
    await Promise.all(Object.values(t.context.buses ?? {}).map((b) => b.stop()));
  });
}

/** Starts a local bus for the test file (before all its tests) and stops it after; cases read `t.context.bus`. */
export function useLocalBus(test: { before(fn: (t: { context: { bus: Bus } }) => Promise<void>): void; after: { always(fn: (t: { context: { bus: Bus } }) => Promise<void>): void } }): void {
  test.before(async (t) => {
    t.context.bus = new Bus('local');
    await t.context.bus.start();
  });
  test.after.always(async (t) => {
    await t.context.bus?.stop();
  });
}
