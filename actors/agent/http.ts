import { attributesModel, reservedModel, resourcesModel, taskModel } from '../../src/mesos/model.ts';
import type { TaskInfo } from '../../src/mesos/v1/common.ts';
import { ok } from '../../src/http/response.ts';
import type { RouteHandler } from '../../src/process/process.ts';
import type { Agent } from './agent.ts';
import { MESOS_VERSION } from './constants.ts';
import { EXECUTOR_API_PATH, executorApi } from './executor-api.ts';
import { flagsJSON } from './flags.ts';
import { safeResources, type ExecutorRecord, type FrameworkRecord } from './state.ts';

/**
 * The agent's routes: the executor HTTP API `/slave(1)/api/v1/executor` (`executor-api.ts`),
 * and the operator endpoint, `/slave(1)/state`, in the JSON shape of Mesos's agent
 * `/state` (`slave/http.cpp`): resources as an object of name → scalar or text (`"ports":
 * "[31000-32000]"`), attributes as name → value, frameworks with their executors and tasks.
 */

/** The agent's routes, installed under its process id. */
export function httpRoutes(agent: Agent): Record<string, RouteHandler> {
  const handler: RouteHandler = () => ok(state(agent));
  // `state.json` is the name Mesos kept for older clients.
  return { '/state': handler, '/state.json': handler, [EXECUTOR_API_PATH]: (request) => executorApi(agent, request) };
}

export function state(agent: Agent): Record<string, unknown> {
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
    reserved_resources: reservedModel(agent.totalResources),
    unreserved_resources: resourcesModel(agent.totalResources.unreserved()),
    reserved_resources_allocated: reservedModel(used),
    unreserved_resources_allocated: resourcesModel(used.unreserved()),
    attributes: attributesModel(agent.info.attributes),
    frameworks: [...agent.frameworks.values()].map((f) => modelFramework(agent, f)),
    completed_frameworks: agent.completedFrameworks.map((f) => modelFramework(agent, f)),
    flags,
  };
}

function modelFramework(agent: Agent, framework: FrameworkRecord): Record<string, unknown> {
  const info = framework.info;
  return {
    id: framework.id,
    name: info.name,
    user: info.user,
    failover_timeout: info.failover_timeout ?? 0,
    checkpoint: info.checkpoint ?? false,
    role: info.role ?? '*',
    ...(info.roles !== undefined ? { roles: info.roles } : {}),
    hostname: info.hostname ?? '',
    executors: [...framework.executors.values()].map((e) => modelExecutor(agent, e)),
    completed_executors: framework.completedExecutors.map((e) => modelExecutor(agent, e)),
  };
}

function modelExecutor(agent: Agent, executor: ExecutorRecord): Record<string, unknown> {
  const info = executor.info;
  return {
    id: executor.id,
    name: info.name ?? '',
    source: info.source ?? '',
    container: executor.containerId,
    directory: executor.directory,
    type: executor.commandExecutor ? 'COMMAND' : (info.type ?? 'CUSTOM'),
    state: executor.state,
    resources: resourcesModel(executor.resources()),
    ...(info.labels?.labels !== undefined ? { labels: info.labels.labels } : {}),
    tasks: [...executor.launchedTasks.values(), ...executor.terminatedTasks.values()].map(taskModel),
    queued_tasks: [...executor.queuedTasks.values()].map((t) => modelTaskInfo(agent, executor, t)),
    completed_tasks: executor.completedTasks.map(taskModel),
  };
}

/** A queued task as Mesos's `model(TaskInfo)`. */
function modelTaskInfo(agent: Agent, executor: ExecutorRecord, task: TaskInfo): Record<string, unknown> {
  return {
    id: task.task_id.value,
    name: task.name,
    framework_id: executor.frameworkId,
    executor_id: executor.commandExecutor ? '' : executor.id,
    slave_id: agent.agentId ?? '',
    state: 'TASK_STAGING',
    resources: resourcesModel(safeResources(task.resources)),
  };
}
