import test from 'ava';
import fc from 'fast-check';

import { DRFSorter } from '../../actors/allocator/sorter/drf.ts';
import { Prng, RandomSorter } from '../../actors/allocator/sorter/random.ts';
import { ClusterTotals } from '../../actors/allocator/sorter/sorter.ts';
import { Resources } from '../../src/mesos/resources.ts';

const r = (text: string): Resources => Resources.parse(text);

function cluster(text: string): ClusterTotals {
  const totals = new ClusterTotals();
  totals.setAgent('agent', r(text));
  return totals;
}

test('DRFSorter - sorts by dominant share, ties by name', (t) => {
  const drf = new DRFSorter(cluster('cpus:10;mem:100'));
  for (const c of ['c', 'b', 'a']) drf.add(c);
  t.deepEqual(drf.sort(), ['a', 'b', 'c']);

  drf.allocated('a', 'agent', r('cpus:1;mem:50')); // dominant: mem, 0.5
  drf.allocated('b', 'agent', r('cpus:3;mem:10')); // dominant: cpus, 0.3
  t.deepEqual(drf.sort(), ['c', 'b', 'a']);
  t.is(drf.share('a'), 0.5);
  t.is(drf.share('b'), 0.3);

  drf.unallocated('a', 'agent', r('mem:40')); // now 0.1 (cpus and mem)
  t.deepEqual(drf.sort(), ['c', 'a', 'b']);
  t.deepEqual([...drf.allocation('a')], [
    ['cpus', 1],
    ['mem', 10],
  ]);
});

test('DRFSorter - weights divide the share', (t) => {
  const drf = new DRFSorter(cluster('cpus:10'));
  drf.add('heavy');
  drf.add('light');
  drf.updateWeight('heavy', 3);
  drf.allocated('heavy', 'agent', r('cpus:6')); // 0.6 / 3 = 0.2
  drf.allocated('light', 'agent', r('cpus:3')); // 0.3
  t.deepEqual(drf.sort(), ['heavy', 'light']);
  drf.updateWeight('heavy', 1);
  t.deepEqual(drf.sort(), ['light', 'heavy']);
  drf.updateWeight('later', 10);
  drf.add('later');
  drf.allocated('later', 'agent', r('cpus:1')); // 0.1 / 10
  t.deepEqual(drf.sort(), ['later', 'light', 'heavy']);
});

test('DRFSorter - inactive clients keep their allocation but are not sorted', (t) => {
  const drf = new DRFSorter(cluster('cpus:10'));
  drf.add('a');
  drf.add('b');
  drf.allocated('a', 'agent', r('cpus:5'));
  drf.deactivate('a');
  t.deepEqual(drf.sort(), ['b']);
  drf.allocated('b', 'agent', r('cpus:7'));
  drf.activate('a');
  t.deepEqual(drf.sort(), ['a', 'b']);
  t.is(drf.count(), 2);
  drf.remove('a');
  t.false(drf.contains('a'));
  t.deepEqual(drf.sort(), ['b']);
});

test('DRFSorter - a change of cluster totals re-sorts every client', (t) => {
  const totals = cluster('cpus:10;mem:100');
  const drf = new DRFSorter(totals);
  drf.add('cpu-heavy');
  drf.add('mem-heavy');
  drf.allocated('cpu-heavy', 'agent', r('cpus:4')); // 0.4
  drf.allocated('mem-heavy', 'agent', r('mem:30')); // 0.3
  t.deepEqual(drf.sort(), ['mem-heavy', 'cpu-heavy']);
  totals.setAgent('big-cpu', r('cpus:30')); // cpus total 40: 0.1 vs 0.3
  t.deepEqual(drf.sort(), ['cpu-heavy', 'mem-heavy']);
  totals.removeAgent('big-cpu');
  t.deepEqual(drf.sort(), ['mem-heavy', 'cpu-heavy']);
});

test('DRFSorter - misuse is an invariant error', (t) => {
  const drf = new DRFSorter(cluster('cpus:1'));
  drf.add('a');
  t.throws(() => drf.add('a'), { message: /already has client 'a'/ });
  t.throws(() => drf.allocated('nope', 'agent', r('cpus:1')), { message: /no client 'nope'/ });
  t.throws(() => drf.unallocated('a', 'agent', r('cpus:1')), { message: /would hold -1 cpus/ });
  t.throws(() => drf.updateWeight('a', 0), { message: /must be positive/ });
});

/** The order a DRF sorter must produce, computed from scratch. */
function naiveOrder(
  clients: Map<string, { alloc: Map<string, number>; weight: number; active: boolean }>,
  totals: Map<string, number>,
): string[] {
  const share = (alloc: Map<string, number>, weight: number): number => {
    let s = 0;
    for (const [name, v] of alloc) {
      const total = totals.get(name) ?? 0;
      if (total > 0) s = Math.max(s, v / total);
    }
    return s / weight;
  };
  return [...clients]
    .filter(([, c]) => c.active)
    .map(([name, c]) => ({ name, s: share(c.alloc, c.weight) }))
    .sort((x, y) => x.s - y.s || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map((x) => x.name);
}

test('DRFSorter - the incremental order always equals a full re-sort', (t) => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const op = fc.oneof(
    fc.record({ kind: fc.constant('alloc' as const), client: fc.constantFrom(...names), cpus: fc.integer({ min: 0, max: 9 }), mem: fc.integer({ min: 0, max: 90 }) }),
    fc.record({ kind: fc.constant('free' as const), client: fc.constantFrom(...names), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('weight' as const), client: fc.constantFrom(...names), weight: fc.constantFrom(0.5, 1, 2, 3) }),
    fc.record({ kind: fc.constant('toggle' as const), client: fc.constantFrom(...names) }),
    fc.record({ kind: fc.constant('agent' as const), cpus: fc.integer({ min: 1, max: 50 }), mem: fc.integer({ min: 1, max: 500 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const totals = cluster('cpus:10;mem:100');
      const totalMillis = new Map([
        ['cpus', 10_000],
        ['mem', 100_000],
      ]);
      const drf = new DRFSorter(totals);
      const model = new Map<string, { alloc: Map<string, number>; weight: number; active: boolean }>();
      for (const n of names) {
        drf.add(n);
        model.set(n, { alloc: new Map(), weight: 1, active: true });
      }
      let agents = 0;
      for (const o of ops) {
        if (o.kind === 'agent') {
          totals.setAgent(`extra-${agents++}`, r(`cpus:${o.cpus};mem:${o.mem}`));
          totalMillis.set('cpus', totalMillis.get('cpus')! + o.cpus * 1000);
          totalMillis.set('mem', totalMillis.get('mem')! + o.mem * 1000);
          continue;
        }
        const c = model.get(o.client)!;
        if (o.kind === 'alloc') {
          drf.allocated(o.client, 'agent', r(`cpus:${o.cpus};mem:${o.mem}`));
          c.alloc.set('cpus', (c.alloc.get('cpus') ?? 0) + o.cpus * 1000);
          c.alloc.set('mem', (c.alloc.get('mem') ?? 0) + o.mem * 1000);
        } else if (o.kind === 'free') {
          const cpus = Math.floor(((c.alloc.get('cpus') ?? 0) * o.fraction) / 1000);
          drf.unallocated(o.client, 'agent', r(`cpus:${cpus}`));
          c.alloc.set('cpus', (c.alloc.get('cpus') ?? 0) - cpus * 1000);
        } else if (o.kind === 'weight') {
          drf.updateWeight(o.client, o.weight);
          c.weight = o.weight;
        } else {
          if (c.active) drf.deactivate(o.client);
          else drf.activate(o.client);
          c.active = !c.active;
        }
        const expected = naiveOrder(model, totalMillis);
        const actual = drf.sort();
        if (JSON.stringify(actual) !== JSON.stringify(expected)) return false;
      }
      return JSON.stringify(drf.view()) === JSON.stringify(naiveOrder(model, totalMillis));
    }),
  );
  t.pass();
});

test('Prng - is deterministic per seed and spreads over [0, 1)', (t) => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const xs = Array.from({ length: 1000 }, () => a.next());
  t.deepEqual(
    xs,
    Array.from({ length: 1000 }, () => b.next()),
  );
  t.notDeepEqual(
    xs.slice(0, 10),
    Array.from({ length: 10 }, () => c.next()),
  );
  t.true(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  t.true(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  const buckets = new Array<number>(10).fill(0);
  for (const x of xs) buckets[Math.floor(x * 10)]!++;
  t.true(buckets.every((n) => n > 60 && n < 140), `buckets ${buckets.join(',')}`);
});

test('RandomSorter - returns a permutation of the active clients, reproducible from the seed', (t) => {
  const orders = (seed: number): string[][] => {
    const s = new RandomSorter(seed);
    for (const c of ['a', 'b', 'c', 'd']) s.add(c);
    s.deactivate('c');
    return Array.from({ length: 20 }, () => s.sort());
  };
  const first = orders(7);
  t.deepEqual(first, orders(7));
  for (const order of first) t.deepEqual([...order].sort(), ['a', 'b', 'd']);
  t.true(new Set(first.map((o) => o.join())).size > 1, 'the order changes between sorts');
});

test('RandomSorter - a client of weight 3 comes first three times in four', (t) => {
  const s = new RandomSorter(2024);
  s.add('heavy');
  s.add('light');
  s.updateWeight('heavy', 3);
  let heavyFirst = 0;
  const n = 8000;
  for (let i = 0; i < n; i++) if (s.sort()[0] === 'heavy') heavyFirst++;
  const p = heavyFirst / n;
  t.true(Math.abs(p - 0.75) < 0.02, `heavy first ${p}`);
});
