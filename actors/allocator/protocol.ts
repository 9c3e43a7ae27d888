import type { Resource } from '../../src/mesos/v1/common.ts';

/**
 * Messages between the master and its allocator (Mesos calls the allocator through `dispatch`;
 * here it is an actor of its own, normally in the master's runtime). Resources travel in the v1
 * JSON form. Frameworks and agents are named by their id strings.
 */

/** master → allocator. */
export const ALLOCATOR_ADD_FRAMEWORK = 'Allocator.AddFramework';
export interface AddFramework {
  readonly framework_id: string;
  readonly roles: string[];
  readonly suppressed_roles?: string[];
  readonly active: boolean;
  /**
   * What the framework already uses, per agent (after master failover, re-subscription).
   * `role`: the role it is allocated to; default the framework's first role.
   */
  readonly used?: { agent_id: string; resources: Resource[]; role?: string }[];
  /**
   * Its `FrameworkInfo.capabilities` types (`GPU_RESOURCES`, ...): without `GPU_RESOURCES` it is
   * not offered agents with GPUs, as in Mesos. Absent: not known, nothing withheld.
   */
  readonly capabilities?: string[];
}

export const ALLOCATOR_REMOVE_FRAMEWORK = 'Allocator.RemoveFramework';
export const ALLOCATOR_ACTIVATE_FRAMEWORK = 'Allocator.ActivateFramework';
export const ALLOCATOR_DEACTIVATE_FRAMEWORK = 'Allocator.DeactivateFramework';
export interface FrameworkRef {
  readonly framework_id: string;
}

export const ALLOCATOR_UPDATE_FRAMEWORK = 'Allocator.UpdateFramework';
export interface UpdateFramework {
  readonly framework_id: string;
  readonly roles: string[];
  readonly suppressed_roles?: string[];
  /** As in `AddFramework`; absent: unchanged. */
  readonly capabilities?: string[];
}

export const ALLOCATOR_ADD_AGENT = 'Allocator.AddAgent';
export interface AddAgent {
  readonly agent_id: string;
  readonly total: Resource[];
  /**
   * Resources already used on it, per framework (re-registration after failover). `role`: the
   * role they are allocated to; default the framework's first role. Used by a framework the
   * allocator does not know yet counts as allocated, and reaches the sorters when the framework
   * is added with the same resources in its `used`.
   */
  readonly used?: { framework_id: string; resources: Resource[]; role?: string }[];
}

export const ALLOCATOR_REMOVE_AGENT = 'Allocator.RemoveAgent';
export const ALLOCATOR_ACTIVATE_AGENT = 'Allocator.ActivateAgent';
export const ALLOCATOR_DEACTIVATE_AGENT = 'Allocator.DeactivateAgent';
export interface AgentRef {
  readonly agent_id: string;
}

export const ALLOCATOR_UPDATE_AGENT = 'Allocator.UpdateAgent';
export interface UpdateAgent {
  readonly agent_id: string;
  readonly total: Resource[];
}

/**
 * Resources come back to the allocator: an offer declined (with `refuse_seconds`, which installs
 * a filter), rescinded or unused, or a task's resources freed. No filter when `refuse_seconds` is
 * absent or 0. The allocator offers the agent again soon after, except after an explicit
 * `refuse_seconds: 0`, which waits for the next batch cycle (a framework declining without a
 * filter is not re-offered the same resources at message speed).
 */
export const ALLOCATOR_RECOVER_RESOURCES = 'Allocator.RecoverResources';
export interface RecoverResources {
  readonly framework_id: string;
  readonly agent_id: string;
  readonly resources: Resource[];
  readonly refuse_seconds?: number;
}

/** One resource conversion (`src/mesos/resource-conversions.ts`) as it travels: `consumed` becomes `converted`. */
export interface ConversionJSON {
  readonly consumed: Resource[];
  readonly converted: Resource[];
}

/**
 * Offer operations (RESERVE, UNRESERVE in an ACCEPT) converted resources the framework holds
 * on the agent (Mesos's `updateAllocation`): in its allocation and in the agent's total. `role`:
 * the role the converted resources are allocated to; default the one that held the consumed.
 */
export const ALLOCATOR_UPDATE_ALLOCATION = 'Allocator.UpdateAllocation';
export interface UpdateAllocation {
  readonly framework_id: string;
  readonly agent_id: string;
  readonly conversions: (ConversionJSON & { readonly role?: string })[];
}

/**
 * The operator converts free resources of an agent (RESERVE_RESOURCES, `/master/reserve`;
 * Mesos's `updateAvailable`): applied, in order, only if the agent's available resources hold
 * them. The allocator answers `ALLOCATOR_UPDATE_AVAILABLE_RESULT` with the same `request_id`.
 */
export const ALLOCATOR_UPDATE_AVAILABLE = 'Allocator.UpdateAvailable';
export interface UpdateAvailable {
  readonly request_id: string;
  readonly agent_id: string;
  readonly conversions: ConversionJSON[];
}

/** allocator → master: `UpdateAvailable` applied (no `error`), or why not (nothing changed). */
export const ALLOCATOR_UPDATE_AVAILABLE_RESULT = 'Allocator.UpdateAvailableResult';
export interface UpdateAvailableResult {
  readonly request_id: string;
  readonly error?: string;
}

export const ALLOCATOR_SUPPRESS = 'Allocator.SuppressOffers';
export const ALLOCATOR_REVIVE = 'Allocator.ReviveOffers';
export interface RolesRef {
  readonly framework_id: string;
  /** Empty or absent: all of the framework's roles. */
  readonly roles?: string[];
}

export const ALLOCATOR_UPDATE_WEIGHTS = 'Allocator.UpdateWeights';
export interface UpdateWeights {
  readonly weights: { role: string; weight: number }[];
}

export const ALLOCATOR_SET_QUOTA = 'Allocator.SetQuota';
export interface SetQuota {
  readonly role: string;
  readonly guarantee: Resource[];
  /** Quota limits, quantities by resource name; absent or empty: none. */
  readonly limits?: Record<string, number>;
}

export const ALLOCATOR_REMOVE_QUOTA = 'Allocator.RemoveQuota';
export interface RemoveQuota {
  readonly role: string;
}

/** master → allocator: stop (`PAUSED`) or restart allocation cycles (Mesos `pause`/`resume`). */
export const ALLOCATOR_PAUSE = 'Allocator.Pause';
export const ALLOCATOR_RESUME = 'Allocator.Resume';

/**
 * allocator → master: the offers of one allocation cycle, batched. The allocated resources
 * count as used until they come back with `ALLOCATOR_RECOVER_RESOURCES`.
 */
export const ALLOCATOR_OFFERS = 'Allocator.Offers';
export interface Offers {
  readonly offers: { framework_id: string; role: string; agent_id: string; resources: Resource[] }[];
}
