import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MesosError } from '../../src/errors.ts';
import { Clock } from '../../src/process/clock.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { UPID } from '../../src/process/upid.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';
import {
  ExecutorSocketServer,
  HELLO_TIMEOUT_MS,
  MAX_HELLO_FRAME_BYTES,
  MAX_PENDING_HELLOS,
  FrameDecoder,
  SocketTransport,
  encodeFrame,
  executorSocketPath,
  parseFrame,
  printablePath,
  socketPathFromPrintable,
} from '../../src/transport/socket.ts';
import { futureExited } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';

/** A runtime that also keeps every `malformed` reason, so tests can await and read them. */
class RecordingRuntime extends Runtime {
  readonly reasons: string[] = [];
  readonly #waiting: ((reason: string) => void)[] = [];

  override malformed(reason: string): void {
    this.reasons.push(reason);
    super.malformed(reason);
    for (const resolve of this.#waiting.splice(0)) resolve(reason);
  }

  nextMalformed(): Promise<string> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

function freshPath(): string {
  return executorSocketPath(mkdtempSync(join(tmpdir(), 'mesos-ts-socket-')));
}

/** An agent: a runtime on its own local bus plus the executor socket server. */
async function startAgent(t: ExecutionContext, node: string, path: string, clock: Clock) {
  // Links end only by what the socket says: a silent peer would count as gone only after 10 minutes.
  const runtime = new RecordingRuntime({ node, clock, transport: new LocalTransport(new LocalBus()), linkTimeoutMs: 600_000 });
  await runtime.start();
  t.teardown(() => runtime.shutdown());
  const server = await ExecutorSocketServer.listen(runtime, path);
  t.teardown(() => server.close());
  const probe = new Probe('agent-probe', ['pong', 'hi', 'done']);
  runtime.spawn(probe);
  return { runtime, server, probe };
}

/** An executor: a runtime over `SocketTransport` with an `echo` process; `events` emits `disconnect` and `reconnect`. */
async function startExecutor(t: ExecutionContext, node: string, path: string, clock: Clock) {
  const events = new EventEmitter();
  const transport = new SocketTransport({ path, node, retryMs: 20, onDisconnect: () => events.emit('disconnect') });
  transport.onReconnect(() => events.emit('reconnect'));
  const runtime = await Runtime.start({ node, clock, transport });
  t.teardown(() => runtime.shutdown());
  const echo = new Probe('echo', ['ping'], {
    ping(this: Probe, from: UPID, body: unknown) {
      this.send(from, 'pong', body);
    },
  });
  runtime.spawn(echo);
  return { runtime, transport, events, echo };
}

function nextConnect(server: ExecutorSocketServer): Promise<string> {
  return new Promise((resolve) => {
    const off = server.onConnect((node) => {
      off();
      resolve(node);
    });
  });
}

/** Round trips both ways: agent → executor `ping` → agent `pong`; executor → agent `hi`. */
async function exchange(t: ExecutionContext, agentProbe: Probe, echo: Probe, n: number): Promise<void> {
  const pong = agentProbe.next('pong');
  agentProbe.send(echo.self, 'ping', { n });
  t.deepEqual(await pong, { n });
  const hi = agentProbe.next('hi');
  echo.send(agentProbe.self, 'hi', { from: 'executor', n });
  t.deepEqual(await hi, { from: 'executor', n });
}

async function rawClient(t: ExecutionContext, path: string): Promise<Socket> {
  const socket = createConnection({ path });
  socket.on('error', () => undefined);
  t.teardown(() => void socket.destroy());
  await once(socket, 'connect');
  return socket;
}

const GOOD_ENVELOPE = { from: 'x@raw', to: 'agent-probe@agent-bad', name: 'hi', body: {} };

test('socket - executorSocketPath is an abstract name from the resolved work directory', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-socket-'));
  const path = executorSocketPath(dir);
  t.regex(path, /^\0mesos-ts-executors-[0-9a-f]{32}$/);
  t.is(executorSocketPath(relative(process.cwd(), dir)), path);
  t.not(executorSocketPath(`${dir}-other`), path);
  t.is(printablePath(path), `@${path.slice(1)}`);
  t.false(printablePath(path).includes('\0'));
  t.is(socketPathFromPrintable(printablePath(path)), path);
  t.is(socketPathFromPrintable('/run/agent.sock'), '/run/agent.sock');
});

test('socket - processes of an executor runtime and of its agent runtime exchange messages both ways', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const agent = await startAgent(t, 'agent-1', path, clock);
  const connected = nextConnect(agent.server);
  const executor = await startExecutor(t, 'exec-1', path, clock);
  t.is(await connected, 'exec-1');
  t.deepEqual(agent.server.connected(), ['exec-1']);
  await exchange(t, agent.probe, executor.echo, 1);
  // Several in one turn arrive in order.
  for (let i = 0; i < 50; i++) executor.echo.send(agent.probe.self, 'hi', { i });
  const done = agent.probe.next('done');
  executor.echo.send(agent.probe.self, 'done', {});
  await done;
  t.deepEqual(
    agent.probe.bodies('hi').slice(1),
    Array.from({ length: 50 }, (_, i) => ({ i })),
  );
  t.is(agent.runtime.reasons.length, 0);
});

test('socket - when the agent side closes, the executor hears onDisconnect and agent processes linked to it get exited', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const agent = await startAgent(t, 'agent-2', path, clock);
  const connected = nextConnect(agent.server);
  const executor = await startExecutor(t, 'exec-2', path, clock);
  await connected;
  await exchange(t, agent.probe, executor.echo, 1);
  await agent.runtime.dispatch(agent.probe.self, () => agent.probe.linkTo(executor.echo.self));

  const exited = futureExited(executor.echo.self, agent.probe.self);
  const disconnected = once(executor.events, 'disconnect');
  await agent.server.close();
  await Promise.all([exited, disconnected]);
  await agent.runtime.settle();
  t.deepEqual(agent.probe.exits.map(String), ['echo@exec-2']);
  t.deepEqual(agent.server.connected(), []);
  t.false(executor.transport.send('agent-2', { from: 'echo@exec-2', to: 'agent-probe@agent-2', name: 'hi', body: {} }));
});

test('socket - an executor reconnects by itself to a restarted agent on the same path; messages flow again', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const first = await startAgent(t, 'agent-r', path, clock);
  const connected = nextConnect(first.server);
  const executor = await startExecutor(t, 'exec-r', path, clock);
  await connected;
  await exchange(t, first.probe, executor.echo, 1);

  // The agent goes away.
  const disconnected = once(executor.events, 'disconnect');
  await first.server.close();
  await first.runtime.shutdown();
  await disconnected;
  t.false(executor.transport.send('agent-r', { from: 'echo@exec-r', to: 'agent-probe@agent-r', name: 'hi', body: {} }));

  // A new agent (a new runtime of the same node) listens on the same path.
  const reconnected = once(executor.events, 'reconnect');
  const second = await startAgent(t, 'agent-r', path, clock);
  const reconnectedAtAgent = nextConnect(second.server);
  t.is(await reconnectedAtAgent, 'exec-r');
  await reconnected;
  t.deepEqual(second.server.connected(), ['exec-r']);
  await exchange(t, second.probe, executor.echo, 2);
  t.deepEqual(first.probe.bodies('pong'), [{ n: 1 }]);
});

test('socket - a connection that sends a non-hello first frame, invalid JSON or a huge length is closed and named; good clients are still served', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const agent = await startAgent(t, 'agent-bad', path, clock);
  const cases: [string, Buffer, RegExp][] = [
    ['non-hello first frame', encodeFrame(JSON.stringify({ mesos: GOOD_ENVELOPE })), /first frame must be a hello/],
    ['invalid JSON', encodeFrame('{nope'), /frame is not JSON .*\{nope/],
    ['invalid UTF-8', encodeFrame(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not UTF-8/],
    ['huge length prefix', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7b]), /frame length 4294967295 is larger than the 65536 byte limit/],
    ['a first frame larger than a hello', Buffer.from([0x00, 0x01, 0x00, 0x01, 0x7b]), /frame length 65537 is larger than the 65536 byte limit/],
    ['hello without a node', encodeFrame('{"hello":{}}'), /first frame must be a hello/],
    ['hello with an invalid node', encodeFrame('{"hello":{"node":"a b@c"}}'), /hello from executor node 'a b@c' refused: invalid node/],
  ];
  for (const [what, bytes, reason] of cases) {
    const socket = await rawClient(t, path);
    const malformed = agent.runtime.nextMalformed();
    const closed = once(socket, 'close');
    socket.write(bytes);
    t.regex(await malformed, reason, what);
    await closed;
    t.true(socket.destroyed, what);
  }
  t.deepEqual(agent.server.connected(), []);

  // A client that said hello keeps its connection through a bad envelope, which is named with its node.
  const raw = await rawClient(t, path);
  const rawConnected = nextConnect(agent.server);
  raw.write(encodeFrame(JSON.stringify({ hello: { node: 'raw-ok' } })));
  t.is(await rawConnected, 'raw-ok');
  const badEnvelope = agent.runtime.nextMalformed();
  raw.write(encodeFrame(JSON.stringify({ mesos: { ...GOOD_ENVELOPE, name: undefined } })));
  t.regex(await badEnvelope, /^from executor node 'raw-ok': envelope field 'name' must be a non-empty string/);
  const hi = agent.probe.next('hi');
  raw.write(encodeFrame(JSON.stringify({ mesos: { ...GOOD_ENVELOPE, body: { raw: true } } })));
  t.deepEqual(await hi, { raw: true });
  t.false(raw.destroyed);

  // And a real executor afterwards.
  const connected = nextConnect(agent.server);
  const executor = await startExecutor(t, 'exec-good', path, clock);
  await connected;
  await exchange(t, agent.probe, executor.echo, 1);
  t.deepEqual(agent.server.connected().sort(), ['exec-good', 'raw-ok']);
  t.is(agent.runtime.reasons.length, cases.length + 1);
});

test('socket - a connection that does not say hello within HELLO_TIMEOUT_MS is closed and named; after its hello a frame may be large', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  clock.pause();
  const agent = await startAgent(t, 'agent-silent', path, clock);
  const silent = await rawClient(t, path);
  const closed = once(silent, 'close');
  // A client that says hello after it: once it is connected, the silent one was accepted.
  const talker = await rawClient(t, path);
  const connected = nextConnect(agent.server);
  talker.write(encodeFrame(JSON.stringify({ hello: { node: 'talker' } })));
  t.is(await connected, 'talker');

  clock.advance(HELLO_TIMEOUT_MS - 1);
  await agent.runtime.settle();
  t.deepEqual(agent.runtime.reasons, []);
  const malformed = agent.runtime.nextMalformed();
  clock.advance(1);
  t.is(await malformed, `executor socket connection closed: no hello within ${HELLO_TIMEOUT_MS} ms`);
  await closed;
  t.deepEqual(agent.server.connected(), ['talker'], 'the one that said hello keeps its connection');

  // Past its hello, a frame may be far larger than a hello.
  const big = 'x'.repeat(MAX_HELLO_FRAME_BYTES * 2);
  const hi = agent.probe.next('hi');
  talker.write(encodeFrame(JSON.stringify({ mesos: { ...GOOD_ENVELOPE, to: 'agent-probe@agent-silent', body: { big } } })));
  t.is(((await hi) as { big: string }).big.length, big.length);
  t.is(agent.runtime.reasons.length, 1);
});

test('socket - at most MAX_PENDING_HELLOS connections wait for their hello; more are closed at once, and an executor that says hello still gets in', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  clock.pause();
  const agent = await startAgent(t, 'agent-flood', path, clock);
  const flood = await Promise.all(Array.from({ length: MAX_PENDING_HELLOS }, () => rawClient(t, path)));
  const refused = agent.runtime.nextMalformed();
  const extra = await rawClient(t, path);
  const extraClosed = once(extra, 'close');
  t.is(await refused, `executor socket connection refused: ${MAX_PENDING_HELLOS} connections are already waiting to say hello`);
  await extraClosed;
  t.false(flood.some((s) => s.destroyed), 'the waiting ones are still open until their hello timeout');
  // One of them says hello: there is room again.
  const connected = nextConnect(agent.server);
  flood[0]!.write(encodeFrame(JSON.stringify({ hello: { node: 'late-hello' } })));
  t.is(await connected, 'late-hello');
  const next = await rawClient(t, path);
  const executorConnected = nextConnect(agent.server);
  next.write(encodeFrame(JSON.stringify({ hello: { node: 'room-again' } })));
  t.is(await executorConnected, 'room-again');
});

test('socket - a second hello from the same node replaces the first connection', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const agent = await startAgent(t, 'agent-dup', path, clock);
  const hello = encodeFrame(JSON.stringify({ hello: { node: 'dup' } }));
  const a = await rawClient(t, path);
  const firstHello = nextConnect(agent.server);
  a.write(hello);
  await firstHello;
  const b = await rawClient(t, path);
  const secondHello = nextConnect(agent.server);
  const aClosed = once(a, 'close');
  b.write(hello);
  await secondHello;
  await aClosed;
  t.deepEqual(agent.server.connected(), ['dup']);

  // The agent's envelopes for `dup` now go to the second connection.
  const decoder = new FrameDecoder();
  const frame = new Promise<unknown>((resolve) =>
    b.on('data', (chunk: Buffer) => {
      const frames = decoder.push(chunk);
      if (frames.length > 0) resolve(parseFrame(frames[0]!));
    }),
  );
  agent.probe.send(UPID.parse('someone@dup'), 'hello-b', { ok: 1 });
  t.deepEqual(await frame, { mesos: { from: 'agent-probe@agent-dup', to: 'someone@dup', name: 'hello-b', body: { ok: 1 } } });
});

test("socket - with admit, a hello without its node's token is refused; the executor that has it keeps its place", async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const runtime = new RecordingRuntime({ node: 'agent-admit', clock, transport: new LocalTransport(new LocalBus()), linkTimeoutMs: 600_000 });
  await runtime.start();
  t.teardown(() => runtime.shutdown());
  const tokens = new Map([['exec-admitted', 'secret-1']]);
  const server = await ExecutorSocketServer.listen(runtime, path, { admit: (node, token) => token !== undefined && tokens.get(node) === token });
  t.teardown(() => server.close());

  const connected = nextConnect(server);
  const transport = new SocketTransport({ path, node: 'exec-admitted', token: 'secret-1', retryMs: 20 });
  const executor = await Runtime.start({ node: 'exec-admitted', clock, transport });
  t.teardown(() => executor.shutdown());
  t.is(await connected, 'exec-admitted');

  // Another process claims that node: without the token, with a wrong one, or as a node nobody launched.
  for (const [what, hello] of [
    ['no token', { node: 'exec-admitted' }],
    ['a wrong token', { node: 'exec-admitted', token: 'guess' }],
    ['an unknown node', { node: 'exec-stranger', token: 'secret-1' }],
  ] as const) {
    const rogue = await rawClient(t, path);
    const malformed = runtime.nextMalformed();
    const closed = once(rogue, 'close');
    rogue.write(encodeFrame(JSON.stringify({ hello })));
    t.regex(await malformed, new RegExp(`hello from executor node '${hello.node}' refused: not an executor this agent launched`), what);
    await closed;
  }
  t.deepEqual(server.connected(), ['exec-admitted'], 'the executor was not replaced');
});

test('socket - a second agent on the same path is refused with an error naming the path', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const agent = await startAgent(t, 'agent-one', path, clock);
  const other = await Runtime.start({ node: 'agent-two', clock, transport: new LocalTransport(new LocalBus()) });
  t.teardown(() => other.shutdown());
  const error = await t.throwsAsync(ExecutorSocketServer.listen(other, path), { instanceOf: MesosError });
  t.true(error!.message.includes(`'${printablePath(path)}'`), error!.message);
  t.regex(error!.message, /EADDRINUSE/);

  // Once the first is gone, the path is free again (abstract names leave nothing behind).
  await agent.server.close();
  const again = await ExecutorSocketServer.listen(other, path);
  t.teardown(() => again.close());
  t.is(again.path, path);
});

test('socket - attach gives up after connectTimeoutMs with an error naming the path', async (t) => {
  const path = freshPath();
  const transport = new SocketTransport({ path, node: 'lonely', retryMs: 5, connectTimeoutMs: 100 });
  const error = await t.throwsAsync(Runtime.start({ node: 'lonely', clock: new Clock(), transport }));
  t.true(error!.message.includes(printablePath(path)), error!.message);
});

test('socket - frame decoder: any split of a stream of frames yields the same frames', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
          const decoder = new FrameDecoder();
          const out: Buffer[] = [];
          let at = 0;
          for (const point of [...points, stream.length]) {
            out.push(...decoder.push(stream.subarray(at, point)));
            at = point;
          }
          return (
            decoder.buffered === 0 &&
            out.length === payloads.length &&
            out.every((frame, i) => Buffer.compare(frame, payloads[i]!) === 0)
          );
        },
      ),
    ),
  );
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 10 }), fc.integer({ min: 1, max: 7 }), (values, step) => {
        const stream = Buffer.concat(values.map((v) => encodeFrame(JSON.stringify(v))));
        const decoder = new FrameDecoder();
        const out: unknown[] = [];
        for (let at = 0; at < stream.length; at += step) out.push(...decoder.push(stream.subarray(at, at + step)).map(parseFrame));
        return JSON.stringify(out) === JSON.stringify(values.map((v) => JSON.parse(JSON.stringify(v))));
      }),
    ),
  );
  const small = new FrameDecoder(10);
  t.deepEqual(small.push(encodeFrame('0123456789')).map(String), ['0123456789']);
  t.throws(() => small.push(encodeFrame('01234567890')), { message: /frame length 11 is larger than the 10 byte limit/ });
});

test('socket - an agent restarted on the same node: an executor runtime that forgets the old one when its connection closes (peerGone) keeps the links made to the new one', async (t) => {
  const path = freshPath();
  const clock = new Clock();
  const agentPid = new UPID('slave(1)', 'agent-same');
  /** An agent runtime on node `agent-same` whose `slave(1)` links back to whoever links to it. */
  const startSameAgent = async () => {
    const runtime = new RecordingRuntime({ node: 'agent-same', clock, transport: new LocalTransport(new LocalBus()), linkTimeoutMs: 600_000 });
    await runtime.start();
    t.teardown(() => runtime.shutdown());
    const server = await ExecutorSocketServer.listen(runtime, path);
    t.teardown(() => server.close());
    const slave = new Probe('slave(1)', ['registered', 'pong'], {
      registered(this: Probe, from: UPID) {
        this.link(from);
        this.send(from, 'ping', {});
      },
    });
    runtime.spawn(slave);
    return { runtime, server, slave };
  };

  // The executor: on `reconnect` it links to the agent and answers `registered`; it echoes `ping`.
  let runtime!: Runtime;
  const transport = new SocketTransport({ path, node: 'exec-same', retryMs: 20, onDisconnect: () => runtime.peerGone(agentPid.node) });
  const first = await startSameAgent();
  const connected = nextConnect(first.server);
  // As the executor driver's runtime: its links never time out; the connection says when the agent is gone.
  runtime = await Runtime.start({ node: 'exec-same', clock, transport, linkTimeoutMs: Number.MAX_SAFE_INTEGER });
  t.teardown(() => runtime.shutdown());
  const executor = new Probe('executor', ['reconnect', 'ping'], {
    reconnect(this: Probe, from: UPID) {
      this.link(from);
      this.send(from, 'registered', {});
    },
    ping(this: Probe, from: UPID) {
      this.send(from, 'pong', {});
    },
  });
  runtime.spawn(executor);
  await connected;

  const pong = first.slave.next('pong');
  first.slave.send(executor.self, 'reconnect', {});
  await pong;

  // The agent's process ends; the executor hears its link end once, from the closed connection.
  const gone = futureExited(agentPid, executor.self);
  await first.server.close();
  await first.runtime.shutdown();
  await gone;
  await runtime.settle();
  t.is(executor.exits.length, 1);

  // Its next run, on the same node: the executor links again (and is linked to); two round trips.
  const second = await startSameAgent();
  await nextConnect(second.server);
  const again = second.slave.next('pong');
  second.slave.send(executor.self, 'reconnect', {});
  await again;
  const third = second.slave.next('pong');
  second.slave.send(executor.self, 'ping', {});
  await third;
  await runtime.settle();
  // Before, the new runtime's link was taken for the old one restarting: its first word ended
  // the executor's new link (a second exit), and the executor counted its agent lost again.
  t.deepEqual(executor.exits.map(String), [String(agentPid)]);
});
