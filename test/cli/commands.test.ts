import { execFile } from 'node:child_process';
import test from 'ava';
import { main } from '../../actors/cli/cli.ts';
import { CLI, ROOT } from '../multihost/processes.ts';

/**
 * `mesos-ts` as an operator runs it: `--help` for every command, usage errors and bad flag
 * values exit 2 with a message naming the flag. The cases run `main` in this process (what
 * `actors/cli/main.ts` runs), with an environment of their own; two run the executable itself.
 */

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (text) => (stdout += `${text}\n`), err: (text) => (stderr += `${text}\n`), env });
  return { code, stdout, stderr };
}

function spawnCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

test('cli - the executable: --help exits 0, a bad flag value from the environment exits 2 naming the flag', async (t) => {
  const [help, bad] = await Promise.all([spawnCli(['agent', '--help']), spawnCli(['master'], { MESOS_TS_AGENT_PING_TIMEOUT: '15' })]);
  t.is(help.code, 0);
  t.regex(help.stdout, /--work_dir=<value>/);
  t.is(bad.code, 2, bad.stderr);
  t.regex(bad.stderr, /^mesos-ts master: invalid value '15' for --agent_ping_timeout: must be a duration/m);
});

const COMMANDS = {
  master: ['--agent_ping_timeout', '--max_agent_ping_timeouts', '--allocation_interval', '--offer_timeout', '--leader_lease', '--min_allocatable_resources', '--filter_gpu_resources', '--role_sorter', '--framework_sorter', '--weights', '--max_completed_frameworks', '--max_completed_tasks_per_framework', '--port', '--ip', '--hostname', '--work_dir', '--nats'],
  agent: [
    '--master', '--work_dir', '--resources', '--attributes', '--hostname', '--port', '--ip',
    '--registration_backoff_factor', '--executor_registration_timeout', '--executor_shutdown_grace_period', '--recovery_timeout', '--nats',
    '--gc_delay', '--gc_disk_headroom', '--disk_watch_interval', '--strict', '--executor_environment_variables', '--isolation', '--cgroups_hierarchy', '--cgroups_root', '--cgroups_enable_cfs',
  ],
  dev: ['--agents', '--resources', '--isolation', '--recover', '--strict', '--port', '--min_allocatable_resources', '--role_sorter', '--framework_sorter', '--weights', '--filter_gpu_resources', '--nats'],
  execute: ['--master', '--name', '--command', '--task_group', '--resources', '--framework_name', '--role', '--env', '--shell', '--kill_after', '--health_check', '--checkpoint', '--framework_capabilities', '--nats'],
  state: ['--master', '--json', '--nats'],
};

test('cli - mesos-ts --help lists every command', async (t) => {
  const { code, stdout } = await run(['--help']);
  t.is(code, 0);
  for (const name of Object.keys(COMMANDS)) t.regex(stdout, new RegExp(`^  ${name} `, 'm'));
});

for (const [name, flags] of Object.entries(COMMANDS)) {
  test(`cli - mesos-ts ${name} --help shows its flags with their environment variables`, async (t) => {
    const { code, stdout } = await run([name, '--help']);
    t.is(code, 0);
    t.true(stdout.startsWith(`Usage: mesos-ts ${name} [flags]`), stdout);
    for (const flag of flags) t.true(stdout.includes(`  ${flag}`), `${flag} in:\n${stdout}`);
    t.regex(stdout, /\[env MESOS_TS_NATS\]/);
  });
}

test('cli - no command, or an unknown one, exits 2 with the usage', async (t) => {
  const none = await run([]);
  t.is(none.code, 2);
  const unknown = await run(['frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command 'frobnicate'/);
});

const BAD: [string, string[], Record<string, string>, RegExp][] = [
  ['a duration', ['master', '--agent_ping_timeout=15'], {}, /mesos-ts master: invalid value '15' for --agent_ping_timeout: must be a duration/],
  ['a duration that is zero', ['master', '--agent_ping_timeout=0secs'], {}, /invalid value '0' for --agent_ping_timeout: must be greater than zero/],
  ['a count below one', ['master', '--max_agent_ping_timeouts=0'], {}, /invalid value '0' for --max_agent_ping_timeouts: must be an integer of at least 1/],
  ['a leader lease too short to renew', ['master', '--leader_lease=50ms'], {}, /mesos-ts master: invalid value '50ms' for --leader_lease: must be at least 300ms/],
  ['a port', ['master', '--port=70000'], {}, /invalid value '70000' for --port/],
  ['a minimum allocatable quantity', ['master', '--min_allocatable_resources=cpus:0.01|mem'], {}, /invalid value 'cpus:0.01\|mem' for --min_allocatable_resources: .*'mem'/],
  ['an environment variable', ['master'], { MESOS_TS_ALLOCATION_INTERVAL: 'fast' }, /invalid value 'fast' for --allocation_interval/],
  ['a NATS URL', ['master', '--nats=localhost:4222'], {}, /invalid value 'localhost:4222' for --nats: must be a NATS URL/],
  ['a log level', ['master', '--log_level=loud'], {}, /invalid value 'loud' for --log_level/],
  ['a missing work_dir', ['agent', '--nats=nats://127.0.0.1:1'], {}, /mesos-ts agent: --work_dir: is required/],
  ['a recovery timeout', ['agent', '--work_dir=/tmp/x', '--nats=nats://127.0.0.1:1', '--recovery_timeout=soon'], {}, /invalid value 'soon' for --recovery_timeout/],
  ['resources', ['agent', '--work_dir=/tmp/x', '--nats=nats://127.0.0.1:1', '--resources=cpus:lots'], {}, /invalid value 'cpus:lots' for --resources/],
  ['attributes', ['agent', '--work_dir=/tmp/x', '--nats=nats://127.0.0.1:1', '--attributes=rack'], {}, /--attributes/],
  ['a master address', ['agent', '--work_dir=/tmp/x', '--master=ftp://m'], {}, /invalid value 'ftp:\/\/m' for --master/],
  ['no master and no bus', ['agent', '--work_dir=/tmp/x'], {}, /--master: is required without --nats/],
  ['a UPID without a bus', ['execute', '--master=master@m1', '--name=a', '--command=true'], {}, /invalid value 'master@m1' for --master: a master@<node> address needs --nats/],
  ['a missing command', ['execute', '--nats=nats://127.0.0.1:1', '--name=a'], {}, /--command: is required/],
  ['an environment that is not JSON', ['execute', '--nats=nats://127.0.0.1:1', '--name=a', '--command=true', '--env=A=1'], {}, /invalid value 'A=1' for --env: must be a JSON object/],
  ['a role sorter', ['master', '--role_sorter=fair'], {}, /mesos-ts master: invalid value 'fair' for --role_sorter: must be one of drf, random/],
  ['a framework sorter from the environment', ['master'], { MESOS_TS_FRAMEWORK_SORTER: 'DRF' }, /invalid value 'DRF' for --framework_sorter: must be one of drf, random/],
  ['weights without =', ['master', '--weights=eng:2'], {}, /invalid value 'eng:2' for --weights: 'eng:2' must be 'role=weight'/],
  ['a weight of zero', ['master', '--weights=eng=2,ads=0'], {}, /invalid value 'eng=2,ads=0' for --weights: the weight of role 'ads' must be a positive number/],
  ['a weight that is no number', ['master'], { MESOS_TS_WEIGHTS: 'eng=lots' }, /invalid value 'eng=lots' for --weights: the weight of role 'eng'/],
  ['a weight of a bad role', ['master', '--weights=-eng=1'], {}, /invalid value '-eng=1' for --weights: role '-eng' must not start with '-'/],
  ['a role weighed twice', ['master', '--weights=eng=1,eng=2'], {}, /--weights: role 'eng' is given twice/],
  ['a framework capability', ['execute', '--nats=nats://127.0.0.1:1', '--name=a', '--command=true', '--framework_capabilities=GPU_RESOURCES,TELEPORT'], {}, /invalid value 'GPU_RESOURCES,TELEPORT' for --framework_capabilities: unknown capability 'TELEPORT'/],
  ['checkpoint from the environment', ['execute', '--nats=nats://127.0.0.1:1', '--name=a', '--command=true'], { MESOS_TS_CHECKPOINT: 'maybe' }, /invalid value 'maybe' for --checkpoint: must be 'true' or 'false'/],
  ['a health check that is not JSON', ['execute', '--nats=nats://127.0.0.1:1', '--name=a', '--command=true', '--health_check={type'], {}, /invalid value '\{type' for --health_check: must be a JSON object/],
  ['a health check of no known type', ['execute', '--nats=nats://127.0.0.1:1', '--name=a', '--command=true', '--health_check={"type":"PING"}'], {}, /--health_check: is not a HealthCheck: type: /],
  ['a health check without its command', ['execute', '--nats=nats://127.0.0.1:1', '--name=a', '--command=true', '--health_check={"type":"COMMAND"}'], {}, /--health_check: Expecting 'command' to be set for COMMAND health check/],
  ['executor environment variables that are not JSON', ['agent', '--work_dir=/tmp/x', '--nats=nats://127.0.0.1:1', '--executor_environment_variables={PATH'], {}, /invalid value '\{PATH' for --executor_environment_variables: must be a JSON object of strings, .*\(must be JSON: /],
  ['the agents\' recovery of mesos-ts dev', ['dev', '--recover=sometimes'], {}, /invalid value "sometimes" for --recover: must be 'reconnect' or 'cleanup'/],
  ['an isolator', ['agent', '--work_dir=/tmp/x', '--nats=nats://127.0.0.1:1', '--isolation=cgroups/net'], {}, /invalid value "cgroups\/net" for --isolation: unknown isolator 'cgroups\/net'/],
  ['a kill delay that is zero', ['execute', '--nats=nats://127.0.0.1:1', '--name=a', '--command=true', '--kill_after=0secs'], {}, /invalid value '0' for --kill_after: must be greater than zero/],
  ['an executor registration timeout', ['agent', '--work_dir=/tmp/x', '--nats=nats://127.0.0.1:1', '--executor_registration_timeout=1'], {}, /invalid value '1' for --executor_registration_timeout: must be a duration/],
  ['an unknown flag', ['state', '--masters=http://x'], {}, /--masters: unknown flag/],
  ['a missing name', ['execute', '--nats=nats://127.0.0.1:1', '--command=true'], {}, /--name: is required \(unless --task_group is given\)/],
  ['a task group file that is not there', ['execute', '--nats=nats://127.0.0.1:1', '--task_group=/nonexistent/group.json'], {}, /invalid value '\/nonexistent\/group.json' for --task_group: is neither JSON nor a file that can be read: ENOENT/],
  ['a task group that is not JSON', ['execute', '--nats=nats://127.0.0.1:1', '--task_group={tasks'], {}, /invalid value '\{tasks' for --task_group: must be a TaskGroupInfo in JSON/],
  ['a task group without tasks', ['execute', '--nats=nats://127.0.0.1:1', '--task_group={"tasks":[]}'], {}, /for --task_group: is not a TaskGroupInfo: tasks: /],
  ['a task group task without a command', ['execute', '--nats=nats://127.0.0.1:1', `--task_group=${JSON.stringify({ tasks: [{ name: 'a', task_id: { value: 'a' }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] }] })}`], {}, /for --task_group: task 'a' has no command/],
  ['a task group and a command', ['execute', '--nats=nats://127.0.0.1:1', '--command=true', `--task_group=${JSON.stringify({ tasks: [{ name: 'a', task_id: { value: 'a' }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }], command: { value: 'true' } }] })}`], {}, /--task_group: cannot be given with --command/],
];

for (const [what, args, env, message] of BAD) {
  test(`cli - a bad value exits 2 naming the flag: ${what}`, async (t) => {
    const { code, stderr, stdout } = await run(args, env);
    t.is(code, 2, `stdout: ${stdout}\nstderr: ${stderr}`);
    t.regex(stderr, message);
  });
}
