// Stream pointers: the leading edge of a pin's queue and the clones that keep frames referenced while hardware owns them.
import { KsStateError } from './ks-error.js';
import type { CompletionChannel, Mapping } from './mapping.js';
import { MappingList } from './mapping.js';
import type { FrameStatus } from './stream-header.js';
import type { StreamHeader } from './stream-header.js';

/**
 * What a stream pointer needs from its queue. Implemented by `KsQueue`; not part of the public API.
 * @internal
 */
export interface StreamPointerHost {
  readonly name: string;
  readonly headers: StreamHeader;
  data(slot: number): Uint8Array;
  cloneLeading(): StreamPointer;
  advanceLeading(): boolean;
  completeClone(
    slot: number,
    bytesUsed: number,
    status: FrameStatus,
    flags: number,
    frameIndex: number,
  ): void;
  cancelClone(slot: number): void;
  expectMappings(slot: number, count: number): void;
}

/** Which kind of pointer this is. */
export type StreamPointerKind = 'leading' | 'trailing' | 'clone';

/**
 * A reference to one frame (pool slot) of a pin's queue, as KSSTREAM_POINTER.
 *
 * - The **leading edge** (one per queue, from `KsQueue.leadingEdge()`) points at the oldest frame not yet
 *   handed to the hardware. `clone()` creates a clone of it; `advance()` moves to the next frame.
 * - The **trailing edge** (`KsQueue.trailingEdge()`) points at the oldest clone not yet delivered; it only
 *   reads (`slot`, `data`).
 * - A **clone** keeps its frame referenced (slot state `Mapped`) while the hardware or the minidriver fills
 *   it, until `complete()` hands it to the consumer (in queue order) or `cancel()` returns it.
 *
 * Pointer objects are preallocated by the queue (one leading edge, one clone per slot) and reused: a clone
 * object is valid from `clone()` until its `complete()`/`cancel()`; after that every call throws
 * `KsStateError` (current state `inactive`).
 */
export class StreamPointer {
  /** Slot of the frame, or -1 while the pointer is inactive. */
  slot = -1;
  private readonly mappingList = new MappingList();

  /** @internal Created by KsQueue only. */
  constructor(
    private readonly host: StreamPointerHost,
    readonly kind: StreamPointerKind,
  ) {}

  /** True while the pointer references a frame. */
  get active(): boolean {
    return this.slot >= 0;
  }

  /** True for a clone. */
  get isClone(): boolean {
    return this.kind === 'clone';
  }

  /**
   * The frame's data bytes (a view into the pool, zero copy; borrowed while the pointer is active).
   * @throws KsStateError when the pointer is inactive.
   */
  get data(): Uint8Array {
    this.requireActive('data');
    return this.host.data(this.slot);
  }

  /** The pool's header accessors; index them with `slot` (writes allowed only while this clone is active). */
  get headers(): StreamHeader {
    return this.host.headers;
  }

  /**
   * Leading edge only: creates the clone of the frame at the leading edge (slot `Queued → Mapped`). The leading
   * edge stays on the frame until `advance()`. One clone per frame.
   * @throws KsStateError on a clone, an inactive pointer, or a frame already cloned.
   */
  clone(): StreamPointer {
    this.requireKind('leading', 'clone');
    this.requireActive('clone');
    return this.host.cloneLeading();
  }

  /**
   * Leading edge only: moves to the next frame of the queue. The frame left behind must have been cloned.
   * @returns false when the queue ran out of frames (the pointer is then inactive; ask the queue for the
   * leading edge again later).
   * @throws KsStateError on a clone, an inactive pointer, or when the current frame was not cloned.
   */
  advance(): boolean {
    this.requireKind('leading', 'advance');
    this.requireActive('advance');
    return this.host.advanceLeading();
  }

  /**
   * Clone only: the frame is filled. Stamps its header (sequence = frame index, presentation time = start +
   * index × period, duration, drop count, `flags` | TimeValid | DurationValid, status) and hands it to the
   * consumer once every earlier clone has completed. The pointer becomes inactive.
   * @param bytesUsed bytes of valid data (0…dataBytes)
   * @param status per-frame status (default Success); Disconnected/DataError/... frames are delivered too
   * @param flags extra `FrameFlags` (e.g. SplicePoint for key frames)
   * @param frameIndex the hardware's frame index n, or -1 (default) for "the next one"; a gap since the
   *   previous frame counts as dropped frames
   * @throws KsStateError on a leading edge or an inactive clone; RangeError for bytesUsed out of range or a
   *   frameIndex that does not increase in queue order.
   */
  complete(bytesUsed: number, status: FrameStatus = 0, flags = 0, frameIndex = -1): void {
    this.requireKind('clone', 'complete');
    this.requireActive('complete');
    this.host.completeClone(this.slot, bytesUsed, status, flags, frameIndex);
  }

  /**
   * Clone only: gives the frame back unfilled (slot returns to the queue while running). Not delivered; no
   * frame index is used. The pointer becomes inactive.
   * @throws KsStateError on a leading edge or an inactive clone.
   */
  cancel(): void {
    this.requireKind('clone', 'cancel');
    this.requireActive('cancel');
    this.host.cancelClone(this.slot);
  }

  /**
   * Clone only: builds the scatter/gather list of this frame (`length` bytes from the slot's start, pieces
   * of at most `maxBytes`). The returned array and records are reused for this clone's next frame.
   * @throws KsStateError on a leading edge or an inactive clone; RangeError for bad sizes.
   */
  mappings(maxBytes: number, length?: number, cookie = 0): readonly Mapping[] {
    this.requireKind('clone', 'mappings');
    this.requireActive('mappings');
    const capacity = this.host.data(this.slot).length;
    const bytes = length ?? capacity;
    if (bytes > capacity) throw new RangeError(`frame length ${bytes} exceeds the slot's ${capacity} bytes`);
    this.mappingList.build(this.slot, bytes, maxBytes, cookie);
    return this.mappingList.mappings;
  }

  /**
   * Clone only: posts this frame's mappings to `channel` (all or nothing). When posted, the clone completes
   * by itself once `KsQueue.collect(channel)` sees all its mappings done (bytes summed, worst status).
   * @returns the number of mappings posted; 0 when the channel has no room for the whole frame (the clone
   *   stays active: post again later or cancel it).
   * @throws as `mappings()`.
   */
  postMappings(channel: CompletionChannel, maxBytes: number, length?: number, cookie = 0): number {
    this.mappings(maxBytes, length, cookie);
    const n = channel.postFrame(this.mappingList);
    if (n > 0) this.host.expectMappings(this.slot, n);
    return n;
  }

  private requireActive(operation: string): void {
    if (this.slot < 0) {
      throw new KsStateError(`${this.host.name} ${this.kind} pointer`, operation, 'inactive', ['active']);
    }
  }

  private requireKind(kind: StreamPointerKind, operation: string): void {
    if (this.kind !== kind) {
      throw new KsStateError(`${this.host.name} ${this.kind} pointer`, operation, this.kind, [kind]);
    }
  }
}
