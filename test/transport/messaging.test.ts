import anyTest, { type TestFn } from 'ava';
import { UPID } from '../../src/process/upid.ts';
import { dropMessage, futureExited, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { useBuses, type BusesContext } from '../helpers/worlds.ts';

/**
 * The messaging suite: the same cases on the local bus and on a real nats-server, so that
 * "the same actor code runs in one process or spread across machines" is checked, not assumed.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);

useBuses(test);

for (const kind of ['local', 'nats'] as const) {
  test.serial(`${kind} - messages between two nodes arrive once and in order`, async (t) => {
    const world = await t.context.buses[kind].world(t, ['a', 'b']);
    const [a, b] = world.runtimes as [NonNullable<(typeof world.runtimes)[0]>, NonNullable<(typeof world.runtimes)[0]>];
    const receiver = new Probe('receiver', ['n']);
    const sender = new Probe('sender');
    a.spawn(receiver);
    b.spawn(sender);
    const count = 5_000;
    for (let i = 0; i < count; i++) sender.send(receiver.self, 'n', { i, pad: 'x'.repeat(i % 50) });
    await b.settle();
    t.deepEqual(receiver.bodies('n').map((body) => (body as { i: number }).i), Array.from({ length: count }, (_, i) => i));
    t.true(receiver.received.every((m) => String(m.from) === String(sender.self)));
    await world.shutdown();
  });

  test.serial(`${kind} - request and reply by the sender's address`, async (t) => {
    const world = await t.context.buses[kind].world(t, ['a', 'b']);
    const [a, b] = world.runtimes as [NonNullable<(typeof world.runtimes)[0]>, NonNullable<(typeof world.runtimes)[0]>];
    const server = new Probe('server', [], {
      ping(this: Probe, from: UPID, body: { n: number }) {
        this.send(from, 'pong', { n: body.n + 1 });
      },
    });
    const client = new Probe('client', ['pong']);
    a.spawn(server);
    b.spawn(client);
    const pong = client.next('pong');
    client.send(server.self, 'ping', { n: 1 });
    t.deepEqual(await pong, { n: 2 });
    await world.shutdown();
  });

  test.serial(`${kind} - a message for an unknown process on another node is dropped and counted there`, async (t) => {
    const world = await t.context.buses[kind].world(t, ['a', 'b']);
    const [a, b] = world.runtimes as [NonNullable<(typeof world.runtimes)[0]>, NonNullable<(typeof world.runtimes)[0]>];
    const sender = new Probe('sender');
    const receiver = new Probe('receiver', ['after']);
    b.spawn(sender);
    a.spawn(receiver);
    sender.send(new UPID('ghost', a.node), 'hello', {});
    sender.send(receiver.self, 'after', {});
    await b.settle();
    t.is(a.metrics.snapshot()['runtime/messages_dropped_unknown_process'], 1);
    t.is(receiver.bodies('after').length, 1);
    await world.shutdown();
  });

  test.serial(`${kind} - filters see remote deliveries at the receiver: future and drop`, async (t) => {
    const world = await t.context.buses[kind].world(t, ['a', 'b']);
    const [a, b] = world.runtimes as [NonNullable<(typeof world.runtimes)[0]>, NonNullable<(typeof world.runtimes)[0]>];
    const receiver = new Probe('receiver', ['m']);
    const sender = new Probe('sender');
    a.spawn(receiver);
    b.spawn(sender);
    const dropped = dropMessage('m', sender.self, receiver.self);
    const seen = futureMessage('m', 'sender', 'receiver');
    sender.send(receiver.self, 'm', 1);
    sender.send(receiver.self, 'm', 2);
    t.is((await dropped).body, 1);
    t.is((await seen).body, 2);
    await b.settle();
    t.deepEqual(receiver.bodies('m'), [2]);
    await world.shutdown();
  });

  test.serial(`${kind} - remote link: exited on terminate, on shutdown, and after silence`, async (t) => {
    const world = await t.context.buses[kind].world(t, ['a', 'b', 'c', 'd'], { linkHeartbeatIntervalMs: 20, linkTimeoutMs: 150 });
    const [a, b, c, d] = world.runtimes as NonNullable<(typeof world.runtimes)[0]>[] as [
      NonNullable<(typeof world.runtimes)[0]>,
      NonNullable<(typeof world.runtimes)[0]>,
      NonNullable<(typeof world.runtimes)[0]>,
      NonNullable<(typeof world.runtimes)[0]>,
    ];
    const watcher = new Probe('watcher');
    a.spawn(watcher);
    const x = new Probe('x');
    const y = new Probe('y');
    const z = new Probe('z');
    b.spawn(x);
    c.spawn(y);
    d.spawn(z);
    await a.dispatch(watcher.self, () => {
      watcher.linkTo(x.self);
      watcher.linkTo(y.self);
      watcher.linkTo(z.self);
    });
    await a.settle();
    t.deepEqual(watcher.exits, []);

    const xExited = futureExited(x.self, watcher.self);
    b.terminate(x.self);
    await xExited;

    const yExited = futureExited(y.self, watcher.self);
    await c.shutdown();
    await yExited;

    // A paused Clock does not stop link liveness: it follows real time, like a socket.
    world.clock.pause();
    const zExited = futureExited(z.self, watcher.self);
    await d.crash();
    await zExited;
    await a.settle();
    t.deepEqual(watcher.exits.map(String), [String(x.self), String(y.self), String(z.self)]);
  });

  test.serial(`${kind} - settle waits until messages to other nodes have arrived and been handled`, async (t) => {
    const world = await t.context.buses[kind].world(t, ['a', 'b', 'c']);
    const [a, b, c] = world.runtimes as NonNullable<(typeof world.runtimes)[0]>[] as [
      NonNullable<(typeof world.runtimes)[0]>,
      NonNullable<(typeof world.runtimes)[0]>,
      NonNullable<(typeof world.runtimes)[0]>,
    ];
    // a → b → c → a: a chain of hops over the bus, each one a handler that forwards.
    const last = new Probe('last', ['hop']);
    const middle = new Probe('middle', [], {
      hop(this: Probe, _from: UPID, body: number) {
        this.send(new UPID('end', c.node), 'hop', body + 1);
      },
    });
    const end = new Probe('end', [], {
      hop(this: Probe, _from: UPID, body: number) {
        this.send(last.self, 'hop', body + 1);
      },
    });
    a.spawn(last);
    b.spawn(middle);
    c.spawn(end);
    last.send(middle.self, 'hop', 0);
    await a.settle();
    t.deepEqual(last.bodies('hop'), [2]);
    await world.shutdown();
  });
}
