/**
 * `mesos-ts <command> [flags]`: the executable's entry point (see `cli.ts` and `mesos-ts --help`).
 */
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
// Child executors and sockets are closed by now; do not wait for stray timers.
if (process.exitCode !== undefined) setImmediate(() => process.exit(process.exitCode));
