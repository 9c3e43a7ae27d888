import { badRequest } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { Master } from './master-process.ts';
import { forbidden } from './operator-authorization.ts';
import { applyOperatorConversions, readOperationForm } from './operator-reservations.ts';
import { createConversions, destroyConversions, volumesUnauthorized } from './volumes.ts';

/**
 * The operator's persistent volumes (Mesos's `Master::Http::_createVolumes`,
 * `_destroyVolumes`): CREATE_VOLUMES and DESTROY_VOLUMES of the v1 operator API
 * (`operator-api.ts`), and `POST /master/create-volumes` and `POST /master/destroy-volumes` with
 * the form body `slaveId=<id>&volumes=<JSON array of v1 Resource>`.
 *
 * 1. Checked as a framework's CREATE and DESTROY are (`volumes.ts`), against the agent's
 *    checkpointed resources, with the principal the request authenticated as (when it did) as
 *    the one volumes must name: an unknown agent, volumes that do not parse or are not valid
 *    persistent volumes, a persistence id the agent has for the role already, or volumes in
 *    use or not on the agent are `400`, naming the field; `403` when `--acls` do not allow it.
 * 2. Then as the operator's reservations (`operator-reservations.ts`): the agent's outstanding
 *    offers rescinded as needed, the allocator converting what is free there, and `202` once
 *    applied (the agent is sent its new checkpointed resources, and makes or removes the
 *    volumes' directories), or `409` when the agent has not the reserved disk (or the volume)
 *    free.
 */

/** Which operation, and the fields a request names them by (`slaveId`, `create_volumes.agent_id`, ...). */
export interface VolumesRequest {
  readonly type: 'CREATE' | 'DESTROY';
  readonly agentId: string;
  readonly volumes: unknown;
  /** The principal the request authenticated as: volumes created must name it, as Mesos checks. */
  readonly principal?: string | undefined;
  readonly fields: { readonly agent: string; readonly volumes: string };
}

/** CREATE_VOLUMES, DESTROY_VOLUMES, `/master/create-volumes`, `/master/destroy-volumes`: `202`, `400`, `403` or `409`. */
export function operateVolumes(m: Master, request: VolumesRequest): HttpResponse | Promise<HttpResponse> {
  const { type, agentId, fields } = request;
  const agent = m.agents.get(agentId);
  if (agent === undefined) return badRequest(`Invalid '${fields.agent}': no agent found with specified ID '${agentId}'`);
  const payload = { volumes: request.volumes };
  const conversions = type === 'CREATE' ? createConversions(payload, agent, request.principal) : destroyConversions(payload, agent);
  if (typeof conversions === 'string') return badRequest(`Invalid ${type} operation on agent ${agentId}: '${fields.volumes}': ${conversions}`);
  const unauthorized = volumesUnauthorized(m, type, request.principal, conversions);
  if (unauthorized !== undefined) return forbidden(request.principal, unauthorized);
  if (type === 'DESTROY') return applyOperatorConversions(m, type, agentId, conversions);
  // The new volumes' ids are taken until the allocator answered and the master applied them (or not).
  const creating = Resources.sum(conversions.map((c) => c.converted));
  agent.creatingVolumes = agent.creatingVolumes.plus(creating);
  const done = (): void => {
    agent.creatingVolumes = agent.creatingVolumes.minus(creating);
  };
  return applyOperatorConversions(m, type, agentId, conversions).finally(done);
}

/**
 * `POST /master/create-volumes` and `POST /master/destroy-volumes` (Mesos's
 * `Master::Http::createVolumes` and `destroyVolumes`), read as `/master/reserve` is
 * (`readOperationForm`): not the leader `307`, not POST `405`, no `slaveId` or `volumes`, or
 * `volumes` that are not a JSON array, `400` naming the parameter.
 */
export function volumesEndpoint(m: Master, request: HttpRequest, type: 'CREATE' | 'DESTROY'): HttpResponse | Promise<HttpResponse> {
  const form = readOperationForm(m, request, 'volumes');
  if ('status' in form) return form;
  return operateVolumes(m, { type, agentId: form.agentId, volumes: form.resources, principal: request.principal, fields: { agent: 'slaveId', volumes: 'volumes' } });
}
