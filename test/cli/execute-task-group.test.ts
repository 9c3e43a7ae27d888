import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { useBusCluster } from '../helpers/bus-cluster.ts';

/**
 * `mesos-ts execute --task_group` as an OS process (as `mesos-execute --task_group`) against a
 * real master and agent on a real nats-server (those two in this process): the group runs in
 * the agent's default executor, each task a real process.
 */

const cluster = useBusCluster(test, 'tg', 'cpus:2;mem:512;disk:1024');
const { procs, bus } = cluster;

/** A task of a `--task_group`, as an operator writes it (no agent id: execute fills it in). */
function groupTask(id: string, command: string) {
  return {
    name: id,
    task_id: { value: id },
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
    ],
    command: { value: command },
  };
}

test.serial('execute --task_group - a group from a file: every task\'s updates printed as mesos-execute prints them; exit 0 once every task finished', async (t) => {
  const file = join(cluster.work, 'group.json');
  writeFileSync(file, JSON.stringify({ tasks: [groupTask('one', 'echo one'), groupTask('two', 'echo two')] }));
  const run = procs.cli('execute-group-ok', ['execute', ...bus(), `--task_group=${file}`], { MESOS_TS_LOG_LEVEL: 'warn' });
  const exit = await run.exited;
  t.is(exit.code, 0, run.tail());
  const out = run.stdout();
  t.regex(out, /^Subscribed with ID \S+-0\d+$/m);
  t.regex(out, /^Submitted task group with tasks \[ one, two \] to agent '\S+-S\d+'$/m);
  for (const id of ['one', 'two']) {
    t.regex(out, new RegExp(`^Received status update TASK_STARTING for task '${id}'$`, 'm'));
    t.regex(out, new RegExp(`^Received status update TASK_RUNNING for task '${id}'$`, 'm'));
    t.regex(out, new RegExp(`^Received status update TASK_FINISHED for task '${id}'\\n {2}message: 'Command exited with status 0'\\n {2}source: SOURCE_EXECUTOR$`, 'm'));
  }
});

test.serial('execute --task_group - given as JSON, a task that fails has its sibling killed: exit 1', async (t) => {
  const group = JSON.stringify({ tasks: [groupTask('fails', 'sleep 0.2; exit 3'), groupTask('sleeps', 'exec sleep 60')] });
  const run = procs.cli('execute-group-fail', ['execute', ...bus(), `--task_group=${group}`], { MESOS_TS_LOG_LEVEL: 'warn' });
  const exit = await run.exited;
  t.is(exit.code, 1, run.tail());
  const out = run.stdout();
  t.regex(out, /^Received status update TASK_FAILED for task 'fails'\n {2}message: 'Command exited with status 3'$/m);
  t.regex(out, /^Received status update TASK_KILLED for task 'sleeps'$/m);
});
