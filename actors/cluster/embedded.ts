import { authenticateAgent, authenticateMaster, type HttpAuthentication } from './authentication.ts';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Runtime } from '../../src/process/runtime.ts';
import type { Transport } from '../../src/transport/transport.ts';
import type { RecoverMode } from '../agent/flags.ts';
import { Agent } from '../agent/agent.ts';
import { AGENT_ENDPOINTS_ID, AgentEndpointsProcess } from '../agent/endpoints.ts';
import { FilesProcess } from '../agent/files.ts';
import { ResourceMonitorProcess } from '../agent/monitor.ts';
import { AllocatorProcess } from '../allocator/allocator-process.ts';
import { Master, type MasterOptions } from '../master/master-process.ts';
import { FileRegistry } from '../master/registry.ts';
import { HealthProcess } from './health.ts';
import type { MasterNodeOptions } from './master-node.ts';
import { VersionProcess } from '../master/version.ts';

/** What `mesos-ts dev` (and `npm start`) runs unless told otherwise. */
export const DEV_DEFAULTS = {
  agents: 3,
  resources: 'cpus:4;mem:8192;disk:10240;ports:[31000-32000]',
  host: '127.0.0.1',
  port: 5050,
} as const;

export interface EmbeddedClusterOptions {
  agents?: number;
  /** Every agent's resources, in the Mesos text form. */
  resources?: string;
  attributes?: string;
  host?: string;
  /** HTTP port of the runtime (master endpoints, agents' `/slave(N)/state`, metrics); 0 picks one. */
  port?: number;
  /**
   * Agents' work directories go under it (`agent-1`, ...), and the master's registry
   * (`master/registry.json`, a `FileRegistry`), so that a cluster started again on it recovers
   * its agents and the operator's weights, quotas and deactivations. Default: a fresh temporary
   * directory, removed by `stop()`, with the registry in memory (no later run reads it).
   */
  workDir?: string;
  /** Every agent's `--isolation` (default Mesos's `posix/cpu,posix/mem`). */
  isolation?: string;
  /** Every agent's `--recover` (default `reconnect`) and `--strict` (default true). */
  recover?: RecoverMode;
  strict?: boolean;
  /** Default: the in-process local bus. With NATS, frameworks in other processes can connect. */
  transport?: Transport;
  /** The runtime's node name. */
  node?: string;
  logger?: Logger;
  allocationIntervalMs?: number;
  /** As `mesos-ts master`'s: `--min_allocatable_resources`, the sorters, `--filter_gpu_resources`. */
  allocator?: MasterNodeOptions['allocator'];
  /** `--weights`: role weights the allocator starts with (default 1 for every role). */
  weights?: MasterNodeOptions['weights'];
  master?: MasterOptions;
  /**
   * `--authenticate_http_*` with `--credentials`: the master's realms and the agents' alike
   * (one set of credentials, one port), as `authentication.ts` installs them.
   */
  httpAuthentication?: HttpAuthentication;
}

export interface EmbeddedCluster {
  readonly runtime: Runtime;
  readonly master: Master;
  readonly allocator: AllocatorProcess;
  readonly agents: Agent[];
  /** `http://host:port` of the runtime's HTTP server. */
  readonly url: string;
  readonly workDir: string;
  /**
   * Settles with the error of the first agent that failed (with `--strict`, one that could not
   * recover its checkpoints under `workDir`); pending while every agent works. `mesos-ts dev`
   * exits 1 on it.
   */
  readonly agentFailed: Promise<Error>;
  stop(): Promise<void>;
}

/**
 * A whole cluster in one runtime, what `npm start` runs: the master and its allocator, and
 * `agents` agents, each with its own work directory, running real executors as child
 * processes. Frameworks in the same OS process reach it through the runtime; others through
 * the bus (with a NATS transport) or, once served, the HTTP API. Started again on the same
 * `workDir`, the master recovers its registry from there and is `RECOVERING` until the agents,
 * recovering from their own directories, re-register.
 */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions = {}): Promise<EmbeddedCluster> {
  const host = options.host ?? DEV_DEFAULTS.host;
  const port = options.port ?? DEV_DEFAULTS.port;
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'mesos-ts-dev-'));
  mkdirSync(workDir, { recursive: true });
  // Read before anything starts: a corrupt registry stops the cluster here, naming the file.
  const registry = options.master?.registry ?? (options.workDir !== undefined ? new FileRegistry(join(workDir, 'master', 'registry.json')) : undefined);
  const runtime = await Runtime.start({
    ...(options.node !== undefined ? { node: options.node } : {}),
    ...(options.transport !== undefined ? { transport: options.transport } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    // The master is the delegate for top-level paths (`/api/v1/scheduler`), as in Mesos; the
    // agents' endpoints serve `/api/v1/executor` (`MESOS_AGENT_ENDPOINT` is this server).
    http: { port, host, delegate: ['master', AGENT_ENDPOINTS_ID] },
  });
  if (options.httpAuthentication !== undefined) {
    authenticateMaster(runtime, options.httpAuthentication);
    authenticateAgent(runtime, options.httpAuthentication);
  }
  const http = runtime.httpAddress!;
  const master = new Master({
    hostname: host,
    httpAddress: http,
    ...(options.weights !== undefined ? { weights: options.weights } : {}),
    ...options.master,
    ...(registry !== undefined ? { registry } : {}),
  });
  const allocator = new AllocatorProcess({
    master: `master@${runtime.node}`,
    ...(options.allocationIntervalMs !== undefined ? { allocationIntervalMs: options.allocationIntervalMs } : {}),
    ...options.allocator,
  });
  // Before the allocator is spawned, so that no cycle sees the default weights (as master-node).
  if (options.weights !== undefined) allocator.allocation.updateWeights(options.weights);
  runtime.spawn(allocator);
  runtime.spawn(master);
  runtime.spawn(new HealthProcess());
  runtime.spawn(new VersionProcess());
  // `/agent/state`, `/api/v1/executor` for every agent here, `/monitor/statistics`, and the
  // agents' sandboxes at `/files/*` (before the agents, which attach theirs there).
  AgentEndpointsProcess.ensure(runtime);
  ResourceMonitorProcess.ensure(runtime);
  FilesProcess.ensure(runtime);
  const agents: Agent[] = [];
  let agentFailed!: (error: Error) => void;
  const failed = new Promise<Error>((resolve) => (agentFailed = resolve));
  const count = options.agents ?? DEV_DEFAULTS.agents;
  for (let i = 1; i <= count; i++) {
    agents.push(
      Agent.start(runtime, {
        master: String(master.self),
        workDir: join(workDir, `agent-${i}`),
        resources: options.resources ?? DEV_DEFAULTS.resources,
        ...(options.attributes !== undefined ? { attributes: options.attributes } : {}),
        ...(options.isolation !== undefined ? { isolation: options.isolation } : {}),
        ...(options.recover !== undefined ? { recover: options.recover } : {}),
        ...(options.strict !== undefined ? { strict: options.strict } : {}),
        hostname: host,
        // No later run finds a temporary work directory: nothing is left running for one.
        killExecutorsOnExit: options.workDir === undefined,
        onFailure: agentFailed,
        // The master's `--acls` are the agents' too (`access_sandboxes`, `view_*`).
        ...(options.master?.authorizer !== undefined ? { authorizer: options.master.authorizer } : {}),
      }),
    );
  }
  return {
    runtime,
    master,
    allocator,
    agents,
    url: `http://${http.host}:${http.port}`,
    workDir,
    agentFailed: failed,
    stop: async () => {
      await runtime.shutdown();
      // A temporary work directory of our own making goes with the cluster.
      if (options.workDir === undefined) rmSync(workDir, { recursive: true, force: true });
    },
  };
}
