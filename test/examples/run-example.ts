import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, where the examples' relative paths start. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ExampleRun {
  /** The exit code (`null` if a signal ended it). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `examples/<file>` as a real child process (`node --import tsx examples/<file> ...args`),
 * as a user would, and resolves when it exits. Without `--master` the example starts its own
 * embedded cluster on a free port. `MESOS_TS_*` variables are left out so that no flag comes
 * from the test's environment. A run longer than `limitMs` is killed and rejects.
 */
export function runExample(file: string, args: readonly string[], limitMs = 30_000): Promise<ExampleRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MESOS_TS_')));
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`examples/${file} ${args.join(' ')} still running after ${limitMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, limitMs);
    child.on('error', (error) => {
      clearTimeout(limit);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}
