import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import test, { type ExecutionContext } from 'ava';
import { pino } from 'pino';
import { LEADER_KEY } from '../../actors/detector/constants.ts';
import { leaderBucket } from '../../actors/detector/contender.ts';
import { registryBucket } from '../../actors/master/registry.ts';
import { SchedulerDriver, type Scheduler } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { MasterInfo, Offer, TaskStatus } from '../../src/mesos/v1/common.ts';
import { LINK_TIMEOUT_MS } from '../../src/process/links.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { NatsTransport } from '../../src/transport/nats.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { Processes, procEnviron, waitForHttp, type Child } from './processes.ts';

/**
 * High availability as an operator runs it: two `mesos-ts master --nats` on one nats-server
 * elect a leader (a JetStream KV lease of one second here); an agent (`mesos-ts agent`) and a
 * framework (a `SchedulerDriver` in this process, given only the bus) find the leader; the
 * leader is killed with SIGKILL; the standby is elected once the lease runs out; the agent and
 * the framework notice their master is gone (the link times out) and re-register with the new
 * leader, which rebuilds the framework's running task from them and can kill it. And an agent
 * killed with SIGKILL whose next run takes back the executor and task that outlived it.
 */

const LEASE = '1secs';
const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });

type Seen = { kind: 'registered' | 'reregistered' | 'disconnected'; master?: string } | { kind: 'status'; status: TaskStatus };

/** A framework that runs one `sleep 600` on its first offer and reports everything else. */
class LongTaskScheduler implements Scheduler {
  readonly seen: Seen[] = [];
  #launched = false;
  #wake: (() => void) | undefined;

  registered(_driver: SchedulerDriver, _id: unknown, master: MasterInfo | undefined): void {
    this.#push({ kind: 'registered', ...(master?.pid !== undefined ? { master: master.pid } : {}) });
  }

  reregistered(_driver: SchedulerDriver, master: MasterInfo | undefined): void {
    this.#push({ kind: 'reregistered', ...(master?.pid !== undefined ? { master: master.pid } : {}) });
  }

  disconnected(): void {
    this.#push({ kind: 'disconnected' });
  }

  resourceOffers(driver: SchedulerDriver, offers: Offer[]): void {
    for (const offer of offers) {
      if (this.#launched) {
        driver.declineOffer(offer.id, { refuse_seconds: 3600 });
        continue;
      }
      this.#launched = true;
      driver.launchTasks(offer.id, [
        { name: 'sleeper', task_id: { value: 'sleeper' }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.1;mem:32').toJSON(), command: { value: 'sleep 600' } },
      ]);
    }
  }

  statusUpdate(_driver: SchedulerDriver, status: TaskStatus): void {
    this.#push({ kind: 'status', status });
  }

  #push(seen: Seen): void {
    this.seen.push(seen);
    this.#wake?.();
  }

  /** The first event from index `from` on that `match` accepts, within `timeoutMs`. */
  async waitFor(match: (seen: Seen) => boolean, what: string, from = 0, timeoutMs = 20_000): Promise<Seen> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`framework: no ${what} within ${timeoutMs} ms; saw ${JSON.stringify(this.seen.map((s) => (s.kind === 'status' ? `${s.kind} ${s.status.state}` : s.kind)))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

const isStatus = (state: string) => (s: Seen) => s.kind === 'status' && s.status.task_id.value === 'sleeper' && s.status.state === state;

/** What each test here starts with, all gone after it: a nats-server of its own, its child processes and a work directory. */
async function world(t: ExecutionContext, name: string): Promise<{ nats: NatsServer; procs: Processes; work: string }> {
  const nats = await startNatsServer();
  t.teardown(() => nats.stop());
  const procs = new Processes();
  t.teardown(() => procs.stopAll());
  const work = mkdtempSync(join(tmpdir(), `mesos-ts-multihost-${name}-`));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  return { nats, procs, work };
}

test('multihost - two masters elect one leader; it is killed with SIGKILL; the standby leads, the agent and the framework re-register, and the running task is rebuilt and can be killed', async (t) => {
  t.timeout(120_000);
  const { nats, procs, work } = await world(t, 'failover');

  // Two masters at once: exactly one is elected, the other follows it.
  const masters = ['master-a', 'master-b'].map((name) =>
    procs.cli(name, ['master', `--nats=${nats.url}`, '--port=0', `--leader_lease=${LEASE}`, '--allocation_interval=100ms']),
  );
  const listening = await Promise.all(masters.map((m) => m.waitForLog(/^Master \S+ listening on /)));
  const elected = await Promise.any(masters.map((m, i) => m.waitForLog(/^Elected as the leading master$/).then(() => i)));
  const leader = masters[elected]!;
  const standby = masters[1 - elected]!;
  const leaderPid = listening[elected]!.master as string;
  const leaderUrl = listening[elected]!.url as string;
  const standbyPid = listening[1 - elected]!.master as string;
  const standbyUrl = listening[1 - elected]!.url as string;
  const following = await standby.waitForLog(/^Following the leading master$/);
  t.is(following.leader, leaderPid);
  t.false(saidElected(standby), 'one master only is elected');

  // The standby redirects to the leader, and is healthy.
  const redirected = await fetch(`${standbyUrl}/master/state`, { redirect: 'manual' });
  t.is(redirected.status, 307);
  t.is(redirected.headers.get('location'), `//${new URL(leaderUrl).host}/master/state`);
  t.is((await fetch(`${standbyUrl}/health`)).status, 200);

  // An agent and a framework given only the bus find the leader.
  const agent = procs.cli('agent', ['agent', `--nats=${nats.url}`, '--port=0', `--work_dir=${work}`, '--resources=cpus:2;mem:1024', '--registration_backoff_factor=50ms']);
  const registered = await agent.waitForLog(/^Registered with master$/);
  t.is(registered.master, leaderPid);
  const agentId = registered.agent_id as string;

  const transport = new NatsTransport({ servers: nats.url, logger });
  const runtime = await Runtime.start({ transport, logger, node: `failover-framework-${process.pid}` });
  t.teardown(() => runtime.shutdown());
  const scheduler = new LongTaskScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'failover', checkpoint: true, failover_timeout: 60 }, nats.url, { runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  await scheduler.waitFor((s) => s.kind === 'registered', 'registration');
  const frameworkId = driver.frameworkId!.value;
  const runningAt = await scheduler.waitFor(isStatus('TASK_RUNNING'), 'TASK_RUNNING of sleeper');
  t.is((runningAt as { status: TaskStatus }).status.agent_id?.value, agentId);

  // The leader dies without a word.
  const marks = { standby: standby.lines.length, agent: agent.lines.length, framework: scheduler.seen.length };
  const killedAt = Date.now();
  leader.kill('SIGKILL');
  await leader.exited;

  // The standby leads once the lease ran out; the agent and the framework notice their master
  // is gone when the link times out, and find the new leader on the bus.
  await standby.waitForLog(/^Elected as the leading master$/, { from: marks.standby });
  const electedMs = Date.now() - killedAt;
  const reregistered = await agent.waitForLog(/^Re-registered with master$/, { from: marks.agent, timeoutMs: LINK_TIMEOUT_MS * 4 });
  t.is(reregistered.master, standbyPid);
  t.is(reregistered.agent_id, agentId);
  const back = await scheduler.waitFor((s) => s.kind === 'reregistered', 're-registration with the new leader', marks.framework, LINK_TIMEOUT_MS * 4);
  t.is((back as { master?: string }).master, standbyPid);
  t.log(`standby elected ${electedMs} ms, agent and framework back ${Date.now() - killedAt} ms after the SIGKILL (lease ${LEASE}, link timeout ${LINK_TIMEOUT_MS} ms)`);

  // The new leader rebuilt the framework's running task from them.
  const state = (await (await waitForHttp(`${standbyUrl}/master/state`)).json()) as {
    leader: string;
    slaves: { id: string }[];
    frameworks: { id: string; tasks: { id: string; state: string; slave_id: string }[] }[];
  };
  t.is(state.leader, standbyPid);
  t.deepEqual(state.slaves.map((s) => s.id), [agentId]);
  const framework = state.frameworks.find((f) => f.id === frameworkId);
  t.deepEqual(framework?.tasks.map((task) => [task.id, task.state, task.slave_id]), [['sleeper', 'TASK_RUNNING', agentId]]);

  // And it can kill it.
  const beforeKill = scheduler.seen.length;
  driver.killTask({ value: 'sleeper' });
  const killed = (await scheduler.waitFor(isStatus('TASK_KILLED'), 'TASK_KILLED of sleeper', beforeKill)) as { status: TaskStatus };
  t.is(killed.status.agent_id?.value, agentId);
  await driver.stop();
});

test('multihost - a mesos-ts master whose lease another master took logs "Lost leadership; exiting" and exits 1', async (t) => {
  const { nats, procs } = await world(t, 'lost');
  const master = procs.cli('master', ['master', `--nats=${nats.url}`, '--port=0', `--leader_lease=${LEASE}`]);
  await master.waitForLog(/^Elected as the leading master$/);

  // What a leader cut off the bus for a lease finds when it is back: another master holds the key.
  const transport = new NatsTransport({ servers: nats.url, logger });
  const runtime = await Runtime.start({ transport, logger, node: `usurper-${process.pid}` });
  t.teardown(() => runtime.shutdown());
  const kv = await new Kvm(transport.connection!).open(leaderBucket('mesos'));
  await kv.put(LEADER_KEY, JSON.stringify({ pid: 'master@usurper', id: 'usurper', hostname: 'usurper' }));

  const line = await master.waitForLog(/^Lost leadership; exiting$/);
  t.regex(line.reason as string, /another master holds the leader key/);
  t.is(line.level, 50, 'an error');
  t.deepEqual(await master.exited, { code: 1, signal: null });
});

test('multihost - after the leader is SIGKILLed the new leader recovers the registry: its agent is in recovered_slaves until agent_reregister_timeout marks it unreachable, and is admitted when it comes back', async (t) => {
  t.timeout(120_000);
  const { nats, procs, work } = await world(t, 'recovery');

  const flags = [`--nats=${nats.url}`, '--port=0', `--leader_lease=${LEASE}`, '--agent_reregister_timeout=3secs'];
  const masters = ['master-a', 'master-b'].map((name) => procs.cli(name, ['master', ...flags]));
  const listening = await Promise.all(masters.map((m) => m.waitForLog(/^Master \S+ listening on /)));
  const elected = await Promise.any(masters.map((m, i) => m.waitForLog(/^Elected as the leading master$/).then(() => i)));
  const leader = masters[elected]!;
  const standby = masters[1 - elected]!;
  const standbyUrl = listening[1 - elected]!.url as string;
  await standby.waitForLog(/^Following the leading master$/);

  const agent = procs.cli('agent', ['agent', `--nats=${nats.url}`, '--port=0', `--work_dir=${work}`, '--resources=cpus:1;mem:256', '--registration_backoff_factor=50ms']);
  const agentId = (await agent.waitForLog(/^Registered with master$/)).agent_id as string;

  // The agent is frozen, so that it cannot re-register before the new leader has been looked at.
  agent.kill('SIGSTOP');
  t.teardown(() => agent.kill('SIGCONT'));
  const marks = { standby: standby.lines.length, agent: agent.lines.length };
  leader.kill('SIGKILL');
  await leader.exited;

  const recovered = await standby.waitForLog(/^Recovered 1 agents from the registry/, { from: marks.standby });
  t.is(recovered.agents, 1);
  await standby.waitForLog(/^Elected as the leading master$/, { from: marks.standby });
  type State = { slaves: { id: string }[]; recovered_slaves: { id: string; hostname: string }[]; unreachable_slaves: number };
  const state = async () => (await (await waitForHttp(`${standbyUrl}/master/state`)).json()) as State;
  const during = await state();
  t.deepEqual(during.recovered_slaves.map((s) => s.id), [agentId]);
  t.deepEqual(during.slaves, []);

  // It does not come back within --agent_reregister_timeout: marked unreachable (in the registry too).
  await standby.waitForLog(/^Marking recovered agent unreachable$/, { from: marks.standby });
  await standby.waitForLog(/^Recovery complete$/, { from: marks.standby });
  const after = await state();
  t.deepEqual(after.recovered_slaves, []);
  t.is(after.unreachable_slaves, 1);
  const kv = await new Kvm((await natsConnection(t, nats.url)).connection!).open(registryBucket('mesos'));
  t.is(JSON.parse((await kv.get(`agents.${agentId}`))!.string()).state, 'unreachable');

  // Thawed, it finds the new leader and is admitted again.
  agent.kill('SIGCONT');
  const reregistered = await agent.waitForLog(/^Re-registered with master$/, { from: marks.agent, timeoutMs: LINK_TIMEOUT_MS * 4 });
  t.is(reregistered.agent_id, agentId);
  const back = await state();
  t.deepEqual(back.slaves.map((s) => s.id), [agentId]);
  t.is(back.unreachable_slaves, 0);
  t.is(JSON.parse((await kv.get(`agents.${agentId}`))!.string()).state, 'admitted');
});

/** A NATS transport attached through a runtime of this test process. */
async function natsConnection(t: { teardown(fn: () => unknown): void }, url: string): Promise<NatsTransport> {
  const transport = new NatsTransport({ servers: url, logger });
  const runtime = await Runtime.start({ transport, logger, node: `observer-${process.pid}` });
  t.teardown(() => runtime.shutdown());
  return transport;
}

/** Whether `child` logged its election (from line `from` on). */
function saidElected(child: Child, from = 0): boolean {
  return child.lines.slice(from).some((l) => l.json?.msg === 'Elected as the leading master');
}

test('multihost - an agent killed with SIGKILL and started again on its work_dir takes back the running task of a checkpointing framework, which can then be killed', async (t) => {
  t.timeout(120_000);
  const { nats, procs, work } = await world(t, 'agent-restart');
  const master = procs.cli('master', ['master', `--nats=${nats.url}`, '--port=0', '--allocation_interval=100ms']);
  const { url } = await master.waitForLog(/^Master \S+ listening on /);
  const agentArgs = ['agent', `--nats=${nats.url}`, '--port=0', `--work_dir=${work}`, '--resources=cpus:2;mem:1024', '--registration_backoff_factor=50ms'];
  const agent = procs.cli('agent', agentArgs);
  const agentId = (await agent.waitForLog(/^Registered with master$/)).agent_id as string;

  const { scheduler, driver } = await sleeperRunning(t, nats.url, 'agent-restart');

  // The agent dies without a word; its next run recovers on the same work directory.
  const mark = scheduler.seen.length;
  agent.kill('SIGKILL');
  await agent.exited;
  const again = procs.cli('agent-again', agentArgs);
  const reregistered = await again.waitForLog(/^Executor re-registered$/);
  t.is(reregistered.executor_id, 'sleeper');
  t.is((await again.waitForLog(/^Re-registered with master$/)).agent_id, agentId);

  // The master has the task running on the same agent, and the framework heard nothing of it meanwhile.
  const state = (await (await waitForHttp(`${url as string}/master/state`)).json()) as { frameworks: { tasks: { id: string; state: string; slave_id: string }[] }[] };
  t.deepEqual(state.frameworks[0]?.tasks.map((task) => [task.id, task.state, task.slave_id]), [['sleeper', 'TASK_RUNNING', agentId]]);
  t.deepEqual(scheduler.seen.slice(mark).filter((s) => s.kind === 'status'), []);

  // Its executor is reachable again: a kill goes through it.
  driver.killTask({ value: 'sleeper' });
  const killed = (await scheduler.waitFor(isStatus('TASK_KILLED'), 'TASK_KILLED of sleeper', mark)) as { status: TaskStatus };
  t.is(killed.status.source, 'SOURCE_EXECUTOR');
  await driver.stop();
});

test('multihost - mesos-ts agent on SIGUSR1 leaves the cluster: it unregisters (the master removes it at once), shuts its executors down and exits 0', async (t) => {
  t.timeout(120_000);
  const { nats, procs, work } = await world(t, 'agent-usr1');
  const master = procs.cli('master', ['master', `--nats=${nats.url}`, '--port=0', '--allocation_interval=100ms']);
  await master.waitForLog(/^Master \S+ listening on /);
  const agent = procs.cli('agent', ['agent', `--nats=${nats.url}`, '--port=0', `--work_dir=${work}`, '--resources=cpus:2;mem:1024', '--registration_backoff_factor=50ms']);
  const agentId = (await agent.waitForLog(/^Registered with master$/)).agent_id as string;

  const { scheduler, driver } = await sleeperRunning(t, nats.url, 'agent-usr1');

  const executors = runningExecutors(procs.tag, 'sleeper');
  t.true(executors.length > 0, 'the executor runs (and would outlive a plain stop: its framework checkpoints)');
  const mark = scheduler.seen.length;
  agent.kill('SIGUSR1');
  t.is((await agent.exited).code, 0);
  t.deepEqual(runningExecutors(procs.tag, 'sleeper'), [], 'its executor is gone');
  t.like(await agent.waitForLog(/^Agent shut down for good/), { reason: 'Received SIGUSR1 signal from user' });
  // Removed when it said so, not a ping timeout (75 s) later; its task is lost.
  const removed = await master.waitForLog(/^Removing agent$/);
  t.like(removed, { agentId, reason: 'the agent unregistered' });
  const lost = (await scheduler.waitFor((s) => s.kind === 'status' && s.status.task_id.value === 'sleeper' && s.status.state !== 'TASK_RUNNING', 'the end of sleeper', mark)) as { status: TaskStatus };
  t.is(lost.status.state, 'TASK_LOST');
  await driver.stop();
});

test('multihost - mesos-ts agent (--strict, the default) exits 1 on a checkpoint it cannot read, naming it and the remedy; it does not register', async (t) => {
  t.timeout(60_000);
  const { nats, procs, work } = await world(t, 'agent-strict');
  const master = procs.cli('master', ['master', `--nats=${nats.url}`, '--port=0']);
  await master.waitForLog(/^Master \S+ listening on /);
  // What a previous run checkpointed, damaged.
  const slaves = join(work, 'meta', 'slaves');
  mkdirSync(join(slaves, 'S1'), { recursive: true });
  writeFileSync(join(slaves, 'S1', 'slave.info'), 'not json');
  symlinkSync('S1', join(slaves, 'latest'));
  const agent = procs.cli('agent', ['agent', `--nats=${nats.url}`, '--port=0', `--work_dir=${work}`]);
  t.is((await agent.exited).code, 1);
  const failed = await agent.waitForLog(/^Failed to perform recovery: /);
  t.true(String(failed.msg).includes(`checkpoint '${join(slaves, 'S1', 'slave.info')}' is not valid JSON`), String(failed.msg));
  t.true(String(failed.msg).includes('--strict=false'), 'the remedy is named');
  t.false(agent.lines.some((l) => l.json?.msg === 'Registered with master'), 'it did not register as a new agent');
});

/** The live processes (not zombies) of this run whose environment names executor `executorId`. */
function runningExecutors(tag: string, executorId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = procEnviron(Number(entry));
      if (env.MESOS_TS_MULTIHOST_TAG !== tag || env.MESOS_EXECUTOR_ID !== executorId) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** A checkpointing framework on the bus (a `SchedulerDriver` in this process) whose `sleeper` task is running. */
async function sleeperRunning(t: ExecutionContext, natsUrl: string, name: string): Promise<{ scheduler: LongTaskScheduler; driver: SchedulerDriver }> {
  const transport = new NatsTransport({ servers: natsUrl, logger });
  const runtime = await Runtime.start({ transport, logger, node: `${name}-framework-${process.pid}` });
  t.teardown(() => runtime.shutdown());
  const scheduler = new LongTaskScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name, checkpoint: true }, natsUrl, { runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  await scheduler.waitFor(isStatus('TASK_RUNNING'), 'TASK_RUNNING of sleeper');
  return { scheduler, driver };
}
