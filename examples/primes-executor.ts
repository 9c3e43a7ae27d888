/**
 * The executor of the primes example (`examples/primes.ts`), run by an agent as a child process
 * from `nodeExecutorCommand(<this file>)`, one per task. For each task it:
 *
 * 1. reads the range `[lo, hi)` from `TaskInfo.data` (base64 JSON) and answers `TASK_RUNNING`,
 *    or `TASK_FAILED` naming what is wrong with the data;
 * 2. counts the primes in the range with a segmented sieve, one window at a time, so a kill or a
 *    shutdown is heard between windows;
 * 3. sends the count to the scheduler as a framework message, then `TASK_FINISHED`.
 *
 * It stays up until the framework shuts it down (at teardown), as a Mesos executor does.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ExecutorDriver, type Executor } from '../actors/executor/index.ts';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, TaskID, TaskInfo } from '../src/mesos/v1/common.ts';
import { countPrimesStepwise, decodeRange, type PrimesReport, type Range } from './lib/primes.ts';

class PrimesExecutor implements Executor {
  /** Tasks still counting, by task id; a kill sets `killed` and the count stops at its next window. */
  readonly #running = new Map<string, { killed: boolean }>();

  registered(driver: ExecutorDriver, executorInfo: ExecutorInfo, _framework: FrameworkInfo, agentInfo: AgentInfo): void {
    driver.log.info({ executorId: executorInfo.executor_id.value, agent: agentInfo.hostname }, 'Primes executor registered');
  }

  reregistered(): void {}

  disconnected(): void {}

  launchTask(driver: ExecutorDriver, task: TaskInfo): void {
    let range: Range;
    try {
      range = decodeRange(task.data);
    } catch (error) {
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FAILED', message: (error as Error).message });
      return;
    }
    const run = { killed: false };
    this.#running.set(task.task_id.value, run);
    driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_RUNNING' });
    this.#count(driver, task.task_id, range, run).catch((error: unknown) => {
      this.#running.delete(task.task_id.value);
      driver.sendStatusUpdate({ task_id: task.task_id, state: 'TASK_FAILED', message: `counting failed: ${(error as Error).message}` });
    });
  }

  async #count(driver: ExecutorDriver, taskId: TaskID, range: Range, run: { killed: boolean }): Promise<void> {
    const steps = countPrimesStepwise(range);
    let step = steps.next();
    while (step.done !== true) {
      await nextTurn();
      if (run.killed) return;
      step = steps.next();
    }
    this.#running.delete(taskId.value);
    const report: PrimesReport = { task: taskId.value, lo: range.lo, hi: range.hi, count: step.value };
    driver.sendFrameworkMessage(JSON.stringify(report));
    driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_FINISHED', message: `${step.value} primes in [${range.lo}, ${range.hi})` });
  }

  killTask(driver: ExecutorDriver, taskId: TaskID): void {
    const run = this.#running.get(taskId.value);
    if (run === undefined) return;
    run.killed = true;
    this.#running.delete(taskId.value);
    driver.sendStatusUpdate({ task_id: taskId, state: 'TASK_KILLED' });
  }

  frameworkMessage(driver: ExecutorDriver, data: Buffer): void {
    driver.log.warn({ bytes: data.length }, 'Ignoring an unexpected framework message');
  }

  shutdown(driver: ExecutorDriver): void {
    for (const [id, run] of this.#running) {
      run.killed = true;
      driver.sendStatusUpdate({ task_id: { value: id }, state: 'TASK_KILLED' });
    }
    this.#running.clear();
    driver.stop();
  }

  error(driver: ExecutorDriver, message: string): void {
    driver.log.error({ message }, 'Primes executor error');
  }
}

const status = await new ExecutorDriver(new PrimesExecutor()).run();
process.exit(status === 'DRIVER_STOPPED' ? 0 : 1);
