import test from 'ava';
import { ALLOCATION_INTERVAL_MS } from '../../actors/allocator/constants.ts';
import { runOffers, waitFor } from '../../bench/offers.ts';
import { runScale } from '../../bench/scale.ts';
import type { OffersScenario, ScaleScenario } from '../../bench/scenarios.ts';
import { startNatsServer } from '../helpers/nats-server.ts';

/**
 * A tiny run of the `offers` and `scale` suites on the local bus, so that `npm test` notices a
 * suite that no longer runs. The suites' own checks (offers received, every task RUNNING then
 * FINISHED, every decline counted by the master, every agent registered) throw on failure.
 */

const micro: Omit<OffersScenario, 'name' | 'mode'> = {
  agents: 3,
  frameworks: 2,
  roles: 1,
  refuseSeconds: 0.01,
  agentResources: 'cpus:2;mem:1024',
  warmupSeconds: 0.05,
  measureSeconds: 0.2,
  registrationBackoffMs: 10,
  agentsPerRuntime: 2,
};

test('bench smoke - offers, accept: tasks launched, RUNNING and FINISHED through the master', async (t) => {
  const r = await runOffers({ ...micro, name: 'smoke accept', mode: 'accept' }, 'local', micro.measureSeconds);
  t.true(r.offers > 0);
  t.true(r.launched > 0);
  t.is(r.finished, r.launched);
  t.true(r.latenciesMs.length > 0);
  // One process: the whole cluster's CPU is this process's; no master process apart.
  t.is(r.masterCpuMs, undefined);
});

test('bench smoke - offers, local-json: every envelope crosses as JSON text and the run still checks out', async (t) => {
  const r = await runOffers({ ...micro, name: 'smoke json', mode: 'accept' }, 'local-json', micro.measureSeconds);
  t.true(r.launched > 0);
  t.is(r.finished, r.launched);
  t.true(r.busEnvelopes / r.offers > 8, 'an accept is some ten envelopes between runtimes');
});

test('bench smoke - offers, decline: every decline reaches the master', async (t) => {
  // With 2 frameworks and 3 agents every agent is soon filtered for both, so the window spans a
  // batch allocation (`ALLOCATION_INTERVAL_MS`), which offers them again.
  const r = await runOffers({ ...micro, name: 'smoke decline', mode: 'decline' }, 'local', (ALLOCATION_INTERVAL_MS * 1.2) / 1000);
  t.true(r.offers > 0);
  t.true(r.declined >= r.offers);
  t.is(r.launched, 0);
});

test('bench smoke - offers, nats-split: the master in its own OS process counts every launch', async (t) => {
  const nats = await startNatsServer();
  t.teardown(() => nats.stop());
  // runOffers asks the child master's probe for tasks_launched and throws if it differs.
  const r = await runOffers({ ...micro, name: 'smoke split', mode: 'accept' }, 'nats-split', micro.measureSeconds, nats.url);
  t.true(r.launched > 0);
  t.is(r.finished, r.launched);
  // The master's own envelopes (OFFERS, RunTask, updates) are counted from the child's probe.
  t.true(r.busEnvelopes / r.offers > 8);
  // The master's CPU is read from its own process, apart from this one's.
  t.true(r.masterCpuMs !== undefined && r.masterCpuMs > 0);
  t.true(r.cpuMs > 0);
});

test('bench smoke - scale: agents register, the master counts them, a framework launches', async (t) => {
  const s: ScaleScenario = { name: 'smoke', agents: 20, agentsPerRuntime: 10, agentResources: 'cpus:2;mem:1024', launches: 3, registrationBackoffMs: 10 };
  const r = await runScale(s, 'local');
  t.is(r.registered.agents, 20);
  t.is(r.finished, 3);
  t.is(r.latenciesMs.length, 3);
  t.is(r.afterLaunches.frameworks, 1);
});

test('bench waitFor - a message given as a function says the counts when it gives up, not those it began with', async (t) => {
  let checks = 0;
  const error = await t.throwsAsync(
    waitFor(
      () => `checks (${checks} so far)`,
      () => ++checks < 0,
      20,
    ),
  );
  t.regex(error!.message, /^timed out after 20 ms waiting for checks \(([2-9]|\d\d+) so far\)$/);
});
