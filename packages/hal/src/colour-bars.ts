// SMPTE-style 75 % colour bars: which palette colour each pixel of each band has.
import { Colour } from './colour-palette.js';

/** Band boundaries: rows [0, top) 75 % bars, [top, middle) castellations, [middle, height) PLUGE band. */
export function barBands(height: number): readonly [number, number] {
  return [Math.floor((height * 2) / 3), Math.floor((height * 3) / 4)];
}

const TOP = [
  Colour.White75,
  Colour.Yellow75,
  Colour.Cyan75,
  Colour.Green75,
  Colour.Magenta75,
  Colour.Red75,
  Colour.Blue75,
];
const CASTELLATION = [
  Colour.Blue75,
  Colour.Black,
  Colour.Magenta75,
  Colour.Black,
  Colour.Cyan75,
  Colour.Black,
  Colour.White75,
];

/** Band index (0 top, 1 castellations, 2 bottom) of row `y`. */
export function barBand(y: number, height: number): number {
  const [top, middle] = barBands(height);
  return y < top ? 0 : y < middle ? 1 : 2;
}

/**
 * Palette colour of column `x` in band `band` of a `width`-wide frame. The bottom band is
 * −I, 100 % white, +Q, black, then PLUGE (super-black, black, sub-black… in the fifth bar's
 * place: −4 %, 0, +4 %) and black.
 */
export function barColour(x: number, band: number, width: number): number {
  const bar = Math.floor((x * 7) / width);
  if (band === 0) return TOP[bar]!;
  if (band === 1) return CASTELLATION[bar]!;
  const quarter = Math.floor((x * 28) / width);
  if (quarter < 5) return Colour.MinusI;
  if (quarter < 10) return Colour.White100;
  if (quarter < 15) return Colour.PlusQ;
  if (bar === 5) {
    const third = Math.floor((x * 21) / width) - 15;
    return third <= 0 ? Colour.SubBlack : third === 1 ? Colour.Black : Colour.SuperBlack;
  }
  return Colour.Black;
}
