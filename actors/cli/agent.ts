import { AGENT_AUTHENTICATION_FLAGS, AGENT_AUTHORIZATION_FLAGS, agentAuthorizer, httpAuthentication } from '../cluster/authentication.ts';
import { logLevel, port, positive, stringMap } from '../../src/cli/checks.ts';
import { FlagError, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import { cliLogger } from '../../src/cli/logger.ts';
import { agentFlags, detectResources, formatDuration, thisMachine, type RecoverMode } from '../agent/flags.ts';
import {
  DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
  EXECUTOR_REGISTRATION_TIMEOUT_MS,
  EXECUTOR_REREGISTRATION_TIMEOUT_MS,
  EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS,
  DISK_WATCH_INTERVAL_MS,
  GC_DELAY_MS,
  GC_DISK_HEADROOM,
} from '../agent/constants.ts';
import { AGENT_DEFAULTS, startAgentNode, type AgentNodeOptions } from '../cluster/agent-node.ts';
import { DEFAULT_RECOVERY_TIMEOUT_MS } from '../executor/constants.ts';
import { DetectionAbortedError } from '../detector/errors.ts';
import { busTransport, masterAddress } from './bus.ts';
import { COMMON_FLAGS, type Command } from './commands.ts';
import { untilSignal } from './signals.ts';

const flags: FlagSpec[] = [
  { name: 'master', type: 'string', help: "the master: master@<node> on the bus, or nats://host:4222 to discover it (default with --nats: discover)" },
  { name: 'work_dir', type: 'string', help: 'sandboxes and checkpoints go under it', required: true },
  { name: 'resources', type: 'resources', help: "the agent's resources, e.g. 'cpus:4;mem:8192;ports:[31000-32000]'; each of cpus, mem, disk and ports not named is detected, as Mesos's agent does (every CPU, the memory less 1 GB, the work_dir's filesystem less 5 GB, ports [31000-32000])" },
  { name: 'attributes', type: 'string', help: "the agent's attributes, e.g. 'rack:r1;zone:a'" },
  { name: 'hostname', type: 'string', help: "the hostname the agent reports (default: the machine's hostname)" },
  { name: 'ip', type: 'string', help: 'address to serve HTTP on (0.0.0.0 for every interface)', default: AGENT_DEFAULTS.ip },
  { name: 'port', type: 'int', help: 'HTTP port: /slave(1)/state, /health, /metrics/snapshot', default: AGENT_DEFAULTS.port },
  { name: 'node', type: 'string', help: "this process's name on the bus; the agent is slave(1)@<node> (default: <hostname>-<pid>)" },
  { name: 'registration_backoff_factor', type: 'duration', help: 'bound of the first random delay before (re-)registering; doubles per attempt', default: formatDuration(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS) },
  { name: 'executor_registration_timeout', type: 'duration', help: 'how long an executor may take to register', default: formatDuration(EXECUTOR_REGISTRATION_TIMEOUT_MS) },
  { name: 'recovery_timeout', type: 'duration', help: "how long a checkpointing framework's executors wait for a restarted agent before they shut down", default: formatDuration(DEFAULT_RECOVERY_TIMEOUT_MS) },
  { name: 'recover', type: 'string', help: "after a restart, 'reconnect' to the executors of checkpointing frameworks that survived it (their tasks run on), or 'cleanup' (kill them, then exit; the next start registers as a new agent)", default: 'reconnect' },
  { name: 'strict', type: 'bool', help: "an error reading what a previous run checkpointed stops the agent (exit 1), touching nothing it left running; --no-strict recovers what it can read and goes on", default: true },
  { name: 'executor_environment_variables', type: 'string', help: 'the environment executors and their tasks start with, a JSON object: \'{"PATH":"/usr/bin:/bin"}\' (default: the agent\'s own environment)' },
  { name: 'isolation', type: 'string', help: "isolators, comma separated: 'posix/cpu,posix/mem' enforce nothing; 'cgroups/cpu,cgroups/mem' put each container in cgroups v1 limited to its resources (cpu.shares, memory limit; an OOM-killed task fails with REASON_CONTAINER_LIMITATION_MEMORY; needs root)", default: 'posix/cpu,posix/mem' },
  { name: 'cgroups_hierarchy', type: 'string', help: 'where the cgroups v1 hierarchies are mounted', default: '/sys/fs/cgroup' },
  { name: 'cgroups_root', type: 'string', help: "the agent's cgroup in each hierarchy; each container's goes under it", default: 'mesos' },
  { name: 'cgroups_enable_cfs', type: 'bool', help: "with cgroups/cpu, also cap each container's CPU time at its cpus (CFS quota), not only weigh it", default: false },
  { name: 'executor_reregistration_timeout', type: 'duration', help: 'how long a restarted agent waits for surviving executors to re-register before it kills them', default: formatDuration(EXECUTOR_REREGISTRATION_TIMEOUT_MS) },
  { name: 'executor_shutdown_grace_period', type: 'duration', help: 'how long an executor may take to shut down before it is killed', default: formatDuration(EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS) },
  { name: 'gc_delay', type: 'duration', help: "how long after an executor (or framework) is done its sandbox is deleted, at most; sooner as the disk fills", default: formatDuration(GC_DELAY_MS) },
  { name: 'gc_disk_headroom', type: 'number', help: 'the fraction of the disk to keep free, in [0, 1]: each disk watch deletes sandboxes that waited gc_delay * max(0, 1 - gc_disk_headroom - disk usage)', default: GC_DISK_HEADROOM },
  { name: 'disk_watch_interval', type: 'duration', help: 'how often the disk usage of --work_dir is measured (and sandboxes pruned)', default: formatDuration(DISK_WATCH_INTERVAL_MS) },
  ...AGENT_AUTHENTICATION_FLAGS,
  ...AGENT_AUTHORIZATION_FLAGS,
  ...COMMON_FLAGS,
];

/**
 * `mesos-ts agent`: one agent in its own OS process, serving HTTP on `--port`; its executors
 * are its child processes. It registers with `--master`, or with the master it discovers on
 * `--nats`. Ctrl-C (SIGINT, SIGTERM) stops it, leaving the executors of checkpointing frameworks
 * for its next run; SIGUSR1 makes it leave the cluster: it unregisters, shuts every executor down
 * (within its grace period), forgets its id and exits, as Mesos's agent does, and so does
 * `--recover=cleanup` once it killed what its previous run left.
 */
export const agentCommand: Command = {
  name: 'agent',
  summary: 'run an agent (HTTP on --port, default 5051) that registers with --master, or with the master it finds on --nats',
  flags,
  async run(values) {
    const level = logLevel(values);
    const httpPort = port(values);
    positive(values, 'registration_backoff_factor');
    const master = masterAddress(values);
    if (master?.kind === 'http') throw new FlagError('master', master.url, "an agent reaches its master on the bus: give master@<node> or nats://host:4222");
    if (master === undefined && values.nats === undefined) {
      throw new FlagError('master', undefined, 'is required without --nats (with --nats the agent discovers the leading master)');
    }
    if (master?.kind === 'upid' && values.nats === undefined) {
      throw new FlagError('master', String(master.upid), 'a master@<node> address needs --nats: without it this agent is alone on the local transport');
    }
    const options = agentOptions(values);
    // Every value checked before the agent waits for its master: an `InvalidFlagError` names the flag (exit 2).
    agentFlags({ ...options, master: 'master@check' });
    const logger = cliLogger(level);
    const transport = busTransport(values, logger, master);
    const stopping = new AbortController();
    const signal = untilSignal();
    void signal.then(() => stopping.abort());
    // When the agent ends for good, this process exits, as Mesos's agent does.
    let endedForGood!: (reason: string) => void;
    const shutDown = new Promise<string>((resolve) => (endedForGood = resolve));
    // And exits 1 when it failed (with --strict: it could not recover its checkpoints).
    let failed!: (error: Error) => void;
    const failure = new Promise<{ error: Error }>((resolve) => (failed = (error) => resolve({ error })));
    let node;
    try {
      node = await startAgentNode({
        ...options,
        ...(master !== undefined ? { master: master.kind === 'upid' ? String(master.upid) : master.servers.join(',') } : {}),
        ...(transport !== undefined ? { transport } : {}),
        ...(values.node !== undefined ? { node: values.node as string } : {}),
        logger,
        ip: values.ip as string,
        port: httpPort,
        signal: stopping.signal,
        onShutdown: endedForGood,
        onFailure: failed,
      });
    } catch (error) {
      if (error instanceof DetectionAbortedError) return 0;
      throw error;
    }
    logger.info(
      { agent: String(node.agent.self), master: String(node.master), url: node.url, work_dir: options.workDir, resources: String(node.agent.totalResources) },
      `Agent ${String(node.agent.self)} listening on ${node.url}, registering with ${String(node.master)}`,
    );
    // SIGUSR1, as Mesos's agent: leave the cluster for good (unregister, shut every executor down).
    const agent = node.agent;
    const onUsr1 = (): void => agent.unregister('Received SIGUSR1 signal from user');
    process.once('SIGUSR1', onUsr1);
    // The agent may also end for good by itself: the master told it to (it marked it gone),
    // SIGUSR1 above, or --recover=cleanup once it killed what its previous run left.
    const reason = await Promise.race([signal.then(() => undefined), shutDown, failure]);
    process.off('SIGUSR1', onUsr1);
    if (typeof reason === 'object') {
      logger.error({ reason: reason.error.message }, 'Agent failed; exiting');
      await node.stop();
      return 1;
    }
    if (reason === undefined) logger.info('Shutting down');
    else logger.warn({ reason }, 'Agent shut down for good; exiting (the next start registers as a new agent)');
    await node.stop();
    return 0;
  },
};

/**
 * The agent's own options from `mesos-ts agent`'s parsed flags (not the bus, the master, the
 * node or the HTTP address): what `Agent` takes as `AgentFlagsInput`.
 */
export function agentOptions(values: Record<string, FlagValue>): Pick<
  AgentNodeOptions,
  | 'workDir'
  | 'resources'
  | 'attributes'
  | 'hostname'
  | 'registrationBackoffFactorMs'
  | 'executorRegistrationTimeoutMs'
  | 'executorShutdownGracePeriodMs'
  | 'recoveryTimeoutMs'
  | 'recover'
  | 'strict'
  | 'isolation'
  | 'executorEnvironmentVariables'
  | 'cgroupsHierarchy'
  | 'cgroupsRoot'
  | 'cgroupsEnableCfs'
  | 'executorReregistrationTimeoutMs'
  | 'gcDelayMs'
  | 'gcDiskHeadroom'
  | 'diskWatchIntervalMs'
  | 'httpAuthentication'
  | 'authorizer'
> & { workDir: string } {
  const auth = httpAuthentication(values, 'http_credentials');
  const authorizer = agentAuthorizer(values);
  return {
    workDir: values.work_dir as string,
    resources: completeResources(values.resources as string | undefined, values.work_dir as string),
    ...(values.attributes !== undefined ? { attributes: values.attributes as string } : {}),
    ...(values.hostname !== undefined ? { hostname: values.hostname as string } : {}),
    registrationBackoffFactorMs: values.registration_backoff_factor as number,
    executorRegistrationTimeoutMs: values.executor_registration_timeout as number,
    executorShutdownGracePeriodMs: values.executor_shutdown_grace_period as number,
    recoveryTimeoutMs: values.recovery_timeout as number,
    recover: values.recover as RecoverMode,
    strict: values.strict as boolean,
    isolation: values.isolation as string,
    ...(values.executor_environment_variables !== undefined ? { executorEnvironmentVariables: stringMap(values, 'executor_environment_variables') } : {}),
    cgroupsHierarchy: values.cgroups_hierarchy as string,
    cgroupsRoot: values.cgroups_root as string,
    cgroupsEnableCfs: values.cgroups_enable_cfs as boolean,
    executorReregistrationTimeoutMs: values.executor_reregistration_timeout as number,
    gcDelayMs: values.gc_delay as number,
    gcDiskHeadroom: values.gc_disk_headroom as number,
    diskWatchIntervalMs: values.disk_watch_interval as number,
    ...(auth !== undefined ? { httpAuthentication: auth } : {}),
    ...(authorizer !== undefined ? { authorizer } : {}),
  };
}

/**
 * `--resources` with what it does not name detected from this machine (`detectResources`). A
 * value that is not a resource string is returned as given, for `agentFlags` to refuse naming it.
 */
function completeResources(given: string | undefined, workDir: string): string {
  try {
    return detectResources(given ?? '', thisMachine(workDir));
  } catch {
    return given ?? '';
  }
}
