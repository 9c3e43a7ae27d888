/**
 * Quota limits (Mesos 1.9+): the allocation policy called directly, offers collected per cycle,
 * as `hierarchical.test.ts` does. A role's consumed quota is its reservations (allocated or
 * not) plus the unreserved resources allocated to it, its sub-roles' included; no offer takes
 * it past a limit of its own or of an ancestor.
 */

import test from 'ava';

import { HierarchicalAllocation, type Offer } from '../../actors/allocator/hierarchical.ts';
import { InvalidQuotaError } from '../../src/errors.ts';
import { Resources } from '../../src/mesos/resources.ts';

const r = (text: string): Resources => Resources.parse(text);

/** Offers as sorted `framework/role@agent resources` lines, easy to compare. */
function show(offers: readonly Offer[]): string[] {
  return offers.map((o) => `${o.frameworkId}/${o.role}@${o.agentId} ${o.resources.toString()}`).sort();
}

test('quota limits - an offer is cut at the limit; resources without a limit are offered whole', (t) => {
  const run = (limits: Record<string, number> | undefined): string[] => {
    const allocation = new HierarchicalAllocation();
    if (limits !== undefined) allocation.setQuota('q', Resources.EMPTY, limits);
    allocation.addAgent('a1', r('cpus:8;mem:4096;ports:[31000-31009]'));
    allocation.addFramework('fq', { roles: ['q'] });
    return show(allocation.allocate(0));
  };
  t.deepEqual(run(undefined), ['fq/q@a1 cpus:8;mem:4096;ports:[31000-31009]'], 'the control, without a limit');
  t.deepEqual(run({ cpus: 3 }), ['fq/q@a1 cpus:3;mem:4096;ports:[31000-31009]']);
  t.deepEqual(run({ cpus: 3, mem: 1024 }), ['fq/q@a1 cpus:3;mem:1024;ports:[31000-31009]']);
  // A limit of 0 allows none of that resource; the rest is still offered.
  t.deepEqual(run({ cpus: 0 }), ['fq/q@a1 mem:4096;ports:[31000-31009]']);
  // Below `--min_allocatable_resources` (cpus:0.01|mem:32) nothing is offered.
  t.deepEqual(run({ cpus: 0, mem: 16 }), []);
});

test('quota limits - a role at its limit gets nothing more, while another role gets the rest', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.setQuota('a', Resources.EMPTY, { cpus: 2, mem: 1024 });
  allocation.addAgent('a1', r('cpus:4;mem:2048'));
  allocation.addFramework('fa', { roles: ['a'] });
  allocation.addFramework('fb', { roles: ['b'] });
  // `a` comes first (equal shares, names break ties): cut to its limits; `b` takes the rest of the agent.
  t.deepEqual(show(allocation.allocate(0)), ['fa/a@a1 cpus:2;mem:1024', 'fb/b@a1 cpus:2;mem:1024']);
  t.deepEqual(allocation.quotaLimits('a'), { limits: { cpus: 2, mem: 1024 }, consumed: { cpus: 2, mem: 1024 } });

  // Shares are equal again and `a` comes first, but it is at its limits: all of a2 goes to `b`.
  allocation.addAgent('a2', r('cpus:4;mem:2048'));
  t.deepEqual(show(allocation.allocate(1)), ['fb/b@a2 cpus:4;mem:2048']);

  // What `a` gives back it may be offered again, up to the limits.
  allocation.recoverResources('fa', 'a1', r('cpus:1;mem:512'));
  allocation.recoverResources('fb', 'a2', r('cpus:4;mem:2048'));
  t.deepEqual(show(allocation.allocate(2)), ['fa/a@a1 cpus:1;mem:512', 'fb/b@a2 cpus:4;mem:2048']);
});

test('quota limits - the frameworks of a role, and of its sub-roles, share the limit within one agent', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.setQuota('eng', Resources.EMPTY, { cpus: 3 });
  allocation.addAgent('a1', r('cpus:8;mem:4096'));
  allocation.addFramework('f-db', { roles: ['eng/db'] });
  allocation.addFramework('f-web', { roles: ['eng/web'] });
  allocation.addFramework('f-ops', { roles: ['ops'] });
  // `eng/db` is cut to the 3 cpus `eng` may hold; its sibling `eng/web` is offered none of the
  // 5 left (its offer would be cpus alone, all beyond the limit); `ops` gets them.
  t.deepEqual(show(allocation.allocate(0)), ['f-db/eng/db@a1 cpus:3;mem:4096', 'f-ops/ops@a1 cpus:5']);
  t.deepEqual(allocation.quotaLimits('eng')?.consumed, { cpus: 3, mem: 4096 });

  const two = new HierarchicalAllocation();
  two.setQuota('q', Resources.EMPTY, { cpus: 2 });
  two.addAgent('a1', r('cpus:4;mem:1024'));
  two.addFramework('f1', { roles: ['q'] });
  two.addFramework('f2', { roles: ['q'] });
  two.addFramework('fz', { roles: ['z'] });
  // Two frameworks of one role: the second is not offered another 2 cpus.
  t.deepEqual(show(two.allocate(0)), ['f1/q@a1 cpus:2;mem:1024', 'fz/z@a1 cpus:2']);
});

test('quota limits - sub-roles are capped together by their parent limit, over agents and cycles', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.setQuota('eng', Resources.EMPTY, { cpus: 3 });
  for (const id of ['a1', 'a2', 'a3']) allocation.addAgent(id, r('cpus:2;mem:1024'));
  allocation.addFramework('f-db', { roles: ['eng/db'] });
  allocation.addFramework('f-web', { roles: ['eng/web'] });
  allocation.addFramework('f-ops', { roles: ['ops'] });
  const offers = allocation.allocate(0);
  const cpus = (prefix: string) => offers.filter((o) => o.role.startsWith(prefix)).reduce((sum, o) => sum + o.resources.cpus(), 0);
  t.is(cpus('eng/'), 3, 'eng/db and eng/web hold 3 cpus between them');
  t.is(cpus('ops'), 3);
  t.deepEqual(allocation.quotaLimits('eng')?.consumed.cpus, 3);

  // Another agent: eng's sub-roles come first (eng holds less), but eng is at its limit.
  allocation.addAgent('a4', r('cpus:2;mem:1024'));
  t.deepEqual(
    show(allocation.allocate(1)).filter((line) => line.includes('/eng/')),
    [],
  );
  // A sub-role of a role without limits is not capped.
  t.is(allocation.quotaLimits('ops'), undefined);
});

test('quota limits - reservations count as consumed, allocated or not, a sub-role\'s included, and are offered to their role whole', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.setQuota('r', Resources.EMPTY, { cpus: 3 });
  // A reservation to r's sub-role that no framework uses: never offered to r, still consumed.
  allocation.addAgent('a0', r('cpus(r/x):2;mem(r/x):256'));
  allocation.addAgent('a1', r('cpus:4;mem:1024'));
  allocation.addFramework('fr', { roles: ['r'] });
  allocation.addFramework('fz', { roles: ['z'] });
  t.deepEqual(allocation.quotaLimits('r')?.consumed, { cpus: 2, mem: 256 }, 'before any offer');
  t.deepEqual(show(allocation.allocate(0)), ['fr/r@a1 cpus:1;mem:1024', 'fz/z@a1 cpus:3']);
  t.deepEqual(allocation.quotaLimits('r')?.consumed, { cpus: 3, mem: 1280 });

  // A reservation to r on an agent is offered whole to r even past the limit (it counts
  // already), with none of the agent's unreserved cpus, which nobody else wants now.
  allocation.addAgent('a2', r('cpus(r):2;cpus:4;mem:1024'));
  t.deepEqual(allocation.quotaLimits('r')?.consumed, { cpus: 5, mem: 1280 }, 'the new reservation counts at once');
  allocation.suppress('fz');
  t.deepEqual(show(allocation.allocate(1)), ['fr/r@a2 cpus(r):2;mem:1024']);
  t.deepEqual(allocation.quotaLimits('r')?.consumed, { cpus: 5, mem: 2304 }, 'offering a reservation adds nothing');

  // An agent removed takes its reservations and what was allocated there out of the consumption.
  allocation.removeAgent('a2');
  t.deepEqual(allocation.quotaLimits('r')?.consumed, { cpus: 3, mem: 1280 });
  // A reservation made of allocated resources (RESERVE) neither adds nor takes anything.
  allocation.updateAllocation('fr', 'a1', r('cpus:1'), r('cpus(r):1'), 'r');
  t.deepEqual(allocation.quotaLimits('r')?.consumed, { cpus: 3, mem: 1280 });
  // Nor does giving it back: reserved, it still counts; the unreserved mem does not.
  allocation.recoverResources('fr', 'a1', r('cpus(r):1;mem:1024'));
  t.deepEqual(allocation.quotaLimits('r')?.consumed, { cpus: 3, mem: 256 });
});

test('quota limits - with a guarantee: the role is served its guarantee first, then bursts up to its limit, never beyond', (t) => {
  const run = (limits: Record<string, number>): [number, number] => {
    const allocation = new HierarchicalAllocation();
    allocation.setQuota('q', r('cpus:2;mem:2048'), limits);
    for (let i = 1; i <= 8; i++) allocation.addAgent(`a${i}`, r('cpus:1;mem:1024'));
    allocation.addFramework('fo', { roles: ['o'] });
    allocation.addFramework('fq', { roles: ['q'] });
    const offers = allocation.allocate(0);
    const cpus = (role: string) => offers.filter((o) => o.role === role).reduce((sum, o) => sum + o.resources.cpus(), 0);
    return [cpus('q'), cpus('o')];
  };
  // Stage 1 gives q its 2 agents; fair sharing then splits the other 6 with o.
  t.deepEqual(run({}), [4, 4], 'the control, without limits');
  t.deepEqual(run({ cpus: 3, mem: 3072 }), [3, 5]);
  t.deepEqual(run({ cpus: 2, mem: 2048 }), [2, 6], 'a limit equal to the guarantee (what a v0 request sets)');
});

test('quota limits - raising a limit lets offers resume; lowering it below what the role holds takes nothing away', (t) => {
  const allocation = new HierarchicalAllocation();
  allocation.setQuota('q', Resources.EMPTY, { cpus: 2 });
  allocation.addAgent('a1', r('cpus:4;mem:1024'));
  allocation.addFramework('fq', { roles: ['q'] });
  t.deepEqual(show(allocation.allocate(0)), ['fq/q@a1 cpus:2;mem:1024']);
  t.deepEqual(allocation.allocate(1), [], 'at the limit: the 2 cpus left are not offered');

  allocation.setQuota('q', Resources.EMPTY, { cpus: 3 });
  t.deepEqual(show(allocation.allocate(2)), ['fq/q@a1 cpus:1']);

  // Lowered below what q holds: q keeps its 3 cpus, and is offered no more.
  allocation.setQuota('q', Resources.EMPTY, { cpus: 1 });
  t.is(allocation.allocation('fq').get('a1')?.cpus(), 3);
  allocation.addAgent('a2', r('cpus:4;mem:1024'));
  t.deepEqual(show(allocation.allocate(3)), ['fq/q@a2 mem:1024'], 'mem has no limit');
  // Given back, its cpus come back within the new limit.
  allocation.recoverResources('fq', 'a1', r('cpus:3;mem:1024'));
  t.deepEqual(show(allocation.allocate(4)), ['fq/q@a1 cpus:1;mem:1024']);

  // No limit at all (the quota removed): everything.
  allocation.removeQuota('q');
  t.is(allocation.quotaLimits('q'), undefined);
  t.deepEqual(show(allocation.allocate(5)), ['fq/q@a1 cpus:3', 'fq/q@a2 cpus:4']);
});

test('quota limits - invalid limits are typed errors naming the value', (t) => {
  const allocation = new HierarchicalAllocation();
  t.is(
    t.throws(() => allocation.setQuota('q', r('cpus:4'), { cpus: 2 }), { instanceOf: InvalidQuotaError })?.message,
    `invalid quota for role 'q': guarantee 4 of 'cpus' exceeds its limit 2`,
  );
  t.is(
    t.throws(() => allocation.setQuota('q', Resources.EMPTY, { cpus: -1 }), { instanceOf: InvalidQuotaError })?.message,
    `invalid quota for role 'q': limit 'cpus' must be a number from 0 to 1000000000000, got -1`,
  );
  t.regex(t.throws(() => allocation.setQuota('q', Resources.EMPTY, { 'c pus': 1 }), { instanceOf: InvalidQuotaError })?.message ?? '', /limit 'c pus'/);
  t.throws(() => allocation.setQuota('*', Resources.EMPTY, { cpus: 1 }), { instanceOf: InvalidQuotaError });
  t.is(allocation.quotaLimits('q'), undefined, 'nothing was set');
  // A guarantee within its limit, or on a resource without one, is fine.
  allocation.setQuota('q', r('cpus:2;mem:512'), { cpus: 2 });
  t.deepEqual(allocation.quotaLimits('q')?.limits, { cpus: 2 });
});
