import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { startMasterNode } from '../../actors/cluster/master-node.ts';
import { NatsMasterDetector } from '../../actors/detector/detector.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { findNatsServer } from '../helpers/nats-server.ts';
import { ROOT, StoppableNats } from './processes.ts';

/**
 * The top-level `nats.conf` is what the README tells people to run: it must be valid as it is
 * and with its commented cluster and accounts blocks turned on, it must serve a cluster, and the
 * permissions it suggests must let agents and frameworks discover the master.
 */

const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
const CONF = join(ROOT, 'nats.conf');

/**
 * The config with some commented settings turned on: each line that starts with `# <start>` for
 * one of `starts`, and, when it opens a block (`# cluster {`), every line down to its closing
 * `# }` at the start of a line.
 */
function uncomment(text: string, starts: string[]): string {
  let inBlock = false;
  return text
    .split('\n')
    .map((line) => {
      const opens = starts.some((start) => line.startsWith(`# ${start}`));
      if (!opens && !inBlock) return line;
      if (opens && line.trimEnd().endsWith('{')) inBlock = true;
      else if (inBlock && line === '# }') inBlock = false;
      return line.replace(/^# ?/, '');
    })
    .join('\n');
}

function check(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(findNatsServer(), ['-c', file, '-t'], (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: stdout + stderr }));
  });
}

test('nats.conf - valid as shipped, and with its cluster and accounts blocks turned on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-nats-conf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(CONF, 'utf8');
  const shipped = await check(CONF);
  t.is(shipped.code, 0, shipped.output);
  const variant = join(dir, 'all-blocks.conf');
  const turnedOn = uncomment(text, ['cluster {', 'accounts {', 'system_account']);
  t.regex(turnedOn, /^cluster \{$/m);
  t.regex(turnedOn, /^accounts \{$/m);
  writeFileSync(variant, turnedOn);
  const all = await check(variant);
  t.is(all.code, 0, all.output);
});

test('nats.conf - serves a cluster: a master announces itself, a client discovers it', async (t) => {
  const nats = await StoppableNats.fromConfig(CONF);
  t.teardown(() => nats.stop());
  const master = await startMasterNode({ transport: new NatsTransport({ servers: nats.url, logger }), node: 'conf-master', logger, port: 0 });
  t.teardown(() => master.stop());
  const client = new NatsTransport({ servers: nats.url, logger });
  const runtime = await Runtime.start({ transport: client, logger, node: 'conf-client' });
  t.teardown(() => runtime.shutdown());
  t.deepEqual(await new NatsMasterDetector(client).detect(), master.master.self);
});

test('nats.conf - with its accounts block, the master is elected and agents and frameworks discover it under their permissions', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-nats-conf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'auth.conf');
  writeFileSync(file, uncomment(readFileSync(CONF, 'utf8'), ['accounts {', 'system_account']));
  const nats = await StoppableNats.fromConfig(file);
  t.teardown(() => nats.stop());
  const as = (user: string): string => `nats://${user}:change-me@127.0.0.1:${nats.port}`;
  // Contending for the lead, as `mesos-ts master --nats` does: the master user may use JetStream.
  const master = await startMasterNode({ transport: new NatsTransport({ servers: as('master'), logger }), node: 'auth-master', logger, port: 0, leaderLeaseMs: 1_000 });
  t.teardown(() => master.stop());
  for (const user of ['agent', 'framework']) {
    const client = new NatsTransport({ servers: as(user), logger });
    const runtime = await Runtime.start({ transport: client, logger, node: `auth-${user}` });
    t.teardown(() => runtime.shutdown());
    t.deepEqual(await new NatsMasterDetector(client).detect(), master.master.self, user);
  }
  // Without credentials the server turns the connection away.
  await t.throwsAsync(Runtime.start({ transport: new NatsTransport({ servers: nats.url, logger }), logger, node: 'auth-nobody' }));
});
