import type { UPID } from '../../src/process/upid.ts';
import { Resources } from '../../src/mesos/resources.ts';
import {
  PING_SLAVE,
  SHUTDOWN_FRAMEWORK,
  SHUTDOWN_SLAVE,
  type ShutdownSlave,
  SLAVE_REGISTERED,
  SLAVE_REREGISTERED,
  type ExitedExecutor,
  type RegisterSlave,
  type ReregisterSlave,
  type SlaveRegistered,
  type Task,
  type UnregisterSlave,
  RECONCILE_TASKS,
  type ReconcileTasks,
} from '../../src/mesos/protocol.ts';
import type { AgentInfo, TaskState, TaskStatus } from '../../src/mesos/v1/common.ts';
import {
  ALLOCATOR_ACTIVATE_AGENT,
  ALLOCATOR_ADD_AGENT,
  ALLOCATOR_DEACTIVATE_AGENT,
  ALLOCATOR_REMOVE_AGENT,
  ALLOCATOR_UPDATE_AGENT,
  type AddAgent,
  type AgentRef,
  type UpdateAgent,
} from '../allocator/protocol.ts';
import * as drain from './drain.ts';
import * as inverseOffers from './inverse-offers.ts';
import * as maintenance from './maintenance.ts';
import type { Master } from './master-process.ts';
import * as offers from './offers.ts';
import * as operatorEvents from './operator-events.ts';
import * as reservations from './reservations.ts';
import { AgentRecord, masterStatus, type FrameworkRecord } from './state.ts';
import { isTerminalTask } from './tasks.ts';

/**
 * Agents: registration, re-registration (after an agent restart, a master failover or a
 * partition), health checking by pings, disconnection and removal, marking gone and
 * deactivation (by the operator; draining is `drain.ts`'s), executor exits. Agents on machines
 * that are `DOWN` are refused (`maintenance.refuseDown`); those on draining machines get their
 * unavailability when admitted (`maintenance.agentAdmitted`), and their inverse offers go when
 * they disconnect or leave (`inverse-offers.ts`).
 *
 * Admission (of a new agent, or of one this master does not know), removal, unreachable and gone
 * marking are written to the registry first (`Master.registrar`), and acted on once written,
 * as Mesos's master does; meanwhile the agent is in `registeringAgents` or
 * `agentsInTransition`, and a registration or re-registration it retries is ignored.
 */


function connection(m: Master): SlaveRegistered['connection'] {
  return { total_ping_timeout_seconds: (m.options.agentPingTimeoutMs * m.options.maxAgentPingTimeouts) / 1000 };
}

/** `RegisterSlaveMessage`: a new agent gets an id, the allocator its resources. */
export function registerAgent(m: Master, from: UPID, body: RegisterSlave): void {
  m.stats.registerAgent.inc();
  if (!m.leading) {
    m.log.debug({ from: String(from) }, 'Ignoring agent registration: not the leading master');
    return;
  }
  if (m.registeringAgents.has(String(from))) {
    m.log.info({ from: String(from) }, 'Ignoring agent registration: its admission is already in progress');
    return;
  }
  if (maintenance.refuseDown(m, from, body.slave, body.ip, 'registration')) return;
  const knownId = m.agentsByPid.get(String(from));
  const known = knownId === undefined ? undefined : m.agents.get(knownId);
  if (known !== undefined && known.connected) {
    // A retried registration: the agent did not hear our answer (nor, draining, the drain).
    m.send(from, SLAVE_REGISTERED, { slave_id: { value: known.id }, connection: connection(m) } satisfies SlaveRegistered);
    drain.reregistered(m, known);
    return;
  }
  const total = agentTotal(m, from, body.slave, 'registration');
  if (total === undefined) return;
  const report = reservations.reported(m, from, body.checkpointed_resources, total, 'registration');
  if (report === undefined) return;
  if (known !== undefined) {
    // The agent at this address was disconnected and registers as a new one: it restarted
    // without recovering (its tasks are gone), or was shutting down with a registration retry
    // pending (MESOS-8463). As Mesos's `_registerSlave`, the old agent is removed first: its
    // tasks are lost, not handed to the new one.
    m.log.info({ agentId: known.id, agent: String(from) }, 'Removing old disconnected agent because a registration attempt occurred');
    m.stats.agentRemovalsRegistered.inc();
    removeAgent(m, known, 'a new agent registered at the same address');
  }
  const id = m.ids.nextAgentId().value;
  const info = { ...body.slave, resources: total.toJSON(), id: { value: id } };
  // Mesos's `AdmitSlave`, then `_registerSlave`.
  m.registeringAgents.add(String(from));
  m.registrar(m.options.registry.update({ info, state: 'admitted', time: m.now() }), () => {
    m.registeringAgents.delete(String(from));
    if (!m.leading) return;
    const agent = new AgentRecord(id, info, from, m.now());
    agent.version = body.version;
    agent.ip = body.ip;
    reservations.admitReported(agent, report);
    admit(m, agent);
    m.stats.agentRegistrations.inc();
    m.send(from, SLAVE_REGISTERED, { slave_id: { value: id }, connection: connection(m) } satisfies SlaveRegistered);
    m.log.info({ agentId: id, agent: String(from), hostname: agent.info.hostname, resources: String(agent.total) }, 'Registered agent');
  });
}

/** Adds an agent to the master's books, the allocator, and the health checks. */
function admit(m: Master, agent: AgentRecord): void {
  m.agents.set(agent.id, agent);
  m.agentsByPid.set(String(agent.pid), agent.id);
  m.removedAgents.delete(agent.id);
  m.unreachableAgents.delete(agent.id);
  m.linkTo(agent.pid);
  const used = [...agent.usedByFramework()].map(([framework_id, r]) => ({ framework_id, resources: r.toJSON() }));
  m.toAllocator(ALLOCATOR_ADD_AGENT, { agent_id: agent.id, total: agent.total.toJSON(), used } satisfies AddAgent);
  // Deactivated by the operator before it was removed, or before a master failover: no offers.
  if (m.deactivatedAgents.has(agent.id)) {
    agent.active = false;
    m.toAllocator(ALLOCATOR_DEACTIVATE_AGENT, { agent_id: agent.id } satisfies AgentRef);
  }
  startPings(m, agent);
  if (m.operatorSubscribers.size > 0) operatorEvents.agentAdded(m, agent);
  // On a draining machine: its unavailability, and inverse offers to the frameworks using it.
  maintenance.agentAdmitted(m, agent);
}

/**
 * `ReregisterSlaveMessage`: a known agent reconnects (its tasks are reconciled), or one this
 * master does not know (after a master failover, or removed after a partition) is admitted
 * again with the tasks and executors it reports, once the registry has it (Mesos's
 * `MarkSlaveReachable`). One the registry marks gone is told to shut down.
 */
export function reregisterAgent(m: Master, from: UPID, body: ReregisterSlave): void {
  m.stats.reregisterAgent.inc();
  if (!m.leading) {
    m.log.debug({ from: String(from) }, 'Ignoring agent re-registration: not the leading master');
    return;
  }
  const id = body.slave.id.value;
  const transition = m.agentsInTransition.get(id);
  if (transition !== undefined) {
    m.log.info({ agentId: id, agent: String(from), transition }, 'Ignoring agent re-registration: a registry update of the agent is in progress');
    return;
  }
  if (m.goneAgents.has(id)) {
    m.log.warn({ agentId: id, agent: String(from) }, 'Refusing re-registration of an agent marked gone');
    m.send(from, SHUTDOWN_SLAVE, { message: 'Agent has been marked gone' } satisfies ShutdownSlave);
    return;
  }
  if (maintenance.refuseDown(m, from, body.slave, body.ip, 're-registration')) return;
  const total = agentTotal(m, from, body.slave, 're-registration');
  if (total === undefined) return;
  const report = reservations.reported(m, from, body.checkpointed_resources, total, 're-registration');
  if (report === undefined) return;
  const agent = m.agents.get(id);
  if (agent !== undefined) {
    reconnectAgent(m, agent, from, body, total, report);
    return;
  }
  m.agentsInTransition.set(id, 'reregistering');
  m.registrar(m.options.registry.update({ info: { ...body.slave, resources: total.toJSON(), id: { value: id } }, state: 'admitted', time: m.now() }), () => {
    m.agentsInTransition.delete(id);
    if (m.leading) _reregisterAgent(m, from, body, total, report);
  });
}

/**
 * What a re-registering agent reports, less the frameworks this master removed (torn down,
 * failed over for good) that the agent still runs: their tasks and executors are not taken
 * back, and the agent is told to shut them down (`shutDownCompleted`, as Mesos's master does on
 * re-registration). Taken back, they would hold their resources for good: the master drops the
 * updates of a framework it removed, so nothing would end them.
 */
function reportedOn(m: Master, body: ReregisterSlave) {
  const completed = completedFrameworksOn(m, body);
  const reported = (body.tasks ?? []).filter((t) => !completed.has(t.framework_id.value));
  const executorInfos = (body.executor_infos ?? []).filter((e) => e.framework_id === undefined || !completed.has(e.framework_id.value));
  return { completed, reported, executorInfos };
}

function shutDownCompleted(m: Master, to: UPID, agentId: string, completed: Set<string>): void {
  for (const fid of completed) {
    m.log.info({ agentId, frameworkId: fid }, 'Shutting down a removed framework on a re-registering agent');
    m.send(to, SHUTDOWN_FRAMEWORK, { framework_id: { value: fid } });
  }
}

/** A re-registering agent this master knows: no registry write (it is admitted there already). */
function reconnectAgent(m: Master, agent: AgentRecord, from: UPID, body: ReregisterSlave, total: Resources, report: reservations.Reported): void {
  const id = agent.id;
  const { completed, reported } = reportedOn(m, body);
  if (!agent.pid.equals(from)) {
    m.agentsByPid.delete(String(agent.pid));
    m.unlinkFrom(agent.pid);
    agent.pid = from;
    m.agentsByPid.set(String(from), id);
  }
  m.linkTo(from);
  agent.reregisteredTime = m.now();
  agent.version = body.version ?? agent.version;
  agent.ip = body.ip;
  // The agent may come back with other resources or attributes (restarted with a new
  // configuration): as Mesos's `___reregisterSlave`, its info is updated and the allocator
  // told its new total, before it is activated again.
  updateAgentInfo(m, agent, body.slave, total, reservations.reconnectedTotal(m, agent, total, report));
  const reportedIds = new Set(reported.map((t) => `${t.framework_id.value}/${t.task_id.value}`));
  // Tasks the master launched there that the agent did not report: their RunTaskMessage was
  // lost, or is still on the way (the agent wrote its report before it came). As Mesos's
  // `reconcileKnownSlave` does, ask the agent (after the re-registration's answer, below):
  // it reports TASK_LOST for those it does not know, through its status update manager,
  // and nothing for the others (a RunTaskMessage reaches it before this message).
  const reconcile = new Map<string, TaskStatus[]>();
  for (const task of [...agent.allTasks()]) {
    if (reportedIds.has(`${task.framework_id.value}/${task.task_id.value}`) || isTerminalTask(task)) continue;
    if (!m.frameworks.has(task.framework_id.value)) {
      agent.removeTask(task);
      continue;
    }
    m.log.warn({ agentId: id, taskId: task.task_id.value, frameworkId: task.framework_id.value }, 'Task unknown to the re-registering agent; reconciling with the agent');
    const status: TaskStatus = { task_id: task.task_id, state: task.status_update_state ?? task.state, source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION', message: 'Reconciliation request', agent_id: { value: id }, timestamp: m.now() / 1000 };
    const list = reconcile.get(task.framework_id.value);
    if (list === undefined) reconcile.set(task.framework_id.value, [status]);
    else list.push(status);
  }
  agent.connected = true;
  // Offered again, unless the operator deactivated it (DEACTIVATE_AGENT): reconnecting does
  // not undo that, as in Mesos.
  if (!agent.active && !m.deactivatedAgents.has(id)) {
    agent.active = true;
    m.toAllocator(ALLOCATOR_ACTIVATE_AGENT, { agent_id: id } satisfies AgentRef);
  }
  agent.missedPings = 0;
  m.stats.agentReregistrations.inc();
  m.send(from, SLAVE_REREGISTERED, { slave_id: { value: id }, connection: connection(m) });
  reservations.syncReconnected(m, agent, report);
  shutDownCompleted(m, from, id, completed);
  for (const [frameworkId, statuses] of reconcile) m.send(from, RECONCILE_TASKS, { framework_id: { value: frameworkId }, statuses } satisfies ReconcileTasks);
  m.log.info({ agentId: id, agent: String(from) }, 'Agent re-registered');
  drain.reregistered(m, agent);
  // Its hostname or IP may be new: its machine's unavailability, and inverse offers again.
  maintenance.agentAdmitted(m, agent);
}

/**
 * An agent this master does not know is in the registry (Mesos's `_reregisterSlave`): admitted
 * with what it reports. One the registry listed when this master was elected is recovered.
 */
function _reregisterAgent(m: Master, from: UPID, body: ReregisterSlave, total: Resources, report: reservations.Reported): void {
  const id = body.slave.id.value;
  const { completed, reported, executorInfos } = reportedOn(m, body);
  const admitted = new AgentRecord(id, { ...body.slave, resources: total.toJSON() }, from, m.now());
  admitted.reregisteredTime = m.now();
  admitted.version = body.version;
  admitted.ip = body.ip;
  // What it reserved is its to tell (a master that failed over had no books of it).
  reservations.admitReported(admitted, report);
  for (const executor of executorInfos) {
    const fid = executor.framework_id?.value;
    if (fid === undefined) continue;
    admitted.addExecutor(fid, executor);
    m.frameworks.get(fid)?.addExecutor(id, executor);
  }
  const wasRemoved = m.removedAgents.has(id);
  const wasUnreachable = m.unreachableAgents.has(id);
  const shutDown = new Set<string>();
  const readded: Task[] = [];
  for (const task of reported) {
    const fid = task.framework_id.value;
    const known = m.frameworks.get(fid);
    if (wasRemoved && known !== undefined && (!known.partitionAware || !wasUnreachable)) {
      // Its tasks there were reported TASK_LOST when the agent was removed (every framework's,
      // when it was removed for good rather than unreachable): as Mesos does for frameworks
      // that are not partition-aware, shut the framework down on the agent rather than let a
      // lost task come back.
      shutDown.add(fid);
      continue;
    }
    // A terminal task is taken back too (Mesos adds every task reported): its terminal update
    // is still on its way from the agent, and a partition-aware framework that heard
    // TASK_UNREACHABLE must hear how the task ended. It uses nothing meanwhile.
    const copy: Task = { ...task, agent_id: { value: id } };
    admitted.addTask(copy);
    const framework = m.frameworks.get(task.framework_id.value);
    if (framework !== undefined && !framework.tasks.has(task.task_id.value)) {
      framework.unreachableTasks.delete(task.task_id.value);
      framework.tasks.set(task.task_id.value, copy);
      if (wasRemoved) readded.push(copy);
    }
  }
  for (const fid of shutDown) admitted.executors.delete(fid);
  admit(m, admitted);
  readdCompletedTasks(m, admitted, body.completed_frameworks ?? []);
  notifyReadded(m, readded, wasUnreachable);
  m.stats.agentReregistrations.inc();
  m.send(from, SLAVE_REREGISTERED, { slave_id: { value: id }, connection: connection(m) });
  shutDownCompleted(m, from, id, completed);
  for (const fid of shutDown) {
    m.log.info({ agentId: id, frameworkId: fid }, 'Shutting down a framework whose tasks were lost on a removed agent that came back');
    m.send(from, SHUTDOWN_FRAMEWORK, { framework_id: { value: fid } });
  }
  m.log.info({ agentId: id, agent: String(from), tasks: reported.length, recovered: m.recoveredAgents.has(id) }, 'Admitted re-registering agent unknown to this master');
  drain.reregistered(m, admitted);
  m.agentRecovered(id);
}

/**
 * Tells each framework whose tasks a removed agent brought back that they run again (Mesos 1.5+
 * `__reregisterSlave`): one update per task with the state the agent reports, from the master,
 * REASON_AGENT_REREGISTERED (v0 `REASON_SLAVE_REREGISTERED`). Without it a partition-aware
 * framework that heard TASK_UNREACHABLE learns the task is back only by reconciling. Like every
 * update the master makes up, it has no uuid: nothing to acknowledge. A framework that is not
 * connected misses it, as in Mesos (it reconciles when it subscribes again).
 *
 * Unlike Mesos, a task the agent reports terminal gets none: its terminal update is on its way
 * from the agent's status update manager, reliably, and a framework hears one terminal state
 * per task. An agent this master never removed (it re-registers after a master failover, as a
 * Mesos agent the registry recovered) gets none either: no framework heard its tasks end.
 */
function notifyReadded(m: Master, tasks: Task[], wasUnreachable: boolean): void {
  const message = wasUnreachable ? 'Unreachable agent reregistered' : 'Unknown agent reregistered';
  for (const task of tasks) {
    if (isTerminalTask(task)) continue;
    const framework = m.frameworks.get(task.framework_id.value);
    if (framework === undefined) continue;
    if (!framework.connected) {
      m.log.warn({ frameworkId: framework.id, taskId: task.task_id.value, state: task.state }, 'Dropping update of a re-added task for a disconnected framework');
      continue;
    }
    const status = masterStatus(task, task.state, 'REASON_AGENT_REREGISTERED', message, m.now());
    const latest = (task.statuses ?? []).at(-1);
    if (latest?.healthy !== undefined) status.healthy = latest.healthy;
    if (latest?.check_status !== undefined) status.check_status = latest.check_status;
    if (latest?.container_status !== undefined) status.container_status = latest.container_status;
    m.sendEvent(framework, { type: 'UPDATE', update: { status } });
  }
}

/**
 * The frameworks an agent this master did not know reports completed (Mesos's `addSlave` with
 * `ReregisterSlaveMessage.completed_frameworks`): the tasks that ended there go back among the
 * completed tasks of their framework, which after a failover the master has otherwise lost.
 * Only a framework the master knows takes them; one it does not know is not made up from the
 * report (it may not have re-subscribed yet), and its tasks are left out, as Mesos leaves them
 * ("possibly orphaned"). A known agent's report is not read: the master kept its own books.
 * Unlike Mesos, a task the framework already lists as completed is not listed twice (an agent
 * back from a partition reports tasks that ended before it).
 */
function readdCompletedTasks(m: Master, agent: AgentRecord, completed: NonNullable<ReregisterSlave['completed_frameworks']>): void {
  for (const { framework_info: info, tasks } of completed) {
    const fid = info.id?.value;
    if (fid === undefined) continue;
    const framework = m.frameworks.get(fid);
    for (const task of tasks ?? []) {
      if (framework === undefined) {
        m.log.warn({ agentId: agent.id, frameworkId: fid, taskId: task.task_id.value }, 'Possibly orphaned completed task on a re-registering agent');
        continue;
      }
      const id = task.task_id.value;
      if (framework.tasks.has(id) || framework.completedTasks.some((t) => t.task_id.value === id && t.agent_id.value === agent.id)) continue;
      m.log.debug({ agentId: agent.id, frameworkId: fid, taskId: id }, 'Re-adding completed task');
      framework.completedTasks.push({ ...task, framework_id: { value: fid }, agent_id: { value: agent.id } });
    }
  }
}

/** The resources an agent registers with, or `undefined` (logged) if they are not valid. */
function agentTotal(m: Master, from: UPID, slave: RegisterSlave['slave'], what: string): Resources | undefined {
  try {
    return Resources.fromJSON(slave.resources ?? []);
  } catch (error) {
    m.log.warn({ from: String(from), reason: (error as Error).message }, `Refusing agent ${what}: invalid resources`);
    return undefined;
  }
}

/**
 * A known agent re-registered with `info` (`total` its `--resources`, `applied` those with its
 * reservations): if it changed, the books and the allocator follow.
 */
function updateAgentInfo(m: Master, agent: AgentRecord, info: ReregisterSlave['slave'], total: Resources, applied: Resources): void {
  const updated = { ...info, resources: total.toJSON(), id: { value: agent.id } };
  const rest = (i: Pick<AgentInfo, 'hostname' | 'port' | 'attributes' | 'domain'>) => JSON.stringify([i.hostname, i.port, i.attributes ?? [], i.domain]);
  const sameTotal = applied.equals(agent.total);
  if (sameTotal && rest(info) === rest(agent.info)) return;
  m.log.info({ agentId: agent.id, resources: String(applied), was: String(agent.total) }, 'Agent re-registered with a changed AgentInfo');
  agent.info = updated;
  if (sameTotal) return;
  agent.total = applied;
  m.toAllocator(ALLOCATOR_UPDATE_AGENT, { agent_id: agent.id, total: applied.toJSON() } satisfies UpdateAgent);
}

/** Ids of the frameworks a re-registering agent reports (tasks, executors) that this master removed. */
function completedFrameworksOn(m: Master, body: ReregisterSlave): Set<string> {
  const reported = new Set<string>();
  for (const task of body.tasks ?? []) reported.add(task.framework_id.value);
  for (const executor of body.executor_infos ?? []) if (executor.framework_id !== undefined) reported.add(executor.framework_id.value);
  const completed = new Set<string>();
  for (const fid of reported) {
    if (m.isCompletedFramework(fid)) completed.add(fid);
  }
  return completed;
}

/** `UnregisterSlaveMessage`: the agent is shutting down for good. */
export function unregisterAgent(m: Master, from: UPID, body: UnregisterSlave): void {
  m.stats.unregisterAgent.inc();
  const agent = m.agents.get(body.slave_id.value);
  if (agent === undefined || !agent.pid.equals(from)) {
    m.log.debug({ from: String(from) }, 'Ignoring unregistration of an unknown agent');
    return;
  }
  m.stats.agentRemovalsUnregistered.inc();
  removeAgent(m, agent, 'the agent unregistered');
}

/** `PongSlaveMessage`. */
export function pong(m: Master, from: UPID): void {
  const id = m.agentsByPid.get(String(from));
  const agent = id === undefined ? undefined : m.agents.get(id);
  if (agent === undefined) return;
  agent.pongReceived = true;
  agent.missedPings = 0;
}

/**
 * Health checks, as Mesos's `SlaveObserver`: a ping every `agent_ping_timeout`; a ping without a
 * pong by the next one counts as a timeout; `max_agent_ping_timeouts` in a row remove the agent.
 */
function startPings(m: Master, agent: AgentRecord): void {
  agent.pingTimer?.cancel();
  agent.missedPings = 0;
  const ping = (): void => {
    agent.pongReceived = false;
    m.send(agent.pid, PING_SLAVE, { connected: agent.connected });
    agent.pingTimer = m.after(m.options.agentPingTimeoutMs, () => {
      agent.pingTimer = undefined;
      if (m.agents.get(agent.id) !== agent) return;
      if (!agent.pongReceived) {
        agent.missedPings++;
        m.log.debug({ agentId: agent.id, missed: agent.missedPings }, 'Agent missed a ping');
        if (agent.missedPings >= m.options.maxAgentPingTimeouts) {
          m.stats.agentRemovalsUnhealthy.inc();
          markUnreachable(m, agent.id, `health check timed out after ${agent.missedPings} missed pings`);
          return;
        }
      }
      ping();
    });
  };
  ping();
}

/**
 * The agent's runtime went away (the link broke): it is disconnected, its offers are rescinded
 * and it gets no new ones; the health checks decide whether it is removed.
 */
export function agentExited(m: Master, agentId: string): void {
  const agent = m.agents.get(agentId);
  if (agent === undefined || !agent.connected) return;
  m.log.info({ agentId }, 'Agent disconnected');
  agent.connected = false;
  agent.active = false;
  m.toAllocator(ALLOCATOR_DEACTIVATE_AGENT, { agent_id: agentId } satisfies AgentRef);
  for (const offerId of [...agent.offers]) offers.removeOffer(m, offerId, { rescind: true, recover: true });
  inverseOffers.agentDisconnected(m, agentId);
}

/**
 * The agent failed its health checks, or (recovered from the registry) did not re-register in
 * time after a failover (Mesos's `markUnreachable`): once the registry has it unreachable, it is
 * removed and remembered as unreachable, so that a partition-aware framework may wait for its
 * tasks (TASK_UNREACHABLE, kept as unreachable tasks) and reconciliation answers
 * TASK_UNREACHABLE for tasks there. Others hear TASK_LOST. A recovered agent has no tasks here
 * (nobody reported them): frameworks hear `slaveLost`, and TASK_UNREACHABLE or TASK_LOST when they
 * reconcile. It is admitted again if it re-registers.
 */
export function markUnreachable(m: Master, agentId: string, reason: string): void {
  const agent = m.agents.get(agentId);
  const info = agent?.info ?? m.recoveredAgents.get(agentId);
  if (info === undefined || m.agentsInTransition.has(agentId)) return;
  const unreachableTime = m.now();
  m.agentsInTransition.set(agentId, 'markingUnreachable');
  m.registrar(m.options.registry.update({ info: { ...info, id: { value: agentId } }, state: 'unreachable', time: unreachableTime }), () => {
    m.agentsInTransition.delete(agentId);
    if (agent !== undefined) {
      if (m.agents.get(agentId) !== agent) return;
      _removeAgent(m, agent, reason, { unreachableTime });
    } else {
      if (!m.recoveredAgents.has(agentId)) return;
      m.stats.agentsRemoved.inc();
      m.log.warn({ agentId, hostname: info.hostname, reason }, 'Marking recovered agent unreachable');
      m.removedAgents.add(agentId);
      agentLost(m, agentId);
      m.agentRecovered(agentId);
    }
    m.unreachableAgents.set(agentId, unreachableTime);
  });
}

/**
 * The agent unregistered, or a new agent registered at its address (Mesos's `removeSlave` and
 * `_removeSlave`): once the registry has forgotten it, it is gone for good, not partitioned, so
 * every framework hears TASK_LOST for its tasks, partition-aware or not, and they end here.
 */
export function removeAgent(m: Master, agent: AgentRecord, reason: string): void {
  if (m.agentsInTransition.has(agent.id)) return;
  m.agentsInTransition.set(agent.id, 'removing');
  m.registrar(m.options.registry.remove(agent.id), () => {
    m.agentsInTransition.delete(agent.id);
    if (m.agents.get(agent.id) === agent) _removeAgent(m, agent, reason, 'removed');
  });
}

/** Every framework hears the agent is lost (`slaveLost`; Mesos's `sendSlaveLost`). */
function agentLost(m: Master, agentId: string): void {
  for (const framework of m.frameworks.values()) m.sendEvent(framework, { type: 'FAILURE', failure: { agent_id: { value: agentId } } });
}

/**
 * How an agent leaves (Mesos's `__removeSlave` with or without an `unreachable_time`, and
 * `markGone`): unreachable, it may come back; removed (it unregistered, another took its
 * address) or marked gone by the operator, it does not.
 */
type Removal = { unreachableTime: number } | 'removed' | 'gone';

/**
 * What a task on a leaving agent becomes for `framework`, as Mesos's `__removeSlave` and
 * `markGone` decide: a partition-aware framework hears TASK_UNREACHABLE for an unreachable agent
 * and TASK_GONE_BY_OPERATOR (REASON_AGENT_REMOVED_BY_OPERATOR) for one marked gone; every other
 * case (a framework that is not partition-aware, an agent that unregistered or was replaced) is
 * TASK_LOST with REASON_AGENT_REMOVED.
 */
function removedTaskState(framework: FrameworkRecord, removal: Removal): { state: TaskState; reason: TaskStatus['reason'] } {
  if (framework.partitionAware && typeof removal === 'object') return { state: 'TASK_UNREACHABLE', reason: 'REASON_AGENT_REMOVED' };
  if (framework.partitionAware && removal === 'gone') return { state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_AGENT_REMOVED_BY_OPERATOR' };
  return { state: 'TASK_LOST', reason: 'REASON_AGENT_REMOVED' };
}

/**
 * The master ends a task of a leaving agent in the state `removedTaskState` gives, tells its
 * framework and the operators. Only the task's state changes: where it is listed is the caller's.
 */
function endRemovedTask(m: Master, framework: FrameworkRecord, task: Task, removal: Removal, message: string): void {
  const { state, reason } = removedTaskState(framework, removal);
  const status = masterStatus(task, state, reason, message, m.now());
  if (typeof removal === 'object') status.unreachable_time = { nanoseconds: removal.unreachableTime * 1e6 };
  task.state = state;
  task.statuses.push(status);
  m.tasksEnded[state]?.inc();
  if (m.operatorSubscribers.size > 0) operatorEvents.taskUpdated(m, task, status);
  m.sendEvent(framework, { type: 'UPDATE', update: { status } });
}

/**
 * Removes an agent (Mesos's `__removeSlave`): its offers are rescinded, its tasks end as
 * `removedTaskState` says (a partition-aware framework's tasks on an unreachable agent are kept
 * as unreachable tasks, with the agent's `unreachable_time`), every framework hears `slaveLost`,
 * the operators AGENT_REMOVED.
 */
function _removeAgent(m: Master, agent: AgentRecord, reason: string, removal: Removal): void {
  m.stats.agentsRemoved.inc();
  m.log.warn({ agentId: agent.id, hostname: agent.info.hostname, reason, removal: typeof removal === 'object' ? 'unreachable' : removal }, 'Removing agent');
  agent.pingTimer?.cancel();
  agent.pingTimer = undefined;
  m.unlinkFrom(agent.pid);
  inverseOffers.agentRemoved(m, agent.id);
  for (const offerId of [...agent.offers]) offers.removeOffer(m, offerId, { rescind: true, recover: false });
  for (const task of [...agent.allTasks()]) {
    const framework = m.frameworks.get(task.framework_id.value);
    agent.removeTask(task);
    if (framework === undefined) continue;
    // A partition-aware framework's tasks may come back with an unreachable agent (Mesos keeps
    // them as unreachable tasks, terminal ones waiting for their acknowledgement too); the tasks
    // of an agent removed for good, and of other frameworks, end here.
    const unreachable = typeof removal === 'object' && framework.partitionAware;
    if (!isTerminalTask(task)) endRemovedTask(m, framework, task, removal, `Agent ${agent.info.hostname} removed: ${reason}`);
    if (unreachable) framework.unreachableTask(task);
    else framework.completeTask(task);
  }
  for (const framework of m.frameworks.values()) framework.executors.delete(agent.id);
  agentLost(m, agent.id);
  m.toAllocator(ALLOCATOR_REMOVE_AGENT, { agent_id: agent.id } satisfies AgentRef);
  m.agents.delete(agent.id);
  // A new agent may have registered at its address while its removal was being written.
  if (m.agentsByPid.get(String(agent.pid)) === agent.id) m.agentsByPid.delete(String(agent.pid));
  m.removedAgents.add(agent.id);
  // Removed for good, it drains no more (the registry's drain info of it is dropped at the next
  // recovery); unreachable, it drains when it comes back.
  if (typeof removal !== 'object') m.drainInfos.delete(agent.id);
  // Unreachable or gone for good alike, as Mesos's `__removeSlave`.
  if (m.operatorSubscribers.size > 0) operatorEvents.agentRemoved(m, agent.id);
}

/** What Mesos's master tells an agent marked gone (`ShutdownMessage`), and its tasks' frameworks. */
export const AGENT_MARKED_GONE = 'Agent has been marked gone';

/**
 * Whether the operator may mark `agentId` gone now (Mesos's `Http::_markAgentGone`): one this
 * master has registered, recovered from the registry or marked unreachable, with no registry
 * write of it in flight. `'gone'` when it is gone already, `'unknown'` when the master does not
 * know it, the write in flight otherwise (the operator may try again).
 */
export function markGoneProblem(m: Master, agentId: string): 'gone' | 'unknown' | 'reregistering' | 'markingUnreachable' | 'removing' | undefined {
  if (m.goneAgents.has(agentId)) return 'gone';
  const transition = m.agentsInTransition.get(agentId);
  if (transition !== undefined) return transition;
  if (!m.agents.has(agentId) && !m.recoveredAgents.has(agentId) && !m.unreachableAgents.has(agentId)) return 'unknown';
  return undefined;
}

/**
 * The operator marks an agent gone for good (MARK_AGENT_GONE; Mesos's `MarkSlaveGone`, then
 * `Master::markGone`), after `markGoneProblem` found none. Once the registry has it gone:
 *
 * - a registered agent is told to shut down (`ShutdownMessage`: it kills its tasks and forgets
 *   its id) and removed as any agent, its tasks TASK_GONE_BY_OPERATOR to partition-aware
 *   frameworks and TASK_LOST to the others (`removedTaskState`), its offers rescinded and its
 *   resources out of the allocator; frameworks hear `slaveLost`, operators AGENT_REMOVED;
 * - an unreachable one's tasks, kept for partition-aware frameworks, end the same way and are
 *   completed (it was removed, and `slaveLost` said, when it became unreachable);
 * - a recovered one is forgotten: nobody reported its tasks to this master.
 *
 * It is refused if it re-registers (`reregisterAgent`). Resolves once done; rejects if the
 * registry write failed (the master then gives the lead up, as `registrar` says).
 */
export function markGone(m: Master, agentId: string): Promise<void> {
  const agent = m.agents.get(agentId);
  // Mesos's registry lists a gone agent by id only; the info is kept when this master has it.
  const info = agent?.info ?? m.recoveredAgents.get(agentId) ?? { hostname: '' };
  const goneTime = m.now();
  // A removal for good: the agent's other transitions wait for it, as for `removeAgent`.
  m.agentsInTransition.set(agentId, 'removing');
  const write = m.options.registry.update({ info: { ...info, id: { value: agentId } }, state: 'gone', time: goneTime });
  return m.applied(write, () => {
    m.agentsInTransition.delete(agentId);
    _markGone(m, agentId, goneTime);
  });
}

function _markGone(m: Master, agentId: string, goneTime: number): void {
  m.goneAgents.set(agentId, goneTime);
  // It never comes back; the registry's deactivation and drain info of it are dropped at the
  // next recovery.
  m.deactivatedAgents.delete(agentId);
  m.drainInfos.delete(agentId);
  const agent = m.agents.get(agentId);
  if (agent !== undefined) {
    m.send(agent.pid, SHUTDOWN_SLAVE, { message: AGENT_MARKED_GONE } satisfies ShutdownSlave);
    _removeAgent(m, agent, AGENT_MARKED_GONE, 'gone');
    return;
  }
  m.log.warn({ agentId, unreachable: m.unreachableAgents.has(agentId), recovered: m.recoveredAgents.has(agentId) }, 'Marked agent gone');
  if (m.unreachableAgents.delete(agentId)) {
    for (const framework of m.frameworks.values()) {
      for (const task of [...framework.unreachableTasks.values()]) {
        if (task.agent_id.value !== agentId) continue;
        if (!isTerminalTask(task)) endRemovedTask(m, framework, task, 'gone', AGENT_MARKED_GONE);
        framework.unreachableTasks.delete(task.task_id.value);
        framework.completedTasks.push(task);
      }
    }
  }
  m.agentRecovered(agentId);
}

/**
 * The operator deactivates (DEACTIVATE_AGENT) or reactivates (REACTIVATE_AGENT) an agent, as
 * Mesos's `Master::deactivate` and `reactivate` after `DeactivateAgent` / `ReactivateAgent`:
 * once the registry has it, a deactivated agent is inactive (`active: false`) and the allocator
 * stops offering it, its outstanding offers rescinded (their resources back to the allocator),
 * its tasks untouched; a reactivated one is offered again if it is connected. Deactivation
 * outlives a disconnection, a re-registration and a failover (`reconnectAgent`, `admit`).
 * DRAIN_AGENT deactivates too (`drain.ts`). Operators hear AGENT_UPDATED. Resolves once done;
 * rejects if the registry write failed (the master then gives the lead up).
 */
export function setDeactivated(m: Master, agentId: string, deactivated: boolean): Promise<void> {
  m.log.info({ agentId }, deactivated ? 'Deactivating agent' : 'Reactivating agent');
  const write = m.options.registry.updateDeactivated(agentId, deactivated);
  return m.applied(write, () => {
    if (deactivated) deactivate(m, agentId);
    else reactivate(m, agentId);
    drain.publishUpdated(m, agentId);
  });
}

/** The agent's deactivation is in the registry: it gets no offers, its outstanding ones rescinded. */
export function deactivate(m: Master, agentId: string): void {
  m.deactivatedAgents.add(agentId);
  const agent = m.agents.get(agentId);
  // A disconnected agent is inactive in the allocator already, and has no offers.
  if (agent === undefined || !agent.active) return;
  agent.active = false;
  m.toAllocator(ALLOCATOR_DEACTIVATE_AGENT, { agent_id: agentId } satisfies AgentRef);
  for (const offerId of [...agent.offers]) offers.removeOffer(m, offerId, { rescind: true, recover: true });
}

/** The registry no longer has the agent deactivated: it is offered again if connected. */
export function reactivate(m: Master, agentId: string): void {
  m.deactivatedAgents.delete(agentId);
  const agent = m.agents.get(agentId);
  if (agent === undefined || agent.active || !agent.connected) return;
  agent.active = true;
  m.toAllocator(ALLOCATOR_ACTIVATE_AGENT, { agent_id: agentId } satisfies AgentRef);
}

/** `ExitedExecutorMessage`: the framework hears `executorLost`; the executor's resources return. */
export function exitedExecutor(m: Master, from: UPID, body: ExitedExecutor): void {
  m.stats.exitedExecutor.inc();
  const agent = m.agents.get(body.slave_id.value);
  if (agent === undefined || !agent.pid.equals(from)) {
    m.log.warn({ from: String(from), agentId: body.slave_id.value }, 'Ignoring executor exit from an unknown agent');
    return;
  }
  const fid = body.framework_id.value;
  const eid = body.executor_id.value;
  const executor = agent.executors.get(fid)?.get(eid);
  agent.removeExecutor(fid, eid);
  const framework = m.frameworks.get(fid);
  framework?.removeExecutor(agent.id, eid);
  if (executor !== undefined && (executor.resources ?? []).length > 0) offers.recover(m, fid, agent.id, executor.resources ?? []);
  if (framework !== undefined) {
    m.log.info({ frameworkId: fid, executorId: eid, agentId: agent.id, status: body.status }, 'Executor exited');
    m.sendEvent(framework, { type: 'FAILURE', failure: { agent_id: body.slave_id, executor_id: body.executor_id, status: body.status } });
  }
}
