import { assign, setup } from 'xstate';
import {
  DEFAULT_MASTER_PING_TIMEOUT_MS,
  DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
  REGISTER_RETRY_INTERVAL_MAX_MS,
} from './constants.ts';

/**
 * The agent's lifecycle, Mesos's `Slave::State` with registration made a state of its own:
 *
 *     RECOVERING → DISCONNECTED → REGISTERING → RUNNING → (master lost) DISCONNECTED → ...
 *                                          any → TERMINATING
 *
 * `REGISTERING` sends a (re-)registration after a random delay in [0, backoff], the backoff
 * starting at `--registration_backoff_factor` and doubling per attempt up to
 * `REGISTER_RETRY_INTERVAL_MAX_MS` (Mesos's `doReliableRegistration`). `RUNNING` counts as lost
 * when no ping came for the master's `total_ping_timeout_seconds`; every `PING` restarts it.
 *
 * The agent supplies the actions with `machine.provide` (send a registration, tell the status
 * update manager about the master, go on draining once recovered); randomness comes in through
 * `input.random`.
 */
export const agentMachine = setup({
  types: {
    context: {} as {
      readonly factorMs: number;
      readonly random: () => number;
      /** The bound on the next registration delay. */
      backoffMs: number;
      pingTimeoutMs: number;
    },
    input: {} as { registrationBackoffFactorMs?: number; masterPingTimeoutMs?: number; random: () => number },
    events: {} as
      | { type: 'RECOVERED' }
      | { type: 'REGISTERED'; pingTimeoutMs?: number | undefined }
      | { type: 'PING' }
      | { type: 'MASTER_LOST' }
      | { type: 'TERMINATE' },
  },
  actions: {
    /** Sends `RegisterSlaveMessage` or `ReregisterSlaveMessage`. */
    register: () => {},
    /** The master is gone or not yet known: pause the status update manager. */
    masterDisconnected: () => {},
    /** The master accepted us: resume the status update manager towards it. */
    masterRegistered: () => {},
    /** No ping within the timeout. */
    pingTimedOut: () => {},
    /** Recovery is over (the executors that survived the restart re-registered, or timed out): a draining agent goes on draining. */
    recovered: () => {},
    resetBackoff: assign({ backoffMs: ({ context }) => context.factorMs }),
    doubleBackoff: assign({ backoffMs: ({ context }) => Math.min(context.backoffMs * 2, REGISTER_RETRY_INTERVAL_MAX_MS) }),
    setPingTimeout: assign({
      pingTimeoutMs: ({ context, event }) =>
        event.type === 'REGISTERED' && event.pingTimeoutMs !== undefined ? event.pingTimeoutMs : context.pingTimeoutMs,
    }),
  },
  guards: {
    /** Whether a master to register with is known (always, with `--master`). */
    masterKnown: () => true,
  },
  delays: {
    registrationBackoff: ({ context }) => Math.floor(context.random() * Math.min(context.backoffMs, REGISTER_RETRY_INTERVAL_MAX_MS)),
    masterPingTimeout: ({ context }) => context.pingTimeoutMs,
  },
}).createMachine({
  id: 'agent',
  initial: 'RECOVERING',
  context: ({ input }) => ({
    factorMs: input.registrationBackoffFactorMs ?? DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
    random: input.random,
    backoffMs: input.registrationBackoffFactorMs ?? DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
    pingTimeoutMs: input.masterPingTimeoutMs ?? DEFAULT_MASTER_PING_TIMEOUT_MS,
  }),
  on: { TERMINATE: '.TERMINATING' },
  states: {
    RECOVERING: {
      on: { RECOVERED: { target: 'DISCONNECTED', actions: 'recovered' } },
    },
    DISCONNECTED: {
      entry: 'masterDisconnected',
      always: { guard: 'masterKnown', target: 'REGISTERING', actions: 'resetBackoff' },
    },
    REGISTERING: {
      after: {
        registrationBackoff: { target: 'REGISTERING', reenter: true, actions: ['register', 'doubleBackoff'] },
      },
      on: {
        REGISTERED: { target: 'RUNNING', actions: ['setPingTimeout', 'masterRegistered'] },
      },
    },
    RUNNING: {
      after: {
        masterPingTimeout: { target: 'DISCONNECTED', actions: 'pingTimedOut' },
      },
      on: {
        PING: { target: 'RUNNING', reenter: true },
        MASTER_LOST: 'DISCONNECTED',
      },
    },
    TERMINATING: {
      type: 'final',
    },
  },
});

export type AgentMachineState = 'RECOVERING' | 'DISCONNECTED' | 'REGISTERING' | 'RUNNING' | 'TERMINATING';
