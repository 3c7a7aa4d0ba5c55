// USB device providers for the catalog: real UVC cameras through the HAL's USB backend and UvcDeviceProvider, when a backend loads.
import { UvcDeviceProvider, openUsbTransportProvider, type DeviceProvider, type HalDevice } from '@ksemu/hal';
import type { Logger } from 'pino';

/**
 * Providers of USB devices: one that lists UVC cameras. The USB backend (usbfs addon, else
 * node-usb) is loaded on first use, not here, so commands on synthetic devices never load
 * libusb; when no backend loads (no addon, no libusb, another OS) the provider lists nothing and
 * says why at debug level. Cameras held by uvcvideo are listed; opening them reports Busy.
 */
export function usbProviders(
  logger: Logger,
  settings: () => { readonly detachKernelDriver: boolean } = () => ({ detachKernelDriver: false }),
): DeviceProvider[] {
  let loaded: Promise<UvcDeviceProvider | undefined> | undefined;
  // Read when the backend first loads, i.e. after the command line was parsed.
  const load = (): Promise<UvcDeviceProvider | undefined> =>
    (loaded ??= openUsbTransportProvider('auto', { logger }).then(
      (usb) => new UvcDeviceProvider(usb, { logger, detachKernelDriver: settings().detachKernelDriver }),
      (err: unknown) => {
        logger.debug({ err }, 'no USB backend loaded: USB cameras are not listed');
        return undefined;
      },
    ));
  const provider: DeviceProvider = {
    name: 'usb',
    async list(): Promise<readonly HalDevice[]> {
      const uvc = await load();
      return uvc === undefined ? [] : uvc.list();
    },
    watch(listener) {
      let off: (() => void) | undefined;
      let cancelled = false;
      void load().then((uvc) => {
        if (!cancelled && uvc !== undefined) off = uvc.watch(listener);
      });
      return () => {
        cancelled = true;
        off?.();
      };
    },
  };
  return [provider];
}
