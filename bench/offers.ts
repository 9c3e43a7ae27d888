/**
 * `npm run bench -- offers`: offers end to end. A master and its allocator, N emulated agents
 * (`emulated-agent.ts`) and M scheduler drivers, each driver in a runtime of its own and the
 * agents `agentsPerRuntime` to a runtime (on `nats`, each runtime with its own connection). Frameworks
 * accept every offer with one no-op task using all of it (the agent reports TASK_RUNNING then
 * TASK_FINISHED at once, through the master; the driver acknowledges both) or decline it.
 *
 * Measured over a window after a warm-up: offers delivered to schedulers per second (the median
 * of the window's slices, so that a burst of other load on the machine does not decide it), and
 * the latency from `launchTasks` to the TASK_RUNNING `statusUpdate` callback (wall clock). In
 * the same run: the allocator actor alone on the same shape (`allocator.ts`, median round), and
 * the bare NATS client (`runtime.ts`), so the costs read as ratios.
 *
 * Before any number is reported the run is checked: offers arrived; in `accept` every task
 * launched was RUNNING and FINISHED and acknowledged, and the master counted every launch; in
 * `decline` the master counted every decline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { AllocatorProcess } from '../actors/allocator/allocator-process.ts';
import { Master } from '../actors/master/master-process.ts';
import { SchedulerDriver, type Scheduler } from '../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../src/mesos/resources.ts';
import type { Offer, TaskStatus } from '../src/mesos/v1/common.ts';
import { Clock, wallClockDelay, wallClockNow } from '../src/process/clock.ts';
import { Runtime } from '../src/process/runtime.ts';
import { UPID } from '../src/process/upid.ts';
import { LocalBus, LocalTransport } from '../src/transport/local.ts';
import { NatsTransport } from '../src/transport/nats.ts';
import { decodeBatch, encodeEnvelope } from '../src/transport/codec.ts';
import type { Envelope, Transport } from '../src/transport/transport.ts';
import { startNatsServer, type NatsServer } from '../test/helpers/nats-server.ts';
import { runActor } from './allocator.ts';
import { EmulatedAgent, EmulatedAgentStats, seededRandom } from './emulated-agent.ts';
import { ProbeClient, startMasterProcess, stopMasterProcess } from './master-probe.ts';
import { Report, benchLogger, quantile, round } from './report.ts';
import { envelopeSize, runBare } from './runtime.ts';
import { OFFERS_QUICK_MEASURE_SECONDS, QUICK_DIVISOR, offersScenarios, runtimeScenarios, type OffersScenario } from './scenarios.ts';

/**
 * `local`: one process, the local bus. `local-json`: the local bus, every envelope written as
 * JSON and read back as the NATS transport does, without NATS (what the wire format costs on
 * its own). `nats`: one process, every runtime on its own NATS connection. `nats-split`: as
 * `nats`, but the master and its allocator run in an OS process of their own
 * (`master-process.ts`), as in a deployment, where schedulers and agents do not share the
 * master's CPU.
 */
export type OffersTransport = 'local' | 'local-json' | 'nats' | 'nats-split';

/** The local bus with the NATS transport's encoding: each envelope crosses as JSON text. */
class JsonLocalTransport extends LocalTransport {
  override send(node: string, envelope: Envelope): boolean {
    let sent = true;
    decodeBatch(encodeEnvelope(envelope), (decoded) => (sent = super.send(node, decoded)), () => (sent = false));
    return sent;
  }
}

/** The master's counts the checks need, wherever the master runs. */
interface MasterCounts {
  tasksLaunched: number;
  offersDeclined: number;
  frameworks: number;
  /** Envelopes the master's runtime sent to other nodes, when it is not one of this process's runtimes. */
  sentRemote: number;
  /** CPU time (user + system, ms) of the master's OS process so far, when it is not this process. */
  cpuMs: number;
}

/** CPU time (user + system) of this OS process so far, ms. */
function processCpuMs(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1000;
}

/** During the drain, offers are declined with this filter so that the cluster goes quiet. */
const DRAIN_REFUSE_SECONDS = 3_600;
/** Rounds of the allocator alone (declines → one cycle → offers) per shape; the median counts. */
const ALLOCATOR_ROUNDS = 20;
/** The allocator alone is measured in this many fresh processes per shape; the median counts. */
const ALLOCATOR_RUNS = 3;
/** The measured window is cut into this many slices; the reported rate is their median. */
const MEASURE_SLICES = 10;
/** How long setup steps and the drain may take before the run counts as failed. */
const STEP_TIMEOUT_MS = 60_000;

export interface OffersResult {
  /** Offers delivered to schedulers in the window. */
  offers: number;
  seconds: number;
  /** Offers per second in each slice of the window. */
  sliceRates: number[];
  /** Launch → TASK_RUNNING, ms, for tasks launched in the window. */
  latenciesMs: number[];
  /** Over the whole run (warm-up, window, drain). */
  launched: number;
  running: number;
  finished: number;
  declined: number;
  /** Envelopes all runtimes sent to other runtimes in the window (the bus's load). */
  busEnvelopes: number;
  /**
   * CPU time (ms) this OS process spent in the window: the whole cluster on `local` and `nats`;
   * the schedulers and agents on `nats-split`.
   */
  cpuMs: number;
  /** CPU time (ms) the master's own OS process spent in the window (`nats-split` only). */
  masterCpuMs: number | undefined;
}

type Phase = 'warmup' | 'measure' | 'drain';

/** What every scheduler of a run adds to. */
class Run {
  phase: Phase = 'warmup';
  /** Set before the runtimes shut down: answers still queued are dropped. */
  closed = false;
  offers = 0;
  launched = 0;
  running = 0;
  finished = 0;
  declined = 0;
  registered = 0;
  readonly latenciesMs: number[] = [];
  readonly problems: string[] = [];
}

/** Accepts (one task using the whole offer) or declines every offer. */
class BenchScheduler implements Scheduler {
  #seq = 0;
  /** Launch time (wall ms) of tasks in flight, and whether they were launched in the window. */
  readonly #launched = new Map<string, { at: number; measured: boolean }>();

  constructor(
    readonly run: Run,
    readonly index: number,
    readonly scenario: OffersScenario,
  ) {}

  registered(): void {
    this.run.registered++;
  }

  /**
   * Answers on the next turn of the event loop, as a scheduler in a program of its own would.
   * Answering inside the callback would close a loop (offer → answer → allocation → offer)
   * that, on the local transport, runs from microtask to microtask between runtimes and never
   * lets a timer or I/O callback in (see README, "offers").
   */
  resourceOffers(driver: SchedulerDriver, offers: Offer[]): void {
    setImmediate(() => this.#answer(driver, offers));
  }

  #answer(driver: SchedulerDriver, offers: Offer[]): void {
    const run = this.run;
    if (run.closed) return;
    if (run.phase === 'measure') run.offers += offers.length;
    for (const offer of offers) {
      if (this.scenario.mode === 'decline' || run.phase === 'drain') {
        run.declined++;
        driver.declineOffer(offer.id, { refuse_seconds: run.phase === 'drain' ? DRAIN_REFUSE_SECONDS : this.scenario.refuseSeconds });
        continue;
      }
      const taskId = `f${this.index}-t${++this.#seq}`;
      run.launched++;
      this.#launched.set(taskId, { at: wallClockNow(), measured: run.phase === 'measure' });
      driver.launchTasks(offer.id, [{ name: 'noop', task_id: { value: taskId }, agent_id: offer.agent_id, resources: offer.resources, command: { value: 'true' } }]);
    }
  }

  statusUpdate(_driver: SchedulerDriver, status: TaskStatus): void {
    const taskId = status.task_id.value;
    const launch = this.#launched.get(taskId);
    if (status.state === 'TASK_RUNNING') {
      this.run.running++;
      if (launch?.measured === true) this.run.latenciesMs.push(wallClockNow() - launch.at);
    } else if (status.state === 'TASK_FINISHED') {
      this.run.finished++;
      this.#launched.delete(taskId);
    } else if (this.run.problems.length < 5) {
      this.run.problems.push(`framework ${this.index}: task ${taskId} is ${status.state}: ${status.message ?? ''}`);
    }
  }

  error(_driver: SchedulerDriver, message: string): void {
    this.run.problems.push(`framework ${this.index}: error: ${message}`);
  }
}

/**
 * Waits until `done()` holds, checking every few ms; throws naming `what` after the step timeout.
 * A function for `what` is read when it throws, so counts in it are the last ones, not the first.
 */
export async function waitFor(what: string | (() => string), done: () => boolean | Promise<boolean>, timeoutMs = STEP_TIMEOUT_MS): Promise<void> {
  const deadline = wallClockNow() + timeoutMs;
  while (!(await done())) {
    if (wallClockNow() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await wallClockDelay(5);
  }
}

function sentRemote(runtimes: Runtime[]): number {
  let n = 0;
  for (const r of runtimes) n += r.metrics.counter('runtime/messages_sent_remote').value;
  return n;
}

/** Runs one scenario on one transport; every runtime is shut down before it returns. */
export async function runOffers(s: OffersScenario, transport: OffersTransport, measureSeconds: number, natsUrl?: string): Promise<OffersResult> {
  const logger = benchLogger();
  const clock = new Clock();
  const bus = new LocalBus();
  const prefix = `offers${Math.random().toString(36).slice(2, 8)}`;
  const makeTransport = (log: Logger): Transport =>
    transport === 'local'
      ? new LocalTransport(bus)
      : transport === 'local-json'
        ? new JsonLocalTransport(bus)
        : new NatsTransport({ servers: natsUrl!, prefix, logger: log });
  const runtimes: Runtime[] = [];
  const run = new Run();
  const start = async (node: string): Promise<Runtime> => {
    const runtime = await Runtime.start({ node, clock, logger, transport: makeTransport(logger) });
    runtimes.push(runtime);
    return runtime;
  };
  let child: ChildProcess | undefined;
  try {
    const masterNode = 'bench-master';
    const masterPid = new UPID('master', masterNode);
    let masterCounts: () => Promise<MasterCounts>;
    if (transport === 'nats-split') {
      const c = (child = await startMasterProcess(natsUrl!, prefix, masterNode));
      // A master that dies fails the run at the next count instead of leaving it waiting.
      const died = new Promise<never>((_resolve, reject) => c.once('exit', (code, signal) => reject(new Error(`the master process exited (${code ?? signal})`))));
      died.catch(() => undefined);
      const client = new ProbeClient(new UPID('bench-probe', masterNode));
      (await start('bench-probe-client')).spawn(client);
      masterCounts = () => Promise.race([client.request({ gc: false }), died]);
    } else {
      const masterRuntime = await start(masterNode);
      const master = new Master({ hostname: masterNode });
      masterRuntime.spawn(new AllocatorProcess({ master: `master@${masterNode}` }));
      masterRuntime.spawn(master);
      masterCounts = async () => ({ tasksLaunched: master.stats.tasksLaunched.value, offersDeclined: master.stats.offersDeclined.value, frameworks: master.frameworks.size, sentRemote: 0, cpuMs: 0 });
    }

    const stats = new EmulatedAgentStats();
    const resources = Resources.parse(s.agentResources).toJSON();
    const random = seededRandom(1);
    const perRuntime = s.agentsPerRuntime ?? 1;
    let agentRuntime: Runtime | undefined;
    for (let i = 0; i < s.agents; i++) {
      if (i % perRuntime === 0) agentRuntime = await start(`bench-agents-${i / perRuntime}`);
      agentRuntime!.spawn(new EmulatedAgent(`slave(${(i % perRuntime) + 1})`, { master: masterPid, resources, hostname: `agent-${i}`, stats, random, backoffFactorMs: s.registrationBackoffMs }));
    }
    await waitFor(`${s.agents} agents to register`, () => stats.registered === s.agents);

    const drivers: SchedulerDriver[] = [];
    for (let i = 0; i < s.frameworks; i++) {
      const runtime = await start(`bench-framework-${i}`);
      const driver = new SchedulerDriver(new BenchScheduler(run, i, s), { user: 'bench', name: `bench-${i}`, role: `role-${i % s.roles}` }, masterPid, { runtime, random: seededRandom(100 + i) });
      drivers.push(driver);
      await driver.start();
    }
    await waitFor(`${s.frameworks} frameworks to subscribe`, () => run.registered === s.frameworks);

    await wallClockDelay(s.warmupSeconds * 1000);
    const before = await masterCounts();
    const envelopesBefore = sentRemote(runtimes) + before.sentRemote;
    const cpuBefore = processCpuMs();
    run.phase = 'measure';
    const started = wallClockNow();
    // The window in slices: their median rate shrugs off a burst of other load on the machine.
    const sliceRates: number[] = [];
    let sliceStart = started;
    let sliceOffers = 0;
    for (let i = 0; i < MEASURE_SLICES; i++) {
      await wallClockDelay((measureSeconds * 1000) / MEASURE_SLICES);
      const now = wallClockNow();
      sliceRates.push(((run.offers - sliceOffers) * 1000) / (now - sliceStart));
      sliceStart = now;
      sliceOffers = run.offers;
    }
    run.phase = 'drain';
    const seconds = (wallClockNow() - started) / 1000;
    const cpuMs = processCpuMs() - cpuBefore;
    const after = await masterCounts();
    const busEnvelopes = sentRemote(runtimes) + after.sentRemote - envelopesBefore;

    // The checks: the run did the work it claims, through the master.
    if (run.offers === 0) throw new Error(`${s.name} (${transport}): no offers in the window`);
    if (s.mode === 'accept') {
      if (run.launched === 0) throw new Error(`${s.name} (${transport}): no task launched`);
      await waitFor(() => `every launched task to finish (${run.finished}/${run.launched})`, () => run.finished === run.launched && stats.tasksFinished === run.launched);
      if (run.running !== run.launched) throw new Error(`${s.name} (${transport}): ${run.running} TASK_RUNNING for ${run.launched} tasks`);
      const launched = (await masterCounts()).tasksLaunched;
      if (launched !== run.launched) throw new Error(`${s.name} (${transport}): the master launched ${launched} of ${run.launched} tasks`);
      if (run.latenciesMs.length === 0) throw new Error(`${s.name} (${transport}): no latency sample in the window`);
    }
    let counts = await masterCounts();
    await waitFor(() => `the master to count every decline (${counts.offersDeclined}/${run.declined})`, async () => (counts = await masterCounts()).offersDeclined === run.declined);
    if (run.problems.length > 0) throw new Error(`${s.name} (${transport}): ${run.problems.join('; ')}`);
    if (counts.frameworks !== s.frameworks) throw new Error(`${s.name} (${transport}): the master has ${counts.frameworks} frameworks, not ${s.frameworks}`);

    return {
      offers: run.offers,
      seconds,
      sliceRates,
      latenciesMs: run.latenciesMs,
      launched: run.launched,
      running: run.running,
      finished: run.finished,
      declined: run.declined,
      busEnvelopes,
      cpuMs,
      masterCpuMs: transport === 'nats-split' ? after.cpuMs - before.cpuMs : undefined,
    };
  } finally {
    run.closed = true;
    await Promise.all(runtimes.map((r) => r.shutdown()));
    if (child !== undefined) await stopMasterProcess(child);
  }
}

/**
 * One measurement of the suite, run by `offers-child.ts` in an OS process of its own: an offers
 * scenario (by name) on a transport, or the allocator alone on a scenario's shape.
 */
export type OffersJob =
  | { kind: 'offers'; scenario: string; transport: OffersTransport; measureSeconds: number; natsUrl: string }
  | { kind: 'allocator-alone'; scenario: string };

function scenarioNamed(name: string): OffersScenario {
  const s = offersScenarios.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no offers scenario named '${name}'`);
  return s;
}

/** An `OffersResult` with its latencies as the quantiles the suite reports. */
export type OffersSummary = Omit<OffersResult, 'latenciesMs'> & { latencySamples: number; latencyP50Ms: number; latencyP99Ms: number };

/** Runs a job in this process: an `OffersSummary` for `offers`, offers/s for `allocator-alone`. */
export async function runJob(job: OffersJob): Promise<OffersSummary | number> {
  const s = scenarioNamed(job.scenario);
  if (job.kind === 'offers') {
    const { latenciesMs, ...rest } = await runOffers(s, job.transport, job.measureSeconds, job.natsUrl);
    return { ...rest, latencySamples: latenciesMs.length, latencyP50Ms: quantile(latenciesMs, 0.5), latencyP99Ms: quantile(latenciesMs, 0.99) };
  }
  // The allocator actor alone, as the allocator suite measures it: every round declines every
  // offer (5 s filter, paused Clock) and one cycle offers every agent again.
  const key = `${s.agents}x${s.frameworks}`;
  const r = await runActor({ name: key, agents: s.agents, frameworks: s.frameworks, roles: s.roles, agentResources: s.agentResources, refuseSeconds: 5, cycles: ALLOCATOR_ROUNDS });
  // Every round offers every agent; the median round, like the sliced window.
  return (s.agents * 1000) / quantile(r.roundMs, 0.5);
}

/** Runs `job` in a fresh OS process (`offers-child.ts`) and returns its result. */
async function inChild<T extends OffersSummary | number>(job: OffersJob): Promise<T> {
  const script = fileURLToPath(new URL('./offers-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || line === undefined) throw new Error(`${job.scenario} (${job.kind === 'offers' ? job.transport : job.kind}): the child run failed (${code ?? signal})`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

/** The bare NATS client's ceiling on this machine, in this run: fan-in throughput and ping-pong latency. */
async function busCeiling(nats: NatsServer, quick: boolean): Promise<{ fanInPerSecond: number; oneWayP50Us: number }> {
  const fanIn = runtimeScenarios.find((r) => r.name === 'fan-in')!;
  const pingPong = runtimeScenarios.find((r) => r.name === 'ping-pong')!;
  const divisor = quick ? QUICK_DIVISOR : QUICK_DIVISOR / 2;
  const f = await runBare(fanIn, Math.ceil(fanIn.messages / divisor), nats, envelopeSize(fanIn));
  const p = await runBare(pingPong, Math.ceil(pingPong.messages / divisor), nats, envelopeSize(pingPong));
  return { fanInPerSecond: f.messages / f.seconds, oneWayP50Us: quantile(p.latencies, 0.5) };
}

export async function offersSuite(options: { quick: boolean }): Promise<void> {
  const scenarios = options.quick ? offersScenarios.filter((s) => s.quick === true) : offersScenarios;
  const measureSeconds = (s: OffersScenario) => (options.quick ? Math.min(s.measureSeconds, OFFERS_QUICK_MEASURE_SECONDS) : s.measureSeconds);
  const report = new Report(['suite', 'scenario', 'transport', 'agents', 'frameworks', 'metric', 'value', 'unit']);
  const nats = await startNatsServer();
  const summary: Record<string, string | number>[] = [];
  try {
    const ceiling = await busCeiling(nats, options.quick);
    report.add({ suite: 'offers', scenario: 'bus ceiling', transport: 'nats-bare', agents: '', frameworks: '', metric: 'fan_in_msgs_per_s', value: Math.round(ceiling.fanInPerSecond), unit: 'msgs/s' });
    report.add({ suite: 'offers', scenario: 'bus ceiling', transport: 'nats-bare', agents: '', frameworks: '', metric: 'one_way_p50', value: round(ceiling.oneWayP50Us), unit: 'us' });

    // The allocator actor alone on each shape, as the allocator suite measures it (declines
    // with a filter, re-offered every cycle). Every measurement runs in a fresh OS process.
    const allocatorRate = new Map<string, number>();
    for (const s of scenarios) {
      const key = `${s.agents}x${s.frameworks}`;
      if (allocatorRate.has(key)) continue;
      // Its rounds are short (2 to 10 ms), so one process's run moves with the machine: the
      // median of a few.
      const rates: number[] = [];
      for (let i = 0; i < ALLOCATOR_RUNS; i++) rates.push(await inChild<number>({ kind: 'allocator-alone', scenario: s.name }));
      const rate = quantile(rates, 0.5);
      allocatorRate.set(key, rate);
      report.add({ suite: 'offers', scenario: `${s.agents} x ${s.frameworks} allocator alone`, transport: 'local', agents: s.agents, frameworks: s.frameworks, metric: 'offers_per_s', value: Math.round(rate), unit: 'offers/s' });
    }

    const localRate = new Map<string, number>();
    for (const s of scenarios) {
      for (const transport of ['local', 'local-json', 'nats', 'nats-split'] as OffersTransport[]) {
        const r = await inChild<OffersSummary>({ kind: 'offers', scenario: s.name, transport, measureSeconds: measureSeconds(s), natsUrl: nats.url });
        const row = (metric: string, value: number, unit: string) =>
          report.add({ suite: 'offers', scenario: s.name, transport, agents: s.agents, frameworks: s.frameworks, metric, value, unit });
        const rate = quantile(r.sliceRates, 0.5);
        const envelopesPerOffer = r.busEnvelopes / r.offers;
        row('offers', r.offers, 'offers');
        row('offers_per_s', Math.round(rate), 'offers/s');
        row('offers_per_s_mean', Math.round(r.offers / r.seconds), 'offers/s');
        if (s.mode === 'accept') {
          row('tasks_finished', r.finished, 'tasks');
          row('launch_to_running_p50', round(r.latencyP50Ms, 2), 'ms');
          row('launch_to_running_p99', round(r.latencyP99Ms, 2), 'ms');
        } else {
          row('offers_declined', r.declined, 'offers');
        }
        row('bus_envelopes_per_s', Math.round(r.busEnvelopes / r.seconds), 'envelopes/s');
        row('bus_envelopes_per_offer', round(envelopesPerOffer, 2), 'envelopes');
        // CPU per offer: on `local` and `nats` the whole cluster (one OS process); on `nats-split`
        // this process is the schedulers and agents, and the master's process is counted apart.
        const cpuPerOffer = (1000 * r.cpuMs) / r.offers;
        row('cpu_per_offer', round(cpuPerOffer, 1), 'us');
        const masterCpuPerOffer = r.masterCpuMs === undefined ? undefined : (1000 * r.masterCpuMs) / r.offers;
        if (r.masterCpuMs !== undefined && masterCpuPerOffer !== undefined) {
          row('master_cpu_per_offer', round(masterCpuPerOffer, 1), 'us');
          row('master_cpu_busy', Math.round((100 * r.masterCpuMs) / (1000 * r.seconds)), '%');
        }
        const alone = allocatorRate.get(`${s.agents}x${s.frameworks}`)!;
        if (transport === 'local') localRate.set(s.name, rate);
        const local = localRate.get(s.name);
        summary.push({
          scenario: s.name,
          transport,
          'offers/s': Math.round(rate),
          'run p50 ms': s.mode === 'accept' ? round(r.latencyP50Ms, 2) : '',
          'run p99 ms': s.mode === 'accept' ? round(r.latencyP99Ms, 2) : '',
          'env/offer': round(envelopesPerOffer, envelopesPerOffer < 1 ? 2 : 1),
          'allocator alone': Math.round(alone),
          'alone/e2e': `${round(alone / rate, 1)}x`,
          'vs local': transport !== 'local' && local !== undefined ? `${Math.round((100 * rate) / local)}%` : '',
          'bus/bare': transport === 'nats' || transport === 'nats-split' ? `${Math.round((100 * r.busEnvelopes) / r.seconds / ceiling.fanInPerSecond)}%` : '',
          'cpu µs/offer': round(cpuPerOffer, 1),
          'master cpu µs/offer': masterCpuPerOffer === undefined ? '' : round(masterCpuPerOffer, 1),
          'master busy': r.masterCpuMs === undefined ? '' : `${Math.round((100 * r.masterCpuMs) / (1000 * r.seconds))}%`,
        });
      }
    }
    const table = new Report(Object.keys(summary[0] ?? {}));
    table.rows.push(...summary);
    console.log('');
    table.table(
      `Summary (one run, this machine). run = launch → TASK_RUNNING; env/offer = bus envelopes per offer; ` +
        `cpu µs/offer = this OS process's CPU time per offer (the whole cluster, except on nats-split: schedulers and agents); ` +
        `master cpu = the master's own process on nats-split, busy = its share of one core over the window; ` +
        `bus/bare = envelopes/s over the bare client's fan-in msgs/s (${Math.round(ceiling.fanInPerSecond)}); bare one-way p50 ${round(ceiling.oneWayP50Us)} µs`,
    );
  } finally {
    await nats.stop();
  }
}
