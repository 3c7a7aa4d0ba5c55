// A ks-core capture pin as a UvcFrameSource: UVC formats from the pin's data ranges, probe/commit → setFormat/run, pool slots lent to the export, KS camera properties as UVC controls.

import {
  FrameStatus,
  PropSetId,
  imageSize,
  isKsError,
  type Frame,
  type FrameStream,
  type Guid,
  type KsFilter,
  type KsPin,
  type KsTime,
  type ManualClock,
  type VideoDataRange,
} from '@ksemu/ks-core';
import {
  CameraControlProperty,
  VideoProcAmpProperty,
  fourccOfSubtype,
  subtypeOfFourcc,
} from '@ksemu/minidriver-webcam';
import type { Fourcc } from '@ksemu/hal';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type {
  UvcControlBinding,
  UvcFrameFormat,
  UvcFrameSink,
  UvcFrameSource,
  UvcSourceFrame,
} from './uvc-frame-source.js';

/** FOURCCs exported by default: what uvcvideo and every UVC host understand. */
export const DEFAULT_EXPORT_FOURCCS: readonly string[] = Object.freeze(['YUY2', 'NV12', 'MJPG']);

export interface PinFrameSourceOptions {
  /** FOURCCs to export, in descriptor order (default YUY2, NV12, MJPG); others are left out. */
  readonly fourccs?: readonly string[];
  /** Leave out frame rates above this (default: none). */
  readonly maxFps?: number;
  /**
   * Virtual pacing: the pin runs on this manual clock and the source advances it by one frame
   * interval each time the export gave the previous frame back, so every frame reaches the
   * client (nothing dropped) and runs are bit-exact. Without it frames come at the pin's real rate.
   */
  readonly manualClock?: ManualClock;
  readonly logger?: Logger;
}

/** Counters since creation. */
export interface PinFrameSourceStats {
  framesLent: number;
  framesReturned: number;
  /** Frames that came with a non-success status and were returned without being sent. */
  framesSkipped: number;
  runs: number;
}

/** One KS camera property and the UVC control it appears as (single-valued controls only). */
interface ControlRow {
  readonly set: Guid;
  readonly id: number;
  readonly unit: 'camera' | 'processing';
  readonly name: string;
  /** KS ↔ UVC value conversion (exposure: log2 seconds ↔ 100 µs). */
  readonly toUvc?: (ks: number) => number;
  readonly toKs?: (uvc: number) => number;
}

const CONTROL_ROWS: readonly ControlRow[] = [
  {
    set: PropSetId.VideoProcAmp,
    id: VideoProcAmpProperty.Brightness,
    unit: 'processing',
    name: 'brightness',
  },
  { set: PropSetId.VideoProcAmp, id: VideoProcAmpProperty.Contrast, unit: 'processing', name: 'contrast' },
  { set: PropSetId.VideoProcAmp, id: VideoProcAmpProperty.Hue, unit: 'processing', name: 'hue' },
  {
    set: PropSetId.VideoProcAmp,
    id: VideoProcAmpProperty.Saturation,
    unit: 'processing',
    name: 'saturation',
  },
  { set: PropSetId.VideoProcAmp, id: VideoProcAmpProperty.Sharpness, unit: 'processing', name: 'sharpness' },
  { set: PropSetId.VideoProcAmp, id: VideoProcAmpProperty.Gamma, unit: 'processing', name: 'gamma' },
  {
    set: PropSetId.VideoProcAmp,
    id: VideoProcAmpProperty.WhiteBalance,
    unit: 'processing',
    name: 'white-balance-temperature',
  },
  {
    set: PropSetId.VideoProcAmp,
    id: VideoProcAmpProperty.BacklightCompensation,
    unit: 'processing',
    name: 'backlight-compensation',
  },
  { set: PropSetId.VideoProcAmp, id: VideoProcAmpProperty.Gain, unit: 'processing', name: 'gain' },
  {
    set: PropSetId.VideoProcAmp,
    id: VideoProcAmpProperty.PowerlineFrequency,
    unit: 'processing',
    name: 'power-line-frequency',
  },
  {
    set: PropSetId.CameraControl,
    id: CameraControlProperty.Exposure,
    unit: 'camera',
    name: 'exposure-time-absolute',
    // KS exposure is log2 seconds, UVC's 100 µs units (the inverse of usbvideo.sys's mapping).
    toUvc: (k) => Math.round(2 ** k * 10_000),
    toKs: (u) => Math.round(Math.log2(Math.max(u, 1) / 10_000)),
  },
  { set: PropSetId.CameraControl, id: CameraControlProperty.Focus, unit: 'camera', name: 'focus-absolute' },
  { set: PropSetId.CameraControl, id: CameraControlProperty.Iris, unit: 'camera', name: 'iris-absolute' },
  { set: PropSetId.CameraControl, id: CameraControlProperty.Zoom, unit: 'camera', name: 'zoom-absolute' },
  { set: PropSetId.CameraControl, id: CameraControlProperty.Roll, unit: 'camera', name: 'roll-absolute' },
  { set: PropSetId.CameraControl, id: CameraControlProperty.Privacy, unit: 'camera', name: 'privacy' },
];

/** A pool slot lent to the export: one reusable object per slot, so lending allocates nothing. */
class LentFrame implements UvcSourceFrame {
  data: Uint8Array = new Uint8Array(0);
  index = 0;
  frame: Frame | undefined;
  constructor(private readonly owner: PinFrameSource) {}
  release(): void {
    const f = this.frame;
    if (f === undefined) throw new Error('frame released twice');
    this.frame = undefined;
    this.data = EMPTY;
    this.owner.returned(f);
  }
}
const EMPTY = new Uint8Array(0);

/** UVC frame formats of a pin's video data ranges (one per range size), filtered and ordered by FOURCC. */
export function uvcFormatsOfRanges(
  ranges: readonly VideoDataRange[],
  options: Pick<PinFrameSourceOptions, 'fourccs' | 'maxFps'> = {},
): UvcFrameFormat[] {
  const wanted = options.fourccs ?? DEFAULT_EXPORT_FOURCCS;
  const minInterval = options.maxFps ? Math.ceil(1e7 / options.maxFps) - 1 : 0;
  const out: UvcFrameFormat[] = [];
  for (const cc of wanted) {
    for (const r of ranges) {
      if (fourccOfSubtype(r.subtype) !== cc) continue;
      // A range with a size span is exported at its default size (UVC frames are discrete).
      const width = r.minWidth === r.maxWidth ? r.maxWidth : r.defaultWidth;
      const height = r.minHeight === r.maxHeight ? r.maxHeight : r.defaultHeight;
      const all = (r.frameIntervals ?? [r.minFrameInterval, r.maxFrameInterval]).map(Number);
      const allowed = [...new Set(all)].filter((i) => i >= minInterval).sort((a, b) => a - b);
      if (allowed.length === 0) continue;
      const def = Number(r.defaultFrameInterval);
      // The first interval is the UVC default; the rest stay in ascending order.
      const intervals = allowed.includes(def) ? [def, ...allowed.filter((i) => i !== def)] : allowed;
      const mjpeg = cc === 'MJPG';
      out.push({
        type: mjpeg ? 'mjpeg' : 'uncompressed',
        fourcc: cc,
        bitsPerPixel: mjpeg ? 0 : r.bitCount,
        width,
        height,
        intervals: intervals.slice(0, 255),
        maxFrameSize: mjpeg ? (r.maxImageSize ?? width * height * 2) : imageSize(r.subtype, width, height),
      });
    }
  }
  return out;
}

/**
 * Lends the frames of a ks-core capture pin to a UvcFunction. The pin must be in STOP with nothing
 * else consuming it; this object then owns its state: `start` = stop → setFormat → run and a
 * consumer loop that hands each pool slot (a view, never a copy) to the export's sink; the slot goes
 * back to the queue when the export releases it (after the last RET_SUBMIT byte was written).
 * `stop` stops the pin, which resolves once every lent slot is back.
 * Controls: the filter's VideoProcAmp/CameraControl properties (filter-level items) as UVC PU/CT
 * controls; GET_MIN/MAX/RES/DEF come from basic support, GET_CUR/SET_CUR reach the KS property
 * (manual mode). Read-only and multi-valued properties are not exported.
 */
export class PinFrameSource implements UvcFrameSource {
  readonly formats: readonly UvcFrameFormat[];
  readonly controls: readonly UvcControlBinding[];
  readonly stats: PinFrameSourceStats = { framesLent: 0, framesReturned: 0, framesSkipped: 0, runs: 0 };
  readonly #pin: KsPin;
  readonly #log: Logger;
  readonly #clock: ManualClock | undefined;
  readonly #lent = new Map<number, LentFrame>();
  #loop: Promise<void> = Promise.resolve();
  #running = false;
  #outstanding = 0;
  #wake: (() => void) | undefined;

  constructor(filter: KsFilter, pin: KsPin, options: PinFrameSourceOptions = {}) {
    this.#pin = pin;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#clock = options.manualClock;
    const ranges = pin.dataRanges.filter((r): r is VideoDataRange => r.kind === 'video');
    this.formats = uvcFormatsOfRanges(ranges, options);
    if (this.formats.length === 0)
      throw new RangeError(
        `${pin.label} has no data range in ${(options.fourccs ?? DEFAULT_EXPORT_FOURCCS).join('/')}`,
      );
    this.controls = controlBindings(filter, this.#log);
  }

  /** Lent frames not yet returned. */
  get outstanding(): number {
    return this.#outstanding;
  }

  async start(format: UvcFrameFormat, interval: number, sink: UvcFrameSink): Promise<void> {
    if (this.#running) throw new Error(`start() requires state 'stopped', current state is 'running'`);
    const pin = this.#pin;
    if (pin.state !== 'stop') await pin.stop();
    await pin.setFormat({
      subtype: subtypeOfFourcc(format.fourcc as Fourcc),
      width: format.width,
      height: format.height,
      frameInterval: BigInt(interval) as KsTime,
    });
    await pin.run();
    this.#running = true;
    this.stats.runs++;
    const stream = pin.frames();
    this.#log.info(
      { fourcc: format.fourcc, width: format.width, height: format.height, interval },
      'pin running',
    );
    this.#loop = this.#clock
      ? this.#virtualLoop(stream, sink, this.#clock, BigInt(interval))
      : this.#realtimeLoop(stream, sink);
  }

  async stop(): Promise<void> {
    if (!this.#running) throw new Error(`stop() requires state 'running', current state is 'stopped'`);
    this.#running = false;
    this.#wake?.();
    // Resolves when every slot is back: the export releases what it holds as its writes finish.
    await this.#pin.stop();
    await this.#loop;
    this.#log.info({ stats: this.stats }, 'pin stopped');
  }

  /** @internal Called by a lent frame's release. */
  returned(frame: Frame): void {
    frame.release();
    this.#outstanding--;
    this.stats.framesReturned++;
    const w = this.#wake;
    if (w && this.#outstanding === 0) w();
  }

  #lend(frame: Frame, sink: UvcFrameSink): void {
    if (frame.status !== FrameStatus.Success || !this.#running) {
      this.stats.framesSkipped++;
      frame.release();
      return;
    }
    let lent = this.#lent.get(frame.slot);
    if (!lent) {
      lent = new LentFrame(this);
      this.#lent.set(frame.slot, lent);
    }
    lent.frame = frame;
    lent.index = frame.sequence;
    const used = frame.bytesUsed;
    const d = frame.data;
    lent.data = used === d.length ? d : d.subarray(0, used);
    this.#outstanding++;
    this.stats.framesLent++;
    sink(lent);
  }

  async #realtimeLoop(stream: FrameStream, sink: UvcFrameSink): Promise<void> {
    for (;;) {
      const next = await stream.next();
      if (next.done) return;
      this.#lend(next.value, sink);
    }
  }

  async #virtualLoop(
    stream: FrameStream,
    sink: UvcFrameSink,
    clock: ManualClock,
    interval: bigint,
  ): Promise<void> {
    while (this.#running) {
      if (this.#outstanding > 0) {
        await new Promise<void>((r) => (this.#wake = r));
        this.#wake = undefined;
        continue;
      }
      // One frame at a time: a frame already waiting is lent before time moves on.
      let f = stream.tryNext();
      if (f === null) {
        clock.advance(interval);
        f = stream.tryNext();
      }
      if (f === null) {
        // Completion may be a macrotask away (worker-fed pools): look again before stepping on.
        await new Promise<void>((r) => setImmediate(r));
        f = stream.tryNext();
      }
      if (f !== null) {
        this.#lend(f, sink);
        // Render the next frame while this one is on the wire; it waits in the queue until lent.
        if (this.#outstanding > 0 && this.#running) clock.advance(interval);
      }
      // A frame given back at once (the export was not streaming) must not let time race on in
      // one synchronous loop: let the export's stop reach us first.
      if (this.#outstanding === 0) await new Promise<void>((r) => setImmediate(r));
    }
    // Frames delivered after the stop began go straight back.
    for (let f = stream.tryNext(); f !== null; f = stream.tryNext()) f.release();
  }
}

function controlBindings(filter: KsFilter, log: Logger): UvcControlBinding[] {
  const out: UvcControlBinding[] = [];
  const props = filter.properties;
  for (const row of CONTROL_ROWS) {
    if (!props.has(row.set, row.id)) continue;
    const d = props.basicSupport(row.set, row.id);
    if (!d.canGet || !d.canSet || d.type !== 'int32') continue;
    const toUvc = row.toUvc ?? ((v: number) => v);
    const toKs = row.toKs ?? ((v: number) => v);
    const min = toUvc(Number(d.min));
    const max = toUvc(Number(d.max));
    const step = row.toUvc ? 1 : Number(d.step ?? 1);
    const def = toUvc(Number(d.default ?? d.min));
    const what = `${row.name} (KS ${row.set}#${row.id})`;
    out.push({
      unit: row.unit,
      name: row.name,
      min,
      max,
      res: step > 0 ? step : 1,
      def,
      get: async () => toUvc(Number(await props.get(row.set, row.id))),
      set: async (value: number) => {
        try {
          await props.set(row.set, row.id, toKs(value), { mode: 'manual' });
          log.info({ control: row.name, value }, 'control set');
        } catch (err) {
          // The export answers a STALL (out-of-range); the cause stays in the log.
          log.warn(
            { err, control: what, value, code: isKsError(err) ? err.code : undefined },
            'control set refused',
          );
          throw err;
        }
      },
    });
  }
  return out;
}
