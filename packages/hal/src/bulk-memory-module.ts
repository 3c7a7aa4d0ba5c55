// The WebAssembly module behind pool memory's native bulk operations, assembled from opcodes at load.

// Why a module at all: a JS→wasm call costs ~10 ns, so the renderers' row loops (box rows, band
// fills, plate rows) run inside wasm, one call per rectangle instead of one per row. The module
// is small enough to write as opcodes here, which keeps the build free of a wasm toolchain.

const I32 = 0x7f;
const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  call: 0x10,
} as const;
const VOID = 0x40;
const memoryCopy = [0xfc, 0x0a, 0x00, 0x00];
const memoryFill = [0xfc, 0x0b, 0x00];
const memoryInit = (segment: number): number[] => [0xfc, 0x08, ...leb(segment), 0x00];
/** v128.load / v128.store with alignment hint 1 byte and offset 0. */
const v128Load = [0xfd, 0x00, 0x00, 0x00];
const v128Store = [0xfd, 0x0b, 0x00, 0x00];

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

const vec = (items: readonly number[][]): number[] => [...leb(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const get = (local: number): number[] => [op.localGet, local];
const set = (local: number): number[] => [op.localSet, local];

interface WasmFunction {
  readonly name: string;
  readonly params: number;
  readonly locals: number;
  readonly code: number[];
}

/** copy(dst, src, len): memmove inside the memory. */
const copy: WasmFunction = {
  name: 'copy',
  params: 3,
  locals: 0,
  code: [...get(0), ...get(1), ...get(2), ...memoryCopy],
};

/** fill(dst, value, len): memset inside the memory. */
const fill: WasmFunction = {
  name: 'fill',
  params: 3,
  locals: 0,
  code: [...get(0), ...get(1), ...get(2), ...memoryFill],
};

/**
 * copyRows(dst, src, len, rows, dstStride, srcStride): `rows` copies of `len` bytes, stepping
 * each side by its stride (srcStride 0 repeats one row). Rows of 16…192 bytes are copied with
 * 16-byte SIMD moves (the last one overlapping the row's end), which is cheaper than a
 * memory.copy call per short row (measured: 2.6 vs 4.9 ns per 120-byte row); other lengths use memory.copy. Source and destination rows
 * must not overlap each other.
 */
const copyRows: WasmFunction = (() => {
  const [dst, src, len, rows, dstStride, srcStride, i, last] = [0, 1, 2, 3, 4, 5, 6, 7];
  const advance = [
    ...get(dst),
    ...get(dstStride),
    op.i32Add,
    ...set(dst),
    ...get(src),
    ...get(srcStride),
    op.i32Add,
    ...set(src),
    ...get(rows),
    op.i32Const,
    1,
    op.i32Sub,
    op.localTee,
    rows,
  ];
  const move16 = (at: number[]): number[] => [
    ...get(dst),
    ...at,
    op.i32Add,
    ...get(src),
    ...at,
    op.i32Add,
    ...v128Load,
    ...v128Store,
  ];
  return {
    name: 'copyRows',
    params: 6,
    locals: 2,
    // prettier-ignore
    code: [
      op.block, VOID,
      ...get(rows), op.i32Eqz, op.brIf, 0,
      // len < 16 || len > 192 (as one unsigned compare: len - 16 > 176)
      ...get(len), op.i32Const, 16, op.i32Sub, op.i32Const, ...leb128s(176), op.i32GtU,
      op.if, VOID,
      op.loop, VOID,
      ...get(dst), ...get(src), ...get(len), ...memoryCopy,
      ...advance, op.brIf, 0,
      op.end,
      op.else,
      ...get(len), op.i32Const, 16, op.i32Sub, ...set(last),
      op.loop, VOID,
      op.i32Const, 0, ...set(i),
      op.block, VOID,
      op.loop, VOID,
      ...get(i), ...get(last), op.i32GeU, op.brIf, 1,
      ...move16(get(i)),
      ...get(i), op.i32Const, 16, op.i32Add, ...set(i),
      op.br, 0,
      op.end,
      op.end,
      ...move16(get(last)),
      ...advance, op.brIf, 0,
      op.end,
      op.end,
      op.end,
    ],
  };
})();

/**
 * replicate(start, filled, total, chunk): [start, start + filled) already holds a pattern whose
 * period divides `filled`; fills up to `total` bytes by copying the start onto the end, doubling
 * until `chunk` bytes (a multiple of the period) and then `chunk` at a time, so the copy source
 * stays in L1/L2 cache.
 */
const replicate: WasmFunction = (() => {
  const [start, filled, total, chunk, n, rest] = [0, 1, 2, 3, 4, 5];
  return {
    name: 'replicate',
    params: 4,
    locals: 2,
    // prettier-ignore
    code: [
      op.block, VOID,
      op.loop, VOID,
      ...get(filled), ...get(total), op.i32GeU, op.brIf, 1,
      ...get(filled), ...get(chunk), ...get(filled), ...get(chunk), op.i32LtU, op.select, ...set(n),
      ...get(total), ...get(filled), op.i32Sub, ...set(rest),
      ...get(n), ...get(rest), ...get(n), ...get(rest), op.i32LtU, op.select, ...set(n),
      ...get(start), ...get(filled), op.i32Add, ...get(start), ...get(n), ...memoryCopy,
      ...get(filled), ...get(n), op.i32Add, ...set(filled),
      op.br, 0,
      op.end,
      op.end,
    ],
  };
})();

/** Signed LEB128, as i32.const takes. */
function leb128s(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const FUNCTIONS: readonly WasmFunction[] = [copy, fill, copyRows, replicate];

/**
 * A module importing `env.memory` (shared) with `functions` (all exported by name except those
 * listed in `internal`, which are only called from the others) and `segments` as passive data
 * segments for memory.init.
 */
function assemble(
  functions: readonly WasmFunction[],
  segments: readonly Uint8Array[] = [],
  internal: readonly string[] = [],
): Uint8Array {
  const arities = [...new Set(functions.map((f) => f.params))];
  const types = vec(arities.map((k) => [0x60, ...vec(Array.from({ length: k }, () => [I32])), 0]));
  // (import "env" "memory" (memory 1 65536 shared)): flags 3 = shared with a maximum.
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...leb(1), ...leb(65536)]]);
  const funcs = vec(functions.map((f) => leb(arities.indexOf(f.params))));
  const exports = vec(
    functions.flatMap((f, i) => (internal.includes(f.name) ? [] : [[...name(f.name), 0x00, ...leb(i)]])),
  );
  const bodies = vec(
    functions.map((f) => {
      const locals = f.locals > 0 ? vec([[...leb(f.locals), I32]]) : vec([]);
      const body = [...locals, ...f.code, op.end];
      return [...leb(body.length), ...body];
    }),
  );
  const data = segments.length > 0 ? [...section(12, leb(segments.length))] : [];
  const dataBodies =
    segments.length > 0
      ? section(11, vec(segments.map((bytes) => [0x01, ...leb(bytes.length), ...bytes])))
      : [];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...data,
    ...section(10, bodies),
    ...dataBodies,
  ]);
}

/** The module's bytes: imports `env.memory` (shared), exports copy, fill, copyRows, replicate. */
export const BULK_MODULE_BYTES: Uint8Array = assemble(FUNCTIONS);

/**
 * One band fill of a frame: the first `first` bytes of data segment `segment` (a row repeated)
 * written at `offset` from the frame start, then repeated up to `total` bytes, `chunk` bytes
 * (a multiple of the row, ≥ `first` unless `first` = `total`) per copy at most (see replicate).
 */
export interface BandFill {
  readonly offset: number;
  readonly segment: number;
  readonly first: number;
  readonly total: number;
  readonly chunk: number;
}

/**
 * A module exporting `fillBands(base)`, which performs `fills` for a frame at `base` in one call:
 * each template row comes from a passive data segment of the module (memory.init), so no
 * template bytes are written from JS per frame. `segments` are the template rows (a row, or a row repeated).
 */
export function bandFillModuleBytes(fills: readonly BandFill[], segments: readonly Uint8Array[]): Uint8Array {
  const [base, at] = [0, 1];
  const code: number[] = [];
  for (const f of fills) {
    // prettier-ignore
    code.push(
      ...get(base), op.i32Const, ...leb128s(f.offset), op.i32Add, ...set(at),
      ...get(at), op.i32Const, 0, op.i32Const, ...leb128s(f.first), ...memoryInit(f.segment),
      ...get(at), op.i32Const, ...leb128s(f.first), op.i32Const, ...leb128s(f.total),
      op.i32Const, ...leb128s(f.chunk), op.call, 0,
    );
  }
  const fillBands: WasmFunction = { name: 'fillBands', params: 1, locals: 1, code };
  return assemble([replicate, fillBands], segments, ['replicate']);
}
