import test from 'ava';
import { futureExited } from '../helpers/filters.ts';
import { localWorld, Probe } from '../helpers/runtime.ts';

/**
 * `runtime.breakLinks(upid)`: the processes linked to a local process hear `exited` while it
 * lives on, as a libprocess process hears `exited` when the socket to a remote one closes (what
 * the scheduler driver's HTTP connection to a master reports when its stream breaks).
 */
test('breakLinks - linkers hear exited, the process lives on, and a new link works as before', async (t) => {
  const world = await localWorld(['links-a']);
  t.teardown(() => world.shutdown());
  const [runtime] = world.runtimes;
  const peer = new Probe('peer');
  const watcher = new Probe('watcher');
  runtime!.spawn(peer);
  runtime!.spawn(watcher);
  watcher.linkTo(peer.self);
  await runtime!.settle();

  const first = futureExited(peer.self, watcher.self);
  runtime!.breakLinks(peer.self);
  await first;
  await runtime!.settle();
  t.deepEqual(watcher.exits.map(String), [String(peer.self)]);
  t.true(peer.alive);

  runtime!.breakLinks(peer.self);
  await runtime!.settle();
  t.is(watcher.exits.length, 1, 'no link, no second exited');

  watcher.linkTo(peer.self);
  runtime!.terminate(peer.self);
  await runtime!.settle();
  t.is(watcher.exits.length, 2, 'linked again: its termination is heard');
});
