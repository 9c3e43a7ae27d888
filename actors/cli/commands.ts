import { FlagError, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import type { Credential } from '../../src/http/authentication.ts';

/** One `mesos-ts` subcommand: its flags and what it does with them. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  /** Runs until done (or until interrupted, for servers); resolves with the exit code. */
  run(flags: Record<string, FlagValue>): Promise<number>;
}

/** Flags every command takes. */
export const COMMON_FLAGS: FlagSpec[] = [
  { name: 'nats', type: 'list', help: 'NATS servers (nats://host:4222[,more]); without it the process runs alone on the local transport' },
  { name: 'nats_prefix', type: 'string', help: 'subject prefix on the bus; clusters that share NATS servers need different ones', default: 'mesos' },
  { name: 'log_level', type: 'string', help: 'trace, debug, info, warn, error or silent', default: 'info' },
];

/** `--principal` and `--secret`: how client commands authenticate (`clientCredential`). */
export const CREDENTIAL_FLAGS: FlagSpec[] = [
  { name: 'principal', type: 'string', help: "the principal to authenticate as where the master or an agent asks for HTTP credentials (--authenticate_http_*); execute's framework also takes it as its principal" },
  { name: 'secret', type: 'string', help: "the secret of --principal (better given in the environment, MESOS_TS_SECRET, than on a command line others can read)" },
];

/** The credential `--principal` and `--secret` give, if any; one without the other is a `FlagError`. */
export function clientCredential(values: Record<string, FlagValue>): Credential | undefined {
  const principal = values.principal as string | undefined;
  const secret = values.secret as string | undefined;
  if (principal === undefined && secret === undefined) return undefined;
  if (principal === undefined || principal === '') throw new FlagError('principal', principal, 'is required with --secret');
  if (secret === undefined) throw new FlagError('secret', undefined, `is required with --principal (principal '${principal}')`);
  return { principal, secret };
}

/** `COMMON_FLAGS` with another default log level (client commands print to stdout and stay quiet). */
export function commonFlags(logLevel: string): FlagSpec[] {
  return COMMON_FLAGS.map((f) => (f.name === 'log_level' ? { ...f, default: logLevel } : f));
}
