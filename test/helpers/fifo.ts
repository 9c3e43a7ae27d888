import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A FIFO named `held` in `dir` and a reader on it: `opened` resolves once a writer has opened it
 * (a command got as far as `... > held`), `eof` once every writer has closed it (every process
 * holding it is gone). How a test knows a child process reached a point (its `trap` is set, its
 * background job runs) without sleeping.
 */
export function heldFifo(dir: string): { opened: Promise<void>; eof: Promise<void> } {
  mkdirSync(dir, { recursive: true });
  const fifo = join(dir, 'held');
  if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error('mkfifo failed');
  const reader = createReadStream(fifo);
  const eof = new Promise<void>((resolve) => reader.on('end', resolve).resume());
  const opened = new Promise<void>((resolve) => reader.once('open', () => resolve()));
  return { opened, eof };
}
