import anyTest, { type TestFn } from 'ava';
import { SCHEDULER_CALL, SCHEDULER_EVENT } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import type { SchedulerEvent } from '../../src/mesos/v1/index.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * SUBSCRIBE and UPDATE_FRAMEWORK over the bus, as Mesos's master validates them
 * (`validation::framework::validate`, `validateUpdate`, `preserveImmutableFields`), and the calls
 * of a disconnected framework. Scheduler drivers here are probes sending raw v1 calls, so every
 * event the master sends is seen.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

let drivers = 0;

/** A driver stand-in on its own runtime, recording the events it gets. */
async function driver(cluster: TestCluster) {
  const n = ++drivers;
  const runtime = await cluster.world.add(`driver${n}`);
  const probe = new Probe(`scheduler-${n}`, [SCHEDULER_EVENT]);
  runtime.spawn(probe);
  const events = () => probe.bodies(SCHEDULER_EVENT) as SchedulerEvent[];
  return {
    probe,
    runtime,
    events,
    errors: () => events().flatMap((e) => (e.type === 'ERROR' ? [e.error.message] : [])),
    call: (call: Record<string, unknown>) => probe.send(cluster.master.self, SCHEDULER_CALL, call),
  };
}

async function subscribed(cluster: TestCluster, d: Awaited<ReturnType<typeof driver>>, info: FrameworkInfo, extra: Record<string, unknown> = {}): Promise<string> {
  d.call({ type: 'SUBSCRIBE', ...(info.id === undefined ? {} : { framework_id: info.id }), subscribe: { framework_info: info, ...extra } });
  await cluster.settle();
  const event = d.events().find((e) => e.type === 'SUBSCRIBED');
  if (event?.type !== 'SUBSCRIBED') throw new Error(`not subscribed: ${JSON.stringify(d.events())}`);
  return event.subscribed.framework_id.value;
}

test.serial('FrameworkInfoValidationTest - SUBSCRIBE with an invalid FrameworkInfo is refused with an ERROR in Mesos\'s words', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const MULTI_ROLE = [{ type: 'MULTI_ROLE' as const }];
  const cases: [Partial<FrameworkInfo>, Record<string, unknown>, RegExp][] = [
    [{ roles: ['a'] }, {}, /^'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable$/],
    [{ role: 'a', roles: ['a'], capabilities: MULTI_ROLE }, {}, /^'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable$/],
    [{ roles: ['a', 'b', 'a'], capabilities: MULTI_ROLE }, {}, /^'FrameworkInfo.roles' contains duplicate items: \{ a \}$/],
    [{ roles: ['a/./b'], capabilities: MULTI_ROLE }, {}, /^'FrameworkInfo.roles' contains invalid role: invalid role 'a\/\.\/b'/],
    [{ role: 'a/*' }, {}, /^'FrameworkInfo.role' is not a valid role: invalid role 'a\/\*'/],
    [{ role: 'a/-b' }, {}, /^'FrameworkInfo.role' is not a valid role: invalid role 'a\/-b'/],
    [{ failover_timeout: 1e10 }, {}, /^The framework failover_timeout \(10000000000\) is invalid$/],
    [{ roles: ['a'], capabilities: MULTI_ROLE }, { suppressed_roles: ['b'] }, /^Suppressed roles \{ b \} are not contained in the set of roles$/],
  ];
  for (const [info, extra, expected] of cases) {
    const d = await driver(cluster);
    d.call({ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'test', name: 'invalid', ...info }, ...extra } });
    await cluster.settle();
    t.deepEqual(d.events().map((e) => e.type), ['ERROR'], JSON.stringify(info));
    t.regex(d.errors()[0]!, expected);
  }
  t.is(cluster.master.frameworks.size, 0);
  // Still valid: a MULTI_ROLE framework with hierarchical roles, a legacy one with `role`.
  await subscribed(cluster, await driver(cluster), { user: 'test', name: 'ok', roles: ['eng/web', '*'], capabilities: MULTI_ROLE });
  await subscribed(cluster, await driver(cluster), { user: 'test', name: 'ok', role: 'eng' });
  t.is(cluster.master.frameworks.size, 2);
});

test.serial('FrameworkInfoValidationTest - SUBSCRIBE with an empty framework id is a first subscription', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const id = await subscribed(cluster, await driver(cluster), { user: 'test', name: 'empty-id', id: { value: '' } });
  t.not(id, '');
  t.deepEqual([...cluster.master.frameworks.keys()], [id]);
});

test.serial('UpdateFrameworkTest - over the bus, a change of principal, user or checkpoint is an ERROR and nothing changes', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const d = await driver(cluster);
  const original: FrameworkInfo = { user: 'test', name: 'bus-framework', principal: 'alice', checkpoint: true };
  const id = await subscribed(cluster, d, original);
  const update = (info: Partial<FrameworkInfo>) =>
    d.call({ type: 'UPDATE_FRAMEWORK', framework_id: { value: id }, update_framework: { framework_info: { ...original, id: { value: id }, name: 'renamed', ...info } } });

  update({ principal: 'mallory' });
  update({ user: 'root' });
  update({ checkpoint: false });
  update({ roles: ['a'] });
  await cluster.settle();
  t.deepEqual(d.errors(), [
    "FrameworkInfo update is not valid: Changing framework's principal is not allowed.",
    "FrameworkInfo update is not valid: Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'test' to 'root'",
    "FrameworkInfo update is not valid: Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from 'true' to 'false'",
    "Supplied FrameworkInfo is not valid: 'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable",
  ]);
  t.like(cluster.master.frameworks.get(id)!.info, { name: 'bus-framework', user: 'test', principal: 'alice', checkpoint: true }, 'no partial update');

  update({});
  await cluster.settle();
  t.is(d.errors().length, 4);
  t.is(cluster.master.frameworks.get(id)!.info.name, 'renamed', 'a valid update applies');
});

test.serial('UpdateFrameworkTest.RescindOnRemovingRoles - offers to a role the framework leaves are rescinded', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  await cluster.addAgent('cpus:2;mem:1024');
  const d = await driver(cluster);
  const info: FrameworkInfo = { user: 'test', name: 'two-roles', roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] };
  const id = await subscribed(cluster, d, info);
  const offer = d.events().flatMap((e) => (e.type === 'OFFERS' ? e.offers.offers : []))[0]!;
  t.truthy(offer);
  const role = offer.allocation_info!.role;
  const other = role === 'a' ? 'b' : 'a';
  d.call({ type: 'UPDATE_FRAMEWORK', framework_id: { value: id }, update_framework: { framework_info: { ...info, id: { value: id }, roles: [other] } } });
  await cluster.settle();
  const rescinds = d.events().flatMap((e) => (e.type === 'RESCIND' ? [e.rescind.offer_id.value] : []));
  t.deepEqual(rescinds, [offer.id.value]);
  t.false(cluster.master.offers.has(offer.id.value));
  t.deepEqual(cluster.master.frameworks.get(id)!.roles, [other]);
});

test.serial('FaultToleranceTest.UpdateFrameworkInfoOnSchedulerFailover - the new FrameworkInfo is taken, but not its user or checkpoint; a new principal is refused', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const first = await driver(cluster);
  const id = await subscribed(cluster, first, { user: 'alice', name: 'before', checkpoint: true, principal: 'p', failover_timeout: 60 });

  // A second scheduler with another principal: refused, the first one keeps the framework.
  const intruder = await driver(cluster);
  intruder.call({ type: 'SUBSCRIBE', framework_id: { value: id }, subscribe: { framework_info: { id: { value: id }, user: 'alice', name: 'intruder', principal: 'q' } } });
  await cluster.settle();
  t.deepEqual(intruder.errors(), ["Changing framework's principal is not allowed."]);
  t.deepEqual(first.errors(), [], 'not failed over');
  t.true(cluster.master.frameworks.get(id)!.connection!.pid!.equals(first.probe.self));

  // A scheduler failing over says `force`, as Mesos's driver started with the framework id does.
  const second = await driver(cluster);
  await subscribed(cluster, second, { id: { value: id }, user: 'bob', name: 'after', checkpoint: false, principal: 'p', failover_timeout: 120 }, { force: true });
  t.deepEqual(first.errors(), ['Framework failed over']);
  t.like(cluster.master.frameworks.get(id)!.info, { user: 'alice', name: 'after', checkpoint: true, failover_timeout: 120 });
});

test.serial('MasterTest - a disconnected framework takes calls only from the driver it had ("Call is not from registered framework")', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const own = await driver(cluster);
  const id = await subscribed(cluster, own, { user: 'test', name: 'away', failover_timeout: 60 });
  own.runtime.terminate(own.probe.self);
  await cluster.settle();
  t.false(cluster.master.frameworks.get(id)!.connected);

  const stranger = await driver(cluster);
  stranger.call({ type: 'TEARDOWN', framework_id: { value: id } });
  await cluster.settle();
  t.true(cluster.master.frameworks.has(id), 'a stranger cannot tear it down');
  t.deepEqual(stranger.events(), []);
});
