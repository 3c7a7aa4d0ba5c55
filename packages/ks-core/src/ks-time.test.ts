// Tests of KsTime conversions, ManualClock ordering, SystemClock and correlated time.
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { correlate, SystemClock } from './clock.js';
import { ManualClock } from './manual-clock.js';
import { PinClock } from './pin-clock.js';
import {
  frameIntervalFromRate,
  frameTime,
  fromMicroseconds,
  fromMilliseconds,
  fromNanoseconds,
  fromSeconds,
  ksTime,
  rateFromFrameInterval,
  toMilliseconds,
  toNanoseconds,
  type KsTime,
} from './ks-time.js';

describe('KsTime', () => {
  it('converts units exactly', () => {
    expect(fromSeconds(1)).toBe(10_000_000n);
    expect(fromMilliseconds(1)).toBe(10_000n);
    expect(fromMicroseconds(3)).toBe(30n);
    expect(fromNanoseconds(1_234n)).toBe(12n);
    expect(toNanoseconds(ksTime(5))).toBe(500n);
    expect(toMilliseconds(ksTime(25_000))).toBe(2.5);
    expect(() => ksTime(1.5)).toThrow(TypeError);
    expect(() => fromMilliseconds(0.5)).toThrow(TypeError);
  });

  it('computes frame intervals as AvgTimePerFrame is written', () => {
    expect(frameIntervalFromRate(30)).toBe(333_333n);
    expect(frameIntervalFromRate(30000, 1001)).toBe(333_667n);
    expect(frameIntervalFromRate(25)).toBe(400_000n);
    expect(rateFromFrameInterval(ksTime(400_000))).toBe(25);
    expect(() => frameIntervalFromRate(0)).toThrow(RangeError);
    expect(() => rateFromFrameInterval(ksTime(0))).toThrow(RangeError);
  });

  it('frame times are start + n × period, never accumulated (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.bigInt({ min: 1n, max: 10_000_000n }),
        (start, n, period) => {
          expect(frameTime(start as KsTime, n, period as KsTime)).toBe(start + BigInt(n) * period);
        },
      ),
    );
  });
});

describe('ManualClock', () => {
  it('fires callbacks in (time, scheduling) order with now() at their due time', () => {
    const c = new ManualClock(100n);
    const seen: string[] = [];
    c.schedule(ksTime(300), () => seen.push(`b@${c.now()}`));
    c.schedule(ksTime(200), () => {
      seen.push(`a@${c.now()}`);
      c.schedule(ksTime(250), () => seen.push(`nested@${c.now()}`));
    });
    c.schedule(ksTime(300), () => seen.push(`c@${c.now()}`));
    const cancelled = c.schedule(ksTime(150), () => seen.push('never'));
    cancelled.cancel();
    expect(c.advance(ksTime(250))).toBe(4);
    expect(seen).toEqual(['a@200', 'nested@250', 'b@300', 'c@300']);
    expect(c.now()).toBe(350n);
    expect(c.pendingCount).toBe(0);
  });

  it('refuses to go backwards and reports callback errors after reaching the target', () => {
    const c = new ManualClock();
    let ran = false;
    c.schedule(ksTime(1), () => {
      throw new Error('boom');
    });
    c.schedule(ksTime(2), () => (ran = true));
    expect(() => c.advance(ksTime(5))).toThrow('boom');
    expect(ran).toBe(true);
    expect(c.now()).toBe(5n);
    expect(() => c.advance(ksTime(-1))).toThrow(RangeError);
    expect(() => c.set(ksTime(4))).toThrow(RangeError);
  });

  it('runAll advances through pending callbacks', () => {
    const c = new ManualClock();
    let n = 0;
    const again = (): void => {
      if (++n < 5) c.schedule(ksTime(c.now() + 10n), again);
    };
    c.schedule(ksTime(10), again);
    expect(c.runAll()).toBe(5);
    expect(c.now()).toBe(50n);
  });
});

describe('SystemClock and correlated time', () => {
  it('is monotonic and fires scheduled callbacks', async () => {
    const c = new SystemClock();
    const a = c.now();
    const b = c.now();
    expect(b >= a).toBe(true);
    await new Promise<void>((resolve) => c.schedule(ksTime(c.now() + 10_000n), resolve));
    const h = c.schedule(ksTime(c.now() + 10_000_000n), () => {
      throw new Error('cancelled callback ran');
    });
    h.cancel();
    const pair = correlate(new ManualClock(5n), new ManualClock(7n));
    expect(pair).toEqual({ time: 5n, systemTime: 7n });
  });

  it('PinClock runs only while its pin runs and correlates with the reference', () => {
    const ref = new ManualClock(1_000n);
    const clock = new PinClock(ref);
    ref.advance(ksTime(100));
    expect(clock.now()).toBe(0n);
    const fired: bigint[] = [];
    clock.schedule(ksTime(50), () => fired.push(clock.now()));
    clock.start();
    ref.advance(ksTime(30));
    expect(clock.now()).toBe(30n);
    clock.pause();
    ref.advance(ksTime(100));
    expect(clock.now()).toBe(30n);
    expect(fired).toEqual([]);
    clock.start();
    ref.advance(ksTime(20));
    expect(fired).toEqual([50n]);
    expect(clock.correlatedTime()).toEqual({ time: 50n, systemTime: ref.now() });
    clock.reset();
    expect(clock.now()).toBe(0n);
  });
});
