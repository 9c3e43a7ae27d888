/**
 * The value math under `Resources`: fixed-point scalars, ranges and sets, one resource entry
 * (name + reservations + value, and for a persistent volume its `DiskInfo`) and the rules for
 * names, roles, reservations and volumes.
 *
 * Everything here works on canonical values, which every constructor in `resources.ts` and
 * `resource-format.ts` produces:
 * 1. a scalar is an integer number of thousandths (`millis`), as Mesos keeps three decimals;
 * 2. ranges are sorted by `begin`, inclusive, and coalesced (no two overlap or touch);
 * 3. set items are sorted and unique.
 * An empty value (zero scalar, no range, no item) never appears in a `Resources`.
 */

/** How a reservation was made: by the agent's `--resources` flag, or by an operation. */
export type ReservationType = 'STATIC' | 'DYNAMIC';

/** One level of a (possibly refined) reservation, as in v1 `Resource.ReservationInfo`. */
export interface Reservation {
  readonly type: ReservationType;
  readonly role: string;
  readonly principal?: string | undefined;
}

/** An inclusive range of non-negative integers, e.g. ports `31000-32000`. */
export interface Range {
  readonly begin: number;
  readonly end: number;
}

/** How a task may use a persistent volume, as v1 `Volume.Mode`. */
export type VolumeMode = 'RW' | 'RO';

/**
 * What makes `disk` a persistent volume (v1 `Resource.DiskInfo`): its `persistence` id (unique
 * per role on an agent) and the principal that created it, and the `volume` it is in a task's
 * sandbox (`container_path`, relative) with its `mode`. Entries with a `DiskInfo` never merge
 * with others: each volume is its own entry.
 */
export interface DiskInfo {
  readonly persistence: { readonly id: string; readonly principal?: string | undefined };
  readonly volume: { readonly container_path: string; readonly mode: VolumeMode };
}

/** The value of one resource entry. */
export type ResourceValue =
  | { readonly type: 'SCALAR'; readonly millis: number }
  | { readonly type: 'RANGES'; readonly ranges: readonly Range[] }
  | { readonly type: 'SET'; readonly items: readonly string[] };

/** The three value types of a resource, as named in v1 `Value.Type`. */
export type ResourceType = ResourceValue['type'];

/**
 * One resource entry: a name, a reservation stack (empty for unreserved), a value, and for a
 * persistent volume its `disk` info. `key` identifies entries that merge on addition: same
 * name, same reservations and the same volume (or none).
 */
export interface ResourceEntry {
  readonly name: string;
  readonly reservations: readonly Reservation[];
  readonly key: string;
  readonly value: ResourceValue;
  readonly disk: DiskInfo | undefined;
}

/** The role of unreserved resources, and the default role of frameworks. */
export const UNRESERVED_ROLE = '*';

/**
 * The largest scalar a resource can hold (a trillion: an exabyte of `mem` in MB). It keeps
 * thousandths far below 2^53, where `millis / 1000 * 1000` still rounds back to `millis`, so
 * the text and JSON forms round-trip exactly.
 */
export const MAX_SCALAR = 1e12;

// ---------------------------------------------------------------------------------------------
// Scalars.

/** Converts a scalar to thousandths, rounding as Mesos does (`llround(value * 1000)`). */
export function toMillis(value: number): number {
  return Math.round(value * 1000);
}

/** Converts thousandths back to a scalar. */
export function fromMillis(millis: number): number {
  return millis / 1000;
}

// ---------------------------------------------------------------------------------------------
// Ranges. All functions take and return canonical (sorted, coalesced) lists.

/** Sorts and coalesces ranges that overlap or touch: `[3-4, 1-2]` becomes `[1-4]`. */
export function coalesceRanges(ranges: readonly Range[]): Range[] {
  return coalesceSorted(sortedByBegin(ranges));
}

/** `ranges` ordered by `begin`: the same array when it already is (the common case), else a sorted copy. */
export function sortedByBegin(ranges: readonly Range[]): readonly Range[] {
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]!.begin < ranges[i - 1]!.begin) return [...ranges].sort((a, b) => a.begin - b.begin);
  }
  return ranges;
}

/** Merges overlapping and adjacent ranges of a list already ordered by `begin`. */
export function coalesceSorted(sorted: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.begin <= last.end + 1) {
      if (r.end > last.end) out[out.length - 1] = { begin: last.begin, end: r.end };
    } else {
      out.push(r);
    }
  }
  return out;
}

/** The union of two canonical range lists. */
export function unionRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  return coalesceRanges([...a, ...b]);
}

/** The numbers of `a` that are not in `b`. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const x of a) {
    let begin = x.begin;
    const end = x.end;
    // Skip ranges of `b` wholly before this one; they cannot touch later ranges of `a` either.
    while (j < b.length && b[j]!.end < begin) j++;
    let k = j;
    while (k < b.length && b[k]!.begin <= end && begin <= end) {
      const y = b[k]!;
      if (y.begin > begin) out.push({ begin, end: y.begin - 1 });
      begin = Math.max(begin, y.end + 1);
      k++;
    }
    if (begin <= end) out.push({ begin, end });
  }
  return out;
}

/** Whether every number of `b` is in `a`. */
export function rangesContain(a: readonly Range[], b: readonly Range[]): boolean {
  let i = 0;
  for (const y of b) {
    while (i < a.length && a[i]!.end < y.begin) i++;
    const x = a[i];
    if (x === undefined || x.begin > y.begin || x.end < y.end) return false;
  }
  return true;
}

/** How many numbers the ranges hold. */
export function rangesSize(ranges: readonly Range[]): number {
  let n = 0;
  for (const r of ranges) n += r.end - r.begin + 1;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Sets. All functions take and return sorted, unique item lists.

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts items and drops duplicates. */
export function canonicalItems(items: readonly string[]): string[] {
  const sorted = [...items].sort(compareStrings);
  return sorted.filter((item, i) => i === 0 || item !== sorted[i - 1]);
}

/** The union of two item lists. */
export function unionItems(a: readonly string[], b: readonly string[]): string[] {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  return canonicalItems([...a, ...b]);
}

/** The items of `a` not in `b`. */
export function subtractItems(a: readonly string[], b: readonly string[]): string[] {
  const drop = new Set(b);
  return a.filter((item) => !drop.has(item));
}

/** Whether every item of `b` is in `a`. */
export function itemsContain(a: readonly string[], b: readonly string[]): boolean {
  if (b.length > a.length) return false;
  const have = new Set(a);
  return b.every((item) => have.has(item));
}

// ---------------------------------------------------------------------------------------------
// Values.

/** Whether a value holds nothing (and so is dropped from any `Resources`). */
export function isEmptyValue(v: ResourceValue): boolean {
  switch (v.type) {
    case 'SCALAR':
      return v.millis <= 0;
    case 'RANGES':
      return v.ranges.length === 0;
    case 'SET':
      return v.items.length === 0;
  }
}

/**
 * `a + b` for two values of the same type: scalars add; ranges and sets take the union, as
 * Mesos does, so adding a port that is already there does not duplicate it.
 */
export function addValues(a: ResourceValue, b: ResourceValue): ResourceValue {
  if (a.type === 'SCALAR' && b.type === 'SCALAR') return { type: 'SCALAR', millis: a.millis + b.millis };
  if (a.type === 'RANGES' && b.type === 'RANGES') return { type: 'RANGES', ranges: unionRanges(a.ranges, b.ranges) };
  if (a.type === 'SET' && b.type === 'SET') return { type: 'SET', items: unionItems(a.items, b.items) };
  throw new Error(`cannot add a ${b.type} value to a ${a.type} value`);
}

/**
 * `a - b` for two values of the same type: scalars subtract and clamp at zero; ranges and sets
 * take the difference. A value of another type subtracts nothing.
 */
export function subtractValues(a: ResourceValue, b: ResourceValue): ResourceValue {
  if (a.type === 'SCALAR' && b.type === 'SCALAR') return { type: 'SCALAR', millis: Math.max(0, a.millis - b.millis) };
  if (a.type === 'RANGES' && b.type === 'RANGES') return { type: 'RANGES', ranges: subtractRanges(a.ranges, b.ranges) };
  if (a.type === 'SET' && b.type === 'SET') return { type: 'SET', items: subtractItems(a.items, b.items) };
  return a;
}

/** Whether `a` holds all of `b`; a value of another type is never contained. */
export function valueContains(a: ResourceValue, b: ResourceValue): boolean {
  if (a.type === 'SCALAR' && b.type === 'SCALAR') return a.millis >= b.millis;
  if (a.type === 'RANGES' && b.type === 'RANGES') return rangesContain(a.ranges, b.ranges);
  if (a.type === 'SET' && b.type === 'SET') return itemsContain(a.items, b.items);
  return false;
}

/** Structural equality of two canonical values. */
export function valuesEqual(a: ResourceValue, b: ResourceValue): boolean {
  if (a.type === 'SCALAR' && b.type === 'SCALAR') return a.millis === b.millis;
  if (a.type === 'RANGES' && b.type === 'RANGES') {
    return (
      a.ranges.length === b.ranges.length &&
      a.ranges.every((r, i) => r.begin === b.ranges[i]!.begin && r.end === b.ranges[i]!.end)
    );
  }
  if (a.type === 'SET' && b.type === 'SET') {
    return a.items.length === b.items.length && a.items.every((item, i) => item === b.items[i]);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Names, roles, reservations.

/**
 * Characters that would break the text form `name(role):value;...` and so are refused in
 * names, roles, principals and set items wherever they come from.
 */
const SYNTAX_CHARS = /[\s()[\]{},;:\\]/;

/** Why `name` cannot name a resource, or `undefined` if it can. */
export function nameError(name: string): string | undefined {
  if (name.length === 0) return 'name must not be empty';
  if (SYNTAX_CHARS.test(name)) return `name '${name}' must not contain whitespace or any of ()[]{},;:\\`;
  return undefined;
}

/** Why `item` cannot be a set item, or `undefined` if it can. */
export function itemError(item: string): string | undefined {
  if (item.length === 0) return 'set items must not be empty';
  if (SYNTAX_CHARS.test(item)) return `set item '${item}' must not contain whitespace or any of ()[]{},;:\\`;
  return undefined;
}

/** Why `principal` cannot be a reservation principal, or `undefined` if it can. */
export function principalError(principal: string): string | undefined {
  if (principal.length === 0) return 'principal must not be empty';
  if (SYNTAX_CHARS.test(principal)) {
    return `principal '${principal}' must not contain whitespace or any of ()[]{},;:\\`;
  }
  return undefined;
}

/**
 * Why `role` is not a valid role name, or `undefined` if it is. Follows Mesos's rules: not
 * empty, not `.` or `..`, no leading `-`, `/` only between path components (`eng/web`), no
 * component `.` or `..`, and `*` only as the whole role (the unreserved role). Characters of
 * the text syntax are refused too.
 */
export function roleError(role: string): string | undefined {
  if (role.length === 0) return 'role must not be empty';
  if (role === UNRESERVED_ROLE) return undefined;
  if (SYNTAX_CHARS.test(role)) return `role '${role}' must not contain whitespace or any of ()[]{},;:\\`;
  if (role.startsWith('-')) return `role '${role}' must not start with '-'`;
  if (role.includes('*')) return `role '${role}' must not contain '*' unless it is exactly '*'`;
  for (const part of role.split('/')) {
    if (part.length === 0) return `role '${role}' must not start or end with '/' or contain '//'`;
    if (part === '.' || part === '..') return `role '${role}' must not have a '.' or '..' component`;
  }
  return undefined;
}

/** Whether `role` is `ancestor` or nested under it (`eng/web` is under `eng`). */
export function isRoleOrSubrole(role: string, ancestor: string): boolean {
  if (role.length === ancestor.length) return role === ancestor;
  return role.length > ancestor.length && role.charCodeAt(ancestor.length) === 47 && role.startsWith(ancestor);
}

/**
 * Why a reservation stack is invalid, or `undefined` if it is valid. Each level names a role
 * other than `*`; only the first level may be `STATIC`; each later level refines the one
 * before it to a strict sub-role, as in Mesos's reservation refinement.
 */
export function reservationsError(reservations: readonly Reservation[]): string | undefined {
  for (let i = 0; i < reservations.length; i++) {
    const r = reservations[i]!;
    if (r.role === UNRESERVED_ROLE) return `reservation role must not be '${UNRESERVED_ROLE}'`;
    const roleProblem = roleError(r.role);
    if (roleProblem !== undefined) return roleProblem;
    if (r.principal !== undefined) {
      const principalProblem = principalError(r.principal);
      if (principalProblem !== undefined) return principalProblem;
    }
    if (i > 0) {
      const prev = reservations[i - 1]!;
      if (r.type === 'STATIC') return `only the first reservation may be STATIC, got STATIC for '${r.role}'`;
      if (r.role === prev.role || !isRoleOrSubrole(r.role, prev.role)) {
        return `refined reservation role '${r.role}' must be a sub-role of '${prev.role}'`;
      }
    }
  }
  return undefined;
}

/** The role that may use an entry: its innermost reservation's role, or `*` if unreserved. */
export function reservationRole(entry: ResourceEntry): string {
  const last = entry.reservations[entry.reservations.length - 1];
  return last === undefined ? UNRESERVED_ROLE : last.role;
}

/** Whether a framework of `role` may be offered `entry`: unreserved, or reserved to the role or an ancestor. */
export function isAllocatableTo(entry: ResourceEntry, role: string): boolean {
  const last = entry.reservations[entry.reservations.length - 1];
  return last === undefined || isRoleOrSubrole(role, last.role);
}

/**
 * Why `id` cannot be a persistence id, or `undefined` if it can: Mesos's rules for ids (not
 * empty, not `.` or `..`, no slash, backslash or control character: it names a directory), and
 * no character of the text syntax.
 */
export function persistenceIdError(id: string): string | undefined {
  if (id.length === 0) return 'persistence id must not be empty';
  if (id === '.' || id === '..') return `persistence id '${id}' is disallowed`;
  // eslint-disable-next-line no-control-regex
  if (/[/\x00-\x1f\x7f]/.test(id)) return `persistence id '${id}' must not contain '/' or control characters`;
  if (SYNTAX_CHARS.test(id)) return `persistence id '${id}' must not contain whitespace or any of ()[]{},;:\\`;
  return undefined;
}

/**
 * Why `path` cannot be a volume's `container_path`, or `undefined` if it can: not empty, no
 * control characters, nor any character of the text syntax. (Whether it is relative is the
 * master's to check when a volume is created.)
 */
export function containerPathError(path: string): string | undefined {
  if (path.length === 0) return 'container_path must not be empty';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(path)) return `container_path '${path}' must not contain control characters`;
  if (SYNTAX_CHARS.test(path)) return `container_path '${path}' must not contain whitespace or any of ()[]{},;:\\`;
  return undefined;
}

/** The key that tells which entries merge: same name, same reservation stack, same volume. */
export function entryKey(name: string, reservations: readonly Reservation[], disk?: DiskInfo): string {
  let key = name + '\u0000';
  for (const r of reservations) {
    key += `${r.type === 'STATIC' ? 'S' : 'D'}${r.role}\u0001${r.principal ?? '\u0002'}\u0003`;
  }
  if (disk !== undefined) {
    const { persistence, volume } = disk;
    key += `\u0004${persistence.id}\u0001${persistence.principal ?? '\u0002'}\u0001${volume.container_path}\u0001${volume.mode}`;
  }
  return key;
}

/** The same entry with another value (a fixed object shape keeps property access fast). */
export function withValue(entry: ResourceEntry, value: ResourceValue): ResourceEntry {
  return { name: entry.name, reservations: entry.reservations, key: entry.key, value, disk: entry.disk };
}

/** Builds an entry, computing its key; `disk` makes it a persistent volume. */
export function makeEntry(name: string, reservations: readonly Reservation[], value: ResourceValue, disk?: DiskInfo): ResourceEntry {
  return { name, reservations, key: entryKey(name, reservations, disk), value, disk };
}
