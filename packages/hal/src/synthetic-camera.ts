// The synthetic camera: a deterministic test-pattern webcam with controls, stills and fault plans.
import type { Logger } from 'pino';
import type { CaptureEngine } from './capture-engine.js';
import { DeviceControls } from './device-controls.js';
import type { SyntheticDeviceConfig } from './enumerator.js';
import { EventHub } from './event-hub.js';
import { FaultInjector, type FaultPlan } from './fault-plan.js';
import { HalError, HalErrorCode } from './hal-error.js';
import type {
  ControlCapability,
  ControlId,
  FrameSizeCapability,
  HalDevice,
  HalDeviceCapabilities,
  HalDeviceEvents,
  HalDeviceIdentity,
  HalDeviceState,
  HalOpenOptions,
  OpenedHalDevice,
  StillResult,
  VideoFormatCapability,
} from './hal-device.js';
import { createFrameRenderer } from './mjpeg-renderer.js';
import { isPatternKind, type PatternKind, type PatternOptions } from './pattern.js';
import { validatePatternOptions } from './pattern-renderer.js';
import { ALL_FOURCCS, imageLayout, intervalForRate, type Fourcc, type VideoFormat } from './pixel-format.js';
import { ScheduledCaptureEngine } from './scheduled-capture-engine.js';
import { silentLogger } from './silent-logger.js';
import { SystemTimeSource, type TimeSource } from './time-source.js';

/** Options of a synthetic camera (all optional). */
export interface SyntheticCameraOptions {
  readonly id?: string;
  readonly name?: string;
  readonly serial?: string;
  /** Pattern of the stream; default 'moving-box'. */
  readonly pattern?: PatternKind;
  readonly seed?: number;
  /** Frame number / timecode overlay; default true. */
  readonly overlay?: boolean;
  readonly solidColour?: readonly [number, number, number];
  /** Misbehaviour to show; default none. */
  readonly faults?: FaultPlan;
  readonly logger?: Logger;
}

/** The size ladder the camera offers, smallest first. */
export const CAMERA_SIZES: ReadonlyArray<readonly [number, number]> = Object.freeze([
  [160, 120],
  [176, 144],
  [320, 240],
  [352, 288],
  [640, 360],
  [640, 480],
  [800, 600],
  [960, 540],
  [1024, 768],
  [1280, 720],
  [1280, 960],
  [1600, 1200],
  [1920, 1080],
  [2560, 1440],
  [3840, 2160],
] as const);

/** Frame rates offered, fastest first (sizes above 1080p stop at 60). */
export const CAMERA_RATES: readonly number[] = Object.freeze([120, 60, 50, 30, 25, 24, 15, 10, 5, 1]);

/** Still sizes (method-2 stills at a higher resolution than the stream). */
export const CAMERA_STILL_SIZES: ReadonlyArray<readonly [number, number]> = Object.freeze([
  [2592, 1944],
  [4096, 3072],
] as const);

const ctl = (
  id: ControlId,
  name: string,
  min: number,
  max: number,
  step: number,
  def: number,
  extra: Partial<ControlCapability> = {},
): ControlCapability =>
  Object.freeze({
    id,
    name,
    type: 'integer',
    min,
    max,
    step,
    default: def,
    autoCapable: false,
    autoDefault: false,
    ...extra,
  });

/**
 * Controls of the synthetic camera. Brightness, contrast, saturation, hue and gamma change the
 * rendered colours; the others are stored and read back (and round-trip through auto modes).
 */
export const CAMERA_CONTROLS: readonly ControlCapability[] = Object.freeze([
  ctl('brightness', 'Brightness', -64, 64, 1, 0),
  ctl('contrast', 'Contrast', 0, 200, 1, 100),
  ctl('saturation', 'Saturation', 0, 200, 1, 100),
  ctl('hue', 'Hue', -180, 180, 1, 0, { unit: 'degree' }),
  ctl('gamma', 'Gamma', 50, 300, 1, 100),
  ctl('sharpness', 'Sharpness', 0, 7, 1, 3),
  ctl('white-balance-temperature', 'White Balance Temperature', 2800, 6500, 10, 4600, {
    autoCapable: true,
    autoDefault: true,
    unit: 'K',
  }),
  ctl('backlight-compensation', 'Backlight Compensation', 0, 2, 1, 0),
  ctl('gain', 'Gain', 0, 100, 1, 0),
  ctl('power-line-frequency', 'Power Line Frequency', 0, 2, 1, 2, {
    type: 'menu',
    menu: Object.freeze(['Disabled', '50 Hz', '60 Hz']),
  }),
  ctl('exposure', 'Exposure (Absolute)', 3, 2047, 1, 156, {
    autoCapable: true,
    autoDefault: true,
    unit: '100us',
  }),
  ctl('focus', 'Focus (Absolute)', 0, 250, 5, 0, { autoCapable: true, autoDefault: true }),
  ctl('zoom', 'Zoom (Absolute)', 100, 500, 1, 100),
  ctl('pan', 'Pan (Absolute)', -36000, 36000, 3600, 0, { unit: 'arc-second' }),
  ctl('tilt', 'Tilt (Absolute)', -36000, 36000, 3600, 0, { unit: 'arc-second' }),
  ctl('privacy', 'Privacy', 0, 1, 1, 0, { type: 'boolean' }),
]);

const PICTURE_CONTROLS: ReadonlySet<ControlId> = new Set([
  'brightness',
  'contrast',
  'saturation',
  'hue',
  'gamma',
]);

function cameraCapabilities(): HalDeviceCapabilities {
  const sizes = (fourcc: Fourcc): FrameSizeCapability[] =>
    CAMERA_SIZES.map(([width, height]) => {
      const big = width * height > 1920 * 1080;
      const intervals = CAMERA_RATES.filter((r) => !big || r <= 60).map(intervalForRate);
      imageLayout(fourcc, width, height);
      return Object.freeze({
        width,
        height,
        intervals: Object.freeze(intervals),
        defaultInterval: intervalForRate(30),
      });
    });
  const video: VideoFormatCapability[] = ALL_FOURCCS.map((fourcc) =>
    Object.freeze({ fourcc, sizes: Object.freeze(sizes(fourcc)) }),
  );
  const stillSizes = Object.freeze(
    CAMERA_STILL_SIZES.map(([width, height]) => Object.freeze({ width, height })),
  );
  return Object.freeze({
    video: Object.freeze(video),
    stills: Object.freeze([
      Object.freeze({ fourcc: 'YUY2' as const, sizes: stillSizes }),
      Object.freeze({ fourcc: 'MJPG' as const, sizes: stillSizes }),
    ]),
    controls: CAMERA_CONTROLS,
  });
}

/**
 * A synthetic webcam. Frames are rendered from the configured pattern straight into the
 * pool slots the owner programs, on the TimeSource given to `open` (frame n at
 * start + n × interval). It supports every FOURCC of `pixel-format.ts` at every ladder size,
 * 1–120 fps, still capture, and fault plans. One session at a time (`open` is exclusive).
 */
export class SyntheticCamera implements HalDevice {
  readonly identity: HalDeviceIdentity;
  readonly capabilities: HalDeviceCapabilities;
  private readonly pattern: PatternOptions;
  private readonly faults: FaultInjector;
  private readonly logger: Logger;
  private readonly events: EventHub<HalDeviceEvents>;
  private current: HalDeviceState = 'closed';
  private session: SyntheticCameraSession | undefined;

  /** @throws TypeError/RangeError for bad options (unknown pattern, bad fault plan, …). */
  constructor(options: SyntheticCameraOptions = {}) {
    const pattern = options.pattern ?? 'moving-box';
    if (!isPatternKind(pattern)) throw new TypeError(`unknown pattern ${String(pattern)}`);
    this.pattern = Object.freeze({
      pattern,
      seed: options.seed ?? 0,
      overlay: options.overlay ?? true,
      ...(options.solidColour === undefined ? {} : { solidColour: options.solidColour }),
    });
    validatePatternOptions(this.pattern);
    this.faults = new FaultInjector(options.faults);
    const id = options.id ?? 'synthetic:camera';
    this.identity = Object.freeze({
      id,
      kind: 'camera',
      transport: 'synthetic',
      vendorId: 0x1209,
      productId: 0x0001,
      name: options.name ?? 'ksemu Synthetic Camera',
      manufacturer: 'ksemu',
      serial: options.serial ?? 'SYNCAM0001',
      location: 'synthetic',
    });
    this.capabilities = cameraCapabilities();
    this.logger = (options.logger ?? silentLogger()).child({ device: id });
    this.events = new EventHub(this.logger);
  }

  get state(): HalDeviceState {
    return this.current;
  }

  on<K extends keyof HalDeviceEvents & string>(
    event: K,
    listener: (...args: HalDeviceEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof HalDeviceEvents & string>(
    event: K,
    listener: (...args: HalDeviceEvents[K]) => void,
  ): void {
    this.events.off(event, listener);
  }

  async open(options: HalOpenOptions = {}): Promise<OpenedHalDevice> {
    if (this.current === 'disconnected') {
      throw new HalError(HalErrorCode.Disconnected, `${this.identity.id} is disconnected`, {
        deviceId: this.identity.id,
      });
    }
    if (this.current === 'open')
      throw new HalError(HalErrorCode.Busy, `${this.identity.id} is already open`, {
        deviceId: this.identity.id,
      });
    const logger = (options.logger ?? this.logger).child({ device: this.identity.id, session: true });
    this.session = new SyntheticCameraSession(
      this,
      this.pattern,
      this.faults,
      options.timeSource ?? new SystemTimeSource(),
      logger,
      {
        disconnected: (reason) => this.handleDisconnect(reason),
        closed: () => {
          if (this.current === 'open') this.current = 'closed';
          this.session = undefined;
        },
        controlChanged: (id, value) => this.events.emit('control-change', id, value),
      },
    );
    this.current = 'open';
    return this.session;
  }

  /**
   * Simulates pulling the cable: an open session's engine completes every outstanding mapping
   * `Disconnected`, `disconnect` is emitted, and the device stays `disconnected`.
   */
  unplug(cause?: unknown): void {
    if (this.current === 'disconnected') return;
    if (this.session !== undefined)
      this.session.engineForUnplug().disconnect(cause ?? new Error('unplugged'));
    else
      this.handleDisconnect(
        new HalError(HalErrorCode.Disconnected, `${this.identity.id} unplugged`, {
          cause,
          deviceId: this.identity.id,
        }),
      );
  }

  private handleDisconnect(reason: HalError): void {
    if (this.current === 'disconnected') return;
    this.current = 'disconnected';
    this.events.emit('disconnect', reason);
  }
}

interface SessionHooks {
  disconnected(reason: HalError): void;
  closed(): void;
  controlChanged(id: ControlId, value: number): void;
}

class SyntheticCameraSession implements OpenedHalDevice {
  readonly device: SyntheticCamera;
  private readonly engine: ScheduledCaptureEngine;
  private readonly controls: DeviceControls;
  private closed = false;
  private disconnected = false;
  private stills = 0;

  constructor(
    device: SyntheticCamera,
    private readonly pattern: PatternOptions,
    faults: FaultInjector,
    timeSource: TimeSource,
    logger: Logger,
    private readonly hooks: SessionHooks,
  ) {
    this.device = device;
    this.controls = new DeviceControls(device.capabilities.controls, device.identity.id);
    this.engine = new ScheduledCaptureEngine({
      deviceId: device.identity.id,
      timeSource,
      logger,
      faults,
      createRenderer: (format) => this.rendererFor(format),
      onDisconnect: (reason) => {
        this.disconnected = true;
        hooks.disconnected(reason);
      },
    });
  }

  captureEngine(): CaptureEngine {
    this.check();
    return this.engine;
  }

  engineForUnplug(): ScheduledCaptureEngine {
    return this.engine;
  }

  getControl(id: ControlId): number {
    this.check();
    return this.controls.get(id);
  }

  setControl(id: ControlId, value: number): void {
    this.check();
    const before = this.controls.get(id);
    this.controls.set(id, value);
    if (before === value) return;
    if (PICTURE_CONTROLS.has(id)) this.engine.refreshRenderer();
    this.hooks.controlChanged(id, value);
  }

  getAuto(id: ControlId): boolean {
    this.check();
    return this.controls.getAuto(id);
  }

  setAuto(id: ControlId, enabled: boolean): void {
    this.check();
    this.controls.setAuto(id, enabled);
  }

  async captureStill(
    fourcc: Fourcc,
    width: number,
    height: number,
    target: Uint8Array,
  ): Promise<StillResult> {
    this.check();
    const caps = this.device.capabilities.stills.find((s) => s.fourcc === fourcc);
    if (caps === undefined || !caps.sizes.some((s) => s.width === width && s.height === height)) {
      throw new HalError(HalErrorCode.Unsupported, `no still format ${fourcc} ${width}x${height}`, {
        deviceId: this.device.identity.id,
      });
    }
    if (!ArrayBuffer.isView(target)) throw new TypeError('target must be a Uint8Array');
    const format: VideoFormat = { fourcc, width, height, interval: intervalForRate(30) };
    const renderer = this.rendererFor(format, true);
    const aligned = (target.byteOffset & 3) === 0;
    const dst = aligned ? target : new Uint8Array(renderer.layout.imageSize);
    const bytes = renderer.render(dst, 0, target.length, this.stills, -1);
    if (bytes < 0)
      throw new RangeError(
        `target has ${target.length} bytes; a ${fourcc} ${width}x${height} still needs up to ${renderer.layout.imageSize}`,
      );
    if (!aligned) target.set(dst.subarray(0, bytes));
    this.stills++;
    return { bytesUsed: bytes, width, height, fourcc };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine.close();
    this.hooks.closed();
  }

  private rendererFor(format: VideoFormat, still = false): ReturnType<typeof createFrameRenderer> {
    const sameSize = (s: { width: number; height: number }): boolean =>
      s.width === format.width && s.height === format.height;
    // Streaming formats must also have an interval within the listed rates (any value between
    // the fastest and the slowest is produced; a synthetic device has no discrete clock).
    const supported = still
      ? this.device.capabilities.stills.some((v) => v.fourcc === format.fourcc && v.sizes.some(sameSize))
      : this.device.capabilities.video.some(
          (v) =>
            v.fourcc === format.fourcc &&
            v.sizes.some(
              (s) =>
                sameSize(s) && format.interval >= s.intervals[0]! && format.interval <= s.intervals.at(-1)!,
            ),
        );
    if (!supported) {
      const what = `${format.fourcc} ${format.width}x${format.height}${still ? '' : ` at interval ${format.interval}`}`;
      throw new HalError(HalErrorCode.Unsupported, `${this.device.identity.id} does not produce ${what}`, {
        deviceId: this.device.identity.id,
      });
    }
    return createFrameRenderer(
      {
        ...this.pattern,
        adjustments: {
          brightness: this.controls.get('brightness'),
          contrast: this.controls.get('contrast'),
          saturation: this.controls.get('saturation'),
          hue: this.controls.get('hue'),
          gamma: this.controls.get('gamma'),
        },
      },
      format,
    );
  }

  private check(): void {
    if (this.closed) throw HalError.invalidState('session call', 'closed', 'open', this.device.identity.id);
    if (this.disconnected) {
      throw new HalError(HalErrorCode.Disconnected, `${this.device.identity.id} is disconnected`, {
        deviceId: this.device.identity.id,
      });
    }
  }
}

/** Enumerator factory for `{ kind: 'camera', options: SyntheticCameraOptions }`. */
export function createSyntheticCamera(
  entry: SyntheticDeviceConfig & { readonly id: string },
  logger: Logger,
): SyntheticCamera {
  const options = (entry.options ?? {}) as SyntheticCameraOptions;
  if (typeof options !== 'object' || options === null)
    throw new TypeError('camera options must be an object');
  return new SyntheticCamera({ logger, ...options, id: entry.id });
}
