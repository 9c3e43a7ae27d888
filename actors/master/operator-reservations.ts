import { accepted, badRequest } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { applyConversions, type ResourceConversion } from '../../src/mesos/resource-conversions.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { DEFAULT_REFUSE_SECONDS, type Resource } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import { ALLOCATOR_UPDATE_AVAILABLE, type UpdateAvailable } from '../allocator/protocol.ts';
import { formPost } from './http.ts';
import type { Master } from './master-process.ts';
import { removeOffer } from './offers.ts';
import { apply, consumedText, conversionsUnauthorized, reserveConversions, unreserveConversions } from './reservations.ts';
import { forbidden } from './operator-authorization.ts';

/**
 * The operator's dynamic reservations (Mesos's `Master::Http::_reserve`, `_unreserve` and
 * `_operation`): RESERVE_RESOURCES and UNRESERVE_RESOURCES of the v1 operator API
 * (`operator-api.ts`), and `POST /master/reserve` and `POST /master/unreserve` with the form body
 * `slaveId=<id>&resources=<JSON array of v1 Resource>`.
 *
 * 1. Checked as a framework's operation is (`reservations.ts`), without a framework: an unknown
 *    agent, resources that do not parse, are not dynamically reserved, or (when the request
 *    authenticated) reserve under another principal than its own, are `400` naming the field.
 * 2. The agent's outstanding offers are rescinded one by one, skipping those that hold none of
 *    what the operation takes, until what they held covers it (their resources go back to the
 *    allocator with a 5 s filter, so that it does not offer them again at once).
 * 3. The allocator applies the conversions to what is free on the agent (`updateAvailable`),
 *    or answers why not; the master then applies them to its books and tells the agent
 *    (`reservations.apply`), and answers `202 Accepted`; or `409 Conflict` saying what the
 *    agent lacks.
 *
 * Steps 2 and 3 (`applyOperatorConversions`) and the form endpoints' reading
 * (`readOperationForm`) serve the operator's persistent volumes too (`operator-volumes.ts`).
 */

/** Which operation, and the fields a request names them by (`slaveId`, `reserve_resources.agent_id`, ...). */
export interface ReservationRequest {
  readonly type: 'RESERVE' | 'UNRESERVE';
  readonly agentId: string;
  readonly source?: unknown;
  readonly resources: unknown;
  /** The principal the request authenticated as: reservations must name it, as Mesos checks. */
  readonly principal?: string | undefined;
  readonly fields: { readonly agent: string; readonly source?: string; readonly resources: string };
}

/** The allocator's answers awaited, by request id, per master. */
const pending = new WeakMap<Master, { next: number; waiting: Map<string, (error: string | undefined) => void> }>();

/** RESERVE_RESOURCES, UNRESERVE_RESOURCES, `/master/reserve`, `/master/unreserve`: `202`, `400` or `409`. */
export function operate(m: Master, request: ReservationRequest): HttpResponse | Promise<HttpResponse> {
  const { type, agentId, fields } = request;
  const agent = m.agents.get(agentId);
  if (agent === undefined) return badRequest(`Invalid '${fields.agent}': no agent found with specified ID '${agentId}'`);
  const conversions =
    type === 'RESERVE'
      ? reserveConversions({ source: request.source, resources: request.resources }, { principal: request.principal })
      : unreserveConversions({ resources: request.resources });
  if (typeof conversions === 'string') {
    const field = conversions.startsWith('Invalid source') ? fields.source : fields.resources;
    return badRequest(`Invalid ${type} operation on agent ${agentId}: '${field}': ${conversions}`);
  }
  const unauthorized = conversionsUnauthorized(m, type, request.principal, conversions);
  if (unauthorized !== undefined) return forbidden(request.principal, unauthorized);
  return applyOperatorConversions(m, type, agentId, conversions);
}

/**
 * An operator's valid operation (`type` names it) on a known agent: its offers rescinded as
 * needed, the conversions applied by the allocator to what is free there, then by the master;
 * `202`, or `409` saying why not.
 */
export function applyOperatorConversions(m: Master, type: string, agentId: string, conversions: readonly ResourceConversion[]): Promise<HttpResponse> {
  const agent = m.agents.get(agentId)!;
  rescindToCover(m, agentId, conversions);
  const state = pending.get(m) ?? { next: 0, waiting: new Map<string, (error: string | undefined) => void>() };
  pending.set(m, state);
  const requestId = String(++state.next);
  m.log.info({ agentId, resources: consumedText(conversions) }, `Applying ${type} operation of the operator`);
  return new Promise<HttpResponse>((resolve) => {
    state.waiting.set(requestId, (error) => {
      const now = m.agents.get(agentId);
      if (error !== undefined) resolve({ status: 409, body: `Failed to apply ${type} operation on agent ${agentId}: ${error}` });
      else if (now !== agent) resolve({ status: 409, body: `Failed to apply ${type} operation: agent ${agentId} was removed` });
      else {
        apply(m, agent, conversions);
        resolve(accepted());
      }
    });
    m.toAllocator(ALLOCATOR_UPDATE_AVAILABLE, {
      request_id: requestId,
      agent_id: agentId,
      conversions: conversions.map((c) => ({ consumed: c.consumed.toJSON() as Resource[], converted: c.converted.toJSON() as Resource[] })),
    } satisfies UpdateAvailable);
  });
}

/**
 * As Mesos's `_operation`: the agent's outstanding offers are rescinded one at a time, those
 * holding none of what is still needed skipped, until what they held covers the operation.
 */
function rescindToCover(m: Master, agentId: string, conversions: readonly ResourceConversion[]): void {
  let required = Resources.sum(conversions.map((c) => c.consumed));
  let recovered = Resources.EMPTY;
  const agent = m.agents.get(agentId)!;
  for (const offerId of [...agent.offers]) {
    const offer = m.offers.get(offerId);
    if (offer === undefined) continue;
    const still = required.minus(offer.resources);
    if (still.equals(required)) continue;
    required = still;
    recovered = recovered.plus(offer.resources);
    m.log.info({ offerId, agentId, frameworkId: offer.frameworkId }, 'Rescinding offer to make room for an operator reservation operation');
    removeOffer(m, offerId, { rescind: true, recover: true, refuseSeconds: DEFAULT_REFUSE_SECONDS });
    if (typeof applyConversions(recovered, conversions) !== 'string') break;
  }
}

/** `Allocator.UpdateAvailableResult`: the allocator applied the operator's conversions, or said why not. */
export function updateAvailableResult(m: Master, from: UPID, body: unknown): void {
  const requestId = (body as { request_id?: unknown } | null)?.request_id;
  const error = (body as { error?: unknown } | null)?.error;
  const waiting = typeof requestId === 'string' ? pending.get(m)?.waiting.get(requestId) : undefined;
  if (waiting === undefined || (error !== undefined && typeof error !== 'string')) {
    m.log.warn({ from: String(from), requestId }, 'Ignoring an allocator answer to no operator reservation operation');
    return;
  }
  pending.get(m)!.waiting.delete(requestId as string);
  waiting(error as string | undefined);
}

/**
 * `POST /master/reserve` and `POST /master/unreserve` (Mesos's `Master::Http::reserve` and
 * `unreserve`), checked in Mesos's order: not the leader `307` (`503` when none is known), not
 * POST `405`, a body that does not decode, has no `slaveId` or `resources`, or `resources` that
 * are not a JSON array `400`, naming the parameter. As in Mesos the `Content-Type` is not read.
 */
export function reservationEndpoint(m: Master, request: HttpRequest, type: 'RESERVE' | 'UNRESERVE'): HttpResponse | Promise<HttpResponse> {
  const form = readOperationForm(m, request, 'resources');
  if ('status' in form) return form;
  return operate(m, { type, agentId: form.agentId, resources: form.resources, principal: request.principal, fields: { agent: 'slaveId', resources: 'resources' } });
}

/**
 * The form body of Mesos's operation endpoints (`/master/reserve`, `/master/unreserve`,
 * `/master/create-volumes`, `/master/destroy-volumes`): `slaveId`, and `field` holding a JSON
 * array of v1 `Resource`; or the answer when the request is not one (`formPost`'s, or `400`
 * naming the parameter).
 */
export function readOperationForm(m: Master, request: HttpRequest, field: string): { agentId: string; resources: unknown[] } | HttpResponse {
  const values = formPost(m, request);
  if (!(values instanceof Map)) return values;
  const agentId = values.get('slaveId');
  if (agentId === undefined) return badRequest("Missing 'slaveId' query parameter in the request body");
  const text = values.get(field);
  if (text === undefined) return badRequest(`Missing '${field}' query parameter in the request body`);
  let resources: unknown;
  try {
    resources = JSON.parse(text);
  } catch (error) {
    return badRequest(`Error in parsing '${field}' query parameter in the request body: ${(error as Error).message}`);
  }
  if (!Array.isArray(resources)) {
    return badRequest(`Error in parsing '${field}' query parameter in the request body: expected a JSON array of Resource objects, got ${describeJSON(resources)}`);
  }
  return { agentId, resources };
}

function describeJSON(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
