import { Resources } from '../../src/mesos/resources.ts';
import type { ExecutorInfo, TaskInfo } from '../../src/mesos/v1/common.ts';
import type { AgentRecord, FrameworkRecord } from './state.ts';

/**
 * Task validation at launch, after Mesos's `validation::task`: the reason a task cannot run
 * (it becomes TASK_ERROR with REASON_TASK_INVALID and this message), or what it consumes.
 */
export function validateTask(
  framework: FrameworkRecord,
  agent: AgentRecord,
  task: TaskInfo,
  available: Resources,
): string | { resources: Resources; consumed: Resources; newExecutor: ExecutorInfo | undefined } {
  const idProblem = idValueProblem(task.task_id?.value);
  if (idProblem !== undefined) return `Task ID '${task.task_id?.value}' is invalid: ${idProblem}`;
  const taskId = task.task_id.value;
  if (framework.tasks.has(taskId)) return `Task has duplicate ID: ${taskId}`;
  if (task.agent_id?.value !== agent.id) return `Task uses invalid agent: ${task.agent_id?.value}`;
  if ((task.executor === undefined) === (task.command === undefined)) {
    return 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present';
  }
  let resources: Resources;
  try {
    // Most tasks are launched with exactly what they were offered: no parse then.
    resources = Resources.fromJSONLike(task.resources ?? [], available);
  } catch (error) {
    return `Task uses invalid resources: ${(error as Error).message}`;
  }
  let executorResources = Resources.EMPTY;
  let newExecutor: ExecutorInfo | undefined;
  if (task.executor !== undefined) {
    const executor = task.executor;
    const executorProblem = idValueProblem(executor.executor_id?.value);
    if (executorProblem !== undefined) return `Executor ID '${executor.executor_id?.value}' is invalid: ${executorProblem}`;
    if (executor.framework_id !== undefined && executor.framework_id.value !== framework.id) {
      return `ExecutorInfo has an invalid FrameworkID (Actual: ${executor.framework_id.value} vs Expected: ${framework.id})`;
    }
    if (executor.command === undefined && executor.type !== 'DEFAULT') return 'ExecutorInfo must have a CommandInfo';
    const existing = framework.executors.get(agent.id)?.get(executor.executor_id.value);
    if (existing !== undefined) {
      if (!sameExecutor(existing, executor)) {
        return `ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID ('${executor.executor_id.value}')`;
      }
    } else {
      try {
        executorResources = Resources.fromJSON(executor.resources ?? []);
      } catch (error) {
        return `Executor uses invalid resources: ${(error as Error).message}`;
      }
      newExecutor = { ...executor, framework_id: { value: framework.id } };
    }
  }
  const consumed = resources.plus(executorResources);
  if (consumed.isEmpty()) return 'Task and its executor use no resources';
  if (!available.contains(consumed)) return `Task uses more resources ${consumed} than available ${available}`;
  const grace = task.kill_policy?.grace_period?.nanoseconds;
  if (grace !== undefined && grace < 0) return 'Task\'s `kill_policy.grace_period` must be non-negative';
  return { resources, consumed, newExecutor };
}

/** Mesos's rules for task and executor ids: not empty, no `/`, not `.` or `..`, no control characters. */
export function idValueProblem(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return 'ID must not be empty';
  if (value === '.' || value === '..') return "'.' and '..' are disallowed";
  if (value.includes('/')) return "'/' is disallowed";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) return 'control characters are disallowed';
  return undefined;
}

function sameExecutor(a: ExecutorInfo, b: ExecutorInfo): boolean {
  const strip = (e: ExecutorInfo) => JSON.stringify({ command: e.command, resources: e.resources ?? [], name: e.name, data: e.data });
  return strip(a) === strip(b);
}
