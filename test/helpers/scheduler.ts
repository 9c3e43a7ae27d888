import type { Scheduler, SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import type { AgentID, ExecutorID, FrameworkID, InverseOffer, MasterInfo, Offer, OfferID, TaskInfo, TaskStatus } from '../../src/mesos/v1/common.ts';

type Callbacks = {
  registered: [FrameworkID, MasterInfo | undefined];
  reregistered: [MasterInfo | undefined];
  disconnected: [];
  resourceOffers: [Offer[]];
  offerRescinded: [OfferID];
  inverseOffers: [InverseOffer[]];
  inverseOfferRescinded: [OfferID];
  statusUpdate: [TaskStatus];
  frameworkMessage: [ExecutorID, AgentID, Buffer];
  slaveLost: [AgentID];
  executorLost: [ExecutorID, AgentID, number];
  error: [string];
};

export type CallbackName = keyof Callbacks;

/**
 * A scheduler that records every callback and lets a test await the next one of a kind, like
 * Mesos's `MockScheduler` with `FUTURE_ARG`. `on` sets behaviour (e.g. launch on offers).
 */
export class TestScheduler implements Scheduler {
  readonly calls: { name: CallbackName; args: unknown[] }[] = [];
  readonly #waiting = new Map<CallbackName, ((args: any) => void)[]>();
  readonly #queued = new Map<CallbackName, unknown[][]>();
  readonly #behaviour: { [K in CallbackName]?: (driver: SchedulerDriver, ...args: Callbacks[K]) => void } = {};

  /** Sets what the scheduler does on a callback (besides recording it). */
  on<K extends CallbackName>(name: K, fn: (driver: SchedulerDriver, ...args: Callbacks[K]) => void): this {
    (this.#behaviour as Record<string, unknown>)[name] = fn;
    return this;
  }

  /**
   * Resolves with the arguments of the next `name` callback not yet taken by another `next`
   * (callbacks that came before the call are queued, so no event is missed).
   */
  next<K extends CallbackName>(name: K): Promise<Callbacks[K]> {
    const queued = this.#queued.get(name);
    if (queued !== undefined && queued.length > 0) return Promise.resolve(queued.shift() as Callbacks[K]);
    return new Promise((resolve) => {
      const list = this.#waiting.get(name) ?? [];
      list.push(resolve);
      this.#waiting.set(name, list);
    });
  }

  /** Every recorded call of `name`, in order. */
  all<K extends CallbackName>(name: K): Callbacks[K][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args as Callbacks[K]);
  }

  /** Forgets queued callbacks of `name` (e.g. offers made before the part under test). */
  drain(name: CallbackName): void {
    this.#queued.delete(name);
  }

  #record<K extends CallbackName>(name: K, driver: SchedulerDriver, args: Callbacks[K]): void {
    this.calls.push({ name, args });
    const behaviour = this.#behaviour[name] as ((driver: SchedulerDriver, ...a: Callbacks[K]) => void) | undefined;
    behaviour?.(driver, ...args);
    const waiters = this.#waiting.get(name);
    if (waiters !== undefined && waiters.length > 0) {
      waiters.shift()!(args);
    } else {
      const q = this.#queued.get(name) ?? [];
      q.push(args);
      this.#queued.set(name, q);
    }
  }

  registered(d: SchedulerDriver, id: FrameworkID, info: MasterInfo | undefined) {
    this.#record('registered', d, [id, info]);
  }
  reregistered(d: SchedulerDriver, info: MasterInfo | undefined) {
    this.#record('reregistered', d, [info]);
  }
  disconnected(d: SchedulerDriver) {
    this.#record('disconnected', d, []);
  }
  resourceOffers(d: SchedulerDriver, offers: Offer[]) {
    this.#record('resourceOffers', d, [offers]);
  }
  offerRescinded(d: SchedulerDriver, id: OfferID) {
    this.#record('offerRescinded', d, [id]);
  }
  inverseOffers(d: SchedulerDriver, inverseOffers: InverseOffer[]) {
    this.#record('inverseOffers', d, [inverseOffers]);
  }
  inverseOfferRescinded(d: SchedulerDriver, id: OfferID) {
    this.#record('inverseOfferRescinded', d, [id]);
  }
  statusUpdate(d: SchedulerDriver, status: TaskStatus) {
    this.#record('statusUpdate', d, [status]);
  }
  frameworkMessage(d: SchedulerDriver, e: ExecutorID, a: AgentID, data: Buffer) {
    this.#record('frameworkMessage', d, [e, a, data]);
  }
  slaveLost(d: SchedulerDriver, a: AgentID) {
    this.#record('slaveLost', d, [a]);
  }
  executorLost(d: SchedulerDriver, e: ExecutorID, a: AgentID, status: number) {
    this.#record('executorLost', d, [e, a, status]);
  }
  error(d: SchedulerDriver, message: string) {
    this.#record('error', d, [message]);
  }
}

/**
 * A `TestScheduler` that launches `tasks(offer)` on the first offer it gets and declines every
 * other offer (with `refuse_seconds`, default Mesos's 5 s): what most end-to-end tests want of a
 * framework.
 */
export function launchingOnce(tasks: (offer: Offer) => TaskInfo[], refuseSeconds?: number): TestScheduler {
  const scheduler = new TestScheduler();
  let launched = false;
  scheduler.on('resourceOffers', (driver, offers) => {
    for (const offer of offers) {
      if (launched) {
        driver.declineOffer(offer.id, refuseSeconds === undefined ? undefined : { refuse_seconds: refuseSeconds });
        continue;
      }
      launched = true;
      driver.launchTasks(offer.id, tasks(offer));
    }
  });
  return scheduler;
}
