import { authorized } from './authorizer.ts';
import { MesosError } from '../../src/errors.ts';
import { CHECKPOINT_RESOURCES, type CheckpointResources } from '../../src/mesos/protocol.ts';
import {
  applyCheckpointedResources,
  applyConversions,
  checkpointedPart,
  describe,
  isDynamicallyReserved,
  popReservation,
  type ResourceConversion,
} from '../../src/mesos/resource-conversions.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { OfferOperation, Resource } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import { ALLOCATOR_UPDATE_ALLOCATION, type UpdateAllocation } from '../allocator/protocol.ts';
import type { Master } from './master-process.ts';
import type { AgentRecord, FrameworkRecord } from './state.ts';

/**
 * Dynamic reservations on the master: Mesos's RESERVE and UNRESERVE (`master/validation.cpp`'s
 * `operation::validate`, `Master::_accept`, `Master::_apply`).
 *
 * 1. Validation (`reserveConversions`, `unreserveConversions`): what is reserved must be
 *    dynamically reserved (its last reservation DYNAMIC); a framework reserves for one of its
 *    roles, the one its offers were made to, under its principal when it has one; what is
 *    unreserved must be dynamically reserved. A valid operation becomes resource conversions
 *    (`src/mesos/resource-conversions.ts`): RESERVE takes the resources with their last level
 *    popped (unreserved, or less refined), or `source` when given, UNRESERVE the reserved ones.
 * 2. RESERVE and UNRESERVE in an ACCEPT (`offerOperation`): applied in order to what is left of
 *    the offers, so that a later LAUNCH uses what they made; an operation that is invalid, or
 *    whose resources are not all left, is dropped with a warning (there is no operation
 *    feedback), and the others still apply. The allocator converts the framework's allocation
 *    and the agent's total (`Allocator.UpdateAllocation`).
 * 3. The agent's books (`apply`): its total and its checkpointed resources change, and the
 *    agent is sent the whole new set of them (`CheckpointResourcesMessage`) to checkpoint.
 * 4. What agents report (`reported`, `reconnected`): a new agent, or one unknown to this master
 *    (after a failover), brings its checkpointed resources, applied to its `--resources` to
 *    make its total; a known agent that reports others than the master's is sent the master's.
 *
 * The operator's RESERVE_RESOURCES, UNRESERVE_RESOURCES, `/master/reserve` and `/master/unreserve`
 * are in `operator-reservations.ts`.
 */

/**
 * Who asks: a framework, whose offers were made to `offerRoles`, or the operator; `principal`
 * (default the framework's) is who reservations must be made by, when known.
 */
export interface Requester {
  readonly framework?: FrameworkRecord;
  readonly offerRoles?: readonly string[];
  readonly principal?: string | undefined;
}

/** A RESERVE payload (`Offer.Operation.Reserve`, `master::Call.ReserveResources`). */
export interface ReservePayload {
  readonly source?: unknown;
  readonly resources?: unknown;
}

/** A conversion and the role its converted resources are allocated to (a framework's RESERVE). */
export interface RoleConversion extends ResourceConversion {
  readonly role?: string;
}

/** Parses resources (`what` names them in the reason), or says why not. */
export function parseResources(json: unknown, what: string): Resources | string {
  try {
    return Resources.fromJSON(json ?? []);
  } catch (error) {
    if (!(error instanceof MesosError)) throw error;
    return `Invalid ${what}: ${error.message}`;
  }
}

function notDynamic(resources: Resources): string | undefined {
  const entry = resources.entries().find((e) => !isDynamicallyReserved(e));
  return entry === undefined ? undefined : `Resource ${describe(Resources.fromEntries([entry]))} is not dynamically reserved`;
}

/**
 * RESERVE's conversions, or why it is invalid (Mesos's `validate(Reserve)`, in its words where
 * it has them). Without `source`, each reservation pushes one level on what is there (the
 * resources unreserved, or with one level less: a refinement refines a reservation it is in).
 */
export function reserveConversions(reserve: ReservePayload, requester: Requester): RoleConversion[] | string {
  const resources = parseResources(reserve.resources, 'resources');
  if (typeof resources === 'string') return resources;
  if (resources.isEmpty()) return "Invalid resources: 'resources' must not be empty";
  const problem = notDynamic(resources);
  if (problem !== undefined) return problem;
  const volume = resources.persistentVolumes();
  if (!volume.isEmpty()) return `A persistent volume ${describe(volume)} must already be reserved`;
  const framework = requester.framework;
  const roles = new Set<string>();
  for (const entry of resources.entries()) {
    const last = entry.reservations[entry.reservations.length - 1]!;
    const role = last.role;
    roles.add(role);
    const principal = requester.principal ?? framework?.info.principal;
    if (principal !== undefined && last.principal !== principal) {
      return last.principal === undefined
        ? `A reserve operation was attempted by principal '${principal}', but there is a reserved resource in the request with no principal set in 'ReservationInfo'`
        : `A reserve operation was attempted by principal '${principal}', but there is a reserved resource in the request with principal '${last.principal}' set in 'ReservationInfo'`;
    }
    if (framework !== undefined && !framework.roles.includes(role)) {
      return `A reserve operation was attempted for a resource with role '${role}', but the framework can only reserve resources with roles { ${framework.roles.join(', ')} }`;
    }
    const offered = requester.offerRoles;
    if (offered !== undefined && !offered.includes(role)) {
      return `A reserve operation was attempted for a resource with role '${role}', but the offered resources are allocated to { ${[...new Set(offered)].join(', ')} }`;
    }
  }
  if (reserve.source !== undefined) {
    const source = parseResources(reserve.source, 'source');
    if (typeof source === 'string') return source;
    if (!source.flatten().equals(resources.flatten())) {
      return `The source resources ${describe(source)} must be the resources to reserve ${describe(resources)} with other reservations`;
    }
    return [{ consumed: source, converted: resources, role: [...roles][0] }];
  }
  // One conversion per reservation role, so that each is allocated to its role.
  return [...roles].map((role) => {
    const converted = resources.reserved(role);
    return { consumed: popReservation(converted), converted, role };
  });
}

/** UNRESERVE's conversions, or why it is invalid (Mesos's `validate(Unreserve)`). */
export function unreserveConversions(unreserve: { readonly resources?: unknown }): RoleConversion[] | string {
  const resources = parseResources(unreserve.resources, 'resources');
  if (typeof resources === 'string') return resources;
  if (resources.isEmpty()) return "Invalid resources: 'resources' must not be empty";
  const problem = notDynamic(resources);
  if (problem !== undefined) return problem;
  const volume = resources.persistentVolumes();
  if (!volume.isEmpty()) {
    return `A dynamically reserved persistent volume ${describe(volume)} cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource`;
  }
  return [{ consumed: resources, converted: popReservation(resources) }];
}

/** What conversions consume, in the text form, for logs and answers. */
export function consumedText(conversions: readonly ResourceConversion[]): string {
  return String(Resources.sum(conversions.map((c) => c.consumed)));
}

/**
 * RESERVE or UNRESERVE in an ACCEPT of offers on `agent` made to `offerRoles`: applied to
 * `remaining` (what the offers hold, less what earlier operations took), the agent's books and
 * the allocator's; returns what is left. Dropped with a warning when invalid, or when
 * `remaining` does not hold what it converts.
 */
export function offerOperation(
  m: Master,
  framework: FrameworkRecord,
  agent: AgentRecord | undefined,
  offerRoles: readonly string[],
  op: Extract<OfferOperation, { type: 'RESERVE' | 'UNRESERVE' }>,
  remaining: Resources,
): Resources {
  return applyOfferOperation(m, framework, agent, op.type, remaining, {
    convert: () => (op.type === 'RESERVE' ? reserveConversions(op.reserve, { framework, offerRoles }) : unreserveConversions(op.unreserve)),
    unauthorized: (conversions) => conversionsUnauthorized(m, op.type, framework.info.principal, conversions),
  });
}

/**
 * An offer operation that converts resources (RESERVE, UNRESERVE, CREATE, DESTROY) in an ACCEPT
 * of offers on `agent`: `convert` makes its conversions (or says why it is invalid),
 * `unauthorized` says what of them `--acls` refuse; they apply to `remaining` (what the offers
 * hold, less what earlier operations took), the agent's books and the allocator's. Returns what
 * is left; the operation is dropped with a warning, leaving `remaining` as it was, when the agent
 * is gone, it is invalid or unauthorized, or `remaining` does not hold what it converts.
 */
export function applyOfferOperation(
  m: Master,
  framework: FrameworkRecord,
  agent: AgentRecord | undefined,
  type: string,
  remaining: Resources,
  check: { convert: (agent: AgentRecord) => RoleConversion[] | string; unauthorized: (conversions: readonly RoleConversion[]) => string | undefined },
): Resources {
  const drop = (reason: string): Resources => {
    m.log.warn({ frameworkId: framework.id, agentId: agent?.id, reason }, `Dropping ${type} offer operation`);
    return remaining;
  };
  if (agent === undefined || !agent.connected) return drop('Agent is no longer connected');
  const conversions = check.convert(agent);
  if (typeof conversions === 'string') return drop(conversions);
  const unauthorized = check.unauthorized(conversions);
  if (unauthorized !== undefined) return drop(`Not authorized to ${unauthorized}`);
  const left = applyConversions(remaining, conversions);
  if (typeof left === 'string') return drop(left);
  m.log.info({ frameworkId: framework.id, agentId: agent.id, resources: String(Resources.sum(conversions.map((c) => c.converted))) }, `Applying ${type} operation`);
  apply(m, agent, conversions);
  m.toAllocator(ALLOCATOR_UPDATE_ALLOCATION, {
    framework_id: framework.id,
    agent_id: agent.id,
    conversions: conversions.map((c) => ({ consumed: json(c.consumed), converted: json(c.converted), ...(c.role !== undefined ? { role: c.role } : {}) })),
  } satisfies UpdateAllocation);
  return left;
}

/**
 * `--acls` (Mesos's `authorizeReserveResources`, `authorizeUnreserveResources`): what of these
 * conversions `principal` may not do, or `undefined`. RESERVE asks `reserve_resources` for the
 * role each reservation is made to; UNRESERVE asks `unreserve_resources` for the principal each
 * undone reservation was made by (its innermost level).
 */
export function conversionsUnauthorized(m: Master, type: 'RESERVE' | 'UNRESERVE', principal: string | undefined, conversions: readonly ResourceConversion[]): string | undefined {
  const innermost = (r: Resources) => r.entries().map((e) => e.reservations[e.reservations.length - 1]);
  if (type === 'RESERVE') {
    const role = conversions.flatMap((c) => innermost(c.converted).map((r) => r?.role)).find((r) => !authorized(m, 'reserve_resources', principal, r));
    return role === undefined ? undefined : `reserve resources for role '${role}'`;
  }
  const reservers = conversions.flatMap((c) => innermost(c.consumed).map((r) => r?.principal));
  const refused = reservers.findIndex((p) => !authorized(m, 'unreserve_resources', principal, p));
  if (refused < 0) return undefined;
  const reserver = reservers[refused];
  return `unreserve resources reserved by ${reserver === undefined ? 'no principal' : `principal '${reserver}'`}`;
}

/**
 * Applies conversions to an agent's books (Mesos's `Slave::apply`): its total, and its
 * checkpointed resources, which it is sent whole. Throws if its total does not hold them (the
 * caller checked what it converts is there).
 */
export function apply(m: Master, agent: AgentRecord, conversions: readonly ResourceConversion[]): void {
  const total = applyConversions(agent.total, conversions);
  if (typeof total === 'string') throw new Error(`agent '${agent.id}' cannot apply its conversions: ${total}`);
  agent.total = total;
  agent.checkpointed = checkpointedPart(total);
  sendCheckpointed(m, agent);
}

function sendCheckpointed(m: Master, agent: AgentRecord): void {
  m.send(agent.pid, CHECKPOINT_RESOURCES, { resources: json(agent.checkpointed) } satisfies CheckpointResources);
}

function json(resources: Resources): Resource[] {
  return resources.toJSON() as Resource[];
}

/** What an agent reports it checkpointed, and its total with them. */
export interface Reported {
  readonly checkpointed: Resources;
  readonly total: Resources;
}

/**
 * The checkpointed resources an agent (re-)registers with, applied to its `--resources`
 * (`flag`); `undefined`, logged, when they are not valid or its resources cannot hold them:
 * the (re-)registration is refused, as for invalid resources.
 */
export function reported(m: Master, from: UPID, json: unknown, flag: Resources, what: string): Reported | undefined {
  const checkpointed = parseResources(json, 'checkpointed_resources');
  const total = typeof checkpointed === 'string' ? checkpointed : applyCheckpointedResources(flag, checkpointed);
  if (typeof total === 'string') {
    m.log.warn({ from: String(from), reason: total }, `Refusing agent ${what}: invalid checkpointed resources`);
    return undefined;
  }
  return { checkpointed: checkpointed as Resources, total };
}

/** A new agent, or one this master did not know, takes the reservations it reports. */
export function admitReported(agent: AgentRecord, report: Reported): void {
  agent.checkpointed = report.checkpointed;
  agent.total = report.total;
}

/**
 * A known agent re-registers with `flag` resources (Mesos keeps its own view then): its total
 * is `flag` with the master's reservations applied. Should `flag` not hold them (the agent came
 * back with other `--resources`), the agent's report is taken instead.
 */
export function reconnectedTotal(m: Master, agent: AgentRecord, flag: Resources, report: Reported): Resources {
  const total = applyCheckpointedResources(flag, agent.checkpointed);
  if (typeof total !== 'string') return total;
  m.log.warn({ agentId: agent.id, reason: total, reported: String(report.checkpointed) }, "Taking the re-registering agent's checkpointed resources: its resources do not hold the master's");
  agent.checkpointed = report.checkpointed;
  return report.total;
}

/** After a known agent re-registered: it is sent the master's checkpointed resources if it reported others. */
export function syncReconnected(m: Master, agent: AgentRecord, report: Reported): void {
  if (report.checkpointed.equals(agent.checkpointed)) return;
  m.log.info({ agentId: agent.id, reported: String(report.checkpointed), master: String(agent.checkpointed) }, "Sending the agent the master's checkpointed resources");
  sendCheckpointed(m, agent);
}
