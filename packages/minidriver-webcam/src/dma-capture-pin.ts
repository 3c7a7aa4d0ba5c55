// The DMA-style capture pin (avshws CCapturePin): clone the leading edge per frame, program HAL mappings, complete clones in order from engine completions.
import {
  FrameFlag,
  FrameStatus as HalFrameStatus,
  createPoolMemory,
  emptyCompletionRecord,
  type CaptureEngine,
  type CompletionRecord,
  type DmaMapping,
} from '@ksemu/hal';
import {
  FrameFlags,
  FrameStatus,
  KsError,
  type Clock,
  type KsTime,
  type ScheduledCallback,
  type DataFormat,
  type KsPin,
  type KsState,
  type Logger,
  type PinDispatch,
} from '@ksemu/ks-core';
import { toKsError } from './hal-failure.js';
import type { HalSession } from './hal-session.js';
import { fourccOfSubtype, halFormatOf } from './video-data-ranges.js';

/** Options of {@link dmaCapturePin}. */
export interface DmaCapturePinOptions {
  /** The shared HAL device; the pin holds a reference from STOP→ACQUIRE to →STOP. */
  readonly session: HalSession;
  /** The KS device clock (the HAL device's time source). */
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Extra `FrameFlags` for a frame the device completed with data, given its presentation time
   * on the device clock (e.g. DataDiscontinuity on the first frame after a TV channel change).
   * Called once per frame on the completion path: must not allocate or throw.
   */
  readonly frameFlags?: (presentationTime: bigint) => number;
}

/** Counters of one capture pin instance since its creation (for tools and tests). */
export interface DmaCaptureStats {
  /** Mappings given to the engine. */
  programmed: number;
  /** Clones completed with data (Ok or Corrupt). */
  completed: number;
  /** Frames the engine reported dropped (their clone went back to the queue). */
  dropped: number;
  /** Clones the engine handed back unused (stop). */
  cancelled: number;
  /** Completions that were overwritten before they were read (never expected). */
  lost: number;
}

/** Per-instance state of a capture pin (the pin context). */
export class DmaCaptureContext {
  readonly stats: DmaCaptureStats = { programmed: 0, completed: 0, dropped: 0, cancelled: 0, lost: 0 };
  /** @internal */ engine: CaptureEngine | undefined;
  /** @internal */ unsubscribe: (() => void) | undefined;
  /** @internal */ acquired = false;
  /** @internal */ readIndex = 0;
  /** @internal */ readonly record: CompletionRecord = emptyCompletionRecord();
  /** @internal */ readonly mapping = { slot: 0, offset: 0, length: 0, cookie: 0 };
  /** @internal */ readonly mappings: DmaMapping[] = [this.mapping];
  /** @internal */ frameBytes = 0;
  /** @internal */ capacity = 0;
  /** @internal */ halStart = 0n;
  /** @internal */ base = -1;
  /** @internal */ offset = 0;
  /** @internal */ onCompletion: ((count: number) => void) | undefined;
  /** @internal */ kick: ScheduledCallback | undefined;
  /** @internal */ halfPeriod = 1n;
  /** @internal */ readonly onKick = (): void => {
    this.kick = undefined;
    this.pin.attemptProcessing();
  };
  constructor(readonly pin: KsPin) {}
}

const DONE_WITH_DATA = new Set<number>([HalFrameStatus.Ok, HalFrameStatus.Corrupt]);

/**
 * The dispatch of a video capture pin over any HAL `CaptureEngine` (synthetic camera, PCIe card,
 * tuner card, UVC). The same path for every device, as in avshws:
 *
 * - STOP→ACQUIRE: takes the HAL device (shared session), registers the pin's frame pool with the
 *   engine and configures the negotiated format. ACQUIRE→STOP gives the device back.
 * - PAUSE→RUN: starts the engine with frame 0 at the queue's start time, so hardware frame n is
 *   due at `start + n × period`, exactly the presentation time ks-core stamps on it.
 * - `process`: while the engine has room, clones the leading edge (one clone per frame) and
 *   programs one mapping covering the whole frame (cookie = slot).
 * - Completions (engine callback): read from the completion ring in order; each completes its
 *   clone with bytes, status (Corrupt → DataError, Truncated, Disconnected), key-frame flag and the
 *   hardware frame index k, from which ks-core stamps presentation time, picture number and drop
 *   count (a gap in k is counted as dropped frames). Dropped or cancelled mappings return their
 *   frame to the queue. Then it asks for processing again to keep the engine fed.
 * - RUN→PAUSE stops the engine (outstanding mappings come back cancelled); hot-unplug completes
 *   outstanding frames with Disconnected (the engine does, and ks-core's removal does the rest).
 */
export function dmaCapturePin(options: DmaCapturePinOptions): PinDispatch<unknown, DmaCaptureContext> {
  const { session, clock, frameFlags } = options;
  const log = options.logger;

  const drain = (ctx: DmaCaptureContext): void => {
    const engine = ctx.engine;
    if (engine === undefined) return;
    const ring = engine.completions;
    const rec = ctx.record;
    const count = ring.count;
    while (ctx.readIndex !== count) {
      const ok = ring.read(ctx.readIndex, rec);
      ctx.readIndex = (ctx.readIndex + 1) >>> 0;
      if (!ok) {
        ctx.stats.lost++;
        continue;
      }
      complete(ctx, rec);
    }
  };

  const complete = (ctx: DmaCaptureContext, rec: CompletionRecord): void => {
    const state = ctx.pin.state;
    if (state !== 'run' && state !== 'pause' && state !== 'acquire') return;
    const clone = ctx.pin.queue.cloneOf(rec.slot);
    if (clone === null) return; // cancelled by ks-core meanwhile (stop, removal)
    switch (rec.status) {
      case HalFrameStatus.Ok:
      case HalFrameStatus.Corrupt:
      case HalFrameStatus.Truncated: {
        const k = frameNumber(ctx, rec);
        const status =
          rec.status === HalFrameStatus.Ok
            ? FrameStatus.Success
            : rec.status === HalFrameStatus.Corrupt
              ? FrameStatus.DataError
              : FrameStatus.Truncated;
        let flags = (rec.flags & FrameFlag.KeyFrame) !== 0 ? FrameFlags.SplicePoint : 0;
        if (frameFlags !== undefined) flags |= frameFlags(rec.presentationTime);
        const bytes = DONE_WITH_DATA.has(rec.status) ? rec.bytesUsed : 0;
        if (DONE_WITH_DATA.has(rec.status)) ctx.stats.completed++;
        clone.complete(bytes, status, flags, k);
        return;
      }
      case HalFrameStatus.Disconnected:
        clone.complete(0, FrameStatus.Disconnected, 0, -1);
        return;
      case HalFrameStatus.Dropped:
        ctx.stats.dropped++;
        clone.cancel();
        return;
      default:
        ctx.stats.cancelled++;
        clone.cancel();
    }
  };

  /**
   * Frame number k counted from the run's start. hal's frame index may start anywhere (just below
   * 2^32 under a near-wrap fault plan): the first completion fixes the base (its index minus the
   * frames lost before it), later ones count from it, so KS picture numbers start at 0 and never
   * wrap (KS_FRAME_INFO.PictureNumber is 64-bit; the device counter is 32-bit).
   */
  const frameNumber = (ctx: DmaCaptureContext, rec: CompletionRecord): number => {
    // Number() of a bigint allocates nothing; device indices stay far below 2^53.
    const index = Number(rec.frameIndex);
    if (index < 0) return -1;
    if (ctx.base < 0) ctx.base = index - rec.dropsBefore;
    return ctx.offset + index - ctx.base;
  };

  const release = async (ctx: DmaCaptureContext): Promise<void> => {
    ctx.kick?.cancel();
    ctx.kick = undefined;
    ctx.unsubscribe?.();
    ctx.unsubscribe = undefined;
    ctx.engine = undefined;
    if (ctx.acquired) {
      ctx.acquired = false;
      await session.release();
    }
  };

  const acquire = async (pin: KsPin, ctx: DmaCaptureContext): Promise<void> => {
    const format = pin.format;
    if (format === undefined || format.kind !== 'video') {
      throw new KsError('InvalidDeviceRequest', `${pin.label}: acquire needs a video format`);
    }
    const opened = await session.acquire();
    ctx.acquired = true;
    try {
      const engine = opened.captureEngine();
      const pool = pin.pool;
      const layout = pool.layout;
      engine.registerPool(
        {
          slotCount: layout.slotCount,
          dataOffset: layout.dataOffset,
          slotStride: layout.slotStride,
          dataLength: layout.dataBytes,
        },
        pool.buffer,
      );
      engine.configure(halFormatOf(format));
      ctx.engine = engine;
      ctx.frameBytes = layout.dataBytes;
      ctx.capacity = Math.min(engine.completions.capacity, layout.slotCount);
      ctx.readIndex = engine.completions.count;
      ctx.onCompletion ??= (): void => {
        drain(ctx);
        ctx.pin.attemptProcessing();
      };
      ctx.unsubscribe = engine.onCompletion(ctx.onCompletion);
    } catch (err) {
      await release(ctx);
      throw toKsError(err, `${pin.label}: cannot set up capture`);
    }
  };

  const stopEngine = async (ctx: DmaCaptureContext): Promise<void> => {
    ctx.kick?.cancel();
    ctx.kick = undefined;
    const engine = ctx.engine;
    if (engine === undefined) return;
    if (engine.state === 'running') {
      try {
        await engine.stop();
      } catch (err) {
        throw toKsError(err, `${ctx.pin.label}: stopping capture failed`);
      }
    }
    drain(ctx);
  };

  return {
    create(pin: KsPin): DmaCaptureContext {
      return new DmaCaptureContext(pin);
    },

    // Pool memory backed by a shared WebAssembly.Memory: hal's renderers fill it with native
    // bulk copies (plain SharedArrayBuffers copy at about half of memcpy speed in V8).
    allocateMemory(_pin: KsPin, byteLength: number): SharedArrayBuffer {
      return createPoolMemory(byteLength);
    },

    setFormat(pin: KsPin, format: DataFormat): void {
      if (format.kind !== 'video' || fourccOfSubtype(format.subtype) === undefined) {
        throw new KsError('NoMatch', `${pin.label}: the device cannot produce this format`);
      }
    },

    async setState(pin: KsPin, to: KsState, from: KsState, ctx: DmaCaptureContext): Promise<void> {
      if (from === 'stop' && to === 'acquire') {
        await acquire(pin, ctx);
      } else if (from === 'pause' && to === 'run') {
        const engine = ctx.engine;
        if (engine === undefined) throw new KsError('InvalidDeviceState', `${pin.label}: no capture engine`);
        const queue = pin.queue;
        const timing = queue.currentTiming;
        // A fresh run on the same clock: hardware frame n is due exactly when ks-core says it is
        // presented. Resuming from PAUSE (the queue kept running) continues the numbering where
        // it stopped, without a gap: the paused time is not counted as dropped frames.
        const fresh = queue.nextFrameIndex === timing.firstIndex && queue.stats.delivered === 0;
        ctx.halStart = fresh && pin.masterClock === clock ? timing.start : clock.now();
        ctx.offset = queue.nextFrameIndex;
        ctx.halfPeriod = timing.period / 2n > 0n ? timing.period / 2n : 1n;
        ctx.base = -1;
        ctx.readIndex = engine.completions.count;
        try {
          await engine.start({ startTime: ctx.halStart });
        } catch (err) {
          throw toKsError(err, `${pin.label}: the device did not start`);
        }
        log.debug({ pin: pin.label, start: ctx.halStart }, 'capture started');
      } else if (from === 'run' && to === 'pause') {
        await stopEngine(ctx);
      } else if (from === 'pause' && to === 'acquire') {
        await stopEngine(ctx);
      } else if (from === 'acquire' && to === 'stop') {
        await release(ctx);
      }
    },

    process(pin: KsPin, ctx: DmaCaptureContext): void {
      const engine = ctx.engine;
      if (engine === undefined || engine.state !== 'running') return;
      const queue = pin.queue;
      const m = ctx.mapping;
      while (engine.outstanding < ctx.capacity) {
        const clone = queue.takeFrame();
        if (clone === null) {
          // The consumer holds every frame. Completions stop once the engine runs dry, so look
          // again half a frame later on the device clock, as avshws's timer kicks a starved pin:
          // frames the consumer returned meanwhile are programmed before the next frame is due.
          if (ctx.kick === undefined)
            ctx.kick = clock.schedule((clock.now() + ctx.halfPeriod) as KsTime, ctx.onKick);
          return;
        }
        m.slot = clone.slot;
        m.offset = 0;
        m.length = ctx.frameBytes;
        m.cookie = clone.slot;
        try {
          engine.program(ctx.mappings);
        } catch (err) {
          // Disconnected or stopping under us: give the frame back; the state change follows.
          clone.cancel();
          log.debug({ err }, 'program refused');
          return;
        }
        ctx.stats.programmed++;
      }
    },

    async close(_pin: KsPin, ctx: DmaCaptureContext): Promise<void> {
      if (ctx.engine !== undefined && ctx.engine.state === 'running') {
        await ctx.engine.stop().catch(() => undefined);
      }
      await release(ctx);
    },
  };
}
