// Tests of the UVC descriptor parser on hand-built descriptors, malformed input, and fast-check fuzzing.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseUvcDescriptors } from './descriptor-parser.js';
import { parseUvcConfiguration } from './uvc-configuration.js';
import { walkDescriptors, parseUsbConfiguration, endpointBytesPerInterval } from './usb-descriptor.js';

const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
const YUY2 = [0x59, 0x55, 0x59, 0x32, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const desc = (type: number, body: number[]): number[] => [body.length + 2, type, ...body];
const cs = (body: number[]): number[] => desc(0x24, body);

function config(...parts: number[][]): Uint8Array {
  const body = parts.flat();
  const total = 9 + body.length;
  return new Uint8Array([9, 2, ...le16(total), 2, 1, 0, 0x80, 250, ...body]);
}
const iface = (n: number, alt: number, sub: number, eps: number): number[] =>
  desc(4, [n, alt, eps, 0x0e, sub, 0, 0]);
const ep = (addr: number, attrs: number, maxp: number): number[] => desc(5, [addr, attrs, ...le16(maxp), 1]);

function vcInterface(bcd: number, vsNumbers: number[], units: number[][], ifNum = 0): number[] {
  const total = 12 + vsNumbers.length + units.reduce((s, u) => s + u.length, 0);
  const header = cs([
    0x01,
    ...le16(bcd),
    ...le16(total),
    ...le32(48_000_000),
    vsNumbers.length,
    ...vsNumbers,
  ]);
  return [...iface(ifNum, 0, 1, 0), ...header, ...units.flat()];
}
const cameraTerminal = (id: number, bm: number): number[] =>
  cs([0x02, id, ...le16(0x0201), 0, 0, 0, 0, 0, 0, 0, 0, 3, ...le32(bm).slice(0, 3)]);
const pu10 = (id: number, src: number, bm: number): number[] =>
  cs([0x05, id, src, ...le16(0), 2, ...le16(bm), 0]);
const pu11 = (id: number, src: number, bm: number): number[] =>
  cs([0x05, id, src, ...le16(0), 2, ...le16(bm), 0, 0]);
const outTerminal = (id: number, src: number): number[] => cs([0x03, id, ...le16(0x0101), 0, src, 0]);

function uncompressedFormat(index: number, frames: number): number[] {
  return cs([0x04, index, frames, ...YUY2, 16, 1, 0, 0, 0, 0]);
}
function frameDiscrete(sub: number, index: number, w: number, h: number, intervals: number[]): number[] {
  return cs([
    sub,
    index,
    0,
    ...le16(w),
    ...le16(h),
    ...le32(1),
    ...le32(2),
    ...le32((w * h * 2) >>> 0),
    ...le32(intervals[0] ?? 0),
    intervals.length,
    ...intervals.flatMap(le32),
  ]);
}
function frameContinuous(
  sub: number,
  index: number,
  w: number,
  h: number,
  min: number,
  max: number,
  step: number,
): number[] {
  return cs([
    sub,
    index,
    0,
    ...le16(w),
    ...le16(h),
    ...le32(1),
    ...le32(2),
    ...le32(w * h * 2),
    ...le32(min),
    0,
    ...le32(min),
    ...le32(max),
    ...le32(step),
  ]);
}
function vsInterface(
  n: number,
  endpoint: number,
  formats: number[][],
  numFormats = formats.filter((f) => f[2] === 0x04 || f[2] === 0x06).length,
  endpoints = 0,
): number[] {
  const total = 13 + numFormats + formats.reduce((s, f) => s + f.length, 0);
  const header = cs([
    0x01,
    numFormats,
    ...le16(total),
    endpoint,
    0,
    3,
    0,
    0,
    0,
    1,
    ...Array<number>(numFormats).fill(0),
  ]);
  return [...iface(n, 0, 2, endpoints), ...header, ...formats.flat()];
}

function simpleCamera(bcd = 0x0100): Uint8Array {
  return config(
    desc(0x0b, [0, 2, 0x0e, 3, 0, 0]),
    vcInterface(
      bcd,
      [1],
      [
        cameraTerminal(1, 0x020a2e),
        bcd >= 0x0110 ? pu11(2, 1, 0x175b) : pu10(2, 1, 0x175b),
        outTerminal(3, 2),
      ],
    ),
    vsInterface(1, 0x81, [
      uncompressedFormat(1, 2),
      frameDiscrete(0x05, 1, 640, 480, [333333, 666666]),
      frameContinuous(0x05, 2, 320, 240, 333333, 10_000_000, 333333),
    ]),
    iface(1, 1, 2, 1),
    ep(0x81, 0x05, 0x1000 | 1020),
    iface(1, 2, 2, 1),
    ep(0x81, 0x05, 512),
  );
}

describe('USB descriptor walker', () => {
  it('stops on bLength 0 and on an overrun, with warnings', () => {
    const w1 = walkDescriptors(new Uint8Array([4, 1, 0, 0, 0, 9, 9]));
    expect(w1.descriptors).toHaveLength(1);
    expect(w1.warnings[0]).toMatch(/bLength 0/);
    const w2 = walkDescriptors(new Uint8Array([4, 1, 0, 0, 9, 5, 0]));
    expect(w2.descriptors).toHaveLength(1);
    expect(w2.warnings[0]).toMatch(/truncated/);
  });

  it('decodes high-bandwidth wMaxPacketSize and prefers the SuperSpeed companion', () => {
    expect(endpointBytesPerInterval(0x1400 | 1024)).toBe(3072);
    expect(endpointBytesPerInterval(0x0800 | 512)).toBe(1024);
    expect(endpointBytesPerInterval(1024, 49152)).toBe(49152);
  });

  it('reports wTotalLength larger and smaller than the data', () => {
    const c = simpleCamera();
    expect(parseUsbConfiguration(c.subarray(0, c.length - 3)).warnings.join('\n')).toMatch(
      /truncated.*3 missing/,
    );
    const longer = new Uint8Array(c.length + 4);
    longer.set(c);
    expect(parseUsbConfiguration(longer).warnings.join('\n')).toMatch(/excess is ignored/);
  });
});

describe('parseUvcDescriptors', () => {
  it('parses a 1.00 camera with discrete and continuous intervals and iso alt settings', () => {
    const r = parseUvcConfiguration(simpleCamera());
    expect(r.warnings).toEqual([]);
    expect(r.functions).toHaveLength(1);
    const f = r.functions[0]!;
    expect(f.bcdUVC).toBe('1.00');
    expect(f.clockFrequency).toBe(48_000_000);
    expect(f.inputTerminals[0]).toEqual({
      id: 1,
      type: 'camera',
      bmControls: 0x020a2e,
      controls: [
        'ae-mode',
        'ae-priority',
        'exposure-time-absolute',
        'focus-absolute',
        'zoom-absolute',
        'pantilt-absolute',
        'focus-auto',
      ],
    });
    expect(f.processingUnits[0]!.controls).toEqual([
      'brightness',
      'contrast',
      'saturation',
      'sharpness',
      'white-balance-temperature',
      'backlight-compensation',
      'gain',
      'power-line-frequency',
      'white-balance-temperature-auto',
    ]);
    const s = f.streamingInterfaces[0]!;
    expect(s.transfer).toBe('isochronous');
    expect(s.altSettings).toEqual([
      { alt: 1, maxPacketSize: 1020, bytesPerInterval: 3060 },
      { alt: 2, maxPacketSize: 512, bytesPerInterval: 512 },
    ]);
    const fmt = s.formats[0]!;
    expect(fmt).toMatchObject({
      index: 1,
      type: 'uncompressed',
      guid: '32595559-0000-0010-8000-00aa00389b71',
      fourcc: 'YUY2',
      bitsPerPixel: 16,
    });
    expect(fmt.frames[0]).toEqual({
      index: 1,
      width: 640,
      height: 480,
      intervals: [333333, 666666],
      maxFrameBufferSize: 614400,
    });
    expect(fmt.frames[1]!.intervals).toEqual({ min: 333333, max: 10_000_000, step: 333333 });
  });

  it('accepts both PU lengths; warns when a 1.1 function has a 1.0-length PU', () => {
    const d11 = parseUvcDescriptors(simpleCamera(0x0110));
    expect(d11.warnings).toEqual([]);
    expect(d11.functions[0]!.processingUnits[0]!.videoStandards).toBe(0);
    const d10 = parseUvcDescriptors(simpleCamera(0x0100));
    expect(d10.functions[0]!.processingUnits[0]!.videoStandards).toBeUndefined();
    const mixed = config(vcInterface(0x0110, [], [pu10(2, 1, 1)]));
    const r = parseUvcDescriptors(mixed);
    expect(r.functions[0]!.processingUnits[0]!.controls).toEqual(['brightness']);
    expect(r.warnings.join('\n')).toMatch(/lacks bmVideoStandards/);
  });

  it('skips vendor subtypes by length without losing the frames after them', () => {
    const vendor = cs([0x0e, 1, 2, 3, 4, 5, 6, 7]);
    const c = config(
      vcInterface(0x0100, [1], [cameraTerminal(1, 0)]),
      vsInterface(1, 0x82, [
        uncompressedFormat(1, 2),
        frameDiscrete(5, 1, 64, 48, [333333]),
        vendor,
        frameDiscrete(5, 2, 32, 24, [333333]),
      ]),
      ep(0x82, 0x02, 512),
    );
    const r = parseUvcConfiguration(c);
    const s = r.functions[0]!.streamingInterfaces[0]!;
    expect(s.transfer).toBe('bulk');
    expect(s.altSettings).toEqual([{ alt: 0, maxPacketSize: 512, bytesPerInterval: 512 }]);
    expect(s.formats[0]!.frames.map((f) => f.width)).toEqual([64, 32]);
    expect(r.warnings.join('\n')).toMatch(/unknown VS subtype 0xe/);
  });

  it('warns on frame-count and format-count mismatches', () => {
    const c = config(
      vcInterface(0x0100, [1], []),
      vsInterface(1, 0x81, [uncompressedFormat(1, 3), frameDiscrete(5, 1, 64, 48, [333333])], 2),
      ep(0x81, 0x02, 64),
    );
    const w = parseUvcDescriptors(c).warnings.join('\n');
    expect(w).toMatch(/declares 3 frames but has 1/);
    expect(w).toMatch(/declares 2 formats but has 1/);
  });

  it('finds several camera functions and their streaming interfaces by baInterfaceNr', () => {
    const c = config(
      vcInterface(0x0110, [3], [cameraTerminal(1, 0)], 0),
      vcInterface(0x0150, [1], [cameraTerminal(1, 0)], 2),
      vsInterface(1, 0x81, [uncompressedFormat(1, 1), frameDiscrete(5, 1, 64, 48, [333333])]),
      ep(0x81, 0x02, 512),
      vsInterface(3, 0x83, [uncompressedFormat(1, 1), frameDiscrete(5, 1, 32, 24, [333333])]),
      ep(0x83, 0x02, 512),
    );
    const r = parseUvcConfiguration(c);
    expect(
      r.functions.map((f) => [f.controlInterface, f.bcdUVC, f.streamingInterfaces[0]!.interface]),
    ).toEqual([
      [0, '1.10', 3],
      [2, '1.50', 1],
    ]);
    expect(r.functions[1]!.streamingInterfaces[0]!.formats[0]!.frames[0]!.width).toBe(64);
  });

  it('reports missing and orphan streaming interfaces', () => {
    const c = config(vcInterface(0x0100, [5], []), vsInterface(1, 0x81, []), ep(0x81, 2, 64));
    const w = parseUvcDescriptors(c).warnings.join('\n');
    expect(w).toMatch(/names VS interface 5, which does not exist/);
    expect(w).toMatch(/VS interface 1 belongs to no VC interface/);
  });

  it('handles garbage: not a configuration, empty input, zero-length descriptors', () => {
    expect(parseUvcConfiguration(new Uint8Array()).warnings.length).toBeGreaterThan(0);
    expect(parseUvcConfiguration(new Uint8Array([0, 0, 0])).warnings.length).toBeGreaterThan(0);
    const c = simpleCamera();
    c[26] = 0;
    const r = parseUvcConfiguration(c);
    expect(r.warnings.join('\n')).toMatch(/bLength 0/);
  });
});

describe('UVC 1.5 and rarer descriptors', () => {
  it('parses H.264 (1.5) and VP8 formats/frames, selector and encoding units, still frames', () => {
    const h264Format = cs([0x13, 1, 1, 1, ...Array<number>(46).fill(0)]); // 52 bytes
    const h264Frame = cs([
      0x14,
      1,
      ...le16(1920),
      ...le16(1080),
      ...le16(1),
      ...le16(1),
      ...le16(0x6400),
      0x33,
      ...le16(0),
      ...le32(3),
      ...le16(0x47),
      ...le32(4),
      ...le32(0),
      ...le32(1_000_000),
      ...le32(8_000_000),
      ...le32(333333),
      2,
      ...le32(333333),
      ...le32(666666),
    ]);
    const vp8Format = cs([0x16, 2, 1, 1, 0, 1, 0, 0, 0, ...le16(0)]);
    const vp8Frame = cs([
      0x17,
      1,
      ...le16(640),
      ...le16(360),
      ...le32(0),
      ...le16(0),
      ...le32(0),
      ...le32(1000),
      ...le32(2000),
      ...le32(500000),
      1,
      ...le32(500000),
    ]);
    const still = cs([0x03, 0, 2, ...le16(1280), ...le16(720), ...le16(640), ...le16(480), 1, 5]);
    const selector = cs([0x04, 5, 2, 1, 2, 0]);
    const encoding = cs([0x07, 6, 2, 0, 3, 1, 2, 3, 4, 5, 6]);
    const mediaTransport = cs([0x02, 7, ...le16(0x0202), 0, 0, 1, 0x0f]);
    const c = config(
      vcInterface(0x0150, [1], [cameraTerminal(1, 1 << 19), selector, encoding, mediaTransport]),
      vsInterface(1, 0x81, [h264Format, h264Frame, still, vp8Format, vp8Frame], 2, 1),
      ep(0x81, 0x02, 512),
    );
    const r = parseUvcDescriptors(c);
    expect(r.warnings).toEqual([]);
    const f = r.functions[0]!;
    expect(f.inputTerminals[0]!.controls).toEqual(['focus-simple']);
    expect(f.inputTerminals[1]).toMatchObject({ id: 7, terminalType: 0x0202, bmControls: 0x0f });
    expect(f.selectorUnits).toEqual([{ id: 5, sourceIds: [1, 2] }]);
    expect(f.encodingUnits).toEqual([
      { id: 6, sourceId: 2, bmControls: 0x030201, bmControlsRuntime: 0x060504 },
    ]);
    const s = f.streamingInterfaces[0]!;
    const [h264, vp8] = s.formats;
    expect(h264).toMatchObject({ type: 'h264', fourcc: 'H264', declaredFrames: 1, defaultFrameIndex: 1 });
    expect(h264!.frames[0]).toMatchObject({
      width: 1920,
      height: 1080,
      minBitRate: 1_000_000,
      maxBitRate: 8_000_000,
      defaultInterval: 333333,
      intervals: [333333, 666666],
      capabilities: 0x47,
    });
    // 8 Mbit/s over the longest interval (1/15 s) is at most 66,667 bytes.
    expect(h264!.frames[0]!.maxFrameBufferSize).toBe(66667);
    expect(vp8).toMatchObject({ type: 'vp8', fourcc: 'VP80', index: 2 });
    expect(vp8!.frames[0]).toMatchObject({
      width: 640,
      height: 360,
      intervals: [500000],
      defaultInterval: 500000,
    });
    expect(s.stillFrames).toEqual([
      {
        endpointAddress: 0,
        sizes: [
          { width: 1280, height: 720 },
          { width: 640, height: 480 },
        ],
        compression: [5],
        formatIndex: 1,
      },
    ]);
    expect(parseUvcConfiguration(c).functions[0]!.streamingInterfaces[0]!.stillFrames).toEqual([
      { width: 1280, height: 720 },
      { width: 640, height: 480 },
    ]);
  });

  it('parses MPEG-2 TS, DV and stream-based formats and an output header', () => {
    const mpeg2 = cs([0x0a, 1, 0, 188, 188, ...Array<number>(16).fill(0)]);
    const dv = cs([0x0c, 2, ...le32(144000), 0x80]);
    const stream = cs([0x12, 3, ...YUY2, ...le32(4096)]);
    const total = 12 + mpeg2.length + dv.length + stream.length;
    const out = cs([0x02, 3, ...le16(total), 0x01, 3, 1, 0, 0, 0]);
    const c = config(
      vcInterface(0x0110, [1], []),
      [...iface(1, 0, 2, 1), ...out, ...mpeg2, ...dv, ...stream],
      ep(0x01, 0x02, 512),
    );
    const r = parseUvcDescriptors(c);
    expect(r.warnings).toEqual([]);
    const s = r.functions[0]!.streamingInterfaces[0]!;
    expect(s.header).toMatchObject({ direction: 'out', numFormats: 3, terminalLink: 3 });
    expect(s.endpointAddress).toBe(0x01);
    expect(s.formats.map((f) => [f.type, f.guid])).toEqual([
      ['mpeg2ts', null],
      ['dv', null],
      ['stream-based', '32595559-0000-0010-8000-00aa00389b71'],
    ]);
  });
});

describe('parser fuzzing (fast-check)', () => {
  const base = simpleCamera(0x0110);

  it('never throws and always terminates on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const r = parseUvcConfiguration(bytes);
        expect(Array.isArray(r.functions)).toBe(true);
        JSON.stringify(r);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on mutated valid descriptors; garbage gives warnings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(base.length),
        (edits, cut) => {
          const b = base.slice(0, Math.max(cut, 1));
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          const r = parseUvcConfiguration(b);
          JSON.stringify(r);
          if (b.length < base.length) expect(r.warnings.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
