// Tests of UVC extension units as KS property sets: set named by the unit GUID, addressed on its dev-specific node, raw bytes to the device.
import { afterEach, describe, expect, it } from '@jest/globals';
import { SyntheticCamera, type HalOpenOptions, type OpenedHalDevice } from '@ksemu/hal';
import { ManualClock, NodeType, guid, type KsDevice } from '@ksemu/ks-core';
import type { ExtensionUnitDevice, ExtensionUnitInfo, OpenedExtensionUnits } from './extension-units.js';
import { createWebcamDevice } from './webcam-device.js';
import { webcamNodes } from './webcam-minidriver.js';

const XU_GUID = '{A8BD5DF2-1A98-474E-8DD0-D92672D194FA}';

/** A synthetic camera that also has one extension unit (two controls), kept in device memory. */
class CameraWithXu extends SyntheticCamera implements ExtensionUnitDevice {
  readonly extensionUnits: readonly ExtensionUnitInfo[] = [
    {
      unitId: 4,
      guid: XU_GUID,
      name: 'Vendor XU',
      controls: [
        { selector: 1, size: 4, access: 'readwrite', name: 'LedMode' },
        { selector: 2, size: 2, access: 'readonly', name: 'FirmwareVersion' },
      ],
    },
  ];
  readonly values = new Map<number, Uint8Array>([
    [1, new Uint8Array([0, 0, 0, 0])],
    [2, new Uint8Array([1, 7])],
  ]);
  writes = 0;

  override async open(options?: HalOpenOptions): Promise<OpenedHalDevice> {
    const session = await super.open(options);
    const port: OpenedExtensionUnits = {
      getExtensionControl: (unit, selector) => {
        if (unit !== 4) throw new RangeError(`no unit ${unit}`);
        return this.values.get(selector)!.slice();
      },
      setExtensionControl: (_unit, selector, data) => {
        this.writes++;
        this.values.set(selector, data.slice());
      },
    };
    return Object.assign(session, port);
  }
}

const devices: KsDevice[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.close();
});

describe('extension units', () => {
  it('become a dev-specific node whose property set is the unit GUID, reaching the device', async () => {
    const camera = new CameraWithXu();
    const device = createWebcamDevice(camera, { clock: new ManualClock(0n) });
    devices.push(device);
    const filter = await device.createFilter();
    const nodes = webcamNodes(filter.descriptor);
    expect(nodes.extensionUnits).toHaveLength(1);
    const node = nodes.extensionUnits[0]!;
    expect(filter.descriptor.nodes[node]!.type).toBe(NodeType.DEV_SPECIFIC);
    // Wired between the processing unit and the output.
    expect(filter.descriptor.connections).toContainEqual({
      fromNode: nodes.processingUnit,
      fromPin: 0,
      toNode: node,
      toPin: 1,
    });
    expect(filter.descriptor.connections).toContainEqual({
      fromNode: node,
      fromPin: 0,
      toNode: nodes.output,
      toPin: 1,
    });
    const set = guid(XU_GUID);
    expect(await filter.properties.get(set, 2, { node })).toEqual(new Uint8Array([1, 7]));
    await filter.properties.set(set, 1, new Uint8Array([1, 2, 3, 4]), { node });
    expect(camera.values.get(1)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(await filter.properties.get(set, 1, { node })).toEqual(new Uint8Array([1, 2, 3, 4]));
    // Only on the node, as usbvideo.sys addresses XU controls.
    await expect(filter.properties.get(set, 1)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('rejects wrong sizes, read-only writes and unknown selectors with typed errors', async () => {
    const camera = new CameraWithXu();
    const device = createWebcamDevice(camera, { clock: new ManualClock(0n) });
    devices.push(device);
    const filter = await device.createFilter();
    const node = webcamNodes(filter.descriptor).extensionUnits[0]!;
    const set = guid(XU_GUID);
    await expect(filter.properties.set(set, 1, new Uint8Array(3), { node })).rejects.toThrow(TypeError);
    await expect(filter.properties.set(set, 2, new Uint8Array(2), { node })).rejects.toMatchObject({
      code: 'InvalidDeviceRequest',
    });
    await expect(filter.properties.get(set, 9, { node })).rejects.toMatchObject({ code: 'NotFound' });
    expect(camera.writes).toBe(0);
  });

  it('leaves devices without extension units unchanged', async () => {
    const device = createWebcamDevice(new SyntheticCamera(), { clock: new ManualClock(0n) });
    devices.push(device);
    expect(webcamNodes(device.factories[0]!.descriptor).extensionUnits).toEqual([]);
  });
});
