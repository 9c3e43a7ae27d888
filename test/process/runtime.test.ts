import test from 'ava';
import { pino } from 'pino';
import { setup, createActor } from 'xstate';
import { Process } from '../../src/process/process.ts';
import { UPID } from '../../src/process/upid.ts';
import { dropMessage, dropMessages, futureExited, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { localWorld, Probe } from '../helpers/runtime.ts';

resetFiltersAfterEach(test);

test.serial('Spawn - initialize runs first, then messages in order', async (t) => {
  const { runtimes, shutdown } = await localWorld(['spawn-a']);
  const rt = runtimes[0]!;
  const order: string[] = [];
  class P extends Process {
    constructor() {
      super('p');
      this.install('m', (_from, body: { i: number }) => order.push(`m${body.i}`));
    }
    override initialize(): void {
      order.push('init');
    }
  }
  const pid = rt.spawn(new P());
  const sender = new Probe('sender');
  rt.spawn(sender);
  for (let i = 0; i < 5; i++) sender.send(pid, 'm', { i });
  await rt.settle();
  t.deepEqual(order, ['init', 'm0', 'm1', 'm2', 'm3', 'm4']);
  t.throws(() => rt.spawn(new P()), { message: /already runs/ });
  await shutdown();
});

test.serial('Ordering - messages between one sender and one receiver arrive in order across nodes', async (t) => {
  const { runtimes, shutdown } = await localWorld(['order-a', 'order-b']);
  const receiver = new Probe('receiver', ['n']);
  const sender = new Probe('sender');
  runtimes[0]!.spawn(receiver);
  runtimes[1]!.spawn(sender);
  for (let i = 0; i < 1000; i++) sender.send(receiver.self, 'n', i);
  await runtimes[0]!.settle();
  t.deepEqual(receiver.bodies('n'), Array.from({ length: 1000 }, (_, i) => i));
  await shutdown();
});

test.serial('Metrics - messages_sent_remote and messages_received_remote count the same messages, control envelopes in neither', async (t) => {
  const { runtimes, shutdown } = await localWorld(['count-a', 'count-b']);
  const receiver = new Probe('receiver', ['n']);
  const sender = new Probe('sender');
  runtimes[0]!.spawn(receiver);
  runtimes[1]!.spawn(sender);
  // A link makes control traffic (link, linked) beside the messages.
  await runtimes[1]!.dispatch(sender.self, () => sender.linkTo(receiver.self));
  for (let i = 0; i < 10; i++) sender.send(receiver.self, 'n', i);
  await runtimes[0]!.settle();
  const count = (i: number, name: string) => runtimes[i]!.metrics.snapshot()[`runtime/${name}`];
  t.is(count(1, 'messages_sent_remote'), 10);
  t.is(count(0, 'messages_received_remote'), 10);
  t.is(count(0, 'messages_sent_remote'), 0);
  t.is(count(1, 'messages_received_remote'), 0);
  await shutdown();
});

test.serial('Mailbox - handlers of one process never interleave, even with deferred continuations', async (t) => {
  const { runtimes, shutdown } = await localWorld(['serial-a']);
  const rt = runtimes[0]!;
  const log: string[] = [];
  let inside = 0;
  let overlap = false;
  const p = new Probe('p', [], {
    work(this: Probe, _from: UPID, i: number) {
      inside++;
      if (inside > 1) overlap = true;
      log.push(`start${i}`);
      this.after(Promise.resolve(i), (v) => log.push(`cont${v}`));
      log.push(`end${i}`);
      inside--;
    },
  });
  rt.spawn(p);
  const q = new Probe('q');
  rt.spawn(q);
  q.send(p.self, 'work', 1);
  q.send(p.self, 'work', 2);
  await rt.settle();
  t.false(overlap);
  t.deepEqual(log.slice(0, 4), ['start1', 'end1', 'start2', 'end2']);
  t.deepEqual(log.slice(4).sort(), ['cont1', 'cont2']);
  await shutdown();
});

test.serial('UnknownProcess - a message to a process that does not exist is dropped and counted', async (t) => {
  const { runtimes, shutdown } = await localWorld(['unknown-a', 'unknown-b']);
  const sender = new Probe('sender');
  runtimes[0]!.spawn(sender);
  t.notThrows(() => sender.send(UPID.parse('ghost@unknown-a'), 'hello', {}));
  t.notThrows(() => sender.send(UPID.parse('ghost@unknown-b'), 'hello', {}));
  t.notThrows(() => sender.send(UPID.parse('ghost@no-such-node'), 'hello', {}));
  await runtimes[0]!.settle();
  t.is(runtimes[0]!.metrics.snapshot()['runtime/messages_dropped_unknown_process'], 1);
  t.is(runtimes[1]!.metrics.snapshot()['runtime/messages_dropped_unknown_process'], 1);
  t.is(runtimes[0]!.metrics.snapshot()['runtime/messages_dropped_undeliverable'], 1);
  await shutdown();
});

test.serial('Dispatch - runs inside the mailbox and resolves with the result; a throw rejects', async (t) => {
  const { runtimes, shutdown } = await localWorld(['dispatch-a']);
  const rt = runtimes[0]!;
  const p = new Probe('p');
  rt.spawn(p);
  t.is(await rt.dispatch(p.self, () => 41 + 1), 42);
  t.is(await rt.dispatch(p.self, async () => 'async'), 'async');
  await t.throwsAsync(rt.dispatch(p.self, () => {
    throw new Error('boom');
  }), { message: 'boom' });
  await t.throwsAsync(rt.dispatch(UPID.parse('ghost@dispatch-a'), () => 1), { message: /no such process/ });
  await shutdown();
});

test.serial('Delay - a delayed call runs in the mailbox when the paused clock reaches it', async (t) => {
  const { runtimes, clock, shutdown } = await localWorld(['delay-a']);
  const rt = runtimes[0]!;
  clock.pause();
  const p = new Probe('p');
  rt.spawn(p);
  const fired: number[] = [];
  const start = clock.now();
  await rt.dispatch(p.self, () => {
    p.later(10_000, () => fired.push(clock.now() - start));
    p.later(20_000, () => fired.push(-1)).cancel();
  });
  clock.advance(9_999);
  await rt.settle();
  t.deepEqual(fired, []);
  clock.advance(1);
  await rt.settle();
  t.deepEqual(fired, [10_000]);
  clock.advance(60_000);
  await rt.settle();
  t.deepEqual(fired, [10_000]);
  await shutdown();
});

test.serial('Terminate - finalize runs, timers die, wait resolves, later messages are dropped', async (t) => {
  const { runtimes, clock, shutdown } = await localWorld(['term-a']);
  const rt = runtimes[0]!;
  clock.pause();
  let finalized = 0;
  let timerRan = false;
  class P extends Probe {
    override finalize(): void {
      finalized++;
    }
  }
  const p = new P('p', ['m']);
  rt.spawn(p);
  await rt.dispatch(p.self, () => p.later(1_000, () => (timerRan = true)));
  const waited = rt.wait(p.self);
  rt.terminate(p.self);
  await waited;
  t.is(finalized, 1);
  t.false(p.alive);
  const sender = new Probe('sender');
  rt.spawn(sender);
  sender.send(p.self, 'm', {});
  clock.advance(5_000);
  await rt.settle();
  t.false(timerRan);
  t.deepEqual(p.received, []);
  t.is(rt.metrics.snapshot()['runtime/messages_dropped_unknown_process'], 1);
  await shutdown();
});

test.serial('Link - a linked local process gets exited when its peer terminates', async (t) => {
  const { runtimes, shutdown } = await localWorld(['link-a']);
  const rt = runtimes[0]!;
  const watched = new Probe('watched');
  const watcher = new Probe('watcher');
  rt.spawn(watched);
  rt.spawn(watcher);
  await rt.dispatch(watcher.self, () => watcher.linkTo(watched.self));
  const exited = futureExited(watched.self, watcher.self);
  rt.terminate(watched.self);
  const event = await exited;
  t.is(String(event.upid), 'watched@link-a');
  await rt.settle();
  t.deepEqual(watcher.exits.map(String), ['watched@link-a']);
  // Linking to a process that does not run reports it exited at once, as libprocess does.
  await rt.dispatch(watcher.self, () => watcher.linkTo(UPID.parse('never@link-a')));
  await rt.settle();
  t.deepEqual(watcher.exits.map(String), ['watched@link-a', 'never@link-a']);
  await shutdown();
});

test.serial('Link - across nodes: exited on remote terminate, on shutdown (bye), and on silence', async (t) => {
  // Link liveness follows the wall clock (heartbeats come on the peer's own time); short here.
  const { runtimes, shutdown } = await localWorld(['rl-a', 'rl-b', 'rl-c', 'rl-d'], { linkHeartbeatIntervalMs: 20, linkTimeoutMs: 100 });
  const [a, b, c, d] = runtimes as [typeof runtimes[0] & {}, typeof runtimes[0] & {}, typeof runtimes[0] & {}, typeof runtimes[0] & {}];
  const watcher = new Probe('watcher');
  a.spawn(watcher);
  const onB = new Probe('x');
  const onC = new Probe('y');
  const onD = new Probe('z');
  b.spawn(onB);
  c.spawn(onC);
  d.spawn(onD);
  await a.dispatch(watcher.self, () => {
    watcher.linkTo(onB.self);
    watcher.linkTo(onC.self);
    watcher.linkTo(onD.self);
    watcher.linkTo(UPID.parse('nobody@rl-b'));
  });
  await a.settle();
  t.deepEqual(watcher.exits.map(String), ['nobody@rl-b']);
  t.deepEqual(a.peers().sort(), ['rl-b', 'rl-c', 'rl-d']);

  b.terminate(onB.self);
  await a.settle();
  t.deepEqual(watcher.exits.map(String), ['nobody@rl-b', 'x@rl-b']);

  await c.shutdown();
  await a.settle();
  t.deepEqual(watcher.exits.map(String), ['nobody@rl-b', 'x@rl-b', 'y@rl-c']);

  // d vanishes without a word: only the heartbeat timeout can tell.
  const silent = futureExited(onD.self, watcher.self);
  const crashedAt = performance.now();
  await d.crash();
  await silent;
  t.true(performance.now() - crashedAt >= 100 - 20, 'not before the link timeout');
  await a.settle();
  t.deepEqual(watcher.exits.map(String), ['nobody@rl-b', 'x@rl-b', 'y@rl-c', 'z@rl-d']);
  t.deepEqual(a.peers(), []);
  await shutdown();
});

test.serial('Link - a restarted peer runtime (new incarnation) reports old links exited without waiting for the timeout', async (t) => {
  const { runtimes, bus, clock, shutdown } = await localWorld(['inc-a', 'inc-b'], { linkHeartbeatIntervalMs: 20, linkTimeoutMs: 60_000 });
  const [a, b] = runtimes as [NonNullable<typeof runtimes[0]>, NonNullable<typeof runtimes[0]>];
  const watcher = new Probe('watcher');
  a.spawn(watcher);
  b.spawn(new Probe('svc'));
  await a.dispatch(watcher.self, () => watcher.linkTo(UPID.parse('svc@inc-b')));
  await a.settle();
  const exited = futureExited('svc@inc-b', watcher.self);
  await b.crash();
  const { Runtime } = await import('../../src/process/runtime.ts');
  const { LocalTransport } = await import('../../src/transport/local.ts');
  const b2 = await Runtime.start({ node: 'inc-b', clock, transport: new LocalTransport(bus) });
  b2.spawn(new Probe('svc'));
  // The next heartbeat from a reaches the new b, which does not know a: a hears so at once.
  await exited;
  await a.settle();
  t.deepEqual(watcher.exits.map(String), ['svc@inc-b']);
  await b2.shutdown();
  await shutdown();
});

test.serial('Link - a bus connection that broke and came back interrupts the links across it, on both sides, and ends none', async (t) => {
  const { runtimes, shutdown } = await localWorld(['int-a', 'int-b', 'int-c']);
  const [a, b, c] = runtimes as [NonNullable<typeof runtimes[0]>, NonNullable<typeof runtimes[0]>, NonNullable<typeof runtimes[0]>];
  const onA = new Probe('x', ['ping']);
  const onB = new Probe('y', ['ping']);
  const onC = new Probe('z');
  const bystander = new Probe('w');
  a.spawn(onA);
  b.spawn(onB);
  c.spawn(onC);
  c.spawn(bystander);
  await a.dispatch(onA.self, () => onA.linkTo(onB.self));
  await b.dispatch(onB.self, () => onB.linkTo(onA.self));
  // c's link to b's process does not cross a's connection.
  await c.dispatch(onC.self, () => onC.linkTo(onB.self));
  await Promise.all([a.settle(), b.settle(), c.settle()]);

  // a's connection broke and came back: x hears it from its own runtime, y from a's notice.
  a.reconnected();
  await Promise.all([a.settle(), b.settle(), c.settle()]);
  t.deepEqual(onA.interruptions.map(String), ['y@int-b']);
  t.deepEqual(onB.interruptions.map(String), ['x@int-a']);
  t.deepEqual(onC.interruptions, []);
  t.deepEqual(bystander.interruptions, []);
  t.deepEqual([...onA.exits, ...onB.exits, ...onC.exits], []);

  // The links stand: a termination is still reported.
  b.terminate(onB.self);
  await Promise.all([a.settle(), b.settle(), c.settle()]);
  t.deepEqual(onA.exits.map(String), ['y@int-b']);
  t.deepEqual(onC.exits.map(String), ['y@int-b']);
  await shutdown();
});

test.serial('Filters - futureMessage resolves and still delivers; dropMessage drops once; dropMessages keeps dropping', async (t) => {
  const { runtimes, shutdown } = await localWorld(['filter-a']);
  const rt = runtimes[0]!;
  const r = new Probe('r', ['ping']);
  const s = new Probe('s');
  rt.spawn(r);
  rt.spawn(s);
  const seen = futureMessage('ping', s.self, 'r');
  s.send(r.self, 'ping', 1);
  t.deepEqual((await seen).body, 1);
  const dropped = dropMessage('ping', undefined, r.self);
  s.send(r.self, 'ping', 2);
  s.send(r.self, 'ping', 3);
  t.is((await dropped).body, 2);
  await rt.settle();
  t.deepEqual(r.bodies('ping'), [1, 3]);
  const all = dropMessages('ping');
  s.send(r.self, 'ping', 4);
  s.send(r.self, 'ping', 5);
  await rt.settle();
  t.deepEqual(all.dropped.map((m) => m.body), [4, 5]);
  all.stop();
  s.send(r.self, 'ping', 6);
  await rt.settle();
  t.deepEqual(r.bodies('ping'), [1, 3, 6]);
  await shutdown();
});

test.serial('Validation - a remote body failing the validator is dropped and counted; the next good one is handled', async (t) => {
  const { runtimes, shutdown } = await localWorld(['valid-a', 'valid-b']);
  const got: number[] = [];
  class P extends Process {
    constructor() {
      super('p');
      this.install('num', (_f, body: { n: number }) => got.push(body.n), (body) => {
        const n = (body as { n?: unknown } | null)?.n;
        if (typeof n !== 'number') throw new Error(`'n' must be a number, got ${JSON.stringify(n)}`);
        return body as { n: number };
      });
    }
  }
  runtimes[0]!.spawn(new P());
  const s = new Probe('s');
  runtimes[1]!.spawn(s);
  s.send('p@valid-a', 'num', { n: 'x' });
  s.send('p@valid-a', 'unknown-name', {});
  s.send('p@valid-a', 'num', { n: 7 });
  await runtimes[0]!.settle();
  t.deepEqual(got, [7]);
  const snap = runtimes[0]!.metrics.snapshot();
  t.is(snap['runtime/messages_invalid'], 1);
  t.is(snap['runtime/messages_unhandled'], 1);
  await shutdown();
});

test.serial('Handlers - a throwing handler is logged and counted, and the process keeps serving', async (t) => {
  const { runtimes, shutdown } = await localWorld(['throw-a'], { logger: pino({ level: 'silent' }) });
  const rt = runtimes[0]!;
  const p = new Probe('p', ['ok'], {
    bad() {
      throw new Error('invariant');
    },
  });
  rt.spawn(p);
  const s = new Probe('s');
  rt.spawn(s);
  s.send(p.self, 'bad', {});
  s.send(p.self, 'ok', {});
  await rt.settle();
  t.is(p.bodies('ok').length, 1);
  t.is(rt.metrics.snapshot()['runtime/handler_errors'], 1);
  await shutdown();
});

test.serial('Settle - waits for deferred promises and cascades of messages and timers', async (t) => {
  const { runtimes, clock, shutdown } = await localWorld(['settle-a', 'settle-b']);
  clock.pause();
  const results: string[] = [];
  const b = new Probe('b', ['done'], {});
  const a = new Probe('a', [], {
    go(this: Probe) {
      this.after(new Promise<string>((resolve) => setImmediate(() => resolve('io'))), (v) => {
        results.push(v);
        this.later(0, () => this.send(b.self, 'done', v));
      });
    },
  });
  runtimes[0]!.spawn(a);
  runtimes[1]!.spawn(b);
  b.send(a.self, 'go', {});
  await runtimes[0]!.settle();
  t.deepEqual(results, ['io']);
  t.deepEqual(b.bodies('done'), ['io']);
  await shutdown();
});

test.serial('Machines - an xstate actor created with machineClock runs its delays inside the mailbox', async (t) => {
  const { runtimes, clock, shutdown } = await localWorld(['machine-a']);
  clock.pause();
  const machine = setup({ delays: { retry: 10_000 } }).createMachine({
    initial: 'REGISTERING',
    states: { REGISTERING: { after: { retry: 'RETRYING' } }, RETRYING: {} },
  });
  class P extends Process {
    actor = createActor(machine, { clock: this.machineClock });
    constructor() {
      super('m');
    }
    override initialize(): void {
      this.actor.start();
    }
  }
  const p = new P();
  runtimes[0]!.spawn(p);
  await runtimes[0]!.settle();
  clock.advance(9_999);
  await runtimes[0]!.settle();
  t.is(p.actor.getSnapshot().value, 'REGISTERING');
  clock.advance(1);
  await runtimes[0]!.settle();
  t.is(p.actor.getSnapshot().value, 'RETRYING');
  await shutdown();
});

test.serial('Advance - a periodic timer re-armed by its handler fires once per period within one advance', async (t) => {
  const { runtimes, clock, shutdown } = await localWorld(['advance-a']);
  clock.pause();
  const ticks: number[] = [];
  const start = clock.now();
  const p = new Probe('ticker');
  runtimes[0]!.spawn(p);
  const tick = (): void => {
    ticks.push(clock.now() - start);
    p.later(1_000, tick);
  };
  await runtimes[0]!.dispatch(p.self, () => p.later(1_000, tick));
  clock.advance(5_000);
  t.deepEqual(ticks, [1_000, 2_000, 3_000, 4_000, 5_000]);
  await shutdown();
});

test.serial('Scheduling - two runtimes messaging each other without end do not starve timers or I/O', async (t) => {
  const { runtimes, shutdown } = await localWorld(['busy-a', 'busy-b']);
  let bounces = 0;
  const bounce = function (this: Probe, from: UPID) {
    bounces++;
    this.send(from, 'ball', {});
  };
  const a = new Probe('a', [], { ball: bounce });
  const b = new Probe('b', [], { ball: bounce });
  runtimes[0]!.spawn(a);
  runtimes[1]!.spawn(b);
  a.send(b.self, 'ball', {});
  // A wall-clock timer (not the runtime Clock) must still fire while the ball flies.
  await new Promise<void>((resolve) => setTimeout(resolve, 50));
  t.true(bounces > 100, `the ball was in play (${bounces} bounces)`);
  runtimes[0]!.terminate(a.self);
  await shutdown();
});
