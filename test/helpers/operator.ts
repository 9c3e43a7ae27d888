import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import type { MasterOptions } from '../../actors/master/master-process.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { InMemoryRegistry } from '../../actors/master/registry.ts';
import { startTestCluster, type TestCluster } from './cluster.ts';
import type { FakeAgent } from './fake-agent.ts';
import { http, type Reply } from './http.ts';
import type { Bus } from './worlds.ts';

/** What the operator API tests start with: a master serving HTTP on 127.0.0.1, its registry and agents. */
export interface OperatorCluster {
  readonly cluster: TestCluster;
  readonly registry: InMemoryRegistry;
  readonly agents: FakeAgent[];
  readonly port: number;
}

/**
 * A test cluster (paused Clock) whose master serves HTTP on a free port and keeps its registry
 * in `registry`, with `agents` `FakeAgent`s of `resources` registered.
 */
export async function startOperatorCluster(
  t: { teardown(fn: () => unknown): void },
  bus: Bus,
  options: { registry?: InMemoryRegistry; master?: MasterOptions; agents?: number; resources?: string } = {},
): Promise<OperatorCluster> {
  const registry = options.registry ?? new InMemoryRegistry();
  const cluster = await startTestCluster(t, bus, { http: { port: 0 }, master: { registry, ...options.master } });
  const agents: FakeAgent[] = [];
  for (let i = 0; i < (options.agents ?? 0); i++) agents.push(await cluster.addAgent(options.resources));
  return { cluster, registry, agents, port: cluster.runtime.httpAddress!.port };
}

/** `POST /api/v1`: a v1 operator call, an object sent as JSON and a string as it is. */
export function operatorCall(ctx: { port: number }, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return http(ctx.port, 'POST', '/api/v1', typeof body === 'string' ? body : JSON.stringify(body), { headers });
}

/** `startOperatorCluster` with `agents` (default 4) agents of `cpus:1;mem:256`: the weights and quota tests' cluster. */
export function smallOperatorCluster(
  t: { teardown(fn: () => unknown): void; context: { bus: Bus } },
  registry = new InMemoryRegistry(),
  master: MasterOptions = {},
  agents = 4,
): Promise<OperatorCluster> {
  return startOperatorCluster(t, t.context.bus, { registry, master, agents, resources: 'cpus:1;mem:256' });
}

/**
 * A framework running `t1` (1 cpu) on the cluster's `agent`, a `FakeAgent` that reports it
 * TASK_RUNNING; the rest of the agent offered to it again. With `explicitAcknowledgements` the
 * framework acknowledges its updates itself (TASK_RUNNING's here).
 */
export async function runningT1(ctx: { cluster: TestCluster; agent: FakeAgent }, options: { explicitAcknowledgements?: boolean } = {}) {
  const { cluster, agent } = ctx;
  const explicit = options.explicitAcknowledgements === true;
  const { driver, scheduler, frameworkId } = await cluster.startFramework({}, explicit ? { implicitAcknowledgements: false } : {});
  const [[offer]] = await scheduler.next('resourceOffers');
  driver.launchTasks(offer!.id, [
    { name: 't1', task_id: { value: 't1' }, agent_id: offer!.agent_id, resources: Resources.parse('cpus:1;mem:128').toJSON(), command: { value: 'sleep 1000' } },
  ]);
  await cluster.settle();
  const run = agent.runTasks.find((r) => r.task.task_id.value === 't1')!;
  agent.update(run, 'TASK_RUNNING');
  const [status] = await scheduler.next('statusUpdate');
  if (status.state !== 'TASK_RUNNING') throw new Error(`t1 is ${status.state}`);
  if (explicit) driver.acknowledgeStatusUpdate(status);
  // Past the default 5 s filter on what the launch left unused.
  cluster.clock.advance(ALLOCATION_INTERVAL_MS * 6);
  await cluster.settle();
  const [[rest]] = await scheduler.next('resourceOffers');
  return { driver, scheduler, frameworkId, run, rest: rest! };
}

/** Three allocation cycles pass; resolves with how many offers the scheduler got meanwhile. */
export async function allocationCycles(cluster: TestCluster, scheduler: { all(name: 'resourceOffers'): unknown[] }): Promise<number> {
  const before = scheduler.all('resourceOffers').length;
  for (let i = 0; i < 3; i++) {
    cluster.clock.advance(ALLOCATION_INTERVAL_MS);
    await cluster.settle();
  }
  return scheduler.all('resourceOffers').length - before;
}
