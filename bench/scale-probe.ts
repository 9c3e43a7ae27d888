/**
 * The `scale` suite's window into its master: a `bench-probe` process, next to the master in
 * the master's runtime, answers `bench.MemoryRequest` with its OS process's memory and the
 * master's counts.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Master } from '../actors/master/master-process.ts';
import { Process } from '../src/process/process.ts';

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

/** RSS as it stands, then the heap after a full collection. */
export function measureMemory(master: Master): MemoryReport {
  const before = process.memoryUsage();
  collect();
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
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

export class MemoryProbe extends Process {
  constructor(readonly master: Master) {
    super('bench-probe');
    this.install(BENCH_MEMORY_REQUEST, (from) => this.send(from, BENCH_MEMORY_REPORT, measureMemory(master)));
  }
}
