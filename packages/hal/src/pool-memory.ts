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

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedWasmMemory;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;
const MAX_PAGES = 65536;

let bulkModule: object | undefined;
// Per thread (module state is per realm/worker): which buffers have native bulk operations.
const registry = new WeakMap<object, { memory: SharedWasmMemory; ops: BulkMemoryOps }>();

function register(memory: SharedWasmMemory): SharedArrayBuffer {
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
    });
  }
  return buffer;
}

/**
 * A SharedArrayBuffer of at least `byteLength` bytes (rounded up to 64 KiB pages) backed by a
 * fixed-size shared `WebAssembly.Memory`. Renderers writing into it use native `memmove` for
 * their bulk fills (V8 copies plain SharedArrayBuffers with relaxed word-by-word loops, about
 * half the speed of memcpy). Use it wherever a frame pool's memory is allocated (ks-core's
 * pool takes an allocator); any SharedArrayBuffer still works, just slower.
 * @throws RangeError for a size outside [1, 4 GiB − 64 KiB].
 */
export function createPoolMemory(byteLength: number): SharedArrayBuffer {
  if (!Number.isSafeInteger(byteLength) || byteLength < 1)
    throw new RangeError(`byteLength must be a positive integer, got ${byteLength}`);
  const pages = Math.ceil(byteLength / PAGE);
  if (pages >= MAX_PAGES)
    throw new RangeError(`byteLength ${byteLength} exceeds the 4 GiB wasm memory limit`);
  return register(new wasm.Memory({ initial: pages, maximum: pages, shared: true }));
}

/**
 * The WebAssembly.Memory behind a buffer made by {@link createPoolMemory} (in this thread),
 * to post to a Worker, which calls {@link attachPoolMemory} on it. Undefined for other buffers.
 */
export function poolMemoryOf(buffer: ArrayBufferLike): SharedWasmMemory | undefined {
  return registry.get(buffer)?.memory;
}

/** In a Worker: registers a posted shared memory and returns its SharedArrayBuffer. */
export function attachPoolMemory(memory: SharedWasmMemory): SharedArrayBuffer {
  return register(memory);
}

/** Native bulk operations for `buffer`, if it is registered pool memory in this thread. */
export function bulkOpsFor(buffer: ArrayBufferLike): BulkMemoryOps | undefined {
  return registry.get(buffer)?.ops;
}

/**
 * A compiled wasm module that imports a pool memory as `env.memory` (shared), instantiated once
 * per pool buffer of this thread on first use. Renderers use it for per-configuration code whose
 * data lives in the module (passive data segments) rather than in JS memory.
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
