import anyTest, { type TestFn } from 'ava';
import { Agent, request } from 'node:http';
import { ALLOCATOR_DEACTIVATE_FRAMEWORK } from '../../actors/allocator/protocol.ts';
import { HEARTBEAT_INTERVAL_SECONDS } from '../../actors/master/constants.ts';
import { acceptsJson } from '../../src/http/media.ts';
import { SCHEDULER_CALL } from '../../src/mesos/protocol.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { subscribe, type EventStream } from '../helpers/event-stream.ts';
import type { FakeAgent } from '../helpers/fake-agent.ts';
import { http } from '../helpers/http.ts';
import { Probe } from '../helpers/runtime.ts';
import { useBuses, type BusesContext, type TransportKind } from '../helpers/worlds.ts';

/**
 * The v1 scheduler HTTP API (`POST /api/v1/scheduler`) spoken as an HTTP scheduler speaks it:
 * raw `node:http` requests and a RecordIO stream parsed in the test, against a master with a
 * `FakeAgent` on the paused Clock. The SUBSCRIBE-to-TEARDOWN scenario runs on the local bus
 * and on a real nats-server; the rest on the local bus.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);

useBuses(test);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Ctx {
  cluster: TestCluster;
  agent: FakeAgent;
  port: number;
}

async function start(t: { teardown(fn: () => unknown): void; context: BusesContext }, kind: TransportKind = 'local'): Promise<Ctx> {
  const cluster = await startTestCluster(t, t.context.buses[kind], { http: { port: 0 } });
  const agent = await cluster.addAgent('cpus:2;mem:1024');
  return { cluster, agent, port: cluster.runtime.httpAddress!.port };
}

const frameworkInfo = (extra: object = {}) => ({ user: 'test', name: 'http-framework', ...extra });

/** SUBSCRIBE and read SUBSCRIBED; returns the stream and the framework id. */
async function subscribed(ctx: Ctx, info: object = frameworkInfo(), options: { agent?: Agent; frameworkId?: string } = {}) {
  const body: Record<string, unknown> = { type: 'SUBSCRIBE', subscribe: { framework_info: info } };
  if (options.frameworkId !== undefined) body.framework_id = { value: options.frameworkId };
  const stream = await subscribe(ctx.port, body, options.agent === undefined ? {} : { agent: options.agent });
  const event = await stream.next();
  if (event.type !== 'SUBSCRIBED') throw new Error(`expected SUBSCRIBED, got ${JSON.stringify(event)}`);
  return { stream, frameworkId: event.subscribed.framework_id.value as string, event };
}

/** A call on the framework's stream, as JSON; resolves with the whole answer. */
function call(ctx: Ctx, stream: EventStream | string | undefined, body: object | string, options: { agent?: Agent; headers?: Record<string, string>; path?: string } = {}) {
  const streamId = typeof stream === 'string' ? stream : stream?.streamId;
  return http(ctx.port, 'POST', options.path ?? '/api/v1/scheduler', body, {
    headers: { ...(streamId !== undefined ? { 'Mesos-Stream-Id': streamId } : {}), ...options.headers },
    ...(options.agent !== undefined ? { agent: options.agent } : {}),
  });
}

function launch(frameworkId: string, offer: any, taskId: string, withExecutor = false) {
  const task: Record<string, unknown> = {
    name: taskId,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 128 } },
    ],
  };
  if (withExecutor) task.executor = { executor_id: { value: 'e1' }, command: { value: 'my-executor' } };
  else task.command = { value: 'sleep 1000' };
  return {
    framework_id: { value: frameworkId },
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }], filters: { refuse_seconds: 1 } },
  };
}

function runFor(agent: FakeAgent, taskId: string) {
  const run = agent.runTasks.find((r) => r.task.task_id.value === taskId);
  if (run === undefined) throw new Error(`no RunTaskMessage for ${taskId}`);
  return run;
}

/** Waits for the master to see the stream closed: it deactivates the framework in the allocator. */
async function closeStream(ctx: Ctx, stream: EventStream): Promise<void> {
  const deactivated = futureMessage(ALLOCATOR_DEACTIVATE_FRAMEWORK, ctx.cluster.master.self);
  stream.close();
  await deactivated;
  await ctx.cluster.settle();
}

for (const kind of ['local', 'nats'] as const) {
  test.serial(`${kind} - scheduler API: SUBSCRIBE, OFFERS, ACCEPT, UPDATE, ACKNOWLEDGE, MESSAGE both ways, TEARDOWN`, async (t) => {
    const ctx = await start(t, kind);
    const { cluster, agent } = ctx;
    const stream = await subscribe(ctx.port, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } });
    t.is(stream.status, 200);
    t.is(stream.res.headers['transfer-encoding'], 'chunked');
    t.is(stream.res.headers['content-type'], 'application/json');
    t.regex(stream.streamId, UUID);

    const first = await stream.next();
    t.is(first.type, 'SUBSCRIBED');
    const frameworkId = first.subscribed.framework_id.value;
    t.true(cluster.master.frameworks.has(frameworkId));
    t.is(first.subscribed.heartbeat_interval_seconds, HEARTBEAT_INTERVAL_SECONDS);
    t.is(first.subscribed.master_info.id, cluster.master.masterInfo.id);
    t.is(first.subscribed.master_info.port, ctx.port);
    t.is((await stream.next()).type, 'HEARTBEAT', 'the first heartbeat follows SUBSCRIBED at once');

    const offers = await stream.next('OFFERS');
    t.is(offers.offers.offers.length, 1);
    const offer = offers.offers.offers[0];
    t.is(offer.agent_id.value, agent.agentId);
    t.is(offer.framework_id.value, frameworkId);

    const runTask = futureMessage('RunTaskMessage', cluster.master.self, agent.self);
    const accepted = await call(ctx, stream, launch(frameworkId, offer, 't1', true));
    t.is(accepted.status, 202);
    t.is(accepted.body, '');
    t.is(((await runTask).body as any).task.task_id.value, 't1');
    await cluster.settle();

    const uuid = agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
    const update = await stream.next('UPDATE');
    t.is(update.update.status.task_id.value, 't1');
    t.is(update.update.status.state, 'TASK_RUNNING');
    t.is(update.update.status.uuid, uuid);
    t.is(Buffer.from(update.update.status.uuid, 'base64').length, 16);

    const ack = futureMessage('StatusUpdateAcknowledgementMessage', cluster.master.self, agent.self);
    const acked = await call(ctx, stream, {
      framework_id: { value: frameworkId },
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: update.update.status.agent_id, task_id: { value: 't1' }, uuid: update.update.status.uuid },
    });
    t.is(acked.status, 202);
    t.is(((await ack).body as { uuid: string }).uuid, uuid);

    const toExecutor = futureMessage('FrameworkToExecutorMessage', cluster.master.self, agent.self);
    const sent = await call(ctx, stream, {
      framework_id: { value: frameworkId },
      type: 'MESSAGE',
      message: { agent_id: { value: agent.agentId }, executor_id: { value: 'e1' }, data: Buffer.from('hello executor').toString('base64') },
    });
    t.is(sent.status, 202);
    t.is(Buffer.from(((await toExecutor).body as { data: string }).data, 'base64').toString(), 'hello executor');
    agent.messageToFramework(runFor(agent, 't1'), 'hello scheduler');
    const message = await stream.next('MESSAGE');
    t.is(message.message.executor_id.value, 'e1');
    t.is(message.message.agent_id.value, agent.agentId);
    t.is(Buffer.from(message.message.data, 'base64').toString(), 'hello scheduler');

    const shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
    const teardown = await call(ctx, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' });
    t.is(teardown.status, 202);
    await shutdown;
    await stream.ended;
    t.false(cluster.master.frameworks.has(frameworkId));
    t.true(cluster.master.completedFrameworks.some((f) => f.id === frameworkId));
  });
}

test.serial('scheduler API - every other call answers 202 Accepted (UPDATE_FRAMEWORK 200 OK) with an empty body and takes effect', async (t) => {
  const ctx = await start(t);
  const { cluster, agent } = ctx;
  const { stream, frameworkId } = await subscribed(ctx);
  const fid = { value: frameworkId };
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  t.is((await call(ctx, stream, launch(frameworkId, offer, 't1'))).status, 202);
  await cluster.settle();
  const agentId = { value: agent.agentId! };

  const answers: Record<string, number> = {};
  const run = async (body: Record<string, unknown>) => {
    const reply = await call(ctx, stream, { framework_id: fid, ...body });
    t.is(reply.body, '', `${String(body.type)} has an empty body`);
    answers[String(body.type)] = reply.status;
  };

  const kill = futureMessage('KillTaskMessage', cluster.master.self, agent.self);
  await run({ type: 'KILL', kill: { task_id: { value: 't1' }, agent_id: agentId } });
  t.is(((await kill).body as { task_id: { value: string } }).task_id.value, 't1');

  await run({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' } }, { task_id: { value: 'ghost' } }] } });
  const reconciled = [await stream.next('UPDATE'), await stream.next('UPDATE')].map((e) => [e.update.status.task_id.value, e.update.status.state, e.update.status.reason]);
  t.deepEqual(reconciled, [
    ['t1', 'TASK_STAGING', 'REASON_RECONCILIATION'],
    ['ghost', 'TASK_LOST', 'REASON_RECONCILIATION'],
  ]);

  const shutdownExecutor = futureMessage('ShutdownExecutorMessage', cluster.master.self, agent.self);
  await run({ type: 'SHUTDOWN', shutdown: { executor_id: { value: 'e9' }, agent_id: agentId } });
  await shutdownExecutor;

  await run({ type: 'DECLINE', decline: { offer_ids: [{ value: 'no-such-offer' }] } });
  await run({ type: 'SUPPRESS' });
  t.true(cluster.master.frameworks.get(frameworkId)!.suppressedRoles.has('*'));
  await run({ type: 'REVIVE' });
  t.false(cluster.master.frameworks.get(frameworkId)!.suppressedRoles.has('*'));
  await run({ type: 'REQUEST', request: { requests: [{ agent_id: agentId }] } });
  await run({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...frameworkInfo({ name: 'renamed' }), id: fid } } });
  t.is(cluster.master.frameworks.get(frameworkId)!.info.name, 'renamed');

  // UPDATE_FRAMEWORK is applied before the answer: `200 OK`, as Mesos's `Master::updateFramework`.
  t.deepEqual(answers, { KILL: 202, RECONCILE: 202, SHUTDOWN: 202, DECLINE: 202, SUPPRESS: 202, REVIVE: 202, REQUEST: 202, UPDATE_FRAMEWORK: 200 });
  t.true(cluster.master.frameworks.get(frameworkId)!.connected, 'calls do not disturb the subscription');
});

test.serial('scheduler API - bad requests: body, fields, content type, method, Accept', async (t) => {
  const ctx = await start(t);
  const { stream, frameworkId } = await subscribed(ctx);
  const fid = { value: frameworkId };

  const notJson = await call(ctx, stream, '{"type": "TEARDOWN", ');
  t.is(notJson.status, 400);
  t.regex(notJson.body, /^Failed to parse body into JSON/);

  const empty = await call(ctx, stream, '');
  t.is(empty.status, 400);

  const missing = await call(ctx, stream, { type: 'ACCEPT', accept: {} });
  t.is(missing.status, 400);
  t.regex(missing.body, /^Failed to validate scheduler::Call: /);
  t.regex(missing.body, /'framework_id'/);

  const wrongType = await call(ctx, stream, { framework_id: fid, type: 'DECLINE', decline: { offer_ids: [{ value: 42 }] } });
  t.is(wrongType.status, 400);
  t.regex(wrongType.body, /'decline\.offer_ids\[0\]\.value'/);
  t.regex(wrongType.body, /42/);

  const unknownType = await call(ctx, stream, { framework_id: fid, type: 'LAUNCH_ROCKETS' });
  t.is(unknownType.status, 400);
  t.regex(unknownType.body, /LAUNCH_ROCKETS/);

  const badUuid = await call(ctx, stream, { framework_id: fid, type: 'ACKNOWLEDGE', acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: 'abc' } });
  t.is(badUuid.status, 400);
  t.regex(badUuid.body, /'acknowledge\.uuid'/);

  const text = await call(ctx, stream, { framework_id: fid, type: 'TEARDOWN' }, { headers: { 'Content-Type': 'text/plain' } });
  t.is(text.status, 415);
  t.regex(text.body, /Expecting 'Content-Type' of application\/json/);

  const protobuf = await call(ctx, stream, { framework_id: fid, type: 'TEARDOWN' }, { headers: { 'Content-Type': 'application/x-protobuf' } });
  t.is(protobuf.status, 415);
  t.regex(protobuf.body, /JSON only, not application\/x-protobuf/);

  const charset = await call(ctx, stream, { framework_id: fid, type: 'REVIVE' }, { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  t.is(charset.status, 202, 'parameters of the media type are fine');

  const noContentType = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ctx.port, method: 'POST', path: '/api/v1/scheduler', headers: { 'Mesos-Stream-Id': stream.streamId } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ framework_id: fid, type: 'TEARDOWN' }));
  });
  t.deepEqual(noContentType, { status: 400, body: "Expecting 'Content-Type' to be present" });

  const get = await http(ctx.port, 'GET', '/api/v1/scheduler');
  t.is(get.status, 405);
  t.is(get.headers.allow, 'POST');
  t.is(get.body, "Expecting one of { 'POST' }, but received 'GET'");

  const refused = await subscribe(ctx.port, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } }, { headers: { Accept: 'application/x-protobuf' } });
  t.is(refused.status, 406);
  const withStreamId = await subscribe(ctx.port, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } }, { headers: { 'Mesos-Stream-Id': stream.streamId } });
  t.is(withStreamId.status, 400);
  await withStreamId.ended;
  t.true(ctx.cluster.master.frameworks.has(frameworkId), 'nothing accepted before is lost');
  t.is(ctx.cluster.master.frameworks.size, 1, 'no framework added by a refused SUBSCRIBE');
});

test.serial('scheduler API - Mesos-Stream-Id: required, must match the current subscription; unknown framework', async (t) => {
  const ctx = await start(t);
  const { stream, frameworkId } = await subscribed(ctx);
  const teardown = { framework_id: { value: frameworkId }, type: 'TEARDOWN' };

  const missing = await call(ctx, undefined, teardown);
  t.is(missing.status, 400);
  t.is(missing.body, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");

  const wrong = await call(ctx, '5c8bd3ac-3b5e-4d4b-9b0b-6c3f1f2a9e10', teardown);
  t.is(wrong.status, 400);
  t.is(wrong.body, `The stream ID '5c8bd3ac-3b5e-4d4b-9b0b-6c3f1f2a9e10' included in this request didn't match the stream ID currently associated with framework ID ${frameworkId}`);

  const unknown = await call(ctx, stream, { framework_id: { value: 'no-such-framework' }, type: 'TEARDOWN' });
  t.is(unknown.status, 400);
  t.is(unknown.body, 'Framework cannot be found');

  t.true(ctx.cluster.master.frameworks.has(frameworkId), 'the refused TEARDOWNs did nothing');
  const viaMasterPath = await call(ctx, stream, teardown, { path: '/master/api/v1/scheduler' });
  t.is(viaMasterPath.status, 202, 'the route is also served under the master process');
  await stream.ended;
  t.false(ctx.cluster.master.frameworks.has(frameworkId));
});

test.serial('scheduler API - a framework subscribed through the driver cannot be driven over HTTP, nor an HTTP one over the bus', async (t) => {
  const ctx = await start(t);
  const { frameworkId } = await ctx.cluster.startFramework();
  const reply = await call(ctx, 'whatever', { framework_id: { value: frameworkId }, type: 'REVIVE' });
  t.is(reply.status, 403);
  t.is(reply.body, 'Framework is not connected via HTTP');

  const { stream, frameworkId: httpId } = await subscribed(ctx);
  const rt = await ctx.cluster.world.add('impostor');
  const impostor = new Probe('impostor');
  rt.spawn(impostor);
  impostor.send(ctx.cluster.master.self, SCHEDULER_CALL, { framework_id: { value: httpId }, type: 'TEARDOWN' });
  await ctx.cluster.settle();
  t.true(ctx.cluster.master.frameworks.has(httpId), 'a bus call for an HTTP framework is dropped');
  t.true(ctx.cluster.master.frameworks.get(httpId)!.connected);
  stream.close();
});

test.serial('scheduler API - HEARTBEAT every heartbeat_interval_seconds of the master Clock', async (t) => {
  const ctx = await start(t);
  const { cluster } = ctx;
  const { stream, frameworkId } = await subscribed(ctx);
  t.is((await stream.next()).type, 'HEARTBEAT');
  await stream.next('OFFERS');

  cluster.clock.advance(HEARTBEAT_INTERVAL_SECONDS * 1000 - 1);
  await cluster.settle();
  // A marker through the same stream: anything sent before it arrives before it.
  await call(ctx, stream, { framework_id: { value: frameworkId }, type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'marker' } }] } });
  const marker = await stream.next('UPDATE');
  t.is(marker.update.status.task_id.value, 'marker');
  t.false(stream.events.slice(2).some((e) => e.type === 'HEARTBEAT'), 'no heartbeat before the interval');

  cluster.clock.advance(1);
  await cluster.settle();
  t.is((await stream.next()).type, 'HEARTBEAT');
  cluster.clock.advance(HEARTBEAT_INTERVAL_SECONDS * 1000);
  await cluster.settle();
  t.is((await stream.next()).type, 'HEARTBEAT');
  stream.close();
});

test.serial('scheduler API - a closed stream disconnects the framework; re-SUBSCRIBE within failover_timeout resumes it with its tasks', async (t) => {
  const ctx = await start(t);
  const { cluster, agent } = ctx;
  const info = frameworkInfo({ failover_timeout: 60 });
  const { stream, frameworkId } = await subscribed(ctx, info);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  t.is((await call(ctx, stream, launch(frameworkId, offer, 't1'))).status, 202);
  await cluster.settle();
  agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
  await stream.next('UPDATE');

  await closeStream(ctx, stream);
  const framework = cluster.master.frameworks.get(frameworkId)!;
  t.false(framework.connected);
  t.false(framework.active);
  const notSubscribed = await call(ctx, stream, { framework_id: { value: frameworkId }, type: 'REVIVE' });
  t.is(notSubscribed.status, 403);
  t.is(notSubscribed.body, 'Framework is not subscribed');

  cluster.clock.advance(59_000);
  await cluster.settle();
  t.true(cluster.master.frameworks.has(frameworkId), 'still within failover_timeout');

  const again = await subscribed(ctx, { ...info, id: { value: frameworkId } }, { frameworkId });
  t.is(again.frameworkId, frameworkId);
  t.not(again.stream.streamId, stream.streamId, 'a fresh stream id per subscription');
  t.true(cluster.master.frameworks.get(frameworkId)!.connected);
  t.is(cluster.master.frameworks.get(frameworkId)!.tasks.get('t1')?.state, 'TASK_RUNNING');
  t.is((await call(ctx, again.stream, { framework_id: { value: frameworkId }, type: 'RECONCILE', reconcile: {} })).status, 202);
  const reconciled = await again.stream.next('UPDATE');
  t.is(reconciled.update.status.task_id.value, 't1');
  t.is(reconciled.update.status.state, 'TASK_RUNNING');

  cluster.clock.advance(2_000);
  await cluster.settle();
  t.true(cluster.master.frameworks.has(frameworkId), 'the failover timer was cancelled');
  again.stream.close();
});

test.serial('scheduler API - a closed stream not resumed: the failover timer removes the framework', async (t) => {
  const ctx = await start(t);
  const { cluster, agent } = ctx;
  const info = frameworkInfo({ failover_timeout: 30 });
  const { stream, frameworkId } = await subscribed(ctx, info);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  await call(ctx, stream, launch(frameworkId, offer, 't1'));
  await cluster.settle();

  await closeStream(ctx, stream);
  const shutdown = futureMessage('ShutdownFrameworkMessage', cluster.master.self, agent.self);
  cluster.clock.advance(30_000);
  await cluster.settle();
  await shutdown;
  t.false(cluster.master.frameworks.has(frameworkId));
  const removed = cluster.master.completedFrameworks.find((f) => f.id === frameworkId)!;
  t.is(removed.completedTasks.at(0)?.state, 'TASK_KILLED');

  const late = await subscribe(ctx.port, { type: 'SUBSCRIBE', framework_id: { value: frameworkId }, subscribe: { framework_info: { ...info, id: { value: frameworkId } } } });
  t.is(late.status, 200);
  const error = await late.next();
  t.deepEqual(error, { type: 'ERROR', error: { message: 'Framework has been removed' } });
  await late.ended;
  t.is((await call(ctx, late, { framework_id: { value: frameworkId }, type: 'REVIVE' })).body, 'Framework cannot be found');
});

test.serial('scheduler API - a new SUBSCRIBE fails the old HTTP stream over: ERROR "Framework failed over", then the end', async (t) => {
  const ctx = await start(t);
  const { cluster } = ctx;
  const info = frameworkInfo({ failover_timeout: 60 });
  const first = await subscribed(ctx, info);
  const frameworkId = first.frameworkId;
  await first.stream.next('OFFERS');

  const second = await subscribed(ctx, { ...info, id: { value: frameworkId } }, { frameworkId });
  t.is(second.frameworkId, frameworkId);
  t.deepEqual(await first.stream.next('ERROR'), { type: 'ERROR', error: { message: 'Framework failed over' } });
  await first.stream.ended;
  await cluster.settle();
  t.true(cluster.master.frameworks.get(frameworkId)!.connected, 'the old stream ending does not disconnect the new one');

  const stale = await call(ctx, first.stream, { framework_id: { value: frameworkId }, type: 'REVIVE' });
  t.is(stale.status, 400);
  t.regex(stale.body, /didn't match the stream ID currently associated/);
  t.is((await call(ctx, second.stream, { framework_id: { value: frameworkId }, type: 'REVIVE' })).status, 202);
  t.is((await second.stream.next('OFFERS')).offers.offers.length, 1, 'offers of the old scheduler were rescinded and go to the new one');
  second.stream.close();
});

test.serial('scheduler API - an invalid role is an ERROR on the stream, as Mesos refuses a subscription', async (t) => {
  const ctx = await start(t);
  const stream = await subscribe(ctx.port, { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo({ roles: ['-bad'], capabilities: [{ type: 'MULTI_ROLE' }] }) } });
  t.is(stream.status, 200);
  const error = await stream.next();
  t.is(error.type, 'ERROR');
  t.regex(error.error.message, /invalid role '-bad'/);
  await stream.ended;
  t.is(ctx.cluster.master.frameworks.size, 0);
});

test.serial('scheduler API - a master that is not leading and knows no leader answers 503 No leader elected', async (t) => {
  // As Mesos's `Master::Http::redirect` with no leader: a `307` to itself would send the
  // scheduler round in a loop (this master hears of no other leader).
  const ctx = await start(t);
  ctx.cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  t.false(ctx.cluster.master.leading);
  const reply = await http(ctx.port, 'POST', '/api/v1/scheduler?x=1', { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } });
  t.is(reply.status, 503);
  t.is(reply.body, 'No leader elected');
  t.is(reply.headers.location, undefined);
  t.is(ctx.cluster.master.frameworks.size, 0);
});

test.serial('scheduler API - keep-alive: idle connections are never timed out; one connection serves a SUBSCRIBE stream and later calls', async (t) => {
  const ctx = await start(t);
  t.deepEqual(ctx.cluster.runtime.httpServer!.settings, { keepAliveTimeout: 0, timeout: 0, requestTimeout: 0 });

  const streamAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const callAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => {
    streamAgent.destroy();
    callAgent.destroy();
  });
  const { stream, frameworkId } = await subscribed(ctx, frameworkInfo(), { agent: streamAgent });
  await stream.next('OFFERS');

  // Calls on one kept-alive connection, with master time passing between them.
  const a = await call(ctx, stream, { framework_id: { value: frameworkId }, type: 'SUPPRESS' }, { agent: callAgent });
  ctx.cluster.clock.advance(10 * 60_000);
  await ctx.cluster.settle();
  const b = await call(ctx, stream, { framework_id: { value: frameworkId }, type: 'REVIVE' }, { agent: callAgent });
  t.is(a.status, 202);
  t.is(b.status, 202);
  t.is(a.socketPort, b.socketPort, 'the call connection was reused');
  t.true(ctx.cluster.master.frameworks.get(frameworkId)!.connected, 'the stream outlived ten minutes of master time');

  // The stream ends (TEARDOWN); its connection stays open and serves the next request.
  t.is((await call(ctx, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' }, { agent: callAgent })).status, 202);
  await stream.ended;
  t.is(stream.events.filter((e) => e.type === 'HEARTBEAT').length, 1 + (10 * 60) / HEARTBEAT_INTERVAL_SECONDS, 'heartbeats kept it busy');
  const later = await http(ctx.port, 'POST', '/api/v1/scheduler', { framework_id: { value: frameworkId }, type: 'REVIVE' }, { agent: streamAgent });
  t.is(later.status, 400);
  t.is(later.body, 'Framework cannot be found');
  t.is(later.socketPort, stream.socketPort, 'the SUBSCRIBE connection was reused');
});

test('scheduler API - Accept: absent, */*, application/* and application/json admit JSON; q=0 refuses', (t) => {
  for (const accept of [undefined, '', '*/*', 'application/*', 'application/json', 'text/html, application/json;q=0.5', 'APPLICATION/JSON']) {
    t.true(acceptsJson(accept), String(accept));
  }
  for (const accept of ['application/x-protobuf', 'text/plain', 'application/json;q=0', '*/*, application/json;q=0', 'application/*;q=0']) {
    t.false(acceptsJson(accept), accept);
  }
});
