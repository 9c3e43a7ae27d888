import { appendFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { FilesProcess } from '../../actors/agent/files.ts';
import { catFile, followFile, sandboxFile, tailFile, type SandboxFile } from '../../actors/cli/sandbox.ts';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';
import type { TaskInfo } from '../../src/mesos/v1/common.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { launchingOnce, TestScheduler } from '../helpers/scheduler.ts';
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

// ---------------------------------------------------------------------------------------------
// Paging, in this process: `catFile`, `tailFile` and `followFile` (what the commands run) on a
// file served by a files process over HTTP, with pages far smaller than the commands' 64 KiB.

/** A files process serving a fresh directory as `/sandbox`; `file` reads `/sandbox/<name>` through `/files/read`. */
async function served(t: ExecutionContext): Promise<{ dir: string; file: (name: string) => SandboxFile }> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mesos-ts-sandbox-cli-')));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'sandbox'));
  const runtime = await Runtime.start({ node: `sandbox-cli-${++nodes}`, logger: pino({ level: 'silent' }), transport: new LocalTransport(new LocalBus()), http: { port: 0 } });
  t.teardown(() => runtime.shutdown());
  const files = new FilesProcess();
  runtime.spawn(files);
  await runtime.dispatch(files.self, () => files.attach(join(dir, 'sandbox'), '/sandbox'));
  const base = `http://127.0.0.1:${runtime.httpAddress!.port}`;
  return { dir: join(dir, 'sandbox'), file: (name) => sandboxFile(base, `/sandbox/${name}`, 5_000, name, 'paging') };
}
let nodes = 0;

/** What is written, as the bytes a terminal receives. */
function collector(): { write: (text: string) => void; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  return { write: (text) => void chunks.push(Buffer.from(text)), bytes: () => Buffer.concat(chunks) };
}

// Lines of 1-, 2-, 3- and 4-byte characters (938 bytes), over many pages.
const WIDE = Array.from({ length: 12 }, (_, i) => `${i} ${'é€😀a'.repeat(i + 2)}\n`).join('');

test('cat - a file of multi-byte characters comes out byte for byte, whatever the page size', async (t) => {
  const { dir, file } = await served(t);
  writeFileSync(join(dir, 'stdout'), WIDE);
  for (const pageSize of [1, 2, 3, 4, 5, 7, 64, 65_536]) {
    const out = collector();
    await catFile(file('stdout'), out.write, pageSize);
    t.true(out.bytes().equals(Buffer.from(WIDE)), `pages of ${pageSize}`);
  }
});

test('cat - ill-formed UTF-8 is one U+FFFD per sequence, as a decoder, and a file that ends inside a character ends with one', async (t) => {
  const { dir, file } = await served(t);
  const bytes = Buffer.concat([Buffer.from('a€'), Buffer.from([0xff, 0xe2, 0x82]), Buffer.from('b😀'), Buffer.from('😀').subarray(0, 3)]);
  writeFileSync(join(dir, 'stdout'), bytes);
  for (const pageSize of [1, 2, 3, 5]) {
    const out = collector();
    await catFile(file('stdout'), out.write, pageSize);
    t.is(out.bytes().toString('utf8'), bytes.toString('utf8'), `pages of ${pageSize}`);
    t.is(out.bytes().toString('utf8'), 'a€\uFFFD\uFFFDb😀\uFFFD');
  }
});

test('tail - the last --lines of a file of multi-byte characters, read backwards in small pages', async (t) => {
  const { dir, file } = await served(t);
  writeFileSync(join(dir, 'stdout'), WIDE);
  const expected = WIDE.split('\n').slice(-4).join('\n');
  for (const pageSize of [1, 3, 5, 64]) {
    const out = collector();
    const end = await tailFile(file('stdout'), out.write, 3, pageSize);
    t.is(out.bytes().toString('utf8'), expected, `pages of ${pageSize}`);
    t.is(end, Buffer.byteLength(WIDE));
  }
  const all = collector();
  await tailFile(file('stdout'), all.write, 1000, 7);
  t.true(all.bytes().equals(Buffer.from(WIDE)));
});

test('tail --follow - characters appended a byte at a time, and a last line cut inside a character, come out whole', async (t) => {
  const { dir, file } = await served(t);
  const path = join(dir, 'stdout');
  const cut = Buffer.from('😀').subarray(0, 2);
  writeFileSync(path, Buffer.concat([Buffer.from('one €\ntwo '), cut]));
  const out = collector();
  // The last line shows up to the character that is not whole yet, and following goes on from it.
  const end = await tailFile(file('stdout'), out.write, 1, 4);
  t.is(out.bytes().toString('utf8'), 'two ');
  t.is(end, Buffer.byteLength('one €\ntwo '));
  const none = collector();
  t.is(await tailFile(file('stdout'), none.write, 0, 4), end, 'with no lines too');
  t.is(none.bytes().length, 0);
  // Each time the follower finds nothing new, one more byte is written; then it stops.
  const rest = [...Buffer.concat([Buffer.from('😀').subarray(2), Buffer.from('é€\nthree 😀\n')])];
  let idles = 0;
  let done = false;
  await followFile(file('stdout'), out.write, end, {
    pageSize: 1,
    stopped: () => done,
    idle: async () => {
      idles++;
      const byte = rest.shift();
      if (byte === undefined) done = true;
      else appendFileSync(path, Buffer.from([byte]));
    },
  });
  t.is(out.bytes().toString('utf8'), 'two 😀é€\nthree 😀\n');
  t.true(idles > 10, 'it waited for each byte');
});

test.serial('cat - a task of a task group: its own stdout, in its default executor\'s sandbox (tasks/<id>), while the executor runs and after it ended', async (t) => {
  const registered = futureMessages(1, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({ agents: 1, port: 0, logger: pino({ level: 'error' }) });
  t.teardown(() => cluster.stop());
  await registered;
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'sandbox-cli-group' }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  const [frameworkId] = await scheduler.next('registered');
  const [offers] = await scheduler.next('resourceOffers');
  const offer = offers[0]!;
  const task = (id: string, command: string): TaskInfo => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.1;mem:32').toJSON(), command: { value: command } });
  driver.acceptOffers(offer.id, [
    {
      type: 'LAUNCH_GROUP',
      launch_group: {
        executor: { type: 'DEFAULT', executor_id: { value: 'group' }, framework_id: frameworkId, resources: Resources.parse('cpus:0.1;mem:32;disk:32').toJSON() },
        task_group: { tasks: [task('alpha', 'echo from-alpha'), task('beta', 'echo from-beta; while [ ! -e go ]; do sleep 0.05; done')] },
      },
    },
  ]);
  const cat = async (name: string, id: string) => {
    const run = procs.cli(name, ['cat', `--master=${cluster.url}`, `--task=${id}`]);
    const exit = await run.exited;
    t.is(exit.code, 0, run.tail());
    return run.stdout();
  };
  for (let finished = false; !finished; ) {
    const [status] = await scheduler.next('statusUpdate');
    finished = status.task_id.value === 'alpha' && status.state === 'TASK_FINISHED';
  }
  // The executor runs (beta waits): the master lists it as DEFAULT.
  t.is(await cat('cat-alpha', 'alpha'), 'from-alpha\n');
  // Once the group is done the executor is gone from the master's books; the task's sandbox is found still.
  const beta = cluster.agents[0]!.frameworks.get(frameworkId.value)!.executors.get('group')!.directory;
  const exited = futureMessages(1, 'ExitedExecutorMessage');
  writeFileSync(join(beta, 'tasks', 'beta', 'go'), '');
  await exited;
  await cluster.runtime.settle();
  t.false(cluster.master.frameworks.get(frameworkId.value)!.executors.get(offer.agent_id.value)?.has('group') ?? false, 'the master no longer lists the executor');
  for (let finished = false; !finished; ) {
    const [status] = await scheduler.next('statusUpdate');
    finished = status.task_id.value === 'beta' && status.state === 'TASK_FINISHED';
  }
  t.is(await cat('cat-beta', 'beta'), 'from-beta\n');
});
