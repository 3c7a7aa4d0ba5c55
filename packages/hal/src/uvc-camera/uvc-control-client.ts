// UVC control requests of an opened camera: ranges at open, GET_CUR/SET_CUR, auto switches, STALL → request error code → typed errors.
import type { ControlCapability, ControlId } from '../hal-device.js';
import { HalError, HalErrorCode, isHalError } from '../hal-error.js';
import type { UsbTransport } from '../usb/usb-transport.js';
import {
  buildGetRequest,
  buildRequestErrorCodeRequest,
  buildSetCurRequest,
  decodeControlInfo,
  decodeControlValue,
  decodeStall,
  encodeControlValue,
  type UvcControlDef,
  type UvcControlRequest,
  type UvcControlValue,
  type UvcGetRequest,
} from '../uvc/controls.js';
import type { UvcFunction } from '../uvc/descriptor-types.js';
import { TerminalType } from '../uvc/descriptor-types.js';
import {
  AutoExposureMode,
  UVC_CONTROL_BINDINGS,
  hasControlBit,
  type UvcControlBinding,
} from './uvc-control-map.js';

/** A control the camera has, with where it lives and what GET_RES said about auto exposure. */
export interface UvcBoundControl {
  readonly capability: ControlCapability;
  readonly binding: UvcControlBinding;
  readonly entityId: number;
  /** Entity of the auto switch (same unit/terminal), when the camera has it. */
  readonly autoEntityId: number | undefined;
  /** ae-mode only: the bitmap of supported modes (GET_RES). */
  readonly aeModes: number;
}

const TIMEOUT = { timeoutMs: 1000 };

/**
 * Performs UVC class requests on the VideoControl interface of one camera function. Every failure
 * is typed: a STALL is followed by a VC_REQUEST_ERROR_CODE_CONTROL read and becomes a
 * `RangeError` (device reported 'out-of-range', `cause` = the {@link UvcControlError}) or the
 * `UvcControlError` itself (a `HalError(Stall)`); transport failures stay `HalError`s.
 */
export class UvcControlClient {
  private readonly ctId: number | undefined;
  private readonly puId: number | undefined;
  private readonly ctControls: number;
  private readonly puControls: number;

  constructor(
    private readonly transport: UsbTransport,
    private readonly fn: UvcFunction,
    private readonly deviceId: string,
  ) {
    const ct = fn.inputTerminals.find((t) => t.terminalType === TerminalType.camera);
    const pu = fn.processingUnits[0];
    this.ctId = ct?.id;
    this.puId = pu?.id;
    this.ctControls = ct?.bmControls ?? 0;
    this.puControls = pu?.bmControls ?? 0;
  }

  /** The bindings whose control bit the function advertises, with the entity they address. */
  advertised(): Array<{ binding: UvcControlBinding; entityId: number; hasAuto: boolean }> {
    const out: Array<{ binding: UvcControlBinding; entityId: number; hasAuto: boolean }> = [];
    for (const b of UVC_CONTROL_BINDINGS) {
      const entityId = b.entity === 'pu' ? this.puId : this.ctId;
      const bm = b.entity === 'pu' ? this.puControls : this.ctControls;
      if (entityId === undefined || !hasControlBit(bm, b.def.bit)) continue;
      out.push({ binding: b, entityId, hasAuto: b.auto !== undefined && hasControlBit(bm, b.auto.bit) });
    }
    return out;
  }

  /**
   * Reads GET_INFO/MIN/MAX/RES/DEF of every advertised control (and of its auto switch) and
   * returns the controls with sane ranges. A control whose range requests fail is left out
   * (logged by the caller through `skipped`); a transport failure (Busy, Disconnected) rejects.
   */
  async readCapabilities(skipped: (id: ControlId, reason: unknown) => void): Promise<UvcBoundControl[]> {
    const out: UvcBoundControl[] = [];
    for (const { binding: b, entityId, hasAuto } of this.advertised()) {
      try {
        const info = decodeControlInfo((await this.get('info', entityId, b.def))[0] ?? 0);
        const field = (v: UvcControlValue): number => (typeof v === 'number' ? v : (v[b.field ?? ''] ?? 0));
        const min = field(decodeControlValue(b.def, await this.get('min', entityId, b.def)).value);
        const max = field(decodeControlValue(b.def, await this.get('max', entityId, b.def)).value);
        const res = field(decodeControlValue(b.def, await this.get('res', entityId, b.def)).value);
        const def = field(decodeControlValue(b.def, await this.get('def', entityId, b.def)).value);
        if (min > max) throw new RangeError(`device reports min ${min} > max ${max}`);
        let autoCapable = false;
        let autoDefault = false;
        let aeModes = 0;
        if (hasAuto && b.auto !== undefined) {
          if (b.auto.name === 'ae-mode') {
            aeModes = (await this.get('res', entityId, b.auto))[0] ?? 0;
            const autoMode = aeModes & (AutoExposureMode.aperturePriority | AutoExposureMode.auto);
            autoCapable = autoMode !== 0 && (aeModes & AutoExposureMode.manual) !== 0;
            autoDefault = ((await this.get('def', entityId, b.auto))[0] ?? 0) !== AutoExposureMode.manual;
          } else {
            autoCapable = true;
            autoDefault = ((await this.get('def', entityId, b.auto))[0] ?? 0) !== 0;
          }
        }
        const step = res > 0 ? res : 1;
        const capability: ControlCapability = Object.freeze({
          id: b.id,
          name: b.label,
          type: b.type,
          min: b.type === 'boolean' ? 0 : min,
          max: b.type === 'boolean' ? 1 : max,
          step: b.type === 'boolean' ? 1 : step,
          default: Math.min(Math.max(def, min), max),
          autoCapable,
          autoDefault: autoCapable && autoDefault,
          ...(b.unit !== undefined ? { unit: b.unit } : {}),
          ...(b.menu !== undefined ? { menu: Object.freeze(b.menu.slice(min, max + 1)) } : {}),
          ...(!info.set ? { readOnly: true } : {}),
        });
        out.push({
          capability,
          binding: b,
          entityId,
          autoEntityId: autoCapable ? entityId : undefined,
          aeModes,
        });
      } catch (err) {
        if (isHalError(err, HalErrorCode.Disconnected) || isHalError(err, HalErrorCode.Busy)) throw err;
        skipped(b.id, err);
      }
    }
    return out;
  }

  /** GET_CUR of a control (the whole value; compound controls as a record). */
  async getValue(entityId: number, def: UvcControlDef): Promise<UvcControlValue> {
    return decodeControlValue(def, await this.get('cur', entityId, def)).value;
  }

  /** SET_CUR of a control. Errors: see the class comment. */
  async setValue(entityId: number, def: UvcControlDef, value: UvcControlValue): Promise<void> {
    const req = buildSetCurRequest(
      { interfaceNumber: this.fn.controlInterface, entityId, selector: def.selector },
      encodeControlValue(def, value),
    );
    await this.perform(req);
  }

  /** One GET request's reply bytes. */
  async get(kind: UvcGetRequest, entityId: number, def: UvcControlDef): Promise<Uint8Array> {
    const req = buildGetRequest(
      kind,
      { interfaceNumber: this.fn.controlInterface, entityId, selector: def.selector },
      def.size,
    );
    return (await this.perform(req)) ?? new Uint8Array();
  }

  private async perform(req: UvcControlRequest): Promise<Uint8Array | undefined> {
    try {
      if (req.data !== undefined) {
        await this.transport.controlOut(req, req.data, TIMEOUT);
        return undefined;
      }
      return await this.transport.controlIn(req, req.length, TIMEOUT);
    } catch (err) {
      if (!isHalError(err, HalErrorCode.Stall)) throw err;
      let code: Uint8Array | undefined;
      try {
        code = await this.transport.controlIn(
          buildRequestErrorCodeRequest(this.fn.controlInterface),
          1,
          TIMEOUT,
        );
      } catch {
        // Devices without the error-code control stall this too: the STALL alone is reported.
        code = undefined;
      }
      const stall = decodeStall(req, code, err);
      if (stall.requestError === 'out-of-range') {
        throw new RangeError(`${this.deviceId}: ${stall.message}`, { cause: stall });
      }
      throw stall;
    }
  }
}

/** The HalError for a control the device does not have. */
export function noSuchControl(deviceId: string, id: ControlId): HalError {
  return new HalError(HalErrorCode.NotFound, `${deviceId} has no control '${String(id)}'`, { deviceId });
}
