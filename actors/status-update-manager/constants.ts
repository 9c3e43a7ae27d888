/**
 * Named durations and limits of the status update manager, Apache Mesos's defaults
 * (`src/slave/constants.hpp`). Code and tests share them.
 */

/** The first resend of an unacknowledged update waits this long (Mesos `STATUS_UPDATE_RETRY_INTERVAL_MIN`: 10 s). */
export const STATUS_UPDATE_RETRY_INTERVAL_MIN_MS = 10_000;

/** Resends back off by doubling up to this (Mesos `STATUS_UPDATE_RETRY_INTERVAL_MAX`: 10 min). */
export const STATUS_UPDATE_RETRY_INTERVAL_MAX_MS = 600_000;

/**
 * Closed streams (terminal update acknowledged) whose update uuids are remembered, so that an
 * executor resending an update the framework already acknowledged gets its ack without the
 * update travelling again. Oldest forgotten first.
 */
export const CLOSED_STREAMS_REMEMBERED = 1_000;

/** The file of one task's stream, under `<work_dir>/meta/agents/<agent_id>/frameworks/<framework_id>/tasks/<task_id>/`. */
export const TASK_UPDATES_FILE = 'task.updates';
