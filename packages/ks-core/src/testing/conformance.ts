// describeMinidriverConformance: one jest suite every minidriver × device runs (state table, capture N, start/stop cycles, unbalanced stop, stuck consumers, pause/resume timing, hot-unplug, buffer balance).
import { describe, it, expect, afterEach } from '@jest/globals';
import type { KsDevice } from '../device.js';
import type { KsFilter } from '../filter.js';
import type { Frame } from '../frame-stream.js';
import type { FormatRequest } from '../intersection.js';
import { isKsError } from '../ks-error.js';
import type { KsTime } from '../ks-time.js';
import { ManualClock } from '../manual-clock.js';
import { KS_STATES, type KsPin, type KsState } from '../pin.js';
import type { KsQueue } from '../queue.js';
import { FrameStatus, frameStatusName } from '../stream-header.js';
import { StreamInvariantChecker } from './invariant-checker.js';
import { WorkerConsumer } from './worker-consumer.js';

/** What `makeDevice` returns: a device on the given clock and a way to pull it. */
export interface ConformanceSubject {
  readonly device: KsDevice;
  /** Simulates the HAL device disconnecting; the minidriver must react with `device.surpriseRemoval()`. */
  unplug(): void | Promise<void>;
  /** Filter factory to test (default 0). */
  readonly factory?: number;
  /** Pin type to stream from (default: the first `out` pin with video data ranges). */
  readonly pinId?: number;
  /** Format to set (default `{}`: the first range's defaults). */
  readonly format?: FormatRequest;
  /**
   * For devices that produce frames on another thread (a DMA engine worker): resolves once the
   * device has handled every frame due on the clock so far and handed its completions to the
   * minidriver; rejects if the device is stuck. The suite awaits it after every clock step, so
   * how many frames a step yields never depends on how fast that thread happens to run. Devices
   * that complete frames on the clock's own callbacks leave it out.
   */
  settle?(): Promise<void>;
}

/** Options of {@link describeMinidriverConformance}. */
export interface ConformanceOptions {
  /** Frame counts of the capture test (default 1, 2, 3, 5, 8, 89 as lc-compliance). */
  readonly frameCounts?: readonly number[];
  /** Where frames are consumed: this thread's iterator or a Worker (default `main`). */
  readonly consumer?: 'main' | 'worker';
  /**
   * Frame times allowed per expected frame before the test fails (default 4). Not a speed
   * budget: with `settle` every frame time is fully handled before the next, so a conforming
   * device delivers one frame per frame time and the slack only covers start-up.
   */
  readonly maxTicksPerFrame?: number;
  /** Event-loop turns granted after each tick (and after `settle`) for promise chains (default 3). */
  readonly settleTurns?: number;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** True while the consumer still has delivered or held frames of `run`'s pin. */
function busy(run: { pin: KsPin }): boolean {
  const c = run.pin.pool.census();
  return c.filled + c.held > 0;
}

/** One test's running context. */
interface Run {
  clock: ManualClock;
  subject: ConformanceSubject;
  filter: KsFilter;
  pin: KsPin;
  checker: StreamInvariantChecker;
}

/**
 * Registers the conformance suite for one minidriver × device. `makeDevice` gets a fresh
 * ManualClock per test and must build a fresh device on it. Every test ends with buffer balance
 * (every slot free), the stream invariant checker clean, and the device closed. The stuck-consumer
 * tests (a consumer that never reads, one that never releases, through stop, `device.close()` and
 * hot-unplug) let the device's `stopGrace` pass on that clock once the queue's stop has begun, so
 * the hardware is stopped by then and the jump must not make it deliver anything. The pause/resume
 * test asks a device to deliver nothing in PAUSE (with ten frame times passing on the clock) and, after
 * PAUSE→RUN, to continue with the next frame index: presentation times go on from the pause point with
 * no jump by the paused time and no repeat (a minidriver reporting hardware frame indices renumbers
 * from `pin.queue.nextFrameIndex` at resume).
 */
export function describeMinidriverConformance(
  name: string,
  makeDevice: (clock: ManualClock) => ConformanceSubject | Promise<ConformanceSubject>,
  options: ConformanceOptions = {},
): void {
  const frameCounts = options.frameCounts ?? [1, 2, 3, 5, 8, 89];
  const consumer = options.consumer ?? 'main';
  const maxTicks = options.maxTicksPerFrame ?? 4;
  const settle = options.settleTurns ?? 3;
  const open: Run[] = [];

  async function setup(): Promise<Run> {
    const clock = new ManualClock(10_000_000n);
    const subject = await makeDevice(clock);
    const filter = await subject.device.createFilter(subject.factory ?? 0);
    const pinId =
      subject.pinId ??
      filter.descriptor.pins.findIndex(
        (p) => p.dataFlow === 'out' && p.dataRanges.some((r) => r.kind === 'video'),
      );
    expect(pinId).toBeGreaterThanOrEqual(0);
    const pin = await filter.createPin(pinId);
    const proposed = pin.proposeFormat(subject.format ?? {});
    expect(proposed.status).not.toBe('invalid');
    if (proposed.status !== 'invalid') await pin.setFormat(proposed.format);
    const checker = new StreamInvariantChecker();
    pin.on('acquired', (_pool, queue) => void checker.attach(queue));
    const run = { clock, subject, filter, pin, checker };
    open.push(run);
    return run;
  }

  function period(pin: KsPin): KsTime {
    const f = pin.format;
    if (f?.kind !== 'video') throw new Error('conformance needs a video format');
    return f.frameInterval;
  }

  async function tick(run: Run): Promise<void> {
    run.clock.advance(period(run.pin));
    // Wait for the device's acknowledgement that the frame is handled, never for wall time.
    if (run.subject.settle !== undefined) await run.subject.settle();
    for (let i = 0; i < settle; i++) await turn();
  }

  /** Ticks until `n` frames were consumed on this thread, releasing each; returns their statuses. */
  async function captureMain(run: Run, n: number): Promise<number[]> {
    const stream = run.pin.frames();
    const statuses: number[] = [];
    let ticks = 0;
    while (statuses.length < n) {
      const frame = stream.tryNext();
      if (frame !== null) {
        run.checker.consumerSaw(frame.sequence);
        expect(frame.bytesUsed).toBeLessThanOrEqual(run.pin.framing.frameSize);
        statuses.push(frame.status);
        frame.release();
        continue;
      }
      expect(stream.state).toBe('open');
      if (ticks++ > n * maxTicks + 4)
        throw new Error(`only ${statuses.length} of ${n} frames after ${ticks} frame times`);
      await tick(run);
    }
    stream.close();
    return statuses;
  }

  /**
   * Attaches a Worker consumer in ACQUIRE, runs the pin, and ticks until `n` frames were delivered
   * to it; checks its report after stop. The Worker attaches and the delivered count is read
   * before RUN because a free-running device (a real camera) delivers frames as soon as it runs,
   * before any clock step: counting from after RUN would miss the ones the Worker still receives.
   */
  async function captureWorker(run: Run, n: number): Promise<void> {
    const worker = await WorkerConsumer.start(run.pin.shareFrames(), { recordLimit: n + 8 });
    try {
      const base = run.checker.deliveredCount;
      await run.pin.setState('run');
      let ticks = 0;
      while (run.checker.deliveredCount - base < n) {
        if (ticks++ > n * maxTicks + 4)
          throw new Error(
            `only ${run.checker.deliveredCount - base} of ${n} frames after ${ticks} frame times`,
          );
        await tick(run);
        // Wait for the Worker to take and release what was delivered (its acknowledgement, not
        // a count of event-loop turns), so the producer never runs dry however slow that thread is.
        await Promise.race([worker.whenConsumed(run.checker.deliveredCount - base), worker.report]);
        for (let i = 0; i < 100 && busy(run); i++) await turn();
      }
      // A free-running device may deliver more while we wait; the n frames asked for are taken first.
      await Promise.race([worker.whenConsumed(n), worker.report]);
      const queue = run.pin.queue;
      await run.pin.setState('stop');
      const report = await worker.report;
      expect(report.received).toBeGreaterThanOrEqual(n);
      // Every frame of the run reached the Worker or, delivered too late for it to take, was
      // reclaimed by the stop (as STREAMOFF does): none is lost or counted twice.
      expect(report.received + queue.stats.reclaimed).toBe(run.checker.deliveredCount - base);
      // Named, so a failure says which status and on which frame (not just `false`).
      expect(notSuccess(report.statuses, report.sequences)).toEqual([]);
      report.sequences.forEach((s) => run.checker.consumerSaw(s));
    } finally {
      await worker.terminate();
    }
  }

  /** The frames whose status is not Success, as `#<index or sequence>: <status name>`. */
  function notSuccess(statuses: readonly number[], sequences?: readonly number[]): string[] {
    const bad: string[] = [];
    statuses.forEach((s, i) => {
      if (s !== FrameStatus.Success) bad.push(`#${sequences?.[i] ?? i}: ${frameStatusName(s)}`);
    });
    return bad;
  }

  /** Resolves once `queue`'s stop has begun (the hardware is stopped by then). */
  function whenStopping(queue: KsQueue): Promise<void> {
    if (queue.state === 'stopping') return Promise.resolve();
    return new Promise<void>((resolve) => queue.observe({ stopping: () => resolve() }));
  }

  /**
   * Runs the pin and ticks until the consumer holds one frame it will not release: on this thread
   * the returned frame, in a Worker (started with `hold: 1, readLimit: 1`, so it takes nothing else)
   * the Worker's first frame.
   */
  async function holdOne(run: Run, worker: WorkerConsumer | undefined): Promise<Frame | null> {
    const stream = worker === undefined ? run.pin.frames() : undefined;
    await run.pin.setState('run');
    let kept: Frame | null = null;
    for (let i = 0; i < 20 * maxTicks && (worker === undefined ? kept === null : worker.holding < 1); i++) {
      await tick(run);
      if (stream !== undefined && kept === null) kept = stream.tryNext();
    }
    if (worker !== undefined) await worker.whenHolding(1);
    else {
      expect(kept).not.toBeNull();
      run.checker.consumerSaw(kept!.sequence);
    }
    return kept;
  }

  /**
   * Runs `body` on a fresh running pin whose consumer (this thread, or a Worker taking nothing else)
   * holds one frame it will not release ({@link holdOne}); the Worker is terminated afterwards.
   */
  async function withHeldFrame(
    body: (run: Run, kept: Frame | null, worker: WorkerConsumer | undefined) => Promise<void>,
  ): Promise<void> {
    const run = await setup();
    await run.pin.setState('acquire');
    const worker =
      consumer === 'worker'
        ? await WorkerConsumer.start(run.pin.shareFrames(), { hold: 1, readLimit: 1 })
        : undefined;
    try {
      await body(run, await holdOne(run, worker), worker);
    } finally {
      await worker?.terminate();
    }
  }

  /**
   * Checks that `pending` (a stop, close or drain blocked by a held frame) waits out the grace
   * period: still unsettled once `begun` resolved and the event loop turned, settled after the
   * device clock moves by `stopGrace` (the consumer may still release the frame until then).
   */
  async function settlesAfterGrace(run: Run, pending: Promise<unknown>, begun: Promise<void>): Promise<void> {
    let settled = false;
    const done = pending.then(() => (settled = true));
    await begun;
    for (let i = 0; i < 20; i++) await turn();
    expect(settled).toBe(false);
    run.clock.advance(run.subject.device.stopGrace);
    await done;
  }

  /**
   * Makes the old consumer's late release while a new consumer on this thread holds every slot
   * of the next run (so the revoked slot is in use again), and checks it changed nothing.
   */
  async function lateReleaseDuringNextRun(
    run: Run,
    kept: Frame | null,
    worker: WorkerConsumer | undefined,
  ): Promise<void> {
    const pool = run.pin.pool;
    const stream = run.pin.frames();
    await run.pin.setState('run');
    const held: Frame[] = [];
    for (let i = 0; i < pool.slotCount * maxTicks + 8 && held.length < pool.slotCount; i++) {
      await tick(run);
      for (let f = stream.tryNext(); f !== null; f = stream.tryNext()) {
        run.checker.consumerSaw(f.sequence);
        held.push(f);
      }
    }
    expect(held.length).toBe(pool.slotCount);
    const stale = pool.staleReleases;
    if (worker === undefined) expect(kept!.release()).toBe(false);
    else {
      await worker.releaseHeld();
      worker.resume(); // its next look finds the stream ended
      const report = await worker.report;
      expect(report.lateReleases).toBe(1);
      expect(report.revokedAccess?.current).toBe('revoked');
    }
    expect(pool.staleReleases).toBe(stale + 1);
    expect(pool.census().held).toBe(pool.slotCount);
    expect(held.every((f) => f.held)).toBe(true);
    for (const f of held) expect(f.release()).toBe(true);
    stream.close();
    await run.pin.setState('stop');
  }

  async function capture(run: Run, n: number): Promise<void> {
    if (run.pin.state === 'stop') await run.pin.setState('acquire');
    if (consumer === 'worker') {
      await captureWorker(run, n);
      return;
    }
    await run.pin.setState('run');
    const statuses = await captureMain(run, n);
    expect(notSuccess(statuses)).toEqual([]);
    await run.pin.setState('stop');
  }

  describe(`minidriver conformance: ${name} (${consumer} consumer)`, () => {
    afterEach(async () => {
      for (const run of open.splice(0)) {
        try {
          if (run.pin.state !== 'closed' && run.pin.state !== 'removed') {
            expect(run.pin.state).toBe('stop');
          }
          run.checker.checkBalance();
          run.checker.assertClean();
        } finally {
          await run.subject.device.close().catch(() => undefined);
        }
        expect(run.pin.state).toBe('closed');
      }
    });

    describe('state table', () => {
      for (const from of KS_STATES) {
        for (const to of KS_STATES) {
          it(`${from} → ${to} moves one step at a time`, async () => {
            const run = await setup();
            await run.pin.setState(from);
            const steps: string[] = [];
            run.pin.on('stateChange', (t, f) => steps.push(`${f}>${t}`));
            await run.pin.setState(to);
            expect(run.pin.state).toBe(to);
            const i = KS_STATES.indexOf(from);
            const j = KS_STATES.indexOf(to);
            const expected: string[] = [];
            for (let k = i; k !== j; k += i < j ? 1 : -1)
              expected.push(`${KS_STATES[k]}>${KS_STATES[k + (i < j ? 1 : -1)]}`);
            expect(steps).toEqual(expected);
            await run.pin.setState('stop');
          });
        }
      }

      const streamingStates: KsState[] = ['acquire', 'pause', 'run'];
      for (const state of streamingStates) {
        it(`setFormat in ${state} throws a wrong-state error naming both states`, async () => {
          const run = await setup();
          await run.pin.setState(state);
          const err = await run.pin.setFormat(run.pin.format!).catch((e: unknown) => e);
          expect(isKsError(err) && err.code).toBe('InvalidDeviceState');
          expect((err as { current?: string }).current).toBe(state);
          expect((err as { required?: string[] }).required).toEqual(['stop']);
          await run.pin.setState('stop');
        });
      }

      it('frames() in stop throws a wrong-state error; unknown states are TypeErrors', async () => {
        const run = await setup();
        expect(() => run.pin.frames()).toThrow(
          expect.objectContaining({ code: 'InvalidDeviceState', current: 'stop' }) as unknown as Error,
        );
        await expect(run.pin.setState('started' as KsState)).rejects.toThrow(TypeError);
      });
    });

    describe('capture', () => {
      for (const n of frameCounts) {
        it(`captures ${n} frame(s)`, async () => {
          const run = await setup();
          await capture(run, n);
        });
      }

      it('three start/stop cycles', async () => {
        const run = await setup();
        for (let cycle = 0; cycle < 3; cycle++) await capture(run, 3);
        expect(run.checker.runs).toBe(3);
      });

      it('stop with frames queued (unbalanced stop)', async () => {
        const run = await setup();
        await run.pin.setState('acquire');
        if (consumer === 'worker') {
          // The Worker keeps two frames; stop must wait for them to come back.
          const worker = await WorkerConsumer.start(run.pin.shareFrames(), { hold: 2 });
          try {
            await run.pin.setState('run');
            for (let i = 0; i < 4 * maxTicks && worker.holding < 2; i++) await tick(run);
            await worker.whenHolding(2);
            for (let i = 0; i < 3; i++) await tick(run);
            let stopped = false;
            const stopping = run.pin.setState('stop').then(() => (stopped = true));
            for (let i = 0; i < 20; i++) await turn();
            expect(stopped).toBe(false);
            await worker.releaseHeld();
            await stopping;
            const report = await worker.report;
            expect(report.received).toBeGreaterThanOrEqual(2);
          } finally {
            await worker.terminate();
          }
          return;
        }
        const stream = run.pin.frames();
        await run.pin.setState('run');
        for (let i = 0; i < 3; i++) await tick(run);
        const stopping = run.pin.setState('stop');
        // Whatever was delivered before the stop is still readable; then the stream ends.
        for await (const frame of stream) {
          run.checker.consumerSaw(frame.sequence);
          frame.release();
        }
        await stopping;
        expect(run.pin.state).toBe('stop');
      });

      it('stop with no consumer attached', async () => {
        const run = await setup();
        await run.pin.setState('run');
        for (let i = 0; i < 3; i++) await tick(run);
        await run.pin.setState('stop');
        expect(run.pin.state).toBe('stop');
      });
    });

    describe('stop never waits for a stuck consumer', () => {
      it('a consumer that never reads: stop returns every frame at once; the next run streams', async () => {
        const run = await setup();
        await run.pin.setState('acquire');
        const worker =
          consumer === 'worker'
            ? await WorkerConsumer.start(run.pin.shareFrames(), { readLimit: 0 })
            : undefined;
        const stream = worker === undefined ? run.pin.frames() : undefined;
        try {
          await run.pin.setState('run');
          for (let i = 0; i < 20 * maxTicks && run.checker.deliveredCount < 2; i++) await tick(run);
          expect(run.checker.deliveredCount).toBeGreaterThanOrEqual(2);
          const queue = run.pin.queue;
          // The clock stands still: the stop cannot be waiting for a grace period.
          await run.pin.setState('acquire');
          expect(run.pin.pool.outstanding).toBe(0);
          expect(queue.stats.reclaimed).toBeGreaterThanOrEqual(2);
          if (stream !== undefined) {
            expect(stream.tryNext()).toBeNull();
            expect(stream.state).toBe('ended');
          } else {
            worker!.resume();
            expect((await worker!.report).received).toBe(0);
          }
          await capture(run, 2);
        } finally {
          await worker?.terminate();
        }
      });

      it('a consumer holding a frame: stop revokes it after the grace period; its late release changes nothing in the next run', () =>
        withHeldFrame(async (run, kept, worker) => {
          const queue = run.pin.queue;
          await settlesAfterGrace(run, run.pin.setState('acquire'), whenStopping(queue));
          expect(queue.stats.revoked).toBe(1);
          expect(run.pin.pool.outstanding).toBe(0);
          if (kept !== null) expect(kept.revoked).toBe(true);
          await lateReleaseDuringNextRun(run, kept, worker);
        }));

      it('device.close() with a consumer holding a frame completes after the grace period', () =>
        withHeldFrame(async (run, kept, worker) => {
          const queue = run.pin.queue;
          await settlesAfterGrace(run, run.subject.device.close(), whenStopping(queue));
          expect(run.pin.state).toBe('closed');
          expect(queue.pool.outstanding).toBe(0);
          if (kept !== null) expect(kept.release()).toBe(false);
          else {
            await worker!.releaseHeld();
            worker!.resume();
            expect((await worker!.report).lateReleases).toBe(1);
          }
        }));

      it('hot-unplug with a consumer holding a frame: drained() after the grace period', () =>
        withHeldFrame(async (run, kept) => {
          await run.subject.unplug();
          for (let i = 0; i < 50 && run.pin.state !== 'removed'; i++) await turn();
          expect(run.pin.state).toBe('removed');
          await settlesAfterGrace(run, run.pin.drained(), Promise.resolve());
          if (kept !== null) expect(kept.release()).toBe(false);
          await run.subject.device.close();
          expect(run.pin.state).toBe('closed');
        }));
    });

    describe('pause and resume', () => {
      it('presentation times continue from the pause point on one time base: no jump by the paused time, no going back', async () => {
        // KS stream time stands still in PAUSE, so a resumed stream neither skips the paused time
        // (as dropped frames or a timestamp jump) nor repeats times; every time is still
        // start + n × period from the frame index. Consumed on this thread in both consumer modes:
        // the subject is the producer side.
        const run = await setup();
        await run.pin.setState('acquire');
        const stream = run.pin.frames();
        const seen: { seq: number; pts: bigint; drops: number }[] = [];
        const read = (): void => {
          for (let f = stream.tryNext(); f !== null; f = stream.tryNext()) {
            run.checker.consumerSaw(f.sequence);
            seen.push({ seq: f.sequence, pts: f.presentationTime, drops: f.dropCount });
            f.release();
          }
        };
        const settleDevice = async (): Promise<void> => {
          if (run.subject.settle !== undefined) await run.subject.settle();
          for (let i = 0; i < settle; i++) await turn();
        };
        await run.pin.setState('run');
        for (let i = 0; i < 20 * maxTicks && seen.length < 3; i++) {
          await tick(run);
          read();
        }
        expect(seen.length).toBeGreaterThanOrEqual(3);
        await run.pin.setState('pause');
        await settleDevice();
        read(); // whatever completed before the pause took effect
        const before = seen.length;
        const last = seen[before - 1]!;
        const streamTime = run.pin.descriptor.providesClock ? run.pin.clock().now() : undefined;
        // Ten and a half frame times in PAUSE: nothing is delivered and a pin clock stands still.
        run.clock.advance(period(run.pin) * 10n + period(run.pin) / 2n);
        await settleDevice();
        read();
        expect(seen.length).toBe(before);
        if (streamTime !== undefined) expect(run.pin.clock().now()).toBe(streamTime);
        await run.pin.setState('run');
        for (let i = 0; i < 20 * maxTicks && seen.length < before + 3; i++) {
          await tick(run);
          read();
        }
        expect(seen.length).toBeGreaterThanOrEqual(before + 3);
        const timing = run.pin.queue.currentTiming;
        for (const f of seen) expect(f.pts).toBe(timing.start + BigInt(f.seq) * timing.period);
        const first = seen[before]!;
        // The next frame after the pause point: the paused time is neither dropped frames nor a gap.
        expect({ seq: first.seq, drops: first.drops }).toEqual({ seq: last.seq + 1, drops: last.drops });
        expect(first.pts - last.pts).toBe(timing.period);
        stream.close();
        await run.pin.setState('stop');
      });
    });

    describe('hot-unplug', () => {
      it('mid-stream: outstanding frames complete with Disconnected, new calls reject, close still works', async () => {
        const run = await setup();
        await run.pin.setState('acquire');
        const worker = consumer === 'worker' ? await WorkerConsumer.start(run.pin.shareFrames()) : undefined;
        const stream = worker === undefined ? run.pin.frames() : undefined;
        try {
          await run.pin.setState('run');
          let got = 0;
          for (let i = 0; i < 20 * maxTicks && got < 2; i++) {
            await tick(run);
            if (stream === undefined) got = run.checker.deliveredCount;
            else for (let f = stream.tryNext(); f !== null; f = stream.tryNext(), got++) f.release();
          }
          expect(got).toBeGreaterThanOrEqual(2);
          await run.subject.unplug();
          for (let i = 0; i < 50 && run.pin.state !== 'removed'; i++) await turn();
          expect(run.pin.state).toBe('removed');
          if (stream !== undefined) {
            for await (const frame of stream) {
              expect([FrameStatus.Disconnected, FrameStatus.Success]).toContain(frame.status);
              frame.release();
            }
          } else {
            const report = await worker!.report;
            expect(
              report.statuses.every((s) => s === FrameStatus.Disconnected || s === FrameStatus.Success),
            ).toBe(true);
          }
          await run.pin.drained();
          await expect(run.pin.setState('run')).rejects.toMatchObject({ code: 'Disconnected' });
          await expect(run.filter.createPin(run.pin.id)).rejects.toMatchObject({ code: 'Disconnected' });
          await expect(
            run.filter.properties.get(run.filter.descriptor.referenceGuid, 0),
          ).rejects.toMatchObject({ code: 'Disconnected' });
          await run.subject.device.close();
          expect(run.pin.state).toBe('closed');
        } finally {
          await worker?.terminate();
        }
      });
    });
  });
}
