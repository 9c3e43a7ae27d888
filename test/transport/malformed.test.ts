import anyTest, { type TestFn } from 'ava';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { decodeBatch, envelopeProblem } from '../../src/transport/codec.ts';
import { Probe } from '../helpers/runtime.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';

const test = anyTest as TestFn<{ nats: NatsServer }>;

test.before(async (t) => {
  t.context.nats = await startNatsServer();
});
test.after.always(async (t) => {
  await t.context.nats?.stop();
});

test('codec - every bad part of a batch is named; the good parts still pass', (t) => {
  const good: unknown[] = [];
  const bad: string[] = [];
  decodeBatch(
    JSON.stringify([{ from: 'a@n', to: 'b@n', name: 'x', body: {} }, 7, { from: 'a@n', to: 'b@n', body: 1 }, { from: 'a@n', to: 'b@n', name: 'y', body: null }]),
    (e) => good.push(e),
    (r) => bad.push(r),
  );
  t.is(good.length, 2);
  t.deepEqual(bad, ["envelope[1] must be an object, got 7", "envelope[2] field 'name' must be a non-empty string, got undefined"]);
  t.regex(envelopeProblem({ from: 1, to: 'b@n', name: 'x', body: {} })!, /field 'from' must be a non-empty string, got 1/);
  t.regex(envelopeProblem({ from: 'a@n', to: 'b@n', name: 'x' })!, /field 'body' is missing/);
  decodeBatch('{nope', () => t.fail(), (r) => bad.push(r));
  t.regex(bad.at(-1)!, /payload is not JSON/);
});

test('bus - malformed envelopes are dropped with a warning and a metric; the next good message is served', async (t) => {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'warn' }, sink);
  const runtime = await Runtime.start({ node: 'victim', logger, transport: new NatsTransport({ servers: t.context.nats.url }) });
  t.teardown(() => runtime.shutdown());
  const probe = new Probe('svc', ['hello']);
  runtime.spawn(probe);

  const raw = await connect({ servers: t.context.nats.url });
  t.teardown(() => raw.close());
  const subject = 'mesos.victim';
  const garbage: (string | Uint8Array)[] = [
    'not json at all',
    new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
    '42',
    '{"from":"x@y","to":"svc@victim","body":{}}',
    '{"from":"not-a-upid","to":"svc@victim","name":"hello","body":{}}',
    '{"from":"x@y","to":"svc@elsewhere","name":"hello","body":{}}',
    '[1, {"from":"x@y"}]',
  ];
  for (const payload of garbage) raw.publish(subject, payload);
  const next = probe.next('hello');
  raw.publish(subject, JSON.stringify({ from: 'tester@outside', to: 'svc@victim', name: 'hello', body: { ok: true } }));
  await raw.flush();
  t.deepEqual(await next, { ok: true });

  const malformed = runtime.metrics.snapshot()['runtime/messages_malformed'];
  t.is(malformed, 8); // The batch '[1, {...}]' holds two bad envelopes.
  const warnings = lines.filter((l) => l.msg === 'Dropping malformed message from the bus');
  t.is(warnings.length, 8);
  t.true(warnings.some((w) => /field 'name' must be a non-empty string/.test(w.reason ?? '')));
  t.true(warnings.some((w) => /invalid UPID 'not-a-upid'/.test(w.reason ?? '')));
  t.true(warnings.some((w) => /not on node 'victim'/.test(w.reason ?? '')));
  t.deepEqual(probe.bodies('hello'), [{ ok: true }]);
});

test('bus - envelopes are batched under max_payload; one larger than it is refused and logged, the rest still flow', async (t) => {
  const lines: { level: number; msg: string; bytes?: number; name?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'warn' }, sink);
  const a = await Runtime.start({ node: 'big-a', logger, transport: new NatsTransport({ servers: t.context.nats.url, logger }) });
  const b = await Runtime.start({ node: 'big-b', logger, transport: new NatsTransport({ servers: t.context.nats.url, logger }) });
  t.teardown(() => Promise.all([a.shutdown(), b.shutdown()]));
  const receiver = new Probe('receiver', ['chunk', 'huge']);
  const sender = new Probe('sender');
  b.spawn(receiver);
  a.spawn(sender);
  // Six 300 KB bodies in one turn: more than one bus message can hold (the default max_payload is 1 MB).
  const body = 'x'.repeat(300 * 1024);
  for (let i = 0; i < 6; i++) sender.send(receiver.self, 'chunk', { i, body });
  sender.send(receiver.self, 'huge', { body: 'y'.repeat(2 * 1024 * 1024) });
  sender.send(receiver.self, 'chunk', { i: 6, body: 'small' });
  await a.settle();
  t.deepEqual(receiver.bodies('chunk').map((c) => (c as { i: number }).i), [0, 1, 2, 3, 4, 5, 6]);
  t.deepEqual(receiver.bodies('huge'), []);
  t.is(a.metrics.snapshot()['runtime/messages_dropped_undeliverable'], 1);
  const error = lines.find((l) => l.msg.startsWith('Dropping a message larger than the bus allows'));
  t.truthy(error);
  t.is(error!.name, 'huge');
  t.true(error!.bytes! > 2 * 1024 * 1024);
});

test('bus - batches are measured in UTF-8 bytes, not characters: multi-byte bodies near max_payload all arrive', async (t) => {
  const a = await Runtime.start({ node: 'utf8-a', transport: new NatsTransport({ servers: t.context.nats.url }) });
  const b = await Runtime.start({ node: 'utf8-b', transport: new NatsTransport({ servers: t.context.nats.url }) });
  t.teardown(() => Promise.all([a.shutdown(), b.shutdown()]));
  const receiver = new Probe('receiver', ['chunk']);
  const sender = new Probe('sender');
  b.spawn(receiver);
  a.spawn(sender);
  // 100,000 '€' (3 bytes each in UTF-8) is 300 KB: three of them are under the default 1 MB
  // max_payload in characters, over it in bytes, so a batch counted in characters would be refused.
  const body = '€'.repeat(100_000);
  for (let i = 0; i < 6; i++) sender.send(receiver.self, 'chunk', { i, body });
  // ASCII bodies of 200 KB in between: measured cheaply (by characters) until a batch nears the limit.
  for (let i = 6; i < 12; i++) sender.send(receiver.self, 'chunk', { i, body: 'a'.repeat(200_000) });
  await a.settle();
  const chunks = receiver.bodies('chunk') as { i: number; body: string }[];
  t.deepEqual(chunks.map((c) => c.i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  t.is(chunks[0]!.body, body);
  t.is(a.metrics.snapshot()['runtime/messages_dropped_undeliverable'] ?? 0, 0);
});
