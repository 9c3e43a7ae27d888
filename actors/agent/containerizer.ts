import { ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants as fsConstants, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { commandShell, type CommandInfo } from '../../src/mesos/v1/common.ts';
import { REAP_INTERVAL_MS } from './constants.ts';
import { joinCgroupsArgv, type CgroupsIsolator, type ContainerLimitation, type ContainerLimits } from './isolation.ts';

/**
 * The agent's containerizer: runs executors and command tasks as real child processes, as
 * Mesos's `MesosContainerizer` with the POSIX launcher does. It is responsible for
 *
 * 1. creating the container's sandbox directory, with `stdout` and `stderr` files that the
 *    process's output is appended to (Mesos's `--container_logger` default);
 * 2. starting the command: `/bin/sh -c <value>` when `CommandInfo.shell` (the default), else
 *    `value` exec'd with `arguments` as its argv (`arguments[0]` is argv[0], as `execlp(value,
 *    arguments(0), arguments(1), ...)` in Mesos), in the sandbox, in its own process group;
 * 3. reporting how the process ended (`exited`): the exit code, or 128 + the signal number;
 *    the container ends with its process (what is left of its group is killed, and the
 *    containerizer forgets it);
 * 4. destroying a container: SIGTERM to its process group, SIGKILL after a grace period
 *    measured on the owning process's Clock, then SIGKILL to whatever is left of the group;
 *    its nested containers (`<id>.<child>`, Mesos's nested containers, where the default
 *    executor runs the tasks of a group) are destroyed, or killed, with it.
 *
 * Nothing here blocks the event loop: files are opened and directories created asynchronously.
 * A command that cannot be started (a missing binary, a sandbox that cannot be created) is a
 * value, not an exception: its `Container` has `error` set and exits at once with 127 (126 when
 * the file exists but cannot be executed), as a shell reports such a command.
 *
 * @example
 * const containerizer = new Containerizer({ delay: (ms, fn) => this.delay(ms, fn) });
 * const container = await containerizer.launch({
 *   containerId: randomUUID(),
 *   command: { value: 'echo hi' },
 *   sandbox: '/var/lib/mesos/slaves/.../runs/<container-id>',
 *   env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
 * });
 * const exit = await container.exited; // { status: 0, code: 0, signal: null }
 */

export interface LaunchSpec {
  /** Unique per agent: a UUID, as Mesos's `ContainerID`. */
  containerId: string;
  command: CommandInfo;
  /** Absolute path of the sandbox; created if missing. The process runs with it as its cwd. */
  sandbox: string;
  /**
   * The complete environment of the process; `command.environment.variables` are merged over it.
   * Nothing is inherited from the agent implicitly: pass `process.env` entries to inherit them.
   */
  env: Record<string, string>;
}

export interface ContainerExit {
  /** The wait status as Mesos reports it: the exit code, or 128 + the signal number. */
  status: number;
  /** The exit code, or `null` when a signal ended the process. */
  code: number | null;
  /** The signal that ended the process, or `null` when it exited. */
  signal: NodeJS.Signals | null;
  /** A limit the container ran into (`cgroups/mem`: the kernel OOM-killed one of its processes). */
  limitation?: ContainerLimitation;
}

export interface Container {
  readonly containerId: string;
  /** The process id, also the process group id; 0 when the process could not be started. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process has exited; never rejects. */
  readonly exited: Promise<ContainerExit>;
  /** Why the process could not be started, if it could not. */
  readonly error?: string;
  readonly sandbox: string;
}

/** A handle on a Clock timer, as `Process.delay` returns. */
export interface DelayHandle {
  cancel(): void;
}

export interface ContainerizerOptions {
  /** The owning process's Clock-driven delay (`(ms, fn) => this.delay(ms, fn)`). */
  delay: (ms: number, fn: () => void) => DelayHandle;
  /**
   * Where to note each running container's process (`<containerId>.pid`), so that an agent that
   * restarts after dying without a word can kill what it left running (`killOrphans`).
   */
  pidDir?: string;
  /**
   * Start each command in the caller's process group rather than a group of its own: a command
   * executor that runs in its own process (`command-executor-main.ts`) keeps its task in its
   * container, so that the agent destroying that container reaches the task too. Signals then go
   * to the task's process and its descendants (Mesos's command executor's `killtree`), not to
   * the group, which holds the caller.
   */
  sameGroup?: boolean;
  /** How often a recovered container's process is looked for (`recover`); default `REAP_INTERVAL_MS`. */
  reapIntervalMs?: number;
  /**
   * The `cgroups/*` isolators (`isolation.ts`): each container's process starts inside cgroups
   * limited to `limits(containerId)`, and its exit tells whether it ran into them.
   */
  isolator?: CgroupsIsolator;
  /** A container's limits, for the isolator (the agent: its executor's and tasks' resources). */
  limits?: (containerId: string) => ContainerLimits | undefined;
  /**
   * Where a containerizer without an isolator learns whether a container ran into a limit: a
   * command executor in its own process, whose tasks run inside its own container's cgroups.
   */
  limitation?: () => Promise<ContainerLimitation | undefined>;
}

/** The wait status of a process whose exit could not be reaped (it was not our child): Mesos's -1. */
export const UNKNOWN_EXIT_STATUS = -1;

/** The wait status a shell gives a command it cannot find. */
export const COMMAND_NOT_FOUND_STATUS = 127;
/** The wait status a shell gives a command it finds but cannot execute. */
export const COMMAND_NOT_EXECUTABLE_STATUS = 126;

interface Entry {
  readonly container: Container;
  exit: ContainerExit | undefined;
  /** The destruction in progress, so that a second `destroy` joins it. */
  destroying: Promise<ContainerExit> | undefined;
}

export class Containerizer {
  readonly #delay: ContainerizerOptions['delay'];
  readonly #containers = new Map<string, Entry>();
  readonly #launching = new Set<string>();
  /** Signals sent to containers still starting: delivered as soon as their process runs. */
  readonly #killOnStart = new Map<string, NodeJS.Signals>();
  readonly #pidDir: string | undefined;
  readonly #sameGroup: boolean;
  readonly #reapIntervalMs: number;
  readonly #isolator: CgroupsIsolator | undefined;
  readonly #limits: ((containerId: string) => ContainerLimits | undefined) | undefined;
  readonly #limitation: (() => Promise<ContainerLimitation | undefined>) | undefined;

  constructor(options: ContainerizerOptions) {
    this.#delay = options.delay;
    this.#pidDir = options.pidDir;
    this.#sameGroup = options.sameGroup === true;
    this.#reapIntervalMs = options.reapIntervalMs ?? REAP_INTERVAL_MS;
    this.#isolator = options.isolator;
    this.#limits = options.limits;
    this.#limitation = options.limitation;
  }

  /** The isolator's cgroups, if any (`isolation.ts`). */
  get isolator(): CgroupsIsolator | undefined {
    return this.#isolator;
  }

  /**
   * Sets the container's limits to `limits` (a task joined or left its executor); nothing
   * without an isolator or for an unknown container.
   */
  update(containerId: string, limits: ContainerLimits): void {
    const entry = this.#containers.get(containerId);
    if (this.#isolator === undefined || entry === undefined || entry.exit !== undefined) return;
    this.#isolator.update(containerId, limits);
  }

  /**
   * Creates the sandbox and starts the command in it. Resolves once the process runs (or is
   * known not to start); rejects only if `containerId` is already in use.
   */
  async launch(spec: LaunchSpec): Promise<Container> {
    if (this.#containers.has(spec.containerId) || this.#launching.has(spec.containerId)) {
      throw new Error(`container '${spec.containerId}' already exists`);
    }
    // Reserved before the first await, so that a concurrent launch of the same id fails.
    this.#launching.add(spec.containerId);
    try {
      const container = await this.#start(spec);
      const entry: Entry = { container, exit: undefined, destroying: undefined };
      this.#containers.set(spec.containerId, entry);
      const signal = this.#killOnStart.get(spec.containerId);
      if (signal !== undefined) this.#signal(container.pid, signal);
      const pidFile = this.#pidFile(spec.containerId, container.pid);
      if (pidFile !== undefined) await notePid(pidFile, container.pid);
      this.#whenExited(spec.containerId, entry, pidFile);
      return container;
    } finally {
      this.#launching.delete(spec.containerId);
      this.#killOnStart.delete(spec.containerId);
    }
  }

  /**
   * Kills the container: SIGTERM to its process group, SIGKILL to the group `gracePeriodMs` of
   * Clock time later if the process is still there, and SIGKILL to what is left of the group
   * once the process has exited. Resolves with how the process ended; `undefined` for an unknown
   * container or one whose process has already exited (its `exited` tells how).
   */
  async destroy(containerId: string, gracePeriodMs: number): Promise<ContainerExit | undefined> {
    // Its nested containers go with it, as Mesos destroys a container's children first.
    const nested = this.#nested(containerId).map((id) => (this.#containers.has(id) ? this.destroy(id, gracePeriodMs) : this.kill(id, 'SIGKILL')));
    const entry = this.#containers.get(containerId);
    if (entry === undefined) {
      await Promise.all(nested);
      return undefined;
    }
    entry.destroying ??= this.#destroy(entry, gracePeriodMs);
    const [exit] = await Promise.all([entry.destroying, ...nested]);
    if (this.#containers.get(containerId) === entry) this.#containers.delete(containerId);
    return exit;
  }

  /**
   * Sends `signal` to the container's process group, or, while it is still starting, as soon as
   * its process runs, and to its nested containers; false if there is no such container (or
   * process).
   */
  kill(containerId: string, signal: NodeJS.Signals): boolean {
    let nested = false;
    for (const id of this.#nested(containerId)) nested = this.kill(id, signal) || nested;
    const entry = this.#containers.get(containerId);
    if (entry !== undefined) return this.#signal(entry.container.pid, signal) || nested;
    // Still starting (its sandbox is being made, its process spawned): signalled once it runs.
    // An agent shutting down kills its executors' containers this way; one that a command
    // executor was starting for its task would otherwise outlive the agent.
    if (!this.#launching.has(containerId)) return nested;
    this.#killOnStart.set(containerId, signal);
    return true;
  }

  /**
   * The containers nested in `containerId`, launched or starting: `<containerId>.<child>`, as
   * Mesos names a nested container (the default executor runs each task of a group in one).
   */
  #nested(containerId: string): string[] {
    const prefix = `${containerId}.`;
    const out: string[] = [];
    for (const id of this.#containers.keys()) if (id.startsWith(prefix)) out.push(id);
    for (const id of this.#launching) if (id.startsWith(prefix) && !this.#containers.has(id)) out.push(id);
    return out;
  }

  get(containerId: string): Container | undefined {
    return this.#containers.get(containerId)?.container;
  }

  /** Ids of the containers launched and not destroyed. */
  containerIds(): string[] {
    return [...this.#containers.keys()];
  }

  /**
   * After a restart: takes back the containers a previous run noted in `pidDir` whose id `keep`
   * accepts and whose process still runs (the executors of checkpointing frameworks, which
   * survive an agent restart), and kills the others, as Mesos's launcher recovers its
   * containers and destroys the orphans. A recovered container's process is not a child of
   * this process, so no exit event comes for it: it is looked for every `reapIntervalMs`, and
   * its exit status is unknown (`status: -1`, as Mesos reports an executor's status it could not
   * reap). Returns the containers recovered and the pids killed.
   */
  async recover(keep: (containerId: string) => boolean): Promise<{ recovered: Container[]; killed: number[] }> {
    const recovered: Container[] = [];
    const killed: number[] = [];
    if (this.#pidDir === undefined) return { recovered, killed };
    for (const { containerId, file, note, alive } of await readNotes(this.#pidDir)) {
      if (alive && keep(containerId) && !this.#containers.has(containerId)) {
        const container = this.#adopt(containerId, note!.pid, note!.startTime!);
        recovered.push(container);
        continue;
      }
      if (alive && signalGroup(note!.pid, 'SIGKILL')) killed.push(note!.pid);
      await rm(file, { force: true });
      // Its cgroups, if the previous run isolated it (nothing to do otherwise).
      if (this.#isolator !== undefined) await this.#isolator.cleanup(containerId);
    }
    return { recovered, killed };
  }

  /**
   * A container of a previous run whose process `pid` (started at `startTime`) still runs; its
   * exit is polled for: gone, a zombie, or its pid taken by another process.
   */
  #adopt(containerId: string, pid: number, startTime: string): Container {
    let resolve!: (exit: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((r) => (resolve = r));
    const timer = setInterval(() => {
      if (processStartTime(pid) === startTime) return;
      clearInterval(timer);
      const exit: ContainerExit = { status: UNKNOWN_EXIT_STATUS, code: null, signal: null };
      // In the cgroups the previous run made for it, if it isolated it.
      if (this.#isolator !== undefined) void this.#limited(containerId, exit, true).then(resolve);
      else resolve(exit);
    }, this.#reapIntervalMs);
    // Polling alone must not keep the agent's process alive.
    timer.unref();
    const container: Container = { containerId, pid, child: new ChildProcess(), exited, sandbox: '' };
    const entry: Entry = { container, exit: undefined, destroying: undefined };
    this.#containers.set(containerId, entry);
    this.#whenExited(containerId, entry, this.#pidFile(containerId, pid));
    return container;
  }

  /** Where a container's process is noted, if this containerizer notes them. */
  #pidFile(containerId: string, pid: number): string | undefined {
    return this.#pidDir !== undefined && pid > 0 ? join(this.#pidDir, `${containerId}.pid`) : undefined;
  }

  #whenExited(containerId: string, entry: Entry, pidFile: string | undefined): void {
    void entry.container.exited.then((exit) => {
      entry.exit = exit;
      // The container ends with its process, as Mesos destroys a container whose init process
      // exited: what is left of the group (background jobs) is killed.
      if (!this.#sameGroup) signalGroup(entry.container.pid, 'SIGKILL');
      if (this.#containers.get(containerId) === entry) this.#containers.delete(containerId);
      if (pidFile !== undefined) void rm(pidFile, { force: true });
    });
  }

  /** Signals a container's process: its whole group, or (`sameGroup`) it and its descendants. */
  #signal(pid: number, signal: NodeJS.Signals): boolean {
    return this.#sameGroup ? signalTree(pid, signal) : signalGroup(pid, signal);
  }

  async #destroy(entry: Entry, gracePeriodMs: number): Promise<ContainerExit> {
    const { container } = entry;
    if (entry.exit === undefined) {
      this.#signal(container.pid, 'SIGTERM');
      const escalation = this.#delay(Math.max(0, gracePeriodMs), () => {
        if (entry.exit === undefined) this.#signal(container.pid, 'SIGKILL');
      });
      await container.exited;
      escalation.cancel();
    }
    // Processes of the group that outlived its leader (a background job that ignores SIGTERM).
    if (!this.#sameGroup) signalGroup(container.pid, 'SIGKILL');
    return container.exited;
  }

  /**
   * The exit of a container that may have run into a limit: with the limitation, if it did; its
   * cgroups (`isolated`) are removed first, with whatever was left in them.
   */
  async #limited(containerId: string, exit: ContainerExit, isolated: boolean): Promise<ContainerExit> {
    try {
      const limitation = isolated ? await this.#isolator!.limitation(containerId) : await this.#limitation!();
      if (isolated) await this.#isolator!.cleanup(containerId);
      return limitation !== undefined ? { ...exit, limitation } : exit;
    } catch {
      return exit;
    }
  }

  async #start(spec: LaunchSpec): Promise<Container> {
    const { containerId, command, sandbox } = spec;
    let argv = commandArgv(command);
    if (typeof argv === 'string') return failed(spec, argv, COMMAND_NOT_FOUND_STATUS);

    try {
      await mkdir(sandbox, { recursive: true });
    } catch (error) {
      return failed(spec, `failed to create sandbox '${sandbox}': ${(error as Error).message}`, COMMAND_NOT_FOUND_STATUS);
    }
    let out: FileHandle | undefined;
    let err: FileHandle | undefined;
    try {
      out = await open(join(sandbox, 'stdout'), 'a');
      err = await open(join(sandbox, 'stderr'), 'a');
    } catch (error) {
      await out?.close();
      return failed(spec, `failed to open the output files in '${sandbox}': ${(error as Error).message}`, COMMAND_NOT_FOUND_STATUS);
    }

    const limits = this.#isolator !== undefined ? this.#limits?.(containerId) : undefined;
    if (this.#isolator !== undefined && limits !== undefined) {
      // The shell that joins the cgroups execs the command: whether it can be executed is known
      // only by then, so it is looked for first, as `execvp` would, to fail as a spawn does.
      const missing = unexecutable(argv.file, environment(spec).PATH);
      if (missing !== undefined) {
        await err.appendFile(`Failed to execute '${argv.file}': ${missing.message}\n`).catch(() => undefined);
        await out.close();
        await err.close();
        return failed(spec, `failed to execute '${argv.file}': ${missing.message}`, missing.status);
      }
      try {
        argv = joinCgroupsArgv(this.#isolator.prepare(containerId, limits), argv.file, argv.argv);
      } catch (error) {
        await out.close();
        await err.close();
        return failed(spec, `failed to isolate the container: ${(error as Error).message}`, COMMAND_NOT_FOUND_STATUS);
      }
    }
    try {
      const stdio: StdioOptions = ['ignore', out.fd, err.fd];
      const [file, ...args] = argv.argv;
      const child = spawn(argv.file, args, {
        argv0: file,
        cwd: sandbox,
        env: environment(spec),
        stdio,
        // A new session, so a new process group: signals to `-pid` reach everything it starts.
        detached: !this.#sameGroup,
      });
      if (child.pid === undefined) {
        const [error] = (await once(child, 'error')) as [NodeJS.ErrnoException];
        const status = error.code === 'EACCES' ? COMMAND_NOT_EXECUTABLE_STATUS : COMMAND_NOT_FOUND_STATUS;
        await err.appendFile(`Failed to execute '${argv.file}': ${error.message}\n`).catch(() => undefined);
        if (limits !== undefined) await this.#isolator!.cleanup(containerId);
        return failed(spec, `failed to execute '${argv.file}': ${error.message}`, status, child);
      }
      // A later error (a failed kill) must not crash the agent.
      child.on('error', () => undefined);
      const exit = new Promise<ContainerExit>((resolve) => {
        child.once('exit', (code, signal) => resolve(exitOf(code, signal)));
      });
      const exited = limits !== undefined || this.#limitation !== undefined ? exit.then((e) => this.#limited(containerId, e, limits !== undefined)) : exit;
      return { containerId, pid: child.pid, child, exited, sandbox };
    } finally {
      // The child holds its own copies of the descriptors.
      await out.close();
      await err.close();
    }
  }
}

/** What to exec for `command`: the file and the full argv, or why it cannot run. */
function commandArgv(command: CommandInfo): { file: string; argv: string[] } | string {
  if (command.value === undefined || command.value === '') {
    return commandShell(command) ? 'shell command has no value' : 'executable (CommandInfo.value) is not specified';
  }
  if (commandShell(command)) return { file: '/bin/sh', argv: ['sh', '-c', command.value] };
  const argv = command.arguments !== undefined && command.arguments.length > 0 ? command.arguments : [command.value];
  return { file: command.value, argv };
}

/**
 * Why `file` cannot be executed, as `execvp` looks for it (a name without `/` on each `PATH`
 * directory): `ENOENT` (127, as a shell says) or `EACCES` (126); `undefined` if it can.
 */
function unexecutable(file: string, path: string | undefined): { status: number; message: string } | undefined {
  const candidates = file.includes('/') ? [file] : (path ?? '/usr/local/bin:/usr/bin:/bin').split(':').map((dir) => join(dir === '' ? '.' : dir, file));
  let denied = false;
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return undefined;
      denied = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  return denied
    ? { status: COMMAND_NOT_EXECUTABLE_STATUS, message: `spawn ${file} EACCES` }
    : { status: COMMAND_NOT_FOUND_STATUS, message: `spawn ${file} ENOENT` };
}

/** `spec.env` with the command's own variables over it; secrets are not resolved here. */
function environment(spec: LaunchSpec): Record<string, string> {
  const env: Record<string, string> = { ...spec.env };
  for (const variable of spec.command.environment?.variables ?? []) {
    if (variable.type === 'SECRET') continue;
    env[variable.name] = variable.value ?? '';
  }
  return env;
}

function exitOf(code: number | null, signal: NodeJS.Signals | null): ContainerExit {
  if (signal !== null) return { status: 128 + (osConstants.signals[signal] ?? 0), code: null, signal };
  return { status: code ?? 0, code, signal: null };
}

function failed(spec: LaunchSpec, error: string, status: number, child?: ChildProcess): Container {
  return {
    containerId: spec.containerId,
    pid: 0,
    child: child ?? new ChildProcess(),
    exited: Promise.resolve({ status, code: status, signal: null }),
    error,
    sandbox: spec.sandbox,
  };
}

/**
 * Signals the process `pid` and every process descended from it (from `/proc`'s parent links);
 * false if `pid` does not exist. Never signals pid ≤ 1.
 */
function signalTree(pid: number, signal: NodeJS.Signals): boolean {
  if (!(pid > 1)) return false;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields === undefined) continue;
    const parent = Number(fields[1]);
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [Number(entry)]);
    else siblings.push(Number(entry));
  }
  const tree: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = queue.pop()!;
    tree.push(next);
    queue = queue.concat(children.get(next) ?? []);
  }
  let signalled = false;
  for (const member of tree) {
    try {
      process.kill(member, signal);
      if (member === pid) signalled = true;
    } catch {
      // Gone meanwhile.
    }
  }
  return signalled;
}

/** Signals the process group `pid` leads; false if it does not exist. Never signals pid ≤ 1. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (!(pid > 1)) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** What `<containerId>.pid` holds: the process (its group's leader) and when it started. */
interface PidNote {
  readonly pid: number;
  /** `/proc/<pid>/stat` field 22, so that a pid reused since is not taken for ours. */
  readonly startTime: string | undefined;
}

/**
 * The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and
 * parentheses): `[0]` is the state, `[1]` the parent's pid, `[19]` the start time. `undefined`
 * if there is no such process.
 */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started (`/proc/<pid>/stat` field 22), which tells it from a later process
 * given the same pid; `undefined` if it is gone, or a zombie (it runs no more).
 */
function processStartTime(pid: number): string | undefined {
  const fields = statFields(pid);
  return fields === undefined || fields[0] === 'Z' ? undefined : fields[19];
}

/** Whether process `pid` runs (a zombie does not). */
export function processRuns(pid: number): boolean {
  return processStartTime(pid) !== undefined;
}

async function notePid(file: string, pid: number): Promise<void> {
  try {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, JSON.stringify({ pid, startTime: processStartTime(pid) } satisfies PidNote));
  } catch {
    // Only orphan cleanup after a crash depends on it.
  }
}

interface NoteFile {
  readonly containerId: string;
  readonly file: string;
  /** Undefined for a torn note. */
  readonly note: PidNote | undefined;
  /** Its process still runs, and is the one noted (not another that took its pid since). */
  readonly alive: boolean;
}

async function readNotes(pidDir: string): Promise<NoteFile[]> {
  let files: string[];
  try {
    files = (await readdir(pidDir)).filter((f) => f.endsWith('.pid'));
  } catch {
    return [];
  }
  const notes: NoteFile[] = [];
  for (const name of files) {
    const file = join(pidDir, name);
    let note: PidNote | undefined;
    try {
      note = JSON.parse(await readFile(file, 'utf8')) as PidNote;
    } catch {
      // A torn note: nothing to kill that we can be sure of.
    }
    const now = note !== undefined ? processStartTime(note.pid) : undefined;
    notes.push({ containerId: name.slice(0, -'.pid'.length), file, note, alive: now !== undefined && now === note?.startTime });
  }
  return notes;
}

/**
 * Kills the process groups a previous run of the agent left running (it died without destroying
 * its containers, e.g. `kill -9`), as Mesos's launcher destroys orphaned containers on recovery.
 * A note whose process is gone, or whose pid now belongs to another process, is just removed.
 * Returns the pids killed.
 */
export async function killOrphans(pidDir: string): Promise<number[]> {
  const killed: number[] = [];
  for (const { file, note, alive } of await readNotes(pidDir)) {
    if (alive && signalGroup(note!.pid, 'SIGKILL')) killed.push(note!.pid);
    await rm(file, { force: true });
  }
  return killed;
}
