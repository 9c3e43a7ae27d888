import { KILL_TASK, type DrainConfig, type DrainSlave, type KillTask, type StatusUpdate } from '../../src/mesos/protocol.ts';
import type { KillPolicy, TaskState } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import type { Agent } from './agent.ts';
import { checkpointDrainConfig, removeDrainConfig } from './checkpoint.ts';
import { _shutdownExecutor } from './executors.ts';
import type { ExecutorRecord, FrameworkRecord } from './state.ts';
import { sendAgentUpdate } from './tasks.ts';

/**
 * Draining, the agent's side of Mesos 1.9's agent draining (`Slave::drain`, MESOS-9818): an
 * operator drains the agent (DRAIN_AGENT), and its master tells it so (`DrainSlaveMessage`). The
 * agent keeps the drain's config (`Agent.drainConfig`, checkpointed, so that a restarted agent
 * goes on draining) and kills every task it has, each within the smaller of its own kill grace
 * period and the drain's `max_grace_period`. While it drains, it runs no new task, and the
 * updates of the tasks it kills say why (`REASON_AGENT_DRAINING`; with `mark_gone`,
 * `TASK_GONE_BY_OPERATOR` rather than `TASK_KILLED`). Once it has no task left it forgets
 * the config: it is drained (whether the agent is DRAINED is the master's to say).
 */

/** Why a task ends while the agent drains (Mesos's `REASON_AGENT_DRAINING`). */
export const DRAINING_MESSAGE = 'Agent is currently draining';

/**
 * `DrainSlaveMessage` (Mesos's `Slave::drain`): heeded from the master this agent is registered
 * with only, as `ShutdownMessage` is, and only while registered (a master that still wants the
 * agent drained sends it again when the agent re-registers). A drain that comes again (the
 * master re-sends it, or with another config) replaces the config and kills again: a kill
 * with a shorter grace period shortens one already under way.
 */
export function drain(agent: Agent, from: UPID, body: DrainSlave): void {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from), master: String(agent.master) }, 'Ignoring drain message: it is not from the registered master');
    return;
  }
  if (agent.state !== 'RUNNING' || agent.agentId === undefined) {
    agent.log.warn({ state: agent.state }, 'Ignoring drain message: the agent has not yet registered with the master');
    return;
  }
  agent.log.info({ config: body.config }, 'Initiating drain');
  try {
    checkpointDrainConfig(agent.flags.workDir, agent.agentId, body.config);
  } catch (error) {
    // Draining goes on; only a restart in the meantime would forget it.
    agent.log.error({ err: error, work_dir: agent.flags.workDir }, 'Failed to checkpoint the drain config');
  }
  agent.drainConfig = body.config;
  agent.drainStartTime ??= agent.now();
  killAll(agent, false);
  drainProgressed(agent);
}

/**
 * Recovery is over (the agent's machine leaves `RECOVERING`): an agent that recovered a drain
 * config (`drain.config`) goes on draining, now that the executors that survived the restart
 * have re-registered: it kills each task that is neither terminal nor already being killed
 * (`TASK_KILLING`), and forgets the config if nothing is left to drain.
 */
export function recovered(agent: Agent): void {
  if (agent.drainConfig === undefined) return;
  agent.log.info({ config: agent.drainConfig }, 'Resuming drain after recovery');
  killAll(agent, true);
  drainProgressed(agent);
}

/**
 * A task was completed, a framework removed, or a drain began: once no task is left to the
 * agent (none queued, none running, none whose terminal update waits for its acknowledgement:
 * what the master waits for before it says DRAINED; an executor may stay with no task) it is
 * drained, and forgets the config, in memory and on disk (Mesos's `Slave::updateDrainStatus`).
 * Then it runs tasks again, should its master offer it again (REACTIVATE_AGENT).
 */
export function drainProgressed(agent: Agent): void {
  if (agent.drainConfig === undefined || !idle(agent)) return;
  agent.log.info('Agent finished draining');
  agent.drainConfig = undefined;
  agent.drainStartTime = undefined;
  if (agent.agentId === undefined) return;
  try {
    removeDrainConfig(agent.flags.workDir, agent.agentId);
  } catch (error) {
    agent.log.error({ err: error, work_dir: agent.flags.workDir }, 'Failed to remove the drain config checkpoint');
  }
}

/**
 * An update of a task that comes through the agent while it drains, as Mesos's
 * `Slave::statusUpdate` gives it: `TASK_KILLING`, `TASK_KILLED` and `TASK_GONE_BY_OPERATOR` say
 * why (`REASON_AGENT_DRAINING`, when they carry no reason of their own), and with `mark_gone` a
 * `TASK_KILLED` is `TASK_GONE_BY_OPERATOR` (the agent will be gone). Any other update, or any
 * update of an agent that is not draining, is `update` itself.
 */
export function drainingUpdate(agent: Agent, update: StatusUpdate): StatusUpdate {
  const config = agent.drainConfig;
  const { status } = update;
  if (config === undefined || !DRAINING_STATES.has(status.state)) return update;
  const state: TaskState = config.mark_gone === true && status.state === 'TASK_KILLED' ? 'TASK_GONE_BY_OPERATOR' : status.state;
  return { ...update, status: { ...status, state, reason: status.reason ?? 'REASON_AGENT_DRAINING' } };
}

const DRAINING_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['TASK_KILLING', 'TASK_KILLED', 'TASK_GONE_BY_OPERATOR']);

/**
 * The kill policy of a drain's kill (Mesos's `Slave::drain`): with a `max_grace_period`, the
 * smaller of it and the task's own grace period; without, none (the executor applies the task's
 * own).
 */
export function drainKillPolicy(config: DrainConfig, own: KillPolicy | undefined): KillPolicy | undefined {
  const max = config.max_grace_period;
  if (max === undefined) return undefined;
  const grace = own?.grace_period;
  return { grace_period: grace !== undefined && grace.nanoseconds < max.nanoseconds ? grace : max };
}

/**
 * Kills every task the agent has, but those of frameworks shutting down and of executors
 * terminating (they end anyway): a task still queued for an executor that has not registered
 * ends at once (the executor is shut down once it has nothing left to run); a launched one is
 * killed by its executor (`KillTaskMessage`), within `drainKillPolicy`. `resumed`: a task
 * already being killed (`TASK_KILLING`) is left to that kill.
 */
function killAll(agent: Agent, resumed: boolean): void {
  const config = agent.drainConfig!;
  for (const framework of [...agent.frameworks.values()]) {
    if (framework.state === 'TERMINATING') continue;
    for (const executor of [...framework.executors.values()]) {
      if (executor.state === 'REGISTERING') killQueued(agent, framework, executor);
      else if (executor.state === 'RUNNING') killLaunched(agent, framework, executor, config, resumed);
    }
  }
}

function killQueued(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord): void {
  if (executor.queuedTasks.size === 0) return;
  for (const taskId of [...executor.queuedTasks.keys()]) {
    agent.log.info({ task_id: taskId, executor_id: executor.id }, 'Killing task before delivery to the executor: the agent is draining');
    // `TASK_GONE_BY_OPERATOR` with `mark_gone` (`drainingUpdate`).
    sendAgentUpdate(agent, framework, executor, taskId, 'TASK_KILLED', 'REASON_AGENT_DRAINING', 'Killed before delivery to the executor: the agent is draining');
  }
  if (executor.launchedTasks.size === 0) {
    agent.log.info({ executor_id: executor.id }, 'Shutting down executor: it has no tasks to run');
    _shutdownExecutor(agent, framework, executor);
  }
}

function killLaunched(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, config: DrainConfig, resumed: boolean): void {
  for (const task of [...executor.launchedTasks.values()]) {
    if (resumed && task.state === 'TASK_KILLING') continue;
    const taskId = task.task_id.value;
    const killPolicy = drainKillPolicy(config, executor.killPolicies.get(taskId));
    agent.log.info({ task_id: taskId, executor_id: executor.id, kill_policy: killPolicy }, 'Asking executor to kill task: the agent is draining');
    agent.send(executor.pid!, KILL_TASK, {
      framework_id: { value: framework.id },
      task_id: task.task_id,
      ...(killPolicy !== undefined ? { kill_policy: killPolicy } : {}),
    } satisfies KillTask);
  }
}

/** No task is left to the agent (`ExecutorRecord.incomplete`); not told while it recovers them. */
function idle(agent: Agent): boolean {
  if (agent.state === 'RECOVERING') return false;
  for (const framework of agent.frameworks.values()) {
    for (const executor of framework.executors.values()) if (executor.incomplete) return false;
  }
  return true;
}
