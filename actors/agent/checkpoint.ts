import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DrainConfigSchema, type DrainConfig } from '../../src/mesos/protocol.ts';
import type { AgentInfo, ExecutorInfo, FrameworkInfo, TaskInfo } from '../../src/mesos/v1/common.ts';

/**
 * The agent's directories under `--work_dir`, in Mesos's layout (`src/slave/paths.hpp`), and what
 * it checkpoints there so that a restarted agent comes back as the same agent:
 *
 *     meta/resources/resources.info                         its dynamic reservations (`resources-checkpoint.ts`)
 *     meta/slaves/latest -> <agent_id>                      the agent id (a symlink, as in Mesos)
 *     meta/slaves/<agent_id>/slave.info                     AgentInfo
 *     meta/slaves/<agent_id>/drain.config                   DrainConfig, while the agent drains
 *     meta/slaves/<agent_id>/frameworks/<fid>/framework.info
 *     meta/slaves/<agent_id>/frameworks/<fid>/executors/<eid>/executor.info
 *     meta/slaves/<agent_id>/frameworks/<fid>/executors/<eid>/runs/<cid>/tasks/<tid>/task.info
 *     meta/slaves/<agent_id>/frameworks/<fid>/executors/<eid>/runs/<cid>/pids/libprocess.pid
 *                                                       the executor's UPID, once it registered
 *     meta/slaves/<agent_id>/frameworks/<fid>/executors/<eid>/runs/<cid>/pids/http.marker
 *                                                       it subscribed over the executor HTTP API
 *     meta/slaves/<agent_id>/frameworks/<fid>/executors/<eid>/runs/<cid>/pids/token
 *                                                       its secret for the agent's executor socket
 *     slaves/<agent_id>/frameworks/<fid>/executors/<eid>/runs/<cid>    the sandbox
 *     slaves/<agent_id>/frameworks/<fid>/executors/<eid>/runs/latest -> <cid>
 *
 * The sandboxes are deleted `--gc_delay` after the agent is done with them (`gc.ts`); the
 * checkpoints of an executor or a framework as soon as it is.
 *
 * Files hold JSON (Mesos writes protobuf). Frameworks, executors and tasks are checkpointed only
 * for frameworks that ask for it (`FrameworkInfo.checkpoint`), as in Mesos; the agent's own
 * identity always is. Writes are atomic (a temporary file renamed over the target).
 */

export function metaDir(workDir: string): string {
  return join(workDir, 'meta');
}

/** Where the containerizer notes its running containers' processes, for orphan cleanup. */
export function containerPidsDir(workDir: string): string {
  return join(metaDir(workDir), 'containers');
}

export function agentMetaDir(workDir: string, agentId: string): string {
  return join(metaDir(workDir), 'slaves', agentId);
}

export function latestAgentLink(workDir: string): string {
  return join(metaDir(workDir), 'slaves', 'latest');
}

function frameworkMetaDir(workDir: string, agentId: string, frameworkId: string): string {
  return join(agentMetaDir(workDir, agentId), 'frameworks', frameworkId);
}

function executorMetaDir(workDir: string, agentId: string, frameworkId: string, executorId: string): string {
  return join(frameworkMetaDir(workDir, agentId, frameworkId), 'executors', executorId);
}

function taskMetaFile(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string, taskId: string): string {
  return join(executorMetaDir(workDir, agentId, frameworkId, executorId), 'runs', containerId, 'tasks', taskId, 'task.info');
}

function executorPidFile(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string, name: RunPidFile): string {
  return join(executorMetaDir(workDir, agentId, frameworkId, executorId), 'runs', containerId, 'pids', name);
}

/** An agent's sandboxes (Mesos `paths::getSlavePath`): `<work_dir>/slaves/<agent_id>`. */
export function agentWorkDir(workDir: string, agentId: string): string {
  return join(workDir, 'slaves', agentId);
}

/** A framework's sandboxes (Mesos `paths::getFrameworkPath`). */
export function frameworkWorkDir(workDir: string, agentId: string, frameworkId: string): string {
  return join(agentWorkDir(workDir, agentId), 'frameworks', frameworkId);
}

/** An executor's runs, and `runs/latest` (Mesos `paths::getExecutorPath`). */
export function executorWorkDir(workDir: string, agentId: string, frameworkId: string, executorId: string): string {
  return join(frameworkWorkDir(workDir, agentId, frameworkId), 'executors', executorId);
}

/** The sandbox of one run of an executor (Mesos `paths::getExecutorRunPath`). */
export function sandboxDir(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string): string {
  return join(executorWorkDir(workDir, agentId, frameworkId, executorId), 'runs', containerId);
}

/** Creates the sandbox and points `runs/latest` at it; returns its path. */
export function createSandbox(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string): string {
  const dir = sandboxDir(workDir, agentId, frameworkId, executorId, containerId);
  mkdirSync(dir, { recursive: true });
  replaceSymlink(containerId, join(dirname(dir), 'latest'));
  return dir;
}

/** Writes `file` whole or not at all: a temporary file renamed over it. */
export function writeAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

function replaceSymlink(target: string, link: string): void {
  const temp = `${link}.tmp`;
  rmSync(temp, { force: true });
  symlinkSync(target, temp);
  renameSync(temp, link);
}

/**
 * Forgets which agent this work directory holds (`meta/slaves/latest`), so that the next start
 * registers as a new agent rather than recover this one: what Mesos's agent does when its
 * master told it to shut down. The checkpoints themselves stay.
 */
export function forgetAgent(workDir: string): void {
  rmSync(latestAgentLink(workDir), { force: true });
}

/** Checkpoints the agent's id and info; `meta/slaves/latest` then names this agent. */
export function checkpointAgent(workDir: string, info: AgentInfo & { id: { value: string } }): void {
  writeAtomically(join(agentMetaDir(workDir, info.id.value), 'slave.info'), JSON.stringify(info));
  replaceSymlink(info.id.value, latestAgentLink(workDir));
}

/** Where a draining agent keeps its `DrainConfig` (Mesos `paths::getDrainConfigPath`). */
export function drainConfigFile(workDir: string, agentId: string): string {
  return join(agentMetaDir(workDir, agentId), 'drain.config');
}

/** Checkpoints the config of the drain under way, so that a restarted agent goes on draining. */
export function checkpointDrainConfig(workDir: string, agentId: string, config: DrainConfig): void {
  writeAtomically(drainConfigFile(workDir, agentId), JSON.stringify(config));
}

/** Forgets the drain config: the agent is drained. */
export function removeDrainConfig(workDir: string, agentId: string): void {
  rmSync(drainConfigFile(workDir, agentId), { force: true });
}

export function checkpointFramework(workDir: string, agentId: string, info: FrameworkInfo & { id: { value: string } }): void {
  writeAtomically(join(frameworkMetaDir(workDir, agentId, info.id.value), 'framework.info'), JSON.stringify(info));
}

export function checkpointExecutor(workDir: string, agentId: string, frameworkId: string, info: ExecutorInfo): void {
  writeAtomically(join(executorMetaDir(workDir, agentId, frameworkId, info.executor_id.value), 'executor.info'), JSON.stringify(info));
}

export function checkpointTask(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string, task: TaskInfo): void {
  writeAtomically(taskMetaFile(workDir, agentId, frameworkId, executorId, containerId, task.task_id.value), JSON.stringify(task));
}

/**
 * What a run's `pids/` directory holds, for the agent's next run to reach the executor again:
 * `libprocess.pid`, the UPID it registered from (Mesos's; the next run asks it there to
 * re-register); `token`, its secret for the agent's executor socket; `http.marker`, present when
 * it subscribed over the executor HTTP API (Mesos's; the next run waits for it to subscribe).
 */
export type RunPidFile = 'libprocess.pid' | 'token' | 'http.marker';

/** Checkpoints one of a run's `pids/` files (`RunPidFile`). */
export function checkpointRunPid(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string, file: RunPidFile, content: string): void {
  writeAtomically(executorPidFile(workDir, agentId, frameworkId, executorId, containerId, file), content);
}

/**
 * Forgets a completed task's checkpoint: its end was acknowledged, so a restarted agent must not
 * recover it as a task whose executor died (the status update manager no longer keeps its
 * stream, which is how Mesos's recovery tells a completed task).
 */
export function removeTaskCheckpoint(workDir: string, agentId: string, frameworkId: string, executorId: string, containerId: string, taskId: string): void {
  rmSync(dirname(taskMetaFile(workDir, agentId, frameworkId, executorId, containerId, taskId)), { recursive: true, force: true });
}

/** Forgets an executor's checkpoints (it is done). */
export function removeExecutorCheckpoint(workDir: string, agentId: string, frameworkId: string, executorId: string): void {
  rmSync(executorMetaDir(workDir, agentId, frameworkId, executorId), { recursive: true, force: true });
}

/** Forgets a framework's checkpoints (it was removed). */
export function removeFrameworkCheckpoint(workDir: string, agentId: string, frameworkId: string): void {
  rmSync(frameworkMetaDir(workDir, agentId, frameworkId), { recursive: true, force: true });
}

export interface RecoveredRun {
  readonly containerId: string;
  readonly tasks: TaskInfo[];
  /** The UPID the executor registered from; none if it never registered. */
  readonly pid: string | undefined;
  /** It subscribed over the executor HTTP API. */
  readonly http: boolean;
  /** Its secret for the agent's executor socket. */
  readonly token: string | undefined;
}

export interface RecoveredExecutor {
  readonly info: ExecutorInfo;
  readonly runs: RecoveredRun[];
}

export interface RecoveredFramework {
  readonly info: FrameworkInfo & { id: { value: string } };
  readonly executors: RecoveredExecutor[];
}

/** What a previous run of the agent left under `--work_dir`. */
export interface RecoveredState {
  readonly info: (AgentInfo & { id: { value: string } }) | undefined;
  /** The config of the drain that was under way (`drain.config`), if any: the agent goes on draining. */
  readonly drainConfig?: DrainConfig | undefined;
  readonly frameworks: RecoveredFramework[];
  /**
   * What could not be read, each naming its file and why (Mesos's `state.errors`); the piece it
   * describes (the agent, a framework, an executor, a run, a task) is left out of the rest.
   * With `--strict` (the default) any of them stops the agent; `--strict=false` goes on without.
   */
  readonly errors: string[];
}

/**
 * Reads the checkpoints of the latest agent (none on a first start). A checkpoint that cannot be
 * read is an error naming its file, and what it describes is left out. A checkpoint that is
 * missing where its directory exists is no error: the agent died after making the directory and
 * before writing the file into it (every file is written whole, by a rename), and what it would
 * have described never started. A directory that cannot be listed is an error.
 */
export async function recoverState(workDir: string): Promise<RecoveredState> {
  let agentId: string;
  try {
    agentId = basename(await readlink(latestAgentLink(workDir)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { info: undefined, frameworks: [], errors: [] };
    return { info: undefined, frameworks: [], errors: [`cannot read '${latestAgentLink(workDir)}': ${(error as Error).message}`] };
  }
  const errors: string[] = [];
  const dir = agentMetaDir(workDir, agentId);
  const info = await readCheckpoint<AgentInfo & { id: { value: string } }>(join(dir, 'slave.info'), errors);
  if (info === undefined) return { info: undefined, frameworks: [], errors };
  const drainConfig = await readDrainConfig(drainConfigFile(workDir, agentId), errors);
  const frameworks: RecoveredFramework[] = [];
  for (const frameworkId of await entries(join(dir, 'frameworks'), errors)) {
    const frameworkDir = join(dir, 'frameworks', frameworkId);
    const frameworkInfo = await readCheckpoint<FrameworkInfo & { id: { value: string } }>(join(frameworkDir, 'framework.info'), errors);
    if (frameworkInfo === undefined) continue;
    const executors: RecoveredExecutor[] = [];
    for (const executorId of await entries(join(frameworkDir, 'executors'), errors)) {
      const executorDir = join(frameworkDir, 'executors', executorId);
      const executorInfo = await readCheckpoint<ExecutorInfo>(join(executorDir, 'executor.info'), errors);
      if (executorInfo === undefined) continue;
      const runs: RecoveredRun[] = [];
      for (const containerId of await entries(join(executorDir, 'runs'), errors)) {
        const tasks: TaskInfo[] = [];
        for (const taskId of await entries(join(executorDir, 'runs', containerId, 'tasks'), errors)) {
          const task = await readCheckpoint<TaskInfo>(join(executorDir, 'runs', containerId, 'tasks', taskId, 'task.info'), errors);
          if (task !== undefined) tasks.push(task);
        }
        const read = (file: RunPidFile) => readOptional(executorPidFile(workDir, agentId, frameworkId, executorId, containerId, file), errors);
        const pid = await read('libprocess.pid');
        const http = (await read('http.marker')) !== undefined;
        const token = await read('token');
        runs.push({ containerId, tasks, pid, http, token });
      }
      executors.push({ info: executorInfo, runs });
    }
    frameworks.push({ info: frameworkInfo, executors });
  }
  return { info: { ...info, id: { value: agentId } }, ...(drainConfig !== undefined ? { drainConfig } : {}), frameworks, errors };
}

/** The checkpointed drain config; `undefined` if there is none, or (noted in `errors`) it is not a `DrainConfig`. */
async function readDrainConfig(file: string, errors: string[]): Promise<DrainConfig | undefined> {
  const value = await readCheckpoint<unknown>(file, errors);
  if (value === undefined) return undefined;
  const parsed = DrainConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  errors.push(`checkpoint '${file}' is not a drain config: ${issue !== undefined ? `'${issue.path.join('.')}': ${issue.message}` : parsed.error.message}`);
  return undefined;
}

async function entries(dir: string, errors: string[]): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') errors.push(`cannot list '${dir}': ${(error as Error).message}`);
    return [];
  }
}

/** A file's text; `undefined` if it does not exist, or (noted in `errors`) cannot be read. */
async function readOptional(file: string, errors: string[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') errors.push(`cannot read '${file}': ${(error as Error).message}`);
    return undefined;
  }
}

/** A checkpoint's JSON; `undefined` if it does not exist, or (noted in `errors`) cannot be read or is not a JSON object. */
async function readCheckpoint<T>(file: string, errors: string[]): Promise<T | undefined> {
  const text = await readOptional(file, errors);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    errors.push(`checkpoint '${file}' is not valid JSON: ${(error as Error).message}`);
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`checkpoint '${file}' is not a JSON object`);
    return undefined;
  }
  return value as T;
}
