import type { Credential } from '../../src/http/authentication.ts';
import { randomUUID } from 'node:crypto';
import { createActor, type Actor } from 'xstate';
import type { Timer } from '../../src/process/clock.ts';
import { Process } from '../../src/process/process.ts';
import type { Logger } from 'pino';
import { Runtime } from '../../src/process/runtime.ts';
import { UPID } from '../../src/process/upid.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { SCHEDULER_CALL, SCHEDULER_EVENT } from '../../src/mesos/protocol.ts';
import type {
  AgentID,
  ExecutorID,
  Filters,
  FrameworkID,
  FrameworkInfo,
  InverseOffer,
  MasterInfo,
  Offer,
  OfferID,
  OfferOperation,
  Request,
  TaskID,
  TaskInfo,
  TaskStatus,
} from '../../src/mesos/v1/common.ts';
import { frameworkRoles } from '../../src/mesos/v1/common.ts';
import { parseSchedulerEvent, type SchedulerCall, type SchedulerEvent } from '../../src/mesos/v1/index.ts';
import { parseMasterAddress, type MasterAddress } from '../detector/address.ts';
import { detectorFor, transportFor } from '../detector/connect.ts';
import type { MasterDetector } from '../detector/detector.ts';
import { RecentMap } from '../../src/recent.ts';
import {
  ANSWERED_MEMORY,
  DELIVERED_MEMORY,
  REGISTRATION_BACKOFF_FACTOR_MS,
  REGISTRATION_RETRY_FAILOVER_TIMEOUT_FRACTION,
  REGISTRATION_RETRY_INTERVAL_MAX_MS,
} from './constants.ts';
import { HttpMasterConnection } from './http-connection.ts';
import { schedulerMachine, type SchedulerMachineState } from './scheduler.machine.ts';

/**
 * The callbacks of a framework's scheduler, as Mesos's `Scheduler` interface. Each runs inside
 * the driver's actor, one at a time; the driver may be called from inside them.
 */
export interface Scheduler {
  registered?(driver: SchedulerDriver, frameworkId: FrameworkID, masterInfo: MasterInfo | undefined): void;
  reregistered?(driver: SchedulerDriver, masterInfo: MasterInfo | undefined): void;
  disconnected?(driver: SchedulerDriver): void;
  resourceOffers?(driver: SchedulerDriver, offers: Offer[]): void;
  offerRescinded?(driver: SchedulerDriver, offerId: OfferID): void;
  /**
   * The master asks for agents back (maintenance: each inverse offer names an agent on a
   * draining machine and its `unavailability`); answer with `acceptInverseOffers` or
   * `declineInverseOffers`.
   */
  inverseOffers?(driver: SchedulerDriver, inverseOffers: InverseOffer[]): void;
  /** An inverse offer is void (the machine's maintenance changed, or the agent left). */
  inverseOfferRescinded?(driver: SchedulerDriver, inverseOfferId: OfferID): void;
  statusUpdate?(driver: SchedulerDriver, status: TaskStatus): void;
  frameworkMessage?(driver: SchedulerDriver, executorId: ExecutorID, agentId: AgentID, data: Buffer): void;
  slaveLost?(driver: SchedulerDriver, agentId: AgentID): void;
  executorLost?(driver: SchedulerDriver, executorId: ExecutorID, agentId: AgentID, status: number): void;
  error?(driver: SchedulerDriver, message: string): void;
}

/** Mesos's driver `Status`. */
export type DriverStatus = 'DRIVER_NOT_STARTED' | 'DRIVER_RUNNING' | 'DRIVER_ABORTED' | 'DRIVER_STOPPED';

export interface SchedulerDriverOptions {
  /** The runtime to run the driver's actor in; default: a new one on `transport`. */
  runtime?: Runtime;
  /** The logger of a runtime of its own (default: the process-wide one). */
  logger?: Logger;
  /** For a runtime of its own (default: the in-process local bus). */
  transport?: Transport;
  /** Acknowledge each status update after `statusUpdate` returns (default true, as Mesos). */
  implicitAcknowledgements?: boolean;
  /** Jitter source for subscription backoff (default `Math.random`). */
  random?: () => number;
  /**
   * Finds the leading master again after the driver loses its master, so that it follows a
   * master that restarted elsewhere. Default: none for a `master@node` address (the driver
   * re-subscribes to the same master), discovery on the bus for a `nats://` address.
   */
  detector?: MasterDetector;
  /**
   * The principal and secret to authenticate with, as Mesos's driver takes a `Credential`: over
   * HTTP, sent as HTTP Basic credentials to a master run with `--authenticate_http_frameworks`
   * (the framework's `principal` should then be the same, or left out for the master to fill
   * in). On the bus it is not used: there the nats-server decides who may connect.
   */
  credential?: Credential;
}

/**
 * Connects a framework's scheduler to a master, as Mesos's `MesosSchedulerDriver`: it subscribes
 * (retrying with backoff; failing over with the framework id after losing the master), turns
 * master events into `Scheduler` callbacks and driver calls into v1 scheduler `Call`s on the bus.
 *
 * The master is a UPID (`master@m1`, reached on the runtime's bus) or a NATS URL
 * (`nats://host:4222[,more]`): then the driver's runtime goes on that bus (unless given one) and
 * `start` waits until the leading master answers there (see `actors/detector`). Or it is the
 * master's HTTP address (`http://host:5050`): the driver then speaks the v1 scheduler HTTP API
 * (`http-connection.ts`), and needs no bus.
 *
 * @example
 * const driver = new SchedulerDriver(
 *   { resourceOffers: (d, offers) => offers.forEach((o) => d.declineOffer(o.id)) },
 *   { user: 'me', name: 'hello' },
 *   'master@m1',
 *   { runtime },
 * );
 * await driver.start();
 */
export class SchedulerDriver {
  #status: DriverStatus = 'DRIVER_NOT_STARTED';
  #process: SchedulerProcess | undefined;
  #runtime: Runtime | undefined;
  #ownRuntime = false;
  #joined: Promise<void>;
  #finish!: () => void;
  /** The process's end (and the runtime's, if its own), once `stop` or `abort` began it. */
  #shutdownDone: Promise<void> | undefined;
  #detector: MasterDetector | undefined;
  readonly #detection = new AbortController();
  /** The master reached over the scheduler HTTP API (an `http://` master). */
  #http: HttpMasterConnection | undefined;
  /**
   * Holds the event loop while a driver with a runtime of its own runs, as Mesos's driver thread
   * holds its program: the runtime's timers do not (a retry to reach a master that is away would
   * otherwise find the loop empty, and the program would exit waiting on `join()`).
   */
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  /**
   * Roles it suppressed offers for and has not revived: every SUBSCRIBE says so
   * (`suppressed_roles`), so that subscribing again (after a broken connection, or to a new
   * master) does not bring back the offers the scheduler turned off.
   */
  readonly #suppressedRoles = new Set<string>();

  constructor(
    readonly scheduler: Scheduler,
    readonly framework: FrameworkInfo,
    readonly master: UPID | string,
    readonly options: SchedulerDriverOptions = {},
  ) {
    this.#joined = new Promise<void>((resolve) => (this.#finish = resolve));
  }

  get status(): DriverStatus {
    return this.#status;
  }

  /** The framework id once subscribed. */
  get frameworkId(): FrameworkID | undefined {
    return this.#process?.frameworkId;
  }

  /** Roles offers are suppressed for (`suppressOffers`, until `reviveOffers`). */
  get suppressedRoles(): string[] {
    return [...this.#suppressedRoles];
  }

  /** The driver actor's address. */
  get pid(): UPID | undefined {
    return this.#process?._self;
  }

  get connectionState(): SchedulerMachineState {
    return (this.#process?.machine.getSnapshot().value as SchedulerMachineState | undefined) ?? 'DISCONNECTED';
  }

  /** Finds the master again after losing it, when the driver has a detector. */
  get detector(): MasterDetector | undefined {
    return this.#detector;
  }

  /** @internal Aborts a detection in progress when the driver stops. */
  get detectionSignal(): AbortSignal {
    return this.#detection.signal;
  }

  /** Starts subscribing (after finding the master, for a `nats://` address); resolves with `DRIVER_RUNNING`. */
  async start(): Promise<DriverStatus> {
    if (this.#status !== 'DRIVER_NOT_STARTED' || this.#runtime !== undefined) return this.#status;
    const address: MasterAddress = typeof this.master === 'string' ? parseMasterAddress(this.master) : { kind: 'upid', upid: this.master };
    if (address.kind === 'http') return this.#startOverHttp(address.url);
    if (this.options.runtime !== undefined) {
      this.#runtime = this.options.runtime;
    } else {
      const transport = this.options.transport ?? transportFor(address);
      this.#runtime = await Runtime.start({ ...(transport !== undefined ? { transport } : {}), ...(this.options.logger !== undefined ? { logger: this.options.logger } : {}) });
      this.#ownRuntime = true;
    }
    this.#detector = this.options.detector ?? (address.kind === 'upid' ? undefined : detectorFor(address, this.#runtime, this.#runtime.logger));
    let master: UPID;
    if (address.kind === 'upid') {
      master = address.upid;
    } else {
      try {
        master = await this.#detector!.detect(this.#detection.signal);
      } catch (error) {
        if (this.#ownRuntime) await this.#runtime.shutdown();
        throw error;
      }
    }
    this.#process = new SchedulerProcess(this, master);
    this.#running();
    this.#runtime.spawn(this.#process);
    return this.#status;
  }

  #running(): void {
    this.#status = 'DRIVER_RUNNING';
    if (this.#ownRuntime) this.#keepAlive ??= setInterval(() => undefined, 2 ** 30);
  }

  /**
   * An `http://host:port` master: the driver's process talks to `HttpMasterConnection`, which
   * speaks the v1 scheduler HTTP API for it, in the given runtime or a local one of its own.
   */
  async #startOverHttp(url: string): Promise<DriverStatus> {
    if (this.options.runtime !== undefined) {
      this.#runtime = this.options.runtime;
    } else {
      this.#runtime = await Runtime.start({
        ...(this.options.transport !== undefined ? { transport: this.options.transport } : {}),
        ...(this.options.logger !== undefined ? { logger: this.options.logger } : {}),
      });
      this.#ownRuntime = true;
    }
    this.#http = new HttpMasterConnection(url, this.#runtime.generateId('master-http'), this.options.credential);
    this.#runtime.spawn(this.#http);
    this.#process = new SchedulerProcess(this, this.#http.self);
    this.#running();
    this.#runtime.spawn(this.#process);
    return this.#status;
  }

  /**
   * Stops the driver. Without `failover` the framework is torn down (its tasks killed); with it,
   * the master keeps the framework for its `failover_timeout`, for another scheduler to take over.
   * After `abort` it only ends the driver, and returns `DRIVER_ABORTED` (the status is
   * `DRIVER_STOPPED` from then on), as Mesos's `MesosSchedulerDriver::stop`.
   */
  async stop(failover = false): Promise<DriverStatus> {
    if (this.#status !== 'DRIVER_RUNNING' && this.#status !== 'DRIVER_ABORTED') return this.#status;
    const aborted = this.#status === 'DRIVER_ABORTED';
    if (!failover && !aborted) this.#process?.teardown();
    this.#status = 'DRIVER_STOPPED';
    await this.#shutdown();
    return aborted ? 'DRIVER_ABORTED' : 'DRIVER_STOPPED';
  }

  /** Stops without tearing the framework down (as a crash would). */
  async abort(): Promise<DriverStatus> {
    if (this.#status !== 'DRIVER_RUNNING') return this.#status;
    this.#status = 'DRIVER_ABORTED';
    await this.#shutdown();
    return 'DRIVER_ABORTED';
  }

  /**
   * Resolves when the driver is stopped or aborted, with its status then; at once (with its
   * status) for a driver that never started, as Mesos's `join` returns without a process.
   */
  join(): Promise<DriverStatus> {
    if (this.#process === undefined && this.#runtime === undefined) return Promise.resolve(this.#status);
    return this.#joined.then(() => this.#status);
  }

  /** `start()` then, if that left the driver running, `join()` (Mesos's `run`). */
  async run(): Promise<DriverStatus> {
    const status = await this.start();
    return status !== 'DRIVER_RUNNING' ? status : this.join();
  }

  /** ACCEPT the offers with one LAUNCH of `tasks` (Mesos's `launchTasks`). */
  launchTasks(offerIds: OfferID | OfferID[], tasks: TaskInfo[], filters?: Filters): DriverStatus {
    return this.acceptOffers(offerIds, [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters);
  }

  acceptOffers(offerIds: OfferID | OfferID[], operations: OfferOperation[], filters?: Filters): DriverStatus {
    const ids = Array.isArray(offerIds) ? offerIds : [offerIds];
    const accept: { offer_ids: OfferID[]; operations: OfferOperation[]; filters?: Filters } = { offer_ids: ids, operations };
    if (filters !== undefined) accept.filters = filters;
    return this.#call({ type: 'ACCEPT', accept } as SchedulerCall, () => this.#process?.lostLaunch(operations));
  }

  /** DECLINE (default filter: `refuse_seconds` 5). */
  declineOffer(offerId: OfferID, filters?: Filters): DriverStatus {
    const decline: { offer_ids: OfferID[]; filters?: Filters } = { offer_ids: [offerId] };
    if (filters !== undefined) decline.filters = filters;
    return this.#call({ type: 'DECLINE', decline } as SchedulerCall);
  }

  /**
   * ACCEPT_INVERSE_OFFERS: the scheduler is fine with the maintenance of these inverse offers'
   * agents (a hint for the operator; nothing else changes). The master asks again after
   * `filters.refuse_seconds` (default 5) if the framework still uses the agent.
   */
  acceptInverseOffers(inverseOfferIds: OfferID | OfferID[], filters?: Filters): DriverStatus {
    return this.#inverseOffersCall('ACCEPT_INVERSE_OFFERS', 'accept_inverse_offers', inverseOfferIds, filters);
  }

  /** DECLINE_INVERSE_OFFERS: the scheduler cannot comply with the maintenance (a hint for the operator), as `acceptInverseOffers`. */
  declineInverseOffers(inverseOfferIds: OfferID | OfferID[], filters?: Filters): DriverStatus {
    return this.#inverseOffersCall('DECLINE_INVERSE_OFFERS', 'decline_inverse_offers', inverseOfferIds, filters);
  }

  #inverseOffersCall(type: 'ACCEPT_INVERSE_OFFERS' | 'DECLINE_INVERSE_OFFERS', field: string, inverseOfferIds: OfferID | OfferID[], filters: Filters | undefined): DriverStatus {
    const reply: { inverse_offer_ids: OfferID[]; filters?: Filters } = { inverse_offer_ids: Array.isArray(inverseOfferIds) ? inverseOfferIds : [inverseOfferIds] };
    if (filters !== undefined) reply.filters = filters;
    return this.#call({ type, [field]: reply } as unknown as SchedulerCall);
  }

  killTask(taskId: TaskID, agentId?: AgentID): DriverStatus {
    return this.#call({ type: 'KILL', kill: agentId === undefined ? { task_id: taskId } : { task_id: taskId, agent_id: agentId } } as SchedulerCall);
  }

  /**
   * REVIVE: no roles means all of them; an empty list means none, so nothing happens (Mesos's
   * `reviveOffers(roles)`: a scheduler reviving the roles it has work for, none, revives nothing).
   * Not running, nothing changes either.
   */
  reviveOffers(roles?: string[]): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING' || roles?.length === 0) return this.#status;
    if (roles === undefined) this.#suppressedRoles.clear();
    else for (const role of roles) this.#suppressedRoles.delete(role);
    return this.#call((roles === undefined ? { type: 'REVIVE' } : { type: 'REVIVE', revive: { roles } }) as SchedulerCall);
  }

  /** SUPPRESS: no roles means all of the framework's; an empty list means none (as `reviveOffers`). */
  suppressOffers(roles?: string[]): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING' || roles?.length === 0) return this.#status;
    for (const role of roles ?? frameworkRoles(this.framework)) this.#suppressedRoles.add(role);
    return this.#call((roles === undefined ? { type: 'SUPPRESS' } : { type: 'SUPPRESS', suppress: { roles } }) as SchedulerCall);
  }

  /**
   * Explicit acknowledgement (with `implicitAcknowledgements: false`). With implicit
   * acknowledgements on it throws: the driver acknowledges every update itself, and a second
   * acknowledgement is a bug of the scheduler's (Mesos's driver aborts the process then).
   */
  acknowledgeStatusUpdate(status: TaskStatus): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING') return this.#status;
    if (this.options.implicitAcknowledgements ?? true) throw new Error('Cannot call acknowledgeStatusUpdate: implicit acknowledgements are enabled');
    const call = acknowledgeCall(status);
    return call === undefined ? this.#status : this.#call(call);
  }

  /** RECONCILE: the latest state of these tasks (all of the framework's, if empty). */
  reconcileTasks(statuses: Pick<TaskStatus, 'task_id' | 'agent_id'>[] = []): DriverStatus {
    const tasks = statuses.map((s) => (s.agent_id === undefined ? { task_id: s.task_id } : { task_id: s.task_id, agent_id: s.agent_id }));
    return this.#call({ type: 'RECONCILE', reconcile: { tasks } } as SchedulerCall);
  }

  sendFrameworkMessage(executorId: ExecutorID, agentId: AgentID, data: Uint8Array | string): DriverStatus {
    return this.#call({ type: 'MESSAGE', message: { agent_id: agentId, executor_id: executorId, data: Buffer.from(data).toString('base64') } } as SchedulerCall);
  }

  requestResources(requests: Request[]): DriverStatus {
    return this.#call({ type: 'REQUEST', request: { requests } } as SchedulerCall);
  }

  #call(call: SchedulerCall, whenDisconnected?: () => void): DriverStatus {
    if (this.#status !== 'DRIVER_RUNNING' || this.#process === undefined) return this.#status;
    if (!this.#process.sendCall(call)) whenDisconnected?.();
    return this.#status;
  }

  #shutdown(): Promise<void> {
    return (this.#shutdownDone ??= this.#terminate());
  }

  async #terminate(): Promise<void> {
    this.#detection.abort();
    const process = this.#process;
    if (process !== undefined && process.alive) {
      const done = this.#runtime!.wait(process.self);
      this.#runtime!.terminate(process.self, false);
      await done;
    }
    // Over HTTP, the calls sent before (a TEARDOWN) reach the master before the connection ends.
    await this.#http?.close();
    if (this.#ownRuntime) await this.#runtime?.shutdown();
    clearInterval(this.#keepAlive);
    this.#finish();
  }
}

/** The ACKNOWLEDGE call for an update; `undefined` for one that needs none (no uuid or agent). */
function acknowledgeCall(status: TaskStatus): SchedulerCall | undefined {
  if (status.uuid === undefined || status.agent_id === undefined) return undefined;
  return { type: 'ACKNOWLEDGE', acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } } as SchedulerCall;
}

/** The driver's actor: owns the connection to the master and invokes the callbacks. */
class SchedulerProcess extends Process {
  readonly machine: Actor<typeof schedulerMachine>;
  frameworkId: FrameworkID | undefined;
  #master: UPID;
  #backoffMs = REGISTRATION_BACKOFF_FACTOR_MS;
  /**
   * Started with a framework id and not subscribed yet: a scheduler failing over to take its
   * framework over (Mesos's `failover`). Its SUBSCRIBEs say `force`, so that the master fails the
   * framework's current scheduler over, and the scheduler hears `registered`; once subscribed,
   * later subscriptions (after a disconnection) are not forced and it hears `reregistered`.
   */
  #failover: boolean;
  #retry: Timer | undefined;
  #detecting = false;

  constructor(
    readonly driver: SchedulerDriver,
    master: UPID,
  ) {
    super(`scheduler-${randomUUID()}`);
    this.#master = master;
    // An empty id is no id (Mesos).
    this.frameworkId = driver.framework.id?.value ? driver.framework.id : undefined;
    this.#failover = this.frameworkId !== undefined;
    this.machine = createActor(schedulerMachine, { clock: this.machineClock });
    this.install(SCHEDULER_EVENT, (from, event: SchedulerEvent) => this.event(from, event), (body) => parseSchedulerEvent(body));
  }

  get state(): SchedulerMachineState {
    return this.machine.getSnapshot().value as SchedulerMachineState;
  }

  override initialize(): void {
    this.machine.start();
    this.machine.send({ type: 'START' });
    this.#subscribe();
  }

  override finalize(): void {
    this.machine.send({ type: 'STOP' });
    this.machine.stop();
  }

  override exited(upid: UPID): void {
    this.#masterLost(upid, 'Master exited; re-subscribing');
  }

  /**
   * The bus connection to the master broke and came back: events or calls may have been lost
   * (an OFFERS event, say, that would otherwise stay outstanding). Subscribe again, as a Mesos
   * driver re-registers after its socket to the master breaks; the master sends its
   * outstanding offers to us again.
   */
  override linkInterrupted(upid: UPID): void {
    this.#masterLost(upid, 'Connection to the master interrupted; re-subscribing');
  }

  #masterLost(upid: UPID, message: string): void {
    if (!upid.equals(this.#master) || this.state !== 'SUBSCRIBED') return;
    this.log.warn({ master: String(upid) }, message);
    this.machine.send({ type: 'MASTER_LOST' });
    // The scheduler hears `disconnected`, after which its offers are void (a Mesos scheduler
    // drops them); those still outstanding come again once subscribed.
    this.#offered.clear();
    // Answers sent before the SUBSCRIBE that follows reach the master before it: none of those
    // offers comes again, except one whose answer was lost, which the scheduler may have again.
    this.#answeredEarly = undefined;
    this.#backoffMs = REGISTRATION_BACKOFF_FACTOR_MS;
    this.#callback('disconnected', (s) => s.disconnected?.(this.driver));
    this.#subscribe();
  }

  /**
   * Sends a call if subscribed; false (and a log line) otherwise, as Mesos drops them.
   *
   * DECLINEs are gathered until the end of the current turn (a microtask) and go as one DECLINE
   * per filter with every offer id, as v1 allows: a scheduler declining each offer of an event
   * costs the master one call, not one per offer. Any other call sends the gathered declines
   * first, so calls keep their order.
   */
  sendCall(call: SchedulerCall): boolean {
    if (call.type === 'ACCEPT') this.#answered(call.accept.offer_ids);
    else if (call.type === 'DECLINE') this.#answered(call.decline.offer_ids);
    if (this.state !== 'SUBSCRIBED' || this.frameworkId === undefined) {
      this.log.warn({ type: call.type }, 'Ignoring call: not subscribed to a master');
      return false;
    }
    if (call.type === 'DECLINE' && this.#gatherDecline(call.decline)) return true;
    this.#sendDeclines();
    this.send(this.#master, SCHEDULER_CALL, { framework_id: this.frameworkId, ...call });
    return true;
  }

  /**
   * Ids of the offers the scheduler was given since it last heard `disconnected`, and has not
   * answered (accepted, declined) and the master has not rescinded. A master that sees this
   * driver subscribe again sends its outstanding offers again, in case their OFFERS event was
   * lost (`linkInterrupted`); when the driver retried SUBSCRIBE without having disconnected,
   * the scheduler already holds them and does not get them twice.
   */
  readonly #offered = new Set<string>();

  /**
   * SUBSCRIBE calls sent and SUBSCRIBED events received. While fewer came than went, the master
   * may still answer a SUBSCRIBE it got before this driver's latest answers, and send the offers
   * outstanding then again: those answered meanwhile are remembered in `#answeredEarly` (up to
   * `ANSWERED_MEMORY`), so that the scheduler does not get an offer it declined or accepted
   * (seen in the offers bench over NATS: a retried SUBSCRIBE, 8 to 33 offers declined twice).
   */
  #subscribesSent = 0;
  #subscribedReceived = 0;
  #answeredEarly: RecentMap<string, true> | undefined;

  #answered(ids: readonly OfferID[] | undefined): void {
    if (ids === undefined) return;
    const early = this.#subscribesSent > this.#subscribedReceived;
    if (early) this.#answeredEarly ??= new RecentMap(ANSWERED_MEMORY);
    for (const id of ids) {
      this.#offered.delete(id.value);
      if (early) this.#answeredEarly!.set(id.value, true);
    }
  }

  /** The offers of an OFFERS event the scheduler does not hold or has not answered, now held. */
  #newOffers(offers: Offer[]): Offer[] {
    // A copy only from the first offer held or answered (rare: a master sending offers again).
    const answered = this.#answeredEarly;
    let fresh: Offer[] | undefined;
    for (let i = 0; i < offers.length; i++) {
      const offer = offers[i]!;
      if (this.#offered.has(offer.id.value) || answered?.has(offer.id.value) === true) {
        fresh ??= offers.slice(0, i);
        continue;
      }
      this.#offered.add(offer.id.value);
      fresh?.push(offer);
    }
    return fresh ?? offers;
  }

  /** Gathered declines by `refuse_seconds` (`undefined`: no filters given). */
  readonly #declines = new Map<number | undefined, OfferID[]>();

  /** Gathers a decline whose filters are at most `refuse_seconds`; false if it must go alone. */
  #gatherDecline(decline: { offer_ids?: OfferID[]; filters?: Filters }): boolean {
    const filters = decline.filters;
    let refuse: number | undefined;
    if (filters !== undefined) {
      for (const key in filters) if (key !== 'refuse_seconds') return false;
      refuse = filters.refuse_seconds;
    }
    const ids = decline.offer_ids ?? [];
    const list = this.#declines.get(refuse);
    if (list !== undefined) list.push(...ids);
    else {
      if (this.#declines.size === 0) queueMicrotask(this.#sendDeclines);
      this.#declines.set(refuse, [...ids]);
    }
    return true;
  }

  readonly #sendDeclines = (): void => {
    if (this.#declines.size === 0) return;
    const gathered = [...this.#declines];
    this.#declines.clear();
    // Stopped or disconnected since: dropped, as a call made then would have been.
    if (!this.alive || this.state !== 'SUBSCRIBED' || this.frameworkId === undefined) return;
    for (const [refuse, ids] of gathered) {
      const decline = refuse === undefined ? { offer_ids: ids } : { offer_ids: ids, filters: { refuse_seconds: refuse } };
      this.send(this.#master, SCHEDULER_CALL, { framework_id: this.frameworkId, type: 'DECLINE', decline });
    }
  };

  teardown(): void {
    this.sendCall({ type: 'TEARDOWN' } as SchedulerCall);
  }

  /**
   * A launch while disconnected: its tasks are reported dropped (lost, to a framework that is
   * not `PARTITION_AWARE`), as Mesos's `SchedulerProcess::acceptOffers` does.
   */
  lostLaunch(operations: OfferOperation[]): void {
    const now = this.clock.now() / 1000;
    const state = this.driver.framework.capabilities?.some((c) => c.type === 'PARTITION_AWARE') === true ? 'TASK_DROPPED' : 'TASK_LOST';
    for (const op of operations) {
      // The tasks of a LAUNCH_GROUP too, each of them.
      const tasks = op.type === 'LAUNCH' ? op.launch.task_infos : op.type === 'LAUNCH_GROUP' ? op.launch_group.task_group.tasks : undefined;
      for (const task of tasks ?? []) {
        const status: TaskStatus = { task_id: task.task_id, state, source: 'SOURCE_MASTER', reason: 'REASON_MASTER_DISCONNECTED', message: 'Master disconnected', timestamp: now };
        this.runtime.enqueueIfAlive(this, () => {
          if (this.driver.status === 'DRIVER_RUNNING') this.#callback('statusUpdate', (s) => s.statusUpdate?.(this.driver, status));
        });
      }
    }
  }

  #subscribe(): void {
    if (this.state !== 'SUBSCRIBING') return;
    this.#redetect();
    const framework_info: FrameworkInfo = { ...this.driver.framework };
    if (this.frameworkId !== undefined) framework_info.id = this.frameworkId;
    else delete framework_info.id;
    const suppressed = this.driver.suppressedRoles;
    const subscribe: Record<string, unknown> = suppressed.length > 0 ? { framework_info, suppressed_roles: suppressed } : { framework_info };
    const call: Record<string, unknown> = { type: 'SUBSCRIBE', subscribe };
    if (this.frameworkId !== undefined) {
      call.framework_id = this.frameworkId;
      subscribe.force = this.#failover;
    }
    this.link(this.#master);
    this.send(this.#master, SCHEDULER_CALL, call);
    this.#subscribesSent++;
    const random = this.driver.options.random ?? Math.random;
    const max = registrationBackoffMaxMs(this.#backoffMs, this.driver.framework.failover_timeout);
    const wait = Math.round(random() * max);
    this.#backoffMs = max * 2;
    this.#retry?.cancel();
    this.#retry = this.delay(wait, () => this.#subscribe());
  }

  /**
   * With a detector, asks who leads now at each subscription attempt (a restarted master may
   * have another address); a new master gets an attempt at once. Not through `defer`: `settle()`
   * must not wait for a master to appear.
   */
  #redetect(): void {
    const detector = this.driver.detector;
    if (detector === undefined || this.#detecting) return;
    this.#detecting = true;
    void detector
      .detect(this.driver.detectionSignal)
      .then((master) =>
        this.runtime.dispatch(this.self, () => {
          this.#detecting = false;
          if (this.state !== 'SUBSCRIBING' || master.equals(this.#master)) return;
          this.log.info({ master: String(master), previous: String(this.#master) }, 'Detected a new leading master');
          this.#master = master;
          this.#subscribe();
        }),
      )
      .catch(() => undefined); // The driver stopped (detection aborted, or its process is gone).
  }

  event(from: UPID, event: SchedulerEvent): void {
    // Stopped or aborted (from a callback, say, while more events were queued): the scheduler
    // hears nothing more, as Mesos's driver ignores every message once it is not `running`.
    if (this.driver.status !== 'DRIVER_RUNNING') {
      this.log.debug({ type: event.type }, 'Ignoring event: the driver is not running');
      return;
    }
    if (this.state === 'FAILED_OVER' || this.state === 'STOPPED') return;
    switch (event.type) {
      case 'SUBSCRIBED': {
        this.#subscribedReceived++;
        if (this.state === 'SUBSCRIBED') {
          this.log.debug('Ignoring duplicate SUBSCRIBED');
          return;
        }
        // Mesos's `SchedulerProcess::receive`: a first subscription, or the first of a scheduler
        // failing over, is `registered`; any later one (after a disconnection) `reregistered`.
        const registered = this.frameworkId === undefined || this.#failover;
        this.#failover = false;
        this.#master = from;
        this.frameworkId = event.subscribed.framework_id;
        this.machine.send({ type: 'SUBSCRIBED' });
        this.link(from);
        const info = event.subscribed.master_info;
        if (registered) this.#callback('registered', (s) => s.registered?.(this.driver, event.subscribed.framework_id, info));
        else this.#callback('reregistered', (s) => s.reregistered?.(this.driver, info));
        return;
      }
      case 'HEARTBEAT':
        return;
      case 'ERROR':
        if (event.error.message === 'Framework failed over') {
          // Another scheduler took the framework over: what a failover is for, not a fault here.
          this.log.warn('Framework failed over to another scheduler; aborting the driver');
          this.machine.send({ type: 'FAILED_OVER' });
        } else {
          this.log.error({ message: event.error.message }, 'Master reported an error; aborting the driver');
        }
        // Aborted before the scheduler hears it, as Mesos's `SchedulerProcess::error`: in `error`
        // the driver is `DRIVER_ABORTED` already and calls to it do nothing.
        void this.driver.abort();
        this.#callback('error', (s) => s.error?.(this.driver, event.error.message));
        return;
      default:
        break;
    }
    if (this.state !== 'SUBSCRIBED' || !from.equals(this.#master)) {
      this.log.debug({ type: event.type, from: String(from) }, 'Ignoring event: not from the subscribed master');
      return;
    }
    switch (event.type) {
      case 'OFFERS': {
        const offers = this.#newOffers(event.offers.offers ?? []);
        if (offers.length > 0) this.#callback('resourceOffers', (s) => s.resourceOffers?.(this.driver, offers));
        return;
      }
      case 'RESCIND':
        this.#offered.delete(event.rescind.offer_id.value);
        this.#callback('offerRescinded', (s) => s.offerRescinded?.(this.driver, event.rescind.offer_id));
        return;
      case 'INVERSE_OFFERS': {
        const inverseOffers = event.inverse_offers.inverse_offers ?? [];
        if (inverseOffers.length > 0) this.#callback('inverseOffers', (s) => s.inverseOffers?.(this.driver, inverseOffers));
        return;
      }
      case 'RESCIND_INVERSE_OFFER':
        this.#callback('inverseOfferRescinded', (s) => s.inverseOfferRescinded?.(this.driver, event.rescind_inverse_offer.inverse_offer_id));
        return;
      case 'UPDATE': {
        const status = event.update.status;
        const implicit = this.driver.options.implicitAcknowledgements ?? true;
        if (implicit && status.uuid !== undefined && this.#alreadyDelivered(status.task_id.value, status.uuid)) {
          // The agent resent an update whose acknowledgement was lost (at-least-once delivery):
          // acknowledge it again, but the scheduler heard it once already.
          this.log.debug({ taskId: status.task_id.value, state: status.state }, 'Acknowledging a duplicate status update without calling back');
          this.#acknowledge(status);
          return;
        }
        this.#callback('statusUpdate', (s) => s.statusUpdate?.(this.driver, status));
        // Not if the scheduler stopped or aborted the driver in `statusUpdate` (Mesos's
        // `DropAckIfStopCalledBeforeAbort`): the update is then left for a next scheduler.
        if (implicit && this.driver.status === 'DRIVER_RUNNING') this.#acknowledge(status);
        return;
      }
      case 'MESSAGE': {
        const m = event.message;
        this.#callback('frameworkMessage', (s) => s.frameworkMessage?.(this.driver, m.executor_id, m.agent_id, Buffer.from(m.data, 'base64')));
        return;
      }
      case 'FAILURE': {
        const f = event.failure;
        if (f.executor_id !== undefined && f.agent_id !== undefined) {
          this.#callback('executorLost', (s) => s.executorLost?.(this.driver, f.executor_id!, f.agent_id!, f.status ?? -1));
        } else if (f.agent_id !== undefined) {
          this.#callback('slaveLost', (s) => s.slaveLost?.(this.driver, f.agent_id!));
        }
        return;
      }
      default:
        this.log.debug({ type: event.type }, 'Ignoring unsupported event');
    }
  }

  /** The implicit acknowledgement of an update. */
  #acknowledge(status: TaskStatus): void {
    const call = acknowledgeCall(status);
    if (call !== undefined) this.sendCall(call);
  }

  /**
   * Updates delivered to the scheduler: the task of each update uuid (the most recent
   * `DELIVERED_MEMORY`). Keyed by the uuid alone, so that no key string is built per update.
   */
  readonly #delivered = new RecentMap<string, string>(DELIVERED_MEMORY);

  /** Whether this update (task, uuid) reached the scheduler before; remembers it if not. */
  #alreadyDelivered(taskId: string, uuid: string): boolean {
    if (this.#delivered.get(uuid) === taskId) return true;
    this.#delivered.set(uuid, taskId);
    return false;
  }

  #callback(name: string, fn: (scheduler: Scheduler) => void): void {
    try {
      fn(this.driver.scheduler);
    } catch (error) {
      this.log.error({ err: error, callback: name }, 'Scheduler callback threw');
    }
  }
}

/**
 * The bound of one subscription attempt's backoff, Mesos's `doReliableRegistration`: `backoffMs`
 * capped by `REGISTRATION_RETRY_INTERVAL_MAX_MS` and, for a positive `failoverTimeoutSeconds`,
 * by a tenth of it. The attempt waits a random part of it; the next one's bound starts from twice it.
 */
function registrationBackoffMaxMs(backoffMs: number, failoverTimeoutSeconds: number | undefined): number {
  let max = Math.min(backoffMs, REGISTRATION_RETRY_INTERVAL_MAX_MS);
  if (failoverTimeoutSeconds !== undefined && failoverTimeoutSeconds > 0) {
    max = Math.min(max, failoverTimeoutSeconds * 1000 * REGISTRATION_RETRY_FAILOVER_TIMEOUT_FRACTION);
  }
  return max;
}
