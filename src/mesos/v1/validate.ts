/**
 * The shared machinery behind the v1 validators: scalar schemas for the proto scalar types
 * (`uint32`, `bytes`, ...), and `parseWith`, which runs a zod schema and turns its first issue
 * into an `InvalidMessageError` whose message names the field path and the bad value:
 *
 *     invalid call: 'accept.offer_ids[0].value' must be a string, got 42
 *
 * Unknown object keys are dropped, as Mesos's own JSON-to-protobuf conversion drops them: a
 * newer client may send fields this project does not know, and they are not relayed.
 */

import { z } from 'zod';

import { InvalidMessageError, type MessageIssue } from '../../errors.ts';

// ---------------------------------------------------------------------------------------------
// Proto scalar types as JSON values.

/** proto `int32`: a JSON integer in the signed 32-bit range. */
export const int32 = z.int().min(-2147483648).max(2147483647);
/** proto `uint32`: a JSON integer in the unsigned 32-bit range. */
export const uint32 = z.int().min(0).max(4294967295);
const integer = {
  error: (issue: { input?: unknown }) => `must be an integer, got ${describeValue(issue.input)}`,
};

/**
 * proto `int64`: a JSON integer. Past 2^53 a JSON number loses precision in JavaScript (and in
 * any JSON parser using doubles); such values (`TimeInfo` nanoseconds) are accepted as parsed.
 */
export const int64 = z.number().refine(Number.isInteger, integer);
/** proto `uint64`: a non-negative JSON integer, precision as for `int64`. */
export const uint64 = z.number().min(0).refine(Number.isInteger, integer);
/** proto `double`: a finite JSON number. */
export const double = z.number();

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Whether `s` is base64 as proto3 JSON accepts it for `bytes`: the standard or the URL-safe
 * alphabet, padding optional.
 */
export function isBase64(s: string): boolean {
  if (!BASE64.test(s)) return false;
  const padded = s.endsWith('=');
  const body = padded ? s.replace(/=+$/, '') : s;
  if (body.length % 4 === 1) return false;
  return !padded || s.length % 4 === 0;
}

/** The number of bytes a valid base64 string decodes to. */
export function base64ByteLength(s: string): number {
  const body = s.replace(/=+$/, '');
  return Math.floor((body.length * 3) / 4);
}

/** Which char codes below 128 `BASE64` allows before the padding. */
const BASE64_CHARS = (() => {
  const table = new Uint8Array(128);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-') table[c.charCodeAt(0)] = 1;
  return table;
})();

/**
 * `isBase64(s) ? base64ByteLength(s) : -1` in one pass and without a regular expression, for
 * the fast guards (`fast.ts`), which check every status update's `uuid`.
 */
export function base64Bytes(s: string): number {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 61 /* '=' */) end--;
  const padding = s.length - end;
  if (padding > 2) return -1;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || BASE64_CHARS[c] === 0) return -1;
  }
  if (end % 4 === 1 || (padding > 0 && s.length % 4 !== 0)) return -1;
  return Math.floor((end * 3) / 4);
}

/** proto `bytes`: raw bytes rendered as a base64 string. */
export const bytes = z.string().refine(isBase64, {
  error: (issue) => `must be base64, got ${describeValue(issue.input)}`,
});

/**
 * A 16-byte RFC 4122 UUID as proto `bytes` (base64), as Mesos requires for status update
 * acknowledgements (`id::UUID::fromBytes`).
 */
export const uuidBytes = bytes.refine((s) => base64ByteLength(s) === 16, {
  error: (issue) => `must be a base64 16-byte UUID, got ${describeValue(issue.input)}`,
});

/** A JSON object this project carries without interpreting (e.g. `ContainerInfo`). */
export type JsonObject = { [key: string]: unknown };
/** Schema of a `JsonObject`: any plain object; its contents are kept as they are. */
export const jsonObject: z.ZodType<JsonObject> = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------------------------
// Turning zod issues into messages.

/** Renders a path as `accept.offer_ids[0].value`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Describes a bad value for a message: `42`, `'abc'`, `null`, `an array`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${shown}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  record: 'an object',
  array: 'an array',
  bigint: 'an integer',
};

function listValues(values: readonly unknown[]): string {
  const shown = values.length > 20 ? [...values.slice(0, 8), '...'] : values;
  return shown.map((v) => String(v)).join(', ');
}

/** Context that makes a message about a missing top-level field more helpful. */
export interface ParseContext {
  /** What is parsed, for the message prefix: `call`, `event`, `task status`. */
  readonly what: string;
}

function atPath(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/**
 * One issue as a sentence that starts with the quoted field path. `root` is the whole input,
 * used to say which message type made a missing field required.
 */
export function formatIssue(issue: z.core.$ZodIssue, root: unknown, ctx: ParseContext): MessageIssue {
  const path = formatPath(issue.path);
  const field = path === '' ? `the ${ctx.what}` : `'${path}'`;
  const input = 'input' in issue ? issue.input : atPath(root, issue.path);
  let message: string;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) {
        message = `${field} is required${requiredFor(issue.path, root, ctx)}`;
      } else {
        message = `${field} must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(input)}`;
      }
      break;
    }
    case 'invalid_value':
      message =
        input === undefined
          ? `${field} is required${requiredFor(issue.path, root, ctx)}`
          : `${field} must be one of ${listValues(issue.values)}, got ${describeValue(input)}`;
      break;
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: unknown }).discriminator;
      if (typeof discriminator === 'string') {
        const options = (issue as { options?: readonly unknown[] }).options ?? [];
        const value = atPath(root, issue.path);
        message =
          value === undefined
            ? `${field} is required`
            : `${field} must be one of ${listValues(options)}, got ${describeValue(value)}`;
      } else {
        message = `${field} has no valid form, got ${describeValue(input)}`;
      }
      break;
    }
    case 'too_small':
      message = `${field} must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}, got ${describeValue(input)}`;
      break;
    case 'too_big':
      message = `${field} must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}, got ${describeValue(input)}`;
      break;
    case 'custom':
      // Custom checks in this folder phrase their own predicate, including the value.
      message = `${field} ${issue.message}`;
      break;
    default:
      message = `${field} is invalid (${issue.message}), got ${describeValue(input)}`;
  }
  return { path, message, value: input };
}

/**
 * Why a missing field is required, when its type decides: every top-level field of a call or
 * event depends on the message's `type`, and a nested union (an operation) needs the payload
 * named after its `type`.
 */
function requiredFor(path: readonly PropertyKey[], root: unknown, ctx: ParseContext): string {
  const key = path[path.length - 1];
  const parent = atPath(root, path.slice(0, -1));
  const type = parent !== null && typeof parent === 'object' ? (parent as { type?: unknown }).type : undefined;
  if (typeof type !== 'string') return '';
  if (path.length === 1) return ` for ${article(ctx.what)} ${ctx.what} of type ${type}`;
  return key === type.toLowerCase() ? ` for type ${type}` : '';
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/**
 * Parses `json` with `schema`, or throws an `InvalidMessageError` whose message is the first
 * issue (`invalid call: 'type' is required`); every issue is on `error.issues`.
 */
export function parseWith<T>(schema: z.ZodType<T>, json: unknown, ctx: ParseContext): T {
  const result = safeParseWith(schema, json, ctx);
  if (result.ok) return result.value;
  throw result.error;
}

/** What the `safeParse...` functions return: the value, or the error `parseWith` would throw. */
export type SafeParseResult<T> = { ok: true; value: T } | { ok: false; error: InvalidMessageError };

/** Like `parseWith`, but returns the issues instead of throwing. */
export function safeParseWith<T>(schema: z.ZodType<T>, json: unknown, ctx: ParseContext): SafeParseResult<T> {
  const result = schema.safeParse(json, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues.map((issue) => formatIssue(issue, json, ctx));
  return { ok: false, error: new InvalidMessageError(ctx.what, issues, { cause: result.error }) };
}
