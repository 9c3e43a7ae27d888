import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { InvalidFlagError } from '../../actors/agent/flags.ts';
import { CgroupsIsolator, CPU_CFS_PERIOD_US, CPU_SHARES_PER_CPU, joinCgroupsArgv, MIN_MEMORY_BYTES, removeCgroup } from '../../actors/agent/isolation.ts';
import { ResourceMonitorProcess, type ExecutorStatistics } from '../../actors/agent/monitor.ts';
import { Agent } from '../../actors/agent/agent.ts';
import { randomByteSource } from '../../src/mesos/ids.ts';
import { REGISTER_EXECUTOR, REREGISTER_EXECUTOR } from '../../src/mesos/protocol.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { heldFifo } from '../helpers/fifo.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import {
  acknowledge,
  commandTask,
  customTask,
  echoExecutor,
  FRAMEWORK,
  FRAMEWORK_ID,
  frameworkMessage,
  type Harness,
  nextUpdate,
  register,
  reregistration,
  runTask,
  spawnAgent,
  startAgent,
} from './harness.ts';

resetFiltersAfterEach(test);

/**
 * `--isolation=cgroups/cpu,cgroups/mem` on this machine's real cgroups v1 hierarchies
 * (`/sys/fs/cgroup/{cpu,memory}`, writable as root): each container's process runs in cgroups
 * of its own, limited to its executor's and tasks' resources, removed once it exits; a task the
 * kernel OOM-kills fails with REASON_CONTAINER_LIMITATION_MEMORY.
 */

const HIERARCHY = '/sys/fs/cgroup';
/** This file's cgroups root, apart from any other agent's on the machine. */
const ROOT = `mesos-ts-test-${process.pid}`;
// Container ids from a random source: the harness's seeded one gives every agent the same ids.
const ISOLATED = { isolation: 'cgroups/cpu,cgroups/mem', cgroupsRoot: ROOT, uuidSource: randomByteSource };

// Every container's cgroups go once it exited; the last teardowns' may still be on their way.
test.after.always(async () => {
  for (const subsystem of ['cpu', 'memory']) {
    const root = join(HIERARCHY, subsystem, ROOT);
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root, { withFileTypes: true })) if (entry.isDirectory()) await removeCgroup(join(root, entry.name));
    if (!(await removeCgroup(root))) throw new Error(`cannot remove '${root}'`);
  }
});

function cgroupDir(subsystem: 'cpu' | 'memory', containerId: string): string {
  return join(HIERARCHY, subsystem, ROOT, containerId);
}

function read(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

/** The cgroup of process `pid` in `subsystem`'s hierarchy, as `/proc/<pid>/cgroup` names it. */
function cgroupOf(pid: number, subsystem: string): string | undefined {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers?.split(',').includes(subsystem)) return path;
  }
  return undefined;
}

/** A registered, isolating agent running command task `id` (`command`, `resources`), its TASK_RUNNING acknowledged. */
async function commandRunning(t: ExecutionContext, id: string, command: string, resources: string, framework: FrameworkInfo = FRAMEWORK): Promise<Harness> {
  const h = await startAgent(t, ISOLATED);
  await register(h);
  runTask(h, commandTask(id, command, resources), framework);
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  const running = await nextUpdate(h);
  if (running.update.status.state !== 'TASK_RUNNING') throw new Error(`${id} is ${running.update.status.state}`);
  acknowledge(h, running);
  return h;
}

test.serial("cgroups - a command task runs in cgroups of its container, limited to its resources; they are removed when it ends", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-isolation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { opened } = heldFifo(dir);
  const h = await commandRunning(t, 'sleeper', `exec sleep 600 > ${join(dir, 'held')}`, 'cpus:0.5;mem:64');
  await opened; // the command runs: past the joining of its cgroups
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('sleeper')!;
  const container = h.agent.containerizer.get(executor.containerId)!;
  t.is(cgroupOf(container.pid, 'cpu'), `/${ROOT}/${executor.containerId}`);
  t.is(cgroupOf(container.pid, 'memory'), `/${ROOT}/${executor.containerId}`);
  t.is(read(join(cgroupDir('cpu', executor.containerId), 'cpu.shares')), String(0.5 * CPU_SHARES_PER_CPU));
  t.is(read(join(cgroupDir('memory', executor.containerId), 'memory.limit_in_bytes')), String(64 * 1024 * 1024));
  t.is(read(join(cgroupDir('memory', executor.containerId), 'cgroup.procs')), String(container.pid), 'the command itself, no wrapper left');

  h.agent.containerizer.kill(executor.containerId, 'SIGKILL');
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.not(failed.update.status.reason, 'REASON_CONTAINER_LIMITATION_MEMORY', 'killed, not out of memory');
  acknowledge(h, failed);
  await h.settle();
  t.false(existsSync(cgroupDir('cpu', executor.containerId)));
  t.false(existsSync(cgroupDir('memory', executor.containerId)));
});

test.serial('cgroups - a command task that uses more memory than it has is OOM-killed and fails with REASON_CONTAINER_LIMITATION_MEMORY', async (t) => {
  const h = await startAgent(t, ISOLATED);
  await register(h);
  // `tail` keeps everything it reads while it looks for a newline, which /dev/zero never has.
  runTask(h, commandTask('hog', 'exec tail /dev/zero', 'cpus:0.1;mem:32'));
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_CONTAINER_LIMITATION_MEMORY', failed.update.status.message);
  t.regex(failed.update.status.message ?? '', /^Memory limit exceeded: Requested: 32MB Maximum Used: \d+MB$/);
  acknowledge(h, failed);
});

test.serial("cgroups - a checkpointing framework's command task (its executor in a process of its own) OOM-killed also fails with REASON_CONTAINER_LIMITATION_MEMORY", async (t) => {
  const h = await startAgent(t, ISOLATED);
  await register(h);
  runTask(h, commandTask('hog', 'exec tail /dev/zero', 'cpus:0.1;mem:128'), { ...FRAMEWORK, checkpoint: true });
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  t.is(failed.update.status.reason, 'REASON_CONTAINER_LIMITATION_MEMORY', failed.update.status.message);
  t.regex(failed.update.status.message ?? '', /^Memory limit exceeded: Requested: 128MB /);
  acknowledge(h, failed);
});

test.serial("cgroups - a custom executor's container is limited to the executor's and its tasks' resources, raised as a task joins it, its CPU shares lowered as tasks end", async (t) => {
  const h = await startAgent(t, ISOLATED);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()));
  await registering;
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;
  const shares = (): string => read(join(cgroupDir('cpu', executor.containerId), 'cpu.shares'));
  const memory = (): string => read(join(cgroupDir('memory', executor.containerId), 'memory.limit_in_bytes'));
  // The echo executor's cpus:0.1;mem:32 and task-1's cpus:1;mem:128.
  t.is(shares(), String(Math.floor(1.1 * CPU_SHARES_PER_CPU)));
  t.is(memory(), String(160 * 1024 * 1024));
  t.is(cgroupOf(executor.osPid!, 'memory'), `/${ROOT}/${executor.containerId}`);

  runTask(h, customTask('task-2', echoExecutor()));
  acknowledge(h, await nextUpdate(h)); // task-2 TASK_RUNNING
  t.is(shares(), String(Math.floor(2.1 * CPU_SHARES_PER_CPU)));
  t.is(memory(), String(288 * 1024 * 1024));

  frameworkMessage(h, 'echo', 'finish');
  for (let i = 0; i < 2; i++) acknowledge(h, await nextUpdate(h));
  // Both tasks ended: the executor's own resources are left. The memory limit is not lowered
  // under a running container (as Mesos); the CPU shares are.
  t.is(shares(), String(Math.floor(0.1 * CPU_SHARES_PER_CPU)));
  t.is(memory(), String(288 * 1024 * 1024));
});

test.serial('cgroups - /monitor/statistics reports the container\'s cgroups: memory usage and limits as enforced, and with --cgroups_enable_cfs its CPU quota and throttling', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-isolation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { opened } = heldFifo(dir);
  const h = await startAgent(t, { ...ISOLATED, cgroupsEnableCfs: true });
  await register(h);
  // At a tenth of a cpu, 10 ms of CPU time per 100 ms period: a loop that needs far more (tens of
  // milliseconds at least) is throttled before it gets to open the FIFO.
  runTask(h, commandTask('busy', `i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done; exec sleep 600 > ${join(dir, 'held')}`, 'cpus:0.1;mem:16'));
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  await opened;
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('busy')!;
  t.is(read(join(cgroupDir('cpu', executor.containerId), 'cpu.cfs_quota_us')), String(0.1 * CPU_CFS_PERIOD_US));
  t.is(read(join(cgroupDir('cpu', executor.containerId), 'cpu.cfs_period_us')), String(CPU_CFS_PERIOD_US));

  const reply = await ResourceMonitorProcess.ensure(h.agentRuntime).statistics();
  const statistics = (reply.body as ExecutorStatistics[])[0]!.statistics;
  t.true(statistics.cpus_nr_throttled! > 0, JSON.stringify(statistics));
  t.is(statistics.mem_limit_bytes, MIN_MEMORY_BYTES, 'the limit as enforced: mem:16 is raised to the 32 MB minimum');
  t.is(statistics.mem_soft_limit_bytes, MIN_MEMORY_BYTES);
  t.true(statistics.mem_total_bytes! > 0);
  t.true(statistics.cpus_nr_periods! >= statistics.cpus_nr_throttled!);
  t.true(statistics.cpus_throttled_time_secs! >= 0);
  t.is(statistics.cpus_limit, 0.1);
  h.agent.containerizer.kill(executor.containerId, 'SIGKILL');
  acknowledge(h, await nextUpdate(h));
});

test.serial('cgroups - an executor that cannot be executed fails its tasks with REASON_CONTAINER_LAUNCH_FAILED, as without isolation; its cgroups are gone', async (t) => {
  const h = await startAgent(t, ISOLATED);
  await register(h);
  const plain = join(h.workDir, 'plain-file');
  writeFileSync(plain, 'echo never run\n', { mode: 0o644 });
  for (const [id, value, reason] of [
    ['missing', '/nonexistent/executor', /failed to execute '\/nonexistent\/executor': spawn \/nonexistent\/executor ENOENT/],
    ['on-path', 'no-such-executor-on-path', /failed to execute 'no-such-executor-on-path': spawn no-such-executor-on-path ENOENT/],
    ['not-executable', plain, /failed to execute '.*\/plain-file': spawn .*\/plain-file EACCES/],
  ] as const) {
    runTask(h, customTask(`task-${id}`, { executor_id: { value: id }, command: { shell: false, value } }));
    const failed = await nextUpdate(h);
    t.is(failed.update.status.state, 'TASK_FAILED', id);
    t.is(failed.update.status.reason, 'REASON_CONTAINER_LAUNCH_FAILED', id);
    t.regex(failed.update.status.message ?? '', reason);
    acknowledge(h, failed);
  }
  await h.settle();
  t.deepEqual(readdirSync(join(HIERARCHY, 'memory', ROOT), { withFileTypes: true }).filter((e) => e.isDirectory()), []);
});

test.serial("cgroups - a checkpointing framework's executor that survives an agent restart stays in its cgroups; they go when it exits", async (t) => {
  const h = await startAgent(t, ISOLATED);
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()), { ...FRAMEWORK, checkpoint: true });
  await registering;
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  const { containerId, osPid } = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!;
  await h.settle();

  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  const reregistering = futureMessage(REREGISTER_EXECUTOR);
  h.agent = spawnAgent(h);
  await reregistering;
  await reregistration(h);
  t.is(cgroupOf(osPid!, 'memory'), `/${ROOT}/${containerId}`, 'still in its cgroups');
  t.is(read(join(cgroupDir('memory', containerId), 'memory.limit_in_bytes')), String(160 * 1024 * 1024));

  const container = h.agent.containerizer.get(containerId)!;
  process.kill(osPid!, 'SIGKILL');
  await container.exited;
  t.false(existsSync(cgroupDir('memory', containerId)), 'removed once it exited');
  t.false(existsSync(cgroupDir('cpu', containerId)));
});

test.serial("cgroups - a task's health check command runs in the task's cgroups, as Mesos runs it in the task's container", async (t) => {
  const h = await startAgent(t, ISOLATED);
  await register(h);
  const inside = `grep -q ":memory:/${ROOT}/" /proc/self/cgroup && grep -q ":cpu:/${ROOT}/" /proc/self/cgroup`;
  runTask(h, { ...commandTask('checked', 'exec sleep 600', 'cpus:0.1;mem:32'), health_check: { type: 'COMMAND', command: { value: inside }, delay_seconds: 0, grace_period_seconds: 0, consecutive_failures: 10 } });
  acknowledge(h, await nextUpdate(h)); // TASK_STARTING
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  h.clock.advance(0);
  const health = await nextUpdate(h);
  t.is(health.update.status.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
  t.true(health.update.status.healthy, health.update.status.message);
  acknowledge(h, health);
});

test.serial('cgroups - an agent whose cgroups hierarchy is not there does not start: the error names --isolation and the path', async (t) => {
  const h = await startAgent(t);
  const error = t.throws(() => Agent.start(h.agentRuntime, { master: String(h.master.self), workDir: h.workDir, isolation: 'cgroups/mem', cgroupsHierarchy: '/nonexistent/cgroup', cgroupsRoot: ROOT }), {
    instanceOf: InvalidFlagError,
  });
  t.regex(error?.message ?? '', /--isolation: the 'memory' cgroup hierarchy is not mounted at '\/nonexistent\/cgroup\/memory'/);
});

test.serial("cgroups - a container whose cgroup exists already is refused; what the refused call made goes, the other's stays", (t) => {
  const isolator = new CgroupsIsolator({ hierarchy: HIERARCHY, root: ROOT, cpu: true, mem: true, enableCfs: false });
  isolator.initialize();
  mkdirSync(cgroupDir('memory', 'taken'));
  t.teardown(() => rmdirSync(cgroupDir('memory', 'taken')));
  t.throws(() => isolator.prepare('taken', { cpus: 1, memBytes: 64 * 1024 * 1024 }), { message: `cannot create cgroup '${cgroupDir('memory', 'taken')}': it already exists` });
  t.false(existsSync(cgroupDir('cpu', 'taken')), 'its own cpu cgroup, made first, is removed');
  t.true(existsSync(cgroupDir('memory', 'taken')), 'the existing one is left alone');
});

test('cgroups - the command joins its cgroups before it runs: a shell writes its pid into each cgroup.procs, then execs it', (t) => {
  const { file, argv } = joinCgroupsArgv(["/cg/cpu/r/c1/cgroup.procs", "/cg/memory/r/it's/cgroup.procs"], '/bin/sh', ['sh', '-c', 'echo hi']);
  t.is(file, '/bin/sh');
  t.deepEqual(argv, [
    'sh',
    '-c',
    `echo $$ > '/cg/cpu/r/c1/cgroup.procs' || exit 125; echo $$ > '/cg/memory/r/it'\\''s/cgroup.procs' || exit 125; exec "$@"`,
    'sh',
    '/bin/sh',
    '-c',
    'echo hi',
  ]);
});
