import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { startAgentNode } from '../../actors/cluster/agent-node.ts';
import { SUM_ACKNOWLEDGED } from '../../actors/status-update-manager/protocol.ts';
import { addFilter, removeFilter, type Filter } from '../../src/process/filter.ts';
import type { UPID } from '../../src/process/upid.ts';
import { futureMessage, futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http, type Reply } from '../helpers/http.ts';
import { accept, acknowledge, schedulerCall, startCluster, subscribeFramework, type Cluster } from './support.ts';

/**
 * The agent's v1 operator API (`mesos.v1.agent.Call`) over real HTTP: at `/slave(N)/api/v1`,
 * at `/agent/api/v1` for the runtime's one agent (the top-level `/api/v1` of an agent host; the
 * embedded cluster's is the master's), its GET_* answers about running, finished and queued
 * tasks, and its refusals.
 */
resetFiltersAfterEach(test);

const call = (port: number, path: string, body: object | string, headers?: Record<string, string>): Promise<Reply> =>
  http(port, 'POST', path, body, headers !== undefined ? { headers } : {});

/** The answer to a call of `type`, checked to be `200` in `mesos.v1.agent.Response` form; its `get_x` part. */
async function answer(t: { is(a: unknown, b: unknown, m?: string): void }, port: number, path: string, type: string): Promise<any> {
  const reply = await call(port, path, { type });
  t.is(reply.status, 200, `${type}: ${reply.body}`);
  t.is(reply.headers['content-type'], 'application/json');
  const body = reply.json();
  t.is(body.type, type);
  return body[type.toLowerCase()];
}

/** Resolves once `count` exits of linked processes have been reported to `to`. */
function futureExits(count: number, to: UPID): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const filter: Filter = (event) => {
      if (event.kind === 'exited' && event.to.equals(to) && ++seen === count) {
        removeFilter(filter);
        resolve();
      }
      return false;
    };
    addFilter(filter);
  });
}

/**
 * One framework with four tasks on the cluster's one agent: `running` (`exec sleep 600`,
 * TASK_RUNNING), `done` (finished, its terminal update acknowledged: completed), `unacked`
 * (finished, its terminal update not acknowledged: terminated) and `queued` (for a custom
 * executor that never registers: queued). Returns once the agent has all of it on its books.
 */
async function fourTasks(cluster: Cluster) {
  const { port } = cluster;
  const agent = cluster.agents[0]!;
  const { stream, frameworkId } = await subscribeFramework(port);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  const runTasks = futureMessages(4, 'RunTaskMessage', undefined, agent.self);
  // The command executors of `done` and `unacked` exit once the agent has their terminal updates.
  const exits = futureExits(2, agent.self);
  const silent = { executor_id: { value: 'silent' }, name: 'silent executor', command: { value: 'exec sleep 600' } };
  const launch = accept(frameworkId, offer, [
    { id: 'running', command: 'exec sleep 600' },
    { id: 'done', command: 'true' },
    { id: 'unacked', command: 'true' },
    { id: 'queued', executor: silent, cpus: 0.25, mem: 32 },
  ]);
  accepted(await schedulerCall(port, stream, launch));
  await runTasks;

  const seen = new Map<string, string>();
  while (seen.get('running') !== 'TASK_RUNNING' || seen.get('done') !== 'TASK_FINISHED' || seen.get('unacked') !== 'TASK_FINISHED') {
    const status = (await stream.next('UPDATE', 20_000)).update.status;
    seen.set(status.task_id.value, status.state);
    if (status.task_id.value === 'unacked' && status.state === 'TASK_FINISHED') continue;
    // Once the agent has heard the status update manager's answer, the task is completed there if terminal.
    const acknowledged = futureMessage(SUM_ACKNOWLEDGED, undefined, agent.self);
    accepted(await schedulerCall(port, stream, acknowledge(frameworkId, status)));
    await acknowledged;
  }
  await exits;
  return { stream, frameworkId };
}

/** Throws unless a scheduler call was accepted (`202`), naming what it answered. */
function accepted(reply: Reply): void {
  if (reply.status !== 202) throw new Error(`scheduler call answered ${reply.status}: ${reply.body}`);
}

test.serial('agent operator API - GET_TASKS, GET_EXECUTORS, GET_FRAMEWORKS, GET_STATE with running, completed, terminated and queued tasks', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  const agent = cluster.agents[0]!;
  const path = `/${agent.id}/api/v1`;
  const { frameworkId } = await fourTasks(cluster);

  const tasks = await answer(t, port, path, 'GET_TASKS');
  const ids = (list: any[]) => list.map((task) => task.task_id.value).sort();
  t.deepEqual(tasks.pending_tasks, []);
  t.deepEqual(ids(tasks.queued_tasks), ['queued']);
  t.deepEqual(ids(tasks.launched_tasks), ['running']);
  t.deepEqual(ids(tasks.terminated_tasks), ['unacked']);
  t.deepEqual(ids(tasks.completed_tasks), ['done']);
  // v1 `Task`s: a command task names no executor; a queued task is staging, made from its `TaskInfo`.
  const [running] = tasks.launched_tasks;
  t.like(running, { name: 'running', state: 'TASK_RUNNING', framework_id: { value: frameworkId }, agent_id: { value: agent.agentId } });
  t.is(running.executor_id, undefined);
  t.is(running.statuses.at(-1).state, 'TASK_RUNNING');
  t.true(running.resources.some((r: any) => r.name === 'cpus' && r.scalar.value === 0.5));
  t.like(tasks.queued_tasks[0], { state: 'TASK_STAGING', executor_id: { value: 'silent' }, framework_id: { value: frameworkId }, agent_id: { value: agent.agentId }, statuses: [] });
  t.like(tasks.terminated_tasks[0], { state: 'TASK_FINISHED' });
  t.like(tasks.completed_tasks[0], { state: 'TASK_FINISHED' });

  const executors = await answer(t, port, path, 'GET_EXECUTORS');
  const executorIds = (list: any[]) => list.map((e) => e.executor_info.executor_id.value).sort();
  t.deepEqual(executorIds(executors.executors), ['running', 'silent', 'unacked'], 'an executor with a task not completed is not completed');
  t.deepEqual(executorIds(executors.completed_executors), ['done']);
  const silent = executors.executors.find((e: any) => e.executor_info.executor_id.value === 'silent');
  t.like(silent.executor_info, { name: 'silent executor', framework_id: { value: frameworkId }, command: { value: 'exec sleep 600' } });

  const frameworks = await answer(t, port, path, 'GET_FRAMEWORKS');
  t.is(frameworks.frameworks.length, 1);
  t.like(frameworks.frameworks[0].framework_info, { id: { value: frameworkId }, name: 'http-framework', user: 'test' });
  t.deepEqual(frameworks.completed_frameworks, []);

  const state = await answer(t, port, path, 'GET_STATE');
  t.deepEqual(state, { get_tasks: tasks, get_executors: executors, get_frameworks: frameworks }, 'the three views, as each answers alone');

  // The runtime's one agent answers at `/agent/api/v1` too.
  t.deepEqual(await answer(t, port, '/agent/api/v1', 'GET_TASKS'), tasks);
});

test.serial('agent operator API - GET_CONTAINERS: the running executors\' containers with the resource monitor\'s statistics', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  const agent = cluster.agents[0]!;
  const { frameworkId } = await fourTasks(cluster);

  const own = (await http(port, 'GET', `/${agent.id}/state`)).json();
  const containerOf = new Map<string, string>(own.frameworks[0].executors.map((e: any) => [e.id, e.container]));
  const { containers } = await answer(t, port, `/${agent.id}/api/v1`, 'GET_CONTAINERS');
  // `done` and `unacked` ran their command executors out; `silent` runs (its process does not register).
  t.deepEqual(containers.map((c: any) => c.executor_id.value).sort(), ['running', 'silent']);
  for (const c of containers) {
    t.is(c.container_id.value, containerOf.get(c.executor_id.value), `${c.executor_id.value}: the executor's container`);
    t.deepEqual(c.framework_id, { value: frameworkId });
  }
  const running = containers.find((c: any) => c.executor_id.value === 'running');
  t.regex(running.executor_name, /^Command Executor \(Task: running\)/);
  const s = running.resource_statistics;
  t.true(typeof s.timestamp === 'number' && s.timestamp > 1.6e9, 'seconds since the epoch');
  t.is(s.mem_limit_bytes, 64 * 1024 * 1024, "the task's memory");
  t.is(s.cpus_limit, 0.5);
  if (process.platform === 'linux') {
    t.true(s.mem_rss_bytes > 0, 'resident memory of the container, read from /proc');
    t.true(s.processes >= 1 && s.threads >= s.processes);
    t.true(Number.isInteger(running.container_status.executor_pid) && running.container_status.executor_pid > 0);
    t.deepEqual(running.container_status.container_id, running.container_id);
  }
  const silent = containers.find((c: any) => c.executor_id.value === 'silent');
  t.is(silent.executor_name, 'silent executor');
  t.is(silent.resource_statistics.mem_limit_bytes, 32 * 1024 * 1024, 'its queued task counts');
});

test.serial('agent operator API - GET_AGENT, GET_HEALTH, GET_FLAGS, GET_VERSION, GET_METRICS, GET_LOGGING_LEVEL', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  const agent = cluster.agents[0]!;
  const path = `/${agent.id}/api/v1`;

  const { agent_info } = await answer(t, port, path, 'GET_AGENT');
  t.like(agent_info, { id: { value: agent.agentId }, hostname: agent.info.hostname, port });
  t.true(agent_info.resources.some((r: any) => r.name === 'cpus' && r.scalar.value === 4));
  t.deepEqual(await answer(t, port, path, 'GET_HEALTH'), { healthy: true });

  const { flags } = await answer(t, port, path, 'GET_FLAGS');
  const flag = (name: string) => flags.find((f: any) => f.name === name)?.value;
  t.is(flag('resources'), 'cpus:4;mem:2048;disk:1024;ports:[31000-31099]');
  t.is(flag('work_dir'), agent.flags.workDir);
  t.is(flag('executor_registration_timeout'), '1mins');
  t.true(flags.every((f: any) => typeof f.value === 'string'), 'values as strings, as Mesos');
  t.deepEqual(flags.map((f: any) => f.name), [...flags.map((f: any) => f.name)].sort(), 'by name');

  const { version_info } = await answer(t, port, path, 'GET_VERSION');
  t.is(version_info.version, '1.11.0');
  t.deepEqual(version_info, (await http(port, 'GET', '/version')).json(), "what this runtime's /version says");

  const { metrics } = await answer(t, port, path, 'GET_METRICS');
  const metric = (name: string) => metrics.find((m: any) => m.name === name)?.value;
  t.is(metric(`${agent.id}/registered`), 1);
  t.is(metric(`${agent.id}/cpus_total`), 4);
  t.is(metric(`${agent.id}/tasks_running`), 0);
  t.deepEqual(await answer(t, port, path, 'GET_LOGGING_LEVEL'), { level: 0 }, 'pino at error: glog verbosity 0');
});

test.serial('agent operator API - 405, 400 without Content-Type, 415, 400 naming the field or the type, 406, 501 naming the call', async (t) => {
  const cluster = await startCluster(t);
  const { port } = cluster;
  const path = `/${cluster.agents[0]!.id}/api/v1`;

  const get = await http(port, 'GET', path);
  t.is(get.status, 405);
  t.is(get.headers.allow, 'POST');
  const bare = await http(port, 'POST', path);
  t.deepEqual([bare.status, bare.body], [400, "Expecting 'Content-Type' to be present"]);
  const text = await call(port, path, '{"type":"GET_HEALTH"}', { 'Content-Type': 'text/plain' });
  t.deepEqual([text.status, text.body], [415, "Expecting 'Content-Type' of application/json, got 'text/plain'"]);
  const protobuf = await call(port, path, '{"type":"GET_HEALTH"}', { 'Content-Type': 'application/x-protobuf' });
  t.is(protobuf.status, 415);
  t.regex(protobuf.body, /JSON only, not application\/x-protobuf/);
  t.is((await call(port, path, '{"type":"GET_HEALTH"}', { 'Content-Type': 'application/json; charset=utf-8' })).status, 200);

  const cases: [string, RegExp][] = [
    ['', /^Expecting a JSON body, got an empty body$/],
    ['{"type": ', /^Failed to parse body into JSON/],
    ['[]', /^Failed to validate agent::Call: /],
    ['{}', /^Failed to validate agent::Call: .*'type'/],
    ['{"type": "GET_MASTER"}', /^Failed to validate agent::Call: .*'type'.*GET_MASTER/],
    ['{"type": "GET_METRICS", "get_metrics": {"timeout": {"nanoseconds": "soon"}}}', /^Failed to validate agent::Call: .*'get_metrics\.timeout\.nanoseconds'/],
    ['{"type": "GET_CONTAINERS", "get_containers": {"show_nested": "yes"}}', /^Failed to validate agent::Call: .*'get_containers\.show_nested'/],
  ];
  for (const [body, expected] of cases) {
    const reply = await call(port, path, body, { 'Content-Type': 'application/json' });
    t.is(reply.status, 400, body);
    t.regex(reply.body, expected, body);
  }

  const refused = await call(port, path, { type: 'GET_HEALTH' }, { Accept: 'application/x-protobuf' });
  t.is(refused.status, 406);
  t.regex(refused.body, /application\/json/);
  t.is((await call(port, path, { type: 'GET_HEALTH' }, { Accept: '*/*' })).status, 200);

  const nested = await call(port, path, { type: 'LAUNCH_NESTED_CONTAINER', launch_nested_container: { container_id: { value: 'c1' } } });
  t.deepEqual([nested.status, nested.body], [501, "Call type 'LAUNCH_NESTED_CONTAINER' is not implemented by this agent"]);
  const others = [
    'SET_LOGGING_LEVEL', 'LIST_FILES', 'READ_FILE', 'GET_RESOURCE_PROVIDERS', 'GET_OPERATIONS', 'WAIT_NESTED_CONTAINER', 'KILL_NESTED_CONTAINER',
    'REMOVE_NESTED_CONTAINER', 'LAUNCH_NESTED_CONTAINER_SESSION', 'ATTACH_CONTAINER_INPUT', 'ATTACH_CONTAINER_OUTPUT', 'LAUNCH_CONTAINER',
    'WAIT_CONTAINER', 'KILL_CONTAINER', 'REMOVE_CONTAINER', 'ADD_RESOURCE_PROVIDER_CONFIG', 'UPDATE_RESOURCE_PROVIDER_CONFIG',
    'REMOVE_RESOURCE_PROVIDER_CONFIG', 'MARK_RESOURCE_PROVIDER_GONE', 'PRUNE_IMAGES',
  ];
  for (const type of others) {
    const reply = await call(port, path, { type });
    t.deepEqual([reply.status, reply.body], [501, `Call type '${type}' is not implemented by this agent`], type);
  }
});

test.serial('agent operator API - in the embedded cluster /api/v1 stays the master\'s; /agent/api/v1 names each agent\'s when several run', async (t) => {
  const cluster = await startCluster(t, { agents: 2 });
  const { port } = cluster;
  const [a1, a2] = cluster.agents;
  const master = await call(port, '/api/v1', { type: 'GET_AGENT' });
  t.is(master.status, 400, 'the master has no GET_AGENT');
  t.regex(master.body, /^Failed to validate master::Call/);

  const alias = await call(port, '/agent/api/v1', { type: 'GET_AGENT' });
  t.is(alias.status, 404);
  t.is(alias.body, `2 agents run here: ask /${a1!.id}/api/v1, /${a2!.id}/api/v1`);
  for (const agent of [a1!, a2!]) {
    t.deepEqual((await answer(t, port, `/${agent.id}/api/v1`, 'GET_AGENT')).agent_info.id, { value: agent.agentId }, `/${agent.id}/api/v1`);
  }
});

test.serial('agent operator API - an agent host answers at the top-level /api/v1, as a Mesos agent on its own port', async (t) => {
  const cluster = await startCluster(t, { agents: 0 });
  const workDir = mkdtempSync(join(tmpdir(), 'agent-api-'));
  t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  const registered = futureMessage('SlaveRegisteredMessage');
  const node = await startAgentNode({ master: String(cluster.master.self), workDir, resources: 'cpus:1;mem:256', hostname: '127.0.0.1', port: 0, logger: pino({ level: 'error' }) });
  t.teardown(() => node.stop());
  await registered;
  const agentPort = node.runtime.httpAddress!.port;

  const { agent_info } = await answer(t, agentPort, '/api/v1', 'GET_AGENT');
  t.deepEqual(agent_info.id, { value: node.agent.agentId });
  t.deepEqual(await answer(t, agentPort, `/${node.agent.id}/api/v1`, 'GET_AGENT'), { agent_info });
  t.deepEqual(await answer(t, agentPort, '/api/v1', 'GET_HEALTH'), { healthy: true });
  const { metrics } = await answer(t, agentPort, '/api/v1', 'GET_METRICS');
  t.is(metrics.find((m: any) => m.name === 'slave/registered')?.value, 1, "alone in its runtime, under Mesos's slave/");
  const { version_info } = await answer(t, agentPort, '/api/v1', 'GET_VERSION');
  t.deepEqual(version_info, { version: '1.11.0' }, 'no /version process here: the version only');
});
