// createWebcamDevice: a ks-core device over any HAL video device (synthetic camera, PCIe card, UVC), with hot-unplug wired through.
import type { HalDevice, HalError } from '@ksemu/hal';
import {
  KsError,
  SystemClock,
  createDevice,
  silentLogger,
  type Clock,
  type KsDevice,
  type Logger,
} from '@ksemu/ks-core';
import { HalSession } from './hal-session.js';
import { webcamMinidriver } from './webcam-minidriver.js';

/** Options of {@link createWebcamDevice}. */
export interface WebcamDeviceOptions {
  /** Device clock, also the HAL device's time source (default `SystemClock`; `ManualClock` in tests). */
  readonly clock?: Clock;
  /** Parent logger (default silent). */
  readonly logger?: Logger;
}

/** True when the webcam minidriver can drive `device`: it produces video and is not a TV tuner. */
export function matchesWebcam(device: HalDevice): boolean {
  return device.identity.kind !== 'tuner' && device.capabilities.video.length > 0;
}

/**
 * Creates the KS device of a HAL video device: one filter factory (the webcam minidriver).
 * Takes no hardware: the HAL device is opened when a pin goes STOP→ACQUIRE (or for the duration
 * of a property call) and closed when the last user lets go. When the HAL device disconnects,
 * the KS device is surprise-removed: outstanding frames complete with `Disconnected`, later
 * calls throw `KsError('Disconnected')`, and `close()` still releases everything.
 * The caller owns the returned device and must `close()` it; the HAL device stays the caller's.
 * @throws KsError NotSupported when `matchesWebcam(device)` is false.
 */
export function createWebcamDevice(device: HalDevice, options: WebcamDeviceOptions = {}): KsDevice {
  if (!matchesWebcam(device)) {
    throw new KsError(
      'NotSupported',
      `${device.identity.id} (${device.identity.kind}) is not a video capture device`,
    );
  }
  const clock = options.clock ?? new SystemClock();
  const logger = (options.logger ?? silentLogger()).child({ minidriver: 'webcam', hal: device.identity.id });
  const session = new HalSession(device, { timeSource: clock, logger });
  const ks = createDevice({
    name: device.identity.id,
    minidrivers: [webcamMinidriver(device, { session, clock, logger })],
    clock,
    logger: options.logger ?? silentLogger(),
    onClose: async () => {
      unsubscribe();
      await session.shutdown();
    },
  });
  const onDisconnect = (reason: HalError): void => {
    void ks.surpriseRemoval(
      new KsError('Disconnected', `${device.identity.id} was unplugged`, { cause: reason }),
    );
  };
  const unsubscribe = device.on('disconnect', onDisconnect);
  if (device.state === 'disconnected') onDisconnect(undefined as unknown as HalError);
  return ks;
}
