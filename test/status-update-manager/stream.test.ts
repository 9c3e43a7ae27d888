import test from 'ava';
import { STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MIN_MS } from '../../actors/status-update-manager/constants.ts';
import { encodeRecord, parseRecords, type CheckpointRecord } from '../../actors/status-update-manager/records.ts';
import { StatusUpdateStream } from '../../actors/status-update-manager/stream.ts';
import { Updates, uuid } from './updates.ts';

const F = { value: 'f1' };
const T = { value: 't1' };

test('stream - only the head is in flight; the next goes after its acknowledgement', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  const running = u.make('TASK_RUNNING');
  const finished = u.make('TASK_FINISHED');
  t.deepEqual(stream.update(running, { durable: true }), { kind: 'accepted' });
  const first = stream.forward(0);
  t.is(first?.update.status.state, 'TASK_RUNNING');
  t.is(first?.intervalMs, STATUS_UPDATE_RETRY_INTERVAL_MIN_MS);
  t.is(first?.retryAt, STATUS_UPDATE_RETRY_INTERVAL_MIN_MS);

  t.deepEqual(stream.update(finished, { durable: true }), { kind: 'accepted' });
  t.is(stream.forward(1), undefined, 'nothing more while the head is in flight');
  t.is(stream.pending, 2);

  const ack = stream.acknowledge(uuid(running));
  t.like(ack, { kind: 'acknowledged', terminal: false, dropped: 0 });
  const second = stream.forward(2);
  t.is(second?.update.status.state, 'TASK_FINISHED');
  t.like(stream.acknowledge(uuid(finished)), { kind: 'acknowledged', terminal: true });
  t.true(stream.terminated);
  t.is(stream.pending, 0);
});

test('stream - the update sent carries the latest state of the task', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  stream.update(u.make('TASK_RUNNING'), { durable: true });
  stream.update(u.make('TASK_FINISHED'), { durable: true });
  const delivery = stream.forward(0);
  t.is(delivery?.update.status.state, 'TASK_RUNNING');
  t.is(delivery?.update.latest_state, 'TASK_FINISHED');
});

test('stream - retries back off by doubling up to the maximum', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  stream.update(u.make('TASK_RUNNING'), { durable: true });
  let now = 0;
  let delivery = stream.forward(now);
  t.is(stream.timeout(now + STATUS_UPDATE_RETRY_INTERVAL_MIN_MS - 1), undefined, 'not due yet');
  const intervals: number[] = [];
  for (let i = 0; i < 10; i++) {
    now = delivery!.retryAt;
    delivery = stream.timeout(now);
    t.true(delivery?.retry);
    intervals.push(delivery!.intervalMs);
  }
  const m = STATUS_UPDATE_RETRY_INTERVAL_MIN_MS;
  t.deepEqual(intervals, [2 * m, 4 * m, 8 * m, 16 * m, 32 * m, STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MAX_MS]);
});

test('stream - halt resets backoff: the next forward starts from the minimum', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  stream.update(u.make('TASK_RUNNING'), { durable: true });
  stream.forward(0);
  stream.timeout(STATUS_UPDATE_RETRY_INTERVAL_MIN_MS);
  t.is(stream.inFlight?.intervalMs, 2 * STATUS_UPDATE_RETRY_INTERVAL_MIN_MS);
  stream.halt();
  t.is(stream.inFlight, undefined);
  t.is(stream.timeout(10 * STATUS_UPDATE_RETRY_INTERVAL_MAX_MS), undefined, 'no retry while halted');
  t.is(stream.forward(100)?.intervalMs, STATUS_UPDATE_RETRY_INTERVAL_MIN_MS);
});

test('stream - a stale retry timer of an acknowledged head does nothing', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  const running = u.make('TASK_RUNNING');
  stream.update(running, { durable: true });
  stream.update(u.make('TASK_FINISHED'), { durable: true });
  stream.forward(0);
  stream.acknowledge(uuid(running));
  stream.forward(5_000);
  t.is(stream.timeout(STATUS_UPDATE_RETRY_INTERVAL_MIN_MS), undefined, 'the second head is due at 15 s, not 10 s');
  t.is(stream.timeout(5_000 + STATUS_UPDATE_RETRY_INTERVAL_MIN_MS)?.update.status.state, 'TASK_FINISHED');
});

test('stream - duplicates are ignored without error, before and after acknowledgement', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  const running = u.make('TASK_RUNNING');
  stream.update(running, { durable: true });
  t.deepEqual(stream.update(running, { durable: true }), { kind: 'duplicate', reason: 'received' });
  stream.acknowledge(uuid(running));
  t.deepEqual(stream.update(running, { durable: true }), { kind: 'duplicate', reason: 'acknowledged' });
  t.is(stream.pending, 0);
});

test('stream - updates after a terminal one are refused, its duplicates are not', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  const finished = u.make('TASK_FINISHED');
  stream.update(finished, { durable: true });
  t.true(stream.terminal);
  const killed = stream.update(u.make('TASK_KILLED'), { durable: true });
  t.is(killed.kind, 'refused');
  t.regex(killed.kind === 'refused' ? killed.error : '', /TASK_KILLED .* after its terminal update TASK_FINISHED/);
  t.is(stream.update(finished, { durable: true }).kind, 'duplicate');
  t.is(stream.pending, 1);
});

test('stream - refuses an update without uuid or of another task', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  const noUuid = u.make('TASK_RUNNING');
  delete noUuid.uuid;
  delete noUuid.status.uuid;
  t.like(stream.update(noUuid, { durable: true }), { kind: 'refused' });
  t.like(stream.update(u.make('TASK_RUNNING', 't2'), { durable: true }), { kind: 'refused' });
  t.is(stream.latest, undefined);
});

test('stream - duplicate and unexpected acknowledgements are told apart and change nothing', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, false);
  const running = u.make('TASK_RUNNING');
  const finished = u.make('TASK_FINISHED');
  stream.update(running, { durable: true });
  stream.update(finished, { durable: true });
  stream.forward(0);
  t.deepEqual(stream.acknowledge(uuid(finished)), { kind: 'unexpected', expected: uuid(running) });
  t.like(stream.acknowledge(uuid(running)), { kind: 'acknowledged' });
  t.deepEqual(stream.acknowledge(uuid(running)), { kind: 'duplicate' });
  t.deepEqual(stream.acknowledge(uuid(u.make('TASK_RUNNING'))), { kind: 'unexpected', expected: uuid(finished) });
  t.is(stream.pending, 1);
});

test('stream - a checkpointed update does not travel before it is durable', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, true);
  const running = u.make('TASK_RUNNING');
  stream.update(running, { durable: false });
  t.is(stream.forward(0), undefined);
  stream.durable(uuid(running));
  t.is(stream.forward(0)?.update.uuid, uuid(running));
});

test('stream - a failed stream refuses everything and sends nothing', (t) => {
  const u = new Updates();
  const stream = new StatusUpdateStream(F, T, true);
  const running = u.make('TASK_RUNNING');
  stream.update(running, { durable: false });
  stream.fail('disk full');
  t.deepEqual(stream.update(running, { durable: false }), { kind: 'refused', error: 'disk full' });
  stream.durable(uuid(running));
  t.is(stream.forward(0), undefined);
});

test('stream - replay rebuilds pending updates minus acknowledged ones, in order', (t) => {
  const u = new Updates();
  const [a, b, c] = [u.make('TASK_STARTING'), u.make('TASK_RUNNING'), u.make('TASK_FINISHED')];
  const records: CheckpointRecord[] = [
    { type: 'UPDATE', update: a },
    { type: 'UPDATE', update: b },
    { type: 'ACK', uuid: uuid(a) },
    { type: 'UPDATE', update: c },
  ];
  const { stream, applied, error } = StatusUpdateStream.replay(records);
  t.is(error, undefined);
  t.is(applied, 4);
  t.is(stream?.pending, 2);
  t.is(stream?.head?.uuid, uuid(b));
  t.true(stream?.checkpoint);
  t.true(stream?.terminal);
  t.false(stream?.terminated);
  t.is(stream?.forward(0)?.update.uuid, uuid(b), 'replayed updates are durable');
});

test('stream - replay stops at an acknowledgement that is not for the head', (t) => {
  const u = new Updates();
  const [a, b] = [u.make('TASK_STARTING'), u.make('TASK_RUNNING')];
  const { stream, applied, error } = StatusUpdateStream.replay([
    { type: 'UPDATE', update: a },
    { type: 'UPDATE', update: b },
    { type: 'ACK', uuid: uuid(b) },
  ]);
  t.is(applied, 2);
  t.regex(error ?? '', /does not match the head/);
  t.is(stream?.pending, 2);
});

test('records - a torn last line is reported and left out of the valid length', (t) => {
  const u = new Updates();
  const update = u.make('TASK_RUNNING');
  const good = encodeRecord({ type: 'UPDATE', update }) + encodeRecord({ type: 'ACK', uuid: uuid(update) });
  const torn = encodeRecord({ type: 'UPDATE', update: u.make('TASK_FINISHED') }).slice(0, 40);
  const parsed = parseRecords(Buffer.from(good + torn));
  t.is(parsed.records.length, 2);
  t.is(parsed.validLength, Buffer.byteLength(good));
  t.like(parsed.problem, { kind: 'torn', line: 3 });
  t.deepEqual(parsed.records[1]?.record, { type: 'ACK', uuid: uuid(update) });
});

test('records - a corrupt line stops reading there', (t) => {
  const u = new Updates();
  const first = encodeRecord({ type: 'UPDATE', update: u.make('TASK_RUNNING') });
  const parsed = parseRecords(Buffer.from(first + '{"type":"NOPE"}\n' + encodeRecord({ type: 'ACK', uuid: 'x' })));
  t.is(parsed.records.length, 1);
  t.is(parsed.validLength, Buffer.byteLength(first));
  t.like(parsed.problem, { kind: 'corrupt', line: 2 });
  t.regex(parsed.problem?.reason ?? '', /'type' must be 'UPDATE' or 'ACK', got "NOPE"/);
});

test('records - an update record is validated, naming the field', (t) => {
  const parsed = parseRecords(Buffer.from('{"type":"UPDATE","update":{"framework_id":{"value":"f"}}}\n'));
  t.is(parsed.records.length, 0);
  t.regex(parsed.problem?.reason ?? '', /invalid checkpointed status update: 'status'/);
});

test('stream - replay matches an acknowledgement record by the uuid bytes, whatever its spelling', (t) => {
  const u = new Updates();
  const [a, b] = [u.make('TASK_RUNNING'), u.make('TASK_FINISHED')];
  const { stream, applied, error } = StatusUpdateStream.replay([
    { type: 'UPDATE', update: a },
    { type: 'ACK', uuid: Buffer.from(uuid(a), 'base64').toString('base64url') },
    { type: 'UPDATE', update: b },
  ]);
  t.is(error, undefined);
  t.is(applied, 3);
  t.is(stream?.head?.uuid, uuid(b));
});
