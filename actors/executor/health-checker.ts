import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { HEALTH_CHECK_DEFAULTS } from '../../src/mesos/health-check.ts';
import { commandShell, type HealthCheck } from '../../src/mesos/v1/task.ts';

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

export class HealthChecker {
  readonly #o: HealthCheckerOptions;
  readonly #start: number;
  #timer: { cancel(): void } | undefined;
  /** Aborts the check in progress (kills its command, closes its socket). */
  #abort: (() => void) | undefined;
  #stopped = false;
  /** No check has succeeded yet: failures within the grace period are ignored. */
  #initializing = true;
  #consecutiveFailures = 0;
  /** The last health reported, if any. */
  #healthy: boolean | undefined;

  constructor(options: HealthCheckerOptions) {
    this.#o = options;
    this.#start = options.now();
    this.#schedule(seconds(options.check.delay_seconds, HEALTH_CHECK_DEFAULTS.delaySeconds));
  }

  /** Stops checking (the task ended, or is being killed); a check in progress is aborted. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#abort?.();
    this.#abort = undefined;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.delay(ms, () => {
      this.#timer = undefined;
      this.#run();
    });
  }

  #run(): void {
    const check = this.#o.check;
    const timeoutMs = seconds(check.timeout_seconds, HEALTH_CHECK_DEFAULTS.timeoutSeconds);
    let settled = false;
    let timeout: { cancel(): void } | undefined;
    const done = (failure: string | undefined): void => {
      if (settled) return;
      settled = true;
      timeout?.cancel();
      this.#abort = undefined;
      if (this.#stopped) return;
      this.#o.onChecked?.(failure);
      if (failure === undefined) this.#success();
      else this.#failure(failure);
    };
    const abort = probe(check, this.#o.sandbox, this.#o.env, done);
    this.#abort = () => {
      settled = true;
      timeout?.cancel();
      abort();
    };
    if (timeoutMs > 0) {
      timeout = this.#o.delay(timeoutMs, () => {
        abort();
        done(`${check.type} health check timed out after ${timeoutMs / 1000}s`);
      });
    }
  }

  #success(): void {
    this.#initializing = false;
    const report = this.#healthy !== true;
    this.#consecutiveFailures = 0;
    this.#healthy = true;
    if (report) this.#o.onHealth(true, false, 0, undefined);
    this.#schedule(seconds(this.#o.check.interval_seconds, HEALTH_CHECK_DEFAULTS.intervalSeconds));
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
    this.#schedule(seconds(check.interval_seconds, HEALTH_CHECK_DEFAULTS.intervalSeconds));
  }
}

function seconds(value: number | undefined, fallback: number): number {
  return (value ?? fallback) * 1000;
}

/**
 * Runs one check; calls `done` with `undefined` (healthy) or why not, at most once. Returns
 * what aborts it (a timeout, or the checker stopped).
 */
function probe(check: HealthCheck, sandbox: string, env: Record<string, string>, done: (failure: string | undefined) => void): () => void {
  switch (check.type) {
    case 'COMMAND': {
      const command = check.command!;
      const shell = commandShell(command);
      const [file, args] = shell ? ['/bin/sh', ['-c', command.value!]] : [command.value!, (command.arguments ?? [command.value!]).slice(1)];
      const childEnv = { ...env };
      for (const variable of command.environment?.variables ?? []) if (variable.type !== 'SECRET') childEnv[variable.name] = variable.value ?? '';
      const child = spawn(file, args, { cwd: sandbox, env: childEnv, stdio: 'ignore', detached: true });
      child.on('error', (error) => done(`Failed to run the command health check: ${error.message}`));
      child.on('exit', (code, signal) => done(code === 0 ? undefined : `Command ${signal !== null ? `terminated with signal ${signal}` : `returned: exit status ${code}`}`));
      return () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      };
    }
    case 'HTTP': {
      const http = check.http!;
      const scheme = http.scheme ?? 'http';
      const path = http.path ?? '';
      const url = `${scheme}://127.0.0.1:${http.port}${path}`;
      const request = (scheme === 'https' ? httpsRequest : httpRequest)(url, { method: 'GET', rejectUnauthorized: false }, (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        done(status >= 200 && status <= 399 ? undefined : `Unexpected HTTP response code: ${status} (${url})`);
      });
      request.on('error', (error) => done(`HTTP health check of ${url} failed: ${error.message}`));
      request.end();
      return () => request.destroy();
    }
    case 'TCP': {
      const port = check.tcp!.port;
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        done(undefined);
      });
      socket.on('error', (error) => done(`TCP health check of 127.0.0.1:${port} failed: ${error.message}`));
      return () => socket.destroy();
    }
    default:
      done(`Unsupported health check type '${check.type}'`);
      return () => undefined;
  }
}
