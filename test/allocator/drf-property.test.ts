/**
 * The DRF invariant of the allocation policy, as a property.
 *
 * Setting: frameworks with one task size each launch as many tasks as fit into every offer and
 * decline the rest with a filter; tasks never finish; the allocator is run one agent at a time
 * (as Mesos does when an agent's resources change), so no offer is outstanding when it sorts.
 *
 * Statement, about the converged state. Let `share(f)` be f's weighted dominant share at the
 * end and `step(f)` that of one task of f. Let j's last grant be the offer, on agent `a`, from
 * which j launched its last `m` tasks, and `free(a)` what agent a has left at the end. For
 * frameworks i != j:
 *
 *     share(i) < share(j) - m * step(j)   implies   task(i) does not fit in free(a) + m * task(j).
 *
 * Why it holds for DRF: when a's free resources F went to j in that grant, j's share was
 * exactly share(j) - m * step(j) and i's at most share(i) (shares only grow), so i sorted
 * first. i was passed over only because it was filtered on a: it had declined some D
 * containing F in which task(i) did not fit. And F contains free(a) + m * task(j), since an
 * agent only fills up. A sorter that does not serve the smallest share first breaks the
 * statement, which the last test shows.
 */

import test from 'ava';
import fc from 'fast-check';

import { HierarchicalAllocation } from '../../actors/allocator/hierarchical.ts';
import { DRFSorter } from '../../actors/allocator/sorter/drf.ts';
import type { SorterFactory } from '../../actors/allocator/sorter/sorter.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { FlatSorter, levelByLevel, type ModelClient } from './level-by-level.ts';
import { simulate, type SimFramework } from './simulation.ts';

interface Scenario {
  readonly agents: readonly { cpus: number; mem: number }[];
  readonly frameworks: readonly { cpus: number; mem: number; weight: number }[];
  /** One shared role (framework-level DRF), or a role per framework with weights (role-level DRF). */
  readonly rolePerFramework: boolean;
  readonly refuseSeconds: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  agents: fc.array(fc.record({ cpus: fc.integer({ min: 1, max: 8 }), mem: fc.integer({ min: 1, max: 16 }) }), {
    minLength: 1,
    maxLength: 6,
  }),
  frameworks: fc.array(
    fc.record({
      cpus: fc.integer({ min: 1, max: 4 }),
      mem: fc.integer({ min: 1, max: 8 }),
      weight: fc.constantFrom(1, 2, 3),
    }),
    { minLength: 2, maxLength: 5 },
  ),
  rolePerFramework: fc.boolean(),
  refuseSeconds: fc.constantFrom(1, 5),
});

/** Runs the scenario; returns the first violation of the statement, or `undefined`. */
function violation(s: Scenario, sorter?: SorterFactory): string | undefined {
  const allocation = new HierarchicalAllocation(sorter === undefined ? {} : { roleSorter: sorter, frameworkSorter: sorter });
  const agentIds = s.agents.map((_, i) => `agent${i}`);
  s.agents.forEach((a, i) => allocation.addAgent(agentIds[i]!, Resources.parse(`cpus:${a.cpus};mem:${a.mem}`)));
  const frameworks: SimFramework[] = s.frameworks.map((f, i) => ({
    id: `f${i}`,
    role: s.rolePerFramework ? `role${i}` : 'shared',
    task: Resources.parse(`cpus:${f.cpus};mem:${f.mem}`),
  }));
  if (s.rolePerFramework) allocation.updateWeights(s.frameworks.map((f, i) => [`role${i}`, f.weight] as const));
  for (const f of frameworks) allocation.addFramework(f.id, { roles: [f.role] });

  const { placements, grants } = simulate(allocation, frameworks, agentIds, { perAgent: true, refuseSeconds: s.refuseSeconds });

  const totalCpus = s.agents.reduce((n, a) => n + a.cpus, 0);
  const totalMem = s.agents.reduce((n, a) => n + a.mem, 0);
  const weight = (i: number): number => (s.rolePerFramework ? s.frameworks[i]!.weight : 1);
  const step = (i: number): number => Math.max(s.frameworks[i]!.cpus / totalCpus, s.frameworks[i]!.mem / totalMem) / weight(i);
  const count = (i: number): number => [...placements.get(`f${i}`)!.values()].reduce((n, k) => n + k, 0);
  const share = (i: number): number => count(i) * step(i);
  const free = s.agents.map((a, k) => {
    let cpus = a.cpus;
    let mem = a.mem;
    s.frameworks.forEach((f, i) => {
      const n = placements.get(`f${i}`)!.get(agentIds[k]!) ?? 0;
      cpus -= n * f.cpus;
      mem -= n * f.mem;
    });
    return { cpus, mem };
  });
  if (free.some((f) => f.cpus < 0 || f.mem < 0)) return `an agent is overcommitted: ${JSON.stringify(free)}`;

  for (let j = 0; j < s.frameworks.length; j++) {
    const last = grants.findLast((g) => g.frameworkId === `f${j}`);
    if (last === undefined) continue;
    const k = agentIds.indexOf(last.agentId);
    const m = last.launched;
    const tj = s.frameworks[j]!;
    for (let i = 0; i < s.frameworks.length; i++) {
      if (i === j || !(share(i) + 1e-9 < share(j) - m * step(j))) continue;
      const ti = s.frameworks[i]!;
      if (ti.cpus <= free[k]!.cpus + m * tj.cpus && ti.mem <= free[k]!.mem + m * tj.mem) {
        return (
          `f${i} (share ${share(i).toFixed(3)}) could have used agent${k}, ` +
          `whose last ${m} task(s) went to f${j} (share ${share(j).toFixed(3)})`
        );
      }
    }
  }
  return undefined;
}

test('DRF property - no framework with a smaller share could have used what a larger share got', (t) => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const problem = violation(s);
      if (problem !== undefined) throw new Error(problem);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('DRF property - fails for sorters that do not serve the smallest share first', (t) => {
  class NameOrder extends DRFSorter {
    override view(): readonly string[] {
      return [...super.view()].sort();
    }
  }
  class LargestShareFirst extends DRFSorter {
    override view(): readonly string[] {
      return [...super.view()].reverse();
    }
  }
  for (const wrong of [NameOrder, LargestShareFirst]) {
    const result = fc.check(
      fc.property(scenarioArb, (s) => violation(s, (totals) => new wrong(totals)) === undefined),
      { numRuns: 200, seed: 1 },
    );
    t.true(result.failed, `${wrong.name} should break the DRF property`);
  }
});

// ---------------------------------------------------------------------------------------------
// Nested roles: the role order is level by level (Mesos 1.5+ hierarchical DRF).

interface NestedScenario {
  readonly agents: readonly { cpus: number; mem: number }[];
  readonly frameworks: readonly string[];
  readonly weights: readonly (readonly [string, number])[];
  /** Agent indexes to offer one at a time (`offer`), or whose holder gives it back (`recover`). */
  readonly steps: readonly { kind: 'offer' | 'recover'; agent: number }[];
}

const NESTED_ROLES = ['a', 'a/b', 'a/c', 'a/b/d', 'e', 'e/f', 'g/h'];
const nestedArb: fc.Arbitrary<NestedScenario> = fc.record({
  agents: fc.array(fc.record({ cpus: fc.integer({ min: 1, max: 8 }), mem: fc.integer({ min: 1, max: 16 }) }), { minLength: 2, maxLength: 8 }),
  frameworks: fc.array(fc.constantFrom(...NESTED_ROLES), { minLength: 2, maxLength: 7 }),
  weights: fc.array(fc.tuple(fc.constantFrom('a', 'a/b', 'e', 'e/f', 'g', 'g/h'), fc.constantFrom(0.5, 1, 2, 3)), { maxLength: 3 }),
  steps: fc.array(fc.record({ kind: fc.constantFrom('offer' as const, 'offer' as const, 'recover' as const), agent: fc.nat(7) }), { maxLength: 40 }),
});

/** Runs the scenario; returns the first offer that differs from the level-by-level pick, or `undefined`. */
function nestedViolation(s: NestedScenario, roleSorter?: SorterFactory): string | undefined {
  const allocation = new HierarchicalAllocation(roleSorter === undefined ? {} : { roleSorter });
  const agents = s.agents.map((a, i) => ({ id: `agent${i}`, cpus: a.cpus * 1000, mem: a.mem * 1000 }));
  for (const a of agents) allocation.addAgent(a.id, Resources.parse(`cpus:${a.cpus / 1000};mem:${a.mem / 1000}`));
  allocation.updateWeights(s.weights);
  const frameworks = s.frameworks.map((role, i) => ({ id: `f${i}`, role }));
  for (const f of frameworks) allocation.addFramework(f.id, { roles: [f.role] });
  const totals = new Map([
    ['cpus', agents.reduce((n, a) => n + a.cpus, 0)],
    ['mem', agents.reduce((n, a) => n + a.mem, 0)],
  ]);
  const weights = new Map(s.weights);
  /** Which framework holds each agent (whole agents only: every offer is a whole agent). */
  const holder = new Map<string, string>();
  const held = (ids: (id: string) => boolean): Map<string, number> => {
    const out = new Map([
      ['cpus', 0],
      ['mem', 0],
    ]);
    for (const a of agents) {
      const f = holder.get(a.id);
      if (f === undefined || !ids(f)) continue;
      out.set('cpus', out.get('cpus')! + a.cpus);
      out.set('mem', out.get('mem')! + a.mem);
    }
    return out;
  };
  const dominant = (alloc: Map<string, number>): number => Math.max(...[...totals].map(([name, total]) => alloc.get(name)! / total));

  for (const step of s.steps) {
    const agent = agents[step.agent % agents.length]!;
    const current = holder.get(agent.id);
    if (step.kind === 'recover') {
      if (current === undefined) continue;
      allocation.recoverResources(current, agent.id, allocation.agent(agent.id)!.allocated);
      holder.delete(agent.id);
      continue;
    }
    if (current !== undefined) continue;
    // Level by level over the roles, then DRF among the role's frameworks, ties by id.
    const roles = new Map<string, ModelClient>();
    for (const f of frameworks) roles.set(f.role, { alloc: held((id) => frameworks.find((g) => g.id === id)!.role === f.role), active: true });
    const role = levelByLevel(roles, weights, totals)[0]!;
    const candidates = frameworks.filter((f) => f.role === role).map((f) => ({ id: f.id, share: dominant(held((id) => id === f.id)) }));
    candidates.sort((x, y) => x.share - y.share || (x.id < y.id ? -1 : 1));
    const expected = `${candidates[0]!.id}/${role}`;
    const offers = allocation.allocate(0, [agent.id]);
    const actual = offers.map((o) => `${o.frameworkId}/${o.role}`).join(',');
    if (actual !== expected) return `${agent.id} went to ${actual || 'nobody'}; level by level picks ${expected}`;
    holder.set(agent.id, offers[0]!.frameworkId);
  }
  return undefined;
}

test('DRF property - with nested roles, each agent goes where a level-by-level computation says', (t) => {
  fc.assert(
    fc.property(nestedArb, (s) => {
      const problem = nestedViolation(s);
      if (problem !== undefined) throw new Error(problem);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('DRF property - with nested roles, fails for a flat role sorter', (t) => {
  const result = fc.check(
    fc.property(nestedArb, (s) => nestedViolation(s, (totals) => new FlatSorter(totals)) === undefined),
    { numRuns: 200, seed: 1 },
  );
  t.true(result.failed, 'a flat role sorter should break the nested property');
});
