import test, { type ExecutionContext } from 'ava';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { FILES_READ_MAX_LENGTH, FilesProcess, modeString } from '../../actors/agent/files.ts';
import type { HttpRequest } from '../../src/http/types.ts';
import { BadRequestError } from '../../src/errors.ts';
import { Process } from '../../src/process/process.ts';
import { Runtime } from '../../src/process/runtime.ts';
import { LocalBus, LocalTransport } from '../../src/transport/local.ts';
import { http } from '../helpers/http.ts';

/**
 * The files process at unit level, on real directories: a sandbox attached as `/sandbox` (and
 * under its real path, as agents attach theirs), a directory beside it that must stay out of
 * reach, and a fake `/etc` for user and group names.
 */

interface World {
  runtime: Runtime;
  files: FilesProcess;
  port: number;
  /** The sandbox's real path. */
  sandbox: string;
  /** A directory beside the sandbox, whose name starts like the sandbox's: `<base>/sandbox-evil`. */
  outside: string;
  get(path: string): ReturnType<typeof http>;
}

let nodes = 0;

async function startFiles(t: ExecutionContext, etc?: { passwd: string; group: string }): Promise<World> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'mesos-ts-files-')));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const sandbox = join(base, 'sandbox');
  const outside = join(base, 'sandbox-evil');
  mkdirSync(sandbox);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'top secret\n');
  const etcDir = join(base, 'etc');
  mkdirSync(etcDir);
  writeFileSync(join(etcDir, 'passwd'), etc?.passwd ?? '');
  writeFileSync(join(etcDir, 'group'), etc?.group ?? '');
  const runtime = await Runtime.start({ node: `files-${++nodes}`, logger: pino({ level: 'silent' }), transport: new LocalTransport(new LocalBus()), http: { port: 0 } });
  t.teardown(() => runtime.shutdown());
  const files = new FilesProcess(etcDir);
  runtime.spawn(files);
  await runtime.dispatch(files.self, () => files.attach(sandbox, '/sandbox'));
  await runtime.dispatch(files.self, () => files.attach(sandbox, sandbox));
  const port = runtime.httpAddress!.port;
  return { runtime, files, port, sandbox, outside, get: (path) => http(port, 'GET', path) };
}

const q = encodeURIComponent;

test('files - browse lists a directory in the shape of Mesos FileInfo, sorted, with user and group names', async (t) => {
  const uid = process.getuid!();
  const gid = process.getgid!();
  const w = await startFiles(t, { passwd: `# comment\ntester:x:${uid}:${gid}::/home:/bin/sh\nalias:x:${uid}:${gid}::/home:/bin/sh\n`, group: `testers:x:${gid}:\n` });
  writeFileSync(join(w.sandbox, 'stdout'), 'hello\n');
  chmodSync(join(w.sandbox, 'stdout'), 0o640);
  utimesSync(join(w.sandbox, 'stdout'), 1_700_000_000, 1_700_000_000.75);
  mkdirSync(join(w.sandbox, 'sub'));
  chmodSync(join(w.sandbox, 'sub'), 0o750);
  writeFileSync(join(w.sandbox, 'a-first'), '');

  const reply = await w.get('/files/browse?path=/sandbox');
  t.is(reply.status, 200);
  t.is(reply.headers['content-type'], 'application/json');
  const listing = reply.json();
  t.deepEqual(listing.map((e: { path: string }) => e.path), ['/sandbox/a-first', '/sandbox/stdout', '/sandbox/sub']);
  t.deepEqual(listing[1], { path: '/sandbox/stdout', nlink: 1, size: 6, mtime: 1_700_000_000, mode: '-rw-r-----', uid: 'tester', gid: 'testers' });
  t.like(listing[2], { path: '/sandbox/sub', mode: 'drwxr-x---', nlink: statSync(join(w.sandbox, 'sub')).nlink });
  // A trailing slash is not doubled into the entries' paths.
  t.is((await w.get('/files/browse?path=/sandbox/')).json()[0].path, '/sandbox/a-first');
  // The same directory under its real path, as the agent's `/state` reports a sandbox.
  t.is((await w.get(`/files/browse?path=${q(w.sandbox)}`)).json()[1].path, `${w.sandbox}/stdout`);
  // A file is listed as nothing, as Mesos (its `ls` of a file fails).
  t.deepEqual((await w.get('/files/browse?path=/sandbox/stdout')).json(), []);
});

test('files - browse shows ids where a user or group has no name', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), '');
  const [entry] = (await w.get('/files/browse?path=/sandbox')).json();
  t.is(entry.uid, String(process.getuid!()));
  t.is(entry.gid, String(process.getgid!()));
});

test('files - modeString is ls -l for every file type', (t) => {
  t.is(modeString(0o100644), '-rw-r--r--');
  t.is(modeString(0o040755), 'drwxr-xr-x');
  t.is(modeString(0o120777), 'lrwxrwxrwx');
  t.is(modeString(0o010600), 'prw-------');
  t.is(modeString(0o020620), 'crw--w----');
  t.is(modeString(0o060660), 'brw-rw----');
  t.is(modeString(0o140755), 'srwxr-xr-x');
  // setuid and sticky bits are not shown, as in Mesos's model.
  t.is(modeString(0o104755), '-rwxr-xr-x');
});

test('files - read answers the size without an offset, then pages of data from an offset, as the pailer expects', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hello world');
  const read = async (query: string) => {
    const reply = await w.get(`/files/read?path=/sandbox/stdout${query}`);
    t.is(reply.status, 200, query);
    return reply.json();
  };
  t.deepEqual(await read(''), { data: '', offset: 11 });
  t.deepEqual(await read('&offset=-1'), { data: '', offset: 11 });
  t.deepEqual(await read('&offset=0'), { data: 'hello world', offset: 0 });
  t.deepEqual(await read('&offset=6&length=3'), { data: 'wor', offset: 6 });
  t.deepEqual(await read('&offset=6&length=-1'), { data: 'world', offset: 6 });
  t.deepEqual(await read('&offset=2&length=0'), { data: '', offset: 2 });
  t.deepEqual(await read('&offset=20'), { data: '', offset: 20 });
  t.deepEqual(await read('&offset=%2B6&length=100'), { data: 'world', offset: 6 });

  writeFileSync(join(w.sandbox, 'big'), 'x'.repeat(FILES_READ_MAX_LENGTH + 100));
  t.is(FILES_READ_MAX_LENGTH, 65536);
  const page = (await w.get('/files/read?path=/sandbox/big&offset=0')).json();
  t.is(page.data.length, FILES_READ_MAX_LENGTH);
  const asked = (await w.get(`/files/read?path=/sandbox/big&offset=50&length=${FILES_READ_MAX_LENGTH * 2}`)).json();
  t.is(asked.data.length, FILES_READ_MAX_LENGTH);
  t.is((await w.get(`/files/read?path=/sandbox/big&offset=${FILES_READ_MAX_LENGTH}`)).json().data.length, 100);
});

// 'a' (byte 0), 'é' (1-2), '€' (3-5), '😀' (6-9), 'b' (10).
const MIXED = 'aé€😀b';

test('files - read never splits a UTF-8 character: a window that ends inside a 2-, 3- or 4-byte one stops before it', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), MIXED);
  const read = async (query: string) => (await w.get(`/files/read?path=/sandbox/stdout${query}`)).json();
  t.deepEqual(await read(''), { data: '', offset: 11 }, 'the size, in bytes');
  t.deepEqual(await read('&offset=0&length=2'), { data: 'a', offset: 0 }, 'inside é');
  t.deepEqual(await read('&offset=0&length=3'), { data: 'aé', offset: 0 });
  t.deepEqual(await read('&offset=1&length=4'), { data: 'é', offset: 1 }, 'inside €');
  t.deepEqual(await read('&offset=3&length=6'), { data: '€', offset: 3 }, 'inside 😀');
  t.deepEqual(await read('&offset=3&length=7'), { data: '€😀', offset: 3 });
  // A window shorter than the character it starts at answers nothing; one as long, the character.
  t.deepEqual(await read('&offset=6&length=3'), { data: '', offset: 6 });
  t.deepEqual(await read('&offset=6&length=4'), { data: '😀', offset: 6 });
  t.deepEqual(await read('&offset=1&length=1'), { data: '', offset: 1 });
  t.deepEqual(await read('&offset=0'), { data: MIXED, offset: 0 });
  t.deepEqual(await read('&offset=3&length=-1'), { data: '€😀b', offset: 3 });
});

test('files - read that starts inside a UTF-8 character starts after it, and answers that offset', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), MIXED);
  const read = async (query: string) => (await w.get(`/files/read?path=/sandbox/stdout${query}`)).json();
  t.deepEqual(await read('&offset=2'), { data: '€😀b', offset: 3 });
  t.deepEqual(await read('&offset=4&length=7'), { data: '😀b', offset: 6 });
  t.deepEqual(await read('&offset=7'), { data: 'b', offset: 10 });
  t.deepEqual(await read('&offset=9&length=1'), { data: '', offset: 10 });
  // The window still ends where it was asked to: 'b' is not in it.
  t.deepEqual(await read('&offset=8&length=2'), { data: '', offset: 10 });
});

test('files - read holds back a character the file ends inside of until its rest is written', async (t) => {
  const w = await startFiles(t);
  const path = join(w.sandbox, 'stdout');
  const smile = Buffer.from('😀');
  writeFileSync(path, Buffer.concat([Buffer.from('a'), smile.subarray(0, 2)]));
  const read = async (query: string) => (await w.get(`/files/read?path=/sandbox/stdout${query}`)).json();
  t.deepEqual(await read(''), { data: '', offset: 3 }, 'the size counts every byte');
  t.deepEqual(await read('&offset=0'), { data: 'a', offset: 0 });
  t.deepEqual(await read('&offset=1'), { data: '', offset: 1 });
  t.deepEqual(await read('&offset=2'), { data: '', offset: 2 }, 'inside it: nothing yet, and no offset past it');
  appendFileSync(path, smile.subarray(2, 3));
  t.deepEqual(await read('&offset=1'), { data: '', offset: 1 });
  appendFileSync(path, Buffer.concat([smile.subarray(3), Buffer.from('b')]));
  t.deepEqual(await read('&offset=1'), { data: '😀b', offset: 1 });
  t.deepEqual(await read('&offset=2'), { data: 'b', offset: 5 });
});

test('files - read answers ill-formed UTF-8 as one U+FFFD per sequence, with the bytes covered as length', async (t) => {
  const w = await startFiles(t);
  // 'a', a byte no character starts with, '€' without its last byte, 'b', a lone continuation byte, 'c'.
  const bytes = Buffer.from([0x61, 0xff, 0xe2, 0x82, 0x62, 0x80, 0x63]);
  writeFileSync(join(w.sandbox, 'stdout'), bytes);
  const read = async (query: string) => (await w.get(`/files/read?path=/sandbox/stdout${query}`)).json();
  t.deepEqual(await read('&offset=0'), { data: bytes.toString('utf8'), offset: 0, length: 7 });
  t.is(bytes.toString('utf8'), 'a\uFFFD\uFFFDb\uFFFDc');
  t.deepEqual(await read('&offset=0&length=3'), { data: 'a\uFFFD', offset: 0, length: 2 }, 'the cut sequence is left whole for the next read');
  t.deepEqual(await read('&offset=2&length=2'), { data: '\uFFFD', offset: 2, length: 2 });
  t.deepEqual(await read('&offset=3'), { data: 'b\uFFFDc', offset: 4, length: 3 }, 'inside the cut sequence: after it');
  t.deepEqual(await read('&offset=5&length=1'), { data: '\uFFFD', offset: 5, length: 1 });
  t.deepEqual(await read('&offset=6'), { data: 'c', offset: 6 }, 'no length where the bytes are UTF-8');
});

/** Where each character of `text` starts in its UTF-8 bytes, to the number of bytes it takes. */
function characterStarts(text: string): Map<number, number> {
  const starts = new Map<number, number>();
  let at = 0;
  for (const c of text) {
    const n = Buffer.byteLength(c);
    starts.set(at, n);
    at += n;
  }
  return starts;
}

const utf8Text = fc.string({ unit: fc.oneof(fc.constantFrom('a', '\n', 'é', '€', '😀'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 40 });

test('files - reading any UTF-8 file in windows of any sizes, on from offset + Buffer.byteLength(data), gives the file back', async (t) => {
  const w = await startFiles(t);
  const path = join(w.sandbox, 'stdout');
  const read = async (offset: number, length?: number) => (await w.get(`/files/read?path=/sandbox/stdout&offset=${offset}${length === undefined ? '' : `&length=${length}`}`)).json();
  await fc.assert(
    fc.asyncProperty(utf8Text, fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }), fc.nat(), async (text, windows, from) => {
      const bytes = Buffer.from(text);
      writeFileSync(path, bytes);
      const starts = characterStarts(bytes.toString('utf8'));
      let out = '';
      for (let offset = 0, i = 0; offset < bytes.length; i++) {
        const length = windows[i % windows.length]!;
        let answer = await read(offset, length);
        assert.deepEqual(Object.keys(answer).sort(), ['data', 'offset']);
        assert.equal(answer.offset, offset);
        if (answer.data === '') {
          // Only when the window is shorter than the character it starts at; 4 bytes hold any.
          assert.ok(length < starts.get(offset)!, `nothing at ${offset} in ${length} bytes`);
          answer = await read(offset, 4);
        }
        assert.ok(Buffer.byteLength(answer.data) <= Math.max(length, 4));
        out += answer.data;
        offset += Buffer.byteLength(answer.data);
      }
      assert.ok(Buffer.from(out).equals(bytes), JSON.stringify(out));

      // From anywhere: the start of the next character, and the text from there.
      if (bytes.length === 0) return;
      const start = from % bytes.length;
      const next = [...starts.keys()].find((s) => s >= start) ?? bytes.length;
      assert.deepEqual(await read(start), { data: bytes.subarray(next).toString('utf8'), offset: next });
    }),
    { numRuns: 100, includeErrorInReport: true },
  );
  t.pass();
});

test('files - reading any bytes in windows of any sizes, on from offset + length, decodes the file as TextDecoder, each byte once', async (t) => {
  const w = await startFiles(t);
  const path = join(w.sandbox, 'stdout');
  const read = async (offset: number, length: number) => (await w.get(`/files/read?path=/sandbox/stdout&offset=${offset}&length=${length}`)).json();
  // Bytes that start, continue or cannot be in a character, at the bounds of Table 3-7's ranges.
  const byte = fc.constantFrom(0x61, 0x0a, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff);
  await fc.assert(
    fc.asyncProperty(fc.array(byte, { maxLength: 24 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), async (array, windows) => {
      const bytes = Buffer.from(array);
      writeFileSync(path, bytes);
      let out = '';
      let offset = 0;
      for (let i = 0; offset < bytes.length; i++) {
        let answer = await read(offset, windows[i % windows.length]!);
        const covered = (a: { data: string; length?: number }): number => a.length ?? Buffer.byteLength(a.data);
        if (covered(answer) === 0) answer = await read(offset, 4);
        assert.equal(answer.offset, offset);
        const n = covered(answer);
        if ('length' in answer) assert.ok(answer.data.includes('\uFFFD'), 'length only with ill-formed bytes');
        else assert.ok(Buffer.from(answer.data).equals(bytes.subarray(offset, offset + n)), 'without length, data is the bytes themselves');
        // Nothing in 4 bytes: the file ends inside a sequence, which is held back.
        if (n === 0) break;
        out += answer.data;
        offset += n;
      }
      // A decoder ends the incomplete sequence at the end with one U+FFFD.
      const rest = bytes.subarray(offset);
      assert.ok(rest.length < 4);
      assert.equal(out + (rest.length > 0 ? '\uFFFD' : ''), bytes.toString('utf8'));
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
  t.pass();
});

test('files - bad parameters are 400 naming the parameter and its value', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hello');
  for (const endpoint of ['browse', 'read', 'download']) {
    for (const query of ['', '?path=', '?offset=0']) {
      const reply = await w.get(`/files/${endpoint}${query}`);
      t.is(reply.status, 400, `${endpoint}${query}`);
      t.is(reply.body, "Expecting 'path=value' in query");
    }
  }
  const bad = async (query: string, message: string) => {
    const reply = await w.get(`/files/read?path=/sandbox/stdout&${query}`);
    t.is(reply.status, 400, query);
    t.is(reply.body, message);
  };
  await bad('offset=abc', "Failed to parse offset: Failed to convert 'abc' to number");
  await bad('offset=', "Failed to parse offset: Failed to convert '' to number");
  await bad('length=1.5', "Failed to parse length: Failed to convert '1.5' to number");
  await bad('offset=99999999999999999999', "Failed to parse offset: Failed to convert '99999999999999999999' to number");
  await bad('offset=-2', 'Negative offset provided: -2');
  await bad('offset=0&length=-5', 'Negative length provided: -5');
  mkdirSync(join(w.sandbox, 'sub'));
  t.is((await w.get('/files/read?path=/sandbox/sub&offset=0')).body, 'Cannot read a directory');
  t.is((await w.get('/files/read?path=/sandbox&offset=0')).status, 400);
  t.is((await w.get('/files/download?path=/sandbox/sub')).body, 'Cannot download a directory');
});

test('files - a path under no attachment, or that does not exist, is 404', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hello');
  await w.runtime.dispatch(w.files.self, () => w.files.attach(join(w.sandbox, 'stdout'), '/one-file'));
  for (const path of ['/nope', '/nope/stdout', '/sandbox/missing', '/sandboxstdout', 'sandbox/stdout', '/one-file/more']) {
    for (const endpoint of ['browse', 'read', 'download']) {
      t.is((await w.get(`/files/${endpoint}?path=${q(path)}`)).status, 404, `${endpoint} ${path}`);
    }
  }
  // An attached file is served as itself.
  t.deepEqual((await w.get('/files/read?path=/one-file&offset=0')).json(), { data: 'hello', offset: 0 });
});

test('files - no escape from an attachment through .. segments', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hello');
  mkdirSync(join(w.sandbox, 'sub'));
  // `sandbox-evil` starts like `sandbox`: a prefix test on the real path would let it through.
  for (const path of ['/sandbox/../sandbox-evil/secret', '/sandbox/sub/../../sandbox-evil/secret', `${w.sandbox}/../sandbox-evil/secret`, '/sandbox/../../../../etc/passwd']) {
    for (const endpoint of ['browse', 'read', 'download']) {
      const reply = await w.get(`/files/${endpoint}?path=${q(path)}&offset=0`);
      t.is(reply.status, 404, `${endpoint} ${path}`);
      t.false(reply.body.includes('secret'), `${endpoint} ${path}`);
    }
  }
  t.is((await w.get(`/files/browse?path=${q('/sandbox/..')}`)).status, 404);
  // `..` that stays inside is fine, as in Mesos.
  t.deepEqual((await w.get('/files/read?path=/sandbox/sub/../stdout&offset=0')).json(), { data: 'hello', offset: 0 });
});

test('files - no escape from an attachment through absolute paths outside it', async (t) => {
  const w = await startFiles(t);
  for (const path of [join(w.outside, 'secret'), w.outside, '/etc/passwd', '/', '/etc']) {
    for (const endpoint of ['browse', 'read', 'download']) {
      t.is((await w.get(`/files/${endpoint}?path=${q(path)}&offset=0`)).status, 404, `${endpoint} ${path}`);
    }
  }
});

test('files - no escape from an attachment through symlinks that lead out of it', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hello');
  symlinkSync(join(w.outside, 'secret'), join(w.sandbox, 'file-link'));
  symlinkSync(w.outside, join(w.sandbox, 'dir-link'));
  symlinkSync('../sandbox-evil/secret', join(w.sandbox, 'relative-link'));
  symlinkSync('/nonexistent/target', join(w.sandbox, 'dangling'));
  symlinkSync('stdout', join(w.sandbox, 'inside-link'));
  for (const path of ['/sandbox/file-link', '/sandbox/dir-link/secret', '/sandbox/dir-link', '/sandbox/relative-link', '/sandbox/dangling', `${w.sandbox}/file-link`]) {
    for (const endpoint of ['browse', 'read', 'download']) {
      const reply = await w.get(`/files/${endpoint}?path=${q(path)}&offset=0`);
      t.is(reply.status, 404, `${endpoint} ${path}`);
      t.false(reply.body.includes('secret'), `${endpoint} ${path}`);
    }
  }
  // The listing leaves out what leads out (or nowhere); a link inside shows what it leads to.
  const listing = (await w.get('/files/browse?path=/sandbox')).json();
  t.deepEqual(listing.map((e: { path: string }) => e.path), ['/sandbox/inside-link', '/sandbox/stdout']);
  t.like(listing[0], { size: 5, mode: modeString(statSync(join(w.sandbox, 'stdout')).mode) });
  t.deepEqual((await w.get('/files/read?path=/sandbox/inside-link&offset=0')).json(), { data: 'hello', offset: 0 });
});

test('files - a FIFO in a sandbox is refused at once, not waited on', async (t) => {
  const w = await startFiles(t);
  const fifo = join(w.sandbox, 'pipe');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return t.pass('no mkfifo here');
  const reply = await w.get('/files/read?path=/sandbox/pipe&offset=0');
  t.is(reply.status, 400);
  t.is(reply.body, "Cannot read '/sandbox/pipe': not a regular file");
  t.is((await w.get('/files/download?path=/sandbox/pipe')).status, 400);
});

test('files - download sends the bytes as an attachment, with a type by extension', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hello-download\n');
  writeFileSync(join(w.sandbox, 'result.json'), '{"ok":true}');
  writeFileSync(join(w.sandbox, 'my "report".txt'), 'r');
  writeFileSync(join(w.sandbox, 'empty'), '');

  const reply = await w.get('/files/download?path=/sandbox/stdout');
  t.is(reply.status, 200);
  t.is(reply.body, 'hello-download\n');
  t.is(reply.headers['content-type'], 'application/octet-stream');
  t.is(reply.headers['content-disposition'], 'attachment; filename=stdout');
  t.is(reply.headers['content-length'], '15');
  t.is(reply.headers['access-control-allow-origin'], '*');
  const json = await w.get('/files/download?path=/sandbox/result.json');
  t.is(json.headers['content-type'], 'application/json');
  t.is(json.body, '{"ok":true}');
  const quoted = await w.get(`/files/download?path=${q('/sandbox/my "report".txt')}`);
  t.is(quoted.headers['content-disposition'], `attachment; filename="my _report_.txt"; filename*=UTF-8''${q('my "report".txt')}`);
  t.is(quoted.headers['content-type'], 'text/plain');
  const empty = await w.get('/files/download?path=/sandbox/empty');
  t.is(empty.status, 200);
  t.is(empty.body, '');
});

test('files - debug shows the attachments; ?jsonp= wraps the JSON answers; every answer allows any origin', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hi');
  const debug = await w.get('/files/debug');
  t.is(debug.status, 200);
  t.deepEqual(debug.json(), { '/sandbox': w.sandbox, [w.sandbox]: w.sandbox });
  t.is(debug.headers['access-control-allow-origin'], '*');

  const wrapped = await w.get('/files/debug?jsonp=angular.callbacks._0');
  t.is(wrapped.headers['content-type'], 'text/javascript');
  t.is(wrapped.body, `angular.callbacks._0(${JSON.stringify({ '/sandbox': w.sandbox, [w.sandbox]: w.sandbox })});`);
  t.is((await w.get('/files/read?path=/sandbox/stdout&offset=0&jsonp=cb')).body, 'cb({"data":"hi","offset":0});');
  t.regex((await w.get('/files/browse?path=/sandbox&jsonp=cb')).body, /^cb\(\[\{"path":"\/sandbox\/stdout",.*\}\]\);$/);
  const refused = await w.get(`/files/debug?jsonp=${q('alert(1)//')}`);
  t.is(refused.status, 400);
  t.is(refused.body, "Failed to parse query parameter 'jsonp': 'alert(1)//' is not a JavaScript name");
  // Errors are not wrapped; they allow any origin too.
  const missing = await w.get('/files/read?path=/nope&jsonp=cb');
  t.is(missing.status, 404);
  t.is(missing.headers['access-control-allow-origin'], '*');
});

test('files - detach stops serving a path; a detach naming another path leaves the attachment; an attach fails on a missing directory', async (t) => {
  const w = await startFiles(t);
  const newer = join(w.sandbox, 'newer');
  mkdirSync(newer);
  await w.runtime.dispatch(w.files.self, () => w.files.attach(newer, '/latest/'));
  t.is(w.files.attachments()['/latest'], newer, 'a trailing slash is not part of the virtual path');
  // An older run asks to detach `latest`, which serves a newer run by now: it stays.
  await w.runtime.dispatch(w.files.self, () => w.files.detach('/latest', join(w.sandbox, 'older')));
  t.is((await w.get('/files/browse?path=/latest')).status, 200);
  await w.runtime.dispatch(w.files.self, () => w.files.detach('/latest', newer));
  t.is((await w.get('/files/browse?path=/latest')).status, 404);
  t.false('/latest' in w.files.attachments());

  // A detach while the attach still looks up the real path wins.
  const attaching = w.runtime.dispatch(w.files.self, () => w.files.attach(newer, '/racing'));
  await w.runtime.dispatch(w.files.self, () => w.files.detach('/racing'));
  await attaching;
  t.false('/racing' in w.files.attachments());

  const error = await t.throwsAsync(w.runtime.dispatch(w.files.self, () => w.files.attach(join(w.sandbox, 'gone'), '/gone')));
  t.regex(error!.message, /^Failed to attach '.*\/gone' as '\/gone': ENOENT/);
});

test('files - handlers are asynchronous: the mailbox serves other work while a read is in flight', async (t) => {
  const w = await startFiles(t);
  writeFileSync(join(w.sandbox, 'stdout'), 'hello');
  const handler = w.files._routes.get('/read')!;
  const url = new URL('http://localhost/files/read?path=/sandbox/stdout&offset=0');
  const request = { method: 'GET', path: '/read', url, headers: {}, body: '', remote: 'test', raw: undefined } as unknown as HttpRequest;
  const order: string[] = [];
  const read = w.runtime.dispatch(w.files.self, () => handler(request)).then((response) => {
    order.push('read');
    return response;
  });
  await w.runtime.dispatch(w.files.self, () => order.push('next call'));
  t.deepEqual((await read).body, { data: 'hello', offset: 0 });
  t.deepEqual(order, ['next call', 'read']);
});

test('files - a route handler that fails asynchronously is answered (400, 500), and the runtime keeps serving', async (t) => {
  // What the files handlers rely on: before, the runtime's watch on the handler's promise left
  // its rejection unhandled, which ends the OS process.
  const w = await startFiles(t);
  class Failing extends Process {
    constructor() {
      super('failing');
      this.route('/bad', async () => {
        await Promise.resolve();
        throw new BadRequestError("Failed to parse 'x'");
      });
      this.route('/broken', async () => {
        await Promise.resolve();
        throw new Error('disk on fire');
      });
    }
  }
  w.runtime.spawn(new Failing());
  const bad = await w.get('/failing/bad');
  t.is(bad.status, 400);
  t.is(bad.body, "Failed to parse 'x'");
  const broken = await w.get('/failing/broken');
  t.is(broken.status, 500);
  t.is(broken.body, 'disk on fire');
  await w.runtime.settle();
  t.is((await w.get('/files/debug')).status, 200);
});
