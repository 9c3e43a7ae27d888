import { jetstream, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import type { Logger } from 'pino';
import { wallClockNow, wallClockTimer, type Timer } from '../../src/process/clock.ts';
import type { NatsTransport } from '../../src/transport/nats.ts';
import { LEADER_KEY, LEADER_LEASE_MS } from './constants.ts';
import { parseLeaderInfo, type LeaderInfo } from './detector.ts';

/**
 * Leader election among masters, as Mesos's `MasterContender` (there on ZooKeeper, here on a
 * NATS JetStream key-value bucket):
 *
 * 1. The bucket (`leaderBucket`: `<prefix>_leader`) has a TTL, the lease: a value not written
 *    again within it is gone. Its key `leader` holds the leading master's `LeaderInfo` (JSON),
 *    what `announceLeader` serves.
 * 2. Contending is `create`, which succeeds only while the key is absent: one master wins.
 * 3. The leader renews every lease/3 with `update` at the revision it last wrote (compare and
 *    set). A renewal refused (another master wrote the key: ours had expired) or none that
 *    succeeded for a whole lease (the bus is gone, and so, soon, is our key) is leadership lost,
 *    reported once; the master then exits, as Mesos's does ("Lost leadership... committing
 *    suicide!"). The deadline counts from when the last good renewal was sent, so it passes no
 *    later than the key expires on the server.
 * 4. A standby reads the key every lease/3, reporting who leads, and contends once it is gone.
 *    It reads rather than only watches: the bucket's TTL expiry produces no watch event. It
 *    watches too, to contend at once when a leader resigns.
 * 5. A leader that stops cleanly deletes the key if it still holds it (`resign`, a delete at
 *    its revision), so that a standby takes over within lease/3 rather than a whole lease.
 *
 * Its timers follow the wall clock, like the link heartbeats: the lease runs in real time on
 * the server, whatever a test does with the runtime `Clock`.
 */

/** What a contender tells its master, in order. */
export type ElectionEvent =
  /** This master leads now. */
  | { readonly type: 'elected' }
  /** Another master leads (`undefined`: one holds the key, but its value is unreadable). */
  | { readonly type: 'following'; readonly leader: LeaderInfo | undefined }
  /** This master led and no longer does; reported once, and the contender stops. */
  | { readonly type: 'lost'; readonly reason: string };

export interface MasterContender {
  /** Starts contending as `candidate`; `listener` hears each change of who leads. Once only. */
  contend(candidate: LeaderInfo, listener: (event: ElectionEvent) => void): void;
  /** Stops contending; a leader gives the lead up at once (its key deleted) rather than let its lease run out. */
  resign(): Promise<void>;
  /** For logs: the bucket and the lease. */
  describe(): string;
}

export interface NatsMasterContenderOptions {
  /** The lease, and the bucket's TTL when this contender creates it (default `LEADER_LEASE_MS`). */
  leaseMs?: number;
  logger?: Logger;
}

/**
 * The election bucket of a bus prefix: bucket names allow `[A-Za-z0-9_-]` only, so anything
 * else in the prefix becomes `_`.
 *
 * @example
 * leaderBucket('mesos'); // 'mesos_leader'
 * leaderBucket('prod.eu'); // 'prod_eu_leader'
 */
export function leaderBucket(prefix: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_leader`;
}

/**
 * Contends through the JetStream KV bucket of the transport's prefix. The transport must be
 * attached (its runtime started), and the server must run JetStream.
 *
 * @example
 * const contender = new NatsMasterContender(transport, { leaseMs: 10_000 });
 * contender.contend(info, (event) => console.log(event.type)); // 'elected' or 'following'
 * // ... on shutdown:
 * await contender.resign();
 */
export class NatsMasterContender implements MasterContender {
  readonly #transport: NatsTransport;
  readonly #logger: Logger | undefined;
  /** The lease timed by: ours, or the TTL of a bucket that existed with another. */
  #leaseMs: number;
  #kv: KV | undefined;
  #value = '';
  #candidate: LeaderInfo | undefined;
  #listener: ((event: ElectionEvent) => void) | undefined;
  /** The revision of our key, while this contender leads. */
  #revision: number | undefined;
  /** Passes a lease after the last good renewal was sent: leadership lost. */
  #deadline: Timer | undefined;
  #next: Timer | undefined;
  /** A round (a read, a contention or a renewal) in flight; rounds never overlap. */
  #round: Promise<void> | undefined;
  /** Another round is due as soon as the one in flight ends. */
  #again = false;
  #stopped = false;
  #watcher: { stop(): void } | undefined;
  /** `pid id` of the leader last reported while following ('' for an unreadable one). */
  #following: string | undefined;
  #unreachable = false;

  constructor(transport: NatsTransport, options: NatsMasterContenderOptions = {}) {
    this.#transport = transport;
    this.#logger = options.logger;
    this.#leaseMs = options.leaseMs ?? LEADER_LEASE_MS;
  }

  get bucket(): string {
    return leaderBucket(this.#transport.prefix);
  }

  /** The lease in force: the bucket's TTL once it is open. */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** Whether this contender holds the lead. */
  get leading(): boolean {
    return this.#revision !== undefined;
  }

  contend(candidate: LeaderInfo, listener: (event: ElectionEvent) => void): void {
    if (this.#listener !== undefined) throw new Error(`already contending in bucket '${this.bucket}'`);
    this.#candidate = candidate;
    this.#value = JSON.stringify(candidate);
    this.#listener = listener;
    this.#schedule(0);
  }

  async resign(): Promise<void> {
    this.#stop();
    // A round in flight may yet win or renew the key: wait for it, so that the key deleted is ours at its last revision.
    await this.#round;
    const revision = this.#revision;
    this.#revision = undefined;
    if (revision === undefined || this.#kv === undefined) return;
    try {
      await this.#kv.delete(LEADER_KEY, { previousSeq: revision });
      this.#logger?.info({ bucket: this.bucket }, 'Resigned leadership');
    } catch (error) {
      // Another master holds it already, or the bus is down: the lease runs out by itself.
      this.#logger?.warn({ bucket: this.bucket, reason: (error as Error).message }, 'Could not give the leader key up; it expires with the lease');
    }
  }

  describe(): string {
    return `NATS KV bucket '${this.bucket}', key '${LEADER_KEY}', lease ${this.#leaseMs} ms`;
  }

  #emit(event: ElectionEvent): void {
    if (!this.#stopped || event.type === 'lost') this.#listener?.(event);
  }

  #stop(): void {
    this.#stopped = true;
    this.#next?.cancel();
    this.#next = undefined;
    this.#deadline?.cancel();
    this.#deadline = undefined;
    this.#watcher?.stop();
    this.#watcher = undefined;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#next?.cancel();
    this.#next = wallClockTimer(ms, () => {
      this.#next = undefined;
      this.#run();
    });
  }

  #run(): void {
    if (this.#round !== undefined) {
      this.#again = true;
      return;
    }
    this.#again = false;
    this.#round = this.#step()
      .catch((error: unknown) => this.#logger?.error({ err: error, bucket: this.bucket }, 'Leader election round failed'))
      .finally(() => {
        this.#round = undefined;
        this.#schedule(this.#again ? 0 : this.#leaseMs / 3);
      });
  }

  /** One round: a leader renews; a standby reads who leads and contends if nobody does. */
  async #step(): Promise<void> {
    let kv: KV;
    let key: KvEntry | null = null;
    try {
      kv = await this.#open();
      if (this.#revision !== undefined) {
        await this.#renew(kv);
        return;
      }
      key = await kv.get(LEADER_KEY);
    } catch (error) {
      this.#unreachableBus(error);
      return;
    }
    this.#unreachable = false;
    if (key !== null && key.operation === 'PUT') await this.#follow(kv, key);
    else await this.#contend(kv);
  }

  /** Opens (creating) the bucket, once; a bucket made with another TTL is used with its TTL. */
  async #open(): Promise<KV> {
    if (this.#kv !== undefined) return this.#kv;
    const nc = this.#transport.connection;
    if (nc === undefined) throw new Error(`cannot open bucket '${this.bucket}': the NATS transport is not attached`);
    // A JetStream request waits at most a lease: a round never outlasts the deadline by much.
    const kv = await new Kvm(jetstream(nc, { timeout: this.#leaseMs })).create(this.bucket, { ttl: this.#leaseMs, history: 1 });
    const ttl = (await kv.status()).ttl;
    if (ttl !== this.#leaseMs) {
      // Its TTL is what expires a dead leader's key: renewing on another period could let ours
      // expire while we lead (a shorter TTL), so it is the lease from now on.
      this.#logger?.warn(
        { bucket: this.bucket, bucketTtlMs: ttl, leaseMs: this.#leaseMs },
        ttl > 0
          ? `The leader bucket exists with a TTL of ${ttl} ms, not the lease of ${this.#leaseMs} ms: using its TTL as the lease`
          : `The leader bucket exists without a TTL, not the lease of ${this.#leaseMs} ms: a leader that dies keeps the lead until its key is deleted`,
      );
      if (ttl > 0) this.#leaseMs = ttl;
    }
    this.#kv = kv;
    void this.#watch(kv);
    return kv;
  }

  /** A standby contends at once when the key changes (a leader resigned); its reads do the rest. */
  async #watch(kv: KV): Promise<void> {
    try {
      const watcher = await kv.watch({ key: LEADER_KEY, include: KvWatchInclude.UpdatesOnly });
      if (this.#stopped) {
        watcher.stop();
        return;
      }
      this.#watcher = watcher;
      for await (const entry of watcher) {
        if (this.#revision === undefined && entry.operation !== 'PUT') this.#schedule(0);
      }
    } catch (error) {
      this.#logger?.debug({ bucket: this.bucket, reason: (error as Error).message }, 'Not watching the leader key; reading it every lease/3 only');
    }
  }

  /** Someone holds the key: report who, unless it is us (our `create` answer was lost), then take it back. */
  async #follow(kv: KV, key: KvEntry): Promise<void> {
    let leader: LeaderInfo | undefined;
    try {
      leader = parseLeaderInfo(key.string());
    } catch (error) {
      this.#logger?.warn({ bucket: this.bucket, reason: (error as Error).message }, 'The leader key holds no LeaderInfo');
    }
    const candidate = this.#candidate!;
    if (leader !== undefined && leader.pid === candidate.pid && leader.id === candidate.id) {
      await this.#reclaim(kv, key.revision);
      return;
    }
    const who = leader === undefined ? '' : `${leader.pid} ${leader.id}`;
    if (who === this.#following) return;
    this.#following = who;
    this.#emit({ type: 'following', leader });
  }

  /** Nobody holds the key: create it. Losing the race to another master is not an error. */
  async #contend(kv: KV): Promise<void> {
    const sentAt = wallClockNow();
    let revision: number;
    try {
      revision = await kv.create(LEADER_KEY, this.#value);
    } catch (error) {
      if (refused(error)) {
        this.#again = true; // Read who won.
        return;
      }
      this.#unreachableBus(error);
      return;
    }
    this.#elected(revision, sentAt);
  }

  /**
   * Our `create` reached the server but its answer did not reach us (a timeout): the key is
   * ours at `revision`. Writing it again at that revision tells when our lease runs from.
   */
  async #reclaim(kv: KV, revision: number): Promise<void> {
    const sentAt = wallClockNow();
    let renewed: number;
    try {
      renewed = await kv.update(LEADER_KEY, this.#value, revision);
    } catch (error) {
      this.#again = true; // Whoever holds it now, the next read tells.
      this.#logger?.debug({ bucket: this.bucket, reason: (error as Error).message }, 'Could not take back the leader key');
      return;
    }
    this.#elected(renewed, sentAt);
  }

  /** The key is ours at `revision`, written at `sentAt`. */
  #elected(revision: number, sentAt: number): void {
    this.#revision = revision;
    this.#following = undefined;
    this.#renewed(sentAt);
    this.#emit({ type: 'elected' });
  }

  /** The leader writes its key again at its revision; refused means another master holds it. */
  async #renew(kv: KV): Promise<void> {
    const sentAt = wallClockNow();
    try {
      const revision = await kv.update(LEADER_KEY, this.#value, this.#revision!);
      if (this.#revision === undefined) return; // The deadline passed meanwhile.
      this.#revision = revision;
      this.#renewed(sentAt);
    } catch (error) {
      if (refused(error)) this.#lose(`another master holds the leader key: ${(error as Error).message}`);
      else this.#logger?.warn({ bucket: this.bucket, reason: (error as Error).message }, 'Failed to renew the leader lease');
    }
  }

  /** A renewal sent at `sentAt` succeeded: the lead is ours until a lease after it. */
  #renewed(sentAt: number): void {
    this.#deadline?.cancel();
    const leaseMs = this.#leaseMs;
    this.#deadline = wallClockTimer(Math.max(0, sentAt + leaseMs - wallClockNow()), () => {
      this.#deadline = undefined;
      this.#lose(`no renewal of the leader lease succeeded for ${leaseMs} ms`);
    });
  }

  #lose(reason: string): void {
    if (this.#revision === undefined) return;
    this.#revision = undefined;
    this.#stop();
    this.#emit({ type: 'lost', reason });
  }

  /** The bus or JetStream did not answer a standby: logged once per outage, and tried again next round. */
  #unreachableBus(error: unknown): void {
    if (this.#unreachable) return;
    this.#unreachable = true;
    this.#logger?.warn({ bucket: this.bucket, reason: (error as Error).message }, 'Cannot reach the leader bucket; trying again');
  }
}

/** A compare-and-set refused: the key was not at the revision given (or not absent, for `create`). */
function refused(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}
