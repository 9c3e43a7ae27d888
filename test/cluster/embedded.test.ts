import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { pino } from 'pino';
import { startEmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { http } from '../helpers/http.ts';
import { launchingOnce } from '../helpers/scheduler.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';

resetFiltersAfterEach(test);

/**
 * The embedded cluster `npm start` runs, end to end: real agents run a real command task, and
 * the operator endpoints answer in Mesos's shapes.
 */
test.serial('embedded cluster - a command task runs to TASK_FINISHED; operator endpoints in Mesos shapes', async (t) => {
  const registered = futureMessages(2, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({ agents: 2, port: 0, resources: 'cpus:2;mem:1024;ports:[31000-31009]', logger: pino({ level: 'error' }) });
  t.teardown(() => cluster.stop());
  const port = cluster.runtime.httpAddress!.port;
  await registered;
  const scheduler = launchingOnce((offer) => [
    {
      name: 'echo',
      task_id: { value: 'echo-1' },
      agent_id: offer.agent_id,
      resources: Resources.parse('cpus:1;mem:128').toJSON(),
      command: { value: 'echo "hello from $MESOS_EXECUTOR_ID" && test -n "$MESOS_SANDBOX"' },
    },
  ]);
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'embedded-test' }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  const states: string[] = [];
  for (;;) {
    const [status] = await scheduler.next('statusUpdate');
    states.push(status.state);
    if (status.state !== 'TASK_STARTING' && status.state !== 'TASK_RUNNING') break;
  }
  t.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);

  const state = (await http(port, 'GET', '/master/state')).json();
  t.is(state.version, '1.11.0');
  t.is(state.leader, String(cluster.master.self));
  t.is(state.activated_slaves, 2);
  t.is(state.slaves.length, 2);
  t.like(state.slaves[0].resources, { cpus: 2, mem: 1024, disk: 0, gpus: 0, ports: '[31000-31009]' });
  t.is(state.frameworks.length, 1);
  const framework = state.frameworks[0];
  t.like(framework, { name: 'embedded-test', user: 'test', active: true, connected: true, role: '*' });
  // The terminal update was acknowledged (implicitly, by the driver), so the task is completed.
  await cluster.runtime.settle();
  const after = (await http(port, 'GET', '/master/frameworks')).json();
  const completed = after.frameworks[0].completed_tasks;
  t.is(completed.length, 1);
  t.like(completed[0], { id: 'echo-1', name: 'echo', state: 'TASK_FINISHED' });
  t.like(completed[0].resources, { cpus: 1, mem: 128 });
  t.deepEqual(completed[0].statuses.map((s: { state: string }) => s.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);

  const tasks = (await http(port, 'GET', '/master/tasks?limit=10')).json();
  t.is(tasks.tasks.length, 1);
  t.is((await http(port, 'GET', '/master/tasks?limit=x')).status, 400);
  const slaves = (await http(port, 'GET', '/master/slaves')).json();
  t.is(slaves.slaves.length, 2);
  t.is((await http(port, 'GET', '/master/health')).status, 200);
  t.is((await http(port, 'GET', '/health')).status, 200);
  const version = (await http(port, 'GET', '/version')).json();
  t.is(version.version, '1.11.0');
  // The scheduler HTTP API is served at the top level through the master (the delegate).
  t.is((await http(port, 'GET', '/api/v1/scheduler')).status, 405);
  const metrics = (await http(port, 'GET', '/metrics/snapshot')).json();
  t.is(metrics['master/tasks_launched'], 1);
  t.is(metrics['master/elected'], 1);
  t.is(metrics['master/slaves_active'], 2);
  const agentState = (await http(port, 'GET', `/${encodeURIComponent(cluster.agents[0]!.id)}/state`));
  t.is(agentState.status, 200);
  t.truthy(agentState.json().id);

  // The command ran in its sandbox under the agent's work directory; its stdout is there.
  const stdout = readdirSync(cluster.workDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(`${sep}stdout`) && !f.includes(`${sep}latest${sep}`));
  t.is(stdout.length, 1);
  t.true(stdout[0]!.includes(`${sep}slaves${sep}${completed[0].slave_id}${sep}frameworks${sep}`));
  t.is(readFileSync(join(cluster.workDir, stdout[0]!), 'utf8'), 'hello from echo-1\n');
});

test.serial("embedded cluster - stopping it on its temporary work directory kills a checkpointing framework's executor too", async (t) => {
  const registered = futureMessages(1, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({ agents: 1, port: 0, logger: pino({ level: 'error' }) });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : cluster.stop()));
  await registered;
  const scheduler = launchingOnce((offer) => [
    { name: 'sleeper', task_id: { value: 'sleeper' }, agent_id: offer.agent_id, resources: Resources.parse('cpus:1;mem:128').toJSON(), command: { value: 'sleep 600' } },
  ]);
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'embedded-checkpoint', checkpoint: true }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  for (;;) {
    const [status] = await scheduler.next('statusUpdate');
    if (status.state === 'TASK_RUNNING') break;
  }
  // On a work directory a later run would recover, the task and its executor would outlive the
  // agent; no later run finds this one, so they go with the cluster (and the command executor
  // runs in the agent's runtime, as for a framework that does not checkpoint).
  const agent = cluster.agents[0]!;
  const executor = [...agent.frameworks.values()][0]!.executors.get('sleeper')!;
  t.not(executor.builtInPid, undefined);
  const container = agent.containerizer.get(executor.containerId)!;
  driver.abort();
  stopped = true;
  await cluster.stop();
  t.is((await container.exited).signal, 'SIGKILL');
});
