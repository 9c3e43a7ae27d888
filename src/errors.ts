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
