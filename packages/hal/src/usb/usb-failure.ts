// Maps backend failures (Linux errno codes, libusb error names, nusb messages) to HalError codes with the cause kept.
import { HalError, HalErrorCode } from '../hal-error.js';
import type { UsbTransferStatus } from './usb-transport.js';

/** The udev hint every AccessDenied carries: the usual fix on Linux is a udev rule, not root. */
export const UDEV_HINT =
  'no permission on /dev/bus/usb; add a udev rule such as ' +
  `SUBSYSTEM=="usb", ATTR{idVendor}=="<vid>", MODE="0660", GROUP="plugdev" ` +
  '(/etc/udev/rules.d/70-ksemu.rules), then `udevadm control --reload && udevadm trigger`, or run as root';

const ERRNO: Readonly<Record<string, HalErrorCode>> = {
  ENODEV: HalErrorCode.Disconnected,
  ESHUTDOWN: HalErrorCode.Disconnected,
  ENOENT: HalErrorCode.Disconnected,
  EPIPE: HalErrorCode.Stall,
  ETIMEDOUT: HalErrorCode.TimedOut,
  EACCES: HalErrorCode.AccessDenied,
  EPERM: HalErrorCode.AccessDenied,
  EBUSY: HalErrorCode.Busy,
  EPROTO: HalErrorCode.Protocol,
  EILSEQ: HalErrorCode.Protocol,
  EOVERFLOW: HalErrorCode.Protocol,
  EREMOTEIO: HalErrorCode.Protocol,
  ENOTTY: HalErrorCode.Unsupported,
  ENOSYS: HalErrorCode.Unsupported,
  ENOSPC: HalErrorCode.NoBandwidth,
  EXDEV: HalErrorCode.Io,
  EIO: HalErrorCode.Io,
  // libusb (usb 2.x) names
  LIBUSB_ERROR_NO_DEVICE: HalErrorCode.Disconnected,
  LIBUSB_TRANSFER_NO_DEVICE: HalErrorCode.Disconnected,
  LIBUSB_ERROR_NOT_FOUND: HalErrorCode.NotFound,
  LIBUSB_ERROR_PIPE: HalErrorCode.Stall,
  LIBUSB_TRANSFER_STALL: HalErrorCode.Stall,
  LIBUSB_ERROR_TIMEOUT: HalErrorCode.TimedOut,
  LIBUSB_TRANSFER_TIMED_OUT: HalErrorCode.TimedOut,
  LIBUSB_ERROR_ACCESS: HalErrorCode.AccessDenied,
  LIBUSB_ERROR_BUSY: HalErrorCode.Busy,
  LIBUSB_ERROR_OVERFLOW: HalErrorCode.Protocol,
  LIBUSB_TRANSFER_OVERFLOW: HalErrorCode.Protocol,
  LIBUSB_ERROR_IO: HalErrorCode.Io,
  LIBUSB_TRANSFER_ERROR: HalErrorCode.Io,
  LIBUSB_ERROR_NOT_SUPPORTED: HalErrorCode.Unsupported,
  LIBUSB_ERROR_INVALID_PARAM: HalErrorCode.Unsupported,
};

// libusb numeric error codes (usb 2.x puts them in `errno`) → names
const LIBUSB_NUMBERS: Readonly<Record<number, string>> = {
  [-1]: 'LIBUSB_ERROR_IO',
  [-2]: 'LIBUSB_ERROR_INVALID_PARAM',
  [-3]: 'LIBUSB_ERROR_ACCESS',
  [-4]: 'LIBUSB_ERROR_NO_DEVICE',
  [-5]: 'LIBUSB_ERROR_NOT_FOUND',
  [-6]: 'LIBUSB_ERROR_BUSY',
  [-7]: 'LIBUSB_ERROR_TIMEOUT',
  [-8]: 'LIBUSB_ERROR_OVERFLOW',
  [-9]: 'LIBUSB_ERROR_PIPE',
  [-12]: 'LIBUSB_ERROR_NOT_SUPPORTED',
};

/** The symbolic code of a backend error: `code` (errno name), libusb `errno` number, or a known message. */
export function backendCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  const c = cause as { code?: unknown; errno?: unknown; message?: unknown };
  if (typeof c.code === 'string' && c.code in ERRNO) return c.code;
  if (typeof c.errno === 'number' && c.errno in LIBUSB_NUMBERS && String(c.message).includes('LIBUSB')) {
    return LIBUSB_NUMBERS[c.errno];
  }
  const msg = typeof c.message === 'string' ? c.message : '';
  for (const name of Object.keys(ERRNO)) if (name.startsWith('LIBUSB') && msg.includes(name)) return name;
  if (/stall/i.test(msg)) return 'EPIPE';
  if (/disconnected|no such device|device not found|device gone/i.test(msg)) return 'ENODEV';
  if (/timed? ?out/i.test(msg)) return 'ETIMEDOUT';
  if (/permission|access denied|EACCES/i.test(msg)) return 'EACCES';
  if (/busy/i.test(msg)) return 'EBUSY';
  return typeof c.code === 'string' ? c.code : undefined;
}

/**
 * Wraps a backend failure of `operation` in a HalError. An existing HalError passes through unchanged.
 * AccessDenied messages include {@link UDEV_HINT}; Busy on claim says how to free the interface.
 */
export function toHalError(cause: unknown, operation: string, deviceId?: string): HalError {
  if (cause instanceof HalError) return cause;
  const name = backendCode(cause);
  const code: HalErrorCode = (name !== undefined ? ERRNO[name] : undefined) ?? HalErrorCode.Io;
  const detail = cause instanceof Error ? cause.message : String(cause);
  let message = `${operation} failed: ${detail}`;
  if (code === HalErrorCode.AccessDenied) message += ` — ${UDEV_HINT}`;
  if (code === HalErrorCode.Busy) {
    message += ' — a kernel driver (e.g. uvcvideo) or another process holds the interface; detach it first';
  }
  return new HalError(code, message, { cause, deviceId });
}

/** Maps a URB completion status (0 or -errno) to the per-transfer status value (never throws). */
export function transferStatusFromErrno(status: number): UsbTransferStatus {
  switch (status) {
    case 0:
      return 'ok';
    case -32: // EPIPE
      return 'stall';
    case -75: // EOVERFLOW
      return 'overflow';
    case -2: // ENOENT (discarded)
    case -104: // ECONNRESET (unlinked)
      return 'cancelled';
    case -19: // ENODEV
    case -108: // ESHUTDOWN
      return 'disconnected';
    default:
      return 'error';
  }
}
