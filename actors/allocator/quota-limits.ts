/**
 * Quota limits (Mesos 1.9+'s `Quota.limits`): the most of each scalar resource a role may
 * consume, its sub-roles' consumption included, so that a limit on `eng` caps `eng/web` and
 * `eng/db` together. A resource without a limit is not limited; a limit of 0 allows none.
 *
 * A role's consumed quota is, as in Mesos ("Consumed Quota = reservations + unreserved
 * allocation"):
 * 1. every reservation to the role or a sub-role, on every agent, allocated or not: a
 *    reservation is bound to its role, so it counts whether it is used or not;
 * 2. plus the unreserved scalars allocated to the role or a sub-role (outstanding offers
 *    included, as Mesos's allocator counts them). What frameworks not added yet use (an agent
 *    back first after a master failover) counts once they are added.
 *
 * Responsibilities:
 * 1. Check a quota before the allocator takes it (`validateQuota`, Mesos's `quota::validate`).
 * 2. Keep the consumption of every role with limits up to date, incrementally: computed once
 *    when the role gets limits (`set`), then following every allocation (`allocated`) and every
 *    change of an agent's total, which adds or removes reservations (`totalChanged`). With no
 *    limit set anywhere each hook returns at once: roles without quota cost nothing.
 * 3. Cut what an allocation would offer a role (`cap`): each unreserved scalar with a limit, on
 *    the role or an ancestor, to what keeps the role within it. Reservations and non-scalars are
 *    offered whole, as Mesos does: a reservation counts as consumed already. A limit below what a
 *    role consumes takes nothing back; the role is offered no more of that resource until its
 *    consumption falls below the limit.
 */

import { InvalidQuotaError, InvalidRoleError } from '../../src/errors.ts';
import { isRoleOrSubrole, MAX_SCALAR, nameError, reservationRole, roleError, toMillis, withValue } from '../../src/mesos/resource-values.ts';
import { Resources, UNRESERVED_ROLE, type ResourceEntry } from '../../src/mesos/resources.ts';

/** Scalar quantities by name, in thousandths. */
type Quantities = Map<string, number>;

/** What the allocator holds on one agent, from which a role's consumption is computed. */
export interface AgentBooks {
  readonly total: Resources;
  /** Allocations by framework, then role. */
  readonly allocations: ReadonlyMap<string, ReadonlyMap<string, Resources>>;
}

function add(map: Quantities, name: string, delta: number): void {
  const next = (map.get(name) ?? 0) + delta;
  if (next <= 0) map.delete(name);
  else map.set(name, next);
}

/**
 * Checks a role's quota, as Mesos's `quota::validate`: a valid role other than `*`; a
 * guarantee of unreserved scalars; limits finite, non-negative and at most `MAX_SCALAR`, by
 * valid names; no guarantee above its limit. Returns the limits in thousandths; throws
 * `InvalidRoleError` or `InvalidQuotaError` naming the value.
 *
 * @example
 * validateQuota('eng', Resources.parse('cpus:2'), { cpus: 4 }); // Map { 'cpus' => 4000 }
 * validateQuota('eng', Resources.parse('cpus:8'), { cpus: 4 }); // throws: guarantee 8 of 'cpus' exceeds its limit 4
 */
export function validateQuota(role: string, guarantee: Resources, limits: Readonly<Record<string, number>>): Quantities {
  const problem = roleError(role);
  if (problem !== undefined) throw new InvalidRoleError(role, problem);
  if (role === UNRESERVED_ROLE) throw new InvalidQuotaError(role, `the unreserved role '*' cannot have a quota`);
  for (const e of guarantee.entries()) {
    if (e.value.type !== 'SCALAR') throw new InvalidQuotaError(role, `'${e.name}' is ${e.value.type}; a guarantee holds scalars only`);
    if (e.reservations.length > 0) throw new InvalidQuotaError(role, `'${e.name}' is reserved; a guarantee holds unreserved resources only`);
  }
  const millis: Quantities = new Map();
  for (const [name, value] of Object.entries(limits)) {
    const bad = nameError(name);
    if (bad !== undefined) throw new InvalidQuotaError(role, `limit '${name}': ${bad}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_SCALAR) {
      throw new InvalidQuotaError(role, `limit '${name}' must be a number from 0 to ${MAX_SCALAR}, got ${String(value)}`);
    }
    millis.set(name, toMillis(value));
  }
  for (const [name, g] of guarantee.scalarMillis()) {
    const limit = millis.get(name);
    if (limit !== undefined && g > limit) throw new InvalidQuotaError(role, `guarantee ${g / 1000} of '${name}' exceeds its limit ${limit / 1000}`);
  }
  return millis;
}

export class QuotaLimits {
  /** Limits by role, only of roles that have some. */
  readonly #limits = new Map<string, Quantities>();
  /** Consumed quota of each role in `#limits`, all scalars by name. */
  readonly #consumed = new Map<string, Quantities>();

  /** Whether any role has limits; when not, every hook is a no-op. */
  get active(): boolean {
    return this.#limits.size > 0;
  }

  /** `role`'s limits, by name; `undefined` when it has none. */
  limits(role: string): Readonly<Record<string, number>> | undefined {
    const limits = this.#limits.get(role);
    return limits === undefined ? undefined : Object.fromEntries([...limits].map(([name, m]) => [name, m / 1000]));
  }

  /** What `role` consumes of its quota, by name; `undefined` unless it has limits. */
  consumed(role: string): Readonly<Record<string, number>> | undefined {
    const consumed = this.#consumed.get(role);
    return consumed === undefined ? undefined : Object.fromEntries([...consumed].map(([name, m]) => [name, m / 1000]));
  }

  /**
   * Sets `role`'s limits (in thousandths, as `validateQuota` returns them; empty removes them)
   * and computes its consumption from `agents`, the allocator's books.
   */
  set(role: string, limits: ReadonlyMap<string, number>, agents: Iterable<AgentBooks>): void {
    if (limits.size === 0) {
      this.#limits.delete(role);
      this.#consumed.delete(role);
      return;
    }
    this.#limits.set(role, new Map(limits));
    const consumed: Quantities = new Map();
    for (const agent of agents) {
      for (const e of agent.total.entries()) {
        if (e.reservations.length > 0 && e.value.type === 'SCALAR' && isRoleOrSubrole(reservationRole(e), role)) add(consumed, e.name, e.value.millis);
      }
      for (const byRole of agent.allocations.values()) {
        for (const [r, resources] of byRole) if (isRoleOrSubrole(r, role)) addUnreserved(consumed, resources, 1);
      }
    }
    this.#consumed.set(role, consumed);
  }

  /** `resources` were allocated to `role` (`sign` 1) or came back from it (-1). */
  allocated(role: string, resources: Resources, sign: 1 | -1): void {
    if (this.#limits.size === 0) return;
    for (const r of this.#limitedPath(role)) addUnreserved(this.#consumed.get(r)!, resources, sign);
  }

  /** An agent's total changed from `before` to `after` (added: `before` empty; removed: `after` empty). */
  totalChanged(before: Resources, after: Resources): void {
    if (this.#limits.size === 0 || before === after) return;
    this.#reservations(before, -1);
    this.#reservations(after, 1);
  }

  /**
   * `resources` (allocatable to `role`) with each unreserved scalar that `role` or an ancestor
   * limits cut to what is left under the tightest of those limits; `resources` itself when
   * nothing is cut. An entry cut to nothing is left out.
   */
  cap(role: string, resources: Resources): Resources {
    if (this.#limits.size === 0) return resources;
    const path = this.#limitedPath(role);
    if (path.length === 0) return resources;
    const room: Quantities = new Map();
    for (const r of path) {
      const consumed = this.#consumed.get(r)!;
      for (const [name, limit] of this.#limits.get(r)!) {
        const left = Math.max(0, limit - (consumed.get(name) ?? 0));
        const tighter = room.get(name);
        room.set(name, tighter === undefined ? left : Math.min(tighter, left));
      }
    }
    let cut = false;
    const out: ResourceEntry[] = [];
    for (const e of resources.entries()) {
      const left = e.reservations.length === 0 ? room.get(e.name) : undefined;
      if (left === undefined || e.value.type !== 'SCALAR') {
        out.push(e);
        continue;
      }
      const amount = Math.min(e.value.millis, left);
      room.set(e.name, left - amount);
      if (amount === e.value.millis) {
        out.push(e);
        continue;
      }
      cut = true;
      if (amount > 0) out.push(withValue(e, { type: 'SCALAR', millis: amount }));
    }
    return cut ? Resources.fromEntries(out) : resources;
  }

  /** Counts (`sign` 1) or uncounts (-1) the reserved scalars of an agent's total. */
  #reservations(total: Resources, sign: 1 | -1): void {
    for (const e of total.entries()) {
      if (e.reservations.length === 0 || e.value.type !== 'SCALAR') continue;
      for (const r of this.#limitedPath(reservationRole(e))) add(this.#consumed.get(r)!, e.name, sign * e.value.millis);
    }
  }

  /** `role` and its ancestors that have limits (`eng/web/api`, `eng/web`, `eng`, innermost first). */
  #limitedPath(role: string): string[] {
    const out: string[] = [];
    let name = role;
    for (;;) {
      if (this.#limits.has(name)) out.push(name);
      const slash = name.lastIndexOf('/');
      if (slash < 0) return out;
      name = name.slice(0, slash);
    }
  }
}

/** Adds (`sign` 1) or takes (-1) the unreserved scalars of `resources` to `consumed`. */
function addUnreserved(consumed: Quantities, resources: Resources, sign: 1 | -1): void {
  for (const e of resources.entries()) {
    if (e.reservations.length === 0 && e.value.type === 'SCALAR') add(consumed, e.name, sign * e.value.millis);
  }
}
