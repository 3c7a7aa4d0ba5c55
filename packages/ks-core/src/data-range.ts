// Data ranges: KS_DATARANGE_VIDEO + KS_VIDEO_STREAM_CONFIG_CAPS-style video ranges (sizes with granularity, interval ranges) and generic ranges.
import { isGuid, type Guid } from './guid.js';
import { FormatType, MediaType } from './known-guids.js';
import type { KsTime } from './ks-time.js';
import { subtypeGeometry, subtypeName } from './video-format.js';

/**
 * The set of video formats a pin can produce for one subtype, as KS_DATARANGE_VIDEO with its
 * KS_VIDEO_STREAM_CONFIG_CAPS: a width range stepping by `widthGranularity`
 * (OutputGranularityX), a height range stepping by `heightGranularity`, and a frame-interval
 * range in 100 ns (MinFrameInterval..MaxFrameInterval), optionally restricted to a discrete list
 * (as UVC frame descriptors give). Build with {@link videoRange}, which validates and freezes.
 */
export interface VideoDataRange {
  readonly kind: 'video';
  readonly majorType: Guid;
  readonly subtype: Guid;
  readonly specifier: Guid;
  readonly bitCount: number;
  readonly minWidth: number;
  readonly maxWidth: number;
  readonly widthGranularity: number;
  readonly minHeight: number;
  readonly maxHeight: number;
  readonly heightGranularity: number;
  readonly minFrameInterval: KsTime;
  readonly maxFrameInterval: KsTime;
  /** When present, only these intervals (sorted ascending, within min..max) are allowed. */
  readonly frameIntervals: readonly KsTime[] | undefined;
  readonly defaultWidth: number;
  readonly defaultHeight: number;
  readonly defaultFrameInterval: KsTime;
  /** Compressed subtypes only: the maximum frame size in bytes. */
  readonly maxImageSize: number | undefined;
}

/** A range that matches by GUIDs only (analog video/audio, opaque streams). */
export interface GenericDataRange {
  readonly kind: 'generic';
  readonly majorType: Guid;
  readonly subtype: Guid;
  readonly specifier: Guid;
  /** Bytes per sample; 0 for pins that carry no frames through ks-core. */
  readonly sampleSize: number;
}

/** Any data range of a pin descriptor. */
export type DataRange = VideoDataRange | GenericDataRange;

/** Input of {@link videoRange}. A single size/interval may be given as `width`/`height`/`frameInterval`. */
export interface VideoRangeInit {
  subtype: Guid;
  majorType?: Guid;
  specifier?: Guid;
  width?: number;
  height?: number;
  minWidth?: number;
  maxWidth?: number;
  widthGranularity?: number;
  minHeight?: number;
  maxHeight?: number;
  heightGranularity?: number;
  frameInterval?: KsTime;
  minFrameInterval?: KsTime;
  maxFrameInterval?: KsTime;
  frameIntervals?: readonly KsTime[];
  defaultWidth?: number;
  defaultHeight?: number;
  defaultFrameInterval?: KsTime;
  maxImageSize?: number;
}

/**
 * Builds a validated, frozen {@link VideoDataRange}.
 * @throws TypeError for an unknown subtype or malformed GUIDs; RangeError for inconsistent
 *   bounds (min > max, granularity not dividing the span, sizes breaking subtype alignment,
 *   defaults outside the range, non-positive intervals).
 */
export function videoRange(init: VideoRangeInit): VideoDataRange {
  if (!isGuid(init.subtype))
    throw new TypeError(`subtype must be a normalised GUID, got ${String(init.subtype)}`);
  const g = subtypeGeometry(init.subtype);
  if (g === undefined) throw new TypeError(`no geometry known for subtype ${subtypeName(init.subtype)}`);
  const name = subtypeName(init.subtype);
  const minWidth = init.minWidth ?? init.width;
  const maxWidth = init.maxWidth ?? init.width ?? minWidth;
  const minHeight = init.minHeight ?? init.height;
  const maxHeight = init.maxHeight ?? init.height ?? minHeight;
  if (
    minWidth === undefined ||
    maxWidth === undefined ||
    minHeight === undefined ||
    maxHeight === undefined
  ) {
    throw new RangeError(`${name} range needs width/height or min/max width and height`);
  }
  const widthGranularity = init.widthGranularity ?? g.widthAlign;
  const heightGranularity = init.heightGranularity ?? g.heightAlign;
  for (const [what, v] of [
    ['minWidth', minWidth],
    ['maxWidth', maxWidth],
    ['minHeight', minHeight],
    ['maxHeight', maxHeight],
    ['widthGranularity', widthGranularity],
    ['heightGranularity', heightGranularity],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`${name} range: ${what} must be a positive integer, got ${v}`);
  }
  if (minWidth > maxWidth || minHeight > maxHeight)
    throw new RangeError(`${name} range: min size exceeds max size`);
  if ((maxWidth - minWidth) % widthGranularity !== 0 || (maxHeight - minHeight) % heightGranularity !== 0) {
    throw new RangeError(`${name} range: granularity must divide max - min`);
  }
  if (
    minWidth % g.widthAlign !== 0 ||
    widthGranularity % g.widthAlign !== 0 ||
    minHeight % g.heightAlign !== 0 ||
    heightGranularity % g.heightAlign !== 0
  ) {
    throw new RangeError(
      `${name} range: sizes and granularity must keep width a multiple of ${g.widthAlign} and height of ${g.heightAlign}`,
    );
  }
  let intervals: KsTime[] | undefined;
  if (init.frameIntervals !== undefined) {
    if (init.frameIntervals.length === 0)
      throw new RangeError(`${name} range: frameIntervals must not be empty`);
    intervals = [...init.frameIntervals].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  const minFrameInterval = init.minFrameInterval ?? intervals?.[0] ?? init.frameInterval;
  const maxFrameInterval =
    init.maxFrameInterval ?? intervals?.[intervals.length - 1] ?? init.frameInterval ?? minFrameInterval;
  if (minFrameInterval === undefined || maxFrameInterval === undefined) {
    throw new RangeError(`${name} range needs frameInterval, min/maxFrameInterval or frameIntervals`);
  }
  for (const t of [minFrameInterval, maxFrameInterval, ...(intervals ?? [])]) {
    if (typeof t !== 'bigint' || t <= 0n)
      throw new RangeError(`${name} range: frame intervals must be positive KsTime values`);
  }
  if (minFrameInterval > maxFrameInterval)
    throw new RangeError(`${name} range: minFrameInterval exceeds maxFrameInterval`);
  if (intervals !== undefined && intervals.some((t) => t < minFrameInterval || t > maxFrameInterval)) {
    throw new RangeError(`${name} range: frameIntervals must lie within min..maxFrameInterval`);
  }
  const defaultWidth = init.defaultWidth ?? maxWidth;
  const defaultHeight = init.defaultHeight ?? maxHeight;
  const defaultFrameInterval = init.defaultFrameInterval ?? init.frameInterval ?? minFrameInterval;
  if (
    !onGrid(defaultWidth, minWidth, maxWidth, widthGranularity) ||
    !onGrid(defaultHeight, minHeight, maxHeight, heightGranularity)
  ) {
    throw new RangeError(`${name} range: default size ${defaultWidth}x${defaultHeight} is not in the range`);
  }
  if (
    defaultFrameInterval < minFrameInterval ||
    defaultFrameInterval > maxFrameInterval ||
    (intervals !== undefined && !intervals.includes(defaultFrameInterval))
  ) {
    throw new RangeError(`${name} range: default frame interval ${defaultFrameInterval} is not in the range`);
  }
  if (init.maxImageSize !== undefined) {
    if (!g.compressed) throw new TypeError(`${name} range: maxImageSize applies only to compressed subtypes`);
    if (!Number.isInteger(init.maxImageSize) || init.maxImageSize <= 0)
      throw new RangeError(`${name} range: maxImageSize must be a positive integer`);
  }
  return Object.freeze({
    kind: 'video',
    majorType: init.majorType ?? MediaType.Video,
    subtype: init.subtype,
    specifier: init.specifier ?? FormatType.VideoInfo,
    bitCount: g.bitCount,
    minWidth,
    maxWidth,
    widthGranularity,
    minHeight,
    maxHeight,
    heightGranularity,
    minFrameInterval,
    maxFrameInterval,
    frameIntervals: intervals === undefined ? undefined : Object.freeze(intervals),
    defaultWidth,
    defaultHeight,
    defaultFrameInterval,
    maxImageSize: init.maxImageSize,
  });
}

/** Builds a frozen {@link GenericDataRange}. @throws TypeError for malformed GUIDs. */
export function genericRange(init: {
  majorType: Guid;
  subtype: Guid;
  specifier?: Guid;
  sampleSize?: number;
}): GenericDataRange {
  for (const g of [init.majorType, init.subtype, init.specifier ?? FormatType.None]) {
    if (!isGuid(g)) throw new TypeError(`data range GUIDs must be normalised, got ${String(g)}`);
  }
  const sampleSize = init.sampleSize ?? 0;
  if (!Number.isInteger(sampleSize) || sampleSize < 0)
    throw new RangeError(`sampleSize must be a non-negative integer`);
  return Object.freeze({
    kind: 'generic',
    majorType: init.majorType,
    subtype: init.subtype,
    specifier: init.specifier ?? FormatType.None,
    sampleSize,
  });
}

/** True when `v` is in [min, max] on the grid `min + k × step`. */
export function onGrid(v: number, min: number, max: number, step: number): boolean {
  return Number.isInteger(v) && v >= min && v <= max && (v - min) % step === 0;
}
