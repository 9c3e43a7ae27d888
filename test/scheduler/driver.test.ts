import anyTest, { type TestFn } from 'ava';
import type { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { REGISTRATION_BACKOFF_FACTOR_MS, REGISTRATION_RETRY_INTERVAL_MAX_MS } from '../../actors/scheduler/constants.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { dropMessage, dropMessages, futureMessage, futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { TestScheduler } from '../helpers/scheduler.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);

useLocalBus(test);

test.serial('driver - SUBSCRIBE is retried with backoff until the master answers', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const rt = await cluster.world.add('fw');
  const scheduler = new TestScheduler();
  // The jitter source returns 1: each retry waits the whole backoff, which doubles.
  const driver = new SchedulerDriver(scheduler, { user: 'u', name: 'retry' }, cluster.master.self, { runtime: rt, random: () => 1 });
  t.teardown(() => driver.abort());
  const first = dropMessage('mesos.scheduler.Call', undefined, cluster.master.self);
  await driver.start();
  const dropped = await first;
  t.is((dropped.body as { type: string }).type, 'SUBSCRIBE');
  const second = dropMessage('mesos.scheduler.Call', undefined, cluster.master.self);
  cluster.clock.advance(REGISTRATION_BACKOFF_FACTOR_MS);
  await second;
  const third = futureMessage('mesos.scheduler.Call', undefined, cluster.master.self);
  cluster.clock.advance(2 * REGISTRATION_BACKOFF_FACTOR_MS - 1);
  await cluster.settle();
  t.is(scheduler.all('registered').length, 0, 'the third try waits twice the backoff');
  cluster.clock.advance(1);
  await third;
  const [id] = await scheduler.next('registered');
  t.truthy(id.value);
  t.is(driver.connectionState, 'SUBSCRIBED');
});

test.serial('driver - the SUBSCRIBE backoff is bounded by REGISTRATION_RETRY_INTERVAL_MAX and by a tenth of failover_timeout (Mesos\'s doReliableRegistration)', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  // The waits between SUBSCRIBEs when every one is lost, each the whole bound (jitter 1): the
  // bound doubles from the backoff factor, up to 1 minute, and up to a tenth of a positive
  // failover_timeout.
  const cases: [number | undefined, number[]][] = [
    [undefined, [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]],
    [300, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000]],
    [10, [1_000, 1_000, 1_000]],
  ];
  t.is(REGISTRATION_BACKOFF_FACTOR_MS, 2_000);
  t.is(REGISTRATION_RETRY_INTERVAL_MAX_MS, 60_000);
  let n = 0;
  for (const [failoverTimeout, waits] of cases) {
    const rt = await cluster.world.add(`backoff${++n}`);
    const info = { user: 'u', name: `backoff-${n}`, ...(failoverTimeout === undefined ? {} : { failover_timeout: failoverTimeout }) };
    const driver = new SchedulerDriver(new TestScheduler(), info, cluster.master.self, { runtime: rt, random: () => 1 });
    const lost = dropMessages('mesos.scheduler.Call', undefined, cluster.master.self);
    await driver.start();
    await cluster.settle();
    t.is(lost.dropped.length, 1);
    for (const [i, wait] of waits.entries()) {
      cluster.clock.advance(wait - 1);
      await cluster.settle();
      t.is(lost.dropped.length, i + 1, `failover_timeout ${failoverTimeout}: retry ${i + 1} not before ${wait} ms`);
      cluster.clock.advance(1);
      await cluster.settle();
      t.is(lost.dropped.length, i + 2, `failover_timeout ${failoverTimeout}: retry ${i + 1} after ${wait} ms`);
    }
    lost.stop();
    await driver.abort();
  }
});

test.serial('driver - its bus connection to the master broke and came back: it subscribes again and gets the offer whose OFFERS event was lost; a retried SUBSCRIBE does not give it twice', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const { driver, frameworkId, scheduler } = await cluster.startFramework();
  const lost = dropMessage('mesos.scheduler.Event', cluster.master.self);
  const agent = await cluster.addAgent('cpus:2;mem:1024');
  t.is(((await lost).body as { type: string }).type, 'OFFERS');
  await cluster.settle();
  // Nobody knows: the master holds the offer as outstanding, the scheduler never saw it.
  const [offerId] = [...cluster.master.offers.keys()];
  t.deepEqual(scheduler.all('resourceOffers'), []);

  const runtime = cluster.world.runtimes.find((r) => r.node.endsWith('-framework1'))!;
  runtime.reconnected();
  const [offers] = await scheduler.next('resourceOffers');
  t.deepEqual(offers.map((o) => [o.id.value, o.agent_id.value]), [[offerId, agent.agentId!]]);
  t.deepEqual(scheduler.calls.map((c) => c.name), ['registered', 'disconnected', 'reregistered', 'resourceOffers']);

  // Again (the master's connection, say): the scheduler hears `disconnected` (its offers are
  // void to it) and, subscribed again, gets the outstanding offer again.
  runtime.reconnected();
  const [again] = await scheduler.next('resourceOffers');
  t.deepEqual(again.map((o) => o.id.value), [offerId]);
  t.deepEqual(scheduler.calls.map((c) => c.name), ['registered', 'disconnected', 'reregistered', 'resourceOffers', 'disconnected', 'reregistered', 'resourceOffers']);

  // A SUBSCRIBE the driver retried without having disconnected: the master sends the offer again
  // and the scheduler, which holds it, does not get it twice.
  const resent = futureMessages(2, 'mesos.scheduler.Event', cluster.master.self);
  runtime.send(driver.pid!, cluster.master.self, 'mesos.scheduler.Call', {
    type: 'SUBSCRIBE',
    framework_id: { value: frameworkId },
    subscribe: { framework_info: { ...driver.framework, id: { value: frameworkId } } },
  });
  t.deepEqual((await resent).map((m) => (m.body as { type: string }).type), ['SUBSCRIBED', 'OFFERS']);
  await cluster.settle();
  t.is(scheduler.all('resourceOffers').length, 2);
  t.deepEqual([...cluster.master.offers.keys()], [offerId]);
  t.deepEqual([...cluster.master.frameworks.keys()], [frameworkId]);
});

test.serial('driver - a SUBSCRIBE the master answers late, after the scheduler declined an offer, does not give the scheduler that offer again', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  await cluster.addAgent('cpus:2;mem:1024');
  const rt = await cluster.world.add('fw');
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'u', name: 'late' }, cluster.master.self, { runtime: rt, random: () => 1 });
  t.teardown(() => driver.abort());
  // The first SUBSCRIBE is held on its way (a busy master); the driver's retry gets through.
  const held = dropMessage('mesos.scheduler.Call', undefined, cluster.master.self);
  await driver.start();
  const first = await held;
  cluster.clock.advance(REGISTRATION_BACKOFF_FACTOR_MS);
  const [offers] = await scheduler.next('resourceOffers');
  t.is(offers.length, 1);

  // The scheduler declines the offer; the first SUBSCRIBE reaches the master before the decline.
  const decline = dropMessage('mesos.scheduler.Call', undefined, cluster.master.self);
  driver.declineOffer(offers[0]!.id);
  const declined = await decline;
  t.is((declined.body as { type: string }).type, 'DECLINE');
  const answer = futureMessages(2, 'mesos.scheduler.Event', cluster.master.self);
  rt.send(first.from, first.to, first.name, first.body);
  // The master answers it as a SUBSCRIBE again: SUBSCRIBED and its outstanding offer again.
  t.deepEqual((await answer).map((m) => (m.body as { type: string }).type), ['SUBSCRIBED', 'OFFERS']);
  rt.send(declined.from, declined.to, declined.name, declined.body);
  await cluster.settle();

  t.is(scheduler.all('resourceOffers').length, 1, 'the declined offer does not come twice');
  t.is(cluster.master.stats.offersDeclined.value, 1);
  t.deepEqual([...cluster.master.offers.keys()], []);
  t.deepEqual(scheduler.calls.map((c) => c.name), ['registered', 'resourceOffers']);
});

test.serial('driver - a suppressed framework stays suppressed when it subscribes again; a new scheduler (no suppressed roles) gets offers', async (t) => {
  // Found by the books property (test/master/books.test.ts): the driver did not say in its
  // SUBSCRIBE which roles it had suppressed, and the master did not tell its allocator when a
  // SUBSCRIBE changed them, so master and allocator disagreed.
  const cluster = await startTestCluster(t, t.context.bus);
  const { driver, scheduler, frameworkId } = await cluster.startFramework({ failover_timeout: 3600 });
  const allocator = cluster.runtime.process<AllocatorProcess>('allocator')!.allocation;
  driver.suppressOffers();
  await cluster.settle();
  t.deepEqual(allocator.suppressedRoles(frameworkId), ['*']);

  // Its bus connection broke and came back: it subscribes again, still suppressed.
  const subscribe = futureMessage('mesos.scheduler.Call', driver.pid, cluster.master.self);
  cluster.world.runtimes.find((r) => r.node.endsWith('-framework1'))!.reconnected();
  t.like((await subscribe).body, { type: 'SUBSCRIBE', subscribe: { suppressed_roles: ['*'] } });
  await cluster.addAgent('cpus:2;mem:1024');
  await cluster.settle();
  t.deepEqual(scheduler.all('resourceOffers'), [], 'no offers while suppressed');
  t.deepEqual([...cluster.master.frameworks.get(frameworkId)!.suppressedRoles], ['*']);
  t.deepEqual(allocator.suppressedRoles(frameworkId), ['*']);

  // Its scheduler fails over to a new one, which suppressed nothing: offers come again.
  await driver.abort();
  const next = await cluster.startFramework({ id: { value: frameworkId }, failover_timeout: 3600 });
  t.deepEqual(allocator.suppressedRoles(frameworkId), []);
  const [offers] = await next.scheduler.next('resourceOffers');
  t.is(offers.length, 1);
});

test.serial('driver - calls while not subscribed are dropped; a launch reports its tasks lost', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const rt = await cluster.world.add('fw');
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'u', name: 'early' }, 'master@nowhere', { runtime: rt, random: () => 1 });
  t.teardown(() => driver.abort());
  await driver.start();
  driver.launchTasks({ value: 'o1' }, [{ name: 't', task_id: { value: 't1' }, agent_id: { value: 'a' }, command: { value: 'true' } }]);
  const [status] = await scheduler.next('statusUpdate');
  t.is(status.state, 'TASK_LOST');
  t.is(status.reason, 'REASON_MASTER_DISCONNECTED');
  t.is(driver.connectionState, 'SUBSCRIBING');
});

test.serial('driver - stop() tears the framework down; stop(true) leaves it for failover', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const torn = await cluster.startFramework({ failover_timeout: 600 });
  const kept = await cluster.startFramework({ failover_timeout: 600 });
  t.is(await torn.driver.stop(), 'DRIVER_STOPPED');
  t.is(await kept.driver.stop(true), 'DRIVER_STOPPED');
  await cluster.settle();
  t.false(cluster.master.frameworks.has(torn.frameworkId));
  t.true(cluster.master.frameworks.has(kept.frameworkId));
  t.false(cluster.master.frameworks.get(kept.frameworkId)!.connected);
  t.is(await torn.driver.join(), 'DRIVER_STOPPED');
});

test.serial('driver - a status update resent by the agent (ack lost) is acknowledged again but reaches the scheduler once', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent('cpus:1;mem:128');
  const { driver, scheduler } = await cluster.startFramework();
  const [offers] = await scheduler.next('resourceOffers');
  driver.launchTasks(offers[0]!.id, [
    { name: 't', task_id: { value: 't1' }, agent_id: offers[0]!.agent_id, resources: offers[0]!.resources!, command: { value: 'true' } },
  ]);
  await cluster.settle();
  const run = agent.runTasks[0]!;
  const acks = futureMessages(2, 'StatusUpdateAcknowledgementMessage', cluster.master.self, agent.self);
  const uuid = agent.update(run, 'TASK_FINISHED');
  await cluster.settle();
  agent.update(run, 'TASK_FINISHED', { uuid });
  const [first, second] = await acks;
  t.is((first!.body as { uuid: string }).uuid, uuid);
  t.is((second!.body as { uuid: string }).uuid, uuid);
  await cluster.settle();
  t.deepEqual(scheduler.all('statusUpdate').map(([s]) => s.state), ['TASK_FINISHED']);
});

test.serial('driver - declines made in one turn reach the master as one DECLINE per filter, before any later call', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  for (let i = 0; i < 4; i++) await cluster.addAgent('cpus:1;mem:128');
  const { driver, scheduler } = await cluster.startFramework();
  const [offers] = await scheduler.next('resourceOffers');
  t.is(offers.length, 4);
  const calls = futureMessages(4, 'mesos.scheduler.Call', undefined, cluster.master.self);
  driver.declineOffer(offers[0]!.id, { refuse_seconds: 60 });
  driver.declineOffer(offers[1]!.id, { refuse_seconds: 60 });
  driver.declineOffer(offers[2]!.id);
  driver.reviveOffers();
  driver.declineOffer(offers[3]!.id, { refuse_seconds: 60 });
  const sent = (await calls).map((m) => m.body as { type: string; decline?: { offer_ids: { value: string }[]; filters?: { refuse_seconds: number } } });
  t.deepEqual(
    sent.map((c) => [c.type, c.decline?.offer_ids.map((o) => o.value), c.decline?.filters?.refuse_seconds]),
    [
      ['DECLINE', [offers[0]!.id.value, offers[1]!.id.value], 60],
      ['DECLINE', [offers[2]!.id.value], undefined],
      ['REVIVE', undefined, undefined],
      ['DECLINE', [offers[3]!.id.value], 60],
    ],
  );
  await cluster.settle();
  t.is(cluster.master.stats.offersDeclined.value, 4);
});
