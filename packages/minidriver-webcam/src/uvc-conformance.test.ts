// The ks-core conformance suite over the webcam minidriver × a USB UVC camera (hal's UvcCamera over the fake UVC device), bulk and iso.
import { UvcDeviceProvider, type HalDevice } from '@ksemu/hal';
import { FakeUvcDevice, FakeUvcProvider, defaultFakeUvcDescription } from '@ksemu/hal/testing';
import { MediaSubtype, type FormatRequest, type KsTime, type ManualClock } from '@ksemu/ks-core';
import { describeMinidriverConformance, type ConformanceSubject } from '@ksemu/ks-core/testing';
import { createWebcamDevice } from './webcam-device.js';

/** A subject maker: a fake UVC camera on the suite's clock, listed through the UVC provider, under the webcam minidriver. */
function uvcSubject(
  transfer: 'bulk' | 'isochronous',
  format: FormatRequest,
): (clock: ManualClock) => Promise<ConformanceSubject> {
  return async (clock) => {
    const fake = new FakeUvcDevice({ timeSource: clock, description: defaultFakeUvcDescription(transfer) });
    const usb = new FakeUvcProvider([fake]);
    const [hal] = (await new UvcDeviceProvider(usb).list()) as HalDevice[];
    if (hal === undefined) throw new Error('the fake UVC camera was not listed');
    return { device: createWebcamDevice(hal, { clock }), unplug: () => usb.unplug(fake), format };
  };
}

describeMinidriverConformance(
  'webcam × UVC camera (fake, bulk) YUY2 160x120@30',
  uvcSubject('bulk', {
    subtype: MediaSubtype.YUY2,
    width: 160,
    height: 120,
    frameInterval: 333333n as KsTime,
  }),
  { settleTurns: 5 },
);
describeMinidriverConformance(
  'webcam × UVC camera (fake, iso) YUY2 320x240@15',
  uvcSubject('isochronous', {
    subtype: MediaSubtype.YUY2,
    width: 320,
    height: 240,
    frameInterval: 666666n as KsTime,
  }),
  { settleTurns: 5, frameCounts: [1, 8, 89] },
);
describeMinidriverConformance(
  'webcam × UVC camera (fake, bulk) MJPEG 160x120@30',
  uvcSubject('bulk', {
    subtype: MediaSubtype.MJPG,
    width: 160,
    height: 120,
    frameInterval: 333333n as KsTime,
  }),
  { settleTurns: 5, frameCounts: [1, 5] },
);
