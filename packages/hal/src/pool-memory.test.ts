// Tests of wasm-backed pool memory: native bulk ops, identical rendering, and use from a Worker.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { PatternRenderer } from './pattern-renderer.js';
import { frameProgramModuleBytes } from './bulk-memory-module.js';
import { bulkOpsFor, createPoolMemory, PoolMemoryModule, poolMemoryOf, scratchFor } from './pool-memory.js';
import type { PatternHashJob } from './testing/pattern-hash-worker.js';
import type { VideoFormat } from './pixel-format.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('pool memory', () => {
  it('is a SharedArrayBuffer with native copy/fill', () => {
    const sab = createPoolMemory(100_000);
    expect(Object.prototype.toString.call(sab)).toBe('[object SharedArrayBuffer]');
    expect(sab.byteLength).toBe(131072);
    const ops = bulkOpsFor(sab)!;
    const u8 = new Uint8Array(sab);
    ops.fill(10, 7, 5);
    ops.copy(100, 10, 3);
    expect(Array.from(u8.subarray(9, 16))).toEqual([0, 7, 7, 7, 7, 7, 0]);
    expect(Array.from(u8.subarray(100, 104))).toEqual([7, 7, 7, 0]);
    expect(bulkOpsFor(new SharedArrayBuffer(8))).toBeUndefined();
    expect(poolMemoryOf(sab)).toBeDefined();
    expect(() => createPoolMemory(0)).toThrow(RangeError);
  });

  it('scratch regions lie past the pool buffer, one per thread and memory, and run out cleanly', () => {
    const sab = createPoolMemory(100, { scratchBytes: 3 * 65536 });
    expect(scratchFor(new SharedArrayBuffer(64), 10)).toBeUndefined();
    const a = scratchFor(sab, 1000)!;
    expect(a.base).toBe(65536);
    expect(a.bytes).toBe(65536);
    expect(sab.byteLength).toBe(65536);
    expect(scratchFor(sab, 500)).toBe(a);
    const b = scratchFor(sab, 65537)!;
    expect(b.base).toBe(2 * 65536);
    expect(b.bytes).toBe(2 * 65536);
    expect(scratchFor(sab, 4 * 65536)).toBeUndefined();
    expect(scratchFor(sab, 100)).toBe(b);
    expect(scratchFor(createPoolMemory(100, { scratchBytes: 0 }), 1)).toBeUndefined();
    expect(() => createPoolMemory(100, { scratchBytes: -1 })).toThrow(RangeError);
  });

  it('a frame program copies bands, box and changed plate cells from scratch, one instance per pool buffer', () => {
    const row = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const glyphs = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => 100 + i); // 3 glyphs of 2 rows × 4 bytes
    const bytes = frameProgramModuleBytes({
      segments: [
        { at: 64, bytes: row, repeatTo: 12 },
        { at: 128, bytes: Uint8Array.from([9, 8, 9, 8]) },
        { at: 192, bytes: new Uint8Array(2 * 10) }, // cached plate: 2 rows of 10 bytes
        { at: 256, bytes: glyphs },
      ],
      bands: [
        { at: 0, total: 30, source: 64, chunk: 12 },
        { at: 40, total: 6, source: 64, chunk: 12 },
      ],
      box: [{ source: 128, stride: 10 }],
      plate: {
        textAt: 0,
        cachedAt: 32,
        length: 2,
        planes: [
          {
            cells: [192 + 1, 192 + 5],
            cellBytes: 4,
            rowStride: 10,
            glyphs: 256,
            glyphRows: 2,
            runs: [{ row: 0, count: 2, glyphRow: 0, step: 1 }],
          },
        ],
        rows: [{ at: 50, source: 192, sourceStride: 10, len: 10, count: 2, stride: 12 }],
      },
    });
    const module = new PoolMemoryModule(() => bytes);
    expect(module.exportsFor(new SharedArrayBuffer(64))).toBeUndefined();
    for (const sab of [createPoolMemory(100), createPoolMemory(100)]) {
      const exports = module.exportsFor(sab)!;
      expect(module.exportsFor(sab)).toBe(exports);
      const init = exports['init'] as (scratch: number) => void;
      const full = exports['full'] as (...args: number[]) => void;
      const scratch = scratchFor(sab, 512)!;
      init(scratch.base);
      const frame = (text: number[], box: [number, number, number]): number[] => {
        scratch.view.set(text, 0);
        full(3, scratch.base, ...box, 0, 0, 0, 0, 0, 0);
        return Array.from(new Uint8Array(sab, 0, 80));
      };
      const expected = (cells: number[], box: [number, number, number]): number[] => {
        const e = new Uint8Array(80);
        for (let i = 0; i < 30; i++) e[3 + i] = row[i % 6]!;
        e.set(row, 43);
        for (let r = 0; r < box[1]; r++)
          for (let k = 0; k < box[2]; k++) e[box[0] + r * 10 + k] = k % 2 ? 8 : 9;
        // Plate rows: glyph row r of cell c at byte 1 + 4c of plate row r.
        for (let r = 0; r < 2; r++) {
          const plateRow = new Uint8Array(10);
          cells.forEach((g, c) => plateRow.set(glyphs.subarray(g * 8 + r * 4, g * 8 + r * 4 + 4), 1 + 4 * c));
          e.set(plateRow, 53 + r * 12);
        }
        return Array.from(e);
      };
      expect(frame([2, 0], [5, 2, 3])).toEqual(expected([2, 0], [5, 2, 3]));
      // Only the changed cell is rewritten; the other stays from the cache.
      expect(frame([2, 1], [14, 1, 2])).toEqual(expected([2, 1], [14, 1, 2]));
    }
  });

  it('copyRows and replicate match a byte-by-byte model (short, SIMD and long rows)', () => {
    const sab = createPoolMemory(1 << 16);
    const ops = bulkOpsFor(sab)!;
    const u8 = new Uint8Array(sab, 0, 40_000);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 64 }),
        (len, rows, pad, srcStep, seed) => {
          for (let i = 0; i < u8.length; i++) u8[i] = (i * 31 + seed) & 255;
          const model = u8.slice();
          const src = 3 + seed;
          const stride = len + pad;
          const srcStride = srcStep * stride;
          const dst = 20_000 + (seed & 7);
          for (let r = 0; r < rows; r++) {
            for (let k = 0; k < len; k++) model[dst + r * stride + k] = model[src + r * srcStride + k]!;
          }
          ops.copyRows(dst, src, len, rows, stride, srcStride);
          expect(Buffer.compare(u8, model)).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 40 }),
        (period, periods, chunkPeriods) => {
          const start = 1000 + period;
          const total = period * periods + (periods > 1 ? period >> 1 : 0);
          for (let k = 0; k < period; k++) u8[start + k] = (k * 7 + period) & 255;
          u8.fill(0, start + period, start + total + 16);
          ops.replicate(start, period, total, period * chunkPeriods);
          let wrong = -1;
          for (let k = 0; k < total && wrong < 0; k++)
            if (u8[start + k] !== u8[start + (k % period)]) wrong = k;
          expect(wrong).toBe(-1);
          expect(u8[start + total]).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('renders the same bytes as a plain SharedArrayBuffer, in this thread and in a Worker', async () => {
    const format: VideoFormat = { fourcc: 'NV12', width: 320, height: 240, interval: 333333n };
    const options = { pattern: 'moving-box' as const };
    const r = new PatternRenderer(options, format);
    const size = r.layout.imageSize;
    const plain = new Uint8Array(new SharedArrayBuffer(size));
    const pool = createPoolMemory(size * 2);
    const wasm = new Uint8Array(pool);
    r.render(plain, 0, size, 9, -1);
    r.render(wasm, size, size, 9, -1);
    expect(sha256(wasm.subarray(size, 2 * size))).toBe(sha256(plain));
    const job: PatternHashJob = { cases: [{ options, format, frames: [9] }], memory: poolMemoryOf(pool)! };
    const worker = new Worker(new URL('./testing/pattern-hash-worker.js', import.meta.url), {
      workerData: job,
    });
    const hashes = await new Promise<string[]>((resolve, reject) => {
      worker.once('message', (m: string[]) => resolve(m));
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(hashes).toEqual([sha256(plain)]);
    // The worker wrote into the same memory.
    expect(sha256(wasm.subarray(0, size))).toBe(sha256(plain));
  });
});
