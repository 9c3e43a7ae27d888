import test from 'ava';
import { join } from 'node:path';
import { Agent } from '../../actors/agent/agent.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { Offer } from '../../src/mesos/v1/common.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { TestScheduler } from '../helpers/scheduler.ts';
import { accept, acknowledge, decline, frameworkInfo, schedulerCall, startCluster, subscribeFramework } from './support.ts';

/**
 * Both kinds of framework on one cluster: an HTTP framework (raw `node:http`, the v1 scheduler
 * API) and a bus framework (the `SchedulerDriver` on the runtime's bus) get offers from the same
 * allocator under the same DRF rules, and count each other's usage.
 */
resetFiltersAfterEach(test);

const cpusOf = (offer: { resources?: unknown }) => Resources.fromJSON(offer.resources).cpus();

test.serial('mixed frameworks - an HTTP and a bus framework with equal weights end with equal shares of one agent', async (t) => {
  const cluster = await startCluster(t, { agents: 0 });
  const { port } = cluster;
  const running = { http: new Set<string>(), bus: new Set<string>() };
  let allRunning!: () => void;
  const four = new Promise<void>((resolve) => (allRunning = resolve));
  const check = (): void => {
    if (running.http.size + running.bus.size === 4) allRunning();
  };
  const offeredAgents = new Set<string>();

  // The bus framework: one task of 1 cpu per offer while an offer has a cpu; the rest goes back at once.
  const scheduler = new TestScheduler();
  let busTasks = 0;
  scheduler.on('resourceOffers', (driver, offers: Offer[]) => {
    for (const offer of offers) {
      offeredAgents.add(offer.agent_id.value);
      if (cpusOf(offer) < 1) {
        driver.declineOffer(offer.id, { refuse_seconds: 3600 });
        continue;
      }
      const id = `bus-${++busTasks}`;
      driver.launchTasks(offer.id, [{ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse('cpus:1;mem:64').toJSON(), command: { value: 'sleep 600' } }], { refuse_seconds: 0 });
    }
  });
  scheduler.on('statusUpdate', (_driver, status) => {
    if (status.state === 'TASK_RUNNING') running.bus.add(status.task_id.value);
    check();
  });
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'bus-framework' }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  const registered = scheduler.next('registered');
  await driver.start();
  const [busId] = await registered;

  // The HTTP framework, same policy, reading its event stream as it comes.
  const { stream, frameworkId: httpId } = await subscribeFramework(port, frameworkInfo({ name: 'http-framework' }));
  let httpTasks = 0;
  const httpLoop = (async () => {
    for (;;) {
      const event = await stream.next(undefined, 60_000);
      if (event.type === 'OFFERS') {
        for (const offer of event.offers.offers) {
          offeredAgents.add(offer.agent_id.value);
          if (cpusOf(offer) < 1) await schedulerCall(port, stream, decline(httpId, offer));
          else await schedulerCall(port, stream, accept(httpId, offer, [{ id: `http-${++httpTasks}`, command: 'sleep 600', cpus: 1, mem: 64 }]));
        }
      } else if (event.type === 'UPDATE') {
        const status = event.update.status;
        await schedulerCall(port, stream, acknowledge(httpId, status));
        if (status.state === 'TASK_RUNNING') running.http.add(status.task_id.value);
        check();
      }
    }
  })().catch(() => undefined); // The stream ends with the TEARDOWN below.

  // One agent joins once both frameworks are there: every offer is decided by DRF from the start.
  const agentRegistered = futureMessage('SlaveRegisteredMessage');
  const agent = Agent.start(cluster.runtime, {
    master: String(cluster.master.self),
    workDir: join(cluster.workDir, 'mixed-agent'),
    resources: 'cpus:4;mem:2048;disk:1024;ports:[31000-31099]',
    hostname: '127.0.0.1',
    registrationBackoffFactorMs: 10,
  });
  await agentRegistered;
  await four;

  t.is(running.http.size, 2, 'the HTTP framework holds half the cpus');
  t.is(running.bus.size, 2, 'the bus framework holds the other half');
  t.deepEqual([...offeredAgents], [agent.agentId], 'one allocator offered the one agent to both');

  const state = (await http(port, 'GET', '/master/state')).json();
  const byId = new Map<string, any>(state.frameworks.map((f: any) => [f.id, f]));
  t.deepEqual([...byId.keys()].sort(), [busId.value, httpId].sort(), '/master/state shows both');
  for (const id of [busId.value, httpId]) {
    const framework = byId.get(id);
    t.like(framework, { active: true, connected: true, role: '*' });
    t.is(framework.used_resources.cpus, 2);
    t.is(framework.used_resources.mem, 128);
    t.is(framework.tasks.filter((task: any) => task.state === 'TASK_RUNNING').length, 2);
  }
  t.is(state.slaves[0].used_resources.cpus, 4);

  t.is((await schedulerCall(port, stream, { framework_id: { value: httpId }, type: 'TEARDOWN' })).status, 202);
  await stream.ended;
  await httpLoop;
  await driver.stop();
});
