import test from 'ava';
import { createActor } from 'xstate';
import { allocatorMachine } from '../../actors/allocator/allocator.machine.ts';
import { Clock } from '../../src/process/clock.ts';

function start() {
  const log: string[] = [];
  const clock = new Clock();
  clock.pause();
  const actor = createActor(
    allocatorMachine.provide({
      actions: {
        allocate: () => log.push('allocate'),
        paused: () => log.push('paused'),
        resumed: () => log.push('resumed'),
      },
    }),
    { clock: clock.xstate },
  );
  actor.start();
  return { actor, log, state: () => String(actor.getSnapshot().value) };
}

test('allocator machine - ALLOCATE runs one cycle and comes back to IDLE', (t) => {
  const { actor, log, state } = start();
  t.is(state(), 'IDLE');
  actor.send({ type: 'ALLOCATE' });
  actor.send({ type: 'ALLOCATE' });
  t.deepEqual(log, ['allocate', 'allocate']);
  t.is(state(), 'IDLE');
});

test('allocator machine - no cycle while PAUSED; RESUME goes back to IDLE', (t) => {
  const { actor, log, state } = start();
  actor.send({ type: 'PAUSE' });
  t.is(state(), 'PAUSED');
  actor.send({ type: 'ALLOCATE' });
  actor.send({ type: 'PAUSE' });
  t.deepEqual(log, ['paused']);
  actor.send({ type: 'RESUME' });
  t.is(state(), 'IDLE');
  actor.send({ type: 'RESUME' });
  actor.send({ type: 'ALLOCATE' });
  t.deepEqual(log, ['paused', 'resumed', 'allocate']);
});
