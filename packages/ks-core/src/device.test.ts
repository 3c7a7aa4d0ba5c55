// Tests of device/filter-factory/filter instantiation, minidriver hook failures, listener isolation and clock compatibility.
import { describe, it, expect } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createDevice } from './device.js';
import { defineFilterDescriptor, definePin } from './descriptors.js';
import type { Minidriver } from './filter.js';
import { videoRange } from './data-range.js';
import { guid } from './guid.js';
import { isKsError, KsError, KsNecessaryInstancesError, KsStateError } from './ks-error.js';
import type { KsState } from './pin.js';
import { ConnectionProperty, PinProperty } from './property-ids.js';
import { PropSetId } from './known-guids.js';
import { MediaSubtype } from './known-guids.js';
import { frameIntervalFromRate, type KsTime } from './ks-time.js';
import { DEFAULT_STOP_GRACE } from './queue.js';
import { ManualClock } from './manual-clock.js';
import { SystemClock } from './clock.js';
import { createTestDevice, testMinidriver, TestCaptureHardware } from './testing/test-minidriver.js';

const descriptor = defineFilterDescriptor({
  referenceGuid: guid('0d0d0d0d-1111-4222-8333-444444444444'),
  name: 'two pins',
  pins: [
    definePin({
      name: 'Out',
      dataFlow: 'out',
      instances: { possible: 2, necessary: 1 },
      dataRanges: [
        videoRange({
          subtype: MediaSubtype.YUY2,
          width: 16,
          height: 16,
          frameInterval: frameIntervalFromRate(30),
        }),
      ],
    }),
    definePin({ name: 'In', dataFlow: 'in', instances: { possible: 0 } }),
  ],
});

describe('KsDevice', () => {
  it('validates its options', () => {
    expect(() => createDevice({ name: '', minidrivers: [{ descriptor }] })).toThrow(TypeError);
    expect(() => createDevice({ name: 'x', minidrivers: [] })).toThrow(TypeError);
    expect(() => createDevice({ name: 'x', minidrivers: [{ descriptor: { ...descriptor } }] })).toThrow(
      /frozen descriptor/,
    );
    expect(() =>
      createDevice({ name: 'x', minidrivers: [{ descriptor }], stopGrace: -1n as KsTime }),
    ).toThrow(RangeError);
    expect(() => createDevice({ name: 'x', minidrivers: [{ descriptor }], stopGrace: 5 as never })).toThrow(
      TypeError,
    );
    const d = createDevice({ name: 'x', minidrivers: [{ descriptor }] });
    expect(d.clock).toBeInstanceOf(SystemClock);
    expect(d.stopGrace).toBe(DEFAULT_STOP_GRACE);
  });

  it('tracks filters and pins, instance counts and necessary instances', async () => {
    const device = createDevice({ name: 'x', minidrivers: [{ descriptor }], clock: new ManualClock() });
    await expect(device.createFilter(3)).rejects.toMatchObject({ code: 'NotFound' });
    const filter = await device.createFilter();
    const created: number[] = [];
    filter.on('pinCreated', (p) => created.push(p.instance));
    expect(filter.missingNecessaryPins()).toEqual([0]);
    const a = await filter.createPin(0);
    const b = await filter.createPin(0);
    expect(filter.missingNecessaryPins()).toEqual([]);
    await expect(filter.createPin(0)).rejects.toMatchObject({ code: 'InsufficientResources' });
    await expect(filter.createPin(1)).rejects.toMatchObject({ code: 'InsufficientResources' });
    expect(created).toEqual([0, 1]);
    expect(filter.pins().length).toBe(2);
    expect(device.filters).toEqual([filter]);
    expect(a.label).toMatch(/pin 0 \(Out\) #0 of filter 'two pins' #0/);
    await b.close();
    expect(filter.pins(0)).toEqual([a]);
    await device.close();
    expect(device.filters).toEqual([]);
    await expect(device.createFilter()).rejects.toMatchObject({ code: 'Closed' });
  });

  it('wraps minidriver hook failures as KsErrors with the cause, and releases the instance', async () => {
    const boom = new Error('hal exploded');
    const md: Minidriver = {
      descriptor,
      pins: [
        {
          create: () => {
            throw boom;
          },
        },
      ],
    };
    const device = createDevice({ name: 'x', minidrivers: [md], clock: new ManualClock() });
    const filter = await device.createFilter();
    const err = await filter.createPin(0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsError);
    expect((err as KsError).code).toBe('DeviceFailure');
    expect((err as KsError).cause).toBe(boom);
    expect(filter.pinCount(0)).toBe(0);
    const failing = createDevice({
      name: 'y',
      minidrivers: [{ descriptor, create: () => Promise.reject(new KsError('DeviceBusy', 'busy')) }],
      clock: new ManualClock(),
    });
    await expect(failing.createFilter()).rejects.toMatchObject({ code: 'DeviceBusy' });
    expect(failing.filters).toEqual([]);
    await device.close();
    await failing.close();
  });

  it('keeps streaming when user listeners throw', async () => {
    const clock = new ManualClock();
    const { device } = createTestDevice(clock);
    const filter = await device.createFilter();
    const pin = await filter.createPin(0, { format: {} });
    const errors: string[] = [];
    pin.on('listenerError', (_e, ev) => errors.push(ev));
    pin.on('stateChange', () => {
      throw new Error('user bug');
    });
    await pin.setState('run');
    expect(pin.state).toBe('run');
    expect(errors).toEqual(['stateChange', 'stateChange', 'stateChange']);
    await pin.setState('stop');
    await device.close();
  });

  it('a second device on the same hardware gets DeviceBusy at ACQUIRE, not at creation', async () => {
    const clock = new ManualClock();
    const hw = new TestCaptureHardware(clock);
    const d1 = createDevice({ name: 'a', minidrivers: [testMinidriver(hw)], clock });
    const d2 = createDevice({ name: 'b', minidrivers: [testMinidriver(hw)], clock });
    const p1 = await (await d1.createFilter()).createPin(0, { format: {} });
    const p2 = await (await d2.createFilter()).createPin(0, { format: {} });
    await p1.setState('acquire');
    await expect(p2.setState('acquire')).rejects.toMatchObject({ code: 'DeviceBusy' });
    await d1.close();
    await p2.setState('acquire');
    await d2.close();
  });

  it('a pin that provides a clock runs it only in RUN; other pins can use it as master clock', async () => {
    const clockDescriptor = defineFilterDescriptor({
      referenceGuid: guid('0d0d0d0d-1111-4222-8333-444444444445'),
      name: 'clocked',
      pins: [
        definePin({
          name: 'Out',
          dataFlow: 'out',
          instances: { possible: 2 },
          providesClock: true,
          dataRanges: [
            videoRange({
              subtype: MediaSubtype.YUY2,
              width: 16,
              height: 16,
              frameInterval: frameIntervalFromRate(30),
            }),
          ],
        }),
      ],
    });
    const ref = new ManualClock(1_000n);
    const device = createDevice({ name: 'c', minidrivers: [{ descriptor: clockDescriptor }], clock: ref });
    const filter = await device.createFilter();
    const a = await filter.createPin(0, { format: {} });
    const b = await filter.createPin(0, { format: {} });
    const clock = a.clock();
    expect(a.clock()).toBe(clock);
    b.setMasterClock(clock);
    expect(b.masterClock).toBe(clock);
    ref.advance(500n);
    expect(clock.now()).toBe(0n);
    await a.setState('run');
    ref.advance(300n);
    expect(clock.now()).toBe(300n);
    await a.setState('pause');
    ref.advance(300n);
    expect(clock.now()).toBe(300n);
    await a.setState('stop');
    expect(clock.now()).toBe(0n);
    await device.close();
  });

  it('logs through one child logger per object, injected through options', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n'))
          if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const clock = new ManualClock();
    const { device } = createTestDevice(clock, { logger: pino({ level: 'debug' }, sink) });
    const pin = await (await device.createFilter()).createPin(0, { format: {} });
    await pin.setState('acquire');
    await device.close();
    await new Promise((resolve) => setImmediate(resolve));
    const step = lines.find((l) => l.msg === 'state changed');
    expect(step).toMatchObject({
      device: 'test:capture',
      filter: 'ks-core test capture',
      pin: 0,
      instance: 0,
      pinInstance: 0,
      from: 'stop',
      to: 'acquire',
    });
  });

  it('ks-core clocks are structurally usable as a HAL TimeSource', () => {
    interface TimeSourceShape {
      now(): bigint;
      schedule(at: bigint, callback: () => void): { cancel(): void };
    }
    const sources: TimeSourceShape[] = [new ManualClock(), new SystemClock()];
    expect(sources.every((s) => typeof s.now() === 'bigint')).toBe(true);
  });
});

describe('necessary pin instances (KSPIN_DESCRIPTOR_EX.InstancesNecessary)', () => {
  const range = videoRange({
    subtype: MediaSubtype.YUY2,
    width: 16,
    height: 16,
    frameInterval: frameIntervalFromRate(30),
  });
  const format = { subtype: MediaSubtype.YUY2, width: 16, height: 16 };
  // Capture is necessary once, Aux twice, Preview not at all.
  const graph = defineFilterDescriptor({
    referenceGuid: guid('0d0d0d0d-2222-4222-8333-444444444444'),
    name: 'necessary pins',
    pins: [
      definePin({
        name: 'Capture',
        dataFlow: 'out',
        instances: { possible: 1, necessary: 1 },
        dataRanges: [range],
      }),
      definePin({ name: 'Preview', dataFlow: 'out', instances: { possible: 1 }, dataRanges: [range] }),
      definePin({
        name: 'Aux',
        dataFlow: 'out',
        instances: { possible: 3, necessary: 2 },
        dataRanges: [range],
      }),
    ],
  });

  async function open() {
    const steps: string[] = [];
    const record = {
      setState: (_p: unknown, to: KsState, from: KsState) => void steps.push(`${from}>${to}`),
    };
    const md: Minidriver = { descriptor: graph, pins: [record, record, record] };
    const device = createDevice({ name: 'x', minidrivers: [md], clock: new ManualClock() });
    const filter = await device.createFilter();
    return { device, filter, steps };
  }

  it('refuses to leave STOP while a pin type lacks its necessary instances, naming each type and its counts', async () => {
    const { device, filter, steps } = await open();
    const preview = await filter.createPin(1, { format });
    const err = await preview.setState('run').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KsNecessaryInstancesError);
    expect(err).toBeInstanceOf(KsStateError);
    expect(isKsError(err)).toBe(true);
    const e = err as KsNecessaryInstancesError;
    expect(e.code).toBe('InvalidDeviceState');
    expect(e.operation).toBe('setState');
    expect(e.missing).toEqual([
      { pinId: 0, pinName: 'Capture', necessary: 1, current: 0 },
      { pinId: 2, pinName: 'Aux', necessary: 2, current: 0 },
    ]);
    expect(e.message).toMatch(/pin type 0 \(Capture\) has 0 of 1 necessary instance\(s\)/);
    expect(e.message).toMatch(/pin type 2 \(Aux\) has 0 of 2 necessary instance\(s\)/);
    // Nothing happened: no dispatch, no pool, still STOP.
    expect(preview.state).toBe('stop');
    expect(steps).toEqual([]);
    expect(() => preview.pool).toThrow(KsStateError);
    // The JSON form (what the CLI prints and a Worker receives) keeps the code.
    expect(e.toJSON()).toMatchObject({ name: 'KsNecessaryInstancesError', code: 'InvalidDeviceState' });
    await device.close();
  });

  it('counts instances, whatever their state; once complete every pin streams, and the same call then succeeds', async () => {
    const { device, filter, steps } = await open();
    const capture = await filter.createPin(0, { format });
    await filter.createPin(2, { format });
    // One Aux of two: still short, and the pin asking is itself counted (Capture is present now).
    const err = (await capture.setState('acquire').catch((e: unknown) => e)) as KsNecessaryInstancesError;
    expect(err.missing).toEqual([{ pinId: 2, pinName: 'Aux', necessary: 2, current: 1 }]);
    expect(filter.missingNecessaryPins()).toEqual([2]);
    await filter.createPin(2);
    expect(filter.missingNecessaryPins()).toEqual([]);
    // Necessary pins in STOP (the Aux pins have no format and never run) do not hold back the others.
    await capture.setState('run');
    const preview = await filter.createPin(1, { format });
    await preview.setState('pause');
    expect(steps).toEqual(['stop>acquire', 'acquire>pause', 'pause>run', 'stop>acquire', 'acquire>pause']);
    await preview.setState('stop');
    await capture.setState('stop');
    await device.close();
  });

  it('checks only at leaving STOP: closing a necessary pin leaves running pins running, and the next start is refused', async () => {
    const { device, filter } = await open();
    const capture = await filter.createPin(0, { format });
    const auxA = await filter.createPin(2);
    await filter.createPin(2);
    await capture.setState('run');
    await auxA.close();
    expect(capture.state).toBe('run');
    await capture.setState('pause');
    await capture.setState('run'); // PAUSE→RUN does not leave STOP
    await capture.setState('stop');
    await expect(capture.setState('acquire')).rejects.toMatchObject({
      name: 'KsNecessaryInstancesError',
      code: 'InvalidDeviceState',
      missing: [{ pinId: 2, pinName: 'Aux', necessary: 2, current: 1 }],
    });
    expect(capture.state).toBe('stop');
    await device.close();
  });

  it('the KSPROPERTY_CONNECTION_STATE set is refused the same way, and NECESSARYINSTANCES reports the count', async () => {
    const { device, filter } = await open();
    const preview = await filter.createPin(1, { format });
    const necessary = await filter.properties.get(PropSetId.Pin, PinProperty.NecessaryInstances, { pin: 2 });
    expect(necessary).toBe(2);
    await expect(
      preview.properties.set(PropSetId.Connection, ConnectionProperty.State, 1),
    ).rejects.toMatchObject({ code: 'InvalidDeviceState' });
    expect(preview.state).toBe('stop');
    await device.close();
  });
});
