// Pure format negotiation: intersect a data range with a (partial) requested format → valid | adjusted | invalid, never silently.
import { isGuid, type Guid } from './guid.js';
import { knownGuids } from './known-guids.js';
import type { KsTime } from './ks-time.js';
import type { DataRange, GenericDataRange, VideoDataRange } from './data-range.js';
import {
  subtypeName,
  videoFormat,
  type DataFormat,
  type GenericFormat,
  type VideoFormat,
} from './video-format.js';

/**
 * What a caller asks for. Every field is optional: missing fields are filled from the range's
 * defaults (that is not an adjustment); given fields are honoured exactly or reported as adjusted.
 */
export interface FormatRequest {
  readonly majorType?: Guid;
  readonly subtype?: Guid;
  readonly specifier?: Guid;
  readonly width?: number;
  readonly height?: number;
  readonly frameInterval?: KsTime;
  readonly bitCount?: number;
  readonly imageSize?: number;
  readonly sampleSize?: number;
}

/** One field that could not be honoured as requested. */
export interface Adjustment {
  readonly field: 'width' | 'height' | 'frameInterval' | 'imageSize' | 'sampleSize';
  readonly requested: number | bigint;
  readonly actual: number | bigint;
}

/** Result of an intersection. `adjusted` lists every change; `invalid` says why. */
export type IntersectionResult<F extends DataFormat = DataFormat> =
  | {
      readonly status: 'valid';
      readonly format: F;
      readonly adjustments: readonly [];
      readonly reason?: undefined;
    }
  | {
      readonly status: 'adjusted';
      readonly format: F;
      readonly adjustments: readonly Adjustment[];
      readonly reason: string;
    }
  | {
      readonly status: 'invalid';
      readonly format?: undefined;
      readonly adjustments: readonly [];
      readonly reason: string;
    };

const NONE: readonly [] = Object.freeze([]) as readonly [];

function invalid(reason: string): { status: 'invalid'; adjustments: readonly []; reason: string } {
  return Object.freeze({ status: 'invalid', adjustments: NONE, reason });
}

/**
 * Shows a caller-supplied value in a reason string without ever throwing: `String(x)` throws for
 * objects whose `toString` is not callable (`{ toString: {} }`) or for symbols, and intersection
 * promises a result, not an exception, for any request.
 */
function shown(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function guidMismatch(range: DataRange, request: FormatRequest): string | undefined {
  for (const field of ['majorType', 'subtype', 'specifier'] as const) {
    const want = request[field];
    if (want !== undefined && !isGuid(want)) return `${field} ${shown(want)} is not a normalised GUID`;
    if (want !== undefined && want !== range[field]) {
      const show = field === 'subtype' ? subtypeName : (g: Guid) => knownGuids.describe(g);
      return `${field} ${show(want)} does not match the range's ${show(range[field])}`;
    }
  }
  return undefined;
}

/** Nearest value on the grid `min + k × step` clamped into [min, max]; ties go up. */
function snap(v: number, min: number, max: number, step: number): number {
  if (v <= min) return min;
  if (v >= max) return max;
  const k = Math.round((v - min) / step);
  return Math.min(max, min + k * step);
}

function snapInterval(v: KsTime, range: VideoDataRange): KsTime {
  if (range.frameIntervals !== undefined) {
    let best = range.frameIntervals[0]!;
    for (const t of range.frameIntervals) {
      const d = t > v ? t - v : v - t;
      const bd = best > v ? best - v : v - best;
      // Ties prefer the shorter interval (the higher frame rate).
      if (d < bd || (d === bd && t < best)) best = t;
    }
    return best;
  }
  return v < range.minFrameInterval
    ? range.minFrameInterval
    : v > range.maxFrameInterval
      ? range.maxFrameInterval
      : v;
}

/**
 * Intersects one video range with a request. Pure; never throws for well-typed input.
 * - GUID or bit-count mismatch → `invalid` (a different format, not an approximation).
 * - Width/height/interval outside the range or off its grid → the nearest allowed value, `adjusted`.
 * - A requested image size different from the computed one → `adjusted` (sizes follow geometry).
 */
export function intersectVideo(
  range: VideoDataRange,
  request: FormatRequest,
): IntersectionResult<VideoFormat> {
  const mismatch = guidMismatch(range, request);
  if (mismatch !== undefined) return invalid(mismatch);
  if (request.bitCount !== undefined && request.bitCount !== range.bitCount) {
    return invalid(
      `bit count ${shown(request.bitCount)} does not match ${subtypeName(range.subtype)}'s ${range.bitCount}`,
    );
  }
  for (const field of ['width', 'height'] as const) {
    const v = request[field];
    if (v !== undefined && (!Number.isInteger(v) || v <= 0))
      return invalid(`${field} must be a positive integer, got ${shown(v)}`);
  }
  if (
    request.frameInterval !== undefined &&
    (typeof request.frameInterval !== 'bigint' || request.frameInterval <= 0n)
  ) {
    return invalid(`frameInterval must be a positive KsTime, got ${shown(request.frameInterval)}`);
  }
  const adjustments: Adjustment[] = [];
  const width =
    request.width === undefined
      ? range.defaultWidth
      : snap(request.width, range.minWidth, range.maxWidth, range.widthGranularity);
  if (request.width !== undefined && width !== request.width)
    adjustments.push({ field: 'width', requested: request.width, actual: width });
  const height =
    request.height === undefined
      ? range.defaultHeight
      : snap(request.height, range.minHeight, range.maxHeight, range.heightGranularity);
  if (request.height !== undefined && height !== request.height)
    adjustments.push({ field: 'height', requested: request.height, actual: height });
  const frameInterval =
    request.frameInterval === undefined
      ? range.defaultFrameInterval
      : snapInterval(request.frameInterval, range);
  if (request.frameInterval !== undefined && frameInterval !== request.frameInterval) {
    adjustments.push({ field: 'frameInterval', requested: request.frameInterval, actual: frameInterval });
  }
  const format = videoFormat({
    subtype: range.subtype,
    majorType: range.majorType,
    specifier: range.specifier,
    width,
    height,
    frameInterval,
    ...(range.maxImageSize === undefined ? {} : { maxImageSize: range.maxImageSize }),
  });
  if (request.imageSize !== undefined && request.imageSize !== format.imageSize) {
    adjustments.push({ field: 'imageSize', requested: request.imageSize, actual: format.imageSize });
  }
  if (adjustments.length === 0) return Object.freeze({ status: 'valid', format, adjustments: NONE });
  const reason = adjustments.map((a) => `${a.field} ${a.requested} → ${a.actual}`).join(', ');
  return Object.freeze({ status: 'adjusted', format, adjustments: Object.freeze(adjustments), reason });
}

/** Intersects a generic range: GUIDs must match; a differing sample size is adjusted. */
export function intersectGeneric(
  range: GenericDataRange,
  request: FormatRequest,
): IntersectionResult<GenericFormat> {
  const mismatch = guidMismatch(range, request);
  if (mismatch !== undefined) return invalid(mismatch);
  const format: GenericFormat = Object.freeze({
    kind: 'generic',
    majorType: range.majorType,
    subtype: range.subtype,
    specifier: range.specifier,
    sampleSize: range.sampleSize,
  });
  if (request.sampleSize !== undefined && request.sampleSize !== range.sampleSize) {
    const adjustments = Object.freeze([
      { field: 'sampleSize', requested: request.sampleSize, actual: range.sampleSize } as const,
    ]);
    return Object.freeze({
      status: 'adjusted',
      format,
      adjustments,
      reason: `sampleSize ${shown(request.sampleSize)} → ${range.sampleSize}`,
    });
  }
  return Object.freeze({ status: 'valid', format, adjustments: NONE });
}

/** Intersects any data range with a request (see {@link intersectVideo}). */
export function intersect(range: DataRange, request: FormatRequest): IntersectionResult {
  return range.kind === 'video' ? intersectVideo(range, request) : intersectGeneric(range, request);
}

function cost(result: IntersectionResult): number {
  let c = 0;
  for (const a of result.adjustments) {
    const req = Number(a.requested);
    c += Math.abs(Number(a.actual) - req) / Math.max(1, Math.abs(req));
  }
  return c;
}

/**
 * Intersects a request with a list of ranges (a pin's data ranges): the first `valid` result
 * wins; otherwise the `adjusted` result with the smallest relative change (earlier ranges win
 * ties); otherwise `invalid` with every range's reason.
 */
export function intersectRanges(ranges: readonly DataRange[], request: FormatRequest): IntersectionResult {
  let best: IntersectionResult | undefined;
  const reasons: string[] = [];
  for (const range of ranges) {
    const r = intersect(range, request);
    if (r.status === 'valid') return r;
    if (r.status === 'adjusted') {
      if (best === undefined || cost(r) < cost(best)) best = r;
    } else reasons.push(r.reason);
  }
  if (best !== undefined) return best;
  return invalid(
    ranges.length === 0
      ? 'the pin has no data ranges'
      : `no data range matches: ${[...new Set(reasons)].join('; ')}`,
  );
}

/** The request that asks for exactly `format` (for re-validating a format against ranges). */
export function requestOf(format: DataFormat): FormatRequest {
  if (format.kind === 'generic') {
    return {
      majorType: format.majorType,
      subtype: format.subtype,
      specifier: format.specifier,
      sampleSize: format.sampleSize,
    };
  }
  return {
    majorType: format.majorType,
    subtype: format.subtype,
    specifier: format.specifier,
    width: format.width,
    height: format.height,
    frameInterval: format.frameInterval,
    bitCount: format.bitCount,
    imageSize: format.imageSize,
  };
}
