import type { ChildProcess } from 'node:child_process';
import type { Runtime } from '../process/runtime.ts';
import { envelopeProblem } from './codec.ts';
import type { Envelope, Transport, TransportSink } from './transport.ts';

/**
 * Envelopes over a Node IPC channel, between an agent and the executors it runs as child
 * processes (Mesos executors reach their agent over libprocess; ours over the pipe their agent
 * opened). Every envelope from the child goes to its parent, whatever node it names; the parent
 * delivers the ones for its own processes (`attachChild`). Messages are JSON on the channel.
 */

interface IpcFrame {
  readonly mesos: Envelope;
}

function isFrame(value: unknown): value is IpcFrame {
  return value !== null && typeof value === 'object' && 'mesos' in value;
}

/** The child side: a transport over `process.send`. */
export class IpcTransport implements Transport {
  readonly kind = 'local' as const;
  #listener: ((message: unknown) => void) | undefined;
  #onDisconnect: (() => void) | undefined;

  constructor(private readonly onParentGone: () => void = () => process.exit(1)) {
    if (typeof process.send !== 'function') throw new Error('no IPC channel: this process was not started by an agent');
  }

  async attach(sink: TransportSink): Promise<void> {
    this.#listener = (message: unknown) => {
      if (!isFrame(message)) return;
      const problem = envelopeProblem(message.mesos);
      if (problem === undefined) sink.receive(message.mesos);
      else sink.malformed(problem);
    };
    process.on('message', this.#listener);
    this.#onDisconnect = () => this.onParentGone();
    process.on('disconnect', this.#onDisconnect);
  }

  send(_node: string, envelope: Envelope): boolean {
    if (process.connected !== true || process.send === undefined) return false;
    process.send({ mesos: envelope } satisfies IpcFrame, undefined, {}, () => undefined);
    return true;
  }

  async detach(): Promise<void> {
    if (this.#listener !== undefined) process.off('message', this.#listener);
    if (this.#onDisconnect !== undefined) process.off('disconnect', this.#onDisconnect);
    this.#listener = undefined;
    // Let the channel close so the process can exit once it has nothing else to do.
    if (process.connected) process.disconnect();
  }

  describe(): string {
    return 'ipc (parent)';
  }
}

/**
 * The parent side: makes `node` (the child's runtime) reachable from `runtime` through the
 * child's IPC channel, and hands the child's envelopes to `runtime`. Returns a function that
 * detaches; detaching also happens when the channel closes, and ends every link to the child.
 */
export function attachChild(runtime: Runtime, node: string, child: ChildProcess): () => void {
  const onMessage = (message: unknown): void => {
    if (!isFrame(message)) return;
    const problem = envelopeProblem(message.mesos);
    if (problem !== undefined) {
      runtime.malformed(`from executor node '${node}': ${problem}`);
      return;
    }
    runtime.receive(message.mesos);
  };
  let attached = true;
  const detach = (): void => {
    if (!attached) return;
    attached = false;
    child.off('message', onMessage);
    child.off('disconnect', detach);
    runtime.removeGateway(node);
  };
  runtime.addGateway(node, (envelope) => {
    if (!child.connected) return false;
    // A channel closing under us fails the write asynchronously; the envelope is lost, as any
    // message to a dead peer (at most once).
    child.send({ mesos: envelope } satisfies IpcFrame, (error) => error && runtime.logger.debug({ err: error, node }, 'IPC send failed'));
    return true;
  });
  child.on('message', onMessage);
  child.once('disconnect', detach);
  return detach;
}
