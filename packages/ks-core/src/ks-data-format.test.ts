// Property-based tests of the KS_DATAFORMAT_VIDEOINFOHEADER and KS_DATARANGE_VIDEO codecs.
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import {
  decodeVideoFormat,
  decodeVideoRange,
  encodeVideoFormat,
  encodeVideoRange,
  KS_DATARANGE_VIDEO_SIZE,
  KS_DATAFORMAT_VIDEOINFOHEADER_SIZE,
} from './ks-data-format.js';
import { MediaSubtype, MediaType, FormatType } from './known-guids.js';
import { guidFromBytes } from './guid.js';
import { isKsError } from './ks-error.js';
import { ksTime, frameIntervalFromRate } from './ks-time.js';
import { subtypeGeometry, videoFormat } from './video-format.js';
import { videoRange } from './data-range.js';

const subtypes = [
  MediaSubtype.YUY2,
  MediaSubtype.UYVY,
  MediaSubtype.NV12,
  MediaSubtype.I420,
  MediaSubtype.RGB24,
  MediaSubtype.ARGB32,
  MediaSubtype.Y800,
  MediaSubtype.MJPG,
];

const formatArb = fc
  .record({
    subtype: fc.constantFrom(...subtypes),
    w: fc.integer({ min: 1, max: 2048 }),
    h: fc.integer({ min: 1, max: 2048 }),
    interval: fc.bigInt({ min: 1n, max: 100_000_000n }),
    max: fc.integer({ min: 1, max: 20_000_000 }),
  })
  .map(({ subtype, w, h, interval, max }) => {
    const g = subtypeGeometry(subtype)!;
    return videoFormat({
      subtype,
      width: w * g.widthAlign,
      height: h * g.heightAlign,
      frameInterval: ksTime(interval),
      ...(g.compressed ? { maxImageSize: max } : {}),
    });
  });

describe('KS_DATAFORMAT_VIDEOINFOHEADER', () => {
  it('has the Windows layout', () => {
    const f = videoFormat({
      subtype: MediaSubtype.YUY2,
      width: 640,
      height: 480,
      frameInterval: frameIntervalFromRate(30),
    });
    const b = encodeVideoFormat(f);
    const v = new DataView(b.buffer);
    expect(b.length).toBe(152);
    expect(v.getUint32(0, true)).toBe(152);
    expect(v.getUint32(8, true)).toBe(614_400); // SampleSize
    expect(guidFromBytes(b, 16)).toBe(MediaType.Video);
    expect(guidFromBytes(b, 48)).toBe(FormatType.VideoInfo);
    expect(v.getBigInt64(104, true)).toBe(333_333n); // AvgTimePerFrame
    expect(v.getUint32(112, true)).toBe(40); // biSize
    expect(v.getInt32(116, true)).toBe(640);
    expect(v.getUint16(126, true)).toBe(16); // biBitCount
    expect(String.fromCharCode(...b.subarray(128, 132))).toBe('YUY2'); // biCompression
    expect(v.getUint32(132, true)).toBe(614_400); // biSizeImage
  });

  it('round-trips every format (property)', () => {
    fc.assert(fc.property(formatArb, (f) => expect(decodeVideoFormat(encodeVideoFormat(f))).toEqual(f)));
  });

  it('answers arbitrary bytes with a format or a TypeError/RangeError, never a crash (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        formatArb,
        fc.nat(151),
        fc.integer({ min: 0, max: 255 }),
        (noise, f, at, byte) => {
          for (const bytes of [
            noise,
            (() => {
              const b = encodeVideoFormat(f);
              b[at] = byte;
              return b;
            })(),
          ]) {
            try {
              const d = decodeVideoFormat(bytes);
              expect(d.kind).toBe('video');
            } catch (err) {
              expect(err instanceof TypeError || err instanceof RangeError || isKsError(err)).toBe(true);
            }
          }
        },
      ),
    );
  });
});

describe('KS_DATARANGE_VIDEO', () => {
  it('is 296 bytes and round-trips continuous ranges (property)', () => {
    expect(KS_DATARANGE_VIDEO_SIZE).toBe(296);
    expect(KS_DATAFORMAT_VIDEOINFOHEADER_SIZE).toBe(152);
    fc.assert(
      fc.property(
        fc.constantFrom(...subtypes),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 8 }),
        fc.bigInt({ min: 100_000n, max: 400_000n }),
        fc.bigInt({ min: 0n, max: 2_000_000n }),
        (subtype, minUnits, steps, gran, minI, span) => {
          const g = subtypeGeometry(subtype)!;
          const gw = gran * 2 * g.widthAlign;
          const gh = gran * 2 * g.heightAlign;
          const r = videoRange({
            subtype,
            minWidth: minUnits * gw,
            maxWidth: minUnits * gw + steps * gw,
            widthGranularity: gw,
            minHeight: minUnits * gh,
            maxHeight: minUnits * gh + steps * gh,
            heightGranularity: gh,
            minFrameInterval: ksTime(minI),
            maxFrameInterval: ksTime(minI + span),
            ...(g.compressed ? { maxImageSize: 1_000_000 } : {}),
          });
          expect(decodeVideoRange(encodeVideoRange(r))).toEqual(r);
        },
      ),
    );
  });

  it('rejects short or inconsistent buffers', () => {
    expect(() => decodeVideoRange(new Uint8Array(100))).toThrow(RangeError);
    const r = videoRange({
      subtype: MediaSubtype.NV12,
      width: 64,
      height: 48,
      frameInterval: frameIntervalFromRate(30),
    });
    const b = encodeVideoRange(r);
    new DataView(b.buffer).setInt32(80 + 60, 65, true); // MinOutputSize.cx breaks NV12 alignment
    expect(() => decodeVideoRange(b)).toThrow(RangeError);
    expect(() => encodeVideoRange(r, new Uint8Array(10))).toThrow(RangeError);
  });
});
