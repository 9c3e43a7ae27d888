import type { CheckInfo, HealthCheck } from './v1/task.ts';

/** Mesos's `HealthCheck` defaults (`mesos.proto`). */
export const HEALTH_CHECK_DEFAULTS = {
  delaySeconds: 15,
  intervalSeconds: 10,
  timeoutSeconds: 20,
  consecutiveFailures: 3,
  gracePeriodSeconds: 10,
} as const;

/**
 * What is wrong with a health check, as Mesos's `validateHealthCheck` says it (the master
 * refuses such a task, `TASK_ERROR`); `undefined` if nothing is.
 */
export function healthCheckProblem(check: HealthCheck): string | undefined {
  switch (check.type) {
    case undefined:
    case 'UNKNOWN':
      return "HealthCheck must specify 'type'";
    case 'COMMAND':
      if (check.command === undefined) return "Expecting 'command' to be set for COMMAND health check";
      if (check.command.value === undefined || check.command.value === '') return "Command health check must contain 'shell command' or 'value'";
      break;
    case 'HTTP':
      if (check.http === undefined) return "Expecting 'http' to be set for HTTP health check";
      if (check.http.scheme !== undefined && check.http.scheme !== 'http' && check.http.scheme !== 'https') return `Unsupported HTTP health check scheme: '${check.http.scheme}'`;
      if (check.http.path !== undefined && !check.http.path.startsWith('/')) return `The path '${check.http.path}' of HTTP health check must start with '/'`;
      break;
    case 'TCP':
      if (check.tcp === undefined) return "Expecting 'tcp' to be set for TCP health check";
      break;
  }
  for (const field of ['delay_seconds', 'interval_seconds', 'timeout_seconds', 'grace_period_seconds'] as const) {
    const value = check[field];
    if (value !== undefined && !(value >= 0)) return `Expecting '${field}' to be non-negative`;
  }
  return undefined;
}

/**
 * What is wrong with a general check (`TaskInfo.check`), as Mesos's `validateCheckInfo` says
 * it (the master refuses such a task, `TASK_ERROR`); `undefined` if nothing is.
 */
export function checkProblem(check: CheckInfo): string | undefined {
  switch (check.type) {
    case undefined:
    case 'UNKNOWN':
      return "CheckInfo must specify 'type'";
    case 'COMMAND':
      if (check.command === undefined) return "Expecting 'command' to be set for COMMAND check";
      if (check.command.command.value === undefined || check.command.command.value === '') return "Command check must contain 'shell command' or 'value'";
      break;
    case 'HTTP':
      if (check.http === undefined) return "Expecting 'http' to be set for HTTP check";
      if (check.http.path !== undefined && !check.http.path.startsWith('/')) return `The path '${check.http.path}' of HTTP check must start with '/'`;
      break;
    case 'TCP':
      if (check.tcp === undefined) return "Expecting 'tcp' to be set for TCP check";
      break;
  }
  for (const field of ['delay_seconds', 'interval_seconds', 'timeout_seconds'] as const) {
    const value = check[field];
    if (value !== undefined && !(value >= 0)) return `Expecting '${field}' to be non-negative`;
  }
  return undefined;
}
