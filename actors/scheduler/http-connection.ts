import { basicAuthorization, type Credential } from '../../src/http/authentication.ts';
import { Agent as HttpAgent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { InvalidMessageError, RecordIOError } from '../../src/errors.ts';
import { RecordIOReader } from '../../src/http/recordio.ts';
import { SCHEDULER_CALL, SCHEDULER_EVENT } from '../../src/mesos/protocol.ts';
import { parseSchedulerEvent, type SchedulerCall, type SchedulerEvent } from '../../src/mesos/v1/index.ts';
import type { Timer } from '../../src/process/clock.ts';
import { Process } from '../../src/process/process.ts';
import type { UPID } from '../../src/process/upid.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS, MISSED_HEARTBEATS_MAX } from './constants.ts';

/** Where the master serves the v1 scheduler API. */
export const SCHEDULER_API_PATH = '/api/v1/scheduler';
const STREAM_ID_HEADER = 'mesos-stream-id';
/** Redirects (`307` from a master that does not lead) followed for one SUBSCRIBE. */
const MAX_REDIRECTS = 3;

interface Subscription {
  readonly req: ClientRequest;
  readonly res: IncomingMessage;
  readonly streamId: string;
}

/**
 * A master reached over the v1 scheduler HTTP API, as the scheduler driver sees it: a process in
 * the driver's runtime that stands at the master's address, so that the driver (`SchedulerDriver`
 * given `http://host:port`) works as on the bus, by v1 `Call` and `Event` messages. Like Mesos's
 * v1 scheduler library (`src/scheduler/scheduler.cpp`) it is responsible for
 *
 * 1. the subscription: a SUBSCRIBE call opens `POST /api/v1/scheduler`, whose RecordIO stream
 *    (read with `RecordIOReader`) becomes `mesos.scheduler.Event` messages to the driver; a
 *    `307` from a master that does not lead is followed to the leader; a SUBSCRIBE refused with
 *    a `4xx` but `404` becomes an ERROR event (the driver aborts); a master that cannot be
 *    reached, or answers `503` or `404` (no leader known, routes not up yet), is tried again
 *    when the driver re-sends SUBSCRIBE (its backoff, with the framework id once it has one);
 * 2. every other call: `POST /api/v1/scheduler` with the subscription's `Mesos-Stream-Id`, in
 *    order, on one kept-alive connection;
 * 3. the connection's loss: the stream ends or breaks, or no event (a HEARTBEAT at least) comes
 *    for `MISSED_HEARTBEATS_MAX` heartbeat intervals of the runtime's Clock. The driver then
 *    hears `exited` for this process (`runtime.breakLinks`), as it would for a master on the
 *    bus, and subscribes again.
 *
 * @example
 * const master = new HttpMasterConnection('http://127.0.0.1:5050');
 * runtime.spawn(master);
 * // The driver sends SUBSCRIBE and other calls to `master.self`, and gets events from it.
 */
export class HttpMasterConnection extends Process {
  /** `http://host:port` of the master (of the leader, after a redirect). */
  #base: URL;
  #subscriber: UPID | undefined;
  #subscription: Subscription | undefined;
  #opening: ClientRequest | undefined;
  #silence: Timer | undefined;
  /** A TEARDOWN went out: the master ending the stream is what comes next. */
  #tornDown = false;
  #heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_SECONDS * 1000;
  readonly #calls = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  readonly #inflight = new Set<Promise<void>>();

  /** `Authorization` for every request, from the driver's credential. */
  readonly #authorization: Record<string, string>;

  constructor(url: string, id = 'master-http', credential?: Credential) {
    super(id);
    this.#base = new URL(url);
    this.#authorization = credential !== undefined ? { Authorization: basicAuthorization(credential) } : {};
    this.install(SCHEDULER_CALL, (from, call: SchedulerCall & { framework_id?: { value: string } }) => {
      if (call.type === 'SUBSCRIBE') this.#subscribe(from, call, 0);
      else this.#call(call);
    });
  }

  /** The master's URL, `http://host:port` (the leader's, once redirected). */
  get url(): string {
    return this.#base.origin;
  }

  /** The `Mesos-Stream-Id` of the current subscription. */
  get streamId(): string | undefined {
    return this.#subscription?.streamId;
  }

  override finalize(): void {
    this.#silence?.cancel();
    this.#opening?.destroy();
    this.#subscription?.req.destroy();
    this.#subscription = undefined;
    this.#calls.destroy();
  }

  /**
   * Waits for the calls already sent (a TEARDOWN before the driver stops), then ends the
   * connection and this process. Call it from outside the process.
   */
  async close(): Promise<void> {
    if (!this.alive) return;
    await this.runtime.dispatch(this.self, () => Promise.allSettled([...this.#inflight])).catch(() => undefined);
    const done = this.runtime.wait(this.self);
    this.runtime.terminate(this.self, false);
    await done;
  }

  #subscribe(from: UPID, call: SchedulerCall, redirects: number): void {
    if (this.#subscription !== undefined || this.#opening !== undefined) {
      this.log.debug({ master: this.url }, 'Ignoring SUBSCRIBE: a subscription is open or opening');
      return;
    }
    this.#subscriber = from;
    const body = JSON.stringify(call);
    const req = request(new URL(SCHEDULER_API_PATH, this.#base), {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body), ...this.#authorization },
    });
    this.#opening = req;
    req.on('response', (res) => this.#inMailbox(() => this.#answered(req, res, from, call, redirects)));
    req.on('error', (error) => this.#inMailbox(() => this.#failed(req, error)));
    req.end(body);
    this.log.info({ master: this.url, framework_id: (call as { framework_id?: { value: string } }).framework_id?.value }, 'Subscribing over HTTP');
  }

  #answered(req: ClientRequest, res: IncomingMessage, from: UPID, call: SchedulerCall, redirects: number): void {
    if (this.#opening !== req) {
      res.resume();
      return;
    }
    this.#opening = undefined;
    const status = res.statusCode ?? 0;
    if (status === 200) {
      this.#streaming(req, res);
      return;
    }
    readText(res).then(
      (text) =>
        this.#inMailbox(() => {
          const location = res.headers.location;
          if (status === 307 && location !== undefined && redirects < MAX_REDIRECTS) {
            const leader = new URL(location, this.#base);
            this.log.info({ master: this.url, leader: leader.origin }, 'Following the master to the leader');
            this.#base = new URL(leader.origin);
            this.#subscribe(from, call, redirects + 1);
            return;
          }
          // As Mesos's scheduler library: `404` is a master whose routes are not up yet, tried
          // again like a `503`; any other `4xx` refuses the subscription.
          if (status >= 400 && status < 500 && status !== 404) {
            // The master refused the subscription: the driver aborts, as on an ERROR event.
            this.log.error({ status, reason: text }, 'The master refused the SUBSCRIBE');
            this.send(from, SCHEDULER_EVENT, { type: 'ERROR', error: { message: `SUBSCRIBE refused with ${status}: ${text}` } } satisfies SchedulerEvent);
            return;
          }
          this.log.warn({ status, reason: text }, 'SUBSCRIBE failed; the driver tries again');
        }),
      () => undefined,
    );
  }

  #failed(req: ClientRequest, error: Error): void {
    if (this.#opening !== req) return;
    this.#opening = undefined;
    this.log.warn({ master: this.url, err: error.message }, 'Cannot reach the master; the driver tries again');
  }

  #streaming(req: ClientRequest, res: IncomingMessage): void {
    const streamId = String(res.headers[STREAM_ID_HEADER] ?? '');
    const subscription: Subscription = { req, res, streamId };
    this.#subscription = subscription;
    this.#tornDown = false;
    this.#expectEvent();
    const reader = new RecordIOReader();
    res.on('data', (chunk: Buffer) => {
      let records: Buffer[];
      try {
        records = reader.push(chunk);
      } catch (error) {
        this.#inMailbox(() => this.#lost(subscription, `the stream broke: ${(error as RecordIOError).message}`));
        return;
      }
      if (records.length > 0) this.#inMailbox(() => this.#records(subscription, records));
    });
    res.on('end', () => this.#inMailbox(() => this.#lost(subscription, 'the master ended the stream')));
    res.on('close', () => this.#inMailbox(() => this.#lost(subscription, 'the connection closed')));
    res.on('error', () => undefined);
    req.on('error', () => undefined);
  }

  #records(subscription: Subscription, records: Buffer[]): void {
    if (this.#subscription !== subscription) return;
    this.#expectEvent();
    for (const record of records) {
      let event: SchedulerEvent;
      try {
        event = parseSchedulerEvent(JSON.parse(record.toString('utf8')));
      } catch (error) {
        const reason = error instanceof InvalidMessageError ? error.message : `not JSON: ${(error as Error).message}`;
        this.log.warn({ reason }, 'Dropping an invalid event from the master');
        continue;
      }
      if (event.type === 'SUBSCRIBED') {
        const seconds = event.subscribed.heartbeat_interval_seconds ?? DEFAULT_HEARTBEAT_INTERVAL_SECONDS;
        this.#heartbeatIntervalMs = Math.max(0, seconds) * 1000;
        this.#expectEvent();
      }
      if (this.#subscriber !== undefined) this.send(this.#subscriber, SCHEDULER_EVENT, event);
    }
  }

  /** (Re)arms the silence timer: the master is lost if nothing comes for a few heartbeats. */
  #expectEvent(): void {
    this.#silence?.cancel();
    this.#silence = undefined;
    const subscription = this.#subscription;
    if (subscription === undefined || this.#heartbeatIntervalMs === 0) return;
    const limit = this.#heartbeatIntervalMs * MISSED_HEARTBEATS_MAX;
    this.#silence = this.delay(limit, () => this.#lost(subscription, `no event for ${limit / 1000} s (${MISSED_HEARTBEATS_MAX} heartbeat intervals)`));
  }

  #lost(subscription: Subscription, reason: string): void {
    if (this.#subscription !== subscription) return;
    this.#subscription = undefined;
    this.#silence?.cancel();
    this.#silence = undefined;
    subscription.req.destroy();
    if (this.#tornDown) this.log.info({ master: this.url, reason }, 'The subscription ended after TEARDOWN');
    else this.log.warn({ master: this.url, reason }, 'Lost the subscription to the master');
    // The driver hears `exited`, as for a master on the bus, and subscribes again.
    this.runtime.breakLinks(this.self);
  }

  #call(call: SchedulerCall): void {
    const subscription = this.#subscription;
    if (subscription === undefined) {
      this.log.warn({ type: call.type }, 'Dropping call: not subscribed to the master');
      return;
    }
    if (call.type === 'TEARDOWN') this.#tornDown = true;
    const body = JSON.stringify(call);
    const sent = new Promise<void>((resolve) => {
      const req = request(new URL(SCHEDULER_API_PATH, this.#base), {
        method: 'POST',
        agent: this.#calls,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'Mesos-Stream-Id': subscription.streamId,
          'Content-Length': Buffer.byteLength(body),
          ...this.#authorization,
        },
      });
      req.on('response', (res) => {
        void readText(res).then((text) => {
          // `202 Accepted`, or `200 OK` for a call the master applies at once (UPDATE_FRAMEWORK).
          if (res.statusCode !== 202 && res.statusCode !== 200) this.#inMailbox(() => this.log.warn({ type: call.type, status: res.statusCode, reason: text }, 'The master refused a call'));
          resolve();
        }, () => resolve());
      });
      req.on('error', (error) => {
        this.#inMailbox(() => this.log.warn({ type: call.type, err: error.message }, 'A call did not reach the master'));
        resolve();
      });
      req.end(body);
    });
    this.#inflight.add(sent);
    void sent.finally(() => this.#inflight.delete(sent));
  }

  /** Continues in this process's mailbox (I/O callbacks come from outside it). */
  #inMailbox(fn: () => void): void {
    if (!this.alive) return;
    this.runtime.dispatch(this.self, fn).catch(() => undefined);
  }
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
