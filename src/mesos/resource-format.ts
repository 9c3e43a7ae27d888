/**
 * The two external forms of resources, parsed into canonical entries and printed back:
 * 1. the Mesos text form of the agent's `--resources` flag:
 *    `cpus:4;mem:8192;ports:[31000-32000];zones:{a,b};cpus(analytics):2`, and a persistent
 *    volume as Mesos prints one, `[<persistence id>:<container path>]` after the reservations
 *    (`disk(reservations: [(DYNAMIC,web,ops)])[vol1:data]:64`), with `,<principal>` after the id
 *    when the volume has one and `:ro` after the path when it is read-only;
 * 2. the v1 JSON form: an array of `Resource` objects (`name`, `type`, `scalar`/`ranges`/`set`,
 *    `reservations`, or the legacy `role` and `reservation`, and `disk` for a persistent volume:
 *    `{persistence: {id, principal?}, volume: {container_path, mode}}`).
 *
 * Both parsers throw `InvalidResourceError` naming the offending part and why. Both printers
 * produce text the parsers read back to the same entries.
 */

import { InvalidResourceError } from '../errors.ts';
import {
  MAX_SCALAR,
  UNRESERVED_ROLE,
  coalesceRanges,
  coalesceSorted,
  containerPathError,
  fromMillis,
  isEmptyValue,
  itemError,
  makeEntry,
  nameError,
  persistenceIdError,
  principalError,
  reservationsError,
  roleError,
  sortedByBegin,
  toMillis,
  addValues,
  withValue,
  type DiskInfo,
  type Range,
  type Reservation,
  type ReservationType,
  type ResourceEntry,
  type ResourceType,
  type ResourceValue,
  type VolumeMode,
} from './resource-values.ts';

/** One v1 `Resource` as JSON, as produced by `Resources.toJSON()` and read by `Resources.fromJSON()`. */
export interface ResourceJSON {
  name: string;
  type: ResourceType;
  scalar?: { value: number };
  ranges?: { range: { begin: number; end: number }[] };
  set?: { item: string[] };
  /** The reservation stack, outermost first; absent when unreserved. */
  reservations?: { type: ReservationType; role: string; principal?: string }[];
  /** Legacy (pre-refinement) role; `*` or absent means unreserved. Read, never written. */
  role?: string;
  /** Legacy dynamic reservation marker for `role`. Read, never written. */
  reservation?: { principal?: string };
  /** What makes `disk` a persistent volume; absent for anything else. */
  disk?: { persistence: { id: string; principal?: string }; volume: { container_path: string; mode: VolumeMode } };
}

/** Fields of v1 `Resource` whose meaning this project does not model; refused rather than dropped. */
const UNSUPPORTED_FIELDS = ['revocable', 'shared', 'provider_id'] as const;

/**
 * Where a parse failure is reported: the part the error names. A class rather than a `fail`
 * closure per parsed resource: resources are parsed on every offer, launch and recovery, and a
 * closure bound to a `const` costs a property definition each time it is made under `tsx`
 * (esbuild's `keepNames`), which was 8% of an offers run.
 */
class Where {
  constructor(readonly part: string) {}

  fail(reason: string): never {
    throw new InvalidResourceError(this.part, reason);
  }
}

/**
 * Collects entries, merging those with the same key, and checks what Mesos checks when it
 * parses a whole resource string (`validateCommandLineResources`): one type per name among the
 * non-empty parts. As Mesos's `Resources::add`, a range or set item given again is a union,
 * not an error (each `Resource` alone is refused if it repeats a range or an item).
 */
class EntryAccumulator {
  readonly #byKey = new Map<string, ResourceEntry>();
  readonly #typeByName = new Map<string, ResourceType>();

  add(entry: ResourceEntry, part: string): void {
    // An empty part is dropped before the type check, as Mesos checks the merged result.
    if (isEmptyValue(entry.value)) return;
    const seenType = this.#typeByName.get(entry.name);
    if (seenType !== undefined && seenType !== entry.value.type) {
      throw new InvalidResourceError(
        part,
        `'${entry.name}' is already a ${seenType} resource and cannot also be ${entry.value.type}`,
      );
    }
    this.#typeByName.set(entry.name, entry.value.type);
    const existing = this.#byKey.get(entry.key);
    // Two volumes never add up (Mesos's `addable`): the same one twice is a mistake.
    if (existing !== undefined && entry.disk !== undefined) {
      throw new InvalidResourceError(part, `persistent volume '${entry.disk.persistence.id}' is given twice`);
    }
    this.#byKey.set(entry.key, existing === undefined ? entry : withValue(existing, addValues(existing.value, entry.value)));
  }

  /** The merged entries in canonical (key) order. */
  entries(): ResourceEntry[] {
    return [...this.#byKey.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }
}

function showRange(r: Range): string {
  return `${r.begin}-${r.end}`;
}

/** Sorts the ranges of one JSON `Resource`, refusing overlaps (as Mesos's `Resources::validate`), and coalesces adjacent ones. */
function checkedRanges(ranges: Range[], where: Where, prefix: string): Range[] {
  const sorted = sortedByBegin(ranges);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    if (next.begin <= prev.end) where.fail(`${prefix}ranges ${showRange(prev)} and ${showRange(next)} overlap`);
  }
  return coalesceSorted(sorted);
}

/** Sorts explicit set items, refusing empty, malformed and repeated ones. */
function checkedItems(items: string[], where: Where, prefix: string): string[] {
  const seen = new Set<string>();
  for (const item of items) {
    const problem = itemError(item);
    if (problem !== undefined) where.fail(prefix + problem);
    if (seen.has(item)) where.fail(`${prefix}set item '${item}' is given twice`);
    seen.add(item);
  }
  return [...seen].sort();
}

function checkedScalar(value: number, shown: string, where: Where, prefix: string): number {
  if (!Number.isFinite(value)) where.fail(`${prefix}value must be a finite number, got ${shown}`);
  if (value < 0) where.fail(`${prefix}value must not be negative, got ${shown}`);
  if (value > MAX_SCALAR) where.fail(`${prefix}value must be at most ${MAX_SCALAR}, got ${shown}`);
  const millis = toMillis(value);
  // As Mesos's `Resources::validate`: a non-zero value that three decimals show as zero is refused.
  if (millis === 0 && value !== 0) where.fail(`${prefix}value must be 0 or round to at least 0.001, got ${shown}`);
  return millis;
}

// ---------------------------------------------------------------------------------------------
// Text form.

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const RANGE = /^(\d+)\s*-\s*(\d+)$/;

/**
 * Parses the text form into canonical entries; `''` is no resources. Text that starts with `[`
 * is read as a JSON array of v1 `Resource` objects, as Mesos's `Resources::parse` reads the
 * agent's `--resources` (no text-form resource can start with `[`, its name would be empty).
 */
export function parseText(text: string): ResourceEntry[] {
  if (text.trimStart().startsWith('[')) return parseJSON(parseJSONText(text));
  const acc = new EntryAccumulator();
  // Mesos separates resources with `;` only and skips empty tokens, so a trailing `;` is fine.
  for (const raw of text.split(';')) {
    const token = raw.trim();
    if (token === '') continue;
    acc.add(parseToken(token), token);
  }
  return acc.entries();
}

function parseJSONText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidResourceError(
      'resources',
      `text starting with '[' must be a JSON array of Resource objects: ${(error as Error).message}`,
    );
  }
}

function parseToken(token: string): ResourceEntry {
  const where = new Where(token);
  const stop = token.search(/[([:]/);
  if (stop < 0) where.fail(`expected 'name:value' or 'name(role):value'`);
  const name = token.slice(0, stop).trim();
  const problem = nameError(name);
  if (problem !== undefined) where.fail(problem);

  let reservations: Reservation[] = [];
  let rest = token.slice(stop);
  if (rest.startsWith('(')) {
    const close = matchingParen(rest);
    if (close < 0) where.fail(`'(' after the name is not closed`);
    reservations = parseReservationSpec(rest.slice(1, close).trim(), where);
    rest = rest.slice(close + 1).trimStart();
    if (!rest.startsWith(':') && !rest.startsWith('[')) where.fail(`expected ':' after the role`);
  }
  let disk: DiskInfo | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) where.fail(`'[' of the persistent volume is not closed`);
    disk = parseVolumeText(rest.slice(1, close).trim(), where);
    rest = rest.slice(close + 1).trimStart();
    if (!rest.startsWith(':')) where.fail(`expected ':' after the persistent volume`);
  }
  const valueText = rest.slice(1).trim();
  if (valueText === '') where.fail('value must not be empty');
  if (valueText.includes(':')) where.fail(`value must not contain ':' (is a ';' missing between resources?)`);
  const value = parseValueText(valueText, where);
  if (disk !== undefined) checkVolumeEntry(name, value, where, '');
  return makeEntry(name, reservations, value, disk);
}

/** Parses `<id>[,<principal>]:<container path>[:ro|:rw]`, a persistent volume in the text form. */
function parseVolumeText(text: string, where: Where): DiskInfo {
  const shape = `persistent volume '[${text}]' must be written '[id[,principal]:container_path[:ro]]'`;
  const [left, path, mode, ...extra] = text.split(':').map((part) => part.trim());
  if (left === undefined || path === undefined || extra.length > 0) where.fail(shape);
  const [id, principal, ...more] = left!.split(',').map((part) => part.trim());
  if (more.length > 0) where.fail(shape);
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') where.fail(`persistent volume mode must be 'ro' or 'rw', got '${mode}'`);
  return checkedDiskInfo(id!, principal, path!, mode === 'ro' ? 'RO' : 'RW', where, '');
}

/** A `DiskInfo` whose parts are valid, or the failure naming the part. */
function checkedDiskInfo(id: string, principal: string | undefined, path: string, mode: VolumeMode, where: Where, prefix: string): DiskInfo {
  const idProblem = persistenceIdError(id);
  if (idProblem !== undefined) where.fail(prefix + idProblem);
  if (principal !== undefined) {
    const principalProblem = principalError(principal);
    if (principalProblem !== undefined) where.fail(`${prefix}persistence ${principalProblem}`);
  }
  const pathProblem = containerPathError(path);
  if (pathProblem !== undefined) where.fail(prefix + pathProblem);
  return {
    persistence: principal === undefined ? { id } : { id, principal },
    volume: { container_path: path, mode },
  };
}

/** As Mesos's `Resources::validate`: only `disk`, a scalar, may be a persistent volume. */
function checkVolumeEntry(name: string, value: ResourceValue, where: Where, prefix: string): void {
  if (name !== 'disk') where.fail(`${prefix}DiskInfo should not be set for '${name}' resource`);
  if (value.type !== 'SCALAR') where.fail(`${prefix}a persistent volume must be a SCALAR, got ${value.type}`);
}

/** The index of the `)` that closes the `(` at index 0, or -1. */
function matchingParen(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Parses `analytics`, `*`, or `reservations: [(STATIC,a),(DYNAMIC,a/b,ops)]`. */
function parseReservationSpec(spec: string, where: Where): Reservation[] {
  let reservations: Reservation[];
  if (spec.startsWith('reservations:')) {
    reservations = parseReservationList(spec.slice('reservations:'.length).trim(), where);
  } else {
    const problem = roleError(spec);
    if (problem !== undefined) where.fail(problem);
    reservations = spec === UNRESERVED_ROLE ? [] : [{ type: 'STATIC', role: spec }];
  }
  const problem = reservationsError(reservations);
  if (problem !== undefined) where.fail(problem);
  return reservations;
}

function parseReservationList(list: string, where: Where): Reservation[] {
  if (!list.startsWith('[') || !list.endsWith(']')) where.fail(`reservations must be written '[(TYPE,role[,principal]),...]'`);
  const out: Reservation[] = [];
  const body = list.slice(1, -1);
  const levels = body.trim() === '' ? [] : body.split(/\)\s*,/);
  for (const [i, raw] of levels.entries()) {
    let level = raw.trim();
    if (i === levels.length - 1) {
      if (!level.endsWith(')')) where.fail(`reservation '${level}' must be written '(TYPE,role[,principal])'`);
      level = level.slice(0, -1);
    }
    if (!level.startsWith('(')) where.fail(`reservation '${level})' must be written '(TYPE,role[,principal])'`);
    const parts = level.slice(1).split(',').map((p) => p.trim());
    const [type, role, principal, ...extra] = parts;
    if (type !== 'STATIC' && type !== 'DYNAMIC') where.fail(`reservation type must be STATIC or DYNAMIC, got '${type ?? ''}'`);
    if (role === undefined || extra.length > 0) where.fail(`reservation '${level})' must be written '(TYPE,role[,principal])'`);
    out.push(principal === undefined ? { type: type as ReservationType, role: role! } : { type: type as ReservationType, role: role!, principal });
  }
  if (out.length === 0) where.fail('reservations must not be empty; leave them out for unreserved resources');
  return out;
}

function parseValueText(text: string, where: Where): ResourceValue {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) where.fail(`ranges must be written '[begin-end,...]'`);
    const inner = text.slice(1, -1).trim();
    const ranges: Range[] = [];
    if (inner !== '') {
      for (const raw of inner.split(',')) {
        const part = raw.trim();
        const m = RANGE.exec(part);
        if (m === null) where.fail(`range '${part}' must be 'begin-end' with non-negative integers`);
        const begin = Number(m![1]);
        const end = Number(m![2]);
        if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end)) {
          where.fail(`range '${part}' must not exceed ${Number.MAX_SAFE_INTEGER}`);
        }
        if (begin > end) where.fail(`range '${part}' must not have begin greater than end`);
        ranges.push({ begin, end });
      }
    }
    // Mesos's `values::parse` coalesces the ranges of a text value, overlapping or not.
    return { type: 'RANGES', ranges: coalesceRanges(ranges) };
  }
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) where.fail(`sets must be written '{item,...}'`);
    const inner = text.slice(1, -1).trim();
    const items = inner === '' ? [] : inner.split(',').map((item) => item.trim());
    return { type: 'SET', items: checkedItems(items, where, '') };
  }
  if (text.startsWith('-') && NUMBER.test(text.slice(1))) where.fail(`value must not be negative, got ${text}`);
  if (!NUMBER.test(text)) where.fail('value must be a number');
  return { type: 'SCALAR', millis: checkedScalar(Number(text), text, where, '') };
}

/** Prints entries in the text form; `parseText` reads it back to the same entries. */
export function formatText(entries: readonly ResourceEntry[]): string {
  return entries.map(formatEntry).join(';');
}

function formatEntry(entry: ResourceEntry): string {
  return `${entry.name}${formatReservations(entry.reservations)}${formatVolume(entry.disk)}:${formatValue(entry.value)}`;
}

/** `[vol1:data]`, `[vol1,ops:data:ro]`: a persistent volume as Mesos prints one (with its principal and mode besides). */
function formatVolume(disk: DiskInfo | undefined): string {
  if (disk === undefined) return '';
  const { persistence, volume } = disk;
  const id = persistence.principal === undefined ? persistence.id : `${persistence.id},${persistence.principal}`;
  return `[${id}:${volume.container_path}${volume.mode === 'RO' ? ':ro' : ''}]`;
}

function formatReservations(reservations: readonly Reservation[]): string {
  const [only, ...more] = reservations;
  if (only === undefined) return '';
  if (more.length === 0 && only.type === 'STATIC' && only.principal === undefined) return `(${only.role})`;
  const levels = reservations.map((r) =>
    r.principal === undefined ? `(${r.type},${r.role})` : `(${r.type},${r.role},${r.principal})`,
  );
  return `(reservations: [${levels.join(',')}])`;
}

/** Prints a value as in the text form: `4`, `0.5`, `[1-5,7-7]`, `{a,b}`. */
export function formatValue(value: ResourceValue): string {
  switch (value.type) {
    case 'SCALAR':
      return String(fromMillis(value.millis));
    case 'RANGES':
      return `[${value.ranges.map(showRange).join(',')}]`;
    case 'SET':
      return `{${value.items.join(',')}}`;
  }
}

// ---------------------------------------------------------------------------------------------
// v1 JSON form.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Reads a v1 `uint64` as JSON: a non-negative safe integer, or a string of digits (proto3 JSON). */
function readUint(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Parses the v1 JSON form (an array of `Resource`) into canonical entries. */
export function parseJSON(json: unknown): ResourceEntry[] {
  if (!Array.isArray(json)) {
    throw new InvalidResourceError('resources', `expected an array of Resource objects, got ${show(json)}`);
  }
  const acc = new EntryAccumulator();
  for (let i = 0; i < json.length; i++) {
    const entry = parseResourceJSON(json[i], i);
    acc.add(entry, entry.name);
  }
  return acc.entries();
}

function parseResourceJSON(item: unknown, index: number): ResourceEntry {
  const path = `resources[${index}]`;
  const where = new Where(isObject(item) && typeof item['name'] === 'string' && item['name'] !== '' ? item['name'] : path);
  if (!isObject(item)) where.fail(`${path} must be a Resource object, got ${show(item)}`);
  const r = item as Record<string, unknown>;

  const name = r['name'];
  if (typeof name !== 'string') where.fail(`${path}.name must be a string, got ${show(name)}`);
  const problem = nameError(name as string);
  if (problem !== undefined) where.fail(`${path}.${problem}`);

  for (const field of UNSUPPORTED_FIELDS) {
    const v = r[field];
    if (v !== undefined && v !== null && !(isObject(v) && Object.keys(v).length === 0) && v !== false) {
      where.fail(`${path}.${field} is not supported`);
    }
  }

  const reservations = parseReservationsJSON(r, path, where);
  const disk = parseDiskJSON(r['disk'], path, where);
  const type = r['type'];
  let value: ResourceValue;
  switch (type) {
    case 'SCALAR': {
      const scalar = r['scalar'];
      const v = isObject(scalar) ? scalar['value'] : undefined;
      if (typeof v !== 'number') where.fail(`${path}.scalar.value must be a number, got ${show(v)}`);
      value = { type: 'SCALAR', millis: checkedScalar(v as number, String(v), where, `${path}.scalar.`) };
      break;
    }
    case 'RANGES': {
      const ranges = r['ranges'];
      if (ranges !== undefined && !isObject(ranges)) where.fail(`${path}.ranges must be an object, got ${show(ranges)}`);
      const list = isObject(ranges) ? (ranges['range'] ?? []) : [];
      if (!Array.isArray(list)) where.fail(`${path}.ranges.range must be an array, got ${show(list)}`);
      const parsed: Range[] = [];
      for (const [j, range] of (list as unknown[]).entries()) {
        const at = `${path}.ranges.range[${j}]`;
        const begin = isObject(range) ? readUint(range['begin']) : undefined;
        const end = isObject(range) ? readUint(range['end']) : undefined;
        if (begin === undefined || end === undefined) {
          where.fail(`${at} must be {begin, end} with non-negative integers, got ${show(range)}`);
        }
        if (begin! > end!) where.fail(`${at} must not have begin greater than end, got ${begin}-${end}`);
        parsed.push({ begin: begin!, end: end! });
      }
      value = { type: 'RANGES', ranges: checkedRanges(parsed, where, `${path}.`) };
      break;
    }
    case 'SET': {
      const set = r['set'];
      if (set !== undefined && !isObject(set)) where.fail(`${path}.set must be an object, got ${show(set)}`);
      const items = isObject(set) ? (set['item'] ?? []) : [];
      if (!Array.isArray(items) || !items.every((x) => typeof x === 'string')) {
        where.fail(`${path}.set.item must be an array of strings, got ${show(items)}`);
      }
      value = { type: 'SET', items: checkedItems(items as string[], where, `${path}.`) };
      break;
    }
    default:
      return where.fail(`${path}.type must be one of SCALAR, RANGES, SET, got ${show(type)}`);
  }
  if (disk !== undefined) checkVolumeEntry(name as string, value, where, `${path}.`);
  return makeEntry(name as string, reservations, value, disk);
}

/**
 * `Resource.disk`, a persistent volume's `DiskInfo`: `persistence` (`id`, `principal`) and
 * `volume` (`container_path`, `mode`, RW by default) together, as Mesos's `validateDiskInfo`
 * asks; an empty object is no `DiskInfo`. What this project does not model (a disk `source`,
 * a volume's `host_path`, `image` or `source`) is refused, in Mesos's words where it has them.
 */
function parseDiskJSON(disk: unknown, path: string, where: Where): DiskInfo | undefined {
  if (disk === undefined || disk === null) return undefined;
  const at = `${path}.disk`;
  if (!isObject(disk)) return where.fail(`${at} must be a DiskInfo object, got ${show(disk)}`);
  for (const key of Object.keys(disk)) {
    if (key !== 'persistence' && key !== 'volume') where.fail(`${at}.${key} is not supported`);
  }
  const persistence = disk['persistence'];
  const volume = disk['volume'];
  if (persistence === undefined && volume === undefined) return undefined;
  if (persistence === undefined) return where.fail(`${at}: Non-persistent volume not supported`);
  if (!isObject(persistence)) return where.fail(`${at}.persistence must be an object, got ${show(persistence)}`);
  if (volume === undefined) return where.fail(`${at}: Expecting 'volume' to be set for persistent volume`);
  if (!isObject(volume)) return where.fail(`${at}.volume must be a Volume object, got ${show(volume)}`);
  for (const key of Object.keys(persistence)) {
    if (key !== 'id' && key !== 'principal') where.fail(`${at}.persistence.${key} is not supported`);
  }
  if (volume['host_path'] !== undefined) where.fail(`${at}: Expecting 'host_path' to be unset for persistent volume`);
  for (const key of Object.keys(volume)) {
    if (key !== 'container_path' && key !== 'mode') where.fail(`${at}.volume.${key} is not supported`);
  }
  const id = persistence['id'];
  if (typeof id !== 'string') where.fail(`${at}.persistence.id must be a string, got ${show(id)}`);
  const principal = persistence['principal'];
  if (principal !== undefined && typeof principal !== 'string') where.fail(`${at}.persistence.principal must be a string, got ${show(principal)}`);
  const containerPath = volume['container_path'];
  if (typeof containerPath !== 'string') where.fail(`${at}.volume.container_path must be a string, got ${show(containerPath)}`);
  const mode = volume['mode'] ?? 'RW';
  if (mode !== 'RW' && mode !== 'RO') where.fail(`${at}.volume.mode must be RW or RO, got ${show(mode)}`);
  return checkedDiskInfo(id as string, principal as string | undefined, containerPath as string, mode as VolumeMode, where, `${at}: `);
}

function parseReservationsJSON(
  r: Record<string, unknown>,
  path: string,
  where: Where,
): Reservation[] {
  const raw = r['reservations'];
  const legacyRole = r['role'];
  if (legacyRole !== undefined && typeof legacyRole !== 'string') where.fail(`${path}.role must be a string, got ${show(legacyRole)}`);
  if (legacyRole !== undefined) {
    const problem = roleError(legacyRole as string);
    if (problem !== undefined) where.fail(`${path}.${problem}`);
  }
  let reservations: Reservation[] = [];
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw)) where.fail(`${path}.reservations must be an array, got ${show(raw)}`);
    for (const [j, level] of (raw as unknown[]).entries()) {
      const at = `${path}.reservations[${j}]`;
      if (!isObject(level)) where.fail(`${at} must be a ReservationInfo object, got ${show(level)}`);
      const l = level as Record<string, unknown>;
      const type = l['type'];
      if (type !== 'STATIC' && type !== 'DYNAMIC') where.fail(`${at}.type must be STATIC or DYNAMIC, got ${show(type)}`);
      const role = l['role'];
      if (typeof role !== 'string') where.fail(`${at}.role must be a string, got ${show(role)}`);
      const principal = l['principal'];
      if (principal !== undefined && typeof principal !== 'string') where.fail(`${at}.principal must be a string, got ${show(principal)}`);
      const labels = l['labels'];
      if (labels !== undefined && !(isObject(labels) && Object.keys(labels).length === 0)) where.fail(`${at}.labels is not supported`);
      reservations.push(
        principal === undefined
          ? { type: type as ReservationType, role: role as string }
          : { type: type as ReservationType, role: role as string, principal: principal as string },
      );
    }
  }
  if (reservations.length > 0) {
    // A client may send both formats; they must agree.
    const innermost = reservations[reservations.length - 1]!.role;
    if (legacyRole !== undefined && legacyRole !== UNRESERVED_ROLE && legacyRole !== innermost) {
      where.fail(`${path}.role '${legacyRole as string}' disagrees with reservations, which reserve to '${innermost}'`);
    }
  } else if (legacyRole !== undefined && legacyRole !== UNRESERVED_ROLE) {
    const legacy = r['reservation'];
    if (legacy !== undefined && legacy !== null && !isObject(legacy)) where.fail(`${path}.reservation must be an object, got ${show(legacy)}`);
    if (isObject(legacy)) {
      const principal = legacy['principal'];
      if (principal !== undefined && typeof principal !== 'string') {
        where.fail(`${path}.reservation.principal must be a string, got ${show(principal)}`);
      }
      reservations = [
        principal === undefined
          ? { type: 'DYNAMIC', role: legacyRole as string }
          : { type: 'DYNAMIC', role: legacyRole as string, principal: principal as string },
      ];
    } else {
      reservations = [{ type: 'STATIC', role: legacyRole as string }];
    }
  }
  const problem = reservationsError(reservations);
  if (problem !== undefined) where.fail(`${path}.reservations: ${problem}`);
  return reservations;
}

/**
 * Prints entries as v1 JSON `Resource` objects (post-refinement `reservations`, no legacy
 * `role`), every object and array of the result frozen (`Resources.toJSON` hands the same
 * array out again and looks it up when it comes back, so it must not change).
 */
export function formatJSON(entries: readonly ResourceEntry[]): ResourceJSON[] {
  // Typed as returning its argument: `ResourceJSON` is the (mutable) v1 shape callers pass on.
  const f: <T>(x: T) => T = Object.freeze;
  const out: ResourceJSON[] = [];
  for (const entry of entries) {
    const json: ResourceJSON = { name: entry.name, type: entry.value.type };
    const v = entry.value;
    if (v.type === 'SCALAR') json.scalar = f({ value: fromMillis(v.millis) });
    else if (v.type === 'RANGES') json.ranges = f({ range: f(v.ranges.map((r) => f({ begin: r.begin, end: r.end }))) });
    else json.set = f({ item: f([...v.items]) });
    if (entry.reservations.length > 0) {
      json.reservations = f(
        entry.reservations.map((r) =>
          f(r.principal === undefined ? { type: r.type, role: r.role } : { type: r.type, role: r.role, principal: r.principal }),
        ),
      );
    }
    if (entry.disk !== undefined) {
      const { persistence, volume } = entry.disk;
      json.disk = f({
        persistence: f(persistence.principal === undefined ? { id: persistence.id } : { id: persistence.id, principal: persistence.principal }),
        volume: f({ container_path: volume.container_path, mode: volume.mode }),
      });
    }
    out.push(f(json));
  }
  return f(out);
}
