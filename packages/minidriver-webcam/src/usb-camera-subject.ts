// usbCameraSubject: conformance subjects over a USB UVC camera (real, through usbfs in the VM tier; or hal's fake), paced by the camera's own frames.
import {
  UvcDeviceProvider,
  type CaptureEngine,
  type HalDevice,
  type HalDeviceCapabilities,
  type HalDeviceEvents,
  type HalDeviceIdentity,
  type HalDeviceState,
  type HalOpenOptions,
  type OpenedHalDevice,
  type UsbTransportProvider,
} from '@ksemu/hal';
import type { FormatRequest, ManualClock } from '@ksemu/ks-core';
import type { ConformanceSubject } from '@ksemu/ks-core/testing';
import { createWebcamDevice } from './webcam-device.js';

/** Options of {@link usbCameraSubject}. */
export interface UsbCameraSubjectOptions {
  /**
   * The USB backend to find the camera on, given the test's clock. A real backend returns the
   * same provider every time (the camera is probed once); a fake camera needs the test's clock.
   */
  readonly usb: (clock: ManualClock) => UsbTransportProvider;
  readonly vendorId: number;
  readonly productId: number;
  /** Format every test streams (the suite's `format`). */
  readonly format: FormatRequest;
  /**
   * Pulls the camera, as a cable would (the VM tier: `usbip detach`, or sysfs `remove`). The
   * subject's `unplug` then waits for the HAL device to report the disconnect itself.
   */
  readonly unplug: () => void | Promise<void>;
  /** Plugs the camera back when a test finds it missing (after an earlier suite's hot-unplug). */
  readonly plug?: () => void | Promise<void>;
  /** Wall time a running camera may take to complete its next mapping before `settle` rejects (default 10 000 ms). */
  readonly frameTimeoutMs?: number;
  /** Wall time to wait for the camera to be listed, and for it to report an unplug (default 20 000 ms). */
  readonly findTimeoutMs?: number;
  /** Unbind uvcvideo at open and rebind it at close (default true, as a user's tool does). */
  readonly detachKernelDriver?: boolean;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A UVC camera as the conformance suite's device: delegates everything to the camera and, for
 * `settle`, watches the capture engine of the session the minidriver opened.
 *
 * Why a settle at all: a real camera completes frames on its own schedule (USB transfers reaped
 * on the event loop), while the suite advances a ManualClock by one frame period per tick and
 * then counts frame times. So `settle` waits (in wall time, bounded) for the camera's next
 * completion whenever it has mappings to fill: one device frame per frame time, as the suite
 * expects of any device, without touching the suite's checks. Presentation times are unaffected:
 * hal stamps `startTime + n × interval` from the frame index on the ManualClock's start time.
 */
export class CameraUnderTest implements HalDevice {
  readonly #camera: HalDevice;
  readonly #frameTimeoutMs: number;
  #session: OpenedHalDevice | undefined;
  #engine: CaptureEngine | undefined;
  #seen = -1;
  #waiter: (() => void) | undefined;
  readonly #onCompletion = (): void => {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  };

  /** Borrows `camera` (the caller keeps it); `frameTimeoutMs` bounds each {@link settle}. */
  constructor(camera: HalDevice, frameTimeoutMs: number) {
    this.#camera = camera;
    this.#frameTimeoutMs = frameTimeoutMs;
  }

  get identity(): HalDeviceIdentity {
    return this.#camera.identity;
  }
  get capabilities(): HalDeviceCapabilities {
    return this.#camera.capabilities;
  }
  get state(): HalDeviceState {
    return this.#camera.state;
  }
  on<K extends keyof HalDeviceEvents & string>(
    event: K,
    listener: (...args: HalDeviceEvents[K]) => void,
  ): () => void {
    return this.#camera.on(event, listener);
  }
  off<K extends keyof HalDeviceEvents & string>(
    event: K,
    listener: (...args: HalDeviceEvents[K]) => void,
  ): void {
    this.#camera.off(event, listener);
  }

  async open(options?: HalOpenOptions): Promise<OpenedHalDevice> {
    const session = await this.#camera.open(options);
    this.#session = session;
    return session;
  }

  /**
   * Resolves once the running engine completed a mapping since the last call (at once if it
   * already did, or if it is not running or has nothing programmed, so no frame can be due).
   * @throws Error when the camera completes nothing for `frameTimeoutMs` while it has mappings.
   */
  async settle(): Promise<void> {
    const engine = this.#runningEngine();
    if (engine === undefined) return;
    if (engine.completions.count !== this.#seen) {
      this.#seen = engine.completions.count;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const done = await Promise.race([
        new Promise<true>((resolve) => (this.#waiter = () => resolve(true))),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#frameTimeoutMs))),
      ]);
      if (!done) {
        throw new Error(
          `${this.identity.id} completed no frame in ${this.#frameTimeoutMs} ms with ${engine.outstanding} mapping(s) programmed`,
        );
      }
    } finally {
      clearTimeout(timer);
      this.#waiter = undefined;
    }
    this.#seen = engine.completions.count;
  }

  /**
   * Resolves when the camera reports its disconnect (at once if it already did). A camera with an
   * open session notices by itself (its transfers fail); a closed one only through its provider's
   * listing, so `relist` is called every 100 ms meanwhile.
   * @throws Error after `ms` without one.
   */
  async disconnected(ms: number, relist: () => Promise<unknown>): Promise<void> {
    let gone = false;
    const off = this.#camera.on('disconnect', () => (gone = true));
    try {
      for (let waited = 0; !gone && this.#camera.state !== 'disconnected'; waited += 100) {
        if (waited >= ms) throw new Error(`${this.identity.id} did not report the unplug within ${ms} ms`);
        await pause(100);
        if (this.#camera.state !== 'open') await relist();
      }
    } finally {
      off();
    }
  }

  /** The opened session's engine while it streams with mappings programmed, subscribed once per engine. */
  #runningEngine(): CaptureEngine | undefined {
    if (this.#session === undefined || this.#camera.state !== 'open') return undefined;
    let engine: CaptureEngine;
    try {
      engine = this.#session.captureEngine();
    } catch {
      return undefined; // closed or disconnected meanwhile
    }
    if (engine !== this.#engine) {
      // A new session's engine. The old engine went with its closed session; its listener, which
      // only wakes a waiter, needs no removal (and removing one inside a notify would skip the next).
      this.#engine = engine;
      this.#seen = engine.completions.count;
      engine.onCompletion(this.#onCompletion);
    }
    if (engine.state !== 'running' || engine.outstanding === 0) {
      this.#seen = engine.completions.count;
      return undefined;
    }
    return engine;
  }
}

/**
 * A subject maker for `describeMinidriverConformance`: finds the `vendorId:productId` UVC camera
 * (plugging it back with `plug` when it is missing), wraps it in a {@link CameraUnderTest} and
 * puts the webcam minidriver over it on the test's clock. The camera is opened by the minidriver
 * (STOP→ACQUIRE), exactly as for any user; `unplug` pulls it and waits for the HAL to notice.
 * @throws Error (from the returned maker) when no such camera is listed within `findTimeoutMs`.
 */
export function usbCameraSubject(
  options: UsbCameraSubjectOptions,
): (clock: ManualClock) => Promise<ConformanceSubject> {
  const frameTimeoutMs = options.frameTimeoutMs ?? 10_000;
  const findTimeoutMs = options.findTimeoutMs ?? 20_000;
  // One UvcDeviceProvider per backend: it probes each device once and keeps its UvcCamera.
  const providers = new WeakMap<UsbTransportProvider, UvcDeviceProvider>();

  const find = async (uvc: UvcDeviceProvider): Promise<HalDevice> => {
    let plugged = false;
    for (let waited = 0; ; waited += 100) {
      const camera = (await uvc.list()).find(
        (d) =>
          d.identity.vendorId === options.vendorId &&
          d.identity.productId === options.productId &&
          d.state !== 'disconnected',
      );
      if (camera !== undefined) return camera;
      if (!plugged && options.plug !== undefined) {
        plugged = true;
        await options.plug();
      }
      if (waited >= findTimeoutMs) {
        const id = `${options.vendorId.toString(16)}:${options.productId.toString(16)}`;
        throw new Error(`no ${id} UVC camera listed within ${findTimeoutMs} ms`);
      }
      await pause(100);
    }
  };

  return async (clock) => {
    const usb = options.usb(clock);
    const uvc =
      providers.get(usb) ??
      new UvcDeviceProvider(usb, { detachKernelDriver: options.detachKernelDriver ?? true });
    providers.set(usb, uvc);
    const camera = new CameraUnderTest(await find(uvc), frameTimeoutMs);
    return {
      device: createWebcamDevice(camera, { clock }),
      format: options.format,
      settle: () => camera.settle(),
      unplug: async () => {
        await options.unplug();
        await camera.disconnected(findTimeoutMs, () => uvc.list());
      },
    };
  };
}
