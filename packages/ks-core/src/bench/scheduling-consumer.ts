// Worker side of the `scheduling` bench: attaches a FrameStream per run, checks the producer's token, acks and releases.
import { parentPort } from 'node:worker_threads';
import { attachFrameStream } from '../frame-stream.js';
import type { FrameStreamHandle } from '../frame-stream.js';

/** Message the bench posts for every measured run. */
export interface SchedulingRun {
  readonly handle: FrameStreamHandle;
}

/** What the Worker reports after a run's stream ended. */
export interface SchedulingRunResult {
  readonly type: 'done';
  readonly frames: number;
  /** Frames whose first word did not hold the token the producer wrote into its own memory. */
  readonly badTokens: number;
}

async function consume(run: SchedulingRun): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const stream = attachFrameStream(run.handle);
  // One word view per slot, made once, so the per-frame path allocates nothing of ours.
  const words: Uint32Array[] = [];
  for (let s = 0; s < stream.framePool.slotCount; s++) {
    const d = stream.framePool.data(s);
    words.push(new Uint32Array(d.buffer, d.byteOffset, 2));
  }
  port.postMessage({ type: 'attached' });
  let frames = 0;
  let badTokens = 0;
  for await (const f of stream) {
    const w = words[f.slot] as Uint32Array;
    const seq = f.sequence >>> 0;
    if (w[0] !== seq) badTokens++;
    // Ack in the producer's memory: the producer checks it when it reuses the slot.
    w[1] = seq;
    frames++;
    f.release();
  }
  const result: SchedulingRunResult = { type: 'done', frames, badTokens };
  port.postMessage(result);
}

parentPort?.on('message', (m: SchedulingRun) => {
  void consume(m).catch((err: unknown) => parentPort?.postMessage({ type: 'error', message: String(err) }));
});
