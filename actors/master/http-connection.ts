import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { APPLICATION_JSON } from '../../src/http/media.ts';
import { encodeRecord } from '../../src/http/recordio.ts';
import type { Timer } from '../../src/process/clock.ts';
import { encodeBody } from '../../src/transport/codec.ts';
import type { Master } from './master-process.ts';

/**
 * A streaming HTTP response of JSON events framed as RecordIO records, as Mesos's
 * `StreamingHttpConnection` together with its `ResponseHeartbeater`: what the scheduler API's
 * SUBSCRIBE (`scheduler-api.ts`) and the operator API's (`operator-api.ts`) answer with.
 *
 * 1. The response head goes out at once (`200`, `Content-Type: application/json`, plus the
 *    caller's headers), so that a client knows it is subscribed before the first event.
 * 2. Events are written as they come; heartbeats follow the master's Clock, so that tests
 *    advance a paused Clock instead of waiting.
 * 3. A client that goes away (the response closes before the master ends it) is reported once,
 *    inside the master's mailbox (`onDropped`), where the master forgets it.
 */
export class StreamingHttpConnection<E extends object> {
  /** A fresh UUID naming this stream (Mesos's `HttpConnection::streamId`). */
  readonly streamId: string;
  /** Resolves once the stream has ended, whichever side ended it. */
  readonly done: Promise<void>;
  #closed = false;
  #heartbeat: Timer | undefined;
  #ended!: () => void;

  constructor(
    private readonly m: Master,
    private readonly res: ServerResponse,
    options: { headers?: Record<string, string>; streamId?: string; onDropped: () => void },
  ) {
    this.streamId = options.streamId ?? randomUUID();
    this.done = new Promise((resolve) => (this.#ended = resolve));
    res.writeHead(200, { 'Content-Type': APPLICATION_JSON, ...options.headers });
    res.flushHeaders();
    const dropped = (): void => {
      if (this.#closed) return;
      this.#end();
      m.runtime.dispatch(m.self, options.onDropped).catch(() => undefined);
    };
    res.once('close', dropped);
    if (res.socket === null || res.socket.destroyed) dropped();
  }

  /** Whether the stream has ended (closed by the master or by the client). */
  get closed(): boolean {
    return this.#closed;
  }

  send(event: E): void {
    this.write(encodeRecord(encodeBody(event)));
  }

  /**
   * Writes one record already framed (`encodeRecord`): an event sent to many streams is
   * written as JSON once.
   */
  write(record: Uint8Array): void {
    if (!this.#closed) this.res.write(record);
  }

  /**
   * Sends `event` every `intervalMs` of the master's Clock, the first after `delayMs` (`0`: at
   * once), until the stream ends. An interval of `0` sends the first one only.
   */
  heartbeat(event: E, intervalMs: number, delayMs: number = intervalMs): void {
    this.#heartbeat?.cancel();
    this.#heartbeat = undefined;
    const record = encodeRecord(encodeBody(event));
    const beat = (): void => {
      this.#heartbeat = undefined;
      this.write(record);
      if (!this.#closed && intervalMs > 0) this.#heartbeat = this.m.after(intervalMs, beat);
    };
    if (delayMs === 0) beat();
    else this.#heartbeat = this.m.after(delayMs, beat);
  }

  /** Whether heartbeats are being sent. */
  get heartbeating(): boolean {
    return this.#heartbeat !== undefined;
  }

  /** Ends the stream (the response's last chunk); the client's connection stays usable. */
  close(): void {
    if (this.#closed) return;
    this.#end();
    this.res.end();
  }

  #end(): void {
    this.#closed = true;
    this.#heartbeat?.cancel();
    this.#heartbeat = undefined;
    this.#ended();
  }
}
