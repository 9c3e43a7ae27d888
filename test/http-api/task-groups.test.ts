import test from 'ava';
import { http } from '../helpers/http.ts';
import { acknowledge, scalar, schedulerCall, startCluster, subscribeFramework } from './support.ts';

/**
 * Task groups end to end on the embedded cluster (`npm start`): an HTTP framework accepts an
 * offer with LAUNCH_GROUP, a real agent runs the group in its default executor, each task a
 * real process; the master's and the agent's endpoints show the tasks as any others.
 */

async function operator(port: number, path: string, type: string): Promise<any> {
  const reply = await http(port, 'POST', path, { type });
  if (reply.status !== 200) throw new Error(`${type} at ${path} answered ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body);
}

test.serial('task groups - LAUNCH_GROUP over /api/v1/scheduler: both tasks RUNNING in the default executor, in /master/state, GET_TASKS and the agent\'s /state; a KILL of one kills both; the executor is lost once they are done', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  const { stream, frameworkId } = await subscribeFramework(port);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  const agent = cluster.agents[0]!;
  const waitForRelease = 'while [ ! -e release ]; do sleep 0.02; done';
  const task = (id: string) => ({ name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: [scalar('cpus', 0.5), scalar('mem', 64)], command: { value: waitForRelease } });
  const executor = { type: 'DEFAULT', executor_id: { value: 'default' }, framework_id: { value: frameworkId }, resources: [scalar('cpus', 0.1), scalar('mem', 32), scalar('disk', 32)] };
  const accepted = await schedulerCall(port, stream, {
    framework_id: { value: frameworkId },
    type: 'ACCEPT',
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH_GROUP', launch_group: { executor, task_group: { tasks: [task('g1'), task('g2')] } } }] },
  });
  t.is(accepted.status, 202);

  const running = new Set<string>();
  while (running.size < 2) {
    const status = (await stream.next('UPDATE', 20_000)).update.status;
    t.is(status.executor_id.value, 'default');
    await schedulerCall(port, stream, acknowledge(frameworkId, status));
    if (status.state === 'TASK_RUNNING') running.add(status.task_id.value);
  }

  const state = JSON.parse((await http(port, 'GET', '/master/state')).body);
  const framework = state.frameworks.find((f: any) => f.id === frameworkId);
  t.deepEqual(framework.tasks.map((x: any) => [x.id, x.state, x.executor_id]).sort(), [
    ['g1', 'TASK_RUNNING', 'default'],
    ['g2', 'TASK_RUNNING', 'default'],
  ]);
  const masterTasks = (await operator(port, '/api/v1', 'GET_TASKS')).get_tasks.tasks;
  t.deepEqual(masterTasks.map((x: any) => x.task_id.value).sort(), ['g1', 'g2']);
  const agentPath = `/${agent.id}`;
  const agentState = JSON.parse((await http(port, 'GET', `${agentPath}/state`)).body);
  const agentExecutor = agentState.frameworks[0].executors[0];
  t.is(agentExecutor.id, 'default');
  t.is(agentExecutor.type, 'DEFAULT');
  t.deepEqual(agentExecutor.tasks.map((x: any) => x.id).sort(), ['g1', 'g2']);
  const agentTasks = (await operator(port, `${agentPath}/api/v1`, 'GET_TASKS')).get_tasks.launched_tasks;
  t.deepEqual(agentTasks.map((x: any) => x.task_id.value).sort(), ['g1', 'g2']);

  const killed = await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'KILL', kill: { task_id: { value: 'g1' }, agent_id: offer.agent_id } });
  t.is(killed.status, 202);
  const ended = new Map<string, string>();
  while (ended.size < 2) {
    const status = (await stream.next('UPDATE', 20_000)).update.status;
    await schedulerCall(port, stream, acknowledge(frameworkId, status));
    if (status.state === 'TASK_KILLED') ended.set(status.task_id.value, status.state);
  }
  t.deepEqual([...ended.keys()].sort(), ['g1', 'g2']);
  // With nothing left to run, the executor stops; the framework hears it (executorLost).
  const failure = (await stream.next('FAILURE', 20_000)).failure;
  t.is(failure.executor_id.value, 'default');
  t.is(failure.status, 0);
  // The tasks' and the executor's resources are back.
  t.true(cluster.master.agents.get(offer.agent_id.value)!.usedResources().isEmpty());
  stream.close();
});
