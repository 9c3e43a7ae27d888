import { FlagError, type FlagValue } from './flags.ts';

/**
 * Checks of parsed flag values that their type alone does not make (a positive duration, a
 * count of at least one). Each throws a `FlagError` naming the flag, so the CLI exits 2.
 */

/** A duration or number that must be greater than zero. */
export function positive(flags: Record<string, FlagValue>, name: string): number {
  const value = flags[name];
  if (typeof value !== 'number' || !(value > 0)) throw new FlagError(name, value, 'must be greater than zero');
  return value;
}

/** An optional duration or number that must be greater than zero when given. */
export function optionalPositive(flags: Record<string, FlagValue>, name: string): number | undefined {
  return flags[name] === undefined ? undefined : positive(flags, name);
}

/** An integer of at least `min`. */
export function atLeast(flags: Record<string, FlagValue>, name: string, min: number): number {
  const value = flags[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new FlagError(name, value, `must be an integer of at least ${min}`);
  return value;
}

/** A TCP port, 0 to pick a free one. */
export function port(flags: Record<string, FlagValue>, name = 'port'): number {
  const value = flags[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) throw new FlagError(name, value, 'must be a port number (0 to 65535)');
  return value;
}

/** A log level pino knows. */
export function logLevel(flags: Record<string, FlagValue>, name = 'log_level'): string {
  const value = String(flags[name]);
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(value)) {
    throw new FlagError(name, value, 'must be one of trace, debug, info, warn, error, fatal, silent');
  }
  return value;
}
