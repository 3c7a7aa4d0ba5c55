// Streaming tests of the webcam minidriver over the synthetic camera: DMA path, timestamps, drops, stop/restart, busy hardware, hot-unplug.
import { afterEach, describe, expect, it } from '@jest/globals';
import { SyntheticCamera, type SyntheticCameraOptions } from '@ksemu/hal';
import {
  FrameFlags,
  FrameStatus,
  ManualClock,
  MediaSubtype,
  type Frame,
  type FrameStream,
  type KsDevice,
  type KsPin,
  type KsTime,
} from '@ksemu/ks-core';
import { createWebcamDevice, matchesWebcam } from './webcam-device.js';
import { WebcamPin } from './webcam-minidriver.js';

const PERIOD = 333333n as KsTime; // 30 fps as the synthetic camera lists it

interface Rig {
  clock: ManualClock;
  camera: SyntheticCamera;
  device: KsDevice;
}

const rigs: Rig[] = [];

function rig(options: SyntheticCameraOptions = {}): Rig {
  const clock = new ManualClock(1_000_000n);
  const camera = new SyntheticCamera({ pattern: 'smpte-bars', ...options });
  const device = createWebcamDevice(camera, { clock });
  const r = { clock, camera, device };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.device.close().catch(() => undefined);
});

async function capturePin(r: Rig, subtype = MediaSubtype.YUY2, width = 320, height = 240): Promise<KsPin> {
  const filter = await r.device.createFilter();
  return filter.createPin(WebcamPin.Capture, {
    format: { subtype, width, height, frameInterval: PERIOD },
  });
}

/** Advances one frame period at a time, taking every delivered frame. */
function pump(r: Rig, stream: FrameStream, periods: number, onFrame: (f: Frame) => void): void {
  for (let i = 0; i < periods; i++) {
    r.clock.advance(PERIOD);
    for (let f = stream.tryNext(); f !== null; f = stream.tryNext()) onFrame(f);
  }
}

describe('createWebcamDevice', () => {
  it('matches video devices only', () => {
    const r = rig();
    expect(matchesWebcam(r.camera)).toBe(true);
    expect(r.device.factories).toHaveLength(1);
  });

  it('takes no hardware until a pin acquires, and gives it back at stop', async () => {
    const r = rig();
    const pin = await capturePin(r);
    expect(r.camera.state).toBe('closed');
    await pin.setState('acquire');
    expect(r.camera.state).toBe('open');
    await pin.setState('stop');
    expect(r.camera.state).toBe('closed');
  });

  it('delivers frames in order with start + n × period timestamps, picture numbers and full frames', async () => {
    const r = rig();
    const pin = await capturePin(r);
    await pin.run();
    const start = pin.queue.currentTiming.start;
    const stream = pin.frames();
    const seen: Array<[number, bigint, number, number]> = [];
    pump(r, stream, 10, (f) => {
      seen.push([f.sequence, f.presentationTime, f.bytesUsed, f.status]);
      expect(f.flags & FrameFlags.SplicePoint).toBe(FrameFlags.SplicePoint);
      f.release();
    });
    expect(seen.length).toBeGreaterThanOrEqual(9);
    seen.forEach(([seq, pts, bytes, status], i) => {
      expect(seq).toBe(i);
      expect(pts).toBe(start + BigInt(i) * PERIOD);
      expect(bytes).toBe(320 * 240 * 2);
      expect(status).toBe(FrameStatus.Success);
    });
    const pool = pin.pool;
    await pin.stop();
    expect(pool.outstanding).toBe(0);
  });

  it('counts frames lost while the consumer holds every buffer as drops, never blocking', async () => {
    const r = rig();
    const pin = await capturePin(r);
    await pin.run();
    const stream = pin.frames();
    const held: Frame[] = [];
    pump(r, stream, 12, (f) => held.push(f));
    expect(held).toHaveLength(4); // every slot held: the hardware starves
    for (const f of held) f.release();
    let first: Frame | undefined;
    pump(r, stream, 2, (f) => {
      first ??= f;
      if (f !== first) f.release();
    });
    expect(first).toBeDefined();
    expect(first!.dropCount).toBeGreaterThan(0);
    expect(first!.flags & FrameFlags.DataDiscontinuity).toBe(FrameFlags.DataDiscontinuity);
    expect(first!.sequence).toBe(4 + first!.dropCount);
    first!.release();
    await pin.stop();
  });

  it('restarts cleanly over three run/stop cycles', async () => {
    const r = rig();
    const pin = await capturePin(r);
    for (let cycle = 0; cycle < 3; cycle++) {
      await pin.run();
      const stream = pin.frames();
      let n = 0;
      pump(r, stream, 5, (f) => {
        expect(f.sequence).toBe(n++);
        f.release();
      });
      expect(n).toBeGreaterThanOrEqual(4);
      await pin.stop();
      expect(r.camera.state).toBe('closed');
    }
  });

  it('streams MJPEG as real JPEG frames of varying size', async () => {
    const r = rig();
    const pin = await capturePin(r, MediaSubtype.MJPG, 320, 240);
    await pin.run();
    const stream = pin.frames();
    let n = 0;
    pump(r, stream, 3, (f) => {
      const d = f.data;
      expect([d[0], d[1]]).toEqual([0xff, 0xd8]);
      expect([d[f.bytesUsed - 2], d[f.bytesUsed - 1]]).toEqual([0xff, 0xd9]);
      expect(f.bytesUsed).toBeLessThan(320 * 240 * 2);
      n++;
      f.release();
    });
    expect(n).toBeGreaterThan(0);
    await pin.stop();
  });

  it('reports a busy device as DeviceBusy at acquire, not at filter creation', async () => {
    const r = rig();
    const other = await r.camera.open();
    const pin = await capturePin(r);
    await expect(pin.setState('acquire')).rejects.toMatchObject({ code: 'DeviceBusy' });
    expect(pin.state).toBe('stop');
    await other.close();
    await pin.setState('acquire');
    await pin.stop();
  });

  it('surfaces a failed start and stays paused', async () => {
    const r = rig({ faults: { faults: [{ kind: 'fail-start' }] } });
    const pin = await capturePin(r);
    await expect(pin.run()).rejects.toMatchObject({ code: 'DeviceFailure' });
    expect(pin.state).toBe('pause');
    await pin.run();
    const stream = pin.frames();
    let n = 0;
    pump(r, stream, 3, (f) => {
      n++;
      f.release();
    });
    expect(n).toBeGreaterThan(0);
    await pin.stop();
  });

  it('flags corrupt frames DataError and counts device drops in the picture numbers', async () => {
    const r = rig({
      faults: {
        faults: [
          { kind: 'corrupt', frames: [2] },
          { kind: 'drop', percent: 30, seed: 7 },
        ],
      },
    });
    const pin = await capturePin(r);
    await pin.run();
    const stream = pin.frames();
    const got: Array<[number, number, number]> = [];
    pump(r, stream, 30, (f) => {
      got.push([f.sequence, f.status, f.dropCount]);
      f.release();
    });
    const seqs = got.map((g) => g[0]);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const last = got[got.length - 1]!;
    // Every frame time is either delivered or counted as dropped.
    expect(got.length + last[2]).toBe(last[0] + 1);
    expect(last[2]).toBeGreaterThan(0);
    const corrupt = got.find((g) => g[0] === 2);
    if (corrupt !== undefined) expect(corrupt[1]).toBe(FrameStatus.DataError);
    await pin.stop();
  });

  it('numbers frames from 0 even when the device counter starts just below 2^32', async () => {
    const r = rig({ faults: { faults: [{ kind: 'near-wrap', framesBeforeWrap: 2 }] } });
    const pin = await capturePin(r);
    await pin.run();
    const start = pin.queue.currentTiming.start;
    const stream = pin.frames();
    const seqs: number[] = [];
    pump(r, stream, 5, (f) => {
      expect(f.presentationTime).toBe(start + BigInt(f.sequence) * PERIOD);
      seqs.push(f.sequence);
      f.release();
    });
    expect(seqs.slice(0, 4)).toEqual([0, 1, 2, 3]);
    await pin.stop();
  });

  it('on hot-unplug completes outstanding frames Disconnected, reports the device gone, and still closes', async () => {
    const r = rig();
    const pin = await capturePin(r);
    await pin.run();
    const stream = pin.frames();
    pump(r, stream, 2, (f) => f.release());
    const removed = new Promise((resolve) => r.device.on('removed', resolve));
    r.camera.unplug();
    await removed;
    expect(r.device.state).toBe('removed');
    const statuses: number[] = [];
    for (let f = stream.tryNext(); f !== null; f = stream.tryNext()) {
      statuses.push(f.status);
      f.release();
    }
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === FrameStatus.Disconnected)).toBe(true);
    await expect(pin.setState('stop')).rejects.toMatchObject({ code: 'Disconnected' });
    await expect(r.device.createFilter()).rejects.toMatchObject({ code: 'Disconnected' });
    await r.device.close();
    expect(r.device.state).toBe('closed');
  });
});
