// Writes frames into an AVI (RIFF) file, packed as captured: YUY2 stays yuyv422, MJPG stays MJPEG, with an idx1 index.
import { open, type FileHandle } from 'node:fs/promises';
import { rateOfInterval } from './format-spec.js';

/** What an AVI stream needs to know about its frames. */
export interface AviFormat {
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  /** Frame interval in 100 ns units. */
  readonly interval: bigint;
}

// FOURCC in the stream header / BITMAPINFOHEADER, and bits per pixel. RGB is BI_RGB (0) with a
// negative height because our frames are top-down.
const CODEC: Readonly<Record<string, { tag: string | 0; bits: number }>> = {
  YUY2: { tag: 'YUY2', bits: 16 },
  UYVY: { tag: 'UYVY', bits: 16 },
  NV12: { tag: 'NV12', bits: 12 },
  I420: { tag: 'I420', bits: 12 },
  GRAY8: { tag: 'Y800', bits: 8 },
  MJPG: { tag: 'MJPG', bits: 24 },
  RGB24: { tag: 0, bits: 24 },
  BGRA: { tag: 0, bits: 32 },
};

/** RIFF sizes are 32-bit; stay well clear of readers that treat them as signed. */
const MAX_RIFF_BYTES = 0x7fff_0000;

const fourccValue = (s: string): number =>
  (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;

/** True when an AVI can carry this FOURCC. */
export function aviSupports(fourcc: string): boolean {
  return fourcc in CODEC;
}

// Byte offsets of the fields patched at close.
const HEADER_BYTES = 12 + 12 + 64 + 12 + 64 + 48 + 12;
const OFF_RIFF_SIZE = 4;
const OFF_TOTAL_FRAMES = 12 + 12 + 8 + 16;
const OFF_STREAM_LENGTH = 12 + 12 + 64 + 12 + 8 + 32;
const OFF_MOVI_SIZE = HEADER_BYTES - 8;

/**
 * An AVI file being written. `write` borrows the frame bytes until its promise settles; `close`
 * writes the index and the sizes. Not for pipes: the header is patched in place at the end.
 */
export class AviWriter {
  private position = HEADER_BYTES;
  private frames = 0;
  private index = new Uint32Array(4 * 1024);
  private readonly chunkHeader = Buffer.alloc(8);
  private readonly pad = Buffer.alloc(1);
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    private readonly format: AviFormat,
  ) {}

  /** Creates `path` and writes the header. @throws RangeError for a FOURCC AVI cannot hold. */
  static async create(path: string, format: AviFormat): Promise<AviWriter> {
    if (!aviSupports(format.fourcc)) throw new RangeError(`AVI output cannot hold ${format.fourcc}`);
    const file = await open(path, 'w');
    const w = new AviWriter(file, format);
    await file.write(w.header(), 0, HEADER_BYTES, 0);
    return w;
  }

  /** Appends one frame as a `00dc` chunk. */
  async write(frame: Uint8Array): Promise<void> {
    const size = frame.length;
    const padded = size + (size & 1);
    if (this.position + 8 + padded + 16 * (this.frames + 1) + 16 > MAX_RIFF_BYTES) {
      throw new RangeError('AVI file would pass 2 GiB; use .y4m or a directory for long captures');
    }
    this.chunkHeader.write('00dc', 0, 'latin1');
    this.chunkHeader.writeUInt32LE(size, 4);
    await this.file.write(this.chunkHeader, 0, 8, this.position);
    await this.file.write(frame, 0, size, this.position + 8);
    if (size & 1) await this.file.write(this.pad, 0, 1, this.position + 8 + size);
    if ((this.frames + 1) * 4 > this.index.length) {
      const grown = new Uint32Array(this.index.length * 2);
      grown.set(this.index);
      this.index = grown;
    }
    const e = this.frames * 4;
    this.index[e] = fourccValue('00dc');
    this.index[e + 1] = 0x10; // AVIIF_KEYFRAME: every raw and MJPEG frame stands alone
    // idx1 offsets count from the 'movi' fourcc.
    this.index[e + 2] = this.position - (HEADER_BYTES - 4);
    this.index[e + 3] = size;
    this.position += 8 + padded;
    this.frames++;
  }

  /** Writes idx1 and patches the sizes and frame counts. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const moviSize = this.position - (HEADER_BYTES - 4);
    const idx = Buffer.alloc(8 + this.frames * 16);
    idx.write('idx1', 0, 'latin1');
    idx.writeUInt32LE(this.frames * 16, 4);
    for (let i = 0; i < this.frames * 4; i++) idx.writeUInt32LE(this.index[i] ?? 0, 8 + i * 4);
    await this.file.write(idx, 0, idx.length, this.position);
    const end = this.position + idx.length;
    const u32 = Buffer.alloc(4);
    const patch = async (offset: number, value: number): Promise<void> => {
      u32.writeUInt32LE(value >>> 0, 0);
      await this.file.write(u32, 0, 4, offset);
    };
    await patch(OFF_RIFF_SIZE, end - 8);
    await patch(OFF_TOTAL_FRAMES, this.frames);
    await patch(OFF_STREAM_LENGTH, this.frames);
    await patch(OFF_MOVI_SIZE, moviSize);
    await this.file.close();
  }

  private header(): Buffer {
    const { fourcc, width, height, interval } = this.format;
    const codec = CODEC[fourcc];
    if (!codec) throw new RangeError(`AVI output cannot hold ${fourcc}`);
    const b = Buffer.alloc(HEADER_BYTES);
    let o = 0;
    const tag = (s: string): void => {
      b.write(s, o, 'latin1');
      o += 4;
    };
    const u32 = (v: number): void => {
      b.writeUInt32LE(v >>> 0, o);
      o += 4;
    };
    const i32 = (v: number): void => {
      b.writeInt32LE(v, o);
      o += 4;
    };
    const u16 = (v: number): void => {
      b.writeUInt16LE(v, o);
      o += 2;
    };
    const imageSize =
      fourcc === 'MJPG'
        ? width * height * 2
        : Math.ceil((width * codec.bits) / 8 / (codec.tag === 0 ? 4 : 1)) *
          (codec.tag === 0 ? 4 : 1) *
          height;
    const rate = rateOfInterval(interval);
    tag('RIFF');
    u32(0); // patched
    tag('AVI ');
    tag('LIST');
    u32(4 + 64 + 12 + 64 + 48);
    tag('hdrl');
    tag('avih');
    u32(56);
    u32(Number(interval / 10n)); // dwMicroSecPerFrame
    u32(Math.min(0xffffffff, Math.round((imageSize * 1e7) / Number(interval))));
    u32(0);
    u32(0x10); // AVIF_HASINDEX
    u32(0); // dwTotalFrames, patched
    u32(0);
    u32(1); // one stream
    u32(imageSize);
    u32(width);
    u32(height);
    o += 16;
    tag('LIST');
    u32(4 + 64 + 48);
    tag('strl');
    tag('strh');
    u32(56);
    tag('vids');
    if (codec.tag === 0) u32(0);
    else tag(codec.tag);
    u32(0);
    u16(0);
    u16(0);
    u32(0);
    u32(Number(rate.den)); // dwScale
    u32(Number(rate.num)); // dwRate
    u32(0);
    u32(0); // dwLength, patched
    u32(imageSize);
    i32(-1);
    u32(0);
    u16(0);
    u16(0);
    u16(width);
    u16(height);
    tag('strf');
    u32(40);
    u32(40);
    i32(width);
    i32(codec.tag === 0 ? -height : height);
    u16(1);
    u16(codec.bits);
    if (codec.tag === 0) u32(0);
    else tag(codec.tag);
    u32(imageSize);
    u32(0);
    u32(0);
    u32(0);
    u32(0);
    tag('LIST');
    u32(0); // movi size, patched
    tag('movi');
    if (o !== HEADER_BYTES) throw new Error(`AVI header layout is ${o} bytes, expected ${HEADER_BYTES}`);
    return b;
  }
}
