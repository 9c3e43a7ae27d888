import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonp, ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { Process } from '../../src/process/process.ts';
import { MESOS_VERSION } from './constants.ts';

/**
 * What `/version` reports about the build, in Mesos's field names (`build_time` in whole
 * seconds since the epoch, `build_date` as `YYYY-MM-DD HH:MM:SS`). The `git_*` fields are
 * optional, as in Mesos.
 */
export interface BuildInfo {
  build_date: string;
  build_time: number;
  build_user: string;
  git_sha?: string;
  git_branch?: string;
  git_tag?: string;
}

/**
 * `/version`, as Mesos's `VersionProcess`: a process named `version` whose one route is its
 * root, answering `{"version": "1.11.0", "build_date": ..., "build_time": ..., "build_user":
 * ..., "git_sha": ...}`. `?jsonp=<callback>` wraps the JSON in a call, as libprocess's `OK`.
 * Spawn one per runtime that serves HTTP, beside the master or the agent.
 *
 * @example
 * runtime.spawn(new VersionProcess());           // build facts from the source tree
 * runtime.spawn(new VersionProcess(buildInfo));  // or as the packager recorded them
 */
export class VersionProcess extends Process {
  readonly build: BuildInfo;

  constructor(build: BuildInfo = detectBuildInfo()) {
    super('version');
    this.build = build;
    this.route('', (request) => this.version(request));
  }

  version(request: HttpRequest): HttpResponse {
    return jsonp(ok(versionJSON(this.build)), request);
  }
}

/** The `/version` document for `build`. */
export function versionJSON(build: BuildInfo): Record<string, string | number> {
  const body: Record<string, string | number> = { version: MESOS_VERSION };
  if (build.git_sha !== undefined) body.git_sha = build.git_sha;
  if (build.git_branch !== undefined) body.git_branch = build.git_branch;
  if (build.git_tag !== undefined) body.git_tag = build.git_tag;
  body.build_date = build.build_date;
  body.build_time = build.build_time;
  body.build_user = build.build_user;
  return body;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The build facts of the source tree this code runs from (it has no separate build step): the
 * commit checked out (its time is the build time, its hash the `git_sha`, the branch and an
 * exact tag if any) and the user running it. Without git, the build time is `package.json`'s
 * modification time and the `git_*` fields are left out.
 */
export function detectBuildInfo(root: string = ROOT): BuildInfo {
  const git = (...args: string[]): string | undefined => {
    try {
      const out = execFileSync('git', args, { cwd: root, timeout: 2_000, stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
      return out === '' ? undefined : out;
    } catch {
      return undefined;
    }
  };
  const [sha, committed] = (git('log', '-1', '--format=%H %ct') ?? '').split(' ');
  let seconds = committed !== undefined && /^\d+$/.test(committed) ? Number(committed) : undefined;
  if (seconds === undefined) {
    try {
      seconds = Math.floor(statSync(join(root, 'package.json')).mtimeMs / 1000);
    } catch {
      seconds = 0;
    }
  }
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = '';
  }
  const build: BuildInfo = { build_date: formatBuildDate(seconds), build_time: seconds, build_user: user };
  if (sha !== undefined && /^[0-9a-f]{40}$/.test(sha)) {
    build.git_sha = sha;
    const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
    if (branch !== undefined && branch !== 'HEAD') build.git_branch = `refs/heads/${branch}`;
    const tag = git('describe', '--tags', '--exact-match', 'HEAD');
    if (tag !== undefined) build.git_tag = tag;
  }
  return build;
}

/** `1443894750` -> `2015-10-03 17:52:30` (UTC). */
export function formatBuildDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
