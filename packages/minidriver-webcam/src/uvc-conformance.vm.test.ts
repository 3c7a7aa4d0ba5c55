// VM tier (jest, inside usbvm): the ks-core conformance suite over the webcam minidriver on a real UVC camera opened through the usbfs transport.
// Run by usbvm/guest/ksemu-tier.sh (see this package's README). Environment:
//   KSEMU_VM_VIDPID=1209:0001            the camera the guest script attached
//   KSEMU_VM_FORMAT=YUY2:320x240@30      the format every test streams (YUY2 or MJPG)
//   KSEMU_VM_UNPLUG_CMD=<shell command>  pulls the camera (hot-unplug test); required
//   KSEMU_VM_PLUG_CMD=<shell command>    plugs it back (needed only with more than one consumer)
//   KSEMU_VM_CONSUMERS=main,worker       one suite per consumer kind (default both)
//   KSEMU_VM_FRAME_COUNTS=1,2,3,5,8,89   the capture test's frame counts (default: the suite's)
//   KSEMU_VM_FRAME_TIMEOUT_MS=10000      wall time a running camera may take per frame
import { exec } from 'node:child_process';
import { promisify } from 'node:util';
import { UsbfsTransportProvider, type UsbTransportProvider } from '@ksemu/hal';
import { MediaSubtype, type KsTime } from '@ksemu/ks-core';
import { describeMinidriverConformance } from '@ksemu/ks-core/testing';
import { usbCameraSubject } from './usb-camera-subject.js';

const env = process.env;
const run = promisify(exec);

const [vidText = '1209', pidText = '0001'] = (env['KSEMU_VM_VIDPID'] ?? '1209:0001').split(':');
const formatText = env['KSEMU_VM_FORMAT'] ?? 'YUY2:320x240@30';
const match = /^(YUY2|MJPG):(\d+)x(\d+)@(\d+(?:\.\d+)?)$/.exec(formatText);
if (match === null) throw new RangeError(`KSEMU_VM_FORMAT=${formatText}: expected YUY2|MJPG:<w>x<h>@<fps>`);
const [, fourcc, width, height, fps] = match;
const unplugCommand = env['KSEMU_VM_UNPLUG_CMD'];
if (!unplugCommand)
  throw new TypeError('KSEMU_VM_UNPLUG_CMD is required (the hot-unplug test pulls the camera)');
const plugCommand = env['KSEMU_VM_PLUG_CMD'] || undefined;
const consumers = (env['KSEMU_VM_CONSUMERS'] ?? 'main,worker').split(',') as Array<'main' | 'worker'>;
const frameCounts = env['KSEMU_VM_FRAME_COUNTS']?.split(',').map(Number);
const frameTimeoutMs = Number(env['KSEMU_VM_FRAME_TIMEOUT_MS'] ?? 10_000);

// One usbfs backend for the whole file: the camera is probed once and kept while attached.
let usbfs: UsbTransportProvider | undefined;
const subject = usbCameraSubject({
  usb: () => (usbfs ??= new UsbfsTransportProvider()),
  vendorId: parseInt(vidText, 16),
  productId: parseInt(pidText, 16),
  format: {
    subtype: fourcc === 'MJPG' ? MediaSubtype.MJPG : MediaSubtype.YUY2,
    width: Number(width),
    height: Number(height),
    frameInterval: BigInt(Math.floor(10_000_000 / Number(fps))) as KsTime,
  },
  unplug: async () => void (await run(unplugCommand)),
  ...(plugCommand === undefined ? {} : { plug: async () => void (await run(plugCommand)) }),
  frameTimeoutMs,
});

for (const consumer of consumers) {
  describeMinidriverConformance(
    `webcam × UVC camera ${vidText}:${pidText} (usbfs, ${env['KSEMU_VM_TAG'] ?? 'vm'}) ${formatText}`,
    subject,
    {
      consumer,
      // The suite's own defaults and checks; only the frame counts are chosen by the tier.
      ...(frameCounts === undefined ? {} : { frameCounts }),
    },
  );
}
