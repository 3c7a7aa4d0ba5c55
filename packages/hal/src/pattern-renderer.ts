// Renders test-pattern frames straight into (shared) slot memory, fully or by dirty regions.
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
import { bulkOpsFor, type BulkMemoryOps } from './pool-memory.js';
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
}

/** Bytes copied per step when filling a band: keeps the copy source in L1/L2 cache. */
const FILL_CHUNK = 64 * 1024;
/** The same for native (wasm memory.copy) fills, which are limited by cache, not by call overhead. */
const BULK_FILL_CHUNK = 16 * 1024;

/**
 * The fast renderer for raw formats. Background rows are encoded once per configuration;
 * a frame is band fills (set + copyWithin from a cache-sized chunk), one box fill and the
 * overlay plate's rows. With `previous` it restores the old box area from the background
 * templates and redraws the box and the plate only. Per-frame work allocates nothing.
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
  private readonly plateRows: ReadonlyArray<readonly Row[]>;
  private readonly plateKind: Int32Array;
  private readonly noiseIndices: Uint16Array;
  /** Palette indices of each glyph row of the plate (kinds 1…7), kept in step with `plateText`. */
  private readonly plateIndexRows: readonly Uint16Array[];
  /** Text the cached plate rows show; 255 = nothing cached yet. */
  private readonly plateText = new Uint8Array(OVERLAY_TEXT_LENGTH).fill(255);
  /** Index pattern of each glyph's font row across one character cell: [glyph][font row]. */
  private readonly glyphIndexCells: ReadonlyArray<readonly Uint16Array[]>;
  /** Native bulk ops of the memory being rendered into (set at the start of each render). */
  private bulk: BulkMemoryOps | undefined;
  private views:
    | {
        buffer: ArrayBufferLike;
        u8: Uint8Array;
        u16: Uint16Array;
        u32: Uint32Array;
        bulk: BulkMemoryOps | undefined;
      }
    | undefined;

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
      const templates = new Map<string, readonly Row[]>();
      const breaks = this.bandBreaks();
      for (let b = 0; b < breaks.length - 1; b++) {
        const y0 = breaks[b]!;
        const y1 = breaks[b + 1]!;
        for (let x = 0; x < width; x++) rowIndices[x] = backgroundColourAt(options, this.g, x, y0, 0);
        const key = this.templateKey(y0);
        let rows = templates.get(key);
        if (rows === undefined) {
          rows = this.planes.map((p, i) => {
            const row = makeRow(p.stride);
            encodePlaneSegment(this.fourcc, this.palette, i, rowIndices, 0, width, row.u8, 0);
            return row;
          });
          templates.set(key, rows);
        }
        bands.push({ y0, y1, rows });
        this.rowBand.fill(bands.length - 1, y0, y1);
      }
    }
    this.bands = bands;
    this.boxFill = this.planes.map((_, i) => fillPattern(this.fourcc, this.palette, i, Colour.White100));

    // Overlay plate: one encoded row per kind; kinds of each plate row.
    const pw = this.g.plateWidth;
    this.plateIndices = new Uint16Array(Math.max(2, pw));
    this.plateRows = Array.from({ length: GLYPH_ROWS + 1 }, () =>
      this.planes.map((_, i) => makeRow(planeByteOffset(this.fourcc, i, pw))),
    );
    this.plateKind = new Int32Array(this.g.plateHeight);
    for (let py = 0; py < this.g.plateHeight; py++) {
      const fy = Math.floor(py / this.g.fontScale) - 1;
      this.plateKind[py] = fy >= 0 && fy < GLYPH_ROWS ? fy + 1 : 0;
    }
    if (pw > 0) {
      this.plateIndices.fill(Colour.Black);
      this.plateRows[0]!.forEach((row, i) =>
        encodePlaneSegment(this.fourcc, this.palette, i, this.plateIndices, 0, pw, row.u8, 0),
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
    if (pw > 0) {
      // Margins and unused cells stay black forever; characters are encoded on first use.
      for (let fy = 0; fy < GLYPH_ROWS; fy++) {
        this.plateRows[fy + 1]!.forEach((row, i) =>
          encodePlaneSegment(this.fourcc, this.palette, i, this.plateIndexRows[fy]!, 0, pw, row.u8, 0),
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
      this.renderFull(u8, views.u16, views.u32, views.bulk, base, n);
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
          fillRows(u8, bulk, base + plane.offset, plane.stride, y0, y1, band.rows[p]!.u8);
        }
      }
    }
    if (this.options.pattern === 'moving-box') this.paintBox(u8, u16, u32, base, n);
    if (this.overlay) this.paintPlate(u8, base, n);
  }

  private renderDirty(
    u8: Uint8Array,
    u16: Uint16Array,
    u32: Uint32Array,
    base: number,
    n: number,
    previous: number,
  ): void {
    if (this.options.pattern === 'moving-box') {
      const ox = boxX(this.g, previous);
      const oy = boxY(this.g, previous);
      if (ox !== boxX(this.g, n) || oy !== boxY(this.g, n)) {
        this.restoreBackground(u8, u16, u32, base, ox, oy, this.g.boxSize, this.g.boxSize);
        this.paintBox(u8, u16, u32, base, n);
      }
    }
    // The plate is always rewritten (it is small; the box may have crossed it).
    if (this.overlay) this.paintPlate(u8, base, n);
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
      // Every further row is a copy of the first: one native memmove per row.
      for (let r = r0 + 1; r < r1; r++) copyBytes(u8, this.bulk, first + (r - r0) * plane.stride, first, len);
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
      let previousBand = -1;
      for (let r = r0; r < r1; r++) {
        const bandIndex = this.rowBand[plane.half ? r * 2 : r]!;
        const at = base + plane.offset + r * plane.stride + xb;
        // Rows of one band are identical: copy the row just restored above (native memmove).
        if (bandIndex === previousBand) copyBytes(u8, this.bulk, at, at - plane.stride, len);
        else copySegment(this.bands[bandIndex]!.rows[p]!, xb, u8, u16, u32, at, len);
        previousBand = bandIndex;
      }
    }
  }

  private paintPlate(u8: Uint8Array, base: number, n: number): void {
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
      let previousKind = -1;
      for (let py = 0; py < ph; py += step) {
        const kind = this.plateKind[py]!;
        const at = xb + (plane.half ? (g.plateY + py) >> 1 : g.plateY + py) * plane.stride;
        // Repeated rows (font scale > 1) are native copies of the row above; a new row is one
        // set() of the cached plate row (exact length, so no subarray is made).
        if (kind === previousKind) copyBytes(u8, this.bulk, at, at - plane.stride, len);
        else u8.set(this.plateRows[kind]![p]!.u8, at);
        previousKind = kind;
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
      const x0 = (1 + c * CELL_COLUMNS) * s;
      if (x0 >= pw) continue;
      const x1 = Math.min(pw, x0 + cellPx);
      const from = x0 & ~1;
      const to = Math.min(pw, (x1 + 1) & ~1);
      for (let fy = 0; fy < GLYPH_ROWS; fy++) {
        const idx = this.plateIndexRows[fy]!;
        const cell = this.glyphIndexCells[glyph]![fy]!;
        idx.set(x1 - x0 === cellPx ? cell : cell.subarray(0, x1 - x0), x0);
        const rows = this.plateRows[fy + 1]!;
        for (let p = 0; p < rows.length; p++) {
          encodePlaneSegment(
            this.fourcc,
            this.palette,
            p,
            idx,
            from,
            to - from,
            rows[p]!.u8,
            planeByteOffset(this.fourcc, p, from),
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

  private viewsOf(target: Uint8Array): {
    u8: Uint8Array;
    u16: Uint16Array;
    u32: Uint32Array;
    bulk: BulkMemoryOps | undefined;
  } {
    const buffer = target.buffer;
    if (this.views === undefined || this.views.buffer !== buffer) {
      this.views = {
        buffer,
        u8: new Uint8Array(buffer),
        u16: new Uint16Array(buffer, 0, buffer.byteLength >> 1),
        u32: new Uint32Array(buffer, 0, buffer.byteLength >> 2),
        bulk: bulkOpsFor(buffer),
      };
    }
    return this.views;
  }
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
  row: Uint8Array,
): void {
  if (y1 <= y0) return;
  const start = planeBase + y0 * stride;
  const total = (y1 - y0) * stride;
  u8.set(row, start);
  const chunk = Math.max(
    stride,
    Math.floor((bulk === undefined ? FILL_CHUNK : BULK_FILL_CHUNK) / stride) * stride,
  );
  let filled = stride;
  while (filled < total) {
    let len = filled < chunk ? filled : chunk;
    if (len > total - filled) len = total - filled;
    if (bulk === undefined) u8.copyWithin(start + filled, start, start + len);
    else bulk.copy(start + filled, start, len);
    filled += len;
  }
}

/** Copies `len` bytes inside one memory (natively: wasm memory.copy or copyWithin). */
function copyBytes(
  u8: Uint8Array,
  bulk: BulkMemoryOps | undefined,
  target: number,
  source: number,
  len: number,
): void {
  if (bulk !== undefined) bulk.copy(target, source, len);
  else u8.copyWithin(target, source, source + len);
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
