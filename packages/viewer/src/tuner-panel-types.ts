// The tuner side of the viewer: what the page shows for a TV tuner and the actions it may request.

/** The tuner as the page shows it (JSON-ready). */
export interface TunerView {
  readonly frequencyHz: number;
  /** Name of the channel at this frequency in the current table, or null between channels. */
  readonly channel: string | null;
  /** Channel names of the current table, in order (for the channel list and up/down). */
  readonly channels: readonly string[];
  readonly standard: string;
  readonly standards: readonly string[];
  readonly input: number;
  readonly inputs: ReadonlyArray<{ readonly index: number; readonly name: string }>;
  readonly locked: boolean;
  readonly settling: boolean;
  /** 0…100 percent. */
  readonly signalStrength: number;
  readonly minFrequencyHz: number;
  readonly maxFrequencyHz: number;
  readonly stepHz: number;
  /** Result of the last scan: channels that locked. */
  readonly scanned: ReadonlyArray<{
    readonly name: string | null;
    readonly frequencyHz: number;
    readonly signalStrength: number;
  }>;
  readonly scanning: boolean;
}

/** A tune action from the page. */
export type TuneAction = 'channel-up' | 'channel-down' | 'frequency' | 'standard' | 'scan' | 'input';

/**
 * The tuner panel behind the viewer. Implementations validate `value` for the action (RangeError
 * / TypeError with a message for the page, nothing changed) and report every change, including
 * lock and signal changes the hardware makes on its own, through `onChange`.
 */
export interface TunerPanel {
  view(): Promise<TunerView>;
  apply(action: TuneAction, value: number | string | undefined): Promise<void>;
  /** Subscribes to changes; returns an unsubscribe function. */
  onChange(listener: (view: TunerView) => void): () => void;
  /**
   * The capture picture of a standard (size and frame interval), when a standard change moves
   * it: the hub then stops the pin, changes standard and format, and restarts.
   * @throws RangeError for an unknown standard.
   */
  pictureOf?(standard: unknown): { width: number; height: number; frameInterval: bigint };
  close(): Promise<void>;
}
