import type { UPID } from '../../src/process/upid.ts';
import {
  FRAMEWORK_TO_EXECUTOR,
  KILL_TASK,
  SHUTDOWN_EXECUTOR,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  type ExecutorToFramework,
  type StatusUpdateMessage,
  type Task,
} from '../../src/mesos/protocol.ts';
import { isTerminalState, type TaskState, type TaskStatus } from '../../src/mesos/v1/common.ts';
import type { SchedulerCallOf } from '../../src/mesos/v1/index.ts';
import * as drain from './drain.ts';
import type { Master } from './master-process.ts';
import * as offers from './offers.ts';
import * as operatorEvents from './operator-events.ts';
import { type FrameworkRecord, masterStatus } from './state.ts';

/**
 * Tasks after launch: status updates from agents to frameworks and acknowledgements back, KILL,
 * SHUTDOWN, RECONCILE (explicit and implicit), framework messages in both directions.
 */

export function isTerminalTask(task: Task): boolean {
  return isTerminalState(task.state);
}

/** `StatusUpdateMessage` from an agent's StatusUpdateManager: forward to the framework. */
export function statusUpdate(m: Master, from: UPID, body: StatusUpdateMessage): void {
  m.stats.statusUpdates.inc();
  const update = body.update;
  const agentId = update.agent_id?.value ?? update.status.agent_id?.value;
  const agent = agentId === undefined ? undefined : m.agents.get(agentId);
  const sender = body.pid ?? String(from);
  if (agent === undefined || String(agent.pid) !== sender) {
    m.stats.invalidStatusUpdates.inc();
    m.log.warn({ from: String(from), agentId, taskId: update.status.task_id.value }, 'Ignoring status update from an unknown or stale agent');
    return;
  }
  const framework = m.frameworks.get(update.framework_id.value);
  if (framework === undefined) {
    m.stats.invalidStatusUpdates.inc();
    m.log.warn({ frameworkId: update.framework_id.value, taskId: update.status.task_id.value }, 'Ignoring status update of an unknown framework');
    return;
  }
  const status: TaskStatus = { ...update.status };
  if (update.uuid !== undefined) status.uuid = update.uuid;
  status.agent_id ??= { value: agent.id };
  const task = framework.tasks.get(status.task_id.value);
  if (task === undefined && framework.completedTasks.some((t) => t.task_id.value === status.task_id.value)) {
    // The framework has heard this task's end already (lost with its agent, or killed with its
    // framework's shutdown): one terminal state per task. The agent still needs its ack.
    m.stats.invalidStatusUpdates.inc();
    m.log.info({ taskId: status.task_id.value, state: status.state }, 'Not forwarding an update of a completed task; acknowledging it to the agent');
    if (update.uuid !== undefined) {
      m.send(agent.pid, STATUS_UPDATE_ACKNOWLEDGEMENT, { slave_id: { value: agent.id }, framework_id: update.framework_id, task_id: status.task_id, uuid: update.uuid });
    }
    return;
  }
  if (task !== undefined && !isTerminalTask(task)) {
    // The agent's latest state of the task (`latest_state`) may be past the update it sends.
    // Once terminal, a task's state stays (Mesos `updateTask`): its resources are back already.
    const previous = task.state;
    task.state = (update.latest_state ?? status.state) as TaskState;
    if (isTerminalTask(task)) {
      m.tasksEnded[task.state]?.inc();
      // Terminal: the resources go back now, not when the framework acknowledges (Mesos
      // recovers them in `updateTask`); the task stays until then, using nothing.
      offers.recover(m, framework.id, agent.id, task.resources);
    }
    if (m.operatorSubscribers.size > 0 && task.state !== previous) operatorEvents.taskUpdated(m, task, status);
  }
  if (task !== undefined) {
    // The recorded status leaves out `data` (made without `delete`, which slows an object down).
    const { data, ...recorded } = status;
    task.statuses.push(recorded);
    if (update.uuid !== undefined) {
      task.status_update_state = status.state;
      task.status_update_uuid = update.uuid;
    }
  }
  m.stats.validStatusUpdates.inc();
  m.sendEvent(framework, { type: 'UPDATE', update: { status } });
  // An update that needs no acknowledgement ends a terminal task at once.
  if (task !== undefined && update.uuid === undefined && isTerminalState(status.state)) removeTask(m, framework, task);
}

/** ACKNOWLEDGE: pass it to the agent; a terminal update acknowledged ends the task (its resources went back when it became terminal). */
export function acknowledge(m: Master, framework: FrameworkRecord, ack: SchedulerCallOf<'ACKNOWLEDGE'>['acknowledge']): void {
  m.stats.acknowledgements.inc();
  const agent = m.agents.get(ack.agent_id.value);
  if (agent === undefined || !agent.connected) {
    m.stats.invalidAcknowledgements.inc();
    m.log.warn({ frameworkId: framework.id, agentId: ack.agent_id.value, taskId: ack.task_id.value }, 'Ignoring acknowledgement for an unknown or disconnected agent');
    return;
  }
  m.stats.validAcknowledgements.inc();
  m.send(agent.pid, STATUS_UPDATE_ACKNOWLEDGEMENT, {
    slave_id: ack.agent_id,
    framework_id: { value: framework.id },
    task_id: ack.task_id,
    uuid: ack.uuid,
  });
  const task = framework.tasks.get(ack.task_id.value);
  if (task === undefined || task.status_update_uuid !== ack.uuid) return;
  const state = task.status_update_state;
  // Cleared, not deleted: a `delete` turns the task into a slow dictionary-mode object.
  task.status_update_state = undefined;
  task.status_update_uuid = undefined;
  if (state !== undefined && isTerminalState(state)) removeTask(m, framework, task);
}

/**
 * The task is done and its terminal update acknowledged: it moves to the completed tasks. Its
 * resources went back when it became terminal (`statusUpdate`), so only a task removed before
 * that returns them here. A draining agent may be drained now (`drain.checkDrained`).
 */
export function removeTask(m: Master, framework: FrameworkRecord, task: Task): void {
  const agent = m.agents.get(task.agent_id.value);
  agent?.removeTask(task);
  framework.completeTask(task);
  if (agent !== undefined && !isTerminalTask(task)) offers.recover(m, framework.id, agent.id, task.resources);
  if (agent !== undefined && m.drainInfos.size > 0) drain.checkDrained(m, agent.id);
}

/** KILL: forward to the agent; a task the master does not know is reconciled instead (Mesos). */
export function kill(m: Master, framework: FrameworkRecord, k: SchedulerCallOf<'KILL'>['kill']): void {
  m.stats.killTask.inc();
  const task = framework.tasks.get(k.task_id.value);
  if (task === undefined) {
    m.log.info({ frameworkId: framework.id, taskId: k.task_id.value }, 'Cannot kill an unknown task; performing reconciliation');
    reconcile(m, framework, [k.agent_id === undefined ? { task_id: k.task_id } : { task_id: k.task_id, agent_id: k.agent_id }]);
    return;
  }
  if (isTerminalTask(task)) {
    m.log.debug({ taskId: task.task_id.value }, 'Ignoring kill of a terminal task');
    return;
  }
  const agent = m.agents.get(task.agent_id.value);
  if (agent === undefined || !agent.connected) {
    m.log.warn({ taskId: task.task_id.value, agentId: task.agent_id.value }, 'Cannot kill task: its agent is disconnected');
    return;
  }
  const body: Record<string, unknown> = { framework_id: { value: framework.id }, task_id: k.task_id };
  if (k.kill_policy !== undefined) body.kill_policy = k.kill_policy;
  m.send(agent.pid, KILL_TASK, body);
}

/** SHUTDOWN: stop one executor on one agent. */
export function shutdownExecutor(m: Master, framework: FrameworkRecord, s: SchedulerCallOf<'SHUTDOWN'>['shutdown']): void {
  const agent = m.agents.get(s.agent_id.value);
  if (agent === undefined || !agent.connected) {
    m.log.warn({ agentId: s.agent_id.value }, 'Ignoring executor shutdown for an unknown or disconnected agent');
    return;
  }
  m.send(agent.pid, SHUTDOWN_EXECUTOR, { framework_id: { value: framework.id }, executor_id: s.executor_id });
}

/**
 * RECONCILE. Implicit (no tasks): the latest state of every task the master knows (its
 * unreachable ones too, TASK_UNREACHABLE). Explicit, as Mesos's `reconcile`: each named task's
 * latest state, or, for a task the master does not know, TASK_GONE when its agent is registered,
 * TASK_GONE_BY_OPERATOR when an operator marked the agent gone, TASK_UNREACHABLE (with the
 * agent's `unreachable_time`) when the agent is unreachable,
 * TASK_UNKNOWN otherwise (an agent removed for good included); TASK_LOST in every such case to a
 * framework that is not partition-aware; all with REASON_RECONCILIATION. While agents from the
 * registry may still re-register after a failover, an unknown task on one of them (or on an
 * unnamed agent) gets no answer, as in Mesos: the agent may yet bring it back, and a framework
 * told TASK_LOST would have given it up. It asks again later.
 */
export function reconcile(m: Master, framework: FrameworkRecord, list: { task_id: { value: string }; agent_id?: { value: string } }[]): void {
  const send = (status: TaskStatus) => m.sendEvent(framework, { type: 'UPDATE', update: { status } });
  if (list.length === 0) {
    for (const task of framework.tasks.values()) send(latestStatus(m, task));
    for (const task of framework.unreachableTasks.values()) send(latestStatus(m, task));
    return;
  }
  for (const entry of list) {
    const task = framework.tasks.get(entry.task_id.value) ?? framework.unreachableTasks.get(entry.task_id.value);
    if (task !== undefined) {
      send(latestStatus(m, task));
      continue;
    }
    const agentId = entry.agent_id?.value;
    if (agentId === undefined ? m.recoveredAgents.size > 0 : m.recoveredAgents.has(agentId)) {
      m.log.info({ frameworkId: framework.id, taskId: entry.task_id.value, agentId }, 'Dropping reconciliation of a task whose agent may still re-register');
      continue;
    }
    const unreachableTime = agentId === undefined ? undefined : m.unreachableAgents.get(agentId);
    let state: TaskState = 'TASK_UNKNOWN';
    let message = 'Reconciliation: Task is unknown';
    if (agentId !== undefined && m.agents.has(agentId)) {
      state = 'TASK_GONE';
      message = 'Reconciliation: Task is unknown to the agent';
    } else if (agentId !== undefined && m.goneAgents.has(agentId)) {
      state = 'TASK_GONE_BY_OPERATOR';
      message = 'Reconciliation: Task is gone';
    } else if (unreachableTime !== undefined) {
      state = 'TASK_UNREACHABLE';
      message = 'Reconciliation: Task is unreachable';
    }
    if (!framework.partitionAware) state = 'TASK_LOST';
    const target = entry.agent_id === undefined ? { task_id: entry.task_id } : { task_id: entry.task_id, agent_id: entry.agent_id };
    const status = masterStatus(target, state, 'REASON_RECONCILIATION', message, m.now());
    if (unreachableTime !== undefined) status.unreachable_time = { nanoseconds: unreachableTime * 1e6 };
    send(status);
  }
}

function latestStatus(m: Master, task: Task): TaskStatus {
  const last = task.statuses[task.statuses.length - 1];
  const status = masterStatus(task, task.state, 'REASON_RECONCILIATION', 'Reconciliation: Latest task state', m.now());
  if (last?.healthy !== undefined) status.healthy = last.healthy;
  return status;
}

/** MESSAGE from a scheduler: to its executor, through the agent. */
export function frameworkMessage(m: Master, framework: FrameworkRecord, msg: SchedulerCallOf<'MESSAGE'>['message']): void {
  m.stats.frameworkMessages.inc();
  const agent = m.agents.get(msg.agent_id.value);
  if (agent === undefined || !agent.connected) {
    m.stats.invalidFrameworkMessages.inc();
    m.log.warn({ frameworkId: framework.id, agentId: msg.agent_id.value }, 'Dropping framework message for an unknown or disconnected agent');
    return;
  }
  m.stats.validFrameworkMessages.inc();
  m.send(agent.pid, FRAMEWORK_TO_EXECUTOR, {
    slave_id: msg.agent_id,
    framework_id: { value: framework.id },
    executor_id: msg.executor_id,
    data: msg.data,
  });
}

/** `ExecutorToFrameworkMessage` from an agent: a MESSAGE event to the scheduler. */
export function executorMessage(m: Master, from: UPID, body: ExecutorToFramework): void {
  m.stats.executorMessages.inc();
  const framework = m.frameworks.get(body.framework_id.value);
  if (framework === undefined || !framework.connected) {
    m.stats.invalidExecutorMessages.inc();
    m.log.warn({ from: String(from), frameworkId: body.framework_id.value }, 'Dropping executor message for an unknown or disconnected framework');
    return;
  }
  m.stats.validExecutorMessages.inc();
  m.sendEvent(framework, { type: 'MESSAGE', message: { agent_id: body.slave_id, executor_id: body.executor_id, data: body.data } });
}
