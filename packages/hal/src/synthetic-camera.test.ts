// Tests of the synthetic camera and its capture engine: timing, buffer balance, controls, stills, fault plans.
import { describe, expect, it } from '@jest/globals';
import { FrameFlag, FrameStatus, type CaptureEngine, type PoolGeometry } from './capture-engine.js';
import { emptyCompletionRecord, type CompletionRecord } from './completion-ring.js';
import { BUILT_IN_SYNTHETIC_KINDS } from './synthetic-kinds.js';
import { Enumerator } from './enumerator.js';
import type { Fault } from './fault-plan.js';
import { HalErrorCode, isHalError } from './hal-error.js';
import type { OpenedHalDevice } from './hal-device.js';
import { renderReference } from './pattern-renderer.js';
import { imageLayout, type VideoFormat } from './pixel-format.js';
import { SyntheticCamera } from './synthetic-camera.js';
import { ManualTimeSource } from './time-source.js';

const FORMAT: VideoFormat = { fourcc: 'YUY2', width: 160, height: 120, interval: 333333n };
const FRAME = imageLayout('YUY2', 160, 120).imageSize;

interface Rig {
  camera: SyntheticCamera;
  session: OpenedHalDevice;
  engine: CaptureEngine;
  clock: ManualTimeSource;
  memory: SharedArrayBuffer;
  geometry: PoolGeometry;
  results: CompletionRecord[];
  read(): CompletionRecord[];
}

async function rig(faults: Fault[] = [], slots = 4, format: VideoFormat = FORMAT): Promise<Rig> {
  const camera = new SyntheticCamera({ pattern: 'moving-box', faults: { faults } });
  const clock = new ManualTimeSource(1_000_000n);
  const session = await camera.open({ timeSource: clock });
  const engine = session.captureEngine();
  const frame = imageLayout(format.fourcc, format.width, format.height).imageSize;
  const slotStride = (frame + 64 + 63) & ~63;
  const geometry: PoolGeometry = { slotCount: slots, dataOffset: 64, slotStride, dataLength: frame };
  const memory = new SharedArrayBuffer(64 + slots * slotStride);
  engine.registerPool(geometry, memory);
  engine.configure(format);
  const results: CompletionRecord[] = [];
  let readIndex = 0;
  const read = (): CompletionRecord[] => {
    const out: CompletionRecord[] = [];
    while (readIndex !== engine.completions.count) {
      const r = emptyCompletionRecord();
      expect(engine.completions.read(readIndex++, r)).toBe(true);
      out.push(r);
      results.push(r);
    }
    return out;
  };
  return { camera, session, engine, clock, memory, geometry, results, read };
}

function expectCode(fn: () => unknown, code: HalErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(isHalError(thrown, code)).toBe(true);
}

const map = (slot: number, cookie = slot + 100, length = FRAME) => ({ slot, offset: 0, length, cookie });

describe('SyntheticCamera', () => {
  it('lists its capabilities: ladder 160x120…3840x2160, 1–120 fps, every FOURCC, stills, controls', () => {
    const cam = new SyntheticCamera();
    const yuy2 = cam.capabilities.video.find((v) => v.fourcc === 'YUY2')!;
    expect(yuy2.sizes[0]).toMatchObject({ width: 160, height: 120 });
    expect(yuy2.sizes.at(-1)).toMatchObject({ width: 3840, height: 2160 });
    expect(yuy2.sizes[0]!.intervals).toContain(83333n);
    expect(yuy2.sizes[0]!.intervals).toContain(10_000_000n);
    expect(cam.capabilities.video.map((v) => v.fourcc)).toEqual([
      'YUY2',
      'UYVY',
      'NV12',
      'I420',
      'RGB24',
      'BGRA',
      'GRAY8',
      'MJPG',
    ]);
    expect(cam.capabilities.stills.length).toBeGreaterThan(0);
    expect(cam.capabilities.controls.find((c) => c.id === 'exposure')).toMatchObject({ autoCapable: true });
  });

  it('produces frame n at start + n × interval into the programmed slot, bit-exact', async () => {
    const r = await rig();
    r.engine.program([map(0), map(1)]);
    await r.engine.start({ startTime: 2_000_000n });
    expect(r.read()).toEqual([]);
    r.clock.advanceTo(2_000_000n);
    let got = r.read();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      cookie: 100,
      slot: 0,
      status: FrameStatus.Ok,
      bytesUsed: FRAME,
      frameIndex: 0n,
      presentationTime: 2_000_000n,
    });
    expect(got[0]!.flags & FrameFlag.FirstFrame).toBeTruthy();
    r.clock.advanceTo(2_000_000n + 333333n);
    got = r.read();
    expect(got[0]).toMatchObject({ cookie: 101, frameIndex: 1n, presentationTime: 2_333_333n, sequence: 1 });
    const ref = new Uint8Array(FRAME);
    renderReference({ pattern: 'moving-box', seed: 0, overlay: true }, FORMAT, 1, ref);
    const slot1 = new Uint8Array(r.memory, r.geometry.dataOffset + r.geometry.slotStride, FRAME);
    expect(Buffer.from(slot1).equals(Buffer.from(ref))).toBe(true);
    await r.session.close();
  });

  it('counts starvation when nothing is programmed and flags the next frame', async () => {
    const r = await rig();
    await r.engine.start({ startTime: 0n + 1_000_000n });
    r.clock.advance(333333n * 2n);
    expect(r.engine.stats().framesStarved).toBe(3);
    r.engine.program([map(2)]);
    r.clock.advance(333333n);
    const [c] = r.read();
    expect(c).toMatchObject({ status: FrameStatus.Ok, frameIndex: 3n, dropsBefore: 3 });
    expect(c!.flags & FrameFlag.Discontinuity).toBeTruthy();
    await r.session.close();
  });

  it('stop() returns every outstanding mapping as Cancelled (buffer balance)', async () => {
    const r = await rig();
    r.engine.program([map(0), map(1), map(2)]);
    await r.engine.start();
    r.clock.advance(0n);
    await r.engine.stop();
    const got = r.read();
    expect(got.map((c) => [c.cookie, c.status])).toEqual([
      [100, FrameStatus.Ok],
      [101, FrameStatus.Cancelled],
      [102, FrameStatus.Cancelled],
    ]);
    expect(r.engine.outstanding).toBe(0);
    expect(r.engine.state).toBe('configured');
    r.clock.advance(10_000_000n);
    expect(r.read()).toEqual([]);
    await r.session.close();
  });

  it('reports Truncated (and writes nothing) for a mapping smaller than the frame', async () => {
    const r = await rig();
    r.engine.program([map(0, 1, FRAME - 4)]);
    await r.engine.start();
    r.clock.advance(0n);
    expect(r.read()[0]).toMatchObject({ status: FrameStatus.Truncated, bytesUsed: 0 });
    expect(new Uint8Array(r.memory).every((v) => v === 0)).toBe(true);
    await r.session.close();
  });

  it('rejects bad mappings and wrong-state calls with typed errors', async () => {
    const r = await rig();
    expect(() => r.engine.program([map(9)])).toThrow(RangeError);
    expect(() => r.engine.program([{ slot: 0, offset: 2, length: 16, cookie: 1 }])).toThrow(RangeError);
    expect(() => r.engine.program([map(0), map(0)])).toThrow(RangeError);
    expect(() => r.engine.program([{ slot: 0, offset: 0, length: FRAME + 1, cookie: 1 }])).toThrow(
      RangeError,
    );
    expect(r.engine.outstanding).toBe(0);
    await r.engine.start();
    await expect(r.engine.start()).rejects.toMatchObject({ code: HalErrorCode.InvalidState });
    expect(() => r.engine.configure(FORMAT)).toThrow(
      /requires state 'idle' or 'configured', current state is 'running'/,
    );
    expect(() => r.engine.configure({ ...FORMAT, fourcc: 'YUY2', width: 100, height: 100 })).toThrow();
    await r.session.close();
    await expect(r.camera.open()).resolves.toBeDefined();
  });

  it('open is exclusive', async () => {
    const cam = new SyntheticCamera();
    const s = await cam.open({ timeSource: new ManualTimeSource() });
    await expect(cam.open()).rejects.toMatchObject({ code: HalErrorCode.Busy });
    await s.close();
    await s.close();
    expect(cam.state).toBe('closed');
    expect(() => s.getControl('brightness')).toThrow(/closed/);
  });

  it('controls: ranges, steps, auto modes; brightness changes the picture', async () => {
    const r = await rig();
    expect(r.session.getControl('brightness')).toBe(0);
    expect(() => r.session.setControl('brightness', 65)).toThrow(RangeError);
    expect(() => r.session.setControl('focus', 3)).toThrow(RangeError);
    expectCode(() => r.session.setControl('exposure', 200), HalErrorCode.Busy);
    r.session.setAuto('exposure', false);
    r.session.setControl('exposure', 200);
    expect(r.session.getControl('exposure')).toBe(200);
    expectCode(() => r.session.setAuto('brightness', true), HalErrorCode.Unsupported);
    expectCode(() => r.session.getControl('iris'), HalErrorCode.NotFound);
    r.session.setControl('brightness', 10);
    r.engine.program([map(0)]);
    await r.engine.start();
    r.clock.advance(0n);
    const ref = new Uint8Array(FRAME);
    renderReference(
      {
        pattern: 'moving-box',
        seed: 0,
        overlay: true,
        adjustments: { brightness: 10, contrast: 100, saturation: 100, hue: 0, gamma: 100 },
      },
      FORMAT,
      0,
      ref,
    );
    const slot0 = new Uint8Array(r.memory, r.geometry.dataOffset, FRAME);
    expect(Buffer.from(slot0).equals(Buffer.from(ref))).toBe(true);
    await r.session.close();
  });

  it('captures stills at the still sizes only', async () => {
    const cam = new SyntheticCamera({ pattern: 'smpte-bars' });
    const s = await cam.open({ timeSource: new ManualTimeSource() });
    const target = new Uint8Array(imageLayout('YUY2', 2592, 1944).imageSize);
    const res = await s.captureStill('YUY2', 2592, 1944, target);
    expect(res.bytesUsed).toBe(target.length);
    expect(target[0]).toBe(180); // 75 % white bar at the top-left corner
    expect(target[(16 * 2592 + 16) * 2]).toBe(16); // overlay plate (black)
    await expect(s.captureStill('YUY2', 640, 480, target)).rejects.toMatchObject({
      code: HalErrorCode.Unsupported,
    });
    await expect(s.captureStill('YUY2', 2592, 1944, new Uint8Array(10))).rejects.toThrow(RangeError);
    await s.close();
  });

  it('is listed by the Enumerator under its id, with add/remove events', async () => {
    const e = new Enumerator({ synthetic: [{ kind: 'camera' }] }, BUILT_IN_SYNTHETIC_KINDS);
    expect((await e.list()).map((d) => d.identity.id)).toEqual(['synthetic:camera']);
    const seen: string[] = [];
    e.on('add', (d) => seen.push(`+${d.identity.id}`));
    e.on('remove', (id) => seen.push(`-${id}`));
    e.addSynthetic({ kind: 'camera', id: 'synthetic:camera2', options: { pattern: 'noise', seed: 3 } });
    expect((await e.find('synthetic:camera2?pattern=noise')).identity.name).toBe('ksemu Synthetic Camera');
    expect(e.removeSynthetic('synthetic:camera2')).toBe(true);
    expect(seen).toEqual(['+synthetic:camera2', '-synthetic:camera2']);
    await expect(e.find('synthetic:nope')).rejects.toMatchObject({ code: HalErrorCode.NotFound });
    expectCode(() => e.addSynthetic({ kind: 'camera' }), HalErrorCode.Busy);
    expectCode(() => e.addSynthetic({ kind: 'toaster' }), HalErrorCode.NotFound);
  });
});

describe('fault plans on the synthetic camera', () => {
  it('fail-start: the next start rejects with the typed error, the one after works', async () => {
    const r = await rig([{ kind: 'fail-start' }]);
    r.engine.program([map(0)]);
    const err: unknown = await r.engine.start().catch((e: unknown) => e);
    expect(isHalError(err, HalErrorCode.StartFailed)).toBe(true);
    expect(r.engine.state).toBe('configured');
    expect(r.engine.outstanding).toBe(1);
    await r.engine.start();
    r.clock.advance(0n);
    expect(r.read()[0]).toMatchObject({ status: FrameStatus.Ok });
    await r.session.close();
  });

  it('drop: N % of frames complete Dropped, deterministically from seed and frame number', async () => {
    const run = async (): Promise<number[]> => {
      const r = await rig([{ kind: 'drop', percent: 30, seed: 9 }]);
      await r.engine.start();
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) {
        r.engine.program([map(i % 4, i)]);
        r.clock.advance(i === 0 ? 0n : 333333n);
        statuses.push(...r.read().map((c) => c.status));
      }
      expect(r.engine.outstanding + statuses.length).toBe(200);
      await r.session.close();
      return statuses;
    };
    const a = await run();
    const dropped = a.filter((s) => s === FrameStatus.Dropped).length;
    expect(dropped).toBeGreaterThan(40);
    expect(dropped).toBeLessThan(80);
    expect(await run()).toEqual(a);
  });

  it('corrupt: the listed frame is delivered with status Corrupt and damaged bytes', async () => {
    const r = await rig([{ kind: 'corrupt', frames: [1] }]);
    r.engine.program([map(0), map(1), map(2)]);
    await r.engine.start();
    r.clock.advance(333333n * 2n);
    const got = r.read();
    expect(got.map((c) => c.status)).toEqual([FrameStatus.Ok, FrameStatus.Corrupt, FrameStatus.Ok]);
    expect(got[1]!.bytesUsed).toBe(FRAME);
    const ref = new Uint8Array(FRAME);
    renderReference({ pattern: 'moving-box', seed: 0, overlay: true }, FORMAT, 1, ref);
    const slot1 = new Uint8Array(r.memory, r.geometry.dataOffset + r.geometry.slotStride, FRAME);
    expect(Buffer.from(slot1).equals(Buffer.from(ref))).toBe(false);
    expect(r.engine.stats().framesCorrupted).toBe(1);
    await r.session.close();
  });

  it('disconnect at frame k: outstanding mappings complete Disconnected, calls then throw Disconnected', async () => {
    const r = await rig([{ kind: 'disconnect', atFrame: 2 }]);
    const reasons: unknown[] = [];
    r.camera.on('disconnect', (reason) => reasons.push(reason));
    r.engine.program([map(0), map(1), map(2), map(3)]);
    await r.engine.start();
    r.clock.advance(333333n * 5n);
    expect(r.read().map((c) => c.status)).toEqual([
      FrameStatus.Ok,
      FrameStatus.Ok,
      FrameStatus.Disconnected,
      FrameStatus.Disconnected,
    ]);
    expect(r.engine.outstanding).toBe(0);
    expect(reasons).toHaveLength(1);
    expect(isHalError(reasons[0], HalErrorCode.Disconnected)).toBe(true);
    expect(r.camera.state).toBe('disconnected');
    expectCode(() => r.engine.program([map(0)]), HalErrorCode.Disconnected);
    expectCode(() => r.session.getControl('gain'), HalErrorCode.Disconnected);
    await expect(r.camera.open()).rejects.toMatchObject({ code: HalErrorCode.Disconnected });
    await r.session.close();
  });

  it('unplug(): same as a disconnect fault', async () => {
    const r = await rig();
    r.engine.program([map(0)]);
    r.camera.unplug();
    expect(r.read()).toEqual([expect.objectContaining({ status: FrameStatus.Disconnected, cookie: 100 })]);
    expect(r.camera.state).toBe('disconnected');
    await r.session.close();
  });

  it('starve: frames in the window are lost even with mappings programmed', async () => {
    const r = await rig([{ kind: 'starve', fromFrame: 1, toFrame: 3 }]);
    r.engine.program([map(0), map(1)]);
    await r.engine.start();
    r.clock.advance(333333n * 3n);
    const got = r.read();
    expect(got.map((c) => [c.frameIndex, c.dropsBefore])).toEqual([
      [0n, 0],
      [3n, 2],
    ]);
    expect(r.engine.stats().framesStarved).toBe(2);
    await r.session.close();
  });

  it('near-wrap: sequence wraps to 0 after k frames and is flagged; times stay start + n × interval', async () => {
    const r = await rig([{ kind: 'near-wrap', framesBeforeWrap: 2 }]);
    r.engine.program([map(0), map(1), map(2)]);
    await r.engine.start({ startTime: 0n });
    r.clock.advance(333333n * 2n);
    const got = r.read();
    expect(got.map((c) => c.sequence)).toEqual([4294967294, 4294967295, 0]);
    expect(got.map((c) => c.frameIndex)).toEqual([4294967294n, 4294967295n, 4294967296n]);
    expect(got[2]!.flags & FrameFlag.SequenceWrapped).toBeTruthy();
    expect(got[2]!.presentationTime).toBe(4294967296n * 333333n);
    await r.session.close();
  });

  it('rejects malformed fault plans', () => {
    expect(() => new SyntheticCamera({ faults: { faults: [{ kind: 'drop', percent: 101 }] } })).toThrow(
      RangeError,
    );
    expect(() => new SyntheticCamera({ faults: { faults: [{ kind: 'boom' } as unknown as Fault] } })).toThrow(
      TypeError,
    );
  });
});

describe('synthetic camera on the real clock', () => {
  it('delivers frames by itself at the configured rate (SystemTimeSource)', async () => {
    const camera = new SyntheticCamera({ pattern: 'smpte-bars' });
    const session = await camera.open();
    const engine = session.captureEngine();
    const format: VideoFormat = { fourcc: 'NV12', width: 160, height: 120, interval: 20_000n }; // 500 fps
    const frame = imageLayout('NV12', 160, 120).imageSize;
    engine.registerPool(
      { slotCount: 3, dataOffset: 0, slotStride: (frame + 63) & ~63, dataLength: frame },
      new SharedArrayBuffer(3 * ((frame + 63) & ~63)),
    );
    expectCode(() => engine.configure(format), HalErrorCode.Unsupported); // 500 fps is not offered…
    engine.configure({ ...format, interval: 83333n }); // …120 fps is
    engine.program([0, 1, 2].map((slot) => ({ slot, offset: 0, length: frame, cookie: slot })));
    const done = new Promise<void>((resolve) => engine.onCompletion((count) => count >= 3 && resolve()));
    await engine.start();
    await done;
    const first = emptyCompletionRecord();
    const third = emptyCompletionRecord();
    expect(engine.completions.read(0, first) && engine.completions.read(2, third)).toBe(true);
    expect(third).toMatchObject({ status: FrameStatus.Ok, frameIndex: 2n, bytesUsed: frame });
    expect(third.presentationTime - first.presentationTime).toBe(2n * 83333n);
    await session.close();
  });
});
