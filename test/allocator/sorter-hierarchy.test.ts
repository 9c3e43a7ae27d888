/**
 * The DRF sorter over `/`-separated paths (hierarchical roles, Mesos 1.5+ `DRFSorter`): inner
 * nodes compete with the sum of their subtree's allocation, level by level; a client with
 * children is its virtual leaf `x/.` among them. Ported scenarios keep Mesos's test names.
 */

import test from 'ava';
import fc from 'fast-check';

import { DRFSorter } from '../../actors/allocator/sorter/drf.ts';
import { ClusterTotals, type Sorter } from '../../actors/allocator/sorter/sorter.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { FlatSorter, levelByLevel, type ModelClient } from './level-by-level.ts';

const r = (text: string): Resources => Resources.parse(text);

function cluster(text: string): ClusterTotals {
  const totals = new ClusterTotals();
  totals.setAgent('agent', r(text));
  return totals;
}

test('DRFSorterTest.HierarchicalAllocation - a subtree competes as a whole, then its children among themselves', (t) => {
  const drf = new DRFSorter(cluster('cpus:100;mem:100'));
  for (const c of ['eng/web', 'eng/db', 'ops']) drf.add(c);
  drf.allocated('eng/web', 'agent', r('cpus:30'));
  drf.allocated('eng/db', 'agent', r('cpus:20'));
  drf.allocated('ops', 'agent', r('cpus:40'));
  // Flat, `eng/db` (0.2) and `eng/web` (0.3) would both come before `ops` (0.4). Nested, `eng`
  // holds 0.5 and `ops` 0.4: `ops` first, then `eng`'s children by their own shares.
  t.deepEqual(drf.sort(), ['ops', 'eng/db', 'eng/web']);
  t.is(drf.share('eng/web'), 0.3);

  // Giving back moves the whole subtree: `eng` at 0.35 is now below `ops`.
  drf.unallocated('eng/web', 'agent', r('cpus:15'));
  t.deepEqual(drf.sort(), ['eng/web', 'eng/db', 'ops']);
  drf.allocated('eng/db', 'agent', r('cpus:10'));
  t.deepEqual(drf.sort(), ['ops', 'eng/web', 'eng/db']);

  // Deeper levels nest the same way; an inactive client still counts in its ancestors.
  drf.add('ops/batch/spark');
  drf.allocated('ops/batch/spark', 'agent', r('cpus:10;mem:60'));
  t.deepEqual(drf.sort(), ['eng/web', 'eng/db', 'ops', 'ops/batch/spark']);
  drf.deactivate('ops/batch/spark');
  t.deepEqual(drf.sort(), ['eng/web', 'eng/db', 'ops']);
  drf.unallocated('ops/batch/spark', 'agent', r('cpus:10;mem:60'));
  t.deepEqual(drf.sort(), ['ops', 'eng/web', 'eng/db'], 'ops holds cpus:40 again, eng cpus:45');
});

test('DRFSorterTest.UpdateWeight - a weight on an inner path divides the whole subtree\'s share', (t) => {
  const drf = new DRFSorter(cluster('cpus:100;mem:100'));
  for (const c of ['eng/web', 'eng/db', 'ops']) drf.add(c);
  drf.allocated('eng/web', 'agent', r('cpus:30'));
  drf.allocated('eng/db', 'agent', r('cpus:20'));
  drf.allocated('ops', 'agent', r('cpus:40'));
  t.deepEqual(drf.sort(), ['ops', 'eng/db', 'eng/web']);

  drf.updateWeight('eng', 2); // eng: 0.5 / 2 = 0.25 < ops 0.4
  t.deepEqual(drf.sort(), ['eng/db', 'eng/web', 'ops']);
  drf.updateWeight('eng/web', 3); // eng/web: 0.3 / 3 = 0.1 < eng/db 0.2
  t.deepEqual(drf.sort(), ['eng/web', 'eng/db', 'ops']);
  t.is(drf.share('eng/web'), 0.3 / 3);

  // A weight set before the path exists applies when it appears.
  drf.updateWeight('ml', 10);
  drf.add('ml/train');
  drf.allocated('ml/train', 'agent', r('mem:90')); // ml: 0.9 / 10
  t.deepEqual(drf.sort(), ['ml/train', 'eng/web', 'eng/db', 'ops']);
});

test('DRFSorterTest.AddChildToLeaf - a client with children competes among them as its virtual leaf', (t) => {
  const drf = new DRFSorter(cluster('cpus:100;mem:100'));
  drf.add('eng');
  drf.add('ops');
  drf.updateWeight('eng', 2);
  drf.allocated('eng', 'agent', r('cpus:10'));
  drf.allocated('ops', 'agent', r('cpus:40'));
  t.is(drf.share('eng'), 0.05);
  t.deepEqual(drf.sort(), ['eng', 'ops']);

  // `eng` gets a child: the subtree `eng` (weight 2) now holds eng's 10 and eng/web's 30; the
  // client `eng` is `eng/.` inside it, at the weight of `eng/.` (1), as in Mesos.
  drf.add('eng/web');
  drf.allocated('eng/web', 'agent', r('cpus:30'));
  t.is(drf.share('eng'), 0.1);
  t.deepEqual(drf.sort(), ['eng', 'eng/web', 'ops'], 'eng 0.4 / 2 = 0.2 < ops 0.4; inside, eng/. 0.1 < eng/web 0.3');
  drf.allocated('eng', 'agent', r('cpus:25'));
  t.deepEqual(drf.sort(), ['eng/web', 'eng', 'ops']);
  drf.allocated('eng/web', 'agent', r('cpus:20'));
  t.deepEqual(drf.sort(), ['ops', 'eng', 'eng/web'], 'eng 0.85 / 2 > ops 0.4');

  // The virtual leaf is activated and deactivated like any client.
  drf.deactivate('eng');
  t.deepEqual(drf.sort(), ['ops', 'eng/web']);
  drf.activate('eng');
  t.deepEqual(drf.sort(), ['ops', 'eng', 'eng/web']);
  t.deepEqual([...drf.allocation('eng')], [['cpus', 35]]);
  t.is(drf.count(), 3);

  // A client added under an inactive leaf: the leaf stays inactive as a virtual leaf.
  drf.add('ops/etl');
  drf.deactivate('ops/etl');
  drf.add('ops/etl/nightly');
  t.deepEqual(drf.sort(), ['ops/etl/nightly', 'ops', 'eng', 'eng/web'], 'ops 0.4 < eng 0.425; inside, ops/etl 0 < ops/. 0.4');
  drf.activate('ops/etl');
  t.deepEqual(drf.sort(), ['ops/etl', 'ops/etl/nightly', 'ops', 'eng', 'eng/web']);
});

test('DRFSorterTest.RemoveLeafCollapseParent - removing the last child turns the parent back into a leaf', (t) => {
  const drf = new DRFSorter(cluster('cpus:100;mem:100'));
  drf.updateWeight('eng', 2);
  for (const c of ['eng', 'eng/web', 'eng/db', 'ops']) drf.add(c);
  drf.allocated('eng', 'agent', r('cpus:35'));
  drf.allocated('eng/web', 'agent', r('cpus:10'));
  drf.allocated('ops', 'agent', r('cpus:20'));
  t.deepEqual(drf.sort(), ['ops', 'eng/db', 'eng/web', 'eng'], 'eng 0.45 / 2 = 0.225 > ops 0.2');
  t.is(drf.share('eng'), 0.35);

  drf.remove('eng/web');
  t.deepEqual(drf.sort(), ['eng/db', 'eng', 'ops'], 'eng 0.35 / 2 < ops 0.2');
  drf.remove('eng/db');
  // Only `eng/.` was left: `eng` is a leaf again, at eng's weight 2.
  t.is(drf.share('eng'), 0.175);
  t.deepEqual(drf.sort(), ['eng', 'ops']);
  t.false(drf.contains('eng/db'));
  t.is(drf.count(), 2);

  // The same once the leaf was inactive.
  drf.add('ops/etl');
  drf.deactivate('ops');
  t.deepEqual(drf.sort(), ['eng', 'ops/etl']);
  drf.remove('ops/etl');
  t.deepEqual(drf.sort(), ['eng']);
  drf.activate('ops');
  t.deepEqual(drf.sort(), ['eng', 'ops']);
});

test('DRFSorterTest.RemoveLeaf - an inner node disappears with its last client', (t) => {
  const drf = new DRFSorter(cluster('cpus:100;mem:100'));
  drf.updateWeight('a', 4);
  drf.add('a/b/c');
  drf.add('x');
  drf.allocated('a/b/c', 'agent', r('cpus:40'));
  drf.allocated('x', 'agent', r('cpus:20'));
  t.deepEqual(drf.sort(), ['a/b/c', 'x'], 'a: 0.4 / 4');
  drf.remove('a/b/c');
  t.deepEqual(drf.sort(), ['x']);
  t.is(drf.count(), 1);

  // Had `a` survived as an (empty) inner node, the client `a` would be its virtual leaf `a/.`
  // at weight 1; it is a plain leaf at a's weight 4.
  drf.add('a');
  drf.allocated('a', 'agent', r('cpus:40'));
  t.is(drf.share('a'), 0.1);
  t.deepEqual(drf.sort(), ['a', 'x']);

  // Nothing is left over from the removed subtree.
  drf.add('a/b/c');
  t.deepEqual(drf.sort(), ['a/b/c', 'a', 'x'], 'inside a (0.4 / 4), a/b 0 < a/. 0.4');
  drf.remove('a');
  drf.remove('a/b/c');
  drf.remove('x');
  t.deepEqual(drf.sort(), []);
  t.is(drf.count(), 0);
});

test('DRFSorterTest.HierarchicalIterationOrder - a change of cluster totals re-sorts every level', (t) => {
  const totals = cluster('cpus:10;mem:100');
  const drf = new DRFSorter(totals);
  for (const c of ['cpu/a', 'cpu/b', 'mem/a', 'mem/b']) drf.add(c);
  drf.allocated('cpu/a', 'agent', r('cpus:3'));
  drf.allocated('cpu/b', 'agent', r('cpus:1;mem:20'));
  drf.allocated('mem/a', 'agent', r('mem:30'));
  drf.allocated('mem/b', 'agent', r('mem:10'));
  // cpu: cpus 0.4, mem 0.2 → 0.4; mem: 0.4 → tie, by path. Inside cpu: a 0.3, b 0.2.
  t.deepEqual(drf.sort(), ['cpu/b', 'cpu/a', 'mem/b', 'mem/a']);
  totals.setAgent('big-cpu', r('cpus:30')); // cpus total 40: cpu 0.2 (its mem), cpu/b by mem 0.2
  t.deepEqual(drf.sort(), ['cpu/a', 'cpu/b', 'mem/b', 'mem/a']);
  totals.setAgent('big-mem', r('mem:300')); // mem total 400: mem 0.1, cpu 0.1 (cpus 4/40): a tie, by path
  t.deepEqual(drf.sort(), ['cpu/b', 'cpu/a', 'mem/b', 'mem/a']);
  totals.removeAgent('big-cpu');
  t.deepEqual(drf.sort(), ['mem/b', 'mem/a', 'cpu/b', 'cpu/a']);
});

test('DRFSorter - paths with an empty or . component are invariant errors', (t) => {
  const drf = new DRFSorter(cluster('cpus:1'));
  t.throws(() => drf.add('a//b'), { message: /empty or '.' path component/ });
  t.throws(() => drf.add('a/.'), { message: /empty or '.' path component/ });
  t.throws(() => drf.add('/a'), { message: /empty or '.' path component/ });
  t.is(drf.count(), 0);
});

// ---------------------------------------------------------------------------------------------
// The property: the incremental tree always gives the order a level-by-level computation from
// scratch gives, whatever the sequence of adds, removes, allocations, weights (on any path,
// inner ones included), activations and changes of the cluster totals.

const PATHS = ['a', 'a/b', 'a/c', 'a/b/d', 'b', 'b/x', 'c/y/z', 'd'];
const WEIGHTED = [...PATHS, 'c', 'c/y', 'a/.'];

type Op =
  | { kind: 'add' | 'remove' | 'toggle'; client: string }
  | { kind: 'alloc'; client: string; cpus: number; mem: number }
  | { kind: 'free'; client: string; fraction: number }
  | { kind: 'weight'; path: string; weight: number }
  | { kind: 'agent'; cpus: number; mem: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const, 'toggle' as const), client: fc.constantFrom(...PATHS) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('alloc' as const), client: fc.constantFrom(...PATHS), cpus: fc.integer({ min: 0, max: 9 }), mem: fc.integer({ min: 0, max: 90 }) }) },
  fc.record({ kind: fc.constant('free' as const), client: fc.constantFrom(...PATHS), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('weight' as const), path: fc.constantFrom(...WEIGHTED), weight: fc.constantFrom(0.5, 1, 2, 3) }) },
  fc.record({ kind: fc.constant('agent' as const), cpus: fc.integer({ min: 1, max: 50 }), mem: fc.integer({ min: 1, max: 500 }) }),
);
/** Some weights and clients to start with, then the operations. */
const runArb = fc.tuple(
  fc.array(fc.record({ kind: fc.constant('weight' as const), path: fc.constantFrom(...WEIGHTED), weight: fc.constantFrom(0.5, 2, 3) }), { maxLength: 3 }),
  fc.subarray(PATHS, { minLength: 3 }),
  fc.array(opArb, { maxLength: 80 }),
);

/** Runs the operations; returns the first step where the sorter's order differs from the level-by-level one. */
function mismatch(weighted: readonly Op[], initial: readonly string[], ops: readonly Op[], make: (totals: ClusterTotals) => Sorter): string | undefined {
  const totals = cluster('cpus:10;mem:100');
  const totalMillis = new Map([
    ['cpus', 10_000],
    ['mem', 100_000],
  ]);
  const sorter = make(totals);
  const model = new Map<string, ModelClient>();
  const weights = new Map<string, number>();
  let agents = 0;
  for (const o of [...weighted, ...initial.map((client): Op => ({ kind: 'add', client })), ...ops]) {
    if (o.kind === 'agent') {
      totals.setAgent(`extra-${agents++}`, r(`cpus:${o.cpus};mem:${o.mem}`));
      totalMillis.set('cpus', totalMillis.get('cpus')! + o.cpus * 1000);
      totalMillis.set('mem', totalMillis.get('mem')! + o.mem * 1000);
    } else if (o.kind === 'weight') {
      sorter.updateWeight(o.path, o.weight);
      weights.set(o.path, o.weight);
    } else if (o.kind === 'add') {
      if (model.has(o.client)) continue;
      sorter.add(o.client);
      model.set(o.client, { alloc: new Map(), active: true });
    } else if (o.kind === 'remove') {
      sorter.remove(o.client);
      model.delete(o.client);
    } else {
      const c = model.get(o.client);
      if (c === undefined) continue;
      if (o.kind === 'alloc') {
        sorter.allocated(o.client, 'agent', r(`cpus:${o.cpus};mem:${o.mem}`));
        c.alloc.set('cpus', (c.alloc.get('cpus') ?? 0) + o.cpus * 1000);
        c.alloc.set('mem', (c.alloc.get('mem') ?? 0) + o.mem * 1000);
      } else if (o.kind === 'free') {
        const cpus = Math.floor(((c.alloc.get('cpus') ?? 0) * o.fraction) / 1000);
        const mem = Math.floor(((c.alloc.get('mem') ?? 0) * (1 - o.fraction)) / 1000);
        sorter.unallocated(o.client, 'agent', r(`cpus:${cpus};mem:${mem}`));
        c.alloc.set('cpus', (c.alloc.get('cpus') ?? 0) - cpus * 1000);
        c.alloc.set('mem', (c.alloc.get('mem') ?? 0) - mem * 1000);
      } else {
        if (c.active) sorter.deactivate(o.client);
        else sorter.activate(o.client);
        c.active = !c.active;
      }
    }
    const expected = levelByLevel(model, weights, totalMillis);
    const actual = sorter.sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      return `after ${JSON.stringify(o)}: sorter ${JSON.stringify(actual)}, level by level ${JSON.stringify(expected)}`;
    }
    if (sorter.count() !== model.size) return `count ${sorter.count()}, expected ${model.size}`;
  }
  return undefined;
}

test('DRFSorter - with nested paths, the incremental order always equals a level-by-level computation', (t) => {
  fc.assert(
    fc.property(runArb, ([weighted, initial, ops]) => {
      const problem = mismatch(weighted, initial, ops, (totals) => new DRFSorter(totals));
      if (problem !== undefined) throw new Error(problem);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('DRFSorter - the level-by-level property fails for a flat sorter', (t) => {
  const result = fc.check(
    fc.property(runArb, ([weighted, initial, ops]) => mismatch(weighted, initial, ops, (totals) => new FlatSorter(totals)) === undefined),
    { numRuns: 300, seed: 1 },
  );
  t.true(result.failed, 'a flat sorter should break the level-by-level property');
  t.true(result.numRuns <= 30, `found only after ${result.numRuns} runs`);
});
