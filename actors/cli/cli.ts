/**
 * The `mesos-ts` command line, without side effects: `main(argv)` parses, runs the command and
 * resolves with the exit code (0 done, 1 failed, 2 bad usage or a bad flag value, named).
 * `main.ts` is the executable's entry; tests call `main` with their own output and environment.
 */
import { FlagError, flagsHelp, parseFlags } from '../../src/cli/flags.ts';
import { agentCommand } from './agent.ts';
import type { Command } from './commands.ts';
import { devCommand } from './dev.ts';
import { executeCommand } from './execute.ts';
import { masterCommand } from './master.ts';
import { catCommand, tailCommand } from './sandbox.ts';
import { stateCommand } from './state.ts';

const commands: Command[] = [masterCommand, agentCommand, devCommand, executeCommand, stateCommand, catCommand, tailCommand];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'Usage: mesos-ts <command> [--flag=value ...]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'mesos-ts <command> --help' for a command's flags. Flags take Mesos's names",
    '(--work_dir or --work-dir) and also come from the environment (MESOS_TS_WORK_DIR).',
  ].join('\n');
}

/** Where `main` writes and what environment its flags read. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

const processIO: CliIO = { out: (text) => console.log(text), err: (text) => console.error(text), env: process.env };

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`mesos-ts: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`Usage: mesos-ts ${command.name} [flags]\n\n${command.summary}\n\nFlags:\n${flagsHelp(command.flags)}`);
    return 0;
  }
  let flags;
  try {
    flags = parseFlags(command.flags, rest, io.env);
  } catch (error) {
    if (error instanceof FlagError) {
      io.err(`mesos-ts ${command.name}: ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    return await command.run(flags);
  } catch (error) {
    if (error instanceof FlagError || (error instanceof Error && /^invalid value/.test(error.message))) {
      io.err(`mesos-ts ${command.name}: ${error.message}`);
      return 2;
    }
    io.err(`mesos-ts ${command.name}: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

