import { setup } from 'xstate';

/**
 * The executor driver's lifecycle, states and transitions only:
 *
 *     CONNECTING ──REGISTERED──▶ REGISTERED ◀──REREGISTERED / REGISTERED──┐
 *         │                          │                                     │
 *         └──────AGENT_EXITED────────┴──AGENT_EXITED──▶ DISCONNECTED ──────┘
 *                                                            │ after `recoveryTimeout`
 *     any state ──TERMINATE──▶ TERMINATED ◀──────────────────┘  (action `recoveryTimedOut`)
 *
 * `recoveryTimedOut` is provided by the driver (it shuts the executor down); the delay comes
 * from the input (`DEFAULT_RECOVERY_TIMEOUT_MS` unless the agent set `MESOS_RECOVERY_TIMEOUT`).
 * Create it with `createActor(executorMachine.provide({...}), { clock: this.machineClock, input })`.
 */

export interface ExecutorMachineInput {
  /** How long to stay `DISCONNECTED` before giving up on the agent. */
  readonly recoveryTimeoutMs: number;
}

export type ExecutorMachineEvent =
  /** `ExecutorRegisteredMessage` arrived. */
  | { type: 'REGISTERED' }
  /** `ExecutorReregisteredMessage` arrived after a reconnection. */
  | { type: 'REREGISTERED' }
  /** The agent exited (the link broke). */
  | { type: 'AGENT_EXITED' }
  /** The driver stopped, or the executor shut down. */
  | { type: 'TERMINATE' };

export type ExecutorState = 'CONNECTING' | 'REGISTERED' | 'DISCONNECTED' | 'TERMINATED';

export const executorMachine = setup({
  types: {
    context: {} as { recoveryTimeoutMs: number },
    input: {} as ExecutorMachineInput,
    events: {} as ExecutorMachineEvent,
  },
  actions: {
    /** The agent did not come back within the recovery timeout. */
    recoveryTimedOut: () => {},
  },
  delays: {
    recoveryTimeout: ({ context }) => context.recoveryTimeoutMs,
  },
}).createMachine({
  id: 'executor',
  initial: 'CONNECTING',
  context: ({ input }) => ({ recoveryTimeoutMs: input.recoveryTimeoutMs }),
  states: {
    CONNECTING: {
      on: { REGISTERED: 'REGISTERED', AGENT_EXITED: 'DISCONNECTED', TERMINATE: 'TERMINATED' },
    },
    REGISTERED: {
      on: { AGENT_EXITED: 'DISCONNECTED', TERMINATE: 'TERMINATED' },
    },
    DISCONNECTED: {
      after: { recoveryTimeout: { target: 'TERMINATED', actions: 'recoveryTimedOut' } },
      on: { REREGISTERED: 'REGISTERED', REGISTERED: 'REGISTERED', TERMINATE: 'TERMINATED' },
    },
    TERMINATED: { type: 'final' },
  },
});
