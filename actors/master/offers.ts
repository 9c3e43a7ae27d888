import { authorized, taskUser } from './authorizer.ts';
import type { UPID } from '../../src/process/upid.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { RUN_TASK, type Task } from '../../src/mesos/protocol.ts';
import type { Filters, Offer, OfferOperation, TaskInfo } from '../../src/mesos/v1/common.ts';
import { refuseSeconds } from '../../src/mesos/v1/common.ts';
import type { SchedulerCallOf, SchedulerEvent } from '../../src/mesos/v1/index.ts';
import { JSON_TEXT, type WritesJSON } from '../../src/transport/codec.ts';
import {
  ALLOCATOR_RECOVER_RESOURCES,
  ALLOCATOR_REVIVE,
  ALLOCATOR_SUPPRESS,
  type Offers,
  type RecoverResources,
  type RolesRef,
} from '../allocator/protocol.ts';
import { MAX_OFFERS_PER_EVENT } from './constants.ts';
import type { Master } from './master-process.ts';
import * as inverseOffers from './inverse-offers.ts';
import * as operatorEvents from './operator-events.ts';
import * as reservations from './reservations.ts';
import * as volumes from './volumes.ts';
import { type AgentRecord, type FrameworkRecord, masterStatus, OfferRecord } from './state.ts';
import { launchGroup } from './task-groups.ts';
import { validateTask } from './validation.ts';
import { rememberTaskUser } from './view-approvers.ts';

/**
 * Offers: the allocator's allocations become offers to schedulers; ACCEPT (LAUNCH, LAUNCH_GROUP
 * in `task-groups.ts`, RESERVE and UNRESERVE in `reservations.ts`, CREATE and DESTROY in
 * `volumes.ts`, applied in order), DECLINE (with `filters.refuse_seconds`), REVIVE, SUPPRESS;
 * rescinding when an offer can no longer be used (agent removed, framework gone or failed over,
 * `offer_timeout`).
 */

/** `Allocator.Offers`: one allocation cycle's offers. */
export function allocated(m: Master, _from: UPID, body: Offers): void {
  const byFramework = new Map<FrameworkRecord, Offer[]>();
  for (const allocation of body.offers ?? []) {
    const framework = m.frameworks.get(allocation.framework_id);
    const agent = m.agents.get(allocation.agent_id);
    if (framework === undefined || !framework.active || !framework.connected || agent === undefined || !agent.active || !m.leading) {
      // Nobody to offer to: give the resources straight back.
      recover(m, allocation.framework_id, allocation.agent_id, allocation.resources);
      continue;
    }
    const id = m.ids.nextOfferId().value;
    const executors = framework.executors.get(agent.id);
    const json: Offer = {
      id: { value: id },
      framework_id: { value: framework.id },
      agent_id: { value: agent.id },
      hostname: agent.info.hostname,
      resources: allocation.resources,
      allocation_info: { role: allocation.role },
    };
    if (agent.info.attributes !== undefined && agent.info.attributes.length > 0) json.attributes = agent.info.attributes;
    if (executors !== undefined && executors.size > 0) json.executor_ids = [...executors.keys()].map((value) => ({ value }));
    // An agent on a draining machine: when it may be unavailable (Mesos's `Offer.unavailability`).
    const unavailability = inverseOffers.offerUnavailability(m, agent.id);
    if (unavailability !== undefined) json.unavailability = unavailability;
    const offer = new OfferRecord(id, framework.id, agent.id, allocation.role, json);
    m.offers.set(id, offer);
    framework.offers.add(id);
    agent.offers.add(id);
    if (m.options.offerTimeoutMs !== undefined) {
      offer.timer = m.after(m.options.offerTimeoutMs, () => {
        offer.timer = undefined;
        if (!m.offers.has(id)) return;
        m.log.debug({ offerId: id }, 'Offer timed out; rescinding');
        removeOffer(m, id, { rescind: true, recover: true });
      });
    }
    let list = byFramework.get(framework);
    if (list === undefined) byFramework.set(framework, (list = []));
    list.push(json);
  }
  for (const [framework, list] of byFramework) {
    m.stats.offersSent.inc(list.length);
    sendOffers(m, framework, list);
  }
  // A framework offered a draining agent now uses it: it is asked to give it back.
  inverseOffers.offered(m, byFramework);
}

/** Sends a framework every offer outstanding with it again (it subscribed again; see `subscribe`). */
export function resendOffers(m: Master, framework: FrameworkRecord): void {
  const list: Offer[] = [];
  for (const offerId of framework.offers) {
    const offer = m.offers.get(offerId);
    if (offer !== undefined) list.push(offer.json);
  }
  if (list.length > 0) m.log.info({ frameworkId: framework.id, offers: list.length }, 'Sending outstanding offers again');
  sendOffers(m, framework, list);
}

/** OFFERS events, `MAX_OFFERS_PER_EVENT` offers at most each. */
function sendOffers(m: Master, framework: FrameworkRecord, list: Offer[]): void {
  // A cycle over thousands of agents must not become one message larger than the bus carries.
  for (let i = 0; i < list.length; i += MAX_OFFERS_PER_EVENT) {
    m.sendEvent(framework, offersEvent(list.slice(i, i + MAX_OFFERS_PER_EVENT)));
  }
}

/**
 * An OFFERS event that writes its own JSON for a bus (`JSON_TEXT`): the same text as
 * `JSON.stringify`, with each offer's resources written once per `Resources` instead of once
 * per offer (`Resources.jsonText`). In the master over NATS, 1k agents × 10 frameworks
 * declining: 2.4 to 2.7 µs of writing per offer with `JSON.stringify`, 1.8 to 2.0 with this.
 */
export function offersEvent(offers: Offer[]): SchedulerEvent {
  const event: SchedulerEvent & Partial<WritesJSON> = { type: 'OFFERS', offers: { offers } };
  event[JSON_TEXT] = writeOffersEvent;
  return event;
}

function writeOffersEvent(this: { offers: { offers: Offer[] } }): string {
  const offers = this.offers.offers;
  let text = '{"type":"OFFERS","offers":{"offers":[';
  for (let i = 0; i < offers.length; i++) text += (i === 0 ? '' : ',') + writeOffer(offers[i]!);
  return `${text}]}}`;
}

/** `JSON.stringify(offer)`: its fields in order, the resources' text from `Resources.jsonText`. */
function writeOffer(offer: Offer): string {
  let text = '{';
  for (const key in offer) {
    const value = (offer as Record<string, unknown>)[key];
    const written = key === 'resources' ? Resources.jsonText(value) : (JSON.stringify(value) as string | undefined);
    // JSON.stringify leaves out fields whose value has no JSON (undefined, functions).
    if (written === undefined) continue;
    let name = OFFER_KEYS.get(key);
    if (name === undefined) OFFER_KEYS.set(key, (name = `${JSON.stringify(key)}:`));
    text += (text.length === 1 ? '' : ',') + name + written;
  }
  return `${text}}`;
}

/** `"key":` for each field an offer has (a handful: `Offer`'s), written once: 0.4 µs an offer less. */
const OFFER_KEYS = new Map<string, string>();

/** Sends resources back to the allocator, optionally installing a decline filter. */
export function recover(m: Master, frameworkId: string, agentId: string, resources: RecoverResources['resources'], refuse?: number): void {
  if (resources.length === 0) return;
  const body: RecoverResources = refuse === undefined ? { framework_id: frameworkId, agent_id: agentId, resources } : { framework_id: frameworkId, agent_id: agentId, resources, refuse_seconds: refuse };
  m.toAllocator(ALLOCATOR_RECOVER_RESOURCES, body);
}

/** Forgets an offer; `rescind` tells the scheduler (RESCIND), `recover` returns its resources. */
export function removeOffer(m: Master, offerId: string, how: { rescind: boolean; recover: boolean; refuseSeconds?: number }): OfferRecord | undefined {
  const offer = m.offers.get(offerId);
  if (offer === undefined) return undefined;
  m.offers.delete(offerId);
  offer.timer?.cancel();
  const framework = m.frameworks.get(offer.frameworkId);
  framework?.offers.delete(offerId);
  m.agents.get(offer.agentId)?.offers.delete(offerId);
  if (how.rescind && framework !== undefined) {
    m.stats.offersRescinded.inc();
    m.sendEvent(framework, { type: 'RESCIND', rescind: { offer_id: { value: offerId } } });
  }
  if (how.recover) recover(m, offer.frameworkId, offer.agentId, offer.json.resources ?? [], how.refuseSeconds);
  return offer;
}

/** DECLINE: the resources go back with a filter (`refuse_seconds`, default 5 s). */
export function decline(m: Master, framework: FrameworkRecord, offerIds: string[], filters: Filters | undefined): void {
  m.stats.declineOffers.inc();
  const refuse = refuseSeconds(filters);
  for (const offerId of offerIds) {
    const offer = m.offers.get(offerId);
    if (offer === undefined || offer.frameworkId !== framework.id) {
      m.log.debug({ frameworkId: framework.id, offerId }, 'Ignoring decline of an unknown or stale offer');
      continue;
    }
    m.stats.offersDeclined.inc();
    removeOffer(m, offerId, { rescind: false, recover: true, refuseSeconds: refuse });
  }
}

/** Why these offers cannot be used together, or `undefined` (Mesos `validation::offer`). */
function offerProblem(m: Master, framework: FrameworkRecord, offerIds: string[]): string | undefined {
  if (offerIds.length === 0) return 'No offers specified';
  if (new Set(offerIds).size !== offerIds.length) return 'Duplicate offer ids';
  let agentId: string | undefined;
  for (const offerId of offerIds) {
    const offer = m.offers.get(offerId);
    if (offer === undefined) return `Offer ${offerId} is no longer valid`;
    if (offer.frameworkId !== framework.id) return `Offer ${offerId} has invalid framework ${offer.frameworkId} while framework ${framework.id} is expected`;
    if (agentId !== undefined && offer.agentId !== agentId) return `Aggregated offers must belong to one single agent. Offer ${offerId} uses agent ${offer.agentId} and agent ${agentId}`;
    agentId = offer.agentId;
  }
  return undefined;
}

function launchedTasks(operations: OfferOperation[]): TaskInfo[] {
  const out: TaskInfo[] = [];
  for (const op of operations) {
    if (op.type === 'LAUNCH') out.push(...(op.launch.task_infos ?? []));
    if (op.type === 'LAUNCH_GROUP') out.push(...(op.launch_group.task_group.tasks ?? []));
  }
  return out;
}

/** ACCEPT: validate the offers, run the operations (LAUNCH, LAUNCH_GROUP), return what is left with the filter. */
export function accept(m: Master, framework: FrameworkRecord, accept: SchedulerCallOf<'ACCEPT'>['accept']): void {
  const offerIds = (accept.offer_ids ?? []).map((o) => o.value);
  const operations = (accept.operations ?? []) as OfferOperation[];
  const problem = offerProblem(m, framework, offerIds);
  if (problem !== undefined) {
    m.log.warn({ frameworkId: framework.id, reason: problem }, 'ACCEPT with invalid offers');
    countLaunchOperations(m, operations);
    const state = framework.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
    for (const task of launchedTasks(operations)) {
      m.tasksEnded[state]!.inc();
      const status = masterStatus(task, state, 'REASON_INVALID_OFFERS', `Task launched with invalid offers: ${problem}`, m.now());
      m.sendEvent(framework, { type: 'UPDATE', update: { status } });
    }
    // The valid offers among them go back, without a filter.
    for (const offerId of offerIds) {
      const offer = m.offers.get(offerId);
      if (offer !== undefined && offer.frameworkId === framework.id) removeOffer(m, offerId, { rescind: false, recover: true });
    }
    return;
  }

  let remaining = Resources.EMPTY;
  let agentId = '';
  const offerRoles: string[] = [];
  for (const offerId of offerIds) {
    const offer = removeOffer(m, offerId, { rescind: false, recover: false })!;
    remaining = remaining.plus(offer.resources);
    agentId = offer.agentId;
    offerRoles.push(offer.role);
  }
  m.stats.offersAccepted.inc(offerIds.length);
  const agent = m.agents.get(agentId);

  for (const op of operations) {
    switch (op.type) {
      case 'LAUNCH':
        // Mesos's accounting: a LAUNCH without tasks declines the offers.
        (op.launch.task_infos?.length ? m.stats.launchTasks : m.stats.declineOffers).inc();
        for (const task of op.launch.task_infos ?? []) remaining = launch(m, framework, agent, task, remaining);
        break;
      case 'LAUNCH_GROUP':
        remaining = launchGroup(m, framework, agent, op.launch_group, remaining);
        break;
      case 'RESERVE':
      case 'UNRESERVE':
        remaining = reservations.offerOperation(m, framework, agent, offerRoles, op, remaining);
        break;
      case 'CREATE':
      case 'DESTROY':
        remaining = volumes.offerOperation(m, framework, agent, op, remaining);
        break;
      default:
        m.log.warn({ frameworkId: framework.id, type: op.type }, 'Ignoring unsupported offer operation');
    }
  }
  if (!remaining.isEmpty()) recover(m, framework.id, agentId, remaining.toJSON(), refuseSeconds(accept.filters));
}

/** `messages_launch_tasks` / `messages_decline_offers` for the LAUNCH operations of an ACCEPT. */
function countLaunchOperations(m: Master, operations: OfferOperation[]): void {
  for (const op of operations) if (op.type === 'LAUNCH') (op.launch.task_infos?.length ? m.stats.launchTasks : m.stats.declineOffers).inc();
}

function taskError(m: Master, framework: FrameworkRecord, task: TaskInfo, message: string): void {
  m.stats.tasksErrored.inc();
  m.log.info({ frameworkId: framework.id, taskId: task.task_id?.value, reason: message }, 'Refusing invalid task');
  const status = masterStatus(task, 'TASK_ERROR', 'REASON_TASK_INVALID', message, m.now());
  m.sendEvent(framework, { type: 'UPDATE', update: { status } });
}

/** Validates and launches one task from `remaining`; returns what is left. */
function launch(m: Master, framework: FrameworkRecord, agent: AgentRecord | undefined, task: TaskInfo, remaining: Resources): Resources {
  if (agent === undefined || !agent.connected) {
    const state = framework.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST';
    m.tasksEnded[state]!.inc();
    const status = masterStatus(task, state, 'REASON_AGENT_DISCONNECTED', 'Agent is no longer connected', m.now());
    m.sendEvent(framework, { type: 'UPDATE', update: { status } });
    return remaining;
  }
  const user = taskUser(framework, task);
  if (!authorized(m, 'run_tasks', framework.info.principal, user)) {
    // As Mesos's `_accept`: checked before the task is validated; TASK_ERROR, unauthorized.
    m.stats.tasksErrored.inc();
    m.log.warn({ frameworkId: framework.id, taskId: task.task_id.value, user }, 'Refusing unauthorized task');
    const status = masterStatus(task, 'TASK_ERROR', 'REASON_TASK_UNAUTHORIZED', `Not authorized to launch as user '${user}'`, m.now());
    m.sendEvent(framework, { type: 'UPDATE', update: { status } });
    return remaining;
  }
  const checked = validateTask(framework, agent, task, remaining);
  if (typeof checked === 'string') {
    taskError(m, framework, task, checked);
    return remaining;
  }
  const { resources, consumed, newExecutor } = checked;
  const record: Task = {
    name: task.name,
    task_id: task.task_id,
    framework_id: { value: framework.id },
    agent_id: { value: agent.id },
    state: 'TASK_STAGING',
    resources: resources.toJSON(),
    statuses: [],
  };
  if (task.executor !== undefined) record.executor_id = task.executor.executor_id;
  if (task.labels !== undefined) record.labels = task.labels;
  framework.tasks.set(task.task_id.value, record);
  agent.addTask(record);
  rememberTaskUser(m, record, task);
  if (newExecutor !== undefined) {
    framework.addExecutor(agent.id, newExecutor);
    agent.addExecutor(framework.id, newExecutor);
  }
  m.stats.tasksLaunched.inc();
  if (m.operatorSubscribers.size > 0) operatorEvents.taskAdded(m, record);
  const runTask = {
    framework_id: { value: framework.id },
    framework: framework.info,
    task: task.executor !== undefined ? { ...task, executor: { ...task.executor, framework_id: { value: framework.id } } } : task,
  };
  m.send(agent.pid, RUN_TASK, runTask);
  return remaining.minus(consumed);
}

/** REVIVE: offers again for these roles (all if none), and no more decline filters. */
export function revive(m: Master, framework: FrameworkRecord, roles: string[] | undefined): void {
  m.stats.reviveOffers.inc();
  const which = roles === undefined || roles.length === 0 ? framework.roles : roles;
  for (const role of which) framework.suppressedRoles.delete(role);
  m.toAllocator(ALLOCATOR_REVIVE, roles === undefined ? { framework_id: framework.id } : ({ framework_id: framework.id, roles } satisfies RolesRef));
}

/** SUPPRESS: no offers for these roles (all if none) until REVIVE. */
export function suppress(m: Master, framework: FrameworkRecord, roles: string[] | undefined): void {
  m.stats.suppressOffers.inc();
  const which = roles === undefined || roles.length === 0 ? framework.roles : roles;
  for (const role of which) framework.suppressedRoles.add(role);
  m.toAllocator(ALLOCATOR_SUPPRESS, roles === undefined ? { framework_id: framework.id } : ({ framework_id: framework.id, roles } satisfies RolesRef));
}
