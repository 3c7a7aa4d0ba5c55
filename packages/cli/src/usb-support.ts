// USB device providers for the catalog: real UVC cameras through the HAL's USB enumerator, when available.
import type { DeviceProvider } from '@ksemu/hal';
import type { Logger } from 'pino';

/** Providers of USB devices; empty until the HAL's USB enumerator is wired in. */
export function usbProviders(_logger: Logger): DeviceProvider[] {
  return [];
}
