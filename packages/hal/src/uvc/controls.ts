// UVC controls: CT/PU selector tables, class request encoding (GET_*/SET_CUR), value codecs and STALL error decoding.

import type { ControlSetup } from '../usb/usb-transport.js';
import { HalError, HalErrorCode } from '../hal-error.js';
import type { HalErrorOptions } from '../hal-error.js';
import { uintLE } from './usb-descriptor.js';

/** UVC class-specific request codes (bRequest). */
export const UvcRequestCode = {
  setCur: 0x01,
  setCurAll: 0x11,
  getCur: 0x81,
  getMin: 0x82,
  getMax: 0x83,
  getRes: 0x84,
  getLen: 0x85,
  getInfo: 0x86,
  getDef: 0x87,
  getCurAll: 0x91,
  getMinAll: 0x92,
  getMaxAll: 0x93,
  getResAll: 0x94,
  getDefAll: 0x97,
} as const;

export type UvcGetRequest = 'cur' | 'min' | 'max' | 'res' | 'len' | 'info' | 'def';

const GET_CODES: Record<UvcGetRequest, number> = {
  cur: UvcRequestCode.getCur,
  min: UvcRequestCode.getMin,
  max: UvcRequestCode.getMax,
  res: UvcRequestCode.getRes,
  len: UvcRequestCode.getLen,
  info: UvcRequestCode.getInfo,
  def: UvcRequestCode.getDef,
};

/** VideoControl interface selectors (entity 0). */
export const VcInterfaceSelector = { videoPowerMode: 0x01, requestErrorCode: 0x02 } as const;

/** VideoStreaming interface selectors. */
export const VsSelector = {
  probe: 0x01,
  commit: 0x02,
  stillProbe: 0x03,
  stillCommit: 0x04,
  stillImageTrigger: 0x05,
  streamErrorCode: 0x06,
  generateKeyFrame: 0x07,
  updateFrameSegment: 0x08,
  synchDelay: 0x09,
} as const;

/** One field of a control value (most controls have one; pan/tilt, zoom-relative, WB component have several). */
export interface UvcControlField {
  readonly name: string;
  readonly size: 1 | 2 | 4;
  readonly signed: boolean;
}

/** A standard control: name, selector, wLength, bmControls bit and value layout. */
export interface UvcControlDef {
  readonly name: string;
  readonly selector: number;
  readonly size: number;
  /** Bit in the terminal/unit bmControls that advertises this control. */
  readonly bit: number;
  readonly fields: readonly UvcControlField[];
}

function def(
  name: string,
  selector: number,
  bit: number,
  fields: [string, 1 | 2 | 4, boolean][],
): UvcControlDef {
  const f = fields.map(([n, size, signed]) => Object.freeze({ name: n, size, signed }));
  return Object.freeze({
    name,
    selector,
    bit,
    size: f.reduce((s, x) => s + x.size, 0),
    fields: Object.freeze(f),
  });
}
const one = (name: string, selector: number, bit: number, size: 1 | 2 | 4, signed = false): UvcControlDef =>
  def(name, selector, bit, [['value', size, signed]]);

/** Camera terminal controls (UVC 1.5 table A-12 order; bmControls bit ≠ selector − 1). */
export const CAMERA_TERMINAL_CONTROLS: readonly UvcControlDef[] = Object.freeze([
  one('scanning-mode', 0x01, 0, 1),
  one('ae-mode', 0x02, 1, 1),
  one('ae-priority', 0x03, 2, 1),
  one('exposure-time-absolute', 0x04, 3, 4),
  one('exposure-time-relative', 0x05, 4, 1, true),
  one('focus-absolute', 0x06, 5, 2),
  def('focus-relative', 0x07, 6, [
    ['focus', 1, true],
    ['speed', 1, false],
  ]),
  one('iris-absolute', 0x09, 7, 2),
  one('iris-relative', 0x0a, 8, 1, true),
  one('zoom-absolute', 0x0b, 9, 2),
  def('zoom-relative', 0x0c, 10, [
    ['zoom', 1, true],
    ['digitalZoom', 1, false],
    ['speed', 1, false],
  ]),
  def('pantilt-absolute', 0x0d, 11, [
    ['pan', 4, true],
    ['tilt', 4, true],
  ]),
  def('pantilt-relative', 0x0e, 12, [
    ['panRelative', 1, true],
    ['panSpeed', 1, false],
    ['tiltRelative', 1, true],
    ['tiltSpeed', 1, false],
  ]),
  one('roll-absolute', 0x0f, 13, 2, true),
  def('roll-relative', 0x10, 14, [
    ['roll', 1, true],
    ['speed', 1, false],
  ]),
  one('focus-auto', 0x08, 17, 1),
  one('privacy', 0x11, 18, 1),
  one('focus-simple', 0x12, 19, 1),
  def('window', 0x13, 20, [
    ['top', 2, false],
    ['left', 2, false],
    ['bottom', 2, false],
    ['right', 2, false],
    ['numSteps', 2, false],
    ['numStepsUnits', 2, false],
  ]),
  def('region-of-interest', 0x14, 21, [
    ['top', 2, false],
    ['left', 2, false],
    ['bottom', 2, false],
    ['right', 2, false],
    ['autoControls', 2, false],
  ]),
]);

/** Processing unit controls (bmControls bit order D0 brightness … D18 contrast-auto). */
export const PROCESSING_UNIT_CONTROLS: readonly UvcControlDef[] = Object.freeze([
  one('brightness', 0x02, 0, 2, true),
  one('contrast', 0x03, 1, 2),
  one('hue', 0x06, 2, 2, true),
  one('saturation', 0x07, 3, 2),
  one('sharpness', 0x08, 4, 2),
  one('gamma', 0x09, 5, 2),
  one('white-balance-temperature', 0x0a, 6, 2),
  def('white-balance-component', 0x0c, 7, [
    ['blue', 2, false],
    ['red', 2, false],
  ]),
  one('backlight-compensation', 0x01, 8, 2),
  one('gain', 0x04, 9, 2),
  one('power-line-frequency', 0x05, 10, 1),
  one('hue-auto', 0x10, 11, 1),
  one('white-balance-temperature-auto', 0x0b, 12, 1),
  one('white-balance-component-auto', 0x0d, 13, 1),
  one('digital-multiplier', 0x0e, 14, 2),
  one('digital-multiplier-limit', 0x0f, 15, 2),
  one('analog-video-standard', 0x11, 16, 1),
  one('analog-lock-status', 0x12, 17, 1),
  one('contrast-auto', 0x13, 18, 1),
]);

/** Controls UVC 1.5 added (CT D19–D21, PU D18): reserved bits in 1.0/1.1 descriptors. */
export const UVC15_CONTROL_NAMES: ReadonlySet<string> = new Set([
  'focus-simple',
  'window',
  'region-of-interest',
  'contrast-auto',
]);

/**
 * Names of the controls whose bits are set in `bmControls`, in bit order. Set bits without a control
 * (reserved, vendor, or 1.5-only bits in a function older than `bcdUVC` 1.50) become `bit<N>`.
 */
export function controlNames(
  table: readonly UvcControlDef[],
  bmControls: number,
  controlSize = 6,
  bcdUVC = 0x0150,
): string[] {
  const names: string[] = [];
  const bits = Math.min(controlSize, 6) * 8;
  for (let bit = 0; bit < bits; bit++) {
    if (Math.floor(bmControls / 2 ** bit) % 2 === 0) continue;
    const d = table.find((c) => c.bit === bit);
    names.push(d && (bcdUVC >= 0x0150 || !UVC15_CONTROL_NAMES.has(d.name)) ? d.name : `bit${bit}`);
  }
  return names;
}

/**
 * Control selectors an extension unit advertises: bit n of bmControls is selector n + 1 (the
 * meaning is vendor-defined; query GET_LEN and GET_INFO before use).
 */
export function extensionUnitSelectors(bmControls: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bmControls.length; i++) {
    const byte = bmControls[i] ?? 0;
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) out.push(i * 8 + b + 1);
  }
  return out;
}

/** Looks up a control by name in a table; undefined when absent. */
export function findControl(table: readonly UvcControlDef[], name: string): UvcControlDef | undefined {
  return table.find((c) => c.name === name);
}

/**
 * A UVC class request: the transport's {@link ControlSetup} plus wLength and, for SET requests, the
 * OUT data stage (borrowed until the transfer completes).
 */
export interface UvcControlRequest extends ControlSetup {
  readonly length: number;
  readonly data?: Uint8Array;
}

/** Where a control lives: entity (unit/terminal id, 0 = the interface itself) on an interface. */
export interface ControlAddress {
  readonly interfaceNumber: number;
  readonly entityId: number;
  readonly selector: number;
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 255)
    throw new RangeError(`${name} must be an integer 0..255, got ${v}`);
}

function wIndexOf(a: ControlAddress): number {
  checkByte('interfaceNumber', a.interfaceNumber);
  checkByte('entityId', a.entityId);
  checkByte('selector', a.selector);
  return (a.entityId << 8) | a.interfaceNumber;
}

/**
 * Builds a class-specific GET request to an interface (bmRequestType 0xA1). `length` is wLength: the
 * control size (GET_LEN is always 2 and GET_INFO always 1 regardless of `length`).
 */
export function buildGetRequest(
  kind: UvcGetRequest,
  address: ControlAddress,
  length: number,
): UvcControlRequest {
  const wLength = kind === 'len' ? 2 : kind === 'info' ? 1 : length;
  if (!Number.isInteger(wLength) || wLength < 1 || wLength > 0xffff)
    throw new RangeError(`bad wLength ${wLength}`);
  return {
    requestType: 0xa1,
    request: GET_CODES[kind],
    value: address.selector << 8,
    index: wIndexOf(address),
    length: wLength,
  };
}

/** Builds SET_CUR (bmRequestType 0x21) carrying `data` (borrowed until the transfer completes). */
export function buildSetCurRequest(address: ControlAddress, data: Uint8Array): UvcControlRequest {
  if (data.length < 1 || data.length > 0xffff) throw new RangeError(`bad SET_CUR length ${data.length}`);
  return {
    requestType: 0x21,
    request: UvcRequestCode.setCur,
    value: address.selector << 8,
    index: wIndexOf(address),
    length: data.length,
    data,
  };
}

/** Encodes the 8-byte setup packet of a control request (for transports that take raw setups). */
export function encodeSetupPacket(s: UvcControlRequest, out: Uint8Array = new Uint8Array(8)): Uint8Array {
  out[0] = s.requestType;
  out[1] = s.request;
  out[2] = s.value & 0xff;
  out[3] = s.value >> 8;
  out[4] = s.index & 0xff;
  out[5] = s.index >> 8;
  out[6] = s.length & 0xff;
  out[7] = s.length >> 8;
  return out;
}

/** Decodes an 8-byte setup packet. Throws `RangeError` when shorter than 8 bytes. */
export function decodeSetupPacket(b: Uint8Array): UvcControlRequest {
  if (b.length < 8) throw new RangeError(`setup packet needs 8 bytes, got ${b.length}`);
  return {
    requestType: b[0] ?? 0,
    request: b[1] ?? 0,
    value: (b[2] ?? 0) | ((b[3] ?? 0) << 8),
    index: (b[4] ?? 0) | ((b[5] ?? 0) << 8),
    length: (b[6] ?? 0) | ((b[7] ?? 0) << 8),
  };
}

/** A device-side answer to a class request: data for GET, nothing for SET, or a STALL with the request error to report. */
export type ResponderAnswer =
  | { readonly status: 'ok'; readonly data?: Uint8Array }
  | { readonly status: 'stall'; readonly error: UvcRequestErrorName };

/** GET_INFO capability bits. */
export interface UvcControlInfo {
  readonly get: boolean;
  readonly set: boolean;
  readonly disabledByAuto: boolean;
  readonly autoUpdate: boolean;
  readonly asynchronous: boolean;
  readonly disabledByCommit: boolean;
}

export function decodeControlInfo(info: number): UvcControlInfo {
  return {
    get: (info & 1) !== 0,
    set: (info & 2) !== 0,
    disabledByAuto: (info & 4) !== 0,
    autoUpdate: (info & 8) !== 0,
    asynchronous: (info & 16) !== 0,
    disabledByCommit: (info & 32) !== 0,
  };
}

export function encodeControlInfo(i: Partial<UvcControlInfo>): number {
  return (
    (i.get ? 1 : 0) |
    (i.set ? 2 : 0) |
    (i.disabledByAuto ? 4 : 0) |
    (i.autoUpdate ? 8 : 0) |
    (i.asynchronous ? 16 : 0) |
    (i.disabledByCommit ? 32 : 0)
  );
}

/** A decoded control value: a number for single-field controls, a record for compound ones. */
export type UvcControlValue = number | Readonly<Record<string, number>>;

function readField(b: Uint8Array, off: number, f: UvcControlField): number {
  const v = uintLE(b, off, f.size);
  if (!f.signed) return v;
  const half = 2 ** (f.size * 8 - 1);
  return v >= half ? v - 2 * half : v;
}

/**
 * Decodes a control reply. Short replies (devices are allowed to send fewer bytes) read missing bytes
 * as zero; that is reported through `short`, never thrown.
 */
export function decodeControlValue(
  d: UvcControlDef,
  b: Uint8Array,
): { value: UvcControlValue; short: boolean } {
  const short = b.length < d.size;
  if (d.fields.length === 1) {
    const f = d.fields[0];
    return { value: f ? readField(b, 0, f) : 0, short };
  }
  const out: Record<string, number> = {};
  let off = 0;
  for (const f of d.fields) {
    out[f.name] = readField(b, off, f);
    off += f.size;
  }
  return { value: out, short };
}

/** Encodes a value for SET_CUR. Throws `RangeError` when a field does not fit its size/signedness, `TypeError` on shape mismatch. */
export function encodeControlValue(d: UvcControlDef, value: UvcControlValue): Uint8Array {
  const out = new Uint8Array(d.size);
  let off = 0;
  for (const f of d.fields) {
    let v: number | undefined;
    if (typeof value === 'number') {
      if (d.fields.length !== 1)
        throw new TypeError(`${d.name} takes fields ${d.fields.map((x) => x.name).join(', ')}`);
      v = value;
    } else {
      v = value[f.name];
      if (v === undefined) throw new TypeError(`${d.name}: missing field ${f.name}`);
    }
    const bits = f.size * 8;
    const min = f.signed ? -(2 ** (bits - 1)) : 0;
    const max = f.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (!Number.isInteger(v) || v < min || v > max)
      throw new RangeError(`${d.name}.${f.name} ${v} outside ${min}..${max}`);
    let u = v < 0 ? v + 2 ** bits : v;
    for (let k = 0; k < f.size; k++) {
      out[off + k] = u % 256;
      u = Math.floor(u / 256);
    }
    off += f.size;
  }
  return out;
}

/** VC_REQUEST_ERROR_CODE_CONTROL values, by name. */
export type UvcRequestErrorName =
  | 'no-error'
  | 'not-ready'
  | 'wrong-state'
  | 'power'
  | 'out-of-range'
  | 'invalid-unit'
  | 'invalid-control'
  | 'invalid-request'
  | 'invalid-value-within-range'
  | 'unknown';

const REQUEST_ERROR_NAMES: readonly UvcRequestErrorName[] = [
  'no-error',
  'not-ready',
  'wrong-state',
  'power',
  'out-of-range',
  'invalid-unit',
  'invalid-control',
  'invalid-request',
  'invalid-value-within-range',
];

/** Maps a request-error-code byte to its name (undefined/reserved codes → 'unknown'). */
export function requestErrorName(code: number): UvcRequestErrorName {
  return REQUEST_ERROR_NAMES[code] ?? 'unknown';
}

/** Maps a name back to the byte a device reports (device side). */
export function requestErrorCode(name: UvcRequestErrorName): number {
  const i = REQUEST_ERROR_NAMES.indexOf(name);
  return i >= 0 ? i : 0xff;
}

/** VS_STREAM_ERROR_CODE_CONTROL values (read on the VS interface after a streaming STALL or ERR). */
export type UvcStreamErrorName =
  | 'no-error'
  | 'protected-content'
  | 'input-buffer-underrun'
  | 'data-discontinuity'
  | 'output-buffer-underrun'
  | 'output-buffer-overrun'
  | 'format-change'
  | 'still-image-capture-error'
  | 'unknown';

const STREAM_ERROR_NAMES: readonly UvcStreamErrorName[] = [
  'no-error',
  'protected-content',
  'input-buffer-underrun',
  'data-discontinuity',
  'output-buffer-underrun',
  'output-buffer-overrun',
  'format-change',
  'still-image-capture-error',
];

/** Maps a VS_STREAM_ERROR_CODE_CONTROL byte to its name (reserved codes → 'unknown'). */
export function streamErrorName(code: number): UvcStreamErrorName {
  return STREAM_ERROR_NAMES[code] ?? 'unknown';
}

/** The GET_CUR request that reads VC_REQUEST_ERROR_CODE_CONTROL after a STALL (1 byte, entity 0). */
export function buildRequestErrorCodeRequest(controlInterface: number): UvcControlRequest {
  return buildGetRequest(
    'cur',
    { interfaceNumber: controlInterface, entityId: 0, selector: VcInterfaceSelector.requestErrorCode },
    1,
  );
}

/**
 * A control request the device refused (USB STALL): a {@link HalError} with code `Stall`, plus the
 * decoded VC_REQUEST_ERROR_CODE_CONTROL value when the device reported one (`requestError`
 * undefined when the error-code read itself failed). `retryable` is true for "not ready".
 */
export class UvcControlError extends HalError {
  readonly requestError: UvcRequestErrorName | undefined;
  readonly requestErrorCode: number | undefined;
  readonly setup: UvcControlRequest;
  readonly retryable: boolean;

  constructor(
    setup: UvcControlRequest,
    requestErrorCodeByte: number | undefined,
    options: HalErrorOptions = {},
  ) {
    const requestError =
      requestErrorCodeByte === undefined ? undefined : requestErrorName(requestErrorCodeByte);
    super(
      HalErrorCode.Stall,
      `UVC request 0x${setup.request.toString(16)} selector 0x${(setup.value >> 8).toString(16)} ` +
        `entity ${setup.index >> 8} interface ${setup.index & 0xff} stalled` +
        (requestError ? ` (request error: ${requestError})` : ''),
      options,
    );
    this.requestError = requestError;
    this.requestErrorCode = requestErrorCodeByte;
    this.setup = setup;
    this.retryable = requestError === 'not-ready';
  }
}

/**
 * Turns a STALLed request plus the reply to {@link buildRequestErrorCodeRequest} into a typed error.
 * `errorReply` undefined or empty (the error-code read itself failed) leaves `requestError` undefined.
 */
export function decodeStall(
  setup: UvcControlRequest,
  errorReply: Uint8Array | undefined,
  cause?: unknown,
): UvcControlError {
  const byte = errorReply && errorReply.length > 0 ? errorReply[0] : undefined;
  return new UvcControlError(setup, byte, cause === undefined ? {} : { cause });
}

/** Decodes a GET_LEN reply (2 bytes little-endian; 0 when short). */
export function decodeGetLen(b: Uint8Array): number {
  return b.length >= 2 ? (b[0] ?? 0) | ((b[1] ?? 0) << 8) : 0;
}
