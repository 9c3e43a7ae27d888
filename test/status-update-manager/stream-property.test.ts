import test from 'ava';
import fc from 'fast-check';
import { STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MIN_MS } from '../../actors/status-update-manager/constants.ts';
import type { CheckpointRecord } from '../../actors/status-update-manager/records.ts';
import { StatusUpdateStream, type Delivery } from '../../actors/status-update-manager/stream.ts';
import type { StatusUpdate } from '../../src/mesos/protocol.ts';
import { isTerminalState, type TaskState } from '../../src/mesos/v1/task.ts';
import { Updates, uuid } from './updates.ts';

/**
 * A task's status update stream against a model of what Mesos's status update manager
 * promises (a property): whatever arrives (new updates, duplicates, updates after the terminal
 * one), whatever the acknowledgements (of the head, of others, repeated), however late the
 * checkpoint writes and the timers, and across a halt (the master went away):
 * - only the oldest unacknowledged update ever travels, and only once it is durable;
 * - it carries the newest accepted state as `latest_state`;
 * - accepted updates travel in the order they came, none skipped, none after an acknowledged
 *   terminal one, none accepted after a terminal one;
 * - resends wait twice as long each time, from the minimum to the maximum, and start from the
 *   minimum again for the next head or after a halt;
 * - replaying the checkpoint records gives the same stream.
 */

type Op =
  | { kind: 'update'; state: TaskState; durable: boolean }
  | { kind: 'duplicate'; which: number }
  | { kind: 'durable' }
  | { kind: 'ackHead' }
  | { kind: 'ackOther'; which: number }
  | { kind: 'forward' }
  | { kind: 'timeout'; late: boolean }
  | { kind: 'halt' };

const states: TaskState[] = ['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED'];
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), state: fc.constantFrom(...states), durable: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), which: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('durable' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ackHead' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ackOther' as const), which: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('forward' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('timeout' as const), late: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('halt' as const) }) },
);

const F = { value: 'f1' };
const T = { value: 't1' };

test('stream property - only the head travels, in order, once durable, with the latest state and doubling resends; replay agrees', (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const u = new Updates();
      const stream = new StatusUpdateStream(F, T, true);
      const records: CheckpointRecord[] = [];
      // The model.
      const accepted: { update: StatusUpdate; durable: boolean }[] = [];
      let acked = 0; // accepted[0 .. acked) are acknowledged
      let terminalAcked = false;
      let inFlight: { uuid: string; intervalMs: number; retryAt: number } | undefined;
      const travelled: string[] = []; // uuids, first sends only, in order
      let now = 0;

      const check = (d: Delivery | undefined, kind: 'forward' | 'timeout') => {
        const head = accepted[acked];
        if (d === undefined) return;
        if (terminalAcked) throw new Error('an update travelled after the terminal one was acknowledged');
        if (head === undefined) throw new Error('an update travelled with nothing pending');
        if (uuid(d.update) !== uuid(head.update)) throw new Error(`${d.update.status.state} travelled while the head is ${head.update.status.state}`);
        if (!head.durable) throw new Error('the head travelled before it was durable');
        const latest = accepted[accepted.length - 1]!.update.status.state;
        if (d.update.latest_state !== latest) throw new Error(`latest_state ${d.update.latest_state}, the newest accepted is ${latest}`);
        if (kind === 'forward') {
          if (d.retry || d.intervalMs !== STATUS_UPDATE_RETRY_INTERVAL_MIN_MS) throw new Error('a first send that is not at the minimum interval');
          if (travelled[travelled.length - 1] !== uuid(d.update)) travelled.push(uuid(d.update));
        } else {
          const expected = Math.min(inFlight!.intervalMs * 2, STATUS_UPDATE_RETRY_INTERVAL_MAX_MS);
          if (!d.retry || d.intervalMs !== expected) throw new Error(`a resend waits ${d.intervalMs} ms, expected ${expected}`);
        }
        inFlight = { uuid: uuid(d.update), intervalMs: d.intervalMs, retryAt: d.retryAt };
      };

      for (const o of ops) {
        now += 1_000;
        switch (o.kind) {
          case 'update': {
            const update = u.make(o.state);
            const outcome = stream.update(update, { durable: o.durable });
            const terminal = accepted.some((a) => isTerminalState(a.update.status.state));
            if (terminal !== (outcome.kind === 'refused')) throw new Error(`update ${o.state} after ${accepted.length} accepted (terminal: ${terminal}) was ${outcome.kind}`);
            if (outcome.kind === 'accepted') {
              accepted.push({ update, durable: o.durable });
              records.push({ type: 'UPDATE', update });
            }
            break;
          }
          case 'duplicate': {
            const earlier = accepted[o.which % Math.max(1, accepted.length)];
            if (earlier === undefined) break;
            const outcome = stream.update(earlier.update, { durable: true });
            if (outcome.kind !== 'duplicate') throw new Error(`a resent update was ${outcome.kind}`);
            break;
          }
          case 'durable':
            for (const a of accepted) {
              if (!a.durable) {
                a.durable = true;
                stream.durable(uuid(a.update));
                break;
              }
            }
            break;
          case 'ackHead': {
            const head = accepted[acked];
            if (head === undefined) break;
            const outcome = stream.acknowledge(uuid(head.update));
            if (outcome.kind !== 'acknowledged') throw new Error(`the head's acknowledgement was ${outcome.kind}`);
            records.push({ type: 'ACK', uuid: uuid(head.update) });
            acked++;
            inFlight = undefined;
            if (isTerminalState(head.update.status.state)) terminalAcked = true;
            break;
          }
          case 'ackOther': {
            const other = accepted[o.which % Math.max(1, accepted.length)];
            if (other === undefined || other === accepted[acked]) break;
            const outcome = stream.acknowledge(uuid(other.update));
            const before = accepted.indexOf(other) < acked;
            if (outcome.kind !== (before ? 'duplicate' : 'unexpected')) throw new Error(`acknowledging a ${before ? 'past' : 'later'} update was ${outcome.kind}`);
            break;
          }
          case 'forward': {
            const d = stream.forward(now);
            const head = accepted[acked];
            if (d === undefined && head !== undefined && head.durable && inFlight === undefined) throw new Error('a durable head with nothing in flight was not sent');
            check(d, 'forward');
            break;
          }
          case 'timeout': {
            const at = o.late && inFlight !== undefined ? inFlight.retryAt : now;
            now = Math.max(now, at);
            const d = stream.timeout(now);
            if (d === undefined && inFlight !== undefined && now >= inFlight.retryAt && accepted[acked] !== undefined && !terminalAcked) {
              throw new Error('a due resend did not happen');
            }
            check(d, 'timeout');
            break;
          }
          case 'halt':
            stream.halt();
            inFlight = undefined;
            break;
        }
        if (stream.pending !== accepted.length - acked) throw new Error(`pending ${stream.pending}, expected ${accepted.length - acked}`);
        if (stream.terminated !== terminalAcked) throw new Error(`terminated ${stream.terminated}, expected ${terminalAcked}`);
      }

      // First sends came in the accepted order (an update acknowledged before it was sent is
      // simply not sent; none is sent before an earlier one is acknowledged, checked above).
      const order = accepted.map((a) => uuid(a.update));
      const positions = travelled.map((id) => order.indexOf(id));
      if (positions.some((p, i) => p < 0 || (i > 0 && p <= positions[i - 1]!))) throw new Error('updates travelled out of order');

      // Replaying what was checkpointed rebuilds the same stream.
      const { stream: replayed, applied, error } = StatusUpdateStream.replay(records);
      if (error !== undefined || applied !== records.length) throw new Error(`replay stopped after ${applied} of ${records.length}: ${error}`);
      if (records.length > 0) {
        if (replayed!.pending !== stream.pending || replayed!.terminated !== stream.terminated || replayed!.terminal !== stream.terminal) throw new Error('the replayed stream differs');
        if ((replayed!.head && uuid(replayed!.head)) !== (stream.head && uuid(stream.head))) throw new Error('the replayed head differs');
      }
    }),
    { numRuns: 500, includeErrorInReport: true },
  );
  t.pass();
});
