import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { Agent } from '../../actors/agent/agent.ts';
import { DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS } from '../../actors/agent/constants.ts';
import { REGISTRATION_BACKOFF_FACTOR_MS } from '../../actors/scheduler/constants.ts';
import { RUN_TASK, SCHEDULER_EVENT, SLAVE_REGISTERED } from '../../src/mesos/protocol.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { dropMessage, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { Bus } from '../helpers/worlds.ts';

/**
 * What a nats-server restart loses comes back. Core NATS drops what is published while a client
 * is away, and a restart within the link timeout ends no link, so before `linkInterrupted` an
 * OFFERS event or a RunTaskMessage lost with the server was lost for good: the offer stayed
 * outstanding, the task STAGING. Here each loss is made certain with a filter (the message is
 * dropped at its receiver, as if it had been published in the outage), then the real server
 * restarts: the driver subscribes again and is sent its outstanding offer again; the agent
 * re-registers without the task, the master asks it about the task, and the agent, which never
 * got it, reports it TASK_LOST (REASON_RECONCILIATION).
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);

test.before(async (t) => {
  t.context.bus = new Bus('nats');
  await t.context.bus.start();
});
test.after.always(async (t) => {
  await t.context.bus?.stop();
});

test.serial('nats-server restart - a lost OFFERS event is offered again, a lost RunTaskMessage ends TASK_LOST', async (t) => {
  const cluster = await startTestCluster(t, t.context.bus);
  const { driver, scheduler, frameworkId } = await cluster.startFramework({ failover_timeout: 60 });

  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-bus-restart-'));
  t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  const agentRuntime = await cluster.world.add('agent');
  const registered = futureMessage(SLAVE_REGISTERED, cluster.master.self);
  const lostOffers = dropMessage(SCHEDULER_EVENT, cluster.master.self);
  const agent = Agent.start(agentRuntime, { master: String(cluster.master.self), workDir, hostname: 'agent-1', resources: 'cpus:2;mem:1024', random: () => 1 });
  await cluster.settle();
  cluster.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  await registered;
  t.is(((await lostOffers).body as { type: string }).type, 'OFFERS');
  await cluster.settle();
  const [offerId] = [...cluster.master.offers.keys()];
  t.deepEqual(scheduler.all('resourceOffers'), []);

  /**
   * Restarts the server and returns once every runtime has reconnected, every link interruption
   * has reached its process, the driver has subscribed again and the agent re-registered.
   */
  const restartBus = async (): Promise<void> => {
    const transports = cluster.world.runtimes.map((r) => r.transport as NatsTransport);
    const reconnected = Promise.all(transports.map((tr) => tr.nextStatus('reconnect')));
    await t.context.bus.nats.restart();
    await reconnected;
    // Each runtime told its peers before its status listener returned; after a round trip to
    // the server on every connection and a settle of every runtime, every notice was handled.
    await Promise.all(transports.map((tr) => tr.flush()));
    await Promise.all(cluster.world.runtimes.map((r) => r.settle()));
    // The agent re-registers after its backoff; a SUBSCRIBE sent before the master was back is
    // retried after the driver's.
    cluster.clock.advance(REGISTRATION_BACKOFF_FACTOR_MS);
    await Promise.all(cluster.world.runtimes.map((r) => r.settle()));
    t.is(driver.connectionState, 'SUBSCRIBED');
    t.is(agent.state, 'RUNNING');
  };

  // 1. The server restarts: the driver subscribes again, and the master sends it the offer it
  //    never got; the scheduler gets it once, however many times the driver subscribed.
  await restartBus();
  t.deepEqual(scheduler.all('resourceOffers').flatMap(([offers]) => offers.map((o) => [o.id.value, o.agent_id.value])), [[offerId, agent.agentId!]]);
  t.true(scheduler.all('reregistered').length >= 1);
  t.deepEqual([...cluster.master.offers.keys()], [offerId]);
  t.deepEqual([...cluster.master.frameworks.keys()], [frameworkId]);
  const [[offer]] = scheduler.all('resourceOffers')[0]!;

  // 2. A task whose RunTaskMessage is lost, then the server restarts: the agent re-registers
  //    without it, the master asks it (ReconcileTasksMessage), and it reports the task lost.
  const lostRunTask = dropMessage(RUN_TASK, cluster.master.self, agent.self);
  driver.launchTasks(offer!.id, [{ name: 'never-run', task_id: { value: 'never-run' }, agent_id: offer!.agent_id, resources: offer!.resources, command: { value: 'true' } }]);
  await lostRunTask;
  await cluster.settle();
  t.is(cluster.master.frameworks.get(frameworkId)!.tasks.get('never-run')?.state, 'TASK_STAGING');
  await restartBus();
  const [status] = await scheduler.next('statusUpdate');
  t.is(status.task_id.value, 'never-run');
  t.is(status.state, 'TASK_LOST');
  t.is(status.reason, 'REASON_RECONCILIATION');
  t.is(status.source, 'SOURCE_AGENT');
  t.is(agent.agentId, offer!.agent_id.value, 're-registered under the same id');
  t.is(cluster.master.frameworks.get(frameworkId)!.tasks.size, 0);
});
