import test, { type ExecutionContext } from 'ava';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { STATUS_UPDATE_RETRY_INTERVAL_MAX_MS, STATUS_UPDATE_RETRY_INTERVAL_MIN_MS } from '../../actors/status-update-manager/constants.ts';
import { taskUpdatesPath } from '../../actors/status-update-manager/checkpoint.ts';
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
  type SumRecovered,
  type SumUpdated,
} from '../../actors/status-update-manager/protocol.ts';
import { encodeRecord, parseRecords } from '../../actors/status-update-manager/records.ts';
import { StatusUpdateManager } from '../../actors/status-update-manager/status-update-manager-process.ts';
import { STATUS_UPDATE, type StatusUpdate, type StatusUpdateMessage } from '../../src/mesos/protocol.ts';
import type { MessageEvent } from '../../src/process/filter.ts';
import { dropMessage, dropMessages, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { localWorld, Probe } from '../helpers/runtime.ts';
import { Updates, uuid } from './updates.ts';

// Message filters are process-wide: the tests of this file run one at a time.
const serial = test.serial;
resetFiltersAfterEach(test);

const AGENT_ID = { value: 'a1' };
const MIN = STATUS_UPDATE_RETRY_INTERVAL_MIN_MS;

let worlds = 0;

/**
 * A runtime with a paused clock, a status update manager, and two probes: `master` (receives
 * `StatusUpdateMessage`) and `agent` (drives the manager and receives its answers).
 */
async function start(t: ExecutionContext, options: { workDir?: string } = {}) {
  const node = `sum-${++worlds}`;
  const { clock, runtimes, shutdown } = await localWorld([node]);
  t.teardown(shutdown);
  const rt = runtimes[0]!;
  clock.pause();
  const workDir = options.workDir ?? (await tempDir(t));
  const master = new Probe('master', [STATUS_UPDATE]);
  const master2 = new Probe('master2', [STATUS_UPDATE]);
  const agent = new Probe('slave(1)', [SUM_UPDATED, SUM_ACKNOWLEDGED, SUM_RECOVERED]);
  rt.spawn(master);
  rt.spawn(master2);
  rt.spawn(agent);
  const world = {
    rt,
    clock,
    master,
    master2,
    agent,
    workDir,
    sum: new StatusUpdateManager({ workDir }),
    /** Spawns a fresh manager on the same work dir (an agent restart). */
    async restart(): Promise<StatusUpdateManager> {
      rt.terminate(world.sum.self);
      await rt.wait(world.sum.self);
      world.sum = new StatusUpdateManager({ workDir });
      rt.spawn(world.sum);
      return world.sum;
    },
    detect(to: Probe | null = master): void {
      agent.send(world.sum.self, SUM_MASTER, { master: to === null ? null : String(to.self), agent: String(agent.self), agent_id: AGENT_ID });
    },
    update(update: StatusUpdate, checkpoint = false): void {
      agent.send(world.sum.self, SUM_UPDATE, { update, checkpoint });
    },
    ack(update: StatusUpdate, uuidOverride?: string): void {
      agent.send(world.sum.self, SUM_ACKNOWLEDGEMENT, { framework_id: update.framework_id, task_id: update.status.task_id, uuid: uuidOverride ?? uuid(update) });
    },
    /** Updates the master received, by state. */
    received(probe: Probe = master): string[] {
      return probe.bodies(STATUS_UPDATE).map((b) => (b as StatusUpdateMessage).update.status.state);
    },
    /**
     * Advances the clock by each of `steps` in turn, letting the mailboxes run in between (a
     * timer only enqueues its retry; the retry arms the next timer when the manager runs it).
     */
    async advance(...steps: number[]): Promise<void> {
      for (const ms of steps) {
        clock.advance(ms);
        await rt.settle();
      }
    },
    counter(name: string): number {
      return rt.metrics.snapshot()[`status-update-manager/${name}`] ?? 0;
    },
  };
  rt.spawn(world.sum);
  return world;
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mesos-ts-sum-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function pathOf(workDir: string, update: StatusUpdate): string {
  const path = taskUpdatesPath(workDir, AGENT_ID, update.framework_id, update.status.task_id);
  if (typeof path !== 'string') throw new Error(path.error);
  return path;
}

/** Writes `text` as the checkpointed stream of `update`'s task (a previous run's); returns its path. */
async function checkpointed(workDir: string, update: StatusUpdate, text: string): Promise<string> {
  const path = pathOf(workDir, update);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}

async function recordsOf(path: string) {
  return parseRecords(await readFile(path)).records.map((r) => (r.record.type === 'ACK' ? `ACK ${r.record.uuid}` : `UPDATE ${r.record.update.status.state}`));
}

function messageBody(event: MessageEvent): StatusUpdateMessage {
  return event.body as StatusUpdateMessage;
}

serial('RetryStatusUpdate', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');

  const statusUpdateMessage = dropMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  const updated = w.agent.next(SUM_UPDATED);
  w.update(running);
  const dropped = messageBody(await statusUpdateMessage);
  t.is(dropped.update.uuid, uuid(running));
  t.is(dropped.pid, String(w.agent.self), 'the master acknowledges to the agent');
  t.deepEqual(await updated, { framework_id: running.framework_id, task_id: running.status.task_id, uuid: uuid(running) } satisfies SumUpdated);
  await w.rt.settle();
  t.deepEqual(w.received(), []);

  const retried = futureMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  w.clock.advance(MIN);
  t.is(messageBody(await retried).update.uuid, uuid(running));
  t.deepEqual(w.received(), ['TASK_RUNNING']);

  // Backoff doubles: the next resend waits 2 × MIN.
  w.clock.advance(MIN);
  await w.rt.settle();
  t.deepEqual(w.received(), ['TASK_RUNNING'], 'no resend after MIN');
  w.clock.advance(MIN);
  await w.rt.settle();
  t.deepEqual(w.received(), ['TASK_RUNNING', 'TASK_RUNNING'], 'resent after 2 × MIN');
  w.clock.advance(4 * MIN);
  await w.rt.settle();
  t.is(w.received().length, 3, 'then after 4 × MIN');
  t.is(w.counter('status_updates_retried'), 3);
  t.is(w.counter('status_updates_sent'), 4);

  // Acknowledged: no more resends.
  w.ack(running);
  await w.rt.settle();
  w.clock.advance(STATUS_UPDATE_RETRY_INTERVAL_MAX_MS);
  await w.rt.settle();
  t.is(w.received().length, 3);
});

serial('RetryStatusUpdate - backoff stops doubling at STATUS_UPDATE_RETRY_INTERVAL_MAX_MS', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  w.update(u.make('TASK_RUNNING'));
  await w.rt.settle();
  // Resends after 10, 20, 40, 80, 160, 320 s, then every 600 s (not 640).
  await w.advance(MIN, 2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN, 32 * MIN);
  t.is(w.received().length, 7);
  await w.advance(STATUS_UPDATE_RETRY_INTERVAL_MAX_MS - 1);
  t.is(w.received().length, 7);
  await w.advance(1);
  t.is(w.received().length, 8);
  await w.advance(STATUS_UPDATE_RETRY_INTERVAL_MAX_MS);
  t.is(w.received().length, 9);
});

serial('StatusUpdateOrdering - the second update travels only after the first is acknowledged', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const finished = u.make('TASK_FINISHED');
  w.update(running);
  w.update(finished);
  await w.rt.settle();
  t.deepEqual(w.received(), ['TASK_RUNNING']);
  t.is(w.agent.bodies(SUM_UPDATED).length, 2, 'both are answered at once');

  // LatestTaskState: the retried head carries the latest state of the task.
  await w.advance(MIN);
  const retried = w.master.bodies(STATUS_UPDATE)[1] as StatusUpdateMessage;
  t.is(retried.update.status.state, 'TASK_RUNNING');
  t.is(retried.update.latest_state, 'TASK_FINISHED');

  const second = futureMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  const acknowledged = w.agent.next(SUM_ACKNOWLEDGED);
  w.ack(running);
  t.deepEqual(await acknowledged, { framework_id: running.framework_id, task_id: running.status.task_id, uuid: uuid(running), terminal: false } satisfies SumAcknowledged);
  t.is(messageBody(await second).update.uuid, uuid(finished));
  t.deepEqual(w.received(), ['TASK_RUNNING', 'TASK_RUNNING', 'TASK_FINISHED']);
});

serial('IgnoreDuplicateStatusUpdateAck', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');

  // Drop the first update, so that the manager resends it.
  const statusUpdateMessage = dropMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  w.update(running);
  await statusUpdateMessage;
  const retried = futureMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  w.clock.advance(MIN);
  await retried;

  // The ACK of the retried update.
  const ack = w.agent.next(SUM_ACKNOWLEDGED);
  w.ack(running);
  await ack;

  // Now TASK_FINISHED, whose ACK never comes because its update is dropped.
  const drops = dropMessages(STATUS_UPDATE, w.sum.self, w.master.self);
  const finished = u.make('TASK_FINISHED');
  const update2 = w.agent.next(SUM_UPDATED);
  w.update(finished);
  await update2;
  await w.rt.settle();
  t.is(drops.dropped.length, 1);

  // A duplicate ACK for TASK_RUNNING (the one of the original copy).
  w.ack(running);
  await w.rt.settle();
  t.is(w.agent.bodies(SUM_ACKNOWLEDGED).length, 1, 'the duplicate is not answered');
  t.is(w.counter('status_update_acknowledgements_ignored'), 1);
  t.is(w.counter('status_update_acknowledgements_received'), 2);

  // The stream still waits for TASK_FINISHED's ACK: it is resent.
  w.clock.advance(MIN);
  await w.rt.settle();
  t.is(drops.dropped.length, 2);
  t.is(messageBody(drops.dropped[1]!).update.uuid, uuid(finished));
});

serial('IgnoreUnexpectedStatusUpdateAck', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const statusUpdateMessage = futureMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  w.update(running);
  await statusUpdateMessage;

  // An ACK with a random uuid.
  w.ack(running, uuid(u.make('TASK_RUNNING')));
  await w.rt.settle();
  t.deepEqual(w.agent.bodies(SUM_ACKNOWLEDGED), []);
  t.is(w.counter('status_update_acknowledgements_ignored'), 1);
  t.is(w.sum.streams()[0]?.pending, 1);

  // The update is still unacknowledged, so it is retried.
  const retried = futureMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  w.clock.advance(MIN);
  t.is(messageBody(await retried).update.uuid, uuid(running));

  // An ACK for a stream nobody knows is ignored too.
  w.ack(u.make('TASK_RUNNING', 'unknown-task'));
  await w.rt.settle();
  t.is(w.counter('status_update_acknowledgements_ignored'), 2);
});

serial('DuplicateUpdateBeforeAck - a duplicate update is answered but not queued again', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  w.update(running);
  w.update(running);
  await w.rt.settle();
  const answers = w.agent.bodies(SUM_UPDATED) as SumUpdated[];
  t.is(answers.length, 2, 'the executor gets its ack for the duplicate too');
  t.true(answers.every((a) => a.error === undefined && a.uuid === uuid(running)));
  t.deepEqual(w.received(), ['TASK_RUNNING']);
  t.is(w.sum.streams()[0]?.pending, 1);
  t.is(w.counter('status_updates_received'), 2);
});

serial('TerminalStatusUpdate - its acknowledgement closes the stream; later updates are refused', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const finished = u.make('TASK_FINISHED');
  w.update(finished);
  await w.rt.settle();

  // An update after the terminal one, while it is unacknowledged.
  const refused = w.agent.next(SUM_UPDATED);
  const killed = u.make('TASK_KILLED');
  w.update(killed);
  const answer = (await refused) as SumUpdated;
  t.is(answer.uuid, uuid(killed));
  t.regex(answer.error ?? '', /TASK_KILLED for task 't1' of framework 'f1' comes after its terminal update TASK_FINISHED/);

  const acknowledged = w.agent.next(SUM_ACKNOWLEDGED);
  w.ack(finished);
  t.deepEqual(await acknowledged, { framework_id: finished.framework_id, task_id: finished.status.task_id, uuid: uuid(finished), terminal: true });
  t.deepEqual(w.sum.streams(), [], 'the stream is closed');

  // The executor resends the terminal update: it gets its ack, the master does not see it again.
  const duplicate = w.agent.next(SUM_UPDATED);
  w.update(finished);
  t.is(((await duplicate) as SumUpdated).error, undefined);
  await w.rt.settle();
  t.deepEqual(w.received(), ['TASK_FINISHED']);
  t.deepEqual(w.sum.streams(), []);
});

serial('PauseStatusUpdateManager - nothing is sent without a master; a new master gets every head at once', async (t) => {
  const w = await start(t);
  const u = new Updates();
  // No master yet: updates are accepted and wait.
  const a = u.make('TASK_RUNNING', 'ta');
  w.update(a);
  await w.rt.settle();
  t.is(w.agent.bodies(SUM_UPDATED).length, 1);
  t.deepEqual(w.received(), []);
  t.is(w.sum.state, 'PAUSED');

  w.detect();
  await w.rt.settle();
  t.is(w.sum.state, 'RUNNING');
  t.deepEqual(w.received(), ['TASK_RUNNING']);

  // The master goes away: no sends, no retries.
  w.detect(null);
  const b = u.make('TASK_STARTING', 'tb');
  w.update(b);
  await w.rt.settle();
  t.is(w.sum.state, 'PAUSED');
  w.clock.advance(STATUS_UPDATE_RETRY_INTERVAL_MAX_MS * 3);
  await w.rt.settle();
  t.is(w.received().length, 1, 'nothing sent while paused');
  t.is(w.counter('status_updates_retried'), 0);

  // A new master gets the head of every stream at once, with backoff reset.
  w.detect(w.master2);
  await w.rt.settle();
  t.deepEqual(w.received(w.master2).sort(), ['TASK_RUNNING', 'TASK_STARTING']);
  w.clock.advance(MIN);
  await w.rt.settle();
  t.is(w.received(w.master2).length, 4, 'both retried after MIN');
  t.is(w.received().length, 1, 'the old master gets nothing more');
});

serial('NewMaster - a different master while running gets every head at once, backoff reset', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  w.update(u.make('TASK_RUNNING'));
  await w.rt.settle();
  await w.advance(MIN, 2 * MIN); // Two resends: the next one would wait 4 × MIN.
  t.is(w.received().length, 3);

  // The same master again changes nothing.
  w.detect();
  await w.rt.settle();
  t.is(w.received().length, 3);

  w.detect(w.master2);
  await w.rt.settle();
  t.deepEqual(w.received(w.master2), ['TASK_RUNNING']);
  w.clock.advance(MIN);
  await w.rt.settle();
  t.deepEqual(w.received(w.master2), ['TASK_RUNNING', 'TASK_RUNNING'], 'the retry interval starts again at MIN');
  t.is(w.received().length, 3);
});

serial('CheckpointStatusUpdate', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const path = pathOf(w.workDir, running);
  t.is(path, join(w.workDir, 'meta', 'agents', 'a1', 'frameworks', 'f1', 'tasks', 't1', 'task.updates'));

  const updated = w.agent.next(SUM_UPDATED);
  w.update(running, true);
  await updated;
  t.deepEqual(await recordsOf(path), ['UPDATE TASK_RUNNING'], 'on disk before the answer');

  const acknowledged = w.agent.next(SUM_ACKNOWLEDGED);
  w.ack(running);
  await acknowledged;
  t.deepEqual(await recordsOf(path), ['UPDATE TASK_RUNNING', `ACK ${uuid(running)}`]);

  const finished = u.make('TASK_FINISHED');
  w.update(finished, true);
  await w.rt.settle();
  t.deepEqual(await recordsOf(path), ['UPDATE TASK_RUNNING', `ACK ${uuid(running)}`, 'UPDATE TASK_FINISHED']);

  // The terminal acknowledgement removes the file.
  w.ack(finished);
  await w.rt.settle();
  await t.throwsAsync(stat(path), { code: 'ENOENT' });
});

serial('CheckpointStatusUpdate - a mismatched checkpoint flag is refused', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const finished = u.make('TASK_FINISHED');
  w.update(running, true);
  w.update(finished, false);
  await w.rt.settle();
  const answers = w.agent.bodies(SUM_UPDATED) as SumUpdated[];
  t.is(answers.find((a) => a.uuid === uuid(running))?.error, undefined);
  t.regex(answers.find((a) => a.uuid === uuid(finished))?.error ?? '', /mismatched checkpoint/);
});

serial('RecoverStatusUpdateManager - after a restart, unacknowledged updates are resent and acknowledged ones are not', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const finished = u.make('TASK_FINISHED');
  const other = u.make('TASK_STARTING', 't2');
  w.update(running, true);
  w.update(other, true);
  await w.rt.settle();
  w.ack(running);
  await w.rt.settle();
  // TASK_FINISHED never reaches the master before the agent restarts.
  const drops = dropMessages(STATUS_UPDATE, w.sum.self, w.master.self);
  w.update(finished, true);
  await w.rt.settle();
  t.is(drops.dropped.length, 1);
  drops.stop();
  t.deepEqual(w.received().sort(), ['TASK_RUNNING', 'TASK_STARTING']);

  const sum = await w.restart();
  const recovered = w.agent.next(SUM_RECOVERED);
  w.agent.send(sum.self, SUM_RECOVER, { agent_id: AGENT_ID });
  const body = (await recovered) as SumRecovered;
  t.is(body.error, undefined);
  const streams = [...body.streams].sort((a, b) => a.task_id.value.localeCompare(b.task_id.value));
  t.like(streams[0], { task_id: { value: 't1' }, pending: 1, terminal: true });
  t.is(streams[0]?.latest?.uuid, uuid(finished));
  t.like(streams[1], { task_id: { value: 't2' }, pending: 1, terminal: false });
  await w.rt.settle();
  t.is(w.received().length, 2, 'paused until a master is known');

  w.detect();
  await w.rt.settle();
  const resent = (w.master.bodies(STATUS_UPDATE) as StatusUpdateMessage[]).slice(2).map((b) => b.update.uuid).sort();
  t.deepEqual(resent, [uuid(finished), uuid(other)].sort(), 'TASK_RUNNING, acknowledged, is not resent');

  // The recovered stream goes on: its terminal acknowledgement closes it and removes the file.
  const acknowledged = w.agent.next(SUM_ACKNOWLEDGED);
  w.ack(finished);
  t.true(((await acknowledged) as SumAcknowledged).terminal);
  await w.rt.settle();
  await t.throwsAsync(stat(pathOf(w.workDir, finished)), { code: 'ENOENT' });
  t.deepEqual(await recordsOf(pathOf(w.workDir, other)), ['UPDATE TASK_STARTING']);
});

serial('RecoverStatusUpdateManager - a torn last line is tolerated and cut off', async (t) => {
  const w = await start(t);
  const u = new Updates();
  const running = u.make('TASK_RUNNING');
  const good = encodeRecord({ type: 'UPDATE', update: running });
  const torn = encodeRecord({ type: 'ACK', uuid: uuid(running) }).slice(0, 10);
  const path = await checkpointed(w.workDir, running, good + torn);

  const recovered = w.agent.next(SUM_RECOVERED);
  w.agent.send(w.sum.self, SUM_RECOVER, { agent_id: AGENT_ID });
  const body = (await recovered) as SumRecovered;
  t.is(body.error, undefined);
  t.is(body.streams.length, 1);
  t.like(body.streams[0], { pending: 1, terminal: false });
  // As in Mesos (`protobuf::read` ignoring a partial record): an append a crash cut short is
  // expected, was never answered, and is no recovery error.
  t.is(w.counter('recovery_errors'), 0);
  t.is(await readFile(path, 'utf8'), good, 'the torn line is cut off');

  // The stream goes on; the file stays readable.
  w.detect();
  await w.rt.settle();
  t.deepEqual(w.received(), ['TASK_RUNNING']);
  w.ack(running);
  w.update(u.make('TASK_FINISHED'), true);
  await w.rt.settle();
  t.deepEqual(await recordsOf(path), ['UPDATE TASK_RUNNING', `ACK ${uuid(running)}`, 'UPDATE TASK_FINISHED']);
  t.is(parseRecords(await readFile(path)).problem, undefined);
});

serial('RecoverStatusUpdateManager - a corrupt record is a recovery error; the records before it are kept', async (t) => {
  const w = await start(t);
  const u = new Updates();
  const running = u.make('TASK_RUNNING');
  const good = encodeRecord({ type: 'UPDATE', update: running });
  const path = await checkpointed(w.workDir, running, good + '{"type":"NOPE"}\n' + encodeRecord({ type: 'ACK', uuid: uuid(running) }));

  const recovered = w.agent.next(SUM_RECOVERED);
  w.agent.send(w.sum.self, SUM_RECOVER, { agent_id: AGENT_ID });
  const body = (await recovered) as SumRecovered;
  t.like(body.streams[0], { pending: 1, terminal: false });
  t.is(w.counter('recovery_errors'), 1);
  t.is(await readFile(path, 'utf8'), good, 'the file is cut at the corrupt record');
});

serial('RecoverStatusUpdateManager - nothing checkpointed yet: no streams', async (t) => {
  const w = await start(t);
  const recovered = w.agent.next(SUM_RECOVERED);
  w.agent.send(w.sum.self, SUM_RECOVER, { agent_id: AGENT_ID });
  t.deepEqual(await recovered, { streams: [] });
});

serial('RecoverStatusUpdateManager - updates that arrive during recovery wait for it', async (t) => {
  const w = await start(t);
  const u = new Updates();
  const running = u.make('TASK_RUNNING');
  const path = await checkpointed(w.workDir, running, encodeRecord({ type: 'UPDATE', update: running }));

  w.agent.send(w.sum.self, SUM_RECOVER, { agent_id: AGENT_ID });
  w.update(running, true); // The executor resends it while the agent recovers.
  await w.rt.settle();
  t.deepEqual(
    w.agent.received.map((m) => m.name),
    [SUM_RECOVERED, SUM_UPDATED],
  );
  t.is((w.agent.bodies(SUM_UPDATED)[0] as SumUpdated).error, undefined, 'a duplicate of the recovered update');
  t.deepEqual(await recordsOf(path), ['UPDATE TASK_RUNNING']);
});

serial('CleanupFramework - streams of a framework are forgotten and their files removed', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const mine = u.make('TASK_RUNNING', 't1', 'f1');
  const theirs = u.make('TASK_RUNNING', 't1', 'f2');
  w.update(mine, true);
  w.update(theirs, true);
  await w.rt.settle();
  w.agent.send(w.sum.self, SUM_CLEANUP, { framework_id: { value: 'f1' } });
  await w.rt.settle();
  t.deepEqual(
    w.sum.streams().map((s) => s.frameworkId.value),
    ['f2'],
  );
  await t.throwsAsync(stat(pathOf(w.workDir, mine)), { code: 'ENOENT' });
  w.clock.advance(MIN);
  await w.rt.settle();
  const retried = (w.master.bodies(STATUS_UPDATE) as StatusUpdateMessage[]).slice(2).map((b) => b.update.framework_id.value);
  t.deepEqual(retried, ['f2'], 'only the remaining stream is retried');
});

serial('CheckpointStatusUpdate - a duplicate that arrives while the first copy is written is answered after the write', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const path = pathOf(w.workDir, running);
  const answered: string[][] = [];
  const first = w.agent.next(SUM_UPDATED);
  w.update(running, true);
  w.update(running, true);
  await first;
  answered.push(await recordsOf(path));
  await w.rt.settle();
  const answers = w.agent.bodies(SUM_UPDATED) as SumUpdated[];
  t.is(answers.length, 2);
  t.true(answers.every((a) => a.error === undefined));
  t.deepEqual(answered, [['UPDATE TASK_RUNNING']], 'the record was on disk at the first answer');
  t.deepEqual(await recordsOf(path), ['UPDATE TASK_RUNNING'], 'written once');
  t.deepEqual(w.received(), ['TASK_RUNNING']);
});

serial('CheckpointStatusUpdate - a failed write is answered with the error and the stream sends nothing', async (t) => {
  const dir = await tempDir(t);
  // `meta` is a file: no stream directory can be created under it.
  await writeFile(join(dir, 'meta'), 'not a directory');
  const w = await start(t, { workDir: dir });
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const updated = w.agent.next(SUM_UPDATED);
  w.update(running, true);
  const answer = (await updated) as SumUpdated;
  t.regex(answer.error ?? '', /failed to checkpoint status update of task 't1' of framework 'f1'/);
  w.update(running, true);
  await w.rt.settle();
  t.truthy((w.agent.bodies(SUM_UPDATED)[1] as SumUpdated).error, 'the resent copy is refused too: it never reached disk');
  await w.advance(MIN);
  t.deepEqual(w.received(), []);
});

/** The same 16 bytes in the other base64 spelling proto3 JSON allows: URL-safe alphabet, no padding. */
function respell(uuid: string): string {
  return Buffer.from(uuid, 'base64').toString('base64url');
}

serial('IgnoreDuplicateStatusUpdateAck - uuids are matched by their bytes, not by how their base64 is spelled', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  const finished = u.make('TASK_FINISHED');
  w.update(running);
  // The executor resends TASK_RUNNING with its uuid spelled the other way: a duplicate.
  w.update({ ...running, uuid: respell(uuid(running)), status: { ...running.status, uuid: respell(uuid(running)) } });
  w.update(finished);
  await w.rt.settle();
  t.is(w.sum.streams()[0]?.pending, 2, 'the respelled copy is not queued again');

  // Mesos compares `id::UUID`s: the acknowledgement pops the head however the scheduler spelled it.
  const acknowledged = w.agent.next(SUM_ACKNOWLEDGED);
  const second = futureMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  w.ack(running, respell(uuid(running)));
  t.like(await acknowledged, { task_id: running.status.task_id, terminal: false });
  t.is(messageBody(await second).update.uuid, uuid(finished));
  t.is(w.counter('status_update_acknowledgements_ignored'), 0);

  // The original spelling is now a duplicate acknowledgement.
  w.ack(running);
  await w.rt.settle();
  t.is(w.counter('status_update_acknowledgements_ignored'), 1);
  t.is(w.agent.bodies(SUM_ACKNOWLEDGED).length, 1);

  // The terminal one closes the stream; no resend follows.
  w.ack(finished, respell(uuid(finished)));
  await w.rt.settle();
  t.deepEqual(w.sum.streams(), []);
  await w.advance(STATUS_UPDATE_RETRY_INTERVAL_MAX_MS);
  t.deepEqual(w.received(), ['TASK_RUNNING', 'TASK_FINISHED']);
});

serial('DuplicateTerminalUpdateAfterAck - a new update after the terminal one was acknowledged opens a new stream and travels', async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const finished = u.make('TASK_FINISHED');
  w.update(finished, true);
  await w.rt.settle();
  const acknowledged = w.agent.next(SUM_ACKNOWLEDGED);
  w.ack(finished);
  t.true(((await acknowledged) as SumAcknowledged).terminal);

  // As in Mesos, the closed stream is gone: TASK_KILLED (a new uuid) reaches the master.
  const killed = u.make('TASK_KILLED');
  const updated = w.agent.next(SUM_UPDATED);
  const sent = futureMessage(STATUS_UPDATE, w.sum.self, w.master.self);
  w.update(killed, true);
  t.is(((await updated) as SumUpdated).error, undefined);
  t.is(messageBody(await sent).update.uuid, uuid(killed));
  await w.rt.settle();
  t.deepEqual(await recordsOf(pathOf(w.workDir, killed)), ['UPDATE TASK_KILLED']);
});

serial('RecoverStatusUpdateManager - a stream whose terminal update was acknowledged is not recovered as open', async (t) => {
  const w = await start(t);
  const u = new Updates();
  const finished = u.make('TASK_FINISHED');
  await checkpointed(w.workDir, finished, encodeRecord({ type: 'UPDATE', update: finished }) + encodeRecord({ type: 'ACK', uuid: uuid(finished) }));

  const recovered = w.agent.next(SUM_RECOVERED);
  w.agent.send(w.sum.self, SUM_RECOVER, { agent_id: AGENT_ID });
  const body = (await recovered) as SumRecovered;
  t.like(body.streams[0], { task_id: { value: 't1' }, pending: 0, terminal: true });
  t.deepEqual(w.sum.streams(), []);
  w.detect();
  await w.rt.settle();
  t.deepEqual(w.received(), [], 'nothing to resend');
  // The executor resending the acknowledged terminal update gets its answer; the master nothing.
  const updated = w.agent.next(SUM_UPDATED);
  w.update(finished, true);
  t.is(((await updated) as SumUpdated).error, undefined);
  await w.rt.settle();
  t.deepEqual(w.received(), []);
});

serial("RecoverStatusUpdateManager - a non-checkpointing framework's stream does not survive a restart", async (t) => {
  const w = await start(t);
  const u = new Updates();
  w.detect();
  const running = u.make('TASK_RUNNING');
  w.update(running, false);
  await w.rt.settle();
  t.deepEqual(w.received(), ['TASK_RUNNING']);

  const sum = await w.restart();
  const recovered = w.agent.next(SUM_RECOVERED);
  w.agent.send(sum.self, SUM_RECOVER, { agent_id: AGENT_ID });
  t.deepEqual(await recovered, { streams: [] });
  w.detect();
  await w.advance(STATUS_UPDATE_RETRY_INTERVAL_MAX_MS);
  t.deepEqual(w.received(), ['TASK_RUNNING'], 'never resent');
  await t.throwsAsync(stat(pathOf(w.workDir, running)), { code: 'ENOENT' });
});
