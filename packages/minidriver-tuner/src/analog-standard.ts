// KS_AnalogVideoStandard bits ↔ hal TV standards, and the video geometry each standard implies.
import {
  TV_STANDARDS,
  isTvStandardId,
  type AnalogVideoStandard as HalStandard,
  type TvStandardId,
} from '@ksemu/hal';

/** KS_AnalogVideoStandard bits (ksmedia.h) of the standards hal models. */
export const AnalogVideoStandard = Object.freeze({
  NTSC_M: 0x00000001,
  PAL_B: 0x00000010,
  PAL_D: 0x00000020,
  PAL_G: 0x00000040,
  PAL_I: 0x00000100,
  SECAM_L: 0x00040000,
});

// KS has no PAL-K bit (D/K systems share KS_AnalogVideo_PAL_D), so hal's PAL-K has no KS name.
const BIT_OF: Readonly<Partial<Record<HalStandard, number>>> = Object.freeze({
  'NTSC-M': AnalogVideoStandard.NTSC_M,
  'PAL-B': AnalogVideoStandard.PAL_B,
  'PAL-D': AnalogVideoStandard.PAL_D,
  'PAL-G': AnalogVideoStandard.PAL_G,
  'PAL-I': AnalogVideoStandard.PAL_I,
  'SECAM-L': AnalogVideoStandard.SECAM_L,
});

/** The KS bit of a hal standard, or `undefined` when KS has none. */
export function ksStandardOf(id: HalStandard): number | undefined {
  return BIT_OF[id];
}

/** The hal standard (one whose picture hal models) of a single KS bit, or `undefined`. */
export function standardOfKs(bit: number): TvStandardId | undefined {
  for (const [id, b] of Object.entries(BIT_OF)) if (b === bit && isTvStandardId(id)) return id;
  return undefined;
}

/** The KS StandardsSupported mask of a list of hal standards. */
export function ksStandardsMask(ids: readonly HalStandard[]): number {
  let mask = 0;
  for (const id of ids) mask |= BIT_OF[id] ?? 0;
  return mask >>> 0;
}

/** Digitised picture of a standard: 720x480 at 30000/1001 or 720x576 at 25 (interval in 100 ns). */
export function pictureOf(id: TvStandardId): {
  width: number;
  height: number;
  frameInterval: bigint;
  lines: number;
} {
  const s = TV_STANDARDS[id];
  return {
    width: s.width,
    height: s.height,
    frameInterval: BigInt(s.frameInterval100ns),
    lines: s.linesPerFrame,
  };
}
