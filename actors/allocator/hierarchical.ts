/**
 * The hierarchical allocation policy (Mesos's `HierarchicalAllocatorProcess`, without the
 * process): pure state in, offers out, time passed in as `now`.
 *
 * Responsibilities:
 * 1. Track agents (total, allocated), frameworks (roles, suppressed roles, active), role
 *    weights and quotas: guarantees, and limits with what each limited role consumes
 *    (`quota-limits.ts`).
 * 2. `allocate(now)`: offer each agent's free resources: roles by weighted DRF, then the
 *    frameworks of a role by DRF. Roles are hierarchical, as in Mesos 1.5+: `eng/web` and
 *    `eng/db` are children of `eng`, which competes with `ops` with the sum of its subtree's
 *    allocation and the weight of `eng`; then its children compete among themselves (a role
 *    with frameworks and sub-roles, `eng` next to `eng/web`, is one more child there, `eng/.`).
 *    The role sorter (`sorter/drf.ts`) keeps that tree. Quota roles that lack part of their
 *    guarantee are served first, up to the guarantee (stage 1); then every role shares fairly
 *    what is left without eating into what quota roles still need (stage 2). In both stages
 *    an offer's unreserved scalars are cut so that no role, with its sub-roles, consumes more
 *    than a limit of its own or of an ancestor (Mesos 1.9+'s quota limits).
 * 3. A framework is offered only what is allocatable to the role: unreserved resources and
 *    those reserved to the role (or an ancestor). Inactive frameworks and roles a framework
 *    suppressed get nothing; nor does anyone get less than `--min_allocatable_resources`, nor
 *    a framework without `GPU_RESOURCES` an agent with GPUs.
 * 4. Offered resources count as allocated until `recoverResources` returns them (a decline, an
 *    unused offer, a finished task), optionally with a decline filter (`refuse_seconds`).
 *
 * Cost of one `allocate()` with A agents, R roles and F frameworks:
 * - an agent with nothing free is skipped in O(1);
 * - for an agent with free resources, the role order and each role's framework order are read
 *   without copying (the DRF sorters keep them sorted incrementally), and the first eligible
 *   framework takes everything allocatable to its role there, which usually empties the agent;
 * - recording an offer costs a few small `Resources` operations and three sorter updates, each
 *   a binary search plus at most an array splice: O(log F) comparisons, O(F) pointer moves.
 *   With nested roles the role sorter's update walks up the role's ancestors (O(depth × log R)),
 *   and the next agent's read of the role order redoes the depth-first walk, O(R), if the
 *   update moved a role; with no `/` in any role it is the flat order above, kept in place.
 * So a cycle is O(A + offers × (log F + F)) when frameworks accept what they are offered, and
 * objects are created per offer, never per agent × framework. The worst case, every framework
 * filtered on every agent, is O(A × F) filter look-ups (as in Mesos). Quota guarantees add one
 * O(A) pass to total the headroom; limits add a look-up per role and agent up the role's path
 * and a cut per offer to a limited role, nothing while no role has limits. A cycle over 10,000
 * agents and 1,000 frameworks (1 to 1,000 roles), every agent offered, takes 40 to 90 ms on a
 * two-core development VM under `tsx`.
 */

import { InvalidRoleError, InvalidWeightError } from '../../src/errors.ts';
import { Resources, UNRESERVED_ROLE } from '../../src/mesos/resources.ts';
import { makeEntry, roleError } from '../../src/mesos/resource-values.ts';
import { isAllocatable, parseMinAllocatableResources } from './allocatable.ts';
import type { AgentResources, FrameworkOptions, HierarchicalAllocationOptions, Offer, Used } from './allocation-types.ts';
import { OfferFilters, type RefuseFilter } from './filters.ts';
import { Headroom } from './headroom.ts';
import { QuotaLimits, validateQuota } from './quota-limits.ts';
import { DRFSorter } from './sorter/drf.ts';
import { ClusterTotals, type Sorter, type SorterFactory } from './sorter/sorter.ts';

export type { RefuseFilter } from './filters.ts';
export type { AgentResources, FrameworkOptions, HierarchicalAllocationOptions, Offer, Used } from './allocation-types.ts';

interface Agent {
  readonly id: string;
  total: Resources;
  allocated: Resources;
  /** `total - allocated`, kept up to date so that a cycle reads it without computing. */
  available: Resources;
  active: boolean;
  /** Whether it has GPUs and they are withheld from frameworks without `GPU_RESOURCES`. */
  gpusFiltered: boolean;
  /** Allocation by framework, then role. */
  readonly allocations: Map<string, Map<string, Resources>>;
  /**
   * Used by frameworks not added yet (the agent came back first after a master failover), by
   * framework id: counted in `allocated`, not in any sorter, until the framework is added.
   */
  readonly unattributed: Map<string, Resources>;
}

interface Framework {
  readonly id: string;
  roles: Set<string>;
  suppressed: Set<string>;
  active: boolean;
  /** Whether it may be offered agents with GPUs (it has `GPU_RESOURCES`, or did not say). */
  gpuResources: boolean;
  /** Roles whose framework sorter has this framework: `roles`, plus old roles it still holds resources in. */
  readonly tracked: Set<string>;
  /** Tracked roles where it is active in the sorter. */
  readonly activeIn: Set<string>;
  /** Agents where it holds resources. */
  readonly agents: Set<string>;
  readonly filters: OfferFilters;
}

interface Role {
  readonly name: string;
  readonly frameworks: Sorter;
  /** Frameworks tracked, and how many of them are active. */
  frameworkCount: number;
  activeCount: number;
  /** Scalars allocated to the role (all reservations), in thousandths; what its quota consumes. */
  readonly consumed: Map<string, number>;
}

const defaultSorter: SorterFactory = (totals) => new DRFSorter(totals);

function quantitiesToResources(millis: ReadonlyMap<string, number>): Resources {
  return Resources.fromEntries([...millis].map(([name, m]) => makeEntry(name, [], { type: 'SCALAR', millis: m })));
}

/**
 * @example
 * const allocation = new HierarchicalAllocation();
 * allocation.addAgent('a1', Resources.parse('cpus:4;mem:8192'));
 * allocation.addFramework('f1', { roles: ['web'] });
 * const [offer] = allocation.allocate(0); // f1 is offered cpus:4;mem:8192 on a1 for role web
 * allocation.recoverResources('f1', 'a1', offer!.resources, { now: 0, refuseSeconds: 5 });
 * allocation.allocate(1000); // [] : f1 declined a1 for 5 s
 */
export class HierarchicalAllocation {
  readonly #totals = new ClusterTotals();
  readonly #agents = new Map<string, Agent>();
  readonly #frameworks = new Map<string, Framework>();
  readonly #roles = new Map<string, Role>();
  readonly #weights = new Map<string, number>();
  readonly #quotas = new Map<string, Resources>();
  /** Quota limits, and what the roles that have some consume (`quota-limits.ts`). */
  readonly #limits = new QuotaLimits();
  /** Agents holding unattributed resources, by framework id. */
  readonly #unattributed = new Map<string, Set<string>>();
  readonly #roleSorter: Sorter;
  /** Roles with a quota, by DRF (unweighted), for stage 1. */
  readonly #quotaRoleSorter: Sorter;
  readonly #frameworkSorterFactory: SorterFactory;
  readonly #minAllocatable: ReturnType<typeof parseMinAllocatableResources>;
  readonly #filterGpuResources: boolean;

  constructor(options: HierarchicalAllocationOptions = {}) {
    this.#roleSorter = (options.roleSorter ?? defaultSorter)(this.#totals);
    this.#quotaRoleSorter = new DRFSorter(this.#totals);
    this.#frameworkSorterFactory = options.frameworkSorter ?? defaultSorter;
    this.#minAllocatable = parseMinAllocatableResources(options.minAllocatableResources);
    this.#filterGpuResources = options.filterGpuResources ?? true;
  }

  // -------------------------------------------------------------------------------------------
  // Agents.

  /**
   * Adds an agent. `used` (its `agentId` is ignored) is what frameworks already run there, as
   * Mesos's `addSlave(used)`: it counts as allocated at once; for a framework not added yet it
   * reaches the sorters only when the framework is added with the same resources in its
   * `used`. Throws if the id is taken.
   */
  addAgent(agentId: string, total: Resources, used: Iterable<Omit<Used, 'agentId'>> = []): void {
    if (this.#agents.has(agentId)) throw new Error(`agent '${agentId}' is already added`);
    const agent: Agent = {
      id: agentId,
      total,
      allocated: Resources.EMPTY,
      available: total,
      active: true,
      gpusFiltered: this.#filterGpuResources && total.gpus() > 0,
      allocations: new Map(),
      unattributed: new Map(),
    };
    this.#agents.set(agentId, agent);
    this.#totals.setAgent(agentId, total);
    this.#limits.totalChanged(Resources.EMPTY, total);
    for (const u of used) {
      const take = common(agent.available, u.resources);
      if (take.isEmpty()) continue;
      agent.available = agent.available.minus(take);
      const framework = this.#frameworks.get(u.frameworkId);
      if (framework !== undefined) {
        this.#allocateTo(framework, this.#usedRole(framework, u.role), agent, take);
        continue;
      }
      agent.allocated = agent.allocated.plus(take);
      agent.unattributed.set(u.frameworkId, (agent.unattributed.get(u.frameworkId) ?? Resources.EMPTY).plus(take));
      let agents = this.#unattributed.get(u.frameworkId);
      if (agents === undefined) this.#unattributed.set(u.frameworkId, (agents = new Set()));
      agents.add(agentId);
    }
  }

  /** Changes an agent's total; what is allocated stays allocated, and free is what remains. */
  updateAgent(agentId: string, total: Resources): void {
    const agent = this.#agent(agentId);
    this.#limits.totalChanged(agent.total, total);
    agent.total = total;
    agent.available = total.minus(agent.allocated);
    agent.gpusFiltered = this.#filterGpuResources && total.gpus() > 0;
    this.#totals.setAgent(agentId, total);
  }

  /** Removes an agent: its allocations vanish from every framework and role, and its filters go. */
  removeAgent(agentId: string): void {
    const agent = this.#agents.get(agentId);
    if (agent === undefined) return;
    for (const [frameworkId, byRole] of [...agent.allocations]) {
      const framework = this.#frameworks.get(frameworkId)!;
      for (const [role, resources] of [...byRole]) this.#unallocate(framework, role, agent, resources);
    }
    for (const framework of this.#frameworks.values()) framework.filters.clearAgent(agentId);
    for (const frameworkId of agent.unattributed.keys()) this.#dropUnattributedIndex(frameworkId, agentId);
    this.#limits.totalChanged(agent.total, Resources.EMPTY);
    this.#agents.delete(agentId);
    this.#totals.removeAgent(agentId);
  }

  /** An agent that is not active (disconnected, draining) gets no offers. */
  deactivateAgent(agentId: string): void {
    this.#agent(agentId).active = false;
  }

  activateAgent(agentId: string): void {
    this.#agent(agentId).active = true;
  }

  /** How many agents there are. */
  get agentCount(): number {
    return this.#agents.size;
  }

  hasAgent(agentId: string): boolean {
    return this.#agents.has(agentId);
  }

  /** An agent's total, allocated and free resources; `undefined` if unknown. */
  agent(agentId: string): AgentResources | undefined {
    const agent = this.#agents.get(agentId);
    return agent === undefined ? undefined : { total: agent.total, allocated: agent.allocated, available: agent.available };
  }

  /** Scalar `name` over every agent, and the part offered or allocated (Mesos's `allocator/mesos/resources/<name>/*`). */
  scalarQuantity(name: string): { total: number; offeredOrAllocated: number } {
    let millis = 0;
    for (const agent of this.#agents.values()) millis += agent.allocated.scalarMillis().get(name) ?? 0;
    return { total: this.#totals.millis(name) / 1000, offeredOrAllocated: millis / 1000 };
  }

  // -------------------------------------------------------------------------------------------
  // Frameworks.

  /** Adds a framework. Throws `InvalidRoleError` for a malformed role, `Error` if the id is taken. */
  addFramework(frameworkId: string, options: FrameworkOptions): void {
    if (this.#frameworks.has(frameworkId)) throw new Error(`framework '${frameworkId}' is already added`);
    const roles = validRoles(options.roles);
    const framework: Framework = {
      id: frameworkId,
      roles,
      suppressed: new Set([...(options.suppressedRoles ?? [])].filter((r) => roles.has(r))),
      active: options.active ?? true,
      gpuResources: options.capabilities === undefined || hasGpuCapability(options.capabilities),
      tracked: new Set(),
      activeIn: new Set(),
      agents: new Set(),
      filters: new OfferFilters(),
    };
    this.#frameworks.set(frameworkId, framework);
    for (const role of roles) this.#track(framework, role);
    for (const u of options.used ?? []) this.#claim(framework, u.agentId, u.role, u.resources);
  }

  hasFramework(frameworkId: string): boolean {
    return this.#frameworks.has(frameworkId);
  }

  /**
   * Changes a framework's roles and suppressed roles. A role it leaves while still holding
   * resources in it stays tracked (inactive) until those resources are recovered, as in Mesos.
   */
  updateFramework(frameworkId: string, options: Omit<FrameworkOptions, 'active'>): void {
    const framework = this.#framework(frameworkId);
    const roles = validRoles(options.roles);
    const suppressed = new Set([...(options.suppressedRoles ?? [])].filter((r) => roles.has(r)));
    // As Mesos's `updateFramework`: a role left loses its filters, and a role no longer
    // suppressed is revived, which drops its filters too.
    const dropped = [...framework.roles].filter((r) => !roles.has(r));
    for (const r of framework.suppressed) if (roles.has(r) && !suppressed.has(r)) dropped.push(r);
    if (dropped.length > 0) framework.filters.clear(dropped);
    framework.roles = roles;
    framework.suppressed = suppressed;
    if (options.capabilities !== undefined) framework.gpuResources = hasGpuCapability(options.capabilities);
    for (const role of roles) if (!framework.tracked.has(role)) this.#track(framework, role);
    for (const role of [...framework.tracked]) this.#settle(framework, role);
  }

  /** Removes a framework; what it held is freed on every agent, and its filters go. */
  removeFramework(frameworkId: string): void {
    for (const agentId of [...(this.#unattributed.get(frameworkId) ?? [])]) {
      const agent = this.#agents.get(agentId)!;
      this.#freeUnattributed(agent, frameworkId, agent.unattributed.get(frameworkId)!);
    }
    const framework = this.#frameworks.get(frameworkId);
    if (framework === undefined) return;
    framework.roles = new Set();
    for (const agentId of [...framework.agents]) {
      const agent = this.#agents.get(agentId)!;
      const byRole = agent.allocations.get(frameworkId);
      if (byRole !== undefined) for (const [role, resources] of [...byRole]) this.#unallocate(framework, role, agent, resources);
    }
    for (const role of [...framework.tracked]) this.#untrack(framework, role);
    this.#frameworks.delete(frameworkId);
  }

  /** A reconnected framework gets offers again. */
  activateFramework(frameworkId: string): void {
    const framework = this.#framework(frameworkId);
    framework.active = true;
    for (const role of framework.tracked) this.#syncActivation(framework, role);
  }

  /**
   * A disconnected framework keeps its resources but gets no offers, and loses its decline
   * filters, as Mesos's `deactivateFramework` clears `offerFilters`: a scheduler that fails
   * over starts with none.
   */
  deactivateFramework(frameworkId: string): void {
    const framework = this.#framework(frameworkId);
    framework.active = false;
    framework.filters.clear();
    for (const role of framework.tracked) this.#syncActivation(framework, role);
  }

  /** Stops offers to a framework for some of its roles (all by default) until it revives. */
  suppress(frameworkId: string, roles?: Iterable<string>): void {
    const framework = this.#framework(frameworkId);
    for (const role of roles ?? framework.roles) if (framework.roles.has(role)) framework.suppressed.add(role);
    for (const role of framework.tracked) this.#syncActivation(framework, role);
  }

  /**
   * Resumes offers for some roles (all by default) and drops the decline filters of those
   * roles only, as Mesos's `reviveRoles`: filters of roles not revived stay.
   */
  revive(frameworkId: string, roles?: Iterable<string>): void {
    const framework = this.#framework(frameworkId);
    const revived = [...(roles ?? framework.roles)];
    for (const role of revived) framework.suppressed.delete(role);
    framework.filters.clear(revived);
    for (const role of framework.tracked) this.#syncActivation(framework, role);
  }

  /** The roles a framework is suppressed in (no offers for them until it revives); empty if unknown. */
  suppressedRoles(frameworkId: string): string[] {
    return [...(this.#frameworks.get(frameworkId)?.suppressed ?? [])];
  }

  /** What a framework holds (offered or in use), by agent, over all its roles. */
  allocation(frameworkId: string): Map<string, Resources> {
    const out = new Map<string, Resources>();
    const framework = this.#frameworks.get(frameworkId);
    if (framework === undefined) return out;
    for (const agentId of framework.agents) {
      const byRole = this.#agents.get(agentId)!.allocations.get(frameworkId)!;
      out.set(agentId, Resources.sum(byRole.values()));
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Weights and quota.

  /**
   * Sets role weights (default 1): a role of weight 2 is entitled to twice the dominant share
   * of a sibling role of weight 1; the weight of `eng` counts for its whole subtree. Checks
   * every entry before applying any.
   */
  updateWeights(weights: Iterable<readonly [string, number]> | Readonly<Record<string, number>>): void {
    const entries = Symbol.iterator in weights ? [...weights] : Object.entries(weights);
    for (const [role, weight] of entries) {
      const problem = role === UNRESERVED_ROLE ? undefined : roleError(role);
      if (problem !== undefined) throw new InvalidRoleError(role, problem);
      if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight)) throw new InvalidWeightError(role, weight);
    }
    for (const [role, weight] of entries) {
      this.#weights.set(role, weight);
      this.#roleSorter.updateWeight(role, weight);
    }
  }

  weight(role: string): number {
    return this.#weights.get(role) ?? 1;
  }

  /**
   * Sets `role`'s quota (Mesos's `updateQuota`): it is guaranteed at least `guarantee`
   * (unreserved scalars, e.g. `cpus:10;mem:4096`) and consumes at most `limits` (quantities by
   * name, e.g. `{ cpus: 20 }`; see `quota-limits.ts`). An empty guarantee and no limits remove
   * the quota. Throws `InvalidQuotaError` or `InvalidRoleError`, having changed nothing.
   */
  setQuota(role: string, guarantee: Resources, limits: Readonly<Record<string, number>> = {}): void {
    this.#limits.set(role, validateQuota(role, guarantee, limits), this.#agents.values());
    if (guarantee.isEmpty()) {
      this.#quotas.delete(role);
      this.#quotaRoleSorter.remove(role);
      return;
    }
    this.#quotas.set(role, guarantee);
    const record = this.#roles.get(role);
    if (record !== undefined && !this.#quotaRoleSorter.contains(role)) this.#addQuotaClient(record);
  }

  removeQuota(role: string): void {
    this.#quotas.delete(role);
    this.#quotaRoleSorter.remove(role);
    this.#limits.set(role, new Map(), []);
  }

  /** `role`'s guarantee; `undefined` without one. */
  quota(role: string): Resources | undefined {
    return this.#quotas.get(role);
  }

  /** `role`'s quota limits and what it consumes of them; `undefined` without limits. */
  quotaLimits(role: string): { limits: Readonly<Record<string, number>>; consumed: Readonly<Record<string, number>> } | undefined {
    const limits = this.#limits.limits(role);
    return limits === undefined ? undefined : { limits, consumed: this.#limits.consumed(role)! };
  }

  // -------------------------------------------------------------------------------------------
  // Allocation.

  /**
   * Runs one allocation cycle over `agentIds` (every agent by default, in the order added) and
   * returns the offers, at most one per framework, role and agent. Offered resources count as
   * allocated from now on; nothing else changes.
   */
  allocate(now: number, agentIds?: Iterable<string>): Offer[] {
    const agents: Agent[] = [];
    for (const id of agentIds ?? this.#agents.keys()) {
      const agent = this.#agents.get(id);
      if (agent !== undefined && agent.active && !agent.available.isEmpty()) agents.push(agent);
    }
    if (agents.length === 0 || this.#roles.size === 0) return [];

    const headroom =
      this.#quotas.size === 0
        ? undefined
        : Headroom.compute(this.#quotas, (role) => this.#roles.get(role)?.consumed, () => this.#freeOnActiveAgents());
    const offers: Offer[] = [];
    if (headroom === undefined) {
      this.#allocateStage(now, agents, offers, undefined, undefined, false);
    } else {
      // Stage 2 may add to a stage 1 offer of the same framework, role and agent: merge them.
      const index = new Map<string, number>();
      this.#allocateStage(now, agents, offers, index, headroom, true);
      this.#allocateStage(now, agents, offers, index, headroom, false);
    }
    return offers;
  }

  /**
   * One pass over the agents. Stage 1 (`quotaStage`) serves quota roles that lack part of
   * their guarantee; stage 2 serves every role. For each agent the role order and framework
   * orders are read once, and the sorters learn of this agent's offers after the agent is
   * done, which is the order Mesos reads too (it sorts once per agent).
   */
  #allocateStage(
    now: number,
    agents: readonly Agent[],
    offers: Offer[],
    index: Map<string, number> | undefined,
    headroom: Headroom | undefined,
    quotaStage: boolean,
  ): void {
    const roleSorter = quotaStage ? this.#quotaRoleSorter : this.#roleSorter;
    const limited = this.#limits.active;
    const made: { framework: Framework; role: string; resources: Resources }[] = [];
    for (const agent of agents) {
      let available = agent.available;
      if (available.isEmpty()) continue;
      // Most agents hold no reservations; then every role may be offered all of `available`
      // (and what is left after an offer stays unreserved), with nothing to filter per role.
      const unreserved = !hasReservations(available);
      for (const roleName of roleSorter.view()) {
        if (quotaStage && !headroom!.lacks(roleName)) continue;
        if (!unreserved && !available.hasAllocatableTo(roleName)) continue;
        const role = this.#roles.get(roleName)!;
        // What the role may be offered here; computed once, and again only after an offer.
        let resources: Resources | undefined;
        for (const frameworkId of role.frameworks.view()) {
          if (resources === undefined) {
            const allocatable = unreserved ? available : available.allocatableTo(roleName);
            resources =
              headroom === undefined
                ? allocatable
                : quotaStage
                  ? headroom.forQuota(roleName, allocatable)
                  : headroom.forFairShare(roleName, allocatable);
            if (limited) resources = this.#limits.cap(roleName, resources);
          }
          // Too little to be of use to anyone (`--min_allocatable_resources`): the same for
          // every framework of the role.
          if (resources.isEmpty() || !isAllocatable(this.#minAllocatable, resources)) break;
          const framework = this.#frameworks.get(frameworkId)!;
          if (agent.gpusFiltered && !framework.gpuResources) continue;
          if (framework.filters.filters(roleName, agent.id, resources, now)) continue;
          made.push({ framework, role: roleName, resources });
          available = available.minus(resources);
          headroom?.record(roleName, resources);
          // At once: the next framework of this role (or of a sibling) is capped by this offer too.
          if (limited) this.#limits.allocated(roleName, resources, 1);
          resources = undefined;
        }
        if (available.isEmpty()) break;
      }
      if (made.length === 0) continue;
      agent.available = available;
      for (const { framework, role, resources } of made) {
        this.#allocateTo(framework, role, agent, resources, limited);
        const offer: Offer = { frameworkId: framework.id, role, agentId: agent.id, resources };
        if (index === undefined) {
          offers.push(offer);
          continue;
        }
        const key = `${framework.id}\u0000${role}\u0000${agent.id}`;
        const i = index.get(key);
        if (i === undefined) {
          index.set(key, offers.length);
          offers.push(offer);
        } else {
          offers[i] = { ...offer, resources: offers[i]!.resources.plus(resources) };
        }
      }
      made.length = 0;
    }
  }

  /**
   * Returns resources a framework held on an agent (declined, unused, or freed by a finished
   * task). With `filter`, the framework is not offered a subset of them on that agent, for the
   * role they were held in, for `refuseSeconds` (default `DEFAULT_REFUSE_SECONDS`): Mesos
   * keeps filters per (framework, role, agent). Stale calls (removed agent or framework,
   * resources no longer held) recover only what is still held, and filter nothing.
   */
  recoverResources(frameworkId: string, agentId: string, resources: Resources, filter?: RefuseFilter): void {
    const framework = this.#frameworks.get(frameworkId);
    const agent = this.#agents.get(agentId);
    if (agent === undefined) return;
    const byRole = agent.allocations.get(frameworkId);
    let remaining = resources;
    if (framework !== undefined && byRole !== undefined) {
      for (const [role, held] of [...byRole]) {
        // A whole offer coming back (a decline) arrives as a copy: switch to the object held,
        // so that the books and the filter compare by identity from now on.
        if (remaining !== held && remaining.equals(held)) remaining = held;
        const portion = common(held, remaining);
        if (portion.isEmpty()) continue;
        this.#unallocate(framework, role, agent, portion);
        if (filter !== undefined) framework.filters.add(role, agentId, portion, filter);
        if (portion === remaining) {
          remaining = Resources.EMPTY;
          break;
        }
        remaining = remaining.minus(portion);
      }
    }
    const unattributed = agent.unattributed.get(frameworkId);
    if (unattributed !== undefined && !remaining.isEmpty()) this.#freeUnattributed(agent, frameworkId, common(unattributed, remaining));
  }

  /**
   * Resources a framework holds on an agent were converted by an offer operation (RESERVE,
   * UNRESERVE; Mesos's `updateAllocation`): `consumed` leaves its allocation (from `role` first,
   * then any role holding it) and the agent's total, and `converted` takes its place, allocated
   * to `role` (default: the first role `consumed` was taken from). Throws if it does not hold
   * `consumed` there.
   */
  updateAllocation(frameworkId: string, agentId: string, consumed: Resources, converted: Resources, role?: string): void {
    const framework = this.#framework(frameworkId);
    const agent = this.#agent(agentId);
    const byRole = agent.allocations.get(frameworkId);
    const held = [...(byRole ?? [])].sort(([a], [b]) => (a === role ? -1 : b === role ? 1 : 0));
    if (!Resources.sum(held.map(([, r]) => r)).contains(consumed)) {
      throw new Error(`framework '${frameworkId}' does not hold ${String(consumed)} on agent '${agentId}'`);
    }
    let rest = consumed;
    let target = role;
    for (const [name, resources] of held) {
      const portion = common(resources, rest);
      if (portion.isEmpty()) continue;
      this.#unallocate(framework, name, agent, portion);
      target ??= name;
      rest = rest.minus(portion);
      if (rest.isEmpty()) break;
    }
    const before = agent.total;
    agent.total = agent.total.minus(consumed).plus(converted);
    this.#limits.totalChanged(before, agent.total);
    this.#totals.setAgent(agentId, agent.total);
    this.#allocateTo(framework, target ?? this.#usedRole(framework, undefined), agent, converted);
    agent.available = agent.total.minus(agent.allocated);
  }

  // -------------------------------------------------------------------------------------------
  // Bookkeeping.

  *#freeOnActiveAgents(): Iterable<Resources> {
    for (const agent of this.#agents.values()) if (agent.active) yield agent.available;
  }

  /** The role used resources are counted in: `role` if given, else the framework's first role. */
  #usedRole(framework: Framework, role: string | undefined): string {
    if (role !== undefined && roleError(role) === undefined) return role;
    const first = framework.roles.values().next();
    return first.done === true ? UNRESERVED_ROLE : first.value;
  }

  /**
   * A framework being added takes over what it uses on `agentId`: its unattributed resources
   * there first (already counted as allocated), then what is still free on the agent.
   */
  #claim(framework: Framework, agentId: string, role: string | undefined, resources: Resources): void {
    const agent = this.#agents.get(agentId);
    if (agent === undefined) return;
    const unattributed = agent.unattributed.get(framework.id);
    let taken = Resources.EMPTY;
    let rest = resources;
    if (unattributed !== undefined) {
      taken = common(unattributed, rest);
      if (!taken.isEmpty()) {
        this.#setUnattributed(agent, framework.id, unattributed.minus(taken));
        agent.allocated = agent.allocated.minus(taken);
        rest = rest.minus(taken);
      }
    }
    const free = common(agent.available, rest);
    if (!free.isEmpty()) {
      agent.available = agent.available.minus(free);
      taken = taken.plus(free);
    }
    if (taken.isEmpty()) return;
    this.#allocateTo(framework, this.#usedRole(framework, role), agent, taken);
  }

  /** Frees `resources` (held unattributed by `frameworkId` on `agent`). */
  #freeUnattributed(agent: Agent, frameworkId: string, resources: Resources): void {
    if (resources.isEmpty()) return;
    this.#setUnattributed(agent, frameworkId, agent.unattributed.get(frameworkId)!.minus(resources));
    agent.allocated = agent.allocated.minus(resources);
    agent.available = agent.total.minus(agent.allocated);
  }

  #setUnattributed(agent: Agent, frameworkId: string, resources: Resources): void {
    if (!resources.isEmpty()) {
      agent.unattributed.set(frameworkId, resources);
      return;
    }
    agent.unattributed.delete(frameworkId);
    this.#dropUnattributedIndex(frameworkId, agent.id);
  }

  #dropUnattributedIndex(frameworkId: string, agentId: string): void {
    const agents = this.#unattributed.get(frameworkId);
    agents?.delete(agentId);
    if (agents?.size === 0) this.#unattributed.delete(frameworkId);
  }

  /**
   * Records an allocation; the caller has already taken `resources` out of `agent.available`
   * (and, when `limitsCounted`, counted them against the role's quota limits).
   */
  #allocateTo(framework: Framework, roleName: string, agent: Agent, resources: Resources, limitsCounted = false): void {
    if (!limitsCounted) this.#limits.allocated(roleName, resources, 1);
    agent.allocated = agent.allocated.plus(resources);
    let byRole = agent.allocations.get(framework.id);
    if (byRole === undefined) agent.allocations.set(framework.id, (byRole = new Map()));
    byRole.set(roleName, (byRole.get(roleName) ?? Resources.EMPTY).plus(resources));
    framework.agents.add(agent.id);

    // Used resources may be in a role the framework is not subscribed to (it left it): it is
    // tracked there, inactive, until they are recovered, as in Mesos.
    if (!framework.tracked.has(roleName)) this.#track(framework, roleName);
    const role = this.#roles.get(roleName)!;
    for (const [name, millis] of resources.scalarMillis()) role.consumed.set(name, (role.consumed.get(name) ?? 0) + millis);
    role.frameworks.allocated(framework.id, agent.id, resources);
    this.#roleSorter.allocated(roleName, agent.id, resources);
    if (this.#quotaRoleSorter.contains(roleName)) this.#quotaRoleSorter.allocated(roleName, agent.id, resources);
  }

  #unallocate(framework: Framework, roleName: string, agent: Agent, resources: Resources): void {
    // The usual case, a whole offer declined while nothing else is held there, needs no arithmetic.
    agent.allocated = agent.allocated === resources ? Resources.EMPTY : agent.allocated.minus(resources);
    agent.available = agent.total.minus(agent.allocated);
    const byRole = agent.allocations.get(framework.id)!;
    const held = byRole.get(roleName)!;
    const left = held === resources ? Resources.EMPTY : held.minus(resources);
    if (left.isEmpty()) byRole.delete(roleName);
    else byRole.set(roleName, left);
    if (byRole.size === 0) {
      agent.allocations.delete(framework.id);
      framework.agents.delete(agent.id);
    }

    const role = this.#roles.get(roleName)!;
    for (const [name, millis] of resources.scalarMillis()) {
      const rest = (role.consumed.get(name) ?? 0) - millis;
      if (rest > 0) role.consumed.set(name, rest);
      else role.consumed.delete(name);
    }
    this.#limits.allocated(roleName, resources, -1);
    role.frameworks.unallocated(framework.id, agent.id, resources);
    this.#roleSorter.unallocated(roleName, agent.id, resources);
    if (this.#quotaRoleSorter.contains(roleName)) this.#quotaRoleSorter.unallocated(roleName, agent.id, resources);
    if (left.isEmpty()) this.#settle(framework, roleName);
  }

  /** Makes `framework` a client of `role`'s sorter, creating the role if needed. */
  #track(framework: Framework, roleName: string): void {
    let role = this.#roles.get(roleName);
    if (role === undefined) {
      role = {
        name: roleName,
        frameworks: this.#frameworkSorterFactory(this.#totals),
        frameworkCount: 0,
        activeCount: 0,
        consumed: new Map(),
      };
      this.#roles.set(roleName, role);
      this.#roleSorter.add(roleName);
      this.#roleSorter.deactivate(roleName);
      if (this.#quotas.has(roleName)) this.#addQuotaClient(role);
    }
    role.frameworks.add(framework.id);
    role.frameworks.deactivate(framework.id);
    role.frameworkCount++;
    framework.tracked.add(roleName);
    this.#syncActivation(framework, roleName);
  }

  #untrack(framework: Framework, roleName: string): void {
    const role = this.#roles.get(roleName)!;
    if (framework.activeIn.has(roleName)) this.#setRoleActivity(role, -1);
    framework.activeIn.delete(roleName);
    framework.tracked.delete(roleName);
    role.frameworks.remove(framework.id);
    role.frameworkCount--;
    if (role.frameworkCount === 0) {
      this.#roles.delete(roleName);
      this.#roleSorter.remove(roleName);
      this.#quotaRoleSorter.remove(roleName);
    }
  }

  /** Untracks a role the framework left once it holds nothing there; otherwise syncs activation. */
  #settle(framework: Framework, roleName: string): void {
    if (!framework.tracked.has(roleName)) return;
    if (!framework.roles.has(roleName) && !this.#holdsIn(framework, roleName)) this.#untrack(framework, roleName);
    else this.#syncActivation(framework, roleName);
  }

  #holdsIn(framework: Framework, roleName: string): boolean {
    for (const agentId of framework.agents) {
      if (this.#agents.get(agentId)!.allocations.get(framework.id)?.has(roleName)) return true;
    }
    return false;
  }

  /** A framework is active in a role's sorter iff it is active, subscribed to the role and not suppressing it. */
  #syncActivation(framework: Framework, roleName: string): void {
    const role = this.#roles.get(roleName)!;
    const want = framework.active && framework.roles.has(roleName) && !framework.suppressed.has(roleName);
    if (want === framework.activeIn.has(roleName)) return;
    if (want) {
      framework.activeIn.add(roleName);
      role.frameworks.activate(framework.id);
      this.#setRoleActivity(role, 1);
    } else {
      framework.activeIn.delete(roleName);
      role.frameworks.deactivate(framework.id);
      this.#setRoleActivity(role, -1);
    }
  }

  /** A role is active in the role sorters iff it has an active framework, so idle roles cost nothing per agent. */
  #setRoleActivity(role: Role, delta: 1 | -1): void {
    role.activeCount += delta;
    const sorters = this.#quotaRoleSorter.contains(role.name) ? [this.#roleSorter, this.#quotaRoleSorter] : [this.#roleSorter];
    if (delta === 1 && role.activeCount === 1) for (const s of sorters) s.activate(role.name);
    if (delta === -1 && role.activeCount === 0) for (const s of sorters) s.deactivate(role.name);
  }

  #addQuotaClient(role: Role): void {
    this.#quotaRoleSorter.add(role.name);
    if (role.consumed.size > 0) this.#quotaRoleSorter.allocated(role.name, '', quantitiesToResources(role.consumed));
    if (role.activeCount === 0) this.#quotaRoleSorter.deactivate(role.name);
  }

  #agent(agentId: string): Agent {
    const agent = this.#agents.get(agentId);
    if (agent === undefined) throw new Error(`unknown agent '${agentId}'`);
    return agent;
  }

  #framework(frameworkId: string): Framework {
    const framework = this.#frameworks.get(frameworkId);
    if (framework === undefined) throw new Error(`unknown framework '${frameworkId}'`);
    return framework;
  }
}

function hasGpuCapability(capabilities: Iterable<string>): boolean {
  for (const c of capabilities) if (c === 'GPU_RESOURCES') return true;
  return false;
}

function validRoles(roles: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const role of roles) {
    const problem = roleError(role);
    if (problem !== undefined) throw new InvalidRoleError(role, problem);
    out.add(role);
  }
  return out;
}

/**
 * What two bags have in common: `b` itself in the usual case, where `a` holds all of it;
 * otherwise `a - (a - b)`.
 */
function common(a: Resources, b: Resources): Resources {
  return a === b || a.contains(b) ? b : a.minus(a.minus(b));
}

/** Whether any of `resources` is reserved. */
function hasReservations(resources: Resources): boolean {
  for (const e of resources.entries()) if (e.reservations.length > 0) return true;
  return false;
}
