import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { TaskInfo } from '../../src/mesos/v1/common.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { launchingOnce } from '../helpers/scheduler.ts';
import { Processes } from '../multihost/processes.ts';

resetFiltersAfterEach(test);

/**
 * `mesos-ts cat` and `mesos-ts tail` as OS processes against an embedded cluster in this
 * process (its HTTP on a free port): a task's sandbox files, read through the agent's
 * `/files/read`.
 */

const procs = new Processes();
test.after.always(() => procs.stopAll());

const tasks = {
  // 20,000 lines, 108,894 bytes: more than one 64 KiB read.
  lines: 'seq 1 20000; echo oops >&2',
  // Waits for a file in its sandbox between two lines: what `tail --follow` must see appended.
  follow: 'echo first; while [ ! -e go ]; do sleep 0.05; done; echo second; exec sleep 600',
};

async function clusterRunning(t: import('ava').ExecutionContext, id: keyof typeof tasks, until: string): Promise<{ cluster: EmbeddedCluster; master: string; frameworkId: string; agentId: string }> {
  const registered = futureMessages(1, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({ agents: 1, port: 0, logger: pino({ level: 'error' }) });
  t.teardown(() => cluster.stop());
  await registered;
  const task = (offer: { agent_id: TaskInfo['agent_id'] }): TaskInfo[] => [
    { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.5;mem:64').toJSON(), command: { value: tasks[id] } },
  ];
  const scheduler = launchingOnce(task, 3600);
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'sandbox-cli' }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  const [frameworkId] = await scheduler.next('registered');
  for (;;) {
    const [status] = await scheduler.next('statusUpdate');
    if (status.state === until) return { cluster, master: cluster.url, frameworkId: frameworkId.value, agentId: status.agent_id!.value };
    if (status.state !== 'TASK_STARTING' && status.state !== 'TASK_RUNNING') throw new Error(`the task went ${status.state}`);
  }
}

test.serial('cat - prints the whole stdout (over several reads), or --file stderr; tail - the last --lines', async (t) => {
  const { master } = await clusterRunning(t, 'lines', 'TASK_FINISHED');
  const expected = Array.from({ length: 20_000 }, (_, i) => `${i + 1}\n`).join('');

  const cat = procs.cli('cat', ['cat', `--master=${master}`, '--task=lines']);
  t.is((await cat.exited).code, 0, cat.tail());
  t.is(cat.stdout(), expected, 'every byte, in order');

  const stderr = procs.cli('cat-stderr', ['cat', `--master=${master}`, '--task=lines', '--file=stderr']);
  t.is((await stderr.exited).code, 0, stderr.tail());
  t.is(stderr.stdout(), 'oops\n');

  const tail = procs.cli('tail', ['tail', `--master=${master}`, '--task=lines', '--lines=3']);
  t.is((await tail.exited).code, 0, tail.tail());
  t.is(tail.stdout(), '19998\n19999\n20000\n');

  const none = procs.cli('tail-0', ['tail', `--master=${master}`, '--task=lines', '--lines=0']);
  t.is((await none.exited).code, 0, none.tail());
  t.is(none.stdout(), '');
});

test.serial('tail --follow - prints what the task appends, until Ctrl-C', async (t) => {
  const { cluster, master, frameworkId, agentId } = await clusterRunning(t, 'follow', 'TASK_RUNNING');
  const tail = procs.cli('tail-follow', ['tail', `--master=${master}`, '--task=follow', '--follow']);
  await tail.waitFor((line) => line.stream === 'stdout' && line.text === 'first', 'the first line');
  // The sandbox's real directory, as the agent attached it.
  const debug = (await http(cluster.runtime.httpAddress!.port, 'GET', '/files/debug')).json() as Record<string, string>;
  const sandbox = debug[`/slaves/${agentId}/frameworks/${frameworkId}/executors/follow/runs/latest`]!;
  writeFileSync(join(sandbox, 'go'), '');
  await tail.waitFor((line) => line.stream === 'stdout' && line.text === 'second', 'the appended line');
  tail.kill('SIGINT');
  t.is((await tail.exited).code, 0, tail.tail());
});

test.serial('cat, tail - an unknown task or file is exit 1 naming it; no --task or a bad --lines is a flag error (exit 2)', async (t) => {
  const { master } = await clusterRunning(t, 'lines', 'TASK_FINISHED');
  const noTask = procs.cli('cat-no-task', ['cat', `--master=${master}`, '--task=nope']);
  t.is((await noTask.exited).code, 1);
  t.regex(noTask.tail(), /mesos-ts cat: no task 'nope' is known to the master/);
  const noFile = procs.cli('cat-no-file', ['cat', `--master=${master}`, '--task=lines', '--file=missing']);
  t.is((await noFile.exited).code, 1);
  t.regex(noFile.tail(), /no file 'missing' in the sandbox of task 'lines'/);
  const otherFramework = procs.cli('cat-other-framework', ['cat', `--master=${master}`, '--task=lines', '--framework=someone-else']);
  t.is((await otherFramework.exited).code, 1);
  t.regex(otherFramework.tail(), /no task 'lines' of framework 'someone-else'/);
  const missing = procs.cli('cat-missing', ['cat', `--master=${master}`]);
  t.is((await missing.exited).code, 2);
  t.regex(missing.tail(), /--task/);
  const badLines = procs.cli('tail-bad', ['tail', `--master=${master}`, '--task=lines', '--lines=-1']);
  t.is((await badLines.exited).code, 2);
  t.regex(badLines.tail(), /invalid value '-1' for --lines/);
});
