// Capabilities from parsed VS descriptors: hal FOURCCs, sizes hal can lay out, discrete/continuous intervals, method 2/3 stills.
import { describe, expect, it } from '@jest/globals';
import type { UvcFormat, UvcFrame, UvcStreamingInterface } from '../uvc/descriptor-types.js';
import { fourccGuid } from '../uvc/descriptor-types.js';
import { fourccOfUvcFormat, uvcVideoCapabilities } from './uvc-camera.js';

const frame = (
  index: number,
  width: number,
  height: number,
  intervals: UvcFrame['intervals'],
  def = 333333,
): UvcFrame => ({
  index,
  subtype: 5,
  capabilities: 0,
  width,
  height,
  minBitRate: 0,
  maxBitRate: 0,
  maxFrameBufferSize: width * height * 2,
  defaultInterval: def,
  intervals,
  offset: 0,
});

const format = (
  index: number,
  type: UvcFormat['type'],
  fourcc: string | null,
  frames: UvcFrame[],
): UvcFormat => ({
  index,
  type,
  subtype: 4,
  guid: fourcc === null ? null : fourccGuid(fourcc),
  fourcc,
  bitsPerPixel: 16,
  declaredFrames: frames.length,
  defaultFrameIndex: 1,
  aspectRatioX: 0,
  aspectRatioY: 0,
  interlaceFlags: 0,
  copyProtect: 0,
  flags: 0,
  frames,
  offset: 0,
});

function streaming(
  method: number,
  formats: UvcFormat[],
  stillFrames: UvcStreamingInterface['stillFrames'],
): UvcStreamingInterface {
  return {
    interfaceNumber: 1,
    header: {
      direction: 'in',
      numFormats: formats.length,
      totalLength: 0,
      endpointAddress: 0x81,
      info: 0,
      terminalLink: 3,
      stillCaptureMethod: method,
      triggerSupport: 1,
      triggerUsage: 0,
      formatControls: formats.map(() => 0),
    },
    endpointAddress: 0x81,
    transfer: 'isochronous',
    altSettings: [],
    formats,
    stillFrames,
  };
}

describe('uvcVideoCapabilities', () => {
  const formats = [
    format(1, 'uncompressed', 'YUY2', [
      frame(1, 640, 480, [666666, 333333, 333333], 333333),
      frame(2, 1280, 720, [1000000], 500000),
    ]),
    format(2, 'frame-based', 'H264', [frame(1, 1920, 1080, [333333])]),
    format(3, 'uncompressed', 'NV12', [
      frame(1, 641, 481, [333333]),
      frame(2, 320, 240, { min: 166666, max: 10000000, step: 1 }),
    ]),
    format(4, 'mjpeg', null, [frame(1, 1920, 1080, [333333])]),
    format(5, 'uncompressed', null, [frame(1, 640, 480, [333333])]),
  ];

  it('maps formats hal can carry, dedupes and sorts intervals, keeps the default, skips sizes hal cannot lay out', () => {
    const { video, stills } = uvcVideoCapabilities(streaming(1, formats, []));
    expect(video.map((v) => v.fourcc)).toEqual(['YUY2', 'NV12', 'MJPG']);
    expect(video[0]!.sizes).toEqual([
      { width: 640, height: 480, intervals: [333333n, 666666n], defaultInterval: 333333n },
      { width: 1280, height: 720, intervals: [1000000n], defaultInterval: 1000000n },
    ]);
    const nv12 = video[1]!.sizes;
    expect(nv12.map((s) => [s.width, s.height])).toEqual([[320, 240]]);
    expect(nv12[0]!.intervals[0]).toBe(166666n);
    expect(nv12[0]!.intervals.at(-1)).toBe(10000000n);
    expect(nv12[0]!.intervals).toContain(333333n);
    expect(stills).toEqual([]); // method 1: no still descriptors used
  });

  it('lists method 2/3 still sizes of the formats it carries', () => {
    const still = [
      { endpointAddress: 0, sizes: [{ width: 2592, height: 1944 }], compression: [], formatIndex: 1 },
      { endpointAddress: 0, sizes: [{ width: 4096, height: 2160 }], compression: [], formatIndex: 2 },
    ];
    for (const method of [2, 3]) {
      expect(uvcVideoCapabilities(streaming(method, formats, still)).stills).toEqual([
        { fourcc: 'YUY2', sizes: [{ width: 2592, height: 1944 }] },
      ]);
    }
    expect(uvcVideoCapabilities(undefined)).toEqual({ video: [], stills: [] });
  });

  it('fourccOfUvcFormat', () => {
    expect(formats.map(fourccOfUvcFormat)).toEqual(['YUY2', undefined, 'NV12', 'MJPG', undefined]);
  });
});
