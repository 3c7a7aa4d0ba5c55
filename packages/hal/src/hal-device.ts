// The device model: identity, capabilities, controls and the open/close lifecycle of hal devices.
import type { Logger } from 'pino';
import type { CaptureEngine } from './capture-engine.js';
import type { EventSource } from './event-hub.js';
import type { HalError } from './hal-error.js';
import type { Fourcc } from './pixel-format.js';
import type { TimeSource } from './time-source.js';

/** What a device is. */
export type HalDeviceKind = 'camera' | 'capture-card' | 'tuner';

/** How the device is reached. */
export type HalTransportKind = 'synthetic' | 'usb';

/**
 * Stable identity. `id` is what users type (`synthetic:camera`, `usb:046d:0825:SERIAL`); it is
 * unique among the devices an Enumerator lists at one time.
 */
export interface HalDeviceIdentity {
  readonly id: string;
  readonly kind: HalDeviceKind;
  readonly transport: HalTransportKind;
  /** USB-style vendor/product ids (synthetic devices use 0x1209, pid.codes' test range). */
  readonly vendorId: number;
  readonly productId: number;
  readonly name: string;
  readonly manufacturer: string;
  readonly serial: string;
  /** Where it is attached: `synthetic`, `usb:1-2.3`, `pci:0000:03:00.0`. */
  readonly location: string;
}

/** One frame size with the frame intervals (100 ns) it supports, fastest first. */
export interface FrameSizeCapability {
  readonly width: number;
  readonly height: number;
  readonly intervals: readonly bigint[];
  /** The interval a device picks when asked for no particular rate. */
  readonly defaultInterval: bigint;
}

/** A FOURCC with its sizes. */
export interface VideoFormatCapability {
  readonly fourcc: Fourcc;
  readonly sizes: readonly FrameSizeCapability[];
}

/** Still-image capture capabilities (method 2: separate still sizes, like UVC). */
export interface StillCapability {
  readonly fourcc: Fourcc;
  readonly sizes: ReadonlyArray<{ readonly width: number; readonly height: number }>;
}

/** Names of the controls hal knows (UVC processing unit and camera terminal, KS video proc-amp and camera control). */
export type ControlId =
  | 'brightness'
  | 'contrast'
  | 'saturation'
  | 'hue'
  | 'gamma'
  | 'sharpness'
  | 'white-balance-temperature'
  | 'backlight-compensation'
  | 'gain'
  | 'power-line-frequency'
  | 'exposure'
  | 'focus'
  | 'zoom'
  | 'pan'
  | 'tilt'
  | 'roll'
  | 'iris'
  | 'privacy';

/** Value type of a control. */
export type ControlType = 'integer' | 'boolean' | 'menu';

/**
 * Range and default of one control. Values are integers in [min, max] with
 * (value − min) % step === 0. `autoCapable` controls also have an auto mode, switched with
 * `setAuto` (manual writes are refused with Busy while auto is on, as UVC devices do).
 */
export interface ControlCapability {
  readonly id: ControlId;
  readonly name: string;
  readonly type: ControlType;
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly default: number;
  readonly autoCapable: boolean;
  /** Auto mode's default (only meaningful when `autoCapable`). */
  readonly autoDefault: boolean;
  /** Unit, when it has one (e.g. 'K', '100us', 'arc-second'). */
  readonly unit?: string;
  /** Labels of a `menu` control's values, index = value − min. */
  readonly menu?: readonly string[];
  readonly readOnly?: boolean;
}

/** Analog TV standards hal knows. */
export type AnalogVideoStandard =
  | 'NTSC-M'
  | 'NTSC-M-JP'
  | 'PAL-B'
  | 'PAL-G'
  | 'PAL-I'
  | 'PAL-D'
  | 'PAL-K'
  | 'PAL-M'
  | 'PAL-N'
  | 'SECAM-L'
  | 'SECAM-D'
  | 'SECAM-K';

/** What a tuner front end can do; the synthetic tuner fills this. */
export interface TunerCapability {
  readonly standards: readonly AnalogVideoStandard[];
  readonly minFrequencyHz: number;
  readonly maxFrequencyHz: number;
  readonly tuningStepHz: number;
  /** Settle time after a tune before lock can be reported, 100 ns units. */
  readonly settleTime: bigint;
  /** Frequency table names (e.g. 'us-broadcast', 'us-cable', 'eu-west-broadcast'). */
  readonly frequencyTables: readonly string[];
}

/** Everything a device can do; frozen data. */
export interface HalDeviceCapabilities {
  readonly video: readonly VideoFormatCapability[];
  readonly stills: readonly StillCapability[];
  readonly controls: readonly ControlCapability[];
  readonly tuner?: TunerCapability;
}

/** Options of {@link HalDevice.open}. */
export interface HalOpenOptions {
  /** The time base frames are produced on; default a {@link SystemTimeSource}. */
  readonly timeSource?: TimeSource;
  /** Parent logger; the device makes a child. Default silent. */
  readonly logger?: Logger;
}

/** Events of a {@link HalDevice}. */
export type HalDeviceEvents = {
  /** The device went away; `reason` is a `HalError(Disconnected)` with the cause. */
  disconnect: [reason: HalError];
  /** A control changed (by `setControl`/`setAuto`, or by the device in auto mode). */
  'control-change': [id: ControlId, value: number];
};

/** Lifecycle of a device object. */
export type HalDeviceState = 'closed' | 'open' | 'disconnected';

/**
 * A device as listed by an Enumerator. Listing it touches no hardware; `open` takes it.
 * Open is exclusive: a second `open` while open rejects with `HalError(Busy)`; after a
 * disconnect `open` rejects with `HalError(Disconnected)`.
 */
export interface HalDevice extends EventSource<HalDeviceEvents> {
  readonly identity: HalDeviceIdentity;
  readonly capabilities: HalDeviceCapabilities;
  readonly state: HalDeviceState;
  open(options?: HalOpenOptions): Promise<OpenedHalDevice>;
}

/** Result of a still capture. */
export interface StillResult {
  readonly bytesUsed: number;
  readonly width: number;
  readonly height: number;
  readonly fourcc: Fourcc;
}

/**
 * An opened device session. It owns the device until `close()` (idempotent, cascades: stops
 * and closes the capture engine). After a disconnect every call but `close` throws
 * `HalError(Disconnected)`.
 */
export interface OpenedHalDevice {
  readonly device: HalDevice;
  /** The video engine (one per device; video devices only, else Unsupported). */
  captureEngine(): CaptureEngine;

  /**
   * Reads a control's current value.
   * @throws HalError(NotFound) for a control the device does not have.
   */
  getControl(id: ControlId): number;
  /**
   * Writes a control. Values outside [min, max] or off the step grid throw RangeError; a
   * control in auto mode throws HalError(Busy); a read-only one HalError(AccessDenied).
   */
  setControl(id: ControlId, value: number): void;
  /** Whether a control is in auto mode (false for controls without auto). */
  getAuto(id: ControlId): boolean;
  /** @throws HalError(Unsupported) for a control that is not `autoCapable`. */
  setAuto(id: ControlId, enabled: boolean): void;

  /**
   * Captures one still image into `target` (borrowed for the call), independent of streaming.
   * @throws HalError(Unsupported) for a size/format not in `capabilities.stills`;
   * RangeError if `target` is too small.
   */
  captureStill(fourcc: Fourcc, width: number, height: number, target: Uint8Array): Promise<StillResult>;

  close(): Promise<void>;
}
