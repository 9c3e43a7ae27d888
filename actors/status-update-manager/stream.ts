import { statusUuidKey } from '../../src/mesos/ids.ts';
import type { StatusUpdate } from '../../src/mesos/protocol.ts';
import type { FrameworkID, TaskID } from '../../src/mesos/v1/common.ts';
import { isTerminalState, type TaskState } from '../../src/mesos/v1/task.ts';
import { STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MIN_MS } from './constants.ts';
import type { CheckpointRecord } from './records.ts';

/**
 * One task's status update stream, as Mesos's `TaskStatusUpdateStream`: the updates received,
 * in order, until each is acknowledged. Pure logic: it is told what happened (an update, an
 * acknowledgement, the time) and answers what to do (send this, answer that); the manager does
 * the sending, the timers and the disk.
 *
 * Only the head (the oldest unacknowledged update) is ever in flight. An update of a
 * checkpointed stream may not travel before it is on disk: it joins the queue not `durable`
 * and the manager marks it `durable` once its record is written.
 *
 * @example
 * const stream = new StatusUpdateStream(frameworkId, taskId, false);
 * stream.update(running, { durable: true });   // { kind: 'accepted' }
 * stream.forward(now);                         // { update: running, intervalMs: 10_000, ... }
 * stream.acknowledge(uuidOf(running));         // { kind: 'acknowledged', terminal: false, ... }
 */
export class StatusUpdateStream {
  readonly #pending: { update: StatusUpdate; uuid: string; durable: boolean }[] = [];
  readonly #received = new Set<string>();
  readonly #acknowledged = new Set<string>();
  #terminalState: TaskState | undefined;
  #terminated = false;
  #latest: StatusUpdate | undefined;
  #inFlight: { uuid: string; intervalMs: number; retryAt: number } | undefined;
  #error: string | undefined;

  constructor(
    readonly frameworkId: FrameworkID,
    readonly taskId: TaskID,
    /** Whether the stream is written to disk (the framework asked for checkpointing). */
    readonly checkpoint: boolean,
  ) {}

  /**
   * Rebuilds a stream from its checkpoint records. Replay stops at the first record that does
   * not fit (an update of another task, an acknowledgement of an update that is not the head);
   * `applied` says how many records made it, `error` why the rest did not.
   */
  static replay(records: readonly CheckpointRecord[]): { stream: StatusUpdateStream | undefined; applied: number; error?: string } {
    let stream: StatusUpdateStream | undefined;
    let applied = 0;
    for (const record of records) {
      if (record.type === 'UPDATE') {
        stream ??= new StatusUpdateStream(record.update.framework_id, record.update.status.task_id, true);
        const outcome = stream.update(record.update, { durable: true });
        if (outcome.kind === 'refused') return { stream, applied, error: outcome.error };
      } else {
        const outcome = stream?.acknowledge(record.uuid);
        if (outcome?.kind !== 'acknowledged') {
          return { stream, applied, error: `acknowledgement of '${record.uuid}' does not match the head of the stream` };
        }
      }
      applied++;
    }
    return { stream, applied };
  }

  /**
   * Takes a new update. A duplicate (its uuid was received or acknowledged before) is ignored
   * but is no error: the executor resent it and must still get its ack. An update after the
   * terminal one, of another task, or without a uuid is refused.
   */
  update(update: StatusUpdate, options: { durable: boolean }): UpdateOutcome {
    const raw = uuidOf(update);
    if (raw === undefined) return { kind: 'refused', error: `status update for ${this.describe()} has no 'uuid'` };
    const uuid = statusUuidKey(raw);
    if (update.framework_id.value !== this.frameworkId.value || update.status.task_id.value !== this.taskId.value) {
      return {
        kind: 'refused',
        error: `status update for task '${update.status.task_id.value}' of framework '${update.framework_id.value}' does not belong to the stream of ${this.describe()}`,
      };
    }
    // A stream that failed to write refuses even a resent update: it may never have reached disk.
    if (this.#error !== undefined) return { kind: 'refused', error: this.#error };
    if (this.#acknowledged.has(uuid)) return { kind: 'duplicate', reason: 'acknowledged' };
    if (this.#received.has(uuid)) return { kind: 'duplicate', reason: 'received' };
    if (this.#terminalState !== undefined) {
      return {
        kind: 'refused',
        error: `status update ${update.status.state} for ${this.describe()} comes after its terminal update ${this.#terminalState}`,
      };
    }
    this.#received.add(uuid);
    this.#pending.push({ update, uuid, durable: options.durable });
    this.#latest = update;
    if (isTerminalState(update.status.state)) this.#terminalState = update.status.state;
    return { kind: 'accepted' };
  }

  /** The update `uuid` is on disk: it may travel now. */
  durable(uuid: string): void {
    const key = statusUuidKey(uuid);
    const entry = this.#pending.find((p) => p.uuid === key);
    if (entry !== undefined) entry.durable = true;
  }

  /**
   * Takes the acknowledgement of `uuid`. Only the head's uuid pops it; any other is ignored
   * (`duplicate` if it was acknowledged before, `unexpected` otherwise: a retried update can be
   * acknowledged twice, once per copy). Acknowledging a terminal update terminates the stream.
   */
  acknowledge(uuid: string): AckOutcome {
    const key = statusUuidKey(uuid);
    if (this.#acknowledged.has(key)) return { kind: 'duplicate' };
    const head = this.#pending[0];
    if (head === undefined || head.uuid !== key) return { kind: 'unexpected', expected: head?.uuid };
    this.#pending.shift();
    this.#acknowledged.add(key);
    this.#inFlight = undefined;
    const terminal = isTerminalState(head.update.status.state);
    if (terminal) this.#terminated = true;
    return { kind: 'acknowledged', update: head.update, terminal, dropped: terminal ? this.#pending.length : 0 };
  }

  /**
   * Puts the head in flight if nothing is and it may travel: returns what to send and when to
   * check for its acknowledgement (`STATUS_UPDATE_RETRY_INTERVAL_MIN_MS` from `now`).
   */
  forward(now: number): Delivery | undefined {
    const head = this.#sendable();
    if (head === undefined || this.#inFlight !== undefined) return undefined;
    this.#inFlight = { uuid: head.uuid, intervalMs: STATUS_UPDATE_RETRY_INTERVAL_MIN_MS, retryAt: now + STATUS_UPDATE_RETRY_INTERVAL_MIN_MS };
    return this.#delivery(head.update, false);
  }

  /**
   * The retry timer fired: if the head is still unacknowledged and its time has come, send it
   * again and wait twice as long (bounded by `STATUS_UPDATE_RETRY_INTERVAL_MAX_MS`).
   */
  timeout(now: number): Delivery | undefined {
    const head = this.#sendable();
    const inFlight = this.#inFlight;
    if (head === undefined || inFlight === undefined || inFlight.uuid !== head.uuid || now < inFlight.retryAt) return undefined;
    const intervalMs = Math.min(inFlight.intervalMs * 2, STATUS_UPDATE_RETRY_INTERVAL_MAX_MS);
    this.#inFlight = { uuid: head.uuid, intervalMs, retryAt: now + intervalMs };
    return this.#delivery(head.update, true);
  }

  /** Nothing is in flight any more (the master went away); the next `forward` starts afresh. */
  halt(): void {
    this.#inFlight = undefined;
  }

  /** A checkpoint write failed: the stream accepts and sends nothing more (Mesos's stream error). */
  fail(error: string): void {
    this.#error ??= error;
    this.#inFlight = undefined;
  }

  /** The oldest unacknowledged update. */
  get head(): StatusUpdate | undefined {
    return this.#pending[0]?.update;
  }

  /** Unacknowledged updates. */
  get pending(): number {
    return this.#pending.length;
  }

  /** The newest update received. */
  get latest(): StatusUpdate | undefined {
    return this.#latest;
  }

  /** Whether a terminal update was received (acknowledged or not): nothing new is accepted. */
  get terminal(): boolean {
    return this.#terminalState !== undefined;
  }

  /** Whether the terminal update was acknowledged: the stream is done. */
  get terminated(): boolean {
    return this.#terminated;
  }

  /** Whether an update is in flight, and when it is due again. */
  get inFlight(): { readonly uuid: string; readonly intervalMs: number; readonly retryAt: number } | undefined {
    return this.#inFlight;
  }

  get error(): string | undefined {
    return this.#error;
  }

  /** Every uuid this stream has seen (as `statusUuidKey`s), for remembering a closed stream. */
  get uuids(): ReadonlySet<string> {
    return this.#received;
  }

  describe(): string {
    return `task '${this.taskId.value}' of framework '${this.frameworkId.value}'`;
  }

  #sendable(): { update: StatusUpdate; uuid: string } | undefined {
    const head = this.#pending[0];
    return this.#error === undefined && head?.durable === true ? head : undefined;
  }

  /** What travels: the head, carrying the latest state of the task (Mesos `latest_state`). */
  #delivery(update: StatusUpdate, retry: boolean): Delivery {
    const latestState = this.#latest?.status.state ?? update.status.state;
    const inFlight = this.#inFlight!;
    return { update: { ...update, latest_state: latestState }, intervalMs: inFlight.intervalMs, retryAt: inFlight.retryAt, retry };
  }
}

export type UpdateOutcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'duplicate'; readonly reason: 'received' | 'acknowledged' }
  | { readonly kind: 'refused'; readonly error: string };

export type AckOutcome =
  | {
      readonly kind: 'acknowledged';
      readonly update: StatusUpdate;
      /** The acknowledged update was terminal: the stream is terminated. */
      readonly terminal: boolean;
      /** Updates still queued behind an acknowledged terminal one (they will never travel). */
      readonly dropped: number;
    }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'unexpected'; readonly expected: string | undefined };

/** One send of the head to the master. */
export interface Delivery {
  readonly update: StatusUpdate;
  /** How long to wait for the acknowledgement before the next resend. */
  readonly intervalMs: number;
  /** Clock time of the next resend. */
  readonly retryAt: number;
  /** Whether this is a resend. */
  readonly retry: boolean;
}

/** The uuid acknowledgements refer to: `update.uuid`, else `status.uuid`. */
export function uuidOf(update: StatusUpdate): string | undefined {
  return update.uuid ?? update.status.uuid;
}

/** The key of a task's stream in the manager's map. */
export function streamKey(frameworkId: FrameworkID, taskId: TaskID): string {
  return JSON.stringify([frameworkId.value, taskId.value]);
}
