import type { HttpResponse } from '../../src/http/types.ts';
import { authorized, type AuthorizedAction } from './authorizer.ts';
import type { Master } from './master-process.ts';
import type { OperatorCall } from './operator-api.ts';

/**
 * Which operator requests the `--acls` allow (`authorizer.ts`), for the v1 operator API and the
 * v0 endpoints alike: TEARDOWN (`teardown_frameworks`, the framework's principal), the agent
 * calls (`mark_agents_gone`, `drain_agents`, `deactivate_agents`, `reactivate_agents`), the
 * maintenance calls (`update_maintenance_schedules`, `start_maintenances`, `stop_maintenances`,
 * checked once per request whatever its machines, also for an empty schedule, which Mesos lets
 * through unchecked; `maintenance.ts` checks the v0 endpoints the same way),
 * UPDATE_WEIGHTS (`update_weights`, each role), UPDATE_QUOTA, SET_QUOTA and REMOVE_QUOTA
 * (`update_quotas`, each role); RESERVE_RESOURCES and UNRESERVE_RESOURCES are checked once their
 * resources are read (`operator-reservations.ts`), for the v1 calls and `/master/reserve` alike,
 * and so are CREATE_VOLUMES and DESTROY_VOLUMES (`create_volumes`, `destroy_volumes`:
 * `operator-volumes.ts`). The subject is the principal the request authenticated as (none
 * without `--authenticate_http_readwrite`).
 * A request refused is `403 Forbidden`, as Mesos answers, naming what was not allowed.
 */

/** `403`, naming what `principal` may not do. */
export function forbidden(principal: string | undefined, what: string): HttpResponse {
  return { status: 403, body: `${principal === undefined ? 'An unauthenticated request' : `Principal '${principal}'`} is not authorized to ${what}` };
}

/** `403` unless `principal` may do `action` on every one of `objects`. */
export function authorizeEach(m: Master, principal: string | undefined, action: AuthorizedAction, objects: readonly (string | undefined)[], what: (object: string | undefined) => string): HttpResponse | undefined {
  for (const object of objects) if (!authorized(m, action, principal, object)) return forbidden(principal, what(object));
  return undefined;
}

/** `403` for an operator call `principal` may not make, else `undefined`. */
export function authorizeOperatorCall(m: Master, call: OperatorCall, principal: string | undefined): HttpResponse | undefined {
  switch (call.type) {
    case 'TEARDOWN':
      return call.teardown === undefined ? undefined : authorizeTeardown(m, principal, call.teardown.framework_id.value);
    case 'MARK_AGENT_GONE':
      return authorizeEach(m, principal, 'mark_agents_gone', [undefined], () => 'mark agents gone');
    case 'DRAIN_AGENT':
      return authorizeEach(m, principal, 'drain_agents', [undefined], () => 'drain agents');
    case 'DEACTIVATE_AGENT':
      return authorizeEach(m, principal, 'deactivate_agents', [undefined], () => 'deactivate agents');
    case 'REACTIVATE_AGENT':
      return authorizeEach(m, principal, 'reactivate_agents', [undefined], () => 'reactivate agents');
    case 'UPDATE_MAINTENANCE_SCHEDULE':
      return authorizeEach(m, principal, 'update_maintenance_schedules', [undefined], () => 'update maintenance schedules');
    case 'START_MAINTENANCE':
      return authorizeEach(m, principal, 'start_maintenances', [undefined], () => 'start maintenance');
    case 'STOP_MAINTENANCE':
      return authorizeEach(m, principal, 'stop_maintenances', [undefined], () => 'stop maintenance');
    case 'UPDATE_WEIGHTS':
      return authorizeWeights(m, principal, present((call.update_weights?.weight_infos ?? []).map((w) => w.role)));
    case 'UPDATE_QUOTA':
      return authorizeQuota(m, principal, present((call.update_quota?.quota_configs ?? []).map((c) => c.role)));
    case 'SET_QUOTA':
      return authorizeQuota(m, principal, [call.set_quota?.quota_request.role ?? '*']);
    case 'REMOVE_QUOTA':
      return authorizeQuota(m, principal, call.remove_quota === undefined ? [] : [call.remove_quota.role]);
    default:
      return undefined;
  }
}

/** TEARDOWN and `/master/teardown`: `teardown_frameworks` on the framework's principal. */
export function authorizeTeardown(m: Master, principal: string | undefined, frameworkId: string): HttpResponse | undefined {
  const framework = m.frameworks.get(frameworkId);
  // An unknown framework is the call's own `400`.
  if (framework === undefined) return undefined;
  return authorizeEach(m, principal, 'teardown_frameworks', [framework.info.principal], () => `tear down framework '${frameworkId}'`);
}

/** UPDATE_WEIGHTS and `PUT /master/weights`. */
export function authorizeWeights(m: Master, principal: string | undefined, roles: readonly string[]): HttpResponse | undefined {
  return authorizeEach(m, principal, 'update_weights', roles, (role) => `update the weight of role '${role}'`);
}

/** The quota calls and `/master/quota`. */
export function authorizeQuota(m: Master, principal: string | undefined, roles: readonly string[]): HttpResponse | undefined {
  return authorizeEach(m, principal, 'update_quotas', roles, (role) => `update the quota of role '${role}'`);
}

/** The roles given (one left out is the call's own `400`, once validated). */
function present(roles: readonly (string | undefined)[]): string[] {
  return roles.filter((r): r is string => r !== undefined);
}
