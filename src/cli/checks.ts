import { FlagError, type FlagValue } from './flags.ts';
import { roleError } from '../mesos/resource-values.ts';

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

/** A string among `choices`, as Mesos's `--role_sorter` takes `drf` or `random`. */
export function oneOf<T extends string>(flags: Record<string, FlagValue>, name: string, choices: readonly T[]): T {
  const value = flags[name];
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) throw new FlagError(name, value, `must be one of ${choices.join(', ')}`);
  return value as T;
}

/**
 * Mesos's `--weights`: `role=weight` pairs (a `list` flag, so already split on commas), each
 * role valid and each weight a positive number. Returns them by role; `{}` when the flag is unset.
 */
export function roleWeights(flags: Record<string, FlagValue>, name = 'weights'): Record<string, number> {
  const value = flags[name];
  if (value === undefined) return {};
  if (!Array.isArray(value)) throw new FlagError(name, value, "must be 'role=weight' pairs joined by ','");
  const weights: Record<string, number> = {};
  for (const pair of value) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new FlagError(name, value.join(','), `'${pair}' must be 'role=weight'`);
    const role = pair.slice(0, eq).trim();
    const text = pair.slice(eq + 1).trim();
    const problem = roleError(role);
    if (problem !== undefined) throw new FlagError(name, value.join(','), problem);
    const weight = Number(text);
    if (text === '' || !Number.isFinite(weight) || !(weight > 0)) throw new FlagError(name, value.join(','), `the weight of role '${role}' must be a positive number, got '${text}'`);
    if (role in weights) throw new FlagError(name, value.join(','), `role '${role}' is given twice`);
    weights[role] = weight;
  }
  return weights;
}

/**
 * A JSON object of strings (`execute --env`, `agent --executor_environment_variables`):
 * `'{"NAME":"value"}'`; `undefined` when the flag is not given.
 */
export function stringMap(flags: Record<string, FlagValue>, name: string): Record<string, string> | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text as string);
  } catch (error) {
    throw new FlagError(name, text, `must be a JSON object of strings, '{"NAME":"value"}' (must be JSON: ${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FlagError(name, text, 'must be a JSON object of strings');
  const map: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new FlagError(name, text, `variable '${key}' must be a string`);
    map[key] = value;
  }
  return map;
}
