// Pixel formats (FOURCCs), their plane layouts and image sizes, and the VideoFormat record.

/** The FOURCCs hal devices produce. */
export const Fourcc = {
  /** Packed 4:2:2, bytes Y0 U Y1 V. */
  YUY2: 'YUY2',
  /** Packed 4:2:2, bytes U Y0 V Y1. */
  UYVY: 'UYVY',
  /** 4:2:0: Y plane, then one interleaved U,V plane of half height. */
  NV12: 'NV12',
  /** 4:2:0: Y plane, then U plane, then V plane (each chroma plane half width and height). */
  I420: 'I420',
  /** Windows `MEDIASUBTYPE_RGB24`: bytes B G R per pixel, top-down, rows padded to 4 bytes. */
  RGB24: 'RGB24',
  /** Bytes B G R A per pixel (Windows `MEDIASUBTYPE_ARGB32`, ffmpeg `bgra`), A = 255. */
  BGRA: 'BGRA',
  /** 8-bit luma only (limited range, like the Y plane). */
  GRAY8: 'GRAY8',
  /** Motion JPEG: every frame a complete baseline JFIF image (4:2:0 here; decoders accept any). */
  MJPG: 'MJPG',
} as const;

/** One of {@link Fourcc}'s values. */
export type Fourcc = (typeof Fourcc)[keyof typeof Fourcc];

/** Every supported FOURCC, in a stable order (used by capabilities and tests). */
export const ALL_FOURCCS: readonly Fourcc[] = Object.freeze([
  'YUY2',
  'UYVY',
  'NV12',
  'I420',
  'RGB24',
  'BGRA',
  'GRAY8',
  'MJPG',
]);

/** True when `value` is a supported FOURCC. */
export function isFourcc(value: unknown): value is Fourcc {
  return typeof value === 'string' && (ALL_FOURCCS as readonly string[]).includes(value);
}

/** Where one plane of an uncompressed image lives inside the image. */
export interface PlaneLayout {
  /** Byte offset of the plane's first row from the image start. */
  readonly offset: number;
  /** Bytes from one row to the next. */
  readonly stride: number;
  /** Bytes of pixel data per row (<= stride). */
  readonly rowBytes: number;
  /** Number of rows. */
  readonly rows: number;
}

/** Memory layout of one image of a given format and size. */
export interface ImageLayout {
  readonly fourcc: Fourcc;
  readonly width: number;
  readonly height: number;
  /** Average bits per pixel (what KS puts in `biBitCount`); 16 for MJPG (its buffer bound). */
  readonly bitsPerPixel: number;
  /** Planes in memory order; empty for compressed formats. */
  readonly planes: readonly PlaneLayout[];
  /**
   * Bytes a buffer must have: the exact size for raw formats, the maximum compressed size for
   * MJPG (the encoder reports `truncated` if a frame would not fit).
   */
  readonly imageSize: number;
  readonly compressed: boolean;
}

/** Bits per pixel of each FOURCC, as KS reports it. */
export function bitsPerPixel(fourcc: Fourcc): number {
  switch (fourcc) {
    case 'YUY2':
    case 'UYVY':
    case 'MJPG':
      return 16;
    case 'NV12':
    case 'I420':
      return 12;
    case 'RGB24':
      return 24;
    case 'BGRA':
      return 32;
    case 'GRAY8':
      return 8;
  }
}

/** Smallest and largest frame dimensions hal accepts (also the capability ladder's ends). */
export const MIN_DIMENSION = 16;
export const MAX_DIMENSION = 8192;

/**
 * Layout of one image. Sizes must be even for the subsampled formats (4:2:2 and 4:2:0 need
 * whole chroma samples) and within [{@link MIN_DIMENSION}, {@link MAX_DIMENSION}].
 * @throws RangeError for an unsupported size; TypeError for an unknown FOURCC.
 */
export function imageLayout(fourcc: Fourcc, width: number, height: number): ImageLayout {
  if (!isFourcc(fourcc)) throw new TypeError(`unknown FOURCC ${String(fourcc)}`);
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < MIN_DIMENSION || v > MAX_DIMENSION) {
      throw new RangeError(`${name} must be an integer in [${MIN_DIMENSION}, ${MAX_DIMENSION}], got ${v}`);
    }
  }
  const needsEven = fourcc !== 'RGB24' && fourcc !== 'BGRA' && fourcc !== 'GRAY8';
  if (needsEven && (width % 2 !== 0 || height % 2 !== 0)) {
    throw new RangeError(`${fourcc} needs an even width and height, got ${width}x${height}`);
  }
  const bpp = bitsPerPixel(fourcc);
  const plane = (offset: number, stride: number, rowBytes: number, rows: number): PlaneLayout =>
    Object.freeze({ offset, stride, rowBytes, rows });
  let planes: PlaneLayout[];
  switch (fourcc) {
    case 'YUY2':
    case 'UYVY':
      planes = [plane(0, width * 2, width * 2, height)];
      break;
    case 'NV12':
      planes = [plane(0, width, width, height), plane(width * height, width, width, height / 2)];
      break;
    case 'I420': {
      const cw = width / 2;
      const ch = height / 2;
      planes = [
        plane(0, width, width, height),
        plane(width * height, cw, cw, ch),
        plane(width * height + cw * ch, cw, cw, ch),
      ];
      break;
    }
    case 'RGB24': {
      const stride = (width * 3 + 3) & ~3;
      planes = [plane(0, stride, width * 3, height)];
      break;
    }
    case 'BGRA':
      planes = [plane(0, width * 4, width * 4, height)];
      break;
    case 'GRAY8':
      planes = [plane(0, width, width, height)];
      break;
    case 'MJPG':
      planes = [];
      break;
  }
  const last = planes[planes.length - 1];
  const imageSize = last === undefined ? width * height * 2 + 4096 : last.offset + last.stride * last.rows;
  return Object.freeze({
    fourcc,
    width,
    height,
    bitsPerPixel: bpp,
    planes: Object.freeze(planes),
    imageSize,
    compressed: fourcc === 'MJPG',
  });
}

/**
 * A concrete video format: what a capture engine is configured with. `interval` is the frame
 * period in 100 ns units (333333n = 30 fps).
 */
export interface VideoFormat {
  readonly fourcc: Fourcc;
  readonly width: number;
  readonly height: number;
  readonly interval: bigint;
}

/** 100 ns units per second. */
export const UNITS_PER_SECOND = 10_000_000n;

/** Frame interval (100 ns, rounded down like KS tables do) for a rate in frames per second. */
export function intervalForRate(fps: number): bigint {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`fps must be > 0, got ${fps}`);
  return BigInt(Math.floor(10_000_000 / fps));
}

/** Frame rate (fps, rounded to the nearest integer) for an interval, e.g. 333333n → 30. */
export function rateForInterval(interval: bigint): number {
  if (interval <= 0n) throw new RangeError(`interval must be > 0, got ${interval}`);
  return Math.round(10_000_000 / Number(interval));
}

/** Throws RangeError/TypeError unless `format` is a well-formed {@link VideoFormat}. */
export function validateVideoFormat(format: VideoFormat): ImageLayout {
  if (typeof format !== 'object' || format === null) throw new TypeError('format must be an object');
  if (typeof format.interval !== 'bigint' || format.interval <= 0n) {
    throw new RangeError(
      `format.interval must be a positive bigint (100 ns), got ${String(format.interval)}`,
    );
  }
  return imageLayout(format.fourcc, format.width, format.height);
}
