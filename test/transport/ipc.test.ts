import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Runtime } from '../../src/process/runtime.ts';
import { UPID } from '../../src/process/upid.ts';
import { attachChild } from '../../src/transport/ipc.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';
import { futureExited } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';

const CHILD = fileURLToPath(new URL('../fixtures/ipc-child.ts', import.meta.url));

test('ipc - a child runtime behind the IPC channel is reached by node; its exit ends links', async (t) => {
  const runtime = await Runtime.start({ node: 'ipc-parent', logger: pino({ level: 'error' }), transport: new LocalTransport(new LocalBus()) });
  t.teardown(() => runtime.shutdown());
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'ipc-child'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  t.teardown(() => child.kill('SIGKILL'));
  attachChild(runtime, 'ipc-child', child);
  await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve()));

  const probe = new Probe('probe', ['pong']);
  runtime.spawn(probe);
  const echo = UPID.parse('echo@ipc-child');
  const pong = probe.next('pong');
  probe.send(echo, 'ping', { n: 1 });
  t.deepEqual(await pong, { n: 1 });

  await runtime.dispatch(probe.self, () => probe.linkTo(echo));
  const exited = futureExited(echo, probe.self);
  probe.send(echo, 'quit', {});
  await exited;
  await runtime.settle();
  t.deepEqual(probe.exits.map(String), ['echo@ipc-child']);
});
