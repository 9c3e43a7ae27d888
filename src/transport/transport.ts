/**
 * How envelopes cross between runtimes (nodes). A runtime delivers to its own processes
 * directly; only envelopes for another node go through its transport. Transports are chosen by
 * configuration only: `local` (an in-process bus, the default) or `nats`.
 *
 * Delivery is at most once and ordered per sender and receiver node, as libprocess's sockets.
 */

/** A message on the wire: addresses in their string form (`id@node`), the body plain JSON data. */
export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly name: string;
  readonly body: unknown;
}

/** The runtime side of a transport: where arriving envelopes go. */
export interface TransportSink {
  readonly node: string;
  /** An envelope from another node, already shape-checked. */
  receive(envelope: Envelope): void;
  /** Something arrived that is not a valid envelope; `reason` names the field and value. */
  malformed(reason: string): void;
}

export interface Transport {
  readonly kind: 'local' | 'nats';
  /** Starts receiving envelopes addressed to `sink.node`. */
  attach(sink: TransportSink): Promise<void>;
  /** Sends an envelope to `node`; false when it is known to be undeliverable. */
  send(node: string, envelope: Envelope): boolean;
  /** Stops receiving and releases the connection; envelopes not yet sent may be lost. */
  detach(): Promise<void>;
  /** Drops off the bus without flushing, as a killed process would (tests of failure detection). */
  abandon?(): Promise<void>;
  /**
   * Calls `listener` each time the connection to the bus comes back after breaking (NATS:
   * the client reconnected). What was sent to or from this node meanwhile may be lost; the
   * runtime tells the processes linked across it (`Process.linkInterrupted`). Returns a
   * function that stops the calls. A transport that cannot break (local) does not have it.
   */
  onReconnect?(listener: () => void): () => void;
  /** A short description for logs (`local`, `nats://127.0.0.1:4222`). */
  describe(): string;
}
