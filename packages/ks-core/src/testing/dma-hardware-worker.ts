// Worker entry of a fake DMA engine for tests: fills the frames posted on a CompletionChannel and completes them.
import { parentPort, workerData } from 'node:worker_threads';
import { FramePool } from '../frame-pool.js';
import type { FramePoolHandle } from '../frame-pool.js';
import { CompletionChannel } from '../mapping.js';
import type { CompletionChannelHandle } from '../mapping.js';
import { FrameStatus } from '../stream-header.js';

/** Setup of the fake engine. */
export interface DmaHardwareSetup {
  readonly pool: FramePoolHandle;
  readonly channel: CompletionChannelHandle;
  /** Frame times to run. */
  readonly frames: number;
  /** Frame times at which no frame is taken (counted with skipFrame, as if nothing was fully mapped). */
  readonly skipAt?: readonly number[];
  /** Report the frame index with each completion (default true). */
  readonly reportIndex?: boolean;
}

function run(setup: DmaHardwareSetup): void {
  const pool = FramePool.attach(setup.pool);
  const channel = CompletionChannel.attach(setup.channel);
  const skip = new Set(setup.skipAt ?? []);
  let filled = 0;
  for (let n = 0; n < setup.frames; n++) {
    if (skip.has(n)) {
      channel.skipFrame();
      continue;
    }
    // Wait (this is a Worker: blocking is allowed) until a whole frame is posted.
    let mappings = channel.frameMappings();
    while (mappings === 0) {
      const seen = channel.posted;
      mappings = channel.frameMappings();
      if (mappings > 0) break;
      if (channel.waitPostedBlocking(seen, 5000) === 'timed-out') {
        parentPort?.postMessage({ type: 'error', message: `no frame posted for frame time ${n}` });
        return;
      }
      mappings = channel.frameMappings();
    }
    for (let k = 0; k < mappings; k++) {
      const data = pool.data(channel.pendingSlot(0));
      const offset = channel.pendingOffset(0);
      const length = channel.pendingLength(0);
      // The "pixels": the frame index in the first 4 bytes of the frame, the piece number in each piece.
      if (k === 0) new DataView(data.buffer, data.byteOffset, 4).setUint32(0, n, true);
      else data[offset] = k;
      channel.complete(length, FrameStatus.Success, setup.reportIndex === false ? -1 : n);
    }
    filled++;
  }
  parentPort?.postMessage({ type: 'done', filled });
}

if (parentPort !== null) run(workerData as DmaHardwareSetup);
