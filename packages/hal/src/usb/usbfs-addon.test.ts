// Tests of the usbfs addon's argument and error paths on files that are not USB devices (no hardware needed).
// Errors come from the main realm (native code), so they are matched by name, not by constructor.
import { describe, it, expect } from '@jest/globals';
import { loadUsbfsAddon, URB_TYPE } from './usbfs-addon.js';

const { addon } = loadUsbfsAddon();
const maybe = addon === undefined ? describe.skip : describe;

maybe('usbfs addon (error paths)', () => {
  const a = addon as NonNullable<typeof addon>;

  it('reports open failures with errno codes', () => {
    expect(() => a.open('/nonexistent/usb/device')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('turns ioctls on a non-usbfs file into ENOTTY errors, and close is idempotent', async () => {
    const d = a.open('/dev/null');
    expect(() => a.claim(d, 0)).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
    expect(() => a.setAlt(d, 1, 1)).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
    expect(() => a.getDriver(d, 0)).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
    const err = await new Promise<Error | null>((resolve) =>
      a.control(d, 0x80, 6, 0x100, 0, new Uint8Array(18), 100, (e) => resolve(e)),
    );
    expect(err).toMatchObject({ code: 'ENOTTY' });
    expect(() =>
      a.streamStart(d, URB_TYPE.bulk, 0x81, [new Uint8Array(64)], 64, 0, 0, null, null, () => true),
    ).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
    a.close(d);
    a.close(d);
    expect(() => a.claim(d, 0)).toThrow(/closed/);
  });

  it('validates stream arguments before touching the kernel', () => {
    const d = a.open('/dev/null');
    try {
      expect(() => a.streamStart(d, URB_TYPE.bulk, 0x81, [], 64, 0, 0, null, null, () => true)).toThrow(
        expect.objectContaining({ name: 'RangeError' }),
      );
      expect(() =>
        a.streamStart(d, URB_TYPE.bulk, 0x81, [new Uint8Array(8)], 64, 0, 0, null, null, () => true),
      ).toThrow(expect.objectContaining({ name: 'RangeError' }));
      expect(() =>
        a.streamStart(
          d,
          URB_TYPE.iso,
          0x81,
          [new Uint8Array(64)],
          64,
          2,
          32,
          [new Uint32Array(1)],
          [new Int32Array(2)],
          () => true,
        ),
      ).toThrow(expect.objectContaining({ name: 'RangeError' }));
      expect(() => a.claim({} as never, 0)).toThrow(expect.objectContaining({ name: 'TypeError' }));
    } finally {
      a.close(d);
    }
  });
});
