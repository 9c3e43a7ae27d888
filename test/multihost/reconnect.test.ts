import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Resources } from '../../src/mesos/resources.ts';
import { LINK_TIMEOUT_MS } from '../../src/process/links.ts';
import { Processes, StoppableNats, waitForHttp, type Child } from './processes.ts';

/**
 * `nats-server` restarts under a running cluster of OS processes (master, agent, a framework
 * with a long-running task):
 *
 * 1. a quick restart: every process reconnects; no link ends, but each is interrupted
 *    (`linkInterrupted`: what was published meanwhile may be lost), so the agent re-registers
 *    and the framework re-subscribes, and both carry on with the same ids;
 * 2. an outage longer than the link timeout: master and agent count each other lost, the
 *    framework its master; when the bus is back the agent re-registers and the framework
 *    re-subscribes, and the task that ran all along finishes once.
 *
 * After each, a new task runs to completion, and no task is ever reported terminal twice.
 */

test('multihost - nats-server restarts: every process reconnects, the agent re-registers after a long outage, no task is reported terminal twice', async (t) => {
  const nats = await StoppableNats.start();
  t.teardown(() => nats.stop());
  const procs = new Processes();
  t.teardown(() => procs.stopAll());
  const work = mkdtempSync(join(tmpdir(), 'mesos-ts-multihost-reconnect-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  // Pings slow enough that an outage of the link timeout does not remove the agent, and a
  // leader lease longer than the outages: a master that cannot renew its lease for a whole
  // lease gives the lead up and exits, as Mesos's does when its ZooKeeper session expires.
  const master = procs.cli('master', ['master', `--nats=${nats.url}`, '--port=0', '--agent_ping_timeout=2secs', '--max_agent_ping_timeouts=5', '--allocation_interval=100ms', '--leader_lease=60secs']);
  const masterUrl = (await master.waitForLog(/^Master \S+ listening on /)).url as string;
  const agent = procs.cli('agent', ['agent', `--nats=${nats.url}`, '--port=0', `--work_dir=${work}`, '--resources=cpus:2;mem:1024', '--registration_backoff_factor=50ms']);
  const agentId = (await agent.waitForLog(/^Registered with master$/)).agent_id as string;
  const framework = procs.tsx('framework', 'test/fixtures/multihost/scripted-framework.ts', ['--master', nats.url, '--long', '1']);
  await framework.waitForEvent((e) => e.event === 'status' && e.task_id === 'long-1' && e.state === 'TASK_RUNNING', 'long-1 TASK_RUNNING');
  // Quiet, the framework holds everything long-1 leaves free: the agent's total (its first
  // offer, before long-1) less what long-1 and its executor take.
  const whole = Resources.parse((await framework.waitForEvent((e) => e.event === 'offer', 'the first offer')).held as string);
  const long1 = await framework.waitForEvent((e) => e.event === 'launched' && e.task_id === 'long-1', 'long-1 launched');
  const quiet = whole.minus(Resources.parse(long1.resources as string));

  // A task runs to the end, and the cluster is quiet before the bus goes down: the agent heard
  // the acknowledgement of the terminal update, and the framework holds the offer of what the
  // task freed (offered once the master heard the task ended, as in Mesos: that can be before
  // the framework sees TASK_FINISHED, since the agent's TASK_RUNNING already says so in its
  // `latest_state`). Core NATS drops what is published while a client is away: an acknowledgement
  // lost with the server makes the agent resend the update (at least once, as in Mesos), and
  // a lost OFFERS event or RunTaskMessage is recovered by the re-subscription and
  // re-registration; test/cluster/bus-restart.test.ts makes those losses certain.
  const runTask = async (id: string): Promise<void> => {
    const from = framework.lines.length;
    const agentFrom = agent.lines.length;
    framework.write(`launch ${id} true`);
    await framework.waitForEvent((e) => e.event === 'status' && e.task_id === id && e.state === 'TASK_FINISHED', `${id} TASK_FINISHED`, { from });
    await agent.waitFor(
      (l) => l.json?.msg === 'Received status update acknowledgement' && l.json.task === id && l.json.state === 'TASK_FINISHED',
      `the acknowledgement of ${id} TASK_FINISHED`,
      { from: agentFrom },
    );
    const launched = await framework.waitForEvent((e) => e.event === 'launched' && e.task_id === id, `${id} launched`, { from });
    const afterLaunch = framework.lines.findIndex((l) => l.json === launched) + 1;
    await framework.waitForEvent(
      (e) => e.event === 'offer' && Resources.parse(e.held as string).equals(quiet),
      `the offer of what ${id} freed (everything long-1 leaves free held again)`,
      { from: afterLaunch },
    );
  };
  await runTask('before');

  // 1. A quick restart.
  let marks = mark([master, agent, framework]);
  await nats.down();
  await nats.up();
  await Promise.all([
    master.waitForLog(/^Reconnected to NATS$/, { from: marks[0] }),
    agent.waitForLog(/^Reconnected to NATS$/, { from: marks[1] }),
    framework.waitForEvent((e) => e.event === 'nats_reconnect', 'a reconnection', { from: marks[2] }),
  ]);
  const quick = await agent.waitForLog(/^Re-registered with master$/, { from: marks[1] });
  t.is(quick.agent_id, agentId);
  await framework.waitForEvent((e) => e.event === 'reregistered', 'the re-subscription after the quick restart', { from: marks[2] });
  await runTask('after-restart');

  // 2. An outage longer than the link timeout: each side counts the other lost ...
  marks = mark([master, agent, framework]);
  await nats.down();
  const outage = Date.now();
  await Promise.all([
    master.waitForLog(/^Agent disconnected$/, { from: marks[0], timeoutMs: LINK_TIMEOUT_MS * 3 }),
    agent.waitForLog(/^Master exited$/, { from: marks[1], timeoutMs: LINK_TIMEOUT_MS * 3 }),
    framework.waitForEvent((e) => e.event === 'disconnected', "the framework's disconnection", { from: marks[2], timeoutMs: LINK_TIMEOUT_MS * 3 }),
  ]);
  t.log(`links timed out ${Date.now() - outage} ms into the outage (LINK_TIMEOUT_MS ${LINK_TIMEOUT_MS})`);
  // ... and finds it again when the bus is back: the agent re-registers under its id, the framework re-subscribes.
  await nats.up();
  const reregistered = await agent.waitForLog(/^Re-registered with master$/, { from: marks[1] });
  t.is(reregistered.agent_id, agentId);
  await framework.waitForEvent((e) => e.event === 'reregistered', 'the re-subscription', { from: marks[2] });
  await runTask('after-outage');

  // The long task ran through both and finishes now, once.
  const from = framework.lines.length;
  framework.write(`message echo-1 ${agentId} finish`);
  await framework.waitForEvent((e) => e.event === 'status' && e.task_id === 'long-1' && e.state === 'TASK_FINISHED', 'long-1 TASK_FINISHED', { from });

  const state = (await (await waitForHttp(`${masterUrl}/master/state`)).json()) as { slaves: { id: string; active: boolean }[] };
  t.deepEqual(state.slaves.map((s) => [s.id, s.active]), [[agentId, true]]);

  framework.write('stop');
  t.is((await framework.exited).code, 0, framework.tail());
  const terminal = framework.events().filter((e) => e.event === 'status' && ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE'].includes(e.state as string));
  t.deepEqual(
    terminal.map((e) => `${String(e.task_id)} ${String(e.state)}`).sort(),
    ['after-outage TASK_FINISHED', 'after-restart TASK_FINISHED', 'before TASK_FINISHED', 'long-1 TASK_FINISHED'],
  );
});

function mark(children: Child[]): number[] {
  return children.map((c) => c.lines.length);
}
