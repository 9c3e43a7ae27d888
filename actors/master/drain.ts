import { DRAIN_SLAVE, type DrainConfig, type DrainSlave } from '../../src/mesos/protocol.ts';
import * as agents from './agents.ts';
import type { Master } from './master-process.ts';
import * as operatorEvents from './operator-events.ts';
import type { DrainInfo } from './registry.ts';
import type { AgentRecord } from './state.ts';

/**
 * Automatic agent draining, the master's side of Mesos 1.9's DRAIN_AGENT (Mesos's
 * `Master::Http::drainAgent`, `Master::checkAndTransitionDrainingAgent`; docs/maintenance.md
 * "Automatic Node Draining"):
 *
 * 1. DRAIN_AGENT (`drain`): the registry first gets the agent's drain info (`DRAINING`, with
 *    the operator's `DrainConfig`) and its deactivation; then the agent is deactivated as
 *    DEACTIVATE_AGENT does (no offers, its outstanding ones rescinded) and, if connected, told
 *    to drain (`DrainSlaveMessage`: it kills its tasks, within `max_grace_period` if given).
 *    Draining an agent again replaces its config, and it is `DRAINING` again.
 * 2. A draining agent that re-registers, with this master or with a new leader that recovered
 *    its drain info from the registry, is told to drain again (`reregistered`).
 * 3. DRAINED (`checkDrained`): once this master lists none of a draining agent's tasks (each
 *    terminal and its terminal update acknowledged), the registry gets `DRAINED`; with
 *    `mark_gone` the agent is then marked gone, as MARK_AGENT_GONE does (`agents.markGone`).
 *    Checked when draining starts (an agent without tasks drains at once), after each task
 *    removal on a draining agent (`tasks.removeTask`, `frameworks.removeFramework`) and when
 *    one re-registers.
 * 4. REACTIVATE_AGENT of a drained agent (`reactivateDrained`): its drain info and its
 *    deactivation leave the registry, then it is offered again. A draining one cannot be
 *    reactivated (`operator-api.ts` answers `400`), as Mesos's draining cannot be cancelled.
 *
 * Operators see the drain info in GET_AGENTS, GET_STATE and `/master/state` (`drain_info`), and
 * SUBSCRIBE-d ones get AGENT_UPDATED when it changes. An agent removed for good or marked gone
 * drops its drain info (`agents.ts`); an unreachable one keeps it, and drains when it is back.
 */

/**
 * DRAIN_AGENT, once `operator-api.ts` has checked the call: resolves once the registry has the
 * drain info and the deactivation and the master has acted on them; rejects if the registry
 * write failed (the master then gives the lead up, as `Master.registrar` says).
 */
export function drain(m: Master, agentId: string, config: DrainConfig): Promise<void> {
  const drainInfo: DrainInfo = { state: 'DRAINING', config };
  m.log.info({ agentId, config }, 'Draining agent');
  const registry = m.options.registry;
  const write = both(registry.updateDrain(agentId, drainInfo), registry.updateDeactivated(agentId, true));
  return m.applied(write, () => {
    // Marked gone while the write was in flight: there is nothing left to drain.
    if (m.goneAgents.has(agentId)) return;
    m.drainInfos.set(agentId, drainInfo);
    agents.deactivate(m, agentId);
    const agent = m.agents.get(agentId);
    if (agent?.connected === true) sendDrain(m, agent, config);
    publishUpdated(m, agentId);
    checkDrained(m, agentId);
  });
}

/**
 * A draining agent (re-)registered (Mesos's `___reregisterSlave`): it is told to drain again,
 * after its registration's answer (its tasks may have ended meanwhile, or a new leader
 * recovered the drain info), and drained if none of its tasks is left.
 */
export function reregistered(m: Master, agent: AgentRecord): void {
  const drainInfo = m.drainInfos.get(agent.id);
  if (drainInfo?.state !== 'DRAINING') return;
  m.log.info({ agentId: agent.id }, 'Telling the re-registered draining agent to drain');
  sendDrain(m, agent, drainInfo.config);
  checkDrained(m, agent.id);
}

/**
 * Whether a draining agent is drained, as Mesos's `checkAndTransitionDrainingAgent`: it is
 * registered here (a recovered or unreachable agent's tasks are not known yet), no registry
 * write of it is in flight, and none of its tasks is left (terminal ones stay until their
 * terminal update is acknowledged; launches are synchronous here, so none is pending). Then
 * `DRAINED` is written to the registry, logged `Agent drained`, and, with `mark_gone`, the agent
 * is marked gone.
 */
export function checkDrained(m: Master, agentId: string): void {
  const drainInfo = m.drainInfos.get(agentId);
  if (drainInfo?.state !== 'DRAINING' || m.markingDrained.has(agentId)) return;
  const agent = m.agents.get(agentId);
  if (agent === undefined || agent.tasks.size > 0 || m.agentsInTransition.has(agentId)) return;
  const drained: DrainInfo = { state: 'DRAINED', config: drainInfo.config };
  m.markingDrained.add(agentId);
  m.registrar(m.options.registry.updateDrain(agentId, drained), () => {
    m.markingDrained.delete(agentId);
    // Drained again with another config meanwhile (its write comes after this one), or gone.
    if (m.drainInfos.get(agentId) !== drainInfo) return;
    m.drainInfos.set(agentId, drained);
    m.log.info({ agentId }, 'Agent drained');
    publishUpdated(m, agentId);
    if (drained.config.mark_gone === true) markDrainedGone(m, agentId);
  });
}

/**
 * REACTIVATE_AGENT of a drained agent (Mesos's `ReactivateAgent`, which clears `drain_info`
 * with `deactivated`): resolves once the registry has neither and the agent is offered again
 * if connected; rejects if the registry write failed.
 */
export function reactivateDrained(m: Master, agentId: string): Promise<void> {
  m.log.info({ agentId }, 'Reactivating drained agent');
  const registry = m.options.registry;
  const write = both(registry.updateDrain(agentId, undefined), registry.updateDeactivated(agentId, false));
  return m.applied(write, () => {
    m.drainInfos.delete(agentId);
    agents.reactivate(m, agentId);
    publishUpdated(m, agentId);
  });
}

/** `drain_info` of GET_AGENTS's `Agent` and of `/master/state`'s slaves: present when the agent is draining or drained. */
export function drainInfoField(m: Master, agentId: string): { drain_info?: DrainInfo } {
  const drainInfo = m.drainInfos.get(agentId);
  return drainInfo === undefined ? {} : { drain_info: drainInfo };
}

/** AGENT_UPDATED to the SUBSCRIBE-d operators, if any. */
export function publishUpdated(m: Master, agentId: string): void {
  if (m.operatorSubscribers.size > 0) operatorEvents.agentUpdated(m, agentId);
}

function sendDrain(m: Master, agent: AgentRecord, config: DrainConfig): void {
  m.send(agent.pid, DRAIN_SLAVE, { config } satisfies DrainSlave);
}

/** `mark_gone`: as MARK_AGENT_GONE, unless the agent is gone already or another registry write of it is in flight. */
function markDrainedGone(m: Master, agentId: string): void {
  const problem = agents.markGoneProblem(m, agentId);
  if (problem !== undefined) {
    m.log.warn({ agentId, problem }, 'Not marking the drained agent as gone');
    return;
  }
  m.log.info({ agentId }, 'Marking drained agent as gone');
  // Nobody waits for it: a write that fails gives the lead up (`Master.applied`).
  agents.markGone(m, agentId).catch(() => undefined);
}

/** Two registry writes as one: done when both are (at once when both were). */
function both(a: Promise<void> | void, b: Promise<void> | void): Promise<void> | void {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Promise.all([a, b]).then(() => undefined);
}
