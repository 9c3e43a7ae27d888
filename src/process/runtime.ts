import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { defaultLogger } from '../logging.ts';
import { Metrics, type Counter } from '../metrics/metrics.ts';
import type { Authenticator } from '../http/authentication.ts';
import { HttpServer, type HttpServerOptions } from '../http/server.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Envelope, Transport, TransportSink } from '../transport/transport.ts';
import { Clock, defaultClock, wallClockDelay } from './clock.ts';
import { filtering, shouldDrop } from './filter.ts';
import { PeerMonitor, RUNTIME_ID, LINK_HEARTBEAT_INTERVAL_MS, LINK_TIMEOUT_MS } from './links.ts';
import { MetricsProcess } from './metrics-process.ts';
import { CALL, EXITED, MESSAGE, TERMINATE, type MailboxEvent, type Process } from './process.ts';
import { UPID, validateNode } from './upid.ts';

export interface RuntimeOptions {
  /** This runtime's name on the bus; default `<hostname>-<pid>[-<n>]`. */
  node?: string;
  /** Default: a `LocalTransport` on the process-wide local bus. */
  transport?: Transport;
  /** Default: the process-wide clock. Runtimes that share a clock settle together. */
  clock?: Clock;
  logger?: Logger;
  /** Serve process routes over HTTP (`{ port: 5050 }`); off by default. */
  http?: HttpServerOptions;
  /** Heartbeat interval between linked runtimes (default `LINK_HEARTBEAT_INTERVAL_MS`). */
  linkHeartbeatIntervalMs?: number;
  /** Silence after which a linked runtime's processes count as exited (default `LINK_TIMEOUT_MS`). */
  linkTimeoutMs?: number;
}

/** How long `settle` waits for a peer runtime to answer a barrier before moving on. */
export const SETTLE_BARRIER_TIMEOUT_MS = 2_000;
/** Mailbox events one process handles before the next runnable process gets its turn. */
const FAIRNESS_QUANTUM = 64;
/** Wall time one drain may take before it yields to I/O (`setImmediate`). */
const DRAIN_BUDGET_MS = 10;

/**
 * Drains run as microtasks, right after the I/O or timer that brought work, until the runtimes
 * of this OS process have together drained for `DRAIN_BUDGET_MS` within one turn of the event
 * loop; then they wait for the next turn (`setImmediate`), so that timers and I/O are never
 * starved, even by two runtimes on the local bus that keep messaging each other.
 */
const slice = { start: -1, count: 0, over: false };

function scheduleDrain(drain: () => void): void {
  if (slice.over) {
    setImmediate(drain);
    return;
  }
  if (slice.start < 0) {
    slice.start = performance.now();
    setImmediate(() => {
      slice.start = -1;
      slice.over = false;
    });
  } else if ((++slice.count & 63) === 0 && performance.now() - slice.start > DRAIN_BUDGET_MS) {
    // Reading the time costs more than scheduling: look at it every 64 drains only.
    slice.over = true;
    setImmediate(drain);
    return;
  }
  queueMicrotask(drain);
}

/** Runtimes that share a clock, so that `settle` covers all of them (libprocess settles globally). */
const worlds = new WeakMap<Clock, Set<Runtime>>();
let nodeCounter = 0;

/**
 * The libprocess of this project: spawns processes, routes messages between their mailboxes
 * (directly within a node, through the transport between nodes), links them, and serves their
 * HTTP routes. One runtime per OS process is the deployment shape; tests run several in one.
 *
 * @example
 * const runtime = await Runtime.start({ node: 'm1' });
 * const pid = runtime.spawn(new Master(flags));
 * await runtime.settle();
 * await runtime.shutdown();
 */
export class Runtime implements TransportSink {
  readonly node: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics = new Metrics();
  readonly transport: Transport;
  /** A fresh id per start: peers use it to tell a restarted runtime from the one they knew. */
  readonly incarnation = randomUUID();
  readonly self: UPID;

  readonly #processes = new Map<string, Process>();
  readonly #runQueue: Process[] = [];
  #runHead = 0;
  #drainScheduled = false;
  #draining = false;
  readonly #waiters = new Map<string, (() => void)[]>();
  readonly #tracked = new Set<Promise<unknown>>();
  readonly #sentTo = new Set<string>();
  readonly #barriers = new Map<string, () => void>();
  #barrierSeq = 0;
  readonly #peers: PeerMonitor;
  readonly #options: RuntimeOptions;
  #http: HttpServer | undefined;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #ids = new Map<string, number>();
  #stopReconnects: (() => void) | undefined;
  readonly #authenticators = new Map<string, Authenticator>();
  /**
   * The realm of the runtime's own read-only routes (`/metrics/snapshot`, `/metrics`), as
   * libprocess's `readonlyAuthenticationRealm`: the master's (or the agent's) read-only realm,
   * set by whoever turns authentication on; none leaves them open.
   */
  readonlyRealm: string | undefined;

  readonly #sentRemote: Counter;
  readonly #receivedRemote: Counter;
  readonly #delivered: Counter;
  readonly #droppedUnknown: Counter;
  readonly #droppedUndeliverable: Counter;
  readonly #malformed: Counter;
  readonly #invalid: Counter;
  readonly #unhandled: Counter;
  readonly #handlerErrors: Counter;

  constructor(options: RuntimeOptions = {}) {
    this.#options = options;
    this.node = validateNode(options.node ?? defaultNodeName());
    this.self = new UPID(RUNTIME_ID, this.node);
    this.clock = options.clock ?? defaultClock;
    this.logger = (options.logger ?? defaultLogger()).child({ node: this.node });
    this.transport = options.transport ?? new LocalTransport();
    this.#peers = new PeerMonitor(
      {
        node: this.node,
        incarnation: this.incarnation,
        sendControl: (node, name, body) => this.#sendControl(node, name, body),
        hasProcess: (id) => this.#processes.get(id)?._state === 'running',
        exited: (linkerId, upid) => {
          const linker = this.#processes.get(linkerId);
          if (linker !== undefined) this.#deliverExited(linker, upid);
        },
        interrupted: (linkerId, upid) => {
          const linker = this.#processes.get(linkerId);
          if (linker !== undefined && linker._state === 'running') this.enqueue(linker, { k: CALL, a: () => linker.linkInterrupted(upid), b: undefined, c: undefined });
        },
        debug: (message, fields) => this.logger.debug(fields ?? {}, message),
      },
      options.linkHeartbeatIntervalMs ?? LINK_HEARTBEAT_INTERVAL_MS,
      options.linkTimeoutMs ?? LINK_TIMEOUT_MS,
    );
    const m = this.metrics;
    // Messages between processes on different nodes, each side counting its own; the runtime's
    // own control envelopes (links, heartbeats, barriers) are in neither.
    this.#sentRemote = m.counter('runtime/messages_sent_remote');
    this.#receivedRemote = m.counter('runtime/messages_received_remote');
    this.#delivered = m.counter('runtime/messages_delivered');
    this.#droppedUnknown = m.counter('runtime/messages_dropped_unknown_process');
    this.#droppedUndeliverable = m.counter('runtime/messages_dropped_undeliverable');
    this.#malformed = m.counter('runtime/messages_malformed');
    this.#invalid = m.counter('runtime/messages_invalid');
    this.#unhandled = m.counter('runtime/messages_unhandled');
    this.#handlerErrors = m.counter('runtime/handler_errors');
    m.gauge('runtime/processes', () => this.#processes.size);
    m.gauge('runtime/event_queue_messages', () => {
      let n = 0;
      for (const p of this.#processes.values()) n += p._mailbox.length;
      return n;
    });
  }

  /** Creates a runtime, attaches it to its transport and (if asked) starts its HTTP server. */
  static async start(options: RuntimeOptions = {}): Promise<Runtime> {
    const runtime = new Runtime(options);
    await runtime.start();
    return runtime;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`runtime '${this.node}' already started`);
    await this.transport.attach(this);
    this.#stopReconnects = this.transport.onReconnect?.(() => this.reconnected());
    let world = worlds.get(this.clock);
    if (world === undefined) {
      const members = new Set<Runtime>();
      worlds.set(this.clock, (world = members));
      this.clock.onAdvanceStep(() => {
        for (const runtime of members) runtime.#drainAll();
      });
    }
    world.add(this);
    this.#state = 'running';
    this.spawn(new MetricsProcess());
    if (this.#options.http !== undefined) {
      this.#http = new HttpServer(this, this.#options.http);
      await this.#http.listen();
    }
    this.logger.debug({ transport: this.transport.describe() }, 'Runtime started');
  }

  /**
   * Installs (or, given `undefined`, removes) the authenticator of `realm`: every route of that
   * realm then asks it first (libprocess's `http::authentication::setAuthenticator`).
   */
  setAuthenticator(realm: string, authenticator: Authenticator | undefined): void {
    if (authenticator === undefined) this.#authenticators.delete(realm);
    else this.#authenticators.set(realm, authenticator);
  }

  /** The authenticator of `realm`, if one is installed. */
  authenticator(realm: string): Authenticator | undefined {
    return this.#authenticators.get(realm);
  }

  /** The HTTP server, when it runs. */
  get httpServer(): HttpServer | undefined {
    return this.#http;
  }

  /** `host:port` of the HTTP server, when it runs. */
  get httpAddress(): { host: string; port: number } | undefined {
    return this.#http?.address;
  }

  /** Ids like libprocess's `ID::generate`: `slave(1)`, `slave(2)`, ... */
  generateId(prefix: string): string {
    const n = (this.#ids.get(prefix) ?? 0) + 1;
    this.#ids.set(prefix, n);
    return `${prefix}(${n})`;
  }

  /** Starts `process`; its `initialize` runs first in its mailbox. */
  spawn<P extends Process>(process: P): UPID {
    if (this.#state !== 'running') throw new Error(`runtime '${this.node}' is not running`);
    if (process._state !== 'created') throw new Error(`process '${process.id}' was spawned before`);
    if (this.#processes.has(process.id)) throw new Error(`a process '${process.id}' already runs on '${this.node}'`);
    process._runtime = this;
    process._self = new UPID(process.id, this.node);
    process._state = 'running';
    this.#processes.set(process.id, process);
    this.enqueue(process, { k: CALL, a: () => process.initialize(), b: undefined, c: undefined });
    return process._self;
  }

  /**
   * Terminates the process: `finalize` runs, its timers stop, what is left in its mailbox is
   * dropped, and everything linked to it gets `exited`. By default the termination jumps the
   * queue, as libprocess's `terminate(pid, inject = true)`.
   */
  terminate(upid: UPID | string, inject = true): void {
    const target = UPID.from(upid);
    if (target.node !== this.node) return;
    const process = this.#processes.get(target.id);
    if (process === undefined || process._state !== 'running') return;
    const event: MailboxEvent = { k: TERMINATE, a: undefined, b: undefined, c: undefined };
    if (inject) {
      process._mailbox.unshift(event);
      this.#schedule(process);
    } else {
      this.enqueue(process, event);
    }
  }

  /** Resolves once the process has terminated (at once if it does not run here). */
  wait(upid: UPID | string): Promise<void> {
    const target = UPID.from(upid);
    const process = this.#processes.get(target.id);
    if (target.node !== this.node || process === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#waiters.get(target.id) ?? [];
      list.push(resolve);
      this.#waiters.set(target.id, list);
    });
  }

  /** Runs `fn` inside the process's mailbox and resolves with its result (libprocess `dispatch`). */
  dispatch<T>(upid: UPID | string, fn: () => T | Promise<T>): Promise<T> {
    const target = UPID.from(upid);
    const process = target.node === this.node ? this.#processes.get(target.id) : undefined;
    if (process === undefined || process._state !== 'running') {
      return Promise.reject(new Error(`cannot dispatch to '${String(target)}': no such process`));
    }
    return new Promise<T>((resolve, reject) => {
      this.enqueue(process, { k: CALL, a: fn, b: resolve, c: reject });
    });
  }

  /** The live process with this id, for tests and in-process wiring. */
  process<P extends Process = Process>(id: string): P | undefined {
    const p = this.#processes.get(id);
    return p?._state === 'running' ? (p as P) : undefined;
  }

  /** Ids of the live processes. */
  processIds(): string[] {
    return [...this.#processes.keys()];
  }

  /** @internal Sends from a local process. */
  send(from: UPID, to: UPID, name: string, body: unknown): void {
    if (to.node === this.node) {
      this.#deliver(from, to, name, body);
      return;
    }
    this.#sentRemote.inc();
    this.#sentTo.add(to.node);
    if (!this.#forward(to.node, { from: String(from), to: String(to), name, body })) {
      this.#droppedUndeliverable.inc();
    }
  }

  /**
   * Routes envelopes for `node` through `send` instead of the transport: how an agent reaches
   * the executors it runs as child processes (over the agent's executor socket). `send` returns false
   * when the envelope cannot be delivered.
   */
  addGateway(node: string, send: (envelope: Envelope) => boolean): void {
    validateNode(node);
    if (this.#gateways.has(node)) throw new Error(`a gateway for node '${node}' already exists`);
    this.#gateways.set(node, send);
  }

  /** Closes a gateway; processes linked to processes behind it get `exited`, as on a `bye`. */
  removeGateway(node: string): void {
    if (!this.#gateways.delete(node)) return;
    this.peerGone(node);
  }

  /**
   * `node`'s runtime is gone, as this runtime's transport knows (its connection to it closed):
   * every link to its processes ends (`exited`), as on its `bye`, and what this runtime knew of
   * it is forgotten, so that a later runtime on the same node (a restart) starts afresh rather
   * than being taken for a restart of the old one, which would end the new links too.
   */
  peerGone(node: string): void {
    this.#peers.receive(node, 'bye', {});
  }

  readonly #gateways = new Map<string, (envelope: Envelope) => boolean>();

  #forward(node: string, envelope: Envelope): boolean {
    const gateway = this.#gateways.size === 0 ? undefined : this.#gateways.get(node);
    return gateway !== undefined ? gateway(envelope) : this.transport.send(node, envelope);
  }

  /** @internal The transport hands over an envelope from another node. */
  receive(envelope: Envelope): void {
    let from: UPID;
    let to: UPID;
    try {
      from = UPID.parse(envelope.from);
      to = UPID.parse(envelope.to);
    } catch (error) {
      this.malformed(`envelope has a bad address: ${(error as Error).message}`);
      return;
    }
    if (to.id === RUNTIME_ID) {
      // Control messages run after the current call stack: a local bus delivers synchronously,
      // and a reply must not re-enter the monitor that sent the request.
      this.#controlQueue.push([from.node, envelope.name, envelope.body]);
      if (this.#controlQueue.length === 1) queueMicrotask(this.#runControl);
      return;
    }
    if (to.node !== this.node) {
      this.malformed(`envelope 'to' is '${envelope.to}', not on node '${this.node}'`);
      return;
    }
    this.#receivedRemote.inc();
    this.#deliver(from, to, envelope.name, envelope.body);
  }

  /** @internal */
  malformed(reason: string): void {
    this.#malformed.inc();
    this.logger.warn({ reason }, 'Dropping malformed message from the bus');
  }

  /** @internal Links `linker` to `upid`. */
  link(linker: Process, upid: UPID): void {
    const key = String(upid);
    if (linker._links.has(key)) return;
    if (upid.node === this.node) {
      const target = this.#processes.get(upid.id);
      if (target === undefined || target._state !== 'running') {
        this.#deliverExited(linker, upid);
        return;
      }
      linker._links.add(key);
      target._linkers.add(linker.id);
    } else {
      linker._links.add(key);
      this.#peers.link(linker.id, upid);
    }
  }

  /**
   * Reports `exited(upid)` to every process linked to the local process `upid` and drops those
   * links, without terminating it: for a process that stands for a peer it reaches over a
   * connection of its own (the scheduler driver's HTTP connection to a master), whose
   * connection broke, as libprocess reports `exited` when the socket to a remote process
   * closes. Linking to it again makes a new link.
   */
  breakLinks(upid: UPID | string): void {
    const target = UPID.from(upid);
    const process = target.node === this.node ? this.#processes.get(target.id) : undefined;
    if (process === undefined) return;
    for (const linkerId of [...process._linkers]) {
      const linker = this.#processes.get(linkerId);
      if (linker !== undefined) this.#deliverExited(linker, process.self);
    }
    process._linkers.clear();
  }

  /**
   * @internal The transport's connection broke and came back: whatever crossed it meanwhile may
   * be lost. Every remote link of this runtime's processes is reported interrupted
   * (`Process.linkInterrupted`), here and at each peer (`PeerMonitor.reconnected`). Tests call
   * it to make a bus that cannot break (local) behave as if it had.
   */
  reconnected(): void {
    if (this.#state !== 'running') return;
    this.logger.info('Bus connection restored; links across it may have lost messages');
    this.#peers.reconnected();
  }

  /** @internal */
  unlink(linker: Process, upid: UPID): void {
    if (!linker._links.delete(String(upid))) return;
    if (upid.node === this.node) this.#processes.get(upid.id)?._linkers.delete(linker.id);
    else this.#peers.unlink(linker.id, upid);
  }

  /** Nodes this runtime heartbeats with because of links. */
  peers(): string[] {
    return this.#peers.peers();
  }

  /** @internal Puts an event into a process's mailbox and makes it runnable. */
  enqueue(process: Process, event: MailboxEvent): void {
    process._mailbox.push(event);
    this.#schedule(process);
  }

  /** @internal Runs `fn` in the process's mailbox unless it terminated. */
  enqueueIfAlive(process: Process, fn: () => void): void {
    if (process._state === 'running') this.enqueue(process, { k: CALL, a: fn, b: undefined, c: undefined });
  }

  /**
   * @internal Makes `settle` wait for `promise`. Its rejection is the business of whoever holds
   * it (a `dispatch` caller, an HTTP request): watching it must not leave one unhandled, which
   * would end the OS process (an async route handler that throws).
   */
  track(promise: Promise<unknown>): void {
    this.#tracked.add(promise);
    const untrack = (): void => void this.#tracked.delete(promise);
    void promise.then(untrack, untrack);
  }

  /**
   * Returns once nothing is left to do: every due timer has fired, every mailbox is empty, every
   * deferred promise has settled, and every message sent to another node has arrived there (a
   * barrier through the transport). Covers every runtime sharing this runtime's clock.
   */
  async settle(): Promise<void> {
    const world = [...(worlds.get(this.clock) ?? [this])];
    let quiet = 0;
    while (quiet < 2) {
      let busy = false;
      if (this.clock.fireDue() > 0) busy = true;
      for (const runtime of world) if (runtime.#drainAll() > 0) busy = true;
      const tracked = world.flatMap((runtime) => [...runtime.#tracked]);
      if (tracked.length > 0) {
        await Promise.allSettled(tracked);
        busy = true;
      }
      for (const runtime of world) {
        if (runtime.#sentTo.size === 0) continue;
        busy = true;
        const nodes = [...runtime.#sentTo];
        runtime.#sentTo.clear();
        await Promise.all(nodes.map((node) => runtime.#barrier(node)));
      }
      // Let I/O callbacks (bus deliveries, HTTP) and promise continuations in before concluding.
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = busy ? 0 : quiet + 1;
    }
  }

  /** Terminates every process, says goodbye to peers, closes the HTTP server and the transport. */
  async shutdown(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    // Called from inside a handler, let the current drain finish first, so every process's
    // `finalize` runs (and its peers hear `exited`) before the goodbye.
    if (this.#draining) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const process of [...this.#processes.values()]) this.terminate(process.self);
    this.#drainAll();
    this.#peers.shutdown();
    this.#stopReconnects?.();
    await this.#http?.close();
    await this.transport.detach();
    worlds.get(this.clock)?.delete(this);
    this.#state = 'stopped';
  }

  /**
   * Leaves the bus without a word, as a `kill -9` would: no `bye`, no `exited`. Only for tests
   * of failure detection.
   */
  async crash(): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopped';
    for (const process of this.#processes.values()) {
      process._state = 'terminated';
      for (const timer of [...process._timers]) timer.cancel();
    }
    this.#processes.clear();
    this.#peers.abandon();
    this.#stopReconnects?.();
    await this.#http?.close();
    await (this.transport.abandon?.() ?? this.transport.detach());
    worlds.get(this.clock)?.delete(this);
  }

  #deliver(from: UPID, to: UPID, name: string, body: unknown): void {
    if (filtering.active && shouldDrop({ kind: 'message', name, from, to, body })) return;
    const process = this.#processes.get(to.id);
    if (process === undefined || process._state !== 'running') {
      this.#droppedUnknown.inc();
      this.logger.debug({ from: String(from), to: String(to), name }, 'Dropping message for unknown process');
      return;
    }
    process._mailbox.push({ k: MESSAGE, a: name, b: from, c: body });
    this.#schedule(process);
  }

  #deliverExited(linker: Process, upid: UPID): void {
    if (linker._state !== 'running') return;
    linker._links.delete(String(upid));
    if (filtering.active && shouldDrop({ kind: 'exited', upid, to: linker.self })) return;
    this.enqueue(linker, { k: EXITED, a: undefined, b: upid, c: undefined });
  }

  #schedule(process: Process): void {
    if (!process._queued) {
      process._queued = true;
      this.#runQueue.push(process);
    }
    if (!this.#drainScheduled && !this.#draining) {
      this.#drainScheduled = true;
      scheduleDrain(this.#drainTick);
    }
  }

  readonly #drainTick = (): void => {
    this.#drainScheduled = false;
    if (this.#draining) return;
    this.#drain(DRAIN_BUDGET_MS);
  };

  /** Runs pending control messages and mailboxes until all are empty; returns how many events ran. */
  #drainAll(): number {
    if (this.#draining) return 0;
    const control = this.#controlQueue.length;
    if (control > 0) this.#runControl();
    return control + this.#drain(Infinity);
  }

  #drain(budgetMs: number): number {
    this.#draining = true;
    const started = budgetMs === Infinity ? 0 : performance.now();
    const queue = this.#runQueue;
    let ran = 0;
    let sinceCheck = 0;
    try {
      while (this.#runHead < queue.length) {
        const process = queue[this.#runHead++]!;
        let n = 0;
        while (n < FAIRNESS_QUANTUM && process._state === 'running') {
          const event = process._mailbox.shift();
          if (event === undefined) break;
          this.#run(process, event);
          n++;
        }
        ran += n;
        if (process._state === 'running' && process._mailbox.length > 0) queue.push(process);
        else process._queued = false;
        if (this.#runHead >= 4096 && this.#runHead * 2 > queue.length) {
          queue.splice(0, this.#runHead);
          this.#runHead = 0;
        }
        sinceCheck += n;
        if (sinceCheck >= 1024 && budgetMs !== Infinity) {
          sinceCheck = 0;
          if (performance.now() - started > budgetMs && this.#runHead < queue.length) {
            // Yield to I/O; the rest runs on the next turn of the event loop.
            this.#drainScheduled = true;
            setImmediate(this.#drainTick);
            break;
          }
        }
      }
      if (this.#runHead >= queue.length) {
        queue.length = 0;
        this.#runHead = 0;
      }
    } finally {
      this.#draining = false;
    }
    return ran;
  }

  #run(process: Process, event: MailboxEvent): void {
    switch (event.k) {
      case MESSAGE: {
        const name = event.a as string;
        const from = event.b as UPID;
        this.#delivered.inc();
        const installed = process._handlers.get(name);
        if (installed === undefined) {
          this.#unhandled.inc();
          this.logger.warn({ pid: String(process.self), from: String(from), name }, 'Dropping message with no handler');
          return;
        }
        let body = event.c;
        if (installed.validate !== undefined && from.node !== this.node) {
          try {
            body = installed.validate(body);
          } catch (error) {
            this.#invalid.inc();
            this.logger.warn(
              { pid: String(process.self), from: String(from), name, reason: (error as Error).message },
              'Dropping invalid message',
            );
            return;
          }
        }
        try {
          installed.handler.call(process, from, body);
        } catch (error) {
          this.#handlerFailed(process, `handler of '${name}'`, error);
        }
        return;
      }
      case CALL: {
        const resolve = event.b as ((value: unknown) => void) | undefined;
        try {
          const result = (event.a as () => unknown)();
          if (resolve !== undefined) {
            if (result instanceof Promise) this.track(result);
            resolve(result);
          }
        } catch (error) {
          const reject = event.c as ((error: unknown) => void) | undefined;
          if (reject !== undefined) reject(error);
          else this.#handlerFailed(process, 'deferred call', error);
        }
        return;
      }
      case EXITED:
        try {
          process.exited(event.b as UPID);
        } catch (error) {
          this.#handlerFailed(process, 'exited', error);
        }
        return;
      case TERMINATE:
        this.#finish(process);
        return;
    }
  }

  #handlerFailed(process: Process, where: string, error: unknown): void {
    this.#handlerErrors.inc();
    this.logger.error({ pid: String(process.self), err: error }, `Uncaught error in ${where}`);
  }

  #finish(process: Process): void {
    process._state = 'terminated';
    try {
      process.finalize();
    } catch (error) {
      this.#handlerFailed(process, 'finalize', error);
    }
    for (const timer of [...process._timers]) timer.cancel();
    for (const event of process._mailbox.drain()) {
      if (event.k === CALL && typeof event.c === 'function') {
        (event.c as (error: unknown) => void)(new Error(`process '${process.id}' terminated`));
      }
    }
    this.#processes.delete(process.id);
    const self = process.self;
    for (const linkerId of process._linkers) {
      const linker = this.#processes.get(linkerId);
      if (linker !== undefined) this.#deliverExited(linker, self);
    }
    process._linkers.clear();
    const remote: UPID[] = [];
    for (const key of process._links) {
      const upid = UPID.parse(key);
      if (upid.node === this.node) this.#processes.get(upid.id)?._linkers.delete(process.id);
      else remote.push(upid);
    }
    process._links.clear();
    this.#peers.terminated(process.id, remote);
    for (const resolve of this.#waiters.get(process.id) ?? []) resolve();
    this.#waiters.delete(process.id);
  }

  #sendControl(node: string, name: string, body: Record<string, unknown>): void {
    // Link state changes (`exited`, `bye`, ...) are part of what `settle` waits for; heartbeats
    // and barriers are not (they would keep it busy forever).
    if (name !== 'heartbeat' && name !== 'barrier_ack') this.#sentTo.add(node);
    this.#forward(node, { from: String(this.self), to: `${RUNTIME_ID}@${node}`, name, body });
  }

  readonly #controlQueue: [string, string, unknown][] = [];

  readonly #runControl = (): void => {
    for (let i = 0; i < this.#controlQueue.length; i++) {
      const [node, name, body] = this.#controlQueue[i]!;
      this.#control(node, name, body);
    }
    this.#controlQueue.length = 0;
  };

  #control(node: string, name: string, body: unknown): void {
    if (body === null || typeof body !== 'object') {
      this.malformed(`control message '${name}' from '${node}' has a non-object body`);
      return;
    }
    const fields = body as Record<string, unknown>;
    if (name === 'barrier') {
      this.#sendControl(node, 'barrier_ack', { token: fields.token });
      return;
    }
    if (name === 'barrier_ack') {
      const token = String(fields.token);
      this.#barriers.get(token)?.();
      this.#barriers.delete(token);
      return;
    }
    this.#peers.receive(node, name, fields);
  }

  /** Resolves when `node` has received everything sent to it before (or after a wall-clock bound). */
  #barrier(node: string): Promise<void> {
    const token = `${this.incarnation}:${++this.#barrierSeq}`;
    return new Promise<void>((resolve) => {
      this.#barriers.set(token, resolve);
      if (!this.#forward(node, { from: String(this.self), to: `${RUNTIME_ID}@${node}`, name: 'barrier', body: { token } })) {
        this.#barriers.delete(token);
        resolve();
        return;
      }
      void wallClockDelay(SETTLE_BARRIER_TIMEOUT_MS).then(() => {
        if (this.#barriers.delete(token)) resolve();
      });
    });
  }
}

function defaultNodeName(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-') || 'node';
  nodeCounter++;
  return nodeCounter === 1 ? `${host}-${process.pid}` : `${host}-${process.pid}-${nodeCounter}`;
}
