import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { processRuns } from '../../actors/agent/containerizer.ts';
import { EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS, SHUTDOWN_MARGIN_MS } from '../../actors/agent/constants.ts';
import { REGISTER_EXECUTOR, SHUTDOWN_SLAVE, UNREGISTER_SLAVE, type ShutdownSlave, type UnregisterSlave } from '../../src/mesos/protocol.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { Probe } from '../helpers/runtime.ts';
import { acknowledge, AGENT_ID, commandTask, customTask, echoExecutor, FRAMEWORK, FRAMEWORK_ID, nextUpdate, register, runTask, spawnAgent, startAgent, stubbornExecutor } from './harness.ts';

resetFiltersAfterEach(test);

/**
 * `ShutdownMessage` (Mesos's `Slave::shutdown`), what a master sends an agent its registry
 * marks gone, and SIGUSR1 (`unregister`): heeded from the registered master only; the agent
 * forgets its id, shuts every executor down within its grace period (its tasks get SIGTERM, not
 * SIGKILL), terminates once they are gone, and whoever runs it hears why.
 */

/** A registered agent (telling `heard` why it shut down) running `task-1` in the stubborn executor, which ignores shutdown. */
async function stubbornRunning(t: ExecutionContext) {
  let reason: string | undefined;
  const h = await startAgent(t, { onShutdown: (r) => (reason = r) });
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', stubbornExecutor()));
  await registering;
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('stubborn')!;
  const container = h.agent.containerizer.get(executor.containerId)!;
  return { h, executor, container, heard: () => reason };
}

test.serial('ShutdownMessage - from its master: the agent forgets its id, shuts its executors down gracefully and terminates; onShutdown hears why', async (t) => {
  let heard: string | undefined;
  const h = await startAgent(t, { onShutdown: (reason) => (heard = reason) });
  await register(h);
  const latest = join(h.workDir, 'meta', 'slaves', 'latest');
  t.true(existsSync(latest), 'registered, the agent checkpointed its id');
  runTask(h, commandTask('sleeper', 'exec sleep 600'));
  const starting = await nextUpdate(h);
  acknowledge(h, starting);
  t.is((await nextUpdate(h)).update.status.state, 'TASK_RUNNING');
  const [containerId] = h.agent.containerizer.containerIds();
  const container = h.agent.containerizer.get(containerId!)!;
  const agentId = h.agent.id;

  h.master.send(h.agent.self, SHUTDOWN_SLAVE, { message: 'Agent has been marked gone' } satisfies ShutdownSlave);
  // The Clock is paused: no grace period ends, so only the executor's own kill can end the task.
  t.is((await container.exited).signal, 'SIGTERM', "the task was asked to stop (SIGTERM), not SIGKILLed");
  await h.settle();
  t.is(heard, 'Agent has been marked gone');
  t.is(h.agentRuntime.process(agentId), undefined, 'the agent terminated');
  t.false(existsSync(latest), 'a restart registers as a new agent');
  t.is(h.master.received.slice(h.cursor).filter((m) => m.name === 'StatusUpdateMessage').length, 0, 'no update for a framework shutting down');
});

test.serial('ShutdownMessage - an executor that ignores its shutdown is destroyed after its grace period; the agent waits for it', async (t) => {
  const { h, executor, container, heard } = await stubbornRunning(t);
  const agentId = h.agent.id;

  h.master.send(h.agent.self, SHUTDOWN_SLAVE, { message: 'Agent has been marked gone' } satisfies ShutdownSlave);
  await h.settle();
  t.is(executor.state, 'TERMINATING', 'asked to shut down');
  h.clock.advance(EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS - 1);
  await h.settle();
  t.is(heard(), undefined, 'still within the grace period');
  t.is(h.agent.state, 'TERMINATING');
  t.is(h.agentRuntime.process(agentId), h.agent);

  h.clock.advance(1);
  t.not((await container.exited).status, 0, 'destroyed once the grace period ended');
  await h.settle();
  t.is(heard(), 'Agent has been marked gone');
  t.is(h.agentRuntime.process(agentId), undefined, 'the agent terminated');
});

test.serial('ShutdownMessage - an executor whose end is never seen does not hold the agent: it terminates a margin after the grace period', async (t) => {
  const { h, container, heard } = await stubbornRunning(t);
  // A destroy that never ends the process (a wedged container): its exit never comes.
  h.agent.containerizer.destroy = () => Promise.resolve(undefined);
  const agentId = h.agent.id;

  h.master.send(h.agent.self, SHUTDOWN_SLAVE, { message: 'Agent has been marked gone' } satisfies ShutdownSlave);
  await h.settle();
  h.clock.advance(EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS + SHUTDOWN_MARGIN_MS - 1);
  await h.settle();
  t.is(heard(), undefined, 'still waiting for the executor');
  h.clock.advance(1);
  await h.settle();
  t.is(heard(), 'Agent has been marked gone');
  t.is(h.agentRuntime.process(agentId), undefined, 'the agent terminated');
  t.is((await container.exited).signal, 'SIGKILL', 'what was left was killed as the agent terminated');
});

test.serial('ShutdownMessage - from anyone but its master: ignored', async (t) => {
  let heard: string | undefined;
  const h = await startAgent(t, { onShutdown: (reason) => (heard = reason) });
  await register(h);
  const stranger = new Probe('stranger');
  h.masterRuntime.spawn(stranger);
  stranger.send(h.agent.self, SHUTDOWN_SLAVE, { message: 'go away' } satisfies ShutdownSlave);
  await h.settle();
  t.is(heard, undefined);
  t.is(h.agent.state, 'RUNNING');
  t.true(existsSync(join(h.workDir, 'meta', 'slaves', 'latest')));
});

test.serial('unregister (SIGUSR1) - the agent tells its master, shuts every executor down, a checkpointing framework\'s too, forgets its id and terminates', async (t) => {
  let heard: string | undefined;
  const h = await startAgent(t, { onShutdown: (reason) => (heard = reason) });
  await register(h);
  // A checkpointing framework's executor would outlive a plain termination of the agent.
  runTask(h, commandTask('sleeper', 'exec sleep 600'), { ...FRAMEWORK, checkpoint: true });
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  t.is((await nextUpdate(h)).update.status.state, 'TASK_RUNNING');
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('sleeper')!;
  const container = h.agent.containerizer.get(executor.containerId)!;
  const agentId = h.agent.id;

  const unregistered = futureMessage(UNREGISTER_SLAVE, h.agent.self, h.master.self);
  h.agent.unregister('Received SIGUSR1 signal from user');
  t.deepEqual(((await unregistered).body as UnregisterSlave).slave_id, { value: AGENT_ID });
  // The command executor in its own process kills its task and exits by itself (paused Clock:
  // no grace period ends).
  t.is((await container.exited).status, 0, 'the executor exited by itself');
  await h.settle();
  t.is(heard, 'Received SIGUSR1 signal from user');
  t.is(h.agentRuntime.process(agentId), undefined, 'the agent terminated');
  t.false(existsSync(join(h.workDir, 'meta', 'slaves', 'latest')), 'a restart registers as a new agent');
});

test.serial('unregister (SIGUSR1) while the agent recovers: it leaves once recovery is over, shutting down the executor that survived the previous run', async (t) => {
  let heard: string | undefined;
  const h = await startAgent(t, { onShutdown: (reason) => (heard = reason) });
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()), { ...FRAMEWORK, checkpoint: true });
  await registering;
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  const survivor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;
  await h.settle();

  // The next run is told to leave before it has taken the survivor back.
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  const shutDown = new Promise<void>((resolve) => Object.assign(h.options, { onShutdown: (reason: string) => ((heard = reason), resolve()) }));
  h.agent = spawnAgent(h);
  t.is(h.agent.state, 'RECOVERING');
  h.agent.unregister('Received SIGUSR1 signal from user');
  await shutDown;
  t.is(heard, 'Received SIGUSR1 signal from user');
  t.false(existsSync(join(h.workDir, 'meta', 'slaves', 'latest')), 'a restart registers as a new agent');
  t.false(processRuns(survivor.osPid!), 'the survivor was taken back and shut down, not left running');
});

