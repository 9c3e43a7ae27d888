/**
 * The executor of the word count example (`examples/wordcount.ts`), run by an agent as a child
 * process from `nodeExecutorCommand(<this file>)`. One process serves every task the framework
 * sends to its executor id on that agent, run after run, one task at a time (in arrival order).
 * For each task it:
 *
 * 1. answers `TASK_RUNNING` (or `TASK_FAILED` when the task has no data);
 * 2. counts the words of the text in `TaskInfo.data` (UTF-8, base64 on the wire);
 * 3. sends the counts to the scheduler as JSON framework messages (one, or several parts when the
 *    text has many distinct words), then `TASK_FINISHED`.
 *
 * It stays up until the framework shuts it down (at teardown), as a Mesos executor does.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ExecutorDriver, type Executor } from '../actors/executor/index.ts';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, TaskID, TaskInfo } from '../src/mesos/v1/common.ts';
import { countWords, encodeReports } from './lib/words.ts';

/** The largest report message, in bytes (NATS carries 1 MB by default). */
const MAX_REPORT_BYTES = 256 * 1024;

class WordCountExecutor implements Executor {
  /** Tasks launched and not yet counted; a kill removes its task. */
  readonly #queued = new Map<string, TaskInfo>();

  registered(driver: ExecutorDriver, executorInfo: ExecutorInfo, _framework: FrameworkInfo, agentInfo: AgentInfo): void {
    driver.log.info({ executorId: executorInfo.executor_id.value, agent: agentInfo.hostname }, 'Word count executor registered');
  }

  reregistered(): void {}

  disconnected(): void {}

  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    if (task.data === undefined) {
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FAILED', message: 'the task has no data (expected the text to count)' });
      return;
    }
    this.#queued.set(task.task_id.value, task);
    driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING' });
    // Counted on a later turn, so TASK_RUNNING goes out first and tasks queue in launch order.
    void nextTurn().then(() => this.#count(driver, task));
  }

  #count(driver: ExecutorDriver, task: TaskInfo): void {
    if (!this.#queued.delete(task.task_id.value)) return;
    try {
      const text = Buffer.from(task.data ?? '', 'base64').toString('utf8');
      const counts = countWords(text);
      for (const report of encodeReports(task.task_id.value, counts, MAX_REPORT_BYTES)) driver.sendFrameworkMessage(report);
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FINISHED', message: `${counts.size} distinct words` });
    } catch (error) {
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FAILED', message: `counting failed: ${(error as Error).message}` });
    }
  }

  killTask(driver: ExecutorDriver, taskId: TaskID): void {
    if (!this.#queued.delete(taskId.value)) return;
    driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_KILLED' });
  }

  frameworkMessage(driver: ExecutorDriver, data: Buffer): void {
    driver.log.warn({ bytes: data.length }, 'Ignoring an unexpected framework message');
  }

  shutdown(driver: ExecutorDriver): void {
    for (const task of this.#queued.values()) driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_KILLED' });
    this.#queued.clear();
    driver.stop();
  }

  error(driver: ExecutorDriver, message: string): void {
    driver.log.error({ message }, 'Word count executor error');
  }
}

const status = await new ExecutorDriver(new WordCountExecutor()).run();
process.exit(status === 'DRIVER_STOPPED' ? 0 : 1);
