// fast-check: random program/advance/stop/unplug sequences over the fake UVC camera keep the CaptureEngine's buffer balance and frame order.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameStatus } from '../capture-engine.js';
import { emptyCompletionRecord } from '../completion-ring.js';
import { ManualTimeSource } from '../time-source.js';
import {
  FakeUvcDevice,
  FakeUvcProvider,
  defaultFakeUvcDescription,
  fakeFrameByte,
} from '../testing/fake-uvc-device.js';
import { frameIntervals } from './uvc-camera.js';
import { UvcDeviceProvider } from './uvc-device-provider.js';

const SIZE = 160 * 120 * 2;
const FPS30 = 333333n;

type Op =
  | { kind: 'program'; count: number }
  | { kind: 'advance'; frames: number }
  | { kind: 'restart' }
  | { kind: 'unplug' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('program' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('advance' as const), frames: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('restart' as const) }),
  fc.record({ kind: fc.constant('unplug' as const) }),
);

describe('UvcCaptureEngine (property)', () => {
  it('every mapping completes exactly once, in order; data completions are byte-exact and increasing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('bulk' as const, 'isochronous' as const),
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 7 }),
        async (transfer, ops, corruptMod) => {
          const clock = new ManualTimeSource(0n);
          const fake = new FakeUvcDevice({
            timeSource: clock,
            description: defaultFakeUvcDescription(transfer),
            corruptFrame: (n) => corruptMod > 0 && n % (corruptMod + 1) === corruptMod,
          });
          const usb = new FakeUvcProvider([fake]);
          const [cam] = await new UvcDeviceProvider(usb).list();
          const session = await cam!.open({ timeSource: clock });
          const engine = session.captureEngine();
          const slots = 4;
          const memory = new SharedArrayBuffer(SIZE * slots);
          const bytes = new Uint8Array(memory);
          engine.registerPool(
            { slotCount: slots, dataOffset: 0, slotStride: SIZE, dataLength: SIZE },
            memory,
          );
          engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
          const free = [0, 1, 2, 3];
          const programmed: number[] = [];
          const completed: number[] = [];
          let cookie = 0;
          let read = 0;
          let lastIndex = -1;
          const rec = emptyCompletionRecord();
          const drain = (): void => {
            while (read < engine.completions.count) {
              engine.completions.read(read++, rec);
              completed.push(rec.cookie);
              free.push(rec.slot);
              if (rec.status === FrameStatus.Ok || rec.status === FrameStatus.Corrupt) {
                const n = Number(rec.frameIndex);
                expect(n).toBeGreaterThan(lastIndex);
                lastIndex = n;
                expect(rec.bytesUsed).toBe(SIZE);
                const d = bytes.subarray(rec.slot * SIZE, rec.slot * SIZE + SIZE);
                for (let i = 0; i < SIZE; i += 997) expect(d[i]).toBe(fakeFrameByte(n, i));
              }
            }
          };
          await engine.start();
          for (const o of ops) {
            if (engine.state === 'disconnected') break;
            if (o.kind === 'program') {
              const n = Math.min(o.count, free.length);
              const ms = free
                .splice(0, n)
                .map((slot) => ({ slot, offset: 0, length: SIZE, cookie: cookie++ }));
              engine.program(ms);
              programmed.push(...ms.map((m) => m.cookie));
            } else if (o.kind === 'advance') {
              clock.advance(FPS30 * BigInt(o.frames));
            } else if (o.kind === 'restart') {
              await engine.stop();
              drain();
              lastIndex = -1;
              await engine.start();
            } else {
              usb.unplug(fake);
            }
            drain();
            expect(engine.outstanding).toBe(programmed.length - completed.length);
          }
          await session.close();
          drain();
          expect(completed).toEqual(programmed);
          expect(engine.outstanding).toBe(0);
          await new Promise((r) => setImmediate(r));
          expect(usb.opened.every((t) => t.state !== 'open' && t.runningStreams === 0)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('frameIntervals: sorted, unique, positive, inside a continuous range and containing both ends', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000_000 }),
        fc.integer({ min: 0, max: 20_000_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        (min, extra, step) => {
          const max = min + extra;
          const out = frameIntervals({ min, max, step });
          expect(out.length).toBeGreaterThan(0);
          expect(out[0]).toBe(min);
          for (let i = 1; i < out.length; i++) expect(out[i]!).toBeGreaterThan(out[i - 1]!);
          expect(out.every((x) => x >= min && x <= max)).toBe(true);
          if (step === 0 || extra / step > 15) expect(out.at(-1)).toBe(max);
        },
      ),
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 10_000_000 })), (list) => {
        const out = frameIntervals(list);
        expect(out).toEqual([...new Set(list.filter((x) => x > 0))].sort((a, b) => a - b));
      }),
    );
  });
});
