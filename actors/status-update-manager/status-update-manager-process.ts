import { createActor, type Actor } from 'xstate';
import type { Counter } from '../../src/metrics/metrics.ts';
import { STATUS_UPDATE, type StatusUpdate, type StatusUpdateMessage } from '../../src/mesos/protocol.ts';
import { statusUuidKey, statusUuidToString } from '../../src/mesos/ids.ts';
import type { AgentID, FrameworkID, TaskID } from '../../src/mesos/v1/common.ts';
import type { Timer } from '../../src/process/clock.ts';
import { Process } from '../../src/process/process.ts';
import type { UPID } from '../../src/process/upid.ts';
import { RecentMap } from '../../src/recent.ts';
import { appendRecord, recoverStreams, removeStreamFile, taskUpdatesPath, type Recovery } from './checkpoint.ts';
import { CLOSED_STREAMS_REMEMBERED } from './constants.ts';
import {
  SUM_ACKNOWLEDGED,
  SUM_ACKNOWLEDGEMENT,
  SUM_CLEANUP,
  SUM_MASTER,
  SUM_RECOVER,
  SUM_RECOVERED,
  SUM_UPDATE,
  SUM_UPDATED,
  type SumAcknowledged,
  type SumAcknowledgement,
  type SumCleanup,
  type SumMaster,
  type SumRecover,
  type SumRecovered,
  type SumUpdate,
  type SumUpdated,
} from './protocol.ts';
import type { CheckpointRecord } from './records.ts';
import { statusUpdateManagerMachine, type StatusUpdateManagerState } from './status-update-manager.machine.ts';
import { StatusUpdateStream, streamKey, uuidOf, type Delivery } from './stream.ts';

export interface StatusUpdateManagerOptions {
  /** The agent's `--work_dir`: checkpointed streams live under `<workDir>/meta/agents/...`. */
  workDir: string;
  /**
   * Process id, default `status-update-manager`. Agents sharing a runtime (dev mode) pass
   * distinct ones, e.g. `runtime.generateId('status-update-manager')`.
   */
  id?: string;
}

/** A stream and what the manager keeps beside it: its file and its retry timer. */
interface Entry {
  readonly key: string;
  readonly stream: StatusUpdateStream;
  /** The checkpoint file, for a checkpointed stream. */
  readonly path: string | undefined;
  /** Whether a record was written (or recovered), so the next one appends. */
  written: boolean;
  timer: Timer | undefined;
}

/**
 * The agent's status update manager, after Mesos's `StatusUpdateManagerProcess`.
 *
 * Responsibilities:
 * 1. Reliably sending status updates to the master: one stream per task, only its oldest
 *    unacknowledged update in flight, resent from `STATUS_UPDATE_RETRY_INTERVAL_MIN_MS`
 *    doubling to `STATUS_UPDATE_RETRY_INTERVAL_MAX_MS` until acknowledged; paused while no
 *    master is known, everything resent at once to a new one.
 * 2. Checkpointing updates and acknowledgements to disk when the framework asked for it,
 *    before answering the agent (`SUM_UPDATED`).
 * 3. Receiving acknowledgements: the head's pops it and sends the next; duplicate and stale ones
 *    are ignored; acknowledging the terminal update closes the stream and removes its file.
 * 4. Recovering checkpointed streams after an agent restart (`SUM_RECOVER`), to send what the
 *    master has not acknowledged.
 *
 * The per-update logic is the plain `StatusUpdateStream` class; the machine only says whether
 * a master is known (`PAUSED` / `RUNNING`). Talks to its agent by the messages of `protocol.ts`
 * and to the master by `StatusUpdateMessage`, whose `pid` names the agent to acknowledge to.
 */
export class StatusUpdateManager extends Process {
  readonly workDir: string;
  readonly machine: Actor<typeof statusUpdateManagerMachine>;
  readonly #streams = new Map<string, Entry>();
  /** Uuids of closed streams (terminal update acknowledged), oldest first. */
  readonly #closed = new RecentMap<string, ReadonlySet<string>>(CLOSED_STREAMS_REMEMBERED);
  /** The tail of each file's chain of writes. */
  readonly #io = new Map<string, Promise<void>>();
  #master: string | null = null;
  #agent: string | undefined;
  #agentId: AgentID | undefined;
  /** Messages that arrived while checkpoints are read, handled once recovery is done. */
  #held: (() => void)[] | undefined;

  stats!: Record<'updatesReceived' | 'updatesSent' | 'updatesRetried' | 'acksReceived' | 'acksIgnored' | 'recoveryErrors', Counter>;

  constructor(options: StatusUpdateManagerOptions) {
    super(options.id ?? 'status-update-manager');
    this.workDir = options.workDir;
    this.machine = createActor(
      statusUpdateManagerMachine.provide({
        actions: {
          resume: () => this.#resume(),
          pause: () => this.#pause(),
        },
      }),
      { clock: this.machineClock },
    );

    this.install(SUM_UPDATE, (from, body: SumUpdate) => this.update(from, body));
    this.install(SUM_ACKNOWLEDGEMENT, (from, body: SumAcknowledgement) => this.acknowledgement(from, body));
    this.install(SUM_MASTER, (from, body: SumMaster) => this.newMaster(from, body));
    this.install(SUM_RECOVER, (from, body: SumRecover) => this.recover(from, body));
    this.install(SUM_CLEANUP, (from, body: SumCleanup) => this.cleanup(from, body));
  }

  override initialize(): void {
    const c = (name: string): Counter => this.counter(name);
    this.stats = {
      updatesReceived: c('status_updates_received'),
      updatesSent: c('status_updates_sent'),
      updatesRetried: c('status_updates_retried'),
      acksReceived: c('status_update_acknowledgements_received'),
      acksIgnored: c('status_update_acknowledgements_ignored'),
      recoveryErrors: c('recovery_errors'),
    };
    this.metrics.gauge(`${this.id}/streams`, () => this.#streams.size);
    this.metrics.gauge(`${this.id}/pending_status_updates`, () => {
      let n = 0;
      for (const entry of this.#streams.values()) n += entry.stream.pending;
      return n;
    });
    this.machine.start();
  }

  override finalize(): void {
    this.machine.stop();
  }

  get state(): StatusUpdateManagerState {
    return this.machine.getSnapshot().value as StatusUpdateManagerState;
  }

  /** The live streams, for the agent's `/state` and for tests. */
  streams(): StatusUpdateStream[] {
    return [...this.#streams.values()].map((entry) => entry.stream);
  }

  // -------------------------------------------------------------------------------------------
  // 1. and 2. Updates from the agent.

  private update(from: UPID, body: SumUpdate): void {
    if (this.#held !== undefined) {
      this.log.debug({ task: body.update.status.task_id.value }, 'Holding status update until recovery completes');
      this.#held.push(() => this.update(from, body));
      return;
    }
    const { update, checkpoint } = body;
    const frameworkId = update.framework_id;
    const taskId = update.status.task_id;
    const uuid = uuidOf(update) ?? '';
    this.stats.updatesReceived.inc();
    this.log.info({ state: update.status.state, uuid: statusUuidToString(uuid), task: taskId.value, framework: frameworkId.value }, 'Received status update');

    const key = streamKey(frameworkId, taskId);
    let entry = this.#streams.get(key);
    if (entry === undefined) {
      if (this.#closed.get(key)?.has(statusUuidKey(uuid)) === true) {
        this.log.warn({ uuid: statusUuidToString(uuid), task: taskId.value }, 'Ignoring status update of a closed stream that was already acknowledged');
        this.#updated(from, frameworkId, taskId, uuid);
        return;
      }
      const created = this.#createStream(key, frameworkId, taskId, checkpoint, update);
      if (typeof created === 'string') {
        this.#updated(from, frameworkId, taskId, uuid, created);
        return;
      }
      entry = created;
    }
    const stream = entry.stream;
    if (stream.checkpoint !== checkpoint) {
      this.#updated(from, frameworkId, taskId, uuid, `mismatched checkpoint for status update of ${stream.describe()}: the stream has checkpoint=${stream.checkpoint}, the update ${checkpoint}`);
      return;
    }

    const outcome = stream.update(update, { durable: !checkpoint });
    if (outcome.kind === 'refused') {
      this.log.warn({ task: taskId.value, reason: outcome.error }, 'Refusing status update');
      if (stream.latest === undefined) this.#streams.delete(key);
      this.#updated(from, frameworkId, taskId, uuid, outcome.error);
      return;
    }
    if (outcome.kind === 'duplicate') {
      this.log.warn({ uuid: statusUuidToString(uuid), task: taskId.value, reason: outcome.reason }, 'Ignoring duplicate status update');
      // The first copy may still be on its way to disk: answer once it is there.
      this.#afterWrites(entry, () => this.#updated(from, frameworkId, taskId, uuid, stream.error));
      return;
    }
    if (entry.path === undefined) {
      this._update(from, entry, update, uuid);
      return;
    }
    this.defer(
      this.#write(entry, { type: 'UPDATE', update }),
      () => this._update(from, entry, update, uuid),
      (error) => this._update(from, entry, update, uuid, error),
    );
  }

  /** The update is accepted (and on disk if checkpointed): answer the agent, send if it is the head. */
  private _update(from: UPID, entry: Entry, update: StatusUpdate, uuid: string, error?: unknown): void {
    const stream = entry.stream;
    if (error !== undefined) {
      const message = `failed to checkpoint status update of ${stream.describe()} to '${entry.path}': ${(error as Error).message}`;
      this.log.error({ err: error }, 'Failed to checkpoint status update');
      stream.fail(message);
      entry.timer?.cancel();
      this.#updated(from, update.framework_id, update.status.task_id, uuid, message);
      return;
    }
    stream.durable(uuid);
    this.#updated(from, update.framework_id, update.status.task_id, uuid);
    if (this.#streams.get(entry.key) === entry) this.#forward(entry);
  }

  #createStream(key: string, frameworkId: FrameworkID, taskId: TaskID, checkpoint: boolean, update: StatusUpdate): Entry | string {
    let path: string | undefined;
    if (checkpoint) {
      const agentId = this.#agentId ?? update.agent_id ?? update.status.agent_id;
      if (agentId === undefined) return `cannot checkpoint status update of task '${taskId.value}': no agent id known yet (send ${SUM_MASTER} or ${SUM_RECOVER} first)`;
      const located = taskUpdatesPath(this.workDir, agentId, frameworkId, taskId);
      if (typeof located !== 'string') return located.error;
      path = located;
    }
    this.log.debug({ task: taskId.value, framework: frameworkId.value, checkpoint }, 'Creating status update stream');
    const entry: Entry = { key, stream: new StatusUpdateStream(frameworkId, taskId, checkpoint), path, written: false, timer: undefined };
    this.#streams.set(key, entry);
    return entry;
  }

  #updated(to: UPID, frameworkId: FrameworkID, taskId: TaskID, uuid: string, error?: string): void {
    const body: SumUpdated = error === undefined ? { framework_id: frameworkId, task_id: taskId, uuid } : { framework_id: frameworkId, task_id: taskId, uuid, error };
    this.send(to, SUM_UPDATED, body);
  }

  // -------------------------------------------------------------------------------------------
  // 1. Sending, retrying, pausing.

  /** Sends the stream's head if the manager runs and nothing of the stream is in flight. */
  #forward(entry: Entry): void {
    if (this.state === 'RUNNING') this.#forwardHead(entry);
  }

  /** `#forward` without the state check, for `resume`, which runs while the machine moves to `RUNNING`. */
  #forwardHead(entry: Entry): void {
    const delivery = entry.stream.forward(this.clock.now());
    if (delivery !== undefined) this.#deliver(entry, delivery);
  }

  /** The retry timer of a stream fired. */
  private timeout(key: string): void {
    if (this.state !== 'RUNNING') {
      this.log.debug('Ignoring status update retry while paused');
      return;
    }
    const entry = this.#streams.get(key);
    if (entry === undefined) {
      this.log.debug('Ignoring status update retry of a closed stream');
      return;
    }
    entry.timer = undefined;
    const delivery = entry.stream.timeout(this.clock.now());
    if (delivery === undefined) return;
    this.stats.updatesRetried.inc();
    this.log.warn(
      { state: delivery.update.status.state, uuid: statusUuidToString(uuidOf(delivery.update) ?? ''), task: entry.stream.taskId.value, nextRetryMs: delivery.intervalMs },
      'Resending status update',
    );
    this.#deliver(entry, delivery);
  }

  #deliver(entry: Entry, delivery: Delivery): void {
    const master = this.#master;
    if (master === null || this.#agent === undefined) throw new Error('status update manager is RUNNING without a master');
    const body: StatusUpdateMessage = { update: delivery.update, pid: this.#agent };
    this.log.debug({ state: delivery.update.status.state, task: entry.stream.taskId.value, master }, 'Forwarding status update');
    this.send(master, STATUS_UPDATE, body);
    this.stats.updatesSent.inc();
    entry.timer?.cancel();
    entry.timer = this.delay(delivery.intervalMs, () => this.timeout(entry.key));
  }

  private newMaster(_from: UPID, { master, agent, agent_id }: SumMaster): void {
    this.#agent = agent;
    this.#agentId = agent_id;
    if (master === this.#master) {
      this.log.debug({ master }, 'Ignoring master: already known');
      return;
    }
    this.#master = master;
    if (master === null) {
      this.log.info('Pausing status update manager: no master');
      this.machine.send({ type: 'MASTER_LOST' });
    } else {
      this.log.info({ master }, 'Resuming status update manager with a new master');
      this.machine.send({ type: 'MASTER_DETECTED' });
    }
  }

  /** Every stream's head goes to the (new) master at once, backoff reset. */
  #resume(): void {
    for (const entry of this.#streams.values()) {
      entry.timer?.cancel();
      entry.timer = undefined;
      entry.stream.halt();
      this.#forwardHead(entry);
    }
  }

  #pause(): void {
    for (const entry of this.#streams.values()) {
      entry.timer?.cancel();
      entry.timer = undefined;
      entry.stream.halt();
    }
  }

  // -------------------------------------------------------------------------------------------
  // 3. Acknowledgements.

  private acknowledgement(from: UPID, body: SumAcknowledgement): void {
    if (this.#held !== undefined) {
      this.log.debug({ task: body.task_id.value }, 'Holding acknowledgement until recovery completes');
      this.#held.push(() => this.acknowledgement(from, body));
      return;
    }
    const { framework_id: frameworkId, task_id: taskId, uuid } = body;
    this.stats.acksReceived.inc();
    const key = streamKey(frameworkId, taskId);
    const entry = this.#streams.get(key);
    if (entry === undefined) {
      this.stats.acksIgnored.inc();
      const closed = this.#closed.get(key)?.has(statusUuidKey(uuid)) === true;
      this.log.warn({ uuid: statusUuidToString(uuid), task: taskId.value, framework: frameworkId.value }, closed ? 'Ignoring duplicate acknowledgement of a closed stream' : 'Ignoring acknowledgement for an unknown stream');
      return;
    }
    const stream = entry.stream;
    const outcome = stream.acknowledge(uuid);
    if (outcome.kind !== 'acknowledged') {
      this.stats.acksIgnored.inc();
      this.log.warn(
        { uuid: statusUuidToString(uuid), expected: outcome.kind === 'unexpected' && outcome.expected !== undefined ? statusUuidToString(outcome.expected) : undefined, task: taskId.value },
        outcome.kind === 'duplicate' ? 'Ignoring duplicate acknowledgement' : 'Ignoring unexpected acknowledgement',
      );
      return;
    }
    this.log.info({ uuid: statusUuidToString(uuid), state: outcome.update.status.state, task: taskId.value }, 'Received status update acknowledgement');
    entry.timer?.cancel();
    entry.timer = undefined;
    if (outcome.terminal) {
      if (outcome.dropped > 0) this.log.warn({ task: taskId.value, dropped: outcome.dropped }, 'Acknowledged a terminal status update but updates are still pending');
      this.#close(entry);
    } else {
      this.#forward(entry);
    }
    const answer: SumAcknowledged = { framework_id: frameworkId, task_id: taskId, uuid, terminal: outcome.terminal };
    if (entry.path === undefined) {
      this._acknowledgement(from, answer);
      return;
    }
    const written = this.#write(entry, { type: 'ACK', uuid });
    const done = outcome.terminal ? this.#remove(entry) : written;
    this.defer(
      done,
      () => this._acknowledgement(from, answer),
      (error) => this._acknowledgement(from, answer, error),
    );
  }

  /** The acknowledgement is applied (and on disk): tell the agent. */
  private _acknowledgement(to: UPID, answer: SumAcknowledged, error?: unknown): void {
    // A lost ACK record only means the update is sent once more after a restart.
    if (error !== undefined) this.log.error({ err: error, task: answer.task_id.value }, 'Failed to checkpoint status update acknowledgement');
    this.send(to, SUM_ACKNOWLEDGED, answer);
  }

  /** Forgets a stream whose terminal update was acknowledged, remembering its uuids. */
  #close(entry: Entry): void {
    this.log.debug({ task: entry.stream.taskId.value, framework: entry.stream.frameworkId.value }, 'Closing status update stream');
    entry.timer?.cancel();
    this.#streams.delete(entry.key);
    this.#closed.set(entry.key, entry.stream.uuids);
  }

  private cleanup(from: UPID, body: SumCleanup): void {
    if (this.#held !== undefined) {
      this.#held.push(() => this.cleanup(from, body));
      return;
    }
    const frameworkId = body.framework_id.value;
    this.log.info({ framework: frameworkId }, 'Closing status update streams of framework');
    for (const entry of [...this.#streams.values()]) {
      if (entry.stream.frameworkId.value !== frameworkId) continue;
      entry.timer?.cancel();
      this.#streams.delete(entry.key);
      if (entry.path !== undefined) this.defer(this.#remove(entry), () => {});
    }
    for (const key of [...this.#closed.keys()]) {
      if ((JSON.parse(key) as [string, string])[0] === frameworkId) this.#closed.delete(key);
    }
  }

  // -------------------------------------------------------------------------------------------
  // 4. Recovery.

  private recover(from: UPID, { agent_id }: SumRecover): void {
    if (this.#held !== undefined) {
      this.log.debug('Ignoring recover: recovery in progress');
      return;
    }
    this.log.info({ agentId: agent_id.value }, 'Recovering status update manager');
    this.#agentId = agent_id;
    this.#held = [];
    this.defer(
      recoverStreams(this.workDir, agent_id),
      (recovery) => this._recover(from, recovery),
      (error) => this._recover(from, { streams: [], errors: [(error as Error).message] }),
    );
  }

  private _recover(to: UPID, recovery: Recovery): void {
    const answer: SumRecovered['streams'] = [];
    const recovered: Entry[] = [];
    for (const { path, stream, problem, torn } of recovery.streams) {
      if (problem !== undefined) {
        this.stats.recoveryErrors.inc();
        this.log.warn({ path, problem }, 'Recovered status update stream with a damaged checkpoint');
      }
      if (torn !== undefined) this.log.info({ path, torn }, 'Discarded a partial record at the end of a status update stream checkpoint');
      const key = streamKey(stream.frameworkId, stream.taskId);
      if (this.#streams.has(key)) {
        this.log.warn({ path }, 'Ignoring checkpointed stream: the stream is already active');
        continue;
      }
      const latest = stream.latest;
      answer.push({
        framework_id: stream.frameworkId,
        task_id: stream.taskId,
        pending: stream.pending,
        terminal: stream.terminal,
        ...(latest !== undefined ? { latest } : {}),
      });
      if (stream.terminated) {
        this.#closed.set(key, stream.uuids);
        continue;
      }
      const entry: Entry = { key, stream, path, written: true, timer: undefined };
      this.#streams.set(key, entry);
      recovered.push(entry);
    }
    for (const error of recovery.errors) {
      this.stats.recoveryErrors.inc();
      this.log.error({ reason: error }, 'Failed to recover a status update stream');
    }
    this.log.info({ streams: answer.length, pending: recovered.reduce((n, e) => n + e.stream.pending, 0) }, 'Recovered status update manager');
    const body: SumRecovered = recovery.errors.length === 0 ? { streams: answer } : { streams: answer, error: recovery.errors.join('; ') };
    this.send(to, SUM_RECOVERED, body);

    for (const entry of recovered) this.#forward(entry);
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const handle of held) handle();
  }

  // -------------------------------------------------------------------------------------------
  // Disk: one chain of operations per file, so records land in the order they were decided.

  #write(entry: Entry, record: CheckpointRecord): Promise<void> {
    const path = entry.path;
    if (path === undefined) throw new Error(`stream of ${entry.stream.describe()} is not checkpointed`);
    const first = !entry.written;
    entry.written = true;
    return this.#chain(path, () => appendRecord(path, record, first));
  }

  /** Runs `fn` once the writes already queued for the stream's file are done (at once if none). */
  #afterWrites(entry: Entry, fn: () => void): void {
    const pending = entry.path === undefined ? undefined : this.#io.get(entry.path);
    if (pending === undefined) fn();
    else this.defer(pending.catch(() => undefined), fn);
  }

  #remove(entry: Entry): Promise<void> {
    const path = entry.path;
    if (path === undefined) return Promise.resolve();
    return this.#chain(path, () => removeStreamFile(path));
  }

  #chain(path: string, op: () => Promise<void>): Promise<void> {
    const previous = this.#io.get(path) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(op);
    this.#io.set(path, next);
    const forget = (): void => {
      if (this.#io.get(path) === next) this.#io.delete(path);
    };
    next.then(forget, forget);
    return next;
  }
}
