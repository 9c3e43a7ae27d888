import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { agentCommand, agentOptions } from '../../actors/cli/agent.ts';
import { startAgentNode } from '../../actors/cluster/agent-node.ts';
import { parseFlags } from '../../src/cli/flags.ts';

/**
 * The agent's Mesos flags reach the agent: an agent node started from `mesos-ts agent`'s parsed
 * flags (as the command starts it) holds them in `agent.flags`.
 */

const logger = pino({ level: process.env.MESOS_TS_LOG_LEVEL ?? 'error' });

test('flags - --registration_backoff_factor, --executor_registration_timeout, --executor_shutdown_grace_period, --recovery_timeout, --gc_delay, --gc_disk_headroom, --disk_watch_interval reach the agent', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mesos-ts-agent-flags-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const values = parseFlags(agentCommand.flags, ['--registration_backoff_factor=250ms', '--executor-registration-timeout', '2mins', '--gc_delay=2days', '--gc_disk_headroom=0.25'], {
    MESOS_TS_WORK_DIR: work,
    MESOS_TS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '9secs',
    MESOS_TS_RECOVERY_TIMEOUT: '3mins',
    MESOS_TS_DISK_WATCH_INTERVAL: '30secs',
  });
  // No master answers on this local bus: the agent keeps trying to register until stopped.
  const node = await startAgentNode({ ...agentOptions(values), master: 'master@flags-nowhere', node: 'flags-agent', logger, port: 0 });
  t.teardown(() => node.stop());
  t.is(node.agent.flags.registrationBackoffFactorMs, 250);
  t.is(node.agent.flags.executorRegistrationTimeoutMs, 120_000);
  t.is(node.agent.flags.executorShutdownGracePeriodMs, 9_000);
  t.is(node.agent.flags.recoveryTimeoutMs, 180_000);
  t.is(node.agent.flags.workDir, work);
  t.is(node.agent.flags.gcDelayMs, 2 * 86_400_000);
  t.is(node.agent.flags.gcDiskHeadroom, 0.25);
  t.is(node.agent.flags.diskWatchIntervalMs, 30_000);
});
