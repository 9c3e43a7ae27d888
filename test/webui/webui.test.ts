import test from 'ava';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgentNode } from '../../actors/cluster/agent-node.ts';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../actors/cluster/embedded.ts';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { TaskStatus } from '../../src/mesos/v1/common.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { futureMessages, resetFiltersAfterEach } from '../helpers/filters.ts';
import { http } from '../helpers/http.ts';
import { launchingOnce, TestScheduler } from '../helpers/scheduler.ts';

resetFiltersAfterEach(test);

/**
 * The web UI the master serves at `/` (DESIGN.md §5), in a real headless Chromium against a
 * real embedded cluster (what `npm start` runs) with a real command task. The page reads
 * `/master/state` every two seconds; the tests wait for what it shows, never for time.
 */

/** A framework name that would run script if the page wrote names as HTML. */
const HOSTILE_NAME = `web <img src=x onerror="window.__xss=1"> & "ui"`;

async function clusterWithTask(t: import('ava').ExecutionContext): Promise<{ cluster: EmbeddedCluster; driver: SchedulerDriver; scheduler: TestScheduler; frameworkId: string; status: TaskStatus }> {
  const registered = futureMessages(2, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({ agents: 2, port: 0, resources: 'cpus:2;mem:1024;ports:[31000-31009]', logger: pino({ level: 'error' }) });
  t.teardown(() => cluster.stop());
  await registered;
  const scheduler = launchingOnce(
    (offer) => [
      {
        name: 'sleeper',
        task_id: { value: 'sleeper-1' },
        agent_id: offer.agent_id,
        resources: Resources.parse('cpus:1;mem:128').toJSON(),
        command: { value: 'echo hello-from-the-sandbox && exec sleep 600' },
        health_check: { type: 'COMMAND', command: { value: 'true' }, delay_seconds: 0, interval_seconds: 60, grace_period_seconds: 0 },
      },
    ],
    3600,
  );
  const driver = new SchedulerDriver(scheduler, { user: 'ui-test', name: HOSTILE_NAME }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  const [frameworkId] = await scheduler.next('registered');
  for (;;) {
    const [status] = await scheduler.next('statusUpdate');
    if (status.state === 'TASK_RUNNING') return { cluster, driver, scheduler, frameworkId: frameworkId.value, status };
    if (status.state !== 'TASK_STARTING') throw new Error(`the task went ${status.state}`);
  }
}

async function openPage(t: import('ava').ExecutionContext, url: string): Promise<{ browser: Browser; page: Page; errors: string[] }> {
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { browser, page, errors };
}

test.serial('webui - the overview, a framework and an agent, live, with names shown as text', async (t) => {
  const { cluster, driver, scheduler, frameworkId, status } = await clusterWithTask(t);
  const agentId = status.agent_id!.value;
  const { page, errors } = await openPage(t, `${cluster.url}/`);

  // Overview: the counts and the running task, as /master/state says.
  await page.locator('[data-card="agents-active"] .value', { hasText: '2' }).waitFor();
  await page.locator('[data-card="TASK_RUNNING"] .value', { hasText: '1' }).waitFor();
  const row = page.locator('tr[data-id="sleeper-1"]');
  await row.waitFor();
  t.regex(await row.innerText(), /sleeper\s+TASK_RUNNING/);
  // Its health check passed: the row says so once the page has the status.
  await page.locator('tr[data-id="sleeper-1"]', { hasText: 'healthy' }).waitFor();
  // The hostile name is text: no element was made of it and no script ran.
  t.true((await row.innerText()).includes(`<img src=x onerror="window.__xss=1"> & "ui"`));
  t.is(await page.locator('main img').count(), 0);
  t.is(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
  const resources = await page.locator('tr[data-id="cpus"]').innerText();
  t.regex(resources, /cpus\s+4\s+1\s+/, 'total 4 CPUs over two agents, 1 used by the task');

  // Roles: the framework's role with its allocation and DRF dominant share (1 of 4 CPUs).
  await page.getByRole('navigation').getByRole('link', { name: 'Roles' }).click();
  const role = page.locator('tr[data-id="*"]');
  await role.waitFor();
  t.regex(await role.innerText(), /^\*\s+1\s+1\s+1\s+128 MB\s+0 MB\s+0\s+25\.0%$/);
  // An operator guarantees role 'batch' some resources: the tab shows its quota.
  const quota = await http(cluster.runtime.httpAddress!.port, 'POST', '/api/v1', { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'batch', guarantees: { cpus: { value: 1 }, mem: { value: 512 } } }] } });
  t.is(quota.status, 200, quota.body);
  await page.locator('tr[data-id="batch"]', { hasText: 'cpus 1, mem 512 MB' }).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).click();

  // The framework's page, by its link in the task's row.
  await row.getByRole('link', { name: /^web / }).click();
  await page.locator('h1', { hasText: 'Framework web <img' }).waitFor();
  t.is(decodeURIComponent(new URL(page.url()).hash), `#/frameworks/${frameworkId}`);
  t.regex(await page.locator('main dl').innerText(), /User\s+ui-test/);
  await page.locator('tr[data-id="sleeper-1"]').waitFor();

  // The agents' list, then the agent the task runs on.
  await page.getByRole('navigation').getByRole('link', { name: 'Agents' }).click();
  await page.locator('tbody tr').nth(1).waitFor();
  t.is(await page.locator('tbody tr').count(), 2);
  // The other agent, with no task, is drained by the operator: its row says DRAINED.
  const idle = cluster.agents.find((a) => a.agentId !== agentId)!.agentId!;
  const drain = await http(cluster.runtime.httpAddress!.port, 'POST', '/api/v1', { type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: idle } } });
  t.is(drain.status, 200, drain.body);
  await page.locator(`tr[data-id="${idle}"]`, { hasText: 'DRAINED' }).waitFor();
  await page.locator(`tr[data-id="${agentId}"]`).getByRole('link', { name: agentId }).click();
  await page.locator('h1', { hasText: /^Agent 127.0.0.1 · slave\(\d\)$/ }).waitFor();
  const active = page.locator('tr[data-id="sleeper-1"]');
  await active.waitFor();

  // Its sandbox, through the agent's files API: the listing, then the task's stdout.
  await active.getByRole('link', { name: 'Sandbox' }).click();
  await page.locator('h1', { hasText: /^Sandbox on / }).waitFor();
  await page.locator('tr[data-id="stdout"]').waitFor();
  t.true(await page.locator('tr[data-id="stderr"]').isVisible());
  // The path above the listing: a link per directory, each to its own listing.
  const crumbs = page.locator('p.crumbs');
  t.regex(await crumbs.innerText(), /^slaves \/ \S+-S\d \/ frameworks \/ \S+ \/ executors \/ sleeper-1 \/ runs \/ latest$/);
  t.is(await crumbs.getByRole('link').count(), 8);
  await page.locator('tr[data-id="stdout"]').getByRole('link', { name: 'stdout' }).click();
  await page.locator('pre.file', { hasText: 'hello-from-the-sandbox' }).waitFor();
  await page.goBack();
  await page.goBack();
  await page.locator('tr[data-id="sleeper-1"]').waitFor();

  // A framework that holds what it is offered: its offers are listed, with their resources.
  const holder = new TestScheduler();
  const holding = new SchedulerDriver(holder, { user: 'ui-test', name: 'holder' }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => holding.abort());
  await holding.start();
  const [held] = await holder.next('resourceOffers');
  await page.getByRole('navigation').getByRole('link', { name: 'Offers' }).click();
  const offerRow = page.locator(`tr[data-id="${held[0]!.id.value}"]`);
  await offerRow.waitFor();
  t.regex(await offerRow.innerText(), /holder/);
  await page.goBack();
  await page.locator('tr[data-id="sleeper-1"]').waitFor();

  // Killed, the task moves to the agent's completed tasks without a reload.
  driver.killTask({ value: 'sleeper-1' });
  for (;;) {
    const [update] = await scheduler.next('statusUpdate');
    if (update.state === 'TASK_KILLED') break;
  }
  await page.locator('tr[data-id="sleeper-1"]', { hasText: 'TASK_KILLED' }).waitFor();
  t.is(await page.locator('tr[data-id="sleeper-1"]').count(), 1, 'shown once: no longer among the active tasks');
  t.deepEqual(errors, []);
});

test.serial('webui - a master that stops answering: the page says so and keeps what it showed', async (t) => {
  const registered = futureMessages(1, 'SlaveRegisteredMessage');
  const cluster = await startEmbeddedCluster({ agents: 1, port: 0, logger: pino({ level: 'error' }) });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : cluster.stop()));
  await registered;
  const { page } = await openPage(t, `${cluster.url}/#/agents`);
  await page.locator('tbody tr').first().waitFor();
  t.true(await page.locator('#error').isHidden());

  await cluster.stop();
  stopped = true;
  const banner = page.locator('#error');
  await banner.waitFor({ state: 'visible' });
  t.regex(await banner.innerText(), /Cannot read the master's state/);
  t.is(await page.locator('tbody tr').count(), 1, 'the last state read stays on the page');
});

test.serial('webui - with --authenticate_http_readonly the page is served, asks the browser for credentials, and with them shows the cluster', async (t) => {
  const { cluster } = await (async () => {
    const registered = futureMessages(1, 'SlaveRegisteredMessage');
    const c = await startEmbeddedCluster({
      agents: 1,
      port: 0,
      logger: pino({ level: 'error' }),
      httpAuthentication: { readonly: true, readwrite: true, frameworks: false, credentials: [{ principal: 'ops', secret: 's3cret' }] },
    });
    t.teardown(() => c.stop());
    await registered;
    return { cluster: c };
  })();
  const browser = await launchBrowser();
  t.teardown(() => browser.close());

  // Without credentials: the page loads (its files are open), but the state does not (the page's
  // own read is held by the browser's prompt for credentials; one that sends none is refused).
  const anonymous = await browser.newPage();
  const loaded = await anonymous.goto(`${cluster.url}/#/agents`);
  t.is(loaded?.status(), 200);
  const refused = await anonymous.evaluate(async () => {
    const r = await fetch('/master/state', { credentials: 'omit' });
    return { status: r.status, challenge: r.headers.get('www-authenticate') };
  });
  t.deepEqual(refused, { status: 401, challenge: 'Basic realm="mesos-master-readonly"' });
  t.is(await anonymous.locator('tbody tr').count(), 0);
  await anonymous.close();

  // With them (what a browser sends once its user answered the prompt): the agents, and a sandbox.
  const context = await browser.newContext({ httpCredentials: { username: 'ops', password: 's3cret' } });
  const page = await context.newPage();
  await page.goto(`${cluster.url}/#/agents`);
  await page.locator('tbody tr').first().waitFor();
  t.true(await page.locator('#error').isHidden());
  // The agent's files API is in the agent's read-only realm: the page reads it with the same credentials.
  t.is(await page.evaluate(async () => (await fetch('/files/debug')).status), 200);
});

test.serial("webui - an agent with an HTTP server of its own: its sandbox is read from the agent's port", async (t) => {
  // The master's page on one port, the agent's `/files/*` on another: another origin, as an agent
  // on another machine (it registers its port, `SlaveInfo.port`).
  const cluster = await startEmbeddedCluster({ agents: 0, port: 0, logger: pino({ level: 'error' }) });
  t.teardown(() => cluster.stop());
  const workDir = mkdtempSync(join(tmpdir(), 'webui-agent-'));
  t.teardown(() => rmSync(workDir, { recursive: true, force: true }));
  const registered = futureMessages(1, 'SlaveRegisteredMessage');
  const node = await startAgentNode({ master: String(cluster.master.self), workDir, resources: 'cpus:1;mem:256', hostname: '127.0.0.1', port: 0, logger: pino({ level: 'error' }) });
  t.teardown(() => node.stop());
  await registered;
  const agentPort = node.runtime.httpAddress!.port;
  t.not(agentPort, cluster.runtime.httpAddress!.port);
  const slaves = (await http(cluster.runtime.httpAddress!.port, 'GET', '/master/slaves')).json();
  t.is(slaves.slaves[0].port, agentPort);

  const scheduler = launchingOnce(
    (offer) => [{ name: 'far', task_id: { value: 'far-1' }, agent_id: offer.agent_id, resources: Resources.parse('cpus:1;mem:64').toJSON(), command: { value: 'echo written-on-the-far-agent' } }],
    3600,
  );
  const driver = new SchedulerDriver(scheduler, { user: 'ui-test', name: 'far' }, cluster.master.self, { runtime: cluster.runtime });
  t.teardown(() => driver.abort());
  await driver.start();
  for (;;) {
    const [status] = await scheduler.next('statusUpdate');
    if (status.state === 'TASK_FINISHED') break;
  }

  const { page, errors } = await openPage(t, `${cluster.url}/`);
  const row = page.locator('tr[data-id="far-1"]', { hasText: 'TASK_FINISHED' });
  await row.waitFor();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await row.getByRole('link', { name: 'Sandbox' }).click();
  await page.locator('tr[data-id="stdout"]').getByRole('link', { name: 'stdout' }).click();
  await page.locator('pre.file', { hasText: 'written-on-the-far-agent' }).waitFor();
  t.true(requests.some((url) => url.startsWith(`http://127.0.0.1:${agentPort}/files/read?`)), 'read from the agent itself');
  t.deepEqual(errors, []);
});

test('webui - the files are served with their types, GET and HEAD only, also under /master/', async (t) => {
  const cluster = await startEmbeddedCluster({ agents: 0, port: 0, logger: pino({ level: 'error' }) });
  t.teardown(() => cluster.stop());
  const port = cluster.runtime.httpAddress!.port;
  const index = await http(port, 'GET', '/');
  t.is(index.status, 200);
  t.regex(String(index.headers['content-type']), /^text\/html/);
  t.regex(String(index.headers['content-security-policy']), /default-src 'self'/);
  t.regex(index.body, /<script type="module" src="\/static\/webui.js">/);
  t.is((await http(port, 'GET', '/master/')).body, index.body);
  const script = await http(port, 'GET', '/static/webui.js');
  t.is(script.status, 200);
  t.regex(String(script.headers['content-type']), /^text\/javascript/);
  t.regex(String((await http(port, 'GET', '/static/webui.css')).headers['content-type']), /^text\/css/);
  const post = await http(port, 'POST', '/', '{}');
  t.is(post.status, 405);
  t.is(post.headers.allow, 'GET, HEAD');
  t.is((await http(port, 'GET', '/static/nothing.js')).status, 404);
});
