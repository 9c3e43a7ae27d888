import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startEmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { FileRegistry, RegistryFileError } from '../../actors/master/registry.ts';
import { LogLines } from '../detector/election.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';

resetFiltersAfterEach(test);

/**
 * `mesos-ts dev --work_dir`: the master keeps its registry in `<work_dir>/master/registry.json`,
 * so that a cluster started again on the directory keeps the weights and quotas the operator
 * set, and waits (`RECOVERING`) for the agents it had, which recover from their own directories
 * and re-register. Real HTTP on 127.0.0.1, real agents, the real Clock.
 */

const RESOURCES = 'cpus:2;mem:1024;ports:[31000-31009]';
const quota = { role: 'eng', guarantees: { cpus: { value: 1 }, mem: { value: 256 } } };

function workDirFor(t: { teardown(fn: () => void): void }): string {
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-dev-restart-'));
  t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  return workDir;
}

test.serial('embedded cluster - started again on its work directory, it keeps the weights and quotas and its agents re-register', async (t) => {
  const workDir = workDirFor(t);
  const registered = futureMessages(2, 'SlaveRegisteredMessage');
  const first = await startEmbeddedCluster({ agents: 2, port: 0, workDir, resources: RESOURCES, logger: pino({ level: 'error' }) });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : first.stop()));
  t.true(first.master.options.registry instanceof FileRegistry);
  await registered;
  const port1 = first.runtime.httpAddress!.port;
  t.is((await http(port1, 'PUT', '/master/weights', JSON.stringify([{ role: 'eng', weight: 3 }]))).status, 200);
  t.is((await http(port1, 'POST', '/api/v1', JSON.stringify({ type: 'UPDATE_QUOTA', update_quota: { quota_configs: [quota] } }))).status, 200);
  const agentIds = ((await http(port1, 'GET', '/master/slaves')).json().slaves as { id: string }[]).map((s) => s.id).sort();
  t.is(agentIds.length, 2);
  stopped = true;
  await first.stop();
  t.true(existsSync(join(workDir, 'master', 'registry.json')), 'stop() leaves a given work directory');

  const logs = new LogLines('info');
  const reregistered = futureMessages(2, 'SlaveReregisteredMessage');
  const second = await startEmbeddedCluster({ agents: 2, port: 0, workDir, resources: RESOURCES, logger: logs.logger });
  t.teardown(() => second.stop());
  // The master read both agents from the registry: it waits for them (`RECOVERING`).
  t.like(await logs.waitFor(/^Recovered 2 agents from the registry/), { agents: 2 });
  await reregistered;
  await logs.waitFor(/^Recovery complete$/, { notReregistered: 0 });
  await second.runtime.settle();
  t.is(second.master.state, 'LEADING');
  const port2 = second.runtime.httpAddress!.port;
  const state = (await http(port2, 'GET', '/master/state')).json();
  t.deepEqual(state.recovered_slaves, []);
  t.deepEqual((state.slaves as { id: string; active: boolean }[]).map((s) => s.id).sort(), agentIds, 'the same agents, re-registered');
  t.true((state.slaves as { active: boolean }[]).every((s) => s.active));

  // The operator's settings are the new master's and its allocator's.
  t.deepEqual((await http(port2, 'GET', '/master/weights')).json(), [{ role: 'eng', weight: 3 }]);
  t.like((await http(port2, 'POST', '/api/v1', JSON.stringify({ type: 'GET_QUOTA' }))).json(), {
    get_quota: { status: { configs: [{ ...quota, limits: {} }] } },
  });
  t.is(second.allocator.allocation.weight('eng'), 3);
  t.is(second.allocator.allocation.quota('eng')?.toString(), 'cpus:1;mem:256');
});

test.serial('embedded cluster - a corrupt registry in its work directory stops it from starting, naming the file', async (t) => {
  const workDir = workDirFor(t);
  const file = join(workDir, 'master', 'registry.json');
  mkdirSync(join(workDir, 'master'));
  writeFileSync(file, '{"agents": [');
  const error = await t.throwsAsync(startEmbeddedCluster({ agents: 1, port: 0, workDir, logger: pino({ level: 'error' }) }), { instanceOf: RegistryFileError });
  t.true(error?.message.startsWith(`invalid registry file '${file}': not valid JSON`), error?.message);
});
