import type { Timer } from '../../src/process/clock.ts';
import { refuseSeconds, type Filters, type InverseOffer, type OfferID, type Unavailability } from '../../src/mesos/v1/common.ts';
import type { InverseOfferStatus, InverseOfferStatusType } from '../../src/mesos/v1/maintenance.ts';
import { ALLOCATION_INTERVAL_MS } from '../allocator/constants.ts';
import { sameUnavailability } from './machines.ts';
import type { Master } from './master-process.ts';
import * as offers from './offers.ts';
import type { AgentRecord, FrameworkRecord } from './state.ts';
import { isTerminalTask } from './tasks.ts';

/**
 * Inverse offers, the master's side of maintenance for frameworks (Mesos's
 * `Master::inverseOffer`, `acceptInverseOffers`, `declineInverseOffers`,
 * `updateUnavailability`, and the inverse offer half of `HierarchicalAllocatorProcess`:
 * `updateUnavailability`, `updateInverseOffer`, `deallocate`, `getInverseOfferStatuses`).
 *
 * 1. An agent on a `DRAINING` machine has the unavailability of its window
 *    (`updateUnavailability`, called by `maintenance.ts` whenever the schedule, a machine or the
 *    agent changes). When it changes, the agent's outstanding offers and inverse offers are
 *    rescinded (its next offers carry the new unavailability, `offerUnavailability`), and the
 *    frameworks' answers and filters of it are forgotten.
 * 2. Each framework with resources allocated on such an agent (a task that has not ended, an
 *    executor, or an outstanding offer of it, as Mesos's allocator counts offered resources as
 *    allocated) gets one INVERSE_OFFERS event per inverse offer batch: an `InverseOffer` with
 *    the agent's unavailability and no resources (the whole agent), at most one outstanding per
 *    framework and agent. They go out when the agent starts draining or (re-)registers while
 *    draining, when the framework (re-)subscribes, when it is offered the agent's resources
 *    (`offered`), and when a filter of it ends.
 * 3. ACCEPT_INVERSE_OFFERS and DECLINE_INVERSE_OFFERS (`respond`) record the framework's answer
 *    (`InverseOfferStatus`, `UNKNOWN` until it answers) and filter that agent for it for
 *    `refuse_seconds` (default 5 s), after which it is asked again if it still uses the agent;
 *    `refuse_seconds` 0 waits one allocation interval, where Mesos's allocator asks again at its
 *    next cycle. Answers change nothing else: they are hints for the operator, who reads them
 *    in GET_MAINTENANCE_STATUS (`statuses`).
 * 4. RESCIND_INVERSE_OFFER tells a framework its inverse offer is void: the agent's
 *    unavailability changed or ended (its machine left the schedule, went `DOWN` or `UP`), or
 *    the agent disconnected or was removed. A framework that disconnects loses its outstanding
 *    ones without a word (its scheduler dropped them); one removed loses its answers too.
 *
 * Unlike Mesos, where the allocator makes inverse offers in its allocation cycles, the master
 * makes them here on the events above: it knows every framework's use of every agent, and the
 * allocator's protocol stays about resources. The answers are soft state, as Mesos's: a new
 * leader asks again.
 */

/** An agent on a draining machine: its unavailability and what each framework was asked and answered. */
export interface AgentMaintenance {
  readonly unavailability: Unavailability;
  /** The outstanding inverse offer's id, by framework id. */
  readonly outstanding: Map<string, string>;
  /** The latest answer, by framework id. */
  readonly statuses: Map<string, InverseOfferStatus>;
  /** Frameworks not to ask again before the timer fires, by framework id. */
  readonly filters: Map<string, Timer>;
}

/** An outstanding inverse offer. */
export interface InverseOfferRecord {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly json: InverseOffer;
}

/** The master's inverse offer books (`Master.maintenance.inverse`). */
export class InverseOffersState {
  /** Outstanding inverse offers by id. */
  readonly offers = new Map<string, InverseOfferRecord>();
  /** Registered agents on draining machines, by agent id. */
  readonly agents = new Map<string, AgentMaintenance>();
}

/** The unavailability the offers of an agent carry (Mesos's `Offer.unavailability`), if it is draining. */
export function offerUnavailability(m: Master, agentId: string): Unavailability | undefined {
  return m.maintenance.inverse.agents.get(agentId)?.unavailability;
}

/**
 * The agent's unavailability is now `unavailability` (`undefined`: none, or the agent is going
 * away), as Mesos's `Master::updateUnavailability`: nothing happens if it is the same; else its
 * offers and inverse offers are rescinded, what frameworks answered of it is forgotten, and
 * draining, the frameworks using it are asked.
 */
export function updateUnavailability(m: Master, agentId: string, unavailability: Unavailability | undefined): void {
  const state = m.maintenance.inverse;
  const current = state.agents.get(agentId);
  if (sameUnavailability(current?.unavailability, unavailability)) return;
  if (current !== undefined) forget(m, agentId, current);
  const agent = m.agents.get(agentId);
  if (agent !== undefined) {
    m.log.info({ agentId, startNanoseconds: unavailability?.start.nanoseconds }, unavailability === undefined ? 'Removing unavailability of agent' : 'Updating unavailability of agent');
    // Its next offers carry the new unavailability (or none): take the outstanding ones back.
    for (const offerId of [...agent.offers]) offers.removeOffer(m, offerId, { rescind: true, recover: true });
  }
  if (unavailability === undefined || agent === undefined) return;
  state.agents.set(agentId, { unavailability, outstanding: new Map(), statuses: new Map(), filters: new Map() });
  offerAgent(m, agent);
}

/** The agent is gone (removed, or going `DOWN`): its inverse offers are rescinded and its books forgotten. */
export function agentRemoved(m: Master, agentId: string): void {
  const current = m.maintenance.inverse.agents.get(agentId);
  if (current !== undefined) forget(m, agentId, current);
}

/** The agent disconnected (Mesos's `Master::deactivate`): its inverse offers are rescinded; it is asked of again when it is back. */
export function agentDisconnected(m: Master, agentId: string): void {
  const current = m.maintenance.inverse.agents.get(agentId);
  if (current !== undefined) for (const id of [...current.outstanding.values()]) remove(m, id, true);
}

/** A draining agent (re-)registered or reconnected: the frameworks using it are asked, those not asked yet. */
export function agentReconnected(m: Master, agent: AgentRecord): void {
  if (m.maintenance.inverse.agents.has(agent.id)) offerAgent(m, agent);
}

/** Rescinds the agent's inverse offers, cancels its filters and forgets it. */
function forget(m: Master, agentId: string, current: AgentMaintenance): void {
  for (const id of [...current.outstanding.values()]) remove(m, id, true);
  for (const timer of current.filters.values()) timer.cancel();
  m.maintenance.inverse.agents.delete(agentId);
}

/**
 * The framework subscribed (again): the inverse offers outstanding with it are sent again when
 * the same scheduler subscribed again (`resend`: events may have been lost), else void (a new
 * scheduler holds none); then it is asked of every draining agent it uses and was not asked of.
 */
export function frameworkSubscribed(m: Master, framework: FrameworkRecord, resend: boolean): void {
  const state = m.maintenance.inverse;
  if (state.agents.size === 0) return;
  const again: InverseOffer[] = [];
  for (const record of [...state.offers.values()]) {
    if (record.frameworkId !== framework.id) continue;
    if (resend) again.push(record.json);
    else remove(m, record.id, false);
  }
  send(m, framework, again);
  offerFramework(m, framework, state.agents.keys());
}

/** The framework's scheduler went away: its outstanding inverse offers are void (it dropped them). */
export function frameworkDisconnected(m: Master, framework: FrameworkRecord): void {
  for (const record of [...m.maintenance.inverse.offers.values()]) if (record.frameworkId === framework.id) remove(m, record.id, false);
}

/** The framework was removed: its inverse offers, answers and filters go with it. */
export function frameworkRemoved(m: Master, framework: FrameworkRecord): void {
  frameworkDisconnected(m, framework);
  for (const maintenance of m.maintenance.inverse.agents.values()) {
    maintenance.statuses.delete(framework.id);
    maintenance.filters.get(framework.id)?.cancel();
    maintenance.filters.delete(framework.id);
  }
}

/** Offers were made (`offers.allocated`): a framework offered a draining agent's resources uses it, and is asked. */
export function offered(m: Master, byFramework: ReadonlyMap<FrameworkRecord, readonly { agent_id: { value: string } }[]>): void {
  const state = m.maintenance.inverse;
  if (state.agents.size === 0) return;
  for (const [framework, list] of byFramework) {
    const draining = list.map((o) => o.agent_id.value).filter((id) => state.agents.has(id));
    if (draining.length > 0) offerFramework(m, framework, draining);
  }
}

/**
 * ACCEPT_INVERSE_OFFERS (`ACCEPT`) and DECLINE_INVERSE_OFFERS (`DECLINE`), as Mesos's
 * `acceptInverseOffers` and `declineInverseOffers`: each inverse offer still outstanding with
 * the framework is answered, its status recorded and the agent filtered for the framework; the
 * others are ignored (logged), as Mesos ignores inverse offers "no longer valid".
 */
export function respond(m: Master, framework: FrameworkRecord, ids: readonly OfferID[], filters: Filters | undefined, status: 'ACCEPT' | 'DECLINE'): void {
  const call = status === 'ACCEPT' ? 'ACCEPT_INVERSE_OFFERS' : 'DECLINE_INVERSE_OFFERS';
  if (ids.length === 0) {
    m.log.warn({ frameworkId: framework.id }, `${call} call used invalid offers: No inverse offers specified`);
    return;
  }
  m.log.info({ frameworkId: framework.id, inverseOffers: ids.map((id) => id.value) }, `Processing ${call} call`);
  const state = m.maintenance.inverse;
  for (const { value } of ids) {
    const record = state.offers.get(value);
    if (record === undefined || record.frameworkId !== framework.id) {
      m.log.warn({ frameworkId: framework.id, inverseOfferId: value }, `Ignoring ${status === 'ACCEPT' ? 'accept' : 'decline'} of inverse offer since it is no longer valid`);
      continue;
    }
    remove(m, value, false);
    const maintenance = state.agents.get(record.agentId);
    if (maintenance === undefined) continue;
    maintenance.statuses.set(framework.id, inverseOfferStatus(m, framework.id, status));
    filter(m, record.agentId, maintenance, framework.id, refuseSeconds(filters));
  }
}

/** The statuses of the frameworks' inverse offers of these agents (Mesos's `getInverseOfferStatuses`). */
export function statuses(m: Master, agentIds: Iterable<string>): InverseOfferStatus[] {
  const out: InverseOfferStatus[] = [];
  for (const agentId of agentIds) out.push(...(m.maintenance.inverse.agents.get(agentId)?.statuses.values() ?? []));
  return out;
}

/** Asks every framework using the draining `agent`. */
function offerAgent(m: Master, agent: AgentRecord): void {
  const using = new Set<string>([...agent.tasks.keys(), ...agent.executors.keys()]);
  for (const offerId of agent.offers) {
    const offer = m.offers.get(offerId);
    if (offer !== undefined) using.add(offer.frameworkId);
  }
  for (const frameworkId of using) {
    const framework = m.frameworks.get(frameworkId);
    if (framework !== undefined) offerFramework(m, framework, [agent.id]);
  }
}

/** Asks `framework` of those of the draining `agentIds` it uses and may be asked of now, in one event. */
function offerFramework(m: Master, framework: FrameworkRecord, agentIds: Iterable<string>): void {
  const list: InverseOffer[] = [];
  for (const agentId of agentIds) {
    const inverseOffer = make(m, framework, agentId);
    if (inverseOffer !== undefined) list.push(inverseOffer);
  }
  send(m, framework, list);
}

/**
 * A new inverse offer of `agentId` to `framework`, as Mesos's allocator decides (`deallocate`):
 * the agent is draining and connected, the framework active and using it, with none
 * outstanding and no filter of the agent.
 */
function make(m: Master, framework: FrameworkRecord, agentId: string): InverseOffer | undefined {
  const maintenance = m.maintenance.inverse.agents.get(agentId);
  const agent = m.agents.get(agentId);
  if (maintenance === undefined || agent === undefined || !agent.connected || !framework.active || !framework.connected) return undefined;
  if (maintenance.outstanding.has(framework.id) || maintenance.filters.has(framework.id) || !uses(m, framework, agent)) return undefined;
  const id = m.ids.nextOfferId().value;
  const json: InverseOffer = { id: { value: id }, framework_id: { value: framework.id }, agent_id: { value: agentId }, unavailability: maintenance.unavailability };
  // Where the agent is (Mesos's `InverseOffer.url`: `http://<agent>/<agent process id>`).
  if (agent.info.port !== undefined) {
    json.url = { scheme: 'http', address: { hostname: agent.info.hostname, ...(agent.ip !== undefined ? { ip: agent.ip } : {}), port: agent.info.port }, path: `/${agent.pid.id}` };
  }
  m.maintenance.inverse.offers.set(id, { id, frameworkId: framework.id, agentId, json });
  maintenance.outstanding.set(framework.id, id);
  if (!maintenance.statuses.has(framework.id)) maintenance.statuses.set(framework.id, inverseOfferStatus(m, framework.id, 'UNKNOWN'));
  return json;
}

/** Whether the framework has resources allocated on the agent: a task not ended, an executor, an outstanding offer. */
function uses(m: Master, framework: FrameworkRecord, agent: AgentRecord): boolean {
  for (const task of agent.tasks.get(framework.id)?.values() ?? []) if (!isTerminalTask(task)) return true;
  if ((agent.executors.get(framework.id)?.size ?? 0) > 0) return true;
  for (const offerId of framework.offers) if (m.offers.get(offerId)?.agentId === agent.id) return true;
  return false;
}

function send(m: Master, framework: FrameworkRecord, list: InverseOffer[]): void {
  if (list.length === 0) return;
  m.log.info({ frameworkId: framework.id, inverseOffers: list.map((o) => o.id.value), agents: list.map((o) => o.agent_id?.value) }, 'Sending inverse offers to framework');
  m.sendEvent(framework, { type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: list } });
}

/** Forgets an outstanding inverse offer; `rescind` tells its framework (RESCIND_INVERSE_OFFER). */
function remove(m: Master, id: string, rescind: boolean): void {
  const state = m.maintenance.inverse;
  const record = state.offers.get(id);
  if (record === undefined) return;
  state.offers.delete(id);
  const maintenance = state.agents.get(record.agentId);
  if (maintenance?.outstanding.get(record.frameworkId) === id) maintenance.outstanding.delete(record.frameworkId);
  const framework = m.frameworks.get(record.frameworkId);
  if (rescind && framework !== undefined) m.sendEvent(framework, { type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: id } } });
}

/**
 * The agent is not offered to the framework again before `seconds` (at least one allocation
 * interval) have passed; then, if it still uses the agent, it is asked again.
 */
function filter(m: Master, agentId: string, maintenance: AgentMaintenance, frameworkId: string, seconds: number): void {
  maintenance.filters.get(frameworkId)?.cancel();
  const timer = m.after(Math.max(seconds * 1000, ALLOCATION_INTERVAL_MS), () => {
    if (maintenance.filters.get(frameworkId) !== timer) return;
    maintenance.filters.delete(frameworkId);
    // The agent's unavailability changed, or it left, meanwhile: those books are gone.
    if (m.maintenance.inverse.agents.get(agentId) !== maintenance) return;
    const framework = m.frameworks.get(frameworkId);
    if (framework !== undefined) offerFramework(m, framework, [agentId]);
  });
  maintenance.filters.set(frameworkId, timer);
}

function inverseOfferStatus(m: Master, frameworkId: string, status: InverseOfferStatusType): InverseOfferStatus {
  return { status, framework_id: { value: frameworkId }, timestamp: { nanoseconds: Math.round(m.now() * 1e6) } };
}
