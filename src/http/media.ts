import { badRequest, methodNotAllowed } from './response.ts';
import type { HttpRequest, HttpResponse } from './types.ts';

/**
 * Headers and media types as the Mesos v1 HTTP APIs read them (libprocess's `Request`
 * helpers): the APIs here speak JSON only, and refuse protobuf by name.
 */

export const APPLICATION_JSON = 'application/json';
export const APPLICATION_PROTOBUF = 'application/x-protobuf';

/** A request header as one string (node lower-cases names; a repeated one is joined). */
export function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `application/json; charset=utf-8` -> `application/json`. */
export function mediaType(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Whether an `Accept` header admits `application/json` (RFC 7231: absent means anything; a
 * range with `q=0` refuses), as libprocess's `Request::acceptsMediaType`.
 *
 * @example
 * acceptsJson('text/html, application/json;q=0.5'); // true
 * acceptsJson('application/x-protobuf'); // false
 */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  let best = -1;
  let bestQ = 0;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const specificity = range === APPLICATION_JSON ? 2 : range === 'application/*' ? 1 : range === '*/*' ? 0 : -1;
    if (specificity < 0 || specificity < best) continue;
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (specificity > best || weight > bestQ) {
      best = specificity;
      bestQ = Number.isFinite(weight) ? weight : 0;
    }
  }
  return best >= 0 && bestQ > 0;
}

/**
 * Why a v1 API request is refused before its body is read, in Mesos's order: not POST `405`; no
 * `Content-Type` `400`; protobuf `415` naming it (`who` speaks the API in JSON only: "this agent
 * speaks the executor API"); another media type `415`. `undefined`: a JSON POST.
 */
export function jsonPostProblem(request: HttpRequest, who: string): HttpResponse | undefined {
  if (request.method !== 'POST') return methodNotAllowed(['POST'], request.method);
  const contentType = header(request, 'content-type');
  if (contentType === undefined) return badRequest("Expecting 'Content-Type' to be present");
  const media = mediaType(contentType);
  if (media === APPLICATION_PROTOBUF) {
    return { status: 415, body: `Expecting 'Content-Type' of ${APPLICATION_JSON}: ${who} in JSON only, not ${APPLICATION_PROTOBUF}` };
  }
  if (media !== APPLICATION_JSON) return { status: 415, body: `Expecting 'Content-Type' of ${APPLICATION_JSON}, got '${contentType}'` };
  return undefined;
}
