import test from 'ava';
import { createActor } from 'xstate';
import { Clock } from '../../src/process/clock.ts';
import { agentMachine } from '../../actors/agent/agent.machine.ts';
import {
  DEFAULT_MASTER_PING_TIMEOUT_MS,
  DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS,
  REGISTER_RETRY_INTERVAL_MAX_MS,
} from '../../actors/agent/constants.ts';

/** The machine on a paused clock, with actions that record what they were asked to do. */
function machine(random: () => number = () => 1) {
  const clock = new Clock();
  clock.pause();
  const calls: string[] = [];
  const actor = createActor(
    agentMachine.provide({
      actions: {
        register: () => calls.push(`register@${clock.now() - start}`),
        masterDisconnected: () => calls.push('disconnected'),
        masterRegistered: () => calls.push('registered'),
        pingTimedOut: () => calls.push('pingTimedOut'),
      },
    }),
    { clock: clock.xstate, input: { random } },
  );
  const start = clock.now();
  actor.start();
  return { clock, actor, calls, state: () => actor.getSnapshot().value };
}

test('agent machine - starts RECOVERING, then registers once recovered', (t) => {
  const { actor, calls, state } = machine();
  t.is(state(), 'RECOVERING');
  actor.send({ type: 'RECOVERED' });
  t.is(state(), 'REGISTERING');
  t.deepEqual(calls, ['disconnected']);
});

test('agent machine - registration backoff doubles from the factor up to the cap', (t) => {
  const { actor, clock, calls } = machine();
  actor.send({ type: 'RECOVERED' });
  // With random() = 1 every wait is the whole bound: 1 s, 2 s, 4 s, ... capped at 1 min.
  let expected = 0;
  let bound = DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS;
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    expected += bound;
    times.push(expected);
    bound = Math.min(bound * 2, REGISTER_RETRY_INTERVAL_MAX_MS);
  }
  clock.advance(expected);
  t.deepEqual(
    calls.filter((c) => c.startsWith('register')),
    times.map((ms) => `register@${ms}`),
  );
  t.is(times.at(-1)! - times.at(-2)!, REGISTER_RETRY_INTERVAL_MAX_MS);
});

test('agent machine - the wait is random within the bound', (t) => {
  const { actor, clock, calls } = machine(() => 0.25);
  actor.send({ type: 'RECOVERED' });
  clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  t.deepEqual(calls.slice(1), ['register@250', 'register@750']);
});

test('agent machine - REGISTERED stops the retries; missing pings lose the master and registration starts over', (t) => {
  const { actor, clock, calls, state } = machine();
  actor.send({ type: 'RECOVERED' });
  clock.advance(DEFAULT_REGISTRATION_BACKOFF_FACTOR_MS);
  actor.send({ type: 'REGISTERED' });
  t.is(state(), 'RUNNING');
  calls.length = 0;
  clock.advance(DEFAULT_MASTER_PING_TIMEOUT_MS - 1);
  actor.send({ type: 'PING' });
  clock.advance(DEFAULT_MASTER_PING_TIMEOUT_MS - 1);
  t.is(state(), 'RUNNING');
  t.deepEqual(calls, []);
  clock.advance(1);
  t.is(state(), 'REGISTERING');
  t.deepEqual(calls, ['pingTimedOut', 'disconnected']);
});

test("agent machine - the master's ping timeout replaces the default", (t) => {
  const { actor, clock, state } = machine();
  actor.send({ type: 'RECOVERED' });
  actor.send({ type: 'REGISTERED', pingTimeoutMs: 10_000 });
  clock.advance(10_000);
  t.is(state(), 'REGISTERING');
});

test('agent machine - MASTER_LOST while RUNNING re-registers; TERMINATE ends it from any state', (t) => {
  const { actor, state } = machine();
  actor.send({ type: 'RECOVERED' });
  actor.send({ type: 'REGISTERED' });
  actor.send({ type: 'MASTER_LOST' });
  t.is(state(), 'REGISTERING');
  actor.send({ type: 'TERMINATE' });
  t.is(state(), 'TERMINATING');
  t.is(actor.getSnapshot().status, 'done');
});
