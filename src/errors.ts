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

/** A string that should be a `UPID` (`id@node`) is not one. */
export class MalformedUPIDError extends MesosError {}

/** An envelope or body arriving from the bus is not what the wire format allows. */
export class MalformedEnvelopeError extends MesosError {}

/** A request body or parameter of an HTTP route is invalid; answered with `400`. */
export class BadRequestError extends MesosError {}

/** A RecordIO stream (Mesos's streaming HTTP framing) is broken: a bad length, a cut record. */
export class RecordIOError extends MesosError {}

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

/**
 * A resource in the text form (`cpus:4;mem:8192`) or the v1 JSON form is malformed. `resource`
 * is the offending part as written (a token of the text, or the name and index in the JSON),
 * `reason` says why, e.g. `invalid resource 'cpu:x': value must be a number`.
 */
export class InvalidResourceError extends MesosError {
  /** The offending part, as written. */
  readonly resource: string;
  /** Why it is invalid. */
  readonly reason: string;

  constructor(resource: string, reason: string, options?: { cause?: unknown }) {
    super(`invalid resource '${resource}': ${reason}`, options);
    this.resource = resource;
    this.reason = reason;
  }
}

/** A role name (of a framework, a weight or a quota) is not a valid Mesos role. */
export class InvalidRoleError extends MesosError {
  /** The offending role, as given. */
  readonly role: string;

  constructor(role: string, reason: string, options?: { cause?: unknown }) {
    super(`invalid role '${role}': ${reason}`, options);
    this.role = role;
  }
}

/** A role weight is not a positive finite number. */
export class InvalidWeightError extends MesosError {
  readonly role: string;
  readonly weight: number;

  constructor(role: string, weight: number, options?: { cause?: unknown }) {
    super(`invalid weight for role '${role}': weight must be a positive finite number, got ${weight}`, options);
    this.role = role;
    this.weight = weight;
  }
}

/** A quota is invalid: a guarantee that is not unreserved scalars, a bad limit, a guarantee above its limit. */
export class InvalidQuotaError extends MesosError {
  readonly role: string;

  constructor(role: string, reason: string, options?: { cause?: unknown }) {
    super(`invalid quota for role '${role}': ${reason}`, options);
    this.role = role;
  }
}
