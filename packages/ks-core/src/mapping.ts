// Scatter/gather mappings of frame slots and the shared-memory completion channel the hardware reports through.
/// <reference lib="es2024.sharedmemory" />
import { FrameStatus } from './stream-header.js';

/**
 * One piece of a frame handed to the hardware: `length` bytes at `offset` inside slot `slot`'s data
 * (offset is relative to the slot's data start; add `FramePool.dataOffset(slot)` for the buffer offset).
 * `cookie` is opaque to the hardware and comes back with the result. A frame maps to one or more mappings.
 */
export interface Mapping {
  readonly slot: number;
  readonly offset: number;
  readonly length: number;
  readonly cookie: number;
}

/** Mutable mapping record; `MappingList` reuses these so building a list allocates nothing per frame. */
interface MappingRecord {
  slot: number;
  offset: number;
  length: number;
  cookie: number;
}

/**
 * The mappings of one frame, rebuilt in place for every frame (the array and its records are reused; the
 * array is only re-created when the piece count changes). Borrowed: valid until the next `build`.
 */
export class MappingList {
  private list: MappingRecord[] = [];

  /** The mappings built by the last `build` (a reused array; do not keep it across frames). */
  get mappings(): readonly Mapping[] {
    return this.list;
  }

  /** Number of mappings. */
  get count(): number {
    return this.list.length;
  }

  /**
   * Splits `length` bytes of `slot` (from its data start) into pieces of at most `maxBytes`.
   * @returns the number of pieces.
   * @throws RangeError for a non-positive length or maxBytes.
   */
  build(slot: number, length: number, maxBytes: number, cookie: number): number {
    if (!Number.isInteger(length) || length < 1)
      throw new RangeError(`mapping length must be ≥ 1, got ${length}`);
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes per mapping must be ≥ 1, got ${maxBytes}`);
    }
    const n = Math.ceil(length / maxBytes);
    if (this.list.length !== n) {
      this.list = Array.from({ length: n }, () => ({ slot: 0, offset: 0, length: 0, cookie: 0 }));
    }
    for (let i = 0; i < n; i++) {
      const m = this.list[i] as MappingRecord;
      m.slot = slot;
      m.offset = i * maxBytes;
      m.length = Math.min(maxBytes, length - i * maxBytes);
      m.cookie = cookie;
    }
    return n;
  }
}

/** Structured-cloneable handle of a completion channel (attach it in the hardware's thread). */
export interface CompletionChannelHandle {
  readonly kind: 'ksemu.completion-channel';
  readonly buffer: SharedArrayBuffer;
}

const MAGIC = 0x4b53434d; // 'KSCM'
const C_MAGIC = 0;
const C_CAPACITY = 1;
/** Mappings posted by the driver side so far (free-running int32). */
const C_POSTED = 2;
/** Mappings completed by the hardware so far (free-running int32, `Atomics.add`). */
const C_COMPLETED = 3;
/** Mappings the driver side has read back and retired. */
const C_RETIRED = 4;
/** Frames the hardware skipped because they were not fully mapped (`Atomics.add`). */
const C_SKIPPED = 5;
const CONTROL_WORDS = 16;
// Entry words.
const E_SLOT = 0;
const E_OFFSET = 1;
const E_LENGTH = 2;
const E_COOKIE = 3;
const E_FLAGS = 4;
const E_RESULT_BYTES = 5;
const E_RESULT_STATUS = 6;
const E_RESULT_FRAME = 7;
const ENTRY_WORDS = 8;
/** Entry flag: last mapping of a frame (the hardware fills a frame only up to such an entry). */
export const MAPPING_END_OF_FRAME = 1;

/**
 * Shared-memory mapping queue + completion counter between a driver side (ks-core, usually the main thread)
 * and a hardware side (a DMA engine, possibly in a Worker), as Ks.sys's S/G list plus the avshws "mappings
 * completed" register.
 *
 * - Driver side: `postFrame` writes a frame's mappings (all or nothing) and bumps `posted`; later `completed`
 *   tells how many finished, `resultBytes/resultStatus(k)` read them, `retire()` frees the entries.
 * - Hardware side: `frameMappings()` says how many posted mappings make up the next fully-mapped frame (0 if
 *   the next frame is not fully mapped: then `skipFrame()` counts it, never half-filling it); it fills them,
 *   writes results with `complete(bytes, status)`, which does `Atomics.add` + `Atomics.notify`.
 *
 * Counters are free-running int32; entry k lives at `k & (capacity - 1)`. One driver thread and one hardware
 * thread.
 */
export class CompletionChannel {
  private readonly w: Int32Array;
  readonly capacity: number;
  private readonly mask: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
    this.capacity = this.w[C_CAPACITY] ?? 0;
    this.mask = this.capacity - 1;
  }

  /**
   * A channel with room for at least `capacity` outstanding mappings (rounded up to a power of two).
   * @throws RangeError when capacity is not in 1…65536.
   */
  static create(capacity: number): CompletionChannel {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) {
      throw new RangeError(`channel capacity must be an integer in 1…65536, got ${capacity}`);
    }
    let cap = 1;
    while (cap < capacity) cap *= 2;
    const buffer = new SharedArrayBuffer((CONTROL_WORDS + cap * ENTRY_WORDS) * 4);
    const w = new Int32Array(buffer);
    w[C_MAGIC] = MAGIC;
    w[C_CAPACITY] = cap;
    return new CompletionChannel(buffer);
  }

  /**
   * Opens a channel from its handle (in the hardware's thread).
   * @throws TypeError when the handle is not a completion-channel handle.
   */
  static attach(handle: CompletionChannelHandle): CompletionChannel {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'ksemu.completion-channel') {
      throw new TypeError('not a completion-channel handle');
    }
    const b: unknown = handle.buffer;
    if (Object.prototype.toString.call(b) !== '[object SharedArrayBuffer]') {
      throw new TypeError('completion-channel handle has no SharedArrayBuffer');
    }
    const w = new Int32Array(handle.buffer);
    const cap = w[C_CAPACITY] ?? 0;
    if (
      w[C_MAGIC] !== MAGIC ||
      cap < 1 ||
      (cap & (cap - 1)) !== 0 ||
      w.length !== CONTROL_WORDS + cap * ENTRY_WORDS
    ) {
      throw new TypeError('SharedArrayBuffer is not a ksemu completion channel');
    }
    return new CompletionChannel(handle.buffer);
  }

  /** Structured-cloneable handle. */
  share(): CompletionChannelHandle {
    return { kind: 'ksemu.completion-channel', buffer: this.w.buffer as SharedArrayBuffer };
  }

  // ---- driver side ----

  /** Entries free for posting (capacity minus posted-but-not-retired). */
  get space(): number {
    return this.capacity - ((Atomics.load(this.w, C_POSTED) - Atomics.load(this.w, C_RETIRED)) | 0);
  }

  /**
   * Posts every mapping of `list` (one frame), the last one flagged end-of-frame, or nothing at all when
   * there is not room for all of them (the frame then stays with the driver; "kick me later").
   * @returns the number of mappings posted (0 = no room).
   */
  postFrame(list: MappingList): number {
    const n = list.count;
    if (n === 0 || n > this.space) return 0;
    const posted = Atomics.load(this.w, C_POSTED);
    const items = list.mappings;
    for (let i = 0; i < n; i++) {
      const m = items[i] as Mapping;
      const e = CONTROL_WORDS + ((posted + i) & this.mask) * ENTRY_WORDS;
      this.w[e + E_SLOT] = m.slot;
      this.w[e + E_OFFSET] = m.offset;
      this.w[e + E_LENGTH] = m.length;
      this.w[e + E_COOKIE] = m.cookie;
      this.w[e + E_FLAGS] = i === n - 1 ? MAPPING_END_OF_FRAME : 0;
      this.w[e + E_RESULT_BYTES] = 0;
      this.w[e + E_RESULT_STATUS] = FrameStatus.Success;
      this.w[e + E_RESULT_FRAME] = -1;
    }
    Atomics.store(this.w, C_POSTED, (posted + n) | 0);
    Atomics.notify(this.w, C_POSTED);
    return n;
  }

  /** Completions published by the hardware so far (free-running). */
  get completed(): number {
    return Atomics.load(this.w, C_COMPLETED);
  }

  /** Completed mappings not yet retired by the driver side. */
  get unretired(): number {
    return (Atomics.load(this.w, C_COMPLETED) - Atomics.load(this.w, C_RETIRED)) | 0;
  }

  /** Slot of the oldest unretired completion (`k` = 0) or the k-th after it. */
  resultSlot(k = 0): number {
    return this.w[this.entry(Atomics.load(this.w, C_RETIRED) + k) + E_SLOT] ?? -1;
  }
  /** Bytes the hardware wrote for the k-th unretired completion. */
  resultBytes(k = 0): number {
    return this.w[this.entry(Atomics.load(this.w, C_RETIRED) + k) + E_RESULT_BYTES] ?? 0;
  }
  /** `FrameStatus` of the k-th unretired completion. */
  resultStatus(k = 0): FrameStatus {
    return (this.w[this.entry(Atomics.load(this.w, C_RETIRED) + k) + E_RESULT_STATUS] ?? 0) as FrameStatus;
  }
  /** Hardware frame index reported with the k-th unretired completion, or -1 when it gave none. */
  resultFrameIndex(k = 0): number {
    return this.w[this.entry(Atomics.load(this.w, C_RETIRED) + k) + E_RESULT_FRAME] ?? -1;
  }
  /** True when the k-th unretired completion is the last mapping of its frame. */
  resultEndsFrame(k = 0): boolean {
    return (
      ((this.w[this.entry(Atomics.load(this.w, C_RETIRED) + k) + E_FLAGS] ?? 0) & MAPPING_END_OF_FRAME) !== 0
    );
  }

  /** Frees the oldest completed entry. @throws RangeError when nothing is completed. */
  retire(): void {
    if (this.unretired <= 0) throw new RangeError('no completed mapping to retire');
    Atomics.add(this.w, C_RETIRED, 1);
  }

  /** Frames the hardware skipped so far because they were not fully mapped. */
  get skipped(): number {
    return Atomics.load(this.w, C_SKIPPED);
  }

  /**
   * Resolves once `completed` differs from `seen` (at once if it already does), without blocking the thread.
   */
  waitCompleted(seen: number): Promise<unknown> | undefined {
    const r = Atomics.waitAsync(this.w, C_COMPLETED, seen);
    return r.async ? r.value : undefined;
  }

  /**
   * Forgets every posted mapping (driver side, only while the hardware is stopped): the channel is empty
   * afterwards. Counters keep growing so a stale waiter cannot confuse an old count with a new one.
   */
  reset(): void {
    const posted = Atomics.load(this.w, C_POSTED);
    Atomics.store(this.w, C_COMPLETED, posted);
    Atomics.store(this.w, C_RETIRED, posted);
    Atomics.notify(this.w, C_COMPLETED);
  }

  /** Wakes every `waitCompleted` waiter without changing anything (they re-check and find nothing new). */
  wake(): void {
    Atomics.notify(this.w, C_COMPLETED);
  }

  // ---- hardware side ----

  /** Mappings posted so far (free-running); the hardware waits for it to change. */
  get posted(): number {
    return Atomics.load(this.w, C_POSTED);
  }

  /**
   * Hardware side, in a Worker only (it blocks the thread): waits until `posted` differs from `seen` or
   * `timeoutMs` passes. Returns Atomics.wait's answer.
   */
  waitPostedBlocking(seen: number, timeoutMs: number): 'ok' | 'not-equal' | 'timed-out' {
    return Atomics.wait(this.w, C_POSTED, seen, timeoutMs);
  }

  /** Mappings posted and not yet completed. */
  get pending(): number {
    return (Atomics.load(this.w, C_POSTED) - Atomics.load(this.w, C_COMPLETED)) | 0;
  }

  /** Number of pending mappings forming the next frame, or 0 when no fully-mapped frame is pending. */
  frameMappings(): number {
    const pending = this.pending;
    const start = Atomics.load(this.w, C_COMPLETED);
    for (let k = 0; k < pending; k++) {
      if (((this.w[this.entry(start + k) + E_FLAGS] ?? 0) & MAPPING_END_OF_FRAME) !== 0) return k + 1;
    }
    return 0;
  }

  /** Slot, offset, length and cookie of the k-th pending mapping (hardware side). */
  pendingSlot(k = 0): number {
    return this.w[this.entry(Atomics.load(this.w, C_COMPLETED) + k) + E_SLOT] ?? -1;
  }
  pendingOffset(k = 0): number {
    return this.w[this.entry(Atomics.load(this.w, C_COMPLETED) + k) + E_OFFSET] ?? 0;
  }
  pendingLength(k = 0): number {
    return this.w[this.entry(Atomics.load(this.w, C_COMPLETED) + k) + E_LENGTH] ?? 0;
  }
  pendingCookie(k = 0): number {
    return this.w[this.entry(Atomics.load(this.w, C_COMPLETED) + k) + E_COOKIE] ?? 0;
  }

  /**
   * Hardware side: publishes the result of the oldest pending mapping and wakes the driver side.
   * `frameIndex` is the hardware's frame counter n (0…2^31-1) for exact sequence numbers and drop counts
   * (gaps between frame indices are the dropped frames); -1 (default) leaves numbering to the queue, which
   * then counts `skipFrame()` calls as drops.
   * @throws RangeError when nothing is pending or bytes exceed the mapping's length.
   */
  complete(bytes: number, status: FrameStatus, frameIndex = -1): void {
    if (this.pending <= 0) throw new RangeError('no pending mapping to complete');
    const e = this.entry(Atomics.load(this.w, C_COMPLETED));
    if (bytes < 0 || bytes > (this.w[e + E_LENGTH] ?? 0)) {
      throw new RangeError(`completed ${bytes} bytes into a mapping of ${this.w[e + E_LENGTH]}`);
    }
    this.w[e + E_RESULT_BYTES] = bytes;
    this.w[e + E_RESULT_STATUS] = status;
    this.w[e + E_RESULT_FRAME] = frameIndex;
    Atomics.add(this.w, C_COMPLETED, 1);
    Atomics.notify(this.w, C_COMPLETED);
  }

  /** Hardware side: counts a frame time that found no fully-mapped frame (skipped, never half-filled). */
  skipFrame(): void {
    Atomics.add(this.w, C_SKIPPED, 1);
    Atomics.notify(this.w, C_COMPLETED);
  }

  private entry(k: number): number {
    return CONTROL_WORDS + (k & this.mask) * ENTRY_WORDS;
  }
}
