/**
 * The benches' window into a master in another OS process (`master-process.ts`): a
 * `bench-probe` process, next to the master in the master's runtime, answers
 * `bench.MemoryRequest` with its OS process's memory and the master's counts; `ProbeClient`
 * asks it from the bench's side. `startMasterProcess` / `stopMasterProcess` run that child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Master } from '../actors/master/master-process.ts';
import { Process } from '../src/process/process.ts';
import type { UPID } from '../src/process/upid.ts';

/** bench → probe: `{}`. */
export const BENCH_MEMORY_REQUEST = 'bench.MemoryRequest';

/** probe → bench. */
export const BENCH_MEMORY_REPORT = 'bench.MemoryReport';
export interface MemoryReport {
  /** Resident set size, bytes, before the collection. */
  readonly rss: number;
  readonly heapUsedBeforeGc: number;
  /** V8 heap in use after a full collection, bytes: what the process really keeps. */
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** The master's registered agents and frameworks. */
  readonly agents: number;
  readonly frameworks: number;
  /** The master's `tasks_launched` and `offers_declined` counters. */
  readonly tasksLaunched: number;
  readonly offersDeclined: number;
  /** Envelopes the master's runtime sent to other nodes (`runtime/messages_sent_remote`). */
  readonly sentRemote: number;
  /** CPU time of the process so far (user + system), ms. */
  readonly cpuMs: number;
}

let gc: (() => void) | undefined;

/** `global.gc` without starting node with `--expose-gc`. */
function collect(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** RSS as it stands, then (with `gc`) the heap after a full collection. */
export function measureMemory(master: Master, gc = true): MemoryReport {
  const before = process.memoryUsage();
  if (gc) collect();
  const after = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rss: before.rss,
    heapUsedBeforeGc: before.heapUsed,
    heapUsed: after.heapUsed,
    heapTotal: after.heapTotal,
    external: after.external,
    agents: master.agents.size,
    frameworks: master.frameworks.size,
    tasksLaunched: master.stats.tasksLaunched.value,
    offersDeclined: master.stats.offersDeclined.value,
    sentRemote: master.runtime.metrics.counter('runtime/messages_sent_remote').value,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** bench → probe body: `gc: false` skips the full collection (for counts in a busy run). */
export interface MemoryRequest {
  readonly gc?: boolean;
}

export class MemoryProbe extends Process {
  constructor(readonly master: Master) {
    super('bench-probe');
    this.install(BENCH_MEMORY_REQUEST, (from, body: MemoryRequest) => this.send(from, BENCH_MEMORY_REPORT, measureMemory(master, body.gc !== false)));
  }
}

/** Asks the probe next to the master for a report. */
export class ProbeClient extends Process {
  #waiting: ((report: MemoryReport) => void)[] = [];
  constructor(readonly probe: UPID) {
    super('bench-probe-client');
    this.install(BENCH_MEMORY_REPORT, (_from, body: MemoryReport) => this.#waiting.shift()?.(body));
  }

  request(request: MemoryRequest = {}): Promise<MemoryReport> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.send(this.probe, BENCH_MEMORY_REQUEST, request);
    });
  }
}

/**
 * Starts `master-process.ts` (a master, its allocator and the probe on node `node`) in a child
 * process; resolves once it is ready. `BENCH_MASTER_NODE_OPTIONS` adds options to its `node`
 * (e.g. `--cpu-prof`).
 */
export async function startMasterProcess(natsUrl: string, prefix: string, node: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./master-process.ts', import.meta.url));
  const options = (process.env.BENCH_MASTER_NODE_OPTIONS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...options, '--import', 'tsx', script, natsUrl, prefix, node], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the master process exited (${code ?? signal}) before it was ready`)));
  });
  return child;
}

/** SIGTERM (a clean shutdown), SIGKILL after 10 s. */
export async function stopMasterProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
