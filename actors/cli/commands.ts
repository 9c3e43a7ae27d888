import type { FlagSpec, FlagValue } from '../../src/cli/flags.ts';

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

/** `COMMON_FLAGS` with another default log level (client commands print to stdout and stay quiet). */
export function commonFlags(logLevel: string): FlagSpec[] {
  return COMMON_FLAGS.map((f) => (f.name === 'log_level' ? { ...f, default: logLevel } : f));
}
