/**
 * The public surface of `mesos-ts` for framework authors and embedders: what `import ... from
 * 'mesos-ts'` gives. Everything else (actors' internals, the runtime's internals) may change.
 *
 * @example
 * import { SchedulerDriver, Resources, connectFramework } from 'mesos-ts';
 */

// Schedulers.
export { SchedulerDriver, type Scheduler, type SchedulerDriverOptions, type DriverStatus } from './scheduler/scheduler-driver.ts';
export { connectFramework, type FrameworkConnection } from './detector/connect.ts';
export { parseMasterAddress, type MasterAddress } from './detector/address.ts';

// Executors.
export { ExecutorDriver, nodeExecutorCommand, type Executor, type ExecutorDriverOptions } from './executor/index.ts';

// A whole cluster in this process (tests, examples, `mesos-ts dev`).
export { startEmbeddedCluster, type EmbeddedCluster, type EmbeddedClusterOptions } from './cluster/embedded.ts';

// Resources and the Mesos v1 wire shapes.
export { Resources } from '../src/mesos/resources.ts';
export * from '../src/mesos/v1/common.ts';
export * from '../src/mesos/v1/maintenance.ts';
export { isTerminalState } from '../src/mesos/v1/common.ts';

// The runtime, for programs that host actors of their own.
export { Runtime, type RuntimeOptions } from '../src/process/runtime.ts';
export { Process } from '../src/process/process.ts';
export { UPID } from '../src/process/upid.ts';
export { NatsTransport, type NatsTransportOptions } from '../src/transport/nats.ts';
export { createLogger } from '../src/logging.ts';
export { MesosError } from '../src/errors.ts';
