// Tests of the UVC control tables, request builders, value codecs and STALL error decoding.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isHalError } from '../hal-error.js';
import {
  CAMERA_TERMINAL_CONTROLS,
  PROCESSING_UNIT_CONTROLS,
  UvcControlError,
  buildGetRequest,
  buildRequestErrorCodeRequest,
  buildSetCurRequest,
  controlNames,
  decodeControlInfo,
  decodeControlValue,
  decodeGetLen,
  decodeSetupPacket,
  decodeStall,
  encodeControlInfo,
  encodeControlValue,
  encodeSetupPacket,
  findControl,
  extensionUnitSelectors,
  requestErrorCode,
  requestErrorName,
  streamErrorName,
} from './controls.js';

describe('control tables', () => {
  it('maps the non-linear bmControls bits (lsusb-checked PU 0x157f and CT 0x020a2e)', () => {
    expect(controlNames(PROCESSING_UNIT_CONTROLS, 0x157f, 2)).toEqual([
      'brightness',
      'contrast',
      'hue',
      'saturation',
      'sharpness',
      'gamma',
      'white-balance-temperature',
      'backlight-compensation',
      'power-line-frequency',
      'white-balance-temperature-auto',
    ]);
    expect(controlNames(CAMERA_TERMINAL_CONTROLS, 0x020a2e, 3)).toEqual([
      'ae-mode',
      'ae-priority',
      'exposure-time-absolute',
      'focus-absolute',
      'zoom-absolute',
      'pantilt-absolute',
      'focus-auto',
    ]);
    expect(controlNames(CAMERA_TERMINAL_CONTROLS, 1 << 18, 3)).toEqual(['privacy']);
    expect(controlNames(CAMERA_TERMINAL_CONTROLS, 1 << 15, 3)).toEqual(['bit15']);
    expect(controlNames(CAMERA_TERMINAL_CONTROLS, 1 << 21, 3, 0x0110)).toEqual(['bit21']);
    expect(controlNames(CAMERA_TERMINAL_CONTROLS, 1 << 21, 3, 0x0150)).toEqual(['region-of-interest']);
    expect(findControl(CAMERA_TERMINAL_CONTROLS, 'focus-auto')!.selector).toBe(0x08);
    expect(findControl(PROCESSING_UNIT_CONTROLS, 'brightness')).toMatchObject({
      selector: 0x02,
      size: 2,
      bit: 0,
    });
  });

  it('lists extension unit selectors from bmControls (bit n = selector n + 1)', () => {
    expect(extensionUnitSelectors(new Uint8Array([0xff, 0x03]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(extensionUnitSelectors(new Uint8Array([0x00, 0x00, 0x01]))).toEqual([17]);
  });

  it('has unique selectors and bits per table', () => {
    for (const t of [CAMERA_TERMINAL_CONTROLS, PROCESSING_UNIT_CONTROLS]) {
      expect(new Set(t.map((c) => c.selector)).size).toBe(t.length);
      expect(new Set(t.map((c) => c.bit)).size).toBe(t.length);
    }
  });
});

describe('requests', () => {
  it('builds GET/SET with wIndex = entity << 8 | interface', () => {
    const brightness = findControl(PROCESSING_UNIT_CONTROLS, 'brightness')!;
    const addr = { interfaceNumber: 0, entityId: 3, selector: brightness.selector };
    expect(buildGetRequest('min', addr, 2)).toEqual({
      requestType: 0xa1,
      request: 0x82,
      value: 0x0200,
      index: 0x0300,
      length: 2,
    });
    expect(buildGetRequest('info', addr, 99).length).toBe(1);
    expect(buildGetRequest('len', addr, 99).length).toBe(2);
    const set = buildSetCurRequest(addr, encodeControlValue(brightness, -5));
    expect(set).toMatchObject({ requestType: 0x21, request: 0x01, value: 0x0200, index: 0x0300, length: 2 });
    expect(Array.from(set.data!)).toEqual([0xfb, 0xff]);
    expect(() => buildGetRequest('cur', { ...addr, entityId: 256 }, 2)).toThrow(RangeError);
    expect(() => buildSetCurRequest(addr, new Uint8Array())).toThrow(RangeError);
  });

  it('encodes and decodes setup packets', () => {
    const r = buildGetRequest('cur', { interfaceNumber: 1, entityId: 0, selector: 1 }, 34);
    const b = encodeSetupPacket(r);
    expect(Array.from(b)).toEqual([0xa1, 0x81, 0x00, 0x01, 0x01, 0x00, 34, 0]);
    expect(decodeSetupPacket(b)).toEqual(r);
    expect(() => decodeSetupPacket(new Uint8Array(7))).toThrow(RangeError);
  });

  it('reads the request error code after a STALL', () => {
    expect(buildRequestErrorCodeRequest(0)).toEqual({
      requestType: 0xa1,
      request: 0x81,
      value: 0x0200,
      index: 0,
      length: 1,
    });
  });
});

describe('values', () => {
  it('handles signedness and compound controls', () => {
    const pantilt = findControl(CAMERA_TERMINAL_CONTROLS, 'pantilt-absolute')!;
    const b = encodeControlValue(pantilt, { pan: -36000, tilt: 36000 });
    expect(b.length).toBe(8);
    expect(decodeControlValue(pantilt, b)).toEqual({ value: { pan: -36000, tilt: 36000 }, short: false });
    const exposure = findControl(CAMERA_TERMINAL_CONTROLS, 'exposure-time-absolute')!;
    expect(decodeControlValue(exposure, new Uint8Array([0xff, 0x07, 0, 0])).value).toBe(2047);
    expect(decodeControlValue(exposure, new Uint8Array([0xff])).short).toBe(true);
    expect(() => encodeControlValue(exposure, -1)).toThrow(RangeError);
    expect(() => encodeControlValue(pantilt, 3)).toThrow(TypeError);
    expect(() => encodeControlValue(pantilt, { pan: 1 })).toThrow(TypeError);
  });

  it('round-trips every table control (property)', () => {
    const all = [...CAMERA_TERMINAL_CONTROLS, ...PROCESSING_UNIT_CONTROLS];
    fc.assert(
      fc.property(
        fc.nat(all.length - 1),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
        (i, r) => {
          const d = all[i]!;
          const fields: Record<string, number> = {};
          d.fields.forEach((f, k) => {
            const bits = f.size * 8;
            const min = f.signed ? -(2 ** (bits - 1)) : 0;
            const span = 2 ** bits - 1;
            fields[f.name] = min + Math.floor((r[k] ?? 0) * span);
          });
          const value = d.fields.length === 1 ? fields[d.fields[0]!.name]! : fields;
          expect(decodeControlValue(d, encodeControlValue(d, value)).value).toEqual(value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('GET_INFO and GET_LEN', () => {
    expect(decodeControlInfo(0x0b)).toEqual({
      get: true,
      set: true,
      disabledByAuto: false,
      autoUpdate: true,
      asynchronous: false,
      disabledByCommit: false,
    });
    expect(encodeControlInfo(decodeControlInfo(0x3f))).toBe(0x3f);
    expect(decodeGetLen(new Uint8Array([0x10, 0x01]))).toBe(0x110);
    expect(decodeGetLen(new Uint8Array([1]))).toBe(0);
  });
});

describe('STALL → request error', () => {
  it('decodes every error code into a typed HalError', () => {
    const req = buildSetCurRequest({ interfaceNumber: 0, entityId: 3, selector: 2 }, new Uint8Array(2));
    const names = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xff].map(requestErrorName);
    expect(names).toEqual([
      'no-error',
      'not-ready',
      'wrong-state',
      'power',
      'out-of-range',
      'invalid-unit',
      'invalid-control',
      'invalid-request',
      'invalid-value-within-range',
      'unknown',
      'unknown',
    ]);
    expect(requestErrorCode('out-of-range')).toBe(4);
    expect([0, 3, 6, 7, 8, 0xff].map(streamErrorName)).toEqual([
      'no-error',
      'data-discontinuity',
      'format-change',
      'still-image-capture-error',
      'unknown',
      'unknown',
    ]);
    expect(requestErrorCode('unknown')).toBe(0xff);
    const e = decodeStall(req, new Uint8Array([4]), new Error('LIBUSB_TRANSFER_STALL'));
    expect(e).toBeInstanceOf(UvcControlError);
    expect(isHalError(e, 'Stall')).toBe(true);
    expect(e.requestError).toBe('out-of-range');
    expect(e.retryable).toBe(false);
    expect((e.cause as Error).message).toBe('LIBUSB_TRANSFER_STALL');
    expect(e.message).toMatch(/entity 3 .*out-of-range/);
    expect(decodeStall(req, new Uint8Array([1])).retryable).toBe(true);
    const unknown = decodeStall(req, undefined);
    expect(unknown.requestError).toBeUndefined();
    expect(unknown.code).toBe('Stall');
  });
});
