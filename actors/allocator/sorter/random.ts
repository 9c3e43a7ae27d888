/**
 * The weighted random sorter (Mesos's `RandomSorter`): every `sort()` returns a fresh random
 * order of the active clients in which a client of weight `w` comes first with probability
 * `w / sum of weights`, and so on down the list (weighted sampling without replacement).
 *
 * Randomness comes from a seeded generator, so a run is reproducible from its seed.
 * Each `sort()` costs O(n log n): it draws one key per client (Efraimidis and Spirakis:
 * `-ln(u) / w`, smallest first) and sorts by it.
 */

import type { Resources } from '../../../src/mesos/resources.ts';
import type { Sorter } from './sorter.ts';
import { Prng } from '../../../src/random.ts';

export { Prng } from '../../../src/random.ts';

interface Client {
  weight: number;
  active: boolean;
}

/**
 * @example
 * const sorter = new RandomSorter(7);
 * sorter.add('a');
 * sorter.add('b');
 * sorter.updateWeight('b', 3);
 * sorter.sort(); // ['b', 'a'] three times in four
 */
export class RandomSorter implements Sorter {
  readonly #prng: Prng;
  readonly #clients = new Map<string, Client>();
  readonly #weights = new Map<string, number>();

  /** @param seed seeds the generator; the same seed and calls give the same orders. */
  constructor(seed: number) {
    this.#prng = new Prng(seed);
  }

  add(client: string): void {
    if (this.#clients.has(client)) throw new Error(`random sorter already has client '${client}'`);
    this.#clients.set(client, { weight: this.#weights.get(client) ?? 1, active: true });
  }

  remove(client: string): void {
    this.#clients.delete(client);
  }

  contains(client: string): boolean {
    return this.#clients.has(client);
  }

  count(): number {
    return this.#clients.size;
  }

  activate(client: string): void {
    this.#get(client).active = true;
  }

  deactivate(client: string): void {
    this.#get(client).active = false;
  }

  updateWeight(client: string, weight: number): void {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new Error(`weight of '${client}' must be positive, got ${weight}`);
    this.#weights.set(client, weight);
    const c = this.#clients.get(client);
    if (c !== undefined) c.weight = weight;
  }

  /** Allocations do not affect a random order; only checks the client exists. */
  allocated(client: string, _agentId: string, _resources: Resources): void {
    this.#get(client);
  }

  unallocated(client: string, _agentId: string, _resources: Resources): void {
    this.#get(client);
  }

  sort(): string[] {
    const keyed: { name: string; key: number }[] = [];
    for (const [name, c] of this.#clients) {
      if (!c.active) continue;
      // 1 - next() is in (0, 1], so the logarithm is finite.
      keyed.push({ name, key: -Math.log(1 - this.#prng.next()) / c.weight });
    }
    keyed.sort((x, y) => x.key - y.key || (x.name < y.name ? -1 : 1));
    return keyed.map((k) => k.name);
  }

  view(): readonly string[] {
    return this.sort();
  }

  #get(client: string): Client {
    const c = this.#clients.get(client);
    if (c === undefined) throw new Error(`random sorter has no client '${client}'`);
    return c;
  }
}
