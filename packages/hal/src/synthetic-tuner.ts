// The synthetic analog TV tuner card: an RF front end over a configurable broadcast, plus the PCIe video path for its picture.
import type { Logger } from 'pino';
import { PCIE_FORMAT_CODES, type DmaEngine } from './dma-engine.js';
import { EventHub } from './event-hub.js';
import { validateFaultPlan, type FaultPlan } from './fault-plan.js';
import { channelByName, frequencyTable, type FrequencyTableId } from './frequency-table.js';
import { HalError, HalErrorCode } from './hal-error.js';
import type { HalOpenOptions, TunerCapability, VideoFormatCapability } from './hal-device.js';
import { mix32 } from './pattern.js';
import { PcieCardDevice, PcieCardSession } from './pcie-card.js';
import type { PcieCaptureEngine } from './pcie-capture-engine.js';
import type { VideoFormat } from './pixel-format.js';
import { silentLogger } from './silent-logger.js';
import { SystemTimeSource, type ScheduledCallback, type TimeSource } from './time-source.js';
import type {
  OpenedTunerDevice,
  ScanRange,
  ScannedChannel,
  TunerFrontend,
  TunerFrontendCapabilities,
  TunerFrontendEvents,
  TunerInput,
  TunerStatus,
} from './tuner-frontend.js';
import { channelTag, NO_SIGNAL_TAG } from './tuner-picture.js';
import { isTvStandardId, TV_STANDARD_IDS, TV_STANDARDS, type TvStandardId } from './tv-standard.js';

/** Channels on the air at one input: names from one frequency table. */
export interface BroadcastSpec {
  readonly table: FrequencyTableId;
  readonly channels: readonly string[];
}

/** Options of {@link SyntheticTuner}. */
export interface SyntheticTunerOptions {
  /** Device id; default `synthetic:tuner`. */
  readonly id?: string;
  /** What the antenna input receives. Default: US broadcast channels 2, 4, 5, 7, 9, 11, 13, 27, 44. */
  readonly antenna?: BroadcastSpec;
  /** What the cable input receives. Default: US cable channels 3, 8, 14, 22, 95, 100. */
  readonly cable?: BroadcastSpec;
  /** Standards the front end supports; default all ksemu knows. */
  readonly standards?: readonly TvStandardId[];
  /** Standard after open; default that of the first antenna channel. */
  readonly standard?: TvStandardId;
  /** Time from tune to lock, 100 ns; default 1 000 000 (100 ms). */
  readonly settleTime?: bigint;
  /** Seed of signal strengths and snow; default 0. */
  readonly seed?: number;
  readonly faults?: FaultPlan;
  readonly ringSize?: number;
  readonly logger?: Logger;
}

/** PLL step of classic TV tuner modules (Philips FI12xx, Temic): 62.5 kHz. */
export const TUNING_STEP_HZ = 62_500;
const MIN_FREQUENCY_HZ = 44_000_000;
const MAX_FREQUENCY_HZ = 870_000_000;
/** How far from a carrier the AFC still pulls in and locks, Hz. */
const LOCK_WINDOW_HZ = 750_000;

interface Carrier {
  readonly ordinal: number;
  readonly input: number;
  readonly name: string;
  readonly frequencyHz: number;
  readonly standard: TvStandardId;
  readonly strength: number;
}

/** Whether a receiver set to `tuned` demodulates a carrier of `sent` (same lines, sound offset, polarity). */
function compatible(tuned: TvStandardId, sent: TvStandardId): boolean {
  const a = TV_STANDARDS[tuned];
  const b = TV_STANDARDS[sent];
  return (
    a.linesPerFrame === b.linesPerFrame &&
    a.soundCarrierOffsetHz === b.soundCarrierOffsetHz &&
    a.visionModulation === b.visionModulation
  );
}

function checkBroadcast(name: string, spec: BroadcastSpec): void {
  if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.channels)) {
    throw new TypeError(`${name} must be { table, channels: string[] }`);
  }
  const table = frequencyTable(spec.table);
  for (const c of spec.channels) channelByName(table, c);
}

/**
 * The synthetic tuner's front end for one open session. Lock is a pure function of the
 * TimeSource's time, the last tune time, the tuned frequency, standard and input, and the
 * broadcast; `lock-change` events come from a callback scheduled at the end of each settle.
 */
export class SyntheticTunerFrontend implements TunerFrontend {
  readonly capabilities: TunerFrontendCapabilities;
  private readonly events: EventHub<TunerFrontendEvents>;
  private frequencyHz: number;
  private standard: TvStandardId;
  private input = 0;
  private tunedAt: bigint;
  private settleTimer: ScheduledCallback | undefined;
  private lastLocked = false;
  private scanning = false;
  private closedState: 'open' | 'closed' | 'disconnected' = 'open';

  constructor(
    private readonly carriers: readonly Carrier[],
    capabilities: TunerFrontendCapabilities,
    initialStandard: TvStandardId,
    private readonly timeSource: TimeSource,
    private readonly deviceId: string,
    logger: Logger,
  ) {
    this.capabilities = capabilities;
    this.events = new EventHub(logger);
    this.standard = initialStandard;
    this.frequencyHz = carriers.find((c) => c.input === 0)?.frequencyHz ?? capabilities.minFrequencyHz;
    this.tunedAt = timeSource.now();
    this.armSettle();
  }

  on<K extends keyof TunerFrontendEvents & string>(
    event: K,
    listener: (...args: TunerFrontendEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof TunerFrontendEvents & string>(
    event: K,
    listener: (...args: TunerFrontendEvents[K]) => void,
  ): void {
    this.events.off(event, listener);
  }

  tune(frequencyHz: number): void {
    this.requireOpen('tune()');
    if (this.scanning)
      throw new HalError(HalErrorCode.Busy, `${this.deviceId}: a scan is running`, {
        deviceId: this.deviceId,
      });
    this.retune(this.checkFrequency(frequencyHz));
  }

  setStandard(standard: TvStandardId): void {
    this.requireOpen('setStandard()');
    if (!isTvStandardId(standard)) {
      throw new RangeError(
        `unknown TV standard '${String(standard)}' (known: ${TV_STANDARD_IDS.join(', ')})`,
      );
    }
    if (!this.capabilities.standards.includes(standard)) {
      throw new HalError(HalErrorCode.Unsupported, `${this.deviceId} does not support ${standard}`, {
        deviceId: this.deviceId,
      });
    }
    this.standard = standard;
    this.retune(this.frequencyHz);
  }

  setInput(index: number): void {
    this.requireOpen('setInput()');
    if (!Number.isInteger(index) || index < 0 || index >= this.capabilities.inputs.length) {
      throw new RangeError(`input ${index} outside 0…${this.capabilities.inputs.length - 1}`);
    }
    this.input = index;
    this.retune(this.frequencyHz);
  }

  /** The standard currently selected (the video format follows it). */
  get currentStandard(): TvStandardId {
    return this.standard;
  }

  status(): TunerStatus {
    this.requireOpen('status()');
    return this.statusAt(this.timeSource.now());
  }

  /** The input tag of a frame due at `time`: the locked channel, or snow. Per-frame; allocates nothing. */
  frameTag(time: bigint): number {
    if (time < this.tunedAt + this.capabilities.settleTime) return NO_SIGNAL_TAG;
    const carrier = this.carrierOnAir();
    return carrier === undefined ? NO_SIGNAL_TAG : channelTag(carrier.ordinal);
  }

  async scan(range?: ScanRange): Promise<ScannedChannel[]> {
    this.requireOpen('scan()');
    if (this.scanning)
      throw new HalError(HalErrorCode.Busy, `${this.deviceId}: a scan is running`, {
        deviceId: this.deviceId,
      });
    const plan = this.scanPlan(range ?? { table: this.capabilities.frequencyTables[0]! });
    const before = this.frequencyHz;
    const found = new Map<number, ScannedChannel>();
    this.scanning = true;
    try {
      for (const [frequencyHz, name] of plan) {
        this.retune(frequencyHz);
        await this.sleep(this.capabilities.settleTime);
        this.requireOpen('scan()');
        const carrier = this.carrierOnAir();
        if (carrier !== undefined && !found.has(carrier.frequencyHz)) {
          found.set(carrier.frequencyHz, {
            frequencyHz: carrier.frequencyHz,
            name: name ?? carrier.name,
            signalStrength: carrier.strength,
            standard: carrier.standard,
          });
        }
      }
    } finally {
      this.scanning = false;
      if (this.closedState === 'open') this.retune(before);
    }
    return [...found.values()];
  }

  /** Session closed or device gone: cancel timers and refuse further calls. */
  shutdown(reason: 'closed' | 'disconnected'): void {
    if (this.closedState !== 'open') return;
    this.closedState = reason;
    this.settleTimer?.cancel();
    this.settleTimer = undefined;
  }

  private statusAt(now: bigint): TunerStatus {
    const settling = now < this.tunedAt + this.capabilities.settleTime;
    const carrier = settling ? undefined : this.carrierOnAir();
    return Object.freeze({
      locked: carrier !== undefined,
      settling,
      signalStrength: carrier?.strength ?? 0,
      frequencyHz: this.frequencyHz,
      standard: this.standard,
      input: this.input,
      mode: 'tv' as const,
    });
  }

  /** The carrier the current settings demodulate (ignoring settle time), if any. */
  private carrierOnAir(): Carrier | undefined {
    for (let i = 0; i < this.carriers.length; i++) {
      const c = this.carriers[i]!;
      if (
        c.input === this.input &&
        Math.abs(c.frequencyHz - this.frequencyHz) <= LOCK_WINDOW_HZ &&
        compatible(this.standard, c.standard)
      ) {
        return c;
      }
    }
    return undefined;
  }

  private retune(frequencyHz: number): void {
    this.frequencyHz = frequencyHz;
    this.tunedAt = this.timeSource.now();
    if (this.lastLocked) {
      this.lastLocked = false;
      this.events.emit('lock-change', this.statusAt(this.tunedAt));
    }
    this.armSettle();
  }

  private armSettle(): void {
    this.settleTimer?.cancel();
    this.settleTimer = this.timeSource.schedule(this.tunedAt + this.capabilities.settleTime, () => {
      this.settleTimer = undefined;
      if (this.closedState !== 'open') return;
      const status = this.statusAt(this.timeSource.now());
      if (status.locked !== this.lastLocked) {
        this.lastLocked = status.locked;
        this.events.emit('lock-change', status);
      }
    });
  }

  private sleep(delay: bigint): Promise<void> {
    return new Promise((resolve) => {
      this.timeSource.schedule(this.timeSource.now() + delay, resolve);
    });
  }

  private checkFrequency(frequencyHz: number): number {
    const { minFrequencyHz, maxFrequencyHz, tuningStepHz } = this.capabilities;
    if (typeof frequencyHz !== 'number' || !Number.isFinite(frequencyHz)) {
      throw new RangeError(`frequency must be a finite number of Hz, got ${String(frequencyHz)}`);
    }
    if (frequencyHz < minFrequencyHz || frequencyHz > maxFrequencyHz) {
      throw new RangeError(`frequency ${frequencyHz} Hz outside ${minFrequencyHz}…${maxFrequencyHz} Hz`);
    }
    return Math.round(frequencyHz / tuningStepHz) * tuningStepHz;
  }

  private scanPlan(range: ScanRange): Array<[number, string | undefined]> {
    if (typeof range !== 'object' || range === null) throw new TypeError('scan range must be an object');
    if ('table' in range) {
      return frequencyTable(range.table).channels.map((c) => [this.checkFrequency(c.videoCarrierHz), c.name]);
    }
    const { fromHz, toHz, stepHz } = range;
    this.checkFrequency(fromHz);
    this.checkFrequency(toHz);
    if (!(toHz >= fromHz) || !Number.isFinite(stepHz) || stepHz < this.capabilities.tuningStepHz) {
      throw new RangeError(`scan needs fromHz <= toHz and stepHz >= ${this.capabilities.tuningStepHz}`);
    }
    const plan: Array<[number, string | undefined]> = [];
    for (let f = fromHz; f <= toHz; f += stepHz) plan.push([this.checkFrequency(f), undefined]);
    return plan;
  }

  private requireOpen(operation: string): void {
    if (this.closedState === 'disconnected') {
      throw new HalError(
        HalErrorCode.Disconnected,
        `${this.deviceId}: ${operation} on a disconnected tuner`,
        {
          deviceId: this.deviceId,
        },
      );
    }
    if (this.closedState === 'closed')
      throw HalError.invalidState(operation, 'closed', 'open', this.deviceId);
  }
}

/** An open tuner card: the card session plus its front end. */
export class TunerCardSession extends PcieCardSession implements OpenedTunerDevice {
  constructor(
    device: SyntheticTuner,
    engine: DmaEngine,
    capture: PcieCaptureEngine,
    onClosed: () => void,
    private readonly frontend: SyntheticTunerFrontend,
  ) {
    super(device, engine, capture, onClosed);
  }

  tuner(): SyntheticTunerFrontend {
    this.requireOpen('tuner()');
    return this.frontend;
  }
}

/**
 * The synthetic analog TV tuner card. Video comes through the same CaptureEngine as the PCIe
 * capture card (the tuner is a card with an RF input): 720x480 @ 30000/1001 under NTSC-M,
 * 720x576 @ 25 under the 625-line standards; the configured size must match the selected
 * standard (else HalError Unsupported). Content: the locked channel's test card with its
 * number burned in, or snow while settling or without a carrier.
 * @throws TypeError/RangeError for bad options.
 */
export class SyntheticTuner extends PcieCardDevice {
  private readonly carriers: readonly Carrier[];
  private readonly frontendCapabilities: TunerFrontendCapabilities;
  private readonly initialStandard: TvStandardId;
  private pendingFrontend: SyntheticTunerFrontend | undefined;
  private activeFrontend: SyntheticTunerFrontend | undefined;

  constructor(options: SyntheticTunerOptions = {}) {
    const antenna = options.antenna ?? {
      table: 'us-broadcast',
      channels: ['2', '4', '5', '7', '9', '11', '13', '27', '44'],
    };
    const cable = options.cable ?? { table: 'us-cable', channels: ['3', '8', '14', '22', '95', '100'] };
    checkBroadcast('antenna', antenna);
    checkBroadcast('cable', cable);
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    const settleTime = options.settleTime ?? 1_000_000n;
    if (typeof settleTime !== 'bigint' || settleTime < 0n)
      throw new RangeError('settleTime must be a bigint >= 0 (100 ns)');
    const standards = options.standards ?? TV_STANDARD_IDS;
    if (standards.length === 0 || !standards.every(isTvStandardId))
      throw new RangeError('standards must be known TV standard ids');
    const faults = options.faults ?? { faults: [] };
    validateFaultPlan(faults);

    const carriers: Carrier[] = [];
    [antenna, cable].forEach((spec, input) => {
      const table = frequencyTable(spec.table);
      for (const name of spec.channels) {
        const c = channelByName(table, name);
        carriers.push({
          ordinal: carriers.length,
          input,
          name: c.name,
          frequencyHz: c.videoCarrierHz,
          standard: c.standard,
          strength: 35 + (mix32(seed, c.videoCarrierHz / 1000, input) % 66),
        });
      }
    });
    const initialStandard = options.standard ?? carriers[0]?.standard ?? standards[0]!;
    if (!standards.includes(initialStandard))
      throw new RangeError(`standard ${initialStandard} is not among the supported ones`);
    const inputs: TunerInput[] = [
      Object.freeze({ index: 0, name: 'Antenna', kind: 'antenna' as const }),
      Object.freeze({ index: 1, name: 'Cable', kind: 'cable' as const }),
    ];
    const frontendCapabilities: TunerFrontendCapabilities = Object.freeze({
      modes: Object.freeze(['tv' as const]),
      standards: Object.freeze([...standards]),
      minFrequencyHz: MIN_FREQUENCY_HZ,
      maxFrequencyHz: MAX_FREQUENCY_HZ,
      tuningStepHz: TUNING_STEP_HZ,
      settleTime,
      inputs: Object.freeze(inputs),
      frequencyTables: Object.freeze([antenna.table, cable.table]),
    });
    const tuner: TunerCapability = Object.freeze({
      standards: frontendCapabilities.standards,
      minFrequencyHz: MIN_FREQUENCY_HZ,
      maxFrequencyHz: MAX_FREQUENCY_HZ,
      tuningStepHz: TUNING_STEP_HZ,
      settleTime,
      frequencyTables: frontendCapabilities.frequencyTables,
    });
    const sizes = [
      ...(standards.some((s) => TV_STANDARDS[s].height === 480)
        ? [{ width: 720, height: 480, intervals: Object.freeze([333_667n]), defaultInterval: 333_667n }]
        : []),
      ...(standards.some((s) => TV_STANDARDS[s].height === 576)
        ? [{ width: 720, height: 576, intervals: Object.freeze([400_000n]), defaultInterval: 400_000n }]
        : []),
    ].map((s) => Object.freeze(s));
    const video: VideoFormatCapability[] = PCIE_FORMAT_CODES.map((fourcc) =>
      Object.freeze({ fourcc, sizes: Object.freeze(sizes) }),
    );
    const id = options.id ?? 'synthetic:tuner';
    super({
      identity: Object.freeze({
        id,
        kind: 'tuner',
        transport: 'synthetic',
        vendorId: 0x1209,
        productId: 0x7e1e,
        name: 'ksemu synthetic analog TV tuner card',
        manufacturer: 'ksemu',
        serial: 'TUNER0001',
        location: 'pci:0000:04:00.0',
      }),
      capabilities: Object.freeze({
        video: Object.freeze(video),
        stills: Object.freeze([]),
        controls: Object.freeze([]),
        tuner,
      }),
      input: { kind: 'tuner', channelNames: carriers.map((c) => c.name), seed },
      faults,
      ringSize: options.ringSize ?? 256,
      logger: options.logger ?? silentLogger(),
    });
    this.carriers = Object.freeze(carriers);
    this.frontendCapabilities = frontendCapabilities;
    this.initialStandard = initialStandard;
  }

  override async open(options: HalOpenOptions = {}): Promise<TunerCardSession> {
    const timeSource = options.timeSource ?? new SystemTimeSource();
    const logger = (options.logger ?? this.model.logger).child({
      device: this.identity.id,
      component: 'tuner',
    });
    const frontend = new SyntheticTunerFrontend(
      this.carriers,
      this.frontendCapabilities,
      this.initialStandard,
      timeSource,
      this.identity.id,
      logger,
    );
    this.pendingFrontend = frontend;
    try {
      const session = await this.openWith(
        { ...options, timeSource },
        {
          frameTag: (time) => frontend.frameTag(time),
          supports: (format) => this.supportsFor(frontend.currentStandard, format),
          onClose: () => frontend.shutdown('closed'),
        },
      );
      this.activeFrontend = frontend;
      return session as TunerCardSession;
    } catch (err) {
      frontend.shutdown('closed');
      throw err;
    } finally {
      this.pendingFrontend = undefined;
    }
  }

  protected override createSession(
    engine: DmaEngine,
    capture: PcieCaptureEngine,
    onClosed: () => void,
  ): PcieCardSession {
    return new TunerCardSession(this, engine, capture, onClosed, this.pendingFrontend!);
  }

  protected override disconnect(reason: HalError): void {
    this.activeFrontend?.shutdown('disconnected');
    super.disconnect(reason);
  }

  private supportsFor(standard: TvStandardId, format: VideoFormat): boolean {
    const s = TV_STANDARDS[standard];
    return (
      PCIE_FORMAT_CODES.includes(format.fourcc) &&
      format.width === s.width &&
      format.height === s.height &&
      format.interval === BigInt(s.frameInterval100ns)
    );
  }
}

// Typed structurally (not as enumerator's SyntheticDeviceFactory) so that this module does not
// import the enumerator, which imports the built-in kinds, which import this module.
/** Enumerator factory for kind 'tuner' (options: {@link SyntheticTunerOptions}). */
export function tunerFactory(
  entry: { readonly id: string; readonly options?: unknown },
  logger: Logger,
): SyntheticTuner {
  return new SyntheticTuner({ ...((entry.options ?? {}) as SyntheticTunerOptions), id: entry.id, logger });
}
