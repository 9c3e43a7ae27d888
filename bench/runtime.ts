/**
 * `npm run bench -- runtime`: messaging throughput and latency of the runtime, over the local
 * transport (one runtime, and two runtimes on the local bus), over NATS, and over a bare
 * `@nats-io/transport-node` client running the same protocol (the bus's own ceiling), all in
 * one run so the overhead reads as a ratio.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Clock, wallClockNow } from '../src/process/clock.ts';
import { Process } from '../src/process/process.ts';
import { Runtime } from '../src/process/runtime.ts';
import type { UPID } from '../src/process/upid.ts';
import { LocalBus, LocalTransport } from '../src/transport/local.ts';
import { NatsTransport } from '../src/transport/nats.ts';
import { startNatsServer, type NatsServer } from '../test/helpers/nats-server.ts';
import { Report, benchLogger, quantile, round } from './report.ts';
import { QUICK_DIVISOR, runtimeScenarios, type RuntimeScenario } from './scenarios.ts';

type Mode = 'local' | 'local-bus' | 'nats' | 'nats-bare';

interface Result {
  messages: number;
  seconds: number;
  latencies: number[];
}

interface Data {
  seq: number;
  t: number;
  pad: string;
}

/** Samples at most this many latencies per run (every k-th message). */
const LATENCY_SAMPLES = 100_000;

class Receiver extends Process {
  readonly latencies: number[] = [];
  readonly seen = new Map<string, number>();
  received = 0;
  constructor(
    readonly expected: number,
    readonly ackEvery: number,
    readonly sampleEvery: number,
    readonly done: () => void,
  ) {
    super('receiver');
    this.install('data', (from: UPID, body: Data) => {
      this.received++;
      if (this.received % this.sampleEvery === 0) this.latencies.push((wallClockNow() - body.t) * 1000);
      const key = String(from);
      const n = (this.seen.get(key) ?? 0) + 1;
      if (body.seq !== n) throw new Error(`out of order from ${key}: got ${body.seq}, expected ${n}`);
      this.seen.set(key, n);
      if (n % this.ackEvery === 0) this.send(from, 'ack', { n: this.ackEvery });
      if (this.received === this.expected) this.done();
    });
  }
}

class Sender extends Process {
  #sent = 0;
  constructor(
    id: string,
    readonly to: UPID,
    readonly total: number,
    readonly window: number,
    readonly pad: string,
  ) {
    super(id);
    this.install('start', () => this.#burst(this.window));
    this.install('ack', (_from, body: { n: number }) => this.#burst(body.n));
  }

  #burst(n: number): void {
    const end = Math.min(this.total, this.#sent + n);
    while (this.#sent < end) this.send(this.to, 'data', { seq: ++this.#sent, t: wallClockNow(), pad: this.pad });
  }
}

async function runOnRuntimes(scenario: RuntimeScenario, total: number, mode: Exclude<Mode, 'nats-bare'>, nats?: NatsServer): Promise<Result> {
  const logger = benchLogger();
  const clock = new Clock();
  const bus = new LocalBus();
  const nodes = mode === 'local' ? 1 : scenario.senders + 1;
  const runtimes: Runtime[] = [];
  // Each runtime gets its own transport; on nats all share one prefix so they see each other.
  const natsPrefix = `bench${Math.random().toString(36).slice(2, 8)}`;
  for (let i = 0; i < nodes; i++) {
    runtimes.push(
      await Runtime.start({
        node: `bench-${mode}-${i}`,
        clock,
        logger,
        transport: mode === 'nats' ? new NatsTransport({ servers: nats!.url, prefix: natsPrefix, logger }) : new LocalTransport(bus),
      }),
    );
  }
  const perSender = Math.floor(total / scenario.senders);
  const expected = perSender * scenario.senders;
  const ackEvery = Math.max(1, Math.floor(scenario.window / 4));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const receiver = new Receiver(expected, ackEvery, Math.max(1, Math.floor(expected / LATENCY_SAMPLES)), finish);
  runtimes[0]!.spawn(receiver);
  const senders: Sender[] = [];
  for (let i = 0; i < scenario.senders; i++) {
    const sender = new Sender(`sender${i}`, receiver.self, perSender, scenario.window, 'x'.repeat(scenario.padding));
    runtimes[mode === 'local' ? 0 : i + 1]!.spawn(sender);
    senders.push(sender);
  }
  await runtimes[0]!.settle();
  const started = wallClockNow();
  for (const s of senders) receiver.send(s.self, 'start', {});
  await finished;
  const seconds = (wallClockNow() - started) / 1000;
  if (receiver.received !== expected) throw new Error(`expected ${expected} messages, got ${receiver.received}`);
  for (const r of runtimes) await r.shutdown();
  return { messages: expected, seconds, latencies: receiver.latencies };
}

/** The same protocol on raw nats.js connections: pre-sized payloads, timestamp in the first 8 bytes. */
export async function runBare(scenario: RuntimeScenario, total: number, nats: NatsServer, envelopeBytes: number): Promise<Result> {
  const prefix = `bare${Math.random().toString(36).slice(2, 8)}`;
  const receiverConn = await connect({ servers: nats.url });
  const senderConns: NatsConnection[] = [];
  for (let i = 0; i < scenario.senders; i++) senderConns.push(await connect({ servers: nats.url }));
  const perSender = Math.floor(total / scenario.senders);
  const expected = perSender * scenario.senders;
  const ackEvery = Math.max(1, Math.floor(scenario.window / 4));
  const sampleEvery = Math.max(1, Math.floor(expected / LATENCY_SAMPLES));
  const latencies: number[] = [];
  const seen = new Array<number>(scenario.senders).fill(0);
  let received = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const ack = new TextEncoder().encode(JSON.stringify({ n: ackEvery }));
  receiverConn.subscribe(`${prefix}.receiver`, {
    callback: (_e, msg) => {
      const view = new DataView(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
      const t = view.getFloat64(0);
      const sender = view.getUint32(8);
      received++;
      if (received % sampleEvery === 0) latencies.push((wallClockNow() - t) * 1000);
      const n = ++seen[sender]!;
      if (n % ackEvery === 0) receiverConn.publish(`${prefix}.sender.${sender}`, ack);
      if (received === expected) finish();
    },
  });
  await receiverConn.flush();
  const senders = senderConns.map((conn, index) => {
    let sent = 0;
    const burst = (n: number): void => {
      const end = Math.min(perSender, sent + n);
      while (sent < end) {
        sent++;
        const payload = new Uint8Array(envelopeBytes);
        const view = new DataView(payload.buffer);
        view.setFloat64(0, wallClockNow());
        view.setUint32(8, index);
        conn.publish(`${prefix}.receiver`, payload);
      }
    };
    conn.subscribe(`${prefix}.sender.${index}`, {
      callback: (_e, msg) => burst((JSON.parse(msg.string()) as { n: number }).n),
    });
    return { conn, burst };
  });
  for (const s of senders) await s.conn.flush();
  const started = wallClockNow();
  for (const s of senders) s.burst(scenario.window);
  await finished;
  const seconds = (wallClockNow() - started) / 1000;
  await Promise.all([receiverConn, ...senderConns].map((c) => c.close()));
  return { messages: expected, seconds, latencies };
}

/** Size of one envelope as the NATS transport encodes it, for the bare client's payloads. */
export function envelopeSize(scenario: RuntimeScenario): number {
  return Buffer.byteLength(
    JSON.stringify({ from: 'sender0@bench-nats-1', to: 'receiver@bench-nats-0', name: 'data', body: { seq: 123456, t: 12345.678901, pad: 'x'.repeat(scenario.padding) } }),
  );
}

export async function runtimeSuite(options: { quick: boolean }): Promise<void> {
  const nats = await startNatsServer();
  const report = new Report(['scenario', 'transport', 'messages', 'seconds', 'msgs_per_s', 'p50_us', 'p99_us']);
  const modes: Mode[] = ['local', 'local-bus', 'nats', 'nats-bare'];
  try {
    for (const scenario of runtimeScenarios) {
      const total = options.quick ? Math.ceil(scenario.messages / QUICK_DIVISOR) : scenario.messages;
      for (const mode of modes) {
        const result = mode === 'nats-bare' ? await runBare(scenario, total, nats, envelopeSize(scenario)) : await runOnRuntimes(scenario, total, mode, nats);
        report.add({
          scenario: scenario.name,
          transport: mode,
          messages: result.messages,
          seconds: round(result.seconds, 3),
          msgs_per_s: Math.round(result.messages / result.seconds),
          p50_us: round(quantile(result.latencies, 0.5)),
          p99_us: round(quantile(result.latencies, 0.99)),
        });
      }
    }
  } finally {
    await nats.stop();
  }
  const summary = new Report(['scenario', 'local', 'local-bus', 'nats', 'nats-bare', 'nats/bare']);
  const rate = (scenario: string, transport: string) => Number(report.rows.find((r) => r.scenario === scenario && r.transport === transport)?.msgs_per_s ?? NaN);
  console.log('');
  for (const scenario of runtimeScenarios) {
    const n = scenario.name;
    summary.rows.push({
      scenario: n,
      local: rate(n, 'local'),
      'local-bus': rate(n, 'local-bus'),
      nats: rate(n, 'nats'),
      'nats-bare': rate(n, 'nats-bare'),
      'nats/bare': `${Math.round((100 * rate(n, 'nats')) / rate(n, 'nats-bare'))}%`,
    });
  }
  summary.table('Summary (msgs/s, one run, this machine)');
}
