import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { HEALTH_CHECK_DEFAULTS } from '../../src/mesos/health-check.ts';
import { joinCgroupsArgv } from '../agent/isolation.ts';
import { commandShell, type CheckInfo, type CheckStatusInfo, type CommandInfo, type HealthCheck } from '../../src/mesos/v1/task.ts';

/**
 * Mesos-native health checks of a task (Mesos 1.2's `HealthChecker`, `src/checks`), as the
 * built-in command executor runs them for a task that has `TaskInfo.health_check`:
 *
 * - `COMMAND`: the command runs in the task's sandbox with the task's environment; exit 0 is
 *   healthy, anything else (or a timeout) is not;
 * - `HTTP`: `GET <scheme>://127.0.0.1:<port><path>` (the host is always loopback, as in Mesos);
 *   a status from 200 to 399 is healthy (`statuses` is ignored, as by Mesos's built-in executors);
 * - `TCP`: a connection to `127.0.0.1:<port>` is healthy.
 *
 * The first check runs `delay_seconds` (15) after the task started, the next ones every
 * `interval_seconds` (10), each given `timeout_seconds` (20). A failure within
 * `grace_period_seconds` (10) of the start is ignored until a check has succeeded once. The
 * checker reports every failure and the first success after a start or a failure
 * (`onHealth(healthy, killTask)`); `killTask` says `consecutive_failures` (3) failures in a
 * row were reached (the executor then kills the task). Time is the caller's Clock (`delay`,
 * `now`); the checks themselves are real processes and sockets.
 */

export interface HealthCheckerOptions {
  readonly check: HealthCheck;
  /** The task's sandbox and environment, for a `COMMAND` check. */
  readonly sandbox: string;
  readonly env: Record<string, string>;
  /** The task's container's `cgroup.procs` files, which a `COMMAND` check joins first (`cgroups/*` isolation). */
  readonly cgroups?: readonly string[] | undefined;
  /** The caller's Clock. */
  readonly delay: (ms: number, fn: () => void) => { cancel(): void };
  readonly now: () => number;
  /** A check's outcome worth reporting: every failure, the first success after a start or failures. */
  readonly onHealth: (healthy: boolean, killTask: boolean, consecutiveFailures: number, message: string | undefined) => void;
  /** Logs a check that failed (why) or was ignored in the grace period. */
  readonly log?: (message: string) => void;
  /** After every check, whatever its outcome (`undefined`: healthy), before the next is scheduled. */
  readonly onChecked?: (failure: string | undefined) => void;
}

/**
 * What both checkers keep: the timer to the next probe, the probe in progress, and whether they
 * were stopped (the task ended, or is being killed), after which nothing more runs.
 */
abstract class Probing {
  #timer: { cancel(): void } | undefined;
  /** Aborts the probe in progress (kills its command, closes its socket). */
  protected abort: (() => void) | undefined;
  protected stopped = false;

  constructor(private readonly delay: (ms: number, fn: () => void) => { cancel(): void }) {}

  /** Stops checking; a probe in progress is aborted. */
  stop(): void {
    this.stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.abort?.();
    this.abort = undefined;
  }

  /** Runs the next probe `ms` from now (on the caller's Clock), unless stopped. */
  protected schedule(ms: number): void {
    if (this.stopped) return;
    this.#timer = this.delay(ms, () => {
      this.#timer = undefined;
      this.run();
    });
  }

  protected abstract run(): void;
}

export class HealthChecker extends Probing {
  readonly #o: HealthCheckerOptions;
  readonly #start: number;
  /** No check has succeeded yet: failures within the grace period are ignored. */
  #initializing = true;
  #consecutiveFailures = 0;
  /** The last health reported, if any. */
  #healthy: boolean | undefined;

  constructor(options: HealthCheckerOptions) {
    super(options.delay);
    this.#o = options;
    this.#start = options.now();
    this.schedule(seconds(options.check.delay_seconds, HEALTH_CHECK_DEFAULTS.delaySeconds));
  }

  protected run(): void {
    const check = this.#o.check;
    const timeoutMs = seconds(check.timeout_seconds, HEALTH_CHECK_DEFAULTS.timeoutSeconds);
    this.abort = timedProbe(probeSpec(check), 'health check', this.#o, timeoutMs, (outcome) => {
      this.abort = undefined;
      if (this.stopped) return;
      const failure = outcome === undefined ? `${check.type} health check timed out after ${timeoutMs / 1000}s` : outcome.failure;
      this.#o.onChecked?.(failure);
      if (failure === undefined) this.#success();
      else this.#failure(failure);
    });
  }

  #success(): void {
    this.#initializing = false;
    const report = this.#healthy !== true;
    this.#consecutiveFailures = 0;
    this.#healthy = true;
    if (report) this.#o.onHealth(true, false, 0, undefined);
    this.schedule(seconds(this.#o.check.interval_seconds, HEALTH_CHECK_DEFAULTS.intervalSeconds));
  }

  #failure(message: string): void {
    const check = this.#o.check;
    const graceMs = seconds(check.grace_period_seconds, HEALTH_CHECK_DEFAULTS.gracePeriodSeconds);
    if (this.#initializing && graceMs > 0 && this.#o.now() - this.#start <= graceMs) {
      this.#o.log?.(`Ignoring failure of ${check.type} health check: still in grace period (${message})`);
    } else {
      this.#consecutiveFailures++;
      this.#healthy = false;
      const limit = check.consecutive_failures ?? HEALTH_CHECK_DEFAULTS.consecutiveFailures;
      this.#o.log?.(`${check.type} health check failed ${this.#consecutiveFailures} times consecutively: ${message}`);
      this.#o.onHealth(false, this.#consecutiveFailures >= limit, this.#consecutiveFailures, message);
    }
    this.schedule(seconds(check.interval_seconds, HEALTH_CHECK_DEFAULTS.intervalSeconds));
  }
}

function seconds(value: number | undefined, fallback: number): number {
  return (value ?? fallback) * 1000;
}

/** What one probe runs: a health check's or a general check's command, HTTP GET or TCP connection. */
interface ProbeSpec {
  readonly type: string | undefined;
  readonly command?: CommandInfo | undefined;
  readonly http?: { readonly scheme?: string | undefined; readonly port: number; readonly path?: string | undefined } | undefined;
  readonly tcp?: { readonly port: number } | undefined;
}

/** How one probe went: why it failed (none: it succeeded), and what it saw. */
interface ProbeOutcome {
  readonly failure?: string;
  readonly exitCode?: number;
  readonly statusCode?: number;
  readonly connected?: boolean;
}

/**
 * Runs one probe within `timeoutMs` of the caller's Clock (0: no limit): `done` gets how it went,
 * or `undefined` if it timed out (the probe is then aborted), at most once. Returns what aborts
 * it without calling `done` (the checker stopped).
 */
function timedProbe(
  spec: ProbeSpec,
  what: string,
  where: {
    readonly sandbox: string;
    readonly env: Record<string, string>;
    readonly cgroups?: readonly string[] | undefined;
    readonly delay: (ms: number, fn: () => void) => { cancel(): void };
  },
  timeoutMs: number,
  done: (outcome: ProbeOutcome | undefined) => void,
): () => void {
  let settled = false;
  let timeout: { cancel(): void } | undefined;
  const finish = (outcome: ProbeOutcome | undefined): void => {
    if (settled) return;
    settled = true;
    timeout?.cancel();
    done(outcome);
  };
  const abort = probe(spec, what, where, finish);
  if (timeoutMs > 0 && !settled) {
    timeout = where.delay(timeoutMs, () => {
      abort();
      finish(undefined);
    });
  }
  return () => {
    settled = true;
    timeout?.cancel();
    abort();
  };
}

function probeSpec(check: HealthCheck): ProbeSpec {
  return { type: check.type, command: check.command, http: check.http, tcp: check.tcp };
}

/**
 * Runs one probe (`what` names it in messages: 'health check', 'check'); calls `done` with
 * how it went, at most once. Returns what aborts it (a timeout, or the checker stopped).
 */
function probe(
  spec: ProbeSpec,
  what: string,
  { sandbox, env, cgroups }: { readonly sandbox: string; readonly env: Record<string, string>; readonly cgroups?: readonly string[] | undefined },
  done: (outcome: ProbeOutcome) => void,
): () => void {
  switch (spec.type) {
    case 'COMMAND': {
      const command = spec.command!;
      const shell = commandShell(command);
      const [file, args] = shell ? ['/bin/sh', ['-c', command.value!]] : [command.value!, (command.arguments ?? [command.value!]).slice(1)];
      const childEnv = { ...env };
      for (const variable of command.environment?.variables ?? []) if (variable.type !== 'SECRET') childEnv[variable.name] = variable.value ?? '';
      // In the task's cgroups, as Mesos runs a check in the task's container: what it uses is the task's.
      const run = cgroups !== undefined && cgroups.length > 0 ? joinCgroupsArgv(cgroups, file, [file, ...args]) : { file, argv: [file, ...args] };
      const child = spawn(run.file, run.argv.slice(1), { argv0: run.argv[0], cwd: sandbox, env: childEnv, stdio: 'ignore', detached: true });
      child.on('error', (error) => done({ failure: `Failed to run the command ${what}: ${error.message}` }));
      child.on('exit', (code, signal) => {
        const failure = code === 0 ? undefined : `Command ${signal !== null ? `terminated with signal ${signal}` : `returned: exit status ${code}`}`;
        done({ ...(failure !== undefined ? { failure } : {}), ...(code !== null ? { exitCode: code } : {}) });
      });
      return () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      };
    }
    case 'HTTP': {
      const http = spec.http!;
      const scheme = http.scheme ?? 'http';
      const path = http.path ?? '';
      const url = `${scheme}://127.0.0.1:${http.port}${path}`;
      const request = (scheme === 'https' ? httpsRequest : httpRequest)(url, { method: 'GET', rejectUnauthorized: false }, (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        done(status >= 200 && status <= 399 ? { statusCode: status } : { failure: `Unexpected HTTP response code: ${status} (${url})`, statusCode: status });
      });
      request.on('error', (error) => done({ failure: `HTTP ${what} of ${url} failed: ${error.message}` }));
      request.end();
      return () => request.destroy();
    }
    case 'TCP': {
      const port = spec.tcp!.port;
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        done({ connected: true });
      });
      socket.on('error', (error) => done({ failure: `TCP ${what} of 127.0.0.1:${port} failed: ${error.message}`, connected: false }));
      return () => socket.destroy();
    }
    default:
      done({ failure: `Unsupported ${what} type '${spec.type}'` });
      return () => undefined;
  }
}

/** Mesos's `CheckInfo` defaults (`mesos.proto`). */
export const CHECK_DEFAULTS = { delaySeconds: 15, intervalSeconds: 10, timeoutSeconds: 20 } as const;

/** A check's status before any result, with the field of its type left empty (what TASK_RUNNING carries first). */
export function emptyCheckStatus(check: CheckInfo): CheckStatusInfo {
  switch (check.type) {
    case 'COMMAND':
      return { type: 'COMMAND', command: {} };
    case 'HTTP':
      return { type: 'HTTP', http: {} };
    case 'TCP':
      return { type: 'TCP', tcp: {} };
    default:
      return check.type !== undefined ? { type: check.type } : {};
  }
}

export interface CheckerOptions {
  readonly check: CheckInfo;
  /** The task's sandbox and environment, for a `COMMAND` check. */
  readonly sandbox: string;
  readonly env: Record<string, string>;
  /** The task's container's `cgroup.procs` files, which a `COMMAND` check joins first (`cgroups/*` isolation). */
  readonly cgroups?: readonly string[] | undefined;
  /** The caller's Clock. */
  readonly delay: (ms: number, fn: () => void) => { cancel(): void };
  /** A result that differs from the last one reported (the first differs from the empty status). */
  readonly onStatus: (status: CheckStatusInfo) => void;
  /** After every check, with its status, before the next is scheduled. */
  readonly onChecked?: (status: CheckStatusInfo) => void;
}

/**
 * A general check (Mesos 1.2's checks, `TaskInfo.check`): probed as a health check is (a
 * command, an HTTP GET of `127.0.0.1:<port><path>`, a TCP connection), first `delay_seconds`
 * (15) after the task started, then every `interval_seconds` (10), each within
 * `timeout_seconds` (20). Unlike a health check it interprets nothing and kills nothing: each
 * result that differs from the last reported is handed on (`onStatus`) as a `CheckStatusInfo`
 * (a command's `exit_code`, an HTTP response's `status_code`, a TCP connection's `succeeded`);
 * a check that timed out or could not run leaves its field empty.
 */
export class Checker extends Probing {
  readonly #o: CheckerOptions;
  /** The last status reported, as JSON (first the empty one, which the task's TASK_RUNNING carries). */
  #last: string;

  constructor(options: CheckerOptions) {
    super(options.delay);
    this.#o = options;
    this.#last = JSON.stringify(emptyCheckStatus(options.check));
    this.schedule(seconds(options.check.delay_seconds, CHECK_DEFAULTS.delaySeconds));
  }

  protected run(): void {
    const check = this.#o.check;
    const spec: ProbeSpec = { type: check.type, command: check.command?.command, http: check.http, tcp: check.tcp };
    this.abort = timedProbe(spec, 'check', this.#o, seconds(check.timeout_seconds, CHECK_DEFAULTS.timeoutSeconds), (outcome) => {
      this.abort = undefined;
      if (this.stopped) return;
      const status = checkStatus(check, outcome);
      this.#o.onChecked?.(status);
      const text = JSON.stringify(status);
      if (text !== this.#last) {
        this.#last = text;
        this.#o.onStatus(status);
      }
      this.schedule(seconds(check.interval_seconds, CHECK_DEFAULTS.intervalSeconds));
    });
  }
}

/** The status of one check's outcome (`undefined`: it timed out). */
function checkStatus(check: CheckInfo, outcome: ProbeOutcome | undefined): CheckStatusInfo {
  const status = emptyCheckStatus(check);
  if (outcome === undefined) return status;
  if (status.command !== undefined && outcome.exitCode !== undefined) status.command.exit_code = outcome.exitCode;
  if (status.http !== undefined && outcome.statusCode !== undefined) status.http.status_code = outcome.statusCode;
  if (status.tcp !== undefined && outcome.connected !== undefined) status.tcp.succeeded = outcome.connected;
  return status;
}
