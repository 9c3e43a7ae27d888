import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { AGENT_PING_TIMEOUT_MS, AGENT_REREGISTER_TIMEOUT_MS } from '../../actors/master/constants.ts';
import { SHUTDOWN_SLAVE } from '../../src/mesos/protocol.ts';
import type { MasterOptions } from '../../actors/master/master-process.ts';
import { InMemoryRegistry, type RegistryAgent } from '../../actors/master/registry.ts';
import type { Task } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * The registry and recovery after a failover, after Mesos's `MasterTest.RecoverResources`,
 * `PartitionTest.PartitionedSlaveReregistrationMasterFailover` and the registrar tests: a master
 * elected with a registry listing agents is RECOVERING until they re-register or
 * `agent_reregister_timeout` passes; the rest are marked unreachable (within
 * `recovery_agent_removal_limit`); an agent marked gone is shut down; admissions, unreachable
 * markings and removals are written before the master acts on them.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const PARTITION_AWARE: Partial<FrameworkInfo> = { capabilities: [{ type: 'PARTITION_AWARE' }] };
const RESOURCES = 'cpus:2;mem:1024';

function listed(id: string, hostname: string, state: RegistryAgent['state'] = 'admitted'): RegistryAgent {
  return { info: { id: { value: id }, hostname, resources: Resources.parse(RESOURCES).toJSON() }, state, time: 0 };
}

/** An agent that was registered with the master that failed: it only re-registers, when told. */
class ReturningAgent extends FakeAgent {
  constructor(name: string, master: UPID, agentId: string, hostname: string) {
    super(name, master, RESOURCES, hostname);
    this.agentId = agentId;
  }

  override initialize(): void {}
}

async function returning(cluster: TestCluster, agentId: string, hostname: string): Promise<ReturningAgent> {
  const runtime = await cluster.world.add(hostname);
  const agent = new ReturningAgent('slave(1)', cluster.master.self, agentId, hostname);
  runtime.spawn(agent);
  return agent;
}

function running(agentId: string, frameworkId: string, taskId: string): Task {
  return { name: taskId, task_id: { value: taskId }, framework_id: { value: frameworkId }, agent_id: { value: agentId }, state: 'TASK_RUNNING', resources: Resources.parse('cpus:1;mem:128').toJSON(), statuses: [] };
}

/** Moves the clock by `ms` a ping period at a time, so that re-registered agents keep answering their pings. */
async function advance(cluster: TestCluster, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= AGENT_PING_TIMEOUT_MS) {
    cluster.clock.advance(Math.min(left, AGENT_PING_TIMEOUT_MS));
    await cluster.settle();
  }
}

async function recoveredSlaves(cluster: TestCluster): Promise<string[]> {
  const state = (await http(cluster.runtime.httpAddress!.port, 'GET', '/master/state')).json() as { recovered_slaves: { id: string }[] };
  return state.recovered_slaves.map((s) => s.id).sort();
}

async function recovering(t: ExecutionContext<{ bus: Bus }>, registry: InMemoryRegistry, master: MasterOptions = {}): Promise<TestCluster> {
  const cluster = await startTestCluster(t, t.context.bus, { master: { registry, ...master }, http: { port: 0 } });
  // The master reads its registry in `initialize`, which runs from its mailbox.
  await cluster.settle();
  return cluster;
}

test.serial('registry - a master elected with a registry of two agents is RECOVERING; the one that re-registers is admitted with its task, the other is marked unreachable after agent_reregister_timeout: TASK_UNREACHABLE / TASK_LOST on reconciliation', async (t) => {
  const registry = new InMemoryRegistry([listed('old-S0', 'back'), listed('old-S1', 'away')]);
  const cluster = await recovering(t, registry);
  t.is(cluster.master.state, 'RECOVERING');
  t.deepEqual(await recoveredSlaves(cluster), ['old-S0', 'old-S1']);

  // Frameworks subscribe during recovery, as Mesos lets them.
  const aware = await cluster.startFramework(PARTITION_AWARE);
  const plain = await cluster.startFramework();

  // An unknown task on an agent that may still come back (or on no agent named): no answer, as
  // Mesos; an agent it does not wait for: answered.
  aware.driver.reconcileTasks([{ task_id: { value: 'task-early' }, agent_id: { value: 'old-S1' } }]);
  aware.driver.reconcileTasks([{ task_id: { value: 'task-anywhere' } }]);
  aware.driver.reconcileTasks([{ task_id: { value: 'task-elsewhere' }, agent_id: { value: 'other-S9' } }]);
  const [answered] = await aware.scheduler.next('statusUpdate');
  t.like(answered, { task_id: { value: 'task-elsewhere' }, state: 'TASK_UNKNOWN' });
  t.false(aware.scheduler.all('statusUpdate').some(([s]) => s.task_id.value !== 'task-elsewhere'), 'none for the agents still awaited');

  const back = await returning(cluster, 'old-S0', 'back');
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, back.self);
  back.reregister([running('old-S0', aware.frameworkId, 'task-a')]);
  await reregistered;
  await cluster.settle();
  t.true(cluster.master.agents.has('old-S0'));
  t.is(cluster.master.frameworks.get(aware.frameworkId)!.tasks.get('task-a')?.state, 'TASK_RUNNING');
  t.deepEqual(await recoveredSlaves(cluster), ['old-S1']);
  t.is(cluster.master.state, 'RECOVERING', 'one agent is still awaited');

  await advance(cluster, AGENT_REREGISTER_TIMEOUT_MS - AGENT_PING_TIMEOUT_MS);
  t.is(cluster.master.state, 'RECOVERING', 'not before agent_reregister_timeout');
  await advance(cluster, AGENT_PING_TIMEOUT_MS);
  t.is(cluster.master.state, 'LEADING');
  t.true(cluster.master.unreachableAgents.has('old-S1'));
  t.deepEqual(await recoveredSlaves(cluster), []);
  t.is(registry.agents.get('old-S1')?.state, 'unreachable', 'written to the registry');
  t.is(registry.agents.get('old-S0')?.state, 'admitted');
  t.true(cluster.master.agents.has('old-S0'), 'the agent that came back stays');
  t.true(aware.scheduler.all('slaveLost').some(([id]) => id.value === 'old-S1'));

  aware.driver.reconcileTasks([{ task_id: { value: 'task-b' }, agent_id: { value: 'old-S1' } }]);
  plain.driver.reconcileTasks([{ task_id: { value: 'task-c' }, agent_id: { value: 'old-S1' } }]);
  const [unreachable] = await aware.scheduler.next('statusUpdate');
  const [lost] = await plain.scheduler.next('statusUpdate');
  t.like(unreachable, { task_id: { value: 'task-b' }, state: 'TASK_UNREACHABLE' });
  t.like(lost, { task_id: { value: 'task-c' }, state: 'TASK_LOST' });
});

test.serial('registry - recovery ends at once when every agent of the registry has re-registered', async (t) => {
  const cluster = await recovering(t, new InMemoryRegistry([listed('old-S0', 'back')]));
  t.is(cluster.master.state, 'RECOVERING');
  const back = await returning(cluster, 'old-S0', 'back');
  back.reregister();
  await cluster.settle();
  t.is(cluster.master.state, 'LEADING');
  t.deepEqual(await recoveredSlaves(cluster), []);
});

test.serial('registry - above recovery_agent_removal_limit no agent is marked unreachable; they stay recovered and are admitted when they come back', async (t) => {
  const registry = new InMemoryRegistry([listed('old-S0', 'one'), listed('old-S1', 'two')]);
  const cluster = await recovering(t, registry, { recoveryAgentRemovalLimit: 0.5 });
  await advance(cluster, AGENT_REREGISTER_TIMEOUT_MS);
  t.is(cluster.master.state, 'LEADING');
  t.is(cluster.master.unreachableAgents.size, 0);
  t.deepEqual(await recoveredSlaves(cluster), ['old-S0', 'old-S1']);
  t.is(registry.agents.get('old-S0')?.state, 'admitted');

  const late = await returning(cluster, 'old-S1', 'two');
  late.reregister();
  await cluster.settle();
  t.true(cluster.master.agents.has('old-S1'));
  t.deepEqual(await recoveredSlaves(cluster), ['old-S0']);
});

test.serial('registry - at recovery_agent_removal_limit (1 of 2 at 50%) the agent is marked unreachable', async (t) => {
  const cluster = await recovering(t, new InMemoryRegistry([listed('old-S0', 'one'), listed('old-S1', 'two')]), { recoveryAgentRemovalLimit: 0.5 });
  (await returning(cluster, 'old-S0', 'one')).reregister();
  await cluster.settle();
  await advance(cluster, AGENT_REREGISTER_TIMEOUT_MS);
  t.deepEqual([...cluster.master.unreachableAgents.keys()], ['old-S1']);
});

test.serial('registry - an agent the registry marks gone is shut down when it re-registers, and not admitted', async (t) => {
  const cluster = await recovering(t, new InMemoryRegistry([listed('old-S0', 'gone', 'gone')]));
  t.is(cluster.master.state, 'LEADING', 'no admitted agent to wait for');
  const gone = await returning(cluster, 'old-S0', 'gone');
  const shutdown = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, gone.self);
  gone.reregister();
  await shutdown;
  await cluster.settle();
  t.false(cluster.master.agents.has('old-S0'));
  t.false(gone.received.some((r) => r.name === 'SlaveReregisteredMessage'));
});

test.serial('registry - admission, unreachable marking and removal are written to the registry; an agent registers again while its admission is being written: ignored, answered once', async (t) => {
  /** A registry whose writes wait until `release`: the admission in flight. */
  class SlowRegistry extends InMemoryRegistry {
    readonly held: (() => void)[] = [];
    holding = true;
    #wake: (() => void) | undefined;
    override update(agent: RegistryAgent): Promise<void> | void {
      if (!this.holding) return super.update(agent);
      this.#wake?.();
      return new Promise<void>((resolve) => this.held.push(() => resolve(super.update(agent))));
    }
    /** Resolves once a write is held. */
    async writing(): Promise<void> {
      while (this.held.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    release(): void {
      this.holding = false;
      for (const write of this.held.splice(0)) write();
    }
  }
  const registry = new SlowRegistry();
  const cluster = await recovering(t, registry);
  const runtime = await cluster.world.add('agent1');
  const agent = new FakeAgent('slave(1)', cluster.master.self, RESOURCES, 'host1');
  runtime.spawn(agent); // Registers.
  await registry.writing();
  t.is(cluster.master.agents.size, 0, 'not admitted before the registry has it');
  t.false(agent.received.some((r) => r.name === 'SlaveRegisteredMessage'));
  // A retry while the admission is written (no `settle`: it would wait for the write).
  const retry = futureMessage('RegisterSlaveMessage', agent.self, cluster.master.self);
  agent.register();
  await retry;
  await cluster.runtime.dispatch(cluster.master.self, () => undefined);
  t.is(registry.held.length, 1, 'no second admission');
  const registered = futureMessage('SlaveRegisteredMessage', cluster.master.self, agent.self);
  registry.release();
  await registered;
  await cluster.settle();
  t.is(cluster.master.agents.size, 1);
  t.is(agent.received.filter((r) => r.name === 'SlaveRegisteredMessage').length, 1);
  const id = agent.agentId!;
  t.is(registry.agents.get(id)?.state, 'admitted');

  // Health checks fail: the registry has it unreachable.
  agent.answerPings = false;
  await advance(cluster, AGENT_PING_TIMEOUT_MS * 6);
  t.true(cluster.master.unreachableAgents.has(id));
  t.is(registry.agents.get(id)?.state, 'unreachable');

  // It comes back, then unregisters: the registry forgets it.
  agent.answerPings = true;
  agent.reregister();
  await cluster.settle();
  t.is(registry.agents.get(id)?.state, 'admitted');
  agent.send(cluster.master.self, 'UnregisterSlaveMessage', { slave_id: { value: id } });
  await cluster.settle();
  t.false(cluster.master.agents.has(id));
  t.false(registry.agents.has(id));
});
