import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KillPolicy, TaskGroupInfo, TaskID, TaskInfo, TaskState, TaskStatus } from '../../src/mesos/v1/common.ts';
import { isTerminalState } from '../../src/mesos/v1/common.ts';
import { BuiltinExecutor, launchInAgentRuntime, type BuiltinExecutorHandle, type BuiltinExecutorOptions } from './builtin-executor.ts';
import { defaultEnvironment, type LaunchCommandExecutorOptions } from './command-executor.ts';
import { SHUTDOWN_KILL_BUFFER_MS, TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS } from './constants.ts';
import { MESOS_SANDBOX } from './environment.ts';
import { ExecutorDriver } from './executor-driver.ts';
import { killGracePeriodMs, TaskRun } from './task-run.ts';

/**
 * Mesos's default executor (`src/launcher/default_executor.cpp`, Mesos 1.1+): the executor of
 * `ExecutorInfo.type` DEFAULT, which runs task groups (LAUNCH_GROUP). Like the command executor
 * it runs through the executor driver, in the agent's runtime, or in a process of its own for a
 * checkpointing framework (`default-executor-main.ts`). It is responsible for
 *
 * 1. running every task of each group it is given (several groups, as they come) as a process
 *    of its own (`task-run.ts`: `TASK_STARTING`, `TASK_RUNNING`, then a terminal update with
 *    how the command ended; health checks and checks; kills with the task's `kill_policy`), in a
 *    container nested in the executor's (`<container id>.<uuid>`), with a sandbox of its own,
 *    `<executor sandbox>/tasks/<task id>` (its `MESOS_SANDBOX`; the executor's sandbox is the
 *    tasks' to share, as `MESOS_DIRECTORY`);
 * 2. a group's restart policy, Mesos's: when a task of a group fails, or is killed other than
 *    by a request (a failing health check), every other task of that group is killed
 *    (`TASK_KILLED`); a single task (LAUNCH) is a group of its own;
 * 3. a KILL of one task killing its whole group, as Mesos's default executor does: that task
 *    within the kill's `kill_policy`, the others within their own;
 * 4. stopping once it has no task left and every terminal update was acknowledged (or
 *    `TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS` after the last task ended); when shut down, killing
 *    every task within the shutdown grace period and stopping once their ends are sent.
 */

export type DefaultExecutorOptions = BuiltinExecutorOptions;

/** The tasks of one LAUNCH_GROUP, and whether the group is being killed (its restart policy ran, or a KILL came). */
interface Group {
  readonly runs: TaskRun[];
  killing: boolean;
}

export class DefaultExecutor extends BuiltinExecutor {

  /** Every task launched, by task id, with its group. */
  readonly #tasks = new Map<string, { run: TaskRun; group: Group }>();
  /** Tasks whose terminal update the agent has not acknowledged yet. */
  readonly #unacknowledged = new Set<string>();
  #shuttingDown = false;
  #ackTimeout: { cancel(): void } | undefined;

  constructor(options: DefaultExecutorOptions) {
    super('Default executor', options);
  }



  launchTaskGroup(driver: ExecutorDriver, taskGroup: TaskGroupInfo): void {
    const tasks = taskGroup.tasks ?? [];
    const group: Group = { runs: [], killing: false };
    for (const task of tasks) {
      if (this.#tasks.has(task.task_id.value)) {
        // The agent sends a task once; a second task of that id is refused rather than run twice.
        driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FAILED', message: `Task '${task.task_id.value}' is already running in this executor` });
        continue;
      }
      group.runs.push(this.#newRun(driver, task));
    }
    if (group.runs.length === 0) return;
    // A task to run: the executor is not done after all.
    this.#ackTimeout?.cancel();
    this.#ackTimeout = undefined;
    driver.log.info({ task_ids: group.runs.map((r) => r.taskId.value) }, 'Launching task group');
    for (const run of group.runs) this.#tasks.set(run.taskId.value, { run, group });
    for (const run of group.runs) run.start();
  }

  /** A single task (LAUNCH): a group of its own. */
  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    this.launchTaskGroup(driver, { tasks: [task] });
  }

  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    const entry = this.#tasks.get(taskId.value);
    if (entry === undefined || entry.run.terminated !== undefined) {
      driver.log.warn({ task_id: taskId.value }, 'Ignoring kill for a task that is unknown or ended');
      return;
    }
    const { run, group } = entry;
    group.killing = true;
    const others = group.runs.filter((r) => r !== run && r.terminated === undefined);
    driver.log.info({ task_id: taskId.value, task_ids: others.map((r) => r.taskId.value) }, 'Killing task group: one of its tasks was asked to be killed');
    run.requestKill(killPolicy);
    for (const other of others) other.kill(killGracePeriodMs(undefined, other.task));
  }

  frameworkMessage(): void {
    // The default executor has no use for framework messages, as in Mesos.
  }

  shutdown(driver: ExecutorDriver): void {
    driver.log.info('Shutting down');
    this.#shuttingDown = true;
    this.#ackTimeout?.cancel();
    this.#ackTimeout = undefined;
    const live = this.#live();
    if (live.length === 0) {
      driver.stop();
      return;
    }
    // Leave a little of the grace period to send `TASK_KILLED` before the agent destroys the container.
    const graceMs = Math.max(0, this.shutdownGracePeriodMs - SHUTDOWN_KILL_BUFFER_MS);
    for (const { run, group } of live) {
      group.killing = true;
      run.kill(graceMs);
    }
  }

  error(driver: ExecutorDriver, message: string): void {
    driver.log.error({ message }, 'Default executor error');
  }

  acknowledged(driver: ExecutorDriver, status: TaskStatus): void {
    if (!isTerminalState(status.state) || !this.#unacknowledged.delete(status.task_id.value)) return;
    this.#stopIfDone(driver);
  }

  #newRun(driver: ExecutorDriver, task: TaskInfo): TaskRun {
    const sandbox = join(driver.directory ?? '.', 'tasks', task.task_id.value);
    return new TaskRun({
      task,
      containerizer: this.containerizer,
      containerId: `${this.containerId}.${randomUUID()}`,
      sandbox,
      env: { ...(this.env ?? defaultEnvironment(driver)), [MESOS_SANDBOX]: sandbox },
      killingState: this.killingState,
      driver,
      onTerminated: (run, state) => this.#taskTerminated(driver, run, state),
    });
  }

  /** The tasks that have not ended. */
  #live(): { run: TaskRun; group: Group }[] {
    return [...this.#tasks.values()].filter(({ run }) => run.terminated === undefined);
  }

  /**
   * A task ended. Unless its group is being killed already, a task that did not finish (it
   * failed, or was killed by no request) has the rest of its group killed (Mesos's restart
   * policy for task groups).
   */
  #taskTerminated(driver: ExecutorDriver, run: TaskRun, state: TaskState): void {
    this.#unacknowledged.add(run.taskId.value);
    const group = this.#tasks.get(run.taskId.value)!.group;
    if (state !== 'TASK_FINISHED' && !group.killing) {
      group.killing = true;
      const others = group.runs.filter((r) => r !== run && r.terminated === undefined);
      if (others.length > 0) {
        driver.log.info({ task_id: run.taskId.value, state, task_ids: others.map((r) => r.taskId.value) }, 'Killing task group: one of its tasks did not finish');
        for (const other of others) other.kill(killGracePeriodMs(undefined, other.task));
      }
    }
    this.#stopIfDone(driver);
  }

  /** No task left: stop, once every terminal update is acknowledged (at once when shut down). */
  #stopIfDone(driver: ExecutorDriver): void {
    if (this.#live().length > 0) return;
    if (this.#shuttingDown) {
      // As the command executor: the agent shutting it down does not wait for acknowledgements.
      driver.stop();
      return;
    }
    if (this.#unacknowledged.size === 0) {
      this.#ackTimeout?.cancel();
      driver.log.info('No task left and every terminal update acknowledged, stopping');
      driver.stop();
      return;
    }
    this.#ackTimeout ??= driver._delay(TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS, () => {
      this.#ackTimeout = undefined;
      if (this.#live().length > 0) return;
      driver.log.warn({ task_ids: [...this.#unacknowledged] }, 'Did not receive the acknowledgement of every terminal status update, stopping');
      driver.stop();
    });
  }
}

/**
 * The default executor as a program of its own (`default-executor-main.ts`), which an agent runs
 * in a container for a checkpointing framework's task groups, so that they outlive an agent
 * restart.
 */
export const DEFAULT_EXECUTOR_MAIN = fileURLToPath(new URL('./default-executor-main.ts', import.meta.url));

/** A default executor in the agent's runtime, and how to reach it. */
export type DefaultExecutorHandle = BuiltinExecutorHandle<DefaultExecutor>;

/**
 * Starts a default executor in the agent's runtime (the agent's launcher of built-in
 * executors takes it as it takes `launchCommandExecutor`). It registers with `agent` at once and
 * runs the groups of the `RunTaskGroupMessage`s it gets.
 *
 * @example
 * const handle = launchDefaultExecutor({
 *   runtime: this.runtime, agent: this.self, frameworkId, executorId: info.executor_id,
 *   directory: sandbox, containerizer: this.containerizer, containerId,
 * });
 * this.link(handle.pid);
 */
export function launchDefaultExecutor(options: LaunchCommandExecutorOptions): DefaultExecutorHandle {
  return launchInAgentRuntime(new DefaultExecutor(options), options);
}
