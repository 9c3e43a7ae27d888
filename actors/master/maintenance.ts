import { z } from 'zod';
import { InvalidMessageError } from '../../src/errors.ts';
import { badRequest, jsonp, methodNotAllowed, ok } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { SHUTDOWN_SLAVE, type ShutdownSlave } from '../../src/mesos/protocol.ts';
import type { AgentInfo, Unavailability } from '../../src/mesos/v1/common.ts';
import { MachineIDSchema, ScheduleSchema, type ClusterStatus, type MachineID, type MachineInfo, type Schedule } from '../../src/mesos/v1/maintenance.ts';
import { parseWith } from '../../src/mesos/v1/validate.ts';
import type { UPID } from '../../src/process/upid.ts';
import * as agents from './agents.ts';
import * as inverseOffers from './inverse-offers.ts';
import { InverseOffersState } from './inverse-offers.ts';
import * as machines from './machines.ts';
import { machineKey, machineMatches, machineName, type AgentMachine } from './machines.ts';
import type { Master } from './master-process.ts';
import { authorizeEach } from './operator-authorization.ts';
import { registryAnswer } from './operator-api.ts';
import type { MaintenanceMachine, MaintenanceRecord } from './registry.ts';
import { redirect } from './scheduler-api.ts';
import type { AgentRecord } from './state.ts';

/**
 * Maintenance primitives (Mesos 0.25+, `docs/maintenance.md`; Mesos's `Master::Http`
 * maintenance handlers and `Master::machines`):
 *
 * 1. Schedules: `GET`/`POST /master/maintenance/schedule` and GET_MAINTENANCE_SCHEDULE /
 *    UPDATE_MAINTENANCE_SCHEDULE. A new schedule is checked as Mesos checks it
 *    (`machines.scheduleProblem`), written to the registry, then replaces the old one: its
 *    machines are `DRAINING` (those `DOWN` stay `DOWN`), machines left out are `UP` again.
 * 2. Modes: `POST /master/machine/down` and `/master/machine/up` (a JSON array of machine ids)
 *    and START_MAINTENANCE / STOP_MAINTENANCE. Only a `DRAINING` machine goes `DOWN`: once the
 *    registry has it, every agent on it is told to shut down (`ShutdownMessage`) and removed,
 *    its tasks `TASK_LOST` (REASON_AGENT_REMOVED), and an agent that registers from a `DOWN`
 *    machine is refused and told to shut down (`refuseDown`). Only a `DOWN` machine comes `UP`,
 *    and leaves the schedule; its agents may register again.
 * 3. Status: `GET /master/maintenance/status` and GET_MAINTENANCE_STATUS: the draining machines,
 *    each with its agents' inverse offer statuses (`inverse-offers.ts`), and the down machines.
 * 4. Agents: which machine an agent is on (`machines.ts`: hostname and announced IP); an agent
 *    on a `DRAINING` machine has its window's unavailability, which its offers carry and for
 *    which the frameworks using it get inverse offers (`inverse-offers.ts`). The master
 *    re-reads it whenever the schedule, a mode or the agent changes (`refreshAgents`,
 *    `agentAdmitted`).
 * 5. Recovery: a newly elected master reads the schedule and modes from the registry
 *    (`recover`), before any agent re-registers, so that one on a `DOWN` machine stays out.
 *
 * The operations run one at a time (`inTurn`), each checked against, and computing the next
 * registry record from, what the one before it left: with a registry on the bus, a second one
 * waits for the first one's write. `update_maintenance_schedules`, `start_maintenances` and
 * `stop_maintenances` ACLs (`--acls`, objects `machines`: ANY or NONE) authorize them, `403`
 * when refused, in the v1 API (`operator-authorization.ts`) and the v0 endpoints alike.
 */

/** What Mesos's master says to the agents of a machine going `DOWN`, and in their tasks' updates. */
export const MACHINE_DOWN_MESSAGE = "Operator initiated 'Machine DOWN'";
/** What Mesos's master says to an agent registering from a `DOWN` machine. */
export const MACHINE_IS_DOWN_MESSAGE = 'Machine is `DOWN`';

/** The master's maintenance books (`Master.maintenance`). */
export class MaintenanceState {
  /** The schedule (Mesos keeps a list of one). */
  schedule: Schedule = { windows: [] };
  /** Machines `DRAINING` or `DOWN`, by `machineKey`, in the schedule's order. */
  machines = new Map<string, MaintenanceMachine>();
  readonly inverse = new InverseOffersState();
  /** The answer of the latest operation, while it is not done (`inTurn`). */
  latest: Promise<HttpResponse> | undefined;

  /** The books as the registry keeps them. */
  record(): MaintenanceRecord {
    return { schedule: this.schedule, machines: [...this.machines.values()] };
  }

  /** Takes `record` as the books. */
  apply(record: MaintenanceRecord): void {
    this.schedule = record.schedule;
    this.machines = new Map(record.machines.map((machine) => [machineKey(machine.id), machine]));
  }
}

/** A newly elected master's maintenance, from the registry (Mesos's `Master::_recover`). */
export function recover(m: Master, record: MaintenanceRecord): void {
  m.maintenance.apply(record);
  if (record.machines.length > 0) {
    const down = record.machines.filter((machine) => machine.mode === 'DOWN').length;
    m.log.info({ draining: record.machines.length - down, down }, 'Recovered the maintenance schedule from the registry');
  }
  refreshAgents(m);
}

// ---------------------------------------------------------------------------------------------
// Agents and their machines.

/** The machine `agent` runs on. */
function agentMachine(agent: AgentRecord): AgentMachine {
  return { hostname: agent.info.hostname, ip: agent.ip };
}

/** The first scheduled machine (`DRAINING` or `DOWN`) that names the agent's machine, if any. */
function scheduledMachine(m: Master, agent: AgentMachine): MaintenanceMachine | undefined {
  if (m.maintenance.machines.size === 0) return undefined;
  for (const machine of m.maintenance.machines.values()) if (machineMatches(machine.id, agent)) return machine;
  return undefined;
}

/** The unavailability of the agent's machine if it is `DRAINING` (the first such machine naming it). */
function unavailabilityOf(m: Master, agent: AgentRecord): Unavailability | undefined {
  for (const machine of m.maintenance.machines.values()) {
    if (machine.mode === 'DRAINING' && machineMatches(machine.id, agentMachine(agent))) return machine.unavailability;
  }
  return undefined;
}

/**
 * Mesos's `registerSlave` and `reregisterSlave` for an agent on a `DOWN` machine: refused, and
 * told to shut down ("Machine is `DOWN`"). True when refused.
 */
export function refuseDown(m: Master, from: UPID, slave: AgentInfo, ip: string | undefined, what: 'registration' | 're-registration'): boolean {
  if (m.maintenance.machines.size === 0) return false;
  const machine = [...m.maintenance.machines.values()].find((mm) => mm.mode === 'DOWN' && machineMatches(mm.id, { hostname: slave.hostname, ip }));
  if (machine === undefined) return false;
  m.log.warn({ agent: String(from), agentId: slave.id?.value, machine: machine.id }, `Refusing ${what} of agent at ${String(from)} because the machine '${machineName(machine.id)}' that it is running on is \`DOWN\``);
  m.send(from, SHUTDOWN_SLAVE, { message: MACHINE_IS_DOWN_MESSAGE } satisfies ShutdownSlave);
  return true;
}

/** An agent was admitted or re-registered: its unavailability (its machine, its IP may be new), and inverse offers. */
export function agentAdmitted(m: Master, agent: AgentRecord): void {
  if (m.maintenance.machines.size === 0 && m.maintenance.inverse.agents.size === 0) return;
  inverseOffers.updateUnavailability(m, agent.id, unavailabilityOf(m, agent));
  inverseOffers.agentReconnected(m, agent);
}

/** Every registered agent's unavailability, after the schedule or a mode changed. */
function refreshAgents(m: Master): void {
  for (const agent of [...m.agents.values()]) inverseOffers.updateUnavailability(m, agent.id, unavailabilityOf(m, agent));
}

/**
 * `machine_info` of an agent of `/master/state` (Mesos's `MachineInfo`) when it is on a
 * scheduled machine: its id, `mode` and `unavailability`. Mesos's state shows none; the web UI
 * reads it.
 */
export function machineInfoField(m: Master, agent: AgentRecord): { machine_info?: MachineInfo } {
  const machine = scheduledMachine(m, agentMachine(agent));
  return machine === undefined ? {} : { machine_info: { id: machine.id, mode: machine.mode, unavailability: machine.unavailability } };
}

/**
 * Why DRAIN_AGENT may not drain this agent, as Mesos's `Http::drainAgent`: it is part of a
 * maintenance schedule (the two ways of maintenance are not mixed).
 */
export function drainProblem(m: Master, agentId: string): string | undefined {
  const agent = m.agents.get(agentId);
  const machine = agent === undefined ? undefined : scheduledMachine(m, agentMachine(agent));
  return machine === undefined ? undefined : `Agent '${agentId}' is part of a maintenance schedule under Machine '${machineName(machine.id)}'`;
}

// ---------------------------------------------------------------------------------------------
// The operations.

/**
 * Runs `operation` once the operation before it is done (at once if none is in flight), in the
 * master's mailbox, so that each sees the books the one before left.
 */
function inTurn(m: Master, operation: () => HttpResponse | Promise<HttpResponse>): HttpResponse | Promise<HttpResponse> {
  const state = m.maintenance;
  const before = state.latest;
  const run = (): Promise<HttpResponse> => m.runtime.dispatch(m.self, operation);
  const answer = before === undefined ? operation() : before.then(run, run);
  if (answer instanceof Promise) {
    state.latest = answer;
    const done = (): void => {
      if (state.latest === answer) state.latest = undefined;
    };
    answer.then(done, done);
  }
  return answer;
}

/**
 * UPDATE_MAINTENANCE_SCHEDULE and `POST /master/maintenance/schedule` (Mesos's
 * `_updateMaintenanceSchedule`): `400` naming the machine or window for a schedule Mesos would
 * refuse; else `200` once the registry has it and the master acts on it. `field` names the
 * schedule in errors (`''` for the v0 body).
 */
export function updateSchedule(m: Master, schedule: Schedule, field: string): HttpResponse | Promise<HttpResponse> {
  return inTurn(m, () => {
    const problem = machines.scheduleProblem(schedule, m.maintenance.machines, field);
    if (problem !== undefined) return badRequest(problem);
    const next = machines.updateSchedule(m.maintenance.record(), schedule);
    return write(m, next, 'update the maintenance schedule', () => {
      m.log.info({ windows: next.schedule.windows?.length ?? 0, machines: next.machines.map((machine) => ({ ...machine.id, mode: machine.mode })) }, 'Updated the maintenance schedule');
    });
  });
}

/**
 * Writes `next` to the registry; once it is durable, the master applies it, runs `then` and
 * brings its agents' unavailability up to date. `200`, or `503` naming `what` failed.
 */
function write(m: Master, next: MaintenanceRecord, what: string, then: () => void): Promise<HttpResponse> {
  return registryAnswer(
    m.applied(m.options.registry.updateMaintenance(next), () => {
      m.maintenance.apply(next);
      then();
      refreshAgents(m);
    }),
    what,
  );
}

/**
 * START_MAINTENANCE and `POST /master/machine/down` (Mesos's `_startMaintenance`): every machine
 * must be valid, scheduled and `DRAINING` (`400` naming it otherwise); once the registry has them
 * `DOWN`, their agents are told to shut down and removed.
 */
export function startMaintenance(m: Master, ids: readonly MachineID[], field: string): HttpResponse | Promise<HttpResponse> {
  return inTurn(m, () => {
    const problem = machines.machinesProblem(ids, field) ?? modeProblem(m, ids, 'DRAINING', 'is not in DRAINING mode and cannot be brought down');
    if (problem !== undefined) return badRequest(problem);
    const next = machines.startMaintenance(m.maintenance.record(), ids);
    return write(m, next, 'start maintenance', () => {
      m.log.info({ machines: ids }, 'Machines are DOWN');
      for (const id of ids) takeDown(m, id);
    });
  });
}

/**
 * STOP_MAINTENANCE and `POST /master/machine/up` (Mesos's `_stopMaintenance`): every machine must
 * be valid, scheduled and `DOWN`; once the registry has them `UP` (out of the schedule), agents
 * may register from them again.
 */
export function stopMaintenance(m: Master, ids: readonly MachineID[], field: string): HttpResponse | Promise<HttpResponse> {
  return inTurn(m, () => {
    const problem = machines.machinesProblem(ids, field) ?? modeProblem(m, ids, 'DOWN', 'is not in DOWN mode and cannot be brought up');
    if (problem !== undefined) return badRequest(problem);
    const next = machines.stopMaintenance(m.maintenance.record(), ids);
    return write(m, next, 'stop maintenance', () => m.log.info({ machines: ids }, 'Machines are UP'));
  });
}

/** The first machine not scheduled, or not in `mode`, in Mesos's words. */
function modeProblem(m: Master, ids: readonly MachineID[], mode: MaintenanceMachine['mode'], not: string): string | undefined {
  for (const id of ids) {
    const machine = m.maintenance.machines.get(machineKey(id));
    if (machine === undefined) return `Machine '${machineName(id)}' is not part of a maintenance schedule`;
    if (machine.mode !== mode) return `Machine '${machineName(id)}' ${not}`;
  }
  return undefined;
}

/**
 * A machine is `DOWN`: each agent on it is told to shut down and removed (Mesos removes it
 * rather than wait for it to unregister, in case the message is lost), its inverse offers
 * rescinded at once.
 */
function takeDown(m: Master, id: MachineID): void {
  for (const agent of [...m.agents.values()]) {
    if (!machineMatches(id, agentMachine(agent))) continue;
    m.log.warn({ agentId: agent.id, machine: id }, 'Shutting down agent on a machine that is DOWN');
    inverseOffers.agentRemoved(m, agent.id);
    m.send(agent.pid, SHUTDOWN_SLAVE, { message: MACHINE_DOWN_MESSAGE } satisfies ShutdownSlave);
    agents.removeAgent(m, agent, MACHINE_DOWN_MESSAGE);
  }
}

// ---------------------------------------------------------------------------------------------
// The views.

/** GET_MAINTENANCE_SCHEDULE's `schedule` and `GET /master/maintenance/schedule`: `{}` when there is none, as Mesos. */
export function getSchedule(m: Master): Schedule {
  const windows = m.maintenance.schedule.windows ?? [];
  return windows.length === 0 ? {} : { windows };
}

/**
 * GET_MAINTENANCE_STATUS's `status` and `GET /master/maintenance/status` (Mesos's
 * `ClusterStatus`): each draining machine with the inverse offer statuses of the agents on it,
 * and the down machines; empty lists left out, as Mesos's JSON leaves them.
 */
export function getStatus(m: Master): ClusterStatus {
  const draining: NonNullable<ClusterStatus['draining_machines']> = [];
  const down: MachineID[] = [];
  for (const machine of m.maintenance.machines.values()) {
    if (machine.mode === 'DOWN') {
      down.push(machine.id);
      continue;
    }
    const on = [...m.agents.values()].filter((agent) => machineMatches(machine.id, agentMachine(agent))).map((agent) => agent.id);
    const statuses = inverseOffers.statuses(m, on);
    draining.push(statuses.length === 0 ? { id: machine.id } : { id: machine.id, statuses });
  }
  return { ...(draining.length > 0 ? { draining_machines: draining } : {}), ...(down.length > 0 ? { down_machines: down } : {}) };
}

// ---------------------------------------------------------------------------------------------
// The v0 endpoints.

/**
 * `/master/maintenance/schedule` (Mesos's `Http::maintenanceSchedule`): not the leader `307`;
 * `GET` the schedule; `POST` a JSON schedule (`400` naming what is wrong, `403` without
 * `update_maintenance_schedules`); any other method `405`.
 */
export function scheduleEndpoint(m: Master, request: HttpRequest): HttpResponse | Promise<HttpResponse> {
  if (!m.leading) return redirect(m, request);
  if (request.method === 'GET') return jsonp(ok(getSchedule(m)), request);
  if (request.method !== 'POST') return methodNotAllowed(['GET', 'POST'], request.method);
  const schedule = readBody(request, ScheduleSchema, 'schedule', 'a JSON object (a maintenance schedule)', (json) => typeof json === 'object' && json !== null && !Array.isArray(json));
  if ('status' in schedule) return schedule;
  return authorizeEach(m, request.principal, 'update_maintenance_schedules', [undefined], () => 'update maintenance schedules') ?? updateSchedule(m, schedule, '');
}

/** `GET /master/maintenance/status` (Mesos's `Http::maintenanceStatus`). */
export function statusEndpoint(m: Master, request: HttpRequest): HttpResponse {
  if (!m.leading) return redirect(m, request);
  if (request.method !== 'GET') return methodNotAllowed(['GET'], request.method);
  return jsonp(ok(getStatus(m)), request);
}

/**
 * `POST /master/machine/down` and `/master/machine/up` (Mesos's `Http::machineDown`,
 * `machineUp`): a JSON array of machine ids; `400` naming what is wrong, `403` without
 * `start_maintenances` or `stop_maintenances`.
 */
export function machineEndpoint(m: Master, request: HttpRequest, mode: 'DOWN' | 'UP'): HttpResponse | Promise<HttpResponse> {
  if (!m.leading) return redirect(m, request);
  if (request.method !== 'POST') return methodNotAllowed(['POST'], request.method);
  const ids = readBody(request, z.array(MachineIDSchema), 'machines', 'a JSON array of machine ids', Array.isArray);
  if (!Array.isArray(ids)) return ids;
  if (mode === 'DOWN') return authorizeEach(m, request.principal, 'start_maintenances', [undefined], () => 'start maintenance') ?? startMaintenance(m, ids, 'machines');
  return authorizeEach(m, request.principal, 'stop_maintenances', [undefined], () => 'stop maintenance') ?? stopMaintenance(m, ids, 'machines');
}

/** The JSON body as `schema`, or a `400` naming what is wrong (`what` names it; `shape` says what it must be). */
function readBody<T>(request: HttpRequest, schema: z.ZodType<T>, what: string, shape: string, isShape: (json: unknown) => boolean): T | HttpResponse {
  let json: unknown;
  try {
    json = JSON.parse(request.body);
  } catch (error) {
    return badRequest(`Failed to parse body into JSON: ${(error as Error).message}`);
  }
  if (!isShape(json)) return badRequest(`Expecting ${shape}, got ${JSON.stringify(json)}`);
  try {
    return parseWith(schema, json, { what });
  } catch (error) {
    if (error instanceof InvalidMessageError) return badRequest(`Failed to convert JSON into ${what === 'schedule' ? 'a maintenance schedule' : 'machine ids'}: ${error.message}`);
    throw error;
  }
}
