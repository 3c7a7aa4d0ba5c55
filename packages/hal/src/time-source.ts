// Injected time for hal devices: a 100 ns bigint clock plus a scheduler, real or manual.

/** Cancels a scheduled callback; calling it after the callback ran, or twice, does nothing. */
export interface ScheduledCallback {
  cancel(): void;
}

/**
 * The time base every hal device runs on. Units are 100 ns (the KS/Windows `REFERENCE_TIME`
 * unit). ks-core's `Clock`/`ManualClock` have these two methods and are passed in as is.
 *
 * Contract: `now()` never decreases. `schedule(at, cb)` runs `cb` once, no earlier than the
 * time `at` (as seen by `now()`), from the time source's own context (a timer on the real
 * clock; inside `advance()` on a manual one); an `at` in the past runs "as soon as possible".
 * Callbacks must not throw; a thrown error is the callback owner's bug.
 */
export interface TimeSource {
  now(): bigint;
  schedule(at: bigint, callback: () => void): ScheduledCallback;
}

const UNITS_PER_MS = 10_000n;

/**
 * Real time on `process.hrtime.bigint()` (monotonic), scheduling with Node timers. Timers have
 * millisecond resolution; a timer that fires early is re-armed so callbacks never run before
 * `at`.
 */
export class SystemTimeSource implements TimeSource {
  now(): bigint {
    return process.hrtime.bigint() / 100n;
  }

  schedule(at: bigint, callback: () => void): ScheduledCallback {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const arm = (): void => {
      const remaining = at - this.now();
      if (remaining <= 0n) {
        timer = undefined;
        if (!cancelled) callback();
        return;
      }
      // Round up: a timer may not fire before the deadline we were asked for.
      const ms = Number((remaining + UNITS_PER_MS - 1n) / UNITS_PER_MS);
      timer = setTimeout(arm, ms);
    };
    const remaining = at - this.now();
    if (remaining <= 0n) timer = setTimeout(arm, 0);
    else arm();
    return {
      cancel(): void {
        cancelled = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      },
    };
  }
}

interface PendingCallback {
  at: bigint;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * Deterministic time for tests: time moves only in {@link ManualTimeSource.advance} /
 * {@link ManualTimeSource.advanceTo}, which run due callbacks in (time, scheduling order),
 * including callbacks scheduled by callbacks while advancing.
 */
export class ManualTimeSource implements TimeSource {
  private current: bigint;
  private nextOrder = 0;
  private pending: PendingCallback[] = [];

  constructor(start: bigint = 0n) {
    if (start < 0n) throw new RangeError(`start must be >= 0, got ${start}`);
    this.current = start;
  }

  now(): bigint {
    return this.current;
  }

  schedule(at: bigint, callback: () => void): ScheduledCallback {
    const entry: PendingCallback = { at, order: this.nextOrder++, callback, cancelled: false };
    this.pending.push(entry);
    return {
      cancel: (): void => {
        entry.cancelled = true;
      },
    };
  }

  /** Number of callbacks scheduled and not yet run or cancelled. */
  get pendingCount(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** Moves time forward by `delta` (>= 0), running every callback due on the way. */
  advance(delta: bigint): void {
    if (delta < 0n) throw new RangeError(`delta must be >= 0, got ${delta}`);
    this.advanceTo(this.current + delta);
  }

  /** Moves time to `target` (>= now), running every callback due on the way, in order. */
  advanceTo(target: bigint): void {
    if (target < this.current) {
      throw new RangeError(`cannot move time back from ${this.current} to ${target}`);
    }
    for (;;) {
      let best: PendingCallback | undefined;
      let bestIndex = -1;
      for (let i = 0; i < this.pending.length; i++) {
        const p = this.pending[i]!;
        if (p.cancelled || p.at > target) continue;
        if (best === undefined || p.at < best.at || (p.at === best.at && p.order < best.order)) {
          best = p;
          bestIndex = i;
        }
      }
      if (best === undefined) break;
      this.pending.splice(bestIndex, 1);
      if (best.at > this.current) this.current = best.at;
      best.callback();
    }
    this.pending = this.pending.filter((p) => !p.cancelled);
    this.current = target;
  }
}
