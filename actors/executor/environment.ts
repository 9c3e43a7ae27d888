import type { UPID } from '../../src/process/upid.ts';
import { printablePath, socketPathFromPrintable } from '../../src/transport/socket.ts';
import { DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS, DEFAULT_RECOVERY_TIMEOUT_MS } from './constants.ts';
import { ExecutorEnvironmentError } from './errors.ts';

/**
 * The environment an agent gives the executors it launches, as Mesos's `executorEnvironment()`
 * builds it, plus `MESOS_TS_EXECUTOR_NODE` (the node name the executor's runtime must use) and
 * `MESOS_TS_AGENT_SOCKET` (the socket it reaches the agent over, and reconnects to after the
 * agent restarted). `ExecutorDriver` reads it back with `readExecutorEnvironment`.
 *
 * As in Mesos, one environment serves both kinds of executor: a driver-based one reaches the
 * agent at its UPID (`MESOS_SLAVE_PID`, here over the agent's executor socket), an HTTP one (in any language)
 * at `MESOS_AGENT_ENDPOINT`, the `ip:port` of the agent's HTTP server (`POST
 * http://$MESOS_AGENT_ENDPOINT/api/v1/executor`), set when the agent's runtime serves HTTP.
 */

export const MESOS_FRAMEWORK_ID = 'MESOS_FRAMEWORK_ID';
export const MESOS_EXECUTOR_ID = 'MESOS_EXECUTOR_ID';
export const MESOS_DIRECTORY = 'MESOS_DIRECTORY';
export const MESOS_SANDBOX = 'MESOS_SANDBOX';
/** The `ip:port` (no scheme) of the agent's HTTP server, where HTTP executors call `/api/v1/executor`. */
export const MESOS_AGENT_ENDPOINT = 'MESOS_AGENT_ENDPOINT';
/** The agent's UPID (`slave(1)@agent-node`), what the executor driver registers with. */
export const MESOS_SLAVE_PID = 'MESOS_SLAVE_PID';
/** `1` when the framework checkpoints: the executor then survives an agent restart. */
export const MESOS_CHECKPOINT = 'MESOS_CHECKPOINT';
/** How long to wait for a restarted agent, a Mesos duration (`15mins`). */
export const MESOS_RECOVERY_TIMEOUT = 'MESOS_RECOVERY_TIMEOUT';
/** How long the executor may take to shut down, a Mesos duration (`5secs`). */
export const MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD = 'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD';
/** The longest wait between an HTTP executor's attempts to (re-)subscribe, a Mesos duration. */
export const MESOS_SUBSCRIPTION_BACKOFF_MAX = 'MESOS_SUBSCRIPTION_BACKOFF_MAX';
/** `1` when the command executor speaks HTTP; this agent's built-in one runs in its runtime, so `0`. */
export const MESOS_HTTP_COMMAND_EXECUTOR = 'MESOS_HTTP_COMMAND_EXECUTOR';

/** Mesos's `EXECUTOR_REREGISTRATION_RETRY_INTERVAL_MAX`, given as `MESOS_SUBSCRIPTION_BACKOFF_MAX`. */
export const SUBSCRIPTION_BACKOFF_MAX_MS = 15_000;
/** The node name of the executor's runtime (ours, not Mesos's). */
export const MESOS_TS_EXECUTOR_NODE = 'MESOS_TS_EXECUTOR_NODE';
/**
 * The Unix socket the agent listens on for its executors' runtimes (ours, not Mesos's): a path,
 * or `@name` for a name in Linux's abstract namespace (an environment cannot hold its leading NUL).
 */
export const MESOS_TS_AGENT_SOCKET = 'MESOS_TS_AGENT_SOCKET';
/**
 * The secret an executor shows in its hello on the agent's socket (ours, as Mesos's
 * `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`): no other local process can take its place.
 */
export const MESOS_TS_EXECUTOR_TOKEN = 'MESOS_TS_EXECUTOR_TOKEN';
/**
 * The memory cgroup of the executor's container, when the agent isolates memory (`cgroups/mem`;
 * ours): the command executor in a process of its own reads from it whether its task was
 * OOM-killed (`REASON_CONTAINER_LIMITATION_MEMORY`).
 */
export const MESOS_TS_MEMORY_CGROUP = 'MESOS_TS_MEMORY_CGROUP';

export interface ExecutorEnvironment {
  frameworkId: string;
  executorId: string;
  /** The sandbox (`MESOS_DIRECTORY`, also `MESOS_SANDBOX`). */
  directory: string;
  agent: UPID | string;
  /** `ip:port` of the agent's HTTP server (`MESOS_AGENT_ENDPOINT`); unset when it serves none. */
  endpoint?: string;
  /** The executor runtime's node; see `executorNodeName`. */
  node: string;
  /** The agent's executor socket (`ExecutorSocketServer.path`). */
  socket?: string;
  /** The executor's secret for the socket's hello. */
  token?: string;
  checkpoint?: boolean;
  recoveryTimeoutMs?: number;
  shutdownGracePeriodMs?: number;
}

/**
 * The variables an agent sets for an executor it launches.
 *
 * @example
 * const node = executorNodeName(runtime.node, containerId);
 * const env = { ...inherited, ...executorEnvironment({ frameworkId, executorId, directory, agent: self, node }) };
 */
export function executorEnvironment(e: ExecutorEnvironment): Record<string, string> {
  return {
    [MESOS_FRAMEWORK_ID]: e.frameworkId,
    [MESOS_EXECUTOR_ID]: e.executorId,
    [MESOS_DIRECTORY]: e.directory,
    [MESOS_SANDBOX]: e.directory,
    ...(e.endpoint !== undefined ? { [MESOS_AGENT_ENDPOINT]: e.endpoint } : {}),
    [MESOS_SLAVE_PID]: String(e.agent),
    [MESOS_HTTP_COMMAND_EXECUTOR]: '0',
    [MESOS_CHECKPOINT]: e.checkpoint === true ? '1' : '0',
    [MESOS_RECOVERY_TIMEOUT]: formatDuration(e.recoveryTimeoutMs ?? DEFAULT_RECOVERY_TIMEOUT_MS),
    [MESOS_SUBSCRIPTION_BACKOFF_MAX]: formatDuration(SUBSCRIPTION_BACKOFF_MAX_MS),
    [MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD]: formatDuration(e.shutdownGracePeriodMs ?? DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS),
    [MESOS_TS_EXECUTOR_NODE]: e.node,
    ...(e.socket !== undefined ? { [MESOS_TS_AGENT_SOCKET]: printablePath(e.socket) } : {}),
    ...(e.token !== undefined ? { [MESOS_TS_EXECUTOR_TOKEN]: e.token } : {}),
  };
}

/**
 * The node name for the runtime of an executor the agent on `agentNode` runs in container
 * `containerId`: `<agentNode>-executor-<containerId>`, with characters a node name cannot hold
 * replaced by `_`. Unique per agent as container ids are.
 */
export function executorNodeName(agentNode: string, containerId: string): string {
  return `${agentNode}-executor-${containerId}`.replace(/[^A-Za-z0-9_\-:]/g, '_');
}

/** What `ExecutorDriver` needs from its environment, parsed. */
export interface ParsedExecutorEnvironment {
  frameworkId: string;
  executorId: string;
  directory: string;
  agent: string;
  node: string;
  /** The agent's executor socket, as `net.connect` takes it. */
  socket: string;
  /** The executor's secret for the socket's hello, if the agent gave one. */
  token: string | undefined;
  checkpoint: boolean;
  recoveryTimeoutMs: number;
  shutdownGracePeriodMs: number;
}

/** Reads the executor environment; throws `ExecutorEnvironmentError` naming a missing or bad variable. */
export function readExecutorEnvironment(env: NodeJS.ProcessEnv = process.env): ParsedExecutorEnvironment {
  const required = (name: string, value = env[name]): string => {
    if (value === undefined || value === '') throw new ExecutorEnvironmentError(`expecting '${name}' to be set in the environment`);
    return value;
  };
  const duration = (name: string, fallback: number): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const ms = parseDuration(value);
    if (ms === undefined) throw new ExecutorEnvironmentError(`invalid '${name}' '${value}': must be a duration such as '5secs' or '500ms'`);
    return ms;
  };
  return {
    frameworkId: required(MESOS_FRAMEWORK_ID),
    executorId: required(MESOS_EXECUTOR_ID),
    directory: required(MESOS_DIRECTORY, env[MESOS_DIRECTORY] || env[MESOS_SANDBOX]),
    // An older agent of this project gave the UPID as `MESOS_AGENT_ENDPOINT`; an `ip:port` is not one.
    agent: required(MESOS_SLAVE_PID, env[MESOS_SLAVE_PID] || (env[MESOS_AGENT_ENDPOINT]?.includes('@') === true ? env[MESOS_AGENT_ENDPOINT] : undefined)),
    node: required(MESOS_TS_EXECUTOR_NODE),
    socket: socketPathFromPrintable(required(MESOS_TS_AGENT_SOCKET)),
    token: env[MESOS_TS_EXECUTOR_TOKEN] || undefined,
    checkpoint: env[MESOS_CHECKPOINT] === '1',
    recoveryTimeoutMs: duration(MESOS_RECOVERY_TIMEOUT, DEFAULT_RECOVERY_TIMEOUT_MS),
    shutdownGracePeriodMs: duration(MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD, DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS),
  };
}

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  secs: 1_000,
  mins: 60_000,
  hrs: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** Parses a Mesos duration (`5secs`, `1.5mins`, `200ms`) into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|secs|mins|hrs|days|weeks)\s*$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** Renders milliseconds as a Mesos duration. */
export function formatDuration(ms: number): string {
  return Number.isInteger(ms / 1_000) ? `${ms / 1_000}secs` : `${ms}ms`;
}
