// Tests of MappingList (scatter/gather split) and CompletionChannel (all-or-nothing posting, results, skips).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CompletionChannel, MappingList } from './mapping.js';
import type { CompletionChannelHandle } from './mapping.js';
import { FrameStatus } from './stream-header.js';

describe('MappingList', () => {
  it('splits a frame into pieces that cover it exactly, reusing its records', () => {
    const l = new MappingList();
    expect(l.build(3, 10, 4, 77)).toBe(3);
    expect(l.mappings.map((m) => [m.slot, m.offset, m.length, m.cookie])).toEqual([
      [3, 0, 4, 77],
      [3, 4, 4, 77],
      [3, 8, 2, 77],
    ]);
    const first = l.mappings[0];
    l.build(5, 12, 4, 1);
    expect(l.mappings[0]).toBe(first);
    expect(l.mappings[0]?.slot).toBe(5);
  });

  it('property: pieces are contiguous, at most maxBytes, and sum to the length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 22 }),
        fc.integer({ min: 1 << 9, max: 1 << 20 }),
        (len, max) => {
          fc.pre(Math.ceil(len / max) <= 2000); // keep each run cheap
          const l = new MappingList();
          l.build(0, len, max, 0);
          let at = 0;
          for (const m of l.mappings) {
            expect(m.offset).toBe(at);
            expect(m.length).toBeGreaterThan(0);
            expect(m.length).toBeLessThanOrEqual(max);
            at += m.length;
          }
          expect(at).toBe(len);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects non-positive sizes', () => {
    const l = new MappingList();
    expect(() => l.build(0, 0, 4, 0)).toThrow(RangeError);
    expect(() => l.build(0, 4, 0, 0)).toThrow(RangeError);
  });
});

describe('CompletionChannel', () => {
  it('posts a frame all or nothing and reports per-mapping results in order', () => {
    const ch = CompletionChannel.create(4);
    const l = new MappingList();
    l.build(1, 300, 100, 9);
    expect(ch.postFrame(l)).toBe(3);
    expect(ch.space).toBe(1);
    l.build(2, 300, 100, 9);
    expect(ch.postFrame(l)).toBe(0); // no room for the whole frame: nothing posted
    expect(ch.pending).toBe(3);

    const hw = CompletionChannel.attach(structuredClone(ch.share()));
    expect(hw.frameMappings()).toBe(3);
    expect([hw.pendingSlot(0), hw.pendingOffset(1), hw.pendingLength(2), hw.pendingCookie(0)]).toEqual([
      1, 100, 100, 9,
    ]);
    hw.complete(100, FrameStatus.Success);
    hw.complete(100, FrameStatus.Success);
    hw.complete(50, FrameStatus.Truncated);
    expect(ch.completed).toBe(3);
    expect(ch.unretired).toBe(3);
    expect([ch.resultSlot(2), ch.resultBytes(2), ch.resultStatus(2), ch.resultEndsFrame(2)]).toEqual([
      1,
      50,
      FrameStatus.Truncated,
      true,
    ]);
    expect(ch.resultEndsFrame(0)).toBe(false);
    ch.retire();
    ch.retire();
    ch.retire();
    expect(() => ch.retire()).toThrow(RangeError);
    expect(ch.space).toBe(4);
  });

  it('says when no frame is fully mapped and counts skipped frames', () => {
    const ch = CompletionChannel.create(2);
    expect(ch.frameMappings()).toBe(0);
    ch.skipFrame();
    ch.skipFrame();
    expect(ch.skipped).toBe(2);
  });

  it('rejects completing more than was posted or more bytes than the mapping has', () => {
    const ch = CompletionChannel.create(2);
    expect(() => ch.complete(1, FrameStatus.Success)).toThrow(RangeError);
    const l = new MappingList();
    l.build(0, 10, 10, 0);
    ch.postFrame(l);
    expect(() => ch.complete(11, FrameStatus.Success)).toThrow(RangeError);
  });

  it('wakes a waiter when the hardware completes', async () => {
    const ch = CompletionChannel.create(2);
    const l = new MappingList();
    l.build(0, 10, 10, 0);
    ch.postFrame(l);
    const wait = ch.waitCompleted(ch.completed);
    expect(wait).toBeDefined();
    ch.complete(10, FrameStatus.Success);
    await expect(wait).resolves.toBe('ok');
  });

  it('reset forgets everything posted', () => {
    const ch = CompletionChannel.create(2);
    const l = new MappingList();
    l.build(0, 10, 10, 0);
    ch.postFrame(l);
    ch.reset();
    expect(ch.pending).toBe(0);
    expect(ch.unretired).toBe(0);
    expect(ch.space).toBe(2);
  });

  it('rejects bad capacities and handles', () => {
    expect(() => CompletionChannel.create(0)).toThrow(RangeError);
    expect(() => CompletionChannel.attach({} as CompletionChannelHandle)).toThrow(TypeError);
    const junk = {
      kind: 'ksemu.completion-channel',
      buffer: new SharedArrayBuffer(64),
    } as CompletionChannelHandle;
    expect(() => CompletionChannel.attach(junk)).toThrow(TypeError);
  });
});
