import { Master, type MasterOptions } from '../../actors/master/master-process.ts';
import { SchedulerDriver, type SchedulerDriverOptions } from '../../actors/scheduler/scheduler-driver.ts';
import type { HttpServerOptions } from '../../src/http/server.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import type { FrameworkInfo, Offer } from '../../src/mesos/v1/common.ts';
import { FakeAgent } from './fake-agent.ts';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { dropMessages, futureMessage } from './filters.ts';
import { AGENT_PING_TIMEOUT_MS, MAX_AGENT_PING_TIMEOUTS } from '../../actors/master/constants.ts';
import { TestScheduler } from './scheduler.ts';
import type { Bus, World } from './worlds.ts';
import { makeAllocator, type AllocatorChoice } from './allocator.ts';

/**
 * A cluster in one OS process, after Mesos's `tests/cluster.hpp`: a master and its allocator in
 * one runtime, each agent and each framework in a runtime of its own, all on one bus (`local`
 * or a real `nats-server`) and one Clock. Agents here are `FakeAgent`s for master tests; the
 * embedded cluster (`src/cluster`) runs real ones.
 */
export interface TestCluster {
  readonly world: World;
  readonly clock: World['clock'];
  readonly runtime: Runtime;
  readonly master: Master;
  addAgent(resources?: string, hostname?: string): Promise<FakeAgent>;
  startFramework(info?: Partial<FrameworkInfo>, options?: Partial<SchedulerDriverOptions>): Promise<{ driver: SchedulerDriver; scheduler: TestScheduler; frameworkId: string }>;
  settle(): Promise<void>;
}

export async function startTestCluster(
  t: { teardown(fn: () => unknown): void },
  bus: Bus,
  options: { master?: MasterOptions; allocator?: AllocatorChoice; paused?: boolean; http?: HttpServerOptions } = {},
): Promise<TestCluster> {
  const world = await bus.world(t, []);
  // With `http`, the master's runtime serves HTTP with the master as delegate (`/api/v1/scheduler`).
  const runtime = await world.add('master', options.http === undefined ? {} : { http: { delegate: options.master?.id ?? 'master', ...options.http } });
  if (options.paused ?? true) world.clock.pause();
  const master = new Master(options.master);
  runtime.spawn(makeAllocator(options.allocator, `master@${runtime.node}`));
  runtime.spawn(master);
  let agents = 0;
  let frameworks = 0;
  const drivers: SchedulerDriver[] = [];
  t.teardown(async () => {
    for (const d of drivers) await d.abort();
  });
  const cluster: TestCluster = {
    world,
    clock: world.clock,
    runtime,
    master,
    async addAgent(resources, hostname) {
      const n = ++agents;
      const rt = await world.add(`agent${n}`);
      const agent = new FakeAgent(`slave(${n})`, master.self, resources, hostname ?? `host${n}`);
      const registered = futureMessage('SlaveRegisteredMessage', master.self, agent.id);
      rt.spawn(agent);
      await registered;
      await cluster.settle();
      return agent;
    },
    async startFramework(info = {}, driverOptions = {}) {
      const n = ++frameworks;
      const rt = await world.add(`framework${n}`);
      const scheduler = new TestScheduler();
      const driver = new SchedulerDriver(scheduler, { user: 'test', name: `framework-${n}`, ...info }, master.self, { runtime: rt, random: () => 0, ...driverOptions });
      drivers.push(driver);
      // Given an id, the scheduler fails over to take its framework over: it hears `registered`
      // too, as in Mesos (`reregistered` is for a driver subscribing again after a disconnection).
      const registered = scheduler.next('registered');
      await driver.start();
      const [id] = await registered;
      await cluster.settle();
      return { driver, scheduler, frameworkId: id.value };
    },
    settle: () => runtime.settle(),
  };
  return cluster;
}

/**
 * `agent` answers no ping until the master marks it unreachable (its health checks fail), then
 * pings flow again. A ping already answered may be outstanding: one period more at most.
 */
export async function partitionAgent(cluster: TestCluster, agent: FakeAgent): Promise<void> {
  const pings = dropMessages('PingSlaveMessage');
  for (let i = 0; i <= MAX_AGENT_PING_TIMEOUTS && cluster.master.agents.has(agent.agentId!); i++) {
    cluster.clock.advance(AGENT_PING_TIMEOUT_MS);
    await cluster.settle();
  }
  pings.stop();
  if (!cluster.master.unreachableAgents.has(agent.agentId!)) throw new Error('the agent was not marked unreachable');
}

/**
 * Starts a framework and launches `taskId` (1 cpu, `sleep 1000`) on its first offer (of
 * `agent`, the only one with room), then reports it TASK_RUNNING from `agent`; the scheduler
 * has heard it and the offers it got are drained.
 */
export async function runningTask(cluster: TestCluster, agent: FakeAgent, info: Partial<FrameworkInfo>, taskId: string) {
  const { driver, scheduler, frameworkId } = await cluster.startFramework(info);
  let offers = scheduler.all('resourceOffers').flatMap(([o]) => o);
  if (offers.length === 0) {
    cluster.clock.advance(ALLOCATION_INTERVAL_MS);
    await cluster.settle();
    [offers] = await scheduler.next('resourceOffers');
  }
  scheduler.drain('resourceOffers');
  const offer = offers[0]!;
  driver.launchTasks(offer.id, [
    { name: taskId, task_id: { value: taskId }, agent_id: offer.agent_id, resources: Resources.parse('cpus:1;mem:128').toJSON(), command: { value: 'sleep 1000' } },
  ]);
  await cluster.settle();
  const run = agent.runTasks.find((r) => r.task.task_id.value === taskId)!;
  agent.update(run, 'TASK_RUNNING');
  const [status] = await scheduler.next('statusUpdate');
  if (status.state !== 'TASK_RUNNING') throw new Error(`${taskId} is ${status.state}`);
  await cluster.settle();
  return { driver, scheduler, frameworkId, run };
}

/** The scheduler's next offer, once the next batch allocation has run (the Clock advanced by its interval). */
export async function nextOffer(cluster: TestCluster, scheduler: TestScheduler): Promise<Offer> {
  const next = scheduler.next('resourceOffers');
  cluster.clock.advance(ALLOCATION_INTERVAL_MS);
  await cluster.settle();
  const [offers] = await next;
  return offers[0]!;
}
