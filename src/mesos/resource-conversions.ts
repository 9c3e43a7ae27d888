/**
 * Dynamic reservations and persistent volumes as resource conversions, after Mesos's
 * `ResourceConversion` and `common/resources_utils.cpp`, shared by the master (offer operations,
 * operator calls) and the agent (its checkpointed resources):
 * 1. RESERVE converts resources to the same resources with one more reservation level (pushed);
 *    UNRESERVE converts dynamically reserved resources to the same with their last level popped.
 *    CREATE converts reserved disk to persistent volumes of it; DESTROY turns volumes back into
 *    the reserved disk they were made of (`volumeConversions`).
 * 2. Conversions apply in order to a bag of resources; each needs its `consumed` part present.
 * 3. What an agent checkpoints (Mesos's `needCheckpointing`) is its dynamically reserved
 *    resources and its persistent volumes; applied to its `--resources` they give its total
 *    (`applyCheckpointedResources`).
 *
 * Pure functions over `Resources`; a failure is a string saying why, in Mesos's words where it
 * has them (`<total> does not contain <consumed>`).
 */

import { Resources } from './resources.ts';
import { makeEntry, type ResourceEntry } from './resource-values.ts';

/** Resources that become others: what an operation takes (`consumed`) and what it leaves (`converted`). */
export interface ResourceConversion {
  readonly consumed: Resources;
  readonly converted: Resources;
}

/** Whether an entry's last (innermost) reservation is DYNAMIC: made by an operation, so checkpointed. */
export function isDynamicallyReserved(entry: ResourceEntry): boolean {
  return entry.reservations[entry.reservations.length - 1]?.type === 'DYNAMIC';
}

/** Whether an agent checkpoints an entry (Mesos's `needCheckpointing`): dynamically reserved, or a persistent volume. */
export function needsCheckpointing(entry: ResourceEntry): boolean {
  return isDynamicallyReserved(entry) || entry.disk !== undefined;
}

/**
 * The same resources with the last reservation level of each entry removed (Mesos's
 * `popReservation`): what UNRESERVE gives back, and what RESERVE takes. Unreserved entries stay.
 *
 * @example
 * popReservation(Resources.parse('cpus(reservations: [(DYNAMIC,web)]):2')).toString(); // 'cpus:2'
 */
export function popReservation(resources: Resources): Resources {
  return Resources.fromEntries(
    resources.entries().map((e) => (e.reservations.length === 0 ? e : makeEntry(e.name, e.reservations.slice(0, -1), e.value, e.disk))),
  );
}

/** The dynamically reserved part of `resources` and its persistent volumes: what an agent checkpoints. */
export function checkpointedPart(resources: Resources): Resources {
  const entries = resources.entries().filter(needsCheckpointing);
  return entries.length === resources.size ? resources : Resources.fromEntries(entries);
}

/**
 * `resources` after each conversion in turn (Mesos's `Resources::apply`), or why not: a
 * conversion whose `consumed` is not all there.
 */
export function applyConversions(resources: Resources, conversions: readonly ResourceConversion[]): Resources | string {
  let result = resources;
  for (const { consumed, converted } of conversions) {
    if (!result.contains(consumed)) return `${describe(result)} does not contain ${describe(consumed)}`;
    result = result.minus(consumed).plus(converted);
  }
  return result;
}

/**
 * CREATE's conversion of `volumes` (the reserved disk they are made of becomes them), or
 * DESTROY's (they become that disk again).
 */
export function volumeConversion(type: 'CREATE' | 'DESTROY', volumes: Resources): ResourceConversion {
  const disk = volumes.withoutVolumes();
  return type === 'CREATE' ? { consumed: disk, converted: volumes } : { consumed: volumes, converted: disk };
}

/**
 * An agent's total: its `--resources` with its checkpointed resources (dynamically reserved, or
 * persistent volumes) applied (Mesos's `applyCheckpointedResources`): each checkpointed
 * resource takes its place among the resources it was made from, those with its dynamic levels
 * and its volume removed (unreserved, or statically reserved). Why not, when a checkpointed
 * resource is neither, or the flag resources do not hold it.
 */
export function applyCheckpointedResources(flagResources: Resources, checkpointed: Resources): Resources | string {
  let total = flagResources;
  for (const entry of checkpointed.entries()) {
    const one = Resources.fromEntries([entry]);
    if (!needsCheckpointing(entry)) return `Unexpected checkpointed resources ${describe(one)}: they are neither dynamically reserved nor a persistent volume`;
    const stripped = Resources.fromEntries([makeEntry(entry.name, entry.reservations.filter((r) => r.type === 'STATIC'), entry.value)]);
    if (!total.contains(stripped)) return `Incompatible agent resources: ${describe(total)} does not contain ${describe(stripped)}`;
    total = total.minus(stripped).plus(one);
  }
  return total;
}

/** Resources in the text form, `{}` when there are none (as Mesos prints an empty `Resources`). */
export function describe(resources: Resources): string {
  return resources.isEmpty() ? '{}' : `'${resources.toString()}'`;
}
