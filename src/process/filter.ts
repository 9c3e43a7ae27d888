import type { UPID } from './upid.ts';

/**
 * Test-time interception of deliveries, as libprocess's `process::filter` with gmock's
 * `FUTURE_PROTOBUF`, `DROP_PROTOBUF(S)` and `FUTURE_EXITED`.
 *
 * Every runtime in this OS process consults the one filter list at the receiver, just before an
 * event enters a mailbox, so a filter behaves the same whether the message came from the same
 * runtime, the local bus or NATS. With no filter armed the check is a single boolean test.
 */

/** A message about to be delivered to `to`. */
export interface MessageEvent {
  readonly kind: 'message';
  readonly name: string;
  readonly from: UPID;
  readonly to: UPID;
  readonly body: unknown;
}

/** The exit of `upid` about to be reported to `to`, which linked to it. */
export interface ExitedEvent {
  readonly kind: 'exited';
  readonly upid: UPID;
  readonly to: UPID;
}

export type DeliveryEvent = MessageEvent | ExitedEvent;

/** Returns true to drop the event. */
export type Filter = (event: DeliveryEvent) => boolean;

const armed: Filter[] = [];

/** @internal Whether any filter is armed: the runtime's fast path. */
export const filtering = { active: false };

/** Arms `filter`; returns a function that disarms it. */
export function addFilter(filter: Filter): () => void {
  armed.push(filter);
  filtering.active = true;
  return () => removeFilter(filter);
}

export function removeFilter(filter: Filter): void {
  const i = armed.indexOf(filter);
  if (i >= 0) armed.splice(i, 1);
  filtering.active = armed.length > 0;
}

/** Disarms every filter; pending futures stay pending. Test helpers call it after each test. */
export function resetFilters(): void {
  armed.length = 0;
  filtering.active = false;
}

/** @internal Runs the armed filters in order; true means drop. A matching filter may disarm itself. */
export function shouldDrop(event: DeliveryEvent): boolean {
  for (const filter of [...armed]) {
    if (filter(event)) return true;
  }
  return false;
}

/**
 * Matches a process: a full `UPID` (or `id@node` string) matches exactly; a bare id (`'master'`)
 * matches that id on any node; `undefined` matches anything.
 */
export type PidMatcher = UPID | string | undefined;

export function matchesPid(matcher: PidMatcher, upid: UPID): boolean {
  if (matcher === undefined) return true;
  const text = String(matcher);
  return text.includes('@') ? text === String(upid) : text === upid.id;
}

function matchesMessage(event: DeliveryEvent, name: string, from: PidMatcher, to: PidMatcher): event is MessageEvent {
  return event.kind === 'message' && event.name === name && matchesPid(from, event.from) && matchesPid(to, event.to);
}

/** Resolves with the next matching message, which is still delivered. */
export function futureMessage(name: string, from?: PidMatcher, to?: PidMatcher): Promise<MessageEvent> {
  return new Promise((resolve) => {
    const filter: Filter = (event) => {
      if (!matchesMessage(event, name, from, to)) return false;
      removeFilter(filter);
      resolve(event);
      return false;
    };
    addFilter(filter);
  });
}

/** Resolves with the next `count` matching messages (all still delivered). */
export function futureMessages(count: number, name: string, from?: PidMatcher, to?: PidMatcher): Promise<MessageEvent[]> {
  return new Promise((resolve) => {
    const seen: MessageEvent[] = [];
    const filter: Filter = (event) => {
      if (!matchesMessage(event, name, from, to)) return false;
      seen.push(event);
      if (seen.length === count) {
        removeFilter(filter);
        resolve(seen);
      }
      return false;
    };
    addFilter(filter);
  });
}

/** Drops the next matching message and resolves with it. */
export function dropMessage(name: string, from?: PidMatcher, to?: PidMatcher): Promise<MessageEvent> {
  return new Promise((resolve) => {
    const filter: Filter = (event) => {
      if (!matchesMessage(event, name, from, to)) return false;
      removeFilter(filter);
      resolve(event);
      return true;
    };
    addFilter(filter);
  });
}

/**
 * Drops every matching message until disarmed (by the returned function or `resetFilters`);
 * `dropped` lists what it dropped.
 */
export function dropMessages(
  name: string,
  from?: PidMatcher,
  to?: PidMatcher,
): { dropped: MessageEvent[]; stop: () => void } {
  const dropped: MessageEvent[] = [];
  const filter: Filter = (event) => {
    if (!matchesMessage(event, name, from, to)) return false;
    dropped.push(event);
    return true;
  };
  addFilter(filter);
  return { dropped, stop: () => removeFilter(filter) };
}

/** Resolves when the exit of a process matching `upid` is reported to one matching `to`. */
export function futureExited(upid: PidMatcher, to?: PidMatcher): Promise<ExitedEvent> {
  return new Promise((resolve) => {
    const filter: Filter = (event) => {
      if (event.kind !== 'exited' || !matchesPid(upid, event.upid) || !matchesPid(to, event.to)) return false;
      removeFilter(filter);
      resolve(event);
      return false;
    };
    addFilter(filter);
  });
}
