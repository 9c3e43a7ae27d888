import { existsSync, mkdirSync, readlinkSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DISK_WATCH_INTERVAL_MS, GC_DELAY_MS } from '../../actors/agent/constants.ts';
import { FilesProcess } from '../../actors/agent/files.ts';
import { diskUsage, maxAllowedAgeMs, prunable } from '../../actors/agent/gc.ts';
import type { ExecutorRecord } from '../../actors/agent/state.ts';
import type { StatusUpdateMessage } from '../../src/mesos/protocol.ts';
import { isTerminalState } from '../../src/mesos/v1/common.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { acknowledge, AGENT_ID, commandTask, FRAMEWORK_ID, nextUpdate, register, runTask, spawnAgent, startAgent, type Harness } from './harness.ts';

/**
 * Garbage collection of sandboxes (Mesos's `gc.cpp` and the disk watch of `slave.cpp`), on the
 * paused Clock: deletions are continued in the agent's mailbox, so `settle()` waits for them.
 */

resetFiltersAfterEach(test);

const DAY_MS = 86_400_000;

/** Runs command task `id` to its end and acknowledges every update; returns its (completed) executor. */
async function runToCompletion(t: ExecutionContext, h: Harness, id: string, command = 'echo hello-gc'): Promise<ExecutorRecord> {
  runTask(h, commandTask(id, command));
  let message: StatusUpdateMessage;
  do {
    message = await nextUpdate(h);
    acknowledge(h, message);
  } while (!isTerminalState(message.update.status.state));
  t.is(message.update.status.state, 'TASK_FINISHED');
  await h.settle();
  const executor = h.agent.completedFrameworks.flatMap((f) => f.completedExecutors).find((e) => e.id === id);
  if (executor === undefined) throw new Error(`executor ${id} is not completed`);
  return executor;
}

function metric(h: Harness, name: string): number | undefined {
  return h.agentRuntime.metrics.snapshot()[`${h.agent.id}/${name}`];
}

test('gc - the longest a sandbox is kept shrinks as the disk fills (Mesos `Slave::age`), and prune takes what is due within it', (t) => {
  t.is(maxAllowedAgeMs(GC_DELAY_MS, 0.1, 0), GC_DELAY_MS * 0.9);
  t.is(maxAllowedAgeMs(1_000, 0.1, 0.5), 400);
  t.is(maxAllowedAgeMs(GC_DELAY_MS, 0.1, 0.95), 0);
  t.is(maxAllowedAgeMs(GC_DELAY_MS, 0, 1), 0);
  const scheduled = [
    { path: '/a', dueAt: 1_000 },
    { path: '/b', dueAt: 1_500 },
    { path: '/c', dueAt: 3_000 },
  ];
  t.deepEqual(prunable(scheduled, 1_000, 0), ['/a']);
  t.deepEqual(prunable(scheduled, 1_000, 500), ['/a', '/b']);
  t.deepEqual(prunable(scheduled, 2_000, 1_000), ['/a', '/b', '/c']);
});

test('gc - diskUsage is the used fraction of the filesystem', async (t) => {
  const usage = await diskUsage(tmpdir());
  t.true(usage >= 0 && usage <= 1, String(usage));
});

test.serial("gc - a finished command task's sandbox stays readable through /files until --gc_delay passes, then is deleted and detached", async (t) => {
  // No headroom on an empty disk: nothing goes before `--gc_delay`.
  const h = await startAgent(t, { gcDiskHeadroom: 0 }, { http: true });
  const files = FilesProcess.ensure(h.agentRuntime);
  const port = h.agentRuntime.httpAddress!.port;
  await register(h);
  const executor = await runToCompletion(t, h, 'task-1');
  const sandbox = executor.directory;
  const executorDir = dirname(dirname(sandbox));
  const frameworkDir = join(h.workDir, 'slaves', AGENT_ID, 'frameworks', FRAMEWORK_ID);
  const readStdout = () => http(port, 'GET', `/files/read?path=${encodeURIComponent(`${sandbox}/stdout`)}&offset=0`);

  t.deepEqual((await readStdout()).json(), { data: 'hello-gc\n', offset: 0 });
  t.is(metric(h, 'gc/path_removals_pending'), 3, 'the run, the executor and the framework directories');
  t.is(h.agent.gc.dueAt(sandbox), h.clock.now() + GC_DELAY_MS);

  h.clock.advance(GC_DELAY_MS - 1);
  await h.settle();
  t.true(existsSync(join(sandbox, 'stdout')));
  t.deepEqual((await readStdout()).json(), { data: 'hello-gc\n', offset: 0 }, 'still served a moment before --gc_delay');

  h.clock.advance(1);
  await h.settle();
  t.false(existsSync(sandbox));
  t.false(existsSync(executorDir), 'runs/latest went with the executor directory');
  t.false(existsSync(frameworkDir));
  t.false(sandbox in files.attachments(), 'detached once deleted');
  t.is((await readStdout()).status, 404);
  t.is(metric(h, 'gc/path_removals_succeeded'), 3);
  t.is(metric(h, 'gc/path_removals_failed'), 0);
  t.is(metric(h, 'gc/path_removals_pending'), 0);
});

test.serial('gc - a new run of a framework keeps its directory: removing the framework scheduled it, the new task unschedules it', async (t) => {
  const h = await startAgent(t, { gcDiskHeadroom: 0 });
  await register(h);
  const first = await runToCompletion(t, h, 'task-1');
  const frameworkDir = join(h.workDir, 'slaves', AGENT_ID, 'frameworks', FRAMEWORK_ID);
  t.not(h.agent.gc.dueAt(frameworkDir), undefined);

  runTask(h, commandTask('task-2', 'sleep 60'));
  acknowledge(h, await nextUpdate(h));
  await h.settle();
  t.is(h.agent.gc.dueAt(frameworkDir), undefined, 'the framework runs here again');
  const running = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-2')!;

  h.clock.advance(GC_DELAY_MS);
  await h.settle();
  t.false(existsSync(first.directory), 'the first run is deleted when due');
  t.true(existsSync(running.directory), "the running task's sandbox stays");
});

test.serial('gc - high disk usage shortens the delay: the next disk watch deletes what waited longer than gc_delay * (1 - headroom - usage)', async (t) => {
  let usage = 0;
  const h = await startAgent(t, { diskUsage: () => Promise.resolve(usage), metricsPrefix: 'slave' });
  const files = FilesProcess.ensure(h.agentRuntime);
  const snapshot = () => h.agentRuntime.metrics.snapshot();
  await register(h);
  const executor = await runToCompletion(t, h, 'task-1');
  const sandbox = executor.directory;
  t.true(sandbox in files.attachments());
  // Mesos's names for an agent alone in its runtime.
  t.is(snapshot()['gc/path_removals_pending'], 3);

  h.clock.advance(DISK_WATCH_INTERVAL_MS);
  await h.settle();
  t.true(existsSync(sandbox), 'an empty disk keeps it for 0.9 gc_delay (the default headroom is 0.1)');
  t.is(snapshot()['slave/executor_directory_max_allowed_age_secs'], (GC_DELAY_MS * 0.9) / 1000);

  usage = 0.5;
  h.clock.advance(DISK_WATCH_INTERVAL_MS);
  await h.settle();
  t.true(existsSync(sandbox), 'half full: kept for 0.4 gc_delay, and it waited 2 minutes');
  t.is(snapshot()['slave/executor_directory_max_allowed_age_secs'], (GC_DELAY_MS * 0.4) / 1000);

  usage = 0.95;
  h.clock.advance(DISK_WATCH_INTERVAL_MS);
  await h.settle();
  t.false(existsSync(sandbox), 'past the headroom: deleted at once');
  t.false(sandbox in files.attachments());
  t.is(snapshot()['slave/executor_directory_max_allowed_age_secs'], 0);
  t.is(snapshot()['gc/path_removals_succeeded'], 3);
  t.is(snapshot()['gc/path_removals_pending'], 0);
});

test.serial('gc - after a restart, a run the agent no longer runs is scheduled from its mtime and deleted when due; old agent ids in full', async (t) => {
  const h = await startAgent(t, { gcDiskHeadroom: 0 });
  await register(h);
  const executor = await runToCompletion(t, h, 'task-1');
  const sandbox = executor.directory;
  const latest = join(dirname(sandbox), 'latest');
  const oldAgent = join(h.workDir, 'slaves', 'old-agent-S9');
  mkdirSync(join(oldAgent, 'frameworks'), { recursive: true });

  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  // Its run ended six days ago (by the agent's Clock): one day of --gc_delay is left.
  const ended = (h.clock.now() - 6 * DAY_MS) / 1000;
  utimesSync(sandbox, ended, ended);
  h.agent = spawnAgent(h);
  await h.settle();

  const due = h.agent.gc.dueAt(sandbox);
  t.not(due, undefined, 'scheduled by the restarted agent');
  t.true(Math.abs(due! - (statSync(sandbox).mtimeMs + GC_DELAY_MS)) < 1, `due ${String(due)}`);
  t.is(h.agent.gc.dueAt(oldAgent), h.clock.now() + GC_DELAY_MS, "another agent id's directory goes in full");

  h.clock.advance(DAY_MS - DISK_WATCH_INTERVAL_MS);
  await h.settle();
  t.true(existsSync(join(sandbox, 'stdout')));
  t.is(readlinkSync(latest), executor.containerId);

  h.clock.advance(DISK_WATCH_INTERVAL_MS);
  await h.settle();
  t.false(existsSync(sandbox), 'deleted a day after the restart');
  t.false(existsSync(latest), 'runs/latest does not point at a deleted run');
  t.true(existsSync(oldAgent));
});
