import { userInfo } from 'node:os';
import { logLevel, optionalPositive, stringMap } from '../../src/cli/checks.ts';
import { FlagError, type FlagSpec, type FlagValue } from '../../src/cli/flags.ts';
import { cliLogger } from '../../src/cli/logger.ts';
import { healthCheckProblem } from '../../src/mesos/health-check.ts';
import { Resources } from '../../src/mesos/resources.ts';
import { HealthCheckSchema, type HealthCheck } from '../../src/mesos/v1/task.ts';
import { FRAMEWORK_CAPABILITIES, type FrameworkCapabilityType, type FrameworkInfo } from '../../src/mesos/v1/base.ts';
import type { Offer, TaskInfo, TaskStatus } from '../../src/mesos/v1/common.ts';
import { connectFramework } from '../detector/connect.ts';
import type { MasterDetector } from '../detector/detector.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import type { UPID } from '../../src/process/upid.ts';
import { DetectionAbortedError } from '../detector/errors.ts';
import { SchedulerDriver } from '../scheduler/scheduler-driver.ts';
import { masterAddress } from './bus.ts';
import { clientCredential, commonFlags, CREDENTIAL_FLAGS, type Command } from './commands.ts';
import { ExecuteScheduler, type ExecuteLaunch } from './execute-scheduler.ts';
import { readTaskGroupFlag, taskGroupLaunch } from './execute-task-group.ts';
import { untilSignal } from './signals.ts';

/** `mesos-execute`'s default task resources. */
export const EXECUTE_DEFAULT_RESOURCES = 'cpus:1;mem:128';

const flags: FlagSpec[] = [
  { name: 'master', type: 'string', help: 'master@<node> (with --nats), or nats://host:4222 to discover the leading master (default with --nats: discover)' },
  { name: 'name', type: 'string', help: 'the task name, also its id (required with --command)' },
  { name: 'command', type: 'string', help: 'the shell command to run (or --task_group)' },
  {
    name: 'task_group',
    type: 'string',
    help: 'instead of --command: a TaskGroupInfo in JSON, or a file of it (/path or file:///path), run whole in the default executor, e.g. \'{"tasks":[{"name":"a","task_id":{"value":"a"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}],"command":{"value":"echo a"}}]}\'',
  },
  { name: 'resources', type: 'resources', help: 'what the task needs', default: EXECUTE_DEFAULT_RESOURCES },
  { name: 'framework_name', type: 'string', help: "the framework's name", default: 'mesos-ts-execute instance' },
  { name: 'role', type: 'string', help: 'the role the framework subscribes with', default: '*' },
  { name: 'env', type: 'string', help: 'environment of the command, a JSON object: \'{"NAME":"value"}\'' },
  { name: 'shell', type: 'bool', help: 'run the command with /bin/sh -c (--no-shell: exec it, split on spaces)', default: true },
  { name: 'kill_after', type: 'duration', help: 'kill the task this long after it runs' },
  {
    name: 'health_check',
    type: 'string',
    help: 'a Mesos HealthCheck for the task, as JSON: \'{"type":"COMMAND","command":{"value":"test -f ready"},"interval_seconds":2}\' (also HTTP with "http":{"port":8080,"path":"/health"}, TCP with "tcp":{"port":8080})',
  },
  { name: 'checkpoint', type: 'bool', help: "subscribe a checkpointing framework: its task and executor outlive a restart of their agent", default: false },
  {
    name: 'framework_capabilities',
    type: 'list',
    help: `capabilities the framework declares, e.g. 'PARTITION_AWARE,TASK_KILLING_STATE' (of ${FRAMEWORK_CAPABILITIES.filter((c) => c !== 'UNKNOWN').join(', ')})`,
  },
  ...CREDENTIAL_FLAGS,
  ...commonFlags('warn'),
];

/** Exit status for every outcome but `TASK_FINISHED`. */
const FAILED = 1;

/**
 * `mesos-ts execute`, after `mesos-execute`: subscribes a framework, runs one command as a task
 * on the first offer that fits, prints every status update, tears the framework down, and exits
 * 0 on `TASK_FINISHED`, 1 otherwise. Ctrl-C kills the task (a second one gives up at once).
 * With `--task_group` it runs a task group instead (`execute-task-group.ts`), and exits 0 only
 * when every task of it finished.
 */
export const executeCommand: Command = {
  name: 'execute',
  summary: 'run one command as a task and print its status updates (exit 0 on TASK_FINISHED), like mesos-execute',
  flags,
  async run(values) {
    const level = logLevel(values);
    const killAfterMs = optionalPositive(values, 'kill_after');
    const env = stringMap(values, 'env');
    const healthCheck = parseHealthCheck(values);
    const credential = clientCredential(values);
    const taskGroup = readTaskGroupFlag(values);
    if (taskGroup !== undefined && values.command !== undefined) throw new FlagError('task_group', undefined, 'cannot be given with --command (one or the other, as mesos-execute)');
    if (taskGroup === undefined && values.name === undefined) throw new FlagError('name', undefined, 'is required (unless --task_group is given)');
    if (taskGroup === undefined && values.command === undefined) throw new FlagError('command', undefined, 'is required (or --task_group)');
    const framework = frameworkInfo(values);
    const wanted = Resources.parse(values.resources as string);
    const master = masterAddress(values);
    if (master === undefined && values.nats === undefined) throw new FlagError('master', undefined, 'is required without --nats (with --nats the leading master is discovered)');
    if (master?.kind === 'upid' && values.nats === undefined) throw new FlagError('master', String(master.upid), 'a master@<node> address needs --nats');
    const logger = cliLogger(level);
    const address =
      master === undefined ? (values.nats as string[]).join(',') : master.kind === 'upid' ? String(master.upid) : master.kind === 'http' ? master.url : master.servers.join(',');
    // Ctrl-C while the master is being looked for gives up; once a task runs, it kills the task.
    const detection = new AbortController();
    let onSignal = (): void => detection.abort();
    void untilSignal().then(() => onSignal());
    let connection: { runtime?: Runtime; master: UPID | string; detector?: MasterDetector; close(): Promise<void> };
    try {
      // Over HTTP the driver speaks the v1 scheduler API itself, in a runtime of its own.
      connection = master?.kind === 'http' ? { runtime: undefined, master: master.url, close: async () => undefined } : await connectFramework(address, {
        nats: values.nats as string[] | undefined,
        prefix: values.nats_prefix as string,
        logger,
        signal: detection.signal,
      });
    } catch (error) {
      if (error instanceof DetectionAbortedError) return FAILED;
      throw error;
    }
    const name = values.name as string;
    const command = values.command as string;
    const task = (offer: Offer): TaskInfo => ({
      name,
      task_id: { value: name },
      agent_id: offer.agent_id,
      resources: wanted.toJSON(),
      command: {
        value: command,
        shell: values.shell as boolean,
        ...(values.shell === false ? { arguments: command.split(/\s+/).filter((a) => a.length > 0) } : {}),
        ...(env !== undefined ? { environment: { variables: Object.entries(env).map(([k, v]) => ({ name: k, value: v })) } } : {}),
      },
      ...(healthCheck !== undefined ? { health_check: healthCheck } : {}),
    });
    const launch: ExecuteLaunch =
      taskGroup !== undefined
        ? taskGroupLaunch(taskGroup)
        : {
            taskIds: [name],
            wanted,
            launch(driver, offer) {
              driver.launchTasks(offer.id, [task(offer)]);
              return `Submitted task '${name}' to agent '${offer.agent_id.value}'`;
            },
          };
    const scheduler = new ExecuteScheduler(launch, killAfterMs, print, printStatus);
    const driver = new SchedulerDriver(
      scheduler,
      framework,
      connection.master,
      connection.runtime !== undefined ? { runtime: connection.runtime, detector: connection.detector } : { logger, ...(credential !== undefined ? { credential } : {}) },
    );
    onSignal = () => {
      print(taskGroup !== undefined ? 'Received a signal: killing the task group' : `Received a signal: killing task '${name}'`);
      scheduler.interrupt(driver);
      void untilSignal().then(() => scheduler.giveUp());
    };
    await driver.start();
    const state = await scheduler.done;
    await driver.stop();
    await connection.close();
    return state === 'TASK_FINISHED' ? 0 : FAILED;
  },
};

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A status update, as `mesos-execute` prints it. */
function printStatus(status: TaskStatus): void {
  print(`Received status update ${status.state} for task '${status.task_id.value}'`);
  if (status.message !== undefined && status.message !== '') print(`  message: '${status.message}'`);
  if (status.source !== undefined) print(`  source: ${status.source}`);
  if (status.reason !== undefined) print(`  reason: ${status.reason}`);
  if (status.healthy !== undefined) print(`  healthy?: ${status.healthy}`);
  if (status.check_status !== undefined) print(`  check_status: ${JSON.stringify(status.check_status)}`);
}

/**
 * The `FrameworkInfo` `execute` subscribes with: `--framework_name`, `--role`, `--checkpoint`,
 * `--framework_capabilities`, `--principal`. With `MULTI_ROLE` the role goes in `roles`, as Mesos wants.
 */
export function frameworkInfo(values: Record<string, FlagValue>): FrameworkInfo {
  const capabilities = frameworkCapabilities(values);
  const role = values.role as string;
  return {
    user: userInfo().username,
    name: values.framework_name as string,
    ...(capabilities.includes('MULTI_ROLE') ? { roles: [role] } : { role }),
    checkpoint: values.checkpoint === true,
    ...(capabilities.length > 0 ? { capabilities: capabilities.map((type) => ({ type })) } : {}),
    // As mesos-execute: the framework's principal is the one it authenticates as.
    ...(values.principal !== undefined ? { principal: values.principal as string } : {}),
  };
}

function frameworkCapabilities(values: Record<string, FlagValue>): FrameworkCapabilityType[] {
  const given = (values.framework_capabilities as string[] | undefined) ?? [];
  const known = FRAMEWORK_CAPABILITIES.filter((c) => c !== 'UNKNOWN') as readonly string[];
  for (const name of given) {
    if (!known.includes(name)) throw new FlagError('framework_capabilities', given.join(','), `unknown capability '${name}' (use ${known.join(', ')})`);
  }
  return [...new Set(given)] as FrameworkCapabilityType[];
}

/** `--health_check`: a `HealthCheck` in Mesos v1 JSON, checked as the master would. */
function parseHealthCheck(values: Record<string, FlagValue>): HealthCheck | undefined {
  const text = values.health_check as string | undefined;
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FlagError('health_check', text, `must be a JSON object: ${(error as Error).message}`);
  }
  const parsed = HealthCheckSchema.safeParse(json);
  if (!parsed.success) throw new FlagError('health_check', text, `is not a HealthCheck: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const problem = healthCheckProblem(parsed.data);
  if (problem !== undefined) throw new FlagError('health_check', text, problem);
  return parsed.data;
}

