// Writes frames as YUV4MPEG2 (.y4m), repacking packed and semi-planar YUV into the planar layouts y4m defines.
import type { Writable } from 'node:stream';
import { rateOfInterval } from './format-spec.js';

/** What a y4m stream needs to know about the frames it carries. */
export interface Y4mFormat {
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  /** Frame interval in 100 ns units. */
  readonly interval: bigint;
}

const COLOURSPACE: Readonly<Record<string, string>> = {
  YUY2: 'C422',
  UYVY: 'C422',
  NV12: 'C420jpeg',
  I420: 'C420jpeg',
  GRAY8: 'Cmono',
};

/** True when y4m can carry this FOURCC (it has no RGB or compressed layouts). */
export function y4mSupports(fourcc: string): boolean {
  return fourcc in COLOURSPACE;
}

/** The y4m `F` rate for an interval (333333 → 30:1, 333667 → 30000:1001). */
export function y4mRate(interval: bigint): string {
  const { num, den } = rateOfInterval(interval);
  return `${num}:${den}`;
}

/**
 * A y4m stream on a Writable. `write` borrows the frame bytes only until its promise settles,
 * so the caller can release the pool slot right after.
 */
export class Y4mWriter {
  private readonly planar: Uint8Array;
  private headerWritten = false;

  /** @throws RangeError when y4m cannot carry the format. */
  constructor(
    private readonly out: Writable,
    private readonly format: Y4mFormat,
  ) {
    if (!y4mSupports(format.fourcc)) {
      throw new RangeError(`y4m cannot hold ${format.fourcc}; use a directory or '.mjpeg' output instead`);
    }
    const { width: w, height: h } = format;
    const size =
      format.fourcc === 'GRAY8' ? w * h : COLOURSPACE[format.fourcc] === 'C422' ? w * h * 2 : (w * h * 3) / 2;
    this.planar = new Uint8Array(size);
  }

  /** Bytes of one planar frame as stored in the file. */
  get frameBytes(): number {
    return this.planar.length;
  }

  /** Writes one frame (packed bytes as the device produced them). */
  async write(frame: Uint8Array): Promise<void> {
    if (!this.headerWritten) {
      const { width, height, interval, fourcc } = this.format;
      await this.push(
        Buffer.from(`YUV4MPEG2 W${width} H${height} F${y4mRate(interval)} Ip A1:1 ${COLOURSPACE[fourcc]}\n`),
      );
      this.headerWritten = true;
    }
    this.repack(frame);
    await this.push(Buffer.from('FRAME\n'));
    await this.push(this.planar);
  }

  private repack(src: Uint8Array): void {
    const { width: w, height: h, fourcc } = this.format;
    const dst = this.planar;
    const need =
      fourcc === 'YUY2' || fourcc === 'UYVY' ? w * h * 2 : fourcc === 'GRAY8' ? w * h : (w * h * 3) / 2;
    if (src.length < need)
      throw new RangeError(`frame has ${src.length} bytes, ${fourcc} ${w}x${h} needs ${need}`);
    if (fourcc === 'GRAY8' || fourcc === 'I420') {
      dst.set(src.subarray(0, need));
      return;
    }
    if (fourcc === 'NV12') {
      dst.set(src.subarray(0, w * h));
      const uv = w * h;
      const q = (w * h) / 4;
      for (let i = 0; i < q; i++) {
        dst[uv + i] = src[uv + 2 * i] ?? 0;
        dst[uv + q + i] = src[uv + 2 * i + 1] ?? 0;
      }
      return;
    }
    // YUY2: Y0 U Y1 V; UYVY: U Y0 V Y1.
    const yOff = fourcc === 'YUY2' ? 0 : 1;
    const uOff = fourcc === 'YUY2' ? 1 : 0;
    const vOff = uOff + 2;
    const pixels = w * h;
    const uBase = pixels;
    const vBase = pixels + pixels / 2;
    for (let p = 0, s = 0; p < pixels; p += 2, s += 4) {
      dst[p] = src[s + yOff] ?? 0;
      dst[p + 1] = src[s + yOff + 2] ?? 0;
      dst[uBase + (p >> 1)] = src[s + uOff] ?? 0;
      dst[vBase + (p >> 1)] = src[s + vOff] ?? 0;
    }
  }

  private push(chunk: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
  }
}
