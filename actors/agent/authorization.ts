import type { Task } from '../../src/mesos/protocol.ts';
import type { ExecutorInfo, FrameworkInfo, TaskInfo } from '../../src/mesos/v1/common.ts';
import { ObjectApprovers, viewable } from '../cluster/approvers.ts';
import type { Agent } from './agent.ts';
import type { SandboxAuthorization } from './files.ts';
import type { ExecutorRecord, FrameworkRecord } from './state.ts';

/**
 * The agent's side of `--acls` (`actors/cluster/acls.ts`), as Mesos's agent authorizes its HTTP
 * endpoints; with no ACLs (`agent.authorizer` undefined) nothing here is asked and every answer
 * is as it was.
 *
 * 1. `access_sandboxes` (object `users`): each sandbox is attached to `/files/*` with who may
 *    read it (`sandboxAuthorization`): principals that may access the sandboxes of its
 *    executor's command user, else its framework's user, as Mesos's
 *    `Slave::authorizeSandboxAccess`. The user is taken when the sandbox is attached.
 * 2. `view_frameworks`, `view_executors` and `view_tasks` (`agentApprovers`): `/slave(N)/state`
 *    (and `/agent/state`) and the v1 operator API's GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS and
 *    GET_STATE leave out the frameworks the requester may not view, with their executors and
 *    tasks, and of a framework it may view the executors and tasks it may not, as the master's
 *    (`actors/master/view-approvers.ts`). GET_CONTAINERS lists the containers of the executors
 *    it may view, of frameworks it may view (Mesos asks `view_containers`, which this agent does
 *    not take).
 *
 * The subject is the principal the request authenticated as (`--authenticate_http_readonly`
 * for `/state` and `/files/*`, `--authenticate_http_readwrite` for the operator API); a request
 * that did not authenticate is matched by `ANY` subjects only.
 */

/**
 * The user whose sandbox an executor's is, as Mesos's `ACCESS_SANDBOX` object: the executor's
 * command user, else its framework's; `undefined` when neither is known (then only `ANY` and
 * `NONE` objects match).
 */
export function sandboxUser(framework: FrameworkInfo | undefined, executor: ExecutorInfo): string | undefined {
  return executor.command?.user ?? framework?.user;
}

/** Who may read the sandbox of `executor` (`access_sandboxes`); `undefined` without ACLs: anyone. */
export function sandboxAuthorization(agent: Agent, framework: FrameworkInfo | undefined, executor: ExecutorInfo): SandboxAuthorization | undefined {
  const authorizer = agent.authorizer;
  if (authorizer === undefined) return undefined;
  const user = sandboxUser(framework, executor);
  return { user: user ?? '', authorized: (principal) => authorizer.authorized('access_sandboxes', principal, user) };
}

/** The agent's `view_*` decisions for one request (Mesos's `ObjectApprovers`). */
export class AgentApprovers extends ObjectApprovers {
  /**
   * `view_tasks`: by the user the task runs as, as far as the agent knows it: a queued task's
   * command user (`info`), else its executor's command user, else the framework's.
   */
  task(framework: FrameworkInfo, executor: ExecutorInfo, info?: TaskInfo): boolean {
    return this.taskOf(info?.command?.user ?? executor.command?.user ?? framework.user);
  }
}

/** The approvers of a request by `principal`; `undefined` when the agent has no ACLs. */
export function agentApprovers(agent: Agent, principal: string | undefined): AgentApprovers | undefined {
  return agent.authorizer === undefined ? undefined : new AgentApprovers(agent.authorizer, principal);
}

/** The frameworks among `frameworks` that `approvers` may view. */
export function viewableFrameworks(approvers: AgentApprovers | undefined, frameworks: FrameworkRecord[]): FrameworkRecord[] {
  return viewable(approvers, frameworks, (a, f) => a.framework(f.info));
}

/** The executors of `framework` among `executors` that `approvers` may view. */
export function viewableExecutors(approvers: AgentApprovers | undefined, framework: FrameworkInfo, executors: ExecutorRecord[]): ExecutorRecord[] {
  return viewable(approvers, executors, (a, e) => a.executor(framework, e.info));
}

/** The tasks of `executor` among `tasks` that `approvers` may view. */
export function viewableTasks(approvers: AgentApprovers | undefined, framework: FrameworkInfo, executor: ExecutorRecord, tasks: Task[]): Task[] {
  return viewable(approvers, tasks, (a) => a.task(framework, executor.info));
}

/** The queued tasks of `executor` among `tasks` that `approvers` may view. */
export function viewableTaskInfos(approvers: AgentApprovers | undefined, framework: FrameworkInfo, executor: ExecutorRecord, tasks: TaskInfo[]): TaskInfo[] {
  return viewable(approvers, tasks, (a, t) => a.task(framework, executor.info, t));
}
