import { statfsSync } from 'node:fs';
import { availableParallelism, hostname as osHostname, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { MesosError } from '../../src/errors.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { parseAttributes } from '../../src/mesos/model.ts';
import { UPID } from '../../src/process/upid.ts';
import {
  DEFAULT_MASTER_PING_TIMEOUT_MS,
  DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
  DEFAULT_RESOURCES,
  EXECUTOR_REGISTRATION_TIMEOUT_MS,
  EXECUTOR_REREGISTRATION_TIMEOUT_MS,
  MAX_EXECUTOR_REREGISTRATION_TIMEOUT_MS,
  EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS,
  DISK_WATCH_INTERVAL_MS,
  GC_DELAY_MS,
  GC_DISK_HEADROOM,
  REGISTER_RETRY_INTERVAL_MAX_MS,
} from './constants.ts';
import { DEFAULT_RECOVERY_TIMEOUT_MS } from '../executor/constants.ts';
import { CGROUPS_ROOT_PATTERN, DEFAULT_CGROUPS_HIERARCHY, DEFAULT_CGROUPS_ROOT, DEFAULT_ISOLATION, parseIsolation } from './isolation.ts';

/**
 * The agent's flags, Mesos's `slave/flags.cpp` names in camelCase (durations in milliseconds,
 * with an `Ms` suffix). `agentFlags` fills in the defaults and checks every value, naming the
 * flag; `flagsJSON` renders them as `/state` shows them (snake_case names, string values).
 */
export interface AgentFlags {
  /** `--master`: the master's UPID (`master@m1`). */
  readonly master: string;
  /** `--resources`, in the Mesos text form. */
  readonly resources: string;
  /** `--attributes`: `rack:r1;zone:a`; empty for none. */
  readonly attributes: string;
  /** `--hostname`: default the machine's hostname. */
  readonly hostname: string;
  /** `--work_dir`: sandboxes under `slaves/`, checkpoints under `meta/`. */
  readonly workDir: string;
  readonly executorRegistrationTimeoutMs: number;
  readonly executorShutdownGracePeriodMs: number;
  readonly registrationBackoffFactorMs: number;
  /** How long without a ping before the master counts as lost, when the master does not say. */
  readonly masterPingTimeoutMs: number;
  /**
   * `--recovery_timeout`: how long a checkpointing framework's executor waits for its agent to
   * come back before it shuts down (`MESOS_RECOVERY_TIMEOUT` in its environment; Mesos's 15 mins).
   */
  readonly recoveryTimeoutMs: number;
  /**
   * `--recover`: what a restarted agent does with the executors of checkpointing frameworks
   * that survived it. `reconnect` (Mesos's default): they re-register and their tasks run on;
   * `cleanup` (for an incompatible upgrade): they are killed, and the agent terminates and
   * forgets its id, so that its next start registers as a new agent.
   */
  readonly recover: RecoverMode;
  /**
   * `--strict` (Mesos's default: true): any error recovering the checkpoints of a previous run is
   * fatal: the agent stops, touching nothing the previous run left running, and says how to
   * remedy it. `--strict=false` recovers what it can read and goes on without the rest.
   */
  readonly strict: boolean;
  /**
   * `--isolation`: the isolators, comma separated (Mesos's default `posix/cpu,posix/mem`, which
   * enforce nothing); `cgroups/cpu` and `cgroups/mem` put each container in cgroups limited to
   * its resources (`isolation.ts`).
   */
  readonly isolation: string;
  /** `--cgroups_hierarchy`: where the cgroups v1 hierarchies are mounted (Mesos: `/sys/fs/cgroup`). */
  readonly cgroupsHierarchy: string;
  /** `--cgroups_root`: the agent's cgroup in each hierarchy, containers under it (Mesos: `mesos`). */
  readonly cgroupsRoot: string;
  /** `--cgroups_enable_cfs`: cap a container's CPU time at its cpus, not only weigh it (Mesos: false). */
  readonly cgroupsEnableCfs: boolean;
  /**
   * `--executor_environment_variables`: the environment executors (and so their tasks) start
   * with, as a JSON object of strings, besides the Mesos executor variables. Unset (Mesos's
   * default): they inherit the agent's own environment.
   */
  readonly executorEnvironmentVariables: Readonly<Record<string, string>> | undefined;
  /** `--executor_reregistration_timeout`: how long `reconnect` waits for them (Mesos: 2 s). */
  readonly executorReregistrationTimeoutMs: number;
  /**
   * `--gc_delay`: how long after the agent is done with an executor's run, or with a framework,
   * its directories under `--work_dir` are deleted, at most (Mesos: 1 week).
   */
  readonly gcDelayMs: number;
  /**
   * `--gc_disk_headroom`, in [0, 1]: the fraction of the disk to keep free. Each disk watch
   * deletes what has waited `gc_delay * max(0, 1 - gc_disk_headroom - usage)` (Mesos: 0.1).
   */
  readonly gcDiskHeadroom: number;
  /** `--disk_watch_interval`: how often the disk usage of `--work_dir` is measured (Mesos: 1 min). */
  readonly diskWatchIntervalMs: number;
}

export type RecoverMode = 'reconnect' | 'cleanup';

/** A flag has a value the agent cannot work with; the message names the flag and the value. */
export class InvalidFlagError extends MesosError {
  constructor(
    readonly flag: string,
    value: unknown,
    reason: string,
  ) {
    super(`invalid value ${JSON.stringify(value)} for --${flag}: ${reason}`);
  }
}

/** What the caller must give: `master` and `workDir`; everything else has a default. */
export type AgentFlagsInput = Partial<AgentFlags> & Pick<AgentFlags, 'master' | 'workDir'>;

/**
 * Complete, checked flags.
 *
 * @example
 * agentFlags({ master: 'master@m1', workDir: '/var/lib/mesos', attributes: 'rack:r1' });
 */
export function agentFlags(input: AgentFlagsInput): AgentFlags {
  const flags: AgentFlags = {
    master: input.master,
    workDir: input.workDir,
    resources: input.resources ?? DEFAULT_RESOURCES,
    attributes: input.attributes ?? '',
    hostname: input.hostname ?? osHostname(),
    executorRegistrationTimeoutMs: input.executorRegistrationTimeoutMs ?? EXECUTOR_REGISTRATION_TIMEOUT_MS,
    executorShutdownGracePeriodMs: input.executorShutdownGracePeriodMs ?? EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS,
    registrationBackoffFactorMs: input.registrationBackoffFactorMs ?? DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
    masterPingTimeoutMs: input.masterPingTimeoutMs ?? DEFAULT_MASTER_PING_TIMEOUT_MS,
    recoveryTimeoutMs: input.recoveryTimeoutMs ?? DEFAULT_RECOVERY_TIMEOUT_MS,
    recover: input.recover ?? 'reconnect',
    strict: input.strict ?? true,
    executorEnvironmentVariables: input.executorEnvironmentVariables,
    isolation: input.isolation ?? DEFAULT_ISOLATION,
    cgroupsHierarchy: input.cgroupsHierarchy ?? DEFAULT_CGROUPS_HIERARCHY,
    cgroupsRoot: input.cgroupsRoot ?? DEFAULT_CGROUPS_ROOT,
    cgroupsEnableCfs: input.cgroupsEnableCfs ?? false,
    executorReregistrationTimeoutMs: input.executorReregistrationTimeoutMs ?? EXECUTOR_REREGISTRATION_TIMEOUT_MS,
    gcDelayMs: input.gcDelayMs ?? GC_DELAY_MS,
    gcDiskHeadroom: input.gcDiskHeadroom ?? GC_DISK_HEADROOM,
    diskWatchIntervalMs: input.diskWatchIntervalMs ?? DISK_WATCH_INTERVAL_MS,
  };
  if (UPID.tryParse(flags.master) === undefined) throw new InvalidFlagError('master', flags.master, "must be a UPID 'id@node'");
  if (typeof flags.workDir !== 'string' || flags.workDir === '') throw new InvalidFlagError('work_dir', flags.workDir, 'must be a directory');
  if (typeof flags.hostname !== 'string' || flags.hostname === '') throw new InvalidFlagError('hostname', flags.hostname, 'must not be empty');
  let resources: Resources;
  try {
    resources = Resources.parse(flags.resources);
  } catch (error) {
    throw new InvalidFlagError('resources', flags.resources, (error as Error).message);
  }
  // A volume is made of reserved disk by CREATE, and checkpointed: an agent does not start with one.
  if (!resources.persistentVolumes().isEmpty()) throw new InvalidFlagError('resources', flags.resources, 'must not hold persistent volumes (CREATE makes them)');
  try {
    parseAttributes(flags.attributes);
  } catch (error) {
    throw new InvalidFlagError('attributes', flags.attributes, (error as Error).message);
  }
  for (const [flag, value] of [
    ['executor_registration_timeout', flags.executorRegistrationTimeoutMs],
    ['executor_shutdown_grace_period', flags.executorShutdownGracePeriodMs],
    ['registration_backoff_factor', flags.registrationBackoffFactorMs],
    ['master_ping_timeout', flags.masterPingTimeoutMs],
    ['recovery_timeout', flags.recoveryTimeoutMs],
    ['executor_reregistration_timeout', flags.executorReregistrationTimeoutMs],
    ['gc_delay', flags.gcDelayMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) throw new InvalidFlagError(flag, value, 'must be a non-negative number of milliseconds');
  }
  // Every interval the disk is measured again: none would measure it without end.
  if (!Number.isFinite(flags.diskWatchIntervalMs) || flags.diskWatchIntervalMs <= 0) {
    throw new InvalidFlagError('disk_watch_interval', flags.diskWatchIntervalMs, 'must be a positive number of milliseconds');
  }
  if (typeof flags.gcDiskHeadroom !== 'number' || !(flags.gcDiskHeadroom >= 0 && flags.gcDiskHeadroom <= 1)) {
    throw new InvalidFlagError('gc_disk_headroom', flags.gcDiskHeadroom, 'must be a fraction in [0, 1]');
  }
  if (typeof flags.strict !== 'boolean') throw new InvalidFlagError('strict', flags.strict, 'must be true or false');
  const env = flags.executorEnvironmentVariables;
  if (env !== undefined) {
    if (typeof env !== 'object' || env === null || Array.isArray(env)) throw new InvalidFlagError('executor_environment_variables', env, 'must be a JSON object of strings');
    for (const [name, value] of Object.entries(env)) {
      if (typeof value !== 'string') throw new InvalidFlagError('executor_environment_variables', env, `variable '${name}' must be a string, got ${JSON.stringify(value)}`);
    }
  }
  if (typeof flags.cgroupsEnableCfs !== 'boolean') throw new InvalidFlagError('cgroups_enable_cfs', flags.cgroupsEnableCfs, 'must be true or false');
  try {
    parseIsolation(flags.isolation);
  } catch (error) {
    throw new InvalidFlagError('isolation', flags.isolation, (error as Error).message);
  }
  if (typeof flags.cgroupsHierarchy !== 'string' || !flags.cgroupsHierarchy.startsWith('/')) {
    throw new InvalidFlagError('cgroups_hierarchy', flags.cgroupsHierarchy, 'must be an absolute path');
  }
  if (typeof flags.cgroupsRoot !== 'string' || !CGROUPS_ROOT_PATTERN.test(flags.cgroupsRoot) || flags.cgroupsRoot.split('/').some((s) => s === '.' || s === '..')) {
    throw new InvalidFlagError('cgroups_root', flags.cgroupsRoot, 'must be a relative path of [A-Za-z0-9_.-] segments');
  }
  if (flags.recover !== 'reconnect' && flags.recover !== 'cleanup') throw new InvalidFlagError('recover', flags.recover, "must be 'reconnect' or 'cleanup'");
  if (flags.executorReregistrationTimeoutMs > MAX_EXECUTOR_REREGISTRATION_TIMEOUT_MS) {
    throw new InvalidFlagError(
      'executor_reregistration_timeout',
      flags.executorReregistrationTimeoutMs,
      `must be at most ${formatDuration(MAX_EXECUTOR_REREGISTRATION_TIMEOUT_MS)}`,
    );
  }
  if (flags.registrationBackoffFactorMs > REGISTER_RETRY_INTERVAL_MAX_MS) {
    throw new InvalidFlagError(
      'registration_backoff_factor',
      flags.registrationBackoffFactorMs,
      `must be at most ${formatDuration(REGISTER_RETRY_INTERVAL_MAX_MS)}`,
    );
  }
  return flags;
}

/** A duration as stout prints one (`1weeks`, `1mins`, `5secs`, `250ms`), for `/state`'s `flags`. */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 604_800_000 === 0) return `${ms / 604_800_000}weeks`;
  if (ms !== 0 && ms % 86_400_000 === 0) return `${ms / 86_400_000}days`;
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}hrs`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}mins`;
  if (ms !== 0 && ms % 1_000 === 0) return `${ms / 1_000}secs`;
  return `${ms}ms`;
}

/** The flags as `/slave(1)/state` shows them: Mesos's names, every value a string. */
export function flagsJSON(flags: AgentFlags): Record<string, string> {
  return {
    master: flags.master,
    resources: flags.resources,
    attributes: flags.attributes,
    hostname: flags.hostname,
    work_dir: flags.workDir,
    executor_registration_timeout: formatDuration(flags.executorRegistrationTimeoutMs),
    executor_shutdown_grace_period: formatDuration(flags.executorShutdownGracePeriodMs),
    registration_backoff_factor: formatDuration(flags.registrationBackoffFactorMs),
    master_ping_timeout: formatDuration(flags.masterPingTimeoutMs),
    recovery_timeout: formatDuration(flags.recoveryTimeoutMs),
    recover: flags.recover,
    strict: String(flags.strict),
    ...(flags.executorEnvironmentVariables !== undefined ? { executor_environment_variables: JSON.stringify(flags.executorEnvironmentVariables) } : {}),
    isolation: flags.isolation,
    cgroups_hierarchy: flags.cgroupsHierarchy,
    cgroups_root: flags.cgroupsRoot,
    cgroups_enable_cfs: String(flags.cgroupsEnableCfs),
    executor_reregistration_timeout: formatDuration(flags.executorReregistrationTimeoutMs),
    gc_delay: formatDuration(flags.gcDelayMs),
    gc_disk_headroom: String(flags.gcDiskHeadroom),
    disk_watch_interval: formatDuration(flags.diskWatchIntervalMs),
  };
}

/** What a machine has, for `detectResources`. */
export interface MachineResources {
  readonly cpus: number;
  readonly memBytes: number;
  /** The size of the filesystem holding the work directory. */
  readonly diskBytes: number;
}

const GB = 1024 * 1024 * 1024;
const MB = 1024 * 1024;

/** The ports an agent offers when `--resources` names none (Mesos's default). */
export const DEFAULT_PORTS = '[31000-32000]';

/**
 * `--resources` as Mesos's agent completes it: each of `cpus`, `mem`, `disk` and `ports` that
 * `given` does not name is detected from the machine (Mesos's `Containerizer::resources`): every
 * CPU; the memory less 1 GB left to the system (half of it under 2 GB); the work directory's
 * filesystem less 5 GB (half of it under 10 GB); ports `[31000-32000]`. What `given` names is
 * kept as given. Throws (naming the value) when `given` is not a resource string.
 *
 * @example
 * detectResources('cpus:2', { cpus: 8, memBytes: 16 * 2 ** 30, diskBytes: 100 * 2 ** 30 });
 * // 'cpus:2;mem:15360;disk:97280;ports:[31000-32000]'
 */
export function detectResources(given: string, machine: MachineResources): string {
  const parsed = Resources.parse(given);
  const names = new Set(parsed.names());
  const detected: string[] = [];
  if (!names.has('cpus')) detected.push(`cpus:${machine.cpus}`);
  if (!names.has('mem')) {
    const mem = machine.memBytes >= 2 * GB ? machine.memBytes - GB : machine.memBytes / 2;
    detected.push(`mem:${Math.floor(mem / MB)}`);
  }
  if (!names.has('disk')) {
    const disk = machine.diskBytes >= 10 * GB ? machine.diskBytes - 5 * GB : machine.diskBytes / 2;
    detected.push(`disk:${Math.floor(disk / MB)}`);
  }
  if (!names.has('ports')) detected.push(`ports:${DEFAULT_PORTS}`);
  return [given.trim(), ...detected].filter((part) => part !== '').join(';');
}

/** This machine's CPUs, memory, and the size of the filesystem that holds (or will hold) `workDir`. */
export function thisMachine(workDir: string): MachineResources {
  // The work directory may not exist yet: its nearest existing ancestor is on the same filesystem.
  let dir = resolve(workDir);
  for (;;) {
    try {
      const fs = statfsSync(dir);
      return { cpus: availableParallelism(), memBytes: totalmem(), diskBytes: fs.bsize * fs.blocks };
    } catch (error) {
      const parent = dirname(dir);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw error;
      dir = parent;
    }
  }
}
