// Control values of an opened device: range/step/auto checks over a table of ControlCapability.
import { HalError, HalErrorCode } from './hal-error.js';
import type { ControlCapability, ControlId } from './hal-device.js';

/**
 * Current values and auto modes of a device's controls. Every write is checked against the
 * capability: RangeError for a value off the range or step grid, HalError(Busy) while the
 * control is in auto mode, HalError(AccessDenied) for read-only controls, HalError(NotFound)
 * for a control the device does not have.
 */
export class DeviceControls {
  private readonly caps = new Map<ControlId, ControlCapability>();
  private readonly values = new Map<ControlId, number>();
  private readonly autos = new Map<ControlId, boolean>();

  constructor(
    capabilities: readonly ControlCapability[],
    private readonly deviceId: string,
  ) {
    for (const c of capabilities) {
      this.caps.set(c.id, c);
      this.values.set(c.id, c.default);
      if (c.autoCapable) this.autos.set(c.id, c.autoDefault);
    }
  }

  /** The capability of `id`; throws HalError(NotFound) if the device has no such control. */
  capability(id: ControlId): ControlCapability {
    const c = this.caps.get(id);
    if (c === undefined)
      throw new HalError(HalErrorCode.NotFound, `${this.deviceId} has no control '${String(id)}'`, {
        deviceId: this.deviceId,
      });
    return c;
  }

  get(id: ControlId): number {
    this.capability(id);
    return this.values.get(id)!;
  }

  set(id: ControlId, value: number): void {
    const c = this.capability(id);
    if (c.readOnly === true)
      throw new HalError(HalErrorCode.AccessDenied, `control '${id}' is read-only`, {
        deviceId: this.deviceId,
      });
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new TypeError(`control '${id}' takes an integer, got ${String(value)}`);
    if (value < c.min || value > c.max)
      throw new RangeError(`control '${id}' must be in [${c.min}, ${c.max}], got ${value}`);
    if ((value - c.min) % c.step !== 0)
      throw new RangeError(`control '${id}' must be ${c.min} + k × ${c.step}, got ${value}`);
    if (this.autos.get(id) === true) {
      throw new HalError(HalErrorCode.Busy, `control '${id}' is in auto mode; turn auto off first`, {
        deviceId: this.deviceId,
      });
    }
    this.values.set(id, value);
  }

  getAuto(id: ControlId): boolean {
    this.capability(id);
    return this.autos.get(id) ?? false;
  }

  setAuto(id: ControlId, enabled: boolean): void {
    const c = this.capability(id);
    if (!c.autoCapable)
      throw new HalError(HalErrorCode.Unsupported, `control '${id}' has no auto mode`, {
        deviceId: this.deviceId,
      });
    if (typeof enabled !== 'boolean') throw new TypeError('enabled must be a boolean');
    this.autos.set(id, enabled);
  }
}
