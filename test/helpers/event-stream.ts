import { request, type Agent, type ClientRequest, type IncomingMessage } from 'node:http';

/**
 * A Mesos v1 HTTP API client stand-in for tests, on node's own `http` and a RecordIO parser
 * written here (no project code on the client side, so the tests check the wire, not the
 * project against itself).
 */

/** Splits a RecordIO byte stream (`<decimal length>\n<bytes>`, repeated) into records. */
export class TinyRecordIO {
  #buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const nl = this.#buffer.indexOf(10);
      if (nl === -1) return out;
      const header = this.#buffer.subarray(0, nl).toString('ascii');
      if (!/^\d+$/.test(header)) throw new Error(`bad RecordIO length '${header}'`);
      const length = Number(header);
      if (this.#buffer.length < nl + 1 + length) return out;
      out.push(this.#buffer.subarray(nl + 1, nl + 1 + length));
      this.#buffer = this.#buffer.subarray(nl + 1 + length);
    }
  }

  get pending(): number {
    return this.#buffer.length;
  }
}

/** A SUBSCRIBE response read as events, as they come. */
export class EventStream {
  /** Every event received, in order. */
  readonly events: any[] = [];
  /** Resolves when the master ends the stream (the response's last chunk). */
  readonly ended: Promise<void>;
  #cursor = 0;
  #waiter: (() => void) | undefined;
  #done = false;

  constructor(
    readonly res: IncomingMessage,
    readonly req: ClientRequest,
    /** Local port of the client socket, to tell whether a connection was reused. */
    readonly socketPort: number | undefined,
  ) {
    const parser = new TinyRecordIO();
    res.on('data', (chunk: Buffer) => {
      for (const record of parser.push(chunk)) this.events.push(JSON.parse(record.toString('utf8')));
      this.#wake();
    });
    this.ended = new Promise((resolve) => {
      res.on('end', () => {
        this.#done = true;
        this.#wake();
        resolve();
      });
      res.on('close', () => {
        this.#done = true;
        this.#wake();
      });
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get streamId(): string {
    return String(this.res.headers['mesos-stream-id']);
  }

  /**
   * The next event not read yet of `type` (any type if omitted), skipping others on the way.
   * Rejects if the stream ends first or nothing comes within `timeoutMs` of wall time.
   */
  async next(type?: string, timeoutMs = 5_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#cursor < this.events.length) {
        const event = this.events[this.#cursor++];
        if (type === undefined || event.type === type) return event;
      }
      if (this.#done) throw new Error(`stream ended before ${type ?? 'an event'}; got ${this.events.map((e) => e.type).join(', ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type ?? 'event'} within ${timeoutMs} ms; got ${this.events.map((e) => e.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Events received and not read yet. */
  unread(): any[] {
    return this.events.slice(this.#cursor);
  }

  /** Closes the connection from the client side, as a scheduler that goes away. */
  close(): void {
    this.req.destroy();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}

/**
 * POSTs a SUBSCRIBE to `path` and resolves once the response head arrives: a stream for `200`,
 * or the whole answer for anything else.
 */
export function subscribe(
  port: number,
  body: object | string,
  options: { path?: string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<EventStream> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: options.path ?? '/api/v1/scheduler',
        agent: options.agent,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(payload), ...options.headers },
      },
      (res) => resolve(new EventStream(res, req, req.socket?.localPort)),
    );
    // After the head, an error (the client closing the stream) only ends the stream.
    req.on('error', reject);
    req.end(payload);
  });
}
