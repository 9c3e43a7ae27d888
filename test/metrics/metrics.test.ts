import test from 'ava';
import { Metrics, prometheusName } from '../../src/metrics/metrics.ts';

test('metrics - counters, gauges and timers in one flat snapshot with Mesos timer keys', (t) => {
  const m = new Metrics();
  m.counter('master/messages_received').inc();
  m.counter('master/messages_received').inc(2);
  let queued = 4;
  m.gauge('master/event_queue_messages', () => queued);
  m.gauge('master/broken', () => {
    throw new Error('unreadable');
  });
  const timer = m.timer('allocator/allocation_run_ms');
  for (let i = 1; i <= 100; i++) timer.record(i);
  queued = 5;
  const snap = m.snapshot();
  t.is(snap['master/messages_received'], 3);
  t.is(snap['master/event_queue_messages'], 5);
  t.false('master/broken' in snap);
  t.is(snap['allocator/allocation_run_ms'], 100);
  t.is(snap['allocator/allocation_run_ms/count'], 100);
  t.is(snap['allocator/allocation_run_ms/min'], 1);
  t.is(snap['allocator/allocation_run_ms/max'], 100);
  t.is(snap['allocator/allocation_run_ms/p50'], 50);
  t.is(snap['allocator/allocation_run_ms/p99'], 99);
  t.deepEqual(Object.keys(snap), [...Object.keys(snap)].sort());
});

test('metrics - Prometheus names and text', (t) => {
  t.is(prometheusName('slave(1)/tasks_running'), 'slave_1__tasks_running');
  t.is(prometheusName('9lives'), '_9lives');
  const m = new Metrics();
  m.counter('master/tasks_finished').inc(2);
  m.timer('allocator/run_ms').record(3);
  const text = m.prometheus();
  t.regex(text, /^# TYPE master_tasks_finished counter\nmaster_tasks_finished 2$/m);
  t.regex(text, /^allocator_run_ms\{quantile="0\.5"\} 3$/m);
  t.regex(text, /^allocator_run_ms_count 1$/m);
});

test('metrics - removePrefix forgets a terminated process\'s metrics', (t) => {
  const m = new Metrics();
  m.counter('slave(1)/x').inc();
  m.counter('slave(10)/x').inc();
  m.removePrefix('slave(1)');
  t.deepEqual(Object.keys(m.snapshot()), ['slave(10)/x']);
});
