import { MalformedUPIDError } from '../errors.ts';

/**
 * The address of a process: `id@node`, as libprocess's `UPID` is `id@ip:port`.
 *
 * `id` names the process inside its runtime (`master`, `slave(1)`); `node` names the runtime,
 * which is one OS process on one bus. The string form is the wire form.
 *
 * @example
 * const pid = UPID.parse('master@m1');
 * pid.id; // 'master'
 * String(pid); // 'master@m1'
 */
export class UPID {
  readonly id: string;
  readonly node: string;
  readonly #text: string;

  constructor(id: string, node: string) {
    if (!ID_PATTERN.test(id)) {
      throw new MalformedUPIDError(`invalid process id '${id}': must match ${ID_PATTERN.source}`);
    }
    if (!NODE_PATTERN.test(node)) {
      throw new MalformedUPIDError(`invalid node '${node}': must match ${NODE_PATTERN.source}`);
    }
    this.id = id;
    this.node = node;
    this.#text = `${id}@${node}`;
  }

  /** Parses `id@node`; throws `MalformedUPIDError` naming the string and what is wrong. */
  static parse(text: string): UPID {
    if (typeof text !== 'string') {
      throw new MalformedUPIDError(`invalid UPID ${JSON.stringify(text)}: must be a string 'id@node'`);
    }
    const cached = cache.get(text);
    if (cached !== undefined) return cached;
    const at = text.lastIndexOf('@');
    if (at <= 0 || at === text.length - 1) {
      throw new MalformedUPIDError(`invalid UPID '${text}': must have the form 'id@node'`);
    }
    const upid = new UPID(text.slice(0, at), text.slice(at + 1));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, upid);
    return upid;
  }

  /** Like `parse`, but returns `undefined` instead of throwing. */
  static tryParse(text: unknown): UPID | undefined {
    if (typeof text !== 'string') return undefined;
    try {
      return UPID.parse(text);
    } catch {
      return undefined;
    }
  }

  /** Accepts a `UPID` or its string form. */
  static from(value: UPID | string): UPID {
    return typeof value === 'string' ? UPID.parse(value) : value;
  }

  equals(other: UPID | string): boolean {
    return this.#text === String(other);
  }

  toString(): string {
    return this.#text;
  }

  toJSON(): string {
    return this.#text;
  }
}

/** Process ids: what Mesos uses (`master`, `slave(1)`, `scheduler-1f2e`), no `@`, `/` or spaces. */
const ID_PATTERN = /^[A-Za-z0-9_\-().:]+$/;
/** Node names become one NATS subject token: no `.`, `*`, `>` or whitespace. */
const NODE_PATTERN = /^[A-Za-z0-9_\-:]+$/;

/** Parsed addresses are interned: the same few peers appear on every message. */
const cache = new Map<string, UPID>();
const CACHE_LIMIT = 10_000;

/** Checks a node name, throwing `MalformedUPIDError` that names it. */
export function validateNode(node: string): string {
  if (!NODE_PATTERN.test(node)) {
    throw new MalformedUPIDError(`invalid node '${node}': must match ${NODE_PATTERN.source}`);
  }
  return node;
}
