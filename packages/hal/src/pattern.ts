// Test-pattern scenes: what colour every pixel of frame n has, as a pure function of its inputs.
import { CELL_COLUMNS, GLYPH_COLON, GLYPH_ROWS, GLYPH_SPACE, glyphPixel } from './bitmap-font.js';
import { barBand, barColour } from './colour-bars.js';
import { Colour, GREY_BASE, type PictureAdjustments } from './colour-palette.js';

/** The patterns the synthetic devices draw. */
export type PatternKind = 'smpte-bars' | 'ramp' | 'checkerboard' | 'moving-box' | 'noise' | 'solid';

/** Every pattern, in a stable order. */
export const PATTERN_KINDS: readonly PatternKind[] = Object.freeze([
  'smpte-bars',
  'ramp',
  'checkerboard',
  'moving-box',
  'noise',
  'solid',
]);

/** True when `value` names a pattern. */
export function isPatternKind(value: unknown): value is PatternKind {
  return typeof value === 'string' && (PATTERN_KINDS as readonly string[]).includes(value);
}

/**
 * What to draw. With the format and frame index these fully determine the bytes.
 * - `smpte-bars`: 75 % bars, castellations, −I/white/+Q/PLUGE band.
 * - `ramp`: horizontal grey ramp, 256 levels.
 * - `checkerboard`: 100 % white / black squares.
 * - `moving-box`: the bars with a white box bouncing across them.
 * - `noise`: grey snow, a new field every frame (from `seed` and n).
 * - `solid`: one colour (`solidColour`, R'G'B' 0–255; default 75 % grey).
 */
export interface PatternOptions {
  readonly pattern: PatternKind;
  /** Seed of the noise pattern (other patterns ignore it); integer. Default 0. */
  readonly seed?: number;
  /** Frame-number and timecode overlay at the top left. Default true. */
  readonly overlay?: boolean;
  readonly solidColour?: readonly [number, number, number];
  readonly adjustments?: PictureAdjustments;
}

/** Characters of the overlay: 10-digit frame number, a space, HH:MM:SS:FF timecode. */
export const OVERLAY_TEXT_LENGTH = 22;

/** Where things are in a frame of a given size (all even, so 4:2:0 chroma edges are clean). */
export interface SceneGeometry {
  readonly width: number;
  readonly height: number;
  readonly boxSize: number;
  readonly boxStepX: number;
  readonly boxStepY: number;
  readonly checkSize: number;
  /** Overlay plate rectangle (clipped to the frame) and its font scale. */
  readonly plateX: number;
  readonly plateY: number;
  readonly plateWidth: number;
  readonly plateHeight: number;
  readonly fontScale: number;
}

/** The geometry for a frame size; a pure function of the size. */
export function sceneGeometry(width: number, height: number): SceneGeometry {
  const fontScale = Math.max(1, Math.floor(height / 270));
  const plateX = 2 * fontScale;
  const plateY = 2 * fontScale;
  const fullWidth = (OVERLAY_TEXT_LENGTH * CELL_COLUMNS + 1) * fontScale;
  const fullHeight = (GLYPH_ROWS + 2) * fontScale;
  const even = (v: number): number => Math.max(0, v & ~1);
  return Object.freeze({
    width,
    height,
    boxSize: Math.max(2, (height >> 3) & ~1),
    boxStepX: 2 * Math.max(1, Math.round(width / 320)),
    boxStepY: 2 * Math.max(1, Math.round(height / 240)),
    checkSize: Math.max(2, 2 * Math.floor(height / 24)),
    plateX,
    plateY,
    plateWidth: even(Math.min(fullWidth + (fullWidth & 1), width - plateX)),
    plateHeight: even(Math.min(fullHeight + (fullHeight & 1), height - plateY)),
    fontScale,
  });
}

function triangle(t: number, span: number): number {
  if (span <= 0) return 0;
  const p = t % (2 * span);
  return p < span ? p : 2 * span - p;
}

/** Left edge of the moving box in frame n (even). */
export function boxX(g: SceneGeometry, n: number): number {
  return triangle(n * g.boxStepX, g.width - g.boxSize) & ~1;
}

/** Top edge of the moving box in frame n (even). */
export function boxY(g: SceneGeometry, n: number): number {
  return triangle(n * g.boxStepY, g.height - g.boxSize) & ~1;
}

/**
 * Writes the overlay's glyph codes for frame n at `fps` into `out` (length
 * {@link OVERLAY_TEXT_LENGTH}): frame number modulo 10^10, space, timecode of n / fps.
 */
export function overlayText(n: number, fps: number, out: Uint8Array): void {
  // Called twice per dirty frame: integer arithmetic and no allocation (same digits as the
  // general path below, which covers frame indices from 2^31 on).
  if (n >= 0 && n < 2147483648 && Number.isInteger(n)) {
    let v = n;
    for (let i = 9; i >= 0; i--) {
      const q = (v / 10) | 0;
      out[i] = v - q * 10;
      v = q;
    }
  } else {
    let v = n % 1e10;
    for (let i = 9; i >= 0; i--) {
      out[i] = v % 10;
      v = Math.floor(v / 10);
    }
  }
  out[10] = GLYPH_SPACE;
  const totalSeconds = Math.floor(n / fps);
  // Frame counts above 99 (fps > 100) show their last two digits.
  twoDigits(out, 11, Math.floor(totalSeconds / 3600) % 100);
  out[13] = GLYPH_COLON;
  twoDigits(out, 14, Math.floor(totalSeconds / 60) % 60);
  out[16] = GLYPH_COLON;
  twoDigits(out, 17, totalSeconds % 60);
  out[19] = GLYPH_COLON;
  twoDigits(out, 20, n % fps);
}

function twoDigits(out: Uint8Array, at: number, value: number): void {
  out[at] = Math.floor(value / 10) % 10;
  out[at + 1] = value % 10;
}

/** A 32-bit mix of three integers (n may exceed 2^32); the noise generator's basis. */
export function mix32(a: number, b: number, c: number): number {
  let h = Math.imul(a | 0, 0x9e3779b1) ^ Math.imul((b >>> 0) ^ 0x7f4a7c15, 0x85ebca6b);
  h ^= Math.imul(Math.floor(b / 4294967296) | 0, 0xc2b2ae35) ^ Math.imul(c | 0, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Seed of noise row y of frame n. */
export function noiseRowSeed(seed: number, n: number, y: number): number {
  return mix32(seed, n, y);
}

/** The 32-bit noise word w of a row: four grey levels, byte k = pixel 4w + k. */
export function noiseWord(rowSeed: number, w: number): number {
  let h = (rowSeed ^ Math.imul(w + 1, 0x9e3779b1)) | 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Palette index of the background at (x, y) in frame n (before box and overlay). */
export function backgroundColourAt(
  options: PatternOptions,
  g: SceneGeometry,
  x: number,
  y: number,
  n: number,
): number {
  switch (options.pattern) {
    case 'smpte-bars':
    case 'moving-box':
      return barColour(x, barBand(y, g.height), g.width);
    case 'ramp':
      return GREY_BASE + Math.floor((x * 256) / g.width);
    case 'checkerboard':
      return ((Math.floor(x / g.checkSize) + Math.floor(y / g.checkSize)) & 1) === 0
        ? Colour.White100
        : Colour.Black;
    case 'noise': {
      const word = noiseWord(noiseRowSeed(options.seed ?? 0, n, y), x >> 2);
      return GREY_BASE + ((word >>> ((x & 3) * 8)) & 255);
    }
    case 'solid':
      return Colour.Solid;
  }
}

/**
 * Palette index of the overlay plate at plate-relative (px, py), given the frame's text.
 * The plate is black with white glyphs, scaled by `g.fontScale`, with a one-pixel margin.
 */
export function plateColourAt(g: SceneGeometry, px: number, py: number, text: Uint8Array): number {
  const s = g.fontScale;
  const fx = Math.floor(px / s) - 1;
  const fy = Math.floor(py / s) - 1;
  if (fx < 0 || fy < 0 || fy >= GLYPH_ROWS) return Colour.Black;
  const cell = Math.floor(fx / CELL_COLUMNS);
  if (cell >= OVERLAY_TEXT_LENGTH) return Colour.Black;
  return glyphPixel(text[cell]!, fx % CELL_COLUMNS, fy) ? Colour.White100 : Colour.Black;
}

/**
 * Reference definition of the scene: palette index of pixel (x, y) of frame n, painter's
 * order background → box → overlay. The fast renderer must produce exactly what encoding
 * these indices gives.
 */
export function sceneColourAt(
  options: PatternOptions,
  g: SceneGeometry,
  x: number,
  y: number,
  n: number,
  text: Uint8Array,
): number {
  if (options.overlay !== false) {
    const px = x - g.plateX;
    const py = y - g.plateY;
    if (px >= 0 && py >= 0 && px < g.plateWidth && py < g.plateHeight) return plateColourAt(g, px, py, text);
  }
  if (options.pattern === 'moving-box') {
    const bx = boxX(g, n);
    const by = boxY(g, n);
    if (x >= bx && y >= by && x < bx + g.boxSize && y < by + g.boxSize) return Colour.White100;
  }
  return backgroundColourAt(options, g, x, y, n);
}
