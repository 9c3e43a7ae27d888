import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Containerizer } from '../../actors/agent/containerizer.ts';
import { executorEnvironment, executorNodeName } from '../../actors/executor/environment.ts';
import { nodeExecutorCommand } from '../../actors/executor/executor-driver.ts';
import { ExecutorSocketServer, executorSocketPath } from '../../src/transport/socket.ts';
import { futureExited, resetFiltersAfterEach } from '../helpers/filters.ts';
import { localWorld } from '../helpers/runtime.ts';
import { AgentStub, commandTask, FRAMEWORK_ID } from './agent-stub.ts';

resetFiltersAfterEach(test);

const ECHO_EXECUTOR = fileURLToPath(new URL('../fixtures/executors/echo-executor.ts', import.meta.url));
const STUBBORN_EXECUTOR = fileURLToPath(new URL('../fixtures/executors/stubborn-executor.ts', import.meta.url));

/**
 * An agent stub in the test's runtime (Clock paused) and the echo executor as a real child
 * process, launched as an agent launches a custom executor: the `Containerizer`, the executor
 * environment, and the agent's executor socket, which the child connects to.
 */
async function launchEcho(t: ExecutionContext, file = ECHO_EXECUTOR, extraEnv: Record<string, string> = {}) {
  const w = await localWorld([`echo-${t.title.replace(/[^A-Za-z0-9]/g, '').slice(-30)}`], { logger: pino({ level: 'error' }) });
  const runtime = w.runtimes[0]!;
  w.clock.pause();
  const command = nodeExecutorCommand(file);
  const agent = new AgentStub('slave(1)', { executor_id: { value: 'echo' }, framework_id: FRAMEWORK_ID, command });
  runtime.spawn(agent);
  const containerizer = new Containerizer({ delay: (ms, fn) => agent.later(ms, fn) });
  const sandbox = mkdtempSync(join(tmpdir(), 'mesos-ts-echo-executor-'));
  const server = await ExecutorSocketServer.listen(runtime, executorSocketPath(sandbox));
  t.teardown(async () => {
    for (const id of containerizer.containerIds()) await containerizer.destroy(id, 0);
    await server.close();
    await w.shutdown();
    rmSync(sandbox, { recursive: true, force: true });
  });
  const containerId = 'c-echo';
  const node = executorNodeName(runtime.node, containerId);
  const container = await containerizer.launch({
    containerId,
    command,
    sandbox,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...executorEnvironment({ frameworkId: FRAMEWORK_ID.value, executorId: 'echo', directory: sandbox, agent: agent.self, node, socket: server.path }),
      ...extraEnv,
    },
  });
  t.is(container.error, undefined);
  const executor = await agent.registered;
  return { ...w, runtime, agent, container, executor, node, sandbox, server };
}

test.serial('EchoExecutor - a TypeScript executor in a child process registers, runs a task, exchanges framework messages, finishes', async (t) => {
  t.timeout(30_000);
  const { agent, container, executor, node, sandbox } = await launchEcho(t);
  t.is(executor.node, node);
  t.regex(executor.id, /^executor\(\d+\)$/);

  agent.runTask(commandTask('echo-task', 'unused'));
  const running = (await agent.updates.take()).update;
  t.is(running.status.state, 'TASK_RUNNING');
  t.is(running.status.message, `pid ${container.pid}`);
  t.is(running.status.source, 'SOURCE_EXECUTOR');
  t.deepEqual(running.executor_id, { value: 'echo' });

  agent.frameworkMessage('hello');
  t.is(await agent.messages.take(), 'echo:hello');
  agent.frameworkMessage('world');
  t.is(await agent.messages.take(), 'echo:world');

  agent.frameworkMessage('finish');
  t.is((await agent.updates.take()).update.status.state, 'TASK_FINISHED');

  // Shut down: the executor stops, its process exits, and the agent's link reports it.
  const exited = futureExited(executor, agent.self);
  agent.shutdownExecutor();
  await exited;
  t.deepEqual(await container.exited, { status: 0, code: 0, signal: null });
  t.deepEqual(agent.exits.map(String), [String(executor)]);
  t.regex(readFileSync(join(sandbox, 'stderr'), 'utf8'), /Echo executor registered/);
});

test.serial('EchoExecutor - KillTask is answered with TASK_KILLED', async (t) => {
  t.timeout(30_000);
  const { agent } = await launchEcho(t);
  agent.runTask(commandTask('echo-task', 'unused'));
  t.is((await agent.updates.take()).update.status.state, 'TASK_RUNNING');
  agent.killTask('echo-task');
  const killed = (await agent.updates.take()).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.deepEqual(killed.task_id, { value: 'echo-task' });
});

test.serial('EchoExecutor - when its connection to the agent closes (the agent is gone) the executor of a framework that does not checkpoint shuts down and exits', async (t) => {
  t.timeout(30_000);
  const { agent, container, executor, server } = await launchEcho(t);
  agent.runTask(commandTask('echo-task', 'unused'));
  t.is((await agent.updates.take()).update.status.state, 'TASK_RUNNING');
  const exited = futureExited(executor, agent.self);
  await server.close();
  await exited;
  t.deepEqual(await container.exited, { status: 0, code: 0, signal: null });
});

test.serial('ExecutorDriver - an executor that does not stop when asked to shut down exits after the shutdown grace period', async (t) => {
  t.timeout(30_000);
  // The child's own Clock runs in real time; a short grace period keeps the test quick.
  const { agent, container } = await launchEcho(t, STUBBORN_EXECUTOR, { MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '200ms' });
  agent.shutdownExecutor();
  t.deepEqual(await container.exited, { status: 1, code: 1, signal: null });
});
