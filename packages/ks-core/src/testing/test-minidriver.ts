// A small test minidriver over fake capture "hardware" that fills mapped slots on clock ticks with content computed from the frame index.
import type { Clock, ScheduledCallback } from '../clock.js';
import { defineFilterDescriptor, definePin, FILTER_NODE, type FilterDescriptor } from '../descriptors.js';
import type { KsFilter, Minidriver } from '../filter.js';
import type { KsPin } from '../pin.js';
import { simpleFraming } from '../allocator-framing.js';
import { videoRange } from '../data-range.js';
import { guid } from '../guid.js';
import { KsCategory, MediaSubtype, NodeType, PinName, PropSetId } from '../known-guids.js';
import { KsError } from '../ks-error.js';
import { frameIntervalFromRate, type KsTime } from '../ks-time.js';
import { CompletionChannel } from '../mapping.js';
import type { FramePool } from '../frame-pool.js';
import { FrameStatus } from '../stream-header.js';
import { createDevice, type KsDevice } from '../device.js';
import type { Logger } from '../logger.js';

/**
 * Writes the content of frame `index` into `data[0..length)`: the index as a little-endian u32
 * in the first 4 bytes, then `(index × 31 + i) & 0xff`. A pure function of the index, so any
 * consumer can check a frame with {@link checkTestFrame}.
 */
export function fillTestFrame(data: Uint8Array, offset: number, length: number, index: number): void {
  for (let i = offset; i < offset + length; i++) {
    data[i] = i < 4 ? (index >>> (8 * i)) & 0xff : (index * 31 + i) & 0xff;
  }
}

/** True when `data[0..length)` holds exactly the content of frame `index`. */
export function checkTestFrame(data: Uint8Array, length: number, index: number): boolean {
  for (let i = 0; i < length; i++) {
    const want = i < 4 ? (index >>> (8 * i)) & 0xff : (index * 31 + i) & 0xff;
    if (data[i] !== want) return false;
  }
  return true;
}

/** Fault switches of the fake hardware (as vivid's error-injection controls). */
export interface TestHardwareFaults {
  /** STOP→ACQUIRE fails with DeviceBusy. */
  failAcquire?: boolean;
  /** PAUSE→RUN fails with DeviceFailure. */
  failStart?: boolean;
  /** Only map this many bytes per mapping (forces several mappings per frame). */
  maxMappingBytes?: number;
}

/**
 * Fake capture hardware: one "DMA engine" that, at every frame time `start + n × period`,
 * fills the next fully mapped frame of its completion channel with frame n's content, or counts
 * a skip when none is mapped. It knows only the pool memory and mapping ids, never ks-core objects.
 */
export class TestCaptureHardware {
  readonly clock: Clock;
  readonly faults: TestHardwareFaults;
  #owner: object | undefined;
  #pool: FramePool | undefined;
  #channel: CompletionChannel | undefined;
  #timer: ScheduledCallback | undefined;
  #onInterrupt: (() => void) | undefined;
  #start: KsTime = 0n as KsTime;
  #period: KsTime = 1n as KsTime;
  #tick = 0;
  /** Frame index of the next tick (continues across pause/resume within one acquisition). */
  #frameIndex = 0;
  /** Ticks that found a mapped frame / none. */
  filled = 0;
  skipped = 0;
  #unplugHandlers: Array<() => void> = [];

  constructor(clock: Clock, faults: TestHardwareFaults = {}) {
    this.clock = clock;
    this.faults = faults;
  }

  /** Who holds the hardware (or undefined). */
  get owner(): object | undefined {
    return this.#owner;
  }

  /** Whether frame ticks are scheduled. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Takes the hardware. @throws KsError DeviceBusy when someone else holds it or failAcquire is set. */
  acquire(owner: object, pool: FramePool, channel: CompletionChannel): void {
    if (this.faults.failAcquire === true)
      throw new KsError('DeviceBusy', 'test hardware: acquire refused (fault injected)');
    if (this.#owner !== undefined && this.#owner !== owner)
      throw new KsError('DeviceBusy', 'test hardware is in use by another pin');
    this.#owner = owner;
    this.#pool = pool;
    this.#channel = channel;
    this.#frameIndex = 0;
  }

  /** Releases the hardware (idempotent). */
  release(owner: object): void {
    if (this.#owner !== owner) return;
    this.stop();
    this.#owner = undefined;
    this.#pool = undefined;
    this.#channel = undefined;
  }

  /** Starts frame ticks every `period` from now; `onInterrupt` runs after each tick. */
  start(period: KsTime, onInterrupt: () => void): void {
    if (this.faults.failStart === true) throw new Error('test hardware: start failed (fault injected)');
    if (this.#channel === undefined)
      throw new KsError('InvalidDeviceState', 'test hardware started before acquire');
    this.#period = period;
    this.#start = this.clock.now();
    this.#tick = 0;
    this.#onInterrupt = onInterrupt;
    this.#arm();
  }

  /** Stops frame ticks (idempotent). */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#onInterrupt = undefined;
  }

  /** Registers a disconnect listener (as a HAL device's `disconnect` event). */
  onUnplug(handler: () => void): void {
    this.#unplugHandlers.push(handler);
  }

  /** Simulates pulling the device: ticks stop, listeners are told. */
  unplug(): void {
    this.stop();
    for (const h of this.#unplugHandlers.splice(0)) h();
  }

  #arm(): void {
    // Tick k fires at start + (k + 1) × period: computed, never accumulated.
    const at = (this.#start + BigInt(this.#tick + 1) * this.#period) as KsTime;
    this.#timer = this.clock.schedule(at, () => this.#fire());
  }

  #fire(): void {
    const channel = this.#channel;
    const pool = this.#pool;
    if (channel === undefined || pool === undefined || this.#timer === undefined) return;
    this.#tick++;
    const index = this.#frameIndex++;
    const n = channel.frameMappings();
    if (n === 0) {
      channel.skipFrame();
      this.skipped++;
    } else {
      for (let k = 0; k < n; k++) {
        const slot = channel.pendingSlot(k);
        const offset = channel.pendingOffset(k);
        const length = channel.pendingLength(k);
        fillTestFrame(pool.data(slot), offset, length, index);
      }
      for (let k = 0; k < n; k++) channel.complete(channel.pendingLength(0), FrameStatus.Success);
      this.filled++;
    }
    this.#arm();
    this.#onInterrupt?.();
  }
}

/** Filter context of the test minidriver. */
export interface TestFilterContext {
  readonly hardware: TestCaptureHardware;
}

/** Pin context of the test minidriver. */
export interface TestPinContext {
  readonly hardware: TestCaptureHardware;
  channel: CompletionChannel | undefined;
  /** Process dispatches seen (for tests). */
  processCalls: number;
}

/** Property ids of the test filter's private set. */
export const TestProperty = Object.freeze({
  set: guid('5b1f0c7e-3f0a-4c1e-9a57-7d2f3c0b9e11'),
  /** int32 -10..10 step 2, default 0, stored by ks-core (no handlers). */
  Gain: 0,
  /** uint32 read-only: frames the hardware filled. */
  FramesFilled: 1,
  /** bool, stored. */
  Mirror: 2,
  /** int64 with a set handler that refuses odd values with a KsError. */
  Exposure: 3,
  /** 8 opaque bytes. */
  Blob: 4,
});

/** Id of the test filter's private event set; event 0 = "frame skipped" (signalled by nobody, enable/disable only). */
export const TestEventSet = guid('5b1f0c7e-3f0a-4c1e-9a57-7d2f3c0b9e12');

/** The test filter type: one capture pin (YUY2/NV12/GRAY8 small sizes), a processing node with VideoProcAmp brightness. */
export const testFilterDescriptor: FilterDescriptor<TestFilterContext, TestPinContext> =
  defineFilterDescriptor<TestFilterContext, TestPinContext>({
    referenceGuid: guid('5b1f0c7e-3f0a-4c1e-9a57-7d2f3c0b9e10'),
    name: 'ks-core test capture',
    categories: [KsCategory.CAPTURE, KsCategory.VIDEO],
    pins: [
      definePin<TestPinContext>({
        name: 'Capture',
        category: PinName.CAPTURE,
        dataFlow: 'out',
        communication: 'sink',
        instances: { possible: 1, necessary: 0 },
        dataRanges: [
          videoRange({
            subtype: MediaSubtype.YUY2,
            minWidth: 32,
            maxWidth: 64,
            widthGranularity: 16,
            minHeight: 24,
            maxHeight: 48,
            heightGranularity: 8,
            minFrameInterval: frameIntervalFromRate(60),
            maxFrameInterval: frameIntervalFromRate(5),
            defaultFrameInterval: frameIntervalFromRate(30),
          }),
          videoRange({
            subtype: MediaSubtype.NV12,
            width: 64,
            height: 48,
            frameIntervals: [frameIntervalFromRate(30), frameIntervalFromRate(15)],
          }),
          videoRange({
            subtype: MediaSubtype.Y800,
            width: 32,
            height: 24,
            frameInterval: frameIntervalFromRate(30),
          }),
        ],
        framing: simpleFraming({ frames: 4, alignment: 64 }),
      }),
    ],
    nodes: [
      {
        type: NodeType.VIDEO_PROCESSING,
        name: 'Processing',
        automation: {
          properties: [
            {
              set: PropSetId.VideoProcAmp,
              items: [
                {
                  id: 0,
                  name: 'Brightness',
                  type: 'int32',
                  min: -64,
                  max: 64,
                  step: 1,
                  default: 0,
                  modes: ['manual', 'auto'],
                },
              ],
            },
          ],
        },
      },
    ],
    connections: [{ fromNode: 0, fromPin: 1, toNode: FILTER_NODE, toPin: 0 }],
    automation: {
      properties: [
        {
          set: TestProperty.set,
          items: [
            { id: TestProperty.Gain, name: 'Gain', type: 'int32', min: -10, max: 10, step: 2, default: 0 },
            {
              id: TestProperty.FramesFilled,
              name: 'FramesFilled',
              type: 'uint32',
              access: 'readonly',
              get: (ctx) => (ctx.context as TestFilterContext).hardware.filled,
            },
            { id: TestProperty.Mirror, name: 'Mirror', type: 'bool', default: false },
            {
              id: TestProperty.Exposure,
              name: 'Exposure',
              type: 'int64',
              min: 0n,
              max: 1_000_000n,
              default: 100n,
              set: (_ctx, value) => {
                if ((value as bigint) % 2n === 1n)
                  throw new KsError('DeviceFailure', 'test hardware refuses odd exposures');
              },
            },
            { id: TestProperty.Blob, name: 'Blob', type: 'bytes', size: 8, default: new Uint8Array(8) },
          ],
        },
      ],
      events: [{ set: TestEventSet, items: [{ id: 0, name: 'FrameSkipped' }] }],
    },
  });

/**
 * The test minidriver: takes the hardware at STOP→ACQUIRE, starts/stops ticks at PAUSE↔RUN,
 * programs one mapping list per frame in `process`, collects completions on each interrupt.
 */
export function testMinidriver(
  hardware: TestCaptureHardware,
  allocateMemory?: (byteLength: number) => SharedArrayBuffer,
): Minidriver<TestFilterContext, TestPinContext> {
  return {
    descriptor: testFilterDescriptor,
    create: (_filter: KsFilter) => ({ hardware }),
    pins: [
      {
        create: (_pin, filterContext) => ({
          hardware: filterContext.hardware,
          channel: undefined,
          processCalls: 0,
        }),
        setState: (pin, to, from, ctx) => {
          if (from === 'stop' && to === 'acquire') {
            const channel = CompletionChannel.create(pin.pool.slotCount * 8);
            ctx.hardware.acquire(pin, pin.pool, channel);
            ctx.channel = channel;
          } else if (from === 'pause' && to === 'run') {
            const format = pin.format!;
            const period = format.kind === 'video' ? format.frameInterval : frameIntervalFromRate(30);
            ctx.hardware.start(period, () => {
              // Interrupt: take in completions, then give the hardware more frames.
              if (pin.state !== 'run' || ctx.channel === undefined) return;
              pin.queue.collect(ctx.channel);
              pin.attemptProcessing();
            });
          } else if (from === 'run' && to === 'pause') {
            ctx.hardware.stop();
          } else if (from === 'pause' && to === 'acquire') {
            ctx.hardware.stop();
            pin.queue.cancelAll(ctx.channel);
          } else if (from === 'acquire' && to === 'stop') {
            ctx.hardware.release(pin);
            ctx.channel = undefined;
          }
        },
        process: (pin, ctx) => {
          ctx.processCalls++;
          const channel = ctx.channel;
          if (channel === undefined) return;
          const q = pin.queue;
          const length = pin.format?.kind === 'video' ? pin.format.imageSize : pin.framing.frameSize;
          const maxBytes = ctx.hardware.faults.maxMappingBytes ?? length;
          const perFrame = Math.ceil(length / maxBytes);
          while (channel.space >= perFrame) {
            const clone = q.takeFrame();
            if (clone === null) return;
            if (clone.postMappings(channel, maxBytes, length) === 0) {
              clone.cancel();
              return;
            }
          }
        },
        close: (pin, ctx) => {
          ctx.hardware.release(pin);
        },
        ...(allocateMemory ? { allocateMemory: (_pin: KsPin, bytes: number) => allocateMemory(bytes) } : {}),
      },
    ],
  };
}

/** Options of {@link createTestDevice}. */
export interface TestDeviceOptions {
  readonly faults?: TestHardwareFaults;
  readonly logger?: Logger;
  /** Supplies the pool memory (the pin dispatch's `allocateMemory`). */
  readonly allocateMemory?: (byteLength: number) => SharedArrayBuffer;
  /** The device's stop grace period (`KsDeviceOptions.stopGrace`). */
  readonly stopGrace?: KsTime;
}

/**
 * A device with the test minidriver over fresh fake hardware on `clock`. Pulling the hardware
 * (`hardware.unplug()`) calls `device.surpriseRemoval()`, as a real minidriver does on HAL disconnect.
 */
export function createTestDevice(
  clock: Clock,
  options: TestDeviceOptions = {},
): { device: KsDevice; hardware: TestCaptureHardware } {
  const hardware = new TestCaptureHardware(clock, options.faults ?? {});
  const device = createDevice({
    name: 'test:capture',
    minidrivers: [testMinidriver(hardware, options.allocateMemory)],
    clock,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.stopGrace === undefined ? {} : { stopGrace: options.stopGrace }),
  });
  hardware.onUnplug(
    () => void device.surpriseRemoval(new KsError('Disconnected', 'test hardware unplugged')),
  );
  return { device, hardware };
}
