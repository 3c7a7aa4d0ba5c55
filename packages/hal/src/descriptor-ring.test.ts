// Tests the descriptor ring layout: posting, completion publication and wrap-around of free-running positions.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DESCRIPTOR_BYTES, DescriptorFlag, DescriptorRing, DescriptorStatus } from './descriptor-ring.js';

describe('DescriptorRing', () => {
  it('posts and completes descriptors, resetting completion words on re-post', () => {
    const ring = DescriptorRing.allocate(4);
    expect(ring.buffer.byteLength).toBe(4 * DESCRIPTOR_BYTES);
    ring.post(0, { slot: 2, offset: 16, length: 100, cookie: 0xdeadbeef, flags: DescriptorFlag.EndOfFrame });
    expect([ring.slot(0), ring.offset(0), ring.length(0), ring.cookie(0), ring.flags(0)]).toEqual([
      2,
      16,
      100,
      0xdeadbeef,
      DescriptorFlag.EndOfFrame,
    ]);
    expect(ring.doneStatus(0)).toBe(DescriptorStatus.Pending);
    ring.complete(0, 100, DescriptorStatus.Done, 0xfffffffe);
    expect([ring.doneBytes(0), ring.doneStatus(0), ring.doneSequence(0)]).toEqual([
      100,
      DescriptorStatus.Done,
      0xfffffffe,
    ]);
    ring.post(4, { slot: 1, offset: 0, length: 1, cookie: 1, flags: 0 }); // position 4 wraps onto index 0
    expect(ring.doneStatus(0)).toBe(DescriptorStatus.Pending);
    expect(ring.slot(0)).toBe(1);
  });

  it('maps free-running positions onto indices across the 2^32 wrap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 0xffffffff }), (log2, pos) => {
        const ring = DescriptorRing.allocate(2 ** log2);
        const i = ring.indexOf(pos);
        expect(i).toBe(pos % 2 ** log2);
        expect(ring.indexOf((pos + ring.size) >>> 0)).toBe(i);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects bad sizes, bases and fields', () => {
    expect(() => DescriptorRing.allocate(3)).toThrow(RangeError);
    expect(() => DescriptorRing.allocate(8192)).toThrow(RangeError);
    expect(() => DescriptorRing.allocate(0)).toThrow(RangeError);
    const mem = new SharedArrayBuffer(4 * DESCRIPTOR_BYTES);
    expect(() => DescriptorRing.attach(mem, 8, 2)).toThrow(RangeError);
    expect(() => DescriptorRing.attach(mem, 64, 4)).toThrow(RangeError);
    expect(() => DescriptorRing.attach(new ArrayBuffer(128) as unknown as SharedArrayBuffer, 0, 4)).toThrow(
      TypeError,
    );
    const ring = DescriptorRing.attach(mem, 64, 2);
    expect(() => ring.post(0, { slot: -1, offset: 0, length: 1, cookie: 0, flags: 0 })).toThrow(RangeError);
  });
});
