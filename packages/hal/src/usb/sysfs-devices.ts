// Lists USB devices from Linux sysfs (/sys/bus/usb/devices) without opening them: ids, strings, bus/port path, speed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatLocation } from './usb-transport.js';
import type { UsbDeviceInfo, UsbSpeed } from './usb-transport.js';

const SPEEDS: Readonly<Record<string, UsbSpeed>> = {
  '1.5': 'low',
  '12': 'full',
  '480': 'high',
  '5000': 'super',
  '10000': 'super-plus',
  '20000': 'super-plus',
};

function attr(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Parses one sysfs device directory named `<bus>-<port.path>` (interfaces `1-1:1.0` and root hubs
 * `usb1` are skipped → undefined). Missing or malformed attributes → undefined, never a throw: a device
 * can vanish between readdir and read.
 */
export function readSysfsDevice(root: string, name: string): UsbDeviceInfo | undefined {
  const m = /^(\d+)-(\d+(?:\.\d+)*)$/.exec(name);
  if (m === null) return undefined;
  const dir = join(root, name);
  const hex = (a: string): number | undefined => {
    const v = attr(dir, a);
    return v !== undefined && /^[0-9a-fA-F]+$/.test(v) ? parseInt(v, 16) : undefined;
  };
  const dec = (a: string): number | undefined => {
    const v = attr(dir, a);
    return v !== undefined && /^\d+$/.test(v) ? parseInt(v, 10) : undefined;
  };
  const vendorId = hex('idVendor');
  const productId = hex('idProduct');
  const busNumber = dec('busnum');
  const deviceAddress = dec('devnum');
  if (
    vendorId === undefined ||
    productId === undefined ||
    busNumber === undefined ||
    deviceAddress === undefined
  ) {
    return undefined;
  }
  const portPath = (m[2] ?? '').split('.').map((p) => parseInt(p, 10));
  return Object.freeze({
    vendorId,
    productId,
    serialNumber: attr(dir, 'serial'),
    manufacturer: attr(dir, 'manufacturer'),
    product: attr(dir, 'product'),
    busNumber,
    deviceAddress,
    portPath: Object.freeze(portPath),
    speed: SPEEDS[attr(dir, 'speed') ?? ''] ?? 'unknown',
    deviceClass: hex('bDeviceClass') ?? 0,
    deviceSubClass: hex('bDeviceSubClass') ?? 0,
    deviceProtocol: hex('bDeviceProtocol') ?? 0,
    location: formatLocation(busNumber, portPath),
  });
}

/** Every non-hub-root USB device under `root` (default `/sys/bus/usb/devices`), sorted by location. [] when absent. */
export function listSysfsDevices(root = '/sys/bus/usb/devices'): UsbDeviceInfo[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const out: UsbDeviceInfo[] = [];
  for (const n of names) {
    const d = readSysfsDevice(root, n);
    if (d !== undefined) out.push(d);
  }
  return out.sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
}

/** `/dev/bus/usb/BBB/DDD` for a device. */
export function usbfsPath(
  device: Pick<UsbDeviceInfo, 'busNumber' | 'deviceAddress'>,
  devRoot = '/dev/bus/usb',
): string {
  const p3 = (n: number): string => String(n).padStart(3, '0');
  return `${devRoot}/${p3(device.busNumber)}/${p3(device.deviceAddress)}`;
}

/** The value of sysfs `bConfigurationValue` of a device (0 = unconfigured), or undefined when unreadable. */
export function activeConfigurationValue(root: string, location: string): number | undefined {
  const v = attr(join(root, location), 'bConfigurationValue');
  return v !== undefined && /^\d+$/.test(v) ? parseInt(v, 10) : undefined;
}
