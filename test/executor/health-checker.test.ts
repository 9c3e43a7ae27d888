import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Checker, HealthChecker } from '../../actors/executor/health-checker.ts';
import { checkProblem, healthCheckProblem, HEALTH_CHECK_DEFAULTS } from '../../src/mesos/health-check.ts';
import type { CheckInfo, CheckStatusInfo, HealthCheck } from '../../src/mesos/v1/common.ts';
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

/** A general checker of `check` on a paused Clock, each check's status awaited one by one. */
function generalChecker(t: { teardown(fn: () => void): void }, check: CheckInfo) {
  const clock = new Clock();
  clock.pause();
  const sandbox = mkdtempSync(join(tmpdir(), 'mesos-ts-check-'));
  const reported: CheckStatusInfo[] = [];
  const waiting: ((status: CheckStatusInfo) => void)[] = [];
  const checker = new Checker({
    check,
    sandbox,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    delay: (ms, fn) => clock.setTimer(ms, fn),
    onStatus: (status) => reported.push(status),
    onChecked: (status) => waiting.shift()?.(status),
  });
  t.teardown(() => {
    checker.stop();
    rmSync(sandbox, { recursive: true, force: true });
  });
  const checked = (ms: number): Promise<CheckStatusInfo> => {
    const outcome = new Promise<CheckStatusInfo>((resolve) => waiting.push(resolve));
    clock.advance(ms);
    return outcome;
  };
  return { sandbox, reported, checked };
}

test('Checker - COMMAND: each exit code that differs from the last is reported; the check never kills anything', async (t) => {
  const { sandbox, reported, checked } = generalChecker(t, { type: 'COMMAND', command: { command: { value: 'exit $(cat code 2>/dev/null || echo 0)' } }, delay_seconds: 1, interval_seconds: 1 });
  t.deepEqual(await checked(1_000), { type: 'COMMAND', command: { exit_code: 0 } });
  t.deepEqual(await checked(1_000), { type: 'COMMAND', command: { exit_code: 0 } });
  writeFileSync(join(sandbox, 'code'), '3');
  t.deepEqual(await checked(1_000), { type: 'COMMAND', command: { exit_code: 3 } });
  t.deepEqual(reported, [{ type: 'COMMAND', command: { exit_code: 0 } }, { type: 'COMMAND', command: { exit_code: 3 } }], 'the same result twice is reported once');
});

test('Checker - a check that times out leaves its field empty', async (t) => {
  const clock = new Clock();
  clock.pause();
  const reported: CheckStatusInfo[] = [];
  let checkedStatus: ((status: CheckStatusInfo) => void) | undefined;
  const done = new Promise<CheckStatusInfo>((resolve) => (checkedStatus = resolve));
  const checker = new Checker({
    check: { type: 'COMMAND', command: { command: { value: 'exec sleep 300' } }, delay_seconds: 1, timeout_seconds: 2 },
    sandbox: tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    delay: (ms, fn) => clock.setTimer(ms, fn),
    onStatus: (status) => reported.push(status),
    onChecked: (status) => checkedStatus?.(status),
  });
  t.teardown(() => checker.stop());
  clock.advance(1_000); // the check starts
  clock.advance(2_000); // and times out
  t.deepEqual(await done, { type: 'COMMAND', command: {} });
  t.deepEqual(reported, [], 'no different from the empty status the task started with');
});

test('Checker - TCP: succeeded true or false, as the connection goes', async (t) => {
  const server = createNetServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const { reported, checked } = generalChecker(t, { type: 'TCP', tcp: { port }, delay_seconds: 1, interval_seconds: 1 });
  t.deepEqual(await checked(1_000), { type: 'TCP', tcp: { succeeded: true } });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  t.deepEqual(await checked(1_000), { type: 'TCP', tcp: { succeeded: false } });
  t.is(reported.length, 2);
});

test('checkProblem - Mesos\'s validation of a CheckInfo', (t) => {
  t.is(checkProblem({ type: 'COMMAND', command: { command: { value: 'true' } } }), undefined);
  t.is(checkProblem({}), "CheckInfo must specify 'type'");
  t.is(checkProblem({ type: 'COMMAND' }), "Expecting 'command' to be set for COMMAND check");
  t.is(checkProblem({ type: 'HTTP', http: { port: 1, path: 'x' } }), "The path 'x' of HTTP check must start with '/'");
  t.is(checkProblem({ type: 'TCP' }), "Expecting 'tcp' to be set for TCP check");
  t.is(checkProblem({ type: 'TCP', tcp: { port: 1 }, interval_seconds: -1 }), "Expecting 'interval_seconds' to be non-negative");
});
