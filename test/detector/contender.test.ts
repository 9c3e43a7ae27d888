import { Kvm } from '@nats-io/kv';
import test from 'ava';
import { pino } from 'pino';
import { leaderBucket, NatsMasterContender } from '../../actors/detector/contender.ts';
import { LEADER_KEY } from '../../actors/detector/constants.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { natsServerPerFile } from '../helpers/nats-server.ts';
import { candidate, ElectionEvents, LogLines, within } from './election.ts';

/**
 * `NatsMasterContender` on a real nats-server with JetStream: one bucket per test (its own bus
 * prefix), a lease of one second, two contenders each on a connection of its own.
 */

const LEASE_MS = 1_000;
const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
const nats = natsServerPerFile(test);
let prefixes = 0;


/** A transport on its own connection, attached through a runtime of its own. */
async function attached(t: { teardown(fn: () => unknown): void }, prefix: string, node: string): Promise<NatsTransport> {
  const transport = new NatsTransport({ servers: nats().url, prefix, logger });
  const runtime = await Runtime.start({ transport, logger, node });
  t.teardown(() => runtime.shutdown());
  return transport;
}

interface Contending {
  readonly node: string;
  readonly transport: NatsTransport;
  readonly contender: NatsMasterContender;
  readonly events: ElectionEvents;
}

async function contending(t: { teardown(fn: () => unknown): void }, prefix: string, node: string, log = logger): Promise<Contending> {
  const transport = await attached(t, prefix, node);
  const contender = new NatsMasterContender(transport, { leaseMs: LEASE_MS, logger: log });
  t.teardown(() => contender.resign());
  const events = new ElectionEvents();
  contender.contend(candidate(node), events.listener);
  return { node, transport, contender, events };
}

/** Two contenders on one bucket, the first elected; the second follows it. */
async function leaderAndStandby(t: { teardown(fn: () => unknown): void }): Promise<{ prefix: string; leader: Contending; standby: Contending }> {
  const prefix = `contend${++prefixes}`;
  const leader = await contending(t, prefix, `${prefix}-a`);
  const first = await leader.events.next('the first election event');
  if (first.type !== 'elected') throw new Error(`the only contender was not elected: ${JSON.stringify(first)}`);
  const standby = await contending(t, prefix, `${prefix}-b`);
  return { prefix, leader, standby };
}

test('contender - the bucket is named after the bus prefix, with only the characters bucket names allow', (t) => {
  t.is(leaderBucket('mesos'), 'mesos_leader');
  t.is(leaderBucket('prod.eu-1'), 'prod_eu-1_leader');
});

test('contender - of two contending at once on one bucket exactly one leads, and the other follows it', async (t) => {
  const prefix = `contend${++prefixes}`;
  const [a, b] = await Promise.all([contending(t, prefix, `${prefix}-a`), contending(t, prefix, `${prefix}-b`)]);
  const [ea, eb] = await Promise.all([a.events.next('the first event of a'), b.events.next('the first event of b')]);
  const types = [ea.type, eb.type].sort();
  t.deepEqual(types, ['elected', 'following']);
  const [leader, follower] = ea.type === 'elected' ? [a, eb] : [b, ea];
  t.deepEqual(follower, { type: 'following', leader: candidate(leader.node) }, "the standby knows the leader's LeaderInfo");
  t.true(leader.contender.leading);
  t.is(a.contender.leaseMs, LEASE_MS);
});

test('contender - the leader renews its lease while the standby follows; it resigns: its key is deleted and the standby leads at once, within the lease', async (t) => {
  const { prefix, leader, standby } = await leaderAndStandby(t);
  t.deepEqual(await standby.events.next('the standby following'), { type: 'following', leader: candidate(leader.node) });
  // The leader renews every lease/3: four writes of the key span more than a lease, and the standby still follows.
  const kv = await new Kvm(leader.transport.connection!).open(leaderBucket(prefix));
  const watch = await kv.watch({ key: LEADER_KEY });
  let writes = 0;
  for await (const entry of watch) {
    t.is(entry.operation, 'PUT');
    if (++writes === 4) break;
  }
  t.deepEqual(standby.events.all, [{ type: 'following', leader: candidate(leader.node) }]);
  const resignedAt = Date.now();
  await leader.contender.resign();
  t.false(leader.contender.leading);
  t.deepEqual(await standby.events.next('the election of the standby', LEASE_MS), { type: 'elected' });
  t.log(`standby elected ${Date.now() - resignedAt} ms after the leader resigned`);
  t.deepEqual(leader.events.all, [{ type: 'elected' }], 'a leader that resigns does not report lost leadership');
});

test('contender - a leader cut off the bus without resigning: the standby leads once the lease ran out, and the old leader reports lost leadership', async (t) => {
  const { leader, standby } = await leaderAndStandby(t);
  await standby.events.next('the standby following');
  const cutAt = Date.now();
  await leader.transport.abandon();
  const [lost, elected] = await Promise.all([leader.events.until('lost', LEASE_MS * 5), standby.events.until('elected', LEASE_MS * 5)]);
  const took = Date.now() - cutAt;
  t.regex((lost as { reason: string }).reason, /no renewal of the leader lease succeeded for 1000 ms/);
  t.is(elected.type, 'elected');
  // The key was last written at most lease/3 before the cut: it outlives the cut by 2/3 of a lease at least.
  t.true(took >= (LEASE_MS * 2) / 3 - 50, `the standby took over ${took} ms after the cut, before the lease ran out`);
  t.false(leader.contender.leading);
});

test('contender - a leader whose renewal is refused (another master holds the key) reports lost leadership at once', async (t) => {
  const { prefix, leader, standby } = await leaderAndStandby(t);
  await standby.events.next('the standby following');
  // What a leader that was cut off finds when it comes back: another master wrote the key.
  const kv = await new Kvm(leader.transport.connection!).open(leaderBucket(prefix));
  await kv.put(LEADER_KEY, JSON.stringify(candidate(`${prefix}-usurper`)));
  const lost = await leader.events.until('lost', LEASE_MS);
  t.regex((lost as { reason: string }).reason, /another master holds the leader key/);
  t.false(leader.contender.leading);
  // The standby follows whoever holds the key.
  t.deepEqual(await standby.events.until('following', LEASE_MS * 2), { type: 'following', leader: candidate(`${prefix}-usurper`) });
});

test('contender - a bucket that exists with another TTL is used with its TTL as the lease, and a warning names both', async (t) => {
  const prefix = `contend${++prefixes}`;
  const setup = await attached(t, prefix, `${prefix}-setup`);
  await new Kvm(setup.connection!).create(leaderBucket(prefix), { ttl: LEASE_MS * 3 });
  const log = new LogLines('warn');
  const a = await contending(t, prefix, `${prefix}-a`, log.logger);
  t.deepEqual(await a.events.next('the election'), { type: 'elected' });
  t.is(a.contender.leaseMs, LEASE_MS * 3);
  const warning = await log.waitFor(/exists with a TTL of 3000 ms, not the lease of 1000 ms/);
  t.is(warning.bucketTtlMs, 3000);
  t.is(warning.leaseMs, 1000);
  t.is(warning.bucket, leaderBucket(prefix));
});

test('contender - contending twice is refused', async (t) => {
  const prefix = `contend${++prefixes}`;
  const a = await contending(t, prefix, `${prefix}-a`);
  t.throws(() => a.contender.contend(candidate('other'), () => undefined), { message: /already contending/ });
  await within(a.events.next('the election'), 5_000, 'the election');
});
