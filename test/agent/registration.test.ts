import { readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { DEFAULT_MASTER_PING_TIMEOUT_MS, DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS, DEFAULT_RESOURCES, MESOS_VERSION } from '../../actors/agent/constants.ts';
import { SUM_MASTER, type SumMaster } from '../../actors/status-update-manager/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import {
  KILL_TASK,
  PING_SLAVE,
  PONG_SLAVE,
  REGISTER_SLAVE,
  REREGISTER_REQUEST,
  REREGISTER_SLAVE,
  RUN_TASK,
  SLAVE_REGISTERED,
  SLAVE_REREGISTERED,
  type RegisterSlave,
} from '../../src/mesos/protocol.ts';
import { dropMessage, futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { AGENT_ID, register, reregistration, spawnAgent, startAgent } from './harness.ts';

resetFiltersAfterEach(test);


test.serial('RegistrationRetry - a lost RegisterSlaveMessage is sent again after the backoff', async (t) => {
  const h = await startAgent(t);
  const dropped = dropMessage(REGISTER_SLAVE, h.agent.self, h.master.self);
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');
  h.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  const first = (await dropped).body as RegisterSlave;
  t.deepEqual(first, {
    slave: {
      hostname: 'agent-host',
      resources: Resources.parse(DEFAULT_RESOURCES).toJSON(),
      attributes: [
        { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
        { name: 'zone', type: 'TEXT', text: { value: 'a' } },
      ],
    },
    version: MESOS_VERSION,
  });

  // The next attempt comes within twice the backoff factor.
  const again = futureMessage(REGISTER_SLAVE, h.agent.self, h.master.self);
  h.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS * 2);
  t.deepEqual((await again).body, first);

  const resumed = futureMessage(SUM_MASTER, h.agent.self, h.agent.sum);
  h.master.send(h.agent.self, SLAVE_REGISTERED, { slave_id: { value: AGENT_ID } });
  t.deepEqual((await resumed).body as SumMaster, { master: String(h.master.self), agent: String(h.agent.self), agent_id: { value: AGENT_ID } });
  await h.settle();
  t.is(h.agent.state, 'RUNNING');
  t.is(h.agent.agentId, AGENT_ID);
  t.is(readlinkSync(join(h.workDir, 'meta', 'slaves', 'latest')), AGENT_ID);

  // Registered: no more attempts, however long we wait.
  const before = h.master.bodies(REGISTER_SLAVE).length;
  h.clock.advance(DEFAULT_MASTER_PING_TIMEOUT_MS / 2);
  await h.settle();
  t.is(h.master.bodies(REGISTER_SLAVE).length, before);
});

test.serial('PingPong - the agent answers pings; a master silent for the ping timeout is lost and the agent re-registers', async (t) => {
  const h = await startAgent(t);
  await register(h);

  const pong = futureMessage(PONG_SLAVE, h.agent.self, h.master.self);
  h.master.send(h.agent.self, PING_SLAVE, { connected: true });
  await pong;

  // Each ping restarts the timeout.
  h.clock.advance(DEFAULT_MASTER_PING_TIMEOUT_MS - 1);
  h.master.send(h.agent.self, PING_SLAVE, { connected: true });
  await h.settle();
  h.clock.advance(DEFAULT_MASTER_PING_TIMEOUT_MS - 1);
  await h.settle();
  t.is(h.agent.state, 'RUNNING');

  const paused = futureMessage(SUM_MASTER, h.agent.self, h.agent.sum);
  h.clock.advance(1);
  t.is(((await paused).body as SumMaster).master, null);
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');

  const body = await reregistration(h);
  t.is(body.slave.id.value, AGENT_ID);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  await h.settle();
  t.is(h.agent.state, 'RUNNING');
});

test.serial("PingPong - the master's total_ping_timeout_seconds replaces the default", async (t) => {
  const h = await startAgent(t);
  const registering = futureMessage(REGISTER_SLAVE, h.agent.self, h.master.self);
  await h.settle();
  h.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  await registering;
  h.master.send(h.agent.self, SLAVE_REGISTERED, { slave_id: { value: AGENT_ID }, connection: { total_ping_timeout_seconds: 10 } });
  await h.settle();
  h.clock.advance(10_000);
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');
});

test.serial('PingPong - a ping saying the master lost us forces a re-registration', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const pong = futureMessage(PONG_SLAVE, h.agent.self, h.master.self);
  h.master.send(h.agent.self, PING_SLAVE, { connected: false });
  await pong;
  t.is(h.agent.state, 'REGISTERING');
  t.is((await reregistration(h)).slave.id.value, AGENT_ID);
});

test.serial('ReregisterRequest - the master asking for it makes the agent re-register', async (t) => {
  const h = await startAgent(t);
  await register(h);
  h.master.send(h.agent.self, REREGISTER_REQUEST, {});
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');
  t.is((await reregistration(h)).slave.id.value, AGENT_ID);
});

for (const side of ['agent', 'master'] as const) {
  test.serial(`LinkInterrupted - the ${side}'s bus connection broke and came back: the agent re-registers with the same master`, async (t) => {
    const h = await startAgent(t);
    await register(h);
    (side === 'agent' ? h.agentRuntime : h.masterRuntime).reconnected();
    await Promise.all([h.settle(), h.masterRuntime.settle()]);
    t.is(h.agent.state, 'REGISTERING');
    const body = await reregistration(h);
    t.is(body.slave.id.value, AGENT_ID);
    h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
    await h.settle();
    t.is(h.agent.state, 'RUNNING');
    t.deepEqual(h.master.bodies(REGISTER_SLAVE).length, 1, 'never registered anew');
  });
}

test.serial('MasterExited - the agent re-registers under the same id with the master that comes back', async (t) => {
  const h = await startAgent(t);
  await register(h);
  h.masterRuntime.terminate(h.master.self);
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');

  h.master = new Probe('master', [REREGISTER_SLAVE, PONG_SLAVE]);
  h.masterRuntime.spawn(h.master);
  const body = await reregistration(h);
  t.is(body.slave.id.value, AGENT_ID);
  t.is(body.slave.hostname, 'agent-host');
  t.deepEqual(body.tasks, []);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  await h.settle();
  t.is(h.agent.state, 'RUNNING');

  // Linked again: the next exit is noticed too.
  h.masterRuntime.terminate(h.master.self);
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');
});

test.serial('AgentRestart - a restarted agent re-registers with its checkpointed id', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const old = h.agent;
  h.agentRuntime.terminate(old.self);
  await h.settle();

  h.agent = spawnAgent(h);
  t.not(String(h.agent.self), String(old.self));
  const body = await reregistration(h);
  t.is(body.slave.id.value, AGENT_ID);
  t.deepEqual(body.frameworks, []);
  h.master.send(h.agent.self, SLAVE_REREGISTERED, { slave_id: { value: AGENT_ID } });
  await h.settle();
  t.is(h.agent.state, 'RUNNING');
});

test.serial('AgentRestart - an agent restarted with other resources refuses to start; once its id is removed (the remedy) it registers as a new agent', async (t) => {
  const h = await startAgent(t);
  await register(h);
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();

  const failed = new Promise<Error>((resolve) => Object.assign(h.options, { resources: 'cpus:2;mem:1024', onFailure: resolve }));
  h.agent = spawnAgent(h);
  t.regex((await failed).message, /^Incompatible agent info detected: resources were /);
  await h.settle();
  t.is(h.master.received.filter((m) => m.name === REGISTER_SLAVE || m.name === 'ReregisterSlaveMessage').length, 1, 'only the first run registered');

  // The remedy the error names: remove meta/slaves/latest.
  rmSync(join(h.workDir, 'meta', 'slaves', 'latest'));
  h.agent = spawnAgent(h);
  const registering = futureMessage(REGISTER_SLAVE, h.agent.self, h.master.self);
  await h.settle();
  h.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  const body = (await registering).body as RegisterSlave;
  t.is(body.slave.id, undefined);
  t.deepEqual(body.slave.resources, Resources.parse('cpus:2;mem:1024').toJSON());
});

test.serial('Validation - malformed messages from the master are dropped and the agent keeps serving', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const invalid = (): number => h.agentRuntime.metrics.snapshot()['runtime/messages_invalid'] ?? 0;
  const before = invalid();
  h.master.send(h.agent.self, RUN_TASK, { framework_id: 3, task: 'x' });
  h.master.send(h.agent.self, PING_SLAVE, { connected: 'yes' });
  h.master.send(h.agent.self, KILL_TASK, {});
  h.master.send(h.agent.self, SLAVE_REGISTERED, { slave_id: null });
  await h.settle();
  t.is(invalid() - before, 4);
  t.is(h.agent.state, 'RUNNING');
  t.is(h.agent.agentId, AGENT_ID);

  const pong = futureMessage(PONG_SLAVE, h.agent.self, h.master.self);
  h.master.send(h.agent.self, PING_SLAVE, { connected: true });
  await pong;
  t.pass();
});

test.serial('Validation - registration messages from another master are ignored', async (t) => {
  const h = await startAgent(t);
  const impostor = new Probe('impostor');
  h.masterRuntime.spawn(impostor);
  await h.settle();
  impostor.send(h.agent.self, SLAVE_REGISTERED, { slave_id: { value: 'other-S9' } });
  await h.settle();
  t.is(h.agent.state, 'REGISTERING');
  t.is(h.agent.agentId, undefined);
});
