// TvCard: the state one TV card's filters share (standard, frequency, input, routes, audio mode), the powered HAL session, lock events and channel-change discontinuities.
import {
  FREQUENCY_TABLES,
  hasTuner,
  isTvStandardId,
  type FrequencyTableId,
  type HalDevice,
  type TunerCapability,
  type TunerFrontend,
  type TunerStatus,
  type TvStandardId,
} from '@ksemu/hal';
import {
  EventSetId,
  FrameFlags,
  KsError,
  type Clock,
  type KsFilter,
  type KsPin,
  type KsTime,
  type Logger,
} from '@ksemu/ks-core';
import { HalSession, toKsError } from '@ksemu/minidriver-webcam';
import { TunerEvent, TvAudioMode } from './tv-property-ids.js';
import { tvMediums, type TvMediums } from './tv-mediums.js';

/** Crossbar pins: inputs 0..4, outputs 0..1 (KS numbers crossbar inputs and outputs separately). */
export const CrossbarInput = Object.freeze({
  VideoTuner: 0,
  VideoComposite: 1,
  VideoSVideo: 2,
  AudioTuner: 3,
  AudioLine: 4,
});
export const CrossbarOutput = Object.freeze({ VideoDecoder: 0, AudioDecoder: 1 });

/**
 * The standard a card starts on: that of the first channel of its first channel plan (what the
 * tuner module powers up on), else NTSC-M, else the first it supports.
 */
function initialStandard(caps: TunerCapability): TvStandardId {
  const table = caps.frequencyTables[0];
  const first =
    table === undefined ? undefined : FREQUENCY_TABLES[table as FrequencyTableId]?.channels[0]?.standard;
  if (first !== undefined && caps.standards.includes(first)) return first;
  if (caps.standards.includes('NTSC-M')) return 'NTSC-M';
  const any = caps.standards.find(isTvStandardId);
  if (any === undefined) throw new KsError('NotSupported', 'the tuner supports no standard hal can digitise');
  return any;
}

/** Options of {@link TvCard}. */
export interface TvCardOptions {
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * What the filters of one analog TV card share. The HAL tuner exists only while the device is
 * open, and tuning only means something while it stays powered (lock takes a settle time), so
 * the first tuner-side request powers the card and it stays powered until the tuner filter
 * closes (the capture pin takes its own reference at STOP→ACQUIRE). Settings are kept here and
 * applied again whenever the device opens.
 */
export class TvCard {
  readonly device: HalDevice;
  readonly session: HalSession;
  readonly caps: TunerCapability;
  readonly mediums: TvMediums;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Selected standard (tuner and decoder agree, as one card's PLL and decoder must). */
  standard: TvStandardId;
  /** Tuned frequency (Hz); `undefined` until the first power-up reports the tuner's own. */
  frequencyHz: number | undefined;
  input = 0;
  tvAudioMode: number = TvAudioMode.Stereo;
  /** Crossbar input routed to each output (`undefined`: not routed). */
  readonly routes: Array<number | undefined> = [0, 3];
  /** Capture pins of this card (to refuse a standard change that would change their picture size). */
  readonly capturePins = new Set<KsPin>();
  /** Tuner filters to signal KSEVENT_TUNER_CHANGED on. */
  readonly tunerFilters = new Set<KsFilter>();
  #powered = false;
  #unwatch: (() => void) | undefined;
  #retunedAt: KsTime | undefined;

  constructor(device: HalDevice, options: TvCardOptions) {
    const caps = device.capabilities.tuner;
    if (caps === undefined) throw new KsError('NotSupported', `${device.identity.id} has no tuner`);
    this.device = device;
    this.caps = caps;
    this.clock = options.clock;
    this.logger = options.logger;
    this.mediums = tvMediums(device.identity.id);
    this.standard = initialStandard(caps);
    this.session = new HalSession(device, { timeSource: options.clock, logger: options.logger });
    this.session.onOpen((opened) => {
      if (!hasTuner(opened)) return;
      const fe = opened.tuner();
      fe.setInput(this.input);
      fe.setStandard(this.standard);
      if (this.frequencyHz === undefined) this.frequencyHz = fe.status().frequencyHz;
      else fe.tune(this.frequencyHz);
      this.#unwatch?.();
      this.#unwatch = fe.on('lock-change', (status) => this.#lockChanged(status));
    });
  }

  /** The tuner front end of the open device. @throws KsError InvalidDeviceState when closed. */
  frontend(): TunerFrontend {
    const opened = this.session.opened;
    if (opened === undefined || !hasTuner(opened)) {
      throw new KsError('InvalidDeviceState', `${this.device.identity.id}: the tuner is not powered`);
    }
    return opened.tuner();
  }

  /** Powers the card (once) and runs `fn` with its front end; HAL failures become KsErrors. */
  async withTuner<T>(what: string, fn: (fe: TunerFrontend) => T | Promise<T>): Promise<T> {
    if (!this.#powered) {
      await this.session.acquire();
      this.#powered = true;
    }
    try {
      return await fn(this.frontend());
    } catch (err) {
      throw toKsError(err, what);
    }
  }

  /** Gives back the tuner's power reference (tuner filter closing). */
  async powerDown(): Promise<void> {
    if (!this.#powered) return;
    this.#powered = false;
    this.#unwatch?.();
    this.#unwatch = undefined;
    await this.session.release();
  }

  /** True while a capture pin is out of STOP. */
  captureBusy(): boolean {
    for (const p of this.capturePins) if (p.state !== 'stop' && p.state !== 'closed') return true;
    return false;
  }

  /** Records a channel change: the first frame presented after it carries DataDiscontinuity. */
  markRetune(): void {
    this.#retunedAt = this.clock.now();
  }

  /** Per-frame hook of the capture pin (no allocation). */
  readonly frameFlags = (presentationTime: bigint): number => {
    const at = this.#retunedAt;
    if (at === undefined || presentationTime < at) return 0;
    this.#retunedAt = undefined;
    return FrameFlags.DataDiscontinuity;
  };

  #lockChanged(status: TunerStatus): void {
    for (const f of this.tunerFilters) {
      try {
        f.events.signal(EventSetId.Tuner, TunerEvent.Changed, status);
      } catch (err) {
        this.logger.debug({ err }, 'tuner event not delivered');
      }
    }
  }
}
