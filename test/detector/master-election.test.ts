import { Kvm } from '@nats-io/kv';
import test from 'ava';
import { startMasterNode, type MasterNode } from '../../actors/cluster/master-node.ts';
import { LEADER_KEY } from '../../actors/detector/constants.ts';
import { leaderBucket } from '../../actors/detector/contender.ts';
import { NatsMasterDetector } from '../../actors/detector/detector.ts';
import { REGISTER_SLAVE } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { natsServerPerFile, startNatsServer } from '../helpers/nats-server.ts';
import { Probe } from '../helpers/runtime.ts';
import { candidate, LogLines, within } from './election.ts';

/**
 * Masters that contend (`startMasterNode` with `leaderLeaseMs`, what `mesos-ts master --nats`
 * runs) in one OS process, on a real nats-server: one leads and answers discovery; the other
 * stands by, drops messages and redirects HTTP to the leader; it takes over when the leader
 * stops; a leader that loses its key says so through `onLostLeadership` and stops answering.
 */

const LEASE_MS = 1_000;
const nats = natsServerPerFile(test);
let prefixes = 0;


interface Masters {
  readonly prefix: string;
  readonly log: LogLines;
  readonly lost: string[];
  start(name: string): Promise<MasterNode>;
  transport(): NatsTransport;
}

function masters(t: { teardown(fn: () => unknown): void }): Masters {
  const prefix = `elect${++prefixes}`;
  const log = new LogLines('debug');
  const lost: string[] = [];
  const transport = (): NatsTransport => new NatsTransport({ servers: nats().url, prefix, logger: log.logger });
  return {
    prefix,
    log,
    lost,
    transport,
    async start(name) {
      const node = await startMasterNode({ transport: transport(), node: `${prefix}-${name}`, logger: log.logger, port: 0, leaderLeaseMs: LEASE_MS, onLostLeadership: (reason) => lost.push(reason) });
      t.teardown(() => node.stop());
      return node;
    },
  };
}

/** Waits for `node`'s master to log `msg`. */
function logged(m: Masters, node: MasterNode, msg: RegExp, from = 0): Promise<Record<string, unknown>> {
  return m.log.waitFor(msg, { pid: String(node.master.self) }, { from });
}

async function client(t: { teardown(fn: () => unknown): void }, m: Masters, name: string): Promise<{ runtime: Runtime; detector: NatsMasterDetector }> {
  const transport = m.transport();
  const runtime = await Runtime.start({ transport, logger: m.log.logger, node: `${m.prefix}-${name}` });
  t.teardown(() => runtime.shutdown());
  return { runtime, detector: new NatsMasterDetector(transport, { retryInitialMs: 20, retryMaxMs: 100 }) };
}

test.serial('master election - one master leads and answers discovery; the standby drops messages, redirects HTTP to the leader, and takes over when the leader stops', async (t) => {
  const m = masters(t);
  const a = await m.start('a');
  await logged(m, a, /^Elected as the leading master$/);
  t.is(a.master.state, 'LEADING');
  t.true(a.master.electedTime > 0);
  const b = await m.start('b');
  const following = await logged(m, b, /^Following the leading master$/);
  t.is(following.leader, String(a.master.self));
  t.is(b.master.state, 'STANDBY');
  t.is(b.master.electedTime, 0);

  // Discovery finds the leader only.
  const { runtime, detector } = await client(t, m, 'client');
  // The leader answers discovery once its subscription is in place, just after it logs its election.
  t.is(String(await detector.detect()), String(a.master.self));

  // The standby's HTTP: state endpoints redirect to the leader; /health answers.
  const state = await fetch(`${b.url}/master/state?jsonp=f`, { redirect: 'manual' });
  t.is(state.status, 307);
  t.is(state.headers.get('location'), `//${new URL(a.url).host}/master/state?jsonp=f`);
  t.is((await fetch(`${b.url}/health`)).status, 200);
  // Its web UI page goes to the leader's (the page could not read another origin's state).
  const page = await fetch(`${b.url}/`, { redirect: 'manual' });
  t.is(page.status, 307);
  t.is(page.headers.get('location'), `//${new URL(a.url).host}/`);
  t.is((await fetch(`${a.url}/`)).status, 200);
  t.is((await fetch(`${a.url}/master/state`)).status, 200);

  // A stale agent's registration reaches the standby: dropped, not answered.
  const agent = new Probe('slave(1)', ['SlaveRegisteredMessage']);
  runtime.spawn(agent);
  const from = m.log.lines.length;
  agent.send(b.master.self, REGISTER_SLAVE, { slave: { hostname: 'stale', resources: Resources.parse('cpus:1;mem:64').toJSON() }, version: 'test' });
  const dropped = await logged(m, b, /^Dropping message since not elected yet$/, from);
  t.is(dropped.name, REGISTER_SLAVE);
  t.is(b.master.agents.size, 0, 'the standby admitted no agent');
  t.deepEqual(agent.bodies('SlaveRegisteredMessage'), []);
  t.is(b.runtime.metrics.snapshot()['master/dropped_messages'], 1);
  t.true(m.log.lines.slice(from).every((l) => l.msg !== 'Registered agent'));

  // The leader stops cleanly: it gives the lead up, and the standby takes over well within the lease.
  const stoppedAt = Date.now();
  await a.stop();
  await logged(m, b, /^Elected as the leading master$/);
  t.log(`standby elected ${Date.now() - stoppedAt} ms after the leader stopped`);
  t.is(b.master.state, 'LEADING');
  t.is((await within(detector.detect(), 5_000, 'detection of the new leader')).toString(), String(b.master.self));
  t.is((await fetch(`${b.url}/master/state`)).status, 200);
  t.deepEqual(m.lost, [], 'a master that stops does not lose its lead: it gives it up');
});

test.serial('master election - a leader whose key another master took reports lost leadership through onLostLeadership and stops answering discovery', async (t) => {
  const m = masters(t);
  const a = await m.start('a');
  await logged(m, a, /^Elected as the leading master$/);
  const { detector } = await client(t, m, 'client');
  // The leader answers discovery once its subscription is in place, just after it logs its election.
  t.is(String(await detector.detect()), String(a.master.self));

  const kv = await new Kvm((a.runtime.transport as NatsTransport).connection!).open(leaderBucket(m.prefix));
  await kv.put(LEADER_KEY, JSON.stringify(candidate(`${m.prefix}-usurper`)));
  const line = await logged(m, a, /^Lost leadership$/);
  t.regex(line.reason as string, /another master holds the leader key/);
  t.deepEqual(m.lost, [line.reason]);
  t.is(a.master.state, 'ELECTING');
  await t.throwsAsync(detector.info(), { message: /no leading master answered/ });
  // Not elected, it redirects to nobody it knows.
  const state = await fetch(`${a.url}/master/state`, { redirect: 'manual' });
  t.is(state.status, 503);
});

test.serial('master election - on a bus without JetStream a master runs alone, as before election: it leads at once and answers discovery, and says why', async (t) => {
  const plain = await startNatsServer({ jetstream: false });
  t.teardown(() => plain.stop());
  const log = new LogLines('debug');
  const node = await startMasterNode({ transport: new NatsTransport({ servers: plain.url, prefix: 'nojs', logger: log.logger }), node: 'nojs-master', logger: log.logger, port: 0, leaderLeaseMs: LEASE_MS });
  t.teardown(() => node.stop());
  t.is(node.contender, undefined);
  await within(node.runtime.settle(), 5_000, 'the master starting');
  t.is(node.master.state, 'LEADING');
  t.true(log.lines.some((l) => /^JetStream is not enabled on the bus/.test(l.msg as string)));
  const transport = new NatsTransport({ servers: plain.url, prefix: 'nojs', logger: log.logger });
  const runtime = await Runtime.start({ transport, logger: log.logger, node: 'nojs-client' });
  t.teardown(() => runtime.shutdown());
  t.is((await new NatsMasterDetector(transport).info()).pid, String(node.master.self));
});
