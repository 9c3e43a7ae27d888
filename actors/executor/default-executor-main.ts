import { DefaultExecutor } from './default-executor.ts';
import { runExecutorProcess } from './own-process.ts';

/**
 * The default executor as a process of its own: the agent runs it
 * (`executorMainCommand(DEFAULT_EXECUTOR_MAIN)`) for a checkpointing framework's task groups, so
 * that the executor and its tasks outlive an agent restart and re-register with the agent's next
 * run, as `command-executor-main.ts` does for a command task. It reads the executor environment
 * the agent set, runs each task as its child in this process's group (so that the agent
 * destroying the executor's container reaches every task), and exits once it has no task left:
 * 0 when the driver stopped, 1 when it aborted.
 */
await runExecutorProcess((options) => new DefaultExecutor(options), 'executor');
