/** The scheduler driver's named durations, Apache Mesos's defaults. */

/** `--registration_backoff_factor` of the Mesos scheduler driver: the first retry within 2 s. */
export const REGISTRATION_BACKOFF_FACTOR_MS = 2_000;

/** Subscription retries back off exponentially up to this (Mesos: 1 minute). */
export const REGISTRATION_RETRY_INTERVAL_MAX_MS = 60_000;

/**
 * A framework with a `failover_timeout` also backs off at most this fraction of it, so that a
 * scheduler retries several times before the master gives its framework up (Mesos's
 * `doReliableRegistration`: a tenth).
 */
export const REGISTRATION_RETRY_FAILOVER_TIMEOUT_FRACTION = 1 / 10;

/**
 * A driver connected over HTTP counts the master lost when no event (a HEARTBEAT at least)
 * came for this many `heartbeat_interval_seconds` (the master sends one every 15 s), as an agent
 * counts its master lost after 5 missed pings.
 */
export const MISSED_HEARTBEATS_MAX = 5;

/** `heartbeat_interval_seconds` when SUBSCRIBED does not say (Mesos's `DEFAULT_HEARTBEAT_INTERVAL`). */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 15;

/**
 * With implicit acknowledgements, how many delivered status updates (task id and uuid) the driver
 * remembers, so that one the agent resends (its acknowledgement lost on the way) is acknowledged
 * again without reaching the scheduler twice.
 */
export const DELIVERED_MEMORY = 10_000;

/**
 * How many offers answered while a SUBSCRIBE of the driver's was still unanswered the driver
 * remembers, so that the master's answer to it, which sends the offers outstanding then again,
 * does not give the scheduler an offer it already declined or accepted. Past that many answers
 * within one such window the earliest are forgotten, and one of those could come again.
 */
export const ANSWERED_MEMORY = 4_096;
