import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * A real headless Chromium for UI tests, driven by `playwright-core` (which downloads no
 * browser of its own): Debian's `chromium`, found on PATH (or `CHROMIUM_PATH`). `.ci/run`
 * installs it when it is missing; here a missing browser is a clear failure, never a skip.
 */
export function findChromium(): string {
  for (const name of [process.env.CHROMIUM_PATH, 'chromium', '/usr/bin/chromium', 'chromium-browser', 'google-chrome']) {
    if (name === undefined || name === '') continue;
    // Playwright takes an absolute path only.
    const candidate = isAbsolute(name) ? name : onPath(name);
    if (candidate === undefined) continue;
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  throw new Error('Chromium not found on PATH: install it (`apt-get install -y chromium`; .ci/run does this) or set CHROMIUM_PATH');
}

/**
 * Launches it headless with a fresh profile. The flags keep it off the network: this machine
 * refuses every connection but loopback, and Chromium's background services would try many.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
