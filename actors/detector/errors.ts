import { MesosError } from '../../src/errors.ts';

/** A master address that is none of the accepted forms; the message names the value. */
export class InvalidMasterAddressError extends MesosError {
  constructor(
    readonly value: string,
    reason: string,
  ) {
    super(`invalid master address '${value}': ${reason}`);
  }
}

/** No leading master answered (nobody serves the subject, a timeout, or a malformed answer). */
export class LeaderNotFoundError extends MesosError {}

/** Discovery was given up (its `AbortSignal` aborted). */
export class DetectionAbortedError extends MesosError {}
