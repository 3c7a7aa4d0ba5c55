// The `scheduling` bench suite: per-frame cost of queue → mapping → completion → consumer → release, no pixel work.
import { Worker } from 'node:worker_threads';
import { FramePool, SlotState } from '../frame-pool.js';
import type { FrameStream } from '../frame-stream.js';
import { ksTime } from '../ks-time.js';
import { CompletionChannel } from '../mapping.js';
import { KsQueue } from '../queue.js';
import { FrameStatus } from '../stream-header.js';
import type { SchedulingRunResult } from './scheduling-consumer.js';
import type { BenchCase, BenchSuite } from '@ksemu/bench-kit';

const WIDTH = 1920;
const HEIGHT = 1080;
/** One 1080p YUY2 frame: 2 bytes per pixel = 4,147,200 bytes (3,110,400 would be NV12's 12 bits per pixel). */
const FRAME_BYTES = WIDTH * HEIGHT * 2;
const SLOTS = 4;
/** Scatter/gather piece size: a 1080p YUY2 frame maps to 4 mappings (S/G lists are exercised, not just one). */
const MAX_MAPPING_BYTES = 1 << 20;
const PERIOD = ksTime(333_333);
const GROUP = 'YUY2 1920x1080';

const now = (): bigint => process.hrtime.bigint();
const secondsSince = (t0: bigint): number => Number(now() - t0) / 1e9;

/** Pool + queue + channel of one case, and word views of each slot made once. */
interface Rig {
  pool: FramePool;
  queue: KsQueue;
  channel: CompletionChannel;
  words: Uint32Array[];
}

function makeRig(): Rig {
  const pool = FramePool.allocate({ slotCount: SLOTS, dataBytes: FRAME_BYTES, alignment: 4096 });
  const queue = new KsQueue(pool, { name: 'bench pin' });
  const channel = CompletionChannel.create(SLOTS * 4);
  const words: Uint32Array[] = [];
  for (let s = 0; s < SLOTS; s++) {
    const d = pool.data(s);
    words.push(new Uint32Array(d.buffer, d.byteOffset, 2));
  }
  return { pool, queue, channel, words };
}

/**
 * The hardware's side in this thread: completes every mapping of the next fully-mapped frame with its full
 * length, as a DMA engine would after writing the pixels (no pixel work here: that is the point).
 */
function hardwareCompletesOneFrame(channel: CompletionChannel): void {
  for (let k = channel.frameMappings(); k > 0; k--)
    channel.complete(channel.pendingLength(0), FrameStatus.Success);
}

/** True while a slot is delivered to (Filled) or held by (Held) the consumer. */
function consumerHasFrames(pool: FramePool): boolean {
  for (let s = 0; s < pool.slotCount; s++) {
    const state = pool.state(s);
    if (state === SlotState.Filled || state === SlotState.Held) return true;
  }
  return false;
}

/** Main-thread consumer: each frame goes queue → mappings → completion → consumer (`await next()`) → release. */
function mainThreadCase(): BenchCase {
  let rig: Rig | undefined;
  return {
    name: 'queue→mapping→completion→consumer→release (main-thread consumer)',
    group: GROUP,
    unit: 'us/frame',
    better: 'lower',
    setup() {
      rig = makeRig();
    },
    async run(n) {
      if (rig === undefined) throw new Error('setup() not called');
      const { pool, queue, channel, words } = rig;
      const frames: FrameStream = queue.frames();
      queue.start({ start: ksTime(0), period: PERIOD });
      let copiedBytes = 0;
      let notSameMemory = 0;
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const clone = queue.takeFrame();
        if (clone === null) throw new Error('no frame queued: the consumer did not release');
        // The producer's token, written into its own pool memory.
        (words[clone.slot] as Uint32Array)[0] = i;
        if (clone.postMappings(channel, MAX_MAPPING_BYTES) === 0) throw new Error('channel full');
        hardwareCompletesOneFrame(channel);
        queue.collect(channel);
        const r = await frames.next();
        if (r.done === true) throw new Error('stream ended early');
        const f = r.value;
        const data = f.data;
        // Zero-copy proof: the consumer's view is the producer's slot view, and shows the producer's token.
        if (data !== pool.data(f.slot) || data.buffer !== pool.buffer) notSameMemory++;
        if ((words[f.slot] as Uint32Array)[0] !== i || f.sequence !== i) copiedBytes += f.bytesUsed;
        f.release();
      }
      const seconds = secondsSince(t0);
      frames.close();
      await queue.stop(channel);
      return {
        seconds,
        value: (seconds * 1e6) / n,
        extra: { fps: Math.round(n / seconds), pixelBytesCopied: copiedBytes + notSameMemory * FRAME_BYTES },
      };
    },
    teardown() {
      rig = undefined;
    },
  };
}

/** Worker consumer: same path with the consumer (attachFrameStream) in a Worker thread. */
function workerCase(): BenchCase {
  let rig: Rig | undefined;
  let worker: Worker | undefined;
  const next = (type: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const w = worker;
      if (w === undefined) return reject(new Error('no worker'));
      const on = (m: Record<string, unknown>): void => {
        if (m['type'] === 'error') {
          w.off('message', on);
          reject(new Error(String(m['message'])));
        } else if (m['type'] === type) {
          w.off('message', on);
          resolve(m);
        }
      };
      w.on('message', on);
    });
  return {
    name: 'queue→mapping→completion→consumer→release (Worker consumer)',
    group: GROUP,
    unit: 'us/frame',
    better: 'lower',
    setup() {
      rig = makeRig();
      worker = new Worker(new URL('./scheduling-consumer.js', import.meta.url));
    },
    async run(n) {
      if (rig === undefined || worker === undefined) throw new Error('setup() not called');
      const { queue, channel, words } = rig;
      const attached = next('attached');
      worker.postMessage({ handle: queue.shareStream() });
      await attached;
      const done = next('done') as Promise<unknown> as Promise<SchedulingRunResult>;
      // Last sequence each slot carried, to check the Worker's ack in our own memory when the slot returns.
      const lastSeq = new Float64Array(SLOTS).fill(-1);
      let acksSeen = 0;
      let acksMissing = 0;
      queue.start({ start: ksTime(0), period: PERIOD });
      const t0 = now();
      for (let i = 0; i < n; i++) {
        let clone = queue.takeFrame();
        while (clone === null) {
          await queue.whenFrameAvailable();
          clone = queue.takeFrame();
        }
        const w = words[clone.slot] as Uint32Array;
        const prev = lastSeq[clone.slot] ?? -1;
        if (prev >= 0) {
          if (w[1] === prev) acksSeen++;
          else acksMissing++;
        }
        lastSeq[clone.slot] = i;
        w[0] = i;
        if (clone.postMappings(channel, MAX_MAPPING_BYTES) === 0) throw new Error('channel full');
        hardwareCompletesOneFrame(channel);
        queue.collect(channel);
      }
      // A stop reclaims frames the consumer has not taken yet: let the Worker take and release them all.
      while (consumerHasFrames(rig.pool)) await new Promise<void>((r) => setImmediate(r));
      await queue.stop(channel);
      const seconds = secondsSince(t0);
      const result = await done;
      if (result.frames !== n) throw new Error(`worker received ${result.frames} of ${n} frames`);
      return {
        seconds,
        value: (seconds * 1e6) / n,
        extra: {
          fps: Math.round(n / seconds),
          // A frame counts as copied when the Worker did not see the producer's token or the producer did
          // not see the Worker's ack in its own memory.
          pixelBytesCopied: (result.badTokens + acksMissing) * FRAME_BYTES,
          sharedMemoryRoundTrips: acksSeen,
        },
      };
    },
    async teardown() {
      await worker?.terminate();
      worker = undefined;
      rig = undefined;
    },
  };
}

/** Peer: what a copying design pays per frame, one `Uint8Array.set` of a 1080p YUY2 frame between SABs. */
function copyPeer(): BenchCase {
  let src: Uint8Array | undefined;
  let dst: Uint8Array | undefined;
  return {
    name: 'Uint8Array.set copy of one frame (copying design)',
    group: GROUP,
    unit: 'us/frame',
    better: 'lower',
    peer: true,
    setup() {
      src = new Uint8Array(new SharedArrayBuffer(FRAME_BYTES));
      for (let i = 0; i < FRAME_BYTES; i += 4096) src[i] = i & 0xff;
      dst = new Uint8Array(new SharedArrayBuffer(FRAME_BYTES));
    },
    async run(n) {
      if (src === undefined || dst === undefined) throw new Error('setup() not called');
      const t0 = now();
      for (let i = 0; i < n; i++) {
        src[0] = i & 0xff;
        dst.set(src);
      }
      const seconds = secondsSince(t0);
      if (dst[0] !== ((n - 1) & 0xff)) throw new Error('copy did not happen');
      return { seconds, value: (seconds * 1e6) / n, extra: { bytesPerFrame: FRAME_BYTES } };
    },
    teardown() {
      src = undefined;
      dst = undefined;
    },
  };
}

const suite: BenchSuite = {
  name: 'scheduling',
  async cases() {
    return [mainThreadCase(), workerCase(), copyPeer()];
  },
};

export default suite;
