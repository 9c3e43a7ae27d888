import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { state } from '../../actors/agent/http.ts';
import { resourcesInfoFile } from '../../actors/agent/resources-checkpoint.ts';
import { CHECKPOINT_RESOURCES, REGISTER_SLAVE, type RegisterSlave } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { register, reregistration, spawnAgent, startAgent, type Harness } from './harness.ts';
import { DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS } from '../../actors/agent/constants.ts';

/**
 * The agent's side of dynamic reservations (Mesos's `Slave::checkpointResources` and its recovery
 * of `meta/resources/resources.info`): it checkpoints what its master sends, shows it in its
 * total, reports it when it (re-)registers, also after a restart, and refuses to start when its
 * `--resources` cannot hold it. The master is a `Probe` on another node, so that its bodies are
 * checked as any from the bus.
 */
resetFiltersAfterEach(test);

const RESOURCES = 'cpus:4;mem:1024';
const reserved = Resources.parse('cpus(reservations: [(DYNAMIC,web,ops)]):2;mem(reservations: [(DYNAMIC,web,ops)]):256');

function checkpoint(h: Harness, resources: unknown): void {
  h.master.send(h.agent.self, CHECKPOINT_RESOURCES, { resources });
}

const onDisk = (h: Harness) => Resources.fromJSON(JSON.parse(readFileSync(resourcesInfoFile(h.workDir), 'utf8')));

test.serial('agent reservations - CheckpointResourcesMessage: written to meta/resources/resources.info, shown by /state as its total', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  checkpoint(h, reserved.toJSON());
  await h.settle();
  t.is(resourcesInfoFile(h.workDir), join(h.workDir, 'meta', 'resources', 'resources.info'));
  t.true(onDisk(h).equals(reserved));
  t.true(h.agent.totalResources.equals(Resources.parse('cpus:2;mem:768').plus(reserved)));
  const s = state(h.agent) as Record<string, any>;
  t.deepEqual(s.resources, { cpus: 4, mem: 1024, disk: 0, gpus: 0 });
  t.deepEqual(s.reserved_resources, { web: { cpus: 2, mem: 256, disk: 0, gpus: 0 } });
  t.deepEqual(s.unreserved_resources, { cpus: 2, mem: 768, disk: 0, gpus: 0 });
  t.true(Resources.fromJSON(s.reserved_resources_full.web).equals(reserved));

  // The master unreserves everything: nothing is checkpointed any more.
  checkpoint(h, []);
  await h.settle();
  t.true(onDisk(h).isEmpty());
  t.true(h.agent.totalResources.equals(Resources.parse(RESOURCES)));
});

test.serial('agent reservations - the checkpoint survives a restart: the agent re-registers with it and its total holds it', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  checkpoint(h, reserved.toJSON());
  await h.settle();

  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  h.agent = spawnAgent(h);
  const body = await reregistration(h);
  t.true(Resources.fromJSON(body.checkpointed_resources).equals(reserved), 'checkpointed_resources');
  t.true(Resources.fromJSON(body.slave.resources).equals(Resources.parse(RESOURCES)), 'its info keeps its --resources');
  t.true(h.agent.totalResources.equals(Resources.parse('cpus:2;mem:768').plus(reserved)));
  t.deepEqual((state(h.agent) as Record<string, any>).reserved_resources, { web: { cpus: 2, mem: 256, disk: 0, gpus: 0 } });
});

test.serial('agent reservations - a bad CheckpointResourcesMessage is dropped with a warning; the agent keeps running and heeds the next', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  const invalid = () => h.agentRuntime.metrics.snapshot()['runtime/messages_invalid'] ?? 0;
  const before = invalid();
  checkpoint(h, 'nope');
  checkpoint(h, [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: '*' }] }]);
  checkpoint(h, Resources.parse('cpus(reservations: [(DYNAMIC,web)]):8').toJSON());
  checkpoint(h, Resources.parse('cpus:1').toJSON());
  h.master.send(h.agent.self, CHECKPOINT_RESOURCES, null);
  await h.settle();
  t.is(invalid(), before + 2, 'the bodies that are no CheckpointResourcesMessage were dropped by the runtime');
  t.is(h.agent.state, 'RUNNING');
  t.false(existsSync(resourcesInfoFile(h.workDir)), 'nothing was written');
  t.true(h.agent.totalResources.equals(Resources.parse(RESOURCES)));

  checkpoint(h, reserved.toJSON());
  await h.settle();
  t.true(onDisk(h).equals(reserved));
});

/** An agent that never registered, terminated, and `resources.info` written with `text` for its next run. */
async function stoppedWith(t: Parameters<typeof startAgent>[0], text: string, options: Record<string, unknown>): Promise<Harness> {
  const h = await startAgent(t, options);
  await h.settle();
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  mkdirSync(dirname(resourcesInfoFile(h.workDir)), { recursive: true });
  writeFileSync(resourcesInfoFile(h.workDir), text);
  return h;
}

test.serial('agent reservations - a new agent registers with the reservations its work directory holds', async (t) => {
  const h = await stoppedWith(t, JSON.stringify(reserved.toJSON()), { resources: RESOURCES });
  h.agent = spawnAgent(h);
  const registering = futureMessage(REGISTER_SLAVE, h.agent.self, h.master.self);
  await h.settle();
  h.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  const body = (await registering).body as RegisterSlave;
  t.true(Resources.fromJSON(body.checkpointed_resources).equals(reserved));
  t.true(h.agent.totalResources.reserved('web').equals(reserved));
});

test.serial('agent reservations - a checkpoint its --resources cannot hold stops the recovery, whatever --strict says', async (t) => {
  let failure: Error | undefined;
  const h = await stoppedWith(t, JSON.stringify(reserved.toJSON()), { resources: 'cpus:1;mem:1024', strict: false, onFailure: (error: Error) => (failure = error) });
  h.agent = spawnAgent(h);
  await h.settle();
  t.regex(failure?.message ?? '', /^Checkpointed resources '.*' are incompatible with agent resources 'cpus:1;mem:1024': Incompatible agent resources: 'cpus:1;mem:1024' does not contain 'cpus:2'$/);
  t.is(failure?.name, 'IncompatibleCheckpointedResourcesError');
  t.is(h.agentRuntime.process(h.agent.id), undefined, 'the agent terminated');
});

test.serial('agent reservations - a checkpoint that cannot be read fails the recovery with --strict; without, the agent goes on without it', async (t) => {
  let failure: Error | undefined;
  const h = await stoppedWith(t, '[{"name": "cpus"', { resources: RESOURCES, onFailure: (error: Error) => (failure = error) });
  h.agent = spawnAgent(h);
  await h.settle();
  t.regex(failure?.message ?? '', /^checkpoint '.*resources\.info' is not valid JSON/);
  t.is(h.agentRuntime.process(h.agent.id), undefined);

  Object.assign(h.options, { strict: false });
  failure = undefined;
  h.agent = spawnAgent(h);
  await register(h);
  t.is(failure, undefined);
  t.true(h.agent.totalResources.equals(Resources.parse(RESOURCES)));
});
