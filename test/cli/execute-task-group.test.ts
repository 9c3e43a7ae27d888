import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { startAgentNode, type AgentNode } from '../../actors/cluster/agent-node.ts';
import { startMasterNode, type MasterNode } from '../../actors/cluster/master-node.ts';
import { SLAVE_REGISTERED } from '../../src/mesos/protocol.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { futureMessage } from '../helpers/filters.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { Processes } from '../multihost/processes.ts';

/**
 * `mesos-ts execute --task_group` as an OS process (as `mesos-execute --task_group`) against a
 * real master and agent on a real nats-server (those two in this process): the group runs in
 * the agent's default executor, each task a real process.
 */

const PREFIX = 'clitg';
const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
let nats: NatsServer;
let master: MasterNode;
let agent: AgentNode;
let work: string;
const procs = new Processes();

test.before(async () => {
  nats = await startNatsServer();
  work = mkdtempSync(join(tmpdir(), 'mesos-ts-cli-tg-'));
  const transport = (): NatsTransport => new NatsTransport({ servers: nats.url, prefix: PREFIX, logger });
  master = await startMasterNode({ transport: transport(), node: 'tg-master', logger, port: 0, allocationIntervalMs: 50 });
  const registered = futureMessage(SLAVE_REGISTERED, master.master.self, 'slave(1)@tg-agent');
  agent = await startAgentNode({ transport: transport(), node: 'tg-agent', logger, port: 0, workDir: join(work, 'agent'), registrationBackoffFactorMs: 10, hostname: 'tg-agent', resources: 'cpus:2;mem:512;disk:1024' });
  await registered;
});

test.after.always(async () => {
  await procs.stopAll();
  await agent?.stop();
  await master?.stop();
  await nats?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

const bus = (): string[] => [`--nats=${nats.url}`, `--nats_prefix=${PREFIX}`];

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
  const file = join(work, 'group.json');
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
