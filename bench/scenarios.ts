/**
 * Benchmark scenarios as data (after Temporal's `load/` scenarios): each suite reads its list
 * here, so a run is described by what it does, not by code paths.
 */

/** A runtime messaging scenario: `senders` processes stream to one receiver with credit-based flow control. */
export interface RuntimeScenario {
  readonly name: string;
  /** Sending processes, each on its own node (its own bus connection on `nats`). */
  readonly senders: number;
  /** Messages each sender sends (full run). */
  readonly messages: number;
  /** Messages in flight per sender; 1 makes it a strict ping-pong (request, reply). */
  readonly window: number;
  /** Bytes of padding in each body (the whole envelope is about 100 bytes more). */
  readonly padding: number;
}

export const runtimeScenarios: RuntimeScenario[] = [
  { name: 'ping-pong', senders: 1, messages: 20_000, window: 1, padding: 64 },
  { name: 'one-way', senders: 1, messages: 1_000_000, window: 4_000, padding: 64 },
  { name: 'fan-in', senders: 8, messages: 125_000, window: 2_000, padding: 64 },
];

/** `--quick` divides message counts by this. */
export const QUICK_DIVISOR = 10;

/**
 * An allocator scenario, shaped like Mesos's `HierarchicalAllocator_BENCHMARK_Test`s: `agents`
 * identical agents, `frameworks` frameworks spread round-robin over `roles` roles (DRF for
 * both levels), every framework declining every offer with `refuseSeconds`, so each cycle
 * offers every agent again to a framework that has not declined it lately.
 */
export interface AllocatorScenario {
  readonly name: string;
  readonly agents: number;
  readonly frameworks: number;
  readonly roles: number;
  /** Each agent's resources, in the Mesos text form. */
  readonly agentResources: string;
  /** The decline filter every framework installs. */
  readonly refuseSeconds: number;
  /** Measured allocation cycles (after one warm-up cycle). */
  readonly cycles: number;
}

const AGENT_RESOURCES = 'cpus:16;mem:65536;disk:1048576;ports:[31000-32000]';

export const allocatorScenarios: AllocatorScenario[] = [
  { name: '1k x 10', agents: 1_000, frameworks: 10, roles: 2, agentResources: AGENT_RESOURCES, refuseSeconds: 5, cycles: 10 },
  { name: '1k x 100', agents: 1_000, frameworks: 100, roles: 10, agentResources: AGENT_RESOURCES, refuseSeconds: 5, cycles: 10 },
  { name: '10k x 100', agents: 10_000, frameworks: 100, roles: 10, agentResources: AGENT_RESOURCES, refuseSeconds: 5, cycles: 10 },
  { name: '10k x 1k', agents: 10_000, frameworks: 1_000, roles: 100, agentResources: AGENT_RESOURCES, refuseSeconds: 5, cycles: 10 },
  { name: '50k x 200', agents: 50_000, frameworks: 200, roles: 20, agentResources: AGENT_RESOURCES, refuseSeconds: 5, cycles: 5 },
];

/** `--quick` runs the first this many allocator scenarios, with agents divided by `QUICK_DIVISOR`. */
export const ALLOCATOR_QUICK_SCENARIOS = 3;

/**
 * An end-to-end offers scenario: a master and its allocator, `agents` emulated agents and
 * `frameworks` scheduler drivers (spread round-robin over `roles` roles), each agent and each
 * driver in a runtime of its own. `accept`: every offer is accepted with one no-op task using
 * all of it, which the agent reports RUNNING then FINISHED at once; the freed agent is offered
 * again. `decline`: every offer is declined with `refuseSeconds`, and the agent offered again
 * to another framework.
 */
export interface OffersScenario {
  readonly name: string;
  readonly agents: number;
  readonly frameworks: number;
  readonly roles: number;
  readonly mode: 'accept' | 'decline';
  /**
   * The decline filter. Short on purpose: the suite measures how fast offers turn over, not
   * how long filters last (with Mesos's 5 s default, 100 agents × 10 frameworks could see at
   * most 200 offers/s whatever the master's speed). Shorter than an agent's way round every
   * framework: a filter's expiry triggers no allocation (as in Mesos), so an agent that every
   * framework declined within one filter's life waits for the next batch cycle, 1 s away. With
   * 10 ms, 100 × 10 ran either at about 70,000 offers/s or, once declines came back faster
   * than a framework's filter expired, at about 1,000 (README, `offers` finding 12).
   */
  readonly refuseSeconds: number;
  readonly agentResources: string;
  /** Seconds of traffic before the measured window, and the window. */
  readonly warmupSeconds: number;
  readonly measureSeconds: number;
  /** Agents' `--registration_backoff_factor`; default Mesos's 1 s. */
  readonly registrationBackoffMs?: number;
  /**
   * Emulated agents per runtime (on `nats`, per bus connection). 1 by default: every agent on
   * a connection of its own, as separate machines would be. Sharing connections shrinks the
   * emulation's own bus costs (which a real cluster spreads over N machines, and this bench
   * pays in one process), so that the master's and the schedulers' show.
   */
  readonly agentsPerRuntime?: number;
  /** Part of `--quick`. */
  readonly quick?: boolean;
}

const OFFERS_REFUSE_SECONDS = 0.001;

export const offersScenarios: OffersScenario[] = [
  { name: '100 x 10 accept', agents: 100, frameworks: 10, roles: 2, mode: 'accept', refuseSeconds: OFFERS_REFUSE_SECONDS, agentResources: AGENT_RESOURCES, agentsPerRuntime: 10, warmupSeconds: 1, measureSeconds: 5, quick: true },
  { name: '100 x 10 decline', agents: 100, frameworks: 10, roles: 2, mode: 'decline', refuseSeconds: OFFERS_REFUSE_SECONDS, agentResources: AGENT_RESOURCES, agentsPerRuntime: 10, warmupSeconds: 1, measureSeconds: 5, quick: true },
  { name: '1k x 10 accept', agents: 1_000, frameworks: 10, roles: 2, mode: 'accept', refuseSeconds: OFFERS_REFUSE_SECONDS, agentResources: AGENT_RESOURCES, agentsPerRuntime: 100, warmupSeconds: 1, measureSeconds: 5 },
  { name: '1k x 10 decline', agents: 1_000, frameworks: 10, roles: 2, mode: 'decline', refuseSeconds: OFFERS_REFUSE_SECONDS, agentResources: AGENT_RESOURCES, agentsPerRuntime: 100, warmupSeconds: 1, measureSeconds: 5 },
  { name: '1k x 100 accept', agents: 1_000, frameworks: 100, roles: 10, mode: 'accept', refuseSeconds: OFFERS_REFUSE_SECONDS, agentResources: AGENT_RESOURCES, agentsPerRuntime: 100, warmupSeconds: 1, measureSeconds: 5 },
  { name: '1k x 100 decline', agents: 1_000, frameworks: 100, roles: 10, mode: 'decline', refuseSeconds: OFFERS_REFUSE_SECONDS, agentResources: AGENT_RESOURCES, agentsPerRuntime: 100, warmupSeconds: 1, measureSeconds: 5 },
];

/** `--quick` measures the quick offers scenarios over this many seconds. */
export const OFFERS_QUICK_MEASURE_SECONDS = 2;

/**
 * A scale scenario, after the Mesos paper's scalability experiment (NSDI 2011, §6.5):
 * `agents` emulated agents register with one master (in a process of its own), then one small
 * framework launches `launches` tasks one after another to see what a loaded master adds to
 * a launch.
 */
export interface ScaleScenario {
  readonly name: string;
  readonly agents: number;
  /** Emulated agents per runtime (one bus connection each on `nats`). */
  readonly agentsPerRuntime: number;
  readonly agentResources: string;
  /** Tasks the probe framework launches, one at a time. */
  readonly launches: number;
  /** Agents' `--registration_backoff_factor`; default Mesos's 1 s. */
  readonly registrationBackoffMs?: number;
  /** Part of `--quick`. */
  readonly quick?: boolean;
}

const SCALE_AGENT_RESOURCES = 'cpus:8;mem:6144;disk:65536;ports:[31000-32000]';

export const scaleScenarios: ScaleScenario[] = [
  { name: '1k', agents: 1_000, agentsPerRuntime: 1_000, agentResources: SCALE_AGENT_RESOURCES, launches: 50, quick: true },
  { name: '5k', agents: 5_000, agentsPerRuntime: 1_000, agentResources: SCALE_AGENT_RESOURCES, launches: 50, quick: true },
  { name: '10k', agents: 10_000, agentsPerRuntime: 1_000, agentResources: SCALE_AGENT_RESOURCES, launches: 50 },
  { name: '25k', agents: 25_000, agentsPerRuntime: 1_000, agentResources: SCALE_AGENT_RESOURCES, launches: 50 },
  { name: '50k', agents: 50_000, agentsPerRuntime: 1_000, agentResources: SCALE_AGENT_RESOURCES, launches: 50 },
];
