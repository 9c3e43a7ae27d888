import { AUTHORIZATION_FLAGS, httpAuthentication, MASTER_AUTHENTICATION_FLAGS, masterAuthorizer } from '../cluster/authentication.ts';
import { hostname as osHostname } from 'node:os';
import { atLeast, logLevel, oneOf, optionalPositive, port, positive, roleWeights } from '../../src/cli/checks.ts';
import { FlagError, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import { cliLogger } from '../../src/cli/logger.ts';
import { parseMinAllocatableResources } from '../allocator/allocatable.ts';
import { ALLOCATION_INTERVAL_MS, DEFAULT_MIN_ALLOCATABLE_RESOURCES } from '../allocator/constants.ts';
import { formatDuration } from '../agent/flags.ts';
import type { SorterKind } from '../allocator/allocator-process.ts';
import { MASTER_DEFAULTS, startMasterNode, type MasterNodeOptions } from '../cluster/master-node.ts';
import { LEADER_LEASE_MS, MIN_LEADER_LEASE_MS } from '../detector/constants.ts';
import {
  AGENT_PING_TIMEOUT_MS,
  AGENT_REREGISTER_TIMEOUT_MS,
  MAX_AGENT_PING_TIMEOUTS,
  MAX_COMPLETED_FRAMEWORKS,
  MAX_COMPLETED_TASKS_PER_FRAMEWORK,
  MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS,
} from '../master/constants.ts';
import { RECOVERY_AGENT_REMOVAL_LIMIT } from '../master/registry.ts';
import { busTransport, flagsJSON } from './bus.ts';
import { COMMON_FLAGS, type Command } from './commands.ts';
import { untilSignal } from './signals.ts';

/** The allocator's Mesos flags, shared by `mesos-ts master` and `mesos-ts dev`. */
export const ALLOCATOR_FLAGS: FlagSpec[] = [
  {
    name: 'min_allocatable_resources',
    type: 'string',
    help: "the least an offer may hold: sets of 'name:quantity' joined by ';', alternatives by '|' (ranges and sets count their items; '' for no minimum)",
    default: DEFAULT_MIN_ALLOCATABLE_RESOURCES,
  },
  { name: 'role_sorter', type: 'string', help: "how the allocator orders roles: 'drf' (lowest weighted dominant share first) or 'random' (weighted shuffle)", default: 'drf' },
  { name: 'framework_sorter', type: 'string', help: "how the allocator orders the frameworks of one role: 'drf' or 'random', as --role_sorter", default: 'drf' },
  {
    name: 'weights',
    type: 'list',
    help: "role weights, 'role=weight' pairs joined by ',' (e.g. 'eng=2,ads=0.5'): a role of weight 2 is owed twice the share of one of weight 1; unlisted roles weigh 1; bootstraps the weights: once the registry has weights they win, and UPDATE_WEIGHTS or PUT /master/weights change them (deprecated in Mesos for the same reason)",
  },
  { name: 'filter_gpu_resources', type: 'bool', help: 'offer agents with GPUs only to frameworks with the GPU_RESOURCES capability', default: true },
];

/** `--max_operator_event_stream_subscribers`, shared by `mesos-ts master` and `mesos-ts dev`. */
export const MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS_FLAG: FlagSpec = {
  name: 'max_operator_event_stream_subscribers',
  type: 'int',
  help: 'operator API event streams (SUBSCRIBE to /api/v1) open at once; a new one beyond this closes the oldest',
  default: MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS,
};

const flags: FlagSpec[] = [
  { name: 'ip', type: 'string', help: 'address to serve HTTP on (0.0.0.0 for every interface)', default: MASTER_DEFAULTS.ip },
  { name: 'port', type: 'int', help: 'HTTP port: /master/state, /health, /metrics/snapshot', default: MASTER_DEFAULTS.port },
  { name: 'hostname', type: 'string', help: "the hostname the master advertises (default: --ip, or the machine's hostname when --ip is 0.0.0.0)" },
  { name: 'node', type: 'string', help: "this process's name on the bus; the master is master@<node> (default: <hostname>-<pid>)" },
  { name: 'work_dir', type: 'string', help: 'where the master keeps its registry (reserved: the registry is in memory, or with --nats in the bus\'s JetStream KV)' },
  { name: 'agent_ping_timeout', type: 'duration', help: 'how long the master waits for an agent to answer a ping', default: formatDuration(AGENT_PING_TIMEOUT_MS) },
  { name: 'max_agent_ping_timeouts', type: 'int', help: 'missed pings in a row after which an agent is removed', default: MAX_AGENT_PING_TIMEOUTS },
  { name: 'allocation_interval', type: 'duration', help: 'time between batch allocations', default: formatDuration(ALLOCATION_INTERVAL_MS) },
  { name: 'offer_timeout', type: 'duration', help: 'rescind offers unused this long (default: never)' },
  {
    name: 'leader_lease',
    type: 'duration',
    help: "with --nats: the leading master's lease on the bus (a JetStream KV key it renews every third of it); a standby replaces a leader that died within this and a third (Mesos's --zk_session_timeout)",
    default: formatDuration(LEADER_LEASE_MS),
  },
  {
    name: 'agent_reregister_timeout',
    type: 'duration',
    help: 'with --nats: how long a newly elected master waits for the agents its registry lists to re-register; those that do not are marked unreachable (Mesos requires at least 10mins; shorter is allowed here)',
    default: formatDuration(AGENT_REREGISTER_TIMEOUT_MS),
  },
  {
    name: 'recovery_agent_removal_limit',
    type: 'string',
    help: "with --nats: the most of the agents in the registry a newly elected master marks unreachable after --agent_reregister_timeout, a percentage ('100%'); above it, it marks none and logs an error (Mesos's master exits)",
    default: `${RECOVERY_AGENT_REMOVAL_LIMIT * 100}%`,
  },
  ...ALLOCATOR_FLAGS,
  { name: 'max_completed_frameworks', type: 'int', help: 'completed frameworks kept for /master/state', default: MAX_COMPLETED_FRAMEWORKS },
  { name: 'max_completed_tasks_per_framework', type: 'int', help: 'completed tasks kept per framework', default: MAX_COMPLETED_TASKS_PER_FRAMEWORK },
  MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS_FLAG,
  ...MASTER_AUTHENTICATION_FLAGS,
  ...AUTHORIZATION_FLAGS,
  ...COMMON_FLAGS,
];

/** How long a master that lost the lead waits for its clean shutdown before it exits anyway. */
const LOST_LEADERSHIP_STOP_MS = 5_000;

/**
 * `mesos-ts master`: the master and its allocator in one OS process, serving HTTP on `--port`.
 * With `--nats` it contends for the lead on the bus (several masters may run against one NATS);
 * the leader is the one agents and frameworks find there (`<prefix>.leader.info`), the others
 * stand by. A leader that loses the lead exits non-zero, as Mesos's does.
 */
export const masterCommand: Command = {
  name: 'master',
  summary: 'run a master and its allocator (HTTP on --port, default 5050); with --nats masters elect a leader, which agents and frameworks find on the bus',
  flags,
  async run(values) {
    const level = logLevel(values);
    const options = masterNodeOptions(values);
    const logger = cliLogger(level);
    const transport = busTransport(values, logger);
    let lost!: (reason: string) => void;
    const lostLeadership = new Promise<string>((resolve) => (lost = resolve));
    const node = await startMasterNode({
      ...options,
      ...(transport !== undefined ? { transport, onLostLeadership: lost } : {}),
      ...(values.node !== undefined ? { node: values.node as string } : {}),
      logger,
    });
    // One line for people and scripts: the master's address on the bus and over HTTP.
    logger.info(
      { master: String(node.master.self), url: node.url, transport: node.runtime.transport.describe() },
      `Master ${String(node.master.self)} listening on ${node.url}`,
    );
    const ended = await Promise.race([untilSignal().then(() => undefined), lostLeadership]);
    if (ended === undefined) {
      logger.info('Shutting down');
      await node.stop();
      return 0;
    }
    // As Mesos's master ("Lost leadership... committing suicide!"): agents and frameworks
    // re-register with the next leader, which rebuilds its state from them.
    logger.error({ reason: ended }, 'Lost leadership; exiting');
    await Promise.race([node.stop(), new Promise((resolve) => setTimeout(resolve, LOST_LEADERSHIP_STOP_MS).unref())]);
    return 1;
  },
};

/** The sorters Mesos's `--role_sorter` and `--framework_sorter` take. */
const SORTERS: readonly SorterKind[] = ['drf', 'random'];

/**
 * What `mesos-ts master` starts its node with, from its parsed flags (all but the bus, the
 * node name and the logger), every value checked: a `FlagError` names the flag (exit 2).
 */
export function masterNodeOptions(values: Record<string, FlagValue>): Omit<MasterNodeOptions, 'transport' | 'node' | 'logger'> {
  const agentPingTimeoutMs = positive(values, 'agent_ping_timeout');
  const maxAgentPingTimeouts = atLeast(values, 'max_agent_ping_timeouts', 1);
  const allocationIntervalMs = positive(values, 'allocation_interval');
  const offerTimeoutMs = optionalPositive(values, 'offer_timeout');
  const leaderLeaseMs = positive(values, 'leader_lease');
  if (leaderLeaseMs < MIN_LEADER_LEASE_MS) {
    throw new FlagError('leader_lease', formatDuration(leaderLeaseMs), `must be at least ${formatDuration(MIN_LEADER_LEASE_MS)}: the leader renews it every third of it`);
  }
  const agentReregisterTimeoutMs = positive(values, 'agent_reregister_timeout');
  const recoveryAgentRemovalLimit = percentage(values, 'recovery_agent_removal_limit');
  const allocation = allocatorOptions(values);
  const maxCompletedFrameworks = atLeast(values, 'max_completed_frameworks', 0);
  const maxCompletedTasksPerFramework = atLeast(values, 'max_completed_tasks_per_framework', 0);
  const maxOperatorEventStreamSubscribers = atLeast(values, 'max_operator_event_stream_subscribers', 1);
  const httpPort = port(values);
  const auth = httpAuthentication(values, 'credentials');
  const authorizer = masterAuthorizer(values);
  // Listening on every interface, the master advertises the machine's name (Mesos resolves its IP's).
  const ip = values.ip as string;
  const hostname = (values.hostname as string | undefined) ?? (ip === '0.0.0.0' || ip === '::' ? osHostname() : undefined);
  return {
    ip,
    port: httpPort,
    allocationIntervalMs,
    leaderLeaseMs,
    ...allocation,
    ...(auth !== undefined ? { httpAuthentication: auth } : {}),
    master: {
      agentPingTimeoutMs,
      maxAgentPingTimeouts,
      agentReregisterTimeoutMs,
      recoveryAgentRemovalLimit,
      maxCompletedFrameworks,
      maxCompletedTasksPerFramework,
      maxOperatorEventStreamSubscribers,
      ...(offerTimeoutMs !== undefined ? { offerTimeoutMs } : {}),
      ...(hostname !== undefined ? { hostname } : {}),
      ...(authorizer !== undefined ? { authorizer } : {}),
      flags: flagsJSON(flags, values),
    },
  };
}

/**
 * A percentage flag as Mesos reads one (`100%`; the `%` may be left out), as a fraction; a
 * `FlagError` names the flag unless it is a number from 0 to 100.
 */
function percentage(values: Record<string, FlagValue>, name: string): number {
  const text = values[name] as string;
  const number = text.trim().replace(/%$/, '');
  const value = number === '' ? Number.NaN : Number(number);
  if (!Number.isFinite(value) || value < 0 || value > 100) throw new FlagError(name, text, "must be a percentage from 0% to 100% (e.g. '50%')");
  return value / 100;
}

/**
 * The allocator's options from `ALLOCATOR_FLAGS` (`--min_allocatable_resources`, the sorters,
 * `--filter_gpu_resources`, `--weights`), every value checked: a `FlagError` names the flag.
 */
export function allocatorOptions(values: Record<string, FlagValue>): Pick<MasterNodeOptions, 'allocator' | 'weights'> {
  const minAllocatableResources = values.min_allocatable_resources as string;
  try {
    parseMinAllocatableResources(minAllocatableResources);
  } catch (error) {
    throw new FlagError('min_allocatable_resources', minAllocatableResources, (error as Error).message);
  }
  const roleSorter = oneOf(values, 'role_sorter', SORTERS);
  const frameworkSorter = oneOf(values, 'framework_sorter', SORTERS);
  const weights = roleWeights(values, 'weights');
  return {
    allocator: { minAllocatableResources, filterGpuResources: values.filter_gpu_resources as boolean, roleSorter, frameworkSorter },
    ...(Object.keys(weights).length > 0 ? { weights } : {}),
  };
}
