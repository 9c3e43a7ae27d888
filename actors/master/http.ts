import { authorizeTeardown } from './operator-authorization.ts';
import { badRequest, jsonp, methodNotAllowed, ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import type { RouteHandler } from '../../src/process/process.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { attributesModel, executorInfoModel, frameworkRoleModel, reservedFullModel, reservedModel, resourcesFullModel, resourcesModel, taskModel } from '../../src/mesos/model.ts';
import type { Task } from '../../src/mesos/protocol.ts';
import { failoverTimeoutSeconds } from '../../src/mesos/v1/common.ts';
import { MESOS_VERSION } from './constants.ts';
import { drainInfoField } from './drain.ts';
import { machineEndpoint, machineInfoField, scheduleEndpoint, statusEndpoint } from './maintenance.ts';
import type { Master } from './master-process.ts';
import { OPERATOR_API_PATH, operatorApi, roleUsage, teardown } from './operator-api.ts';
import { reservationEndpoint } from './operator-reservations.ts';
import { volumesEndpoint } from './operator-volumes.ts';
import { redirect, SCHEDULER_API_PATH, schedulerApi } from './scheduler-api.ts';
import { offeredResources, type AgentRecord, type FrameworkRecord, type OfferRecord } from './state.ts';
import { VersionProcess, versionJSON } from './version.ts';
import { quotaEndpoint, quotaRoleEndpoint } from './quota.ts';
import { weightsEndpoint } from './weights.ts';
import { WEBUI_PATHS, webuiRoutes } from './webui.ts';
import { viewable, viewableExecutors, viewableFrameworks, viewableResources, viewableTasks, viewApprovers, type ViewApprovers } from './view-approvers.ts';
import { MASTER_READONLY_REALM, MASTER_READWRITE_REALM, MASTER_SCHEDULER_REALM } from '../../src/http/authentication.ts';

/**
 * Operator endpoints in Mesos's JSON shapes: `/master/state`, `/master/state-summary`,
 * `/master/frameworks`, `/master/slaves`, `/master/tasks`, `/master/roles`, `/master/flags`, `/master/health`,
 * `/master/redirect`, `POST /master/teardown`, `POST /master/reserve` and `/master/unreserve`
 * (`operator-reservations.ts`), `POST /master/create-volumes` and `/master/destroy-volumes`
 * (`operator-volumes.ts`), `GET`/`PUT /master/weights` (`weights.ts`), and
 * `GET`/`POST /master/quota` (`quota.ts`), `GET`/`POST /master/maintenance/schedule`,
 * `GET /master/maintenance/status`, `POST /master/machine/down` and `/master/machine/up`
 * (`maintenance.ts`); the v1 operator API, `POST /api/v1`, is in `operator-api.ts`.
 *
 * As Mesos's `Master::Http` (and `ReadOnlyHandler`): a master that is not leading answers the
 * state endpoints with a redirect to the leader (`redirect`); every JSON endpoint takes
 * `?jsonp=<callback>`; `/frameworks?framework_id=`, `/slaves?slave_id=` and
 * `/tasks?framework_id=&task_id=` select by id; `/health` is `200` on any running master.
 * With `--acls`, the state endpoints show only what the requester may view
 * (`view-approvers.ts`).
 */
export function httpRoutes(m: Master): Record<string, RouteHandler> {
  /** A state endpoint: the leader answers, with `jsonp` as libprocess's `OK(json, jsonp)`. */
  const leaderOnly = (answer: (request: HttpRequest) => HttpResponse) => (request: HttpRequest) => {
    if (!m.leading) return redirect(m, request);
    return jsonp(answer(request), request);
  };
  /** The approvers of the request's principal (none without `--acls`). */
  const approvers = (request: HttpRequest) => viewApprovers(m, request.principal);
  const state = leaderOnly((request) => ok(stateJSON(m, approvers(request))));
  return {
    '/state': state,
    '/state.json': state,
    '/state-summary': leaderOnly((request) => ok(summaryJSON(m, approvers(request)))),
    '/frameworks': leaderOnly((request) => ok(frameworksJSON(m, request.url.searchParams.get('framework_id'), approvers(request)))),
    '/slaves': leaderOnly((request) => ok(slavesJSON(m, request.url.searchParams.get('slave_id'), approvers(request)))),
    '/tasks': leaderOnly((request) => tasksJSON(m, request, approvers(request))),
    '/roles': leaderOnly((request) => ok(rolesJSON(m, approvers(request)))),
    '/roles.json': leaderOnly((request) => ok(rolesJSON(m, approvers(request)))),
    // Mesos's `/flags`: every flag's value as text. Any master answers it (Mesos's does not redirect).
    '/flags': (request) => jsonp(ok({ flags: m.options.flags }), request),
    // Mesos's `health` is `OK()`: the process answers, whether it leads or not.
    '/health': () => ({ status: 200 }),
    '/redirect': (request) => redirect(m, request),
    '/teardown': (request) => teardownEndpoint(m, request),
    '/reserve': (request) => reservationEndpoint(m, request, 'RESERVE'),
    '/unreserve': (request) => reservationEndpoint(m, request, 'UNRESERVE'),
    '/create-volumes': (request) => volumesEndpoint(m, request, 'CREATE'),
    '/destroy-volumes': (request) => volumesEndpoint(m, request, 'DESTROY'),
    '/weights': (request) => weightsEndpoint(m, request),
    '/quota': (request) => quotaEndpoint(m, request),
    '/quota/*': (request) => quotaRoleEndpoint(m, request),
    '/maintenance/schedule': (request) => scheduleEndpoint(m, request),
    '/maintenance/status': (request) => statusEndpoint(m, request),
    '/machine/down': (request) => machineEndpoint(m, request, 'DOWN'),
    '/machine/up': (request) => machineEndpoint(m, request, 'UP'),
    [SCHEDULER_API_PATH]: (request) => schedulerApi(m, request),
    [OPERATOR_API_PATH]: (request) => operatorApi(m, request),
    // The web UI at `/` (the master is the HTTP delegate) and `/master/`.
    ...webuiRoutes(m),
  };
}

/** Master routes anyone may ask, whatever authentication is on (Mesos's `/health`, `/redirect`). */
const OPEN_ROUTES = new Set(['/health', '/redirect']);
/** Master routes that only read (Mesos's `READONLY_HTTP_AUTHENTICATION_REALM`). */
const READONLY_ROUTES = new Set(['/state', '/state.json', '/state-summary', '/frameworks', '/slaves', '/tasks', '/roles', '/roles.json', '/flags', '/maintenance/status']);

/**
 * The authentication realm of the master's route `path`, as Mesos's `Master::initialize`
 * installs them: the state endpoints and `/maintenance/status` `mesos-master-readonly` (Mesos
 * serves `/maintenance/schedule`, also its `GET`, in the read-write realm); the v1 scheduler API
 * `mesos-master-scheduler`; `/health`, `/redirect` and the web UI's static files none (the UI's
 * requests for state then ask the browser for credentials); every other route, including the
 * v1 operator API and whatever changes the cluster, `mesos-master-readwrite`, so that a route
 * added later is protected unless it says otherwise.
 */
export function masterRouteRealm(path: string): string | undefined {
  if (OPEN_ROUTES.has(path) || WEBUI_PATHS.has(path)) return undefined;
  if (READONLY_ROUTES.has(path)) return MASTER_READONLY_REALM;
  if (path === SCHEDULER_API_PATH) return MASTER_SCHEDULER_REALM;
  return MASTER_READWRITE_REALM;
}

/**
 * The form body of a v0 `POST` endpoint (`/master/teardown`, `/master/reserve`, ...), checked in
 * Mesos's order: not the leader `307` (`503` when none is known), not POST `405`, a body that
 * does not decode `400`; else its parameters. As in Mesos the `Content-Type` is not read.
 */
export function formPost(m: Master, request: HttpRequest): Map<string, string> | HttpResponse {
  if (!m.leading) return redirect(m, request);
  if (request.method !== 'POST') return methodNotAllowed(['POST'], request.method);
  try {
    return decodeQuery(request.body);
  } catch (error) {
    return badRequest(`Unable to decode query string: ${(error as Error).message}`);
  }
}

/**
 * `POST /master/teardown` with the form body `frameworkId=<id>` (Mesos's `Master::Http::teardown`):
 * TEARDOWN of the v1 operator API, and its answers (`operator-api.ts` `teardown`). Checked in
 * Mesos's order: not the leader `307` (`503` when none is known), not POST `405`, a body that
 * does not decode or has no `frameworkId` `400`. As in Mesos the `Content-Type` is not read.
 */
function teardownEndpoint(m: Master, request: HttpRequest): HttpResponse {
  const values = formPost(m, request);
  if (!(values instanceof Map)) return values;
  const frameworkId = values.get('frameworkId');
  if (frameworkId === undefined) return badRequest("Missing 'frameworkId' query parameter in the request body");
  return authorizeTeardown(m, request.principal, frameworkId) ?? teardown(m, frameworkId);
}

/**
 * A form body (`a=1&b=x+y`) as libprocess's `query::decode`: `+` is a space, a malformed
 * percent-escape is an error (naming the part), a later key wins.
 */
function decodeQuery(body: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const part of body.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s.replaceAll('+', ' '));
      } catch {
        throw new Error(`malformed percent-encoding in '${part}'`);
      }
    };
    values.set(decode(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? '' : decode(part.slice(eq + 1)));
  }
  return values;
}

const secs = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/**
 * `/master/roles`, as Mesos's `Master::Http::roles`: each role's name, weight, frameworks (their
 * ids), the resources allocated to it, in the v0 model (`{"cpus": 2, "mem": 128, ...}`), and
 * its `quota` as Mesos 1.11 shows it (`{"role", "guarantee": {"cpus": 2}, "limit": {"cpus": 4}}`;
 * Mesos's `consumed` is not reported). With `--acls`, the roles `approvers` may view.
 */
function rolesJSON(m: Master, approvers?: ViewApprovers) {
  return {
    roles: viewable(approvers, roleUsage(m), (a, r) => a.role(r.name)).map((r) => ({
      name: r.name,
      weight: r.weight,
      frameworks: r.frameworks,
      resources: resourcesModel(r.allocated),
      quota: { role: r.name, guarantee: { ...r.guarantees }, limit: { ...r.limits } },
    })),
  };
}

/** `/master/state` (exported for tests), as `approvers` may view it (everything without). */
export function stateJSON(m: Master, approvers?: ViewApprovers) {
  const info = m.masterInfo;
  const agents = [...m.agents.values()];
  // The build facts `/version` reports, when this runtime serves it (Mesos's `build_*`, `git_*`).
  const versionProcess = m.runtime.process('version');
  const build = versionProcess instanceof VersionProcess ? versionJSON(versionProcess.build) : {};
  return {
    ...build,
    version: MESOS_VERSION,
    start_time: secs(m.startTime),
    elected_time: secs(m.electedTime),
    id: info.id,
    pid: String(m.self),
    hostname: info.hostname,
    activated_slaves: agents.filter((a) => a.active).length,
    deactivated_slaves: agents.filter((a) => !a.active).length,
    unreachable_slaves: m.unreachableAgents.size,
    leader: String(m.self),
    leader_info: info,
    ...(m.options.flags.cluster !== undefined ? { cluster: m.options.flags.cluster } : {}),
    flags: m.options.flags,
    // With each reservation in full (v1 JSON), as `/master/slaves` has it: what `/master/unreserve` takes.
    slaves: agents.map((a) => ({ ...agentJSON(m, a, approvers), reserved_resources_full: reservedFullModel(viewableResources(approvers, a.total)) })),
    recovered_slaves: recoveredAgentsJSON(m),
    frameworks: viewableFrameworks(approvers, [...m.frameworks.values()]).map((f) => frameworkJSON(m, f, approvers)),
    completed_frameworks: viewableFrameworks(approvers, [...m.completedFrameworks]).map((f) => frameworkJSON(m, f, approvers)),
    orphan_tasks: [],
    unregistered_frameworks: [],
  };
}

function summaryJSON(m: Master, approvers: ViewApprovers | undefined) {
  const info = m.masterInfo;
  return {
    hostname: info.hostname,
    cluster: m.options.flags.cluster,
    slaves: [...m.agents.values()].map((a) => {
      const base = agentJSON(m, a, approvers);
      const counts = taskCounts(a.allTasks());
      return { ...base, ...counts, framework_ids: [...a.tasks.keys()] };
    }),
    frameworks: viewableFrameworks(approvers, [...m.frameworks.values()]).map((f) => {
      const base = frameworkJSON(m, f);
      const { tasks: _t, unreachable_tasks: _u, completed_tasks: _c, offers: _o, executors: _e, ...rest } = base;
      return { ...rest, ...taskCounts(f.tasks.values()), slave_ids: [...new Set([...f.tasks.values()].map((t) => t.agent_id.value))] };
    }),
  };
}

function taskCounts(tasks: Iterable<Task>): Record<string, number> {
  const counts: Record<string, number> = {
    TASK_STAGING: 0,
    TASK_STARTING: 0,
    TASK_RUNNING: 0,
    TASK_KILLING: 0,
    TASK_FINISHED: 0,
    TASK_KILLED: 0,
    TASK_FAILED: 0,
    TASK_LOST: 0,
    TASK_ERROR: 0,
    TASK_DROPPED: 0,
    TASK_UNREACHABLE: 0,
    TASK_GONE: 0,
    TASK_GONE_BY_OPERATOR: 0,
    TASK_UNKNOWN: 0,
  };
  for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
  return counts;
}

/** `/frameworks`, every framework or (`framework_id`) the one with that id, that `approvers` may view. */
function frameworksJSON(m: Master, frameworkId: string | null, approvers: ViewApprovers | undefined) {
  const selected = (f: FrameworkRecord) => frameworkId === null || f.id === frameworkId;
  return {
    frameworks: viewableFrameworks(approvers, [...m.frameworks.values()].filter(selected)).map((f) => frameworkJSON(m, f, approvers)),
    completed_frameworks: viewableFrameworks(approvers, [...m.completedFrameworks].filter(selected)).map((f) => frameworkJSON(m, f, approvers)),
    unregistered_frameworks: [],
  };
}

/** `/slaves`, every agent or (`slave_id`) the one with that id. */
function slavesJSON(m: Master, agentId: string | null, approvers: ViewApprovers | undefined) {
  const agents = [...m.agents.values()].filter((a) => agentId === null || a.id === agentId);
  return { slaves: agents.map((a) => ({ ...agentJSON(m, a, approvers), ...agentFullJSON(m, a, approvers) })), recovered_slaves: recoveredAgentsJSON(m) };
}

/**
 * Agents the registry lists that have not re-registered since this master was elected (Mesos's
 * `slaves.recovered`), each its `SlaveInfo` as Mesos's `json(SlaveInfo)` writes it.
 */
function recoveredAgentsJSON(m: Master) {
  return [...m.recoveredAgents.values()].map((info) => ({
    id: info.id.value,
    hostname: info.hostname,
    ...(info.port !== undefined ? { port: info.port } : {}),
    attributes: attributesModel(info.attributes),
    ...(info.domain !== undefined ? { domain: info.domain } : {}),
  }));
}


function offerJSON(offer: OfferRecord) {
  return {
    id: offer.id,
    framework_id: offer.frameworkId,
    slave_id: offer.agentId,
    resources: resourcesModel(offer.resources),
    allocation_info: { role: offer.role },
  };
}

/** A framework of `/master/state` and `/master/frameworks`, with the tasks and executors `approvers` may view. */
function frameworkJSON(m: Master, f: FrameworkRecord, approvers?: ViewApprovers) {
  const used = f.usedResources();
  const offered = offeredResources(m.offers, f.offers);
  const executors = [...f.executors].flatMap(([agentId, map]) => viewableExecutors(approvers, f.info, [...map.values()]).map((e) => ({ ...executorInfoModel(e, f.id, f.info), slave_id: agentId })));
  const task = (t: Task) => taskModel(t, f.info);
  const tasks = (list: Task[]) => viewableTasks(approvers, f, list).map(task);
  return {
    id: f.id,
    name: f.info.name,
    pid: f.connection?.pid !== undefined ? String(f.connection.pid) : undefined,
    used_resources: resourcesModel(used),
    offered_resources: resourcesModel(offered),
    capabilities: (f.info.capabilities ?? []).map((c) => c.type),
    hostname: f.info.hostname ?? '',
    webui_url: f.info.webui_url ?? '',
    active: f.active,
    connected: f.connected,
    recovered: false,
    user: f.info.user,
    failover_timeout: failoverTimeoutSeconds(f.info),
    checkpoint: f.info.checkpoint ?? false,
    ...frameworkRoleModel(f.info),
    ...(f.info.principal !== undefined ? { principal: f.info.principal } : {}),
    registered_time: secs(f.registeredTime),
    unregistered_time: f.unregisteredTime === undefined ? 0 : secs(f.unregisteredTime),
    ...(f.reregisteredTime !== undefined ? { reregistered_time: secs(f.reregisteredTime) } : {}),
    resources: resourcesModel(used.plus(offered)),
    tasks: tasks([...f.tasks.values()]),
    unreachable_tasks: tasks([...f.unreachableTasks.values()]),
    completed_tasks: tasks([...f.completedTasks]),
    offers: [...f.offers].flatMap((id) => {
      const o = m.offers.get(id);
      return o === undefined ? [] : [offerJSON(o)];
    }),
    executors,
    ...(f.info.labels?.labels !== undefined ? { labels: f.info.labels.labels } : {}),
  };
}

/** An agent of the state endpoints; its reservations to roles `approvers` may view. */
function agentJSON(m: Master, a: AgentRecord, approvers: ViewApprovers | undefined) {
  const { used, offered } = agentUsage(m, a);
  return {
    id: a.id,
    pid: String(a.pid),
    hostname: a.info.hostname,
    ...(a.info.port !== undefined ? { port: a.info.port } : {}),
    registered_time: secs(a.registeredTime),
    ...(a.reregisteredTime !== undefined ? { reregistered_time: secs(a.reregisteredTime) } : {}),
    resources: resourcesModel(a.total),
    used_resources: resourcesModel(used),
    offered_resources: resourcesModel(offered),
    reserved_resources: reservedModel(viewableResources(approvers, a.total)),
    unreserved_resources: resourcesModel(a.total.unreserved()),
    attributes: attributesModel(a.info.attributes),
    active: a.active,
    deactivated: m.deactivatedAgents.has(a.id),
    ...drainInfoField(m, a.id),
    ...machineInfoField(m, a),
    version: a.version ?? '',
    ...(a.info.domain !== undefined ? { domain: a.info.domain } : {}),
  };
}

/** What an agent's tasks and executors use, and what is offered of it now. */
function agentUsage(m: Master, a: AgentRecord): { used: Resources; offered: Resources } {
  return { used: a.usedResources(), offered: offeredResources(m.offers, a.offers) };
}

/**
 * What `/master/slaves` adds: each resource in full (v1 JSON), as Mesos's `SlavesWriter`; those
 * reserved to a role `approvers` may not view are left out.
 */
function agentFullJSON(m: Master, a: AgentRecord, approvers: ViewApprovers | undefined) {
  const { used, offered } = agentUsage(m, a);
  return {
    reserved_resources_full: reservedFullModel(viewableResources(approvers, a.total)),
    unreserved_resources_full: resourcesFullModel(a.total.unreserved()),
    used_resources_full: resourcesFullModel(viewableResources(approvers, used)),
    offered_resources_full: resourcesFullModel(viewableResources(approvers, offered)),
  };
}

/**
 * `/master/tasks?limit=100&offset=0&order=desc&framework_id=..&task_id=..`, as Mesos: the tasks
 * `approvers` may view, of frameworks they may view, before `offset` and `limit` apply.
 */
function tasksJSON(m: Master, request: HttpRequest, approvers: ViewApprovers | undefined): HttpResponse {
  const q = request.url.searchParams;
  const limit = q.has('limit') ? Number(q.get('limit')) : 100;
  const offset = q.has('offset') ? Number(q.get('offset')) : 0;
  // Mesos documents `order=(asc|desc)` and reads anything but `asc` as descending; `des` is
  // what it names the default. Other values are refused here, naming the parameter.
  const order = q.get('order') === 'desc' ? 'des' : (q.get('order') ?? 'des');
  if (!Number.isInteger(limit) || limit < 0) return badRequest(`Failed to parse query parameter 'limit': '${q.get('limit')}' is not a non-negative integer`);
  if (!Number.isInteger(offset) || offset < 0) return badRequest(`Failed to parse query parameter 'offset': '${q.get('offset')}' is not a non-negative integer`);
  if (order !== 'asc' && order !== 'des') return badRequest(`Failed to parse query parameter 'order': '${order}' must be 'asc' or 'desc'`);
  const fid = q.get('framework_id');
  const tid = q.get('task_id');
  const all: { task: Task; framework: FrameworkRecord }[] = [];
  for (const f of [...m.frameworks.values(), ...m.completedFrameworks]) {
    if ((fid !== null && f.id !== fid) || (approvers !== undefined && !approvers.framework(f.info))) continue;
    for (const t of [...f.tasks.values(), ...f.unreachableTasks.values(), ...f.completedTasks]) {
      if ((tid === null || t.task_id.value === tid) && (approvers === undefined || approvers.task(f, t))) all.push({ task: t, framework: f });
    }
  }
  const stamp = (t: Task) => t.statuses[0]?.timestamp ?? 0;
  all.sort((a, b) => (order === 'asc' ? stamp(a.task) - stamp(b.task) : stamp(b.task) - stamp(a.task)));
  return ok({ tasks: all.slice(offset, offset + limit).map((x) => taskModel(x.task, x.framework.info)) });
}
