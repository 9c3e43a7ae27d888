import { encodeRecord } from '../../src/http/recordio.ts';
import { streaming } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import type { Task } from '../../src/mesos/protocol.ts';
import type { AgentInfo, FrameworkInfo, TaskState, TaskStatus } from '../../src/mesos/v1/common.ts';
import { encodeBody } from '../../src/transport/codec.ts';
import { StreamingHttpConnection } from './http-connection.ts';
import type { Master } from './master-process.ts';
import { agentResponse, frameworkResponse, getState } from './operator-api.ts';
import { drainInfoField } from './drain.ts';
import type { DrainInfo } from './registry.ts';
import type { AgentRecord, FrameworkRecord } from './state.ts';
import { viewApprovers, type ViewApprovers } from './view-approvers.ts';

/**
 * The operator API's event stream, `POST /api/v1` `{"type": "SUBSCRIBE"}`, as Mesos's
 * `Master::Http::subscribe` and `Master::Subscribers`:
 *
 * 1. SUBSCRIBE answers `200` and keeps the response open as a RecordIO stream of JSON
 *    `mesos.v1.master.Event`s: first SUBSCRIBED (the GET_STATE answer and
 *    `heartbeat_interval_seconds`), then a HEARTBEAT every interval of the master's Clock (the
 *    first one interval after SUBSCRIBED, as Mesos's subscriber heartbeater waits), and the
 *    events below as the master's books change.
 * 2. The events, built by the hooks here, each called by the master's handlers only behind
 *    `m.operatorSubscribers.size > 0` (so that a master nobody watches builds nothing):
 *    TASK_ADDED (a task launched), TASK_UPDATED (a task's state changed: a status update, its
 *    agent removed or unreachable, its framework removed), AGENT_ADDED (an agent registered, or
 *    re-registered unknown to this master), AGENT_UPDATED (the operator deactivated,
 *    reactivated or drained it, or it drained: Mesos 1.9's), AGENT_REMOVED (removed, for good or unreachable),
 *    FRAMEWORK_ADDED, FRAMEWORK_UPDATED (subscribed again, UPDATE_FRAMEWORK), FRAMEWORK_REMOVED.
 * 3. Subscribers: a client that closes its stream is forgotten; at most
 *    `--max_operator_event_stream_subscribers` at once, a new one closing the oldest stream (as
 *    Mesos's bounded map of subscribers evicts it); every stream ends when the master stops or
 *    loses the lead.
 *
 * 4. With `--acls`, each subscriber sees what its principal may view (`view-approvers.ts`), as
 *    Mesos filters events per subscriber: SUBSCRIBED's state as GET_STATE answers it; TASK_ADDED
 *    and TASK_UPDATED only of a task and framework it may view (`view_tasks`,
 *    `view_frameworks`); FRAMEWORK_ADDED, FRAMEWORK_UPDATED and FRAMEWORK_REMOVED only of a
 *    framework it may view; AGENT_ADDED without the resources reserved to roles it may not view
 *    (`view_roles`). Without ACLs every event is written as JSON once for all subscribers.
 */

/** A SUBSCRIBE-d operator: its stream of `mesos.v1.master.Event`s. */
export type OperatorSubscriber = StreamingHttpConnection<MasterEvent>;

/** What each subscriber may view, by the principal it subscribed as (only with `--acls`). */
const subscriberApprovers = new WeakMap<OperatorSubscriber, ViewApprovers>();

type AgentResponse = ReturnType<typeof agentResponse>;
type FrameworkResponse = ReturnType<typeof frameworkResponse>;

/** `mesos.v1.master.Event`, the types this master sends, in v1 JSON. */
export type MasterEvent =
  | { type: 'SUBSCRIBED'; subscribed: { get_state: ReturnType<typeof getState>; heartbeat_interval_seconds: number } }
  | { type: 'TASK_ADDED'; task_added: { task: Task } }
  | { type: 'TASK_UPDATED'; task_updated: { framework_id: { value: string }; status: TaskStatus; state: TaskState } }
  | { type: 'AGENT_ADDED'; agent_added: { agent: AgentResponse } }
  | { type: 'AGENT_UPDATED'; agent_updated: { agent_id: NonNullable<AgentInfo['id']>; deactivated: boolean; drain_info?: DrainInfo } }
  | { type: 'AGENT_REMOVED'; agent_removed: { agent_id: NonNullable<AgentInfo['id']> } }
  | { type: 'FRAMEWORK_ADDED'; framework_added: { framework: FrameworkResponse } }
  | { type: 'FRAMEWORK_UPDATED'; framework_updated: { framework: FrameworkResponse } }
  | { type: 'FRAMEWORK_REMOVED'; framework_removed: { framework_info: FrameworkInfo } }
  | { type: 'HEARTBEAT' };

/**
 * SUBSCRIBE, once the request passed the operator API's checks (leader, method, media types,
 * a valid call): the stream opens with SUBSCRIBED. Runs in the master's mailbox, so no event
 * can come between the state SUBSCRIBED shows and the first event after it.
 */
export function subscribe(m: Master, request: HttpRequest): HttpResponse {
  const subscribers = m.operatorSubscribers;
  const max = m.options.maxOperatorEventStreamSubscribers;
  while (subscribers.size >= max) {
    const oldest = subscribers.values().next().value as OperatorSubscriber;
    m.log.info({ streamId: oldest.streamId, max }, 'Closing the oldest operator event stream: --max_operator_event_stream_subscribers reached');
    subscribers.delete(oldest);
    oldest.close();
  }
  const subscriber: OperatorSubscriber = new StreamingHttpConnection<MasterEvent>(m, request.raw.res, {
    onDropped: () => {
      if (subscribers.delete(subscriber)) m.log.info({ streamId: subscriber.streamId }, 'Operator event stream closed by its client; removed the subscriber');
    },
  });
  if (subscriber.closed) return streaming();
  const approvers = viewApprovers(m, request.principal);
  if (approvers !== undefined) subscriberApprovers.set(subscriber, approvers);
  subscribers.add(subscriber);
  m.log.info({ remote: request.remote, streamId: subscriber.streamId, subscribers: subscribers.size }, 'Added an operator event stream subscriber');
  const intervalSeconds = m.options.heartbeatIntervalSeconds;
  subscriber.send({ type: 'SUBSCRIBED', subscribed: { get_state: getState(m, approvers), heartbeat_interval_seconds: intervalSeconds } });
  if (intervalSeconds > 0) subscriber.heartbeat({ type: 'HEARTBEAT' }, intervalSeconds * 1000);
  return streaming();
}

/**
 * Writes `event` to every subscriber, its JSON written once; with `--acls`, to those whose
 * approvers `viewable` lets see it (every subscriber when it is not given).
 */
function publish(m: Master, event: MasterEvent, viewable?: (approvers: ViewApprovers) => boolean): void {
  const record = encodeRecord(encodeBody(event));
  const filter = m.options.authorizer === undefined ? undefined : viewable;
  for (const subscriber of m.operatorSubscribers) {
    const approvers = filter === undefined ? undefined : subscriberApprovers.get(subscriber);
    if (approvers === undefined || filter?.(approvers) === true) subscriber.write(record);
  }
}

/** The framework of `task`, subscribed or completed (it may be being removed). */
function frameworkOf(m: Master, task: Task): FrameworkRecord | undefined {
  const id = task.framework_id.value;
  return m.frameworks.get(id) ?? m.completedFrameworks.find((f) => f.id === id);
}

/** Whether `approvers` may view `task` and its framework (Mesos's TASK_ADDED and TASK_UPDATED filter). */
function viewableTask(m: Master, task: Task): (approvers: ViewApprovers) => boolean {
  return (approvers) => {
    const framework = frameworkOf(m, task);
    return framework !== undefined && approvers.framework(framework.info) && approvers.task(framework, task);
  };
}

// ---------------------------------------------------------------------------------------------
// The hooks, as Mesos's `protobuf::master::event::create*`. Callers check
// `m.operatorSubscribers.size > 0` first.

/** TASK_ADDED: the master launched `task` (its v1 `Task`, as GET_TASKS lists it). */
export function taskAdded(m: Master, task: Task): void {
  publish(m, { type: 'TASK_ADDED', task_added: { task } }, viewableTask(m, task));
}

/**
 * TASK_UPDATED: `task` changed state (to `task.state`), by `status` (the update the master
 * applied or made up). Mesos sends it only when the state changes, not for every update.
 */
export function taskUpdated(m: Master, task: Task, status: TaskStatus): void {
  publish(m, { type: 'TASK_UPDATED', task_updated: { framework_id: task.framework_id, status, state: task.state } }, viewableTask(m, task));
}

/** AGENT_ADDED: the agent as GET_AGENTS shows it (to each subscriber, with `--acls`). */
export function agentAdded(m: Master, agent: AgentRecord): void {
  if (m.options.authorizer === undefined) {
    publish(m, { type: 'AGENT_ADDED', agent_added: { agent: agentResponse(m, agent) } });
    return;
  }
  for (const subscriber of m.operatorSubscribers) {
    subscriber.send({ type: 'AGENT_ADDED', agent_added: { agent: agentResponse(m, agent, subscriberApprovers.get(subscriber)) } });
  }
}

/**
 * AGENT_UPDATED (Mesos 1.9): the agent's deactivation or drain info changed (DEACTIVATE_AGENT,
 * REACTIVATE_AGENT, DRAIN_AGENT, drained), as GET_AGENTS would show them now.
 */
export function agentUpdated(m: Master, agentId: string): void {
  publish(m, { type: 'AGENT_UPDATED', agent_updated: { agent_id: { value: agentId }, deactivated: m.deactivatedAgents.has(agentId), ...drainInfoField(m, agentId) } });
}

/** AGENT_REMOVED: removed for good, or marked unreachable (Mesos sends the same event for both). */
export function agentRemoved(m: Master, agentId: string): void {
  publish(m, { type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: agentId } } });
}

/** FRAMEWORK_ADDED: the framework as GET_FRAMEWORKS shows it. */
export function frameworkAdded(m: Master, framework: FrameworkRecord): void {
  publish(m, { type: 'FRAMEWORK_ADDED', framework_added: { framework: frameworkResponse(m, framework) } }, (a) => a.framework(framework.info));
}

/** FRAMEWORK_UPDATED: the framework as GET_FRAMEWORKS shows it now. */
export function frameworkUpdated(m: Master, framework: FrameworkRecord): void {
  publish(m, { type: 'FRAMEWORK_UPDATED', framework_updated: { framework: frameworkResponse(m, framework) } }, (a) => a.framework(framework.info));
}

/** FRAMEWORK_REMOVED: its `FrameworkInfo` only, as Mesos's. */
export function frameworkRemoved(m: Master, framework: FrameworkRecord): void {
  publish(m, { type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: framework.info } }, (a) => a.framework(framework.info));
}
