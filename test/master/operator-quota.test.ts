import anyTest, { type TestFn } from 'ava';
import type { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { InMemoryRegistry } from '../../actors/master/registry.ts';
import type { TestCluster } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import type { TestScheduler } from '../helpers/scheduler.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';
import { operatorCall as call, smallOperatorCluster } from '../helpers/operator.ts';

/**
 * Role quotas at runtime, after Mesos's `quota_handler.cpp` and `MasterQuotaTest`: GET_QUOTA /
 * UPDATE_QUOTA on `POST /api/v1`, `GET`/`POST /master/quota`; an update is checked whole and
 * against the cluster's capacity (unless `force`), written to the registry, reaches the
 * allocator and rescinds outstanding offers, so the next allocation serves the guarantee
 * first. A new leader takes the registry's quotas. Real HTTP on 127.0.0.1, `FakeAgent`s, the
 * paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);



const update = (quota_configs: unknown, force?: boolean) => ({ type: 'UPDATE_QUOTA', update_quota: { quota_configs, ...(force !== undefined ? { force } : {}) } });

/** How many agents' resources `scheduler` was offered from its `from`-th `resourceOffers` callback on. */
function offeredAgents(scheduler: TestScheduler, from: number): number {
  return new Set(scheduler.all('resourceOffers').slice(from).flatMap(([offers]) => offers.map((o) => o.agent_id.value))).size;
}

/** The cpus offered to `scheduler` over all its `resourceOffers` callbacks. */
function offeredCpus(scheduler: TestScheduler): number {
  return scheduler
    .all('resourceOffers')
    .flatMap(([offers]) => offers.flatMap((o) => o.resources ?? []))
    .reduce((sum, r) => sum + (r?.name === 'cpus' ? (r.scalar?.value ?? 0) : 0), 0);
}

function allocatorOf(cluster: TestCluster): AllocatorProcess {
  return cluster.runtime.process('allocator') as AllocatorProcess;
}

test.serial('operator API - UPDATE_QUOTA changes what the next allocation offers: 2 and 2 agents by DRF, 0 and 4 once b is guaranteed 4 cpus', async (t) => {
  const ctx = await smallOperatorCluster(t);
  const { cluster } = ctx;
  const a = await cluster.startFramework({ roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] });
  const b = await cluster.startFramework({ roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.deepEqual([offeredAgents(a.scheduler, 0), offeredAgents(b.scheduler, 0)], [4, 0]);

  // The control, without quota: every offer rescinded (a weight update), DRF shares 2 and 2.
  let [fromA, fromB] = [a.scheduler.all('resourceOffers').length, b.scheduler.all('resourceOffers').length];
  let reply = await call(ctx, { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'b', weight: 1 }] } });
  t.is(reply.status, 200);
  await cluster.settle();
  t.deepEqual([offeredAgents(a.scheduler, fromA), offeredAgents(b.scheduler, fromB)], [2, 2]);

  // `b` is guaranteed 4 cpus: offers are rescinded until 4 cpus are back, and all go to `b` first.
  const rescinded = a.scheduler.all('offerRescinded').length + b.scheduler.all('offerRescinded').length;
  [fromA, fromB] = [a.scheduler.all('resourceOffers').length, b.scheduler.all('resourceOffers').length];
  reply = await call(ctx, update([{ role: 'b', guarantees: { cpus: { value: 4 } } }]));
  t.deepEqual([reply.status, reply.body], [200, '']);
  await cluster.settle();
  t.is(a.scheduler.all('offerRescinded').length + b.scheduler.all('offerRescinded').length - rescinded, 4, 'the four outstanding offers rescinded');
  t.deepEqual([offeredAgents(a.scheduler, fromA), offeredAgents(b.scheduler, fromB)], [0, 4]);
  t.is(allocatorOf(cluster).allocation.quota('b')?.cpus(), 4);
});

test.serial('operator API - GET_QUOTA and GET /master/quota show an update as QuotaInfos and QuotaConfigs; the registry has it; an empty config removes it', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 2);
  let quota = await call(ctx, { type: 'GET_QUOTA' });
  t.deepEqual(quota.json(), { type: 'GET_QUOTA', get_quota: { status: { infos: [], configs: [] } } });

  const reply = await call(ctx, update([{ role: 'eng', guarantees: { cpus: { value: 1.5 }, mem: { value: 256 } } }, { role: 'ads', guarantees: { cpus: { value: 0.5 } } }]));
  t.deepEqual([reply.status, reply.body], [200, '']);
  const status = {
    infos: [
      { role: 'ads', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }] },
      { role: 'eng', guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1.5 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 256 } }] },
    ],
    configs: [
      { role: 'ads', guarantees: { cpus: { value: 0.5 } }, limits: {} },
      { role: 'eng', guarantees: { cpus: { value: 1.5 }, mem: { value: 256 } }, limits: {} },
    ],
  };
  quota = await call(ctx, { type: 'GET_QUOTA' });
  t.deepEqual(quota.json(), { type: 'GET_QUOTA', get_quota: { status } });
  t.deepEqual((await http(ctx.port, 'GET', '/master/quota')).json(), status);
  t.deepEqual([...ctx.registry.quotas], [['eng', { guarantees: { cpus: 1.5, mem: 256 }, limits: {} }], ['ads', { guarantees: { cpus: 0.5 }, limits: {} }]]);
  t.deepEqual(allocatorOf(ctx.cluster).allocation.quota('eng')?.toString(), 'cpus:1.5;mem:256');
  // `/master/roles` lists the roles with quota, each with its `quota` as Mesos 1.11's; GET_ROLES lists them.
  const v0 = (await http(ctx.port, 'GET', '/master/roles')).json() as { roles: { name: string; quota: unknown }[] };
  t.deepEqual(
    v0.roles.map((r) => [r.name, r.quota]),
    [
      ['ads', { role: 'ads', guarantee: { cpus: 0.5 }, limit: {} }],
      ['eng', { role: 'eng', guarantee: { cpus: 1.5, mem: 256 }, limit: {} }],
    ],
  );
  const roles = (await call(ctx, { type: 'GET_ROLES' })).json() as { get_roles: { roles: { name: string }[] } };
  t.deepEqual(roles.get_roles.roles.map((r) => r.name), ['ads', 'eng']);

  // No guarantees (or only zeros): the role's quota is removed, everywhere.
  const removed = await call(ctx, update([{ role: 'eng' }, { role: 'ads', guarantees: { cpus: { value: 0 } } }]));
  t.is(removed.status, 200);
  t.deepEqual((await call(ctx, { type: 'GET_QUOTA' })).json(), { type: 'GET_QUOTA', get_quota: { status: { infos: [], configs: [] } } });
  t.deepEqual([...ctx.cluster.master.quotas], []);
  t.deepEqual([...ctx.registry.quotas], []);
  t.is(allocatorOf(ctx.cluster).allocation.quota('eng'), undefined);
  t.is(allocatorOf(ctx.cluster).allocation.quota('ads'), undefined);
});

test.serial('operator API - UPDATE_QUOTA refuses a bad entry with 400 naming the field and value, and applies none of the others', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 2);
  const ok = { role: 'ok', guarantees: { cpus: { value: 1 } } };
  const cases: [unknown, RegExp][] = [
    [[ok, { role: '-bad', guarantees: { cpus: { value: 1 } } }], /Invalid role '-bad' in 'update_quota\.quota_configs\[1\]\.role': role '-bad' must not start with '-'/],
    [[ok, { guarantees: { cpus: { value: 1 } } }], /Invalid role '' in 'update_quota\.quota_configs\[1\]\.role': role must not be empty/],
    [[ok, { role: '*', guarantees: { cpus: { value: 1 } } }], /Invalid role '\*' in 'update_quota\.quota_configs\[1\]\.role'/],
    [[ok, { role: 'eng/web', guarantees: { cpus: { value: 1 } } }], /nested role 'eng\/web' in 'update_quota\.quota_configs\[1\]\.role' is not supported/],
    [[ok, { role: 'neg', guarantees: { cpus: { value: -1 } } }], /Invalid value '-1' in 'update_quota\.quota_configs\[1\]\.guarantees\.cpus\.value'/],
    [[ok, { role: 'p', guarantees: { ports: { value: 10 } } }], /Invalid resource 'ports' in 'update_quota\.quota_configs\[1\]\.guarantees\.ports': 'ports' is not a scalar/],
    [[ok, { role: 'n', guarantees: { 'c pus': { value: 1 } } }], /Invalid resource name 'c pus' in 'update_quota\.quota_configs\[1\]\.guarantees\.c pus'/],
    [[ok, { role: 'ok', guarantees: { cpus: { value: 1 } } }], /Duplicate role 'ok' in 'update_quota\.quota_configs\[1\]\.role': 'update_quota\.quota_configs\[0\]\.role' names it already/],
    [[{ role: 'x', guarantees: { cpus: { value: 'two' } } }], /'update_quota\.quota_configs\[0\]\.guarantees\.cpus\.value'.*two/],
  ];
  for (const [configs, message] of cases) {
    const reply = await call(ctx, update(configs));
    t.is(reply.status, 400, JSON.stringify(configs));
    t.regex(reply.body, message);
  }
  const missing = await call(ctx, { type: 'UPDATE_QUOTA' });
  t.deepEqual([missing.status, missing.body], [400, "Failed to validate master::Call: Expecting 'update_quota' to be present"]);
  t.deepEqual([...ctx.cluster.master.quotas], []);
  t.deepEqual([...ctx.registry.quotas], []);
  t.is(allocatorOf(ctx.cluster).allocation.quota('ok'), undefined);
});

test.serial('operator API - UPDATE_QUOTA refuses guarantees beyond the cluster capacity (all roles summed) unless force is true', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 4);
  let reply = await call(ctx, update([{ role: 'eng', guarantees: { cpus: { value: 5 } } }]));
  t.is(reply.status, 400);
  t.is(reply.body, "Invalid QuotaConfig: total quota guarantees 'cpus:5' exceed cluster capacity 'cpus:4; mem:1024' (use 'force' flag to bypass this check)");
  t.deepEqual([...ctx.cluster.master.quotas], []);

  // Within capacity alone, beyond it with the quota of another role.
  t.is((await call(ctx, update([{ role: 'eng', guarantees: { cpus: { value: 3 } } }]))).status, 200);
  reply = await call(ctx, update([{ role: 'ads', guarantees: { cpus: { value: 2 } } }]));
  t.is(reply.status, 400);
  t.regex(reply.body, /total quota guarantees 'cpus:5' exceed cluster capacity 'cpus:4; mem:1024'/);
  // Replacing a role's own quota counts it once.
  t.is((await call(ctx, update([{ role: 'eng', guarantees: { cpus: { value: 4 } } }]))).status, 200);

  reply = await call(ctx, update([{ role: 'ads', guarantees: { cpus: { value: 2 }, gpus: { value: 1 } } }], true));
  t.deepEqual([reply.status, reply.body], [200, '']);
  const quotas = [['eng', { guarantees: { cpus: 4 }, limits: {} }], ['ads', { guarantees: { cpus: 2, gpus: 1 }, limits: {} }]];
  t.deepEqual([...ctx.cluster.master.quotas], quotas);
  t.deepEqual([...ctx.registry.quotas], quotas);
});

test.serial('master - /master/quota: GET the status, POST a v0 QuotaRequest (409 over capacity unless force), 400 naming the field, 405 for other methods', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 2);
  t.deepEqual((await http(ctx.port, 'GET', '/master/quota')).json(), { infos: [], configs: [] });
  const request = (role: string, cpus: number, force?: boolean) => JSON.stringify({ role, guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: cpus } }], ...(force !== undefined ? { force } : {}) });

  let reply = await http(ctx.port, 'POST', '/master/quota', request('eng', 1));
  t.deepEqual([reply.status, reply.body], [200, '']);
  // As Mesos 1.9+ translates a v0 request: the guarantee also acts as limit.
  t.deepEqual((await http(ctx.port, 'GET', '/master/quota')).json().configs, [{ role: 'eng', guarantees: { cpus: { value: 1 } }, limits: { cpus: { value: 1 } } }]);
  t.is(allocatorOf(ctx.cluster).allocation.quota('eng')?.cpus(), 1);

  reply = await http(ctx.port, 'POST', '/master/quota', request('ads', 2));
  t.is(reply.status, 409);
  t.is(reply.body, "Quota guarantees overcommit the cluster (use 'force' to bypass this check): total quota guarantees 'cpus:3' exceed cluster capacity 'cpus:2; mem:512'");
  reply = await http(ctx.port, 'POST', '/master/quota', request('ads', 2, true));
  t.is(reply.status, 200);

  const notJson = await http(ctx.port, 'POST', '/master/quota', 'eng=3');
  t.is(notJson.status, 400);
  t.regex(notJson.body, /^Failed to parse set quota request JSON 'eng=3'/);
  const ports = await http(ctx.port, 'POST', '/master/quota', JSON.stringify({ role: 'p', guarantee: [{ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } }] }));
  t.is(ports.status, 400);
  t.regex(ports.body, /Invalid resource 'ports' in 'guarantee\[0\]'/);
  const badRole = await http(ctx.port, 'POST', '/master/quota', request('-x', 1));
  t.is(badRole.status, 400);
  t.regex(badRole.body, /Invalid role '-x' in 'request\[0\]\.role'/);
  t.is((await http(ctx.port, 'DELETE', '/master/quota')).status, 405);
  t.deepEqual([...ctx.cluster.master.quotas], [['eng', { guarantees: { cpus: 1 }, limits: { cpus: 1 } }], ['ads', { guarantees: { cpus: 2 }, limits: { cpus: 2 } }]]);
});

test.serial('master - a quota is removed by DELETE /master/quota/<role> and by REMOVE_QUOTA (400 for a role without one); SET_QUOTA takes a v0 QuotaRequest', async (t) => {
  const registry = new InMemoryRegistry();
  const ctx = await smallOperatorCluster(t, registry, {}, 2);
  const request = (role: string, cpus: number) => ({ role, guarantee: [{ name: 'cpus', type: 'SCALAR', scalar: { value: cpus } }] });
  let reply = await call(ctx, { type: 'SET_QUOTA', set_quota: { quota_request: request('eng', 1) } });
  t.deepEqual([reply.status, reply.body], [200, '']);
  reply = await call(ctx, { type: 'SET_QUOTA', set_quota: { quota_request: request('ads', 1) } });
  t.is(reply.status, 200);
  reply = await call(ctx, { type: 'SET_QUOTA', set_quota: { quota_request: request('web', 5) } });
  t.is(reply.status, 409, 'over capacity, as POST /master/quota');
  t.deepEqual([...ctx.cluster.master.quotas.keys()], ['eng', 'ads']);

  // The role in the path is %-decoded.
  reply = await http(ctx.port, 'DELETE', '/master/quota/e%6Eg');
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.deepEqual([...ctx.cluster.master.quotas.keys()], ['ads']);
  t.is(allocatorOf(ctx.cluster).allocation.quota('eng'), undefined, 'the allocator heard of it');
  t.deepEqual(registry.recoverSettings().quotas.map((q) => q.role), ['ads'], 'the registry first');
  reply = await http(ctx.port, 'DELETE', '/master/quota/eng');
  t.deepEqual([reply.status, reply.body], [400, "Failed to remove quota: Role 'eng' has no quota set"]);
  t.is((await http(ctx.port, 'DELETE', '/quota/ads')).status, 200, 'at the top level too (the master is the delegate)');
  t.is((await call(ctx, { type: 'SET_QUOTA', set_quota: { quota_request: request('ads', 1) } })).status, 200);
  t.is((await http(ctx.port, 'GET', '/master/quota/ads')).status, 405);

  reply = await call(ctx, { type: 'REMOVE_QUOTA', remove_quota: { role: 'ads' } });
  t.deepEqual([reply.status, reply.body], [200, '']);
  t.deepEqual([...ctx.cluster.master.quotas.keys()], []);
  reply = await call(ctx, { type: 'REMOVE_QUOTA', remove_quota: { role: 'ads' } });
  t.deepEqual([reply.status, reply.body], [400, "Failed to remove quota: Role 'ads' has no quota set"]);
  t.is((await call(ctx, { type: 'REMOVE_QUOTA' })).status, 400);
});

test.serial('master - a new leader takes the quotas of the registry, and the allocator serves them before it allocates', async (t) => {
  const registry = new InMemoryRegistry([], { quotas: [{ role: 'b', guarantees: { cpus: 3 } }] });
  const ctx = await smallOperatorCluster(t, registry, {}, 4);
  const { cluster } = ctx;
  t.deepEqual([...cluster.master.quotas], [['b', { guarantees: { cpus: 3 }, limits: {} }]]);
  t.is(allocatorOf(cluster).allocation.quota('b')?.cpus(), 3);
  t.deepEqual((await call(ctx, { type: 'GET_QUOTA' })).json().get_quota.status.configs, [{ role: 'b', guarantees: { cpus: { value: 3 } }, limits: {} }]);
  // Without the quota the first framework would hold all four agents (see the first test).
  const a = await cluster.startFramework({ roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.is(offeredCpus(a.scheduler), 1, "three agents' cpus laid away for b (a is offered their mem only)");
  const b = await cluster.startFramework({ roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  t.is(offeredCpus(b.scheduler), 3);
});

test.serial('operator API - a master that is not leading answers GET_QUOTA, UPDATE_QUOTA and /master/quota as the other calls: 503 with no leader known, 307 to the leader', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 0);
  ctx.cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  for (const reply of [
    await call(ctx, { type: 'GET_QUOTA' }),
    await call(ctx, update([{ role: 'eng', guarantees: { cpus: { value: 1 } } }], true)),
    await http(ctx.port, 'GET', '/master/quota'),
  ]) {
    t.deepEqual([reply.status, reply.body], [503, 'No leader elected']);
  }
  ctx.cluster.master.leader = { pid: 'master@other', id: 'other', hostname: '10.0.0.9', url: 'http://10.0.0.9:5050' };
  const post = await http(ctx.port, 'POST', '/master/quota', '{}');
  t.deepEqual([post.status, post.headers.location], [307, '//10.0.0.9:5050/master/quota']);
  const v1 = await call(ctx, { type: 'GET_QUOTA' });
  t.deepEqual([v1.status, v1.headers.location], [307, '//10.0.0.9:5050/api/v1']);
  t.deepEqual([...ctx.cluster.master.quotas], []);
  t.deepEqual([...ctx.registry.quotas], []);
});
