// Tests of the UsbTransport port's shared helpers (filters, locations, argument checks).
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { checkInEndpoint, checkSetup, formatLocation, matchesFilter } from './usb-transport.js';
import type { UsbDeviceInfo } from './usb-transport.js';

const dev: UsbDeviceInfo = {
  vendorId: 0x1209,
  productId: 0x0001,
  serialNumber: 'S1',
  busNumber: 3,
  deviceAddress: 7,
  portPath: [1, 4],
  speed: 'high',
  deviceClass: 0xef,
  deviceSubClass: 2,
  deviceProtocol: 1,
  location: '3-1.4',
};

describe('usb-transport helpers', () => {
  it('formats sysfs locations', () => {
    expect(formatLocation(3, [1, 4])).toBe('3-1.4');
    expect(formatLocation(2, [])).toBe('usb2');
  });

  it('matches filters field by field', () => {
    expect(matchesFilter(dev, undefined)).toBe(true);
    expect(matchesFilter(dev, { vendorId: 0x1209, productId: 1 })).toBe(true);
    expect(matchesFilter(dev, { vendorId: 0x1209, productId: 2 })).toBe(false);
    expect(matchesFilter(dev, { serialNumber: 'S2' })).toBe(false);
    expect(matchesFilter(dev, { location: '3-1.4' })).toBe(true);
    expect(matchesFilter(dev, { location: '3-1' })).toBe(false);
  });

  it('accepts only IN endpoint addresses', () => {
    expect(() => checkInEndpoint(0x81)).not.toThrow();
    expect(() => checkInEndpoint(0x8f)).not.toThrow();
    for (const bad of [0, 1, 0x80, 0x90, 0x02, 1.5, -1])
      expect(() => checkInEndpoint(bad)).toThrow(TypeError);
  });

  it('checks setup direction and field ranges', () => {
    const getCur = { requestType: 0xa1, request: 0x81, value: 0x0100, index: 0x0001 };
    expect(() => checkSetup(getCur, true, 34)).not.toThrow();
    expect(() => checkSetup(getCur, false, 34)).toThrow(/direction IN, call is OUT/);
    expect(() => checkSetup({ ...getCur, value: 0x10000 }, true, 1)).toThrow(RangeError);
    expect(() => checkSetup(getCur, true, 70000)).toThrow(RangeError);
  });

  it('never throws anything but RangeError for arbitrary setups', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 0x1_0005 }),
        fc.integer({ min: -5, max: 300 }),
        fc.boolean(),
        (v, rt, dirIn) => {
          try {
            checkSetup({ requestType: rt, request: 1, value: v, index: 0 }, dirIn, 0);
          } catch (e) {
            expect(e).toBeInstanceOf(RangeError);
          }
        },
      ),
    );
  });
});
