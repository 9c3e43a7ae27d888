import type { UPID } from '../../src/process/upid.ts';
import { InvalidMessageError } from '../../src/errors.ts';
import { SCHEDULER_EVENT, SHUTDOWN_FRAMEWORK } from '../../src/mesos/protocol.ts';
import { failoverTimeoutSeconds, frameworkRoles, type FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { parseSchedulerCall, type SchedulerCall, type SchedulerCallOf, type SchedulerEvent } from '../../src/mesos/v1/index.ts';
import {
  ALLOCATOR_ACTIVATE_FRAMEWORK,
  ALLOCATOR_ADD_FRAMEWORK,
  ALLOCATOR_DEACTIVATE_FRAMEWORK,
  ALLOCATOR_REMOVE_FRAMEWORK,
  ALLOCATOR_UPDATE_FRAMEWORK,
  type AddFramework,
  type FrameworkRef,
  type UpdateFramework,
} from '../allocator/protocol.ts';
import * as drain from './drain.ts';
import * as inverseOffers from './inverse-offers.ts';
import { authorized } from './authorizer.ts';
import type { Master } from './master-process.ts';
import * as offers from './offers.ts';
import * as operatorEvents from './operator-events.ts';
import { FrameworkRecord, masterStatus, type SchedulerConnection } from './state.ts';
import * as tasks from './tasks.ts';
import { frameworkInfoProblem, frameworkUpdateProblem, preserveImmutableFields, suppressedRolesProblem } from './validation.ts';

/**
 * Frameworks: the scheduler `Call` entry point, SUBSCRIBE (new and failover), disconnection
 * with the failover timer, UPDATE_FRAMEWORK and removal (TEARDOWN, failover timeout). The
 * answers to inverse offers, and what a framework's comings and goings do to them, are
 * `inverse-offers.ts`'s.
 */

/** A scheduler driver on the bus: events go back to its address. */
export function busConnection(m: Master, pid: UPID): SchedulerConnection {
  return {
    kind: 'bus',
    pid,
    send: (event) => m.send(pid, SCHEDULER_EVENT, event),
    close: () => undefined,
  };
}

/** `mesos.scheduler.Call` from a driver on the bus. */
export function call(m: Master, from: UPID, body: unknown): void {
  if (!m.leading) {
    m.log.debug({ from: String(from) }, 'Ignoring scheduler call: not the leading master');
    return;
  }
  let parsed: SchedulerCall;
  try {
    parsed = parseSchedulerCall(body);
  } catch (error) {
    m.stats.invalidCalls.inc();
    m.stats.droppedMessages.inc();
    const reason = error instanceof InvalidMessageError ? error.message : String(error);
    m.log.warn({ from: String(from), reason }, 'Dropping invalid scheduler call');
    return;
  }
  if (parsed.type === 'SUBSCRIBE') {
    subscribe(m, busConnection(m, from), parsed);
    return;
  }
  const framework = m.frameworks.get(parsed.framework_id.value);
  if (framework === undefined) {
    m.stats.droppedCalls.inc();
    m.stats.droppedMessages.inc();
    m.log.warn({ from: String(from), type: parsed.type, frameworkId: parsed.framework_id.value }, 'Ignoring call of unknown framework');
    if (m.isCompletedFramework(parsed.framework_id.value)) {
      const event: SchedulerEvent = { type: 'ERROR', error: { message: 'Framework has been removed' } };
      m.send(from, SCHEDULER_EVENT, event);
    }
    return;
  }
  const connection = framework.connection;
  // A framework subscribed over HTTP takes calls on its stream id only (`scheduler-api.ts`).
  // Disconnected, it takes them from the driver it had only (Mesos's "Call is not from
  // registered framework"): anyone else could otherwise tear it down while it is away.
  const expected = connection === undefined ? framework.disconnectedPid : connection.pid;
  if (connection?.kind === 'http' || expected === undefined || !expected.equals(from)) {
    m.stats.droppedCalls.inc();
    m.stats.droppedMessages.inc();
    m.log.warn({ from: String(from), expected: String(expected), type: parsed.type }, 'Ignoring call from a scheduler that is not the framework\'s current one');
    return;
  }
  handle(m, framework, parsed);
}

/** Every call but SUBSCRIBE, for a known framework (the bus and the HTTP API both end here). */
export function handle(m: Master, framework: FrameworkRecord, c: Exclude<SchedulerCall, { type: 'SUBSCRIBE' }>): void {
  switch (c.type) {
    case 'TEARDOWN':
      m.stats.unregisterFramework.inc();
      m.log.info({ frameworkId: framework.id }, 'Tearing down framework at its request');
      removeFramework(m, framework, 'teardown');
      return;
    case 'ACCEPT':
      offers.accept(m, framework, c.accept);
      return;
    case 'DECLINE':
      offers.decline(m, framework, (c.decline.offer_ids ?? []).map((o) => o.value), c.decline.filters);
      return;
    case 'ACCEPT_INVERSE_OFFERS':
      inverseOffers.respond(m, framework, c.accept_inverse_offers.inverse_offer_ids ?? [], c.accept_inverse_offers.filters, 'ACCEPT');
      return;
    case 'DECLINE_INVERSE_OFFERS':
      inverseOffers.respond(m, framework, c.decline_inverse_offers.inverse_offer_ids ?? [], c.decline_inverse_offers.filters, 'DECLINE');
      return;
    case 'REVIVE':
      offers.revive(m, framework, c.revive?.roles);
      return;
    case 'SUPPRESS':
      offers.suppress(m, framework, c.suppress?.roles);
      return;
    case 'KILL':
      tasks.kill(m, framework, c.kill);
      return;
    case 'SHUTDOWN':
      tasks.shutdownExecutor(m, framework, c.shutdown);
      return;
    case 'ACKNOWLEDGE':
      tasks.acknowledge(m, framework, c.acknowledge);
      return;
    case 'RECONCILE':
      m.stats.reconcileTasks.inc();
      tasks.reconcile(m, framework, c.reconcile.tasks ?? []);
      return;
    case 'MESSAGE':
      tasks.frameworkMessage(m, framework, c.message);
      return;
    case 'UPDATE_FRAMEWORK':
      updateFramework(m, framework, c);
      return;
    case 'REQUEST':
      m.stats.resourceRequest.inc();
      // Mesos hands requests to the allocator, whose hierarchical implementation ignores them.
      m.log.debug({ frameworkId: framework.id }, 'Ignoring resource request (not used by the hierarchical allocator)');
      return;
    default:
      m.log.warn({ frameworkId: framework.id, type: c.type }, 'Ignoring unsupported call');
  }
}

/** SUBSCRIBE: a new framework, or the failover of a known one. */
export function subscribe(m: Master, connection: SchedulerConnection, c: SchedulerCallOf<'SUBSCRIBE'>): void {
  const now = m.now();
  const refuse = (message: string): void => {
    m.log.warn({ name: c.subscribe.framework_info.name, reason: message }, 'Refusing subscription');
    connection.send({ type: 'ERROR', error: { message } });
    connection.close();
  };
  const suppressed = c.subscribe.suppressed_roles ?? [];
  const problem = frameworkInfoProblem(c.subscribe.framework_info) ?? suppressedRolesProblem(frameworkRoles(c.subscribe.framework_info), suppressed);
  if (problem !== undefined) {
    refuse(problem);
    return;
  }
  const unauthorized = rolesUnauthorized(m, c.subscribe.framework_info);
  if (unauthorized !== undefined) {
    refuse(unauthorized);
    return;
  }
  // An empty id is no id (Mesos): a first subscription.
  const requestedId = c.subscribe.framework_info.id?.value || undefined;
  (requestedId === undefined ? m.stats.registerFramework : m.stats.reregisterFramework).inc();

  if (requestedId !== undefined && m.isCompletedFramework(requestedId)) {
    refuse('Framework has been removed');
    return;
  }

  let framework = requestedId !== undefined ? m.frameworks.get(requestedId) : subscribedFrom(m, connection);
  let info = c.subscribe.framework_info;
  let resend = false;
  // Operators hear of a framework new to this master as added, of one it knew as updated (but
  // not of a driver's retried first SUBSCRIBE, answered again: nothing changed).
  const added = framework === undefined;
  const updated = framework !== undefined && requestedId !== undefined;
  if (framework !== undefined) {
    // Mesos's `_subscribe`: the user and checkpointing stay what they were (the agents run the
    // framework's tasks as that user already); a new principal is refused.
    info = preserveImmutableFields(framework.info, info);
    const immutable = frameworkUpdateProblem(framework.info, info);
    if (immutable !== undefined) {
      refuse(immutable);
      return;
    }
    const previous = framework.connection;
    const samePid = previous?.kind === 'bus' && connection.kind === 'bus' && previous.pid !== undefined && connection.pid !== undefined && previous.pid.equals(connection.pid);
    // The framework's scheduler address, connected or not (none for one over HTTP).
    const frameworkPid = previous !== undefined ? (previous.kind === 'bus' ? previous.pid : undefined) : framework.disconnectedPid;
    const fromFrameworkPid = frameworkPid !== undefined && connection.pid !== undefined && frameworkPid.equals(connection.pid);
    if (connection.kind === 'bus' && !fromFrameworkPid && c.subscribe.force !== true) {
      // Mesos's `_subscribe` for a driver: a scheduler subscribing from another address than the
      // framework's must say `force`, as a scheduler failing over does; without it, it is taken
      // for a stale instance (partitioned away while another took over) and refused, the
      // framework's scheduler left alone. Over HTTP, Mesos always fails over (MESOS-4712).
      refuse('Framework failed over');
      return;
    }
    if (samePid) {
      // The same driver subscribes again: it retried before our SUBSCRIBED reached it, or its
      // bus connection (or ours) broke and came back, and events may have been lost on the way
      // (`linkInterrupted`): an OFFERS event it never saw would leave those offers outstanding
      // for good. Answer again and send its outstanding offers again, below (the driver does
      // not give the scheduler an offer it already holds). Mesos's `failoverFramework` takes
      // them back instead; after a bus restart a driver hears of two reconnections (its own and
      // ours) and subscribes twice, and taking offers back would void launches made on them.
      resend = true;
    } else {
      if (previous !== undefined) {
        previous.send({ type: 'ERROR', error: { message: 'Framework failed over' } });
        previous.close();
        if (previous.pid !== undefined) m.unlinkFrom(previous.pid);
      }
      m.log.info({ frameworkId: framework.id }, 'Framework failed over');
      framework.connection = connection;
      framework.reregisteredTime = now;
      // Offers made to the previous scheduler are void: rescind them.
      for (const offerId of [...framework.offers]) offers.removeOffer(m, offerId, { rescind: false, recover: true });
    }
    framework.failoverTimer?.cancel();
    framework.failoverTimer = undefined;
    framework.unregisteredTime = undefined;
    const rolesChanged = JSON.stringify(framework.roles) !== JSON.stringify(new FrameworkRecord(framework.id, info, now).roles);
    // The SUBSCRIBE says which roles are suppressed now (none if it lists none), as Mesos's
    // `updateFramework` tells its allocator; the allocator must hear of any change, or it keeps
    // a framework suppressed that the master counts as revived.
    const before = framework.suppressedRoles;
    const suppressedChanged = suppressed.length !== before.size || suppressed.some((r) => !before.has(r));
    const capabilitiesChanged = JSON.stringify(capabilityTypes(framework.info)) !== JSON.stringify(capabilityTypes(info));
    framework.info = { ...info, id: { value: framework.id } };
    framework.suppressedRoles = new Set(suppressed);
    if (rolesChanged || suppressedChanged || capabilitiesChanged) updateAllocator(m, framework);
    if (rolesChanged) rescindOffersOfRemovedRoles(m, framework);
    if (!framework.active) {
      framework.active = true;
      m.toAllocator(ALLOCATOR_ACTIVATE_FRAMEWORK, { framework_id: framework.id } satisfies FrameworkRef);
    }
  } else {
    const id = requestedId ?? m.ids.nextFrameworkId().value;
    framework = new FrameworkRecord(id, info, now, m.options.maxCompletedTasksPerFramework);
    framework.connection = connection;
    framework.suppressedRoles = new Set(suppressed);
    if (requestedId !== undefined) framework.reregisteredTime = now;
    m.frameworks.set(id, framework);
    if (requestedId !== undefined) readdFromAgents(m, framework);
    m.log.info({ frameworkId: id, name: info.name, roles: framework.roles, tasks: framework.tasks.size }, requestedId === undefined ? 'Added framework' : 'Re-added framework after master failover');
    m.toAllocator(ALLOCATOR_ADD_FRAMEWORK, {
      framework_id: id,
      roles: framework.roles,
      suppressed_roles: suppressed,
      active: true,
      used: usedByFramework(m, framework),
      capabilities: capabilityTypes(info),
    } satisfies AddFramework);
  }
  if (connection.pid !== undefined) m.linkTo(connection.pid);
  connection.send({
    type: 'SUBSCRIBED',
    subscribed: {
      framework_id: { value: framework.id },
      heartbeat_interval_seconds: m.options.heartbeatIntervalSeconds,
      master_info: m.masterInfo,
    },
  });
  if (m.operatorSubscribers.size > 0) {
    if (added) operatorEvents.frameworkAdded(m, framework);
    else if (updated) operatorEvents.frameworkUpdated(m, framework);
  }
  if (resend) offers.resendOffers(m, framework);
  // Inverse offers of the draining agents it uses (again, if the same scheduler subscribed again).
  inverseOffers.frameworkSubscribed(m, framework, resend);
}

/**
 * For a SUBSCRIBE without a framework id: the framework this driver (same address) already
 * subscribed. Its driver retried before our SUBSCRIBED reached it (it retries with backoff while
 * the master is busy); as Mesos's master does, the retry is answered again rather than added as
 * a second framework.
 */
function subscribedFrom(m: Master, connection: SchedulerConnection): FrameworkRecord | undefined {
  if (connection.kind !== 'bus' || connection.pid === undefined) return undefined;
  for (const framework of m.frameworks.values()) {
    const previous = framework.connection;
    if (previous?.kind === 'bus' && previous.pid !== undefined && previous.pid.equals(connection.pid)) return framework;
  }
  return undefined;
}

/**
 * A framework this master did not know re-subscribes (after a master failover): the tasks and
 * executors that agents re-registered before it reported for it become its own again, as
 * Mesos's `addFramework` adds "active tasks and executors" from every registered agent. An
 * agent that re-registers after the framework adds them itself (`agents.reregisterAgent`).
 */
function readdFromAgents(m: Master, framework: FrameworkRecord): void {
  for (const agent of m.agents.values()) {
    for (const task of agent.tasks.get(framework.id)?.values() ?? []) framework.tasks.set(task.task_id.value, task);
    for (const executor of agent.executors.get(framework.id)?.values() ?? []) framework.addExecutor(agent.id, executor);
  }
}

function usedByFramework(m: Master, framework: FrameworkRecord): AddFramework['used'] {
  const used: NonNullable<AddFramework['used']> = [];
  for (const agent of m.agents.values()) {
    const r = agent.usedByFramework().get(framework.id);
    if (r !== undefined && !r.isEmpty()) used.push({ agent_id: agent.id, resources: r.toJSON() });
  }
  return used;
}

/**
 * UPDATE_FRAMEWORK: new roles, name, capabilities... Refused whole, with an ERROR in Mesos's
 * words (`Master::updateFramework`), for an invalid `FrameworkInfo`, a change of what may not
 * change (principal, user, checkpoint: `validateFrameworkUpdate`), or suppressed roles it does
 * not have. Offers to roles it leaves are rescinded.
 */
function updateFramework(m: Master, framework: FrameworkRecord, c: SchedulerCallOf<'UPDATE_FRAMEWORK'>): void {
  const problem = updateFrameworkProblem(framework, c) ?? rolesUnauthorized(m, c.update_framework.framework_info);
  if (problem !== undefined) {
    m.log.warn({ frameworkId: framework.id, reason: problem }, 'Refusing UPDATE_FRAMEWORK');
    framework.connection?.send({ type: 'ERROR', error: { message: problem } });
    return;
  }
  const info = c.update_framework.framework_info;
  const suppressed = c.update_framework.suppressed_roles ?? [...framework.suppressedRoles];
  framework.info = { ...info, id: { value: framework.id } };
  framework.suppressedRoles = new Set(suppressed);
  updateAllocator(m, framework);
  rescindOffersOfRemovedRoles(m, framework);
  if (m.operatorSubscribers.size > 0) operatorEvents.frameworkUpdated(m, framework);
}

/** Tells the allocator the framework's roles, suppressed roles and capabilities, as they are now. */
function updateAllocator(m: Master, framework: FrameworkRecord): void {
  m.toAllocator(ALLOCATOR_UPDATE_FRAMEWORK, {
    framework_id: framework.id,
    roles: framework.roles,
    suppressed_roles: [...framework.suppressedRoles],
    capabilities: capabilityTypes(framework.info),
  } satisfies UpdateFramework);
}

/**
 * The types of a framework's capabilities, for the allocator: what it may be offered depends on
 * some (`GPU_RESOURCES`: agents with GPUs, as Mesos's `isCapableOfReceivingAgent`).
 */
function capabilityTypes(info: FrameworkInfo): string[] {
  return (info.capabilities ?? []).flatMap((c) => (c.type === undefined ? [] : [c.type]));
}

/**
 * Why UPDATE_FRAMEWORK `c` is refused, in Mesos's words (`Master::updateFramework`), or
 * `undefined`: an invalid `FrameworkInfo`, a change of what may not change (principal, user,
 * checkpoint: `validateFrameworkUpdate`), suppressed roles it does not have. The bus answers
 * with an ERROR event, the HTTP API with `400`.
 */
export function updateFrameworkProblem(framework: FrameworkRecord, c: SchedulerCallOf<'UPDATE_FRAMEWORK'>): string | undefined {
  const info = c.update_framework.framework_info;
  const invalid = frameworkInfoProblem(info);
  if (invalid !== undefined) return `Supplied FrameworkInfo is not valid: ${invalid}`;
  const immutable = frameworkUpdateProblem(framework.info, info);
  if (immutable !== undefined) return `FrameworkInfo update is not valid: ${immutable}`;
  const roles = suppressedRolesProblem(frameworkRoles(info), c.update_framework.suppressed_roles ?? [...framework.suppressedRoles]);
  if (roles !== undefined) return `'UpdateFramework' call is not valid: ${roles}`;
  return undefined;
}

/**
 * `register_frameworks` (`--acls`): why the framework's principal may not use its roles, or
 * `undefined`; checked at every SUBSCRIBE and UPDATE_FRAMEWORK, as Mesos's `authorizeFramework`.
 */
export function rolesUnauthorized(m: Master, info: FrameworkInfo): string | undefined {
  const refused = frameworkRoles(info).filter((role) => !authorized(m, 'register_frameworks', info.principal, role));
  return refused.length > 0 ? `Not authorized to use roles '${refused.join(', ')}'` : undefined;
}

/** Offers to roles the framework no longer has are rescinded (Mesos's `updateFramework`). */
function rescindOffersOfRemovedRoles(m: Master, framework: FrameworkRecord): void {
  const roles = new Set(framework.roles);
  for (const offerId of [...framework.offers]) {
    const offer = m.offers.get(offerId);
    if (offer !== undefined && !roles.has(offer.role)) offers.removeOffer(m, offerId, { rescind: true, recover: true });
  }
}

/**
 * The scheduler went away (its driver exited, its HTTP stream closed): no offers until it comes
 * back; after `failover_timeout` (0 by default) the framework is removed.
 */
export function disconnect(m: Master, framework: FrameworkRecord, reason: string): void {
  if (framework.connection === undefined) return;
  m.log.info({ frameworkId: framework.id, reason }, 'Framework disconnected');
  framework.connection.close();
  framework.disconnectedPid = framework.connection.pid;
  framework.connection = undefined;
  framework.unregisteredTime = m.now();
  if (framework.active) {
    framework.active = false;
    m.toAllocator(ALLOCATOR_DEACTIVATE_FRAMEWORK, { framework_id: framework.id } satisfies FrameworkRef);
  }
  for (const offerId of [...framework.offers]) offers.removeOffer(m, offerId, { rescind: false, recover: true });
  inverseOffers.frameworkDisconnected(m, framework);
  const timeoutMs = Math.max(0, failoverTimeoutSeconds(framework.info) * 1000);
  framework.failoverTimer?.cancel();
  framework.failoverTimer = m.after(timeoutMs, () => {
    framework.failoverTimer = undefined;
    if (framework.connection !== undefined || !m.frameworks.has(framework.id)) return;
    m.log.info({ frameworkId: framework.id, failoverTimeoutSecs: timeoutMs / 1000 }, 'Framework failover timeout, removing framework');
    removeFramework(m, framework, 'failover timeout');
  });
}

/**
 * Removes a framework: its offers go back, its executors and tasks are shut down on their agents,
 * its tasks end as TASK_KILLED (REASON_FRAMEWORK_REMOVED) in the completed list. A draining
 * agent it leaves without tasks is drained then (`drain.checkDrained`), once it is removed.
 */
export function removeFramework(m: Master, framework: FrameworkRecord, reason: string): void {
  for (const offerId of [...framework.offers]) offers.removeOffer(m, offerId, { rescind: false, recover: false });
  inverseOffers.frameworkRemoved(m, framework);
  const agentIds = new Set<string>([...framework.executors.keys()]);
  for (const task of framework.tasks.values()) agentIds.add(task.agent_id.value);
  for (const agentId of agentIds) {
    const agent = m.agents.get(agentId);
    if (agent === undefined) continue;
    if (agent.connected) m.send(agent.pid, SHUTDOWN_FRAMEWORK, { framework_id: { value: framework.id } });
    agent.executors.delete(framework.id);
    for (const task of [...(agent.tasks.get(framework.id)?.values() ?? [])]) agent.removeTask(task);
  }
  for (const task of [...framework.tasks.values()]) {
    if (!tasks.isTerminalTask(task)) {
      const status = masterStatus(task, 'TASK_KILLED', 'REASON_FRAMEWORK_REMOVED', `Framework removed: ${reason}`, m.now());
      task.state = 'TASK_KILLED';
      task.statuses.push(status);
      m.tasksEnded.TASK_KILLED!.inc();
      if (m.operatorSubscribers.size > 0) operatorEvents.taskUpdated(m, task, status);
    }
    framework.completeTask(task);
  }
  framework.executors.clear();
  framework.failoverTimer?.cancel();
  framework.failoverTimer = undefined;
  const connection = framework.connection;
  framework.connection = undefined;
  framework.active = false;
  framework.unregisteredTime = m.now();
  connection?.close();
  if (connection?.pid !== undefined) m.unlinkFrom(connection.pid);
  m.toAllocator(ALLOCATOR_REMOVE_FRAMEWORK, { framework_id: framework.id } satisfies FrameworkRef);
  m.frameworks.delete(framework.id);
  m.completedFrameworks.push(framework);
  if (m.operatorSubscribers.size > 0) operatorEvents.frameworkRemoved(m, framework);
  m.log.info({ frameworkId: framework.id, reason }, 'Removed framework');
  if (m.drainInfos.size > 0) for (const agentId of agentIds) drain.checkDrained(m, agentId);
}
