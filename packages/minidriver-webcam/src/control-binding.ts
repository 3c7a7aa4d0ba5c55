// Binds HAL controls to KS VideoProcAmp/CameraControl items: which set and id, and the unit conversion between them.
import type { ControlCapability, ControlId } from '@ksemu/hal';
import { CameraControlProperty, VideoProcAmpProperty } from './camera-property-ids.js';

/** Which KS property set (and which topology node) a control belongs to. */
export type ControlFamily = 'video-proc-amp' | 'camera-control';

/**
 * Converts between the HAL unit of a control and the KS unit of its property. Both directions
 * work on integers; `toHal` may land between HAL steps, so callers snap its result to the grid.
 */
export interface UnitConversion {
  /** Short name for tools, e.g. `'log2-seconds'`. */
  readonly name: string;
  toKs(halValue: number): number;
  toHal(ksValue: number): number;
}

/** One HAL control as a KS property: the set, id, name, and converted range. */
export interface ControlBinding {
  readonly control: ControlId;
  readonly family: ControlFamily;
  readonly id: number;
  readonly name: string;
  readonly conversion: UnitConversion;
  /** KS-unit bounds, step and default; every value in them maps into the HAL range. */
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly default: number;
  readonly autoCapable: boolean;
  readonly autoDefault: boolean;
  readonly readOnly: boolean;
}

const IDENTITY: UnitConversion = Object.freeze({
  name: 'identity',
  toKs: (v: number) => v,
  toHal: (v: number) => v,
});

/**
 * UVC exposure is in 100 µs units; DirectShow's IAMCameraControl exposure is log2 seconds
 * (−13 ≈ 122 µs, 0 = 1 s). usbvideo.sys does this mapping, so applications see the same numbers.
 */
const EXPOSURE_LOG2: UnitConversion = Object.freeze({
  name: 'log2-seconds',
  toKs: (v: number) => Math.round(Math.log2(Math.max(v, 1) / 10_000)),
  toHal: (k: number) => Math.round(2 ** k * 10_000),
});

/** UVC pan/tilt are arc-seconds; KS pan/tilt are degrees. */
const ARC_SECONDS: UnitConversion = Object.freeze({
  name: 'degrees',
  toKs: (v: number) => Math.round(v / 3600),
  toHal: (k: number) => k * 3600,
});

interface BindingRow {
  readonly family: ControlFamily;
  readonly id: number;
  readonly name: string;
}

const ROWS: Readonly<Partial<Record<ControlId, BindingRow>>> = Object.freeze({
  brightness: { family: 'video-proc-amp', id: VideoProcAmpProperty.Brightness, name: 'Brightness' },
  contrast: { family: 'video-proc-amp', id: VideoProcAmpProperty.Contrast, name: 'Contrast' },
  hue: { family: 'video-proc-amp', id: VideoProcAmpProperty.Hue, name: 'Hue' },
  saturation: { family: 'video-proc-amp', id: VideoProcAmpProperty.Saturation, name: 'Saturation' },
  sharpness: { family: 'video-proc-amp', id: VideoProcAmpProperty.Sharpness, name: 'Sharpness' },
  gamma: { family: 'video-proc-amp', id: VideoProcAmpProperty.Gamma, name: 'Gamma' },
  'white-balance-temperature': {
    family: 'video-proc-amp',
    id: VideoProcAmpProperty.WhiteBalance,
    name: 'WhiteBalance',
  },
  'backlight-compensation': {
    family: 'video-proc-amp',
    id: VideoProcAmpProperty.BacklightCompensation,
    name: 'BacklightCompensation',
  },
  gain: { family: 'video-proc-amp', id: VideoProcAmpProperty.Gain, name: 'Gain' },
  'power-line-frequency': {
    family: 'video-proc-amp',
    id: VideoProcAmpProperty.PowerlineFrequency,
    name: 'PowerlineFrequency',
  },
  pan: { family: 'camera-control', id: CameraControlProperty.Pan, name: 'Pan' },
  tilt: { family: 'camera-control', id: CameraControlProperty.Tilt, name: 'Tilt' },
  roll: { family: 'camera-control', id: CameraControlProperty.Roll, name: 'Roll' },
  zoom: { family: 'camera-control', id: CameraControlProperty.Zoom, name: 'Zoom' },
  exposure: { family: 'camera-control', id: CameraControlProperty.Exposure, name: 'Exposure' },
  iris: { family: 'camera-control', id: CameraControlProperty.Iris, name: 'Iris' },
  focus: { family: 'camera-control', id: CameraControlProperty.Focus, name: 'Focus' },
  privacy: { family: 'camera-control', id: CameraControlProperty.Privacy, name: 'Privacy' },
});

function conversionFor(cap: ControlCapability): UnitConversion {
  if (cap.id === 'exposure' && cap.unit === '100us') return EXPOSURE_LOG2;
  if ((cap.id === 'pan' || cap.id === 'tilt') && cap.unit === 'arc-second') return ARC_SECONDS;
  return IDENTITY;
}

/**
 * Snaps a HAL value to the control's grid (`min + k × step`) inside [min, max], rounding to the
 * nearest step. Used after a KS → HAL conversion that may fall between steps.
 */
export function snapToGrid(cap: ControlCapability, value: number): number {
  const clamped = Math.min(cap.max, Math.max(cap.min, value));
  const k = Math.round((clamped - cap.min) / cap.step);
  return Math.min(cap.max, cap.min + k * cap.step);
}

/**
 * The KS binding of a HAL control, or `undefined` for a control KS has no property for.
 * With a non-identity conversion the KS range is the integers whose HAL image lies in the HAL
 * range, and `default` is the KS image of the HAL default.
 */
export function bindControl(cap: ControlCapability): ControlBinding | undefined {
  const row = ROWS[cap.id];
  if (row === undefined) return undefined;
  const conversion = conversionFor(cap);
  let min = cap.min;
  let max = cap.max;
  let step = cap.step;
  if (conversion !== IDENTITY) {
    min = conversion.toKs(cap.min);
    max = conversion.toKs(cap.max);
    // Rounding may put an end of the KS range just outside the HAL range: pull it back in.
    while (min < max && !roundTrips(cap, conversion, min)) min++;
    while (max > min && !roundTrips(cap, conversion, max)) max--;
    step = 1;
  }
  const def = Math.min(max, Math.max(min, conversion.toKs(cap.default)));
  return Object.freeze({
    control: cap.id,
    family: row.family,
    id: row.id,
    name: row.name,
    conversion,
    min,
    max,
    step,
    default: def,
    autoCapable: cap.autoCapable,
    autoDefault: cap.autoCapable && cap.autoDefault,
    readOnly: cap.readOnly === true,
  });
}

/** True when KS value `k` maps into the HAL range and comes back as `k`. */
function roundTrips(cap: ControlCapability, conversion: UnitConversion, k: number): boolean {
  const h = conversion.toHal(k);
  if (h < cap.min - cap.step / 2 || h > cap.max + cap.step / 2) return false;
  return conversion.toKs(snapToGrid(cap, h)) === k;
}

/** Bindings of every control of a device that KS has a property for, in capability order. */
export function bindControls(caps: readonly ControlCapability[]): ControlBinding[] {
  const out: ControlBinding[] = [];
  for (const cap of caps) {
    const b = bindControl(cap);
    if (b !== undefined) out.push(b);
  }
  return out;
}
