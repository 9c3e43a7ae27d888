import { atLeast, positive } from '../../src/cli/checks.ts';
import { FlagError, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import { wallClockDelay } from '../../src/process/clock.ts';
import { masterAddress } from './bus.ts';
import { commonFlags, type Command } from './commands.ts';
import { untilSignal } from './signals.ts';
import { fetchOrSay, masterState } from './state.ts';

/**
 * `mesos-ts cat` and `mesos-ts tail`: a task's sandbox file (`stdout` by default) read through
 * its agent's files API (`/files/read`), as Mesos's `mesos-cat` and `mesos-tail` do. The task is
 * found in the leading master's state (`--master http://host:port`, or asked over `--nats`),
 * active or completed; its sandbox is its executor's latest run, at the path the agent attaches
 * it (`/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/latest`).
 */

const TARGET_FLAGS: FlagSpec[] = [
  { name: 'master', type: 'string', help: 'http://host:port of the master, or nats://host:4222 (or --nats) to ask the leading master' },
  { name: 'task', type: 'string', help: 'the task id (required)' },
  { name: 'framework', type: 'string', help: 'the framework id, when tasks of several frameworks have that id' },
  { name: 'file', type: 'string', help: 'the file, relative to the sandbox', default: 'stdout' },
  { name: 'timeout', type: 'duration', help: 'how long to wait for each answer', default: '5secs' },
];

/** How much `/files/read` is asked for at once: the most an agent answers (Mesos's 16 pages). */
const READ_LENGTH = 16 * 4096;
/** How often `tail --follow` reads again (Mesos's `mesos-tail` polls too). */
const FOLLOW_INTERVAL_MS = 1_000;

export const catCommand: Command = {
  name: 'cat',
  summary: "print a task's sandbox file (--file, default stdout) through its agent's /files API, as mesos-cat",
  flags: [...TARGET_FLAGS, ...commonFlags('warn')],
  async run(values) {
    return withFile('cat', values, async (file) => {
      const { offset: size } = await file.read(-1);
      for (let offset = 0; offset < size; ) {
        const { data } = await file.read(offset, Math.min(READ_LENGTH, size - offset));
        if (data === '') break;
        process.stdout.write(data);
        offset += Buffer.byteLength(data);
      }
      return 0;
    });
  },
};

export const tailCommand: Command = {
  name: 'tail',
  summary: "print the last --lines of a task's sandbox file (default stdout); --follow prints what is appended until Ctrl-C, as mesos-tail",
  flags: [
    ...TARGET_FLAGS,
    { name: 'lines', type: 'int', help: 'how many lines from the end', default: 10 },
    { name: 'follow', type: 'bool', help: 'keep printing what is appended to the file, until Ctrl-C', default: false },
    ...commonFlags('warn'),
  ],
  async run(values) {
    const lines = atLeast(values, 'lines', 0);
    return withFile('tail', values, async (file) => {
      let { offset: end } = await file.read(-1);
      process.stdout.write(await lastLines(file, end, lines));
      if (values.follow !== true) return 0;
      let stopped = false;
      void untilSignal().then(() => (stopped = true));
      while (!stopped) {
        const { data } = await file.read(end, READ_LENGTH);
        process.stdout.write(data);
        end += Buffer.byteLength(data);
        if (data === '') await wallClockDelay(FOLLOW_INTERVAL_MS);
      }
      return 0;
    });
  },
};

/** A file in a sandbox, read through `/files/read`. */
interface SandboxFile {
  /** `{data, offset}`; `offset` -1 answers the file's size as `offset`. */
  read(offset: number, length?: number): Promise<{ data: string; offset: number }>;
}

/**
 * Finds the task's sandbox file and runs `use` on it; exits 1 (with the reason on stderr) when
 * the task, its agent or the file cannot be found or read.
 */
async function withFile(command: string, values: Record<string, FlagValue>, use: (file: SandboxFile) => Promise<number>): Promise<number> {
  const taskId = values.task;
  if (typeof taskId !== 'string' || taskId === '') throw new FlagError('task', taskId, 'is required');
  const timeoutMs = positive(values, 'timeout');
  try {
    const state = (await masterState(values)) as MasterState;
    const task = findTask(state, taskId, values.framework as string | undefined);
    const base = agentBase(state, task.slave_id, masterAddress(values));
    const path = `/slaves/${task.slave_id}/frameworks/${task.framework_id}/executors/${task.executor_id || task.id}/runs/latest/${String(values.file)}`;
    return await use({ read: (offset, length) => readFile(base, path, offset, length, timeoutMs, String(values.file), taskId) });
  } catch (error) {
    process.stderr.write(`mesos-ts ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}

interface TaskJSON {
  id: string;
  framework_id: string;
  executor_id: string;
  slave_id: string;
  state: string;
}
interface FrameworkJSON {
  id: string;
  tasks: TaskJSON[];
  unreachable_tasks?: TaskJSON[];
  completed_tasks?: TaskJSON[];
}
interface MasterState {
  pid: string;
  leader_info?: { hostname?: string; port?: number };
  slaves: { id: string; pid: string; hostname: string; port?: number }[];
  frameworks: FrameworkJSON[];
  completed_frameworks?: FrameworkJSON[];
}

/** The task with that id (of that framework, if given); one of several with the id is an error naming their frameworks. */
function findTask(state: MasterState, taskId: string, frameworkId: string | undefined): TaskJSON {
  const frameworks = [...state.frameworks, ...(state.completed_frameworks ?? [])].filter((f) => frameworkId === undefined || f.id === frameworkId);
  // A task listed twice (active, then completed after a resend) is the same task: the first wins.
  const byFramework = new Map<string, TaskJSON>();
  for (const f of frameworks) {
    for (const t of [...f.tasks, ...(f.unreachable_tasks ?? []), ...(f.completed_tasks ?? [])]) {
      if (t.id === taskId && !byFramework.has(f.id)) byFramework.set(f.id, t);
    }
  }
  const found = [...byFramework.values()];
  if (found.length === 0) throw new Error(`no task '${taskId}'${frameworkId === undefined ? '' : ` of framework '${frameworkId}'`} is known to the master`);
  if (found.length > 1) throw new Error(`tasks of several frameworks have the id '${taskId}' (${[...byFramework.keys()].join(', ')}): give --framework`);
  return found[0]!;
}

/**
 * Where an agent's HTTP endpoints are: the master's own server when the agent runs in the
 * master's runtime (dev mode), else the host and port it registered with (`SlaveInfo.port`).
 * The web UI (`actors/master/webui/webui.js`, `agentBase`) follows the same rule.
 */
function agentBase(state: MasterState, agentId: string, master: ReturnType<typeof masterAddress>): string {
  const agent = state.slaves.find((a) => a.id === agentId);
  if (agent === undefined) throw new Error(`the task's agent ${agentId} is not registered with the master`);
  const node = (pid: string): string | undefined => pid.split('@')[1];
  if (node(agent.pid) === node(state.pid)) {
    if (master?.kind === 'http') return master.url;
    const { hostname, port } = state.leader_info ?? {};
    if (hostname !== undefined && port !== undefined) return `http://${hostname}:${port}`;
  }
  if (agent.port === undefined) throw new Error(`agent ${agentId} (${agent.hostname}) registered no HTTP port`);
  return `http://${agent.hostname}:${agent.port}`;
}

async function readFile(base: string, path: string, offset: number, length: number | undefined, timeoutMs: number, file: string, taskId: string): Promise<{ data: string; offset: number }> {
  const url = `${base}/files/read?path=${encodeURIComponent(path)}&offset=${offset}${length === undefined ? '' : `&length=${length}`}`;
  const response = await fetchOrSay(url, timeoutMs, `the agent at ${base}`);
  if (response.status === 404) throw new Error(`no file '${file}' in the sandbox of task '${taskId}'`);
  if (!response.ok) throw new Error(`${base}/files/read answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { data: string; offset: number };
}

/** The last `count` lines of the file's first `end` bytes, read backwards a page at a time. */
async function lastLines(file: SandboxFile, end: number, count: number): Promise<string> {
  if (count === 0) return '';
  let text = '';
  let start = end;
  while (start > 0) {
    const from = Math.max(0, start - READ_LENGTH);
    text = (await file.read(from, start - from)).data + text;
    start = from;
    // `count` lines need `count` newlines before the last line's (a file ends with one).
    if (newlines(text.endsWith('\n') ? text.slice(0, -1) : text) >= count) break;
  }
  const lines = text.split('\n');
  const trailing = text.endsWith('\n') ? lines.pop() : undefined;
  return lines.slice(-count).join('\n') + (trailing !== undefined ? '\n' : '');
}

function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
