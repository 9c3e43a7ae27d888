import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/nats-server.ts';
import { Processes, ROOT } from './processes.ts';

/**
 * Issue 5's promise, as a user runs it: `npm start` (mesos-ts dev) in one terminal, then a
 * framework in another speaking the v1 scheduler HTTP API through our own SchedulerDriver:
 * `mesos-ts execute --master http://...` and `examples/primes.ts --master http://...`.
 */
test('http master - execute and the primes example run against mesos-ts dev over the scheduler HTTP API', async (t) => {
  const procs = new Processes();
  t.teardown(() => procs.stopAll());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dev = procs.cli('dev', ['dev', '--port', String(port), '--agents', '2']);
  await dev.waitForLog(/^Cluster running/);

  const hi = procs.cli('execute', ['execute', '--master', url, '--name', 'hi', '--command', 'echo hi'], { MESOS_TS_LOG_LEVEL: 'warn' });
  t.is((await hi.exited).code, 0, hi.tail());
  t.regex(hi.stdout(), /Received status update TASK_FINISHED for task 'hi'/);

  const bad = procs.cli('execute', ['execute', '--master', url, '--name', 'bad', '--command', 'exit 3'], { MESOS_TS_LOG_LEVEL: 'warn' });
  t.is((await bad.exited).code, 1);
  t.regex(bad.stdout(), /TASK_FAILED[\s\S]*Command exited with status 3/);

  const primes = procs.tsx('primes', join(ROOT, 'examples/primes.ts'), ['--master', url, '--max', '100', '--tasks', '2']);
  t.is((await primes.exited).code, 0, primes.tail());
  t.is(primes.stdout(), 'primes below 100: 25\n');
});

test('http master - mesos-ts dev on a --work_dir, stopped with Ctrl-C and started again: a checkpointing task runs on, and execute sees it finish', async (t) => {
  t.timeout(120_000);
  const procs = new Processes();
  t.teardown(() => procs.stopAll());
  const work = mkdtempSync(join(tmpdir(), 'mesos-ts-dev-restart-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const devArgs = ['dev', '--port', String(port), '--agents', '1', `--work_dir=${work}`];
  const dev = procs.cli('dev', devArgs);
  await dev.waitForLog(/^Cluster running/);

  // The task runs until the test creates `release`.
  const release = join(work, 'release');
  const execute = procs.cli('execute', ['execute', '--master', url, '--checkpoint', '--name', 'waiter', '--command', `while [ ! -e ${release} ]; do sleep 0.05; done`], { MESOS_TS_LOG_LEVEL: 'warn' });
  await execute.waitFor((l) => /TASK_RUNNING for task 'waiter'/.test(l.text), "the task's TASK_RUNNING");

  // The whole cluster stops, and starts again on its work directory.
  dev.kill('SIGINT');
  t.is((await dev.exited).code, 0);
  const again = procs.cli('dev-again', devArgs);
  await again.waitForLog(/^Executor re-registered$/);
  await again.waitForLog(/^Recovery complete$/);
  await again.waitForLog(/^Re-added framework after master failover$|^Framework failed over$/);

  writeFileSync(release, '');
  t.is((await execute.exited).code, 0, execute.tail());
  t.regex(execute.stdout(), /Received status update TASK_FINISHED for task 'waiter'/);
  t.notRegex(execute.stdout(), /TASK_(FAILED|LOST|KILLED|DROPPED)/);
});

test('http master - mesos-ts dev on a --work_dir whose agent checkpoint cannot be read exits 1, naming it', async (t) => {
  t.timeout(60_000);
  const procs = new Processes();
  t.teardown(() => procs.stopAll());
  const work = mkdtempSync(join(tmpdir(), 'mesos-ts-dev-strict-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // What agent-1's previous run checkpointed, damaged.
  const slaves = join(work, 'agent-1', 'meta', 'slaves');
  mkdirSync(join(slaves, 'S1'), { recursive: true });
  writeFileSync(join(slaves, 'S1', 'slave.info'), '[]');
  symlinkSync('S1', join(slaves, 'latest'));
  const dev = procs.cli('dev', ['dev', '--port', String(await freePort()), '--agents', '1', `--work_dir=${work}`]);
  t.is((await dev.exited).code, 1, dev.tail());
  const failed = await dev.waitForLog(/^An agent failed; shutting the cluster down$/);
  t.is(failed.reason, `checkpoint '${join(slaves, 'S1', 'slave.info')}' is not a JSON object`);
});
