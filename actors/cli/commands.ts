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
  { name: 'log_level', type: 'string', help: 'trace, debug, info, warn, error or silent', default: 'info' },
];
