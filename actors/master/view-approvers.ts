import type { Task } from '../../src/mesos/protocol.ts';
import type { Resources } from '../../src/mesos/resources.ts';
import { ObjectApprovers, viewable as viewableBy } from '../cluster/approvers.ts';
import type { ExecutorInfo, FrameworkInfo, TaskInfo } from '../../src/mesos/v1/common.ts';
import type { Master } from './master-process.ts';
import type { FrameworkRecord } from './state.ts';

/**
 * What an operator may see, as Mesos's `ObjectApprovers` in its read-only handlers and its
 * operator event stream: the `view_*` and `get_quotas` ACLs of `--acls` (`authorizer.ts`) filter
 * what the state endpoints and the v1 operator API answer, rather than refuse the request.
 *
 * 1. `view_frameworks` (a framework's `FrameworkInfo.user`): a framework not viewable is left out
 *    of `/master/state`, `/master/state-summary`, `/master/frameworks`, `/master/tasks`,
 *    GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS and GET_STATE, its tasks and executors with it,
 *    and the event stream keeps its FRAMEWORK_* and TASK_* events from the subscriber.
 * 2. `view_tasks` (the user a task runs as: its command's, else its executor's, else its
 *    framework's, as `run_tasks` checks it): a task not viewable is left out of a framework
 *    that is.
 * 3. `view_executors` (its command's user, else its framework's): likewise for executors.
 * 4. `view_roles` (a role): `/master/roles`, GET_ROLES, GET_WEIGHTS and `GET /master/weights`
 *    list only the roles viewable, and an agent's reserved resources (`reserved_resources*` in
 *    `/master/state` and `/master/slaves`, the resources of GET_AGENTS and AGENT_ADDED) only
 *    those whose every reservation is to a role viewable, as Mesos's `approved<VIEW_ROLE>`.
 * 5. `get_quotas` (a role): GET_QUOTA and `GET /master/quota` list only the quotas of roles
 *    viewable.
 *
 * As Mesos's, `/master/state-summary` filters frameworks only (its task counts and an agent's
 * `framework_ids` count every task), and `/master/roles` lists a viewable role's frameworks
 * whether or not they are viewable.
 *
 * The subject is the principal the request authenticated as (none without
 * `--authenticate_http_readonly`, or `--authenticate_http_readwrite` for the v1 operator API:
 * then only `ANY` subjects match). Without `--acls` there are no approvers (`viewApprovers`
 * answers `undefined`) and the answers are built as they were, with no approver work at all;
 * with ACLs that allow everything they are the same, byte for byte.
 */

/**
 * The user a task launched by this master runs as, when its `TaskInfo` names one. Mesos keeps
 * it as `Task.user`; this master's `Task` records are v1 `Task`s without it, so that GET_TASKS
 * and the events answer as they always did. Weak: forgotten with the task.
 */
const taskUsers = new WeakMap<Task, string>();

/**
 * Remembers who `task` (just launched from `info`, whose `executor` is the task group's for a
 * task of a group) runs as, for `view_tasks`: `info`'s command user, else its executor's.
 * Nothing without `--acls`.
 */
export function rememberTaskUser(m: Master, task: Task, info: TaskInfo): void {
  if (m.options.authorizer === undefined) return;
  const user = info.command?.user ?? info.executor?.command?.user;
  if (user !== undefined) taskUsers.set(task, user);
}

/**
 * The user `task` runs as, as Mesos's `VIEW_TASK` reads it: the one remembered at launch, else
 * (a task this master learnt of from its agent, after a failover) its executor's command user,
 * else the framework's user.
 */
export function viewTaskUser(framework: FrameworkRecord, task: Task): string {
  const remembered = taskUsers.get(task);
  if (remembered !== undefined) return remembered;
  const executorId = task.executor_id?.value;
  const executor = executorId === undefined ? undefined : framework.executors.get(task.agent_id.value)?.get(executorId);
  return executor?.command?.user ?? framework.info.user;
}

/**
 * The decisions of one principal's `view_*` and `get_quotas` ACLs (Mesos's `ObjectApprovers`,
 * shared with the agent: `actors/cluster/approvers.ts`), with what the master knows of the user
 * a task runs as.
 */
export class ViewApprovers extends ObjectApprovers {
  /** `view_tasks`: by the user the task runs as (`viewTaskUser`). */
  task(framework: FrameworkRecord, task: Task): boolean {
    return this.taskOf(viewTaskUser(framework, task));
  }
}

/**
 * The approvers of a request by `principal`, or `undefined` when the master has no ACLs: then
 * nothing is filtered, and no approver is asked.
 */
export function viewApprovers(m: Master, principal: string | undefined): ViewApprovers | undefined {
  const authorizer = m.options.authorizer;
  return authorizer === undefined ? undefined : new ViewApprovers(authorizer, principal);
}

/** The `items` that `approve` lets `approvers` see; `items` itself without approvers. */
export function viewable<T>(approvers: ViewApprovers | undefined, items: T[], approve: (approvers: ViewApprovers, item: T) => boolean): T[] {
  return viewableBy(approvers, items, approve);
}

/** The frameworks among `frameworks` that `approvers` may view (`view_frameworks`). */
export function viewableFrameworks(approvers: ViewApprovers | undefined, frameworks: FrameworkRecord[]): FrameworkRecord[] {
  return viewable(approvers, frameworks, (a, f) => a.framework(f.info));
}

/** The tasks of `framework` among `tasks` that `approvers` may view (`view_tasks`). */
export function viewableTasks(approvers: ViewApprovers | undefined, framework: FrameworkRecord, tasks: Task[]): Task[] {
  return viewable(approvers, tasks, (a, t) => a.task(framework, t));
}

/** The executors of `framework` among `executors` that `approvers` may view (`view_executors`). */
export function viewableExecutors(approvers: ViewApprovers | undefined, framework: FrameworkInfo, executors: ExecutorInfo[]): ExecutorInfo[] {
  return viewable(approvers, executors, (a, e) => a.executor(framework, e));
}

/** `resources` without the reservations to roles `approvers` may not view (`view_roles`). */
export function viewableResources(approvers: ViewApprovers | undefined, resources: Resources): Resources {
  return approvers === undefined ? resources : approvers.resources(resources);
}

/**
 * A quota status (`quota.ts` `quotaStatus`, whatever else it holds) with only the `infos` and
 * `configs` of roles whose quota `approvers` may see (`get_quotas`), as Mesos's
 * `QuotaHandler::status`; `status` itself without approvers.
 */
export function viewableQuotaStatus<S extends { infos: { role: string }[]; configs: { role: string }[] }>(approvers: ViewApprovers | undefined, status: S): S {
  if (approvers === undefined) return status;
  return { ...status, infos: status.infos.filter((i) => approvers.quota(i.role)), configs: status.configs.filter((c) => approvers.quota(c.role)) };
}
