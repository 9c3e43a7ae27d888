import anyTest, { type TestFn } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Clock } from '../../src/process/clock.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { UPID } from '../../src/process/upid.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { futureExited, resetFiltersAfterEach } from '../helpers/filters.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { Probe } from '../helpers/runtime.ts';

/** Remote links to a runtime in another OS process, ended by SIGTERM (bye) or SIGKILL (silence). */
const test = anyTest as TestFn<{ nats: NatsServer }>;
resetFiltersAfterEach(test);

const CHILD = fileURLToPath(new URL('../fixtures/child-runtime.ts', import.meta.url));

test.before(async (t) => {
  t.context.nats = await startNatsServer();
});
test.after.always(async (t) => {
  await t.context.nats?.stop();
});

/** Heartbeats every 50 ms, silence after 300 ms: short, so the SIGKILL case takes a fraction of a second. */
const INTERVAL_MS = 50;
const TIMEOUT_MS = 300;

async function startChild(url: string, node: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, node], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LINK_HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS) },
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`child runtime exited with ${code}`)));
  });
  return child;
}

async function linkedWatcher(t: { teardown(fn: () => unknown): void }, url: string, node: string, target: UPID) {
  const clock = new Clock();
  const runtime = await Runtime.start({
    node,
    clock,
    logger: pino({ level: 'error' }),
    transport: new NatsTransport({ servers: url }),
    linkHeartbeatIntervalMs: INTERVAL_MS,
    linkTimeoutMs: TIMEOUT_MS,
  });
  t.teardown(() => runtime.shutdown());
  const watcher = new Probe('watcher', ['pong']);
  runtime.spawn(watcher);
  const pong = watcher.next('pong');
  watcher.send(target, 'ping', { hello: 1 });
  await pong; // The child is up and reachable.
  await runtime.dispatch(watcher.self, () => watcher.linkTo(target));
  await runtime.settle();
  return { runtime, clock, watcher };
}

test.serial('remote link - SIGKILL of the peer runtime: exited within the heartbeat timeout and one interval', async (t) => {
  const child = await startChild(t.context.nats.url, 'child-kill');
  t.teardown(() => child.kill('SIGKILL'));
  const target = UPID.parse('svc@child-kill');
  const { runtime, clock, watcher } = await linkedWatcher(t, t.context.nats.url, 'parent-kill', target);
  t.deepEqual(runtime.peers(), ['child-kill']);

  clock.pause(); // The runtime Clock does not matter: liveness is judged in real time.
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const noticed = futureExited(target, watcher.self);
  const killedAt = performance.now();
  child.kill('SIGKILL');
  await exited;
  await noticed;
  const took = performance.now() - killedAt;
  await runtime.settle();
  t.deepEqual(watcher.exits.map(String), ['svc@child-kill']);
  t.deepEqual(runtime.peers(), []);
  // Bounded: no sooner than the timeout after the last heartbeat, no later than one interval more (plus scheduling slack).
  t.true(took >= TIMEOUT_MS - INTERVAL_MS, `noticed after ${took} ms`);
  t.true(took <= TIMEOUT_MS + 2 * INTERVAL_MS + 500, `noticed after ${took} ms`);
});

test.serial('remote link - SIGTERM of the peer runtime: exited at once (bye), no timeout needed', async (t) => {
  const child = await startChild(t.context.nats.url, 'child-term');
  t.teardown(() => child.kill('SIGKILL'));
  const target = UPID.parse('svc@child-term');
  const { runtime, clock, watcher } = await linkedWatcher(t, t.context.nats.url, 'parent-term', target);
  clock.pause(); // Time stands still: only the goodbye can end the link.
  const noticed = futureExited(target, watcher.self);
  child.kill('SIGTERM');
  await noticed;
  await runtime.settle();
  t.deepEqual(watcher.exits.map(String), ['svc@child-term']);
});
