import {
  PONG_SLAVE,
  REGISTER_SLAVE,
  REREGISTER_SLAVE,
  UNREGISTER_SLAVE,
  type CompletedFramework,
  type PingSlave,
  type RegisterSlave,
  type ReregisterSlave,
  type ShutdownSlave,
  type SlaveRegistered,
  type Task,
  type UnregisterSlave,
} from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { isTerminalState, type ExecutorInfo, type FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { UPID } from '../../src/process/upid.ts';
import { ExecutorSocketServer, executorSocketPath } from '../../src/transport/socket.ts';
import { SUM_MASTER, SUM_RECOVER, type SumMaster, type SumRecover, type SumRecovered } from '../status-update-manager/protocol.ts';
import type { Agent } from './agent.ts';
import { checkpointAgent, forgetAgent, latestAgentLink, recoverState, sandboxDir, type RecoveredRun, type RecoveredState } from './checkpoint.ts';
import type { Container } from './containerizer.ts';
import { MESOS_VERSION, SHUTDOWN_MARGIN_MS } from './constants.ts';
import { attachSandbox } from './files.ts';
import { formatDuration } from './flags.ts';
import { scheduleRecovered } from './gc.ts';
import * as executors from './executors.ts';
import * as resourcesCheckpoint from './resources-checkpoint.ts';
import { createTask, ExecutorRecord, FrameworkRecord } from './state.ts';

/**
 * Registration: recovery of a previous run's identity, (re-)registration with the master (the
 * retries and their backoff are the machine's), the master's pings, and losing the master (it
 * exited, stopped pinging, or asked us to re-register).
 */

// ---------------------------------------------------------------------------------------------
// Recovery.

/**
 * Starts listening for executors, reads what a previous run checkpointed, takes back the
 * containers of the executors that survived it (`--recover=reconnect`: those of checkpointing
 * frameworks that had registered) and kills every other container it left running; `_recover`
 * continues in the mailbox. With `--recover=cleanup` every container is killed and the agent
 * then terminates, forgetting its id, as Mesos's does. Another agent on the same work directory,
 * a checkpoint it cannot read (with `--strict`), or an agent info that differs from the previous
 * run's, stops it before it touches any container (`recoveryFailed`).
 */
export function recover(agent: Agent): void {
  // The executor socket first: another agent that holds it runs on this work directory, and
  // nothing of it may be touched (its containers would be taken for orphans and killed).
  const workDir = agent.flags.workDir;
  const recovering = listenForExecutors(agent).then(() => Promise.all([recoverState(workDir), resourcesCheckpoint.readCheckpointed(workDir)])).then(async ([state, checkpointed]) => {
    if (checkpointed.error !== undefined) state.errors.push(checkpointed.error);
    if (state.errors.length > 0) {
      agent.stats.recoveryErrors.inc(state.errors.length);
      if (agent.flags.strict) throw new RecoveryError(state.errors);
      for (const error of state.errors) agent.log.warn({ error }, 'Skipping a checkpoint that cannot be recovered (--strict=false)');
    }
    // Before any container is touched: an agent that would not be the same one stops here.
    const incompatible = state.info !== undefined && agent.flags.recover === 'reconnect' ? incompatibility(agent, state.info) : undefined;
    if (incompatible !== undefined) throw new IncompatibleAgentInfoError(incompatible);
    const reserved = resourcesCheckpoint.applyRecovered(agent, checkpointed.resources);
    if (typeof reserved === 'string') throw new IncompatibleCheckpointedResourcesError(reserved);
    const keep = survivors(agent, state);
    const { recovered, killed } = await agent.containerizer.recover((containerId) => keep.has(containerId));
    if (killed.length > 0) agent.log.warn({ pids: killed }, 'Killed containers a previous run of the agent left running');
    return { state, containers: new Map(recovered.map((c) => [c.containerId, c])), reserved };
  });
  agent.continueWith(
    recovering,
    ({ state, containers, reserved }) => {
      resourcesCheckpoint.recovered(agent, reserved);
      _recover(agent, state, containers);
    },
    (error) => {
      if (agent.flags.strict || (error instanceof RecoveryFailure && error.whateverStrict)) {
        recoveryFailed(agent, error);
        return;
      }
      agent.log.error({ err: error, work_dir: agent.flags.workDir }, 'Failed to recover the agent; registering as a new agent (--strict=false)');
      void agent.containerizer.recover(() => false);
      agent.machine.send({ type: 'RECOVERED' });
    },
  );
}

/**
 * Why recovery stops the agent (Mesos's "Failed to perform recovery"), with what the operator
 * can do about it. `whateverStrict`: it stops the agent even with `--strict=false`.
 */
abstract class RecoveryFailure extends Error {
  abstract readonly whateverStrict: boolean;
  abstract remedy(workDir: string): string;
}

/** The remedy that starts afresh: the next start registers as a new agent. */
function startAfresh(workDir: string): string {
  return `remove '${latestAgentLink(workDir)}' (the next start then registers as a new agent and kills what the previous run left running)`;
}

/** What a previous run checkpointed could not be read (`RecoveredState.errors`); fatal with `--strict`. */
export class RecoveryError extends RecoveryFailure {
  readonly whateverStrict = false;
  constructor(readonly errors: readonly string[]) {
    super(errors.length === 1 ? errors[0]! : `${errors.length} errors: ${errors.join('; ')}`);
    this.name = 'RecoveryError';
  }

  remedy(workDir: string): string {
    return unreadableRemedy(workDir);
  }
}

/** What to do about a recovery that failed on what the previous run left (`--strict`). */
function unreadableRemedy(workDir: string): string {
  return `either fix or remove what is named, or ${startAfresh(workDir)}, or start the agent with --strict=false to recover what can be read; then restart the agent`;
}

/** Another agent listens on this work directory's executor socket: it runs on the same `--work_dir`. */
export class WorkDirInUseError extends RecoveryFailure {
  readonly whateverStrict = true;
  constructor(workDir: string, cause: unknown) {
    super(`another agent runs on work directory '${workDir}' (its executor socket is in use)`, { cause });
    this.name = 'WorkDirInUseError';
  }

  remedy(): string {
    return 'stop the other agent, or give this one a --work_dir of its own';
  }
}

/**
 * The agent's `--hostname`, `--resources` or `--attributes` differ from its previous run's (Mesos's
 * "Incompatible agent info detected", its `--reconfiguration_policy=equal`): the master knows
 * that agent, its tasks and their resources, so this one cannot take its place.
 */
export class IncompatibleAgentInfoError extends RecoveryFailure {
  readonly whateverStrict = true;
  constructor(readonly difference: string) {
    super(`Incompatible agent info detected: ${difference}`);
    this.name = 'IncompatibleAgentInfoError';
  }

  remedy(workDir: string): string {
    return `start the agent with its previous --hostname, --resources and --attributes, or ${startAfresh(workDir)}, or start it once with --recover=cleanup (which does that for you)`;
  }
}

/**
 * The dynamic reservations the agent checkpointed (`resources-checkpoint.ts`) are more than its
 * `--resources` hold (Mesos's "Checkpointed resources ... are incompatible with agent
 * resources"): the master and its frameworks count on them, so the agent cannot start without.
 */
export class IncompatibleCheckpointedResourcesError extends RecoveryFailure {
  readonly whateverStrict = true;
  constructor(reason: string) {
    super(reason);
    this.name = 'IncompatibleCheckpointedResourcesError';
  }

  remedy(workDir: string): string {
    return `start the agent with --resources that hold them, or remove '${resourcesCheckpoint.resourcesInfoFile(workDir)}' (its dynamic reservations are then forgotten, by the agent and by a master that learns them from it)`;
  }
}

/**
 * Recovery failed (Mesos's agent exits with "Failed to perform recovery"): with `--strict`, any
 * error; otherwise a `RecoveryFailure` that stops it whatever `--strict` says (an incompatible
 * agent info, another agent on the work directory). The agent terminates without touching what
 * the previous run left running (its executors wait out `--recovery_timeout` for a next run),
 * and says how to remedy it. Whoever runs it hears (`onFailure`: `mesos-ts agent` exits 1).
 */
function recoveryFailed(agent: Agent, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  const remedy = failure instanceof RecoveryFailure ? failure.remedy(agent.flags.workDir) : unreadableRemedy(agent.flags.workDir);
  agent.log.error({ err: failure, work_dir: agent.flags.workDir }, `Failed to perform recovery: ${failure.message}. To remedy this, ${remedy}`);
  agent.runtime.terminate(agent.self);
  agent.onFailure?.(failure);
}

/** Compares secrets in constant time. */
function sameSecret(expected: string | undefined, given: string): boolean {
  if (expected === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a run's executor, if it still runs, can be reached again: it had registered (or subscribed). */
function reachable(run: RecoveredRun): boolean {
  return run.pid !== undefined || run.http;
}

/** The containers whose executors may re-register: each checkpointed run whose executor had registered. */
function survivors(agent: Agent, state: RecoveredState): Set<string> {
  const keep = new Set<string>();
  if (agent.flags.recover !== 'reconnect' || state.info === undefined) return keep;
  for (const framework of state.frameworks) {
    for (const executor of framework.executors) {
      const run = executor.runs[0];
      if (run !== undefined && reachable(run)) keep.add(run.containerId);
    }
  }
  return keep;
}

/**
 * Listens on the agent's executor socket (`executorSocketPath(--work_dir)`), where the executors
 * it launches in their own processes connect, and those that survived a restart connect again.
 * Rejects with `WorkDirInUseError` when another agent listens there (it runs on the same work
 * directory); an agent that cannot listen for another reason logs why and goes on: its executors
 * cannot reach it, and fail to register.
 */
async function listenForExecutors(agent: Agent): Promise<void> {
  let server: ExecutorSocketServer;
  try {
    server = await ExecutorSocketServer.listen(agent.runtime, executorSocketPath(agent.flags.workDir), {
      admit: (node, token) => token !== undefined && sameSecret(agent.executorTokens.get(node), token),
    });
  } catch (error) {
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE') throw new WorkDirInUseError(agent.flags.workDir, error);
    agent.log.error({ err: error, work_dir: agent.flags.workDir }, 'Cannot listen for executors; none can be launched');
    return;
  }
  if (!agent.alive) {
    await server.close();
    return;
  }
  agent.executorSocket = server;
  server.onConnect((node) => {
    void agent.runtime.dispatch(agent.self, () => executors.executorConnected(agent, node)).catch(() => undefined);
  });
}

function _recover(agent: Agent, state: RecoveredState, containers: Map<string, Container>): void {
  if (agent.state !== 'RECOVERING') {
    agent.log.debug({ state: agent.state }, 'Ignoring recovered checkpoints: the agent is not recovering');
    return;
  }
  const previous = state.info;
  if (previous === undefined) {
    scheduleRecovered(agent);
    agent.machine.send({ type: 'RECOVERED' });
    return;
  }
  if (agent.flags.recover === 'cleanup') {
    // As Mesos's agent in cleanup mode (`Slave::__recover`): the previous run's containers were
    // killed above; the agent leaves, and its next start registers as a new agent.
    terminateForGood(agent, `recovered with --recover=cleanup: killed what agent ${previous.id.value} left running`);
    return;
  }
  agent.info.id = previous.id;
  if (state.drainConfig !== undefined) {
    // The previous run was draining: this one goes on once recovery is over (`drain.recovered`).
    agent.drainConfig = state.drainConfig;
    agent.drainStartTime = agent.now();
  }
  for (const recovered of state.frameworks) {
    const framework = new FrameworkRecord(recovered.info.id.value, recovered.info);
    for (const { info, runs } of recovered.executors) {
      const run = runs[0];
      if (run === undefined) continue;
      const executor = new ExecutorRecord(
        info,
        framework.id,
        run.containerId,
        sandboxDir(agent.flags.workDir, previous.id.value, framework.id, info.executor_id.value, run.containerId),
        executors.isCommandExecutorInfo(info),
      );
      const container = containers.get(run.containerId);
      if (container !== undefined && reachable(run)) {
        // It survived the restart: it re-registers once asked (`reconnectExecutors`), or
        // subscribes again by itself (an HTTP executor).
        executor.recovered = true;
        if (run.pid !== undefined && !run.http) {
          executor.pid = UPID.parse(run.pid);
          executor.node = executor.pid.node;
          if (run.token !== undefined) agent.executorTokens.set(executor.node, run.token);
        }
        executor.osPid = container.pid;
        executor.container = container;
        executor.destroy = (gracePeriodMs) => void agent.containerizer.destroy(executor.containerId, gracePeriodMs);
      } else {
        executor.state = 'TERMINATED';
      }
      for (const task of run.tasks) {
        executor.launchedTasks.set(task.task_id.value, createTask(task, framework.id, previous.id.value, executor.commandExecutor ? undefined : executor.id));
        if (task.kill_policy !== undefined) executor.killPolicies.set(task.task_id.value, task.kill_policy);
      }
      framework.executors.set(executor.id, executor);
      attachSandbox(agent, executor, framework);
    }
    agent.frameworks.set(framework.id, framework);
  }
  agent.log.info({ agent_id: previous.id.value, frameworks: agent.frameworks.size, executors_alive: containers.size }, 'Recovering agent');
  scheduleRecovered(agent);
  agent.send(agent.sum, SUM_RECOVER, { agent_id: previous.id } satisfies SumRecover);
}

function incompatibility(agent: Agent, previous: NonNullable<RecoveredState['info']>): string | undefined {
  if (previous.hostname !== agent.info.hostname) return `hostname was '${previous.hostname}', now '${agent.info.hostname}'`;
  let resources: Resources;
  try {
    resources = Resources.fromJSON(previous.resources ?? []);
  } catch (error) {
    return `checkpointed resources are invalid: ${(error as Error).message}`;
  }
  if (!resources.equals(agent.flagResources)) return `resources were '${String(resources)}', now '${String(agent.flagResources)}'`;
  if (JSON.stringify(previous.attributes ?? []) !== JSON.stringify(agent.info.attributes ?? [])) return 'attributes changed';
  return undefined;
}

/**
 * The status update manager has reloaded its streams. Each recovered task takes the state of its
 * latest update. The tasks of executors that did not survive the restart and are not terminal
 * get `TASK_FAILED`; the executors that did are asked to re-register, and the agent goes on to
 * re-register with the master once they have, or after `--executor_reregistration_timeout`.
 */
export function recovered(agent: Agent, from: UPID, body: SumRecovered): void {
  if (!from.equals(agent.sum)) {
    agent.log.warn({ from: String(from) }, 'Ignoring recovery result from a process that is not our status update manager');
    return;
  }
  if (agent.state !== 'RECOVERING') {
    agent.log.debug({ state: agent.state }, 'Ignoring recovery result: the agent is not recovering');
    return;
  }
  if (body.error !== undefined) agent.log.error({ reason: body.error }, 'Status update manager failed to recover some streams');
  const agentId = agent.agentId ?? '';
  for (const stream of body.streams) {
    const executor = agent.frameworks.get(stream.framework_id.value)?.executorOfTask(stream.task_id.value);
    const latest = stream.latest?.status;
    if (executor === undefined || latest === undefined) continue;
    executor.updateTaskState(latest, agentId);
    if (isTerminalState(latest.state) && stream.pending === 0) executor.completeTask(stream.task_id.value);
  }
  for (const framework of [...agent.frameworks.values()]) {
    for (const executor of [...framework.executors.values()]) {
      if (!executor.recovered) executors.executorTerminated(agent, framework, executor, undefined, 'Abnormal executor termination: the agent restarted');
    }
  }
  executors.reconnectExecutors(agent);
}

// ---------------------------------------------------------------------------------------------
// (Re-)registration.

/** One registration attempt (the machine's `register` action, retried with backoff). */
export function doReliableRegistration(agent: Agent): void {
  if (agent.state !== 'REGISTERING') return;
  redetect(agent);
  const id = agent.info.id;
  if (id === undefined) {
    agent.log.info({ master: String(agent.master) }, 'Registering with master');
    agent.send(agent.master, REGISTER_SLAVE, { slave: { ...agent.info }, ...resourcesCheckpoint.registrationField(agent), version: MESOS_VERSION, ...ipField(agent) } satisfies RegisterSlave);
    return;
  }
  const tasks: Task[] = [];
  const executorInfos: ExecutorInfo[] = [];
  const frameworks: FrameworkInfo[] = [];
  for (const framework of agent.frameworks.values()) {
    frameworks.push(framework.info);
    for (const executor of framework.executors.values()) {
      // The master does not keep command executors: the agent generates them.
      if (!executor.commandExecutor && executor.state !== 'TERMINATED') executorInfos.push(executor.info);
      for (const task of executor.queuedTasks.values()) {
        tasks.push(createTask(task, framework.id, id.value, executor.commandExecutor ? undefined : executor.id));
      }
      tasks.push(...executor.launchedTasks.values(), ...executor.terminatedTasks.values());
    }
  }
  // The frameworks the agent is done with, each with the tasks of its completed executors (those
  // still waiting for an acknowledgement, then those done), as Mesos's agent reports them: a
  // master that failed over learns of the tasks that ended here.
  const completedFrameworks: CompletedFramework[] = agent.completedFrameworks.map((framework) => ({
    framework_info: framework.info,
    tasks: framework.completedExecutors.flatMap((executor) => [...executor.terminatedTasks.values(), ...executor.completedTasks]),
  }));
  agent.log.info({ master: String(agent.master), agent_id: id.value, tasks: tasks.length, completed_frameworks: completedFrameworks.length }, 'Re-registering with master');
  agent.send(agent.master, REREGISTER_SLAVE, {
    slave: { ...agent.info, id },
    tasks,
    executor_infos: executorInfos,
    frameworks,
    completed_frameworks: completedFrameworks,
    ...resourcesCheckpoint.registrationField(agent),
    version: MESOS_VERSION,
    ...ipField(agent),
  } satisfies ReregisterSlave);
}

/**
 * The IP address the agent announces (`RegisterSlaveMessage.ip`; Mesos's master reads its
 * agents' libprocess addresses): its HTTP server's, unless that listens on every interface
 * (or it has none), then its `--hostname` if that is an IPv4 address; none otherwise. With its
 * hostname, the master finds the machine it runs on in maintenance schedules.
 */
function ipField(agent: Agent): { ip?: string } {
  const host = agent.runtime.httpAddress?.host;
  if (host !== undefined && isIPv4(host) && host !== '0.0.0.0') return { ip: host };
  return isIPv4(agent.info.hostname) ? { ip: agent.info.hostname } : {};
}

/** `SlaveRegisteredMessage`: the master admitted us under a new id. */
export function registered(agent: Agent, from: UPID, body: SlaveRegistered): void {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from) }, 'Ignoring registration message from a master that is not ours');
    return;
  }
  const id = body.slave_id.value;
  if (agent.state === 'RUNNING') {
    if (id !== agent.agentId) agent.log.error({ agent_id: agent.agentId, got: id }, 'Ignoring registration under another id: already registered');
    else agent.log.debug('Ignoring registration message: already registered');
    return;
  }
  if (agent.state !== 'REGISTERING') {
    agent.log.debug({ state: agent.state }, 'Ignoring registration message: not registering');
    return;
  }
  if (agent.agentId !== undefined && agent.agentId !== id) {
    agent.log.error({ agent_id: agent.agentId, got: id }, 'Ignoring registration under another id than the checkpointed one');
    return;
  }
  agent.info.id = { value: id };
  try {
    checkpointAgent(agent.flags.workDir, { ...agent.info, id: { value: id } });
  } catch (error) {
    agent.log.error({ err: error, work_dir: agent.flags.workDir }, 'Failed to checkpoint the agent id');
  }
  agent.stats.registrations.inc();
  agent.log.info({ agent_id: id, master: String(from) }, 'Registered with master');
  agent.machine.send({ type: 'REGISTERED', pingTimeoutMs: pingTimeoutMs(body) });
}

/** `SlaveReregisteredMessage`: the master took us back under our id. */
export function reregistered(agent: Agent, from: UPID, body: SlaveRegistered): void {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from) }, 'Ignoring re-registration message from a master that is not ours');
    return;
  }
  if (agent.state !== 'REGISTERING') {
    agent.log.debug({ state: agent.state }, 'Ignoring re-registration message: not registering');
    return;
  }
  if (agent.agentId !== body.slave_id.value) {
    agent.log.error({ agent_id: agent.agentId, got: body.slave_id.value }, 'Ignoring re-registration under another id');
    return;
  }
  agent.stats.registrations.inc();
  agent.log.info({ agent_id: agent.agentId, master: String(from) }, 'Re-registered with master');
  agent.machine.send({ type: 'REGISTERED', pingTimeoutMs: pingTimeoutMs(body) });
}

function pingTimeoutMs(body: SlaveRegistered): number | undefined {
  const seconds = body.connection?.total_ping_timeout_seconds;
  return seconds !== undefined && seconds > 0 ? seconds * 1000 : undefined;
}

/** Machine action on entering `RUNNING`: watch the master, resume status updates towards it. */
export function masterRegistered(agent: Agent): void {
  agent.registeredWith = agent.master;
  agent.linkTo(agent.master);
  const agentId = agent.info.id;
  if (agentId === undefined) return;
  agent.send(agent.sum, SUM_MASTER, { master: String(agent.master), agent: String(agent.self), agent_id: agentId } satisfies SumMaster);
}

/** Machine action on entering `DISCONNECTED`: status updates wait until a master takes us. */
export function masterDisconnected(agent: Agent): void {
  const wasRegistered = agent.registeredWith !== undefined;
  agent.registeredWith = undefined;
  const agentId = agent.info.id;
  if (wasRegistered) agent.log.warn({ master: String(agent.master) }, 'Disconnected from master');
  if (agentId === undefined) return;
  agent.send(agent.sum, SUM_MASTER, { master: null, agent: String(agent.self), agent_id: agentId } satisfies SumMaster);
}

/** Agents with a detection in flight. */
const detecting = new WeakSet<Agent>();

/**
 * With each registration attempt, asks the detector (if the agent has one) who leads now, as
 * Mesos's agent registers with the master its detector reports: a new master gets an attempt at
 * once, and the retries go there. Asking on every attempt, not only on losing the master, also
 * gets past an answer from a master that was on its way out.
 */
function redetect(agent: Agent): void {
  const detector = agent.detector;
  if (detector === undefined || detecting.has(agent)) return;
  detecting.add(agent);
  agent.whenever(detector.detect(agent.detectionSignal), (master) => {
    detecting.delete(agent);
    if (agent.state !== 'REGISTERING' || master.equals(agent.master)) return;
    agent.log.info({ master: String(master), previous: String(agent.master) }, 'Detected a new leading master');
    agent.master = master;
    doReliableRegistration(agent);
  });
}

/** Machine action: no ping within the timeout. */
export function pingTimedOut(agent: Agent): void {
  const timeout = agent.machine.getSnapshot().context.pingTimeoutMs;
  agent.log.warn({ master: String(agent.master), timeout: formatDuration(timeout) }, 'No pings from master received within the timeout');
}

// ---------------------------------------------------------------------------------------------
// Health.

/**
 * `PingSlaveMessage`: answer, and restart the ping timeout. A recovering agent answers too, as
 * Mesos's `Slave::ping` does: recovery may outlast the master's ping timeout, and the master is
 * not to count the agent unreachable for it.
 */
export function ping(agent: Agent, from: UPID, body: PingSlave): void {
  if (!agent.fromMaster(from)) {
    agent.log.warn({ from: String(from) }, 'Ignoring ping from a process that is not our master');
    return;
  }
  if (agent.state === 'TERMINATING') {
    agent.log.debug('Ignoring ping: the agent is terminating');
    return;
  }
  if (agent.state === 'RUNNING') {
    if (!body.connected) {
      // A one-way partition: the master lost us, we did not lose it.
      agent.log.info('Master marked the agent as disconnected but the agent considers itself registered; forcing re-registration');
      agent.machine.send({ type: 'MASTER_LOST' });
    } else {
      agent.machine.send({ type: 'PING' });
    }
  }
  agent.send(from, PONG_SLAVE, {});
}

/** `ReregisterRequestMessage`: the master lost track of us. */
export function reregisterRequest(agent: Agent, from: UPID): void {
  if (!agent.fromMaster(from)) {
    agent.log.debug({ from: String(from) }, 'Ignoring re-registration request from a master that is not ours');
    return;
  }
  if (agent.state !== 'RUNNING') {
    agent.log.debug({ state: agent.state }, 'Ignoring re-registration request: not registered');
    return;
  }
  agent.log.info('Master asked the agent to re-register');
  agent.machine.send({ type: 'MASTER_LOST' });
}

/**
 * `ShutdownMessage` (Mesos's `Slave::shutdown`): the master will not have this agent (its registry
 * marks it gone). Only the master it registered with is heeded. The agent forgets its id
 * (`forgetAgent`), so that a restart registers as a new agent instead of being refused again,
 * and terminates once every executor shut down (`terminateForGood`); whoever runs it hears why
 * (`onShutdown`: `mesos-ts agent` exits).
 */
export function shutdown(agent: Agent, from: UPID, body: ShutdownSlave): void {
  if (!from.equals(agent.master)) {
    agent.log.warn({ from: String(from), master: String(agent.master) }, 'Ignoring shutdown message: it is not from the registered master');
    return;
  }
  const reason = body.message ?? '';
  agent.log.warn({ master: String(from), reason }, `Agent asked to shut down by ${String(from)}${reason === '' ? '' : ` because '${reason}'`}`);
  terminateForGood(agent, reason);
}

/**
 * The operator asked the agent to leave the cluster (`mesos-ts agent` on SIGUSR1, as Mesos's
 * agent): it tells its master (`UnregisterSlaveMessage`; the master removes it and its tasks at
 * once, rather than after the ping timeout), shuts every executor down, forgets its id and terminates.
 */
export function unregister(agent: Agent, reason: string): void {
  agent.log.warn({ master: String(agent.master), reason }, 'Unregistering and shutting down');
  if (agent.state === 'RUNNING' && agent.info.id !== undefined) {
    agent.send(agent.master, UNREGISTER_SLAVE, { slave_id: agent.info.id } satisfies UnregisterSlave);
  }
  terminateForGood(agent, reason);
}

/**
 * As Mesos's `Slave::shutdown`: the agent is TERMINATING; every framework shuts down, each
 * executor within its shutdown grace period (`executors.shutdownAllFrameworks`); the agent
 * terminates once the last is gone. None is left for a next run, which registers as a new agent.
 * Should an executor's end never be seen, the agent terminates `SHUTDOWN_MARGIN_MS` after the
 * longest grace period anyway, killing what is left.
 */
function terminateForGood(agent: Agent, reason: string): void {
  if (agent.leaving !== undefined) return;
  agent.leaving = reason;
  forgetAgent(agent.flags.workDir);
  agent.killExecutorsOnExit = true;
  agent.machine.send({ type: 'TERMINATE' });
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    agent.runtime.terminate(agent.self);
    agent.onShutdown?.(reason);
  };
  agent.onLastFrameworkRemoved = finish;
  const longest = executors.shutdownAllFrameworks(agent);
  if (agent.frameworks.size === 0) {
    finish();
    return;
  }
  agent.log.info({ frameworks: agent.frameworks.size, grace_period: formatDuration(longest) }, 'Waiting for the executors to shut down');
  agent.after(longest + SHUTDOWN_MARGIN_MS, () => {
    if (finished) return;
    agent.log.warn({ frameworks: [...agent.frameworks.keys()] }, 'Executors did not terminate within their shutdown grace period; killing them');
    finish();
  });
}

/** The master's process (or its runtime) is gone. */
export function masterExited(agent: Agent, upid: UPID, message: string): void {
  if (agent.state !== 'RUNNING') {
    agent.log.debug({ state: agent.state, master: String(upid) }, `Ignoring (${message}): not registered`);
    return;
  }
  agent.log.warn({ master: String(upid) }, message);
  agent.machine.send({ type: 'MASTER_LOST' });
}
