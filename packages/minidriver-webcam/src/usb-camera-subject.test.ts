// usbCameraSubject on hal's fake UVC camera: the VM tier's subject (settle paced by the camera, unplug awaited, uvcvideo detached) under the real conformance suite.
import { describe, it, expect } from '@jest/globals';
import { FakeUvcDevice, FakeUvcProvider, defaultFakeUvcDescription } from '@ksemu/hal/testing';
import { ManualClock, MediaSubtype, type KsTime } from '@ksemu/ks-core';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { usbCameraSubject } from './usb-camera-subject.js';

const format = { subtype: MediaSubtype.YUY2, width: 160, height: 120, frameInterval: 333333n as KsTime };
/** The fake camera's ids and the format every subject here streams. */
const target = { vendorId: 0x1209, productId: 0x0c01, format };

/** A bulk fake camera on `clock`, and a provider with it plugged in (or not). */
function fakeCamera(clock: ManualClock, plugged = true): { camera: FakeUvcDevice; usb: FakeUvcProvider } {
  const camera = new FakeUvcDevice({ timeSource: clock, description: defaultFakeUvcDescription('bulk') });
  return { camera, usb: new FakeUvcProvider(plugged ? [camera] : []) };
}

/**
 * A fresh fake camera (held by uvcvideo, as in the VM) per test, free-running like real hardware:
 * it sends frames on its own clock, advanced one frame period per millisecond of wall time, not
 * on the suite's ManualClock. `unplug` pulls the current one.
 */
function freeRunningCamera(): { usb: () => FakeUvcProvider; unplug: () => void } {
  let current: { usb: FakeUvcProvider; camera: FakeUvcDevice; timer: NodeJS.Timeout } | undefined;
  return {
    usb: () => {
      if (current !== undefined) clearInterval(current.timer);
      const own = new ManualClock();
      const timer = setInterval(() => own.advance(format.frameInterval), 1);
      timer.unref();
      const camera = new FakeUvcDevice({
        timeSource: own,
        description: defaultFakeUvcDescription('bulk'),
        kernelDriverBound: true,
      });
      current = { usb: new FakeUvcProvider([camera]), camera, timer };
      return current.usb;
    },
    unplug: () => current?.usb.unplug(current.camera),
  };
}

const fake = freeRunningCamera();
describeMinidriverConformance(
  'webcam × UVC camera (fake, bulk) via usbCameraSubject YUY2 160x120@30',
  usbCameraSubject({ ...fake, ...target, frameTimeoutMs: 5_000 }),
  { frameCounts: [1, 8] },
);
const fakeForWorker = freeRunningCamera();
describeMinidriverConformance(
  'webcam × UVC camera (fake, bulk) via usbCameraSubject YUY2 160x120@30',
  usbCameraSubject({ ...fakeForWorker, ...target, frameTimeoutMs: 5_000 }),
  { frameCounts: [1, 8], consumer: 'worker' },
);

describe('usbCameraSubject', () => {
  it('plugs a missing camera back in and finds it', async () => {
    const clock = new ManualClock();
    const { camera, usb } = fakeCamera(clock, false);
    let plugs = 0;
    const make = usbCameraSubject({
      usb: () => usb,
      ...target,
      unplug: () => usb.unplug(camera),
      plug: () => {
        plugs++;
        usb.plug(camera);
      },
    });
    const subject = await make(clock);
    expect(plugs).toBe(1);
    expect(subject.device.name).toContain('1209');
    await subject.unplug();
    await subject.device.close();
  });

  it('rejects a camera that is not there within findTimeoutMs', async () => {
    const make = usbCameraSubject({
      usb: () => new FakeUvcProvider([]),
      ...target,
      unplug: () => undefined,
      findTimeoutMs: 0,
    });
    await expect(make(new ManualClock())).rejects.toThrow(/no 1209:c01 UVC camera/);
  });

  it('settle rejects when a running camera completes nothing (the clock never moves)', async () => {
    const clock = new ManualClock();
    const { camera: fakeCam, usb } = fakeCamera(clock);
    const make = usbCameraSubject({
      usb: () => usb,
      ...target,
      unplug: () => usb.unplug(fakeCam),
      frameTimeoutMs: 20,
    });
    const subject = await make(clock);
    const filter = await subject.device.createFilter(0);
    const pin = await filter.createPin(0);
    const proposed = pin.proposeFormat(format);
    if (proposed.status === 'invalid') throw new Error('format refused');
    await pin.setFormat(proposed.format);
    await expect(subject.settle!()).resolves.toBeUndefined(); // closed: nothing can be due
    await pin.setState('run');
    await expect(subject.settle!()).rejects.toThrow(/completed no frame in 20 ms/);
    await pin.setState('stop');
    await subject.device.close();
  });

  it('disconnected() rejects when the camera never reports the unplug', async () => {
    const clock = new ManualClock();
    const { usb } = fakeCamera(clock);
    const make = usbCameraSubject({
      usb: () => usb,
      ...target,
      unplug: () => undefined, // pulls nothing
      findTimeoutMs: 20,
    });
    const subject = await make(clock);
    await expect(subject.unplug()).rejects.toThrow(/did not report the unplug within 20 ms/);
    await subject.device.close();
  });
});
