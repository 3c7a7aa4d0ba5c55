// Allocator framing (KSALLOCATOR_FRAMING_EX, simple form): how many frames a pin's pool has and how big and aligned they are.
import type { Guid } from './guid.js';
import { MemoryType } from './known-guids.js';
import type { DataFormat } from './video-format.js';

/**
 * The framing a pin descriptor declares, as DECLARE_SIMPLE_FRAMING_EX does: memory type, frame
 * count, alignment and frame-size bounds. A frame-size bound of 0 means "from the format".
 */
export interface AllocatorFraming {
  /** KSMEMORY_TYPE_*; informational in an emulator (pools always live in a SharedArrayBuffer). */
  readonly memoryType: Guid;
  /** Number of frames in the pool. At least 1. */
  readonly frames: number;
  /** Byte alignment of every frame start (a power of two, at least 1). */
  readonly alignment: number;
  /** Minimum frame size in bytes (0: no minimum). */
  readonly minFrameSize: number;
  /** Maximum frame size in bytes (0: no maximum). */
  readonly maxFrameSize: number;
}

/** Framing resolved against a negotiated format: what the pin's frame pool is allocated with. */
export interface ResolvedFraming {
  readonly frames: number;
  /** Bytes per frame: the format's sample/image size, raised to `minFrameSize`, rounded up to `alignment`. */
  readonly frameSize: number;
  readonly alignment: number;
}

/**
 * Builds a validated, frozen simple framing.
 * @throws RangeError for a frame count < 1, alignment not a power of two, or min > max.
 */
export function simpleFraming(init: {
  frames: number;
  alignment?: number;
  minFrameSize?: number;
  maxFrameSize?: number;
  memoryType?: Guid;
}): AllocatorFraming {
  const alignment = init.alignment ?? 1;
  const minFrameSize = init.minFrameSize ?? 0;
  const maxFrameSize = init.maxFrameSize ?? 0;
  if (!Number.isInteger(init.frames) || init.frames < 1 || init.frames > 1024)
    throw new RangeError(`framing needs 1..1024 frames, got ${init.frames}`);
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`framing alignment must be a power of two, got ${alignment}`);
  }
  for (const [what, v] of [
    ['minFrameSize', minFrameSize],
    ['maxFrameSize', maxFrameSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`framing ${what} must be a non-negative integer, got ${v}`);
  }
  if (maxFrameSize !== 0 && minFrameSize > maxFrameSize)
    throw new RangeError(`framing minFrameSize exceeds maxFrameSize`);
  return Object.freeze({
    memoryType: init.memoryType ?? MemoryType.KERNEL_NONPAGED,
    frames: init.frames,
    alignment,
    minFrameSize,
    maxFrameSize,
  });
}

/** The framing used when a pin descriptor declares none: 4 frames, 64-byte aligned. */
export const DEFAULT_FRAMING: AllocatorFraming = simpleFraming({ frames: 4, alignment: 64 });

/**
 * Resolves framing against a format.
 * @throws RangeError when the format's frames are larger than `maxFrameSize` or have size 0.
 */
export function resolveFraming(framing: AllocatorFraming, format: DataFormat): ResolvedFraming {
  const natural = format.kind === 'video' ? format.imageSize : format.sampleSize;
  let size = Math.max(natural, framing.minFrameSize);
  if (size <= 0) throw new RangeError('cannot allocate frames of size 0: the format carries no samples');
  if (framing.maxFrameSize !== 0 && size > framing.maxFrameSize) {
    throw new RangeError(`frames of ${size} bytes exceed the framing maximum of ${framing.maxFrameSize}`);
  }
  size = Math.ceil(size / framing.alignment) * framing.alignment;
  return Object.freeze({ frames: framing.frames, frameSize: size, alignment: framing.alignment });
}
