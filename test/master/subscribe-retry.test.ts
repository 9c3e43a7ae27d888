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
