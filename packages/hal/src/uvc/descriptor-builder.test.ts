// Tests of the UVC descriptor builder: exact layout checks, error cases, and a parser round-trip property.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CAMERA_TERMINAL_CONTROLS, PROCESSING_UNIT_CONTROLS } from './controls.js';
import type { UvcCameraDescription, UvcFormatDescription } from './descriptor-builder.js';
import { buildStringDescriptors, buildUvcDescriptors, encodeIsoMaxPacketSize } from './descriptor-builder.js';
import { fourccGuid } from './descriptor-types.js';
import { parseUvcDescriptors } from './descriptor-parser.js';
import { parseUvcConfiguration } from './uvc-configuration.js';
import { parseUsbConfiguration, parseUsbDeviceDescriptor } from './usb-descriptor.js';

const base: UvcCameraDescription = {
  vendorId: 0x1d6b,
  productId: 0x0102,
  manufacturer: 'ksemu',
  product: 'ksemu camera',
  cameraControls: ['ae-mode', 'exposure-time-absolute', 'focus-auto'],
  processingControls: ['brightness', 'contrast', 'saturation', 'power-line-frequency'],
  streaming: {
    transfer: 'isochronous',
    formats: [
      {
        kind: 'uncompressed',
        fourcc: 'YUY2',
        frames: [
          { width: 640, height: 480, intervals: [333333, 666666] },
          { width: 1280, height: 720, intervals: { min: 333333, max: 1000000, step: 333333 } },
        ],
      },
      { kind: 'uncompressed', fourcc: 'NV12', frames: [{ width: 640, height: 480, intervals: [333333] }] },
      {
        kind: 'mjpeg',
        frames: [{ width: 1920, height: 1080, intervals: [333333], maxFrameBufferSize: 1_000_000 }],
      },
    ],
  },
};

describe('buildUvcDescriptors', () => {
  it('builds a UVC 1.1 iso camera that parses back without warnings', () => {
    const b = buildUvcDescriptors(base);
    const dev = parseUsbDeviceDescriptor(b.device);
    expect(dev).toMatchObject({
      vendorId: 0x1d6b,
      productId: 0x0102,
      deviceClass: 0xef,
      deviceSubClass: 2,
      deviceProtocol: 1,
      manufacturerIndex: 1,
      productIndex: 2,
      serialNumberIndex: 0,
    });
    const usb = parseUsbConfiguration(b.configuration);
    expect(usb.warnings).toEqual([]);
    expect(usb.associations).toEqual([
      {
        firstInterface: 0,
        interfaceCount: 2,
        functionClass: 0x0e,
        functionSubClass: 3,
        functionProtocol: 0,
        functionIndex: 2,
      },
    ]);
    const r = parseUvcConfiguration(b.configuration);
    expect(r.warnings).toEqual([]);
    const f = r.functions[0]!;
    expect(f.bcdUVC).toBe('1.10');
    expect(f.inputTerminals[0]!.controls).toEqual(['ae-mode', 'exposure-time-absolute', 'focus-auto']);
    expect(f.processingUnits[0]!.controls).toEqual([
      'brightness',
      'contrast',
      'saturation',
      'power-line-frequency',
    ]);
    const s = f.streamingInterfaces[0]!;
    expect(s.transfer).toBe('isochronous');
    expect(s.altSettings).toEqual([
      { alt: 1, maxPacketSize: 1024, bytesPerInterval: 1024 },
      { alt: 2, maxPacketSize: 1024, bytesPerInterval: 2048 },
      { alt: 3, maxPacketSize: 1024, bytesPerInterval: 3072 },
    ]);
    expect(s.formats.map((x) => [x.type, x.fourcc, x.bitsPerPixel, x.frames.length])).toEqual([
      ['uncompressed', 'YUY2', 16, 2],
      ['uncompressed', 'NV12', 12, 1],
      ['mjpeg', 'MJPG', 0, 1],
    ]);
    expect(s.formats[0]!.frames[0]).toEqual({
      index: 1,
      width: 640,
      height: 480,
      intervals: [333333, 666666],
      maxFrameBufferSize: 614400,
    });
    expect(s.formats[0]!.frames[1]!.intervals).toEqual({ min: 333333, max: 1000000, step: 333333 });
    expect(s.formats[1]!.frames[0]!.maxFrameBufferSize).toBe(460800);
    expect(s.formats[2]!.frames[0]!.maxFrameBufferSize).toBe(1_000_000);
    const full = parseUvcDescriptors(b.configuration).functions[0]!;
    expect(full.interruptEndpoint).toEqual({
      address: 0x82,
      maxPacketSize: 16,
      interval: 8,
      maxTransferSize: 16,
    });
    expect(full.outputTerminals[0]).toMatchObject({
      id: b.layout.outputTerminalId,
      sourceId: 2,
      terminalType: 0x0101,
    });
    expect(full.streamingInterfaces[0]!.header).toMatchObject({
      terminalLink: b.layout.outputTerminalId,
      endpointAddress: 0x81,
    });
  });

  it('builds bulk, UVC 1.0 and 1.5 variants with an extension unit', () => {
    for (const bcdUVC of [0x0100, 0x0150]) {
      const b = buildUvcDescriptors({
        ...base,
        bcdUVC,
        speed: 'full',
        interruptEndpoint: false,
        extensionUnit: { guid: '{A29E7641-DE04-47E3-8B2B-F4341AFF003B}', numControls: 3, bmControls: 0x0107 },
        streaming: { transfer: 'bulk', formats: base.streaming.formats },
      });
      const r = parseUvcDescriptors(b.configuration);
      expect(r.warnings).toEqual([]);
      const f = r.functions[0]!;
      expect(f.bcdUVC).toBe(bcdUVC);
      expect(f.processingUnits[0]!.videoStandards === undefined).toBe(bcdUVC === 0x0100);
      expect(f.extensionUnits[0]).toMatchObject({
        id: 3,
        guid: 'a29e7641-de04-47e3-8b2b-f4341aff003b',
        numControls: 3,
        bmControls: 0x0107,
        controlSize: 2,
      });
      expect(f.outputTerminals[0]!.sourceId).toBe(3);
      expect(f.interruptEndpoint).toBeUndefined();
      expect(f.streamingInterfaces[0]!.transfer).toBe('bulk');
      expect(f.streamingInterfaces[0]!.altSettings).toEqual([
        expect.objectContaining({ alt: 0, maxPacketSize: 64 }),
      ]);
      expect(b.layout.bulkMaxPacketSize).toBe(64);
    }
  });

  it('encodes high-bandwidth iso packet sizes', () => {
    expect(encodeIsoMaxPacketSize(3072)).toBe(0x1400);
    expect(encodeIsoMaxPacketSize(2048)).toBe(0x0c00);
    expect(encodeIsoMaxPacketSize(1500)).toBe(0x0800 | 750);
    expect(encodeIsoMaxPacketSize(800)).toBe(800);
    expect(() => encodeIsoMaxPacketSize(3073)).toThrow(RangeError);
    expect(() => encodeIsoMaxPacketSize(1024, 'full')).toThrow(RangeError);
  });

  it('rejects invalid descriptions', () => {
    expect(() => buildUvcDescriptors({ ...base, cameraControls: ['nope'] })).toThrow(
      /unknown camera terminal control 'nope'/,
    );
    expect(() => buildUvcDescriptors({ ...base, bcdUVC: 0x0200 })).toThrow(RangeError);
    expect(() => buildUvcDescriptors({ ...base, processingControls: ['contrast-auto'] })).toThrow(
      /needs bcdUVC 0x0150/,
    );
    expect(
      buildUvcDescriptors({ ...base, bcdUVC: 0x0150, processingControls: ['contrast-auto'] }).configuration
        .length,
    ).toBeGreaterThan(0);
    expect(() => buildUvcDescriptors({ ...base, streaming: { transfer: 'bulk', formats: [] } })).toThrow(
      RangeError,
    );
    expect(() =>
      buildUvcDescriptors({
        ...base,
        streaming: {
          transfer: 'bulk',
          formats: [
            { kind: 'uncompressed', fourcc: 'ABCD', frames: [{ width: 1, height: 1, intervals: [1] }] },
          ],
        },
      }),
    ).toThrow(/bitsPerPixel required/);
    expect(() =>
      buildUvcDescriptors({
        ...base,
        streaming: {
          transfer: 'bulk',
          formats: [{ kind: 'mjpeg', frames: [{ width: 0, height: 1, intervals: [1] }] }],
        },
      }),
    ).toThrow(RangeError);
    expect(() =>
      buildUvcDescriptors({ ...base, streaming: { ...base.streaming, isoBytesPerInterval: [4000] } }),
    ).toThrow(RangeError);
  });

  it('builds string descriptors', () => {
    const s = buildStringDescriptors({ manufacturer: 'ab', product: 'Ü' });
    expect(Array.from(s.get(0)!)).toEqual([4, 3, 9, 4]);
    expect(Array.from(s.get(1)!)).toEqual([6, 3, 0x61, 0, 0x62, 0]);
    expect(Array.from(s.get(2)!)).toEqual([4, 3, 0xdc, 0]);
    expect(s.has(3)).toBe(false);
  });
});

describe('builder → parser round trip (property)', () => {
  const interval = fc.integer({ min: 1, max: 20_000_000 });
  const frame = fc.record({
    width: fc.integer({ min: 1, max: 4096 }),
    height: fc.integer({ min: 1, max: 2160 }),
    intervals: fc.oneof(
      fc.array(interval, { minLength: 1, maxLength: 8 }),
      fc
        .tuple(interval, interval, fc.integer({ min: 0, max: 1000 }))
        .map(([a, b, step]) => ({ min: Math.min(a, b), max: Math.max(a, b), step })),
    ),
  });
  const format: fc.Arbitrary<UvcFormatDescription> = fc.oneof(
    fc.record({
      kind: fc.constant('uncompressed' as const),
      fourcc: fc.constantFrom('YUY2', 'UYVY', 'NV12', 'I420', 'Y800'),
      frames: fc.array(frame, { minLength: 1, maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant('mjpeg' as const),
      frames: fc.array(frame, { minLength: 1, maxLength: 5 }),
    }),
  );
  const names = (t: readonly { name: string }[]): fc.Arbitrary<string[]> => fc.subarray(t.map((c) => c.name));

  it('parses back exactly what was described, with no warnings', () => {
    fc.assert(
      fc.property(
        fc.array(format, { minLength: 1, maxLength: 4 }),
        fc.constantFrom(0x0100, 0x0110, 0x0150),
        fc.constantFrom<'bulk' | 'isochronous'>('bulk', 'isochronous'),
        fc.array(fc.integer({ min: 1, max: 3072 }), { minLength: 1, maxLength: 6 }),
        names(CAMERA_TERMINAL_CONTROLS),
        names(PROCESSING_UNIT_CONTROLS),
        (formats, bcdUVC, transfer, budgets, cam0, proc0) => {
          const uvc15 = ['focus-simple', 'window', 'region-of-interest', 'contrast-auto'];
          const cam = bcdUVC < 0x0150 ? cam0.filter((n) => !uvc15.includes(n)) : cam0;
          const proc = bcdUVC < 0x0150 ? proc0.filter((n) => !uvc15.includes(n)) : proc0;
          const b = buildUvcDescriptors({
            vendorId: 1,
            productId: 2,
            bcdUVC,
            cameraControls: cam,
            processingControls: proc,
            streaming: { transfer, formats, isoBytesPerInterval: budgets },
          });
          const r = parseUvcConfiguration(b.configuration);
          expect(r.warnings).toEqual([]);
          const f = r.functions[0]!;
          expect(new Set(f.inputTerminals[0]!.controls)).toEqual(new Set(cam));
          expect(new Set(f.processingUnits[0]!.controls)).toEqual(new Set(proc));
          const s = f.streamingInterfaces[0]!;
          expect(s.transfer).toBe(transfer);
          if (transfer === 'isochronous') {
            expect(s.altSettings.map((a) => a.bytesPerInterval)).toEqual(
              b.layout.altSettings.map((a) => a.bytesPerInterval),
            );
            budgets.forEach((x, k) => expect(s.altSettings[k]!.bytesPerInterval).toBeGreaterThanOrEqual(x));
          }
          expect(s.formats.length).toBe(formats.length);
          formats.forEach((fd, i) => {
            const got = s.formats[i]!;
            expect(got.index).toBe(i + 1);
            expect(got.guid).toBe(fd.kind === 'mjpeg' ? fourccGuid('MJPG') : fourccGuid(fd.fourcc));
            expect(got.frames.map((x) => [x.width, x.height, x.intervals])).toEqual(
              fd.frames.map((x) => [x.width, x.height, x.intervals]),
            );
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});
