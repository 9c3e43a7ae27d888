/**
 * Decline filters (Mesos's `RefusedOfferFilter`): after a framework declines resources on an
 * agent with `refuse_seconds`, the allocator does not offer it a subset of those resources on
 * that agent again until the filter expires. Offering more than was refused (another task
 * finished there) is not filtered, as in Mesos.
 *
 * Filters are kept per role, then agent, as Mesos's `Framework::offerFilters[role][agent]`:
 * declining an offer made for one role filters nothing for the framework's other roles, and a
 * revive of some roles drops only their filters.
 *
 * Time is passed in: a filter installed at `now` with `refuse_seconds = s` filters while
 * `now' < now + s * 1000` and is gone from `now + s * 1000` on.
 */

import type { Resources } from '../../src/mesos/resources.ts';
import { DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS } from './constants.ts';

/** What a framework asks for when it declines: `Filters.refuse_seconds` of v1, at time `now` (ms). */
export interface RefuseFilter {
  /** The current time in ms, from the runtime clock. */
  readonly now: number;
  /** How long to refuse, in seconds; defaults to `DEFAULT_REFUSE_SECONDS`; `0` installs no filter. */
  readonly refuseSeconds?: number | undefined;
}

interface Filter {
  readonly role: string;
  readonly resources: Resources;
  readonly expiresAt: number;
}

/**
 * How long a decline filter lasts, in ms, following Mesos: a negative or non-numeric
 * `refuse_seconds` means the default, more than a year means a year, `0` means no filter.
 */
export function refuseDurationMs(refuseSeconds: number | undefined): number {
  let seconds = refuseSeconds ?? DEFAULT_REFUSE_SECONDS;
  if (!(seconds >= 0)) seconds = DEFAULT_REFUSE_SECONDS;
  if (seconds > MAX_REFUSE_SECONDS) seconds = MAX_REFUSE_SECONDS;
  return Math.round(seconds * 1000);
}

/**
 * The decline filters of one framework, by agent, each for one role. Kept by agent rather than
 * by role then agent (Mesos's layout) so that the check a cycle makes for every framework and
 * agent is one map look-up; a framework rarely has filters for more than one role on an agent.
 */
export class OfferFilters {
  readonly #byAgent = new Map<string, Filter[]>();

  /**
   * Installs a filter for `role` on `agentId`; returns whether one was installed (not for a
   * zero duration).
   */
  add(role: string, agentId: string, resources: Resources, filter: RefuseFilter): boolean {
    const duration = refuseDurationMs(filter.refuseSeconds);
    if (duration <= 0 || resources.isEmpty()) return false;
    const list = this.#byAgent.get(agentId);
    const entry = { role, resources, expiresAt: filter.now + duration };
    if (list === undefined) this.#byAgent.set(agentId, [entry]);
    else list.push(entry);
    return true;
  }

  /** Whether offering `resources` on `agentId` for `role` at `now` is filtered; drops expired filters. */
  filters(role: string, agentId: string, resources: Resources, now: number): boolean {
    if (this.#byAgent.size === 0) return false;
    const list = this.#byAgent.get(agentId);
    if (list === undefined) return false;
    let filtered = false;
    let live = 0;
    for (const f of list) {
      if (f.expiresAt <= now) continue;
      list[live++] = f;
      if (!filtered && f.role === role && (f.resources === resources || f.resources.contains(resources))) filtered = true;
    }
    if (live === list.length) return filtered;
    list.length = live;
    if (live === 0) this.#byAgent.delete(agentId);
    return filtered;
  }

  /** Drops the filters for one agent, in every role (it was removed). */
  clearAgent(agentId: string): void {
    this.#byAgent.delete(agentId);
  }

  /** Drops the filters of some roles (revived, or left), or every filter (deactivated). */
  clear(roles?: Iterable<string>): void {
    if (roles === undefined || this.#byAgent.size === 0) {
      this.#byAgent.clear();
      return;
    }
    const drop = new Set(roles);
    for (const [agentId, list] of this.#byAgent) {
      const kept = list.filter((f) => !drop.has(f.role));
      if (kept.length === 0) this.#byAgent.delete(agentId);
      else if (kept.length !== list.length) this.#byAgent.set(agentId, kept);
    }
  }

  /** How many agents have filters, expired ones included until next looked at. */
  get agentCount(): number {
    return this.#byAgent.size;
  }
}
