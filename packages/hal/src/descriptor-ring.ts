// Scatter/gather descriptor ring of the synthetic PCIe card: fixed 32-byte descriptors in shared memory, written by the driver and completed by the device.
import { PCIE_MAX_RING_SIZE } from './pcie-registers.js';

/** Bytes per descriptor. */
export const DESCRIPTOR_BYTES = 32;

/** Word offsets inside one descriptor (eight 32-bit words). */
export const DescriptorWord = Object.freeze({
  /** Driver: pool slot the fragment points into. */
  Slot: 0,
  /** Driver: byte offset of the fragment inside the slot's payload. */
  Offset: 1,
  /** Driver: fragment length in bytes. */
  Length: 2,
  /** Driver: opaque cookie handed back with the completion. */
  Cookie: 3,
  /** Driver: DescriptorFlag bits. */
  Flags: 4,
  /** Device: bytes written into this fragment. */
  DoneBytes: 5,
  /** Device: DescriptorStatus; stored last, so a non-Pending status publishes the other words. */
  DoneStatus: 6,
  /** Device: low 32 bits of the frame index this fragment belongs to. */
  DoneSequence: 7,
});

/** Descriptor flag bits. */
export const DescriptorFlag = Object.freeze({
  /** First fragment of a frame. */
  StartOfFrame: 1 << 0,
  /** Last fragment of a frame: the device needs a whole chain up to this flag before it captures. */
  EndOfFrame: 1 << 1,
});

/** Completion status written by the device. */
export const DescriptorStatus = Object.freeze({
  /** Posted, not yet completed. */
  Pending: 0,
  /** Frame written completely. */
  Done: 1,
  /** Frame written, but its payload is known bad (fault injection; real cards: FIFO overflow, CRC). */
  Corrupted: 2,
  /** The link went down before this descriptor could be filled; no bytes. */
  Disconnected: 3,
  /** Returned unfilled because the driver stopped the stream. */
  Cancelled: 4,
  /** The chain was shorter than the frame; nothing written (frames are never half-filled). */
  Short: 5,
  /** The device discarded the frame (fault plan; real cards: input FIFO overflow); no bytes. */
  Dropped: 6,
});

/** A DescriptorStatus value. */
export type DescriptorStatusCode = (typeof DescriptorStatus)[keyof typeof DescriptorStatus];

/** What the driver posts for one fragment. */
export interface DescriptorFields {
  readonly slot: number;
  readonly offset: number;
  readonly length: number;
  readonly cookie: number;
  readonly flags: number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} ${value} is not an unsigned 32-bit integer`);
  }
}

/**
 * A view of a descriptor ring in shared memory. Positions are free-running 32-bit counters
 * (as RingHead/RingTail are); `position & (size - 1)` picks the descriptor, which is why the
 * size must be a power of two. Field accessors do no allocation, so the engine can use them per frame.
 */
export class DescriptorRing {
  readonly words: Int32Array;
  private readonly mask: number;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly baseBytes: number,
    readonly size: number,
  ) {
    this.words = new Int32Array(buffer, baseBytes, (size * DESCRIPTOR_BYTES) / 4);
    this.mask = size - 1;
  }

  /**
   * Allocates descriptor memory for a ring of `size` descriptors at offset 0.
   * @throws RangeError unless size is a power of two in 1…PCIE_MAX_RING_SIZE.
   */
  static allocate(size: number): DescriptorRing {
    DescriptorRing.checkSize(size);
    return new DescriptorRing(new SharedArrayBuffer(size * DESCRIPTOR_BYTES), 0, size);
  }

  /**
   * Attaches to a ring inside existing descriptor memory (the engine side does this with the
   * RingBase/RingSize register values).
   * @throws TypeError when buffer is not a SharedArrayBuffer; RangeError for a misaligned base,
   *   a bad size, or a ring that does not fit.
   */
  static attach(buffer: SharedArrayBuffer, baseBytes: number, size: number): DescriptorRing {
    if (Object.prototype.toString.call(buffer) !== '[object SharedArrayBuffer]') {
      throw new TypeError('descriptor memory must be a SharedArrayBuffer');
    }
    DescriptorRing.checkSize(size);
    if (!Number.isInteger(baseBytes) || baseBytes < 0 || baseBytes % DESCRIPTOR_BYTES !== 0) {
      throw new RangeError(`ring base ${baseBytes} is not a non-negative multiple of ${DESCRIPTOR_BYTES}`);
    }
    if (baseBytes + size * DESCRIPTOR_BYTES > buffer.byteLength) {
      throw new RangeError(
        `ring of ${size} descriptors at ${baseBytes} exceeds ${buffer.byteLength} bytes of memory`,
      );
    }
    return new DescriptorRing(buffer, baseBytes, size);
  }

  private static checkSize(size: number): void {
    if (!isPowerOfTwo(size) || size > PCIE_MAX_RING_SIZE) {
      throw new RangeError(`ring size ${size} is not a power of two in 1…${PCIE_MAX_RING_SIZE}`);
    }
  }

  /** Descriptor index for a free-running position. */
  indexOf(position: number): number {
    return (position >>> 0) & this.mask;
  }

  /**
   * Driver: fills the descriptor at `position` and resets its completion words to Pending.
   * The device must not own it (the caller checks ring space against RingHead first).
   * @throws RangeError when a field is not an unsigned 32-bit integer.
   */
  post(position: number, fields: DescriptorFields): void {
    checkU32('slot', fields.slot);
    checkU32('offset', fields.offset);
    checkU32('length', fields.length);
    checkU32('cookie', fields.cookie);
    checkU32('flags', fields.flags);
    const base = this.indexOf(position) * 8;
    const w = this.words;
    Atomics.store(w, base + DescriptorWord.Slot, fields.slot | 0);
    Atomics.store(w, base + DescriptorWord.Offset, fields.offset | 0);
    Atomics.store(w, base + DescriptorWord.Length, fields.length | 0);
    Atomics.store(w, base + DescriptorWord.Cookie, fields.cookie | 0);
    Atomics.store(w, base + DescriptorWord.Flags, fields.flags | 0);
    Atomics.store(w, base + DescriptorWord.DoneBytes, 0);
    Atomics.store(w, base + DescriptorWord.DoneSequence, 0);
    Atomics.store(w, base + DescriptorWord.DoneStatus, DescriptorStatus.Pending);
  }

  /** Reads one word of the descriptor at `position` as an unsigned value. */
  word(position: number, word: number): number {
    return Atomics.load(this.words, this.indexOf(position) * 8 + word) >>> 0;
  }

  slot(position: number): number {
    return this.word(position, DescriptorWord.Slot);
  }
  offset(position: number): number {
    return this.word(position, DescriptorWord.Offset);
  }
  length(position: number): number {
    return this.word(position, DescriptorWord.Length);
  }
  cookie(position: number): number {
    return this.word(position, DescriptorWord.Cookie);
  }
  flags(position: number): number {
    return this.word(position, DescriptorWord.Flags);
  }
  doneBytes(position: number): number {
    return this.word(position, DescriptorWord.DoneBytes);
  }
  doneStatus(position: number): DescriptorStatusCode {
    return this.word(position, DescriptorWord.DoneStatus) as DescriptorStatusCode;
  }
  doneSequence(position: number): number {
    return this.word(position, DescriptorWord.DoneSequence);
  }

  /** Device: writes the completion words; the status is stored last so it publishes the rest. */
  complete(position: number, bytes: number, status: DescriptorStatusCode, sequence: number): void {
    const base = this.indexOf(position) * 8;
    Atomics.store(this.words, base + DescriptorWord.DoneBytes, bytes | 0);
    Atomics.store(this.words, base + DescriptorWord.DoneSequence, sequence | 0);
    Atomics.store(this.words, base + DescriptorWord.DoneStatus, status);
  }
}
