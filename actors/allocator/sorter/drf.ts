/**
 * The Dominant Resource Fairness sorter (Ghodsi et al., NSDI 2011; Mesos's `DRFSorter`).
 *
 * A client's share is the largest fraction of any scalar resource of the cluster it holds,
 * divided by its weight: `max over names of allocated(name) / total(name)`, `/ weight`.
 * Clients sort by ascending share, ties by name, so the client furthest below its fair share
 * is served first.
 *
 * The order is kept incrementally. Active clients sit in an array sorted by `(share, name)`;
 * a change to one client's allocation or weight moves only that client (binary search out,
 * binary search in: O(log n) comparisons, then the clients it passes shift by one).
 * Only a change of the cluster totals, which changes every share, recomputes all shares and
 * re-sorts, and lazily, on the next read: O(n log n) once per change of totals.
 */

import type { Resources } from '../../../src/mesos/resources.ts';
import { ClusterTotals, type Sorter } from './sorter.ts';

interface Client {
  readonly name: string;
  weight: number;
  active: boolean;
  /** The share the client is filed under in `#order`; recomputed with the allocation. */
  share: number;
  /** Allocated scalars by name, in thousandths. */
  readonly allocation: Map<string, number>;
}

function compare(a: Client, b: Client): number {
  if (a.share !== b.share) return a.share < b.share ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * @example
 * const totals = new ClusterTotals();
 * totals.setAgent('a1', Resources.parse('cpus:9;mem:18432'));
 * const drf = new DRFSorter(totals);
 * drf.add('A');
 * drf.add('B');
 * drf.allocated('A', 'a1', Resources.parse('cpus:1;mem:4096'));
 * drf.sort(); // ['B', 'A']
 */
export class DRFSorter implements Sorter {
  readonly #totals: ClusterTotals;
  readonly #clients = new Map<string, Client>();
  readonly #weights = new Map<string, number>();
  /** Active clients by `(share, name)`, and their names in the same order. */
  #order: Client[] = [];
  #names: string[] = [];
  #seenVersion: number;

  constructor(totals: ClusterTotals = new ClusterTotals()) {
    this.#totals = totals;
    this.#seenVersion = totals.version;
  }

  /** The cluster totals shares are computed against. */
  get totals(): ClusterTotals {
    return this.#totals;
  }

  add(client: string): void {
    if (this.#clients.has(client)) throw new Error(`DRF sorter already has client '${client}'`);
    this.#refresh();
    const c: Client = { name: client, weight: this.#weights.get(client) ?? 1, active: true, share: 0, allocation: new Map() };
    this.#clients.set(client, c);
    this.#insert(c);
  }

  remove(client: string): void {
    const c = this.#clients.get(client);
    if (c === undefined) return;
    this.#refresh();
    if (c.active) this.#unlink(c);
    this.#clients.delete(client);
  }

  contains(client: string): boolean {
    return this.#clients.has(client);
  }

  count(): number {
    return this.#clients.size;
  }

  activate(client: string): void {
    const c = this.#get(client);
    if (c.active) return;
    this.#refresh();
    c.active = true;
    this.#insert(c);
  }

  deactivate(client: string): void {
    const c = this.#get(client);
    if (!c.active) return;
    this.#refresh();
    this.#unlink(c);
    c.active = false;
  }

  updateWeight(client: string, weight: number): void {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new Error(`weight of '${client}' must be positive, got ${weight}`);
    this.#weights.set(client, weight);
    const c = this.#clients.get(client);
    if (c === undefined) return;
    const i = this.#position(c);
    c.weight = weight;
    this.#refile(c, i);
  }

  allocated(client: string, _agentId: string, resources: Resources): void {
    const c = this.#get(client);
    const i = this.#position(c);
    const allocation = c.allocation;
    for (const [name, millis] of resources.scalarMillis()) allocation.set(name, (allocation.get(name) ?? 0) + millis);
    this.#refile(c, i);
  }

  unallocated(client: string, _agentId: string, resources: Resources): void {
    const c = this.#get(client);
    const i = this.#position(c);
    const allocation = c.allocation;
    for (const [name, millis] of resources.scalarMillis()) {
      const left = (allocation.get(name) ?? 0) - millis;
      if (left < 0) throw new Error(`client '${client}' would hold ${left / 1000} ${name}`);
      if (left === 0) allocation.delete(name);
      else allocation.set(name, left);
    }
    this.#refile(c, i);
  }

  sort(): string[] {
    return [...this.view()];
  }

  view(): readonly string[] {
    this.#refresh();
    return this.#names;
  }

  /** The client's weighted dominant share, e.g. `0.5` for half of the cluster's CPUs at weight 1. */
  share(client: string): number {
    this.#refresh();
    return this.#get(client).share;
  }

  /** The client's allocated scalars, in natural units. */
  allocation(client: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, millis] of this.#get(client).allocation) out.set(name, millis / 1000);
    return out;
  }

  #get(client: string): Client {
    const c = this.#clients.get(client);
    if (c === undefined) throw new Error(`DRF sorter has no client '${client}'`);
    return c;
  }

  #shareOf(c: Client): number {
    let share = 0;
    for (const [name, millis] of c.allocation) {
      const total = this.#totals.millis(name);
      if (total > 0) {
        const s = millis / total;
        if (s > share) share = s;
      }
    }
    return share / c.weight;
  }

  /** Where a client is filed before its allocation or weight changes; -1 if inactive. */
  #position(c: Client): number {
    this.#refresh();
    return c.active ? this.#indexOf(c) : -1;
  }

  /**
   * Recomputes the share of a client whose allocation or weight changed and moves it from
   * index `i` to its new place, shifting only the clients it passes (no `splice`: one pass,
   * no garbage). Often it stays between its neighbours and nothing moves.
   */
  #refile(c: Client, i: number): void {
    c.share = this.#shareOf(c);
    if (i < 0) return;
    const order = this.#order;
    const names = this.#names;
    if (i > 0 && compare(order[i - 1]!, c) > 0) {
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compare(order[mid]!, c) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (let k = i; k > lo; k--) {
        order[k] = order[k - 1]!;
        names[k] = names[k - 1]!;
      }
      order[lo] = c;
      names[lo] = c.name;
    } else if (i + 1 < order.length && compare(c, order[i + 1]!) > 0) {
      let lo = i + 1;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compare(order[mid]!, c) < 0) lo = mid + 1;
        else hi = mid;
      }
      for (let k = i; k < lo - 1; k++) {
        order[k] = order[k + 1]!;
        names[k] = names[k + 1]!;
      }
      order[lo - 1] = c;
      names[lo - 1] = c.name;
    }
  }

  /** After the cluster totals changed, recomputes every share and re-sorts. */
  #refresh(): void {
    if (this.#seenVersion === this.#totals.version) return;
    this.#seenVersion = this.#totals.version;
    for (const c of this.#clients.values()) c.share = this.#shareOf(c);
    this.#order.sort(compare);
    this.#names = this.#order.map((c) => c.name);
  }

  /** The first index whose client sorts at or after `c`. */
  #lowerBound(c: Client): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.#order[mid]!, c) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(c: Client): void {
    c.share = this.#shareOf(c);
    const i = this.#lowerBound(c);
    this.#order.splice(i, 0, c);
    this.#names.splice(i, 0, c.name);
  }

  /** Where an active client is filed, found by its current `share`. */
  #indexOf(c: Client): number {
    const i = this.#lowerBound(c);
    if (this.#order[i] !== c) throw new Error(`DRF sorter lost track of client '${c.name}'`);
    return i;
  }

  #unlink(c: Client): void {
    const i = this.#indexOf(c);
    this.#order.splice(i, 1);
    this.#names.splice(i, 1);
  }
}
