import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { agentExited } from '../../actors/master/agents.ts';
import { InMemoryRegistry } from '../../actors/master/registry.ts';
import { DRAIN_SLAVE, SHUTDOWN_SLAVE, type DrainSlave } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { TaskStatus } from '../../src/mesos/v1/common.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { subscribe as openStream } from '../helpers/event-stream.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { allocationCycles, operatorCall as call, runningT1, startOperatorCluster, type OperatorCluster } from '../helpers/operator.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * DRAIN_AGENT, the master's side of Mesos 1.9's automatic agent draining (after Mesos's
 * `MasterDrainingTest`s): once the registry has the agent's drain info and deactivation, the agent
 * gets no offers and is told to drain (`DrainSlaveMessage`); once none of its tasks is left at
 * the master (terminal and acknowledged) it is DRAINED, and with `mark_gone` marked gone;
 * REACTIVATE_AGENT waits for DRAINED; a new leader recovers the drain and tells the agent again
 * when it re-registers. Real HTTP on 127.0.0.1, `FakeAgent`s, the paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

interface Ctx extends OperatorCluster {
  agent: FakeAgent;
}

async function start(t: ExecutionContext<{ bus: Bus }>): Promise<Ctx> {
  const ctx = await startOperatorCluster(t, t.context.bus, { agents: 1, resources: 'cpus:4;mem:2048' });
  return { ...ctx, agent: ctx.agents[0]! };
}

const drainCall = (agentId: string, fields: Record<string, unknown> = {}) => ({ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agentId }, ...fields } });
const reactivate = (agentId: string) => ({ type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agentId } } });

type AgentView = { active: boolean; deactivated: boolean; drain_info?: { state: string; config: unknown } };

async function getAgent(ctx: { port: number }): Promise<AgentView | undefined> {
  const reply = (await call(ctx, { type: 'GET_AGENTS' })).json() as { get_agents: { agents: AgentView[] } };
  return reply.get_agents.agents[0];
}

async function stateSlave(ctx: { port: number }): Promise<AgentView | undefined> {
  const state = (await http(ctx.port, 'GET', '/master/state')).json() as { slaves: AgentView[] };
  return state.slaves[0];
}

test.serial('operator API - DRAIN_AGENT: 200, the agent is told to drain with the config and gets no offers, GET_AGENTS and /master/state show it DRAINING; once its task ended and was acknowledged it is DRAINED', async (t) => {
  const ctx = await start(t);
  const { cluster, agent, registry } = ctx;
  const agentId = agent.agentId!;
  const { driver, scheduler, frameworkId, run, rest } = await runningT1(ctx, { explicitAcknowledgements: true });
  const rescinded = scheduler.next('offerRescinded');
  const drained = futureMessage(DRAIN_SLAVE, cluster.master.self, agent.self);

  const config = { max_grace_period: { nanoseconds: 5_000_000_000 }, mark_gone: false };
  const reply = await call(ctx, drainCall(agentId, { max_grace_period: config.max_grace_period }));
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.deepEqual(((await drained).body as DrainSlave).config, config);
  t.is((await rescinded)[0].value, rest.id.value);
  t.is(await allocationCycles(ctx.cluster, scheduler), 0, 'no new offer after allocation cycles');
  const draining = { state: 'DRAINING', config };
  t.like(await getAgent(ctx), { active: false, deactivated: true, drain_info: draining });
  t.like(await stateSlave(ctx), { active: false, deactivated: true, drain_info: draining });
  t.deepEqual(registry.drainInfos.get(agentId), draining);
  t.true(registry.deactivatedAgents.has(agentId));

  // The agent kills the task: terminal, but not drained until the framework acknowledges it.
  agent.update(run, 'TASK_KILLED');
  const [killed] = await scheduler.next('statusUpdate');
  t.is(killed.state, 'TASK_KILLED');
  await cluster.settle();
  t.is(cluster.master.drainInfos.get(agentId)?.state, 'DRAINING', 'its terminal update is not acknowledged yet');
  t.is(registry.drainInfos.get(agentId)?.state, 'DRAINING');

  driver.acknowledgeStatusUpdate(killed as TaskStatus);
  await cluster.settle();
  t.false(cluster.master.frameworks.get(frameworkId)!.tasks.has('t1'));
  t.deepEqual(registry.drainInfos.get(agentId), { state: 'DRAINED', config });
  t.like(await getAgent(ctx), { active: false, deactivated: true, drain_info: { state: 'DRAINED', config } });
  t.true(cluster.master.agents.has(agentId), 'not marked gone without mark_gone');
  t.is(await allocationCycles(ctx.cluster, scheduler), 0, 'still no offers once drained');
});

test.serial('operator API - DRAIN_AGENT of an agent without tasks drains it at once; draining again replaces the config and drains again', async (t) => {
  const ctx = await start(t);
  const { cluster, agent, registry } = ctx;
  const agentId = agent.agentId!;
  const first = futureMessage(DRAIN_SLAVE, cluster.master.self, agent.self);
  t.is((await call(ctx, drainCall(agentId))).status, 200);
  t.deepEqual(((await first).body as DrainSlave).config, { mark_gone: false });
  t.deepEqual(cluster.master.drainInfos.get(agentId), { state: 'DRAINED', config: { mark_gone: false } });
  t.deepEqual(registry.drainInfos.get(agentId), { state: 'DRAINED', config: { mark_gone: false } });
  t.false(cluster.master.agents.get(agentId)!.active);

  const second = futureMessage(DRAIN_SLAVE, cluster.master.self, agent.self);
  t.is((await call(ctx, drainCall(agentId, { max_grace_period: { nanoseconds: 0 } }))).status, 200);
  const config = { max_grace_period: { nanoseconds: 0 }, mark_gone: false };
  t.deepEqual(((await second).body as DrainSlave).config, config);
  t.deepEqual(registry.drainInfos.get(agentId), { state: 'DRAINED', config });
});

test.serial('operator API - DRAIN_AGENT with mark_gone: once the task ended and was acknowledged, the agent is shut down and gone, its drain info dropped', async (t) => {
  const ctx = await start(t);
  const { cluster, agent, registry } = ctx;
  const agentId = agent.agentId!;
  const { driver, scheduler, run } = await runningT1(ctx, { explicitAcknowledgements: true });
  t.is((await call(ctx, drainCall(agentId, { mark_gone: true }))).status, 200);
  await cluster.settle();
  t.true(cluster.master.agents.has(agentId), 'not gone while its task runs');
  t.is(registry.drainInfos.get(agentId)?.state, 'DRAINING');

  agent.update(run, 'TASK_KILLED');
  const [killed] = await scheduler.next('statusUpdate');
  const shutdown = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, agent.self);
  const lost = scheduler.next('slaveLost');
  driver.acknowledgeStatusUpdate(killed as TaskStatus);
  await shutdown;
  t.is((await lost)[0].value, agentId);
  await cluster.settle();
  t.true(cluster.master.goneAgents.has(agentId));
  t.false(cluster.master.agents.has(agentId));
  t.is(registry.agents.get(agentId)?.state, 'gone');
  t.is(registry.drainInfos.get(agentId)?.state, 'DRAINED', 'DRAINED was written before the agent was marked gone');
  t.false(cluster.master.drainInfos.has(agentId), 'a gone agent drains no more');
  t.is(await getAgent(ctx), undefined);
});

test.serial('operator API - DRAIN_AGENT of an unknown agent, with a negative max_grace_period or without its payload is 400, and changes nothing', async (t) => {
  const ctx = await start(t);
  const agentId = ctx.agent.agentId!;
  const unknown = await call(ctx, drainCall('nope-S9'));
  t.deepEqual([unknown.status, unknown.body], [400, "Unknown agent 'nope-S9'"]);
  const negative = await call(ctx, drainCall(agentId, { max_grace_period: { nanoseconds: -1 } }));
  t.deepEqual([negative.status, negative.body], [400, `Cannot drain agent '${agentId}': 'drain_agent.max_grace_period' must not be negative, got -1 nanoseconds`]);
  const missing = await call(ctx, { type: 'DRAIN_AGENT' });
  t.deepEqual([missing.status, missing.body], [400, "Failed to validate master::Call: Expecting 'drain_agent' to be present"]);
  t.true(ctx.cluster.master.agents.get(agentId)!.active);
  t.is(ctx.registry.drainInfos.size, 0);
  t.false(ctx.registry.deactivatedAgents.has(agentId));
});

test.serial('operator API - REACTIVATE_AGENT of a draining agent is 400; once drained it is 200, clears the drain info and the deactivation, and the agent is offered again', async (t) => {
  const ctx = await start(t);
  const { cluster, agent, registry } = ctx;
  const agentId = agent.agentId!;
  const { driver, scheduler, run } = await runningT1(ctx, { explicitAcknowledgements: true });
  t.is((await call(ctx, drainCall(agentId))).status, 200);
  const refused = await call(ctx, reactivate(agentId));
  t.deepEqual([refused.status, refused.body], [400, `Agent '${agentId}' is draining: it can be reactivated once drained`]);
  t.is(registry.drainInfos.get(agentId)?.state, 'DRAINING');

  agent.update(run, 'TASK_FINISHED');
  const [finished] = await scheduler.next('statusUpdate');
  driver.acknowledgeStatusUpdate(finished as TaskStatus);
  await cluster.settle();
  t.is(registry.drainInfos.get(agentId)?.state, 'DRAINED');

  const offers = scheduler.all('resourceOffers').length;
  const reply = await call(ctx, reactivate(agentId));
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.false(registry.drainInfos.has(agentId));
  t.false(registry.deactivatedAgents.has(agentId));
  const view = await getAgent(ctx);
  t.like(view, { active: true, deactivated: false });
  t.false('drain_info' in view!, 'no drain_info once reactivated');
  await allocationCycles(ctx.cluster, scheduler);
  t.true(scheduler.all('resourceOffers').length > offers, 'offered again');
});

test.serial('operator API - SUBSCRIBE-d operators get AGENT_UPDATED with deactivated and drain_info when an agent starts draining and when it is drained', async (t) => {
  const ctx = await start(t);
  const agentId = ctx.agent.agentId!;
  const stream = await openStream(ctx.port, { type: 'SUBSCRIBE' }, { path: '/api/v1' });
  t.teardown(() => stream.close());
  await stream.next('SUBSCRIBED');
  t.is((await call(ctx, drainCall(agentId))).status, 200);
  const config = { mark_gone: false };
  t.deepEqual((await stream.next('AGENT_UPDATED')).agent_updated, { agent_id: { value: agentId }, deactivated: true, drain_info: { state: 'DRAINING', config } });
  t.deepEqual((await stream.next('AGENT_UPDATED')).agent_updated, { agent_id: { value: agentId }, deactivated: true, drain_info: { state: 'DRAINED', config } });
});

/** An agent registered with a master that failed: it only re-registers, when told. */
class Returning extends FakeAgent {
  override initialize(): void {}
}

test.serial('master - a new leader recovers the drain from the registry: the re-registering agent is inactive, told to drain again, and drained once it has no task', async (t) => {
  const config = { max_grace_period: { nanoseconds: 1_000_000_000 }, mark_gone: false };
  const registry = new InMemoryRegistry(
    ['old-S0', 'old-S2'].map((id) => ({ info: { id: { value: id }, hostname: id, resources: Resources.parse('cpus:2;mem:1024').toJSON() }, state: 'admitted' as const, time: 0 })),
    {
      // `old-S2`'s deactivation is missing, as if the master that drained it stopped between the two writes.
      deactivatedAgents: ['old-S0'],
      drainInfos: [
        { agentId: 'old-S0', drainInfo: { state: 'DRAINING', config } },
        { agentId: 'old-S2', drainInfo: { state: 'DRAINING', config } },
        { agentId: 'forgotten-S1', drainInfo: { state: 'DRAINING', config } },
      ],
    },
  );
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 }, master: { registry } });
  await cluster.settle();
  t.deepEqual([...cluster.master.drainInfos.keys()], ['old-S0', 'old-S2'], 'only agents the registry lists');

  const runtime = await cluster.world.add('back-again');
  const returning = new Returning('slave(9)', cluster.master.self, 'cpus:2;mem:1024', 'back');
  returning.agentId = 'old-S0';
  runtime.spawn(returning);
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, returning.self);
  const drained = futureMessage(DRAIN_SLAVE, cluster.master.self, returning.self);
  returning.reregister();
  await reregistered;
  t.deepEqual(((await drained).body as DrainSlave).config, config);
  await cluster.settle();
  t.false(cluster.master.agents.get('old-S0')!.active);
  t.deepEqual(registry.drainInfos.get('old-S0'), { state: 'DRAINED', config }, 'no task reported: drained once re-registered');
  t.is(cluster.master.drainInfos.get('old-S0')?.state, 'DRAINED');

  // One that comes back with a task still running stays DRAINING.
  const other = new Returning('slave(10)', cluster.master.self, 'cpus:2;mem:1024', 'old-S2');
  other.agentId = 'old-S2';
  (await cluster.world.add('old-S2')).spawn(other);
  const told = futureMessage(DRAIN_SLAVE, cluster.master.self, other.self);
  const task = { name: 't9', task_id: { value: 't9' }, framework_id: { value: 'gone-F0' }, agent_id: { value: 'old-S2' }, state: 'TASK_RUNNING' as const, resources: Resources.parse('cpus:1;mem:128').toJSON(), statuses: [] };
  other.reregister([task]);
  await told;
  await cluster.settle();
  t.false(cluster.master.agents.get('old-S2')!.active, 'a draining agent is deactivated');
  t.is(registry.drainInfos.get('old-S2')?.state, 'DRAINING');
});

test.serial('master - a draining agent that disconnects and re-registers is told to drain again, still deactivated', async (t) => {
  const ctx = await start(t);
  const { cluster, agent, registry } = ctx;
  const agentId = agent.agentId!;
  const { frameworkId } = await runningT1(ctx, { explicitAcknowledgements: true });
  t.is((await call(ctx, drainCall(agentId))).status, 200);
  await cluster.settle();
  await cluster.runtime.dispatch(cluster.master.self, () => agentExited(cluster.master, agentId));
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
  const told = futureMessage(DRAIN_SLAVE, cluster.master.self, agent.self);
  agent.reregister([cluster.master.frameworks.get(frameworkId)!.tasks.get('t1')!]);
  await reregistered;
  t.deepEqual(((await told).body as DrainSlave).config, { mark_gone: false });
  await cluster.settle();
  t.like(await getAgent(ctx), { active: false, deactivated: true, drain_info: { state: 'DRAINING' } });
  t.is(registry.drainInfos.get(agentId)?.state, 'DRAINING');
});
