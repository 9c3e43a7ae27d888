import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { parseAcls } from '../../actors/master/authorizer.ts';
import { masterRouteRealm } from '../../actors/master/http.ts';
import { InMemoryRegistry } from '../../actors/master/registry.ts';
import { startMaintenance } from '../../actors/master/maintenance.ts';
import { MASTER_READONLY_REALM, MASTER_READWRITE_REALM } from '../../src/http/authentication.ts';
import { SHUTDOWN_SLAVE, SLAVE_REGISTERED, type ShutdownSlave, type SlaveRegistered } from '../../src/mesos/protocol.ts';
import type { MachineID } from '../../src/mesos/v1/maintenance.ts';
import { runningTask, type TestCluster } from '../helpers/cluster.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http, type Reply } from '../helpers/http.ts';
import { operatorCall as call, startOperatorCluster, type OperatorCluster } from '../helpers/operator.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * Maintenance primitives (Mesos 0.25+, after Mesos's `MasterMaintenanceTest`s): schedules
 * through `/master/maintenance/schedule` and the v1 operator API, Mesos's validation naming the
 * machine, machines going DOWN (their agents shut down, removed and refused) and UP, the
 * cluster status, the registry across a failover, ACLs and realms. Real HTTP on 127.0.0.1,
 * `FakeAgent`s (`host1`, `host2`, ...), the paused Clock. Inverse offers are in
 * `inverse-offers.test.ts`.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const SECOND = 1_000_000_000;
const unavailability = (startSecs: number, durationSecs = 3600) => ({ start: { nanoseconds: startSecs * SECOND }, duration: { nanoseconds: durationSecs * SECOND } });
const window = (machine_ids: MachineID[], startSecs = 1_000, durationSecs = 3600) => ({ machine_ids, unavailability: unavailability(startSecs, durationSecs) });

function post(ctx: { port: number }, path: string, body: unknown): Promise<Reply> {
  return http(ctx.port, 'POST', path, typeof body === 'string' ? body : JSON.stringify(body));
}

const getSchedule = async (ctx: { port: number }) => (await http(ctx.port, 'GET', '/master/maintenance/schedule')).json();
const getStatus = async (ctx: { port: number }) => (await http(ctx.port, 'GET', '/master/maintenance/status')).json();

async function start(t: ExecutionContext<{ bus: Bus }>, agents = 2, registry = new InMemoryRegistry()): Promise<OperatorCluster> {
  return startOperatorCluster(t, t.context.bus, { agents, resources: 'cpus:4;mem:2048', registry });
}

test.serial('maintenance - POST /master/maintenance/schedule: 200, GET and GET_MAINTENANCE_SCHEDULE answer it, its machines are DRAINING in the status and the registry; UPDATE_MAINTENANCE_SCHEDULE replaces it, an empty one brings them UP', async (t) => {
  const ctx = await start(t);
  t.deepEqual(await getSchedule(ctx), {}, 'no schedule: {} as Mesos answers');
  t.deepEqual(await getStatus(ctx), {});

  const schedule = { windows: [window([{ hostname: 'host1', ip: '10.0.0.1' }, { hostname: 'host2' }]), window([{ ip: '10.0.0.3' }], 5_000, 60)] };
  const reply = await post(ctx, '/master/maintenance/schedule', schedule);
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.deepEqual(await getSchedule(ctx), schedule);
  const v1 = (await call(ctx, { type: 'GET_MAINTENANCE_SCHEDULE' })).json();
  t.deepEqual(v1, { type: 'GET_MAINTENANCE_SCHEDULE', get_maintenance_schedule: { schedule } });
  t.deepEqual(await getStatus(ctx), { draining_machines: [{ id: { hostname: 'host1', ip: '10.0.0.1' } }, { id: { hostname: 'host2' } }, { id: { ip: '10.0.0.3' } }] });
  t.deepEqual(
    ctx.registry.maintenance.machines.map((m) => [m.id, m.mode]),
    [
      [{ hostname: 'host1', ip: '10.0.0.1' }, 'DRAINING'],
      [{ hostname: 'host2' }, 'DRAINING'],
      [{ ip: '10.0.0.3' }, 'DRAINING'],
    ],
  );
  t.deepEqual(ctx.registry.maintenance.schedule, schedule);

  // A new schedule replaces the old one: host2 is UP again (out of the status), empty fields dropped.
  const next = { windows: [window([{ hostname: 'host1', ip: '10.0.0.1' }, { ip: '10.0.0.3', hostname: '' }], 2_000)] };
  const updated = await call(ctx, { type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: next } });
  t.deepEqual([updated.status, updated.body], [200, '']);
  const kept = { windows: [window([{ hostname: 'host1', ip: '10.0.0.1' }, { ip: '10.0.0.3' }], 2_000)] };
  t.deepEqual(await getSchedule(ctx), kept);
  const status = (await call(ctx, { type: 'GET_MAINTENANCE_STATUS' })).json();
  t.deepEqual(status, { type: 'GET_MAINTENANCE_STATUS', get_maintenance_status: { status: { draining_machines: [{ id: { hostname: 'host1', ip: '10.0.0.1' } }, { id: { ip: '10.0.0.3' } }] } } });
  t.deepEqual(ctx.registry.maintenance.machines[0]!.unavailability, unavailability(2_000), 'the new window');

  t.is((await post(ctx, '/master/maintenance/schedule', {})).status, 200, 'an empty schedule cancels it');
  t.deepEqual(await getSchedule(ctx), {});
  t.deepEqual(await getStatus(ctx), {});
  t.deepEqual(ctx.registry.maintenance, { schedule: { windows: [] }, machines: [] });
});

test.serial('maintenance - a schedule Mesos would refuse is 400 naming the machine or the window, and changes nothing', async (t) => {
  const ctx = await start(t, 1);
  const good = { windows: [window([{ hostname: 'host9' }])] };
  t.is((await post(ctx, '/master/maintenance/schedule', good)).status, 200);
  await call(ctx, { type: 'START_MAINTENANCE', start_maintenance: { machines: [{ hostname: 'host9' }] } });

  const cases: [unknown, string][] = [
    ['{"windows": [', 'Failed to parse body into JSON: '],
    [[window([{ hostname: 'a' }])], 'Expecting a JSON object (a maintenance schedule), got [{'],
    [{ windows: [{ machine_ids: [{ hostname: 'a' }] }] }, "Failed to convert JSON into a maintenance schedule: invalid schedule: 'windows[0].unavailability' is required"],
    [{ windows: [{ machine_ids: [{ hostname: 7 }], unavailability: unavailability(1) }] }, "Failed to convert JSON into a maintenance schedule: invalid schedule: 'windows[0].machine_ids[0].hostname' must be a string, got 7"],
    [{ windows: [{ machine_ids: [], unavailability: unavailability(1) }] }, "List of machines in the maintenance window is empty ('windows[0].machine_ids')"],
    [{ windows: [window([{ hostname: 'host9' }]), { unavailability: unavailability(1) }] }, "List of machines in the maintenance window is empty ('windows[1].machine_ids')"],
    [{ windows: [window([{ hostname: 'host9' }], 1, -5)] }, "Unavailability 'duration' is negative ('windows[0].unavailability.duration': -5000000000 nanoseconds)"],
    [{ windows: [window([{ hostname: 'host9' }, { hostname: '', ip: '' }])] }, "Both 'hostname' and 'ip' for a machine are empty ('windows[0].machine_ids[1]')"],
    [{ windows: [window([{ hostname: 'host9', ip: '10.0.0' }])] }, `Machine '{"hostname":"host9","ip":"10.0.0"}' has an invalid 'ip' ('windows[0].machine_ids[0].ip'): '10.0.0' is not an IPv4 address`],
    [{ windows: [window([{ hostname: 'host9' }]), window([{ hostname: 'HOST9' }])] }, `Machine '{"hostname":"HOST9"}' appears more than once in the schedule`],
    [{ windows: [window([{ hostname: 'host1' }])] }, `Machine '{"hostname":"host9"}' is deactivated and cannot be removed from the schedule`],
    [{}, `Machine '{"hostname":"host9"}' is deactivated and cannot be removed from the schedule`],
  ];
  for (const [body, message] of cases) {
    const reply = await post(ctx, '/master/maintenance/schedule', body);
    t.is(reply.status, 400, JSON.stringify(body));
    t.true(reply.body.startsWith(message), `${reply.body} should start with ${message}`);
  }
  // The v1 call names the schedule in the call.
  const v1 = await call(ctx, { type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows: [window([{ hostname: 'host9' }, { ip: '300.1.2.3' }])] } } });
  t.deepEqual([v1.status, v1.body], [400, `Machine '{"ip":"300.1.2.3"}' has an invalid 'ip' ('update_maintenance_schedule.schedule.windows[0].machine_ids[1].ip'): '300.1.2.3' is not an IPv4 address`]);
  const missing = await call(ctx, { type: 'UPDATE_MAINTENANCE_SCHEDULE' });
  t.deepEqual([missing.status, missing.body], [400, "Failed to validate master::Call: Expecting 'update_maintenance_schedule' to be present"]);
  const wrong = await call(ctx, { type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule: { windows: {} } } });
  t.is(wrong.status, 400);
  t.regex(wrong.body, /'update_maintenance_schedule\.schedule\.windows' must be an array/);

  t.deepEqual(await getSchedule(ctx), good, 'nothing changed');
  t.deepEqual(ctx.registry.maintenance.machines, [{ id: { hostname: 'host9' }, mode: 'DOWN', unavailability: unavailability(1_000) }]);
  t.is((await http(ctx.port, 'PUT', '/master/maintenance/schedule', JSON.stringify(good))).status, 405);
  t.is((await http(ctx.port, 'POST', '/master/maintenance/status', '')).status, 405);
});

test.serial('maintenance - /master/machine/down and up refuse what Mesos refuses: 400 naming the machine, 405 for GET', async (t) => {
  const ctx = await start(t, 1);
  t.is((await post(ctx, '/master/maintenance/schedule', { windows: [window([{ hostname: 'host1' }, { hostname: 'host2', ip: '10.0.0.2' }])] })).status, 200);
  const cases: [string, unknown, string][] = [
    ['/master/machine/down', '[{"hostname": ', 'Failed to parse body into JSON: '],
    ['/master/machine/down', { hostname: 'host1' }, 'Expecting a JSON array of machine ids, got {"hostname":"host1"}'],
    ['/master/machine/down', [{ hostname: ['host1'] }], "Failed to convert JSON into machine ids: invalid machines: '[0].hostname' must be a string"],
    ['/master/machine/down', [], "List of machines is empty ('machines')"],
    ['/master/machine/down', [{}], "Both 'hostname' and 'ip' for a machine are empty ('machines[0]')"],
    ['/master/machine/down', [{ hostname: 'host1' }, { hostname: 'Host1' }], `Machine '{"hostname":"Host1"}' appears more than once in the list of machines ('machines')`],
    ['/master/machine/down', [{ hostname: 'host3' }], `Machine '{"hostname":"host3"}' is not part of a maintenance schedule`],
    ['/master/machine/down', [{ hostname: 'host2' }], `Machine '{"hostname":"host2"}' is not part of a maintenance schedule`],
    ['/master/machine/up', [{ hostname: 'host1' }], `Machine '{"hostname":"host1"}' is not in DOWN mode and cannot be brought up`],
    ['/master/machine/up', [{ hostname: 'host2', ip: '10.0.0.x' }], `Machine '{"hostname":"host2","ip":"10.0.0.x"}' has an invalid 'ip' ('machines[0].ip'): '10.0.0.x' is not an IPv4 address`],
  ];
  for (const [path, body, message] of cases) {
    const reply = await post(ctx, path, body);
    t.is(reply.status, 400, `${path} ${JSON.stringify(body)}`);
    t.true(reply.body.startsWith(message), `${reply.body} should start with ${message}`);
  }
  t.is((await post(ctx, '/master/machine/down', [{ hostname: 'HOST2', ip: '10.0.0.2' }])).status, 200, 'the hostname is not case-sensitive');
  const again = await call(ctx, { type: 'START_MAINTENANCE', start_maintenance: { machines: [{ hostname: 'host2', ip: '10.0.0.2' }] } });
  t.deepEqual([again.status, again.body], [400, `Machine '{"hostname":"host2","ip":"10.0.0.2"}' is not in DRAINING mode and cannot be brought down`]);
  const none = await call(ctx, { type: 'STOP_MAINTENANCE', stop_maintenance: {} });
  t.deepEqual([none.status, none.body], [400, "List of machines is empty ('stop_maintenance.machines')"]);
  t.is((await http(ctx.port, 'GET', '/master/machine/down')).status, 405);
  t.is((await http(ctx.port, 'GET', '/master/machine/up')).status, 405);
  t.deepEqual(await getStatus(ctx), { draining_machines: [{ id: { hostname: 'host1' } }], down_machines: [{ hostname: 'host2', ip: '10.0.0.2' }] });
});

/** A framework running `t1` on agent 1 (`host1`, IP 10.0.0.1), the only agent. */
async function withTask(t: ExecutionContext<{ bus: Bus }>) {
  const ctx = await start(t, 0);
  const agent = await addAgent(ctx.cluster, 'host1', '10.0.0.1');
  const running = await runningTask(ctx.cluster, agent, {}, 't1');
  return { ...ctx, agent, ...running };
}

/** A `FakeAgent` on `hostname` announcing `ip`, registered. */
async function addAgent(cluster: TestCluster, hostname: string, ip?: string): Promise<FakeAgent> {
  const runtime = await cluster.world.add(hostname);
  const agent = new FakeAgent(`slave-${hostname}`, cluster.master.self, 'cpus:4;mem:2048', hostname);
  agent.ip = ip;
  const registered = futureMessage(SLAVE_REGISTERED, cluster.master.self, agent.id);
  runtime.spawn(agent);
  await registered;
  await cluster.settle();
  return agent;
}

test.serial('maintenance - machine DOWN: its agent is told to shut down and removed, its task TASK_LOST, frameworks hear slaveLost; it is refused while DOWN; once UP it registers again', async (t) => {
  const ctx = await withTask(t);
  const { cluster, agent, scheduler } = ctx;
  const agentId = agent.agentId!;
  const machine = { hostname: 'HOST1', ip: '10.0.0.1' };
  t.is((await post(ctx, '/master/maintenance/schedule', { windows: [window([machine])] })).status, 200);
  t.like((await http(ctx.port, 'GET', '/master/state')).json().slaves[0], { id: agentId, machine_info: { id: machine, mode: 'DRAINING', unavailability: unavailability(1_000) } });

  const shutdown = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, agent.self);
  const lost = scheduler.next('slaveLost');
  const update = scheduler.next('statusUpdate');
  const reply = await call(ctx, { type: 'START_MAINTENANCE', start_maintenance: { machines: [machine] } });
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.deepEqual((await shutdown).body as ShutdownSlave, { message: "Operator initiated 'Machine DOWN'" });
  const [status] = await update;
  t.like(status, { task_id: { value: 't1' }, state: 'TASK_LOST', reason: 'REASON_AGENT_REMOVED', source: 'SOURCE_MASTER' });
  t.regex(status.message ?? '', /Operator initiated 'Machine DOWN'/);
  t.is((await lost)[0].value, agentId);
  await cluster.settle();
  t.false(cluster.master.agents.has(agentId));
  t.false(ctx.registry.agents.has(agentId), 'removed from the registry, as Mesos removes it');
  t.deepEqual(await getStatus(ctx), { down_machines: [machine] });
  t.deepEqual(ctx.registry.maintenance.machines.map((m) => m.mode), ['DOWN']);

  // Registering again (as a new agent, or re-registering with its id) is refused while DOWN.
  const refused = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, agent.self);
  agent.register();
  t.deepEqual((await refused).body as ShutdownSlave, { message: 'Machine is `DOWN`' });
  const refusedAgain = futureMessage(SHUTDOWN_SLAVE, cluster.master.self, agent.self);
  agent.reregister();
  t.deepEqual((await refusedAgain).body as ShutdownSlave, { message: 'Machine is `DOWN`' });
  await cluster.settle();
  t.is(cluster.master.agents.size, 0);
  // Another machine's agents are welcome.
  await addAgent(cluster, 'host2', '10.0.0.2');
  t.is(cluster.master.agents.size, 1);

  const up = await post(ctx, '/master/machine/up', [machine]);
  t.deepEqual([up.status, up.body], [200, '']);
  t.deepEqual(await getStatus(ctx), {});
  t.deepEqual(await getSchedule(ctx), {}, 'UP leaves the schedule');
  t.deepEqual(ctx.registry.maintenance, { schedule: { windows: [] }, machines: [] });
  const registered = futureMessage(SLAVE_REGISTERED, cluster.master.self, agent.self);
  agent.register();
  const newId = ((await registered).body as SlaveRegistered).slave_id.value;
  t.not(newId, agentId, 'a new agent');
  t.true(cluster.master.agents.has(newId));
});

test.serial('maintenance - the schedule and machine modes survive a master failover: the new leader answers them, refuses the DOWN machine\'s agent and offers the DRAINING one\'s with its unavailability', async (t) => {
  const registry = new InMemoryRegistry();
  const first = await start(t, 0, registry);
  await addAgent(first.cluster, 'host1');
  await addAgent(first.cluster, 'host2');
  const schedule = { windows: [window([{ hostname: 'host1' }]), window([{ hostname: 'host2' }], 9_000)] };
  t.is((await post(first, '/master/maintenance/schedule', schedule)).status, 200);
  t.is((await post(first, '/master/machine/down', [{ hostname: 'host2' }])).status, 200);
  await first.cluster.world.shutdown();

  const second = await start(t, 0, registry);
  await second.cluster.settle();
  t.is(second.cluster.master.state, 'RECOVERING', 'host1 is in the registry, not re-registered yet');
  t.deepEqual(await getSchedule(second), schedule);
  t.deepEqual(await getStatus(second), { draining_machines: [{ id: { hostname: 'host1' } }], down_machines: [{ hostname: 'host2' }] });

  const runtime = await second.cluster.world.add('host2');
  const downAgent = new FakeAgent('slave-host2', second.cluster.master.self, 'cpus:1;mem:256', 'host2');
  const refused = futureMessage(SHUTDOWN_SLAVE, second.cluster.master.self, downAgent.id);
  runtime.spawn(downAgent);
  t.deepEqual((await refused).body as ShutdownSlave, { message: 'Machine is `DOWN`' });

  await addAgent(second.cluster, 'host1');
  const { scheduler } = await second.cluster.startFramework();
  second.cluster.clock.advance(1000);
  await second.cluster.settle();
  const offers = scheduler.all('resourceOffers').flatMap(([o]) => o);
  t.true(offers.length > 0);
  for (const offer of offers) t.deepEqual(offer.unavailability, unavailability(1_000));
});

test.serial('maintenance - ACLs: update_maintenance_schedules, start_maintenances and stop_maintenances NONE are 403 in the v1 API and the v0 endpoints; ANY lets the same requests through', async (t) => {
  const acls = {
    update_maintenance_schedules: [{ principals: { type: 'ANY' }, machines: { type: 'NONE' } }],
    start_maintenances: [{ principals: { type: 'ANY' }, machines: { type: 'NONE' } }],
    stop_maintenances: [{ principals: { type: 'ANY' }, machines: { type: 'NONE' } }],
  };
  const registry = new InMemoryRegistry();
  const ctx = await startOperatorCluster(t, t.context.bus, { registry, master: { authorizer: parseAcls(JSON.stringify(acls), 'acls') } });
  const schedule = { windows: [window([{ hostname: 'host1' }])] };
  const denied: [Promise<Reply>, string][] = [
    [post(ctx, '/master/maintenance/schedule', schedule), 'update maintenance schedules'],
    [post(ctx, '/master/maintenance/schedule', {}), 'update maintenance schedules'],
    [call(ctx, { type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: { schedule } }), 'update maintenance schedules'],
    [post(ctx, '/master/machine/down', [{ hostname: 'host1' }]), 'start maintenance'],
    [call(ctx, { type: 'START_MAINTENANCE', start_maintenance: { machines: [{ hostname: 'host1' }] } }), 'start maintenance'],
    [post(ctx, '/master/machine/up', [{ hostname: 'host1' }]), 'stop maintenance'],
    [call(ctx, { type: 'STOP_MAINTENANCE', stop_maintenance: { machines: [{ hostname: 'host1' }] } }), 'stop maintenance'],
  ];
  for (const [reply, what] of denied) t.deepEqual([(await reply).status, (await reply).body], [403, `An unauthenticated request is not authorized to ${what}`]);
  t.deepEqual(registry.maintenance.machines, [], 'nothing written');
  t.is((await http(ctx.port, 'GET', '/master/maintenance/schedule')).status, 200, 'reading is not one of these actions');
  t.is((await call(ctx, { type: 'GET_MAINTENANCE_STATUS' })).status, 200);

  const open = await startOperatorCluster(t, t.context.bus, { master: { authorizer: parseAcls('{"permissive": false, "update_maintenance_schedules": [{"principals": {"type": "ANY"}, "machines": {"type": "ANY"}}]}', 'acls') } });
  t.is((await post(open, '/master/maintenance/schedule', schedule)).status, 200);
  t.is((await post(open, '/master/machine/down', [{ hostname: 'host1' }])).status, 403, 'not permissive, no start_maintenances ACL');
});

test.serial('maintenance - operations run one at a time: with a registry write in flight, a DOWN sent meanwhile waits for the schedule and sees its machine DRAINING; nothing is applied before it is written', async (t) => {
  /** A registry whose maintenance writes wait until `release`. */
  class SlowRegistry extends InMemoryRegistry {
    readonly held: (() => void)[] = [];
    #wake: (() => void) | undefined;
    override updateMaintenance(record: Parameters<InMemoryRegistry['updateMaintenance']>[0]): Promise<void> {
      this.#wake?.();
      return new Promise<void>((resolve) => this.held.push(() => resolve(super.updateMaintenance(record))));
    }
    /** Resolves once a write is held (not `settle()`, which would wait for the held write). */
    async writing(): Promise<void> {
      while (this.held.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
  const registry = new SlowRegistry();
  const ctx = await start(t, 0, registry);
  const scheduled = post(ctx, '/master/maintenance/schedule', { windows: [window([{ hostname: 'host1' }])] });
  await registry.writing();
  // The DOWN comes while the schedule's write is held: run in the master's mailbox as the
  // endpoint runs it, so that it is known to be queued before the write is released.
  const master = ctx.cluster.master;
  let queued!: () => void;
  const isQueued = new Promise<void>((resolve) => (queued = resolve));
  const down = master.runtime.dispatch(master.self, () => {
    const answer = startMaintenance(master, [{ hostname: 'host1' }], '');
    queued();
    return answer;
  });
  await isQueued;
  t.deepEqual(await getSchedule(ctx), {}, 'not applied before it is written');
  t.is(registry.held.length, 1, 'the DOWN waits for the schedule');
  registry.held.shift()!();
  t.is((await scheduled).status, 200);
  await registry.writing();
  registry.held.shift()!();
  t.deepEqual(await down, { status: 200 });
  t.deepEqual(registry.maintenance.machines.map((m) => m.mode), ['DOWN']);
  t.deepEqual(registry.maintenance.schedule, { windows: [window([{ hostname: 'host1' }])] });
});

test.serial('maintenance - DRAIN_AGENT refuses an agent on a scheduled machine, as Mesos does: 400 naming the agent and the machine', async (t) => {
  const ctx = await start(t, 2);
  const [host1, host2] = ctx.agents.map((a) => a.agentId!) as [string, string];
  t.is((await post(ctx, '/master/maintenance/schedule', { windows: [window([{ hostname: 'host1' }])] })).status, 200);
  const refused = await call(ctx, { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: host1 } } });
  t.deepEqual([refused.status, refused.body], [400, `Agent '${host1}' is part of a maintenance schedule under Machine '{"hostname":"host1"}'`]);
  t.false(ctx.cluster.master.drainInfos.has(host1));
  t.is((await call(ctx, { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: host2 } } })).status, 200, 'another machine\'s agent drains');
});

test('maintenance - realms as Mesos installs the routes: /maintenance/status read-only, /maintenance/schedule and /machine/* read-write', (t) => {
  t.is(masterRouteRealm('/maintenance/status'), MASTER_READONLY_REALM);
  t.is(masterRouteRealm('/maintenance/schedule'), MASTER_READWRITE_REALM);
  t.is(masterRouteRealm('/machine/down'), MASTER_READWRITE_REALM);
  t.is(masterRouteRealm('/machine/up'), MASTER_READWRITE_REALM);
  t.true(parseAcls('{"start_maintenances": [{"principals": {"values": ["ops"]}, "machines": {"type": "ANY"}}]}', 'acls').authorized('start_maintenances', 'ops'));
});
