import test from 'ava';
import { createActor, setup } from 'xstate';
import { Clock } from '../../src/process/clock.ts';

test('clock - paused time only moves with advance, firing timers in order', (t) => {
  const clock = new Clock();
  clock.pause();
  const start = clock.now();
  const fired: string[] = [];
  clock.setTimer(30, () => fired.push('c'));
  clock.setTimer(10, () => fired.push('a'));
  const cancelled = clock.setTimer(15, () => fired.push('x'));
  clock.setTimer(10, () => fired.push('b'));
  cancelled.cancel();
  clock.advance(9);
  t.deepEqual(fired, []);
  t.is(clock.now(), start + 9);
  clock.advance(1);
  t.deepEqual(fired, ['a', 'b']);
  clock.advance(100);
  t.deepEqual(fired, ['a', 'b', 'c']);
  t.is(clock.now(), start + 110);
  t.is(clock.pendingTimers, 0);
});

test('clock - advance steps through due times, so timers armed while firing fire when due', (t) => {
  const clock = new Clock();
  clock.pause();
  const fired: number[] = [];
  clock.setTimer(10, () => {
    fired.push(clock.now());
    clock.setTimer(5, () => fired.push(clock.now()));
    clock.setTimer(50, () => fired.push(-1));
  });
  const t0 = clock.now();
  clock.advance(20);
  t.deepEqual(fired, [t0 + 10, t0 + 15]);
  t.is(clock.now(), t0 + 20);
});

test('clock - advance refuses a running clock', (t) => {
  const clock = new Clock();
  t.throws(() => clock.advance(1), { message: /paused/ });
});

test('clock - resume continues from paused time and fires real timers', async (t) => {
  const clock = new Clock();
  clock.pause();
  clock.advance(60_000);
  const paused = clock.now();
  t.true(paused > Date.now() + 59_000);
  clock.resume();
  t.true(clock.now() >= paused);
  await new Promise<void>((resolve) => clock.setTimer(1, resolve));
  t.false(clock.isPaused());
});

test('clock - xstate delayed transitions obey the paused clock', (t) => {
  const clock = new Clock();
  clock.pause();
  const machine = setup({ delays: { timeout: 5_000 } }).createMachine({
    initial: 'waiting',
    states: { waiting: { after: { timeout: 'expired' } }, expired: {} },
  });
  const actor = createActor(machine, { clock: clock.xstate }).start();
  clock.advance(4_999);
  t.is(actor.getSnapshot().value, 'waiting');
  clock.advance(1);
  t.is(actor.getSnapshot().value, 'expired');
  actor.stop();
});
