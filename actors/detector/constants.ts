/**
 * Master discovery's named subjects and durations. Code and tests share them.
 *
 * Subjects have two tokens after the bus prefix (`mesos.leader.info`) so that they can never be
 * a runtime's own subject (`mesos.<node>`: node names hold no dot).
 */

/** The leading master answers requests here with its `LeaderInfo` (JSON). */
export const LEADER_INFO_SUBJECT = 'leader.info';

/** The leading master answers requests here with its `/master/state` (JSON). */
export const LEADER_STATE_SUBJECT = 'leader.state';

/** How long one discovery request waits for the leader's answer. */
export const DETECT_REQUEST_TIMEOUT_MS = 1_000;

/** The first wait between discovery attempts while no master answers; doubles per attempt. */
export const DETECT_RETRY_INITIAL_MS = 100;

/** The longest wait between discovery attempts. */
export const DETECT_RETRY_MAX_MS = 2_000;

/** How long a `leader.state` request waits for the master's own HTTP server. */
export const STATE_FETCH_TIMEOUT_MS = 5_000;

/**
 * The leader's lease (`mesos-ts master --leader_lease`): the TTL of the election bucket, so how
 * long a leader that died holds on. Mesos's `--zk_session_timeout` default.
 */
export const LEADER_LEASE_MS = 10_000;

/** The shortest lease taken: the leader renews it every third, each renewal a bus round trip. */
export const MIN_LEADER_LEASE_MS = 300;

/** The key of the election bucket that holds the leading master's `LeaderInfo`. */
export const LEADER_KEY = 'leader';
