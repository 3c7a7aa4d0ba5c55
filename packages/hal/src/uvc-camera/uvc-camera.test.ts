// UvcCamera + UvcCaptureEngine + UvcDeviceProvider against the fake UVC device (hal's own device-side UVC code).
import { describe, expect, it } from '@jest/globals';
import { FrameFlag, FrameStatus, type CaptureEngine } from '../capture-engine.js';
import { emptyCompletionRecord, type CompletionRecord } from '../completion-ring.js';
import { isHalError } from '../hal-error.js';
import type { VideoFormat } from '../pixel-format.js';
import { ManualTimeSource } from '../time-source.js';
import {
  FakeUvcDevice,
  FakeUvcProvider,
  defaultFakeUvcDescription,
  fakeFrameByte,
  fakeMjpegSize,
  STILL_NUMBER_BASE,
} from '../testing/fake-uvc-device.js';
import type { FakeUvcDeviceOptions } from '../testing/fake-uvc-device.js';
import type { UvcCamera } from './uvc-camera.js';
import type { UvcCameraSession } from './uvc-camera-session.js';
import { UvcDeviceProvider } from './uvc-device-provider.js';
import type { UvcCaptureEngine } from './uvc-capture-engine.js';

const FPS30 = 333333n;

function rig(
  transfer: 'bulk' | 'isochronous' = 'bulk',
  extra: Partial<FakeUvcDeviceOptions> = {},
  iso = true,
) {
  const clock = new ManualTimeSource(1_000_000n);
  const device = new FakeUvcDevice({
    timeSource: clock,
    description: defaultFakeUvcDescription(transfer),
    ...extra,
  });
  const usb = new FakeUvcProvider([device], iso);
  const provider = new UvcDeviceProvider(usb);
  return { clock, device, usb, provider };
}

async function firstCamera(provider: UvcDeviceProvider): Promise<UvcCamera> {
  const list = await provider.list();
  expect(list).toHaveLength(1);
  return list[0] as UvcCamera;
}

/** rig() with its one camera opened: the session and its UVC capture engine. */
async function openedRig(...args: Parameters<typeof rig>) {
  const r = rig(...args);
  const cam = await firstCamera(r.provider);
  const session = await cam.open({ timeSource: r.clock });
  return { ...r, cam, session, engine: session.captureEngine() as UvcCaptureEngine };
}

/** Pool of `slots` slots of `size` bytes, all programmed; returns a drain that checks and reprograms. */
function pool(engine: CaptureEngine, slots: number, size: number) {
  const stride = Math.ceil(size / 4) * 4;
  const memory = new SharedArrayBuffer(stride * slots);
  engine.registerPool({ slotCount: slots, dataOffset: 0, slotStride: stride, dataLength: size }, memory);
  const bytes = new Uint8Array(memory);
  let read = engine.completions.count;
  const rec: CompletionRecord = emptyCompletionRecord();
  const drain = (reprogram = true): CompletionRecord[] => {
    const out: CompletionRecord[] = [];
    while (read < engine.completions.count) {
      expect(engine.completions.read(read++, rec)).toBe(true);
      out.push({ ...rec });
      if (reprogram)
        engine.program([{ slot: rec.slot, offset: rec.offset, length: size, cookie: rec.cookie }]);
    }
    return out;
  };
  const programAll = (): void =>
    engine.program(
      Array.from({ length: slots }, (_, i) => ({ slot: i, offset: 0, length: size, cookie: 100 + i })),
    );
  const slot = (i: number): Uint8Array => bytes.subarray(i * stride, i * stride + size);
  return { drain, programAll, slot };
}

function checkUncompressed(data: Uint8Array, n: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (data[i] !== fakeFrameByte(n, i)) return false;
  return true;
}

async function stream(
  transfer: 'bulk' | 'isochronous',
  format: VideoFormat,
  frames: number,
  mjpeg = false,
): Promise<{ good: number; records: CompletionRecord[] }> {
  const { clock, usb, session, engine } = await openedRig(transfer);
  const size = mjpeg ? 16384 : format.width * format.height * (format.fourcc === 'NV12' ? 1.5 : 2);
  const p = pool(engine, 4, size);
  engine.configure(format);
  p.programAll();
  await engine.start();
  const records: CompletionRecord[] = [];
  let good = 0;
  for (let k = 0; k < frames; k++) {
    clock.advance(format.interval);
    for (const r of p.drain(false)) {
      records.push(r);
      const data = p.slot(r.slot);
      const n = Number(r.frameIndex);
      const ok = mjpeg
        ? r.bytesUsed === fakeMjpegSize(n, 16384) &&
          data[0] === 0xff &&
          data[1] === 0xd8 &&
          data[2] === (n & 0xff)
        : r.bytesUsed === size && checkUncompressed(data, n, size);
      if (r.status === FrameStatus.Ok && ok) good++;
      engine.program([{ slot: r.slot, offset: 0, length: size, cookie: r.cookie }]);
    }
  }
  await engine.stop();
  await session.close();
  expect(usb.opened.every((t) => t.state === 'closed' && t.runningStreams === 0)).toBe(true);
  return { good, records };
}

describe('UvcCamera identity and capabilities', () => {
  it('lists the fake camera with identity, formats, intervals and controls from its descriptors', async () => {
    const { provider, usb } = rig();
    const cam = await firstCamera(provider);
    expect(cam.identity).toMatchObject({
      id: 'usb:1209:0c01:FAKE0001',
      kind: 'camera',
      transport: 'usb',
      vendorId: 0x1209,
      productId: 0x0c01,
      name: 'ksemu Fake UVC Camera',
      manufacturer: 'ksemu',
      serial: 'FAKE0001',
      location: 'usb:1-2',
    });
    const video = cam.capabilities.video;
    expect(video.map((v) => v.fourcc)).toEqual(['YUY2', 'NV12', 'MJPG']);
    expect(video[0]!.sizes.map((s) => [s.width, s.height, s.intervals])).toEqual([
      [160, 120, [333333n, 666666n]],
      [320, 240, [333333n, 666666n, 1000000n]],
    ]);
    // continuous range min 333333 max 1000000 step 333333 → its steps
    expect(video[1]!.sizes[0]!.intervals).toEqual([333333n, 666666n, 999999n]);
    const ids = cam.capabilities.controls.map((c) => c.id);
    expect(ids).toEqual([
      'brightness',
      'contrast',
      'white-balance-temperature',
      'gain',
      'power-line-frequency',
      'exposure',
      'focus',
      'pan',
      'tilt',
    ]);
    const byId = new Map(cam.capabilities.controls.map((c) => [c.id, c]));
    expect(byId.get('brightness')).toMatchObject({
      min: -64,
      max: 64,
      step: 1,
      default: 0,
      autoCapable: false,
    });
    expect(byId.get('white-balance-temperature')).toMatchObject({
      min: 2800,
      max: 6500,
      step: 10,
      autoCapable: true,
      autoDefault: true,
    });
    expect(byId.get('exposure')).toMatchObject({ min: 3, max: 2047, autoCapable: true, autoDefault: true });
    expect(byId.get('pan')).toMatchObject({ min: -36000, max: 36000, step: 3600 });
    expect(byId.get('power-line-frequency')).toMatchObject({
      type: 'menu',
      menu: ['Disabled', '50 Hz', '60 Hz'],
    });
    // the same object on every list; the probe's transport was closed
    expect((await provider.list())[0]).toBe(cam);
    expect(usb.opened.every((t) => t.state === 'closed')).toBe(true);
  });

  it('skips USB devices without a UVC function and survives a failing device', async () => {
    const { provider } = rig();
    const notCamera = new FakeUvcProvider([]);
    expect(await new UvcDeviceProvider(notCamera).list()).toEqual([]);
    expect(await provider.list()).toHaveLength(1);
  });
});

describe('UvcCamera open/close and the kernel driver', () => {
  it('claims on open, refuses a second open, releases on close', async () => {
    const { clock, provider, device, usb } = rig();
    const cam = await firstCamera(provider);
    const session = await cam.open({ timeSource: clock });
    expect(cam.state).toBe('open');
    expect(device.claimedBy(0)).toBeDefined();
    expect(device.claimedBy(1)).toBeDefined();
    await expect(cam.open()).rejects.toMatchObject({ code: 'Busy' });
    await session.close();
    await session.close();
    expect(cam.state).toBe('closed');
    expect(device.claimedBy(0)).toBeUndefined();
    expect(device.openTransports).toBe(0);
    expect(() => session.getControl('brightness')).toThrow(/closed/);
    expect(usb.opened.every((t) => t.state === 'closed')).toBe(true);
  });

  it('a kernel-held interface gives Busy naming uvcvideo; detachKernelDriver detaches and reattaches', async () => {
    const { clock, provider, device } = rig('bulk', { kernelDriverBound: true });
    const cam = await firstCamera(provider);
    // The VC interface was held at enumeration: control ranges come at open.
    expect(cam.capabilities.controls).toEqual([]);
    const err = await cam.open({ timeSource: clock }).catch((e: unknown) => e);
    expect(isHalError(err, 'Busy')).toBe(true);
    expect((err as Error).message).toMatch(/uvcvideo/);
    expect((err as Error).message).toMatch(/detachKernelDriver/);
    expect(cam.state).toBe('closed');
    expect(device.openTransports).toBe(0);
    const session = await cam.open({ timeSource: clock, detachKernelDriver: true });
    expect(device.kernelBound.size).toBe(0);
    expect(cam.capabilities.controls.length).toBeGreaterThan(0);
    expect(session.getControl('brightness')).toBe(0);
    await session.close();
    expect([...device.kernelBound].sort()).toEqual([0, 1]);
  });
});

describe('UvcCaptureEngine negotiation', () => {
  it('negotiates every format, size and interval of the camera', async () => {
    const { cam, session, engine } = await openedRig();
    pool(engine, 2, 320 * 240 * 2);
    let n = 0;
    for (const v of cam.capabilities.video) {
      for (const s of v.sizes) {
        for (const interval of s.intervals) {
          engine.configure({ fourcc: v.fourcc, width: s.width, height: s.height, interval });
          await engine.start();
          const c = engine.negotiation!.committed;
          const fmt = cam.resolve({ fourcc: v.fourcc, width: s.width, height: s.height, interval })!;
          expect([c.formatIndex, c.frameIndex, c.frameInterval]).toEqual([
            fmt.format.index,
            fmt.frame.index,
            Number(interval),
          ]);
          if (v.fourcc !== 'MJPG')
            expect(c.maxVideoFrameSize).toBe((s.width * s.height * (v.fourcc === 'NV12' ? 12 : 16)) / 8);
          await engine.stop();
          n++;
        }
      }
    }
    expect(n).toBe(9);
    expect(() => engine.configure({ fourcc: 'YUY2', width: 640, height: 480, interval: FPS30 })).toThrow(
      expect.objectContaining({ code: 'Unsupported' }),
    );
    expect(() => engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: 400000n })).toThrow(
      expect.objectContaining({ code: 'Unsupported' }),
    );
    await session.close();
  });

  it('picks the smallest iso alternate setting that fits and returns to alt 0 at stop', async () => {
    const { device, session, engine } = await openedRig('isochronous');
    pool(engine, 2, 320 * 240 * 2);
    engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
    await engine.start();
    // 38400 B × 30 fps / 8000 µframes + 12 = 156 B per interval → alt 1 (512 B)
    expect(engine.negotiation).toMatchObject({ alt: 1, bytesPerInterval: 512 });
    expect(device.alt).toBe(1);
    await engine.stop();
    expect(device.alt).toBe(0);
    engine.configure({ fourcc: 'YUY2', width: 320, height: 240, interval: FPS30 });
    await engine.start();
    expect(engine.negotiation).toMatchObject({ alt: 2, bytesPerInterval: 1024 });
    await engine.stop();
    await session.close();
  });

  it('an iso camera on a backend without iso fails start with Unsupported', async () => {
    const { session, engine } = await openedRig('isochronous', {}, false);
    const p = pool(engine, 2, 38400);
    engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
    p.programAll();
    const err = await engine.start().catch((e: unknown) => e);
    expect(isHalError(err, 'Unsupported')).toBe(true);
    expect((err as Error).message).toMatch(/node-usb/);
    expect(engine.state).toBe('configured');
    await session.close();
  });
});

describe('UvcCaptureEngine streaming', () => {
  for (const transfer of ['bulk', 'isochronous'] as const) {
    it(`${transfer}: 120 YUY2 frames, byte-exact, in order, timestamped start + n × interval`, async () => {
      const { good, records } = await stream(
        transfer,
        { fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 },
        120,
      );
      expect(good).toBe(120);
      expect(records.map((r) => Number(r.frameIndex))).toEqual(Array.from({ length: 120 }, (_, i) => i));
      expect(records[0]!.flags & FrameFlag.FirstFrame).not.toBe(0);
      expect(records.every((r) => r.dropsBefore === 0 && r.duration === FPS30)).toBe(true);
      const t0 = records[0]!.presentationTime;
      expect(records.every((r, i) => r.presentationTime === t0 + BigInt(i) * FPS30)).toBe(true);
    });
  }

  it('bulk: NV12 and MJPEG frames', async () => {
    expect(
      (await stream('bulk', { fourcc: 'NV12', width: 160, height: 120, interval: 666666n }, 10)).good,
    ).toBe(10);
    expect(
      (await stream('bulk', { fourcc: 'MJPG', width: 160, height: 120, interval: FPS30 }, 10, true)).good,
    ).toBe(10);
  });

  it('starvation: frames without a mapping are skipped and counted; the next completion says so', async () => {
    const { clock, session, engine } = await openedRig();
    const p = pool(engine, 2, 38400);
    engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
    engine.program([{ slot: 0, offset: 0, length: 38400, cookie: 7 }]);
    await engine.start();
    clock.advance(FPS30 * 4n); // frames 0..3: only frame 0 has a mapping
    let got = p.drain(false);
    expect(got.map((r) => [r.cookie, r.status, Number(r.frameIndex)])).toEqual([[7, FrameStatus.Ok, 0]]);
    engine.program([{ slot: 1, offset: 0, length: 38400, cookie: 8 }]);
    clock.advance(FPS30);
    got = p.drain(false);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ cookie: 8, status: FrameStatus.Ok, frameIndex: 4n, dropsBefore: 3 });
    expect(got[0]!.flags & FrameFlag.Discontinuity).not.toBe(0);
    expect(checkUncompressed(p.slot(1), 4, 38400)).toBe(true);
    expect(engine.stats()).toMatchObject({ framesStarved: 3, framesCompleted: 2, framesProduced: 5 });
    await session.close();
  });

  it('ERR-bit frames complete Corrupt; a too-small mapping completes Truncated', async () => {
    const { clock, session, engine } = await openedRig('bulk', { corruptFrame: (n) => n % 3 === 1 });
    const p = pool(engine, 4, 38400);
    engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
    p.programAll();
    await engine.start();
    const statuses: number[] = [];
    for (let k = 0; k < 6; k++) {
      clock.advance(FPS30);
      for (const r of p.drain()) statuses.push(r.status);
    }
    expect(statuses).toEqual([0, 2, 0, 0, 2, 0].map((s) => s as number));
    expect(engine.stats()).toMatchObject({ framesCorrupted: 2, framesCompleted: 6 });
    await engine.stop();
    const small = pool(engine, 1, 1000);
    engine.program([{ slot: 0, offset: 0, length: 1000, cookie: 1 }]);
    await engine.start();
    clock.advance(FPS30);
    expect(small.drain(false)).toEqual([
      expect.objectContaining({ status: FrameStatus.Truncated, bytesUsed: 0 }),
    ]);
    await session.close();
  });

  // With stopLeftovers the fake still delivers transfers after stop began (a new frame, then its FID
  // toggling), as usbfs reaps the URBs it discarded: without the engine's guard they finished a 14-byte
  // frame, delivered Corrupt (short) instead of Cancelled.
  it.each([false, true])(
    'stop completes outstanding mappings Cancelled and clears the bulk halt; restart works (transfers reaped after stop: %s)',
    async (stopLeftovers) => {
      const { clock, usb, session, engine } = await openedRig('bulk', { stopLeftovers });
      const p = pool(engine, 3, 38400);
      engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
      p.programAll();
      await engine.start();
      clock.advance(FPS30);
      await engine.stop();
      const r = p.drain(false);
      expect(r.map((x) => x.status)).toEqual([FrameStatus.Ok, FrameStatus.Cancelled, FrameStatus.Cancelled]);
      expect(engine.stats().framesCorrupted).toBe(0);
      expect(engine.outstanding).toBe(0);
      expect(usb.opened.at(-1)!.runningStreams).toBe(0);
      p.programAll();
      await engine.start();
      clock.advance(FPS30);
      expect(p.drain(false)[0]).toMatchObject({ status: FrameStatus.Ok, frameIndex: 0n });
      await session.close();
    },
  );

  it('unplug mid-stream: outstanding mappings complete Disconnected, the device emits disconnect, nothing leaks', async () => {
    const { clock, provider, usb, device } = rig('isochronous');
    const removed: string[] = [];
    const unwatch = provider.watch({ added: () => undefined, removed: (id) => removed.push(id) });
    const cam = await firstCamera(provider);
    const reasons: unknown[] = [];
    cam.on('disconnect', (e) => reasons.push(e));
    const session = await cam.open({ timeSource: clock });
    const engine = session.captureEngine();
    const p = pool(engine, 4, 38400);
    engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
    p.programAll();
    await engine.start();
    clock.advance(FPS30 * 2n);
    usb.unplug(device);
    const r = p.drain(false);
    expect(r.map((x) => x.status)).toEqual([
      FrameStatus.Ok,
      FrameStatus.Ok,
      FrameStatus.Disconnected,
      FrameStatus.Disconnected,
    ]);
    expect(engine.state).toBe('disconnected');
    expect(cam.state).toBe('disconnected');
    expect(reasons).toHaveLength(1);
    expect(isHalError(reasons[0], 'Disconnected')).toBe(true);
    expect(removed).toEqual([cam.identity.id]);
    expect(() => session.getControl('brightness')).toThrow(expect.objectContaining({ code: 'Disconnected' }));
    expect(() => engine.program([])).toThrow(expect.objectContaining({ code: 'Disconnected' }));
    await expect(cam.open()).rejects.toMatchObject({ code: 'Disconnected' });
    await session.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(usb.opened.every((t) => t.state !== 'open' && t.runningStreams === 0)).toBe(true);
    expect(clock.pendingCount).toBe(0);
    unwatch();
  });
});

describe('UvcCameraSession controls', () => {
  async function opened() {
    const r = rig();
    const cam = await firstCamera(r.provider);
    const session = (await cam.open({ timeSource: r.clock })) as UvcCameraSession;
    return { ...r, cam, session };
  }

  it('round-trips values through SET_CUR/GET_CUR, with control-change events', async () => {
    const { cam, session, device } = await opened();
    const changes: Array<[string, number]> = [];
    cam.on('control-change', (id, v) => changes.push([id, v]));
    session.setControl('brightness', -12);
    expect(session.getControl('brightness')).toBe(-12);
    await session.settled();
    expect(device.values.get('brightness')).toBe(-12);
    await session.writeControl('contrast', 50);
    expect(device.values.get('contrast')).toBe(50);
    device.values.set('contrast', 60);
    expect(await session.readControl('contrast')).toBe(60);
    // pan/tilt share one compound control: writing pan keeps tilt
    await session.writeControl('tilt', -7200);
    session.setControl('pan', 3600);
    await session.settled();
    expect(device.values.get('pantilt-absolute.pan')).toBe(3600);
    expect(device.values.get('pantilt-absolute.tilt')).toBe(-7200);
    expect(changes).toEqual([
      ['brightness', -12],
      ['contrast', 50],
      ['tilt', -7200],
      ['pan', 3600],
    ]);
    await session.close();
  });

  it('auto modes: manual writes refused while auto; ae-mode switches between aperture priority and manual', async () => {
    const { session, device } = await opened();
    expect(session.getAuto('exposure')).toBe(true);
    expect(() => session.setControl('exposure', 300)).toThrow(expect.objectContaining({ code: 'Busy' }));
    session.setAuto('exposure', false);
    session.setControl('exposure', 300);
    await session.settled();
    expect(device.values.get('ae-mode')).toBe(1);
    expect(device.values.get('exposure-time-absolute')).toBe(300);
    await session.writeAuto('exposure', true);
    expect(device.values.get('ae-mode')).toBe(8);
    await session.writeAuto('white-balance-temperature', false);
    expect(device.values.get('white-balance-temperature-auto')).toBe(0);
    expect(() => session.setAuto('brightness', true)).toThrow(
      expect.objectContaining({ code: 'Unsupported' }),
    );
    await session.close();
  });

  it('out-of-range: RangeError before sending, and RangeError from the device STALL + request error code', async () => {
    const { session, device, usb } = await opened();
    expect(() => session.setControl('brightness', 65)).toThrow(RangeError);
    expect(() => session.setControl('white-balance-temperature', 2810)).toThrow(
      expect.objectContaining({ code: 'Busy' }),
    );
    expect(() => session.setControl('focus' as never, 1.5)).toThrow();
    expect(() => session.getControl('zoom')).toThrow(expect.objectContaining({ code: 'NotFound' }));
    // gain: GET_MAX says 255, the device refuses > 200 with out-of-range
    const err = await session.writeControl('gain', 210).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(((err as Error).cause as { requestError?: string }).requestError).toBe('out-of-range');
    expect(device.values.get('gain')).toBe(0);
    // the request error code was read after the STALL
    expect(usb.opened.at(-1)!.requests.slice(-2)).toEqual(['0x1:4:2:0', '0x81:2:0:0']);
    // the synchronous path restores the cached value and reports through settled()
    session.setControl('gain', 220);
    expect(session.getControl('gain')).toBe(220);
    await expect(session.settled()).rejects.toBeInstanceOf(RangeError);
    expect(session.getControl('gain')).toBe(0);
    await session.settled();
    await session.close();
  });
});

describe('UvcDeviceProvider hotplug', () => {
  it('attach probes and adds, detach marks disconnected and removes', async () => {
    const { clock, usb, provider } = rig();
    const events: string[] = [];
    const unwatch = provider.watch({
      added: (d) => events.push(`+${d.identity.id}`),
      removed: (id) => events.push(`-${id}`),
    });
    const second = new FakeUvcDevice({
      timeSource: clock,
      description: { ...defaultFakeUvcDescription('bulk'), serialNumber: 'FAKE0002' },
      portPath: [3, 1],
      deviceAddress: 9,
    });
    usb.plug(second);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['+usb:1209:0c01:FAKE0002']);
    const list = await provider.list();
    expect(list.map((d) => [d.identity.id, d.identity.location])).toEqual([
      ['usb:1209:0c01:FAKE0001', 'usb:1-2'],
      ['usb:1209:0c01:FAKE0002', 'usb:1-3.1'],
    ]);
    usb.unplug(second);
    expect(events).toEqual(['+usb:1209:0c01:FAKE0002', '-usb:1209:0c01:FAKE0002']);
    expect(list[1]!.state).toBe('disconnected');
    expect((await provider.list()).map((d) => d.identity.id)).toEqual(['usb:1209:0c01:FAKE0001']);
    unwatch();
  });
});

describe('UvcCameraSession stills (method 2)', () => {
  const stillSizes = [
    { width: 320, height: 240 },
    { width: 640, height: 480 },
  ];

  async function settle<T>(clock: ManualTimeSource, p: Promise<T>): Promise<T> {
    let done = false;
    const out = p.finally(() => (done = true));
    for (let i = 0; i < 40 && !done; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!done) clock.advance(FPS30);
    }
    return out;
  }

  it('lists the still sizes and takes a still without streaming', async () => {
    const { clock, provider, usb } = rig('bulk', { stillSizes });
    const cam = await firstCamera(provider);
    expect(cam.capabilities.stills).toEqual([{ fourcc: 'YUY2', sizes: stillSizes }]);
    const session = await cam.open({ timeSource: clock });
    const target = new Uint8Array(640 * 480 * 2);
    const r = await settle(clock, session.captureStill('YUY2', 640, 480, target));
    expect(r).toEqual({ bytesUsed: 640 * 480 * 2, width: 640, height: 480, fourcc: 'YUY2' });
    expect(checkUncompressed(target, STILL_NUMBER_BASE, r.bytesUsed)).toBe(true);
    // the stream opened for the still is gone; streaming still works
    expect(usb.opened.at(-1)!.runningStreams).toBe(0);
    await expect(session.captureStill('YUY2', 800, 600, target)).rejects.toMatchObject({
      code: 'Unsupported',
    });
    await expect(session.captureStill('YUY2', 640, 480, new Uint8Array(1000))).rejects.toBeInstanceOf(
      RangeError,
    );
    await session.close();
  });

  it('takes a still from the live stream; video mappings keep flowing around it', async () => {
    const { clock, session, engine } = await openedRig('isochronous', { stillSizes });
    const p = pool(engine, 3, 38400);
    engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
    p.programAll();
    await engine.start();
    clock.advance(FPS30 * 2n);
    const before = p.drain();
    const target = new Uint8Array(320 * 240 * 2);
    const r = await settle(clock, session.captureStill('YUY2', 320, 240, target));
    expect(r.bytesUsed).toBe(320 * 240 * 2);
    expect(checkUncompressed(target, STILL_NUMBER_BASE, r.bytesUsed)).toBe(true);
    clock.advance(FPS30 * 2n);
    const after = p.drain();
    const all = [...before, ...after];
    expect(all.every((x) => x.status === FrameStatus.Ok)).toBe(true);
    for (const x of all.slice(-3))
      expect(checkUncompressed(p.slot(x.slot), Number(x.frameIndex), 38400)).toBe(true);
    // frame indices increase; the still's frame time shows as one discontinuity
    const idx = all.map((x) => Number(x.frameIndex));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(all.filter((x) => x.dropsBefore > 0).map((x) => x.dropsBefore)).toEqual([1]);
    await session.close();
  });

  it('one still at a time; start waits for a still that streams on its own', async () => {
    const { clock, session, engine } = await openedRig('bulk', { stillSizes });
    const p = pool(engine, 2, 38400);
    engine.configure({ fourcc: 'YUY2', width: 160, height: 120, interval: FPS30 });
    p.programAll();
    const target = new Uint8Array(640 * 480 * 2);
    const first = session.captureStill('YUY2', 640, 480, target);
    await expect(session.captureStill('YUY2', 320, 240, new Uint8Array(320 * 240 * 2))).rejects.toMatchObject(
      {
        code: 'Busy',
      },
    );
    await expect(engine.start()).rejects.toMatchObject({ code: 'Busy' });
    expect((await settle(clock, first)).bytesUsed).toBe(640 * 480 * 2);
    // the programmed mappings were not touched by the still's stream
    expect(p.drain(false)).toEqual([]);
    expect(engine.outstanding).toBe(2);
    await engine.start();
    clock.advance(FPS30);
    expect(p.drain(false)[0]).toMatchObject({ status: FrameStatus.Ok, frameIndex: 0n });
    await session.close();
  });

  it('a trigger the device never answers times out; unplug rejects a pending still', async () => {
    const { clock, provider, usb, device } = rig('bulk', { stillSizes });
    const cam = await firstCamera(provider);
    const session = await cam.open({ timeSource: clock });
    const target = new Uint8Array(640 * 480 * 2);
    const pending = session.captureStill('YUY2', 640, 480, target);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    device.stillTriggered = false; // swallow the trigger
    device.stillCommit = undefined;
    const err = await settle(clock, pending).catch((e: unknown) => e);
    expect(isHalError(err, 'TimedOut')).toBe(true);
    const second = session.captureStill('YUY2', 640, 480, target).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    usb.unplug(device);
    expect(isHalError(await second, 'Disconnected')).toBe(true);
    await session.close();
  });
});
