import test from 'ava';
import { MalformedUPIDError } from '../../src/errors.ts';
import { UPID } from '../../src/process/upid.ts';

test('upid - parses and formats id@node', (t) => {
  const pid = UPID.parse('slave(1)@agent-7');
  t.is(pid.id, 'slave(1)');
  t.is(pid.node, 'agent-7');
  t.is(String(pid), 'slave(1)@agent-7');
  t.is(JSON.stringify({ pid }), '{"pid":"slave(1)@agent-7"}');
  t.true(pid.equals('slave(1)@agent-7'));
  t.false(pid.equals('slave(2)@agent-7'));
});

test('upid - malformed strings get an error naming the string', (t) => {
  for (const bad of ['master', '@node', 'master@', 'ma ster@n1', 'master@n.1', 'a/b@n1', '']) {
    const error = t.throws(() => UPID.parse(bad), { instanceOf: MalformedUPIDError });
    t.true(error!.message.includes(`'`), error!.message);
  }
  t.regex(t.throws(() => UPID.parse('master@n.1'))!.message, /invalid node 'n\.1'/);
  t.regex(t.throws(() => UPID.parse('nope'))!.message, /invalid UPID 'nope'/);
  t.is(UPID.tryParse('x@'), undefined);
  t.is(UPID.tryParse(42), undefined);
});
