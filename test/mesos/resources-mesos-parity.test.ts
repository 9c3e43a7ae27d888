/**
 * Behaviours of Apache Mesos's resource parsing that our parser once deviated from, each checked
 * against `src/common/resources.cpp` (`Resources::parse`, `Resources::validate`,
 * `validateCommandLineResources`) and `src/common/values.cpp` (`values::parse`, `coalesce`).
 */

import test from 'ava';
import fc from 'fast-check';

import { InvalidResourceError } from '../../src/errors.ts';
import { Resources } from '../../src/mesos/resources.ts';

const r = (text: string): Resources => Resources.parse(text);

// Mesos `Resources::validate`: "We do not allow negative scalar resource values or non-zero
// values which would be represented as zero" ("Invalid scalar resource: value <= 0").
test('resources - a non-zero scalar that rounds to zero is refused, not dropped', (t) => {
  const text = t.throws(() => r('cpus:0.0001'), { instanceOf: InvalidResourceError });
  t.is(text?.message, `invalid resource 'cpus:0.0001': value must be 0 or round to at least 0.001, got 0.0001`);
  const json = t.throws(() => Resources.fromJSON([{ name: 'mem', type: 'SCALAR', scalar: { value: 1e-9 } }]), {
    instanceOf: InvalidResourceError,
  });
  t.is(json?.message, `invalid resource 'mem': resources[0].scalar.value must be 0 or round to at least 0.001, got 1e-9`);
  t.true(r('cpus:0').isEmpty(), 'an exact zero is still dropped');
  t.is(r('cpus:0.0005').cpus(), 0.001, 'half a thousandth rounds up');
});

test('resources - every positive scalar below half a thousandth is refused (property)', (t) => {
  fc.assert(
    fc.property(fc.double({ min: Number.MIN_VALUE, max: 0.000_499, noNaN: true }), (value) => {
      const error = t.throws(() => r(`cpus:${value}`), { instanceOf: InvalidResourceError });
      return error?.reason === `value must be 0 or round to at least 0.001, got ${value}`;
    }),
  );
});

// Mesos `values::parse` coalesces the ranges of one value before `Resources::validate` looks
// for overlaps, so the text form accepts overlapping ranges and merges them.
test('resources - overlapping ranges in one text value coalesce, as values::parse does', (t) => {
  t.is(r('ports:[1-5,3-6]').toString(), 'ports:[1-6]');
  t.is(r('ports:[10-20,1-3,4-6,15-30]').toString(), 'ports:[1-6,10-30]');
  t.is(r('ports:[1-3,4-6]').toString(), 'ports:[1-6]');
});

// Mesos `Resources::parse` validates each resource alone, then `add`s it to the result: the same
// name and role given twice merges (ranges and sets by union) rather than failing.
test('resources - a name given twice merges by union, as Resources::parse adds each part', (t) => {
  t.is(r('ports:[1-5];ports:[5-6]').toString(), 'ports:[1-6]');
  t.is(r('zones:{a};zones:{a,b}').toString(), 'zones:{a,b}');
  t.is(r('ports(a):[1-5];ports(a):[3-9];ports:[4-4]').toString(), 'ports:[4-4];ports(a):[1-9]');
  const json = Resources.fromJSON([
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 5 }] } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 3, end: 8 }] } },
  ]);
  t.is(json.toString(), 'ports:[1-8]');
});

test('resources - parsing parts one by one or all at once gives the same resources (property)', (t) => {
  const part = fc.oneof(
    fc
      .array(fc.tuple(fc.nat(60), fc.nat(10)), { minLength: 1, maxLength: 4, size: 'max' })
      .map((pairs) => `ports:[${pairs.map(([b, n]) => `${b}-${b + n}`).join(',')}]`),
    fc
      .uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 4, size: 'max' })
      .map((items) => `zones:{${items.join(',')}}`),
    fc.integer({ min: 0, max: 5000 }).map((millis) => `cpus:${millis / 1000}`),
  );
  fc.assert(
    fc.property(fc.array(part, { maxLength: 12, size: 'max' }), (parts) => {
      const whole = r(parts.join(';'));
      const summed = Resources.sum(parts.map(r));
      t.true(whole.equals(summed), `${parts.join(';')}: ${whole.toString()} != ${summed.toString()}`);
      return whole.equals(summed);
    }),
  );
});

// Mesos `validateCommandLineResources` checks one type per name over the parsed result, which
// `Resources::add` has already emptied of zero scalars, empty ranges and empty sets.
test('resources - an empty part does not fix the type of its name', (t) => {
  t.is(r('cpus:0;cpus:[1-2]').toString(), 'cpus:[1-2]');
  t.is(r('ports:[];ports:3').toString(), 'ports:3');
  const error = t.throws(() => r('cpus:1;cpus:[1-2]'), { instanceOf: InvalidResourceError });
  t.regex(error?.message ?? '', /'cpus' is already a SCALAR resource and cannot also be RANGES/);
});

// Mesos `Resources::parse` (so the agent's `--resources`) first tries the text as a JSON array.
test('resources - the text form may be a JSON array of Resource objects, as in --resources', (t) => {
  const json = JSON.stringify([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 4 } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 32000 }] }, role: 'web' },
  ]);
  t.is(r(json).toString(), 'cpus:4;ports(web):[31000-32000]');
  t.is(r(`  ${json}\n`).toString(), 'cpus:4;ports(web):[31000-32000]');
  const bad = t.throws(() => r('[{"name": "cpus", '), { instanceOf: InvalidResourceError });
  t.regex(bad?.message ?? '', /^invalid resource 'resources': text starting with '\[' must be a JSON array of Resource objects: /);
  const invalid = t.throws(() => r('[{"name": "cpus", "type": "SCALAR", "scalar": {"value": -1}}]'), { instanceOf: InvalidResourceError });
  t.is(invalid?.message, `invalid resource 'cpus': resources[0].scalar.value must not be negative, got -1`);
});

test('resources - any resources read back from their JSON text through parse (property)', (t) => {
  const entry = fc.oneof(
    fc.record({ name: fc.constantFrom('cpus', 'mem'), type: fc.constant('SCALAR'), scalar: fc.record({ value: fc.integer({ min: 0, max: 1e6 }).map((m) => m / 1000) }) }),
    fc.record({
      name: fc.constant('ports'),
      type: fc.constant('RANGES'),
      role: fc.constantFrom('*', 'a', 'a/b'),
      ranges: fc.record({ range: fc.nat(1000).map((b) => [{ begin: b, end: b + 3 }]) }),
    }),
  );
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 6, size: 'max' }), (json) => {
      const viaText = r(JSON.stringify(json));
      return viaText.equals(Resources.fromJSON(json));
    }),
  );
  t.pass();
});
