import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { startAgentNode } from '../../actors/cluster/agent-node.ts';
import { startMasterNode, type MasterNode } from '../../actors/cluster/master-node.ts';
import { parseMasterAddress } from '../../actors/detector/address.ts';
import { connectFramework } from '../../actors/detector/connect.ts';
import { NatsMasterDetector, StandaloneMasterDetector } from '../../actors/detector/detector.ts';
import { DetectionAbortedError, InvalidMasterAddressError } from '../../actors/detector/errors.ts';
import { SchedulerDriver, type Scheduler } from '../../actors/scheduler/scheduler-driver.ts';
import { SLAVE_REGISTERED, SLAVE_REREGISTERED } from '../../src/mesos/protocol.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { UPID } from '../../src/process/upid.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { natsServerPerFile } from '../helpers/nats-server.ts';

/**
 * Master discovery on a real nats-server, in one OS process: the leading master answers
 * `<prefix>.leader.info`; agents, drivers and `connectFramework` find it, wait for it, and
 * follow a master that restarted under another address. Each test has its own bus prefix.
 */

const logger = pino({ level: process.env.DEBUG_LEVEL ?? process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
const nats = natsServerPerFile(test);
let prefixes = 0;

resetFiltersAfterEach(test);

function bus(): { prefix: string; transport: () => NatsTransport } {
  const prefix = `detect${++prefixes}`;
  return { prefix, transport: () => new NatsTransport({ servers: nats().url, prefix, logger }) };
}

async function masterNode(t: { teardown(fn: () => unknown): void }, transport: NatsTransport, node: string): Promise<MasterNode> {
  const m = await startMasterNode({ transport, node, logger, port: 0, allocationIntervalMs: 50 });
  t.teardown(() => m.stop());
  return m;
}

/** Rejects if `promise` takes longer than `ms` (a bound, never a wait). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('master address - the three forms, and errors naming the value', (t) => {
  t.deepEqual(parseMasterAddress('master@m1'), { kind: 'upid', upid: new UPID('master', 'm1') });
  t.deepEqual(parseMasterAddress('nats://h1:4222, nats://h2:4222'), { kind: 'nats', servers: ['nats://h1:4222', 'nats://h2:4222'] });
  t.deepEqual(parseMasterAddress('http://10.0.0.1:5050/'), { kind: 'http', url: 'http://10.0.0.1:5050' });
  for (const bad of ['', 'ftp://h:1', 'nats://h:4222,http://x', 'master', 'master@']) {
    const error = t.throws(() => parseMasterAddress(bad), { instanceOf: InvalidMasterAddressError });
    t.true(error.message.includes(`'${bad}'`), error.message);
  }
});

test.serial('detector - the leading master answers on <prefix>.leader.info; a detector waits for one to start', async (t) => {
  const { prefix, transport } = bus();
  const client = transport();
  const runtime = await Runtime.start({ transport: client, logger, node: `${prefix}-client` });
  t.teardown(() => runtime.shutdown());
  const detector = new NatsMasterDetector(client, { retryInitialMs: 20, retryMaxMs: 100 });
  t.is(detector.subject, `${prefix}.leader.info`);
  await t.throwsAsync(detector.info(), { message: /no leading master answered/ });

  // Detection started before any master runs resolves once one does.
  const detecting = detector.detect();
  const m = await masterNode(t, transport(), `${prefix}-m1`);
  t.deepEqual(await within(detecting, 5_000, 'detection'), m.master.self);
  const info = await detector.info();
  t.is(info.pid, String(m.master.self));
  t.is(info.id, m.master.masterInfo.id);
  t.is(info.url, m.url);
  const state = (await detector.state()) as { pid: string };
  t.is(state.pid, String(m.master.self));
});

test.serial('detector - detection is abandoned when its signal aborts; a standalone detector names its master', async (t) => {
  const { prefix, transport } = bus();
  const client = transport();
  const runtime = await Runtime.start({ transport: client, logger, node: `${prefix}-client` });
  t.teardown(() => runtime.shutdown());
  const abort = new AbortController();
  const detecting = new NatsMasterDetector(client, { retryInitialMs: 20 }).detect(abort.signal);
  abort.abort();
  await t.throwsAsync(detecting, { instanceOf: DetectionAbortedError });
  t.deepEqual(await new StandaloneMasterDetector('master@m9').detect(), new UPID('master', 'm9'));
});

test.serial('detector - connectFramework and a SchedulerDriver given nats:// find the master and subscribe', async (t) => {
  const { prefix, transport } = bus();
  const m = await masterNode(t, transport(), `${prefix}-m1`);
  const connection = await connectFramework(nats().url, { prefix, logger, node: `${prefix}-fw1` });
  t.teardown(() => connection.close());
  t.deepEqual(connection.master, m.master.self);

  let registered!: () => void;
  const subscribed = new Promise<void>((resolve) => (registered = resolve));
  const runtime = await Runtime.start({ transport: transport(), logger, node: `${prefix}-fw2` });
  t.teardown(() => runtime.shutdown());
  const driver = new SchedulerDriver({ registered: () => registered() }, { user: 'test', name: 'nats://' }, nats().url, { runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  await within(subscribed, 5_000, 'registration');
  t.true(m.master.frameworks.has(driver.frameworkId!.value));
});

test.serial('detector - an agent given --master master@node registers there without asking the bus', async (t) => {
  const { prefix, transport } = bus();
  const work = mkdtempSync(join(tmpdir(), 'mesos-ts-detector-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const m = await masterNode(t, transport(), `${prefix}-m1`);
  const registered = futureMessage(SLAVE_REGISTERED, m.master.self, `slave(1)@${prefix}-a1`);
  const agentNode = await startAgentNode({
    master: String(m.master.self),
    transport: transport(),
    node: `${prefix}-a1`,
    logger,
    port: 0,
    workDir: work,
    registrationBackoffFactorMs: 10,
    resources: 'cpus:1;mem:128',
  });
  t.teardown(() => agentNode.stop());
  await within(registered, 10_000, 'registration of the agent');
  t.deepEqual(agentNode.agent.master, m.master.self);
  t.is(agentNode.agent.detector, undefined);
  // Alone in its runtime, the agent's metrics have Mesos's names.
  t.is(agentNode.runtime.metrics.snapshot()['slave/registered'], 1);
});

test.serial('detector - an agent and a driver that discovered their master follow it to its new address after a restart', async (t) => {
  const { prefix, transport } = bus();
  const work = mkdtempSync(join(tmpdir(), 'mesos-ts-detector-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const m1 = await masterNode(t, transport(), `${prefix}-m1`);
  const agentRegistered = futureMessage(SLAVE_REGISTERED, m1.master.self, `slave(1)@${prefix}-a1`);
  const agentNode = await startAgentNode({ transport: transport(), node: `${prefix}-a1`, logger, port: 0, workDir: work, registrationBackoffFactorMs: 10, resources: 'cpus:1;mem:128' });
  t.teardown(() => agentNode.stop());
  t.deepEqual(agentNode.master, m1.master.self);
  await within(agentRegistered, 10_000, 'registration of the agent');

  const events: string[] = [];
  let wake: () => void = () => undefined;
  const scheduler: Scheduler = {
    registered: () => (events.push('registered'), wake()),
    reregistered: () => (events.push('reregistered'), wake()),
    disconnected: () => (events.push('disconnected'), wake()),
  };
  const until = async (event: string): Promise<void> => {
    while (!events.includes(event)) await within(new Promise<void>((resolve) => (wake = resolve)), 10_000, event);
  };
  const runtime = await Runtime.start({ transport: transport(), logger, node: `${prefix}-fw` });
  t.teardown(() => runtime.shutdown());
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'follower', failover_timeout: 60 }, nats().url, { runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  await until('registered');

  // The master goes away; another starts under another node name.
  await m1.stop();
  await until('disconnected');
  const m2 = await masterNode(t, transport(), `${prefix}-m2`);
  const agentBack = futureMessage(SLAVE_REREGISTERED, m2.master.self, agentNode.agent.self);
  await within(agentBack, 10_000, 're-registration of the agent with the new master');
  t.deepEqual(agentNode.agent.master, m2.master.self);
  t.is(m2.master.agents.size, 1);
  await until('reregistered');
  t.true(m2.master.frameworks.has(driver.frameworkId!.value));
});
