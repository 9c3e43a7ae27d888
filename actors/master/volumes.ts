import { isAbsolute } from 'node:path';
import { authorized } from './authorizer.ts';
import { describe, volumeConversion } from '../../src/mesos/resource-conversions.ts';
import { reservationRole, type ResourceEntry } from '../../src/mesos/resource-values.ts';
import { Resources } from '../../src/mesos/resources.ts';
import type { OfferOperation } from '../../src/mesos/v1/common.ts';
import type { Master } from './master-process.ts';
import { applyOfferOperation, parseResources, type RoleConversion } from './reservations.ts';
import type { AgentRecord, FrameworkRecord } from './state.ts';

/**
 * Persistent volumes on the master: Mesos's CREATE and DESTROY (`master/validation.cpp`'s
 * `operation::validate(Create)` and `validate(Destroy)`, `Master::_accept`, `Master::_apply`).
 *
 * 1. Validation (`createConversions`, `destroyConversions`), in Mesos's words where it has
 *    them: every resource is a persistent volume (`disk` with `persistence` and `volume`), read
 *    and write; CREATE makes it of reserved disk, under a `container_path` relative to the
 *    sandbox (Mesos's POSIX isolator links it there), with a persistence id no other volume of
 *    its role has on the agent, and the principal of who asks when that is known; DESTROY
 *    finds the volume on the agent and no task or executor using it. A valid operation is one
 *    resource conversion (`volumeConversion`): the reserved disk becomes the volume, or back.
 * 2. CREATE and DESTROY in an ACCEPT (`offerOperation`): applied in order with the other
 *    operations to what is left of the offers, so that a LAUNCH after a CREATE uses the
 *    volume; an invalid or unauthorized one is dropped with a warning and the others still
 *    apply. The agent is sent its new checkpointed resources, volumes included, as for a
 *    reservation (`reservations.apply`): it makes or removes the volume's directory.
 * 3. Authorization (`volumesUnauthorized`): `create_volumes` for the role of each volume,
 *    `destroy_volumes` for the principal that created it (Mesos's `authorizeCreateVolume`,
 *    `authorizeDestroyVolume`).
 *
 * The operator's CREATE_VOLUMES, DESTROY_VOLUMES, `/master/create-volumes` and
 * `/master/destroy-volumes` are in `operator-volumes.ts`.
 */

/** A CREATE or DESTROY payload (`Offer.Operation.Create`, `master::Call.CreateVolumes`, ...). */
export interface VolumesPayload {
  readonly volumes?: unknown;
}

/** The volumes of a CREATE or DESTROY, each a persistent volume, or why not (Mesos's `validatePersistentVolume`). */
function persistentVolumes(payload: VolumesPayload): Resources | string {
  const volumes = parseResources(payload.volumes, 'resources');
  if (typeof volumes === 'string') return volumes;
  if (volumes.isEmpty()) return "Invalid resources: 'volumes' must not be empty";
  for (const entry of volumes.entries()) {
    if (entry.disk === undefined) return `Not a persistent volume: Resource ${describe(Resources.fromEntries([entry]))} does not have DiskInfo`;
    if (entry.disk.volume.mode === 'RO') return 'Not a persistent volume: Read-only persistent volume not supported';
  }
  return volumes;
}

/**
 * Why a volume cannot be created as it is (Mesos's `validateDiskInfo`, and what the POSIX
 * isolator can link): not of reserved disk, or a `container_path` that is absolute or leaves
 * the sandbox.
 */
function diskInfoProblem(entry: ResourceEntry): string | undefined {
  if (entry.reservations.length === 0) return 'Persistent volumes cannot be created from unreserved resources';
  const { persistence, volume } = entry.disk!;
  const path = volume.container_path;
  if (isAbsolute(path)) return `'container_path' '${path}' of persistent volume '${persistence.id}' must be relative to the sandbox`;
  if (path.split('/').some((part) => part === '..')) return `'container_path' '${path}' of persistent volume '${persistence.id}' must not leave the sandbox ('..')`;
  return undefined;
}

/** The persistence ids of `volumes` by role, or the first id used twice in one role (Mesos's `validateUniquePersistenceID`). */
function duplicateId(volumes: readonly ResourceEntry[]): string | undefined {
  const ids = new Map<string, Set<string>>();
  for (const entry of volumes) {
    const role = reservationRole(entry);
    const id = entry.disk!.persistence.id;
    let seen = ids.get(role);
    if (seen === undefined) ids.set(role, (seen = new Set()));
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

/**
 * CREATE's conversion on `agent`, or why it is invalid (Mesos's `validate(Create)`): `principal`,
 * when known (the framework's, or the one the operator's request authenticated as), is who
 * every volume must name in `persistence.principal`.
 */
export function createConversions(create: VolumesPayload, agent: AgentRecord, principal: string | undefined): RoleConversion[] | string {
  const volumes = persistentVolumes(create);
  if (typeof volumes === 'string') return volumes;
  for (const entry of volumes.entries()) {
    const problem = diskInfoProblem(entry);
    if (problem !== undefined) return `Invalid resources: Invalid DiskInfo: ${problem}`;
  }
  const duplicate = duplicateId([...agent.checkpointed.persistentVolumes().entries(), ...agent.creatingVolumes.entries(), ...volumes.entries()]);
  if (duplicate !== undefined) return `Persistence ID '${duplicate}' is not unique`;
  if (principal !== undefined) {
    for (const entry of volumes.entries()) {
      const named = entry.disk!.persistence.principal;
      if (named === undefined) {
        return `Create volume operation has been attempted by principal '${principal}', but there is a volume in the operation with no principal set in 'DiskInfo.Persistence'`;
      }
      if (named !== principal) {
        return `Create volume operation has been attempted by principal '${principal}', but there is a volume in the operation with principal '${named}' set in 'DiskInfo.Persistence'`;
      }
    }
  }
  return [volumeConversion('CREATE', volumes)];
}

/**
 * DESTROY's conversion on `agent`, or why it is invalid (Mesos's `validate(Destroy)`): the
 * volumes are the agent's, and no task or executor there uses one of them.
 */
export function destroyConversions(destroy: VolumesPayload, agent: AgentRecord): RoleConversion[] | string {
  const volumes = persistentVolumes(destroy);
  if (typeof volumes === 'string') return volumes;
  if (!agent.checkpointed.contains(volumes)) return 'Persistent volumes not found';
  for (const used of agent.usedByFramework().values()) {
    for (const entry of volumes.entries()) if (used.contains(Resources.fromEntries([entry]))) return 'Persistent volumes in use';
  }
  return [volumeConversion('DESTROY', volumes)];
}

/**
 * `--acls` (Mesos's `authorizeCreateVolume`, `authorizeDestroyVolume`): what of these volumes
 * `principal` may not create or destroy, or `undefined`. CREATE asks `create_volumes` for the
 * role of each volume (its innermost reservation's), DESTROY asks `destroy_volumes` for the
 * principal each was created by.
 */
export function volumesUnauthorized(m: Master, type: 'CREATE' | 'DESTROY', principal: string | undefined, conversions: readonly RoleConversion[]): string | undefined {
  const volumes = conversions.flatMap((c) => (type === 'CREATE' ? c.converted : c.consumed).persistentVolumes().entries());
  if (type === 'CREATE') {
    const role = volumes.map(reservationRole).find((r) => !authorized(m, 'create_volumes', principal, r));
    return role === undefined ? undefined : `create volumes for role '${role}'`;
  }
  const creators = volumes.map((v) => v.disk!.persistence.principal);
  const refused = creators.findIndex((p) => !authorized(m, 'destroy_volumes', principal, p));
  if (refused < 0) return undefined;
  const creator = creators[refused];
  return `destroy volumes created by ${creator === undefined ? 'no principal' : `principal '${creator}'`}`;
}

/**
 * CREATE or DESTROY in an ACCEPT of offers on `agent`: applied to `remaining` (what the offers
 * hold, less what earlier operations took), the agent's books and the allocator's; returns
 * what is left. Dropped with a warning when invalid, unauthorized, or when `remaining` does not
 * hold what it converts (a volume in use is not offered).
 */
export function offerOperation(
  m: Master,
  framework: FrameworkRecord,
  agent: AgentRecord | undefined,
  op: Extract<OfferOperation, { type: 'CREATE' | 'DESTROY' }>,
  remaining: Resources,
): Resources {
  const principal = framework.info.principal;
  return applyOfferOperation(m, framework, agent, op.type, remaining, {
    convert: (on) => (op.type === 'CREATE' ? createConversions(op.create, on, principal) : destroyConversions(op.destroy, on)),
    unauthorized: (conversions) => volumesUnauthorized(m, op.type, principal, conversions),
  });
}
