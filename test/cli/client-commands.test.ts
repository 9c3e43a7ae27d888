import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { summarizeState } from '../../actors/cli/state-summary.ts';
import { startAgentNode, type AgentNode } from '../../actors/cluster/agent-node.ts';
import { startMasterNode, type MasterNode } from '../../actors/cluster/master-node.ts';
import { SLAVE_REGISTERED } from '../../src/mesos/protocol.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { futureMessage } from '../helpers/filters.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { Processes } from '../multihost/processes.ts';

/**
 * `mesos-ts execute` and `mesos-ts state` as OS processes against a master and an agent on a
 * real nats-server (those two in this process, to keep the test light).
 */

const PREFIX = 'clicmd';
const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
let nats: NatsServer;
let master: MasterNode;
let agent: AgentNode;
let work: string;
const procs = new Processes();

test.before(async () => {
  nats = await startNatsServer();
  work = mkdtempSync(join(tmpdir(), 'mesos-ts-cli-'));
  const transport = (): NatsTransport => new NatsTransport({ servers: nats.url, prefix: PREFIX, logger });
  master = await startMasterNode({ transport: transport(), node: 'cli-master', logger, port: 0, allocationIntervalMs: 50 });
  const registered = futureMessage(SLAVE_REGISTERED, master.master.self, 'slave(1)@cli-agent');
  agent = await startAgentNode({ transport: transport(), node: 'cli-agent', logger, port: 0, workDir: work, registrationBackoffFactorMs: 10, hostname: 'cli-agent', resources: 'cpus:2;mem:512' });
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
  const run = procs.cli('execute-fail', ['execute', ...bus(), `--master=${String(master.master.self)}`, '--name=fails', '--command=exit 3', '--resources=cpus:0.1;mem:32'], {
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
  const framework = [...master.master.frameworks.values(), ...master.master.completedFrameworks].find((f) => f.info.name === 'execute-caps');
  t.truthy(framework);
  t.is(framework!.info.checkpoint, true);
  t.deepEqual(framework!.info.capabilities?.map((c) => c.type), ['TASK_KILLING_STATE', 'PARTITION_AWARE']);
});

test('state - asked over the bus, a readable summary; --json the raw /master/state, also over HTTP', async (t) => {
  const [summary, json] = [
    procs.cli('state-bus', ['state', ...bus()], { MESOS_TS_LOG_LEVEL: 'warn' }),
    procs.cli('state-http', ['state', `--master=${master.url}`, '--json'], { MESOS_TS_LOG_LEVEL: 'warn' }),
  ];
  t.is((await summary.exited).code, 0, summary.tail());
  t.is((await json.exited).code, 0, json.tail());
  const text = summary.stdout();
  t.regex(text, new RegExp(`^Master ${String(master.master.self).replace(/[()]/g, '\\$&')} `, 'm'));
  t.regex(text, /^Agents: 1 \(1 active, 0 inactive, 0 removed\)$/m);
  t.regex(text, /cli-agent\s+slave\(1\)@cli-agent\s+yes\s+cpus \S+\/2 {2}mem \S+\/512/);
  const state = JSON.parse(json.stdout()) as { pid: string; slaves: { hostname: string }[] };
  t.is(state.pid, String(master.master.self));
  t.deepEqual(state.slaves.map((s) => s.hostname), ['cli-agent']);
});

test('state - exits 1 naming the problem when no master answers', async (t) => {
  const run = procs.cli('state-none', ['state', `--nats=${nats.url}`, '--nats_prefix=nobody', '--timeout=300ms'], { MESOS_TS_LOG_LEVEL: 'warn' });
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
