import { existsSync, utimesSync } from 'node:fs';
import { readdir, readlink, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { Logger } from 'pino';
import type { Counter } from '../../src/metrics/metrics.ts';
import type { Timer } from '../../src/process/clock.ts';
import type { Agent } from './agent.ts';
import { agentMetaDir, agentWorkDir, executorWorkDir, frameworkWorkDir } from './checkpoint.ts';
import { detachSandbox } from './files.ts';
import { formatDuration } from './flags.ts';
import type { ExecutorRecord, FrameworkRecord } from './state.ts';

/**
 * Garbage collection of the agent's directories under `--work_dir`, as Mesos's
 * `GarbageCollectorProcess` (`src/slave/gc.cpp`) and the disk watch of its `slave.cpp`:
 *
 * 1. When the agent is done with an executor (`removeExecutor`) its run's sandbox and the
 *    executor's directory (which holds `runs/latest`) are scheduled for deletion `--gc_delay`
 *    later; when it removes a framework, the framework's directory is. A new run under one of
 *    them unschedules it (`unscheduleForRun`). A sandbox stays attached to the files API, so
 *    that operators can still read a finished task's `stdout`, until it is deleted.
 * 2. Every `--disk_watch_interval` the usage of the filesystem holding `--work_dir` is measured,
 *    and whatever has waited longer than `maxAllowedAgeMs` (`gc_delay * max(0, 1 -
 *    gc_disk_headroom - usage)`) is deleted at once (Mesos's `prune`).
 * 3. After a restart, what the agent no longer runs is scheduled from its directory's mtime:
 *    `gc_delay - (now - mtime)` (`scheduleRecovered`); the directories of other (older) agent
 *    ids are scheduled in full.
 *
 * Time is the agent's Clock; deletions are `fs.rm` (recursive), continued in the agent's
 * mailbox, so that `settle()` waits for them.
 */

/** What the collector needs of its owner (the agent). */
export interface GcHost {
  now(): number;
  after(ms: number, fn: () => void): Timer;
  continueWith<T>(promise: Promise<T>, onValue: (value: T) => void, onError?: (error: unknown) => void): void;
  readonly log: Logger;
}

/** How a scheduled path goes: `remove` deletes it (default `fs.rm` recursive), `removed` runs once it is gone. */
export interface ScheduleOptions {
  readonly remove?: (path: string) => Promise<void>;
  readonly removed?: () => void;
}

/** A path scheduled for deletion at `dueAt` (Clock time). */
export interface Scheduled {
  readonly path: string;
  readonly dueAt: number;
}

interface Entry extends Scheduled {
  timer: Timer;
  removing: boolean;
  readonly options: ScheduleOptions;
}

/**
 * The longest the agent keeps what it is done with, given the disk usage (Mesos's
 * `Slave::age`): `gc_delay * max(0, 1 - gc_disk_headroom - usage)`.
 */
export function maxAllowedAgeMs(gcDelayMs: number, gcDiskHeadroom: number, usage: number): number {
  return Math.max(0, gcDelayMs * Math.max(0, 1 - gcDiskHeadroom - usage));
}

/** The scheduled paths due within `withinMs` of `now` (Mesos's `prune(d)`: `remaining <= d`). */
export function prunable(scheduled: Iterable<Scheduled>, now: number, withinMs: number): string[] {
  const due: string[] = [];
  for (const s of scheduled) if (s.dueAt - now <= withinMs) due.push(s.path);
  return due;
}

/** Whether `path` is `ancestor` or lies under it. */
export function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(ancestor.endsWith(sep) ? ancestor : `${ancestor}${sep}`);
}

/** The used fraction of the filesystem holding `path` (Mesos's `fs::usage`: used blocks over all blocks). */
export async function diskUsage(path: string): Promise<number> {
  const s = await statfs(path);
  return s.blocks === 0 ? 0 : (s.blocks - s.bfree) / s.blocks;
}

/** The agent's garbage collector (one per agent, `agent.gc`). */
export class GarbageCollector {
  readonly #paths = new Map<string, Entry>();
  /** `slave/executor_directory_max_allowed_age_secs`, in ms: set by each disk watch. */
  maxAllowedAgeMs: number;

  constructor(
    private readonly host: GcHost,
    private readonly counters: { readonly succeeded: Counter; readonly failed: Counter },
    initialMaxAllowedAgeMs: number,
  ) {
    this.maxAllowedAgeMs = initialMaxAllowedAgeMs;
  }

  /** Paths scheduled and not yet deleted, those being deleted too (`gc/path_removals_pending`). */
  get pending(): number {
    return this.#paths.size;
  }

  /** When `path` is due for deletion, if it is scheduled. */
  dueAt(path: string): number | undefined {
    return this.#paths.get(path)?.dueAt;
  }

  /** Deletes `path` after `delayMs` (at once when not positive); a path scheduled again is rescheduled. */
  schedule(path: string, delayMs: number, options: ScheduleOptions = {}): void {
    const existing = this.#paths.get(path);
    if (existing?.removing === true) {
      this.host.log.debug({ path }, 'Ignoring gc schedule: the path is being deleted');
      return;
    }
    existing?.timer.cancel();
    const delay = Math.max(0, delayMs);
    const entry: Entry = { path, dueAt: this.host.now() + delay, removing: false, options, timer: undefined as unknown as Timer };
    entry.timer = this.host.after(delay, () => this.#remove(entry));
    this.#paths.set(path, entry);
    this.host.log.info({ path, delay: formatDuration(delay) }, 'Scheduling path for gc');
  }

  /**
   * Keeps `path` after all (a new run goes under it). False if it was not scheduled, or is being
   * deleted already (Mesos cannot stop that either).
   */
  unschedule(path: string): boolean {
    const entry = this.#paths.get(path);
    if (entry === undefined) return false;
    if (entry.removing) {
      this.host.log.warn({ path }, 'Cannot unschedule path from gc: it is being deleted');
      return false;
    }
    entry.timer.cancel();
    this.#paths.delete(path);
    this.host.log.info({ path }, 'Unscheduled path from gc');
    return true;
  }

  /** Deletes at once every path due within `withinMs` (Mesos's `prune`). */
  prune(withinMs: number): void {
    for (const path of prunable(this.#paths.values(), this.host.now(), withinMs)) {
      const entry = this.#paths.get(path)!;
      if (!entry.removing) this.host.log.info({ path, remaining: formatDuration(Math.max(0, entry.dueAt - this.host.now())) }, 'Pruning path');
      this.#remove(entry);
    }
  }

  #remove(entry: Entry): void {
    if (this.#paths.get(entry.path) !== entry || entry.removing) return;
    entry.timer.cancel();
    entry.removing = true;
    this.host.log.info({ path: entry.path }, 'Deleting path');
    const remove = entry.options.remove ?? ((path: string) => rm(path, { recursive: true, force: true }));
    this.host.continueWith(
      remove(entry.path),
      () => this.#removed(entry, undefined),
      (error) => this.#removed(entry, error ?? new Error('removal failed')),
    );
  }

  #removed(entry: Entry, error: unknown): void {
    if (this.#paths.get(entry.path) === entry) this.#paths.delete(entry.path);
    if (error !== undefined) {
      // As Mesos: the path is forgotten; a later schedule may try again.
      this.counters.failed.inc();
      this.host.log.warn({ err: error, path: entry.path }, 'Failed to delete path');
      return;
    }
    this.counters.succeeded.inc();
    this.host.log.info({ path: entry.path }, 'Deleted path');
    entry.options.removed?.();
    // What was scheduled under it went with it.
    for (const inner of [...this.#paths.values()]) {
      if (inner.removing || !isWithin(inner.path, entry.path)) continue;
      inner.timer.cancel();
      this.#paths.delete(inner.path);
      this.counters.succeeded.inc();
      inner.options.removed?.();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The agent's hooks.

/**
 * Sets `path`'s mtime to the Clock's now, as Mesos's `os::utime` before scheduling: a restarted
 * agent then counts `--gc_delay` from when the agent was done with it. False if it is not there
 * (nothing to collect).
 */
function touch(agent: Agent, path: string): boolean {
  const seconds = agent.now() / 1000;
  try {
    utimesSync(path, seconds, seconds);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') agent.log.warn({ err: error, path }, 'Failed to update the modification time of a path to gc');
    return false;
  }
}

/**
 * Deletes a run's sandbox and, if the executor's `runs/latest` still points at it, that
 * symlink, which would otherwise lead nowhere.
 */
async function removeRun(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  const latest = join(dirname(path), 'latest');
  const target = await readlink(latest).catch(() => undefined);
  if (target !== undefined && basename(target) === basename(path)) await rm(latest, { force: true });
}

/**
 * `removeExecutor`: the run's sandbox (detached from the files API once deleted) and the
 * executor's directory go `--gc_delay` from now, as Mesos's `Slave::removeExecutor`.
 */
export function scheduleExecutor(agent: Agent, executor: ExecutorRecord): void {
  const delay = agent.flags.gcDelayMs;
  if (touch(agent, executor.directory)) agent.gc.schedule(executor.directory, delay, { remove: removeRun, removed: () => detachSandbox(agent, executor) });
  const executorDir = dirname(dirname(executor.directory));
  if (touch(agent, executorDir)) agent.gc.schedule(executorDir, delay);
}

/** `removeFramework`: the framework's directory goes `--gc_delay` from now (Mesos's `Slave::removeFramework`). */
export function scheduleFramework(agent: Agent, framework: FrameworkRecord): void {
  const agentId = agent.agentId;
  if (agentId === undefined) return;
  const path = frameworkWorkDir(agent.flags.workDir, agentId, framework.id);
  if (touch(agent, path)) agent.gc.schedule(path, agent.flags.gcDelayMs);
}

/** A new run of an executor: its framework's and executor's directories are kept (Mesos's `Slave::_run`). */
export function unscheduleForRun(agent: Agent, agentId: string, frameworkId: string, executorId: string): void {
  agent.gc.unschedule(frameworkWorkDir(agent.flags.workDir, agentId, frameworkId));
  agent.gc.unschedule(executorWorkDir(agent.flags.workDir, agentId, frameworkId, executorId));
}

/** Starts the disk watch: the first measurement one `--disk_watch_interval` from now. */
export function watchDisk(agent: Agent, measure: () => Promise<number>): void {
  agent.after(agent.flags.diskWatchIntervalMs, () => checkDiskUsage(agent, measure));
}

function checkDiskUsage(agent: Agent, measure: () => Promise<number>): void {
  agent.continueWith(
    measure(),
    (usage) => _checkDiskUsage(agent, measure, usage),
    (error) => {
      agent.log.error({ err: error, work_dir: agent.flags.workDir }, 'Failed to get disk usage');
      watchDisk(agent, measure);
    },
  );
}

function _checkDiskUsage(agent: Agent, measure: () => Promise<number>, usage: number): void {
  const age = maxAllowedAgeMs(agent.flags.gcDelayMs, agent.flags.gcDiskHeadroom, usage);
  agent.gc.maxAllowedAgeMs = age;
  agent.log.info({ usage, max_allowed_age: formatDuration(Math.round(age)) }, `Current disk usage ${(100 * usage).toFixed(2)}%`);
  // What was scheduled `gc_delay` from when it ended is due within `gc_delay - age` once it is at
  // least `age` old.
  agent.gc.prune(agent.flags.gcDelayMs - age);
  watchDisk(agent, measure);
}

/** A directory left over from before the restart, to delete `delayMs` from now. */
interface Leftover {
  readonly path: string;
  readonly delayMs: number;
  readonly run: boolean;
}

/**
 * Once recovered: schedules what the agent's previous runs left and this one does not run
 * (`--work_dir/slaves/<agent id>/...`), each from its directory's mtime, and the directories of
 * every other agent id (`slaves/<old id>`, `meta/slaves/<old id>`) in full, as Mesos's
 * `Slave::__recover`. Directories of the executors the agent recovered are left alone: it
 * schedules them when it is done with them.
 */
export function scheduleRecovered(agent: Agent): void {
  const workDir = agent.flags.workDir;
  const agentId = agent.agentId;
  const sandboxes = [...agent.frameworks.values()].flatMap((framework) => [...framework.executors.values()].map((executor) => executor.directory));
  const used = (dir: string): boolean => sandboxes.some((sandbox) => isWithin(sandbox, dir));
  agent.continueWith(
    findLeftovers(workDir, agentId, agent.now(), agent.flags.gcDelayMs, used),
    (leftovers) => {
      for (const { path, delayMs, run } of leftovers) {
        // A run may have started under it since the scan.
        if (inUse(agent, path)) continue;
        agent.gc.schedule(path, delayMs, run ? { remove: removeRun } : {});
      }
    },
    (error) => agent.log.warn({ err: error, work_dir: workDir }, 'Failed to look for directories to gc after recovery'),
  );
}

/** Whether an executor the agent runs (or ran and is not done with) has its sandbox at or under `path`. */
function inUse(agent: Agent, path: string): boolean {
  for (const framework of agent.frameworks.values()) {
    for (const executor of framework.executors.values()) if (isWithin(executor.directory, path)) return true;
  }
  return false;
}

async function findLeftovers(workDir: string, agentId: string | undefined, now: number, gcDelayMs: number, used: (dir: string) => boolean): Promise<Leftover[]> {
  const found: Leftover[] = [];
  const slaves = join(workDir, 'slaves');
  for (const id of await directories(slaves)) {
    if (id === agentId) continue;
    // Mesos touches these too: they may never have been scheduled.
    found.push({ path: join(slaves, id), delayMs: gcDelayMs, run: false });
    const meta = agentMetaDir(workDir, id);
    if (existsSync(meta)) found.push({ path: meta, delayMs: gcDelayMs, run: false });
  }
  if (agentId === undefined) return found;
  const fromMtime = (mtimeMs: number): number => gcDelayMs - (now - mtimeMs);
  const frameworks = join(agentWorkDir(workDir, agentId), 'frameworks');
  for (const frameworkId of await directories(frameworks)) {
    const frameworkDir = join(frameworks, frameworkId);
    let frameworkUsed = false;
    let frameworkNewest = await mtime(frameworkDir);
    for (const executorId of await directories(join(frameworkDir, 'executors'))) {
      const executorDir = join(frameworkDir, 'executors', executorId);
      let executorUsed = false;
      let executorNewest = await mtime(executorDir);
      for (const containerId of await directories(join(executorDir, 'runs'))) {
        const runDir = join(executorDir, 'runs', containerId);
        if (used(runDir)) {
          executorUsed = true;
          continue;
        }
        const runMtime = await mtime(runDir);
        executorNewest = Math.max(executorNewest, runMtime);
        found.push({ path: runDir, delayMs: fromMtime(runMtime), run: true });
      }
      frameworkNewest = Math.max(frameworkNewest, executorNewest);
      // A parent goes no sooner than the newest run under it.
      if (executorUsed) frameworkUsed = true;
      else found.push({ path: executorDir, delayMs: fromMtime(executorNewest), run: false });
    }
    if (!frameworkUsed && !used(frameworkDir)) found.push({ path: frameworkDir, delayMs: fromMtime(frameworkNewest), run: false });
  }
  return found;
}

/** The subdirectories of `dir` (symlinks such as `runs/latest` are not), none if it is not there. */
async function directories(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
}

async function mtime(path: string): Promise<number> {
  return (await stat(path)).mtimeMs;
}
