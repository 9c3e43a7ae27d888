import {
  EXECUTOR_TO_FRAMEWORK,
  FRAMEWORK_TO_EXECUTOR,
  KILL_TASK,
  RUN_TASK,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  type ExecutorToFramework,
  type FrameworkToExecutor,
  type KillTask,
  type ReconcileTasks,
  type RunTask,
  type StatusUpdate,
  type StatusUpdateAcknowledgement,
  type StatusUpdateMessage,
} from '../../src/mesos/protocol.ts';
import { statusUuidBytes, statusUuidKey, statusUuidToString } from '../../src/mesos/ids.ts';
import { hasFrameworkCapability, isTerminalState, type FrameworkID, type FrameworkInfo, type TaskID, type TaskInfo, type TaskState, type TaskStatus, type TaskStatusReason } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import {
  SUM_ACKNOWLEDGEMENT,
  SUM_UPDATE,
  type SumAcknowledged,
  type SumAcknowledgement,
  type SumUpdate,
  type SumUpdated,
} from '../status-update-manager/protocol.ts';
import type { Agent } from './agent.ts';
import { checkpointFramework, checkpointTask, removeTaskCheckpoint } from './checkpoint.ts';
import { limitsOf } from './isolation.ts';
import { DRAINING_MESSAGE, drainingUpdate, drainProgressed } from './drain.ts';
import { _shutdownExecutor, commandExecutorInfo, createExecutor, executorTerminated, launchExecutor, removeExecutor, removeFramework } from './executors.ts';
import { createTask, FrameworkRecord, type ExecutorRecord } from './state.ts';
import { queuedGroupOf } from './task-groups.ts';
import { linkVolumes, unknownResources } from './volumes.ts';

/**
 * Tasks: running them in their executor (queued until it registers), killing them, status
 * updates (from executors, and the agent's own) through the status update manager and their
 * acknowledgements both ways, and framework messages between the master and the executors.
 */

// ---------------------------------------------------------------------------------------------
// Run and kill.

/**
 * `RunTaskMessage`: the task goes to its executor, launched first if it is not running. An agent
 * that drains runs nothing new: the task ends at once (Mesos's `Slave::run`).
 */
export function runTask(agent: Agent, from: UPID, body: RunTask): void {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from) }, 'Ignoring run task message from a process that is not our master');
    return;
  }
  const task = body.task;
  const taskId = task.task_id.value;
  // Re-registering (DISCONNECTED, REGISTERING with an id) still runs what our master sends: a
  // RunTaskMessage sent just before the re-registration reached it is the master's word, and
  // the master asks about tasks the re-registration did not report (`reconcileTasks`).
  if (agent.state === 'RECOVERING' || agent.state === 'TERMINATING' || agent.agentId === undefined) {
    agent.log.debug({ state: agent.state, task_id: taskId }, 'Ignoring run task message: the agent is not registered');
    return;
  }
  // A task meant for another agent id (the one this agent had before it registered anew) is not
  // ours to run (Mesos's `Slave::run`).
  if (task.agent_id.value !== agent.agentId) {
    agent.log.warn({ task_id: taskId, agent_id: task.agent_id.value }, 'Ignoring run task message: it was intended for an old agent id');
    return;
  }
  const frameworkId = body.framework_id.value;
  const info = { ...body.framework, id: body.framework_id };
  if (agent.drainConfig !== undefined) {
    // It never ran: TASK_DROPPED, or TASK_LOST for a framework that is not partition-aware.
    const framework = agent.frameworks.get(frameworkId) ?? new FrameworkRecord(frameworkId, info);
    agent.log.warn({ task_id: taskId, framework_id: frameworkId }, 'Refusing to run task: the agent is draining');
    sendAgentUpdate(agent, framework, undefined, taskId, droppedState(framework), 'REASON_AGENT_DRAINING', DRAINING_MESSAGE);
    return;
  }
  if ((task.executor === undefined) === (task.command === undefined)) {
    const framework = agent.frameworks.get(frameworkId) ?? new FrameworkRecord(frameworkId, info);
    sendAgentUpdate(agent, framework, undefined, taskId, 'TASK_ERROR', 'REASON_TASK_INVALID', 'A task needs exactly one of an executor and a command');
    return;
  }
  const unknown = unknownResources(agent, [task], task.executor);
  if (unknown !== undefined) {
    // Its master's checkpoint may yet come: TASK_DROPPED (TASK_LOST), as Mesos's `Slave::__run`.
    const framework = agent.frameworks.get(frameworkId) ?? new FrameworkRecord(frameworkId, info);
    agent.log.warn({ task_id: taskId, framework_id: frameworkId, reason: unknown }, 'Refusing to run task');
    sendAgentUpdate(agent, framework, undefined, taskId, droppedState(framework), 'REASON_RESOURCES_UNKNOWN', unknown);
    return;
  }
  const framework = addFramework(agent, frameworkId, info);
  if (framework.state === 'TERMINATING') {
    agent.log.warn({ task_id: taskId, framework_id: frameworkId }, 'Ignoring run task message: the framework is terminating');
    return;
  }
  if (framework.executorOfTask(taskId) !== undefined) {
    agent.log.warn({ task_id: taskId, framework_id: frameworkId }, 'Ignoring run task message: a task with this id is already here');
    return;
  }
  const executorInfo = task.executor !== undefined ? { ...task.executor, framework_id: body.framework_id } : commandExecutorInfo(task, frameworkId);
  const executorId = executorInfo.executor_id.value;
  let executor = framework.executors.get(executorId);
  const launching = executor === undefined;
  if (executor === undefined) {
    try {
      executor = createExecutor(agent, framework, executorInfo, task.command !== undefined);
    } catch (error) {
      agent.log.error({ err: error, task_id: taskId }, 'Failed to create the executor');
      sendAgentUpdate(agent, framework, undefined, taskId, 'TASK_FAILED', 'REASON_CONTAINER_LAUNCH_FAILED', `Failed to create the executor: ${(error as Error).message}`);
      if (framework.executors.size === 0) removeFramework(agent, framework);
      return;
    }
  }
  if (!prepareVolumes(agent, framework, executor, [task], launching)) return;
  switch (executor.state) {
    case 'TERMINATING':
    case 'TERMINATED': {
      // The task never ran: TASK_DROPPED, or TASK_LOST for a framework that is not
      // partition-aware (Mesos's `Slave::__run`).
      const which = executor.state.toLowerCase();
      agent.log.warn({ task_id: taskId, executor_id: executorId }, `Asked to run a task on an executor that is ${which}`);
      sendAgentUpdate(agent, framework, undefined, taskId, droppedState(framework), 'REASON_EXECUTOR_TERMINATED', `Executor ${which}`);
      return;
    }
    case 'REGISTERING':
      agent.log.info({ task_id: taskId, executor_id: executorId }, 'Queuing task until the executor registers');
      executor.queuedTasks.set(taskId, task);
      checkpoint(agent, framework, executor, task);
      agent.stats.tasksLaunched.inc();
      break;
    case 'RUNNING':
      launchTask(agent, framework, executor, task);
      agent.stats.tasksLaunched.inc();
      break;
  }
  if (launching) launchExecutor(agent, framework, executor);
}

/**
 * Links the persistent volumes of `tasks` (and of their executor, when `launching` it) into
 * their sandboxes (`volumes.ts`), for an executor that will run them. Should that fail, the
 * tasks fail (`REASON_CONTAINER_UPDATE_FAILED`, as after a failed isolator update in Mesos), an
 * executor launched for them goes, and the answer is false.
 */
export function prepareVolumes(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, tasks: readonly TaskInfo[], launching: boolean): boolean {
  if (executor.state !== 'REGISTERING' && executor.state !== 'RUNNING') return true;
  const problem = linkVolumes(agent, executor, tasks, launching);
  if (problem === undefined) return true;
  agent.log.warn({ executor_id: executor.id, task_ids: tasks.map((t) => t.task_id.value), reason: problem }, 'Failed to link persistent volumes');
  for (const task of tasks) sendAgentUpdate(agent, framework, undefined, task.task_id.value, 'TASK_FAILED', 'REASON_CONTAINER_UPDATE_FAILED', problem);
  if (launching) executorTerminated(agent, framework, executor, undefined, problem);
  return false;
}

/** The framework's record, made (and checkpointed) if the framework runs nothing here yet. */
export function addFramework(agent: Agent, frameworkId: string, info: FrameworkInfo & { id: FrameworkID }): FrameworkRecord {
  let framework = agent.frameworks.get(frameworkId);
  if (framework !== undefined) return framework;
  framework = new FrameworkRecord(frameworkId, info);
  agent.frameworks.set(frameworkId, framework);
  if (framework.checkpoint) checkpointFramework(agent.flags.workDir, agent.agentId!, info);
  // The framework ran here before: it is no longer completed, and it keeps the executors it
  // completed then (Mesos's `Slave::run`), so `/state` lists it once.
  const completed = agent.completedFrameworks.findIndex((f) => f.id === frameworkId);
  if (completed >= 0) {
    const [previous] = agent.completedFrameworks.splice(completed, 1);
    framework.completedExecutors.push(...previous!.completedExecutors);
  }
  return framework;
}

/**
 * `ReconcileTasksMessage`: tasks the master launched here that our re-registration did not
 * report. Each one this agent does not know (its RunTaskMessage was lost) ends TASK_LOST
 * (TASK_DROPPED for a partition-aware framework), REASON_RECONCILIATION, through the status
 * update manager like any update of ours; one it knows (the RunTaskMessage came after the
 * report was written, and before this message) needs nothing. Mesos's `Slave::reconcileTasks`.
 */
export function reconcileTasks(agent: Agent, from: UPID, body: ReconcileTasks): void {
  if (!agent.heeds(from, 'task reconciliation')) return;
  const frameworkId = body.framework_id.value;
  const known = agent.frameworks.get(frameworkId);
  for (const status of body.statuses) {
    const taskId = status.task_id.value;
    if (known?.executorOfTask(taskId) !== undefined) continue;
    // An update for a framework this agent never ran anything for goes out all the same.
    const state = known !== undefined ? droppedState(known) : 'TASK_LOST';
    sendAgentUpdate(agent, known ?? { id: frameworkId, checkpoint: false }, undefined, taskId, state, 'REASON_RECONCILIATION', 'Reconciliation: task unknown to the agent');
  }
}

/** The state of a task that never ran here: TASK_DROPPED, TASK_LOST for a framework that is not partition-aware (Mesos). */
export function droppedState(framework: FrameworkRecord): TaskState {
  return hasFrameworkCapability(framework.info, 'PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST';
}

/** Hands `task` to a registered executor. */
export function launchTask(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, task: TaskInfo): void {
  const taskId = task.task_id.value;
  executor.launchedTasks.set(taskId, createTask(task, framework.id, agent.agentId!, executor.commandExecutor ? undefined : executor.id));
  if (task.kill_policy !== undefined) executor.killPolicies.set(taskId, task.kill_policy);
  checkpoint(agent, framework, executor, task);
  // The container may use the task's resources too before the executor hears of it (`cgroups/*`).
  updateLimits(agent, executor, taskId);
  agent.log.info({ task_id: taskId, executor_id: executor.id, framework_id: framework.id }, 'Sending task to executor');
  agent.send(executor.pid!, RUN_TASK, { framework_id: { value: framework.id }, framework: framework.info, task } satisfies RunTask);
}

/** Checkpoints `task` under its executor's run, if its framework checkpoints. */
export function checkpoint(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, task: TaskInfo): void {
  if (!framework.checkpoint) return;
  try {
    checkpointTask(agent.flags.workDir, agent.agentId!, framework.id, executor.id, executor.containerId, task);
  } catch (error) {
    agent.log.error({ err: error, task_id: task.task_id.value }, 'Failed to checkpoint task');
  }
}

/** `KillTaskMessage`: forwarded to the executor; a task still queued is killed right here. */
export function killTask(agent: Agent, from: UPID, body: KillTask): void {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from) }, 'Ignoring kill task message from a process that is not our master');
    return;
  }
  const taskId = body.task_id.value;
  // Re-registering (DISCONNECTED, REGISTERING) still kills what our master asks to kill, as
  // Mesos's `Slave::killTask` does: the master will not send the kill again.
  if (agent.state === 'RECOVERING' || agent.state === 'TERMINATING' || agent.agentId === undefined) {
    agent.log.debug({ state: agent.state, task_id: taskId }, 'Ignoring kill task message: the agent is not registered');
    return;
  }
  const framework = agent.frameworks.get(body.framework_id.value);
  if (framework === undefined) {
    agent.log.warn({ task_id: taskId, framework_id: body.framework_id.value }, 'Ignoring kill task of an unknown framework');
    return;
  }
  if (framework.state === 'TERMINATING') {
    // No update: a framework that is going away acknowledges none.
    agent.log.warn({ task_id: taskId, framework_id: framework.id }, 'Ignoring kill task: the framework is terminating');
    return;
  }
  const executor = framework.executorOfTask(taskId);
  if (executor === undefined) {
    // The master thinks the task is here; tell it otherwise: it never ran here (Mesos does the same).
    agent.log.warn({ task_id: taskId }, 'Cannot kill task: no executor runs it');
    sendAgentUpdate(agent, framework, undefined, taskId, droppedState(framework), 'REASON_EXECUTOR_TERMINATED', 'Cannot find executor');
    return;
  }
  switch (executor.state) {
    case 'REGISTERING': {
      if (!executor.queuedTasks.has(taskId)) return;
      // A task of a queued group takes its whole group with it, as in Mesos.
      for (const id of queuedGroupOf(executor, taskId)) {
        agent.log.info({ task_id: id, executor_id: executor.id }, 'Killing task before delivery to the executor');
        sendAgentUpdate(agent, framework, executor, id, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', 'Killed before delivery to the executor');
      }
      if (executor.queuedTasks.size === 0 && executor.launchedTasks.size === 0) {
        agent.log.info({ executor_id: executor.id }, 'Shutting down executor: it has no tasks to run');
        _shutdownExecutor(agent, framework, executor);
      }
      return;
    }
    case 'TERMINATING':
    case 'TERMINATED':
      agent.log.warn({ task_id: taskId, executor_id: executor.id, state: executor.state }, 'Ignoring kill task: the executor is terminating');
      return;
    case 'RUNNING':
      agent.log.info({ task_id: taskId, executor_id: executor.id }, 'Asking executor to kill task');
      agent.send(executor.pid!, KILL_TASK, body);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Status updates.

/** `StatusUpdateMessage` from an executor: checked, recorded, handed to the status update manager. */
export function statusUpdate(agent: Agent, from: UPID, body: StatusUpdateMessage): void {
  const { update } = body;
  const status = update.status;
  const taskId = status.task_id.value;
  const drop = (reason: string): void => {
    agent.stats.invalidStatusUpdates.inc();
    agent.log.warn({ task_id: taskId, state: status.state, from: String(from), reason }, 'Ignoring status update');
  };
  if (agent.state === 'TERMINATING') {
    drop('the agent is terminating');
    return;
  }
  const framework = agent.frameworks.get(update.framework_id.value);
  if (framework === undefined || framework.state === 'TERMINATING') {
    drop(framework === undefined ? 'unknown framework' : 'the framework is terminating');
    return;
  }
  const executorId = update.executor_id?.value ?? status.executor_id?.value;
  const executor = executorId !== undefined ? framework.executors.get(executorId) : framework.executorOfTask(taskId);
  // While the agent recovers, only an executor that survived the restart and re-registered is
  // heard (its status update manager has recovered by then); the others resend what they kept
  // when they re-register.
  if (agent.state === 'RECOVERING' && (executor === undefined || !executor.recovered || executor.state !== 'RUNNING')) {
    drop('the agent is recovering');
    return;
  }
  if (executor === undefined || executor.pid === undefined || !executor.pid.equals(from)) {
    drop('not from the executor of the task');
    return;
  }
  const problem = updateProblem(executor, status);
  if (problem !== undefined) {
    drop(problem);
    return;
  }
  if (status.state === 'TASK_STAGING') {
    // As Mesos's `Slave::statusUpdate`: TASK_STAGING is the agent's to give, and an executor that
    // sends it is broken; it is shut down (the v1 HTTP executor API answers 400 for it before
    // it gets here). The update is neither recorded nor acknowledged.
    agent.log.error({ task_id: taskId, executor_id: executor.id, framework_id: framework.id }, 'Received TASK_STAGING from executor which is not allowed; shutting down the executor');
    if (executor.state === 'REGISTERING' || executor.state === 'RUNNING') _shutdownExecutor(agent, framework, executor);
    return;
  }
  const ended = executor.terminatedTasks.get(taskId);
  const uuidKey = statusUuidKey(status.uuid!);
  if (ended !== undefined && !ended.statuses.some((s) => s.uuid !== undefined && statusUuidKey(s.uuid) === uuidKey)) {
    // The task already ended: the update is dropped, and acknowledged so that the executor does
    // not resend it (Mesos's `Slave::_statusUpdate` when `Executor::updateTaskState` refuses it).
    // A resent copy of an update the task has goes on: the manager acknowledges it once it holds it.
    drop(`task '${taskId}' already ended in ${ended.state}`);
    acknowledgeExecutor(agent, from, update.framework_id, status.task_id, status.uuid!);
    return;
  }
  const agentId = agent.info.id!;
  const stamped: StatusUpdate = {
    ...update,
    agent_id: agentId,
    executor_id: executor.info.executor_id,
    uuid: status.uuid!,
    status: { ...status, source: 'SOURCE_EXECUTOR', agent_id: agentId, executor_id: executor.info.executor_id },
  };
  agent.stats.validStatusUpdates.inc();
  agent.pendingAcks.set(uuidKey, from);
  forward(agent, framework, executor, stamped);
}

/** Why an executor's update cannot be taken (Mesos's executor call validation), or `undefined`. */
function updateProblem(executor: ExecutorRecord, status: TaskStatus): string | undefined {
  if (status.uuid === undefined || statusUuidBytes(status.uuid) === undefined) return "'status.uuid' must be 16 bytes in base64";
  if (!executor.hasTask(status.task_id.value)) return `task '${status.task_id.value}' is not a task of executor '${executor.id}'`;
  return undefined;
}

/** What an update needs of its framework: its id, and whether its updates are checkpointed. */
type UpdatingFramework = Pick<FrameworkRecord, 'id' | 'checkpoint'>;

/** An update the agent generates itself (`SOURCE_AGENT`): executor gone, task killed while queued, ... */
export function sendAgentUpdate(
  agent: Agent,
  framework: UpdatingFramework,
  executor: ExecutorRecord | undefined,
  taskId: string,
  state: TaskState,
  reason: TaskStatusReason,
  message: string,
): void {
  const uuid = agent.newUuid();
  const timestamp = agent.now() / 1000;
  const agentId = agent.info.id ?? { value: '' };
  const status: TaskStatus = { task_id: { value: taskId }, state, message, source: 'SOURCE_AGENT', reason, agent_id: agentId, timestamp, uuid };
  const update: StatusUpdate = { framework_id: { value: framework.id }, agent_id: agentId, status, timestamp, uuid };
  if (executor !== undefined) {
    status.executor_id = executor.info.executor_id;
    update.executor_id = executor.info.executor_id;
  }
  agent.log.info({ task_id: taskId, state, reason, message }, 'Sending status update');
  forward(agent, framework, executor, update);
}

/**
 * Records the update on its task and gives it to the status update manager; while the agent
 * drains, a kill's update says so first (`drainingUpdate`), so that what is recorded,
 * checkpointed and forwarded is the same.
 */
function forward(agent: Agent, framework: UpdatingFramework, executor: ExecutorRecord | undefined, received: StatusUpdate): void {
  const update = drainingUpdate(agent, received);
  const task = executor?.updateTaskState(update.status, agent.info.id?.value ?? '');
  // A task that ended just now (`updateTaskState` refuses a task that had ended already).
  if (task !== undefined && isTerminalState(task.state)) {
    agent.tasksEnded[task.state]?.inc();
    // Its executor's container no longer needs its resources (`cgroups/*`: the CPU shares fall).
    updateLimits(agent, executor!, task.task_id.value);
  }
  agent.send(agent.sum, SUM_UPDATE, { update, checkpoint: framework.checkpoint } satisfies SumUpdate);
}

/** The manager has the update (on disk if checkpointed): acknowledge it to the executor that sent it. */
export function statusUpdated(agent: Agent, from: UPID, body: SumUpdated): void {
  if (!from.equals(agent.sum)) {
    agent.log.warn({ from: String(from) }, 'Ignoring status update result from a process that is not our status update manager');
    return;
  }
  const key = statusUuidKey(body.uuid);
  const executorPid = agent.pendingAcks.get(key);
  agent.pendingAcks.delete(key);
  if (body.error !== undefined) {
    agent.log.error({ task_id: body.task_id.value, uuid: statusUuidToString(body.uuid), reason: body.error }, 'Status update manager refused status update');
    return;
  }
  if (executorPid === undefined) return;
  acknowledgeExecutor(agent, executorPid, body.framework_id, body.task_id, body.uuid);
}

function acknowledgeExecutor(agent: Agent, executorPid: UPID, frameworkId: FrameworkID, taskId: TaskID, uuid: string): void {
  agent.send(executorPid, STATUS_UPDATE_ACKNOWLEDGEMENT, {
    slave_id: agent.info.id ?? { value: '' },
    framework_id: frameworkId,
    task_id: taskId,
    uuid,
  } satisfies StatusUpdateAcknowledgement);
}

/** `StatusUpdateAcknowledgementMessage` from the master: for the manager. */
export function statusUpdateAcknowledgement(agent: Agent, from: UPID, body: StatusUpdateAcknowledgement): void {
  if (!agent.heeds(from, 'status update acknowledgement')) return;
  if (body.slave_id.value !== agent.agentId) {
    agent.log.warn({ slave_id: body.slave_id.value, task_id: body.task_id.value }, 'Ignoring status update acknowledgement for another agent');
    return;
  }
  agent.send(agent.sum, SUM_ACKNOWLEDGEMENT, { framework_id: body.framework_id, task_id: body.task_id, uuid: body.uuid } satisfies SumAcknowledgement);
}

/** The manager applied an acknowledgement; a terminal one completes the task and frees its resources. */
export function statusAcknowledged(agent: Agent, from: UPID, body: SumAcknowledged): void {
  if (!from.equals(agent.sum)) {
    agent.log.warn({ from: String(from) }, 'Ignoring acknowledgement result from a process that is not our status update manager');
    return;
  }
  if (!body.terminal) return;
  const framework = agent.frameworks.get(body.framework_id.value);
  const executor = framework?.executorOfTask(body.task_id.value);
  if (framework === undefined || executor === undefined) {
    agent.log.debug({ task_id: body.task_id.value }, 'Ignoring terminal acknowledgement of a task that is gone');
    return;
  }
  executor.completeTask(body.task_id.value);
  if (framework.checkpoint) removeTaskCheckpoint(agent.flags.workDir, agent.agentId!, framework.id, executor.id, executor.containerId, body.task_id.value);
  agent.log.debug({ task_id: body.task_id.value, executor_id: executor.id }, 'Task completed');
  if (executor.state === 'TERMINATED' && !executor.incomplete) removeExecutor(agent, framework, executor);
  // A draining agent whose last task is done (its end acknowledged) is drained.
  drainProgressed(agent);
}

// ---------------------------------------------------------------------------------------------
// Framework messages.

/** `FrameworkToExecutorMessage` from the master (a scheduler's message): to the executor. */
export function schedulerMessage(agent: Agent, from: UPID, body: FrameworkToExecutor): void {
  const drop = (reason: string): void => {
    agent.stats.invalidFrameworkMessages.inc();
    agent.log.warn({ executor_id: body.executor_id.value, framework_id: body.framework_id.value, reason }, 'Dropping message from framework');
  };
  if (!agent.fromMaster(from)) {
    drop(`it came from ${String(from)}, not from our master`);
    return;
  }
  if (agent.state !== 'RUNNING') {
    drop(`the agent is ${agent.state.toLowerCase()}`);
    return;
  }
  const executor = agent.frameworks.get(body.framework_id.value)?.executors.get(body.executor_id.value);
  if (executor === undefined || executor.state !== 'RUNNING' || executor.pid === undefined) {
    drop(executor === undefined ? 'unknown executor' : `the executor is ${executor.state.toLowerCase()}`);
    return;
  }
  agent.stats.validFrameworkMessages.inc();
  agent.send(executor.pid, FRAMEWORK_TO_EXECUTOR, { ...body, slave_id: agent.info.id! } satisfies FrameworkToExecutor);
}

/** `ExecutorToFrameworkMessage` from an executor: to the master, which relays it to the scheduler. */
export function executorMessage(agent: Agent, from: UPID, body: ExecutorToFramework): void {
  const drop = (reason: string): void => {
    agent.stats.invalidFrameworkMessages.inc();
    agent.log.warn({ executor_id: body.executor_id.value, framework_id: body.framework_id.value, reason }, 'Dropping message from executor');
  };
  if (agent.state !== 'RUNNING') {
    drop(`the agent is ${agent.state.toLowerCase()}`);
    return;
  }
  const framework = agent.frameworks.get(body.framework_id.value);
  const executor = framework?.executors.get(body.executor_id.value);
  if (executor === undefined || executor.pid === undefined || !executor.pid.equals(from)) {
    drop('not from that executor');
    return;
  }
  // The framework is going away: its scheduler is to hear nothing more (Mesos's `Slave::executorMessage`).
  if (framework!.state === 'TERMINATING') {
    drop('the framework is terminating');
    return;
  }
  agent.stats.validFrameworkMessages.inc();
  agent.send(agent.master, EXECUTOR_TO_FRAMEWORK, { ...body, slave_id: agent.info.id! } satisfies ExecutorToFramework);
}

/**
 * Sets the limits of the executor's container to its executor's and tasks' resources now (as
 * Mesos's agent calls `Containerizer::update` when a task joins or ends); nothing without
 * `cgroups/*` isolation.
 */
export function updateLimits(agent: Agent, executor: ExecutorRecord, taskId: string): void {
  // Every launch and every task's end comes here: nothing to work out without isolation.
  if (agent.containerizer.isolator === undefined) return;
  try {
    agent.containerizer.update(executor.containerId, limitsOf(executor.resources()));
  } catch (error) {
    agent.log.warn({ err: error, executor_id: executor.id, task_id: taskId }, "Cannot update the limits of the executor's container");
  }
}
