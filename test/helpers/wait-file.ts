import { existsSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Resolves once `path` exists, watching its directory (no polling). For a file a child process
 * writes whole, by renaming it into place (`cmd > f.tmp && mv f.tmp f`), so that it is complete
 * once it exists. The directory must exist already.
 */
export function fileAppears(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dirname(path), (_event, name) => {
      if ((name === null || name === basename(path)) && existsSync(path)) done();
    });
    watcher.on('error', (error) => {
      watcher.close();
      reject(error);
    });
    const done = () => {
      watcher.close();
      resolve();
    };
    // It may have appeared before the watch began.
    if (existsSync(path)) done();
  });
}
