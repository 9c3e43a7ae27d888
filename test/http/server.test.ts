import test from 'ava';
import { Agent } from 'node:http';
import { pino } from 'pino';
import { jsonBody, ok } from '../../src/http/response.ts';
import { Process } from '../../src/process/process.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { HttpServer, routeFor } from '../../src/http/server.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';
import { http } from '../helpers/http.ts';

class Store extends Process {
  items: unknown[] = [];
  constructor() {
    super('store');
    this.install('add', (_from, body) => this.items.push(body));
    this.route('/items', (request) => {
      if (request.method === 'POST') {
        const body = jsonBody(request) as { name?: unknown };
        if (typeof body.name !== 'string') {
          return { status: 400, body: `Field 'name' must be a string, got ${JSON.stringify(body.name)}` };
        }
        this.items.push(body);
        return { status: 202 };
      }
      return ok({ items: this.items });
    });
  }
  override initialize(): void {
    this.counter('items_added').inc(3);
  }
}

async function start(t: { teardown(fn: () => unknown): void }, node: string, delegate?: string | string[]) {
  const runtime = await Runtime.start({
    node,
    logger: pino({ level: 'silent' }),
    transport: new LocalTransport(new LocalBus()),
    http: { port: 0, ...(delegate !== undefined ? { delegate } : {}) },
  });
  t.teardown(() => runtime.shutdown());
  runtime.spawn(new Store());
  return { runtime, port: runtime.httpAddress!.port };
}

test('http - routes are served at /<process-id>/<path> as JSON', async (t) => {
  const { port } = await start(t, 'http-a');
  const created = await http(port, 'POST', '/store/items', { name: 'x' });
  t.is(created.status, 202);
  t.is(created.body, '');
  const listed = await http(port, 'GET', '/store/items');
  t.is(listed.status, 200);
  t.is(listed.headers['content-type'], 'application/json');
  t.deepEqual(listed.json(), { items: [{ name: 'x' }] });
});

test('http - unknown routes and processes get 404', async (t) => {
  const { port } = await start(t, 'http-b');
  t.is((await http(port, 'GET', '/store/nope')).status, 404);
  t.is((await http(port, 'GET', '/nobody/items')).status, 404);
  t.is((await http(port, 'GET', '/')).status, 404);
});

test('http - a path naming no process goes to the delegate, whole (libprocess delegate)', async (t) => {
  const { port } = await start(t, 'http-g', 'store');
  await http(port, 'POST', '/store/items', { name: 'x' });
  const delegated = await http(port, 'GET', '/items');
  t.is(delegated.status, 200);
  t.deepEqual(delegated.json(), { items: [{ name: 'x' }] });
  t.is((await http(port, 'GET', '/metrics/snapshot')).status, 200, 'a process by that name still serves it');
  t.is((await http(port, 'GET', '/nope')).status, 404);
  const { port: plain } = await start(t, 'http-h');
  t.is((await http(plain, 'GET', '/items')).status, 404, 'no delegate, no fallback');
});

test('http - with a list of delegates, the first one with a route for the path serves it', async (t) => {
  const { runtime, port } = await start(t, 'http-i', ['store', 'other']);
  class Other extends Process {
    constructor() {
      super('other');
      this.route('/api/v1/other', () => ok({ served: 'other' }));
      this.route('/items', () => ok({ served: 'other' }));
    }
  }
  runtime.spawn(new Other());
  t.deepEqual((await http(port, 'GET', '/items')).json(), { items: [] }, 'the first delegate wins');
  t.deepEqual((await http(port, 'GET', '/api/v1/other')).json(), { served: 'other' });
  t.is((await http(port, 'GET', '/nope')).status, 404);
});

test('http - bad bodies get 400 with a reason; the server keeps serving and keeps what it had', async (t) => {
  const { port } = await start(t, 'http-c');
  await http(port, 'POST', '/store/items', { name: 'kept' });
  const notJson = await http(port, 'POST', '/store/items', '{"name": ');
  t.is(notJson.status, 400);
  t.regex(notJson.body, /Failed to parse body into JSON/);
  const empty = await http(port, 'POST', '/store/items', '');
  t.is(empty.status, 400);
  t.regex(empty.body, /empty body/);
  const wrong = await http(port, 'POST', '/store/items', { name: 5 });
  t.is(wrong.status, 400);
  t.is(wrong.body, "Field 'name' must be a string, got 5");
  t.deepEqual((await http(port, 'GET', '/store/items')).json(), { items: [{ name: 'kept' }] });
});

test('http - route handlers run in the mailbox, after messages already queued', async (t) => {
  const { runtime, port } = await start(t, 'http-d');
  const sender = new (class extends Process {
    constructor() {
      super('sender');
    }
  })();
  runtime.spawn(sender);
  for (let i = 0; i < 3; i++) sender.send('store@http-d', 'add', { i });
  t.deepEqual((await http(port, 'GET', '/store/items')).json(), { items: [{ i: 0 }, { i: 1 }, { i: 2 }] });
});

test('metrics - /metrics/snapshot in the Mesos shape and /metrics in Prometheus text', async (t) => {
  const { port } = await start(t, 'http-e');
  const snapshot = await http(port, 'GET', '/metrics/snapshot');
  t.is(snapshot.status, 200);
  const json = snapshot.json() as Record<string, unknown>;
  t.is(json['store/items_added'], 3);
  t.is(typeof json['runtime/processes'], 'number');
  t.true(Object.values(json).every((v) => typeof v === 'number'));
  const text = await http(port, 'GET', '/metrics');
  t.is(text.status, 200);
  t.regex(String(text.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  t.regex(text.body, /^# TYPE store_items_added counter\nstore_items_added 3$/m);
});

test('http - idle keep-alive connections are not closed by the server', async (t) => {
  const { runtime, port } = await start(t, 'http-f');
  // Node closes idle keep-alive sockets after 5 s by default; Mesos clients hold one for minutes.
  const server: HttpServer | undefined = runtime.httpServer;
  t.truthy(server);
  t.deepEqual(server!.settings, { keepAliveTimeout: 0, timeout: 0, requestTimeout: 0 });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const first = await http(port, 'GET', '/store/items', undefined, { agent });
  await new Promise((resolve) => setTimeout(resolve, 5_500)); // Wall-clock: outlast Node's default idle timeout.
  const second = await http(port, 'GET', '/store/items', undefined, { agent });
  t.is(second.status, 200);
  t.is(second.socketPort, first.socketPort, 'the same TCP connection served both requests');
});

test('routeFor - a path is served by its own route, else by the nearest <prefix>/* above it', (t) => {
  const routes = new Map([
    ['/quota', 'quota'],
    ['/quota/*', 'quota role'],
    ['/files/*', 'files'],
    ['/files/special', 'special'],
  ]);
  t.is(routeFor(routes, '/quota'), 'quota');
  t.is(routeFor(routes, '/quota/'), 'quota', 'a trailing slash is the route itself');
  t.is(routeFor(routes, '/quota/eng'), 'quota role');
  t.is(routeFor(routes, '/quota/eng/dev'), 'quota role', 'deeper paths too');
  t.is(routeFor(routes, '/files/special'), 'special', 'an exact route wins over a prefix');
  t.is(routeFor(routes, '/files/a/b'), 'files');
  t.is(routeFor(routes, '/weights/x'), undefined);
  t.is(routeFor(routes, '/'), undefined);
});
