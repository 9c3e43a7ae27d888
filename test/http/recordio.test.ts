import test from 'ava';
import { RecordIOError } from '../../src/errors.ts';
import { encodeRecord, readRecords, RecordIOReader } from '../../src/http/recordio.ts';

test('recordio - a record is its byte length in decimal, a newline, then the bytes', (t) => {
  t.is(encodeRecord('{"type":"HEARTBEAT"}').toString(), '20\n{"type":"HEARTBEAT"}');
  t.is(encodeRecord('').toString(), '0\n');
  // The length counts bytes, not characters.
  t.is(encodeRecord('"é"').toString(), '4\n"é"');
  t.deepEqual([...encodeRecord(new Uint8Array([1, 2, 3]))], [...Buffer.from('3\n'), 1, 2, 3]);
});

test('recordio - the reader finds records however the stream is cut, even inside a multi-byte character', (t) => {
  const records = ['{"type":"SUBSCRIBED"}', '', '{"message":"ünïcödé ✓"}', 'x'.repeat(1000)];
  const wire = Buffer.concat(records.map((r) => encodeRecord(r)));
  for (const size of [1, 2, 3, 7, 64, wire.length]) {
    const reader = new RecordIOReader();
    const got: string[] = [];
    for (let i = 0; i < wire.length; i += size) for (const r of reader.push(wire.subarray(i, i + size))) got.push(r.toString('utf8'));
    reader.end();
    t.deepEqual(got, records, `chunks of ${size}`);
    t.is(reader.buffered, 0);
  }
});

test('recordio - a length that is not decimal digits breaks the stream with RecordIOError', (t) => {
  const reader = new RecordIOReader();
  const error = t.throws(() => reader.push(Buffer.from('12x\n{}')), { instanceOf: RecordIOError });
  t.is(error?.message, "record length '12x' is not a decimal byte count");
  t.throws(() => reader.push(Buffer.from('2\n{}')), { instanceOf: RecordIOError }, 'the reader stays failed');
  t.throws(() => new RecordIOReader().push(Buffer.from('-1\n')), { message: /'-1' is not a decimal byte count/ });
  t.throws(() => new RecordIOReader().push(Buffer.from('1'.repeat(17))), { message: /is not a decimal byte count/ });
});

test('recordio - a record over the limit, or a stream cut inside a record, is an error', (t) => {
  t.throws(() => new RecordIOReader({ maxRecordBytes: 10 }).push(Buffer.from('11\n')), { instanceOf: RecordIOError, message: 'record length 11 exceeds the limit of 10 bytes' });
  const cut = new RecordIOReader();
  t.deepEqual(cut.push(Buffer.from('5\nabc')), []);
  t.throws(() => cut.end(), { instanceOf: RecordIOError, message: 'stream ended after 3 of 5 bytes of a record' });
  const inLength = new RecordIOReader();
  inLength.push(Buffer.from('12'));
  t.throws(() => inLength.end(), { message: "stream ended inside a record length ('12')" });
});

test('recordio - readRecords reads an async byte stream', async (t) => {
  async function* chunks() {
    yield Buffer.from('3\nab');
    yield Buffer.from('c2\n{}');
  }
  const got: string[] = [];
  for await (const record of readRecords(chunks())) got.push(record.toString());
  t.deepEqual(got, ['abc', '{}']);
  async function* broken() {
    yield Buffer.from('3\nab');
  }
  await t.throwsAsync(async () => {
    for await (const _ of readRecords(broken()));
  }, { instanceOf: RecordIOError });
});
