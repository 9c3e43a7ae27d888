/**
 * Placing tasks on offers, what every framework does in `resourceOffers`: an `OfferPlan` holds
 * what is left of one offer as tasks go on it. A task's executor costs its resources only when
 * it does not run on the agent yet (the offer's `executor_ids`) and is not already part of the
 * plan, which is how the master validates a launch.
 */
import { Resources } from '../../src/mesos/resources.ts';
import type { Filters, Offer, TaskInfo } from '../../src/mesos/v1/common.ts';
import type { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';

/** A task before it is placed: its agent is the offer's. */
export type UnplacedTask = Omit<TaskInfo, 'agent_id'>;

/** Declining while tasks wait for room: Mesos's default filter, so the agent comes back soon. */
export const WAITING_FILTERS: Filters = { refuse_seconds: 5 };
/** Declining offers that could be used but are not, this time: offered again at the next allocation cycle. */
export const NEXT_CYCLE_FILTERS: Filters = { refuse_seconds: 0 };
/** Declining with nothing left to launch (until the framework revives). */
export const IDLE_FILTERS: Filters = { refuse_seconds: 120 };

export class OfferPlan {
  readonly tasks: TaskInfo[] = [];
  #remaining: Resources;
  readonly #executors: Set<string>;

  constructor(readonly offer: Offer) {
    this.#remaining = Resources.fromJSON(offer.resources ?? []);
    this.#executors = new Set((offer.executor_ids ?? []).map((e) => e.value));
  }

  get agentId(): string {
    return this.offer.agent_id.value;
  }

  /** Whether the executor runs on this offer's agent already, or starts there with this plan. */
  hasExecutor(executorId: string): boolean {
    return this.#executors.has(executorId);
  }

  /** What `task` takes from the offer: its resources, plus its executor's when that is new here. */
  cost(task: UnplacedTask): Resources {
    const own = Resources.fromJSON(task.resources ?? []);
    const executor = task.executor;
    if (executor === undefined || this.hasExecutor(executor.executor_id.value)) return own;
    return own.plus(Resources.fromJSON(executor.resources ?? []));
  }

  /** Places `task` on the offer if what is left of it holds the task; false otherwise. */
  place(task: UnplacedTask): boolean {
    const cost = this.cost(task);
    if (!this.#remaining.contains(cost)) return false;
    this.#remaining = this.#remaining.minus(cost);
    if (task.executor !== undefined) this.#executors.add(task.executor.executor_id.value);
    this.tasks.push({ ...task, agent_id: this.offer.agent_id });
    return true;
  }

  /** Launches the placed tasks, or declines the offer if there are none. */
  submit(driver: SchedulerDriver, filters: Filters): void {
    if (this.tasks.length > 0) driver.launchTasks(this.offer.id, this.tasks, filters);
    else driver.declineOffer(this.offer.id, filters);
  }
}
