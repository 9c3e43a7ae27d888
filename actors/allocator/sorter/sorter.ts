/**
 * The sorter contract of the hierarchical allocator, after Mesos's
 * `src/master/allocator/sorter/sorter.hpp`: a sorter orders clients (roles, or the frameworks
 * of one role) by who should be offered resources next.
 *
 * One deliberate difference from Mesos: sorters do not receive every agent's total. Every
 * sorter of one allocator reads one shared `ClusterTotals`, so adding an agent costs one
 * update rather than one per role, and each sorter notices the change through `version`.
 */

import type { Resources } from '../../../src/mesos/resources.ts';

/** The scalar totals of the cluster, by resource name, in thousandths, shared by all sorters. */
export class ClusterTotals {
  readonly #byAgent = new Map<string, Resources>();
  readonly #millis = new Map<string, number>();
  #version = 0;

  /** Changes whenever the totals change. */
  get version(): number {
    return this.#version;
  }

  /** The total of scalar `name`, in thousandths; 0 if no agent has it. */
  millis(name: string): number {
    return this.#millis.get(name) ?? 0;
  }

  /** Every scalar total, in thousandths. */
  scalarMillis(): ReadonlyMap<string, number> {
    return this.#millis;
  }

  /** How many agents are counted. */
  get agentCount(): number {
    return this.#byAgent.size;
  }

  /** Counts an agent's total (replacing what was counted for it before). */
  setAgent(agentId: string, total: Resources): void {
    this.removeAgent(agentId);
    this.#byAgent.set(agentId, total);
    this.#apply(total, 1);
  }

  /** Stops counting an agent; unknown agents are ignored. */
  removeAgent(agentId: string): void {
    const old = this.#byAgent.get(agentId);
    if (old === undefined) return;
    this.#byAgent.delete(agentId);
    this.#apply(old, -1);
  }

  #apply(resources: Resources, sign: 1 | -1): void {
    for (const [name, millis] of resources.scalarMillis()) {
      const next = (this.#millis.get(name) ?? 0) + sign * millis;
      if (next === 0) this.#millis.delete(name);
      else this.#millis.set(name, next);
    }
    this.#version++;
  }
}

/**
 * Orders clients for the allocator. Clients are added active; only active clients are
 * returned by `sort()`. Allocations are tracked per client whether it is active or not.
 * A client's name may be a `/`-separated path, which a sorter may read as a place in a tree
 * (the DRF sorter does: hierarchical roles); the random sorter treats every name alike.
 */
export interface Sorter {
  /** Adds a client, active, with no allocation. Throws if it is already there. */
  add(client: string): void;
  /** Removes a client and its allocation. Unknown clients are ignored. */
  remove(client: string): void;
  contains(client: string): boolean;
  /** How many clients, active or not. */
  count(): number;
  /** Makes a client eligible for `sort()` again. */
  activate(client: string): void;
  /** Keeps a client (and its allocation) but leaves it out of `sort()`. */
  deactivate(client: string): void;
  /**
   * Sets the weight of a path, present or future (default 1); a higher weight sorts earlier.
   * In a sorter with a tree, an inner path's weight applies to its whole subtree.
   */
  updateWeight(client: string, weight: number): void;
  /** Records that `resources` on `agentId` are now allocated to `client`. */
  allocated(client: string, agentId: string, resources: Resources): void;
  /** Records that `resources` on `agentId` are no longer allocated to `client`. */
  unallocated(client: string, agentId: string, resources: Resources): void;
  /** The active clients, the one to serve first first, as a fresh array. */
  sort(): string[];
  /**
   * The same order as `sort()` without copying when the sorter can avoid it: the array may be
   * the sorter's own and is valid only until the next call that changes the sorter.
   */
  view(): readonly string[];
}

/** Makes the sorter for roles, or for the frameworks of one role. */
export type SorterFactory = (totals: ClusterTotals) => Sorter;
