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
  i32Ne: 0x47,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  call: 0x10,
} as const;
const VOID = 0x40;
const memoryCopy = [0xfc, 0x0a, 0x00, 0x00];
const memoryFill = [0xfc, 0x0b, 0x00];
const memoryInit = (segment: number): number[] => [0xfc, 0x08, ...leb(segment), 0x00];
/** Loads and stores with alignment hint 1 byte and offset 0 (unaligned access is allowed). */
const v128Load = [0xfd, 0x00, 0x00, 0x00];
const v128Store = [0xfd, 0x0b, 0x00, 0x00];
const i64Load = [0x29, 0x00, 0x00];
const i64Store = [0x37, 0x00, 0x00];
const i32Load = [0x28, 0x00, 0x00];
const i32Store = [0x36, 0x00, 0x00];
const i32Load8U = [0x2d, 0x00, 0x00];
const i32Store8 = [0x3a, 0x00, 0x00];

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
 * each side by its stride (srcStride 0 repeats one row). Short rows are moved with loads and
 * stores instead of a memory.copy call each (measured: 2.6 vs 4.9 ns per 120-byte row): 16…192
 * bytes as 16-byte SIMD moves, 4…15 bytes as two 32- or 64-bit moves, in each case the last
 * move overlapping the row's end. Other lengths use memory.copy. Source and destination rows
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
  const move = (at: number[], load: number[], store: number[]): number[] => [
    ...get(dst),
    ...at,
    op.i32Add,
    ...get(src),
    ...at,
    op.i32Add,
    ...load,
    ...store,
  ];
  // Rows of 4…15 bytes: a `width`-byte move at 0 and one at len − width, per row.
  // prettier-ignore
  const pairLoop = (width: number, load: number[], store: number[]): number[] => [
    ...get(len), op.i32Const, width, op.i32Sub, ...set(last),
    op.loop, VOID,
    ...move([op.i32Const, 0], load, store),
    ...move(get(last), load, store),
    ...advance, op.brIf, 0,
    op.end,
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
      // 4 <= len < 16 (len - 4 < 12)
      ...get(len), op.i32Const, 4, op.i32Sub, op.i32Const, 12, op.i32LtU,
      op.if, VOID,
      ...get(len), op.i32Const, 8, op.i32GeU,
      op.if, VOID,
      ...pairLoop(8, i64Load, i64Store),
      op.else,
      ...pairLoop(4, i32Load, i32Store),
      op.end,
      op.else,
      op.loop, VOID,
      ...get(dst), ...get(src), ...get(len), ...memoryCopy,
      ...advance, op.brIf, 0,
      op.end,
      op.end,
      op.else,
      ...get(len), op.i32Const, 16, op.i32Sub, ...set(last),
      op.loop, VOID,
      op.i32Const, 0, ...set(i),
      op.block, VOID,
      op.loop, VOID,
      ...get(i), ...get(last), op.i32GeU, op.brIf, 1,
      ...move(get(i), v128Load, v128Store),
      ...get(i), op.i32Const, 16, op.i32Add, ...set(i),
      op.br, 0,
      op.end,
      op.end,
      ...move(get(last), v128Load, v128Store),
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
 * `count` rows of `len` bytes from scratch (`source`, rows `sourceStride` apart; 0 repeats one
 * row) to the frame (`at`, rows `stride` apart).
 */
export interface RowFill {
  readonly at: number;
  readonly source: number;
  readonly sourceStride: number;
  readonly len: number;
  readonly count: number;
  readonly stride: number;
}

/** `total` bytes at frame offset `at`, copied `chunk` bytes at a time from scratch `source`. */
export interface BandCopy {
  readonly at: number;
  readonly total: number;
  readonly source: number;
  readonly chunk: number;
}

/**
 * Rows of a cached plate that show glyph rows: `count` plate rows from `row` on show glyph rows
 * `glyphRow`, `glyphRow + step`, … (step 0: the same glyph row repeated, as a scaled font does).
 */
export interface GlyphRun {
  readonly row: number;
  readonly count: number;
  readonly glyphRow: number;
  readonly step: number;
}

/** The overlay plate as a frame program draws it: a cached copy of the plate's rows kept in scratch. */
export interface PlateProgram {
  /** Scratch offset of the frame's text (one glyph index per character; the caller writes it). */
  readonly textAt: number;
  /** Scratch offset of the text the cached plate shows (kept by the program). */
  readonly cachedAt: number;
  readonly length: number;
  /** Per plane: the cached plate's character cells and the glyph table they are copied from. */
  readonly planes: ReadonlyArray<{
    /** Scratch offset of each character cell in the cached plate's first row. */
    readonly cells: readonly number[];
    readonly cellBytes: number;
    /** Distance between the cached plate's rows. */
    readonly rowStride: number;
    /** Scratch offset of glyph 0 (`glyphRows` rows of `cellBytes`); glyph g starts `g × glyphRows × cellBytes` later. */
    readonly glyphs: number;
    readonly glyphRows: number;
    /** Which cached plate rows show which glyph rows (rows showing none never change). */
    readonly runs: readonly GlyphRun[];
  }>;
  /** The cached plate copied into the frame. */
  readonly rows: readonly RowFill[];
}

/**
 * One full render of a frame as straight-line wasm with every offset a constant: background
 * bands copied from cache-sized chunks, the box and the overlay plate, all from a scratch
 * region of the same memory (a wasm function can only read the memory it writes).
 */
export interface FrameProgram {
  /**
   * What `init(scratch)` writes into scratch: `bytes` at scratch offset `at`, then repeated up
   * to `repeatTo` bytes (a multiple of its length) when given.
   */
  readonly segments: ReadonlyArray<{
    readonly at: number;
    readonly bytes: Uint8Array;
    readonly repeatTo?: number;
  }>;
  readonly bands: readonly BandCopy[];
  /** Box rows per plane (at most 3): scratch `source` and the plane `stride`; where, how many rows and bytes come per frame. */
  readonly box: ReadonlyArray<{ readonly source: number; readonly stride: number }>;
  readonly plate?: PlateProgram;
}

/** Parameters of a frame program's `full`: base, scratch, then (at, rows, len) of the box in each of 3 planes. */
export const FRAME_PROGRAM_PARAMS = 11;

/**
 * A module exporting `init(scratch)`, which writes the program's segments into scratch (again
 * whenever another program used that scratch), and `full(base, scratch, at0, rows0, len0, at1,
 * rows1, len1, at2, rows2, len2)`, which renders a whole frame at `base`: the bands, the box
 * (rows·len bytes per plane at `at`), and the plate from the text at `plate.textAt`.
 */
export function frameProgramModuleBytes(program: FrameProgram): Uint8Array {
  const COPY_ROWS = 0;
  const [base, scratch, glyph] = [0, 1, FRAME_PROGRAM_PARAMS];
  const c = (v: number): number[] => [op.i32Const, ...leb128s(v)];
  const plus = (reg: number, rel: number): number[] =>
    rel === 0 ? get(reg) : [...get(reg), ...c(rel), op.i32Add];
  const rowsCall = (...args: number[][]): number[] => [...args.flat(), op.call, COPY_ROWS];

  // init(scratch): its only parameter is local 0.
  const init: number[] = [];
  program.segments.forEach((seg, i) => {
    const len = seg.bytes.length;
    init.push(...plus(0, seg.at), ...c(0), ...c(len), ...memoryInit(i));
    if (seg.repeatTo !== undefined && seg.repeatTo > len) {
      if (seg.repeatTo % len !== 0)
        throw new RangeError(`repeatTo ${seg.repeatTo} is not a multiple of ${len}`);
      init.push(
        ...rowsCall(plus(0, seg.at + len), plus(0, seg.at), c(len), c(seg.repeatTo / len - 1), c(len), c(0)),
      );
    }
  });
  const plate = program.plate;
  if (plate !== undefined)
    init.push(...plus(0, plate.cachedAt), ...c(255), ...c(plate.length), ...memoryFill);

  const full: number[] = [];
  for (const b of program.bands) {
    const whole = Math.floor(b.total / b.chunk);
    const rest = b.total - whole * b.chunk;
    if (whole > 0)
      full.push(
        ...rowsCall(plus(base, b.at), plus(scratch, b.source), c(b.chunk), c(whole), c(b.chunk), c(0)),
      );
    if (rest > 0)
      full.push(...plus(base, b.at + whole * b.chunk), ...plus(scratch, b.source), ...c(rest), ...memoryCopy);
  }
  program.box.forEach((plane, k) => {
    const [at, rows, len] = [2 + 3 * k, 3 + 3 * k, 4 + 3 * k];
    full.push(...rowsCall(get(at), plus(scratch, plane.source), get(len), get(rows), c(plane.stride), c(0)));
  });
  if (plate !== undefined) {
    for (let ch = 0; ch < plate.length; ch++) {
      // prettier-ignore
      full.push(
        ...plus(scratch, plate.textAt + ch), ...i32Load8U, op.localTee, glyph,
        ...plus(scratch, plate.cachedAt + ch), ...i32Load8U, op.i32Ne,
        op.if, VOID,
        ...plus(scratch, plate.cachedAt + ch), ...get(glyph), ...i32Store8,
      );
      for (const p of plate.planes) {
        for (const run of p.runs) {
          // prettier-ignore
          const glyphAt = [
            ...plus(scratch, p.glyphs + run.glyphRow * p.cellBytes),
            ...get(glyph), ...c(p.glyphRows * p.cellBytes), op.i32Mul, op.i32Add,
          ];
          const cellAt = plus(scratch, p.cells[ch]! + run.row * p.rowStride);
          full.push(
            ...rowsCall(
              cellAt,
              glyphAt,
              c(p.cellBytes),
              c(run.count),
              c(p.rowStride),
              c(run.step * p.cellBytes),
            ),
          );
        }
      }
      full.push(op.end);
    }
    for (const r of plate.rows) {
      full.push(
        ...rowsCall(
          plus(base, r.at),
          plus(scratch, r.source),
          c(r.len),
          c(r.count),
          c(r.stride),
          c(r.sourceStride),
        ),
      );
    }
  }
  return assemble(
    [
      copyRows,
      { name: 'init', params: 1, locals: 0, code: init },
      { name: 'full', params: FRAME_PROGRAM_PARAMS, locals: 1, code: full },
    ],
    program.segments.map((seg) => seg.bytes),
    ['copyRows'],
  );
}
