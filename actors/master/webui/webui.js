// The master's web UI: one page that reads `/master/state` and `/master/roles` every two seconds
// and shows the cluster as Mesos's web UI does (overview, frameworks, agents, roles, offers, a page
// per framework and per agent, and tasks' sandboxes through the agents' `/files/*`). Plain DOM,
// no framework and no build step, so the master serves these files as they are. Every text from
// the cluster (framework and task names are anyone's input) goes into the page as text, never as
// HTML.

const REFRESH_MS = 2000;
/** How many completed tasks the overview and a framework's page list (the newest first). */
const COMPLETED_SHOWN = 50;

let state;
/** `/master/roles`. */
let roleState;
let lastError;
let updatedAt;

// ---------------------------------------------------------------------------------------------
// DOM helpers.

/** `h('a', { href: '#/' }, 'text', child)`: an element; strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function link(href, text) {
  return h('a', { href }, text);
}

const frameworkHref = (id) => `#/frameworks/${encodeURIComponent(id)}`;
const agentHref = (id) => `#/agents/${encodeURIComponent(id)}`;

/**
 * A table: `columns` are `[heading, cell(row), numeric?]`; `empty` is what an empty table says.
 * Rows get `data-id` when `rowId` is given, so that a row can be found by what it shows.
 */
function table(columns, rows, empty, rowId) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, columns.map(([heading, , numeric]) => h('th', { class: numeric ? 'num' : undefined }, heading)))),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { 'data-id': rowId?.(row) },
          columns.map(([, cell, numeric]) => {
            const value = cell(row);
            return h('td', { class: numeric ? 'num' : undefined }, value);
          }),
        ),
      ),
    ),
  );
}

function card(label, value, name) {
  return h('div', { class: 'card', 'data-card': name }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
}

function details(pairs) {
  return h('dl', {}, pairs.filter(([, v]) => v !== undefined && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// ---------------------------------------------------------------------------------------------
// Formatting.

function cpus(value) {
  return value === undefined ? '' : (Math.round(value * 100) / 100).toString();
}

/** Megabytes, as Mesos's `mem` and `disk`, in the largest unit that keeps one digit before the point. */
function megabytes(value) {
  if (value === undefined) return '';
  const units = ['MB', 'GB', 'TB', 'PB'];
  let v = value;
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(v) : v.toFixed(1)} ${units[unit]}`;
}

/** Seconds since the epoch (Mesos's times), as local date and time. */
function time(seconds) {
  if (seconds === undefined || seconds === 0) return '';
  return new Date(seconds * 1000).toLocaleString();
}

function duration(seconds) {
  if (seconds === undefined) return '';
  const s = Math.max(0, Math.floor(Date.now() / 1000 - seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function taskState(task) {
  return h('span', { class: `state-${task.state}` }, task.state);
}

/** A task's health as its newest status with one says it (a Mesos health check); `—` without. */
function taskHealth(task) {
  const healthy = task.statuses?.findLast((s) => s.healthy !== undefined)?.healthy;
  if (healthy === undefined) return '—';
  return h('span', { class: healthy ? 'yes' : 'no' }, healthy ? 'healthy' : 'unhealthy');
}

/** When a task entered its current state: its newest status. */
function taskTime(task) {
  const last = task.statuses?.[task.statuses.length - 1];
  return time(last?.timestamp);
}

function roles(framework) {
  return framework.roles !== undefined ? framework.roles.join(', ') : (framework.role ?? '*');
}

function yesNo(value) {
  return h('span', { class: value ? 'yes' : 'no' }, value ? 'yes' : 'no');
}

// ---------------------------------------------------------------------------------------------
// Lookups over the state.

function allFrameworks() {
  return [...state.frameworks, ...(state.completed_frameworks ?? [])];
}

function frameworkName(id) {
  return allFrameworks().find((f) => f.id === id)?.name ?? id;
}

/**
 * An agent as people name it: its hostname, and its process id where agents share a host (as
 * in dev mode, where every agent is `127.0.0.1`).
 */
function agentName(agent) {
  const shared = state.slaves.some((other) => other !== agent && other.hostname === agent.hostname);
  return shared ? `${agent.hostname} · ${String(agent.pid).split('@')[0]}` : agent.hostname;
}

function agentHost(id) {
  const agent = state.slaves.find((a) => a.id === id);
  return agent === undefined ? id : agentName(agent);
}

function sum(items, key, field) {
  let total = 0;
  for (const item of items) total += item[key]?.[field] ?? 0;
  return total;
}

/** Every task of the active frameworks, with the state each is in. */
function activeTasks() {
  return state.frameworks.flatMap((f) => [...f.tasks, ...(f.unreachable_tasks ?? [])]);
}

function completedTasks(frameworks) {
  return frameworks
    .flatMap((f) => f.completed_tasks ?? [])
    .sort((a, b) => (b.statuses?.at(-1)?.timestamp ?? 0) - (a.statuses?.at(-1)?.timestamp ?? 0))
    .slice(0, COMPLETED_SHOWN);
}

// ---------------------------------------------------------------------------------------------
// Tables shared by several views.

function taskTable(tasks, empty, { framework = true, agent = true } = {}) {
  return table(
    [
      ['ID', (t) => h('span', { class: 'id' }, t.id)],
      ['Name', (t) => t.name],
      ['State', taskState],
      ['Health', taskHealth],
      framework && ['Framework', (t) => link(frameworkHref(t.framework_id), frameworkName(t.framework_id))],
      agent && ['Agent', (t) => link(agentHref(t.slave_id), agentHost(t.slave_id))],
      ['CPUs', (t) => cpus(t.resources?.cpus), true],
      ['Mem', (t) => megabytes(t.resources?.mem), true],
      ['Since', taskTime],
      ['', (t) => link(sandboxHref(t.slave_id, sandboxPath(t)), 'Sandbox')],
    ].filter(Boolean),
    tasks,
    empty,
    (t) => t.id,
  );
}

function frameworkTable(frameworks, empty) {
  return table(
    [
      ['ID', (f) => link(frameworkHref(f.id), f.id)],
      ['Name', (f) => f.name],
      ['User', (f) => f.user],
      ['Roles', roles],
      ['Connected', (f) => yesNo(f.connected)],
      ['Active tasks', (f) => f.tasks.length, true],
      ['CPUs', (f) => cpus(f.used_resources?.cpus), true],
      ['Mem', (f) => megabytes(f.used_resources?.mem), true],
      ['Registered', (f) => time(f.registered_time)],
    ],
    frameworks,
    empty,
    (f) => f.id,
  );
}

function agentTable(agents, empty) {
  return table(
    [
      ['ID', (a) => link(agentHref(a.id), a.id)],
      ['Host', agentName],
      ['Active', (a) => yesNo(a.active)],
      ['Drain', (a) => a.drain_info?.state ?? '—'],
      ['Maintenance', (a) => a.machine_info?.mode ?? '—'],
      ['CPUs used / total', (a) => `${cpus(a.used_resources?.cpus ?? 0)} / ${cpus(a.resources?.cpus ?? 0)}`, true],
      ['Mem used / total', (a) => `${megabytes(a.used_resources?.mem ?? 0)} / ${megabytes(a.resources?.mem ?? 0)}`, true],
      ['Registered', (a) => time(a.registered_time)],
    ],
    agents,
    empty,
    (a) => a.id,
  );
}

function offerTable(offers, empty) {
  return table(
    [
      ['ID', (o) => h('span', { class: 'id' }, o.id)],
      ['Framework', (o) => link(frameworkHref(o.framework_id), frameworkName(o.framework_id))],
      ['Agent', (o) => link(agentHref(o.slave_id), agentHost(o.slave_id))],
      ['CPUs', (o) => cpus(o.resources?.cpus), true],
      ['Mem', (o) => megabytes(o.resources?.mem), true],
    ],
    offers,
    empty,
    (o) => o.id,
  );
}

function resourceRows(items) {
  const used = (field) => sum(items, 'used_resources', field);
  const offered = (field) => sum(items, 'offered_resources', field);
  const total = (field) => sum(items, 'resources', field);
  const fmt = { cpus, mem: megabytes, disk: megabytes, gpus: cpus };
  return table(
    [
      ['', (r) => r],
      ['Total', (r) => fmt[r](total(r)), true],
      ['Used', (r) => fmt[r](used(r)), true],
      ['Offered', (r) => fmt[r](offered(r)), true],
      ['Idle', (r) => fmt[r](Math.max(0, total(r) - used(r) - offered(r))), true],
    ],
    ['cpus', 'mem', 'disk', 'gpus'],
    '',
    (r) => r,
  );
}

// ---------------------------------------------------------------------------------------------
// Views.

function overview() {
  const tasks = activeTasks();
  const count = (s) => tasks.filter((t) => t.state === s).length;
  const completed = completedTasks(allFrameworks());
  return [
    h('h1', {}, state.cluster ? `Cluster ${state.cluster}` : 'Cluster'),
    details([
      ['Master', state.pid],
      ['Version', state.version],
      ['Started', `${time(state.start_time)} (${duration(state.start_time)} ago)`],
      ['Elected', time(state.elected_time)],
    ]),
    h('h2', {}, 'Agents and frameworks'),
    h(
      'div',
      { class: 'cards' },
      card('Agents active', state.activated_slaves, 'agents-active'),
      card('Agents deactivated', state.deactivated_slaves, 'agents-deactivated'),
      card('Agents unreachable', state.unreachable_slaves, 'agents-unreachable'),
      card('Frameworks active', state.frameworks.filter((f) => f.active).length, 'frameworks-active'),
      card('Frameworks completed', (state.completed_frameworks ?? []).length, 'frameworks-completed'),
    ),
    h('h2', {}, 'Tasks'),
    h(
      'div',
      { class: 'cards' },
      ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE'].map((s) => card(s.slice(5).toLowerCase(), count(s), s)),
    ),
    h('h2', {}, 'Resources'),
    resourceRows(state.slaves),
    h('h2', {}, 'Active tasks'),
    taskTable(tasks, 'No active tasks.'),
    h('h2', {}, 'Completed tasks'),
    taskTable(completed, 'No completed tasks.'),
  ];
}

function frameworksView() {
  return [
    h('h1', {}, 'Frameworks'),
    frameworkTable(state.frameworks, 'No frameworks are registered.'),
    h('h2', {}, 'Completed frameworks'),
    frameworkTable(state.completed_frameworks ?? [], 'No completed frameworks.'),
  ];
}

function frameworkView(id) {
  const framework = allFrameworks().find((f) => f.id === id);
  if (framework === undefined) return [h('h1', {}, 'Framework'), h('p', { class: 'empty' }, `No framework with id ${id}.`)];
  return [
    h('h1', {}, `Framework ${framework.name}`),
    details([
      ['ID', framework.id],
      ['User', framework.user],
      ['Principal', framework.principal],
      ['Roles', roles(framework)],
      ['Hostname', framework.hostname],
      ['Web UI', framework.webui_url],
      ['Active', framework.active ? 'yes' : 'no'],
      ['Connected', framework.connected ? 'yes' : 'no'],
      ['Checkpoint', framework.checkpoint ? 'yes' : 'no'],
      ['Failover timeout', `${framework.failover_timeout} s`],
      ['Capabilities', (framework.capabilities ?? []).join(', ')],
      ['Registered', time(framework.registered_time)],
      ['Used', `${cpus(framework.used_resources?.cpus ?? 0)} CPUs, ${megabytes(framework.used_resources?.mem ?? 0)}`],
      ['Offered', `${cpus(framework.offered_resources?.cpus ?? 0)} CPUs, ${megabytes(framework.offered_resources?.mem ?? 0)}`],
    ]),
    h('h2', {}, 'Active tasks'),
    taskTable([...framework.tasks, ...(framework.unreachable_tasks ?? [])], 'No active tasks.', { framework: false }),
    h('h2', {}, 'Outstanding offers'),
    offerTable(framework.offers ?? [], 'No outstanding offers.'),
    h('h2', {}, 'Completed tasks'),
    taskTable(completedTasks([framework]), 'No completed tasks.', { framework: false }),
  ];
}

function agentsView() {
  return [h('h1', {}, 'Agents'), agentTable(state.slaves, 'No agents are registered.')];
}

function agentView(id) {
  const agent = state.slaves.find((a) => a.id === id);
  if (agent === undefined) return [h('h1', {}, 'Agent'), h('p', { class: 'empty' }, `No agent with id ${id}.`)];
  const onAgent = (t) => t.slave_id === id;
  return [
    h('h1', {}, `Agent ${agentName(agent)}`),
    details([
      ['ID', agent.id],
      ['PID', agent.pid],
      ['Active', agent.active ? 'yes' : 'no'],
      ['Version', agent.version],
      ['Registered', time(agent.registered_time)],
      ['Re-registered', time(agent.reregistered_time)],
      ['Attributes', Object.entries(agent.attributes ?? {}).map(([k, v]) => `${k}:${v}`).join(';')],
    ]),
    h('h2', {}, 'Resources'),
    resourceRows([agent]),
    h('h2', {}, 'Active tasks'),
    taskTable(activeTasks().filter(onAgent), 'No active tasks.', { agent: false }),
    h('h2', {}, 'Completed tasks'),
    taskTable(completedTasks(allFrameworks()).filter(onAgent), 'No completed tasks.', { agent: false }),
  ];
}

/** A quota guarantee or limit (`{"cpus": 2, "mem": 1024}`) as `cpus 2, mem 1.0 GB`; empty without one. */
function quantities(quota) {
  const fmt = { mem: megabytes, disk: megabytes };
  return Object.entries(quota ?? {})
    .map(([name, value]) => `${name} ${(fmt[name] ?? cpus)(value)}`)
    .join(', ');
}

/**
 * The roles, with what each is allocated and its dominant share: its largest share of any
 * resource of the cluster, what the DRF allocator evens out between roles (weighted).
 */
function rolesView() {
  const total = (field) => sum(state.slaves, 'resources', field);
  const dominant = (r) => Math.max(0, ...['cpus', 'mem', 'disk', 'gpus'].map((f) => (total(f) > 0 ? (r.resources?.[f] ?? 0) / total(f) : 0)));
  return [
    h('h1', {}, 'Roles'),
    table(
      [
        ['Role', (r) => r.name],
        ['Weight', (r) => r.weight, true],
        ['Frameworks', (r) => r.frameworks.length, true],
        ['CPUs', (r) => cpus(r.resources?.cpus ?? 0), true],
        ['Mem', (r) => megabytes(r.resources?.mem ?? 0), true],
        ['Disk', (r) => megabytes(r.resources?.disk ?? 0), true],
        ['GPUs', (r) => cpus(r.resources?.gpus ?? 0), true],
        ['Quota guarantee', (r) => quantities(r.quota?.guarantee)],
        ['Quota limit', (r) => quantities(r.quota?.limit)],
        ['Dominant share', (r) => `${(dominant(r) * 100).toFixed(1)}%`, true],
      ],
      roleState?.roles ?? [],
      'No roles: no framework is subscribed.',
      (r) => r.name,
    ),
  ];
}

function offersView() {
  return [h('h1', {}, 'Offers'), offerTable(state.frameworks.flatMap((f) => f.offers ?? []), 'No outstanding offers.')];
}

// ---------------------------------------------------------------------------------------------
// Sandboxes, read through the agents' files API (`/files/browse`, `/files/read`) as Mesos's UI
// does: a task's sandbox is its executor's latest run, at the path the agent attaches for it.

/** How many bytes of a file the page shows: its end, as `tail` would. */
const TAIL_BYTES = 64 * 1024;

/** The virtual path an agent serves a task's executor's latest run at (a command task's executor has the task's id). */
function sandboxPath(task) {
  const executorId = task.executor_id || task.id;
  return `/slaves/${task.slave_id}/frameworks/${task.framework_id}/executors/${executorId}/runs/latest`;
}

function sandboxHref(agentId, path) {
  return `#/agents/${encodeURIComponent(agentId)}/browse?path=${encodeURIComponent(path)}`;
}

function fileHref(agentId, path) {
  return `#/agents/${encodeURIComponent(agentId)}/read?path=${encodeURIComponent(path)}`;
}

/**
 * Where an agent's HTTP endpoints are: this server when the agent runs in the master's runtime
 * (dev mode), else the host and port it registered with.
 */
function agentBase(agent) {
  const node = (pid) => String(pid).split('@')[1];
  if (node(agent.pid) === node(state.pid)) return '';
  return agent.port !== undefined ? `http://${agent.hostname}:${agent.port}` : '';
}

/** What the agents' files API answered, by URL; each poll reads again what the page shows. */
const files = new Map();

/** The cached answer for `url` (`{ data }` or `{ error }`), reading it again once per refresh. */
function fetched(url) {
  const entry = files.get(url);
  if (entry === undefined || entry.at !== updatedAt) {
    const next = { at: updatedAt, data: entry?.data, error: entry?.error };
    files.set(url, next);
    readJSON(url)
      .then(
        (data) => Object.assign(next, { data, error: undefined }),
        (error) => Object.assign(next, { error: error instanceof Error ? error.message : String(error) }),
      )
      .then(render);
  }
  return files.get(url);
}

function pathCrumbs(agentId, path) {
  const parts = path.split('/').filter((p) => p !== '');
  return h(
    'p',
    { class: 'crumbs' },
    parts.flatMap((part, i) => [i === 0 ? '' : ' / ', link(sandboxHref(agentId, `/${parts.slice(0, i + 1).join('/')}`), part)]),
  );
}

function answerOrWait(answer) {
  if (answer.error !== undefined && answer.data === undefined) return h('p', { class: 'no' }, `Cannot read it: ${answer.error}`);
  if (answer.data === undefined) return h('p', { class: 'empty' }, 'Reading…');
  return undefined;
}

function browseView(agentId, path) {
  const agent = state.slaves.find((a) => a.id === agentId);
  if (agent === undefined) return [h('h1', {}, 'Sandbox'), h('p', { class: 'empty' }, `No agent with id ${agentId}.`)];
  const answer = fetched(`${agentBase(agent)}/files/browse?path=${encodeURIComponent(path)}`);
  const name = (entry) => entry.path.split('/').pop();
  return [
    h('h1', {}, `Sandbox on ${agentName(agent)}`),
    pathCrumbs(agentId, path),
    answerOrWait(answer) ??
      table(
        [
          ['Name', (e) => link(e.mode.startsWith('d') ? sandboxHref(agentId, e.path) : fileHref(agentId, e.path), name(e))],
          ['Mode', (e) => h('span', { class: 'id' }, e.mode)],
          ['Size', (e) => e.size, true],
          ['Modified', (e) => time(e.mtime)],
        ],
        [...answer.data].sort((a, b) => name(a).localeCompare(name(b))),
        'The directory is empty.',
        name,
      ),
  ];
}

function readView(agentId, path) {
  const agent = state.slaves.find((a) => a.id === agentId);
  if (agent === undefined) return [h('h1', {}, 'File'), h('p', { class: 'empty' }, `No agent with id ${agentId}.`)];
  const base = `${agentBase(agent)}/files/read?path=${encodeURIComponent(path)}`;
  // First the file's length (`offset=-1`), then its last TAIL_BYTES.
  const size = fetched(`${base}&offset=-1`);
  const waiting = answerOrWait(size);
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  const heading = [h('h1', {}, path.split('/').pop()), pathCrumbs(agentId, parent)];
  if (waiting !== undefined) return [...heading, waiting];
  const offset = Math.max(0, size.data.offset - TAIL_BYTES);
  const content = fetched(`${base}&offset=${offset}&length=${TAIL_BYTES}`);
  return [
    ...heading,
    h('p', { class: 'empty' }, `${size.data.offset} bytes${offset > 0 ? `; the last ${TAIL_BYTES} shown` : ''}, read again every ${REFRESH_MS / 1000} s.`),
    answerOrWait(content) ?? h('pre', { class: 'file' }, content.data.data),
  ];
}

/** The view the location's hash names: `#/`, `#/frameworks`, `#/frameworks/<id>`, `#/agents/<id>/browse?path=`, ... */
function route() {
  const [where, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = where.split('/').map(decodeURIComponent);
  const [section = '', id, page] = parts;
  const path = new URLSearchParams(query).get('path') ?? '/';
  if (section === 'frameworks') return { nav: 'frameworks', render: () => (id ? frameworkView(id) : frameworksView()) };
  if (section === 'agents' && page === 'browse') return { nav: 'agents', render: () => browseView(id, path) };
  if (section === 'agents' && page === 'read') return { nav: 'agents', render: () => readView(id, path) };
  if (section === 'agents') return { nav: 'agents', render: () => (id ? agentView(id) : agentsView()) };
  if (section === 'offers') return { nav: 'offers', render: offersView };
  if (section === 'roles') return { nav: 'roles', render: rolesView };
  return { nav: 'overview', render: overview };
}

function render() {
  const { nav, render: view } = route();
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.dataset.view === nav);
  const error = document.getElementById('error');
  error.hidden = lastError === undefined;
  error.textContent = lastError === undefined ? '' : `Cannot read the master's state: ${lastError}. Showing what was last read; trying again.`;
  document.getElementById('status').textContent = updatedAt === undefined ? 'Loading…' : `Updated ${updatedAt.toLocaleTimeString()}`;
  if (state === undefined) return;
  document.getElementById('main').replaceChildren(...view().flat());
}

// ---------------------------------------------------------------------------------------------
// Polling.

async function readJSON(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${response.status} ${(await response.text()) || response.statusText}`);
  return response.json();
}

async function refresh() {
  try {
    [state, roleState] = await Promise.all([readJSON('/master/state'), readJSON('/master/roles')]);
    lastError = undefined;
    // Forget the files no view read during the last refresh (a growing file is a new URL each time).
    for (const [url, entry] of files) if (entry.at !== updatedAt) files.delete(url);
    updatedAt = new Date();
  } catch (error) {
    lastError = error instanceof Error ? error.message : String(error);
  }
  render();
  setTimeout(refresh, REFRESH_MS);
}

window.addEventListener('hashchange', render);
refresh();
