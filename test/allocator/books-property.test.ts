import test from 'ava';
import fc from 'fast-check';

import { HierarchicalAllocation } from '../../actors/allocator/hierarchical.ts';
import { Resources } from '../../src/mesos/resources.ts';

/**
 * The allocator's books against a model (a property): whatever happens to agents (added with
 * and without reservations, removed while frameworks hold resources there, deactivated),
 * frameworks (added, removed, deactivated, suppressed and revived per role, their roles
 * changed while they hold resources), offers (recovered whole or in part, with and without
 * filters), role quotas (guarantees and limits) and weights, and however time passes:
 * - every agent's allocated plus available is its total;
 * - each framework holds, on each agent, exactly what it was offered and has not given back;
 * - an offer goes only to an active framework, for one of its roles it has not suppressed, on an
 *   active agent, fits what the agent had free, and never to a framework whose live decline
 *   filter for that role on that agent covers it (filters are per framework, role and agent,
 *   dropped by a revive of their role, by leaving the role, and by deactivation, as in Mesos);
 * - a cycle takes no role with quota limits past a limit it was within (`quota-limits.ts`), and
 *   the consumption kept incrementally is what computing it afresh gives.
 * The DRF property (`drf-property.test.ts`) checks whom the policy serves first; this one checks
 * the accounting.
 */

type Op =
  | { kind: 'addAgent'; template: number }
  | { kind: 'removeAgent'; agent: number }
  | { kind: 'toggleAgent'; agent: number }
  | { kind: 'addFramework'; roles: number[]; suppressed: number[] }
  | { kind: 'removeFramework'; framework: number }
  | { kind: 'toggleFramework'; framework: number }
  | { kind: 'suppress'; framework: number; role: number | undefined }
  | { kind: 'revive'; framework: number; role: number | undefined }
  | { kind: 'updateRoles'; framework: number; roles: number[] }
  | { kind: 'allocate'; some: boolean }
  | { kind: 'recover'; framework: number; agent: number; whole: boolean; refuse: number | undefined }
  | { kind: 'advance'; ms: number }
  | { kind: 'quota'; role: number; cpus: number | undefined }
  | { kind: 'limit'; role: number; cpus: number | undefined }
  | { kind: 'weight'; role: number; weight: number };

const ROLES = ['r1', 'r2', 'r3'];
const TEMPLATES = ['cpus:4;mem:1024', 'cpus:2;mem:4096;ports:[31000-31009]', 'cpus(r1):2;cpus:2;mem:2048', 'cpus:1;mem:256;disk(r2):100'];
const i = fc.nat(15);
const roleList = fc.uniqueArray(fc.nat(ROLES.length - 1), { minLength: 1, maxLength: 3 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('addAgent' as const), template: fc.nat(TEMPLATES.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeAgent' as const), agent: i }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggleAgent' as const), agent: i }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('addFramework' as const), roles: roleList, suppressed: fc.uniqueArray(fc.nat(ROLES.length - 1), { maxLength: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeFramework' as const), framework: i }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggleFramework' as const), framework: i }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('suppress' as const), framework: i, role: fc.option(fc.nat(ROLES.length - 1), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revive' as const), framework: i, role: fc.option(fc.nat(ROLES.length - 1), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('updateRoles' as const), framework: i, roles: roleList }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('allocate' as const), some: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('recover' as const), framework: i, agent: i, whole: fc.boolean(), refuse: fc.option(fc.constantFrom(0, 1, 5), { nil: undefined }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(200, 1_000, 3_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('quota' as const), role: fc.nat(ROLES.length - 1), cpus: fc.option(fc.constantFrom(1, 3, 8), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('limit' as const), role: fc.nat(ROLES.length - 1), cpus: fc.option(fc.constantFrom(0, 2, 5), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('weight' as const), role: fc.nat(ROLES.length - 1), weight: fc.constantFrom(0.5, 1, 3) }) },
);

interface ModelFramework {
  id: string;
  roles: Set<string>;
  suppressed: Set<string>;
  active: boolean;
  /** What it holds per agent, as offered and not given back. */
  held: Map<string, Resources>;
  /** The roles it was offered resources for per agent, since it last held nothing there. */
  heldRoles: Map<string, Set<string>>;
  /**
   * Live decline filters per agent: role, resources and until when. Only recorded when the
   * recovered resources were held in one role, so that the model knows which role is filtered.
   */
  filters: Map<string, { role: string; resources: Resources; until: number }[]>;
}

interface ModelAgent {
  id: string;
  total: Resources;
  active: boolean;
}

function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length];
}

function dropFilters(f: ModelFramework, which: (role: string) => boolean): void {
  for (const [agentId, list] of f.filters) f.filters.set(agentId, list.filter((x) => !which(x.role)));
}

function run(ops: Op[]): void {
  const allocation = new HierarchicalAllocation();
  const agents: ModelAgent[] = [];
  const frameworks: ModelFramework[] = [];
  let now = 0;
  let agentCount = 0;
  let frameworkCount = 0;
  // Two agents and two frameworks to begin with; the ops add and remove more.
  ops = [{ kind: 'addAgent', template: 0 }, { kind: 'addAgent', template: 2 }, { kind: 'addFramework', roles: [0], suppressed: [] }, { kind: 'addFramework', roles: [0, 1], suppressed: [] }, ...ops];
  const fail = (step: number, o: Op, what: string): never => {
    throw new Error(`step ${step} ${JSON.stringify(o)}: ${what}`);
  };

  for (const [step, o] of ops.entries()) {
    switch (o.kind) {
      case 'addAgent': {
        const agent = { id: `a${++agentCount}`, total: Resources.parse(TEMPLATES[o.template]!), active: true };
        allocation.addAgent(agent.id, agent.total);
        agents.push(agent);
        break;
      }
      case 'removeAgent': {
        const agent = pick(agents, o.agent);
        if (agent === undefined) break;
        allocation.removeAgent(agent.id);
        agents.splice(agents.indexOf(agent), 1);
        for (const f of frameworks) {
          f.held.delete(agent.id);
          f.heldRoles.delete(agent.id);
          f.filters.delete(agent.id);
        }
        break;
      }
      case 'toggleAgent': {
        const agent = pick(agents, o.agent);
        if (agent === undefined) break;
        agent.active = !agent.active;
        if (agent.active) allocation.activateAgent(agent.id);
        else allocation.deactivateAgent(agent.id);
        break;
      }
      case 'addFramework': {
        const roles = new Set(o.roles.map((r) => ROLES[r]!));
        const suppressed = new Set(o.suppressed.map((r) => ROLES[r]!).filter((r) => roles.has(r)));
        const f: ModelFramework = { id: `f${++frameworkCount}`, roles, suppressed, active: true, held: new Map(), heldRoles: new Map(), filters: new Map() };
        allocation.addFramework(f.id, { roles, suppressedRoles: suppressed });
        frameworks.push(f);
        break;
      }
      case 'removeFramework': {
        const f = pick(frameworks, o.framework);
        if (f === undefined) break;
        allocation.removeFramework(f.id);
        frameworks.splice(frameworks.indexOf(f), 1);
        break;
      }
      case 'toggleFramework': {
        const f = pick(frameworks, o.framework);
        if (f === undefined) break;
        f.active = !f.active;
        if (f.active) allocation.activateFramework(f.id);
        else allocation.deactivateFramework(f.id);
        if (!f.active) f.filters.clear();
        break;
      }
      case 'suppress': {
        const f = pick(frameworks, o.framework);
        if (f === undefined) break;
        const roles = o.role === undefined ? [...f.roles] : [ROLES[o.role]!];
        allocation.suppress(f.id, o.role === undefined ? undefined : roles);
        for (const r of roles) if (f.roles.has(r)) f.suppressed.add(r);
        break;
      }
      case 'revive': {
        const f = pick(frameworks, o.framework);
        if (f === undefined) break;
        const roles = o.role === undefined ? [...f.roles] : [ROLES[o.role]!];
        allocation.revive(f.id, o.role === undefined ? undefined : roles);
        for (const r of roles) f.suppressed.delete(r);
        dropFilters(f, (role) => roles.includes(role));
        break;
      }
      case 'updateRoles': {
        const f = pick(frameworks, o.framework);
        if (f === undefined) break;
        f.roles = new Set(o.roles.map((r) => ROLES[r]!));
        f.suppressed = new Set([...f.suppressed].filter((r) => f.roles.has(r)));
        dropFilters(f, (role) => !f.roles.has(role));
        allocation.updateFramework(f.id, { roles: f.roles, suppressedRoles: f.suppressed });
        break;
      }
      case 'allocate': {
        const subset = o.some ? agents.filter((_, n) => n % 2 === 0).map((a) => a.id) : undefined;
        const free = new Map(agents.map((a) => [a.id, allocation.agent(a.id)!.available]));
        const limitedBefore = ROLES.map((role) => allocation.quotaLimits(role));
        for (const offer of allocation.allocate(now, subset)) {
          const f = frameworks.find((x) => x.id === offer.frameworkId);
          const agent = agents.find((x) => x.id === offer.agentId);
          if (f === undefined || agent === undefined) fail(step, o, `an offer to an unknown framework or agent: ${offer.frameworkId} on ${offer.agentId}`);
          if (!f!.active) fail(step, o, `an offer to inactive ${f!.id}`);
          if (!f!.roles.has(offer.role) || f!.suppressed.has(offer.role)) fail(step, o, `an offer to ${f!.id} for role ${offer.role} (roles ${[...f!.roles]}, suppressed ${[...f!.suppressed]})`);
          if (!agent!.active) fail(step, o, `an offer on inactive agent ${agent!.id}`);
          if (subset !== undefined && !subset.includes(agent!.id)) fail(step, o, `an offer on ${agent!.id}, not among the cycle's agents`);
          if (offer.resources.isEmpty()) fail(step, o, 'an empty offer');
          const left = free.get(agent!.id)!;
          if (!left.contains(offer.resources)) fail(step, o, `offered ${offer.resources} on ${agent!.id} with only ${left} free`);
          free.set(agent!.id, left.minus(offer.resources));
          for (const filter of f!.filters.get(agent!.id) ?? []) {
            if (filter.role === offer.role && filter.until > now && filter.resources.contains(offer.resources)) {
              fail(step, o, `offered ${offer.resources} to ${f!.id}/${offer.role} on ${agent!.id} under its filter of ${filter.resources} until ${filter.until}`);
            }
          }
          f!.held.set(agent!.id, (f!.held.get(agent!.id) ?? Resources.EMPTY).plus(offer.resources));
          const heldRoles = f!.heldRoles.get(agent!.id) ?? new Set<string>();
          heldRoles.add(offer.role);
          f!.heldRoles.set(agent!.id, heldRoles);
        }
        for (const [n, before] of limitedBefore.entries()) {
          if (before === undefined) continue;
          const after = allocation.quotaLimits(ROLES[n]!)!.consumed;
          for (const [name, limit] of Object.entries(before.limits)) {
            const most = Math.max(limit, before.consumed[name] ?? 0);
            if ((after[name] ?? 0) > most + 1e-9) fail(step, o, `${ROLES[n]} consumes ${after[name]} ${name} after the cycle, past its limit ${limit} (${before.consumed[name] ?? 0} before)`);
          }
        }
        break;
      }
      case 'recover': {
        const f = pick(frameworks, o.framework);
        const held = f === undefined ? [] : [...f.held].filter(([, r]) => !r.isEmpty());
        const entry = pick(held, o.agent);
        if (f === undefined || entry === undefined) break;
        const [agentId, resources] = entry;
        const part = Resources.parse('cpus:1');
        const back = o.whole || !resources.contains(part) ? resources : part;
        allocation.recoverResources(f.id, agentId, back, o.refuse === undefined ? undefined : { now, refuseSeconds: o.refuse });
        f.held.set(agentId, resources.minus(back));
        const heldRoles = f.heldRoles.get(agentId);
        if (o.refuse !== undefined && o.refuse > 0 && heldRoles?.size === 1) {
          const list = f.filters.get(agentId) ?? [];
          list.push({ role: [...heldRoles][0]!, resources: back, until: now + o.refuse * 1000 });
          f.filters.set(agentId, list);
        }
        if (resources.minus(back).isEmpty()) f.heldRoles.delete(agentId);
        break;
      }
      case 'advance':
        now += o.ms;
        break;
      case 'quota':
        // A guarantee for a role (or none): stage 1 of a cycle serves it first, stage 2 the rest.
        if (o.cpus === undefined) allocation.removeQuota(ROLES[o.role]!);
        else if (o.cpus <= (allocation.quotaLimits(ROLES[o.role]!)?.limits.cpus ?? Infinity)) {
          allocation.setQuota(ROLES[o.role]!, Resources.parse(`cpus:${o.cpus};mem:${o.cpus * 128}`), allocation.quotaLimits(ROLES[o.role]!)?.limits);
        }
        break;
      case 'limit': {
        // Limits for a role (or none), its guarantee kept when it fits.
        const role = ROLES[o.role]!;
        const guarantee = allocation.quota(role) ?? Resources.EMPTY;
        if (o.cpus !== undefined && guarantee.cpus() > o.cpus) break;
        allocation.setQuota(role, guarantee, o.cpus === undefined ? {} : { cpus: o.cpus, disk: 50 });
        break;
      }
      case 'weight':
        allocation.updateWeights({ [ROLES[o.role]!]: o.weight });
        break;
    }

    for (const agent of agents) {
      const books = allocation.agent(agent.id)!;
      if (!books.allocated.plus(books.available).equals(agent.total)) fail(step, o, `${agent.id}: allocated ${books.allocated} + available ${books.available} is not ${agent.total}`);
      let held = Resources.EMPTY;
      for (const f of frameworks) held = held.plus(f.held.get(agent.id) ?? Resources.EMPTY);
      if (!held.equals(books.allocated)) fail(step, o, `${agent.id}: the frameworks hold ${held}, the allocator counts ${books.allocated} allocated`);
    }
    for (const role of ROLES) {
      const kept = allocation.quotaLimits(role);
      if (kept === undefined) continue;
      // Set again, the limits are counted afresh from the books.
      allocation.setQuota(role, allocation.quota(role) ?? Resources.EMPTY, kept.limits);
      const afresh = allocation.quotaLimits(role)!.consumed;
      if (JSON.stringify(Object.entries(kept.consumed).sort()) !== JSON.stringify(Object.entries(afresh).sort())) {
        fail(step, o, `${role} consumes ${JSON.stringify(kept.consumed)} as kept, ${JSON.stringify(afresh)} counted afresh`);
      }
    }
    for (const f of frameworks) {
      const counted = allocation.allocation(f.id);
      for (const agent of agents) {
        const expected = f.held.get(agent.id) ?? Resources.EMPTY;
        const actual = counted.get(agent.id) ?? Resources.EMPTY;
        if (!actual.equals(expected)) fail(step, o, `${f.id} on ${agent.id}: the allocator counts ${actual}, it was offered ${expected} and has not given it back`);
      }
    }
  }
}

test('allocator books - offers fit, go where they may, and every resource is counted once (property)', (t) => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 5, maxLength: 60, size: 'max' }), (ops) => run(ops)),
    { numRuns: 400, includeErrorInReport: true },
  );
  t.pass();
});
