// Renders test-pattern frames straight into (shared) slot memory, fully or by dirty regions.
import { AlignedRow } from './aligned-row.js';
import { CELL_COLUMNS, GLYPH_COLUMNS, GLYPH_ROWS, glyphRow } from './bitmap-font.js';
import { barBands } from './colour-bars.js';
import { buildPalette, Colour, GREY_BASE, type Palette } from './colour-palette.js';
import {
  backgroundColourAt,
  boxX,
  boxY,
  noiseRowSeed,
  noiseWord,
  OVERLAY_TEXT_LENGTH,
  overlayText,
  sceneColourAt,
  sceneGeometry,
  type PatternOptions,
  type SceneGeometry,
} from './pattern.js';
import {
  imageLayout,
  rateForInterval,
  type Fourcc,
  type ImageLayout,
  type VideoFormat,
} from './pixel-format.js';
import {
  FRAME_PROGRAM_PARAMS,
  frameProgramModuleBytes,
  type BandCopy,
  type FrameProgram,
  type GlyphRun,
  type PlateProgram,
  type RowFill,
} from './bulk-memory-module.js';
import {
  bulkOpsFor,
  PoolMemoryModule,
  scratchFor,
  type BulkMemoryOps,
  type ScratchRegion,
} from './pool-memory.js';
import { encodePlaneSegment, isHalfHeightPlane, planeByteOffset } from './row-encoder.js';

/**
 * Something that writes frame n of a configured stream into memory. Implementations keep no
 * state that changes their output: bytes are a pure function of (configuration, n).
 */
export interface FrameRenderer {
  readonly layout: ImageLayout;
  /**
   * Writes frame `n` at `target[offset…]`, within `capacity` bytes. `previous` is the frame
   * index the same bytes already hold from this same renderer (−1 if unknown): only what
   * differs is redrawn. `target.byteOffset + offset` must be a multiple of 4.
   * @returns bytes used, or −1 when the frame does not fit (raw formats then write nothing).
   */
  render(target: Uint8Array, offset: number, capacity: number, n: number, previous: number): number;
}

/** A row of bytes with word views, for aligned copies without per-frame allocation. */
interface Row {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
}

function makeRow(length: number): Row {
  const buffer = new ArrayBuffer((length + 3) & ~3);
  return {
    u8: new Uint8Array(buffer, 0, length),
    u16: new Uint16Array(buffer),
    u32: new Uint32Array(buffer),
  };
}

/** A solid colour's repeating bytes in one plane, with 16/32-bit words when the period allows. */
interface FillPattern {
  readonly bytes: readonly number[];
  readonly word16: number;
  readonly word32: number;
  readonly period: number;
}

function fillPattern(fourcc: Fourcc, palette: Palette, plane: number, colour: number): FillPattern {
  const indices = new Uint16Array([colour, colour, colour, colour]);
  const tmp = new Uint8Array(16);
  encodePlaneSegment(fourcc, palette, plane, indices, 0, 2, tmp, 0);
  const pairBytes = planeByteOffset(fourcc, plane, 2);
  let period = pairBytes;
  if (tmp[0] === tmp[1] && (pairBytes === 2 || (pairBytes === 4 && tmp[0] === tmp[2] && tmp[1] === tmp[3]))) {
    period = 1;
  } else if (pairBytes === 4 && tmp[0] === tmp[2] && tmp[1] === tmp[3]) {
    period = 2;
  } else if (fourcc === 'RGB24' || fourcc === 'BGRA') {
    period = pairBytes / 2;
  }
  const bytes = Array.from(tmp.subarray(0, period));
  const at = (i: number): number => bytes[i % period]!;
  return {
    bytes,
    period,
    word16: at(0) | (at(1) << 8),
    word32: (at(0) | (at(1) << 8) | (at(2) << 16) | (at(3) << 24)) >>> 0,
  };
}

interface PlaneInfo {
  readonly offset: number;
  readonly stride: number;
  readonly rowBytes: number;
  readonly rows: number;
  readonly half: boolean;
}

interface Band {
  readonly y0: number;
  readonly y1: number;
  /** Template row per plane (chroma planes: the chroma row of this band's even rows). */
  readonly rows: readonly Row[];
  /** The same rows, for whole-row writes into shared memory. */
  readonly whole: readonly AlignedRow[];
}

/** Bytes copied per step when filling a band: keeps the copy source in L1/L2 cache. */
const FILL_CHUNK = 64 * 1024;
/**
 * The same for native (wasm) fills, which are limited by cache, not by call overhead: measured
 * at 640x480 and 1280x720, 32 KiB beats 16 KiB by 5–8 % and 64 KiB no further.
 */
const BULK_FILL_CHUNK = 32 * 1024;

/** Scratch offset of the frame's text, which JS writes for the frame program's plate. */
const PROGRAM_TEXT_AT = 0;

/** A frame program's `full(base, scratch, at0, rows0, len0, at1, rows1, len1, at2, rows2, len2)`. */
type FullFn = (...args: number[]) => void;

interface ProgramModule {
  readonly module: PoolMemoryModule;
  readonly scratchBytes: number;
  readonly drawsPlate: boolean;
}

/** Views of the memory last rendered into, and its native operations (pool memory only). */
interface Views {
  readonly buffer: ArrayBufferLike;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly bulk: BulkMemoryOps | undefined;
  /** This thread's scratch region of the memory, with the frame program's `init` and `full`. */
  readonly scratch: ScratchRegion | undefined;
  readonly init: ((scratch: number) => void) | undefined;
  readonly full: FullFn | undefined;
}

/**
 * The fast renderer for raw formats. Background rows are encoded once per configuration;
 * a frame is band fills (copies from a cache-sized chunk), one box fill and the overlay plate's
 * rows. Into pool memory (`createPoolMemory`) a full render is one call of a wasm frame program
 * whose data sits in a scratch region past the pool; elsewhere it is JS with native copies.
 * With `previous` it restores the old box area from the background templates and redraws the
 * box and the plate only. Per-frame work allocates nothing.
 * Worker-safe: it holds no main-thread-only state.
 */
export class PatternRenderer implements FrameRenderer {
  readonly layout: ImageLayout;
  readonly options: PatternOptions;
  readonly format: VideoFormat;
  private readonly fourcc: Fourcc;
  private readonly g: SceneGeometry;
  private readonly palette: Palette;
  private readonly fps: number;
  private readonly planes: readonly PlaneInfo[];
  private readonly bands: readonly Band[];
  /** Band index of each image row (background patterns without per-frame content). */
  private readonly rowBand: Int32Array;
  private readonly boxFill: readonly FillPattern[];
  private readonly overlay: boolean;
  private readonly text = new Uint8Array(OVERLAY_TEXT_LENGTH);
  private readonly plateIndices: Uint16Array;
  /** Plate rows per kind (0 blank, 1 + glyph row) per plane. */
  /**
   * Encoded plate rows per plane, one per kind (0 blank, 1 + glyph row), kind k at
   * k × plateRowStride[plane] + plateShift[plane]: the shift is the plate's byte column modulo 8,
   * so on the usual 8-aligned rows source and target agree modulo 8 and a row is one `set()`,
   * which V8 copies into shared memory word by word only at equal alignment (else byte by byte).
   */
  private readonly plateBlock: readonly Row[];
  private readonly plateRowStride: Int32Array;
  private readonly plateShift: Int32Array;
  /** Views of `plateBlock`: [plane][kind], one plate row each, for whole-row `set()`. */
  private readonly plateViews: ReadonlyArray<readonly Uint8Array[]>;
  private readonly plateKind: Int32Array;
  private readonly noiseIndices: Uint16Array;
  /** Palette indices of each glyph row of the plate (kinds 1…7), kept in step with `plateText`. */
  private readonly plateIndexRows: readonly Uint16Array[];
  /** Text the cached plate rows show; 255 = nothing cached yet. */
  private readonly plateText = new Uint8Array(OVERLAY_TEXT_LENGTH).fill(255);
  /** Index pattern of each glyph's font row across one character cell: [glyph][font row]. */
  private readonly glyphIndexCells: ReadonlyArray<readonly Uint16Array[]>;
  /**
   * Encoded bytes of every glyph's font rows over one cell span, per plane: span `c` covers
   * plate pixels [spanFrom(c), spanFrom(c) + cell width), which start on a chroma pair; with an
   * odd font scale its first pixel is the black spacing column of the cell to the left, so the
   * bytes depend on the glyph alone. Entry (glyph, fy) starts at (glyph × GLYPH_ROWS + fy) × spanBytes.
   */
  private readonly glyphSpans: readonly Row[];
  private readonly spanBytes: Int32Array;
  /** Cells [0, spanCells) lie wholly inside the plate and are drawn from `glyphSpans`. */
  private readonly spanCells: number;
  /** The text of the frame a dirty render starts from. */
  private readonly previousText = new Uint8Array(OVERLAY_TEXT_LENGTH);
  /** The frame program's box arguments (at, rows, len per plane), reused every frame. */
  private readonly boxArgs = new Int32Array(FRAME_PROGRAM_PARAMS - 2);
  /** Native bulk ops of the memory being rendered into (set at the start of each render). */
  private bulk: BulkMemoryOps | undefined;
  /**
   * A full render as one wasm call (bands, box and plate; see `frameProgram`), made when the
   * renderer first meets pool memory. Never for noise.
   */
  private program: ProgramModule | undefined;
  private views: Views | undefined;

  /**
   * @throws TypeError for MJPG (use `MjpegRenderer`) or bad options; RangeError for sizes.
   */
  constructor(options: PatternOptions, format: VideoFormat) {
    if (format.fourcc === 'MJPG')
      throw new TypeError('PatternRenderer renders raw formats; use MjpegRenderer for MJPG');
    validatePatternOptions(options);
    this.layout = imageLayout(format.fourcc, format.width, format.height);
    this.options = Object.freeze({ ...options });
    this.format = format;
    this.fourcc = format.fourcc;
    this.g = sceneGeometry(format.width, format.height);
    this.palette = buildPalette(options.adjustments, options.solidColour);
    this.fps = rateForInterval(format.interval);
    this.overlay = options.overlay !== false;
    this.planes = this.layout.planes.map((p, i) => ({ ...p, half: isHalfHeightPlane(this.fourcc, i) }));
    const { width, height } = format;

    // Background bands: maximal runs of rows with identical background.
    const bands: Band[] = [];
    this.rowBand = new Int32Array(height);
    const rowIndices = new Uint16Array(width);
    if (options.pattern !== 'noise') {
      const templates = new Map<string, { rows: readonly Row[]; whole: readonly AlignedRow[] }>();
      const breaks = this.bandBreaks();
      for (let b = 0; b < breaks.length - 1; b++) {
        const y0 = breaks[b]!;
        const y1 = breaks[b + 1]!;
        for (let x = 0; x < width; x++) rowIndices[x] = backgroundColourAt(options, this.g, x, y0, 0);
        const key = this.templateKey(y0);
        let template = templates.get(key);
        if (template === undefined) {
          const rows = this.planes.map((p, i) => {
            const row = makeRow(p.stride);
            encodePlaneSegment(this.fourcc, this.palette, i, rowIndices, 0, width, row.u8, 0);
            return row;
          });
          const whole = rows.map((row) => {
            const aligned = new AlignedRow(row.u8.length);
            aligned.bytes.set(row.u8);
            return aligned;
          });
          template = { rows, whole };
          templates.set(key, template);
        }
        bands.push({ y0, y1, rows: template.rows, whole: template.whole });
        this.rowBand.fill(bands.length - 1, y0, y1);
      }
    }
    this.bands = bands;
    this.boxFill = this.planes.map((_, i) => fillPattern(this.fourcc, this.palette, i, Colour.White100));

    // Overlay plate: one encoded row per kind; kinds of each plate row.
    const pw = this.g.plateWidth;
    this.plateIndices = new Uint16Array(Math.max(2, pw));
    this.plateShift = Int32Array.from(
      this.planes,
      (_, i) => planeByteOffset(this.fourcc, i, this.g.plateX) & 7,
    );
    this.plateRowStride = Int32Array.from(
      this.planes,
      (_, i) => (planeByteOffset(this.fourcc, i, pw) + this.plateShift[i]! + 7) & ~7,
    );
    this.plateBlock = this.planes.map((_, i) => makeRow((GLYPH_ROWS + 1) * this.plateRowStride[i]!));
    this.plateViews = this.plateBlock.map((block, i) =>
      Array.from({ length: GLYPH_ROWS + 1 }, (_, kind) => {
        const from = kind * this.plateRowStride[i]! + this.plateShift[i]!;
        return block.u8.subarray(from, from + planeByteOffset(this.fourcc, i, pw));
      }),
    );
    this.plateKind = new Int32Array(this.g.plateHeight);
    for (let py = 0; py < this.g.plateHeight; py++) {
      const fy = Math.floor(py / this.g.fontScale) - 1;
      this.plateKind[py] = fy >= 0 && fy < GLYPH_ROWS ? fy + 1 : 0;
    }
    if (pw > 0) {
      this.plateIndices.fill(Colour.Black);
      this.plateBlock.forEach((block, i) =>
        encodePlaneSegment(
          this.fourcc,
          this.palette,
          i,
          this.plateIndices,
          0,
          pw,
          block.u8,
          this.plateShift[i]!,
        ),
      );
    }
    this.noiseIndices = new Uint16Array(width + 4);

    // Per-glyph index patterns of one cell, and the persistent index rows of the plate.
    const s = this.g.fontScale;
    const cellPx = CELL_COLUMNS * s;
    this.glyphIndexCells = Array.from({ length: 12 }, (_, glyph) =>
      Array.from({ length: GLYPH_ROWS }, (_, fy) => {
        const cell = new Uint16Array(cellPx);
        const bits = glyphRow(glyph, fy);
        for (let px = 0; px < cellPx; px++) {
          const col = Math.floor(px / s);
          const lit = col < GLYPH_COLUMNS && ((bits >> (GLYPH_COLUMNS - 1 - col)) & 1) === 1;
          cell[px] = lit ? Colour.White100 : Colour.Black;
        }
        return cell;
      }),
    );
    this.plateIndexRows = Array.from({ length: GLYPH_ROWS }, () =>
      new Uint16Array(Math.max(2, pw)).fill(Colour.Black),
    );
    let spanCells = 0;
    while (spanCells < OVERLAY_TEXT_LENGTH && this.spanFrom(spanCells) + cellPx <= pw) spanCells++;
    this.spanCells = spanCells;
    this.spanBytes = Int32Array.from(this.planes, (_, p) => planeByteOffset(this.fourcc, p, cellPx));
    const spanIndices = new Uint16Array(cellPx);
    this.glyphSpans = this.planes.map((_, p) => {
      const table = makeRow(12 * GLYPH_ROWS * this.spanBytes[p]!);
      for (let glyph = 0; glyph < 12; glyph++) {
        for (let fy = 0; fy < GLYPH_ROWS; fy++) {
          const cell = this.glyphIndexCells[glyph]![fy]!;
          if ((s & 1) === 0) spanIndices.set(cell);
          else {
            spanIndices[0] = Colour.Black;
            spanIndices.set(cell.subarray(0, cellPx - 1), 1);
          }
          const at = (glyph * GLYPH_ROWS + fy) * this.spanBytes[p]!;
          encodePlaneSegment(this.fourcc, this.palette, p, spanIndices, 0, cellPx, table.u8, at);
        }
      }
      return table;
    });
    if (pw > 0) {
      // Margins and unused cells stay black forever; characters are encoded on first use.
      for (let fy = 0; fy < GLYPH_ROWS; fy++) {
        this.plateBlock.forEach((block, i) =>
          encodePlaneSegment(
            this.fourcc,
            this.palette,
            i,
            this.plateIndexRows[fy]!,
            0,
            pw,
            block.u8,
            (fy + 1) * this.plateRowStride[i]! + this.plateShift[i]!,
          ),
        );
      }
    }
  }

  render(target: Uint8Array, offset: number, capacity: number, n: number, previous: number): number {
    const size = this.layout.imageSize;
    if (capacity < size || offset + size > target.length) return -1;
    const base = target.byteOffset + offset;
    if ((base & 3) !== 0) throw new RangeError(`frame start ${base} is not 4-byte aligned`);
    const views = this.viewsOf(target);
    const u8 = views.u8;
    this.bulk = views.bulk;
    if (this.options.pattern === 'noise' || previous < 0) {
      if (views.full !== undefined) this.renderProgram(views, views.full, base, n);
      else this.renderFull(u8, views.u16, views.u32, views.bulk, base, n);
    } else if (previous !== n) {
      this.renderDirty(u8, views.u16, views.u32, base, n, previous);
    }
    return size;
  }

  private renderFull(
    u8: Uint8Array,
    u16: Uint16Array,
    u32: Uint32Array,
    bulk: BulkMemoryOps | undefined,
    base: number,
    n: number,
  ): void {
    if (this.options.pattern === 'noise') {
      this.paintNoise(u8, base, n);
    } else {
      for (let p = 0; p < this.planes.length; p++) {
        const plane = this.planes[p]!;
        for (let b = 0; b < this.bands.length; b++) {
          const band = this.bands[b]!;
          const y0 = plane.half ? (band.y0 + 1) >> 1 : band.y0;
          const y1 = plane.half ? (band.y1 + 1) >> 1 : band.y1;
          fillRows(u8, bulk, base + plane.offset, plane.stride, y0, y1, band.whole[p]!);
        }
      }
    }
    this.paintOverBands(u8, u16, u32, base, n);
  }

  /** What a full render draws over the background bands: the box and the plate. */
  private paintOverBands(u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, base: number, n: number): void {
    if (this.options.pattern === 'moving-box') this.paintBox(u8, u16, u32, base, n);
    if (this.overlay) this.paintPlate(u8, u16, u32, base, n);
  }

  /** A full render through the frame program: one wasm call, plus the plate from JS if it does not draw it. */
  private renderProgram(views: Views, full: FullFn, base: number, n: number): void {
    const program = this.program!;
    const scratch = views.scratch!;
    if (scratch.owner !== program) {
      views.init!(scratch.base);
      scratch.owner = program;
    }
    if (program.drawsPlate) {
      overlayText(n, this.fps, this.text);
      scratch.view.set(this.text, PROGRAM_TEXT_AT);
    }
    const box = this.boxArgs;
    box.fill(0);
    if (this.options.pattern === 'moving-box') {
      const x = boxX(this.g, n);
      const y = boxY(this.g, n);
      const size = this.g.boxSize;
      for (let p = 0; p < this.planes.length; p++) {
        const plane = this.planes[p]!;
        const xb = planeByteOffset(this.fourcc, p, x);
        const r0 = plane.half ? y >> 1 : y;
        const r1 = plane.half ? (y + size) >> 1 : y + size;
        box[3 * p] = base + plane.offset + r0 * plane.stride + xb;
        box[3 * p + 1] = Math.max(0, r1 - r0);
        box[3 * p + 2] = planeByteOffset(this.fourcc, p, x + size) - xb;
      }
    }
    full(base, scratch.base, box[0]!, box[1]!, box[2]!, box[3]!, box[4]!, box[5]!, box[6]!, box[7]!, box[8]!);
    if (this.overlay && !program.drawsPlate) this.paintPlate(views.u8, views.u16, views.u32, base, n);
  }

  /**
   * What a full render does, as a frame program (see `frameProgramModuleBytes`) with its
   * constant data in a scratch region: each band copied from a chunk of its template row, the
   * box from one row of its colour, and the plate from a cached plate whose changed character
   * cells it copies from the glyph table. The plate is left to JS when a cell is clipped.
   */
  private frameProgram(): ProgramModule {
    const segments: Array<FrameProgram['segments'][number]> = [];
    // Scratch starts with the frame's text and the cached plate's text (32 bytes each).
    let top = PROGRAM_TEXT_AT + 64;
    const reserve = (bytes: number): number => {
      const at = top;
      top = (top + bytes + 63) & ~63;
      return at;
    };
    const bands: BandCopy[] = [];
    const chunkOf = new Map<Uint8Array, number>();
    for (let p = 0; p < this.planes.length; p++) {
      const plane = this.planes[p]!;
      const chunk = Math.max(plane.stride, Math.floor(BULK_FILL_CHUNK / plane.stride) * plane.stride);
      for (const band of this.bands) {
        const y0 = plane.half ? (band.y0 + 1) >> 1 : band.y0;
        const y1 = plane.half ? (band.y1 + 1) >> 1 : band.y1;
        if (y1 <= y0) continue;
        const row = band.rows[p]!.u8;
        let source = chunkOf.get(row);
        if (source === undefined) {
          source = reserve(chunk);
          segments.push({ at: source, bytes: row.slice(), repeatTo: chunk });
          chunkOf.set(row, source);
        }
        bands.push({ at: plane.offset + y0 * plane.stride, total: (y1 - y0) * plane.stride, source, chunk });
      }
    }
    const box: Array<FrameProgram['box'][number]> = [];
    if (this.options.pattern === 'moving-box') {
      this.planes.forEach((plane, p) => {
        const fill = this.boxFill[p]!;
        // Room for the box at any pixel alignment.
        const bytes = new Uint8Array(planeByteOffset(this.fourcc, p, this.g.boxSize + 2));
        for (let i = 0; i < bytes.length; i++) bytes[i] = fill.bytes[i % fill.period]!;
        const source = reserve(bytes.length);
        segments.push({ at: source, bytes });
        box.push({ source, stride: plane.stride });
      });
    }
    const g = this.g;
    let plate: PlateProgram | undefined;
    if (this.overlay && g.plateWidth > 0 && g.plateHeight > 0 && this.spanCells === OVERLAY_TEXT_LENGTH) {
      const rows: RowFill[] = [];
      const planes = this.planes.map((plane, p) => {
        const rowStride = this.plateRowStride[p]!;
        const shift = this.plateShift[p]!;
        // The plate's rows in this plane, in frame order (a half-height plane has the even ones),
        // each a copy of the cached row of its kind: one row copy per plane and frame.
        const kinds: number[] = [];
        for (let py = 0; py < g.plateHeight; py += plane.half ? 2 : 1) kinds.push(this.plateKind[py]!);
        const cached = this.plateBlock[p]!.u8;
        const blockBytes = new Uint8Array(kinds.length * rowStride);
        kinds.forEach((kind, i) =>
          blockBytes.set(cached.subarray(kind * rowStride, (kind + 1) * rowStride), i * rowStride),
        );
        const block = reserve(blockBytes.length);
        // Margins are black forever; cells are rewritten on first use (the cached text starts unknown).
        segments.push({ at: block, bytes: blockBytes });
        const glyphs = reserve(this.glyphSpans[p]!.u8.length);
        segments.push({ at: glyphs, bytes: this.glyphSpans[p]!.u8.slice() });
        const firstRow = plane.half ? g.plateY >> 1 : g.plateY;
        rows.push({
          at: plane.offset + firstRow * plane.stride + planeByteOffset(this.fourcc, p, g.plateX),
          source: block + shift,
          sourceStride: rowStride,
          len: planeByteOffset(this.fourcc, p, g.plateWidth),
          count: kinds.length,
          stride: plane.stride,
        });
        return {
          cells: Array.from(
            { length: OVERLAY_TEXT_LENGTH },
            (_, c) => block + shift + planeByteOffset(this.fourcc, p, this.spanFrom(c)),
          ),
          cellBytes: this.spanBytes[p]!,
          rowStride,
          glyphs,
          glyphRows: GLYPH_ROWS,
          runs: glyphRuns(kinds),
        };
      });
      plate = {
        textAt: PROGRAM_TEXT_AT,
        cachedAt: PROGRAM_TEXT_AT + 32,
        length: OVERLAY_TEXT_LENGTH,
        planes,
        rows,
      };
    }
    const bytes = frameProgramModuleBytes({ segments, bands, box, ...(plate ? { plate } : {}) });
    return { module: new PoolMemoryModule(() => bytes), scratchBytes: top, drawsPlate: plate !== undefined };
  }

  private renderDirty(
    u8: Uint8Array,
    u16: Uint16Array,
    u32: Uint32Array,
    base: number,
    n: number,
    previous: number,
  ): void {
    let plateCrossed = false;
    if (this.options.pattern === 'moving-box') {
      const ox = boxX(this.g, previous);
      const oy = boxY(this.g, previous);
      const nx = boxX(this.g, n);
      const ny = boxY(this.g, n);
      if (ox !== nx || oy !== ny) {
        this.restoreBackground(u8, u16, u32, base, ox, oy, this.g.boxSize, this.g.boxSize);
        this.paintBox(u8, u16, u32, base, n);
        plateCrossed = this.boxMeetsPlate(ox, oy) || this.boxMeetsPlate(nx, ny);
      }
    }
    if (!this.overlay) return;
    // The whole plate is rewritten when the box crossed it (the restore wiped part of it or the
    // new box covers it) or when some cell is clipped; otherwise only the characters that differ.
    if (plateCrossed || this.spanCells < OVERLAY_TEXT_LENGTH) this.paintPlate(u8, u16, u32, base, n);
    else this.paintChangedCells(u8, u16, u32, base, n, previous);
  }

  private boxMeetsPlate(x: number, y: number): boolean {
    const g = this.g;
    const size = g.boxSize;
    return (
      x < g.plateX + g.plateWidth &&
      x + size > g.plateX &&
      y < g.plateY + g.plateHeight &&
      y + size > g.plateY
    );
  }

  /** Left plate pixel of character cell c's span (see `glyphSpans`). */
  private spanFrom(c: number): number {
    return ((1 + c * CELL_COLUMNS) * this.g.fontScale) & ~1;
  }

  /**
   * Rewrites the glyph rows of the characters whose glyph differs between frames `previous`
   * (what the memory holds) and `n`, straight from `glyphSpans`. Needs every cell unclipped.
   */
  private paintChangedCells(
    u8: Uint8Array,
    u16: Uint16Array,
    u32: Uint32Array,
    base: number,
    n: number,
    previous: number,
  ): void {
    const g = this.g;
    const s = g.fontScale;
    const ph = g.plateHeight;
    overlayText(previous, this.fps, this.previousText);
    overlayText(n, this.fps, this.text);
    for (let c = 0; c < OVERLAY_TEXT_LENGTH; c++) {
      const glyph = this.text[c]!;
      if (glyph === this.previousText[c]) continue;
      const x = g.plateX + this.spanFrom(c);
      for (let p = 0; p < this.planes.length; p++) {
        const plane = this.planes[p]!;
        const table = this.glyphSpans[p]!;
        const len = this.spanBytes[p]!;
        const xb = base + plane.offset + planeByteOffset(this.fourcc, p, x);
        for (let fy = 0; fy < GLYPH_ROWS; fy++) {
          // Plate rows [py0, py1) show font row fy; a half-height plane has the even ones.
          let py0 = (fy + 1) * s;
          const py1 = Math.min(ph, py0 + s);
          if (plane.half) py0 += py0 & 1;
          if (py0 >= py1) continue;
          const rows = plane.half ? (py1 - py0 + 1) >> 1 : py1 - py0;
          const at = xb + (plane.half ? (g.plateY + py0) >> 1 : g.plateY + py0) * plane.stride;
          copySegment(table, (glyph * GLYPH_ROWS + fy) * len, u8, u16, u32, at, len);
          if (rows > 1) copyRows(u8, this.bulk, at + plane.stride, at, len, rows - 1, plane.stride, 0);
        }
      }
    }
  }

  private paintBox(u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, base: number, n: number): void {
    const x = boxX(this.g, n);
    const y = boxY(this.g, n);
    const size = this.g.boxSize;
    for (let p = 0; p < this.planes.length; p++) {
      const plane = this.planes[p]!;
      const pattern = this.boxFill[p]!;
      const xb = planeByteOffset(this.fourcc, p, x);
      const len = planeByteOffset(this.fourcc, p, x + size) - xb;
      const r0 = plane.half ? y >> 1 : y;
      const r1 = plane.half ? (y + size) >> 1 : y + size;
      if (r1 <= r0) continue;
      const first = base + plane.offset + r0 * plane.stride + xb;
      fillSegment(u8, u16, u32, first, len, pattern);
      // Every further row is a copy of the first (one native call for all of them).
      copyRows(u8, this.bulk, first + plane.stride, first, len, r1 - r0 - 1, plane.stride, 0);
    }
  }

  private restoreBackground(
    u8: Uint8Array,
    u16: Uint16Array,
    u32: Uint32Array,
    base: number,
    x: number,
    y: number,
    w: number,
    h: number,
  ): void {
    for (let p = 0; p < this.planes.length; p++) {
      const plane = this.planes[p]!;
      const xb = planeByteOffset(this.fourcc, p, x);
      const len = planeByteOffset(this.fourcc, p, x + w) - xb;
      const r0 = plane.half ? y >> 1 : y;
      const r1 = plane.half ? (y + h) >> 1 : y + h;
      const rowBand = this.rowBand;
      for (let r = r0; r < r1;) {
        const bandIndex = rowBand[plane.half ? r * 2 : r]!;
        const at = base + plane.offset + r * plane.stride + xb;
        copySegment(this.bands[bandIndex]!.rows[p]!, xb, u8, u16, u32, at, len);
        // Further rows of the same band are identical: copies of the row just restored.
        let q = r + 1;
        while (q < r1 && rowBand[plane.half ? q * 2 : q] === bandIndex) q++;
        copyRows(u8, this.bulk, at + plane.stride, at, len, q - r - 1, plane.stride, 0);
        r = q;
      }
    }
  }

  private paintPlate(u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, base: number, n: number): void {
    const g = this.g;
    const pw = g.plateWidth;
    const ph = g.plateHeight;
    if (pw <= 0 || ph <= 0) return;
    overlayText(n, this.fps, this.text);
    this.updatePlateRows(pw);
    for (let p = 0; p < this.planes.length; p++) {
      const plane = this.planes[p]!;
      const xb = base + plane.offset + planeByteOffset(this.fourcc, p, g.plateX);
      const len = planeByteOffset(this.fourcc, p, pw);
      const step = plane.half ? 2 : 1;
      for (let py = 0; py < ph;) {
        const kind = this.plateKind[py]!;
        const at = xb + (plane.half ? (g.plateY + py) >> 1 : g.plateY + py) * plane.stride;
        // A new row is a copy of the cached plate row; repeated rows (font scale > 1) are
        // copies of it, in one native call.
        if ((at & 7) === this.plateShift[p]) u8.set(this.plateViews[p]![kind]!, at);
        else {
          copyShifted(
            this.plateBlock[p]!,
            kind * this.plateRowStride[p]! + this.plateShift[p]!,
            u8,
            u16,
            u32,
            at,
            len,
          );
        }
        let q = py + step;
        let rows = 0;
        for (; q < ph && this.plateKind[q] === kind; q += step) rows++;
        copyRows(u8, this.bulk, at + plane.stride, at, len, rows, plane.stride, 0);
        py = q;
      }
    }
  }

  /**
   * Brings the cached, encoded plate rows up to `this.text`: only characters that differ from
   * the cached text are re-indexed and re-encoded (over whole chroma pairs).
   */
  private updatePlateRows(pw: number): void {
    const s = this.g.fontScale;
    const cellPx = CELL_COLUMNS * s;
    for (let c = 0; c < OVERLAY_TEXT_LENGTH; c++) {
      const glyph = this.text[c]!;
      if (glyph === this.plateText[c]) continue;
      this.plateText[c] = glyph;
      if (c < this.spanCells) {
        // A whole cell: its encoded span bytes from the table, no per-pixel encoding.
        const from = this.spanFrom(c);
        for (let p = 0; p < this.planes.length; p++) {
          const len = this.spanBytes[p]!;
          const rowStride = this.plateRowStride[p]!;
          const at = rowStride + this.plateShift[p]! + planeByteOffset(this.fourcc, p, from);
          copyRowsBetween(
            this.glyphSpans[p]!,
            glyph * GLYPH_ROWS * len,
            len,
            this.plateBlock[p]!,
            at,
            rowStride,
            len,
            GLYPH_ROWS,
          );
        }
        continue;
      }
      const x0 = (1 + c * CELL_COLUMNS) * s;
      if (x0 >= pw) continue;
      const x1 = Math.min(pw, x0 + cellPx);
      const from = x0 & ~1;
      const to = Math.min(pw, (x1 + 1) & ~1);
      for (let fy = 0; fy < GLYPH_ROWS; fy++) {
        const idx = this.plateIndexRows[fy]!;
        const cell = this.glyphIndexCells[glyph]![fy]!;
        idx.set(x1 - x0 === cellPx ? cell : cell.subarray(0, x1 - x0), x0);
        for (let p = 0; p < this.planes.length; p++) {
          encodePlaneSegment(
            this.fourcc,
            this.palette,
            p,
            idx,
            from,
            to - from,
            this.plateBlock[p]!.u8,
            (fy + 1) * this.plateRowStride[p]! + this.plateShift[p]! + planeByteOffset(this.fourcc, p, from),
          );
        }
      }
    }
  }

  private paintNoise(u8: Uint8Array, base: number, n: number): void {
    const { width, height } = this.format;
    const idx = this.noiseIndices;
    const seed = this.options.seed ?? 0;
    for (let y = 0; y < height; y++) {
      const rowSeed = noiseRowSeed(seed, n, y);
      for (let w = 0, x = 0; x < width; w++, x += 4) {
        const word = noiseWord(rowSeed, w);
        idx[x] = GREY_BASE + (word & 255);
        idx[x + 1] = GREY_BASE + ((word >>> 8) & 255);
        idx[x + 2] = GREY_BASE + ((word >>> 16) & 255);
        idx[x + 3] = GREY_BASE + (word >>> 24);
      }
      for (let p = 0; p < this.planes.length; p++) {
        const plane = this.planes[p]!;
        if (plane.half && (y & 1) !== 0) continue;
        const r = plane.half ? y >> 1 : y;
        const at = base + plane.offset + r * plane.stride;
        encodePlaneSegment(this.fourcc, this.palette, p, idx, 0, width, u8, at);
        if (plane.stride > plane.rowBytes) u8.fill(0, at + plane.rowBytes, at + plane.stride);
      }
    }
  }

  /** Row numbers where the background changes (first 0, last height). */
  private bandBreaks(): number[] {
    const { height } = this.format;
    switch (this.options.pattern) {
      case 'smpte-bars':
      case 'moving-box': {
        const [a, b] = barBands(height);
        return [0, a, b, height].filter((v, i, all) => i === 0 || v > all[i - 1]!);
      }
      case 'checkerboard': {
        const out: number[] = [];
        for (let y = 0; y < height; y += this.g.checkSize) out.push(y);
        out.push(height);
        return out;
      }
      default:
        return [0, height];
    }
  }

  private templateKey(y: number): string {
    switch (this.options.pattern) {
      case 'checkerboard':
        return String(Math.floor(y / this.g.checkSize) & 1);
      case 'smpte-bars':
      case 'moving-box':
        return `bars:${y}`;
      default:
        return 'one';
    }
  }

  private viewsOf(target: Uint8Array): Views {
    const buffer = target.buffer;
    if (this.views === undefined || this.views.buffer !== buffer) {
      const bulk = bulkOpsFor(buffer);
      let scratch: ScratchRegion | undefined;
      let exports: Record<string, unknown> | undefined;
      if (bulk !== undefined && this.bands.length > 0) {
        this.program ??= this.frameProgram();
        scratch = scratchFor(buffer, this.program.scratchBytes);
        if (scratch !== undefined) exports = this.program.module.exportsFor(buffer);
      }
      this.views = {
        buffer,
        u8: new Uint8Array(buffer),
        u16: new Uint16Array(buffer, 0, buffer.byteLength >> 1),
        u32: new Uint32Array(buffer, 0, buffer.byteLength >> 2),
        bulk,
        scratch,
        init: exports?.['init'] as ((scratch: number) => void) | undefined,
        full: exports?.['full'] as FullFn | undefined,
      };
    }
    return this.views;
  }
}

/**
 * The runs of plate rows that show glyph rows, from each row's kind (0 blank, 1 + glyph row):
 * maximal runs whose glyph row steps by a constant (0 where a scaled font repeats a row).
 */
function glyphRuns(kinds: readonly number[]): GlyphRun[] {
  const runs: GlyphRun[] = [];
  for (let i = 0; i < kinds.length;) {
    if (kinds[i] === 0) {
      i++;
      continue;
    }
    let j = i + 1;
    const step = j < kinds.length && kinds[j]! > 0 ? kinds[j]! - kinds[i]! : 0;
    while (j < kinds.length && kinds[j]! > 0 && step >= 0 && kinds[j]! - kinds[j - 1]! === step) j++;
    runs.push({ row: i, count: j - i, glyphRow: kinds[i]! - 1, step: j - i > 1 ? step : 0 });
    i = j;
  }
  return runs;
}

/**
 * Fills rows [y0, y1) of a plane with `row` (one stride long): one set, then copies of the
 * already-filled start (doubling up to a cache-sized chunk). With `bulk` (pool memory from
 * `createPoolMemory`) the copies are native memmoves; otherwise copyWithin.
 */
function fillRows(
  u8: Uint8Array,
  bulk: BulkMemoryOps | undefined,
  planeBase: number,
  stride: number,
  y0: number,
  y1: number,
  row: AlignedRow,
): void {
  if (y1 <= y0) return;
  const start = planeBase + y0 * stride;
  const total = (y1 - y0) * stride;
  row.writeTo(u8, start);
  const chunk = Math.max(
    stride,
    Math.floor((bulk === undefined ? FILL_CHUNK : BULK_FILL_CHUNK) / stride) * stride,
  );
  if (bulk !== undefined) {
    bulk.replicate(start, stride, total, chunk);
    return;
  }
  let filled = stride;
  while (filled < total) {
    let len = filled < chunk ? filled : chunk;
    if (len > total - filled) len = total - filled;
    u8.copyWithin(start + filled, start, start + len);
    filled += len;
  }
}

/**
 * `rows` copies of `len` bytes inside one memory, row k from `source + k × sourceStride` to
 * `target + k × targetStride`: one wasm call with `bulk`, else copyWithin per row.
 */
function copyRows(
  u8: Uint8Array,
  bulk: BulkMemoryOps | undefined,
  target: number,
  source: number,
  len: number,
  rows: number,
  targetStride: number,
  sourceStride: number,
): void {
  if (rows <= 0) return;
  if (bulk !== undefined) {
    bulk.copyRows(target, source, len, rows, targetStride, sourceStride);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const from = source + r * sourceStride;
    u8.copyWithin(target + r * targetStride, from, from + len);
  }
}

function fillSegment(
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  at: number,
  len: number,
  p: FillPattern,
): void {
  if (p.period !== 3 && ((at | len) & 3) === 0) {
    u32.fill(p.word32, at >> 2, (at + len) >> 2);
  } else if (p.period <= 2 && ((at | len) & 1) === 0) {
    u16.fill(p.word16, at >> 1, (at + len) >> 1);
  } else {
    const bytes = p.bytes;
    const period = p.period;
    for (let i = 0; i < len; i++) u8[at + i] = bytes[i % period]!;
  }
}

/**
 * `rows` segments of `len` bytes from `src` (rows `srcStep` apart) to `dst` (rows `dstStep`
 * apart), both non-shared: as 32- or 16-bit words when every offset allows.
 */
function copyRowsBetween(
  src: Row,
  srcAt: number,
  srcStep: number,
  dst: Row,
  dstAt: number,
  dstStep: number,
  len: number,
  rows: number,
): void {
  const bits = srcAt | srcStep | dstAt | dstStep | len;
  if ((bits & 3) === 0) {
    const s32 = src.u32;
    const d32 = dst.u32;
    const words = len >> 2;
    for (let r = 0, s = srcAt >> 2, d = dstAt >> 2; r < rows; r++, s += srcStep >> 2, d += dstStep >> 2) {
      for (let k = 0; k < words; k++) d32[d + k] = s32[s + k]!;
    }
  } else if ((bits & 1) === 0) {
    const s16 = src.u16;
    const d16 = dst.u16;
    const words = len >> 1;
    for (let r = 0, s = srcAt >> 1, d = dstAt >> 1; r < rows; r++, s += srcStep >> 1, d += dstStep >> 1) {
      for (let k = 0; k < words; k++) d16[d + k] = s16[s + k]!;
    }
  } else {
    const s8 = src.u8;
    const d8 = dst.u8;
    for (let r = 0, s = srcAt, d = dstAt; r < rows; r++, s += srcStep, d += dstStep) {
      for (let k = 0; k < len; k++) d8[d + k] = s8[s + k]!;
    }
  }
}

/**
 * copySegment for a source and target that agree modulo 4 but are not 4-aligned: the bytes up
 * to the next word boundary, then 32-bit words, then the tail (half the stores of 16-bit copies).
 */
function copyShifted(
  src: Row,
  from: number,
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  at: number,
  len: number,
): void {
  if (((from - at) & 3) !== 0 || len < 8) {
    copySegment(src, from, u8, u16, u32, at, len);
    return;
  }
  const s8 = src.u8;
  const head = (4 - (at & 3)) & 3;
  for (let i = 0; i < head; i++) u8[at + i] = s8[from + i]!;
  const words = (len - head) >> 2;
  const s32 = src.u32;
  for (let k = 0, s = (from + head) >> 2, d = (at + head) >> 2; k < words; k++) u32[d + k] = s32[s + k]!;
  for (let i = head + words * 4; i < len; i++) u8[at + i] = s8[from + i]!;
}

function copySegment(
  src: Row,
  from: number,
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  at: number,
  len: number,
): void {
  if (((from | at | len) & 3) === 0) {
    const s32 = src.u32;
    let s = from >> 2;
    const end = (at + len) >> 2;
    for (let d = at >> 2; d < end; d++) u32[d] = s32[s++]!;
  } else if (((from | at | len) & 1) === 0) {
    const s16 = src.u16;
    let s = from >> 1;
    const end = (at + len) >> 1;
    for (let d = at >> 1; d < end; d++) u16[d] = s16[s++]!;
  } else {
    const s8 = src.u8;
    for (let i = 0; i < len; i++) u8[at + i] = s8[from + i]!;
  }
}

/** Throws TypeError/RangeError unless `options` is a valid {@link PatternOptions}. */
export function validatePatternOptions(options: PatternOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('pattern options must be an object');
  const kinds = ['smpte-bars', 'ramp', 'checkerboard', 'moving-box', 'noise', 'solid'];
  if (!kinds.includes(options.pattern)) throw new TypeError(`unknown pattern ${String(options.pattern)}`);
  if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
    throw new RangeError(`seed must be a safe integer, got ${options.seed}`);
  }
  const c = options.solidColour;
  if (c !== undefined && (c.length !== 3 || c.some((v) => !Number.isInteger(v) || v < 0 || v > 255))) {
    throw new RangeError('solidColour must be three integers in [0, 255]');
  }
  const a = options.adjustments;
  if (a !== undefined && !(a.gamma > 0)) throw new RangeError(`gamma must be > 0, got ${a.gamma}`);
}

/**
 * The reference renderer: every pixel through {@link sceneColourAt} and the row encoder.
 * Slow (per-pixel); tests compare the fast paths against it. Writes `layout.imageSize` bytes.
 */
export function renderReference(
  options: PatternOptions,
  format: VideoFormat,
  n: number,
  target: Uint8Array,
  offset = 0,
): number {
  const layout = imageLayout(format.fourcc, format.width, format.height);
  if (format.fourcc === 'MJPG') throw new TypeError('renderReference renders raw formats');
  const g = sceneGeometry(format.width, format.height);
  const palette = buildPalette(options.adjustments, options.solidColour);
  const text = new Uint8Array(OVERLAY_TEXT_LENGTH);
  overlayText(n, rateForInterval(format.interval), text);
  const indices = new Uint16Array(format.width);
  for (let y = 0; y < format.height; y++) {
    for (let x = 0; x < format.width; x++) indices[x] = sceneColourAt(options, g, x, y, n, text);
    layout.planes.forEach((plane, p) => {
      const half = isHalfHeightPlane(format.fourcc, p);
      if (half && (y & 1) !== 0) return;
      const at = offset + plane.offset + (half ? y >> 1 : y) * plane.stride;
      encodePlaneSegment(format.fourcc, palette, p, indices, 0, format.width, target, at);
      target.fill(0, at + plane.rowBytes, at + plane.stride);
    });
  }
  return layout.imageSize;
}
