/**
 * Named durations of the allocator, shared by its code and its tests (Apache Mesos defaults).
 */

/** How often the allocator runs a batch allocation over every agent (`--allocation_interval`). */
export const ALLOCATION_INTERVAL_MS = 1000;

/** How long a declined offer's resources are filtered when the framework gives no `refuse_seconds`. */
export const DEFAULT_REFUSE_SECONDS = 5;

/** The longest decline filter; larger `refuse_seconds` are cut to this, as Mesos does. */
export const MAX_REFUSE_SECONDS = 365 * 24 * 60 * 60;

/**
 * `--min_allocatable_resources`: an offer must hold at least one of these sets of quantities
 * (`|` between sets, `;` within one), or it is not made. Mesos's default: a hundredth of a CPU
 * or 32 MB of memory.
 */
export const DEFAULT_MIN_ALLOCATABLE_RESOURCES = 'cpus:0.01|mem:32';
