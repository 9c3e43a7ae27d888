import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { agentCommand, agentOptions } from '../../actors/cli/agent.ts';
import { parseAcls, type LocalAuthorizer } from '../../actors/cluster/acls.ts';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { FlagError, parseFlags } from '../../src/cli/flags.ts';
import { basicAuthorization } from '../../src/http/authentication.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { launchingOnce } from '../helpers/scheduler.ts';

/**
 * The agent's `--acls`, as Mesos's agent applies them: `access_sandboxes` on `/files/*`, and
 * `view_frameworks`, `view_executors` and `view_tasks` on `/slave(1)/state` and the agent's v1
 * operator API. An embedded cluster (the master's ACLs are its agent's) behind HTTP Basic
 * authentication on 127.0.0.1; two frameworks, of users `alice` and `bob`, each ran a command
 * task that printed its user; principal `ops` may see everything, `alice` what is `alice`'s,
 * `eve` nothing.
 */
resetFiltersAfterEach(test);

const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });
const ANY = { type: 'ANY' };
const NONE = { type: 'NONE' };
const onlyAlice = [
  { principals: { values: ['ops'] }, users: ANY },
  { principals: { values: ['alice'] }, users: { values: ['alice'] } },
  { principals: ANY, users: NONE },
];
const ACLS = { access_sandboxes: onlyAlice, view_frameworks: onlyAlice, view_executors: onlyAlice, view_tasks: onlyAlice };
const CREDENTIALS = ['ops', 'alice', 'eve'].map((principal) => ({ principal, secret: `${principal}-secret` }));
const as = (principal: string) => ({ Authorization: basicAuthorization({ principal, secret: `${principal}-secret` }) });

interface Ran {
  frameworkId: string;
  /** The sandbox of its task's executor, as `/state` reports it. */
  directory: string;
  executorId: string;
}

interface Scene {
  cluster: EmbeddedCluster;
  port: number;
  alice: Ran;
  bob: Ran;
}

/** Runs `echo hello-<user>` for a framework of `user` and waits for TASK_FINISHED. */
async function run(t: { teardown(fn: () => unknown): void }, cluster: EmbeddedCluster, user: string, commandUser?: string): Promise<{ frameworkId: string; taskId: string }> {
  const taskId = commandUser === undefined ? `${user}-task` : `${commandUser}-of-${user}-task`;
  const scheduler = launchingOnce((offer) => [
    {
      name: taskId,
      task_id: { value: taskId },
      agent_id: offer.agent_id,
      resources: Resources.parse('cpus:0.5;mem:64').toJSON(),
      command: { value: `echo hello-${commandUser ?? user}`, ...(commandUser !== undefined ? { user: commandUser } : {}) },
    },
  ]);
  const registered = scheduler.next('registered');
  const driver = new SchedulerDriver(scheduler, { user, name: `${user}-fw` }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  const [frameworkId] = await registered;
  for (;;) {
    const [status] = await scheduler.next('statusUpdate');
    if (status.state === 'TASK_FINISHED') break;
    if (!['TASK_STARTING', 'TASK_RUNNING'].includes(status.state)) throw new Error(`${taskId}: ${status.state} ${status.message ?? ''}`);
  }
  return { frameworkId: frameworkId.value, taskId };
}

async function scene(t: { teardown(fn: () => unknown): void }, authorizer: LocalAuthorizer | undefined): Promise<Scene> {
  const registered = futureMessages(1, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({
    agents: 1,
    port: 0,
    resources: 'cpus:2;mem:1024',
    logger,
    httpAuthentication: { readonly: true, readwrite: true, frameworks: false, credentials: CREDENTIALS },
    master: authorizer === undefined ? {} : { authorizer },
  });
  t.teardown(() => cluster.stop());
  await registered;
  const port = cluster.runtime.httpAddress!.port;
  const ran = [await run(t, cluster, 'alice'), await run(t, cluster, 'bob')];
  await cluster.runtime.settle();
  // Where each ran, from the agent's `/state` as the principal that may see everything.
  const state = await get(port, 'ops', '/slave(1)/state');
  const [alice, bob] = ran.map(({ frameworkId, taskId }) => {
    const framework = [...state.frameworks, ...state.completed_frameworks].find((f: { id: string }) => f.id === frameworkId);
    const executor = [...framework.executors, ...framework.completed_executors].find((e: { id: string }) => e.id === taskId);
    return { frameworkId, directory: executor.directory as string, executorId: executor.id as string };
  });
  return { cluster, port, alice: alice!, bob: bob! };
}

async function get(port: number, principal: string, path: string): Promise<any> {
  const reply = await http(port, 'GET', path, undefined, { headers: as(principal) });
  if (reply.status !== 200) throw new Error(`GET ${path} as ${principal}: ${reply.status} ${reply.body}`);
  return reply.json();
}

async function call(port: number, principal: string, type: string): Promise<any> {
  const reply = await http(port, 'POST', '/slave(1)/api/v1', { type }, { headers: { ...as(principal), 'Content-Type': 'application/json' } });
  if (reply.status !== 200) throw new Error(`${type} as ${principal}: ${reply.status} ${reply.body}`);
  return reply.json()[type.toLowerCase()];
}

const q = encodeURIComponent;
const read = (port: number, principal: string, path: string) => http(port, 'GET', `/files/read?path=${q(path)}&offset=0`, undefined, { headers: as(principal) });
const sorted = (values: string[]) => [...values].sort();
const frameworkIds = (state: any) => sorted([...state.frameworks, ...state.completed_frameworks].map((f: { id: string }) => f.id));

test('agent ACLs - access_sandboxes and the view ACLs are parsed; --acls of mesos-ts agent is checked as the master\'s', (t) => {
  const acls = parseAcls(JSON.stringify(ACLS), 'acls');
  t.true(acls.authorized('access_sandboxes', 'alice', 'alice'));
  t.false(acls.authorized('access_sandboxes', 'alice', 'bob'));
  t.false(acls.authorized('access_sandboxes', undefined, undefined), 'no principal, no user: the NONE rule');
  t.throws(() => parseAcls('{"access_sandboxes": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}', 'acls'), {
    message: /'access_sandboxes\[0\]\.roles' is not a field of 'access_sandboxes' ACLs \(they have 'principals' and 'users'\)/,
  });
  const workDir = mkdtempSync(join(tmpdir(), 'agent-acls-'));
  const options = (...flags: string[]) => agentOptions(parseFlags(agentCommand.flags, ['--master', 'master@x', '--work_dir', workDir, ...flags], {}));
  t.throws(() => options('--acls', '{"access_sandboxes": ['), { instanceOf: FlagError, message: /--acls: --acls is not valid JSON/ });
  t.throws(() => options('--acls', '{"access_sandboxes": [{"principals": {"values": "ops"}}]}'), { instanceOf: FlagError, message: /--acls: .*'access_sandboxes\[0\]\.principals\.values' must be an array of strings/ });
  t.throws(() => options('--authorizer', 'ranger'), { instanceOf: FlagError, message: /invalid value 'ranger' for --authorizer: the only authorizer is 'local'/ });
  t.is(options().authorizer, undefined, 'no --acls, no authorizer');
  t.false(options('--acls', JSON.stringify(ACLS)).authorizer?.authorized('access_sandboxes', 'eve', 'alice'));
});

test.serial('access_sandboxes - /files/* of a sandbox is 403 to a principal that may not access its user\'s sandboxes', async (t) => {
  const s = await scene(t, parseAcls(JSON.stringify(ACLS), 'acls'));
  const [aliceOut, bobOut] = [`${s.alice.directory}/stdout`, `${s.bob.directory}/stdout`];

  const mine = await read(s.port, 'alice', aliceOut);
  t.is(mine.status, 200);
  t.deepEqual(mine.json(), { data: 'hello-alice\n', offset: 0 });
  const theirs = await read(s.port, 'alice', bobOut);
  t.is(theirs.status, 403);
  t.is(theirs.body, "Principal 'alice' is not authorized to access this sandbox");
  t.deepEqual((await read(s.port, 'ops', bobOut)).json(), { data: 'hello-bob\n', offset: 0 }, 'ops may access any sandbox');
  for (const path of [aliceOut, bobOut]) t.is((await read(s.port, 'eve', path)).status, 403, path);

  // Every virtual path of bob's sandbox, every route, and a file that does not exist in it.
  const latest = `/frameworks/${s.bob.frameworkId}/executors/${s.bob.executorId}/runs/latest`;
  t.is((await read(s.port, 'alice', `${latest}/stdout`)).status, 403);
  t.is((await read(s.port, 'alice', `${s.bob.directory}/no-such-file`)).status, 403, 'refused before the path is looked up');
  t.is((await http(s.port, 'GET', `/files/browse?path=${q(s.bob.directory)}`, undefined, { headers: as('alice') })).status, 403);
  t.is((await http(s.port, 'GET', `/files/download?path=${q(bobOut)}`, undefined, { headers: as('alice') })).status, 403);
  const browse = await http(s.port, 'GET', `/files/browse?path=${q(s.alice.directory)}`, undefined, { headers: as('alice') });
  t.is(browse.status, 200);
  t.true(browse.json().some((e: { path: string }) => e.path === aliceOut));
  t.is((await http(s.port, 'GET', `/files/download?path=${q(`/frameworks/${s.alice.frameworkId}/executors/${s.alice.executorId}/runs/latest/stdout`)}`, undefined, { headers: as('alice') })).body, 'hello-alice\n');
  // A path under no sandbox is not checked: there is nothing there.
  t.is((await read(s.port, 'eve', '/nowhere/stdout')).status, 404);
});

test.serial('view ACLs - the agent\'s /state and its operator API show each principal the frameworks, executors and tasks it may view', async (t) => {
  const s = await scene(t, parseAcls(JSON.stringify(ACLS), 'acls'));
  const [a, b] = [s.alice.frameworkId, s.bob.frameworkId];
  t.deepEqual(frameworkIds(await get(s.port, 'ops', '/slave(1)/state')), sorted([a, b]));
  const alices = await get(s.port, 'alice', '/slave(1)/state');
  t.deepEqual(frameworkIds(alices), [a]);
  const executors = [...alices.frameworks, ...alices.completed_frameworks].flatMap((f: any) => [...f.executors, ...f.completed_executors].map((e: { id: string }) => e.id));
  t.deepEqual(executors, ['alice-task']);
  t.deepEqual(frameworkIds(await get(s.port, 'alice', '/agent/state')), [a], 'the runtime\'s one agent, at /agent/state');
  t.deepEqual(frameworkIds(await get(s.port, 'eve', '/slave(1)/state')), []);

  const infos = (list: { framework_info: { id: { value: string } } }[]) => sorted(list.map((f) => f.framework_info.id.value));
  const frameworks = await call(s.port, 'alice', 'GET_FRAMEWORKS');
  t.deepEqual(infos([...frameworks.frameworks, ...frameworks.completed_frameworks]), [a]);
  const all = await call(s.port, 'ops', 'GET_FRAMEWORKS');
  t.deepEqual(infos([...all.frameworks, ...all.completed_frameworks]), sorted([a, b]));
  const executorIds = (e: any) => sorted([...e.executors, ...e.completed_executors].map((x: { executor_info: { executor_id: { value: string } } }) => x.executor_info.executor_id.value));
  t.deepEqual(executorIds(await call(s.port, 'alice', 'GET_EXECUTORS')), ['alice-task']);
  t.deepEqual(executorIds(await call(s.port, 'ops', 'GET_EXECUTORS')), ['alice-task', 'bob-task']);
  const taskIds = (tasks: any) => sorted(Object.values(tasks).flatMap((list) => (list as { task_id: { value: string } }[]).map((task) => task.task_id.value)));
  t.deepEqual(taskIds(await call(s.port, 'alice', 'GET_TASKS')), ['alice-task']);
  t.deepEqual(taskIds(await call(s.port, 'ops', 'GET_TASKS')), ['alice-task', 'bob-task']);
  const state = await call(s.port, 'eve', 'GET_STATE');
  t.deepEqual([taskIds(state.get_tasks), executorIds(state.get_executors), infos([...state.get_frameworks.frameworks, ...state.get_frameworks.completed_frameworks])], [[], [], []]);
});

test.serial('agent ACLs - without --acls every principal reads every sandbox and sees every framework', async (t) => {
  const s = await scene(t, undefined);
  t.deepEqual((await read(s.port, 'eve', `${s.bob.directory}/stdout`)).json(), { data: 'hello-bob\n', offset: 0 });
  t.is((await read(s.port, 'alice', `${s.bob.directory}/stdout`)).status, 200);
  t.deepEqual(frameworkIds(await get(s.port, 'eve', '/slave(1)/state')), sorted([s.alice.frameworkId, s.bob.frameworkId]));
  const tasks = await call(s.port, 'eve', 'GET_TASKS');
  t.is(tasks.completed_tasks.length, 2);
});

test.serial('access_sandboxes - a command task that names its user (CommandInfo.user) has a sandbox of that user, not of its framework\'s', async (t) => {
  const s = await scene(t, parseAcls(JSON.stringify(ACLS), 'acls'));
  // Of bob's framework, run as alice: the command executor the agent makes runs as alice (Mesos's `getExecutorInfo`).
  const { frameworkId, taskId } = await run(t, s.cluster, 'bob', 'alice');
  await s.cluster.runtime.settle();
  const state = await get(s.port, 'ops', '/slave(1)/state');
  const framework = [...state.frameworks, ...state.completed_frameworks].find((f: { id: string }) => f.id === frameworkId);
  const executor = [...framework.executors, ...framework.completed_executors].find((e: { id: string }) => e.id === taskId);
  t.deepEqual((await read(s.port, 'alice', `${executor.directory}/stdout`)).json(), { data: 'hello-alice\n', offset: 0 });
  t.is((await read(s.port, 'alice', `${s.bob.directory}/stdout`)).status, 403, "bob's own task stays bob's");
});
