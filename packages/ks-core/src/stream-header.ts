// Per-slot stream header (KSSTREAM_HEADER + KS_FRAME_INFO): typed accessors over the pool's header block.

/**
 * Stream header option flags, with the values of KSSTREAM_HEADER_OPTIONSF_* so they can be compared with
 * captures from real Ks.sys.
 */
export const FrameFlags = {
  /** Key frame / splice point (KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT). */
  SplicePoint: 0x1,
  Preroll: 0x2,
  /** Data before this frame was lost (drops since the previous delivered frame). */
  DataDiscontinuity: 0x4,
  TypeChanged: 0x8,
  /** `presentationTime` is valid. */
  TimeValid: 0x10,
  TimeDiscontinuity: 0x40,
  /** `duration` is valid. */
  DurationValid: 0x100,
  /** Last frame of the stream. */
  EndOfStream: 0x200,
} as const;
/** Alias: a key frame is a splice point in KS terms. */
export const KEY_FRAME = FrameFlags.SplicePoint;

/** Per-frame completion status (carried in the header, never thrown). */
export const FrameStatus = {
  Success: 0,
  /** The frame was cancelled (stop); never delivered with data. */
  Cancelled: 1,
  /** The device went away while the frame was outstanding. */
  Disconnected: 2,
  /** The payload is corrupt (bad payload header, CRC, error bit). */
  DataError: 3,
  /** Fewer bytes than a full frame arrived. */
  Truncated: 4,
  /** The hardware reported a failure for this frame. */
  DeviceError: 5,
} as const;
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

const STATUS_NAMES = ['Success', 'Cancelled', 'Disconnected', 'DataError', 'Truncated', 'DeviceError'];
/** Name of a status value for messages. */
export function frameStatusName(status: number): string {
  return STATUS_NAMES[status] ?? `Unknown(${status})`;
}

// Word layout of one 64-byte header. Word 0 is the slot state word owned by FramePool (state in bits
// 0…2, generation in bits 3…30).
const W_STATE = 0;
const W_BYTES_USED = 1;
const W_FLAGS = 2;
const W_STATUS = 3;
const W_DROP_COUNT = 4;
const W_CONTENT_INDEX = 5;
const W_COOKIE = 6;
const W_REGION = 7;
// words 8, 9 spare
const F_SEQUENCE = 5; // Float64 index within the header (bytes 40…47)
const B_PRESENTATION_TIME = 6; // BigInt64 index (bytes 48…55)
const B_DURATION = 7; // BigInt64 index (bytes 56…63)
const WORDS = 16;
const LONGS = 8;

/** Byte offsets of the header fields inside one 64-byte slot header (for code on the hardware side). */
export const STREAM_HEADER_LAYOUT = Object.freeze({
  bytes: 64,
  /** The slot state word: state in bits 0…2, generation in bits 3…30 (see FramePool). */
  state: W_STATE * 4,
  bytesUsed: W_BYTES_USED * 4,
  flags: W_FLAGS * 4,
  status: W_STATUS * 4,
  dropCount: W_DROP_COUNT * 4,
  contentIndex: W_CONTENT_INDEX * 4,
  cookie: W_COOKIE * 4,
  region: W_REGION * 4,
  sequence: F_SEQUENCE * 8,
  presentationTime: B_PRESENTATION_TIME * 8,
  duration: B_DURATION * 8,
});

/**
 * Typed accessors of every slot's header: int32 words, a float64 sequence (exact integers up to 2^53) and
 * int64 times in 100 ns units. Views are created once; reading a field allocates nothing except the bigint
 * a time read returns.
 *
 * Writes are plain stores: only the current owner of a slot (by its state word) writes its header, and the
 * `Atomics.compareExchange` that hands the slot on publishes them to the next owner's thread.
 */
export class StreamHeader {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly i64: BigInt64Array;
  /** Number of slots covered. */
  readonly slotCount: number;

  /** Borrows `slotCount * 64` bytes of `buffer` from `byteOffset` (8-aligned). Used by FramePool. */
  constructor(buffer: SharedArrayBuffer, byteOffset: number, slotCount: number) {
    if (byteOffset % 8 !== 0) throw new RangeError(`header block offset ${byteOffset} is not 8-aligned`);
    this.slotCount = slotCount;
    this.i32 = new Int32Array(buffer, byteOffset, slotCount * WORDS);
    this.f64 = new Float64Array(buffer, byteOffset, slotCount * LONGS);
    this.i64 = new BigInt64Array(buffer, byteOffset, slotCount * LONGS);
  }

  /** Zeroes every field except the state word and the generation (which counts reuse). */
  reset(slot: number): void {
    const w = slot * WORDS;
    this.i32[w + W_BYTES_USED] = 0;
    this.i32[w + W_FLAGS] = 0;
    this.i32[w + W_STATUS] = 0;
    this.i32[w + W_DROP_COUNT] = 0;
    this.i32[w + W_CONTENT_INDEX] = -1;
    this.i32[w + W_COOKIE] = 0;
    this.i32[w + W_REGION] = 0;
    this.f64[slot * LONGS + F_SEQUENCE] = 0;
    this.i64[slot * LONGS + B_PRESENTATION_TIME] = 0n;
    this.i64[slot * LONGS + B_DURATION] = 0n;
  }

  /** Bytes of valid data in the slot. */
  bytesUsed(slot: number): number {
    return this.i32[slot * WORDS + W_BYTES_USED] ?? 0;
  }
  setBytesUsed(slot: number, v: number): void {
    this.i32[slot * WORDS + W_BYTES_USED] = v;
  }
  /** `FrameFlags` bits. */
  flags(slot: number): number {
    return this.i32[slot * WORDS + W_FLAGS] ?? 0;
  }
  setFlags(slot: number, v: number): void {
    this.i32[slot * WORDS + W_FLAGS] = v;
  }
  /** `FrameStatus` of the frame. */
  status(slot: number): FrameStatus {
    return (this.i32[slot * WORDS + W_STATUS] ?? 0) as FrameStatus;
  }
  setStatus(slot: number, v: FrameStatus): void {
    this.i32[slot * WORDS + W_STATUS] = v;
  }
  /** Frames dropped since the stream started (cumulative, like KS_FRAME_INFO.DropCount). */
  dropCount(slot: number): number {
    return this.i32[slot * WORDS + W_DROP_COUNT] ?? 0;
  }
  setDropCount(slot: number, v: number): void {
    this.i32[slot * WORDS + W_DROP_COUNT] = v;
  }
  /**
   * Producer's note of which content (frame index) the slot's pixels hold, -1 when unknown; lets a renderer
   * repaint only what changed since that frame. Not touched by the queue.
   */
  contentIndex(slot: number): number {
    return this.i32[slot * WORDS + W_CONTENT_INDEX] ?? -1;
  }
  setContentIndex(slot: number, v: number): void {
    this.i32[slot * WORDS + W_CONTENT_INDEX] = v;
  }
  /** Free word for the minidriver (e.g. a mapping cookie). */
  cookie(slot: number): number {
    return this.i32[slot * WORDS + W_COOKIE] ?? 0;
  }
  setCookie(slot: number, v: number): void {
    this.i32[slot * WORDS + W_COOKIE] = v;
  }
  /** Free word for the producer (e.g. a dirty-region id). */
  region(slot: number): number {
    return this.i32[slot * WORDS + W_REGION] ?? 0;
  }
  setRegion(slot: number, v: number): void {
    this.i32[slot * WORDS + W_REGION] = v;
  }
  /**
   * Times the slot returned to Free, modulo 2^28 (an atomic load of the state word's bits 3…30; FramePool
   * advances it on every transition to Free, so a stale reference to the slot can be detected).
   */
  generation(slot: number): number {
    return Atomics.load(this.i32, slot * WORDS + W_STATE) >>> 3;
  }
  /** Picture number of the frame (KS_FRAME_INFO.PictureNumber). */
  sequence(slot: number): number {
    return this.f64[slot * LONGS + F_SEQUENCE] ?? 0;
  }
  setSequence(slot: number, v: number): void {
    this.f64[slot * LONGS + F_SEQUENCE] = v;
  }
  /** Presentation time in 100 ns units. */
  presentationTime(slot: number): bigint {
    return this.i64[slot * LONGS + B_PRESENTATION_TIME] ?? 0n;
  }
  setPresentationTime(slot: number, v: bigint): void {
    this.i64[slot * LONGS + B_PRESENTATION_TIME] = v;
  }
  /** Duration in 100 ns units. */
  duration(slot: number): bigint {
    return this.i64[slot * LONGS + B_DURATION] ?? 0n;
  }
  setDuration(slot: number, v: bigint): void {
    this.i64[slot * LONGS + B_DURATION] = v;
  }
}
