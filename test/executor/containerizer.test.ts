import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Containerizer, COMMAND_NOT_FOUND_STATUS, type ContainerExit } from '../../actors/agent/containerizer.ts';
import { DEFAULT_KILL_GRACE_PERIOD_MS } from '../../actors/executor/constants.ts';
import { heldFifo } from '../helpers/fifo.ts';
import { localWorld, Probe } from '../helpers/runtime.ts';
import { procStat } from '../multihost/processes.ts';

/** A world with one runtime and a process whose Clock-driven `delay` the containerizer uses. */
async function setup(t: { teardown(fn: () => unknown): void }) {
  const world = await localWorld(['containerizer'], { logger: pino({ level: 'error' }) });
  const runtime = world.runtimes[0]!;
  const owner = new Probe('owner');
  runtime.spawn(owner);
  const containerizer = new Containerizer({ delay: (ms, fn) => owner.later(ms, fn) });
  const root = mkdtempSync(join(tmpdir(), 'mesos-ts-containerizer-'));
  t.teardown(async () => {
    for (const id of containerizer.containerIds()) await containerizer.destroy(id, 0);
    await world.shutdown();
    rmSync(root, { recursive: true, force: true });
  });
  return { ...world, runtime, containerizer, root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };
}

test('Containerizer - a command runs in its sandbox; stdout and stderr are captured in files there', async (t) => {
  const { containerizer, root, env } = await setup(t);
  const sandbox = join(root, 'runs', 'c1');
  const container = await containerizer.launch({
    containerId: 'c1',
    command: { value: 'pwd; echo "hi $GREETING"; echo oops >&2', environment: { variables: [{ name: 'GREETING', value: 'there' }] } },
    sandbox,
    env: { ...env, GREETING: 'overridden' },
  });
  t.true(container.pid > 0);
  t.is(container.error, undefined);
  t.deepEqual(await container.exited, { status: 0, code: 0, signal: null });
  t.is(readFileSync(join(sandbox, 'stdout'), 'utf8'), `${sandbox}\nhi there\n`);
  t.is(readFileSync(join(sandbox, 'stderr'), 'utf8'), 'oops\n');
  t.is(containerizer.get('c1'), undefined, 'a container ends with its process');
  t.is(await containerizer.destroy('c1', 0), undefined);
});

test('Containerizer - without a shell, value is exec\'d with arguments as its argv', async (t) => {
  const { containerizer, root, env } = await setup(t);
  const sandbox = join(root, 'c2');
  const container = await containerizer.launch({
    containerId: 'c2',
    command: { shell: false, value: '/bin/sh', arguments: ['sh', '-c', 'echo "$0" "$1"', 'zero', 'one; not a shell'] },
    sandbox,
    env,
  });
  t.is((await container.exited).status, 0);
  t.is(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'zero one; not a shell\n');
});

test('Containerizer - the exit status of the command is reported', async (t) => {
  const { containerizer, root, env } = await setup(t);
  const container = await containerizer.launch({ containerId: 'c3', command: { value: 'exit 3' }, sandbox: join(root, 'c3'), env });
  t.deepEqual(await container.exited, { status: 3, code: 3, signal: null });
});

test('Containerizer - a command killed by a signal reports 128 + the signal number', async (t) => {
  const { containerizer, root, env } = await setup(t);
  const container = await containerizer.launch({ containerId: 'c4', command: { value: 'kill -KILL $$' }, sandbox: join(root, 'c4'), env });
  t.deepEqual(await container.exited, { status: 137, code: null, signal: 'SIGKILL' });
});

test('Containerizer - a container killed while it is still starting gets the signal once its process runs', async (t) => {
  const { containerizer, root, env } = await setup(t);
  const launching = containerizer.launch({ containerId: 'c-early', command: { value: 'sleep 60' }, sandbox: join(root, 'c-early'), env });
  // The launch has not finished (the sandbox is made first): the kill is held for it.
  t.true(containerizer.kill('c-early', 'SIGKILL'));
  const container = await launching;
  t.deepEqual(await container.exited, { status: 137, code: null, signal: 'SIGKILL' });
  t.false(containerizer.kill('c-never', 'SIGKILL'));
});

test('Containerizer - a missing binary is a launch failure value, not an exception', async (t) => {
  const { containerizer, root, env } = await setup(t);
  const sandbox = join(root, 'c5');
  const container = await containerizer.launch({
    containerId: 'c5',
    command: { shell: false, value: join(root, 'no-such-binary') },
    sandbox,
    env,
  });
  t.is(container.pid, 0);
  t.regex(container.error ?? '', /no-such-binary.*ENOENT/);
  t.deepEqual(await container.exited, { status: COMMAND_NOT_FOUND_STATUS, code: COMMAND_NOT_FOUND_STATUS, signal: null });
  t.regex(readFileSync(join(sandbox, 'stderr'), 'utf8'), /Failed to execute/);
  // Through a shell, the shell reports it the same way.
  const viaShell = await containerizer.launch({ containerId: 'c5-sh', command: { value: 'no-such-binary-either' }, sandbox, env });
  t.is((await viaShell.exited).status, COMMAND_NOT_FOUND_STATUS);
});

test('Containerizer - a container id is in use until its process exits', async (t) => {
  const { containerizer, root, env } = await setup(t);
  const sandbox = join(root, 'dup');
  const first = containerizer.launch({ containerId: 'dup', command: { value: 'sleep 30' }, sandbox, env });
  await t.throwsAsync(containerizer.launch({ containerId: 'dup', command: { value: 'true' }, sandbox, env }), { message: /already exists/ });
  const container = await first;
  t.is(containerizer.get('dup'), container);
  await t.throwsAsync(containerizer.launch({ containerId: 'dup', command: { value: 'true' }, sandbox, env }), { message: /already exists/ });
  t.deepEqual(containerizer.containerIds(), ['dup']);
  t.is((await containerizer.destroy('dup', DEFAULT_KILL_GRACE_PERIOD_MS))?.signal, 'SIGTERM');
  t.is((await container.exited).status, 143);
  t.deepEqual(containerizer.containerIds(), []);
});

test('Containerizer - a container ends with its process: background jobs left in its group are killed', async (t) => {
  t.timeout(20_000);
  const { containerizer, root, env } = await setup(t);
  const sandbox = join(root, 'bg');
  const { opened, eof } = heldFifo(sandbox);
  // The leader opens the FIFO itself and hands it to the background job, which holds it from
  // the moment it is forked: with \`sleep 300 > held &\` the leader could exit, and its group be
  // killed, before the job opened the FIFO, and the reader would wait for a writer forever
  // (seen once under load).
  const container = await containerizer.launch({ containerId: 'bg', command: { value: 'exec 3>held; sleep 300 >&3 & exit 0' }, sandbox, env });
  await opened;
  t.is((await container.exited).status, 0);
  await eof;
});

test('Containerizer - destroy kills the whole process group, including a child that outlives the leader', async (t) => {
  t.timeout(20_000);
  const { containerizer, root, env, clock } = await setup(t);
  clock.pause();
  const sandbox = join(root, 'c6');
  // The reader sees end-of-file only once every writer is gone: the background child ignoring
  // SIGTERM holds the write end.
  const { opened, eof } = heldFifo(sandbox);
  const container = await containerizer.launch({
    containerId: 'c6',
    command: { value: `(trap '' TERM; sleep 300 > held) & wait` },
    sandbox,
    env,
  });
  await opened;
  const exit = await containerizer.destroy('c6', DEFAULT_KILL_GRACE_PERIOD_MS);
  t.deepEqual(exit, { status: 143, code: null, signal: 'SIGTERM' } satisfies ContainerExit);
  await eof;
  t.is(containerizer.get('c6'), undefined);
  t.is(await containerizer.destroy('c6', 0), undefined);
  void container;
});

// Serial: each FIFO reader holds a libuv pool thread until its writer opens, and the other FIFO
// tests running at once would take every thread, leaving none to launch the writers.
test.serial("Containerizer - in the caller's process group (sameGroup), destroy reaches the command and its descendants, and the caller's group is left alone", async (t) => {
  t.timeout(20_000);
  const { root, env } = await setup(t);
  // As the command executor in a process of its own runs its task: in its own container's group.
  const same = new Containerizer({ delay: (ms, fn) => { const timer = setTimeout(fn, ms); return { cancel: () => clearTimeout(timer) }; }, sameGroup: true });
  t.teardown(() => same.destroy('c-same', 0));
  const sandbox = join(root, 'c-same');
  const { opened, eof } = heldFifo(sandbox);
  const container = await same.launch({ containerId: 'c-same', command: { value: 'sleep 300 > held & wait' }, sandbox, env });
  await opened;
  t.is(procStat(container.pid).pgid, procStat(process.pid).pgid, "the command runs in the caller's group");
  const exit = await same.destroy('c-same', 60_000);
  t.deepEqual(exit, { status: 143, code: null, signal: 'SIGTERM' } satisfies ContainerExit);
  // The background job got the SIGTERM too (Mesos's killtree): it no longer holds the FIFO.
  await eof;
});

test('Containerizer - a command ignoring SIGTERM is killed with SIGKILL only after the grace period', async (t) => {
  const { containerizer, root, env, clock, runtime } = await setup(t);
  clock.pause();
  const sandbox = join(root, 'c7');
  const { opened } = heldFifo(sandbox);
  const container = await containerizer.launch({
    containerId: 'c7',
    // `> held` comes after the trap: once the FIFO is open, SIGTERM is ignored.
    command: { value: `trap '' TERM; sleep 300 > held` },
    sandbox,
    env,
  });
  await opened;
  let exit: ContainerExit | undefined;
  const destroyed = containerizer.destroy('c7', DEFAULT_KILL_GRACE_PERIOD_MS).then((e) => (exit = e));
  await runtime.settle();
  t.is(exit, undefined);
  t.notThrows(() => process.kill(container.pid, 0), 'the process survives SIGTERM');

  clock.advance(DEFAULT_KILL_GRACE_PERIOD_MS);
  await runtime.settle();
  await destroyed;
  t.deepEqual(exit, { status: 137, code: null, signal: 'SIGKILL' });
});
