// ManualClock: a deterministic Clock for tests that only moves when told to and fires callbacks in time order.
import type { Clock, ScheduledCallback } from './clock.js';
import { ksTime, type KsTime } from './ks-time.js';

interface Pending {
  readonly at: KsTime;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that stands still until {@link advance} or {@link set} moves it. Callbacks fire
 * synchronously inside those calls, in (time, scheduling order) order, with `now()` equal to each
 * callback's due time, so a test sees exactly the sequence a real clock would produce, without
 * racing real time. Callbacks scheduled while firing are honoured if they fall within the target.
 */
export class ManualClock implements Clock {
  #now: KsTime;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(start: KsTime | bigint | number = 0n) {
    this.#now = ksTime(start);
  }

  now(): KsTime {
    return this.#now;
  }

  schedule(at: KsTime, callback: () => void): ScheduledCallback {
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    const entry: Pending = { at: ksTime(at), seq: this.#seq++, callback, cancelled: false };
    this.#pending.push(entry);
    return {
      cancel: (): void => {
        entry.cancelled = true;
      },
    };
  }

  /** Number of scheduled, not yet fired, not cancelled callbacks. */
  get pendingCount(): number {
    return this.#pending.filter((p) => !p.cancelled).length;
  }

  /** Due time of the earliest pending callback, or `undefined`. */
  nextDue(): KsTime | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending) if (!p.cancelled && (best === undefined || p.at < best.at)) best = p;
    return best?.at;
  }

  /**
   * Moves time forward by `delta` (100 ns units), firing due callbacks in order.
   * @returns how many callbacks fired.
   * @throws RangeError for a negative delta; rethrows the first callback error after time has
   *   reached the target (the remaining callbacks still fire).
   */
  advance(delta: KsTime | bigint | number): number {
    const d = ksTime(delta);
    if (d < 0n) throw new RangeError(`ManualClock cannot go backwards (delta ${d})`);
    return this.set((this.#now + d) as KsTime);
  }

  /**
   * Sets the time to `to` (not earlier than now), firing due callbacks in order.
   * @returns how many callbacks fired.
   */
  set(to: KsTime | bigint | number): number {
    const target = ksTime(to);
    if (target < this.#now)
      throw new RangeError(`ManualClock cannot go backwards (${this.#now} → ${target})`);
    let fired = 0;
    let firstError: { error: unknown } | undefined;
    for (;;) {
      const next = this.#takeNext(target);
      if (next === undefined) break;
      if (next.at > this.#now) this.#now = next.at;
      fired++;
      try {
        next.callback();
      } catch (error) {
        firstError ??= { error };
      }
    }
    this.#now = target;
    if (firstError !== undefined) throw firstError.error;
    return fired;
  }

  /** Advances to each pending due time in turn until nothing is pending or `limit` callbacks ran. */
  runAll(limit = 10_000): number {
    let fired = 0;
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || fired >= limit) return fired;
      fired += this.set(due > this.#now ? due : this.#now);
    }
  }

  #takeNext(limit: KsTime): Pending | undefined {
    let bestIndex = -1;
    for (let i = 0; i < this.#pending.length; i++) {
      const p = this.#pending[i]!;
      if (p.cancelled || p.at > limit) continue;
      const best = bestIndex < 0 ? undefined : this.#pending[bestIndex]!;
      if (best === undefined || p.at < best.at || (p.at === best.at && p.seq < best.seq)) bestIndex = i;
    }
    if (bestIndex < 0) {
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      return undefined;
    }
    const [entry] = this.#pending.splice(bestIndex, 1);
    return entry;
  }
}
