import type { AgentID, FrameworkID, TaskID } from '../../src/mesos/v1/common.ts';
import type { StatusUpdate } from '../../src/mesos/protocol.ts';

/**
 * Messages between an agent and its StatusUpdateManager. Both run in the agent's runtime, so
 * bodies are trusted (no validators); they are still plain data.
 *
 * The agent hands every status update to the manager, which checkpoints it, then answers
 * `UPDATED` (the agent then acknowledges the executor), and delivers it to the master reliably:
 * one update in flight per task stream, resent from `STATUS_UPDATE_RETRY_INTERVAL_MIN_MS`
 * doubling to `..._MAX_MS` until the master's acknowledgement comes back through the agent.
 */

/** agent → manager: a new update for a task's stream. */
export const SUM_UPDATE = 'StatusUpdateManager.Update';
export interface SumUpdate {
  readonly update: StatusUpdate;
  /** Write the stream to disk before answering (the framework asked for checkpointing). */
  readonly checkpoint: boolean;
}

/** manager → agent: the update is accepted (and checkpointed if asked), or refused with `error`. */
export const SUM_UPDATED = 'StatusUpdateManager.Updated';
export interface SumUpdated {
  readonly framework_id: FrameworkID;
  readonly task_id: TaskID;
  readonly uuid: string;
  readonly error?: string;
}

/** agent → manager: the master acknowledged an update (forwarded `StatusUpdateAcknowledgementMessage`). */
export const SUM_ACKNOWLEDGEMENT = 'StatusUpdateManager.Acknowledgement';
export interface SumAcknowledgement {
  readonly framework_id: FrameworkID;
  readonly task_id: TaskID;
  readonly uuid: string;
}

/**
 * manager → agent: an acknowledgement was applied. `terminal` is true when it acknowledged the
 * stream's terminal update: the task is done and its resources can be freed (as in Mesos, only
 * then). Duplicate and stale acknowledgements produce no answer.
 */
export const SUM_ACKNOWLEDGED = 'StatusUpdateManager.Acknowledged';
export interface SumAcknowledged {
  readonly framework_id: FrameworkID;
  readonly task_id: TaskID;
  readonly uuid: string;
  readonly terminal: boolean;
}

/**
 * agent → manager: the master to deliver to, or `null` while there is none (the manager pauses:
 * no sends, no retries). A new master gets every stream's pending update at once.
 */
export const SUM_MASTER = 'StatusUpdateManager.Master';
export interface SumMaster {
  readonly master: string | null;
  /** The agent's UPID, put in `StatusUpdateMessage.pid` so the master acknowledges to the agent. */
  readonly agent: string;
  readonly agent_id: AgentID;
}

/** agent → manager: reload checkpointed streams for this agent id; answered by `SUM_RECOVERED`. */
export const SUM_RECOVER = 'StatusUpdateManager.Recover';
export interface SumRecover {
  readonly agent_id: AgentID;
}

/** manager → agent: recovery done; `pending` lists streams with unacknowledged updates. */
export const SUM_RECOVERED = 'StatusUpdateManager.Recovered';
export interface SumRecovered {
  readonly streams: { framework_id: FrameworkID; task_id: TaskID; pending: number; terminal: boolean; latest?: StatusUpdate }[];
  readonly error?: string;
}

/** agent → manager: forget every stream of a framework (it was shut down); no answer. */
export const SUM_CLEANUP = 'StatusUpdateManager.Cleanup';
export interface SumCleanup {
  readonly framework_id: FrameworkID;
}
