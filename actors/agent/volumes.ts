import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MesosError } from '../../src/errors.ts';
import { needsCheckpointing } from '../../src/mesos/resource-conversions.ts';
import { reservationRole, type ResourceEntry } from '../../src/mesos/resource-values.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { ExecutorInfo, TaskInfo } from '../../src/mesos/v1/common.ts';
import type { Agent } from './agent.ts';
import type { ExecutorRecord } from './state.ts';

/**
 * The agent's persistent volumes (Mesos's `Slave::syncCheckpointedResources`, its recovery of
 * them, and the `filesystem/posix` isolator):
 *
 * 1. Each volume the master checkpoints here is a directory of its own,
 *    `<work_dir>/volumes/roles/<role>/<persistence id>` (Mesos's `getPersistentVolumePath`; a
 *    `/` of a hierarchical role written as a space), made when the volume first comes and
 *    removed, with what it holds, when a DESTROY takes it away (`syncVolumes`). The master has
 *    refused to destroy a volume in use.
 * 2. A restarted agent makes again the directory of a checkpointed volume that is missing
 *    (`recoverVolumes`), empty: what was in it is gone.
 * 3. A task (or an executor) launched with a volume among its resources sees it in its sandbox:
 *    `<sandbox>/<container_path>` is a symlink to the volume's directory (`linkVolumes`), as
 *    Mesos's POSIX isolator makes it, in the executor's sandbox, and for a task of a group also
 *    in the task's own (`tasks/<task id>`). What is written there is in the volume, so it
 *    outlives the task, its executor and the agent. As with that isolator, a read-only volume is
 *    linked read-write (a warning says so).
 * 4. A task whose checkpointed resources (volumes, dynamic reservations) the agent does not know
 *    (its master's `CheckpointResourcesMessage` did not arrive) is not run (`unknownResources`):
 *    Mesos's `REASON_RESOURCES_UNKNOWN`.
 */

/** Where persistent volumes live (Mesos's `paths::getPersistentVolumePath(workDir)`). */
export function volumesDir(workDir: string): string {
  return join(workDir, 'volumes');
}

/** The directory of one volume: `volumes/roles/<role, '/' as ' '>/<persistence id>`. */
export function volumePath(workDir: string, volume: ResourceEntry): string {
  if (volume.disk === undefined) throw new Error(`'${volume.name}' is not a persistent volume`);
  return join(volumesDir(workDir), 'roles', reservationRole(volume).replaceAll('/', ' '), volume.disk.persistence.id);
}

/**
 * The master's new checkpointed resources replace `previous`: each new volume's directory is
 * made, each destroyed one's removed. A failure is logged (the volume's tasks will say what is
 * wrong); it does not undo the checkpoint, which is the master's word.
 */
export function syncVolumes(agent: Agent, previous: Resources, next: Resources): void {
  const workDir = agent.flags.workDir;
  const before = previous.persistentVolumes();
  const after = next.persistentVolumes();
  for (const volume of after.entries()) {
    if (before.contains(Resources.fromEntries([volume]))) continue;
    const path = volumePath(workDir, volume);
    try {
      mkdirSync(path, { recursive: true });
      agent.log.info({ persistenceId: volume.disk!.persistence.id, path }, 'Created persistent volume');
    } catch (error) {
      agent.log.error({ err: error, path }, 'Failed to create persistent volume');
    }
  }
  for (const volume of before.entries()) {
    if (after.contains(Resources.fromEntries([volume]))) continue;
    const path = volumePath(workDir, volume);
    // Another volume of the role with the same id (another container path) keeps the directory.
    if (after.entries().some((v) => volumePath(workDir, v) === path)) continue;
    try {
      rmSync(path, { recursive: true, force: true });
      agent.log.info({ persistenceId: volume.disk!.persistence.id, path }, 'Removed persistent volume');
    } catch (error) {
      agent.log.error({ err: error, path }, 'Failed to remove persistent volume');
    }
  }
}

/** Recovery: the directory of every checkpointed volume is there, made again (empty) if it went missing. */
export function recoverVolumes(agent: Agent, checkpointed: Resources): void {
  for (const volume of checkpointed.persistentVolumes().entries()) {
    const path = volumePath(agent.flags.workDir, volume);
    if (existsSync(path)) continue;
    try {
      mkdirSync(path, { recursive: true });
      agent.log.warn({ persistenceId: volume.disk!.persistence.id, path }, 'Recreated the missing directory of a checkpointed persistent volume');
    } catch (error) {
      agent.log.error({ err: error, path }, 'Failed to recreate the directory of a checkpointed persistent volume');
    }
  }
}

/** Resources from JSON the master sent; nothing when they do not parse (the master validated them). */
function parsed(json: unknown): Resources {
  try {
    return Resources.fromJSON(json ?? []);
  } catch (error) {
    if (!(error instanceof MesosError)) throw error;
    return Resources.EMPTY;
  }
}

/**
 * Why the agent cannot run `tasks` (and `executor`, when it is launched for them): they use
 * checkpointed resources it does not have (Mesos's `Slave::__run` check); `undefined` if none.
 */
export function unknownResources(agent: Agent, tasks: readonly TaskInfo[], executor: ExecutorInfo | undefined): string | undefined {
  let used = parsed(executor?.resources);
  for (const task of tasks) used = used.plus(parsed(task.resources));
  for (const entry of used.entries()) {
    if (!needsCheckpointing(entry)) continue;
    const one = Resources.fromEntries([entry]);
    if (!agent.checkpointedResources.contains(one)) return `The checkpointed resources being used by the task or task group are unknown to the agent: ${String(one)}`;
  }
  return undefined;
}

/**
 * Makes the volumes of `tasks` (and of the executor's own resources, when `launching` it)
 * visible in their sandboxes; why not, naming the path, when a link cannot be made.
 */
export function linkVolumes(agent: Agent, executor: ExecutorRecord, tasks: readonly TaskInfo[], launching: boolean): string | undefined {
  const links: [sandbox: string, volumes: Resources][] = [];
  if (launching) links.push([executor.directory, parsed(executor.info.resources).persistentVolumes()]);
  for (const task of tasks) {
    const volumes = parsed(task.resources).persistentVolumes();
    if (volumes.isEmpty()) continue;
    links.push([executor.directory, volumes]);
    if (executor.defaultExecutor) links.push([join(executor.directory, 'tasks', task.task_id.value), volumes]);
  }
  for (const [sandbox, volumes] of links) {
    for (const volume of volumes.entries()) {
      const problem = link(agent, executor, sandbox, volume);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** `<sandbox>/<container_path>` → the volume's directory (made if missing), or why it cannot be. */
function link(agent: Agent, executor: ExecutorRecord, sandbox: string, volume: ResourceEntry): string | undefined {
  const { persistence, volume: info } = volume.disk!;
  const target = volumePath(agent.flags.workDir, volume);
  const path = join(sandbox, info.container_path);
  try {
    if (!existsSync(target)) {
      agent.log.warn({ persistenceId: persistence.id, path: target }, 'Recreating the missing directory of a persistent volume');
      mkdirSync(target, { recursive: true });
    }
    const existing = lstatOrUndefined(path);
    if (existing !== undefined) {
      if (!existing.isSymbolicLink()) return `Failed to symlink persistent volume '${persistence.id}' to '${path}': something else is there`;
      const current = readlinkSync(path);
      if (current === target) return undefined;
      // A link a previous task of this executor left, to a volume no task of it uses now, goes.
      const inUse = executor.resources().persistentVolumes().entries().some((v) => volumePath(agent.flags.workDir, v) === current);
      if (inUse) return `The existing symlink '${path}' points to '${current}' and the new target is '${target}'`;
      unlinkSync(path);
    }
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(target, path);
  } catch (error) {
    return `Failed to symlink persistent volume '${persistence.id}' from '${target}' to '${path}': ${(error as Error).message}`;
  }
  if (info.mode === 'RO') agent.log.warn({ persistenceId: persistence.id, path }, 'Allowing read-write access to a read-only persistent volume');
  agent.log.info({ persistenceId: persistence.id, from: target, to: path }, 'Linked persistent volume into the sandbox');
  return undefined;
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
