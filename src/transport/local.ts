import type { Envelope, Transport, TransportSink } from './transport.ts';

/**
 * An in-process bus: every runtime attached to the same `LocalBus` reaches the others by node
 * name, with no serialization. Bodies are passed by reference, so they must be treated as
 * immutable once sent (as every message is; see DESIGN.md §3 "Messages are data").
 */
export class LocalBus {
  readonly #sinks = new Map<string, TransportSink>();

  /** @internal */
  attach(sink: TransportSink): void {
    if (this.#sinks.has(sink.node)) throw new Error(`node '${sink.node}' is already on this local bus`);
    this.#sinks.set(sink.node, sink);
  }

  /** @internal */
  detach(sink: TransportSink): void {
    if (this.#sinks.get(sink.node) === sink) this.#sinks.delete(sink.node);
  }

  /** @internal */
  deliver(envelope: Envelope, node: string): boolean {
    const sink = this.#sinks.get(node);
    if (sink === undefined) return false;
    sink.receive(envelope);
    return true;
  }

  nodes(): string[] {
    return [...this.#sinks.keys()];
  }
}

/** The bus runtimes use unless given another. */
export const defaultLocalBus = new LocalBus();

export class LocalTransport implements Transport {
  readonly kind = 'local' as const;
  #sink: TransportSink | undefined;

  constructor(readonly bus: LocalBus = defaultLocalBus) {}

  async attach(sink: TransportSink): Promise<void> {
    this.bus.attach(sink);
    this.#sink = sink;
  }

  send(node: string, envelope: Envelope): boolean {
    return this.bus.deliver(envelope, node);
  }

  async detach(): Promise<void> {
    if (this.#sink !== undefined) this.bus.detach(this.#sink);
    this.#sink = undefined;
  }

  describe(): string {
    return 'local';
  }
}
