import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestError } from '../errors.ts';
import type { Process } from '../process/process.ts';
import type { Runtime } from '../process/runtime.ts';
import type { HttpRequest, HttpResponse } from './types.ts';

export interface HttpServerOptions {
  port: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Larger request bodies get `413`. Default 16 MiB. */
  maxBodyBytes?: number;
  /**
   * The process that serves a path whose first segment names no process, with the whole path
   * as its route (libprocess's delegate). Mesos makes the master the delegate, so
   * `/api/v1/scheduler` and `/redirect` reach `/master/api/v1/scheduler` and `/master/redirect`.
   * A list serves a runtime that hosts a master and agents alike: the first process in it with
   * a route for the path serves it (`['master', 'agent']`: `/api/v1/executor` reaches the
   * agents' endpoints).
   */
  delegate?: string | readonly string[];
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

/**
 * One `node:http` server per runtime, as libprocess serves every process's routes on its one
 * port: `/<process-id><route>` (so `/master/state`, `/metrics/snapshot`), and any other path
 * at the `delegate` process if one is set. The handler runs inside the process's mailbox, like
 * a message handler. Unknown routes get `404`; a `BadRequestError` thrown by a handler becomes
 * `400` with its message.
 *
 * Idle keep-alive connections are never closed by the server: Mesos clients hold one
 * connection for minutes (the scheduler API's subscription stream and the calls beside it).
 */
export class HttpServer {
  readonly #server: Server;
  readonly #maxBody: number;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: HttpServerOptions,
  ) {
    this.#maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 0;
    this.#server.timeout = 0;
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 60_000;
  }

  /** The server's socket settings, for operators and tests. */
  get settings(): { keepAliveTimeout: number; timeout: number; requestTimeout: number } {
    const s = this.#server;
    return { keepAliveTimeout: s.keepAliveTimeout, timeout: s.timeout, requestTimeout: s.requestTimeout };
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
  }

  get address(): { host: string; port: number } {
    const a = this.#server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** The first delegate with a route for `path`, else the first delegate (which answers `404`). */
  #delegateFor(path: string): Process | undefined {
    const delegate = this.options.delegate;
    const ids = typeof delegate === 'string' ? [delegate] : (delegate ?? []);
    for (const id of ids) {
      const process = this.runtime.process(id);
      if (process !== undefined && routeFor(process._routes, path) !== undefined) return process;
    }
    return ids[0] === undefined ? undefined : this.runtime.process(ids[0]);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      write(res, { status: 400, body: `Malformed request URL '${req.url}'` });
      return;
    }
    const segments = url.pathname.split('/');
    let id: string;
    try {
      id = decodeURIComponent(segments[1] ?? '');
    } catch {
      write(res, { status: 400, body: `Malformed request path '${url.pathname}'` });
      return;
    }
    let rest = segments.length > 2 ? '/' + segments.slice(2).join('/') : '';
    let process = this.runtime.process(id);
    if (process === undefined && this.options.delegate !== undefined) {
      process = this.#delegateFor(url.pathname);
      rest = url.pathname;
    }
    const handler = process === undefined ? undefined : routeFor(process._routes, rest);
    if (process === undefined || handler === undefined) {
      req.resume();
      write(res, { status: 404, body: `No route for '${url.pathname}'` });
      return;
    }
    let body: string;
    try {
      body = await readBody(req, this.#maxBody);
    } catch (error) {
      write(res, { status: 413, body: (error as Error).message });
      return;
    }
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      path: rest,
      url,
      headers: req.headers,
      body,
      remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      raw: { req, res },
    };
    let response: HttpResponse;
    try {
      response = await this.runtime.dispatch(process.self, () => handler(request));
    } catch (error) {
      if (error instanceof BadRequestError) {
        response = { status: 400, body: error.message };
      } else {
        this.runtime.logger.error({ err: error, path: url.pathname }, 'HTTP handler failed');
        response = { status: 500, body: (error as Error)?.message ?? String(error) };
      }
    }
    if (response.streaming !== true) write(res, response);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`Request body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Writes a complete response: objects as JSON, strings as plain text. */
export function write(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent) return;
  const headers: Record<string, string | number> = { ...response.headers };
  let payload: string | Buffer | undefined;
  if (response.body === undefined) {
    payload = undefined;
  } else if (typeof response.body === 'string') {
    payload = response.body;
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
  } else if (Buffer.isBuffer(response.body)) {
    payload = response.body;
  } else {
    payload = JSON.stringify(response.body);
    headers['Content-Type'] ??= 'application/json';
  }
  headers['Content-Length'] = payload === undefined ? 0 : Buffer.byteLength(payload);
  res.writeHead(response.status, headers);
  res.end(payload);
}

/**
 * The handler of `path` among `routes`: its own route (with or without a trailing `/`), else the
 * nearest `<prefix>/*` route above it (`/quota/*` serves `/quota/eng` and `/quota/eng/dev`), as
 * libprocess matches a route by the longest prefix of the path.
 */
export function routeFor<H>(routes: ReadonlyMap<string, H>, path: string): H | undefined {
  const exact = routes.get(path) ?? routes.get(path.replace(/\/$/, ''));
  if (exact !== undefined) return exact;
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    const handler = routes.get(`${path.slice(0, slash)}/*`);
    if (handler !== undefined) return handler;
  }
  return undefined;
}
