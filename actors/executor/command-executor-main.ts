import { CommandExecutor } from './command-executor.ts';
import { runExecutorProcess } from './own-process.ts';

/**
 * The built-in command executor as a process of its own, as Mesos's `mesos-executor`: the agent
 * runs it (`nodeExecutorCommand(COMMAND_EXECUTOR_MAIN)`) for a checkpointing framework's command
 * task, so that the task and its executor outlive an agent restart and re-register with the
 * agent's next run. It reads the executor environment the agent set, runs its one task as its
 * child, in its own container (process group), and exits once the terminal update is
 * acknowledged: 0 when the driver stopped, 1 when it aborted.
 */
await runExecutorProcess((options) => new CommandExecutor(options), 'task');
