/**
 * The only source of time in `src/` and `actors/`, as libprocess's `Clock`.
 *
 * Running, it follows the wall clock and fires timers from one real `setTimeout`. Paused, time
 * stands still until `advance(ms)` moves it, firing every timer that falls due in order, so tests
 * of timeouts and retries never sleep. xstate actors get the same clock through `clock.xstate`
 * (or `Process.createMachine`), so pausing it also pauses every machine's delayed transitions.
 *
 * @example
 * clock.pause();
 * clock.setTimer(10_000, () => retry());
 * clock.advance(10_000); // `retry` has run
 */
export class Clock {
  #paused = false;
  /** Virtual time while paused. */
  #pausedAt = 0;
  /** Virtual minus wall time while running (grows with `advance` in a previous pause). */
  #offset = 0;
  #heap: TimerEntry[] = [];
  #seq = 0;
  #live = 0;
  #real: ReturnType<typeof setTimeout> | undefined;
  #realDue = Infinity;
  #firing = false;

  /** Milliseconds since the epoch, as this clock sees them. */
  now(): number {
    return this.#paused ? this.#pausedAt : Date.now() + this.#offset;
  }

  isPaused(): boolean {
    return this.#paused;
  }

  /** Stops time. Timers stay armed and fire only through `advance`. */
  pause(): void {
    if (this.#paused) return;
    this.#pausedAt = this.now();
    this.#paused = true;
    this.#disarm();
  }

  /** Lets time flow again from where it stood. */
  resume(): void {
    if (!this.#paused) return;
    this.#offset = this.#pausedAt - Date.now();
    this.#paused = false;
    this.#arm();
  }

  /**
   * Moves paused time forward by `ms`, firing every timer due by then, earliest first. Time steps
   * to each timer's due time as it fires, so a timer armed by a firing one (a retry with backoff)
   * fires too if it falls within the same advance.
   */
  advance(ms: number): void {
    if (!this.#paused) throw new Error('Clock.advance() needs a paused clock');
    if (!(ms >= 0)) throw new Error(`Clock.advance(${ms}): must be a non-negative number`);
    const target = this.#pausedAt + ms;
    this.#stepTarget = target;
    try {
      this.fireDue();
    } finally {
      this.#stepTarget = undefined;
      this.#pausedAt = target;
    }
  }

  /**
   * Runs `hook` after each timer that fires during `advance`, before the next one. Runtimes use
   * it to run the work a timer enqueued (a handler that re-arms a periodic timer), so that one
   * `advance(9_000)` behaves like nine `advance(1_000)`s of a clock ticking by itself.
   */
  onAdvanceStep(hook: () => void): () => void {
    this.#stepHooks.push(hook);
    return () => {
      const i = this.#stepHooks.indexOf(hook);
      if (i >= 0) this.#stepHooks.splice(i, 1);
    };
  }

  readonly #stepHooks: (() => void)[] = [];

  /** While advancing: the time to step towards. */
  #stepTarget: number | undefined;

  /** Calls `fn` once after `ms` (clock time). */
  setTimer(ms: number, fn: () => void): Timer {
    const entry = new TimerEntry(this, this.now() + Math.max(0, ms || 0), this.#seq++, fn);
    heapPush(this.#heap, entry);
    this.#live++;
    if (!this.#paused && entry.due < this.#realDue) this.#arm();
    return entry;
  }

  /** Number of armed timers (not cancelled, not fired). */
  get pendingTimers(): number {
    return this.#live;
  }

  /** Whether some timer is due now. */
  hasDue(): boolean {
    this.#prune();
    const top = this.#heap[0];
    return top !== undefined && top.due <= this.now();
  }

  /** Fires every due timer, earliest first, including ones that become due while firing. */
  fireDue(): number {
    if (this.#firing) return 0;
    this.#firing = true;
    let fired = 0;
    let failure: unknown;
    try {
      for (;;) {
        this.#prune();
        const top = this.#heap[0];
        const horizon = this.#stepTarget ?? this.now();
        if (top === undefined || top.due > horizon) break;
        if (this.#stepTarget !== undefined && top.due > this.#pausedAt) this.#pausedAt = top.due;
        heapPop(this.#heap);
        top.state = FIRED;
        this.#live--;
        fired++;
        try {
          top.fn();
          if (this.#stepTarget !== undefined) for (const hook of this.#stepHooks) hook();
        } catch (error) {
          failure ??= error;
        }
      }
    } finally {
      this.#firing = false;
      if (!this.#paused) this.#arm();
    }
    if (failure !== undefined) throw failure;
    return fired;
  }

  /** @internal */
  cancelEntry(entry: TimerEntry): void {
    if (entry.state !== ARMED) return;
    entry.state = CANCELLED;
    this.#live--;
  }

  /** The adapter xstate's `createActor(machine, { clock })` takes. */
  readonly xstate = {
    setTimeout: (fn: (...args: unknown[]) => void, ms: number): unknown => this.setTimer(ms, fn),
    clearTimeout: (id: unknown): void => {
      if (id instanceof TimerEntry) id.cancel();
    },
  };

  #prune(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.state !== ARMED) heapPop(this.#heap);
  }

  #disarm(): void {
    if (this.#real !== undefined) clearTimeout(this.#real);
    this.#real = undefined;
    this.#realDue = Infinity;
  }

  #arm(): void {
    this.#prune();
    const top = this.#heap[0];
    if (top === undefined) {
      this.#disarm();
      return;
    }
    if (top.due === this.#realDue && this.#real !== undefined) return;
    this.#disarm();
    this.#realDue = top.due;
    const wait = Math.min(MAX_TIMEOUT, Math.max(0, top.due - this.now()));
    this.#real = setTimeout(() => {
      this.#real = undefined;
      this.#realDue = Infinity;
      this.fireDue();
    }, wait);
    // A pending timer must not keep a finished program alive (libprocess timers do not either).
    this.#real.unref?.();
  }
}

/** A handle on an armed timer. */
export interface Timer {
  /** Clock time at which it fires. */
  readonly due: number;
  /** Disarms the timer; a no-op once it fired. */
  cancel(): void;
}

const ARMED = 0;
const FIRED = 1;
const CANCELLED = 2;
const MAX_TIMEOUT = 2 ** 31 - 1;

class TimerEntry implements Timer {
  state = ARMED;
  constructor(
    readonly clock: Clock,
    readonly due: number,
    readonly seq: number,
    readonly fn: () => void,
  ) {}
  cancel(): void {
    this.clock.cancelEntry(this);
  }
}

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function heapPush(heap: TimerEntry[], entry: TimerEntry): void {
  heap.push(entry);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function heapPop(heap: TimerEntry[]): TimerEntry | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
    if (m === i) break;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
  return top;
}

/**
 * A wall-clock wait, for the few places that must not follow a paused clock (how long `settle`
 * waits for a peer on the bus to answer a barrier). Never use it for protocol timeouts.
 */
export function wallClockDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wall-clock milliseconds, for measuring (benchmarks, timers in metrics). */
export function wallClockNow(): number {
  return performance.now();
}

/**
 * A wall-clock timer, for the one thing that must follow real time whatever the Clock says:
 * whether a peer runtime is still there (its heartbeats come on its own clock, as TCP keepalives
 * do). It keeps the program alive while armed, as an open connection would. Actor timers always
 * use the `Clock`.
 */
export function wallClockTimer(ms: number, fn: () => void): Timer {
  const due = wallClockNow() + ms;
  const handle = setTimeout(fn, ms);
  return { due, cancel: () => clearTimeout(handle) };
}

/** The clock runtimes share unless given their own (libprocess has one per OS process). */
export const defaultClock = new Clock();
