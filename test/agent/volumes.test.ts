import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { agentFlags, InvalidFlagError } from '../../actors/agent/flags.ts';
import { state } from '../../actors/agent/http.ts';
import { volumePath } from '../../actors/agent/volumes.ts';
import { CHECKPOINT_RESOURCES, REGISTER_EXECUTOR, RUN_TASK_GROUP, type RunTaskGroup, type StatusUpdateMessage } from '../../src/mesos/protocol.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { isTerminalState, type ExecutorInfo, type TaskStatus } from '../../src/mesos/v1/common.ts';
import { futureMessage, resetFiltersAfterEach } from '../helpers/filters.ts';
import { acknowledge, commandTask, customTask, echoExecutor, FRAMEWORK, FRAMEWORK_ID, nextUpdate, register, reregistration, runTask, spawnAgent, startAgent, type Harness } from './harness.ts';

/**
 * The agent's side of persistent volumes (Mesos's `Slave::syncCheckpointedResources` and the
 * `filesystem/posix` isolator): each volume its master checkpoints here is a directory
 * `<work_dir>/volumes/roles/<role>/<id>`, linked into the sandbox of every task that uses it at
 * its `container_path`, kept across tasks and restarts, and removed when the master destroys
 * it. The master is a `Probe`; the tasks are real processes.
 */
resetFiltersAfterEach(test);

const RESOURCES = 'cpus:4;mem:1024;disk:1024';
const VOLUME = 'disk(reservations: [(DYNAMIC,web,ops)])[vol1,ops:data]:64';
const vol = Resources.parse(VOLUME);

function checkpoint(h: Harness, resources: Resources): void {
  h.master.send(h.agent.self, CHECKPOINT_RESOURCES, { resources: resources.toJSON() });
}

const directory = (h: Harness, resources: Resources = vol) => volumePath(h.workDir, resources.entries()[0]!);

/** Takes (and acknowledges) the updates until `taskId` is terminal; returns its last status. */
async function ended(h: Harness, taskId: string): Promise<TaskStatus> {
  for (;;) {
    const message: StatusUpdateMessage = await nextUpdate(h);
    acknowledge(h, message);
    const status = message.update.status;
    if (status.task_id.value === taskId && isTerminalState(status.state)) return status;
  }
}

/** The sandbox of the command task `taskId` (its executor's). */
function sandboxOf(h: Harness, taskId: string): string {
  const framework = h.agent.frameworks.get(FRAMEWORK_ID) ?? h.agent.completedFrameworks.find((f) => f.id === FRAMEWORK_ID)!;
  const executor = framework.executors.get(taskId) ?? framework.completedExecutors.find((e) => e.id === taskId)!;
  return executor.directory;
}

test.serial('agent volumes - a checkpointed volume is a directory volumes/roles/<role>/<id>, shown by /state; destroyed, it goes with its data', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  const nested = Resources.parse('disk(reservations: [(DYNAMIC,eng),(DYNAMIC,eng/web)])[logs:logs]:32');
  checkpoint(h, vol.plus(nested));
  await h.settle();
  t.is(directory(h), join(h.workDir, 'volumes', 'roles', 'web', 'vol1'));
  t.is(directory(h, nested), join(h.workDir, 'volumes', 'roles', 'eng web', 'logs'), "a hierarchical role's '/' is a space, as Mesos writes it");
  t.true(existsSync(directory(h)));
  t.true(existsSync(directory(h, nested)));
  const s = state(h.agent) as Record<string, any>;
  t.true(Resources.fromJSON(s.reserved_resources_full.web).equals(vol), '/state shows the volume, with its DiskInfo');
  t.deepEqual(s.reserved_resources.web, { cpus: 0, mem: 0, disk: 64, gpus: 0 });

  writeFileSync(join(directory(h), 'file'), 'kept');
  checkpoint(h, nested.plus(Resources.parse('disk(reservations: [(DYNAMIC,web,ops)]):64')));
  await h.settle();
  t.false(existsSync(directory(h)), 'destroyed: removed with what it held');
  t.true(existsSync(directory(h, nested)));
});

test.serial('agent volumes - a command task sees its volume at container_path; what it writes outlives it and the next task of the volume reads it', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  checkpoint(h, vol);
  await h.settle();
  runTask(h, commandTask('writer', 'echo hello > data/greeting', `cpus:0.1;mem:32;${VOLUME}`));
  const wrote = await ended(h, 'writer');
  t.is(wrote.state, 'TASK_FINISHED', wrote.message);
  const link = join(sandboxOf(h, 'writer'), 'data');
  t.true(lstatSync(link).isSymbolicLink(), 'a symlink in the sandbox, as the POSIX isolator makes it');
  t.is(readlinkSync(link), directory(h));
  t.is(readFileSync(join(directory(h), 'greeting'), 'utf8'), 'hello\n', 'the data is in the volume');

  runTask(h, commandTask('reader', 'cat data/greeting', `cpus:0.1;mem:32;${VOLUME}`));
  const read = await ended(h, 'reader');
  t.is(read.state, 'TASK_FINISHED', read.message);
  t.is(readFileSync(join(sandboxOf(h, 'reader'), 'stdout'), 'utf8'), 'hello\n');
});

test.serial("agent volumes - a task of a group sees its volume in its own sandbox (tasks/<id>) and in its executor's", async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  checkpoint(h, vol);
  await h.settle();
  const executor: ExecutorInfo = { type: 'DEFAULT', executor_id: { value: 'default' }, framework_id: { value: FRAMEWORK_ID }, resources: Resources.parse('cpus:0.1;mem:32;disk:32').toJSON() };
  const task = { ...commandTask('grouped', 'echo from-group > data/out', `cpus:0.1;mem:32;${VOLUME}`), executor };
  h.master.send(h.agent.self, RUN_TASK_GROUP, { framework: FRAMEWORK as RunTaskGroup['framework'], executor, task_group: { tasks: [task] } } satisfies RunTaskGroup);
  const status = await ended(h, 'grouped');
  t.is(status.state, 'TASK_FINISHED', status.message);
  t.is(readFileSync(join(directory(h), 'out'), 'utf8'), 'from-group\n');
  const sandbox = h.agent.completedFrameworks.find((f) => f.id === FRAMEWORK_ID)?.completedExecutors[0]?.directory ?? h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('default')!.directory;
  t.is(readlinkSync(join(sandbox, 'tasks', 'grouped', 'data')), directory(h));
  t.is(readlinkSync(join(sandbox, 'data')), directory(h));
});

test.serial('agent volumes - a task using a volume the agent was not told of is TASK_LOST, REASON_RESOURCES_UNKNOWN; nothing runs', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  runTask(h, commandTask('early', 'true', `cpus:0.1;mem:32;${VOLUME}`));
  const status = await ended(h, 'early');
  t.is(status.state, 'TASK_LOST');
  t.is(status.reason, 'REASON_RESOURCES_UNKNOWN');
  t.regex(status.message ?? '', /^The checkpointed resources being used by the task or task group are unknown to the agent: disk\(reservations: \[\(DYNAMIC,web,ops\)\]\)\[vol1,ops:data\]:64$/);
  t.deepEqual(h.agent.containerizer.containerIds(), []);
  t.is(h.agent.frameworks.size, 0);
});

test.serial('agent volumes - a file where the link should go fails the task (REASON_CONTAINER_UPDATE_FAILED); its executor runs on', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  checkpoint(h, vol);
  const registering = futureMessage(REGISTER_EXECUTOR, undefined, h.agent.self);
  runTask(h, customTask('first', echoExecutor()));
  await registering;
  acknowledge(h, await nextUpdate(h)); // TASK_RUNNING
  const sandbox = h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.directory;
  writeFileSync(join(sandbox, 'data'), 'in the way');
  runTask(h, { ...customTask('second', echoExecutor()), resources: Resources.parse('cpus:0.1;mem:32').plus(vol).toJSON() });
  const status = await ended(h, 'second');
  t.is(status.state, 'TASK_FAILED');
  t.is(status.reason, 'REASON_CONTAINER_UPDATE_FAILED');
  t.regex(status.message ?? '', /^Failed to symlink persistent volume 'vol1' to '.*\/data': something else is there$/);
  t.is(h.agent.frameworks.get(FRAMEWORK_ID)!.executors.get('echo')!.state, 'RUNNING');
});

test.serial('agent volumes - after a restart the volume and its data are there, a missing directory is made again, and the re-registration reports the volume', async (t) => {
  const h = await startAgent(t, { resources: RESOURCES });
  await register(h);
  const other = Resources.parse('disk(reservations: [(DYNAMIC,web,ops)])[vol2,ops:scratch]:32');
  checkpoint(h, vol.plus(other));
  await h.settle();
  writeFileSync(join(directory(h), 'data.txt'), 'survives');
  h.agentRuntime.terminate(h.agent.self);
  await h.settle();
  rmSync(directory(h, other), { recursive: true });

  h.agent = spawnAgent(h);
  const body = await reregistration(h);
  t.true(Resources.fromJSON(body.checkpointed_resources).equals(vol.plus(other)), 'checkpointed_resources');
  t.is(readFileSync(join(directory(h), 'data.txt'), 'utf8'), 'survives');
  t.true(existsSync(directory(h, other)), 'made again');
  t.deepEqual(readdirSync(directory(h, other)), []);
  t.true(h.agent.totalResources.contains(vol.plus(other)));
});

test('agent volumes - --resources may not hold a persistent volume: CREATE makes them', (t) => {
  t.throws(() => agentFlags({ master: 'master@m', workDir: '/tmp/x', resources: `cpus:1;${VOLUME}` }), {
    instanceOf: InvalidFlagError,
    message: /^invalid value "cpus:1;disk\(reservations: .*\)\[vol1,ops:data\]:64" for --resources: must not hold persistent volumes \(CREATE makes them\)$/,
  });
});
