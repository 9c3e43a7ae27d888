import type { Logger } from 'pino';
import { Runtime } from '../../src/process/runtime.ts';
import type { UPID } from '../../src/process/upid.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { parseMasterAddress, type MasterAddress } from './address.ts';
import { NatsMasterDetector, StandaloneMasterDetector, type MasterDetector } from './detector.ts';
import { InvalidMasterAddressError } from './errors.ts';

/**
 * How a framework (or any client) gets from a master address to a runtime and a master UPID.
 */

export interface BusOptions {
  /** NATS servers for a `master@node` address; a `nats://` address names its own. */
  nats?: string | string[] | undefined;
  /** The bus subject prefix (default `mesos`). */
  prefix?: string | undefined;
  logger?: Logger | undefined;
}

/**
 * The transport a client of `address` needs: NATS for a `nats://` address (or a UPID with `nats`
 * servers given), none (the in-process local bus) for a UPID alone.
 */
export function transportFor(address: MasterAddress, options: BusOptions = {}): Transport | undefined {
  const common = { ...(options.prefix !== undefined ? { prefix: options.prefix } : {}), ...(options.logger !== undefined ? { logger: options.logger } : {}) };
  switch (address.kind) {
    case 'nats':
      return new NatsTransport({ servers: address.servers, ...common });
    case 'upid':
      return options.nats !== undefined ? new NatsTransport({ servers: options.nats, ...common }) : undefined;
    case 'http':
      throw new InvalidMasterAddressError(address.url, "the scheduler HTTP API is not a bus: give 'master@node' or 'nats://host:4222'");
  }
}

/**
 * The detector for `address` in `runtime`: a fixed master for a UPID, discovery on the bus for a
 * `nats://` address (the runtime must be on NATS).
 */
export function detectorFor(address: MasterAddress, runtime: Runtime, logger?: Logger): MasterDetector {
  switch (address.kind) {
    case 'upid':
      return new StandaloneMasterDetector(address.upid);
    case 'nats':
      if (!(runtime.transport instanceof NatsTransport)) {
        throw new InvalidMasterAddressError(address.servers.join(','), `runtime '${runtime.node}' is not on NATS, so it cannot discover a master there`);
      }
      return new NatsMasterDetector(runtime.transport, logger !== undefined ? { logger } : {});
    case 'http':
      throw new InvalidMasterAddressError(address.url, "the scheduler HTTP API is not a bus: give 'master@node' or 'nats://host:4222'");
  }
}

export interface FrameworkConnection {
  /** A runtime of its own, on the bus the address names. */
  readonly runtime: Runtime;
  /** The master found (the leading one, for a `nats://` address). */
  readonly master: UPID;
  /** Asks again who leads; pass it to the `SchedulerDriver` so it follows a new master. */
  readonly detector: MasterDetector;
  /** Shuts the runtime down. */
  close(): Promise<void>;
}

export interface ConnectOptions extends BusOptions {
  /** The runtime's node name (default `<hostname>-<pid>`). */
  node?: string;
  /** Gives up waiting for a master. */
  signal?: AbortSignal;
}

/**
 * Starts a runtime on the bus `masterAddress` names and finds the master there. A `nats://`
 * address waits until a leading master answers; a UPID is taken as given (over NATS when
 * `options.nats` is set, else on the in-process local bus).
 *
 * @example
 * const { runtime, master, detector } = await connectFramework('nats://127.0.0.1:4222');
 * const driver = new SchedulerDriver(scheduler, { user: 'me', name: 'primes' }, master, { runtime, detector });
 * await driver.run();
 * await runtime.shutdown();
 */
export async function connectFramework(masterAddress: string, options: ConnectOptions = {}): Promise<FrameworkConnection> {
  const address = parseMasterAddress(masterAddress);
  const transport = transportFor(address, options);
  const runtime = await Runtime.start({
    ...(transport !== undefined ? { transport } : {}),
    ...(options.node !== undefined ? { node: options.node } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  try {
    const detector = detectorFor(address, runtime, options.logger);
    const master = await detector.detect(options.signal);
    return { runtime, master, detector, close: () => runtime.shutdown() };
  } catch (error) {
    await runtime.shutdown();
    throw error;
  }
}
