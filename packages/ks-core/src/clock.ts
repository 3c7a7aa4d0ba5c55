// Clock port (now + schedule in KsTime), the monotonic SystemClock, and correlated (clock, system) time pairs.
import { fromNanoseconds, toMilliseconds, type KsTime } from './ks-time.js';

/** Handle of a scheduled callback. `cancel()` is idempotent and safe after the callback ran. */
export interface ScheduledCallback {
  cancel(): void;
}

/**
 * A time source: ks-core's only notion of time. Injected everywhere (no `Date.now()` in the
 * core), so tests drive time with {@link ManualClock}. The HAL declares a structurally identical
 * `TimeSource`, so one object serves both sides.
 */
export interface Clock {
  /** Current time in 100 ns units; monotonic (never decreases). */
  now(): KsTime;
  /**
   * Calls `callback` once when `now() >= at` (immediately on the next turn if `at` is past).
   * Callbacks due at the same time run in scheduling order.
   */
  schedule(at: KsTime, callback: () => void): ScheduledCallback;
}

/**
 * A clock reading paired with the system (reference) time at which it was taken, as
 * KSPROPERTY_CLOCK_CORRELATEDTIME returns it. Lets a consumer map stream time onto its own clock.
 */
export interface CorrelatedTime {
  /** Reading of the clock in question. */
  readonly time: KsTime;
  /** Reading of the system clock taken at the same instant. */
  readonly systemTime: KsTime;
}

/** Reads `clock` and `system` back to back as one correlated pair. */
export function correlate(clock: Clock, system: Clock): CorrelatedTime {
  return Object.freeze({ time: clock.now(), systemTime: system.now() });
}

// Node timers overflow (and fire at once) above 2^31 - 1 ms; longer waits re-arm in steps.
const MAX_TIMER_MS = 0x7fffffff;

/**
 * The real monotonic clock (`process.hrtime.bigint()`), in 100 ns units since an arbitrary origin.
 * `schedule` uses `setTimeout`; the timer keeps the process alive until it fires or is cancelled.
 */
export class SystemClock implements Clock {
  now(): KsTime {
    return fromNanoseconds(process.hrtime.bigint());
  }

  schedule(at: KsTime, callback: () => void): ScheduledCallback {
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    const delayMs = Math.max(0, toMilliseconds((at - this.now()) as KsTime));
    // A timer may fire slightly early on some platforms; re-arm until the clock has reached `at`.
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const fire = (): void => {
      if (cancelled) return;
      const left = at - this.now();
      if (left > 0n) {
        timer = setTimeout(
          fire,
          Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(toMilliseconds(left as KsTime)))),
        );
        return;
      }
      timer = undefined;
      callback();
    };
    timer = setTimeout(fire, Math.min(MAX_TIMER_MS, Math.ceil(delayMs)));
    return {
      cancel(): void {
        cancelled = true;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      },
    };
  }
}
