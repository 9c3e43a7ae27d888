import anyTest, { type TestFn } from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { SchedulerDriver } from '../../actors/scheduler/scheduler-driver.ts';
import { resetFiltersAfterEach } from '../helpers/filters.ts';
import { startTestCluster } from '../helpers/cluster.ts';
import { TestScheduler } from '../helpers/scheduler.ts';
import { useBuses, type BusesContext } from '../helpers/worlds.ts';

/**
 * The client side of the v1 scheduler HTTP API (`actors/scheduler/http-connection.ts`), as
 * Mesos's scheduler library (src/scheduler/scheduler.cpp, `MesosProcess::_send`) answers the
 * master's refusals of a SUBSCRIBE: `503`, `404` and `307` mean "not here yet", tried again;
 * only other errors are an ERROR for the scheduler.
 */
const test = anyTest as TestFn<BusesContext>;
resetFiltersAfterEach(test);
useBuses(test);

test.serial('scheduler API client - a SUBSCRIBE answered 404 (routes not up yet) is tried again, not an ERROR; a 307 is followed', async (t) => {
  const cluster = await startTestCluster(t, t.context.buses.local, { http: { port: 0 } });
  const masterPort = cluster.runtime.httpAddress!.port;

  // A front that answers the first SUBSCRIBE as a runtime without a master (404), then sends
  // every later one to the master.
  const seen: number[] = [];
  const front = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (seen.length === 0) {
        seen.push(404);
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end("No route for '/api/v1/scheduler'");
      } else {
        seen.push(307);
        res.writeHead(307, { Location: `//127.0.0.1:${masterPort}/api/v1/scheduler` }).end();
      }
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => front.close(() => resolve())));
  const frontPort = (front.address() as AddressInfo).port;

  const scheduler = new TestScheduler();
  const driver = new SchedulerDriver(scheduler, { user: 'test', name: 'patient' }, `http://127.0.0.1:${frontPort}`, {
    random: () => 0.01,
    logger: pino({ level: 'silent' }),
  });
  t.teardown(() => driver.abort());
  const outcome = Promise.race([
    scheduler.next('registered').then(([frameworkId]) => `registered ${frameworkId.value}`),
    scheduler.next('error').then(([message]) => `error ${message}`),
  ]);
  await driver.start();
  const first = await outcome;
  t.regex(first, /^registered /);
  t.deepEqual(seen, [404, 307]);
  t.is(cluster.master.frameworks.size, 1);
  t.is(driver.status, 'DRIVER_RUNNING');
});
