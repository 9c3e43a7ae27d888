/**
 * The allocator actor (Mesos's `HierarchicalAllocatorProcess`): the hierarchical DRF policy of
 * `hierarchical.ts` behind the master ↔ allocator messages of `protocol.ts`.
 *
 * Responsibilities:
 * 1. Keep the policy's books from the master's messages: agents, frameworks, roles, weights,
 *    quota, resources recovered (with decline filters), suppress and revive, and resources
 *    converted by reservations (`updateAllocation` for offer operations, `updateAvailable`
 *    for the operator's, which is answered: it fails when the agent has not that much free).
 * 2. Allocate in batches: a cycle over every agent each `allocationIntervalMs` (Mesos's
 *    `--allocation_interval`), the next one armed once the last has run.
 * 3. Allocate soon after events that add or free resources (an agent or framework added or
 *    activated, resources recovered, a revive, a resume), coalesced as Mesos does
 *    (`allocationCandidates` and one pending dispatch): however many events arrive, at most
 *    one event cycle is pending, over the agents they named (every agent if one named all).
 *    It runs on the next turn of the event loop, so every event of this turn joins it.
 * 4. Send each cycle's offers to the master as one `Allocator.Offers` message; an empty cycle
 *    sends nothing.
 * 5. Stop cycles while `PAUSED` (`Allocator.Pause` / `Allocator.Resume`).
 * 6. Publish Mesos's allocator metrics under `<id>/mesos/`: `allocation_runs`,
 *    `allocation_run_ms`, `allocation_run_latency_ms`, `event_queue_dispatches`,
 *    `resources/<cpus|mem|disk|gpus>/total` and `/offered_or_allocated`, and (ours)
 *    `offers_made`. No per-role metric is published yet, so neither are Mesos's quota gauges
 *    (`quota/roles/<role>/resources/<name>/guarantee` and `/limit`).
 *
 * Bad input (a malformed body, an unknown framework or agent, an invalid role) is logged,
 * counted in `<id>/invalid_messages` when malformed, and ignored.
 *
 * @example
 * const allocator = runtime.spawn(new AllocatorProcess({ master: 'master@m1' }));
 * // master: send(allocator, ALLOCATOR_ADD_AGENT, { agent_id: 'a1', total: Resources.parse('cpus:4').toJSON() })
 */

import { createActor, type Actor } from 'xstate';
import { MesosError } from '../../src/errors.ts';
import type { Counter, TimerMetric } from '../../src/metrics/metrics.ts';
import { wallClockNow } from '../../src/process/clock.ts';
import { Process } from '../../src/process/process.ts';
import type { Timer } from '../../src/process/clock.ts';
import { UPID } from '../../src/process/upid.ts';
import { allocatorMachine } from './allocator.machine.ts';
import { ALLOCATION_INTERVAL_MS } from './constants.ts';
import { HierarchicalAllocation, type HierarchicalAllocationOptions, type Offer } from './hierarchical.ts';
import * as parse from './messages.ts';
import {
  ALLOCATOR_ACTIVATE_AGENT,
  ALLOCATOR_ACTIVATE_FRAMEWORK,
  ALLOCATOR_ADD_AGENT,
  ALLOCATOR_ADD_FRAMEWORK,
  ALLOCATOR_DEACTIVATE_AGENT,
  ALLOCATOR_DEACTIVATE_FRAMEWORK,
  ALLOCATOR_OFFERS,
  ALLOCATOR_PAUSE,
  ALLOCATOR_RECOVER_RESOURCES,
  ALLOCATOR_REMOVE_AGENT,
  ALLOCATOR_REMOVE_FRAMEWORK,
  ALLOCATOR_REMOVE_QUOTA,
  ALLOCATOR_RESUME,
  ALLOCATOR_REVIVE,
  ALLOCATOR_SET_QUOTA,
  ALLOCATOR_SUPPRESS,
  ALLOCATOR_UPDATE_AGENT,
  ALLOCATOR_UPDATE_ALLOCATION,
  ALLOCATOR_UPDATE_AVAILABLE,
  ALLOCATOR_UPDATE_AVAILABLE_RESULT,
  ALLOCATOR_UPDATE_FRAMEWORK,
  ALLOCATOR_UPDATE_WEIGHTS,
  type Offers,
  type UpdateAvailableResult,
} from './protocol.ts';
import { applyConversions } from '../../src/mesos/resource-conversions.ts';
import type { Resources } from '../../src/mesos/resources.ts';
import { DRFSorter } from './sorter/drf.ts';
import { RandomSorter } from './sorter/random.ts';
import type { SorterFactory } from './sorter/sorter.ts';

/** The sorters Mesos offers (`--role_sorter`, `--framework_sorter`). */
export type SorterKind = 'drf' | 'random';

export interface AllocatorOptions {
  /** The process id; default `allocator`. */
  readonly id?: string;
  /** Where offers go; default: the sender of the most recent valid message. */
  readonly master?: UPID | string;
  /** Time between batch cycles over every agent; default `ALLOCATION_INTERVAL_MS`. */
  readonly allocationIntervalMs?: number;
  /** Sorter of roles and of the frameworks in a role; default `drf`. */
  readonly sorter?: SorterKind;
  /** Overrides `sorter` for roles (Mesos `--role_sorter`). */
  readonly roleSorter?: SorterKind;
  /** Overrides `sorter` for the frameworks of a role (Mesos `--framework_sorter`). */
  readonly frameworkSorter?: SorterKind;
  /** Seed of the random sorters, so that a run is reproducible; default 0. */
  readonly seed?: number;
  /** `--min_allocatable_resources`; default `DEFAULT_MIN_ALLOCATABLE_RESOURCES`, `''` for none. */
  readonly minAllocatableResources?: string;
  /** `--filter_gpu_resources`; default true. */
  readonly filterGpuResources?: boolean;
}

/** Makes the sorter factories for `HierarchicalAllocation`; random sorters get seeds `seed`, `seed + 1`, ... */
export function sorterFactories(options: Pick<AllocatorOptions, 'sorter' | 'roleSorter' | 'frameworkSorter' | 'seed'>): HierarchicalAllocationOptions {
  let next = options.seed ?? 0;
  const make = (kind: SorterKind): SorterFactory =>
    kind === 'random' ? () => new RandomSorter(next++) : (totals) => new DRFSorter(totals);
  const fallback = options.sorter ?? 'drf';
  return { roleSorter: make(options.roleSorter ?? fallback), frameworkSorter: make(options.frameworkSorter ?? fallback) };
}

export class AllocatorProcess extends Process {
  readonly allocation: HierarchicalAllocation;
  readonly allocationIntervalMs: number;
  readonly #masterOption: UPID | undefined;
  /** The sender of the most recent valid message: where offers go without a `master` option. */
  #lastSender: UPID | undefined;
  readonly #machine: Actor<typeof allocatorMachine>;

  /** Agents the pending cycle covers (Mesos `allocationCandidates`), or all of them. */
  readonly #candidates = new Set<string>();
  #allCandidates = false;
  /** Whether a cycle is dispatched and has not run yet. */
  #dispatched = false;
  /** When it was dispatched (wall clock), for `allocation_run_latency_ms`. */
  #dispatchedAt = 0;
  /** Whether the pending cycle is the batch one, which arms the next batch when it has run. */
  #batchPending = false;
  #batchTimer: Timer | undefined;

  #runs!: Counter;
  #offersMade!: Counter;
  #invalid!: Counter;
  #runMs!: TimerMetric;
  #latencyMs!: TimerMetric;

  constructor(options: AllocatorOptions = {}) {
    super(options.id ?? 'allocator');
    this.allocation = new HierarchicalAllocation({
      ...sorterFactories(options),
      minAllocatableResources: options.minAllocatableResources,
      filterGpuResources: options.filterGpuResources,
    });
    this.allocationIntervalMs = options.allocationIntervalMs ?? ALLOCATION_INTERVAL_MS;
    if (!(this.allocationIntervalMs > 0)) throw new Error(`allocation interval must be positive, got ${this.allocationIntervalMs}`);
    this.#masterOption = options.master === undefined ? undefined : UPID.from(options.master);
    this.#machine = createActor(
      allocatorMachine.provide({
        actions: {
          allocate: () => this.#cycle(),
          paused: () => this.log.info('Allocation paused'),
          resumed: () => {
            this.log.info('Allocation resumed');
            this.#request(undefined);
          },
        },
      }),
      { clock: this.machineClock },
    );

    this.#on(ALLOCATOR_ADD_FRAMEWORK, parse.parseAddFramework, this.addFramework);
    this.#on(ALLOCATOR_REMOVE_FRAMEWORK, parse.parseFrameworkRef, this.removeFramework);
    this.#on(ALLOCATOR_ACTIVATE_FRAMEWORK, parse.parseFrameworkRef, this.activateFramework);
    this.#on(ALLOCATOR_DEACTIVATE_FRAMEWORK, parse.parseFrameworkRef, this.deactivateFramework);
    this.#on(ALLOCATOR_UPDATE_FRAMEWORK, parse.parseUpdateFramework, this.updateFramework);
    this.#on(ALLOCATOR_ADD_AGENT, parse.parseAddAgent, this.addAgent);
    this.#on(ALLOCATOR_REMOVE_AGENT, parse.parseAgentRef, this.removeAgent);
    this.#on(ALLOCATOR_ACTIVATE_AGENT, parse.parseAgentRef, this.activateAgent);
    this.#on(ALLOCATOR_DEACTIVATE_AGENT, parse.parseAgentRef, this.deactivateAgent);
    this.#on(ALLOCATOR_UPDATE_AGENT, parse.parseUpdateAgent, this.updateAgent);
    this.#on(ALLOCATOR_RECOVER_RESOURCES, parse.parseRecover, this.recoverResources);
    this.#on(ALLOCATOR_UPDATE_ALLOCATION, parse.parseUpdateAllocation, this.updateAllocation);
    this.install(ALLOCATOR_UPDATE_AVAILABLE, (from: UPID, body: unknown) => this.updateAvailable(from, body));
    this.#on(ALLOCATOR_SUPPRESS, parse.parseRolesRef, this.suppressOffers);
    this.#on(ALLOCATOR_REVIVE, parse.parseRolesRef, this.reviveOffers);
    this.#on(ALLOCATOR_UPDATE_WEIGHTS, parse.parseUpdateWeights, this.updateWeights);
    this.#on(ALLOCATOR_SET_QUOTA, parse.parseSetQuota, this.setQuota);
    this.#on(ALLOCATOR_REMOVE_QUOTA, parse.parseRemoveQuota, this.removeQuota);
    this.#on(ALLOCATOR_PAUSE, () => undefined, this.pause);
    this.#on(ALLOCATOR_RESUME, () => undefined, this.resume);
  }

  override initialize(): void {
    const prefix = `${this.id}/mesos`;
    this.#runs = this.metrics.counter(`${prefix}/allocation_runs`);
    this.#offersMade = this.metrics.counter(`${prefix}/offers_made`);
    this.#runMs = this.metrics.timer(`${prefix}/allocation_run_ms`);
    this.#latencyMs = this.metrics.timer(`${prefix}/allocation_run_latency_ms`);
    this.metrics.gauge(`${prefix}/event_queue_dispatches`, () => this._mailbox.length);
    for (const name of ['cpus', 'mem', 'disk', 'gpus']) {
      this.metrics.gauge(`${prefix}/resources/${name}/total`, () => this.allocation.scalarQuantity(name).total);
      this.metrics.gauge(`${prefix}/resources/${name}/offered_or_allocated`, () => this.allocation.scalarQuantity(name).offeredOrAllocated);
    }
    this.#invalid = this.counter('invalid_messages');
    this.#machine.start();
    this.#armBatch();
  }

  override finalize(): void {
    this.#batchTimer?.cancel();
    this.#machine.stop();
  }

  /** `IDLE` or `PAUSED`. */
  get state(): string {
    return String(this.#machine.getSnapshot().value);
  }

  // -------------------------------------------------------------------------------------------
  // Frameworks.

  protected addFramework(c: parse.AddFrameworkCommand): void {
    if (this.allocation.hasFramework(c.frameworkId)) {
      this.log.warn({ frameworkId: c.frameworkId }, 'Ignoring addition of a framework already added');
      return;
    }
    this.allocation.addFramework(c.frameworkId, {
      roles: c.roles,
      suppressedRoles: c.suppressedRoles,
      active: c.active,
      used: c.used,
      capabilities: c.capabilities,
    });
    this.log.debug({ frameworkId: c.frameworkId, roles: c.roles }, 'Added framework');
    if (c.active) this.#request(undefined);
  }

  protected removeFramework(frameworkId: string): void {
    // Also frees what an unknown framework was reported to use by agents added before it.
    const agents = [...this.allocation.allocation(frameworkId).keys()];
    this.allocation.removeFramework(frameworkId);
    for (const agentId of agents) this.#request(agentId);
    this.log.debug({ frameworkId }, 'Removed framework');
  }

  protected activateFramework(frameworkId: string): void {
    if (!this.#knownFramework(frameworkId, 'activation')) return;
    this.allocation.activateFramework(frameworkId);
    this.#request(undefined);
  }

  protected deactivateFramework(frameworkId: string): void {
    if (!this.#knownFramework(frameworkId, 'deactivation')) return;
    this.allocation.deactivateFramework(frameworkId);
  }

  protected updateFramework(c: parse.UpdateFrameworkCommand): void {
    if (!this.#knownFramework(c.frameworkId, 'update')) return;
    this.allocation.updateFramework(c.frameworkId, { roles: c.roles, suppressedRoles: c.suppressedRoles, capabilities: c.capabilities });
    this.#request(undefined);
  }

  protected suppressOffers(c: parse.RolesCommand): void {
    if (!this.#knownFramework(c.frameworkId, 'suppress')) return;
    this.allocation.suppress(c.frameworkId, c.roles);
  }

  protected reviveOffers(c: parse.RolesCommand): void {
    if (!this.#knownFramework(c.frameworkId, 'revive')) return;
    this.allocation.revive(c.frameworkId, c.roles);
    this.#request(undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Agents.

  protected addAgent(c: parse.AddAgentCommand): void {
    if (this.allocation.hasAgent(c.agentId)) {
      this.log.warn({ agentId: c.agentId }, 'Ignoring addition of an agent already added');
      return;
    }
    this.allocation.addAgent(c.agentId, c.total, c.used);
    this.#request(c.agentId);
  }

  protected removeAgent(agentId: string): void {
    this.allocation.removeAgent(agentId);
    this.#candidates.delete(agentId);
  }

  protected activateAgent(agentId: string): void {
    if (!this.#knownAgent(agentId, 'activation')) return;
    this.allocation.activateAgent(agentId);
    this.#request(agentId);
  }

  protected deactivateAgent(agentId: string): void {
    if (!this.#knownAgent(agentId, 'deactivation')) return;
    this.allocation.deactivateAgent(agentId);
  }

  protected updateAgent(c: parse.UpdateAgentCommand): void {
    if (!this.#knownAgent(c.agentId, 'update')) return;
    this.allocation.updateAgent(c.agentId, c.total);
    this.#request(c.agentId);
  }

  // -------------------------------------------------------------------------------------------
  // Resources, weights, quota.

  /**
   * Returns resources, with a decline filter when `refuse_seconds` is given, and allocates the
   * agent again soon. A decline with `refuse_seconds: 0` waits for the next batch cycle
   * instead, as every recovery does in Mesos (MESOS-3078): otherwise a framework that declines
   * without a filter would be offered the same resources again at message speed.
   */
  protected recoverResources(c: parse.RecoverCommand): void {
    if (!this.allocation.hasAgent(c.agentId)) {
      // A race Mesos tolerates too: the agent was removed after the offer was made.
      this.log.debug({ agentId: c.agentId, frameworkId: c.frameworkId }, 'Ignoring resources recovered from an unknown agent');
      return;
    }
    // The filter lasts `refuse_seconds`, however short. Mesos stretches it to at least one
    // allocation interval (MESOS-4302) because it allocates no sooner than the next batch cycle,
    // which a shorter filter would not outlive; its own note says allocating on recovery
    // (MESOS-3078) would make that unnecessary. This allocator allocates the agent at once
    // (below), and that allocation sees the filter.
    const filter = c.refuseSeconds === undefined ? undefined : { now: this.clock.now(), refuseSeconds: c.refuseSeconds };
    this.allocation.recoverResources(c.frameworkId, c.agentId, c.resources, filter);
    if (c.refuseSeconds !== 0) this.#request(c.agentId);
  }

  /**
   * Offer operations converted resources a framework holds (Mesos's `updateAllocation`): its
   * allocation and the agent's total follow. What it does not hold is logged and ignored.
   */
  protected updateAllocation(c: parse.UpdateAllocationCommand): void {
    if (!this.#knownAgent(c.agentId, 'allocation update') || !this.#knownFramework(c.frameworkId, 'allocation update')) return;
    for (const { consumed, converted, role } of c.conversions) {
      try {
        this.allocation.updateAllocation(c.frameworkId, c.agentId, consumed, converted, role);
      } catch (error) {
        this.log.error({ frameworkId: c.frameworkId, agentId: c.agentId, reason: (error as Error).message }, 'Ignoring allocation update the books cannot hold');
        return;
      }
    }
    this.#request(c.agentId);
  }

  /**
   * The operator converts free resources of an agent (Mesos's `updateAvailable`): all the
   * conversions apply to what is available there, in order, or none does; the sender hears
   * which (`ALLOCATOR_UPDATE_AVAILABLE_RESULT`). Answered even when malformed, if it has an id.
   */
  protected updateAvailable(from: UPID, body: unknown): void {
    let c: parse.UpdateAvailableCommand;
    try {
      c = parse.parseUpdateAvailable(ALLOCATOR_UPDATE_AVAILABLE, body);
    } catch (error) {
      if (!(error instanceof MesosError)) throw error;
      this.#invalid.inc();
      this.log.warn({ from: String(from), name: ALLOCATOR_UPDATE_AVAILABLE, reason: error.message }, 'Ignoring malformed message');
      const requestId = (body as { request_id?: unknown } | null)?.request_id;
      if (typeof requestId === 'string') this.send(from, ALLOCATOR_UPDATE_AVAILABLE_RESULT, { request_id: requestId, error: error.message } satisfies UpdateAvailableResult);
      return;
    }
    this.#lastSender = from;
    const agent = this.allocation.agent(c.agentId);
    const applied = agent === undefined ? `unknown agent '${c.agentId}'` : applyConversions(agent.available, c.conversions);
    if (typeof applied === 'string') {
      this.send(from, ALLOCATOR_UPDATE_AVAILABLE_RESULT, { request_id: c.requestId, error: applied } satisfies UpdateAvailableResult);
      return;
    }
    // The total changes as what is available does: what is allocated stays as it is.
    const total = applyConversions(agent!.total, c.conversions) as Resources;
    this.allocation.updateAgent(c.agentId, total);
    this.send(from, ALLOCATOR_UPDATE_AVAILABLE_RESULT, { request_id: c.requestId } satisfies UpdateAvailableResult);
    this.#request(c.agentId);
  }

  protected updateWeights(weights: [string, number][]): void {
    // Mesos does not allocate on a weight change; the next cycles follow the new weights.
    this.allocation.updateWeights(weights);
  }

  protected setQuota(c: parse.SetQuotaCommand): void {
    this.allocation.setQuota(c.role, c.guarantee, c.limits);
  }

  protected removeQuota(role: string): void {
    this.allocation.removeQuota(role);
  }

  protected pause(): void {
    this.#machine.send({ type: 'PAUSE' });
  }

  protected resume(): void {
    this.#machine.send({ type: 'RESUME' });
  }

  // -------------------------------------------------------------------------------------------
  // Cycles.

  /** Asks for a cycle soon over `agentId` (every agent if `undefined`); at most one is pending. */
  #request(agentId: string | undefined): void {
    if (agentId === undefined) this.#allCandidates = true;
    else if (!this.#allCandidates) this.#candidates.add(agentId);
    if (this.#dispatched) return;
    this.#dispatched = true;
    this.#dispatchedAt = wallClockNow();
    // On the next turn of the event loop, then through the mailbox (`defer`, which `settle()`
    // waits for): what arrives meanwhile joins the cycle, so a burst of events (many agents
    // re-registering, every framework's declines of one round of offers) makes one cycle.
    // Dispatched at once, cycles ran over what one mailbox drain held: about 9 agents each at 1k
    // agents × 100 frameworks declining, against 100 or more on the next turn (offers bench,
    // finding 14).
    this.defer(nextTurn(), () => this._allocate());
  }

  #armBatch(): void {
    this.#batchTimer = this.delay(this.allocationIntervalMs, () => {
      this.#batchTimer = undefined;
      this.#batchPending = true;
      this.#request(undefined);
    });
  }

  /** The dispatched cycle: one `ALLOCATE` for the machine, whose action runs `#cycle` unless paused. */
  protected _allocate(): void {
    this.#dispatched = false;
    this.#latencyMs.record(wallClockNow() - this.#dispatchedAt);
    this.#machine.send({ type: 'ALLOCATE' });
    this.#allCandidates = false;
    this.#candidates.clear();
    if (this.#batchPending) {
      this.#batchPending = false;
      this.#armBatch();
    }
  }

  /** One allocation cycle (the machine's `allocate` action): allocate, then send the offers. */
  #cycle(): void {
    this.#runs.inc();
    const started = wallClockNow();
    let offers: Offer[];
    try {
      // Every agent a candidate (declines of a whole cycle's offers): no per-id look-ups.
      const all = this.#allCandidates || this.#candidates.size >= this.allocation.agentCount;
      offers = this.allocation.allocate(this.clock.now(), all ? undefined : this.#candidates);
    } catch (error) {
      // An exception here would stop the machine; log it and let the next cycle try again.
      this.log.error({ err: error }, 'Allocation cycle failed');
      return;
    }
    if (offers.length > 0) this.#sendOffers(offers);
    this.#runMs.record(wallClockNow() - started);
  }

  #sendOffers(offers: Offer[]): void {
    const master = this.#masterOption ?? this.#lastSender;
    if (master === undefined) {
      // Cannot happen with a master feeding the allocator; give the resources back.
      this.log.warn({ offers: offers.length }, 'Dropping offers: no master known');
      for (const o of offers) this.allocation.recoverResources(o.frameworkId, o.agentId, o.resources);
      return;
    }
    const body: Offers = {
      offers: offers.map((o) => ({ framework_id: o.frameworkId, role: o.role, agent_id: o.agentId, resources: o.resources.toJSON() })),
    };
    this.#offersMade.inc(offers.length);
    this.send(master, ALLOCATOR_OFFERS, body);
  }

  // -------------------------------------------------------------------------------------------
  // Input.

  /**
   * Installs a handler whose body goes through `parse` first. Malformed bodies and errors a
   * sender can cause (`MesosError`s: an invalid role, weight or quota) are logged and ignored.
   */
  #on<C>(name: string, parseBody: (what: string, body: unknown) => C, handle: (command: C) => void): void {
    this.install(name, (from: UPID, body: unknown) => {
      let command: C;
      try {
        command = parseBody(name, body);
      } catch (error) {
        if (!(error instanceof MesosError)) throw error;
        this.#invalid.inc();
        this.log.warn({ from: String(from), name, reason: error.message }, 'Ignoring malformed message');
        return;
      }
      this.#lastSender = from;
      try {
        handle.call(this, command);
      } catch (error) {
        if (!(error instanceof MesosError)) throw error;
        this.#invalid.inc();
        this.log.warn({ from: String(from), name, reason: error.message }, 'Ignoring invalid message');
      }
    });
  }

  #knownFramework(frameworkId: string, what: string): boolean {
    if (this.allocation.hasFramework(frameworkId)) return true;
    this.log.warn({ frameworkId }, `Ignoring ${what} of unknown framework`);
    return false;
  }

  #knownAgent(agentId: string, what: string): boolean {
    if (this.allocation.hasAgent(agentId)) return true;
    this.log.warn({ agentId }, `Ignoring ${what} of unknown agent`);
    return false;
  }
}

/** Resolves on the next turn of the event loop, after the I/O callbacks already due. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
