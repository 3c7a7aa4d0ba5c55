// KsQueue: a pin's frame queue with leading/trailing edges, clones, in-order completion, drops and stop/drain.
import { SystemClock, type Clock, type ScheduledCallback } from './clock.js';
import type { FramePool } from './frame-pool.js';
import { SlotState } from './frame-pool.js';
import { deliveryTicket, FrameStream, ticketSlot } from './frame-stream.js';
import type { FrameStreamHandle } from './frame-stream.js';
import { KsStateError } from './ks-error.js';
import { fromSeconds, type KsTime } from './ks-time.js';
import { silentLogger, type Logger } from './logger.js';
import type { CompletionChannel } from './mapping.js';
import { SlotRing } from './slot-ring.js';
import { FrameFlags, FrameStatus } from './stream-header.js';
import type { StreamHeader } from './stream-header.js';
import { StreamPointer } from './stream-pointer.js';
import type { StreamPointerHost } from './stream-pointer.js';

/**
 * Queue states: `stopped` (no frames queued), `running`, `stopping` (waiting, at most the grace period, for
 * frames the consumer holds).
 */
export type QueueState = 'stopped' | 'running' | 'stopping';

/** Time base of a run: frame n is presented at `start + n × period` (computed, never accumulated). */
export interface QueueTiming {
  /** Presentation time of frame index 0 (100 ns). */
  readonly start: KsTime;
  /** Frame interval (100 ns, > 0); also each frame's duration. */
  readonly period: KsTime;
  /** Index of the first frame of the run (default 0); sequence numbers continue from it. */
  readonly firstIndex?: number;
}

/**
 * Hooks for harnesses (the stream invariant checker). Called synchronously on the producer's thread; a hook
 * must not throw (errors are caught and logged) and should not allocate.
 */
export interface QueueObserver {
  /** A run started. */
  started?(queue: KsQueue): void;
  /** `slot` was stamped and is about to be handed to the consumer. */
  delivered?(queue: KsQueue, slot: number): void;
  /** `count` frames were dropped (no free frame, or skipped by the hardware). */
  dropped?(queue: KsQueue, count: number): void;
  /** `stop()` was called; nothing may be delivered after this. */
  stopping?(queue: KsQueue): void;
  /** Every slot is free again after a stop. */
  stopped?(queue: KsQueue): void;
}

/** Counters of the current run (reset by `start`). */
export interface QueueStats {
  /** Frames handed to the consumer. */
  delivered: number;
  /** Frames dropped (back-pressure or hardware skips). */
  dropped: number;
  /** Clones cancelled (by `cancel`, `cancelAll` or stop). */
  cancelled: number;
  /** Frames delivered but never taken by the consumer, taken back by stop (or `reclaimFromConsumer`). */
  reclaimed: number;
  /** Frames the consumer held and had not released when stop's grace period ended: taken back. */
  revoked: number;
}

/** The default {@link KsQueueOptions.stopGrace}: one second. */
export const DEFAULT_STOP_GRACE: KsTime = fromSeconds(1);

/** Options of {@link KsQueue.stop}. */
export interface QueueStopOptions {
  /**
   * Keep the frames delivered but not yet taken readable by an attached consumer until the grace period
   * ends, instead of reclaiming them at once. For hot-unplug, where those frames carry the `Disconnected`
   * status that tells the consumer why the stream ends. Default false.
   */
  readonly keepDelivered?: boolean;
}

/** Options of {@link KsQueue}. */
export interface KsQueueOptions {
  /** Parent logger; the queue logs through a child. Default: silent. */
  logger?: Logger;
  /** Name used in errors and logs (e.g. `pin 0 (Capture)`). Default `queue`. */
  name?: string;
  /** Time source of the stop grace period. Default a `SystemClock`; pins pass their device's clock. */
  clock?: Clock;
  /**
   * How long `stop()` waits for the consumer to release the frames it holds before revoking them
   * (100 ns, ≥ 0; default {@link DEFAULT_STOP_GRACE}). 0 revokes at once.
   */
  stopGrace?: KsTime;
}

/**
 * The queue of one pin over its FramePool, after Ks.sys's KSQUEUE.
 *
 * Frames (pool slots) enter the queue at `start()` and whenever the consumer releases them. The minidriver
 * reaches them through the leading edge (`leadingEdge()`), clones each one it hands to the hardware, and
 * advances. Completing a clone stamps its header and hands it to the consumer in queue order: a clone that
 * completes early waits for the earlier ones. `trailingEdge()` is the oldest clone not yet delivered.
 *
 * Back-pressure: when the consumer holds every slot there is no frame at the leading edge; the minidriver
 * reports the lost frame with `dropFrame()` and the count goes into the next delivered header. The producer
 * never blocks.
 *
 * Stop (vb2's STREAMOFF, KS's cancellation of outstanding IRPs): `stop()` cancels every clone and queued
 * frame, ends the consumer's stream, takes back at once the frames delivered to the consumer and not taken
 * yet, and resolves when every slot is free. Frames the consumer holds (taken, not released) may still be
 * released during the grace period (`stopGrace` on `clock`); when it ends they are revoked: each slot's
 * state word goes back to `Free` with a new generation, so the consumer's late `release()` is a counted
 * stale release that cannot touch the slot, whichever run uses it by then. A stop therefore never waits
 * longer than the grace period for a consumer, live, stuck or dead. `reclaimFromConsumer()` does the same
 * at once, without a stop.
 *
 * Timing: `start()` fixes the run's one time base (`start`, `period`); the frame with index n is stamped
 * `start + n × period`, computed from n, never accumulated. A pin's PAUSE does not stop the queue (it runs
 * from the first RUN until ACQUIRE), so after PAUSE→RUN the numbering, and with it the presentation time,
 * continues from the pause point: as KS stream time stands still in PAUSE, the paused duration is neither a
 * timestamp jump nor counted as dropped frames, and no time repeats. Hardware that reports frame indices
 * must number the frames after a resume from `nextFrameIndex` (an index gap is counted as drops).
 *
 * Threading: every method runs on the producer's thread (usually the main thread); only the consumer may be
 * elsewhere (see `shareStream`).
 */
export class KsQueue implements StreamPointerHost {
  readonly pool: FramePool;
  readonly name: string;
  /** Header accessors of the pool. */
  readonly headers: StreamHeader;
  private readonly log: Logger;
  private readonly filled: SlotRing;
  private readonly released: SlotRing;
  private _state: QueueState = 'stopped';
  private stopPromise: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly stopGrace: KsTime;
  private graceTimer: ScheduledCallback | undefined;
  private readonly observers: QueueObserver[] = [];

  // Frames queued and not yet cloned, oldest first (the leading edge is pending[pendingHead] unless it
  // still sits on a frame it cloned and has not advanced past).
  private readonly pending: Int32Array;
  private pendingHead = 0;
  private pendingCount = 0;
  // Clones in queue order (the trailing edge is clones[cloneHead]).
  private readonly clones: Int32Array;
  private cloneHead = 0;
  private cloneCount = 0;
  // Per-slot clone bookkeeping.
  private readonly cloneDone: Uint8Array;
  private readonly cloneBytes: Int32Array;
  private readonly cloneStatus: Int32Array;
  private readonly cloneFlags: Int32Array;
  private readonly cloneIndex: Float64Array;
  private readonly mappingsLeft: Int32Array;
  private readonly clonePointers: StreamPointer[];
  private readonly leading: StreamPointer;
  /** The leading edge's frame was cloned and the edge has not advanced yet. */
  private leadingCloned = false;
  private readonly trailing: StreamPointer;

  private timing: Required<QueueTiming> = { start: 0n as KsTime, period: 1n as KsTime, firstIndex: 0 };
  private nextIndex = 0;
  private drops = 0;
  private lastDeliveredDrops = 0;
  private skippedSeen = 0;
  private needsScan = false;
  /** Released-ring overflows already answered with a scan. */
  private releasedOverflows = 0;
  /** The hardware reported frame indices on the channel this run (drops then come from index gaps). */
  private channelIndexed = false;
  private readonly counters: QueueStats = {
    delivered: 0,
    dropped: 0,
    cancelled: 0,
    reclaimed: 0,
    revoked: 0,
  };

  /**
   * Creates the queue of a pool. Borrows `pool` (the pin owns it); allocates the hand-off rings.
   * The queue starts `stopped`.
   * @throws RangeError for a negative `stopGrace`.
   */
  constructor(pool: FramePool, options: KsQueueOptions = {}) {
    const grace = options.stopGrace ?? DEFAULT_STOP_GRACE;
    if (typeof grace !== 'bigint' || grace < 0n) {
      throw new RangeError(`stopGrace must be a non-negative KsTime, got ${String(grace)}`);
    }
    this.stopGrace = grace;
    this.clock = options.clock ?? new SystemClock();
    this.pool = pool;
    this.headers = pool.headers;
    this.name = options.name ?? 'queue';
    this.log = (options.logger ?? silentLogger()).child({ queue: this.name });
    const n = pool.slotCount;
    // The rings have room to spare: a pop finishing on another thread keeps its cell one lap longer, and
    // a push that found the ring full would take its slot out of rotation until the next scan.
    this.filled = SlotRing.create(2 * n);
    // Consumers on several threads push here (a detached consumer still releasing what it held while the
    // next one streams; the ring is multi-producer). A release racing a start/cancel scan may leave one
    // stale id per slot besides the live ones (see refill): four times the slots.
    this.released = SlotRing.create(4 * n);
    this.pending = new Int32Array(n);
    this.clones = new Int32Array(n);
    this.cloneDone = new Uint8Array(n);
    this.cloneBytes = new Int32Array(n);
    this.cloneStatus = new Int32Array(n);
    this.cloneFlags = new Int32Array(n);
    this.cloneIndex = new Float64Array(n);
    this.mappingsLeft = new Int32Array(n);
    this.clonePointers = Array.from({ length: n }, () => new StreamPointer(this, 'clone'));
    this.leading = new StreamPointer(this, 'leading');
    this.trailing = new StreamPointer(this, 'trailing');
  }

  /** Current state. */
  get state(): QueueState {
    return this._state;
  }

  /** Counters of the current run (a live object; do not mutate). */
  get stats(): Readonly<QueueStats> {
    return this.counters;
  }

  /** Slots not free (queued, cloned, waiting for or held by the consumer). */
  get outstanding(): number {
    return this.pool.outstanding;
  }

  /** Frames queued and not yet cloned (after taking in released frames). */
  get queuedCount(): number {
    if (this._state === 'running') this.refill();
    return this.pendingCount;
  }

  /** Clones not yet delivered (owned by the hardware or waiting for an earlier clone). */
  get undeliveredClones(): number {
    return this.cloneCount;
  }

  /**
   * Where every slot is, for diagnostics and error messages (e.g. why a stop is still waiting).
   * Allocates; not for the per-frame path.
   */
  snapshot(): {
    state: QueueState;
    slots: ReturnType<FramePool['census']>;
    undeliveredClones: number;
    stats: QueueStats;
  } {
    return {
      state: this._state,
      slots: this.pool.census(),
      undeliveredClones: this.cloneCount,
      stats: { ...this.counters },
    };
  }

  /** Time base of the current (or last) run. */
  get currentTiming(): Readonly<Required<QueueTiming>> {
    return this.timing;
  }

  /** Index the next delivered frame gets unless the hardware says otherwise. */
  get nextFrameIndex(): number {
    return this.nextIndex;
  }

  /** Frames dropped in this run so far (what the next delivered header will carry). */
  get dropCount(): number {
    return this.drops;
  }

  /** Adds a harness observer; returns a function that removes it. */
  observe(observer: QueueObserver): () => void {
    this.observers.push(observer);
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /**
   * Starts a run: every slot is queued (`Free → Queued`), counters and the frame index restart.
   * @throws KsStateError unless `stopped`; RangeError for a non-positive period or bad firstIndex.
   */
  start(timing: QueueTiming): void {
    if (this._state !== 'stopped') throw new KsStateError(this.name, 'start', this._state, ['stopped']);
    if (typeof timing.period !== 'bigint' || timing.period <= 0n) {
      throw new RangeError(`frame period must be a positive KsTime, got ${String(timing.period)}`);
    }
    const firstIndex = timing.firstIndex ?? 0;
    if (!Number.isSafeInteger(firstIndex) || firstIndex < 0) {
      throw new RangeError(`firstIndex must be a non-negative safe integer, got ${firstIndex}`);
    }
    this.timing = { start: timing.start, period: timing.period, firstIndex };
    // Ids of frames released during the previous run are stale hints now; every slot is free. The stop
    // drained the hand-off ring; anything left there names a free slot of an old epoch.
    while (this.released.pop() >= 0);
    while (this.filled.pop() >= 0);
    this.pendingHead = 0;
    this.pendingCount = 0;
    this.leadingCloned = false;
    this.cloneHead = 0;
    this.cloneCount = 0;
    this.nextIndex = firstIndex;
    this.drops = 0;
    this.lastDeliveredDrops = 0;
    this.channelIndexed = false;
    this.counters.delivered = 0;
    this.counters.dropped = 0;
    this.counters.cancelled = 0;
    this.counters.reclaimed = 0;
    this.counters.revoked = 0;
    this.stopPromise = undefined;
    this._state = 'running';
    this.needsScan = true;
    this.refill();
    this.log.debug({ queued: this.pendingCount, firstIndex }, 'queue started');
    for (const o of this.observers) this.notify(o.started, o);
  }

  /**
   * The leading edge: the oldest queued frame not yet cloned, or null when there is none (consumer holds
   * everything, or the queue is not running). Takes in frames the consumer released first.
   * The returned pointer is the queue's single leading-edge object (reused).
   */
  leadingEdge(): StreamPointer | null {
    if (this._state !== 'running') return null;
    // Cloned but not yet advanced past: the edge stays on that frame until advance().
    if (this.leadingCloned) return this.leading;
    if (this.pendingCount === 0) this.refill();
    if (this.pendingCount === 0) {
      this.leading.slot = -1;
      return null;
    }
    this.leading.slot = this.pending[this.pendingHead] ?? -1;
    return this.leading;
  }

  /**
   * Resolves when a frame is at the leading edge (at once if one is), e.g. after the consumer released one;
   * also resolves when the queue leaves `running` (then `leadingEdge()` is null). Never blocks the thread.
   * For minidrivers that process on frame arrival rather than on a hardware tick.
   */
  async whenFrameAvailable(): Promise<void> {
    for (;;) {
      const seen = this.released.signal();
      if (this._state !== 'running' || this.leadingEdge() !== null) return;
      const p = this.released.waitAsync(seen);
      if (p !== undefined) await p;
    }
  }

  /**
   * Convenience for the common path: clones the leading-edge frame and advances past it.
   * @returns the clone, or null when no frame is queued (report the lost frame with `dropFrame()`).
   */
  takeFrame(): StreamPointer | null {
    const edge = this.leadingEdge();
    if (edge === null) return null;
    const clone = this.cloneLeading();
    this.advanceLeading();
    return clone;
  }

  /**
   * The trailing edge: the oldest clone not yet delivered, or null. A reused pointer object, read-only
   * (use `cloneOf(slot)` to complete it).
   */
  trailingEdge(): StreamPointer | null {
    if (this.cloneCount === 0) {
      this.trailing.slot = -1;
      return null;
    }
    this.trailing.slot = this.clones[this.cloneHead] ?? -1;
    return this.trailing;
  }

  /** The active clone of `slot`, or null (e.g. it was cancelled by stop while the hardware finished it). */
  cloneOf(slot: number): StreamPointer | null {
    const p = this.clonePointers[slot];
    return p !== undefined && p.slot === slot ? p : null;
  }

  /**
   * Reports `count` frames the hardware produced with nowhere to put them (no frame queued) or skipped
   * because they were not fully mapped. The next delivered header carries the new drop count and
   * DataDiscontinuity. Ignored unless running.
   * @throws RangeError for a non-positive count.
   */
  dropFrame(count = 1): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`drop count must be ≥ 1, got ${count}`);
    if (this._state !== 'running') return;
    this.nextIndex += count;
    this.drops += count;
    this.counters.dropped += count;
    for (const o of this.observers) this.notifyDropped(o, count);
  }

  /**
   * Takes in the results the hardware published on `channel` since the last call: completes every clone
   * whose mappings are all done (bytes summed, worst status). Frame numbering: when the hardware reports
   * frame indices, they become the sequence numbers and their gaps the drops; otherwise frames are numbered
   * in order and `skipFrame()` counts become drops (then a skip published in the same batch as a completion
   * may be attributed on the wrong side of it; hardware that needs exact numbers reports indices).
   * @returns the number of mapping results consumed.
   */
  collect(channel: CompletionChannel): number {
    // Read the skip count before the completions: a skip published after them is left for the next call.
    const skipped = channel.skipped;
    let n = 0;
    while (channel.unretired > 0) {
      const slot = channel.resultSlot();
      const bytes = channel.resultBytes();
      const status = channel.resultStatus();
      const ends = channel.resultEndsFrame();
      const frameIndex = channel.resultFrameIndex();
      channel.retire();
      if (frameIndex >= 0) this.channelIndexed = true;
      n++;
      const p = this.cloneOf(slot);
      if (p === null || this.cloneDone[slot] === 1) continue; // cancelled meanwhile
      this.cloneBytes[slot] = (this.cloneBytes[slot] ?? 0) + bytes;
      if (status > (this.cloneStatus[slot] ?? 0)) this.cloneStatus[slot] = status;
      const left = (this.mappingsLeft[slot] ?? 1) - 1;
      this.mappingsLeft[slot] = left;
      if (left <= 0 || ends) {
        const index = frameIndex >= 0 && frameIndex >= this.nextIndex ? frameIndex : -1;
        this.markDone(slot, this.cloneBytes[slot] ?? 0, this.cloneStatus[slot] as FrameStatus, 0, index);
      }
    }
    this.deliver();
    const newSkips = (skipped - this.skippedSeen) | 0;
    this.skippedSeen = skipped;
    // With frame indices from the hardware the gaps already count the skipped frames.
    if (newSkips > 0 && !this.channelIndexed) this.dropFrame(newSkips);
    return n;
  }

  /**
   * Collects `channel` whenever the hardware publishes (from any thread), without blocking this thread:
   * a loop on `Atomics.waitAsync` that runs until the queue leaves `running` or `stop()` is called on the
   * returned handle. `done` resolves when the loop has ended.
   */
  serviceChannel(channel: CompletionChannel): { stop(): void; readonly done: Promise<void> } {
    let active = true;
    const loop = async (): Promise<void> => {
      while (active && this._state === 'running') {
        const seen = channel.completed;
        const skipped = channel.skipped;
        this.collect(channel);
        if (channel.completed !== seen || channel.skipped !== skipped) continue;
        const p = channel.waitCompleted(seen);
        if (p !== undefined) await p;
      }
    };
    const done = loop();
    return {
      stop: () => {
        active = false;
        channel.wake();
      },
      done,
    };
  }

  /**
   * Completes every outstanding clone with `status` (e.g. Disconnected on hot-unplug) and 0 bytes, delivering
   * them in order so the consumer learns why the stream ends; queued frames return to free.
   */
  completeAll(status: FrameStatus): void {
    for (let i = 0; i < this.cloneCount; i++) {
      const slot = this.clones[(this.cloneHead + i) % this.clones.length] ?? -1;
      if (this.cloneDone[slot] !== 1) this.markDone(slot, 0, status, 0, -1);
    }
    this.deliver();
    this.cancelPending();
  }

  /**
   * Cancels every clone (delivered or not yet) and every queued frame: their slots return to `Free`. Frames
   * already handed to the consumer are not touched. The hardware must already be stopped (its mappings are
   * forgotten: `channel`, if given, is reset).
   */
  cancelAll(channel?: CompletionChannel): void {
    let cancelled = 0;
    while (this.cloneCount > 0) {
      const slot = this.clones[this.cloneHead] ?? -1;
      this.cloneHead = (this.cloneHead + 1) % this.clones.length;
      this.cloneCount--;
      this.deactivateClone(slot);
      this.pool.transition(slot, SlotState.Mapped, SlotState.Free);
      cancelled++;
    }
    this.counters.cancelled += cancelled;
    this.cancelPending();
    channel?.reset();
    if (channel !== undefined) this.skippedSeen = channel.skipped;
    // Slots freed here are not in the released ring; let the next refill find them (old ids are moot).
    while (this.released.pop() >= 0);
    this.needsScan = true;
    if (cancelled > 0) this.log.debug({ cancelled }, 'clones cancelled');
  }

  /**
   * Ends the run, after vb2's STREAMOFF. In order: cancels every clone and queued frame (`cancelAll`; the
   * hardware must be stopped before, pass its `channel` to forget its mappings); ends the consumer's stream
   * (its iterator finishes at its next look and its attachment lapses); takes back at once the frames
   * delivered and not yet taken (`Filled → Free`, counted in `stats.reclaimed`; with `keepDelivered` the
   * attached consumer may still take them until the grace period ends). Frames the consumer holds may be
   * released during the grace period (`stopGrace` on the queue's clock); then they are revoked
   * (`Held → Free` with a new generation, counted in `stats.revoked`; the consumer's late `release()` is a
   * stale release, see `Frame`). Resolves when every slot is free, so never later than the grace period.
   * Idempotent: while `stopping` it returns the same promise; when `stopped` it resolves at once (and ends
   * an attached consumer's stream, which would otherwise wait for a run that is not coming).
   */
  stop(channel?: CompletionChannel, options: QueueStopOptions = {}): Promise<void> {
    if (this._state === 'stopped') {
      // Nothing runs, but a consumer attached for a run that will not come must not wait forever.
      if (this.filled.attached) this.filled.markEnd();
      return Promise.resolve();
    }
    if (this._state === 'stopping' && this.stopPromise !== undefined) return this.stopPromise;
    this._state = 'stopping';
    for (const o of this.observers) this.notify(o.stopping, o);
    this.cancelAll(channel);
    const consumerAttached = this.filled.attached;
    this.filled.markEnd();
    this.released.markEnd(); // wakes whenFrameAvailable() waiters
    if (options.keepDelivered !== true || !consumerAttached) this.reclaimDelivered();
    this.log.debug({ outstanding: this.pool.outstanding }, 'queue stopping');
    if (this.pool.outstanding > 0) {
      if (this.stopGrace === 0n) this.takeBack();
      else {
        this.graceTimer = this.clock.schedule((this.clock.now() + this.stopGrace) as KsTime, () => {
          this.graceTimer = undefined;
          if (this._state === 'stopping') this.takeBack();
        });
      }
    }
    this.stopPromise = this.pool.whenAllFree().then(() => {
      this.graceTimer?.cancel();
      this.graceTimer = undefined;
      this._state = 'stopped';
      this.log.debug('queue stopped');
      for (const o of this.observers) this.notify(o.stopped, o);
    });
    return this.stopPromise;
  }

  /**
   * Takes every frame away from the consumer now, without waiting for it: ends its stream (its attachment
   * lapses, so a new consumer may attach), reclaims the frames delivered and not taken (`Filled → Free`)
   * and revokes the frames it holds (`Held → Free`, new generation; its late releases are counted stale
   * releases and change nothing). For a consumer that is gone or stuck (e.g. its Worker exited), and what
   * stop's grace period ends with. Call it on the producer's thread, like every method; the consumer may
   * still be running on its own. While running, the freed slots are queued again at the producer's next
   * look.
   * @returns the number of slots taken back.
   */
  reclaimFromConsumer(): number {
    this.filled.markEnd();
    const n = this.reclaimDelivered() + this.revokeHeld();
    if (this._state === 'running') this.needsScan = true;
    if (n > 0) this.log.warn({ reclaimed: n }, 'frames taken back from the consumer');
    return n;
  }

  /**
   * The consumer side on this thread: `for await (const frame of queue.frames())`. Only one consumer may be
   * attached at a time. The stream ends at the next stop (or `reclaimFromConsumer()`); what it holds then is
   * revoked after the grace period (see `stop`).
   * @throws KsStateError when a consumer is already attached.
   */
  frames(): FrameStream {
    return FrameStream.open(this.pool, this.filled, this.released, this.filled.ends, this.name);
  }

  /**
   * A structured-cloneable handle for a consumer in a Worker: `attachFrameStream(handle)` there gives the
   * same API as `frames()`. The stream ends at the first stop after this call.
   */
  shareStream(): FrameStreamHandle {
    return {
      kind: 'ksemu.frame-stream',
      pool: this.pool.share(),
      filled: this.filled.share(),
      released: this.released.share(),
      ends: this.filled.ends,
      name: this.name,
    };
  }

  // ---- StreamPointerHost (called by StreamPointer) ----

  /** @internal */
  data(slot: number): Uint8Array {
    return this.pool.data(slot);
  }

  /** @internal */
  cloneLeading(): StreamPointer {
    if (this.leadingCloned) {
      throw new KsStateError(`${this.name} frame (slot ${this.leading.slot})`, 'clone', 'cloned', ['queued']);
    }
    const slot = this.pending[this.pendingHead] ?? -1;
    const p = this.clonePointers[slot];
    if (this.pendingCount === 0 || slot !== this.leading.slot || p === undefined) {
      throw new KsStateError(`${this.name} leading edge`, 'clone', 'moved', ['at a queued frame']);
    }
    this.pool.transition(slot, SlotState.Queued, SlotState.Mapped);
    // The frame leaves the queued list now; the leading edge stays on it until advance().
    this.pendingHead = (this.pendingHead + 1) % this.pending.length;
    this.pendingCount--;
    this.leadingCloned = true;
    this.cloneDone[slot] = 0;
    this.cloneBytes[slot] = 0;
    this.cloneStatus[slot] = FrameStatus.Success;
    this.cloneFlags[slot] = 0;
    this.cloneIndex[slot] = -1;
    this.mappingsLeft[slot] = 0;
    this.clones[(this.cloneHead + this.cloneCount) % this.clones.length] = slot;
    this.cloneCount++;
    p.slot = slot;
    return p;
  }

  /** @internal */
  advanceLeading(): boolean {
    if (!this.leadingCloned) {
      throw new KsStateError(`${this.name} frame (slot ${this.leading.slot})`, 'advance', 'queued', [
        'cloned',
      ]);
    }
    this.leadingCloned = false;
    if (this.pendingCount === 0) this.refill();
    if (this.pendingCount === 0) {
      this.leading.slot = -1;
      return false;
    }
    this.leading.slot = this.pending[this.pendingHead] ?? -1;
    return true;
  }

  /** @internal */
  completeClone(
    slot: number,
    bytesUsed: number,
    status: FrameStatus,
    flags: number,
    frameIndex: number,
  ): void {
    if (!Number.isInteger(bytesUsed) || bytesUsed < 0 || bytesUsed > this.pool.layout.dataBytes) {
      throw new RangeError(`bytesUsed ${bytesUsed} is outside 0…${this.pool.layout.dataBytes}`);
    }
    if (this.cloneDone[slot] === 1) {
      throw new KsStateError(`${this.name} clone (slot ${slot})`, 'complete', 'completed', ['active']);
    }
    if (frameIndex !== -1) this.checkFrameIndex(slot, frameIndex);
    this.markDone(slot, bytesUsed, status, flags, frameIndex);
    this.deliver();
  }

  /** @internal */
  cancelClone(slot: number): void {
    // Remove it from the clone list, keeping the order of the others.
    const len = this.clones.length;
    let found = -1;
    for (let i = 0; i < this.cloneCount; i++) {
      if (this.clones[(this.cloneHead + i) % len] === slot) {
        found = i;
        break;
      }
    }
    if (found < 0)
      throw new KsStateError(`${this.name} clone (slot ${slot})`, 'cancel', 'inactive', ['active']);
    for (let i = found; i < this.cloneCount - 1; i++) {
      this.clones[(this.cloneHead + i) % len] = this.clones[(this.cloneHead + i + 1) % len] ?? -1;
    }
    this.cloneCount--;
    this.deactivateClone(slot);
    this.pool.transition(slot, SlotState.Mapped, SlotState.Free);
    this.counters.cancelled++;
    if (this._state === 'running') {
      this.pool.transition(slot, SlotState.Free, SlotState.Queued);
      this.pushPending(slot);
    }
    // A cancelled clone may have been the one blocking later completed clones.
    this.deliver();
  }

  /** @internal */
  expectMappings(slot: number, count: number): void {
    this.mappingsLeft[slot] = count;
  }

  // ---- internals ----

  private checkFrameIndex(slot: number, frameIndex: number): void {
    if (!Number.isSafeInteger(frameIndex) || frameIndex < this.nextIndex) {
      throw new RangeError(`frame index ${frameIndex} is below the next expected index ${this.nextIndex}`);
    }
    // Explicit indices must increase in queue order among the clones that already have one.
    const len = this.clones.length;
    let before = true;
    for (let i = 0; i < this.cloneCount; i++) {
      const s = this.clones[(this.cloneHead + i) % len] ?? -1;
      if (s === slot) {
        before = false;
        continue;
      }
      const other = this.cloneIndex[s] ?? -1;
      if (this.cloneDone[s] !== 1 || other < 0) continue;
      if (before ? other >= frameIndex : other <= frameIndex) {
        throw new RangeError(
          `frame index ${frameIndex} is out of queue order (slot ${s} has index ${other})`,
        );
      }
    }
  }

  private markDone(
    slot: number,
    bytesUsed: number,
    status: FrameStatus,
    flags: number,
    frameIndex: number,
  ): void {
    this.cloneDone[slot] = 1;
    this.cloneBytes[slot] = bytesUsed;
    this.cloneStatus[slot] = status;
    this.cloneFlags[slot] = flags;
    this.cloneIndex[slot] = frameIndex;
  }

  /** Hands every completed clone at the trailing edge to the consumer, in order. */
  private deliver(): void {
    const h = this.headers;
    const { start, period } = this.timing;
    while (this.cloneCount > 0) {
      const slot = this.clones[this.cloneHead] ?? -1;
      if (this.cloneDone[slot] !== 1) return;
      this.cloneHead = (this.cloneHead + 1) % this.clones.length;
      this.cloneCount--;
      this.deactivateClone(slot);
      if (this._state !== 'running') {
        // Completed after stop began (cannot happen through stop(), which cancels first): never deliver.
        this.pool.transition(slot, SlotState.Mapped, SlotState.Free);
        continue;
      }
      const explicit = this.cloneIndex[slot] ?? -1;
      // Explicit indices were validated in queue order; the max only guards numbering against misuse.
      const index = explicit > this.nextIndex ? explicit : this.nextIndex;
      if (index > this.nextIndex) {
        const gap = index - this.nextIndex;
        this.drops += gap;
        this.counters.dropped += gap;
        for (const o of this.observers) this.notifyDropped(o, gap);
      }
      this.nextIndex = index + 1;
      let flags = (this.cloneFlags[slot] ?? 0) | FrameFlags.TimeValid | FrameFlags.DurationValid;
      if (this.drops !== this.lastDeliveredDrops) flags |= FrameFlags.DataDiscontinuity;
      this.lastDeliveredDrops = this.drops;
      h.setBytesUsed(slot, this.cloneBytes[slot] ?? 0);
      h.setStatus(slot, (this.cloneStatus[slot] ?? 0) as FrameStatus);
      h.setFlags(slot, flags);
      h.setSequence(slot, index);
      h.setDropCount(slot, this.drops);
      h.setPresentationTime(slot, start + BigInt(index) * period);
      h.setDuration(slot, period);
      for (const o of this.observers) this.notifyDelivered(o, slot);
      this.pool.transition(slot, SlotState.Mapped, SlotState.Filled);
      this.counters.delivered++;
      this.filled.push(deliveryTicket(slot, this.filled.ends, this.pool.generation(slot)));
    }
  }

  private deactivateClone(slot: number): void {
    const p = this.clonePointers[slot];
    if (p !== undefined) p.slot = -1;
    this.cloneDone[slot] = 0;
    if (this.trailing.slot === slot) this.trailing.slot = -1;
  }

  /** Reclaims frames delivered and not taken: the hand-off ring's tickets, then any Filled slot left. */
  private reclaimDelivered(): number {
    let n = 0;
    for (let t = this.filled.pop(); t >= 0; t = this.filled.pop()) {
      if (this.pool.tryTransition(ticketSlot(t), SlotState.Filled, SlotState.Free)) n++;
    }
    // A consumer may have popped a ticket and not taken the slot yet: its take will now fail.
    for (let s = 0; s < this.pool.slotCount; s++) {
      if (this.pool.tryTransition(s, SlotState.Filled, SlotState.Free)) n++;
    }
    this.counters.reclaimed += n;
    return n;
  }

  /** Revokes every frame the consumer holds (`Held → Free`, new generation). */
  private revokeHeld(): number {
    let n = 0;
    for (let s = 0; s < this.pool.slotCount; s++) {
      if (this.pool.tryTransition(s, SlotState.Held, SlotState.Free)) n++;
    }
    this.counters.revoked += n;
    return n;
  }

  /** End of the grace period: everything the consumer still has comes back. */
  private takeBack(): void {
    const reclaimed = this.reclaimDelivered();
    const revoked = this.revokeHeld();
    if (revoked > 0) {
      this.log.warn({ reclaimed, revoked }, 'stop revoked frames the consumer had not released');
    }
  }

  private cancelPending(): void {
    while (this.pendingCount > 0) {
      const slot = this.pending[this.pendingHead] ?? -1;
      this.pendingHead = (this.pendingHead + 1) % this.pending.length;
      this.pendingCount--;
      this.pool.transition(slot, SlotState.Queued, SlotState.Free);
    }
    this.leading.slot = -1;
    this.leadingCloned = false;
  }

  private pushPending(slot: number): void {
    this.pending[(this.pendingHead + this.pendingCount) % this.pending.length] = slot;
    this.pendingCount++;
  }

  /** Queues frames the consumer released (and, after start/cancel or a released-ring overflow, every free slot). */
  private refill(): void {
    const overflows = this.released.overflows;
    if (overflows !== this.releasedOverflows) {
      // A release found the ring full: its id is missing, so look at every slot.
      this.releasedOverflows = overflows;
      this.needsScan = true;
    }
    for (let s = this.released.pop(); s >= 0; s = this.released.pop()) {
      // The id is a hint: a slot freed by a previous run or already requeued by a scan is skipped.
      if (this.pool.tryTransition(s, SlotState.Free, SlotState.Queued)) this.pushPending(s);
    }
    if (this.needsScan) {
      this.needsScan = false;
      for (let s = 0; s < this.pool.slotCount; s++) {
        if (this.pool.tryTransition(s, SlotState.Free, SlotState.Queued)) this.pushPending(s);
      }
    }
  }

  private notify(fn: ((q: KsQueue) => void) | undefined, o: QueueObserver): void {
    if (fn === undefined) return;
    try {
      fn.call(o, this);
    } catch (err) {
      this.log.error({ err }, 'queue observer threw');
    }
  }

  private notifyDelivered(o: QueueObserver, slot: number): void {
    if (o.delivered === undefined) return;
    try {
      o.delivered(this, slot);
    } catch (err) {
      this.log.error({ err }, 'queue observer threw');
    }
  }

  private notifyDropped(o: QueueObserver, count: number): void {
    if (o.dropped === undefined) return;
    try {
      o.dropped(this, count);
    } catch (err) {
      this.log.error({ err }, 'queue observer threw');
    }
  }
}
