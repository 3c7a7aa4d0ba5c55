// Tests of SlotRing: FIFO order, capacity, counter wrap-around, consumer lock, async wake-up, property model.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SlotRing } from './slot-ring.js';
import type { SlotRingHandle } from './slot-ring.js';

/** Moves both free-running counters to `start` so wrap-around is exercised within a few operations. */
function startAt(ring: SlotRing, start: number): void {
  const w = new Int32Array(ring.share().buffer);
  w[2] = start;
  w[3] = start;
}

describe('SlotRing', () => {
  it('is FIFO and refuses pushes when full', () => {
    const r = SlotRing.create(3);
    expect(r.capacity).toBe(4);
    expect(r.pop()).toBe(-1);
    for (const id of [7, 1, 5, 0]) expect(r.push(id)).toBe(true);
    expect(r.push(9)).toBe(false);
    expect(r.size).toBe(4);
    expect([r.pop(), r.pop(), r.pop(), r.pop(), r.pop()]).toEqual([7, 1, 5, 0, -1]);
  });

  it('survives int32 counter wrap-around', () => {
    const r = SlotRing.create(4);
    startAt(r, 0x7fffffff - 2);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 4; i++) expect(r.push(round * 10 + i)).toBe(true);
      expect(r.push(99)).toBe(false);
      expect(r.size).toBe(4);
      for (let i = 0; i < 4; i++) expect(r.pop()).toBe(round * 10 + i);
      expect(r.size).toBe(0);
    }
  });

  it('property: any push/pop sequence behaves like a bounded queue, also across wrap-around', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.array(fc.oneof(fc.nat(1023), fc.constant(-1)), { maxLength: 300 }),
        (cap, start, ops) => {
          const r = SlotRing.create(cap);
          startAt(r, start);
          const model: number[] = [];
          for (const op of ops) {
            if (op >= 0) {
              const ok = r.push(op);
              expect(ok).toBe(model.length < r.capacity);
              if (ok) model.push(op);
            } else {
              expect(r.pop()).toBe(model.length > 0 ? model.shift() : -1);
            }
            expect(r.size).toBe(model.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('shares its memory through a structured-cloneable handle', () => {
    const r = SlotRing.create(2);
    const other = SlotRing.attach(structuredClone(r.share()));
    r.push(3);
    expect(other.pop()).toBe(3);
    expect(r.size).toBe(0);
    r.markEnd();
    expect(other.ends).toBe(1);
  });

  it('rejects bad capacities and handles', () => {
    expect(() => SlotRing.create(0)).toThrow(RangeError);
    expect(() => SlotRing.create(1.5)).toThrow(RangeError);
    expect(() => SlotRing.create(70000)).toThrow(RangeError);
    expect(() => SlotRing.attach({} as SlotRingHandle)).toThrow(TypeError);
    const junk = { kind: 'ksemu.slot-ring', buffer: new SharedArrayBuffer(128) } as SlotRingHandle;
    expect(() => SlotRing.attach(junk)).toThrow(TypeError);
  });

  it('attaches one consumer per epoch; an end mark detaches it and a stale detach changes nothing', () => {
    const r = SlotRing.create(2);
    expect(r.attached).toBe(false);
    expect(r.tryAttach(r.ends)).toBe(true);
    expect(r.attached).toBe(true);
    expect(r.tryAttach(r.ends)).toBe(false);
    r.detach(r.ends);
    expect(r.tryAttach(0)).toBe(true);
    r.markEnd(); // epoch 0 is over: its consumer no longer counts
    expect(r.attached).toBe(false);
    expect(r.tryAttach(1)).toBe(true);
    r.detach(0); // the old consumer detaching late must not detach the new one
    expect(r.attached).toBe(true);
    expect(r.tryAttach(1)).toBe(false);
  });

  it('pops only a matching head with popIf, and pop/popIf share one head', () => {
    const r = SlotRing.create(4);
    for (const id of [0x10, 0x21, 0x12]) r.push(id);
    expect(r.popIf(0xf0, 0x10)).toBe(0x10);
    expect(r.popIf(0xf0, 0x10)).toBe(-2); // 0x21 stays
    expect(r.size).toBe(2);
    expect(r.pop()).toBe(0x21);
    expect(r.popIf(0xf0, 0x10)).toBe(0x12);
    expect(r.popIf(0xf0, 0x10)).toBe(-1);
  });

  it('wakes an async waiter on push and on markEnd, and not before', async () => {
    const r = SlotRing.create(2);
    let seen = r.signal();
    let woke = false;
    const p = r.waitAsync(seen);
    expect(p).toBeDefined();
    void p?.then(() => (woke = true));
    await new Promise<void>((res) => setImmediate(res));
    expect(woke).toBe(false);
    r.push(1);
    await p;
    expect(woke).toBe(true);
    seen = r.signal();
    const q = r.waitAsync(seen);
    r.markEnd();
    await expect(q).resolves.toBe('ok');
    // Already changed since `seen`: no promise, the caller re-checks at once.
    expect(r.waitAsync(seen)).toBeUndefined();
  });
});
