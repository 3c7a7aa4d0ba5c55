// Parses --format FOURCC:WxH@FPS (e.g. YUY2:1280x720@30, NV12:640x480@29.97, MJPG:1920x1080@30000/1001).

/** A requested capture format; fields left out by the user are undefined. */
export interface FormatSpec {
  readonly fourcc: string;
  readonly width?: number;
  readonly height?: number;
  /** Frame interval in 100 ns units, rounded to the nearest unit. */
  readonly interval?: bigint;
  /** The rate as typed, for messages. */
  readonly fps?: number;
}

const ALIASES: Readonly<Record<string, string>> = {
  MJPEG: 'MJPG',
  YUYV: 'YUY2',
  Y800: 'GRAY8',
  GREY: 'GRAY8',
  RGB3: 'RGB24',
};

/**
 * Parses a format spec.
 * @throws RangeError naming the expected shape.
 */
export function parseFormatSpec(text: string): FormatSpec {
  const m = /^([A-Za-z0-9]{3,5})(?::(\d+)x(\d+))?(?:@(\d+(?:\.\d+)?)(?:\/(\d+))?)?$/.exec(text.trim());
  if (!m) throw new RangeError(`bad --format '${text}': expected FOURCC[:WxH][@FPS], e.g. YUY2:1280x720@30`);
  const raw = (m[1] ?? '').toUpperCase();
  const fourcc = ALIASES[raw] ?? raw;
  const spec: { -readonly [K in keyof FormatSpec]: FormatSpec[K] } = { fourcc };
  if (m[2] !== undefined) {
    spec.width = Number(m[2]);
    spec.height = Number(m[3]);
    if (!(spec.width > 0 && spec.height > 0)) throw new RangeError(`bad size in --format '${text}'`);
  }
  if (m[4] !== undefined) {
    const num = Number(m[4]);
    const den = m[5] !== undefined ? Number(m[5]) : 1;
    const fps = num / den;
    if (!(fps > 0 && Number.isFinite(fps))) throw new RangeError(`bad frame rate in --format '${text}'`);
    spec.fps = fps;
    // 29.97 and 59.94 mean the NTSC rates exactly; keep the interval exact for them.
    if (m[5] === undefined && (m[4] === '29.97' || m[4] === '59.94' || m[4] === '23.976')) {
      const base = m[4] === '29.97' ? 30000 : m[4] === '59.94' ? 60000 : 24000;
      spec.interval = BigInt(Math.round((1001 * 1e7) / base));
    } else if (m[5] !== undefined) {
      spec.interval = BigInt(Math.round((den * 1e7) / num));
    } else {
      spec.interval = BigInt(Math.round(1e7 / fps));
    }
  }
  return spec;
}

/** Formats an interval in 100 ns as frames per second for humans. */
export function intervalToFps(interval: bigint): number {
  return Math.round((1e7 / Number(interval)) * 1000) / 1000;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * The frame rate of an interval as a reduced fraction for file headers. KS intervals are whole
 * 100 ns units, so 30 fps is stored as 333333 and NTSC as 333667: both map back to the rate
 * they were made from (30/1, 30000/1001) instead of 10000000/333333.
 */
export function rateOfInterval(interval: bigint): { num: bigint; den: bigint } {
  if (interval <= 0n) throw new RangeError('interval must be positive');
  for (const den of [1n, 1001n]) {
    for (let fps = 1n; fps <= 240n; fps++) {
      const num = den === 1n ? fps : fps * 1000n;
      // The interval a device derives from num/den: 1e7·den/num, truncated or rounded.
      const exact = 10_000_000n * den;
      if (exact / num === interval || (exact + num / 2n) / num === interval) return { num, den };
    }
  }
  const g = gcd(10_000_000n, interval);
  return { num: 10_000_000n / g, den: interval / g };
}
