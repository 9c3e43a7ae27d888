import { setup } from 'xstate';

/**
 * The master's lifecycle. A master starts `ELECTING`; the one elected leads (`LEADING`), the
 * others wait (`STANDBY`). A leader that recovered a registry of admitted agents is `RECOVERING`
 * until they have re-registered or `agent_reregister_timeout` has passed (Mesos marks the rest
 * unreachable then). Without a contender (one master, dev mode) election is immediate.
 */
export const masterMachine = setup({
  types: {
    events: {} as
      | { type: 'ELECTED'; recovering: boolean }
      | { type: 'LOST_LEADERSHIP' }
      | { type: 'NOT_ELECTED' }
      | { type: 'RECOVERED' },
  },
  guards: {
    hasAgentsToRecover: ({ event }) => event.type === 'ELECTED' && event.recovering,
  },
}).createMachine({
  id: 'master',
  initial: 'ELECTING',
  states: {
    ELECTING: {
      on: {
        ELECTED: [{ guard: 'hasAgentsToRecover', target: 'RECOVERING' }, { target: 'LEADING' }],
        NOT_ELECTED: 'STANDBY',
      },
    },
    STANDBY: {
      on: { ELECTED: [{ guard: 'hasAgentsToRecover', target: 'RECOVERING' }, { target: 'LEADING' }] },
    },
    RECOVERING: {
      on: { RECOVERED: 'LEADING', LOST_LEADERSHIP: 'ELECTING' },
    },
    LEADING: {
      on: { LOST_LEADERSHIP: 'ELECTING' },
    },
  },
});

export type MasterMachineState = 'ELECTING' | 'STANDBY' | 'RECOVERING' | 'LEADING';
