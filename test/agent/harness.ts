import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { Agent, type AgentOptions } from '../../actors/agent/agent.ts';
import { DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS } from '../../actors/agent/constants.ts';
import { nodeExecutorCommand } from '../../actors/executor/executor-driver.ts';
import { seededByteSource } from '../../src/mesos/ids.ts';
import { Resources } from '../../src/mesos/resources.ts';
import {
  EXECUTOR_REGISTERED,
  EXECUTOR_TO_FRAMEWORK,
  EXITED_EXECUTOR,
  FRAMEWORK_TO_EXECUTOR,
  KILL_TASK,
  PONG_SLAVE,
  REGISTER_EXECUTOR,
  REGISTER_SLAVE,
  REREGISTER_SLAVE,
  RUN_TASK,
  SHUTDOWN_EXECUTOR,
  SLAVE_REGISTERED,
  STATUS_UPDATE,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  type FrameworkToExecutor,
  type RegisterExecutor,
  type ReregisterSlave,
  type RunTask,
  type StatusUpdateAcknowledgement,
  type StatusUpdateMessage,
} from '../../src/mesos/protocol.ts';
import type { ExecutorInfo, FrameworkInfo, TaskInfo, TaskState } from '../../src/mesos/v1/common.ts';
import type { CommandExecutorLauncher } from '../../actors/agent/executors.ts';
import type { Clock } from '../../src/process/clock.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { futureMessage } from '../helpers/filters.ts';
import { localWorld, Probe } from '../helpers/runtime.ts';

/**
 * One agent (node `a<n>`) and a `Probe` playing its master (node `m<n>`), on a private bus and a
 * paused clock, with a fresh `--work_dir` removed when the test ends. Links between the two never
 * time out: a paused clock advanced by minutes would otherwise starve the heartbeats.
 */

export const FRAMEWORK_ID = 'framework-0000';
export const AGENT_ID = 'master-uuid-S0';
export const FRAMEWORK: FrameworkInfo = { user: 'test', name: 'agent tests', id: { value: FRAMEWORK_ID } };

const MASTER_MESSAGES = [REGISTER_SLAVE, REREGISTER_SLAVE, PONG_SLAVE, STATUS_UPDATE, EXITED_EXECUTOR, EXECUTOR_TO_FRAMEWORK];

let worlds = 0;

export interface Harness {
  readonly t: ExecutionContext;
  readonly masterRuntime: Runtime;
  readonly agentRuntime: Runtime;
  readonly clock: Clock;
  master: Probe;
  agent: Agent;
  readonly workDir: string;
  readonly options: Partial<AgentOptions>;
  /** How many of the master's messages `nextUpdate` has looked at. */
  cursor: number;
  settle(): Promise<void>;
}

import { seededRandom } from '../../src/random.ts';

export { seededRandom };

export async function startAgent(t: ExecutionContext, options: Partial<AgentOptions> = {}, serve: { http?: boolean } = {}): Promise<Harness> {
  const n = ++worlds;
  const world = await localWorld([`m${n}`, `a${n}`], {
    linkTimeoutMs: Number.MAX_SAFE_INTEGER,
    ...(serve.http === true ? { http: { port: 0 } } : {}),
  });
  const [masterRuntime, agentRuntime] = world.runtimes as [Runtime, Runtime];
  world.clock.pause();
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-agent-'));
  t.teardown(async () => {
    // Executors of checkpointing frameworks outlive an agent that terminates; not the test's.
    h.agent.killExecutorsOnExit = true;
    await world.shutdown();
    rmSync(workDir, { recursive: true, force: true });
  });
  const master = new Probe('master', MASTER_MESSAGES);
  masterRuntime.spawn(master);
  const h: Harness = {
    t,
    masterRuntime,
    agentRuntime,
    clock: world.clock,
    master,
    agent: undefined as unknown as Agent,
    workDir,
    options,
    cursor: 0,
    settle: () => agentRuntime.settle(),
  };
  h.agent = spawnAgent(h);
  return h;
}

/**
 * A new agent process on the harness's runtime and work dir (after the old one terminated: a
 * restart). Its disk reads as empty unless the test gives `diskUsage`.
 */
export function spawnAgent(h: Harness): Agent {
  return Agent.start(h.agentRuntime, {
    master: String(h.master.self),
    workDir: h.workDir,
    hostname: 'agent-host',
    attributes: 'rack:r1;zone:a',
    random: seededRandom(7),
    uuidSource: seededByteSource(11),
    // An empty disk, whatever the machine's: garbage collection goes by `--gc_delay` alone.
    diskUsage: () => Promise.resolve(0),
    ...h.options,
  });
}

/** Lets the agent recover, sends its first registration, and admits it as `AGENT_ID`. */
export async function register(h: Harness, agentId = AGENT_ID): Promise<void> {
  const registering = futureMessage(REGISTER_SLAVE, h.agent.self, h.master.self);
  await h.settle();
  h.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  await registering;
  h.master.send(h.agent.self, SLAVE_REGISTERED, { slave_id: { value: agentId } });
  await h.settle();
  if (h.agent.state !== 'RUNNING') throw new Error(`agent is ${h.agent.state} after registration`);
}

export function commandTask(id: string, command: string, resources = 'cpus:0.5;mem:64'): TaskInfo {
  return {
    name: id,
    task_id: { value: id },
    agent_id: { value: AGENT_ID },
    resources: resourcesJSON(resources),
    command: { value: command },
  };
}

export const ECHO_EXECUTOR = fileURLToPath(new URL('../fixtures/executors/echo-executor.ts', import.meta.url));
export const STUBBORN_EXECUTOR = fileURLToPath(new URL('../fixtures/executors/stubborn-executor.ts', import.meta.url));

/**
 * The executor engineer's echo executor: `TASK_RUNNING` on launch, `echo:<data>` back for a
 * framework message, `TASK_FINISHED` for its tasks on the message `finish`, `TASK_KILLED` on a
 * kill or a shutdown.
 */
export function echoExecutor(id = 'echo'): ExecutorInfo {
  return { executor_id: { value: id }, command: nodeExecutorCommand(ECHO_EXECUTOR), resources: resourcesJSON('cpus:0.1;mem:32') };
}

/** An executor that registers, never reports on its tasks and ignores shutdown. */
export function stubbornExecutor(id = 'stubborn'): ExecutorInfo {
  return { executor_id: { value: id }, command: nodeExecutorCommand(STUBBORN_EXECUTOR) };
}

export function customTask(id: string, executor: ExecutorInfo): TaskInfo {
  return { name: id, task_id: { value: id }, agent_id: { value: AGENT_ID }, resources: resourcesJSON('cpus:1;mem:128'), executor };
}

/** The master sends a framework message to an executor. */
export function frameworkMessage(h: Harness, executorId: string, text: string): void {
  h.master.send(h.agent.self, FRAMEWORK_TO_EXECUTOR, {
    slave_id: { value: AGENT_ID },
    framework_id: { value: FRAMEWORK_ID },
    executor_id: { value: executorId },
    data: Buffer.from(text).toString('base64'),
  } satisfies FrameworkToExecutor);
}

function resourcesJSON(text: string) {
  return Resources.parse(text).toJSON();
}

/** The master sends `RunTaskMessage`. */
export function runTask(h: Harness, task: TaskInfo, framework: FrameworkInfo = FRAMEWORK): void {
  h.master.send(h.agent.self, RUN_TASK, { framework_id: framework.id!, framework, task } satisfies RunTask);
}

/** The next status update the master got (in order of arrival), waiting for it if need be. */
export async function nextUpdate(h: Harness): Promise<StatusUpdateMessage> {
  for (;;) {
    const i = h.master.received.findIndex((m, index) => index >= h.cursor && m.name === STATUS_UPDATE);
    if (i >= 0) {
      h.cursor = i + 1;
      return h.master.received[i]!.body as StatusUpdateMessage;
    }
    await h.master.next(STATUS_UPDATE);
  }
}

/** The master acknowledges `update` to the agent. */
export function acknowledge(h: Harness, message: StatusUpdateMessage): void {
  const { update } = message;
  h.master.send(h.agent.self, STATUS_UPDATE_ACKNOWLEDGEMENT, {
    slave_id: update.agent_id!,
    framework_id: update.framework_id,
    task_id: update.status.task_id,
    uuid: update.uuid!,
  } satisfies StatusUpdateAcknowledgement);
}

/** Advances past the first (random) registration delay and waits for the re-registration. */
export async function reregistration(h: Harness): Promise<ReregisterSlave> {
  const message = futureMessage(REREGISTER_SLAVE, h.agent.self, h.master.self);
  await h.settle();
  h.clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  return (await message).body as ReregisterSlave;
}

/**
 * A command executor the test drives: a `Probe` in the agent's runtime that registers at once,
 * records what the agent sends it, and ignores shutdown. `probes` lists them in launch order.
 */
export function scriptedCommandExecutor(probes: Probe[]): CommandExecutorLauncher {
  return (options) => {
    const probe = new Probe(options.runtime.generateId('executor'), [EXECUTOR_REGISTERED, RUN_TASK, KILL_TASK, SHUTDOWN_EXECUTOR, STATUS_UPDATE_ACKNOWLEDGEMENT]);
    options.runtime.spawn(probe);
    probes.push(probe);
    probe.send(options.agent, REGISTER_EXECUTOR, { framework_id: options.frameworkId, executor_id: options.executorId } satisfies RegisterExecutor);
    return { pid: probe.self };
  };
}

/** A status update from the scripted executor of command task `taskId`; `n` makes its uuid. */
export function executorUpdate(probe: Probe, taskId: string, state: TaskState, n: number): StatusUpdateMessage {
  const uuid = Buffer.alloc(16, n).toString('base64');
  const executorId = { value: taskId };
  return {
    update: {
      framework_id: { value: FRAMEWORK_ID },
      executor_id: executorId,
      status: { task_id: { value: taskId }, state, source: 'SOURCE_EXECUTOR', executor_id: executorId, uuid },
      timestamp: 0,
      uuid,
    },
    pid: String(probe.self),
  };
}
