// One capture per device, shared by every page watching it: pin lifecycle, format changes, frame fan-out, properties, stats.
import {
  FrameStatus,
  KsError,
  isKsError,
  SystemClock,
  describeFormat,
  silentLogger,
  type Clock,
  type DataFormat,
  type Frame,
  type FramePool,
  type KsFilter,
  type KsPin,
  type Logger,
  type VideoDataRange,
  type VideoFormat,
} from '@ksemu/ks-core';
import { imageLayout, type Fourcc, type HalDevice } from '@ksemu/hal';
import { describeDevice, fourccOfSubtype, type DeviceDescription } from '@ksemu/minidriver-webcam';
import {
  jsonValue,
  propertyControls,
  propertyKey,
  toPropertyValue,
  type PropertyControlInfo,
  type PropertyTarget,
} from './property-controls.js';
import { ViewerStats, type ViewerStatsSnapshot } from './viewer-stats.js';
import type { ViewRequest } from './view-protocol.js';
import type { TunerPanel } from './tuner-panel-types.js';
import { openViewerDevice, type ViewerDevice } from './viewer-device.js';

/** What a client did with an offered frame: sent it, kept it for later, or dropped one (a newer replaced an older). */
export type FrameOffer = 'sent' | 'pending' | 'skipped';

/** A page connection as the hub sees it (implemented by the server per WebSocket). */
export interface HubClient {
  /**
   * Offers one frame. The client copies what it needs before returning (the slot is released
   * right after) and never holds more than its in-flight window plus one pending frame.
   */
  offerFrame(frame: Frame, format: FrameGeometry, latencyMs: number, drops: number): FrameOffer;
  /** Sends a JSON message. */
  send(message: object): void;
}

/** What the page needs to draw a frame. */
export interface FrameGeometry {
  readonly fourcc: Fourcc;
  readonly width: number;
  readonly height: number;
  /** Byte offset and stride of each plane (from the HAL's image layout). */
  readonly planes: ReadonlyArray<{ readonly offset: number; readonly stride: number }>;
  readonly frameBytes: number;
  readonly fps: number;
  readonly interval: string;
}

/** One format the picker offers: a data range with its sizes and frame intervals. */
export interface FormatChoice {
  readonly range: number;
  readonly fourcc: string;
  readonly sizes: ReadonlyArray<{ readonly width: number; readonly height: number }>;
  readonly intervals: readonly string[];
  readonly default: { readonly width: number; readonly height: number; readonly interval: string };
}

/** Options of {@link CaptureHub.open}. */
export interface CaptureHubOptions {
  readonly hal: HalDevice;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Opens the KS device, its filters and the capture pin (default {@link openViewerDevice}). */
  readonly openDevice?: (
    hal: HalDevice,
    clock: Clock,
    logger: Logger,
  ) => Promise<ViewerDevice> | ViewerDevice;
  /** Stats interval in ms (default 500). */
  readonly statsIntervalMs?: number;
  /** Wall time in ms for rates (default `performance.now`). */
  readonly nowMs?: () => number;
}

type HubState =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'running'; readonly pump: Promise<void>; readonly pool: FramePool }
  | { readonly kind: 'closed' };

/**
 * The shared capture of one device. Clients (browser tabs) come and go; the pin runs while at
 * least one client watches and the user has not pressed stop, and stops (returning every buffer)
 * when the last one leaves or the hub closes. Every frame is offered to every client, which sends
 * it or keeps only the newest one until its page is ready (see ViewerConnection), so a slow
 * browser never builds a queue; frames it never sees are counted as skipped.
 *
 * Control requests (start, stop, format, property, tune) are serialised. Errors: bad requests
 * throw TypeError/RangeError/KsError with a message for the page and change nothing; calls after
 * {@link close} throw an error naming the state.
 */
export class CaptureHub {
  /** The filter with the capture pin. */
  readonly filter: KsFilter;
  readonly pin: KsPin;
  readonly formats: readonly FormatChoice[];
  readonly tuner: TunerPanel | undefined;
  readonly #device: ViewerDevice;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #clients = new Set<HubClient>();
  readonly #properties: Map<string, PropertyTarget>;
  readonly #stats: ViewerStats;
  readonly #description: DeviceDescription;
  readonly #ranges: readonly VideoDataRange[];
  readonly #hal: HalDevice;
  #state: HubState = { kind: 'stopped' };
  #wantRunning = true;
  #geometry: FrameGeometry;
  #chain: Promise<unknown> = Promise.resolve();
  #statsTimer: NodeJS.Timeout;
  #lastPool: FramePool | undefined;
  #unsubscribe: Array<() => void> = [];
  #lastError: string | undefined;
  #snapshot: ViewerStatsSnapshot | undefined;
  #stopping = false;

  private constructor(hal: HalDevice, vd: ViewerDevice, clock: Clock, log: Logger, opts: CaptureHubOptions) {
    this.#hal = hal;
    this.#device = vd;
    this.tuner = vd.tuner;
    this.pin = vd.pin;
    this.filter = vd.filters.find((f) => f.pins().includes(vd.pin)) ?? vd.filters[vd.filters.length - 1]!;
    const pin = vd.pin;
    this.#clock = clock;
    this.#log = log;
    this.#properties = propertyControls(vd.filters);
    this.#description = describeDevice(vd.device);
    this.#ranges = pin.dataRanges.filter((r): r is VideoDataRange => r.kind === 'video');
    this.formats = this.#ranges.map((r, range) => formatChoice(r, range));
    this.#geometry = geometryOf(pin.format as VideoFormat);
    this.#stats = new ViewerStats(opts.nowMs ?? (() => performance.now()));
    vd.filters.forEach((f, index) =>
      this.#unsubscribe.push(
        f.properties.onChange((c) =>
          this.#broadcast({
            type: 'property',
            key: propertyKey(index, c.set, c.id, c.node),
            value: jsonValue(c.value),
            mode: c.mode ?? null,
          }),
        ),
      ),
    );
    if (this.tuner)
      this.#unsubscribe.push(this.tuner.onChange((t) => this.#broadcast({ type: 'tuner', tuner: t })));
    this.#statsTimer = setInterval(() => {
      this.#snapshot = this.#takeSnapshot();
      this.#broadcast({ type: 'stats', stats: this.#snapshot });
    }, opts.statsIntervalMs ?? 500);
    this.#statsTimer.unref();
  }

  /**
   * Opens the device through `options.openDevice` (filters and capture pin with its first
   * format). The pin stays in STOP until a client attaches. The hub owns the device from here.
   * @throws KsError from the device (busy, unsupported), with the device closed again.
   */
  static async open(options: CaptureHubOptions): Promise<CaptureHub> {
    const clock = options.clock ?? new SystemClock();
    const log = (options.logger ?? silentLogger()).child({
      component: 'viewer',
      device: options.hal.identity.id,
    });
    const vd = await (options.openDevice ?? openViewerDevice)(options.hal, clock, log);
    try {
      return new CaptureHub(options.hal, vd, clock, log, options);
    } catch (err) {
      await vd.close().catch(() => undefined);
      throw err;
    }
  }

  /** Whether frames are flowing. */
  get running(): boolean {
    return this.#state.kind === 'running';
  }

  /** Number of attached clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Outstanding slots of the last pool (0 when every buffer is back), or 0 before any capture. */
  get outstanding(): number {
    return this.#lastPool?.outstanding ?? 0;
  }

  /** Current format for the page. */
  get geometry(): FrameGeometry {
    return this.#geometry;
  }

  /** Everything a new page needs: device, graph, formats, properties with values, state, tuner. */
  async initMessage(): Promise<object> {
    const properties: Array<PropertyControlInfo & { value: unknown; mode: string | null }> = [];
    for (const t of this.#properties.values()) {
      let value: unknown = null;
      let mode: string | null = null;
      if (t.info.canGet) {
        try {
          const c = await t.filter.properties.getControl(
            t.set,
            t.id,
            t.node === undefined ? {} : { node: t.node },
          );
          value = jsonValue(c.value);
          mode = c.mode ?? null;
        } catch (err) {
          value = null;
          this.#log.debug({ err, key: t.info.key }, 'property read failed');
        }
      }
      properties.push({ ...t.info, value, mode });
    }
    return {
      type: 'init',
      device: {
        id: this.#hal.identity.id,
        name: this.#hal.identity.name,
        kind: this.#hal.identity.kind,
      },
      graph: this.#description,
      formats: this.formats,
      properties,
      state: this.#stateMessage(),
      tuner: this.tuner ? await this.tuner.view() : null,
      stats: this.stats(),
    };
  }

  /** The statistics of the last interval (rates are per stats interval, so reading does not disturb them). */
  stats(): ViewerStatsSnapshot {
    return (this.#snapshot ??= this.#takeSnapshot());
  }

  #takeSnapshot(): ViewerStatsSnapshot {
    const pool = this.#state.kind === 'running' ? this.#state.pool : this.#lastPool;
    let drops = 0;
    if (this.#state.kind === 'running') {
      try {
        drops = this.pin.queue.stats.dropped;
      } catch {
        drops = 0;
      }
    }
    return this.#stats.snapshot(drops, {
      outstanding: pool?.outstanding ?? 0,
      slots: pool?.slotCount ?? 0,
    });
  }

  /** Adds a client; starts the capture when it is the first and the user wants frames. */
  attach(client: HubClient): Promise<void> {
    this.#requireOpen('attach');
    this.#clients.add(client);
    return this.#serial(() => this.#reconcile());
  }

  /** Removes a client; stops the capture (every buffer back) when it was the last. */
  detach(client: HubClient): Promise<void> {
    if (!this.#clients.delete(client) || this.#state.kind === 'closed') return Promise.resolve();
    return this.#serial(() => this.#reconcile());
  }

  /**
   * Applies one control request from a client. Resolves when applied (and broadcast).
   * @throws TypeError/RangeError for bad values, KsError NotFound for unknown properties or
   *   formats, KsError from the device; nothing changes on a throw.
   */
  handle(request: Exclude<ViewRequest, { type: 'ack' }>): Promise<void> {
    try {
      this.#requireOpen(request.type);
    } catch (err) {
      return Promise.reject(err);
    }
    switch (request.type) {
      case 'start':
        return this.#serial(async () => {
          this.#wantRunning = true;
          await this.#reconcile();
        });
      case 'stop':
        return this.#serial(async () => {
          this.#wantRunning = false;
          await this.#reconcile();
        });
      case 'format':
        return this.#serial(() => this.#setFormat(request));
      case 'set':
        return this.#serial(() => this.#setProperty(request));
      case 'tune': {
        const tuner = this.tuner;
        if (!tuner)
          return Promise.reject(new KsError('NotSupported', `${this.#hal.identity.id} has no tuner`));
        if (request.action === 'standard' && tuner.pictureOf)
          return this.#serial(() => this.#changeStandard(tuner, request.value));
        return this.#serial(() => tuner.apply(request.action, request.value));
      }
    }
  }

  /** Stops the pin (every buffer back), closes the device. Idempotent. */
  close(): Promise<void> {
    clearInterval(this.#statsTimer);
    return this.#serial(async () => {
      if (this.#state.kind === 'closed') return;
      try {
        await this.#stopCapture();
      } finally {
        this.#state = { kind: 'closed' };
        for (const u of this.#unsubscribe) u();
        this.#clients.clear();
        await this.#device.close();
      }
    });
  }

  #requireOpen(operation: string): void {
    if (this.#state.kind === 'closed')
      throw new KsError(
        'InvalidDeviceRequest',
        `viewer ${operation}: the capture hub is closed (needs open)`,
      );
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #reconcile(): Promise<void> {
    const want = this.#wantRunning && this.#clients.size > 0;
    if (want && this.#state.kind === 'stopped') await this.#startCapture();
    else if (!want && this.#state.kind === 'running') await this.#stopCapture();
  }

  async #startCapture(): Promise<void> {
    this.#stats.reset();
    this.#lastError = undefined;
    let pool: FramePool | undefined;
    const off = this.pin.on('acquired', (p) => (pool = p));
    try {
      await this.pin.run();
    } catch (err) {
      await this.pin.stop().catch(() => undefined);
      this.#lastError = (err as Error).message;
      this.#broadcast({ type: 'state', state: this.#stateMessage() });
      throw err;
    } finally {
      off();
    }
    pool ??= this.pin.pool;
    this.#lastPool = pool;
    const stream = this.pin.frames();
    this.#stopping = false;
    const pump = (async () => {
      try {
        for await (const frame of stream) {
          try {
            if (frame.status === FrameStatus.Disconnected) this.#lastError = 'the device was disconnected';
            else this.#deliver(frame);
          } finally {
            frame.release();
          }
        }
      } catch (err) {
        this.#log.warn({ err }, 'frame pump ended with an error');
        this.#lastError = (err as Error).message;
      }
      // The stream ended without a stop from us: the device went away (hot-unplug).
      if (!this.#stopping && this.#state.kind === 'running') {
        this.#lastError ??= 'the capture ended: the device was removed';
        this.#state = { kind: 'stopped' };
        this.#log.warn({ outstanding: pool?.outstanding }, this.#lastError);
        this.#broadcast({ type: 'state', state: this.#stateMessage() });
      }
    })();
    this.#state = { kind: 'running', pump, pool };
    this.#broadcast({ type: 'state', state: this.#stateMessage() });
  }

  async #stopCapture(): Promise<void> {
    const s = this.#state;
    if (s.kind !== 'running') return;
    this.#stopping = true;
    try {
      await this.pin.stop();
    } catch (err) {
      // A removed pin has completed its frames already; anything else is the device's failure to report.
      if (!(isKsError(err) && err.code === 'Disconnected')) throw err;
    }
    await s.pump;
    this.#state = { kind: 'stopped' };
    this.#log.debug({ outstanding: s.pool.outstanding }, 'capture stopped');
    this.#broadcast({ type: 'state', state: this.#stateMessage() });
  }

  #deliver(frame: Frame): void {
    const latency = Number((this.#clock.now() as bigint) - frame.presentationTime) / 1e4;
    this.#stats.recordFrame(Math.max(0, latency));
    if (frame.bytesUsed === 0) return;
    for (const c of this.#clients) {
      const offer = c.offerFrame(frame, this.#geometry, latency, frame.dropCount);
      if (offer === 'skipped') this.#stats.skipped++;
      else if (offer === 'sent') this.#stats.sent++;
    }
  }

  async #setFormat(r: Extract<ViewRequest, { type: 'format' }>): Promise<void> {
    const range = this.#ranges[r.range];
    if (!range) throw new RangeError(`format: no data range ${r.range} (the pin has ${this.#ranges.length})`);
    const request = {
      subtype: range.subtype,
      width: r.width,
      height: r.height,
      frameInterval: BigInt(r.interval) as VideoFormat['frameInterval'],
    };
    const proposal = this.pin.proposeFormat(request);
    if (proposal.status !== 'valid')
      throw new RangeError(
        `format: ${fourccOfSubtype(range.subtype) ?? 'range'} ${r.width}x${r.height} interval ${r.interval} is not offered${proposal.reason ? ` (${proposal.reason})` : ''}`,
      );
    const wasRunning = this.#state.kind === 'running';
    await this.#stopCapture();
    try {
      const format = (await this.pin.setFormat(proposal.format)) as DataFormat;
      if (format.kind !== 'video')
        throw new KsError('NoMatch', `pin format ${describeFormat(format)} is not video`);
      this.#geometry = geometryOf(format);
    } finally {
      this.#broadcast({ type: 'state', state: this.#stateMessage() });
      if (wasRunning) await this.#reconcile();
    }
  }

  /** A standard with another picture size needs the pin stopped and its format changed to follow. */
  async #changeStandard(tuner: TunerPanel, standard: number | string | undefined): Promise<void> {
    const picture = tuner.pictureOf!(standard);
    const current = this.pin.format as VideoFormat;
    const same =
      current.width === picture.width &&
      current.height === picture.height &&
      (current.frameInterval as bigint) === picture.frameInterval;
    if (same) return tuner.apply('standard', standard);
    const wasRunning = this.#state.kind === 'running';
    await this.#stopCapture();
    try {
      await tuner.apply('standard', standard);
      const format = (await this.pin.setFormat({
        subtype: current.subtype,
        width: picture.width,
        height: picture.height,
        frameInterval: picture.frameInterval as VideoFormat['frameInterval'],
      })) as DataFormat;
      if (format.kind !== 'video')
        throw new KsError('NoMatch', `pin format ${describeFormat(format)} is not video`);
      this.#geometry = geometryOf(format);
    } finally {
      this.#broadcast({ type: 'state', state: this.#stateMessage() });
      if (wasRunning) await this.#reconcile();
    }
  }

  async #setProperty(r: Extract<ViewRequest, { type: 'set' }>): Promise<void> {
    const t = this.#properties.get(r.key);
    if (!t) throw new KsError('NotFound', `unknown property '${r.key}'`);
    if (!t.info.canSet) throw new KsError('InvalidDeviceRequest', `${t.info.name} is read-only`);
    const address = t.node === undefined ? {} : { node: t.node };
    let value;
    if (r.value !== undefined) value = toPropertyValue(t.info.type, t.info.name, r.value);
    else if (t.info.canGet) value = (await t.filter.properties.getControl(t.set, t.id, address)).value;
    else value = toPropertyValue(t.info.type, t.info.name, t.info.default ?? 0);
    const mode = r.mode ?? (t.info.modes?.includes('manual') && r.value !== undefined ? 'manual' : undefined);
    await t.filter.properties.set(t.set, t.id, value, { ...address, ...(mode ? { mode } : {}) });
  }

  #stateMessage(): object {
    return {
      running: this.#state.kind === 'running',
      wanted: this.#wantRunning,
      format: this.#geometry,
      label: `${this.#geometry.fourcc}:${this.#geometry.width}x${this.#geometry.height}@${this.#geometry.fps}`,
      error: this.#lastError ?? null,
    };
  }

  #broadcast(message: object): void {
    for (const c of this.#clients) c.send(message);
  }
}

function geometryOf(format: VideoFormat): FrameGeometry {
  const fourcc = fourccOfSubtype(format.subtype);
  if (!fourcc) throw new KsError('NoMatch', `no FOURCC for ${describeFormat(format)}`);
  const layout = imageLayout(fourcc, format.width, format.height);
  const fps = Math.round((1e7 / Number(format.frameInterval)) * 100) / 100;
  return {
    fourcc,
    width: format.width,
    height: format.height,
    planes: layout.planes.map((p) => ({ offset: p.offset, stride: p.stride })),
    frameBytes: format.imageSize,
    fps,
    interval: String(format.frameInterval),
  };
}

function formatChoice(r: VideoDataRange, range: number): FormatChoice {
  const sizes: Array<{ width: number; height: number }> = [];
  const add = (width: number, height: number): void => {
    if (!sizes.some((s) => s.width === width && s.height === height)) sizes.push({ width, height });
  };
  add(r.defaultWidth, r.defaultHeight);
  add(r.minWidth, r.minHeight);
  add(r.maxWidth, r.maxHeight);
  const intervals = (
    r.frameIntervals ?? [r.minFrameInterval, r.defaultFrameInterval, r.maxFrameInterval]
  ).map(String);
  return {
    range,
    fourcc: fourccOfSubtype(r.subtype) ?? 'unknown',
    sizes,
    intervals: [...new Set(intervals)],
    default: { width: r.defaultWidth, height: r.defaultHeight, interval: String(r.defaultFrameInterval) },
  };
}
