/**
 * Quota accounting for one allocation cycle (Mesos's quota "headroom").
 *
 * A quota guarantees a role a minimum of some scalars (`cpus:10;mem:4096`). A role consumes
 * its guarantee with everything allocated to it, reserved or not (offers outstanding count).
 * During a cycle:
 * 1. `unmet[role]` is what each quota role still lacks;
 * 2. `required` is the sum of `unmet` over roles: unreserved resources that must stay free
 *    for quota roles;
 * 3. `available` is the unreserved, unallocated resources of every active agent.
 * Stage 1 gives quota roles what they lack (`forQuota`); stage 2 (fair sharing) may give a role
 * an unreserved scalar only while `available - required` stays non-negative, plus what the
 * role itself still lacks (`forFairShare`). Every offer is `record`ed so the three stay true.
 */

import { withValue } from '../../src/mesos/resource-values.ts';
import { Resources, type ResourceEntry } from '../../src/mesos/resources.ts';

/** Scalar quantities by name, in thousandths. */
type Quantities = Map<string, number>;

function add(map: Quantities, name: string, delta: number): void {
  const next = (map.get(name) ?? 0) + delta;
  if (next <= 0) map.delete(name);
  else map.set(name, next);
}

export class Headroom {
  readonly #unmet: Map<string, Quantities>;
  readonly #required: Quantities;
  readonly #available: Quantities;

  private constructor(unmet: Map<string, Quantities>, required: Quantities, available: Quantities) {
    this.#unmet = unmet;
    this.#required = required;
    this.#available = available;
  }

  /**
   * The headroom at the start of a cycle, or `undefined` when every guarantee is met (then
   * nothing needs holding back and the cycle skips quota work entirely).
   *
   * @param quotas the guarantee of each role (unreserved scalars)
   * @param consumed what each role holds now, in thousandths by name
   * @param freeOnAgents the unallocated resources of each active agent
   */
  static compute(
    quotas: ReadonlyMap<string, Resources>,
    consumed: (role: string) => ReadonlyMap<string, number> | undefined,
    freeOnAgents: () => Iterable<Resources>,
  ): Headroom | undefined {
    const unmet = new Map<string, Quantities>();
    const required: Quantities = new Map();
    for (const [role, guarantee] of quotas) {
      const held = consumed(role);
      const lack: Quantities = new Map();
      for (const [name, millis] of guarantee.scalarMillis()) {
        const missing = millis - (held?.get(name) ?? 0);
        if (missing > 0) {
          lack.set(name, missing);
          add(required, name, missing);
        }
      }
      if (lack.size > 0) unmet.set(role, lack);
    }
    if (unmet.size === 0) return undefined;
    const available: Quantities = new Map();
    for (const free of freeOnAgents()) {
      for (const e of free.entries()) {
        if (e.reservations.length === 0 && e.value.type === 'SCALAR') add(available, e.name, e.value.millis);
      }
    }
    return new Headroom(unmet, required, available);
  }

  /** Whether `role` still lacks part of its guarantee. */
  lacks(role: string): boolean {
    return this.#unmet.has(role);
  }

  /** Unreserved `name` that may go to a role that does not need it for its own guarantee. */
  #slack(name: string): number {
    return Math.max(0, (this.#available.get(name) ?? 0) - (this.#required.get(name) ?? 0));
  }

  /**
   * Stage 1: what of `allocatable` (the agent's resources allocatable to a quota role) the role
   * gets toward its guarantee: the resources reserved to it, the guaranteed scalars it lacks
   * (cut to what it lacks), other scalars within the slack, and non-scalars (ports) whole.
   * Empty unless it holds something the role lacks.
   */
  forQuota(role: string, allocatable: Resources): Resources {
    const lack = this.#unmet.get(role);
    if (lack === undefined) return Resources.EMPTY;
    let useful = false;
    const out: ResourceEntry[] = [];
    for (const e of allocatable.entries()) {
      if (e.value.type !== 'SCALAR') {
        out.push(e);
        continue;
      }
      const need = lack.get(e.name) ?? 0;
      const limit = e.reservations.length > 0 ? e.value.millis : need > 0 ? need : this.#slack(e.name);
      const amount = Math.min(e.value.millis, limit);
      if (amount <= 0) continue;
      if (need > 0) useful = true;
      out.push(amount === e.value.millis ? e : withValue(e, { type: 'SCALAR', millis: amount }));
    }
    return useful ? Resources.fromEntries(out) : Resources.EMPTY;
  }

  /**
   * Stage 2: `allocatable` with each unreserved scalar that quota roles still need cut to the
   * slack plus what `role` itself lacks of it.
   */
  forFairShare(role: string, allocatable: Resources): Resources {
    if (this.#required.size === 0) return allocatable;
    const lack = this.#unmet.get(role);
    let cut = false;
    const out: ResourceEntry[] = [];
    for (const e of allocatable.entries()) {
      if (e.reservations.length > 0 || e.value.type !== 'SCALAR' || !this.#required.has(e.name)) {
        out.push(e);
        continue;
      }
      const amount = Math.min(e.value.millis, (lack?.get(e.name) ?? 0) + this.#slack(e.name));
      if (amount !== e.value.millis) cut = true;
      if (amount > 0) out.push(amount === e.value.millis ? e : withValue(e, { type: 'SCALAR', millis: amount }));
    }
    return cut ? Resources.fromEntries(out) : allocatable;
  }

  /** Accounts for `offered` going to `role`. */
  record(role: string, offered: Resources): void {
    const lack = this.#unmet.get(role);
    for (const e of offered.entries()) {
      if (e.value.type !== 'SCALAR') continue;
      const need = lack?.get(e.name) ?? 0;
      const used = Math.min(need, e.value.millis);
      if (used > 0) {
        add(lack!, e.name, -used);
        add(this.#required, e.name, -used);
      }
      if (e.reservations.length === 0) add(this.#available, e.name, -e.value.millis);
    }
    if (lack !== undefined && lack.size === 0) this.#unmet.delete(role);
  }
}
