// Unit tests of the hardware-free parts of the usbfs backend: sysfs enumeration, usbfs descriptor split, error mapping.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import fc from 'fast-check';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHalError } from '../hal-error.js';
import { listSysfsDevices, usbfsPath, activeConfigurationValue } from './sysfs-devices.js';
import { toHalError, transferStatusFromErrno, UDEV_HINT } from './usb-failure.js';
import { splitUsbfsDescriptors, usbfsAvailable } from './usbfs-transport.js';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ksemu-sysfs-'));
  const dev = (name: string, attrs: Record<string, string>): void => {
    mkdirSync(join(root, name));
    for (const [k, v] of Object.entries(attrs)) writeFileSync(join(root, name, k), `${v}\n`);
  };
  dev('usb1', { idVendor: '1d6b', idProduct: '0002', busnum: '1', devnum: '1' });
  dev('1-1', {
    idVendor: '1209',
    idProduct: '0001',
    busnum: '1',
    devnum: '3',
    speed: '480',
    serial: 'POC0001',
    product: 'cam',
    bDeviceClass: 'ef',
    bDeviceSubClass: '02',
    bDeviceProtocol: '01',
    bConfigurationValue: '1',
  });
  dev('1-1:1.0', { bInterfaceClass: '0e' });
  dev('2-1.4', { idVendor: '046d', idProduct: '0825', busnum: '2', devnum: '9', speed: '12' });
  dev('2-1.5', { idVendor: 'zz', idProduct: '0825', busnum: '2', devnum: '10' }); // malformed: skipped
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sysfs enumeration', () => {
  it('lists devices (not root hubs or interfaces) with ids, strings, port paths and speed', () => {
    const list = listSysfsDevices(root);
    expect(list.map((d) => d.location)).toEqual(['1-1', '2-1.4']);
    const [cam, c270] = list;
    expect(cam).toMatchObject({
      vendorId: 0x1209,
      productId: 1,
      busNumber: 1,
      deviceAddress: 3,
      serialNumber: 'POC0001',
    });
    expect(cam?.speed).toBe('high');
    expect(cam?.deviceClass).toBe(0xef);
    expect(c270?.portPath).toEqual([1, 4]);
    expect(c270?.speed).toBe('full');
    expect(c270?.serialNumber).toBeUndefined();
    expect(activeConfigurationValue(root, '1-1')).toBe(1);
    expect(activeConfigurationValue(root, '2-1.4')).toBeUndefined();
  });

  it('returns [] for a missing sysfs and builds usbfs paths', () => {
    expect(listSysfsDevices(join(root, 'nope'))).toEqual([]);
    expect(usbfsPath({ busNumber: 1, deviceAddress: 3 })).toBe('/dev/bus/usb/001/003');
  });
});

describe('splitUsbfsDescriptors', () => {
  const devDesc = Array.from({ length: 18 }, (_, i) => (i === 0 ? 18 : i === 1 ? 1 : i));
  const cfg = (value: number, extra: number): number[] => {
    const total = 9 + extra;
    return [
      9,
      2,
      total & 0xff,
      total >> 8,
      1,
      value,
      0,
      0x80,
      50,
      ...Array.from({ length: extra }, () => value),
    ];
  };

  it('picks the active configuration among several', () => {
    const raw = Uint8Array.from([...devDesc, ...cfg(1, 3), ...cfg(2, 5)]);
    const a = splitUsbfsDescriptors(raw, 2);
    expect(a.device.length).toBe(18);
    expect(a.config?.length).toBe(14);
    expect(a.config?.[5]).toBe(2);
    expect(splitUsbfsDescriptors(raw, undefined).config?.[5]).toBe(1);
  });

  it('never throws or loops on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.option(fc.integer({ min: 0, max: 255 })),
        (raw, v) => {
          const r = splitUsbfsDescriptors(raw, v ?? undefined);
          expect(r.device.length).toBeLessThanOrEqual(18);
          if (r.config !== undefined) expect(r.config.length).toBeLessThanOrEqual(raw.length);
        },
      ),
    );
  });
});

describe('usb failures', () => {
  it('maps errno and libusb errors to HalError codes, keeping the cause', () => {
    const enodev = Object.assign(new Error('gone'), { code: 'ENODEV' });
    const e = toHalError(enodev, 'claim', 'usb:1-1');
    expect(isHalError(e, 'Disconnected')).toBe(true);
    expect(e.cause).toBe(enodev);
    expect(e.deviceId).toBe('usb:1-1');
    expect(isHalError(toHalError(Object.assign(new Error('x'), { code: 'EPIPE' }), 'ctl'), 'Stall')).toBe(
      true,
    );
    expect(
      isHalError(toHalError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'ctl'), 'TimedOut'),
    ).toBe(true);
    expect(isHalError(toHalError(new Error('LIBUSB_ERROR_PIPE'), 'ctl'), 'Stall')).toBe(true);
    expect(isHalError(toHalError(new Error('LIBUSB_ERROR_NO_DEVICE'), 'ctl'), 'Disconnected')).toBe(true);
    const denied = toHalError(Object.assign(new Error('x'), { code: 'EACCES' }), 'open');
    expect(isHalError(denied, 'AccessDenied')).toBe(true);
    expect(denied.message).toContain(UDEV_HINT);
    const busy = toHalError(Object.assign(new Error('x'), { code: 'EBUSY' }), 'claim');
    expect(isHalError(busy, 'Busy')).toBe(true);
    expect(busy.message).toMatch(/kernel driver/);
    expect(isHalError(toHalError('weird', 'x'), 'Io')).toBe(true);
    expect(toHalError(e, 'again')).toBe(e);
  });

  it('maps URB statuses to transfer statuses', () => {
    expect(transferStatusFromErrno(0)).toBe('ok');
    expect(transferStatusFromErrno(-32)).toBe('stall');
    expect(transferStatusFromErrno(-19)).toBe('disconnected');
    expect(transferStatusFromErrno(-108)).toBe('disconnected');
    expect(transferStatusFromErrno(-2)).toBe('cancelled');
    expect(transferStatusFromErrno(-75)).toBe('overflow');
    expect(transferStatusFromErrno(-71)).toBe('error');
  });

  it('says whether the addon is available, with a reason', () => {
    const a = usbfsAvailable();
    expect(typeof a.available).toBe('boolean');
    expect(a.reason.length).toBeGreaterThan(0);
  });
});
