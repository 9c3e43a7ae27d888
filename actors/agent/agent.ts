import { createActor, type Actor } from 'xstate';
import type { Counter } from '../../src/metrics/metrics.ts';
import { taskStateCounters, usedFraction } from '../../src/metrics/task-counters.ts';
import { newStatusUuid, newUuidBytes, randomByteSource, uuidToString, type ByteSource } from '../../src/mesos/ids.ts';
import {
  DRAIN_SLAVE,
  DrainSlaveSchema,
  EXECUTOR_TO_FRAMEWORK,
  ExecutorToFrameworkSchema,
  FRAMEWORK_TO_EXECUTOR,
  FrameworkToExecutorSchema,
  KILL_TASK,
  KillTaskSchema,
  RECONCILE_TASKS,
  ReconcileTasksSchema,
  PING_SLAVE,
  PingSlaveSchema,
  REGISTER_EXECUTOR,
  REREGISTER_EXECUTOR,
  REREGISTER_REQUEST,
  RUN_TASK,
  RUN_TASK_GROUP,
  RegisterExecutorSchema,
  ReregisterExecutorSchema,
  ReregisterRequestSchema,
  RunTaskSchema,
  RunTaskGroupSchema,
  CHECKPOINT_RESOURCES,
  CheckpointResourcesSchema,
  type CheckpointResources,
  SHUTDOWN_EXECUTOR,
  SHUTDOWN_FRAMEWORK,
  SHUTDOWN_SLAVE,
  SLAVE_REGISTERED,
  SLAVE_REREGISTERED,
  STATUS_UPDATE,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  ShutdownExecutorSchema,
  ShutdownFrameworkSchema,
  ShutdownSlaveSchema,
  SlaveRegisteredSchema,
  SlaveReregisteredSchema,
  StatusUpdateAcknowledgementSchema,
  StatusUpdateMessageSchema,
  validator,
  type DrainConfig,
  type DrainSlave,
  type ExecutorToFramework,
  type FrameworkToExecutor,
  type KillTask,
  type ReconcileTasks,
  type PingSlave,
  type RegisterExecutor,
  type ReregisterExecutor,
  type RunTask,
  type RunTaskGroup,
  type ShutdownExecutor,
  type ShutdownFramework,
  type ShutdownSlave,
  type SlaveRegistered,
  type StatusUpdateAcknowledgement,
  type StatusUpdateMessage,
} from '../../src/mesos/protocol.ts';
import { parseAttributes } from '../../src/mesos/model.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { AgentInfo, TaskState } from '../../src/mesos/v1/common.ts';
import type { Timer } from '../../src/process/clock.ts';
import { Process } from '../../src/process/process.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { UPID } from '../../src/process/upid.ts';
import type { ExecutorSocketServer } from '../../src/transport/socket.ts';
import type { MasterDetector } from '../detector/detector.ts';
import {
  SUM_ACKNOWLEDGED,
  SUM_RECOVERED,
  SUM_UPDATED,
  type SumAcknowledged,
  type SumRecovered,
  type SumUpdated,
} from '../status-update-manager/protocol.ts';
import { agentMachine, type AgentMachineState } from './agent.machine.ts';
import { Containerizer } from './containerizer.ts';
import { containerPidsDir } from './checkpoint.ts';
import * as drain from './drain.ts';
import * as executors from './executors.ts';
import { httpExecutorDisconnected } from './executor-api.ts';
import { detachAll } from './files.ts';
import type { LocalAuthorizer } from '../cluster/acls.ts';
import { diskUsage, GarbageCollector, maxAllowedAgeMs, watchDisk } from './gc.ts';
import { agentFlags, InvalidFlagError, type AgentFlags, type AgentFlagsInput } from './flags.ts';
import { CgroupsIsolator, limitsOf, parseIsolation, type ContainerLimits } from './isolation.ts';
import { agentRouteRealm, httpRoutes } from './http.ts';
import { HTTP_EXECUTOR_DISCONNECTED, type HttpExecutorDisconnected } from './http-executor.ts';
import * as registration from './registration.ts';
import * as resourcesCheckpoint from './resources-checkpoint.ts';
import { FrameworkRecord } from './state.ts';
import { runTaskGroup } from './task-groups.ts';
import * as tasks from './tasks.ts';

export interface AgentOptions extends AgentFlagsInput {
  /** Process id; default `runtime.generateId('slave')`, so `slave(1)` as in Mesos. */
  id?: string;
  /** Uniform numbers in [0, 1) for the registration backoff; tests pass a seeded source. */
  random?: () => number;
  /** Bytes for container ids and the uuids of the agent's own status updates; tests pass a `seededByteSource`. */
  uuidSource?: ByteSource;
  /** Default: a `Containerizer` on this agent's Clock. */
  containerizer?: Containerizer;
  /** Use this status update manager rather than spawning one (it must run in the agent's runtime). */
  statusUpdateManager?: UPID | string;
  /** Starts the built-in command executor; default `launchCommandExecutor`. */
  commandExecutor?: executors.CommandExecutorLauncher;
  /**
   * Finds the leading master again after the agent loses its master (`--nats` without
   * `--master`), so that it re-registers with a master that restarted elsewhere. Default: none,
   * the agent keeps `master`.
   */
  detector?: MasterDetector;
  /**
   * The prefix of its metrics: Mesos's `slave` (`slave/tasks_running`) for an agent alone in its
   * runtime, as `mesos agent` runs it; default its process id (`slave(1)/tasks_running`), which
   * keeps the agents of one runtime (dev mode) apart. The garbage collector's are Mesos's
   * `gc/path_removals_succeeded`, ... under `slave`, and `slave(1)/gc/path_removals_succeeded`,
   * ... otherwise.
   */
  metricsPrefix?: string;
  /**
   * Measures the used fraction (0 to 1) of the disk holding `--work_dir`, every
   * `--disk_watch_interval`; default `fs.statfs` (`diskUsage`). Tests pass a fixed one.
   */
  diskUsage?: () => Promise<number>;
  /**
   * Called when the agent left for good and terminated, once its executors shut down: the master
   * told it to (`ShutdownMessage`), `unregister` (SIGUSR1), or `--recover=cleanup`.
   * `mesos-ts agent` exits then, as Mesos's agent does.
   */
  onShutdown?: (reason: string) => void;
  /**
   * Called when the agent failed and terminated: with `--strict`, it could not recover what a
   * previous run checkpointed. `mesos-ts agent` exits 1 then, as Mesos's agent does.
   */
  onFailure?: (error: Error) => void;
  /**
   * Kill every executor when the agent terminates, those of checkpointing frameworks too (which
   * are otherwise left for the agent's next run to reconnect to): dev mode sets it when its work
   * directory is a temporary one that no next run will find.
   */
  killExecutorsOnExit?: boolean;
  /**
   * `--acls`: who may read which sandboxes (`access_sandboxes`) and see what of `/state` and the
   * operator API (`view_*`), as `authorization.ts` applies them; default none (everything).
   */
  authorizer?: LocalAuthorizer;
}

/**
 * The Mesos agent (`slave.cpp`), as an actor.
 *
 * Responsibilities:
 * 1. Registration: recover the checkpointed agent id, then register (or re-register, with its
 *    frameworks, executors and tasks) with the master, retried with backoff; answer pings and
 *    count the master lost when they stop or it exits; then re-register (`registration.ts`).
 * 2. Tasks: run them in their executor (queued until it registers), kill them, and take every
 *    status update through the status update manager, which delivers it to the master reliably;
 *    a task's resources are freed when it ends, its record when its terminal update is
 *    acknowledged (`tasks.ts`).
 * 3. Executors: launch custom executors as child processes through the containerizer (reached
 *    over the agent's executor socket, or over the executor HTTP API, `executor-api.ts`) and the
 *    built-in command executor (in this runtime, or in a process of its own for a checkpointing
 *    framework); their registration and its timeout, shutdown with a grace period, and their
 *    exits (tasks failed, `ExitedExecutorMessage`); after a restart, re-registration of the
 *    executors that survived it (`executors.ts`).
 * 4. Framework messages both ways, between the master and the executors (`tasks.ts`).
 * 5. The operator endpoint `/slave(1)/state`, the v1 operator API `/slave(1)/api/v1`
 *    (`operator-api.ts`) and the executor API `/slave(1)/api/v1/executor` (`http.ts`).
 * 6. Garbage collection of the sandboxes it is done with, after `--gc_delay`, sooner as the disk
 *    fills (`gc.ts`).
 * 7. Draining (Mesos 1.9, `DrainSlaveMessage`): kill every task within the drain's
 *    `max_grace_period`, run no new one, and keep draining across a restart until no framework
 *    is left (`drain.ts`).
 * 8. Dynamic reservations and persistent volumes (`CheckpointResourcesMessage`): checkpoint the
 *    resources the master reserved here, show them in its total, and report them when it
 *    (re-)registers, also after a restart (`resources-checkpoint.ts`); keep each volume's
 *    directory and link it into the sandboxes of the tasks that use it (`volumes.ts`).
 *
 * The lifecycle is `agent.machine.ts`; the books are `state.ts`; checkpoints `checkpoint.ts`.
 *
 * @example
 * const runtime = await Runtime.start({ node: 'a1' });
 * const agent = Agent.start(runtime, { master: 'master@m1', workDir: '/var/lib/mesos-ts/a1' });
 * agent.self; // slave(1)@a1
 */
export class Agent extends Process {
  readonly flags: AgentFlags;
  /** What the agent registers with; `id` is set once the master assigned one. */
  readonly info: AgentInfo;
  /** Its `--resources`: what `info.resources` says. */
  readonly flagResources: Resources;
  /** Its dynamic reservations and persistent volumes, as the master last sent them (`resources-checkpoint.ts`). */
  checkpointedResources: Resources = Resources.EMPTY;
  /** `flagResources` with `checkpointedResources` applied: what `/state` and the metrics show. */
  totalResources: Resources;
  /** The master to register with: `flags.master`, until the detector finds another. */
  master: UPID;
  readonly detector: MasterDetector | undefined;
  /** `AgentOptions.onShutdown`. */
  readonly onShutdown: ((reason: string) => void) | undefined;
  /** `AgentOptions.onFailure`. */
  readonly onFailure: ((error: Error) => void) | undefined;
  /** `AgentOptions.authorizer`. */
  readonly authorizer: LocalAuthorizer | undefined;
  readonly #detection = new AbortController();
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly completedFrameworks: FrameworkRecord[] = [];
  readonly machine: Actor<typeof agentMachine>;
  readonly containerizer: Containerizer;
  readonly commandExecutor: executors.CommandExecutorLauncher;
  /** Who acknowledges each executor's update once the manager has it, by update uuid. */
  readonly pendingAcks = new Map<string, UPID>();
  readonly #uuidSource: ByteSource;
  readonly #sumOption: UPID | string | undefined;
  #sum: UPID | undefined;
  #ownSum = false;
  startTime = 0;
  /** The master's ping timer is in the machine; this is the master we registered with. */
  registeredWith: UPID | undefined;
  /** Where executors in their own processes reach this agent; listening once recovery began. */
  executorSocket: ExecutorSocketServer | undefined;
  /** The secret of each executor runtime (by node) the executor socket admits. */
  readonly executorTokens = new Map<string, string>();
  /** While recovering: the end of the wait for surviving executors to re-register. */
  reregistrationTimer: Timer | undefined;
  /** The command executor bundled for its own processes (`command-executor-bundle.ts`), once first needed. */
  commandExecutorBundle: Promise<string | Error> | undefined;
  /** SIGUSR1 came while the agent recovered: it leaves for good once recovery is over. */
  leaveOnceRecovered: string | undefined;
  /** Why the agent is leaving for good (SIGUSR1, `ShutdownMessage`): set while its executors shut down. */
  leaving: string | undefined;
  /** Called when the agent's last framework is removed (how an agent leaving for good knows it may terminate). */
  onLastFrameworkRemoved: (() => void) | undefined;
  /** `AgentOptions.killExecutorsOnExit`, or the master told this agent to shut down. */
  killExecutorsOnExit: boolean;
  /**
   * The config of the drain under way (`DrainSlaveMessage`, or recovered from its checkpoint),
   * until the agent has no framework left (`drain.ts`).
   */
  drainConfig: DrainConfig | undefined;
  /** When the drain under way began here (Clock ms), or this run recovered it: Mesos's `estimatedDrainStartTime`. */
  drainStartTime: number | undefined;
  /** Deletes the sandboxes the agent is done with (`gc.ts`); created in `initialize`. */
  gc!: GarbageCollector;
  readonly #diskUsage: () => Promise<number>;

  stats!: Record<
    | 'validStatusUpdates'
    | 'invalidStatusUpdates'
    | 'validFrameworkMessages'
    | 'invalidFrameworkMessages'
    | 'registrations'
    | 'executorsTerminated'
    | 'tasksLaunched'
    | 'containerLaunchErrors'
    | 'recoveryErrors',
    Counter
  >;

  /** Tasks that ended here, by terminal state (`slave/tasks_finished`, ...): `tasksEnded[state]?.inc()`. */
  tasksEnded!: Readonly<Partial<Record<TaskState, Counter>>>;
  readonly #metricsPrefix: string | undefined;

  constructor(runtime: Runtime, options: AgentOptions) {
    super(options.id ?? runtime.generateId('slave'));
    this.flags = agentFlags(options);
    this.master = UPID.parse(this.flags.master);
    this.detector = options.detector;
    this.onShutdown = options.onShutdown;
    this.onFailure = options.onFailure;
    this.authorizer = options.authorizer;
    this.killExecutorsOnExit = options.killExecutorsOnExit === true;
    this.flagResources = Resources.parse(this.flags.resources);
    this.totalResources = this.flagResources;
    const port = runtime.httpAddress?.port;
    this.info = {
      hostname: this.flags.hostname,
      // Where its HTTP endpoints are (Mesos's `SlaveInfo.port`, its libprocess port): how the
      // master's web UI reaches its sandboxes (`/files/*`).
      ...(port !== undefined ? { port } : {}),
      resources: this.flagResources.toJSON(),
      attributes: parseAttributes(this.flags.attributes),
    };
    this.#uuidSource = options.uuidSource ?? randomByteSource;
    this.#sumOption = options.statusUpdateManager;
    this.#metricsPrefix = options.metricsPrefix;
    this.#diskUsage = options.diskUsage ?? (() => diskUsage(this.flags.workDir));
    this.containerizer =
      options.containerizer ??
      new Containerizer({
        delay: (ms, fn) => this.delay(ms, fn),
        pidDir: containerPidsDir(this.flags.workDir),
        ...cgroupsIsolation(this.flags, (containerId) => this.#containerLimits(containerId)),
      });
    this.commandExecutor = options.commandExecutor ?? executors.defaultCommandExecutor;
    const random = options.random ?? Math.random;
    this.machine = createActor(
      agentMachine.provide({
        actions: {
          register: () => registration.doReliableRegistration(this),
          masterDisconnected: () => registration.masterDisconnected(this),
          masterRegistered: () => registration.masterRegistered(this),
          pingTimedOut: () => registration.pingTimedOut(this),
          recovered: () => {
            drain.recovered(this);
            // SIGUSR1 while recovering: leave now that the survivors are known (and shut down).
            if (this.leaveOnceRecovered !== undefined) registration.unregister(this, this.leaveOnceRecovered);
          },
        },
      }),
      {
        clock: this.machineClock,
        input: {
          registrationBackoffFactorMs: this.flags.registrationBackoffFactorMs,
          masterPingTimeoutMs: this.flags.masterPingTimeoutMs,
          random,
        },
      },
    );

    this.install(SLAVE_REGISTERED, (from, body: SlaveRegistered) => registration.registered(this, from, body), validator(SlaveRegisteredSchema, 'SlaveRegisteredMessage'));
    this.install(SLAVE_REREGISTERED, (from, body: SlaveRegistered) => registration.reregistered(this, from, body), validator(SlaveReregisteredSchema, 'SlaveReregisteredMessage'));
    this.install(PING_SLAVE, (from, body: PingSlave) => registration.ping(this, from, body), validator(PingSlaveSchema, 'PingSlaveMessage'));
    this.install(REREGISTER_REQUEST, (from) => registration.reregisterRequest(this, from), validator(ReregisterRequestSchema, 'ReregisterRequestMessage'));
    this.install(RUN_TASK, (from, body: RunTask) => tasks.runTask(this, from, body), validator(RunTaskSchema, 'RunTaskMessage'));
    this.install(RUN_TASK_GROUP, (from, body: RunTaskGroup) => runTaskGroup(this, from, body), validator(RunTaskGroupSchema, 'RunTaskGroupMessage'));
    this.install(KILL_TASK, (from, body: KillTask) => tasks.killTask(this, from, body), validator(KillTaskSchema, 'KillTaskMessage'));
    this.install(RECONCILE_TASKS, (from, body: ReconcileTasks) => tasks.reconcileTasks(this, from, body), validator(ReconcileTasksSchema, 'ReconcileTasksMessage'));
    this.install(STATUS_UPDATE, (from, body: StatusUpdateMessage) => tasks.statusUpdate(this, from, body), validator(StatusUpdateMessageSchema, 'StatusUpdateMessage'));
    this.install(STATUS_UPDATE_ACKNOWLEDGEMENT, (from, body: StatusUpdateAcknowledgement) => tasks.statusUpdateAcknowledgement(this, from, body), validator(StatusUpdateAcknowledgementSchema, 'StatusUpdateAcknowledgementMessage'));
    this.install(FRAMEWORK_TO_EXECUTOR, (from, body: FrameworkToExecutor) => tasks.schedulerMessage(this, from, body), validator(FrameworkToExecutorSchema, 'FrameworkToExecutorMessage'));
    this.install(EXECUTOR_TO_FRAMEWORK, (from, body: ExecutorToFramework) => tasks.executorMessage(this, from, body), validator(ExecutorToFrameworkSchema, 'ExecutorToFrameworkMessage'));
    this.install(SHUTDOWN_SLAVE, (from, body: ShutdownSlave) => registration.shutdown(this, from, body), validator(ShutdownSlaveSchema, 'ShutdownMessage'));
    this.install(DRAIN_SLAVE, (from, body: DrainSlave) => drain.drain(this, from, body), validator(DrainSlaveSchema, 'DrainSlaveMessage'));
    this.install(CHECKPOINT_RESOURCES, (from, body: CheckpointResources) => resourcesCheckpoint.checkpointResources(this, from, body), validator(CheckpointResourcesSchema, 'CheckpointResourcesMessage'));
    this.install(SHUTDOWN_FRAMEWORK, (from, body: ShutdownFramework) => executors.shutdownFramework(this, from, body), validator(ShutdownFrameworkSchema, 'ShutdownFrameworkMessage'));
    this.install(SHUTDOWN_EXECUTOR, (from, body: ShutdownExecutor) => executors.shutdownExecutor(this, from, body), validator(ShutdownExecutorSchema, 'ShutdownExecutorMessage'));
    this.install(REGISTER_EXECUTOR, (from, body: RegisterExecutor) => executors.registerExecutor(this, from, body), validator(RegisterExecutorSchema, 'RegisterExecutorMessage'));
    this.install(REREGISTER_EXECUTOR, (from, body: ReregisterExecutor) => executors.reregisterExecutor(this, from, body), validator(ReregisterExecutorSchema, 'ReregisterExecutorMessage'));
    this.install(SUM_UPDATED, (from, body: SumUpdated) => tasks.statusUpdated(this, from, body));
    this.install(SUM_ACKNOWLEDGED, (from, body: SumAcknowledged) => tasks.statusAcknowledged(this, from, body));
    this.install(SUM_RECOVERED, (from, body: SumRecovered) => registration.recovered(this, from, body));
    this.install(HTTP_EXECUTOR_DISCONNECTED, (from, body: HttpExecutorDisconnected) => httpExecutorDisconnected(this, from, body));

    for (const [path, handler] of Object.entries(httpRoutes(this))) this.route(path, handler, agentRouteRealm(path));
  }

  /** Creates an agent and spawns it in `runtime`. */
  static start(runtime: Runtime, options: AgentOptions): Agent {
    const agent = new Agent(runtime, options);
    runtime.spawn(agent);
    return agent;
  }

  override initialize(): void {
    const m = this.metrics;
    const prefix = this.#metricsPrefix ?? this.id;
    const c = (name: string) => m.counter(`${prefix}/${name}`);
    this.stats = {
      validStatusUpdates: c('valid_status_updates'),
      invalidStatusUpdates: c('invalid_status_updates'),
      validFrameworkMessages: c('valid_framework_messages'),
      invalidFrameworkMessages: c('invalid_framework_messages'),
      registrations: c('registrations'),
      executorsTerminated: c('executors_terminated'),
      tasksLaunched: c('tasks_launched'),
      containerLaunchErrors: c('container_launch_errors'),
      recoveryErrors: c('recovery_errors'),
    };
    this.tasksEnded = taskStateCounters(c, ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST']);
    m.gauge(`${prefix}/registered`, () => (this.state === 'RUNNING' ? 1 : 0));
    m.gauge(`${prefix}/uptime_secs`, () => (this.clock.now() - this.startTime) / 1000);
    m.gauge(`${prefix}/frameworks_active`, () => this.frameworks.size);
    m.gauge(`${prefix}/executors_running`, () => this.countExecutors('RUNNING'));
    m.gauge(`${prefix}/executors_registering`, () => this.countExecutors('REGISTERING'));
    m.gauge(`${prefix}/executors_terminating`, () => this.countExecutors('TERMINATING'));
    // Queued tasks (waiting for their executor) are staging, as in Mesos's `_tasks_staging`.
    m.gauge(`${prefix}/tasks_staging`, () => this.countTasks('TASK_STAGING'));
    m.gauge(`${prefix}/tasks_starting`, () => this.countTasks('TASK_STARTING'));
    m.gauge(`${prefix}/tasks_running`, () => this.countTasks('TASK_RUNNING'));
    m.gauge(`${prefix}/tasks_killing`, () => this.countTasks('TASK_KILLING'));
    for (const name of ['cpus', 'mem', 'disk', 'gpus']) {
      m.gauge(`${prefix}/${name}_total`, () => this.totalResources.scalar(name));
      m.gauge(`${prefix}/${name}_used`, () => this.usedResources().scalar(name));
      m.gauge(`${prefix}/${name}_percent`, () => usedFraction(this.usedResources().scalar(name), this.totalResources.scalar(name)));
    }
    // Mesos registers these without the `slave/` prefix; several agents in one runtime keep theirs apart.
    const gcPrefix = prefix === 'slave' ? 'gc' : `${prefix}/gc`;
    this.gc = new GarbageCollector(
      this,
      { succeeded: m.counter(`${gcPrefix}/path_removals_succeeded`), failed: m.counter(`${gcPrefix}/path_removals_failed`) },
      maxAllowedAgeMs(this.flags.gcDelayMs, this.flags.gcDiskHeadroom, 0),
    );
    m.gauge(`${gcPrefix}/path_removals_pending`, () => this.gc.pending);
    m.gauge(`${prefix}/executor_directory_max_allowed_age_secs`, () => this.gc.maxAllowedAgeMs / 1000);

    this.startTime = this.clock.now();
    if (this.#sumOption !== undefined) {
      this.#sum = UPID.from(this.#sumOption);
    } else {
      this.#sum = this.runtime.spawn(executors.createStatusUpdateManager(this));
      this.#ownSum = true;
    }
    this.machine.start();
    this.log.info({ resources: String(this.totalResources), hostname: this.info.hostname }, 'Agent started');
    watchDisk(this, this.#diskUsage);
    registration.recover(this);
  }

  override finalize(): void {
    this.#detection.abort();
    if (this.state !== 'TERMINATING') this.machine.send({ type: 'TERMINATE' });
    this.reregistrationTimer?.cancel();
    executors.destroyAll(this);
    // The executors left running see the connection close, and wait for the agent's next run.
    if (this.executorSocket !== undefined) this.runtime.track(this.executorSocket.close());
    // What a terminated agent no longer remembers is no longer served (a restart attaches what it recovers).
    detachAll(this);
    this.machine.stop();
    if (this.#ownSum && this.#sum !== undefined) this.runtime.terminate(this.#sum);
  }

  override exited(upid: UPID): void {
    if (upid.equals(this.master)) {
      registration.masterExited(this, upid, 'Master exited');
      return;
    }
    executors.executorExited(this, upid);
  }

  /**
   * The bus connection to the master broke and came back: a RunTask or a re-registration reply
   * may have been lost. Re-register, as a Mesos agent does after its socket to the master
   * breaks: the master then reconciles (a task it launched here that we never heard of is
   * reported lost). Status updates need nothing: they are sent again until acknowledged.
   */
  override linkInterrupted(upid: UPID): void {
    if (upid.equals(this.master)) registration.masterExited(this, upid, 'Connection to the master interrupted; re-registering');
  }

  /**
   * Leaves the cluster for good (`mesos-ts agent` on SIGUSR1): unregisters from the master, shuts
   * every executor down (each within its shutdown grace period), forgets its id and terminates.
   * Safe from outside the agent's mailbox.
   */
  unregister(reason: string): void {
    void this.runtime
      .dispatch(this.self, () => {
        if (this.state !== 'RECOVERING') {
          registration.unregister(this, reason);
          return;
        }
        // The executors that survived the previous run are not known yet: leaving now would
        // leave them running, for no run to take back. Leave once recovery is over.
        this.log.info({ reason }, 'Leaving the cluster once recovery is over');
        this.leaveOnceRecovered = reason;
      })
      .catch(() => undefined);
  }

  /** What the container `containerId` may use: its executor's and its tasks' resources (`cgroups/*`). */
  #containerLimits(containerId: string): ContainerLimits | undefined {
    for (const framework of this.frameworks.values()) {
      for (const executor of framework.executors.values()) {
        if (executor.containerId === containerId) return limitsOf(executor.resources());
      }
    }
    return undefined;
  }

  /** The lifecycle state. */
  get state(): AgentMachineState {
    return this.machine.getSnapshot().value as AgentMachineState;
  }

  /** The id the master assigned, once registered (or recovered). */
  get agentId(): string | undefined {
    return this.info.id?.value;
  }

  /** The status update manager's address. */
  get sum(): UPID {
    if (this.#sum === undefined) throw new Error('agent not initialized');
    return this.#sum;
  }

  /** Aborts a master detection in progress when the agent terminates. */
  get detectionSignal(): AbortSignal {
    return this.#detection.signal;
  }

  /** Whether `from` is the master this agent works for. */
  fromMaster(from: UPID): boolean {
    return from.equals(this.master);
  }

  /**
   * Whether a message (`what`, for the log) from `from` is to be handled: it comes from our
   * master, and the agent is neither recovering nor terminating. Logs why not otherwise.
   */
  heeds(from: UPID, what: string): boolean {
    if (!this.fromMaster(from)) {
      this.log.warn({ from: String(from) }, `Ignoring ${what} from a process that is not our master`);
      return false;
    }
    if (this.state === 'RECOVERING' || this.state === 'TERMINATING') {
      this.log.debug({ state: this.state }, `Ignoring ${what}: the agent is ${this.state.toLowerCase()}`);
      return false;
    }
    return true;
  }

  /** Resources held by executors and their queued and live tasks. */
  usedResources(): Resources {
    let used = Resources.EMPTY;
    for (const framework of this.frameworks.values()) {
      for (const executor of framework.executors.values()) used = used.plus(executor.resources());
    }
    return used;
  }

  /** Tasks in `state`; a task queued until its executor registers is `TASK_STAGING`. */
  countTasks(state: TaskState): number {
    let n = 0;
    for (const f of this.frameworks.values()) {
      for (const e of f.executors.values()) {
        if (state === 'TASK_STAGING') n += e.queuedTasks.size;
        for (const t of e.launchedTasks.values()) if (t.state === state) n++;
      }
    }
    return n;
  }

  countExecutors(state: string): number {
    let n = 0;
    for (const f of this.frameworks.values()) for (const e of f.executors.values()) if (e.state === state) n++;
    return n;
  }

  now(): number {
    return this.clock.now();
  }

  /** A new status update uuid (base64), from the agent's byte source. */
  newUuid(): string {
    return newStatusUuid(this.#uuidSource);
  }

  /** A new container id (a UUID string), from the agent's byte source. */
  newContainerId(): string {
    return uuidToString(newUuidBytes(this.#uuidSource));
  }

  // Process capabilities the concern modules use.

  after(ms: number, fn: () => void): Timer {
    return this.delay(ms, fn);
  }

  continueWith<T>(promise: Promise<T>, onValue: (value: T) => void, onError?: (error: unknown) => void): void {
    this.defer(promise, onValue, onError);
  }

  /**
   * Continues in the mailbox once `promise` resolves, without `settle()` waiting for it: for
   * what may take long, such as a process's exit. Nothing runs if the agent terminated.
   */
  whenever<T>(promise: Promise<T>, fn: (value: T) => void): void {
    void promise.then((value) => this.runtime.dispatch(this.self, () => fn(value))).catch((error: unknown) => {
      if (this.alive) this.log.error({ err: error }, 'Continuation failed');
    });
  }

  linkTo(upid: UPID): void {
    this.link(upid);
  }
}

/**
 * The containerizer's isolation for `--isolation`: with `cgroups/cpu` or `cgroups/mem`, a
 * `CgroupsIsolator` whose hierarchies are checked (and the agent's root cgroup made) now, so that
 * an agent that cannot isolate does not start, naming the flag and the path.
 */
function cgroupsIsolation(flags: AgentFlags, limits: (containerId: string) => ContainerLimits | undefined): { isolator?: CgroupsIsolator; limits?: typeof limits } {
  const isolators = parseIsolation(flags.isolation);
  const cpu = isolators.includes('cgroups/cpu');
  const mem = isolators.includes('cgroups/mem');
  if (!cpu && !mem) return {};
  const isolator = new CgroupsIsolator({ hierarchy: flags.cgroupsHierarchy, root: flags.cgroupsRoot, cpu, mem, enableCfs: flags.cgroupsEnableCfs });
  try {
    isolator.initialize();
  } catch (error) {
    throw new InvalidFlagError('isolation', flags.isolation, (error as Error).message);
  }
  return { isolator, limits };
}
