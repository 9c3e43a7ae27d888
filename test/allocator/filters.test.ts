import test from 'ava';

import { DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS } from '../../actors/allocator/constants.ts';
import { OfferFilters, refuseDurationMs } from '../../actors/allocator/filters.ts';
import { Resources } from '../../src/mesos/resources.ts';

const r = (text: string): Resources => Resources.parse(text);

test('filters - refuse_seconds is read as Mesos reads it', (t) => {
  t.is(refuseDurationMs(undefined), DEFAULT_REFUSE_SECONDS * 1000);
  t.is(refuseDurationMs(2.5), 2500);
  t.is(refuseDurationMs(0), 0);
  t.is(refuseDurationMs(-3), DEFAULT_REFUSE_SECONDS * 1000);
  t.is(refuseDurationMs(Number.NaN), DEFAULT_REFUSE_SECONDS * 1000);
  t.is(refuseDurationMs(10 * MAX_REFUSE_SECONDS), MAX_REFUSE_SECONDS * 1000);
});

test('filters - a filter covers subsets of what was refused, on that agent, until it expires', (t) => {
  const filters = new OfferFilters();
  t.true(filters.add('r', 'a1', r('cpus:2;mem:100'), { now: 1000, refuseSeconds: 10 }));
  t.true(filters.filters('r', 'a1', r('cpus:2;mem:100'), 1000));
  t.true(filters.filters('r', 'a1', r('cpus:1'), 10_999));
  t.false(filters.filters('r', 'a1', r('cpus:3'), 2000), 'more than was refused');
  t.false(filters.filters('r', 'a1', r('gpus:1'), 2000), 'something else');
  t.false(filters.filters('r', 'a2', r('cpus:1'), 2000), 'another agent');
  t.false(filters.filters('r', 'a1', r('cpus:1'), 11_000), 'expired');
  t.is(filters.agentCount, 0, 'expired filters are dropped when looked at');

  t.false(filters.add('r', 'a1', r('cpus:1'), { now: 0, refuseSeconds: 0 }), 'zero installs nothing');
  t.false(filters.add('r', 'a1', Resources.EMPTY, { now: 0 }), 'nothing refused, nothing filtered');
  filters.add('r', 'a1', r('cpus:1'), { now: 0 });
  filters.add('r', 'a2', r('cpus:1'), { now: 0 });
  filters.clearAgent('a1');
  t.false(filters.filters('r', 'a1', r('cpus:1'), 1));
  t.true(filters.filters('r', 'a2', r('cpus:1'), 1));
  filters.clear();
  t.false(filters.filters('r', 'a2', r('cpus:1'), 1));
});

test('filters - a filter is per role, and clearing some roles keeps the others (Mesos offerFilters[role][agent])', (t) => {
  const filters = new OfferFilters();
  filters.add('r1', 'a1', r('cpus:2'), { now: 0 });
  filters.add('r2', 'a1', r('cpus:2'), { now: 0 });
  t.true(filters.filters('r1', 'a1', r('cpus:1'), 1));
  t.false(filters.filters('r3', 'a1', r('cpus:1'), 1), 'another role of the framework');
  filters.clear(['r1']);
  t.false(filters.filters('r1', 'a1', r('cpus:1'), 1));
  t.true(filters.filters('r2', 'a1', r('cpus:1'), 1));
  t.is(filters.agentCount, 1);
});
