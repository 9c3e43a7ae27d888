import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startNatsServer } from '../helpers/nats-server.ts';
import { Processes, procEnviron, procStat, waitForHttp, type Child } from './processes.ts';

/**
 * The deployable shape, as separate OS processes on one nats-server: `mesos-ts master`, two
 * `mesos-ts agent`s that find the master on the bus, the primes example, then a framework with a
 * long-running task on each agent, one agent killed with SIGKILL.
 */

const PING_TIMEOUT_MS = 200;
const MAX_PING_TIMEOUTS = 3;

test('multihost - master, two agents and frameworks as OS processes: primes, executors as children, an agent killed with SIGKILL is removed', async (t) => {
  const nats = await startNatsServer();
  t.teardown(() => nats.stop());
  const procs = new Processes();
  t.teardown(() => procs.stopAll());
  const work = mkdtempSync(join(tmpdir(), 'mesos-ts-multihost-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  // The master, then two agents given only the bus: they discover it.
  const master = procs.cli('master', [
    'master',
    `--nats=${nats.url}`,
    '--port=0',
    `--agent_ping_timeout=${PING_TIMEOUT_MS}ms`,
    `--max_agent_ping_timeouts=${MAX_PING_TIMEOUTS}`,
    '--allocation_interval=100ms',
  ]);
  const up = await master.waitForLog(/^Master \S+ listening on /);
  const masterPid = up.master as string;
  const masterUrl = up.url as string;
  await waitForHttp(`${masterUrl}/health`);

  const agents = [1, 2].map((i) =>
    procs.cli(`agent${i}`, [
      'agent',
      `--nats=${nats.url}`,
      '--port=0',
      `--work_dir=${join(work, `agent${i}`)}`,
      `--hostname=agent${i}`,
      '--resources=cpus:2;mem:1024',
      '--registration_backoff_factor=50ms',
    ]),
  );
  const registered = await Promise.all(agents.map((a) => a.waitForLog(/^Registered with master$/)));
  for (const r of registered) t.is(r.master, masterPid, 'the agent found the master on the bus');
  const agentIds = registered.map((r) => r.agent_id as string);
  const listening = await Promise.all(agents.map((a) => a.waitForLog(/^Agent \S+ listening on /)));
  // What --resources does not name (disk, ports) is detected from the machine, as Mesos's agent does.
  for (const l of listening) t.regex(String(l.resources), /^cpus:2;disk:\d+;mem:1024;ports:\[31000-32000\]$/);
  const byAgentId = new Map<string, { child: Child; upid: string; endpoint: string; dir: string }>(
    agentIds.map((id, i) => [
      id,
      { child: agents[i]!, upid: listening[i]!.agent as string, endpoint: new URL(listening[i]!.url as string).host, dir: join(work, `agent${i + 1}`) },
    ]),
  );

  // The primes example, against the master's UPID on the bus.
  const primes = procs.tsx('primes', 'examples/primes.ts', ['--master', masterPid, '--nats', nats.url, '--max', '10000', '--tasks', '4', '--timeout', '40secs']);
  const primesExit = await primes.exited;
  t.is(primesExit.code, 0, primes.tail());
  t.regex(primes.stdout(), /^primes below 10000: 1229$/m);
  // Its executors ran in sandboxes under the agents' work directories, output to files there.
  const sandboxes = [...byAgentId.values()].flatMap(({ dir }) => findFiles(dir, 'stderr'));
  t.true(sandboxes.length >= 1, `executor sandboxes with stderr files: ${sandboxes.join(', ')}`);

  // A framework that discovers the master (`nats://`), with a long-running task on each agent.
  const framework = procs.tsx('framework', 'test/fixtures/multihost/scripted-framework.ts', ['--master', nats.url, '--long', '2']);
  const frameworkId = (await framework.waitForEvent((e) => e.event === 'registered', 'registration')).framework_id as string;
  const running = await Promise.all(
    ['long-1', 'long-2'].map((id) => framework.waitForEvent((e) => e.event === 'status' && e.task_id === id && e.state === 'TASK_RUNNING', `${id} TASK_RUNNING`)),
  );
  t.not(running[0]!.agent_id, running[1]!.agent_id, 'one long task per agent');

  // Each executor is a child process of its agent, in a process group of its own, with the Mesos environment.
  for (const [i, status] of running.entries()) {
    const pid = Number(/pid (\d+)/.exec(status.message as string)?.[1]);
    const agent = byAgentId.get(status.agent_id as string)!;
    const { ppid, pgid } = procStat(pid);
    t.is(ppid, agent.child.pid, 'the executor is a child of its agent');
    t.is(pgid, pid, 'the executor leads its own process group');
    const env = procEnviron(pid);
    t.is(env.MESOS_FRAMEWORK_ID, frameworkId);
    t.is(env.MESOS_EXECUTOR_ID, `echo-${i + 1}`);
    t.is(env.MESOS_SLAVE_PID, agent.upid);
    // Mesos's `ip:port` of the agent's HTTP server (earlier versions of this agent put its UPID there).
    t.true([agent.endpoint, agent.upid].includes(env.MESOS_AGENT_ENDPOINT ?? ''), env.MESOS_AGENT_ENDPOINT);
    t.is(env.MESOS_SLAVE_ID, status.agent_id as string);
    t.is(env.MESOS_CHECKPOINT, '0');
    t.true(env.MESOS_DIRECTORY?.startsWith(agent.dir), env.MESOS_DIRECTORY);
  }

  // Kill the agent of long-1 once the framework holds an offer of its remaining resources.
  const victimId = running[0]!.agent_id as string;
  const victim = byAgentId.get(victimId)!;
  const heldFrom = framework.lines.length;
  await framework.waitForEvent((e) => e.event === 'offer' && e.agent_id === victimId, 'an offer from the agent to kill', {
    from: framework.lines.findIndex((l) => l.json?.event === 'launched' && l.json.task_id === 'long-1'),
  });
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  const lost = await framework.waitForEvent((e) => e.event === 'status' && e.task_id === 'long-1' && e.state === 'TASK_LOST', 'TASK_LOST of long-1', { from: heldFrom });
  const removalMs = Date.now() - killedAt;
  await framework.waitForEvent((e) => e.event === 'slave_lost' && e.agent_id === victimId, 'slaveLost', { from: heldFrom });
  await framework.waitForEvent((e) => e.event === 'rescinded' && e.agent_id === victimId, 'the held offer rescinded', { from: heldFrom });
  t.log(`agent removed ${removalMs} ms after SIGKILL (ping timeout ${PING_TIMEOUT_MS} ms x ${MAX_PING_TIMEOUTS})`);
  t.is(lost.reason, 'REASON_AGENT_REMOVED');
  t.is(lost.source, 'SOURCE_MASTER');
  t.true(removalMs >= PING_TIMEOUT_MS * (MAX_PING_TIMEOUTS - 1), `removed after ${removalMs} ms`);
  t.true(removalMs < 5_000, `removed after ${removalMs} ms, by the health checks rather than the link timeout`);

  // The other agent and its task go on; the master counts one agent.
  const survivorId = running[1]!.agent_id as string;
  const state = (await (await fetch(`${masterUrl}/master/state`)).json()) as { slaves: { id: string }[] };
  t.deepEqual(state.slaves.map((s) => s.id), [survivorId]);
  const lostTasks = framework.events().filter((e) => e.event === 'status' && e.state === 'TASK_LOST').map((e) => e.task_id);
  t.deepEqual(lostTasks, ['long-1']);

  framework.write('stop');
  t.is((await framework.exited).code, 0, framework.tail());
});

function findFiles(dir: string, name: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? findFiles(join(dir, e.name), name) : e.name === name ? [join(dir, e.name)] : []));
}
