import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Agent } from '../../actors/agent/agent.ts';
import { AllocatorProcess } from '../../actors/allocator/allocator-process.ts';
import { Master } from '../../actors/master/master-process.ts';
import { SchedulerDriver, type Scheduler } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { AgentID, ExecutorID, Offer, TaskInfo, TaskStatus } from '../../src/mesos/v1/common.ts';
import { localWorld } from '../helpers/runtime.ts';
import { echoExecutor } from './harness.ts';

/**
 * The agent with the real master, allocator and scheduler driver, on the running clock: a
 * framework launches a command task and a custom executor's task on the agent's offer, hears
 * their updates, talks to the executor, and learns of its loss.
 */

class Recorder implements Scheduler {
  readonly updates: TaskStatus[] = [];
  readonly messages: string[] = [];
  readonly lost: { executorId: string; agentId: string; status: number }[] = [];
  #launched = false;
  #waiters: (() => void)[] = [];

  constructor(private readonly tasks: (offer: Offer) => TaskInfo[]) {}

  resourceOffers(driver: SchedulerDriver, offers: Offer[]): void {
    for (const offer of offers) {
      if (this.#launched) driver.declineOffer(offer.id);
      else driver.launchTasks(offer.id, this.tasks(offer));
      this.#launched = true;
    }
  }

  statusUpdate(_driver: SchedulerDriver, status: TaskStatus): void {
    this.updates.push(status);
    this.#wake();
  }

  frameworkMessage(_driver: SchedulerDriver, _executorId: ExecutorID, _agentId: AgentID, data: Buffer): void {
    this.messages.push(data.toString());
    this.#wake();
  }

  executorLost(_driver: SchedulerDriver, executorId: ExecutorID, agentId: AgentID, status: number): void {
    this.lost.push({ executorId: executorId.value, agentId: agentId.value, status });
    this.#wake();
  }

  /** Resolves once `condition` holds. */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

test('Cluster - with the real master: a command task and a custom executor task run, messages flow, an executor crash is executorLost', async (t) => {
  // Clock timers do not hold the event loop open (as libprocess timers do not): something must,
  // while the test waits for the registration backoff and the allocation interval to pass.
  const keepAlive = setInterval(() => undefined, 1_000);
  t.teardown(() => clearInterval(keepAlive));
  const world = await localWorld(['cl-master', 'cl-agent', 'cl-framework']);
  const [masterRuntime, agentRuntime, frameworkRuntime] = world.runtimes;
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-agent-cluster-'));
  t.teardown(async () => {
    await world.shutdown();
    rmSync(workDir, { recursive: true, force: true });
  });
  const master = new Master();
  masterRuntime!.spawn(new AllocatorProcess({ master: `master@${masterRuntime!.node}`, allocationIntervalMs: 100 }));
  masterRuntime!.spawn(master);
  const agent = Agent.start(agentRuntime!, { master: String(master.self), workDir, hostname: 'cluster-agent', registrationBackoffFactorMs: 10 });

  const task = (offer: Offer, id: string, resources: string, rest: Partial<TaskInfo>): TaskInfo => ({
    name: id,
    task_id: { value: id },
    agent_id: offer.agent_id,
    resources: Resources.parse(resources).toJSON(),
    ...rest,
  });
  const scheduler = new Recorder((offer) => [
    task(offer, 'command', 'cpus:0.5;mem:64', { command: { value: 'echo hello' } }),
    task(offer, 'custom', 'cpus:1;mem:128', { executor: { ...echoExecutor(), resources: Resources.parse('cpus:0.1;mem:32').toJSON() } }),
  ]);
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'agent-cluster' }, master.self, { runtime: frameworkRuntime! });
  t.teardown(() => driver.abort());
  await driver.start();

  const states = (id: string): string[] => scheduler.updates.filter((s) => s.task_id.value === id).map((s) => s.state);
  await scheduler.until(() => states('command').includes('TASK_FINISHED') && states('custom').includes('TASK_RUNNING'));
  t.deepEqual(states('command'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  t.deepEqual(states('custom'), ['TASK_RUNNING']);
  const agentId = agent.agentId!;
  t.truthy(agentId);

  driver.sendFrameworkMessage({ value: 'echo' }, { value: agentId }, 'ping');
  await scheduler.until(() => scheduler.messages.length > 0);
  t.deepEqual(scheduler.messages, ['echo:ping']);

  const executor = agent.frameworks.get(driver.frameworkId!.value)!.executors.get('echo')!;
  process.kill(executor.osPid!, 'SIGKILL');
  await scheduler.until(() => states('custom').includes('TASK_FAILED') && scheduler.lost.length > 0);
  const failed = scheduler.updates.find((s) => s.task_id.value === 'custom' && s.state === 'TASK_FAILED')!;
  t.is(failed.reason, 'REASON_EXECUTOR_TERMINATED');
  t.deepEqual(scheduler.lost, [{ executorId: 'echo', agentId, status: 137 }]);

  // Every terminal update was acknowledged (implicitly, by the driver): the agent holds nothing.
  await agentRuntime!.settle();
  t.true(agent.usedResources().isEmpty());
  t.is(agent.frameworks.size, 0);
});
