// PROPSETID_VIDCAP_VIDEOPROCAMP / _CAMERACONTROL property sets built from a device's controls, with handlers that go to the HAL device.
import type { ControlCapability, ControlId } from '@ksemu/hal';
import {
  PropSetId,
  type Guid,
  type PropertyControl,
  type PropertyItem,
  type PropertyMode,
  type PropertySetDescriptor,
  type PropertyValue,
} from '@ksemu/ks-core';
import { bindControls, snapToGrid, type ControlBinding, type ControlFamily } from './control-binding.js';
import type { HalSession } from './hal-session.js';

/** The property set GUID of a control family. */
export function propertySetOf(family: ControlFamily): Guid {
  return family === 'video-proc-amp' ? PropSetId.VideoProcAmp : PropSetId.CameraControl;
}

/**
 * One KS property item for a bound control. Values are in KS units; `get` reads the device
 * (value and auto/manual mode), `set` switches auto off before a manual write (or on for an
 * `auto` write, whose value KS ignores) and writes the converted value snapped to the HAL grid.
 * Range, step, read-only and mode checks happen before, in ks-core's central handler.
 */
function controlItem(
  binding: ControlBinding,
  cap: ControlCapability,
  session: HalSession,
  memory: Map<ControlId, RememberedControl>,
): PropertyItem {
  const modes: readonly PropertyMode[] = binding.autoCapable ? ['auto', 'manual'] : ['manual'];
  const what = `${binding.name} (${binding.control})`;
  return {
    id: binding.id,
    name: binding.name,
    type: 'int32',
    min: binding.min,
    max: binding.max,
    step: binding.step,
    default: binding.default,
    modes,
    defaultMode: binding.autoDefault ? 'auto' : 'manual',
    access: binding.readOnly ? 'readonly' : 'readwrite',
    get: (): Promise<PropertyControl> =>
      session.use(`reading ${what}`, (dev) => ({
        value: clampToRange(binding, binding.conversion.toKs(dev.getControl(binding.control))),
        mode: binding.autoCapable && dev.getAuto(binding.control) ? 'auto' : 'manual',
      })),
    set: (_ctx, value: PropertyValue, mode: PropertyMode | undefined): Promise<void> =>
      session.use(`writing ${what}`, (dev) => {
        if (mode === 'auto') {
          dev.setAuto(binding.control, true);
          memory.set(binding.control, { auto: true, value: undefined });
          return;
        }
        if (binding.autoCapable && dev.getAuto(binding.control)) dev.setAuto(binding.control, false);
        const halValue = snapToGrid(cap, binding.conversion.toHal(value as number));
        dev.setControl(binding.control, halValue);
        memory.set(binding.control, { auto: false, value: halValue });
      }),
  };
}

/** A control value set through KS, re-applied whenever the device is opened again. */
interface RememberedControl {
  readonly auto: boolean;
  /** HAL units; undefined when the control was switched to auto. */
  readonly value: number | undefined;
}

/** A device value outside the declared KS range (rounding at the ends) is reported at the nearest end. */
function clampToRange(binding: ControlBinding, v: number): number {
  return Math.min(binding.max, Math.max(binding.min, v));
}

/** The two camera property sets of a device (either may be absent when it has no such controls). */
export interface CameraPropertySets {
  readonly videoProcAmp: PropertySetDescriptor | undefined;
  readonly cameraControl: PropertySetDescriptor | undefined;
  readonly bindings: readonly ControlBinding[];
}

/** Builds the VideoProcAmp and CameraControl sets of a device's controls. */
export function cameraPropertySets(
  controls: readonly ControlCapability[],
  session: HalSession,
): CameraPropertySets {
  const bindings = bindControls(controls);
  // hal devices may reset their controls on open (the synthetic camera does, per session); like
  // usbvideo.sys restoring saved settings, what was set through KS is applied again on each open.
  const memory = new Map<ControlId, RememberedControl>();
  session.onOpen((dev) => {
    for (const [control, r] of memory) {
      const cap = controls.find((c) => c.id === control);
      if (r.auto) {
        dev.setAuto(control, true);
        continue;
      }
      if (cap?.autoCapable === true) dev.setAuto(control, false);
      if (r.value !== undefined) dev.setControl(control, r.value);
    }
  });
  const build = (family: ControlFamily): PropertySetDescriptor | undefined => {
    const items = bindings
      .filter((b) => b.family === family)
      .sort((a, b) => a.id - b.id)
      .map((b) =>
        controlItem(
          b,
          controls.find((c) => c.id === b.control)!,
          session,
          memory,
        ),
      );
    return items.length === 0 ? undefined : { set: propertySetOf(family), items };
  };
  return { videoProcAmp: build('video-proc-amp'), cameraControl: build('camera-control'), bindings };
}
