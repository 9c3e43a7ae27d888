import { AUTHORIZATION_FLAGS, httpAuthentication, MASTER_AUTHENTICATION_FLAGS, masterAuthorizer } from '../cluster/authentication.ts';
import { agentFlags, type RecoverMode } from '../agent/flags.ts';
import { createLogger } from '../../src/logging.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { DEV_DEFAULTS, startEmbeddedCluster } from '../cluster/embedded.ts';
import { announceLeader } from '../detector/leader.ts';
import { COMMON_FLAGS, type Command } from './commands.ts';
import { atLeast, positive } from '../../src/cli/checks.ts';
import { formatDuration } from '../agent/flags.ts';
import { AGENT_REREGISTER_TIMEOUT_MS } from '../master/constants.ts';
import { ALLOCATOR_FLAGS, allocatorOptions, MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS_FLAG } from './master.ts';
import { untilSignal } from './signals.ts';

/** `mesos-ts dev`: a master, its allocator and N agents in one process (what `npm start` runs). */
export const devCommand: Command = {
  name: 'dev',
  summary: 'run a whole cluster in one process: master, allocator and agents (what `npm start` runs)',
  flags: [
    { name: 'agents', type: 'int', help: 'number of agents', default: DEV_DEFAULTS.agents },
    { name: 'resources', type: 'resources', help: "each agent's resources", default: DEV_DEFAULTS.resources },
    { name: 'attributes', type: 'string', help: "each agent's attributes, e.g. 'rack:r1;zone:a'" },
    { name: 'recover', type: 'string', help: "with --work_dir, what the agents do with the executors a previous run left: 'reconnect' (their tasks run on) or 'cleanup' (kill them; each agent then leaves, and the next start registers new agents)", default: 'reconnect' },
    { name: 'strict', type: 'bool', help: "with --work_dir, an agent checkpoint that cannot be read stops the cluster (exit 1); --no-strict recovers what it can read", default: true },
    { name: 'isolation', type: 'string', help: "the agents' isolators: 'posix/cpu,posix/mem' enforce nothing; 'cgroups/cpu,cgroups/mem' limit each container to its resources with cgroups v1 (needs root)", default: 'posix/cpu,posix/mem' },
    { name: 'ip', type: 'string', help: 'address to serve HTTP on', default: DEV_DEFAULTS.host },
    { name: 'port', type: 'int', help: 'HTTP port (master endpoints, agents, metrics)', default: DEV_DEFAULTS.port },
    { name: 'work_dir', type: 'string', help: "the agents' work directories and the master's registry (master/registry.json) go under it; a later run on it recovers them (default: a new temporary directory, registry in memory)" },
    {
      name: 'agent_reregister_timeout',
      type: 'duration',
      help: "with --work_dir: how long a later run's master waits for the agents its registry lists (those run before) to re-register; those that do not are marked unreachable",
      default: formatDuration(AGENT_REREGISTER_TIMEOUT_MS),
    },
    { name: 'allocation_interval', type: 'duration', help: 'time between batch allocations', default: '1secs' },
    { name: 'offer_timeout', type: 'duration', help: 'rescind offers unused this long (default: never)' },
    ...ALLOCATOR_FLAGS,
    MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS_FLAG,
    ...MASTER_AUTHENTICATION_FLAGS,
    ...AUTHORIZATION_FLAGS,
    ...COMMON_FLAGS,
  ],
  async run(flags) {
    const logger = createLogger({ level: flags.log_level as string, name: 'mesos-ts' });
    const agents = flags.agents as number;
    if (agents < 0) throw new Error(`invalid value '${agents}' for --agents: must be zero or more`);
    const maxOperatorEventStreamSubscribers = atLeast(flags, 'max_operator_event_stream_subscribers', 1);
    const agentReregisterTimeoutMs = positive(flags, 'agent_reregister_timeout');
    // The agents' options checked before anything starts: an `InvalidFlagError` names the flag (exit 2).
    agentFlags({
      master: 'master@check',
      workDir: 'check',
      resources: flags.resources as string,
      isolation: flags.isolation as string,
      recover: flags.recover as RecoverMode,
      strict: flags.strict as boolean,
      ...(flags.attributes !== undefined ? { attributes: flags.attributes as string } : {}),
    });
    // The master's and the agents' realms alike: one port, one --credentials.
    const auth = httpAuthentication(flags, 'credentials');
    const authorizer = masterAuthorizer(flags);
    const transport = flags.nats !== undefined ? new NatsTransport({ servers: flags.nats as string[], prefix: flags.nats_prefix as string, logger }) : undefined;
    const cluster = await startEmbeddedCluster({
      agents,
      resources: flags.resources as string,
      ...(flags.attributes !== undefined ? { attributes: flags.attributes as string } : {}),
      isolation: flags.isolation as string,
      recover: flags.recover as RecoverMode,
      strict: flags.strict as boolean,
      host: flags.ip as string,
      port: flags.port as number,
      ...(flags.work_dir !== undefined ? { workDir: flags.work_dir as string } : {}),
      ...(transport !== undefined ? { transport } : {}),
      logger,
      allocationIntervalMs: flags.allocation_interval as number,
      ...allocatorOptions(flags),
      ...(auth !== undefined ? { httpAuthentication: auth } : {}),
      master: {
        maxOperatorEventStreamSubscribers,
        agentReregisterTimeoutMs,
        ...(authorizer !== undefined ? { authorizer } : {}),
        ...(flags.offer_timeout !== undefined ? { offerTimeoutMs: flags.offer_timeout as number } : {}),
        flags: Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])),
      },
    });
    // On NATS, frameworks elsewhere find the master with `--master nats://...`.
    const unannounce = transport !== undefined ? announceLeader(transport, cluster.master, logger) : undefined;
    logger.info(
      { url: cluster.url, master: String(cluster.master.self), agents: cluster.agents.length, workDir: cluster.workDir },
      `Cluster running: web UI ${cluster.url}/, state ${cluster.url}/master/state; frameworks connect to ${String(cluster.master.self)}`,
    );
    const failure = await Promise.race([untilSignal().then(() => undefined), cluster.agentFailed]);
    if (failure !== undefined) logger.error({ reason: failure.message }, 'An agent failed; shutting the cluster down');
    else logger.info('Shutting down');
    unannounce?.();
    await cluster.stop();
    return failure !== undefined ? 1 : 0;
  },
};
