import type { ServerResponse } from 'node:http';
import { encodeRecord } from '../../src/http/recordio.ts';
import { APPLICATION_JSON } from '../../src/http/media.ts';
import {
  EXECUTOR_REGISTERED,
  FRAMEWORK_TO_EXECUTOR,
  KILL_TASK,
  RUN_TASK,
  RUN_TASK_GROUP,
  SHUTDOWN_EXECUTOR,
  STATUS_UPDATE_ACKNOWLEDGEMENT,
  type ExecutorRegistered,
  type FrameworkToExecutor,
  type KillTask,
  type RunTask,
  type RunTaskGroup,
  type StatusUpdateAcknowledgement,
} from '../../src/mesos/protocol.ts';
import type { ExecutorEvent } from '../../src/mesos/v1/executor.ts';
import type { Timer } from '../../src/process/clock.ts';
import { Process } from '../../src/process/process.ts';
import type { UPID } from '../../src/process/upid.ts';
import { EXECUTOR_HEARTBEAT_INTERVAL_MS } from './constants.ts';

/**
 * The RecordIO stream of events on an executor's SUBSCRIBE response (Mesos's
 * `StreamingHttpConnection<v1::executor::Event>`). Writing the head happens at construction,
 * so a stream exists only for a subscription the agent took.
 */
export class ExecutorEventStream {
  #ended = false;

  constructor(
    readonly res: ServerResponse,
    /** The client went away before the stream ended. */
    onDropped: (stream: ExecutorEventStream) => void,
  ) {
    res.writeHead(200, { 'Content-Type': APPLICATION_JSON });
    res.flushHeaders();
    res.once('close', () => {
      if (this.#ended) return;
      this.#ended = true;
      onDropped(this);
    });
    if (res.socket === null || res.socket.destroyed) {
      this.#ended = true;
      queueMicrotask(() => onDropped(this));
    }
  }

  get ended(): boolean {
    return this.#ended;
  }

  send(event: ExecutorEvent): void {
    if (this.#ended) return;
    this.res.write(encodeRecord(JSON.stringify(event)));
  }

  /** Ends the response (its last chunk); the client's connection stays usable. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.res.end();
  }
}

/**
 * `ip:port` of the runtime's HTTP server as an executor on this machine reaches it
 * (`MESOS_AGENT_ENDPOINT`): an unspecified address (`0.0.0.0`, `::`) becomes the loopback one.
 * `undefined` when the runtime serves no HTTP.
 */
export function agentEndpoint(address: { host: string; port: number } | undefined): string | undefined {
  if (address === undefined) return undefined;
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return host.includes(':') ? `[${host}]:${address.port}` : `${host}:${address.port}`;
}

/**
 * Stand-in → agent (same runtime): the executor's SUBSCRIBE stream closed while it was its
 * current one. The agent decides whether to wait for the executor (`executor-api.ts`).
 */
export const HTTP_EXECUTOR_DISCONNECTED = 'HttpExecutorDisconnectedMessage';
export interface HttpExecutorDisconnected {
  readonly framework_id: { readonly value: string };
  readonly executor_id: { readonly value: string };
}

/**
 * An executor subscribed over HTTP, as its agent sees it: a process in the agent's runtime that
 * stands at the executor's address (`ExecutorRecord.pid`), so that the agent talks to HTTP
 * executors and driver-based ones alike, by messages. It is Mesos's `Executor::http` connection
 * together with the `evolve` of each message into a v1 executor `Event`:
 *
 * 1. `ExecutorRegisteredMessage` → SUBSCRIBED `{executor_info, framework_info, agent_info,
 *    container_id}`, `RunTaskMessage` → LAUNCH, `RunTaskGroupMessage` → LAUNCH_GROUP,
 *    `KillTaskMessage` → KILL, `StatusUpdateAcknowledgementMessage` → ACKNOWLEDGED,
 *    `FrameworkToExecutorMessage` → MESSAGE, `ShutdownExecutorMessage` → SHUTDOWN, each one
 *    RecordIO record on the SUBSCRIBE response;
 * 2. a HEARTBEAT every `EXECUTOR_HEARTBEAT_INTERVAL_MS` of the agent's Clock once subscribed;
 * 3. the stream's end: a new SUBSCRIBE replaces the stream (the old one ends); a stream the
 *    executor drops is reported to the agent (`HttpExecutorDisconnectedMessage`), which decides
 *    whether to wait for it to subscribe again (`executor-api.ts`). Events for an executor
 *    without a stream are dropped with a log line, as Mesos drops what it cannot send.
 *
 * It takes messages from its agent only, and ends with it (it links to the agent).
 */
export class HttpExecutorProcess extends Process {
  #stream: ExecutorEventStream | undefined;
  #heartbeat: Timer | undefined;

  constructor(
    id: string,
    readonly agent: UPID,
    readonly frameworkId: string,
    readonly executorId: string,
    readonly containerId: string,
    private readonly heartbeatIntervalMs = EXECUTOR_HEARTBEAT_INTERVAL_MS,
  ) {
    super(id);
    this.install(EXECUTOR_REGISTERED, (from, body: ExecutorRegistered) => {
      if (this.#fromAgent(from, 'SUBSCRIBED')) this.#subscribed(body);
    });
    this.install(RUN_TASK, (from, body: RunTask) => this.#event(from, { type: 'LAUNCH', launch: { task: body.task } }));
    this.install(RUN_TASK_GROUP, (from, body: RunTaskGroup) => this.#event(from, { type: 'LAUNCH_GROUP', launch_group: { task_group: body.task_group } }));
    this.install(KILL_TASK, (from, body: KillTask) =>
      this.#event(from, { type: 'KILL', kill: body.kill_policy === undefined ? { task_id: body.task_id } : { task_id: body.task_id, kill_policy: body.kill_policy } }),
    );
    this.install(STATUS_UPDATE_ACKNOWLEDGEMENT, (from, body: StatusUpdateAcknowledgement) =>
      this.#event(from, { type: 'ACKNOWLEDGED', acknowledged: { task_id: body.task_id, uuid: body.uuid } }),
    );
    this.install(FRAMEWORK_TO_EXECUTOR, (from, body: FrameworkToExecutor) => this.#event(from, { type: 'MESSAGE', message: { data: body.data } }));
    this.install(SHUTDOWN_EXECUTOR, (from) => this.#event(from, { type: 'SHUTDOWN' }));
  }

  /** Whether a SUBSCRIBE stream is attached. */
  get connected(): boolean {
    return this.#stream !== undefined;
  }

  override initialize(): void {
    this.link(this.agent);
  }

  override finalize(): void {
    this.#stopHeartbeat();
    this.#stream?.end();
    this.#stream = undefined;
  }

  override exited(upid: UPID): void {
    if (!upid.equals(this.agent)) return;
    this.log.info({ executor_id: this.executorId }, 'Agent exited; ending the executor stream');
    this.runtime.terminate(this.self);
  }

  /**
   * Takes the response of a SUBSCRIBE the agent accepted; the previous stream, if any, ends.
   * Runs in this process's mailbox (the agent dispatches it), before the SUBSCRIBED event.
   */
  attach(res: ServerResponse): void {
    const previous = this.#stream;
    this.#stopHeartbeat();
    const stream = new ExecutorEventStream(res, (dropped) => {
      this.runtime.dispatch(this.self, () => this.#dropped(dropped)).catch(() => undefined);
    });
    this.#stream = stream;
    if (previous !== undefined) {
      this.log.warn({ executor_id: this.executorId, framework_id: this.frameworkId }, 'Closing the existing HTTP connection of the executor: it subscribed again');
      previous.end();
    }
  }

  #subscribed(body: ExecutorRegistered): void {
    this.#send({
      type: 'SUBSCRIBED',
      subscribed: {
        executor_info: body.executor_info,
        framework_info: { ...body.framework_info, id: body.framework_id },
        agent_info: { ...body.slave_info, id: body.slave_id },
        container_id: { value: this.containerId },
      },
    });
    if (this.#stream !== undefined && this.heartbeatIntervalMs > 0) this.#beat();
  }

  #beat(): void {
    this.#heartbeat = this.delay(this.heartbeatIntervalMs, () => {
      this.#send({ type: 'HEARTBEAT' });
      if (this.#stream !== undefined) this.#beat();
    });
  }

  #stopHeartbeat(): void {
    this.#heartbeat?.cancel();
    this.#heartbeat = undefined;
  }

  #fromAgent(from: UPID, event: string): boolean {
    if (from.equals(this.agent)) return true;
    this.log.warn({ from: String(from), event }, 'Ignoring a message for an HTTP executor that is not from its agent');
    return false;
  }

  #event(from: UPID, event: ExecutorEvent): void {
    if (this.#fromAgent(from, event.type)) this.#send(event);
  }

  #send(event: ExecutorEvent): void {
    if (this.#stream === undefined) {
      this.log.warn({ executor_id: this.executorId, framework_id: this.frameworkId, event: event.type }, 'Dropping event for an HTTP executor that is not connected');
      return;
    }
    this.#stream.send(event);
  }

  #dropped(stream: ExecutorEventStream): void {
    if (stream !== this.#stream) return;
    this.#stream = undefined;
    this.#stopHeartbeat();
    this.log.warn({ executor_id: this.executorId, framework_id: this.frameworkId }, 'HTTP executor closed its SUBSCRIBE connection');
    this.send(this.agent, HTTP_EXECUTOR_DISCONNECTED, {
      framework_id: { value: this.frameworkId },
      executor_id: { value: this.executorId },
    } satisfies HttpExecutorDisconnected);
  }
}
