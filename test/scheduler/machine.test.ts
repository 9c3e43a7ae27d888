import test from 'ava';
import { createActor } from 'xstate';
import { schedulerMachine } from '../../actors/scheduler/scheduler.machine.ts';

test('scheduler machine - DISCONNECTED → SUBSCRIBING → SUBSCRIBED, back to SUBSCRIBING on master loss', (t) => {
  const actor = createActor(schedulerMachine).start();
  t.is(actor.getSnapshot().value, 'DISCONNECTED');
  actor.send({ type: 'SUBSCRIBED' });
  t.is(actor.getSnapshot().value, 'DISCONNECTED', 'not before START');
  actor.send({ type: 'START' });
  t.is(actor.getSnapshot().value, 'SUBSCRIBING');
  actor.send({ type: 'SUBSCRIBED' });
  t.is(actor.getSnapshot().value, 'SUBSCRIBED');
  actor.send({ type: 'MASTER_LOST' });
  t.is(actor.getSnapshot().value, 'SUBSCRIBING');
});

test('scheduler machine - FAILED_OVER and STOPPED are final', (t) => {
  const failed = createActor(schedulerMachine).start();
  failed.send({ type: 'START' });
  failed.send({ type: 'SUBSCRIBED' });
  failed.send({ type: 'FAILED_OVER' });
  t.is(failed.getSnapshot().value, 'FAILED_OVER');
  t.is(failed.getSnapshot().status, 'done');
  const stopped = createActor(schedulerMachine).start();
  stopped.send({ type: 'STOP' });
  t.is(stopped.getSnapshot().status, 'done');
});
