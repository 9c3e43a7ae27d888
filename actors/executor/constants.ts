/**
 * Named durations of the executor driver and the command executor, shared by their code and
 * their tests (Apache Mesos's defaults where Mesos has one).
 */

/** First wait before the driver sends `RegisterExecutorMessage` again (Mesos's command executor retries every second). */
export const EXECUTOR_REGISTRATION_RETRY_INTERVAL_MIN_MS = 1_000;

/** The longest wait between two registration attempts; the wait doubles up to it. */
export const EXECUTOR_REGISTRATION_RETRY_INTERVAL_MAX_MS = 60_000;

/**
 * How long a disconnected executor of a checkpointing framework waits for its agent to come back
 * (`ReconnectExecutorMessage`) before it shuts down (Mesos's `--recovery_timeout`, 15 minutes).
 */
export const DEFAULT_RECOVERY_TIMEOUT_MS = 15 * 60 * 1_000;

/**
 * How long an executor has between `ShutdownExecutorMessage` (or the loss of its agent) and its
 * forced exit (Mesos's `DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD`, 5 seconds).
 */
export const DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS = 5_000;

/**
 * Time between SIGTERM and SIGKILL when a task is killed and neither the kill nor the task gives a
 * `kill_policy.grace_period` (Mesos's command executor: 3 seconds, kept for compatibility).
 */
export const DEFAULT_KILL_GRACE_PERIOD_MS = 3_000;

/**
 * What the command executor keeps of the shutdown grace period for itself when it kills its task
 * on shutdown, so that `TASK_KILLED` reaches the agent before the agent destroys the container
 * (Mesos leaves `MAX_REAP_INTERVAL` + 1 s).
 */
export const SHUTDOWN_KILL_BUFFER_MS = 2_000;

/**
 * How long the command executor waits for the acknowledgement of its terminal update before it
 * stops anyway (Mesos's HTTP command executor: 60 seconds).
 */
export const TERMINAL_ACKNOWLEDGEMENT_TIMEOUT_MS = 60_000;
