import anyTest, { type TestFn } from 'ava';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { subscribe, type EventStream } from '../helpers/event-stream.ts';
import type { FakeAgent } from '../helpers/fake-agent.ts';
import { http } from '../helpers/http.ts';
import { useBuses, type BusesContext } from '../helpers/worlds.ts';

/**
 * Where our master answered otherwise than Mesos's `Master::Http` (src/master/http.cpp,
 * src/master/readonly_handler.cpp): UPDATE_FRAMEWORK over the scheduler API
 * (`UpdateFrameworkTest`), and the operator endpoints' leader check, `jsonp`, id selectors,
 * `order=desc` and `/health`. Real HTTP on 127.0.0.1 against a master with a `FakeAgent` on the
 * paused Clock, on the local bus.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);
useBuses(test);

interface Ctx {
  cluster: TestCluster;
  agent: FakeAgent;
  port: number;
}

async function start(t: { teardown(fn: () => unknown): void; context: BusesContext }): Promise<Ctx> {
  const cluster = await startTestCluster(t, t.context.buses.local, { http: { port: 0 } });
  const agent = await cluster.addAgent('cpus:2;mem:1024');
  return { cluster, agent, port: cluster.runtime.httpAddress!.port };
}

const frameworkInfo = (extra: object = {}) => ({ user: 'test', name: 'http-framework', ...extra });

async function subscribed(ctx: Ctx, info: object = frameworkInfo()): Promise<{ stream: EventStream; frameworkId: string }> {
  const stream = await subscribe(ctx.port, { type: 'SUBSCRIBE', subscribe: { framework_info: info } });
  const event = await stream.next();
  if (event.type !== 'SUBSCRIBED') throw new Error(`expected SUBSCRIBED, got ${JSON.stringify(event)}`);
  return { stream, frameworkId: event.subscribed.framework_id.value as string };
}

function updateFramework(ctx: Ctx, stream: EventStream, frameworkId: string, info: object) {
  const body = { framework_id: { value: frameworkId }, type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: { ...info, id: { value: frameworkId } } } };
  return http(ctx.port, 'POST', '/api/v1/scheduler', body, { headers: { 'Mesos-Stream-Id': stream.streamId } });
}

function launch(frameworkId: string, offer: any, taskIds: string[]) {
  const task_infos = taskIds.map((id) => ({
    name: id,
    task_id: { value: id },
    agent_id: offer.agent_id,
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 64 } },
    ],
    command: { value: 'sleep 1000' },
  }));
  return { framework_id: { value: frameworkId }, type: 'ACCEPT', accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos } }] } };
}

test.serial('UpdateFrameworkTest.MutableFieldsUpdateSuccessfully - UPDATE_FRAMEWORK over HTTP answers 200 OK, the update applied', async (t) => {
  const ctx = await start(t);
  const { stream, frameworkId } = await subscribed(ctx);
  const reply = await updateFramework(ctx, stream, frameworkId, frameworkInfo({ name: 'renamed', webui_url: 'http://ui' }));
  t.is(reply.status, 200);
  t.is(reply.body, '');
  t.is(ctx.cluster.master.frameworks.get(frameworkId)!.info.name, 'renamed');
  stream.close();
});

test.serial('UpdateFrameworkTest.UserChangeFails, PrincipalChangeFails, CheckpointingChangeFails - 400 naming the field, nothing updated', async (t) => {
  const ctx = await start(t);
  const original = frameworkInfo({ principal: 'alice' });
  const { stream, frameworkId } = await subscribed(ctx, original);

  const user = await updateFramework(ctx, stream, frameworkId, { ...original, name: 'renamed', user: 'root' });
  t.is(user.status, 400);
  t.is(user.body, "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'test' to 'root'");

  const principal = await updateFramework(ctx, stream, frameworkId, { ...original, name: 'renamed', principal: 'mallory' });
  t.is(principal.status, 400);
  t.is(principal.body, "FrameworkInfo update is not valid: Changing framework's principal is not allowed.");

  const checkpoint = await updateFramework(ctx, stream, frameworkId, { ...original, name: 'renamed', checkpoint: true });
  t.is(checkpoint.status, 400);
  t.is(checkpoint.body, "FrameworkInfo update is not valid: Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from 'false' to 'true'");

  const info = ctx.cluster.master.frameworks.get(frameworkId)!.info;
  t.like(info, { name: 'http-framework', user: 'test', principal: 'alice' }, 'no partial update');
  t.falsy(info.checkpoint);
  stream.close();
});

test.serial('operator endpoints - a master that is not leading does not answer from its own state: 503 No leader elected; /health is 200', async (t) => {
  const ctx = await start(t);
  t.is((await http(ctx.port, 'GET', '/master/state')).status, 200);
  ctx.cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  for (const path of ['/master/state', '/master/state.json', '/master/state-summary', '/master/frameworks', '/master/slaves', '/master/tasks', '/master/redirect']) {
    const reply = await http(ctx.port, 'GET', path);
    t.deepEqual([reply.status, reply.body], [503, 'No leader elected'], path);
  }
  // Mesos's `/health` is `OK()` on any master: it says the process answers, not that it leads.
  t.is((await http(ctx.port, 'GET', '/master/health')).status, 200);
  t.is((await http(ctx.port, 'GET', '/health')).status, 200);
});

test.serial('operator endpoints - ?jsonp=cb wraps the JSON in a call, as text/javascript', async (t) => {
  const ctx = await start(t);
  for (const path of ['/master/state', '/master/state-summary', '/master/frameworks', '/master/slaves', '/master/tasks']) {
    const plain = await http(ctx.port, 'GET', path);
    const wrapped = await http(ctx.port, 'GET', `${path}?jsonp=cb`);
    t.is(wrapped.status, 200, path);
    t.is(wrapped.headers['content-type'], 'text/javascript', path);
    t.true(wrapped.body.startsWith('cb(') && wrapped.body.endsWith(');'), path);
    t.deepEqual(Object.keys(JSON.parse(wrapped.body.slice(3, -2))), Object.keys(plain.json()), path);
  }
});

test.serial('operator endpoints - /master/frameworks?framework_id= and /master/slaves?slave_id= select by id', async (t) => {
  const ctx = await start(t);
  const other = await ctx.cluster.addAgent('cpus:1;mem:512');
  const a = await subscribed(ctx, frameworkInfo({ name: 'a' }));
  const b = await subscribed(ctx, frameworkInfo({ name: 'b' }));

  t.is((await http(ctx.port, 'GET', '/master/frameworks')).json().frameworks.length, 2);
  const one = (await http(ctx.port, 'GET', `/master/frameworks?framework_id=${b.frameworkId}`)).json();
  t.deepEqual(one.frameworks.map((f: { id: string }) => f.id), [b.frameworkId]);
  t.deepEqual((await http(ctx.port, 'GET', '/master/frameworks?framework_id=nope')).json().frameworks, []);

  t.is((await http(ctx.port, 'GET', '/master/slaves')).json().slaves.length, 2);
  const slaves = (await http(ctx.port, 'GET', `/master/slaves?slave_id=${other.agentId}`)).json();
  t.deepEqual(slaves.slaves.map((s: { id: string }) => s.id), [other.agentId]);
  t.deepEqual(slaves.recovered_slaves, []);
  a.stream.close();
  b.stream.close();
});

test.serial('operator endpoints - /master/tasks?order=desc, as Mesos documents it, is descending; asc ascending', async (t) => {
  const ctx = await start(t);
  const { cluster } = ctx;
  const { stream, frameworkId } = await subscribed(ctx);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  const accepted = await http(ctx.port, 'POST', '/api/v1/scheduler', launch(frameworkId, offer, ['first', 'second']), { headers: { 'Mesos-Stream-Id': stream.streamId } });
  t.is(accepted.status, 202);
  await cluster.settle();
  // Tasks sort by their first status's timestamp: 'second' starts running a second later.
  for (const id of ['first', 'second']) {
    ctx.agent.update(ctx.agent.runTasks.find((r) => r.task.task_id.value === id)!, 'TASK_RUNNING');
    await stream.next('UPDATE');
    cluster.clock.advance(1_000);
    await cluster.settle();
  }

  const ids = async (query: string) => {
    const reply = await http(ctx.port, 'GET', `/master/tasks${query}`);
    t.is(reply.status, 200, `${query}: ${reply.body}`);
    return reply.status === 200 ? reply.json().tasks.map((task: { id: string }) => task.id) : [];
  };
  t.deepEqual(await ids(''), ['second', 'first']);
  t.deepEqual(await ids('?order=desc'), ['second', 'first']);
  t.deepEqual(await ids('?order=asc'), ['first', 'second']);
  const bad = await http(ctx.port, 'GET', '/master/tasks?order=up');
  t.deepEqual([bad.status, bad.body], [400, "Failed to parse query parameter 'order': 'up' must be 'asc' or 'desc'"]);
  stream.close();
});
