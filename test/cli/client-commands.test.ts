import test from 'ava';
import { useBusCluster } from '../helpers/bus-cluster.ts';
import { summarizeState } from '../../actors/cli/state-summary.ts';

/**
 * `mesos-ts execute` and `mesos-ts state` as OS processes against a master and an agent on a
 * real nats-server (those two in this process, to keep the test light).
 */

const cluster = useBusCluster(test, 'cli', 'cpus:2;mem:512');
const { procs, bus } = cluster;

test('execute - runs the command as a task, prints its updates as mesos-execute does, exits 0 on TASK_FINISHED', async (t) => {
  const run = procs.cli('execute-ok', ['execute', ...bus(), '--name=hello', '--command=echo hello', '--resources=cpus:0.1;mem:32'], { MESOS_TS_LOG_LEVEL: 'warn' });
  const exit = await run.exited;
  t.is(exit.code, 0, run.tail());
  const out = run.stdout();
  t.regex(out, /^Subscribed with ID \S+-0\d+$/m);
  t.regex(out, /^Submitted task 'hello' to agent '\S+-S\d+'$/m);
  t.regex(out, /^Received status update TASK_RUNNING for task 'hello'$/m);
  t.regex(out, /^Received status update TASK_FINISHED for task 'hello'\n {2}message: 'Command exited with status 0'$/m);
});

test('execute - exits 1 when the task does not finish (TASK_FAILED), with --master master@node', async (t) => {
  const run = procs.cli('execute-fail', ['execute', ...bus(), `--master=${String(cluster.master.master.self)}`, '--name=fails', '--command=exit 3', '--resources=cpus:0.1;mem:32'], {
    MESOS_TS_LOG_LEVEL: 'warn',
  });
  const exit = await run.exited;
  t.is(exit.code, 1, run.tail());
  t.regex(run.stdout(), /^Received status update TASK_FAILED for task 'fails'\n {2}message: 'Command exited with status 3'$/m);
});

test('execute - --kill_after kills the running task after that long: TASK_KILLED, exit 1', async (t) => {
  const run = procs.cli('execute-kill', ['execute', ...bus(), '--name=sleeper', '--command=sleep 30', '--resources=cpus:0.1;mem:32', '--kill_after=200ms'], { MESOS_TS_LOG_LEVEL: 'warn' });
  const exit = await run.exited;
  t.is(exit.code, 1, run.tail());
  const out = run.stdout();
  t.regex(out, /^Received status update TASK_RUNNING for task 'sleeper'$/m);
  t.regex(out, /^Received status update TASK_KILLED for task 'sleeper'$/m);
  // Without the TASK_KILLING_STATE capability the framework is not sent TASK_KILLING.
  t.notRegex(out, /TASK_KILLING/);
});

test('execute - --checkpoint and --framework_capabilities reach the master in FrameworkInfo (TASK_KILLING_STATE: a kill shows TASK_KILLING)', async (t) => {
  const run = procs.cli(
    'execute-caps',
    ['execute', ...bus(), '--name=capable', '--framework_name=execute-caps', '--command=sleep 30', '--resources=cpus:0.1;mem:32', '--kill_after=200ms', '--checkpoint', '--framework_capabilities=TASK_KILLING_STATE,PARTITION_AWARE'],
    { MESOS_TS_LOG_LEVEL: 'warn' },
  );
  const exit = await run.exited;
  t.is(exit.code, 1, run.tail());
  t.regex(run.stdout(), /^Received status update TASK_KILLING for task 'capable'$/m);
  t.regex(run.stdout(), /^Received status update TASK_KILLED for task 'capable'$/m);
  // The framework subscribed and ran a task, so the master knows it (torn down or not yet).
  const framework = [...cluster.master.master.frameworks.values(), ...cluster.master.master.completedFrameworks].find((f) => f.info.name === 'execute-caps');
  t.truthy(framework);
  t.is(framework!.info.checkpoint, true);
  t.deepEqual(framework!.info.capabilities?.map((c) => c.type), ['TASK_KILLING_STATE', 'PARTITION_AWARE']);
});

test('state - asked over the bus, a readable summary; --json the raw /master/state, also over HTTP', async (t) => {
  const [summary, json] = [
    procs.cli('state-bus', ['state', ...bus()], { MESOS_TS_LOG_LEVEL: 'warn' }),
    procs.cli('state-http', ['state', `--master=${cluster.master.url}`, '--json'], { MESOS_TS_LOG_LEVEL: 'warn' }),
  ];
  t.is((await summary.exited).code, 0, summary.tail());
  t.is((await json.exited).code, 0, json.tail());
  const text = summary.stdout();
  t.regex(text, new RegExp(`^Master ${String(cluster.master.master.self).replace(/[()]/g, '\\$&')} `, 'm'));
  t.regex(text, /^Agents: 1 \(1 active, 0 inactive, 0 removed\)$/m);
  t.regex(text, /cli-agent\s+slave\(1\)@cli-agent\s+yes\s+cpus \S+\/2 {2}mem \S+\/512/);
  const state = JSON.parse(json.stdout()) as { pid: string; slaves: { hostname: string }[] };
  t.is(state.pid, String(cluster.master.master.self));
  t.deepEqual(state.slaves.map((s) => s.hostname), ['cli-agent']);
});

test('state - exits 1 naming the problem when no master answers', async (t) => {
  const run = procs.cli('state-none', ['state', `--nats=${cluster.nats.url}`, '--nats_prefix=nobody', '--timeout=300ms'], { MESOS_TS_LOG_LEVEL: 'warn' });
  t.is((await run.exited).code, 1);
  t.regex(run.tail(), /mesos-ts state: no leading master answered on 'nobody.leader.state'/);
});

test('state - the summary reads a state with fields missing without failing', (t) => {
  const text = summarizeState({ pid: 'master@m1', frameworks: [{ id: 'f1', name: 'fw', active: true, tasks: [{ id: 't1', state: 'TASK_RUNNING', slave_id: 'a1' }], used_resources: { cpus: 1, mem: 0 } }] });
  t.regex(text, /^Master master@m1 {2}id - {2}version -$/m);
  t.regex(text, /^Frameworks: 1 \(0 completed\)$/m);
  t.regex(text, /^ {2}f1 +fw +- +active +1 +cpus 1$/m);
  t.regex(text, /^ {2}t1 +TASK_RUNNING +fw +a1$/m);
});
