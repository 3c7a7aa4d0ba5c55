// PinHarness: drives one pin of a device on a ManualClock (format, run, tick, collect frames, stop, balance) like GstHarness.
import type { KsDevice } from '../device.js';
import type { KsFilter } from '../filter.js';
import type { FrameStream } from '../frame-stream.js';
import type { FormatRequest } from '../intersection.js';
import type { KsTime } from '../ks-time.js';
import type { ManualClock } from '../manual-clock.js';
import type { KsPin } from '../pin.js';
import { StreamInvariantChecker } from './invariant-checker.js';

/** One captured frame as the harness recorded it (header fields, and the bytes when asked). */
export interface CapturedFrame {
  readonly sequence: number;
  readonly presentationTime: bigint;
  readonly duration: bigint;
  readonly bytesUsed: number;
  readonly status: number;
  readonly dropCount: number;
  readonly flags: number;
  /** A copy of the payload (only with `copyData`; tests only, never the real consumer path). */
  readonly data: Uint8Array | undefined;
}

/** Options of {@link PinHarness.create}. */
export interface PinHarnessOptions {
  /** Filter factory (default 0). */
  readonly factory?: number;
  /** Pin type (default: the first `out` pin). */
  readonly pinId?: number;
  /** Format request (default `{}`); must intersect as valid or adjusted (adjusted is accepted). */
  readonly format?: FormatRequest;
  /** Event-loop turns after each tick (and after `settle`), for promise chains (default 2). */
  readonly settleTurns?: number;
  /**
   * For hardware that produces frames on another thread: resolves once the device has handled
   * every frame due on the clock so far (e.g. a DMA engine's `settle()`). Awaited after each
   * tick, so what a tick yields never depends on how fast that thread runs.
   */
  readonly settle?: () => Promise<void>;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A harness around one pin: creates the filter and pin, sets the format, attaches a
 * {@link StreamInvariantChecker} to every queue the pin allocates, and lets a test run the
 * stream frame time by frame time on the device's ManualClock.
 */
export class PinHarness {
  readonly device: KsDevice;
  readonly clock: ManualClock;
  readonly filter: KsFilter;
  readonly pin: KsPin;
  readonly checker = new StreamInvariantChecker();
  readonly #settle: number;
  readonly #settleDevice: (() => Promise<void>) | undefined;
  #stream: FrameStream | undefined;

  private constructor(
    device: KsDevice,
    clock: ManualClock,
    filter: KsFilter,
    pin: KsPin,
    settle: number,
    settleDevice: (() => Promise<void>) | undefined,
  ) {
    this.device = device;
    this.#settleDevice = settleDevice;
    this.clock = clock;
    this.filter = filter;
    this.pin = pin;
    this.#settle = settle;
    pin.on('acquired', (_pool, queue) => void this.checker.attach(queue));
  }

  /**
   * Builds the harness on `device` (whose clock must be `clock`).
   * @throws KsError from filter/pin creation or format negotiation (NoMatch for an invalid request).
   */
  static async create(
    device: KsDevice,
    clock: ManualClock,
    options: PinHarnessOptions = {},
  ): Promise<PinHarness> {
    const filter = await device.createFilter(options.factory ?? 0);
    const pinId = options.pinId ?? filter.descriptor.pins.findIndex((p) => p.dataFlow === 'out');
    const pin = await filter.createPin(pinId, { format: options.format ?? {}, acceptAdjusted: true });
    return new PinHarness(device, clock, filter, pin, options.settleTurns ?? 2, options.settle);
  }

  /** The frame interval of the pin's format (1 for non-video formats). */
  get period(): KsTime {
    const f = this.pin.format;
    return (f?.kind === 'video' ? f.frameInterval : 1n) as KsTime;
  }

  /** Goes to RUN with a consumer stream attached (attached at ACQUIRE so no frame is missed). */
  async start(): Promise<void> {
    if (this.pin.state === 'stop') await this.pin.setState('acquire');
    this.#stream ??= this.pin.frames();
    await this.pin.setState('run');
  }

  /** Advances the clock by `frames` frame times, one at a time, letting the hardware deliver. */
  async tick(frames = 1): Promise<void> {
    for (let i = 0; i < frames; i++) {
      this.clock.advance(this.period);
      // The device's acknowledgement, not wall time, says the frame time is handled.
      if (this.#settleDevice !== undefined) await this.#settleDevice();
      for (let k = 0; k < this.#settle; k++) await turn();
    }
  }

  /**
   * Ticks until `count` frames were received (or `maxTicks` frame times passed), releasing each.
   * @throws Error when fewer frames arrived.
   */
  async capture(
    count: number,
    options: { copyData?: boolean; maxTicks?: number } = {},
  ): Promise<CapturedFrame[]> {
    const stream = this.#stream;
    if (stream === undefined) throw new Error('PinHarness.capture() needs start() first');
    const out: CapturedFrame[] = [];
    const maxTicks = options.maxTicks ?? count * 4 + 4;
    let ticks = 0;
    while (out.length < count) {
      const f = stream.tryNext();
      if (f === null) {
        if (stream.state !== 'open' || ticks++ >= maxTicks)
          throw new Error(`PinHarness: ${out.length} of ${count} frames after ${ticks} frame times`);
        await this.tick();
        continue;
      }
      this.checker.consumerSaw(f.sequence);
      out.push(
        Object.freeze({
          sequence: f.sequence,
          presentationTime: f.presentationTime,
          duration: f.duration,
          bytesUsed: f.bytesUsed,
          status: f.status,
          dropCount: f.dropCount,
          flags: f.flags,
          data: options.copyData === true ? f.data.slice(0, f.bytesUsed) : undefined,
        }),
      );
      f.release();
    }
    return out;
  }

  /** Stops the pin (draining and releasing what the stream still has) and detaches the stream. */
  async stop(): Promise<void> {
    const stream = this.#stream;
    this.#stream = undefined;
    const stopping = this.pin.setState('stop');
    if (stream !== undefined) {
      for await (const f of stream) {
        this.checker.consumerSaw(f.sequence);
        f.release();
      }
    }
    await stopping;
  }

  /**
   * Stops, closes the device, and asserts buffer balance and stream invariants.
   * @throws StreamInvariantError listing violations.
   */
  async close(): Promise<void> {
    if (this.pin.state !== 'closed' && this.pin.state !== 'removed' && this.pin.state !== 'stop')
      await this.stop();
    this.checker.checkBalance();
    await this.device.close();
    this.checker.assertClean();
  }
}
