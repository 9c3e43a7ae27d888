import { randomUUID } from 'node:crypto';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskID, TaskInfo } from '../../src/mesos/v1/common.ts';
import { hasFrameworkCapability } from '../../src/mesos/v1/common.ts';
import type { Containerizer } from '../agent/containerizer.ts';
import { DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS } from './constants.ts';
import type { UPID } from '../../src/process/upid.ts';
import { ExecutorDriver, type DriverStatus, type Executor, type ExecutorDriverOptions } from './executor-driver.ts';

/**
 * What the two built-in executors share (the command executor, `command-executor.ts`, and the
 * default executor, `default-executor.ts`): their options, their container, and the driver
 * callbacks that only record or log (registration, which tells whether the framework wants
 * `TASK_KILLING`; re-registration; disconnection). Each runs its tasks through `task-run.ts`.
 */

export interface BuiltinExecutorOptions {
  containerizer: Containerizer;
  /** The executor's container (its tasks run in it, or in containers nested in it); default a random UUID. */
  containerId?: string;
  /** The tasks' environment before their commands' own variables; default the agent's environment and the sandbox variables. */
  env?: Record<string, string>;
  /** How long the agent gives the executor to shut down; default `DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS`. */
  shutdownGracePeriodMs?: number;
}

export abstract class BuiltinExecutor implements Executor {
  readonly containerId: string;
  protected readonly containerizer: Containerizer;
  protected readonly env: Record<string, string> | undefined;
  protected readonly shutdownGracePeriodMs: number;
  /** The framework has the `TASK_KILLING_STATE` capability: kills are announced with `TASK_KILLING`. */
  protected killingState = false;

  /** `what` names the executor in its log lines ("Command executor"). */
  constructor(
    private readonly what: string,
    options: BuiltinExecutorOptions,
  ) {
    this.containerizer = options.containerizer;
    this.containerId = options.containerId ?? randomUUID();
    this.env = options.env;
    this.shutdownGracePeriodMs = options.shutdownGracePeriodMs ?? DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS;
  }

  registered(driver: ExecutorDriver, _executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, agentInfo: AgentInfo): void {
    this.killingState = hasFrameworkCapability(frameworkInfo, 'TASK_KILLING_STATE');
    driver.log.info({ hostname: agentInfo.hostname }, `${this.what} registered`);
  }

  reregistered(driver: ExecutorDriver, agentInfo: AgentInfo): void {
    driver.log.info({ hostname: agentInfo.hostname }, `${this.what} re-registered`);
  }

  disconnected(driver: ExecutorDriver): void {
    driver.log.info(`${this.what} disconnected from its agent`);
  }

  abstract launchTask(driver: ExecutorDriver, task: TaskInfo): void;
  abstract killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void;
  abstract frameworkMessage(driver: ExecutorDriver, data: Buffer): void;
  abstract shutdown(driver: ExecutorDriver): void;
  abstract error(driver: ExecutorDriver, message: string): void;
}

/** What the agent gives a built-in executor it runs in its own runtime: the executor's options and its driver's. */
export interface LaunchBuiltinExecutorOptions extends BuiltinExecutorOptions, ExecutorDriverOptions {}

/** A built-in executor running in the agent's runtime. */
export interface BuiltinExecutorHandle<E extends BuiltinExecutor = BuiltinExecutor> {
  /** The executor's UPID (`executor(n)@<agent node>`): it registers from there; link to it to learn when it stops. */
  readonly pid: UPID;
  /** Its container (for `Containerizer.destroy`). */
  readonly containerId: string;
  readonly driver: ExecutorDriver;
  readonly executor: E;
  /** Resolves when the driver stops (after the last terminal update is acknowledged) or aborts. */
  readonly done: Promise<DriverStatus>;
}

/**
 * Starts `executor` in the agent's runtime with a driver of its own: it registers with
 * `options.agent` at once (`RegisterExecutorMessage` from `pid`).
 */
export function launchInAgentRuntime<E extends BuiltinExecutor>(executor: E, options: ExecutorDriverOptions): BuiltinExecutorHandle<E> {
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
  if (pid === undefined) throw new Error(`${executor.constructor.name} did not start`);
  return { pid, containerId: executor.containerId, driver, executor, done: started.then(() => driver.join()) };
}
