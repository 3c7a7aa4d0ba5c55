// FrameStream: the consumer side of a pin's queue, an async iterator of zero-copy frames, same API in a Worker.
import { FramePool, SlotState } from './frame-pool.js';
import type { FramePoolHandle } from './frame-pool.js';
import { KsStateError } from './ks-error.js';
import { RingConsumer, SlotRing } from './slot-ring.js';
import type { SlotRingHandle } from './slot-ring.js';
import type { FrameStatus } from './stream-header.js';
import type { StreamHeader } from './stream-header.js';

/** Structured-cloneable description of a queue's consumer side (`KsQueue.shareStream()`). */
export interface FrameStreamHandle {
  readonly kind: 'ksemu.frame-stream';
  readonly pool: FramePoolHandle;
  readonly filled: SlotRingHandle;
  readonly released: SlotRingHandle;
  /** End-of-stream marks seen when the handle was made: the stream ends at the next one. */
  readonly ends: number;
  readonly name: string;
}

/**
 * One delivered frame: a window on a pool slot, valid from delivery until `release()`.
 *
 * Zero copy: `data` is the slot's own view into the SharedArrayBuffer the producer wrote. Frame objects are
 * preallocated (one per slot) and reused when the slot is delivered again, so do not keep a frame after
 * releasing it: every accessor throws `KsStateError` (current state `released`) until the slot comes back.
 */
export class Frame {
  private live = false;

  /** @internal Created by FrameStream only. */
  constructor(
    private readonly stream: FrameStream,
    private readonly headers: StreamHeader,
    private readonly view: Uint8Array,
    /** The pool slot holding this frame. */
    readonly slot: number,
  ) {}

  /** True between delivery and `release()`. */
  get held(): boolean {
    return this.live;
  }

  /**
   * The slot's data bytes (the whole slot; the frame is the first `bytesUsed`). Borrowed until release.
   * @throws KsStateError after release.
   */
  get data(): Uint8Array {
    this.check('data');
    return this.view;
  }
  /**
   * Plane `plane` of the frame (e.g. 1 = the UV plane of NV12), a view made once at allocation.
   * @throws KsStateError after release; RangeError for a plane the pool does not have.
   */
  plane(plane: number): Uint8Array {
    this.check('plane');
    return this.stream.framePool.planeData(this.slot, plane);
  }
  /** Bytes of valid data. */
  get bytesUsed(): number {
    this.check('bytesUsed');
    return this.headers.bytesUsed(this.slot);
  }
  /** Picture number (frame index n). */
  get sequence(): number {
    this.check('sequence');
    return this.headers.sequence(this.slot);
  }
  /** Presentation time (100 ns) = start + n × period. */
  get presentationTime(): bigint {
    this.check('presentationTime');
    return this.headers.presentationTime(this.slot);
  }
  /** Duration (100 ns). */
  get duration(): bigint {
    this.check('duration');
    return this.headers.duration(this.slot);
  }
  /** `FrameFlags` bits. */
  get flags(): number {
    this.check('flags');
    return this.headers.flags(this.slot);
  }
  /** Per-frame status (Success, Disconnected, DataError, …). */
  get status(): FrameStatus {
    this.check('status');
    return this.headers.status(this.slot);
  }
  /** Frames dropped in this run up to this frame (cumulative). */
  get dropCount(): number {
    this.check('dropCount');
    return this.headers.dropCount(this.slot);
  }
  /** The producer's content tag (which frame index the slot's pixels hold; -1 unknown). */
  get contentIndex(): number {
    this.check('contentIndex');
    return this.headers.contentIndex(this.slot);
  }

  /**
   * Gives the slot back to the queue (`Held → Free`). Must be called exactly once per delivered frame, also
   * after the stream ended (stop waits for it).
   * @throws KsStateError when the frame was already released.
   */
  release(): void {
    this.check('release');
    this.live = false;
    this.stream.releaseSlot(this.slot);
  }

  /** @internal */
  arm(): void {
    this.live = true;
  }

  private check(operation: string): void {
    if (!this.live) throw new KsStateError(`frame (slot ${this.slot})`, operation, 'released', ['held']);
  }
}

/** Consumer states: `open` (attached, may yield frames), `ended` (end of stream reached or closed). */
export type FrameStreamState = 'open' | 'ended';

const DONE: IteratorResult<Frame> = Object.freeze({ done: true, value: undefined });

/**
 * The consumer of a pin's frames: `for await (const frame of stream) { …; frame.release(); }`. The same
 * class runs on the main thread (`KsQueue.frames()`) and in a Worker (`attachFrameStream(handle)`).
 *
 * - Frames arrive in order; nothing is copied (`frame.data` is the producer's memory).
 * - At stop the iterator finishes after the frames delivered before the stop.
 * - Breaking out of the loop (or `close()`) detaches: frames delivered and not yet taken are given back;
 *   frames already taken stay held until released.
 * - Only one stream may be attached to a queue at a time (single consumer).
 *
 * Waiting uses `Atomics.waitAsync`: it never blocks the thread.
 */
export class FrameStream implements AsyncIterableIterator<Frame> {
  readonly name: string;
  private readonly pool: FramePool;
  private readonly filled: SlotRing;
  private readonly released: SlotRing;
  private readonly baseline: number;
  private readonly framesBySlot: Frame[];
  private readonly results: IteratorResult<Frame>[];
  private _state: FrameStreamState = 'open';
  private waiting = false;
  private heldCount = 0;
  private taken = 0;

  private constructor(pool: FramePool, filled: SlotRing, released: SlotRing, baseline: number, name: string) {
    this.pool = pool;
    this.filled = filled;
    this.released = released;
    this.baseline = baseline;
    this.name = name;
    this.framesBySlot = [];
    this.results = [];
    for (let s = 0; s < pool.slotCount; s++) {
      const f = new Frame(this, pool.headers, pool.data(s), s);
      this.framesBySlot.push(f);
      this.results.push(Object.freeze({ done: false, value: f }));
    }
  }

  /**
   * @internal Used by KsQueue.frames(); takes the consumer side of the ring.
   * @throws KsStateError when another consumer is attached.
   */
  static open(
    pool: FramePool,
    filled: SlotRing,
    released: SlotRing,
    baseline: number,
    name: string,
  ): FrameStream {
    if (!filled.tryLock(RingConsumer.Consumer)) {
      const holder = filled.lockHolder === RingConsumer.Consumer ? 'consumer attached' : 'draining';
      throw new KsStateError(`${name} frame stream`, 'attach', holder, ['no consumer attached']);
    }
    return new FrameStream(pool, filled, released, baseline, name);
  }

  /** Current state. */
  get state(): FrameStreamState {
    return this._state;
  }

  /** Frames taken and not yet released. */
  get held(): number {
    return this.heldCount;
  }

  /** Frames taken from the queue so far. */
  get received(): number {
    return this.taken;
  }

  /** The pool this stream reads (a view of the producer's memory). */
  get framePool(): FramePool {
    return this.pool;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Takes the next frame without waiting: a frame, or null when none is ready (or the stream ended; check
   * `state`). Allocates nothing.
   */
  tryNext(): Frame | null {
    const r = this.poll();
    return r === null || r.done === true ? null : r.value;
  }

  /**
   * The next frame, waiting (without blocking the thread) until one is delivered or the stream ends.
   * One `next()` at a time.
   */
  next(): Promise<IteratorResult<Frame>> {
    if (this.waiting) {
      return Promise.reject(new KsStateError(`${this.name} frame stream`, 'next', 'waiting', ['idle']));
    }
    const r = this.poll();
    if (r !== null) return Promise.resolve(r);
    return this.wait();
  }

  /** Detaches (what `break` in `for await` calls). Frames already taken stay held until released. */
  return(): Promise<IteratorResult<Frame>> {
    this.close();
    return Promise.resolve(DONE);
  }

  /**
   * Detaches the consumer: frames delivered and not yet taken return to the queue, the iterator is done.
   * Idempotent.
   */
  close(): void {
    if (this._state === 'ended') return;
    for (let s = this.filled.pop(); s >= 0; s = this.filled.pop()) {
      this.pool.transition(s, SlotState.Filled, SlotState.Free);
      this.released.push(s);
    }
    this.finish();
    // A next() waiting in this thread must see the end now, not at the producer's next push.
    this.filled.wake();
  }

  /** @internal Called by Frame.release(). */
  releaseSlot(slot: number): void {
    this.pool.transition(slot, SlotState.Held, SlotState.Free);
    this.heldCount--;
    this.released.push(slot);
  }

  private poll(): IteratorResult<Frame> | null {
    if (this._state === 'ended') return DONE;
    let slot = this.filled.pop();
    if (slot < 0) {
      if (this.filled.ends === this.baseline) return null;
      // The producer pushes every delivered frame before it marks the end: one more look is final.
      slot = this.filled.pop();
      if (slot < 0) {
        this.finish();
        return DONE;
      }
    }
    this.pool.transition(slot, SlotState.Filled, SlotState.Held);
    this.heldCount++;
    this.taken++;
    const f = this.framesBySlot[slot] as Frame;
    f.arm();
    return this.results[slot] as IteratorResult<Frame>;
  }

  private async wait(): Promise<IteratorResult<Frame>> {
    this.waiting = true;
    try {
      for (;;) {
        const seen = this.filled.signal();
        const r = this.poll();
        if (r !== null) return r;
        const p = this.filled.waitAsync(seen);
        if (p !== undefined) await p;
      }
    } finally {
      this.waiting = false;
    }
  }

  private finish(): void {
    this._state = 'ended';
    this.filled.unlock(RingConsumer.Consumer);
  }
}

/**
 * Opens the consumer side of a queue from a handle made by `KsQueue.shareStream()` (typically inside a
 * Worker). Same API and rules as `KsQueue.frames()`.
 * @throws TypeError for a malformed handle; KsStateError when another consumer is attached.
 */
export function attachFrameStream(handle: FrameStreamHandle): FrameStream {
  if (handle === null || typeof handle !== 'object' || handle.kind !== 'ksemu.frame-stream') {
    throw new TypeError('not a frame-stream handle');
  }
  if (!Number.isInteger(handle.ends)) throw new TypeError('frame-stream handle has no end count');
  const pool = FramePool.attach(handle.pool);
  const filled = SlotRing.attach(handle.filled);
  const released = SlotRing.attach(handle.released);
  return FrameStream.open(pool, filled, released, handle.ends, String(handle.name));
}
