import { badRequest, notFound } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import type { ExecutorCall } from '../../src/mesos/v1/executor.ts';
import { Process } from '../../src/process/process.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import { Agent } from './agent.ts';
import { EXECUTOR_API_PATH, executorApi, readExecutorRequest } from './executor-api.ts';
import { agentApprovers } from './authorization.ts';
import { agentRouteRealm, state } from './http.ts';
import { AGENT_API_PATH, agentApi } from './operator-api.ts';

/** The id of the process that fronts a runtime's agents: `/agent/state`, `/agent/api/v1`, and `/api/v1/executor` as a delegate. */
export const AGENT_ENDPOINTS_ID = 'agent';

/**
 * The agent endpoints of a runtime, whatever number of agents it runs (an agent host runs one;
 * the embedded cluster several, which share its one HTTP port):
 *
 * 1. `POST /api/v1/executor` (served as an HTTP delegate, `delegate: [..., 'agent']`): the call
 *    goes to the agent that runs the executor it names, where it is answered as at
 *    `/slave(N)/api/v1/executor`. That is what an executor reaches at `MESOS_AGENT_ENDPOINT`
 *    (an `ip:port`, no path), as in Mesos where each agent has a port of its own. Agents of one
 *    runtime are told apart by the call's `framework_id` and `executor_id`; when several run an
 *    executor of that id for that framework, by the state of the executor (a SUBSCRIBE goes to
 *    one still waiting for its subscription) and for an UPDATE by its task, then in the order
 *    the agents started.
 *    An executor that must be exact in such a runtime calls `/slave(N)/api/v1/executor`.
 * 2. `/agent/state`: the agent's `/state` when the runtime runs exactly one agent (as an agent's
 *    own port answers `/state` in Mesos); with several it names their `/slave(N)/state`.
 * 3. `/agent/api/v1`, the agent's v1 operator API (`operator-api.ts`), likewise: the one agent's,
 *    or `404` naming each `/slave(N)/api/v1`. As a delegate it is the top-level `/api/v1` of an
 *    agent host (`mesos-ts agent`); in the embedded cluster the master, the first delegate, keeps
 *    the top-level `/api/v1` for its own operator API, as each has a port of its own in Mesos.
 *
 * Each request is answered in the chosen agent's mailbox. Which agent runs what is read
 * between mailboxes (the agents are in this runtime); the agent checks again.
 */
export class AgentEndpointsProcess extends Process {
  constructor() {
    super(AGENT_ENDPOINTS_ID);
    this.route(EXECUTOR_API_PATH, (request) => this.#executorApi(request), agentRouteRealm(EXECUTOR_API_PATH));
    this.route('/state', (request) => this.#state(request), agentRouteRealm('/state'));
    this.route('/state.json', (request) => this.#state(request), agentRouteRealm('/state.json'));
    this.route(AGENT_API_PATH, (request) => this.#agentApi(request), agentRouteRealm(AGENT_API_PATH));
  }

  /** Spawns the endpoints of `runtime` unless they run already; returns their process. */
  static ensure(runtime: Runtime): AgentEndpointsProcess {
    const existing = runtime.process(AGENT_ENDPOINTS_ID);
    if (existing instanceof AgentEndpointsProcess) return existing;
    const endpoints = new AgentEndpointsProcess();
    runtime.spawn(endpoints);
    return endpoints;
  }

  /** The agents running in this runtime, in the order they were spawned. */
  agents(): Agent[] {
    return agentsIn(this.runtime);
  }

  #executorApi(request: HttpRequest): HttpResponse | Promise<HttpResponse> {
    const agents = this.agents();
    if (agents.length === 1) return this.runtime.dispatch(agents[0]!.self, () => executorApi(agents[0]!, request));
    const read = readExecutorRequest(request);
    if ('response' in read) return read.response;
    const agent = agentFor(agents, read.call);
    if (agent === undefined) {
      const known = agents.some((a) => a.frameworks.has(read.call.framework_id.value));
      return badRequest(known ? 'Executor cannot be found' : 'Framework cannot be found');
    }
    return this.runtime.dispatch(agent.self, () => executorApi(agent, request));
  }

  #state(request: HttpRequest): HttpResponse | Promise<HttpResponse> {
    const agents = this.agents();
    if (agents.length === 1) {
      const agent = agents[0]!;
      return this.runtime.dispatch(agent.self, () => ({ status: 200, body: state(agent, agentApprovers(agent, request.principal)) }));
    }
    return notOneAgent(agents, '/state');
  }

  #agentApi(request: HttpRequest): HttpResponse | Promise<HttpResponse> {
    const agents = this.agents();
    if (agents.length === 1) {
      const agent = agents[0]!;
      return this.runtime.dispatch(agent.self, () => agentApi(agent, request));
    }
    return notOneAgent(agents, AGENT_API_PATH);
  }
}

/** `404` for a path served only when one agent runs here: none does, or it names each agent's `path`. */
function notOneAgent(agents: readonly Agent[], path: string): HttpResponse {
  const where = agents.map((a) => `/${a.id}${path}`).join(', ');
  return notFound(agents.length === 0 ? 'No agent runs here' : `${agents.length} agents run here: ask ${where}`);
}

/** The agents running in `runtime`, in the order they were spawned. */
export function agentsIn(runtime: Runtime): Agent[] {
  const agents: Agent[] = [];
  for (const id of runtime.processIds()) {
    const process = runtime.process(id);
    if (process instanceof Agent) agents.push(process);
  }
  return agents;
}

/** The agent of `agents` that runs the executor `call` names, as the class comment says. */
export function agentFor(agents: readonly Agent[], call: ExecutorCall): Agent | undefined {
  const candidates: { agent: Agent; order: number }[] = [];
  for (const agent of agents) {
    const executor = agent.frameworks.get(call.framework_id.value)?.executors.get(call.executor_id.value);
    if (executor === undefined) continue;
    let order = 2;
    if (call.type === 'SUBSCRIBE' && executor.state === 'REGISTERING') order = 0;
    else if (call.type === 'UPDATE' && executor.hasTask(call.update.status.task_id.value)) order = 0;
    else if (executor.state === 'RUNNING') order = 1;
    candidates.push({ agent, order });
  }
  // A stable sort keeps spawn order among equals.
  candidates.sort((a, b) => a.order - b.order);
  return candidates[0]?.agent;
}
