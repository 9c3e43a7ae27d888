import { checkProblem, healthCheckProblem } from '../../src/mesos/health-check.ts';
import { RUN_TASK_GROUP, type RunTaskGroup, type Task } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { ExecutorInfo, LaunchGroupOperation, TaskGroupInfo, TaskInfo, TaskState, TaskStatusReason } from '../../src/mesos/v1/common.ts';
import { authorized, taskUser } from './authorizer.ts';
import type { Master } from './master-process.ts';
import * as operatorEvents from './operator-events.ts';
import { type AgentRecord, type FrameworkRecord, masterStatus } from './state.ts';
import { idValueProblem, sameExecutor } from './validation.ts';
import { rememberTaskUser } from './view-approvers.ts';

/**
 * Task groups (Mesos 1.1's LAUNCH_GROUP) at the master:
 *
 * 1. validating a group and its executor as Mesos's `validation::task::group::validate` does,
 *    in its words: each task on its own (`Task '<id>' is invalid: ...`), then the executor (it
 *    must be the `DEFAULT` executor of this framework, with at least Mesos's minimum resources),
 *    then the resources of the tasks, plus the executor's when it does not run on the agent
 *    yet, against what is left of the offers;
 * 2. launching a valid group whole: every task is recorded as launched (`TASK_STAGING`), the
 *    executor is booked on the agent, and the agent gets one `RunTaskGroupMessage`;
 * 3. refusing an invalid group whole: every task of it gets `TASK_ERROR` with
 *    `REASON_TASK_GROUP_INVALID` and the same message, and nothing of it is kept; on an agent
 *    that is gone, every task is `TASK_LOST` (`TASK_DROPPED` for a partition-aware framework).
 *
 * After launch, group tasks are tasks like any other (status updates, kill, reconciliation).
 */

/** Mesos's `MIN_CPUS`: the least CPU an executor of a task group may have. */
export const MIN_EXECUTOR_CPUS = 0.01;
/** Mesos's `MIN_MEM`: the least memory (MB) an executor of a task group may have. */
export const MIN_EXECUTOR_MEM_MB = 32;

/** What a valid group launches: each task with its resources, and what the group consumes. */
export interface TaskGroupPlan {
  readonly executor: ExecutorInfo;
  readonly tasks: readonly { readonly info: TaskInfo; readonly resources: Resources }[];
  readonly consumed: Resources;
  /** The executor, when it does not run on the agent yet (its resources are in `consumed`). */
  readonly newExecutor: ExecutorInfo | undefined;
}

/**
 * Why the group cannot run on `agent` with `available`, or what it launches. Each task is given
 * the group's executor (as Mesos's master fills in `TaskInfo.executor`), so that agents and
 * operators see which executor runs it.
 */
export function validateTaskGroup(
  framework: FrameworkRecord,
  agent: AgentRecord,
  executor: ExecutorInfo,
  group: TaskGroupInfo,
  available: Resources,
): string | TaskGroupPlan {
  const tasks: { info: TaskInfo; resources: Resources }[] = [];
  const seen = new Set<string>();
  for (const task of group.tasks ?? []) {
    const checked = taskProblem(framework, agent, task, seen, available);
    if (typeof checked === 'string') return `Task '${task.task_id?.value}' is invalid: ${checked}`;
    seen.add(task.task_id.value);
    tasks.push({ info: task, resources: checked });
  }
  const checked = executorProblem(framework, agent, executor, tasks);
  if (typeof checked === 'string') return checked;
  const { executorResources, existing } = checked;
  let consumed = Resources.sum(tasks.map((t) => t.resources));
  if (!existing) consumed = consumed.plus(executorResources);
  if (!available.contains(consumed)) {
    return `Total resources ${consumed} required by task group and its executor are more than available ${available}`;
  }
  const filled: ExecutorInfo = { ...executor, framework_id: { value: framework.id } };
  return {
    executor: filled,
    tasks: tasks.map(({ info, resources }) => ({ info: { ...info, executor: filled }, resources })),
    consumed,
    newExecutor: existing ? undefined : filled,
  };
}

/** `group::internal::validateTask`: the task's own fields; its resources, or why not. */
function taskProblem(framework: FrameworkRecord, agent: AgentRecord, task: TaskInfo, seen: ReadonlySet<string>, available: Resources): string | Resources {
  const idProblem = idValueProblem(task.task_id?.value);
  if (idProblem !== undefined) return `Task ID '${task.task_id?.value}' is invalid: ${idProblem}`;
  const taskId = task.task_id.value;
  if (framework.tasks.has(taskId) || seen.has(taskId)) return `Task has duplicate ID: ${taskId}`;
  if (task.agent_id?.value !== agent.id) return `Task uses invalid agent ${task.agent_id?.value} while agent ${agent.id} is expected`;
  const grace = task.kill_policy?.grace_period?.nanoseconds;
  if (grace !== undefined && grace < 0) return "Task's 'kill_policy.grace_period' must be non-negative";
  if (task.health_check !== undefined) {
    const problem = healthCheckProblem(task.health_check);
    if (problem !== undefined) return `Task uses invalid health check: ${problem}`;
  }
  if (task.check !== undefined) {
    const problem = checkProblem(task.check);
    if (problem !== undefined) return `Task uses invalid check: ${problem}`;
  }
  if ((task.resources ?? []).length === 0) return 'Task uses no resources';
  let resources: Resources;
  try {
    resources = Resources.fromJSONLike(task.resources, available);
  } catch (error) {
    return `Task uses invalid resources: ${(error as Error).message}`;
  }
  // The default executor runs each task's command as a process of its own; there are no
  // container images here to run instead.
  if (task.command === undefined) return "'TaskInfo.command' must be set: the default executor runs each task's command";
  return resources;
}

/**
 * `executor::internal::validate` and the group's own rules for its executor (type DEFAULT,
 * the same executor named by every task that names one, Mesos's minimum resources). Returns
 * its resources and whether it runs on the agent already.
 */
function executorProblem(
  framework: FrameworkRecord,
  agent: AgentRecord,
  executor: ExecutorInfo,
  tasks: readonly { info: TaskInfo }[],
): string | { executorResources: Resources; existing: boolean } {
  const executorId = executor.executor_id?.value;
  const idProblem = idValueProblem(executorId);
  if (idProblem !== undefined) return `Executor ID '${executorId}' is invalid: ${idProblem}`;
  if (executor.type === 'DEFAULT' && executor.command !== undefined) return "'ExecutorInfo.command' must not be set for 'DEFAULT' executor";
  if (executor.type === 'CUSTOM' && executor.command === undefined) return "'ExecutorInfo.command' must be set for 'CUSTOM' executor";
  if (executor.framework_id === undefined) return "'ExecutorInfo.framework_id' must be set";
  if (executor.framework_id.value !== framework.id) {
    return `ExecutorInfo has an invalid FrameworkID (Actual: ${executor.framework_id.value} vs Expected: ${framework.id})`;
  }
  const shutdownGrace = executor.shutdown_grace_period?.nanoseconds;
  if (shutdownGrace !== undefined && shutdownGrace < 0) return "ExecutorInfo's 'shutdown_grace_period' must be non-negative";
  let executorResources: Resources;
  try {
    executorResources = Resources.fromJSON(executor.resources ?? []);
  } catch (error) {
    return `Executor uses invalid resources: ${(error as Error).message}`;
  }
  const running = framework.executors.get(agent.id)?.get(executorId!);
  if (running !== undefined && !sameExecutor(running, executor)) {
    return `ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID ('${executorId}')`;
  }
  if (executor.type === undefined) return "'ExecutorInfo.type' must be set";
  if (executor.type === 'UNKNOWN') return 'Unknown executor type';
  // Mesos also takes a CUSTOM executor that speaks the v1 executor API; this master launches
  // task groups in the default executor only.
  if (executor.type !== 'DEFAULT') return `'ExecutorInfo.type' must be 'DEFAULT' for a task group, got '${executor.type}'`;
  for (const { info } of tasks) {
    if (info.executor !== undefined && !sameExecutorInfo(info.executor, executor, framework.id)) {
      return `The \`ExecutorInfo\` of task '${info.task_id.value}' is different from executor '${executorId}'`;
    }
  }
  const cpus = executorResources.cpus();
  if (cpus < MIN_EXECUTOR_CPUS) {
    return `Executor '${executorId}' uses less CPUs (${cpus > 0 ? cpus : 'None'}) than the minimum required (${MIN_EXECUTOR_CPUS})`;
  }
  const mem = executorResources.mem();
  if (mem < MIN_EXECUTOR_MEM_MB) {
    return `Executor '${executorId}' uses less memory (${mem > 0 ? `${mem}MB` : 'None'}) than the minimum required (${MIN_EXECUTOR_MEM_MB}MB)`;
  }
  if (!executorResources.names().includes('disk')) return `Executor '${executorId}' uses no disk`;
  return { executorResources, existing: running !== undefined };
}

/** Whether a task's `executor` is the group's (Mesos compares them whole); a missing framework id is the framework's. */
function sameExecutorInfo(a: ExecutorInfo, b: ExecutorInfo, frameworkId: string): boolean {
  const canonical = (e: ExecutorInfo): string => canonicalJSON({ ...e, framework_id: e.framework_id ?? { value: frameworkId } });
  return canonical(a) === canonical(b);
}

/** JSON with every object's keys sorted: equal values, equal texts. */
function canonicalJSON(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v,
  );
}

/**
 * LAUNCH_GROUP of an ACCEPT (Mesos's `Master::_accept`): the group launches whole from
 * `remaining`, or none of it does. Returns what is left of the offers.
 */
export function launchGroup(m: Master, framework: FrameworkRecord, agent: AgentRecord | undefined, op: LaunchGroupOperation['launch_group'], remaining: Resources): Resources {
  const tasks = op.task_group.tasks ?? [];
  if (tasks.length === 0) {
    m.log.info({ frameworkId: framework.id }, 'Ignoring LAUNCH_GROUP without tasks');
    return remaining;
  }
  if (agent === undefined || !agent.connected) {
    const state: TaskState = framework.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
    for (const task of tasks) groupUpdate(m, framework, task, state, 'REASON_AGENT_DISCONNECTED', 'Agent is no longer connected');
    return remaining;
  }
  // `run_tasks` (`--acls`) first, as Mesos's `_accept`: every task's user, the group refused whole.
  const denied = tasks.map((task) => taskUser(framework, { ...task, executor: op.executor })).find((user) => !authorized(m, 'run_tasks', framework.info.principal, user));
  if (denied !== undefined) {
    m.log.warn({ frameworkId: framework.id, tasks: tasks.map((t) => t.task_id?.value), user: denied }, 'Refusing unauthorized task group');
    for (const task of tasks) {
      m.stats.tasksErrored.inc();
      groupUpdate(m, framework, task, 'TASK_ERROR', 'REASON_TASK_GROUP_UNAUTHORIZED', `Not authorized to launch as user '${denied}'`);
    }
    return remaining;
  }
  const plan = validateTaskGroup(framework, agent, op.executor, op.task_group, remaining);
  if (typeof plan === 'string') {
    m.log.info({ frameworkId: framework.id, executorId: op.executor.executor_id?.value, tasks: tasks.map((t) => t.task_id?.value), reason: plan }, 'Refusing invalid task group');
    for (const task of tasks) {
      m.stats.tasksErrored.inc();
      groupUpdate(m, framework, task, 'TASK_ERROR', 'REASON_TASK_GROUP_INVALID', plan);
    }
    return remaining;
  }
  if (plan.newExecutor !== undefined) {
    framework.addExecutor(agent.id, plan.newExecutor);
    agent.addExecutor(framework.id, plan.newExecutor);
  }
  for (const { info, resources } of plan.tasks) {
    const record: Task = {
      name: info.name,
      task_id: info.task_id,
      framework_id: { value: framework.id },
      executor_id: plan.executor.executor_id,
      agent_id: { value: agent.id },
      state: 'TASK_STAGING',
      resources: resources.toJSON(),
      statuses: [],
    };
    if (info.labels !== undefined) record.labels = info.labels;
    framework.tasks.set(info.task_id.value, record);
    agent.addTask(record);
    rememberTaskUser(m, record, info);
    m.stats.tasksLaunched.inc();
    if (m.operatorSubscribers.size > 0) operatorEvents.taskAdded(m, record);
  }
  m.log.info({ frameworkId: framework.id, agentId: agent.id, executorId: plan.executor.executor_id.value, tasks: plan.tasks.map((t) => t.info.task_id.value) }, 'Launching task group');
  const message: RunTaskGroup = {
    framework: { ...framework.info, id: { value: framework.id } },
    executor: plan.executor,
    task_group: { tasks: plan.tasks.map((t) => t.info) },
  };
  m.send(agent.pid, RUN_TASK_GROUP, message);
  return remaining.minus(plan.consumed);
}

function groupUpdate(m: Master, framework: FrameworkRecord, task: TaskInfo, state: TaskState, reason: TaskStatusReason, message: string): void {
  if (state !== 'TASK_ERROR') m.tasksEnded[state]?.inc();
  const status = masterStatus(task, state, reason, message, m.now());
  m.sendEvent(framework, { type: 'UPDATE', update: { status } });
}
