import test from 'ava';
import { createActor } from 'xstate';
import { statusUpdateManagerMachine } from '../../actors/status-update-manager/status-update-manager.machine.ts';

function start() {
  const calls: string[] = [];
  const actor = createActor(
    statusUpdateManagerMachine.provide({
      actions: {
        resume: () => calls.push('resume'),
        pause: () => calls.push('pause'),
      },
    }),
  );
  actor.start();
  return { actor, calls, state: () => actor.getSnapshot().value };
}

test('machine - starts PAUSED; a master makes it RUNNING and resumes', (t) => {
  const { actor, calls, state } = start();
  t.is(state(), 'PAUSED');
  actor.send({ type: 'MASTER_DETECTED' });
  t.is(state(), 'RUNNING');
  t.deepEqual(calls, ['resume']);
});

test('machine - a new master while RUNNING resumes again; losing it pauses', (t) => {
  const { actor, calls, state } = start();
  actor.send({ type: 'MASTER_DETECTED' });
  actor.send({ type: 'MASTER_DETECTED' });
  t.is(state(), 'RUNNING');
  actor.send({ type: 'MASTER_LOST' });
  t.is(state(), 'PAUSED');
  t.deepEqual(calls, ['resume', 'resume', 'pause']);
});

test('machine - losing a master while PAUSED does nothing', (t) => {
  const { actor, calls, state } = start();
  actor.send({ type: 'MASTER_LOST' });
  t.is(state(), 'PAUSED');
  t.deepEqual(calls, []);
});
