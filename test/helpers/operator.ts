import type { MasterOptions } from '../../actors/master/master-process.ts';
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
