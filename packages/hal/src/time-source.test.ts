// Tests of the injected time sources.
import { describe, expect, it } from '@jest/globals';
import { ManualTimeSource, SystemTimeSource } from './time-source.js';

describe('ManualTimeSource', () => {
  it('runs due callbacks in time then scheduling order, including ones scheduled while advancing', () => {
    const t = new ManualTimeSource(100n);
    const log: string[] = [];
    t.schedule(300n, () => log.push(`b@${t.now()}`));
    t.schedule(200n, () => {
      log.push(`a@${t.now()}`);
      t.schedule(250n, () => log.push(`c@${t.now()}`));
    });
    t.schedule(300n, () => log.push(`d@${t.now()}`));
    const cancelled = t.schedule(250n, () => log.push('never'));
    cancelled.cancel();
    t.advance(150n);
    expect(log).toEqual(['a@200', 'c@250']);
    t.advanceTo(400n);
    expect(log).toEqual(['a@200', 'c@250', 'b@300', 'd@300']);
    expect(t.now()).toBe(400n);
    expect(t.pendingCount).toBe(0);
  });

  it('refuses to go back in time', () => {
    const t = new ManualTimeSource(5n);
    expect(() => t.advanceTo(4n)).toThrow(RangeError);
    expect(() => t.advance(-1n)).toThrow(RangeError);
    expect(() => new ManualTimeSource(-1n)).toThrow(RangeError);
  });
});

describe('SystemTimeSource', () => {
  it('is monotonic and never fires before the deadline', async () => {
    const t = new SystemTimeSource();
    const a = t.now();
    const deadline = a + 20_000n; // 2 ms
    const firedAt = await new Promise<bigint>((resolve) => t.schedule(deadline, () => resolve(t.now())));
    expect(firedAt >= deadline).toBe(true);
    let ran = false;
    t.schedule(t.now(), () => (ran = true)).cancel();
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(false);
  });
});
