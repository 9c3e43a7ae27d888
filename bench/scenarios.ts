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
