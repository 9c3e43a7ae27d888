import { setup } from 'xstate';

/**
 * The allocator's lifecycle, states and transitions only (Mesos's `paused` flag made a state):
 *
 *     IDLE ──ALLOCATE──▶ ALLOCATING ──(at once)──▶ IDLE
 *       │  ▲
 *     PAUSE RESUME (action `resumed`)
 *       ▼  │
 *      PAUSED      (ALLOCATE is ignored: no cycles while paused)
 *
 * One `ALLOCATE` per allocation cycle, never one per offer or per recovered resource: the
 * process coalesces events into cycles and sends `ALLOCATE` when a cycle is due. Entering
 * `ALLOCATING` runs the cycle (action `allocate`) inside the process's mailbox; the cycle is
 * synchronous, so the machine comes back to `IDLE` in the same step and no message is ever
 * handled while it is `ALLOCATING`.
 *
 * The process supplies the actions with `allocatorMachine.provide({ actions: {...} })` and
 * creates the actor with `createActor(machine, { clock: this.machineClock })`.
 */

export type AllocatorMachineEvent =
  /** A cycle is due (the batch timer fired, or an event asked for one). */
  | { type: 'ALLOCATE' }
  /** `Allocator.Pause`: stop allocating until `RESUME`. */
  | { type: 'PAUSE' }
  /** `Allocator.Resume`. */
  | { type: 'RESUME' };

export type AllocatorMachineState = 'IDLE' | 'ALLOCATING' | 'PAUSED';

export const allocatorMachine = setup({
  types: {
    events: {} as AllocatorMachineEvent,
  },
  actions: {
    /** Runs one allocation cycle over the candidate agents and sends its offers to the master. */
    allocate: () => {},
    /** Allocation is paused: the process logs it. */
    paused: () => {},
    /** Allocation resumed: the process asks for a cycle over every agent soon. */
    resumed: () => {},
  },
}).createMachine({
  id: 'allocator',
  initial: 'IDLE',
  states: {
    IDLE: {
      on: {
        ALLOCATE: 'ALLOCATING',
        PAUSE: { target: 'PAUSED', actions: 'paused' },
      },
    },
    ALLOCATING: {
      entry: 'allocate',
      always: 'IDLE',
    },
    PAUSED: {
      on: {
        RESUME: { target: 'IDLE', actions: 'resumed' },
      },
    },
  },
});
