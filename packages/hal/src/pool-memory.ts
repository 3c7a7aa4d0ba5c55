// Pool memory backed by a shared WebAssembly.Memory, so renderers can use native bulk copies on it.
import { BULK_MODULE_BYTES } from './bulk-memory-module.js';

/** Native bulk operations on one shared memory (wasm `memory.copy` / `memory.fill`). */
export interface BulkMemoryOps {
  /** memmove of `length` bytes from `source` to `target` (byte offsets in the memory). */
  copy(target: number, source: number, length: number): void;
  /** memset of `length` bytes at `target` to `value` (0–255). */
  fill(target: number, value: number, length: number): void;
  /**
   * `rows` copies of `length` bytes: row k goes from `source + k × sourceStride` to
   * `target + k × targetStride` (sourceStride 0 repeats one row). Source and target rows must
   * not overlap.
   */
  copyRows(
    target: number,
    source: number,
    length: number,
    rows: number,
    targetStride: number,
    sourceStride: number,
  ): void;
  /**
   * Fills `[start, start + total)` with the pattern already written at `[start, start + filled)`
   * (`filled` a multiple of its period), copying at most `chunk` bytes (a multiple of the period)
   * per step so the source stays in cache.
   */
  replicate(start: number, filled: number, total: number, chunk: number): void;
}

/** A shared WebAssembly.Memory (opaque here: lib ES2022 has no WebAssembly types). */
export interface SharedWasmMemory {
  readonly buffer: ArrayBufferLike;
}

/** What this module uses of a WebAssembly.Memory beyond its buffer. */
interface GrowableMemory extends SharedWasmMemory {
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => GrowableMemory;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;
const MAX_PAGES = 65536;
/** Default room for scratch regions beyond the pool (reserved address space; pages are committed only when used). */
const DEFAULT_SCRATCH_BYTES = 4 * 1024 * 1024;

/**
 * A region of pool memory past the pool's own bytes (and past the pool's SharedArrayBuffer,
 * which never sees it), private to one thread: renderers keep constant data there that their
 * wasm code copies from, since a wasm function can only read the one memory it writes.
 */
export interface ScratchRegion {
  /** Byte offset of the region in the memory. */
  readonly base: number;
  readonly bytes: number;
  /** The region's bytes (a view of the grown memory; the pool's own buffer does not reach here). */
  readonly view: Uint8Array;
  /**
   * Whose data the region holds now. Renderers sharing a region (same memory, same thread)
   * rewrite it when they find another owner there; nothing else reads it.
   */
  owner: unknown;
}

interface Registered {
  readonly memory: GrowableMemory;
  readonly ops: BulkMemoryOps;
  scratch: ScratchRegion | undefined;
  /** Smallest scratch size the memory could not grow by (no retry per frame). */
  scratchRefused: number;
}

let bulkModule: object | undefined;
// Per thread (module state is per realm/worker): which buffers have native bulk operations.
const registry = new WeakMap<object, Registered>();

function register(memory: GrowableMemory): SharedArrayBuffer {
  const buffer = memory.buffer as unknown as SharedArrayBuffer;
  if (Object.prototype.toString.call(buffer) !== '[object SharedArrayBuffer]') {
    throw new TypeError('pool memory must be a shared WebAssembly.Memory');
  }
  if (!registry.has(buffer)) {
    bulkModule ??= new wasm.Module(BULK_MODULE_BYTES);
    const instance = new wasm.Instance(bulkModule, { env: { memory } });
    const ops = instance.exports as unknown as BulkMemoryOps;
    registry.set(buffer, {
      memory,
      ops: { copy: ops.copy, fill: ops.fill, copyRows: ops.copyRows, replicate: ops.replicate },
      scratch: undefined,
      scratchRefused: Infinity,
    });
  }
  return buffer;
}

/** Options of {@link createPoolMemory}. */
export interface PoolMemoryOptions {
  /**
   * Address space kept past the pool for renderers' per-thread scratch regions (default
   * 4 MiB; 0 = none, renderers then draw more of each frame from JS). Only what is used is
   * committed.
   */
  readonly scratchBytes?: number;
}

/**
 * A SharedArrayBuffer of at least `byteLength` bytes (rounded up to 64 KiB pages) backed by a
 * shared `WebAssembly.Memory`. Renderers writing into it use native `memmove` for their bulk
 * fills (V8 copies plain SharedArrayBuffers with relaxed word-by-word loops, about half the
 * speed of memcpy) and wasm code with its data in scratch regions past the buffer's end. Use
 * it wherever a frame pool's memory is allocated (ks-core's pool takes an allocator); any
 * SharedArrayBuffer still works, just slower. The buffer's length never changes.
 * @throws RangeError for a size outside [1, 4 GiB − 64 KiB] or a negative `scratchBytes`.
 */
export function createPoolMemory(byteLength: number, options: PoolMemoryOptions = {}): SharedArrayBuffer {
  if (!Number.isSafeInteger(byteLength) || byteLength < 1)
    throw new RangeError(`byteLength must be a positive integer, got ${byteLength}`);
  const scratchBytes = options.scratchBytes ?? DEFAULT_SCRATCH_BYTES;
  if (!Number.isSafeInteger(scratchBytes) || scratchBytes < 0)
    throw new RangeError(`scratchBytes must be a non-negative integer, got ${scratchBytes}`);
  const pages = Math.ceil(byteLength / PAGE);
  if (pages >= MAX_PAGES)
    throw new RangeError(`byteLength ${byteLength} exceeds the 4 GiB wasm memory limit`);
  const maximum = Math.min(MAX_PAGES - 1, pages + Math.ceil(scratchBytes / PAGE));
  return register(new wasm.Memory({ initial: pages, maximum, shared: true }));
}

/**
 * The WebAssembly.Memory behind a buffer made by {@link createPoolMemory} (in this thread),
 * to post to a Worker, which calls {@link attachPoolMemory} on it. Undefined for other buffers.
 */
export function poolMemoryOf(buffer: ArrayBufferLike): SharedWasmMemory | undefined {
  return registry.get(buffer)?.memory;
}

/**
 * In a Worker: registers a posted shared memory and returns its SharedArrayBuffer: the same
 * bytes at the same offsets, longer than the pool's own buffer when scratch regions have been
 * made past it.
 */
export function attachPoolMemory(memory: SharedWasmMemory): SharedArrayBuffer {
  return register(memory as GrowableMemory);
}

/**
 * This thread's scratch region of pool memory `buffer`, at least `bytes` long: made on first
 * use by growing the memory (the pool's buffer keeps its length), replaced by a larger one
 * when a renderer needs more. Undefined when `buffer` is not pool memory registered here or
 * the memory has no room left; callers then work without scratch.
 */
export function scratchFor(buffer: ArrayBufferLike, bytes: number): ScratchRegion | undefined {
  const entry = registry.get(buffer);
  if (entry === undefined) return undefined;
  if (entry.scratch !== undefined && entry.scratch.bytes >= bytes) return entry.scratch;
  if (bytes >= entry.scratchRefused) return undefined;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  try {
    const old = entry.memory.grow(pages);
    const view = new Uint8Array(entry.memory.buffer, old * PAGE, pages * PAGE);
    entry.scratch = { base: old * PAGE, bytes: pages * PAGE, view, owner: undefined };
    return entry.scratch;
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    entry.scratchRefused = bytes;
    return undefined;
  }
}

/** Native bulk operations for `buffer`, if it is registered pool memory in this thread. */
export function bulkOpsFor(buffer: ArrayBufferLike): BulkMemoryOps | undefined {
  return registry.get(buffer)?.ops;
}

/**
 * A compiled wasm module that imports a pool memory as `env.memory` (shared), instantiated once
 * per pool buffer of this thread on first use. Renderers use it for per-configuration code
 * (a frame program) whose constant data comes with the module as passive data segments and is
 * copied into a scratch region ({@link scratchFor}) for the code to read.
 */
export class PoolMemoryModule {
  private module: object | undefined;
  private readonly instances = new WeakMap<object, Record<string, unknown>>();

  /**
   * @param bytes makes the module's bytes; called (and the module compiled) only when the
   * first pool buffer asks for it, so renderers that never see pool memory compile nothing.
   * The compile throws WebAssembly.CompileError for invalid bytes.
   */
  constructor(private readonly bytes: () => Uint8Array) {}

  /** The instance's exports for `buffer`; undefined unless it is registered pool memory here. */
  exportsFor(buffer: ArrayBufferLike): Record<string, unknown> | undefined {
    let exports = this.instances.get(buffer);
    if (exports === undefined) {
      const entry = registry.get(buffer);
      if (entry === undefined) return undefined;
      this.module ??= new wasm.Module(this.bytes());
      exports = new wasm.Instance(this.module, { env: { memory: entry.memory } }).exports;
      this.instances.set(buffer, exports);
    }
    return exports;
  }
}
