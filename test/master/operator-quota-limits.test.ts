import anyTest, { type TestFn } from 'ava';
import type { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { InMemoryRegistry } from '../../actors/master/registry.ts';
import type { TestCluster } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { operatorCall as call, smallOperatorCluster } from '../helpers/operator.ts';
import type { TestScheduler } from '../helpers/scheduler.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * Quota limits over the operator API (Mesos 1.9+'s `QuotaConfig.limits`): UPDATE_QUOTA takes
 * them (checked: scalars, >= 0, no guarantee above its limit), GET_QUOTA, `/master/quota` and
 * `/master/roles` show them, the registry keeps them for the next leader, and the allocator
 * offers a role no more than they allow. Four `FakeAgent`s of `cpus:1;mem:256`, real HTTP on
 * 127.0.0.1, the paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

const update = (quota_configs: unknown, force?: boolean) => ({ type: 'UPDATE_QUOTA', update_quota: { quota_configs, ...(force !== undefined ? { force } : {}) } });

function allocatorOf(cluster: TestCluster): AllocatorProcess {
  return cluster.runtime.process('allocator') as AllocatorProcess;
}

/** The agents whose resources `scheduler` holds in outstanding offers. */
function heldAgents(scheduler: TestScheduler): number {
  const offered = scheduler.all('resourceOffers').flatMap(([offers]) => offers.map((o) => o.id.value));
  const rescinded = new Set(scheduler.all('offerRescinded').map(([id]) => id.value));
  return offered.filter((id) => !rescinded.has(id)).length;
}

test.serial('operator API - UPDATE_QUOTA takes limits: GET_QUOTA, /master/quota and /master/roles show them, the registry and the allocator have them', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 2);
  const reply = await call(
    ctx,
    update([
      { role: 'eng', guarantees: { cpus: { value: 1 } }, limits: { cpus: { value: 2 }, mem: { value: 512 } } },
      // A limit alone is a quota; a limit of 0 is kept (none of that resource); limits beyond the cluster are fine.
      { role: 'ads', limits: { gpus: { value: 0 }, cpus: { value: 100 } } },
    ]),
  );
  t.deepEqual([reply.status, reply.body], [200, '']);
  const status = {
    infos: [
      { role: 'ads', guarantee: [] },
      { role: 'eng', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] },
    ],
    configs: [
      { role: 'ads', guarantees: {}, limits: { gpus: { value: 0 }, cpus: { value: 100 } } },
      { role: 'eng', guarantees: { cpus: { value: 1 } }, limits: { cpus: { value: 2 }, mem: { value: 512 } } },
    ],
  };
  t.deepEqual((await call(ctx, { type: 'GET_QUOTA' })).json(), { type: 'GET_QUOTA', get_quota: { status } });
  t.deepEqual((await http(ctx.port, 'GET', '/master/quota')).json(), status);
  const roles = (await http(ctx.port, 'GET', '/master/roles')).json() as { roles: { name: string; quota: unknown }[] };
  t.deepEqual(
    roles.roles.map((r) => [r.name, r.quota]),
    [
      ['ads', { role: 'ads', guarantee: {}, limit: { gpus: 0, cpus: 100 } }],
      ['eng', { role: 'eng', guarantee: { cpus: 1 }, limit: { cpus: 2, mem: 512 } }],
    ],
  );
  t.deepEqual(
    [...ctx.registry.quotas],
    [
      ['eng', { guarantees: { cpus: 1 }, limits: { cpus: 2, mem: 512 } }],
      ['ads', { guarantees: {}, limits: { gpus: 0, cpus: 100 } }],
    ],
  );
  const allocation = allocatorOf(ctx.cluster).allocation;
  t.deepEqual(allocation.quotaLimits('eng')?.limits, { cpus: 2, mem: 512 });
  t.deepEqual(allocation.quotaLimits('ads')?.limits, { gpus: 0, cpus: 100 });
  t.is(allocation.quota('ads'), undefined, 'no guarantee');

  // Without guarantees and limits the quota is gone, everywhere.
  t.is((await call(ctx, update([{ role: 'ads', limits: {} }]))).status, 200);
  t.deepEqual([...ctx.cluster.master.quotas.keys()], ['eng']);
  t.deepEqual([...ctx.registry.quotas.keys()], ['eng']);
  t.is(allocation.quotaLimits('ads'), undefined);
});

test.serial('operator API - UPDATE_QUOTA refuses limits below the guarantees, non-scalar, negative or too large, with 400 naming the field and value, and applies none', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 2);
  const ok = { role: 'ok', limits: { cpus: { value: 1 } } };
  const cases: [unknown, RegExp][] = [
    [
      [ok, { role: 'eng', guarantees: { cpus: { value: 2 }, mem: { value: 64 } }, limits: { cpus: { value: 1 } } }],
      /^Invalid QuotaConfig: 'QuotaConfig\.guarantees' \{"cpus":\{"value":2\},"mem":\{"value":64\}\} is not contained within the 'QuotaConfig\.limits' \{"cpus":\{"value":1\}\}: guarantee 2 in 'update_quota\.quota_configs\[1\]\.guarantees\.cpus\.value' exceeds the limit 1 in 'update_quota\.quota_configs\[1\]\.limits\.cpus\.value' for role 'eng'$/,
    ],
    [[ok, { role: 'p', limits: { ports: { value: 10 } } }], /Invalid resource 'ports' in 'update_quota\.quota_configs\[1\]\.limits\.ports': 'ports' is not a scalar resource/],
    [[ok, { role: 'neg', limits: { cpus: { value: -1 } } }], /Invalid value '-1' in 'update_quota\.quota_configs\[1\]\.limits\.cpus\.value': quota quantities must be finite and non-negative/],
    [[ok, { role: 'big', limits: { mem: { value: 2e12 } } }], /Invalid value '2000000000000' in 'update_quota\.quota_configs\[1\]\.limits\.mem\.value': values greater than 1 trillion/],
    [[ok, { role: 'n', limits: { 'c pus': { value: 1 } } }], /Invalid resource name 'c pus' in 'update_quota\.quota_configs\[1\]\.limits\.c pus'/],
    [[ok, { role: 'eng/web', limits: { cpus: { value: 1 } } }], /nested role 'eng\/web' in 'update_quota\.quota_configs\[1\]\.role' is not supported/],
    [[{ role: 'x', limits: { cpus: { value: 'two' } } }], /'update_quota\.quota_configs\[0\]\.limits\.cpus\.value'.*two/],
  ];
  for (const [configs, message] of cases) {
    const reply = await call(ctx, update(configs));
    t.is(reply.status, 400, JSON.stringify(configs));
    t.regex(reply.body, message);
  }
  t.deepEqual([...ctx.cluster.master.quotas], []);
  t.deepEqual([...ctx.registry.quotas], []);
  t.is(allocatorOf(ctx.cluster).allocation.quotaLimits('ok'), undefined);
  // A guarantee equal to its limit, or of a resource without one, is fine.
  t.is((await call(ctx, update([{ role: 'eng', guarantees: { cpus: { value: 1 }, mem: { value: 64 } }, limits: { cpus: { value: 1 } } }]))).status, 200);
});

test.serial('operator API - a role is offered no more than its limits; raised, offers resume; lowered, its outstanding offers are rescinded and made again within them', async (t) => {
  const ctx = await smallOperatorCluster(t);
  const { cluster } = ctx;
  t.is((await call(ctx, update([{ role: 'b', limits: { cpus: { value: 2 }, mem: { value: 512 } } }]))).status, 200);
  const b = await cluster.startFramework({ roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.is(heldAgents(b.scheduler), 2, 'two agents of four: cpus:2;mem:512');
  // Another role gets the rest.
  const a = await cluster.startFramework({ roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.is(heldAgents(a.scheduler), 2);
  t.deepEqual(allocatorOf(cluster).allocation.quotaLimits('b')?.consumed, { cpus: 2, mem: 512 });

  // The other framework declines: b is at its limits and is offered none of it.
  for (const [[offer]] of a.scheduler.all('resourceOffers')) a.driver.declineOffer(offer!.id, { refuse_seconds: 1000 });
  await cluster.settle();
  const before = b.scheduler.all('resourceOffers').length;
  for (let i = 0; i < 3; i++) {
    cluster.clock.advance(ALLOCATION_INTERVAL_MS);
    await cluster.settle();
  }
  t.is(b.scheduler.all('resourceOffers').length, before, 'no offer to b over three cycles');

  // Raised: the next allocation offers b one agent more.
  t.is((await call(ctx, update([{ role: 'b', limits: { cpus: { value: 3 }, mem: { value: 768 } } }]))).status, 200);
  cluster.clock.advance(ALLOCATION_INTERVAL_MS);
  await cluster.settle();
  t.is(heldAgents(b.scheduler), 3);
  t.is(b.scheduler.all('offerRescinded').length, 0, 'a raised limit rescinds nothing');

  // Lowered: b's three offers are rescinded; one agent's worth is offered again.
  t.is((await call(ctx, update([{ role: 'b', limits: { cpus: { value: 1 }, mem: { value: 256 } } }]))).status, 200);
  await cluster.settle();
  t.is(b.scheduler.all('offerRescinded').length, 3);
  t.is(heldAgents(b.scheduler), 1);
  t.deepEqual(allocatorOf(cluster).allocation.quotaLimits('b')?.consumed, { cpus: 1, mem: 256 });
});

test.serial('master - a v0 QuotaRequest (POST /master/quota, SET_QUOTA) sets its guarantee as the limit too, as Mesos 1.9+ does, and the role is offered no more', async (t) => {
  const ctx = await smallOperatorCluster(t);
  const { cluster } = ctx;
  const request = JSON.stringify({ role: 'b', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 256 } }] });
  t.is((await http(ctx.port, 'POST', '/master/quota', request)).status, 200);
  t.deepEqual((await call(ctx, { type: 'GET_QUOTA' })).json().get_quota.status.configs, [
    { role: 'b', guarantees: { cpus: { value: 1 }, mem: { value: 256 } }, limits: { cpus: { value: 1 }, mem: { value: 256 } } },
  ]);
  const b = await cluster.startFramework({ roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.is(heldAgents(b.scheduler), 1, 'its guarantee, and no more');
  const set = { type: 'SET_QUOTA', set_quota: { quota_request: { role: 'c', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] } } };
  t.is((await call(ctx, set)).status, 200);
  t.deepEqual(ctx.cluster.master.quotas.get('c'), { guarantees: { cpus: 1 }, limits: { cpus: 1 } });
});

test.serial('master - limits survive a master failover: the next leader reads them from the registry and its allocator enforces them before it allocates', async (t) => {
  const registry = new InMemoryRegistry();
  const first = await smallOperatorCluster(t, registry, {}, 0);
  t.is((await call(first, update([{ role: 'b', guarantees: { cpus: { value: 1 } }, limits: { cpus: { value: 2 }, mem: { value: 512 } } }], true))).status, 200);
  first.cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });

  // A new master on the same registry, as after a failover.
  const ctx = await smallOperatorCluster(t, registry, {}, 4);
  t.deepEqual([...ctx.cluster.master.quotas], [['b', { guarantees: { cpus: 1 }, limits: { cpus: 2, mem: 512 } }]]);
  t.deepEqual(allocatorOf(ctx.cluster).allocation.quotaLimits('b')?.limits, { cpus: 2, mem: 512 });
  t.deepEqual((await call(ctx, { type: 'GET_QUOTA' })).json().get_quota.status.configs, [
    { role: 'b', guarantees: { cpus: { value: 1 } }, limits: { cpus: { value: 2 }, mem: { value: 512 } } },
  ]);
  const b = await ctx.cluster.startFramework({ roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.is(heldAgents(b.scheduler), 2);
});
