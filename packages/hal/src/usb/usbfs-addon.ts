// Loads the Linux usbfs N-API addon (native/usbfs) if it was built at install; describes its JS surface.
import { createRequire } from 'node:module';

/** Opaque native handles. */
export type NativeDevice = { readonly __brand: 'usbfs-device' };
export type NativeStream = { readonly __brand: 'usbfs-stream' };

/** URB types of linux/usbdevice_fs.h. */
export const URB_TYPE = { iso: 0, interrupt: 1, control: 2, bulk: 3 } as const;

/**
 * The addon's functions (see native/usbfs/usbfs.c). Errors thrown/passed are `Error` with `code`
 * (errno name, e.g. `ENODEV`) and `errno`.
 */
export interface UsbfsAddon {
  open(path: string): NativeDevice;
  close(dev: NativeDevice): void;
  claim(dev: NativeDevice, iface: number): void;
  release(dev: NativeDevice, iface: number): void;
  setAlt(dev: NativeDevice, iface: number, alt: number): void;
  clearHalt(dev: NativeDevice, endpoint: number): void;
  getDriver(dev: NativeDevice, iface: number): string | null;
  disconnect(dev: NativeDevice, iface: number): void;
  connect(dev: NativeDevice, iface: number): void;
  disconnectClaim(dev: NativeDevice, iface: number): void;
  speed(dev: NativeDevice): number;
  capabilities(dev: NativeDevice): number;
  control(
    dev: NativeDevice,
    requestType: number,
    request: number,
    value: number,
    index: number,
    buffer: Uint8Array,
    timeoutMs: number,
    cb: (err: Error | null, actual?: number) => void,
  ): void;
  /** cb(slot, status (0 or -errno), actualLength): return false to hold the slot; slot -1 = the stream ended. */
  streamStart(
    dev: NativeDevice,
    type: number,
    endpoint: number,
    buffers: readonly Uint8Array[],
    transferSize: number,
    packets: number,
    packetSize: number,
    lengths: readonly Uint32Array[] | null,
    statuses: readonly Int32Array[] | null,
    cb: (slot: number, status: number, actual: number) => boolean | undefined,
  ): NativeStream;
  streamStop(stream: NativeStream): void;
  streamResubmit(stream: NativeStream, slot: number): void;
}

let cached: { addon: UsbfsAddon | undefined; reason: string } | undefined;

/**
 * The addon, or undefined with the reason (not Linux, not built, failed to load). Loaded once.
 * `KSEMU_USBFS_ADDON` overrides the path (tests, custom builds).
 */
export function loadUsbfsAddon(): { addon: UsbfsAddon | undefined; reason: string } {
  if (cached !== undefined) return cached;
  if (process.platform !== 'linux') {
    cached = { addon: undefined, reason: `the usbfs addon is Linux-only (platform ${process.platform})` };
    return cached;
  }
  const require = createRequire(import.meta.url);
  const path = process.env['KSEMU_USBFS_ADDON'] ?? '../../native/usbfs/build/Release/usbfs.node';
  try {
    cached = { addon: require(path) as UsbfsAddon, reason: 'loaded' };
  } catch (e) {
    cached = {
      addon: undefined,
      reason:
        `the usbfs addon is not built (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); ` +
        'run `pnpm --filter @ksemu/hal run install` (needs python3, make and a C compiler)',
    };
  }
  return cached;
}
