import test from 'ava';
import type { ServerResponse } from 'node:http';
import { pino } from 'pino';
import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS, MISSED_HEARTBEATS_MAX } from '../../actors/scheduler/constants.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { Clock } from '../../src/process/clock.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { STATUS_UPDATE_ACKNOWLEDGEMENT } from '../../src/mesos/protocol.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { launchingOnce, TestScheduler } from '../helpers/scheduler.ts';
import { startCluster, type Cluster } from './support.ts';

/**
 * The `SchedulerDriver` with an `http://` master: it speaks the v1 scheduler HTTP API (no bus
 * between it and the master), as `examples/primes.ts --master http://127.0.0.1:5050` and
 * `mesos-ts execute --master http://...` do against `npm start`.
 */
resetFiltersAfterEach(test);

/** A scheduler that launches `count` command tasks on the first offer with room, and declines the rest. */
function launcher(count: number, command: (i: number) => string): TestScheduler {
  return launchingOnce(
    (offer) =>
      Array.from({ length: count }, (_, i) => ({
        name: `task-${i}`,
        task_id: { value: `task-${i}` },
        agent_id: offer.agent_id,
        resources: Resources.parse('cpus:0.5;mem:32').toJSON(),
        command: { value: command(i) },
      })),
    3600,
  );
}

function httpConnectionOf(cluster: Cluster, frameworkId: string): { streamId: string; res: ServerResponse } {
  return cluster.master.frameworks.get(frameworkId)!.connection as unknown as { streamId: string; res: ServerResponse };
}

test.serial('SchedulerDriver over HTTP - a primes-like framework runs command tasks to TASK_FINISHED, then stop() tears it down', async (t) => {
  const cluster = await startCluster(t);
  // Each task's updates (STARTING, RUNNING, FINISHED) are acknowledged over HTTP by the driver.
  const acknowledged = futureMessages(9, STATUS_UPDATE_ACKNOWLEDGEMENT, cluster.master.self);
  const scheduler = launcher(3, (i) => `test $(( ${i} * ${i} )) -ge 0 && echo ${i}`);
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'primes-over-http' }, cluster.url);
  t.teardown(() => driver.abort());
  const registered = scheduler.next('registered');
  t.is(await driver.start(), 'DRIVER_RUNNING');
  const [frameworkId, masterInfo] = await registered;
  t.is(masterInfo?.id, cluster.master.masterInfo.id);
  const framework = cluster.master.frameworks.get(frameworkId.value)!;
  t.is(framework.connection?.kind, 'http', 'the master sees an HTTP framework');
  t.truthy(driver.pid, 'the driver runs in a runtime of its own');
  t.not(driver.pid!.node, cluster.runtime.node);

  const finished = new Set<string>();
  while (finished.size < 3) {
    const [status] = await scheduler.next('statusUpdate');
    t.not(status.state, 'TASK_FAILED', status.message);
    if (status.state === 'TASK_FINISHED') finished.add(status.task_id.value);
  }
  t.deepEqual([...finished].sort(), ['task-0', 'task-1', 'task-2']);
  await acknowledged;
  await cluster.runtime.settle();
  t.is(framework.completedTasks.length, 3, 'terminal updates acknowledged: the tasks are completed');

  t.is(await driver.stop(), 'DRIVER_STOPPED');
  t.false(cluster.master.frameworks.has(frameworkId.value), 'the TEARDOWN reached the master before the driver stopped');
  t.true(cluster.master.completedFrameworks.some((f) => f.id === frameworkId.value));
});

test.serial('SchedulerDriver over HTTP - a dropped stream is disconnected; the driver subscribes again with its framework id', async (t) => {
  const cluster = await startCluster(t);
  const scheduler = new TestScheduler();
  const info: FrameworkInfo = { user: 'test', name: 'reconnecting', failover_timeout: 60 };
  const driver = new SchedulerDriver(scheduler, info, cluster.url, { random: () => 0.01 });
  t.teardown(() => driver.abort());
  const registered = scheduler.next('registered');
  await driver.start();
  const [frameworkId] = await registered;
  const first = httpConnectionOf(cluster, frameworkId.value);

  const disconnected = scheduler.next('disconnected');
  const reregistered = scheduler.next('reregistered');
  first.res.destroy(); // The master's side of the stream breaks.
  await disconnected;
  await reregistered;
  t.is(driver.frameworkId?.value, frameworkId.value);
  const second = httpConnectionOf(cluster, frameworkId.value);
  t.not(second.streamId, first.streamId, 'a new subscription');
  t.true(cluster.master.frameworks.get(frameworkId.value)!.connected);

  // Calls go with the new stream id.
  const offers = scheduler.next('resourceOffers');
  driver.reviveOffers();
  await offers;
  t.is(driver.status, 'DRIVER_RUNNING');
});

test.serial('SchedulerDriver over HTTP - no event for the heartbeat intervals of its Clock: the master is lost, the driver subscribes again', async (t) => {
  const cluster = await startCluster(t);
  const clock = new Clock();
  const runtime = await Runtime.start({ clock, logger: pino({ level: 'silent' }) });
  t.teardown(() => runtime.shutdown());
  clock.pause();
  const scheduler = new TestScheduler();
  // Retries wait half the backoff (never 0: zero-delay retries would spin inside `advance`).
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'quiet-master', failover_timeout: 60 }, cluster.url, { runtime, random: () => 0.5 });
  t.teardown(() => driver.abort());
  const registered = scheduler.next('registered');
  await driver.start();
  const [frameworkId] = await registered;
  const first = httpConnectionOf(cluster, frameworkId.value).streamId;

  const limit = DEFAULT_HEARTBEAT_INTERVAL_SECONDS * MISSED_HEARTBEATS_MAX * 1000;
  clock.advance(limit - 1);
  await runtime.settle();
  t.is(driver.connectionState, 'SUBSCRIBED', 'not yet');
  const disconnected = scheduler.next('disconnected');
  const reregistered = scheduler.next('reregistered');
  clock.advance(1);
  await disconnected;
  await reregistered;
  t.not(httpConnectionOf(cluster, frameworkId.value).streamId, first);
  t.is(driver.connectionState, 'SUBSCRIBED');
});

test.serial('SchedulerDriver over HTTP - an ERROR from the master aborts the driver', async (t) => {
  const cluster = await startCluster(t);
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'bad-role', roles: ['-bad'], capabilities: [{ type: 'MULTI_ROLE' }] }, cluster.url);
  t.teardown(() => driver.abort());
  await driver.start();
  const [message] = await scheduler.next('error');
  t.regex(message, /invalid role '-bad'/);
  t.is(await driver.join(), 'DRIVER_ABORTED');
  t.is(cluster.master.frameworks.size, 0);
});

test.serial('SchedulerDriver over HTTP - a master that cannot be reached is tried again until it answers', async (t) => {
  // A free port, then a cluster on it once the driver has tried.
  const probe = await startCluster(t, { agents: 0 });
  const port = probe.port;
  await probe.stop();
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'patient' }, `http://127.0.0.1:${port}`, { random: () => 0.01 });
  t.teardown(() => driver.abort());
  await driver.start();
  // Not subscribed: its process may not even have started yet (its runtime's first drain can
  // wait for the next turn when this process's drains used their budget), or be trying.
  t.not(driver.connectionState, 'SUBSCRIBED');
  const registered = scheduler.next('registered');
  await startCluster(t, { agents: 0, port });
  const [frameworkId] = await registered;
  t.truthy(frameworkId.value);
});
