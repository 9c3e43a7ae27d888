import type { Logger } from 'pino';
import type { Counter, Metrics } from '../metrics/metrics.ts';
import type { HttpRequest, HttpResponse } from '../http/types.ts';
import type { Clock, Timer } from './clock.ts';
import { Queue } from './mailbox.ts';
import type { Runtime } from './runtime.ts';
import { UPID } from './upid.ts';

/** A message handler: runs to completion inside its process's mailbox. */
export type Handler<B = unknown> = (from: UPID, body: B) => void;

/** Checks a body arriving from another node; returns it typed, or throws naming the field. */
export type Validator<B> = (body: unknown) => B;

/** An HTTP route handler; like a message handler it runs inside the process's mailbox. */
export type RouteHandler = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** @internal What a mailbox holds. One shape for every kind keeps the drain loop monomorphic. */
export interface MailboxEvent {
  /** 0 message, 1 call, 2 exited, 3 terminate. */
  k: number;
  /** Message name, or the function of a call. */
  a: unknown;
  /** Sender of a message, the exited process, or the resolver of a call. */
  b: unknown;
  /** Message body, or the rejecter of a call. */
  c: unknown;
}

export const MESSAGE = 0;
export const CALL = 1;
export const EXITED = 2;
export const TERMINATE = 3;

interface Installed {
  handler: Handler<any>;
  validate: Validator<unknown> | undefined;
}

/**
 * An actor, as libprocess's `ProcessBase`: an address, one mailbox, and handlers that never
 * interleave. Subclasses install every handler in their constructor, in one block.
 *
 * @example
 * class Pinger extends Process {
 *   constructor(private readonly peer: UPID) {
 *     super('pinger');
 *     this.install('pong', (from) => this.send(from, 'ping', {}));
 *   }
 *   override initialize(): void {
 *     this.send(this.peer, 'ping', {});
 *   }
 * }
 */
export abstract class Process {
  /** @internal */ _runtime: Runtime | undefined;
  /** @internal */ _self: UPID | undefined;
  /** @internal */ readonly _mailbox = new Queue<MailboxEvent>();
  /** @internal Whether it sits in the runtime's run queue. */ _queued = false;
  /** @internal created → running → terminated. */ _state: 'created' | 'running' | 'terminated' = 'created';
  /** @internal Ids of processes in this runtime linked to this one. */ readonly _linkers = new Set<string>();
  /** @internal */ readonly _timers = new Set<Timer>();
  /** @internal */ readonly _handlers = new Map<string, Installed>();
  /** @internal */ readonly _routes = new Map<string, RouteHandler>();
  /** @internal What this process linked to (`id@node`). */ readonly _links = new Set<string>();
  #log: Logger | undefined;

  /** `id` is the process's name in its runtime, unique there (`master`, `slave(1)`). */
  constructor(readonly id: string) {
    new UPID(id, 'check'); // Throws MalformedUPIDError naming a bad id.
  }

  /** Called once, inside the mailbox, before any message. */
  initialize(): void {}

  /** Called once when the process terminates, inside the mailbox. */
  finalize(): void {}

  /** Called when a linked process terminates, or its runtime exits or stops answering. */
  exited(_upid: UPID): void {}

  /**
   * Called when the link to `upid` still stands but messages between the two may have been lost:
   * the bus connection of this node or of `upid`'s broke and came back (see `PeerMonitor`).
   * A process that keeps state with a peer resynchronizes here; by default nothing happens.
   */
  linkInterrupted(_upid: UPID): void {}

  get self(): UPID {
    if (this._self === undefined) throw new Error(`process '${this.id}' is not spawned`);
    return this._self;
  }

  get runtime(): Runtime {
    if (this._runtime === undefined) throw new Error(`process '${this.id}' is not spawned`);
    return this._runtime;
  }

  get clock(): Clock {
    return this.runtime.clock;
  }

  get metrics(): Metrics {
    return this.runtime.metrics;
  }

  /** The runtime's logger with this process's address bound as `pid`. */
  get log(): Logger {
    this.#log ??= this.runtime.logger.child({ pid: String(this.self) });
    return this.#log;
  }

  /** Whether the process is spawned and not terminated. */
  get alive(): boolean {
    return this._state === 'running';
  }

  /**
   * Installs the handler of message `name`. Bodies from other nodes go through `validate`
   * first; one that fails is dropped with a warning and counted in `<id>/invalid_messages`.
   */
  protected install<B>(name: string, handler: Handler<B>, validate?: Validator<B>): void {
    if (this._handlers.has(name)) throw new Error(`process '${this.id}' already handles '${name}'`);
    this._handlers.set(name, { handler, validate });
  }

  /** Sends `body` to `to`: at most once, in order per sender and receiver. Never throws for a missing peer. */
  send(to: UPID | string, name: string, body: unknown = {}): void {
    this.runtime.send(this.self, typeof to === 'string' ? UPID.parse(to) : to, name, body);
  }

  /** Runs `fn` inside this mailbox after `ms` of clock time. The timer dies with the process. */
  protected delay(ms: number, fn: () => void): Timer {
    const runtime = this.runtime;
    const timers = this._timers;
    const inner = runtime.clock.setTimer(ms, () => {
      timers.delete(handle);
      if (this._state === 'running') runtime.enqueue(this, { k: CALL, a: fn, b: undefined, c: undefined });
    });
    const handle: Timer = {
      due: inner.due,
      cancel: () => {
        timers.delete(handle);
        inner.cancel();
      },
    };
    timers.add(handle);
    return handle;
  }

  /**
   * Continues in this mailbox once `promise` settles: `onValue` with its value, or `onError`
   * (default: log it). Nothing runs if the process terminated meanwhile. `settle()` waits for it.
   */
  protected defer<T>(promise: Promise<T>, onValue: (value: T) => void, onError?: (error: unknown) => void): void {
    this.runtime.track(
      promise.then(
        (value) => this.runtime.enqueueIfAlive(this, () => onValue(value)),
        (error: unknown) =>
          this.runtime.enqueueIfAlive(this, () => {
            if (onError !== undefined) onError(error);
            else this.log.error({ err: error }, 'Deferred operation failed');
          }),
      ),
    );
  }

  /** Watches `upid`: `exited(upid)` runs when it terminates, or its node exits or goes silent. */
  protected link(upid: UPID | string): void {
    this.runtime.link(this, UPID.from(upid));
  }

  protected unlink(upid: UPID | string): void {
    this.runtime.unlink(this, UPID.from(upid));
  }

  /**
   * Serves `handler` at `/<id><path>` on the runtime's HTTP server (`/master/state`). With a
   * `realm` (a name, or a function that names it when a request comes, for processes spawned
   * before the realm is chosen), a request must first pass the runtime's authenticator for that
   * realm, if it has one (`Runtime.setAuthenticator`), as libprocess's
   * `route(name, realm, help, handler)`; the handler then sees its `principal`.
   */
  protected route(path: string, handler: RouteHandler, realm?: string | (() => string | undefined)): void {
    const normalized = path === '/' ? '' : path;
    if (normalized !== '' && !normalized.startsWith('/')) throw new Error(`route '${path}' must start with '/'`);
    if (realm === undefined) {
      this._routes.set(normalized, handler);
      return;
    }
    this._routes.set(normalized, (request) => {
      const named = typeof realm === 'function' ? realm() : realm;
      const authenticator = named === undefined ? undefined : this._runtime?.authenticator(named);
      if (authenticator === undefined) return handler(request);
      const result = authenticator.authenticate(request);
      if ('response' in result) return result.response;
      return handler({ ...request, principal: result.principal });
    });
  }

  /** A counter named `<id>/<name>` in the runtime's metrics. */
  protected counter(name: string): Counter {
    return this.metrics.counter(`${this.id}/${name}`);
  }

  /**
   * The clock adapter for `createActor(machine, { clock: this.machineClock })`: delayed
   * transitions follow the runtime Clock and run inside this mailbox.
   */
  protected get machineClock(): { setTimeout: (fn: (...args: unknown[]) => void, ms: number) => unknown; clearTimeout: (id: unknown) => void } {
    return {
      setTimeout: (fn, ms) => this.delay(ms, fn as () => void),
      clearTimeout: (id) => {
        if (id !== null && typeof id === 'object' && 'cancel' in id) (id as Timer).cancel();
      },
    };
  }
}
