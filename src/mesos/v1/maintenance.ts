/**
 * Maintenance as JSON wire shapes: `MachineID` and `MachineInfo` of `include/mesos/v1/mesos.proto`,
 * and `include/mesos/maintenance/maintenance.proto` (`Window`, `Schedule`, `ClusterStatus`) with
 * the allocator's `InverseOfferStatus` that `ClusterStatus` carries. The master's v0 endpoints
 * (`/master/maintenance/schedule`, `/master/machine/down`, ...) and the v1 operator calls
 * (UPDATE_MAINTENANCE_SCHEDULE, START_MAINTENANCE, ...) read and write these.
 */

import { z } from 'zod';

import { FrameworkIDSchema, TimeInfoSchema, UnavailabilitySchema } from './base.ts';

/**
 * `MachineID`: a machine by its hostname and/or its IP (an IPv4 address). Mesos compares the
 * hostname without regard to case; an empty field is no field.
 */
export const MachineIDSchema = z.object({
  hostname: z.string().optional(),
  ip: z.string().optional(),
});
export type MachineID = z.infer<typeof MachineIDSchema>;

/** `MachineInfo.Mode`: `UP` (in service), `DRAINING` (scheduled for maintenance), `DOWN` (in maintenance). */
export const MACHINE_MODES = ['UP', 'DRAINING', 'DOWN'] as const;
export type MachineMode = (typeof MACHINE_MODES)[number];

/** `MachineInfo`: a machine, its mode and, scheduled, the unavailability of its window. */
export const MachineInfoSchema = z.object({
  id: MachineIDSchema,
  mode: z.enum(MACHINE_MODES).optional(),
  unavailability: UnavailabilitySchema.optional(),
});
export type MachineInfo = z.infer<typeof MachineInfoSchema>;

/** `maintenance.Window`: machines that may be unavailable together, and when. */
export const WindowSchema = z.object({
  machine_ids: z.array(MachineIDSchema).optional(),
  unavailability: UnavailabilitySchema,
});
export type Window = z.infer<typeof WindowSchema>;

/** `maintenance.Schedule`: a list of windows; a machine is in one window at most. */
export const ScheduleSchema = z.object({
  windows: z.array(WindowSchema).optional(),
});
export type Schedule = z.infer<typeof ScheduleSchema>;

/** `InverseOfferStatus.Status`: `UNKNOWN` until the framework answers its inverse offer. */
export const INVERSE_OFFER_STATUSES = ['UNKNOWN', 'ACCEPT', 'DECLINE'] as const;
export type InverseOfferStatusType = (typeof INVERSE_OFFER_STATUSES)[number];

/** `mesos.allocator.InverseOfferStatus`: a framework's latest answer to its inverse offers of an agent. */
export const InverseOfferStatusSchema = z.object({
  status: z.enum(INVERSE_OFFER_STATUSES),
  framework_id: FrameworkIDSchema,
  timestamp: TimeInfoSchema,
});
export type InverseOfferStatus = z.infer<typeof InverseOfferStatusSchema>;

/**
 * `maintenance.ClusterStatus`: the draining machines, each with the statuses of the inverse
 * offers of its agents, and the machines that are down.
 */
export const ClusterStatusSchema = z.object({
  draining_machines: z.array(z.object({ id: MachineIDSchema, statuses: z.array(InverseOfferStatusSchema).optional() })).optional(),
  down_machines: z.array(MachineIDSchema).optional(),
});
export type ClusterStatus = z.infer<typeof ClusterStatusSchema>;
