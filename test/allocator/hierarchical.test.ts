/**
 * The allocation policy called directly, offers collected per cycle, in the manner of Mesos's
 * `hierarchical_allocator_tests.cpp`. Ported behaviours keep Mesos's test names.
 */

import test from 'ava';

import { DEFAULT_REFUSE_SECONDS } from '../../actors/allocator/constants.ts';
import { HierarchicalAllocation, type Offer } from '../../actors/allocator/hierarchical.ts';
import { DRFSorter } from '../../actors/allocator/sorter/drf.ts';
import { RandomSorter } from '../../actors/allocator/sorter/random.ts';
import { InvalidQuotaError, InvalidRoleError, InvalidWeightError } from '../../src/errors.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { simulate, type SimFramework } from './simulation.ts';

const r = (text: string): Resources => Resources.parse(text);

/** Offers as sorted `framework/role@agent resources` lines, easy to compare. */
function show(offers: readonly Offer[]): string[] {
  return offers.map((o) => `${o.frameworkId}/${o.role}@${o.agentId} ${o.resources.toString()}`).sort();
}

/** How many offers each framework got. */
function countByFramework(offers: readonly Offer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of offers) out[o.frameworkId] = (out[o.frameworkId] ?? 0) + 1;
  return out;
}

// ---------------------------------------------------------------------------------------------
// DRF.

test('UnreservedDRF', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;mem:1024'));
  allocation.addFramework('f1', { roles: ['role1'] });
  t.deepEqual(show(allocation.allocate(0)), ['f1/role1@agent1 cpus:2;mem:1024']);

  // role2 has nothing, so it gets the next agent.
  allocation.addFramework('f2', { roles: ['role2'] });
  allocation.addAgent('agent2', r('cpus:1;mem:512'));
  t.deepEqual(show(allocation.allocate(0)), ['f2/role2@agent2 cpus:1;mem:512']);

  // Shares: role1 2/6 cpus, role2 1/6 cpus: role2 again, although role1 now has a new framework.
  allocation.addFramework('f3', { roles: ['role1'] });
  allocation.addAgent('agent3', r('cpus:3;mem:2048'));
  t.deepEqual(show(allocation.allocate(0)), ['f2/role2@agent3 cpus:3;mem:2048']);

  // Shares: role1 2/10 cpus, role2 4/10 cpus: role1, and in it f3 (nothing) before f1.
  allocation.addAgent('agent4', r('cpus:4;mem:4096'));
  t.deepEqual(show(allocation.allocate(0)), ['f3/role1@agent4 cpus:4;mem:4096']);
});

test('allocation - offered resources count as allocated until recovered', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:4;mem:4096'));
  allocation.addFramework('f1', { roles: ['web'] });
  const [offer] = allocation.allocate(0);
  t.is(offer?.resources.toString(), 'cpus:4;mem:4096');
  t.true(allocation.agent('agent1')!.available.isEmpty());
  t.deepEqual(allocation.allocate(1000), []);

  // Part of the offer comes back (a task used the rest): only that part is offered again.
  allocation.recoverResources('f1', 'agent1', r('cpus:1;mem:1024'));
  t.deepEqual(show(allocation.allocate(2000)), ['f1/web@agent1 cpus:1;mem:1024']);
  t.is(allocation.allocation('f1').get('agent1')?.toString(), 'cpus:4;mem:4096');

  // Recovering more than is held recovers only what is held; unknown ids are ignored.
  allocation.recoverResources('f1', 'agent1', r('cpus:100;mem:1;gpus:1'));
  t.is(allocation.agent('agent1')!.allocated.toString(), 'mem:4095');
  allocation.recoverResources('nobody', 'agent1', r('mem:1'));
  allocation.recoverResources('f1', 'nowhere', r('mem:1'));
  t.is(allocation.agent('agent1')!.available.toString(), 'cpus:4;mem:1');
});

test('allocation - the DRF example of the paper: A runs 3 tasks, B runs 2', (t) => {
  // Ghodsi et al., NSDI 2011, section 4: 9 CPUs and 18 GB; A's tasks need <1 CPU, 4 GB>,
  // B's <3 CPUs, 1 GB>. DRF equalizes dominant shares: A gets 3 tasks (12/18 of memory),
  // B gets 2 (6/9 of the CPUs). Offers are whole agents, so the cluster is three small agents.
  const agents: [string, string][] = [
    ['agent1', 'cpus:3;mem:2048'],
    ['agent2', 'cpus:3;mem:4096'],
    ['agent3', 'cpus:3;mem:12288'],
  ];
  const frameworks: SimFramework[] = [
    { id: 'A', role: 'paper', task: r('cpus:1;mem:4096') },
    { id: 'B', role: 'paper', task: r('cpus:3;mem:1024') },
  ];
  const run = (allocation: HierarchicalAllocation, copies: number): Map<string, number> => {
    const ids: string[] = [];
    for (let i = 0; i < copies; i++) {
      for (const [id, resources] of agents) {
        ids.push(`${id}-${i}`);
        allocation.addAgent(`${id}-${i}`, r(resources));
      }
    }
    for (const f of frameworks) allocation.addFramework(f.id, { roles: [f.role] });
    return simulate(allocation, frameworks, ids).tasks;
  };

  const tasks = run(new HierarchicalAllocation(), 1);
  t.is(tasks.get('A'), 3);
  t.is(tasks.get('B'), 2);

  // The same cluster ten times over comes out in the same proportion.
  const scaled = run(new HierarchicalAllocation(), 10);
  t.is(scaled.get('A'), 30);
  t.is(scaled.get('B'), 20);

  // A sorter that ignores shares (name order) does not: this test can fail.
  class NameOrder extends DRFSorter {
    override view(): readonly string[] {
      return [...super.view()].sort();
    }
  }
  const unfair = run(new HierarchicalAllocation({ frameworkSorter: (totals) => new NameOrder(totals) }), 1);
  t.deepEqual([unfair.get('A'), unfair.get('B')], [4, 1]);
});

test('UpdateWeight - a role of weight 2 gets twice the dominant share', (t) => {
  const run = (weights: Record<string, number>): Record<string, number> => {
    const allocation = new HierarchicalAllocation();
    allocation.updateWeights(weights);
    for (let i = 1; i <= 6; i++) allocation.addAgent(`agent${i}`, r('cpus:1;mem:1024'));
    allocation.addFramework('fh', { roles: ['heavy'] });
    allocation.addFramework('fl', { roles: ['light'] });
    return countByFramework(allocation.allocate(0));
  };
  t.deepEqual(run({}), { fh: 3, fl: 3 });
  t.deepEqual(run({ heavy: 2 }), { fh: 4, fl: 2 });
  t.deepEqual(run({ light: 5 }), { fh: 1, fl: 5 });
});

// ---------------------------------------------------------------------------------------------
// Hierarchical roles.

test('NestedRoleDRF', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;mem:1024'));
  allocation.addFramework('f1', { roles: ['a/b'] });
  t.deepEqual(show(allocation.allocate(0)), ['f1/a/b@agent1 cpus:2;mem:1024']);

  // a holds 2/3 of the cluster, d nothing: the new agent goes to d's d/e, not to a/c, although
  // a/c and d/e both hold nothing (a flat sorter ties them and picks a/c by name).
  allocation.addAgent('agent2', r('cpus:1;mem:512'));
  allocation.addFramework('f2', { roles: ['a/c'] });
  allocation.addFramework('f3', { roles: ['d/e'] });
  t.deepEqual(show(allocation.allocate(0)), ['f3/d/e@agent2 cpus:1;mem:512']);

  // a holds 2/5, d 1/5: d again, to its empty d/f rather than a's empty a/c.
  allocation.addAgent('agent3', r('cpus:2;mem:1024'));
  allocation.addFramework('f4', { roles: ['d/f'] });
  t.deepEqual(show(allocation.allocate(0)), ['f4/d/f@agent3 cpus:2;mem:1024']);

  // a 2/7, d 3/7: now a, and inside a its empty a/c.
  allocation.addAgent('agent4', r('cpus:2;mem:1024'));
  t.deepEqual(show(allocation.allocate(0)), ['f2/a/c@agent4 cpus:2;mem:1024']);
});

test('NestedRoleDRF - a weight on an inner role counts for its whole subtree', (t) => {
  const run = (weights: Record<string, number>): Record<string, number> => {
    const allocation = new HierarchicalAllocation();
    allocation.updateWeights(weights);
    for (let i = 1; i <= 12; i++) allocation.addAgent(`agent${i}`, r('cpus:1;mem:1024'));
    allocation.addFramework('web', { roles: ['eng/web'] });
    allocation.addFramework('db', { roles: ['eng/db'] });
    allocation.addFramework('ops', { roles: ['ops'] });
    return countByFramework(allocation.allocate(0));
  };
  // eng and ops share the cluster half and half; eng's half is split between its children.
  t.deepEqual(run({}), { web: 3, db: 3, ops: 6 });
  t.deepEqual(run({ eng: 2 }), { web: 4, db: 4, ops: 4 });
  t.deepEqual(run({ eng: 2, 'eng/web': 3 }), { web: 6, db: 2, ops: 4 });
  // A weight on a leaf only matters among its siblings.
  t.deepEqual(run({ 'eng/web': 3 }), { web: 4, db: 2, ops: 6 });
});

test('NestedRoleDRF - a role with frameworks and sub-roles competes among them as its own leaf', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.updateWeights({ eng: 2 });
  for (let i = 1; i <= 12; i++) allocation.addAgent(`agent${i}`, r('cpus:1;mem:1024'));
  allocation.addFramework('eng', { roles: ['eng'] });
  allocation.addFramework('web', { roles: ['eng/web'] });
  allocation.addFramework('ops', { roles: ['ops'] });
  // The eng subtree (weight 2) gets twice what ops gets; inside, `eng` itself (its weight
  // there is that of `eng/.`, 1) and eng/web share its part equally.
  t.deepEqual(countByFramework(allocation.allocate(0)), { eng: 4, web: 4, ops: 4 });

  // eng/web goes (its framework is removed, freeing 4 agents), and with it the sub-role: eng
  // is a plain role again, of weight 2. Of 8 free agents eng takes 7 (4 → 11 of 16, a share
  // of 11/16 / 2) and ops 1 (4 → 5, 5/16).
  allocation.removeFramework('web');
  for (let i = 13; i <= 16; i++) allocation.addAgent(`agent${i}`, r('cpus:1;mem:1024'));
  t.deepEqual(countByFramework(allocation.allocate(0)), { eng: 7, ops: 1 });
});

// ---------------------------------------------------------------------------------------------
// Reservations.

test('ReservedDRF - reserved resources go only to their role', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;mem:1024;cpus(web):4;mem(web):2048'));
  allocation.addFramework('fa', { roles: ['analytics'] });
  allocation.addFramework('fw', { roles: ['web'] });
  // Both roles have nothing; `analytics` sorts first but can only have the unreserved part.
  t.deepEqual(show(allocation.allocate(0)), ['fa/analytics@agent1 cpus:2;mem:1024', 'fw/web@agent1 cpus(web):4;mem(web):2048']);

  // `web` declines; `analytics` declines too. Next cycle web's reservation goes to web again,
  // even though analytics now sorts first with nothing.
  allocation.recoverResources('fw', 'agent1', r('cpus(web):4;mem(web):2048'));
  allocation.recoverResources('fa', 'agent1', r('cpus:2;mem:1024'));
  allocation.removeFramework('fw');
  t.deepEqual(show(allocation.allocate(1000)), ['fa/analytics@agent1 cpus:2;mem:1024']);
  t.is(allocation.agent('agent1')!.available.toString(), 'cpus(web):4;mem(web):2048');
});

test('allocation - reservations to a role are allocatable to its sub-roles', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus(eng):2;cpus(ops):3'));
  allocation.addFramework('f1', { roles: ['eng/web'] });
  t.deepEqual(show(allocation.allocate(0)), ['f1/eng/web@agent1 cpus(eng):2']);
});

test('allocation - a framework with several roles gets one offer per role', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;cpus(b):1'));
  allocation.addFramework('f1', { roles: ['a', 'b'] });
  t.deepEqual(show(allocation.allocate(0)), ['f1/a@agent1 cpus:2', 'f1/b@agent1 cpus(b):1']);
  // Recovering without naming the role finds it from what is held.
  allocation.recoverResources('f1', 'agent1', r('cpus(b):1'));
  t.deepEqual(show(allocation.allocate(1)), ['f1/b@agent1 cpus(b):1']);
});

// ---------------------------------------------------------------------------------------------
// Filters.

test('OfferFilter - a declined agent is not offered again until refuse_seconds pass', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:1;mem:512'));
  allocation.addFramework('f1', { roles: ['r'] });
  const [offer] = allocation.allocate(0);
  allocation.recoverResources('f1', 'agent1', offer!.resources, { now: 0 });

  t.deepEqual(allocation.allocate(1000), []);
  t.deepEqual(allocation.allocate(DEFAULT_REFUSE_SECONDS * 1000 - 1), []);
  t.deepEqual(show(allocation.allocate(DEFAULT_REFUSE_SECONDS * 1000)), ['f1/r@agent1 cpus:1;mem:512']);
});

test('OfferFilter - refuse_seconds is honoured, 0 installs none, a negative value means the default', (t) => {
  const cycle = (refuseSeconds: number, at: number): string[] => {
    const allocation = new HierarchicalAllocation();
    allocation.addAgent('agent1', r('cpus:1'));
    allocation.addFramework('f1', { roles: ['r'] });
    allocation.recoverResources('f1', 'agent1', allocation.allocate(0)[0]!.resources, { now: 0, refuseSeconds });
    return show(allocation.allocate(at));
  };
  t.deepEqual(cycle(30, 29_999), []);
  t.deepEqual(cycle(30, 30_000), ['f1/r@agent1 cpus:1']);
  t.deepEqual(cycle(0, 0), ['f1/r@agent1 cpus:1']);
  t.deepEqual(cycle(-1, DEFAULT_REFUSE_SECONDS * 1000 - 1), []);
  t.deepEqual(cycle(-1, DEFAULT_REFUSE_SECONDS * 1000), ['f1/r@agent1 cpus:1']);
  t.deepEqual(cycle(0.5, 499), []);
});

test('OfferFilter - filters one framework on one agent only, and not for more than was refused', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:1'));
  allocation.addAgent('agent2', r('cpus:1'));
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.addFramework('f2', { roles: ['r'] });
  t.deepEqual(show(allocation.allocate(0)), ['f1/r@agent1 cpus:1', 'f2/r@agent2 cpus:1']);
  allocation.recoverResources('f1', 'agent1', r('cpus:1'), { now: 0, refuseSeconds: 60 });
  allocation.recoverResources('f2', 'agent2', r('cpus:1'));
  // f1 (share 0) sorts first everywhere but is filtered on agent1, which f2 gets.
  t.deepEqual(show(allocation.allocate(1000)), ['f1/r@agent2 cpus:1', 'f2/r@agent1 cpus:1']);

  // agent1 grows: the offer is no longer a subset of what f1 refused, so it is not filtered.
  allocation.recoverResources('f2', 'agent1', r('cpus:1'));
  allocation.updateAgent('agent1', r('cpus:2'));
  t.deepEqual(show(allocation.allocate(2000)), ['f2/r@agent1 cpus:2'], 'f2 has the lower share now');
  allocation.recoverResources('f2', 'agent1', r('cpus:2'), { now: 2000 });
  t.deepEqual(show(allocation.allocate(3000)), ['f1/r@agent1 cpus:2']);
});

// ---------------------------------------------------------------------------------------------
// Suppress, revive, deactivate.

test('SuppressOffers - a suppressed framework gets nothing until it revives', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:1'));
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.suppress('f1');
  t.deepEqual(allocation.allocate(0), []);
  allocation.revive('f1');
  t.deepEqual(show(allocation.allocate(1)), ['f1/r@agent1 cpus:1']);
});

test('ReviveOffers - revive clears decline filters', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:1'));
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.recoverResources('f1', 'agent1', allocation.allocate(0)[0]!.resources, { now: 0, refuseSeconds: 3600 });
  t.deepEqual(allocation.allocate(1000), []);
  allocation.revive('f1');
  t.deepEqual(show(allocation.allocate(1000)), ['f1/r@agent1 cpus:1']);
});

test('SuppressOffers - suppressing one role keeps offers for the others', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus(a):1;cpus(b):2'));
  allocation.addFramework('f1', { roles: ['a', 'b'], suppressedRoles: ['a'] });
  t.deepEqual(show(allocation.allocate(0)), ['f1/b@agent1 cpus(b):2']);
  allocation.revive('f1', ['a']);
  t.deepEqual(show(allocation.allocate(1)), ['f1/a@agent1 cpus(a):1']);
  allocation.suppress('f1', ['b']);
  allocation.recoverResources('f1', 'agent1', r('cpus(a):1;cpus(b):2'));
  t.deepEqual(show(allocation.allocate(2)), ['f1/a@agent1 cpus(a):1']);
});

test('allocation - a deactivated framework keeps its resources but gets no offers', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:1'));
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.allocate(0);
  allocation.deactivateFramework('f1');
  allocation.addAgent('agent2', r('cpus:1'));
  t.deepEqual(allocation.allocate(1), []);
  t.is(allocation.allocation('f1').get('agent1')?.toString(), 'cpus:1');
  allocation.activateFramework('f1');
  t.deepEqual(show(allocation.allocate(2)), ['f1/r@agent2 cpus:1']);

  allocation.addFramework('f2', { roles: ['r'], active: false });
  allocation.addAgent('agent3', r('cpus:1'));
  t.deepEqual(show(allocation.allocate(3)), ['f1/r@agent3 cpus:1']);
});

// ---------------------------------------------------------------------------------------------
// Quota.

test('QuotaProvidesGuarantee - quota roles are served first, up to the guarantee', (t) => {
  const run = (withQuota: boolean): Record<string, number> => {
    const allocation = new HierarchicalAllocation();
    if (withQuota) allocation.setQuota('q', r('cpus:3;mem:3072'));
    for (let i = 1; i <= 4; i++) allocation.addAgent(`agent${i}`, r('cpus:1;mem:1024'));
    allocation.addFramework('fo', { roles: ['o'] });
    allocation.addFramework('fq', { roles: ['q'] });
    return countByFramework(allocation.allocate(0));
  };
  t.deepEqual(run(false), { fo: 2, fq: 2 });
  t.deepEqual(run(true), { fo: 1, fq: 3 });
});

test('allocation - stage 1 gives a quota role exactly what it lacks; fair sharing gets the rest', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.setQuota('q', r('cpus:1;mem:1024'));
  allocation.addAgent('agent1', r('cpus:4;mem:4096;ports:[31000-31009]'));
  allocation.addFramework('fq', { roles: ['q'] });
  allocation.addFramework('fo', { roles: ['o'] });
  t.deepEqual(show(allocation.allocate(0)), ['fo/o@agent1 cpus:3;mem:3072', 'fq/q@agent1 cpus:1;mem:1024;ports:[31000-31009]']);
});

test('allocation - headroom for unmet quota is held back from other roles', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.setQuota('q', r('cpus:2;mem:2048'));
  for (let i = 1; i <= 3; i++) allocation.addAgent(`agent${i}`, r('cpus:1;mem:1024'));
  allocation.addFramework('fq', { roles: ['q'], suppressedRoles: ['q'] });
  allocation.addFramework('fo', { roles: ['o'] });
  // q wants nothing now, but its guarantee stays available: fo gets one agent of three.
  t.deepEqual(show(allocation.allocate(0)), ['fo/o@agent1 cpus:1;mem:1024']);
  t.deepEqual(allocation.allocate(1), []);
  allocation.revive('fq');
  t.deepEqual(show(allocation.allocate(2)), ['fq/q@agent2 cpus:1;mem:1024', 'fq/q@agent3 cpus:1;mem:1024']);

  // Once the quota is removed nothing is held back.
  allocation.recoverResources('fq', 'agent3', r('cpus:1;mem:1024'));
  allocation.suppress('fq');
  allocation.removeQuota('q');
  t.deepEqual(show(allocation.allocate(3)), ['fo/o@agent3 cpus:1;mem:1024']);
});

test('allocation - resources a quota role holds count toward its guarantee', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;mem:2048'));
  allocation.addFramework('fq', { roles: ['q'] });
  allocation.allocate(0);
  allocation.setQuota('q', r('cpus:2;mem:2048'));
  allocation.addFramework('fo', { roles: ['o'] });
  allocation.addAgent('agent2', r('cpus:1;mem:1024'));
  // q already holds its guarantee, so nothing is held back for it.
  t.deepEqual(show(allocation.allocate(1)), ['fo/o@agent2 cpus:1;mem:1024']);
  t.deepEqual(allocation.quota('q')?.toString(), 'cpus:2;mem:2048');
});

// ---------------------------------------------------------------------------------------------
// Agents and frameworks coming and going.

test('allocation - removing an agent removes its allocation from the shares', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.addFramework('f2', { roles: ['r'] });
  allocation.addAgent('agent1', r('cpus:4;mem:4096'));
  allocation.addAgent('agent2', r('cpus:1;mem:1024'));
  t.deepEqual(show(allocation.allocate(0)), ['f1/r@agent1 cpus:4;mem:4096', 'f2/r@agent2 cpus:1;mem:1024']);

  allocation.removeAgent('agent1');
  t.is(allocation.agent('agent1'), undefined);
  t.is(allocation.allocation('f1').size, 0);
  allocation.recoverResources('f1', 'agent1', r('cpus:4;mem:4096')); // stale: ignored

  // f1 now holds nothing and f2 holds all of agent2, so f1 gets the next agent; had agent1
  // still counted, f2 would have.
  allocation.addAgent('agent3', r('cpus:1;mem:1024'));
  t.deepEqual(show(allocation.allocate(1)), ['f1/r@agent3 cpus:1;mem:1024']);
});

test('allocation - removing a framework frees what it held', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2'));
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.allocate(0);
  allocation.addFramework('f2', { roles: ['r'] });
  t.deepEqual(allocation.allocate(1), []);
  allocation.removeFramework('f1');
  t.deepEqual(show(allocation.allocate(2)), ['f2/r@agent1 cpus:2']);
  allocation.removeFramework('f1'); // already gone: ignored
});

test('allocation - updating an agent offers what it gained; deactivated agents are skipped', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:1'));
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.allocate(0);
  allocation.updateAgent('agent1', r('cpus:3;gpus:1'));
  t.deepEqual(show(allocation.allocate(1)), ['f1/r@agent1 cpus:2;gpus:1']);

  allocation.addAgent('agent2', r('cpus:1'));
  allocation.deactivateAgent('agent2');
  t.deepEqual(allocation.allocate(2), []);
  allocation.activateAgent('agent2');
  t.deepEqual(show(allocation.allocate(3)), ['f1/r@agent2 cpus:1']);
  t.deepEqual(allocation.allocate(4, ['agent1', 'unknown']), []);
});

test('allocation - a role a framework leaves stays tracked until its resources come back', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:1'));
  allocation.addFramework('f1', { roles: ['old'] });
  allocation.allocate(0);
  allocation.updateFramework('f1', { roles: ['new'] });
  allocation.addAgent('agent2', r('cpus:1'));
  t.deepEqual(show(allocation.allocate(1)), ['f1/new@agent2 cpus:1']);
  allocation.recoverResources('f1', 'agent1', r('cpus:1'));
  t.deepEqual(show(allocation.allocate(2)), ['f1/new@agent1 cpus:1']);
});

test('allocation - a random role sorter still offers every agent once', (t) => {
  const allocation = new HierarchicalAllocation({ roleSorter: () => new RandomSorter(1), frameworkSorter: () => new RandomSorter(2) });
  for (let i = 0; i < 20; i++) allocation.addAgent(`agent${i}`, r('cpus:1'));
  for (let i = 0; i < 4; i++) allocation.addFramework(`f${i}`, { roles: [`role${i % 2}`] });
  const offers = allocation.allocate(0);
  t.is(offers.length, 20);
  t.is(new Set(offers.map((o) => o.agentId)).size, 20);
  t.true(Object.keys(countByFramework(offers)).length > 1);
});

// ---------------------------------------------------------------------------------------------
// Operator errors.

test('allocation - invalid weights, quotas and roles are typed errors naming the value', (t) => {
  const allocation = new HierarchicalAllocation();
  t.is(
    t.throws(() => allocation.updateWeights({ web: 0 }), { instanceOf: InvalidWeightError })?.message,
    `invalid weight for role 'web': weight must be a positive finite number, got 0`,
  );
  t.throws(() => allocation.updateWeights([['ok', 2], ['bad', Number.NaN]]), { instanceOf: InvalidWeightError });
  t.is(allocation.weight('ok'), 1, 'nothing applied when one weight is invalid');
  t.is(
    t.throws(() => allocation.updateWeights({ '-x': 1 }), { instanceOf: InvalidRoleError })?.message,
    `invalid role '-x': role '-x' must not start with '-'`,
  );
  t.is(
    t.throws(() => allocation.setQuota('q', r('ports:[1-2]')), { instanceOf: InvalidQuotaError })?.message,
    `invalid quota for role 'q': 'ports' is RANGES; a guarantee holds scalars only`,
  );
  t.is(
    t.throws(() => allocation.setQuota('q', r('cpus(q):1')), { instanceOf: InvalidQuotaError })?.message,
    `invalid quota for role 'q': 'cpus' is reserved; a guarantee holds unreserved resources only`,
  );
  t.throws(() => allocation.setQuota('*', r('cpus:1')), { instanceOf: InvalidQuotaError });
  t.is(
    t.throws(() => allocation.addFramework('f1', { roles: [''] }), { instanceOf: InvalidRoleError })?.message,
    `invalid role '': role must not be empty`,
  );
  t.throws(() => allocation.suppress('ghost'), { message: `unknown framework 'ghost'` });
});

test('allocation - resources an agent reports for an unknown framework count as allocated until claimed or freed', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:4;mem:4096'), [{ frameworkId: 'gone', resources: r('cpus:1;mem:1024') }]);
  allocation.addAgent('agent2', r('cpus:4;mem:4096'), [{ frameworkId: 'late', resources: r('cpus:2;mem:2048') }]);
  t.is(allocation.agent('agent1')!.available.toString(), 'cpus:3;mem:3072');

  // The framework that comes back claims what it uses (in the role given), and nothing more is taken.
  allocation.addFramework('late', { roles: ['web', 'batch'], used: [{ agentId: 'agent2', role: 'batch', resources: r('cpus:2;mem:2048') }] });
  t.is(allocation.allocation('late').get('agent2')?.toString(), 'cpus:2;mem:2048');
  t.is(allocation.agent('agent2')!.allocated.toString(), 'cpus:2;mem:2048');

  // One that never comes back: removing it frees what the agent reported.
  allocation.removeFramework('gone');
  t.true(allocation.agent('agent1')!.allocated.isEmpty());

  // Recovering the claimed resources frees them like any allocation.
  allocation.recoverResources('late', 'agent2', r('cpus:2;mem:2048'));
  t.true(allocation.agent('agent2')!.allocated.isEmpty());
  // Roles by DRF: batch (first by name) gets agent1, then web, now below it, agent2.
  t.deepEqual(show(allocation.allocate(0)), ['late/batch@agent1 cpus:4;mem:4096', 'late/web@agent2 cpus:4;mem:4096']);
});

// ---------------------------------------------------------------------------------------------
// Filters per role, revive per role, deactivation (Mesos `offerFilters[role][agent]`).

test('DeclineOffer - a decline filters the role it was offered for, not the framework\'s other roles', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;mem:1024'));
  allocation.addFramework('f1', { roles: ['a', 'b'] });
  // Roles by DRF: `a` first by name.
  t.deepEqual(show(allocation.allocate(0)), ['f1/a@agent1 cpus:2;mem:1024']);
  allocation.recoverResources('f1', 'agent1', r('cpus:2;mem:1024'), { now: 0, refuseSeconds: 60 });
  // Role `a` declined agent1; role `b` of the same framework is offered it.
  t.deepEqual(show(allocation.allocate(1000)), ['f1/b@agent1 cpus:2;mem:1024']);
});

test('ReviveOffers - reviving some roles drops only their filters', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus(a):1;mem(a):128;cpus(b):2;mem(b):256'));
  allocation.addFramework('f1', { roles: ['a', 'b'] });
  t.deepEqual(show(allocation.allocate(0)), ['f1/a@agent1 cpus(a):1;mem(a):128', 'f1/b@agent1 cpus(b):2;mem(b):256']);
  allocation.recoverResources('f1', 'agent1', r('cpus(a):1;mem(a):128'), { now: 0, refuseSeconds: 3600 });
  allocation.recoverResources('f1', 'agent1', r('cpus(b):2;mem(b):256'), { now: 0, refuseSeconds: 3600 });
  t.deepEqual(allocation.allocate(1000), []);
  allocation.revive('f1', ['b']);
  t.deepEqual(show(allocation.allocate(1000)), ['f1/b@agent1 cpus(b):2;mem(b):256'], 'role a stays filtered');
  allocation.revive('f1');
  t.deepEqual(show(allocation.allocate(1000)), ['f1/a@agent1 cpus(a):1;mem(a):128']);
});

test('DeactivateAndReactivateFramework - deactivation drops the framework\'s decline filters', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;mem:1024'));
  allocation.addFramework('f1', { roles: ['r'] });
  allocation.recoverResources('f1', 'agent1', allocation.allocate(0)[0]!.resources, { now: 0, refuseSeconds: 3600 });
  t.deepEqual(allocation.allocate(1000), []);
  allocation.deactivateFramework('f1');
  t.deepEqual(allocation.allocate(2000), []);
  allocation.activateFramework('f1');
  t.deepEqual(show(allocation.allocate(3000)), ['f1/r@agent1 cpus:2;mem:1024']);
});

test('UpdateFramework - leaving a role or un-suppressing it drops its filters', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('agent1', r('cpus:2;mem:1024'));
  allocation.addFramework('f1', { roles: ['a'] });
  allocation.recoverResources('f1', 'agent1', allocation.allocate(0)[0]!.resources, { now: 0, refuseSeconds: 3600 });
  // Leave `a` and come back: the filter of `a` went with it.
  allocation.updateFramework('f1', { roles: ['b'], suppressedRoles: ['b'] });
  allocation.updateFramework('f1', { roles: ['a', 'b'], suppressedRoles: ['b'] });
  t.deepEqual(show(allocation.allocate(1000)), ['f1/a@agent1 cpus:2;mem:1024']);

  // A filter of `b` goes when an update no longer suppresses `b` (Mesos revives it).
  allocation.updateFramework('f1', { roles: ['a', 'b'], suppressedRoles: ['a'] });
  allocation.recoverResources('f1', 'agent1', r('cpus:2;mem:1024'));
  t.deepEqual(show(allocation.allocate(1000)), ['f1/b@agent1 cpus:2;mem:1024']);
  allocation.recoverResources('f1', 'agent1', r('cpus:2;mem:1024'), { now: 1000, refuseSeconds: 3600 });
  allocation.updateFramework('f1', { roles: ['a', 'b'], suppressedRoles: ['a', 'b'] });
  allocation.updateFramework('f1', { roles: ['a', 'b'], suppressedRoles: ['a'] });
  t.deepEqual(show(allocation.allocate(2000)), ['f1/b@agent1 cpus:2;mem:1024']);
});

// ---------------------------------------------------------------------------------------------
// What is offered at all: `--min_allocatable_resources`, GPUs.

test('Allocatable - an agent with less free than cpus:0.01 or mem:32 is not offered', (t) => {
  // Mesos's test, with its MIN_CPUS = 0.01 and MIN_MEM = 32 MB.
  const allocation = new HierarchicalAllocation();
  allocation.addFramework('f1', { roles: ['role1'] });
  allocation.addAgent('slave1', r('cpus:0.005;mem:16;disk:128'));
  allocation.addAgent('slave2', r('cpus:0.01;mem:16;disk:128'));
  allocation.addAgent('slave3', r('cpus:0.005;mem:32;disk:128'));
  // Enough in all, but split between unreserved and reserved: allocatable.
  allocation.addAgent('slave4', r('cpus:0.006;mem:16;cpus(role1):0.006;mem(role1):16;disk:128'));
  allocation.addAgent('slave5', r('gpus:1;ports:[31000-31009]'));
  t.deepEqual(
    allocation.allocate(0).map((o) => o.agentId).sort(),
    ['slave2', 'slave3', 'slave4'],
  );

  // A task leaves 0.001 CPU and 8 MB free: too little to offer.
  allocation.addAgent('slave6', r('cpus:1;mem:512'));
  const [offer] = allocation.allocate(1);
  allocation.recoverResources('f1', 'slave6', r('cpus:0.001;mem:8'));
  t.is(offer?.agentId, 'slave6');
  t.deepEqual(allocation.allocate(2), []);

  // An empty `--min_allocatable_resources` offers anything; a custom one is honoured.
  const any = new HierarchicalAllocation({ minAllocatableResources: '' });
  any.addFramework('f1', { roles: ['r'] });
  any.addAgent('a1', r('gpus:1'));
  t.deepEqual(show(any.allocate(0)), ['f1/r@a1 gpus:1']);
  const ports = new HierarchicalAllocation({ minAllocatableResources: 'cpus:1;ports:2' });
  ports.addFramework('f1', { roles: ['r'] });
  ports.addAgent('a1', r('cpus:4;ports:[31000-31000]'));
  ports.addAgent('a2', r('cpus:4;ports:[31000-31001]'));
  t.deepEqual(show(ports.allocate(0)), ['f1/r@a2 cpus:4;ports:[31000-31001]']);
  t.throws(() => new HierarchicalAllocation({ minAllocatableResources: 'cpus:x' }), { message: `invalid resource 'cpus:x': quantity must be a non-negative number` });
});

test('allocation - agents with GPUs go only to frameworks with the GPU_RESOURCES capability (MESOS-5634)', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.addAgent('gpu', r('cpus:4;mem:4096;gpus:2'));
  allocation.addAgent('plain', r('cpus:4;mem:4096'));
  allocation.addFramework('f1', { roles: ['r'], capabilities: [] });
  allocation.addFramework('f2', { roles: ['r'], capabilities: ['GPU_RESOURCES'] });
  // f1 sorts first on both agents, but may not have the one with GPUs.
  t.deepEqual(show(allocation.allocate(0)), ['f1/r@plain cpus:4;mem:4096', 'f2/r@gpu cpus:4;gpus:2;mem:4096']);

  // Capabilities change with an update; `--filter_gpu_resources=false` withholds nothing.
  allocation.recoverResources('f2', 'gpu', r('cpus:4;mem:4096;gpus:2'));
  allocation.removeFramework('f2');
  t.deepEqual(allocation.allocate(1), []);
  allocation.updateFramework('f1', { roles: ['r'], capabilities: ['GPU_RESOURCES'] });
  t.deepEqual(show(allocation.allocate(2)), ['f1/r@gpu cpus:4;gpus:2;mem:4096']);
  const unfiltered = new HierarchicalAllocation({ filterGpuResources: false });
  unfiltered.addAgent('gpu', r('cpus:4;mem:4096;gpus:2'));
  unfiltered.addFramework('f1', { roles: ['r'], capabilities: [] });
  t.deepEqual(show(unfiltered.allocate(0)), ['f1/r@gpu cpus:4;gpus:2;mem:4096']);
});
