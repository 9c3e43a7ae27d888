import { BadRequestError } from '../errors.ts';
import type { HttpRequest, HttpResponse } from './types.ts';

/** `200` with a JSON body. */
export function ok(body: unknown = {}): HttpResponse {
  return { status: 200, body };
}

/** `202` with an empty body, as the Mesos v1 APIs answer calls. */
export function accepted(): HttpResponse {
  return { status: 202 };
}

/** `400` with the reason as plain text, as Mesos's `BadRequest`. */
export function badRequest(reason: string): HttpResponse {
  return { status: 400, body: reason };
}

export function notFound(reason = 'Not Found'): HttpResponse {
  return { status: 404, body: reason };
}

export function methodNotAllowed(allowed: string[], method: string): HttpResponse {
  return { status: 405, headers: { Allow: allowed.join(', ') }, body: `Expecting one of { '${allowed.join("', '")}' }, but received '${method}'` };
}

export function temporaryRedirect(location: string): HttpResponse {
  return { status: 307, headers: { Location: location } };
}

/** The handler wrote to `raw.res` itself. */
export function streaming(): HttpResponse {
  return { status: 200, streaming: true };
}

/** Parses the request body as JSON, throwing `BadRequestError` (answered with `400`) with the reason. */
export function jsonBody(request: HttpRequest): unknown {
  if (request.body.trim() === '') throw new BadRequestError('Expecting a JSON body, got an empty body');
  try {
    return JSON.parse(request.body);
  } catch (error) {
    throw new BadRequestError(`Failed to parse body into JSON: ${(error as Error).message}`);
  }
}

/**
 * `callback(<json>);` as `text/javascript` when the request has `?jsonp=callback`, as
 * libprocess's `OK(json, jsonp)`: how a page served from another origin (Mesos's web UI on the
 * master's port) reads an agent's JSON endpoints. Only a `200` with a JSON body is wrapped. Unlike
 * libprocess the callback must be a (dotted) JavaScript name, `angular.callbacks._0`: anything else
 * would be script chosen by whoever wrote the link.
 */
export function jsonp(response: HttpResponse, request: HttpRequest): HttpResponse {
  const callback = request.url.searchParams.get('jsonp');
  if (callback === null || response.status !== 200 || typeof response.body !== 'object') return response;
  if (!JSONP_CALLBACK.test(callback)) return badRequest(`Failed to parse query parameter 'jsonp': '${callback}' is not a JavaScript name`);
  return { status: 200, headers: { ...response.headers, 'Content-Type': 'text/javascript' }, body: `${callback}(${JSON.stringify(response.body)});` };
}

const JSONP_CALLBACK = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
