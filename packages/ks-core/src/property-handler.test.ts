// Tests of the central property handler (typed + raw), per-node addressing, change events, event sets and descriptor validation.
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { isKsError } from './ks-error.js';
import { ManualClock } from './manual-clock.js';
import { createDevice } from './device.js';
import {
  createTestDevice,
  TestEventSet,
  TestProperty,
  testFilterDescriptor,
} from './testing/test-minidriver.js';
import { MediaSubtype, PropSetId, PropTypeSetId, KsCategory, PinName } from './known-guids.js';
import { PinProperty } from './property-ids.js';
import { guid, guidFromBytes, guidToBytes } from './guid.js';
import { ControlFlags, PropertyRequestFlags } from './property-handler.js';
import type { PropertyChange } from './property-handler.js';
import { defineFilterDescriptor, definePin, deepFreeze, FILTER_NODE } from './descriptors.js';
import { videoRange } from './data-range.js';
import { DEFAULT_FRAMING } from './allocator-framing.js';
import { frameIntervalFromRate } from './ks-time.js';

async function filter() {
  const { device, hardware } = createTestDevice(new ManualClock());
  return { device, hardware, filter: await device.createFilter() };
}

const { GET, SET, BASICSUPPORT, TOPOLOGY } = PropertyRequestFlags;

describe('typed property API', () => {
  it('stores values, starting from defaults, and emits change events', async () => {
    const { filter: f, device } = await filter();
    const changes: PropertyChange[] = [];
    f.properties.onChange((c) => changes.push(c));
    expect(await f.properties.get(TestProperty.set, TestProperty.Gain)).toBe(0);
    await f.properties.set(TestProperty.set, TestProperty.Gain, 4);
    await f.properties.set(TestProperty.set, TestProperty.Gain, 4);
    expect(await f.properties.get(TestProperty.set, TestProperty.Gain)).toBe(4);
    expect(changes).toEqual([
      { set: TestProperty.set, id: TestProperty.Gain, node: undefined, value: 4, mode: undefined },
    ]);
    await f.properties.set(TestProperty.set, TestProperty.Mirror, true);
    expect(await f.properties.get(TestProperty.set, TestProperty.Mirror)).toBe(true);
    expect(f.properties.defaultValue(TestProperty.set, TestProperty.Gain)).toBe(0);
    await device.close();
  });

  it('rejects out-of-range, off-step, wrong-type values and read-only writes', async () => {
    const { filter: f, device } = await filter();
    await expect(f.properties.set(TestProperty.set, TestProperty.Gain, 12)).rejects.toThrow(RangeError);
    await expect(f.properties.set(TestProperty.set, TestProperty.Gain, -11)).rejects.toThrow(RangeError);
    await expect(f.properties.set(TestProperty.set, TestProperty.Gain, 3)).rejects.toThrow(/step 2/);
    await expect(f.properties.set(TestProperty.set, TestProperty.Gain, 2.5)).rejects.toThrow(TypeError);
    await expect(f.properties.set(TestProperty.set, TestProperty.Gain, '2' as never)).rejects.toThrow(
      TypeError,
    );
    await expect(f.properties.set(TestProperty.set, TestProperty.Exposure, 4)).rejects.toThrow(TypeError);
    await expect(f.properties.set(TestProperty.set, TestProperty.Blob, new Uint8Array(7))).rejects.toThrow(
      TypeError,
    );
    await expect(f.properties.set(TestProperty.set, TestProperty.FramesFilled, 1)).rejects.toMatchObject({
      code: 'InvalidDeviceRequest',
    });
    expect(await f.properties.get(TestProperty.set, TestProperty.Gain)).toBe(0);
    await device.close();
  });

  it('gives clear NotFound errors for unknown sets, ids and nodes', async () => {
    const { filter: f, device } = await filter();
    await expect(f.properties.get(PropSetId.CameraControl, 0)).rejects.toMatchObject({
      code: 'NotFound',
      message: expect.stringMatching(/PROPSETID_VIDCAP_CAMERACONTROL/) as unknown as string,
    });
    await expect(f.properties.get(TestProperty.set, 99)).rejects.toMatchObject({ code: 'NotFound' });
    await expect(f.properties.get(PropSetId.VideoProcAmp, 0, { node: 5 })).rejects.toMatchObject({
      code: 'NotFound',
    });
    await expect(f.properties.get('nope' as never, 0)).rejects.toThrow(TypeError);
    expect(f.properties.has(TestProperty.set, 99)).toBe(false);
    await device.close();
  });

  it('addresses topology nodes, with auto/manual modes', async () => {
    const { filter: f, device } = await filter();
    // Brightness lives on node 0, not on the filter itself.
    await expect(f.properties.get(PropSetId.VideoProcAmp, 0)).rejects.toMatchObject({ code: 'NotFound' });
    expect(await f.properties.getControl(PropSetId.VideoProcAmp, 0, { node: 0 })).toEqual({
      value: 0,
      mode: 'manual',
    });
    await f.properties.set(PropSetId.VideoProcAmp, 0, 10, { node: 0, mode: 'auto' });
    expect(await f.properties.getControl(PropSetId.VideoProcAmp, 0, { node: 0 })).toEqual({
      value: 10,
      mode: 'auto',
    });
    expect(f.properties.list().map((p) => `${p.node ?? '-'}:${p.name}`)).toContain('0:Brightness');
    const d = f.properties.basicSupport(PropSetId.VideoProcAmp, 0, { node: 0 });
    expect(d).toMatchObject({
      min: -64,
      max: 64,
      step: 1,
      default: 0,
      canGet: true,
      canSet: true,
      modes: ['manual', 'auto'],
      rawSize: 12,
    });
    await device.close();
  });

  it('uses get/set handlers; a handler error is a KsError and keeps the stored value', async () => {
    const { filter: f, device, hardware } = await filter();
    hardware.filled = 17;
    expect(await f.properties.get(TestProperty.set, TestProperty.FramesFilled)).toBe(17);
    await f.properties.set(TestProperty.set, TestProperty.Exposure, 200n);
    await expect(f.properties.set(TestProperty.set, TestProperty.Exposure, 201n)).rejects.toMatchObject({
      code: 'DeviceFailure',
    });
    expect(await f.properties.get(TestProperty.set, TestProperty.Exposure)).toBe(200n);
    await device.close();
  });

  it('a throwing change listener cannot break a set', async () => {
    const { filter: f, device } = await filter();
    f.properties.onChange(() => {
      throw new Error('user bug');
    });
    await f.properties.set(TestProperty.set, TestProperty.Gain, 2);
    expect(await f.properties.get(TestProperty.set, TestProperty.Gain)).toBe(2);
    await device.close();
  });
});

describe('raw (KSPROPERTY-like) property API', () => {
  it('gets and sets little-endian values and reports sizes', async () => {
    const { filter: f, device } = await filter();
    const p = f.properties;
    expect(
      await p.raw({ set: TestProperty.set, id: TestProperty.Gain, flags: GET }, new Uint8Array(0)),
    ).toEqual({ bytes: 4, sizeOnly: true });
    const buf = new Uint8Array(4);
    new DataView(buf.buffer).setInt32(0, -6, true);
    await p.raw({ set: TestProperty.set, id: TestProperty.Gain, flags: SET }, buf);
    expect(await p.get(TestProperty.set, TestProperty.Gain)).toBe(-6);
    const out = new Uint8Array(8);
    expect(await p.raw({ set: TestProperty.set, id: TestProperty.Gain, flags: GET }, out)).toEqual({
      bytes: 4,
      sizeOnly: false,
    });
    expect(new DataView(out.buffer).getInt32(0, true)).toBe(-6);
    const exp = new Uint8Array(8);
    await p.raw({ set: TestProperty.set, id: TestProperty.Exposure, flags: GET }, exp);
    expect(new DataView(exp.buffer).getBigInt64(0, true)).toBe(100n);
    await device.close();
  });

  it('rejects wrong buffer sizes, bad values and bad flags with KsErrors', async () => {
    const { filter: f, device } = await filter();
    const p = f.properties;
    await expect(
      p.raw({ set: TestProperty.set, id: TestProperty.Gain, flags: GET }, new Uint8Array(2)),
    ).rejects.toMatchObject({ code: 'BufferTooSmall', requiredSize: 4 });
    await expect(
      p.raw({ set: TestProperty.set, id: TestProperty.Gain, flags: SET }, new Uint8Array(3)),
    ).rejects.toMatchObject({ code: 'BufferTooSmall' });
    const big = new Uint8Array(4);
    new DataView(big.buffer).setInt32(0, 100, true);
    await expect(
      p.raw({ set: TestProperty.set, id: TestProperty.Gain, flags: SET }, big),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    const bool = new Uint8Array([7, 0, 0, 0]);
    await expect(
      p.raw({ set: TestProperty.set, id: TestProperty.Mirror, flags: SET }, bool),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    await expect(
      p.raw({ set: TestProperty.set, id: TestProperty.Gain, flags: 0x40 }, big),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    await expect(p.raw({ set: TestProperty.set, id: 42, flags: GET }, big)).rejects.toMatchObject({
      code: 'NotFound',
    });
    await expect(
      p.raw({ set: TestProperty.set, id: TestProperty.FramesFilled, flags: SET }, big),
    ).rejects.toMatchObject({ code: 'InvalidDeviceRequest' });
    await expect(
      p.raw({ set: PropSetId.VideoProcAmp, id: 0, flags: GET, node: 0 }, new Uint8Array(12)),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    await expect(
      p.raw({ set: PropSetId.VideoProcAmp, id: 0, flags: GET | TOPOLOGY }, new Uint8Array(12)),
    ).rejects.toMatchObject({ code: 'InvalidParameter' });
    await expect(p.raw({ set: 'x' as never, id: 0, flags: GET }, new Uint8Array(4))).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
    await device.close();
  });

  it('uses value + flags + capabilities for controls with modes', async () => {
    const { filter: f, device } = await filter();
    const p = f.properties;
    const req = { set: PropSetId.VideoProcAmp, id: 0, flags: SET | TOPOLOGY, node: 0 };
    const buf = new Uint8Array(12);
    const v = new DataView(buf.buffer);
    v.setInt32(0, -5, true);
    v.setUint32(4, ControlFlags.AUTO, true);
    await p.raw(req, buf);
    expect(await p.getControl(PropSetId.VideoProcAmp, 0, { node: 0 })).toEqual({ value: -5, mode: 'auto' });
    const out = new Uint8Array(12);
    await p.raw({ ...req, flags: GET | TOPOLOGY }, out);
    const o = new DataView(out.buffer);
    expect([o.getInt32(0, true), o.getUint32(4, true), o.getUint32(8, true)]).toEqual([-5, 1, 3]);
    v.setUint32(4, 3, true);
    await expect(p.raw(req, buf)).rejects.toMatchObject({ code: 'InvalidParameter' });
    await device.close();
  });

  it('encodes basic support as KSPROPERTY_DESCRIPTION + stepped range + default', async () => {
    const { filter: f, device } = await filter();
    const p = f.properties;
    const req = { set: PropSetId.VideoProcAmp, id: 0, flags: BASICSUPPORT | TOPOLOGY, node: 0 };
    const size = await p.raw(req, new Uint8Array(0));
    expect(size).toEqual({ bytes: 40 + 32 + 20, sizeOnly: true });
    const access = new Uint8Array(4);
    expect((await p.raw(req, access)).bytes).toBe(4);
    expect(new DataView(access.buffer).getUint32(0, true)).toBe(GET | SET | BASICSUPPORT);
    const full = new Uint8Array(92);
    expect((await p.raw(req, full)).bytes).toBe(92);
    const v = new DataView(full.buffer);
    expect(v.getUint32(4, true)).toBe(92);
    expect(guidFromBytes(full, 8)).toBe(PropTypeSetId.General);
    expect(v.getUint32(24, true)).toBe(3); // VT_I4
    expect(v.getUint32(32, true)).toBe(2); // two member lists
    expect([v.getUint32(40, true), v.getUint32(44, true), v.getUint32(48, true)]).toEqual([2, 16, 1]);
    expect([v.getUint32(56, true), v.getInt32(64, true), v.getInt32(68, true)]).toEqual([1, -64, 64]);
    expect([v.getUint32(72, true), v.getUint32(84, true), v.getInt32(88, true)]).toEqual([3, 1, 0]);
    const ro = new Uint8Array(4);
    await p.raw({ set: TestProperty.set, id: TestProperty.FramesFilled, flags: BASICSUPPORT }, ro);
    expect(new DataView(ro.buffer).getUint32(0, true)).toBe(GET | BASICSUPPORT);
    await device.close();
  });

  it('round-trips GUID and byte values', async () => {
    const { filter: f, device } = await filter();
    const blob = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    await f.properties.raw({ set: TestProperty.set, id: TestProperty.Blob, flags: SET }, blob);
    expect([...((await f.properties.get(TestProperty.set, TestProperty.Blob)) as Uint8Array)]).toEqual([
      ...blob,
    ]);
    expect(guidFromBytes(guidToBytes(KsCategory.CAPTURE))).toBe(KsCategory.CAPTURE);
    await device.close();
  });
});

describe('handler errors', () => {
  it('maps a handler TypeError/RangeError to InvalidParameter and other throws to DeviceFailure, keeping the cause', async () => {
    const set = guid('77777777-1111-4222-8333-444444444444');
    const bad = new RangeError('no such input');
    const descriptor = defineFilterDescriptor({
      referenceGuid: guid('77777777-1111-4222-8333-444444444445'),
      name: 'handlers',
      pins: [],
      automation: {
        properties: [
          {
            set,
            items: [
              {
                id: 0,
                name: 'Route',
                type: 'uint32',
                set: () => {
                  throw bad;
                },
                get: () => 0,
              },
              {
                id: 1,
                name: 'Broken',
                type: 'uint32',
                get: () => {
                  throw new Error('i2c timeout');
                },
              },
            ],
          },
        ],
      },
    });
    const device = createDevice({ name: 'h', minidrivers: [{ descriptor }], clock: new ManualClock() });
    const f = await device.createFilter();
    const err = await f.properties.set(set, 0, 7).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'KsError', code: 'InvalidParameter' });
    expect((err as Error).cause).toBe(bad);
    await expect(f.properties.get(set, 1)).rejects.toMatchObject({ code: 'DeviceFailure' });
    await device.close();
  });
});

describe('built-in KSPROPSETID_Pin', () => {
  it('answers pin-type queries addressed with KSP_PIN, from the descriptor and live counts', async () => {
    const { filter: f, device } = await filter();
    const p = f.properties;
    expect(await p.get(PropSetId.Pin, PinProperty.CTypes)).toBe(1);
    expect(await p.get(PropSetId.Pin, PinProperty.DataFlow, { pin: 0 })).toBe(2); // KSPIN_DATAFLOW_OUT
    expect(await p.get(PropSetId.Pin, PinProperty.Communication, { pin: 0 })).toBe(1); // SINK
    expect(await p.get(PropSetId.Pin, PinProperty.Category, { pin: 0 })).toBe(PinName.CAPTURE);
    const ci = new Uint8Array(8);
    await p.raw({ set: PropSetId.Pin, id: PinProperty.CInstances, flags: GET, pin: 0 }, ci);
    expect([...new Uint32Array(ci.buffer)]).toEqual([1, 0]);
    await f.createPin(0);
    await p.raw({ set: PropSetId.Pin, id: PinProperty.CInstances, flags: GET, pin: 0 }, ci);
    expect([...new Uint32Array(ci.buffer)]).toEqual([1, 1]);
    await expect(p.get(PropSetId.Pin, PinProperty.DataFlow)).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
    await expect(p.get(PropSetId.Pin, PinProperty.DataFlow, { pin: 4 })).rejects.toMatchObject({
      code: 'NotFound',
    });
    await expect(p.get(PropSetId.Pin, PinProperty.CTypes, { pin: 0 })).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
    await expect(p.set(PropSetId.Pin, PinProperty.CTypes, 3)).rejects.toMatchObject({
      code: 'InvalidDeviceRequest',
    });
    expect(p.list().some((e) => e.set === PropSetId.Pin)).toBe(false);
    expect(p.list({ builtIn: true }).some((e) => e.set === PropSetId.Pin)).toBe(true);
    await device.close();
  });
});

describe('raw property codec (property-based)', () => {
  it('round-trips any legal value and answers any 4-byte input with success or a KsError', async () => {
    const { filter: f, device } = await filter();
    const p = f.properties;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 16 }), async (bytes) => {
        const req = { set: TestProperty.set, id: TestProperty.Gain, flags: SET };
        let accepted = false;
        try {
          await p.raw(req, bytes);
          accepted = true;
        } catch (err) {
          expect(isKsError(err)).toBe(true);
          expect(['BufferTooSmall', 'InvalidParameter']).toContain((err as { code: string }).code);
        }
        if (accepted) {
          const v = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true);
          expect(v >= -10 && v <= 10 && v % 2 === 0).toBe(true);
          const out = new Uint8Array(4);
          await p.raw({ ...req, flags: GET }, out);
          expect([...out]).toEqual([...bytes.subarray(0, 4)]);
        }
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -64, max: 64 }), fc.constantFrom(1, 2), async (value, flags) => {
        const buf = new Uint8Array(12);
        const v = new DataView(buf.buffer);
        v.setInt32(0, value, true);
        v.setUint32(4, flags, true);
        await p.raw({ set: PropSetId.VideoProcAmp, id: 0, flags: SET | TOPOLOGY, node: 0 }, buf);
        const out = new Uint8Array(12);
        await p.raw({ set: PropSetId.VideoProcAmp, id: 0, flags: GET | TOPOLOGY, node: 0 }, out);
        expect([...out.subarray(0, 8)]).toEqual([...buf.subarray(0, 8)]);
      }),
      { numRuns: 100 },
    );
    await device.close();
  });
});

describe('event sets', () => {
  it('delivers signalled events to enabled listeners and isolates listener errors', async () => {
    const { filter: f, device } = await filter();
    const got: unknown[] = [];
    const errors: string[] = [];
    f.on('listenerError', (_e, ev) => errors.push(ev));
    const sub = f.events.enable(TestEventSet, 0, (d) => got.push(d));
    f.events.enable(TestEventSet, 0, () => {
      throw new Error('user bug');
    });
    expect(f.events.signal(TestEventSet, 0, 'x')).toBe(2);
    sub.disable();
    sub.disable();
    f.events.signal(TestEventSet, 0, 'y');
    expect(got).toEqual(['x']);
    expect(errors).toHaveLength(2);
    expect(() => f.events.enable(TestEventSet, 9, () => undefined)).toThrow(
      expect.objectContaining({ code: 'NotFound' }) as unknown as Error,
    );
    expect(() => f.events.signal(PropSetId.Pin, 0)).toThrow(
      expect.objectContaining({ code: 'NotFound' }) as unknown as Error,
    );
    await device.close();
    expect(() => f.events.enable(TestEventSet, 0, () => undefined)).toThrow(
      expect.objectContaining({ code: 'Closed' }) as unknown as Error,
    );
  });
});

describe('descriptors', () => {
  const range = videoRange({
    subtype: MediaSubtype.YUY2,
    width: 32,
    height: 24,
    frameInterval: frameIntervalFromRate(30),
  });
  const base = { referenceGuid: guid('11111111-2222-3333-4444-555555555555'), name: 'x' };

  it('deep-freezes the descriptor, including nested tables', () => {
    expect(Object.isFrozen(testFilterDescriptor)).toBe(true);
    expect(Object.isFrozen(testFilterDescriptor.pins[0]!.dataRanges)).toBe(true);
    expect(Object.isFrozen(testFilterDescriptor.automation!.properties![0]!.items[0])).toBe(true);
    const o = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(o.a.b[1])).toBe(true);
  });

  it('rejects bad instance counts, connections and automation tables', () => {
    const pin = (instances: { possible: number; necessary?: number }) =>
      definePin({ name: 'p', dataFlow: 'out', dataRanges: [range], instances });
    expect(() => defineFilterDescriptor({ ...base, pins: [pin({ possible: 1, necessary: 2 })] })).toThrow(
      RangeError,
    );
    expect(() => defineFilterDescriptor({ ...base, pins: [pin({ possible: -1 })] })).toThrow(RangeError);
    expect(() =>
      defineFilterDescriptor({
        ...base,
        pins: [pin({ possible: Infinity })],
        connections: [{ fromNode: FILTER_NODE, fromPin: 3, toNode: FILTER_NODE, toPin: 0 }],
      }),
    ).toThrow(/filter pin 3/);
    expect(() =>
      defineFilterDescriptor({
        ...base,
        pins: [],
        connections: [{ fromNode: 2, fromPin: 0, toNode: FILTER_NODE, toPin: 0 }],
      }),
    ).toThrow(/node 2/);
    expect(() => defineFilterDescriptor({ ...base, referenceGuid: 'bad' as never, pins: [] })).toThrow(
      TypeError,
    );
    const dupIds = {
      properties: [
        {
          set: PropSetId.VideoProcAmp,
          items: [
            { id: 0, name: 'a', type: 'int32' as const, default: 0 },
            { id: 0, name: 'b', type: 'int32' as const, default: 0 },
          ],
        },
      ],
    };
    expect(() => defineFilterDescriptor({ ...base, pins: [], automation: dupIds })).toThrow(/declared twice/);
    const badDefault = {
      properties: [
        {
          set: PropSetId.VideoProcAmp,
          items: [{ id: 0, name: 'a', type: 'int32' as const, min: 0, max: 10, default: 11 }],
        },
      ],
    };
    expect(() => defineFilterDescriptor({ ...base, pins: [], automation: badDefault })).toThrow(RangeError);
    const badModes = {
      properties: [
        {
          set: PropSetId.VideoProcAmp,
          items: [{ id: 0, name: 'a', type: 'bool' as const, modes: ['auto' as const] }],
        },
      ],
    };
    expect(() => defineFilterDescriptor({ ...base, pins: [], automation: badModes })).toThrow(TypeError);
    // A plain init with framing/automation/providesClock but no mediums still gets every default.
    const plain = defineFilterDescriptor({
      ...base,
      pins: [{ name: 'p', dataFlow: 'out', framing: DEFAULT_FRAMING, automation: {}, providesClock: true }],
    });
    expect(plain.pins[0]).toMatchObject({
      mediums: [],
      dataRanges: [],
      communication: 'sink',
      instances: { possible: 1, necessary: 0 },
      providesClock: true,
    });
    const ok = defineFilterDescriptor({
      ...base,
      categories: [KsCategory.CAPTURE],
      pins: [pin({ possible: Infinity })],
    });
    expect(ok.pins[0]!.instances).toEqual({ possible: Infinity, necessary: 0 });
  });
});
