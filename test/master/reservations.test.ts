import anyTest, { type TestFn } from 'ava';
import { stateJSON } from '../../actors/master/http.ts';
import { getRoles } from '../../actors/master/operator-api.ts';
import { CHECKPOINT_RESOURCES, REREGISTER_SLAVE, SLAVE_REREGISTERED, type ReregisterSlave } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { Offer, OfferOperation, TaskInfo } from '../../src/mesos/v1/common.ts';
import { nextOffer, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { subscribe } from '../helpers/event-stream.ts';
import { FakeAgent, checkpointsSent } from '../helpers/fake-agent.ts';
import { http } from '../helpers/http.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { type Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * Dynamic reservations by frameworks (Mesos's RESERVE and UNRESERVE offer operations, as in its
 * `reservation_tests.cpp`), on the paused Clock with a `FakeAgent`: applied in order within one
 * ACCEPT, offered afterwards to the role only, dropped when invalid while the rest applies, and
 * learnt by a new master from the agent that re-registers.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

/** `resources` dynamically reserved to `role` (by `principal`), in the text form. */
function dynamic(text: string, role: string, principal?: string): Resources {
  const level = principal === undefined ? `(DYNAMIC,${role})` : `(DYNAMIC,${role},${principal})`;
  return Resources.parse(
    text
      .split(';')
      .map((part) => part.replace(':', `(reservations: [${level}]):`))
      .join(';'),
  );
}

function reserve(resources: Resources): OfferOperation {
  return { type: 'RESERVE', reserve: { resources: resources.toJSON() } };
}

function unreserve(resources: Resources): OfferOperation {
  return { type: 'UNRESERVE', unreserve: { resources: resources.toJSON() } };
}

function launch(offer: Offer, id: string, resources: Resources): OfferOperation {
  const task: TaskInfo = { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: resources.toJSON(), command: { value: 'sleep 1000' } };
  return { type: 'LAUNCH', launch: { task_infos: [task] } };
}

const offered = (offer: Offer) => Resources.fromJSON(offer.resources ?? []);



test.serial('reservations - RESERVE then LAUNCH on the reserved resources in one ACCEPT; the next offer carries what is left of the reservation', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent('cpus:4;mem:4096');
  const { driver, scheduler } = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[offer]] = await scheduler.next('resourceOffers');
  const reserved = dynamic('cpus:2;mem:512', 'web', 'ops');
  const used = dynamic('cpus:1;mem:128', 'web', 'ops');
  driver.acceptOffers([offer!.id], [reserve(reserved), launch(offer!, 't1', used)], { refuse_seconds: 0 });
  await cluster.settle();

  t.is(agent.runTasks.length, 1, 'the task was launched on what RESERVE made');
  t.true(Resources.fromJSON(agent.runTasks[0]!.task.resources).equals(used));
  t.deepEqual(checkpointsSent(agent).map(String), [String(reserved)], 'the agent was sent its checkpointed resources');
  const books = cluster.master.agents.get(agent.agentId!)!;
  t.true(books.total.equals(Resources.parse('cpus:2;mem:3584').plus(reserved)), String(books.total));
  t.true(books.checkpointed.equals(reserved));

  const slave = stateJSON(cluster.master).slaves[0]!;
  t.deepEqual(slave.reserved_resources, { web: { cpus: 2, mem: 512, disk: 0, gpus: 0 } });
  t.deepEqual(slave.unreserved_resources, { cpus: 2, mem: 3584, disk: 0, gpus: 0 });
  t.true(Resources.fromJSON(slave.reserved_resources_full.web).equals(reserved));
  t.deepEqual(getRoles(cluster.master).roles.map((r) => r.name), ['web']);

  const next = await nextOffer(cluster, scheduler);
  t.true(offered(next).equals(Resources.parse('cpus:2;mem:3584').plus(dynamic('cpus:1;mem:384', 'web', 'ops'))), String(offered(next)));
});

test.serial('reservations - reserved resources are offered to frameworks of their role only; UNRESERVE gives them back to *', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent('cpus:4;mem:4096');
  const web = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[first]] = await web.scheduler.next('resourceOffers');
  const reserved = dynamic('cpus:2;mem:1024', 'web', 'ops');
  web.driver.acceptOffers([first!.id], [reserve(reserved)], { refuse_seconds: 1000 });
  await cluster.settle();

  const batch = await cluster.startFramework({ role: 'batch' });
  const [[other]] = await batch.scheduler.next('resourceOffers');
  t.true(offered(other!).equals(Resources.parse('cpus:2;mem:3072')), `batch is offered the unreserved part only: ${String(offered(other!))}`);
  batch.driver.declineOffer(other!.id, { refuse_seconds: 1000 });
  await cluster.settle();

  web.driver.reviveOffers();
  await cluster.settle();
  const [[again]] = await web.scheduler.next('resourceOffers');
  t.true(offered(again!).equals(Resources.parse('cpus:2;mem:3072').plus(reserved)), String(offered(again!)));
  t.is(again!.allocation_info?.role, 'web');

  web.driver.acceptOffers([again!.id], [unreserve(reserved)], { refuse_seconds: 1000 });
  await cluster.settle();
  t.deepEqual(checkpointsSent(agent).map((r) => r.isEmpty()), [false, true], 'the agent checkpoints nothing any more');
  t.true(cluster.master.agents.get(agent.agentId!)!.total.equals(Resources.parse('cpus:4;mem:4096')));
  t.deepEqual(stateJSON(cluster.master).slaves[0]!.reserved_resources, {});

  batch.driver.reviveOffers();
  await cluster.settle();
  const [[all]] = await batch.scheduler.next('resourceOffers');
  t.true(offered(all!).equals(Resources.parse('cpus:4;mem:4096')), `the unreserved resources go to another role: ${String(offered(all!))}`);
});

test.serial('reservations - invalid operations are dropped with the rest applied: wrong role, wrong or no principal, more than offered, unreserving unreserved or unreserved-to-be', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent('cpus:4;mem:4096');
  const { driver, scheduler } = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[offer]] = await scheduler.next('resourceOffers');
  const valid = dynamic('cpus:1;mem:128', 'web', 'ops');
  driver.acceptOffers(
    [offer!.id],
    [
      reserve(dynamic('cpus:1', 'other', 'ops')),
      reserve(dynamic('cpus:1', 'web', 'mallory')),
      reserve(dynamic('cpus:1', 'web')),
      reserve(dynamic('cpus:100', 'web', 'ops')),
      reserve(Resources.parse('cpus(web):1')),
      unreserve(Resources.parse('cpus:1')),
      unreserve(dynamic('cpus:1', 'web', 'ops')),
      { type: 'RESERVE', reserve: { resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: '*' }] }] } },
      reserve(valid),
      launch(offer!, 't1', valid),
    ],
    { refuse_seconds: 0 },
  );
  await cluster.settle();
  t.deepEqual(checkpointsSent(agent).map(String), [String(valid)], 'one reservation applied, once');
  t.true(cluster.master.agents.get(agent.agentId!)!.total.reserved().equals(valid));
  t.deepEqual(agent.runTasks.map((r) => r.task.task_id.value), ['t1'], 'the LAUNCH after them used the valid one');
  t.deepEqual(scheduler.all('statusUpdate'), [], 'no task error: the dropped operations had no tasks');
  const next = await nextOffer(cluster, scheduler);
  t.true(offered(next).equals(Resources.parse('cpus:3;mem:3968')), `the rest of the offer went back: ${String(offered(next))}`);
});

test.serial('reservations - a refinement refines a reservation it is in; one of an unreserved resource is dropped', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const rt = await cluster.world.add('refined-agent');
  const agent = new FakeAgent('slave(1)', cluster.master.self, 'cpus:4;mem:1024', 'refined');
  agent.checkpointed = String(dynamic('cpus:2', 'eng'));
  rt.spawn(agent);
  await cluster.settle();
  t.not(agent.agentId, undefined, 'registered with its checkpointed resources');
  const { driver, scheduler } = await cluster.startFramework({ role: 'eng/web' });
  const [[offer]] = await scheduler.next('resourceOffers');
  t.true(offered(offer!).reserved('eng').equals(dynamic('cpus:2', 'eng')), 'eng/web is offered what eng reserved');
  const refined = (text: string) => Resources.parse(text.replace(':', '(reservations: [(DYNAMIC,eng),(DYNAMIC,eng/web)]):'));
  driver.acceptOffers([offer!.id], [reserve(refined('cpus:1')), reserve(refined('mem:64'))], { refuse_seconds: 0 });
  await cluster.settle();
  const total = cluster.master.agents.get(agent.agentId!)!.total;
  t.true(total.reserved('eng/web').equals(refined('cpus:1')), String(total));
  t.true(total.reserved('eng').equals(dynamic('cpus:1', 'eng')), 'the refinement took from the eng reservation');
  t.is(total.mem(), 1024);
  t.true(total.unreserved().equals(Resources.parse('cpus:2;mem:1024')), 'mem was not reserved to eng: its refinement was dropped');
  t.true(checkpointsSent(agent).at(-1)!.equals(total.reserved()));
});

/** An agent of a previous master (`old-S1`, 4 cpus) re-registering with `checkpointed`. */
async function reregistering(cluster: TestCluster, resources: string, checkpointed: Resources): Promise<Probe> {
  const runtime = await cluster.world.add('agent-host');
  const agent = new Probe('slave(1)', [CHECKPOINT_RESOURCES, SLAVE_REREGISTERED]);
  runtime.spawn(agent);
  agent.send(cluster.master.self, REREGISTER_SLAVE, {
    slave: { id: { value: 'old-S1' }, hostname: 'agent-host', resources: Resources.parse(resources).toJSON() },
    checkpointed_resources: checkpointed.toJSON(),
    version: 'test',
  } as ReregisterSlave);
  await cluster.settle();
  return agent;
}

test.serial('reservations - a new master learns reservations from the checkpointed resources of a re-registering agent', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const reserved = dynamic('cpus:3;mem:512', 'web', 'ops');
  const agent = await reregistering(cluster, 'cpus:4;mem:1024', reserved);
  t.is(agent.bodies(SLAVE_REREGISTERED).length, 1);
  const books = cluster.master.agents.get('old-S1')!;
  t.true(books.total.equals(Resources.parse('cpus:1;mem:512').plus(reserved)), String(books.total));
  t.true(books.info.resources !== undefined && Resources.fromJSON(books.info.resources).equals(Resources.parse('cpus:4;mem:1024')), 'its info keeps its --resources');
  t.deepEqual(agent.bodies(CHECKPOINT_RESOURCES), [], 'nothing to correct');
  t.deepEqual(stateJSON(cluster.master).slaves[0]!.reserved_resources, { web: { cpus: 3, mem: 512, disk: 0, gpus: 0 } });

  const batch = await cluster.startFramework({ role: 'batch' });
  const [[other]] = await batch.scheduler.next('resourceOffers');
  t.true(offered(other!).equals(Resources.parse('cpus:1;mem:512')));
  const web = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[own]] = await web.scheduler.next('resourceOffers');
  t.true(offered(own!).equals(reserved), String(offered(own!)));
});

test.serial('reservations - an agent whose resources cannot hold its checkpointed ones is refused', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await reregistering(cluster, 'cpus:2;mem:1024', dynamic('cpus:3', 'web'));
  t.deepEqual(agent.bodies(SLAVE_REREGISTERED), []);
  t.false(cluster.master.agents.has('old-S1'));
});

test.serial("reservations - a known agent that re-registers with other checkpointed resources is sent the master's", async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent('cpus:4;mem:4096');
  const { driver, scheduler } = await cluster.startFramework({ role: 'web' });
  const [[offer]] = await scheduler.next('resourceOffers');
  const reserved = dynamic('cpus:2', 'web');
  driver.acceptOffers([offer!.id], [reserve(reserved)], { refuse_seconds: 1000 });
  await cluster.settle();
  t.is(checkpointsSent(agent).length, 1);

  // It lost the message, say: it reports none.
  agent.reregister();
  await cluster.settle();
  t.deepEqual(checkpointsSent(agent).map(String), [String(reserved), String(reserved)], 'sent again');
  t.true(cluster.master.agents.get(agent.agentId!)!.total.reserved('web').equals(reserved), 'the master keeps its own');
});

test.serial('reservations - RESERVE and LAUNCH over the v1 scheduler HTTP API', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 } });
  const port = cluster.runtime.httpAddress!.port;
  const agent = await cluster.addAgent('cpus:2;mem:1024');
  const stream = await subscribe(port, { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'test', name: 'http', role: 'web' } } });
  t.teardown(() => stream.close());
  const frameworkId = (await stream.next('SUBSCRIBED')).subscribed.framework_id.value as string;
  const offer = (await stream.next('OFFERS')).offers.offers[0] as Offer;
  const reserved = dynamic('cpus:1;mem:256', 'web');
  const call = {
    framework_id: { value: frameworkId },
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [reserve(reserved), launch(offer, 'h1', reserved)], filters: { refuse_seconds: 0 } },
  };
  const reply = await http(port, 'POST', '/api/v1/scheduler', call, { headers: { 'Mesos-Stream-Id': stream.streamId } });
  t.is(reply.status, 202, reply.body);
  await cluster.settle();
  t.true(Resources.fromJSON(agent.runTasks[0]!.task.resources).equals(reserved));
  t.deepEqual(checkpointsSent(agent).map(String), [String(reserved)]);
});
