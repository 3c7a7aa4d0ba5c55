// KS data ranges built from HAL video capabilities (one KS_DATARANGE_VIDEO per format × size, discrete intervals), and KS ↔ HAL format conversion.
import {
  imageLayout,
  type Fourcc,
  type StillCapability,
  type VideoFormat as HalVideoFormat,
  type VideoFormatCapability,
} from '@ksemu/hal';
import {
  MediaSubtype,
  imageSize,
  subtypeName,
  videoRange,
  type Guid,
  type KsTime,
  type VideoDataRange,
  type VideoFormat,
} from '@ksemu/ks-core';

const SUBTYPE_OF: Readonly<Record<Fourcc, Guid>> = Object.freeze({
  YUY2: MediaSubtype.YUY2,
  UYVY: MediaSubtype.UYVY,
  NV12: MediaSubtype.NV12,
  I420: MediaSubtype.I420,
  RGB24: MediaSubtype.RGB24,
  // hal's BGRA is Windows' MEDIASUBTYPE_ARGB32 memory layout (B, G, R, A bytes).
  BGRA: MediaSubtype.ARGB32,
  GRAY8: MediaSubtype.Y800,
  MJPG: MediaSubtype.MJPG,
});

const FOURCC_OF: ReadonlyMap<Guid, Fourcc> = new Map(
  Object.entries(SUBTYPE_OF).map(([cc, g]) => [g, cc as Fourcc]),
);

/** MEDIASUBTYPE of a HAL FOURCC. */
export function subtypeOfFourcc(fourcc: Fourcc): Guid {
  return SUBTYPE_OF[fourcc];
}

/** HAL FOURCC of a MEDIASUBTYPE, or `undefined` when HAL devices cannot produce it. */
export function fourccOfSubtype(subtype: Guid): Fourcc | undefined {
  return FOURCC_OF.get(subtype);
}

/**
 * Whether ks-core and hal agree on the byte size of a raw frame. They differ only where hal pads
 * rows (RGB24 rows to 4 bytes at widths that are not multiples of 4); such sizes are left out
 * rather than give the hardware a buffer of the wrong size.
 */
function sizesAgree(fourcc: Fourcc, width: number, height: number): boolean {
  const layout = imageLayout(fourcc, width, height);
  if (layout.compressed) return true;
  return imageSize(SUBTYPE_OF[fourcc], width, height) === layout.imageSize;
}

/**
 * One video data range per HAL format × frame size, with the size's discrete frame intervals
 * (as usbvideo.sys builds one KS_DATARANGE_VIDEO per UVC frame descriptor). Compressed formats
 * carry hal's worst-case frame size as `maxImageSize`, so buffers always hold a whole frame.
 */
export function videoRangesFor(formats: readonly VideoFormatCapability[]): VideoDataRange[] {
  const out: VideoDataRange[] = [];
  for (const f of formats) {
    const subtype = SUBTYPE_OF[f.fourcc];
    for (const size of f.sizes) {
      if (!sizesAgree(f.fourcc, size.width, size.height)) continue;
      const layout = imageLayout(f.fourcc, size.width, size.height);
      out.push(
        videoRange({
          subtype,
          width: size.width,
          height: size.height,
          frameIntervals: size.intervals as readonly KsTime[],
          defaultFrameInterval: size.defaultInterval as KsTime,
          ...(layout.compressed ? { maxImageSize: layout.imageSize } : {}),
        }),
      );
    }
  }
  return out;
}

/**
 * Data ranges of a still pin: one per still format × size. Stills have no frame rate; the
 * nominal one-second interval only satisfies KS_DATARANGE_VIDEO's required fields.
 */
export function stillRangesFor(stills: readonly StillCapability[]): VideoDataRange[] {
  const out: VideoDataRange[] = [];
  for (const s of stills) {
    for (const size of s.sizes) {
      if (!sizesAgree(s.fourcc, size.width, size.height)) continue;
      const layout = imageLayout(s.fourcc, size.width, size.height);
      out.push(
        videoRange({
          subtype: SUBTYPE_OF[s.fourcc],
          width: size.width,
          height: size.height,
          frameInterval: STILL_INTERVAL,
          ...(layout.compressed ? { maxImageSize: layout.imageSize } : {}),
        }),
      );
    }
  }
  return out;
}

/** Nominal frame interval of still ranges: one second. */
export const STILL_INTERVAL = 10_000_000n as KsTime;

/**
 * The HAL format for a negotiated KS format.
 * @throws TypeError for a subtype HAL devices cannot produce (a descriptor bug: ranges only
 *   contain HAL subtypes).
 */
export function halFormatOf(format: VideoFormat): HalVideoFormat {
  const fourcc = FOURCC_OF.get(format.subtype);
  if (fourcc === undefined) throw new TypeError(`no HAL FOURCC for subtype ${subtypeName(format.subtype)}`);
  return Object.freeze({
    fourcc,
    width: format.width,
    height: format.height,
    interval: format.frameInterval as bigint,
  });
}

/** Largest frame (bytes) any of `ranges` can produce: the allocator framing's maximum. */
export function largestFrame(ranges: readonly VideoDataRange[]): number {
  let max = 0;
  for (const r of ranges) {
    const size = r.maxImageSize ?? imageSize(r.subtype, r.maxWidth, r.maxHeight);
    if (size > max) max = size;
  }
  return max;
}
