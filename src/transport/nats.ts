import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { decodeBatch, encodeEnvelope, joinBatch } from './codec.ts';
import type { Envelope, Transport, TransportSink } from './transport.ts';

export interface NatsTransportOptions {
  /**
   * `nats://host:4222`, or several, comma-separated or as an array. Credentials may be in the
   * URL (`nats://user:password@host:4222`, or `nats://token@host:4222`): the client is given them
   * as options, and they are left out of `servers` and of logs.
   */
  servers: string | string[];
  /** Subjects are `<prefix>.<node>`; runtimes with different prefixes do not see each other. */
  prefix?: string;
  logger?: Logger;
  /** Largest batch per bus message, in envelopes (default 256). 1 disables batching. */
  maxBatch?: number;
}

/** Envelopes waiting for the end of this turn of the event loop, encoded, for one node. */
interface PendingBatch {
  parts: string[];
  /** The payload's length in UTF-16 code units (`joinBatch(parts).length`). */
  chars: number;
  /** Its length in UTF-8 bytes while known: measured once the batch nears `max_payload` (`send`). */
  bytes: number | undefined;
}

/**
 * UTF-8 takes at most 3 bytes per UTF-16 code unit. A payload under a third of `max_payload` in
 * code units fits whatever it holds, so only one near the limit is measured (`Buffer.byteLength`
 * scans the text: 3.4% of the master's process in the offers bench when every envelope was).
 */
const MAX_UTF8_PER_CHAR = 3;

/** nats-server's default `max_payload`, used until the server says its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Reconnect forever, quickly: a restarted nats-server should find every runtime back within a second. */
const RECONNECT_WAIT_MS = 250;

/**
 * The NATS transport: one connection and one subscription (`<prefix>.<node>`) per runtime.
 *
 * Envelopes for the same node sent in one turn of the event loop go out as one bus message (a
 * JSON array of at most `maxBatch` envelopes and the server's `max_payload` bytes), which
 * amortizes the bus's per-message cost as libprocess's socket writes do; order per sender and
 * receiver is kept. An envelope larger than `max_payload` cannot travel: it is refused (the
 * runtime counts it undeliverable) and logged with its name, address and size. Core NATS is at
 * most once: what is published while disconnected may be lost, never duplicated. Reliability is
 * the actors' business, as in Mesos; `onReconnect` tells the runtime when a loss was possible.
 */
export class NatsTransport implements Transport {
  readonly kind = 'nats' as const;
  /** The server URLs, without credentials. */
  readonly servers: string[];
  readonly #auth: { user?: string; pass?: string; token?: string };
  readonly prefix: string;
  readonly #maxBatch: number;
  readonly #logger: Logger | undefined;
  #nc: NatsConnection | undefined;
  readonly #pending = new Map<string, PendingBatch>();
  #flushScheduled = false;
  /** Envelopes the client refused (closed connection). */
  dropped = 0;
  readonly #statusListeners = new Set<(type: string) => void>();

  constructor(options: NatsTransportOptions) {
    const urls = (Array.isArray(options.servers) ? options.servers : options.servers.split(','))
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (urls.length === 0) throw new Error('NATS transport needs at least one server URL');
    const { servers, auth } = splitCredentials(urls);
    this.servers = servers;
    this.#auth = auth;
    this.prefix = options.prefix ?? 'mesos';
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.#logger = options.logger;
  }

  subject(node: string): string {
    return `${this.prefix}.${node}`;
  }

  async attach(sink: TransportSink): Promise<void> {
    const nc = await connect({
      servers: this.servers,
      ...this.#auth,
      name: sink.node,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      waitOnFirstConnect: false,
    });
    this.#nc = nc;
    nc.subscribe(this.subject(sink.node), {
      callback: (error, msg) => {
        if (error !== null) {
          this.#logger?.warn({ err: error }, 'NATS subscription error');
          return;
        }
        let text: string;
        try {
          text = msg.string();
        } catch (e) {
          sink.malformed(`payload is not UTF-8: ${(e as Error).message}`);
          return;
        }
        decodeBatch(text, (envelope) => sink.receive(envelope), (reason) => sink.malformed(reason));
      },
    });
    void this.#watchStatus(nc);
    await nc.flush();
  }

  send(node: string, envelope: Envelope): boolean {
    const nc = this.#nc;
    if (nc === undefined) return false;
    const text = encodeEnvelope(envelope);
    const max = this.#maxPayload;
    let bytes: number | undefined;
    if (MAX_UTF8_PER_CHAR * text.length + 2 > max && (bytes = Buffer.byteLength(text)) + 2 > max) {
      this.dropped++;
      this.#logger?.error(
        { node, name: envelope.name, to: envelope.to, bytes, maxPayload: max },
        'Dropping a message larger than the bus allows (nats-server max_payload)',
      );
      return false;
    }
    let batch = this.#pending.get(node);
    if (batch !== undefined) {
      let full = batch.parts.length >= this.#maxBatch;
      if (!full && MAX_UTF8_PER_CHAR * (batch.chars + text.length + 1) > max) {
        // Near the limit: measure.
        batch.bytes ??= batch.parts.reduce((sum, part) => sum + Buffer.byteLength(part) + 1, 2);
        bytes ??= Buffer.byteLength(text);
        full = batch.bytes + bytes + 1 > max;
      }
      if (full) {
        this.#publish(node, batch);
        batch = undefined;
      }
    }
    if (batch === undefined) {
      batch = { parts: [], chars: 2, bytes: 2 };
      this.#pending.set(node, batch);
    }
    batch.parts.push(text);
    batch.chars += text.length + 1;
    batch.bytes = batch.bytes === undefined || bytes === undefined ? undefined : batch.bytes + bytes + 1;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
    return true;
  }

  /** The largest bus message the server accepts. */
  get #maxPayload(): number {
    return this.#nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    for (const [node, batch] of this.#pending) this.#publish(node, batch);
    this.#pending.clear();
  };

  #publish(node: string, batch: PendingBatch): void {
    this.#pending.delete(node);
    try {
      this.#nc?.publish(this.subject(node), joinBatch(batch.parts));
    } catch (error) {
      this.dropped += batch.parts.length;
      this.#logger?.warn({ err: error, node, envelopes: batch.parts.length }, 'NATS publish failed; dropping');
    }
  }

  /**
   * The client connection while attached (`undefined` before `attach` and after `detach`), for
   * what rides on the bus beside the envelopes: the masters' leader election uses a JetStream
   * key-value bucket (`actors/detector/contender.ts`).
   */
  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  /** Waits until the server has seen everything published so far. */
  async flush(): Promise<void> {
    this.#flush();
    await this.#nc?.flush();
  }

  async detach(): Promise<void> {
    const nc = this.#nc;
    if (nc === undefined) return;
    this.#flush();
    this.#nc = undefined;
    try {
      await nc.drain();
    } catch {
      await nc.close().catch(() => undefined);
    }
  }

  /** Drops the connection without flushing or unsubscribing cleanly (a crash, for tests). */
  async abandon(): Promise<void> {
    this.#pending.clear();
    const nc = this.#nc;
    this.#nc = undefined;
    await nc?.close().catch(() => undefined);
  }

  describe(): string {
    return `nats ${this.servers.join(',')} (${this.prefix}.*)`;
  }

  /**
   * Answers requests on `subject` with what `handler` returns (request-reply, beside the
   * envelopes), in a queue group named after the subject so that one server answers each
   * request. A handler that throws sends no reply; the requester times out. What the master
   * detector uses: the leading master serves `<prefix>.leader.info`. Returns a function that
   * stops serving. The subscription survives reconnections, as every NATS subscription does.
   */
  serve(subject: string, handler: (request: string) => string | Promise<string>): () => void {
    const nc = this.#nc;
    if (nc === undefined) throw new Error(`cannot serve '${subject}': the NATS transport is not attached`);
    const sub = nc.subscribe(subject, {
      queue: subject,
      callback: (error, msg) => {
        if (error !== null) {
          this.#logger?.warn({ err: error, subject }, 'NATS service subscription error');
          return;
        }
        void Promise.resolve()
          .then(() => handler(msg.string()))
          .then(
            (reply) => msg.respond(reply),
            (e: unknown) => this.#logger?.warn({ err: e, subject }, 'NATS service handler failed; not answering'),
          );
      },
    });
    return () => sub.unsubscribe();
  }

  /**
   * Sends one request on `subject` and resolves with the first reply. Rejects when nobody
   * serves the subject (at once, NATS's "no responders") or no reply comes within `timeoutMs`.
   */
  async request(subject: string, data = '', timeoutMs = 1_000): Promise<string> {
    const nc = this.#nc;
    if (nc === undefined) throw new Error(`cannot request '${subject}': the NATS transport is not attached`);
    const reply = await nc.request(subject, data, { timeout: timeoutMs });
    return reply.string();
  }

  /** Calls `listener` with each connection status change (`disconnect`, `reconnect`, ...). */
  onStatus(listener: (type: string) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    return this.onStatus((type) => {
      if (type === 'reconnect') listener();
    });
  }

  /** Resolves at the next status change of `type`. */
  nextStatus(type: string): Promise<void> {
    return new Promise((resolve) => {
      const off = this.onStatus((t) => {
        if (t === type) {
          off();
          resolve();
        }
      });
    });
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      for (const listener of this.#statusListeners) listener(status.type);
      switch (status.type) {
        case 'disconnect':
          this.#logger?.warn({ server: status.server }, 'Disconnected from NATS');
          break;
        case 'reconnect':
          this.#logger?.info({ server: status.server }, 'Reconnected to NATS');
          break;
        case 'error':
          this.#logger?.warn({ err: status.error }, 'NATS error');
          break;
        default:
          break;
      }
    }
  }
}

/**
 * Takes credentials out of server URLs (nats.js takes them as options only): `user:password@`
 * gives `user` and `pass`, a lone `token@` gives `token`. The first URL with credentials sets
 * them for all (a client has one identity).
 */
function splitCredentials(urls: string[]): { servers: string[]; auth: { user?: string; pass?: string; token?: string } } {
  let auth: { user?: string; pass?: string; token?: string } = {};
  let found = false;
  const servers = urls.map((text) => {
    const at = text.indexOf('@');
    const scheme = text.indexOf('://');
    if (at < 0 || scheme < 0 || at < scheme) return text;
    const credentials = text.slice(scheme + 3, at);
    if (!found) {
      found = true;
      const colon = credentials.indexOf(':');
      auth =
        colon < 0
          ? { token: decodeURIComponent(credentials) }
          : { user: decodeURIComponent(credentials.slice(0, colon)), pass: decodeURIComponent(credentials.slice(colon + 1)) };
    }
    return text.slice(0, scheme + 3) + text.slice(at + 1);
  });
  return { servers, auth };
}
