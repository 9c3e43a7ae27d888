import { RUN_TASK_GROUP, type RunTaskGroup } from '../../src/mesos/protocol.ts';
import type { TaskInfo } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import type { Agent } from './agent.ts';
import { DRAINING_MESSAGE } from './drain.ts';
import { createExecutor, launchExecutor, removeFramework } from './executors.ts';
import { createTask, FrameworkRecord, type ExecutorRecord } from './state.ts';
import { addFramework, checkpoint, droppedState, launchTask, prepareVolumes, sendAgentUpdate, updateLimits } from './tasks.ts';
import { unknownResources } from './volumes.ts';

/**
 * Task groups at the agent (Mesos's `Slave::run` given a `TaskGroupInfo`):
 *
 * 1. `RunTaskGroupMessage`: the group's executor (the default executor) is launched, or the
 *    running one reused; the group waits, queued whole, until the executor registers, and is
 *    then handed over whole (a `RunTaskGroupMessage` to an executor on the bus, a LAUNCH_GROUP
 *    event to one subscribed over the v1 executor API). An agent that drains, or an executor
 *    that is going away, runs none of it.
 * 2. Killing a task of a group still queued kills its whole group here (`TASK_KILLED`,
 *    `REASON_TASK_KILLED_DURING_LAUNCH`); once delivered, kills go to the executor, which kills
 *    the group (`default-executor.ts`).
 *
 * Once handed over, each task of a group is a task of its executor like any other: status
 * updates, checkpoints, recovery and the agent's endpoints treat it as such.
 */

/** `RunTaskGroupMessage` from the master. */
export function runTaskGroup(agent: Agent, from: UPID, body: RunTaskGroup): void {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from) }, 'Ignoring run task group message from a process that is not our master');
    return;
  }
  const tasks = body.task_group.tasks ?? [];
  const taskIds = tasks.map((task) => task.task_id.value);
  if (agent.state === 'RECOVERING' || agent.state === 'TERMINATING' || agent.agentId === undefined) {
    agent.log.debug({ state: agent.state, task_ids: taskIds }, 'Ignoring run task group message: the agent is not registered');
    return;
  }
  if (tasks.length === 0) {
    agent.log.warn({ executor_id: body.executor.executor_id.value }, 'Ignoring run task group message: the group has no task');
    return;
  }
  // Tasks meant for another agent id (the one this agent had before it registered anew).
  const stray = tasks.find((task) => task.agent_id.value !== agent.agentId);
  if (stray !== undefined) {
    agent.log.warn({ task_id: stray.task_id.value, agent_id: stray.agent_id.value }, 'Ignoring run task group message: it was intended for an old agent id');
    return;
  }
  const frameworkId = body.framework.id.value;
  const executorId = body.executor.executor_id.value;
  if (agent.drainConfig !== undefined) {
    const framework = agent.frameworks.get(frameworkId) ?? new FrameworkRecord(frameworkId, body.framework);
    agent.log.warn({ task_ids: taskIds, framework_id: frameworkId }, 'Refusing to run task group: the agent is draining');
    for (const id of taskIds) sendAgentUpdate(agent, framework, undefined, id, droppedState(framework), 'REASON_AGENT_DRAINING', DRAINING_MESSAGE);
    return;
  }
  const unknown = unknownResources(agent, tasks, body.executor);
  if (unknown !== undefined) {
    const framework = agent.frameworks.get(frameworkId) ?? new FrameworkRecord(frameworkId, body.framework);
    agent.log.warn({ task_ids: taskIds, framework_id: frameworkId, reason: unknown }, 'Refusing to run task group');
    for (const id of taskIds) sendAgentUpdate(agent, framework, undefined, id, droppedState(framework), 'REASON_RESOURCES_UNKNOWN', unknown);
    return;
  }
  const framework = addFramework(agent, frameworkId, body.framework);
  if (framework.state === 'TERMINATING') {
    agent.log.warn({ task_ids: taskIds, framework_id: frameworkId }, 'Ignoring run task group message: the framework is terminating');
    return;
  }
  const known = taskIds.find((id) => framework.executorOfTask(id) !== undefined);
  if (known !== undefined || new Set(taskIds).size !== taskIds.length) {
    agent.log.warn({ task_id: known, task_ids: taskIds, framework_id: frameworkId }, 'Ignoring run task group message: a task with one of its ids is already here');
    return;
  }
  const running = framework.executors.get(executorId);
  const launching = running === undefined;
  let executor: ExecutorRecord;
  try {
    executor = running ?? createExecutor(agent, framework, { ...body.executor, framework_id: body.framework.id }, false);
  } catch (error) {
    agent.log.error({ err: error, task_ids: taskIds }, 'Failed to create the executor');
    for (const id of taskIds) sendAgentUpdate(agent, framework, undefined, id, 'TASK_FAILED', 'REASON_CONTAINER_LAUNCH_FAILED', `Failed to create the executor: ${(error as Error).message}`);
    if (framework.executors.size === 0) removeFramework(agent, framework);
    return;
  }
  const info = executor.info;
  // Each task names the group's executor (the master fills it in); a group from an older master
  // may not.
  const group = tasks.map((task): TaskInfo => (task.executor !== undefined ? task : { ...task, executor: info }));
  if (!prepareVolumes(agent, framework, executor, group, launching)) return;
  switch (executor.state) {
    case 'TERMINATING':
    case 'TERMINATED': {
      // The group never ran (Mesos's `Slave::__run`).
      const which = executor.state.toLowerCase();
      agent.log.warn({ task_ids: taskIds, executor_id: executorId }, `Asked to run a task group on an executor that is ${which}`);
      for (const id of taskIds) sendAgentUpdate(agent, framework, undefined, id, droppedState(framework), 'REASON_EXECUTOR_TERMINATED', `Executor ${which}`);
      return;
    }
    case 'REGISTERING':
      agent.log.info({ task_ids: taskIds, executor_id: executorId }, 'Queuing task group until the executor registers');
      for (const task of group) {
        executor.queuedTasks.set(task.task_id.value, task);
        checkpoint(agent, framework, executor, task);
      }
      executor.queuedTaskGroups.push(taskIds);
      agent.stats.tasksLaunched.inc(group.length);
      break;
    case 'RUNNING':
      launchTaskGroup(agent, framework, executor, group);
      agent.stats.tasksLaunched.inc(group.length);
      break;
  }
  if (launching) launchExecutor(agent, framework, executor);
}

/** Hands a task group to a registered executor: its tasks become the executor's, all at once. */
export function launchTaskGroup(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord, tasks: TaskInfo[]): void {
  for (const task of tasks) {
    const taskId = task.task_id.value;
    executor.launchedTasks.set(taskId, createTask(task, framework.id, agent.agentId!, executor.id));
    if (task.kill_policy !== undefined) executor.killPolicies.set(taskId, task.kill_policy);
    checkpoint(agent, framework, executor, task);
  }
  // The container may use the tasks' resources before the executor hears of them (`cgroups/*`).
  updateLimits(agent, executor, tasks[0]!.task_id.value);
  agent.log.info({ task_ids: tasks.map((t) => t.task_id.value), executor_id: executor.id, framework_id: framework.id }, 'Sending task group to executor');
  const message: RunTaskGroup = { framework: { ...framework.info, id: { value: framework.id } }, executor: executor.info, task_group: { tasks } };
  agent.send(executor.pid!, RUN_TASK_GROUP, message);
}

/**
 * The executor registered (or subscribed): what was queued for it goes to it, each group whole,
 * in the order it came, then the single tasks. A task of a group killed meanwhile is no longer
 * queued, and its group goes without it.
 */
export function launchQueuedTasks(agent: Agent, framework: FrameworkRecord, executor: ExecutorRecord): void {
  for (const ids of executor.queuedTaskGroups.splice(0)) {
    const tasks = ids.map((id) => executor.queuedTasks.get(id)).filter((task) => task !== undefined);
    for (const task of tasks) executor.queuedTasks.delete(task.task_id.value);
    if (tasks.length > 0) launchTaskGroup(agent, framework, executor, tasks);
  }
  for (const task of [...executor.queuedTasks.values()]) {
    executor.queuedTasks.delete(task.task_id.value);
    launchTask(agent, framework, executor, task);
  }
}

/** The ids of the queued tasks of `taskId`'s group (`[taskId]` for a single task). */
export function queuedGroupOf(executor: ExecutorRecord, taskId: string): string[] {
  const group = executor.queuedTaskGroups.find((ids) => ids.includes(taskId));
  return group === undefined ? [taskId] : group.filter((id) => executor.queuedTasks.has(id));
}
