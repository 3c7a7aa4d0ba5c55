// Worker used by tests: renders frames with the hal renderers inside a worker thread and returns their sha256.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { createFrameRenderer } from '../mjpeg-renderer.js';
import type { PatternOptions } from '../pattern.js';
import type { VideoFormat } from '../pixel-format.js';
import { attachPoolMemory, type SharedWasmMemory } from '../pool-memory.js';

/** One job: render `frames` of each case, full render into shared memory. */
export interface PatternHashJob {
  readonly cases: ReadonlyArray<{
    readonly options: PatternOptions;
    readonly format: VideoFormat;
    readonly frames: readonly number[];
  }>;
  /** Pool memory from `createPoolMemory` (posted): render into it instead of a fresh SAB. */
  readonly memory?: SharedWasmMemory;
}

function run(job: PatternHashJob): string[] {
  const out: string[] = [];
  for (const c of job.cases) {
    const renderer = createFrameRenderer(c.options, c.format);
    const size = (renderer.layout.imageSize + 3) & ~3;
    const memory =
      job.memory === undefined
        ? new Uint8Array(new SharedArrayBuffer(size))
        : new Uint8Array(attachPoolMemory(job.memory), 0, size);
    for (const n of c.frames) {
      const bytes = renderer.render(memory, 0, memory.length, n, -1);
      out.push(createHash('sha256').update(memory.subarray(0, bytes)).digest('hex'));
    }
  }
  return out;
}

if (parentPort !== null) parentPort.postMessage(run(workerData as PatternHashJob));
