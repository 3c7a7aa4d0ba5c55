// An opened USB UVC camera: claimed interfaces, cached control values with async UVC writes, and the capture engine.
import type { Logger } from 'pino';
import type { CaptureEngine } from '../capture-engine.js';
import type { ControlId, HalDevice, OpenedHalDevice, StillResult } from '../hal-device.js';
import { HalError, HalErrorCode, isHalError } from '../hal-error.js';
import type { Fourcc } from '../pixel-format.js';
import type { UsbTransport } from '../usb/usb-transport.js';
import type { UvcControlValue } from '../uvc/controls.js';
import type { UvcCaptureEngine } from './uvc-capture-engine.js';
import type { UvcBoundControl, UvcControlClient } from './uvc-control-client.js';
import { noSuchControl } from './uvc-control-client.js';
import { AutoExposureMode } from './uvc-control-map.js';

/** What the session tells its device. */
export interface UvcSessionHooks {
  disconnected(reason: HalError): void;
  /** Runs after the transport is closed (interfaces released, kernel driver reattached). */
  closed(): void;
  controlChanged(id: ControlId, value: number): void;
}

interface ControlState {
  readonly bound: UvcBoundControl;
  value: number;
  auto: boolean;
}

/**
 * The {@link OpenedHalDevice} of a {@link UvcCamera}. Owns the transport until `close()`.
 *
 * Controls: the hal contract's `getControl`/`setControl`/`setAuto` are synchronous, USB is not.
 * Values are read with GET_CUR at open and cached; `setControl`/`setAuto` check the request
 * against the capability (RangeError, Busy in auto mode, AccessDenied), update the cache and
 * queue the SET_CUR. A write the device refuses is logged, the cached value is restored and
 * `control-change` reports it; {@link UvcCameraSession.settled} rejects with that failure. Code
 * that wants the device's verdict awaits {@link writeControl}/{@link writeAuto}/{@link readControl},
 * which throw the typed errors (RangeError when the device says out-of-range, HalError otherwise).
 */
export class UvcCameraSession implements OpenedHalDevice {
  readonly device: HalDevice;
  private readonly engine: UvcCaptureEngine;
  private readonly controls = new Map<ControlId, ControlState>();
  private closedFlag = false;
  private disconnected = false;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly unsubscribe: () => void;

  constructor(
    device: HalDevice,
    private readonly transport: UsbTransport,
    private readonly client: UvcControlClient,
    bound: readonly UvcBoundControl[],
    values: ReadonlyMap<ControlId, { value: number; auto: boolean }>,
    engine: (onDisconnect: (reason: HalError) => void) => UvcCaptureEngine,
    private readonly release: () => Promise<void>,
    private readonly logger: Logger,
    private readonly hooks: UvcSessionHooks,
  ) {
    this.device = device;
    for (const b of bound) {
      const v = values.get(b.capability.id);
      this.controls.set(b.capability.id, {
        bound: b,
        value: v?.value ?? b.capability.default,
        auto: v?.auto ?? false,
      });
    }
    this.engine = engine((reason) => this.gone(reason));
    this.unsubscribe = transport.onDisconnect((error) => this.engine.disconnect(error));
  }

  captureEngine(): CaptureEngine {
    this.check();
    return this.engine;
  }

  /** The engine without the state check (the device uses it to report an unplug). */
  captureEngineUnchecked(): UvcCaptureEngine {
    return this.engine;
  }

  getControl(id: ControlId): number {
    this.check();
    return this.state(id).value;
  }

  setControl(id: ControlId, value: number): void {
    this.check();
    const s = this.state(id);
    this.validate(s, value);
    const before = s.value;
    s.value = value;
    if (before !== value) this.hooks.controlChanged(id, value);
    this.queue(
      id,
      () => this.send(s, value),
      () => {
        s.value = before;
        this.hooks.controlChanged(id, before);
      },
    );
  }

  getAuto(id: ControlId): boolean {
    this.check();
    return this.state(id).auto;
  }

  setAuto(id: ControlId, enabled: boolean): void {
    this.check();
    const s = this.state(id);
    this.validateAuto(s, enabled);
    const before = s.auto;
    s.auto = enabled;
    this.queue(
      id,
      () => this.sendAuto(s, enabled),
      () => {
        s.auto = before;
      },
    );
  }

  /** Reads a control from the device (GET_CUR), refreshing the cache. */
  async readControl(id: ControlId): Promise<number> {
    this.check();
    const s = this.state(id);
    await this.chain;
    const v = await this.guard(this.client.getValue(s.bound.entityId, s.bound.binding.def));
    s.value = this.field(s, v);
    return s.value;
  }

  /** Writes a control and waits for the device's answer. Errors as described on the class. */
  async writeControl(id: ControlId, value: number): Promise<void> {
    this.check();
    const s = this.state(id);
    this.validate(s, value);
    await this.chain;
    await this.guard(this.send(s, value));
    if (s.value !== value) {
      s.value = value;
      this.hooks.controlChanged(id, value);
    }
  }

  /** Switches a control's auto mode and waits for the device's answer. */
  async writeAuto(id: ControlId, enabled: boolean): Promise<void> {
    this.check();
    const s = this.state(id);
    this.validateAuto(s, enabled);
    await this.chain;
    await this.guard(this.sendAuto(s, enabled));
    s.auto = enabled;
  }

  /**
   * Resolves when every queued `setControl`/`setAuto` reached the device; rejects with the first
   * failure since the previous `settled()` (and forgets it).
   */
  async settled(): Promise<void> {
    await this.chain;
    const f = this.failure;
    this.failure = undefined;
    if (f !== undefined) throw f;
  }

  /**
   * Takes a method 2 still (see {@link UvcCaptureEngine.captureStill}), from the live stream when
   * the engine is running, else through a stream opened for it.
   */
  async captureStill(
    fourcc: Fourcc,
    width: number,
    height: number,
    target: Uint8Array,
  ): Promise<StillResult> {
    this.check();
    if (!ArrayBuffer.isView(target)) throw new TypeError('target must be a Uint8Array');
    const offered = this.device.capabilities.stills.some(
      (s) => s.fourcc === fourcc && s.sizes.some((z) => z.width === width && z.height === height),
    );
    if (!offered)
      throw new HalError(
        HalErrorCode.Unsupported,
        `${this.device.identity.id}: no still ${fourcc} ${width}x${height}`,
        {
          deviceId: this.device.identity.id,
        },
      );
    const bytesUsed = await this.guard(this.engine.captureStill(fourcc, width, height, target));
    return { bytesUsed, width, height, fourcc };
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    await this.engine.close();
    await this.chain.catch(() => undefined);
    this.unsubscribe();
    await this.release();
    this.hooks.closed();
  }

  private gone(reason: HalError): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.hooks.disconnected(reason);
  }

  private state(id: ControlId): ControlState {
    const s = this.controls.get(id);
    if (s === undefined) throw noSuchControl(this.device.identity.id, id);
    return s;
  }

  private validate(s: ControlState, value: number): void {
    const c = s.bound.capability;
    const id = c.id;
    if (c.readOnly === true)
      throw new HalError(HalErrorCode.AccessDenied, `control '${id}' is read-only`, {
        deviceId: this.device.identity.id,
      });
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new TypeError(`control '${id}' takes an integer, got ${String(value)}`);
    if (value < c.min || value > c.max)
      throw new RangeError(`control '${id}' must be in [${c.min}, ${c.max}], got ${value}`);
    if ((value - c.min) % c.step !== 0)
      throw new RangeError(`control '${id}' must be ${c.min} + k × ${c.step}, got ${value}`);
    if (s.auto)
      throw new HalError(HalErrorCode.Busy, `control '${id}' is in auto mode; turn auto off first`, {
        deviceId: this.device.identity.id,
      });
  }

  private validateAuto(s: ControlState, enabled: boolean): void {
    if (!s.bound.capability.autoCapable)
      throw new HalError(HalErrorCode.Unsupported, `control '${s.bound.capability.id}' has no auto mode`, {
        deviceId: this.device.identity.id,
      });
    if (typeof enabled !== 'boolean') throw new TypeError('enabled must be a boolean');
  }

  private field(s: ControlState, v: UvcControlValue): number {
    const f = s.bound.binding.field;
    return typeof v === 'number' ? v : (v[f ?? ''] ?? 0);
  }

  private send(s: ControlState, value: number): Promise<void> {
    const b = s.bound.binding;
    let v: UvcControlValue = value;
    if (b.field !== undefined) {
      // Compound control (pan/tilt): the other fields keep their cached values.
      const parts: Record<string, number> = {};
      for (const f of b.def.fields) {
        const sibling = [...this.controls.values()].find(
          (o) => o.bound.binding.def === b.def && o.bound.binding.field === f.name,
        );
        parts[f.name] = f.name === b.field ? value : (sibling?.value ?? 0);
      }
      v = parts;
    }
    return this.client.setValue(s.bound.entityId, b.def, v);
  }

  private sendAuto(s: ControlState, enabled: boolean): Promise<void> {
    const auto = s.bound.binding.auto!;
    let v = enabled ? 1 : 0;
    if (auto.name === 'ae-mode') {
      const modes = s.bound.aeModes;
      v = enabled
        ? (modes & AutoExposureMode.aperturePriority) !== 0
          ? AutoExposureMode.aperturePriority
          : AutoExposureMode.auto
        : AutoExposureMode.manual;
    }
    return this.client.setValue(s.bound.autoEntityId ?? s.bound.entityId, auto, v);
  }

  private queue(id: ControlId, op: () => Promise<void>, undo: () => void): void {
    this.chain = this.chain.then(async () => {
      try {
        await this.guard(op());
      } catch (err) {
        undo();
        if (this.failure === undefined) this.failure = err;
        this.logger.warn({ err, control: id }, 'the device refused a control write');
      }
    });
  }

  private async guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (isHalError(err, HalErrorCode.Disconnected)) this.engine.disconnect(err);
      throw err;
    }
  }

  private check(): void {
    if (this.closedFlag)
      throw HalError.invalidState('session call', 'closed', 'open', this.device.identity.id);
    if (this.disconnected) {
      throw new HalError(HalErrorCode.Disconnected, `${this.device.identity.id} is disconnected`, {
        deviceId: this.device.identity.id,
      });
    }
  }
}
