import { AGENT_READONLY_REALM, AGENT_READWRITE_REALM } from '../../src/http/authentication.ts';
import { allocationRole, attributesModel, commandModel, frameworkRoleModel, reservedFullModel, reservedModel, resourcesFullModel, resourcesModel, taskModel } from '../../src/mesos/model.ts';
import type { FrameworkInfo, TaskInfo } from '../../src/mesos/v1/common.ts';
import { jsonp, ok } from '../../src/http/response.ts';
import type { Task } from '../../src/mesos/protocol.ts';
import type { RouteHandler } from '../../src/process/process.ts';
import type { Agent } from './agent.ts';
import { agentApprovers, viewableExecutors, viewableFrameworks, viewableTaskInfos, viewableTasks, type AgentApprovers } from './authorization.ts';
import { MESOS_VERSION } from './constants.ts';
import { EXECUTOR_API_PATH, executorApi } from './executor-api.ts';
import { AGENT_API_PATH, agentApi } from './operator-api.ts';
import { flagsJSON } from './flags.ts';
import { safeResources, type ExecutorRecord, type FrameworkRecord } from './state.ts';

/**
 * The agent's routes: the executor HTTP API `/slave(1)/api/v1/executor` (`executor-api.ts`),
 * the v1 operator API `/slave(1)/api/v1` (`operator-api.ts`), and the operator endpoint,
 * `/slave(1)/state`, in the JSON shape of Mesos's agent
 * `/state` (`slave/http.cpp`): resources as an object of name → scalar or text (`"ports":
 * "[31000-32000]"`), attributes as name → value, frameworks with their executors and tasks,
 * and while the agent drains its `drain_config` and `estimated_drain_start_time_seconds`.
 */

/** The agent's routes, installed under its process id. */
export function httpRoutes(agent: Agent): Record<string, RouteHandler> {
  const handler: RouteHandler = (request) => ok(state(agent, agentApprovers(agent, request.principal)));
  // `state.json` is the name Mesos kept for older clients.
  return {
    '/state': handler,
    '/state.json': handler,
    // Mesos's `/flags`: every flag's value as text.
    '/flags': (request) => jsonp(ok({ flags: flagsJSON(agent.flags) }), request),
    [EXECUTOR_API_PATH]: (request) => executorApi(agent, request),
    [AGENT_API_PATH]: (request) => agentApi(agent, request),
  };
}

/**
 * The authentication realm of an agent route, as Mesos's `Slave::initialize` installs them:
 * `/state` (and the monitor's and files' routes) `mesos-agent-readonly`; the v1 operator API
 * `mesos-agent-readwrite`; the executor API none (Mesos authenticates executors with tokens,
 * `--authenticate_http_executors`, which this agent does not do).
 */
export function agentRouteRealm(path: string): string | undefined {
  if (path === EXECUTOR_API_PATH) return undefined;
  if (path === AGENT_API_PATH) return AGENT_READWRITE_REALM;
  return AGENT_READONLY_REALM;
}

/**
 * The agent's `/state`; with `approvers` (`--acls`), only the frameworks, executors and tasks
 * they may view (`authorization.ts`).
 */
export function state(agent: Agent, approvers?: AgentApprovers): Record<string, unknown> {
  const used = agent.usedResources();
  const flags = flagsJSON(agent.flags);
  return {
    version: MESOS_VERSION,
    start_time: agent.startTime / 1000,
    id: agent.agentId ?? '',
    pid: String(agent.self),
    hostname: agent.info.hostname,
    state: agent.state,
    master_hostname: agent.registeredWith?.node,
    resources: resourcesModel(agent.totalResources),
    ...(agent.info.domain !== undefined ? { domain: agent.info.domain } : {}),
    reserved_resources: reservedModel(agent.totalResources),
    unreserved_resources: resourcesModel(agent.totalResources.unreserved()),
    reserved_resources_full: reservedFullModel(agent.totalResources),
    unreserved_resources_full: resourcesFullModel(agent.totalResources.unreserved()),
    reserved_resources_allocated: reservedModel(used),
    unreserved_resources_allocated: resourcesModel(used.unreserved()),
    attributes: attributesModel(agent.info.attributes),
    // While the agent drains, as Mesos's agent shows them.
    ...(agent.drainConfig !== undefined ? { drain_config: agent.drainConfig } : {}),
    ...(agent.drainStartTime !== undefined ? { estimated_drain_start_time_seconds: agent.drainStartTime / 1000 } : {}),
    frameworks: viewableFrameworks(approvers, [...agent.frameworks.values()]).map((f) => modelFramework(agent, f, approvers)),
    completed_frameworks: viewableFrameworks(approvers, agent.completedFrameworks).map((f) => modelFramework(agent, f, approvers)),
    flags,
  };
}

function modelFramework(agent: Agent, framework: FrameworkRecord, approvers: AgentApprovers | undefined): Record<string, unknown> {
  const info = framework.info;
  return {
    id: framework.id,
    name: info.name,
    user: info.user,
    failover_timeout: info.failover_timeout ?? 0,
    checkpoint: info.checkpoint ?? false,
    ...(info.principal !== undefined ? { principal: info.principal } : {}),
    ...frameworkRoleModel(info),
    hostname: info.hostname ?? '',
    executors: viewableExecutors(approvers, info, [...framework.executors.values()]).map((e) => modelExecutor(agent, info, e, approvers)),
    completed_executors: viewableExecutors(approvers, info, framework.completedExecutors).map((e) => modelExecutor(agent, info, e, approvers)),
  };
}

/**
 * An executor as Mesos's agent `ExecutorWriter`: `tasks` are the live ones; terminated tasks
 * whose last update is not acknowledged yet are listed under `completed_tasks` with the
 * completed ones, as Mesos adds `terminatedTasks` there.
 */
function modelExecutor(agent: Agent, framework: FrameworkInfo, executor: ExecutorRecord, approvers: AgentApprovers | undefined): Record<string, unknown> {
  const info = executor.info;
  const role = (info.resources ?? []).length > 0 ? allocationRole(info.resources, framework) : undefined;
  const task = (t: Task) => taskModel(t, framework);
  const tasks = (list: Iterable<Task>) => viewableTasks(approvers, framework, executor, [...list]);
  return {
    id: executor.id,
    name: info.name ?? '',
    source: info.source ?? '',
    container: executor.containerId,
    directory: executor.directory,
    type: executor.commandExecutor ? 'COMMAND' : (info.type ?? 'CUSTOM'),
    state: executor.state,
    resources: resourcesModel(executor.resources()),
    ...(role !== undefined ? { role } : {}),
    ...(info.labels?.labels !== undefined ? { labels: info.labels.labels } : {}),
    tasks: tasks(executor.launchedTasks.values()).map(task),
    queued_tasks: viewableTaskInfos(approvers, framework, executor, [...executor.queuedTasks.values()]).map((t) => modelTaskInfo(agent, framework, executor, t)),
    completed_tasks: tasks([...executor.completedTasks, ...executor.terminatedTasks.values()]).map(task),
  };
}

/**
 * A queued task as Mesos's agent `json(TaskInfo)` (`id`, `name`, `slave_id`, `resources`,
 * `role`, and when set `command`, `executor_id`, `discovery`), with the `framework_id` and
 * `state` of `model(Task)` as well.
 */
function modelTaskInfo(agent: Agent, framework: FrameworkInfo, executor: ExecutorRecord, task: TaskInfo): Record<string, unknown> {
  const role = allocationRole(task.resources, framework);
  return {
    id: task.task_id.value,
    name: task.name,
    framework_id: executor.frameworkId,
    executor_id: executor.commandExecutor ? '' : executor.id,
    slave_id: agent.agentId ?? '',
    state: 'TASK_STAGING',
    resources: resourcesModel(safeResources(task.resources)),
    ...(role !== undefined ? { role } : {}),
    ...(task.command !== undefined ? { command: commandModel(task.command) } : {}),
    ...(task.discovery !== undefined ? { discovery: task.discovery } : {}),
    ...(task.labels?.labels !== undefined ? { labels: task.labels.labels } : {}),
  };
}
