// Tests of FramePool: layout, atomic slot state machine (unit + property), share/attach, whenAllFree.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  FramePool,
  SlotState,
  SlotStateError,
  generationOfWord,
  isLegalSlotTransition,
  slotStateName,
  stateOfWord,
} from './frame-pool.js';
import type { FramePoolHandle } from './frame-pool.js';

const YUY2_1080P = 1920 * 1080 * 2;

describe('FramePool layout', () => {
  it('aligns every slot to 64 bytes by default and to 4096 on request', () => {
    const a = FramePool.allocate({ slotCount: 3, dataBytes: 1000 });
    expect(a.layout.alignment).toBe(64);
    expect(a.layout.slotStride).toBe(1024);
    for (let s = 0; s < 3; s++) expect(a.dataOffset(s) % 64).toBe(0);
    const b = FramePool.allocate({ slotCount: 4, dataBytes: YUY2_1080P, alignment: 4096 });
    for (let s = 0; s < 4; s++) {
      expect(b.dataOffset(s) % 4096).toBe(0);
      expect(b.data(s).byteLength).toBe(YUY2_1080P);
      expect(b.data(s).byteOffset).toBe(b.dataOffset(s));
    }
    expect(b.buffer.byteLength).toBe(b.layout.byteLength);
    expect(b.layout.dataOffset).toBeGreaterThanOrEqual(64 + 4 * 64);
  });

  it('keeps plane offsets and rejects planes outside the slot', () => {
    const nv12 = FramePool.allocate({
      slotCount: 2,
      dataBytes: 640 * 480 * 1.5,
      planeOffsets: [0, 640 * 480],
    });
    expect(nv12.layout.planeOffsets).toEqual([0, 640 * 480]);
    expect(() => FramePool.allocate({ slotCount: 2, dataBytes: 100, planeOffsets: [0, 100] })).toThrow(
      RangeError,
    );
    expect(() => FramePool.allocate({ slotCount: 2, dataBytes: 100, planeOffsets: [] })).toThrow(RangeError);
    expect(() => FramePool.allocate({ slotCount: 2, dataBytes: 100, planeOffsets: [0, 50, 50] })).toThrow(
      RangeError,
    );
  });

  it('gives plane views that tile the slot data', () => {
    const y = 64 * 48;
    const p = FramePool.allocate({ slotCount: 2, dataBytes: y * 1.5, planeOffsets: [0, y] });
    const luma = p.planeData(1, 0);
    const chroma = p.planeData(1, 1);
    expect([luma.byteOffset, luma.byteLength]).toEqual([p.dataOffset(1), y]);
    expect([chroma.byteOffset, chroma.byteLength]).toEqual([p.dataOffset(1) + y, y / 2]);
    expect(p.planeData(1, 1)).toBe(chroma);
    expect(() => p.planeData(1, 2)).toThrow(RangeError);
    expect(() => p.planeData(2, 0)).toThrow(RangeError);
  });

  it('rejects bad geometry with RangeError', () => {
    expect(() => FramePool.allocate({ slotCount: 0, dataBytes: 10 })).toThrow(RangeError);
    expect(() => FramePool.allocate({ slotCount: 2.5, dataBytes: 10 })).toThrow(RangeError);
    expect(() => FramePool.allocate({ slotCount: 2, dataBytes: 0 })).toThrow(RangeError);
    expect(() => FramePool.allocate({ slotCount: 2, dataBytes: 10, alignment: 128 as 64 })).toThrow(
      RangeError,
    );
    expect(() => FramePool.allocate({ slotCount: 5000, dataBytes: 10 })).toThrow(RangeError);
  });

  it('gives out the same view object for a slot every time (no per-frame allocation)', () => {
    const p = FramePool.allocate({ slotCount: 2, dataBytes: 64 });
    expect(p.data(1)).toBe(p.data(1));
    expect(() => p.data(2)).toThrow(RangeError);
    expect(() => p.state(-1)).toThrow(RangeError);
  });
});

describe('FramePool slot states', () => {
  it('walks the full cycle and keeps the outstanding count', () => {
    const p = FramePool.allocate({ slotCount: 2, dataBytes: 64 });
    expect(p.outstanding).toBe(0);
    p.transition(0, SlotState.Free, SlotState.Queued);
    expect(p.outstanding).toBe(1);
    p.transition(0, SlotState.Queued, SlotState.Mapped);
    p.transition(0, SlotState.Mapped, SlotState.Filled);
    p.transition(0, SlotState.Filled, SlotState.Held);
    expect(p.state(0)).toBe(SlotState.Held);
    expect(p.census()).toEqual({ free: 1, queued: 0, mapped: 0, filled: 0, held: 1 });
    const gen = p.headers.generation(0);
    p.transition(0, SlotState.Held, SlotState.Free);
    expect(p.outstanding).toBe(0);
    expect(p.headers.generation(0)).toBe(gen + 1);
  });

  it('throws SlotStateError naming current and required states on a wrong-state transition', () => {
    const p = FramePool.allocate({ slotCount: 1, dataBytes: 64 });
    let err: unknown;
    try {
      p.transition(0, SlotState.Held, SlotState.Free);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SlotStateError);
    const e = err as SlotStateError;
    expect(e.current).toBe('Free');
    expect(e.required).toBe('Held');
    expect(e.message).toContain('slot 0 is Free');
    expect(p.outstanding).toBe(0);
  });

  it('throws on a transition that is not in the state machine even if the slot is in `from`', () => {
    const p = FramePool.allocate({ slotCount: 1, dataBytes: 64 });
    expect(() => p.transition(0, SlotState.Free, SlotState.Held)).toThrow(SlotStateError);
    expect(() => p.tryTransition(0, SlotState.Free, SlotState.Filled)).toThrow(SlotStateError);
    expect(p.state(0)).toBe(SlotState.Free);
  });

  it('tryTransition returns false when the slot moved on', () => {
    const p = FramePool.allocate({ slotCount: 1, dataBytes: 64 });
    expect(p.tryTransition(0, SlotState.Free, SlotState.Queued)).toBe(true);
    expect(p.tryTransition(0, SlotState.Free, SlotState.Queued)).toBe(false);
    expect(p.outstanding).toBe(1);
  });

  it('cancel paths return Queued, Mapped and Filled slots to Free', () => {
    const p = FramePool.allocate({ slotCount: 3, dataBytes: 64 });
    for (let s = 0; s < 3; s++) p.transition(s, SlotState.Free, SlotState.Queued);
    p.transition(1, SlotState.Queued, SlotState.Mapped);
    p.transition(2, SlotState.Queued, SlotState.Mapped);
    p.transition(2, SlotState.Mapped, SlotState.Filled);
    p.transition(0, SlotState.Queued, SlotState.Free);
    p.transition(1, SlotState.Mapped, SlotState.Free);
    p.transition(2, SlotState.Filled, SlotState.Free);
    expect(p.outstanding).toBe(0);
  });

  it('property: random operation sequences never reach an illegal state and keep the balance', () => {
    const op = fc.record({ slot: fc.nat(3), from: fc.nat(4), to: fc.nat(4) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const p = FramePool.allocate({ slotCount: 4, dataBytes: 64 });
        const model = [0, 0, 0, 0];
        for (const { slot, from, to } of ops) {
          const legal = isLegalSlotTransition(from, to);
          const ok = legal && model[slot] === from;
          if (ok) {
            p.transition(slot, from as SlotState, to as SlotState);
            model[slot] = to;
          } else {
            expect(() => p.transition(slot, from as SlotState, to as SlotState)).toThrow(SlotStateError);
          }
          for (let s = 0; s < 4; s++) expect(p.state(s)).toBe(model[s]);
          expect(p.outstanding).toBe(model.filter((m) => m !== SlotState.Free).length);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('consumer tokens: take by generation tag, release exactly once, a release after revocation is a counted no-op', () => {
    const p = FramePool.allocate({ slotCount: 1, dataBytes: 64 });
    const deliver = (): number => {
      p.transition(0, SlotState.Free, SlotState.Queued);
      p.transition(0, SlotState.Queued, SlotState.Mapped);
      p.transition(0, SlotState.Mapped, SlotState.Filled);
      return p.generation(0) & 0x7ff;
    };
    const tag = deliver();
    expect(p.takeFilled(0, (tag + 1) & 0x7ff, 11)).toBe(-1); // another generation: not this frame
    const token = p.takeFilled(0, tag, 11);
    expect(stateOfWord(token)).toBe(SlotState.Held);
    expect(generationOfWord(token)).toBe(p.generation(0));
    expect(p.stateWord(0)).toBe(token);
    // Stop revokes it; the next run delivers the slot again and a new consumer takes it.
    expect(p.tryTransition(0, SlotState.Held, SlotState.Free)).toBe(true);
    const next = p.takeFilled(0, deliver(), 11);
    expect(next).not.toBe(token);
    expect(p.releaseHeld(0, token)).toBe(false);
    expect(p.staleReleases).toBe(1);
    expect(p.stateWord(0)).toBe(next); // the new owner's frame is untouched
    expect(p.outstanding).toBe(1);
    expect(p.releaseHeld(0, next)).toBe(true);
    expect(p.releaseHeld(0, next)).toBe(false); // the token is spent
    expect(p.outstanding).toBe(0);
    // A delivered frame given back untaken, and a take that loses to the reclaim.
    const t = deliver();
    expect(p.returnFilled(0, t, 11)).toBe(true);
    expect(p.takeFilled(0, t, 11)).toBe(-1);
    expect(p.returnFilled(0, t, 11)).toBe(false);
    expect(p.outstanding).toBe(0);
  });

  it('property: stale tokens never move a slot, whatever happened to it since', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3), { minLength: 1, maxLength: 60 }), (ops) => {
        const p = FramePool.allocate({ slotCount: 1, dataBytes: 64 });
        const old: number[] = [];
        for (const op of ops) {
          const state = p.state(0);
          if (op === 0 && state === SlotState.Free) {
            p.transition(0, SlotState.Free, SlotState.Queued);
            p.transition(0, SlotState.Queued, SlotState.Mapped);
            p.transition(0, SlotState.Mapped, SlotState.Filled);
          } else if (op === 1 && state === SlotState.Filled) {
            old.push(p.takeFilled(0, p.generation(0) & 0x7ff, 11));
          } else if (op === 2 && state === SlotState.Held) {
            p.transition(0, SlotState.Held, SlotState.Free); // revoke
          } else if (op === 3) {
            const before = p.stateWord(0);
            for (const token of old.slice(0, -1)) expect(p.releaseHeld(0, token)).toBe(false);
            expect(p.stateWord(0)).toBe(before);
          }
          expect(p.outstanding).toBe(p.state(0) === SlotState.Free ? 0 : 1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('names states for messages', () => {
    expect(slotStateName(SlotState.Mapped)).toBe('Mapped');
    expect(slotStateName(9)).toBe('Invalid(9)');
  });
});

describe('FramePool share/attach', () => {
  it('attaches to the same memory and states', () => {
    const p = FramePool.allocate({ slotCount: 2, dataBytes: 128, planeOffsets: [0, 64] });
    const handle = structuredClone(p.share());
    const q = FramePool.attach(handle);
    expect(q.layout).toEqual(p.layout);
    p.data(1)[5] = 42;
    expect(q.data(1)[5]).toBe(42);
    q.transition(1, SlotState.Free, SlotState.Queued);
    expect(p.state(1)).toBe(SlotState.Queued);
    expect(p.outstanding).toBe(1);
    p.headers.setPresentationTime(1, 123456789012345n);
    expect(q.headers.presentationTime(1)).toBe(123456789012345n);
  });

  it('rejects handles that are not pools with TypeError', () => {
    expect(() => FramePool.attach({} as FramePoolHandle)).toThrow(TypeError);
    expect(() => FramePool.attach(null as unknown as FramePoolHandle)).toThrow(TypeError);
    const notShared = {
      kind: 'ksemu.frame-pool',
      buffer: new ArrayBuffer(256),
    } as unknown as FramePoolHandle;
    expect(() => FramePool.attach(notShared)).toThrow(TypeError);
    const junk = { kind: 'ksemu.frame-pool', buffer: new SharedArrayBuffer(256) } as FramePoolHandle;
    expect(() => FramePool.attach(junk)).toThrow(TypeError);
    const p = FramePool.allocate({ slotCount: 2, dataBytes: 64 });
    new Int32Array(p.buffer)[3] = 1 << 20; // corrupt dataBytes
    expect(() => FramePool.attach(p.share())).toThrow(TypeError);
  });
});

describe('FramePool.whenAllFree', () => {
  it('resolves at once when every slot is free', async () => {
    const p = FramePool.allocate({ slotCount: 2, dataBytes: 64 });
    await expect(p.whenAllFree()).resolves.toBeUndefined();
  });

  it('resolves only after the last slot is freed', async () => {
    const p = FramePool.allocate({ slotCount: 2, dataBytes: 64 });
    p.transition(0, SlotState.Free, SlotState.Queued);
    p.transition(1, SlotState.Free, SlotState.Queued);
    let done = false;
    const w = p.whenAllFree().then(() => (done = true));
    p.transition(0, SlotState.Queued, SlotState.Free);
    await Promise.resolve();
    await new Promise<void>((r) => setImmediate(r));
    expect(done).toBe(false);
    p.transition(1, SlotState.Queued, SlotState.Free);
    await w;
    expect(done).toBe(true);
  });
});

describe('FramePool memory option', () => {
  it('builds the pool in the supplied SharedArrayBuffer', () => {
    let asked = 0;
    const pool = FramePool.allocate(
      { slotCount: 2, dataBytes: 100 },
      {
        memory: (bytes) => {
          asked = bytes;
          return new SharedArrayBuffer(bytes + 65536);
        },
      },
    );
    expect(asked).toBe(pool.layout.byteLength);
    expect(pool.share().buffer.byteLength).toBe(asked + 65536);
    expect(FramePool.attach(pool.share()).slotCount).toBe(2);
  });
  it('rejects memory that is too small or not shared', () => {
    expect(() =>
      FramePool.allocate({ slotCount: 2, dataBytes: 100 }, { memory: () => new SharedArrayBuffer(8) }),
    ).toThrow(TypeError);
    expect(() =>
      FramePool.allocate(
        { slotCount: 2, dataBytes: 100 },
        { memory: (b) => new ArrayBuffer(b) as unknown as SharedArrayBuffer },
      ),
    ).toThrow(TypeError);
  });
});
