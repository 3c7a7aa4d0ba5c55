// Tests of wasm-backed pool memory: native bulk ops, identical rendering, and use from a Worker.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { PatternRenderer } from './pattern-renderer.js';
import { bulkOpsFor, createPoolMemory, poolMemoryOf } from './pool-memory.js';
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
