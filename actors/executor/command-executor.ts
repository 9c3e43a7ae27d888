import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Container, ContainerExit, Containerizer } from '../agent/containerizer.ts';
import type {
  AgentInfo,
  ExecutorInfo,
  CheckInfo,
  CheckStatusInfo,
  FrameworkInfo,
  HealthCheck,
  KillPolicy,
  TaskID,
  TaskInfo,
  TaskState,
  TaskStatus,
  TaskStatusReason,
} from '../../src/mesos/v1/common.ts';
import { hasFrameworkCapability, isTerminalState } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import {
  DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS,
  DEFAULT_KILL_GRACE_PERIOD_MS,
  SHUTDOWN_KILL_BUFFER_MS,
  TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS,
} from './constants.ts';
import { MESOS_DIRECTORY, MESOS_SANDBOX } from './environment.ts';
import { Checker, emptyCheckStatus, HealthChecker } from './health-checker.ts';
import { ExecutorDriver, type DriverStatus, type Executor, type ExecutorDriverOptions } from './executor-driver.ts';

/**
 * Mesos's built-in command executor (`src/launcher/executor.cpp`), run through the executor
 * driver in the agent's own runtime. It is responsible for
 *
 * 1. running its one task's `command` through the agent's `Containerizer`, in the sandbox,
 *    as a real child process (stdout and stderr to files there), reporting `TASK_STARTING`
 *    before the launch and `TASK_RUNNING` once the process runs;
 * 2. reporting how the command ended: `TASK_FINISHED` on exit 0, `TASK_FAILED` otherwise
 *    ("Command exited with status 3", "Command terminated with signal Killed"), `TASK_KILLED`
 *    when it was killed;
 * 3. killing the task: `TASK_KILLING` (to a framework with the `TASK_KILLING_STATE`
 *    capability), SIGTERM to its process group, SIGKILL after the grace
 *    period (the kill's `kill_policy`, else the task's, else `DEFAULT_KILL_GRACE_PERIOD_MS`);
 *    a later kill (or shutdown) may shorten that grace period, never lengthen it;
 *    a task that runs past its `max_completion_time` is killed at once and fails
 *    (`REASON_MAX_COMPLETION_TIME_REACHED`);
 * 4. stopping once the agent acknowledged the terminal update; when shut down, killing the
 *    task within the executor's shutdown grace period and stopping once its end is reported;
 * 5. health checking the task (`TaskInfo.health_check`: `COMMAND`, `HTTP`, `TCP`) while it
 *    runs, reporting its health in `TASK_RUNNING` updates and killing it after
 *    `consecutive_failures` failures in a row; and running its general check (`TaskInfo.check`),
 *    reporting each new result as `check_status` (`health-checker.ts`).
 */

export interface CommandExecutorOptions {
  containerizer: Containerizer;
  /** The container the task runs in; default a random UUID. */
  containerId?: string;
  /** The task's environment before its command's own variables; default the agent's environment and the sandbox variables. */
  env?: Record<string, string>;
  /** How long the agent gives the executor to shut down; default `DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS`. */
  shutdownGracePeriodMs?: number;
}

export class CommandExecutor implements Executor {
  readonly containerId: string;
  readonly #containerizer: Containerizer;
  readonly #env: Record<string, string> | undefined;
  readonly #shutdownGracePeriodMs: number;

  #task: TaskInfo | undefined;
  /** The process runs (or could not be started): signals can be sent. */
  #launched = false;
  /** A kill asked for while the process was being started: its grace period. */
  #pendingKillMs: number | undefined;
  #killed = false;
  /**
   * The framework has the `TASK_KILLING_STATE` capability: a kill is announced with
   * `TASK_KILLING` first. Mesos's command executor sends it to those frameworks only; others do
   * not know the state.
   */
  #killingState = false;
  /** When the first kill sent SIGTERM (Clock ms), and the grace period now in force. */
  #killStart = 0;
  #killGraceMs = 0;
  /** Our own SIGKILL escalation, armed when a later kill shortened the grace period. */
  #escalation: { cancel(): void } | undefined;
  /** The task's `max_completion_time` timer, until the task is killed or ends. */
  #completionTimer: { cancel(): void } | undefined;
  /** Killed because it ran past its `max_completion_time`: `TASK_FAILED`, not `TASK_KILLED`. */
  #killedByMaxCompletionTimer = false;
  /** The process exited and the terminal update was sent. */
  #terminated = false;
  /** The agent asked the executor to shut down: it stops once the task's end is reported. */
  #shuttingDown = false;
  /** The task's health checks (`TaskInfo.health_check`), while it runs and is not being killed. */
  #health: HealthChecker | undefined;
  /** The task's general check (`TaskInfo.check`), likewise. */
  #checker: Checker | undefined;
  /** The last health and check status reported: each kind of update carries the other's too, as Mesos's. */
  #lastHealthy: boolean | undefined;
  #lastCheckStatus: CheckStatusInfo | undefined;
  /** Killed for failing `consecutive_failures` health checks: its end says `healthy: false`. */
  #killedByHealthCheck = false;
  #ackTimeout: { cancel(): void } | undefined;

  constructor(options: CommandExecutorOptions) {
    this.#containerizer = options.containerizer;
    this.containerId = options.containerId ?? randomUUID();
    this.#env = options.env;
    this.#shutdownGracePeriodMs = options.shutdownGracePeriodMs ?? DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS;
  }

  registered(driver: ExecutorDriver, _executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, agentInfo: AgentInfo): void {
    this.#killingState = hasFrameworkCapability(frameworkInfo, 'TASK_KILLING_STATE');
    driver.log.info({ hostname: agentInfo.hostname }, 'Command executor registered');
  }

  reregistered(driver: ExecutorDriver, agentInfo: AgentInfo): void {
    driver.log.info({ hostname: agentInfo.hostname }, 'Command executor re-registered');
  }

  disconnected(driver: ExecutorDriver): void {
    driver.log.info('Command executor disconnected from its agent');
  }

  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    if (this.#task !== undefined) {
      update(driver, task.task_id, 'TASK_FAILED', { message: 'Attempted to run multiple tasks using a "command" executor' });
      return;
    }
    this.#task = task;
    update(driver, task.task_id, 'TASK_STARTING');
    const command = task.command;
    if (command?.value === undefined) {
      this._reaped(driver, undefined, `Task '${task.task_id.value}' has no command to run`);
      return;
    }
    const maxCompletionNs = task.max_completion_time?.nanoseconds ?? 0;
    if (maxCompletionNs > 0) {
      const maxCompletionMs = maxCompletionNs / 1e6;
      driver.log.info({ task_id: task.task_id.value, max_completion_time_ms: maxCompletionMs }, 'Task has a maximum completion time');
      this.#completionTimer = driver._delay(maxCompletionMs, () => this.#completionTimeout(driver, maxCompletionMs));
    }
    driver.log.info({ task_id: task.task_id.value }, 'Starting task');
    const launch = this.#containerizer.launch({
      containerId: this.containerId,
      command,
      sandbox: driver.directory ?? '.',
      env: this.#env ?? defaultEnvironment(driver),
    });
    driver._continue(
      launch.catch((error: unknown) => (error as Error).message),
      (result) => (typeof result === 'string' ? this._reaped(driver, undefined, result) : this._launchTask(driver, result)),
    );
  }

  /** The task's process runs, or could not be started. */
  _launchTask(driver: ExecutorDriver, container: Container): void {
    const taskId = this.#task!.task_id;
    this.#launched = true;
    if (container.error !== undefined) {
      this._reaped(driver, undefined, container.error);
      return;
    }
    driver.log.info({ task_id: taskId.value, os_pid: container.pid }, 'Forked command');
    driver._continue(container.exited, (exit) => this._reaped(driver, exit));
    if (this.#pendingKillMs !== undefined) {
      this.#kill(driver, this.#pendingKillMs);
      return;
    }
    const check = this.#task!.check;
    // A task with a check says so from its first TASK_RUNNING on, with no result yet (Mesos).
    if (check !== undefined) this.#lastCheckStatus = emptyCheckStatus(check);
    update(driver, taskId, 'TASK_RUNNING', this.#lastCheckStatus !== undefined ? { check_status: this.#lastCheckStatus } : {});
    const healthCheck = this.#task!.health_check;
    if (healthCheck !== undefined) this.#health = this.#startHealthChecks(driver, healthCheck);
    if (check !== undefined) this.#checker = this.#startChecks(driver, check);
  }

  /** The task's environment, for its checks' commands: the executor's and the task command's own variables. */
  #checkEnvironment(driver: ExecutorDriver): Record<string, string> {
    const env = { ...(this.#env ?? defaultEnvironment(driver)) };
    for (const variable of this.#task!.command?.environment?.variables ?? []) if (variable.type !== 'SECRET') env[variable.name] = variable.value ?? '';
    return env;
  }

  /**
   * Runs the task's general check (`health-checker.ts` `Checker`), as Mesos's command executor:
   * each result that differs from the last is a `TASK_RUNNING` update with `check_status`
   * (reason `REASON_TASK_CHECK_STATUS_UPDATED`). It kills nothing.
   */
  #startChecks(driver: ExecutorDriver, check: CheckInfo): Checker {
    const task = this.#task!;
    return new Checker({
      check,
      sandbox: driver.directory ?? '.',
      env: this.#checkEnvironment(driver),
      cgroups: this.#containerizer.isolator?.procsFiles(this.containerId),
      delay: (ms, fn) => driver._delay(ms, fn),
      onStatus: (status) => {
        if (this.#terminated || this.#killed) return;
        this.#lastCheckStatus = status;
        update(driver, task.task_id, 'TASK_RUNNING', {
          check_status: status,
          reason: 'REASON_TASK_CHECK_STATUS_UPDATED',
          ...(this.#lastHealthy !== undefined ? { healthy: this.#lastHealthy } : {}),
        });
      },
    });
  }

  /**
   * Health checks the task (`health-checker.ts`), as Mesos's command executor: every failure and
   * the first success after a start or failures is a `TASK_RUNNING` update with `healthy` (reason
   * `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`); `consecutive_failures` failures in a row kill the
   * task (with its kill policy), which then ends `TASK_KILLED` with `healthy: false`.
   */
  #startHealthChecks(driver: ExecutorDriver, check: HealthCheck): HealthChecker {
    const task = this.#task!;
    return new HealthChecker({
      check,
      sandbox: driver.directory ?? '.',
      env: this.#checkEnvironment(driver),
      cgroups: this.#containerizer.isolator?.procsFiles(this.containerId),
      delay: (ms, fn) => driver._delay(ms, fn),
      now: () => driver._now(),
      log: (message) => driver.log.info({ task_id: task.task_id.value }, message),
      onHealth: (healthy, killTask, _failures, message) => {
        // A check that finished as the task ended says nothing more (Mesos: no TASK_RUNNING after the end).
        if (this.#terminated || this.#killed) return;
        this.#lastHealthy = healthy;
        update(driver, task.task_id, 'TASK_RUNNING', {
          healthy,
          reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
          ...(message !== undefined ? { message } : {}),
          ...(this.#lastCheckStatus !== undefined ? { check_status: this.#lastCheckStatus } : {}),
        });
        if (!killTask) return;
        driver.log.warn({ task_id: task.task_id.value }, 'Killing task: it failed too many health checks in a row');
        this.#killedByHealthCheck = true;
        const grace = task.kill_policy?.grace_period;
        this.#kill(driver, grace !== undefined ? grace.nanoseconds / 1e6 : DEFAULT_KILL_GRACE_PERIOD_MS);
      },
    });
  }

  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    if (this.#task === undefined || this.#task.task_id.value !== taskId.value) {
      driver.log.warn({ task_id: taskId.value }, 'Ignoring kill for an unknown task');
      return;
    }
    // Killed: its completion time no longer matters (Mesos cancels the timer here).
    this.#completionTimer?.cancel();
    this.#completionTimer = undefined;
    // The kill's policy takes precedence over the one the task was launched with.
    const grace = killPolicy?.grace_period ?? this.#task.kill_policy?.grace_period;
    const graceMs = grace !== undefined ? grace.nanoseconds / 1e6 : DEFAULT_KILL_GRACE_PERIOD_MS;
    driver.log.info({ task_id: taskId.value, grace_period_ms: graceMs }, 'Received kill for task');
    this.#kill(driver, graceMs);
  }

  frameworkMessage(): void {
    // The command executor has no use for framework messages, as in Mesos.
  }

  shutdown(driver: ExecutorDriver): void {
    driver.log.info('Shutting down');
    this.#shuttingDown = true;
    if (this.#task === undefined || this.#terminated) {
      driver.stop();
      return;
    }
    // Leave a little of the grace period to send `TASK_KILLED` before the agent destroys the container.
    this.#kill(driver, Math.max(0, this.#shutdownGracePeriodMs - SHUTDOWN_KILL_BUFFER_MS));
  }

  error(driver: ExecutorDriver, message: string): void {
    driver.log.error({ message }, 'Command executor error');
  }

  acknowledged(driver: ExecutorDriver, status: TaskStatus): void {
    if (this.#terminated && isTerminalState(status.state) && status.task_id.value === this.#task?.task_id.value) {
      this.#ackTimeout?.cancel();
      driver.log.info({ task_id: status.task_id.value, state: status.state }, 'Terminal update acknowledged, stopping');
      driver.stop();
    }
  }

  #kill(driver: ExecutorDriver, graceMs: number): void {
    if (this.#terminated) return;
    if (!this.#launched) {
      // Still starting: kill it as soon as it runs.
      this.#pendingKillMs = Math.min(graceMs, this.#pendingKillMs ?? graceMs);
      return;
    }
    const taskId = this.#task!.task_id.value;
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
      if (remaining === 0) this.#escalate(driver);
      else this.#escalation = driver._delay(remaining, () => this.#escalate(driver));
      return;
    }
    this.#killed = true;
    // A task being killed is no longer checked (Mesos pauses its checkers).
    this.#health?.stop();
    this.#checker?.stop();
    this.#killStart = driver._now();
    this.#killGraceMs = graceMs;
    // A task past its completion time was not killed by anyone: it fails, with no `TASK_KILLING`.
    if (this.#killingState && !this.#killedByMaxCompletionTimer) update(driver, this.#task!.task_id, 'TASK_KILLING');
    driver.log.info({ task_id: taskId, grace_period_ms: graceMs }, 'Sending SIGTERM to the process group, SIGKILL after the grace period');
    void this.#containerizer.destroy(this.containerId, graceMs);
  }

  /**
   * The task ran for its `max_completion_time`: it is killed at once (no grace period) and
   * reported `TASK_FAILED` with `REASON_MAX_COMPLETION_TIME_REACHED`, as Mesos's command
   * executor does.
   */
  #completionTimeout(driver: ExecutorDriver, maxCompletionMs: number): void {
    this.#completionTimer = undefined;
    if (this.#terminated || this.#killed) return;
    driver.log.info({ task_id: this.#task!.task_id.value, max_completion_time_ms: maxCompletionMs }, 'Killing task which exceeded its maximum completion time');
    this.#killedByMaxCompletionTimer = true;
    this.#kill(driver, 0);
  }

  /** The shortened grace period is over: SIGKILL to the task's process group. */
  #escalate(driver: ExecutorDriver): void {
    this.#escalation = undefined;
    if (this.#terminated) return;
    driver.log.info({ task_id: this.#task!.task_id.value, grace_period_ms: this.#killGraceMs }, 'Task did not terminate within the grace period, sending SIGKILL to its process group');
    this.#containerizer.kill(this.containerId, 'SIGKILL');
  }

  /** The task's process ended (`exit`), or never ran (`failure`). */
  _reaped(driver: ExecutorDriver, exit: ContainerExit | undefined, failure?: string): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#health?.stop();
    this.#checker?.stop();
    this.#escalation?.cancel();
    this.#completionTimer?.cancel();
    this.#completionTimer = undefined;
    const taskId = this.#task!.task_id;
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
    driver.log.info({ task_id: taskId.value, state }, message);
    // Killed for failing health checks: its end says so (Mesos sets `healthy: false`).
    update(driver, taskId, state, { message, ...(reason !== undefined ? { reason } : {}), ...(this.#killedByHealthCheck && state === 'TASK_KILLED' ? { healthy: false } : {}) });
    if (this.#shuttingDown) {
      // An agent that shuts its executors down does not wait for them to hear acknowledgements
      // (it drops the updates of a framework it shuts down); the update is sent before the
      // driver stops, and the agent's status update manager has it once it arrives.
      driver.stop();
      return;
    }
    // Stop on the acknowledgement; stop anyway if none comes.
    this.#ackTimeout = driver._delay(TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS, () => {
      driver.log.warn('Did not receive the acknowledgement of the terminal status update, stopping');
      driver.stop();
    });
  }
}

function update(driver: ExecutorDriver, taskId: TaskID, state: TaskState, extra: Partial<TaskStatus> = {}): void {
  driver.sendStatusUpdate({ task_id: taskId, state, ...extra });
}

/** The agent's environment plus the sandbox variables, as a Mesos task inherits its executor's. */
function defaultEnvironment(driver: ExecutorDriver): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  const directory = driver.directory ?? '.';
  env[MESOS_SANDBOX] = directory;
  env[MESOS_DIRECTORY] = directory;
  return env;
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

/**
 * The command executor as a program of its own (`command-executor-main.ts`), which an agent runs
 * in a container for a checkpointing framework's command task, so that the task outlives an
 * agent restart, as Mesos's `mesos-executor`.
 */
export const COMMAND_EXECUTOR_MAIN = fileURLToPath(new URL('./command-executor-main.ts', import.meta.url));

/** The driver's options (the sandbox is where the task runs) and the command executor's own. */
export interface LaunchCommandExecutorOptions extends CommandExecutorOptions, ExecutorDriverOptions {}

export interface CommandExecutorHandle {
  /** The executor's UPID (`executor(n)@<agent node>`): it registers from there; link to it to learn when it stops. */
  readonly pid: UPID;
  /** The container its task runs in (for `Containerizer.destroy`). */
  readonly containerId: string;
  readonly driver: ExecutorDriver;
  readonly executor: CommandExecutor;
  /** Resolves when the driver stops (after the terminal update is acknowledged) or aborts. */
  readonly done: Promise<DriverStatus>;
}

/**
 * Starts a command executor in the agent's runtime. It registers with `agent` at once
 * (`RegisterExecutorMessage` from `pid`) and runs the task of the first `RunTaskMessage`.
 *
 * @example
 * const handle = launchCommandExecutor({
 *   runtime: this.runtime, agent: this.self, frameworkId, executorId: { value: task.task_id.value },
 *   directory: sandbox, containerizer: this.containerizer,
 * });
 * this.link(handle.pid);
 */
export function launchCommandExecutor(options: LaunchCommandExecutorOptions): CommandExecutorHandle {
  const executor = new CommandExecutor(options);
  const driver = new ExecutorDriver(executor, {
    runtime: options.runtime,
    agent: options.agent,
    frameworkId: options.frameworkId,
    executorId: options.executorId,
    directory: options.directory,
    ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
    ...(options.recoveryTimeoutMs !== undefined ? { recoveryTimeoutMs: options.recoveryTimeoutMs } : {}),
    ...(options.uuidSource !== undefined ? { uuidSource: options.uuidSource } : {}),
  });
  // In the agent's runtime `start` spawns the process before it returns its promise.
  const started = driver.start();
  const pid = driver.pid;
  if (pid === undefined) throw new Error('command executor did not start');
  return { pid, containerId: executor.containerId, driver, executor, done: started.then(() => driver.join()) };
}
