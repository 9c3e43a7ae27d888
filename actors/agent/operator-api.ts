import { z } from 'zod';
import { jsonPostProblem } from '../../src/http/media.ts';
import { ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import type { Task } from '../../src/mesos/protocol.ts';
import { DurationInfoSchema, type ExecutorInfo, type FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { parseWith } from '../../src/mesos/v1/validate.ts';
import { processCallAnswer, readV1Call } from '../cluster/v1-api.ts';
import type { Agent } from './agent.ts';
import { agentApprovers, viewableExecutors, viewableFrameworks, viewableTaskInfos, viewableTasks, type AgentApprovers } from './authorization.ts';
import { flagsJSON } from './flags.ts';
import { readCgroupStatistics, readUsage, resourceStatistics, usageTargets, type ExecutorUsageTarget, type ResourceStatistics } from './monitor.ts';
import { createTask, type ExecutorRecord, type FrameworkRecord } from './state.ts';

/**
 * The agent's v1 operator HTTP API, `POST /api/v1`, as Mesos's `Slave::Http::api`: a JSON
 * `mesos.v1.agent.Call` in, a `mesos.v1.agent.Response` out (`{"type": "GET_TASKS",
 * "get_tasks": {...}}`), so that mesos-cli, the DC/OS CLI and the Go and Python clients can read
 * this agent. Served at `/slave(N)/api/v1` (`http.ts`) and, for the runtime's agent, at the
 * top-level `/api/v1` (`endpoints.ts`).
 *
 * 1. The calls about the agent process: GET_HEALTH, GET_FLAGS, GET_VERSION, GET_METRICS,
 *    GET_LOGGING_LEVEL.
 * 2. The agent's books, read in its own mailbox (so each answer is one instant): GET_AGENT,
 *    GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS and GET_STATE (the last three in one).
 * 3. GET_CONTAINERS: the containers of the executors that run, with the resource monitor's
 *    `ResourceStatistics` (`monitor.ts`), read from `/proc` and the cgroups after the mailbox
 *    turn that listed them.
 * 4. Every other call type of Mesos 1.11's `agent.proto` (logging level changes, files, nested
 *    and standalone containers, resource providers, operations, image pruning) is `501 Not
 *    Implemented`, naming it; a type `agent.proto` does not have is `400`.
 *
 * Requests are checked in the order of the master's operator API (`actors/master/operator-api.ts`):
 * not POST `405`; no `Content-Type` `400`; not JSON `415`; a body that is not a valid call `400`
 * naming the field; an `Accept` that rules out JSON `406`. An agent is never redirected.
 */

export const AGENT_API_PATH = '/api/v1';

/** `mesos.v1.agent.Call.Type` (Mesos 1.11), without `UNKNOWN`. */
export const AGENT_CALL_TYPES = [
  'GET_HEALTH',
  'GET_FLAGS',
  'GET_VERSION',
  'GET_METRICS',
  'GET_LOGGING_LEVEL',
  'SET_LOGGING_LEVEL',
  'LIST_FILES',
  'READ_FILE',
  'GET_STATE',
  'GET_CONTAINERS',
  'GET_FRAMEWORKS',
  'GET_EXECUTORS',
  'GET_OPERATIONS',
  'GET_TASKS',
  'GET_AGENT',
  'GET_RESOURCE_PROVIDERS',
  'LAUNCH_NESTED_CONTAINER',
  'WAIT_NESTED_CONTAINER',
  'KILL_NESTED_CONTAINER',
  'REMOVE_NESTED_CONTAINER',
  'LAUNCH_NESTED_CONTAINER_SESSION',
  'ATTACH_CONTAINER_INPUT',
  'ATTACH_CONTAINER_OUTPUT',
  'LAUNCH_CONTAINER',
  'WAIT_CONTAINER',
  'KILL_CONTAINER',
  'REMOVE_CONTAINER',
  'ADD_RESOURCE_PROVIDER_CONFIG',
  'UPDATE_RESOURCE_PROVIDER_CONFIG',
  'REMOVE_RESOURCE_PROVIDER_CONFIG',
  'MARK_RESOURCE_PROVIDER_GONE',
  'PRUNE_IMAGES',
] as const;
export type AgentCallType = (typeof AGENT_CALL_TYPES)[number];

/**
 * The part of `agent::Call` this agent reads: the type, GET_METRICS's optional `timeout` and
 * GET_CONTAINERS's `show_nested` and `show_standalone` (checked, but there are no nested or
 * standalone containers here to show). The payloads of calls it does not implement are not
 * looked at (they answer `501`).
 */
const AgentCallSchema = z.object({
  type: z.enum(AGENT_CALL_TYPES),
  get_metrics: z.object({ timeout: DurationInfoSchema.optional() }).optional(),
  get_containers: z.object({ show_nested: z.boolean().optional(), show_standalone: z.boolean().optional() }).optional(),
});
export type AgentCall = z.infer<typeof AgentCallSchema>;

/** Parses an `agent::Call`, throwing an `InvalidMessageError` naming the field. */
export function parseAgentCall(json: unknown): AgentCall {
  return parseWith(AgentCallSchema, json, { what: 'call' });
}

/** Where `/proc` is, for GET_CONTAINERS's usage (the resource monitor's default). */
const PROC_ROOT = '/proc';

/**
 * `POST /api/v1`. Runs in the agent's mailbox (its own route, or dispatched there by the
 * runtime's agent endpoints); only GET_CONTAINERS finishes after it, reading `/proc`.
 */
export function agentApi(agent: Agent, request: HttpRequest): HttpResponse | Promise<HttpResponse> {
  const refused = jsonPostProblem(request, 'this agent speaks the operator API');
  if (refused !== undefined) return refused;

  const read = readV1Call(request, parseAgentCall, 'agent::Call', 'this agent');
  if ('response' in read) return read.response;
  const call = read.call;

  agent.log.debug({ type: call.type, remote: request.remote }, 'Processing agent call');
  const shared = processCallAnswer(call.type, { flags: flagsJSON(agent.flags), runtime: agent.runtime, metrics: agent.metrics, log: agent.log });
  if (shared !== undefined) return shared;
  const answer = (type: string, field: string, body: unknown): HttpResponse => ok({ type, [field]: body });
  // With `--acls`, what the principal may view (`authorization.ts`).
  const approvers = agentApprovers(agent, request.principal);
  switch (call.type) {
    case 'GET_AGENT':
      return answer('GET_AGENT', 'get_agent', getAgent(agent));
    case 'GET_STATE':
      return answer('GET_STATE', 'get_state', getState(agent, approvers));
    case 'GET_FRAMEWORKS':
      return answer('GET_FRAMEWORKS', 'get_frameworks', getFrameworks(agent, approvers));
    case 'GET_EXECUTORS':
      return answer('GET_EXECUTORS', 'get_executors', getExecutors(agent, approvers));
    case 'GET_TASKS':
      return answer('GET_TASKS', 'get_tasks', getTasks(agent, approvers));
    case 'GET_CONTAINERS':
      // The list now, in the mailbox; the usage once read.
      return getContainers(viewableTargets(agent, approvers, usageTargets(agent))).then((body) => answer('GET_CONTAINERS', 'get_containers', body));
    default:
      return { status: 501, body: `Call type '${call.type}' is not implemented by this agent` };
  }
}

/**
 * The refusals of a request that is not a JSON POST, as the master's `jsonPostRefusal` less its
 * redirect to the leader: not POST `405`; no `Content-Type` `400`; protobuf or another media
 * type `415`.
 */

// ---------------------------------------------------------------------------------------------
// The responses, in `mesos.v1.agent.Response` field names (exported for tests and tools).

/**
 * `GetAgent`: the agent's `AgentInfo` (its `id` once registered or recovered), and while it
 * drains, Mesos 1.9's `drain_config` and `estimated_drain_start_time`.
 */
export function getAgent(agent: Agent) {
  return {
    agent_info: agent.info,
    ...(agent.drainConfig !== undefined ? { drain_config: agent.drainConfig } : {}),
    ...(agent.drainStartTime !== undefined ? { estimated_drain_start_time: { nanoseconds: Math.round(agent.drainStartTime * 1e6) } } : {}),
  };
}

/** `GetState`: the three views at one instant (the handler runs to completion in the mailbox). */
export function getState(agent: Agent, approvers?: AgentApprovers) {
  return { get_tasks: getTasks(agent, approvers), get_executors: getExecutors(agent, approvers), get_frameworks: getFrameworks(agent, approvers) };
}

/** `GetFrameworks`: the frameworks with executors here, and those the agent is done with. */
export function getFrameworks(agent: Agent, approvers?: AgentApprovers) {
  return {
    frameworks: viewableFrameworks(approvers, [...agent.frameworks.values()]).map((f) => ({ framework_info: frameworkInfo(f) })),
    completed_frameworks: viewableFrameworks(approvers, agent.completedFrameworks).map((f) => ({ framework_info: frameworkInfo(f) })),
  };
}

/**
 * `GetExecutors`: the executors of the agent's frameworks that have not completed; completed
 * ones are those its frameworks completed and every executor of a completed framework (as Mesos's
 * `Http::_getExecutors`).
 */
export function getExecutors(agent: Agent, approvers?: AgentApprovers) {
  const executors: { executor_info: ExecutorInfo }[] = [];
  const completed: { executor_info: ExecutorInfo }[] = [];
  const viewed = (f: FrameworkRecord, list: ExecutorRecord[]) => viewableExecutors(approvers, f.info, list);
  for (const f of viewableFrameworks(approvers, [...agent.frameworks.values()])) {
    for (const e of viewed(f, [...f.executors.values()])) executors.push({ executor_info: executorInfo(e) });
    for (const e of viewed(f, f.completedExecutors)) completed.push({ executor_info: executorInfo(e) });
  }
  for (const f of viewableFrameworks(approvers, agent.completedFrameworks)) {
    for (const e of viewed(f, [...f.executors.values(), ...f.completedExecutors])) completed.push({ executor_info: executorInfo(e) });
  }
  return { executors, completed_executors: completed };
}

/**
 * `GetTasks`, as Mesos's `Http::_getTasks` sorts them over every executor of every framework
 * (completed ones too): `queued_tasks` wait for their executor to register (as `TASK_STAGING`
 * `Task`s made from their `TaskInfo`), `launched_tasks` were given to it and are not terminal,
 * `terminated_tasks` are terminal with their terminal update not yet acknowledged, and
 * `completed_tasks` are done. No task waits before its executor is launched here
 * (`pending_tasks`): launches are not authorized asynchronously.
 */
export function getTasks(agent: Agent, approvers?: AgentApprovers) {
  const queued: Task[] = [];
  const launched: Task[] = [];
  const terminated: Task[] = [];
  const completed: Task[] = [];
  const agentId = agent.agentId ?? '';
  // Mesos's `_getTasks` checks the framework and each task, not the executor.
  for (const f of viewableFrameworks(approvers, [...agent.frameworks.values(), ...agent.completedFrameworks])) {
    for (const e of [...f.executors.values(), ...f.completedExecutors]) {
      const tasks = (list: Iterable<Task>) => viewableTasks(approvers, f.info, e, [...list]);
      for (const info of viewableTaskInfos(approvers, f.info, e, [...e.queuedTasks.values()])) queued.push(createTask(info, e.frameworkId, agentId, e.commandExecutor ? undefined : e.id));
      launched.push(...tasks(e.launchedTasks.values()));
      terminated.push(...tasks(e.terminatedTasks.values()));
      completed.push(...tasks(e.completedTasks));
    }
  }
  return { pending_tasks: [], queued_tasks: queued, launched_tasks: launched, terminated_tasks: terminated, completed_tasks: completed };
}

/**
 * `GetContainers`: one `Container` per executor that has not terminated (`usageTargets`, listed
 * in the agent's mailbox), with its `ResourceStatistics` as `/monitor/statistics` reports them,
 * and its `container_status` (`executor_pid`) while its process runs.
 */
export async function getContainers(targets: readonly ExecutorUsageTarget[]) {
  const usage = await readUsage(PROC_ROOT, new Set(targets.flatMap((t) => (t.pid === undefined ? [] : [t.pid]))));
  const cgroups = await Promise.all(targets.map((t) => (t.cgroups === undefined ? undefined : readCgroupStatistics(t.cgroups))));
  return {
    containers: targets.map((t, i) => container(t, resourceStatistics(t, usage, cgroups[i]))),
  };
}

function container(target: ExecutorUsageTarget, statistics: ResourceStatistics) {
  const containerId = { value: target.containerId };
  return {
    framework_id: { value: target.entry.framework_id },
    executor_id: { value: target.entry.executor_id },
    executor_name: target.entry.executor_name,
    container_id: containerId,
    ...(target.pid !== undefined ? { container_status: { container_id: containerId, executor_pid: target.pid } } : {}),
    resource_statistics: statistics,
  };
}

/**
 * The containers among `targets` that `approvers` may view: of an executor it may view
 * (`view_executors`), of a framework it may view (`view_frameworks`). Read in the agent's mailbox.
 */
function viewableTargets(agent: Agent, approvers: AgentApprovers | undefined, targets: ExecutorUsageTarget[]): ExecutorUsageTarget[] {
  if (approvers === undefined) return targets;
  return targets.filter((t) => {
    const framework = agent.frameworks.get(t.entry.framework_id);
    const executor = framework?.executors.get(t.entry.executor_id);
    return framework !== undefined && executor !== undefined && approvers.framework(framework.info) && approvers.executor(framework.info, executor.info);
  });
}

/** A framework's `FrameworkInfo`, with its id (as Mesos's agent keeps it). */
function frameworkInfo(f: FrameworkRecord): FrameworkInfo {
  return f.info.id !== undefined ? f.info : { ...f.info, id: { value: f.id } };
}

/** An executor's `ExecutorInfo`, with its framework's id (as Mesos's agent sets it). */
function executorInfo(e: ExecutorRecord): ExecutorInfo {
  return e.info.framework_id !== undefined ? e.info : { ...e.info, framework_id: { value: e.frameworkId } };
}
