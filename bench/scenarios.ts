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
