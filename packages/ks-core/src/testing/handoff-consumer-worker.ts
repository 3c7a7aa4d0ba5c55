// Worker entry for the two-releaser test: consumers that take turns attaching to one queue in one run, each
// still releasing the frames it held at detach while the other streams, so two threads release at once.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { attachFrameStream } from '../frame-stream.js';
import type { Frame, FrameStreamHandle } from '../frame-stream.js';

/** What the test passes in `workerData`. */
export interface HandoffConsumerData {
  readonly handle: FrameStreamHandle;
  /** Int32 words, see `HandoffWord`. */
  readonly control: SharedArrayBuffer;
  /** This consumer (0 or 1). Consumer 0 has the first turn. */
  readonly me: number;
  /** Frames taken per turn. */
  readonly framesPerTurn: number;
  /** Frames still held when a turn ends (detached with them), released during the other's turn. */
  readonly holdAtDetach: number;
  /** Turns of both consumers together. */
  readonly turns: number;
}

/** Words of the shared control block. */
export const HandoffWord = {
  /** Whose turn it is to attach: 0, 1, or 2 when every turn is done. */
  Turn: 0,
  /** Ticks of consumer 0 (one per frame taken, one per turn handed over); consumer 1's at +1. */
  Ticks: 1,
  /** Turns completed. */
  TurnsDone: 3,
  /** Frames consumer 0 still holds from its last turn; consumer 1's at +1. */
  Holding: 4,
} as const;
const DONE = 2;

/** What each consumer posts when it is done. */
export interface HandoffConsumerReport {
  readonly type: 'done';
  readonly taken: number;
  /** Releases that returned false (the frame had been revoked): none may happen in this test. */
  readonly staleReleases: number;
  /** Frames whose first four bytes did not hold their own sequence number. */
  readonly contentErrors: number;
  /** Turns whose sequence numbers did not increase frame to frame. */
  readonly orderErrors: number;
  /** Frames released while the other consumer was in its turn (the concurrent releases). */
  readonly releasedDuringOtherTurn: number;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('handoff-consumer-worker must run in a Worker');
  const { handle, control, me, framesPerTurn, holdAtDetach, turns } = workerData as HandoffConsumerData;
  // A pending Atomics.waitAsync does not keep a Worker alive; an open port does (closed when done).
  port.on('message', () => undefined);
  const ctl = new Int32Array(control);
  const other = 1 - me;
  const otherTicks = HandoffWord.Ticks + other;
  let taken = 0;
  let staleReleases = 0;
  let contentErrors = 0;
  let orderErrors = 0;
  let releasedDuringOtherTurn = 0;
  const release = (f: Frame): void => {
    if (!f.release()) staleReleases++;
  };
  let left: Frame[] = []; // held when my last turn ended
  let seenTicks = Atomics.load(ctl, otherTicks);
  for (;;) {
    // The other consumer's turn: release what I still hold, one frame per frame it takes, so both threads
    // release side by side. Blocking here is fine: releasing needs no event loop.
    for (;;) {
      const turn = Atomics.load(ctl, HandoffWord.Turn);
      if (turn === me || turn === DONE) break;
      const ticks = Atomics.load(ctl, otherTicks);
      for (let step = (ticks - seenTicks) | 0; step > 0 && left.length > 0; step--) {
        release(left.shift() as Frame);
        releasedDuringOtherTurn++;
        Atomics.store(ctl, HandoffWord.Holding + me, left.length);
        Atomics.notify(ctl, HandoffWord.Holding + me);
      }
      seenTicks = ticks;
      if (Atomics.load(ctl, HandoffWord.Turn) !== other) continue;
      Atomics.wait(ctl, otherTicks, ticks);
    }
    for (const f of left) release(f);
    left = [];
    if (Atomics.load(ctl, HandoffWord.Turn) === DONE) break;
    // My turn: attach (the other one detached), take frames, keep the last few, detach holding them.
    const stream = attachFrameStream(handle);
    const window: Frame[] = [];
    let last = -1;
    for (let i = 0; i < framesPerTurn; i++) {
      const r = await stream.next();
      if (r.done === true) throw new Error('the stream ended during a turn');
      const f = r.value;
      taken++;
      const seq = f.sequence;
      if (seq <= last) orderErrors++;
      last = seq;
      const d = f.data;
      if ((d[0] ?? 0) + ((d[1] ?? 0) << 8) + ((d[2] ?? 0) << 16) + (d[3] ?? 0) * 2 ** 24 !== seq)
        contentErrors++;
      window.push(f);
      if (window.length > holdAtDetach) release(window.shift() as Frame);
      Atomics.add(ctl, HandoffWord.Ticks + me, 1);
      Atomics.notify(ctl, HandoffWord.Ticks + me);
    }
    stream.close();
    left = window;
    Atomics.store(ctl, HandoffWord.Holding + me, left.length);
    // The other consumer releases what it held during my turn, one frame per frame I took (more than it
    // holds); on a busy machine it may lag, so wait for it before handing over: then every frame held at
    // a detach is released while the other consumer streams, whatever the scheduling.
    for (let h = Atomics.load(ctl, HandoffWord.Holding + other); h > 0;) {
      Atomics.wait(ctl, HandoffWord.Holding + other, h);
      h = Atomics.load(ctl, HandoffWord.Holding + other);
    }
    const done = Atomics.add(ctl, HandoffWord.TurnsDone, 1) + 1;
    Atomics.store(ctl, HandoffWord.Turn, done >= turns ? DONE : other);
    // The other consumer sleeps on my ticks.
    Atomics.add(ctl, HandoffWord.Ticks + me, 1);
    Atomics.notify(ctl, HandoffWord.Ticks + me);
  }
  const report: HandoffConsumerReport = {
    type: 'done',
    taken,
    staleReleases,
    contentErrors,
    orderErrors,
    releasedDuringOtherTurn,
  };
  port.postMessage(report);
  port.close();
}

// The test imports `HandoffWord` from this module too: run only as a Worker entry.
if (!isMainThread) {
  void main().catch((err: unknown) => {
    parentPort?.postMessage({
      type: 'error',
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  });
}
