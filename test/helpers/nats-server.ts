import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Starts a real `nats-server` for one test file, on a free loopback port, from a config object
 * (after nats.js's `nst/launcher.ts`), and kills it by its PID afterwards. `.ci/run` installs
 * `nats-server` when it is missing; here a missing binary is a clear failure, never a skip.
 */

export type NatsConfig = { [key: string]: string | number | boolean | NatsConfig | string[] };

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Kills the server (SIGTERM, then SIGKILL) and removes its store. */
  stop(): Promise<void>;
  /** Kills and starts it again on the same port and store (clients should reconnect). */
  restart(): Promise<void>;
}

export function findNatsServer(): string {
  for (const candidate of [process.env.NATS_SERVER_BIN, 'nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    if (candidate === undefined) continue;
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  throw new Error('nats-server not found on PATH: install it (`apt-get install -y nats-server`; .ci/run does this)');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Renders a config object in nats-server's config syntax. */
export function renderConfig(config: NatsConfig, indent = ''): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (Array.isArray(value)) {
      lines.push(`${indent}${key}: [${value.map((v) => JSON.stringify(v)).join(', ')}]`);
    } else if (typeof value === 'object') {
      lines.push(`${indent}${key} {`, renderConfig(value, indent + '  '), `${indent}}`);
    } else {
      lines.push(`${indent}${key}: ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
    }
  }
  return lines.join('\n');
}

export async function startNatsServer(extra: NatsConfig = {}): Promise<NatsServer> {
  const bin = findNatsServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-nats-'));
  const config: NatsConfig = { host: '127.0.0.1', port, jetstream: { store_dir: join(dir, 'js') }, ...extra };
  const file = join(dir, 'nats.conf');
  writeFileSync(file, renderConfig(config));

  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawn(bin, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    // If the test process ends without stopping it (a timed-out or crashed test file), the
    // server must not outlive it: on a normal exit the hook kills it; killed outright (ava
    // kills a timed-out worker), the process runs no hook, so a watchdog (`sh`) waits on a pipe
    // from this process and kills the server when the pipe closes. When the server exits
    // first (stopped, restarted), the watchdog is killed, so that it never kills a reused PID.
    const started = child;
    const onExit = (): void => {
      if (started.exitCode === null && started.signalCode === null) started.kill('SIGKILL');
    };
    process.once('exit', onExit);
    const watchdog = spawn('sh', ['-c', `read _ ; kill -KILL ${started.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.unref();
    (watchdog.stdin as unknown as { unref(): void }).unref();
    started.once('exit', () => {
      process.off('exit', onExit);
      watchdog.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          child!.stderr!.off('data', onData);
          child!.stderr!.resume();
          resolve();
        }
      };
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`nats-server exited with ${code} before it was ready:\n${log}`)));
    });
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    process.kill(c.pid!, 'SIGTERM');
    const timer = setTimeout(() => c.exitCode === null && c.signalCode === null && process.kill(c.pid!, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child!.pid!;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await launch();
    },
  };
}

/**
 * One nats-server for a whole test file: started before its first test, stopped after its last
 * (ava runs files in parallel, each with its own). The returned function gives it, in a test.
 *
 * @example
 * const nats = natsServerPerFile(test);
 * test('...', async (t) => { new NatsTransport({ servers: nats().url }); });
 */
export function natsServerPerFile(test: { before(fn: () => Promise<void>): void; after: { always(fn: () => Promise<void>): void } }): () => NatsServer {
  let server: NatsServer | undefined;
  test.before(async () => {
    server = await startNatsServer();
  });
  test.after.always(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('the nats-server of this file is not started (natsServerPerFile registers a before hook)');
    return server;
  };
}
