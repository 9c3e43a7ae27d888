import test from 'ava';
import { createActor } from 'xstate';
import { masterMachine } from '../../actors/master/master.machine.ts';

test('master machine - elected without agents to recover: ELECTING → LEADING', (t) => {
  const actor = createActor(masterMachine).start();
  t.is(actor.getSnapshot().value, 'ELECTING');
  actor.send({ type: 'ELECTED', recovering: false });
  t.is(actor.getSnapshot().value, 'LEADING');
  actor.send({ type: 'LOST_LEADERSHIP' });
  t.is(actor.getSnapshot().value, 'ELECTING');
});

test('master machine - elected with a registry to recover: RECOVERING until RECOVERED', (t) => {
  const actor = createActor(masterMachine).start();
  actor.send({ type: 'ELECTED', recovering: true });
  t.is(actor.getSnapshot().value, 'RECOVERING');
  actor.send({ type: 'RECOVERED' });
  t.is(actor.getSnapshot().value, 'LEADING');
});

test('master machine - a contender that loses waits in STANDBY, then may lead', (t) => {
  const actor = createActor(masterMachine).start();
  actor.send({ type: 'NOT_ELECTED' });
  t.is(actor.getSnapshot().value, 'STANDBY');
  actor.send({ type: 'RECOVERED' });
  t.is(actor.getSnapshot().value, 'STANDBY', 'RECOVERED means nothing to a standby');
  actor.send({ type: 'ELECTED', recovering: false });
  t.is(actor.getSnapshot().value, 'LEADING');
});
