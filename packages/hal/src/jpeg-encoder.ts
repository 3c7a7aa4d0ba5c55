// A small baseline JPEG (JFIF, 4:2:0, Huffman Annex K tables) encoder for the synthetic MJPEG stream.

const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

// ITU-T T.81 Annex K.1 quantisation tables (natural order).
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

// Annex K.3 Huffman tables: code counts per length 1..16, then symbols.
const DC_LUMA_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_LUMA_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const DC_CHROMA_BITS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_CHROMA_VALS = DC_LUMA_VALS;
const AC_LUMA_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71,
  0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72,
  0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37,
  0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
  0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
  0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3,
  0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
  0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
  0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];
const AC_CHROMA_BITS = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALS = [
  0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22,
  0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1,
  0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36,
  0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
  0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
  0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a,
  0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
  0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
  0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

interface HuffmanTable {
  readonly code: Uint16Array;
  readonly size: Uint8Array;
}

function buildHuffman(bits: readonly number[], vals: readonly number[]): HuffmanTable {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) {
      const symbol = vals[k++]!;
      code[symbol] = c++;
      size[symbol] = len;
    }
    c <<= 1;
  }
  return { code, size };
}

const DC_LUMA = buildHuffman(DC_LUMA_BITS, DC_LUMA_VALS);
const AC_LUMA = buildHuffman(AC_LUMA_BITS, AC_LUMA_VALS);
const DC_CHROMA = buildHuffman(DC_CHROMA_BITS, DC_CHROMA_VALS);
const AC_CHROMA = buildHuffman(AC_CHROMA_BITS, AC_CHROMA_VALS);

/** Placeholder output between encodes (the encoder never keeps the caller's memory). */
const NO_OUTPUT = new Uint8Array(0);

/** AAN scale factors: 1 for k = 0, else cos(kπ/16)·√2 (folded into the quantisation divisors). */
const AAN_SCALE = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

/** Level-shifted sample values: limited-range luma/chroma and full-range codes → JFIF − 128. */
const LUMA_LIMITED = new Float64Array(256);
const CHROMA_LIMITED = new Float64Array(256);
const FULL = new Float64Array(256);
for (let v = 0; v < 256; v++) {
  LUMA_LIMITED[v] = ((v - 16) * 255) / 219 - 128;
  CHROMA_LIMITED[v] = ((v - 128) * 255) / 224;
  FULL[v] = v - 128;
}

/** In-place AAN (Arai–Agui–Nakajima) float forward DCT of 8 samples at stride `step`. */
function fdct8(d: Float64Array, at: number, step: number): void {
  const d0 = d[at]!;
  const d1 = d[at + step]!;
  const d2 = d[at + 2 * step]!;
  const d3 = d[at + 3 * step]!;
  const d4 = d[at + 4 * step]!;
  const d5 = d[at + 5 * step]!;
  const d6 = d[at + 6 * step]!;
  const d7 = d[at + 7 * step]!;
  const tmp0 = d0 + d7;
  const tmp7 = d0 - d7;
  const tmp1 = d1 + d6;
  const tmp6 = d1 - d6;
  const tmp2 = d2 + d5;
  const tmp5 = d2 - d5;
  const tmp3 = d3 + d4;
  const tmp4 = d3 - d4;
  // Even part.
  const tmp10 = tmp0 + tmp3;
  const tmp13 = tmp0 - tmp3;
  const tmp11 = tmp1 + tmp2;
  const tmp12 = tmp1 - tmp2;
  d[at] = tmp10 + tmp11;
  d[at + 4 * step] = tmp10 - tmp11;
  const z1 = (tmp12 + tmp13) * 0.707106781;
  d[at + 2 * step] = tmp13 + z1;
  d[at + 6 * step] = tmp13 - z1;
  // Odd part.
  const o10 = tmp4 + tmp5;
  const o11 = tmp5 + tmp6;
  const o12 = tmp6 + tmp7;
  const z5 = (o10 - o12) * 0.382683433;
  const z2 = 0.5411961 * o10 + z5;
  const z4 = 1.306562965 * o12 + z5;
  const z3 = o11 * 0.707106781;
  const z11 = tmp7 + z3;
  const z13 = tmp7 - z3;
  d[at + 5 * step] = z13 + z2;
  d[at + 3 * step] = z13 - z2;
  d[at + step] = z11 + z4;
  d[at + 7 * step] = z11 - z4;
}

/** Where the planar 4:2:0 input of {@link JpegEncoder.encode} lives. */
export interface PlanarImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly yOffset: number;
  readonly yStride: number;
  readonly uOffset: number;
  readonly vOffset: number;
  readonly chromaStride: number;
  /** True when samples are BT.601 limited range (they are converted to JFIF full range). */
  readonly limitedRange: boolean;
}

/**
 * Baseline sequential JPEG encoder, 4:2:0 (H2V2 luma), 8-bit, Annex K Huffman tables, one
 * scan. Deterministic (same input → same bytes, in any thread). Reuses its buffers: one
 * instance per stream, not shared between threads.
 */
export class JpegEncoder {
  readonly quality: number;
  private readonly qLuma = new Float64Array(64);
  private readonly qChroma = new Float64Array(64);
  private readonly qLumaBytes = new Uint8Array(64);
  private readonly qChromaBytes = new Uint8Array(64);
  /** 1 / (quantiser × AAN row scale × AAN column scale × 8), natural order. */
  private readonly lumaScale = new Float64Array(64);
  private readonly chromaScale = new Float64Array(64);
  private readonly block = new Float64Array(64);
  private readonly coef = new Int32Array(64);
  private out: Uint8Array = NO_OUTPUT;
  private pos = 0;
  private end = 0;
  private overflow = false;
  private bitBuffer = 0;
  private bitCount = 0;

  /** @param quality - 1…100 (IJG scaling of the Annex K tables). */
  constructor(quality = 85) {
    if (!Number.isInteger(quality) || quality < 1 || quality > 100)
      throw new RangeError(`quality must be in [1, 100], got ${quality}`);
    this.quality = quality;
    const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
    for (let i = 0; i < 64; i++) {
      const l = Math.min(255, Math.max(1, Math.floor((LUMA_QUANT[i]! * scale + 50) / 100)));
      const c = Math.min(255, Math.max(1, Math.floor((CHROMA_QUANT[i]! * scale + 50) / 100)));
      this.qLuma[i] = l;
      this.qChroma[i] = c;
    }
    for (let i = 0; i < 64; i++) {
      this.qLumaBytes[i] = this.qLuma[ZIGZAG[i]!]!;
      this.qChromaBytes[i] = this.qChroma[ZIGZAG[i]!]!;
      const aan = AAN_SCALE[i >> 3]! * AAN_SCALE[i & 7]! * 8;
      this.lumaScale[i] = 1 / (this.qLuma[i]! * aan);
      this.chromaScale[i] = 1 / (this.qChroma[i]! * aan);
    }
  }

  /**
   * Encodes `image` into `target[offset, offset + capacity)`.
   * @returns the JPEG's length, or −1 if it does not fit (the bytes written are then garbage).
   */
  encode(image: PlanarImage, target: Uint8Array, offset: number, capacity: number): number {
    this.out = target;
    this.pos = offset;
    this.end = Math.min(target.length, offset + capacity);
    this.overflow = false;
    this.bitBuffer = 0;
    this.bitCount = 0;
    this.writeHeaders(image.width, image.height);
    const mcusX = Math.ceil(image.width / 16);
    const mcusY = Math.ceil(image.height / 16);
    let dcY = 0;
    let dcU = 0;
    let dcV = 0;
    for (let my = 0; my < mcusY && !this.overflow; my++) {
      for (let mx = 0; mx < mcusX; mx++) {
        for (let b = 0; b < 4; b++) {
          this.loadBlock(image, 0, mx * 16 + (b & 1) * 8, my * 16 + (b >> 1) * 8);
          dcY = this.encodeBlock(this.lumaScale, dcY, DC_LUMA, AC_LUMA);
        }
        this.loadBlock(image, 1, mx * 8, my * 8);
        dcU = this.encodeBlock(this.chromaScale, dcU, DC_CHROMA, AC_CHROMA);
        this.loadBlock(image, 2, mx * 8, my * 8);
        dcV = this.encodeBlock(this.chromaScale, dcV, DC_CHROMA, AC_CHROMA);
      }
    }
    if (this.bitCount > 0) this.writeBits(0x7f, 8 - this.bitCount); // pad the last byte with 1s
    this.bitBuffer = 0;
    this.bitCount = 0;
    this.byte(0xff);
    this.byte(0xd9);
    const length = this.pos - offset;
    this.out = NO_OUTPUT; // drop the reference to the caller's memory
    return this.overflow ? -1 : length;
  }

  private loadBlock(image: PlanarImage, component: number, x0: number, y0: number): void {
    const luma = component === 0;
    const w = luma ? image.width : image.width >> 1;
    const h = luma ? image.height : image.height >> 1;
    const base = luma ? image.yOffset : component === 1 ? image.uOffset : image.vOffset;
    const stride = luma ? image.yStride : image.chromaStride;
    const data = image.data;
    const blk = this.block;
    const level = !image.limitedRange ? FULL : luma ? LUMA_LIMITED : CHROMA_LIMITED;
    if (x0 + 8 <= w && y0 + 8 <= h) {
      for (let y = 0, row = base + y0 * stride + x0; y < 8; y++, row += stride) {
        const o = y * 8;
        blk[o] = level[data[row]!]!;
        blk[o + 1] = level[data[row + 1]!]!;
        blk[o + 2] = level[data[row + 2]!]!;
        blk[o + 3] = level[data[row + 3]!]!;
        blk[o + 4] = level[data[row + 4]!]!;
        blk[o + 5] = level[data[row + 5]!]!;
        blk[o + 6] = level[data[row + 6]!]!;
        blk[o + 7] = level[data[row + 7]!]!;
      }
      return;
    }
    // Edge blocks repeat the last column/row (what libjpeg does for partial MCUs).
    for (let y = 0; y < 8; y++) {
      const row = base + Math.min(h - 1, y0 + y) * stride;
      for (let x = 0; x < 8; x++) blk[y * 8 + x] = level[data[row + Math.min(w - 1, x0 + x)]!]!;
    }
  }

  /** FDCT, quantise, entropy-code one block; returns its DC value. */
  private encodeBlock(
    scale: Float64Array,
    previousDc: number,
    dcTable: HuffmanTable,
    acTable: HuffmanTable,
  ): number {
    const blk = this.block;
    for (let r = 0; r < 64; r += 8) fdct8(blk, r, 1);
    for (let c = 0; c < 8; c++) fdct8(blk, c, 8);
    const coef = this.coef;
    for (let i = 0; i < 64; i++) coef[i] = Math.round(blk[i]! * scale[i]!);
    const dc = coef[0]!;
    this.encodeValue(dc - previousDc, dcTable, 0);
    let run = 0;
    for (let i = 1; i < 64; i++) {
      const c = coef[ZIGZAG[i]!]!;
      if (c === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        this.writeBits(acTable.code[0xf0]!, acTable.size[0xf0]!);
        run -= 16;
      }
      this.encodeValue(c, acTable, run);
      run = 0;
    }
    if (run > 0) this.writeBits(acTable.code[0]!, acTable.size[0]!);
    return dc;
  }

  private encodeValue(value: number, table: HuffmanTable, run: number): void {
    const magnitude = value < 0 ? -value : value;
    let size = 0;
    while (magnitude >> size) size++;
    const symbol = (run << 4) | size;
    this.writeBits(table.code[symbol]!, table.size[symbol]!);
    if (size > 0) this.writeBits(value < 0 ? value + (1 << size) - 1 : value, size);
  }

  private writeBits(bits: number, count: number): void {
    this.bitBuffer = ((this.bitBuffer << count) | (bits & ((1 << count) - 1))) >>> 0;
    this.bitCount += count;
    while (this.bitCount >= 8) {
      const b = (this.bitBuffer >>> (this.bitCount - 8)) & 255;
      this.byte(b);
      if (b === 0xff) this.byte(0);
      this.bitCount -= 8;
    }
    this.bitBuffer &= (1 << this.bitCount) - 1;
  }

  private byte(b: number): void {
    if (this.pos >= this.end) {
      this.overflow = true;
      return;
    }
    this.out[this.pos++] = b;
  }

  private word(w: number): void {
    this.byte(w >> 8);
    this.byte(w & 255);
  }

  private writeHeaders(width: number, height: number): void {
    this.word(0xffd8); // SOI
    this.word(0xffe0); // APP0 JFIF 1.01, no thumbnail
    this.word(16);
    for (const b of [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]) this.byte(b);
    this.word(0xffdb); // DQT, both tables
    this.word(2 + 2 * 65);
    this.byte(0);
    for (let i = 0; i < 64; i++) this.byte(this.qLumaBytes[i]!);
    this.byte(1);
    for (let i = 0; i < 64; i++) this.byte(this.qChromaBytes[i]!);
    this.word(0xffc0); // SOF0
    this.word(17);
    this.byte(8);
    this.word(height);
    this.word(width);
    this.byte(3);
    for (const [id, sampling, tq] of [
      [1, 0x22, 0],
      [2, 0x11, 1],
      [3, 0x11, 1],
    ] as const) {
      this.byte(id);
      this.byte(sampling);
      this.byte(tq);
    }
    this.word(0xffc4); // DHT, all four tables
    const tables: Array<[number, readonly number[], readonly number[]]> = [
      [0x00, DC_LUMA_BITS, DC_LUMA_VALS],
      [0x10, AC_LUMA_BITS, AC_LUMA_VALS],
      [0x01, DC_CHROMA_BITS, DC_CHROMA_VALS],
      [0x11, AC_CHROMA_BITS, AC_CHROMA_VALS],
    ];
    this.word(2 + tables.reduce((n, [, bits, vals]) => n + 17 + vals.length + 0 * bits.length, 0));
    for (const [id, bits, vals] of tables) {
      this.byte(id);
      for (const b of bits) this.byte(b);
      for (const v of vals) this.byte(v);
    }
    this.word(0xffda); // SOS
    this.word(12);
    this.byte(3);
    for (const [id, tables2] of [
      [1, 0x00],
      [2, 0x11],
      [3, 0x11],
    ] as const) {
      this.byte(id);
      this.byte(tables2);
    }
    this.byte(0);
    this.byte(63);
    this.byte(0);
  }
}
