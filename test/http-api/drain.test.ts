import test from 'ava';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { accept, acknowledge, schedulerCall, startCluster, subscribeFramework } from './support.ts';

resetFiltersAfterEach(test);

/**
 * Mesos 1.9's automatic agent draining end to end, the real master and a real agent of the
 * embedded cluster: DRAIN_AGENT kills the agent's task (REASON_AGENT_DRAINING), the framework
 * acknowledges its end, the master marks the agent DRAINED; REACTIVATE_AGENT brings it back.
 */
test.serial('drain - DRAIN_AGENT through the v1 operator API: the running task is killed with REASON_AGENT_DRAINING, the agent becomes DRAINED, REACTIVATE_AGENT offers it again', async (t) => {
  const cluster = await startCluster(t, { agents: 1 });
  const { port } = cluster;
  const operator = (body: object) => http(port, 'POST', '/api/v1', body, { headers: { 'content-type': 'application/json' } });
  const drainInfo = async (agentId: string) => {
    const agents = (await operator({ type: 'GET_AGENTS' })).json().get_agents.agents as { agent_info: { id: { value: string } }; deactivated?: boolean; drain_info?: { state: string } }[];
    return agents.find((a) => a.agent_info.id.value === agentId);
  };

  const { stream, frameworkId } = await subscribeFramework(port);
  const offer = (await stream.next('OFFERS')).offers.offers[0];
  const agentId = offer.agent_id.value as string;
  t.is((await schedulerCall(port, stream, accept(frameworkId, offer, [{ id: 'long', command: 'exec sleep 600', cpus: 1, mem: 64 }]))).status, 202);
  for (;;) {
    const status = (await stream.next('UPDATE', 20_000)).update.status;
    await schedulerCall(port, stream, acknowledge(frameworkId, status));
    if (status.state === 'TASK_RUNNING') break;
  }

  const drained = await operator({ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: agentId }, max_grace_period: { nanoseconds: 2e9 } } });
  t.is(drained.status, 200, drained.body);
  t.is((await drainInfo(agentId))?.drain_info?.state, 'DRAINING');
  const killed = (await stream.next('UPDATE', 20_000)).update.status;
  t.is(killed.state, 'TASK_KILLED');
  t.is(killed.reason, 'REASON_AGENT_DRAINING');
  await schedulerCall(port, stream, acknowledge(frameworkId, killed));
  await cluster.runtime.settle();
  const agent = await drainInfo(agentId);
  t.is(agent?.drain_info?.state, 'DRAINED', 'its task ended and was acknowledged');
  t.true(agent?.deactivated);

  t.is((await operator({ type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agentId } } })).status, 200);
  t.is((await drainInfo(agentId))?.drain_info, undefined);
  t.is((await stream.next('OFFERS', 20_000)).offers.offers[0].agent_id.value, agentId, 'offered again');
  t.is((await schedulerCall(port, stream, { framework_id: { value: frameworkId }, type: 'TEARDOWN' })).status, 202);
  await stream.ended;
});
