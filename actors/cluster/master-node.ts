import { authenticateMaster, type HttpAuthentication } from './authentication.ts';
import type { Logger } from 'pino';
import { jetstreamManager } from '@nats-io/jetstream';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { AllocatorProcess, type AllocatorOptions } from '../allocator/allocator-process.ts';
import { NatsMasterContender } from '../detector/contender.ts';
import { announceLeader } from '../detector/leader.ts';
import { Master, type MasterOptions } from '../master/master-process.ts';
import { NatsRegistry } from '../master/registry.ts';
import { VersionProcess } from '../master/version.ts';
import { HealthProcess } from './health.ts';
import { httpUrl } from './url.ts';

/** What `mesos-ts master` listens on unless told otherwise (Mesos's master port). */
export const MASTER_DEFAULTS = { ip: '127.0.0.1', port: 5050 } as const;

export interface MasterNodeOptions {
  /** Default: the in-process local bus (the master runs alone). With NATS, agents and frameworks elsewhere reach it. */
  transport?: Transport;
  /** The runtime's node name (default `<hostname>-<pid>`); the master is `master@<node>`. */
  node?: string;
  logger?: Logger;
  /** The HTTP server's address (`--ip`, `--port`); port 0 picks a free one. */
  ip?: string;
  port?: number;
  /** `--allocation_interval`. */
  allocationIntervalMs?: number;
  /** `--min_allocatable_resources`, `--filter_gpu_resources`, `--role_sorter`, `--framework_sorter`. */
  allocator?: Pick<AllocatorOptions, 'minAllocatableResources' | 'filterGpuResources' | 'roleSorter' | 'frameworkSorter'>;
  /** `--weights`: role weights the allocator starts with (default 1 for every role). */
  weights?: Readonly<Record<string, number>>;
  master?: MasterOptions;
  /**
   * On NATS, contend for the lead with this lease (`--leader_lease`), as `mesos-ts master` does:
   * several masters on one bus, one leads, and the registry of agents is in the bus's JetStream
   * KV (`NatsRegistry`), for the next leader to recover. Without it, or on a bus without
   * JetStream, the master leads at once (one master), with its registry in memory unless
   * `master.registry` says otherwise.
   */
  leaderLeaseMs?: number;
  /** The master lost the lead it had (see `MasterOptions.onLostLeadership`); it no longer announces itself. */
  onLostLeadership?: (reason: string) => void;
  /** `--authenticate_http_*` with `--credentials` (`authentication.ts`); default none. */
  httpAuthentication?: HttpAuthentication;
}

export interface MasterNode {
  readonly runtime: Runtime;
  readonly master: Master;
  readonly allocator: AllocatorProcess;
  /** The master's contender, when it contends (`leaderLeaseMs` on NATS). */
  readonly contender: NatsMasterContender | undefined;
  /** `http://host:port` of the HTTP server (`/master/state`, `/health`, `/metrics/snapshot`). */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * One master node, what `mesos-ts master` runs: a runtime with the master, its allocator,
 * `/health` and `/version`, serving HTTP (the master's endpoints, and top-level paths such as the
 * scheduler API through the master as the HTTP delegate); on NATS it also answers master
 * discovery (`announceLeader`), so that agents and frameworks given only the bus find it. With
 * `leaderLeaseMs` it contends for the lead first (`NatsMasterContender`) and answers discovery
 * only while it leads; `stop` gives the lead up at once, so that a standby takes over. A
 * contending master keeps its registry in the bus's JetStream KV (`NatsRegistry`); on a bus
 * without JetStream it does not contend, and says so.
 *
 * @example
 * const node = await startMasterNode({ transport: new NatsTransport({ servers: 'nats://127.0.0.1:4222' }) });
 * node.master.self; // master@<node>
 * await node.stop();
 */
export async function startMasterNode(options: MasterNodeOptions = {}): Promise<MasterNode> {
  const ip = options.ip ?? MASTER_DEFAULTS.ip;
  const runtime = await Runtime.start({
    ...(options.node !== undefined ? { node: options.node } : {}),
    ...(options.transport !== undefined ? { transport: options.transport } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    // The master is the delegate for top-level paths (`/api/v1/scheduler`), as in Mesos.
    http: { host: ip, port: options.port ?? MASTER_DEFAULTS.port, delegate: 'master' },
  });
  try {
    if (options.httpAuthentication !== undefined) authenticateMaster(runtime, options.httpAuthentication);
    const http = runtime.httpAddress!;
    const allocator = new AllocatorProcess({
      master: `master@${runtime.node}`,
      ...(options.allocationIntervalMs !== undefined ? { allocationIntervalMs: options.allocationIntervalMs } : {}),
      ...options.allocator,
    });
    // As Mesos's master hands the allocator the weights it recovered (`--weights` bootstraps
    // them), before the first allocation; the allocator is not spawned yet, so no cycle sees
    // the default weights.
    if (options.weights !== undefined) allocator.allocation.updateWeights(options.weights);
    const transport = runtime.transport instanceof NatsTransport ? runtime.transport : undefined;
    const contends = transport !== undefined && options.leaderLeaseMs !== undefined && (await jetStreamEnabled(transport, runtime.logger));
    const contender = contends ? new NatsMasterContender(transport!, { leaseMs: options.leaderLeaseMs!, logger: runtime.logger }) : undefined;
    let unannounce: (() => void) | undefined;
    const announce = (): void => {
      if (transport !== undefined) unannounce ??= announceLeader(transport, master, runtime.logger);
    };
    const stopAnnouncing = (): void => {
      unannounce?.();
      unannounce = undefined;
    };
    const master = new Master({
      httpAddress: http,
      ...(options.weights !== undefined ? { weights: options.weights } : {}),
      ...options.master,
      ...(contender !== undefined
        ? {
            contender,
            registry: options.master?.registry ?? new NatsRegistry(transport!, { logger: runtime.logger }),
            onElected: announce,
            onLostLeadership: (reason: string) => {
              stopAnnouncing();
              options.onLostLeadership?.(reason);
            },
          }
        : {}),
    });
    runtime.spawn(allocator);
    runtime.spawn(master);
    runtime.spawn(new HealthProcess());
    runtime.spawn(new VersionProcess());
    // One master, not contending: it leads from the start.
    if (contender === undefined) announce();
    return {
      runtime,
      master,
      allocator,
      contender,
      url: httpUrl(http, options.master?.hostname),
      async stop() {
        stopAnnouncing();
        await contender?.resign();
        await runtime.shutdown();
      },
    };
  } catch (error) {
    await runtime.shutdown();
    throw error;
  }
}

/**
 * Whether the bus runs JetStream, which the election and the registry keep their buckets in.
 * Only the server saying it does not is a no: a bus that does not answer now is contended on
 * anyway (the contender tries again until it does). Without JetStream the master runs as the
 * only one, as before election existed, and says so.
 */
async function jetStreamEnabled(transport: NatsTransport, logger: Logger): Promise<boolean> {
  const nc = transport.connection;
  if (nc === undefined) return true;
  try {
    await jetstreamManager(nc, { timeout: JETSTREAM_PROBE_TIMEOUT_MS });
    return true;
  } catch (error) {
    if ((error as Error).name !== 'JetStreamNotEnabled' && !/jetstream is not enabled/i.test((error as Error).message)) return true;
    logger.warn(
      { reason: (error as Error).message },
      'JetStream is not enabled on the bus: this master runs alone, without leader election or a registry (enable JetStream, as nats.conf does, to run several masters)',
    );
    return false;
  }
}

/** How long the JetStream question at start waits for an answer. */
const JETSTREAM_PROBE_TIMEOUT_MS = 5_000;
