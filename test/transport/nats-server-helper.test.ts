import test from 'ava';
import { connect } from '@nats-io/transport-node';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/**
 * The tests' nats-server must not outlive the test process that started it, even one killed
 * outright (SIGKILL: ava's timeout, a crash), which runs no exit hook.
 */

const CHILD = fileURLToPath(new URL('../fixtures/nats-server-child.ts', import.meta.url));

/** Whether `pid` is gone: no such process, or a zombie nobody reaped yet (it runs no more). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

test('nats-server helper - a test process killed outright (SIGKILL) takes its nats-server with it', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  while (!out.includes('\n')) out += String((await once(child.stdout!, 'data'))[0]);
  const [url, pidText] = out.trim().split(' ');
  const pid = Number(pidText);
  t.false(gone(pid), 'the server runs');

  t.teardown(() => {
    if (!gone(pid)) process.kill(pid, 'SIGKILL');
  });

  const nc = await connect({ servers: url, reconnect: false });
  const closed = nc.closed();
  child.kill('SIGKILL');
  // The server's end of the connection closes once the watchdog has killed it (10 s at most).
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
  t.true(gone(pid), `nats-server ${pid} still runs`);
  await nc.close();
});
