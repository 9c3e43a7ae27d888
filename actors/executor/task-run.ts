import type { Container, ContainerExit, Containerizer } from '../agent/containerizer.ts';
import type { CheckInfo, CheckStatusInfo, HealthCheck, KillPolicy, TaskID, TaskInfo, TaskState, TaskStatus, TaskStatusReason } from '../../src/mesos/v1/common.ts';
import { DEFAULT_KILL_GRACE_PERIOD_MS } from './constants.ts';
import { Checker, emptyCheckStatus, HealthChecker } from './health-checker.ts';
import type { ExecutorDriver } from './executor-driver.ts';

/**
 * One task run as a process of its own by a built-in executor: the command executor runs one,
 * the default executor one per task of its groups. It is responsible for
 *
 * 1. running the task's `command` through a `Containerizer`, in its sandbox, as a real child
 *    process (stdout and stderr to files there), reporting `TASK_STARTING` before the launch and
 *    `TASK_RUNNING` once the process runs;
 * 2. reporting how the command ended: `TASK_FINISHED` on exit 0, `TASK_FAILED` otherwise
 *    ("Command exited with status 3", "Command terminated with signal Killed"), `TASK_KILLED`
 *    when it was killed;
 * 3. killing the task: `TASK_KILLING` (to a framework with the `TASK_KILLING_STATE`
 *    capability), SIGTERM to its process group, SIGKILL after the grace period; a later kill
 *    may shorten that grace period, never lengthen it; a task that runs past its
 *    `max_completion_time` is killed at once and fails (`REASON_MAX_COMPLETION_TIME_REACHED`);
 * 4. health checking the task (`TaskInfo.health_check`) while it runs, reporting its health in
 *    `TASK_RUNNING` updates and killing it after `consecutive_failures` failures in a row; and
 *    running its general check (`TaskInfo.check`), reporting each new result as `check_status`.
 *
 * Its executor decides what a task's end means for the executor (`onTerminated`).
 */

export interface TaskRunOptions {
  readonly task: TaskInfo;
  readonly containerizer: Containerizer;
  /** The container the task runs in. */
  readonly containerId: string;
  /** The task's sandbox: its working directory, with its `stdout` and `stderr`. */
  readonly sandbox: string;
  /** The task's environment before its command's own variables. */
  readonly env: Record<string, string>;
  /** The framework has `TASK_KILLING_STATE`: a kill is announced with `TASK_KILLING` first. */
  readonly killingState: boolean;
  readonly driver: ExecutorDriver;
  /** The task ended (or never ran): its terminal update, `state`, was sent. */
  readonly onTerminated: (run: TaskRun, state: TaskState) => void;
}

export class TaskRun {
  readonly task: TaskInfo;
  readonly containerId: string;
  readonly #options: TaskRunOptions;
  readonly #driver: ExecutorDriver;

  /** The process runs (or could not be started): signals can be sent. */
  #launched = false;
  /** A kill asked for while the process was being started: its grace period. */
  #pendingKillMs: number | undefined;
  #killed = false;
  /** When the first kill sent SIGTERM (Clock ms), and the grace period now in force. */
  #killStart = 0;
  #killGraceMs = 0;
  /** Our own SIGKILL escalation, armed when a later kill shortened the grace period. */
  #escalation: { cancel(): void } | undefined;
  /** The task's `max_completion_time` timer, until the task is killed or ends. */
  #completionTimer: { cancel(): void } | undefined;
  /** Killed because it ran past its `max_completion_time`: `TASK_FAILED`, not `TASK_KILLED`. */
  #killedByMaxCompletionTimer = false;
  /** The terminal update was sent. */
  #terminated: TaskState | undefined;
  /** The task's health checks (`TaskInfo.health_check`), while it runs and is not being killed. */
  #health: HealthChecker | undefined;
  /** The task's general check (`TaskInfo.check`), likewise. */
  #checker: Checker | undefined;
  /** The last health and check status reported: each kind of update carries the other's too, as Mesos's. */
  #lastHealthy: boolean | undefined;
  #lastCheckStatus: CheckStatusInfo | undefined;
  /** Killed for failing `consecutive_failures` health checks: its end says `healthy: false`. */
  #killedByHealthCheck = false;

  constructor(options: TaskRunOptions) {
    this.#options = options;
    this.#driver = options.driver;
    this.task = options.task;
    this.containerId = options.containerId;
  }

  get taskId(): TaskID {
    return this.task.task_id;
  }

  /** The terminal state reported, once the task ended. */
  get terminated(): TaskState | undefined {
    return this.#terminated;
  }

  /** Being killed (or killed): a kill was sent or is pending. */
  get killing(): boolean {
    return this.#killed || this.#pendingKillMs !== undefined;
  }

  /** Reports `TASK_STARTING` and starts the task's process. */
  start(): void {
    const driver = this.#driver;
    const task = this.task;
    this.#update('TASK_STARTING');
    const command = task.command;
    if (command?.value === undefined) {
      this._reaped(undefined, `Task '${task.task_id.value}' has no command to run`);
      return;
    }
    const maxCompletionNs = task.max_completion_time?.nanoseconds ?? 0;
    if (maxCompletionNs > 0) {
      const maxCompletionMs = maxCompletionNs / 1e6;
      driver.log.info({ task_id: task.task_id.value, max_completion_time_ms: maxCompletionMs }, 'Task has a maximum completion time');
      this.#completionTimer = driver._delay(maxCompletionMs, () => this.#completionTimeout(maxCompletionMs));
    }
    driver.log.info({ task_id: task.task_id.value, container_id: this.containerId }, 'Starting task');
    const launch = this.#options.containerizer.launch({ containerId: this.containerId, command, sandbox: this.#options.sandbox, env: this.#options.env });
    driver._continue(
      launch.catch((error: unknown) => (error as Error).message),
      (result) => (typeof result === 'string' ? this._reaped(undefined, result) : this._start(result)),
    );
  }

  /** The task's process runs, or could not be started. */
  _start(container: Container): void {
    const driver = this.#driver;
    this.#launched = true;
    if (container.error !== undefined) {
      this._reaped(undefined, container.error);
      return;
    }
    driver.log.info({ task_id: this.task.task_id.value, os_pid: container.pid }, 'Forked command');
    driver._continue(container.exited, (exit) => this._reaped(exit));
    if (this.#pendingKillMs !== undefined) {
      this.kill(this.#pendingKillMs);
      return;
    }
    const check = this.task.check;
    // A task with a check says so from its first TASK_RUNNING on, with no result yet (Mesos).
    if (check !== undefined) this.#lastCheckStatus = emptyCheckStatus(check);
    this.#update('TASK_RUNNING', this.#lastCheckStatus !== undefined ? { check_status: this.#lastCheckStatus } : {});
    if (this.task.health_check !== undefined) this.#health = this.#startHealthChecks(this.task.health_check);
    if (check !== undefined) this.#checker = this.#startChecks(check);
  }

  /** The task's environment, for its checks' commands: the executor's and the task command's own variables. */
  #checkEnvironment(): Record<string, string> {
    const env = { ...this.#options.env };
    for (const variable of this.task.command?.environment?.variables ?? []) if (variable.type !== 'SECRET') env[variable.name] = variable.value ?? '';
    return env;
  }

  /**
   * Runs the task's general check (`health-checker.ts` `Checker`), as Mesos's executors do: each
   * result that differs from the last is a `TASK_RUNNING` update with `check_status` (reason
   * `REASON_TASK_CHECK_STATUS_UPDATED`). It kills nothing.
   */
  #startChecks(check: CheckInfo): Checker {
    const driver = this.#driver;
    return new Checker({
      check,
      sandbox: this.#options.sandbox,
      env: this.#checkEnvironment(),
      cgroups: this.#options.containerizer.isolator?.procsFiles(this.containerId),
      delay: (ms, fn) => driver._delay(ms, fn),
      onStatus: (status) => {
        if (this.#terminated !== undefined || this.#killed) return;
        this.#lastCheckStatus = status;
        this.#update('TASK_RUNNING', {
          check_status: status,
          reason: 'REASON_TASK_CHECK_STATUS_UPDATED',
          ...(this.#lastHealthy !== undefined ? { healthy: this.#lastHealthy } : {}),
        });
      },
    });
  }

  /**
   * Health checks the task (`health-checker.ts`), as Mesos's executors do: every failure and the
   * first success after a start or failures is a `TASK_RUNNING` update with `healthy` (reason
   * `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`); `consecutive_failures` failures in a row kill the
   * task (with its kill policy), which then ends `TASK_KILLED` with `healthy: false`.
   */
  #startHealthChecks(check: HealthCheck): HealthChecker {
    const driver = this.#driver;
    const task = this.task;
    return new HealthChecker({
      check,
      sandbox: this.#options.sandbox,
      env: this.#checkEnvironment(),
      cgroups: this.#options.containerizer.isolator?.procsFiles(this.containerId),
      delay: (ms, fn) => driver._delay(ms, fn),
      now: () => driver._now(),
      log: (message) => driver.log.info({ task_id: task.task_id.value }, message),
      onHealth: (healthy, killTask, _failures, message) => {
        // A check that finished as the task ended says nothing more (Mesos: no TASK_RUNNING after the end).
        if (this.#terminated !== undefined || this.#killed) return;
        this.#lastHealthy = healthy;
        this.#update('TASK_RUNNING', {
          healthy,
          reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
          ...(message !== undefined ? { message } : {}),
          ...(this.#lastCheckStatus !== undefined ? { check_status: this.#lastCheckStatus } : {}),
        });
        if (!killTask) return;
        driver.log.warn({ task_id: task.task_id.value }, 'Killing task: it failed too many health checks in a row');
        this.#killedByHealthCheck = true;
        this.kill(killGracePeriodMs(undefined, task));
      },
    });
  }

  /**
   * A kill asked for by the framework (or on its behalf): within the kill's `kill_policy`, else
   * the task's, else `DEFAULT_KILL_GRACE_PERIOD_MS`. Its completion time no longer matters.
   */
  requestKill(killPolicy?: KillPolicy): void {
    // Killed: its completion time no longer matters (Mesos cancels the timer here).
    this.#completionTimer?.cancel();
    this.#completionTimer = undefined;
    const graceMs = killGracePeriodMs(killPolicy, this.task);
    this.#driver.log.info({ task_id: this.task.task_id.value, grace_period_ms: graceMs }, 'Received kill for task');
    this.kill(graceMs);
  }

  /**
   * Kills the task: SIGTERM now, SIGKILL `graceMs` later (as soon as it runs if it is still
   * starting). A task being killed already keeps the shorter of the two grace periods.
   */
  kill(graceMs: number): void {
    const driver = this.#driver;
    if (this.#terminated !== undefined) return;
    if (!this.#launched) {
      // Still starting: kill it as soon as it runs.
      this.#pendingKillMs = Math.min(graceMs, this.#pendingKillMs ?? graceMs);
      return;
    }
    const taskId = this.task.task_id.value;
    if (this.#killed) {
      // Being killed already. As Mesos's command executor, a later kill (a retry, a kill with
      // another policy, a shutdown) may only shorten the grace period, never lengthen it: a
      // retry is a no-op, and a shorter one escalates to SIGKILL at `start + graceMs`, at once
      // if that has passed.
      if (graceMs >= this.#killGraceMs) {
        driver.log.info({ task_id: taskId, grace_period_ms: this.#killGraceMs }, 'Ignoring kill: the task is being killed within a grace period no longer than this one');
        return;
      }
      this.#killGraceMs = graceMs;
      const remaining = Math.max(0, this.#killStart + graceMs - driver._now());
      driver.log.info({ task_id: taskId, remaining_ms: remaining }, 'Rescheduling escalation to SIGKILL');
      this.#escalation?.cancel();
      if (remaining === 0) this.#escalate();
      else this.#escalation = driver._delay(remaining, () => this.#escalate());
      return;
    }
    this.#killed = true;
    // A task being killed is no longer checked (Mesos pauses its checkers).
    this.#health?.stop();
    this.#checker?.stop();
    this.#killStart = driver._now();
    this.#killGraceMs = graceMs;
    // A task past its completion time was not killed by anyone: it fails, with no `TASK_KILLING`.
    if (this.#options.killingState && !this.#killedByMaxCompletionTimer) this.#update('TASK_KILLING');
    driver.log.info({ task_id: taskId, grace_period_ms: graceMs }, 'Sending SIGTERM to the process group, SIGKILL after the grace period');
    void this.#options.containerizer.destroy(this.containerId, graceMs);
  }

  /**
   * The task ran for its `max_completion_time`: it is killed at once (no grace period) and
   * reported `TASK_FAILED` with `REASON_MAX_COMPLETION_TIME_REACHED`, as Mesos's executors do.
   */
  #completionTimeout(maxCompletionMs: number): void {
    this.#completionTimer = undefined;
    if (this.#terminated !== undefined || this.#killed) return;
    this.#driver.log.info({ task_id: this.task.task_id.value, max_completion_time_ms: maxCompletionMs }, 'Killing task which exceeded its maximum completion time');
    this.#killedByMaxCompletionTimer = true;
    this.kill(0);
  }

  /** The shortened grace period is over: SIGKILL to the task's process group. */
  #escalate(): void {
    this.#escalation = undefined;
    if (this.#terminated !== undefined) return;
    this.#driver.log.info({ task_id: this.task.task_id.value, grace_period_ms: this.#killGraceMs }, 'Task did not terminate within the grace period, sending SIGKILL to its process group');
    this.#options.containerizer.kill(this.containerId, 'SIGKILL');
  }

  /** The task's process ended (`exit`), or never ran (`failure`). */
  _reaped(exit: ContainerExit | undefined, failure?: string): void {
    if (this.#terminated !== undefined) return;
    this.#health?.stop();
    this.#checker?.stop();
    this.#escalation?.cancel();
    this.#completionTimer?.cancel();
    this.#completionTimer = undefined;
    let state: TaskState;
    let reason: TaskStatusReason | undefined;
    let message: string;
    if (exit === undefined) {
      state = 'TASK_FAILED';
      reason = 'REASON_CONTAINER_LAUNCH_FAILED';
      message = `Failed to launch the command: ${failure ?? 'unknown error'}`;
    } else {
      message = `Command ${describeExit(exit)}`;
      if (exit.limitation !== undefined) {
        // The container ran into a limit (`cgroups/mem`: the kernel OOM-killed the command).
        state = 'TASK_FAILED';
        reason = exit.limitation.reason;
        message = exit.limitation.message;
      } else if (this.#killedByMaxCompletionTimer) {
        state = 'TASK_FAILED';
        reason = 'REASON_MAX_COMPLETION_TIME_REACHED';
      } else if (this.#killed) {
        state = 'TASK_KILLED';
      } else if (exit.status === 0) {
        state = 'TASK_FINISHED';
      } else {
        state = 'TASK_FAILED';
        reason = 'REASON_COMMAND_EXECUTOR_FAILED';
      }
    }
    this.#terminated = state;
    this.#driver.log.info({ task_id: this.task.task_id.value, state }, message);
    // Killed for failing health checks: its end says so (Mesos sets `healthy: false`).
    this.#update(state, { message, ...(reason !== undefined ? { reason } : {}), ...(this.#killedByHealthCheck && state === 'TASK_KILLED' ? { healthy: false } : {}) });
    this.#options.onTerminated(this, state);
  }

  #update(state: TaskState, extra: Partial<TaskStatus> = {}): void {
    this.#driver.sendStatusUpdate({ task_id: this.task.task_id, state, ...extra });
  }
}

/** The grace period of a kill: the kill's `kill_policy`, else the task's, else `DEFAULT_KILL_GRACE_PERIOD_MS`. */
export function killGracePeriodMs(killPolicy: KillPolicy | undefined, task: TaskInfo): number {
  const grace = killPolicy?.grace_period ?? task.kill_policy?.grace_period;
  return grace !== undefined ? grace.nanoseconds / 1e6 : DEFAULT_KILL_GRACE_PERIOD_MS;
}

/**
 * How a process ended, in the words of Mesos's `WSTRINGIFY`: `exited with status 3`,
 * `terminated with signal Killed` (the signal as `strsignal` describes it).
 */
export function describeExit(exit: ContainerExit): string {
  if (exit.signal !== null) return `terminated with signal ${SIGNAL_DESCRIPTIONS[exit.signal] ?? exit.signal}`;
  return `exited with status ${exit.code ?? exit.status}`;
}

/** `strsignal(3)` on Linux (glibc), for the signals that end processes. */
const SIGNAL_DESCRIPTIONS: Partial<Record<NodeJS.Signals, string>> = {
  SIGHUP: 'Hangup',
  SIGINT: 'Interrupt',
  SIGQUIT: 'Quit',
  SIGILL: 'Illegal instruction',
  SIGTRAP: 'Trace/breakpoint trap',
  SIGABRT: 'Aborted',
  SIGBUS: 'Bus error',
  SIGFPE: 'Floating point exception',
  SIGKILL: 'Killed',
  SIGUSR1: 'User defined signal 1',
  SIGSEGV: 'Segmentation fault',
  SIGUSR2: 'User defined signal 2',
  SIGPIPE: 'Broken pipe',
  SIGALRM: 'Alarm clock',
  SIGTERM: 'Terminated',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'File size limit exceeded',
};
