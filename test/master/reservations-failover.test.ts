import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Agent } from '../../actors/agent/agent.ts';
import { DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS } from '../../actors/agent/constants.ts';
import { resourcesInfoFile } from '../../actors/agent/resources-checkpoint.ts';
import { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { stateJSON } from '../../actors/master/http.ts';
import { Master } from '../../actors/master/master-process.ts';
import { InMemoryRegistry } from '../../actors/master/registry.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { REGISTER_SLAVE, REREGISTER_SLAVE, type ReregisterSlave } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { localWorld } from '../helpers/runtime.ts';
import { TestScheduler } from '../helpers/scheduler.ts';

/**
 * Dynamic reservations end to end, with the real master, allocator, agent and scheduler driver
 * on the paused Clock: a framework reserves; the agent checkpoints the reservation, keeps it
 * across its restart, and a new master (after a failover, sharing the registry) learns it from
 * the agent's re-registration and offers it to the role alone.
 */
resetFiltersAfterEach(test);

const reserved = Resources.parse('cpus(reservations: [(DYNAMIC,web)]):2;mem(reservations: [(DYNAMIC,web)]):256');

test.serial('reservations - the agent keeps a reservation across its restart, and a new master learns it from its re-registration', async (t) => {
  const world = await localWorld(['rf-master', 'rf-agent', 'rf-framework'], { linkTimeoutMs: Number.MAX_SAFE_INTEGER });
  const [masterRuntime, agentRuntime, frameworkRuntime] = world.runtimes as [Runtime, Runtime, Runtime];
  world.clock.pause();
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-reservations-'));
  const drivers: SchedulerDriver[] = [];
  t.teardown(async () => {
    for (const d of drivers) await d.abort();
    await world.shutdown();
    rmSync(workDir, { recursive: true, force: true });
  });
  const settle = async () => {
    for (const r of world.runtimes) await r.settle();
  };
  const registry = new InMemoryRegistry();
  const startMaster = () => {
    masterRuntime.spawn(new AllocatorProcess({ master: `master@${masterRuntime.node}` }));
    const master = new Master({ registry });
    masterRuntime.spawn(master);
    return master;
  };
  const startAgent = () =>
    Agent.start(agentRuntime, { master: `master@${masterRuntime.node}`, workDir, hostname: 'rf-agent', resources: 'cpus:4;mem:1024', diskUsage: () => Promise.resolve(0), random: () => 0.5 });
  const framework = async (info: Partial<FrameworkInfo>) => {
    const scheduler = new TestScheduler();
    const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'rf', ...info }, `master@${masterRuntime.node}`, { runtime: frameworkRuntime, random: () => 0 });
    drivers.push(driver);
    const offers = scheduler.next('resourceOffers');
    await driver.start();
    await settle();
    const [[offer]] = await offers;
    return { driver, scheduler, offer: offer! };
  };

  let master = startMaster();
  let agent = startAgent();
  const registering = futureMessage(REGISTER_SLAVE);
  await settle();
  world.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  await registering;
  await settle();
  t.is(agent.state, 'RUNNING');
  const agentId = agent.agentId!;

  const web = await framework({ role: 'web' });
  web.driver.acceptOffers([web.offer.id], [{ type: 'RESERVE', reserve: { resources: reserved.toJSON() } }], { refuse_seconds: 1000 });
  await settle();
  t.true(existsSync(resourcesInfoFile(workDir)), 'the agent checkpointed it');
  t.true(agent.totalResources.reserved('web').equals(reserved));
  t.true(master.agents.get(agentId)!.total.reserved('web').equals(reserved));
  await web.driver.abort();

  // The agent restarts: it recovers the reservation and re-registers with it.
  agentRuntime.terminate(agent.self);
  await settle();
  agent = startAgent();
  const back = futureMessage(REREGISTER_SLAVE);
  await settle();
  world.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  t.true(Resources.fromJSON(((await back).body as ReregisterSlave).checkpointed_resources).equals(reserved));
  await settle();
  t.is(agent.state, 'RUNNING');
  t.true(agent.totalResources.reserved('web').equals(reserved));

  // The master fails over: the new one knows the agent from the registry, not its reservation.
  masterRuntime.terminate(master.self);
  masterRuntime.terminate(`allocator@${masterRuntime.node}`);
  await settle();
  master = startMaster();
  const reregistering = futureMessage(REREGISTER_SLAVE, undefined, master.self);
  await settle();
  world.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  await reregistering;
  await settle();
  const books = master.agents.get(agentId);
  t.truthy(books, 'the agent re-registered with the new master');
  t.true(books!.total.equals(Resources.parse('cpus:2;mem:768').plus(reserved)), String(books?.total));
  t.deepEqual(stateJSON(master).slaves[0]!.reserved_resources, { web: { cpus: 2, mem: 256, disk: 0, gpus: 0 } });

  const batch = await framework({ role: 'batch' });
  t.true(Resources.fromJSON(batch.offer.resources).equals(Resources.parse('cpus:2;mem:768')), 'another role is not offered the reservation');
  const again = await framework({ role: 'web' });
  t.true(Resources.fromJSON(again.offer.resources).equals(reserved), 'its role is');
});
