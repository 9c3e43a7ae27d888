/** The scheduler driver's named durations, Apache Mesos's defaults. */

/** `--registration_backoff_factor` of the Mesos scheduler driver: the first retry within 2 s. */
export const REGISTRATION_BACKOFF_FACTOR_MS = 2_000;

/** Subscription retries back off exponentially up to this (Mesos: 1 minute). */
export const REGISTRATION_RETRY_INTERVAL_MAX_MS = 60_000;
