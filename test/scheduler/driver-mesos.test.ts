import anyTest, { type TestFn } from 'ava';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { SCHEDULER_CALL, SCHEDULER_EVENT } from '../../src/mesos/protocol.ts';
import { addFilter } from '../../src/process/filter.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { TestScheduler } from '../helpers/scheduler.ts';
import { Bus, useLocalBus } from '../helpers/worlds.ts';

// The driver's status values and what its calls and callbacks do in each, as Apache Mesos's
// `MesosSchedulerDriver` (src/sched/sched.cpp) and its tests (src/tests/scheduler_driver_tests.cpp).

const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);

useLocalBus(test);

/** Records the type of every scheduler call that reaches the master, from now on. */
function recordCalls(cluster: TestCluster): string[] {
  const types: string[] = [];
  addFilter((e) => {
    if (e.kind === 'message' && e.name === SCHEDULER_CALL && e.to.equals(cluster.master.self)) types.push((e.body as { type: string }).type);
    return false;
  });
  return types;
}

test.serial('MesosSchedulerDriverTest.DropAckIfStopCalledBeforeAbort', async (t) => {
  // The scheduler stops, then aborts, the driver in `statusUpdate`: the driver does not
  // acknowledge the update (Mesos checks `running` before the implicit acknowledgement).
  const cluster = await startTestCluster(t, t.context.bus);
  const agent = await cluster.addAgent('cpus:1;mem:128');
  const { driver, scheduler } = await cluster.startFramework();
  const [offers] = await scheduler.next('resourceOffers');
  const offer = offers[0]!;
  driver.launchTasks(offer.id, [{ name: 't', task_id: { value: 't1' }, agent_id: offer.agent_id, resources: offer.resources!, command: { value: 'true' } }]);
  await cluster.settle();
  const returned: Promise<string>[] = [];
  scheduler.on('statusUpdate', (d) => {
    returned.push(d.stop(), d.abort());
  });
  const calls = recordCalls(cluster);
  agent.update(agent.runTasks[0]!, 'TASK_RUNNING');
  const [status] = await scheduler.next('statusUpdate');
  t.is(status.state, 'TASK_RUNNING');
  await cluster.settle();
  t.deepEqual(await Promise.all(returned), ['DRIVER_STOPPED', 'DRIVER_STOPPED']);
  t.false(calls.includes('ACKNOWLEDGE'), `calls sent: ${calls.join(', ')}`);
});

test.serial('driver - an ERROR from the master aborts the driver before the scheduler hears error; calls in `error` do nothing', async (t) => {
  // Mesos `SchedulerProcess::error`: `driver->abort()`, then `scheduler->error(...)`.
  const cluster = await startTestCluster(t, t.context.bus);
  const { driver, scheduler } = await cluster.startFramework();
  const seen: { status: string; revive: string }[] = [];
  scheduler.on('error', (d) => seen.push({ status: d.status, revive: d.reviveOffers() }));
  const calls = recordCalls(cluster);
  cluster.runtime.send(cluster.master.self, driver.pid!, SCHEDULER_EVENT, { type: 'ERROR', error: { message: 'Framework has been removed' } });
  const [message] = await scheduler.next('error');
  t.is(message, 'Framework has been removed');
  await cluster.settle();
  t.deepEqual(seen, [{ status: 'DRIVER_ABORTED', revive: 'DRIVER_ABORTED' }]);
  t.deepEqual(calls, [], 'nothing sent from the error callback');
  t.is(await driver.join(), 'DRIVER_ABORTED');
});

test.serial('driver - events queued when the scheduler aborts the driver in a callback are not delivered', async (t) => {
  // Mesos's driver sets `running` false in `abort`: every handler ignores what comes after.
  const cluster = await startTestCluster(t, t.context.bus);
  const { driver, scheduler } = await cluster.startFramework();
  scheduler.on('frameworkMessage', (d) => void d.abort());
  const message = (data: string) => ({ type: 'MESSAGE', message: { agent_id: { value: 'a1' }, executor_id: { value: 'e1' }, data: Buffer.from(data).toString('base64') } });
  cluster.runtime.send(cluster.master.self, driver.pid!, SCHEDULER_EVENT, message('first'));
  cluster.runtime.send(cluster.master.self, driver.pid!, SCHEDULER_EVENT, message('second'));
  await cluster.settle();
  t.deepEqual(scheduler.all('frameworkMessage').map(([, , data]) => data.toString()), ['first']);
  t.is(driver.status, 'DRIVER_ABORTED');
});

test.serial('driver - join of a driver never started returns DRIVER_NOT_STARTED at once; stop after abort returns DRIVER_ABORTED, then the driver is DRIVER_STOPPED', async (t) => {
  // Mesos `MesosSchedulerDriver::join`: without a process, the status at once; `stop` on an
  // aborted driver returns DRIVER_ABORTED and leaves it DRIVER_STOPPED, which `join` returns.
  const cluster = await startTestCluster(t, t.context.bus);
  const idle = new SchedulerDriver(new TestScheduler(), { user: 'u', name: 'idle' }, cluster.master.self, { runtime: cluster.runtime });
  t.is(await Promise.race([idle.join(), Promise.resolve('pending')]), 'DRIVER_NOT_STARTED');
  t.is(await idle.stop(), 'DRIVER_NOT_STARTED');
  t.is(await idle.abort(), 'DRIVER_NOT_STARTED');

  const { driver } = await cluster.startFramework({ failover_timeout: 600 });
  t.is(await driver.abort(), 'DRIVER_ABORTED');
  t.is(await driver.join(), 'DRIVER_ABORTED');
  t.is(await driver.stop(), 'DRIVER_ABORTED');
  t.is(driver.status, 'DRIVER_STOPPED');
  t.is(await driver.join(), 'DRIVER_STOPPED');
  t.is(driver.declineOffer({ value: 'o1' }), 'DRIVER_STOPPED');
  t.is(await driver.stop(), 'DRIVER_STOPPED');
  t.is(await driver.start(), 'DRIVER_STOPPED', 'a driver does not start twice');
  t.is(await driver.run(), 'DRIVER_STOPPED');
});

test.serial('driver - a launch while disconnected reports TASK_DROPPED to a PARTITION_AWARE framework', async (t) => {
  // Mesos `SchedulerProcess::acceptOffers`: TASK_DROPPED, or TASK_LOST if not partition-aware.
  const cluster = await startTestCluster(t, t.context.bus);
  const rt = await cluster.world.add('fw');
  const scheduler = new TestScheduler();
  const framework = { user: 'u', name: 'aware', capabilities: [{ type: 'PARTITION_AWARE' as const }] };
  const driver = new SchedulerDriver(scheduler, framework, 'master@nowhere', { runtime: rt, random: () => 1 });
  t.teardown(() => driver.abort());
  await driver.start();
  t.is(driver.launchTasks({ value: 'o1' }, [{ name: 't', task_id: { value: 't1' }, agent_id: { value: 'a' }, command: { value: 'true' } }]), 'DRIVER_RUNNING');
  const [status] = await scheduler.next('statusUpdate');
  t.like(status, { task_id: { value: 't1' }, state: 'TASK_DROPPED', source: 'SOURCE_MASTER', reason: 'REASON_MASTER_DISCONNECTED', message: 'Master disconnected' });
  t.is(status.uuid, undefined, 'a driver-made update needs no acknowledgement');
});

test.serial('driver - acknowledgeStatusUpdate with implicit acknowledgements on throws and sends nothing', async (t) => {
  // Mesos `MesosSchedulerDriver::acknowledgeStatusUpdate`: "Cannot call acknowledgeStatusUpdate:
  // Implicit acknowledgements are enabled" (it aborts the process); on a driver not running it
  // returns the status first.
  const cluster = await startTestCluster(t, t.context.bus);
  const { driver } = await cluster.startFramework();
  const calls = recordCalls(cluster);
  const status = { task_id: { value: 't1' }, state: 'TASK_RUNNING' as const, agent_id: { value: 'a1' }, uuid: Buffer.from('0123456789abcdef').toString('base64') };
  t.throws(() => driver.acknowledgeStatusUpdate(status), { message: /implicit acknowledgements are enabled/ });
  await cluster.settle();
  t.deepEqual(calls, []);
  await driver.stop(true);
  t.is(driver.acknowledgeStatusUpdate(status), 'DRIVER_STOPPED');
});

test.serial('driver - reviveOffers([]) and suppressOffers([]) do nothing; suppressOffers before start changes nothing', async (t) => {
  // Mesos `MesosSchedulerDriver::reviveOffers(roles)` / `suppressOffers(roles)`: an empty list
  // returns the status and sends nothing; a driver not running returns its status.
  const cluster = await startTestCluster(t, t.context.bus);
  const idle = new SchedulerDriver(new TestScheduler(), { user: 'u', name: 'idle' }, cluster.master.self, { runtime: cluster.runtime });
  t.is(idle.suppressOffers(), 'DRIVER_NOT_STARTED');
  t.deepEqual(idle.suppressedRoles, [], 'nothing suppressed by a call on a driver not started');

  const { driver } = await cluster.startFramework();
  const calls = recordCalls(cluster);
  driver.suppressOffers(['*']);
  t.is(driver.reviveOffers([]), 'DRIVER_RUNNING');
  t.deepEqual(driver.suppressedRoles, ['*'], 'an empty list revives no role');
  driver.reviveOffers();
  t.is(driver.suppressOffers([]), 'DRIVER_RUNNING');
  t.deepEqual(driver.suppressedRoles, [], 'an empty list suppresses no role');
  await cluster.settle();
  t.deepEqual(calls, ['SUPPRESS', 'REVIVE']);
});
