// The synthetic PCIe capture card as a HalDevice: identity, capabilities, and sessions that own a worker-thread DMA engine.
import type { Logger } from 'pino';
import type { CaptureEngine } from './capture-engine.js';
import { PCIE_FORMAT_CODES, DmaEngine, type DmaVideoInput } from './dma-engine.js';
import { EventHub } from './event-hub.js';
import { FaultInjector, validateFaultPlan, type FaultPlan } from './fault-plan.js';
import { HalError, HalErrorCode } from './hal-error.js';
import type {
  ControlId,
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
import { isPatternKind, type PatternKind } from './pattern.js';
import { PcieCaptureEngine } from './pcie-capture-engine.js';
import type { PcieRegisters } from './pcie-registers.js';
import type { Fourcc, VideoFormat } from './pixel-format.js';
import { silentLogger } from './silent-logger.js';
import { SystemTimeSource } from './time-source.js';

/** Frame sizes of the card, as a typical HDMI/SDI capture card lists them. */
const CARD_SIZES: ReadonlyArray<readonly [number, number]> = [
  [640, 480],
  [720, 480],
  [720, 576],
  [1280, 720],
  [1920, 1080],
  [3840, 2160],
];
/** Frame intervals (100 ns), fastest first: 60, 59.94, 50, 30, 29.97, 25, 24 fps. */
const CARD_INTERVALS: readonly bigint[] = [
  166_667n,
  166_833n,
  200_000n,
  333_333n,
  333_667n,
  400_000n,
  416_667n,
];

/** Options of {@link SyntheticPcieCard}. */
export interface SyntheticPcieCardOptions {
  /** Device id; default `synthetic:pcie`. */
  readonly id?: string;
  /** Test pattern on the card's input; default 'smpte-bars'. */
  readonly pattern?: PatternKind;
  /** Seed of seeded patterns; default 0. */
  readonly seed?: number;
  /** Frame-number/timecode overlay; default true. */
  readonly overlay?: boolean;
  /** Misbehaviour on purpose; default none. */
  readonly faults?: FaultPlan;
  /** Descriptors in the ring (power of two ≤ 4096); bounds outstanding mappings. Default 256. */
  readonly ringSize?: number;
  readonly logger?: Logger;
}

/** Internal description of a card-like device (the plain capture card, the TV tuner card). */
export interface PcieCardModel {
  readonly identity: HalDeviceIdentity;
  readonly capabilities: HalDeviceCapabilities;
  readonly input: DmaVideoInput;
  readonly faults: FaultPlan;
  readonly ringSize: number;
  readonly logger: Logger;
}

/** Session extras a card-based device adds (the tuner uses them to attach its front end). */
export interface PcieSessionHooks {
  readonly frameTag?: (time: bigint) => number;
  readonly supports?: (format: VideoFormat) => boolean;
  readonly onClose?: () => void;
}

function capabilityList(fourccs: readonly Fourcc[]): VideoFormatCapability[] {
  return fourccs.map((fourcc) =>
    Object.freeze({
      fourcc,
      sizes: Object.freeze(
        CARD_SIZES.map(([width, height]) =>
          Object.freeze({
            width,
            height,
            intervals: Object.freeze([...CARD_INTERVALS]),
            defaultInterval: 166_667n,
          }),
        ),
      ),
    }),
  );
}

/** Whether `format` is listed in `capabilities.video` (size and interval exactly). */
export function capabilitiesSupport(capabilities: HalDeviceCapabilities, format: VideoFormat): boolean {
  const f = capabilities.video.find((c) => c.fourcc === format.fourcc);
  const size = f?.sizes.find((s) => s.width === format.width && s.height === format.height);
  return size !== undefined && size.intervals.includes(format.interval);
}

/**
 * A PCIe card device. Listing it costs nothing; `open` launches the DMA engine thread (the
 * card "powers up") and returns a session owning it until `close`. Exclusive: a second open
 * rejects with HalError(Busy); after a disconnect (fault plan or engine death) open rejects
 * with HalError(Disconnected).
 */
export class PcieCardDevice implements HalDevice {
  readonly identity: HalDeviceIdentity;
  readonly capabilities: HalDeviceCapabilities;
  protected readonly model: PcieCardModel;
  protected readonly events: EventHub<HalDeviceEvents>;
  private currentState: HalDeviceState = 'closed';
  private disconnectReason: HalError | undefined;
  /** The fault plan lives with the device (fail-start counts down across sessions). */
  private readonly faults: FaultInjector;

  constructor(model: PcieCardModel) {
    this.model = model;
    this.identity = model.identity;
    this.capabilities = model.capabilities;
    this.events = new EventHub(model.logger);
    this.faults = new FaultInjector(model.faults);
  }

  get state(): HalDeviceState {
    return this.currentState;
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

  open(options: HalOpenOptions = {}): Promise<PcieCardSession> {
    return this.openWith(options, {});
  }

  /** Opens with session hooks (for devices built on the card, such as the tuner). */
  protected async openWith(options: HalOpenOptions, hooks: PcieSessionHooks): Promise<PcieCardSession> {
    const id = this.identity.id;
    if (this.currentState === 'disconnected') {
      throw new HalError(HalErrorCode.Disconnected, `${id} is disconnected`, {
        deviceId: id,
        cause: this.disconnectReason,
      });
    }
    if (this.currentState === 'open')
      throw new HalError(HalErrorCode.Busy, `${id} is already open`, { deviceId: id });
    this.currentState = 'open';
    const logger = (options.logger ?? this.model.logger).child({ device: id });
    let engine: DmaEngine;
    try {
      engine = await DmaEngine.launch({
        input: this.model.input,
        faults: this.model.faults,
        ringSize: this.model.ringSize,
        logger,
        deviceId: id,
      });
    } catch (err) {
      this.currentState = 'closed';
      throw err;
    }
    const capture = new PcieCaptureEngine({
      engine,
      timeSource: options.timeSource ?? new SystemTimeSource(),
      faults: this.faults,
      supports: hooks.supports ?? ((f) => capabilitiesSupport(this.capabilities, f)),
      frameTag: hooks.frameTag,
      onDisconnect: (reason) => this.disconnect(reason),
      deviceId: id,
      logger,
    });
    return this.createSession(engine, capture, () => {
      hooks.onClose?.();
      if (this.currentState === 'open') this.currentState = 'closed';
    });
  }

  /** Makes the session object; devices built on the card override it to add their parts. */
  protected createSession(
    engine: DmaEngine,
    capture: PcieCaptureEngine,
    onClosed: () => void,
  ): PcieCardSession {
    return new PcieCardSession(this, engine, capture, onClosed);
  }

  protected disconnect(reason: HalError): void {
    if (this.currentState === 'disconnected') return;
    this.currentState = 'disconnected';
    this.disconnectReason = reason;
    this.events.emit('disconnect', reason);
  }
}

/**
 * An open card. Owns the DMA engine thread; `close()` stops streaming, shuts the thread down
 * and resolves when it has exited (idempotent). The card has no picture controls and no
 * still pin: those calls throw HalError(NotFound) / HalError(Unsupported).
 */
export class PcieCardSession implements OpenedHalDevice {
  private closed: Promise<void> | undefined;

  constructor(
    readonly device: PcieCardDevice,
    private readonly engine: DmaEngine,
    private readonly capture: PcieCaptureEngine,
    private readonly onClosed: () => void,
  ) {}

  captureEngine(): CaptureEngine {
    this.requireOpen('captureEngine()');
    return this.capture;
  }

  /** The PCIe-specific engine (adds `settle()`), for tests and tools. */
  pcieEngine(): PcieCaptureEngine {
    this.requireOpen('pcieEngine()');
    return this.capture;
  }

  /** BAR0 of the card, for diagnostics and register-level tests (reads have no side effects). */
  get registers(): PcieRegisters {
    return this.engine.registers;
  }

  getControl(id: ControlId): number {
    throw this.noControl(id);
  }

  setControl(id: ControlId, _value: number): void {
    throw this.noControl(id);
  }

  getAuto(_id: ControlId): boolean {
    return false;
  }

  setAuto(id: ControlId, _enabled: boolean): void {
    throw this.noControl(id);
  }

  captureStill(_fourcc: Fourcc, _width: number, _height: number, _target: Uint8Array): Promise<StillResult> {
    return Promise.reject(
      new HalError(HalErrorCode.Unsupported, `${this.device.identity.id} has no still pin`, {
        deviceId: this.device.identity.id,
      }),
    );
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      try {
        await this.capture.close();
      } finally {
        await this.engine.shutdown();
        this.onClosed();
      }
    })();
    return this.closed;
  }

  protected requireOpen(operation: string): void {
    if (this.closed !== undefined)
      throw HalError.invalidState(operation, 'closed', 'open', this.device.identity.id);
  }

  private noControl(id: ControlId): HalError {
    return new HalError(HalErrorCode.NotFound, `${this.device.identity.id} has no control '${String(id)}'`, {
      deviceId: this.device.identity.id,
    });
  }
}

/**
 * The synthetic PCIe capture card: raw formats (PCIE_FORMAT_CODES) from 640x480 to 3840x2160
 * at 24–60 fps, content from the synthetic camera's pattern generator (identical bytes for the
 * same pattern, format, size, seed and frame index).
 * @throws TypeError/RangeError for bad options.
 */
export class SyntheticPcieCard extends PcieCardDevice {
  constructor(options: SyntheticPcieCardOptions = {}) {
    const pattern = options.pattern ?? 'smpte-bars';
    if (!isPatternKind(pattern)) throw new RangeError(`unknown pattern '${String(pattern)}'`);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    const faults = options.faults ?? { faults: [] };
    validateFaultPlan(faults);
    const id = options.id ?? 'synthetic:pcie';
    super({
      identity: Object.freeze({
        id,
        kind: 'capture-card',
        transport: 'synthetic',
        vendorId: 0x1209,
        productId: 0xca9d,
        name: 'ksemu synthetic PCIe capture card',
        manufacturer: 'ksemu',
        serial: 'PCIE0001',
        location: 'pci:0000:03:00.0',
      }),
      capabilities: Object.freeze({
        video: Object.freeze(capabilityList(PCIE_FORMAT_CODES)),
        stills: Object.freeze([]),
        controls: Object.freeze([]),
      }),
      input: { kind: 'pattern', pattern, seed, overlay: options.overlay ?? true },
      faults,
      ringSize: options.ringSize ?? 256,
      logger: options.logger ?? silentLogger(),
    });
  }
}

// Typed structurally (not as enumerator's SyntheticDeviceFactory) so that this module does not
// import the enumerator, which imports the built-in kinds, which import this module.
/** Enumerator factory for kind 'pcie' (options: {@link SyntheticPcieCardOptions}). */
export function pcieCardFactory(
  entry: { readonly id: string; readonly options?: unknown },
  logger: Logger,
): SyntheticPcieCard {
  return new SyntheticPcieCard({
    ...((entry.options ?? {}) as SyntheticPcieCardOptions),
    id: entry.id,
    logger,
  });
}
