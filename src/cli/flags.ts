import { MesosError } from '../errors.ts';
import { Resources } from '../mesos/resources.ts';

/**
 * Command-line flags as Mesos takes them: `--work_dir=/x` or `--work-dir /x` (snake or kebab
 * case, `=` or a space), booleans as `--flag`, `--no-flag` or `--flag=false`, durations in Mesos's
 * syntax (`15secs`, `500ms`, `2mins`), and every flag also from the environment
 * (`MESOS_TS_WORK_DIR`, as Mesos reads `MESOS_WORK_DIR`). Command line beats environment beats
 * default. A bad value is a `FlagError` naming the flag and the value; the CLI exits 2 on it.
 */

export type FlagType = 'string' | 'int' | 'number' | 'bool' | 'duration' | 'resources' | 'list';

export interface FlagSpec {
  /** Mesos's name, snake case: `work_dir`. */
  readonly name: string;
  readonly type: FlagType;
  readonly help: string;
  readonly default?: string | number | boolean;
  readonly required?: boolean;
}

export type FlagValue = string | number | boolean | string[] | undefined;

export class FlagError extends MesosError {
  constructor(
    readonly flag: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(value === undefined ? `--${flag}: ${reason}` : `invalid value '${String(value)}' for --${flag}: ${reason}`);
  }
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  nsecs: 1e-6,
  us: 1e-3,
  usecs: 1e-3,
  ms: 1,
  msecs: 1,
  secs: 1_000,
  sec: 1_000,
  s: 1_000,
  mins: 60_000,
  min: 60_000,
  hrs: 3_600_000,
  hr: 3_600_000,
  days: 86_400_000,
  day: 86_400_000,
  weeks: 604_800_000,
  week: 604_800_000,
};

/** `15secs` → 15000; `500ms` → 500; `1.5mins` → 90000. Returns milliseconds; throws naming the flag. */
export function parseDuration(text: string, flag = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/.exec(text);
  if (m === null) throw new FlagError(flag, text, "must be a duration such as '15secs', '500ms' or '2mins'");
  const unit = DURATION_UNITS[m[2]!];
  if (unit === undefined) throw new FlagError(flag, text, `unknown unit '${m[2]}' (use ns, us, ms, secs, mins, hrs, days or weeks)`);
  return Number(m[1]) * unit;
}

/** The environment variable a flag reads: `MESOS_TS_WORK_DIR`. */
export function envName(flag: string): string {
  return `MESOS_TS_${flag.toUpperCase()}`;
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) throw new FlagError(spec.name, raw, 'must be an integer');
      return Number(raw);
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new FlagError(spec.name, raw, 'must be a number');
      return n;
    }
    case 'bool':
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw new FlagError(spec.name, raw, "must be 'true' or 'false'");
    case 'duration':
      return parseDuration(raw, spec.name);
    case 'resources':
      try {
        Resources.parse(raw);
      } catch (error) {
        throw new FlagError(spec.name, raw, (error as Error).message);
      }
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
  }
}

/**
 * Parses `argv` (the arguments after the command name) against `specs`. Unknown flags and
 * stray arguments are errors. Returns the values by snake-case name, defaults filled in.
 */
export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, FlagValue> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: Record<string, FlagValue> = {};
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new FlagError(arg, undefined, `unexpected argument '${arg}' (flags look like --name=value)`);
    let body = arg.slice(2);
    let raw: string | undefined;
    const eq = body.indexOf('=');
    if (eq >= 0) {
      raw = body.slice(eq + 1);
      body = body.slice(0, eq);
    }
    let name = body.replace(/-/g, '_');
    let negated = false;
    if (!byName.has(name) && name.startsWith('no_') && byName.get(name.slice(3))?.type === 'bool') {
      name = name.slice(3);
      negated = true;
    }
    const spec = byName.get(name);
    if (spec === undefined) throw new FlagError(name, undefined, `unknown flag (see --help)`);
    if (spec.type === 'bool' && raw === undefined) {
      values[name] = !negated;
    } else {
      if (raw === undefined) {
        raw = argv[++i];
        if (raw === undefined) throw new FlagError(name, undefined, 'missing value');
      }
      values[name] = convert(spec, raw);
    }
    given.add(name);
  }
  for (const spec of specs) {
    if (given.has(spec.name)) continue;
    const fromEnv = env[envName(spec.name)];
    if (fromEnv !== undefined) {
      values[spec.name] = convert(spec, fromEnv);
    } else if (spec.default !== undefined) {
      values[spec.name] = typeof spec.default === 'string' ? convert(spec, spec.default) : spec.default;
    } else if (spec.required === true) {
      throw new FlagError(spec.name, undefined, `is required (or set ${envName(spec.name)})`);
    }
  }
  return values;
}

/** The `--help` text of a command's flags. */
export function flagsHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const value = s.type === 'bool' ? '' : `=<${s.type === 'duration' ? 'duration' : s.type === 'resources' ? 'resources' : s.type === 'list' ? 'a,b' : 'value'}>`;
    const def = s.default !== undefined ? ` (default: ${String(s.default)})` : s.required === true ? ' (required)' : '';
    return [`  --${s.name}${value}`, `${s.help}${def} [env ${envName(s.name)}]`] as const;
  });
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  return rows.map(([a, b]) => `${a.padEnd(width)}${b}`).join('\n');
}
