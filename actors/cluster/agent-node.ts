import { authenticateAgent, type HttpAuthentication } from './authentication.ts';
import type { Logger } from 'pino';
import { Runtime } from '../../src/process/runtime.ts';
import type { UPID } from '../../src/process/upid.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { Agent, type AgentOptions } from '../agent/agent.ts';
import { AGENT_ENDPOINTS_ID, AgentEndpointsProcess } from '../agent/endpoints.ts';
import { FilesProcess } from '../agent/files.ts';
import { ResourceMonitorProcess } from '../agent/monitor.ts';
import { parseMasterAddress } from '../detector/address.ts';
import { detectorFor } from '../detector/connect.ts';
import { NatsMasterDetector } from '../detector/detector.ts';
import { InvalidMasterAddressError } from '../detector/errors.ts';
import { HealthProcess } from './health.ts';
import { httpUrl } from './url.ts';

/** What `mesos-ts agent` listens on unless told otherwise (Mesos's agent port). */
export const AGENT_DEFAULTS = { ip: '127.0.0.1', port: 5051 } as const;

export interface AgentNodeOptions extends Omit<AgentOptions, 'master' | 'detector'> {
  /**
   * `master@node`, or `nats://...` / nothing to discover the leading master on the bus (the
   * transport must then be NATS). A discovered master is looked for again when the agent loses it.
   */
  master?: string | undefined;
  transport?: Transport;
  /** The runtime's node name (default `<hostname>-<pid>`); the agent is `slave(1)@<node>`. */
  node?: string;
  logger?: Logger;
  /** The HTTP server's address (`--ip`, `--port`); port 0 picks a free one. */
  ip?: string;
  port?: number;
  /** Gives up waiting for a master to be discovered. */
  signal?: AbortSignal;
  /** `--authenticate_http_*` with `--http_credentials` (`authentication.ts`); default none. */
  httpAuthentication?: HttpAuthentication;
}

export interface AgentNode {
  readonly runtime: Runtime;
  readonly agent: Agent;
  /** The master the agent registers with first. */
  readonly master: UPID;
  /** `http://host:port` of the HTTP server (`/slave(1)/state`, `/health`). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * One agent node, what `mesos-ts agent` runs: a runtime serving HTTP (`/health` at once), then,
 * once the master is known (given, or discovered on the bus), the agent. Its executors are child
 * processes of this OS process.
 *
 * @example
 * const node = await startAgentNode({ transport: nats, workDir: '/var/lib/mesos-ts', resources: 'cpus:2;mem:1024' });
 * node.agent.self; // slave(1)@<node>
 */
export async function startAgentNode(options: AgentNodeOptions): Promise<AgentNode> {
  const { master: masterOption, transport, node, logger, ip, port, signal, httpAuthentication, ...agentOptions } = options;
  const runtime = await Runtime.start({
    ...(node !== undefined ? { node } : {}),
    ...(transport !== undefined ? { transport } : {}),
    ...(logger !== undefined ? { logger } : {}),
    // The agent's endpoints serve top-level paths, as Mesos's agent is its process's delegate:
    // executors call `/api/v1/executor` at `MESOS_AGENT_ENDPOINT`.
    http: { host: ip ?? AGENT_DEFAULTS.ip, port: port ?? AGENT_DEFAULTS.port, delegate: AGENT_ENDPOINTS_ID },
  });
  try {
    if (httpAuthentication !== undefined) authenticateAgent(runtime, httpAuthentication);
    runtime.spawn(new HealthProcess());
    AgentEndpointsProcess.ensure(runtime);
    ResourceMonitorProcess.ensure(runtime);
    // The sandboxes at `/files/*`; the agent attaches each one there.
    FilesProcess.ensure(runtime);
    const address = masterOption !== undefined ? parseMasterAddress(masterOption) : undefined;
    if (address?.kind === 'http') throw new InvalidMasterAddressError(address.url, "an agent reaches its master on the bus: give 'master@node' or 'nats://host:4222'");
    if (address === undefined && !(runtime.transport instanceof NatsTransport)) {
      throw new InvalidMasterAddressError('', 'no master given, and the agent is not on NATS where it could discover one');
    }
    const detector = detectorFor(address ?? { kind: 'nats', servers: [] }, runtime, runtime.logger);
    const master = await detector.detect(signal);
    const agent = Agent.start(runtime, {
      // Alone in its runtime, the agent publishes under Mesos's `slave/` (`slave/tasks_running`).
      metricsPrefix: 'slave',
      ...agentOptions,
      master: String(master),
      ...(detector instanceof NatsMasterDetector ? { detector } : {}),
    });
    const http = runtime.httpAddress!;
    return {
      runtime,
      agent,
      master,
      url: httpUrl(http, agentOptions.hostname),
      stop: () => runtime.shutdown(),
    };
  } catch (error) {
    await runtime.shutdown();
    throw error;
  }
}
