import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route handler sees of a request; the body is read in full before dispatch. */
export interface HttpRequest {
  readonly method: string;
  /** The path below the process, e.g. `/state` for `/master/state`. */
  readonly path: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  /** The raw body as text (empty for GET). */
  readonly body: string;
  /** The client's address, `ip:port`. */
  readonly remote: string;
  /** Who the request authenticated as, on a route whose realm has an authenticator. */
  readonly principal?: string;
  /** The underlying response, for handlers that stream (RecordIO); they return `streaming()`. */
  readonly raw: { req: IncomingMessage; res: ServerResponse };
}

/** What a route handler answers; `body` objects are sent as JSON, strings as plain text. */
export interface HttpResponse {
  readonly status: number;
  readonly headers?: Record<string, string | number>;
  readonly body?: unknown;
  /** Set when the handler took over `raw.res` itself and the server must not write. */
  readonly streaming?: true;
}
