// Chooses and loads a UsbTransportProvider backend (usbfs addon on Linux when built, else node-usb), loading `usb` lazily.
import type { Logger } from 'pino';
import { HalError, HalErrorCode } from '../hal-error.js';
import type { UsbTransportProvider } from './usb-transport.js';
import { UsbfsTransportProvider, usbfsAvailable } from './usbfs-transport.js';

/** Which backend to use. `auto`: usbfs when its addon loads (iso + deep queues), else node-usb. */
export type UsbBackend = 'auto' | 'usbfs' | 'node-usb';

/** Options of {@link openUsbTransportProvider}. */
export interface UsbBackendOptions {
  logger?: Logger;
}

/**
 * Creates the provider. node-usb is imported only when chosen, so users of synthetic devices never load
 * libusb. Rejects HalError Unsupported when the requested backend cannot load here (with the reason).
 */
export async function openUsbTransportProvider(
  backend: UsbBackend = 'auto',
  options: UsbBackendOptions = {},
): Promise<UsbTransportProvider> {
  if (backend === 'usbfs' || (backend === 'auto' && usbfsAvailable().available)) {
    return new UsbfsTransportProvider(options);
  }
  try {
    const m = await import('./node-usb-transport.js');
    return new m.NodeUsbTransportProvider(options);
  } catch (cause) {
    throw new HalError(HalErrorCode.Unsupported, `the node-usb backend (npm usb@2.18.0) failed to load`, {
      cause,
    });
  }
}
