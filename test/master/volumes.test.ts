import anyTest, { type TestFn } from 'ava';
import { parseAcls } from '../../actors/master/authorizer.ts';
import { stateJSON } from '../../actors/master/http.ts';
import { getAgents } from '../../actors/master/operator-api.ts';
import { AgentRecord } from '../../actors/master/state.ts';
import { createConversions, destroyConversions } from '../../actors/master/volumes.ts';
import { CHECKPOINT_RESOURCES, REREGISTER_SLAVE, SLAVE_REREGISTERED, type ReregisterSlave } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { Offer, OfferOperation, TaskInfo } from '../../src/mesos/v1/common.ts';
import { UPID } from '../../src/process/upid.ts';
import { nextOffer, startTestCluster } from '../helpers/cluster.ts';
import { subscribe } from '../helpers/event-stream.ts';
import { checkpointsSent } from '../helpers/fake-agent.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { Probe } from '../helpers/runtime.ts';
import { type Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * Persistent volumes made and destroyed by frameworks (Mesos's CREATE and DESTROY offer
 * operations, as in its `persistent_volume_tests.cpp`), on the paused Clock with a `FakeAgent`:
 * applied in order with the other operations of an ACCEPT (a LAUNCH after a CREATE uses the
 * volume), validated in Mesos's words and dropped when invalid while the rest applies, refused
 * while in use, checkpointed by the agent, offered back to their role, authorized by `--acls`,
 * and learnt by a new master from the agent that re-registers.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const AGENT = 'cpus:4;mem:4096;disk:1024';

/** `text` dynamically reserved to `role` by `principal`. */
function reserved(text: string, role = 'web', principal: string | undefined = 'ops'): Resources {
  const level = principal === undefined ? `(DYNAMIC,${role})` : `(DYNAMIC,${role},${principal})`;
  return Resources.parse(text.split(';').map((part) => part.replace(':', `(reservations: [${level}]):`)).join(';'));
}

/** A persistent volume of `size` MB of disk reserved to `role` by `principal`. */
function volume(id: string, size: number, options: { path?: string; role?: string; principal?: string | null; creator?: string | null; mode?: 'RW' | 'RO' } = {}): Resources {
  const principal = options.principal === null ? undefined : (options.principal ?? 'ops');
  const creator = options.creator === null ? undefined : (options.creator ?? principal);
  const [disk] = reserved(`disk:${size}`, options.role ?? 'web', principal).toJSON();
  return Resources.fromJSON([
    {
      ...disk!,
      disk: {
        persistence: creator === undefined ? { id } : { id, principal: creator },
        volume: { container_path: options.path ?? 'data', mode: options.mode ?? 'RW' },
      },
    },
  ]);
}

const reserve = (resources: Resources): OfferOperation => ({ type: 'RESERVE', reserve: { resources: resources.toJSON() } });
const unreserve = (resources: Resources): OfferOperation => ({ type: 'UNRESERVE', unreserve: { resources: resources.toJSON() } });
const create = (volumes: Resources | unknown[]): OfferOperation => ({ type: 'CREATE', create: { volumes: volumes instanceof Resources ? volumes.toJSON() : (volumes as never) } });
const destroy = (volumes: Resources): OfferOperation => ({ type: 'DESTROY', destroy: { volumes: volumes.toJSON() } });

function launch(offer: Offer, id: string, resources: Resources): OfferOperation {
  const task: TaskInfo = { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: resources.toJSON(), command: { value: 'sleep 1000' } };
  return { type: 'LAUNCH', launch: { task_infos: [task] } };
}

const offered = (offer: Offer) => Resources.fromJSON(offer.resources ?? []);



// ---------------------------------------------------------------------------------------------
// Validation, in Mesos's words.

function agentWith(checkpointed: Resources): AgentRecord {
  const agent = new AgentRecord('S1', { hostname: 'h', resources: Resources.parse(AGENT).toJSON() }, UPID.parse('slave(1)@a'), 0);
  agent.checkpointed = checkpointed;
  agent.total = Resources.parse(AGENT).minus(checkpointed.withoutVolumes().flatten()).plus(checkpointed);
  return agent;
}

test('volumes - CREATE validation: persistent volumes of reserved disk, a relative container_path, unique ids per role, the principal', (t) => {
  const agent = agentWith(volume('vol1', 64));
  const check = (volumes: unknown, principal?: string) => {
    const result = createConversions({ volumes: volumes instanceof Resources ? volumes.toJSON() : volumes }, agent, principal);
    return typeof result === 'string' ? result : result.map((c) => `${String(c.consumed)} -> ${String(c.converted)}`).join();
  };
  t.is(check(volume('vol2', 32), 'ops'), `${String(reserved('disk:32'))} -> ${String(volume('vol2', 32))}`);
  t.is(check(volume('vol1', 32, { role: 'db' }), 'ops'), `${String(reserved('disk:32', 'db'))} -> ${String(volume('vol1', 32, { role: 'db' }))}`, 'ids are unique per role');
  t.is(check(volume('vol1', 32)), "Persistence ID 'vol1' is not unique");
  t.is(check(volume('vol1', 32, { path: 'other' })), "Persistence ID 'vol1' is not unique", 'whatever the path');
  t.is(check([...volume('a', 1).toJSON(), ...volume('a', 2, { path: 'b' }).toJSON()]), "Persistence ID 'a' is not unique", 'twice in one operation');
  t.is(check(reserved('disk:32')), "Not a persistent volume: Resource 'disk(reservations: [(DYNAMIC,web,ops)]):32' does not have DiskInfo");
  t.is(check(volume('ro', 32, { mode: 'RO' })), 'Not a persistent volume: Read-only persistent volume not supported');
  const unreserved = [{ name: 'disk', type: 'SCALAR', scalar: { value: 32 }, disk: { persistence: { id: 'u' }, volume: { container_path: 'data', mode: 'RW' } } }];
  t.is(check(unreserved), 'Invalid resources: Invalid DiskInfo: Persistent volumes cannot be created from unreserved resources');
  t.is(check(volume('abs', 32, { path: '/data' })), "Invalid resources: Invalid DiskInfo: 'container_path' '/data' of persistent volume 'abs' must be relative to the sandbox");
  t.is(check(volume('up', 32, { path: 'a/../../x' })), "Invalid resources: Invalid DiskInfo: 'container_path' 'a/../../x' of persistent volume 'up' must not leave the sandbox ('..')");
  t.is(check(volume('p', 32, { creator: 'mallory' }), 'ops'), "Create volume operation has been attempted by principal 'ops', but there is a volume in the operation with principal 'mallory' set in 'DiskInfo.Persistence'");
  t.is(check(volume('p', 32, { creator: null }), 'ops'), "Create volume operation has been attempted by principal 'ops', but there is a volume in the operation with no principal set in 'DiskInfo.Persistence'");
  t.is(check(volume('p', 32, { creator: 'anyone' })), `${String(reserved('disk:32'))} -> ${String(volume('p', 32, { creator: 'anyone' }))}`, 'no principal known: any');
  t.is(check([]), "Invalid resources: 'volumes' must not be empty");
  t.regex(check([{ name: 'disk', type: 'SCALAR', scalar: { value: 1 }, disk: { persistence: { id: 'a/b' }, volume: { container_path: 'x' } } }]), /^Invalid resources: invalid resource 'disk': resources\[0\]\.disk: persistence id 'a\/b' must not contain '\/'/);
  t.regex(check('nope'), /^Invalid resources: .*expected an array of Resource objects, got "nope"/);
});

test('volumes - DESTROY validation: volumes of the agent, not in use', (t) => {
  const agent = agentWith(volume('vol1', 64).plus(volume('vol2', 32, { path: 'two' })));
  const check = (volumes: Resources) => {
    const result = destroyConversions({ volumes: volumes.toJSON() }, agent);
    return typeof result === 'string' ? result : result.map((c) => `${String(c.consumed)} -> ${String(c.converted)}`).join();
  };
  t.is(check(volume('vol1', 64)), `${String(volume('vol1', 64))} -> ${String(reserved('disk:64'))}`);
  t.is(check(volume('vol1', 32)), 'Persistent volumes not found', 'a volume is contained only in itself, whole');
  t.is(check(volume('vol3', 64)), 'Persistent volumes not found');
  t.is(check(reserved('disk:64')), "Not a persistent volume: Resource 'disk(reservations: [(DYNAMIC,web,ops)]):64' does not have DiskInfo");
  agent.addTask({ name: 't', task_id: { value: 't' }, framework_id: { value: 'f' }, agent_id: { value: 'S1' }, state: 'TASK_RUNNING', resources: volume('vol2', 32, { path: 'two' }).toJSON(), statuses: [] });
  t.is(check(volume('vol2', 32, { path: 'two' })), 'Persistent volumes in use');
  t.is(check(volume('vol1', 64).plus(volume('vol2', 32, { path: 'two' }))), 'Persistent volumes in use');
  t.is(check(volume('vol1', 64)), `${String(volume('vol1', 64))} -> ${String(reserved('disk:64'))}`, 'the other is free');
});

// ---------------------------------------------------------------------------------------------
// In an ACCEPT.

test.serial('volumes - RESERVE, CREATE and LAUNCH in one ACCEPT: the task uses the volume; the agent checkpoints it; /master/state and GET_AGENTS show it', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent(AGENT);
  const { driver, scheduler } = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[offer]] = await scheduler.next('resourceOffers');
  const vol = volume('vol1', 64);
  const task = reserved('cpus:1;mem:128').plus(vol);
  driver.acceptOffers([offer!.id], [reserve(reserved('cpus:1;mem:128;disk:100')), create(vol), launch(offer!, 't1', task)], { refuse_seconds: 0 });
  await cluster.settle();

  t.is(agent.runTasks.length, 1, 'the task was launched on what CREATE made');
  t.true(Resources.fromJSON(agent.runTasks[0]!.task.resources).equals(task));
  const checkpointed = reserved('cpus:1;mem:128;disk:36').plus(vol);
  t.deepEqual(checkpointsSent(agent).map(String), [String(reserved('cpus:1;mem:128;disk:100')), String(checkpointed)], 'each operation checkpointed in turn, the volume with it');
  const books = cluster.master.agents.get(agent.agentId!)!;
  t.true(books.checkpointed.equals(checkpointed), String(books.checkpointed));
  t.true(books.total.equals(Resources.parse('cpus:3;mem:3968;disk:924').plus(checkpointed)), String(books.total));

  const slave = stateJSON(cluster.master).slaves[0]!;
  t.deepEqual(slave.reserved_resources, { web: { cpus: 1, mem: 128, disk: 100, gpus: 0 } });
  const full = slave.reserved_resources_full.web as { disk?: { persistence: { id: string }; volume: { container_path: string } } }[];
  t.deepEqual(full.filter((r) => r.disk !== undefined).map((r) => [r.disk!.persistence.id, r.disk!.volume.container_path]), [['vol1', 'data']]);
  t.true(Resources.fromJSON(getAgents(cluster.master).agents[0]!.total_resources).contains(vol), 'GET_AGENTS: total_resources');

  // The task holds the volume: the next offer has the rest of the reservation, not the volume.
  const next = await nextOffer(cluster, scheduler);
  t.true(offered(next).equals(Resources.parse('cpus:3;mem:3968;disk:924').plus(reserved('disk:36'))), String(offered(next)));
});

test.serial('volumes - DESTROY of a volume in use is dropped; once its task ended the volume is offered again and DESTROY gives the disk back', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent(AGENT);
  const { driver, scheduler } = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[offer]] = await scheduler.next('resourceOffers');
  const vol = volume('vol1', 64);
  driver.acceptOffers([offer!.id], [reserve(reserved('disk:64')), create(vol), launch(offer!, 't1', vol.plus(Resources.parse('cpus:1;mem:128')))], { refuse_seconds: 0 });
  await cluster.settle();
  const run = agent.runTasks[0]!;
  agent.update(run, 'TASK_RUNNING');
  await scheduler.next('statusUpdate');

  // The volume is not offered while t1 holds it; naming it anyway is dropped ("in use").
  const busy = await nextOffer(cluster, scheduler);
  t.false(offered(busy).contains(vol));
  driver.acceptOffers([busy.id], [destroy(vol)], { refuse_seconds: 0 });
  await cluster.settle();
  t.is(checkpointsSent(agent).map(String).length, 2, 'no new checkpoint');
  t.true(cluster.master.agents.get(agent.agentId!)!.checkpointed.contains(vol));

  agent.update(run, 'TASK_FINISHED');
  await scheduler.next('statusUpdate');
  const free = await nextOffer(cluster, scheduler);
  t.true(offered(free).contains(vol), `offered again to its role: ${String(offered(free))}`);
  driver.acceptOffers([free.id], [destroy(vol)], { refuse_seconds: 0 });
  await cluster.settle();
  t.deepEqual(checkpointsSent(agent).map(String).at(-1), String(reserved('disk:64')), 'the agent is told the volume is gone, the disk still reserved');
  const after = await nextOffer(cluster, scheduler);
  t.true(offered(after).contains(reserved('disk:64')));
  t.true(offered(after).persistentVolumes().isEmpty());
});

test.serial('volumes - invalid CREATE and DESTROY operations are dropped with the rest applied', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent(AGENT);
  const { driver, scheduler } = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[offer]] = await scheduler.next('resourceOffers');
  const first = volume('vol1', 32);
  driver.acceptOffers([offer!.id], [reserve(reserved('disk:200')), create(first)], { refuse_seconds: 0 });
  await cluster.settle();
  t.is(checkpointsSent(agent).map(String).length, 2);

  const again = await nextOffer(cluster, scheduler);
  const unreservedVolume = [{ name: 'disk', type: 'SCALAR', scalar: { value: 8 }, disk: { persistence: { id: 'u', principal: 'ops' }, volume: { container_path: 'u', mode: 'RW' } } }];
  const valid = volume('vol2', 16, { path: 'logs' });
  driver.acceptOffers(
    [again.id],
    [
      create(unreservedVolume),
      create(volume('vol1', 8, { path: 'elsewhere' })),
      create(volume('vol3', 8, { creator: 'mallory' })),
      create(volume('vol3', 8, { creator: null })),
      create(volume('vol3', 8, { path: '/abs' })),
      create(volume('vol3', 8, { mode: 'RO' })),
      create(volume('vol3', 500)),
      create(reserved('disk:8')),
      destroy(volume('nope', 8)),
      destroy(volume('vol1', 16)),
      unreserve(first),
      reserve(volume('vol4', 8)),
      create(valid),
      launch(again, 't1', valid.plus(Resources.parse('cpus:1;mem:64'))),
    ],
    { refuse_seconds: 0 },
  );
  await cluster.settle();
  t.deepEqual(checkpointsSent(agent).map(String).slice(2), [String(reserved('disk:152').plus(first).plus(valid))], 'one CREATE applied, once');
  t.deepEqual(agent.runTasks.map((r) => r.task.task_id.value), ['t1'], 'the LAUNCH after them used it');
  t.deepEqual(scheduler.all('statusUpdate'), []);
  t.true(cluster.master.agents.get(agent.agentId!)!.checkpointed.contains(first), 'UNRESERVE of a volume was dropped');
});

test.serial('volumes - --acls: create_volumes for the role, destroy_volumes for the creator; a framework refused has its operation dropped', async (t) => {
  const acls = {
    create_volumes: [{ principals: { type: 'ANY' }, roles: { values: ['web'] } }, { principals: { type: 'ANY' }, roles: { type: 'NONE' } }],
    destroy_volumes: [{ principals: { values: ['ops'] }, creator_principals: { values: ['ops'] } }, { principals: { type: 'ANY' }, creator_principals: { type: 'NONE' } }],
  };
  const cluster = await startTestCluster(t, t.context.bus, { master: { authorizer: parseAcls(JSON.stringify(acls), 'acls') } });
  const agent = await cluster.addAgent(AGENT);
  const web = await cluster.startFramework({ role: 'web', principal: 'dev' });
  const [[offer]] = await web.scheduler.next('resourceOffers');
  const vol = volume('vol1', 32, { principal: 'dev' });
  web.driver.acceptOffers([offer!.id], [reserve(reserved('disk:64', 'web', 'dev')), create(vol)], { refuse_seconds: 0 });
  await cluster.settle();
  t.true(cluster.master.agents.get(agent.agentId!)!.checkpointed.contains(vol), 'dev may create volumes for web');

  const next = await nextOffer(cluster, web.scheduler);
  web.driver.acceptOffers([next.id], [destroy(vol)], { refuse_seconds: 0 });
  await cluster.settle();
  t.true(cluster.master.agents.get(agent.agentId!)!.checkpointed.contains(vol), 'dev may not destroy volumes dev created: dropped');

  const db = await cluster.startFramework({ role: 'db', principal: 'ops' });
  const [[dbOffer]] = await db.scheduler.next('resourceOffers');
  db.driver.acceptOffers([dbOffer!.id], [reserve(reserved('disk:64', 'db')), create(volume('vol1', 32, { role: 'db' }))], { refuse_seconds: 0 });
  await cluster.settle();
  const books = cluster.master.agents.get(agent.agentId!)!;
  t.true(books.checkpointed.contains(reserved('disk:64', 'db')), 'the RESERVE applied');
  t.true(books.checkpointed.persistentVolumes().equals(vol), 'the CREATE for db was dropped');
});

test.serial('volumes - CREATE and LAUNCH over the v1 scheduler HTTP API', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 } });
  const port = cluster.runtime.httpAddress!.port;
  const agent = await cluster.addAgent(AGENT);
  const stream = await subscribe(port, { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'test', name: 'http', role: 'web', principal: 'ops' } } });
  t.teardown(() => stream.close());
  const frameworkId = (await stream.next('SUBSCRIBED')).subscribed.framework_id.value as string;
  const offer = (await stream.next('OFFERS')).offers.offers[0] as Offer;
  const vol = volume('vol1', 64);
  const call = {
    framework_id: { value: frameworkId },
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [reserve(reserved('disk:64')), create(vol), launch(offer, 'h1', vol.plus(Resources.parse('cpus:1;mem:64')))], filters: { refuse_seconds: 0 } },
  };
  const reply = await http(port, 'POST', '/api/v1/scheduler', call, { headers: { 'Mesos-Stream-Id': stream.streamId } });
  t.is(reply.status, 202, reply.body);
  await cluster.settle();
  t.true(Resources.fromJSON(agent.runTasks[0]!.task.resources).contains(vol));
  t.deepEqual(checkpointsSent(agent).map(String).at(-1), String(vol));
});

test.serial('volumes - a new master learns volumes from the checkpointed resources of a re-registering agent, and offers them to their role', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const runtime = await cluster.world.add('agent-host');
  const probe = new Probe('slave(1)', [CHECKPOINT_RESOURCES, SLAVE_REREGISTERED]);
  runtime.spawn(probe);
  const vol = volume('vol1', 64);
  const checkpointed = reserved('cpus:1;disk:36').plus(vol);
  probe.send(cluster.master.self, REREGISTER_SLAVE, {
    slave: { id: { value: 'old-S1' }, hostname: 'agent-host', resources: Resources.parse(AGENT).toJSON() },
    checkpointed_resources: checkpointed.toJSON(),
    version: 'test',
  } as ReregisterSlave);
  await cluster.settle();
  t.is(probe.bodies(SLAVE_REREGISTERED).length, 1);
  const books = cluster.master.agents.get('old-S1')!;
  t.true(books.total.equals(Resources.parse('cpus:3;mem:4096;disk:924').plus(checkpointed)), String(books.total));
  t.deepEqual(checkpointsSent(probe).map(String), [], 'nothing to correct');

  const batch = await cluster.startFramework({ role: 'batch' });
  const [[other]] = await batch.scheduler.next('resourceOffers');
  t.true(offered(other!).equals(Resources.parse('cpus:3;mem:4096;disk:924')), `another role is not offered the volume: ${String(offered(other!))}`);
  const web = await cluster.startFramework({ role: 'web', principal: 'ops' });
  const [[own]] = await web.scheduler.next('resourceOffers');
  t.true(offered(own!).equals(checkpointed), String(offered(own!)));
});
