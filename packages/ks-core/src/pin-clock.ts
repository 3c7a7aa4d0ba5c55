// PinClock: a clock a pin provides (stream time that runs only while the pin runs), assignable as master clock; correlated time.
import type { Clock, CorrelatedTime, ScheduledCallback } from './clock.js';
import type { KsTime } from './ks-time.js';

interface Waiter {
  readonly at: KsTime;
  readonly callback: () => void;
  handle: ScheduledCallback | undefined;
  done: boolean;
}

/**
 * The clock of a pin whose descriptor says `providesClock` (KSPIN_DESCRIPTOR_EX clock dispatch).
 * Its time is the pin's stream time: it starts at 0, advances with the reference clock while the
 * pin is in RUN and stands still otherwise, as a KS presentation clock does. Other pins may use it
 * as their master clock (`pin.setMasterClock(clock)`).
 */
export class PinClock implements Clock {
  readonly #reference: Clock;
  #base: KsTime = 0n as KsTime;
  #runningSince: KsTime | undefined;
  readonly #waiters = new Set<Waiter>();

  /** @param reference the device's clock that real time comes from (borrowed). */
  constructor(reference: Clock) {
    this.#reference = reference;
  }

  /** Whether the owning pin is running (time advances). */
  get running(): boolean {
    return this.#runningSince !== undefined;
  }

  now(): KsTime {
    return this.#runningSince === undefined
      ? this.#base
      : ((this.#base + (this.#reference.now() - this.#runningSince)) as KsTime);
  }

  /** KSPROPERTY_CLOCK_CORRELATEDTIME: this clock's time and the reference time, read together. */
  correlatedTime(): CorrelatedTime {
    const systemTime = this.#reference.now();
    const time =
      this.#runningSince === undefined
        ? this.#base
        : ((this.#base + (systemTime - this.#runningSince)) as KsTime);
    return Object.freeze({ time, systemTime });
  }

  schedule(at: KsTime, callback: () => void): ScheduledCallback {
    if (typeof callback !== 'function') throw new TypeError('callback must be a function');
    const w: Waiter = { at, callback, handle: undefined, done: false };
    this.#waiters.add(w);
    this.#arm(w);
    return {
      cancel: () => {
        w.done = true;
        w.handle?.cancel();
        this.#waiters.delete(w);
      },
    };
  }

  /** @internal The owning pin entered RUN. */
  start(): void {
    if (this.#runningSince !== undefined) return;
    this.#runningSince = this.#reference.now();
    for (const w of this.#waiters) this.#arm(w);
  }

  /** @internal The owning pin left RUN: time freezes, pending callbacks wait for the next run. */
  pause(): void {
    if (this.#runningSince === undefined) return;
    this.#base = this.now();
    this.#runningSince = undefined;
    for (const w of this.#waiters) {
      w.handle?.cancel();
      w.handle = undefined;
    }
  }

  /** @internal The owning pin went to STOP: stream time restarts at 0. */
  reset(): void {
    this.pause();
    this.#base = 0n as KsTime;
  }

  #arm(w: Waiter): void {
    if (w.done) return;
    const fire = (): void => {
      if (w.done) return;
      w.done = true;
      this.#waiters.delete(w);
      w.callback();
    };
    if (this.#runningSince === undefined) {
      if (w.at <= this.#base) w.handle = this.#reference.schedule(this.#reference.now(), fire);
      return;
    }
    w.handle?.cancel();
    w.handle = this.#reference.schedule((this.#runningSince + (w.at - this.#base)) as KsTime, fire);
  }
}
