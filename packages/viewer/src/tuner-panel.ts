// The viewer's tuner panel over a TV graph: channel up/down, frequency, standard, input, scan, signal and lock.
import {
  channelAtFrequency,
  frequencyTable,
  type FrequencyTable,
  type HalDevice,
  type ScannedChannel,
  type TunerFrontendCapabilities,
  type TvStandardId,
} from '@ksemu/hal';
import { PropSetId } from '@ksemu/ks-core';
import { TunerProperty, pictureOf, type TunerGraph, type TvCard } from '@ksemu/minidriver-tuner';
import type { TuneAction, TunerPanel, TunerView } from './tuner-panel-types.js';

const POLL_MS = 200;

/**
 * A {@link TunerPanel} over the tuner minidriver's graph. Every change goes through the tuner
 * filter's KS properties (frequency, standard, input), so ks-core validates it; lock and signal,
 * which change as the PLL settles, are polled while someone listens. Scans run in the background
 * (the panel reports `scanning`) and leave the tuner where it was.
 */
export class GraphTunerPanel implements TunerPanel {
  readonly #graph: TunerGraph;
  readonly #hal: HalDevice;
  readonly #listeners = new Set<(view: TunerView) => void>();
  #timer: NodeJS.Timeout | undefined;
  #last = '';
  #scanned: Array<{ input: number; channel: ScannedChannel }> = [];
  #scan: Promise<void> | undefined;
  #caps: TunerFrontendCapabilities | undefined;
  #closed = false;
  readonly #offChange: () => void;

  constructor(graph: TunerGraph, hal: HalDevice) {
    this.#graph = graph;
    this.#hal = hal;
    this.#offChange = graph.filters.tuner.properties.onChange(() => void this.#refresh());
  }

  async view(): Promise<TunerView> {
    const caps = await this.#capabilities();
    const t = this.#graph.tuner;
    const status = await t.status();
    const standard = (await t.standard()) ?? caps.standards[0] ?? 'NTSC-M';
    const input = (await this.#graph.filters.tuner.properties.get(
      PropSetId.Tuner,
      TunerProperty.Input,
    )) as number;
    const table = this.#table(input);
    const scanned = this.#scanned.filter((s) => s.input === input).map((s) => s.channel);
    return {
      frequencyHz: status.frequencyHz,
      channel: channelAtFrequency(table, status.frequencyHz)?.name ?? null,
      channels: table.channels.map((c) => c.name),
      standard,
      standards: caps.standards,
      input,
      inputs: caps.inputs.map((i) => ({ index: i.index, name: i.name })),
      locked: status.locked,
      settling: status.busy,
      signalStrength: status.signalStrength,
      minFrequencyHz: caps.minFrequencyHz,
      maxFrequencyHz: caps.maxFrequencyHz,
      stepHz: caps.tuningStepHz,
      scanned: scanned.map((c) => ({
        name: c.name ?? null,
        frequencyHz: c.frequencyHz,
        signalStrength: c.signalStrength,
      })),
      scanning: this.#scan !== undefined,
    };
  }

  async apply(action: TuneAction, value: number | string | undefined): Promise<void> {
    const t = this.#graph.tuner;
    switch (action) {
      case 'channel-up':
      case 'channel-down': {
        const v = await this.view();
        const table = this.#table(v.input);
        // After a scan, up/down walks the channels found (as a TV's memory does); before, the whole plan.
        const plan =
          v.scanned.length > 0
            ? v.scanned.map((c) => c.frequencyHz)
            : table.channels.map((c) => c.videoCarrierHz);
        const sorted = [...plan].sort((a, b) => a - b);
        const next =
          action === 'channel-up'
            ? (sorted.find((f) => f > v.frequencyHz) ?? sorted[0])
            : ([...sorted].reverse().find((f) => f < v.frequencyHz) ?? sorted[sorted.length - 1]);
        if (next === undefined) throw new RangeError('the channel plan is empty');
        await t.setFrequency(next);
        break;
      }
      case 'frequency': {
        const hz = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
        if (typeof hz !== 'number' || !Number.isInteger(hz))
          throw new TypeError(`frequency must be a whole number of Hz, got ${JSON.stringify(value)}`);
        await t.setFrequency(hz);
        break;
      }
      case 'standard': {
        const caps = await this.#capabilities();
        if (typeof value !== 'string' || !(caps.standards as readonly string[]).includes(value))
          throw new RangeError(
            `standard must be one of ${caps.standards.join(', ')}, got ${JSON.stringify(value)}`,
          );
        await t.setStandard(value as TvStandardId);
        break;
      }
      case 'input': {
        const caps = await this.#capabilities();
        if (typeof value !== 'number' || !caps.inputs.some((i) => i.index === value))
          throw new RangeError(
            `input must be one of ${caps.inputs.map((i) => i.index).join(', ')}, got ${JSON.stringify(value)}`,
          );
        await this.#graph.filters.tuner.properties.set(PropSetId.Tuner, TunerProperty.Input, value);
        break;
      }
      case 'scan': {
        if (this.#scan) throw new RangeError('a scan is already running');
        const input = (await this.#graph.filters.tuner.properties.get(
          PropSetId.Tuner,
          TunerProperty.Input,
        )) as number;
        const table = this.#table(input);
        this.#scan = t
          .scan({ table: table.id })
          .then((found) => {
            this.#scanned = [
              ...this.#scanned.filter((s) => s.input !== input),
              ...found.map((channel) => ({ input, channel })),
            ];
          })
          .catch(() => undefined)
          .finally(() => {
            this.#scan = undefined;
            void this.#refresh();
          });
        break;
      }
    }
    await this.#refresh();
  }

  onChange(listener: (view: TunerView) => void): () => void {
    this.#listeners.add(listener);
    this.#timer ??= setInterval(() => void this.#refresh(), POLL_MS);
    this.#timer.unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  pictureOf(standard: unknown): { width: number; height: number; frameInterval: bigint } {
    const known = this.#hal.capabilities.tuner?.standards ?? [];
    if (typeof standard !== 'string' || !(known as readonly string[]).includes(standard))
      throw new RangeError(`standard must be one of ${known.join(', ')}, got ${JSON.stringify(standard)}`);
    const p = pictureOf(standard as TvStandardId);
    return { width: p.width, height: p.height, frameInterval: p.frameInterval };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#offChange();
    this.#listeners.clear();
    await this.#scan;
  }

  async #capabilities(): Promise<TunerFrontendCapabilities> {
    const card = this.#graph.filters.tuner.context as TvCard;
    return (this.#caps ??= await card.withTuner('reading tuner capabilities', (fe) => fe.capabilities));
  }

  #table(input: number): FrequencyTable {
    const tables = this.#hal.capabilities.tuner?.frequencyTables ?? [];
    const id = tables[input] ?? tables[0];
    if (id === undefined) throw new RangeError(`${this.#hal.identity.id} has no frequency table`);
    return frequencyTable(id);
  }

  async #refresh(): Promise<void> {
    if (this.#closed || this.#listeners.size === 0) return;
    let v: TunerView;
    try {
      v = await this.view();
    } catch {
      return; // the device is going away; the hub reports that through the pin
    }
    const text = JSON.stringify(v);
    if (text === this.#last) return;
    this.#last = text;
    for (const l of this.#listeners) l(v);
  }
}
