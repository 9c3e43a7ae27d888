import { setup } from 'xstate';

/**
 * The scheduler driver's connection to the master: `DISCONNECTED → SUBSCRIBING → SUBSCRIBED`.
 * Losing the master goes back to `SUBSCRIBING` (to fail over to it, or to a new leader);
 * `FAILED_OVER` is final: another scheduler instance took the framework over (the master said so).
 */
export const schedulerMachine = setup({
  types: {
    events: {} as { type: 'START' } | { type: 'SUBSCRIBED' } | { type: 'MASTER_LOST' } | { type: 'FAILED_OVER' } | { type: 'STOP' },
  },
}).createMachine({
  id: 'scheduler',
  initial: 'DISCONNECTED',
  states: {
    DISCONNECTED: { on: { START: 'SUBSCRIBING', STOP: 'STOPPED' } },
    SUBSCRIBING: { on: { SUBSCRIBED: 'SUBSCRIBED', STOP: 'STOPPED', FAILED_OVER: 'FAILED_OVER' } },
    SUBSCRIBED: { on: { MASTER_LOST: 'SUBSCRIBING', FAILED_OVER: 'FAILED_OVER', STOP: 'STOPPED' } },
    FAILED_OVER: { type: 'final' },
    STOPPED: { type: 'final' },
  },
});

export type SchedulerMachineState = 'DISCONNECTED' | 'SUBSCRIBING' | 'SUBSCRIBED' | 'FAILED_OVER' | 'STOPPED';
