import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { InMemoryRegistry, type RegistryAgent } from '../../actors/master/registry.ts';
import { SHUTDOWN_FRAMEWORK, SHUTDOWN_SLAVE } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { partitionAgent, runningTask, type TestCluster } from '../helpers/cluster.ts';
import { subscribe as openStream } from '../helpers/event-stream.ts';
import type { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http, type Reply } from '../helpers/http.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';
import { operatorCall as call, startOperatorCluster } from '../helpers/operator.ts';

/**
 * The v1 operator API's destructive calls, after Mesos's `Master::Http::teardown` and
 * `_markAgentGone` (and `MasterTest.TeardownEndpoint`, `PartitionTest.AgentGone...`): TEARDOWN
 * (and `POST /master/teardown`) removes a framework as its scheduler's TEARDOWN does;
 * MARK_AGENT_GONE writes the agent gone to the registry, then shuts it down and removes it.
 * Real HTTP on 127.0.0.1, `FakeAgent`s, an `InMemoryRegistry`, the paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const PARTITION_AWARE: Partial<FrameworkInfo> = { capabilities: [{ type: 'PARTITION_AWARE' }] };

interface Ctx {
  cluster: TestCluster;
  registry: InMemoryRegistry;
  agent: FakeAgent;
  port: number;
}

async function start(t: ExecutionContext<{ bus: Bus }>, registry = new InMemoryRegistry()): Promise<Ctx> {
  const ctx = await startOperatorCluster(t, t.context.bus, { registry, agents: 1, resources: 'cpus:4;mem:2048' });
  return { ...ctx, agent: ctx.agents[0]! };
}



function teardownForm(ctx: Ctx, body: string, method = 'POST'): Promise<Reply> {
  return http(ctx.port, method, '/master/teardown', body, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
}

const markGone = (agentId: string) => ({ type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: agentId } } });

test.serial('operator API - TEARDOWN of a framework with a running task: ShutdownFrameworkMessage to its agent, task TASK_KILLED, offers withdrawn, framework completed; 200 with no body', async (t) => {
  const ctx = await start(t);
  const { cluster, agent } = ctx;
  const { scheduler, frameworkId } = await runningTask(ctx.cluster, ctx.agent, {}, 't1');
  // The rest of the agent is offered again: an outstanding offer when the operator acts.
  cluster.clock.advance(ALLOCATION_INTERVAL_MS * 6);
  await cluster.settle();
  const [outstanding] = await scheduler.next('resourceOffers');
  t.true(cluster.master.offers.has(outstanding[0]!.id.value));
  const stream = await openStream(ctx.port, { type: 'SUBSCRIBE' }, { path: '/api/v1' });
  await stream.next('SUBSCRIBED');

  const shutdown = futureMessage(SHUTDOWN_FRAMEWORK, cluster.master.self, agent.self);
  const reply = await call(ctx, { type: 'TEARDOWN', teardown: { framework_id: { value: frameworkId } } });
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.deepEqual((await shutdown).body, { framework_id: { value: frameworkId } });

  t.false(cluster.master.frameworks.has(frameworkId));
  const completed = cluster.master.completedFrameworks.find((f) => f.id === frameworkId)!;
  t.truthy(completed);
  t.like(completed.completedTasks.find((x) => x.task_id.value === 't1'), { state: 'TASK_KILLED' });
  t.is(completed.completedTasks.find((x) => x.task_id.value === 't1')!.statuses.at(-1)!.reason, 'REASON_FRAMEWORK_REMOVED');
  t.false(cluster.master.offers.has(outstanding[0]!.id.value));
  t.false([...cluster.master.offers.values()].some((o) => o.frameworkId === frameworkId));
  t.deepEqual(cluster.master.agents.get(agent.agentId!)!.usedResources().toJSON(), [], 'its task no longer holds the agent');
  const updated = await stream.next('TASK_UPDATED');
  t.like(updated.task_updated, { framework_id: { value: frameworkId }, state: 'TASK_KILLED' });
  t.like((await stream.next('FRAMEWORK_REMOVED')).framework_removed.framework_info, { id: { value: frameworkId } });

  const { frameworks, completed_frameworks } = (await call(ctx, { type: 'GET_FRAMEWORKS' })).json().get_frameworks;
  t.deepEqual(frameworks, []);
  t.deepEqual(completed_frameworks.map((f: any) => f.framework_info.id.value), [frameworkId]);
});

test.serial('operator API - TEARDOWN of an unknown or completed framework, or without its payload, is 400 naming it', async (t) => {
  const ctx = await start(t);
  const { frameworkId } = await ctx.cluster.startFramework();
  const unknown = await call(ctx, { type: 'TEARDOWN', teardown: { framework_id: { value: 'nope' } } });
  t.deepEqual([unknown.status, unknown.body], [400, "No framework found with specified ID 'nope'"]);
  const missing = await call(ctx, { type: 'TEARDOWN' });
  t.deepEqual([missing.status, missing.body], [400, "Failed to validate master::Call: Expecting 'teardown' to be present"]);
  const noId = await call(ctx, { type: 'TEARDOWN', teardown: {} });
  t.is(noId.status, 400);
  t.regex(noId.body, /^Failed to validate master::Call: .*'teardown\.framework_id'/);
  t.true(ctx.cluster.master.frameworks.has(frameworkId), 'nothing torn down');

  t.is((await call(ctx, { type: 'TEARDOWN', teardown: { framework_id: { value: frameworkId } } })).status, 200);
  const again = await call(ctx, { type: 'TEARDOWN', teardown: { framework_id: { value: frameworkId } } });
  t.deepEqual([again.status, again.body], [400, `No framework found with specified ID '${frameworkId}'`]);
});

test.serial('/master/teardown - frameworkId in a form body tears the framework down; a missing or undecodable parameter is 400 naming it, not POST 405', async (t) => {
  const ctx = await start(t);
  const { cluster, agent } = ctx;
  const { frameworkId } = await runningTask(ctx.cluster, ctx.agent, {}, 't1');

  const empty = await teardownForm(ctx, '');
  t.deepEqual([empty.status, empty.body], [400, "Missing 'frameworkId' query parameter in the request body"]);
  const other = await teardownForm(ctx, `framework_id=${frameworkId}`);
  t.deepEqual([other.status, other.body], [400, "Missing 'frameworkId' query parameter in the request body"]);
  const malformed = await teardownForm(ctx, 'frameworkId=%E0%A4%A');
  t.is(malformed.status, 400);
  t.regex(malformed.body, /^Unable to decode query string: .*frameworkId=%E0%A4%A/);
  const unknown = await teardownForm(ctx, 'frameworkId=nope');
  t.deepEqual([unknown.status, unknown.body], [400, "No framework found with specified ID 'nope'"]);
  const get = await http(ctx.port, 'GET', `/master/teardown?frameworkId=${frameworkId}`);
  t.is(get.status, 405);
  t.is(get.headers.allow, 'POST');
  t.true(cluster.master.frameworks.has(frameworkId), 'nothing torn down');

  const shutdown = futureMessage(SHUTDOWN_FRAMEWORK, cluster.master.self, agent.self);
  const reply = await teardownForm(ctx, `frameworkId=${encodeURIComponent(frameworkId)}`);
  t.deepEqual([reply.status, reply.body], [200, '']);
  await shutdown;
  t.false(cluster.master.frameworks.has(frameworkId));
  t.true(cluster.master.completedFrameworks.some((f) => f.id === frameworkId));
});

test.serial('operator API - MARK_AGENT_GONE of a registered agent: registry gone, TASK_GONE_BY_OPERATOR to the partition-aware framework and TASK_LOST to the other, slaveLost, ShutdownMessage, AGENT_REMOVED; it re-registers: refused', async (t) => {
  const ctx = await start(t);
  const { cluster, agent, registry } = ctx;
  const agentId = agent.agentId!;
  const aware = await runningTask(ctx.cluster, ctx.agent, PARTITION_AWARE, 'aware-task');
  const plain = await runningTask(ctx.cluster, ctx.agent, {}, 'plain-task');
  const stream = await openStream(ctx.port, { type: 'SUBSCRIBE' }, { path: '/api/v1' });
  await stream.next('SUBSCRIBED');

  const shutdown = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, agent.self);
  const reply = await call(ctx, markGone(agentId));
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.deepEqual((await shutdown).body, { message: 'Agent has been marked gone' });
  t.like(registry.agents.get(agentId), { state: 'gone', info: { id: { value: agentId }, hostname: agent.hostname } });

  const [awareStatus] = await aware.scheduler.next('statusUpdate');
  t.like(awareStatus, { task_id: { value: 'aware-task' }, state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_AGENT_REMOVED_BY_OPERATOR', source: 'SOURCE_MASTER' });
  const [plainStatus] = await plain.scheduler.next('statusUpdate');
  t.like(plainStatus, { task_id: { value: 'plain-task' }, state: 'TASK_LOST', reason: 'REASON_AGENT_REMOVED', source: 'SOURCE_MASTER' });
  t.is((await aware.scheduler.next('slaveLost'))[0].value, agentId);
  t.is((await plain.scheduler.next('slaveLost'))[0].value, agentId);
  t.is((await stream.next('AGENT_REMOVED')).agent_removed.agent_id.value, agentId);

  const { master } = cluster;
  t.false(master.agents.has(agentId));
  t.true(master.goneAgents.has(agentId));
  t.false(master.unreachableAgents.has(agentId));
  t.false([...master.offers.values()].some((o) => o.agentId === agentId), 'its offers rescinded');
  t.like(master.frameworks.get(aware.frameworkId)!.completedTasks.find((x) => x.task_id.value === 'aware-task'), { state: 'TASK_GONE_BY_OPERATOR' });
  t.is(master.frameworks.get(aware.frameworkId)!.unreachableTasks.size, 0);
  const { get_agents } = (await call(ctx, { type: 'GET_AGENTS' })).json();
  t.deepEqual(get_agents.agents, []);

  // Reconciling a task on it: gone by operator (lost to a framework that is not partition-aware).
  aware.driver.reconcileTasks([{ task_id: { value: 'aware-other' }, agent_id: { value: agentId } }]);
  plain.driver.reconcileTasks([{ task_id: { value: 'plain-other' }, agent_id: { value: agentId } }]);
  t.like((await aware.scheduler.next('statusUpdate'))[0], { task_id: { value: 'aware-other' }, state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_RECONCILIATION' });
  t.like((await plain.scheduler.next('statusUpdate'))[0], { task_id: { value: 'plain-other' }, state: 'TASK_LOST' });

  // Marking it gone again is fine (Mesos answers `OK()`), and changes nothing.
  const again = await call(ctx, markGone(agentId));
  t.deepEqual([again.status, again.body], [200, '']);

  // The agent did not hear (a FakeAgent does not exit): it re-registers and is refused.
  const refused = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, agent.self);
  agent.reregister();
  await refused;
  await cluster.settle();
  t.false(master.agents.has(agentId));
  t.false(agent.received.some((r) => r.name === 'SlaveReregisteredMessage'));
});

test.serial('operator API - MARK_AGENT_GONE of an unreachable agent: its unreachable task becomes TASK_GONE_BY_OPERATOR and completed; it is no longer unreachable, and refused when it re-registers', async (t) => {
  const ctx = await start(t);
  const { cluster, agent, registry } = ctx;
  const agentId = agent.agentId!;
  const aware = await runningTask(ctx.cluster, ctx.agent, PARTITION_AWARE, 'aware-task');
  await partitionAgent(cluster, agent);
  t.is((await aware.scheduler.next('statusUpdate'))[0].state, 'TASK_UNREACHABLE');
  t.is(registry.agents.get(agentId)?.state, 'unreachable');
  const framework = cluster.master.frameworks.get(aware.frameworkId)!;
  t.true(framework.unreachableTasks.has('aware-task'));

  const reply = await call(ctx, markGone(agentId));
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.like(registry.agents.get(agentId), { state: 'gone' });
  const [status] = await aware.scheduler.next('statusUpdate');
  t.like(status, { task_id: { value: 'aware-task' }, state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_AGENT_REMOVED_BY_OPERATOR' });
  t.false(framework.unreachableTasks.has('aware-task'));
  t.like(framework.completedTasks.find((x) => x.task_id.value === 'aware-task'), { state: 'TASK_GONE_BY_OPERATOR' });
  t.false(cluster.master.unreachableAgents.has(agentId));
  t.true(cluster.master.goneAgents.has(agentId));

  const refused = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, agent.self);
  agent.reregister();
  t.deepEqual((await refused).body, { message: 'Agent has been marked gone' });
  await cluster.settle();
  t.false(cluster.master.agents.has(agentId));
});

test.serial('operator API - MARK_AGENT_GONE of an agent the master does not know is 404; without its payload 400', async (t) => {
  const ctx = await start(t);
  const unknown = await call(ctx, markGone('nope'));
  t.deepEqual([unknown.status, unknown.body], [404, "Agent 'nope' not found"]);
  t.false(ctx.registry.agents.has('nope'), 'nothing written');
  const missing = await call(ctx, { type: 'MARK_AGENT_GONE' });
  t.deepEqual([missing.status, missing.body], [400, "Failed to validate master::Call: Expecting 'mark_agent_gone' to be present"]);
  t.true(ctx.cluster.master.agents.has(ctx.agent.agentId!));
});

test.serial('operator API - MARK_AGENT_GONE is answered once the registry has the agent gone, and not acted on before; a second call meanwhile is 503', async (t) => {
  /** A registry whose `gone` writes wait until `release`. */
  class SlowRegistry extends InMemoryRegistry {
    readonly held: (() => void)[] = [];
    #wake: (() => void) | undefined;
    override update(agent: RegistryAgent): Promise<void> | void {
      if (agent.state !== 'gone') return super.update(agent);
      this.#wake?.();
      return new Promise<void>((resolve) => this.held.push(() => resolve(super.update(agent))));
    }
    async writing(): Promise<void> {
      while (this.held.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
  const registry = new SlowRegistry();
  const ctx = await start(t, registry);
  const agentId = ctx.agent.agentId!;
  const shutdown = futureMessage(SHUTDOWN_SLAVE, ctx.cluster.master.self, ctx.agent.self);
  const answer = call(ctx, markGone(agentId));
  await registry.writing();
  t.true(ctx.cluster.master.agents.has(agentId), 'not removed before the registry has it gone');
  t.false(ctx.cluster.master.goneAgents.has(agentId));
  const second = await call(ctx, markGone(agentId));
  t.is(second.status, 503);
  t.regex(second.body, new RegExp(`^Agent '${agentId}' is being transitioned`));

  for (const write of registry.held.splice(0)) write();
  const reply = await answer;
  t.deepEqual([reply.status, reply.body], [200, '']);
  await shutdown;
  t.false(ctx.cluster.master.agents.has(agentId));
  t.is(registry.agents.get(agentId)?.state, 'gone');
});

test.serial('operator API - a master that is not leading answers TEARDOWN, MARK_AGENT_GONE and /master/teardown as the other calls: 503 with no leader known, 307 to the leader', async (t) => {
  const ctx = await start(t);
  const { cluster } = ctx;
  const { frameworkId } = await cluster.startFramework();
  const agentId = ctx.agent.agentId!;
  cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  const teardownCall = { type: 'TEARDOWN', teardown: { framework_id: { value: frameworkId } } };
  for (const reply of [await call(ctx, teardownCall), await call(ctx, markGone(agentId)), await teardownForm(ctx, `frameworkId=${frameworkId}`)]) {
    t.deepEqual([reply.status, reply.body], [503, 'No leader elected']);
  }
  cluster.master.leader = { pid: 'master@other', id: 'other', hostname: '10.0.0.9', url: 'http://10.0.0.9:5050' };
  const api = await call(ctx, markGone(agentId));
  t.deepEqual([api.status, api.headers.location], [307, '//10.0.0.9:5050/api/v1']);
  const form = await teardownForm(ctx, `frameworkId=${frameworkId}`);
  t.deepEqual([form.status, form.headers.location], [307, '//10.0.0.9:5050/master/teardown']);
  t.true(cluster.master.frameworks.has(frameworkId));
  t.true(cluster.master.agents.has(agentId));
  t.false(ctx.registry.agents.get(agentId)?.state === 'gone');
});
