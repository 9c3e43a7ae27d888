import { Containerizer } from '../agent/containerizer.ts';
import { memoryLimitation } from '../agent/isolation.ts';
import { MESOS_TS_MEMORY_CGROUP } from './environment.ts';
import { CommandExecutor } from './command-executor.ts';
import { ExecutorDriver } from './executor-driver.ts';

/**
 * The built-in command executor as a process of its own, as Mesos's `mesos-executor`: the agent
 * runs it (`nodeExecutorCommand(COMMAND_EXECUTOR_MAIN)`) for a checkpointing framework's command
 * task, so that the task and its executor outlive an agent restart and re-register with the
 * agent's next run. It reads the executor environment the agent set, runs its one task as its
 * child, in its own container (process group), and exits once the terminal update is
 * acknowledged: 0 when the driver stopped, 1 when it aborted.
 */

let driver: ExecutorDriver | undefined;
// The task runs in this process's group, so that the agent destroying the container reaches it;
// and in this container's cgroups, whose memory cgroup tells whether the kernel OOM-killed it.
const memoryCgroup = process.env[MESOS_TS_MEMORY_CGROUP];
const containerizer = new Containerizer({
  delay: (ms, fn) => driver!._delay(ms, fn),
  sameGroup: true,
  ...(memoryCgroup !== undefined && memoryCgroup !== '' ? { limitation: () => memoryLimitation(memoryCgroup) } : {}),
});
driver = new ExecutorDriver(new CommandExecutor({ containerizer, containerId: 'task' }));
const status = await driver.run();
process.exit(status === 'DRIVER_STOPPED' ? 0 : 1);
