// UVC extension units as KS property sets named by their GUID (property id = control selector), on dev-specific topology nodes, as usbvideo.sys exposes them.
import type { HalDevice, OpenedHalDevice } from '@ksemu/hal';
import {
  KsError,
  guid,
  type PropertyAccess,
  type PropertyItem,
  type PropertySetDescriptor,
} from '@ksemu/ks-core';
import type { HalSession } from './hal-session.js';

/** One control of an extension unit: its selector, fixed size (GET_LEN) and access (GET_INFO). */
export interface ExtensionControlInfo {
  readonly selector: number;
  readonly size: number;
  readonly access: PropertyAccess;
  readonly name?: string;
}

/** One extension unit of a device. */
export interface ExtensionUnitInfo {
  readonly unitId: number;
  /** guidExtensionCode, in any GUID spelling. */
  readonly guid: string;
  readonly name?: string;
  readonly controls: readonly ExtensionControlInfo[];
}

/**
 * What a HAL device offers when it has extension units. hal's device model has no XU access
 * yet, so this is a structural port: a HAL device that lists `extensionUnits` and whose opened
 * session has the two methods below gets XU property sets.
 */
export interface ExtensionUnitDevice {
  readonly extensionUnits: readonly ExtensionUnitInfo[];
}

/** The opened-session side of {@link ExtensionUnitDevice} (UVC GET_CUR / SET_CUR on the unit). */
export interface OpenedExtensionUnits {
  getExtensionControl(unitId: number, selector: number): Uint8Array | Promise<Uint8Array>;
  setExtensionControl(unitId: number, selector: number, data: Uint8Array): void | Promise<void>;
}

/** The extension units a HAL device lists (none for devices without the port). */
export function extensionUnitsOf(device: HalDevice): readonly ExtensionUnitInfo[] {
  const units = (device as Partial<ExtensionUnitDevice>).extensionUnits;
  return Array.isArray(units) ? units : [];
}

function xuPort(dev: OpenedHalDevice, what: string): OpenedExtensionUnits {
  const port = dev as Partial<OpenedExtensionUnits>;
  if (typeof port.getExtensionControl !== 'function' || typeof port.setExtensionControl !== 'function') {
    throw new KsError('NotSupported', `${what}: the device does not give access to extension units`);
  }
  return port as OpenedExtensionUnits;
}

/** The property set of one extension unit: set GUID = guidExtensionCode, id = selector, raw bytes of GET_LEN. */
export function extensionUnitSet(unit: ExtensionUnitInfo, session: HalSession): PropertySetDescriptor {
  const set = guid(unit.guid);
  const items: PropertyItem[] = unit.controls.map((c) => {
    const what = `extension unit ${unit.unitId} control ${c.selector}`;
    return {
      id: c.selector,
      name: c.name ?? `XU${unit.unitId}.${c.selector}`,
      type: 'bytes',
      size: c.size,
      access: c.access,
      get: () =>
        session.use(`reading ${what}`, async (dev) => {
          const data = await xuPort(dev, what).getExtensionControl(unit.unitId, c.selector);
          if (data.length !== c.size) {
            throw new KsError(
              'DeviceFailure',
              `${what}: the device returned ${data.length} bytes, not ${c.size}`,
            );
          }
          return data;
        }),
      set: (_ctx, value) =>
        session.use(`writing ${what}`, (dev) =>
          xuPort(dev, what).setExtensionControl(unit.unitId, c.selector, value as Uint8Array),
        ),
    };
  });
  return { set, items };
}
