import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Agent as HttpAgent } from 'node:http';
import { pino } from 'pino';
import { startEmbeddedCluster, type EmbeddedCluster, type EmbeddedClusterOptions } from '../../actors/cluster/embedded.ts';
import { futureMessages } from '../helpers/filters.ts';
import { subscribe, type EventStream } from '../helpers/event-stream.ts';
import { http, type Reply } from '../helpers/http.ts';

/**
 * What the HTTP API tests share: an embedded cluster on a free port, and the client side of the
 * v1 scheduler and executor APIs spoken with node's own `http` (`test/helpers/http.ts`,
 * `event-stream.ts`: no project code on the client side).
 */

export const PYTHON_EXECUTOR = fileURLToPath(new URL('../fixtures/python_executor.py', import.meta.url));

export interface Cluster extends EmbeddedCluster {
  readonly port: number;
}

/** An embedded cluster on a free port whose agents have all registered; stopped after the test. */
export async function startCluster(t: { teardown(fn: () => unknown): void }, options: EmbeddedClusterOptions = {}): Promise<Cluster> {
  const agents = options.agents ?? 1;
  const registered = agents === 0 ? Promise.resolve([]) : futureMessages(agents, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({
    agents,
    port: 0,
    resources: 'cpus:4;mem:2048;disk:1024;ports:[31000-31099]',
    allocationIntervalMs: 50,
    logger: pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' }),
    ...options,
  });
  t.teardown(() => cluster.stop());
  await registered;
  return Object.assign(cluster, { port: cluster.runtime.httpAddress!.port });
}

export const frameworkInfo = (extra: object = {}) => ({ user: 'test', name: 'http-framework', ...extra });

/** SUBSCRIBE as a framework and read SUBSCRIBED. */
export async function subscribeFramework(port: number, info: object = frameworkInfo()): Promise<{ stream: EventStream; frameworkId: string }> {
  const stream = await subscribe(port, { type: 'SUBSCRIBE', subscribe: { framework_info: info } });
  if (stream.status !== 200) throw new Error(`SUBSCRIBE answered ${stream.status}`);
  const event = await stream.next();
  if (event.type !== 'SUBSCRIBED') throw new Error(`expected SUBSCRIBED, got ${JSON.stringify(event)}`);
  return { stream, frameworkId: event.subscribed.framework_id.value };
}

/** A scheduler call on the framework's stream; resolves with the whole answer. */
export function schedulerCall(port: number, stream: EventStream, body: object, agent?: HttpAgent): Promise<Reply> {
  return http(port, 'POST', '/api/v1/scheduler', body, { headers: { 'Mesos-Stream-Id': stream.streamId }, ...(agent !== undefined ? { agent } : {}) });
}

/** An executor call; resolves with the whole answer. */
export function executorCall(port: number, body: object | string, options: { path?: string; headers?: Record<string, string>; agent?: HttpAgent } = {}): Promise<Reply> {
  return http(port, 'POST', options.path ?? '/api/v1/executor', body, { ...(options.headers !== undefined ? { headers: options.headers } : {}), ...(options.agent !== undefined ? { agent: options.agent } : {}) });
}

/** SUBSCRIBE as an executor; the stream of events once the head arrived. */
export function subscribeExecutor(port: number, frameworkId: string, executorId: string, options: { path?: string; agent?: HttpAgent } = {}): Promise<EventStream> {
  return subscribe(
    port,
    { type: 'SUBSCRIBE', framework_id: { value: frameworkId }, executor_id: { value: executorId }, subscribe: {} },
    { path: options.path ?? '/api/v1/executor', ...(options.agent !== undefined ? { agent: options.agent } : {}) },
  );
}

export const scalar = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value } });

/** An ACCEPT of `offer` launching `tasks` (each `{ task_id, command | executor, cpus, mem }`). */
export function accept(frameworkId: string, offer: any, tasks: { id: string; command?: string; executor?: object; cpus?: number; mem?: number }[]) {
  return {
    framework_id: { value: frameworkId },
    type: 'ACCEPT',
    accept: {
      offer_ids: [offer.id],
      operations: [
        {
          type: 'LAUNCH',
          launch: {
            task_infos: tasks.map((task) => ({
              name: task.id,
              task_id: { value: task.id },
              agent_id: offer.agent_id,
              resources: [scalar('cpus', task.cpus ?? 0.5), scalar('mem', task.mem ?? 64)],
              ...(task.executor !== undefined ? { executor: task.executor } : { command: { value: task.command ?? 'true' } }),
            })),
          },
        },
      ],
      filters: { refuse_seconds: 0 },
    },
  };
}

export function acknowledge(frameworkId: string, status: any) {
  return { framework_id: { value: frameworkId }, type: 'ACKNOWLEDGE', acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } };
}

export function decline(frameworkId: string, offer: any) {
  return { framework_id: { value: frameworkId }, type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } } };
}

/** `KEY=value` lines of a file a command wrote with `env`, as an object. */
export function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export function sandboxFile(directory: string, name: string): string {
  return join(directory, name);
}
