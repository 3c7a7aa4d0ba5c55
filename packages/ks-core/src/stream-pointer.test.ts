// Tests of StreamPointer: leading edge stays on a cloned frame until advance, trailing edge, cloneOf, mappings reuse.
import { describe, expect, it } from '@jest/globals';
import { FramePool, SlotState } from './frame-pool.js';
import { KsStateError } from './ks-error.js';
import { ksTime } from './ks-time.js';
import { KsQueue } from './queue.js';

function running(slotCount = 3, dataBytes = 300): KsQueue {
  const q = new KsQueue(FramePool.allocate({ slotCount, dataBytes }), { name: 'ptr' });
  q.start({ start: ksTime(0), period: ksTime(1) });
  return q;
}

describe('StreamPointer', () => {
  it('the leading edge stays on a cloned frame until advance, then moves to the next one', () => {
    const q = running();
    const edge = q.leadingEdge();
    if (edge === null) throw new Error('no edge');
    const clone = edge.clone();
    expect(q.leadingEdge()).toBe(edge);
    expect(edge.slot).toBe(clone.slot);
    expect(edge.advance()).toBe(true);
    expect(edge.slot).toBe(1);
    edge.clone();
    edge.advance();
    edge.clone();
    expect(edge.advance()).toBe(false); // ran off the end: every frame is cloned
    expect(edge.active).toBe(false);
    expect(q.leadingEdge()).toBeNull();
    expect(() => edge.clone()).toThrow(KsStateError);
  });

  it('the trailing edge is the oldest undelivered clone and follows deliveries', () => {
    const q = running();
    const a = q.takeFrame();
    const b = q.takeFrame();
    expect(q.trailingEdge()?.slot).toBe(a?.slot);
    expect(q.trailingEdge()?.kind).toBe('trailing');
    expect(() => q.trailingEdge()?.complete(1)).toThrow(KsStateError);
    a?.complete(1);
    expect(q.trailingEdge()?.slot).toBe(b?.slot);
    b?.complete(1);
    expect(q.trailingEdge()).toBeNull();
  });

  it('cloneOf finds the active clone of a slot, and nothing once it completed', () => {
    const q = running();
    const a = q.takeFrame();
    if (a === null) throw new Error('no frame');
    const slot = a.slot;
    expect(q.cloneOf(slot)).toBe(a);
    expect(q.pool.state(slot)).toBe(SlotState.Mapped);
    a.complete(1);
    expect(q.cloneOf(slot)).toBeNull();
    expect(q.cloneOf(99)).toBeNull();
  });

  it('builds scatter/gather lists covering the frame, reusing the array for the same piece count', () => {
    const q = running(2, 300);
    const c = q.takeFrame();
    if (c === null) throw new Error('no frame');
    const m1 = c.mappings(128, undefined, 7);
    expect(m1.map((m) => [m.slot, m.offset, m.length, m.cookie])).toEqual([
      [c.slot, 0, 128, 7],
      [c.slot, 128, 128, 7],
      [c.slot, 256, 44, 7],
    ]);
    expect(c.mappings(100)).toBe(m1); // three pieces again: same array, refilled
    expect(c.mappings(100).map((m) => m.length)).toEqual([100, 100, 100]);
    expect(c.mappings(300, 200).map((m) => m.length)).toEqual([200]);
    c.complete(1);
    expect(() => c.mappings(100)).toThrow(KsStateError);
  });
});
