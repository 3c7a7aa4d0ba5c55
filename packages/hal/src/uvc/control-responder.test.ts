// Tests of the device-side control responder driven by the host-side request builders (GET/SET/STALL → error code), and status packets.

import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ControlResponder, numericDeviceControl } from './control-responder.js';
import {
  CAMERA_TERMINAL_CONTROLS,
  PROCESSING_UNIT_CONTROLS,
  buildGetRequest,
  buildRequestErrorCodeRequest,
  buildSetCurRequest,
  decodeControlInfo,
  decodeControlValue,
  decodeGetLen,
  decodeStall,
  encodeControlValue,
  findControl,
} from './controls.js';
import type { UvcControlRequest, UvcControlValue } from './controls.js';
import { decodeStatusPacket, encodeButtonStatus, encodeControlStatus } from './status-packet.js';

const brightness = findControl(PROCESSING_UNIT_CONTROLS, 'brightness')!;
const pantilt = findControl(CAMERA_TERMINAL_CONTROLS, 'pantilt-absolute')!;

function device() {
  const state = { brightness: 0 as number, pantilt: { pan: 0, tilt: 0 } as UvcControlValue };
  const r = new ControlResponder(
    [
      numericDeviceControl({
        entityId: 2,
        def: brightness,
        min: -64,
        max: 64,
        res: 1,
        default: 0,
        get: () => state.brightness,
        set: (v) => {
          state.brightness = v as number;
          return undefined;
        },
      }),
      numericDeviceControl({
        entityId: 1,
        def: pantilt,
        min: { pan: -36000, tilt: -36000 },
        max: { pan: 36000, tilt: 36000 },
        res: { pan: 3600, tilt: 3600 },
        default: { pan: 0, tilt: 0 },
        get: () => state.pantilt,
        set: (v) => {
          state.pantilt = v;
          return undefined;
        },
      }),
      numericDeviceControl({
        entityId: 1,
        def: findControl(CAMERA_TERMINAL_CONTROLS, 'privacy')!,
        min: 0,
        max: 1,
        res: 1,
        default: 0,
        get: () => 1,
      }),
    ],
    [1, 2, 3],
  );
  return { r, state };
}
const data = (a: ReturnType<ControlResponder['handle']>): Uint8Array => {
  if (a.status !== 'ok' || !a.data) throw new Error(`expected data, got ${JSON.stringify(a)}`);
  return a.data;
};
const at = (entityId: number, selector: number) => ({ interfaceNumber: 0, entityId, selector });

describe('ControlResponder', () => {
  it('answers INFO/LEN/MIN/MAX/RES/DEF/CUR and applies SET_CUR', () => {
    const { r, state } = device();
    const a = at(2, brightness.selector);
    expect(decodeControlInfo(data(r.handle(buildGetRequest('info', a, 1)))[0]!)).toMatchObject({
      get: true,
      set: true,
    });
    expect(decodeGetLen(data(r.handle(buildGetRequest('len', a, 2))))).toBe(2);
    const get = (kind: 'min' | 'max' | 'res' | 'def' | 'cur'): UvcControlValue =>
      decodeControlValue(brightness, data(r.handle(buildGetRequest(kind, a, 2)))).value;
    expect([get('min'), get('max'), get('res'), get('def'), get('cur')]).toEqual([-64, 64, 1, 0, 0]);
    expect(r.handle(buildSetCurRequest(a, encodeControlValue(brightness, -7)))).toEqual({ status: 'ok' });
    expect(state.brightness).toBe(-7);
    expect(get('cur')).toBe(-7);
    const pt = at(1, pantilt.selector);
    r.handle(buildSetCurRequest(pt, encodeControlValue(pantilt, { pan: 3600, tilt: -7200 })));
    expect(decodeControlValue(pantilt, data(r.handle(buildGetRequest('cur', pt, 8)))).value).toEqual({
      pan: 3600,
      tilt: -7200,
    });
  });

  it('STALLs with the right request error code, readable through VC_REQUEST_ERROR_CODE_CONTROL', () => {
    const { r, state } = device();
    const cases: [UvcControlRequest, string][] = [
      [buildSetCurRequest(at(2, brightness.selector), encodeControlValue(brightness, 100)), 'out-of-range'],
      [buildSetCurRequest(at(2, brightness.selector), new Uint8Array(1)), 'invalid-request'],
      [buildGetRequest('cur', at(9, 2), 2), 'invalid-unit'],
      [buildGetRequest('cur', at(3, 2), 2), 'invalid-control'],
      [buildSetCurRequest(at(1, 0x11), new Uint8Array([0])), 'invalid-request'],
    ];
    for (const [req, name] of cases) {
      const ans = r.handle(req);
      expect(ans).toEqual({ status: 'stall', error: name });
      const code = data(r.handle(buildRequestErrorCodeRequest(0)));
      const err = decodeStall(req, code);
      expect(err.requestError).toBe(name);
      expect(err.code).toBe('Stall');
    }
    expect(state.brightness).toBe(0);
    r.handle(buildGetRequest('cur', at(2, brightness.selector), 2));
    expect(data(r.handle(buildRequestErrorCodeRequest(0)))[0]).toBe(0);
  });

  it('never throws on arbitrary requests (property)', () => {
    const { r } = device();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 64 }),
        fc.uint8Array({ maxLength: 12 }),
        (request, value, index, length, bytes) => {
          const a = r.handle({ requestType: 0x21, request, value, index, length, data: bytes });
          expect(['ok', 'stall']).toContain(a.status);
          if (a.status === 'ok' && a.data) expect(a.data.length).toBeLessThanOrEqual(length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects duplicate controls', () => {
    const c = numericDeviceControl({
      entityId: 2,
      def: brightness,
      min: 0,
      max: 1,
      res: 1,
      default: 0,
      get: () => 0,
    });
    expect(() => new ControlResponder([c, c])).toThrow(RangeError);
  });
});

describe('status packets', () => {
  it('round-trips control and button events', () => {
    const p = decodeStatusPacket(encodeControlStatus(2, brightness.selector, new Uint8Array([5, 0])));
    expect(p).toEqual({
      kind: 'control',
      originator: 2,
      event: 0,
      selector: 2,
      attribute: 'value',
      value: new Uint8Array([5, 0]),
    });
    expect(decodeStatusPacket(encodeButtonStatus(1, true))).toEqual({
      kind: 'streaming',
      originator: 1,
      event: 0,
      value: new Uint8Array([1]),
    });
    expect(decodeStatusPacket(new Uint8Array([1, 2])).kind).toBe('invalid');
    expect(decodeStatusPacket(new Uint8Array([1, 2, 0, 1])).kind).toBe('invalid');
    expect(decodeStatusPacket(new Uint8Array([7, 2, 0, 1])).kind).toBe('invalid');
  });
});
