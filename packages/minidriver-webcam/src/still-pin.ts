// The still pin: a trigger (VIDEOCONTROL mode Trigger) captures one HAL still image straight into the leading-edge frame.
import type { OpenedHalDevice } from '@ksemu/hal';
import {
  FrameFlags,
  FrameStatus,
  KsError,
  PropSetId,
  type KsPin,
  type KsState,
  type Logger,
  type PinDispatch,
  type PropertySetDescriptor,
} from '@ksemu/ks-core';
import { VideoControlFlag, VideoControlProperty } from './camera-property-ids.js';
import type { HalSession } from './hal-session.js';
import { halFormatOf } from './video-data-ranges.js';

/** Per-instance state of a still pin (the pin context). */
export class StillPinContext {
  /** Stills delivered with data. */
  captured = 0;
  /** Triggers that found no free frame (counted as dropped). */
  missed = 0;
  /** @internal */ acquired = false;
  /** @internal */ chain: Promise<void> = Promise.resolve();
  constructor(readonly pin: KsPin) {}
}

/** Options of {@link stillPin}. */
export interface StillPinOptions {
  readonly session: HalSession;
  readonly logger: Logger;
}

/**
 * Captures one still into the next queued frame. The HAL writes straight into the frame's pool
 * memory (no copy); the clone is completed when the device has written it, in trigger order.
 * @throws KsError InvalidDeviceState unless the pin runs.
 */
export function triggerStill(ctx: StillPinContext, session: HalSession, log: Logger): void {
  const pin = ctx.pin;
  if (pin.state !== 'run') {
    throw new KsError(
      'InvalidDeviceState',
      `${pin.label}: a still can only be triggered while running (state ${pin.state})`,
    );
  }
  const queue = pin.queue;
  const clone = queue.takeFrame();
  if (clone === null) {
    // KS semantics: no buffer, no picture; the next still reports the loss.
    ctx.missed++;
    queue.dropFrame();
    return;
  }
  const format = halFormatOf(pin.format as Parameters<typeof halFormatOf>[0]);
  const opened: OpenedHalDevice | undefined = session.opened;
  ctx.chain = ctx.chain.then(async () => {
    if (clone.slot < 0) return; // cancelled by a stop meanwhile
    if (opened === undefined) {
      clone.complete(0, FrameStatus.DeviceError);
      return;
    }
    try {
      const r = await opened.captureStill(format.fourcc, format.width, format.height, clone.data);
      if (clone.slot < 0) return;
      ctx.captured++;
      clone.complete(r.bytesUsed, FrameStatus.Success, FrameFlags.SplicePoint);
    } catch (err) {
      log.warn({ err }, 'still capture failed');
      if (clone.slot < 0) return;
      const disconnected = (err as { code?: unknown }).code === 'Disconnected';
      clone.complete(0, disconnected ? FrameStatus.Disconnected : FrameStatus.DeviceError);
    }
  });
}

/**
 * The still pin's automation table: PROPSETID_VIDCAP_VIDEOCONTROL CAPS (read-only: Trigger is
 * supported) and MODE (0 or Trigger; writing Trigger captures one still).
 */
export function stillPinProperties(session: HalSession, log: Logger): PropertySetDescriptor<StillPinContext> {
  return {
    set: PropSetId.VideoControl,
    items: [
      {
        id: VideoControlProperty.Caps,
        name: 'VideoControlCaps',
        type: 'uint32',
        access: 'readonly',
        default: VideoControlFlag.Trigger,
        get: () => VideoControlFlag.Trigger,
      },
      {
        id: VideoControlProperty.Mode,
        name: 'VideoControlMode',
        type: 'uint32',
        min: 0,
        max: VideoControlFlag.Trigger,
        step: VideoControlFlag.Trigger,
        default: 0,
        // The mode reads back 0: Trigger is an action, not a state.
        get: () => 0,
        set: (ctx, value) => {
          if (value === VideoControlFlag.Trigger) triggerStill(ctx.context, session, log);
        },
      },
    ],
  };
}

/** The still pin's dispatch: takes the HAL device at STOP→ACQUIRE like the capture pin; stills come from triggers. */
export function stillPin(options: StillPinOptions): PinDispatch<unknown, StillPinContext> {
  const { session } = options;
  return {
    create: (pin: KsPin) => new StillPinContext(pin),
    async setState(_pin: KsPin, to: KsState, from: KsState, ctx: StillPinContext): Promise<void> {
      if (from === 'stop' && to === 'acquire') {
        await session.acquire();
        ctx.acquired = true;
      } else if (from === 'pause' && to === 'acquire') {
        // Let a capture in progress finish before ks-core cancels what is left.
        await ctx.chain;
      } else if (from === 'acquire' && to === 'stop' && ctx.acquired) {
        ctx.acquired = false;
        await session.release();
      }
    },
    async close(_pin: KsPin, ctx: StillPinContext): Promise<void> {
      await ctx.chain.catch(() => undefined);
      if (ctx.acquired) {
        ctx.acquired = false;
        await session.release();
      }
    },
  };
}
