import { authorizeWeights } from './operator-authorization.ts';
import { z } from 'zod';
import { InvalidMessageError } from '../../src/errors.ts';
import { badRequest, methodNotAllowed, ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { roleError } from '../../src/mesos/resource-values.ts';
import { double, parseWith } from '../../src/mesos/v1/validate.ts';
import { ALLOCATOR_UPDATE_WEIGHTS, type UpdateWeights } from '../allocator/protocol.ts';
import type { Master } from './master-process.ts';
import * as offers from './offers.ts';
import type { WeightInfo } from './registry.ts';
import { registryAnswer } from './operator-api.ts';
import { redirect } from './scheduler-api.ts';
import { viewable, viewApprovers } from './view-approvers.ts';

/**
 * Role weights at runtime, as Mesos's `Master::WeightsHandler` (`weights_handler.cpp`):
 *
 * 1. GET_WEIGHTS and `GET /master/weights`: the weights set (by `--weights`, the registry or
 *    an update), sorted by role; roles not listed weigh 1.
 * 2. UPDATE_WEIGHTS and `PUT /master/weights` (a JSON array of `WeightInfo`s): every entry is
 *    checked (a valid role name, trimmed as Mesos does; a positive weight; no role twice), a
 *    `400` names the first bad field and its value. Then the registry is written, and once it
 *    is durable the master's weights change, the allocator is told (`Allocator.UpdateWeights`)
 *    and, if a framework is subscribed to an updated role, every outstanding offer is
 *    rescinded so that the next allocation follows the new weights. Answered `200`, no body.
 *
 * Unlike Mesos's, a role listed twice is refused (Mesos keeps the later entry); there is no
 * `--roles` whitelist. With `--acls`, `update_weights` decides who may update a role's weight
 * and `view_roles` who may see it.
 */

/** `WeightInfo` as JSON: `role` is optional in the proto (absent is the empty, invalid role). */
const WeightInfoSchema = z.object({ role: z.string().optional(), weight: double });
export const WeightInfosSchema = z.array(WeightInfoSchema);

/** The master's weights as `WeightInfo`s, sorted by role. */
export function weightInfos(m: Master): WeightInfo[] {
  return [...m.weights].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([role, weight]) => ({ role, weight }));
}

/**
 * Checks parsed `WeightInfo`s as Mesos's `WeightsHandler::update` does, `field` naming the
 * array (`update_weights.weight_infos`, or `` for `/master/weights`'s body): the weights with
 * roles trimmed, or the `400` naming the first bad entry.
 */
export function validateWeights(infos: readonly { role?: string | undefined; weight: number }[], field: string): WeightInfo[] | HttpResponse {
  const validated: WeightInfo[] = [];
  const seen = new Map<string, number>();
  for (const [i, info] of infos.entries()) {
    const at = `${field}[${i}]`;
    const role = (info.role ?? '').trim();
    const problem = roleError(role);
    if (problem !== undefined) return badRequest(`Failed to validate update weights request JSON: Invalid role '${role}' in '${at}.role': ${problem}`);
    if (!(info.weight > 0) || !Number.isFinite(info.weight)) {
      return badRequest(`Failed to validate update weights request JSON for role '${role}': Invalid weight '${info.weight}' in '${at}.weight': Weights must be positive`);
    }
    const first = seen.get(role);
    if (first !== undefined) return badRequest(`Failed to validate update weights request JSON: Duplicate role '${role}' in '${at}.role': '${field}[${first}].role' names it already`);
    seen.set(role, i);
    validated.push({ role, weight: info.weight });
  }
  return validated;
}

/**
 * Writes `weights` (validated) to the registry, then applies them (Mesos's `_update`): `200`
 * once done; `503` if the registry write failed (the master gives the lead up, as `registrar`
 * says).
 */
export function updateWeights(m: Master, weights: readonly WeightInfo[]): Promise<HttpResponse> {
  m.log.info({ weights }, 'Updating weights');
  const write = m.options.registry.updateWeights(weights);
  return registryAnswer(m.applied(write, () => _updateWeights(m, weights)), 'update the weights');
}

function _updateWeights(m: Master, weights: readonly WeightInfo[]): void {
  for (const { role, weight } of weights) m.weights.set(role, weight);
  // The allocator first: the resources of the offers rescinded below go back to it after this
  // message, so the allocation they cause sees the new weights (the race Mesos's note describes).
  m.toAllocator(ALLOCATOR_UPDATE_WEIGHTS, { weights: [...weights] } satisfies UpdateWeights);
  const updated = new Set(weights.map((w) => w.role));
  const active = [...m.frameworks.values()].some((f) => f.roles.some((role) => updated.has(role)));
  if (!active) return;
  m.log.info({ offers: m.offers.size }, 'Rescinding every outstanding offer: the weights of an active role changed');
  for (const offerId of [...m.offers.keys()]) offers.removeOffer(m, offerId, { rescind: true, recover: true });
}

/**
 * `/master/weights` (Mesos's `Master::Http::weights`): GET answers the weights as a JSON array
 * of `WeightInfo`s (with `--acls`, of the roles the requester may view: `view_roles`); PUT
 * takes one, as UPDATE_WEIGHTS; another method is `405`. Not the leader:
 * `307` to the leader, as the other endpoints.
 */
export function weightsEndpoint(m: Master, request: HttpRequest): HttpResponse | Promise<HttpResponse> {
  if (!m.leading) return redirect(m, request);
  if (request.method === 'GET') return ok(viewable(viewApprovers(m, request.principal), weightInfos(m), (a, w) => a.role(w.role)));
  if (request.method !== 'PUT') return methodNotAllowed(['GET', 'PUT'], request.method);
  let json: unknown;
  try {
    json = JSON.parse(request.body);
  } catch (error) {
    return badRequest(`Failed to parse update weights request JSON ('${request.body}'): ${(error as Error).message}`);
  }
  if (!Array.isArray(json)) return badRequest(`Failed to parse update weights request JSON ('${request.body}'): expecting a JSON array`);
  let infos: z.infer<typeof WeightInfosSchema>;
  try {
    infos = parseWith(WeightInfosSchema, json, { what: 'weights' });
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    return badRequest(`Failed to convert weights JSON array to protobuf ('${request.body}'): ${error.message}`);
  }
  const validated = validateWeights(infos, '');
  if (!Array.isArray(validated)) return validated;
  return authorizeWeights(m, request.principal, validated.map((w) => w.role)) ?? updateWeights(m, validated);
}
