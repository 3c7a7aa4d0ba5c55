// Tests of the mapping queue: FIFO order across wrap-around, slot bookkeeping, atomic rejection, drain.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameStatus, type DmaMapping, type PoolGeometry } from './capture-engine.js';
import { CompletionRing, emptyCompletionRecord } from './completion-ring.js';
import { MappingQueue } from './mapping-queue.js';

const geometry: PoolGeometry = { slotCount: 6, slotStride: 256, dataOffset: 0, dataLength: 256 };

const mapping = (slot: number, cookie = slot * 10): DmaMapping => ({ slot, offset: 0, length: 64, cookie });

describe('MappingQueue', () => {
  it('keeps FIFO order across wrap-around and frees a slot when its mapping completes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 30 }), (batches) => {
        const q = new MappingQueue(4);
        q.resetPool(geometry.slotCount);
        const model: DmaMapping[] = [];
        let next = 0;
        for (const size of batches) {
          // Program up to `size` free slots (as an engine's owner would), then complete one.
          const free = [0, 1, 2, 3, 4, 5].filter((s) => !model.some((m) => m.slot === s));
          const batch = free.slice(0, Math.min(size, q.capacity - q.count)).map((s) => mapping(s, next++));
          q.push(batch, geometry);
          model.push(...batch);
          expect(q.count).toBe(model.length);
          const head = model.shift();
          if (head === undefined) continue;
          expect([q.headSlot, q.headOffset, q.headLength, q.headCookie]).toEqual([
            head.slot,
            head.offset,
            head.length,
            head.cookie,
          ]);
          q.shift();
          // The completed slot can be programmed again at once; a queued one cannot.
          expect(() => q.push([mapping(head.slot)], geometry)).not.toThrow();
          model.push(mapping(head.slot));
          const queued = model[0];
          if (queued !== undefined && q.count < q.capacity) {
            expect(() => q.push([mapping(queued.slot)], geometry)).toThrow(RangeError);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('rejects a bad list whole and refuses more than its capacity', () => {
    const q = new MappingQueue(3);
    q.resetPool(geometry.slotCount);
    q.push([mapping(0)], geometry);
    expect(() => q.push([mapping(1), mapping(9)], geometry)).toThrow(RangeError);
    expect(() => q.push([mapping(1), mapping(1)], geometry)).toThrow(/twice/);
    expect(() => q.push([mapping(1), mapping(2), mapping(3)], geometry)).toThrow(/at most 3/);
    expect(q.count).toBe(1);
    expect(() => q.resetPool(4)).toThrow(RangeError);
    expect(() => new MappingQueue(0)).toThrow(RangeError);
  });

  it('drain completes every queued mapping in order with the status and no data', () => {
    const ring = CompletionRing.create(8);
    const q = new MappingQueue(ring.capacity);
    q.resetPool(geometry.slotCount);
    q.push([mapping(4, 1.5), mapping(2, 7)], geometry);
    const record = emptyCompletionRecord();
    record.bytesUsed = 99;
    expect(q.drain(FrameStatus.Cancelled, record, ring)).toBe(2);
    expect(q.count).toBe(0);
    expect(q.drain(FrameStatus.Cancelled, record, ring)).toBe(0);
    const out = emptyCompletionRecord();
    const seen: Array<[number, number, number, number]> = [];
    for (let i = 0; ring.read(i, out); i++) seen.push([out.slot, out.cookie, out.status, out.bytesUsed]);
    expect(seen).toEqual([
      [4, 1.5, FrameStatus.Cancelled, 0],
      [2, 7, FrameStatus.Cancelled, 0],
    ]);
    // Both slots are free again.
    expect(() => q.push([mapping(4), mapping(2)], geometry)).not.toThrow();
  });
});
