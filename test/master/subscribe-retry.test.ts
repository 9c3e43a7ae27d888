import anyTest, { type TestFn } from 'ava';
import { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { SCHEDULER_CALL, SCHEDULER_EVENT } from '../../src/mesos/protocol.ts';
import type { SchedulerEvent } from '../../src/mesos/v1/index.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { useBuses, type BusesContext } from '../helpers/worlds.ts';

/**
 * A scheduler driver retries SUBSCRIBE with backoff until SUBSCRIBED arrives; a busy master can
 * get the retry after it subscribed the first one. Mesos's master answers the retry again (it
 * finds the framework by the driver's address); it must not add a second framework.
 *
 * A driver also subscribes again when its bus connection broke and came back, and events may
 * have been lost (an OFFERS event): the master then sends it its outstanding offers again.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);
useBuses(test);

for (const kind of ['local', 'nats'] as const) {
  test.serial(`${kind} - subscribe - a SUBSCRIBE retried before SUBSCRIBED arrives is answered again, and adds no second framework`, async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const runtime = await cluster.world.add('driver');
    const driver = new Probe('scheduler-1', [SCHEDULER_EVENT]);
    runtime.spawn(driver);
    const subscribe = { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'test', name: 'retrying' } } };
    driver.send(cluster.master.self, SCHEDULER_CALL, subscribe);
    driver.send(cluster.master.self, SCHEDULER_CALL, subscribe);
    await cluster.settle();

    const subscribed = (driver.bodies(SCHEDULER_EVENT) as SchedulerEvent[]).filter((e) => e.type === 'SUBSCRIBED');
    t.is(subscribed.length, 2);
    const ids = subscribed.map((e) => (e.type === 'SUBSCRIBED' ? e.subscribed.framework_id.value : ''));
    t.is(ids[0], ids[1]);
    t.deepEqual([...cluster.master.frameworks.keys()], [ids[0]]);
    const allocator = cluster.runtime.process<AllocatorProcess>('allocator')!;
    t.true(allocator.allocation.hasFramework(ids[0]!));
  });
}

for (const kind of ['local', 'nats'] as const) {
  test.serial(`${kind} - subscribe - a SUBSCRIBE again from the same driver is answered with its outstanding offers again`, async (t) => {
    const cluster = await startTestCluster(t, t.context.buses[kind]);
    const agent = await cluster.addAgent('cpus:2;mem:1024');
    const runtime = await cluster.world.add('driver');
    const driver = new Probe('scheduler-1', [SCHEDULER_EVENT]);
    runtime.spawn(driver);
    const subscribe = { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'test', name: 'resubscribing' } } };
    driver.send(cluster.master.self, SCHEDULER_CALL, subscribe);
    await cluster.settle();
    const offersOf = () => (driver.bodies(SCHEDULER_EVENT) as SchedulerEvent[]).flatMap((e) => (e.type === 'OFFERS' ? e.offers.offers : []));
    const [first] = offersOf();
    t.is(offersOf().length, 1);
    t.is(first!.agent_id.value, agent.agentId!);
    t.deepEqual([...cluster.master.offers.keys()], [first!.id.value]);

    // Say the OFFERS event was lost on the way: the driver subscribes again, with its id now.
    const frameworkId = first!.framework_id;
    driver.send(cluster.master.self, SCHEDULER_CALL, { type: 'SUBSCRIBE', framework_id: frameworkId, subscribe: { framework_info: { user: 'test', name: 'resubscribing', id: frameworkId } } });
    await cluster.settle();
    const events = (driver.bodies(SCHEDULER_EVENT) as SchedulerEvent[]).map((e) => e.type);
    t.deepEqual(events, ['SUBSCRIBED', 'OFFERS', 'SUBSCRIBED', 'OFFERS']);
    t.deepEqual(offersOf()[1], first);
    t.deepEqual([...cluster.master.offers.keys()], [first!.id.value]);
    t.deepEqual([...cluster.master.frameworks.keys()], [frameworkId.value]);
  });
}
