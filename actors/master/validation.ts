import { checkProblem, healthCheckProblem } from '../../src/mesos/health-check.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { hasFrameworkCapability, type ExecutorInfo, type FrameworkInfo, type TaskInfo } from '../../src/mesos/v1/common.ts';
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
    // As Mesos's `task::internal::validateExecutor`: a LAUNCH runs its task in a custom executor;
    // the default executor takes task groups only (LAUNCH_GROUP).
    if (executor.type !== undefined && executor.type !== 'CUSTOM') return `'ExecutorInfo.type' must be 'CUSTOM'`;
    if (executor.command === undefined) return 'ExecutorInfo must have a CommandInfo';
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
  if (task.health_check !== undefined) {
    const problem = healthCheckProblem(task.health_check);
    if (problem !== undefined) return `Task's health check is invalid: ${problem}`;
  }
  if (task.check !== undefined) {
    const problem = checkProblem(task.check);
    if (problem !== undefined) return `Task's check is invalid: ${problem}`;
  }
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

/** Whether `b` may run as the executor `a` already running with its id (Mesos's `validateCompatibleExecutorInfo`). */
export function sameExecutor(a: ExecutorInfo, b: ExecutorInfo): boolean {
  const strip = (e: ExecutorInfo) => JSON.stringify({ command: e.command, resources: e.resources ?? [], name: e.name, data: e.data });
  return strip(a) === strip(b);
}

/**
 * Mesos's rules for a role name (`roles::validate`): `*`, or `/`-separated components, none of
 * them empty, `.`, `..` or `*`, none starting with `-`, none with whitespace or DEL.
 */
export function roleNameProblem(role: string): string | undefined {
  if (role === '*') return undefined;
  if (role === '') return 'must not be empty';
  if (role.startsWith('/') || role.endsWith('/')) return "must not start or end with '/'";
  if (role.includes('//')) return "must not contain two adjacent '/'";
  for (const component of role.split('/')) {
    if (component === '.' || component === '..' || component === '*') return `must not include '${component}' as a component`;
    if (component.startsWith('-')) return `component '${component}' must not start with '-'`;
    if (/[\t\n\v\f\r \x7f]/.test(component)) return `component '${component}' must not contain whitespace or DEL`;
  }
  return undefined;
}

/** The largest `failover_timeout` a Mesos `Duration` holds: int64 nanoseconds. */
const MAX_DURATION_SECONDS = 9_223_372_036.854775807;

/**
 * What `validation::framework::validate` refuses in a `FrameworkInfo` (SUBSCRIBE, UPDATE_FRAMEWORK),
 * in Mesos's words: the roles fields by the `MULTI_ROLE` capability (`roles` with it, the legacy
 * `role` without), duplicate or invalid roles, an id with control characters or slashes, and a
 * `failover_timeout` no `Duration` can hold.
 */
export function frameworkInfoProblem(info: FrameworkInfo): string | undefined {
  const multiRole = hasFrameworkCapability(info, 'MULTI_ROLE');
  if (multiRole) {
    if (info.role !== undefined) return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
    const roles = info.roles ?? [];
    const duplicates = [...new Set(roles.filter((role, i) => roles.indexOf(role) !== i))];
    if (duplicates.length > 0) return `'FrameworkInfo.roles' contains duplicate items: { ${duplicates.join(', ')} }`;
    for (const role of roles) {
      const problem = roleNameProblem(role);
      if (problem !== undefined) return `'FrameworkInfo.roles' contains invalid role: invalid role '${role}': ${problem}`;
    }
  } else {
    if ((info.roles ?? []).length > 0) return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
    const role = info.role ?? '*';
    const problem = roleNameProblem(role);
    if (problem !== undefined) return `'FrameworkInfo.role' is not a valid role: invalid role '${role}': ${problem}`;
  }
  const id = info.id?.value;
  if (id !== undefined && id !== '' && /[\x00-\x1f\x7f/\\]/.test(id)) return `'${id}' contains invalid characters`;
  const timeout = info.failover_timeout;
  if (timeout !== undefined && !(Math.abs(timeout) <= MAX_DURATION_SECONDS)) return `The framework failover_timeout (${timeout}) is invalid`;
  return undefined;
}

/** `validateSuppressedRoles`: a framework can only suppress roles it subscribes with. */
export function suppressedRolesProblem(roles: readonly string[], suppressed: readonly string[]): string | undefined {
  const outside = [...new Set(suppressed.filter((role) => !roles.includes(role)))];
  if (outside.length === 0) return undefined;
  return `Suppressed roles { ${outside.join(', ')} } are not contained in the set of roles`;
}

/**
 * What an update (UPDATE_FRAMEWORK, or a SUBSCRIBE of a known framework) may not change, in
 * Mesos's words (`validation::framework::validateUpdate`): the principal, the user, checkpointing.
 */
export function frameworkUpdateProblem(old: FrameworkInfo, update: FrameworkInfo): string | undefined {
  if (old.principal !== update.principal) return "Changing framework's principal is not allowed.";
  if (old.user !== update.user) return `Updating 'FrameworkInfo.user' is unsupported; attempted to update from '${old.user}' to '${update.user}'`;
  const [was, is] = [old.checkpoint ?? false, update.checkpoint ?? false];
  if (was !== is) return `Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from '${was}' to '${is}'`;
  return undefined;
}

/**
 * A SUBSCRIBE of a known framework keeps its `user` and `checkpoint` whatever the new
 * `FrameworkInfo` says (Mesos's `preserveImmutableFields`, MESOS-703): the agents run its tasks as
 * that user and checkpoint (or not) already.
 */
export function preserveImmutableFields(old: FrameworkInfo, update: FrameworkInfo): FrameworkInfo {
  const kept: FrameworkInfo = { ...update, user: old.user };
  if ((update.checkpoint ?? false) !== (old.checkpoint ?? false)) {
    if (old.checkpoint === undefined) delete kept.checkpoint;
    else kept.checkpoint = old.checkpoint;
  }
  return kept;
}
