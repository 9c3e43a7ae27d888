import anyTest, { type TestFn } from 'ava';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { useLocalBus, type Bus } from '../helpers/worlds.ts';

/**
 * The v1 operator API's refusals, in the order and with the codes of Mesos's
 * `Master::Http::api`: 405 not POST, 400 no `Content-Type`, 415 not JSON, 400 a body that is
 * not a valid `master::Call` (naming the field), 406 an `Accept` without JSON, 501 a call type
 * this master does not implement, 503 when no leader is known. Real HTTP on 127.0.0.1.
 */
const test = anyTest as TestFn<{ bus: Bus }>;
resetFiltersAfterEach(test);
useLocalBus(test);

async function start(t: { teardown(fn: () => unknown): void; context: { bus: Bus } }): Promise<{ cluster: TestCluster; port: number }> {
  const cluster = await startTestCluster(t, t.context.bus, { http: { port: 0 } });
  await cluster.addAgent('cpus:1;mem:512');
  return { cluster, port: cluster.runtime.httpAddress!.port };
}

test.serial('operator API - not POST is 405 with Allow: POST', async (t) => {
  const { port } = await start(t);
  const reply = await http(port, 'GET', '/api/v1');
  t.is(reply.status, 405);
  t.is(reply.headers.allow, 'POST');
  t.is(reply.body, "Expecting one of { 'POST' }, but received 'GET'");
});

test.serial('operator API - no Content-Type is 400; protobuf or text is 415', async (t) => {
  const { port } = await start(t);
  const none = await http(port, 'POST', '/api/v1');
  t.deepEqual([none.status, none.body], [400, "Expecting 'Content-Type' to be present"]);
  const protobuf = await http(port, 'POST', '/api/v1', '{"type":"GET_HEALTH"}', { headers: { 'Content-Type': 'application/x-protobuf' } });
  t.is(protobuf.status, 415);
  t.regex(protobuf.body, /JSON only, not application\/x-protobuf/);
  const text = await http(port, 'POST', '/api/v1', '{"type":"GET_HEALTH"}', { headers: { 'Content-Type': 'text/plain' } });
  t.deepEqual([text.status, text.body], [415, "Expecting 'Content-Type' of application/json, got 'text/plain'"]);
  const charset = await http(port, 'POST', '/api/v1', '{"type":"GET_HEALTH"}', { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  t.is(charset.status, 200, 'parameters of the media type are fine');
});

test.serial('operator API - a malformed body, a missing or unknown type, a bad field is 400 naming it', async (t) => {
  const { port } = await start(t);
  const cases: [string, RegExp][] = [
    ['', /^Expecting a JSON body, got an empty body$/],
    ['{"type": ', /^Failed to parse body into JSON/],
    ['[]', /^Failed to validate master::Call: /],
    ['{}', /^Failed to validate master::Call: .*'type'/],
    ['{"type": "GET_EVERYTHING"}', /^Failed to validate master::Call: .*'type'.*GET_EVERYTHING/],
    ['{"type": 9}', /^Failed to validate master::Call: .*'type'/],
    ['{"type": "GET_METRICS", "get_metrics": {"timeout": {"nanoseconds": 1.5}}}', /^Failed to validate master::Call: .*'get_metrics\.timeout\.nanoseconds'/],
  ];
  for (const [body, expected] of cases) {
    const reply = await http(port, 'POST', '/api/v1', body, { headers: { 'Content-Type': 'application/json' } });
    t.is(reply.status, 400, body);
    t.regex(reply.body, expected, body);
  }
});

test.serial('operator API - an Accept that rules out JSON is 406; */* and application/json are fine', async (t) => {
  const { port } = await start(t);
  const protobuf = await http(port, 'POST', '/api/v1', { type: 'GET_HEALTH' }, { headers: { Accept: 'application/x-protobuf' } });
  t.is(protobuf.status, 406);
  t.regex(protobuf.body, /Expecting 'Accept' to allow 'application\/json'/);
  const refused = await http(port, 'POST', '/api/v1', { type: 'GET_HEALTH' }, { headers: { Accept: 'application/json;q=0' } });
  t.is(refused.status, 406);
  for (const accept of ['*/*', 'application/json', 'application/x-protobuf, application/json;q=0.5']) {
    t.is((await http(port, 'POST', '/api/v1', { type: 'GET_HEALTH' }, { headers: { Accept: accept } })).status, 200, accept);
  }
});

test.serial('operator API - mutations and calls not implemented are 501 naming the call type, and change nothing', async (t) => {
  const { cluster, port } = await start(t);
  const agentId = [...cluster.master.agents.keys()][0]!;
  const grow = {
    type: 'GROW_VOLUME',
    grow_volume: { agent_id: { value: agentId }, volume: { name: 'disk', type: 'SCALAR', scalar: { value: 1 }, reservations: [{ type: 'DYNAMIC', role: 'web' }] }, addition: { name: 'disk', type: 'SCALAR', scalar: { value: 1 } } },
  };
  const reply = await http(port, 'POST', '/api/v1', grow);
  t.deepEqual([reply.status, reply.body], [501, "Call type 'GROW_VOLUME' is not implemented by this master"]);
  t.deepEqual(cluster.master.agents.get(agentId)!.total.reserved('web').toJSON(), []);

  for (const type of ['GET_OPERATIONS', 'LIST_FILES', 'READ_FILE', 'SET_LOGGING_LEVEL']) {
    const r = await http(port, 'POST', '/api/v1', { type });
    t.deepEqual([r.status, r.body], [501, `Call type '${type}' is not implemented by this master`], type);
  }
});

test.serial('operator API - a master that is not leading does not answer: 503 No leader elected', async (t) => {
  const { cluster, port } = await start(t);
  t.is((await http(port, 'POST', '/api/v1', { type: 'GET_STATE' })).status, 200);
  cluster.master.machine.send({ type: 'LOST_LEADERSHIP' });
  for (const path of ['/api/v1', '/master/api/v1']) {
    const reply = await http(port, 'POST', path, { type: 'GET_STATE' });
    t.deepEqual([reply.status, reply.body], [503, 'No leader elected'], path);
  }
});
