// Video formats (KS_VIDEOINFOHEADER essentials) and subtype geometry: bits per pixel, alignment and image size per subtype.
import { fourccOf, isGuid, type Guid } from './guid.js';
import { FormatType, MediaSubtype, MediaType, knownGuids } from './known-guids.js';
import { rateFromFrameInterval, type KsTime } from './ks-time.js';

/**
 * One fixed video format, as a KS_DATAFORMAT_VIDEOINFOHEADER carries it. Immutable.
 * Planes are tightly packed (stride = width × bytes per pixel of the plane), which is what UVC
 * delivers and what the HAL renders.
 */
export interface VideoFormat {
  readonly kind: 'video';
  /** MEDIATYPE_Video. */
  readonly majorType: Guid;
  /** MEDIASUBTYPE_*, e.g. `MediaSubtype.YUY2`. */
  readonly subtype: Guid;
  /** FORMAT_VideoInfo or FORMAT_VideoInfo2. */
  readonly specifier: Guid;
  readonly width: number;
  readonly height: number;
  /** AvgTimePerFrame, 100 ns. */
  readonly frameInterval: KsTime;
  /** biBitCount: bits per pixel (nominal for compressed subtypes). */
  readonly bitCount: number;
  /** biSizeImage: bytes of one frame (the maximum for compressed subtypes). */
  readonly imageSize: number;
  /** True for compressed subtypes (MJPG, H264): frames use up to `imageSize` bytes. */
  readonly compressed: boolean;
}

/** A non-video stream format (analog video/audio pins of tuner filters, opaque streams). */
export interface GenericFormat {
  readonly kind: 'generic';
  readonly majorType: Guid;
  readonly subtype: Guid;
  readonly specifier: Guid;
  /** Bytes per sample (frame); 0 when the pin does not stream through ks-core (e.g. an analog medium). */
  readonly sampleSize: number;
}

/** Any negotiated pin format. */
export type DataFormat = VideoFormat | GenericFormat;

/** How frames of a subtype are laid out. */
export interface SubtypeGeometry {
  readonly name: string;
  /** Nominal bits per pixel (biBitCount). */
  readonly bitCount: number;
  /** Whether frames are compressed (size varies up to a maximum). */
  readonly compressed: boolean;
  /** Width must be a multiple of this (2 for 4:2:2 and 4:2:0 chroma subsampling). */
  readonly widthAlign: number;
  /** Height must be a multiple of this (2 for 4:2:0). */
  readonly heightAlign: number;
  /** Bytes of one frame of `width × height` (the maximum for compressed subtypes). */
  imageSize(width: number, height: number): number;
}

function packed(name: string, bitCount: number, widthAlign = 1): SubtypeGeometry {
  return Object.freeze({
    name,
    bitCount,
    compressed: false,
    widthAlign,
    heightAlign: 1,
    imageSize: (w: number, h: number) => ((w * bitCount) / 8) * h,
  });
}

function planar420(name: string): SubtypeGeometry {
  return Object.freeze({
    name,
    bitCount: 12,
    compressed: false,
    widthAlign: 2,
    heightAlign: 2,
    // Full-size luma plus two quarter-size chroma planes (or one interleaved half-size plane).
    imageSize: (w: number, h: number) => w * h + 2 * ((w / 2) * (h / 2)),
  });
}

function compressed(name: string): SubtypeGeometry {
  return Object.freeze({
    name,
    bitCount: 16,
    compressed: true,
    widthAlign: 1,
    heightAlign: 1,
    // Worst case bound used when a range gives no explicit maximum (UVC dwMaxVideoFrameBufferSize is typically this).
    imageSize: (w: number, h: number) => w * h * 2,
  });
}

const GEOMETRY: ReadonlyMap<Guid, SubtypeGeometry> = new Map<Guid, SubtypeGeometry>([
  [MediaSubtype.YUY2, packed('YUY2', 16, 2)],
  [MediaSubtype.UYVY, packed('UYVY', 16, 2)],
  [MediaSubtype.YVYU, packed('YVYU', 16, 2)],
  [MediaSubtype.NV12, planar420('NV12')],
  [MediaSubtype.I420, planar420('I420')],
  [MediaSubtype.IYUV, planar420('IYUV')],
  [MediaSubtype.YV12, planar420('YV12')],
  [MediaSubtype.RGB24, packed('RGB24', 24)],
  [MediaSubtype.RGB32, packed('RGB32', 32)],
  [MediaSubtype.ARGB32, packed('BGRA', 32)],
  [MediaSubtype.RGB565, packed('RGB565', 16)],
  [MediaSubtype.RGB555, packed('RGB555', 16)],
  [MediaSubtype.Y800, packed('GRAY8', 8)],
  [MediaSubtype.MJPG, compressed('MJPG')],
  [MediaSubtype.H264, compressed('H264')],
]);

/** Geometry of a known video subtype, or `undefined`. */
export function subtypeGeometry(subtype: Guid): SubtypeGeometry | undefined {
  return GEOMETRY.get(subtype);
}

/** Short display name of a subtype: geometry name, FOURCC, registry name or the GUID. */
export function subtypeName(subtype: Guid): string {
  return GEOMETRY.get(subtype)?.name ?? fourccOf(subtype) ?? knownGuids.nameOf(subtype) ?? subtype;
}

/**
 * Bytes of one frame of `subtype` at `width × height`.
 * @param maxCompressedSize for compressed subtypes: the maximum frame size to use instead of the
 *   built-in bound.
 * @throws TypeError for an unknown subtype; RangeError for sizes that break the subtype's alignment.
 */
export function imageSize(subtype: Guid, width: number, height: number, maxCompressedSize?: number): number {
  const g = GEOMETRY.get(subtype);
  if (g === undefined) throw new TypeError(`no geometry known for subtype ${subtypeName(subtype)}`);
  checkDimensions(g, width, height);
  if (g.compressed && maxCompressedSize !== undefined) return maxCompressedSize;
  return g.imageSize(width, height);
}

function checkDimensions(g: SubtypeGeometry, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`frame size must be positive integers, got ${width}x${height}`);
  }
  if (width % g.widthAlign !== 0 || height % g.heightAlign !== 0) {
    throw new RangeError(
      `${g.name} needs width a multiple of ${g.widthAlign} and height a multiple of ${g.heightAlign}, got ${width}x${height}`,
    );
  }
}

/** Fields of {@link videoFormat}; GUIDs default to MEDIATYPE_Video / FORMAT_VideoInfo. */
export interface VideoFormatInit {
  subtype: Guid;
  width: number;
  height: number;
  frameInterval: KsTime;
  majorType?: Guid;
  specifier?: Guid;
  /** Only for compressed subtypes: the maximum frame size. */
  maxImageSize?: number;
}

/**
 * Builds a frozen, self-consistent {@link VideoFormat}: bit count and image size come from the
 * subtype geometry, never from the caller, so they cannot disagree.
 * @throws TypeError for unknown subtypes or malformed GUIDs; RangeError for bad sizes/intervals.
 */
export function videoFormat(init: VideoFormatInit): VideoFormat {
  if (!isGuid(init.subtype))
    throw new TypeError(`subtype must be a normalised GUID, got ${String(init.subtype)}`);
  const g = GEOMETRY.get(init.subtype);
  if (g === undefined) throw new TypeError(`no geometry known for subtype ${subtypeName(init.subtype)}`);
  checkDimensions(g, init.width, init.height);
  if (typeof init.frameInterval !== 'bigint' || init.frameInterval <= 0n) {
    throw new RangeError(`frame interval must be a positive KsTime, got ${String(init.frameInterval)}`);
  }
  if (init.maxImageSize !== undefined) {
    if (!g.compressed) throw new TypeError(`maxImageSize applies only to compressed subtypes, not ${g.name}`);
    if (!Number.isInteger(init.maxImageSize) || init.maxImageSize <= 0)
      throw new RangeError(`maxImageSize must be a positive integer`);
  }
  return Object.freeze({
    kind: 'video',
    majorType: init.majorType ?? MediaType.Video,
    subtype: init.subtype,
    specifier: init.specifier ?? FormatType.VideoInfo,
    width: init.width,
    height: init.height,
    frameInterval: init.frameInterval,
    bitCount: g.bitCount,
    imageSize: imageSize(init.subtype, init.width, init.height, init.maxImageSize),
    compressed: g.compressed,
  });
}

/** Field-by-field equality of two formats. */
export function formatEquals(a: DataFormat, b: DataFormat): boolean {
  if (
    a.kind !== b.kind ||
    a.majorType !== b.majorType ||
    a.subtype !== b.subtype ||
    a.specifier !== b.specifier
  )
    return false;
  if (a.kind === 'generic' && b.kind === 'generic') return a.sampleSize === b.sampleSize;
  if (a.kind === 'video' && b.kind === 'video') {
    return (
      a.width === b.width &&
      a.height === b.height &&
      a.frameInterval === b.frameInterval &&
      a.bitCount === b.bitCount &&
      a.imageSize === b.imageSize
    );
  }
  return false;
}

/** Human-readable format, e.g. `YUY2 640x480 @30.00 fps`. */
export function describeFormat(f: DataFormat): string {
  if (f.kind === 'generic')
    return `${knownGuids.describe(f.majorType)}/${subtypeName(f.subtype)} (${f.sampleSize} B)`;
  return `${subtypeName(f.subtype)} ${f.width}x${f.height} @${rateFromFrameInterval(f.frameInterval).toFixed(2)} fps`;
}
