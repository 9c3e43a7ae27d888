/**
 * The order of a hierarchical DRF sorter computed from scratch, level by level, for tests to
 * check the incremental sorter (and the allocator using it) against.
 */

import { DRFSorter } from '../../actors/allocator/sorter/drf.ts';
import type { ClusterTotals, Sorter } from '../../actors/allocator/sorter/sorter.ts';
import type { Resources } from '../../src/mesos/resources.ts';

export interface ModelClient {
  readonly alloc: Map<string, number>;
  active: boolean;
}

/**
 * The order computed from scratch, level by level: at each node, its children (one per next
 * path component present, plus `p/.` for a client `p` that has children) sorted by the
 * dominant share of everything allocated under them divided by their path's weight, ties by
 * path; an inner child contributes its own order, a leaf itself if active.
 */
export function levelByLevel(clients: ReadonlyMap<string, ModelClient>, weights: ReadonlyMap<string, number>, totals: ReadonlyMap<string, number>): string[] {
  const under = (path: string): string[] => [...clients.keys()].filter((c) => c === path || c.startsWith(`${path}/`));
  const shareOf = (members: readonly string[], path: string): number => {
    let s = 0;
    for (const [name, total] of totals) {
      const held = members.reduce((n, m) => n + (clients.get(m)!.alloc.get(name) ?? 0), 0);
      if (total > 0) s = Math.max(s, held / total);
    }
    return s / (weights.get(path) ?? 1);
  };
  const order = (prefix: string): string[] => {
    const inside = prefix === '' ? [...clients.keys()] : under(prefix).filter((c) => c !== prefix);
    const labels = new Set(inside.map((c) => c.slice(prefix === '' ? 0 : prefix.length + 1).split('/')[0]!));
    const kids: { path: string; share: number; leaf: string | undefined }[] = [];
    for (const label of labels) {
      const path = prefix === '' ? label : `${prefix}/${label}`;
      const members = under(path);
      const hasChildren = members.some((m) => m !== path);
      kids.push({ path, share: shareOf(members, path), leaf: hasChildren ? undefined : path });
    }
    if (prefix !== '' && clients.has(prefix)) kids.push({ path: `${prefix}/.`, share: shareOf([prefix], `${prefix}/.`), leaf: prefix });
    kids.sort((x, y) => x.share - y.share || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    return kids.flatMap((k) => (k.leaf === undefined ? order(k.path) : clients.get(k.leaf)!.active ? [k.leaf] : []));
  };
  return order('');
}

/** The DRF sorter with `/` hidden from it, so that every path is a flat sibling: the sorter before hierarchical roles. */
export class FlatSorter implements Sorter {
  readonly #drf: DRFSorter;

  constructor(totals: ClusterTotals) {
    this.#drf = new DRFSorter(totals);
  }

  add(client: string): void {
    this.#drf.add(hide(client));
  }

  remove(client: string): void {
    this.#drf.remove(hide(client));
  }

  contains(client: string): boolean {
    return this.#drf.contains(hide(client));
  }

  count(): number {
    return this.#drf.count();
  }

  activate(client: string): void {
    this.#drf.activate(hide(client));
  }

  deactivate(client: string): void {
    this.#drf.deactivate(hide(client));
  }

  updateWeight(client: string, weight: number): void {
    this.#drf.updateWeight(hide(client), weight);
  }

  allocated(client: string, agentId: string, resources: Resources): void {
    this.#drf.allocated(hide(client), agentId, resources);
  }

  unallocated(client: string, agentId: string, resources: Resources): void {
    this.#drf.unallocated(hide(client), agentId, resources);
  }

  sort(): string[] {
    return this.#drf.sort().map((c) => c.replaceAll(':', '/'));
  }

  view(): readonly string[] {
    return this.sort();
  }
}

function hide(path: string): string {
  return path.replaceAll('/', ':');
}
