// What the server needs to know about an exported device, read from its descriptors once at registration.

import { UsbIpSpeed } from '@ksemu/hal';
import type { UsbIpDeviceRecord, UsbIpInterfaceRecord, UsbSpeed } from '@ksemu/hal';
import type { EndpointType, UsbIpDevice } from './usbip-device.js';

/** One endpoint found in any alternate setting of the configuration. */
export interface EndpointInfo {
  readonly address: number;
  readonly type: EndpointType;
  readonly maxPacketSize: number;
}

/**
 * Descriptor-derived facts: endpoints (by address, across all alternate settings), the alternate
 * settings of each interface, and the USB/IP device and interface records.
 */
export interface DeviceLayout {
  readonly configurationValue: number;
  readonly endpoints: ReadonlyMap<number, EndpointInfo>;
  /** interface number → set of its alternate settings. */
  readonly alternates: ReadonlyMap<number, ReadonlySet<number>>;
  readonly interfaces: readonly UsbIpInterfaceRecord[];
  readonly record: UsbIpDeviceRecord;
}

const SPEEDS: Record<UsbSpeed, number> = {
  unknown: UsbIpSpeed.Unknown,
  low: UsbIpSpeed.Low,
  full: UsbIpSpeed.Full,
  high: UsbIpSpeed.High,
  super: UsbIpSpeed.Super,
  'super-plus': UsbIpSpeed.SuperPlus,
};

/**
 * Reads the descriptors of `device`. Throws RangeError when they are malformed (wrong device
 * descriptor length or type, a configuration whose descriptors overrun it): a device model with bad
 * descriptors is a programming error caught at registration, not at a client's request.
 */
export function readDeviceLayout(device: UsbIpDevice, devnum: number): DeviceLayout {
  const dd = device.deviceDescriptor;
  if (dd.length !== 18 || dd[0] !== 18 || dd[1] !== 1)
    throw new RangeError(`${device.busid}: device descriptor must be 18 bytes of type 1`);
  const cd = device.configDescriptor;
  if (cd.length < 9 || cd[1] !== 2 || (cd[2]! | (cd[3]! << 8)) !== cd.length)
    throw new RangeError(`${device.busid}: configuration descriptor type or wTotalLength is wrong`);
  const endpoints = new Map<number, EndpointInfo>();
  const alternates = new Map<number, Set<number>>();
  const interfaces: UsbIpInterfaceRecord[] = [];
  let off = 0;
  while (off < cd.length) {
    const len = cd[off]!;
    const type = cd[off + 1];
    if (len < 2 || off + len > cd.length)
      throw new RangeError(`${device.busid}: configuration descriptor overruns at offset ${off}`);
    if (type === 4 && len >= 9) {
      const num = cd[off + 2]!;
      const alt = cd[off + 3]!;
      let set = alternates.get(num);
      if (!set) alternates.set(num, (set = new Set()));
      set.add(alt);
      if (alt === 0)
        interfaces.push({
          bInterfaceClass: cd[off + 5]!,
          bInterfaceSubClass: cd[off + 6]!,
          bInterfaceProtocol: cd[off + 7]!,
        });
    } else if (type === 5 && len >= 7) {
      const address = cd[off + 2]!;
      const kind = cd[off + 3]! & 3;
      const mps = cd[off + 4]! | (cd[off + 5]! << 8);
      const t: EndpointType = kind === 1 ? 'iso' : kind === 2 ? 'bulk' : 'interrupt';
      const prev = endpoints.get(address);
      if (prev && prev.type !== t)
        throw new RangeError(`${device.busid}: endpoint 0x${address.toString(16)} has two transfer types`);
      // Keep the largest packet size seen across alternate settings (the iso bandwidth ladder).
      if (kind !== 0 && (!prev || mps > prev.maxPacketSize))
        endpoints.set(address, { address, type: t, maxPacketSize: mps });
    }
    off += len;
  }
  if (interfaces.length !== cd[4])
    throw new RangeError(
      `${device.busid}: bNumInterfaces ${cd[4]} but ${interfaces.length} interfaces found`,
    );
  const u16 = (i: number): number => dd[i]! | (dd[i + 1]! << 8);
  const busnum = Number.parseInt(device.busid, 10);
  return {
    configurationValue: cd[5]!,
    endpoints,
    alternates,
    interfaces,
    record: {
      path: `/sys/devices/ksemu/usbip/${device.busid}`,
      busid: device.busid,
      busnum: Number.isInteger(busnum) && busnum >= 0 ? busnum : 1,
      devnum,
      speed: SPEEDS[device.speed],
      idVendor: u16(8),
      idProduct: u16(10),
      bcdDevice: u16(12),
      bDeviceClass: dd[4]!,
      bDeviceSubClass: dd[5]!,
      bDeviceProtocol: dd[6]!,
      bConfigurationValue: cd[5]!,
      bNumConfigurations: dd[17]!,
      bNumInterfaces: cd[4]!,
    },
  };
}
