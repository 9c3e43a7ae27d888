import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { Resources } from '../../src/mesos/resources.ts';
import { type FakeAgent, checkpointsSent } from '../helpers/fake-agent.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { operatorCall as call, runningT1, startOperatorCluster, type OperatorCluster } from '../helpers/operator.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * The operator's dynamic reservations (Mesos's `ReservationEndpointsTest`s): RESERVE_RESOURCES
 * and UNRESERVE_RESOURCES of the v1 operator API, `POST /master/reserve` and `/master/unreserve`
 * with Mesos's form body. `202` once applied (the agent told to checkpoint them, the allocator
 * offering them to the role only), `400` naming the field, `409` when the agent has not that
 * much free after its offers were rescinded. Real HTTP on 127.0.0.1, a `FakeAgent`, the paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

interface Ctx extends OperatorCluster {
  agent: FakeAgent;
  agentId: string;
}

async function start(t: ExecutionContext<{ bus: Bus }>, resources = 'cpus:4;mem:2048'): Promise<Ctx> {
  const ctx = await startOperatorCluster(t, t.context.bus, { agents: 1, resources });
  return { ...ctx, agent: ctx.agents[0]!, agentId: ctx.agents[0]!.agentId! };
}

const dynamic = (text: string, role = 'web') =>
  Resources.parse(text.split(';').map((part) => part.replace(':', `(reservations: [(DYNAMIC,${role},ops)]):`)).join(';'));

const reserveCall = (agentId: string, resources: unknown) => ({ type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: agentId }, resources } });
const unreserveCall = (agentId: string, resources: unknown) => ({ type: 'UNRESERVE_RESOURCES', unreserve_resources: { agent_id: { value: agentId }, resources } });

/** `POST /master/<path>` with Mesos's form body. */
function form(ctx: { port: number }, path: string, fields: Record<string, string>) {
  return http(ctx.port, 'POST', `/master/${path}`, new URLSearchParams(fields).toString(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
}


const total = (ctx: Ctx) => ctx.cluster.master.agents.get(ctx.agentId)!.total;

test.serial('operator reservations - RESERVE_RESOURCES: 202; the agent checkpoints them; GET_AGENTS, /master/state and /master/roles show them; only the role is offered them', async (t) => {
  const ctx = await start(t);
  const reserved = dynamic('cpus:2;mem:512');
  const reply = await call(ctx, reserveCall(ctx.agentId, reserved.toJSON()));
  t.is(reply.status, 202, reply.body);
  t.deepEqual(checkpointsSent(ctx.agent).map(String), [String(reserved)]);
  t.true(total(ctx).equals(Resources.parse('cpus:2;mem:1536').plus(reserved)));

  const agents = (await call(ctx, { type: 'GET_AGENTS' })).json().get_agents.agents;
  t.true(Resources.fromJSON(agents[0].total_resources).equals(total(ctx)));
  const slave = (await http(ctx.port, 'GET', '/master/state')).json().slaves[0];
  t.deepEqual(slave.reserved_resources, { web: { cpus: 2, mem: 512, disk: 0, gpus: 0 } });
  t.deepEqual(slave.unreserved_resources, { cpus: 2, mem: 1536, disk: 0, gpus: 0 });
  t.true(Resources.fromJSON(slave.reserved_resources_full.web).equals(reserved));
  const roles = (await http(ctx.port, 'GET', '/master/roles')).json().roles;
  t.deepEqual(roles.map((r: { name: string }) => r.name), ['web']);

  const batch = await ctx.cluster.startFramework({ role: 'batch' });
  const [[offer]] = await batch.scheduler.next('resourceOffers');
  t.true(Resources.fromJSON(offer!.resources).equals(Resources.parse('cpus:2;mem:1536')), 'another role gets the unreserved part');
  const web = await ctx.cluster.startFramework({ role: 'web' });
  const [[own]] = await web.scheduler.next('resourceOffers');
  t.true(Resources.fromJSON(own!.resources).equals(reserved), 'the role gets its reservation');
});

test.serial("operator reservations - the agent's outstanding offers are rescinded to make room", async (t) => {
  const ctx = await start(t);
  const { scheduler } = await ctx.cluster.startFramework({ role: 'batch' });
  const [[offer]] = await scheduler.next('resourceOffers');
  const rescinded = scheduler.next('offerRescinded');
  const reply = await form(ctx, 'reserve', { slaveId: ctx.agentId, resources: JSON.stringify(dynamic('cpus:1').toJSON()) });
  t.is(reply.status, 202, reply.body);
  const [id] = await rescinded;
  t.is(id.value, offer!.id.value);
  t.true(total(ctx).reserved('web').equals(dynamic('cpus:1')));
});

test.serial('operator reservations - 409 Conflict when the agent has not that much free after its offers are rescinded; nothing changes', async (t) => {
  const ctx = await start(t, 'cpus:2;mem:1024');
  const { scheduler } = await runningT1(ctx);
  const before = String(total(ctx));
  const reply = await call(ctx, reserveCall(ctx.agentId, dynamic('cpus:2').toJSON()));
  t.is(reply.status, 409, reply.body);
  t.regex(reply.body, /^Failed to apply RESERVE operation on agent \S+: '.*' does not contain 'cpus:2'$/);
  t.is(scheduler.all('offerRescinded').length, 1, 'its offer was rescinded all the same, as in Mesos');
  const more = await form(ctx, 'reserve', { slaveId: ctx.agentId, resources: JSON.stringify(dynamic('cpus:100').toJSON()) });
  t.is(more.status, 409, more.body);
  t.is(String(total(ctx)), before);
  t.deepEqual(checkpointsSent(ctx.agent).map(String), []);
  // What is free can still be reserved.
  t.is((await call(ctx, reserveCall(ctx.agentId, dynamic('cpus:1').toJSON()))).status, 202);
});

test.serial('operator reservations - 400 naming the field: unknown agent, resources that do not parse or are not dynamically reserved, a missing parameter', async (t) => {
  const ctx = await start(t);
  const cases: [string, Promise<{ status: number; body: string }>, RegExp][] = [
    ['v1 unknown agent', call(ctx, reserveCall('nope', dynamic('cpus:1').toJSON())), /^Invalid 'reserve_resources\.agent_id': no agent found with specified ID 'nope'$/],
    ['form unknown agent', form(ctx, 'reserve', { slaveId: 'nope', resources: JSON.stringify(dynamic('cpus:1').toJSON()) }), /^Invalid 'slaveId': no agent found/],
    ['not dynamic', call(ctx, reserveCall(ctx.agentId, Resources.parse('cpus:1').toJSON())), /^Invalid RESERVE operation on agent \S+: 'reserve_resources\.resources': Resource 'cpus:1' is not dynamically reserved$/],
    ['reserved to *', call(ctx, reserveCall(ctx.agentId, [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: '*' }] }])), /'reserve_resources\.resources': Invalid resources: .*reservation role must not be '\*'/],
    ['v1 malformed', call(ctx, reserveCall(ctx.agentId, [{ name: 'cpus', type: 'SCALAR', scalar: { value: 'x' } }])), /reserve_resources\.resources\[0\]\.scalar\.value/],
    ['v1 no payload', call(ctx, { type: 'RESERVE_RESOURCES' }), /Expecting 'reserve_resources' to be present/],
    ['form bad JSON', form(ctx, 'reserve', { slaveId: ctx.agentId, resources: '[{' }), /^Error in parsing 'resources' query parameter in the request body: /],
    ['form not an array', form(ctx, 'reserve', { slaveId: ctx.agentId, resources: '{}' }), /^Error in parsing 'resources' query parameter in the request body: expected a JSON array/],
    ['form no slaveId', form(ctx, 'reserve', { resources: '[]' }), /^Missing 'slaveId' query parameter in the request body$/],
    ['form no resources', form(ctx, 'unreserve', { slaveId: ctx.agentId }), /^Missing 'resources' query parameter in the request body$/],
    ['unreserve unreserved', call(ctx, unreserveCall(ctx.agentId, Resources.parse('cpus:1').toJSON())), /'unreserve_resources\.resources': Resource 'cpus:1' is not dynamically reserved$/],
  ];
  for (const [what, reply, body] of cases) {
    const r = await reply;
    t.is(r.status, 400, what);
    t.regex(r.body, body, what);
  }
  t.is((await http(ctx.port, 'GET', '/master/reserve')).status, 405);
  t.deepEqual(checkpointsSent(ctx.agent).map(String), [], 'nothing was applied');
  t.true(total(ctx).reserved().isEmpty());
});

test.serial('operator reservations - UNRESERVE_RESOURCES and /master/unreserve: 202, back to *; unreserving what is not reserved there is 409', async (t) => {
  const ctx = await start(t);
  const reserved = dynamic('cpus:2;mem:512');
  t.is((await call(ctx, reserveCall(ctx.agentId, reserved.toJSON()))).status, 202);
  const missing = await call(ctx, unreserveCall(ctx.agentId, dynamic('cpus:1', 'db').toJSON()));
  t.is(missing.status, 409, missing.body);
  t.is((await call(ctx, unreserveCall(ctx.agentId, dynamic('cpus:1').toJSON()))).status, 202);
  t.true(total(ctx).reserved().equals(dynamic('cpus:1;mem:512')));
  const reply = await form(ctx, 'unreserve', { slaveId: ctx.agentId, resources: JSON.stringify(dynamic('cpus:1;mem:512').toJSON()) });
  t.is(reply.status, 202, reply.body);
  t.true(total(ctx).equals(Resources.parse('cpus:4;mem:2048')));
  t.deepEqual(checkpointsSent(ctx.agent).map(String).length, 3);
  t.is(checkpointsSent(ctx.agent).map(String).at(-1), '');
});
