import test from 'ava';
import fc from 'fast-check';
import type { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { AGENT_PING_TIMEOUT_MS, MAX_AGENT_PING_TIMEOUTS } from '../../actors/master/constants.ts';
import type { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { isTerminalState, type Offer, type TaskState, type TaskStatus } from '../../src/mesos/v1/common.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import type { FakeAgent } from '../helpers/fake-agent.ts';
import { addFilter, resetFilters, type DeliveryEvent } from '../../src/process/filter.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import type { TestScheduler } from '../helpers/scheduler.ts';
import { Bus } from '../helpers/worlds.ts';

/**
 * The master's books and the allocator's agree, whatever frameworks, agents and the bus do (a
 * property). Random steps: launches (of whole offers and of parts, with the command executor or
 * a custom one, whose resources count until it exits), executors exiting, declines with filters,
 * status updates in any order with any `latest_state` that a status update stream would send
 * (terminal ones before their acknowledgement, resends, updates of completed tasks),
 * acknowledgements late or never, kills, revives, time passing, schedulers failing and failing
 * over (or failing for good), frameworks torn down, agents removed for missing pings and
 * re-registering (known ones reporting their tasks or none, removed ones coming back with
 * theirs), and the bus losing a message (an OFFERS, RESCIND or UPDATE event, a DECLINE or
 * ACCEPT, a status update or its acknowledgement) until the framework's link is known to have
 * been interrupted and it subscribes again.
 *
 * After every step: for every agent and framework the allocator counts exactly what the master
 * has offered plus what the framework's live tasks use (a terminal task uses nothing), every
 * agent's allocation stays within its total, and each scheduler holds exactly the offers the
 * master has out with it (once it has subscribed again after a loss). A resource returned
 * twice, or never, breaks one of these.
 */
resetFiltersAfterEach(test);

/** Runs on a real nats-server (each step there takes bus round trips: about 30 ms a run). */
const NATS_RUNS = 100;

type Action =
  | { kind: 'launch'; framework: number; offer: number; whole: boolean; executor: boolean }
  | { kind: 'executorExited'; agent: number; task: number }
  | { kind: 'decline'; framework: number; offer: number; refuse: number }
  | { kind: 'update'; agent: number; task: number; state: TaskState; latest: TaskState | undefined }
  | { kind: 'ack'; framework: number; status: number }
  | { kind: 'kill'; framework: number; task: number }
  | { kind: 'revive'; framework: number }
  | { kind: 'suppress'; framework: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'teardown'; framework: number }
  | { kind: 'loseAgent'; agent: number }
  | { kind: 'reregister'; agent: number; report: boolean }
  | { kind: 'lose'; what: number }
  | { kind: 'resync'; framework: number }
  | { kind: 'fail'; framework: number }
  | { kind: 'failover'; framework: number };

/**
 * Messages the bus may lose (core NATS drops what is published while a client reconnects): the
 * next one matching is dropped. A framework's view of its offers may then differ from the
 * master's until its link is known to have been interrupted and it subscribes again (`resync`).
 */
const LOSSES: { name: string; type?: string }[] = [
  { name: 'mesos.scheduler.Event', type: 'OFFERS' },
  { name: 'mesos.scheduler.Event', type: 'RESCIND' },
  { name: 'mesos.scheduler.Event', type: 'UPDATE' },
  { name: 'mesos.scheduler.Call', type: 'DECLINE' },
  { name: 'mesos.scheduler.Call', type: 'ACCEPT' },
  { name: 'StatusUpdateMessage' },
  { name: 'StatusUpdateAcknowledgementMessage' },
];

const index = fc.nat({ max: 20 });
const states: TaskState[] = ['TASK_RUNNING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST'];
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('launch' as const), framework: index, offer: index, whole: fc.boolean(), executor: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('executorExited' as const), agent: index, task: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('decline' as const), framework: index, offer: index, refuse: fc.constantFrom(0, 1, 5) }) },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('update' as const), agent: index, task: index, state: fc.constantFrom(...states), latest: fc.option(fc.constantFrom(...states), { nil: undefined }) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('ack' as const), framework: index, status: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill' as const), framework: index, task: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revive' as const), framework: index }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('suppress' as const), framework: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(100, 1_000, 5_000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('teardown' as const), framework: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('loseAgent' as const), agent: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reregister' as const), agent: index, report: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lose' as const), what: fc.nat(LOSSES.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resync' as const), framework: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fail' as const), framework: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('failover' as const), framework: index }) },
);

const EXECUTOR_RESOURCES = Resources.parse('cpus:0.5;mem:32');

/** The first framework is partition-aware (TASK_UNREACHABLE, its tasks taken back when their agent returns). */
const PARTITION_AWARE = { capabilities: [{ type: 'PARTITION_AWARE' as const }] };

interface FrameworkHandle {
  driver: SchedulerDriver;
  scheduler: TestScheduler;
  id: string;
  /** Offers the scheduler holds (received, not rescinded, not used or declined). */
  offers: Map<string, Offer>;
  /** Updates received and not acknowledged yet (explicit acknowledgements only). */
  unacknowledged: TaskStatus[];
  implicit: boolean;
  failoverSeconds: number;
  /** Its scheduler failed and no other has taken over yet. */
  down: boolean;
  /** The runtime its driver runs in (its bus connection). */
  runtime: Runtime;
  /** A message to or from it may have been lost since it last subscribed: its offers may differ from the master's. */
  unsure: boolean;
  /** It suppressed offers and has not revived since. */
  suppressed: boolean;
  /** What the scheduler saw that it should not have. */
  violations: string[];
  /** Ids of every offer it has been given (or that was out with it when it suppressed). */
  seen: Set<string>;
  tornDown: boolean;
}

/** Keeps `handle.offers` and `handle.unacknowledged` up to date from its (current) scheduler. */
function follow(handle: FrameworkHandle): void {
  // Offers that came during the start, then every later one as it comes.
  for (const [offers] of handle.scheduler.all('resourceOffers')) {
    for (const o of offers) {
      handle.offers.set(o.id.value, o);
      handle.seen.add(o.id.value);
    }
  }
  handle.scheduler.on('resourceOffers', (_d, offers) => {
    // (An offer resent after it subscribed again is not a new one.)
    const fresh = offers.filter((o) => !handle.seen.has(o.id.value));
    if (handle.suppressed && fresh.length > 0) handle.violations.push(`new offers while suppressed: ${fresh.map((o) => o.id.value).join(', ')}`);
    for (const o of offers) {
      handle.offers.set(o.id.value, o);
      handle.seen.add(o.id.value);
    }
  });
  handle.scheduler.on('offerRescinded', (_d, id) => handle.offers.delete(id.value));
  // As Mesos asks of a scheduler: offers held are void once disconnected.
  handle.scheduler.on('disconnected', () => handle.offers.clear());
  handle.scheduler.on('statusUpdate', (_d, status) => {
    if (!handle.implicit && status.uuid !== undefined) handle.unacknowledged.push(status);
  });
}

function pick<T>(list: readonly T[], i: number): T | undefined {
  return list.length === 0 ? undefined : list[i % list.length];
}

async function run(actions: Action[], bus: Bus): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  try {
    // Offers not answered within 3 s are rescinded (`--offer_timeout`), so time passing matters too.
    const cluster = await startTestCluster({ teardown: (fn) => teardowns.push(fn) }, bus, { master: { offerTimeoutMs: 3_000 } });
    const agents: FakeAgent[] = [];
    for (const resources of ['cpus:4;mem:1024', 'cpus:2;mem:2048;ports:[31000-31009]', 'cpus:3;mem:512']) agents.push(await cluster.addAgent(resources));
    const frameworks: FrameworkHandle[] = [];
    // One framework acknowledges implicitly, is partition-aware and survives its scheduler's
    // failures for an hour; the other acknowledges explicitly, and is removed as soon as its
    // scheduler fails (0 s).
    for (const [implicit, failoverSeconds] of [[true, 3600], [false, 0]] as const) {
      const started = await cluster.startFramework({ failover_timeout: failoverSeconds, ...(implicit ? PARTITION_AWARE : {}) }, { implicitAcknowledgements: implicit });
      const handle: FrameworkHandle = { ...started, id: started.frameworkId, offers: new Map(), unacknowledged: [], implicit, failoverSeconds, down: false, tornDown: false, runtime: newest(cluster), unsure: false, suppressed: false, violations: [], seen: new Set() };
      follow(handle);
      frameworks.push(handle);
    }
    await cluster.settle();
    check(cluster, frameworks, 'after start');
    let tasks = 0;
    const agentStates = new Map<string, TaskState>();
    for (const [step, a] of actions.entries()) {
      await apply(cluster, agents, frameworks, agentStates, a, () => `t${++tasks}`);
      await cluster.settle();
      check(cluster, frameworks, `after step ${step} ${JSON.stringify(a)}`);
    }
  } finally {
    resetFilters();
    for (const fn of teardowns.reverse()) await fn();
  }
}

/** The runtime added last: a framework's, right after `startFramework`. */
function newest(cluster: TestCluster): Runtime {
  return cluster.world.runtimes[cluster.world.runtimes.length - 1]!;
}

async function apply(
  cluster: TestCluster,
  agents: FakeAgent[],
  frameworks: FrameworkHandle[],
  /** Each task's state at its agent (what the agent last said of it), by task id. */
  agentStates: Map<string, TaskState>,
  a: Action,
  nextTaskId: () => string,
): Promise<void> {
  const all = frameworks.filter((f) => !f.tornDown);
  // Frameworks whose scheduler runs: the ones that can launch, decline, acknowledge.
  const live = all.filter((f) => !f.down);
  switch (a.kind) {
    case 'launch': {
      const f = pick(live, a.framework);
      const offer = f === undefined ? undefined : pick([...f.offers.values()], a.offer);
      if (f === undefined || offer === undefined) return;
      const offered = Resources.fromJSON(offer.resources ?? []);
      const part = Resources.parse('cpus:1;mem:128');
      f.offers.delete(offer.id.value);
      // A custom executor (one per framework: its resources count once per agent, until it
      // exits), or the command executor.
      if (a.executor && offered.contains(part.plus(EXECUTOR_RESOURCES))) {
        const executor = { executor_id: { value: `e-${f.id}` }, command: { value: 'run-executor' }, resources: EXECUTOR_RESOURCES.toJSON() };
        f.driver.launchTasks(offer.id, [{ name: 'task', task_id: { value: nextTaskId() }, agent_id: offer.agent_id, resources: part.toJSON(), executor }]);
        return;
      }
      const resources = a.whole || !offered.contains(part) ? offered : part;
      f.driver.launchTasks(offer.id, [{ name: 'task', task_id: { value: nextTaskId() }, agent_id: offer.agent_id, resources: resources.toJSON(), command: { value: 'true' } }]);
      return;
    }
    case 'decline': {
      const f = pick(live, a.framework);
      const offer = f === undefined ? undefined : pick([...f.offers.values()], a.offer);
      if (f === undefined || offer === undefined) return;
      f.offers.delete(offer.id.value);
      f.driver.declineOffer(offer.id, { refuse_seconds: a.refuse });
      return;
    }
    case 'update': {
      const agent = pick(agents, a.agent);
      const runTask = agent === undefined ? undefined : pick(agent.runTasks, a.task);
      if (agent === undefined || runTask === undefined || !cluster.master.agents.has(agent.agentId!)) return;
      // As an agent's status update stream would: after a terminal state (sent, or known as the
      // latest) it only sends that terminal update (again); a terminal update is the latest.
      const known = agentStates.get(runTask.task.task_id.value);
      const terminal = known !== undefined && isTerminalState(known);
      const state = terminal ? known : a.state;
      const latest = terminal || isTerminalState(state) ? (a.latest === undefined ? undefined : state) : a.latest;
      agent.update(runTask, state, {}, latest);
      agentStates.set(runTask.task.task_id.value, latest ?? state);
      return;
    }
    case 'ack': {
      const f = pick(live, a.framework);
      const status = f === undefined ? undefined : pick(f.unacknowledged, a.status);
      if (f === undefined || status === undefined) return;
      f.unacknowledged.splice(f.unacknowledged.indexOf(status), 1);
      f.driver.acknowledgeStatusUpdate(status);
      return;
    }
    case 'kill': {
      const f = pick(live, a.framework);
      const task = f === undefined ? undefined : pick([...(cluster.master.frameworks.get(f.id)?.tasks.values() ?? [])], a.task);
      if (f === undefined || task === undefined) return;
      f.driver.killTask(task.task_id);
      return;
    }
    case 'revive': {
      const f = pick(live, a.framework);
      if (f === undefined) return;
      f.suppressed = false;
      f.driver.reviveOffers();
      return;
    }
    case 'suppress': {
      // No offers until it revives (those already out stay out, as in Mesos).
      const f = pick(live, a.framework);
      if (f === undefined) return;
      f.suppressed = true;
      // Offers out already stay out (Mesos does not rescind them): one lost on its way may reach
      // the scheduler later, sent again when it subscribes again; it is not a new offer.
      for (const id of cluster.master.frameworks.get(f.id)?.offers ?? []) f.seen.add(id);
      f.driver.suppressOffers();
      return;
    }
    case 'advance':
      cluster.clock.advance(a.ms);
      return;
    case 'teardown': {
      // One framework stays, so that the rest of the run still has someone to offer to.
      const f = live.length > 1 ? pick(live, a.framework) : undefined;
      if (f === undefined) return;
      f.tornDown = true;
      f.offers.clear();
      await f.driver.stop();
      return;
    }
    case 'loseAgent': {
      // One agent stays, so that the rest of the run still has resources to offer.
      const agent = pick(agents, a.agent);
      if (agent === undefined || !agent.answerPings || agents.filter((x) => x.answerPings).length < 2) return;
      agent.answerPings = false;
      // Pings go unanswered until the master removes the agent (Mesos's health check).
      for (let i = 0; i <= MAX_AGENT_PING_TIMEOUTS; i++) {
        cluster.clock.advance(AGENT_PING_TIMEOUT_MS);
        await cluster.settle();
      }
      return;
    }
    case 'fail': {
      // The scheduler fails (no teardown): the framework outlives it for its failover_timeout.
      const f = live.length > 1 ? pick(live, a.framework) : live.find((x) => x.failoverSeconds > 0);
      if (f === undefined) return;
      await f.driver.abort();
      f.offers.clear();
      if (f.failoverSeconds === 0) f.tornDown = true;
      else f.down = true;
      return;
    }
    case 'failover': {
      // A new scheduler takes over with the framework's id.
      const f = pick(all.filter((x) => x.down), a.framework);
      if (f === undefined) return;
      f.down = false;
      f.unsure = false;
      const started = await cluster.startFramework({ id: { value: f.id }, failover_timeout: f.failoverSeconds, ...(f.implicit ? PARTITION_AWARE : {}) }, { implicitAcknowledgements: f.implicit });
      f.driver = started.driver;
      f.scheduler = started.scheduler;
      // A new scheduler has suppressed nothing: its SUBSCRIBE says so.
      f.suppressed = false;
      f.runtime = newest(cluster);
      follow(f);
      return;
    }
    case 'executorExited': {
      const agent = pick(agents, a.agent);
      const runTask = agent === undefined ? undefined : pick(agent.runTasks.filter((r) => r.task.executor !== undefined), a.task);
      if (agent === undefined || runTask === undefined || !cluster.master.agents.has(agent.agentId!)) return;
      agent.executorExited(runTask, 0);
      return;
    }
    case 'lose': {
      const loss = LOSSES[a.what]!;
      const filter = (event: DeliveryEvent): boolean => {
        if (event.kind !== 'message' || event.name !== loss.name) return false;
        if (loss.type !== undefined && (event.body as { type?: string }).type !== loss.type) return false;
        remove();
        // A scheduler's call or event: no framework can be sure of its offers any more (the
        // lost one may be to or from a driver that is just starting).
        if (loss.name.startsWith('mesos.scheduler.')) for (const f of frameworks) f.unsure = true;
        return true;
      };
      const remove = addFilter(filter);
      return;
    }
    case 'resync': {
      // The framework's bus connection broke and came back (`linkInterrupted`): its driver
      // subscribes again, and the master sends it its outstanding offers again.
      const f = pick(live, a.framework);
      if (f === undefined) return;
      // (A message lost while it resubscribes leaves it unsure again.)
      f.unsure = false;
      f.runtime.reconnected();
      await cluster.settle();
      return;
    }
    case 'reregister': {
      // The agent reconnects (a known one), or comes back after it was removed, reporting the
      // tasks it runs (or, for a known one, none: their RunTaskMessages may be on the way).
      const agent = pick(agents, a.agent);
      if (agent === undefined || agent.agentId === undefined) return;
      agent.answerPings = true;
      const reported = a.report || !cluster.master.agents.has(agent.agentId)
        ? agent.runTasks.map((run) => ({
            name: run.task.name,
            task_id: run.task.task_id,
            framework_id: run.framework_id,
            agent_id: { value: agent.agentId! },
            state: agentStates.get(run.task.task_id.value) ?? ('TASK_STAGING' as TaskState),
            resources: run.task.resources ?? [],
            statuses: [],
          }))
        : [];
      agent.reregister(reported);
      return;
    }
  }
}

function check(cluster: TestCluster, frameworks: FrameworkHandle[], when: string): void {
  const m = cluster.master;
  const allocation = cluster.runtime.process<AllocatorProcess>('allocator')!.allocation;
  const fail = (what: string) => {
    throw new Error(`${when}: ${what}`);
  };
  for (const agent of m.agents.values()) {
    const books = allocation.agent(agent.id);
    if (books === undefined) fail(`the allocator does not know agent ${agent.id}`);
    if (!books!.allocated.plus(books!.available).equals(agent.total)) fail(`agent ${agent.id}: allocated ${books!.allocated} + available ${books!.available} is not its total ${agent.total}`);
    let allocatedToAll = Resources.EMPTY;
    for (const f of frameworks) allocatedToAll = allocatedToAll.plus(allocation.allocation(f.id).get(agent.id) ?? Resources.EMPTY);
    if (!allocatedToAll.equals(books!.allocated)) fail(`agent ${agent.id}: the frameworks' allocations ${allocatedToAll} are not its allocated ${books!.allocated}`);
  }
  for (const f of frameworks) {
    if (f.violations.length > 0) fail(`framework ${f.id}: ${f.violations.join('; ')}`);
    const record = m.frameworks.get(f.id);
    if (record !== undefined) {
      const master = [...record.suppressedRoles].sort().join(',');
      const allocator = allocation.suppressedRoles(f.id).sort().join(',');
      if (master !== allocator) fail(`framework ${f.id}: the master counts it suppressed in [${master}], the allocator in [${allocator}]`);
    }
    const held = allocation.allocation(f.id);
    if (record === undefined) {
      if (held.size > 0) fail(`framework ${f.id} is gone from the master but the allocator still counts ${[...held.values()].join(', ')}`);
      continue;
    }
    for (const agent of m.agents.values()) {
      let expected = Resources.EMPTY;
      for (const id of record.offers) {
        const offer = m.offers.get(id)!;
        if (offer.agentId === agent.id) expected = expected.plus(offer.resources);
      }
      for (const task of agent.tasks.get(f.id)?.values() ?? []) {
        if (!isTerminalState(task.state)) expected = expected.plus(Resources.fromJSON(task.resources));
      }
      for (const executor of agent.executors.get(f.id)?.values() ?? []) expected = expected.plus(Resources.fromJSON(executor.resources ?? []));
      const counted = held.get(agent.id) ?? Resources.EMPTY;
      if (!counted.equals(expected)) fail(`framework ${f.id} on agent ${agent.id}: the allocator counts ${counted}, the master's offers and live tasks make ${expected}`);
    }
    if (!f.tornDown && !f.unsure) {
      const master = [...record.offers].sort().join(',');
      const scheduler = [...f.offers.keys()].sort().join(',');
      if (master !== scheduler) fail(`framework ${f.id}: the master has offers [${master}] out, the scheduler holds [${scheduler}]`);
    }
  }
}

// On a real nats-server too (`settle` covers envelopes on their way: a barrier through the
// transport to every node sent to), fewer runs: each step there takes bus round trips.
const buses = { local: new Bus('local'), nats: new Bus('nats') };
test.before(() => Promise.all([buses.local.start(), buses.nats.start()]));
test.after.always(() => Promise.all([buses.local.stop(), buses.nats.stop()]));

for (const [kind, numRuns] of [['local', 300], ['nats', NATS_RUNS]] as const) {
  test.serial(`books - ${kind} - the allocator counts exactly what the master offered and live tasks use, whatever happens (property)`, async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 60, size: 'max' }), async (actions) => {
        await run(actions, buses[kind]);
      }),
      { numRuns, includeErrorInReport: true },
    );
    t.pass();
  });
}
