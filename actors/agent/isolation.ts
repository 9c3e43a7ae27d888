import { accessSync, constants as fsConstants, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Resources } from '../../src/mesos/resources.ts';

/**
 * Resource isolation of the agent's containers, as Mesos's `--isolation` names it:
 *
 * - `posix/cpu`, `posix/mem` (Mesos's default): nothing is enforced; usage is read from `/proc`
 *   (`/monitor/statistics`).
 * - `cgroups/cpu`: each container gets a cgroup in the `cpu` hierarchy,
 *   `<--cgroups_hierarchy>/cpu/<--cgroups_root>/<container id>`, whose `cpu.shares` is 1024 per
 *   cpu of the container's resources (at least 2), as Mesos's `CPU_SHARES_PER_CPU`; with
 *   `--cgroups_enable_cfs` also a hard cap, `cpu.cfs_quota_us` over a 100 ms `cpu.cfs_period_us`.
 * - `cgroups/mem`: a cgroup in the `memory` hierarchy whose `memory.limit_in_bytes` (and soft
 *   limit) is the container's `mem` (at least 32 MB, Mesos's `MIN_MEMORY`). A container whose
 *   processes the kernel OOM-kills reports `REASON_CONTAINER_LIMITATION_MEMORY`
 *   (`memory.oom_control` counts the kills), and its tasks fail with that reason.
 *
 * A container's process joins its cgroups before the command runs: it is started as a shell
 * that writes its own pid into each `cgroup.procs`, then execs the command, so everything the
 * command starts is inside (Mesos's launcher does the same between fork and exec). A container's
 * limits are its executor's and its tasks' resources, raised when a task joins it (the memory
 * limit is never lowered under a running container, as in Mesos). Its cgroups are removed once it
 * has exited, after anything left in them is killed.
 *
 * Cgroups v1 only (`/sys/fs/cgroup/{cpu,memory}`), and the agent needs the right to create
 * directories there (root).
 */

export const ISOLATORS = ['posix/cpu', 'posix/mem', 'cgroups/cpu', 'cgroups/mem'] as const;
export type Isolator = (typeof ISOLATORS)[number];

/** Mesos's default `--isolation`. */
export const DEFAULT_ISOLATION = 'posix/cpu,posix/mem';
export const DEFAULT_CGROUPS_HIERARCHY = '/sys/fs/cgroup';
export const DEFAULT_CGROUPS_ROOT = 'mesos';

/** Mesos's `CPU_SHARES_PER_CPU`, `MIN_CPU_SHARES`. */
export const CPU_SHARES_PER_CPU = 1024;
export const MIN_CPU_SHARES = 2;
/** Mesos's `CPU_CFS_PERIOD` (100 ms) and `MIN_CPU_CFS_QUOTA` (1 ms), in microseconds. */
export const CPU_CFS_PERIOD_US = 100_000;
export const MIN_CPU_CFS_QUOTA_US = 1_000;
/** Mesos's `MIN_MEMORY`: the least memory limit a container gets. */
export const MIN_MEMORY_BYTES = 32 * 1024 * 1024;

/** What a container may use: its executor's and its tasks' `cpus` and `mem`. */
export interface ContainerLimits {
  readonly cpus?: number | undefined;
  readonly memBytes?: number | undefined;
}

/** A limit a container ran into (Mesos's `ContainerLimitation`). */
export interface ContainerLimitation {
  readonly reason: 'REASON_CONTAINER_LIMITATION_MEMORY';
  readonly message: string;
}

/** The limits of `resources` (every `cpus` and `mem`, whatever their role). */
export function limitsOf(resources: Resources): ContainerLimits {
  const mem = resources.scalar('mem');
  return { cpus: resources.scalar('cpus'), memBytes: mem !== undefined ? Math.round(mem * 1024 * 1024) : undefined };
}

/** `--isolation`'s value: known isolators, comma separated; throws naming the unknown one. */
export function parseIsolation(text: string): Isolator[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new Error('must name at least one isolator');
  for (const name of names) {
    if (!(ISOLATORS as readonly string[]).includes(name)) throw new Error(`unknown isolator '${name}' (known: ${ISOLATORS.join(', ')})`);
  }
  for (const kind of ['cpu', 'mem'] as const) {
    if (names.includes(`posix/${kind}`) && names.includes(`cgroups/${kind}`)) throw new Error(`'posix/${kind}' and 'cgroups/${kind}' cannot both isolate ${kind}`);
  }
  return [...new Set(names)] as Isolator[];
}

/** A cgroups root name: one or more path segments of safe characters, relative to each hierarchy. */
export const CGROUPS_ROOT_PATTERN = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export interface CgroupsOptions {
  /** `--cgroups_hierarchy`: where the v1 hierarchies are mounted (`/sys/fs/cgroup`). */
  readonly hierarchy: string;
  /** `--cgroups_root`: the agent's cgroup in each hierarchy (`mesos`). */
  readonly root: string;
  readonly cpu: boolean;
  readonly mem: boolean;
  /** `--cgroups_enable_cfs`: cap CPU time at the container's cpus, not only weigh it. */
  readonly enableCfs: boolean;
}

type Subsystem = 'cpu' | 'memory';

/** The `cgroups/cpu` and `cgroups/mem` isolators. */
export class CgroupsIsolator {
  readonly #subsystems: Subsystem[];

  constructor(readonly options: CgroupsOptions) {
    if (!CGROUPS_ROOT_PATTERN.test(options.root) || options.root.split('/').some((s) => s === '.' || s === '..')) {
      throw new Error(`invalid cgroups root '${options.root}': must be a relative path of [A-Za-z0-9_.-] segments`);
    }
    this.#subsystems = [...(options.cpu ? (['cpu'] as const) : []), ...(options.mem ? (['memory'] as const) : [])];
  }

  /**
   * Checks each hierarchy is mounted and makes the agent's root cgroup in it; throws an error
   * naming the path when it cannot (the agent does not start, as Mesos's fails to create its
   * isolator).
   */
  initialize(): void {
    for (const subsystem of this.#subsystems) {
      const mount = join(this.options.hierarchy, subsystem);
      const control = join(mount, subsystem === 'cpu' ? 'cpu.shares' : 'memory.limit_in_bytes');
      try {
        statSync(control);
      } catch {
        throw new Error(`the '${subsystem}' cgroup hierarchy is not mounted at '${mount}' (no '${control}'; cgroups v1 is needed)`);
      }
      const root = join(mount, this.options.root);
      try {
        mkdirSync(root, { recursive: true });
        accessSync(join(root, 'cgroup.procs'), fsConstants.W_OK);
      } catch (error) {
        throw new Error(`cannot create the agent's cgroup '${root}': ${(error as Error).message}`);
      }
    }
  }

  /** The container's cgroup directory in `subsystem`'s hierarchy. */
  dir(subsystem: Subsystem, containerId: string): string {
    return join(this.options.hierarchy, subsystem, this.options.root, containerId);
  }

  /** The `cgroup.procs` files of the container's cgroups, which a process joins to be inside it. */
  procsFiles(containerId: string): string[] {
    return this.#subsystems.map((subsystem) => join(this.dir(subsystem, containerId), 'cgroup.procs'));
  }

  /** The container's memory cgroup, if memory is isolated (what an executor of its own reads its limitation from). */
  memoryDir(containerId: string): string | undefined {
    return this.options.mem ? this.dir('memory', containerId) : undefined;
  }

  /** Makes the container's cgroups with `limits`; returns the `cgroup.procs` files its process must join. */
  prepare(containerId: string, limits: ContainerLimits): string[] {
    const made: string[] = [];
    try {
      for (const subsystem of this.#subsystems) {
        const dir = this.dir(subsystem, containerId);
        try {
          mkdirSync(dir);
        } catch (error) {
          // Another container's (as Mesos refuses to reuse one); or the agent's root is gone.
          throw new Error(`cannot create cgroup '${dir}': ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'it already exists' : (error as Error).message}`);
        }
        made.push(dir);
      }
      this.update(containerId, limits, true);
    } catch (error) {
      // Only what this call made goes (empty: nothing joined them yet); never another's.
      for (const dir of made) rmdirSync(dir);
      throw error;
    }
    return made.map((dir) => join(dir, 'cgroup.procs'));
  }

  /**
   * Sets the container's limits (the hard memory limit only upwards, unless `initial`). Writes
   * to the cgroup filesystem, which lives in memory, synchronously: a task's limits are raised
   * before the task is handed to its executor.
   */
  update(containerId: string, limits: ContainerLimits, initial = false): void {
    if (this.options.cpu && limits.cpus !== undefined) {
      const dir = this.dir('cpu', containerId);
      writeFileSync(join(dir, 'cpu.shares'), String(Math.max(MIN_CPU_SHARES, Math.floor(limits.cpus * CPU_SHARES_PER_CPU))));
      if (this.options.enableCfs) {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(CPU_CFS_PERIOD_US));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.max(MIN_CPU_CFS_QUOTA_US, Math.floor(limits.cpus * CPU_CFS_PERIOD_US))));
      }
    }
    if (this.options.mem && limits.memBytes !== undefined) {
      const dir = this.dir('memory', containerId);
      const limit = Math.max(MIN_MEMORY_BYTES, limits.memBytes);
      const current = initial ? undefined : Number(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim());
      // Lowering the hard limit under what the container uses would OOM-kill it now; Mesos
      // lowers only the soft limit.
      if (current === undefined || limit > current) writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limit));
      writeFileSync(join(dir, 'memory.soft_limit_in_bytes'), String(limit));
    }
  }

  /** The limit the container ran into, if the kernel OOM-killed one of its processes. */
  async limitation(containerId: string): Promise<ContainerLimitation | undefined> {
    const dir = this.memoryDir(containerId);
    return dir === undefined ? undefined : memoryLimitation(dir);
  }

  /**
   * Kills whatever is left in the container's cgroups and removes them. Never throws; returns
   * the cgroups that could not be removed.
   */
  async cleanup(containerId: string): Promise<string[]> {
    const left: string[] = [];
    for (const subsystem of this.#subsystems) {
      const dir = this.dir(subsystem, containerId);
      if (!(await removeCgroup(dir))) left.push(dir);
    }
    return left;
  }
}

/**
 * The memory limitation of the container whose memory cgroup is `dir`: set once the kernel
 * OOM-killed a process in it (`oom_kill` of `memory.oom_control`, counted since Linux 4.13; on
 * older kernels `under_oom`). The message is Mesos's: `Memory limit exceeded: Requested: 64MB
 * Maximum Used: 64MB`.
 */
export async function memoryLimitation(dir: string): Promise<ContainerLimitation | undefined> {
  let control: string;
  try {
    control = await readFile(join(dir, 'memory.oom_control'), 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => Number(/^(\S+) (\d+)$/m.exec(control.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2] ?? 0);
  if (field('oom_kill') === 0 && field('under_oom') === 0) return undefined;
  const bytes = async (file: string): Promise<number | undefined> => {
    try {
      return Number((await readFile(join(dir, file), 'utf8')).trim());
    } catch {
      return undefined;
    }
  };
  const mb = (n: number | undefined): string => (n === undefined ? 'unknown' : `${Math.round(n / (1024 * 1024))}MB`);
  return {
    reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
    message: `Memory limit exceeded: Requested: ${mb(await bytes('memory.limit_in_bytes'))} Maximum Used: ${mb(await bytes('memory.max_usage_in_bytes'))}`,
  };
}

/** How long a cgroup's processes have to die after SIGKILL before its removal is given up. */
const CGROUP_REMOVE_ATTEMPTS = 50;
const CGROUP_REMOVE_RETRY_MS = 20;

/** Kills every process in the cgroup `dir` and removes it; true once it is gone. */
export async function removeCgroup(dir: string): Promise<boolean> {
  for (let attempt = 0; attempt < CGROUP_REMOVE_ATTEMPTS; attempt++) {
    let pids: number[];
    try {
      pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter((l) => l !== '').map(Number);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      return false;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    if (pids.length === 0) {
      try {
        await rmdir(dir);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return true;
        if (code !== 'EBUSY') return false;
      }
    }
    // Killed processes leave their cgroup once the kernel has torn them down.
    await new Promise<void>((resolve) => setTimeout(resolve, CGROUP_REMOVE_RETRY_MS).unref());
  }
  return false;
}

/**
 * The command that runs `file` with `argv` inside the cgroups whose `cgroup.procs` files are
 * `procs`: a shell that writes its own pid into each, then execs the command, so that nothing
 * of the command runs outside them. `argv[0]` becomes `file` (a shell's `exec` cannot set it).
 */
export function joinCgroupsArgv(procs: readonly string[], file: string, argv: readonly string[]): { file: string; argv: string[] } {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `${procs.map((p) => `echo $$ > ${quote(p)} || exit 125`).join('; ')}; exec "$@"`;
  return { file: '/bin/sh', argv: ['sh', '-c', script, 'sh', file, ...argv.slice(1)] };
}
