import { Kvm } from '@nats-io/kv';
import test from 'ava';
import { pino } from 'pino';
import { Master } from '../../actors/master/master-process.ts';
import { NatsRegistry, registryBucket, type RegistryAgent } from '../../actors/master/registry.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { FakeAgent } from '../helpers/fake-agent.ts';
import { futureMessage } from '../helpers/filters.ts';
import { natsServerPerFile } from '../helpers/nats-server.ts';
import { within } from './election.ts';

/**
 * The registry in JetStream KV (`NatsRegistry`) on a real nats-server: what one master writes
 * (admissions, unreachable and gone markings, removals) another reads back when it is elected,
 * as Mesos's registrar tests do with the replicated log.
 */

const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
const nats = natsServerPerFile(test);


async function attached(t: { teardown(fn: () => unknown): void }, prefix: string, node: string): Promise<{ runtime: Runtime; transport: NatsTransport }> {
  const transport = new NatsTransport({ servers: nats().url, prefix, logger });
  const runtime = await Runtime.start({ transport, logger, node });
  t.teardown(() => runtime.shutdown());
  return { runtime, transport };
}

function agent(id: string, state: RegistryAgent['state'], time = 1): RegistryAgent {
  return { info: { id: { value: id }, hostname: `host-${id}`, resources: Resources.parse('cpus:1;mem:64').toJSON() }, state, time };
}

test('registry - NatsRegistry: admitted, unreachable, gone and removed agents written by one are read back by another, from a bucket without TTL', async (t) => {
  const { transport: first } = await attached(t, 'reg-a', 'writer');
  const writer = new NatsRegistry(first, { logger });
  t.is(writer.bucket, 'reg-a_registry');
  t.is(registryBucket('prod.eu'), 'prod_eu_registry');
  t.deepEqual(await writer.recover(), []);
  await Promise.all([writer.update(agent('S0', 'admitted')), writer.update(agent('S1', 'admitted')), writer.update(agent('S2', 'gone')), writer.update(agent('S3', 'admitted'))]);
  await writer.update(agent('S1', 'unreachable', 2));
  await writer.remove('S3');

  const { transport: second } = await attached(t, 'reg-a', 'reader');
  const read = await new NatsRegistry(second, { logger }).recover();
  t.deepEqual(
    read.sort((a, b) => a.info.id.value.localeCompare(b.info.id.value)),
    [agent('S0', 'admitted'), agent('S1', 'unreachable', 2), agent('S2', 'gone')],
  );
  const status = await (await new Kvm(second.connection!).open('reg-a_registry')).status();
  t.is(status.ttl, 0, 'entries never expire');
});

test('registry - NatsRegistry: weights and deactivations written by one are read back by another, apart from the agents', async (t) => {
  const { transport: first } = await attached(t, 'reg-c', 'writer');
  const writer = new NatsRegistry(first, { logger });
  t.deepEqual(await writer.recoverSettings(), { weights: [], quotas: [], deactivatedAgents: [], drainInfos: [] });
  await writer.update(agent('S0', 'admitted'));
  // Two updates in flight at once: neither loses the other's roles.
  await Promise.all([writer.updateWeights([{ role: 'eng', weight: 2 }]), writer.updateWeights([{ role: 'ads', weight: 0.5 }])]);
  await writer.updateWeights([{ role: 'eng', weight: 3 }]);
  await Promise.all([writer.updateDeactivated('S0', true), writer.updateDeactivated('S1', true)]);
  await writer.updateDeactivated('S1', false);

  const { transport: second } = await attached(t, 'reg-c', 'reader');
  const reader = new NatsRegistry(second, { logger });
  const settings = await reader.recoverSettings();
  t.deepEqual(
    settings.weights.sort((a, b) => a.role.localeCompare(b.role)),
    [
      { role: 'ads', weight: 0.5 },
      { role: 'eng', weight: 3 },
    ],
  );
  t.deepEqual(settings.deactivatedAgents, ['S0']);
  t.deepEqual(await reader.recover(), [agent('S0', 'admitted')], 'the settings are not read as agents');
});

test('registry - NatsRegistry: drain infos written by one are read back by another, one key per agent, apart from the agents and deactivations; an unreadable one is skipped', async (t) => {
  const { transport: first } = await attached(t, 'reg-e', 'writer');
  const writer = new NatsRegistry(first, { logger });
  await writer.update(agent('S0', 'admitted'));
  const draining = { state: 'DRAINING', config: { max_grace_period: { nanoseconds: 1e9 }, mark_gone: true } } as const;
  await Promise.all([writer.updateDrain('S0', draining), writer.updateDrain('S1', { state: 'DRAINING', config: { mark_gone: false } }), writer.updateDrain('S2', { state: 'DRAINED', config: {} })]);
  await writer.updateDrain('S1', { state: 'DRAINED', config: { mark_gone: false } });
  await writer.updateDrain('S2', undefined);
  const kv = await new Kvm(first.connection!).open('reg-e_registry');
  await kv.put('drain.S3', '{"state": "DONE", "config": {}}');

  const { transport: second } = await attached(t, 'reg-e', 'reader');
  const reader = new NatsRegistry(second, { logger });
  const settings = await reader.recoverSettings();
  t.deepEqual(
    settings.drainInfos.sort((a, b) => a.agentId.localeCompare(b.agentId)),
    [
      { agentId: 'S0', drainInfo: draining },
      { agentId: 'S1', drainInfo: { state: 'DRAINED', config: { mark_gone: false } } },
    ],
  );
  t.deepEqual(settings.deactivatedAgents, [], 'a drain info is not a deactivation (the master writes both)');
  t.deepEqual(await reader.recover(), [agent('S0', 'admitted')], 'the drain infos are not read as agents');
});

test('registry - NatsRegistry: quotas (guarantees and limits) written by one are read back by another; neither removes a role, concurrent updates keep each other', async (t) => {
  const { transport: first } = await attached(t, 'reg-d', 'writer');
  const writer = new NatsRegistry(first, { logger });
  t.deepEqual((await writer.recoverSettings()).quotas, []);
  await writer.updateWeights([{ role: 'eng', weight: 2 }]);
  // Two updates in flight at once: neither loses the other's roles.
  await Promise.all([
    writer.updateQuotas([{ role: 'eng', guarantees: { cpus: 2, mem: 1024 } }]),
    writer.updateQuotas([
      { role: 'ads', guarantees: { cpus: 0.5 } },
      { role: 'ml', guarantees: { gpus: 1 } },
    ]),
  ]);
  await writer.updateQuotas([{ role: 'ml', guarantees: {} }]);
  await writer.updateQuotas([{ role: 'eng', guarantees: { cpus: 3 }, limits: { cpus: 4, gpus: 0 } }]);
  await writer.updateQuotas([{ role: 'web', guarantees: {}, limits: { mem: 512 } }]);

  const { transport: second } = await attached(t, 'reg-d', 'reader');
  const reader = new NatsRegistry(second, { logger });
  const settings = await reader.recoverSettings();
  t.deepEqual(
    settings.quotas.sort((a, b) => a.role.localeCompare(b.role)),
    [
      { role: 'ads', guarantees: { cpus: 0.5 }, limits: {} },
      { role: 'eng', guarantees: { cpus: 3 }, limits: { cpus: 4, gpus: 0 } },
      { role: 'web', guarantees: {}, limits: { mem: 512 } },
    ],
  );
  t.deepEqual(settings.weights, [{ role: 'eng', weight: 2 }], 'the weights are kept apart');
  t.deepEqual(await reader.recover(), [], 'the quotas are not read as agents');
});

test('registry - a master writes the agent it admits to NatsRegistry before answering; a second master elected on that bus recovers it (RECOVERING, recovered_slaves)', async (t) => {
  const { runtime: one, transport: oneTransport } = await attached(t, 'reg-b', 'master-one');
  const first = new Master({ registry: new NatsRegistry(oneTransport, { logger }) });
  one.spawn(first);
  await within(one.settle(), 10_000, 'registry read');
  t.is(first.state, 'LEADING', 'an empty registry: nothing to recover');

  const { runtime: agentRuntime } = await attached(t, 'reg-b', 'agent-one');
  const fake = new FakeAgent('slave(1)', first.self, 'cpus:2;mem:512', 'agent-host');
  const registered = futureMessage('SlaveRegisteredMessage', first.self, fake.id);
  agentRuntime.spawn(fake);
  await within(registered, 10_000, 'SlaveRegisteredMessage');
  const agentId = fake.agentId!;

  const { runtime: two, transport: twoTransport } = await attached(t, 'reg-b', 'master-two');
  const second = new Master({ registry: new NatsRegistry(twoTransport, { logger }) });
  two.spawn(second);
  await within(two.settle(), 10_000, 'registry read');
  t.is(second.state, 'RECOVERING');
  t.deepEqual([...second.recoveredAgents.keys()], [agentId]);
  t.is(second.recoveredAgents.get(agentId)?.hostname, 'agent-host');
});
