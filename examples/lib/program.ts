/**
 * What the example frameworks share around their schedulers:
 *
 * 1. The command line: Mesos-style flags (`--max=10` or `--max 10`, also from `MESOS_TS_MAX`),
 *    `--help`, and exit code 2 with a message naming the flag for a bad value.
 * 2. The cluster: a remote master reached over NATS (`--master` with `--nats`), or a whole
 *    cluster embedded in this process (master, allocator, three agents; HTTP on a free port).
 * 3. The run: start the scheduler driver, wait until the job is done, failed, timed out or
 *    interrupted, tear the framework down, stop the embedded cluster, and say how it went as an
 *    exit code (0 done, 1 failed or timed out, 2 bad usage, 130 interrupted).
 *
 * Results go to stdout, everything else (logs, errors) to stderr, so a run's stdout is just its
 * answer.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, sep } from 'node:path';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { startEmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { nodeExecutorCommand } from '../../actors/executor/index.ts';
import { SchedulerDriver, type Scheduler } from '../../actors/scheduler/scheduler-driver.ts';
import { FlagError, flagsHelp, parseDuration, parseFlags, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { ExecutorInfo, FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { parseMasterAddress } from '../../actors/detector/address.ts';

export { FlagError, type FlagValue };

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** A program's name, what it does, and its own flags (the common ones are added). */
export interface ProgramSpec {
  readonly name: string;
  readonly summary: string;
  /** Example command lines for `--help`. */
  readonly examples: readonly string[];
  readonly flags: readonly FlagSpec[];
}

/** The flags every example takes. */
export interface CommonOptions {
  readonly master: string | undefined;
  readonly nats: string[] | undefined;
  readonly timeoutMs: number;
  readonly verbose: boolean;
}

const DEFAULT_TIMEOUT_SECONDS = 60;

export const COMMON_FLAGS: readonly FlagSpec[] = [
  {
    name: 'master',
    type: 'string',
    help: "a running master: master@node1 (with --nats), nats://host:4222 (found on the bus) or http://host:5050 (the HTTP API); without it a cluster starts in this process",
  },
  { name: 'nats', type: 'list', help: 'NATS servers of the bus the --master is on (nats://host:4222[,more])' },
  { name: 'timeout', type: 'string', help: 'give up (exit 1) after this long: seconds, or a duration like 2mins', default: String(DEFAULT_TIMEOUT_SECONDS) },
  { name: 'verbose', type: 'bool', help: 'log at info level (default: warnings and errors only)', default: false },
];

export function usage(spec: ProgramSpec): string {
  return [
    `Usage: ${spec.name} [--flag=value ...]`,
    '',
    spec.summary,
    '',
    'Flags:',
    flagsHelp([...spec.flags, ...COMMON_FLAGS]),
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

/**
 * Parses `argv` against the program's and the common flags. `read` turns the raw values into
 * the program's options, throwing a `FlagError` for a value out of range. Returns the options,
 * or an exit code once it has printed the usage (`--help`: 0) or the error (2).
 */
export function parseCommandLine<T>(spec: ProgramSpec, argv: readonly string[], read: (values: Record<string, FlagValue>) => T): (T & CommonOptions) | number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage(spec));
    return EXIT_OK;
  }
  try {
    const values = parseFlags([...spec.flags, ...COMMON_FLAGS], argv);
    const common = readCommon(values);
    return { ...read(values), ...common };
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    console.error(`${spec.name}: ${error.message}`);
    return EXIT_USAGE;
  }
}

function readCommon(values: Record<string, FlagValue>): CommonOptions {
  const master = values.master as string | undefined;
  const nats = values.nats as string[] | undefined;
  if (master !== undefined) {
    let address;
    try {
      address = parseMasterAddress(master);
    } catch (error) {
      throw new FlagError('master', master, (error as Error).message);
    }
    if (address.kind === 'upid' && (nats === undefined || nats.length === 0)) {
      throw new FlagError('master', master, 'needs --nats, the bus that master is on (or give nats://host:4222 or http://host:5050)');
    }
    if (address.kind !== 'upid' && nats !== undefined) throw new FlagError('nats', nats.join(','), `is only used with --master master@node, not with '${master}'`);
  }
  if (nats !== undefined && master === undefined) throw new FlagError('nats', nats.join(','), 'is only used with --master');
  return { master, nats, timeoutMs: readTimeout(values.timeout as string), verbose: values.verbose === true };
}

/** `--timeout`: plain seconds (`90`, `0.5`) or a Mesos duration (`90secs`, `2mins`). */
function readTimeout(text: string): number {
  const ms = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) * 1000 : parseDuration(text, 'timeout');
  if (!(ms > 0)) throw new FlagError('timeout', text, 'must be more than zero');
  return ms;
}

/** An integer flag within `[min, max]`. */
export function intFlag(values: Record<string, FlagValue>, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = values[name] as number;
  if (value < min) throw new FlagError(name, value, `must be at least ${min}`);
  if (value > max) throw new FlagError(name, value, `must be at most ${max}`);
  return value;
}

/** The examples' logger: on stderr (stdout is for results), pretty in a terminal, quiet unless `verbose`. */
export function exampleLogger(name: string, verbose: boolean): Logger {
  const level = verbose ? 'info' : 'warn';
  if (process.stderr.isTTY === true) {
    return pino({ level, base: { name } }, pretty({ colorize: true, destination: 2, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'hostname,pid' }));
  }
  return pino({ level, base: { name } }, pino.destination({ fd: 2, sync: true }));
}

/**
 * The `ExecutorInfo` of a TypeScript executor `file` (an absolute path) run by the agent as a
 * child process, with `resources` of its own, logging (to its sandbox's `stderr`) at `info` when
 * `verbose`, else `warn`. Every task that names the same `id` on an agent runs in one process.
 */
export function typescriptExecutor(id: string, name: string, file: string, resources: string, verbose: boolean): ExecutorInfo {
  const command = nodeExecutorCommand(file);
  command.environment = { variables: [{ name: 'MESOS_TS_LOG_LEVEL', value: verbose ? 'info' : 'warn' }] };
  return { executor_id: { value: id }, name, command, resources: Resources.parse(resources).toJSON() };
}

/** Where the framework runs: a runtime that reaches the master (none: the driver makes its own), and how to let go of it. */
export interface Cluster {
  readonly runtime: Runtime | undefined;
  readonly master: string;
  /** Stops what this program started; keeps the embedded cluster's sandboxes when asked (after a failure). */
  close(keepSandboxes: boolean): Promise<void>;
}

/** Connects to `--master` over NATS, or starts an embedded cluster with its work directory in a fresh temporary directory. */
export async function openCluster(name: string, options: CommonOptions, logger: Logger): Promise<Cluster> {
  if (options.master !== undefined && options.nats === undefined) {
    // `nats://...` (the driver finds the leading master) or `http://...` (the v1 scheduler HTTP API).
    return { runtime: undefined, master: options.master, close: async () => undefined };
  }
  if (options.master !== undefined) {
    const transport = new NatsTransport({ servers: options.nats ?? [], logger });
    const runtime = await Runtime.start({ transport, logger });
    return { runtime, master: options.master, close: () => runtime.shutdown() };
  }
  const workDir = mkdtempSync(join(tmpdir(), `mesos-ts-${name}-`));
  const cluster = await startEmbeddedCluster({ port: 0, logger, workDir });
  logger.info({ url: cluster.url, master: String(cluster.master.self), workDir }, 'Embedded cluster running');
  return {
    runtime: cluster.runtime,
    master: String(cluster.master.self),
    async close(keepSandboxes) {
      await cluster.stop();
      // After a failure, what the executors wrote is worth a look (if any ran).
      if (keepSandboxes && hasSandboxes(workDir)) console.error(`${name}: the executors' sandboxes (stdout, stderr) are kept in ${workDir}`);
      else rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** Whether an agent under `workDir` made an executor's sandbox (`.../executors/<id>/runs/<container>`). */
function hasSandboxes(workDir: string): boolean {
  return readdirSync(workDir, { recursive: true, encoding: 'utf8' }).some((path) => path.split(sep).includes('executors'));
}

/** A reason the job cannot complete; the program prints it and exits 1. */
export class JobFailure extends Error {
  override readonly name = 'JobFailure';
}

/** A scheduler that knows when its work is done. */
export interface Job extends Scheduler {
  /** Resolves when the job is complete (its results printed); rejects with a `JobFailure` when it cannot be. */
  readonly done: Promise<void>;
  /** How far the job got, for the timeout message, e.g. `3 of 5 tasks reported`. */
  progress(): string;
}

/** The user a framework runs as, as Mesos's drivers default it: the current one. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'nobody';
  }
}

/**
 * Runs `job` as framework `name` on the cluster `options` say, until it is done, fails, times
 * out (`--timeout`) or is interrupted (SIGINT); then tears the framework down (its executors
 * are shut down) and stops the embedded cluster. Returns the exit code.
 */
export async function runJob(spec: ProgramSpec, options: CommonOptions, logger: Logger, job: Job): Promise<number> {
  let cluster: Cluster;
  try {
    cluster = await openCluster(spec.name, options, logger);
  } catch (error) {
    console.error(`${spec.name}: cannot start: ${(error as Error).message}`);
    return EXIT_FAILED;
  }
  const framework: FrameworkInfo = { user: currentUser(), name: `${spec.name} (mesos-ts example)` };
  const driver = new SchedulerDriver(job, framework, cluster.master, cluster.runtime !== undefined ? { runtime: cluster.runtime } : { logger });

  let timer: NodeJS.Timeout | undefined;
  let onSigint: (() => void) | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    // This timer also holds the event loop open while the runtime's own timers (which do not)
    // are all that is left to wait on.
    timer = setTimeout(() => reject(new JobFailure(`timed out after ${options.timeoutMs / 1000}s: ${job.progress()}`)), options.timeoutMs);
  });
  const interrupted = new Promise<never>((_, reject) => {
    onSigint = () => reject(new Interrupted('interrupted'));
    process.once('SIGINT', onSigint);
  });

  // Seen by the race below; this handler only keeps a failure before the race from counting as unhandled.
  job.done.catch(() => undefined);
  let code = EXIT_OK;
  try {
    await driver.start();
    await Promise.race([job.done, timedOut, interrupted]);
  } catch (error) {
    if (error instanceof Interrupted) {
      code = EXIT_INTERRUPTED;
      console.error(`${spec.name}: interrupted; tearing the framework down`);
    } else if (error instanceof JobFailure) {
      code = EXIT_FAILED;
      console.error(`${spec.name}: ${error.message}`);
    } else {
      throw error;
    }
  } finally {
    clearTimeout(timer);
    if (onSigint !== undefined) process.removeListener('SIGINT', onSigint);
  }
  // Without failover the master tears the framework down and its executors are shut down; a
  // driver that is not subscribed has nothing to tear down.
  if (driver.connectionState === 'SUBSCRIBED') await driver.stop();
  else await driver.abort();
  await cluster.close(code === EXIT_FAILED);
  return code;
}

class Interrupted extends Error {}
