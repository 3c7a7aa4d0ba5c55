// Tests of StreamHeader: field round trips, independence of slots, reset, layout constants.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FramePool, SLOT_HEADER_BYTES, SlotState } from './frame-pool.js';
import {
  FrameFlags,
  FrameStatus,
  STREAM_HEADER_LAYOUT,
  StreamHeader,
  frameStatusName,
} from './stream-header.js';

describe('StreamHeader', () => {
  it('round-trips every field per slot without touching the neighbours or the state word', () => {
    fc.assert(
      fc.property(
        fc.record({
          bytesUsed: fc.nat(0x7fffffff),
          flags: fc.nat(0x3ff),
          status: fc.constantFrom(...Object.values(FrameStatus)),
          dropCount: fc.nat(0x7fffffff),
          contentIndex: fc.integer({ min: -1, max: 0x7fffffff }),
          cookie: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
          region: fc.nat(),
          sequence: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
          presentationTime: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          duration: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        }),
        (v) => {
          const pool = FramePool.allocate({ slotCount: 3, dataBytes: 64 });
          const h = pool.headers;
          h.setBytesUsed(1, v.bytesUsed);
          h.setFlags(1, v.flags);
          h.setStatus(1, v.status);
          h.setDropCount(1, v.dropCount);
          h.setContentIndex(1, v.contentIndex);
          h.setCookie(1, v.cookie);
          h.setRegion(1, v.region | 0);
          h.setSequence(1, v.sequence);
          h.setPresentationTime(1, v.presentationTime);
          h.setDuration(1, v.duration);
          expect([
            h.bytesUsed(1),
            h.flags(1),
            h.status(1),
            h.dropCount(1),
            h.contentIndex(1),
            h.cookie(1),
          ]).toEqual([v.bytesUsed, v.flags, v.status, v.dropCount, v.contentIndex, v.cookie]);
          expect(h.region(1)).toBe(v.region | 0);
          expect(h.sequence(1)).toBe(v.sequence);
          expect(h.presentationTime(1)).toBe(v.presentationTime);
          expect(h.duration(1)).toBe(v.duration);
          for (const s of [0, 2]) {
            expect([h.bytesUsed(s), h.sequence(s), h.presentationTime(s), h.contentIndex(s)]).toEqual([
              0,
              0,
              0n,
              -1,
            ]);
          }
          expect(pool.census().free).toBe(3);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reset clears the fields but keeps the generation count', () => {
    const pool = FramePool.allocate({ slotCount: 1, dataBytes: 64 });
    const h = pool.headers;
    pool.transition(0, SlotState.Free, SlotState.Queued);
    pool.transition(0, SlotState.Queued, SlotState.Free);
    h.setBytesUsed(0, 5);
    h.setPresentationTime(0, 9n);
    h.reset(0);
    expect([h.bytesUsed(0), h.presentationTime(0), h.generation(0)]).toEqual([0, 0n, 1]);
  });

  it('publishes a byte layout that matches the accessors', () => {
    const pool = FramePool.allocate({ slotCount: 2, dataBytes: 64 });
    pool.headers.setPresentationTime(1, 0x0102030405060708n);
    pool.headers.setBytesUsed(1, 1234);
    const view = new DataView(
      pool.buffer,
      pool.layout.headerOffset + SLOT_HEADER_BYTES,
      STREAM_HEADER_LAYOUT.bytes,
    );
    expect(view.getBigInt64(STREAM_HEADER_LAYOUT.presentationTime, true)).toBe(0x0102030405060708n);
    expect(view.getInt32(STREAM_HEADER_LAYOUT.bytesUsed, true)).toBe(1234);
    expect(STREAM_HEADER_LAYOUT.bytes).toBe(SLOT_HEADER_BYTES);
  });

  it('rejects a header block that is not 8-aligned', () => {
    expect(() => new StreamHeader(new SharedArrayBuffer(256), 4, 1)).toThrow(RangeError);
  });

  it('uses the KSSTREAM_HEADER_OPTIONSF values and names statuses', () => {
    expect(FrameFlags.TimeValid).toBe(0x10);
    expect(FrameFlags.DurationValid).toBe(0x100);
    expect(FrameFlags.EndOfStream).toBe(0x200);
    expect(frameStatusName(FrameStatus.Disconnected)).toBe('Disconnected');
    expect(frameStatusName(42)).toBe('Unknown(42)');
  });
});
