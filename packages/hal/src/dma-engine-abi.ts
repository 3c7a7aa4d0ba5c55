// What the host and the synthetic PCIe card's engine thread share besides BAR0: format table, input-tag FIFO, messages, the non-blocking register wait.
// Kept apart from dma-engine.ts so the engine thread loads only this (no pino, no Worker host), which is most of its start-up time.
import type { PoolGeometry } from './capture-engine.js';
import type { SharedWasmMemory } from './pool-memory.js';
import type { FaultPlan } from './fault-plan.js';
import type { Fourcc } from './pixel-format.js';

/**
 * Pixel formats the card's DMA engine can write, indexed by the FormatCode register value.
 * MJPG is absent on purpose: capture cards deliver raw video.
 */
export const PCIE_FORMAT_CODES: readonly Fourcc[] = Object.freeze([
  'YUY2',
  'UYVY',
  'NV12',
  'I420',
  'RGB24',
  'BGRA',
  'GRAY8',
]);

/**
 * Number of entries of the per-frame input-tag FIFO. The host writes the tag of frame n
 * (what the video input carried when frame n was due) at n mod this size before raising
 * FrameDue; an engine that falls further behind than this overruns and drops frames, like a
 * card whose input FIFO overflows.
 */
export const FRAME_TAG_ENTRIES = 256;

/** Largest pool the engine tracks per-slot content for (validatePoolGeometry's limit). */
export const MAX_POOL_SLOTS = 4096;

/** Forgets what every slot holds (new pool or format): the next frame in each is drawn whole. */
export function invalidateAllSlots(generations: Int32Array): void {
  for (let i = 0; i < generations.length; i++) Atomics.add(generations, i, 1);
}

/**
 * What the engine's video input carries (structured-cloneable). `pattern` is the synthetic
 * camera's test-pattern generator; `tuner` is an RF tuner whose per-frame tag says which
 * channel is locked (see tuner-picture.ts).
 */
export type DmaVideoInput =
  | { readonly kind: 'pattern'; readonly pattern: string; readonly seed: number; readonly overlay: boolean }
  | { readonly kind: 'tuner'; readonly channelNames: readonly string[]; readonly seed: number };

/** Messages from the host to the engine worker. */
export type DmaEngineRequest =
  | {
      readonly type: 'init';
      readonly bar0: SharedArrayBuffer;
      readonly ring: SharedArrayBuffer;
      readonly tags: SharedArrayBuffer;
      readonly slotGenerations: SharedArrayBuffer;
      readonly input: DmaVideoInput;
      readonly faults: FaultPlan;
    }
  | {
      readonly type: 'map';
      readonly memory: SharedArrayBuffer;
      /** The WebAssembly.Memory behind `memory` when it is pool memory (native copies in the worker too). */
      readonly poolMemory?: SharedWasmMemory;
      readonly geometry: PoolGeometry;
    }
  | { readonly type: 'sync'; readonly id: number };

/** Messages from the engine worker to the host. */
export type DmaEngineReply = { readonly type: 'ack'; readonly id: number };

type AtomicsWaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

// Node 20 has Atomics.waitAsync; the ES2022 lib typings do not, so it is typed here once.
const waitAsyncImpl = (Atomics as unknown as { waitAsync: AtomicsWaitAsync }).waitAsync;

/**
 * Waits, without blocking the thread, until word `index` of `array` is no longer `value`
 * (or a notify arrives, or `timeoutMs` passes). Resolves 'ok', 'not-equal' or 'timed-out'.
 */
export function waitForChange(
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
): Promise<'ok' | 'not-equal' | 'timed-out'> | 'not-equal' | 'timed-out' {
  const r = waitAsyncImpl(array, index, value, timeoutMs);
  return r.async ? r.value : r.value;
}
