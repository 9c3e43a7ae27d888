/**
 * `mesos-ts <command> [flags]`: the command-line entry point. See `mesos-ts --help`.
 */
import { FlagError, flagsHelp, parseFlags } from '../../src/cli/flags.ts';
import { agentCommand } from './agent.ts';
import type { Command } from './commands.ts';
import { devCommand } from './dev.ts';
import { executeCommand } from './execute.ts';
import { masterCommand } from './master.ts';
import { stateCommand } from './state.ts';

const commands: Command[] = [masterCommand, agentCommand, devCommand, executeCommand, stateCommand];

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

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`mesos-ts: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: mesos-ts ${command.name} [flags]\n\n${command.summary}\n\nFlags:\n${flagsHelp(command.flags)}`);
    return 0;
  }
  let flags;
  try {
    flags = parseFlags(command.flags, rest);
  } catch (error) {
    if (error instanceof FlagError) {
      console.error(`mesos-ts ${command.name}: ${error.message}`);
      return 2;
    }
    throw error;
  }
  try {
    return await command.run(flags);
  } catch (error) {
    if (error instanceof FlagError || (error instanceof Error && /^invalid value/.test(error.message))) {
      console.error(`mesos-ts ${command.name}: ${error.message}`);
      return 2;
    }
    console.error(`mesos-ts ${command.name}: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
// Child executors and sockets are closed by now; do not wait for stray timers.
if (process.exitCode !== undefined) setImmediate(() => process.exit(process.exitCode));
