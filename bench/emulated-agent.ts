/**
 * A lightweight agent for the `offers` and `scale` suites: it speaks the master's agent
 * protocol (as `test/helpers/fake-agent.ts` does) but drives itself, so thousands of them fit
 * in one runtime. It is not the real `Agent`, which runs executors as child processes.
 *
 * Responsibilities:
 * 1. Register with the master as a Mesos agent does (`doReliableRegistration`): the first
 *    attempt after a random delay in [0, backoff], then again with the backoff doubling up to
 *    `REGISTER_RETRY_INTERVAL_MAX_MS` until `SlaveRegisteredMessage` arrives.
 * 2. Answer the master's pings.
 * 3. Run every task at once: on `RunTaskMessage` the task is RUNNING and then FINISHED. The two
 *    updates go to the master as `StatusUpdateMessage`s one at a time per task, the next after
 *    the master forwards the framework's acknowledgement of the previous one, as the agent's
 *    status update manager sends them (no retries: the bench's bus does not lose messages, and
 *    a lost one shows up as a task that never finishes, which fails the run).
 *
 * Counts go to a shared `EmulatedAgentStats`, so a suite can check that the work was done.
 */
import { DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS, REGISTER_RETRY_INTERVAL_MAX_MS } from '../actors/agent/constants.ts';
import { newStatusUuid, seededByteSource, type ByteSource } from '../src/mesos/ids.ts';
import {
  KILL_TASK,
  PING_SLAVE,
  PONG_SLAVE,
  REGISTER_SLAVE,
  RUN_TASK,
  SHUTDOWN_EXECUTOR,
  SHUTDOWN_FRAMEWORK,
  SLAVE_REGISTERED,
  SLAVE_REREGISTERED,
  STATUS_UPDATE,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  type RegisterSlave,
  type RunTask,
  type ShutdownFramework,
  type SlaveRegistered,
  type StatusUpdateAcknowledgement,
  type StatusUpdateMessage,
} from '../src/mesos/protocol.ts';
import type { Resource, TaskState, TaskStatus } from '../src/mesos/v1/common.ts';
import type { Timer } from '../src/process/clock.ts';
import { Process } from '../src/process/process.ts';
import type { UPID } from '../src/process/upid.ts';

/** What every emulated agent of a run adds to; one object per run. */
export class EmulatedAgentStats {
  registered = 0;
  registrationAttempts = 0;
  tasksLaunched = 0;
  updatesSent = 0;
  /** Tasks whose terminal update the master acknowledged. */
  tasksFinished = 0;
  pongs = 0;
  /** Called once per agent when it is registered (for latches). */
  onRegistered: (() => void) | undefined;
}

export interface EmulatedAgentOptions {
  readonly master: UPID;
  /** The agent's resources in v1 JSON (may be shared by many agents: it is never changed). */
  readonly resources: Resource[];
  readonly hostname: string;
  readonly stats: EmulatedAgentStats;
  /** Uniform numbers in [0, 1) for the registration backoff; pass a seeded source. */
  readonly random: () => number;
  /** `--registration_backoff_factor`; default Mesos's 1 s. */
  readonly backoffFactorMs?: number;
  /**
   * Bytes for status update uuids; default one seeded source shared by every emulated agent
   * (the crypto source cost a tenth of a run's time, and uuids only need to be unique).
   */
  readonly uuidSource?: ByteSource;
}

const sharedUuidSource = seededByteSource(0x5eed);

/** A task's status updates still to be acknowledged, in order; the head is in flight. */
interface Stream {
  readonly run: RunTask;
  readonly pending: TaskState[];
  uuid: string;
}

const TERMINAL: ReadonlySet<string> = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE']);

export class EmulatedAgent extends Process {
  agentId: string | undefined;
  readonly #o: EmulatedAgentOptions;
  #backoffMs: number;
  #retry: Timer | undefined;
  /** Streams by `framework_id/task_id`. */
  readonly #streams = new Map<string, Stream>();

  constructor(id: string, options: EmulatedAgentOptions) {
    super(id);
    this.#o = options;
    this.#backoffMs = options.backoffFactorMs ?? DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS;
    this.install(SLAVE_REGISTERED, (_from, body: SlaveRegistered) => this.registered(body));
    this.install(SLAVE_REREGISTERED, (_from, body: SlaveRegistered) => this.registered(body));
    this.install(PING_SLAVE, (from) => {
      this.#o.stats.pongs++;
      this.send(from, PONG_SLAVE, {});
    });
    this.install(RUN_TASK, (_from, body: RunTask) => this.runTask(body));
    this.install(STATUS_UPDATE_ACKNOWLEDGEMENT, (_from, body: StatusUpdateAcknowledgement) => this.acknowledged(body));
    this.install(SHUTDOWN_FRAMEWORK, (_from, body: ShutdownFramework) => this.shutdownFramework(body));
    // Tasks end as soon as they start: nothing is left to kill or shut down.
    this.install(KILL_TASK, () => undefined);
    this.install(SHUTDOWN_EXECUTOR, () => undefined);
  }

  override initialize(): void {
    this.#scheduleRegistration();
  }

  override finalize(): void {
    this.#retry?.cancel();
  }

  #scheduleRegistration(): void {
    const wait = Math.floor(this.#o.random() * Math.min(this.#backoffMs, REGISTER_RETRY_INTERVAL_MAX_MS));
    this.#retry = this.delay(wait, () => {
      this.#retry = undefined;
      if (this.agentId !== undefined) return;
      this.#o.stats.registrationAttempts++;
      this.send(this.#o.master, REGISTER_SLAVE, { slave: { hostname: this.#o.hostname, resources: this.#o.resources }, version: 'bench' } satisfies RegisterSlave);
      this.#backoffMs = Math.min(this.#backoffMs * 2, REGISTER_RETRY_INTERVAL_MAX_MS);
      this.#scheduleRegistration();
    });
  }

  registered(body: SlaveRegistered): void {
    if (this.agentId !== undefined) return;
    this.agentId = body.slave_id.value;
    this.#retry?.cancel();
    this.#retry = undefined;
    this.#o.stats.registered++;
    this.#o.stats.onRegistered?.();
  }

  runTask(run: RunTask): void {
    if (this.agentId === undefined) {
      this.log.warn({ taskId: run.task.task_id.value }, 'Ignoring task: not registered');
      return;
    }
    this.#o.stats.tasksLaunched++;
    const stream: Stream = { run, pending: ['TASK_RUNNING', 'TASK_FINISHED'], uuid: '' };
    this.#streams.set(`${run.framework_id.value}/${run.task.task_id.value}`, stream);
    this.#sendHead(stream);
  }

  acknowledged(ack: StatusUpdateAcknowledgement): void {
    const key = `${ack.framework_id.value}/${ack.task_id.value}`;
    const stream = this.#streams.get(key);
    if (stream === undefined || stream.uuid !== ack.uuid) return;
    const state = stream.pending.shift()!;
    if (TERMINAL.has(state)) {
      this.#streams.delete(key);
      this.#o.stats.tasksFinished++;
      return;
    }
    if (stream.pending.length > 0) this.#sendHead(stream);
  }

  shutdownFramework(body: ShutdownFramework): void {
    const prefix = `${body.framework_id.value}/`;
    for (const key of [...this.#streams.keys()]) if (key.startsWith(prefix)) this.#streams.delete(key);
  }

  #sendHead(stream: Stream): void {
    const state = stream.pending[0]!;
    const uuid = newStatusUuid(this.#o.uuidSource ?? sharedUuidSource);
    stream.uuid = uuid;
    const agentId = { value: this.agentId! };
    const timestamp = this.clock.now() / 1000;
    const status: TaskStatus = { task_id: stream.run.task.task_id, state, source: 'SOURCE_EXECUTOR', agent_id: agentId, timestamp, uuid };
    this.#o.stats.updatesSent++;
    this.send(this.#o.master, STATUS_UPDATE, {
      // As the status update manager does: the update carries the task's newest state
      // (`latest_state`), here TASK_FINISHED from the start, since every task ends at once.
      update: { framework_id: stream.run.framework_id, agent_id: agentId, status, timestamp, uuid, latest_state: stream.pending[stream.pending.length - 1]! },
      pid: String(this.self),
    } satisfies StatusUpdateMessage);
  }
}

export { seededRandom } from '../src/random.ts';

