import anyTest, { type TestFn } from 'ava';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { SCHEDULER_CALL, SCHEDULER_EVENT } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import type { SchedulerEvent } from '../../src/mesos/v1/index.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { TestScheduler } from '../helpers/scheduler.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

/**
 * SUBSCRIBE's `force`, as Mesos's scheduler driver sends it and its master honours it
 * (`SchedulerProcess::doReliableRegistration`, `Master::_subscribe`): a driver started with the
 * framework id fails over, and says `force` until subscribed; the master then fails the
 * framework's scheduler over. Without `force`, a SUBSCRIBE from another address than the
 * framework's scheduler's is refused ("Framework failed over").
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

let probes = 0;

/** A scheduler stand-in sending raw v1 calls from an address of its own, recording the events it gets. */
async function probe(cluster: TestCluster) {
  const n = ++probes;
  const runtime = await cluster.world.add(`probe${n}`);
  const p = new Probe(`scheduler-probe-${n}`, [SCHEDULER_EVENT]);
  runtime.spawn(p);
  const events = () => p.bodies(SCHEDULER_EVENT) as SchedulerEvent[];
  return {
    probe: p,
    runtime,
    events,
    errors: () => events().flatMap((e) => (e.type === 'ERROR' ? [e.error.message] : [])),
    subscribe: (info: FrameworkInfo, force?: boolean) =>
      p.send(cluster.master.self, SCHEDULER_CALL, {
        type: 'SUBSCRIBE',
        ...(info.id === undefined ? {} : { framework_id: info.id }),
        subscribe: { framework_info: info, ...(force === undefined ? {} : { force }) },
      }),
  };
}

type SubscribeCall = { type: string; subscribe?: { force?: boolean } };

test.serial('FaultToleranceTest.SchedulerFailover - a driver started with the framework id says force, hears registered; the scheduler it replaces hears "Framework failed over"', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const first = await cluster.startFramework({ failover_timeout: 60 });
  t.deepEqual(first.scheduler.calls.map((c) => c.name), ['registered']);

  // The second scheduler starts while the first is still connected.
  const rt = await cluster.world.add('failover');
  const scheduler = new TestScheduler();
  const info: FrameworkInfo = { user: 'test', name: 'failover', id: { value: first.frameworkId }, failover_timeout: 60 };
  const driver = new SchedulerDriver(scheduler, info, cluster.master.self, { runtime: rt, random: () => 0 });
  t.teardown(() => driver.abort());
  // The first driver, subscribed and offered nothing, sends no call meanwhile.
  const call = futureMessage(SCHEDULER_CALL, undefined, cluster.master.self);
  await driver.start();
  const sent = await call;
  t.is(String(sent.from), String(driver.pid));
  t.is((sent.body as SubscribeCall).type, 'SUBSCRIBE');
  t.is((sent.body as SubscribeCall).subscribe?.force, true, 'the first SUBSCRIBE of a scheduler failing over is forced');
  await cluster.settle();

  t.deepEqual(scheduler.calls.map((c) => c.name), ['registered'], 'registered, not reregistered');
  t.is(scheduler.all('registered')[0]![0].value, first.frameworkId);
  t.deepEqual(first.scheduler.all('error').map(([message]) => message), ['Framework failed over']);
  t.is(first.driver.status, 'DRIVER_ABORTED');
  t.true(cluster.master.frameworks.get(first.frameworkId)!.connection!.pid!.equals(driver.pid!));

  // Its connection broke and came back: it subscribes again, not forced, and hears reregistered.
  const again = futureMessage(SCHEDULER_CALL, driver.pid, cluster.master.self);
  rt.reconnected();
  const resent = (await again).body as SubscribeCall;
  t.is(resent.type, 'SUBSCRIBE');
  t.is(resent.subscribe?.force, false);
  await cluster.settle();
  t.deepEqual(scheduler.calls.map((c) => c.name), ['registered', 'disconnected', 'reregistered']);
  t.true(cluster.master.frameworks.get(first.frameworkId)!.connected);
});

test.serial('subscribe - without force, a SUBSCRIBE from another address than the connected scheduler\'s is refused ("Framework failed over"); with force it fails that scheduler over', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const own = await probe(cluster);
  own.subscribe({ user: 'test', name: 'owner', failover_timeout: 60 });
  await cluster.settle();
  const id = own.events().find((e) => e.type === 'SUBSCRIBED')!;
  t.is(id.type, 'SUBSCRIBED');
  const frameworkId = id.type === 'SUBSCRIBED' ? id.subscribed.framework_id : { value: '' };

  const stale = await probe(cluster);
  stale.subscribe({ user: 'test', name: 'stale', id: frameworkId, failover_timeout: 60 });
  await cluster.settle();
  t.deepEqual(stale.errors(), ['Framework failed over']);
  t.deepEqual(stale.events().map((e) => e.type), ['ERROR']);
  t.deepEqual(own.errors(), [], 'the connected scheduler keeps its framework');
  const framework = cluster.master.frameworks.get(frameworkId.value)!;
  t.true(framework.connection!.pid!.equals(own.probe.self));
  t.is(framework.info.name, 'owner', 'nothing of the refused FrameworkInfo taken');

  const next = await probe(cluster);
  next.subscribe({ user: 'test', name: 'next', id: frameworkId, failover_timeout: 60 }, true);
  await cluster.settle();
  t.deepEqual(next.events().map((e) => e.type), ['SUBSCRIBED']);
  t.deepEqual(own.errors(), ['Framework failed over']);
  t.true(framework.connection!.pid!.equals(next.probe.self));
  t.is(framework.info.name, 'next');
});

test.serial('subscribe - a disconnected framework: a SUBSCRIBE without force from another address is refused; with force it takes the framework over', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const own = await probe(cluster);
  own.subscribe({ user: 'test', name: 'owner', failover_timeout: 60 });
  await cluster.settle();
  const subscribed = own.events().find((e) => e.type === 'SUBSCRIBED');
  if (subscribed?.type !== 'SUBSCRIBED') throw new Error('not subscribed');
  const frameworkId = subscribed.subscribed.framework_id;
  const framework = cluster.master.frameworks.get(frameworkId.value)!;

  // Its link to the master breaks: the master counts it disconnected.
  own.runtime.terminate(own.probe.self);
  await cluster.settle();
  t.false(framework.connected);

  // Mesos refuses a SUBSCRIBE without force from another address whether or not the
  // framework's scheduler is connected (`framework->pid() != from && !force`).
  const stale = await probe(cluster);
  stale.subscribe({ user: 'test', name: 'stale', id: frameworkId, failover_timeout: 60 });
  await cluster.settle();
  t.deepEqual(stale.errors(), ['Framework failed over']);
  t.false(framework.connected);

  const next = await probe(cluster);
  next.subscribe({ user: 'test', name: 'next', id: frameworkId, failover_timeout: 60 }, true);
  await cluster.settle();
  t.deepEqual(next.events().map((e) => e.type), ['SUBSCRIBED']);
  t.true(framework.connected);
  t.true(framework.connection!.pid!.equals(next.probe.self));
});
