/**
 * Every error a user (an operator, a framework, a peer on the bus) can cause is a typed error
 * gathered here, with `name` set and the offending field and value in the message. Invariant
 * breaks inside the project throw plain `Error`s instead.
 */

/** The base of every expected failure. */
export class MesosError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem found in an inbound message: the field path, a sentence naming it, the bad value. */
export interface MessageIssue {
  /** The field path, e.g. `accept.offer_ids[0].value`; empty for the message itself. */
  readonly path: string;
  /** A sentence that names the field and the value, e.g. `'type' is required`. */
  readonly message: string;
  /** The offending value (`undefined` when the field is missing). */
  readonly value: unknown;
}

/**
 * A v1 call or event (from a scheduler, an executor, or the bus) does not have the shape Mesos
 * allows. The message is the first issue, e.g.
 * `invalid call: 'accept.offer_ids[0].value' must be a string, got 42`; all are on `issues`.
 */
export class InvalidMessageError extends MesosError {
  /** What was parsed: `call`, `event`, ... */
  readonly what: string;
  /** Every problem found, the first of which is in `message`. */
  readonly issues: readonly MessageIssue[];

  constructor(what: string, issues: readonly MessageIssue[], options?: { cause?: unknown }) {
    super(`invalid ${what}: ${issues[0]?.message ?? 'malformed'}`, options);
    this.what = what;
    this.issues = issues;
  }

  /** The path of the first offending field. */
  get field(): string {
    return this.issues[0]?.path ?? '';
  }
}
