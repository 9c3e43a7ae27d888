import { authorizeOperatorCall } from './operator-authorization.ts';
import { z } from 'zod';
import { badRequest, notFound, ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { allocationRole, reservedModel } from '../../src/mesos/model.ts';
import type { DrainConfig, Task } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { MachineIDSchema, ScheduleSchema } from '../../src/mesos/v1/maintenance.ts';
import { AgentIDSchema, DurationInfoSchema, FrameworkIDSchema, isTerminalState, ResourceSchema, type ExecutorInfo, type Resource, type TimeInfo } from '../../src/mesos/v1/common.ts';
import { parseWith } from '../../src/mesos/v1/validate.ts';
import { processCallAnswer, readV1Call } from '../cluster/v1-api.ts';
import * as agents from './agents.ts';
import * as drain from './drain.ts';
import * as maintenance from './maintenance.ts';
import { removeFramework } from './frameworks.ts';
import type { Master } from './master-process.ts';
import * as operatorEvents from './operator-events.ts';
import { jsonPostRefusal } from './scheduler-api.ts';
import { operate as operateReservation } from './operator-reservations.ts';
import { operateVolumes } from './operator-volumes.ts';
import { offeredResources, type AgentRecord, type FrameworkRecord } from './state.ts';
import { quotaStatus, removeQuota, RemoveQuotaSchema, setQuotaCall, SetQuotaSchema, updateQuotaCall, UpdateQuotaSchema } from './quota.ts';
import { updateWeights, validateWeights, weightInfos, WeightInfosSchema } from './weights.ts';
import { viewable, viewableExecutors, viewableFrameworks, viewableQuotaStatus, viewableResources, viewableTasks, viewApprovers, type ViewApprovers } from './view-approvers.ts';

/**
 * The v1 operator HTTP API, `POST /api/v1` on the master, as Mesos's `Master::Http::api`: a
 * JSON `mesos.v1.master.Call` in, a `mesos.v1.master.Response` out (`{"type": "GET_STATE",
 * "get_state": {...}}`), so the DC/OS CLI, mesos-cli and the Go and Python clients can read
 * this master.
 *
 * 1. The read-only calls answerable from the master's own state: GET_HEALTH, GET_FLAGS,
 *    GET_VERSION, GET_METRICS, GET_LOGGING_LEVEL, GET_MASTER, GET_AGENTS, GET_FRAMEWORKS,
 *    GET_EXECUTORS, GET_TASKS, GET_ROLES and GET_STATE (the four GET_* parts in one).
 * 2. SUBSCRIBE: a RecordIO stream of `mesos.v1.master.Event`s (`operator-events.ts`).
 * 3. The mutations, answered `200` with an empty body once done: TEARDOWN removes a framework
 *    as its scheduler's TEARDOWN does (`teardown`, shared with `/master/teardown`);
 *    MARK_AGENT_GONE writes the agent gone to the registry, then shuts it down and removes it
 *    (`markAgentGone`); DEACTIVATE_AGENT and REACTIVATE_AGENT write the agent's deactivation
 *    to the registry, then stop or resume its offers (`deactivateAgent`, `reactivateAgent`);
 *    DRAIN_AGENT writes the agent's drain info and deactivation to the registry, then stops
 *    its offers and tells it to drain, and the master marks it DRAINED (and, with `mark_gone`,
 *    gone) once none of its tasks is left (`drainAgent`, `drain.ts`); REACTIVATE_AGENT undoes
 *    a drain once the agent is drained.
 * 4. Weights: GET_WEIGHTS, and UPDATE_WEIGHTS, written to the registry before it is answered
 *    (`weights.ts`, shared with `/master/weights`).
 * 5. Quota: GET_QUOTA, and UPDATE_QUOTA, checked against the cluster's capacity unless `force`
 *    and written to the registry before it is answered (`quota.ts`, shared with `/master/quota`);
 *    the deprecated SET_QUOTA (a v0 `QuotaRequest`) and REMOVE_QUOTA (also
 *    `DELETE /master/quota/<role>`).
 * 6. Dynamic reservations: RESERVE_RESOURCES (with an optional `source`) and
 *    UNRESERVE_RESOURCES, `202` once applied, `409` when the agent has not that much free
 *    (`operator-reservations.ts`, shared with `/master/reserve` and `/master/unreserve`).
 *    Persistent volumes: CREATE_VOLUMES and DESTROY_VOLUMES, the same way (`operator-volumes.ts`,
 *    shared with `/master/create-volumes` and `/master/destroy-volumes`).
 * 7. Maintenance (`maintenance.ts`, shared with `/master/maintenance/*` and `/master/machine/*`):
 *    GET_MAINTENANCE_SCHEDULE, UPDATE_MAINTENANCE_SCHEDULE, START_MAINTENANCE,
 *    STOP_MAINTENANCE (`200` once written to the registry and acted on) and GET_MAINTENANCE_STATUS.
 *    DRAIN_AGENT refuses an agent on a scheduled machine (`400`), as Mesos's.
 * 8. Every other call type of `master.proto` (resizing volumes, the files, ...) is
 *    `501 Not Implemented`, naming it.
 *
 * With `--acls`, the GET_* calls (and SUBSCRIBE's events) answer only what the requester may
 * view: frameworks, tasks, executors, roles and quotas (`view-approvers.ts`).
 *
 * Requests are checked in the scheduler API's order (`scheduler-api.ts`): not the leader `307`
 * to the leader (`503` when none is known); not POST `405`; no `Content-Type` `400`; not JSON
 * `415`; a body that is not a valid call `400` naming the field; an `Accept` that rules out JSON
 * `406`.
 */

export const OPERATOR_API_PATH = '/api/v1';

/** `mesos.v1.master.Call.Type` (Mesos 1.11), without `UNKNOWN`. */
export const OPERATOR_CALL_TYPES = [
  'GET_HEALTH',
  'GET_FLAGS',
  'GET_VERSION',
  'GET_METRICS',
  'GET_LOGGING_LEVEL',
  'SET_LOGGING_LEVEL',
  'LIST_FILES',
  'READ_FILE',
  'GET_STATE',
  'GET_AGENTS',
  'GET_FRAMEWORKS',
  'GET_EXECUTORS',
  'GET_OPERATIONS',
  'GET_TASKS',
  'GET_ROLES',
  'GET_WEIGHTS',
  'UPDATE_WEIGHTS',
  'GET_MASTER',
  'SUBSCRIBE',
  'RESERVE_RESOURCES',
  'UNRESERVE_RESOURCES',
  'CREATE_VOLUMES',
  'DESTROY_VOLUMES',
  'GROW_VOLUME',
  'SHRINK_VOLUME',
  'GET_MAINTENANCE_STATUS',
  'GET_MAINTENANCE_SCHEDULE',
  'UPDATE_MAINTENANCE_SCHEDULE',
  'START_MAINTENANCE',
  'STOP_MAINTENANCE',
  'DRAIN_AGENT',
  'DEACTIVATE_AGENT',
  'REACTIVATE_AGENT',
  'GET_QUOTA',
  'UPDATE_QUOTA',
  'SET_QUOTA',
  'REMOVE_QUOTA',
  'TEARDOWN',
  'MARK_AGENT_GONE',
] as const;
export type OperatorCallType = (typeof OPERATOR_CALL_TYPES)[number];

/**
 * The part of `master::Call` this master reads: the type, GET_METRICS's optional `timeout`, the
 * ids TEARDOWN, MARK_AGENT_GONE, DEACTIVATE_AGENT and REACTIVATE_AGENT name, DRAIN_AGENT's agent
 * and `DrainConfig` fields (`max_grace_period`, `mark_gone`), the maintenance calls' schedule
 * and machines, UPDATE_WEIGHTS's
 * weights, UPDATE_QUOTA's configs, RESERVE_RESOURCES's and UNRESERVE_RESOURCES's agent and
 * resources, and CREATE_VOLUMES's and DESTROY_VOLUMES's agent and volumes. The payloads of calls it does not implement are not looked at (they answer `501`).
 */
const OperatorCallSchema = z.object({
  type: z.enum(OPERATOR_CALL_TYPES),
  get_metrics: z.object({ timeout: DurationInfoSchema.optional() }).optional(),
  teardown: z.object({ framework_id: FrameworkIDSchema }).optional(),
  mark_agent_gone: z.object({ agent_id: AgentIDSchema }).optional(),
  deactivate_agent: z.object({ agent_id: AgentIDSchema }).optional(),
  reactivate_agent: z.object({ agent_id: AgentIDSchema }).optional(),
  drain_agent: z.object({ agent_id: AgentIDSchema, max_grace_period: DurationInfoSchema.optional(), mark_gone: z.boolean().optional() }).optional(),
  update_maintenance_schedule: z.object({ schedule: ScheduleSchema }).optional(),
  start_maintenance: z.object({ machines: z.array(MachineIDSchema).optional() }).optional(),
  stop_maintenance: z.object({ machines: z.array(MachineIDSchema).optional() }).optional(),
  update_weights: z.object({ weight_infos: WeightInfosSchema.optional() }).optional(),
  update_quota: UpdateQuotaSchema.optional(),
  set_quota: SetQuotaSchema.optional(),
  remove_quota: RemoveQuotaSchema.optional(),
  reserve_resources: z.object({ agent_id: AgentIDSchema, source: z.array(ResourceSchema).optional(), resources: z.array(ResourceSchema) }).optional(),
  unreserve_resources: z.object({ agent_id: AgentIDSchema, resources: z.array(ResourceSchema) }).optional(),
  create_volumes: z.object({ agent_id: AgentIDSchema, volumes: z.array(ResourceSchema) }).optional(),
  destroy_volumes: z.object({ agent_id: AgentIDSchema, volumes: z.array(ResourceSchema) }).optional(),
});
export type OperatorCall = z.infer<typeof OperatorCallSchema>;

/** Parses a `master::Call`, throwing an `InvalidMessageError` naming the field. */
export function parseOperatorCall(json: unknown): OperatorCall {
  return parseWith(OperatorCallSchema, json, { what: 'call' });
}

/** `POST /api/v1`. Runs in the master's mailbox, as every route. */
export function operatorApi(m: Master, request: HttpRequest): HttpResponse | Promise<HttpResponse> {
  const refused = jsonPostRefusal(m, request, 'the operator API');
  if (refused !== undefined) return refused;

  const read = readV1Call(request, parseOperatorCall, 'master::Call', 'this master');
  if ('response' in read) return read.response;
  const call = read.call;

  m.log.debug({ type: call.type, remote: request.remote }, 'Processing operator call');
  const shared = processCallAnswer(call.type, { flags: m.options.flags, runtime: m.runtime, metrics: m.metrics, log: m.log });
  if (shared !== undefined) return shared;
  const answer = (type: string, field: string, body: unknown): HttpResponse => ok({ type, [field]: body });
  const denied = authorizeOperatorCall(m, call, request.principal);
  if (denied !== undefined) return denied;
  // What the principal may view (`undefined` without `--acls`: everything).
  const approvers = viewApprovers(m, request.principal);
  switch (call.type) {
    case 'GET_MASTER':
      return answer('GET_MASTER', 'get_master', getMaster(m));
    case 'GET_STATE':
      return answer('GET_STATE', 'get_state', getState(m, approvers));
    case 'GET_AGENTS':
      return answer('GET_AGENTS', 'get_agents', getAgents(m, approvers));
    case 'GET_FRAMEWORKS':
      return answer('GET_FRAMEWORKS', 'get_frameworks', getFrameworks(m, approvers));
    case 'GET_EXECUTORS':
      return answer('GET_EXECUTORS', 'get_executors', getExecutors(m, approvers));
    case 'GET_TASKS':
      return answer('GET_TASKS', 'get_tasks', getTasks(m, approvers));
    case 'GET_ROLES':
      return answer('GET_ROLES', 'get_roles', getRoles(m, approvers));
    case 'SUBSCRIBE':
      return operatorEvents.subscribe(m, request);
    case 'TEARDOWN':
      // Mesos's `validation::master::call::validate`: the payload of the call's type is required.
      if (call.teardown === undefined) return badRequest("Failed to validate master::Call: Expecting 'teardown' to be present");
      return teardown(m, call.teardown.framework_id.value);
    case 'MARK_AGENT_GONE':
      if (call.mark_agent_gone === undefined) return badRequest("Failed to validate master::Call: Expecting 'mark_agent_gone' to be present");
      return markAgentGone(m, call.mark_agent_gone.agent_id.value);
    case 'DEACTIVATE_AGENT':
      if (call.deactivate_agent === undefined) return badRequest("Failed to validate master::Call: Expecting 'deactivate_agent' to be present");
      return deactivateAgent(m, call.deactivate_agent.agent_id.value);
    case 'REACTIVATE_AGENT':
      if (call.reactivate_agent === undefined) return badRequest("Failed to validate master::Call: Expecting 'reactivate_agent' to be present");
      return reactivateAgent(m, call.reactivate_agent.agent_id.value);
    case 'DRAIN_AGENT':
      if (call.drain_agent === undefined) return badRequest("Failed to validate master::Call: Expecting 'drain_agent' to be present");
      return drainAgent(m, call.drain_agent);
    case 'GET_MAINTENANCE_SCHEDULE':
      return answer('GET_MAINTENANCE_SCHEDULE', 'get_maintenance_schedule', { schedule: maintenance.getSchedule(m) });
    case 'GET_MAINTENANCE_STATUS':
      return answer('GET_MAINTENANCE_STATUS', 'get_maintenance_status', { status: maintenance.getStatus(m) });
    case 'UPDATE_MAINTENANCE_SCHEDULE':
      if (call.update_maintenance_schedule === undefined) return badRequest("Failed to validate master::Call: Expecting 'update_maintenance_schedule' to be present");
      return maintenance.updateSchedule(m, call.update_maintenance_schedule.schedule, 'update_maintenance_schedule.schedule');
    case 'START_MAINTENANCE':
      if (call.start_maintenance === undefined) return badRequest("Failed to validate master::Call: Expecting 'start_maintenance' to be present");
      return maintenance.startMaintenance(m, call.start_maintenance.machines ?? [], 'start_maintenance.machines');
    case 'STOP_MAINTENANCE':
      if (call.stop_maintenance === undefined) return badRequest("Failed to validate master::Call: Expecting 'stop_maintenance' to be present");
      return maintenance.stopMaintenance(m, call.stop_maintenance.machines ?? [], 'stop_maintenance.machines');
    case 'GET_WEIGHTS':
      return answer('GET_WEIGHTS', 'get_weights', { weight_infos: viewable(approvers, weightInfos(m), (a, w) => a.role(w.role)) });
    case 'UPDATE_WEIGHTS': {
      if (call.update_weights === undefined) return badRequest("Failed to validate master::Call: Expecting 'update_weights' to be present");
      const validated = validateWeights(call.update_weights.weight_infos ?? [], 'update_weights.weight_infos');
      return Array.isArray(validated) ? updateWeights(m, validated) : validated;
    }
    case 'GET_QUOTA':
      return answer('GET_QUOTA', 'get_quota', { status: viewableQuotaStatus(approvers, quotaStatus(m)) });
    case 'UPDATE_QUOTA':
      if (call.update_quota === undefined) return badRequest("Failed to validate master::Call: Expecting 'update_quota' to be present");
      return updateQuotaCall(m, call.update_quota);
    case 'SET_QUOTA':
      if (call.set_quota === undefined) return badRequest("Failed to validate master::Call: Expecting 'set_quota' to be present");
      return setQuotaCall(m, call.set_quota);
    case 'REMOVE_QUOTA':
      if (call.remove_quota === undefined) return badRequest("Failed to validate master::Call: Expecting 'remove_quota' to be present");
      return removeQuota(m, call.remove_quota.role);
    case 'RESERVE_RESOURCES': {
      const reserve = call.reserve_resources;
      if (reserve === undefined) return badRequest("Failed to validate master::Call: Expecting 'reserve_resources' to be present");
      const fields = { agent: 'reserve_resources.agent_id', source: 'reserve_resources.source', resources: 'reserve_resources.resources' };
      return operateReservation(m, { type: 'RESERVE', agentId: reserve.agent_id.value, source: reserve.source, resources: reserve.resources, principal: request.principal, fields });
    }
    case 'UNRESERVE_RESOURCES': {
      const unreserve = call.unreserve_resources;
      if (unreserve === undefined) return badRequest("Failed to validate master::Call: Expecting 'unreserve_resources' to be present");
      const fields = { agent: 'unreserve_resources.agent_id', resources: 'unreserve_resources.resources' };
      return operateReservation(m, { type: 'UNRESERVE', agentId: unreserve.agent_id.value, resources: unreserve.resources, principal: request.principal, fields });
    }
    case 'CREATE_VOLUMES':
    case 'DESTROY_VOLUMES': {
      const [type, key] = call.type === 'CREATE_VOLUMES' ? (['CREATE', 'create_volumes'] as const) : (['DESTROY', 'destroy_volumes'] as const);
      const payload = call[key];
      if (payload === undefined) return badRequest(`Failed to validate master::Call: Expecting '${key}' to be present`);
      const fields = { agent: `${key}.agent_id`, volumes: `${key}.volumes` };
      return operateVolumes(m, { type, agentId: payload.agent_id.value, volumes: payload.volumes, principal: request.principal, fields });
    }
    default:
      return { status: 501, body: `Call type '${call.type}' is not implemented by this master` };
  }
}

// ---------------------------------------------------------------------------------------------
// The destructive calls. Mesos answers both with `OK()`: `200`, no body.

const DONE: HttpResponse = { status: 200 };

/**
 * The answer to an operator change written to the registry (`Master.applied`): `200` once it is
 * applied; `503` naming what failed if the registry write did (the master gives the lead up).
 */
export function registryAnswer(applied: Promise<void>, what: string): Promise<HttpResponse> {
  return applied.then(
    () => DONE,
    (error: unknown): HttpResponse => ({ status: 503, body: `Failed to ${what} in the registry: ${(error as Error).message}` }),
  );
}

/**
 * TEARDOWN and `POST /master/teardown` (Mesos's `Http::_teardown`): the framework is removed as
 * its own scheduler's TEARDOWN removes it (`removeFramework`: its tasks killed, its executors
 * shut down on their agents, its offers withdrawn, the framework completed). A framework this
 * master does not have subscribed (never known, or completed already) is `400`, in Mesos's words
 * and naming the id.
 */
export function teardown(m: Master, frameworkId: string): HttpResponse {
  const framework = m.frameworks.get(frameworkId);
  if (framework === undefined) return badRequest(`No framework found with specified ID '${frameworkId}'`);
  m.log.info({ frameworkId }, 'Tearing down framework at the operator\'s request');
  removeFramework(m, framework, 'teardown by the operator');
  return DONE;
}

/**
 * MARK_AGENT_GONE (Mesos's `Http::_markAgentGone`): answered once the registry has the agent
 * gone and the master has acted on it (`agents.markGone`). As Mesos: an agent gone already is
 * `200` (the call is idempotent); one this master does not know (not registered, recovered or
 * unreachable) is `404`; one with a registry write in flight is `503`, to be tried again. A
 * registry write that fails is `503` too: this master gives the lead up (Mesos's aborts).
 */
export function markAgentGone(m: Master, agentId: string): HttpResponse | Promise<HttpResponse> {
  m.log.info({ agentId }, 'Marking agent as gone');
  const problem = agents.markGoneProblem(m, agentId);
  switch (problem) {
    case 'gone':
      m.log.warn({ agentId }, 'Not marking agent as gone because it has already transitioned to gone');
      return DONE;
    case 'unknown':
      return notFound(`Agent '${agentId}' not found`);
    case 'removing':
      return { status: 503, body: `Agent '${agentId}' is being transitioned to removed or gone` };
    case 'markingUnreachable':
      return { status: 503, body: `Agent '${agentId}' is being transitioned to unreachable` };
    case 'reregistering':
      return { status: 503, body: `Agent '${agentId}' is being transitioned to reachable (it is re-registering)` };
  }
  return registryAnswer(agents.markGone(m, agentId), `mark agent '${agentId}' as gone`);
}

/**
 * DEACTIVATE_AGENT (Mesos's `Http::_deactivateAgent`): once the registry has the agent
 * deactivated, it gets no offers (its outstanding ones are rescinded), whether it is connected,
 * reconnects later, or is recovered by a new leader; its tasks keep running. An agent this
 * master has registered, recovered from the registry or marked unreachable may be deactivated
 * (again: `200`); another is `400`, as Mesos's "Unknown agent". A registry write that fails is
 * `503` (and the master gives the lead up).
 */
export function deactivateAgent(m: Master, agentId: string): HttpResponse | Promise<HttpResponse> {
  if (!knownAgent(m, agentId)) return badRequest(`Unknown agent '${agentId}'`);
  return registryAnswer(agents.setDeactivated(m, agentId, true), `deactivate agent '${agentId}'`);
}

/** An agent this master has registered, recovered from the registry or marked unreachable. */
function knownAgent(m: Master, agentId: string): boolean {
  return m.agents.has(agentId) || m.recoveredAgents.has(agentId) || m.unreachableAgents.has(agentId);
}

/**
 * REACTIVATE_AGENT (Mesos's `Http::_reactivateAgent`): once the registry no longer has the
 * agent deactivated, it is offered again if connected. One that is not deactivated is `400`,
 * as in Mesos; so is one that is draining (Mesos's draining "cannot be cancelled"): it may be
 * reactivated once drained, when its drain info leaves the registry with its deactivation
 * (`drain.reactivateDrained`).
 */
export function reactivateAgent(m: Master, agentId: string): HttpResponse | Promise<HttpResponse> {
  const drainState = m.drainInfos.get(agentId)?.state;
  if (drainState === 'DRAINING') return badRequest(`Agent '${agentId}' is draining: it can be reactivated once drained`);
  if (drainState === 'DRAINED') return registryAnswer(drain.reactivateDrained(m, agentId), `reactivate drained agent '${agentId}'`);
  if (!m.deactivatedAgents.has(agentId)) return badRequest(`Agent '${agentId}' is not deactivated`);
  return registryAnswer(agents.setDeactivated(m, agentId, false), `reactivate agent '${agentId}'`);
}

/**
 * DRAIN_AGENT (Mesos 1.9's `Http::drainAgent`): once the registry has the agent's drain info
 * (`DRAINING`, with `max_grace_period` and `mark_gone`) and its deactivation, it gets no offers
 * and, if connected, is told to drain (`drain.ts`). An agent this master does not know (as for
 * DEACTIVATE_AGENT) or a negative `max_grace_period` is `400`; one draining or drained already
 * is drained again with the new config. A registry write that fails is `503` (and the master
 * gives the lead up).
 */
export function drainAgent(m: Master, call: NonNullable<OperatorCall['drain_agent']>): HttpResponse | Promise<HttpResponse> {
  const agentId = call.agent_id.value;
  if (!knownAgent(m, agentId)) return badRequest(`Unknown agent '${agentId}'`);
  const scheduled = maintenance.drainProblem(m, agentId);
  if (scheduled !== undefined) return badRequest(scheduled);
  const grace = call.max_grace_period;
  if (grace !== undefined && grace.nanoseconds < 0) {
    return badRequest(`Cannot drain agent '${agentId}': 'drain_agent.max_grace_period' must not be negative, got ${grace.nanoseconds} nanoseconds`);
  }
  // As Mesos's, the config always says whether to mark the agent gone.
  const config: DrainConfig = { ...(grace !== undefined ? { max_grace_period: grace } : {}), mark_gone: call.mark_gone ?? false };
  return registryAnswer(drain.drain(m, agentId, config), `drain agent '${agentId}'`);
}

// ---------------------------------------------------------------------------------------------
// The responses, in `mesos.v1.master.Response` field names (exported for tests and tools).

/** Milliseconds on the master's Clock as a v1 `TimeInfo`. */
export function timeInfo(ms: number): TimeInfo {
  return { nanoseconds: Math.round(ms * 1e6) };
}

/** `GetMaster`: the leader's `MasterInfo`, and when it started and was elected (seconds). */
export function getMaster(m: Master) {
  return { master_info: m.masterInfo, start_time: m.startTime / 1000, elected_time: m.electedTime / 1000 };
}

/**
 * `GetState`: the four views at one instant (the handler runs to completion in the mailbox), as
 * `approvers` may view them (everything without).
 */
export function getState(m: Master, approvers?: ViewApprovers) {
  return { get_tasks: getTasks(m, approvers), get_executors: getExecutors(m, approvers), get_frameworks: getFrameworks(m, approvers), get_agents: getAgents(m, approvers) };
}

/** `GetAgents`: every registered agent; none is recovered from a registry here. */
export function getAgents(m: Master, approvers?: ViewApprovers) {
  return { agents: [...m.agents.values()].map((a) => agentResponse(m, a, approvers)), recovered_agents: [] };
}

/**
 * `GetAgents.Agent`: one agent (Mesos's `createAgentResponse`), also AGENT_ADDED's, with
 * Mesos 1.9's `deactivated` and, when it is draining or drained, `drain_info`. Its resources
 * reserved to a role `approvers` may not view are left out, as Mesos's.
 */
export function agentResponse(m: Master, a: AgentRecord, approvers?: ViewApprovers) {
  return {
    agent_info: a.info,
    active: a.active,
    deactivated: m.deactivatedAgents.has(a.id),
    ...drain.drainInfoField(m, a.id),
    version: a.version ?? '',
    pid: String(a.pid),
    registered_time: timeInfo(a.registeredTime),
    ...(a.reregisteredTime !== undefined ? { reregistered_time: timeInfo(a.reregisteredTime) } : {}),
    total_resources: resourceList(viewableResources(approvers, a.total)),
    allocated_resources: resourceList(viewableResources(approvers, a.usedResources())),
    offered_resources: resourceList(viewableResources(approvers, offeredResources(m.offers, a.offers))),
  };
}

/** `GetFrameworks`: subscribed (connected or not) and completed frameworks, those `approvers` may view. */
export function getFrameworks(m: Master, approvers?: ViewApprovers) {
  return {
    frameworks: viewableFrameworks(approvers, [...m.frameworks.values()]).map((f) => frameworkResponse(m, f)),
    completed_frameworks: viewableFrameworks(approvers, [...m.completedFrameworks]).map((f) => frameworkResponse(m, f)),
    recovered_frameworks: [],
  };
}

/** `GetFrameworks.Framework`: one framework, also FRAMEWORK_ADDED's and FRAMEWORK_UPDATED's. */
export function frameworkResponse(m: Master, f: FrameworkRecord) {
  return {
    framework_info: f.info,
    active: f.active,
    connected: f.connected,
    recovered: false,
    registered_time: timeInfo(f.registeredTime),
    ...(f.reregisteredTime !== undefined ? { reregistered_time: timeInfo(f.reregisteredTime) } : {}),
    ...(f.unregisteredTime !== undefined ? { unregistered_time: timeInfo(f.unregisteredTime) } : {}),
    offers: [...f.offers].flatMap((id) => {
      const offer = m.offers.get(id);
      return offer === undefined ? [] : [offer.json];
    }),
    inverse_offers: [],
    allocated_resources: resourceList(f.usedResources()),
    offered_resources: resourceList(offeredResources(m.offers, f.offers)),
  };
}

/** `GetExecutors`: every executor of a known framework, with its agent; those `approvers` may view. */
export function getExecutors(m: Master, approvers?: ViewApprovers) {
  const executors: { executor_info: ExecutorInfo; agent_id: { value: string } }[] = [];
  for (const f of viewableFrameworks(approvers, [...m.frameworks.values(), ...m.completedFrameworks])) {
    for (const [agentId, map] of f.executors) {
      for (const info of viewableExecutors(approvers, f.info, [...map.values()])) executors.push({ executor_info: { ...info, framework_id: info.framework_id ?? { value: f.id } }, agent_id: { value: agentId } });
    }
  }
  return { executors, orphan_executors: [] };
}

/**
 * `GetTasks`: v1 `Task`s. `tasks` holds those sent to agents (terminal ones too until their
 * update is acknowledged), `unreachable_tasks` those on unreachable agents, `completed_tasks`
 * the last `--max_completed_tasks_per_framework` that ended. No task waits on the master
 * (`pending_tasks`): launches are not authorized asynchronously here. With `approvers`, the
 * tasks they may view of the frameworks they may view.
 */
export function getTasks(m: Master, approvers?: ViewApprovers) {
  const tasks: Task[] = [];
  const unreachable: Task[] = [];
  const completed: Task[] = [];
  for (const f of viewableFrameworks(approvers, [...m.frameworks.values(), ...m.completedFrameworks])) {
    if (approvers !== undefined) {
      tasks.push(...viewableTasks(approvers, f, [...f.tasks.values()]));
      unreachable.push(...viewableTasks(approvers, f, [...f.unreachableTasks.values()]));
      completed.push(...viewableTasks(approvers, f, [...f.completedTasks]));
      continue;
    }
    tasks.push(...f.tasks.values());
    unreachable.push(...f.unreachableTasks.values());
    completed.push(...f.completedTasks);
  }
  return { pending_tasks: [], tasks, unreachable_tasks: unreachable, completed_tasks: completed, orphan_tasks: [] };
}

/**
 * The roles a master knows of: every role a subscribed framework is in, has a reservation on an
 * agent, has a weight set (`--weights`, the registry, UPDATE_WEIGHTS: `Master.weights`) or a
 * quota (`Master.quotas`), sorted by name, each with its weight (default 1), its quota
 * guarantees and limits (none: `{}`), its frameworks and the resources allocated to it (its tasks' and
 * executors'). What `GET_ROLES` and `/master/roles` report, each in its own shape.
 */
export function roleUsage(m: Master): { name: string; weight: number; guarantees: Readonly<Record<string, number>>; limits: Readonly<Record<string, number>>; frameworks: string[]; allocated: Resources }[] {
  const weights = m.weights;
  const roles = new Map<string, { frameworks: Set<string>; allocated: Resources }>();
  const role = (name: string) => {
    let r = roles.get(name);
    if (r === undefined) roles.set(name, (r = { frameworks: new Set(), allocated: Resources.EMPTY }));
    return r;
  };
  for (const name of weights.keys()) role(name);
  for (const name of m.quotas.keys()) role(name);
  for (const a of m.agents.values()) for (const name of Object.keys(reservedModel(a.total))) role(name);
  for (const f of m.frameworks.values()) {
    for (const name of f.roles) role(name).frameworks.add(f.id);
    for (const t of f.tasks.values()) {
      const name = allocationRole(t.resources, f.info);
      if (name !== undefined && !isTerminalState(t.state)) role(name).allocated = role(name).allocated.plus(Resources.fromJSON(t.resources));
    }
    for (const executors of f.executors.values()) {
      for (const e of executors.values()) {
        const name = allocationRole(e.resources, f.info);
        if (name !== undefined) role(name).allocated = role(name).allocated.plus(Resources.fromJSON(e.resources ?? []));
      }
    }
  }
  return [...roles.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, r]) => ({ name, weight: weights.get(name) ?? 1, guarantees: m.quotas.get(name)?.guarantees ?? {}, limits: m.quotas.get(name)?.limits ?? {}, frameworks: [...r.frameworks], allocated: r.allocated }));
}

/**
 * `GetRoles`: `roleUsage` with frameworks as `FrameworkID`s and resources as v1 `Resource`s; the
 * roles `approvers` may view.
 */
export function getRoles(m: Master, approvers?: ViewApprovers) {
  return {
    roles: viewable(approvers, roleUsage(m), (a, r) => a.role(r.name)).map((r) => ({
      name: r.name,
      weight: r.weight,
      frameworks: r.frameworks.map((value) => ({ value })),
      resources: resourceList(r.allocated),
    })),
  };
}

function resourceList(resources: Resources): Resource[] {
  return [...resources.toJSON()] as Resource[];
}

