import type { Envelope } from './transport.ts';

/**
 * The wire format on the bus: UTF-8 JSON. One bus message carries either one envelope
 * `{"from","to","name","body"}` or an array of them (a batch for one node, sent in order).
 * Addresses are `id@node` strings; the body is any JSON value (processes validate it).
 */

/** Longest message name accepted from the bus. */
const MAX_NAME = 256;

/**
 * A body may carry, under this symbol, a function that writes it as JSON: exactly what
 * `JSON.stringify(body)` would write (symbol keys are not JSON, so the body stringifies the
 * same either way, and an in-process bus never calls it), but faster because it knows what it
 * can reuse. The master's OFFERS events use it: each offer's resources are one frozen array
 * whose text is written once (`Resources.jsonText`), half of an offer's bytes.
 */
export const JSON_TEXT: unique symbol = Symbol.for('mesos-ts.jsonText');

/** A body that writes its own JSON (see `JSON_TEXT`). */
export interface WritesJSON {
  [JSON_TEXT](): string;
}

/** `JSON.stringify(envelope)`, through the body's own writer when it has one. */
export function encodeEnvelope(envelope: Envelope): string {
  const write = writerOf(envelope.body);
  if (write === undefined) return JSON.stringify(envelope);
  return `{"from":${JSON.stringify(envelope.from)},"to":${JSON.stringify(envelope.to)},"name":${JSON.stringify(envelope.name)},"body":${write.call(envelope.body)}}`;
}

/** `JSON.stringify(value)` for a message body, through its own writer when it has one. */
export function encodeBody(value: unknown): string {
  const write = writerOf(value);
  return write === undefined ? JSON.stringify(value) : write.call(value);
}

function writerOf(value: unknown): (() => string) | undefined {
  return typeof value === 'object' && value !== null ? (value as Partial<WritesJSON>)[JSON_TEXT] : undefined;
}

/** Encodes envelopes bound for one node as one payload. */
export function encodeBatch(envelopes: readonly Envelope[]): string {
  return joinBatch(envelopes.map(encodeEnvelope));
}

/** One payload from envelopes already encoded one by one (`JSON.stringify` of each). */
export function joinBatch(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0]! : `[${parts.join(',')}]`;
}

/**
 * Decodes one payload into its envelopes, calling `bad` with a reason naming the field and value
 * for each part that is not a valid envelope (good envelopes of the same batch still pass).
 */
export function decodeBatch(text: string, good: (envelope: Envelope) => void, bad: (reason: string) => void): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    bad(`payload is not JSON (${(error as Error).message}): ${preview(text)}`);
    return;
  }
  if (Array.isArray(parsed)) {
    for (let i = 0; i < parsed.length; i++) check(parsed[i], `[${i}]`, good, bad);
  } else {
    check(parsed, '', good, bad);
  }
}

function check(value: unknown, where: string, good: (envelope: Envelope) => void, bad: (reason: string) => void): void {
  const reason = envelopeProblem(value, where);
  if (reason === undefined) good(value as Envelope);
  else bad(reason);
}

/** Why `value` is not an envelope, or `undefined` if it is one. */
export function envelopeProblem(value: unknown, where = ''): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `envelope${where} must be an object, got ${preview(JSON.stringify(value) ?? String(value))}`;
  }
  const e = value as Record<string, unknown>;
  for (const field of ['from', 'to', 'name'] as const) {
    const v = e[field];
    if (typeof v !== 'string' || v.length === 0) {
      return `envelope${where} field '${field}' must be a non-empty string, got ${preview(JSON.stringify(v) ?? 'undefined')}`;
    }
  }
  if ((e.name as string).length > MAX_NAME) return `envelope${where} field 'name' is longer than ${MAX_NAME} characters`;
  if (!('body' in e)) return `envelope${where} field 'body' is missing`;
  return undefined;
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
