// Frame pool: one SharedArrayBuffer per pin holding N fixed-geometry slots, their headers and atomic slot states.
/// <reference lib="es2024.sharedmemory" />
import { StreamHeader } from './stream-header.js';

/**
 * Slot ownership states. A slot moves `Free → Queued → Mapped → Filled → Held → Free`; the cancel paths
 * `Queued | Mapped | Filled → Free` return a slot that never reached (or never was taken by) a consumer, and
 * the revoke path `Held → Free` is the producer taking a frame back from a consumer at stop.
 *
 * - `Free`: owned by nobody; the queue may take it.
 * - `Queued`: in the pin's queue, not yet referenced by the hardware.
 * - `Mapped`: referenced by a stream-pointer clone; the hardware (or the minidriver) may write its data.
 * - `Filled`: completed and stamped; in the hand-off ring, waiting for the consumer to take it.
 * - `Held`: taken by the consumer, which must `release()` it (or have it revoked at stop).
 *
 * The state word of a slot holds the state in bits 0…2 and the slot's generation in bits 3…30: the
 * generation grows by one on every return to `Free`, so an owner that remembers the whole word it took
 * (`takeFilled`) can give it back exactly once (`releaseHeld`); a release after the slot was reclaimed
 * finds another generation and is refused (a stale release), however the slot has been reused since.
 */
export const SlotState = {
  Free: 0,
  Queued: 1,
  Mapped: 2,
  Filled: 3,
  Held: 4,
} as const;
export type SlotState = (typeof SlotState)[keyof typeof SlotState];

const SLOT_STATE_NAMES = ['Free', 'Queued', 'Mapped', 'Filled', 'Held'] as const;

/** Name of a slot state for messages (`'Free'`, …); `'Invalid(n)'` for a corrupt word. */
export function slotStateName(state: number): string {
  return SLOT_STATE_NAMES[state] ?? `Invalid(${state})`;
}

const STATE_MASK = 7;
const GENERATION_SHIFT = 3;
/** Generations wrap at 2^28 so the state word stays a positive int32. */
const GENERATION_MASK = 0x0fff_ffff;

/** State part of a slot state word. */
export function stateOfWord(word: number): SlotState {
  return (word & STATE_MASK) as SlotState;
}

/** Generation part of a slot state word (returns to `Free` so far, modulo 2^28). */
export function generationOfWord(word: number): number {
  return word >>> GENERATION_SHIFT;
}

/** Legal transitions, indexed `from * 8 + to`; everything else is a bug in the caller. */
const LEGAL = new Uint8Array(64);
for (const [from, to] of [
  [SlotState.Free, SlotState.Queued],
  [SlotState.Queued, SlotState.Mapped],
  [SlotState.Mapped, SlotState.Filled],
  [SlotState.Filled, SlotState.Held],
  [SlotState.Held, SlotState.Free],
  [SlotState.Queued, SlotState.Free],
  [SlotState.Mapped, SlotState.Free],
  [SlotState.Filled, SlotState.Free],
] as const) {
  LEGAL[from * 8 + to] = 1;
}

/** True when `from → to` is one of the transitions of the slot state machine. */
export function isLegalSlotTransition(from: number, to: number): boolean {
  return from >= 0 && from < 8 && to >= 0 && to < 8 && LEGAL[from * 8 + to] === 1;
}

/**
 * A slot was not in the state a transition requires (or the transition itself is not in the state machine).
 * This is always a bug in the caller (double release, completing a cancelled clone, …), so it throws.
 */
export class SlotStateError extends Error {
  override readonly name = 'SlotStateError';
  readonly code = 'SlotState';
  constructor(
    readonly slot: number,
    /** State the slot actually was in. */
    readonly current: string,
    /** State the transition required. */
    readonly required: string,
    /** State the caller wanted to move to. */
    readonly target: string,
  ) {
    super(`slot ${slot} is ${current}; moving it to ${target} requires ${required}`);
  }
}

/** Shape of a pool, fixed at allocation. */
export interface FramePoolGeometry {
  /** Number of slots (1…1024). */
  readonly slotCount: number;
  /** Data bytes per slot (the largest frame the slot can hold). */
  readonly dataBytes: number;
  /** Alignment of every slot's data start: 64 (cache line) or 4096 (page). Default 64. */
  readonly alignment?: 64 | 4096;
  /**
   * Byte offsets of the planes inside a slot's data (e.g. `[0, w*h]` for NV12). Informational: the
   * pool keeps them so every side reads the same layout; each must be < dataBytes. Default `[0]`.
   */
  readonly planeOffsets?: readonly number[];
}

/** How a pool's memory is obtained. */
export interface FramePoolAllocateOptions {
  /**
   * Returns a zeroed SharedArrayBuffer of at least `byteLength` bytes (e.g. one backed by a shared
   * WebAssembly.Memory, so native bulk copies can fill it). Default `new SharedArrayBuffer`.
   */
  readonly memory?: (byteLength: number) => SharedArrayBuffer;
}

/** Geometry as stored in the pool, every field resolved. */
export interface FramePoolLayout {
  readonly slotCount: number;
  readonly dataBytes: number;
  readonly alignment: 64 | 4096;
  readonly planeOffsets: readonly number[];
  /** Distance in bytes between the data of two consecutive slots. */
  readonly slotStride: number;
  /** Byte offset of slot 0's data in the SharedArrayBuffer. */
  readonly dataOffset: number;
  /** Byte offset of slot 0's header in the SharedArrayBuffer. */
  readonly headerOffset: number;
  /** Total size of the SharedArrayBuffer. */
  readonly byteLength: number;
}

/** Structured-cloneable handle of a pool, for `postMessage` to a Worker and `FramePool.attach()`. */
export interface FramePoolHandle {
  readonly kind: 'ksemu.frame-pool';
  readonly buffer: SharedArrayBuffer;
}

// Control block: 16 Int32 words at the start of the buffer.
const MAGIC = 0x4b534650; // 'KSFP'
const VERSION = 1;
const C_MAGIC = 0;
const C_VERSION = 1;
const C_SLOT_COUNT = 2;
const C_DATA_BYTES = 3;
const C_SLOT_STRIDE = 4;
const C_ALIGNMENT = 5;
const C_HEADER_OFFSET = 6;
const C_DATA_OFFSET = 7;
const C_OUTSTANDING = 8;
const C_PLANE_COUNT = 9;
const C_PLANES = 10; // up to MAX_PLANES words
const MAX_PLANES = 4;
const C_STALE_RELEASES = 14;
const CONTROL_BYTES = 64;

/** Bytes of the per-slot header (one cache line). Field layout: see `stream-header.ts`. */
export const SLOT_HEADER_BYTES = 64;
const HEADER_WORDS = SLOT_HEADER_BYTES / 4;

const MAX_SLOTS = 1024;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function isSharedArrayBuffer(x: unknown): x is SharedArrayBuffer {
  // Realm-safe check: buffers from a Worker or from jest's vm realm fail `instanceof`.
  return Object.prototype.toString.call(x) === '[object SharedArrayBuffer]';
}

function resolveLayout(g: FramePoolGeometry): FramePoolLayout {
  if (!Number.isInteger(g.slotCount) || g.slotCount < 1 || g.slotCount > MAX_SLOTS) {
    throw new RangeError(`slotCount must be an integer in 1…${MAX_SLOTS}, got ${g.slotCount}`);
  }
  if (!Number.isInteger(g.dataBytes) || g.dataBytes < 1 || g.dataBytes > 0x7fff_0000) {
    throw new RangeError(`dataBytes must be a positive integer below 2^31, got ${g.dataBytes}`);
  }
  const alignment = g.alignment ?? 64;
  if (alignment !== 64 && alignment !== 4096) {
    throw new RangeError(`alignment must be 64 or 4096, got ${String(alignment)}`);
  }
  const planeOffsets = [...(g.planeOffsets ?? [0])];
  if (planeOffsets.length < 1 || planeOffsets.length > MAX_PLANES) {
    throw new RangeError(`planeOffsets must have 1…${MAX_PLANES} entries, got ${planeOffsets.length}`);
  }
  for (const [i, p] of planeOffsets.entries()) {
    if (!Number.isInteger(p) || p < 0 || p >= g.dataBytes) {
      throw new RangeError(`plane offset ${p} is outside the slot's ${g.dataBytes} data bytes`);
    }
    if (i > 0 && p <= (planeOffsets[i - 1] ?? 0)) {
      throw new RangeError(`plane offsets must increase, got ${planeOffsets.join(', ')}`);
    }
  }
  const headerOffset = CONTROL_BYTES;
  const dataOffset = alignUp(headerOffset + g.slotCount * SLOT_HEADER_BYTES, alignment);
  const slotStride = alignUp(g.dataBytes, alignment);
  const byteLength = dataOffset + slotStride * g.slotCount;
  if (byteLength > 2 ** 32) throw new RangeError(`pool of ${byteLength} bytes is too large`);
  return Object.freeze({
    slotCount: g.slotCount,
    dataBytes: g.dataBytes,
    alignment,
    planeOffsets: Object.freeze(planeOffsets),
    slotStride,
    dataOffset,
    headerOffset,
    byteLength,
  });
}

/**
 * A pin's frame memory: one SharedArrayBuffer with N slots of fixed geometry, a 64-byte header per slot
 * and an atomic state word per slot. Every view is created once here; nothing is allocated per frame.
 *
 * Ownership: the pool owns the memory; a `FramePool` object on another thread (from `attach`) is a second
 * view of the same memory, not a copy. Slot ownership is expressed only by the state word, changed by
 * `transition()` with `Atomics.compareExchange`, so producer and consumer may live in different threads.
 */
export class FramePool {
  /** Geometry, resolved and frozen. */
  readonly layout: FramePoolLayout;
  /** The shared memory. Borrowed by views; never replaced. */
  readonly buffer: SharedArrayBuffer;
  /** Typed accessors of the per-slot headers. */
  readonly headers: StreamHeader;
  private readonly words: Int32Array;
  private readonly slotViews: readonly Uint8Array[];
  /** planeViews[slot * planeCount + plane]. */
  private readonly planeViews: readonly Uint8Array[];
  private readonly stateIndex: Int32Array;

  private constructor(buffer: SharedArrayBuffer, layout: FramePoolLayout) {
    this.buffer = buffer;
    this.layout = layout;
    this.words = new Int32Array(buffer, 0, layout.dataOffset / 4);
    this.headers = new StreamHeader(buffer, layout.headerOffset, layout.slotCount);
    const views: Uint8Array[] = [];
    const stateIndex = new Int32Array(layout.slotCount);
    for (let s = 0; s < layout.slotCount; s++) {
      views.push(new Uint8Array(buffer, layout.dataOffset + s * layout.slotStride, layout.dataBytes));
      stateIndex[s] = (layout.headerOffset >> 2) + s * HEADER_WORDS;
    }
    this.slotViews = Object.freeze(views);
    this.stateIndex = stateIndex;
    // Plane p spans from its offset to the next plane's (planes are given in increasing order) or the end.
    const planes: Uint8Array[] = [];
    const offsets = layout.planeOffsets;
    for (let s = 0; s < layout.slotCount; s++) {
      const base = layout.dataOffset + s * layout.slotStride;
      for (let p = 0; p < offsets.length; p++) {
        const from = offsets[p] ?? 0;
        const to = offsets[p + 1] ?? layout.dataBytes;
        planes.push(new Uint8Array(buffer, base + from, to - from));
      }
    }
    this.planeViews = Object.freeze(planes);
  }

  /**
   * Allocates a pool. Every slot starts `Free` with a zeroed header.
   * @throws RangeError when the geometry is out of range.
   */
  static allocate(geometry: FramePoolGeometry, options: FramePoolAllocateOptions = {}): FramePool {
    const layout = resolveLayout(geometry);
    const buffer = options.memory
      ? options.memory(layout.byteLength)
      : new SharedArrayBuffer(layout.byteLength);
    if (!isSharedArrayBuffer(buffer) || buffer.byteLength < layout.byteLength) {
      throw new TypeError(`pool memory must be a SharedArrayBuffer of at least ${layout.byteLength} bytes`);
    }
    const w = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    w[C_MAGIC] = MAGIC;
    w[C_VERSION] = VERSION;
    w[C_SLOT_COUNT] = layout.slotCount;
    w[C_DATA_BYTES] = layout.dataBytes;
    w[C_SLOT_STRIDE] = layout.slotStride;
    w[C_ALIGNMENT] = layout.alignment;
    w[C_HEADER_OFFSET] = layout.headerOffset;
    w[C_DATA_OFFSET] = layout.dataOffset;
    w[C_PLANE_COUNT] = layout.planeOffsets.length;
    layout.planeOffsets.forEach((p, i) => (w[C_PLANES + i] = p));
    const pool = new FramePool(buffer, layout);
    for (let s = 0; s < layout.slotCount; s++) pool.headers.reset(s);
    return pool;
  }

  /**
   * Opens a second view of a pool from its handle (typically inside a Worker). Same memory, same states.
   * @throws TypeError when the handle is not a frame-pool handle or the buffer is not a valid pool.
   */
  static attach(handle: FramePoolHandle): FramePool {
    if (handle === null || typeof handle !== 'object' || handle.kind !== 'ksemu.frame-pool') {
      throw new TypeError('not a frame-pool handle');
    }
    if (!isSharedArrayBuffer(handle.buffer) || handle.buffer.byteLength < CONTROL_BYTES) {
      throw new TypeError('frame-pool handle has no SharedArrayBuffer');
    }
    const w = new Int32Array(handle.buffer, 0, CONTROL_BYTES / 4);
    if (w[C_MAGIC] !== MAGIC || w[C_VERSION] !== VERSION) {
      throw new TypeError('SharedArrayBuffer is not a ksemu frame pool (bad magic or version)');
    }
    const planeCount = w[C_PLANE_COUNT] ?? 0;
    const planeOffsets: number[] = [];
    for (let i = 0; i < planeCount; i++) planeOffsets.push(w[C_PLANES + i] ?? 0);
    const layout = resolveLayout({
      slotCount: w[C_SLOT_COUNT] ?? 0,
      dataBytes: w[C_DATA_BYTES] ?? 0,
      alignment: w[C_ALIGNMENT] as 64 | 4096,
      planeOffsets,
    });
    if (
      layout.slotStride !== w[C_SLOT_STRIDE] ||
      layout.dataOffset !== w[C_DATA_OFFSET] ||
      layout.headerOffset !== w[C_HEADER_OFFSET] ||
      // Supplied memory may be larger than the layout (wasm memory comes in 64 KiB pages).
      layout.byteLength > handle.buffer.byteLength
    ) {
      throw new TypeError('frame-pool layout words do not match the buffer');
    }
    return new FramePool(handle.buffer, layout);
  }

  /** Structured-cloneable handle; `FramePool.attach(handle)` in a Worker gives the same views. */
  share(): FramePoolHandle {
    return { kind: 'ksemu.frame-pool', buffer: this.buffer };
  }

  /** Number of slots. */
  get slotCount(): number {
    return this.layout.slotCount;
  }

  /**
   * The data bytes of a slot: a view created once at allocation (zero copy; borrowed, valid for the pool's
   * life). Whoever owns the slot by its state may write it.
   * @throws RangeError for a slot id out of range.
   */
  data(slot: number): Uint8Array {
    const v = this.slotViews[slot];
    if (v === undefined) throw new RangeError(`slot ${slot} is out of range 0…${this.layout.slotCount - 1}`);
    return v;
  }

  /**
   * Plane `plane` of a slot's data (from its offset to the next plane's offset, or the end of the data): a
   * view created once at allocation, like `data()`.
   * @throws RangeError for a slot or plane out of range.
   */
  planeData(slot: number, plane: number): Uint8Array {
    const count = this.layout.planeOffsets.length;
    if (!Number.isInteger(plane) || plane < 0 || plane >= count) {
      throw new RangeError(`plane ${plane} is out of range 0…${count - 1}`);
    }
    this.checkSlot(slot);
    return this.planeViews[slot * count + plane] as Uint8Array;
  }

  /** Byte offset of a slot's data inside `buffer` (what a DMA engine needs to address it). */
  dataOffset(slot: number): number {
    this.checkSlot(slot);
    return this.layout.dataOffset + slot * this.layout.slotStride;
  }

  /** Current state of a slot (an atomic load). */
  state(slot: number): SlotState {
    this.checkSlot(slot);
    return (Atomics.load(this.words, this.stateIndex[slot] ?? 0) & STATE_MASK) as SlotState;
  }

  /**
   * The whole state word of a slot (state and generation, see {@link SlotState}), an atomic load: the
   * ownership token a consumer compares to learn whether a frame it holds is still its own.
   */
  stateWord(slot: number): number {
    this.checkSlot(slot);
    return Atomics.load(this.words, this.stateIndex[slot] ?? 0);
  }

  /** Times the slot returned to `Free` (modulo 2^28), an atomic load. */
  generation(slot: number): number {
    return this.stateWord(slot) >>> GENERATION_SHIFT;
  }

  /**
   * Moves a slot `from → to` with `Atomics.compareExchange`, whatever its generation. Keeps the outstanding
   * count (slots not `Free`) and wakes `whenAllFree()` waiters in any thread when it reaches zero.
   * @throws SlotStateError when the slot is not in `from` or `from → to` is not a legal transition.
   */
  transition(slot: number, from: SlotState, to: SlotState): void {
    if (!this.tryTransition(slot, from, to)) {
      const actual = this.state(slot);
      throw new SlotStateError(slot, slotStateName(actual), slotStateName(from), slotStateName(to));
    }
  }

  /**
   * Like `transition` but returns false instead of throwing when the slot is not in `from`. For the few
   * places where another thread may legitimately have moved the slot first.
   * @throws SlotStateError when `from → to` is not in the state machine (a bug regardless of timing).
   */
  tryTransition(slot: number, from: SlotState, to: SlotState): boolean {
    this.checkSlot(slot);
    if (!isLegalSlotTransition(from, to)) {
      throw new SlotStateError(
        slot,
        slotStateName(this.state(slot)),
        'a legal transition',
        slotStateName(to),
      );
    }
    const index = this.stateIndex[slot] ?? 0;
    for (;;) {
      const word = Atomics.load(this.words, index);
      if ((word & STATE_MASK) !== from) return false;
      if (this.commit(index, word, to)) return true;
      // Another thread moved the slot between the load and the exchange: look again.
    }
  }

  /**
   * Consumer side: takes a delivered frame (`Filled → Held`) if the slot's generation still ends in
   * `generationTag` (its low `tagBits` bits, as the hand-off ring carries it). No allocation, no throw.
   * @returns the slot's new state word (the token `releaseHeld` needs), or -1 when the slot is not that
   *   delivered frame any more (reclaimed by a stop, or reused since).
   */
  takeFilled(slot: number, generationTag: number, tagBits: number): number {
    const index = this.stateIndex[slot];
    if (index === undefined) return -1;
    const mask = (1 << tagBits) - 1;
    for (;;) {
      const word = Atomics.load(this.words, index);
      if ((word & STATE_MASK) !== SlotState.Filled) return -1;
      if (((word >>> GENERATION_SHIFT) & mask) !== generationTag) return -1;
      const held = (word & ~STATE_MASK) | SlotState.Held;
      if (Atomics.compareExchange(this.words, index, word, held) === word) return held;
    }
  }

  /**
   * Consumer side: gives back a frame not taken yet (`Filled → Free`) with the same generation check as
   * `takeFilled`. No allocation, no throw.
   * @returns false when the slot is not that delivered frame any more.
   */
  returnFilled(slot: number, generationTag: number, tagBits: number): boolean {
    const index = this.stateIndex[slot];
    if (index === undefined) return false;
    const mask = (1 << tagBits) - 1;
    for (;;) {
      const word = Atomics.load(this.words, index);
      if ((word & STATE_MASK) !== SlotState.Filled) return false;
      if (((word >>> GENERATION_SHIFT) & mask) !== generationTag) return false;
      if (this.commit(index, word, SlotState.Free)) return true;
    }
  }

  /**
   * Consumer side: releases a held frame (`Held → Free`) only if the slot still carries `heldWord`, the
   * token `takeFilled` returned. When the frame was revoked meanwhile (stop took it back; the slot may
   * already serve the next run) nothing changes, the pool's `staleReleases` count grows and the result is
   * false. No allocation, no throw.
   */
  releaseHeld(slot: number, heldWord: number): boolean {
    const index = this.stateIndex[slot];
    if (index === undefined || (heldWord & STATE_MASK) !== SlotState.Held) return false;
    if (this.commit(index, heldWord, SlotState.Free)) return true;
    Atomics.add(this.words, C_STALE_RELEASES, 1);
    return false;
  }

  /** Releases refused because the frame had been revoked (`releaseHeld` returning false), over the pool's life. */
  get staleReleases(): number {
    return Atomics.load(this.words, C_STALE_RELEASES);
  }

  /** One compare-exchange of a state word to state `to` (a new generation on `Free`), with the counts. */
  private commit(index: number, word: number, to: SlotState): boolean {
    const from = word & STATE_MASK;
    const generation = word >>> GENERATION_SHIFT;
    const next =
      to === SlotState.Free
        ? (((generation + 1) & GENERATION_MASK) << GENERATION_SHIFT) | to
        : (generation << GENERATION_SHIFT) | to;
    if (Atomics.compareExchange(this.words, index, word, next) !== word) return false;
    if (from === SlotState.Free) {
      Atomics.add(this.words, C_OUTSTANDING, 1);
    } else if (to === SlotState.Free) {
      if (Atomics.sub(this.words, C_OUTSTANDING, 1) === 1) Atomics.notify(this.words, C_OUTSTANDING);
    }
    return true;
  }

  /** Slots not `Free` right now (an atomic load; other threads may change it the next instant). */
  get outstanding(): number {
    return Atomics.load(this.words, C_OUTSTANDING);
  }

  /** Counts slots per state (diagnostics; O(slotCount)). */
  census(): Record<'free' | 'queued' | 'mapped' | 'filled' | 'held', number> {
    const c = { free: 0, queued: 0, mapped: 0, filled: 0, held: 0 };
    for (let s = 0; s < this.layout.slotCount; s++) {
      const name = slotStateName(this.state(s)).toLowerCase() as keyof typeof c;
      c[name]++;
    }
    return c;
  }

  /**
   * Resolves when every slot is `Free` (outstanding count zero), whichever thread frees the last one.
   * Never blocks the calling thread: it waits with `Atomics.waitAsync`.
   */
  async whenAllFree(): Promise<void> {
    for (;;) {
      const n = Atomics.load(this.words, C_OUTSTANDING);
      if (n === 0) return;
      const w = Atomics.waitAsync(this.words, C_OUTSTANDING, n);
      if (w.async) await w.value;
    }
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.layout.slotCount) {
      throw new RangeError(`slot ${slot} is out of range 0…${this.layout.slotCount - 1}`);
    }
  }
}
