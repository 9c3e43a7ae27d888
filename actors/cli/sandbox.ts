import { atLeast, positive } from '../../src/cli/checks.ts';
import { FlagError, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import { wallClockDelay } from '../../src/process/clock.ts';
import { masterAddress } from './bus.ts';
import { clientCredential, commonFlags, CREDENTIAL_FLAGS, type Command } from './commands.ts';
import type { Credential } from '../../src/http/authentication.ts';
import { untilSignal } from './signals.ts';
import { fetchOrSay, masterState } from './state.ts';

/**
 * `mesos-ts cat` and `mesos-ts tail`: a task's sandbox file (`stdout` by default) read through
 * its agent's files API (`/files/read`), as Mesos's `mesos-cat` and `mesos-tail` do. The task is
 * found in the leading master's state (`--master http://host:port`, or asked over `--nats`),
 * active or completed; its sandbox is its executor's latest run, at the path the agent attaches
 * it (`/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/latest`).
 *
 * Offsets count the file's bytes: each read goes on where the bytes the last answer covered end
 * (`Buffer.byteLength` of its `data`, or its `length` where the agent found ill-formed UTF-8), and
 * an agent never splits a character, so what is printed is the file as it is, whatever the page
 * size (`catFile`, `tailFile`, `followFile`, which the tests call with small pages).
 */

const TARGET_FLAGS: FlagSpec[] = [
  { name: 'master', type: 'string', help: 'http://host:port of the master, or nats://host:4222 (or --nats) to ask the leading master' },
  { name: 'task', type: 'string', help: 'the task id (required)' },
  { name: 'framework', type: 'string', help: 'the framework id, when tasks of several frameworks have that id' },
  { name: 'file', type: 'string', help: 'the file, relative to the sandbox', default: 'stdout' },
  { name: 'timeout', type: 'duration', help: 'how long to wait for each answer', default: '5secs' },
  ...CREDENTIAL_FLAGS,
];

/** How much `/files/read` is asked for at once: the most an agent answers (Mesos's 16 pages). */
const READ_LENGTH = 16 * 4096;
/** How often `tail --follow` reads again (Mesos's `mesos-tail` polls too). */
const FOLLOW_INTERVAL_MS = 1_000;
/** The most bytes a UTF-8 character takes: the least window that always holds one. */
const UTF8_MAX_BYTES = 4;

export const catCommand: Command = {
  name: 'cat',
  summary: "print a task's sandbox file (--file, default stdout) through its agent's /files API, as mesos-cat",
  flags: [...TARGET_FLAGS, ...commonFlags('warn')],
  async run(values) {
    return withFile('cat', values, async (file) => {
      await catFile(file, (text) => process.stdout.write(text));
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
      const write = (text: string): void => void process.stdout.write(text);
      const end = await tailFile(file, write, lines);
      if (values.follow !== true) return 0;
      let stopped = false;
      void untilSignal().then(() => (stopped = true));
      await followFile(file, write, end, { stopped: () => stopped, idle: () => wallClockDelay(FOLLOW_INTERVAL_MS) });
      return 0;
    });
  },
};

/** A file in a sandbox, read through `/files/read`. */
export interface SandboxFile {
  /** `{data, offset}` (and `length` when `data` holds ill-formed UTF-8); `offset` -1 answers the file's size as `offset`. */
  read(offset: number, length?: number): Promise<FileRead>;
}

/** An answer of `/files/read`. */
export interface FileRead {
  /** Whole UTF-8 characters, from `offset`. */
  data: string;
  /** Where `data` starts: an agent moves an offset inside a character to that character's end. */
  offset: number;
  /** The bytes of the file `data` covers, when the agent found ill-formed UTF-8 there (each sequence is one U+FFFD). */
  length?: number;
}

/** Where the file's bytes that `answer` covers end: where to read on from. */
function endOf(answer: FileRead): number {
  return answer.offset + (answer.length ?? Buffer.byteLength(answer.data));
}

/**
 * Writes the file's first bytes, as many as it had when asked, a page of `pageSize` bytes at a
 * time, advancing by the bytes each answer covers. A character cut by the end of a page comes
 * with the next one; a file that ends inside a character ends with a U+FFFD for it, as a decoder
 * at the end of its input.
 */
export async function catFile(file: SandboxFile, write: (text: string) => void, pageSize = READ_LENGTH): Promise<void> {
  const { offset: size } = await file.read(-1);
  for (let offset = 0; offset < size; ) {
    let answer = await file.read(offset, Math.min(pageSize, size - offset));
    // Nothing: the page is shorter than the character at `offset` (what is left before `size`,
    // or a `pageSize` under 4), or the file ends inside it.
    if (endOf(answer) <= offset) answer = await file.read(offset, UTF8_MAX_BYTES);
    if (endOf(answer) <= offset) {
      write('\uFFFD');
      return;
    }
    write(answer.data);
    offset = endOf(answer);
  }
}

/**
 * Writes the last `count` lines of the file as it is, read backwards a page at a time; answers
 * the offset they end at, where `followFile` reads on (before the file's size when it ends
 * inside a character that is not all written yet, even for no lines).
 */
export async function tailFile(file: SandboxFile, write: (text: string) => void, count: number, pageSize = READ_LENGTH): Promise<number> {
  const { offset: size } = await file.read(-1);
  let text = '';
  let start = size;
  let end: number | undefined;
  while (start > 0) {
    // A page ends where the last one began, at a character's start; one of 4 bytes or more
    // holds at least the character before it, so each read goes back.
    const from = Math.max(0, start - Math.max(count === 0 ? 0 : pageSize, UTF8_MAX_BYTES));
    const answer = await file.read(from, start - from);
    end ??= endOf(answer);
    if (count === 0) break;
    text = answer.data + text;
    if (answer.offset >= start) break;
    start = answer.offset;
    // `count` lines need `count` newlines before the last line's (a file ends with one).
    if (newlines(text.endsWith('\n') ? text.slice(0, -1) : text) >= count) break;
  }
  if (count === 0) return end ?? size;
  const lines = text.split('\n');
  const trailing = text.endsWith('\n') ? lines.pop() : undefined;
  write(lines.slice(-count).join('\n') + (trailing !== undefined ? '\n' : ''));
  return end ?? size;
}

/**
 * Writes what is appended to the file from `offset` on, until `stopped()`; waits for `idle()`
 * whenever there is nothing new (a character of which only a part is written yet is not).
 */
export async function followFile(
  file: SandboxFile,
  write: (text: string) => void,
  offset: number,
  options: { stopped: () => boolean; idle: () => Promise<void>; pageSize?: number },
): Promise<void> {
  while (!options.stopped()) {
    const answer = await file.read(offset, Math.max(options.pageSize ?? READ_LENGTH, UTF8_MAX_BYTES));
    const next = endOf(answer);
    if (next > offset) {
      write(answer.data);
      offset = next;
    } else {
      await options.idle();
    }
  }
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
    const run = `/slaves/${task.slave_id}/frameworks/${task.framework_id}/executors/${task.executor_id || task.id}/runs/latest`;
    const file = String(values.file);
    const credential = clientCredential(values);
    // A task of a task group has a sandbox of its own in its default executor's,
    // `tasks/<task id>` (as Mesos's `mesos-cat` finds it). When the master no longer lists the
    // executor (it ended), the task's own sandbox is tried first, then the executor's.
    const type = executorType(state, task);
    const inGroup = sandboxFile(base, `${run}/tasks/${task.id}/${file}`, timeoutMs, file, taskId, credential);
    const inExecutor = sandboxFile(base, `${run}/${file}`, timeoutMs, file, taskId, credential);
    if (type === 'DEFAULT') return await use(inGroup);
    if (type !== undefined || !task.executor_id || task.executor_id === task.id) return await use(inExecutor);
    return await use(await firstReadable(inGroup, inExecutor));
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
  executors?: { executor_id: string; slave_id: string; type?: string }[];
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

/** The type of the task's executor as the master lists it (`DEFAULT`, `CUSTOM`), if it does. */
function executorType(state: MasterState, task: TaskJSON): string | undefined {
  if (!task.executor_id) return undefined;
  const framework = [...state.frameworks, ...(state.completed_frameworks ?? [])].find((f) => f.id === task.framework_id);
  const executor = framework?.executors?.find((e) => e.executor_id === task.executor_id && e.slave_id === task.slave_id);
  return executor === undefined ? undefined : (executor.type ?? 'CUSTOM');
}

/** `first` if its file can be read (its first byte), else `second`. */
async function firstReadable(first: SandboxFile, second: SandboxFile): Promise<SandboxFile> {
  try {
    await first.read(0, 1);
    return first;
  } catch {
    return second;
  }
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

/** The file at `path` on the agent at `base`, read through its `/files/read`; errors name it as `file` of the task `taskId`. */
export function sandboxFile(base: string, path: string, timeoutMs: number, file: string, taskId: string, credential?: Credential): SandboxFile {
  return { read: (offset, length) => readFile(base, path, offset, length, timeoutMs, file, taskId, credential) };
}

async function readFile(base: string, path: string, offset: number, length: number | undefined, timeoutMs: number, file: string, taskId: string, credential: Credential | undefined): Promise<FileRead> {
  const url = `${base}/files/read?path=${encodeURIComponent(path)}&offset=${offset}${length === undefined ? '' : `&length=${length}`}`;
  const response = await fetchOrSay(url, timeoutMs, `the agent at ${base}`, credential);
  if (response.status === 404) throw new Error(`no file '${file}' in the sandbox of task '${taskId}'`);
  if (!response.ok) throw new Error(`${base}/files/read answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as FileRead;
}

function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
