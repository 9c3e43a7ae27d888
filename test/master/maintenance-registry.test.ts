import { Kvm } from '@nats-io/kv';
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Master } from '../../actors/master/master-process.ts';
import { getSchedule, getStatus } from '../../actors/master/maintenance.ts';
import { FileRegistry, InMemoryRegistry, NatsRegistry, NO_MAINTENANCE, RegistryFileError, type MaintenanceRecord } from '../../actors/master/registry.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { natsServerPerFile } from '../helpers/nats-server.ts';

/**
 * The maintenance schedule and machine modes in each of the three registries: in memory, in
 * `FileRegistry`'s file (`mesos-ts dev --work_dir`) and in the JetStream KV bucket
 * (`NatsRegistry`, a real nats-server on 127.0.0.1): what one writes, another instance reads
 * back, and a master elected on it starts with.
 */
const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
const nats = natsServerPerFile(test);

const SECOND = 1_000_000_000;
const window = { machine_ids: [{ hostname: 'host1', ip: '10.0.0.1' }, { hostname: 'host2' }], unavailability: { start: { nanoseconds: 1_000 * SECOND }, duration: { nanoseconds: 3_600 * SECOND } } };
const RECORD: MaintenanceRecord = {
  schedule: { windows: [window] },
  machines: [
    { id: { hostname: 'host1', ip: '10.0.0.1' }, mode: 'DOWN', unavailability: window.unavailability },
    { id: { hostname: 'host2' }, mode: 'DRAINING', unavailability: window.unavailability },
  ],
};

function tempFile(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-maintenance-registry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'master', 'registry.json');
}

test('maintenance registry - in memory and in a file: what one writes another recovers; a file without maintenance has none; one whose maintenance is not valid is an error naming the field', (t) => {
  const memory = new InMemoryRegistry();
  t.deepEqual(memory.recoverMaintenance(), NO_MAINTENANCE);
  memory.updateMaintenance(RECORD);
  t.deepEqual(memory.recoverMaintenance(), RECORD);

  const file = tempFile(t);
  const first = new FileRegistry(file);
  t.deepEqual(first.recoverMaintenance(), NO_MAINTENANCE);
  t.is(first.updateMaintenance(RECORD), undefined, 'on disk when the call returns');
  first.updateWeights([{ role: 'eng', weight: 2 }]);
  const second = new FileRegistry(file);
  t.deepEqual(second.recoverMaintenance(), RECORD, 'kept through the other writes');
  t.deepEqual(JSON.parse(readFileSync(file, 'utf8')).maintenance, RECORD);

  const old = tempFile(t);
  mkdirSync(join(old, '..'), { recursive: true });
  writeFileSync(old, JSON.stringify({ agents: [], weights: {}, quotas: {}, deactivatedAgents: [] }));
  t.deepEqual(new FileRegistry(old).recoverMaintenance(), NO_MAINTENANCE, 'a file from before maintenance');
  writeFileSync(old, JSON.stringify({ agents: [], weights: {}, quotas: {}, deactivatedAgents: [], maintenance: { schedule: {}, machines: [{ id: { hostname: 'h' }, mode: 'UP', unavailability: window.unavailability }] } }));
  t.throws(() => new FileRegistry(old), { instanceOf: RegistryFileError, message: /invalid registry file .*'machines\[0\]\.mode' must be one of DRAINING, DOWN, got 'UP'/ });
});

test('maintenance registry - NatsRegistry: written by one, read back by another under the maintenance key; an unreadable one is no maintenance; a master elected on it recovers the schedule and modes', async (t) => {
  const attach = async (node: string) => {
    const transport = new NatsTransport({ servers: nats().url, prefix: 'maint', logger });
    const runtime = await Runtime.start({ transport, logger, node });
    t.teardown(() => runtime.shutdown());
    return { transport, runtime };
  };
  const one = await attach('writer');
  const writer = new NatsRegistry(one.transport, { logger });
  t.deepEqual(await writer.recoverMaintenance(), NO_MAINTENANCE);
  await writer.updateMaintenance(RECORD);

  const two = await attach('reader');
  t.deepEqual(await new NatsRegistry(two.transport, { logger }).recoverMaintenance(), RECORD);
  t.deepEqual(await new NatsRegistry(two.transport, { logger }).recoverSettings(), { weights: [], quotas: [], deactivatedAgents: [], drainInfos: [] }, 'apart from the settings');

  const master = new Master({ registry: new NatsRegistry(two.transport, { logger }) });
  two.runtime.spawn(master);
  for (let i = 0; i < 100 && !master.leading; i++) await two.runtime.settle();
  t.true(master.leading);
  t.deepEqual(getSchedule(master), RECORD.schedule);
  t.deepEqual(getStatus(master), { draining_machines: [{ id: { hostname: 'host2' } }], down_machines: [{ hostname: 'host1', ip: '10.0.0.1' }] });

  const kv = await new Kvm(one.transport.connection!).open('maint_registry');
  await kv.put('maintenance', '{"schedule": {"windows": 3}, "machines": []}');
  t.deepEqual(await new NatsRegistry(two.transport, { logger }).recoverMaintenance(), NO_MAINTENANCE);
});
