import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { sandboxDir } from '../../actors/agent/checkpoint.ts';
import { MAX_COMPLETED_EXECUTORS_PER_FRAMEWORK } from '../../actors/agent/constants.ts';
import { removeExecutor } from '../../actors/agent/executors.ts';
import { attachSandbox, FilesProcess, filesProcess, sandboxPaths } from '../../actors/agent/files.ts';
import { ExecutorRecord, FrameworkRecord } from '../../actors/agent/state.ts';
import { startEmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { launchingOnce } from '../helpers/scheduler.ts';
import { acknowledge, AGENT_ID, commandTask, FRAMEWORK, FRAMEWORK_ID, nextUpdate, register, runTask, spawnAgent, startAgent } from './harness.ts';

resetFiltersAfterEach(test);

interface ExecutorJSON {
  id: string;
  container: string;
  directory: string;
}

/** Every executor an agent's `/state` reports, running or completed, with its framework's id. */
function executorsOf(state: any): (ExecutorJSON & { framework: string })[] {
  const frameworks = [...state.frameworks, ...state.completed_frameworks];
  return frameworks.flatMap((f: any) => [...f.executors, ...f.completed_executors].map((e: ExecutorJSON) => ({ ...e, framework: f.id })));
}

test.serial('files - a command task\'s stdout is read and listed through /files, at the directory /state reports and at the virtual paths', async (t) => {
  const registered = futureMessages(2, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({ agents: 2, port: 0, resources: 'cpus:2;mem:1024', logger: pino({ level: 'error' }) });
  t.teardown(() => cluster.stop());
  const port = cluster.runtime.httpAddress!.port;
  await registered;
  const scheduler = launchingOnce((offer) => [
    { name: 'echo', task_id: { value: 'echo-1' }, agent_id: offer.agent_id, resources: Resources.parse('cpus:1;mem:128').toJSON(), command: { value: 'echo hello-sandbox' } },
  ]);
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'files-test' }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  for (;;) {
    const [status] = await scheduler.next('statusUpdate');
    if (status.state === 'TASK_FINISHED') break;
    t.true(['TASK_STARTING', 'TASK_RUNNING'].includes(status.state), status.state);
  }
  await cluster.runtime.settle();

  // The agent that ran it, and its executor's sandbox, from the agents' `/state` over HTTP.
  const found = [];
  for (const agent of cluster.agents) {
    const state = (await http(port, 'GET', `/${encodeURIComponent(agent.id)}/state`)).json();
    for (const executor of executorsOf(state)) found.push({ agentId: state.id as string, executor });
  }
  t.is(found.length, 1);
  const { agentId, executor } = found[0]!;
  t.is(executor.id, 'echo-1');
  t.true(executor.directory.endsWith(join('slaves', agentId, 'frameworks', executor.framework, 'executors', 'echo-1', 'runs', executor.container)));

  const q = encodeURIComponent;
  const read = await http(port, 'GET', `/files/read?path=${q(`${executor.directory}/stdout`)}&offset=0`);
  t.is(read.status, 200);
  t.deepEqual(read.json(), { data: 'hello-sandbox\n', offset: 0 });
  t.deepEqual((await http(port, 'GET', `/files/read?path=${q(`${executor.directory}/stdout`)}`)).json(), { data: '', offset: 14 });

  const listing = (await http(port, 'GET', `/files/browse?path=${q(executor.directory)}`)).json();
  const stdout = listing.find((e: { path: string }) => e.path === `${executor.directory}/stdout`);
  t.like(stdout, { size: 14, nlink: 1 });
  t.regex(stdout.mode, /^-r/);
  t.true(listing.some((e: { path: string }) => e.path === `${executor.directory}/stderr`));

  // The virtual paths: this agent's `runs/latest` and `runs/<container>`, and Mesos's own.
  const runs = `/slaves/${agentId}/frameworks/${executor.framework}/executors/echo-1/runs`;
  for (const path of [`${runs}/latest`, `${runs}/${executor.container}`, `/frameworks/${executor.framework}/executors/echo-1/runs/latest`, join(executor.directory, '..', 'latest')]) {
    t.deepEqual((await http(port, 'GET', `/files/read?path=${q(`${path}/stdout`)}&offset=6`)).json(), { data: 'sandbox\n', offset: 6 }, path);
    const entries = (await http(port, 'GET', `/files/browse?path=${q(path)}`)).json();
    t.true(entries.some((e: { path: string }) => e.path === `${path}/stdout`), path);
  }
  const download = await http(port, 'GET', `/files/download?path=${q(`${runs}/latest/stdout`)}`);
  t.is(download.body, 'hello-sandbox\n');
  t.is(download.headers['content-disposition'], 'attachment; filename=stdout');

  // The one files process serves both agents' sandboxes; `/files/debug` names them.
  const debug = (await http(port, 'GET', '/files/debug')).json();
  t.is(debug[`${runs}/latest`], debug[executor.directory]);
  t.truthy(debug[executor.directory]);
});

test.serial('files - an agent attaches what it recovers after a restart, and detaches what it forgets when it terminates', async (t) => {
  const framework: FrameworkInfo = { ...FRAMEWORK, checkpoint: true };
  const h = await startAgent(t);
  const files = FilesProcess.ensure(h.agentRuntime);
  await register(h);
  runTask(h, commandTask('task-1', 'sleep 60'), framework);
  acknowledge(h, await nextUpdate(h));
  acknowledge(h, await nextUpdate(h));
  await h.settle();
  const executor = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('task-1')!;
  const paths = sandboxPaths(AGENT_ID, executor);
  t.deepEqual(paths, [
    executor.directory,
    join(h.workDir, 'slaves', AGENT_ID, 'frameworks', FRAMEWORK_ID, 'executors', 'task-1', 'runs', 'latest'),
    `/frameworks/${FRAMEWORK_ID}/executors/task-1/runs/latest`,
    `/slaves/${AGENT_ID}/frameworks/${FRAMEWORK_ID}/executors/task-1/runs/${executor.containerId}`,
    `/slaves/${AGENT_ID}/frameworks/${FRAMEWORK_ID}/executors/task-1/runs/latest`,
  ]);
  t.deepEqual(Object.keys(files.attachments()).sort(), [...paths].sort());

  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  t.deepEqual(files.attachments(), {}, 'a terminated agent serves nothing');

  h.agent = spawnAgent(h);
  await h.settle();
  t.is(filesProcess(h.agentRuntime), files);
  t.deepEqual(Object.keys(files.attachments()).sort(), [...paths].sort(), 'the recovered executor is served again');
});

test.serial('files - an executor the agent forgets, past the completed executors it keeps, is detached', async (t) => {
  const h = await startAgent(t);
  const files = FilesProcess.ensure(h.agentRuntime);
  await register(h);
  const framework = new FrameworkRecord(FRAMEWORK_ID, FRAMEWORK);
  const record = (n: number) => {
    const directory = sandboxDir(h.workDir, AGENT_ID, FRAMEWORK_ID, `e${n}`, `c${n}`);
    mkdirSync(directory, { recursive: true });
    return new ExecutorRecord({ executor_id: { value: `e${n}` }, framework_id: { value: FRAMEWORK_ID } }, FRAMEWORK_ID, `c${n}`, directory, false);
  };
  const [oldest, next] = [record(0), record(1)];
  await h.agentRuntime.dispatch(h.agent.self, () => {
    h.agent.frameworks.set(FRAMEWORK_ID, framework);
    // One that keeps running, so that the framework stays.
    framework.executors.set('running', record(-1));
    for (const executor of [oldest, next]) attachSandbox(h.agent, executor);
  });
  await h.settle();
  t.truthy(files.attachments()[oldest.directory]);
  await h.agentRuntime.dispatch(h.agent.self, () => {
    for (let n = 0; n <= MAX_COMPLETED_EXECUTORS_PER_FRAMEWORK; n++) {
      const executor = n === 0 ? oldest : n === 1 ? next : new ExecutorRecord({ executor_id: { value: `e${n}` } }, FRAMEWORK_ID, `c${n}`, sandboxDir(h.workDir, AGENT_ID, FRAMEWORK_ID, `e${n}`, `c${n}`), false);
      framework.executors.set(executor.id, executor);
      removeExecutor(h.agent, framework, executor);
    }
  });
  await h.settle();
  t.is(framework.completedExecutors[0], next);
  t.false(oldest.directory in files.attachments(), 'the forgotten executor is detached');
  t.false(sandboxPaths(AGENT_ID, oldest).some((path) => path in files.attachments()));
  t.truthy(files.attachments()[next.directory], 'the one still remembered stays');
});
