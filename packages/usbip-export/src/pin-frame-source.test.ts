// uvcFormatsOfRanges (property-based) and PinFrameSource state rules over a synthetic camera's capture pin.
import { afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SyntheticCamera } from '@ksemu/hal';
import { ManualClock, MediaSubtype, videoRange, type KsDevice, type KsTime } from '@ksemu/ks-core';
import { WebcamPin, createWebcamDevice } from '@ksemu/minidriver-webcam';
import { PinFrameSource, uvcFormatsOfRanges } from './pin-frame-source.js';
import type { UvcSourceFrame } from './uvc-frame-source.js';

const devices: KsDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
});

const SUBTYPES = { YUY2: MediaSubtype.YUY2, NV12: MediaSubtype.NV12, MJPG: MediaSubtype.MJPG } as const;

describe('uvcFormatsOfRanges', () => {
  it('keeps wanted FOURCCs in the asked order, default interval first, the rest ascending, none above maxFps', () => {
    const range = fc.record({
      cc: fc.constantFrom('YUY2', 'NV12', 'MJPG', 'UYVY') as fc.Arbitrary<keyof typeof SUBTYPES | 'UYVY'>,
      w: fc.integer({ min: 1, max: 200 }).map((x) => x * 8),
      h: fc.integer({ min: 1, max: 200 }).map((x) => x * 2),
      intervals: fc.uniqueArray(fc.integer({ min: 10_000, max: 10_000_000 }), {
        minLength: 1,
        maxLength: 12,
      }),
      def: fc.nat(),
    });
    fc.assert(
      fc.property(
        fc.array(range, { maxLength: 8 }),
        fc.option(fc.integer({ min: 1, max: 240 })),
        (rs, maxFps) => {
          const ranges = rs.map((r) => {
            const iv = [...r.intervals].sort((a, b) => a - b);
            return videoRange({
              subtype: r.cc === 'UYVY' ? MediaSubtype.UYVY : SUBTYPES[r.cc],
              width: r.w,
              height: r.h,
              frameIntervals: iv.map((i) => BigInt(i) as KsTime),
              defaultFrameInterval: BigInt(iv[r.def % iv.length]!) as KsTime,
              ...(r.cc === 'MJPG' ? { maxImageSize: r.w * r.h } : {}),
            });
          });
          const fourccs = ['MJPG', 'YUY2'];
          const out = uvcFormatsOfRanges(ranges, { fourccs, ...(maxFps ? { maxFps } : {}) });
          const order = out.map((f) => fourccs.indexOf(f.fourcc));
          expect(order.every((o, i) => o >= 0 && (i === 0 || o >= order[i - 1]!))).toBe(true);
          for (const f of out) {
            const rest = f.intervals.slice(1);
            expect(rest).toEqual([...rest].sort((a, b) => a - b));
            expect(new Set(f.intervals).size).toBe(f.intervals.length);
            if (maxFps) expect(Math.min(...f.intervals)).toBeGreaterThanOrEqual(Math.ceil(1e7 / maxFps) - 1);
            expect(f.maxFrameSize).toBe(f.fourcc === 'MJPG' ? f.width * f.height : f.width * f.height * 2);
          }
          const candidates = rs.filter((r) => r.cc === 'MJPG' || r.cc === 'YUY2');
          if (!maxFps) expect(out.length).toBe(candidates.length);
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('PinFrameSource', () => {
  it('rejects wrong-state start/stop, sets the committed format, and gets every slot back at stop', async () => {
    const clock = new ManualClock(0n);
    const device = createWebcamDevice(new SyntheticCamera({ pattern: 'checkerboard' }), { clock });
    devices.push(device);
    const filter = await device.createFilter();
    const pin = await filter.createPin(WebcamPin.Capture, {
      format: { subtype: MediaSubtype.YUY2, width: 160, height: 120, frameInterval: 333333n as KsTime },
    });
    const src = new PinFrameSource(filter, pin, { manualClock: clock, fourccs: ['NV12'] });
    expect(new Set(src.formats.map((f) => f.fourcc))).toEqual(new Set(['NV12']));
    await expect(src.stop()).rejects.toThrow(/requires state 'running'/);
    const held: UvcSourceFrame[] = [];
    const f = src.formats.find((x) => x.width === 320)!;
    await src.start(f, 666666, (frame) => held.push(frame));
    await expect(src.start(f, 666666, () => undefined)).rejects.toThrow(/requires state 'stopped'/);
    while (held.length === 0) await new Promise((r) => setImmediate(r));
    expect(pin.format).toMatchObject({ subtype: MediaSubtype.NV12, width: 320, frameInterval: 666666n });
    expect(held[0]!.data.length).toBe(320 * 240 * 1.5);
    expect(src.outstanding).toBe(1);
    const stopping = src.stop();
    held[0]!.release();
    expect(() => held[0]!.release()).toThrow(/released twice/);
    await stopping;
    expect(pin.state).toBe('stop');
    expect([src.outstanding, src.stats.framesLent - src.stats.framesReturned]).toEqual([0, 0]);
  });
});
