import { setup } from 'xstate';

/**
 * The status update manager's lifecycle, as Mesos's `pause()` / `resume()`. It starts `PAUSED`:
 * no master is known, so nothing is sent and no retry runs. A master makes it `RUNNING` and
 * every stream's head goes out at once (`resume`); a different master while `RUNNING` does the
 * same, with backoff reset; losing the master pauses it again (`pause`).
 *
 * The process tells a new master from the one it knows; the machine only sees `MASTER_DETECTED`
 * for a change. `resume` and `pause` are provided by the process (`machine.provide`).
 */
export const statusUpdateManagerMachine = setup({
  types: {
    events: {} as { type: 'MASTER_DETECTED' } | { type: 'MASTER_LOST' },
  },
  actions: {
    /** Sends the head of every stream to the (new) master, backoff reset. */
    resume: () => {},
    /** Stops sending and cancels every retry. */
    pause: () => {},
  },
}).createMachine({
  id: 'status-update-manager',
  initial: 'PAUSED',
  states: {
    PAUSED: {
      on: { MASTER_DETECTED: { target: 'RUNNING', actions: 'resume' } },
    },
    RUNNING: {
      on: {
        MASTER_DETECTED: { actions: 'resume' },
        MASTER_LOST: { target: 'PAUSED', actions: 'pause' },
      },
    },
  },
});

export type StatusUpdateManagerState = 'PAUSED' | 'RUNNING';
