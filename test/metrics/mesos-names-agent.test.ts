import test from 'ava';
import { STATUS_UPDATE } from '../../src/mesos/protocol.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import type { Probe } from '../helpers/runtime.ts';
import { acknowledge, commandTask, customTask, executorUpdate, nextUpdate, register, runTask, scriptedCommandExecutor, startAgent } from '../agent/harness.ts';

/**
 * The agent's metrics under Apache Mesos's names (`slave/...`, `docs/monitoring.md`), after the
 * event that changes each, on the paused Clock; the command executor is a scripted `Probe`.
 */

resetFiltersAfterEach(test);

test.serial('agent metrics - slave/ resources, task states and status updates through a task\'s life', async (t) => {
  const probes: Probe[] = [];
  const h = await startAgent(t, { commandExecutor: scriptedCommandExecutor(probes), resources: 'cpus:2;mem:1024;disk:100', metricsPrefix: 'slave' });
  const snapshot = () => h.agentRuntime.metrics.snapshot();
  await register(h);
  let s = snapshot();
  t.is(s['slave/registered'], 1);
  t.is(s['slave/cpus_total'], 2);
  t.is(s['slave/mem_total'], 1024);
  t.is(s['slave/disk_total'], 100);
  t.is(s['slave/gpus_total'], 0);
  t.is(s['slave/cpus_used'], 0);
  t.is(s['slave/cpus_percent'], 0);

  runTask(h, commandTask('task-1', 'true', 'cpus:0.5;mem:256'));
  await h.settle();
  const probe = probes[0]!;
  s = snapshot();
  t.is(s['slave/tasks_staging'], 1);
  t.is(s['slave/cpus_used'], 0.5);
  t.is(s['slave/cpus_percent'], 0.25);
  t.is(s['slave/mem_used'], 256);
  t.is(s['slave/mem_percent'], 0.25);

  probe.send(h.agent.self, STATUS_UPDATE, executorUpdate(probe, 'task-1', 'TASK_RUNNING', 1));
  acknowledge(h, await nextUpdate(h));
  s = snapshot();
  t.is(s['slave/tasks_staging'], 0);
  t.is(s['slave/tasks_running'], 1);
  t.is(s['slave/valid_status_updates'], 1);
  t.is(s['slave/tasks_finished'], 0);

  probe.send(h.agent.self, STATUS_UPDATE, executorUpdate(probe, 'task-1', 'TASK_FINISHED', 2));
  await nextUpdate(h);
  // Resent by the executor: no second end.
  probe.send(h.agent.self, STATUS_UPDATE, executorUpdate(probe, 'task-1', 'TASK_FINISHED', 2));
  await h.settle();
  s = snapshot();
  t.is(s['slave/tasks_running'], 0);
  t.is(s['slave/tasks_finished'], 1);
  t.is(s['slave/tasks_failed'], 0);
  t.is(s['slave/cpus_used'], 0);
  t.false(`${h.agent.id}/tasks_running` in s, 'one prefix only');
});

test.serial('agent metrics - by default under the agent\'s process id, so that the agents of one runtime stay apart', async (t) => {
  const h = await startAgent(t, { resources: 'cpus:3;mem:64' });
  await register(h);
  const s = h.agentRuntime.metrics.snapshot();
  t.is(s[`${h.agent.id}/cpus_total`], 3);
  t.is(s[`${h.agent.id}/tasks_running`], 0);
  t.false('slave/cpus_total' in s);
});

test.serial('agent metrics - container_launch_errors and tasks_failed when an executor cannot start', async (t) => {
  const h = await startAgent(t, { metricsPrefix: 'slave' });
  await register(h);
  runTask(h, customTask('task-1', { executor_id: { value: 'missing' }, command: { shell: false, value: '/nonexistent/executor' } }));
  const failed = await nextUpdate(h);
  t.is(failed.update.status.state, 'TASK_FAILED');
  const s = h.agentRuntime.metrics.snapshot();
  t.is(s['slave/container_launch_errors'], 1);
  t.is(s['slave/tasks_failed'], 1);
});
