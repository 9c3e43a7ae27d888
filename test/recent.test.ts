import test from 'ava';
import fc from 'fast-check';
import { RecentList, RecentMap, RecentSet } from '../src/recent.ts';

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

test('recent map - values are the remembered ones, none forgotten or deleted', (t) => {
  const m = new RecentMap<string, number>(2);
  m.set('a', 1).set('b', 2).set('c', 3);
  t.deepEqual([...m.values()], [2, 3]);
  m.delete('b');
  t.deepEqual([...m.values()], [3]);
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

test('recent set - remembers the last `limit` keys added, as a master its removed agents', (t) => {
  const removed = new RecentSet<string>(2);
  removed.add('a').add('b').add('c');
  t.false(removed.has('a'));
  t.true(removed.has('b') && removed.has('c'));
  t.is(removed.size, 2);
  t.true(removed.delete('b'));
  t.false(removed.has('b'));
  t.is(removed.size, 1);
});

test('recent list - keeps the last `limit` items pushed, oldest first, and returns what it pushed out', (t) => {
  const l = new RecentList<string>(2);
  t.is(l.push('a'), undefined);
  t.is(l.push('b'), undefined);
  t.is(l.push('c'), 'a');
  t.deepEqual([...l], ['b', 'c']);
  t.is(l.length, 2);
  t.is(l.at(0), 'b');
  t.is(l.at(-1), 'c');
  t.is(l.at(2), undefined);
  t.true(l.some((x) => x === 'c'));
  t.false(l.some((x) => x === 'a'));
  t.is(l.find((x) => x > 'b'), 'c');
  t.deepEqual(l.map((x) => x.toUpperCase()), ['B', 'C']);
});

test('recent list - a limit of 0 keeps nothing; a negative or fractional limit is refused', (t) => {
  const l = new RecentList<number>(0);
  t.is(l.push(1), 1);
  t.is(l.length, 0);
  t.deepEqual([...l], []);
  t.throws(() => new RecentList(-1), { message: /non-negative integer limit, got -1/ });
  t.throws(() => new RecentList(0.5), { message: /got 0.5/ });
});

test('recent list - holds what an array trimmed from the front would hold (model check)', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.integer(), { maxLength: 40 }), fc.integer({ min: -8, max: 8 }), (limit, items, index) => {
      const l = new RecentList<number>(limit);
      const model: number[] = [];
      for (const item of items) {
        model.push(item);
        const expectedOut = model.length > limit ? model.shift() : undefined;
        t.is(l.push(item), expectedOut);
      }
      t.deepEqual([...l], model);
      t.is(l.length, model.length);
      t.is(l.at(index), model.at(index));
    }),
  );
});
