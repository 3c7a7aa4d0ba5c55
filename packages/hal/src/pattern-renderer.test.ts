// Tests of the pattern renderers: fast paths equal the per-pixel reference, dirty repaint equals full render.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildPalette, Colour } from './colour-palette.js';
import { PATTERN_KINDS, type PatternKind, type PatternOptions } from './pattern.js';
import { PatternRenderer, renderReference } from './pattern-renderer.js';
import { createPoolMemory } from './pool-memory.js';
import { imageLayout, type Fourcc, type VideoFormat } from './pixel-format.js';

const RAW: readonly Fourcc[] = ['YUY2', 'UYVY', 'NV12', 'I420', 'RGB24', 'BGRA', 'GRAY8'];
const fmt = (fourcc: Fourcc, width: number, height: number): VideoFormat => ({
  fourcc,
  width,
  height,
  interval: 333333n,
});

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : a.length;
}

describe('palette', () => {
  it('gives the standard BT.601 limited-range 75 % bar codes', () => {
    const p = buildPalette();
    const yuv = (c: number): number[] => [p.y[c]!, p.u[c]!, p.v[c]!];
    expect(yuv(Colour.White75)).toEqual([180, 128, 128]);
    expect(yuv(Colour.Yellow75)).toEqual([162, 44, 142]);
    expect(yuv(Colour.Cyan75)).toEqual([131, 156, 44]);
    expect(yuv(Colour.Green75)).toEqual([112, 72, 58]);
    expect(yuv(Colour.Magenta75)).toEqual([84, 184, 198]);
    expect(yuv(Colour.Red75)).toEqual([65, 100, 212]);
    expect(yuv(Colour.Blue75)).toEqual([35, 212, 114]);
    expect(yuv(Colour.Black)).toEqual([16, 128, 128]);
    expect(yuv(Colour.White100)).toEqual([235, 128, 128]);
    expect([p.r[Colour.Yellow75], p.g[Colour.Yellow75], p.b[Colour.Yellow75]]).toEqual([191, 191, 0]);
  });

  it('applies brightness and saturation', () => {
    const p = buildPalette({ brightness: 20, contrast: 100, saturation: 0, hue: 0, gamma: 100 });
    expect(p.y[Colour.White75]).toBe(200);
    expect(p.u[Colour.Yellow75]).toBe(128);
    expect(p.v[Colour.Red75]).toBe(128);
  });
});

describe('PatternRenderer', () => {
  it('puts the bars where SMPTE puts them (YUY2, first row)', () => {
    const f = fmt('YUY2', 640, 480);
    const r = new PatternRenderer({ pattern: 'smpte-bars', overlay: false }, f);
    const mem = new Uint8Array(new SharedArrayBuffer(r.layout.imageSize));
    r.render(mem, 0, mem.length, 0, -1);
    const barWidth = 640 / 7;
    const expected = [180, 162, 131, 112, 84, 65, 35];
    for (let bar = 0; bar < 7; bar++) {
      const x = Math.floor(bar * barWidth + barWidth / 2) & ~1;
      expect(mem[x * 2]).toBe(expected[bar]);
    }
  });

  for (const fourcc of RAW) {
    it(`${fourcc}: every pattern equals the reference renderer (full render, odd-ish sizes)`, () => {
      for (const [w, h] of [
        [160, 120],
        [66, 50],
      ] as const) {
        const f = fmt(fourcc, w, h);
        for (const pattern of PATTERN_KINDS) {
          const options: PatternOptions = { pattern, seed: 11 };
          const r = new PatternRenderer(options, f);
          const size = r.layout.imageSize;
          const mem = new Uint8Array(new SharedArrayBuffer((size + 3) & ~3)).fill(0x5a);
          const ref = new Uint8Array(size);
          for (const n of [0, 1234]) {
            expect(r.render(mem, 0, size, n, -1)).toBe(size);
            renderReference(options, f, n, ref);
            expect({ pattern, n, at: firstDifference(mem.subarray(0, size), ref) }).toEqual({
              pattern,
              n,
              at: -1,
            });
          }
        }
      }
    });
  }

  it('full render equals the reference at font scales 1 and 3 (odd cell alignment, whole plate)', () => {
    for (const [w, h] of [
      [320, 240],
      [420, 810],
    ] as const) {
      for (const fourcc of h > 500
        ? (['YUY2', 'NV12'] as const)
        : (['YUY2', 'NV12', 'I420', 'RGB24'] as const)) {
        const f = fmt(fourcc, w, h);
        const options: PatternOptions = { pattern: 'moving-box' };
        const r = new PatternRenderer(options, f);
        const size = r.layout.imageSize;
        const mem = new Uint8Array(createPoolMemory(size + 4));
        const ref = new Uint8Array(size);
        // Offset 4: targets that are 4- but not 8-aligned; frames whose digits all differ.
        for (const n of [0, 98_766]) {
          r.render(mem, 4, size, n, -1);
          renderReference(options, f, n, ref);
          expect({ fourcc, w, n, at: firstDifference(mem.subarray(4, 4 + size), ref) }).toEqual({
            fourcc,
            w,
            n,
            at: -1,
          });
        }
      }
    }
  });

  it('frame programs sharing one scratch region, without scratch, and after JS renders all give the reference bytes', () => {
    const f = fmt('NV12', 320, 240);
    const box: PatternOptions = { pattern: 'moving-box' };
    const bars: PatternOptions = { pattern: 'checkerboard' };
    const size = imageLayout('NV12', 320, 240).imageSize;
    const refs = new Map<string, Uint8Array>();
    const ref = (options: PatternOptions, n: number): Uint8Array => {
      const key = `${options.pattern}:${n}`;
      let r = refs.get(key);
      if (r === undefined) {
        r = new Uint8Array(size);
        renderReference(options, f, n, r);
        refs.set(key, r);
      }
      return r;
    };
    // Two renderers alternate on one pool (one scratch region per thread and memory): each
    // finds the other's data there and rewrites it before drawing.
    const a = new PatternRenderer(box, f);
    const b = new PatternRenderer(bars, f);
    const shared = new Uint8Array(createPoolMemory(2 * size));
    // A pool with no room for scratch: the renderer draws from JS.
    const none = new Uint8Array(createPoolMemory(size, { scratchBytes: 0 }));
    const c = new PatternRenderer(box, f);
    // A renderer whose cached plate was filled by JS renders before it met pool memory.
    const d = new PatternRenderer(box, f);
    d.render(new Uint8Array(size), 0, size, 41, -1);
    const late = new Uint8Array(createPoolMemory(size));
    for (const n of [3, 4, 41, 1234, 99_999]) {
      a.render(shared, 0, size, n, -1);
      b.render(shared, size, size, n, -1);
      c.render(none, 0, size, n, -1);
      d.render(late, 0, size, n, -1);
      expect({ n, a: firstDifference(shared.subarray(0, size), ref(box, n)) }).toEqual({ n, a: -1 });
      expect({ n, b: firstDifference(shared.subarray(size, 2 * size), ref(bars, n)) }).toEqual({ n, b: -1 });
      expect({ n, c: firstDifference(none.subarray(0, size), ref(box, n)) }).toEqual({ n, c: -1 });
      expect({ n, d: firstDifference(late.subarray(0, size), ref(box, n)) }).toEqual({ n, d: -1 });
    }
  });

  it('full render into pool memory (the wasm frame program) equals the reference for every banded pattern', () => {
    for (const pattern of ['smpte-bars', 'ramp', 'checkerboard', 'solid'] as const) {
      for (const fourcc of ['YUY2', 'NV12', 'I420', 'RGB24'] as const) {
        const f = fmt(fourcc, 200, 150);
        const options: PatternOptions = { pattern };
        const r = new PatternRenderer(options, f);
        const size = r.layout.imageSize;
        const mem = new Uint8Array(createPoolMemory(2 * size + 64)).fill(0xa5);
        const ref = new Uint8Array(size);
        renderReference(options, f, 7, ref);
        for (const at of [8, 12 + size]) {
          r.render(mem, at, size, 7, -1);
          expect({ pattern, fourcc, at, diff: firstDifference(mem.subarray(at, at + size), ref) }).toEqual({
            pattern,
            fourcc,
            at,
            diff: -1,
          });
        }
        // Nothing outside the frames is touched.
        expect(mem[7]).toBe(0xa5);
        expect(mem[8 + size]).toBe(0xa5);
      }
    }
  });

  it('dirty repaint at font scales 1, 2 and 3 (mostly nearby frames) equals full render', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Fourcc>('YUY2', 'NV12', 'I420', 'UYVY'),
        fc.constantFrom<PatternKind>('moving-box', 'smpte-bars'),
        fc.array(fc.tuple(fc.nat(2), fc.nat(100_000)), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.constantFrom([640, 480], [480, 540], [420, 810]),
        (fourcc, pattern, steps, wasm, [width, height]) => {
          const f = fmt(fourcc, width!, height!);
          const r = new PatternRenderer({ pattern }, f);
          const size = r.layout.imageSize;
          // Slots alternate between 8-aligned and 4-but-not-8-aligned starts.
          const stride = ((size + 7) & ~7) + 4;
          const pool = new Uint8Array(
            wasm ? createPoolMemory(stride * 3) : new SharedArrayBuffer(stride * 3),
          );
          const ref = new Uint8Array(new SharedArrayBuffer(stride));
          const held = [-1, -1, -1];
          for (const [slot, n0] of steps) {
            // Mostly nearby frames (few characters change), sometimes far ones.
            const n = n0 % 7 === 0 ? n0 : 5000 + (n0 % 40);
            r.render(pool, slot * stride, size, n, held[slot]!);
            held[slot] = n;
            r.render(ref, 0, size, n, -1);
            if (
              firstDifference(pool.subarray(slot * stride, slot * stride + size), ref.subarray(0, size)) !==
              -1
            )
              return false;
          }
          return true;
        },
      ),
      { numRuns: 40 },
    );
  });

  it('dirty repaint equals full render for any frame sequence and slot reuse order', () => {
    const kinds: PatternKind[] = ['moving-box', 'smpte-bars', 'checkerboard', 'noise'];
    fc.assert(
      fc.property(
        fc.constantFrom(...RAW),
        fc.constantFrom(...kinds),
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(3), fc.nat(400)), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (fourcc, pattern, overlay, steps, wasm) => {
          const f = fmt(fourcc, 120, 90);
          const options: PatternOptions = { pattern, overlay, seed: 5 };
          const r = new PatternRenderer(options, f);
          const size = r.layout.imageSize;
          const stride = (size + 3) & ~3;
          const pool = new Uint8Array(
            wasm ? createPoolMemory(stride * 4) : new SharedArrayBuffer(stride * 4),
          ).fill(0xcc);
          const held = [-1, -1, -1, -1];
          // Full fast render equals the reference (tested above), so it is the oracle here.
          const ref = new Uint8Array(new SharedArrayBuffer(stride));
          for (const [slot, n] of steps) {
            r.render(pool, slot * stride, size, n, held[slot]!);
            held[slot] = n;
            r.render(ref, 0, size, n, -1);
            if (
              firstDifference(pool.subarray(slot * stride, slot * stride + size), ref.subarray(0, size)) !==
              -1
            )
              return false;
          }
          return true;
        },
      ),
      { numRuns: 80 },
    );
  });

  it('writes nothing and returns -1 when the mapping is too small', () => {
    const f = fmt('NV12', 160, 120);
    const r = new PatternRenderer({ pattern: 'ramp' }, f);
    const mem = new Uint8Array(new SharedArrayBuffer(r.layout.imageSize)).fill(7);
    expect(r.render(mem, 0, r.layout.imageSize - 1, 0, -1)).toBe(-1);
    expect(mem.every((v) => v === 7)).toBe(true);
  });

  it('rejects bad options and unaligned targets', () => {
    const f = fmt('YUY2', 160, 120);
    expect(() => new PatternRenderer({ pattern: 'plaid' as PatternKind }, f)).toThrow(TypeError);
    expect(() => new PatternRenderer({ pattern: 'ramp', seed: 1.5 }, f)).toThrow(RangeError);
    expect(() => new PatternRenderer({ pattern: 'ramp' }, fmt('YUY2', 161, 120))).toThrow(RangeError);
    expect(() => new PatternRenderer({ pattern: 'ramp' }, fmt('MJPG', 160, 120))).toThrow(TypeError);
    const r = new PatternRenderer({ pattern: 'ramp' }, f);
    const mem = new Uint8Array(new SharedArrayBuffer(r.layout.imageSize + 8));
    expect(() => r.render(mem, 2, r.layout.imageSize, 0, -1)).toThrow(RangeError);
  });

  it('lays out planes as documented', () => {
    expect(imageLayout('NV12', 640, 480).imageSize).toBe(640 * 480 * 1.5);
    expect(imageLayout('I420', 640, 480).planes.map((p) => p.offset)).toEqual([0, 307200, 307200 + 76800]);
    expect(imageLayout('RGB24', 18, 16).planes[0]!.stride).toBe(56);
  });
});
