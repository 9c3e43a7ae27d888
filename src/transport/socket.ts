import { createHash } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { MalformedEnvelopeError, MesosError } from '../errors.ts';
import type { Runtime } from '../process/runtime.ts';
import { encodeEnvelope, envelopeProblem } from './codec.ts';
import type { Envelope, Transport, TransportSink } from './transport.ts';

/**
 * Envelopes over a Unix domain socket, between an agent and the executors it runs as child
 * processes. A Node IPC channel would die with the agent for good; the socket can be opened
 * again: a restarted agent listens on the same name (`executorSocketPath`) and its
 * executors, which kept running, connect to it again (Mesos executors re-register with a
 * recovered agent the same way, over libprocess).
 *
 * 1. The agent listens (`ExecutorSocketServer`); each executor connects and says hello with its
 *    runtime's node; the agent routes that node's envelopes over the connection (a gateway).
 * 2. The executor (`SocketTransport`) sends every envelope to the agent, whatever node it names,
 *    and keeps reconnecting while the agent is gone.
 * 3. A connection that closes ends the links across it (`Runtime.removeGateway`).
 *
 * Wire format, both ways: frames of a 4-byte big-endian length followed by that many bytes of
 * UTF-8 JSON, either `{"hello":{"node":"...","token":"..."}}` (first frame from the executor, once) or
 * `{"mesos":<envelope>}`. Delivery is at most once and in order, as on every transport.
 */

/** Largest frame either side accepts; a longer one closes the connection. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Default wall-clock delay between an executor's attempts to reach its agent. */
export const SOCKET_RETRY_MS = 500;
/** Default wall-clock time `SocketTransport.attach` waits for the first connection. */
export const SOCKET_CONNECT_TIMEOUT_MS = 10_000;
/**
 * A connection to the agent's socket that has not said hello within this long is closed: anyone
 * on the machine can connect, and one that never speaks would otherwise be held for ever.
 */
export const HELLO_TIMEOUT_MS = 10_000;
/** The largest first frame (the hello, a node name and a token) the agent reads from a connection. */
export const MAX_HELLO_FRAME_BYTES = 64 * 1024;
/** Connections that have not yet said hello, at most; more are closed at once (a local flood). */
export const MAX_PENDING_HELLOS = 128;
/** Wall-clock bound on flushing a connection when it is closed on purpose; then it is cut. */
const FLUSH_TIMEOUT_MS = 5_000;
const HEADER_BYTES = 4;

/**
 * The socket an agent whose work directory is `workDir` listens on for its executors: a Linux
 * abstract-namespace name (leading NUL), `\0mesos-ts-executors-<first 32 hex of sha256(resolve(workDir))>`.
 * Abstract names leave no file behind after a crash, and a second agent on the same work_dir
 * fails with EADDRINUSE.
 *
 * @example
 * const server = await ExecutorSocketServer.listen(runtime, executorSocketPath(flags.workDir));
 */
export function executorSocketPath(workDir: string): string {
  const digest = createHash('sha256').update(resolve(workDir)).digest('hex').slice(0, 32);
  return `\0mesos-ts-executors-${digest}`;
}

/** `path` as `ss` prints it: an abstract name's leading NUL as `@`. */
export function printablePath(path: string): string {
  return path.startsWith('\0') ? `@${path.slice(1)}` : path;
}

/**
 * The socket path `printablePath` printed: a leading `@` back to NUL. An abstract name cannot
 * travel in an environment variable (values cannot hold NUL), so an agent hands its executors
 * the printable form and they read it with this.
 *
 * @example
 * const path = socketPathFromPrintable(process.env.MESOS_TS_AGENT_SOCKET!);
 */
export function socketPathFromPrintable(text: string): string {
  return text.startsWith('@') ? `\0${text.slice(1)}` : text;
}

// ---------------------------------------------------------------------------------------------
// Framing

/** One frame: the length header and `payload` (a string is written as UTF-8). */
export function encodeFrame(payload: string | Uint8Array): Buffer {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + size);
  frame.writeUInt32BE(size, 0);
  if (typeof payload === 'string') frame.write(payload, HEADER_BYTES, 'utf8');
  else frame.set(payload, HEADER_BYTES);
  return frame;
}

/**
 * Cuts a byte stream into frames, whatever the chunks it arrives in: a chunk may hold part of a
 * frame, or several. Chunks are kept as they came and copied once, when a frame is complete.
 */
export class FrameDecoder {
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  /** Payload length of the frame being read, once its header is in; -1 before. */
  #need = -1;

  /** The largest payload a header may announce; may be raised as the stream goes on (after a hello). */
  maxBytes: number;

  constructor(maxBytes = MAX_FRAME_BYTES) {
    this.maxBytes = maxBytes;
  }

  /**
   * Adds `chunk` and returns the payloads of the frames it completes, in order. Throws
   * `MalformedEnvelopeError` on a header announcing more than `maxBytes`; the stream cannot
   * be resynchronized after that.
   */
  push(chunk: Uint8Array): Buffer[] {
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < HEADER_BYTES) break;
        const size = this.#take(HEADER_BYTES).readUInt32BE(0);
        if (size > this.maxBytes) {
          throw new MalformedEnvelopeError(`frame length ${size} is larger than the ${this.maxBytes} byte limit`);
        }
        this.#need = size;
      }
      if (this.#buffered < this.#need) break;
      frames.push(this.#take(this.#need));
      this.#need = -1;
    }
    return frames;
  }

  /** Bytes held that do not yet make a frame. */
  get buffered(): number {
    return this.#buffered + (this.#need >= 0 ? HEADER_BYTES : 0);
  }

  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.#chunks[0]!;
      const k = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, k);
      offset += k;
      if (k === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(k);
    }
    return out;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A frame's payload as JSON; throws `MalformedEnvelopeError` naming what is wrong. */
export function parseFrame(payload: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new MalformedEnvelopeError(`frame of ${payload.length} bytes is not UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedEnvelopeError(`frame is not JSON (${(error as Error).message}): ${preview(text)}`);
  }
}

function envelopeFrame(envelope: Envelope): Buffer | undefined {
  const text = `{"mesos":${encodeEnvelope(envelope)}}`;
  // Cheap first: a UTF-8 string has at most 3 bytes per UTF-16 unit.
  if (text.length * 3 > MAX_FRAME_BYTES && Buffer.byteLength(text) > MAX_FRAME_BYTES) return undefined;
  return encodeFrame(text);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * Writes frames on `socket`, gathering those of one tick into one system call (`cork` until
 * the next tick). Returns false when the socket can no longer be written.
 */
function writer(socket: Socket): (frame: Buffer) => boolean {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return (frame) => {
    if (socket.destroyed || !socket.writable) return false;
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    // The write fails asynchronously when the peer is gone; 'close' follows and tells.
    socket.write(frame);
    return true;
  };
}

/** Ends `socket` once what was written is flushed, cutting it after `FLUSH_TIMEOUT_MS`. */
function closeGracefully(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise<void>((done) => {
    const timer = setTimeout(() => socket.destroy(), FLUSH_TIMEOUT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      done();
    });
    // After the last byte went out, cut it: the peer reads what is queued for it, then EOF.
    socket.end(() => socket.destroy());
  });
}

// ---------------------------------------------------------------------------------------------
// Agent side

interface Connection {
  readonly socket: Socket;
  /** The executor runtime's node, once it said hello. */
  node: string | undefined;
  readonly write: (frame: Buffer) => boolean;
  readonly decoder: FrameDecoder;
  /** Closes the connection if it has not said hello by then (`HELLO_TIMEOUT_MS`). */
  helloTimer: { cancel(): void } | undefined;
}

/**
 * The agent side. Listens on `path`; each connection first sends a hello frame naming the
 * executor runtime's node; from then on `runtime.addGateway(node, ...)` routes envelopes for
 * that node over the connection, and envelopes arriving on it go to `runtime.receive`
 * (shape-checked with `envelopeProblem`; bad ones to `runtime.malformed` naming the node and
 * the problem). A second connection that says hello with the same node replaces the first
 * (the old one is closed). When a connection closes, `runtime.removeGateway(node)` (only if
 * that node's gateway is still this connection): the runtime then ends links to that node. A
 * connection that sends garbage, an oversized frame (> 64 MiB; > 64 KiB before its hello), or
 * a non-hello first frame is closed and `runtime.malformed(...)` says why, and so is one that
 * has not said hello within `HELLO_TIMEOUT_MS` (on the runtime's Clock). At most
 * `MAX_PENDING_HELLOS` connections wait for their hello at once; more are closed at once.
 *
 * Anyone on the machine can connect to an abstract socket (it has no file permissions), so a
 * server given `admit` takes a hello only when `admit(node, token)` says so: an agent gives each
 * executor it launches a secret token (`MESOS_TS_EXECUTOR_TOKEN`), and a hello that does not
 * carry the token of its node is refused, so that no other process can take an executor's
 * place.
 *
 * @example
 * const server = await ExecutorSocketServer.listen(runtime, executorSocketPath(workDir));
 * server.onConnect((node) => log.info({ node }, 'Executor connected'));
 * // ...
 * await server.close();
 */
export class ExecutorSocketServer {
  readonly #connections = new Set<Connection>();
  /** The connection that is the gateway of each node. */
  readonly #gateways = new Map<string, Connection>();
  readonly #listeners = new Set<(node: string) => void>();
  #closing: Promise<void> | undefined;

  private constructor(
    private readonly runtime: Runtime,
    readonly path: string,
    private readonly server: Server,
    private readonly admit: ((node: string, token: string | undefined) => boolean) | undefined,
  ) {
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', (error) => runtime.logger.warn({ err: error, path: printablePath(path) }, 'Executor socket server error'));
  }

  /**
   * Listens on `path`; rejects with an error naming it when it cannot (EADDRINUSE: another agent
   * has it). With `admit`, only the hellos it accepts are taken (see the class comment).
   */
  static listen(runtime: Runtime, path: string, options: { admit?: (node: string, token: string | undefined) => boolean } = {}): Promise<ExecutorSocketServer> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => {
        const why = error.code === 'EADDRINUSE' ? ': another agent listens on it (same work directory?)' : '';
        reject(new MesosError(`cannot listen for executors on '${printablePath(path)}' (${error.code ?? error.message})${why}`, { cause: error }));
      };
      server.once('error', failed);
      server.listen(path, () => {
        server.off('error', failed);
        resolve(new ExecutorSocketServer(runtime, path, server, options.admit));
      });
    });
  }

  /** Calls `listener` (synchronously, after the gateway is added) each time an executor node says hello. */
  onConnect(listener: (node: string) => void): () => void {
    const entry = (node: string): void => listener(node);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Nodes connected now. */
  connected(): string[] {
    return [...this.#gateways.keys()];
  }

  /** Stops listening and closes every connection, flushing what was written to it (removing their gateways). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const stopped = new Promise<void>((done) => this.server.close(() => done()));
    const connections = [...this.#connections];
    // Gateways go first, synchronously: from here on nothing new is routed to the executors.
    for (const connection of connections) this.#forget(connection);
    await Promise.all(connections.map((c) => closeGracefully(c.socket)));
    await stopped;
  }

  #accept(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    let pending = 0;
    for (const c of this.#connections) if (c.node === undefined) pending++;
    if (pending >= MAX_PENDING_HELLOS) {
      this.runtime.malformed(`executor socket connection refused: ${pending} connections are already waiting to say hello`);
      socket.destroy();
      return;
    }
    const connection: Connection = { socket, node: undefined, write: writer(socket), decoder: new FrameDecoder(MAX_HELLO_FRAME_BYTES), helloTimer: undefined };
    connection.helloTimer = this.runtime.clock.setTimer(HELLO_TIMEOUT_MS, () => {
      connection.helloTimer = undefined;
      if (connection.node === undefined && !socket.destroyed) this.#reject(connection, `no hello within ${HELLO_TIMEOUT_MS} ms`);
    });
    this.#connections.add(connection);
    const decoder = connection.decoder;
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const payload of decoder.push(chunk)) {
          // A frame before this one may have closed the connection.
          if (socket.destroyed) return;
          this.#frame(connection, parseFrame(payload));
        }
      } catch (error) {
        this.#reject(connection, (error as Error).message);
      }
    });
    socket.on('error', (error) => this.runtime.logger.debug({ err: error, node: connection.node }, 'Executor socket error'));
    socket.on('close', () => this.#forget(connection));
  }

  #frame(connection: Connection, frame: unknown): void {
    const node = connection.node;
    if (node === undefined) {
      const hello = isObject(frame) && isObject(frame.hello) ? frame.hello : undefined;
      if (hello === undefined || typeof hello.node !== 'string') {
        this.#reject(connection, `first frame must be a hello {"hello":{"node":"...","token":"..."}}, got ${preview(JSON.stringify(frame))}`);
        return;
      }
      if (hello.token !== undefined && typeof hello.token !== 'string') {
        this.#reject(connection, `hello from executor node '${hello.node}': token must be a string`);
        return;
      }
      if (this.admit !== undefined && !this.admit(hello.node, hello.token as string | undefined)) {
        this.#reject(connection, `hello from executor node '${hello.node}' refused: not an executor this agent launched, or not its token`);
        return;
      }
      this.#hello(connection, hello.node);
      return;
    }
    if (!isObject(frame) || !('mesos' in frame)) {
      this.#reject(connection, `frame from executor node '${node}' must be {"mesos":<envelope>}, got ${preview(JSON.stringify(frame))}`);
      return;
    }
    const problem = envelopeProblem(frame.mesos);
    if (problem !== undefined) {
      this.runtime.malformed(`from executor node '${node}': ${problem}`);
      return;
    }
    this.runtime.receive(frame.mesos as Envelope);
  }

  #hello(connection: Connection, node: string): void {
    const previous = this.#gateways.get(node);
    if (previous !== undefined) {
      this.runtime.logger.info({ node }, 'Executor node connected again; closing its previous connection');
      this.#forget(previous);
      void closeGracefully(previous.socket);
    }
    try {
      this.runtime.addGateway(node, (envelope) => {
        const frame = envelopeFrame(envelope);
        if (frame === undefined) {
          this.runtime.logger.warn({ node, name: envelope.name }, 'Dropping a message larger than an executor socket frame allows');
          return false;
        }
        return connection.write(frame);
      });
    } catch (error) {
      // The node is invalid, or reached some other way.
      this.#reject(connection, `hello from executor node '${node}' refused: ${(error as Error).message}`);
      return;
    }
    connection.node = node;
    connection.helloTimer?.cancel();
    connection.helloTimer = undefined;
    connection.decoder.maxBytes = MAX_FRAME_BYTES;
    this.#gateways.set(node, connection);
    this.runtime.logger.debug({ node }, 'Executor node connected');
    for (const listener of [...this.#listeners]) listener(node);
  }

  /** Closes a connection that broke the protocol, saying why. */
  #reject(connection: Connection, reason: string): void {
    this.runtime.malformed(`executor socket connection closed: ${reason}`);
    this.#forget(connection);
    connection.socket.destroy();
  }

  /** Stops routing to `connection`; its node's links end unless a newer connection took over. */
  #forget(connection: Connection): void {
    this.#connections.delete(connection);
    connection.helloTimer?.cancel();
    connection.helloTimer = undefined;
    const node = connection.node;
    if (node === undefined || this.#gateways.get(node) !== connection) return;
    this.#gateways.delete(node);
    this.runtime.removeGateway(node);
    this.runtime.logger.debug({ node }, 'Executor node disconnected');
  }
}

// ---------------------------------------------------------------------------------------------
// Executor side

export interface SocketTransportOptions {
  /** The agent's socket (`executorSocketPath(workDir)`). */
  path: string;
  /** This runtime's node, sent in the hello frame. */
  node: string;
  /** The secret the agent gave this executor (`MESOS_TS_EXECUTOR_TOKEN`), sent in the hello frame. */
  token?: string;
  /** Called each time an established connection breaks (the agent exited). */
  onDisconnect?: () => void;
  /** Wall-clock ms between attempts to (re)connect; default `SOCKET_RETRY_MS`. */
  retryMs?: number;
  /** Wall-clock ms `attach` waits for the first connection; default `SOCKET_CONNECT_TIMEOUT_MS`. */
  connectTimeoutMs?: number;
}

/**
 * The executor (child) side: a `Transport` whose every envelope, whatever node it names, goes
 * to the agent over the socket. When the connection breaks it calls `onDisconnect` and tries
 * again every `retryMs` until an agent listens on the path again (`onReconnect` listeners run
 * then, after the hello is sent) or `detach` is called. Envelopes sent while disconnected are
 * dropped (`send` returns false).
 *
 * @example
 * const transport = new SocketTransport({ path: process.env.MESOS_TS_AGENT_SOCKET!, node });
 * const runtime = await Runtime.start({ node, transport });
 */
export class SocketTransport implements Transport {
  readonly kind = 'local' as const;
  readonly #options: SocketTransportOptions;
  readonly #retryMs: number;
  readonly #reconnectListeners = new Set<() => void>();
  #sink: TransportSink | undefined;
  /** The connection being attempted or up. */
  #socket: Socket | undefined;
  /** Set once `#socket` is connected and the hello written. */
  #write: ((frame: Buffer) => boolean) | undefined;
  #connections = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #firstConnection: { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | undefined;

  constructor(options: SocketTransportOptions) {
    this.#options = options;
    this.#retryMs = options.retryMs ?? SOCKET_RETRY_MS;
  }

  /** Connects to the agent (retrying meanwhile); resolves once the first connection is up. */
  attach(sink: TransportSink): Promise<void> {
    if (this.#sink !== undefined) return Promise.reject(new Error('socket transport already attached'));
    if (sink.node !== this.#options.node) {
      return Promise.reject(new Error(`socket transport for node '${this.#options.node}' attached to runtime '${sink.node}'`));
    }
    this.#sink = sink;
    const timeoutMs = this.#options.connectTimeoutMs ?? SOCKET_CONNECT_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#firstConnection = undefined;
        this.#stop();
        reject(new MesosError(`cannot reach the agent on '${printablePath(this.#options.path)}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#firstConnection = { resolve, reject, timer };
      this.#connect();
    });
  }

  /** Sends `envelope` to the agent; false (and dropped) while disconnected or when too large for a frame. */
  send(_node: string, envelope: Envelope): boolean {
    if (this.#write === undefined) return false;
    const frame = envelopeFrame(envelope);
    return frame !== undefined && this.#write(frame);
  }

  /** Flushes what was written, stops reconnecting and closes. */
  async detach(): Promise<void> {
    const socket = this.#socket;
    const connected = this.#write !== undefined;
    this.#stop();
    if (socket === undefined) return;
    if (connected) await closeGracefully(socket);
    else socket.destroy();
  }

  /** Drops the connection without flushing, as a killed executor would. */
  async abandon(): Promise<void> {
    const socket = this.#socket;
    this.#stop();
    socket?.destroy();
  }

  /** Calls `listener` after each re-connection (the hello already sent). */
  onReconnect(listener: () => void): () => void {
    const entry = (): void => listener();
    this.#reconnectListeners.add(entry);
    return () => this.#reconnectListeners.delete(entry);
  }

  describe(): string {
    return `socket (agent at ${printablePath(this.#options.path)})`;
  }

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#write = undefined;
    this.#socket = undefined;
    if (this.#firstConnection !== undefined) {
      clearTimeout(this.#firstConnection.timer);
      this.#firstConnection.reject(new Error(`socket transport to '${printablePath(this.#options.path)}' detached before it connected`));
      this.#firstConnection = undefined;
    }
  }

  #connect(): void {
    this.#retry = undefined;
    if (this.#stopped) return;
    const socket = createConnection({ path: this.#options.path });
    this.#socket = socket;
    let established = false;
    socket.on('connect', () => {
      if (this.#socket !== socket) return;
      established = true;
      this.#connected(socket);
    });
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      try {
        for (const payload of decoder.push(chunk)) this.#frame(parseFrame(payload));
      } catch (error) {
        // Out of step with the agent: start over on a fresh connection.
        this.#sink?.malformed(`from the agent's socket: ${(error as Error).message}; reconnecting`);
        socket.destroy();
      }
    });
    // 'close' follows every error (ECONNREFUSED while no agent listens, EPIPE, ...).
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#write = undefined;
      if (established) this.#options.onDisconnect?.();
      // A listener may have detached.
      if (!this.#stopped) this.#retry = setTimeout(() => this.#connect(), this.#retryMs);
    });
  }

  #connected(socket: Socket): void {
    const write = writer(socket);
    const { node, token } = this.#options;
    write(encodeFrame(JSON.stringify({ hello: token !== undefined ? { node, token } : { node } })));
    this.#write = write;
    this.#connections++;
    if (this.#firstConnection !== undefined) {
      clearTimeout(this.#firstConnection.timer);
      this.#firstConnection.resolve();
      this.#firstConnection = undefined;
    } else if (this.#connections > 1) {
      for (const listener of [...this.#reconnectListeners]) listener();
    }
  }

  #frame(frame: unknown): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    if (!isObject(frame) || !('mesos' in frame)) {
      sink.malformed(`from the agent's socket: frame must be {"mesos":<envelope>}, got ${preview(JSON.stringify(frame))}`);
      return;
    }
    const problem = envelopeProblem(frame.mesos);
    if (problem === undefined) sink.receive(frame.mesos as Envelope);
    else sink.malformed(`from the agent's socket: ${problem}`);
  }
}
