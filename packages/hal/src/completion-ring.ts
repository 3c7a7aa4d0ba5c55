// Per-mapping completion results in shared memory: a monotonic counter plus a record ring.
import type { FrameStatus } from './frame-status.js';

/**
 * One completion, read into a caller-owned object (reuse it: reading allocates nothing but
 * the bigints). Field meanings are in {@link CompletionRing}'s contract.
 */
export interface CompletionRecord {
  /** The cookie of the mapping this result belongs to (as given to `program`). */
  cookie: number;
  /** Pool slot of the mapping. */
  slot: number;
  /** Byte offset of the mapping inside its slot. */
  offset: number;
  /** Outcome; only `Ok` and `Corrupt` carry data (`bytesUsed > 0`). */
  status: FrameStatus;
  /** Bit set of {@link FrameFlag}. */
  flags: number;
  /** Bytes of valid data written at the mapping's start. */
  bytesUsed: number;
  /** Frames lost (starved or dropped) since the previous completion; > 0 sets `Discontinuity`. */
  dropsBefore: number;
  /** The device's frame index n (monotonic, never reset while streaming). -1n for no frame. */
  frameIndex: bigint;
  /** `frameIndex` modulo 2^32: the sequence number a 32-bit counter shows (wraps). */
  sequence: number;
  /** start + n × interval, in 100 ns units; never accumulated. */
  presentationTime: bigint;
  /** Frame interval (100 ns). */
  duration: bigint;
}

/** A blank record to pass to {@link CompletionRing.read}. */
export function emptyCompletionRecord(): CompletionRecord {
  return {
    cookie: 0,
    slot: -1,
    offset: 0,
    status: 0 as FrameStatus,
    flags: 0,
    bytesUsed: 0,
    dropsBefore: 0,
    frameIndex: -1n,
    sequence: 0,
    presentationTime: 0n,
    duration: 0n,
  };
}

/** Clears what a record says about a frame (for a mapping that completes without one). */
export function clearFrameInfo(r: CompletionRecord): void {
  r.flags = 0;
  r.bytesUsed = 0;
  r.dropsBefore = 0;
  r.frameIndex = -1n;
  r.sequence = 0;
  r.presentationTime = 0n;
  r.duration = 0n;
}

const HEADER_BYTES = 64;
const INT_FIELDS = 7; // slot, offset, status, flags, bytesUsed, dropsBefore, sequence
const BIG_FIELDS = 3; // frameIndex, presentationTime, duration

/** Structured-cloneable handle: pass it to a Worker and `CompletionRing.attach` it there. */
export interface CompletionRingHandle {
  readonly memory: SharedArrayBuffer;
  readonly capacity: number;
}

/**
 * Completions of one capture engine in a SharedArrayBuffer, so a Worker-side engine and a
 * main-thread owner (or the reverse) share them without messages.
 *
 * Contract:
 * - Word `counterIndex` of `counter` (an Int32Array) is the number of completions published so
 *   far, modulo 2^32; it only grows. Owners wait on it with `Atomics.wait`/`Atomics.waitAsync`;
 *   the writer `Atomics.notify`s it after each publish.
 * - Record k (0-based, k < counter) stays readable until k + capacity records are published;
 *   the engine never has more outstanding mappings than `capacity`, so an owner that reads
 *   every completion before programming new mappings never loses one.
 * - One writer (the engine), any number of readers.
 */
export class CompletionRing {
  readonly memory: SharedArrayBuffer;
  readonly capacity: number;
  /** Int32 view whose word {@link CompletionRing.counterIndex} is the completion counter. */
  readonly counter: Int32Array;
  readonly counterIndex = 0;
  private readonly ints: Int32Array;
  private readonly cookies: Float64Array;
  private readonly bigs: BigInt64Array;
  private readonly mask: number;

  private constructor(memory: SharedArrayBuffer, capacity: number) {
    this.memory = memory;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.counter = new Int32Array(memory, 0, HEADER_BYTES / 4);
    let at = HEADER_BYTES;
    this.cookies = new Float64Array(memory, at, capacity);
    at += capacity * 8;
    this.bigs = new BigInt64Array(memory, at, capacity * BIG_FIELDS);
    at += capacity * 8 * BIG_FIELDS;
    this.ints = new Int32Array(memory, at, capacity * INT_FIELDS);
  }

  /** Bytes of shared memory a ring of `capacity` records needs. */
  static byteLength(capacity: number): number {
    return HEADER_BYTES + capacity * (8 + 8 * BIG_FIELDS + 4 * INT_FIELDS);
  }

  /**
   * A new ring with room for at least `minCapacity` records (rounded up to a power of two).
   * @throws RangeError if `minCapacity` is not an integer in [1, 65536].
   */
  static create(minCapacity: number): CompletionRing {
    if (!Number.isInteger(minCapacity) || minCapacity < 1 || minCapacity > 65536) {
      throw new RangeError(`capacity must be an integer in [1, 65536], got ${minCapacity}`);
    }
    let capacity = 1;
    while (capacity < minCapacity) capacity *= 2;
    return new CompletionRing(new SharedArrayBuffer(CompletionRing.byteLength(capacity)), capacity);
  }

  /** Attaches to a ring created elsewhere (e.g. in another thread). */
  static attach(handle: CompletionRingHandle): CompletionRing {
    const ok = Object.prototype.toString.call(handle.memory) === '[object SharedArrayBuffer]';
    if (!ok) throw new TypeError('handle.memory must be a SharedArrayBuffer');
    const c = handle.capacity;
    if (!Number.isInteger(c) || c < 1 || (c & (c - 1)) !== 0) {
      throw new RangeError(`capacity must be a power of two, got ${c}`);
    }
    if (handle.memory.byteLength < CompletionRing.byteLength(c)) {
      throw new RangeError('handle.memory is too small for its capacity');
    }
    return new CompletionRing(handle.memory, c);
  }

  /** A structured-cloneable handle for {@link CompletionRing.attach}. */
  share(): CompletionRingHandle {
    return { memory: this.memory, capacity: this.capacity };
  }

  /** Completions published so far (modulo 2^32, as an unsigned number). */
  get count(): number {
    return Atomics.load(this.counter, 0) >>> 0;
  }

  /**
   * Copies completion number `index` (0-based, modulo 2^32) into `into`.
   * @returns false when that record is not published yet or was already overwritten.
   */
  read(index: number, into: CompletionRecord): boolean {
    const count = Atomics.load(this.counter, 0) >>> 0;
    const behind = (count - (index >>> 0)) >>> 0;
    if (behind === 0 || behind > this.capacity) return false;
    const e = (index >>> 0) & this.mask;
    const i = e * INT_FIELDS;
    const b = e * BIG_FIELDS;
    into.cookie = this.cookies[e]!;
    into.slot = this.ints[i]!;
    into.offset = this.ints[i + 1]!;
    into.status = this.ints[i + 2]! as FrameStatus;
    into.flags = this.ints[i + 3]!;
    into.bytesUsed = this.ints[i + 4]!;
    into.dropsBefore = this.ints[i + 5]!;
    into.sequence = this.ints[i + 6]! >>> 0;
    into.frameIndex = this.bigs[b]!;
    into.presentationTime = this.bigs[b + 1]!;
    into.duration = this.bigs[b + 2]!;
    // A record is rewritten only `capacity` publishes later; re-check that did not happen.
    const after = Atomics.load(this.counter, 0) >>> 0;
    return (after - (index >>> 0)) >>> 0 <= this.capacity;
  }

  /** Writer side: publishes `r` as the next completion and wakes waiters. Engine use only. */
  publish(r: CompletionRecord): void {
    const count = Atomics.load(this.counter, 0) >>> 0;
    const e = count & this.mask;
    const i = e * INT_FIELDS;
    const b = e * BIG_FIELDS;
    this.cookies[e] = r.cookie;
    this.ints[i] = r.slot;
    this.ints[i + 1] = r.offset;
    this.ints[i + 2] = r.status;
    this.ints[i + 3] = r.flags;
    this.ints[i + 4] = r.bytesUsed;
    this.ints[i + 5] = r.dropsBefore;
    this.ints[i + 6] = r.sequence | 0;
    this.bigs[b] = r.frameIndex;
    this.bigs[b + 1] = r.presentationTime;
    this.bigs[b + 2] = r.duration;
    Atomics.store(this.counter, 0, (count + 1) | 0);
    Atomics.notify(this.counter, 0);
  }
}
