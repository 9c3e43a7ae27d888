/**
 * `npm run bench -- scale`: after the Mesos paper's scalability experiment (NSDI 2011, §6.5).
 * For each size, a fresh master registers that many emulated agents (`emulated-agent.ts`,
 * `agentsPerRuntime` to a runtime); then one small framework launches a fixed number of
 * no-op tasks one after another.
 *
 * Two ways, in one run:
 * - `nats`: the master (with its allocator) runs in an OS process of its own
 *   (`master-process.ts`), so its memory is its own; agents and the framework run in this
 *   process, one NATS connection per runtime;
 * - `local`: everything in this process on the local bus; memory is this whole process's
 *   (agents and framework included), and says so.
 *
 * Reported per size: time until every agent is registered (from the first spawn; each agent
 * first registers after a random [0, 1 s] as Mesos agents do), registration attempts, the
 * master process's RSS and heap (after a full collection, measured in that process by a
 * probe), its CPU time during registration, the time from the framework's `start` to its
 * first offers, and launch → TASK_RUNNING latency (p50, p99) of the framework's tasks.
 * Checked before reporting: the master counts every agent, and every task finished.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { AllocatorProcess } from '../actors/allocator/allocator-process.ts';
import { Master } from '../actors/master/master-process.ts';
import { SchedulerDriver, type Scheduler } from '../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../src/mesos/resources.ts';
import type { Offer, TaskStatus } from '../src/mesos/v1/common.ts';
import { Clock, wallClockNow } from '../src/process/clock.ts';
import { Runtime } from '../src/process/runtime.ts';
import { UPID } from '../src/process/upid.ts';
import { LocalBus, LocalTransport } from '../src/transport/local.ts';
import { NatsTransport } from '../src/transport/nats.ts';
import type { Transport } from '../src/transport/transport.ts';
import { startNatsServer, type NatsServer } from '../test/helpers/nats-server.ts';
import { EmulatedAgent, EmulatedAgentStats, seededRandom } from './emulated-agent.ts';
import { waitFor } from './offers.ts';
import { Report, benchLogger, quantile, round } from './report.ts';
import { MemoryProbe, ProbeClient, startMasterProcess, stopMasterProcess, type MemoryReport } from './master-probe.ts';
import { scaleScenarios, type ScaleScenario } from './scenarios.ts';

export type ScaleTransport = 'local' | 'nats';

/** Targets from issue 6, for the summary. */
const TARGET_AGENTS = 50_000;
const TARGET_REGISTRATION_S = 60;
const TARGET_RSS_BYTES = 2 * 1024 ** 3;

/** How long registration may take before the run counts as failed. */
const REGISTRATION_TIMEOUT_MS = 300_000;

export interface ScaleResult {
  registrationMs: number;
  registrationAttempts: number;
  empty: MemoryReport;
  registered: MemoryReport;
  afterLaunches: MemoryReport;
  firstOfferMs: number;
  offersInFirstEvent: number;
  latenciesMs: number[];
  finished: number;
}

/** Holds every offer and launches `count` no-op tasks on them, one after another. */
class LaunchProbe implements Scheduler {
  readonly held: Offer[] = [];
  readonly latenciesMs: number[] = [];
  startedAt = 0;
  firstOfferAt: number | undefined;
  offersInFirstEvent = 0;
  launched = 0;
  finished = 0;
  #inFlight: { taskId: string; at: number } | undefined;
  readonly problems: string[] = [];

  constructor(readonly count: number) {}

  resourceOffers(driver: SchedulerDriver, offers: Offer[]): void {
    if (this.firstOfferAt === undefined) {
      this.firstOfferAt = wallClockNow();
      this.offersInFirstEvent = offers.length;
    }
    for (const offer of offers) this.held.push(offer);
    if (this.#inFlight === undefined) this.#launchNext(driver);
  }

  statusUpdate(driver: SchedulerDriver, status: TaskStatus): void {
    const flight = this.#inFlight;
    if (flight === undefined || status.task_id.value !== flight.taskId) return;
    if (status.state === 'TASK_RUNNING') {
      this.latenciesMs.push(wallClockNow() - flight.at);
    } else if (status.state === 'TASK_FINISHED') {
      this.finished++;
      this.#inFlight = undefined;
      this.#launchNext(driver);
    } else {
      this.problems.push(`task ${flight.taskId} is ${status.state}: ${status.message ?? ''}`);
    }
  }

  error(_driver: SchedulerDriver, message: string): void {
    this.problems.push(`error: ${message}`);
  }

  #launchNext(driver: SchedulerDriver): void {
    if (this.launched >= this.count) return;
    const offer = this.held.shift();
    if (offer === undefined) return;
    const taskId = `probe-${++this.launched}`;
    this.#inFlight = { taskId, at: wallClockNow() };
    driver.launchTasks(offer.id, [{ name: 'noop', task_id: { value: taskId }, agent_id: offer.agent_id, resources: offer.resources, command: { value: 'true' } }]);
  }
}

export async function runScale(s: ScaleScenario, transport: ScaleTransport, nats?: NatsServer): Promise<ScaleResult> {
  const logger: Logger = benchLogger();
  const clock = new Clock();
  const bus = new LocalBus();
  const prefix = `scale${Math.random().toString(36).slice(2, 8)}`;
  const makeTransport = (): Transport => (transport === 'nats' ? new NatsTransport({ servers: nats!.url, prefix, logger }) : new LocalTransport(bus));
  const runtimes: Runtime[] = [];
  const start = async (node: string): Promise<Runtime> => {
    const runtime = await Runtime.start({ node, clock, logger, transport: makeTransport() });
    runtimes.push(runtime);
    return runtime;
  };
  let child: ChildProcess | undefined;
  let childExit: Promise<never> | undefined;
  try {
    // The master: in a child process on nats, in a runtime here on the local bus.
    const masterNode = 'scale-master';
    if (transport === 'nats') {
      child = await startMasterProcess(nats!.url, prefix, masterNode);
      const c = child;
      childExit = new Promise<never>((_resolve, reject) => c.once('exit', (code, signal) => reject(new Error(`the master process exited (${code ?? signal})`))));
      childExit.catch(() => undefined);
    } else {
      const runtime = await start(masterNode);
      const master = new Master({ hostname: masterNode });
      runtime.spawn(new AllocatorProcess({ master: `master@${masterNode}` }));
      runtime.spawn(master);
      runtime.spawn(new MemoryProbe(master));
    }
    const masterPid = new UPID('master', masterNode);
    const benchRuntime = await start('scale-bench');
    const client = new ProbeClient(new UPID('bench-probe', masterNode));
    benchRuntime.spawn(client);
    const ask = (): Promise<MemoryReport> => (childExit === undefined ? client.request() : Promise.race([client.request(), childExit]));
    const empty = await ask();

    // Registration.
    const stats = new EmulatedAgentStats();
    const resources = Resources.parse(s.agentResources).toJSON();
    const random = seededRandom(s.agents);
    const agentRuntimes: Runtime[] = [];
    for (let i = 0; i < Math.ceil(s.agents / s.agentsPerRuntime); i++) agentRuntimes.push(await start(`scale-agents-${i}`));
    const started = wallClockNow();
    for (let i = 0; i < s.agents; i++) {
      const runtime = agentRuntimes[Math.floor(i / s.agentsPerRuntime)]!;
      runtime.spawn(new EmulatedAgent(`slave(${i + 1})`, { master: masterPid, resources, hostname: `agent-${i}`, stats, random, backoffFactorMs: s.registrationBackoffMs }));
    }
    const registeredAll = waitFor(() => `${s.agents} agents to register (${stats.registered} so far)`, () => stats.registered === s.agents, REGISTRATION_TIMEOUT_MS);
    await (childExit === undefined ? registeredAll : Promise.race([registeredAll, childExit]));
    const registrationMs = wallClockNow() - started;
    const registered = await ask();
    if (registered.agents !== s.agents) throw new Error(`${s.name} (${transport}): the master counts ${registered.agents} agents of ${s.agents}`);

    // The framework's launches.
    const frameworkRuntime = await start('scale-framework');
    const probe = new LaunchProbe(s.launches);
    const driver = new SchedulerDriver(probe, { user: 'bench', name: 'scale-probe' }, masterPid, { runtime: frameworkRuntime, random: seededRandom(7) });
    probe.startedAt = wallClockNow();
    await driver.start();
    const launchesDone = waitFor(() => `${s.launches} tasks to finish (${probe.finished} so far)`, () => probe.finished === s.launches || probe.problems.length > 0, REGISTRATION_TIMEOUT_MS);
    await (childExit === undefined ? launchesDone : Promise.race([launchesDone, childExit]));
    if (probe.problems.length > 0) throw new Error(`${s.name} (${transport}): ${probe.problems.join('; ')}`);
    if (probe.latenciesMs.length !== s.launches) throw new Error(`${s.name} (${transport}): ${probe.latenciesMs.length} TASK_RUNNING for ${s.launches} tasks`);
    const afterLaunches = await ask();
    if (afterLaunches.frameworks !== 1) throw new Error(`${s.name} (${transport}): the master has ${afterLaunches.frameworks} frameworks, not 1`);

    return {
      registrationMs,
      registrationAttempts: stats.registrationAttempts,
      empty,
      registered,
      afterLaunches,
      firstOfferMs: probe.firstOfferAt! - probe.startedAt,
      offersInFirstEvent: probe.offersInFirstEvent,
      latenciesMs: probe.latenciesMs,
      finished: probe.finished,
    };
  } finally {
    await Promise.all(runtimes.map((r) => r.shutdown()));
    if (child !== undefined) await stopMasterProcess(child);
  }
}

const MB = 1024 * 1024;

export async function scaleSuite(options: { quick: boolean }): Promise<void> {
  const scenarios = options.quick ? scaleScenarios.filter((s) => s.quick === true) : scaleScenarios;
  const report = new Report(['suite', 'scenario', 'transport', 'agents', 'frameworks', 'metric', 'value', 'unit']);
  const summary: Record<string, string | number>[] = [];
  // nats-server's defaults (1 MB max_payload): the master splits a cycle's offers into OFFERS
  // events of at most MAX_OFFERS_PER_EVENT, about 250 kB each.
  const nats = await startNatsServer();
  try {
    for (const s of scenarios) {
      for (const transport of ['nats', 'local'] as ScaleTransport[]) {
        const r = await runScale(s, transport, nats);
        const row = (metric: string, value: number, unit: string) =>
          report.add({ suite: 'scale', scenario: s.name, transport, agents: s.agents, frameworks: 1, metric, value, unit });
        const who = transport === 'nats' ? 'master' : 'process';
        row('registration', round(r.registrationMs / 1000, 2), 's');
        row('registration_attempts', r.registrationAttempts, 'messages');
        row(`${who}_rss_empty`, round(r.empty.rss / MB), 'MB');
        row(`${who}_rss`, round(r.registered.rss / MB), 'MB');
        row(`${who}_heap_used`, round(r.registered.heapUsed / MB), 'MB');
        row(`${who}_heap_per_agent`, round((r.registered.heapUsed - r.empty.heapUsed) / s.agents / 1024, 2), 'kB');
        row(`${who}_cpu_registration`, round((r.registered.cpuMs - r.empty.cpuMs) / 1000, 2), 's');
        row(`${who}_rss_after_launches`, round(r.afterLaunches.rss / MB), 'MB');
        row('first_offer', round(r.firstOfferMs), 'ms');
        row('offers_in_first_event', r.offersInFirstEvent, 'offers');
        row('tasks_finished', r.finished, 'tasks');
        row('launch_to_running_p50', round(quantile(r.latenciesMs, 0.5), 2), 'ms');
        row('launch_to_running_p99', round(quantile(r.latenciesMs, 0.99), 2), 'ms');
        summary.push({
          agents: s.name,
          transport,
          'registration s': round(r.registrationMs / 1000, 2),
          attempts: r.registrationAttempts,
          'RSS MB': round(r.registered.rss / MB),
          'heap MB': round(r.registered.heapUsed / MB),
          'kB/agent': round((r.registered.heapUsed - r.empty.heapUsed) / s.agents / 1024, 1),
          'first offer ms': round(r.firstOfferMs),
          'run p50 ms': round(quantile(r.latenciesMs, 0.5), 2),
          'run p99 ms': round(quantile(r.latenciesMs, 0.99), 2),
          target:
            s.agents === TARGET_AGENTS && transport === 'nats'
              ? r.registrationMs < TARGET_REGISTRATION_S * 1000 && r.registered.rss < TARGET_RSS_BYTES
                ? 'met'
                : 'missed'
              : '',
        });
      }
    }
  } finally {
    await nats.stop();
  }
  const table = new Report(Object.keys(summary[0] ?? {}));
  table.rows.push(...summary);
  console.log('');
  table.table(
    'Summary (one run, this machine). nats: the master in a process of its own, memory is its own; ' +
      'local: one process, memory includes the agents. run = launch → TASK_RUNNING. ' +
      `Target: ${TARGET_AGENTS} agents in < ${TARGET_REGISTRATION_S} s with master RSS < 2 GB`,
  );
}
