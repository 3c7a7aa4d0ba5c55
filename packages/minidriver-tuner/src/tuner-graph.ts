// openTuner: the graph builder (connects a TV device's filters by matching mediums, as Windows' graph builder does) and typed handles to the tuner, crossbar, decoder and TV audio controls.
import {
  channelByName,
  frequencyTable,
  type FrequencyTableId,
  type ScanRange,
  type ScannedChannel,
  type TvStandardId,
} from '@ksemu/hal';
import {
  KsCategory,
  KsError,
  MediaSubtype,
  MediaType,
  PinName,
  PropSetId,
  type FormatRequest,
  type KsDevice,
  type KsFilter,
  type KsPin,
  type Medium,
} from '@ksemu/ks-core';
import { mediumLinks, type MediumLink } from '@ksemu/minidriver-webcam';
import { ksStandardOf, standardOfKs } from './analog-standard.js';
import { canRoute, crossbarPins, type CrossbarPinInfo } from './crossbar-filter.js';
import { KsStruct, ulongAt } from './ks-struct.js';
import { CrossbarOutput, type TvCard } from './tv-card.js';
import { CrossbarProperty, TunerProperty, TvAudioProperty, VideoDecoderProperty } from './tv-property-ids.js';

/** A physical connection the graph builder made: an output pin of one filter wired to an input pin of another. */
export interface GraphConnection {
  readonly from: { readonly filter: KsFilter; readonly pin: number };
  readonly to: { readonly filter: KsFilter; readonly pin: number };
  readonly medium: Medium;
}

/** What the tuner reports (KSPROPERTY_TUNER_STATUS, decoded). */
export interface TunerStatusReport {
  readonly frequencyHz: number;
  readonly signalStrength: number;
  /** The PLL is still settling after the last change. */
  readonly busy: boolean;
  readonly locked: boolean;
}

/** Typed access to the tuner filter's PROPSETID_TUNER (everything goes through ks-core's property handler). */
export class TunerControl {
  constructor(readonly filter: KsFilter) {}

  /** Tunes to `frequencyHz` (a multiple of the tuning step). @throws RangeError out of range / off step. */
  async setFrequency(frequencyHz: number): Promise<void> {
    await this.filter.properties.set(PropSetId.Tuner, TunerProperty.Frequency, frequencyHz);
  }

  async frequency(): Promise<number> {
    return (await this.filter.properties.get(PropSetId.Tuner, TunerProperty.Frequency)) as number;
  }

  /** Tunes to a channel of a frequency table (e.g. `('us-broadcast', '4')`). @throws RangeError for an unknown channel. */
  async tuneChannel(table: FrequencyTableId, channel: string): Promise<number> {
    const hz = channelByName(frequencyTable(table), channel).videoCarrierHz;
    await this.setFrequency(hz);
    return hz;
  }

  /** Selects the analog standard. @throws KsError NotSupported for a standard the card lacks. */
  async setStandard(standard: TvStandardId): Promise<void> {
    const bit = ksStandardOf(standard);
    if (bit === undefined) throw new KsError('NotSupported', `KS has no standard bit for ${standard}`);
    await this.filter.properties.set(PropSetId.Tuner, TunerProperty.Standard, bit);
  }

  async standard(): Promise<TvStandardId | undefined> {
    return standardOfKs(
      (await this.filter.properties.get(PropSetId.Tuner, TunerProperty.Standard)) as number,
    );
  }

  /** Selects the RF input (0 antenna, 1 cable). */
  async setInput(index: number): Promise<void> {
    await this.filter.properties.set(PropSetId.Tuner, TunerProperty.Input, index);
  }

  async status(): Promise<TunerStatusReport> {
    const s = (await this.filter.properties.get(PropSetId.Tuner, TunerProperty.Status)) as Uint8Array;
    const scan = (await this.filter.properties.get(PropSetId.Tuner, TunerProperty.ScanStatus)) as Uint8Array;
    return {
      frequencyHz: ulongAt(s, 0),
      signalStrength: ulongAt(s, 2),
      busy: ulongAt(s, 3) !== 0,
      locked: ulongAt(scan, 0) === 2,
    };
  }

  /**
   * Scans `range` (default: the card's first frequency table), waiting a settle time per
   * channel on the device clock, and returns the channels that locked; the tuner returns to
   * its frequency afterwards. With a manual clock, advance it while the promise is pending.
   */
  async scan(range?: ScanRange): Promise<ScannedChannel[]> {
    const card = this.filter.context as TvCard;
    return card.withTuner('scanning', (fe) => fe.scan(range));
  }
}

/** Typed access to the crossbar: pin info, can-route and routing (PROPSETID_VIDCAP_CROSSBAR). */
export class CrossbarControl {
  readonly #pins: readonly CrossbarPinInfo[];

  constructor(readonly filter: KsFilter) {
    this.#pins = crossbarPins(filter.context as TvCard);
  }

  /** KSPROPERTY_CROSSBAR_PININFO for one pin. @throws RangeError for a pin that does not exist. */
  pinInfo(direction: 'in' | 'out', index: number): CrossbarPinInfo {
    const p = this.#pins.find((x) => x.direction === direction && x.index === index);
    if (p === undefined) throw new RangeError(`crossbar has no ${direction}put pin ${index}`);
    return p;
  }

  /** KSPROPERTY_CROSSBAR_CAN_ROUTE. */
  canRoute(input: number, output: number): boolean {
    return canRoute(input, output);
  }

  /** Routes `input` to `output` (KSPROPERTY_CROSSBAR_ROUTE). @throws KsError InvalidParameter / RangeError. */
  async route(input: number, output: number): Promise<void> {
    await this.filter.properties.set(
      PropSetId.CrossBar,
      CrossbarProperty.Route,
      new KsStruct(12).ulong(input).ulong(output).ulong(1).bytes,
    );
  }

  /** The input routed to the video decoder output. */
  async videoRoute(): Promise<number> {
    return ulongAt(
      (await this.filter.properties.get(PropSetId.CrossBar, CrossbarProperty.Route)) as Uint8Array,
      0,
    );
  }
}

/** Typed access to the video decoder (PROPSETID_VIDCAP_VIDEODECODER). */
export class VideoDecoderControl {
  constructor(readonly filter: KsFilter) {}

  async status(): Promise<{ lines: number; locked: boolean }> {
    const s = (await this.filter.properties.get(
      PropSetId.VideoDecoder,
      VideoDecoderProperty.Status,
    )) as Uint8Array;
    return { lines: ulongAt(s, 0), locked: ulongAt(s, 1) !== 0 };
  }
}

/** Typed access to TV audio (PROPSETID_VIDCAP_TVAUDIO). */
export class TvAudioControl {
  constructor(readonly filter: KsFilter) {}

  /** Selects KS_TVAUDIO_MODE_MONO / _STEREO / _LANG_B (SAP). @throws KsError NotSupported otherwise. */
  async setMode(mode: number): Promise<void> {
    await this.filter.properties.set(PropSetId.TVAudio, TvAudioProperty.Mode, mode);
  }

  async mode(): Promise<number> {
    return (await this.filter.properties.get(PropSetId.TVAudio, TvAudioProperty.Mode)) as number;
  }

  async availableModes(): Promise<number> {
    return (await this.filter.properties.get(
      PropSetId.TVAudio,
      TvAudioProperty.CurrentlyAvailableModes,
    )) as number;
  }
}

/** A built TV graph: its filters, the connections made, a capture pin ready in STOP, and the controls. */
export interface TunerGraph {
  readonly device: KsDevice;
  readonly filters: {
    readonly tuner: KsFilter;
    readonly tvAudio: KsFilter | undefined;
    readonly crossbar: KsFilter;
    readonly decoder: KsFilter;
    readonly capture: KsFilter;
  };
  readonly connections: readonly GraphConnection[];
  /** The capture pin, format set for the current standard; run it and read `frames()`. */
  readonly capturePin: KsPin;
  readonly tuner: TunerControl;
  readonly crossbar: CrossbarControl;
  readonly decoder: VideoDecoderControl;
  readonly tvAudio: TvAudioControl | undefined;
  /** Closes every filter of the graph (stopping the capture pin). Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link openTuner}. */
export interface OpenTunerOptions {
  /** Capture format request; size and rate default to the current standard's, subtype to YUY2. */
  readonly format?: FormatRequest;
}

function hasCategory(device: KsDevice, index: number, category: string): boolean {
  return device.factories[index]!.descriptor.categories.includes(category as never);
}

function isCaptureFactory(device: KsDevice, index: number): boolean {
  return device.factories[index]!.descriptor.pins.some(
    (p) =>
      p.dataFlow === 'out' && p.category === PinName.CAPTURE && p.dataRanges.some((r) => r.kind === 'video'),
  );
}

/**
 * Finds the chain of factories from `start` to a capture factory, following medium links of
 * `kind` video (breadth first, so the shortest wiring wins, as the graph builder's does).
 */
function videoPath(device: KsDevice, links: readonly MediumLink[], start: number): MediumLink[] | undefined {
  const isVideo = (l: MediumLink): boolean => {
    const pin = device.factories[l.from.factory]!.descriptor.pins[l.from.pin]!;
    return pin.dataRanges.some((r) => r.majorType === MediaType.AnalogVideo);
  };
  const queue: Array<{ at: number; path: MediumLink[] }> = [{ at: start, path: [] }];
  const seen = new Set<number>([start]);
  while (queue.length > 0) {
    const { at, path } = queue.shift()!;
    if (at !== start && isCaptureFactory(device, at)) return path;
    for (const l of links) {
      if (l.from.factory !== at || seen.has(l.to.factory) || !isVideo(l)) continue;
      seen.add(l.to.factory);
      queue.push({ at: l.to.factory, path: [...path, l] });
    }
  }
  return undefined;
}

/**
 * The graph builder: finds the tuner filter factory, follows matching mediums from its video
 * output through crossbar and decoder to a capture filter (and from its audio output to TV
 * audio), instantiates every filter on the way, records the connections, and creates the
 * capture pin with the current standard's format. The caller owns the graph: `close()` it.
 * @throws KsError NotFound when the device has no tuner or no medium path to a capture pin;
 *   the filters' and pin's own errors (DeviceBusy …).
 */
export async function openTuner(device: KsDevice, options: OpenTunerOptions = {}): Promise<TunerGraph> {
  const indices = device.factories.map((_, i) => i);
  const tunerIndex = indices.find((i) => hasCategory(device, i, KsCategory.TVTUNER));
  if (tunerIndex === undefined) throw new KsError('NotFound', `device ${device.name} has no TV tuner filter`);
  const links = mediumLinks(device);
  const path = videoPath(device, links, tunerIndex);
  if (path === undefined)
    throw new KsError('NotFound', `no medium path from the tuner of ${device.name} to a capture pin`);
  const audioIndex = indices.find((i) => hasCategory(device, i, KsCategory.TVAUDIO));
  const needed = new Set<number>([tunerIndex, ...path.map((l) => l.to.factory)]);
  if (audioIndex !== undefined) needed.add(audioIndex);
  const filters = new Map<number, KsFilter>();
  const close = async (): Promise<void> => {
    for (const f of [...filters.values()].reverse()) await f.close().catch(() => undefined);
  };
  try {
    for (const i of [...needed].sort((a, b) => a - b)) filters.set(i, await device.createFilter(i));
    const connections: GraphConnection[] = links
      .filter((l) => filters.has(l.from.factory) && filters.has(l.to.factory))
      .map((l) => ({
        from: { filter: filters.get(l.from.factory)!, pin: l.from.pin },
        to: { filter: filters.get(l.to.factory)!, pin: l.to.pin },
        medium: device.factories[l.from.factory]!.descriptor.pins[l.from.pin]!.mediums[0]!,
      }));
    const captureIndex = path[path.length - 1]!.to.factory;
    const crossbarIndex = path
      .map((l) => l.to.factory)
      .find((i) => hasCategory(device, i, KsCategory.CROSSBAR));
    const decoderIndex = path
      .map((l) => l.to.factory)
      .find(
        (i) =>
          i !== captureIndex &&
          i !== crossbarIndex &&
          device.factories[i]!.descriptor.automation?.properties?.some(
            (p) => p.set === PropSetId.VideoDecoder,
          ),
      );
    if (crossbarIndex === undefined || decoderIndex === undefined) {
      throw new KsError('NotFound', `the path from the tuner of ${device.name} has no crossbar or decoder`);
    }
    const capture = filters.get(captureIndex)!;
    const pinId = capture.descriptor.pins.findIndex(
      (p) => p.category === PinName.CAPTURE && p.dataFlow === 'out',
    );
    const card = capture.context as TvCard;
    // Whatever the crossbar routed before, the builder wires the tuner through (as KsTvTune does).
    const crossbar = new CrossbarControl(filters.get(crossbarIndex)!);
    if (card.routes[CrossbarOutput.VideoDecoder] !== 0) await crossbar.route(0, CrossbarOutput.VideoDecoder);
    // Power the tuner now, as the TV tuner filter does when the graph is built: the PLL starts
    // settling on the card's frequency, so the picture can be locked when streaming starts.
    await card.withTuner('powering the tuner', () => undefined);
    const capturePin = await capture.createPin(pinId, {
      format: { subtype: MediaSubtype.YUY2, ...(options.format ?? {}) },
    });
    const tunerFilter = filters.get(tunerIndex)!;
    const audioFilter = audioIndex === undefined ? undefined : filters.get(audioIndex);
    return {
      device,
      filters: {
        tuner: tunerFilter,
        tvAudio: audioFilter,
        crossbar: filters.get(crossbarIndex)!,
        decoder: filters.get(decoderIndex)!,
        capture,
      },
      connections,
      capturePin,
      tuner: new TunerControl(tunerFilter),
      crossbar,
      decoder: new VideoDecoderControl(filters.get(decoderIndex)!),
      tvAudio: audioFilter === undefined ? undefined : new TvAudioControl(audioFilter),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
