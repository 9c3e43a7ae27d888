import test from 'ava';
import { MESOS_VERSION } from '../../actors/agent/constants.ts';
import { REGISTER_EXECUTOR } from '../../src/mesos/protocol.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { acknowledge, AGENT_ID, commandTask, customTask, echoExecutor, FRAMEWORK_ID, nextUpdate, register, runTask, startAgent } from './harness.ts';

resetFiltersAfterEach(test);

test.serial("State - /slave(1)/state has the shape of Mesos's agent state", async (t) => {
  const h = await startAgent(t, {}, { http: true });
  await register(h);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('task-1', echoExecutor()));
  await registering;
  acknowledge(h, await nextUpdate(h));
  // A second executor whose task stays queued: it never registers.
  runTask(h, customTask('task-2', { executor_id: { value: 'silent' }, command: { value: 'sleep 60' } }));
  await h.settle();

  t.is(h.agent.id, 'slave(1)');
  const reply = await http(h.agentRuntime.httpAddress!.port, 'GET', '/slave(1)/state');
  t.is(reply.status, 200);
  t.regex(String(reply.headers['content-type']), /application\/json/);
  const state = reply.json();
  t.is(state.version, MESOS_VERSION);
  t.is(state.id, AGENT_ID);
  t.is(state.pid, String(h.agent.self));
  t.is(state.hostname, 'agent-host');
  t.deepEqual(state.resources, { cpus: 4, gpus: 0, mem: 8192, disk: 10240, ports: '[31000-32000]' });
  t.deepEqual(state.unreserved_resources_allocated, { cpus: 2.1, gpus: 0, mem: 288, disk: 0 });
  t.deepEqual(state.attributes, { rack: 'r1', zone: 'a' });
  t.is(state.flags.work_dir, h.workDir);
  t.is(state.flags.executor_registration_timeout, '1mins');
  t.deepEqual(state.completed_frameworks, []);

  t.is(state.frameworks.length, 1);
  const framework = state.frameworks[0];
  t.like(framework, { id: FRAMEWORK_ID, name: 'agent tests', user: 'test', checkpoint: false, role: '*' });
  const byId = Object.fromEntries(framework.executors.map((e: { id: string }) => [e.id, e]));
  t.like(byId.echo, { id: 'echo', type: 'CUSTOM', state: 'RUNNING', resources: { cpus: 1.1, mem: 160, gpus: 0, disk: 0 } });
  t.regex(byId.echo.directory, new RegExp(`/slaves/${AGENT_ID}/frameworks/${FRAMEWORK_ID}/executors/echo/runs/${byId.echo.container}$`));
  t.deepEqual(byId.echo.tasks.map((task: { id: string; state: string; executor_id: string; slave_id: string }) => [task.id, task.state, task.executor_id, task.slave_id]), [
    ['task-1', 'TASK_RUNNING', 'echo', AGENT_ID],
  ]);
  t.is(byId.echo.tasks[0].statuses[0].state, 'TASK_RUNNING');
  t.like(byId.silent, { state: 'REGISTERING', tasks: [] });
  t.is(byId.silent.queued_tasks[0].id, 'task-2');

  const legacy = await http(h.agentRuntime.httpAddress!.port, 'GET', '/slave(1)/state.json');
  t.is(legacy.json().id, AGENT_ID);
  // Mesos's `/flags`: the same flags as the state's.
  t.deepEqual((await http(h.agentRuntime.httpAddress!.port, 'GET', '/slave(1)/flags')).json(), { flags: state.flags });
});

test.serial('State - a command task shows under a COMMAND executor named after its task', async (t) => {
  const h = await startAgent(t);
  await register(h);
  runTask(h, commandTask('task-c', 'sleep 60'));
  acknowledge(h, await nextUpdate(h));
  await h.settle();
  const reply = await h.agentRuntime.dispatch(h.agent.self, () => h.agent._routes.get('/state')!({} as never));
  const executor = (reply.body as { frameworks: { executors: Record<string, unknown>[] }[] }).frameworks[0]!.executors[0]!;
  t.like(executor, { id: 'task-c', type: 'COMMAND', source: 'task-c', name: "Command Executor (Task: task-c) (Command: sh -c 'sleep 60')" });
});
