import test from 'ava';
import { AGENT_PING_TIMEOUT_MS, MAX_AGENT_PING_TIMEOUTS } from '../../actors/master/constants.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { SCHEDULER_CALL, type RunTask } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo, Offer, TaskInfo } from '../../src/mesos/v1/common.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { dropMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { http } from '../helpers/http.ts';
import { Probe } from '../helpers/runtime.ts';
import { Bus } from '../helpers/worlds.ts';

/**
 * The master's and the allocator's metrics under Apache Mesos's names (`docs/monitoring.md`),
 * read from `/metrics/snapshot` (or the registry behind it) after the event that changes each,
 * on the local bus and the paused Clock.
 */

resetFiltersAfterEach(test);

const bus = new Bus('local');

function task(offer: Offer, id: string, resources = 'cpus:1;mem:128', executor = false): TaskInfo {
  const info: TaskInfo = { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse(resources).toJSON() };
  if (executor) info.executor = { executor_id: { value: `e-${id}` }, command: { value: 'executor' } };
  else info.command = { value: 'sleep 1000' };
  return info;
}

function snapshot(cluster: TestCluster): Record<string, number> {
  return cluster.runtime.metrics.snapshot();
}

function runFor(agent: FakeAgent, taskId: string): RunTask {
  const run = agent.runTasks.find((r) => r.task.task_id.value === taskId);
  if (run === undefined) throw new Error(`no RunTaskMessage for ${taskId}`);
  return run;
}

/** An agent (2 cpus, 1 GB), a framework, and its first offer. */
async function offered(t: Parameters<typeof startTestCluster>[0], info: Partial<FrameworkInfo> = {}) {
  const cluster = await startTestCluster(t, bus);
  const agent = await cluster.addAgent('cpus:2;mem:1024;disk:512');
  const framework = await cluster.startFramework(info);
  const [offers] = await framework.scheduler.next('resourceOffers');
  return { cluster, agent, ...framework, offer: offers[0]! };
}

test.serial('master metrics - resources, task states and status updates under Mesos names through a task\'s life', async (t) => {
  const { cluster, agent, driver, scheduler, offer } = await offered(t);
  let s = snapshot(cluster);
  t.is(s['master/cpus_total'], 2);
  t.is(s['master/mem_total'], 1024);
  t.is(s['master/disk_total'], 512);
  t.is(s['master/gpus_total'], 0);
  t.is(s['master/cpus_used'], 0, 'an offer is not a use');
  t.is(s['master/cpus_percent'], 0);
  t.is(s['master/gpus_percent'], 0, 'no gpus: 0, as Mesos');
  t.is(s['allocator/mesos/resources/cpus/total'], 2);
  t.is(s['allocator/mesos/resources/cpus/offered_or_allocated'], 2, 'the whole agent is offered');
  t.is(s['allocator/mesos/resources/mem/offered_or_allocated'], 1024);

  driver.launchTasks(offer.id, [task(offer, 't1', 'cpus:0.5;mem:128')]);
  await cluster.settle();
  s = snapshot(cluster);
  t.is(s['master/messages_launch_tasks'], 1);
  t.is(s['master/tasks_staging'], 1);
  t.is(s['master/cpus_used'], 0.5);
  t.is(s['master/cpus_percent'], 0.25);
  t.is(s['master/mem_used'], 128);
  t.is(s['master/mem_percent'], 0.125);
  t.is(s['allocator/mesos/resources/cpus/offered_or_allocated'], 0.5, 'what the launch left went back');

  agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
  await scheduler.next('statusUpdate');
  await cluster.settle();
  s = snapshot(cluster);
  t.is(s['master/tasks_running'], 1);
  t.is(s['master/tasks_staging'], 0);
  t.is(s['master/valid_status_updates'], 1);
  t.is(s['master/invalid_status_updates'], 0);
  t.is(s['master/messages_status_update'], 1);
  t.is(s['master/valid_status_update_acknowledgements'], 1, 'the driver acknowledged it');
  t.is(s['master/tasks_finished'], 0);

  agent.update(runFor(agent, 't1'), 'TASK_FINISHED');
  await scheduler.next('statusUpdate');
  await cluster.settle();
  s = snapshot(cluster);
  t.is(s['master/tasks_finished'], 1);
  t.is(s['master/tasks_running'], 0);
  t.is(s['master/cpus_used'], 0);
  t.is(s['master/valid_status_updates'], 2);

  // A second terminal update of the same task (a resend) counts no second end.
  agent.update(runFor(agent, 't1'), 'TASK_FINISHED');
  await cluster.settle();
  s = snapshot(cluster);
  t.is(s['master/tasks_finished'], 1);
  t.is(s['master/invalid_status_updates'], 1, 'the task is completed: not forwarded');
});

test.serial('master metrics - the scheduler calls Mesos counts as messages_*', async (t) => {
  const { cluster, driver, offer } = await offered(t);
  t.is(snapshot(cluster)['master/messages_register_framework'], 1);
  driver.declineOffer(offer.id, { refuse_seconds: 0 });
  driver.reviveOffers();
  driver.suppressOffers();
  driver.reconcileTasks();
  driver.killTask({ value: 'nope' });
  await cluster.settle();
  const s = snapshot(cluster);
  t.is(s['master/messages_decline_offers'], 1);
  t.is(s['master/messages_revive_offers'], 1);
  t.is(s['master/messages_suppress_offers'], 1);
  t.is(s['master/messages_reconcile_tasks'], 1);
  t.is(s['master/messages_kill_task'], 1);
  t.is(s['master/outstanding_offers'], 0);
});

test.serial('master metrics - tasks launched on a stale offer are tasks_lost, not tasks_dropped, for a framework that is not partition-aware', async (t) => {
  const { cluster, driver, scheduler, offer } = await offered(t);
  driver.declineOffer(offer.id);
  await cluster.settle();
  driver.launchTasks(offer.id, [task(offer, 't1')]);
  const [status] = await scheduler.next('statusUpdate');
  t.is(status.state, 'TASK_LOST');
  const s = snapshot(cluster);
  t.is(s['master/tasks_lost'], 1);
  t.is(s['master/tasks_dropped'], 0);
});

test.serial('master metrics - framework and executor messages, valid and invalid', async (t) => {
  const { cluster, agent, driver, scheduler, offer } = await offered(t);
  driver.launchTasks(offer.id, [task(offer, 't1', 'cpus:1;mem:128', true)]);
  await cluster.settle();
  agent.messageToFramework(runFor(agent, 't1'), 'hello');
  await scheduler.next('frameworkMessage');
  driver.sendFrameworkMessage({ value: 'e-t1' }, offer.agent_id, 'hi');
  driver.sendFrameworkMessage({ value: 'e-t1' }, { value: 'no-such-agent' }, 'hi');
  await cluster.settle();
  const s = snapshot(cluster);
  t.is(s['master/messages_executor_to_framework'], 1);
  t.is(s['master/valid_executor_to_framework_messages'], 1);
  t.is(s['master/invalid_executor_to_framework_messages'], 0);
  t.is(s['master/messages_framework_to_executor'], 2);
  t.is(s['master/valid_framework_to_executor_messages'], 1);
  t.is(s['master/invalid_framework_to_executor_messages'], 1);
});

test.serial('master metrics - agents: registrations, disconnected and inactive, removal as unhealthy with its tasks lost', async (t) => {
  const { cluster, agent, driver, scheduler, offer } = await offered(t);
  driver.launchTasks(offer.id, [task(offer, 't1')]);
  await cluster.settle();
  agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
  await scheduler.next('statusUpdate');
  let s = snapshot(cluster);
  t.is(s['master/messages_register_slave'], 1);
  t.is(s['master/slave_registrations'], 1);
  t.is(s['master/slaves_active'], 1);
  t.is(s['master/slaves_inactive'], 0);
  t.is(s['master/slaves_disconnected'], 0);

  // The agent's process goes away: disconnected and inactive, not removed yet.
  const pings = dropMessages('PingSlaveMessage');
  agent.runtime.terminate(agent.self);
  await cluster.settle();
  s = snapshot(cluster);
  t.is(s['master/slaves_connected'], 0);
  t.is(s['master/slaves_disconnected'], 1);
  t.is(s['master/slaves_active'], 0);
  t.is(s['master/slaves_inactive'], 1);
  t.is(s['master/cpus_total'], 2, 'a disconnected agent is still registered');

  // The ping out when it went was answered: MAX_AGENT_PING_TIMEOUTS more go unanswered.
  for (let i = 0; i <= MAX_AGENT_PING_TIMEOUTS; i++) {
    cluster.clock.advance(AGENT_PING_TIMEOUT_MS);
    await cluster.settle();
  }
  pings.stop();
  s = snapshot(cluster);
  t.is(s['master/slave_removals'], 1);
  t.is(s['master/slave_removals/reason_unhealthy'], 1);
  t.is(s['master/slave_removals/reason_unregistered'], 0);
  t.is(s['master/tasks_lost'], 1);
  t.is(s['master/tasks_running'], 0);
  t.is(s['master/slaves_disconnected'], 0);
  t.is(s['master/cpus_total'], 0);
});

test.serial('master metrics - frameworks_inactive, messages_unregister_framework and the tasks killed by a teardown', async (t) => {
  const { cluster, agent, driver, scheduler, offer } = await offered(t);
  driver.launchTasks(offer.id, [task(offer, 't1')]);
  await cluster.settle();
  agent.update(runFor(agent, 't1'), 'TASK_RUNNING');
  await scheduler.next('statusUpdate');
  t.is(snapshot(cluster)['master/frameworks_inactive'], 0);
  await driver.stop();
  await cluster.settle();
  const s = snapshot(cluster);
  t.is(s['master/messages_unregister_framework'], 1);
  t.is(s['master/tasks_killed'], 1);
  t.is(s['master/frameworks_active'], 0);
});

test.serial('master metrics - frameworks_inactive counts a framework whose scheduler went away', async (t) => {
  const { cluster, driver } = await offered(t, { failover_timeout: 60 });
  t.is(snapshot(cluster)['master/frameworks_inactive'], 0);
  const pid = driver.pid!;
  cluster.world.runtimes.find((r) => r.node === pid.node)!.terminate(pid);
  await cluster.settle();
  const s = snapshot(cluster);
  t.is(s['master/frameworks_disconnected'], 1);
  t.is(s['master/frameworks_inactive'], 1);
});

test.serial('master metrics - a call the master drops counts in dropped_messages', async (t) => {
  const cluster = await startTestCluster(t, bus);
  const stranger = new Probe('stranger', []);
  cluster.runtime.spawn(stranger);
  stranger.send(cluster.master.self, SCHEDULER_CALL, { type: 'DECLINE', framework_id: { value: 'unknown' }, decline: { offer_ids: [] } });
  stranger.send(cluster.master.self, SCHEDULER_CALL, { type: 'NOT_A_CALL' });
  await cluster.settle();
  t.is(snapshot(cluster)['master/dropped_messages'], 2);
});

test.serial('master metrics - /metrics/snapshot serves them', async (t) => {
  const cluster = await startTestCluster(t, bus, { http: { port: 0 } });
  await cluster.addAgent('cpus:3;mem:64');
  const port = cluster.runtime.httpAddress!.port;
  const body = (await http(port, 'GET', '/metrics/snapshot')).json();
  t.is(body['master/cpus_total'], 3);
  t.is(body['master/slaves_inactive'], 0);
  t.is(body['master/slave_registrations'], 1);
});

test.before(async () => {
  await bus.start();
});
