// Tests of KsQueue and StreamPointer: edges, clones, in-order completion, drops, cancel, stop/drain, mappings.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { FramePool, SlotState } from './frame-pool.js';
import { KsStateError } from './ks-error.js';
import { ksTime, type KsTime } from './ks-time.js';
import { ManualClock } from './manual-clock.js';
import { CompletionChannel } from './mapping.js';
import { KsQueue } from './queue.js';
import { FrameFlags, FrameStatus } from './stream-header.js';
import type { Frame } from './frame-stream.js';
import type { StreamPointer } from './stream-pointer.js';
import { StreamInvariantChecker } from './testing/invariant-checker.js';

const PERIOD = ksTime(333_333);
const START = ksTime(10_000_000);

const GRACE = ksTime(10_000_000);

function setup(
  slotCount = 4,
  dataBytes = 256,
  stopGrace: KsTime = GRACE,
): { pool: FramePool; queue: KsQueue; clock: ManualClock } {
  const pool = FramePool.allocate({ slotCount, dataBytes });
  // The stop grace period runs on this clock: it passes only when a test advances it.
  const clock = new ManualClock(0n);
  const queue = new KsQueue(pool, { name: 'test pin', clock, stopGrace });
  return { pool, queue, clock };
}

/** Flushes pending promise callbacks and Atomics.waitAsync wake-ups (no real-time sleeping). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

function expectStateError(fn: () => unknown, current: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KsStateError);
  expect((err as KsStateError).current).toBe(current);
}

describe('KsQueue basics', () => {
  it('queues every slot at start and exposes the leading edge', () => {
    const { pool, queue } = setup();
    expect(queue.leadingEdge()).toBeNull(); // stopped
    queue.start({ start: START, period: PERIOD });
    expect(queue.state).toBe('running');
    expect(pool.census().queued).toBe(4);
    const edge = queue.leadingEdge();
    expect(edge?.slot).toBe(0);
    const c = edge?.clone();
    expect(c?.isClone).toBe(true);
    expect(pool.state(0)).toBe(SlotState.Mapped);
    expect(edge?.advance()).toBe(true);
    expect(edge?.slot).toBe(1);
    expect(queue.trailingEdge()?.slot).toBe(0);
  });

  it('stamps the header from the frame index and delivers to the consumer, zero copy', async () => {
    const { pool, queue } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    const c = queue.takeFrame();
    if (c === null) throw new Error('no frame');
    c.data.fill(0xab, 0, 100);
    c.complete(100, FrameStatus.Success, FrameFlags.SplicePoint);
    const r = await frames.next();
    expect(r.done).toBe(false);
    const f = r.value as Exclude<typeof r.value, undefined>;
    expect(f.slot).toBe(0);
    expect(f.bytesUsed).toBe(100);
    expect(f.sequence).toBe(0);
    expect(f.presentationTime).toBe(START);
    expect(f.duration).toBe(PERIOD);
    expect(f.flags).toBe(FrameFlags.SplicePoint | FrameFlags.TimeValid | FrameFlags.DurationValid);
    expect(f.status).toBe(FrameStatus.Success);
    expect(f.dropCount).toBe(0);
    expect(f.data).toBe(pool.data(0)); // the very view the producer wrote through
    expect(f.data[99]).toBe(0xab);
    expect(pool.state(0)).toBe(SlotState.Held);
    f.release();
    expect(pool.state(0)).toBe(SlotState.Free);
    frames.close();
    await queue.stop();
  });

  it('delivers in queue order when clones complete out of order', async () => {
    const { queue } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    const [a, b, c] = [queue.takeFrame(), queue.takeFrame(), queue.takeFrame()];
    c?.complete(1);
    a?.complete(1);
    expect(frames.tryNext()?.slot).toBe(0);
    expect(frames.tryNext()).toBeNull(); // c waits for b
    b?.complete(1);
    const f1 = frames.tryNext();
    const f2 = frames.tryNext();
    expect([f1?.slot, f1?.sequence, f2?.slot, f2?.sequence]).toEqual([1, 1, 2, 2]);
    expect(f2?.presentationTime).toBe(START + 2n * PERIOD);
  });

  it('never blocks the producer: with every slot held, frames are dropped and counted', () => {
    const { queue } = setup(2);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    queue.takeFrame()?.complete(1);
    const f0 = frames.tryNext();
    const f1 = frames.tryNext();
    expect(queue.takeFrame()).toBeNull();
    queue.dropFrame();
    queue.dropFrame(2);
    expect(queue.stats.dropped).toBe(3);
    f0?.release();
    const c = queue.takeFrame();
    expect(c?.slot).toBe(0);
    c?.complete(1);
    const f = frames.tryNext();
    expect(f?.sequence).toBe(5);
    expect(f?.dropCount).toBe(3);
    expect((f?.flags ?? 0) & FrameFlags.DataDiscontinuity).toBe(FrameFlags.DataDiscontinuity);
    f1?.release();
    f?.release();
    // The next frame has no new drops: no discontinuity.
    queue.takeFrame()?.complete(1);
    const g = frames.tryNext();
    expect(g?.dropCount).toBe(3);
    expect((g?.flags ?? 0) & FrameFlags.DataDiscontinuity).toBe(0);
  });

  it('uses explicit hardware frame indices, counting gaps as drops, and rejects indices out of order', () => {
    const { queue } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD, firstIndex: 10 });
    const a = queue.takeFrame();
    const b = queue.takeFrame();
    const c = queue.takeFrame();
    expect(() => a?.complete(1, FrameStatus.Success, 0, 9)).toThrow(RangeError);
    b?.complete(1, FrameStatus.Success, 0, 14);
    expect(() => a?.complete(1, FrameStatus.Success, 0, 14)).toThrow(RangeError);
    expect(() => c?.complete(1, FrameStatus.Success, 0, 13)).toThrow(RangeError);
    a?.complete(1, FrameStatus.Success, 0, 12);
    const f = frames.tryNext();
    const g = frames.tryNext();
    expect([f?.sequence, f?.dropCount, g?.sequence, g?.dropCount]).toEqual([12, 2, 14, 3]);
    expect(g?.presentationTime).toBe(START + 14n * PERIOD);
  });

  it('cancelling a clone requeues its frame and unblocks later clones', () => {
    const { pool, queue } = setup(3);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    const a = queue.takeFrame();
    const b = queue.takeFrame();
    b?.complete(7);
    expect(frames.tryNext()).toBeNull();
    a?.cancel();
    expect(pool.state(0)).toBe(SlotState.Queued);
    const f = frames.tryNext();
    expect([f?.slot, f?.sequence, f?.bytesUsed]).toEqual([1, 0, 7]);
    expect(queue.stats.cancelled).toBe(1);
    expect(queue.leadingEdge()?.slot).toBe(2);
  });

  it('completeAll delivers every outstanding frame with the given status (hot-unplug)', () => {
    const { pool, queue } = setup(3);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame();
    queue.takeFrame();
    queue.completeAll(FrameStatus.Disconnected);
    const f = frames.tryNext();
    const g = frames.tryNext();
    expect([f?.status, g?.status, f?.bytesUsed]).toEqual([
      FrameStatus.Disconnected,
      FrameStatus.Disconnected,
      0,
    ]);
    expect(pool.state(2)).toBe(SlotState.Free);
  });
});

describe('KsQueue stop', () => {
  it('reclaims delivered frames not taken at once, ends the stream, and waits for a held frame within the grace period', async () => {
    const { pool, queue } = setup(4);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    queue.takeFrame()?.complete(1);
    queue.takeFrame(); // in flight at stop
    const held = frames.tryNext();
    let stopped = false;
    const stop = queue.stop().then(() => (stopped = true));
    expect(queue.state).toBe('stopping');
    // Frame 1 was delivered but never taken: back in the pool at once, like vb2's STREAMOFF.
    expect(pool.census()).toEqual({ free: 3, queued: 0, mapped: 0, filled: 0, held: 1 });
    expect(queue.stats).toMatchObject({ reclaimed: 1, revoked: 0, cancelled: 1 });
    expect((await frames.next()).done).toBe(true);
    await settle();
    expect(stopped).toBe(false);
    expect(queue.state).toBe('stopping');
    expect(held?.sequence).toBe(0); // still the consumer's until the grace period ends
    expect(held?.release()).toBe(true);
    await stop;
    expect(queue.state).toBe('stopped');
    expect(pool.outstanding).toBe(0);
    expect(pool.staleReleases).toBe(0);
  });

  it('a consumer that never reads: stop resolves without waiting, balance intact, the next consumer streams', async () => {
    const { pool, queue } = setup(3);
    const idle = queue.frames(); // attached, never polled
    queue.start({ start: START, period: PERIOD });
    for (let i = 0; i < 3; i++) queue.takeFrame()?.complete(1);
    expect(pool.census().filled).toBe(3);
    await queue.stop(); // the clock never moves: nothing to wait for
    expect(pool.outstanding).toBe(0);
    expect(queue.stats.reclaimed).toBe(3);
    // Its attachment lapsed with the stop: a new consumer attaches without the old one closing.
    const next = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    expect(idle.tryNext()).toBeNull();
    expect(idle.state).toBe('ended');
    const f = next.tryNext();
    expect(f?.sequence).toBe(0);
    f?.release();
    await queue.stop();
    expect(pool.outstanding).toBe(0);
  });

  it('revokes a held frame when the grace period ends; the late release is a counted no-op that never touches the next run', async () => {
    const { pool, queue, clock } = setup(2);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    const kept = frames.tryNext();
    if (kept === null) throw new Error('no frame');
    const slot = kept.slot;
    let stopped = false;
    const stop = queue.stop().then(() => (stopped = true));
    clock.advance(GRACE - 1n);
    await settle();
    expect(stopped).toBe(false);
    clock.advance(1n);
    await stop;
    expect(queue.stats).toMatchObject({ revoked: 1, reclaimed: 0 });
    expect(pool.outstanding).toBe(0);
    expect(kept.revoked).toBe(true);
    expect(kept.held).toBe(false);
    expectStateError(() => kept.data, 'revoked');
    expect(frames.tryNext()).toBeNull();
    expect(frames.state).toBe('ended');

    // Next run: both slots are used again, including the revoked one, by a new consumer.
    const again = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    queue.takeFrame()?.complete(1);
    const a = again.tryNext();
    const b = again.tryNext();
    const reused = a?.slot === slot ? a : b;
    expect(reused?.slot).toBe(slot);
    expect(pool.state(slot)).toBe(SlotState.Held);
    // The old consumer finally releases: refused, counted, and the new owner's frame is untouched.
    expect(kept.release()).toBe(false);
    expect(frames.staleReleases).toBe(1);
    expect(pool.staleReleases).toBe(1);
    expect(pool.state(slot)).toBe(SlotState.Held);
    expect(reused?.held).toBe(true);
    expect(() => kept.release()).toThrow(KsStateError); // twice is still a bug
    a?.release();
    b?.release();
    await queue.stop();
    expect(pool.census()).toEqual({ free: 2, queued: 0, mapped: 0, filled: 0, held: 0 });
  });

  it('with stopGrace 0 revokes held frames at once', async () => {
    const { pool, queue } = setup(2, 64, ksTime(0));
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    const kept = frames.tryNext();
    await queue.stop();
    expect(pool.outstanding).toBe(0);
    expect(kept?.release()).toBe(false);
    expect(() => new KsQueue(pool, { stopGrace: ksTime(-1) })).toThrow(RangeError);
  });

  it('reclaimFromConsumer takes everything from a live consumer while running; a new consumer continues the run', () => {
    const { pool, queue } = setup(3);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    for (let i = 0; i < 3; i++) queue.takeFrame()?.complete(1);
    const kept = frames.tryNext();
    expect(queue.reclaimFromConsumer()).toBe(3);
    expect(queue.stats).toMatchObject({ reclaimed: 2, revoked: 1 });
    expect(frames.tryNext()).toBeNull();
    expect(frames.state).toBe('ended');
    expect(kept?.release()).toBe(false);
    const next = queue.frames();
    expect(queue.queuedCount).toBe(3);
    queue.takeFrame()?.complete(1);
    expect(next.tryNext()?.sequence).toBe(3);
    expect(pool.census().held).toBe(1);
  });

  it('gives back undelivered frames when no consumer is attached', async () => {
    const { pool, queue } = setup(2);
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    queue.takeFrame()?.complete(1);
    await queue.stop();
    expect(pool.outstanding).toBe(0);
  });

  it('is idempotent and supports start/stop cycles with sequences restarting', async () => {
    const { pool, queue } = setup(2);
    for (let cycle = 0; cycle < 3; cycle++) {
      const frames = queue.frames();
      queue.start({ start: START, period: PERIOD });
      queue.takeFrame()?.complete(1);
      const f = frames.tryNext();
      expect(f?.sequence).toBe(0);
      f?.release();
      const s1 = queue.stop();
      expect(queue.stop()).toBe(s1);
      await s1;
      expect((await frames.next()).done).toBe(true);
      expect(pool.outstanding).toBe(0);
    }
    await expect(queue.stop()).resolves.toBeUndefined();
  });

  it('forgets mappings of cancelled clones', async () => {
    const { queue } = setup(2);
    const ch = CompletionChannel.create(8);
    queue.start({ start: START, period: PERIOD });
    const c = queue.takeFrame();
    expect(c?.postMappings(ch, 100)).toBe(3);
    await queue.stop(ch);
    expect(ch.pending).toBe(0);
    expect(ch.space).toBe(8);
  });
});

describe('KsQueue with a completion channel', () => {
  it('completes a clone once all its mappings are done, summing bytes and keeping the worst status', () => {
    const { queue } = setup(3, 256);
    const frames = queue.frames();
    const ch = CompletionChannel.create(8);
    queue.start({ start: START, period: PERIOD });
    const a = queue.takeFrame();
    const b = queue.takeFrame();
    expect(a?.postMappings(ch, 100)).toBe(3);
    expect(b?.postMappings(ch, 128)).toBe(2);
    // Hardware side.
    expect(ch.frameMappings()).toBe(3);
    ch.complete(100, FrameStatus.Success);
    ch.complete(100, FrameStatus.Success);
    expect(queue.collect(ch)).toBe(2);
    expect(frames.tryNext()).toBeNull();
    ch.complete(56, FrameStatus.Success);
    ch.complete(128, FrameStatus.Success);
    ch.complete(100, FrameStatus.Truncated);
    queue.collect(ch);
    const f = frames.tryNext();
    const g = frames.tryNext();
    expect([f?.bytesUsed, f?.status, g?.bytesUsed, g?.status]).toEqual([256, 0, 228, FrameStatus.Truncated]);
  });

  it('counts frames the hardware skipped (not fully mapped) as drops', () => {
    const { queue } = setup(2, 256);
    const frames = queue.frames();
    const ch = CompletionChannel.create(2);
    queue.start({ start: START, period: PERIOD });
    const a = queue.takeFrame();
    expect(a?.postMappings(ch, 100)).toBe(0); // 3 mappings do not fit: not posted, never half-filled
    expect(ch.frameMappings()).toBe(0);
    ch.skipFrame();
    queue.collect(ch);
    expect(queue.dropCount).toBe(1);
    expect(a?.postMappings(ch, 128)).toBe(2);
    ch.complete(128, FrameStatus.Success);
    ch.complete(128, FrameStatus.Success);
    queue.collect(ch);
    const f = frames.tryNext();
    expect([f?.sequence, f?.dropCount, f?.bytesUsed]).toEqual([1, 1, 256]);
  });

  it('takes sequence numbers and drops from the frame indices the hardware reports', () => {
    const { queue } = setup(2, 256);
    const frames = queue.frames();
    const ch = CompletionChannel.create(4);
    queue.start({ start: START, period: PERIOD });
    const a = queue.takeFrame();
    ch.skipFrame(); // frame time 0: nothing mapped yet
    expect(a?.postMappings(ch, 256)).toBe(1);
    ch.complete(256, FrameStatus.Success, 1);
    ch.skipFrame(); // frame times 2 and 3
    ch.skipFrame();
    queue.collect(ch); // one batch: the skips must not be counted twice
    const f = frames.tryNext();
    expect([f?.sequence, f?.dropCount]).toEqual([1, 1]);
    queue.takeFrame()?.postMappings(ch, 256);
    ch.complete(256, FrameStatus.Success, 4);
    queue.collect(ch);
    const g = frames.tryNext();
    expect([g?.sequence, g?.dropCount, g?.presentationTime]).toEqual([4, 3, START + 4n * PERIOD]);
  });
});

describe('KsQueue and StreamPointer errors', () => {
  it('refuses wrong-state calls with KsStateError naming the states', async () => {
    const { queue } = setup(2);
    queue.start({ start: START, period: PERIOD });
    expectStateError(() => queue.start({ start: START, period: PERIOD }), 'running');
    const edge = queue.leadingEdge();
    expectStateError(() => edge?.advance(), 'queued'); // not cloned
    const c = edge?.clone();
    expectStateError(() => edge?.clone(), 'cloned');
    expectStateError(() => c?.clone(), 'clone');
    expectStateError(() => c?.advance(), 'clone');
    expectStateError(() => edge?.complete(1), 'leading');
    c?.complete(1);
    expectStateError(() => c?.complete(1), 'inactive');
    expectStateError(() => c?.cancel(), 'inactive');
    expectStateError(() => c?.data, 'inactive');
    await queue.stop();
  });

  it('rejects bad arguments with RangeError', () => {
    const { queue } = setup(2, 64);
    expect(() => queue.start({ start: START, period: ksTime(0) })).toThrow(RangeError);
    expect(() => queue.start({ start: START, period: PERIOD, firstIndex: -1 })).toThrow(RangeError);
    queue.start({ start: START, period: PERIOD });
    const c = queue.takeFrame();
    expect(() => c?.complete(65)).toThrow(RangeError);
    expect(() => c?.complete(-1)).toThrow(RangeError);
    expect(() => c?.mappings(16, 65)).toThrow(RangeError);
    expect(() => queue.dropFrame(0)).toThrow(RangeError);
    expect(c?.active).toBe(true); // a refused completion changes nothing
  });
});

describe('KsQueue property', () => {
  type Op =
    | { kind: 'take' | 'consume' | 'drop' | 'restart' }
    | { kind: 'complete' | 'cancel' | 'release'; pick: number; bad?: boolean };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ kind: 'take' as const }),
    fc.constant({ kind: 'consume' as const }),
    fc.constant({ kind: 'drop' as const }),
    fc.constant({ kind: 'restart' as const }),
    fc.record({ kind: fc.constant('complete' as const), pick: fc.nat(7), bad: fc.boolean() }),
    fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(7) }),
    fc.record({ kind: fc.constant('release' as const), pick: fc.nat(7) }),
  );

  it('random producer/consumer interleavings keep order, drop accounting and buffer balance', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { maxLength: 120 }),
        async (slots, ops) => {
          const { pool, queue } = setup(slots, 32);
          const checker = new StreamInvariantChecker();
          checker.attach(queue);
          let frames = queue.frames();
          queue.start({ start: START, period: PERIOD });
          let clones: StreamPointer[] = [];
          let held: Frame[] = [];
          const endRun = async (): Promise<void> => {
            const stop = queue.stop();
            for (const f of held) f.release();
            held = [];
            for await (const f of frames) {
              checker.consumerSaw(f.sequence);
              f.release();
            }
            await stop;
            clones = [];
            expect(pool.outstanding).toBe(0);
          };
          for (const o of ops) {
            switch (o.kind) {
              case 'take': {
                const c = queue.takeFrame();
                if (c === null) queue.dropFrame();
                else clones.push(c);
                break;
              }
              case 'drop':
                queue.dropFrame();
                break;
              case 'consume': {
                const f = frames.tryNext();
                if (f !== null) {
                  checker.consumerSaw(f.sequence);
                  held.push(f);
                }
                break;
              }
              case 'complete':
              case 'cancel':
              case 'release': {
                const length = o.kind === 'release' ? held.length : clones.length;
                if (length === 0) break;
                const i = o.pick % length;
                if (o.kind === 'release') {
                  held[i]?.release();
                  held.splice(i, 1);
                } else {
                  const c = clones[i] as StreamPointer;
                  if (o.kind === 'complete')
                    c.complete(16, o.bad === true ? FrameStatus.DataError : FrameStatus.Success);
                  else c.cancel();
                  clones.splice(i, 1);
                }
                break;
              }
              case 'restart':
                await endRun();
                frames = queue.frames();
                queue.start({ start: START, period: PERIOD });
                break;
            }
            const c = pool.census();
            expect(c.held).toBe(held.length);
            expect(c.mapped).toBe(queue.undeliveredClones);
            expect(queue.undeliveredClones).toBeGreaterThanOrEqual(clones.length);
            expect(pool.outstanding).toBe(slots - c.free);
          }
          await endRun();
          checker.checkBalance();
          checker.assertClean();
          expect(checker.runs).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('KsQueue stop while stopped', () => {
  it('ends a consumer that attached for a run that never started', async () => {
    const { queue } = setup(2);
    const frames = queue.frames();
    const next = frames.next();
    await queue.stop();
    expect((await next).done).toBe(true);
    expect(queue.snapshot()).toEqual({
      state: 'stopped',
      slots: { free: 2, queued: 0, mapped: 0, filled: 0, held: 0 },
      undeliveredClones: 0,
      stats: { delivered: 0, dropped: 0, cancelled: 0, reclaimed: 0, revoked: 0 },
    });
  });

  it('requeues every slot after cancelAll while running, including ones released meanwhile', () => {
    const { pool, queue } = setup(3);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    queue.takeFrame()?.complete(1);
    const f = frames.tryNext();
    queue.takeFrame();
    queue.cancelAll();
    f?.release();
    expect(queue.queuedCount).toBe(3);
    expect(pool.census().queued).toBe(3);
    const c = queue.takeFrame();
    c?.complete(1);
    expect(frames.tryNext()?.sequence).toBe(1);
  });
});

describe('KsQueue with a DMA engine in a Worker', () => {
  it('the Worker fills and completes frames through the channel; the main thread collects with waitAsync', async () => {
    const { pool, queue } = setup(4, 4096);
    const checker = new StreamInvariantChecker();
    checker.attach(queue);
    const ch = CompletionChannel.create(16);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    const service = queue.serviceChannel(ch);
    const feed = (): void => {
      while (ch.space >= 2) {
        const c = queue.takeFrame();
        if (c === null) return;
        expect(c.postMappings(ch, 2048)).toBe(2);
      }
    };
    feed();
    const worker = new Worker(new URL('./testing/dma-hardware-worker.js', import.meta.url), {
      workerData: { pool: pool.share(), channel: ch.share(), frames: 30, skipAt: [5, 6, 20] },
    });
    const failed = new Promise<never>((_, reject) => {
      worker.on('message', (m: { type: string; message?: string }) => {
        if (m.type === 'error') reject(new Error(m.message));
      });
      worker.on('error', reject);
    });
    const seen: Array<[number, number, number]> = [];
    try {
      const consume = (async () => {
        for await (const f of frames) {
          checker.consumerSaw(f.sequence);
          seen.push([
            f.sequence,
            f.dropCount,
            new DataView(f.data.buffer, f.data.byteOffset, 4).getUint32(0, true),
          ]);
          f.release();
          if (seen.length === 27) break;
          feed();
        }
      })();
      await Promise.race([consume, failed]);
      await queue.stop(ch);
      await service.done;
    } finally {
      await worker.terminate();
    }
    const expected = Array.from({ length: 30 }, (_, n) => n).filter((n) => ![5, 6, 20].includes(n));
    expect(seen.map((x) => x[0])).toEqual(expected);
    expect(seen.map((x) => x[2])).toEqual(expected); // the pixels the Worker wrote, seen in place
    expect(seen.map((x) => x[1])).toEqual(expected.map((n) => (n < 5 ? 0 : n < 20 ? 2 : 3)));
    expect(pool.outstanding).toBe(0);
    checker.checkBalance();
    checker.assertClean();
  });
});
