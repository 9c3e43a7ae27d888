import test from 'ava';
import { pino } from 'pino';
import { devCommand } from '../../actors/cli/dev.ts';
import { allocatorOptions, masterCommand, masterNodeOptions } from '../../actors/cli/master.ts';
import { startEmbeddedCluster } from '../../actors/cluster/embedded.ts';
import type { HierarchicalAllocation } from '../../actors/allocator/hierarchical.ts';
import { startMasterNode, type MasterNode } from '../../actors/cluster/master-node.ts';
import { FlagError, flagsHelp, parseFlags } from '../../src/cli/flags.ts';
import { Resources } from '../../src/mesos/resources.ts';

/**
 * The allocator flags of `mesos-ts master` reach the allocator: a master node started from the
 * parsed flags (as `mesos-ts master` starts it) shows their effect. The batch interval is a day,
 * so that no batch cycle runs while a test drives the allocation itself.
 */

const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
let nodes = 0;

const distinct = (items: string[]): string[] => [...new Set(items)].sort();

async function masterWith(t: { teardown(fn: () => Promise<void>): void }, argv: string[], env: Record<string, string> = {}): Promise<MasterNode> {
  const values = parseFlags(masterCommand.flags, ['--port=0', '--allocation_interval=1days', ...argv], env);
  const node = await startMasterNode({ ...masterNodeOptions(values), node: `flags-master-${++nodes}`, logger });
  t.teardown(() => node.stop());
  return node;
}

/**
 * Who gets the one free cpu, over `rounds` cycles: framework `fa` already holds a whole agent of
 * 8 cpus, `fb` nothing, so DRF always prefers `fb` (or its role); a random sorter does not.
 */
function winners(allocation: HierarchicalAllocation, roles: { fa: string; fb: string }, rounds = 32): string[] {
  allocation.addFramework('fa', { roles: [roles.fa] });
  allocation.addFramework('fb', { roles: [roles.fb] });
  allocation.addAgent('busy', Resources.parse('cpus:8'), [{ frameworkId: 'fa', resources: Resources.parse('cpus:8') }]);
  allocation.addAgent('free', Resources.parse('cpus:1'));
  const out: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const offers = allocation.allocate(i).filter((o) => o.agentId === 'free');
    if (offers.length !== 1) throw new Error(`round ${i}: expected one offer of agent 'free', got ${offers.length}`);
    const offer = offers[0]!;
    out.push(offer.frameworkId);
    allocation.recoverResources(offer.frameworkId, offer.agentId, offer.resources);
  }
  return out;
}

test('flags - --role_sorter and --framework_sorter default to drf, which always offers to the lowest share', async (t) => {
  const node = await masterWith(t, []);
  t.deepEqual(distinct(winners(node.allocator.allocation, { fa: 'a', fb: 'b' })), ['fb']);
  t.is(node.master.options.flags.role_sorter, 'drf');
});

test('flags - --role_sorter=random reaches the allocator: roles come in a random order', async (t) => {
  const node = await masterWith(t, ['--role_sorter=random']);
  t.deepEqual(distinct(winners(node.allocator.allocation, { fa: 'a', fb: 'b' })), ['fa', 'fb']);
});

test('flags - --framework_sorter=random (from the environment) reaches the allocator: frameworks of a role in a random order', async (t) => {
  const node = await masterWith(t, [], { MESOS_TS_FRAMEWORK_SORTER: 'random' });
  t.deepEqual(distinct(winners(node.allocator.allocation, { fa: 'web', fb: 'web' })), ['fa', 'fb']);
  // The role sorter stays DRF: with two roles the lower share still always wins.
  const other = await masterWith(t, [], { MESOS_TS_FRAMEWORK_SORTER: 'random' });
  t.deepEqual(distinct(winners(other.allocator.allocation, { fa: 'a', fb: 'b' })), ['fb']);
});

test('flags - --weights reaches the allocator before its first cycle, and /master/state shows the flag', async (t) => {
  const node = await masterWith(t, ['--weights', 'eng=2,ads=0.5']);
  const allocation = node.allocator.allocation;
  t.is(allocation.weight('eng'), 2);
  t.is(allocation.weight('ads'), 0.5);
  t.is(allocation.weight('other'), 1);
  t.is(node.master.options.flags.weights, 'eng=2,ads=0.5');
  t.deepEqual(node.master.options.weights, { eng: 2, ads: 0.5 }, 'the master knows them too, for GET_ROLES');
});

test('flags - --weights from the environment changes who DRF favours', async (t) => {
  // `a` holds 6 of 9 cpus and `b` 2: unweighted, DRF offers the free cpu to `b`; at weight 100
  // the weighted share of `a` (6/9/100) is the lower one, and `a` gets it.
  const node = await masterWith(t, [], { MESOS_TS_WEIGHTS: 'a=100' });
  const allocation = node.allocator.allocation;
  allocation.addFramework('fa', { roles: ['a'] });
  allocation.addFramework('fb', { roles: ['b'] });
  allocation.addAgent('busy', Resources.parse('cpus:8'), [{ frameworkId: 'fa', resources: Resources.parse('cpus:6') }, { frameworkId: 'fb', resources: Resources.parse('cpus:2') }]);
  allocation.addAgent('free', Resources.parse('cpus:1'));
  const offers = allocation.allocate(0).filter((o) => o.agentId === 'free');
  t.deepEqual(offers.map((o) => o.frameworkId), ['fa']);
});

test('flags - without --weights every role weighs 1, and DRF offers to the lower share', async (t) => {
  const node = await masterWith(t, []);
  const allocation = node.allocator.allocation;
  allocation.addFramework('fa', { roles: ['a'] });
  allocation.addFramework('fb', { roles: ['b'] });
  allocation.addAgent('busy', Resources.parse('cpus:8'), [{ frameworkId: 'fa', resources: Resources.parse('cpus:6') }, { frameworkId: 'fb', resources: Resources.parse('cpus:2') }]);
  allocation.addAgent('free', Resources.parse('cpus:1'));
  t.deepEqual(allocation.allocate(0).filter((o) => o.agentId === 'free').map((o) => o.frameworkId), ['fb']);
});

test('flags - mesos-ts dev takes the same allocator flags: --weights and --role_sorter reach its allocator', async (t) => {
  const values = parseFlags(devCommand.flags, ['--port=0', '--agents=0', '--allocation_interval=1days', '--weights=eng=3', '--role_sorter=random'], {});
  const cluster = await startEmbeddedCluster({ agents: 0, port: 0, allocationIntervalMs: values.allocation_interval as number, ...allocatorOptions(values), logger });
  t.teardown(() => cluster.stop());
  t.is(cluster.allocator.allocation.weight('eng'), 3);
  t.deepEqual(distinct(winners(cluster.allocator.allocation, { fa: 'a', fb: 'b' })), ['fa', 'fb'], 'a random role order, not DRF');
});

test('flags - --leader_lease defaults to 10secs (Mesos\'s --zk_session_timeout) and takes Mesos durations', (t) => {
  const defaults = masterNodeOptions(parseFlags(masterCommand.flags, [], {}));
  t.is(defaults.leaderLeaseMs, 10_000);
  t.is(defaults.master?.flags?.leader_lease, '10secs', '/master/state shows it');
  t.is(masterNodeOptions(parseFlags(masterCommand.flags, ['--leader_lease=2secs'], {})).leaderLeaseMs, 2_000);
  t.is(masterNodeOptions(parseFlags(masterCommand.flags, ['--leader-lease', '500ms'], {})).leaderLeaseMs, 500);
  t.is(masterNodeOptions(parseFlags(masterCommand.flags, [], { MESOS_TS_LEADER_LEASE: '1mins' })).leaderLeaseMs, 60_000);
});

test('flags - a bad --leader_lease is an error naming the flag and the value', (t) => {
  t.throws(() => parseFlags(masterCommand.flags, ['--leader_lease=soon'], {}), { instanceOf: FlagError, message: /invalid value 'soon' for --leader_lease: must be a duration/ });
  t.throws(() => masterNodeOptions(parseFlags(masterCommand.flags, ['--leader_lease=0secs'], {})), { instanceOf: FlagError, message: /invalid value '0' for --leader_lease: must be greater than zero/ });
  t.throws(() => masterNodeOptions(parseFlags(masterCommand.flags, ['--leader_lease=100ms'], {})), {
    instanceOf: FlagError,
    message: /invalid value '100ms' for --leader_lease: must be at least 300ms/,
  });
});

test('flags - --max_operator_event_stream_subscribers defaults to 1000 (Mesos) reaches the master; mesos-ts dev takes it too', (t) => {
  const defaults = masterNodeOptions(parseFlags(masterCommand.flags, [], {}));
  t.is(defaults.master?.maxOperatorEventStreamSubscribers, 1000);
  t.is(defaults.master?.flags?.max_operator_event_stream_subscribers, '1000', '/master/state shows it');
  t.is(masterNodeOptions(parseFlags(masterCommand.flags, ['--max_operator_event_stream_subscribers=2'], {})).master?.maxOperatorEventStreamSubscribers, 2);
  t.is(masterNodeOptions(parseFlags(masterCommand.flags, [], { MESOS_TS_MAX_OPERATOR_EVENT_STREAM_SUBSCRIBERS: '7' })).master?.maxOperatorEventStreamSubscribers, 7);
  t.is(parseFlags(devCommand.flags, ['--max_operator_event_stream_subscribers=3'], {}).max_operator_event_stream_subscribers, 3);
});

test('flags - a --max_operator_event_stream_subscribers below 1 is an error naming the flag and the value', (t) => {
  t.throws(() => masterNodeOptions(parseFlags(masterCommand.flags, ['--max_operator_event_stream_subscribers=0'], {})), {
    instanceOf: FlagError,
    message: /invalid value '0' for --max_operator_event_stream_subscribers: must be an integer of at least 1/,
  });
});

test('flags - --agent_reregister_timeout defaults to 10mins and --recovery_agent_removal_limit to 100% (Mesos); both reach the master and --help', (t) => {
  const defaults = masterNodeOptions(parseFlags(masterCommand.flags, [], {}));
  t.is(defaults.master?.agentReregisterTimeoutMs, 600_000);
  t.is(defaults.master?.recoveryAgentRemovalLimit, 1);
  t.is(defaults.master?.flags?.agent_reregister_timeout, '10mins', '/master/state shows it');
  t.is(defaults.master?.flags?.recovery_agent_removal_limit, '100%');
  const given = masterNodeOptions(parseFlags(masterCommand.flags, ['--agent_reregister_timeout=30secs', '--recovery_agent_removal_limit=25%'], {}));
  t.is(given.master?.agentReregisterTimeoutMs, 30_000);
  t.is(given.master?.recoveryAgentRemovalLimit, 0.25);
  t.is(masterNodeOptions(parseFlags(masterCommand.flags, [], { MESOS_TS_RECOVERY_AGENT_REMOVAL_LIMIT: '50' })).master?.recoveryAgentRemovalLimit, 0.5, "the '%' may be left out, as in Mesos");
  const help = flagsHelp(masterCommand.flags);
  t.regex(help, /--agent_reregister_timeout=/);
  t.regex(help, /--recovery_agent_removal_limit=/);
});

test('flags - a bad --agent_reregister_timeout or --recovery_agent_removal_limit is an error naming the flag and the value', (t) => {
  t.throws(() => masterNodeOptions(parseFlags(masterCommand.flags, ['--agent_reregister_timeout=0secs'], {})), {
    instanceOf: FlagError,
    message: /invalid value '0' for --agent_reregister_timeout: must be greater than zero/,
  });
  for (const bad of ['150%', '-1%', 'most', '%']) {
    t.throws(() => masterNodeOptions(parseFlags(masterCommand.flags, [`--recovery_agent_removal_limit=${bad}`], {})), {
      instanceOf: FlagError,
      message: new RegExp(`invalid value '${bad}' for --recovery_agent_removal_limit: must be a percentage from 0% to 100%`),
    });
  }
});
