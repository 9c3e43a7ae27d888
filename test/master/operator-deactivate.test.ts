import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { agentExited } from '../../actors/master/agents.ts';
import { InMemoryRegistry } from '../../actors/master/registry.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';
import { allocationCycles, operatorCall as call, runningT1, startOperatorCluster } from '../helpers/operator.ts';

/**
 * DEACTIVATE_AGENT and REACTIVATE_AGENT, after Mesos's `Http::_deactivateAgent` /
 * `_reactivateAgent`: once the registry has it, a deactivated agent's offers are rescinded and
 * it gets no new ones (its tasks keep running), across a disconnection and re-registration,
 * until it is reactivated. Real HTTP on 127.0.0.1, a `FakeAgent`, the paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

/** An agent registered with a master that failed: it only re-registers, when told. */
class Returning extends FakeAgent {
  override initialize(): void {}
}

interface Ctx {
  cluster: TestCluster;
  registry: InMemoryRegistry;
  agent: FakeAgent;
  port: number;
}

async function start(t: ExecutionContext<{ bus: Bus }>): Promise<Ctx> {
  const ctx = await startOperatorCluster(t, t.context.bus, { agents: 1, resources: 'cpus:4;mem:2048' });
  return { ...ctx, agent: ctx.agents[0]! };
}

const deactivate = (agentId: string) => ({ type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: agentId } } });
const reactivate = (agentId: string) => ({ type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agentId } } });

async function slave(ctx: Ctx): Promise<{ active: boolean; deactivated: boolean }> {
  const state = (await http(ctx.port, 'GET', '/master/state')).json() as { slaves: { active: boolean; deactivated: boolean }[] };
  const { active, deactivated } = state.slaves[0]!;
  return { active, deactivated };
}

test.serial('operator API - DEACTIVATE_AGENT rescinds its offers, makes no new ones, leaves its task running; /master/state and GET_AGENTS show it deactivated; the registry has it', async (t) => {
  const ctx = await start(t);
  const { cluster, agent } = ctx;
  const agentId = agent.agentId!;
  const { scheduler, frameworkId, rest } = await runningT1(ctx);
  const rescinded = scheduler.next('offerRescinded');

  const reply = await call(ctx, deactivate(agentId));
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.is((await rescinded)[0].value, rest.id.value);
  t.false([...cluster.master.offers.values()].some((o) => o.agentId === agentId), 'no offer left on it');
  t.is(await allocationCycles(ctx.cluster, scheduler), 0, 'no new offer after allocation cycles');
  t.is(cluster.master.frameworks.get(frameworkId)!.tasks.get('t1')!.state, 'TASK_RUNNING');
  t.is(scheduler.all('statusUpdate').length, 1, 'no update beyond TASK_RUNNING');
  t.deepEqual(await slave(ctx), { active: false, deactivated: true });
  const agents = (await call(ctx, { type: 'GET_AGENTS' })).json() as { get_agents: { agents: { active: boolean; deactivated: boolean }[] } };
  t.like(agents.get_agents.agents[0], { active: false, deactivated: true });
  t.true(ctx.registry.deactivatedAgents.has(agentId));
  // Again: still deactivated, 200.
  t.is((await call(ctx, deactivate(agentId))).status, 200);
});

test.serial('operator API - a deactivated agent that disconnects and re-registers stays deactivated; REACTIVATE_AGENT resumes its offers', async (t) => {
  const ctx = await start(t);
  const { cluster, agent } = ctx;
  const agentId = agent.agentId!;
  const { scheduler, frameworkId } = await runningT1(ctx);
  t.is((await call(ctx, deactivate(agentId))).status, 200);
  await cluster.settle();

  await cluster.runtime.dispatch(cluster.master.self, () => agentExited(cluster.master, agentId));
  t.false(cluster.master.agents.get(agentId)!.connected);
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
  agent.reregister([cluster.master.frameworks.get(frameworkId)!.tasks.get('t1')!]);
  await reregistered;
  await cluster.settle();
  t.true(cluster.master.agents.get(agentId)!.connected);
  t.deepEqual(await slave(ctx), { active: false, deactivated: true });
  t.is(await allocationCycles(ctx.cluster, scheduler), 0, 'still no offers');

  const offers = scheduler.all('resourceOffers').length;
  const reply = await call(ctx, reactivate(agentId));
  t.deepEqual([reply.status, reply.body], [200, '']);
  await cluster.settle();
  t.deepEqual(await slave(ctx), { active: true, deactivated: false });
  t.false(ctx.registry.deactivatedAgents.has(agentId));
  await allocationCycles(ctx.cluster, scheduler);
  t.true(scheduler.all('resourceOffers').length > offers, 'offered again');
  t.true([...cluster.master.offers.values()].some((o) => o.agentId === agentId));
});

test.serial('operator API - DEACTIVATE_AGENT of an unknown agent and REACTIVATE_AGENT of an active one are 400; a missing payload is 400', async (t) => {
  const ctx = await start(t);
  const unknown = await call(ctx, deactivate('nope-S9'));
  t.deepEqual([unknown.status, unknown.body], [400, "Unknown agent 'nope-S9'"]);
  const active = await call(ctx, reactivate(ctx.agent.agentId!));
  t.deepEqual([active.status, active.body], [400, `Agent '${ctx.agent.agentId!}' is not deactivated`]);
  const missing = await call(ctx, { type: 'DEACTIVATE_AGENT' });
  t.deepEqual([missing.status, missing.body], [400, "Failed to validate master::Call: Expecting 'deactivate_agent' to be present"]);
  t.true(ctx.cluster.master.agents.get(ctx.agent.agentId!)!.active);
});

test.serial('master - a new leader recovers the deactivation from the registry: the agent re-registers inactive', async (t) => {
  const registry = new InMemoryRegistry(
    [{ info: { id: { value: 'old-S0' }, hostname: 'back', resources: Resources.parse('cpus:2;mem:1024').toJSON() }, state: 'admitted', time: 0 }],
    { deactivatedAgents: ['old-S0', 'forgotten-S1'] },
  );
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 }, master: { registry } });
  t.deepEqual([...cluster.master.deactivatedAgents], ['old-S0'], 'only agents the registry lists');
  const agent = await cluster.addAgent('cpus:2;mem:1024', 'back');
  // `addAgent` registers a new agent; the recovered one comes back under its id.
  const runtime = await cluster.world.add('back-again');
  const returning = new Returning('slave(9)', cluster.master.self, 'cpus:2;mem:1024', 'back');
  returning.agentId = 'old-S0';
  runtime.spawn(returning);
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, returning.self);
  returning.reregister();
  await reregistered;
  await cluster.settle();
  t.false(cluster.master.agents.get('old-S0')!.active);
  t.true(cluster.master.agents.get(agent.agentId!)!.active);
});

test.serial('operator API - a master that is not leading answers DEACTIVATE_AGENT and REACTIVATE_AGENT as the other calls: 503 with no leader known', async (t) => {
  const ctx = await start(t);
  ctx.cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  for (const reply of [await call(ctx, deactivate(ctx.agent.agentId!)), await call(ctx, reactivate(ctx.agent.agentId!))]) {
    t.deepEqual([reply.status, reply.body], [503, 'No leader elected']);
  }
  t.false(ctx.cluster.master.deactivatedAgents.has(ctx.agent.agentId!));
});
