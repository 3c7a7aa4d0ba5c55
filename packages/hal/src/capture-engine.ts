// The capture engine contract shared by every hal video device (synthetic camera, PCIe, UVC).
import type { CompletionRecord, CompletionRing } from './completion-ring.js';
import { HalError, HalErrorCode } from './hal-error.js';
import type { VideoFormat } from './pixel-format.js';

/**
 * Where the frame slots live inside the owner's SharedArrayBuffer. Slot i's data starts at
 * `dataOffset + i × slotStride` and is `dataLength` bytes long. The owner (ks-core's frame pool)
 * keeps its headers outside these ranges; hal never reads or writes outside them.
 */
export interface PoolGeometry {
  readonly slotCount: number;
  readonly dataOffset: number;
  readonly slotStride: number;
  readonly dataLength: number;
}

/** Byte offset of slot `slot`'s data in the pool memory. */
export function slotDataOffset(geometry: PoolGeometry, slot: number): number {
  return geometry.dataOffset + slot * geometry.slotStride;
}

/**
 * The checks of a `registerPool()` call on an engine with `outstanding` mappings queued: pool
 * memory is a SharedArrayBuffer that holds `geometry`, and nothing is programmed into the old pool.
 * @throws TypeError for other memory; RangeError for a bad geometry; HalError(InvalidState) with
 * mappings outstanding.
 */
export function validatePoolRegistration(
  geometry: PoolGeometry,
  memory: SharedArrayBuffer,
  outstanding: number,
): void {
  if (Object.prototype.toString.call(memory) !== '[object SharedArrayBuffer]') {
    throw new TypeError('memory must be a SharedArrayBuffer');
  }
  validatePoolGeometry(geometry, memory.byteLength);
  if (outstanding > 0)
    throw HalError.invalidState(
      'registerPool()',
      'configured with mappings outstanding',
      'configured with no mappings',
    );
}

/**
 * Throws unless an engine in state `current` may do `operation` (allowed in `allowed`):
 * HalError(Disconnected) once the device is gone, else HalError(InvalidState) naming both states.
 */
export function requireEngineState(
  operation: string,
  current: CaptureEngineState,
  allowed: readonly CaptureEngineState[],
  deviceId: string,
): void {
  if (allowed.includes(current)) return;
  if (current === 'disconnected') {
    throw new HalError(HalErrorCode.Disconnected, `${operation}: ${deviceId} is disconnected`, { deviceId });
  }
  throw HalError.invalidState(operation, current, allowed, deviceId);
}

/**
 * Throws RangeError unless `geometry` describes non-overlapping slots inside `byteLength`.
 */
export function validatePoolGeometry(geometry: PoolGeometry, byteLength: number): void {
  const { slotCount, dataOffset, slotStride, dataLength } = geometry;
  const ints: Array<[string, number]> = [
    ['slotCount', slotCount],
    ['dataOffset', dataOffset],
    ['slotStride', slotStride],
    ['dataLength', dataLength],
  ];
  for (const [name, v] of ints) {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`geometry.${name} must be an integer >= 0, got ${v}`);
  }
  if (slotCount < 1 || slotCount > 4096)
    throw new RangeError(`geometry.slotCount must be in [1, 4096], got ${slotCount}`);
  if (dataLength < 1) throw new RangeError('geometry.dataLength must be >= 1');
  if (slotCount > 1 && slotStride < dataLength) {
    throw new RangeError(
      `geometry.slotStride ${slotStride} is smaller than dataLength ${dataLength}: slots overlap`,
    );
  }
  const end = dataOffset + (slotCount - 1) * slotStride + dataLength;
  if (end > byteLength) {
    throw new RangeError(`pool geometry ends at byte ${end}, beyond the memory's ${byteLength} bytes`);
  }
  if (dataOffset % 4 !== 0 || slotStride % 4 !== 0) {
    // Renderers write whole 32-bit words; an unaligned slot would force byte loops everywhere.
    throw new RangeError('geometry.dataOffset and slotStride must be multiples of 4');
  }
}

/**
 * Checks a `program()` call before anything is queued, so a bad list changes nothing: every
 * mapping inside its slot (offsets multiples of 4), finite cookies, no slot programmed twice
 * (`slotBusy[slot] === 1` marks a slot already outstanding), and room in the completion ring.
 * @throws TypeError/RangeError naming the first bad mapping.
 */
export function validateMappings(
  mappings: readonly DmaMapping[],
  geometry: PoolGeometry,
  slotBusy: ArrayLike<number>,
  outstanding: number,
  capacity: number,
): void {
  if (!Array.isArray(mappings)) throw new TypeError('mappings must be an array');
  if (outstanding + mappings.length > capacity) {
    throw new RangeError(
      `${outstanding + mappings.length} mappings would be outstanding; the engine takes at most ${capacity}`,
    );
  }
  for (let i = 0; i < mappings.length; i++) {
    const m = mappings[i]!;
    if (!Number.isInteger(m.slot) || m.slot < 0 || m.slot >= geometry.slotCount) {
      throw new RangeError(`mapping ${i}: slot ${m.slot} is outside [0, ${geometry.slotCount})`);
    }
    if (!Number.isInteger(m.offset) || m.offset < 0 || m.offset % 4 !== 0) {
      throw new RangeError(`mapping ${i}: offset ${m.offset} must be an integer >= 0 and a multiple of 4`);
    }
    if (!Number.isInteger(m.length) || m.length < 1 || m.offset + m.length > geometry.dataLength) {
      throw new RangeError(
        `mapping ${i}: [${m.offset}, ${m.offset + m.length}) is outside the slot's ${geometry.dataLength} bytes`,
      );
    }
    if (typeof m.cookie !== 'number' || !Number.isFinite(m.cookie)) {
      throw new TypeError(`mapping ${i}: cookie must be a finite number`);
    }
    if (slotBusy[m.slot] === 1) throw new RangeError(`mapping ${i}: slot ${m.slot} is already programmed`);
    for (let j = 0; j < i; j++) {
      if (mappings[j]!.slot === m.slot) throw new RangeError(`mapping ${i}: slot ${m.slot} appears twice`);
    }
  }
}

/**
 * One buffer handed to the device: `length` bytes at `offset` inside slot `slot`'s data.
 * Same shape as ks-core's `Mapping`. `cookie` is opaque to hal and comes back in the result.
 */
export interface DmaMapping {
  readonly slot: number;
  readonly offset: number;
  readonly length: number;
  readonly cookie: number;
}

export { FrameStatus, FrameFlag, frameStatusName } from './frame-status.js';

/** States of a {@link CaptureEngine}. */
export type CaptureEngineState = 'idle' | 'configured' | 'running' | 'disconnected' | 'closed';

/** Counters of a capture engine since `configure`/`registerPool`; they only grow. */
export interface CaptureEngineStats {
  /** Frame times that passed while running (delivered + dropped + starved). */
  framesProduced: number;
  /** Completions published with data (Ok or Corrupt). */
  framesCompleted: number;
  /** Frames the device dropped while a mapping was available. */
  framesDropped: number;
  /** Frames lost because no mapping was programmed at frame time. */
  framesStarved: number;
  /** Frames delivered with `Corrupt` status. */
  framesCorrupted: number;
  /** Mappings completed `Truncated`. */
  framesTruncated: number;
}

/** Options of `CaptureEngine.start`. */
export interface CaptureStartOptions {
  /** Time (100 ns, on the engine's TimeSource) of frame 0; default: now. */
  readonly startTime?: bigint;
}

/**
 * A device's video DMA engine. The same contract for every video device.
 *
 * States: `idle` → (registerPool + configure) → `configured` → start → `running` → stop →
 * `configured`; `disconnected` after hot-unplug (every call but `close` then throws
 * `HalError(Disconnected)`); `closed` after `close()`. Wrong-state calls throw
 * `HalError(InvalidState)` naming the current and required states.
 *
 * Buffer balance: every mapping given to `program` completes exactly once (Ok, Corrupt,
 * Dropped, Truncated, Cancelled or Disconnected), in programming order. The engine never
 * touches memory outside the programmed mappings, and never touches a mapping after its
 * completion is published.
 *
 * Frame timing: frame n (n = 0, 1, … counted from start; the reported `frameIndex` may start
 * elsewhere under a near-wrap fault) is due at `startTime + n × interval`; its presentation
 * time is computed, never accumulated. A frame due while no mapping is programmed is lost and
 * counted as starved; the next completion carries `Discontinuity` and `dropsBefore`.
 *
 * Dirty-region reuse: the engine remembers which frame each slot's data holds (a per-slot
 * content tag, set when it publishes an Ok completion, cleared on configure, registerPool,
 * control changes and `invalidateSlot`). Renderers that support it redraw only what changed.
 * Owners that WRITE into slot data (not just read it) must call `invalidateSlot` before
 * programming that slot again.
 */
export interface CaptureEngine {
  readonly state: CaptureEngineState;
  /** The configured format, if any. */
  readonly format: VideoFormat | undefined;
  /** Results, readable without polling (callback below, or Atomics on `completions.counter`). */
  readonly completions: CompletionRing;

  /**
   * Attaches the owner's pool memory. Borrows `memory` (the owner keeps it); allowed in `idle`
   * and `configured` (replaces the previous pool and clears content tags).
   * @throws RangeError for a geometry that does not fit `memory`; TypeError if not a SAB.
   */
  registerPool(geometry: PoolGeometry, memory: SharedArrayBuffer): void;

  /**
   * Selects the format. Allowed in `idle`/`configured`.
   * @throws HalError(Unsupported) if the device cannot produce it.
   */
  configure(format: VideoFormat): void;

  /**
   * Queues mappings for the coming frames, in order. Allowed in `configured` and `running`.
   * The engine copies the numbers; it does not keep the caller's objects.
   * @throws RangeError for a slot/offset/length outside the pool, an offset that is not a
   * multiple of 4 (renderers write whole words), a slot already outstanding, or more
   * outstanding mappings than `completions.capacity`.
   */
  program(mappings: readonly DmaMapping[]): void;

  /**
   * Starts producing frames. Allowed in `configured` (with a pool registered).
   * @throws HalError(StartFailed) (fault plan, device refusal; state stays `configured`).
   */
  start(options?: CaptureStartOptions): Promise<void>;

  /**
   * Stops producing, completes every outstanding mapping `Cancelled`, returns to `configured`.
   * Resolves when no mapping is outstanding. Idempotent in `configured`.
   */
  stop(): Promise<void>;

  /** Number of mappings programmed and not yet completed. */
  readonly outstanding: number;

  /** Forgets what slot `slot` holds (the owner wrote into it). */
  invalidateSlot(slot: number): void;

  /**
   * Calls `listener(count)` after each batch of completions is published (count = the ring's
   * counter). Runs in the engine's context; errors are caught and logged. Returns unsubscribe.
   */
  onCompletion(listener: (count: number) => void): () => void;

  /** A snapshot of the counters (allocates; not for the per-frame path). */
  stats(): CaptureEngineStats;

  /** Stops if needed, releases the pool; idempotent. */
  close(): Promise<void>;
}

export type { CompletionRecord };
