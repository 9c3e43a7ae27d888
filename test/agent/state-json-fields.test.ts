import test from 'ava';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { AGENT_ID, FRAMEWORK, register, runTask, startAgent } from './harness.ts';

/**
 * The agent's `/state` field by field against Mesos's (`slave/http.cpp`): the `*_full`
 * resources, a framework's principal and role, an executor's and a queued task's role and
 * command.
 */
resetFiltersAfterEach(test);

const WEB: FrameworkInfo = { ...FRAMEWORK, role: 'web', principal: 'ops' };

test.serial("state json - the agent's /state: *_full resources, principal, role, and a queued task's role and labels", async (t) => {
  const h = await startAgent(t, { resources: 'cpus:4;mem:8192;cpus(web):1' }, { http: true });
  await register(h);
  // An executor that never registers: its task stays queued.
  runTask(
    h,
    {
      name: 'q1',
      task_id: { value: 'q1' },
      agent_id: { value: AGENT_ID },
      resources: Resources.parse('cpus:1;mem:128').toJSON(),
      labels: { labels: [{ key: 'tier', value: 'back' }] },
      executor: { executor_id: { value: 'silent' }, command: { value: 'sleep 60' }, resources: Resources.parse('cpus:0.1;mem:32').toJSON() },
    },
    WEB,
  );
  await h.settle();
  const state = (await http(h.agentRuntime.httpAddress!.port, 'GET', '/slave(1)/state')).json();
  t.deepEqual(state.reserved_resources_full, { web: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'STATIC', role: 'web' }] }] });
  t.true(Resources.fromJSON(state.unreserved_resources_full).equals(Resources.parse('cpus:4;mem:8192')));
  const framework = state.frameworks[0];
  t.like(framework, { principal: 'ops', role: 'web' });
  t.false('roles' in framework);
  const executor = framework.executors[0];
  t.is(executor.role, 'web');
  t.like(executor.queued_tasks[0], { id: 'q1', role: 'web', labels: [{ key: 'tier', value: 'back' }] });
});

test.serial('state json - a MULTI_ROLE framework at the agent shows `roles`, not `role`', async (t) => {
  const h = await startAgent(t);
  await register(h);
  const multi: FrameworkInfo = { ...FRAMEWORK, roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] };
  runTask(h, { name: 'q2', task_id: { value: 'q2' }, agent_id: { value: AGENT_ID }, resources: Resources.parse('cpus:1;mem:64').toJSON(), command: { value: 'sleep 60', shell: true } }, multi);
  await h.settle();
  const reply = await h.agentRuntime.dispatch(h.agent.self, () => h.agent._routes.get('/state')!({} as never));
  const framework = (reply as { body: { frameworks: Record<string, unknown>[] } }).body.frameworks[0]!;
  t.deepEqual(framework.roles, ['a', 'b']);
  t.false('role' in framework);
});
