import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MesosError } from '../../src/errors.ts';
import type { CheckpointResources } from '../../src/mesos/protocol.ts';
import { applyCheckpointedResources, describe } from '../../src/mesos/resource-conversions.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { Resource } from '../../src/mesos/v1/common.ts';
import type { UPID } from '../../src/process/upid.ts';
import type { Agent } from './agent.ts';
import { metaDir, writeAtomically } from './checkpoint.ts';
import { recoverVolumes, syncVolumes } from './volumes.ts';

/**
 * The agent's dynamic reservations and persistent volumes (Mesos's `Slave::checkpointResources`,
 * and its recovery of `meta/resources/resources.info`):
 *
 * 1. `CheckpointResourcesMessage` from its master: the whole new set of its dynamically reserved
 *    resources and persistent volumes, written atomically to
 *    `<work_dir>/meta/resources/resources.info` (a JSON array of v1 `Resource`); its total
 *    becomes its `--resources` with them applied, which `/state` and the metrics show, and the
 *    volumes' directories follow (`volumes.ts`). A set identical to the current one changes
 *    nothing; one that is not valid resources, or that its `--resources` cannot hold, is dropped
 *    with a warning.
 * 2. Recovery (`readCheckpointed`, `applyRecovered`, `recovered`): a restarted agent reads the
 *    file back. One it cannot read is a recovery error (fatal with `--strict`); one its
 *    `--resources` cannot hold stops it whatever `--strict` says (`registration.ts`'s
 *    `IncompatibleCheckpointedResourcesError`), as Mesos's agent fails its recovery.
 * 3. Its (re-)registrations carry them as `checkpointed_resources` (`registration.ts`): how a
 *    master that failed over learns them.
 *
 * The file lies outside `meta/slaves/<agent_id>`, as in Mesos: an agent that registers anew
 * (its id forgotten) keeps its reservations.
 */

/** Where the agent checkpoints its dynamic reservations (Mesos's `paths::getResourcesInfoPath`). */
export function resourcesInfoFile(workDir: string): string {
  return join(metaDir(workDir), 'resources', 'resources.info');
}

/** `CheckpointResourcesMessage`: the master's new set of this agent's checkpointed resources. */
export function checkpointResources(agent: Agent, from: UPID, body: CheckpointResources): void {
  if (!agent.heeds(from, 'checkpointed resources')) return;
  let resources: Resources;
  try {
    resources = Resources.fromJSON((body as { resources?: unknown } | null)?.resources);
  } catch (error) {
    if (!(error instanceof MesosError)) throw error;
    agent.log.warn({ from: String(from), reason: `'resources': ${error.message}` }, 'Ignoring invalid checkpointed resources');
    return;
  }
  if (resources.equals(agent.checkpointedResources)) {
    agent.log.debug({ resources: String(resources) }, 'Ignoring new checkpointed resources identical to the current version');
    return;
  }
  const total = applyCheckpointedResources(agent.flagResources, resources);
  if (typeof total === 'string') {
    agent.log.warn({ from: String(from), reason: total, resources: String(resources) }, 'Ignoring checkpointed resources the agent resources cannot hold');
    return;
  }
  const file = resourcesInfoFile(agent.flags.workDir);
  try {
    writeAtomically(file, JSON.stringify(resources.toJSON()));
  } catch (error) {
    // The master's books have them: it sends them again when the agent re-registers.
    agent.log.error({ err: error, file }, 'Failed to checkpoint resources; they hold until the agent restarts');
  }
  agent.log.info({ resources: String(resources), was: String(agent.checkpointedResources) }, 'Updated checkpointed resources');
  syncVolumes(agent, agent.checkpointedResources, resources);
  agent.checkpointedResources = resources;
  agent.totalResources = total;
}

/** What a previous run checkpointed: none (no file), the resources, or why they cannot be read. */
export type CheckpointedRead = { readonly resources?: Resources; readonly error?: string };

/** Reads `resources.info` back: none when there is no file; an error naming the file otherwise. */
export async function readCheckpointed(workDir: string): Promise<CheckpointedRead> {
  const file = resourcesInfoFile(workDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { error: `cannot read '${file}': ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `checkpoint '${file}' is not valid JSON: ${(error as Error).message}` };
  }
  try {
    return { resources: Resources.fromJSON(json) };
  } catch (error) {
    if (!(error instanceof MesosError)) throw error;
    return { error: `checkpoint '${file}' does not hold resources: ${error.message}` };
  }
}

/** Recovered reservations, and the agent's total with them. */
export interface Reserved {
  readonly checkpointed: Resources;
  readonly total: Resources;
}

/**
 * The recovered reservations applied to the agent's `--resources`; `undefined` when there are
 * none; why not (a string) when its `--resources` cannot hold them.
 */
export function applyRecovered(agent: Agent, resources: Resources | undefined): Reserved | string | undefined {
  if (resources === undefined || resources.isEmpty()) return undefined;
  const total = applyCheckpointedResources(agent.flagResources, resources);
  if (typeof total === 'string') {
    return `Checkpointed resources ${describe(resources)} are incompatible with agent resources ${describe(agent.flagResources)}: ${total}`;
  }
  return { checkpointed: resources, total };
}

/** In the mailbox, once recovery read them: the agent's reservations are the recovered ones. */
export function recovered(agent: Agent, reserved: Reserved | undefined): void {
  if (reserved === undefined) return;
  agent.checkpointedResources = reserved.checkpointed;
  agent.totalResources = reserved.total;
  agent.log.info({ resources: String(reserved.checkpointed) }, 'Recovered checkpointed resources');
  recoverVolumes(agent, reserved.checkpointed);
}

/** `checkpointed_resources` for a (re-)registration: present when the agent has any. */
export function registrationField(agent: Agent): { checkpointed_resources?: Resource[] } {
  return agent.checkpointedResources.isEmpty() ? {} : { checkpointed_resources: agent.checkpointedResources.toJSON() as Resource[] };
}
