import type { TaskState } from '../mesos/v1/task.ts';
import type { Counter } from './metrics.ts';

/**
 * Counters of tasks that ended, by terminal state, under Mesos's names (`TASK_FINISHED` →
 * `tasks_finished`), as the master's and the agent's `incrementTasksStates`. `counter` makes
 * (or finds) the counter of a name under the process's prefix. Counting a task that ends is one
 * property read and one add: `counters[task.state]?.inc()`.
 */
export function taskStateCounters(counter: (name: string) => Counter, states: readonly TaskState[]): Readonly<Partial<Record<TaskState, Counter>>> {
  const out: Partial<Record<TaskState, Counter>> = {};
  for (const state of states) out[state] = counter(state.replace(/^TASK_/, 'tasks_').toLowerCase());
  return out;
}

/** Mesos's `<resource>_percent`: the used fraction of the total (`0.5`, not `50`), 0 with no total. */
export function usedFraction(used: number, total: number): number {
  return total === 0 ? 0 : used / total;
}
