// The synthetic tuner's picture: per-channel test card with the channel number burned in big, or seeded snow without lock.
import { CELL_COLUMNS, GLYPH_ROWS, glyphPixel } from './bitmap-font.js';
import { buildPalette, Colour, type Palette } from './colour-palette.js';
import { PatternRenderer } from './pattern-renderer.js';
import { imageLayout, type Fourcc, type ImageLayout, type VideoFormat } from './pixel-format.js';
import { encodePlaneSegment, isHalfHeightPlane, planeByteOffset } from './row-encoder.js';

/** Input tag of a frame without a locked carrier: the picture is snow. */
export const NO_SIGNAL_TAG = 0;

/** Input tag of a frame while channel `ordinal` (index into the tuner's channel list) is locked. */
export function channelTag(ordinal: number): number {
  return ordinal + 1;
}

/** The digits burned into a channel's picture: the digits of its name, else its ordinal + 1. */
export function channelDigits(name: string, ordinal: number): number[] {
  const digits = name.replace(/\D/g, '');
  const text = digits.length > 0 ? digits : String(ordinal + 1);
  return [...text.slice(-4)].map((c) => c.charCodeAt(0) - 48);
}

/** Where the channel-number plate sits in a frame (all even). */
export interface ChannelPlateGeometry {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly scale: number;
}

/** Plate geometry for `digitCount` digits in a width x height frame; a pure function. */
export function channelPlateGeometry(
  width: number,
  height: number,
  digitCount: number,
): ChannelPlateGeometry {
  const scale = Math.max(2, Math.floor(height / 48));
  const even = (v: number): number => Math.max(0, v & ~1);
  const w = even(Math.min(width, (digitCount * CELL_COLUMNS + 1) * scale));
  const h = even(Math.min(height, (GLYPH_ROWS + 2) * scale));
  return Object.freeze({
    x: even((width - w) / 2),
    y: even(Math.min(height - h, Math.floor((height * 3) / 5))),
    width: w,
    height: h,
    scale,
  });
}

/**
 * Draws tuner frames. Tag {@link NO_SIGNAL_TAG}: grey snow, a new field per frame index
 * (the camera's seeded noise pattern). Tag `channelTag(i)`: the moving-box test card with the
 * frame counter, plus channel i's number in large white digits on a black plate. Output is a
 * pure function of (channels, seed, format, frame index, tag); nothing is allocated per frame.
 */
export class TunerPicture {
  readonly frameBytes: number;
  private readonly layout: ImageLayout;
  private readonly fourcc: Fourcc;
  private readonly snow: PatternRenderer;
  private readonly card: PatternRenderer;
  private readonly palette: Palette;
  private readonly digits: readonly (readonly number[])[];
  private readonly plates: readonly ChannelPlateGeometry[];
  private readonly indices: Uint16Array;

  /** @throws TypeError/RangeError for formats the pattern renderer rejects. */
  constructor(channelNames: readonly string[], seed: number, format: VideoFormat) {
    this.layout = imageLayout(format.fourcc, format.width, format.height);
    this.fourcc = format.fourcc;
    this.frameBytes = this.layout.imageSize;
    this.snow = new PatternRenderer({ pattern: 'noise', seed, overlay: false }, format);
    this.card = new PatternRenderer({ pattern: 'moving-box', overlay: true }, format);
    this.palette = buildPalette();
    this.digits = channelNames.map((name, i) => channelDigits(name, i));
    this.plates = this.digits.map((d) => channelPlateGeometry(format.width, format.height, d.length));
    this.indices = new Uint16Array(format.width + 2);
  }

  /**
   * Writes the frame for `tag` at `target[offset…]` (exactly `frameBytes`). `previous`: the
   * frame index these bytes already hold from this picture with the same tag, or −1; snow is
   * always drawn whole (every pixel changes), the test card only where it changed.
   */
  paint(target: Uint8Array, offset: number, frameIndex: number, tag: number, previous = -1): void {
    const ordinal = tag - 1;
    const plate = this.plates[ordinal];
    if (plate === undefined) {
      this.snow.render(target, offset, this.frameBytes, frameIndex, -1);
      return;
    }
    // The card renderer redraws its own box and overlay; the number plate is drawn last, whole,
    // so whatever the box did to it is covered again.
    this.card.render(target, offset, this.frameBytes, frameIndex, previous);
    this.drawPlate(target, offset, plate, this.digits[ordinal]!);
  }

  private drawPlate(
    target: Uint8Array,
    offset: number,
    plate: ChannelPlateGeometry,
    digits: readonly number[],
  ): void {
    const { x, y, width, height, scale } = plate;
    const indices = this.indices;
    const planes = this.layout.planes;
    for (let py = 0; py < height; py++) {
      const fy = Math.floor(py / scale) - 1;
      for (let px = 0; px < width; px++) {
        const fx = Math.floor(px / scale) - 1;
        const cell = Math.floor(fx / CELL_COLUMNS);
        const lit =
          fx >= 0 &&
          fy >= 0 &&
          fy < GLYPH_ROWS &&
          cell < digits.length &&
          glyphPixel(digits[cell]!, fx % CELL_COLUMNS, fy);
        indices[px] = lit ? Colour.White100 : Colour.Black;
      }
      const row = y + py;
      for (let p = 0; p < planes.length; p++) {
        const plane = planes[p]!;
        const half = isHalfHeightPlane(this.fourcc, p);
        if (half && (row & 1) !== 0) continue;
        const at =
          offset + plane.offset + (half ? row >> 1 : row) * plane.stride + planeByteOffset(this.fourcc, p, x);
        encodePlaneSegment(this.fourcc, this.palette, p, indices, 0, width, target, at);
      }
    }
  }
}
