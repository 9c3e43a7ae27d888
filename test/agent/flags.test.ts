import test from 'ava';
import { agentFlags, detectResources, flagsJSON, formatDuration, InvalidFlagError, thisMachine } from '../../actors/agent/flags.ts';
import { availableParallelism, totalmem } from 'node:os';
import {
  DEFAULT_MASTER_PING_TIMEOUT_MS,
  DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
  DEFAULT_RESOURCES,
  EXECUTOR_REGISTRATION_TIMEOUT_MS,
  EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS,
  DISK_WATCH_INTERVAL_MS,
  GC_DELAY_MS,
  GC_DISK_HEADROOM,
} from '../../actors/agent/constants.ts';

test('flags - defaults are Mesos defaults', (t) => {
  const flags = agentFlags({ master: 'master@m1', workDir: '/tmp/w', hostname: 'h1' });
  t.is(flags.resources, DEFAULT_RESOURCES);
  t.is(flags.executorRegistrationTimeoutMs, EXECUTOR_REGISTRATION_TIMEOUT_MS);
  t.is(flags.executorShutdownGracePeriodMs, EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS);
  t.is(flags.registrationBackoffFactorMs, DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  t.is(flags.masterPingTimeoutMs, DEFAULT_MASTER_PING_TIMEOUT_MS);
  t.is(flags.recoveryTimeoutMs, 15 * 60_000);
  t.is(flags.recover, 'reconnect');
  t.true(flags.strict);
  t.is(flags.executorReregistrationTimeoutMs, 2_000);
  t.is(flags.gcDelayMs, GC_DELAY_MS);
  t.is(GC_DELAY_MS, 7 * 24 * 3_600_000);
  t.is(flags.gcDiskHeadroom, GC_DISK_HEADROOM);
  t.is(flags.diskWatchIntervalMs, DISK_WATCH_INTERVAL_MS);
  t.deepEqual(flagsJSON(flags), {
    master: 'master@m1',
    resources: DEFAULT_RESOURCES,
    attributes: '',
    hostname: 'h1',
    work_dir: '/tmp/w',
    executor_registration_timeout: '1mins',
    executor_shutdown_grace_period: '5secs',
    registration_backoff_factor: '1secs',
    master_ping_timeout: '75secs',
    recovery_timeout: '15mins',
    recover: 'reconnect',
    strict: 'true',
    isolation: 'posix/cpu,posix/mem',
    cgroups_hierarchy: '/sys/fs/cgroup',
    cgroups_root: 'mesos',
    cgroups_enable_cfs: 'false',
    executor_reregistration_timeout: '2secs',
    gc_delay: '1weeks',
    gc_disk_headroom: '0.1',
    disk_watch_interval: '1mins',
  });
});

test('flags - a bad value is an error naming the flag and the value', (t) => {
  const base = { master: 'master@m1', workDir: '/tmp/w' };
  t.throws(() => agentFlags({ ...base, master: 'nope' }), { instanceOf: InvalidFlagError, message: /"nope" for --master/ });
  t.throws(() => agentFlags({ ...base, resources: 'cpus:x' }), { message: /--resources: invalid resource 'cpus:x'/ });
  t.throws(() => agentFlags({ ...base, recover: 'sometimes' as never }), { message: /"sometimes" for --recover: must be 'reconnect' or 'cleanup'/ });
  t.throws(() => agentFlags({ ...base, strict: 'yes' as never }), { message: /"yes" for --strict: must be true or false/ });
  t.throws(() => agentFlags({ ...base, executorEnvironmentVariables: ['PATH'] as never }), { message: /--executor_environment_variables: must be a JSON object of strings/ });
  t.throws(() => agentFlags({ ...base, executorEnvironmentVariables: { N: 1 } as never }), { message: /--executor_environment_variables: variable 'N' must be a string, got 1/ });
  t.is(flagsJSON(agentFlags({ ...base, executorEnvironmentVariables: { A: 'b' } })).executor_environment_variables, '{"A":"b"}');
  t.throws(() => agentFlags({ ...base, isolation: 'cgroups/cpu,cgroups/disk' }), { message: /"cgroups\/cpu,cgroups\/disk" for --isolation: unknown isolator 'cgroups\/disk'/ });
  t.throws(() => agentFlags({ ...base, isolation: 'posix/mem,cgroups/mem' }), { message: /--isolation: 'posix\/mem' and 'cgroups\/mem' cannot both isolate mem/ });
  t.throws(() => agentFlags({ ...base, isolation: ' , ' }), { message: /--isolation: must name at least one isolator/ });
  t.throws(() => agentFlags({ ...base, cgroupsRoot: '../escape' }), { message: /"\.\.\/escape" for --cgroups_root/ });
  t.throws(() => agentFlags({ ...base, cgroupsHierarchy: 'sys/fs' }), { message: /"sys\/fs" for --cgroups_hierarchy: must be an absolute path/ });
  t.throws(() => agentFlags({ ...base, executorReregistrationTimeoutMs: 16 * 60_000 }), { message: /--executor_reregistration_timeout: must be at most 15mins/ });
  t.throws(() => agentFlags({ ...base, attributes: 'rack' }), { message: /"rack" for --attributes/ });
  t.throws(() => agentFlags({ ...base, attributes: 'ports:[9-1]' }), { message: /"ports:\[9-1\]" for --attributes: .*bad range '9-1'/ });
  t.throws(() => agentFlags({ ...base, registrationBackoffFactorMs: 120_000 }), { message: /--registration_backoff_factor: must be at most 1mins/ });
  t.throws(() => agentFlags({ ...base, executorRegistrationTimeoutMs: -1 }), { message: /--executor_registration_timeout/ });
});

test('flags - --gc_delay, --gc_disk_headroom and --disk_watch_interval are checked, naming the flag', (t) => {
  const base = { master: 'master@m1', workDir: '/tmp/w' };
  t.throws(() => agentFlags({ ...base, gcDelayMs: -1 }), { instanceOf: InvalidFlagError, message: /-1 for --gc_delay: must be a non-negative/ });
  t.throws(() => agentFlags({ ...base, gcDiskHeadroom: 1.5 }), { instanceOf: InvalidFlagError, message: /1\.5 for --gc_disk_headroom: must be a fraction in \[0, 1\]/ });
  t.throws(() => agentFlags({ ...base, gcDiskHeadroom: -0.1 }), { message: /--gc_disk_headroom/ });
  t.throws(() => agentFlags({ ...base, gcDiskHeadroom: Number.NaN }), { message: /--gc_disk_headroom/ });
  t.throws(() => agentFlags({ ...base, diskWatchIntervalMs: 0 }), { instanceOf: InvalidFlagError, message: /0 for --disk_watch_interval: must be a positive/ });
  const flags = agentFlags({ ...base, gcDelayMs: 0, gcDiskHeadroom: 1, diskWatchIntervalMs: 5_000 });
  t.like(flagsJSON(flags), { gc_delay: '0ms', gc_disk_headroom: '1', disk_watch_interval: '5secs' });
  t.like(flagsJSON(agentFlags({ ...base, gcDelayMs: 2 * 86_400_000 })), { gc_delay: '2days' });
});

test('formatDuration - as stout prints durations', (t) => {
  t.is(formatDuration(60_000), '1mins');
  t.is(formatDuration(5_000), '5secs');
  t.is(formatDuration(1_500), '1500ms');
  t.is(formatDuration(0), '0ms');
  t.is(formatDuration(604_800_000), '1weeks');
  t.is(formatDuration(86_400_000), '1days');
  t.is(formatDuration(3_600_000), '1hrs');
});

test('detectResources - what --resources does not name is detected, as Mesos\'s agent does; what it names is kept', (t) => {
  const GB = 1024 ** 3;
  const big = { cpus: 8, memBytes: 16 * GB, diskBytes: 100 * GB };
  t.is(detectResources('', big), 'cpus:8;mem:15360;disk:97280;ports:[31000-32000]', 'memory less 1 GB, disk less 5 GB');
  t.is(detectResources('cpus:2;ports:[8000-8100]', big), 'cpus:2;ports:[8000-8100];mem:15360;disk:97280');
  t.is(detectResources('cpus(web):1;mem:512;disk:1024;ports:[1-2]', big), 'cpus(web):1;mem:512;disk:1024;ports:[1-2]', 'a reserved cpus counts as named');
  const small = { cpus: 1, memBytes: 1.5 * GB, diskBytes: 8 * GB };
  t.is(detectResources('', small), 'cpus:1;mem:768;disk:4096;ports:[31000-32000]', 'half of each under 2 GB and 10 GB');
  t.throws(() => detectResources('cpus:x', big), { message: /cpus:x/ });
});

test('detectResources - this machine: every CPU, its memory, the filesystem of a work directory not made yet', (t) => {
  const machine = thisMachine('/tmp/mesos-ts-not-made-yet/agent');
  t.is(machine.cpus, availableParallelism());
  t.is(machine.memBytes, totalmem());
  t.true(machine.diskBytes > 0);
});
