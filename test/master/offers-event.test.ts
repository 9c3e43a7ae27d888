import test from 'ava';
import fc from 'fast-check';
import { offersEvent } from '../../actors/master/offers.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { Offer } from '../../src/mesos/v1/common.ts';
import { encodeBody, encodeEnvelope, JSON_TEXT } from '../../src/transport/codec.ts';

/**
 * The master's OFFERS events write their own JSON for a bus (`JSON_TEXT`), reusing each
 * `Resources`' text: the text must be exactly what `JSON.stringify` writes, whatever the offers.
 */

const RESOURCES = ['cpus:16;mem:65536;disk:1048576;ports:[31000-32000]', 'cpus:0.5;mem:128', 'cpus(web):2;mem(web):512;gpus:1', 'zones:{a,b};cpus:1'];

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const id = text.map((value) => ({ value }));
const resources = fc.oneof(
  // What the allocator offers: an array `Resources.toJSON` made (its text is written once)...
  fc.constantFrom(...RESOURCES).map((r) => Resources.parse(r).toJSON()),
  // ... or any other array (a copy), written as JSON.stringify would.
  fc.constantFrom(...RESOURCES).map((r) => JSON.parse(JSON.stringify(Resources.parse(r).toJSON())) as Offer['resources']),
);
const offer: fc.Arbitrary<Offer> = fc.record(
  {
    id,
    framework_id: id,
    agent_id: id,
    hostname: text,
    resources,
    allocation_info: fc.record({ role: text }),
    attributes: fc.array(fc.record({ name: text, type: fc.constant('TEXT' as const), text: fc.record({ value: text }) }), { maxLength: 2 }),
    executor_ids: fc.array(id, { maxLength: 2 }),
  },
  { requiredKeys: ['id', 'framework_id', 'agent_id', 'hostname', 'allocation_info'] },
) as fc.Arbitrary<Offer>;

test('offers event - writes exactly what JSON.stringify writes, whatever the offers (property)', (t) => {
  fc.assert(
    fc.property(fc.array(offer, { maxLength: 6 }), (offers) => {
      const event = offersEvent(offers);
      const expected = JSON.stringify(event);
      return encodeBody(event) === expected && JSON.stringify(JSON.parse(encodeBody(event))) === expected;
    }),
  );
  t.pass();
});

test('offers event - the envelope around it is what JSON.stringify writes, and a resources text is written once', (t) => {
  const r = Resources.parse(RESOURCES[0]!);
  const offers: Offer[] = [0, 1].map((i) => ({ id: { value: `o${i}` }, framework_id: { value: 'f' }, agent_id: { value: `a${i}` }, hostname: `h${i}`, resources: r.toJSON(), allocation_info: { role: '*' } }));
  const event = offersEvent(offers);
  const envelope = { from: 'master@m1', to: 'scheduler-1@f1', name: 'mesos.scheduler.Event', body: event };
  t.is(encodeEnvelope(envelope), JSON.stringify(envelope));
  t.is(Resources.jsonText(r.toJSON()), JSON.stringify(r.toJSON()));
  t.is(Resources.jsonText(r.toJSON()), Resources.jsonText(r.toJSON()), 'the same text each time');
  // Symbol keys are not JSON: the event is the same data either way.
  t.deepEqual(JSON.parse(JSON.stringify(event)), { type: 'OFFERS', offers: { offers: JSON.parse(JSON.stringify(offers)) } });
  t.is(typeof (event as unknown as Record<symbol, unknown>)[JSON_TEXT], 'function');
});

test('codec - a body without a writer is written by JSON.stringify', (t) => {
  const envelope = { from: 'a@n1', to: 'b@n2', name: 'x', body: { n: 1, s: 'é"\\n', list: [1, null] } };
  t.is(encodeEnvelope(envelope), JSON.stringify(envelope));
  t.is(encodeBody(null), 'null');
  t.is(encodeBody('text'), '"text"');
});
