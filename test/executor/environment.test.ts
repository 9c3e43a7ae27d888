import test from 'ava';
import {
  executorEnvironment,
  executorNodeName,
  formatDuration,
  parseDuration,
  readExecutorEnvironment,
} from '../../actors/executor/environment.ts';
import { DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS, DEFAULT_RECOVERY_TIMEOUT_MS } from '../../actors/executor/constants.ts';
import { ExecutorEnvironmentError } from '../../actors/executor/errors.ts';
import { UPID } from '../../src/process/upid.ts';

test('executor environment - what the agent sets is what the driver reads', (t) => {
  const agent = UPID.parse('slave(1)@agent-1');
  const node = executorNodeName('agent-1', '3f2a-0b.c');
  t.is(node, 'agent-1-executor-3f2a-0b_c');
  const env = executorEnvironment({ frameworkId: 'f-0000', executorId: 'e 1', directory: '/sandbox', agent, endpoint: '127.0.0.1:5051', node, socket: '\0mesos-ts-executors-ab12', token: 's3cret', checkpoint: true });
  // An environment cannot hold a NUL: an abstract socket name is given with '@' in its place.
  t.is(env.MESOS_TS_AGENT_SOCKET, '@mesos-ts-executors-ab12');
  t.is(env.MESOS_SLAVE_PID, 'slave(1)@agent-1');
  t.is(env.MESOS_AGENT_ENDPOINT, '127.0.0.1:5051', 'ip:port, no scheme, as Mesos gives HTTP executors');
  t.is(env.MESOS_SUBSCRIPTION_BACKOFF_MAX, '15secs');
  t.is(env.MESOS_HTTP_COMMAND_EXECUTOR, '0');
  t.is(env.MESOS_SANDBOX, '/sandbox');
  t.false('MESOS_AGENT_ENDPOINT' in executorEnvironment({ frameworkId: 'f', executorId: 'e', directory: '/s', agent, node }), 'no endpoint without an HTTP server');
  t.deepEqual(readExecutorEnvironment(env), {
    frameworkId: 'f-0000',
    executorId: 'e 1',
    directory: '/sandbox',
    agent: 'slave(1)@agent-1',
    node,
    socket: '\0mesos-ts-executors-ab12',
    token: 's3cret',
    checkpoint: true,
    recoveryTimeoutMs: DEFAULT_RECOVERY_TIMEOUT_MS,
    shutdownGracePeriodMs: DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD_MS,
  });
});

test('executor environment - a missing or bad variable is named', (t) => {
  const env = executorEnvironment({ frameworkId: 'f', executorId: 'e', directory: '/s', agent: 'slave(1)@a', node: 'n', socket: '/w/executors.sock' });
  const { MESOS_TS_EXECUTOR_NODE: _, ...withoutNode } = env;
  t.throws(() => readExecutorEnvironment(withoutNode), { instanceOf: ExecutorEnvironmentError, message: /'MESOS_TS_EXECUTOR_NODE'/ });
  const { MESOS_TS_AGENT_SOCKET: ____, ...withoutSocket } = env;
  t.throws(() => readExecutorEnvironment(withoutSocket), { instanceOf: ExecutorEnvironmentError, message: /'MESOS_TS_AGENT_SOCKET'/ });
  t.is(readExecutorEnvironment(env).socket, '/w/executors.sock', 'a path is a path');
  t.throws(() => readExecutorEnvironment({ ...env, MESOS_RECOVERY_TIMEOUT: 'soon' }), { message: /invalid 'MESOS_RECOVERY_TIMEOUT' 'soon'/ });
  // The historical names are read too, and a UPID given as `MESOS_AGENT_ENDPOINT` by older agents.
  const { MESOS_SLAVE_PID: __, MESOS_DIRECTORY: ___, ...legacy } = env;
  t.throws(() => readExecutorEnvironment(legacy), { message: /'MESOS_SLAVE_PID'/ });
  t.is(readExecutorEnvironment({ ...legacy, MESOS_AGENT_ENDPOINT: 'slave(1)@a' }).agent, 'slave(1)@a');
  t.is(readExecutorEnvironment({ ...legacy, MESOS_AGENT_ENDPOINT: 'slave(1)@a' }).directory, '/s');
});

test('executor environment - Mesos durations', (t) => {
  t.is(parseDuration('5secs'), 5_000);
  t.is(parseDuration('1.5mins'), 90_000);
  t.is(parseDuration('200ms'), 200);
  t.is(parseDuration('15mins'), DEFAULT_RECOVERY_TIMEOUT_MS);
  t.is(parseDuration('5 s'), undefined);
  t.is(formatDuration(5_000), '5secs');
  t.is(formatDuration(250), '250ms');
});
