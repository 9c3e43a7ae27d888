import test from 'ava';
import { EXECUTOR_HEARTBEAT_INTERVAL_MS, EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS } from '../../actors/agent/constants.ts';
import { DEFAULT_RECOVERY_TIMEOUT_MS } from '../../actors/executor/constants.ts';
import { HTTP_EXECUTOR_DISCONNECTED } from '../../actors/agent/http-executor.ts';
import { EXITED_EXECUTOR, SLAVE_REREGISTERED, type ExitedExecutor, type StatusUpdateMessage } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { futureExited, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { subscribe, type EventStream } from '../helpers/event-stream.ts';
import { http } from '../helpers/http.ts';
import {
  acknowledge,
  AGENT_ID,
  customTask,
  FRAMEWORK,
  FRAMEWORK_ID,
  nextUpdate,
  register,
  reregistration,
  runTask,
  spawnAgent,
  startAgent,
  type Harness,
} from '../agent/harness.ts';

/**
 * The executor side of the HTTP API's connections, on one agent with a paused Clock (its master
 * a probe): a dropped SUBSCRIBE stream disconnects the executor (destroyed after the grace
 * period, or awaited for the recovery timeout when its framework checkpoints); an idle stream
 * stays open with heartbeats. The test speaks for the executor, whose process is `sleep`.
 */
resetFiltersAfterEach(test);

const EXECUTOR = { executor_id: { value: 'x' }, command: { value: 'exec sleep 600' } };

interface Ctx {
  h: Harness;
  port: number;
  path: string;
}

async function start(t: Parameters<typeof startAgent>[0], framework: FrameworkInfo = FRAMEWORK): Promise<Ctx> {
  const h = await startAgent(t, {}, { http: true });
  await register(h);
  runTask(h, customTask('t1', EXECUTOR), framework);
  await h.settle();
  const path = `/${h.agent.id}/api/v1/executor`;
  return { h, port: h.agentRuntime.httpAddress!.port, path };
}

const ids = { framework_id: { value: FRAMEWORK_ID }, executor_id: { value: 'x' } };

function subscribeExecutor(ctx: Ctx, extra: object = {}): Promise<EventStream> {
  return subscribe(ctx.port, { type: 'SUBSCRIBE', ...ids, subscribe: { ...extra } }, { path: ctx.path });
}

function status(taskId: string, state: string, uuid = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')) {
  return { task_id: { value: taskId }, state, source: 'SOURCE_EXECUTOR', uuid };
}

function update(ctx: Ctx, s: object) {
  return http(ctx.port, 'POST', ctx.path, { type: 'UPDATE', ...ids, update: { status: s } });
}

/**
 * The executor subscribes, gets t1, and reports it TASK_RUNNING; the agent acknowledges it on
 * the stream and the master acknowledges it to the agent.
 */
async function subscribedRunning(ctx: Ctx): Promise<{ stream: EventStream; running: ReturnType<typeof status> }> {
  const stream = await subscribeExecutor(ctx);
  await stream.next('LAUNCH');
  const running = status('t1', 'TASK_RUNNING');
  const answer = await update(ctx, running);
  if (answer.status !== 202) throw new Error(`UPDATE answered ${answer.status}`);
  await stream.next('ACKNOWLEDGED');
  acknowledge(ctx.h, await nextUpdate(ctx.h));
  return { stream, running };
}

/** Closes the stream from the executor's side; resolves once the agent heard of it. */
async function drop(ctx: Ctx, stream: EventStream): Promise<void> {
  const stand = ctx.h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('x')!.pid!;
  const heard = futureMessage(HTTP_EXECUTOR_DISCONNECTED, stand, ctx.h.agent.self);
  stream.close();
  await heard;
  await ctx.h.settle();
}

test.serial('executor connection - a dropped SUBSCRIBE stream disconnects the executor: the grace period, then it is destroyed', async (t) => {
  const ctx = await start(t);
  const { h } = ctx;
  const stream = await subscribeExecutor(ctx);
  t.is((await stream.next()).type, 'SUBSCRIBED');
  t.is((await stream.next()).launch.task.task_id.value, 't1');
  const running = status('t1', 'TASK_RUNNING');
  t.is((await update(ctx, running)).status, 202);
  t.deepEqual((await stream.next('ACKNOWLEDGED')).acknowledged.uuid, running.uuid);
  acknowledge(h, await nextUpdate(h));

  await drop(ctx, stream);
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('x')!;
  t.is(executor.state, 'TERMINATING', 'disconnected: not waited for, as its framework does not checkpoint');
  const again = await subscribeExecutor(ctx);
  t.deepEqual(await again.next(), { type: 'SHUTDOWN' }, 'a terminating executor cannot subscribe again');
  await again.ended;

  const exited = futureMessage(EXITED_EXECUTOR, h.agent.self, h.master.self);
  h.clock.advance(EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS);
  await h.settle();
  t.is(((await exited).body as ExitedExecutor).status, 128 + 15, 'killed with SIGTERM once the grace period passed');
  const failed = (await nextUpdate(h)) as StatusUpdateMessage;
  t.like(failed.update.status, { state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT' });
});

test.serial('executor connection - with checkpointing, the agent waits the recovery timeout; the executor subscribes again and carries on', async (t) => {
  const ctx = await start(t, { ...FRAMEWORK, checkpoint: true });
  const { h } = ctx;
  const { stream: first, running } = await subscribedRunning(ctx);

  await drop(ctx, first);
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('x')!;
  t.is(executor.state, 'RUNNING');
  h.clock.advance(DEFAULT_RECOVERY_TIMEOUT_MS - 1);
  await h.settle();
  t.is(executor.state, 'RUNNING', 'still awaited');
  t.is((await update(ctx, status('t1', 'TASK_RUNNING'))).status, 202, 'calls are taken while it is away (Mesos checks ids only)');
  // Its acknowledgement finds no stream and is dropped.
  await h.settle();

  // Back, with the update it never saw acknowledged: answered again (a duplicate to the manager).
  const second = await subscribeExecutor(ctx, { unacknowledged_updates: [{ status: running }] });
  const subscribed = await second.next();
  t.is(subscribed.type, 'SUBSCRIBED');
  t.is(subscribed.subscribed.container_id.value, executor.containerId);
  t.deepEqual((await second.next()).acknowledged, { task_id: { value: 't1' }, uuid: running.uuid });
  h.clock.advance(2);
  await h.settle();
  t.is(executor.state, 'RUNNING', 'the recovery timer was cancelled');

  const finished = status('t1', 'TASK_FINISHED');
  t.is((await update(ctx, finished)).status, 202);
  t.deepEqual((await second.next('ACKNOWLEDGED')).acknowledged.uuid, finished.uuid, 'acknowledged on the new stream');

  // Away for good: after the recovery timeout it is treated as gone.
  const gone = futureExited(executor.pid!, h.agent.self);
  await drop(ctx, second);
  h.clock.advance(DEFAULT_RECOVERY_TIMEOUT_MS);
  await gone;
  await h.settle();
  t.is(executor.state, 'TERMINATING');
});

test.serial("executor connection - after its agent restarted, a checkpointing framework's HTTP executor subscribes again and its task runs on", async (t) => {
  const ctx = await start(t, { ...FRAMEWORK, checkpoint: true });
  const { h } = ctx;
  const { stream: first } = await subscribedRunning(ctx);
  await h.settle();
  const containerId = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('x')!.containerId;

  // The agent restarts: the stream ends with it; the executor's process (here `sleep`) runs on.
  h.agentRuntime.terminate(h.agent.self);
  await first.ended;
  await h.settle();
  h.agent = spawnAgent(h);
  await h.settle();
  t.is(h.agent.state, 'RECOVERING', 'waiting for the executor');
  const path = `/${h.agent.id}/api/v1/executor`;
  const again = await subscribe(ctx.port, { type: 'SUBSCRIBE', ...ids, subscribe: { unacknowledged_updates: [] } }, { path });
  const subscribed = await again.next();
  t.is(subscribed.type, 'SUBSCRIBED');
  t.is(subscribed.subscribed.container_id.value, containerId, 'the same container, taken back');

  // Before: its container was killed on recovery and t1 came back TASK_FAILED.
  const body = await reregistration(h);
  t.deepEqual(body.tasks?.map((task) => [task.task_id.value, task.state]), [['t1', 'TASK_RUNNING']]);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  const finished = status('t1', 'TASK_FINISHED');
  t.is((await http(ctx.port, 'POST', path, { type: 'UPDATE', ...ids, update: { status: finished } })).status, 202);
  t.is((await nextUpdate(h)).update.status.state, 'TASK_FINISHED');
});

test.serial('executor connection - an idle SUBSCRIBE stream stays open for ten minutes, with a HEARTBEAT every interval', async (t) => {
  const ctx = await start(t);
  const { h } = ctx;
  t.deepEqual(h.agentRuntime.httpServer!.settings, { keepAliveTimeout: 0, timeout: 0, requestTimeout: 0 });
  const stream = await subscribeExecutor(ctx);
  await stream.next('LAUNCH');
  h.clock.advance(EXECUTOR_HEARTBEAT_INTERVAL_MS - 1);
  await h.settle();
  t.is((await update(ctx, status('t1', 'TASK_RUNNING'))).status, 202);
  await stream.next('ACKNOWLEDGED');
  t.false(stream.events.some((e) => e.type === 'HEARTBEAT'), 'none before the interval');
  h.clock.advance(1);
  await h.settle();
  t.is((await stream.next()).type, 'HEARTBEAT');

  h.clock.advance(10 * 60_000);
  await h.settle();
  const marker = status('t1', 'TASK_RUNNING');
  t.is((await update(ctx, marker)).status, 202);
  t.deepEqual((await stream.next('ACKNOWLEDGED')).acknowledged.uuid, marker.uuid, 'the stream is alive');
  t.is(stream.events.filter((e) => e.type === 'HEARTBEAT').length, 1 + (10 * 60_000) / EXECUTOR_HEARTBEAT_INTERVAL_MS);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('x')!.state, 'RUNNING');
  stream.close();
});
