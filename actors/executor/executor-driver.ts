import type { Logger } from 'pino';
import { pino } from 'pino';
import type { ByteSource } from '../../src/mesos/ids.ts';
import type { StatusUpdate } from '../../src/mesos/protocol.ts';
import type {
  AgentInfo,
  CommandInfo,
  ExecutorID,
  ExecutorInfo,
  FrameworkID,
  FrameworkInfo,
  KillPolicy,
  TaskGroupInfo,
  TaskID,
  TaskInfo,
  TaskStatus,
} from '../../src/mesos/v1/common.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { UPID } from '../../src/process/upid.ts';
import { SocketTransport } from '../../src/transport/socket.ts';
import { DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS, DEFAULT_RECOVERY_TIMEOUT_MS } from './constants.ts';
import { MESOS_TS_EXECUTOR_TOKEN, readExecutorEnvironment } from './environment.ts';
import type { ExecutorState } from './executor.machine.ts';
import { ExecutorProcess } from './executor-process.ts';

/**
 * The executor API frameworks program against, as Mesos's `mesos::Executor` and
 * `MesosExecutorDriver` (`include/mesos/executor.hpp`).
 */

/** What the driver reports from its calls (`mesos.proto` `Status`). */
export type DriverStatus = 'DRIVER_NOT_STARTED' | 'DRIVER_RUNNING' | 'DRIVER_ABORTED' | 'DRIVER_STOPPED';

/**
 * The callbacks of an executor. Each runs inside the driver's process, one at a time, never
 * concurrently with another; long work continues asynchronously and reports back through the
 * driver (`sendStatusUpdate`).
 */
export interface Executor {
  /** The agent accepted the executor. `executorInfo.data` is what the framework put there. */
  registered(driver: ExecutorDriver, executorInfo: ExecutorInfo, frameworkInfo: FrameworkInfo, agentInfo: AgentInfo): void;
  /** The executor re-registered with a restarted agent. */
  reregistered(driver: ExecutorDriver, agentInfo: AgentInfo): void;
  /** The agent is gone (it exited or restarts); a checkpointing framework's executor may see it come back. */
  disconnected(driver: ExecutorDriver): void;
  /** Run `task`, and report its states with `driver.sendStatusUpdate` (`TASK_RUNNING`, then a terminal one). */
  launchTask(driver: ExecutorDriver, task: TaskInfo): void;
  /**
   * Run the tasks of `taskGroup` together (a LAUNCH_GROUP; the default executor runs them). An
   * executor without it gets each task of the group through `launchTask`, in order.
   */
  launchTaskGroup?(driver: ExecutorDriver, taskGroup: TaskGroupInfo): void;
  /** Kill the task and answer with a terminal update (`TASK_KILLED`). `killPolicy` overrides the task's own. */
  killTask(driver: ExecutorDriver, taskId: TaskID, killPolicy?: KillPolicy): void;
  /** Bytes the scheduler sent with `sendFrameworkMessage` (best effort, not retried). */
  frameworkMessage(driver: ExecutorDriver, data: Buffer): void;
  /** Kill every task and stop (`driver.stop()`); the process is killed after the shutdown grace period otherwise. */
  shutdown(driver: ExecutorDriver): void;
  /** A fatal error; the driver is aborted before this is called. */
  error(driver: ExecutorDriver, message: string): void;
  /** The agent acknowledged `status` (an extension of v0, as v1's `ACKNOWLEDGED` event). */
  acknowledged?(driver: ExecutorDriver, status: TaskStatus): void;
}

/** Running in the agent's own runtime (the command executor), rather than in a child process. */
export interface ExecutorDriverOptions {
  runtime: Runtime;
  /** The agent's UPID. */
  agent: UPID | string;
  frameworkId: FrameworkID;
  executorId: ExecutorID;
  /** The sandbox directory. */
  directory: string;
  /** Whether the framework checkpoints (wait for a restarted agent); default false. */
  checkpoint?: boolean;
  /** Default `DEFAULT_RECOVERY_TIMEOUT_MS`. */
  recoveryTimeoutMs?: number;
  /** Bytes for status update uuids; tests pass a `seededByteSource`. */
  uuidSource?: ByteSource;
}

/**
 * The executor side of Mesos: registers an `Executor` with its agent and connects its callbacks
 * and calls, as `MesosExecutorDriver`.
 *
 * Constructed without options, it runs in a child process that an agent launched: it reads the
 * executor environment (`MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID`, `MESOS_DIRECTORY`,
 * `MESOS_AGENT_ENDPOINT`, `MESOS_CHECKPOINT`, `MESOS_TS_EXECUTOR_NODE`, ...) and starts its own
 * runtime, connected to the agent's executor socket (`MESOS_TS_AGENT_SOCKET`). When that
 * connection closes (the agent is gone), a checkpointing framework's executor waits up to the
 * recovery timeout for the agent's next run to ask it to re-register (the socket connects again
 * by itself); any other is shut down, and the process exits after the shutdown grace period at
 * the latest.
 * With options, it runs in the given runtime next to the agent (the command executor does).
 *
 * Calls are safe from anywhere (inside a callback or not): they are queued to the driver's
 * process and run in order.
 *
 * @example
 * // my-executor.ts, launched by an agent with `executor: { executor_id, command: nodeExecutorCommand('/abs/my-executor.ts') }`
 * class MyExecutor implements Executor {
 *   launchTask(driver: ExecutorDriver, task: TaskInfo): void {
 *     driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING' });
 *     void work(task).then(() => driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FINISHED' }));
 *   }
 *   shutdown(driver: ExecutorDriver): void {
 *     driver.stop();
 *   }
 *   // registered, reregistered, disconnected, killTask, frameworkMessage, error ...
 * }
 * const status = await new ExecutorDriver(new MyExecutor()).run();
 * process.exit(status === 'DRIVER_STOPPED' ? 0 : 1);
 */
export class ExecutorDriver {
  readonly #executor: Executor;
  readonly #options: ExecutorDriverOptions | undefined;
  #status: DriverStatus = 'DRIVER_NOT_STARTED';
  #runtime: Runtime | undefined;
  /** Whether the runtime is ours (child-process mode): we shut it down when we stop. */
  #ownRuntime = false;
  #process: ExecutorProcess | undefined;
  #pid: UPID | undefined;
  #directory: string | undefined;
  #shutdownGracePeriodMs = DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS;
  #forcedExitArmed = false;
  #finished: Promise<DriverStatus>;
  #finish!: (status: DriverStatus) => void;

  constructor(executor: Executor, options?: ExecutorDriverOptions) {
    this.#executor = executor;
    this.#options = options;
    this.#finished = new Promise((resolve) => (this.#finish = resolve));
  }

  get status(): DriverStatus {
    return this.#status;
  }

  /** The driver's process, once started (`executor(1)@<node>`). */
  get pid(): UPID | undefined {
    return this.#pid;
  }

  /** The lifecycle state of the driver's process. */
  get state(): ExecutorState {
    return this.#process?.state ?? 'CONNECTING';
  }

  /** The sandbox directory, once started. */
  get directory(): string | undefined {
    return this.#directory;
  }

  /** The driver's logger (the runtime's, with the driver's pid bound). */
  get log(): Logger {
    return this.#process?.alive === true ? this.#process.log : (this.#runtime?.logger ?? silent);
  }

  /** Status updates sent and not yet acknowledged by the agent, oldest first. */
  unacknowledgedUpdates(): StatusUpdate[] {
    return [...(this.#process?.updates.values() ?? [])];
  }

  /** Tasks launched for which the agent has acknowledged no update yet. */
  unacknowledgedTasks(): TaskInfo[] {
    return [...(this.#process?.tasks.values() ?? [])];
  }

  /**
   * Starts the driver: in the given runtime at once (the process is spawned before this
   * returns), or in a new runtime over the agent's executor socket. Rejects with an
   * `ExecutorEnvironmentError` naming a variable the agent did not set.
   */
  async start(): Promise<DriverStatus> {
    if (this.#status !== 'DRIVER_NOT_STARTED') return this.#status;
    if (this.#options !== undefined) {
      const o = this.#options;
      this.#spawn(o.runtime, {
        agent: UPID.from(o.agent),
        frameworkId: o.frameworkId,
        executorId: o.executorId,
        directory: o.directory,
        checkpoint: o.checkpoint ?? false,
        recoveryTimeoutMs: o.recoveryTimeoutMs ?? DEFAULT_RECOVERY_TIMEOUT_MS,
        uuidSource: o.uuidSource,
      });
      return this.#status;
    }
    // Claimed before the first await: a second `start` sees a started driver.
    this.#status = 'DRIVER_RUNNING';
    try {
      const env = readExecutorEnvironment();
      // The secret is this process's alone: what it starts (a task) does not inherit it.
      delete process.env[MESOS_TS_EXECUTOR_TOKEN];
      this.#shutdownGracePeriodMs = env.shutdownGracePeriodMs;
      const logger = pino(
        { level: process.env.MESOS_TS_LOG_LEVEL ?? 'info', base: { name: 'executor' } },
        pino.destination({ fd: 2, sync: true }),
      );
      const runtime = await Runtime.start({
        node: env.node,
        logger,
        transport: new SocketTransport({ path: env.socket, node: env.node, ...(env.token !== undefined ? { token: env.token } : {}), onDisconnect: () => this.#agentGone() }),
        // The socket closing is how this process learns that its agent is gone; heartbeats would
        // stop whenever the agent's Clock is paused (tests), so they never end the link here.
        linkTimeoutMs: Number.MAX_SAFE_INTEGER,
      });
      this.#ownRuntime = true;
      this.#status = 'DRIVER_NOT_STARTED';
      this.#spawn(runtime, {
        agent: UPID.parse(env.agent),
        frameworkId: { value: env.frameworkId },
        executorId: { value: env.executorId },
        directory: env.directory,
        checkpoint: env.checkpoint,
        recoveryTimeoutMs: env.recoveryTimeoutMs,
        uuidSource: undefined,
      });
      return this.#status;
    } catch (error) {
      this.#status = 'DRIVER_NOT_STARTED';
      throw error;
    }
  }

  /**
   * Stops the driver: its process terminates once the calls queued before have run (so a
   * final status update is still sent), and in a child process the runtime shuts down, closing
   * its connection to the agent. Returns `DRIVER_ABORTED` if it was aborted, else `DRIVER_STOPPED`.
   */
  stop(): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING' && this.#status !== 'DRIVER_ABORTED') return this.#status;
    const wasAborted = this.#status === 'DRIVER_ABORTED';
    this.#status = 'DRIVER_STOPPED';
    void this.#teardown().then(() => this.#finish('DRIVER_STOPPED'));
    return wasAborted ? 'DRIVER_ABORTED' : 'DRIVER_STOPPED';
  }

  /** Aborts the driver: every message from the agent is ignored from now on; `join` returns. */
  abort(): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING') return this.#status;
    if (this.#process !== undefined) this.#process.aborted = true;
    this.#status = 'DRIVER_ABORTED';
    this.#finish('DRIVER_ABORTED');
    return this.#status;
  }

  /** Resolves once the driver is stopped or aborted (at once if it never ran). */
  join(): Promise<DriverStatus> {
    if (this.#status === 'DRIVER_NOT_STARTED') return Promise.resolve(this.#status);
    return this.#finished;
  }

  /** `start()`, then `join()`. */
  async run(): Promise<DriverStatus> {
    const status = await this.start();
    return status !== 'DRIVER_RUNNING' ? status : this.join();
  }

  /**
   * Sends a status update to the agent, which forwards it reliably to the scheduler. The driver
   * sets `uuid`, `timestamp` (Clock time), `source: SOURCE_EXECUTOR` and `executor_id`, and keeps
   * the update until the agent acknowledges it. `TASK_STAGING` is not allowed: it aborts the driver.
   */
  sendStatusUpdate(status: TaskStatus): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING') return this.#status;
    this.#dispatch((p) => p.sendStatusUpdate(status));
    return this.#status;
  }

  /** Sends bytes (a string is sent as UTF-8) to the scheduler, best effort. */
  sendFrameworkMessage(data: Uint8Array | string): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING') return this.#status;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    this.#dispatch((p) => p.sendFrameworkMessage(bytes));
    return this.#status;
  }

  /**
   * @internal For executors running in the agent's runtime: runs `fn` in the driver's mailbox
   * once `promise` resolves (nothing if the driver stopped meanwhile). Unlike `Process.defer` it
   * is not awaited by `settle()`: what it waits for (a task's exit) may be far off.
   */
  _continue<T>(promise: Promise<T>, fn: (value: T) => void): void {
    promise.then(
      (value) => this.#dispatch(() => fn(value)),
      (error: unknown) => this.log.error({ err: error }, 'Deferred executor operation failed'),
    );
  }

  /** @internal For executors running in the agent's runtime: the runtime Clock's time (ms). */
  _now(): number {
    return this.#runtime?.clock.now() ?? 0;
  }

  /** @internal For executors running in the agent's runtime: runs `fn` after `ms` of Clock time, in the driver's mailbox. */
  _delay(ms: number, fn: () => void): { cancel(): void } {
    const actor = this.#process;
    if (actor === undefined || !actor.alive) return { cancel: () => undefined };
    return actor.later(ms, fn);
  }

  // -------------------------------------------------------------------------------------------

  #spawn(
    runtime: Runtime,
    o: {
      agent: UPID;
      frameworkId: FrameworkID;
      executorId: ExecutorID;
      directory: string;
      checkpoint: boolean;
      recoveryTimeoutMs: number;
      uuidSource: ByteSource | undefined;
    },
  ): void {
    this.#runtime = runtime;
    this.#directory = o.directory;
    this.#process = new ExecutorProcess(runtime.generateId('executor'), this, this.#executor, {
      ...o,
      onShutdown: () => this.#armForcedExit(),
      onTerminated: () => {
        // Terminated by its runtime rather than by `stop()`.
        if (this.#status === 'DRIVER_RUNNING') {
          this.#status = 'DRIVER_ABORTED';
          this.#finish('DRIVER_ABORTED');
        }
      },
    });
    this.#pid = runtime.spawn(this.#process);
    this.#status = 'DRIVER_RUNNING';
  }

  #dispatch(fn: (process: ExecutorProcess) => void): void {
    const actor = this.#process;
    const runtime = this.#runtime;
    if (actor === undefined || runtime === undefined || !actor.alive) return;
    runtime.dispatch(actor.self, () => fn(actor)).catch((error: unknown) => {
      runtime.logger.debug({ err: error }, 'Executor driver call dropped: its process terminated');
    });
  }

  async #teardown(): Promise<void> {
    const actor = this.#process;
    const runtime = this.#runtime;
    if (actor === undefined || runtime === undefined) return;
    // Not injected: calls queued before `stop()` (a last status update) run first.
    runtime.terminate(actor.self, false);
    await runtime.wait(actor.self);
    // The runtime's shutdown flushes what was sent (a last status update) before it closes the socket.
    if (this.#ownRuntime) await runtime.shutdown();
  }

  /**
   * The connection to the agent closed: the agent exited. A checkpointing framework's executor
   * waits for the agent's next run (the socket transport connects again by itself), up to the
   * recovery timeout; any other shuts down.
   */
  #agentGone(): void {
    // As a libprocess socket breaking: the agent's runtime is gone. Its next run may come back on
    // the same node (a fixed `--node`); it must not be taken for this one restarting, which
    // would end the links made to it after it asked us to re-register.
    const agent = this.#process?.agent;
    if (agent !== undefined) this.#runtime?.peerGone(agent.node);
    this.#dispatch((p) => p.agentLost('the connection to the agent closed', true));
  }

  /**
   * In a child process, exits after the shutdown grace period if the executor has not stopped
   * by then (Mesos's executor driver kills its process group). The timer does not keep the
   * process alive by itself.
   */
  #armForcedExit(): void {
    if (!this.#ownRuntime || this.#forcedExitArmed || this.#runtime === undefined) return;
    this.#forcedExitArmed = true;
    const runtime = this.#runtime;
    runtime.clock.setTimer(this.#shutdownGracePeriodMs, () => {
      runtime.logger.warn({ grace_period_ms: this.#shutdownGracePeriodMs }, 'Executor did not stop within the shutdown grace period, exiting');
      process.exit(1);
    });
  }
}

const silent = pino({ level: 'silent' });

/**
 * A command that runs the TypeScript executor `file` with this Node and tsx, both resolved to
 * absolute locations (the executor's working directory is its sandbox, where no `node_modules`
 * is). `file` must be absolute.
 *
 * @example
 * const executor: ExecutorInfo = {
 *   executor_id: { value: 'echo' },
 *   command: nodeExecutorCommand(fileURLToPath(new URL('./echo-executor.ts', import.meta.url))),
 * };
 */
export function nodeExecutorCommand(file: string): CommandInfo {
  const tsx = import.meta.resolve('tsx');
  return { shell: false, value: process.execPath, arguments: [process.execPath, '--import', tsx, file] };
}
