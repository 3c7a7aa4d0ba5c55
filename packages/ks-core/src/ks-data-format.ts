// Binary codecs of KS_DATAFORMAT_VIDEOINFOHEADER and KS_DATARANGE_VIDEO (the Windows structures), for raw property callers and tools.
import { guidFromBytes, guidToBytes, type Guid } from './guid.js';
import { videoRange, type VideoDataRange } from './data-range.js';
import { ksTime } from './ks-time.js';
import { subtypeGeometry, videoFormat, type VideoFormat } from './video-format.js';

/** sizeof(KSDATAFORMAT) = sizeof(KSDATARANGE). */
export const KSDATAFORMAT_SIZE = 64;
/** sizeof(KS_VIDEOINFOHEADER) without palette/masks. */
export const KS_VIDEOINFOHEADER_SIZE = 88;
/** sizeof(KS_DATAFORMAT_VIDEOINFOHEADER). */
export const KS_DATAFORMAT_VIDEOINFOHEADER_SIZE = KSDATAFORMAT_SIZE + KS_VIDEOINFOHEADER_SIZE;
/** sizeof(KS_VIDEO_STREAM_CONFIG_CAPS). */
export const KS_VIDEO_STREAM_CONFIG_CAPS_SIZE = 128;
/** sizeof(KS_DATARANGE_VIDEO). */
export const KS_DATARANGE_VIDEO_SIZE =
  KSDATAFORMAT_SIZE + 16 + KS_VIDEO_STREAM_CONFIG_CAPS_SIZE + KS_VIDEOINFOHEADER_SIZE;

/** KSDATAFORMAT_TEMPORAL_COMPRESSION (Flags bit) for compressed subtypes. */
const KSDATAFORMAT_TEMPORAL_COMPRESSION = 0x1;

function writeDataFormatHeader(
  v: DataView,
  out: Uint8Array,
  at: number,
  formatSize: number,
  f: { majorType: Guid; subtype: Guid; specifier: Guid; sampleSize: number; compressed: boolean },
): void {
  v.setUint32(at, formatSize, true);
  v.setUint32(at + 4, f.compressed ? KSDATAFORMAT_TEMPORAL_COMPRESSION : 0, true);
  v.setUint32(at + 8, f.sampleSize, true);
  v.setUint32(at + 12, 0, true);
  guidToBytes(f.majorType, out, at + 16);
  guidToBytes(f.subtype, out, at + 32);
  guidToBytes(f.specifier, out, at + 48);
}

function writeVideoInfoHeader(
  v: DataView,
  at: number,
  width: number,
  height: number,
  interval: bigint,
  bitCount: number,
  imageSize: number,
  fourcc: number,
): void {
  // rcSource / rcTarget: all zero = the whole image (VIDEOINFOHEADER convention).
  for (let i = 0; i < 32; i += 4) v.setInt32(at + i, 0, true);
  const bitRate =
    interval > 0n ? Math.min(0xffffffff, Math.round((imageSize * 8 * 1e7) / Number(interval))) : 0;
  v.setUint32(at + 32, bitRate, true);
  v.setUint32(at + 36, 0, true);
  v.setBigInt64(at + 40, interval, true);
  const bmi = at + 48;
  v.setUint32(bmi, 40, true); // biSize
  v.setInt32(bmi + 4, width, true);
  v.setInt32(bmi + 8, height, true);
  v.setUint16(bmi + 12, 1, true); // biPlanes
  v.setUint16(bmi + 14, bitCount, true);
  v.setUint32(bmi + 16, fourcc, true); // biCompression: FOURCC, or BI_RGB (0)
  v.setUint32(bmi + 20, imageSize, true);
  for (let i = 24; i < 40; i += 4) v.setUint32(bmi + i, 0, true);
}

function compressionOf(subtype: string): number {
  // FOURCC subtypes carry their code in Data1; the RGB subtypes are BI_RGB.
  return subtype.endsWith('-0000-0010-8000-00aa00389b71') ? parseInt(subtype.slice(0, 8), 16) >>> 0 : 0;
}

/**
 * Encodes a video format as KS_DATAFORMAT_VIDEOINFOHEADER (152 bytes, little endian).
 * @param out target of at least 152 bytes (a new array when omitted).
 * @throws RangeError when `out` is too small.
 */
export function encodeVideoFormat(
  format: VideoFormat,
  out = new Uint8Array(KS_DATAFORMAT_VIDEOINFOHEADER_SIZE),
): Uint8Array {
  if (out.length < KS_DATAFORMAT_VIDEOINFOHEADER_SIZE)
    throw new RangeError(`KS_DATAFORMAT_VIDEOINFOHEADER needs ${KS_DATAFORMAT_VIDEOINFOHEADER_SIZE} bytes`);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  writeDataFormatHeader(v, out, 0, KS_DATAFORMAT_VIDEOINFOHEADER_SIZE, {
    ...format,
    sampleSize: format.imageSize,
  });
  writeVideoInfoHeader(
    v,
    KSDATAFORMAT_SIZE,
    format.width,
    format.height,
    format.frameInterval,
    format.bitCount,
    format.imageSize,
    compressionOf(format.subtype),
  );
  return out;
}

/**
 * Decodes KS_DATAFORMAT_VIDEOINFOHEADER. Size, bit count and image size are re-derived from the
 * subtype geometry and must agree with the bytes (nothing is accepted silently).
 * @throws RangeError for short buffers or a FormatSize smaller than the structure; TypeError for
 *   an unknown subtype or fields that disagree with its geometry.
 */
export function decodeVideoFormat(bytes: Uint8Array): VideoFormat {
  if (bytes.length < KS_DATAFORMAT_VIDEOINFOHEADER_SIZE)
    throw new RangeError(
      `KS_DATAFORMAT_VIDEOINFOHEADER needs ${KS_DATAFORMAT_VIDEOINFOHEADER_SIZE} bytes, got ${bytes.length}`,
    );
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatSize = v.getUint32(0, true);
  if (formatSize < KS_DATAFORMAT_VIDEOINFOHEADER_SIZE)
    throw new RangeError(`FormatSize ${formatSize} is smaller than KS_DATAFORMAT_VIDEOINFOHEADER`);
  const subtype = guidFromBytes(bytes, 32);
  const g = subtypeGeometry(subtype);
  if (g === undefined) throw new TypeError(`unknown video subtype ${subtype}`);
  const bmi = KSDATAFORMAT_SIZE + 48;
  const width = v.getInt32(bmi + 4, true);
  const height = Math.abs(v.getInt32(bmi + 8, true)); // negative = top-down DIB
  const bitCount = v.getUint16(bmi + 14, true);
  const imageSize = v.getUint32(bmi + 20, true);
  const format = videoFormat({
    subtype,
    majorType: guidFromBytes(bytes, 16),
    specifier: guidFromBytes(bytes, 48),
    width,
    height,
    frameInterval: ksTime(v.getBigInt64(KSDATAFORMAT_SIZE + 40, true)),
    ...(g.compressed ? { maxImageSize: imageSize } : {}),
  });
  if (bitCount !== format.bitCount)
    throw new TypeError(`biBitCount ${bitCount} does not match ${g.name}'s ${format.bitCount}`);
  if (imageSize !== format.imageSize)
    throw new TypeError(
      `biSizeImage ${imageSize} does not match ${g.name} ${width}x${height} (${format.imageSize})`,
    );
  return format;
}

/**
 * Encodes a video range as KS_DATARANGE_VIDEO (296 bytes). A discrete interval list is not
 * representable there: Min/MaxFrameInterval carry its bounds, AvgTimePerFrame the default.
 * @throws RangeError when `out` is too small.
 */
export function encodeVideoRange(
  range: VideoDataRange,
  out = new Uint8Array(KS_DATARANGE_VIDEO_SIZE),
): Uint8Array {
  if (out.length < KS_DATARANGE_VIDEO_SIZE)
    throw new RangeError(`KS_DATARANGE_VIDEO needs ${KS_DATARANGE_VIDEO_SIZE} bytes`);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.fill(0, 0, KS_DATARANGE_VIDEO_SIZE);
  const g = subtypeGeometry(range.subtype)!;
  const defaultSize = range.maxImageSize ?? g.imageSize(range.defaultWidth, range.defaultHeight);
  writeDataFormatHeader(v, out, 0, KS_DATARANGE_VIDEO_SIZE, {
    ...range,
    sampleSize: defaultSize,
    compressed: g.compressed,
  });
  v.setUint32(64, g.compressed ? 0 : 1, true); // bFixedSizeSamples
  v.setUint32(68, g.compressed ? 1 : 0, true); // bTemporalCompression
  const caps = 80;
  guidToBytes(range.specifier, out, caps);
  // InputSize, cropping sizes = the maximum output size; granularity = output granularity.
  const sizes: Array<[number, number, number]> = [
    [caps + 20, range.maxWidth, range.maxHeight], // InputSize
    [caps + 28, range.minWidth, range.minHeight], // MinCroppingSize
    [caps + 36, range.maxWidth, range.maxHeight], // MaxCroppingSize
    [caps + 60, range.minWidth, range.minHeight], // MinOutputSize
    [caps + 68, range.maxWidth, range.maxHeight], // MaxOutputSize
  ];
  for (const [at, w, h] of sizes) {
    v.setInt32(at, w, true);
    v.setInt32(at + 4, h, true);
  }
  v.setInt32(caps + 44, range.widthGranularity, true); // CropGranularityX
  v.setInt32(caps + 48, range.heightGranularity, true);
  v.setInt32(caps + 52, g.widthAlign, true); // CropAlignX
  v.setInt32(caps + 56, g.heightAlign, true);
  v.setInt32(caps + 76, range.widthGranularity, true); // OutputGranularityX
  v.setInt32(caps + 80, range.heightGranularity, true);
  v.setBigInt64(caps + 104, range.minFrameInterval, true);
  v.setBigInt64(caps + 112, range.maxFrameInterval, true);
  const bits = (t: bigint, size: number): number =>
    Math.min(0x7fffffff, Math.round((size * 8 * 1e7) / Number(t)));
  v.setInt32(caps + 120, bits(range.maxFrameInterval, g.imageSize(range.minWidth, range.minHeight)), true);
  v.setInt32(
    caps + 124,
    bits(range.minFrameInterval, range.maxImageSize ?? g.imageSize(range.maxWidth, range.maxHeight)),
    true,
  );
  writeVideoInfoHeader(
    v,
    caps + KS_VIDEO_STREAM_CONFIG_CAPS_SIZE,
    range.defaultWidth,
    range.defaultHeight,
    range.defaultFrameInterval,
    g.bitCount,
    defaultSize,
    compressionOf(range.subtype),
  );
  return out;
}

/**
 * Decodes KS_DATARANGE_VIDEO into a validated {@link VideoDataRange} (output sizes, granularity,
 * interval bounds, default from the embedded VIDEOINFOHEADER).
 * @throws RangeError / TypeError for short buffers or inconsistent fields (via `videoRange`).
 */
export function decodeVideoRange(bytes: Uint8Array): VideoDataRange {
  if (bytes.length < KS_DATARANGE_VIDEO_SIZE)
    throw new RangeError(`KS_DATARANGE_VIDEO needs ${KS_DATARANGE_VIDEO_SIZE} bytes, got ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatSize = v.getUint32(0, true);
  if (formatSize < KS_DATARANGE_VIDEO_SIZE)
    throw new RangeError(`FormatSize ${formatSize} is smaller than KS_DATARANGE_VIDEO`);
  const caps = 80;
  const vih = caps + KS_VIDEO_STREAM_CONFIG_CAPS_SIZE;
  const subtype = guidFromBytes(bytes, 32);
  const compressed = subtypeGeometry(subtype)?.compressed === true;
  return videoRange({
    subtype,
    majorType: guidFromBytes(bytes, 16),
    specifier: guidFromBytes(bytes, 48),
    minWidth: v.getInt32(caps + 60, true),
    minHeight: v.getInt32(caps + 64, true),
    maxWidth: v.getInt32(caps + 68, true),
    maxHeight: v.getInt32(caps + 72, true),
    widthGranularity: v.getInt32(caps + 76, true),
    heightGranularity: v.getInt32(caps + 80, true),
    minFrameInterval: ksTime(v.getBigInt64(caps + 104, true)),
    maxFrameInterval: ksTime(v.getBigInt64(caps + 112, true)),
    defaultWidth: v.getInt32(vih + 48 + 4, true),
    defaultHeight: Math.abs(v.getInt32(vih + 48 + 8, true)),
    defaultFrameInterval: ksTime(v.getBigInt64(vih + 40, true)),
    ...(compressed ? { maxImageSize: v.getUint32(vih + 48 + 20, true) } : {}),
  });
}
