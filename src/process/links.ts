import { wallClockNow, wallClockTimer, type Timer } from './clock.ts';
import { UPID } from './upid.ts';

/** The id every runtime answers control messages at: `__runtime__@<node>`. */
export const RUNTIME_ID = '__runtime__';
/** How often linked runtimes tell each other they are alive. */
export const LINK_HEARTBEAT_INTERVAL_MS = 1_000;
/** How long a linked runtime may stay silent before its processes count as exited. */
export const LINK_TIMEOUT_MS = 5_000;

/** What the monitor needs from its runtime. */
export interface PeerHost {
  readonly node: string;
  readonly incarnation: string;
  /** Sends a control message to `__runtime__@node`. */
  sendControl(node: string, name: string, body: Record<string, unknown>): void;
  /** Whether a live process with this id runs here. */
  hasProcess(id: string): boolean;
  /** Reports to local process `linkerId` that `upid` exited. */
  exited(linkerId: string, upid: UPID): void;
  /** Reports to local process `linkerId` that messages to or from `upid` may have been lost. */
  interrupted(linkerId: string, upid: UPID): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

interface Peer {
  readonly node: string;
  /** The peer runtime's incarnation, once heard; a new one means it restarted. */
  incarnation: string | undefined;
  lastSeen: number;
  /** Its processes we link to: remote id → ids of the local processes that linked. */
  readonly targets: Map<string, Set<string>>;
  /** Our processes it links to. */
  readonly watching: Set<string>;
}

/**
 * Remote links, as libprocess's socket-based `link`/`exited`, over any transport.
 *
 * When a process links to one on another node, the two runtimes become peers: the linker's
 * runtime sends `link`, the other answers `linked` (or `exited` if no such process runs), and
 * both heartbeat each other every `intervalMs`. The linked process's `exited` hook runs when
 * 1. the remote process terminates (`exited` from its runtime),
 * 2. its runtime shuts down (`bye`, immediate),
 * 3. its runtime restarts (a different incarnation answers), or
 * 4. its runtime is silent for `timeoutMs` (killed, partitioned, or never there).
 *
 * A link can also be interrupted without ending: the bus connection of one of the two runtimes
 * broke and came back (NATS reconnects within the link timeout), and what was sent meanwhile may
 * be lost, which a TCP socket never does without closing. The runtime whose connection came back
 * calls `reconnected()`: its processes' links to remote processes are reported interrupted, and
 * every peer hears `reconnected` and reports its own processes' links to this runtime's
 * processes interrupted. The link stands (no `exited`); the linker resynchronizes (a scheduler
 * driver subscribes again, an agent re-registers), as a Mesos driver or agent does after its
 * socket to the master breaks.
 *
 * Heartbeats and silence follow the wall clock, not the runtime `Clock`: a peer's heartbeats
 * come on its own time, so a paused or jumping test Clock must not make a live peer look dead
 * (libprocess learns of a broken link from its socket, in real time too).
 */
export class PeerMonitor {
  readonly #peers = new Map<string, Peer>();
  #timer: Timer | undefined;

  constructor(
    private readonly host: PeerHost,
    readonly intervalMs = LINK_HEARTBEAT_INTERVAL_MS,
    readonly timeoutMs = LINK_TIMEOUT_MS,
  ) {}

  link(linkerId: string, upid: UPID): void {
    const peer = this.#peer(upid.node);
    const linkers = peer.targets.get(upid.id);
    if (linkers !== undefined) {
      linkers.add(linkerId);
      return;
    }
    peer.targets.set(upid.id, new Set([linkerId]));
    this.host.sendControl(upid.node, 'link', { id: upid.id, incarnation: this.host.incarnation });
  }

  unlink(linkerId: string, upid: UPID): void {
    const peer = this.#peers.get(upid.node);
    const linkers = peer?.targets.get(upid.id);
    if (peer === undefined || linkers === undefined) return;
    linkers.delete(linkerId);
    if (linkers.size === 0) {
      peer.targets.delete(upid.id);
      this.host.sendControl(peer.node, 'unlink', { id: upid.id, incarnation: this.host.incarnation });
      this.#collect(peer);
    }
  }

  /** A local process terminated: tell the peers that watch it, and forget its own links. */
  terminated(id: string, linkedTo: Iterable<UPID>): void {
    for (const peer of this.#peers.values()) {
      if (peer.watching.delete(id)) this.host.sendControl(peer.node, 'exited', { id, incarnation: this.host.incarnation });
    }
    for (const upid of linkedTo) this.unlink(id, upid);
    for (const peer of [...this.#peers.values()]) this.#collect(peer);
  }

  /** A control message from `node`'s runtime. */
  receive(node: string, name: string, body: Record<string, unknown>): void {
    const incarnation = typeof body.incarnation === 'string' ? body.incarnation : undefined;
    let peer = this.#peers.get(node);
    if (peer !== undefined && incarnation !== undefined) {
      if (peer.incarnation !== undefined && peer.incarnation !== incarnation) {
        this.host.debug('Peer runtime restarted', { node });
        this.#died(peer);
        peer = undefined;
      } else {
        peer.incarnation = incarnation;
        peer.lastSeen = wallClockNow();
      }
    }
    const id = typeof body.id === 'string' ? body.id : undefined;
    switch (name) {
      case 'link': {
        if (id === undefined) return;
        peer ??= this.#peer(node, incarnation);
        if (this.host.hasProcess(id)) {
          peer.watching.add(id);
          this.host.sendControl(node, 'linked', { id, incarnation: this.host.incarnation });
        } else {
          this.host.sendControl(node, 'exited', { id, incarnation: this.host.incarnation });
          this.#collect(peer);
        }
        return;
      }
      case 'unlink':
        if (peer !== undefined && id !== undefined) {
          peer.watching.delete(id);
          this.#collect(peer);
        }
        return;
      case 'exited': {
        const linkers = id === undefined ? undefined : peer?.targets.get(id);
        if (peer === undefined || linkers === undefined || id === undefined) return;
        peer.targets.delete(id);
        const upid = new UPID(id, node);
        for (const linker of linkers) this.host.exited(linker, upid);
        this.#collect(peer);
        return;
      }
      case 'bye':
        if (peer !== undefined) this.#died(peer);
        return;
      case 'reconnected':
        // The peer's bus connection broke and came back: our messages to it and its to us may
        // be lost. Tell our processes linked to its processes.
        if (peer !== undefined) this.#interrupted(peer);
        return;
      case 'heartbeat':
        // A heartbeat from a runtime we do not know means it still counts on us (we restarted, or
        // gave it up): tell it, so its links to us end now rather than after its timeout.
        if (peer === undefined) this.host.sendControl(node, 'stranger', { incarnation: this.host.incarnation });
        return;
      case 'stranger':
        // The peer does not know us: whatever it watched for us, it no longer does.
        if (peer !== undefined) this.#died(peer);
        return;
      default:
        return; // `linked` only refreshes the peer, done above.
    }
  }

  /**
   * Our bus connection broke and came back: tell our processes linked to remote processes, and
   * every peer, whose processes' links to ours are interrupted as well.
   */
  reconnected(): void {
    for (const peer of this.#peers.values()) {
      this.host.sendControl(peer.node, 'reconnected', { incarnation: this.host.incarnation });
      this.#interrupted(peer);
    }
  }

  /** Our runtime is shutting down: say so to every peer. */
  shutdown(): void {
    for (const peer of this.#peers.values()) this.host.sendControl(peer.node, 'bye', { incarnation: this.host.incarnation });
    this.#peers.clear();
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Forgets every peer without a word (a crash). */
  abandon(): void {
    this.#peers.clear();
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Nodes currently peered (for tests and `/__runtime__/peers`). */
  peers(): string[] {
    return [...this.#peers.keys()];
  }

  #peer(node: string, incarnation?: string): Peer {
    let peer = this.#peers.get(node);
    if (peer === undefined) {
      peer = { node, incarnation, lastSeen: wallClockNow(), targets: new Map(), watching: new Set() };
      this.#peers.set(node, peer);
      this.#arm();
    }
    return peer;
  }

  #collect(peer: Peer): void {
    if (peer.targets.size === 0 && peer.watching.size === 0) this.#peers.delete(peer.node);
  }

  #died(peer: Peer): void {
    this.#peers.delete(peer.node);
    this.#eachLink(peer, (linker, upid) => this.host.exited(linker, upid));
  }

  #interrupted(peer: Peer): void {
    this.#eachLink(peer, (linker, upid) => this.host.interrupted(linker, upid));
  }

  /** Calls `report` for each link of one of our processes to one of `peer`'s. */
  #eachLink(peer: Peer, report: (linkerId: string, upid: UPID) => void): void {
    for (const [id, linkers] of peer.targets) {
      const upid = new UPID(id, peer.node);
      for (const linker of linkers) report(linker, upid);
    }
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = wallClockTimer(this.intervalMs, () => {
      this.#timer = undefined;
      this.#tick();
    });
  }

  #tick(): void {
    const now = wallClockNow();
    for (const peer of [...this.#peers.values()]) {
      if (now - peer.lastSeen >= this.timeoutMs) {
        this.host.debug('Peer runtime silent, treating its processes as exited', { node: peer.node, silentMs: now - peer.lastSeen });
        this.#died(peer);
      } else {
        this.host.sendControl(peer.node, 'heartbeat', { incarnation: this.host.incarnation });
      }
    }
    if (this.#peers.size > 0) this.#arm();
  }
}
