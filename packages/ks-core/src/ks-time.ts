// KsTime: branded bigint time in 100 ns units (the KS/DirectShow REFERENCE_TIME unit) with named conversions.

/** A time or duration in 100 ns units, as KSTIME / REFERENCE_TIME. A bigint so 64-bit values stay exact. */
export type KsTime = bigint & { readonly __brand: 'KsTime' };

/** 100 ns units per second. */
export const UNITS_PER_SECOND = 10_000_000n;

/** The zero time. */
export const KS_TIME_ZERO = 0n as KsTime;

/**
 * Brands a bigint (or a safe integer number) as 100 ns units.
 * @throws TypeError for non-integer numbers or non-numeric input.
 */
export function ksTime(units: bigint | number): KsTime {
  if (typeof units === 'bigint') return units as KsTime;
  if (typeof units !== 'number' || !Number.isSafeInteger(units)) {
    throw new TypeError(`KsTime needs an integer count of 100 ns units, got ${String(units)}`);
  }
  return BigInt(units) as KsTime;
}

/** Nanoseconds → KsTime, truncating toward zero (sub-100 ns precision is not representable). */
export function fromNanoseconds(ns: bigint): KsTime {
  return (ns / 100n) as KsTime;
}

/** Microseconds → KsTime. */
export function fromMicroseconds(us: bigint | number): KsTime {
  return (BigInt(checkedInteger(us, 'microseconds')) * 10n) as KsTime;
}

/** Milliseconds → KsTime. */
export function fromMilliseconds(ms: bigint | number): KsTime {
  return (BigInt(checkedInteger(ms, 'milliseconds')) * 10_000n) as KsTime;
}

/** Whole seconds → KsTime. */
export function fromSeconds(s: bigint | number): KsTime {
  return (BigInt(checkedInteger(s, 'seconds')) * UNITS_PER_SECOND) as KsTime;
}

/** KsTime → nanoseconds (exact). */
export function toNanoseconds(t: KsTime): bigint {
  return t * 100n;
}

/** KsTime → milliseconds as a float (for display and timers, not for arithmetic). */
export function toMilliseconds(t: KsTime): number {
  return Number(t) / 10_000;
}

/** KsTime → seconds as a float (for display). */
export function toSeconds(t: KsTime): number {
  return Number(t) / 1e7;
}

/**
 * The frame interval of `numerator/denominator` frames per second, rounded to the nearest 100 ns
 * (30 fps → 333333, 30000/1001 fps → 333667), as AvgTimePerFrame is written.
 * @throws RangeError for non-positive rates.
 */
export function frameIntervalFromRate(numerator: number, denominator = 1): KsTime {
  if (
    !Number.isSafeInteger(numerator) ||
    !Number.isSafeInteger(denominator) ||
    numerator <= 0 ||
    denominator <= 0
  ) {
    throw new RangeError(`frame rate must be a positive integer ratio, got ${numerator}/${denominator}`);
  }
  const num = UNITS_PER_SECOND * BigInt(denominator);
  const den = BigInt(numerator);
  return ((num * 2n + den) / (den * 2n)) as KsTime;
}

/** Frames per second of a frame interval, as a float (for display). */
export function rateFromFrameInterval(interval: KsTime): number {
  if (interval <= 0n) throw new RangeError(`frame interval must be positive, got ${interval}`);
  return 1e7 / Number(interval);
}

/**
 * The time of frame `index`: `start + index × period`. Timestamps are always computed this way,
 * never accumulated, so they are bit-exact and repeatable however long a stream runs.
 */
export function frameTime(start: KsTime, index: bigint | number, period: KsTime): KsTime {
  return (start + BigInt(index) * period) as KsTime;
}

/** Adds durations. */
export function addTime(a: KsTime, b: KsTime): KsTime {
  return (a + b) as KsTime;
}

/** Difference `a - b`. */
export function subTime(a: KsTime, b: KsTime): KsTime {
  return (a - b) as KsTime;
}

function checkedInteger(v: bigint | number, what: string): bigint | number {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw new TypeError(`${what} must be an integer, got ${v}`);
  return v;
}
