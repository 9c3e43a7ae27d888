/**
 * `npm run bench -- allocator`: the hierarchical DRF allocator at cluster scale, after Mesos's
 * `HierarchicalAllocator_BENCHMARK_Test`s. For each scenario (agents × frameworks over roles),
 * every framework declines every offer with a filter (`refuse_seconds`), so every cycle offers
 * every agent again, each to a framework that has not declined it lately.
 *
 * Two ways, in one run:
 * - `none`: `HierarchicalAllocation` called directly (the policy alone), time in `now`;
 * - `local`: the `AllocatorProcess` actor fed by a master process in the same runtime, on a
 *   paused Clock: adds and declines are messages, offers arrive as `Allocator.Offers`.
 *
 * Metrics: time to add the agents and the frameworks; ms per full allocation cycle over the
 * measured cycles (p50 and max; one warm-up cycle first); offers per second (policy: over the
 * cycles alone; actor: over whole rounds, declines and messages included); and, for the
 * actor, ms per round (declines sent → the cycle they trigger → its offers at the master).
 */
import { AllocatorProcess } from '../actors/allocator/allocator-process.ts';
import { ALLOCATION_INTERVAL_MS } from '../actors/allocator/constants.ts';
import { HierarchicalAllocation, type Offer } from '../actors/allocator/hierarchical.ts';
import {
  ALLOCATOR_ADD_AGENT,
  ALLOCATOR_ADD_FRAMEWORK,
  ALLOCATOR_OFFERS,
  ALLOCATOR_PAUSE,
  ALLOCATOR_RECOVER_RESOURCES,
  ALLOCATOR_RESUME,
  type AddAgent,
  type AddFramework,
  type Offers,
  type RecoverResources,
} from '../actors/allocator/protocol.ts';
import { Resources } from '../src/mesos/resources.ts';
import { Clock, wallClockNow } from '../src/process/clock.ts';
import { Process } from '../src/process/process.ts';
import { Runtime } from '../src/process/runtime.ts';
import type { UPID } from '../src/process/upid.ts';
import { LocalBus, LocalTransport } from '../src/transport/local.ts';
import { Report, benchLogger, quantile, round } from './report.ts';
import { ALLOCATOR_QUICK_SCENARIOS, QUICK_DIVISOR, allocatorScenarios, type AllocatorScenario } from './scenarios.ts';

type Transport = 'none' | 'local';

export interface Result {
  addAgentsMs: number;
  addFrameworksMs: number;
  /** One per measured cycle. */
  cycleMs: number[];
  /** Actor only: declines sent → offers received, one per measured cycle. */
  roundMs: number[];
  offers: number;
  /** The time the offers per second are computed over. */
  offerSeconds: number;
}

const agentId = (i: number): string => `agent-${i}`;
const frameworkId = (i: number): string => `framework-${i}`;
const roleOf = (s: AllocatorScenario, i: number): string => `role-${i % s.roles}`;

/** Throws unless a cycle offered something and offered every agent: a run that did no work proves nothing. */
function checkCycle(s: AllocatorScenario, where: string, agents: Iterable<string>, count: number): void {
  if (count === 0) throw new Error(`${s.name} (${where}): a cycle made no offers`);
  const offered = new Set(agents);
  if (offered.size !== s.agents) throw new Error(`${s.name} (${where}): a cycle offered ${offered.size} of ${s.agents} agents`);
}

function runPolicy(s: AllocatorScenario): Result {
  const allocation = new HierarchicalAllocation();
  let started = wallClockNow();
  // One `Resources` per agent, as agents registering one by one have (one shared object would
  // flatter the cycle: every agent's resources in one cache line).
  for (let i = 0; i < s.agents; i++) allocation.addAgent(agentId(i), Resources.parse(s.agentResources));
  const addAgentsMs = wallClockNow() - started;
  started = wallClockNow();
  for (let i = 0; i < s.frameworks; i++) allocation.addFramework(frameworkId(i), { roles: [roleOf(s, i)] });
  const addFrameworksMs = wallClockNow() - started;

  const cycleMs: number[] = [];
  let offers = 0;
  let now = 0;
  for (let cycle = 0; cycle <= s.cycles; cycle++, now += ALLOCATION_INTERVAL_MS) {
    started = wallClockNow();
    const made: Offer[] = allocation.allocate(now);
    const elapsed = wallClockNow() - started;
    checkCycle(s, 'none', made.map((o) => o.agentId), made.length);
    if (cycle > 0) {
      cycleMs.push(elapsed);
      offers += made.length;
    }
    for (const o of made) allocation.recoverResources(o.frameworkId, o.agentId, o.resources, { now, refuseSeconds: s.refuseSeconds });
  }
  const offerSeconds = cycleMs.reduce((a, b) => a + b, 0) / 1000;
  return { addAgentsMs, addFrameworksMs, cycleMs, roundMs: [], offers, offerSeconds };
}

/** Plays the master: holds each cycle's offers until the bench declines them. */
class BenchMaster extends Process {
  held: Offers['offers'][] = [];
  constructor() {
    super('master');
    this.install(ALLOCATOR_OFFERS, (_from, body: Offers) => this.held.push(body.offers));
  }

  /** Declines every held offer with a filter; returns how many. */
  declineAll(allocator: UPID, refuseSeconds: number): number {
    let n = 0;
    for (const offers of this.held) {
      for (const o of offers) {
        n++;
        this.send(allocator, ALLOCATOR_RECOVER_RESOURCES, {
          framework_id: o.framework_id,
          agent_id: o.agent_id,
          resources: o.resources,
          refuse_seconds: refuseSeconds,
        } satisfies RecoverResources);
      }
    }
    this.held = [];
    return n;
  }
}

export async function runActor(s: AllocatorScenario): Promise<Result> {
  const clock = new Clock();
  clock.pause();
  const runtime = await Runtime.start({ node: 'bench-allocator', clock, transport: new LocalTransport(new LocalBus()), logger: benchLogger('error') });
  try {
    const master = new BenchMaster();
    runtime.spawn(master);
    const allocator = new AllocatorProcess({ master: master.self });
    const to = runtime.spawn(allocator);
    const runs = () => runtime.metrics.counter('allocator/mesos/allocation_runs').value;
    const runMs = runtime.metrics.timer('allocator/mesos/allocation_run_ms');
    await runtime.settle();

    const total = Resources.parse(s.agentResources).toJSON();
    let started = wallClockNow();
    for (let i = 0; i < s.agents; i++) master.send(to, ALLOCATOR_ADD_AGENT, { agent_id: agentId(i), total } satisfies AddAgent);
    await runtime.settle();
    const addAgentsMs = wallClockNow() - started;

    // As Mesos's benchmark does, pause while adding frameworks; the resume makes the first cycle.
    master.send(to, ALLOCATOR_PAUSE, {});
    started = wallClockNow();
    for (let i = 0; i < s.frameworks; i++) master.send(to, ALLOCATOR_ADD_FRAMEWORK, { framework_id: frameworkId(i), roles: [roleOf(s, i)], active: true } satisfies AddFramework);
    await runtime.settle();
    const addFrameworksMs = wallClockNow() - started;
    master.send(to, ALLOCATOR_RESUME, {});
    await runtime.settle();
    const firstCycle = master.held.flat();
    checkCycle(s, 'local', firstCycle.map((o) => o.agent_id), firstCycle.length);

    const cycleMs: number[] = [];
    const roundMs: number[] = [];
    let offers = 0;
    for (let cycle = 0; cycle < s.cycles; cycle++) {
      const before = runs();
      started = wallClockNow();
      // The declines trigger one event cycle over the agents they free: every agent.
      master.declineAll(to, s.refuseSeconds);
      await runtime.settle();
      roundMs.push(wallClockNow() - started);
      if (runs() !== before + 1) throw new Error(`${s.name} (local): ${runs() - before} cycles in one round`);
      cycleMs.push(runMs.last);
      const made = master.held.flat();
      checkCycle(s, 'local', made.map((o) => o.agent_id), made.length);
      offers += made.length;
      // The batch cycle of the next interval finds every agent offered, and offers nothing.
      clock.advance(ALLOCATION_INTERVAL_MS);
      await runtime.settle();
    }
    const offerSeconds = roundMs.reduce((a, b) => a + b, 0) / 1000;
    return { addAgentsMs, addFrameworksMs, cycleMs, roundMs, offers, offerSeconds };
  } finally {
    await runtime.shutdown();
  }
}

export async function allocatorSuite(options: { quick: boolean }): Promise<void> {
  const scenarios = options.quick
    ? allocatorScenarios.slice(0, ALLOCATOR_QUICK_SCENARIOS).map((s) => ({ ...s, name: `${s.name} /${QUICK_DIVISOR}`, agents: Math.ceil(s.agents / QUICK_DIVISOR) }))
    : allocatorScenarios;
  const report = new Report(['suite', 'scenario', 'transport', 'agents', 'frameworks', 'metric', 'value', 'unit']);
  const summary = new Report(['scenario', 'transport', 'add agents ms', 'add frameworks ms', 'cycle p50 ms', 'cycle max ms', 'round p50 ms', 'offers/s']);
  for (const s of scenarios) {
    for (const transport of ['none', 'local'] as Transport[]) {
      const r = transport === 'none' ? runPolicy(s) : await runActor(s);
      const row = (metric: string, value: number, unit: string) =>
        report.add({ suite: 'allocator', scenario: s.name, transport, agents: s.agents, frameworks: s.frameworks, metric, value, unit });
      const offersPerSecond = Math.round(r.offers / r.offerSeconds);
      row('add_agents', round(r.addAgentsMs), 'ms');
      row('add_frameworks', round(r.addFrameworksMs), 'ms');
      row('cycle_p50', round(quantile(r.cycleMs, 0.5)), 'ms');
      row('cycle_max', round(Math.max(...r.cycleMs)), 'ms');
      if (r.roundMs.length > 0) {
        row('round_p50', round(quantile(r.roundMs, 0.5)), 'ms');
        row('round_max', round(Math.max(...r.roundMs)), 'ms');
      }
      row('offers', r.offers, 'offers');
      row('offers_per_s', offersPerSecond, 'offers/s');
      summary.rows.push({
        scenario: s.name,
        transport,
        'add agents ms': round(r.addAgentsMs),
        'add frameworks ms': round(r.addFrameworksMs),
        'cycle p50 ms': round(quantile(r.cycleMs, 0.5)),
        'cycle max ms': round(Math.max(...r.cycleMs)),
        'round p50 ms': r.roundMs.length > 0 ? round(quantile(r.roundMs, 0.5)) : '',
        'offers/s': offersPerSecond,
      });
    }
  }
  summary.table('Summary (one run, this machine; cycle = one allocation over every agent)');
}
