// Colours of the synthetic patterns and their BT.601 limited-range YUV / full-range RGB values.

/**
 * Picture adjustments applied to every palette colour (cheap: once per configuration, never
 * per pixel). Units follow the camera controls: brightness −64…64 (luma code offset), contrast
 * and saturation in percent (100 = unity), hue in degrees, gamma in hundredths (100 = unity).
 */
export interface PictureAdjustments {
  readonly brightness: number;
  readonly contrast: number;
  readonly saturation: number;
  readonly hue: number;
  readonly gamma: number;
}

/** Unity adjustments: the palette is exactly the reference colours. */
export const NEUTRAL_ADJUSTMENTS: PictureAdjustments = Object.freeze({
  brightness: 0,
  contrast: 100,
  saturation: 100,
  hue: 0,
  gamma: 100,
});

/** Palette indices of the named colours; greys follow at {@link GREY_BASE} + level. */
export const Colour = {
  White75: 0,
  Yellow75: 1,
  Cyan75: 2,
  Green75: 3,
  Magenta75: 4,
  Red75: 5,
  Blue75: 6,
  Black: 7,
  White100: 8,
  MinusI: 9,
  PlusQ: 10,
  SubBlack: 11,
  SuperBlack: 12,
  Solid: 13,
} as const;

/** First grey level's index (256 levels, 0 = black, 255 = white, full-range RGB levels). */
export const GREY_BASE = 16;
/** Number of palette entries. */
export const PALETTE_SIZE = GREY_BASE + 256;

/**
 * Reference colours as R'G'B' in [0, 1]. 75 % bars are 0.75; −I and +Q are the SMPTE RP 219
 * values; PLUGE is black − 4 % and + 4 % (luma codes 7 and 25 around black 16).
 */
const NAMED: ReadonlyArray<readonly [number, number, number]> = [
  [0.75, 0.75, 0.75],
  [0.75, 0.75, 0],
  [0, 0.75, 0.75],
  [0, 0.75, 0],
  [0.75, 0, 0.75],
  [0.75, 0, 0],
  [0, 0, 0.75],
  [0, 0, 0],
  [1, 1, 1],
  [0, 0.1294, 0.298],
  [0.1961, 0, 0.4157],
  [-0.04, -0.04, -0.04],
  [0.04, 0.04, 0.04],
];

/** A palette: per-index values for every output component. Frozen after construction. */
export interface Palette {
  readonly y: Uint8Array;
  readonly u: Uint8Array;
  readonly v: Uint8Array;
  readonly r: Uint8Array;
  readonly g: Uint8Array;
  readonly b: Uint8Array;
}

const clamp8 = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/**
 * Builds the palette for the given adjustments and solid colour (R'G'B' 0…255).
 * YUV: BT.601 matrix, limited range (Y 16…235, C 16…240), so 75 % bars give the standard
 * codes (white Y 180, yellow 162/44/142, …). RGB: full range.
 */
export function buildPalette(
  adjustments: PictureAdjustments = NEUTRAL_ADJUSTMENTS,
  solid: readonly [number, number, number] = [191, 191, 191],
): Palette {
  const y = new Uint8Array(PALETTE_SIZE);
  const u = new Uint8Array(PALETTE_SIZE);
  const v = new Uint8Array(PALETTE_SIZE);
  const r = new Uint8Array(PALETTE_SIZE);
  const g = new Uint8Array(PALETTE_SIZE);
  const b = new Uint8Array(PALETTE_SIZE);
  const neutral =
    adjustments.brightness === 0 &&
    adjustments.contrast === 100 &&
    adjustments.saturation === 100 &&
    adjustments.hue === 0 &&
    adjustments.gamma === 100;
  const gammaExp = 100 / adjustments.gamma;
  const c = adjustments.contrast / 100;
  const s = adjustments.saturation / 100;
  const cosH = Math.cos((adjustments.hue * Math.PI) / 180);
  const sinH = Math.sin((adjustments.hue * Math.PI) / 180);
  const set = (i: number, R0: number, G0: number, B0: number): void => {
    let R = R0;
    let G = G0;
    let B = B0;
    if (!neutral && adjustments.gamma !== 100) {
      R = R > 0 ? R ** gammaExp : R;
      G = G > 0 ? G ** gammaExp : G;
      B = B > 0 ? B ** gammaExp : B;
    }
    let ey = 0.299 * R + 0.587 * G + 0.114 * B;
    let pb = (B - ey) / 1.772;
    let pr = (R - ey) / 1.402;
    if (!neutral) {
      ey = ey * c + adjustments.brightness / 219;
      const pb2 = (pb * cosH - pr * sinH) * s;
      const pr2 = (pr * cosH + pb * sinH) * s;
      pb = pb2;
      pr = pr2;
    }
    y[i] = clamp8(16 + 219 * ey);
    u[i] = clamp8(128 + 224 * pb);
    v[i] = clamp8(128 + 224 * pr);
    if (neutral) {
      r[i] = clamp8(R * 255);
      g[i] = clamp8(G * 255);
      b[i] = clamp8(B * 255);
    } else {
      r[i] = clamp8((ey + 1.402 * pr) * 255);
      g[i] = clamp8((ey - 0.344136 * pb - 0.714136 * pr) * 255);
      b[i] = clamp8((ey + 1.772 * pb) * 255);
    }
  };
  NAMED.forEach(([R, G, B], i) => set(i, R, G, B));
  set(Colour.Solid, solid[0] / 255, solid[1] / 255, solid[2] / 255);
  set(14, 0, 0, 0);
  set(15, 0, 0, 0);
  for (let level = 0; level < 256; level++) set(GREY_BASE + level, level / 255, level / 255, level / 255);
  return Object.freeze({ y, u, v, r, g, b });
}
