/**
 * The agent's named durations and limits, Apache Mesos's defaults (`src/slave/constants.hpp`
 * and `src/slave/flags.cpp`). Code and tests share them.
 */

/** `--registration_backoff_factor`: the first (re-)registration waits a random [0, this] (Mesos: 1 s). */
export const DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS = 1_000;

/** The cap on the registration backoff, which doubles per attempt (Mesos `REGISTER_RETRY_INTERVAL_MAX`: 1 min). */
export const REGISTER_RETRY_INTERVAL_MAX_MS = 60_000;

/** `--executor_registration_timeout`: an executor that has not registered by then is destroyed (Mesos: 1 min). */
export const EXECUTOR_REGISTRATION_TIMEOUT_MS = 60_000;

/**
 * `--executor_reregistration_timeout`: how long a recovering agent waits for the executors that
 * survived its restart to re-register; those that have not are destroyed (Mesos: 2 s).
 */
export const EXECUTOR_REREGISTRATION_TIMEOUT_MS = 2_000;

/** The longest `--executor_reregistration_timeout` Mesos accepts (`MAX_EXECUTOR_REREGISTRATION_TIMEOUT`: 15 mins). */
export const MAX_EXECUTOR_REREGISTRATION_TIMEOUT_MS = 15 * 60_000;

/**
 * How often the agent looks whether an executor that survived its restart (so is no longer its
 * child, and no exit event will come) still runs, as Mesos's reaper polls processes that are not
 * its children.
 */
export const REAP_INTERVAL_MS = 250;

/** `--executor_shutdown_grace_period`: between `ShutdownExecutorMessage` and destroying the container (Mesos: 5 s). */
export const EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS = 5_000;

/**
 * An agent leaving for good (SIGUSR1, the master's `ShutdownMessage`) terminates once its
 * executors are gone; should one's end never be seen, it terminates this long after the longest
 * shutdown grace period anyway (a destroyed container's exit is seen within `REAP_INTERVAL_MS`).
 */
export const SHUTDOWN_MARGIN_MS = 2_000;

/**
 * How long the agent waits for a `PingSlaveMessage` before it considers the master lost, when the
 * master did not say (`SlaveRegisteredMessage.connection.total_ping_timeout_seconds`). Mesos:
 * `DEFAULT_MASTER_PING_TIMEOUT` = `agent_ping_timeout` 15 s × `max_agent_ping_timeouts` 5.
 */
export const DEFAULT_MASTER_PING_TIMEOUT_MS = 15_000 * 5;

/**
 * The resources of an `Agent` made in code without any (a fixed, modest machine). `mesos-ts agent`
 * detects what `--resources` does not name, as Mesos's agent does (`detectResources`).
 */
export const DEFAULT_RESOURCES = 'cpus:4;mem:8192;disk:10240;ports:[31000-32000]';

/** Completed frameworks the agent remembers for `/state` (Mesos `MAX_COMPLETED_FRAMEWORKS`). */
export const MAX_COMPLETED_FRAMEWORKS = 50;

/** Completed executors remembered per framework (Mesos `MAX_COMPLETED_EXECUTORS_PER_FRAMEWORK`). */
export const MAX_COMPLETED_EXECUTORS_PER_FRAMEWORK = 150;

/** Completed tasks remembered per executor (Mesos `MAX_COMPLETED_TASKS_PER_EXECUTOR`). */
export const MAX_COMPLETED_TASKS_PER_EXECUTOR = 200;

/** The Mesos version this agent speaks (`RegisterSlaveMessage.version`, `/state`). */
export const MESOS_VERSION = '1.11.0';

/**
 * How often the agent sends a HEARTBEAT event on an HTTP executor's SUBSCRIBE stream, so that
 * the executor (and any proxy between) sees the connection alive (ours; the master's scheduler
 * streams beat every 15 s).
 */
export const EXECUTOR_HEARTBEAT_INTERVAL_MS = 30_000;

/**
 * `--gc_delay`: how long after the agent is done with an executor's run (or a framework) its
 * sandbox is deleted, at most; disk usage shortens it (`--gc_disk_headroom`). Mesos: 1 week.
 */
export const GC_DELAY_MS = 7 * 24 * 3_600_000;

/**
 * `--gc_disk_headroom`: the fraction of the disk garbage collection keeps free. The longest a
 * sandbox is kept is `gc_delay * max(0, 1 - gc_disk_headroom - disk usage)` (Mesos: 0.1).
 */
export const GC_DISK_HEADROOM = 0.1;

/** `--disk_watch_interval`: how often the agent measures the disk usage of `--work_dir` (Mesos: 1 min). */
export const DISK_WATCH_INTERVAL_MS = 60_000;
