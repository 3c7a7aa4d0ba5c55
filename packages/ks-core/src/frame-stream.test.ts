// Tests of FrameStream on the main thread and in a Worker: ordering, zero copy, release rules, stop and balance.
import { describe, expect, it } from '@jest/globals';
import { FramePool, SlotState } from './frame-pool.js';
import { attachFrameStream } from './frame-stream.js';
import type { FrameStreamHandle } from './frame-stream.js';
import { KsStateError } from './ks-error.js';
import { ksTime } from './ks-time.js';
import { ManualClock } from './manual-clock.js';
import { KsQueue } from './queue.js';
import { SlotRing } from './slot-ring.js';
import { FrameStatus } from './stream-header.js';
import { Worker } from 'node:worker_threads';
import { HandoffWord } from './testing/handoff-consumer-worker.js';
import type { HandoffConsumerData, HandoffConsumerReport } from './testing/handoff-consumer-worker.js';
import { StreamInvariantChecker } from './testing/invariant-checker.js';
import { WorkerConsumer } from './testing/worker-consumer.js';

const PERIOD = ksTime(400_000);
const START = ksTime(0);

const GRACE = ksTime(10_000_000);

function setup(
  slotCount = 4,
  dataBytes = 64,
): { pool: FramePool; queue: KsQueue; checker: StreamInvariantChecker; clock: ManualClock } {
  const pool = FramePool.allocate({ slotCount, dataBytes });
  // Stop's grace period runs on this clock: it passes only when a test advances it.
  const clock = new ManualClock(0n);
  const queue = new KsQueue(pool, { name: 'stream test', clock, stopGrace: GRACE });
  const checker = new StreamInvariantChecker();
  checker.attach(queue);
  return { pool, queue, checker, clock };
}

/** Fills one frame: its sequence in the first 4 bytes (LE), byte 8 cleared for the consumer's mark. */
function produceOne(queue: KsQueue): boolean {
  const c = queue.takeFrame();
  if (c === null) {
    queue.dropFrame();
    return false;
  }
  const seq = queue.nextFrameIndex + queue.undeliveredClones - 1;
  const d = c.data;
  d[0] = seq & 0xff;
  d[1] = (seq >>> 8) & 0xff;
  d[2] = (seq >>> 16) & 0xff;
  d[3] = (seq >>> 24) & 0xff;
  d[8] = 0;
  c.complete(d.length);
  return true;
}

/** Produces `n` frames, waiting (without sleeping) for the consumer to release a frame whenever none is free. */
async function produce(queue: KsQueue, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await queue.whenFrameAvailable();
    if (!produceOne(queue)) throw new Error('no frame after whenFrameAvailable');
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('FrameStream on the main thread', () => {
  it('waits for a frame without blocking and yields it when the producer completes', async () => {
    const { queue, checker } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    let got = -1;
    const next = frames.next().then((r) => {
      if (r.done !== true) {
        got = r.value.sequence;
        r.value.release();
      }
    });
    await settle();
    expect(got).toBe(-1);
    produceOne(queue);
    await next;
    expect(got).toBe(0);
    const stop = queue.stop();
    expect((await frames.next()).done).toBe(true);
    await stop;
    checker.checkBalance();
    checker.assertClean();
  });

  it('consumes a whole run with for-await while a producer fills frames, keeping every invariant', async () => {
    const { queue, checker, pool } = setup(3);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    const seen: number[] = [];
    let allSeen: () => void = () => undefined;
    const twenty = new Promise<void>((r) => (allSeen = r));
    const consumer = (async () => {
      for await (const f of frames) {
        checker.consumerSaw(f.sequence, frames.state === 'ended');
        expect(f.data[0]).toBe(f.sequence & 0xff);
        seen.push(f.sequence);
        f.release();
        if (seen.length === 20) allSeen();
      }
    })();
    await produce(queue, 20);
    // Stop discards what the consumer has not taken yet: let it take the last frames first.
    await twenty;
    await queue.stop();
    await consumer;
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.outstanding).toBe(0);
    checker.checkBalance();
    checker.assertClean();
  });

  it('throws a typed error on double release and on use after release', () => {
    const { queue } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    produceOne(queue);
    const f = frames.tryNext();
    if (f === null) throw new Error('no frame');
    expect(f.plane(0)).toBe(queue.pool.planeData(f.slot, 0));
    expect(() => f.plane(1)).toThrow(RangeError);
    f.release();
    for (const use of [() => f.release(), () => f.data, () => f.sequence, () => f.plane(0)]) {
      let err: unknown;
      try {
        use();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KsStateError);
      expect((err as KsStateError).current).toBe('released');
      expect((err as KsStateError).required).toEqual(['held']);
    }
    expect(f.held).toBe(false);
  });

  it('allows one consumer at a time', () => {
    const { queue } = setup();
    const a = queue.frames();
    expect(() => queue.frames()).toThrow(KsStateError);
    expect(() => attachFrameStream(queue.shareStream())).toThrow(KsStateError);
    a.close();
    const b = queue.frames();
    expect(b.state).toBe('open');
  });

  it('rejects a second next() while one is waiting', async () => {
    const { queue } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    const first = frames.next();
    await expect(frames.next()).rejects.toBeInstanceOf(KsStateError);
    produceOne(queue);
    const r = await first;
    if (r.done !== true) r.value.release();
    await queue.stop();
    expect(frames.state).toBe('open'); // it notices the end on its next call
    expect((await frames.next()).done).toBe(true);
    expect(frames.state).toBe('ended');
  });

  it('breaking out of for-await gives back undelivered frames; taken frames stay held until released', async () => {
    const { pool, queue } = setup(4);
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    for (let i = 0; i < 3; i++) produceOne(queue);
    let kept: { release(): void } | undefined;
    for await (const f of frames) {
      kept = f;
      break;
    }
    expect(frames.state).toBe('ended');
    expect(pool.census()).toEqual({ free: 2, queued: 1, mapped: 0, filled: 0, held: 1 });
    // The two frames given back are requeued at the producer's next look: it can fill them again.
    expect(queue.queuedCount).toBe(3);
    expect(pool.census()).toEqual({ free: 0, queued: 3, mapped: 0, filled: 0, held: 1 });
    // A new consumer may attach while the first still holds a frame.
    const again = queue.frames();
    produceOne(queue);
    const third = again.tryNext();
    expect(third?.sequence).toBe(3);
    let stopped = false;
    const stop = queue.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    kept?.release();
    again.close();
    await settle();
    expect(stopped).toBe(false); // `again` still holds frame 3
    expect(pool.census().held).toBe(1);
    third?.release();
    await stop;
    expect(pool.outstanding).toBe(0);
  });

  it('works through a handle attached on the same thread, and rejects malformed handles', async () => {
    const { queue } = setup();
    const handle = queue.shareStream();
    const frames = attachFrameStream(structuredClone(handle));
    queue.start({ start: START, period: PERIOD });
    produceOne(queue);
    const r = await frames.next();
    expect(r.done !== true && r.value.sequence).toBe(0);
    if (r.done !== true) r.value.release();
    await queue.stop();
    expect(() => attachFrameStream({} as FrameStreamHandle)).toThrow(TypeError);
    expect(() => attachFrameStream({ ...handle, ends: Number.NaN })).toThrow(TypeError);
  });

  it('delivers Disconnected frames on hot-unplug and ends at stop', async () => {
    const { queue, checker } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    produceOne(queue);
    queue.takeFrame();
    queue.completeAll(FrameStatus.Disconnected);
    // As the pin does on removal: the Disconnected frames stay readable, telling the consumer why.
    const stop = queue.stop(undefined, { keepDelivered: true });
    const statuses: number[] = [];
    for await (const f of frames) {
      statuses.push(f.status);
      f.release();
    }
    await stop;
    expect(statuses).toEqual([FrameStatus.Success, FrameStatus.Disconnected]);
    checker.assertClean();
  });
});

describe('FrameStream in a Worker', () => {
  it('a Worker consumer receives every frame in order from the same memory and releases it; balance intact', async () => {
    const { pool, queue, checker } = setup(3, 64);
    const consumer = await WorkerConsumer.start(queue.shareStream(), {
      checkPattern: true,
      markByte: 8,
      probeErrors: true,
    });
    try {
      queue.start({ start: START, period: PERIOD });
      await produce(queue, 25);
      await consumer.whenConsumed(25);
      await queue.stop();
      const report = await consumer.report;
      for (const s of report.sequences) checker.consumerSaw(s);
      expect(report.received).toBe(25);
      expect(report.sequences).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(report.presentationTimes[24]).toBe((24n * PERIOD).toString());
      expect(report.patternErrors).toBe(0);
      // The Worker wrote into the frames it received; the producer's own memory shows it: nothing was copied.
      expect(report.marked).toBe(25);
      for (let s = 0; s < 3; s++) expect(pool.data(s)[8]).toBe(0xa5);
      expect(report.releaseTwice).toEqual({
        name: 'KsStateError',
        code: 'InvalidDeviceState',
        current: 'released',
      });
      expect(report.useAfterRelease?.current).toBe('released');
      expect(pool.outstanding).toBe(0);
      checker.checkBalance();
      checker.assertClean();
    } finally {
      await consumer.terminate();
    }
  });

  it('stop waits (within the grace period) for frames a Worker holds and completes when it releases them', async () => {
    const { pool, queue, checker } = setup(4, 64);
    const consumer = await WorkerConsumer.start(queue.shareStream(), { hold: 2 });
    try {
      queue.start({ start: START, period: PERIOD });
      for (let i = 0; i < 3; i++) produceOne(queue);
      await consumer.whenConsumed(3); // holds two, released the third
      let stopped = false;
      const stop = queue.stop().then(() => (stopped = true));
      await consumer.ended;
      await settle();
      expect(queue.state).toBe('stopping');
      expect(stopped).toBe(false);
      expect(pool.census().held).toBe(2);
      await consumer.releaseHeld();
      await stop;
      expect(pool.outstanding).toBe(0);
      const report = await consumer.report;
      expect(report.sequences).toEqual([0, 1, 2]);
      checker.checkBalance();
      checker.assertClean();
    } finally {
      await consumer.terminate();
    }
  });
});

describe('FrameStream close', () => {
  it('a release that finds the released ring full is not lost: the producer rescans the pool', () => {
    const { pool, queue, checker } = setup(4, 64);
    queue.start({ start: START, period: PERIOD });
    const stream = queue.frames();
    expect(produceOne(queue)).toBe(true);
    const frame = stream.tryNext();
    expect(frame).not.toBeNull();
    // Fill the released ring (through a second view of it, as another thread would) with ids of a
    // queued slot: harmless stale hints, but no room for the real release.
    const ring = SlotRing.attach(queue.shareStream().released);
    const queued = [0, 1, 2, 3].find((s) => pool.state(s) === SlotState.Queued)!;
    while (ring.push(queued));
    expect(frame!.release()).toBe(true);
    expect(ring.overflows).toBe(1);
    // The producer's next look scans: every slot is back in rotation.
    expect(queue.queuedCount).toBe(4);
    expect(pool.census()).toMatchObject({ free: 0, queued: 4 });
    stream.close();
    checker.assertClean();
  });

  it('finishes a pending next() at once', async () => {
    const { queue } = setup();
    const frames = queue.frames();
    queue.start({ start: START, period: PERIOD });
    const pending = frames.next();
    await settle();
    frames.close();
    expect((await pending).done).toBe(true);
    await queue.stop();
  });
});

describe('consumer that dies', () => {
  it('reclaimFromConsumer takes back what a terminated Worker held so stop completes', async () => {
    const { pool, queue } = setup(4, 64);
    const consumer = await WorkerConsumer.start(queue.shareStream(), { hold: 2 });
    queue.start({ start: START, period: PERIOD });
    for (let i = 0; i < 2; i++) produceOne(queue);
    await consumer.whenHolding(2);
    await consumer.terminate(); // holds 2 frames forever now
    let stopped = false;
    const stop = queue.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    expect(queue.snapshot().slots.held).toBe(2);
    expect(queue.reclaimFromConsumer()).toBe(2);
    await stop;
    expect(pool.outstanding).toBe(0);
    // The consumer side is free again.
    queue.frames().close();
  });
});

describe('stop never waits for a stuck consumer', () => {
  it('a Worker that stops reading with frames queued to it: stop reclaims them at once; its stream ends when it reads again', async () => {
    const { pool, queue, checker } = setup(4, 64);
    const consumer = await WorkerConsumer.start(queue.shareStream(), { readLimit: 1 });
    try {
      queue.start({ start: START, period: PERIOD });
      for (let i = 0; i < 4; i++) produceOne(queue);
      await consumer.stalled;
      await queue.stop(); // the clock never moves: nothing is waited for
      expect(pool.outstanding).toBe(0);
      expect(queue.stats.reclaimed).toBe(3);
      consumer.resume();
      const report = await consumer.report;
      expect(report.sequences).toEqual([0]);
      report.sequences.forEach((q) => checker.consumerSaw(q));
      checker.checkBalance();
      checker.assertClean();
    } finally {
      await consumer.terminate();
    }
  });

  it('a Worker holding a frame: revoked when the grace period ends; its late release is a counted no-op; the next run is clean', async () => {
    const { pool, queue, checker, clock } = setup(2, 64);
    const stuck = await WorkerConsumer.start(queue.shareStream(), { hold: 1 });
    const next: WorkerConsumer[] = [];
    try {
      queue.start({ start: START, period: PERIOD });
      produceOne(queue);
      await stuck.whenHolding(1);
      let stopped = false;
      const stop = queue.stop().then(() => (stopped = true));
      await stuck.ended;
      await settle();
      expect(stopped).toBe(false);
      clock.advance(GRACE);
      await stop;
      expect(queue.stats.revoked).toBe(1);
      expect(pool.outstanding).toBe(0);

      // Restart with a new Worker consumer; both slots are used again before the old one lets go.
      const fresh = await WorkerConsumer.start(queue.shareStream(), { hold: 2 });
      next.push(fresh);
      queue.start({ start: START, period: PERIOD });
      produceOne(queue);
      produceOne(queue);
      await fresh.whenHolding(2);
      expect(pool.census().held).toBe(2);
      await stuck.releaseHeld();
      const late = await stuck.report;
      expect(late.lateReleases).toBe(1);
      expect(late.staleReleases).toBe(1);
      expect(late.revokedAccess).toEqual({
        name: 'KsStateError',
        code: 'InvalidDeviceState',
        current: 'revoked',
      });
      expect(pool.staleReleases).toBe(1);
      // The new run's frames were not touched by the stale release.
      expect(pool.census().held).toBe(2);
      await fresh.releaseHeld();
      await queue.stop();
      const report = await fresh.report;
      expect(report.sequences).toEqual([0, 1]);
      expect(report.lateReleases).toBe(0);
      expect(pool.census()).toEqual({ free: 2, queued: 0, mapped: 0, filled: 0, held: 0 });
      checker.checkBalance();
      checker.assertClean();
    } finally {
      await stuck.terminate();
      for (const c of next) await c.terminate();
    }
  });
});

describe('two consumers releasing in one run', () => {
  it('a detached Worker still releasing while another Worker streams: every slot comes back, balance intact', async () => {
    // Two Workers take turns: each attaches, takes framesPerTurn frames (releasing as it goes), detaches
    // still holding holdAtDetach of them and releases those one per frame the other one takes, so both
    // threads push into the released ring side by side, turn after turn. A lost push would leave a slot
    // free and out of rotation: the census below would find it.
    const slots = 24;
    const { pool, queue, checker } = setup(slots, 64);
    queue.start({ start: START, period: PERIOD });
    const control = new SharedArrayBuffer(32);
    const ctl = new Int32Array(control);
    const turns = 40;
    const framesPerTurn = 48;
    const holdAtDetach = 8;
    const workers = [0, 1].map((me) => {
      const data: HandoffConsumerData = {
        handle: queue.shareStream(),
        control,
        me,
        framesPerTurn,
        holdAtDetach,
        turns,
      };
      return new Worker(new URL('./testing/handoff-consumer-worker.js', import.meta.url), {
        workerData: data,
      });
    });
    const reports = Promise.all(
      workers.map(
        (w) =>
          new Promise<HandoffConsumerReport>((resolve, reject) => {
            w.on('message', (m: HandoffConsumerReport | { type: 'error'; message: string }) => {
              if (m.type === 'done') resolve(m);
              else reject(new Error(m.message));
            });
            w.on('error', reject);
            w.on('exit', (code) => reject(new Error(`consumer exited (${code}) without a report`)));
          }),
      ),
    );
    let finished = false;
    void reports.then(
      () => (finished = true),
      () => (finished = true),
    );
    try {
      // The producer: a frame whenever one is queued, until both consumers are done.
      while (!finished) {
        await Promise.race([queue.whenFrameAvailable(), reports.catch(() => undefined)]);
        if (!finished && queue.leadingEdge() !== null) produceOne(queue);
      }
      const [a, b] = await reports;
      if (a === undefined || b === undefined) throw new Error('missing report');
      expect(Atomics.load(ctl, HandoffWord.TurnsDone)).toBe(turns);
      expect(a.taken + b.taken).toBe(turns * framesPerTurn);
      expect([a.staleReleases, b.staleReleases, a.contentErrors, b.contentErrors]).toEqual([0, 0, 0, 0]);
      expect([a.orderErrors, b.orderErrors]).toEqual([0, 0]);
      // Every frame held at a detach (all turns but the last) was released while the other consumer
      // streamed.
      expect(a.releasedDuringOtherTurn + b.releasedDuringOtherTurn).toBe(holdAtDetach * (turns - 1));
      // Every slot is back in rotation: queued (after taking in the released ring), with the hardware, or
      // delivered and waiting; none held, none free and forgotten.
      const queued = queue.queuedCount;
      const census = pool.census();
      expect(census.held).toBe(0);
      expect(census.free).toBe(0);
      expect(queued + queue.undeliveredClones + census.filled).toBe(slots);
      expect(pool.staleReleases).toBe(0);
      await queue.stop();
      expect(queue.stats.revoked).toBe(0);
      checker.checkBalance();
      checker.assertClean();
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }, 20_000);
});
