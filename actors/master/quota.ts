import { authorizeQuota } from './operator-authorization.ts';
import { z } from 'zod';
import { InvalidMessageError } from '../../src/errors.ts';
import { badRequest, methodNotAllowed, ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { fromMillis, MAX_SCALAR, nameError, roleError, toMillis } from '../../src/mesos/resource-values.ts';
import type { Resource } from '../../src/mesos/v1/common.ts';
import { double, parseWith } from '../../src/mesos/v1/validate.ts';
import { ALLOCATOR_SET_QUOTA, type SetQuota } from '../allocator/protocol.ts';
import type { Master } from './master-process.ts';
import * as offers from './offers.ts';
import type { Quota, QuotaEntry } from './registry.ts';
import { registryAnswer } from './operator-api.ts';
import { redirect } from './scheduler-api.ts';
import { viewableQuotaStatus, viewApprovers } from './view-approvers.ts';

/**
 * Role quotas at runtime, as Mesos 1.11's `Master::QuotaHandler` (`quota_handler.cpp`):
 *
 * 1. GET_QUOTA and `GET /master/quota`: a `QuotaStatus`, each role's quota both as the
 *    deprecated `QuotaInfo` (`infos`, guarantees as `Resource`s) and as a `QuotaConfig`
 *    (`configs`, `{"role", "guarantees": {"cpus": {"value": 2}}, "limits": {"cpus": {"value":
 *    4}}}`), sorted by role.
 * 2. UPDATE_QUOTA (`quota_configs`, `force`) and `POST /master/quota` (v0's `QuotaRequest`:
 *    `role`, `guarantee` as `Resource`s, `force`): every entry is checked before anything
 *    changes (a valid, top-level role other than `*`, named once; scalar resource names;
 *    quantities finite, >= 0 and at most a trillion; each guarantee within its limit, Mesos's
 *    "'QuotaConfig.guarantees' ... is not contained within the 'QuotaConfig.limits'"), a `400`
 *    names the first bad field and its value. Then Mesos's capacity check: the guarantees of
 *    every role once updated must fit in the total of the registered agents (connected or
 *    not), else the request is refused (`400`, or `409` on v0) unless `force` is true; limits
 *    are not checked against capacity (nor, as in Mesos's code, against what the role consumes
 *    already: a limit below it takes nothing back, it only stops further offers). Then the
 *    registry is written, and once it is durable the master's quotas change, the allocator is
 *    told (`Allocator.SetQuota` with the guarantees and limits; with neither, the quota goes) and
 *    outstanding offers are rescinded: agent by agent until as much as a new guarantee is back
 *    with the allocator (Mesos's `rescindOffers`), and every offer to a role (or a sub-role)
 *    whose limits were lowered or added, so that none outstanding exceeds them. `200`, no body.
 * 3. The allocator enforces the limits (`allocator/quota-limits.ts`): a role, with its
 *    sub-roles, is never offered an unreserved scalar beyond a limit of its own, counting its
 *    reservations and what it holds.
 *
 * A config with neither guarantees nor limits removes the role's quota (Mesos's default
 * quota); a v0 `QuotaRequest` sets the guarantee as the limit too, as Mesos 1.9+ translates it
 * ("guarantee also acts as limit"). Differences from Mesos, on purpose:
 * - Mesos 1.11's UPDATE_QUOTA does not rescind offers (a TODO there); this one does as v0's
 *   set always did, so that the next allocation follows the new guarantee and limits.
 * - A role listed twice is refused (Mesos keeps the later entry); no `--roles` whitelist.
 *
 * A quota is removed by UPDATE_QUOTA with neither, a v0 POST with an empty `guarantee`,
 * `DELETE /master/quota/<role>` or REMOVE_QUOTA (`removeQuota`); SET_QUOTA takes a v0
 * `QuotaRequest` (`setQuotaCall`). Mesos deprecated the last two for UPDATE_QUOTA and serves them.
 */

/** `Value.Scalar` as JSON. */
const ScalarSchema = z.object({ value: double });
/** `QuotaConfig` as JSON: `role` is required in the proto (absent is the empty, invalid role). */
const QuotaConfigSchema = z.object({
  role: z.string().optional(),
  guarantees: z.record(z.string(), ScalarSchema).optional(),
  limits: z.record(z.string(), ScalarSchema).optional(),
});
/** `master::Call.UpdateQuota`. */
export const UpdateQuotaSchema = z.object({ force: z.boolean().optional(), quota_configs: z.array(QuotaConfigSchema).optional() });
type QuotaConfigJSON = z.infer<typeof QuotaConfigSchema>;

/** v0's `QuotaRequest` (`POST /master/quota`, SET_QUOTA): the guarantee as scalar `Resource`s. */
const QuotaRequestSchema = z.object({
  force: z.boolean().optional(),
  role: z.string().optional(),
  guarantee: z.array(z.object({ name: z.string(), type: z.string().optional(), scalar: ScalarSchema.optional() }).loose()).optional(),
});
type QuotaRequest = z.infer<typeof QuotaRequestSchema>;
/** `master::Call.SetQuota` (deprecated in Mesos for UPDATE_QUOTA, still served). */
export const SetQuotaSchema = z.object({ quota_request: QuotaRequestSchema });
/** `master::Call.RemoveQuota` (deprecated likewise). */
export const RemoveQuotaSchema = z.object({ role: z.string() });

/** Resource names that are never scalars (Mesos refuses quota on them). */
const NON_SCALAR = new Set(['ports']);

const byRole = <T extends { role: string }>(a: T, b: T) => (a.role < b.role ? -1 : a.role > b.role ? 1 : 0);

/** The guarantees as scalar v1 `Resource`s (unreserved), what the allocator and `QuotaInfo` take. */
function guaranteeResources(guarantees: Readonly<Record<string, number>>): Resource[] {
  return Object.entries(guarantees)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, type: 'SCALAR', scalar: { value } }) as Resource);
}

/** Quantities by name as a `QuotaConfig`'s map of `Value.Scalar`s. */
const scalars = (quantities: Readonly<Record<string, number>>) => Object.fromEntries(Object.entries(quantities).map(([name, value]) => [name, { value }]));

/** `QuotaStatus`: every quota as a deprecated `QuotaInfo` and as a `QuotaConfig`, sorted by role. */
export function quotaStatus(m: Master) {
  const quotas = [...m.quotas].map(([role, quota]) => ({ role, ...quota })).sort(byRole);
  return {
    infos: quotas.map(({ role, guarantees }) => ({ role, guarantee: guaranteeResources(guarantees) })),
    configs: quotas.map(({ role, guarantees, limits }) => ({ role, guarantees: scalars(guarantees), limits: scalars(limits) })),
  };
}

/** Tells the allocator `role`'s quota (`Allocator.SetQuota`); empty guarantees and limits remove it. */
export function setAllocatorQuota(m: Master, role: string, quota: Quota): void {
  m.toAllocator(ALLOCATOR_SET_QUOTA, { role, guarantee: guaranteeResources(quota.guarantees), limits: { ...quota.limits } } satisfies SetQuota);
}

/** A `400` in Mesos's words for an invalid `QuotaConfig`. */
const invalid = (message: string) => badRequest(`Invalid QuotaConfig: ${message}`);

/**
 * Checks parsed `QuotaConfig`s, `field` naming the array (`update_quota.quota_configs`): the
 * quotas (zero guarantees dropped, zero limits kept: nothing of that resource; neither left
 * removes the role's quota), or the `400` naming the first bad entry. `m` tells which resource
 * names are not scalars on its agents.
 */
export function validateQuotaConfigs(m: Master, configs: readonly QuotaConfigJSON[], field: string): QuotaEntry[] | HttpResponse {
  const validated: QuotaEntry[] = [];
  const seen = new Map<string, number>();
  const nonScalar = nonScalarNames(m);
  for (const [i, config] of configs.entries()) {
    const at = `${field}[${i}]`;
    const role = config.role ?? '';
    const problem = roleError(role);
    if (problem !== undefined) return invalid(`Invalid role '${role}' in '${at}.role': ${problem}`);
    if (role === '*') return invalid(`Invalid role '*' in '${at}.role': the default role '*' cannot have quota`);
    // As Mesos 1.11: "Updating quota on nested role ... is not supported yet".
    if (role.includes('/')) return badRequest(`Updating quota on nested role '${role}' in '${at}.role' is not supported yet`);
    const first = seen.get(role);
    if (first !== undefined) return invalid(`Duplicate role '${role}' in '${at}.role': '${field}[${first}].role' names it already`);
    seen.set(role, i);
    const guarantees: Record<string, number> = {};
    const limits: Record<string, number> = {};
    for (const [kind, given, into] of [
      ['guarantees', config.guarantees, guarantees],
      ['limits', config.limits, limits],
    ] as const) {
      for (const [name, { value }] of Object.entries(given ?? {})) {
        const where = `${at}.${kind}.${name}`;
        const bad = nameError(name);
        if (bad !== undefined) return invalid(`Invalid resource name '${name}' in '${where}': ${bad}`);
        if (nonScalar.has(name)) return invalid(`Invalid resource '${name}' in '${where}': '${name}' is not a scalar resource; quota holds scalars only`);
        if (!Number.isFinite(value) || value < 0) return invalid(`Invalid value '${value}' in '${where}.value': quota quantities must be finite and non-negative`);
        if (value > MAX_SCALAR) return invalid(`Invalid value '${value}' in '${where}.value': values greater than 1 trillion (${MAX_SCALAR}) are not supported`);
        if (kind === 'limits' || toMillis(value) > 0) into[name] = value;
      }
    }
    // Mesos's `quota::validate`: a resource without a limit is not limited.
    for (const [name, guarantee] of Object.entries(guarantees)) {
      const limit = limits[name];
      if (limit === undefined || toMillis(guarantee) <= toMillis(limit)) continue;
      return invalid(
        `'QuotaConfig.guarantees' ${JSON.stringify(config.guarantees)} is not contained within the 'QuotaConfig.limits' ${JSON.stringify(config.limits)}: ` +
          `guarantee ${guarantee} in '${at}.guarantees.${name}.value' exceeds the limit ${limit} in '${at}.limits.${name}.value' for role '${role}'`,
      );
    }
    validated.push({ role, guarantees, limits });
  }
  return validated;
}

/** Names of resources that are not scalars: `ports`, and any non-scalar an agent offers. */
function nonScalarNames(m: Master): Set<string> {
  const names = new Set(NON_SCALAR);
  for (const a of m.agents.values()) for (const e of a.total.entries()) if (e.value.type !== 'SCALAR') names.add(e.name);
  return names;
}

/** Quantities in the text Mesos's `ResourceQuantities` stringify to (`cpus:2; mem:1024`). */
function quantitiesText(millis: ReadonlyMap<string, number>): string {
  return [...millis]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, q]) => `${name}:${fromMillis(q)}`)
    .join('; ');
}

/**
 * Mesos's quota overcommit check: the guarantees of every role once `updates` apply, summed,
 * must fit in the scalars of every registered agent (connected or not, all reservations
 * included, as Mesos's `totalResources`). Returns what does not fit, or `undefined`.
 */
export function overcommitError(m: Master, updates: readonly QuotaEntry[]): string | undefined {
  const all = new Map([...m.quotas].map(([role, quota]) => [role, quota.guarantees]));
  for (const { role, guarantees } of updates) all.set(role, guarantees);
  const total = new Map<string, number>();
  for (const guarantees of all.values()) for (const [name, q] of Object.entries(guarantees)) total.set(name, (total.get(name) ?? 0) + toMillis(q));
  const capacity = new Map<string, number>();
  for (const a of m.agents.values()) for (const [name, q] of a.total.scalarMillis()) capacity.set(name, (capacity.get(name) ?? 0) + q);
  for (const [name, q] of total) {
    if (q > 0 && q > (capacity.get(name) ?? 0)) return `total quota guarantees '${quantitiesText(total)}' exceed cluster capacity '${quantitiesText(capacity)}'`;
  }
  return undefined;
}

/**
 * Writes `quotas` (validated, checked) to the registry, then applies them (Mesos's `_update`):
 * `200` once done; `503` if the registry write failed (the master gives the lead up, as
 * `registrar` says).
 */
export function updateQuotas(m: Master, quotas: readonly QuotaEntry[]): Promise<HttpResponse> {
  m.log.info({ quotas }, 'Updating quota');
  const write = m.options.registry.updateQuotas(quotas);
  return registryAnswer(m.applied(write, () => _updateQuotas(m, quotas)), 'update the quota');
}

function _updateQuotas(m: Master, quotas: readonly QuotaEntry[]): void {
  const tightened: string[] = [];
  for (const { role, guarantees, limits = {} } of quotas) {
    const before = m.quotas.get(role)?.limits ?? {};
    if (Object.keys(guarantees).length === 0 && Object.keys(limits).length === 0) m.quotas.delete(role);
    else m.quotas.set(role, { guarantees, limits });
    if (Object.entries(limits).some(([name, limit]) => !(toMillis(limit) >= toMillis(before[name] ?? Infinity)))) tightened.push(role);
    // Before rescinding: the resources rescinded below come back to the allocator after this
    // message, so the allocation they cause serves the new quota (Mesos's `__set` note).
    setAllocatorQuota(m, role, { guarantees, limits });
  }
  for (const role of tightened) rescindLimitedOffers(m, role);
  for (const quota of quotas) if (Object.keys(quota.guarantees).length > 0) rescindOffers(m, quota);
}

/**
 * Rescinds every outstanding offer to `role` or a sub-role, whose limits were just lowered or
 * added: an offer made before may exceed them, and what comes back is offered again within
 * them (Mesos 1.9+'s "the master will attempt to rescind a sufficient number of offers to
 * ensure that the role cannot exceed its limits").
 */
function rescindLimitedOffers(m: Master, role: string): void {
  let rescinded = 0;
  for (const [offerId, offer] of [...m.offers]) {
    if (offer.role !== role && !offer.role.startsWith(`${role}/`)) continue;
    offers.removeOffer(m, offerId, { rescind: true, recover: true });
    rescinded++;
  }
  if (rescinded > 0) m.log.info({ role, offers: rescinded }, 'Rescinded outstanding offers for the quota limits of a role');
}

/**
 * Mesos's `QuotaHandler::rescindOffers`: every offer of one connected, active agent after
 * another is rescinded until the resources rescinded hold the guarantee and as many agents
 * were visited as the role has active frameworks (so each may get an offer).
 */
function rescindOffers(m: Master, { role, guarantees }: QuotaEntry): void {
  const frameworksInRole = [...m.frameworks.values()].filter((f) => f.active && f.roles.includes(role)).length;
  const rescinded = new Map<string, number>();
  const enough = () => Object.entries(guarantees).every(([name, q]) => (rescinded.get(name) ?? 0) >= toMillis(q));
  let visited = 0;
  for (const agent of m.agents.values()) {
    if (enough() && visited >= frameworksInRole) break;
    if (!agent.active || agent.offers.size === 0) continue;
    for (const offerId of [...agent.offers]) {
      const offer = m.offers.get(offerId);
      if (offer === undefined) continue;
      for (const [name, q] of offer.resources.scalarMillis()) rescinded.set(name, (rescinded.get(name) ?? 0) + q);
      offers.removeOffer(m, offerId, { rescind: true, recover: true });
    }
    visited++;
  }
  if (visited > 0) m.log.info({ role, agents: visited }, 'Rescinded outstanding offers for the quota of a role');
}

/**
 * `/master/quota` (Mesos's `Master::Http::quota`): GET answers the `QuotaStatus`; POST takes a
 * v0 `QuotaRequest` (`{"role", "guarantee": [Resource...], "force"}`) and sets that role's
 * quota as UPDATE_QUOTA does, the capacity check refusing with `409` as v0's did; another
 * method is `405`. Not the leader: `307` to the leader, as the other endpoints.
 */
export function quotaEndpoint(m: Master, request: HttpRequest): HttpResponse | Promise<HttpResponse> {
  if (!m.leading) return redirect(m, request);
  if (request.method === 'GET') return ok(viewableQuotaStatus(viewApprovers(m, request.principal), quotaStatus(m)));
  if (request.method !== 'POST') return methodNotAllowed(['GET', 'POST'], request.method);
  let json: unknown;
  try {
    json = JSON.parse(request.body);
  } catch (error) {
    return badRequest(`Failed to parse set quota request JSON '${request.body}': ${(error as Error).message}`);
  }
  let parsed: QuotaRequest;
  try {
    parsed = parseWith(QuotaRequestSchema, json, { what: 'quota request' });
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    return badRequest(`Failed to validate set quota request JSON '${request.body}': ${error.message}`);
  }
  return authorizeQuota(m, request.principal, [parsed.role ?? '*']) ?? setQuota(m, parsed);
}

/**
 * A v0 `QuotaRequest` (`POST /master/quota`, or SET_QUOTA's `quota_request`): the role's quota
 * set to `guarantee`, as UPDATE_QUOTA does; the capacity check refuses with `409` unless `force`.
 */
function setQuota(m: Master, parsed: QuotaRequest): HttpResponse | Promise<HttpResponse> {
  const guarantees: Record<string, { value: number }> = {};
  for (const [i, r] of (parsed.guarantee ?? []).entries()) {
    if ((r.type !== undefined && r.type !== 'SCALAR') || r.scalar === undefined) {
      return badRequest(`Failed to validate set quota request: Invalid resource '${r.name}' in 'guarantee[${i}]': quota holds scalars only (type '${r.type ?? ''}')`);
    }
    if (guarantees[r.name] !== undefined) return badRequest(`Failed to validate set quota request: Duplicate resource '${r.name}' in 'guarantee[${i}].name'`);
    guarantees[r.name] = r.scalar;
  }
  // Mesos 1.9+'s `Quota(QuotaRequest)`: for a legacy request, the guarantee also acts as limit.
  const validated = validateQuotaConfigs(m, [{ role: parsed.role, guarantees, limits: guarantees }], 'request');
  if (!Array.isArray(validated)) return validated;
  if (parsed.force !== true) {
    const over = overcommitError(m, validated);
    if (over !== undefined) return { status: 409, body: `Quota guarantees overcommit the cluster (use 'force' to bypass this check): ${over}` };
  }
  return updateQuotas(m, validated);
}

/** UPDATE_QUOTA of the v1 operator API: validated, capacity-checked unless `force`, applied. */
export function updateQuotaCall(m: Master, call: z.infer<typeof UpdateQuotaSchema>): HttpResponse | Promise<HttpResponse> {
  const validated = validateQuotaConfigs(m, call.quota_configs ?? [], 'update_quota.quota_configs');
  if (!Array.isArray(validated)) return validated;
  const over = overcommitError(m, validated);
  if (over !== undefined) {
    if (call.force !== true) return invalid(`${over} (use 'force' flag to bypass this check)`);
    m.log.info({ reason: over }, "Using 'force' to override the quota overcommit check");
  }
  return updateQuotas(m, validated);
}

/** SET_QUOTA of the v1 operator API: as `POST /master/quota` with its `quota_request`. */
export function setQuotaCall(m: Master, call: z.infer<typeof SetQuotaSchema>): HttpResponse | Promise<HttpResponse> {
  return setQuota(m, call.quota_request);
}

/**
 * Removes a role's quota (Mesos's `QuotaHandler::remove`): `DELETE /master/quota/<role>` and
 * REMOVE_QUOTA. A role without one is `400`; otherwise as UPDATE_QUOTA with no guarantees:
 * the registry first, then the allocator hears of it, `200`.
 */
export function removeQuota(m: Master, role: string): HttpResponse | Promise<HttpResponse> {
  if (!m.quotas.has(role)) return badRequest(`Failed to remove quota: Role '${role}' has no quota set`);
  return updateQuotas(m, [{ role, guarantees: {}, limits: {} }]);
}

/** `/master/quota/<role>`: DELETE removes the role's quota (`removeQuota`); another method is `405`. */
export function quotaRoleEndpoint(m: Master, request: HttpRequest): HttpResponse | Promise<HttpResponse> {
  if (!m.leading) return redirect(m, request);
  if (request.method !== 'DELETE') return methodNotAllowed(['DELETE'], request.method);
  const encoded = request.path.slice(request.path.indexOf('/quota/') + '/quota/'.length).replace(/\/$/, '');
  let role: string;
  try {
    role = decodeURIComponent(encoded);
  } catch {
    return badRequest(`Failed to parse remove quota request: invalid role '${encoded}' in the path`);
  }
  if (role === '') return badRequest("Failed to parse remove quota request: the path must name a role, '/quota/<role>'");
  return authorizeQuota(m, request.principal, [role]) ?? removeQuota(m, role);
}
