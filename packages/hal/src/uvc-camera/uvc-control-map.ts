// Which UVC processing-unit / camera-terminal control backs each hal ControlId, and how its auto mode is switched.
import type { ControlId, ControlType } from '../hal-device.js';
import { CAMERA_TERMINAL_CONTROLS, PROCESSING_UNIT_CONTROLS, findControl } from '../uvc/controls.js';
import type { UvcControlDef } from '../uvc/controls.js';

/** Where a control lives: the processing unit or the camera terminal of the camera function. */
export type UvcEntityKind = 'pu' | 'ct';

/** How a hal control is carried by UVC requests. */
export interface UvcControlBinding {
  readonly id: ControlId;
  readonly label: string;
  readonly type: ControlType;
  readonly entity: UvcEntityKind;
  /** The UVC control (selector, size, fields). */
  readonly def: UvcControlDef;
  /** For compound controls (pan/tilt), the field this hal control reads and writes. */
  readonly field?: string;
  /**
   * The auto switch: a boolean control (`focus-auto`, `white-balance-temperature-auto`, …) or the
   * CT auto-exposure mode bitmap (`ae-mode`, special-cased: manual = 1, auto = 8 or 2).
   */
  readonly auto?: UvcControlDef;
  readonly unit?: string;
  readonly menu?: readonly string[];
}

const pu = (name: string): UvcControlDef => {
  const d = findControl(PROCESSING_UNIT_CONTROLS, name);
  if (d === undefined) throw new Error(`no PU control ${name}`);
  return d;
};
const ct = (name: string): UvcControlDef => {
  const d = findControl(CAMERA_TERMINAL_CONTROLS, name);
  if (d === undefined) throw new Error(`no CT control ${name}`);
  return d;
};

/** UVC 1.5 §4.2.2.1.2 auto-exposure modes (bmAutoExposureMode bits). */
export const AutoExposureMode = { manual: 1, auto: 2, shutterPriority: 4, aperturePriority: 8 } as const;

/**
 * Every hal control with its UVC carrier, in the order hal lists capabilities. Only the bindings
 * whose control bit is set in the function's bmControls become device controls.
 */
export const UVC_CONTROL_BINDINGS: readonly UvcControlBinding[] = Object.freeze([
  { id: 'brightness', label: 'Brightness', type: 'integer', entity: 'pu', def: pu('brightness') },
  {
    id: 'contrast',
    label: 'Contrast',
    type: 'integer',
    entity: 'pu',
    def: pu('contrast'),
    auto: pu('contrast-auto'),
  },
  { id: 'saturation', label: 'Saturation', type: 'integer', entity: 'pu', def: pu('saturation') },
  {
    id: 'hue',
    label: 'Hue',
    type: 'integer',
    entity: 'pu',
    def: pu('hue'),
    auto: pu('hue-auto'),
    unit: 'centi-degree',
  },
  { id: 'gamma', label: 'Gamma', type: 'integer', entity: 'pu', def: pu('gamma') },
  { id: 'sharpness', label: 'Sharpness', type: 'integer', entity: 'pu', def: pu('sharpness') },
  {
    id: 'white-balance-temperature',
    label: 'White Balance Temperature',
    type: 'integer',
    entity: 'pu',
    def: pu('white-balance-temperature'),
    auto: pu('white-balance-temperature-auto'),
    unit: 'K',
  },
  {
    id: 'backlight-compensation',
    label: 'Backlight Compensation',
    type: 'integer',
    entity: 'pu',
    def: pu('backlight-compensation'),
  },
  { id: 'gain', label: 'Gain', type: 'integer', entity: 'pu', def: pu('gain') },
  {
    id: 'power-line-frequency',
    label: 'Power Line Frequency',
    type: 'menu',
    entity: 'pu',
    def: pu('power-line-frequency'),
    menu: Object.freeze(['Disabled', '50 Hz', '60 Hz', 'Auto']),
  },
  {
    id: 'exposure',
    label: 'Exposure (Absolute)',
    type: 'integer',
    entity: 'ct',
    def: ct('exposure-time-absolute'),
    auto: ct('ae-mode'),
    unit: '100us',
  },
  {
    id: 'focus',
    label: 'Focus (Absolute)',
    type: 'integer',
    entity: 'ct',
    def: ct('focus-absolute'),
    auto: ct('focus-auto'),
  },
  { id: 'zoom', label: 'Zoom (Absolute)', type: 'integer', entity: 'ct', def: ct('zoom-absolute') },
  {
    id: 'pan',
    label: 'Pan (Absolute)',
    type: 'integer',
    entity: 'ct',
    def: ct('pantilt-absolute'),
    field: 'pan',
    unit: 'arc-second',
  },
  {
    id: 'tilt',
    label: 'Tilt (Absolute)',
    type: 'integer',
    entity: 'ct',
    def: ct('pantilt-absolute'),
    field: 'tilt',
    unit: 'arc-second',
  },
  {
    id: 'roll',
    label: 'Roll (Absolute)',
    type: 'integer',
    entity: 'ct',
    def: ct('roll-absolute'),
    unit: 'degree',
  },
  {
    id: 'iris',
    label: 'Iris (Absolute)',
    type: 'integer',
    entity: 'ct',
    def: ct('iris-absolute'),
    unit: 'fstop/100',
  },
  { id: 'privacy', label: 'Privacy', type: 'boolean', entity: 'ct', def: ct('privacy') },
] satisfies UvcControlBinding[]);

/** True when bit `bit` of a bmControls value (up to 48 bits, as the parser gives it) is set. */
export function hasControlBit(bmControls: number, bit: number): boolean {
  return Math.floor(bmControls / 2 ** bit) % 2 === 1;
}

/** The binding of a hal control, or undefined when UVC has none for it. */
export function bindingOf(id: ControlId): UvcControlBinding | undefined {
  return UVC_CONTROL_BINDINGS.find((b) => b.id === id);
}
