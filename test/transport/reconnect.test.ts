import anyTest, { type TestFn } from 'ava';
import { pino } from 'pino';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { Probe } from '../helpers/runtime.ts';

const test = anyTest as TestFn<{ nats: NatsServer }>;

test.before(async (t) => {
  t.context.nats = await startNatsServer();
});
test.after.always(async (t) => {
  await t.context.nats?.stop();
});

test('nats - runtimes reconnect after a nats-server restart; nothing arrives twice; links across are interrupted, not ended', async (t) => {
  const logger = pino({ level: 'silent' });
  const ta = new NatsTransport({ servers: t.context.nats.url, logger });
  const tb = new NatsTransport({ servers: t.context.nats.url, logger });
  const a = await Runtime.start({ node: 'rc-a', logger, transport: ta });
  const b = await Runtime.start({ node: 'rc-b', logger, transport: tb });
  t.teardown(() => Promise.all([a.shutdown(), b.shutdown()]));
  const receiver = new Probe('receiver', ['n']);
  const sender = new Probe('sender');
  a.spawn(receiver);
  b.spawn(sender);

  await a.dispatch(receiver.self, () => receiver.linkTo(sender.self));
  await b.dispatch(sender.self, () => sender.linkTo(receiver.self));
  const first = receiver.next('n');
  sender.send(receiver.self, 'n', 0);
  await first;

  const reconnected = Promise.all([ta.nextStatus('reconnect'), tb.nextStatus('reconnect')]);
  await t.context.nats.restart();
  // Sent while the bus may be down: each is delivered at most once, never twice.
  for (let i = 1; i <= 100; i++) sender.send(receiver.self, 'n', i);
  await reconnected;
  // A round trip to the server on each connection: after it, the server has the subscriptions
  // that the reconnection re-sent (a publish from one connection can overtake another's SUB).
  await Promise.all([ta.flush(), tb.flush()]);

  // After reconnection the subscription is back: a fresh message gets through.
  const after = new Probe('after-sender');
  b.spawn(after);
  const got = new Probe('after-receiver', ['n-after']);
  a.spawn(got);
  const arrived = got.next('n-after');
  after.send(got.self, 'n-after', 'hello again');
  t.is(await arrived, 'hello again');

  await Promise.all([a.settle(), b.settle()]);
  // Messages may have been lost: each side's link to the other is interrupted (by its own
  // reconnection, and by the other's notice), and still stands.
  t.true(receiver.interruptions.length >= 1 && receiver.interruptions.every((u) => u.equals(sender.self)), String(receiver.interruptions));
  t.true(sender.interruptions.length >= 1 && sender.interruptions.every((u) => u.equals(receiver.self)), String(sender.interruptions));
  t.deepEqual([...receiver.exits, ...sender.exits], []);

  const seen = receiver.bodies('n') as number[];
  t.is(new Set(seen).size, seen.length, 'no duplicates');
  t.deepEqual([...seen].sort((x, y) => x - y), seen, 'in order');
  t.is(seen[0], 0);
});
