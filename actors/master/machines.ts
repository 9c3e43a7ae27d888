import { isIPv4 } from 'node:net';
import type { Unavailability } from '../../src/mesos/v1/common.ts';
import type { MachineID, Schedule } from '../../src/mesos/v1/maintenance.ts';
import type { MaintenanceMachine, MaintenanceRecord } from './registry.ts';

/**
 * Machines and maintenance schedules as plain data, the decisions of Mesos's
 * `master/maintenance.cpp` without a master: how machine ids compare, which agents a machine id
 * names, Mesos's validation of a schedule and of a list of machines (in its words, each naming
 * the machine or the window), and the registry operations `UpdateSchedule`,
 * `StartMaintenance` and `StopMaintenance` as "record in, record out" (`maintenance.ts` applies
 * them).
 *
 * Machines and agents. In Mesos an agent runs on the machine `{hostname, ip}` of its
 * `SlaveInfo.hostname` and its libprocess IP, and a machine id names it only when both fields
 * are equal (the hostname without regard to case; a field left out is `""`, which no agent
 * has). Here an agent's IP is the one it announces when it registers (`RegisterSlaveMessage.ip`:
 * its HTTP server's address, or its `--hostname` when that is an IPv4 address), and a machine id
 * names every agent whose hostname and IP are those it gives: a field left out matches any agent,
 * so `{"hostname": "node1"}` names every agent on node1 whatever its IP, and an agent that
 * announced no IP is named by hostname alone. A full id behaves as in Mesos.
 */

/** An agent's machine: its hostname, and the IP it announced if any. */
export interface AgentMachine {
  readonly hostname: string;
  readonly ip?: string | undefined;
}

/** The machine id with its empty fields left out (an empty field is no field, as in Mesos's validation). */
export function normalizeMachineId(id: MachineID): MachineID {
  return { ...(id.hostname ? { hostname: id.hostname } : {}), ...(id.ip ? { ip: id.ip } : {}) };
}

/** The key two ids of one machine share (Mesos's `MachineID` equality): the hostname in lower case, and the IP. */
export function machineKey(id: MachineID): string {
  return `${(id.hostname ?? '').toLowerCase()}\u0000${id.ip ?? ''}`;
}

/** A machine id as Mesos names it in its errors (its JSON): `{"hostname":"node1","ip":"10.0.0.1"}`. */
export function machineName(id: MachineID): string {
  return JSON.stringify(normalizeMachineId(id));
}

/** Whether `id` names the machine of `agent` (see the header: each field given must be the agent's). */
export function machineMatches(id: MachineID, agent: AgentMachine): boolean {
  if (!id.hostname && !id.ip) return false;
  if (id.hostname && id.hostname.toLowerCase() !== agent.hostname.toLowerCase()) return false;
  if (id.ip && id.ip !== agent.ip) return false;
  return true;
}

/**
 * Why a machine id is not valid (Mesos's `validation::machine`), naming it and where it is
 * (`at`: `windows[0].machine_ids[1]`), or `undefined`.
 */
export function machineProblem(id: MachineID, at: string): string | undefined {
  if (!id.hostname && !id.ip) return `Both 'hostname' and 'ip' for a machine are empty ('${at}')`;
  if (id.ip && !isIPv4(id.ip)) return `Machine '${machineName(id)}' has an invalid 'ip' ('${at}.ip'): '${id.ip}' is not an IPv4 address`;
  return undefined;
}

/**
 * Why a list of machines (`/master/machine/down`, START_MAINTENANCE, ...) is not valid, as
 * Mesos's `validation::machines`: empty, a machine not valid, or one listed twice; `field` names
 * the list (`machines`, `start_maintenance.machines`).
 */
export function machinesProblem(ids: readonly MachineID[], field: string): string | undefined {
  if (ids.length === 0) return `List of machines is empty ('${field}')`;
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    const problem = machineProblem(id, `${field}[${i}]`);
    if (problem !== undefined) return problem;
    const key = machineKey(id);
    if (seen.has(key)) return `Machine '${machineName(id)}' appears more than once in the list of machines ('${field}')`;
    seen.add(key);
  }
  return undefined;
}

/**
 * Why a schedule is not valid, as Mesos's `validation::schedule`: a window without machines, a
 * negative duration, a machine id that is not valid, a machine in more than one place, or a
 * machine `DOWN` (in `machines`, by key) left out of it (the schedule cannot bring a machine up:
 * `/master/machine/up` does). `field` names the schedule in the call
 * (`update_maintenance_schedule.schedule`; `''` for the body of `/master/maintenance/schedule`).
 */
export function scheduleProblem(schedule: Schedule, machines: ReadonlyMap<string, MaintenanceMachine>, field: string): string | undefined {
  const scheduled = new Set<string>();
  for (const [w, window] of (schedule.windows ?? []).entries()) {
    const at = `${field === '' ? '' : `${field}.`}windows[${w}]`;
    const ids = window.machine_ids ?? [];
    if (ids.length === 0) return `List of machines in the maintenance window is empty ('${at}.machine_ids')`;
    const duration = window.unavailability.duration?.nanoseconds;
    if (duration !== undefined && duration < 0) return `Unavailability 'duration' is negative ('${at}.unavailability.duration': ${duration} nanoseconds)`;
    for (const [i, id] of ids.entries()) {
      const problem = machineProblem(id, `${at}.machine_ids[${i}]`);
      if (problem !== undefined) return problem;
      const key = machineKey(id);
      if (scheduled.has(key)) return `Machine '${machineName(id)}' appears more than once in the schedule`;
      scheduled.add(key);
    }
  }
  for (const [key, machine] of machines) {
    if (machine.mode === 'DOWN' && !scheduled.has(key)) return `Machine '${machineName(machine.id)}' is deactivated and cannot be removed from the schedule`;
  }
  return undefined;
}

/**
 * The registry after a new schedule (Mesos's `UpdateSchedule`): it replaces the old one; each
 * machine in it keeps its mode (`DOWN` stays `DOWN`) or, new, is `DRAINING`, with the
 * unavailability of its window; a machine left out is `UP` (no longer kept). Empty fields of the
 * ids are left out.
 */
export function updateSchedule(current: MaintenanceRecord, schedule: Schedule): MaintenanceRecord {
  const modes = new Map(current.machines.map((m) => [machineKey(m.id), m.mode]));
  const machines: MaintenanceMachine[] = [];
  const windows = (schedule.windows ?? []).map((window) => {
    const ids = (window.machine_ids ?? []).map(normalizeMachineId);
    for (const id of ids) machines.push({ id, mode: modes.get(machineKey(id)) ?? 'DRAINING', unavailability: window.unavailability });
    return { machine_ids: ids, unavailability: window.unavailability };
  });
  return { schedule: { windows }, machines };
}

/** The registry once these machines (all `DRAINING`, as validated) are `DOWN` (Mesos's `StartMaintenance`). */
export function startMaintenance(current: MaintenanceRecord, ids: readonly MachineID[]): MaintenanceRecord {
  const down = new Set(ids.map(machineKey));
  return { schedule: current.schedule, machines: current.machines.map((m) => (down.has(machineKey(m.id)) ? { ...m, mode: 'DOWN' } : m)) };
}

/**
 * The registry once these machines (all `DOWN`, as validated) are `UP` (Mesos's
 * `StopMaintenance`): no longer kept, and out of the schedule; a window left without machines
 * goes too.
 */
export function stopMaintenance(current: MaintenanceRecord, ids: readonly MachineID[]): MaintenanceRecord {
  const up = new Set(ids.map(machineKey));
  const windows = (current.schedule.windows ?? [])
    .map((window) => ({ ...window, machine_ids: (window.machine_ids ?? []).filter((id) => !up.has(machineKey(id))) }))
    .filter((window) => window.machine_ids.length > 0);
  return { schedule: { windows }, machines: current.machines.filter((m) => !up.has(machineKey(m.id))) };
}

/** Whether two unavailabilities are the same interval (none and none are). */
export function sameUnavailability(a: Unavailability | undefined, b: Unavailability | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.start.nanoseconds === b.start.nanoseconds && a.duration?.nanoseconds === b.duration?.nanoseconds;
}
