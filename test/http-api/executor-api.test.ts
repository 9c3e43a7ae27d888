import test from 'ava';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { EXITED_EXECUTOR, type ExitedExecutor } from '../../src/mesos/protocol.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { fileAppears } from '../helpers/wait-file.ts';
import {
  accept,
  acknowledge,
  decline,
  executorCall,
  PYTHON_EXECUTOR,
  readEnvFile,
  sandboxFile,
  scalar,
  schedulerCall,
  startCluster,
  subscribeExecutor,
  subscribeFramework,
} from './support.ts';

/**
 * The v1 executor HTTP API, end to end on the embedded cluster (`npm start`): a framework speaks
 * the scheduler API and executors the executor API, both in raw HTTP (node's `http` here, Python's
 * `http.client` in the fixture), against the one HTTP server the master and the agents share.
 */
resetFiltersAfterEach(test);

test.serial('executor API - a Python executor runs a task: SUBSCRIBE, LAUNCH, UPDATEs acknowledged, MESSAGE both ways, SHUTDOWN on teardown', async (t) => {
  const cluster = await startCluster(t, { agents: 2 });
  const { port } = cluster;
  const { stream, frameworkId } = await subscribeFramework(port);
  const offers = (await stream.next('OFFERS')).offers.offers;
  const [offer, ...others] = offers;
  for (const other of others) await schedulerCall(port, stream, decline(frameworkId, other));
  const agent = cluster.agents.find((a) => a.agentId === offer.agent_id.value)!;

  const executor = {
    executor_id: { value: 'py' },
    name: 'Python executor',
    command: { value: `python3 ${PYTHON_EXECUTOR}` },
    resources: [scalar('cpus', 0.1), scalar('mem', 32)],
  };
  t.is((await schedulerCall(port, stream, accept(frameworkId, offer, [{ id: 't1', executor }]))).status, 202);

  const running = (await stream.next('UPDATE', 20_000)).update.status;
  t.is(running.state, 'TASK_RUNNING');
  t.is(running.source, 'SOURCE_EXECUTOR');
  t.regex(running.message, /^running in Python 3\.\d+$/);
  t.is(running.executor_id.value, 'py');
  t.is(running.agent_id.value, agent.agentId);
  t.is(Buffer.from(running.uuid, 'base64').length, 16);
  t.is((await schedulerCall(port, stream, acknowledge(frameworkId, running))).status, 202);
  const finished = (await stream.next('UPDATE')).update.status;
  t.is(finished.state, 'TASK_FINISHED', 'the next update comes once the first is acknowledged');
  t.is((await schedulerCall(port, stream, acknowledge(frameworkId, finished))).status, 202);

  const message = {
    framework_id: { value: frameworkId },
    type: 'MESSAGE',
    message: { agent_id: offer.agent_id, executor_id: { value: 'py' }, data: Buffer.from('hello python').toString('base64') },
  };
  t.is((await schedulerCall(port, stream, message)).status, 202);
  const answer = (await stream.next('MESSAGE')).message;
  t.is(Buffer.from(answer.data, 'base64').toString(), 'echo:hello python');
  t.is(answer.executor_id.value, 'py');
  t.is(answer.agent_id.value, agent.agentId);

  const record = agent.frameworks.get(frameworkId)!.executors.get('py')!;
  const directory = record.directory;
  const exited = futureMessage(EXITED_EXECUTOR, agent.self, cluster.master.self);
  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' })).status, 202);
  await stream.ended;
  const exit = (await exited).body as ExitedExecutor;
  t.is(exit.status, 0, 'the executor exited by itself on SHUTDOWN');
  t.is(exit.executor_id.value, 'py');

  const lines = readFileSync(sandboxFile(directory, 'stdout'), 'utf8').trim().split('\n');
  t.deepEqual(
    lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['event SUBSCRIBED', 'event LAUNCH', 'event ACKNOWLEDGED', 'event ACKNOWLEDGED', 'event MESSAGE', 'event SHUTDOWN'],
  );
  t.is(lines[0], `event SUBSCRIBED ${agent.agentId} ${record.containerId}`);
  t.is(lines[1], 'event LAUNCH t1');
  t.is(lines[2], `event ACKNOWLEDGED t1 ${running.uuid}`);
  t.is(lines[3], `event ACKNOWLEDGED t1 ${finished.uuid}`);
  t.is(lines[4], 'event MESSAGE hello python');
});

test.serial('executor API - a command task for an HTTP framework: the built-in command executor, and the Mesos executor environment', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  const { stream, frameworkId } = await subscribeFramework(port);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  t.is((await schedulerCall(port, stream, accept(frameworkId, offer, [{ id: 'c1', command: 'env > env.txt && echo hi' }]))).status, 202);

  const states: string[] = [];
  for (;;) {
    const status = (await stream.next('UPDATE', 20_000)).update.status;
    states.push(status.state);
    t.is((await schedulerCall(port, stream, acknowledge(frameworkId, status))).status, 202);
    if (status.state === 'TASK_FINISHED' || status.state === 'TASK_FAILED') break;
  }
  t.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);

  const agent = cluster.agents[0]!;
  const executor = agent.frameworks.get(frameworkId)?.completedExecutors[0] ?? agent.completedFrameworks.at(-1)!.completedExecutors[0]!;
  t.is(readFileSync(sandboxFile(executor.directory, 'stdout'), 'utf8'), 'hi\n');
  const env = readEnvFile(sandboxFile(executor.directory, 'env.txt'));
  t.is(env.MESOS_AGENT_ENDPOINT, `127.0.0.1:${port}`, 'ip:port, no scheme');
  t.like(env, {
    MESOS_FRAMEWORK_ID: frameworkId,
    MESOS_EXECUTOR_ID: 'c1',
    MESOS_SANDBOX: executor.directory,
    MESOS_DIRECTORY: executor.directory,
    MESOS_CHECKPOINT: '0',
    MESOS_SUBSCRIPTION_BACKOFF_MAX: '15secs',
    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
    MESOS_SLAVE_PID: String(agent.self),
    MESOS_AGENT_ID: agent.agentId,
  });
  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' })).status, 202);
  await stream.ended;
});

test.serial('executor API - an executor in raw HTTP: bad requests, 403 before SUBSCRIBE, ACKNOWLEDGED after UPDATE, KILL, and keep-alive', async (t) => {
  const cluster = await startCluster(t, { agents: 2 });
  const { port } = cluster;
  const settings = cluster.runtime.httpServer!.settings;
  t.deepEqual(settings, { keepAliveTimeout: 0, timeout: 0, requestTimeout: 0 }, 'idle keep-alive connections are never timed out');

  const { stream, frameworkId } = await subscribeFramework(port);
  const [offer, ...others] = (await stream.next('OFFERS')).offers.offers;
  for (const other of others) await schedulerCall(port, stream, decline(frameworkId, other));
  // The executor's process writes its environment and waits: this test speaks for it.
  const executor = { executor_id: { value: 'raw' }, command: { value: 'env > env.tmp && mv env.tmp env.txt && exec sleep 600' }, shutdown_grace_period: { nanoseconds: 100_000_000 } };
  t.is((await schedulerCall(port, stream, accept(frameworkId, offer, [{ id: 'r1', executor }, { id: 'r2', executor }]))).status, 202);
  const agent = cluster.agents.find((a) => a.agentId === offer.agent_id.value)!;
  const other = cluster.agents.find((a) => a !== agent)!;
  const calls = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => calls.destroy());
  const call = (body: object | string, headers?: Record<string, string>) => executorCall(port, body, { agent: calls, ...(headers !== undefined ? { headers } : {}) });
  const ids = { framework_id: { value: frameworkId }, executor_id: { value: 'raw' } };
  const uuid = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64');
  const update = (taskId: string, state: string, extra: object = {}) => ({ ...ids, type: 'UPDATE', update: { status: { task_id: { value: taskId }, state, source: 'SOURCE_EXECUTOR', uuid: uuid(), ...extra } } });

  // Before it subscribed: known executor, but no calls yet.
  const early = await call(update('r1', 'TASK_RUNNING'));
  t.is(early.status, 403);
  t.is(early.body, 'Executor is not subscribed');

  const notJson = await call('{"type": ');
  t.is(notJson.status, 400);
  t.regex(notJson.body, /^Failed to parse body into JSON/);
  const missing = await call({ type: 'UPDATE', executor_id: { value: 'raw' } });
  t.is(missing.status, 400);
  t.regex(missing.body, /^Failed to validate Executor::Call: .*'framework_id'/);
  const badUuid = await call(update('r1', 'TASK_RUNNING', { uuid: 'abc' }));
  t.is(badUuid.status, 400);
  t.regex(badUuid.body, /'update\.status\.uuid'/);
  const badSource = await call(update('r1', 'TASK_RUNNING', { source: 'SOURCE_MASTER' }));
  t.is(badSource.status, 400);
  t.regex(badSource.body, /'update\.status\.source'.*SOURCE_MASTER/);
  const staging = await call(update('r1', 'TASK_STAGING'));
  t.is(staging.status, 400);
  t.regex(staging.body, /'update\.status\.state'/);
  const text = await call({ ...ids, type: 'HEARTBEAT' }, { 'Content-Type': 'text/plain' });
  t.is(text.status, 415);
  const get = await http(port, 'GET', '/api/v1/executor');
  t.is(get.status, 405);
  t.is(get.headers.allow, 'POST');
  const unknownFramework = await call({ ...ids, framework_id: { value: 'nope' }, type: 'HEARTBEAT' });
  t.deepEqual([unknownFramework.status, unknownFramework.body], [400, 'Framework cannot be found']);
  const unknownExecutor = await call({ ...ids, executor_id: { value: 'nope' }, type: 'HEARTBEAT' });
  t.deepEqual([unknownExecutor.status, unknownExecutor.body], [400, 'Executor cannot be found']);
  const routed = await call({ ...ids, type: 'HEARTBEAT' });
  t.is(routed.status, 403, 'routed to the agent that runs it, where it is not subscribed yet');
  const exact = await executorCall(port, { ...ids, type: 'HEARTBEAT' }, { path: `/${other.id}/api/v1/executor` });
  t.deepEqual([exact.status, exact.body], [400, 'Framework cannot be found'], '/slave(N)/api/v1/executor asks that agent only');

  // The sandbox holds the environment the agent gave the executor.
  const record = agent.frameworks.get(frameworkId)!.executors.get('raw')!;
  const subscription = await subscribeExecutor(port, frameworkId, 'raw');
  t.is(subscription.status, 200);
  t.is(subscription.res.headers['content-type'], 'application/json');
  t.is(subscription.res.headers['transfer-encoding'], 'chunked');
  const subscribed = await subscription.next('SUBSCRIBED');
  t.is(subscribed.subscribed.executor_info.executor_id.value, 'raw');
  t.is(subscribed.subscribed.framework_info.id.value, frameworkId);
  t.is(subscribed.subscribed.agent_info.id.value, agent.agentId);
  t.is(subscribed.subscribed.container_id.value, record.containerId);
  const launched = [(await subscription.next('LAUNCH')).launch.task.task_id.value, (await subscription.next('LAUNCH')).launch.task.task_id.value];
  t.deepEqual(launched.sort(), ['r1', 'r2'], 'the tasks queued for the executor');
  // The executor's command writes it whole (a rename) once it runs.
  await fileAppears(sandboxFile(record.directory, 'env.txt'));
  const env = readEnvFile(sandboxFile(record.directory, 'env.txt'));
  t.is(env.MESOS_AGENT_ENDPOINT, `127.0.0.1:${port}`);
  t.is(env.MESOS_EXECUTOR_ID, 'raw');

  const running = update('r1', 'TASK_RUNNING');
  const first = await call(running);
  t.deepEqual([first.status, first.body], [202, '']);
  const acked = (await subscription.next('ACKNOWLEDGED')).acknowledged;
  t.deepEqual(acked, { task_id: { value: 'r1' }, uuid: running.update.status.uuid }, 'the agent has the update');
  const seen = (await stream.next('UPDATE')).update.status;
  t.like(seen, { state: 'TASK_RUNNING', uuid: running.update.status.uuid, source: 'SOURCE_EXECUTOR' });
  t.is((await schedulerCall(port, stream, acknowledge(frameworkId, seen))).status, 202);

  t.is((await call({ ...ids, type: 'MESSAGE', message: { data: Buffer.from('from raw').toString('base64') } })).status, 202);
  t.is(Buffer.from((await stream.next('MESSAGE')).message.data, 'base64').toString(), 'from raw');
  t.is((await call({ ...ids, type: 'HEARTBEAT' })).status, 202);

  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'KILL', kill: { task_id: { value: 'r2' }, agent_id: offer.agent_id } })).status, 202);
  t.deepEqual((await subscription.next('KILL')).kill.task_id, { value: 'r2' });
  const killed = update('r2', 'TASK_KILLED');
  t.is((await call(killed)).status, 202);
  t.is((await stream.next('UPDATE')).update.status.state, 'TASK_KILLED');
  const replies = new Set([early, first].map((r) => r.socketPort));
  t.is(replies.size, 1, 'every call went on one kept-alive connection');

  const exited = futureMessage(EXITED_EXECUTOR, agent.self, cluster.master.self);
  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' })).status, 202);
  t.is((await subscription.next('SHUTDOWN')).type, 'SHUTDOWN');
  // The executor does not exit by itself (it is `sleep`): the agent kills it after the grace period.
  t.true([128 + 15, 128 + 9].includes(((await exited).body as ExitedExecutor).status), 'SIGTERM, or SIGKILL after the 100 ms grace period');
  await subscription.ended;
});

test.serial('executor API - two agents of one runtime run an executor of the same id: /api/v1/executor tells them apart by state and task', async (t) => {
  const cluster = await startCluster(t, { agents: 2 });
  const { port } = cluster;
  const { stream, frameworkId } = await subscribeFramework(port);
  const offers = new Map<string, any>();
  while (offers.size < 2) for (const offer of (await stream.next('OFFERS')).offers.offers) offers.set(offer.agent_id.value, offer);
  const executor = { executor_id: { value: 'dup' }, command: { value: 'exec sleep 600' } };
  const [agentA, offerA] = [...offers.entries()][0]!;
  const [agentB, offerB] = [...offers.entries()][1]!;
  t.is((await schedulerCall(port, stream, accept(frameworkId, offerA, [{ id: 'on-a', executor }]))).status, 202);
  t.is((await schedulerCall(port, stream, accept(frameworkId, offerB, [{ id: 'on-b', executor }]))).status, 202);
  await cluster.runtime.settle();

  // Both wait for their subscription: the first SUBSCRIBE goes to one, the second to the other.
  const first = await subscribeExecutor(port, frameworkId, 'dup');
  const second = await subscribeExecutor(port, frameworkId, 'dup');
  const agentsSubscribed = [(await first.next('SUBSCRIBED')).subscribed.agent_info.id.value, (await second.next('SUBSCRIBED')).subscribed.agent_info.id.value];
  t.deepEqual(agentsSubscribed.sort(), [agentA, agentB].sort());
  const launchedOn = new Map([
    [(await first.next('LAUNCH')).launch.task.task_id.value, first],
    [(await second.next('LAUNCH')).launch.task.task_id.value, second],
  ]);
  t.deepEqual([...launchedOn.keys()].sort(), ['on-a', 'on-b']);

  // An UPDATE goes to the agent that runs its task; its ACKNOWLEDGED comes on that agent's stream.
  for (const taskId of ['on-b', 'on-a']) {
    const uuid = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64');
    const reply = await executorCall(port, { type: 'UPDATE', framework_id: { value: frameworkId }, executor_id: { value: 'dup' }, update: { status: { task_id: { value: taskId }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid } } });
    t.is(reply.status, 202);
    t.deepEqual((await launchedOn.get(taskId)!.next('ACKNOWLEDGED')).acknowledged, { task_id: { value: taskId }, uuid });
    const seen = (await stream.next('UPDATE')).update.status;
    t.is(seen.task_id.value, taskId);
    t.is(seen.agent_id.value, taskId === 'on-a' ? agentA : agentB);
  }
  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' })).status, 202);
  await Promise.all([first.next('SHUTDOWN'), second.next('SHUTDOWN')]);
});
