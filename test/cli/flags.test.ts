import test from 'ava';
import { availableParallelism } from 'node:os';
import { agentCommand, agentOptions } from '../../actors/cli/agent.ts';
import { executeCommand, EXECUTE_DEFAULT_RESOURCES, frameworkInfo } from '../../actors/cli/execute.ts';
import { masterCommand, masterNodeOptions } from '../../actors/cli/master.ts';
import { stateCommand } from '../../actors/cli/state.ts';
import { DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS } from '../../actors/agent/constants.ts';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { AGENT_PING_TIMEOUT_MS, MAX_AGENT_PING_TIMEOUTS } from '../../actors/master/constants.ts';
import { FlagError, parseFlags } from '../../src/cli/flags.ts';

/**
 * The flags of `mesos-ts master`, `agent`, `execute` and `state`, parsed as the CLI parses them:
 * Mesos's names or kebab case, durations, the environment, Mesos's defaults, and a `FlagError`
 * naming the flag for a bad value (the CLI exits 2 on it; see `commands.test.ts`).
 */

const none = {};

test('flags - master defaults are Mesos defaults', (t) => {
  const flags = parseFlags(masterCommand.flags, [], none);
  t.is(flags.port, 5050);
  t.is(flags.ip, '127.0.0.1');
  t.is(flags.agent_ping_timeout, AGENT_PING_TIMEOUT_MS);
  t.is(flags.max_agent_ping_timeouts, MAX_AGENT_PING_TIMEOUTS);
  t.is(flags.allocation_interval, ALLOCATION_INTERVAL_MS);
  t.is(flags.offer_timeout, undefined);
  t.is(flags.nats, undefined);
  t.is(flags.nats_prefix, 'mesos');
  t.is(flags.role_sorter, 'drf');
  t.is(flags.framework_sorter, 'drf');
  t.is(flags.weights, undefined);
});

test('flags - master allocator flags from the command line and the environment', (t) => {
  const flags = parseFlags(masterCommand.flags, ['--role-sorter=random', '--weights', 'eng=2, ads=0.5'], { MESOS_TS_FRAMEWORK_SORTER: 'random', MESOS_TS_ROLE_SORTER: 'drf' });
  t.is(flags.role_sorter, 'random');
  t.is(flags.framework_sorter, 'random');
  t.deepEqual(flags.weights, ['eng=2', 'ads=0.5']);
  const options = masterNodeOptions(flags);
  t.deepEqual(options.allocator, { minAllocatableResources: flags.min_allocatable_resources as string, filterGpuResources: true, roleSorter: 'random', frameworkSorter: 'random' });
  t.deepEqual(options.weights, { eng: 2, ads: 0.5 });
  t.is(masterNodeOptions(parseFlags(masterCommand.flags, [], { MESOS_TS_WEIGHTS: 'web/api=3' })).weights?.['web/api'], 3);
});

test('flags - Mesos names and kebab case, = or a space, Mesos durations', (t) => {
  const flags = parseFlags(
    masterCommand.flags,
    ['--agent_ping_timeout=15secs', '--max-agent-ping-timeouts', '3', '--allocation-interval=250ms', '--offer_timeout', '2mins', '--nats', 'nats://a:4222,nats://b:4222'],
    none,
  );
  t.is(flags.agent_ping_timeout, 15_000);
  t.is(flags.max_agent_ping_timeouts, 3);
  t.is(flags.allocation_interval, 250);
  t.is(flags.offer_timeout, 120_000);
  t.deepEqual(flags.nats, ['nats://a:4222', 'nats://b:4222']);
});

test('flags - every flag also comes from MESOS_TS_<NAME>; the command line wins', (t) => {
  const env = { MESOS_TS_WORK_DIR: '/var/lib/mesos-ts', MESOS_TS_RESOURCES: 'cpus:2;mem:512', MESOS_TS_NATS: 'nats://h:4222', MESOS_TS_PORT: '6051' };
  const flags = parseFlags(agentCommand.flags, ['--port=7051'], env);
  t.is(flags.work_dir, '/var/lib/mesos-ts');
  t.is(flags.resources, 'cpus:2;mem:512');
  t.deepEqual(flags.nats, ['nats://h:4222']);
  t.is(flags.port, 7051);
});

test('flags - agent defaults, and --work_dir is required as in Mesos', (t) => {
  const flags = parseFlags(agentCommand.flags, ['--work_dir=/w'], none);
  t.is(flags.port, 5051);
  t.is(flags.resources, undefined, 'no default: what --resources does not name is detected');
  t.regex(agentOptions(flags).resources!, new RegExp(`^cpus:${availableParallelism()};mem:\\d+;disk:\\d+;ports:\\[31000-32000\\]$`));
  t.regex(agentOptions({ ...flags, resources: 'mem:512' }).resources!, /^mem:512;cpus:\d+;disk:\d+;ports:\[31000-32000\]$/);
  t.is(flags.registration_backoff_factor, DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  t.is(flags.gc_delay, 7 * 24 * 3_600_000);
  t.is(flags.gc_disk_headroom, 0.1);
  t.is(flags.disk_watch_interval, 60_000);
  t.is(flags.master, undefined);
  const error = t.throws(() => parseFlags(agentCommand.flags, [], none), { instanceOf: FlagError });
  t.regex(error.message, /--work_dir: is required \(or set MESOS_TS_WORK_DIR\)/);
});

test('flags - execute needs --name and --command; resources default as mesos-execute', async (t) => {
  const flags = parseFlags(executeCommand.flags, ['--name=hello', '--command', 'echo hi'], none);
  t.is(flags.resources, EXECUTE_DEFAULT_RESOURCES);
  t.is(flags.shell, true);
  t.is(flags.checkpoint, false);
  t.is(flags.framework_capabilities, undefined);
  t.deepEqual(frameworkInfo(flags), { user: frameworkInfo(flags).user, name: 'mesos-ts-execute instance', role: '*', checkpoint: false });
  const env = { MESOS_TS_CHECKPOINT: 'true', MESOS_TS_FRAMEWORK_CAPABILITIES: 'PARTITION_AWARE,MULTI_ROLE', MESOS_TS_ROLE: 'web' };
  const info = frameworkInfo(parseFlags(executeCommand.flags, ['--name=a', '--command=b'], env));
  t.true(info.checkpoint);
  t.deepEqual(info.capabilities, [{ type: 'PARTITION_AWARE' }, { type: 'MULTI_ROLE' }]);
  // MULTI_ROLE frameworks give `roles`, never `role`, as the master requires.
  t.deepEqual(info.roles, ['web']);
  t.is(info.role, undefined);
  t.is(parseFlags(executeCommand.flags, ['--name=a', '--command=b', '--no-shell'], none).shell, false);
  // `--name` is required unless `--task_group` is given: `execute` checks before it connects.
  await t.throwsAsync(executeCommand.run(parseFlags(executeCommand.flags, ['--command=true'], none)), { instanceOf: FlagError, message: /--name: is required/ });
  t.is(parseFlags(stateCommand.flags, [], none).json, false);
  t.is(parseFlags(stateCommand.flags, ['--json'], none).json, true);
});

test('flags - a bad value names the flag and the value, from the command line or the environment', (t) => {
  const cases: [readonly Parameters<typeof parseFlags>[0][number][], string[], Record<string, string>, RegExp][] = [
    [masterCommand.flags, ['--agent_ping_timeout=soon'], {}, /invalid value 'soon' for --agent_ping_timeout: must be a duration/],
    [masterCommand.flags, ['--allocation_interval=5parsecs'], {}, /invalid value '5parsecs' for --allocation_interval: unknown unit 'parsecs'/],
    [masterCommand.flags, ['--port=http'], {}, /invalid value 'http' for --port: must be an integer/],
    [masterCommand.flags, [], { MESOS_TS_MAX_AGENT_PING_TIMEOUTS: 'many' }, /invalid value 'many' for --max_agent_ping_timeouts/],
    [agentCommand.flags, ['--work_dir=/w', '--resources=cpus:x'], {}, /invalid value 'cpus:x' for --resources/],
    [agentCommand.flags, ['--work_dir=/w', '--frobnicate=1'], {}, /--frobnicate: unknown flag/],
    [executeCommand.flags, ['--name=a', '--command=b', '--kill_after=later'], {}, /--kill_after/],
    [executeCommand.flags, ['--name=a', '--command=b', '--checkpoint=sometimes'], {}, /invalid value 'sometimes' for --checkpoint/],
  ];
  for (const [specs, argv, env, message] of cases) {
    const error = t.throws(() => parseFlags(specs, argv, env), { instanceOf: FlagError });
    t.regex(error.message, message);
  }
});
