import { Containerizer } from '../agent/containerizer.ts';
import { memoryLimitation } from '../agent/isolation.ts';
import type { BuiltinExecutorOptions } from './builtin-executor.ts';
import { MESOS_TS_MEMORY_CGROUP } from './environment.ts';
import { ExecutorDriver, type Executor } from './executor-driver.ts';

/**
 * Runs a built-in executor as the OS process it is in (`command-executor-main.ts`,
 * `default-executor-main.ts`), and exits with the driver's outcome: 0 when it stopped, 1 when it
 * aborted. Its tasks run in this process's group, so that the agent destroying the executor's
 * container reaches them; and in this container's cgroups, whose memory cgroup
 * (`MESOS_TS_MEMORY_CGROUP`) tells whether the kernel OOM-killed one.
 */
export async function runExecutorProcess(make: (options: BuiltinExecutorOptions) => Executor, containerId: string): Promise<never> {
  let driver: ExecutorDriver | undefined;
  const memoryCgroup = process.env[MESOS_TS_MEMORY_CGROUP];
  const containerizer = new Containerizer({
    delay: (ms, fn) => driver!._delay(ms, fn),
    sameGroup: true,
    ...(memoryCgroup !== undefined && memoryCgroup !== '' ? { limitation: () => memoryLimitation(memoryCgroup) } : {}),
  });
  driver = new ExecutorDriver(make({ containerizer, containerId }));
  const status = await driver.run();
  process.exit(status === 'DRIVER_STOPPED' ? 0 : 1);
}
