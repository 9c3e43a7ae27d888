import { setup } from 'xstate';

/**
 * The allocator's lifecycle, states and transitions only (Mesos's `paused` flag made a state):
 *
 *     IDLE ──ALLOCATE (action `allocate`: one cycle)──▶ IDLE
 *       │  ▲
 *     PAUSE RESUME (action `resumed`)
 *       ▼  │
 *      PAUSED      (ALLOCATE is ignored: no cycles while paused)
 *
 * One `ALLOCATE` per allocation cycle, never one per offer or per recovered resource: the
 * process coalesces events into cycles and sends `ALLOCATE` when a cycle is due. The cycle is
 * synchronous and runs as the event's action, inside the process's mailbox.
 *
 * DESIGN.md lists `IDLE ↔ ALLOCATING`: this machine had that state, entered and left within
 * the same step (nothing could ever see it). Cycles come thousands of times a second when
 * offers turn over fast (about 10,000/s in the `offers` bench's `decline` runs before a cycle
 * waited for the next turn of the event loop; fewer and larger since), and entering
 * and leaving it cost 6.1 µs a cycle against 1.8 µs for the action alone, 6% of such a run.
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

export type AllocatorMachineState = 'IDLE' | 'PAUSED';

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
        ALLOCATE: { actions: 'allocate' },
        PAUSE: { target: 'PAUSED', actions: 'paused' },
      },
    },
    PAUSED: {
      on: {
        RESUME: { target: 'IDLE', actions: 'resumed' },
      },
    },
  },
});
