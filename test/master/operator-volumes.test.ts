import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { parseAcls } from '../../actors/master/authorizer.ts';
import type { MasterOptions } from '../../actors/master/master-process.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { type FakeAgent, checkpointsSent } from '../helpers/fake-agent.ts';
import { dropMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { ALLOCATOR_UPDATE_AVAILABLE_RESULT } from '../../actors/allocator/protocol.ts';
import { http } from '../helpers/http.ts';
import { operatorCall as call, startOperatorCluster, type OperatorCluster } from '../helpers/operator.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * The operator's persistent volumes (Mesos's `PersistentVolumeEndpointsTest`s): CREATE_VOLUMES
 * and DESTROY_VOLUMES of the v1 operator API, `POST /master/create-volumes` and
 * `/master/destroy-volumes` with Mesos's form body. `202` once applied (the agent told to
 * checkpoint them, the allocator offering them to their role), `400` naming the field and
 * why, `403` when `--acls` refuse, `409` when the agent has not the reserved disk free. Real
 * HTTP on 127.0.0.1, a `FakeAgent`, the paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

interface Ctx extends OperatorCluster {
  agent: FakeAgent;
  agentId: string;
}

async function start(t: ExecutionContext<{ bus: Bus }>, master: MasterOptions = {}): Promise<Ctx> {
  const ctx = await startOperatorCluster(t, t.context.bus, { agents: 1, resources: 'cpus:4;mem:2048;disk:1024', master });
  return { ...ctx, agent: ctx.agents[0]!, agentId: ctx.agents[0]!.agentId! };
}

const reserved = (text: string, role = 'web') =>
  Resources.parse(text.split(';').map((part) => part.replace(':', `(reservations: [(DYNAMIC,${role},ops)]):`)).join(';'));

/** A persistent volume of `size` MB of disk dynamically reserved to `role`. */
function volume(id: string, size: number, options: { role?: string; path?: string; creator?: string; mode?: string } = {}): Resources {
  const [disk] = reserved(`disk:${size}`, options.role ?? 'web').toJSON();
  const persistence = { id, principal: options.creator ?? 'ops' };
  return Resources.fromJSON([{ ...disk!, disk: { persistence, volume: { container_path: options.path ?? 'data', mode: options.mode ?? 'RW' } } }]);
}

const reserveCall = (agentId: string, resources: Resources) => ({ type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: agentId }, resources: resources.toJSON() } });
const createCall = (agentId: string, volumes: unknown) => ({ type: 'CREATE_VOLUMES', create_volumes: { agent_id: { value: agentId }, volumes: volumes instanceof Resources ? volumes.toJSON() : volumes } });
const destroyCall = (agentId: string, volumes: unknown) => ({ type: 'DESTROY_VOLUMES', destroy_volumes: { agent_id: { value: agentId }, volumes: volumes instanceof Resources ? volumes.toJSON() : volumes } });

/** `POST /master/<path>` with Mesos's form body. */
function form(ctx: { port: number }, path: string, fields: Record<string, string>) {
  return http(ctx.port, 'POST', `/master/${path}`, new URLSearchParams(fields).toString(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
}


const books = (ctx: Ctx) => ctx.cluster.master.agents.get(ctx.agentId)!;

/** The operator reserves `cpus:1;disk:256` for web (the role's offers need some cpus). */
async function reservedForWeb(ctx: Ctx): Promise<void> {
  const reply = await call(ctx, reserveCall(ctx.agentId, reserved('cpus:1;disk:256')));
  if (reply.status !== 202) throw new Error(`RESERVE_RESOURCES: ${reply.status} ${reply.body}`);
}

test.serial('operator volumes - CREATE_VOLUMES: 202; the agent checkpoints the volume; GET_AGENTS and /master/state show it; its role is offered it', async (t) => {
  const ctx = await start(t);
  await reservedForWeb(ctx);
  const vol = volume('vol1', 64);
  const reply = await call(ctx, createCall(ctx.agentId, vol));
  t.is(reply.status, 202, reply.body);
  const checkpointed = reserved('cpus:1;disk:192').plus(vol);
  t.deepEqual(checkpointsSent(ctx.agent).map(String), [String(reserved('cpus:1;disk:256')), String(checkpointed)]);
  t.true(books(ctx).checkpointed.equals(checkpointed));

  const agents = (await call(ctx, { type: 'GET_AGENTS' })).json().get_agents.agents;
  t.true(Resources.fromJSON(agents[0].total_resources).contains(vol), 'GET_AGENTS');
  const slave = (await http(ctx.port, 'GET', '/master/state')).json().slaves[0];
  t.deepEqual(slave.reserved_resources, { web: { cpus: 1, mem: 0, disk: 256, gpus: 0 } });
  const full = Resources.fromJSON(slave.reserved_resources_full.web);
  t.true(full.persistentVolumes().equals(vol), `/master/state: ${String(full)}`);

  const web = await ctx.cluster.startFramework({ role: 'web' });
  const [[offer]] = await web.scheduler.next('resourceOffers');
  t.true(Resources.fromJSON(offer!.resources).equals(Resources.parse('cpus:3;mem:2048;disk:768').plus(checkpointed)), 'the role gets its volume');
});

test.serial('operator volumes - DESTROY_VOLUMES and the form endpoints: 202; the agent is told; the disk stays reserved', async (t) => {
  const ctx = await start(t);
  await reservedForWeb(ctx);
  const one = volume('vol1', 64);
  const two = volume('vol2', 32, { path: 'logs' });
  const created = await form(ctx, 'create-volumes', { slaveId: ctx.agentId, volumes: JSON.stringify([...one.toJSON(), ...two.toJSON()]) });
  t.is(created.status, 202, created.body);
  t.true(books(ctx).checkpointed.persistentVolumes().equals(one.plus(two)));

  t.is((await call(ctx, destroyCall(ctx.agentId, one))).status, 202);
  t.true(books(ctx).checkpointed.persistentVolumes().equals(two));
  const destroyed = await form(ctx, 'destroy-volumes', { slaveId: ctx.agentId, volumes: JSON.stringify(two.toJSON()) });
  t.is(destroyed.status, 202, destroyed.body);
  t.true(books(ctx).checkpointed.equals(reserved('cpus:1;disk:256')), String(books(ctx).checkpointed));
  t.is(checkpointsSent(ctx.agent).map(String).at(-1), String(reserved('cpus:1;disk:256')));
});

test.serial('operator volumes - 400 naming the field and why: unknown agent, not persistent volumes, unreserved disk, a duplicate id, an absolute path, volumes not there or in use, bad forms', async (t) => {
  const ctx = await start(t);
  await reservedForWeb(ctx);
  const vol = volume('vol1', 64);
  t.is((await call(ctx, createCall(ctx.agentId, vol))).status, 202);

  // A framework of web runs a task on the volume.
  const web = await ctx.cluster.startFramework({ role: 'web' });
  const [[offer]] = await web.scheduler.next('resourceOffers');
  const task = vol.plus(Resources.parse('cpus:1;mem:64'));
  web.driver.launchTasks(offer!.id, [{ name: 't1', task_id: { value: 't1' }, agent_id: offer!.agent_id, resources: task.toJSON(), command: { value: 'sleep 1000' } }]);
  await ctx.cluster.settle();
  ctx.agent.update(ctx.agent.runTasks[0]!, 'TASK_RUNNING');
  await web.scheduler.next('statusUpdate');

  const unreserved = [{ name: 'disk', type: 'SCALAR', scalar: { value: 8 }, disk: { persistence: { id: 'u' }, volume: { container_path: 'u', mode: 'RW' } } }];
  const cases: [string, Promise<{ status: number; body: string }>, RegExp][] = [
    ['v1 unknown agent', call(ctx, createCall('nope', volume('v', 8))), /^Invalid 'create_volumes\.agent_id': no agent found with specified ID 'nope'$/],
    ['form unknown agent', form(ctx, 'destroy-volumes', { slaveId: 'nope', volumes: JSON.stringify(vol.toJSON()) }), /^Invalid 'slaveId': no agent found/],
    ['not a volume', call(ctx, createCall(ctx.agentId, reserved('disk:8'))), /^Invalid CREATE operation on agent \S+: 'create_volumes\.volumes': Not a persistent volume: Resource '.*' does not have DiskInfo$/],
    ['unreserved', call(ctx, createCall(ctx.agentId, unreserved)), /'create_volumes\.volumes': Invalid resources: Invalid DiskInfo: Persistent volumes cannot be created from unreserved resources$/],
    ['duplicate id', call(ctx, createCall(ctx.agentId, volume('vol1', 8, { path: 'x' }))), /'create_volumes\.volumes': Persistence ID 'vol1' is not unique$/],
    ['absolute path', form(ctx, 'create-volumes', { slaveId: ctx.agentId, volumes: JSON.stringify(volume('abs', 8, { path: '/srv' }).toJSON()) }), /^Invalid CREATE operation on agent \S+: 'volumes': Invalid resources: Invalid DiskInfo: 'container_path' '\/srv' of persistent volume 'abs' must be relative to the sandbox$/],
    ['read-only', call(ctx, createCall(ctx.agentId, volume('ro', 8, { mode: 'RO' }))), /Read-only persistent volume not supported$/],
    ['malformed', call(ctx, createCall(ctx.agentId, [{ name: 'disk', type: 'SCALAR', scalar: { value: 8 }, disk: { persistence: { id: '' }, volume: { container_path: 'x' } } }])), /'create_volumes\.volumes': Invalid resources: .*persistence id must not be empty$/],
    ['not there', call(ctx, destroyCall(ctx.agentId, volume('vol2', 64))), /^Invalid DESTROY operation on agent \S+: 'destroy_volumes\.volumes': Persistent volumes not found$/],
    ['in use', call(ctx, destroyCall(ctx.agentId, vol)), /'destroy_volumes\.volumes': Persistent volumes in use$/],
    ['v1 no payload', call(ctx, { type: 'DESTROY_VOLUMES' }), /Expecting 'destroy_volumes' to be present/],
    ['v1 no volumes', call(ctx, { type: 'CREATE_VOLUMES', create_volumes: { agent_id: { value: ctx.agentId } } }), /create_volumes\.volumes/],
    ['form no volumes', form(ctx, 'create-volumes', { slaveId: ctx.agentId }), /^Missing 'volumes' query parameter in the request body$/],
    ['form not an array', form(ctx, 'destroy-volumes', { slaveId: ctx.agentId, volumes: '{}' }), /^Error in parsing 'volumes' query parameter in the request body: expected a JSON array/],
    ['form bad JSON', form(ctx, 'create-volumes', { slaveId: ctx.agentId, volumes: '[{' }), /^Error in parsing 'volumes' query parameter in the request body: /],
    ['form no slaveId', form(ctx, 'create-volumes', { volumes: '[]' }), /^Missing 'slaveId' query parameter in the request body$/],
  ];
  for (const [what, reply, body] of cases) {
    const r = await reply;
    t.is(r.status, 400, what);
    t.regex(r.body, body, `${what}: ${r.body}`);
  }
  t.is((await http(ctx.port, 'GET', '/master/create-volumes')).status, 405);
  t.is(checkpointsSent(ctx.agent).map(String).length, 2, 'nothing more was applied');
  t.true(books(ctx).checkpointed.persistentVolumes().equals(vol));
});

test.serial('operator volumes - 409 when the agent has not the reserved disk free; nothing changes', async (t) => {
  const ctx = await start(t);
  await reservedForWeb(ctx);
  const before = String(books(ctx).total);
  const big = await call(ctx, createCall(ctx.agentId, volume('big', 512)));
  t.is(big.status, 409, big.body);
  t.regex(big.body, /^Failed to apply CREATE operation on agent \S+: '.*' does not contain 'disk\(reservations: \[\(DYNAMIC,web,ops\)\]\):512'$/);
  const other = await call(ctx, createCall(ctx.agentId, volume('db', 8, { role: 'db' })));
  t.is(other.status, 409, 'no disk is reserved to db');
  t.is(String(books(ctx).total), before);
  t.is(checkpointsSent(ctx.agent).map(String).length, 1);
  t.is((await call(ctx, createCall(ctx.agentId, volume('fits', 256)))).status, 202, 'what is free can still be made a volume');
});

test.serial('operator volumes - --acls: create_volumes (role) and destroy_volumes (creator) refused are 403, in the v1 API and the form endpoints', async (t) => {
  const acls = {
    create_volumes: [{ principals: { type: 'ANY' }, roles: { values: ['web'] } }, { principals: { type: 'ANY' }, roles: { type: 'NONE' } }],
    destroy_volumes: [{ principals: { type: 'ANY' }, creator_principals: { values: ['ops'] } }, { principals: { type: 'ANY' }, creator_principals: { type: 'NONE' } }],
  };
  const ctx = await start(t, { authorizer: parseAcls(JSON.stringify(acls), 'acls') });
  t.is((await call(ctx, reserveCall(ctx.agentId, reserved('cpus:1;disk:256').plus(reserved('cpus:1;disk:256', 'db'))))).status, 202);
  const refused = await call(ctx, createCall(ctx.agentId, volume('v', 8, { role: 'db' })));
  t.is(refused.status, 403);
  t.is(refused.body, "An unauthenticated request is not authorized to create volumes for role 'db'");
  t.is((await form(ctx, 'create-volumes', { slaveId: ctx.agentId, volumes: JSON.stringify(volume('v', 8, { role: 'db' }).toJSON()) })).status, 403);

  const byDev = volume('dev', 8, { creator: 'dev' });
  const byOps = volume('ops', 8, { path: 'ops' });
  t.is((await call(ctx, createCall(ctx.agentId, byDev.plus(byOps)))).status, 202, 'web volumes may be created');
  const undo = await form(ctx, 'destroy-volumes', { slaveId: ctx.agentId, volumes: JSON.stringify(byDev.toJSON()) });
  t.is(undo.status, 403);
  t.is(undo.body, "An unauthenticated request is not authorized to destroy volumes created by principal 'dev'");
  t.is((await call(ctx, destroyCall(ctx.agentId, byOps))).status, 202, 'those ops created may be destroyed');
  t.true(books(ctx).checkpointed.persistentVolumes().equals(byDev));
});

test.serial("operator volumes - the agent's outstanding offer holding the reserved disk is rescinded to make room", async (t) => {
  const ctx = await start(t);
  await reservedForWeb(ctx);
  const web = await ctx.cluster.startFramework({ role: 'web' });
  const [[offer]] = await web.scheduler.next('resourceOffers');
  t.true(Resources.fromJSON(offer!.resources).contains(reserved('disk:256')), 'the framework holds the reserved disk');
  const rescinded = web.scheduler.next('offerRescinded');
  const reply = await call(ctx, createCall(ctx.agentId, volume('vol1', 64)));
  t.is(reply.status, 202, reply.body);
  const [id] = await rescinded;
  t.is(id.value, offer!.id.value);
  t.true(books(ctx).checkpointed.contains(volume('vol1', 64)));
});

test.serial('operator volumes - a persistence id is taken while its CREATE_VOLUMES waits for the allocator: another CREATE of it is 400', async (t) => {
  const ctx = await start(t);
  await reservedForWeb(ctx);
  // The allocator's answer to the first CREATE is held back: the operation stays in flight.
  const held = dropMessage(ALLOCATOR_UPDATE_AVAILABLE_RESULT);
  const first = call(ctx, createCall(ctx.agentId, volume('vol1', 64)));
  await held;
  const again = await call(ctx, createCall(ctx.agentId, volume('vol1', 32, { path: 'other' })));
  t.deepEqual([again.status, again.body], [400, `Invalid CREATE operation on agent ${ctx.agentId}: 'create_volumes.volumes': Persistence ID 'vol1' is not unique`]);
  t.true(books(ctx).creatingVolumes.persistentVolumes().entries().some((e) => e.disk?.persistence.id === 'vol1'));
  void first.catch(() => undefined);
});
