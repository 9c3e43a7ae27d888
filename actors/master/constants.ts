/**
 * The master's named durations and limits, Apache Mesos's defaults. Code and tests share them.
 */

/** `--agent_ping_timeout`: how long the master waits for a `PongSlaveMessage` (Mesos: 15 s). */
export const AGENT_PING_TIMEOUT_MS = 15_000;

/** `--max_agent_ping_timeouts`: missed pongs before the agent is removed (Mesos: 5). */
export const MAX_AGENT_PING_TIMEOUTS = 5;

/** `--agent_reregister_timeout`: how long a recovering master waits for agents (Mesos: 10 min). */
export const AGENT_REREGISTER_TIMEOUT_MS = 10 * 60_000;

/** Scheduler API heartbeat interval (`SUBSCRIBED.heartbeat_interval_seconds`; Mesos: 15 s). */
export const HEARTBEAT_INTERVAL_SECONDS = 15;

/**
 * `--max_operator_event_stream_subscribers`: operator API SUBSCRIBE streams open at once; a new
 * one beyond it closes the oldest (Mesos: 1000).
 */
export const MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS = 1000;

/** `--max_completed_frameworks` (Mesos: 50). */
export const MAX_COMPLETED_FRAMEWORKS = 50;

/** `--max_completed_tasks_per_framework` (Mesos: 1000). */
export const MAX_COMPLETED_TASKS_PER_FRAMEWORK = 1000;

/** Tasks kept per framework while their agent is unreachable (Mesos's `--max_unreachable_tasks_per_framework` default; not a flag here). */
export const MAX_UNREACHABLE_TASKS_PER_FRAMEWORK = 1000;

/** Removed agents the master remembers (Mesos's `MAX_REMOVED_SLAVES`), the oldest forgotten first. */
export const MAX_REMOVED_AGENTS = 100_000;

/**
 * Unreachable agents the master remembers (Mesos's `--registry_max_agent_count` default,
 * 100 × 1024; not a flag here), the earliest marked forgotten first.
 */
export const MAX_UNREACHABLE_AGENTS = 100 * 1024;

/** The version this master reports (`/version`, `MasterInfo.version`): the Mesos API it speaks. */
export const MESOS_VERSION = '1.11.0';

/**
 * Offers per OFFERS event. Mesos sends one event per allocation; here a large cycle is split so
 * that no event outgrows the bus (nats-server's default `max_payload` is 1 MB; an offer is
 * about 500 bytes of JSON).
 */
export const MAX_OFFERS_PER_EVENT = 500;
