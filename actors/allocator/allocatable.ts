/**
 * Mesos's `--min_allocatable_resources` (`HierarchicalAllocatorProcess::allocatable`): the
 * allocator makes an offer only if it holds at least one of some sets of quantities, so that
 * nobody is offered a sliver no task can use (the last 0.001 CPU of an agent, ports alone).
 *
 * The flag's text: sets separated by `|` (any one suffices), quantities in a set by `;` (all
 * needed), each `name:quantity`. A scalar's quantity is its value; a range's or a set's is how
 * many items it has (`ports:1` is one port). Mesos's default is `cpus:0.01|mem:32`; an empty
 * text makes everything allocatable.
 */

import { InvalidResourceError } from '../../src/errors.ts';
import type { Resources } from '../../src/mesos/resources.ts';
import { DEFAULT_MIN_ALLOCATABLE_RESOURCES } from './constants.ts';

/**
 * One set of quantities: names and thousandths side by side. Flat arrays rather than a `Map`,
 * because a cycle checks every offer it makes, and iterating a `Map` allocates.
 */
export interface Quantities {
  readonly names: readonly string[];
  readonly millis: readonly number[];
}

/**
 * Parses the flag's text. Throws `InvalidResourceError` naming the part.
 *
 * @example
 * const min = parseMinAllocatableResources('cpus:0.01|mem:32');
 * isAllocatable(min, Resources.parse('mem:16')); // false
 */
export function parseMinAllocatableResources(text: string = DEFAULT_MIN_ALLOCATABLE_RESOURCES): readonly Quantities[] {
  if (text.trim() === '') return [];
  return text.split('|').map((set) => {
    const quantities = new Map<string, number>();
    for (const part of set.split(';')) {
      const token = part.trim();
      const colon = token.indexOf(':');
      const name = colon < 0 ? '' : token.slice(0, colon).trim();
      const value = colon < 0 ? Number.NaN : Number(token.slice(colon + 1));
      if (name === '') throw new InvalidResourceError(token, `a minimum allocatable quantity is 'name:quantity'`);
      if (!Number.isFinite(value) || value < 0) throw new InvalidResourceError(token, `quantity must be a non-negative number`);
      quantities.set(name, (quantities.get(name) ?? 0) + Math.round(value * 1000));
    }
    return { names: [...quantities.keys()], millis: [...quantities.values()] };
  });
}

/** Whether `resources` hold at least one of the sets `min` (every resource when `min` is empty). */
export function isAllocatable(min: readonly Quantities[], resources: Resources): boolean {
  if (min.length === 0) return true;
  const scalars = resources.scalarMillis();
  for (let s = 0; s < min.length; s++) {
    const { names, millis } = min[s]!;
    let all = true;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const have = scalars.get(name) ?? itemCount(resources, name) * 1000;
      if (have < millis[i]!) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

/** How many items a range or set resource has (`ports:[31000-31009]` has 10). */
function itemCount(resources: Resources, name: string): number {
  let n = resources.set(name).length;
  for (const r of resources.ranges(name)) n += r.end - r.begin + 1;
  return n;
}
