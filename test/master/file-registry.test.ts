import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRegistry, RegistryFileError, type RegistryAgent } from '../../actors/master/registry.ts';
import { Resources } from '../../src/mesos/resources.ts';

/**
 * `FileRegistry`, the registry of `mesos-ts dev --work_dir`: what one instance writes, another
 * on the same file recovers; every write is on disk when the call returns; a file that is not a
 * registry is an error naming it, never an empty registry.
 */

function tempFile(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-file-registry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'master', 'registry.json');
}

function agent(id: string, state: RegistryAgent['state'], time: number): RegistryAgent {
  return { info: { id: { value: id }, hostname: `host-${id}`, resources: Resources.parse('cpus:2;mem:1024').toJSON() }, state, time };
}

test('file registry - a second instance on the file recovers agents, removals, weights, quotas and deactivations', (t) => {
  const file = tempFile(t);
  const first = new FileRegistry(file);
  t.deepEqual(first.recover(), [], 'no file yet: an empty registry');
  t.false(existsSync(file), 'reading creates nothing');

  // Every write returns nothing (the master continues at once), and is in the file already.
  t.is(first.update(agent('m-S0', 'admitted', 1)), undefined);
  t.is(new FileRegistry(file).recover().length, 1, 'the admission is on disk when the call returns');
  first.update(agent('m-S1', 'admitted', 2));
  first.update(agent('m-S2', 'admitted', 3));
  first.update(agent('m-S3', 'admitted', 4));
  first.update(agent('m-S1', 'unreachable', 5));
  first.update(agent('m-S2', 'gone', 6));
  first.remove('m-S3');
  first.updateWeights([{ role: 'eng', weight: 2 }, { role: 'ads', weight: 0.5 }]);
  first.updateWeights([{ role: 'eng', weight: 3 }]);
  first.updateQuotas([{ role: 'eng', guarantees: { cpus: 1.5, mem: 256 }, limits: { cpus: 4, gpus: 0 } }, { role: 'ads', guarantees: { cpus: 1 } }]);
  first.updateQuotas([{ role: 'ads', guarantees: {} }]);
  first.updateDeactivated('m-S0', true);
  first.updateDeactivated('m-S1', true);
  first.updateDeactivated('m-S1', false);

  const second = new FileRegistry(file);
  t.deepEqual(
    second.recover().sort((a, b) => a.time - b.time),
    [agent('m-S0', 'admitted', 1), agent('m-S1', 'unreachable', 5), agent('m-S2', 'gone', 6)],
  );
  t.deepEqual(second.recoverSettings(), {
    weights: [{ role: 'eng', weight: 3 }, { role: 'ads', weight: 0.5 }],
    quotas: [{ role: 'eng', guarantees: { cpus: 1.5, mem: 256 }, limits: { cpus: 4, gpus: 0 } }],
    deactivatedAgents: ['m-S0'],
    drainInfos: [],
  });
  t.deepEqual(second.recoverSettings(), first.recoverSettings());
  t.is(second.describe(), `file '${file}'`);
  t.false(existsSync(`${file}.tmp`), 'the temporary file was renamed over the file');
  // A plain JSON document an operator can read.
  t.like(JSON.parse(readFileSync(file, 'utf8')), { weights: { eng: 3, ads: 0.5 }, quotas: { eng: { guarantees: { cpus: 1.5, mem: 256 }, limits: { cpus: 4, gpus: 0 } } }, deactivatedAgents: ['m-S0'] });

  // The second writes on from what it read.
  second.remove('m-S2');
  second.updateDeactivated('m-S0', false);
  const third = new FileRegistry(file);
  t.deepEqual(third.recover().map((a) => a.info.id.value).sort(), ['m-S0', 'm-S1']);
  t.deepEqual(third.recoverSettings().deactivatedAgents, []);
});

test('file registry - a file that is not a registry is an error naming the file and what is wrong', (t) => {
  const file = tempFile(t);
  mkdirSync(join(file, '..'), { recursive: true });
  const cases: [string, RegExp][] = [
    ['{"agents": [', /not valid JSON/],
    ['', /not valid JSON/],
    ['[]', /must be a JSON object with agents, weights, quotas, deactivatedAgents and \(optionally\) drainInfos/],
    ['{"agents": [], "weights": {}, "quotas": {}}', /'deactivatedAgents' is missing/],
    ['{"agents": {}, "weights": {}, "quotas": {}, "deactivatedAgents": []}', /'agents' must be an array/],
    [JSON.stringify({ agents: [agent('m-S0', 'admitted', 1), { ...agent('m-S1', 'admitted', 1), state: 'lost' }], weights: {}, quotas: {}, deactivatedAgents: [] }), /agents\[1\]: registry entry 'm-S1': state 'lost' must be one of/],
    ['{"agents": [], "weights": {"eng": -1}, "quotas": {}, "deactivatedAgents": []}', /weight of role 'eng' must be a positive number, got -1/],
    ['{"agents": [], "weights": {}, "quotas": {"eng": {"cpus": "x"}}, "deactivatedAgents": []}', /guarantee 'cpus' of role 'eng' must be a non-negative number/],
    ['{"agents": [], "weights": {}, "quotas": {"eng": {"guarantees": {}, "limits": {"cpus": -1}}}, "deactivatedAgents": []}', /limit 'cpus' of role 'eng' must be a non-negative number, got -1/],
    ['{"agents": [], "weights": {}, "quotas": {"eng": {"guarantees": {"cpus": 1}, "limits": [2]}}, "deactivatedAgents": []}', /limits of role 'eng' must be a JSON object of quantities/],
    ['{"agents": [], "weights": {}, "quotas": {}, "deactivatedAgents": [1]}', /'deactivatedAgents' must be an array of agent ids/],
    ['{"agents": [], "weights": {}, "quotas": {}, "deactivatedAgents": [], "drainInfos": []}', /'drainInfos' must be a JSON object of drain infos by agent id/],
    ['{"agents": [], "weights": {}, "quotas": {}, "deactivatedAgents": [], "drainInfos": {"m-S0": {"state": "DRAINING", "config": {}}, "m-S1": {"state": "DONE", "config": {}}}}', /drainInfos: drain info of agent 'm-S1': state "DONE" must be one of DRAINING, DRAINED/],
    ['{"agents": [], "weights": {}, "quotas": {}, "deactivatedAgents": [], "drainInfos": {"m-S0": {"state": "DRAINING"}}}', /drain info of agent 'm-S0': config must be a JSON object/],
    ['{"agents": [], "weights": {}, "quotas": {}, "deactivatedAgents": [], "drainInfos": {"m-S0": {"state": "DRAINING", "config": {"max_grace_period": {"nanoseconds": -1}}}}}', /drain info of agent 'm-S0': config.max_grace_period.nanoseconds must be a non-negative integer, got -1/],
    ['{"agents": [], "weights": {}, "quotas": {}, "deactivatedAgents": [], "drainInfos": {"m-S0": {"state": "DRAINED", "config": {"mark_gone": "yes"}}}}', /drain info of agent 'm-S0': config.mark_gone must be a boolean, got "yes"/],
  ];
  for (const [content, reason] of cases) {
    writeFileSync(file, content);
    const error = t.throws(() => new FileRegistry(file), { instanceOf: RegistryFileError }, content);
    t.true(error?.message.startsWith(`invalid registry file '${file}': `), error?.message);
    t.regex(error?.message ?? '', reason);
  }
  // A well-formed file with nothing in it is an empty registry.
  writeFileSync(file, '{"agents": [], "weights": {}, "quotas": {}, "deactivatedAgents": []}');
  t.deepEqual(new FileRegistry(file).recover(), []);
});

test('file registry - quota limits are kept with the guarantees; a file from before limits (guarantees by name) reads as guarantees without limits', (t) => {
  const file = tempFile(t);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify({ agents: [], weights: {}, quotas: { eng: { cpus: 2, mem: 512 } }, deactivatedAgents: [] }));
  const first = new FileRegistry(file);
  t.deepEqual(first.recoverSettings().quotas, [{ role: 'eng', guarantees: { cpus: 2, mem: 512 }, limits: {} }]);

  // A limit alone is a quota; a limit of 0 is kept (none of that resource); neither removes it.
  first.updateQuotas([{ role: 'ads', guarantees: {}, limits: { cpus: 3, gpus: 0 } }]);
  t.deepEqual(new FileRegistry(file).recoverSettings().quotas, [
    { role: 'eng', guarantees: { cpus: 2, mem: 512 }, limits: {} },
    { role: 'ads', guarantees: {}, limits: { cpus: 3, gpus: 0 } },
  ]);
  t.like(JSON.parse(readFileSync(file, 'utf8')), { quotas: { eng: { guarantees: { cpus: 2, mem: 512 }, limits: {} }, ads: { guarantees: {}, limits: { cpus: 3, gpus: 0 } } } });
  first.updateQuotas([{ role: 'ads', guarantees: {}, limits: {} }]);
  t.deepEqual(new FileRegistry(file).recoverSettings().quotas.map((q) => q.role), ['eng']);
});

test('file registry - a write that fails is a rejected promise naming the file, and changes nothing', async (t) => {
  const file = tempFile(t);
  const registry = new FileRegistry(file);
  registry.updateWeights([{ role: 'eng', weight: 2 }]);
  // The temporary file cannot be written (a directory is in its place), even by root.
  mkdirSync(`${file}.tmp`);
  const failed = registry.updateWeights([{ role: 'eng', weight: 4 }]);
  t.true(failed instanceof Promise);
  await t.throwsAsync(failed as Promise<void>, { instanceOf: RegistryFileError, message: new RegExp(`^cannot write registry file '${file}'`) });
  t.deepEqual(registry.recoverSettings().weights, [{ role: 'eng', weight: 2 }], 'what failed to be written is not recovered');
  t.deepEqual(new FileRegistry(file).recoverSettings().weights, [{ role: 'eng', weight: 2 }]);
  rmSync(`${file}.tmp`, { recursive: true });
  t.is(registry.updateWeights([{ role: 'eng', weight: 4 }]), undefined, 'the next write goes');
  t.deepEqual(new FileRegistry(file).recoverSettings().weights, [{ role: 'eng', weight: 4 }]);
});

test('file registry - drain infos written by one instance are recovered by another; a file from before drains (no drainInfos) reads as none', (t) => {
  const file = tempFile(t);
  mkdirSync(join(file, '..'), { recursive: true });
  // What a registry file held before drains were kept.
  writeFileSync(file, JSON.stringify({ agents: [agent('m-S0', 'admitted', 1)], weights: {}, quotas: {}, deactivatedAgents: ['m-S0'] }));
  const first = new FileRegistry(file);
  t.deepEqual(first.recoverSettings().drainInfos, []);
  t.deepEqual(first.recoverSettings().deactivatedAgents, ['m-S0']);

  const draining = { state: 'DRAINING', config: { max_grace_period: { nanoseconds: 5e9 }, mark_gone: true } } as const;
  t.is(first.updateDrain('m-S0', draining), undefined, 'on disk when the call returns');
  first.updateDrain('m-S1', { state: 'DRAINING', config: { mark_gone: false } });
  first.updateDrain('m-S1', { state: 'DRAINED', config: { mark_gone: false } });
  first.updateDrain('m-S2', { state: 'DRAINED', config: {} });
  first.updateDrain('m-S2', undefined);

  const second = new FileRegistry(file);
  t.deepEqual(second.recoverSettings().drainInfos, [
    { agentId: 'm-S0', drainInfo: draining },
    { agentId: 'm-S1', drainInfo: { state: 'DRAINED', config: { mark_gone: false } } },
  ]);
  t.deepEqual(second.recoverSettings(), first.recoverSettings());
  t.like(JSON.parse(readFileSync(file, 'utf8')), { drainInfos: { 'm-S0': draining, 'm-S1': { state: 'DRAINED' } } });
});
