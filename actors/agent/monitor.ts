import { readdir, readFile } from 'node:fs/promises';
import type { HttpResponse } from '../../src/http/types.ts';
import { methodNotAllowed } from '../../src/http/response.ts';
import { Process } from '../../src/process/process.ts';
import { AGENT_READONLY_REALM } from '../../src/http/authentication.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import type { Agent } from './agent.ts';
import { agentsIn } from './endpoints.ts';

/** The id of the resource monitor, whose routes are `/monitor/statistics`, as Mesos's `ResourceMonitor`. */
export const MONITOR_ID = 'monitor';

/**
 * Clock ticks per second of `/proc/<pid>/stat` times (Linux's `USER_HZ`, 100 on every
 * architecture Linux exposes to user space; `getconf CLK_TCK`).
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** Mesos's `ResourceStatistics` as `/monitor/statistics` shows it; usage fields only where known. */
export interface ResourceStatistics {
  /** Seconds since the epoch (the agent's Clock). */
  timestamp: number;
  cpus_limit?: number;
  mem_limit_bytes?: number;
  cpus_user_time_secs?: number;
  cpus_system_time_secs?: number;
  mem_rss_bytes?: number;
  processes?: number;
  threads?: number;
  /** With `cgroups/mem`: the container's memory cgroup's usage, limits and `memory.stat`. */
  mem_total_bytes?: number;
  mem_cache_bytes?: number;
  mem_soft_limit_bytes?: number;
  /** With `cgroups/cpu`: CFS periods, those throttled, and the time throttled (`cpu.stat`). */
  cpus_nr_periods?: number;
  cpus_nr_throttled?: number;
  cpus_throttled_time_secs?: number;
}

/** One entry of `/monitor/statistics`, Mesos's JSON shape. */
export interface ExecutorStatistics {
  executor_id: string;
  executor_name: string;
  framework_id: string;
  source: string;
  statistics: ResourceStatistics;
}

/** What the monitor reads of one executor, in its agent's mailbox. */
export interface ExecutorUsageTarget {
  readonly entry: Omit<ExecutorStatistics, 'statistics'>;
  /** The executor's container (GET_CONTAINERS's `container_id`). */
  readonly containerId: string;
  readonly timestamp: number;
  readonly cpus: number | undefined;
  readonly memMb: number | undefined;
  /** The OS pid leading the executor's container (a session leader), if it runs. */
  readonly pid: number | undefined;
  /** The container's cgroups, when the agent isolates it (`cgroups/cpu`, `cgroups/mem`). */
  readonly cgroups?: { readonly cpu?: string | undefined; readonly memory?: string | undefined };
}

/**
 * The resource monitor of a runtime's agents, `GET /monitor/statistics` (and `.json`), as
 * Mesos's `ResourceMonitor`: for every executor that runs, its limits (the executor's and its
 * tasks' resources) and its usage, summed over every process of its container's session, read
 * from `/proc/<pid>/stat` (user and system CPU time, threads) and `/proc/<pid>/status` (resident
 * memory). Where there is no `/proc` the usage fields are left out.
 *
 * In a runtime with several agents (the embedded cluster) the list holds every agent's
 * executors; `/slave(N)/state` tells which agent runs which.
 */
export class ResourceMonitorProcess extends Process {
  constructor(private readonly procRoot = '/proc') {
    super(MONITOR_ID);
    this.route('/statistics', (request) => (request.method === 'GET' ? this.statistics() : methodNotAllowed(['GET'], request.method)), AGENT_READONLY_REALM);
    this.route('/statistics.json', (request) => (request.method === 'GET' ? this.statistics() : methodNotAllowed(['GET'], request.method)), AGENT_READONLY_REALM);
  }

  /** Spawns the monitor of `runtime` unless it runs already. */
  static ensure(runtime: Runtime): ResourceMonitorProcess {
    const existing = runtime.process(MONITOR_ID);
    if (existing instanceof ResourceMonitorProcess) return existing;
    const monitor = new ResourceMonitorProcess();
    runtime.spawn(monitor);
    return monitor;
  }

  async statistics(): Promise<HttpResponse> {
    const perAgent = await Promise.all(agentsIn(this.runtime).map((agent) => this.runtime.dispatch(agent.self, () => usageTargets(agent)).catch(() => [])));
    const targets = perAgent.flat();
    const usage = await readUsage(this.procRoot, new Set(targets.flatMap((t) => (t.pid === undefined ? [] : [t.pid]))));
    const cgroups = await Promise.all(targets.map((t) => (t.cgroups === undefined ? undefined : readCgroupStatistics(t.cgroups))));
    return { status: 200, body: targets.map((t, i) => toStatistics(t, usage, cgroups[i])) };
  }
}

/** The executors of `agent` that have not terminated, with their limits and container pid. */
export function usageTargets(agent: Agent): ExecutorUsageTarget[] {
  const timestamp = agent.now() / 1000;
  const targets: ExecutorUsageTarget[] = [];
  for (const framework of agent.frameworks.values()) {
    for (const executor of framework.executors.values()) {
      if (executor.state === 'TERMINATED') continue;
      const resources = executor.resources();
      const pid = agent.containerizer.get(executor.containerId)?.pid;
      const isolator = agent.containerizer.isolator;
      targets.push({
        entry: { executor_id: executor.id, executor_name: executor.info.name ?? '', framework_id: framework.id, source: executor.info.source ?? '' },
        containerId: executor.containerId,
        timestamp,
        cpus: resources.scalar('cpus'),
        memMb: resources.scalar('mem'),
        pid: pid !== undefined && pid > 0 ? pid : undefined,
        ...(isolator !== undefined && pid !== undefined && pid > 0
          ? { cgroups: { cpu: isolator.options.cpu ? isolator.dir('cpu', executor.containerId) : undefined, memory: isolator.memoryDir(executor.containerId) } }
          : {}),
      });
    }
  }
  return targets;
}

/** Usage summed over the processes of a session. */
export interface SessionUsage {
  userSecs: number;
  systemSecs: number;
  rssBytes: number;
  processes: number;
  threads: number;
}

function toStatistics(target: ExecutorUsageTarget, usage: Map<number, SessionUsage> | undefined, cgroups?: Partial<ResourceStatistics>): ExecutorStatistics {
  return { ...target.entry, statistics: resourceStatistics(target, usage, cgroups) };
}

/**
 * The `ResourceStatistics` of one executor's container: its limits, its session's usage from
 * `usage` (`readUsage`) and what its cgroups say (`readCgroupStatistics`), which win where both
 * know a field. `/monitor/statistics` and the agent's GET_CONTAINERS report it.
 */
export function resourceStatistics(target: ExecutorUsageTarget, usage: Map<number, SessionUsage> | undefined, cgroups?: Partial<ResourceStatistics>): ResourceStatistics {
  const statistics: ResourceStatistics = { timestamp: target.timestamp };
  if (target.cpus !== undefined) statistics.cpus_limit = target.cpus;
  if (target.memMb !== undefined) statistics.mem_limit_bytes = Math.round(target.memMb * 1024 * 1024);
  const used = target.pid === undefined ? undefined : usage?.get(target.pid);
  if (used !== undefined) {
    statistics.cpus_user_time_secs = round(used.userSecs);
    statistics.cpus_system_time_secs = round(used.systemSecs);
    statistics.mem_rss_bytes = used.rssBytes;
    statistics.processes = used.processes;
    statistics.threads = used.threads;
  }
  return { ...statistics, ...cgroups };
}

/**
 * What a container's cgroups say, as Mesos's cgroups isolators report it: its memory cgroup's
 * usage (`mem_total_bytes`), resident and cache memory (`memory.stat`'s `total_rss`,
 * `total_cache`) and its limits as enforced (at least 32 MB); its cpu cgroup's CFS throttling
 * (`cpu.stat`). A file that cannot be read (the container just ended) leaves its fields out.
 */
export async function readCgroupStatistics(dirs: { readonly cpu?: string | undefined; readonly memory?: string | undefined }): Promise<Partial<ResourceStatistics>> {
  const read = (file: string): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined);
  const out: Partial<ResourceStatistics> = {};
  if (dirs.memory !== undefined) {
    const [usage, limit, soft, stat] = await Promise.all(['memory.usage_in_bytes', 'memory.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.stat'].map((f) => read(`${dirs.memory}/${f}`)));
    const number = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text.trim()));
    const m = keyedNumbers(stat);
    const entries: [keyof ResourceStatistics, number | undefined][] = [
      ['mem_total_bytes', number(usage)],
      ['mem_limit_bytes', number(limit)],
      ['mem_soft_limit_bytes', number(soft)],
      ['mem_rss_bytes', stat === undefined ? undefined : m.get('total_rss')],
      ['mem_cache_bytes', stat === undefined ? undefined : m.get('total_cache')],
    ];
    for (const [key, value] of entries) if (value !== undefined && Number.isFinite(value)) out[key] = value;
  }
  if (dirs.cpu !== undefined) {
    const stat = await read(`${dirs.cpu}/cpu.stat`);
    if (stat !== undefined) {
      const c = keyedNumbers(stat);
      if (c.has('nr_periods')) out.cpus_nr_periods = c.get('nr_periods')!;
      if (c.has('nr_throttled')) out.cpus_nr_throttled = c.get('nr_throttled')!;
      if (c.has('throttled_time')) out.cpus_throttled_time_secs = round(c.get('throttled_time')! / 1e9);
    }
  }
  return out;
}

/** `key value` lines (`memory.stat`, `cpu.stat`) as a map. */
function keyedNumbers(text: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.split(' ');
    if (key !== undefined && key !== '' && value !== undefined) map.set(key, Number(value));
  }
  return map;
}

function round(secs: number): number {
  return Math.round(secs * 100) / 100;
}

/**
 * Usage of the sessions led by `pids`, from `procRoot` (`/proc`); `undefined` when it cannot
 * be read at all (no procfs). Processes that vanish while being read are skipped.
 */
export async function readUsage(procRoot: string, pids: ReadonlySet<number>): Promise<Map<number, SessionUsage> | undefined> {
  if (pids.size === 0) return new Map();
  let names: string[];
  try {
    names = await readdir(procRoot);
  } catch {
    return undefined;
  }
  const usage = new Map<number, SessionUsage>();
  await Promise.all(
    names
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        const stat = parseStat(await readFile(`${procRoot}/${name}/stat`, 'utf8').catch(() => ''));
        if (stat === undefined || !pids.has(stat.session)) return;
        const status = await readFile(`${procRoot}/${name}/status`, 'utf8').catch(() => '');
        const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
        const sum = usage.get(stat.session) ?? { userSecs: 0, systemSecs: 0, rssBytes: 0, processes: 0, threads: 0 };
        sum.userSecs += stat.utime / CLOCK_TICKS_PER_SECOND;
        sum.systemSecs += stat.stime / CLOCK_TICKS_PER_SECOND;
        sum.rssBytes += rss === null ? 0 : Number(rss[1]) * 1024;
        sum.processes += 1;
        sum.threads += stat.threads;
        usage.set(stat.session, sum);
      }),
  );
  return usage;
}

/** The fields of `/proc/<pid>/stat` the monitor uses; the command name may hold spaces and parentheses. */
export function parseStat(text: string): { session: number; utime: number; stime: number; threads: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  // After the name: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads ...
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const session = Number(fields[3]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const threads = Number(fields[17]);
  if (![session, utime, stime, threads].every(Number.isFinite)) return undefined;
  return { session, utime, stime, threads };
}
