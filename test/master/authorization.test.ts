import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { devCommand } from '../../actors/cli/dev.ts';
import { masterCommand, masterNodeOptions } from '../../actors/cli/master.ts';
import { masterAuthorizer } from '../../actors/cluster/authentication.ts';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { InvalidAclsError, parseAcls, readAcls } from '../../actors/master/authorizer.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { FlagError, parseFlags } from '../../src/cli/flags.ts';
import { basicAuthorization } from '../../src/http/authentication.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { FrameworkInfo } from '../../src/mesos/v1/common.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { TestScheduler } from '../helpers/scheduler.ts';

resetFiltersAfterEach(test);

/**
 * `--acls`, Mesos's local authorizer: which principal may subscribe with which roles, run tasks
 * as which users, tear frameworks down, and make the operator's changes.
 */

const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });

test('ACLs - the first ACL that applies decides; NONE denies; none applying leaves it to permissive', (t) => {
  const acls = parseAcls(
    JSON.stringify({
      register_frameworks: [
        { principals: { values: ['ops'] }, roles: { values: ['prod', 'dev'] } },
        { principals: { values: ['ci'] }, roles: { type: 'NONE' } },
        { principals: { type: 'ANY' }, roles: { values: ['dev'] } },
      ],
      teardown_frameworks: [{ principals: { type: 'NONE' }, framework_principals: { values: ['ops'] } }],
    }),
    'acls',
  );
  t.true(acls.authorized('register_frameworks', 'ops', 'prod'));
  t.true(acls.authorized('register_frameworks', 'ops', 'web'), 'no ACL applies to ops on web: permissive by default');
  t.false(acls.authorized('register_frameworks', 'ci', 'dev'), 'ci can NOT register with any role, before the ANY rule');
  t.true(acls.authorized('register_frameworks', 'eve', 'dev'));
  t.true(acls.authorized('register_frameworks', undefined, 'dev'), 'no principal is matched by ANY subjects');
  t.false(acls.authorized('teardown_frameworks', 'ops', 'ops'), 'nobody may tear down the frameworks of ops');
  t.false(acls.authorized('teardown_frameworks', undefined, 'ops'));
  t.true(acls.authorized('teardown_frameworks', 'ops', 'ci'));
  t.true(acls.authorized('run_tasks', 'anyone', 'root'), 'an action without ACLs: permissive');

  const strict = parseAcls('{"permissive": false, "run_tasks": [{"principals": {"values": ["ci"]}, "users": {"values": ["nobody"]}}]}', 'acls');
  t.true(strict.authorized('run_tasks', 'ci', 'nobody'));
  t.false(strict.authorized('run_tasks', 'ci', 'root'));
  t.false(strict.authorized('run_tasks', undefined, 'nobody'), 'values never match a request without a principal');
  t.false(strict.authorized('drain_agents', 'ops'), 'no ACL applies: not permissive');
  t.true(parseAcls('{"permissive": false, "drain_agents": [{"principals": {"values": ["ops"]}}]}', 'acls').authorized('drain_agents', 'ops'), 'a set left out is ANY');
});

test('ACLs - what Mesos would not accept, and what this master does not enforce, is an error naming it', (t) => {
  const bad = (json: string, message: RegExp) => t.throws(() => parseAcls(json, '--acls'), { instanceOf: InvalidAclsError, message });
  bad('{"permissive": "no"}', /'permissive' must be true or false, got "no"/);
  bad('{"run_task": []}', /--acls: unknown action 'run_task'/);
  bad('{"access_mesos_logs": []}', /'access_mesos_logs' ACLs are not enforced by this master/);
  bad('{"run_tasks": {}}', /'run_tasks' must be an array of ACLs/);
  bad('{"run_tasks": [{"principals": {"values": "ci"}}]}', /'run_tasks\[0\]\.principals\.values' must be an array of strings, got "ci"/);
  bad('{"run_tasks": [{"principals": {"type": "SOME"}}]}', /'run_tasks\[0\]\.principals\.type' must be 'ANY' or 'NONE'/);
  bad('{"run_tasks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}', /'run_tasks\[0\]\.roles' is not a field of 'run_tasks' ACLs \(they have 'principals' and 'users'\)/);
  bad('{"run_tasks": [', /--acls is not valid JSON/);
  t.throws(() => readAcls('/nonexistent/acls.json'), { instanceOf: InvalidAclsError, message: /cannot read ACLs file '\/nonexistent\/acls.json'/ });
  const path = join(mkdtempSync(join(tmpdir(), 'acls-')), 'acls.json');
  writeFileSync(path, '{"permissive": false}');
  t.false(readAcls(`file://${path}`).authorized('run_tasks', 'x', 'y'), 'a file, as Mesos takes --acls');
  // The flags: `mesos-ts master` and `mesos-ts dev` refuse a bad --acls before they start.
  t.throws(() => masterNodeOptions(parseFlags(masterCommand.flags, ['--acls', '{"run_tasks": 1}'], {})), { instanceOf: FlagError, message: /--acls: .*'run_tasks' must be an array/ });
  t.throws(() => masterAuthorizer(parseFlags(devCommand.flags, ['--authorizers', 'ranger'], {})), { instanceOf: FlagError, message: /invalid value 'ranger' for --authorizers: the only authorizer is 'local'/ });
  t.truthy(masterNodeOptions(parseFlags(masterCommand.flags, ['--acls', path], {})).master?.authorizer);
});

const ACLS = {
  register_frameworks: [
    { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
    { principals: { type: 'ANY' }, roles: { values: ['prod'] } },
    { principals: { type: 'ANY' }, roles: { type: 'NONE' } },
  ],
  run_tasks: [
    { principals: { values: ['ci'] }, users: { values: ['nobody'] } },
    { principals: { values: ['ci'] }, users: { type: 'NONE' } },
  ],
  teardown_frameworks: [
    { principals: { values: ['ops'] }, framework_principals: { type: 'ANY' } },
    { principals: { type: 'ANY' }, framework_principals: { type: 'NONE' } },
  ],
  update_weights: [{ principals: { values: ['ops'] }, roles: { type: 'ANY' } }, { principals: { type: 'ANY' }, roles: { type: 'NONE' } }],
  update_quotas: [{ principals: { values: ['ops'] }, roles: { type: 'ANY' } }, { principals: { type: 'ANY' }, roles: { type: 'NONE' } }],
  drain_agents: [{ principals: { values: ['ops'] } }, { principals: { type: 'ANY' }, agents: { type: 'NONE' } }],
  reserve_resources: [{ principals: { values: ['ops'] }, roles: { type: 'ANY' } }, { principals: { type: 'ANY' }, roles: { type: 'NONE' } }],
  unreserve_resources: [{ principals: { values: ['ops'] }, reserver_principals: { type: 'ANY' } }, { principals: { type: 'ANY' }, reserver_principals: { type: 'NONE' } }],
  deactivate_agents: [{ principals: { values: ['ops'] } }, { principals: { type: 'ANY' }, agents: { type: 'NONE' } }],
};

async function cluster(t: { teardown(fn: () => Promise<void>): void }): Promise<{ cluster: EmbeddedCluster; port: number }> {
  const registered = futureMessages(1, 'SlaveRegisteredMessage');
  const c = await startEmbeddedCluster({
    agents: 1,
    port: 0,
    resources: 'cpus:2;mem:1024',
    logger,
    httpAuthentication: { readonly: false, readwrite: true, frameworks: false, credentials: [{ principal: 'ops', secret: 'o' }, { principal: 'ci', secret: 'c' }] },
    master: { authorizer: parseAcls(JSON.stringify(ACLS), 'acls') },
  });
  t.teardown(() => c.stop());
  await registered;
  return { cluster: c, port: c.runtime.httpAddress!.port };
}

async function subscribe(t: { teardown(fn: () => Promise<unknown>): void }, c: EmbeddedCluster, info: Partial<FrameworkInfo>): Promise<{ scheduler: TestScheduler; driver: SchedulerDriver; outcome: Promise<{ registered: string } | { error: string }> }> {
  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'acl-test', ...info }, c.master.self, { runtime: c.runtime });
  t.teardown(() => driver.abort());
  const outcome = Promise.race([scheduler.next('registered').then(([id]) => ({ registered: id.value })), scheduler.next('error').then(([error]) => ({ error }))]);
  await driver.start();
  return { scheduler, driver, outcome };
}

const as = (principal: string, secret: string) => ({ 'Content-Type': 'application/json', Authorization: basicAuthorization({ principal, secret }) });

test.serial('register_frameworks - a principal may subscribe with the roles the ACLs give it; another is refused naming them', async (t) => {
  const { cluster: c } = await cluster(t);
  const outcome = async (info: Partial<FrameworkInfo>) => (await subscribe(t, c, info)).outcome;
  t.true('registered' in (await outcome({ principal: 'ops', roles: ['web', 'prod'], capabilities: [{ type: 'MULTI_ROLE' }] })));
  t.deepEqual(await outcome({ principal: 'ci', roles: ['prod', 'web'], capabilities: [{ type: 'MULTI_ROLE' }] }), { error: "Not authorized to use roles 'web'" });
  t.deepEqual(await outcome({ role: 'web' }), { error: "Not authorized to use roles 'web'" }, 'a framework without a principal, only by ANY rules');
  t.true('registered' in (await outcome({ role: 'prod' })));
  t.is(c.master.frameworks.size, 2);
});

test.serial('run_tasks - a task to run as a user its principal may not use is TASK_ERROR, REASON_TASK_UNAUTHORIZED; as one it may, it runs', async (t) => {
  const { cluster: c } = await cluster(t);
  // The framework's user is one ci may run as; a task may name another (`CommandInfo.user`).
  const { scheduler, driver } = await subscribe(t, c, { principal: 'ci', role: 'prod', user: 'nobody' });
  const [offers] = await scheduler.next('resourceOffers');
  const offer = offers[0]!;
  const task = (id: string, user?: string) => ({
    name: id,
    task_id: { value: id },
    agent_id: offer.agent_id,
    resources: Resources.parse('cpus:0.1;mem:32').toJSON(),
    command: { value: 'true', ...(user !== undefined ? { user } : {}) },
  });
  driver.launchTasks(offer.id, [task('as-root', 'root'), task('as-framework-user')]);
  const states = new Map<string, string[]>();
  let refused: { state: string; reason?: string; message?: string } | undefined;
  while (refused === undefined || states.get('as-framework-user')?.at(-1) !== 'TASK_FINISHED') {
    const [status] = await scheduler.next('statusUpdate');
    if (status.task_id.value === 'as-root') refused = status;
    states.set(status.task_id.value, [...(states.get(status.task_id.value) ?? []), status.state]);
    if (status.state === 'TASK_ERROR' && status.task_id.value !== 'as-root') break;
  }
  t.like(refused, { state: 'TASK_ERROR', reason: 'REASON_TASK_UNAUTHORIZED', message: "Not authorized to launch as user 'root'" });
  t.deepEqual(states.get('as-root'), ['TASK_ERROR']);
  t.deepEqual(states.get('as-framework-user'), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
});

test.serial('operator calls - teardown, weights, quota, drain and deactivate: 403 for a principal the ACLs refuse, done for one they allow', async (t) => {
  const { cluster: c, port } = await cluster(t);
  const { outcome } = await subscribe(t, c, { principal: 'ci', role: 'prod' });
  const frameworkId = ((await outcome) as { registered: string }).registered;
  const agentId = c.agents[0]!.agentId!;
  const calls = [
    { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'prod', weight: 2 }] } },
    { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'prod', guarantees: { cpus: { value: 1 } } }] } },
    { type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: agentId } } },
    { type: 'TEARDOWN', teardown: { framework_id: { value: frameworkId } } },
  ];
  for (const call of calls) {
    const refused = await http(port, 'POST', '/api/v1', call, { headers: as('ci', 'c') });
    t.is(refused.status, 403, call.type);
    t.regex(refused.body, /^Principal 'ci' is not authorized to /, call.type);
  }
  t.true(c.master.frameworks.has(frameworkId), 'not torn down');
  t.is(c.master.weights.get('prod'), undefined);
  // The v0 endpoints ask the same ACLs.
  t.is((await http(port, 'POST', '/master/teardown', `frameworkId=${frameworkId}`, { headers: as('ci', 'c') })).status, 403);
  t.is((await http(port, 'PUT', '/master/weights', [{ role: 'prod', weight: 2 }], { headers: as('ci', 'c') })).status, 403);
  t.is((await http(port, 'DELETE', '/master/quota/prod', undefined, { headers: as('ci', 'c') })).status, 403);
  for (const call of calls) {
    const done = await http(port, 'POST', '/api/v1', call, { headers: as('ops', 'o') });
    t.is(done.status, 200, `${call.type}: ${done.body}`);
  }
  t.false(c.master.frameworks.has(frameworkId), 'torn down by ops');
  t.is(c.master.weights.get('prod'), 2);
  const drain = await http(port, 'POST', '/api/v1', { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agentId } } }, { headers: as('ci', 'c') });
  t.is(drain.status, 403);
  t.is(drain.body, "Principal 'ci' is not authorized to drain agents");
});

test.serial('reserve_resources, unreserve_resources - the operator endpoints and a framework\'s RESERVE ask the ACLs: 403, or the operation dropped', async (t) => {
  const { cluster: c, port } = await cluster(t);
  const agentId = c.agents[0]!.agentId!;
  const reserved = (principal: string) => JSON.stringify([{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: 'prod', principal }] }]);
  const form = (principal: string) => `slaveId=${encodeURIComponent(agentId)}&resources=${encodeURIComponent(reserved(principal))}`;
  const refused = await http(port, 'POST', '/master/reserve', form('ci'), { headers: as('ci', 'c') });
  t.is(refused.status, 403);
  t.is(refused.body, "Principal 'ci' is not authorized to reserve resources for role 'prod'");
  const v1 = { type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: agentId }, resources: JSON.parse(reserved('ci')) } };
  t.is((await http(port, 'POST', '/api/v1', v1, { headers: as('ci', 'c') })).status, 403);
  t.true(c.master.agents.get(agentId)!.total.reserved('prod').isEmpty(), 'nothing reserved');

  t.is((await http(port, 'POST', '/master/reserve', form('ops'), { headers: as('ops', 'o') })).status, 202);
  t.is(c.master.agents.get(agentId)!.total.reserved('prod').cpus(), 1);
  const undo = await http(port, 'POST', '/master/unreserve', form('ops'), { headers: as('ci', 'c') });
  t.is(undo.status, 403);
  t.is(undo.body, "Principal 'ci' is not authorized to unreserve resources reserved by principal 'ops'");
  t.is((await http(port, 'POST', '/master/unreserve', form('ops'), { headers: as('ops', 'o') })).status, 202);
  t.true(c.master.agents.get(agentId)!.total.reserved('prod').isEmpty());

  // A framework of ci, subscribed to prod, may not reserve there: its RESERVE is dropped, its LAUNCH of the same ACCEPT still runs.
  const { scheduler, driver } = await subscribe(t, c, { principal: 'ci', role: 'prod', user: 'nobody' });
  const [offers] = await scheduler.next('resourceOffers');
  const offer = offers[0]!;
  driver.acceptOffers(offer.id, [
    { type: 'RESERVE', reserve: { resources: JSON.parse(reserved('ci')) } },
    { type: 'LAUNCH', launch: { task_infos: [{ name: 'x', task_id: { value: 'x' }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.1;mem:32').toJSON(), command: { value: 'true' } }] } },
  ]);
  const [status] = await scheduler.next('statusUpdate');
  t.is(status.state, 'TASK_STARTING');
  t.true(c.master.agents.get(agentId)!.total.reserved('prod').isEmpty(), 'the RESERVE was dropped');
});
