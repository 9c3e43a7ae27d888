import anyTest, { type TestFn } from 'ava';
import { HEARTBEAT_INTERVAL_SECONDS } from '../../actors/master/constants.ts';
import type { MasterOptions } from '../../actors/master/master-process.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { UNREGISTER_SLAVE } from '../../src/mesos/protocol.ts';
import type { Offer, TaskInfo } from '../../src/mesos/v1/common.ts';
import { partitionAgent, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { subscribe as openStream, type EventStream } from '../helpers/event-stream.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * The v1 operator API's SUBSCRIBE (Mesos's `master::Call::SUBSCRIBE`, `master::Event`): a real
 * HTTP server on 127.0.0.1 in front of a master with `FakeAgent`s and driver frameworks, on the
 * paused Clock. Each test reads the RecordIO stream as it comes (no project code on the client
 * side) and waits for records, `settle()` or the paused Clock, never for wall time.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

interface Ctx {
  cluster: TestCluster;
  port: number;
}

async function start(t: { teardown(fn: () => unknown): void; context: { bus: Bus } }, master: MasterOptions = {}): Promise<Ctx> {
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 }, master });
  return { cluster, port: cluster.runtime.httpAddress!.port };
}

/** SUBSCRIBE to the operator API; the stream is closed after the test. */
async function subscribe(t: { teardown(fn: () => unknown): void }, ctx: Ctx, headers: Record<string, string> = {}): Promise<EventStream> {
  const stream = await openStream(ctx.port, { type: 'SUBSCRIBE' }, { path: '/api/v1', headers });
  t.teardown(() => stream.close());
  return stream;
}

/** The next event that is not a HEARTBEAT (for tests that advance the Clock by minutes). */
async function nextEvent(stream: EventStream): Promise<any> {
  for (;;) {
    const event = await stream.next();
    if (event.type !== 'HEARTBEAT') return event;
  }
}

function task(offer: Offer, id: string): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.5;mem:128').toJSON(), command: { value: 'sleep 1000' } };
}

test.serial('operator API - SUBSCRIBE answers 200 with a RecordIO stream whose first event is SUBSCRIBED with GET_STATE and heartbeat_interval_seconds', async (t) => {
  const ctx = await start(t);
  const agent = await ctx.cluster.addAgent('cpus:2;mem:1024');
  const { frameworkId } = await ctx.cluster.startFramework({ name: 'watched' });
  const stream = await subscribe(t, ctx);
  t.is(stream.status, 200);
  t.is(stream.res.headers['content-type'], 'application/json');
  const first = await stream.next();
  t.is(first.type, 'SUBSCRIBED');
  t.is(first.subscribed.heartbeat_interval_seconds, HEARTBEAT_INTERVAL_SECONDS);
  const state = (await http(ctx.port, 'POST', '/api/v1', { type: 'GET_STATE' })).json().get_state;
  t.deepEqual(first.subscribed.get_state, state, 'the same object GET_STATE answers');
  t.is(first.subscribed.get_state.get_agents.agents[0].agent_info.id.value, agent.agentId);
  t.is(first.subscribed.get_state.get_frameworks.frameworks[0].framework_info.id.value, frameworkId);
  t.is(ctx.cluster.master.operatorSubscribers.size, 1);
});

test.serial('operator API - a launch is TASK_ADDED; a status update that changes the state is TASK_UPDATED with framework_id, status and state', async (t) => {
  const ctx = await start(t);
  const agent = await ctx.cluster.addAgent('cpus:2;mem:1024');
  ctx.cluster.clock.advance(1_000);
  const { driver, scheduler, frameworkId } = await ctx.cluster.startFramework({ name: 'launcher' });
  const [offers] = await scheduler.next('resourceOffers');
  const stream = await subscribe(t, ctx);
  await stream.next('SUBSCRIBED');

  driver.launchTasks(offers[0]!.id, [task(offers[0]!, 't1')]);
  await ctx.cluster.settle();
  const added = await stream.next();
  t.is(added.type, 'TASK_ADDED');
  t.like(added.task_added.task, { name: 't1', task_id: { value: 't1' }, framework_id: { value: frameworkId }, agent_id: { value: agent.agentId }, state: 'TASK_STAGING' });

  const run = agent.runTasks.find((r) => r.task.task_id.value === 't1')!;
  agent.update(run, 'TASK_RUNNING');
  await scheduler.next('statusUpdate');
  const updated = await stream.next();
  t.is(updated.type, 'TASK_UPDATED');
  t.deepEqual(updated.task_updated.framework_id, { value: frameworkId });
  t.is(updated.task_updated.state, 'TASK_RUNNING');
  t.like(updated.task_updated.status, { task_id: { value: 't1' }, state: 'TASK_RUNNING', agent_id: { value: agent.agentId } });

  // The same state again (a health update, a retry) changes nothing: no event, as Mesos.
  agent.update(run, 'TASK_RUNNING', { healthy: true });
  await scheduler.next('statusUpdate');
  agent.update(run, 'TASK_FINISHED');
  await scheduler.next('statusUpdate');
  const finished = await stream.next();
  t.is(finished.type, 'TASK_UPDATED');
  t.is(finished.task_updated.state, 'TASK_FINISHED');
});

test.serial('operator API - an agent registering is AGENT_ADDED; unregistering or unreachable, AGENT_REMOVED (its tasks TASK_UPDATED first)', async (t) => {
  const ctx = await start(t);
  const stream = await subscribe(t, ctx);
  await stream.next('SUBSCRIBED');

  const gone = await ctx.cluster.addAgent('cpus:1;mem:512', 'gone-host');
  const added = await stream.next();
  t.is(added.type, 'AGENT_ADDED');
  t.like(added.agent_added.agent, { agent_info: { id: { value: gone.agentId }, hostname: 'gone-host' }, active: true, version: 'test', pid: String(gone.self) });
  t.deepEqual(added.agent_added.agent, (await http(ctx.port, 'POST', '/api/v1', { type: 'GET_AGENTS' })).json().get_agents.agents[0], 'as GET_AGENTS shows it');
  gone.send(ctx.cluster.master.self, UNREGISTER_SLAVE, { slave_id: { value: gone.agentId! } });
  await ctx.cluster.settle();
  t.deepEqual(await stream.next(), { type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: gone.agentId } } });

  // Marked unreachable: Mesos removes it too (AGENT_REMOVED), after its tasks' TASK_UPDATED.
  const lost = await ctx.cluster.addAgent('cpus:2;mem:1024', 'lost-host');
  t.is((await stream.next()).type, 'AGENT_ADDED');
  const { driver, scheduler, frameworkId } = await ctx.cluster.startFramework({ name: 'on-lost' });
  t.is((await stream.next()).type, 'FRAMEWORK_ADDED');
  const [offers] = await scheduler.next('resourceOffers');
  driver.launchTasks(offers[0]!.id, [task(offers[0]!, 't1')]);
  await ctx.cluster.settle();
  t.is((await stream.next()).type, 'TASK_ADDED');
  await partitionAgent(ctx.cluster, lost);
  const lostTask = await nextEvent(stream);
  t.like(lostTask, { type: 'TASK_UPDATED', task_updated: { framework_id: { value: frameworkId }, state: 'TASK_LOST', status: { task_id: { value: 't1' }, reason: 'REASON_AGENT_REMOVED' } } });
  t.deepEqual(await nextEvent(stream), { type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: lost.agentId } } });
});

test.serial('operator API - a framework subscribing is FRAMEWORK_ADDED, failing over FRAMEWORK_UPDATED, tearing down FRAMEWORK_REMOVED (its tasks TASK_UPDATED first)', async (t) => {
  const ctx = await start(t);
  await ctx.cluster.addAgent('cpus:2;mem:1024');
  const stream = await subscribe(t, ctx);
  await stream.next('SUBSCRIBED');

  const { frameworkId } = await ctx.cluster.startFramework({ name: 'short-lived', role: 'web' });
  const added = await stream.next();
  t.is(added.type, 'FRAMEWORK_ADDED');
  t.like(added.framework_added.framework, { framework_info: { id: { value: frameworkId }, name: 'short-lived', role: 'web' }, active: true, connected: true, recovered: false });
  t.deepEqual(added.framework_added.framework.registered_time, { nanoseconds: ctx.cluster.master.frameworks.get(frameworkId)!.registeredTime * 1e6 });

  // Another scheduler takes the framework over, under a new name.
  const { driver, scheduler } = await ctx.cluster.startFramework({ name: 'renamed', role: 'web', id: { value: frameworkId } });
  const updated = await stream.next();
  t.is(updated.type, 'FRAMEWORK_UPDATED');
  t.like(updated.framework_updated.framework, { framework_info: { id: { value: frameworkId }, name: 'renamed' }, connected: true });
  t.truthy(updated.framework_updated.framework.reregistered_time);

  const [offers] = await scheduler.next('resourceOffers');
  driver.launchTasks(offers[0]!.id, [task(offers[0]!, 't1')]);
  await ctx.cluster.settle();
  t.is((await stream.next()).type, 'TASK_ADDED');
  await driver.stop();
  await ctx.cluster.settle();
  const killed = await stream.next();
  t.like(killed, { type: 'TASK_UPDATED', task_updated: { framework_id: { value: frameworkId }, state: 'TASK_KILLED', status: { task_id: { value: 't1' }, reason: 'REASON_FRAMEWORK_REMOVED' } } });
  const removed = await stream.next();
  t.is(removed.type, 'FRAMEWORK_REMOVED');
  t.like(removed.framework_removed.framework_info, { id: { value: frameworkId }, name: 'renamed', role: 'web' });
  t.deepEqual(stream.unread(), []);
});

test.serial('operator API - HEARTBEAT every heartbeat_interval_seconds of the master Clock, the first one interval after SUBSCRIBED', async (t) => {
  const ctx = await start(t);
  const stream = await subscribe(t, ctx);
  await stream.next('SUBSCRIBED');
  await ctx.cluster.settle();
  ctx.cluster.clock.advance(HEARTBEAT_INTERVAL_SECONDS * 1000 - 1);
  await ctx.cluster.settle();
  // An event after the almost-elapsed interval shows no heartbeat came before it.
  await ctx.cluster.addAgent('cpus:1;mem:512');
  t.is((await stream.next()).type, 'AGENT_ADDED', 'no heartbeat before the interval');
  ctx.cluster.clock.advance(1);
  await ctx.cluster.settle();
  t.deepEqual(await stream.next(), { type: 'HEARTBEAT' });
  ctx.cluster.clock.advance(HEARTBEAT_INTERVAL_SECONDS * 1000);
  await ctx.cluster.settle();
  t.deepEqual(await stream.next(), { type: 'HEARTBEAT' });
});

test.serial('operator API - two subscribers each get every event', async (t) => {
  const ctx = await start(t);
  const a = await subscribe(t, ctx);
  const b = await subscribe(t, ctx);
  await a.next('SUBSCRIBED');
  await b.next('SUBSCRIBED');
  t.is(ctx.cluster.master.operatorSubscribers.size, 2);
  const agent = await ctx.cluster.addAgent('cpus:1;mem:512');
  const { frameworkId } = await ctx.cluster.startFramework({ name: 'seen-twice' });
  for (const stream of [a, b]) {
    t.is((await stream.next()).agent_added.agent.agent_info.id.value, agent.agentId);
    t.is((await stream.next()).framework_added.framework.framework_info.id.value, frameworkId);
  }
  t.deepEqual(a.events, b.events);
});

test.serial('operator API - a subscriber whose client disconnects is forgotten; the others still get events', async (t) => {
  const ctx = await start(t);
  const master = ctx.cluster.master;
  const leaving = await subscribe(t, ctx);
  await leaving.next('SUBSCRIBED');
  const staying = await subscribe(t, ctx);
  await staying.next('SUBSCRIBED');
  t.is(master.operatorSubscribers.size, 2);
  const [subscriber] = master.operatorSubscribers;
  leaving.close();
  await subscriber!.done;
  await ctx.cluster.settle();
  t.is(master.operatorSubscribers.size, 1);
  t.false(master.operatorSubscribers.has(subscriber!));
  const metrics = (await http(ctx.port, 'GET', '/metrics/snapshot')).json();
  t.is(metrics['master/operator_event_stream_subscribers'], 1);
  await ctx.cluster.addAgent('cpus:1;mem:512');
  t.is((await staying.next()).type, 'AGENT_ADDED');
});

test.serial('operator API - --max_operator_event_stream_subscribers: a subscriber beyond it closes the oldest stream, as Mesos', async (t) => {
  const ctx = await start(t, { maxOperatorEventStreamSubscribers: 2 });
  const oldest = await subscribe(t, ctx);
  await oldest.next('SUBSCRIBED');
  const second = await subscribe(t, ctx);
  await second.next('SUBSCRIBED');
  const third = await subscribe(t, ctx);
  await third.next('SUBSCRIBED');
  await oldest.ended;
  t.is(ctx.cluster.master.operatorSubscribers.size, 2);
  await ctx.cluster.addAgent('cpus:1;mem:512');
  t.is((await second.next()).type, 'AGENT_ADDED');
  t.is((await third.next()).type, 'AGENT_ADDED');
  t.deepEqual(oldest.events.map((e) => e.type), ['SUBSCRIBED'], 'the oldest stream ended, nothing more on it');
});

test.serial('operator API - SUBSCRIBE with an Accept that rules out JSON is 406, as the other calls; nobody is subscribed', async (t) => {
  const ctx = await start(t);
  t.is((await subscribe(t, ctx, { Accept: '*/*' })).status, 200);
  const refused = await http(ctx.port, 'POST', '/api/v1', { type: 'SUBSCRIBE' }, { headers: { Accept: 'application/x-protobuf' } });
  t.is(refused.status, 406);
  t.regex(refused.body, /Expecting 'Accept' to allow 'application\/json'/);
  t.is(ctx.cluster.master.operatorSubscribers.size, 1, 'the one accepted only');
});

test.serial('operator API - SUBSCRIBE to a master that is not leading is 503 No leader elected, as the other calls', async (t) => {
  const ctx = await start(t);
  t.is((await (await subscribe(t, ctx)).next()).type, 'SUBSCRIBED', 'while it leads');
  ctx.cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  const refused = await http(ctx.port, 'POST', '/api/v1', { type: 'SUBSCRIBE' });
  t.deepEqual([refused.status, refused.body], [503, 'No leader elected']);
  t.is(ctx.cluster.master.operatorSubscribers.size, 1, 'the one subscribed while it led only');
});
