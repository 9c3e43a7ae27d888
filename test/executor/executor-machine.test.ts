import test from 'ava';
import { createActor } from 'xstate';
import { DEFAULT_RECOVERY_TIMEOUT_MS } from '../../actors/executor/constants.ts';
import { executorMachine, type ExecutorMachineEvent } from '../../actors/executor/executor.machine.ts';
import { Clock } from '../../src/process/clock.ts';

function start(recoveryTimeoutMs = DEFAULT_RECOVERY_TIMEOUT_MS) {
  const clock = new Clock();
  clock.pause();
  const timedOut: number[] = [];
  const actor = createActor(
    executorMachine.provide({ actions: { recoveryTimedOut: () => void timedOut.push(clock.now()) } }),
    { clock: clock.xstate, input: { recoveryTimeoutMs } },
  );
  actor.start();
  const send = (type: ExecutorMachineEvent['type']) => {
    actor.send({ type });
    return actor.getSnapshot().value;
  };
  return { clock, actor, send, timedOut };
}

test('executor machine - registration, agent exit, re-registration', (t) => {
  const { actor, send } = start();
  t.is(actor.getSnapshot().value, 'CONNECTING');
  t.is(send('REREGISTERED'), 'CONNECTING', 'a re-registration needs a registration first');
  t.is(send('REGISTERED'), 'REGISTERED');
  t.is(send('REGISTERED'), 'REGISTERED', 'a duplicate registration changes nothing');
  t.is(send('AGENT_EXITED'), 'DISCONNECTED');
  t.is(send('REREGISTERED'), 'REGISTERED');
  t.is(send('AGENT_EXITED'), 'DISCONNECTED');
  t.is(send('REGISTERED'), 'REGISTERED', 'a late answer to a registration also reconnects');
  t.is(send('TERMINATE'), 'TERMINATED');
  t.is(actor.getSnapshot().status, 'done');
});

test('executor machine - an agent lost while connecting also disconnects; TERMINATE ends every state', (t) => {
  for (const path of [[], ['REGISTERED'], ['AGENT_EXITED'], ['REGISTERED', 'AGENT_EXITED']] as ExecutorMachineEvent['type'][][]) {
    const { send } = start();
    for (const event of path) send(event);
    t.is(send('TERMINATE'), 'TERMINATED', `after ${path.join(', ') || 'nothing'}`);
  }
  const { send } = start();
  t.is(send('AGENT_EXITED'), 'DISCONNECTED');
});

test('executor machine - DISCONNECTED gives up after the recovery timeout, on the Clock', (t) => {
  const { clock, send, timedOut, actor } = start();
  send('REGISTERED');
  send('AGENT_EXITED');
  const lost = clock.now();
  clock.advance(DEFAULT_RECOVERY_TIMEOUT_MS - 1);
  t.is(actor.getSnapshot().value, 'DISCONNECTED');
  t.deepEqual(timedOut, []);
  clock.advance(1);
  t.is(actor.getSnapshot().value, 'TERMINATED');
  t.deepEqual(timedOut, [lost + DEFAULT_RECOVERY_TIMEOUT_MS]);
});

test('executor machine - reconnecting in time cancels the recovery timeout', (t) => {
  const { clock, send, timedOut, actor } = start(1_000);
  send('REGISTERED');
  send('AGENT_EXITED');
  clock.advance(999);
  send('REREGISTERED');
  clock.advance(10_000);
  t.is(actor.getSnapshot().value, 'REGISTERED');
  t.deepEqual(timedOut, []);
  t.is(clock.pendingTimers, 0);
});
