import { InvalidMessageError } from '../../src/errors.ts';
import { acceptsJson, APPLICATION_JSON, header, jsonPostProblem } from '../../src/http/media.ts';
import { accepted, badRequest, jsonBody, streaming } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { EXECUTOR_REGISTERED, type ExecutorRegistered, type StatusUpdate } from '../../src/mesos/protocol.ts';
import { parseExecutorCall, type ExecutorCall } from '../../src/mesos/v1/executor.ts';
import type { Timer } from '../../src/process/clock.ts';
import type { UPID } from '../../src/process/upid.ts';
import type { Agent } from './agent.ts';
import { ExecutorEventStream, HttpExecutorProcess, type HttpExecutorDisconnected } from './http-executor.ts';
import type { ExecutorRecord, FrameworkRecord } from './state.ts';
import { checkpointRunPid } from './checkpoint.ts';
import { recoveryProgressed } from './executors.ts';
import { launchQueuedTasks } from './task-groups.ts';
import { executorMessage, statusUpdate } from './tasks.ts';

/**
 * The v1 executor HTTP API, `POST /api/v1/executor`, as Mesos's `Slave::Http::executor` and
 * `Slave::subscribe`:
 *
 * 1. SUBSCRIBE answers `200` and keeps the response open as a RecordIO stream of JSON events:
 *    SUBSCRIBED, then LAUNCH_GROUP for every task group and LAUNCH for every single task queued
 *    for the executor, and from then on LAUNCH, LAUNCH_GROUP, KILL, ACKNOWLEDGED, MESSAGE,
 *    SHUTDOWN and HEARTBEAT (`HttpExecutorProcess`). An executor that cannot run (the agent,
 *    the framework or the executor is terminating) gets SHUTDOWN and the end of the stream. A second SUBSCRIBE replaces the stream; a re-subscribing executor's
 *    `unacknowledged_updates` are taken again (the status update manager answers duplicates).
 * 2. UPDATE answers `202` and takes the status update exactly as a driver-based executor's
 *    `StatusUpdateMessage`: through the status update manager, which delivers it reliably; the
 *    executor gets ACKNOWLEDGED on its stream once the manager has it (on disk if checkpointed).
 * 3. MESSAGE answers `202` and goes to the framework through the master; HEARTBEAT `202`.
 * 4. A dropped SUBSCRIBE connection disconnects the executor: the agent waits
 *    `--recovery_timeout` (15 minutes) for it to subscribe again if its framework checkpoints,
 *    else at once treats it as an executor whose channel closed: it gets the shutdown grace
 *    period to exit, then its container is destroyed (its tasks fail, the master hears
 *    `ExitedExecutorMessage`).
 * 5. After an agent restart, a checkpointing framework's executor that had subscribed (its
 *    `http.marker` checkpointed) and still runs subscribes again while the agent waits for
 *    the executors that survived (`--executor_reregistration_timeout`); before that, and
 *    while the agent reads its checkpoints, the answer is `503`.
 *
 * Which executors speak HTTP: any that chooses to. As in Mesos, the agent learns it from the
 * executor's first SUBSCRIBE (driver-based executors send `RegisterExecutorMessage` instead);
 * every executor gets both addresses in its environment (`MESOS_SLAVE_PID` and
 * `MESOS_AGENT_ENDPOINT`). The built-in command and default executors talk to the agent over the
 * bus (in its runtime, or over its executor socket) and never subscribe over HTTP. A task group
 * (`RunTaskGroupMessage`) for an executor subscribed here is one LAUNCH_GROUP event: this
 * master sends task groups to the default executor only, but an agent runs a group in whatever
 * executor the message names, as Mesos's does, so a CUSTOM executor that speaks HTTP gets them.
 *
 * Requests are answered in Mesos's order and words: recovering `503`; not POST `405`; no
 * `Content-Type` `400`; not JSON `415` (JSON only, not protobuf); malformed `400`; a call that is
 * not valid `400` naming the field; a SUBSCRIBE whose `Accept` rules out JSON `406`; an unknown
 * framework `400` "Framework cannot be found", an unknown executor `400` "Executor cannot be
 * found"; any call but SUBSCRIBE from an executor not subscribed yet `403`.
 */

export const EXECUTOR_API_PATH = '/api/v1/executor';

/** A valid executor call, or the answer to a request that is not one. */
export type ExecutorRequest = { readonly call: ExecutorCall } | { readonly response: HttpResponse };

/** Validates the request (method, content type, body, `Accept`), whatever agent it is for. */
export function readExecutorRequest(request: HttpRequest): ExecutorRequest {
  const refused = jsonPostProblem(request, 'this agent speaks the executor API');
  if (refused !== undefined) return { response: refused };
  let call: ExecutorCall;
  try {
    call = parseExecutorCall(jsonBody(request));
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    return { response: badRequest(`Failed to validate Executor::Call: ${error.message}`) };
  }
  if (call.type === 'SUBSCRIBE' && !acceptsJson(header(request, 'accept'))) {
    return { response: { status: 406, body: `Expecting 'Accept' to allow '${APPLICATION_JSON}' (this agent streams JSON only)` } };
  }
  return { call };
}

/** `POST /api/v1/executor` at this agent. Runs in the agent's mailbox, as every route. */
export function executorApi(agent: Agent, request: HttpRequest): HttpResponse {
  // While recovering, only once the agent waits for the executors that survived its restart:
  // those that speak HTTP subscribe again then.
  if (agent.state === 'RECOVERING' && agent.reregistrationTimer === undefined) return { status: 503, body: 'Agent has not finished recovery' };
  const read = readExecutorRequest(request);
  if ('response' in read) return read.response;
  const call = read.call;
  const framework = agent.frameworks.get(call.framework_id.value);
  if (framework === undefined) return badRequest('Framework cannot be found');
  const executor = framework.executors.get(call.executor_id.value);
  if (executor === undefined) return badRequest('Executor cannot be found');
  if (executor.state === 'REGISTERING' && call.type !== 'SUBSCRIBE') return { status: 403, body: 'Executor is not subscribed' };

  switch (call.type) {
    case 'SUBSCRIBE':
      subscribe(agent, request, framework, executor, call);
      return streaming();
    case 'UPDATE': {
      const now = agent.now() / 1000;
      const status = { ...call.update.status, timestamp: call.update.status.timestamp ?? now };
      const update: StatusUpdate = { framework_id: call.framework_id, executor_id: call.executor_id, status, timestamp: now, uuid: status.uuid! };
      // As an update from the executor's own address: it is checked, recorded and acknowledged
      // to that address (the HTTP executor's stream) like any other.
      statusUpdate(agent, executor.pid!, { update });
      return accepted();
    }
    case 'MESSAGE':
      executorMessage(agent, executor.pid!, { slave_id: agent.info.id ?? { value: '' }, framework_id: call.framework_id, executor_id: call.executor_id, data: call.message.data });
      return accepted();
    case 'HEARTBEAT':
      return accepted();
  }
}

/** Recovery timers of HTTP executors that dropped their stream, by their stand-in's address. */
const waiting = new Map<string, Timer>();

function subscribe(agent: Agent, request: HttpRequest, framework: FrameworkRecord, executor: ExecutorRecord, call: Extract<ExecutorCall, { type: 'SUBSCRIBE' }>): void {
  agent.log.info({ executor_id: executor.id, framework_id: framework.id, remote: request.remote }, 'Received SUBSCRIBE from HTTP executor');
  const refusal =
    agent.state === 'TERMINATING'
      ? 'the agent is terminating'
      : framework.state === 'TERMINATING'
        ? 'the framework is terminating'
        : executor.state === 'TERMINATING' || executor.state === 'TERMINATED'
          ? `it is ${executor.state.toLowerCase()}`
          : undefined;
  if (refusal !== undefined) {
    agent.log.warn({ executor_id: executor.id, framework_id: framework.id, reason: refusal }, 'Shutting down HTTP executor');
    const stream = new ExecutorEventStream(request.raw.res, () => undefined);
    stream.send({ type: 'SHUTDOWN' });
    stream.end();
    return;
  }

  let stand = httpExecutorOf(agent, executor);
  if (stand === undefined) {
    stand = new HttpExecutorProcess(agent.runtime.generateId('executor-http'), agent.self, framework.id, executor.id, executor.containerId);
    agent.runtime.spawn(stand);
  }
  waiting.get(String(stand.self))?.cancel();
  waiting.delete(String(stand.self));
  const process = stand;
  agent.runtime.dispatch(stand.self, () => process.attach(request.raw.res)).catch(() => undefined);

  if (executor.pid === undefined || !executor.pid.equals(stand.self)) {
    // The first subscription (or a driver-based executor turning to HTTP, as Mesos allows).
    executor.pid = stand.self;
    agent.linkTo(stand.self);
    // The stream ends with the executor (`executorTerminated`, or the agent's end).
    const detachOther = executor.detach;
    const self = stand.self;
    executor.detach = () => {
      detachOther?.();
      agent.runtime.terminate(self);
    };
  }
  const registering = executor.state === 'REGISTERING' && !executor.recovered;
  executor.state = 'RUNNING';
  executor.registrationTimer?.cancel();
  executor.registrationTimer = undefined;
  // A restarted agent waits for it to subscribe again rather than kill it.
  if (framework.checkpoint && agent.agentId !== undefined) checkpointRunPid(agent.flags.workDir, agent.agentId, framework.id, executor.id, executor.containerId, 'http.marker', '');
  agent.send(stand.self, EXECUTOR_REGISTERED, {
    executor_info: executor.info,
    framework_id: { value: framework.id },
    framework_info: framework.info,
    slave_id: agent.info.id ?? { value: '' },
    slave_info: agent.info,
  } satisfies ExecutorRegistered);
  agent.log.info({ executor_id: executor.id, framework_id: framework.id, executor: String(stand.self) }, registering ? 'HTTP executor subscribed' : 'HTTP executor subscribed again');

  for (const { status } of call.subscribe.unacknowledged_updates ?? []) {
    if (status.uuid === undefined) continue;
    statusUpdate(agent, stand.self, { update: { framework_id: { value: framework.id }, executor_id: executor.info.executor_id, status, timestamp: status.timestamp ?? agent.now() / 1000, uuid: status.uuid } });
  }
  launchQueuedTasks(agent, framework, executor);
  recoveryProgressed(agent);
}

/** The stand-in at the executor's address if it subscribed over HTTP. */
function httpExecutorOf(agent: Agent, executor: ExecutorRecord): HttpExecutorProcess | undefined {
  if (executor.pid === undefined || executor.pid.node !== agent.self.node) return undefined;
  const process = agent.runtime.process(executor.pid.id);
  return process instanceof HttpExecutorProcess ? process : undefined;
}

/**
 * `HttpExecutorDisconnectedMessage` from an HTTP executor's stand-in: its SUBSCRIBE stream
 * closed. The agent waits for the executor to subscribe again if its framework checkpoints (up
 * to the recovery timeout), else ends the stand-in at once, which it hears as the executor's
 * exit (`executorExited`: the grace period, then the container is destroyed).
 */
export function httpExecutorDisconnected(agent: Agent, from: UPID, body: HttpExecutorDisconnected): void {
  const framework = agent.frameworks.get(body.framework_id.value);
  const executor = framework?.executors.get(body.executor_id.value);
  const stand = from.node === agent.self.node ? agent.runtime.process(from.id) : undefined;
  if (!(stand instanceof HttpExecutorProcess)) {
    agent.log.warn({ from: String(from) }, 'Ignoring HTTP executor disconnection from a process that is not an HTTP executor');
    return;
  }
  if (framework === undefined || executor === undefined || executor.pid?.equals(from) !== true || executor.state === 'TERMINATED') {
    agent.log.debug({ executor_id: body.executor_id.value, from: String(from) }, 'Ending the stand-in of an HTTP executor that is gone');
    agent.runtime.terminate(from);
    return;
  }
  if (framework.checkpoint && executor.state === 'RUNNING' && agent.state !== 'TERMINATING') {
    agent.log.warn(
      { executor_id: executor.id, framework_id: framework.id, timeout_ms: agent.flags.recoveryTimeoutMs },
      'HTTP executor disconnected; waiting for it to subscribe again as its framework checkpoints',
    );
    const key = String(from);
    waiting.get(key)?.cancel();
    waiting.set(
      key,
      agent.after(agent.flags.recoveryTimeoutMs, () => {
        waiting.delete(key);
        agent.log.warn({ executor_id: body.executor_id.value, framework_id: body.framework_id.value }, 'HTTP executor did not subscribe again within the recovery timeout');
        agent.runtime.terminate(from);
      }),
    );
    return;
  }
  agent.log.warn({ executor_id: executor.id, framework_id: framework.id }, 'HTTP executor disconnected');
  agent.runtime.terminate(from);
}

