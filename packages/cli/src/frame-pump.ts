// Drives a capture pin from RUN to STOP and hands each frame to a callback, on the wall clock or a stepped virtual clock.
import { FrameStatus, type Frame, type KsQueue, type ManualClock } from '@ksemu/ks-core';
import type { CaptureSession } from './capture-session.js';

/** Why a pump ended. */
export type PumpEnd = 'count' | 'duration' | 'signal' | 'end-of-stream' | 'error' | 'done';

/** Options of {@link pumpFrames}. */
export interface PumpOptions {
  /** Stop after this many frames. */
  readonly frames?: number;
  /** Stop after this much stream time (100 ns). */
  readonly duration?: bigint;
  /** Abort (Ctrl-C): stop cleanly and return what was captured. */
  readonly signal?: AbortSignal;
  /**
   * Called for each frame; the frame is released after the returned promise settles. Return
   * `false` to stop.
   */
  readonly onFrame: (frame: Frame) => Promise<boolean | void> | boolean | void;
}

/** Result of a pump. */
export interface PumpResult {
  readonly end: PumpEnd;
  readonly error?: unknown;
}

// In virtual time a frame the device drops never arrives, but the queue counts the drop, so the
// pump steps on when the drop count moves. Only if neither a frame nor a drop shows up for this
// much wall time (an unknown device-side loss) does it step on anyway.
const VIRTUAL_STALL_MS = 10_000;

/**
 * Runs the pin, delivers frames to `onFrame` until a stop condition, then stops the pin (which
 * waits for every frame to come back). In virtual mode the pump advances the session's manual
 * clock by one frame interval each time it waits for a frame, so streams run as fast as the
 * machine allows and stay bit-exact.
 */
export async function pumpFrames(session: CaptureSession, options: PumpOptions): Promise<PumpResult> {
  const { pin, manualClock, format } = session;
  const interval = format.frameInterval as bigint;
  let end: PumpEnd = 'done';
  let error: unknown;
  let stopping: Promise<void> | undefined;
  const stop = (why: PumpEnd): void => {
    if (end === 'done') end = why;
    stopping ??= pin.stop();
  };
  const onAbort = (): void => stop('signal');
  if (options.signal?.aborted) return { end: 'signal' };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let timer: NodeJS.Timeout | undefined;
  try {
    await pin.run();
    const start = session.clock.now() as bigint;
    if (options.duration !== undefined && !manualClock) {
      timer = setTimeout(() => stop('duration'), Number(options.duration / 10_000n));
    }
    const stream = pin.frames();
    // Read while running: the queue's counters stay valid after stop, the pin's accessor does not.
    const queue = pin.queue;
    const it = stream[Symbol.asyncIterator]();
    let delivered = 0;
    for (;;) {
      let next: IteratorResult<Frame>;
      if (manualClock && !stopping) {
        next = await virtualNext(it, manualClock, queue, interval);
      } else {
        next = await it.next();
      }
      if (next.done) {
        if (end === 'done') end = 'end-of-stream';
        break;
      }
      const frame = next.value;
      let more: boolean | void = true;
      try {
        if (frame.status === FrameStatus.Disconnected) {
          error = new Error('the device was disconnected');
          more = false;
          stop('error');
        } else if (!stopping) {
          more = await options.onFrame(frame);
        }
      } finally {
        frame.release();
      }
      delivered++;
      if (stopping) continue; // drain what was already delivered
      if (more === false) stop('done');
      else if (options.frames !== undefined && delivered >= options.frames) stop('count');
      else if (
        options.duration !== undefined &&
        manualClock &&
        (session.clock.now() as bigint) - start >= options.duration
      )
        stop('duration');
    }
  } catch (err) {
    error = err;
    end = 'error';
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    try {
      await (stopping ?? pin.stop());
    } catch (err) {
      error ??= err;
    }
  }
  return error === undefined ? { end } : { end: 'error', error };
}

async function virtualNext(
  it: AsyncIterator<Frame>,
  clock: ManualClock,
  queue: KsQueue,
  interval: bigint,
): Promise<IteratorResult<Frame>> {
  const pending = it.next();
  let settled = false;
  void pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Give already-queued frames a chance first: no clock step if one is ready now.
  await new Promise<void>((r) => setImmediate(r));
  const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));
  while (!settled) {
    const dropped = queue.stats.dropped;
    clock.advance(interval);
    const deadline = performance.now() + VIRTUAL_STALL_MS;
    while (!settled && queue.stats.dropped === dropped && performance.now() < deadline) {
      await Promise.race([
        pending.then(
          () => undefined,
          () => undefined,
        ),
        tick(),
      ]);
    }
  }
  return pending;
}
