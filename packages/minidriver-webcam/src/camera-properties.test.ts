// Property tests of the webcam filter: every VideoProcAmp/CameraControl item round-trips to the device and bad writes fail with typed errors.
import { afterEach, describe, expect, it } from '@jest/globals';
import { SyntheticCamera, type ControlId, type HalDeviceCapabilities } from '@ksemu/hal';
import {
  ManualClock,
  MediaSubtype,
  PropSetId,
  PropertyRequestFlags,
  type KsDevice,
  type KsFilter,
  type KsTime,
  type PropertyItem,
} from '@ksemu/ks-core';
import {
  CameraControlProperty,
  VideoControlFlag,
  VideoControlProperty,
  VideoProcAmpProperty,
} from './camera-property-ids.js';
import { bindControls, snapToGrid } from './control-binding.js';
import { createWebcamDevice } from './webcam-device.js';
import { WebcamPin, webcamNodes } from './webcam-minidriver.js';

/** The synthetic camera with one control made read-only (the stock camera has none). */
class CameraWithReadOnlyGain extends SyntheticCamera {
  constructor() {
    super({ pattern: 'solid' });
    const caps = this.capabilities;
    const controls = caps.controls.map((c) => (c.id === 'gain' ? { ...c, readOnly: true } : c));
    Object.defineProperty(this, 'capabilities', {
      value: { ...caps, controls } satisfies HalDeviceCapabilities,
    });
  }
}

const devices: KsDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
});

async function filterOf(camera: SyntheticCamera): Promise<{ device: KsDevice; filter: KsFilter }> {
  const device = createWebcamDevice(camera, { clock: new ManualClock(0n) });
  devices.push(device);
  return { device, filter: await device.createFilter() };
}

/** Every value of an item worth writing: both ends, the default, a middle value on the grid. */
function probeValues(item: PropertyItem): number[] {
  const min = Number(item.min);
  const max = Number(item.max);
  const step = Number(item.step ?? 1);
  const mid = min + Math.floor((max - min) / 2 / step) * step;
  return [...new Set([min, max, Number(item.default), mid])];
}

function items(filter: KsFilter, set: typeof PropSetId.VideoProcAmp): readonly PropertyItem[] {
  return filter.descriptor.automation?.properties?.find((p) => p.set === set)?.items ?? [];
}

describe('camera property sets', () => {
  it('exposes every camera control in its KS set, with device ranges in KS units', async () => {
    const { filter } = await filterOf(new SyntheticCamera());
    const vpa = items(filter, PropSetId.VideoProcAmp).map((i) => i.id);
    const cc = items(filter, PropSetId.CameraControl).map((i) => i.id);
    expect(vpa).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9, 13]);
    expect(cc).toEqual([0, 1, 3, 4, 6, 8]);
    const exposure = filter.properties.basicSupport(PropSetId.CameraControl, CameraControlProperty.Exposure);
    expect(exposure).toMatchObject({ min: -11, max: -3, step: 1, default: -6, modes: ['auto', 'manual'] });
  });

  it('round-trips every VideoProcAmp and CameraControl item to the device, at filter and node level', async () => {
    const camera = new SyntheticCamera();
    const { filter } = await filterOf(camera);
    const nodes = webcamNodes(filter.descriptor);
    // The device's value of every control: its default until it reports a change.
    const halValue = new Map<ControlId, number>(camera.capabilities.controls.map((c) => [c.id, c.default]));
    camera.on('control-change', (id, value) => halValue.set(id, value));
    // Hold the device open (pin in ACQUIRE) so every write lands in the same HAL session.
    const pin = await filter.createPin(WebcamPin.Capture, {
      format: { subtype: MediaSubtype.YUY2, width: 320, height: 240, frameInterval: 333333n as KsTime },
    });
    await pin.setState('acquire');
    const bindings = bindControls(camera.capabilities.controls);
    let checked = 0;
    for (const [set, node] of [
      [PropSetId.VideoProcAmp, nodes.processingUnit],
      [PropSetId.CameraControl, nodes.cameraTerminal],
    ] as const) {
      for (const item of items(filter, set)) {
        const binding = bindings.find(
          (b) => b.id === item.id && (set === PropSetId.VideoProcAmp) === (b.family === 'video-proc-amp'),
        )!;
        const cap = camera.capabilities.controls.find((c) => c.id === binding.control)!;
        for (const address of [{}, { node: node! }]) {
          for (const v of probeValues(item)) {
            await filter.properties.set(set, item.id, v, { ...address, mode: 'manual' });
            expect(await filter.properties.getControl(set, item.id, address)).toEqual({
              value: v,
              mode: 'manual',
            });
            // The device holds the converted value.
            const expected = snapToGrid(cap, binding.conversion.toHal(v));
            expect(camera.state).toBe('open');
            expect(halValue.get(binding.control)).toBe(expected);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(60);
    await pin.setState('stop');
    await pin.close();
  });

  it('converts exposure to the device in 100 µs units and pan in arc-seconds', async () => {
    const camera = new SyntheticCamera();
    const { filter } = await filterOf(camera);
    const seen = new Map<ControlId, number>();
    camera.on('control-change', (id, value) => seen.set(id, value));
    await filter.properties.set(PropSetId.CameraControl, CameraControlProperty.Exposure, -4, {
      mode: 'manual',
    });
    await filter.properties.set(PropSetId.CameraControl, CameraControlProperty.Pan, -3, { mode: 'manual' });
    // 2^-4 s = 62.5 ms = 625 × 100 µs; -3° = -10800″.
    expect([...seen]).toEqual([
      ['exposure', 625],
      ['pan', -10800],
    ]);
  });

  it('switches auto/manual modes on auto-capable controls', async () => {
    const { filter } = await filterOf(new SyntheticCamera());
    const wb = VideoProcAmpProperty.WhiteBalance;
    expect((await filter.properties.getControl(PropSetId.VideoProcAmp, wb)).mode).toBe('auto');
    await filter.properties.set(PropSetId.VideoProcAmp, wb, 3200, { mode: 'manual' });
    expect(await filter.properties.getControl(PropSetId.VideoProcAmp, wb)).toEqual({
      value: 3200,
      mode: 'manual',
    });
    await filter.properties.set(PropSetId.VideoProcAmp, wb, 3200, { mode: 'auto' });
    expect((await filter.properties.getControl(PropSetId.VideoProcAmp, wb)).mode).toBe('auto');
    await expect(
      filter.properties.set(PropSetId.VideoProcAmp, VideoProcAmpProperty.Brightness, 0, { mode: 'auto' }),
    ).rejects.toMatchObject({ code: 'InvalidDeviceRequest' });
  });

  it('keeps values set while the device was closed and applies them when it opens', async () => {
    const camera = new SyntheticCamera();
    const { filter } = await filterOf(camera);
    await filter.properties.set(PropSetId.VideoProcAmp, VideoProcAmpProperty.Brightness, 17, {
      mode: 'manual',
    });
    expect(camera.state).toBe('closed');
    const seen: Array<[ControlId, number]> = [];
    camera.on('control-change', (id, value) => seen.push([id, value]));
    const pin = await filter.createPin(WebcamPin.Capture, {
      format: { subtype: MediaSubtype.YUY2, width: 320, height: 240, frameInterval: 333333n as KsTime },
    });
    await pin.setState('acquire');
    expect(seen).toEqual([['brightness', 17]]);
    expect(await filter.properties.get(PropSetId.VideoProcAmp, VideoProcAmpProperty.Brightness)).toBe(17);
    await pin.setState('stop');
  });

  it('rejects out-of-range and off-step writes with RangeError, leaving the device untouched', async () => {
    const camera = new SyntheticCamera();
    const { filter } = await filterOf(camera);
    const seen: unknown[] = [];
    camera.on('control-change', (...a) => seen.push(a));
    for (const set of [PropSetId.VideoProcAmp, PropSetId.CameraControl]) {
      for (const item of items(filter, set)) {
        const max = Number(item.max);
        const min = Number(item.min);
        await expect(
          filter.properties.set(set, item.id, max + Number(item.step), { mode: 'manual' }),
        ).rejects.toThrow(RangeError);
        await expect(
          filter.properties.set(set, item.id, min - Number(item.step), { mode: 'manual' }),
        ).rejects.toThrow(RangeError);
        if (Number(item.step) > 1) {
          await expect(filter.properties.set(set, item.id, min + 1, { mode: 'manual' })).rejects.toThrow(
            RangeError,
          );
        }
        await expect(filter.properties.set(set, item.id, 1.5, { mode: 'manual' })).rejects.toThrow(TypeError);
      }
    }
    expect(seen).toEqual([]);
  });

  it('rejects wrong-size raw buffers with BufferTooSmall and reports the size needed', async () => {
    const { filter } = await filterOf(new SyntheticCamera());
    for (const [set, id] of [
      [PropSetId.VideoProcAmp, VideoProcAmpProperty.Contrast],
      [PropSetId.CameraControl, CameraControlProperty.Zoom],
    ] as const) {
      const small = new Uint8Array(4);
      await expect(
        filter.properties.raw({ set, id, flags: PropertyRequestFlags.SET }, small),
      ).rejects.toMatchObject({
        code: 'BufferTooSmall',
        requiredSize: 12,
      });
      await expect(
        filter.properties.raw({ set, id, flags: PropertyRequestFlags.GET }, small),
      ).rejects.toMatchObject({
        code: 'BufferTooSmall',
      });
      // The right size works: value, flags (MANUAL), capabilities.
      const buf = new Uint8Array(12);
      await filter.properties.raw({ set, id, flags: PropertyRequestFlags.GET }, buf);
      const view = new DataView(buf.buffer);
      expect(view.getUint32(4, true)).toBe(2);
      view.setInt32(0, 150, true);
      await filter.properties.raw({ set, id, flags: PropertyRequestFlags.SET }, buf);
      expect(await filter.properties.get(set, id)).toBe(150);
    }
  });

  it('rejects writes to a read-only control with InvalidDeviceRequest', async () => {
    const camera = new CameraWithReadOnlyGain();
    const { filter } = await filterOf(camera);
    const gain = filter.properties.basicSupport(PropSetId.VideoProcAmp, VideoProcAmpProperty.Gain);
    expect([gain.canGet, gain.canSet]).toEqual([true, false]);
    await expect(
      filter.properties.set(PropSetId.VideoProcAmp, VideoProcAmpProperty.Gain, 10, { mode: 'manual' }),
    ).rejects.toMatchObject({ code: 'InvalidDeviceRequest' });
    expect(await filter.properties.get(PropSetId.VideoProcAmp, VideoProcAmpProperty.Gain)).toBe(0);
  });

  it('maps a busy device to DeviceBusy on a property read', async () => {
    const camera = new SyntheticCamera();
    const { filter } = await filterOf(camera);
    const other = await camera.open();
    await expect(
      filter.properties.get(PropSetId.VideoProcAmp, VideoProcAmpProperty.Hue),
    ).rejects.toMatchObject({
      code: 'DeviceBusy',
    });
    await other.close();
  });
});

describe('still pin', () => {
  it('captures a higher-resolution still into the still pin on a trigger', async () => {
    const clock = new ManualClock(0n);
    const camera = new SyntheticCamera({ pattern: 'smpte-bars' });
    const device = createWebcamDevice(camera, { clock });
    devices.push(device);
    const filter = await device.createFilter();
    const capture = await filter.createPin(WebcamPin.Capture, {
      format: { subtype: MediaSubtype.YUY2, width: 320, height: 240, frameInterval: 333333n as KsTime },
    });
    const still = await filter.createPin(WebcamPin.Still, {
      format: { subtype: MediaSubtype.YUY2, width: 2592, height: 1944 },
    });
    await capture.run();
    await still.run();
    const frames = still.frames();
    await expect(
      still.properties.set(
        PropSetId.VideoControl,
        VideoControlProperty.Mode,
        VideoControlFlag.FlipHorizontal,
      ),
    ).rejects.toThrow(RangeError);
    await still.properties.set(PropSetId.VideoControl, VideoControlProperty.Mode, VideoControlFlag.Trigger);
    const frame = await frames.next();
    expect(frame.done).toBe(false);
    if (frame.done !== true) {
      expect(frame.value.bytesUsed).toBe(2592 * 1944 * 2);
      expect(frame.value.sequence).toBe(0);
      frame.value.release();
    }
    expect(await still.properties.get(PropSetId.VideoControl, VideoControlProperty.Caps)).toBe(
      VideoControlFlag.Trigger,
    );
    await still.stop();
    await expect(
      still.properties.set(PropSetId.VideoControl, VideoControlProperty.Mode, VideoControlFlag.Trigger),
    ).rejects.toMatchObject({ code: 'InvalidDeviceState' });
    await capture.stop();
  });
});
