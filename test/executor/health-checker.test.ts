import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { HealthChecker } from '../../actors/executor/health-checker.ts';
import { healthCheckProblem, HEALTH_CHECK_DEFAULTS } from '../../src/mesos/health-check.ts';
import type { HealthCheck } from '../../src/mesos/v1/common.ts';
import { Clock } from '../../src/process/clock.ts';

/**
 * The health checker on its own: a paused Clock drives the schedule, real processes run the
 * checks, and each check's outcome is awaited (`onChecked`) before the Clock moves again.
 */
function checker(t: { teardown(fn: () => void): void }, check: HealthCheck) {
  const clock = new Clock();
  clock.pause();
  const sandbox = mkdtempSync(join(tmpdir(), 'mesos-ts-health-'));
  const reports: [healthy: boolean, kill: boolean][] = [];
  const waiting: ((failure: string | undefined) => void)[] = [];
  const health = new HealthChecker({
    check,
    sandbox,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    delay: (ms, fn) => clock.setTimer(ms, fn),
    now: () => clock.now(),
    onHealth: (healthy, kill) => reports.push([healthy, kill]),
    onChecked: (failure) => waiting.shift()?.(failure),
  });
  t.teardown(() => {
    health.stop();
    rmSync(sandbox, { recursive: true, force: true });
  });
  /** Moves the Clock by `ms`, which starts a check, and waits for its outcome. */
  const checked = (ms: number): Promise<string | undefined> => {
    const outcome = new Promise<string | undefined>((resolve) => waiting.push(resolve));
    clock.advance(ms);
    return outcome;
  };
  return { clock, sandbox, reports, checked, health };
}

test('HealthChecker - the first check waits delay_seconds; health is reported on every failure and on the first success after a start or failures, not on every success', async (t) => {
  const { clock, sandbox, reports, checked } = checker(t, {
    type: 'COMMAND',
    command: { value: 'test -f flag' },
    delay_seconds: 2,
    interval_seconds: 1,
    grace_period_seconds: 0,
    consecutive_failures: 3,
  });
  clock.advance(1_999);
  t.deepEqual(reports, [], 'no check before delay_seconds');
  t.is(await checked(1), 'Command returned: exit status 1');
  t.deepEqual(reports, [[false, false]]);
  writeFileSync(join(sandbox, 'flag'), ''); // the command runs in the sandbox
  t.is(await checked(1_000), undefined);
  t.is(await checked(1_000), undefined);
  t.is(await checked(1_000), undefined);
  t.deepEqual(reports, [[false, false], [true, false]], 'one healthy report for three successes');
  unlinkSync(join(sandbox, 'flag'));
  for (let i = 0; i < 3; i++) t.truthy(await checked(1_000));
  t.deepEqual(reports.slice(2), [[false, false], [false, false], [false, true]], 'the third failure in a row says kill');
  t.truthy(await checked(1_000), 'the checker goes on until it is stopped (the executor decides)');
  t.deepEqual(reports.at(-1), [false, true]);
});

test('HealthChecker - failures within grace_period_seconds of the start are ignored until a check succeeds; after a success they count at once', async (t) => {
  const { reports, checked } = checker(t, { type: 'COMMAND', command: { value: 'test -f flag' }, delay_seconds: 1, interval_seconds: 1, grace_period_seconds: 3 });
  t.truthy(await checked(1_000));
  t.truthy(await checked(1_000));
  t.truthy(await checked(1_000));
  t.deepEqual(reports, [], 'three failures within 3 s of the start');
  t.truthy(await checked(1_000));
  t.deepEqual(reports, [[false, false]], 'past the grace period');
});

test('HealthChecker - a success ends the grace period', async (t) => {
  const { sandbox, reports, checked } = checker(t, { type: 'COMMAND', command: { value: 'test -f flag' }, delay_seconds: 1, interval_seconds: 1, grace_period_seconds: 100 });
  writeFileSync(join(sandbox, 'flag'), '');
  t.is(await checked(1_000), undefined);
  unlinkSync(join(sandbox, 'flag'));
  t.truthy(await checked(1_000));
  t.deepEqual(reports, [[true, false], [false, false]]);
});

test('HealthChecker - stopped, it checks no more and aborts a check in progress', async (t) => {
  const { clock, reports, health } = checker(t, { type: 'COMMAND', command: { value: 'exec sleep 300' }, delay_seconds: 1, timeout_seconds: 5 });
  clock.advance(1_000); // the check starts
  health.stop();
  clock.advance(60_000);
  t.deepEqual(reports, []);
  t.is(clock.pendingTimers, 0, 'nothing left scheduled');
});

test('healthCheckProblem - Mesos\'s validation: a type, its field, a known scheme, a path from /, non-negative times', (t) => {
  t.is(healthCheckProblem({ type: 'COMMAND', command: { value: 'true' } }), undefined);
  t.is(healthCheckProblem({ type: 'HTTP', http: { port: 80, scheme: 'https', path: '/h' } }), undefined);
  t.is(healthCheckProblem({ type: 'TCP', tcp: { port: 80 } }), undefined);
  t.is(healthCheckProblem({}), "HealthCheck must specify 'type'");
  t.is(healthCheckProblem({ type: 'UNKNOWN' }), "HealthCheck must specify 'type'");
  t.is(healthCheckProblem({ type: 'COMMAND' }), "Expecting 'command' to be set for COMMAND health check");
  t.is(healthCheckProblem({ type: 'COMMAND', command: {} }), "Command health check must contain 'shell command' or 'value'");
  t.is(healthCheckProblem({ type: 'HTTP' }), "Expecting 'http' to be set for HTTP health check");
  t.is(healthCheckProblem({ type: 'HTTP', http: { port: 80, scheme: 'ftp' } }), "Unsupported HTTP health check scheme: 'ftp'");
  t.is(healthCheckProblem({ type: 'HTTP', http: { port: 80, path: 'health' } }), "The path 'health' of HTTP health check must start with '/'");
  t.is(healthCheckProblem({ type: 'TCP' }), "Expecting 'tcp' to be set for TCP health check");
  t.is(healthCheckProblem({ type: 'TCP', tcp: { port: 1 }, timeout_seconds: -1 }), "Expecting 'timeout_seconds' to be non-negative");
  t.deepEqual(HEALTH_CHECK_DEFAULTS, { delaySeconds: 15, intervalSeconds: 10, timeoutSeconds: 20, consecutiveFailures: 3, gracePeriodSeconds: 10 }, "mesos.proto's defaults");
});
