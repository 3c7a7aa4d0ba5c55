// A 5x7 bitmap font for the frame-number/timecode overlay (digits, colon, space).

/** Glyph height in font pixels. */
export const GLYPH_ROWS = 7;
/** Glyph width in font pixels; a character cell adds one column of spacing. */
export const GLYPH_COLUMNS = 5;
/** Character cell width in font pixels (glyph plus one spacing column). */
export const CELL_COLUMNS = 6;

// One entry per row, top first; bit 4 is the leftmost column.
const DIGITS: ReadonlyArray<readonly number[]> = [
  [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
  [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
  [0b01110, 0b10001, 0b00001, 0b00110, 0b01000, 0b10000, 0b11111],
  [0b11110, 0b00001, 0b00001, 0b01110, 0b00001, 0b00001, 0b11110],
  [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
  [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
  [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
  [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
  [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
  [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
];
const COLON = [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000];
const SPACE = [0, 0, 0, 0, 0, 0, 0];

/** Glyph codes used in overlay text: 0–9 digits, 10 colon, 11 space. */
export const GLYPH_COLON = 10;
export const GLYPH_SPACE = 11;

/** Row bits of glyph `code` (see the glyph codes) at font row `row` (0 = top). */
export function glyphRow(code: number, row: number): number {
  const glyph = code < 10 ? DIGITS[code] : code === GLYPH_COLON ? COLON : SPACE;
  return glyph?.[row] ?? 0;
}

/** True when font pixel (column, row) of glyph `code` is lit; columns >= 5 are spacing. */
export function glyphPixel(code: number, column: number, row: number): boolean {
  if (column < 0 || column >= GLYPH_COLUMNS || row < 0 || row >= GLYPH_ROWS) return false;
  return ((glyphRow(code, row) >> (GLYPH_COLUMNS - 1 - column)) & 1) === 1;
}
