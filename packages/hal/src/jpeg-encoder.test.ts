// Tests of the MJPEG path: marker structure of every frame, truncation, and decoding by ffmpeg when installed.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { MjpegRenderer } from './mjpeg-renderer.js';
import { PATTERN_KINDS } from './pattern.js';

interface Segment {
  marker: number;
  length: number;
  body: Uint8Array;
}

/** Splits a JPEG into its marker segments up to SOS, then checks the entropy data up to EOI. */
function parseJpeg(bytes: Uint8Array): { segments: Segment[]; scanBytes: number } {
  expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
  const segments: Segment[] = [];
  let at = 2;
  for (;;) {
    expect(bytes[at]).toBe(0xff);
    const marker = bytes[at + 1]!;
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    segments.push({ marker, length, body: bytes.subarray(at + 4, at + 2 + length) });
    at += 2 + length;
    if (marker === 0xda) break;
  }
  let scanBytes = 0;
  for (; at < bytes.length - 2; at++, scanBytes++) {
    // Inside entropy-coded data every 0xFF is stuffed with 0x00 (no restart markers are used).
    if (bytes[at] === 0xff) {
      expect(bytes[at + 1]).toBe(0x00);
      at++;
    }
  }
  expect([bytes[bytes.length - 2], bytes[bytes.length - 1]]).toEqual([0xff, 0xd9]);
  return { segments, scanBytes };
}

const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;

describe('MJPEG', () => {
  it('every frame is a baseline JFIF with DQT, SOF0 (4:2:0), DHT, SOS and EOI', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 40 }),
        fc.integer({ min: 8, max: 30 }),
        fc.constantFrom(...PATTERN_KINDS),
        fc.nat(100000),
        (hw, hh, pattern, n) => {
          const width = hw * 2;
          const height = hh * 2;
          const r = new MjpegRenderer(
            { pattern, seed: 1 },
            { fourcc: 'MJPG', width, height, interval: 333333n },
          );
          const out = new Uint8Array(r.layout.imageSize);
          const len = r.render(out, 0, out.length, n, -1);
          expect(len).toBeGreaterThan(600);
          const { segments, scanBytes } = parseJpeg(out.subarray(0, len));
          expect(segments.map((s) => s.marker)).toEqual([0xe0, 0xdb, 0xc0, 0xc4, 0xda]);
          const sof = segments[2]!.body;
          expect(sof[0]).toBe(8);
          expect((sof[1]! << 8) | sof[2]!).toBe(height);
          expect((sof[3]! << 8) | sof[4]!).toBe(width);
          expect(Array.from(sof.subarray(5, 15))).toEqual([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
          expect(scanBytes).toBeGreaterThan(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports -1 when the frame does not fit the mapping', () => {
    const r = new MjpegRenderer(
      { pattern: 'noise' },
      { fourcc: 'MJPG', width: 64, height: 48, interval: 333333n },
    );
    expect(r.render(new Uint8Array(500), 0, 500, 0, -1)).toBe(-1);
  });

  (hasFfmpeg ? it : it.skip)(
    'ffmpeg decodes the frames to the expected colours (skipped without ffmpeg)',
    () => {
      const r = new MjpegRenderer(
        { pattern: 'smpte-bars', overlay: false },
        { fourcc: 'MJPG', width: 320, height: 240, interval: 333333n },
      );
      const out = new Uint8Array(r.layout.imageSize);
      const len = r.render(out, 0, out.length, 3, -1);
      const res = spawnSync(
        'ffmpeg',
        ['-v', 'error', '-f', 'mjpeg', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
        {
          input: out.subarray(0, len),
        },
      );
      expect(res.status).toBe(0);
      const rgb = res.stdout;
      expect(rgb.length).toBe(320 * 240 * 3);
      // Middle of the yellow bar (75 %: 191, 191, 0) and of the blue bar (0, 0, 191), row 40.
      const px = (x: number, y: number): number[] =>
        Array.from(rgb.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3));
      const near = (got: number[], want: number[]): boolean =>
        got.every((v, i) => Math.abs(v - want[i]!) <= 6);
      expect(near(px(68, 40), [191, 191, 0])).toBe(true);
      expect(near(px(297, 40), [0, 0, 191])).toBe(true);
    },
  );
});
