/**
 * A tiny cluster simulation for allocator tests: frameworks that launch as many tasks of a
 * fixed size as fit into each offer and decline the rest with a filter. Tasks never finish, so
 * an agent's free resources only shrink, and the run converges.
 */

import { HierarchicalAllocation, type Offer } from '../../actors/allocator/hierarchical.ts';
import { Resources } from '../../src/mesos/resources.ts';

export interface SimFramework {
  readonly id: string;
  readonly role: string;
  /** The resources of one task. */
  readonly task: Resources;
}

export interface SimResult {
  /** Tasks launched, by framework. */
  readonly tasks: Map<string, number>;
  /** Tasks launched, by framework, then agent. */
  readonly placements: Map<string, Map<string, number>>;
  /** Every offer that launched tasks, in order. */
  readonly grants: readonly Grant[];
  /** How many allocation cycles ran. */
  readonly cycles: number;
}

/** An offer that launched `launched` tasks of `frameworkId` on `agentId`. */
export interface Grant {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly launched: number;
  readonly now: number;
}

/** Launches as many `task`s as fit in `offer`; returns how many, and what is left. */
export function launchAsManyAsFit(offer: Resources, task: Resources): { launched: number; rest: Resources } {
  let rest = offer;
  let launched = 0;
  while (!task.isEmpty() && rest.contains(task)) {
    rest = rest.minus(task);
    launched++;
  }
  return { launched, rest };
}

/**
 * Runs offer -> launch as many as fit -> decline the rest (with `refuseSeconds`) until nothing
 * launches for longer than the filters last. `perAgent` allocates one agent at a time and lets
 * frameworks answer before the next, so no offer is outstanding when the sorters order clients.
 */
export function simulate(
  allocation: HierarchicalAllocation,
  frameworks: readonly SimFramework[],
  agentIds: readonly string[],
  options: { refuseSeconds?: number; perAgent?: boolean; maxCycles?: number } = {},
): SimResult {
  const refuseSeconds = options.refuseSeconds ?? 5;
  const byId = new Map(frameworks.map((f) => [f.id, f]));
  const tasks = new Map(frameworks.map((f) => [f.id, 0]));
  const placements = new Map(frameworks.map((f) => [f.id, new Map<string, number>()]));
  const grants: Grant[] = [];
  const answer = (offers: readonly Offer[], now: number): number => {
    let launched = 0;
    for (const offer of offers) {
      const f = byId.get(offer.frameworkId)!;
      const result = launchAsManyAsFit(offer.resources, f.task);
      launched += result.launched;
      tasks.set(f.id, tasks.get(f.id)! + result.launched);
      const perAgent = placements.get(f.id)!;
      perAgent.set(offer.agentId, (perAgent.get(offer.agentId) ?? 0) + result.launched);
      if (result.launched > 0) grants.push({ frameworkId: f.id, agentId: offer.agentId, launched: result.launched, now });
      allocation.recoverResources(f.id, offer.agentId, result.rest, { now, refuseSeconds });
    }
    return launched;
  };
  let idleSince = 0;
  let cycles = 0;
  const maxCycles = options.maxCycles ?? 1000;
  for (let now = 0; cycles < maxCycles; now += 1000) {
    cycles++;
    let launched = 0;
    if (options.perAgent === true) {
      for (const agentId of agentIds) launched += answer(allocation.allocate(now, [agentId]), now);
    } else {
      launched += answer(allocation.allocate(now), now);
    }
    if (launched > 0) idleSince = now;
    else if (now - idleSince > (refuseSeconds + 2) * 1000) break;
  }
  return { tasks, placements, grants, cycles };
}
