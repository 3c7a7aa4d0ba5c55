// Tests of wasm-backed pool memory: native bulk ops, identical rendering, and use from a Worker.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { PatternRenderer } from './pattern-renderer.js';
import { bandFillModuleBytes } from './bulk-memory-module.js';
import { bulkOpsFor, createPoolMemory, PoolMemoryModule, poolMemoryOf } from './pool-memory.js';
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

  it('a band-fill module writes its data segments per frame, one instance per pool buffer', () => {
    const row = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const chunk = new Uint8Array(12);
    chunk.set(row, 0);
    chunk.set(row, 6);
    const module = new PoolMemoryModule(() =>
      bandFillModuleBytes(
        [
          { offset: 0, segment: 0, first: 12, total: 30, chunk: 12 },
          { offset: 40, segment: 0, first: 6, total: 6, chunk: 12 },
        ],
        [chunk],
      ),
    );
    expect(module.exportsFor(new SharedArrayBuffer(64))).toBeUndefined();
    for (const sab of [createPoolMemory(100), createPoolMemory(100)]) {
      const fillBands = module.exportsFor(sab)!['fillBands'] as (base: number) => void;
      expect(module.exportsFor(sab)!['fillBands']).toBe(fillBands);
      const u8 = new Uint8Array(sab);
      fillBands(3);
      const expected = new Uint8Array(60);
      for (let i = 0; i < 30; i++) expected[3 + i] = row[i % 6]!;
      expected.set(row, 43);
      expect(Array.from(u8.subarray(0, 60))).toEqual(Array.from(expected));
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
