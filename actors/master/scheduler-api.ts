import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { InvalidMessageError } from '../../src/errors.ts';
import { acceptsJson, APPLICATION_JSON, header, jsonPostProblem } from '../../src/http/media.ts';
import { accepted, badRequest, jsonBody, streaming, temporaryRedirect } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { parseSchedulerCall, type SchedulerCall, type SchedulerCallOf, type SchedulerEvent } from '../../src/mesos/v1/index.ts';
import * as frameworks from './frameworks.ts';
import { StreamingHttpConnection } from './http-connection.ts';
import type { Master } from './master-process.ts';
import type { SchedulerConnection } from './state.ts';

/**
 * The v1 scheduler HTTP API, `POST /api/v1/scheduler`, as Mesos's `Master::Http::scheduler`:
 *
 * 1. SUBSCRIBE answers `200` with a `Mesos-Stream-Id` header and keeps the response open as a
 *    RecordIO stream of JSON events: SUBSCRIBED, a HEARTBEAT at once and then every
 *    `heartbeat_interval_seconds`, and every event the master sends the framework.
 * 2. Every other call answers `202 Accepted` once validated (UPDATE_FRAMEWORK, applied at once,
 *    `200 OK`); it must carry the `Mesos-Stream-Id` of the framework's current subscription.
 * 3. The subscription's end: a client that closes the stream disconnects the framework (the
 *    failover timer starts); a new SUBSCRIBE for the framework fails the old stream over (ERROR
 *    "Framework failed over", then the stream ends) in `frameworks.subscribe`.
 *
 * Requests are answered in Mesos's order and words: not the leader `307` to the leader (`503`
 * when no leader is known); not POST `405`; no `Content-Type` `400`; not JSON `415` (this
 * master speaks JSON only, not protobuf); a body that is not a valid call `400` naming the
 * field; a SUBSCRIBE whose `Accept` rules out JSON `406`; an unknown framework `400` "Framework
 * cannot be found"; a known one not subscribed, or subscribed through the scheduler driver
 * rather than HTTP, `403`. With `--authenticate_http_frameworks` the route's realm
 * (`mesos-master-scheduler`) asks for credentials first (`401`), and a call whose framework
 * has another principal than the one authenticated is `400`.
 */

export const SCHEDULER_API_PATH = '/api/v1/scheduler';
export const STREAM_ID_HEADER = 'Mesos-Stream-Id';


/**
 * A framework subscribed over HTTP: its events are RecordIO records on the SUBSCRIBE response
 * (Mesos's `StreamingHttpConnection` plus the framework's `ResponseHeartbeater`). Heartbeats
 * start once SUBSCRIBED is written and follow the master's Clock. It keeps `res` for tests that
 * break the master's side of the stream.
 */
export class HttpSchedulerConnection implements SchedulerConnection {
  readonly kind = 'http';
  readonly #stream: StreamingHttpConnection<SchedulerEvent>;

  constructor(
    private readonly m: Master,
    private readonly res: ServerResponse,
    streamId: string = randomUUID(),
  ) {
    this.#stream = new StreamingHttpConnection<SchedulerEvent>(m, this.res, {
      streamId,
      headers: { [STREAM_ID_HEADER]: streamId },
      // The client went away: only if this is still the framework's stream (one failed over
      // was closed by the master) is the framework disconnected.
      onDropped: () => {
        for (const framework of m.frameworks.values()) {
          if (framework.connection === this) frameworks.disconnect(m, framework, 'its HTTP subscription stream closed');
        }
      },
    });
  }

  /** The `Mesos-Stream-Id` of this subscription, a fresh UUID. */
  get streamId(): string {
    return this.#stream.streamId;
  }

  /** Whether the stream has ended (closed by the master or by the client). */
  get closed(): boolean {
    return this.#stream.closed;
  }

  send(event: SchedulerEvent): void {
    this.#stream.send(event);
    if (event.type === 'SUBSCRIBED' && !this.#stream.closed && !this.#stream.heartbeating) {
      // As Mesos: the first heartbeat right after SUBSCRIBED, then one per interval.
      const seconds = Math.max(0, event.subscribed.heartbeat_interval_seconds ?? this.m.options.heartbeatIntervalSeconds);
      this.#stream.heartbeat({ type: 'HEARTBEAT' }, seconds * 1000, 0);
    }
  }

  /** Ends the stream (the response's last chunk); the client's connection stays usable. */
  close(): void {
    this.#stream.close();
  }
}

/**
 * What the master's v1 APIs (`api`: 'the scheduler API', 'the operator API') answer before they
 * read a call, in Mesos's order: not the leader `307` (or `503`), not POST `405`, no
 * `Content-Type` `400`, not JSON `415`; `undefined` for a request to go on with.
 */
export function jsonPostRefusal(m: Master, request: HttpRequest, api: string): HttpResponse | undefined {
  if (!m.leading) return redirect(m, request);
  return jsonPostProblem(request, `this master speaks ${api}`);
}

/** `POST /api/v1/scheduler`. Runs in the master's mailbox, as every route. */
export function schedulerApi(m: Master, request: HttpRequest): HttpResponse {
  const refused = jsonPostRefusal(m, request, 'the scheduler API');
  if (refused !== undefined) return refused;

  const json = jsonBody(request);
  let call: SchedulerCall;
  try {
    call = parseSchedulerCall(json);
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    m.stats.invalidCalls.inc();
    return badRequest(`Failed to validate scheduler::Call: ${error.message}`);
  }

  if (call.type === 'SUBSCRIBE') {
    // With `--authenticate_http_frameworks`, as Mesos's call validation: the framework is who
    // it authenticated as. One that names no principal takes the authenticated one.
    const principal = request.principal;
    const named = call.subscribe.framework_info.principal;
    if (principal !== undefined && named !== undefined && named !== principal) {
      return badRequest(`Failed to validate scheduler::Call: Authenticated principal '${principal}' does not match principal '${named}' set in \`FrameworkInfo\``);
    }
    if (principal !== undefined && named === undefined) call.subscribe.framework_info.principal = principal;
    return subscribe(m, request, call);
  }

  const framework = m.frameworks.get(call.framework_id.value);
  if (framework === undefined) {
    m.stats.droppedCalls.inc();
    return badRequest('Framework cannot be found');
  }
  if (request.principal !== undefined && framework.info.principal !== request.principal) {
    return badRequest(`Authenticated principal '${request.principal}' does not match principal '${framework.info.principal ?? ''}' set in \`FrameworkInfo\``);
  }
  const connection = framework.connection;
  if (connection === undefined) return forbidden('Framework is not subscribed');
  if (!(connection instanceof HttpSchedulerConnection)) return forbidden('Framework is not connected via HTTP');
  const streamId = header(request, STREAM_ID_HEADER);
  if (streamId === undefined) return badRequest(`All non-subscribe calls should include the '${STREAM_ID_HEADER}' header`);
  if (streamId !== connection.streamId) {
    return badRequest(`The stream ID '${streamId}' included in this request didn't match the stream ID currently associated with framework ID ${framework.id}`);
  }
  if (call.type === 'UPDATE_FRAMEWORK') {
    const problem = frameworks.updateFrameworkProblem(framework, call);
    if (problem !== undefined) return badRequest(problem);
    const unauthorized = frameworks.rolesUnauthorized(m, call.update_framework.framework_info);
    if (unauthorized !== undefined) return forbidden(unauthorized);
    frameworks.handle(m, framework, call);
    // As Mesos's `Master::updateFramework` over HTTP: `200 OK`, the update applied, not `202`.
    return { status: 200 };
  }
  frameworks.handle(m, framework, call);
  return accepted();
}

function subscribe(m: Master, request: HttpRequest, call: SchedulerCallOf<'SUBSCRIBE'>): HttpResponse {
  if (!acceptsJson(header(request, 'accept'))) {
    return { status: 406, body: `Expecting 'Accept' to allow '${APPLICATION_JSON}' (this master streams JSON only)` };
  }
  if (header(request, STREAM_ID_HEADER) !== undefined) {
    return badRequest(`Subscribe calls should not include the '${STREAM_ID_HEADER}' header`);
  }
  const connection = new HttpSchedulerConnection(m, request.raw.res);
  m.log.info({ name: call.subscribe.framework_info.name, remote: request.remote, streamId: connection.streamId }, 'Received SUBSCRIBE over HTTP');
  frameworks.subscribe(m, connection, call);
  return streaming();
}

/**
 * Where the leading master serves HTTP (`host:port`), if this master knows (Mesos's
 * `Master::leader`): itself while it leads; while it stands by, the leader its contender read
 * from the election key (`LeaderInfo.url`); none before the first read, or when the leader
 * serves no HTTP.
 */
function knownLeader(m: Master): string | undefined {
  if (m.leading) {
    const info = m.masterInfo;
    return `${info.address?.hostname ?? info.hostname}:${info.port}`;
  }
  const url = m.leader?.url;
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * As Mesos's `Master::Http::redirect`: `307` to the same path and query on the leading master
 * (a protocol-relative `//host:port/path`), `503` "No leader elected" when no leader is known
 * (a redirect to this master itself would loop). `/redirect` goes to the leader's root;
 * anything below it is `404`, so redirects cannot loop.
 */
export function redirect(m: Master, request: HttpRequest): HttpResponse {
  const leader = knownLeader(m);
  if (leader === undefined) return { status: 503, body: 'No leader elected' };
  const base = `//${leader}`;
  const path = request.url.pathname;
  const own = `/${m.self.id}/redirect`;
  if (path === '/redirect' || path === own) return temporaryRedirect(base);
  if (path.startsWith('/redirect/') || path.startsWith(`${own}/`)) return { status: 404 };
  return temporaryRedirect(`${base}${path}${request.url.search}`);
}

function forbidden(reason: string): HttpResponse {
  return { status: 403, body: reason };
}


