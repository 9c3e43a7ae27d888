/**
 * The Dominant Resource Fairness sorter (Ghodsi et al., NSDI 2011; Mesos's `DRFSorter`),
 * hierarchical over `/`-separated client paths as Mesos's is since 1.5 (`roles.md`,
 * "Hierarchical roles").
 *
 * A node's share is the largest fraction of any scalar resource of the cluster it holds,
 * divided by its weight: `max over names of allocated(name) / total(name)`, `/ weight`.
 *
 * Clients are the leaves of a tree by their path: `eng/web` and `eng/db` are children of an
 * inner node `eng`, which holds the sum of their allocations and competes, with the weight of
 * `eng`, against its own siblings (`ops`). `sort()` walks the tree depth first, taking the
 * children of each node by ascending share, ties by path, so `eng` as a whole competes with
 * `ops`, then `eng/web` with `eng/db` inside it. A client that also has children (`eng` next to
 * `eng/web`) is the virtual leaf `eng/.` among them, holding what `eng` itself was allocated;
 * its weight is that of the path `eng/.` (1 unless set), as in Mesos. An inner node disappears
 * with its last client, and becomes a leaf again when only its virtual leaf is left.
 * Allocations count in every ancestor whether the client is active or not.
 *
 * The order is kept incrementally. Each inner node keeps its filed children (active leaves and
 * inner nodes) in an array sorted by `(share, path)`; a change to one client's allocation moves
 * the client within its parent, then the parent within its own parent, and so on up (binary
 * search out, binary search in at each level: O(depth × log n) comparisons, then the siblings
 * passed shift by one). With no `/` in any path the tree is just the root, whose array is
 * the order itself; otherwise the order is the depth-first walk, redone on the next read after
 * a change that moved something. Only a change of the cluster totals, which changes every
 * share, recomputes all shares and re-sorts, and lazily, on the next read: O(n log n) once
 * per change of totals.
 */

import type { Resources } from '../../../src/mesos/resources.ts';
import { ClusterTotals, type Sorter } from './sorter.ts';

/** The path component of a client's own leaf once it has children (Mesos's virtual leaf). */
const VIRTUAL = '.';

interface Node {
  /** The last path component; `.` for a virtual leaf. */
  label: string;
  /** The full path: what ties sort by and weights are looked up under (`eng/.` for a virtual leaf). */
  path: string;
  /** What `names` holds for it: the client of a leaf (`eng` for `eng/.`), the path of an inner node. */
  name: string;
  /** `undefined` for the root only. */
  parent: Node | undefined;
  weight: number;
  /** Leaves: whether the client is active. Inner nodes are always filed in their parent. */
  active: boolean;
  /** The share the node is filed under in its parent; recomputed with the allocation. */
  share: number;
  /** Allocated scalars by name, in thousandths: a leaf's own, an inner node's subtree's. */
  readonly allocation: Map<string, number>;
  /** Inner nodes: the children by label. `undefined` for leaves. */
  children: Map<string, Node> | undefined;
  /** Inner nodes: the filed children by `(share, path)`, and their names in the same order. */
  readonly order: Node[];
  readonly names: string[];
}

function compare(a: Node, b: Node): number {
  if (a.share !== b.share) return a.share < b.share ? -1 : 1;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Whether a node sits in its parent's `order`: every inner node, and active leaves. */
function filed(n: Node): boolean {
  return n.active || n.children !== undefined;
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
 *
 * drf.add('eng/web');
 * drf.add('eng/db');
 * drf.allocated('eng/web', 'a1', Resources.parse('cpus:3'));
 * drf.sort(); // ['B', 'A', 'eng/db', 'eng/web']: `eng` as a whole holds 1/3 of the CPUs
 */
export class DRFSorter implements Sorter {
  readonly #totals: ClusterTotals;
  /** Leaves by client path. */
  readonly #clients = new Map<string, Node>();
  /** Every node but the root, by path (a virtual leaf as `eng/.`). */
  readonly #nodes = new Map<string, Node>();
  readonly #weights = new Map<string, number>();
  readonly #root: Node = makeNode('', '', undefined, 1, true);
  /** Inner nodes besides the root; while 0, the root's `names` is the order. */
  #inner = 0;
  /** The depth-first order of a tree with inner nodes, and whether it needs redoing. */
  #flat: string[] = [];
  #flatStale = false;
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
    const labels = client.split('/');
    for (const label of labels) {
      if (label === '' || label === VIRTUAL) throw new Error(`DRF sorter client '${client}' has an empty or '.' path component`);
    }
    this.#refresh();
    // Walk down the path, creating what is missing (`mkdir -p`); a client leaf on the way
    // becomes an inner node holding it as its virtual leaf.
    let current = this.#root;
    let created = false;
    for (let k = 0; k < labels.length; k++) {
      if (current.children === undefined) current = this.#split(current);
      const label = labels[k]!;
      let next = current.children!.get(label);
      created = next === undefined;
      if (next === undefined) {
        const last = k === labels.length - 1;
        next = this.#attach(label, current, !last, client);
      }
      current = next;
    }
    // The path was an inner node already (`eng` while `eng/web` is there): its virtual leaf.
    const leaf = created ? current : this.#attach(VIRTUAL, current, false, client);
    this.#clients.set(client, leaf);
  }

  remove(client: string): void {
    const leaf = this.#clients.get(client);
    if (leaf === undefined) return;
    this.#refresh();
    const root = this.#root;
    // Its allocation leaves every ancestor, each refiled in its own parent.
    if (leaf.allocation.size > 0) {
      for (let n = leaf.parent!; n !== root; n = n.parent!) {
        const i = this.#indexOf(n);
        subtract(n, leaf.allocation);
        this.#refile(n, i);
      }
    }
    this.#detach(leaf);
    this.#clients.delete(client);
    // Prune: an inner node without children goes; one left with only its virtual leaf
    // becomes that client's leaf again.
    for (let n = leaf.parent!; n !== root; ) {
      const up = n.parent!;
      if (n.children!.size === 0) {
        this.#detach(n);
        this.#inner--;
      } else if (n.children!.size === 1 && n.children!.has(VIRTUAL)) {
        this.#merge(n);
      }
      n = up;
    }
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

  /**
   * Sets the weight of a path, present or future: a client's, or an inner node's (the weight
   * of `eng` divides the share of the whole `eng` subtree among its siblings).
   */
  updateWeight(path: string, weight: number): void {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new Error(`weight of '${path}' must be positive, got ${weight}`);
    this.#weights.set(path, weight);
    const n = this.#nodes.get(path);
    if (n === undefined) return;
    this.#refresh();
    const i = filed(n) ? this.#indexOf(n) : -1;
    n.weight = weight;
    this.#refile(n, i);
  }

  allocated(client: string, _agentId: string, resources: Resources): void {
    const leaf = this.#get(client);
    this.#refresh();
    const scalars = resources.scalarMillis();
    const root = this.#root;
    for (let n = leaf; n !== root; n = n.parent!) {
      const i = filed(n) ? this.#indexOf(n) : -1;
      const allocation = n.allocation;
      for (const [name, millis] of scalars) allocation.set(name, (allocation.get(name) ?? 0) + millis);
      this.#refile(n, i);
    }
  }

  unallocated(client: string, _agentId: string, resources: Resources): void {
    const leaf = this.#get(client);
    const scalars = resources.scalarMillis();
    for (const [name, millis] of scalars) {
      const left = (leaf.allocation.get(name) ?? 0) - millis;
      if (left < 0) throw new Error(`client '${client}' would hold ${left / 1000} ${name}`);
    }
    this.#refresh();
    const root = this.#root;
    for (let n = leaf; n !== root; n = n.parent!) {
      const i = filed(n) ? this.#indexOf(n) : -1;
      subtract(n, scalars);
      this.#refile(n, i);
    }
  }

  sort(): string[] {
    return [...this.view()];
  }

  view(): readonly string[] {
    this.#refresh();
    if (this.#inner === 0) return this.#root.names;
    if (this.#flatStale) {
      // Written over the previous walk in place: no garbage per read.
      const flat = this.#flat;
      flat.length = collect(this.#root, flat, 0);
      this.#flatStale = false;
    }
    return this.#flat;
  }

  /**
   * The client's weighted dominant share among its siblings, e.g. `0.5` for half of the
   * cluster's CPUs at weight 1.
   */
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

  #get(client: string): Node {
    const c = this.#clients.get(client);
    if (c === undefined) throw new Error(`DRF sorter has no client '${client}'`);
    return c;
  }

  #shareOf(n: Node): number {
    let share = 0;
    for (const [name, millis] of n.allocation) {
      const total = this.#totals.millis(name);
      if (total > 0) {
        const s = millis / total;
        if (s > share) share = s;
      }
    }
    return share / n.weight;
  }

  /** Makes a new child of `parent`, empty, and files it; a leaf is an active client. */
  #attach(label: string, parent: Node, inner: boolean, client: string): Node {
    const path = parent === this.#root ? label : `${parent.path}/${label}`;
    const n = makeNode(label, path, parent, this.#weights.get(path) ?? 1, !inner);
    n.name = inner ? path : client;
    if (inner) {
      n.children = new Map();
      this.#inner++;
    }
    parent.children!.set(label, n);
    this.#nodes.set(path, n);
    this.#insert(n);
    return n;
  }

  /** Takes a node (and its subtree) out of the tree; its allocation is the caller's business. */
  #detach(n: Node): void {
    if (filed(n)) this.#unlink(n);
    n.parent!.children!.delete(n.label);
    this.#nodes.delete(n.path);
  }

  /**
   * Turns client leaf `leaf` into an inner node of the same path, same allocation and same
   * share (so it takes the leaf's place in its parent), with the leaf as its virtual child.
   * Returns the inner node.
   */
  #split(leaf: Node): Node {
    const parent = leaf.parent!;
    const inner = makeNode(leaf.label, leaf.path, parent, leaf.weight, false);
    inner.children = new Map();
    inner.share = leaf.share;
    for (const [name, millis] of leaf.allocation) inner.allocation.set(name, millis);
    if (leaf.active) {
      const i = this.#indexOf(leaf);
      parent.order[i] = inner;
      parent.names[i] = inner.name;
    } else {
      this.#insert(inner);
    }
    parent.children!.set(inner.label, inner);
    this.#nodes.set(inner.path, inner);
    this.#inner++;

    leaf.label = VIRTUAL;
    leaf.path = `${inner.path}/${VIRTUAL}`;
    leaf.parent = inner;
    leaf.weight = this.#weights.get(leaf.path) ?? 1;
    leaf.share = this.#shareOf(leaf);
    inner.children.set(VIRTUAL, leaf);
    this.#nodes.set(leaf.path, leaf);
    if (leaf.active) this.#insert(leaf);
    this.#flatStale = true;
    return inner;
  }

  /** The reverse of `#split`: inner node `n`, whose only child is its virtual leaf, is replaced by it. */
  #merge(n: Node): void {
    const leaf = n.children!.get(VIRTUAL)!;
    const parent = n.parent!;
    const i = this.#indexOf(n);
    this.#nodes.delete(leaf.path);
    leaf.label = n.label;
    leaf.path = n.path;
    leaf.parent = parent;
    leaf.weight = n.weight;
    leaf.share = this.#shareOf(leaf);
    parent.children!.set(n.label, leaf);
    this.#nodes.set(n.path, leaf);
    this.#inner--;
    if (leaf.active) {
      // Same allocation, weight and path as `n`: it takes `n`'s place.
      parent.order[i] = leaf;
      parent.names[i] = leaf.name;
      this.#refile(leaf, i);
    } else {
      parent.order.splice(i, 1);
      parent.names.splice(i, 1);
    }
    this.#flatStale = true;
  }

  /**
   * Recomputes the share of a node whose allocation or weight changed and moves it from index
   * `i` of its parent's order to its new place, shifting only the siblings it passes (no
   * `splice`: one pass, no garbage). Often it stays between its neighbours and nothing moves.
   */
  #refile(c: Node, i: number): void {
    c.share = this.#shareOf(c);
    if (i < 0) return;
    const parent = c.parent!;
    const order = parent.order;
    const names = parent.names;
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
      this.#flatStale = true;
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
      this.#flatStale = true;
    }
  }

  /** After the cluster totals changed, recomputes every share and re-sorts every level. */
  #refresh(): void {
    if (this.#seenVersion === this.#totals.version) return;
    this.#seenVersion = this.#totals.version;
    for (const n of this.#nodes.values()) n.share = this.#shareOf(n);
    resort(this.#root);
    for (const n of this.#nodes.values()) if (n.children !== undefined) resort(n);
    this.#flatStale = true;
  }

  /** The first index of its parent's order whose node sorts at or after `c`. */
  #lowerBound(c: Node): number {
    const order = c.parent!.order;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(order[mid]!, c) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(c: Node): void {
    c.share = this.#shareOf(c);
    const i = this.#lowerBound(c);
    c.parent!.order.splice(i, 0, c);
    c.parent!.names.splice(i, 0, c.name);
    this.#flatStale = true;
  }

  /** Where a filed node is in its parent's order, found by its current `share`. */
  #indexOf(c: Node): number {
    const i = this.#lowerBound(c);
    if (c.parent!.order[i] !== c) throw new Error(`DRF sorter lost track of '${c.path}'`);
    return i;
  }

  #unlink(c: Node): void {
    const i = this.#indexOf(c);
    c.parent!.order.splice(i, 1);
    c.parent!.names.splice(i, 1);
    this.#flatStale = true;
  }
}

function makeNode(label: string, path: string, parent: Node | undefined, weight: number, active: boolean): Node {
  return {
    label,
    path,
    name: path,
    parent,
    weight,
    active,
    share: 0,
    allocation: new Map(),
    children: parent === undefined ? new Map() : undefined,
    order: [],
    names: [],
  };
}

function subtract(n: Node, scalars: ReadonlyMap<string, number>): void {
  const allocation = n.allocation;
  for (const [name, millis] of scalars) {
    const left = (allocation.get(name) ?? 0) - millis;
    if (left < 0) throw new Error(`DRF sorter node '${n.path}' would hold ${left / 1000} ${name}`);
    if (left === 0) allocation.delete(name);
    else allocation.set(name, left);
  }
}

function resort(n: Node): void {
  n.order.sort(compare);
  for (let k = 0; k < n.order.length; k++) n.names[k] = n.order[k]!.name;
}

/** Writes the active clients under `n` into `out` from index `at`, depth first, each level in its order; returns the next index. */
function collect(n: Node, out: string[], at: number): number {
  const order = n.order;
  for (let k = 0; k < order.length; k++) {
    const child = order[k]!;
    if (child.children === undefined) out[at++] = child.name;
    else at = collect(child, out, at);
  }
  return at;
}
