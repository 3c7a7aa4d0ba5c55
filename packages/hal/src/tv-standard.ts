// Analog TV standards (NTSC-M, PAL-B/G/I/D/K, SECAM-L): the timing and RF facts a tuner and capture path need.
import type { AnalogVideoStandard } from './hal-device.js';

/** The analog standards whose timing and RF facts ksemu models (a subset of hal's AnalogVideoStandard). */
export type TvStandardId = Extract<
  AnalogVideoStandard,
  'NTSC-M' | 'PAL-B' | 'PAL-G' | 'PAL-I' | 'PAL-D' | 'PAL-K' | 'SECAM-L'
>;

/**
 * Facts about one analog standard (ITU-R BT.470 / BT.1700). Frozen; `frameRate` is exact
 * (`numerator / denominator` frames per second) so frame intervals never accumulate rounding.
 */
export interface TvStandard {
  readonly id: TvStandardId;
  readonly colour: 'NTSC' | 'PAL' | 'SECAM';
  /** Total scan lines per frame (525 or 625). */
  readonly linesPerFrame: 525 | 625;
  /** Field rate as an exact fraction (60000/1001 or 50/1). */
  readonly fieldRate: { readonly numerator: number; readonly denominator: number };
  /** Frame rate as an exact fraction (30000/1001 or 25/1). */
  readonly frameRate: { readonly numerator: number; readonly denominator: number };
  /** Horizontal line rate in Hz (15734.26… for 525/59.94, 15625 for 625/50). */
  readonly lineRateHz: number;
  /** Digitised active picture (BT.601 sampling): 720x480 or 720x576. */
  readonly width: 720;
  readonly height: 480 | 576;
  /** RF channel bandwidth in Hz (6, 7 or 8 MHz). */
  readonly channelBandwidthHz: number;
  /** Sound carrier minus vision carrier, Hz (positive; SECAM-L uses AM sound at +6.5 MHz). */
  readonly soundCarrierOffsetHz: number;
  /** Vision modulation polarity: every system here is negative except SECAM-L. */
  readonly visionModulation: 'negative' | 'positive';
  /** Frame interval in 100 ns units, rounded to the nearest unit (333667 for NTSC, 400000 for 625/50). */
  readonly frameInterval100ns: number;
}

const NTSC_FIELDS = Object.freeze({ numerator: 60000, denominator: 1001 });
const NTSC_FRAMES = Object.freeze({ numerator: 30000, denominator: 1001 });
const PAL_FIELDS = Object.freeze({ numerator: 50, denominator: 1 });
const PAL_FRAMES = Object.freeze({ numerator: 25, denominator: 1 });

function system625(
  id: TvStandardId,
  colour: 'PAL' | 'SECAM',
  bandwidthMHz: number,
  soundOffsetMHz: number,
  visionModulation: 'negative' | 'positive',
): TvStandard {
  return Object.freeze({
    id,
    colour,
    linesPerFrame: 625,
    fieldRate: PAL_FIELDS,
    frameRate: PAL_FRAMES,
    lineRateHz: 15625,
    width: 720,
    height: 576,
    channelBandwidthHz: bandwidthMHz * 1_000_000,
    soundCarrierOffsetHz: soundOffsetMHz * 1_000_000,
    visionModulation,
    frameInterval100ns: 400_000,
  });
}

/** Every standard ksemu knows, keyed by id. Frozen. */
export const TV_STANDARDS: Readonly<Record<TvStandardId, TvStandard>> = Object.freeze({
  'NTSC-M': Object.freeze({
    id: 'NTSC-M',
    colour: 'NTSC',
    linesPerFrame: 525,
    fieldRate: NTSC_FIELDS,
    frameRate: NTSC_FRAMES,
    // 4.5 MHz / 286: the line rate was tied to the sound intercarrier when colour was added.
    lineRateHz: 4_500_000 / 286,
    width: 720,
    height: 480,
    channelBandwidthHz: 6_000_000,
    soundCarrierOffsetHz: 4_500_000,
    visionModulation: 'negative',
    frameInterval100ns: 333_667,
  }),
  'PAL-B': system625('PAL-B', 'PAL', 7, 5.5, 'negative'),
  'PAL-G': system625('PAL-G', 'PAL', 8, 5.5, 'negative'),
  'PAL-I': system625('PAL-I', 'PAL', 8, 6.0, 'negative'),
  'PAL-D': system625('PAL-D', 'PAL', 8, 6.5, 'negative'),
  'PAL-K': system625('PAL-K', 'PAL', 8, 6.5, 'negative'),
  'SECAM-L': system625('SECAM-L', 'SECAM', 8, 6.5, 'positive'),
});

/** All standard ids in a stable order. */
export const TV_STANDARD_IDS: readonly TvStandardId[] = Object.freeze(
  Object.keys(TV_STANDARDS) as TvStandardId[],
);

/** Narrows an arbitrary string to a known standard id. */
export function isTvStandardId(value: unknown): value is TvStandardId {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TV_STANDARDS, value);
}

/**
 * Looks up a standard.
 * @throws RangeError when `id` is not a standard ksemu knows (a device lacking a *known* standard
 *   is a different error: HalError Unsupported, raised by the device).
 */
export function tvStandard(id: string): TvStandard {
  if (!isTvStandardId(id)) {
    throw new RangeError(`unknown TV standard '${id}' (known: ${TV_STANDARD_IDS.join(', ')})`);
  }
  return TV_STANDARDS[id];
}
