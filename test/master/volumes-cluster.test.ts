import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Agent } from '../../actors/agent/agent.ts';
import { DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS } from '../../actors/agent/constants.ts';
import { volumePath } from '../../actors/agent/volumes.ts';
import { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { Master } from '../../actors/master/master-process.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { REGISTER_SLAVE, REREGISTER_SLAVE } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { Offer, OfferOperation, TaskState, TaskStatus } from '../../src/mesos/v1/common.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { localWorld } from '../helpers/runtime.ts';
import { TestScheduler } from '../helpers/scheduler.ts';

/**
 * Persistent volumes end to end, with the real master, allocator, agent and scheduler driver on
 * the paused Clock, and tasks that are real processes: a framework reserves disk, makes a
 * volume of it and launches a task on it in one ACCEPT; the task writes into the volume; the
 * volume cannot be destroyed while a task uses it; its data outlives the tasks and a restart
 * of the agent, and a later task reads it; DESTROY then removes it from the agent's disk.
 */
resetFiltersAfterEach(test);

const RESERVED = Resources.parse('disk(reservations: [(DYNAMIC,web,ops)]):64');
const VOLUME = Resources.parse('disk(reservations: [(DYNAMIC,web,ops)])[store,ops:data]:64');

test.serial('volumes - RESERVE, CREATE and LAUNCH in one ACCEPT; the data a task writes outlives it, a busy volume, and an agent restart; DESTROY removes it', async (t) => {
  const world = await localWorld(['vc-master', 'vc-agent', 'vc-framework'], { linkTimeoutMs: Number.MAX_SAFE_INTEGER });
  const [masterRuntime, agentRuntime, frameworkRuntime] = world.runtimes as [Runtime, Runtime, Runtime];
  world.clock.pause();
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-volumes-'));
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'volumes', role: 'web', principal: 'ops' }, `master@${masterRuntime.node}`, { runtime: frameworkRuntime, random: () => 0 });
  let agent: Agent | undefined;
  t.teardown(async () => {
    await driver.abort();
    if (agent !== undefined) agent.killExecutorsOnExit = true;
    await world.shutdown();
    rmSync(workDir, { recursive: true, force: true });
  });
  const settle = async () => {
    for (const r of world.runtimes) await r.settle();
  };
  masterRuntime.spawn(new AllocatorProcess({ master: `master@${masterRuntime.node}` }));
  const master = new Master();
  masterRuntime.spawn(master);
  const startAgent = async (registration: string) => {
    const registering = futureMessage(registration);
    const started = Agent.start(agentRuntime, { master: `master@${masterRuntime.node}`, workDir, hostname: 'vc-agent', resources: 'cpus:2;mem:1024;disk:1024', diskUsage: () => Promise.resolve(0), random: () => 0.5 });
    await settle();
    world.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
    await registering;
    await settle();
    t.is(started.state, 'RUNNING');
    return started;
  };

  /** Declines what the framework holds, lets an allocation run, and returns the next offer. */
  const used = new Set<string>();
  const nextOffer = async (): Promise<Offer> => {
    for (const [offers] of scheduler.all('resourceOffers')) {
      for (const offer of offers) if (!used.has(offer.id.value)) driver.declineOffer(offer.id, { refuse_seconds: 0 });
      for (const offer of offers) used.add(offer.id.value);
    }
    scheduler.drain('resourceOffers');
    await settle();
    const next = scheduler.next('resourceOffers');
    world.clock.advance(ALLOCATION_INTERVAL_MS);
    await settle();
    const [[offer]] = await next;
    used.add(offer!.id.value);
    return offer!;
  };
  const accept = async (offer: Offer, operations: OfferOperation[]) => {
    driver.acceptOffers([offer.id], operations, { refuse_seconds: 0 });
    await settle();
  };
  const task = (offer: Offer, id: string, command: string): OfferOperation => ({
    type: 'LAUNCH',
    launch: { task_infos: [{ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.1;mem:32').plus(VOLUME).toJSON(), command: { value: command } }] },
  });
  const until = async (taskId: string, state: TaskState): Promise<TaskStatus> => {
    for (;;) {
      const [status] = await scheduler.next('statusUpdate');
      if (status.task_id.value !== taskId) continue;
      if (status.state === state) return status;
      if (status.state !== 'TASK_STARTING' && status.state !== 'TASK_RUNNING') throw new Error(`${taskId} is ${status.state}: ${status.message ?? ''}`);
    }
  };

  agent = await startAgent(REGISTER_SLAVE);
  await driver.start();
  await settle();
  const directory = volumePath(workDir, VOLUME.entries()[0]!);

  // One ACCEPT: reserve the disk, make a volume of it, run a task that writes into it.
  const first = await nextOffer();
  await accept(first, [{ type: 'RESERVE', reserve: { resources: RESERVED.toJSON() } }, { type: 'CREATE', create: { volumes: VOLUME.toJSON() } }, task(first, 'writer', 'echo persistent > data/file')]);
  t.true(existsSync(directory), `the agent made ${directory}`);
  await until('writer', 'TASK_FINISHED');
  t.is(readFileSync(join(directory, 'file'), 'utf8'), 'persistent\n');

  // A task holds the volume: it is not offered, and DESTROY is dropped.
  const again = await nextOffer();
  t.true(Resources.fromJSON(again.resources).contains(VOLUME), 'offered again once the writer ended');
  await accept(again, [task(again, 'holder', 'test -s data/file && exec sleep 1000')]);
  await until('holder', 'TASK_RUNNING');
  const busy = await nextOffer();
  t.false(Resources.fromJSON(busy.resources).contains(VOLUME));
  await accept(busy, [{ type: 'DESTROY', destroy: { volumes: VOLUME.toJSON() } }]);
  t.true(existsSync(join(directory, 'file')), 'not destroyed while in use');
  t.true(master.agents.get(agent.agentId!)!.checkpointed.contains(VOLUME));
  driver.killTask({ value: 'holder' });
  await until('holder', 'TASK_KILLED');

  // The agent restarts: the volume and its data are still there.
  agentRuntime.terminate(agent.self);
  await settle();
  agent = await startAgent(REREGISTER_SLAVE);
  t.true(agent.checkpointedResources.contains(VOLUME));
  const restarted = await nextOffer();
  t.true(Resources.fromJSON(restarted.resources).contains(VOLUME));
  await accept(restarted, [task(restarted, 'reader', 'test "$(cat data/file)" = persistent')]);
  await until('reader', 'TASK_FINISHED');

  // Nothing uses it any more: DESTROY removes it, the disk stays reserved.
  const last = await nextOffer();
  await accept(last, [{ type: 'DESTROY', destroy: { volumes: VOLUME.toJSON() } }]);
  t.false(existsSync(directory), 'the volume is gone from the disk');
  t.true(agent.checkpointedResources.equals(RESERVED), String(agent.checkpointedResources));
  const after = await nextOffer();
  t.true(Resources.fromJSON(after.resources).contains(RESERVED));
  t.true(Resources.fromJSON(after.resources).persistentVolumes().isEmpty());
});
