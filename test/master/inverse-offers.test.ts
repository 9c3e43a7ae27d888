import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { agentExited } from '../../actors/master/agents.ts';
import { SCHEDULER_CALL, SCHEDULER_EVENT } from '../../src/mesos/protocol.ts';
import type { InverseOffer } from '../../src/mesos/v1/common.ts';
import type { MachineID } from '../../src/mesos/v1/maintenance.ts';
import type { SchedulerEvent } from '../../src/mesos/v1/index.ts';
import { runningTask } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http, type Reply } from '../helpers/http.ts';
import { operatorCall as call, startOperatorCluster, type OperatorCluster } from '../helpers/operator.ts';
import { Probe } from '../helpers/runtime.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * Inverse offers (after Mesos's `MasterMaintenanceTest.InverseOffers`, `InverseOffersFilters`,
 * `PendingUnavailabilityTest`): offers of an agent on a draining machine carry the window's
 * unavailability; a framework using the agent gets an inverse offer through its driver
 * (`inverseOffers`), answers it with `acceptInverseOffers` / `declineInverseOffers`, the
 * answer shows in the maintenance status and filters the agent for `refuse_seconds`; inverse
 * offers are rescinded when the window changes, the machine goes DOWN or UP. `FakeAgent`s
 * `host1` (and `host2`), the paused Clock, real HTTP on 127.0.0.1 for the operator.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const SECOND = 1_000_000_000;
const unavailability = (startSecs: number, durationSecs = 3600) => ({ start: { nanoseconds: startSecs * SECOND }, duration: { nanoseconds: durationSecs * SECOND } });
const schedule = (machines: MachineID[], startSecs = 1_000) => ({ windows: [{ machine_ids: machines, unavailability: unavailability(startSecs) }] });

function post(ctx: { port: number }, path: string, body: unknown): Promise<Reply> {
  return http(ctx.port, 'POST', path, JSON.stringify(body));
}

const getStatus = async (ctx: { port: number }) => (await http(ctx.port, 'GET', '/master/maintenance/status')).json();

async function start(t: ExecutionContext<{ bus: Bus }>, agents = 1): Promise<OperatorCluster> {
  return startOperatorCluster(t, t.context.bus, { agents, resources: 'cpus:4;mem:2048' });
}

async function advance(ctx: OperatorCluster, ms: number): Promise<void> {
  ctx.cluster.clock.advance(ms);
  await ctx.cluster.settle();
}

test.serial('inverse offers - offers of an agent on a draining machine carry the window\'s unavailability: its outstanding ones are rescinded when the schedule is posted and when the machine is UP again', async (t) => {
  const ctx = await start(t, 2);
  const { cluster } = ctx;
  const [host1, host2] = ctx.agents.map((a) => a.agentId!) as [string, string];
  const { scheduler } = await cluster.startFramework();
  const first = scheduler.all('resourceOffers').flatMap(([o]) => o);
  t.deepEqual(first.map((o) => o.agent_id.value).sort(), [host1, host2].sort());
  t.true(first.every((o) => o.unavailability === undefined));
  const offer1 = first.find((o) => o.agent_id.value === host1)!;
  scheduler.drain('resourceOffers');

  t.is((await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }]))).status, 200);
  await cluster.settle();
  t.deepEqual(scheduler.all('offerRescinded').map(([id]) => id.value), [offer1.id.value], 'only host1\'s offer');
  const inverse = scheduler.next('inverseOffers');
  await advance(ctx, ALLOCATION_INTERVAL_MS);
  const [[again]] = await scheduler.next('resourceOffers');
  t.is(again!.agent_id.value, host1);
  t.deepEqual(again!.unavailability, unavailability(1_000));
  // Offered the agent, the framework uses it (Mesos's allocator counts offered resources): asked for it back.
  const [[inverseOffer]] = await inverse;
  t.like(inverseOffer, { agent_id: { value: host1 }, unavailability: unavailability(1_000) });

  t.is((await post(ctx, '/master/maintenance/schedule', {})).status, 200);
  await cluster.settle();
  t.deepEqual(scheduler.all('offerRescinded').map(([id]) => id.value), [offer1.id.value, again!.id.value]);
  t.deepEqual(scheduler.all('inverseOfferRescinded').map(([id]) => id.value), [inverseOffer!.id.value]);
  await advance(ctx, ALLOCATION_INTERVAL_MS);
  const [[plain]] = await scheduler.next('resourceOffers');
  t.is(plain!.agent_id.value, host1);
  t.is(plain!.unavailability, undefined, 'UP again: no unavailability');
});

test.serial('inverse offers - a framework with a task on a draining agent gets an inverse offer; the status shows UNKNOWN, then its DECLINE and ACCEPT; it is asked again once refuse_seconds have passed', async (t) => {
  const ctx = await start(t, 0);
  const { cluster } = ctx;
  const agent = await cluster.addAgent('cpus:4;mem:2048', 'host1');
  const { driver, scheduler, frameworkId } = await runningTask(cluster, agent, {}, 't1');
  const agentId = agent.agentId!;
  const now = () => ({ nanoseconds: cluster.clock.now() * 1e6 });

  const asked = scheduler.next('inverseOffers');
  t.is((await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }], 7_200))).status, 200);
  const [list] = await asked;
  t.is(list.length, 1);
  const inverseOffer = list[0]!;
  t.like(inverseOffer, { framework_id: { value: frameworkId }, agent_id: { value: agentId }, unavailability: unavailability(7_200) });
  t.deepEqual(inverseOffer.resources, undefined, 'the whole agent');
  const machine = { id: { hostname: 'host1' } };
  t.deepEqual(await getStatus(ctx), { draining_machines: [{ ...machine, statuses: [{ status: 'UNKNOWN', framework_id: { value: frameworkId }, timestamp: now() }] }] });

  driver.declineInverseOffers(inverseOffer.id, { refuse_seconds: 10 });
  await cluster.settle();
  const declinedAt = now();
  t.deepEqual(await getStatus(ctx), { draining_machines: [{ ...machine, statuses: [{ status: 'DECLINE', framework_id: { value: frameworkId }, timestamp: declinedAt }] }] });
  t.is(cluster.master.maintenance.inverse.offers.size, 0, 'answered: no longer outstanding');

  // Filtered for 10 s, allocation cycles meanwhile included; then asked again.
  for (let i = 0; i < 9; i++) await advance(ctx, 1000);
  t.is(scheduler.all('inverseOffers').length, 1, 'not within refuse_seconds');
  const askedAgain = scheduler.next('inverseOffers');
  await advance(ctx, 1000);
  const [[second]] = await askedAgain;
  t.not(second!.id.value, inverseOffer.id.value);
  t.is(second!.agent_id?.value, agentId);
  t.like(await getStatus(ctx), { draining_machines: [{ statuses: [{ status: 'DECLINE', timestamp: declinedAt }] }] }, 'the last answer stands until the next');

  driver.acceptInverseOffers([second!.id]);
  await cluster.settle();
  t.deepEqual(await getStatus(ctx), { draining_machines: [{ ...machine, statuses: [{ status: 'ACCEPT', framework_id: { value: frameworkId }, timestamp: now() }] }] });
  t.deepEqual((await call(ctx, { type: 'GET_MAINTENANCE_STATUS' })).json().get_maintenance_status.status.draining_machines[0].statuses[0].status, 'ACCEPT');
  t.is(scheduler.all('inverseOfferRescinded').length, 0);
});

test.serial('inverse offers - rescinded when the window changes (and made again with the new one), and when the machine goes DOWN', async (t) => {
  const ctx = await start(t, 0);
  const { cluster } = ctx;
  const agent = await cluster.addAgent('cpus:4;mem:2048', 'host1');
  const { scheduler } = await runningTask(cluster, agent, {}, 't1');
  const first = scheduler.next('inverseOffers');
  await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }]));
  const [[io1]] = await first;

  // The same schedule again changes nothing.
  t.is((await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }]))).status, 200);
  await cluster.settle();
  t.is(scheduler.all('inverseOfferRescinded').length, 0);

  const rescinded = scheduler.next('inverseOfferRescinded');
  const second = scheduler.next('inverseOffers');
  t.is((await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }], 3_000))).status, 200);
  t.is((await rescinded)[0].value, io1!.id.value);
  const [[io2]] = await second;
  t.deepEqual(io2!.unavailability, unavailability(3_000));

  const rescindedAgain = scheduler.next('inverseOfferRescinded');
  const lost = scheduler.next('slaveLost');
  t.is((await post(ctx, '/master/machine/down', [{ hostname: 'host1' }])).status, 200);
  t.is((await rescindedAgain)[0].value, io2!.id.value);
  await lost;
  t.is(cluster.master.maintenance.inverse.offers.size, 0);
  t.is(cluster.master.maintenance.inverse.agents.size, 0);
});

test.serial('inverse offers - a scheduler failing over gets the framework\'s inverse offers anew; a framework torn down leaves the status', async (t) => {
  const ctx = await start(t, 0);
  const { cluster } = ctx;
  const agent = await cluster.addAgent('cpus:4;mem:2048', 'host1');
  const { scheduler, frameworkId } = await runningTask(cluster, agent, { failover_timeout: 60 }, 't1');
  const first = scheduler.next('inverseOffers');
  await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }]));
  const [[io1]] = await first;

  const next = await cluster.startFramework({ id: { value: frameworkId }, failover_timeout: 60 });
  const [[io2]] = await next.scheduler.next('inverseOffers');
  t.not(io2!.id.value, io1!.id.value, 'a new inverse offer for the new scheduler');
  t.is(cluster.master.maintenance.inverse.offers.size, 1, 'the old one is void');
  t.like(await getStatus(ctx), { draining_machines: [{ statuses: [{ status: 'UNKNOWN', framework_id: { value: frameworkId } }] }] });

  await next.driver.stop();
  await cluster.settle();
  t.deepEqual(await getStatus(ctx), { draining_machines: [{ id: { hostname: 'host1' } }] });
  t.is(cluster.master.maintenance.inverse.offers.size, 0);
});

test.serial('inverse offers - answers naming unknown, answered or another framework\'s inverse offers are ignored; a malformed call on the bus is dropped, and nothing breaks', async (t) => {
  const ctx = await start(t, 0);
  const { cluster } = ctx;
  const agent = await cluster.addAgent('cpus:4;mem:2048', 'host1');
  const { driver, scheduler, frameworkId } = await runningTask(cluster, agent, {}, 't1');
  const asked = scheduler.next('inverseOffers');
  await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }]));
  const [[io]] = await asked;

  // Another framework (a probe on the bus) answers it: ignored.
  const runtime = await cluster.world.add('other');
  const probe = new Probe('scheduler-other', [SCHEDULER_EVENT]);
  runtime.spawn(probe);
  probe.send(cluster.master.self, SCHEDULER_CALL, { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'x', name: 'other' } } });
  await cluster.settle();
  const subscribed = (probe.bodies(SCHEDULER_EVENT) as SchedulerEvent[]).find((e) => e.type === 'SUBSCRIBED');
  const otherId = subscribed?.type === 'SUBSCRIBED' ? subscribed.subscribed.framework_id : undefined;
  t.truthy(otherId);
  probe.send(cluster.master.self, SCHEDULER_CALL, { framework_id: otherId, type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [io!.id] } });
  driver.acceptInverseOffers([{ value: 'no-such-inverse-offer' }]);
  driver.declineInverseOffers([]);
  await cluster.settle();
  t.like(await getStatus(ctx), { draining_machines: [{ statuses: [{ status: 'UNKNOWN', framework_id: { value: frameworkId } }] }] });
  t.true(cluster.master.maintenance.inverse.offers.has(io!.id.value), 'still outstanding');

  const invalid = cluster.master.stats.invalidCalls.value;
  probe.send(cluster.master.self, SCHEDULER_CALL, { framework_id: otherId, type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: 'all' } });
  await cluster.settle();
  t.is(cluster.master.stats.invalidCalls.value, invalid + 1, 'dropped as invalid');

  driver.acceptInverseOffers(io!.id);
  await cluster.settle();
  driver.declineInverseOffers(io!.id);
  await cluster.settle();
  t.like(await getStatus(ctx), { draining_machines: [{ statuses: [{ status: 'ACCEPT' }] }] }, 'a second answer to an answered inverse offer is ignored');
  t.is(((await http(ctx.port, 'GET', '/master/state')).json().slaves as unknown[]).length, 1);
});

test.serial('inverse offers - an agent re-registering on a draining machine brings its frameworks inverse offers; one disconnecting has them rescinded', async (t) => {
  const ctx = await start(t, 0);
  const { cluster } = ctx;
  const agent = await cluster.addAgent('cpus:4;mem:2048', 'host1');
  const { scheduler } = await runningTask(cluster, agent, {}, 't1');
  const asked = scheduler.next('inverseOffers');
  await post(ctx, '/master/maintenance/schedule', schedule([{ hostname: 'host1' }]));
  const [[io]] = await asked;

  const rescinded = scheduler.next('inverseOfferRescinded');
  agentExited(cluster.master, agent.agentId!);
  t.is((await rescinded)[0].value, io!.id.value);

  const again = scheduler.next('inverseOffers');
  const run = agent.runTasks[0]!;
  agent.reregister([{ name: 't1', task_id: run.task.task_id, framework_id: run.framework_id, agent_id: { value: agent.agentId! }, state: 'TASK_RUNNING', resources: run.task.resources!, statuses: [] }]);
  const [[next]] = await again;
  t.like(next as InverseOffer, { agent_id: { value: agent.agentId! }, unavailability: unavailability(1_000) });
});
