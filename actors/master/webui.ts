import { readFileSync } from 'node:fs';
import { methodNotAllowed } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import type { Master } from './master-process.ts';
import { redirect } from './scheduler-api.ts';

/**
 * The web UI (DESIGN.md §5: what `npm start` serves on 127.0.0.1:5050, beside the HTTP API):
 * a page at `/` (and `/master/`) that reads `/master/state` and `/master/roles` every two seconds
 * and shows the cluster as Mesos's web UI does, tasks' sandboxes included (agents' `/files/*`). The files in `webui/` are served as they are, read once when
 * this module loads: no build step, no script or style from elsewhere (`Content-Security-Policy`
 * allows this origin only, and reading from agents' HTTP endpoints), so it works on a machine
 * without internet access.
 */
const FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/static/webui.js': { file: 'webui.js', type: 'text/javascript; charset=utf-8' },
  '/static/webui.css': { file: 'webui.css', type: 'text/css; charset=utf-8' },
  '/static/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
} as const;

const HEADERS = {
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  // Agents on other hosts serve their sandboxes' files themselves (`/files/*`).
  'Content-Security-Policy': "default-src 'self'; connect-src 'self' http: https:; frame-ancestors 'none'",
};

/**
 * The master's routes for the web UI's files; `GET` and `HEAD` only. A master that does not lead
 * sends the page to the leader's (`redirect`: `307`, or `503` when it knows none), as Mesos's UI
 * goes to the leading master: the page's own reads of `/master/state` could not follow a
 * redirect to another origin.
 */
/** The paths the web UI's files are served at. */
export const WEBUI_PATHS: ReadonlySet<string> = new Set(Object.keys(FILES));

export function webuiRoutes(m: Master): Record<string, (request: HttpRequest) => HttpResponse> {
  const routes: Record<string, (request: HttpRequest) => HttpResponse> = {};
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(new URL(`./webui/${file}`, import.meta.url), 'utf8');
    routes[path] = (request) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return methodNotAllowed(['GET', 'HEAD'], request.method);
      if (path === '/' && !m.leading) return redirect(m, request);
      return { status: 200, headers: { ...HEADERS, 'Content-Type': type }, body };
    };
  }
  return routes;
}
