import { MesosError } from '../../src/errors.ts';

/**
 * Expected failures of the executor driver. (They live beside the executor rather than in
 * `src/errors.ts` because `src/` never names actors.)
 */

/** The executor's environment lacks a variable the agent must set, or holds a bad value. */
export class ExecutorEnvironmentError extends MesosError {}
