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
 * Role weights at runtime, after Mesos's `weights_handler.cpp` and `DynamicWeightsTest`:
 * GET_WEIGHTS / UPDATE_WEIGHTS on `POST /api/v1`, `GET`/`PUT /master/weights`; an update is
 * written to the registry, reaches the allocator, and rescinds the outstanding offers when a
 * framework is in an updated role, so the next allocation follows it. A new leader takes the
 * registry's weights over `--weights`. Real HTTP on 127.0.0.1, `FakeAgent`s, the paused Clock.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);



const update = (weight_infos: unknown) => ({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos } });

/** How many agents' resources `scheduler` was offered from its `from`-th `resourceOffers` callback on. */
function offeredAgents(scheduler: TestScheduler, from: number): number {
  return new Set(scheduler.all('resourceOffers').slice(from).flatMap(([offers]) => offers.map((o) => o.agent_id.value))).size;
}

function allocatorOf(cluster: TestCluster): AllocatorProcess {
  return cluster.runtime.process('allocator') as AllocatorProcess;
}

test.serial('operator API - UPDATE_WEIGHTS changes what the next allocation offers two roles: 2 and 2 agents at equal weights, 1 and 3 with b at 3', async (t) => {
  const ctx = await smallOperatorCluster(t);
  const { cluster } = ctx;
  const a = await cluster.startFramework({ roles: ['a'], capabilities: [{ type: 'MULTI_ROLE' }] });
  const b = await cluster.startFramework({ roles: ['b'], capabilities: [{ type: 'MULTI_ROLE' }] });
  // The first framework holds every agent's offer: the second, subscribed after, has none.
  t.is(offeredAgents(a.scheduler, 0), 4);
  t.is(offeredAgents(b.scheduler, 0), 0);

  // Equal weights (the control): every offer rescinded, the next allocation shares 2 and 2.
  let [fromA, fromB] = [a.scheduler.all('resourceOffers').length, b.scheduler.all('resourceOffers').length];
  let reply = await call(ctx, update([{ role: 'b', weight: 1 }]));
  t.deepEqual([reply.status, reply.body], [200, '']);
  await cluster.settle();
  t.is(a.scheduler.all('offerRescinded').length, 4, "a's four offers rescinded");
  t.deepEqual([offeredAgents(a.scheduler, fromA), offeredAgents(b.scheduler, fromB)], [2, 2]);

  // `b` weighs 3: it is owed three times `a`'s share, and is offered 3 agents of 4.
  [fromA, fromB] = [a.scheduler.all('resourceOffers').length, b.scheduler.all('resourceOffers').length];
  reply = await call(ctx, update([{ role: 'b', weight: 3 }]));
  t.deepEqual([reply.status, reply.body], [200, '']);
  await cluster.settle();
  t.deepEqual([offeredAgents(a.scheduler, fromA), offeredAgents(b.scheduler, fromB)], [1, 3]);
  t.is(allocatorOf(cluster).allocation.weight('b'), 3);
});

test.serial('operator API - GET_WEIGHTS, /master/weights, GET_ROLES and /master/roles show an update; the registry has it', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), { weights: { eng: 2 } }, 0);
  let weights = await call(ctx, { type: 'GET_WEIGHTS' });
  t.deepEqual(weights.json(), { type: 'GET_WEIGHTS', get_weights: { weight_infos: [{ role: 'eng', weight: 2 }] } });

  const reply = await call(ctx, update([{ role: ' ads ', weight: 0.5 }, { role: 'eng', weight: 4 }]));
  t.is(reply.status, 200);
  weights = await call(ctx, { type: 'GET_WEIGHTS' });
  const expected = [{ role: 'ads', weight: 0.5 }, { role: 'eng', weight: 4 }];
  t.deepEqual(weights.json(), { type: 'GET_WEIGHTS', get_weights: { weight_infos: expected } }, "roles trimmed, as Mesos's");
  t.deepEqual((await http(ctx.port, 'GET', '/master/weights')).json(), expected);
  const roles = (await call(ctx, { type: 'GET_ROLES' })).json() as { get_roles: { roles: { name: string; weight: number }[] } };
  t.deepEqual(roles.get_roles.roles.map((r) => [r.name, r.weight]), [['ads', 0.5], ['eng', 4]]);
  const v0 = (await http(ctx.port, 'GET', '/master/roles')).json() as { roles: { name: string; weight: number }[] };
  t.deepEqual(v0.roles.map((r) => [r.name, r.weight]), [['ads', 0.5], ['eng', 4]]);
  t.deepEqual([...ctx.registry.weights], [['eng', 4], ['ads', 0.5]]);
  t.is(allocatorOf(ctx.cluster).allocation.weight('ads'), 0.5);
});

test.serial('operator API - UPDATE_WEIGHTS refuses a bad entry with 400 naming the field and value, and applies none of the others', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 0);
  const cases: [unknown, RegExp][] = [
    [[{ role: 'ok', weight: 2 }, { role: '-bad', weight: 2 }], /Invalid role '-bad' in 'update_weights\.weight_infos\[1\]\.role': role '-bad' must not start with '-'/],
    [[{ role: 'ok', weight: 2 }, { role: 'zero', weight: 0 }], /for role 'zero': Invalid weight '0' in 'update_weights\.weight_infos\[1\]\.weight': Weights must be positive/],
    [[{ role: 'neg', weight: -1 }], /Invalid weight '-1' in 'update_weights\.weight_infos\[0\]\.weight'/],
    [[{ weight: 1 }], /Invalid role '' in 'update_weights\.weight_infos\[0\]\.role': role must not be empty/],
    [[{ role: 'dup', weight: 1 }, { role: 'dup', weight: 2 }], /Duplicate role 'dup' in 'update_weights\.weight_infos\[1\]\.role': 'update_weights\.weight_infos\[0\]\.role' names it already/],
    [[{ role: 'x', weight: 'heavy' }], /'update_weights\.weight_infos\[0\]\.weight'.*heavy/],
  ];
  for (const [infos, message] of cases) {
    const reply = await call(ctx, update(infos));
    t.is(reply.status, 400, JSON.stringify(infos));
    t.regex(reply.body, message);
  }
  const missing = await call(ctx, { type: 'UPDATE_WEIGHTS' });
  t.deepEqual([missing.status, missing.body], [400, "Failed to validate master::Call: Expecting 'update_weights' to be present"]);
  t.deepEqual([...ctx.cluster.master.weights], []);
  t.deepEqual([...ctx.registry.weights], []);
});

test.serial('master - /master/weights: GET the weights, PUT an array as UPDATE_WEIGHTS, 400 naming the field and value, 405 for other methods', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 0);
  t.deepEqual((await http(ctx.port, 'GET', '/master/weights')).json(), []);
  const put = await http(ctx.port, 'PUT', '/master/weights', JSON.stringify([{ role: 'eng', weight: 2.5 }]));
  t.deepEqual([put.status, put.body], [200, '']);
  t.deepEqual((await http(ctx.port, 'GET', '/master/weights')).json(), [{ role: 'eng', weight: 2.5 }]);
  t.is(allocatorOf(ctx.cluster).allocation.weight('eng'), 2.5);

  const notArray = await http(ctx.port, 'PUT', '/master/weights', JSON.stringify({ role: 'eng', weight: 3 }));
  t.is(notArray.status, 400);
  t.regex(notArray.body, /^Failed to parse update weights request JSON \('\{"role":"eng","weight":3\}'\): expecting a JSON array/);
  const notJson = await http(ctx.port, 'PUT', '/master/weights', 'eng=3');
  t.is(notJson.status, 400);
  t.regex(notJson.body, /^Failed to parse update weights request JSON \('eng=3'\)/);
  const zero = await http(ctx.port, 'PUT', '/master/weights', JSON.stringify([{ role: 'eng', weight: 0 }]));
  t.is(zero.status, 400);
  t.regex(zero.body, /Invalid weight '0' in '\[0\]\.weight': Weights must be positive/);
  const notNumber = await http(ctx.port, 'PUT', '/master/weights', JSON.stringify([{ role: 'eng', weight: '3' }]));
  t.is(notNumber.status, 400);
  t.regex(notNumber.body, /^Failed to convert weights JSON array to protobuf .*'\[0\]\.weight'/);
  const del = await http(ctx.port, 'DELETE', '/master/weights');
  t.is(del.status, 405);
  t.deepEqual((await http(ctx.port, 'GET', '/master/weights')).json(), [{ role: 'eng', weight: 2.5 }]);
});

test.serial('master - a new leader takes the weights of the registry over --weights, and the allocator allocates by them', async (t) => {
  const registry = new InMemoryRegistry([], { weights: [{ role: 'eng', weight: 3 }] });
  const ctx = await smallOperatorCluster(t, registry, { weights: { eng: 2, ads: 5 } }, 0);
  t.deepEqual([...ctx.cluster.master.weights], [['eng', 3]]);
  const allocation = allocatorOf(ctx.cluster).allocation;
  t.deepEqual([allocation.weight('eng'), allocation.weight('ads')], [3, 1], '--weights only roles back to 1');
  t.deepEqual((await http(ctx.port, 'GET', '/master/weights')).json(), [{ role: 'eng', weight: 3 }]);
});

test.serial('master - a first leader writes --weights to an empty registry, for the next one', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), { weights: { eng: 2 } }, 0);
  t.deepEqual([...ctx.registry.weights], [['eng', 2]]);
});

test.serial('operator API - a master that is not leading answers GET_WEIGHTS, UPDATE_WEIGHTS and /master/weights as the other calls: 503 with no leader known, 307 to the leader', async (t) => {
  const ctx = await smallOperatorCluster(t, new InMemoryRegistry(), {}, 0);
  ctx.cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  for (const reply of [await call(ctx, { type: 'GET_WEIGHTS' }), await call(ctx, update([{ role: 'eng', weight: 2 }])), await http(ctx.port, 'GET', '/master/weights')]) {
    t.deepEqual([reply.status, reply.body], [503, 'No leader elected']);
  }
  ctx.cluster.master.leader = { pid: 'master@other', id: 'other', hostname: '10.0.0.9', url: 'http://10.0.0.9:5050' };
  const put = await http(ctx.port, 'PUT', '/master/weights', '[]');
  t.deepEqual([put.status, put.headers.location], [307, '//10.0.0.9:5050/master/weights']);
  t.deepEqual([...ctx.cluster.master.weights], []);
});
