/**
 * `Resources`: an immutable bag of named resources with Mesos semantics.
 *
 * 1. Three kinds of value: scalars (`cpus:4`, kept as integer thousandths as Mesos keeps three
 *    decimals, so `0.1 + 0.2` is exactly `0.3`), ranges (`ports:[31000-32000]`) and sets
 *    (`zones:{a,b}`).
 * 2. Reservations: `cpus(analytics):2` is statically reserved to role `analytics`; unreserved
 *    resources have role `*`. Entries with the same name and the same reservation merge;
 *    differently reserved entries stay apart, so `cpus:1;cpus(a):2` has two entries.
 * 3. Persistent volumes: `disk` with a `DiskInfo` (a persistence id and a `container_path`),
 *    `disk(reservations: [(DYNAMIC,web,ops)])[vol1:data]:64` in the text form. Each volume is an
 *    entry of its own, never merged with plain disk or with another volume; as in Mesos a
 *    volume is contained only in the same volume whole (`contains`, `minus`), never in part.
 * 4. Algebra: `plus`, `minus`, `contains`, `equals`, and the views the allocator needs
 *    (`allocatableTo(role)`, `unreserved()`, `scalars()` for DRF, ...).
 * 5. Two external forms, read and written: the text of the agent's `--resources` flag and the
 *    v1 JSON array of `Resource` (see `resource-format.ts`).
 *
 * Every instance is canonical (entries sorted by key, empty values dropped), so equal bags
 * print the same text.
 */

import { InvalidResourceError } from '../errors.ts';
import { formatJSON, formatText, parseJSON, parseText, type ResourceJSON } from './resource-format.ts';
import {
  UNRESERVED_ROLE,
  addValues,
  coalesceRanges,
  fromMillis,
  isAllocatableTo,
  isEmptyValue,
  makeEntry,
  reservationRole,
  subtractValues,
  valueContains,
  valuesEqual,
  withValue,
  type Range,
  type ResourceEntry,
} from './resource-values.ts';

export type { ResourceJSON } from './resource-format.ts';
export {
  UNRESERVED_ROLE,
  type DiskInfo,
  type Range,
  type Reservation,
  type ReservationType,
  type ResourceEntry,
  type ResourceType,
  type ResourceValue,
} from './resource-values.ts';

function compareKeys(a: ResourceEntry, b: ResourceEntry): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The arrays `toJSON` made, with the resources they came from. On an in-process bus a message
 * body travels by reference, so the JSON the allocator offers comes back as the very array in an
 * ACCEPT, a task and a recovery: parsing it again is a look-up (a fifth more offers/s, accept
 * and decline alike, in the `offers` bench). Safe because those arrays are frozen, all the way
 * down: what `toJSON` gave cannot change under the look-up, and code that would change it gets
 * a TypeError instead of quietly changing what another actor holds.
 */
const madeJSON = new WeakMap<object, Resources>();

/** Whether two JSON values are equal: the same primitives, array items and object fields. */
function sameJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJSON(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let fields = 0;
  for (const key in x) {
    if (!Object.hasOwn(y, key) || !sameJSON(x[key], y[key])) return false;
    fields++;
  }
  for (const key in y) if (Object.hasOwn(y, key)) fields--;
  return fields === 0;
}

/**
 * An immutable bag of resources.
 *
 * @example
 * const agent = Resources.parse('cpus:4;mem:8192;ports:[31000-32000];cpus(analytics):2');
 * const task = Resources.parse('cpus:0.5;mem:512;ports:[31000-31000]');
 * agent.contains(task); // true
 * agent.minus(task).toString(); // 'cpus:3.5;cpus(analytics):2;mem:7680;ports:[31001-32000]'
 * agent.allocatableTo('analytics').cpus(); // 6
 */
export class Resources {
  /** No resources. */
  static readonly EMPTY: Resources = new Resources([]);

  readonly #entries: readonly ResourceEntry[];
  #scalarMillis: ReadonlyMap<string, number> | undefined;
  /** `toJSON()`'s array, made once (it is frozen, so it can be handed out again). */
  #json: ResourceJSON[] | undefined;
  /** `JSON.stringify(toJSON())`, made once. */
  #jsonText: string | undefined;

  private constructor(entries: readonly ResourceEntry[]) {
    this.#entries = entries;
  }

  /**
   * Parses the Mesos text form: resources separated by `;`, each `name:value` or
   * `name(role):value`, where a value is a number, `[begin-end,...]` or `{item,...}`.
   * The same name and role given twice adds up (ranges and sets by union), and text that is a
   * JSON array is read as the v1 JSON form, as Mesos reads `--resources`. Throws
   * `InvalidResourceError`.
   *
   * @example
   * Resources.parse('cpus:4;mem:8192;ports:[31000-32000]').mem(); // 8192
   */
  static parse(text: string): Resources {
    return new Resources(parseText(text));
  }

  /**
   * Parses the v1 JSON form, an array of `Resource` objects; reads `reservations` and the legacy
   * `role`/`reservation` fields. Throws `InvalidResourceError`.
   *
   * @example
   * Resources.fromJSON([{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }]).cpus(); // 2
   */
  static fromJSON(json: unknown): Resources {
    if (typeof json === 'object' && json !== null) {
      const known = madeJSON.get(json);
      if (known !== undefined) return known;
    }
    return new Resources(parseJSON(json));
  }

  /**
   * `fromJSON(json)`, except that when `json` says exactly what `likely.toJSON()` says (the
   * same fields and values, compared without parsing) it returns `likely` itself. For JSON that
   * usually copies resources this side made: a task launched with the whole of its offer
   * arrives over a bus as a fresh copy of the offer's array; taking the offer's own object
   * saves the parse and lets later books (the allocator's) compare by identity.
   */
  static fromJSONLike(json: unknown, likely: Resources): Resources {
    return sameJSON(json, likely.toJSON()) ? likely : Resources.fromJSON(json);
  }

  /**
   * Whether `json` is an array `toJSON` made (frozen, so still what it made): valid v1 JSON
   * without looking inside, for validators of messages that carry it.
   */
  static isOwnJSON(json: unknown): boolean {
    return typeof json === 'object' && json !== null && madeJSON.has(json);
  }

  /**
   * Builds resources from entries with canonical values (as `entries()` returns them), merging
   * entries with the same key. Throws `InvalidResourceError` if a name has two types.
   */
  static fromEntries(entries: Iterable<ResourceEntry>): Resources {
    const sorted = [...entries].filter((e) => !isEmptyValue(e.value)).sort(compareKeys);
    const merged: ResourceEntry[] = [];
    for (const e of sorted) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.key === e.key) {
        checkSameType(last, e);
        merged[merged.length - 1] = withValue(last, addValues(last.value, e.value));
      } else {
        merged.push(e);
      }
    }
    checkNameTypes(merged);
    return new Resources(merged);
  }

  /** The sum of several bags. */
  static sum(all: Iterable<Resources>): Resources {
    let total = Resources.EMPTY;
    for (const r of all) total = total.plus(r);
    return total;
  }

  /** The entries, sorted by name then reservation (unreserved first). */
  entries(): readonly ResourceEntry[] {
    return this.#entries;
  }

  /** How many entries (name × reservation) there are. */
  get size(): number {
    return this.#entries.length;
  }

  isEmpty(): boolean {
    return this.#entries.length === 0;
  }

  /**
   * `this + other`. Scalars add; ranges and sets take the union (as in Mesos, adding a port
   * that is already present does not duplicate it). Throws `InvalidResourceError` if a name
   * would have two types (`cpus:1` plus `cpus:[1-2]`).
   */
  plus(other: Resources): Resources {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const a = this.#entries;
    const b = other.#entries;
    const out: ResourceEntry[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      const x = a[i]!;
      const y = b[j]!;
      if (x.key === y.key) {
        checkSameType(x, y);
        out.push(withValue(x, addValues(x.value, y.value)));
        i++;
        j++;
      } else if (x.key < y.key) {
        out.push(x);
        i++;
      } else {
        out.push(y);
        j++;
      }
    }
    while (i < a.length) out.push(a[i++]!);
    while (j < b.length) out.push(b[j++]!);
    checkNameTypes(out);
    return new Resources(out);
  }

  /**
   * `this - other`, following Mesos: each entry loses what `other` holds under the same name and
   * reservation; a scalar never goes below zero (subtracting more than present leaves nothing,
   * it is not an error); ranges and sets lose the numbers and items they share; a persistent
   * volume goes only when `other` holds the same volume whole (Mesos's `subtractable`).
   * Whatever `other` holds that `this` does not is ignored, so `a.minus(b)` is always contained
   * in `a`.
   */
  minus(other: Resources): Resources {
    if (other.isEmpty() || this.isEmpty()) return this;
    const a = this.#entries;
    const b = other.#entries;
    const out: ResourceEntry[] = [];
    let j = 0;
    for (const x of a) {
      while (j < b.length && b[j]!.key < x.key) j++;
      const y = b[j];
      if (y === undefined || y.key !== x.key) {
        out.push(x);
        continue;
      }
      if (x.disk !== undefined) {
        if (!valuesEqual(x.value, y.value)) out.push(x);
        continue;
      }
      const value = subtractValues(x.value, y.value);
      if (!isEmptyValue(value)) out.push(value === x.value ? x : withValue(x, value));
    }
    return new Resources(out);
  }

  /**
   * Whether `this` holds all of `other`, entry by entry (a reserved CPU does not cover an
   * unreserved one; a persistent volume is covered by the same volume only, whole).
   */
  contains(other: Resources): boolean {
    const a = this.#entries;
    let i = 0;
    for (const y of other.#entries) {
      while (i < a.length && a[i]!.key < y.key) i++;
      const x = a[i];
      if (x === undefined || x.key !== y.key) return false;
      if (x.disk !== undefined ? !valuesEqual(x.value, y.value) : !valueContains(x.value, y.value)) return false;
    }
    return true;
  }

  /** Whether both hold exactly the same resources. */
  equals(other: Resources): boolean {
    const a = this.#entries;
    const b = other.#entries;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (a[i]!.key !== b[i]!.key || !valuesEqual(a[i]!.value, b[i]!.value)) return false;
    }
    return true;
  }

  /** The total of scalar `name` over every reservation; `0` if absent. */
  scalar(name: string): number {
    return fromMillis(this.scalarMillis().get(name) ?? 0);
  }

  cpus(): number {
    return this.scalar('cpus');
  }

  mem(): number {
    return this.scalar('mem');
  }

  disk(): number {
    return this.scalar('disk');
  }

  gpus(): number {
    return this.scalar('gpus');
  }

  /** The ranges of `name` over every reservation, coalesced; `[]` if absent. */
  ranges(name: string): readonly Range[] {
    const all: Range[] = [];
    for (const e of this.#entries) if (e.name === name && e.value.type === 'RANGES') all.push(...e.value.ranges);
    return coalesceRanges(all);
  }

  /** The port ranges over every reservation. */
  ports(): readonly Range[] {
    return this.ranges('ports');
  }

  /** The items of set `name` over every reservation, sorted; `[]` if absent. */
  set(name: string): readonly string[] {
    const all = new Set<string>();
    for (const e of this.#entries) if (e.name === name && e.value.type === 'SET') for (const item of e.value.items) all.add(item);
    return [...all].sort();
  }

  /**
   * Reserved resources: all of them, or those whose (innermost) reservation is to `role`.
   *
   * @example
   * Resources.parse('cpus:1;cpus(a):2;cpus(b):3').reserved('a').toString(); // 'cpus(a):2'
   */
  reserved(role?: string): Resources {
    return this.#filter((e) => e.reservations.length > 0 && (role === undefined || reservationRole(e) === role));
  }

  /** Unreserved resources (role `*`). */
  unreserved(): Resources {
    return this.#filter((e) => e.reservations.length === 0);
  }

  /** The persistent volumes (`disk` entries with a `DiskInfo`), as Mesos's `persistentVolumes()`. */
  persistentVolumes(): Resources {
    return this.#filter((e) => e.disk !== undefined);
  }

  /**
   * The same resources with every persistent volume turned back into the disk it was made of
   * (its `DiskInfo` dropped, its reservations kept): what CREATE takes and DESTROY gives back.
   *
   * @example
   * Resources.parse('disk(web):36;disk(web)[vol1:data]:64').withoutVolumes().toString(); // 'disk(web):100'
   */
  withoutVolumes(): Resources {
    if (!this.#entries.some((e) => e.disk !== undefined)) return this;
    return Resources.fromEntries(this.#entries.map((e) => (e.disk === undefined ? e : makeEntry(e.name, e.reservations, e.value))));
  }

  /**
   * What a framework subscribed to `role` may be offered: unreserved resources plus those
   * reserved to `role` or to one of its ancestors (`eng` reservations are allocatable to
   * `eng/web`), as Mesos's `allocatableTo`.
   */
  allocatableTo(role: string): Resources {
    if (role === UNRESERVED_ROLE) return this.unreserved();
    return this.#filter((e) => isAllocatableTo(e, role));
  }

  /** Whether `allocatableTo(role)` would be non-empty, without building it. */
  hasAllocatableTo(role: string): boolean {
    for (const e of this.#entries) {
      if (role === UNRESERVED_ROLE ? e.reservations.length === 0 : isAllocatableTo(e, role)) return true;
    }
    return false;
  }

  /** The distinct resource names, sorted. */
  names(): string[] {
    const names: string[] = [];
    for (const e of this.#entries) if (names[names.length - 1] !== e.name) names.push(e.name);
    return names;
  }

  /** The same resources with reservation and volume information dropped and merged by name. */
  flatten(): Resources {
    const out: ResourceEntry[] = [];
    for (const e of this.#entries) {
      const last = out[out.length - 1];
      // Entries are sorted by name first, so the ones to merge are adjacent.
      if (last !== undefined && last.name === e.name) {
        out[out.length - 1] = withValue(last, addValues(last.value, e.value));
      } else {
        out.push(e.reservations.length === 0 && e.disk === undefined ? e : makeEntry(e.name, [], e.value));
      }
    }
    return new Resources(out);
  }

  /** The total of every scalar resource by name, over every reservation: what DRF shares are made of. */
  scalars(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, millis] of this.scalarMillis()) out.set(name, fromMillis(millis));
    return out;
  }

  /**
   * Like `scalars()`, in exact thousandths (`cpus:0.5` is `500`). Computed once per instance;
   * the sorters sum these so that allocating and recovering leaves no floating-point residue.
   */
  scalarMillis(): ReadonlyMap<string, number> {
    if (this.#scalarMillis === undefined) {
      const out = new Map<string, number>();
      for (const e of this.#entries) {
        if (e.value.type === 'SCALAR') out.set(e.name, (out.get(e.name) ?? 0) + e.value.millis);
      }
      this.#scalarMillis = out;
    }
    return this.#scalarMillis;
  }

  /** The text form, e.g. `cpus:4;cpus(analytics):2;mem:8192;ports:[31000-32000]`; `''` when empty. */
  toString(): string {
    return formatText(this.#entries);
  }

  /**
   * The v1 JSON form: an array of `Resource` objects, frozen (copy it to change it), made once
   * per `Resources`. Parsing the same array with `fromJSON` gives these resources back without
   * parsing.
   */
  toJSON(): ResourceJSON[] {
    if (this.#json === undefined) {
      this.#json = formatJSON(this.#entries);
      madeJSON.set(this.#json, this);
    }
    return this.#json;
  }

  /**
   * `JSON.stringify(json)` for a resources array, written once per `Resources` when `json` is
   * an array `toJSON` made (frozen, so its text cannot go stale): what a bus writes for every
   * offer, task and recovery carrying the same resources again.
   */
  static jsonText(json: unknown): string {
    const known = typeof json === 'object' && json !== null ? madeJSON.get(json) : undefined;
    if (known === undefined) return JSON.stringify(json);
    return (known.#jsonText ??= JSON.stringify(known.#json));
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Resources(${this.toString()})`;
  }

  #filter(keep: (e: ResourceEntry) => boolean): Resources {
    const out = this.#entries.filter(keep);
    return out.length === this.#entries.length ? this : new Resources(out);
  }
}

function checkSameType(x: ResourceEntry, y: ResourceEntry): void {
  if (x.value.type !== y.value.type) {
    throw new InvalidResourceError(
      y.name,
      `'${y.name}' is already a ${x.value.type} resource and cannot also be ${y.value.type}`,
    );
  }
}

/** Entries with the same name are adjacent (sorted by key); they must share a type. */
function checkNameTypes(entries: readonly ResourceEntry[]): void {
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!;
    const e = entries[i]!;
    if (prev.name === e.name) checkSameType(prev, e);
  }
}
