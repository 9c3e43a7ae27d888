import type { Logger } from 'pino';
import { wallClockTimer } from '../../src/process/clock.ts';
import { UPID } from '../../src/process/upid.ts';
import type { NatsTransport } from '../../src/transport/nats.ts';
import {
  DETECT_REQUEST_TIMEOUT_MS,
  DETECT_RETRY_INITIAL_MS,
  DETECT_RETRY_MAX_MS,
  LEADER_INFO_SUBJECT,
  LEADER_STATE_SUBJECT,
} from './constants.ts';
import { DetectionAbortedError, LeaderNotFoundError } from './errors.ts';

/**
 * Master discovery, as Mesos's `MasterDetector`: who is the leading master right now?
 *
 * 1. `StandaloneMasterDetector` knows one master from the start (`--master master@node`).
 * 2. `NatsMasterDetector` asks the bus: the leading master answers request-reply on
 *    `<prefix>.leader.info` with its `LeaderInfo` (see `leader.ts`). While nobody answers (no
 *    master yet, the bus down) it retries with a bounded backoff, so an agent or a framework may
 *    start before its master.
 *
 * Agents and scheduler drivers ask again when they lose their master, and so follow a master
 * that restarted under a new address.
 */

/** What the leading master tells who asks: enough to reach it on the bus and over HTTP. */
export interface LeaderInfo {
  /** The master's UPID, `master@node`. */
  readonly pid: string;
  /** `MasterInfo.id`. */
  readonly id: string;
  readonly hostname: string;
  /** `http://host:port` of its endpoints, when it serves HTTP. */
  readonly url?: string;
  readonly version?: string;
}

export interface MasterDetector {
  /**
   * Resolves with the leading master's UPID, waiting as long as it takes for one to be known.
   * Rejects only with `DetectionAbortedError` when `signal` aborts.
   */
  detect(signal?: AbortSignal): Promise<UPID>;
  /** For logs: `master@m1`, `nats nats://h:4222 (mesos.leader.info)`. */
  describe(): string;
}

/** A detector that always names the same master. */
export class StandaloneMasterDetector implements MasterDetector {
  readonly master: UPID;

  constructor(master: UPID | string) {
    this.master = UPID.from(master);
  }

  detect(signal?: AbortSignal): Promise<UPID> {
    if (signal?.aborted === true) return Promise.reject(new DetectionAbortedError('master detection aborted'));
    return Promise.resolve(this.master);
  }

  describe(): string {
    return String(this.master);
  }
}

export interface NatsMasterDetectorOptions {
  logger?: Logger;
  requestTimeoutMs?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/**
 * Finds the leading master on a NATS bus. The transport must be attached (its runtime started).
 *
 * @example
 * const transport = new NatsTransport({ servers: 'nats://127.0.0.1:4222' });
 * const runtime = await Runtime.start({ transport });
 * const master = await new NatsMasterDetector(transport).detect(); // master@m1
 */
export class NatsMasterDetector implements MasterDetector {
  readonly #transport: NatsTransport;
  readonly #logger: Logger | undefined;
  readonly #requestTimeoutMs: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;

  constructor(transport: NatsTransport, options: NatsMasterDetectorOptions = {}) {
    this.#transport = transport;
    this.#logger = options.logger;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DETECT_REQUEST_TIMEOUT_MS;
    this.#retryInitialMs = options.retryInitialMs ?? DETECT_RETRY_INITIAL_MS;
    this.#retryMaxMs = options.retryMaxMs ?? DETECT_RETRY_MAX_MS;
  }

  get subject(): string {
    return `${this.#transport.prefix}.${LEADER_INFO_SUBJECT}`;
  }

  /** One question to the bus; throws `LeaderNotFoundError` when no valid answer comes. */
  async info(): Promise<LeaderInfo> {
    let text: string;
    try {
      text = await this.#transport.request(this.subject, '', this.#requestTimeoutMs);
    } catch (error) {
      throw new LeaderNotFoundError(`no leading master answered on '${this.subject}': ${(error as Error).message}`, { cause: error });
    }
    return parseLeaderInfo(text);
  }

  /** The leader's `/master/state`, asked over the bus. */
  async state(timeoutMs = this.#requestTimeoutMs * 5): Promise<unknown> {
    const subject = `${this.#transport.prefix}.${LEADER_STATE_SUBJECT}`;
    let text: string;
    try {
      text = await this.#transport.request(subject, '', timeoutMs);
    } catch (error) {
      throw new LeaderNotFoundError(`no leading master answered on '${subject}': ${(error as Error).message}`, { cause: error });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new LeaderNotFoundError(`the leading master's state is not JSON: ${(error as Error).message}`);
    }
  }

  async detect(signal?: AbortSignal): Promise<UPID> {
    let waitMs = this.#retryInitialMs;
    let logged = false;
    for (;;) {
      if (signal?.aborted === true) throw new DetectionAbortedError('master detection aborted');
      try {
        const info = await this.info();
        if (logged) this.#logger?.info({ master: info.pid }, 'Detected a leading master');
        return UPID.parse(info.pid);
      } catch (error) {
        if (!logged) {
          this.#logger?.info({ subject: this.subject, reason: (error as Error).message }, 'Waiting for a leading master');
          logged = true;
        }
      }
      await abortableWait(waitMs, signal);
      waitMs = Math.min(waitMs * 2, this.#retryMaxMs);
    }
  }

  describe(): string {
    return `${this.#transport.describe()} → ${this.subject}`;
  }
}

/** Checks a `leader.info` answer; throws `LeaderNotFoundError` naming the bad field. */
export function parseLeaderInfo(text: string): LeaderInfo {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LeaderNotFoundError(`leader info is not JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object') throw new LeaderNotFoundError('leader info must be an object');
  const info = value as Record<string, unknown>;
  if (typeof info.pid !== 'string' || UPID.tryParse(info.pid) === undefined) {
    throw new LeaderNotFoundError(`leader info field 'pid' must be a UPID, got ${JSON.stringify(info.pid)}`);
  }
  if (typeof info.id !== 'string') throw new LeaderNotFoundError(`leader info field 'id' must be a string, got ${JSON.stringify(info.id)}`);
  return info as unknown as LeaderInfo;
}

/**
 * Waits on the wall clock: discovery is bus I/O, like the link heartbeats, and must go on in
 * real time whatever a test does with the runtime `Clock`.
 */
function abortableWait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(new DetectionAbortedError('master detection aborted'));
    };
    const timer = wallClockTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
