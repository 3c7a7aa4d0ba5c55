// Keeps the README's Node API example honest: the same calls, run against the synthetic camera, main thread and Worker.
import { describe, expect, it } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import { ManualClock, type KsTime } from '@ksemu/ks-core';
import { Enumerator, BUILT_IN_SYNTHETIC_KINDS } from '@ksemu/hal';
import { createWebcamDevice, subtypeOfFourcc, WebcamPin } from '@ksemu/minidriver-webcam';

async function openCamera(clock: ManualClock) {
  const enumerator = new Enumerator({ synthetic: [{ kind: 'camera' }] }, BUILT_IN_SYNTHETIC_KINDS);
  const hal = await enumerator.find('synthetic:camera');
  const device = createWebcamDevice(hal, { clock });
  const filter = await device.createFilter();
  const pin = await filter.createPin(WebcamPin.Capture, {
    format: { subtype: subtypeOfFourcc('YUY2'), width: 1280, height: 720, frameInterval: 333333n as KsTime },
  });
  return { device, pin };
}

/** Steps the manual clock one frame at a time until `pending` settles, yielding to I/O between steps. */
async function stepUntil<T>(pending: Promise<T>, clock: ManualClock): Promise<T> {
  let done = false;
  void pending.finally(() => (done = true));
  for (let i = 0; i < 10_000 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    if (!done) clock.advance(333333n);
  }
  return pending;
}

describe('README Node API example', () => {
  it('streams frames with stamped sequence and time, zero copy, and stops with every slot back', async () => {
    const clock = new ManualClock(0n);
    const { device, pin } = await openCamera(clock);
    await pin.run();
    const seen: Array<[number, bigint, number]> = [];
    const stream = pin.frames();
    const pool = pin.pool;
    for (;;) {
      const next = await stepUntil(stream.next(), clock);
      if (next.done) break;
      const frame = next.value;
      seen.push([frame.sequence, frame.presentationTime, frame.bytesUsed]);
      expect(Object.prototype.toString.call(frame.data.buffer)).toBe('[object SharedArrayBuffer]');
      frame.release();
      if (seen.length >= 5) break;
    }
    await pin.stop();
    expect(pool.outstanding).toBe(0);
    expect(seen.map((s) => s[2])).toEqual([1843200, 1843200, 1843200, 1843200, 1843200]);
    const base = seen[0]?.[1] ?? 0n;
    seen.forEach(([seq, pts], i) => {
      expect(seq).toBe((seen[0]?.[0] ?? 0) + i);
      expect(pts - base).toBe(BigInt(i) * 333333n);
    });
    await device.close();
  });

  it('hands the same frames to a Worker through pin.shareFrames()', async () => {
    const clock = new ManualClock(0n);
    const { device, pin } = await openCamera(clock);
    await pin.run();
    const pool = pin.pool;
    const handle = pin.shareFrames();
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(async ({ attachFrameStream }) => {
        const stream = attachFrameStream(workerData.handle);
        const seqs = [];
        for await (const frame of stream) {
          seqs.push(frame.sequence);
          frame.release();
          if (seqs.length === 3) break;
        }
        parentPort.postMessage(seqs);
      });
      `,
      { eval: true, workerData: { handle, url: import.meta.resolve('@ksemu/ks-core') } },
    );
    const got = new Promise<number[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const seqs = await stepUntil(got, clock);
    expect(seqs).toHaveLength(3);
    // In order; gaps are allowed (the producer drops rather than waits for a slow consumer).
    expect(seqs[1]!).toBeGreaterThan(seqs[0]!);
    expect(seqs[2]!).toBeGreaterThan(seqs[1]!);
    await worker.terminate();
    await pin.stop();
    expect(pool.outstanding).toBe(0);
    await device.close();
  });
});
