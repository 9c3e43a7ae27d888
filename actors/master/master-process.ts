import type { LocalAuthorizer } from './authorizer.ts';
import { createActor, type Actor } from 'xstate';
import { Process, type Handler, type Validator } from '../../src/process/process.ts';
import { UPID } from '../../src/process/upid.ts';
import { RecentList, RecentMap, RecentSet } from '../../src/recent.ts';
import type { Counter } from '../../src/metrics/metrics.ts';
import { taskStateCounters, usedFraction } from '../../src/metrics/task-counters.ts';
import { MasterIdGenerator, newMasterId } from '../../src/mesos/ids.ts';
import {
  EXECUTOR_TO_FRAMEWORK,
  EXITED_EXECUTOR,
  ExecutorToFrameworkSchema,
  ExitedExecutorSchema,
  PONG_SLAVE,
  PongSlaveSchema,
  REGISTER_SLAVE,
  REREGISTER_SLAVE,
  RegisterSlaveSchema,
  ReregisterSlaveSchema,
  SCHEDULER_CALL,
  STATUS_UPDATE,
  StatusUpdateMessageSchema,
  UNREGISTER_SLAVE,
  UnregisterSlaveSchema,
  validator,
  type ExecutorToFramework,
  type ExitedExecutor,
  type RegisterSlave,
  type ReregisterSlave,
  type StatusUpdateMessage,
  type UnregisterSlave,
} from '../../src/mesos/protocol.ts';
import type { Timer } from '../../src/process/clock.ts';
import type { AgentInfo, MasterInfo, TaskState } from '../../src/mesos/v1/common.ts';
import type { SchedulerEvent } from '../../src/mesos/v1/index.ts';
import { ALLOCATOR_OFFERS, ALLOCATOR_UPDATE_AVAILABLE_RESULT, ALLOCATOR_UPDATE_WEIGHTS, type Offers, type UpdateWeights } from '../allocator/protocol.ts';
import type { ElectionEvent, MasterContender } from '../detector/contender.ts';
import type { LeaderInfo } from '../detector/detector.ts';
import { leaderInfo } from '../detector/leader.ts';
import { formatDuration } from '../agent/flags.ts';
import * as agents from './agents.ts';
import {
  AGENT_PING_TIMEOUT_MS,
  AGENT_REREGISTER_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_SECONDS,
  MAX_AGENT_PING_TIMEOUTS,
  MAX_COMPLETED_FRAMEWORKS,
  MAX_COMPLETED_TASKS_PER_FRAMEWORK,
  MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS,
  MAX_REMOVED_AGENTS,
  MAX_UNREACHABLE_AGENTS,
  MESOS_VERSION,
} from './constants.ts';
import * as frameworks from './frameworks.ts';
import * as maintenance from './maintenance.ts';
import { httpRoutes, masterRouteRealm } from './http.ts';
import { masterMachine, type MasterMachineState } from './master.machine.ts';
import * as offers from './offers.ts';
import * as operatorReservations from './operator-reservations.ts';
import type { OperatorSubscriber } from './operator-events.ts';
import { setAllocatorQuota } from './quota.ts';
import { InMemoryRegistry, RECOVERY_AGENT_REMOVAL_LIMIT, type DrainInfo, type MaintenanceRecord, type Quota, type QuotaEntry, type Registry, type RegistryAgent, type RegistrySettings } from './registry.ts';
import { AgentRecord, FrameworkRecord, OfferRecord } from './state.ts';
import * as tasks from './tasks.ts';

export interface MasterOptions {
  /** Process id (default `master`, so the HTTP endpoints are `/master/...`). */
  id?: string;
  /** This master's unique id (`MasterInfo.id`), the prefix of every id it hands out. Default: a new UUID. */
  masterId?: string;
  hostname?: string;
  /** The allocator to use; default `allocator@<this node>`. */
  allocator?: UPID | string;
  /** `--agent_ping_timeout` (default `AGENT_PING_TIMEOUT_MS`). */
  agentPingTimeoutMs?: number;
  /** `--max_agent_ping_timeouts` (default `MAX_AGENT_PING_TIMEOUTS`). */
  maxAgentPingTimeouts?: number;
  /**
   * The registry of admitted agents (Mesos's `Registrar`): read when this master is elected,
   * written before it admits, removes or marks an agent unreachable. Default: an empty one in
   * memory (one master: it leads at once, as it has nothing to recover).
   */
  registry?: Registry;
  /** `--agent_reregister_timeout` (default `AGENT_REREGISTER_TIMEOUT_MS`). */
  agentReregisterTimeoutMs?: number;
  /** `--recovery_agent_removal_limit`, a fraction (default `RECOVERY_AGENT_REMOVAL_LIMIT`: all of them). */
  recoveryAgentRemovalLimit?: number;
  /** `--offer_timeout`: rescind offers unused this long; off by default, as in Mesos. */
  offerTimeoutMs?: number;
  heartbeatIntervalSeconds?: number;
  maxCompletedFrameworks?: number;
  maxCompletedTasksPerFramework?: number;
  /** `--max_operator_event_stream_subscribers` (default `MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS`). */
  maxOperatorEventStreamSubscribers?: number;
  /** The flags as the operator gave them, shown in `/master/state`. */
  flags?: Record<string, string>;
  /** `--acls`: who may do what (`authorizer.ts`); default none, every request allowed. */
  authorizer?: LocalAuthorizer;
  /**
   * The role weights the allocator started with (`--weights`): this master's weights until the
   * registry or the operator (UPDATE_WEIGHTS, `/master/weights`) changes them (`Master.weights`).
   * As in Mesos, weights in the registry win over these, which a first leader writes there.
   */
  weights?: Readonly<Record<string, number>>;
  /** The HTTP address operators and HTTP frameworks use, for `MasterInfo` (`host:port`). */
  httpAddress?: { host: string; port: number };
  /**
   * Leader election among several masters (Mesos's `MasterContender`). Without one this master
   * leads from the start (one master: dev mode, tests). Whoever made it resigns it on shutdown,
   * while the bus is still up (`startMasterNode`'s `stop` does), so that a standby takes over at once.
   */
  contender?: MasterContender;
  /** Runs in the master's mailbox once it is elected (by its contender, or at once without one). */
  onElected?: () => void;
  /**
   * Runs in the master's mailbox when it loses the lead it had. Mesos's master exits then
   * ("Lost leadership... committing suicide!"), and agents and frameworks re-register with the
   * next leader: `mesos-ts master` does so here; in-process tests observe it.
   */
  onLostLeadership?: (reason: string) => void;
}

/**
 * The Mesos master, as an actor.
 *
 * Responsibilities:
 * 1. Frameworks: subscription (new, and failover with `framework_id` within `failover_timeout`),
 *    disconnection and the failover timer, teardown (`frameworks.ts`).
 * 2. Agents: registration and re-registration, health by pings (`agent_ping_timeout` ×
 *    `max_agent_ping_timeouts`), removal with TASK_LOST/TASK_UNREACHABLE and `slaveLost`
 *    (`agents.ts`).
 * 3. Offers: turning the allocator's allocations into offers, ACCEPT, DECLINE with filters,
 *    rescinding (agent removed, framework gone, `offer_timeout`) (`offers.ts`); dynamic
 *    reservations by frameworks (RESERVE, UNRESERVE) and by the operator, each agent's
 *    checkpointed resources (`reservations.ts`, `operator-reservations.ts`); inverse offers of
 *    agents on draining machines, and the frameworks' answers (`inverse-offers.ts`).
 * 4. Tasks: validating and launching, KILL, status updates to the framework and their
 *    acknowledgements back to the agent, RECONCILE, framework messages both ways (`tasks.ts`).
 * 5. Operator endpoints: `/master/state`, `/master/frameworks`, `/master/slaves`,
 *    `/master/tasks`, `/master/health` (`http.ts`), the v1 operator API (`operator-api.ts`,
 *    agent draining in `drain.ts`, maintenance schedules and machines in `maintenance.ts`) and
 *    its event stream to SUBSCRIBE-d operators
 *    (`operator-events.ts`).
 * 6. Leadership: with a contender (several masters) it acts only once elected; standing by it
 *    drops every message and redirects HTTP requests to the leader its contender knows; it
 *    reports a lead it lost (`onLostLeadership`) and stops acting. Without one it leads at once.
 * 7. Recovery (Mesos's `Master::recover`): once elected it reads the registry; if it lists
 *    admitted agents it is `RECOVERING` until they have re-registered, or until
 *    `agent_reregister_timeout` has passed, when the rest are marked unreachable (unless more
 *    than `recovery_agent_removal_limit` of them would be). Admissions, removals and unreachable
 *    markings are written to the registry before the master acts on them (`registrar`); so are
 *    the operator's deactivations and drains (`drain.ts`) and the maintenance schedule and
 *    machine modes (`maintenance.ts`), which a new leader recovers too.
 *
 * Resources of a task return to the allocator when the master hears it is terminal (its update
 * or `latest_state`), and the task stays listed until that update is acknowledged, as in Mesos.
 * The allocator is its own actor (`ALLOCATOR_*` messages).
 */
export class Master extends Process {
  readonly options: Required<Omit<MasterOptions, 'id' | 'allocator' | 'offerTimeoutMs' | 'httpAddress' | 'hostname' | 'contender' | 'onElected' | 'onLostLeadership' | 'authorizer'>> & MasterOptions;
  readonly ids: MasterIdGenerator;
  readonly frameworks = new Map<string, FrameworkRecord>();
  /** The last `--max_completed_frameworks` frameworks removed, oldest first. */
  readonly completedFrameworks: RecentList<FrameworkRecord>;
  readonly agents = new Map<string, AgentRecord>();
  /** Agent ids by the agent's UPID, to recognize a registering agent we already know. */
  readonly agentsByPid = new Map<string, string>();
  readonly offers = new Map<string, OfferRecord>();
  /**
   * Agent ids this master removed, for any cause (unreachable, unregistered, replaced by a new
   * registration at its address), as Mesos's `slaves.removed`: the last `MAX_REMOVED_AGENTS`.
   */
  readonly removedAgents = new RecentSet<string>(MAX_REMOVED_AGENTS);
  /**
   * Agents removed because they failed their health checks, with when (ms), as Mesos's
   * `slaves.unreachable`: a subset of `removedAgents`, until they re-register; the last
   * `MAX_UNREACHABLE_AGENTS`.
   */
  readonly unreachableAgents = new RecentMap<string, number>(MAX_UNREACHABLE_AGENTS);
  /**
   * The operator API's SUBSCRIBE streams, oldest first (Mesos's `Master::subscribers`). Every
   * hook that makes an event checks `size > 0` first: with no subscriber, nothing is built.
   */
  readonly operatorSubscribers = new Set<OperatorSubscriber>();
  readonly machine: Actor<typeof masterMachine>;
  startTime = 0;
  electedTime = 0;
  /** The leading master while this one stands by, as its contender read it; `undefined` otherwise or when unknown. */
  leader: LeaderInfo | undefined;
  /**
   * Agents the registry listed as admitted when this master was elected that have not
   * re-registered since (Mesos's `slaves.recovered`): `/master/state`'s `recovered_slaves`.
   */
  readonly recoveredAgents = new Map<string, AgentInfo & { id: { value: string } }>();
  /** Agents the registry marks gone, with when (ms) (Mesos's `slaves.gone`): refused if they re-register. */
  readonly goneAgents = new Map<string, number>();
  /** Agents (by UPID) whose admission is being written to the registry (Mesos's `slaves.registering`). */
  readonly registeringAgents = new Set<string>();
  /**
   * Agent ids with a registry write in flight, and which (Mesos's `slaves.reregistering`,
   * `slaves.markingUnreachable`, `slaves.removing`): their re-registrations are ignored until it
   * is done, as Mesos ignores them; the agent retries.
   */
  readonly agentsInTransition = new Map<string, 'reregistering' | 'markingUnreachable' | 'removing'>();
  /**
   * Role weights (Mesos's `Master::weights`): `--weights`, replaced by the registry's when this
   * master is elected, changed by UPDATE_WEIGHTS and `/master/weights` (`weights.ts`). Roles not
   * listed weigh 1. The allocator is told of every change.
   */
  readonly weights = new Map<string, number>();
  /**
   * Role quotas (Mesos's `Master::quotas`): each role's guaranteed and limited scalars by name,
   * replaced by the registry's when this master is elected, changed by UPDATE_QUOTA and
   * `/master/quota` (`quota.ts`). The allocator is told of every change.
   */
  readonly quotas = new Map<string, Quota>();
  /**
   * Agents the operator deactivated (DEACTIVATE_AGENT; Mesos's `slaves.deactivated`), kept in
   * the registry: they get no offers, whether connected or not, until REACTIVATE_AGENT. An
   * agent's `active` is `connected` and not in here.
   */
  readonly deactivatedAgents = new Set<string>();
  /**
   * Agents the operator drains or drained (DRAIN_AGENT; Mesos's `slaves.draining`), kept in the
   * registry with their deactivation (`drain.ts`): `DRAINING` until none of their tasks is left
   * here, then `DRAINED` until REACTIVATE_AGENT.
   */
  readonly drainInfos = new Map<string, DrainInfo>();
  /** Draining agents whose `DRAINED` is being written to the registry (`drain.ts`). */
  readonly markingDrained = new Set<string>();
  /**
   * The maintenance schedule and machine modes, kept in the registry, and the inverse offers
   * of agents on draining machines (`maintenance.ts`, `inverse-offers.ts`).
   */
  readonly maintenance = new maintenance.MaintenanceState();
  /** Passes `agent_reregister_timeout` after a recovery began (Mesos's `slaves.recoveredTimer`). */
  #recoveryTimer: Timer | undefined;
  /** Elected, reading the registry: not leading yet. */
  #readingRegistry = false;
  #allocator: UPID | undefined;

  stats!: Record<
    | 'invalidCalls'
    | 'droppedCalls'
    | 'offersSent'
    | 'offersDeclined'
    | 'offersAccepted'
    | 'offersRescinded'
    | 'tasksLaunched'
    | 'tasksErrored'
    | 'statusUpdates'
    | 'acknowledgements'
    | 'agentsRemoved'
    | 'invalidStatusUpdates'
    | 'validStatusUpdates'
    | 'validAcknowledgements'
    | 'invalidAcknowledgements'
    | 'frameworkMessages'
    | 'validFrameworkMessages'
    | 'invalidFrameworkMessages'
    | 'executorMessages'
    | 'validExecutorMessages'
    | 'invalidExecutorMessages'
    | 'droppedMessages'
    | 'registerFramework'
    | 'reregisterFramework'
    | 'unregisterFramework'
    | 'launchTasks'
    | 'declineOffers'
    | 'reviveOffers'
    | 'suppressOffers'
    | 'killTask'
    | 'reconcileTasks'
    | 'resourceRequest'
    | 'registerAgent'
    | 'reregisterAgent'
    | 'unregisterAgent'
    | 'exitedExecutor'
    | 'agentRegistrations'
    | 'agentReregistrations'
    | 'agentRemovalsUnhealthy'
    | 'agentRemovalsUnregistered'
    | 'agentRemovalsRegistered',
    Counter
  >;

  /** Tasks that ended, by terminal state (`master/tasks_finished`, ...): `tasksEnded[state]?.inc()`. */
  tasksEnded!: Readonly<Partial<Record<TaskState, Counter>>>;

  constructor(options: MasterOptions = {}) {
    super(options.id ?? 'master');
    this.options = {
      weights: {},
      agentPingTimeoutMs: AGENT_PING_TIMEOUT_MS,
      maxAgentPingTimeouts: MAX_AGENT_PING_TIMEOUTS,
      heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
      maxCompletedFrameworks: MAX_COMPLETED_FRAMEWORKS,
      maxCompletedTasksPerFramework: MAX_COMPLETED_TASKS_PER_FRAMEWORK,
      maxOperatorEventStreamSubscribers: MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS,
      agentReregisterTimeoutMs: AGENT_REREGISTER_TIMEOUT_MS,
      recoveryAgentRemovalLimit: RECOVERY_AGENT_REMOVAL_LIMIT,
      masterId: newMasterId(),
      flags: {},
      ...options,
      registry: options.registry ?? new InMemoryRegistry(),
    };
    this.ids = new MasterIdGenerator(this.options.masterId);
    for (const [role, weight] of Object.entries(this.options.weights)) this.weights.set(role, weight);
    this.completedFrameworks = new RecentList(this.options.maxCompletedFrameworks);
    this.machine = createActor(masterMachine, { clock: this.machineClock });

    this.install(SCHEDULER_CALL, (from, body) => frameworks.call(this, from, body));
    this.install(REGISTER_SLAVE, (from, body: RegisterSlave) => agents.registerAgent(this, from, body), validator(RegisterSlaveSchema, 'RegisterSlaveMessage'));
    this.install(REREGISTER_SLAVE, (from, body: ReregisterSlave) => agents.reregisterAgent(this, from, body), validator(ReregisterSlaveSchema, 'ReregisterSlaveMessage'));
    this.install(UNREGISTER_SLAVE, (from, body: UnregisterSlave) => agents.unregisterAgent(this, from, body), validator(UnregisterSlaveSchema, 'UnregisterSlaveMessage'));
    this.install(PONG_SLAVE, (from, _body) => agents.pong(this, from), validator(PongSlaveSchema, 'PongSlaveMessage'));
    this.install(STATUS_UPDATE, (from, body: StatusUpdateMessage) => tasks.statusUpdate(this, from, body), validator(StatusUpdateMessageSchema, 'StatusUpdateMessage'));
    this.install(EXITED_EXECUTOR, (from, body: ExitedExecutor) => agents.exitedExecutor(this, from, body), validator(ExitedExecutorSchema, 'ExitedExecutorMessage'));
    this.install(EXECUTOR_TO_FRAMEWORK, (from, body: ExecutorToFramework) => tasks.executorMessage(this, from, body), validator(ExecutorToFrameworkSchema, 'ExecutorToFrameworkMessage'));
    this.install(ALLOCATOR_OFFERS, (from, body: Offers) => offers.allocated(this, from, body));
    this.install(ALLOCATOR_UPDATE_AVAILABLE_RESULT, (from, body) => operatorReservations.updateAvailableResult(this, from, body));

    for (const [path, handler] of Object.entries(httpRoutes(this))) this.route(path, handler, masterRouteRealm(path));
  }

  override initialize(): void {
    const c = (name: string) => this.counter(name);
    this.stats = {
      invalidCalls: c('invalid_calls'),
      droppedCalls: c('dropped_calls'),
      offersSent: c('offers_sent'),
      offersDeclined: c('offers_declined'),
      offersAccepted: c('offers_accepted'),
      offersRescinded: c('offers_rescinded'),
      tasksLaunched: c('tasks_launched'),
      tasksErrored: c('tasks_error'),
      statusUpdates: c('messages_status_update'),
      acknowledgements: c('messages_status_update_acknowledgement'),
      agentsRemoved: c('slave_removals'),
      invalidStatusUpdates: c('invalid_status_updates'),
      validStatusUpdates: c('valid_status_updates'),
      validAcknowledgements: c('valid_status_update_acknowledgements'),
      invalidAcknowledgements: c('invalid_status_update_acknowledgements'),
      frameworkMessages: c('messages_framework_to_executor'),
      validFrameworkMessages: c('valid_framework_to_executor_messages'),
      invalidFrameworkMessages: c('invalid_framework_to_executor_messages'),
      executorMessages: c('messages_executor_to_framework'),
      validExecutorMessages: c('valid_executor_to_framework_messages'),
      invalidExecutorMessages: c('invalid_executor_to_framework_messages'),
      droppedMessages: c('dropped_messages'),
      registerFramework: c('messages_register_framework'),
      reregisterFramework: c('messages_reregister_framework'),
      unregisterFramework: c('messages_unregister_framework'),
      launchTasks: c('messages_launch_tasks'),
      declineOffers: c('messages_decline_offers'),
      reviveOffers: c('messages_revive_offers'),
      suppressOffers: c('messages_suppress_offers'),
      killTask: c('messages_kill_task'),
      reconcileTasks: c('messages_reconcile_tasks'),
      resourceRequest: c('messages_resource_request'),
      registerAgent: c('messages_register_slave'),
      reregisterAgent: c('messages_reregister_slave'),
      unregisterAgent: c('messages_unregister_slave'),
      exitedExecutor: c('messages_exited_executor'),
      agentRegistrations: c('slave_registrations'),
      agentReregistrations: c('slave_reregistrations'),
      agentRemovalsUnhealthy: c('slave_removals/reason_unhealthy'),
      agentRemovalsUnregistered: c('slave_removals/reason_unregistered'),
      agentRemovalsRegistered: c('slave_removals/reason_registered'),
    };
    this.tasksEnded = taskStateCounters(c, ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);
    const m = this.metrics;
    const id = this.id;
    m.gauge(`${id}/elected`, () => (this.state === 'LEADING' || this.state === 'RECOVERING' ? 1 : 0));
    m.gauge(`${id}/uptime_secs`, () => (this.clock.now() - this.startTime) / 1000);
    m.gauge(`${id}/frameworks_active`, () => [...this.frameworks.values()].filter((f) => f.active).length);
    m.gauge(`${id}/frameworks_connected`, () => [...this.frameworks.values()].filter((f) => f.connected).length);
    m.gauge(`${id}/frameworks_disconnected`, () => [...this.frameworks.values()].filter((f) => !f.connected).length);
    m.gauge(`${id}/frameworks_inactive`, () => [...this.frameworks.values()].filter((f) => !f.active).length);
    m.gauge(`${id}/slaves_active`, () => [...this.agents.values()].filter((a) => a.active).length);
    m.gauge(`${id}/slaves_inactive`, () => [...this.agents.values()].filter((a) => !a.active).length);
    m.gauge(`${id}/slaves_connected`, () => [...this.agents.values()].filter((a) => a.connected).length);
    m.gauge(`${id}/slaves_disconnected`, () => [...this.agents.values()].filter((a) => !a.connected).length);
    m.gauge(`${id}/outstanding_offers`, () => this.offers.size);
    m.gauge(`${id}/operator_event_stream_subscribers`, () => this.operatorSubscribers.size);
    m.gauge(`${id}/event_queue_messages`, () => this._mailbox.length);
    m.gauge(`${id}/tasks_running`, () => this.countTasks('TASK_RUNNING'));
    m.gauge(`${id}/tasks_staging`, () => this.countTasks('TASK_STAGING'));
    m.gauge(`${id}/tasks_starting`, () => this.countTasks('TASK_STARTING'));
    m.gauge(`${id}/tasks_killing`, () => this.countTasks('TASK_KILLING'));
    m.gauge(`${id}/tasks_unreachable`, () => {
      let n = 0;
      for (const f of this.frameworks.values()) n += f.unreachableTasks.size;
      return n;
    });
    for (const name of ['cpus', 'mem', 'disk', 'gpus']) {
      m.gauge(`${id}/${name}_total`, () => this.resourceTotal(name));
      m.gauge(`${id}/${name}_used`, () => this.resourceUsed(name));
      m.gauge(`${id}/${name}_percent`, () => usedFraction(this.resourceUsed(name), this.resourceTotal(name)));
    }

    this.startTime = this.clock.now();
    this.#allocator = this.options.allocator !== undefined ? UPID.from(this.options.allocator) : new UPID('allocator', this.self.node);
    this.machine.start();
    const contender = this.options.contender;
    if (contender === undefined) {
      // No contender configured: this master is the leader (dev mode, single master).
      this.#elected();
      return;
    }
    this.log.info({ masterId: this.options.masterId, contender: contender.describe() }, 'Contending for leadership');
    // The contender calls back from its own I/O: each event is handled in this mailbox.
    contender.contend(leaderInfo(this), (event) => void this.runtime.dispatch(this.self, () => this.#election(event)).catch(() => undefined));
  }

  /**
   * Installs a message handler behind the election guard of Mesos's `Master::visit`: a master
   * that is not elected drops every message. Agents and drivers talk to the master their
   * detector found, but one that has not noticed a new leader yet may still send here.
   */
  protected override install<B>(name: string, handler: Handler<B>, validate?: Validator<B>): void {
    // One master (no contender) leads from `initialize`, before any message: nothing to guard,
    // and nothing added to the path every message takes.
    if (this.options.contender === undefined) {
      super.install<B>(name, handler, validate);
      return;
    }
    super.install<B>(
      name,
      (from, body) => {
        if (!this.leading) {
          this.stats.droppedMessages.inc();
          this.log.debug({ from: String(from), name, state: this.state }, 'Dropping message since not elected yet');
          return;
        }
        handler(from, body);
      },
      validate,
    );
  }

  #election(event: ElectionEvent): void {
    switch (event.type) {
      case 'elected':
        if ((this.state === 'ELECTING' || this.state === 'STANDBY') && !this.#readingRegistry) this.#elected();
        return;
      case 'following':
        this.#following(event.leader);
        return;
      case 'lost':
        this.#lostLeadership(event.reason);
        return;
    }
  }

  /**
   * Elected: the registry first (Mesos's `Master::recover`), then the lead. Messages are
   * dropped until it is read, as Mesos's master drops them until it has recovered. A registry
   * in memory answers at once: without a contender this master leads from `initialize`.
   */
  #elected(): void {
    this.leader = undefined;
    this.#readingRegistry = true;
    const read = this.options.registry.recover();
    const settings = this.options.registry.recoverSettings();
    const machines = this.options.registry.recoverMaintenance();
    if (Array.isArray(read) && !(settings instanceof Promise) && !(machines instanceof Promise)) this.#recover(read, settings, machines);
    else {
      this.log.info({ registry: this.options.registry.describe() }, 'Elected; recovering the registry');
      this.defer(Promise.all([read, settings, machines]), ([agents, s, mt]) => this.#recover(agents, s, mt), (error) => this.#recoveryFailed(error));
    }
  }

  /**
   * The registry is read (Mesos's `Master::_recover`): admitted agents are waited for
   * (`RECOVERING`, for `agent_reregister_timeout`), unreachable and gone ones remembered.
   */
  #recover(agents: RegistryAgent[], settings: RegistrySettings, machines: MaintenanceRecord): void {
    if (!this.#readingRegistry) return; // The lead was lost meanwhile.
    this.#readingRegistry = false;
    this.#recoverWeights(settings.weights);
    this.#recoverQuotas(settings.quotas);
    maintenance.recover(this, machines);
    const listed = new Set(agents.filter((a) => a.state !== 'gone').map((a) => a.info.id.value));
    for (const id of settings.deactivatedAgents) if (listed.has(id)) this.deactivatedAgents.add(id);
    for (const { agentId, drainInfo } of settings.drainInfos) {
      if (!listed.has(agentId)) continue;
      this.drainInfos.set(agentId, drainInfo);
      // DRAIN_AGENT writes the drain info, then the deactivation: an agent draining or drained is
      // deactivated even if the master that drained it stopped between the two.
      this.deactivatedAgents.add(agentId);
    }
    for (const agent of agents) {
      const id = agent.info.id.value;
      if (agent.state === 'admitted') this.recoveredAgents.set(id, agent.info);
      else {
        this.removedAgents.add(id);
        if (agent.state === 'unreachable') this.unreachableAgents.set(id, agent.time);
        else this.goneAgents.set(id, agent.time);
      }
    }
    const recovered = this.recoveredAgents.size;
    this.machine.send({ type: 'ELECTED', recovering: recovered > 0 });
    this.electedTime = this.clock.now();
    this.log.info({ masterId: this.options.masterId }, 'Elected as the leading master');
    if (recovered > 0) {
      const timeout = this.options.agentReregisterTimeoutMs;
      this.log.info(
        { agents: recovered, unreachable: this.unreachableAgents.size, gone: this.goneAgents.size, registry: this.options.registry.describe() },
        `Recovered ${recovered} agents from the registry; allowing ${formatDuration(timeout)} for them to re-register`,
      );
      this.#recoveryTimer = this.after(timeout, () => this.#recoveredAgentsTimeout(recovered));
    }
    this.options.onElected?.();
  }

  /**
   * Weights, as Mesos's `Master::_recover`: the registry's replace `--weights` (with a warning
   * when both are set); without any there, `--weights` are written to it, so that the next
   * leader keeps them whatever its own flag says. The allocator hears them before this master
   * leads, so before any framework is added: no cycle offers by other weights.
   */
  #recoverWeights(recovered: readonly { role: string; weight: number }[]): void {
    const registry = this.options.registry;
    if (recovered.length > 0) {
      if (this.weights.size > 0) this.log.warn({ weights: Object.fromEntries(this.weights), registry: registry.describe() }, 'Ignoring --weights and recovering the weights from the registry');
      // Roles only `--weights` set go back to the default weight in the allocator.
      const reset = [...this.weights.keys()].filter((role) => !recovered.some((w) => w.role === role)).map((role) => ({ role, weight: 1 }));
      this.weights.clear();
      for (const { role, weight } of recovered) this.weights.set(role, weight);
      this.toAllocator(ALLOCATOR_UPDATE_WEIGHTS, { weights: [...reset, ...recovered] } satisfies UpdateWeights);
    } else if (this.weights.size > 0) {
      const weights = [...this.weights].map(([role, weight]) => ({ role, weight }));
      // Not waited for: the allocator has these weights already, and a write that fails gives the lead up.
      this.registrar(registry.updateWeights(weights), () => undefined);
    }
  }

  /**
   * Quotas, as Mesos's `Master::_recover`: the registry's are this master's and the
   * allocator's before this master leads, so before any framework is added: no cycle offers
   * without them. Unlike Mesos's allocator, this one does not then hold offers back until most
   * agents re-register (its quota "recovery mode").
   */
  #recoverQuotas(recovered: readonly QuotaEntry[]): void {
    for (const role of this.quotas.keys()) {
      if (!recovered.some((q) => q.role === role)) setAllocatorQuota(this, role, { guarantees: {}, limits: {} });
    }
    this.quotas.clear();
    for (const { role, guarantees, limits = {} } of recovered) {
      this.quotas.set(role, { guarantees, limits });
      setAllocatorQuota(this, role, { guarantees, limits });
    }
    if (recovered.length > 0) this.log.info({ roles: recovered.map((q) => q.role) }, 'Recovered quota from the registry');
  }

  /** The registry could not be read: as Mesos's master ("Recovery failed"), this one gives the lead up. */
  #recoveryFailed(error: unknown): void {
    if (!this.#readingRegistry) return;
    this.#readingRegistry = false;
    const reason = `failed to recover the registry: ${(error as Error).message}`;
    this.log.error({ registry: this.options.registry.describe(), reason }, 'Recovery failed');
    this.options.onLostLeadership?.(reason);
  }

  /**
   * `agent_reregister_timeout` after the recovery began (Mesos's `recoveredSlavesTimeout`): the
   * agents of the registry that have not re-registered are marked unreachable, as agents that
   * failed their health checks are, unless more than `recovery_agent_removal_limit` of the
   * `total` recovered would be. Mesos's master exits then; this one logs an error, marks none
   * of them, and leads on: they stay in `recovered_slaves` and are admitted if they
   * re-register. An operator who wants them gone restarts it with a higher limit.
   */
  #recoveredAgentsTimeout(total: number): void {
    this.#recoveryTimer = undefined;
    if (this.state !== 'RECOVERING') return;
    const timeout = formatDuration(this.options.agentReregisterTimeoutMs);
    const limit = this.options.recoveryAgentRemovalLimit;
    const removal = this.recoveredAgents.size / total;
    if (removal > limit) {
      this.log.error(
        { agents: [...this.recoveredAgents.keys()], removalPercent: removal * 100, limitPercent: limit * 100 },
        `Post-recovery agent removal limit exceeded: after ${timeout} ${this.recoveredAgents.size} of the ${total} agents recovered from the registry (${removal * 100}%) did not re-register, above the limit of ${limit * 100}%; not marking them unreachable`,
      );
    } else {
      // One re-registering now (its registry write in flight) is left alone, as in Mesos.
      for (const id of [...this.recoveredAgents.keys()]) {
        if (!this.agentsInTransition.has(id)) agents.markUnreachable(this, id, `did not re-register within ${timeout} after master failover`);
      }
    }
    this.#endRecovery();
  }

  /** A recovered agent re-registered or was marked unreachable: recovery ends once none is left. */
  agentRecovered(agentId: string): void {
    if (!this.recoveredAgents.delete(agentId) || this.recoveredAgents.size > 0 || this.state !== 'RECOVERING') return;
    this.#recoveryTimer?.cancel();
    this.#recoveryTimer = undefined;
    this.#endRecovery();
  }

  #endRecovery(): void {
    this.machine.send({ type: 'RECOVERED' });
    this.log.info({ notReregistered: this.recoveredAgents.size }, 'Recovery complete');
  }

  /**
   * Runs `then` in this mailbox once `write` (to the registry) is durable, as Mesos's master
   * continues after `registrar->apply(operation)`: at once for a registry in memory. A write
   * that fails leaves the registry behind this master's books: as Mesos's master aborts then,
   * this one gives the lead up (`onLostLeadership`), and `then` never runs.
   */
  registrar(write: Promise<void> | void, then: () => void): void {
    if (write === undefined) {
      then();
      return;
    }
    this.defer(write, then, (error) => this.#lostLeadership(`failed to update the registry (${this.options.registry.describe()}): ${(error as Error).message}`));
  }

  /**
   * `registrar` as a promise, for the operator's calls that answer once done: resolves after
   * `then` has run; rejects with the write's error (the master has then given the lead up).
   */
  applied(write: Promise<void> | void, then: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      write?.catch(reject);
      this.registrar(write, () => {
        then();
        resolve();
      });
    });
  }

  /** Another master leads: this one stands by, redirecting HTTP requests to it. */
  #following(leader: LeaderInfo | undefined): void {
    if (this.leading) return;
    if (this.state === 'ELECTING') this.machine.send({ type: 'NOT_ELECTED' });
    this.leader = leader;
    this.log.info({ leader: leader?.pid, leaderId: leader?.id, url: leader?.url }, 'Following the leading master');
  }

  #lostLeadership(reason: string): void {
    if (this.#readingRegistry) {
      this.#readingRegistry = false;
      this.log.error({ reason }, 'Lost leadership');
      this.options.onLostLeadership?.(reason);
      return;
    }
    if (!this.leading) return;
    this.#recoveryTimer?.cancel();
    this.#recoveryTimer = undefined;
    this.machine.send({ type: 'LOST_LEADERSHIP' });
    this.log.error({ reason }, 'Lost leadership');
    // Its operators' streams end, as they do when Mesos's master exits: they subscribe again
    // through a leader.
    for (const subscriber of [...this.operatorSubscribers]) subscriber.close();
    this.operatorSubscribers.clear();
    this.options.onLostLeadership?.(reason);
  }

  override finalize(): void {
    for (const f of this.frameworks.values()) f.connection?.close();
    for (const subscriber of this.operatorSubscribers) subscriber.close();
    this.operatorSubscribers.clear();
    this.machine.stop();
  }

  override exited(upid: UPID): void {
    const agentId = this.agentsByPid.get(String(upid));
    if (agentId !== undefined) {
      agents.agentExited(this, agentId);
      return;
    }
    for (const framework of this.frameworks.values()) {
      if (framework.connection?.kind === 'bus' && framework.connection.pid?.equals(upid)) {
        frameworks.disconnect(this, framework, 'its scheduler exited');
        return;
      }
    }
  }

  get state(): MasterMachineState {
    return this.machine.getSnapshot().value as MasterMachineState;
  }

  get allocator(): UPID {
    if (this.#allocator === undefined) throw new Error('master not initialized');
    return this.#allocator;
  }

  /** Whether this master may act on calls and agents (leading or recovering): elected. */
  get leading(): boolean {
    const s = this.state;
    return s === 'LEADING' || s === 'RECOVERING';
  }

  get masterInfo(): MasterInfo {
    const http = this.options.httpAddress ?? this.runtime.httpAddress;
    const info: MasterInfo = {
      id: this.options.masterId,
      ip: 0,
      port: http?.port ?? 5050,
      pid: String(this.self),
      hostname: this.options.hostname ?? http?.host ?? this.self.node,
      version: MESOS_VERSION,
    };
    if (http !== undefined) info.address = { hostname: this.options.hostname ?? http.host, ip: http.host, port: http.port };
    return info;
  }

  /** Sends a scheduler event to the framework, if it is connected. */
  sendEvent(framework: FrameworkRecord, event: SchedulerEvent): void {
    framework.connection?.send(event);
  }

  /** Sends a master message to the allocator. */
  toAllocator(name: string, body: unknown): void {
    this.send(this.allocator, name, body);
  }

  now(): number {
    return this.clock.now();
  }

  /** Whether `frameworkId` names a framework this master removed (among the last `--max_completed_frameworks`). */
  isCompletedFramework(frameworkId: string): boolean {
    return !this.frameworks.has(frameworkId) && this.completedFrameworks.some((f) => f.id === frameworkId);
  }

  /** Scalar `name` over every registered agent (connected or not), as Mesos's `_resources_total`. */
  resourceTotal(name: string): number {
    let millis = 0;
    for (const agent of this.agents.values()) millis += agent.total.scalarMillis().get(name) ?? 0;
    return millis / 1000;
  }

  /**
   * Scalar `name` used by tasks and executors on registered agents, as Mesos's
   * `_resources_used`: what was offered and not accepted is not used, nor is a terminal task's.
   */
  resourceUsed(name: string): number {
    let millis = 0;
    for (const agent of this.agents.values()) millis += agent.usedResources().scalarMillis().get(name) ?? 0;
    return millis / 1000;
  }

  countTasks(state: string): number {
    let n = 0;
    for (const f of this.frameworks.values()) for (const t of f.tasks.values()) if (t.state === state) n++;
    return n;
  }

  /** Delay through the process mailbox; public for the concern modules. */
  after(ms: number, fn: () => void) {
    return this.delay(ms, fn);
  }

  linkTo(upid: UPID): void {
    this.link(upid);
  }

  unlinkFrom(upid: UPID): void {
    this.unlink(upid);
  }
}
