// FrameStream: the consumer side of a pin's queue, an async iterator of zero-copy frames, same API in a Worker.
import { FramePool } from './frame-pool.js';
import type { FramePoolHandle } from './frame-pool.js';
import { KsStateError } from './ks-error.js';
import { SlotRing } from './slot-ring.js';
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

// A hand-off ring entry ("ticket"): slot in bits 0…9, consumer epoch (the ring's end count) in bits
// 10…19, the slot's generation in bits 20…30, each modulo its width. The epoch keeps a consumer from
// taking frames of a later run; the generation keeps it from taking a slot reclaimed and reused since.
const TICKET_SLOT_MASK = 0x3ff;
const TICKET_EPOCH_SHIFT = 10;
const TICKET_EPOCH_MASK = 0x3ff;
const TICKET_GENERATION_SHIFT = 20;
/** Bits of the slot generation a ticket carries. */
const TICKET_GENERATION_BITS = 11;

/** @internal The hand-off ring entry of a delivered frame (see above). Pools have at most 1024 slots. */
export function deliveryTicket(slot: number, epoch: number, generation: number): number {
  return (
    slot |
    ((epoch & TICKET_EPOCH_MASK) << TICKET_EPOCH_SHIFT) |
    ((generation & ((1 << TICKET_GENERATION_BITS) - 1)) << TICKET_GENERATION_SHIFT)
  );
}

/** @internal The slot of a hand-off ring entry. */
export function ticketSlot(ticket: number): number {
  return ticket & TICKET_SLOT_MASK;
}

/**
 * One delivered frame: a window on a pool slot, valid from delivery until `release()` or until a stop
 * revokes it.
 *
 * Zero copy: `data` is the slot's own view into the SharedArrayBuffer the producer wrote. Frame objects are
 * preallocated (one per slot) and reused when the slot is delivered again, so do not keep a frame after
 * releasing it: every accessor throws `KsStateError` (current state `released`) until the slot comes back.
 *
 * Ownership: the consumer holds the frame from delivery until it calls `release()`. A stop (and a hot-unplug
 * or `KsQueue.reclaimFromConsumer()`) may revoke it first, after the queue's grace period: the slot goes
 * back to the pool with a new generation, the accessors then throw `KsStateError` (current state
 * `revoked`), and a later `release()` is a harmless stale release (it returns false and is counted in
 * `FrameStream.staleReleases` and `FramePool.staleReleases`); it never touches the slot, which may already
 * hold a frame of the next run. A `data`/`plane` view taken before the revocation still points at the slot:
 * its bytes belong to whoever owns the slot now (zero copy has no private snapshot), so check `revoked` (or
 * read through the accessors, which throw) before trusting them after a stop.
 */
export class Frame {
  private live = false;
  private word = -1;

  /** @internal Created by FrameStream only. */
  constructor(
    private readonly stream: FrameStream,
    private readonly headers: StreamHeader,
    private readonly view: Uint8Array,
    /** The pool slot holding this frame. */
    readonly slot: number,
  ) {}

  /** True between delivery and `release()`, unless the frame was revoked meanwhile. */
  get held(): boolean {
    return this.live && this.stream.framePool.stateWord(this.slot) === this.word;
  }

  /** True when a stop took the frame back before it was released (`release()` is then a stale no-op). */
  get revoked(): boolean {
    return this.live && this.stream.framePool.stateWord(this.slot) !== this.word;
  }

  /**
   * The slot's data bytes (the whole slot; the frame is the first `bytesUsed`). Borrowed until release.
   * @throws KsStateError after release (current `released`) or revocation (current `revoked`).
   */
  get data(): Uint8Array {
    this.check('data');
    return this.view;
  }
  /**
   * Plane `plane` of the frame (e.g. 1 = the UV plane of NV12), a view made once at allocation.
   * @throws KsStateError after release or revocation; RangeError for a plane the pool does not have.
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
  /**
   * Presentation time (100 ns) = start + n × period, on the run's time base (the master clock's time at
   * the run's first RUN); it continues across PAUSE→RUN without counting the paused time.
   */
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
   * after the stream ended (a stop waits for it during its grace period). Releasing a frame a stop already
   * revoked is allowed and changes nothing: it returns false and counts as a stale release.
   * @returns true when the slot went back, false for a stale release (the frame had been revoked).
   * @throws KsStateError when the frame was already released (a double release is a bug).
   */
  release(): boolean {
    if (!this.live) throw new KsStateError(`frame (slot ${this.slot})`, 'release', 'released', ['held']);
    this.live = false;
    return this.stream.releaseSlot(this.slot, this.word);
  }

  /** @internal Called by FrameStream when it took the slot with state word `word`. */
  arm(word: number): void {
    this.word = word;
    this.live = true;
  }

  private check(operation: string): void {
    if (!this.live) throw new KsStateError(`frame (slot ${this.slot})`, operation, 'released', ['held']);
    if (this.stream.framePool.stateWord(this.slot) !== this.word) {
      throw new KsStateError(`frame (slot ${this.slot})`, operation, 'revoked', ['held']);
    }
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
 * - Stop ends the stream: frames delivered but not taken yet are reclaimed by the producer at once (the
 *   iterator finishes at its next look; on hot-unplug the frames completed `Disconnected` stay readable
 *   during the queue's grace period). Frames taken and not released are revoked when the grace period
 *   ends (see {@link Frame}); releasing one late is a counted stale release, never an error.
 * - Breaking out of the loop (or `close()`) detaches: frames delivered and not yet taken are given back;
 *   frames already taken stay held until released. A detached consumer may release them on its own thread
 *   while the next consumer streams on another: releases go through a multi-producer ring, so none is lost.
 * - Only one stream may be attached to a queue at a time (single consumer); an attachment lapses at the
 *   stop that ends its stream, so a consumer that stopped reading never blocks the next run's consumer.
 *
 * Waiting uses `Atomics.waitAsync`: it never blocks the thread.
 */
export class FrameStream implements AsyncIterableIterator<Frame> {
  readonly name: string;
  private readonly pool: FramePool;
  private readonly filled: SlotRing;
  private readonly released: SlotRing;
  private readonly baseline: number;
  private readonly epochTag: number;
  private readonly framesBySlot: Frame[];
  private readonly results: IteratorResult<Frame>[];
  private _state: FrameStreamState = 'open';
  private waiting = false;
  private heldCount = 0;
  private taken = 0;
  private stale = 0;

  private constructor(pool: FramePool, filled: SlotRing, released: SlotRing, baseline: number, name: string) {
    this.pool = pool;
    this.filled = filled;
    this.released = released;
    this.baseline = baseline;
    this.epochTag = (baseline & TICKET_EPOCH_MASK) << TICKET_EPOCH_SHIFT;
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
   * @internal Used by KsQueue.frames(); takes the consumer side of the ring for epoch `baseline`.
   * @throws KsStateError when another consumer of that epoch is attached.
   */
  static open(
    pool: FramePool,
    filled: SlotRing,
    released: SlotRing,
    baseline: number,
    name: string,
  ): FrameStream {
    if (!filled.tryAttach(baseline)) {
      throw new KsStateError(`${name} frame stream`, 'attach', 'consumer attached', ['no consumer attached']);
    }
    return new FrameStream(pool, filled, released, baseline, name);
  }

  /** Current state. */
  get state(): FrameStreamState {
    return this._state;
  }

  /** Frames taken and not yet released (a revoked frame counts until its stale release). */
  get held(): number {
    return this.heldCount;
  }

  /** Frames taken from the queue so far. */
  get received(): number {
    return this.taken;
  }

  /** Releases of frames a stop had already revoked (each ignored). */
  get staleReleases(): number {
    return this.stale;
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
    // After the stream's stop the producer has taken back what was delivered; nothing here is ours.
    if (this.filled.ends === this.baseline) {
      for (;;) {
        const t = this.filled.popIf(TICKET_EPOCH_MASK << TICKET_EPOCH_SHIFT, this.epochTag);
        if (t < 0) break;
        const slot = t & TICKET_SLOT_MASK;
        if (this.pool.returnFilled(slot, t >>> TICKET_GENERATION_SHIFT, TICKET_GENERATION_BITS)) {
          this.giveBack(slot);
        }
      }
    }
    this.finish();
    // A next() waiting in this thread must see the end now, not at the producer's next push.
    this.filled.wake();
  }

  /** @internal Called by Frame.release() with the state word the frame was taken with. */
  releaseSlot(slot: number, word: number): boolean {
    this.heldCount--;
    if (this.pool.releaseHeld(slot, word)) {
      this.giveBack(slot);
      return true;
    }
    this.stale++;
    return false;
  }

  /** Tells the producer a slot is free again (its id in the released ring, or an overflow mark). */
  private giveBack(slot: number): void {
    // The ring has room for every slot several times over; should it still be full, the producer must
    // not lose the slot: the mark makes its next refill scan the pool.
    if (!this.released.push(slot)) this.released.markOverflow();
  }

  private poll(): IteratorResult<Frame> | null {
    if (this._state === 'ended') return DONE;
    for (;;) {
      let t = this.filled.popIf(TICKET_EPOCH_MASK << TICKET_EPOCH_SHIFT, this.epochTag);
      if (t === -1) {
        if (this.filled.ends === this.baseline) return null;
        // The producer pushes every delivered frame before it marks the end: one more look is final.
        t = this.filled.popIf(TICKET_EPOCH_MASK << TICKET_EPOCH_SHIFT, this.epochTag);
      }
      if (t < 0) {
        // Empty after the end mark, or the head belongs to a later epoch: this stream is over.
        this.finish();
        return DONE;
      }
      const slot = t & TICKET_SLOT_MASK;
      const word = this.pool.takeFilled(slot, t >>> TICKET_GENERATION_SHIFT, TICKET_GENERATION_BITS);
      // -1: a stop reclaimed the frame between the pop and the take; look again.
      if (word < 0) continue;
      this.heldCount++;
      this.taken++;
      const f = this.framesBySlot[slot] as Frame;
      f.arm(word);
      return this.results[slot] as IteratorResult<Frame>;
    }
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
    this.filled.detach(this.baseline);
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
