import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { findNatsServer, freePort, renderConfig } from '../helpers/nats-server.ts';

/**
 * OS processes for the multi-process tests: `mesos-ts` commands and frameworks, each a child of
 * the test. Readiness is read from their output (a JSON log line, a printed event), with a
 * bounded wait, never a fixed sleep. `stopAll` (in `t.teardown`) ends every child, and then every
 * process that inherited this run's tag in its environment: executors and tasks an agent killed
 * with SIGKILL left behind.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../actors/cli/bin.js', import.meta.url));
/** How long to wait for a line unless told otherwise. */
export const LINE_TIMEOUT_MS = 20_000;

export type Line = { readonly text: string; readonly stream: 'stdout' | 'stderr'; readonly json: Record<string, unknown> | undefined };

export class Child {
  readonly lines: Line[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #listeners = new Set<() => void>();
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: proc[stream]! }).on('line', (text) => {
        let json: Record<string, unknown> | undefined;
        if (text.startsWith('{')) {
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
        }
        this.lines.push({ text, stream, json });
        if (process.env.MULTIHOST_ECHO !== undefined) process.stderr.write(`[${name}] ${text}\n`);
        for (const listener of [...this.#listeners]) listener();
      });
    }
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
        for (const listener of [...this.#listeners]) listener();
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The text of stdout. */
  stdout(): string {
    return this.lines.filter((l) => l.stream === 'stdout').map((l) => `${l.text}\n`).join('');
  }

  /**
   * The first line from index `from` on that `match` accepts, waiting for it at most
   * `timeoutMs`. Rejects (with the child's output) on a timeout or when the child exits first.
   */
  waitFor(match: (line: Line) => boolean, what: string, options: { from?: number; timeoutMs?: number } = {}): Promise<Line> {
    const timeoutMs = options.timeoutMs ?? LINE_TIMEOUT_MS;
    let index = options.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (; index < this.lines.length; index++) {
          const line = this.lines[index]!;
          if (match(line)) {
            done();
            resolve(line);
            return;
          }
        }
        if (this.#exit !== undefined) {
          done();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.#exit)}) before ${what}:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** The first JSON log line whose `msg` matches. */
  waitForLog(msg: RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    return this.waitFor((l) => typeof l.json?.msg === 'string' && msg.test(l.json.msg), `a log line matching ${msg}`, options).then((l) => l.json!);
  }

  /** The first JSON event line (`{"event": ...}`) that `match` accepts. */
  waitForEvent(match: (e: Record<string, unknown>) => boolean, what: string, options: { from?: number; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    return this.waitFor((l) => l.json !== undefined && 'event' in l.json && match(l.json), what, options).then((l) => l.json!);
  }

  /** Every JSON event line so far. */
  events(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => (l.json !== undefined && 'event' in l.json ? [l.json] : []));
  }

  write(line: string): void {
    this.proc.stdin?.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.proc.kill(signal);
  }

  tail(n = 40): string {
    return this.lines.slice(-n).map((l) => `  ${l.text}`).join('\n');
  }
}

export class Processes {
  /** Every child and everything they start carry it in their environment. */
  readonly tag = randomUUID();
  readonly children: Child[] = [];

  /** `node actors/cli/bin.js <args>`: a `mesos-ts` command, logging JSON lines at `info`. */
  cli(name: string, args: string[], env: Record<string, string> = {}): Child {
    return this.spawn(name, process.execPath, [CLI, ...args], { MESOS_TS_LOG_LEVEL: 'info', ...env });
  }

  /** `node --import tsx <file> <args>`: a TypeScript program (a framework). */
  tsx(name: string, file: string, args: string[], env: Record<string, string> = {}): Child {
    return this.spawn(name, process.execPath, ['--import', 'tsx', file, ...args], env);
  }

  spawn(name: string, command: string, args: string[], env: Record<string, string> = {}): Child {
    const proc = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, MESOS_TS_LOG_FORMAT: 'json', MESOS_TS_MULTIHOST_TAG: this.tag, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const child = new Child(name, proc);
    this.children.push(child);
    return child;
  }

  /** SIGTERM to every child still running, SIGKILL to those that do not exit in time, then the tagged strays. */
  async stopAll(graceMs = 5_000): Promise<void> {
    const running = this.children.filter((c) => c.running);
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(
      running.map(async (child) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await child.exited;
        clearTimeout(timer);
      }),
    );
    killTagged(this.tag);
  }
}

/** SIGKILLs every process (and its group) whose environment holds `MESOS_TS_MULTIHOST_TAG=<tag>`. */
export function killTagged(tag: string): number[] {
  const needle = `MESOS_TS_MULTIHOST_TAG=${tag}`;
  const killed: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return killed;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(needle)) continue;
    const pid = Number(entry);
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Gone already.
    }
  }
  return killed;
}

/** `pid`'s parent and process group, from `/proc/<pid>/stat`. */
export function procStat(pid: number): { ppid: number; pgid: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), pgid: Number(fields[2]) };
}

/** `pid`'s environment. */
export function procEnviron(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Polls `url` until it answers 200 (bounded), for HTTP readiness. */
export async function waitForHttp(url: string, timeoutMs = LINE_TIMEOUT_MS): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return response;
      last = `${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 500)));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/**
 * A nats-server this test can stop and start again on the same port (a bus outage of any
 * length), unlike `startNatsServer`'s `restart`, which starts it again at once.
 */
export class StoppableNats {
  #child: ChildProcess | undefined;

  private constructor(
    readonly bin: string,
    readonly args: string[],
    readonly dir: string,
    readonly port: number,
  ) {}

  /** A server on a free loopback port, JetStream on, its store in a temporary directory. */
  static async start(): Promise<StoppableNats> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-multihost-nats-'));
    const config = join(dir, 'nats.conf');
    writeFileSync(config, renderConfig({ host: '127.0.0.1', port, jetstream: { store_dir: join(dir, 'js') } }));
    const nats = new StoppableNats(findNatsServer(), ['-c', config], dir, port);
    await nats.up();
    return nats;
  }

  /**
   * A server from a config file, on free ports (`-p`, `-m` override the file's), run in a
   * temporary directory so that a relative store directory lands there.
   */
  static async fromConfig(file: string): Promise<StoppableNats> {
    const port = await freePort();
    const monitor = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-multihost-nats-'));
    const nats = new StoppableNats(findNatsServer(), ['-c', file, '-p', String(port), '-m', String(monitor)], dir, port);
    await nats.up();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server; resolves once it is ready. */
  async up(): Promise<void> {
    const child = spawn(this.bin, this.args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        if (!log.includes('Server is ready')) return;
        child.stderr!.off('data', onData);
        child.stderr!.resume();
        resolve();
      };
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`nats-server exited with ${code} before it was ready:\n${log}`)));
    });
  }

  /** Kills the server (SIGKILL, no goodbye to its clients) and waits for its exit. */
  async down(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
