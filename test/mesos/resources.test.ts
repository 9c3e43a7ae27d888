import test from 'ava';
import fc from 'fast-check';

import { InvalidResourceError } from '../../src/errors.ts';
import {
  Resources,
  type Reservation,
  type ResourceEntry,
  type ResourceValue,
} from '../../src/mesos/resources.ts';
import { makeEntry } from '../../src/mesos/resource-values.ts';

const r = (text: string): Resources => Resources.parse(text);

// ---------------------------------------------------------------------------------------------
// Generators.

const SCALAR_NAMES = ['cpus', 'mem', 'disk', 'gpus', 'bandwidth.mbps'] as const;

const reservationsArb: fc.Arbitrary<Reservation[]> = fc.constantFrom<Reservation[]>(
  [],
  [],
  [{ type: 'STATIC', role: 'analytics' }],
  [{ type: 'DYNAMIC', role: 'analytics', principal: 'ops' }],
  [{ type: 'DYNAMIC', role: 'web' }],
  [
    { type: 'STATIC', role: 'eng' },
    { type: 'DYNAMIC', role: 'eng/web', principal: 'ci' },
  ],
);

/**
 * Resources whose ranges lie in `[lane * 1000, lane * 1000 + 999]` and whose set items carry
 * the lane as a prefix, so that bags drawn from different lanes never share a port or an item.
 */
function resourcesArb(lane = 0): fc.Arbitrary<Resources> {
  const base = lane * 1000;
  const scalar = fc.record({
    name: fc.constantFrom(...SCALAR_NAMES),
    reservations: reservationsArb,
    value: fc.integer({ min: 0, max: 10_000_000 }).map((millis): ResourceValue => ({ type: 'SCALAR', millis })),
  });
  const ranges = fc.record({
    name: fc.constant('ports'),
    reservations: reservationsArb,
    value: fc
      .array(fc.tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 40 })), { maxLength: 4 })
      .map((pairs): ResourceValue => {
        // Build non-overlapping ranges; adjacent ones are fine (they coalesce).
        const ranges = Resources.fromEntries(
          pairs.map(([begin, len]) =>
            makeEntry('ports', [], {
              type: 'RANGES',
              ranges: [{ begin: base + begin, end: base + Math.min(999, begin + len) }],
            }),
          ),
        ).ports();
        return { type: 'RANGES', ranges };
      }),
  });
  const set = fc.record({
    name: fc.constant('zones'),
    reservations: reservationsArb,
    value: fc
      .uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'rack-1', 'rack.2'), { maxLength: 4 })
      .map((items): ResourceValue => ({ type: 'SET', items: items.map((i) => `${lane}-${i}`).sort() })),
  });
  return fc
    .array(fc.oneof(scalar, scalar, ranges, set), { maxLength: 8 })
    .map((parts) => Resources.fromEntries(parts.map((p): ResourceEntry => makeEntry(p.name, p.reservations, p.value))));
}

const anyResources = fc.oneof(resourcesArb(0), resourcesArb(1));

function sameAs(t: { true: (v: boolean, m?: string) => void }, actual: Resources, expected: Resources): void {
  t.true(actual.equals(expected), `expected ${expected.toString()}, got ${actual.toString()}`);
}

// ---------------------------------------------------------------------------------------------
// Properties.

test('resources - plus is commutative', (t) => {
  fc.assert(fc.property(anyResources, anyResources, (a, b) => a.plus(b).equals(b.plus(a))));
  t.pass();
});

test('resources - plus is associative', (t) => {
  fc.assert(
    fc.property(anyResources, anyResources, anyResources, (a, b, c) => a.plus(b).plus(c).equals(a.plus(b.plus(c)))),
  );
  t.pass();
});

test('resources - (a + b) - b == a when a and b share no port or set item', (t) => {
  fc.assert(fc.property(resourcesArb(0), resourcesArb(1), (a, b) => a.plus(b).minus(b).equals(a)));
  t.pass();
});

test('resources - a + b contains a and b', (t) => {
  fc.assert(
    fc.property(anyResources, anyResources, (a, b) => {
      const sum = a.plus(b);
      return sum.contains(a) && sum.contains(b);
    }),
  );
  t.pass();
});

test('resources - contains is reflexive and transitive', (t) => {
  fc.assert(fc.property(anyResources, (a) => a.contains(a) && a.contains(Resources.EMPTY)));
  fc.assert(
    fc.property(anyResources, anyResources, anyResources, (c, y, x) => {
      const b = c.plus(y);
      const a = b.plus(x);
      return a.contains(b) && b.contains(c) && a.contains(c);
    }),
  );
  // Transitivity stated as an implication over unrelated bags as well.
  fc.assert(
    fc.property(anyResources, anyResources, anyResources, (a, b, c) => !(a.contains(b) && b.contains(c)) || a.contains(c)),
  );
  t.pass();
});

test('resources - a - b is contained in a and never negative', (t) => {
  fc.assert(
    fc.property(anyResources, anyResources, (a, b) => {
      const d = a.minus(b);
      return a.contains(d) && [...d.scalars().values()].every((v) => v > 0);
    }),
  );
  t.pass();
});

test('resources - parse(toString(x)) == x', (t) => {
  fc.assert(fc.property(anyResources, (x) => Resources.parse(x.toString()).equals(x)));
  t.pass();
});

test('resources - fromJSON(toJSON(x)) == x, also through JSON text', (t) => {
  fc.assert(
    fc.property(anyResources, (x) => {
      const viaObjects = Resources.fromJSON(x.toJSON());
      const viaText = Resources.fromJSON(JSON.parse(JSON.stringify(x)));
      return viaObjects.equals(x) && viaText.equals(x);
    }),
  );
  t.pass();
});

test('resources - toJSON is frozen, and parsing that very array again is a look-up', (t) => {
  const x = r('cpus:2;mem:512;ports:[31000-31009];zones:{a,b};disk(analytics):10');
  const json = x.toJSON();
  t.is(Resources.fromJSON(json), x, 'the same object, not a parse');
  t.is(x.toJSON(), json, 'made once');
  t.true(Object.isFrozen(json) && json.every((e) => Object.isFrozen(e)));
  t.true(Object.isFrozen(json.find((e) => e.name === 'ports')!.ranges!.range[0]));
  t.throws(() => {
    (json[0]!.scalar as { value: number }).value = 100;
  }, { instanceOf: TypeError });
  // A copy (a framework changing what it was offered) is parsed for what it says.
  const changed = json.map((e) => (e.name === 'cpus' ? { ...e, scalar: { value: 1 } } : e));
  const parsed = Resources.fromJSON(changed);
  t.not(parsed, x);
  t.is(parsed.cpus(), 1);
  t.deepEqual(JSON.parse(JSON.stringify(json)), json, 'JSON text is unchanged by freezing');
});

test('resources - fromJSONLike takes the likely resources for a copy of their JSON, and parses anything else', (t) => {
  const offered = r('cpus:2;mem:512;ports:[31000-31009];disk(analytics):10');
  // What comes back over a bus: the same JSON, a fresh object, fields in any order.
  const copy = JSON.parse(JSON.stringify(offered.toJSON())) as unknown[];
  t.is(Resources.fromJSONLike(copy, offered), offered, 'no parse: the offered object itself');
  const reordered = copy.map((e) => Object.fromEntries(Object.entries(e as object).reverse()));
  t.is(Resources.fromJSONLike(reordered, offered), offered);
  // Anything that says something else is parsed for what it says.
  const fewer = copy.slice(1);
  const parsed = Resources.fromJSONLike(fewer, offered);
  t.not(parsed, offered);
  t.true(parsed.equals(Resources.fromJSON(fewer)));
  const extra = copy.map((e, i) => (i === 0 ? { ...(e as object), role: '*' } : e));
  t.not(Resources.fromJSONLike(extra, offered), offered, 'an extra field is not the same JSON');
  t.throws(() => Resources.fromJSONLike([{ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } }], offered), { instanceOf: InvalidResourceError });
});

test('resources - fromJSONLike means what fromJSON means, whatever the likely resources (property)', (t) => {
  fc.assert(
    fc.property(anyResources, anyResources, fc.boolean(), (x, likely, copyOfLikely) => {
      const json = JSON.parse(JSON.stringify((copyOfLikely ? likely : x).toJSON())) as unknown;
      return Resources.fromJSONLike(json, likely).equals(Resources.fromJSON(json));
    }),
  );
  t.pass();
});

test('resources - flatten keeps scalar totals and drops reservations', (t) => {
  fc.assert(
    fc.property(anyResources, (x) => {
      const flat = x.flatten();
      const same = [...x.scalarMillis()].every(([name, millis]) => flat.scalarMillis().get(name) === millis);
      return same && flat.reserved().isEmpty() && flat.unreserved().equals(flat);
    }),
  );
  t.pass();
});

test('resources - allocatableTo(role) is unreserved plus reserved to that role', (t) => {
  fc.assert(
    fc.property(anyResources, fc.constantFrom('analytics', 'web', 'eng', 'eng/web', '*'), (x, role) => {
      const allocatable = x.allocatableTo(role);
      return (
        allocatable.contains(x.unreserved()) &&
        (role === '*' || allocatable.contains(x.reserved(role))) &&
        x.contains(allocatable) &&
        allocatable.isEmpty() !== x.hasAllocatableTo(role)
      );
    }),
  );
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// Examples.

test('resources - parses scalars, ranges and sets', (t) => {
  const x = r('cpus:4;mem:8192;ports:[31000-32000,33000-33001];zones:{b,a}');
  t.is(x.cpus(), 4);
  t.is(x.mem(), 8192);
  t.is(x.disk(), 0);
  t.deepEqual(x.ports(), [
    { begin: 31000, end: 32000 },
    { begin: 33000, end: 33001 },
  ]);
  t.deepEqual(x.set('zones'), ['a', 'b']);
  t.deepEqual(x.names(), ['cpus', 'mem', 'ports', 'zones']);
  t.is(x.toString(), 'cpus:4;mem:8192;ports:[31000-32000,33000-33001];zones:{a,b}');
});

test('resources - whitespace, empty tokens and a trailing separator are accepted', (t) => {
  t.is(r(' cpus : 2 ; ; mem:10; ').toString(), 'cpus:2;mem:10');
  t.true(r('').isEmpty());
  t.true(r('  ').isEmpty());
});

test('resources - scalars keep three decimals, so 0.1 + 0.2 is 0.3', (t) => {
  t.is(r('cpus:0.1').plus(r('cpus:0.2')).cpus(), 0.3);
  t.true(r('cpus:0.1').plus(r('cpus:0.2')).equals(r('cpus:0.3')));
  let sum = Resources.EMPTY;
  for (let i = 0; i < 10; i++) sum = sum.plus(r('cpus:0.1'));
  t.is(sum.toString(), 'cpus:1');
  t.is(r('cpus:0.1234').cpus(), 0.123);
  t.is(r('cpus:0.0005').cpus(), 0.001);
  t.throws(() => r('cpus:0.0001'), { instanceOf: InvalidResourceError, message: /must be 0 or round to at least 0.001/ });
  t.is(r('mem:1e3').mem(), 1000);
});

test('resources - same name and reservation merge, different reservations stay apart', (t) => {
  t.is(r('cpus:1;cpus:2').toString(), 'cpus:3');
  const x = r('cpus:1;cpus(analytics):2;cpus(*):3');
  t.is(x.size, 2);
  t.is(x.toString(), 'cpus:4;cpus(analytics):2');
  t.is(x.cpus(), 6);
  t.is(x.reserved('analytics').cpus(), 2);
  t.is(x.unreserved().cpus(), 4);
  t.is(r('ports:[1-2];ports:[3-4]').toString(), 'ports:[1-4]');
});

test('resources - many entries merge, sort and conflict as few do', (t) => {
  // 100 reservations, each given twice and out of order.
  const parts: string[] = [];
  for (let i = 99; i >= 0; i--) parts.push(`cpus(r${i}):1`, `ports(r${i}):[${i * 10}-${i * 10 + 4}]`);
  for (let i = 0; i < 100; i++) parts.push(`cpus(r${i}):2`, `ports(r${i}):[${i * 10 + 5}-${i * 10 + 9}]`);
  const x = r(parts.join(';'));
  t.is(x.size, 200);
  t.is(x.reserved('r7').toString(), 'cpus(r7):3;ports(r7):[70-79]');
  t.is(x.cpus(), 300);
  t.true(Resources.fromJSON(x.toJSON()).equals(x));
  t.is(String(Resources.fromJSON([...x.toJSON()].reverse())), String(x), 'canonical order whatever the input order');
  t.true(r(`${parts.join(';')};ports(r42):[423-424]`).equals(x), 'a port given again is a union');
  const conflict = t.throws(() => r(`${parts.join(';')};cpus:{a}`), { instanceOf: InvalidResourceError });
  t.regex(conflict.message, /'cpus' is already a SCALAR resource/);
});

test('resources - dynamic and refined reservations print and parse back', (t) => {
  const x = Resources.fromJSON([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: 'a', principal: 'ops' }] },
    {
      name: 'mem',
      type: 'SCALAR',
      scalar: { value: 64 },
      reservations: [
        { type: 'STATIC', role: 'eng' },
        { type: 'DYNAMIC', role: 'eng/web' },
      ],
    },
  ]);
  t.is(x.toString(), 'cpus(reservations: [(DYNAMIC,a,ops)]):1;mem(reservations: [(STATIC,eng),(DYNAMIC,eng/web)]):64');
  t.true(Resources.parse(x.toString()).equals(x));
  t.false(x.equals(r('cpus(a):1;mem(eng/web):64')), 'a dynamic reservation is not a static one');
});

test('resources - minus clamps scalars at zero and ignores what is absent', (t) => {
  t.is(r('cpus:2;mem:100').minus(r('cpus:5')).toString(), 'mem:100');
  t.is(r('cpus:2').minus(r('mem:5;cpus(a):1')).toString(), 'cpus:2');
  t.is(r('ports:[1-10]').minus(r('ports:[3-4,9-20]')).toString(), 'ports:[1-2,5-8]');
  t.is(r('zones:{a,b,c}').minus(r('zones:{b,x}')).toString(), 'zones:{a,c}');
  t.is(r('cpus(a):2').minus(r('cpus:2')).toString(), 'cpus(a):2', 'unreserved does not subtract reserved');
});

test('resources - contains compares name, reservation and value', (t) => {
  const agent = r('cpus:4;mem:8192;ports:[31000-32000];cpus(analytics):2');
  t.true(agent.contains(r('cpus:4;ports:[31000-31005]')));
  t.false(agent.contains(r('cpus:5')));
  t.false(agent.contains(r('cpus(web):1')));
  t.false(agent.contains(r('ports:[30999-31000]')));
  t.false(agent.contains(r('gpus:1')));
  t.false(r('cpus:1').contains(r('cpus(a):1')));
  t.true(r('zones:{a,b}').contains(r('zones:{a}')));
  t.false(r('zones:{a,b}').contains(r('zones:{c}')));
  t.is(agent.minus(r('cpus:0.5;mem:512;ports:[31000-31000]')).toString(), 'cpus:3.5;cpus(analytics):2;mem:7680;ports:[31001-32000]');
});

test('resources - allocatableTo follows the role hierarchy', (t) => {
  const x = r('cpus:1;cpus(eng):2;cpus(eng/web):4;cpus(ops):8');
  t.is(x.allocatableTo('eng').cpus(), 3);
  t.is(x.allocatableTo('eng/web').cpus(), 7);
  t.is(x.allocatableTo('eng/web/api').cpus(), 7);
  t.is(x.allocatableTo('engineering').cpus(), 1, 'a name prefix is not a parent role');
  t.is(x.allocatableTo('*').cpus(), 1);
  t.is(x.reserved().cpus(), 14);
  t.false(r('cpus(ops):1').hasAllocatableTo('eng'));
});

test('resources - scalars() gives totals by name for DRF', (t) => {
  const totals = r('cpus:1;cpus(a):2.5;mem:10;ports:[1-2]').scalars();
  t.deepEqual([...totals], [
    ['cpus', 3.5],
    ['mem', 10],
  ]);
  t.is(r('cpus:1.5;cpus(a):2').scalarMillis().get('cpus'), 3500);
});

test('resources - flatten merges reservations by name', (t) => {
  t.is(r('cpus:1;cpus(a):2;ports(a):[5-6];ports:[1-4]').flatten().toString(), 'cpus:3;ports:[1-6]');
});

test('resources - toJSON is the v1 Resource array', (t) => {
  t.deepEqual(r('cpus(a):2;ports:[1-2];zones:{x}').toJSON(), [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, reservations: [{ type: 'STATIC', role: 'a' }] },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } },
    { name: 'zones', type: 'SET', set: { item: ['x'] } },
  ]);
  t.is(JSON.stringify(Resources.EMPTY), '[]');
});

test('resources - fromJSON reads the legacy role and reservation fields', (t) => {
  const x = Resources.fromJSON([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*' },
    { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: 'ads' },
    { name: 'mem', type: 'SCALAR', scalar: { value: 3 }, role: 'ads', reservation: { principal: 'ops' } },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: '31000', end: '31001' }] } },
    { name: 'disk', type: 'SCALAR', scalar: { value: 0 } },
  ]);
  t.is(x.toString(), 'cpus:1;cpus(ads):2;mem(reservations: [(DYNAMIC,ads,ops)]):3;ports:[31000-31001]');
});

test('resources - plus refuses a name with two types', (t) => {
  const error = t.throws(() => r('cpus:1').plus(Resources.fromJSON([{ name: 'cpus', type: 'SET', set: { item: ['a'] } }])), {
    instanceOf: InvalidResourceError,
  });
  t.is(error?.message, `invalid resource 'cpus': 'cpus' is already a SCALAR resource and cannot also be SET`);
});

// ---------------------------------------------------------------------------------------------
// Error paths: every one names the offending part and why.

const textErrors: [string, string][] = [
  ['cpu:x', `invalid resource 'cpu:x': value must be a number`],
  ['cpus:-1', `invalid resource 'cpus:-1': value must not be negative, got -1`],
  ['cpus:1e400', `invalid resource 'cpus:1e400': value must be a finite number, got 1e400`],
  ['mem:2000000000000', `invalid resource 'mem:2000000000000': value must be at most 1000000000000, got 2000000000000`],
  [':4', `invalid resource ':4': name must not be empty`],
  ['(a):4', `invalid resource '(a):4': name must not be empty`],
  ['cp us:4', `invalid resource 'cp us:4': name 'cp us' must not contain whitespace or any of ()[]{},;:\\`],
  ['cpus', `invalid resource 'cpus': expected 'name:value' or 'name(role):value'`],
  ['cpus:', `invalid resource 'cpus:': value must not be empty`],
  ['cpus:1:2', `invalid resource 'cpus:1:2': value must not contain ':' (is a ';' missing between resources?)`],
  ['cpus:1,mem:2', `invalid resource 'cpus:1,mem:2': value must not contain ':' (is a ';' missing between resources?)`],
  ['cpus:1,2', `invalid resource 'cpus:1,2': value must be a number`],
  ['cpus(a:1', `invalid resource 'cpus(a:1': '(' after the name is not closed`],
  ['cpus(a)1', `invalid resource 'cpus(a)1': expected ':' after the role`],
  ['cpus():1', `invalid resource 'cpus():1': role must not be empty`],
  ['cpus(-a):1', `invalid resource 'cpus(-a):1': role '-a' must not start with '-'`],
  ['cpus(a//b):1', `invalid resource 'cpus(a//b):1': role 'a//b' must not start or end with '/' or contain '//'`],
  ['cpus(a/..):1', `invalid resource 'cpus(a/..):1': role 'a/..' must not have a '.' or '..' component`],
  ['cpus(a*):1', `invalid resource 'cpus(a*):1': role 'a*' must not contain '*' unless it is exactly '*'`],
  [
    'cpus(reservations: [(KEPT,a)]):1',
    `invalid resource 'cpus(reservations: [(KEPT,a)]):1': reservation type must be STATIC or DYNAMIC, got 'KEPT'`,
  ],
  [
    'cpus(reservations: [(DYNAMIC,a),(STATIC,a/b)]):1',
    `invalid resource 'cpus(reservations: [(DYNAMIC,a),(STATIC,a/b)]):1': only the first reservation may be STATIC, got STATIC for 'a/b'`,
  ],
  [
    'cpus(reservations: [(DYNAMIC,a),(DYNAMIC,b)]):1',
    `invalid resource 'cpus(reservations: [(DYNAMIC,a),(DYNAMIC,b)]):1': refined reservation role 'b' must be a sub-role of 'a'`,
  ],
  [
    'cpus(reservations: []):1',
    `invalid resource 'cpus(reservations: []):1': reservations must not be empty; leave them out for unreserved resources`,
  ],
  ['ports:[5-3]', `invalid resource 'ports:[5-3]': range '5-3' must not have begin greater than end`],
  ['cpus:0.0004', `invalid resource 'cpus:0.0004': value must be 0 or round to at least 0.001, got 0.0004`],
  ['ports:[a-b]', `invalid resource 'ports:[a-b]': range 'a-b' must be 'begin-end' with non-negative integers`],
  ['ports:[-1-5]', `invalid resource 'ports:[-1-5]': range '-1-5' must be 'begin-end' with non-negative integers`],
  ['ports:[5]', `invalid resource 'ports:[5]': range '5' must be 'begin-end' with non-negative integers`],
  ['ports:[1-2', `invalid resource 'ports:[1-2': ranges must be written '[begin-end,...]'`],
  ['zones:{a', `invalid resource 'zones:{a': sets must be written '{item,...}'`],
  ['zones:{a,,b}', `invalid resource 'zones:{a,,b}': set items must not be empty`],
  ['zones:{a,a}', `invalid resource 'zones:{a,a}': set item 'a' is given twice`],
  ['cpus:1;cpus:[1-2]', `invalid resource 'cpus:[1-2]': 'cpus' is already a SCALAR resource and cannot also be RANGES`],
];

for (const [text, message] of textErrors) {
  test(`resources - parse error: ${text}`, (t) => {
    const error = t.throws(() => Resources.parse(text), { instanceOf: InvalidResourceError });
    t.is(error?.message, message);
    t.is(error?.name, 'InvalidResourceError');
  });
}

const jsonErrors: [unknown, string][] = [
  [{}, `invalid resource 'resources': expected an array of Resource objects, got {}`],
  ['cpus:1', `invalid resource 'resources': expected an array of Resource objects, got "cpus:1"`],
  [[42], `invalid resource 'resources[0]': resources[0] must be a Resource object, got 42`],
  [[{ type: 'SCALAR' }], `invalid resource 'resources[0]': resources[0].name must be a string, got nothing`],
  [[{ name: '', type: 'SCALAR' }], `invalid resource 'resources[0]': resources[0].name must not be empty`],
  [[{ name: 'cpus' }], `invalid resource 'cpus': resources[0].type must be one of SCALAR, RANGES, SET, got nothing`],
  [[{ name: 'cpus', type: 'TEXT' }], `invalid resource 'cpus': resources[0].type must be one of SCALAR, RANGES, SET, got "TEXT"`],
  [[{ name: 'cpus', type: 'SCALAR' }], `invalid resource 'cpus': resources[0].scalar.value must be a number, got nothing`],
  [
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: '1' } }],
    `invalid resource 'cpus': resources[0].scalar.value must be a number, got "1"`,
  ],
  [
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: -1 } }],
    `invalid resource 'cpus': resources[0].scalar.value must not be negative, got -1`,
  ],
  [
    [{ name: 'p', type: 'RANGES', ranges: { range: [{ begin: 5, end: 3 }] } }],
    `invalid resource 'p': resources[0].ranges.range[0] must not have begin greater than end, got 5-3`,
  ],
  [
    [{ name: 'p', type: 'RANGES', ranges: { range: [{ begin: -1, end: 3 }] } }],
    `invalid resource 'p': resources[0].ranges.range[0] must be {begin, end} with non-negative integers, got {"begin":-1,"end":3}`,
  ],
  [
    [
      {
        name: 'p',
        type: 'RANGES',
        ranges: {
          range: [
            { begin: 1, end: 5 },
            { begin: 4, end: 8 },
          ],
        },
      },
    ],
    `invalid resource 'p': resources[0].ranges 1-5 and 4-8 overlap`,
  ],
  [[{ name: 'p', type: 'RANGES', ranges: { range: 7 } }], `invalid resource 'p': resources[0].ranges.range must be an array, got 7`],
  [
    [{ name: 'z', type: 'SET', set: { item: ['a', 1] } }],
    `invalid resource 'z': resources[0].set.item must be an array of strings, got ["a",1]`,
  ],
  [[{ name: 'z', type: 'SET', set: { item: ['a', 'a'] } }], `invalid resource 'z': resources[0].set item 'a' is given twice`],
  [
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'STATIC', role: '*' }] }],
    `invalid resource 'cpus': resources[0].reservations: reservation role must not be '*'`,
  ],
  [
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ role: 'a' }] }],
    `invalid resource 'cpus': resources[0].reservations[0].type must be STATIC or DYNAMIC, got nothing`,
  ],
  [
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'STATIC', role: 'a' }], role: 'b' }],
    `invalid resource 'cpus': resources[0].role 'b' disagrees with reservations, which reserve to 'a'`,
  ],
  [
    [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '' }],
    `invalid resource 'cpus': resources[0].role must not be empty`,
  ],
  [
    [{ name: 'disk', type: 'SCALAR', scalar: { value: 1 }, disk: { persistence: { id: 'v' } } }],
    `invalid resource 'disk': resources[0].disk: Expecting 'volume' to be set for persistent volume`,
  ],
  [
    [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
      { name: 'cpus', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } },
    ],
    `invalid resource 'cpus': 'cpus' is already a SCALAR resource and cannot also be RANGES`,
  ],
];

for (const [i, [json, message]] of jsonErrors.entries()) {
  test(`resources - fromJSON error ${i}: ${message.slice(0, 60)}`, (t) => {
    const error = t.throws(() => Resources.fromJSON(json), { instanceOf: InvalidResourceError });
    t.is(error?.message, message);
  });
}

test('resources - equals and isEmpty', (t) => {
  t.true(r('cpus:1;mem:2').equals(r('mem:2;cpus:1')));
  t.false(r('cpus:1').equals(r('cpus:1;mem:1')));
  t.false(r('cpus:1').equals(r('cpus(a):1')));
  t.true(r('cpus:0;ports:[]').isEmpty());
  sameAs(t, r('cpus:1').minus(r('cpus:1')), Resources.EMPTY);
  t.true(Resources.sum([r('cpus:1'), r('cpus:2'), r('mem:3')]).equals(r('cpus:3;mem:3')));
});
