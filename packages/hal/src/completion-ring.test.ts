// Tests of the shared completion ring.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CompletionRing, emptyCompletionRecord } from './completion-ring.js';

describe('CompletionRing', () => {
  it('round-trips every field and counts monotonically', () => {
    const ring = CompletionRing.create(5);
    expect(ring.capacity).toBe(8);
    const w = emptyCompletionRecord();
    Object.assign(w, {
      cookie: 12.5,
      slot: 3,
      offset: 64,
      status: 2,
      flags: 9,
      bytesUsed: 1234,
      dropsBefore: 2,
      frameIndex: 4294967296n,
      sequence: 4294967295,
      presentationTime: 9_000_000_000_000_000n,
      duration: 333333n,
    });
    ring.publish(w);
    expect(ring.count).toBe(1);
    const r = emptyCompletionRecord();
    expect(ring.read(0, r)).toBe(true);
    expect(r).toEqual(w);
    expect(ring.read(1, r)).toBe(false);
  });

  it('a reader attached through share() sees the same records; overwritten ones are refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (n) => {
        const ring = CompletionRing.create(8);
        const other = CompletionRing.attach(ring.share());
        const w = emptyCompletionRecord();
        for (let i = 0; i < n; i++) {
          w.cookie = i;
          ring.publish(w);
        }
        const r = emptyCompletionRecord();
        for (let i = 0; i < n; i++) {
          const ok = other.read(i, r);
          expect(ok).toBe(i >= n - 8);
          if (ok) expect(r.cookie).toBe(i);
        }
      }),
    );
  });

  it('rejects bad capacities and handles', () => {
    expect(() => CompletionRing.create(0)).toThrow(RangeError);
    expect(() =>
      CompletionRing.attach({ memory: new ArrayBuffer(8) as unknown as SharedArrayBuffer, capacity: 1 }),
    ).toThrow(TypeError);
    expect(() => CompletionRing.attach({ memory: new SharedArrayBuffer(8), capacity: 3 })).toThrow(
      RangeError,
    );
  });
});
