import { appendFile, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AgentID, FrameworkID, TaskID } from '../../src/mesos/v1/common.ts';
import { TASK_UPDATES_FILE } from './constants.ts';
import { encodeRecord, parseRecords, type CheckpointRecord } from './records.ts';
import { StatusUpdateStream } from './stream.ts';

/**
 * Where streams live on disk and the file operations on them, after Mesos's
 * `slave/paths.cpp` (`getTaskUpdatesPath`) and `TaskStatusUpdateStream`:
 *
 *     <work_dir>/meta/agents/<agent_id>/frameworks/<framework_id>/tasks/<task_id>/task.updates
 *
 * Every function here is plain async I/O; the manager runs them through `defer` and chains them
 * per file, so records land in the order the manager decided them.
 */

/** `<work_dir>/meta/agents/<agent_id>/frameworks`. */
export function frameworksDir(workDir: string, agentId: AgentID): string {
  return join(workDir, 'meta', 'agents', agentId.value, 'frameworks');
}

/** The stream file of a task, or why the ids cannot name a path. */
export function taskUpdatesPath(workDir: string, agentId: AgentID, frameworkId: FrameworkID, taskId: TaskID): string | { error: string } {
  for (const [field, value] of [
    ['agent_id', agentId.value],
    ['framework_id', frameworkId.value],
    ['task_id', taskId.value],
  ] as const) {
    const problem = pathSegmentProblem(value);
    if (problem !== undefined) return { error: `cannot checkpoint: '${field}' '${value}' ${problem}` };
  }
  return join(frameworksDir(workDir, agentId), frameworkId.value, 'tasks', taskId.value, TASK_UPDATES_FILE);
}

function pathSegmentProblem(value: string): string | undefined {
  if (value === '' || value === '.' || value === '..') return 'is not a valid directory name';
  if (/[/\\\0]/.test(value)) return "must not contain '/', '\\' or NUL";
  return undefined;
}

/**
 * Appends one record. The first record of a stream creates the file, failing if one exists
 * (a stream nobody recovered: overwriting it would lose updates, as Mesos refuses too).
 */
export async function appendRecord(path: string, record: CheckpointRecord, first: boolean): Promise<void> {
  if (first) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, encodeRecord(record), { flag: 'wx' });
  } else {
    await appendFile(path, encodeRecord(record));
  }
}

/** Removes a stream's file (its task is done, or its framework is gone). */
export async function removeStreamFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export interface RecoveredStream {
  readonly path: string;
  readonly stream: StatusUpdateStream;
  /** What was wrong with the file (a corrupt record, one that does not replay); the rest was kept. */
  readonly problem?: string;
  /**
   * A partial last record that was cut off: an append a crash interrupted. It was never
   * answered, so nothing is lost, and as in Mesos (`protobuf::read` with `ignorePartial`) it is
   * no error.
   */
  readonly torn?: string;
}

export interface Recovery {
  readonly streams: RecoveredStream[];
  /** Files that could not be read at all. */
  readonly errors: string[];
}

/**
 * Reads every stream file of an agent and replays it. A torn or corrupt tail is cut off the file
 * (so later appends follow a valid record); a file with no update, or whose terminal update was
 * acknowledged, is removed. Terminated streams are still returned, so the caller knows them.
 */
export async function recoverStreams(workDir: string, agentId: AgentID): Promise<Recovery> {
  const streams: RecoveredStream[] = [];
  const errors: string[] = [];
  const root = frameworksDir(workDir, agentId);
  for (const framework of await listDirs(root)) {
    const tasksDir = join(root, framework, 'tasks');
    for (const task of await listDirs(tasksDir)) {
      const path = join(tasksDir, task, TASK_UPDATES_FILE);
      try {
        const recovered = await recoverStream(path);
        if (recovered !== undefined) streams.push(recovered);
      } catch (error) {
        errors.push(`failed to recover '${path}': ${(error as Error).message}`);
      }
    }
  }
  return { streams, errors };
}

async function recoverStream(path: string): Promise<RecoveredStream | undefined> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    // The task directory exists but the first update never reached disk.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = parseRecords(data);
  const replay = StatusUpdateStream.replay(parsed.records.map((r) => r.record));
  let keep = parsed.validLength;
  const found = parsed.problem === undefined ? undefined : `${parsed.problem.kind} record at line ${parsed.problem.line}: ${parsed.problem.reason}`;
  let problem = parsed.problem?.kind === 'corrupt' ? found : undefined;
  let torn = parsed.problem?.kind === 'torn' ? found : undefined;
  if (replay.error !== undefined) {
    keep = replay.applied === 0 ? 0 : parsed.records[replay.applied - 1]!.end;
    problem = `record ${replay.applied + 1} does not replay: ${replay.error}`;
    torn = undefined;
  }
  const stream = replay.stream;
  const notes = { ...(problem !== undefined ? { problem } : {}), ...(torn !== undefined ? { torn } : {}) };
  if (stream === undefined || stream.latest === undefined || stream.terminated) {
    await removeStreamFile(path);
    return stream?.terminated === true ? { path, stream, ...notes } : undefined;
  }
  if (keep < data.length) await truncate(path, keep);
  return { path, stream, ...notes };
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
