import { fileURLToPath } from 'node:url';
import type { KillPolicy, TaskID, TaskInfo, TaskState, TaskStatus } from '../../src/mesos/v1/common.ts';
import { isTerminalState } from '../../src/mesos/v1/common.ts';
import { BuiltinExecutor, launchInAgentRuntime, type BuiltinExecutorHandle, type BuiltinExecutorOptions, type LaunchBuiltinExecutorOptions } from './builtin-executor.ts';
import { SHUTDOWN_KILL_BUFFER_MS, TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS } from './constants.ts';
import { MESOS_DIRECTORY, MESOS_SANDBOX } from './environment.ts';
import { ExecutorDriver } from './executor-driver.ts';
import { TaskRun } from './task-run.ts';

export { describeExit } from './task-run.ts';

/**
 * Mesos's built-in command executor (`src/launcher/executor.cpp`), run through the executor
 * driver in the agent's own runtime. It is responsible for
 *
 * 1. running its one task (`task-run.ts`): the task's `command` as a real child process in
 *    the sandbox, through the agent's `Containerizer`, reported `TASK_STARTING`, `TASK_RUNNING`,
 *    then `TASK_FINISHED`, `TASK_FAILED` or `TASK_KILLED` ("Command exited with status 3"),
 *    with its health checks and general check;
 * 2. killing the task when asked: `TASK_KILLING` (to a framework with the
 *    `TASK_KILLING_STATE` capability), SIGTERM to its process group, SIGKILL after the grace
 *    period (the kill's `kill_policy`, else the task's, else `DEFAULT_KILL_GRACE_PERIOD_MS`);
 *    a later kill (or shutdown) may shorten that grace period, never lengthen it;
 * 3. refusing a second task (`TASK_FAILED`): it runs one only;
 * 4. stopping once the agent acknowledged the terminal update; when shut down, killing the
 *    task within the executor's shutdown grace period and stopping once its end is reported.
 */

export type CommandExecutorOptions = BuiltinExecutorOptions;

export class CommandExecutor extends BuiltinExecutor {

  /** Its one task, once launched. */
  #run: TaskRun | undefined;
  /** The agent asked the executor to shut down: it stops once the task's end is reported. */
  #shuttingDown = false;
  #ackTimeout: { cancel(): void } | undefined;

  constructor(options: CommandExecutorOptions) {
    super('Command executor', options);
  }



  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    if (this.#run !== undefined) {
      update(driver, task.task_id, 'TASK_FAILED', { message: 'Attempted to run multiple tasks using a "command" executor' });
      return;
    }
    this.#run = new TaskRun({
      task,
      containerizer: this.containerizer,
      containerId: this.containerId,
      sandbox: driver.directory ?? '.',
      env: this.env ?? defaultEnvironment(driver),
      killingState: this.killingState,
      driver,
      onTerminated: () => this.#terminated(driver),
    });
    this.#run.start();
  }

  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void {
    if (this.#run === undefined || this.#run.taskId.value !== taskId.value) {
      driver.log.warn({ task_id: taskId.value }, 'Ignoring kill for an unknown task');
      return;
    }
    this.#run.requestKill(killPolicy);
  }

  frameworkMessage(): void {
    // The command executor has no use for framework messages, as in Mesos.
  }

  shutdown(driver: ExecutorDriver): void {
    driver.log.info('Shutting down');
    this.#shuttingDown = true;
    if (this.#run === undefined || this.#run.terminated !== undefined) {
      driver.stop();
      return;
    }
    // Leave a little of the grace period to send `TASK_KILLED` before the agent destroys the container.
    this.#run.kill(Math.max(0, this.shutdownGracePeriodMs - SHUTDOWN_KILL_BUFFER_MS));
  }

  error(driver: ExecutorDriver, message: string): void {
    driver.log.error({ message }, 'Command executor error');
  }

  acknowledged(driver: ExecutorDriver, status: TaskStatus): void {
    if (this.#run?.terminated !== undefined && isTerminalState(status.state) && status.task_id.value === this.#run.taskId.value) {
      this.#ackTimeout?.cancel();
      driver.log.info({ task_id: status.task_id.value, state: status.state }, 'Terminal update acknowledged, stopping');
      driver.stop();
    }
  }

  /** The task's end was reported. */
  #terminated(driver: ExecutorDriver): void {
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
export function defaultEnvironment(driver: ExecutorDriver): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  const directory = driver.directory ?? '.';
  env[MESOS_SANDBOX] = directory;
  env[MESOS_DIRECTORY] = directory;
  return env;
}

/**
 * The command executor as a program of its own (`command-executor-main.ts`), which an agent runs
 * in a container for a checkpointing framework's command task, so that the task outlives an
 * agent restart, as Mesos's `mesos-executor`.
 */
export const COMMAND_EXECUTOR_MAIN = fileURLToPath(new URL('./command-executor-main.ts', import.meta.url));

/** The driver's options (the sandbox is where the task runs) and the command executor's own. */
export type LaunchCommandExecutorOptions = LaunchBuiltinExecutorOptions;

export type CommandExecutorHandle = BuiltinExecutorHandle<CommandExecutor>;

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
  return launchInAgentRuntime(new CommandExecutor(options), options);
}
