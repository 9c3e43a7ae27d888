import { constants, type Stats } from 'node:fs';
import { access, lstat, open, readdir, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { badRequest, jsonp, notFound, ok, streaming } from '../../src/http/response.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { Process } from '../../src/process/process.ts';
import { AGENT_READONLY_REALM } from '../../src/http/authentication.ts';
import type { Runtime } from '../../src/process/runtime.ts';
import type { Agent } from './agent.ts';
import { sandboxAuthorization } from './authorization.ts';
import type { ExecutorRecord, FrameworkRecord } from './state.ts';

/** The id of the files process, whose routes are `/files/browse`, `/files/read`, ... as Mesos's `FilesProcess`. */
export const FILES_ID = 'files';

/** The most `/files/read` returns at once: Mesos caps a read at 16 pages (`os::pagesize() * 16`), 4 KiB each on Linux. */
export const FILES_READ_MAX_LENGTH = 16 * 4096;

/**
 * Mesos's `FilesProcess`: serves the files of directories that were *attached* under a virtual
 * path, read-only, over HTTP. It is how operators and the web UI read a task's sandbox (its
 * `stdout` and `stderr`). One per runtime; the agents of an embedded cluster share it.
 *
 * 1. `attach(path, virtualPath)` / `detach(virtualPath)`: the attachments, virtual path → the
 *    real path (canonical, taken when attached). Agents attach each executor's sandbox
 *    (`attachSandbox`).
 * 2. `GET /files/browse?path=`: the entries of a directory, `[{path, nlink, size, mtime, mode,
 *    uid, gid}]`, sorted by path, as Mesos's `model(FileInfo)`.
 * 3. `GET /files/read?path=&offset=&length=`: `{data, offset}`; no offset (or `-1`) answers the
 *    file's size as `offset`; a read is capped at `FILES_READ_MAX_LENGTH`. Mesos answers the raw
 *    bytes; JSON carries text, so here `data` is whole UTF-8 characters (`utf8Window`): a window
 *    that ends inside a character stops before it, one that starts inside a character starts
 *    after it (`offset` says where), and a client reads on from `offset +
 *    Buffer.byteLength(data)`. Bytes that are not UTF-8 are U+FFFD, one per ill-formed sequence
 *    (as `TextDecoder`), and then the answer adds `length`, the bytes `data` covers.
 * 4. `GET /files/download?path=`: the file, as an attachment.
 * 5. `GET /files/debug`: the attachments, `{virtual: real}`.
 *
 * A path resolves by its longest attached prefix; the rest must stay inside the attached
 * directory once symlinks and `..` are resolved. Where Mesos answers an escape with `400 '<path>'
 * is inaccessible`, here it is `404`, the answer to a path that does not exist, so that nothing
 * outside an attachment can be told apart (not even whether it exists). A symlink in a listing
 * that leads out, or nowhere, is left out of it.
 *
 * Every answer carries `Access-Control-Allow-Origin: *`, which Mesos does not send (its web UI
 * reads agents with `?jsonp=`): a page served by the master on another port can then `fetch` an
 * agent's files. It discloses nothing that `?jsonp=` does not already hand to any page.
 *
 * Every route is in the agent's read-only realm (`--authenticate_http_readonly`). As Mesos's
 * `FilesProcess::authorize`, an attachment may carry who may read it (`SandboxAuthorization`:
 * the agent's `access_sandboxes` ACLs for the sandbox's user, `authorization.ts`): a browse,
 * read or download of a path under it by a principal it refuses is `403`, before the path is
 * looked up (so the answer is the same whether or not the file exists). A path under no
 * attachment is not checked (it is `404`, there being nothing to serve). `/files/debug` lists
 * every attachment to anyone who authenticated, where Mesos guards it with `get_endpoints`
 * ACLs, which this agent does not take. Not done: the `file://` form of paths.
 */
export class FilesProcess extends Process {
  /** Virtual path → the attachment; keys are normalized (`normalize`). */
  readonly #paths = new Map<string, Attachment>();
  /** Attachments whose real path is being looked up; a detach or a newer attach cancels one. */
  readonly #attaching = new Map<string, { path: string; token: number }>();
  #tokens = 0;

  constructor(private readonly etcDir = '/etc') {
    super(FILES_ID);
    this.route('/browse', (request) => cors(this.#browse(request)), AGENT_READONLY_REALM);
    this.route('/read', (request) => cors(this.#read(request)), AGENT_READONLY_REALM);
    this.route('/download', (request) => cors(this.#download(request)), AGENT_READONLY_REALM);
    this.route('/debug', (request) => cors(this.#debug(request)), AGENT_READONLY_REALM);
  }

  /** Spawns the files process of `runtime` unless it runs already. */
  static ensure(runtime: Runtime): FilesProcess {
    const existing = filesProcess(runtime);
    if (existing !== undefined) return existing;
    const files = new FilesProcess();
    runtime.spawn(files);
    return files;
  }

  /**
   * Serves `path` (a directory or a file) at `virtualPath` (or at each of several), replacing
   * what was there (Mesos `Files::attach`); the real path is looked up once. With
   * `authorization`, only to the principals it allows. Fails when `path`
   * does not exist or cannot be read. Call it in this process's mailbox (`runtime.dispatch`).
   */
  attach(path: string, virtualPath: string | readonly string[], authorization?: SandboxAuthorization): Promise<void> {
    const keys = (typeof virtualPath === 'string' ? [virtualPath] : virtualPath).map(normalize);
    const token = ++this.#tokens;
    for (const key of keys) this.#attaching.set(key, { path, token });
    // Each key is settled only if no detach or newer attach of it came meanwhile.
    const settle = (apply: (key: string) => void): void => {
      for (const key of keys) {
        if (this.#attaching.get(key)?.token !== token) continue;
        this.#attaching.delete(key);
        apply(key);
      }
    };
    return new Promise((resolve, reject) => {
      this.defer(
        readableRealpath(path),
        (real) => {
          settle((key) => this.#paths.set(key, { path, real, ...(authorization !== undefined ? { authorization } : {}) }));
          resolve();
        },
        (error) => {
          settle(() => undefined);
          reject(new Error(`Failed to attach '${path}' as '${keys.join("', '")}': ${(error as Error).message}`, { cause: error }));
        },
      );
    });
  }

  /**
   * Stops serving `virtualPath` (Mesos `Files::detach`); with `path`, only if it still serves
   * that path (the `latest` of an executor may serve a newer run by now).
   */
  detach(virtualPath: string, path?: string): void {
    const key = normalize(virtualPath);
    const attaching = this.#attaching.get(key);
    if (attaching !== undefined && (path === undefined || attaching.path === path)) this.#attaching.delete(key);
    const attached = this.#paths.get(key);
    if (attached !== undefined && (path === undefined || attached.path === path)) this.#paths.delete(key);
  }

  /** The attachments, virtual path → real path. */
  attachments(): Record<string, string> {
    return Object.fromEntries([...this.#paths].map(([key, { real }]) => [key, real]));
  }

  async #browse(request: HttpRequest): Promise<HttpResponse> {
    const path = request.url.searchParams.get('path');
    if (path === null || path === '') return badRequest(MISSING_PATH);
    if (!this.#authorized(path, request)) return forbidden(request);
    const resolved = await this.#resolve(path);
    if (resolved === undefined) return notFound();
    // Mesos lists a file as nothing: its `os::ls` fails on it, and the listing stays empty.
    const names = (await readdir(resolved.real).catch(() => [])).sort();
    const [stats, accounts] = await Promise.all([Promise.all(names.map((name) => entryStat(resolved.root, join(resolved.real, name)))), this.#accounts()]);
    const parent = path.replace(/\/+$/, '');
    const listing = names.flatMap((name, i) => {
      const s = stats[i];
      return s === undefined ? [] : [fileInfo(`${parent}/${name}`, s, accounts)];
    });
    return jsonp(ok(listing), request);
  }

  async #read(request: HttpRequest): Promise<HttpResponse> {
    const query = request.url.searchParams;
    const path = query.get('path');
    if (path === null || path === '') return badRequest(MISSING_PATH);
    const offset = integerParameter(request, 'offset') ?? -1;
    if (typeof offset === 'string') return badRequest(offset);
    if (offset < -1) return badRequest(`Negative offset provided: ${offset}`);
    const length = integerParameter(request, 'length') ?? -1;
    if (typeof length === 'string') return badRequest(length);
    // The web UI's pailer sends `length=-1` at first, as if no length were given.
    if (length < -1) return badRequest(`Negative length provided: ${length}`);
    if (!this.#authorized(path, request)) return forbidden(request);
    const resolved = await this.#resolve(path);
    if (resolved === undefined) return notFound();
    const file = await openRegularFile(resolved.real, path, 'read');
    if (!('handle' in file)) return file;
    try {
      // `offset=-1` asks for the size: the pailer's first call.
      if (offset === -1) return jsonp(ok({ data: '', offset: file.size }), request);
      const wanted = Math.min(length === -1 ? file.size - offset : length, FILES_READ_MAX_LENGTH);
      if (offset >= file.size || wanted <= 0) return jsonp(ok({ data: '', offset }), request);
      // Up to 3 bytes either side of the window: enough to tell where the characters at its
      // edges begin and end (`utf8Window`).
      const at = Math.max(0, offset - UTF8_MAX_BYTES + 1);
      const buffer = Buffer.alloc(offset + wanted + UTF8_MAX_BYTES - 1 - at);
      const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, at);
      const chars = utf8Window(buffer.subarray(0, bytesRead), at, offset, offset + wanted);
      const answer = chars.invalid ? { data: chars.data, offset: chars.offset, length: chars.length } : { data: chars.data, offset: chars.offset };
      return jsonp(ok(answer), request);
    } finally {
      await file.handle.close();
    }
  }

  /**
   * The file's bytes as they were when it was opened (a `stdout` that grows is cut at that size,
   * so that `Content-Length` holds), streamed from its open handle.
   */
  async #download(request: HttpRequest): Promise<HttpResponse> {
    const path = request.url.searchParams.get('path');
    if (path === null || path === '') return badRequest(MISSING_PATH);
    if (!this.#authorized(path, request)) return forbidden(request);
    const resolved = await this.#resolve(path);
    if (resolved === undefined) return notFound();
    const file = await openRegularFile(resolved.real, path, 'download');
    if (!('handle' in file)) return file;
    const res = request.raw.res;
    res.writeHead(200, {
      ...CORS_HEADERS,
      'Content-Type': MIME_TYPES[extname(resolved.real).toLowerCase()] ?? 'application/octet-stream',
      'Content-Disposition': contentDisposition(basename(resolved.real)),
      'Content-Length': file.size,
    });
    if (file.size === 0) {
      await file.handle.close();
      res.end();
      return streaming();
    }
    pipeline(file.handle.createReadStream({ start: 0, end: file.size - 1 }), res).catch((error: unknown) => {
      // Mostly a client that went away.
      this.log.debug({ err: error, path }, 'Failed to send file');
    });
    return streaming();
  }

  #debug(request: HttpRequest): HttpResponse {
    return jsonp(ok(this.attachments()), request);
  }

  /**
   * Whether the request's principal may read `path`: the authorization of the attachment it
   * falls under (`#attachmentOf`), if any (Mesos `FilesProcess::authorize`).
   */
  #authorized(path: string, request: HttpRequest): boolean {
    const authorization = this.#attachmentOf(path)?.attachment.authorization;
    if (authorization === undefined || authorization.authorized(request.principal)) return true;
    this.log.warn({ path, principal: request.principal, user: authorization.user }, 'Refused access to a sandbox');
    return false;
  }

  /** The attachment with the longest virtual path that `path` starts with, and the segments after it. */
  #attachmentOf(path: string): { attachment: Attachment; rest: string[] } | undefined {
    const absolute = path.startsWith('/');
    const segments = segmentsOf(path);
    for (let i = segments.length; i > 0; i--) {
      const attachment = this.#paths.get(joinSegments(absolute, segments.slice(0, i)));
      if (attachment !== undefined) return { attachment, rest: segments.slice(i) };
    }
    return undefined;
  }

  /**
   * The real path `path` names, with the directory it was found under (Mesos
   * `FilesProcess::resolve`); `undefined` when it names nothing, or something outside.
   */
  async #resolve(path: string): Promise<{ real: string; root: string } | undefined> {
    const found = this.#attachmentOf(path);
    if (found === undefined) return undefined;
    const real = await resolveUnder(found.attachment.real, found.rest);
    return real === undefined ? undefined : { real, root: found.attachment.real };
  }

  /** User and group names by id, read anew for each listing (a user may be added at any time). */
  async #accounts(): Promise<Accounts> {
    const [passwd, group] = await Promise.all([readFile(join(this.etcDir, 'passwd'), 'utf8').catch(() => ''), readFile(join(this.etcDir, 'group'), 'utf8').catch(() => '')]);
    return { users: namesById(passwd), groups: namesById(group) };
  }
}

/** The files process of `runtime`, when one runs there. */
export function filesProcess(runtime: Runtime): FilesProcess | undefined {
  const process = runtime.process(FILES_ID);
  return process instanceof FilesProcess ? process : undefined;
}

// ---------------------------------------------------------------------------------------------
// Sandboxes: what an agent attaches.

/**
 * The paths an executor's sandbox is served at. Mesos 1.x (`Framework::addExecutor` and
 * `recoverExecutor`) attaches three:
 *
 * 1. the sandbox's real path, `<work_dir>/slaves/<aid>/frameworks/<fid>/executors/<eid>/runs/<cid>`
 *    (the `directory` the agent's `/state` reports, so that it can be browsed as is);
 * 2. the same with `runs/latest` (a user rarely knows the container id);
 * 3. `/frameworks/<fid>/executors/<eid>/runs/latest`, which does not show the work directory.
 *
 * Here also `/slaves/<aid>/frameworks/<fid>/executors/<eid>/runs/<cid>` and `.../runs/latest`:
 * the agents of an embedded cluster share one files process, where (3) names the executor of
 * whichever agent attached it last; these name the agent.
 */
export function sandboxPaths(agentId: string, executor: ExecutorRecord): string[] {
  const executorPath = `frameworks/${executor.frameworkId}/executors/${executor.id}/runs`;
  return [
    executor.directory,
    join(dirname(executor.directory), 'latest'),
    `/${executorPath}/latest`,
    `/slaves/${agentId}/${executorPath}/${executor.containerId}`,
    `/slaves/${agentId}/${executorPath}/latest`,
  ];
}

/**
 * Attaches the sandbox of `executor` (`sandboxPaths`) in the runtime's files process, when one
 * runs there: when the sandbox is created, and when the executor is recovered after a restart.
 * A failure is logged, as Mesos's `Slave::fileAttached`. With `--acls`, only principals that
 * may access the sandboxes of its user read it (`sandboxAuthorization`); `framework` is the
 * executor's (default: the agent's framework of that id).
 */
export function attachSandbox(agent: Agent, executor: ExecutorRecord, framework = agent.frameworks.get(executor.frameworkId)): void {
  const files = filesProcess(agent.runtime);
  const agentId = agent.agentId;
  if (files === undefined || agentId === undefined) return;
  const virtualPaths = sandboxPaths(agentId, executor);
  const authorization = sandboxAuthorization(agent, framework?.info, executor.info);
  agent.continueWith(
    agent.runtime.dispatch(files.self, () => files.attach(executor.directory, virtualPaths, authorization)),
    () => agent.log.debug({ path: executor.directory, virtual_paths: virtualPaths }, 'Attached sandbox'),
    (error) => agent.log.error({ err: error, path: executor.directory, virtual_paths: virtualPaths }, 'Failed to attach sandbox'),
  );
}

/**
 * Detaches the sandbox of `executor`. As in Mesos, a sandbox is detached once it is garbage
 * collected (`gc.ts`, `--gc_delay` after the executor is done), and also, here, when it drops out
 * of the completed executors (or frameworks) the agent keeps, or the agent terminates. A
 * `latest` that serves a newer run stays.
 */
export function detachSandbox(agent: Agent, executor: ExecutorRecord): void {
  const files = filesProcess(agent.runtime);
  const agentId = agent.agentId;
  if (files === undefined || agentId === undefined) return;
  for (const virtualPath of sandboxPaths(agentId, executor)) {
    agent.runtime.dispatch(files.self, () => files.detach(virtualPath, executor.directory)).catch(() => undefined);
  }
}

/** Detaches every sandbox of `framework` (one the agent forgets). */
export function detachFramework(agent: Agent, framework: FrameworkRecord): void {
  for (const executor of [...framework.executors.values(), ...framework.completedExecutors]) detachSandbox(agent, executor);
}

/** Detaches every sandbox the agent knows of: it terminates. */
export function detachAll(agent: Agent): void {
  for (const framework of [...agent.frameworks.values(), ...agent.completedFrameworks]) detachFramework(agent, framework);
}

// ---------------------------------------------------------------------------------------------
// Paths.

interface Attachment {
  /** As attached. */
  readonly path: string;
  /** Canonical, when attached. */
  readonly real: string;
  /** Who may read it; anyone without. */
  readonly authorization?: SandboxAuthorization;
}

/** Who may read an attachment: a sandbox's user, and the agent's decision for a principal. */
export interface SandboxAuthorization {
  /** Whose sandbox it is (logged when a principal is refused). */
  readonly user: string;
  /** Whether `principal` (undefined: the request did not authenticate) may read it. */
  authorized(principal: string | undefined): boolean;
}

/** Mesos's `Forbidden` of a sandbox the principal may not access. */
function forbidden(request: HttpRequest): HttpResponse {
  return { status: 403, body: `${request.principal === undefined ? 'An unauthenticated request' : `Principal '${request.principal}'`} is not authorized to access this sandbox` };
}

const MISSING_PATH = "Expecting 'path=value' in query";

/** The segments of a path, without empty and `.` ones; `..` stays, to be resolved against the real directory. */
function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

function joinSegments(absolute: boolean, segments: readonly string[]): string {
  return (absolute ? '/' : '') + segments.join('/');
}

/** A virtual path as a key: no trailing, doubled or `.` segments (`/a//b/` is `/a/b`). */
function normalize(virtualPath: string): string {
  return joinSegments(virtualPath.startsWith('/'), segmentsOf(virtualPath));
}

/** The canonical path of `path`, which must exist and be readable (Mesos's attach checks `R_OK`). */
async function readableRealpath(path: string): Promise<string> {
  const real = await realpath(path);
  await access(real, constants.R_OK);
  return real;
}

/** `root` (canonical) with `suffix` below it, canonical; `undefined` if it does not exist or is not inside `root`. */
async function resolveUnder(root: string, suffix: readonly string[]): Promise<string | undefined> {
  const info = await stat(root).catch(() => undefined);
  if (info === undefined) return undefined;
  // An attached file has nothing below it: Mesos answers `Not Found` rather than `Bad Request`.
  if (!info.isDirectory()) return suffix.length === 0 ? root : undefined;
  const real = await realpath(join(root, ...suffix)).catch(() => undefined);
  return real !== undefined && within(real, root) ? real : undefined;
}

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * What a listing shows of an entry: the entry itself, or for a symlink what it leads to (Mesos
 * `stat`s each entry), and nothing for a symlink that leads nowhere or out of `root`.
 */
async function entryStat(root: string, path: string): Promise<Stats | undefined> {
  const own = await lstat(path).catch(() => undefined);
  if (own === undefined || !own.isSymbolicLink()) return own;
  const target = await realpath(path).catch(() => undefined);
  if (target === undefined || !within(target, root)) return undefined;
  return stat(target).catch(() => undefined);
}

type Opened = { handle: FileHandle; size: number } | HttpResponse;

/**
 * Opens `real` for reading, without following a symlink swapped in since it was resolved and
 * without waiting on a FIFO's writer. A directory is refused as Mesos does; so is anything else
 * that is not a regular file (Mesos reads those too, but a FIFO or a device in a sandbox would
 * hold the request, and one of the event loop's I/O threads, for as long as it likes).
 */
async function openRegularFile(real: string, path: string, verb: 'read' | 'download'): Promise<Opened> {
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return notFound();
    return { status: 500, body: `Failed to open file at '${path}': ${(error as Error).message}` };
  }
  const info = await handle.stat().catch(() => undefined);
  if (info?.isFile() === true) return { handle, size: info.size };
  await handle.close();
  if (info === undefined) return notFound();
  return badRequest(info.isDirectory() ? `Cannot ${verb} a directory` : `Cannot ${verb} '${path}': not a regular file`);
}

/** A query parameter as an integer; `undefined` when absent; a message naming it and its value when it is not one. */
function integerParameter(request: HttpRequest, name: string): number | string | undefined {
  const text = request.url.searchParams.get(name);
  if (text === null) return undefined;
  const value = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  return Number.isSafeInteger(value) ? value : `Failed to parse ${name}: Failed to convert '${text}' to number`;
}

// ---------------------------------------------------------------------------------------------
// UTF-8 windows.

/** The most bytes a UTF-8 character takes. */
const UTF8_MAX_BYTES = 4;

/** What `/files/read` answers of a window of a file. */
export interface Utf8Window {
  /** The text of the bytes `[offset, offset + length)`. */
  data: string;
  /** Where `data` starts in the file: the offset asked for, or the end of the character it fell inside. */
  offset: number;
  /** How many bytes of the file `data` covers. */
  length: number;
  /** Whether those bytes hold ill-formed UTF-8 (each ill-formed sequence is one U+FFFD in `data`). */
  invalid: boolean;
}

/**
 * The whole characters of the window `[offset, end)` of a file, from `bytes`, the file's bytes
 * from `at` on: `at` at most 3 bytes before `offset` (or the file's start), and `bytes` running
 * 3 bytes past `end` unless the file ends first.
 *
 * The file is cut into units as a decoder reads it from its start: a character, or an
 * ill-formed sequence (its maximal subpart, as the Unicode standard and `TextDecoder` have it,
 * which becomes one U+FFFD). A unit that does not end by `end`, or that the file's last byte
 * leaves incomplete (a writer may not have written its rest yet), is left for a later read. An
 * `offset` inside a unit moves to its end; inside an incomplete one, it stays and the answer is
 * empty. Every unit is answered by any read whose window holds all of it, so a client that
 * reads on from `offset + length` sees each byte once, whatever its window sizes (of 4 bytes at
 * least, or some answers are empty).
 *
 * @example
 * const euro = Buffer.from('a€b'); // 61 e2 82 ac 62
 * utf8Window(euro, 0, 0, 3); // { data: 'a', offset: 0, length: 1, invalid: false }
 * utf8Window(euro, 0, 2, 5); // { data: 'b', offset: 4, length: 1, invalid: false }
 */
export function utf8Window(bytes: Uint8Array, at: number, offset: number, end: number): Utf8Window {
  const stop = Math.min(end - at, bytes.length);
  let start = offset - at;
  if (start < bytes.length && isContinuation(bytes[start]!)) {
    // Inside a unit only if one begins at most 3 bytes before: every byte that is not a
    // continuation byte begins one, and none is longer than 4 bytes.
    for (let p = start - 1; p >= 0 && p > start - UTF8_MAX_BYTES; p--) {
      if (isContinuation(bytes[p]!)) continue;
      const unit = unitAt(bytes, p);
      if (unit === undefined) return { data: '', offset, length: 0, invalid: false };
      start = Math.max(start, p + unit.length);
      break;
    }
  }
  let data = '';
  let invalid = false;
  let run = start;
  let i = start;
  while (i < stop) {
    const unit = unitAt(bytes, i);
    if (unit === undefined || i + unit.length > stop) break;
    if (!unit.valid) {
      data += Buffer.from(bytes.buffer, bytes.byteOffset + run, i - run).toString('utf8') + '\uFFFD';
      invalid = true;
      run = i + unit.length;
    }
    i += unit.length;
  }
  data += Buffer.from(bytes.buffer, bytes.byteOffset + run, Math.max(0, i - run)).toString('utf8');
  return { data, offset: at + start, length: Math.max(0, i - start), invalid };
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/**
 * The unit that begins at `bytes[i]`: a character (`valid`), or the maximal subpart of an
 * ill-formed sequence (Unicode's Table 3-7 of well-formed byte sequences); `undefined` when
 * `bytes` ends before it does.
 */
function unitAt(bytes: Uint8Array, i: number): { length: number; valid: boolean } | undefined {
  const lead = bytes[i]!;
  if (lead < 0x80) return { length: 1, valid: true };
  let more: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) more = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    more = 2;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    more = 3;
    if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
  } else return { length: 1, valid: false };
  for (let k = 1; k <= more; k++) {
    if (i + k >= bytes.length) return undefined;
    const byte = bytes[i + k]!;
    if (byte < low || byte > high) return { length: k, valid: false };
    low = 0x80;
    high = 0xbf;
  }
  return { length: more + 1, valid: true };
}

// ---------------------------------------------------------------------------------------------
// Answers.

/** One entry of `/files/browse`, as Mesos's `model(FileInfo)`. */
export interface FileInfoJSON {
  path: string;
  nlink: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** As `ls -l`: `-rw-r--r--`. */
  mode: string;
  /** The owner's name, or its id when it has none. */
  uid: string;
  gid: string;
}

interface Accounts {
  readonly users: Map<number, string>;
  readonly groups: Map<number, string>;
}

function fileInfo(path: string, s: Stats, accounts: Accounts): FileInfoJSON {
  return {
    path,
    nlink: s.nlink,
    size: s.size,
    mtime: Math.floor(s.mtimeMs / 1000),
    mode: modeString(s.mode),
    uid: accounts.users.get(s.uid) ?? String(s.uid),
    gid: accounts.groups.get(s.gid) ?? String(s.gid),
  };
}

const FILE_TYPES: ReadonlyMap<number, string> = new Map([
  [constants.S_IFREG, '-'],
  [constants.S_IFDIR, 'd'],
  [constants.S_IFCHR, 'c'],
  [constants.S_IFBLK, 'b'],
  [constants.S_IFIFO, 'p'],
  [constants.S_IFLNK, 'l'],
  [constants.S_IFSOCK, 's'],
]);

/**
 * `st_mode` as `ls -l` shows it, as Mesos's `model(FileInfo)`: the type, then read, write and
 * execute for owner, group and others (no setuid, setgid or sticky marks).
 *
 * @example
 * modeString(0o100644); // '-rw-r--r--'
 */
export function modeString(mode: number): string {
  let text = FILE_TYPES.get(mode & constants.S_IFMT) ?? '-';
  for (const shift of [6, 3, 0]) {
    const bits = (mode >> shift) & 7;
    text += (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (bits & 1 ? 'x' : '-');
  }
  return text;
}

/** `name:x:id:...` lines (`/etc/passwd`, `/etc/group`) as id → name; the first name of an id wins, as `getpwuid`. */
function namesById(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name === undefined || name === '' || name.startsWith('#') || id === undefined || !/^\d+$/.test(id)) continue;
    if (!names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}

/** Mesos's `attachment; filename=<name>`; a name that is not a plain token is quoted, and given in UTF-8 too (RFC 6266). */
function contentDisposition(name: string): string {
  if (/^[\w.+-]+$/.test(name)) return `attachment; filename=${name}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Types by extension for `/files/download` (a short table after libprocess's `mime::types`); others are `application/octet-stream`. */
const MIME_TYPES: Readonly<Record<string, string>> = {
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.csv': 'text/csv',
  '.js': 'application/javascript',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.gz': 'application/x-gzip',
  '.tgz': 'application/x-tar-gz',
  '.tar': 'application/x-tar',
  '.zip': 'application/zip',
};

const CORS_HEADERS = { 'Access-Control-Allow-Origin': '*' } as const;

async function cors(answer: HttpResponse | Promise<HttpResponse>): Promise<HttpResponse> {
  const response = await answer;
  return response.streaming === true ? response : { ...response, headers: { ...response.headers, ...CORS_HEADERS } };
}
