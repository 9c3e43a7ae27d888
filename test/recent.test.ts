import test from 'ava';
import fc from 'fast-check';
import { RecentMap } from '../src/recent.ts';

test('recent map - forgets the least recently set key once past its limit', (t) => {
  const m = new RecentMap<string, number>(2);
  m.set('a', 1).set('b', 2).set('c', 3);
  t.false(m.has('a'));
  t.is(m.get('b'), 2);
  t.is(m.get('c'), 3);
  t.is(m.size, 2);
});

test('recent map - setting a key again makes it the most recent', (t) => {
  const m = new RecentMap<string, number>(2);
  m.set('a', 1).set('b', 2).set('a', 10).set('c', 3);
  t.is(m.get('a'), 10, "'a' was set after 'b', so 'b' goes first");
  t.false(m.has('b'));
  t.true(m.has('c'));
});

test('recent map - a deleted key stays deleted when the ring comes round to it', (t) => {
  const m = new RecentMap<string, number>(2);
  m.set('a', 1).set('b', 2);
  t.true(m.delete('a'));
  m.set('c', 3);
  t.deepEqual([...m.keys()].sort(), ['b', 'c']);
  m.set('a', 4).set('d', 5);
  t.deepEqual([...m.keys()].sort(), ['a', 'd']);
});

test('recent map - refuses a limit that is not a positive integer', (t) => {
  t.throws(() => new RecentMap(0), { message: /positive integer limit, got 0/ });
  t.throws(() => new RecentMap(1.5), { message: /got 1.5/ });
});

test('recent map - holds exactly the keys among the last `limit` sets that were not deleted since (model check)', (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 12 }), value: fc.integer() }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 12 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 80 }), (limit, ops) => {
      const m = new RecentMap<number, number>(limit);
      const history: { key: number; value: number }[] = [];
      const deletedAt = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          m.set(o.key, o.value);
          history.push({ key: o.key, value: o.value });
        } else {
          m.delete(o.key);
          deletedAt.set(o.key, history.length);
        }
      }
      // The model: a key is remembered if its latest set is among the last `limit` sets and no
      // delete came after that set; its value is that latest set's.
      const expected = new Map<number, number>();
      history.forEach((h, i) => {
        const latest = history.findLastIndex((x) => x.key === h.key) === i;
        const recent = i >= history.length - limit;
        const deleted = (deletedAt.get(h.key) ?? -1) > i;
        if (latest && recent && !deleted) expected.set(h.key, h.value);
      });
      const sorted = (entries: Iterable<[number, number]>) => [...entries].sort((a, b) => a[0] - b[0]);
      t.deepEqual(sorted([...m.keys()].map((k): [number, number] => [k, m.get(k)!])), sorted(expected));
      t.true(m.size <= limit);
    }),
  );
});
