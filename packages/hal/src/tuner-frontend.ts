// The TunerFrontend port: what any RF tuner (synthetic or real) offers a tuner minidriver.
import type { EventSource } from './event-hub.js';
import type { FrequencyTableId } from './frequency-table.js';
import type { OpenedHalDevice } from './hal-device.js';
import type { TvStandardId } from './tv-standard.js';

/** Reception modes. The synthetic tuner does analog TV only. */
export type TunerMode = 'tv' | 'fm-radio';

/** One input of the tuner's RF switch. */
export interface TunerInput {
  readonly index: number;
  readonly name: string;
  /** Antenna (broadcast) or cable feed: selects which frequency tables make sense. */
  readonly kind: 'antenna' | 'cable';
}

/** What a tuner front end can do. Frozen data. */
export interface TunerFrontendCapabilities {
  readonly modes: readonly TunerMode[];
  readonly standards: readonly TvStandardId[];
  readonly minFrequencyHz: number;
  readonly maxFrequencyHz: number;
  /** Tuning granularity: frequencies are multiples of this (62.5 kHz, the classic PLL step). */
  readonly tuningStepHz: number;
  /** Time from `tune()` to lock on a carrier, 100 ns units. */
  readonly settleTime: bigint;
  readonly inputs: readonly TunerInput[];
  /** Channel plans that suit this tuner. */
  readonly frequencyTables: readonly FrequencyTableId[];
}

/** A snapshot of the front end. */
export interface TunerStatus {
  /** The PLL is settled on a carrier of the current standard. */
  readonly locked: boolean;
  /** Still settling after the last `tune()` (lock is not decided yet). */
  readonly settling: boolean;
  /** Signal strength 0…100 (percent); 0 without a carrier or while settling. */
  readonly signalStrength: number;
  /** The frequency the PLL is set to (after snapping to the tuning step), Hz. */
  readonly frequencyHz: number;
  readonly standard: TvStandardId;
  readonly input: number;
  readonly mode: TunerMode;
}

/** A carrier found by `scan`. */
export interface ScannedChannel {
  readonly frequencyHz: number;
  /** Channel name in the scanned table, when the scan used one. */
  readonly name: string | undefined;
  readonly signalStrength: number;
  readonly standard: TvStandardId;
}

/** What to scan: a channel plan (each of its channels tuned in turn) or a raw frequency sweep. */
export type ScanRange =
  | { readonly table: FrequencyTableId }
  | { readonly fromHz: number; readonly toHz: number; readonly stepHz: number };

/** Events of a {@link TunerFrontend}. */
export type TunerFrontendEvents = {
  /** Lock gained or lost (after a settle, a retune, a standard change). */
  'lock-change': [status: TunerStatus];
};

/**
 * An RF tuner front end.
 *
 * States: idle (not settling) ⇄ settling (for `settleTime` after each tune/standard change,
 * measured on the device's TimeSource); after settling it is locked iff a carrier of the
 * current standard sits on the tuned frequency. Lock changes are emitted as `lock-change`.
 *
 * Errors: out-of-range or off-grid frequencies, unknown inputs and bad scan ranges throw
 * RangeError; a standard the device lacks throws HalError(Unsupported); every call on a closed
 * session throws HalError(InvalidState); after a disconnect, HalError(Disconnected).
 */
export interface TunerFrontend extends EventSource<TunerFrontendEvents> {
  readonly capabilities: TunerFrontendCapabilities;
  /** Tunes to `frequencyHz` (snapped to the nearest step); lock is re-decided after settling. */
  tune(frequencyHz: number): void;
  /** Selects the analog standard; re-settles. */
  setStandard(standard: TvStandardId): void;
  /** Selects an input of the RF switch; re-settles. */
  setInput(index: number): void;
  status(): TunerStatus;
  /**
   * Visits every frequency of `range` (default: every channel of the tuner's first table),
   * waiting a settle time at each on the TimeSource, and returns the carriers that locked.
   * Leaves the tuner on the frequency it had before. With a manual time source the caller
   * advances time; the scan progresses as time passes.
   */
  scan(range?: ScanRange): Promise<ScannedChannel[]>;
}

/** An opened device that also has a tuner front end (the synthetic TV tuner card). */
export interface OpenedTunerDevice extends OpenedHalDevice {
  tuner(): TunerFrontend;
}

/** Whether an opened device offers a tuner front end. */
export function hasTuner(session: OpenedHalDevice): session is OpenedTunerDevice {
  return typeof (session as Partial<OpenedTunerDevice>).tuner === 'function';
}
