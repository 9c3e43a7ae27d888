import anyTest, { type TestFn } from 'ava';
import type { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { REREGISTER_SLAVE } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * Agents registering and re-registering as Mesos's master takes them (`_registerSlave`,
 * `___reregisterSlave`): a disconnected agent at an address that registers anew, and a known
 * agent that comes back with other resources.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

test.serial('MasterTest - a disconnected agent whose address registers anew is removed (its tasks lost), and the new one gets a new id', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const runtime = await cluster.world.add('restarting');
  const old = new FakeAgent('slave(1)', cluster.master.self, 'cpus:2;mem:1024', 'host1');
  // Armed right after the spawn: the master answers in a later turn.
  await futureMessage('SlaveRegisteredMessage', cluster.master.self, runtime.spawn(old));
  await cluster.settle();
  const { driver, scheduler } = await cluster.startFramework();
  const [offers] = await scheduler.next('resourceOffers');
  driver.launchTasks(offers[0]!.id, [{ name: 't1', task_id: { value: 't1' }, agent_id: offers[0]!.agent_id, resources: offers[0]!.resources!, command: { value: 'sleep 1000' } }]);
  await cluster.settle();
  const oldId = old.agentId!;

  // The agent's process goes away (the master sees it exit) and a fresh one, with no memory of
  // its id, registers from the same address.
  runtime.terminate(old.self);
  await cluster.settle();
  t.false(cluster.master.agents.get(oldId)!.connected);
  const fresh = new FakeAgent('slave(1)', cluster.master.self, 'cpus:2;mem:1024', 'host1');
  const lost = scheduler.next('slaveLost');
  await futureMessage('SlaveRegisteredMessage', cluster.master.self, runtime.spawn(fresh));
  await cluster.settle();

  t.not(fresh.agentId, oldId, 'a new agent, not the old one answered again');
  t.false(cluster.master.agents.has(oldId));
  t.is((await lost)[0].value, oldId);
  const update = scheduler.all('statusUpdate').find(([s]) => s.task_id.value === 't1');
  t.deepEqual([update?.[0].state, update?.[0].reason], ['TASK_LOST', 'REASON_AGENT_REMOVED']);
});

test.serial('MasterTest - a known agent that re-registers with other resources: the master and the allocator take its new total', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent('cpus:2;mem:1024');
  const id = agent.agentId!;
  const bigger = Resources.parse('cpus:4;mem:2048');
  const reregistered = futureMessage('SlaveReregisteredMessage', cluster.master.self, agent.self);
  agent.send(cluster.master.self, REREGISTER_SLAVE, {
    slave: { id: { value: id }, hostname: 'host1', resources: bigger.toJSON(), attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }] },
    tasks: [],
    version: 'test',
  });
  await reregistered;
  await cluster.settle();
  const record = cluster.master.agents.get(id)!;
  t.true(record.total.equals(bigger));
  t.deepEqual(record.info.attributes, [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }]);
  const books = cluster.runtime.process<AllocatorProcess>('allocator')!.allocation.agent(id)!;
  t.true(books.total.equals(bigger));

  const { scheduler } = await cluster.startFramework();
  const [offers] = await scheduler.next('resourceOffers');
  t.true(Resources.fromJSON(offers[0]!.resources!).equals(bigger), 'offered the new total');
  t.deepEqual(offers[0]!.attributes, [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }]);
});

test.serial('HierarchicalAllocatorTest.GPUResources - the master tells the allocator its frameworks\' capabilities: an agent with GPUs goes only to a GPU_RESOURCES framework', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const plain = await cluster.startFramework();
  const gpu = await cluster.startFramework({ capabilities: [{ type: 'GPU_RESOURCES' }] });
  const agent = await cluster.addAgent('cpus:2;mem:1024;gpus:1');
  await cluster.settle();
  const offered = (s: typeof plain.scheduler) => s.all('resourceOffers').flatMap(([offers]) => offers.map((o) => o.agent_id.value));
  t.deepEqual(offered(plain.scheduler), [], 'a framework without GPU_RESOURCES is not offered the agent');
  t.deepEqual(offered(gpu.scheduler), [agent.agentId]);
});
