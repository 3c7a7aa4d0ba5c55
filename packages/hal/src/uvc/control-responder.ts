// Device-side UVC control handling: answers GET_INFO/LEN/MIN/MAX/RES/DEF/CUR and SET_CUR for CT/PU/XU controls, with request error codes.

import type {
  ResponderAnswer,
  UvcControlDef,
  UvcControlRequest,
  UvcControlValue,
  UvcRequestErrorName,
} from './controls.js';
import {
  UvcRequestCode,
  VcInterfaceSelector,
  decodeControlValue,
  encodeControlInfo,
  encodeControlValue,
  requestErrorCode,
} from './controls.js';

/**
 * One control a device exposes. Values are the encoded wire bytes; `get`/`set` connect it to the
 * real state (e.g. a KS property). `set` returns a request error name to refuse (the request STALLs
 * and the error code is reported), or undefined to accept.
 */
export interface DeviceControl {
  readonly entityId: number;
  readonly selector: number;
  /** wLength of the control (what GET_LEN reports). */
  readonly size: number;
  /** GET_INFO bits (see `encodeControlInfo`). */
  readonly info: number;
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
  readonly res?: Uint8Array;
  readonly def?: Uint8Array;
  get(): Uint8Array | UvcRequestErrorName;
  set?(value: Uint8Array): UvcRequestErrorName | undefined;
}

/** Options of {@link numericDeviceControl}: a standard control with a numeric range. */
export interface NumericControlOptions {
  readonly entityId: number;
  readonly def: UvcControlDef;
  readonly min: UvcControlValue;
  readonly max: UvcControlValue;
  readonly res: UvcControlValue;
  readonly default: UvcControlValue;
  readonly get: () => UvcControlValue;
  /** Omit for a read-only control. Called only with values inside min..max. */
  readonly set?: (value: UvcControlValue) => UvcRequestErrorName | undefined;
  /** Extra GET_INFO bits (autoUpdate, disabledByAuto, asynchronous…). */
  readonly extraInfo?: number;
}

function within(v: UvcControlValue, lo: UvcControlValue, hi: UvcControlValue): boolean {
  if (typeof v === 'number') return typeof lo === 'number' && typeof hi === 'number' && v >= lo && v <= hi;
  if (typeof lo === 'number' || typeof hi === 'number') return false;
  return Object.keys(v).every(
    (k) => (v[k] ?? 0) >= (lo[k] ?? -Infinity) && (v[k] ?? 0) <= (hi[k] ?? Infinity),
  );
}

/**
 * Builds a {@link DeviceControl} for a table control (brightness, pan/tilt, …): encodes ranges once,
 * range-checks SET_CUR (outside → 'out-of-range'), rejects wrong lengths ('invalid-request').
 * Throws RangeError/TypeError when a range value does not fit the control's layout.
 */
export function numericDeviceControl(o: NumericControlOptions): DeviceControl {
  const d = o.def;
  const min = encodeControlValue(d, o.min);
  const max = encodeControlValue(d, o.max);
  const res = encodeControlValue(d, o.res);
  const def = encodeControlValue(d, o.default);
  const info = encodeControlInfo({ get: true, set: o.set !== undefined }) | (o.extraInfo ?? 0);
  const control: DeviceControl = {
    entityId: o.entityId,
    selector: d.selector,
    size: d.size,
    info,
    min,
    max,
    res,
    def,
    get: () => {
      try {
        return encodeControlValue(d, o.get());
      } catch {
        // The backing value does not fit the wire layout: report it rather than crash the device.
        return 'invalid-value-within-range';
      }
    },
  };
  const set = o.set;
  if (set) {
    return {
      ...control,
      set: (bytes) => {
        if (bytes.length !== d.size) return 'invalid-request';
        const { value } = decodeControlValue(d, bytes);
        if (!within(value, o.min, o.max)) return 'out-of-range';
        return set(value);
      },
    };
  }
  return control;
}

/**
 * Answers class requests addressed to the VideoControl interface: controls by (entity, selector),
 * plus VC_REQUEST_ERROR_CODE_CONTROL reporting the outcome of the previous request. Unknown
 * entities STALL with 'invalid-unit', unknown selectors with 'invalid-control', unsupported
 * requests with 'invalid-request'. Never throws for any request.
 */
export class ControlResponder {
  private readonly controls = new Map<number, DeviceControl>();
  private readonly entities = new Set<number>();
  private lastError = 0;

  /**
   * @param entityIds - every unit/terminal id of the function (so a known entity without the
   *   selector answers 'invalid-control', not 'invalid-unit').
   */
  constructor(controls: readonly DeviceControl[], entityIds: readonly number[] = []) {
    for (const id of entityIds) this.entities.add(id);
    for (const c of controls) {
      const key = (c.entityId << 8) | c.selector;
      if (this.controls.has(key))
        throw new RangeError(`duplicate control entity ${c.entityId} selector ${c.selector}`);
      this.controls.set(key, c);
      this.entities.add(c.entityId);
    }
  }

  /** The request error code the device would report now (0 = no error). */
  get requestErrorCode(): number {
    return this.lastError;
  }

  handle(req: UvcControlRequest): ResponderAnswer {
    const entity = req.index >> 8;
    const selector = req.value >> 8;
    if (entity === 0) {
      if (selector === VcInterfaceSelector.requestErrorCode) {
        if (req.request === UvcRequestCode.getCur)
          return this.ok(new Uint8Array([this.lastError]), req.length, false);
        if (req.request === UvcRequestCode.getInfo) return this.ok(new Uint8Array([0x01]), req.length, false);
        return this.stall('invalid-request');
      }
      return this.stall('invalid-control');
    }
    if (!this.entities.has(entity)) return this.stall('invalid-unit');
    const c = this.controls.get((entity << 8) | selector);
    if (!c) return this.stall('invalid-control');
    switch (req.request) {
      case UvcRequestCode.setCur: {
        if (!c.set || !(c.info & 0x02)) return this.stall('invalid-request');
        const err = c.set(req.data ?? new Uint8Array());
        if (err !== undefined) return this.stall(err);
        this.lastError = 0;
        return { status: 'ok' };
      }
      case UvcRequestCode.getCur: {
        if (!(c.info & 0x01)) return this.stall('invalid-request');
        const v = c.get();
        return typeof v === 'string' ? this.stall(v) : this.ok(v, req.length);
      }
      case UvcRequestCode.getInfo:
        return this.ok(new Uint8Array([c.info]), req.length);
      case UvcRequestCode.getLen:
        return this.ok(new Uint8Array([c.size & 0xff, c.size >> 8]), req.length);
      case UvcRequestCode.getMin:
        return c.min ? this.ok(c.min, req.length) : this.stall('invalid-request');
      case UvcRequestCode.getMax:
        return c.max ? this.ok(c.max, req.length) : this.stall('invalid-request');
      case UvcRequestCode.getRes:
        return c.res ? this.ok(c.res, req.length) : this.stall('invalid-request');
      case UvcRequestCode.getDef:
        return c.def ? this.ok(c.def, req.length) : this.stall('invalid-request');
      default:
        return this.stall('invalid-request');
    }
  }

  private ok(data: Uint8Array, length: number, clearError = true): ResponderAnswer {
    if (clearError) this.lastError = 0;
    return { status: 'ok', data: data.subarray(0, Math.min(length, data.length)) };
  }

  private stall(error: UvcRequestErrorName): ResponderAnswer {
    this.lastError = requestErrorCode(error);
    return { status: 'stall', error };
  }
}
