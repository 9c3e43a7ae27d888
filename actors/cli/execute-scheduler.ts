import { Resources } from '../../src/mesos/resources.ts';
import { isTerminalState, type AgentID, type FrameworkID, type Offer, type TaskState, type TaskStatus } from '../../src/mesos/v1/common.ts';
import { wallClockTimer, type Timer } from '../../src/process/clock.ts';
import type { Scheduler, SchedulerDriver } from '../scheduler/scheduler-driver.ts';

/** What `execute` runs on the first offer that holds `wanted`: one task (LAUNCH) or a task group (LAUNCH_GROUP). */
export interface ExecuteLaunch {
  readonly taskIds: readonly string[];
  readonly wanted: Resources;
  /** Launches on `offer`, and answers the line that says so. */
  launch(driver: SchedulerDriver, offer: Offer): string;
}

/**
 * The scheduler of `execute`, as `mesos-execute`'s: launches once, on the first offer that holds
 * what it needs (declining the others, for an hour once launched), prints every update of its
 * tasks, and is `done` once every task ended (with the first state that is not
 * `TASK_FINISHED`, else `TASK_FINISHED`), on an error, or when interrupted before launching.
 * `--kill_after` kills its tasks that long after the first `TASK_RUNNING`.
 */
export class ExecuteScheduler implements Scheduler {
  readonly done: Promise<string>;
  #finish!: (state: string) => void;
  #launched: { agentId: AgentID } | undefined;
  #finished = false;
  #killTimer: Timer | undefined;
  /** Each task's terminal state, once it has one. */
  readonly #ended = new Map<string, TaskState>();

  constructor(
    private readonly what: ExecuteLaunch,
    private readonly killAfterMs: number | undefined,
    private readonly print: (line: string) => void,
    private readonly printStatus: (status: TaskStatus) => void,
  ) {
    this.done = new Promise((resolve) => (this.#finish = resolve));
  }

  registered(_driver: SchedulerDriver, frameworkId: FrameworkID): void {
    this.print(`Subscribed with ID ${frameworkId.value}`);
  }

  resourceOffers(driver: SchedulerDriver, offers: Offer[]): void {
    for (const offer of offers) {
      if (this.#launched !== undefined || this.#finished || !Resources.fromJSON(offer.resources).contains(this.what.wanted)) {
        driver.declineOffer(offer.id, { refuse_seconds: this.#launched !== undefined ? 3600 : 5 });
        continue;
      }
      const line = this.what.launch(driver, offer);
      this.#launched = { agentId: offer.agent_id };
      this.print(line);
    }
  }

  statusUpdate(driver: SchedulerDriver, status: TaskStatus): void {
    const taskId = status.task_id.value;
    if (!this.what.taskIds.includes(taskId) || this.#ended.has(taskId)) return;
    this.printStatus(status);
    if (status.state === 'TASK_RUNNING' && this.killAfterMs !== undefined && this.#killTimer === undefined) {
      // A wall-clock timer: the operator asked for real time, and this is no actor.
      this.#killTimer = wallClockTimer(this.killAfterMs, () => this.interrupt(driver));
    }
    if (!isTerminalState(status.state)) return;
    this.#ended.set(taskId, status.state);
    if (this.#ended.size < this.what.taskIds.length) return;
    const unfinished = [...this.#ended.values()].find((state) => state !== 'TASK_FINISHED');
    this.#end(unfinished ?? 'TASK_FINISHED');
  }

  slaveLost(_driver: SchedulerDriver, agentId: AgentID): void {
    if (this.#launched?.agentId.value === agentId.value) this.print(`Agent '${agentId.value}' lost`);
  }

  error(_driver: SchedulerDriver, message: string): void {
    this.print(`Error: ${message}`);
    this.#end('ERROR');
  }

  /** Kills every task that has not ended (or ends at once if none was launched yet). */
  interrupt(driver: SchedulerDriver): void {
    if (this.#launched === undefined) {
      this.#end('INTERRUPTED');
      return;
    }
    for (const id of this.what.taskIds) if (!this.#ended.has(id)) driver.killTask({ value: id }, this.#launched.agentId);
  }

  giveUp(): void {
    this.#end('INTERRUPTED');
  }

  #end(state: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#killTimer?.cancel();
    this.#finish(state);
  }
}
