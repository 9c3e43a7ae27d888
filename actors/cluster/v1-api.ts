import type { Logger } from 'pino';
import { InvalidMessageError } from '../../src/errors.ts';
import { acceptsJson, APPLICATION_JSON, header } from '../../src/http/media.ts';
import { badRequest, jsonBody, ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import type { Metrics } from '../../src/metrics/metrics.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { MESOS_VERSION } from '../master/constants.ts';
import { VersionProcess, versionJSON } from '../master/version.ts';

/**
 * What the v1 operator APIs of the master (`master::Call`) and of the agent (`agent::Call`)
 * share: reading a call once the request passed `jsonPostProblem`, and the answers about the
 * process that answers rather than its books (GET_FLAGS, GET_VERSION, GET_METRICS,
 * GET_LOGGING_LEVEL).
 */

/**
 * The call in a JSON POST's body, parsed by `parse` (which throws an `InvalidMessageError`
 * naming the field: `400 Failed to validate <what>: ...`), or the answer that refuses it: an
 * `Accept` that rules out JSON is `406` (`who` answers in JSON only).
 */
export function readV1Call<C>(request: HttpRequest, parse: (json: unknown) => C, what: string, who: string): { call: C } | { response: HttpResponse } {
  let call: C;
  try {
    call = parse(jsonBody(request));
  } catch (error) {
    if (!(error instanceof InvalidMessageError)) throw error;
    return { response: badRequest(`Failed to validate ${what}: ${error.message}`) };
  }
  if (!acceptsJson(header(request, 'accept'))) {
    return { response: { status: 406, body: `Expecting 'Accept' to allow '${APPLICATION_JSON}' (${who} answers in JSON only)` } };
  }
  return { call };
}

/** `GetFlags`: each flag as the process shows it, by name. */
export function flagsResponse(flags: Readonly<Record<string, unknown>>) {
  const sorted = Object.entries(flags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { flags: sorted.map(([name, value]) => ({ name, value: String(value) })) };
}

/** `VersionInfo`: the build facts `/version` reports, when this runtime serves it; else the version only. */
export function versionInfo(runtime: Runtime): Record<string, string | number> {
  const process = runtime.process('version');
  return process instanceof VersionProcess ? versionJSON(process.build) : { version: MESOS_VERSION };
}

/**
 * `GetMetrics`: the runtime's metrics snapshot (what `/metrics/snapshot` answers) as `Metric`s.
 * Every metric is read at once, so a `timeout` never leaves one out.
 */
export function metricsResponse(metrics: Metrics) {
  return { metrics: Object.entries(metrics.snapshot()).map(([name, value]) => ({ name, value })) };
}

/**
 * `GetLoggingLevel`: Mesos answers glog's verbosity (`0`; libprocess logs at `1` to `3`). The
 * pino level maps onto it: `debug` is `1`, `trace` (everything) `3`, any other level `0`.
 */
export function loggingLevel(log: Logger): number {
  return log.level === 'trace' ? 3 : log.level === 'debug' ? 1 : 0;
}

/** What answers a call about the process itself. */
export interface AnsweringProcess {
  /** Its flags as it shows them, by name. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * The answer to a call about the process that answers (GET_HEALTH: one that answers is healthy,
 * as in Mesos; GET_FLAGS, GET_VERSION, GET_METRICS, GET_LOGGING_LEVEL), in the v1 `Response`
 * shape; `undefined` for any other call type.
 */
export function processCallAnswer(type: string, p: AnsweringProcess): HttpResponse | undefined {
  switch (type) {
    case 'GET_HEALTH':
      return ok({ type, get_health: { healthy: true } });
    case 'GET_FLAGS':
      return ok({ type, get_flags: flagsResponse(p.flags) });
    case 'GET_VERSION':
      return ok({ type, get_version: { version_info: versionInfo(p.runtime) } });
    case 'GET_METRICS':
      return ok({ type, get_metrics: metricsResponse(p.metrics) });
    case 'GET_LOGGING_LEVEL':
      return ok({ type, get_logging_level: { level: loggingLevel(p.log) } });
    default:
      return undefined;
  }
}
