import type { Logger } from 'pino';
import { InvalidMessageError } from '../../src/errors.ts';
import { acceptsJson, APPLICATION_JSON, header } from '../../src/http/media.ts';
import { badRequest, jsonBody } from '../../src/http/response.ts';
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
