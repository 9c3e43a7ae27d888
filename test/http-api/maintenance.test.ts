import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../actors/agent/agent.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { accept, acknowledge, schedulerCall, startCluster, subscribeFramework } from './support.ts';

resetFiltersAfterEach(test);

/**
 * Maintenance primitives end to end, the real master and a real agent of the embedded cluster
 * (hostname and IP 127.0.0.1) and a framework on the v1 scheduler HTTP API: a schedule makes the
 * agent's offers carry the unavailability and sends the framework an INVERSE_OFFERS event, which
 * it accepts (ACCEPT_INVERSE_OFFERS); the machine going DOWN shuts the agent down and its task
 * is TASK_LOST; once UP a new agent on the machine registers and is offered plainly.
 */
test.serial('maintenance - schedule, INVERSE_OFFERS and ACCEPT_INVERSE_OFFERS over the scheduler HTTP API, machine DOWN (the agent shuts down, TASK_LOST) and UP (an agent registers again)', async (t) => {
  const cluster = await startCluster(t, { agents: 1 });
  const { port } = cluster;
  const machine = { hostname: '127.0.0.1', ip: '127.0.0.1' };
  const unavailability = { start: { nanoseconds: 1_900_000_000 * 1e9 }, duration: { nanoseconds: 3_600 * 1e9 } };
  const status = async () => (await http(port, 'GET', '/master/maintenance/status')).json();

  const { stream, frameworkId } = await subscribeFramework(port);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  const agentId = offer.agent_id.value as string;
  t.is(offer.unavailability, undefined);
  t.is((await schedulerCall(port, stream, accept(frameworkId, offer, [{ id: 'long', command: 'exec sleep 600', cpus: 1, mem: 64 }]))).status, 202);
  for (;;) {
    const update = (await stream.next('UPDATE', 20_000)).update.status;
    await schedulerCall(port, stream, acknowledge(frameworkId, update));
    if (update.state === 'TASK_RUNNING') break;
  }

  const posted = await http(port, 'POST', '/master/maintenance/schedule', { windows: [{ machine_ids: [machine], unavailability }] });
  t.is(posted.status, 200, posted.body);
  const inverse = (await stream.next('INVERSE_OFFERS', 20_000)).inverse_offers.inverse_offers[0];
  t.like(inverse, { framework_id: { value: frameworkId }, agent_id: { value: agentId }, unavailability, url: { scheme: 'http', address: { hostname: '127.0.0.1', ip: '127.0.0.1', port } } });
  const draining = (await stream.next('OFFERS', 20_000)).offers.offers[0];
  t.is(draining.agent_id.value, agentId);
  t.deepEqual(draining.unavailability, unavailability);

  const answered = await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'ACCEPT_INVERSE_OFFERS', accept_inverse_offers: { inverse_offer_ids: [inverse.id], filters: { refuse_seconds: 3600 } } });
  t.is(answered.status, 202);
  await cluster.runtime.settle();
  t.like(await status(), { draining_machines: [{ id: machine, statuses: [{ status: 'ACCEPT', framework_id: { value: frameworkId } }] }] });
  const malformed = await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'DECLINE_INVERSE_OFFERS', decline_inverse_offers: { inverse_offer_ids: [{ id: 1 }] } });
  t.is(malformed.status, 400);
  t.regex(malformed.body, /'decline_inverse_offers\.inverse_offer_ids\[0\]\.value' is required/);

  const agentGone = cluster.runtime.wait(cluster.agents[0]!.self);
  const down = await http(port, 'POST', '/master/machine/down', [machine]);
  t.deepEqual([down.status, down.body], [200, '']);
  const lost = (await stream.next('UPDATE', 20_000)).update.status;
  t.like(lost, { task_id: { value: 'long' }, state: 'TASK_LOST', reason: 'REASON_AGENT_REMOVED' });
  await agentGone;
  t.deepEqual(await status(), { down_machines: [machine] });

  t.is((await http(port, 'POST', '/master/machine/up', [machine])).status, 200);
  t.deepEqual(await status(), {});
  const workDir = mkdtempSync(join(tmpdir(), 'mesos-ts-maintenance-agent-'));
  t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  const registered = futureMessage('SlaveRegisteredMessage');
  const agent = Agent.start(cluster.runtime, { master: String(cluster.master.self), workDir, resources: 'cpus:2;mem:1024', hostname: '127.0.0.1', killExecutorsOnExit: true });
  await registered;
  t.not(agent.agentId, agentId, 'a new agent');
  for (;;) {
    const next = (await stream.next('OFFERS', 20_000)).offers.offers.find((o: { agent_id: { value: string } }) => o.agent_id.value === agent.agentId);
    if (next === undefined) continue;
    t.is(next.unavailability, undefined, 'the machine is UP: plain offers');
    break;
  }
  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' })).status, 202);
  await stream.ended;
});
