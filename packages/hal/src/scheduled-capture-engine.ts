// A CaptureEngine for synthetic devices: renders frames into programmed mappings on a TimeSource.
import { CompletionListeners } from './completion-listeners.js';
import type { Logger } from 'pino';
import {
  FrameFlag,
  FrameStatus,
  slotDataOffset,
  requireEngineState,
  validatePoolRegistration,
  type CaptureEngine,
  type CaptureEngineState,
  type CaptureEngineStats,
  type CaptureStartOptions,
  type DmaMapping,
  type PoolGeometry,
} from './capture-engine.js';
import { CompletionRing, emptyCompletionRecord, type CompletionRecord } from './completion-ring.js';
import { FaultInjector, FrameFault } from './fault-plan.js';
import { HalError, HalErrorCode } from './hal-error.js';
import { MappingQueue } from './mapping-queue.js';
import type { FrameRenderer } from './pattern-renderer.js';
import { validateVideoFormat, type VideoFormat } from './pixel-format.js';
import type { ScheduledCallback, TimeSource } from './time-source.js';

/** What a synthetic device plugs into a {@link ScheduledCaptureEngine}. */
export interface ScheduledCaptureEngineOptions {
  readonly deviceId: string;
  readonly timeSource: TimeSource;
  readonly logger: Logger;
  /** Fault plan state of the device (shared with the device, e.g. for start failures). */
  readonly faults: FaultInjector;
  /**
   * Makes the renderer for a format. Throws HalError(Unsupported) for formats the device
   * does not produce. Called on `configure` and on `refreshRenderer`.
   */
  createRenderer(format: VideoFormat): FrameRenderer;
  /** Called once when the engine disconnects (fault plan or `disconnect()`). */
  onDisconnect?(reason: HalError): void;
}

const TWO_POW_32 = 4294967296;

/**
 * Frames are produced by `timeSource.schedule` callbacks at start + k × interval; each takes
 * the oldest programmed mapping, renders straight into it (dirty-region repaint when the slot
 * is known to hold an earlier frame of the same renderer) and publishes a completion.
 * Implements the {@link CaptureEngine} contract, including fault plans.
 */
export class ScheduledCaptureEngine implements CaptureEngine {
  readonly completions: CompletionRing;
  private readonly opts: ScheduledCaptureEngineOptions;
  private readonly logger: Logger;
  private current: CaptureEngineState = 'idle';
  private fmt: VideoFormat | undefined;
  private renderer: FrameRenderer | undefined;
  private geometry: PoolGeometry | undefined;
  private memory: Uint8Array | undefined;
  private readonly queue: MappingQueue;
  // Content tags: frame index slot s holds at byte offset tagOffset[s] (−1 unknown).
  private tagFrame = new Float64Array(0);
  private tagOffset = new Int32Array(0);
  // Streaming state.
  private timer: ScheduledCallback | undefined;
  private startTime = 0n;
  private interval = 0n;
  private k = 0;
  private pendingDrops = 0;
  private firstPending = false;
  private readonly record: CompletionRecord = emptyCompletionRecord();
  private readonly listeners: CompletionListeners;
  private readonly counters: CaptureEngineStats = {
    framesProduced: 0,
    framesCompleted: 0,
    framesDropped: 0,
    framesStarved: 0,
    framesCorrupted: 0,
    framesTruncated: 0,
  };
  private readonly tick = (): void => this.produceFrame();

  constructor(options: ScheduledCaptureEngineOptions, ringCapacity = 64) {
    this.opts = options;
    this.logger = options.logger.child({ component: 'capture-engine' });
    this.listeners = new CompletionListeners(this.logger);
    this.completions = CompletionRing.create(ringCapacity);
    this.queue = new MappingQueue(this.completions.capacity);
  }

  get state(): CaptureEngineState {
    return this.current;
  }

  get format(): VideoFormat | undefined {
    return this.fmt;
  }

  get outstanding(): number {
    return this.queue.count;
  }

  registerPool(geometry: PoolGeometry, memory: SharedArrayBuffer): void {
    this.requireState('registerPool()', ['idle', 'configured']);
    validatePoolRegistration(geometry, memory, this.queue.count);
    this.geometry = Object.freeze({ ...geometry });
    this.memory = new Uint8Array(memory);
    this.queue.resetPool(geometry.slotCount);
    this.tagFrame = new Float64Array(geometry.slotCount).fill(-1);
    this.tagOffset = new Int32Array(geometry.slotCount);
    this.updateConfigured();
  }

  configure(format: VideoFormat): void {
    this.requireState('configure()', ['idle', 'configured']);
    validateVideoFormat(format);
    const renderer = this.opts.createRenderer(format);
    this.fmt = Object.freeze({ ...format });
    this.renderer = renderer;
    this.tagFrame.fill(-1);
    this.updateConfigured();
  }

  /** Rebuilds the renderer for the current format (e.g. after a picture control changed). */
  refreshRenderer(): void {
    if (this.fmt === undefined) return;
    this.renderer = this.opts.createRenderer(this.fmt);
    this.tagFrame.fill(-1);
  }

  program(mappings: readonly DmaMapping[]): void {
    this.requireState('program()', ['configured', 'running']);
    const g = this.geometry;
    if (g === undefined)
      throw HalError.invalidState('program()', 'configured without a pool', 'configured with a pool');
    this.queue.push(mappings, g);
  }

  async start(options: CaptureStartOptions = {}): Promise<void> {
    this.requireState('start()', ['configured']);
    const fmt = this.fmt;
    if (fmt === undefined || this.geometry === undefined) {
      throw HalError.invalidState(
        'start()',
        this.fmt === undefined ? 'no format' : 'no pool',
        'configured with format and pool',
      );
    }
    const failure = this.opts.faults.takeStartFailure(this.opts.deviceId);
    if (failure !== undefined) throw failure;
    if (options.startTime !== undefined && typeof options.startTime !== 'bigint') {
      throw new TypeError('startTime must be a bigint (100 ns)');
    }
    this.startTime = options.startTime ?? this.opts.timeSource.now();
    this.interval = fmt.interval;
    this.k = 0;
    this.pendingDrops = 0;
    this.firstPending = true;
    this.current = 'running';
    this.logger.debug({ format: { ...fmt, interval: String(fmt.interval) } }, 'capture started');
    this.timer = this.opts.timeSource.schedule(this.startTime, this.tick);
  }

  async stop(): Promise<void> {
    if (this.current === 'configured' || this.current === 'idle') return;
    this.requireState('stop()', ['running']);
    this.timer?.cancel();
    this.timer = undefined;
    this.current = 'configured';
    this.drainQueue(FrameStatus.Cancelled);
    this.logger.debug('capture stopped');
  }

  invalidateSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.tagFrame.length) {
      throw new RangeError(`slot ${slot} is outside [0, ${this.tagFrame.length})`);
    }
    this.tagFrame[slot] = -1;
  }

  onCompletion(listener: (count: number) => void): () => void {
    return this.listeners.add(listener);
  }

  stats(): CaptureEngineStats {
    return { ...this.counters };
  }

  /**
   * Hot-unplug: stops producing, completes every outstanding mapping `Disconnected`, moves to
   * `disconnected` and tells the device. Idempotent.
   */
  disconnect(cause?: unknown): void {
    if (this.current === 'disconnected' || this.current === 'closed') return;
    this.timer?.cancel();
    this.timer = undefined;
    this.current = 'disconnected';
    this.drainQueue(FrameStatus.Disconnected);
    const reason = new HalError(HalErrorCode.Disconnected, `${this.opts.deviceId} disconnected`, {
      cause,
      deviceId: this.opts.deviceId,
    });
    this.logger.info({ err: reason }, 'device disconnected');
    this.opts.onDisconnect?.(reason);
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    if (this.current === 'running') await this.stop();
    else if (this.queue.count > 0)
      this.drainQueue(this.current === 'disconnected' ? FrameStatus.Disconnected : FrameStatus.Cancelled);
    this.current = 'closed';
    this.memory = undefined;
    this.geometry = undefined;
    this.listeners.clear();
  }

  private produceFrame(): void {
    this.timer = undefined;
    if (this.current !== 'running') return;
    const k = this.k;
    const fault = this.opts.faults.frameFault(k);
    if ((fault & FrameFault.Disconnect) !== 0) {
      this.disconnect(new Error(`fault plan: disconnect at frame ${k}`));
      return;
    }
    this.k = k + 1;
    this.counters.framesProduced++;
    const frameIndex = this.opts.faults.firstFrameIndex + k;
    if ((fault & FrameFault.Starve) !== 0 || this.queue.count === 0) {
      this.counters.framesStarved++;
      this.pendingDrops++;
    } else {
      this.deliver(k, frameIndex, fault);
      this.notify();
    }
    this.timer = this.opts.timeSource.schedule(this.startTime + BigInt(k + 1) * this.interval, this.tick);
  }

  private deliver(k: number, frameIndex: number, fault: number): void {
    const q = this.queue;
    const slot = q.headSlot;
    const offset = q.headOffset;
    const length = q.headLength;
    const r = this.record;
    r.cookie = q.headCookie;
    r.slot = slot;
    r.offset = offset;
    r.frameIndex = BigInt(frameIndex);
    r.sequence = frameIndex % TWO_POW_32;
    r.presentationTime = this.startTime + r.frameIndex * this.interval;
    r.duration = this.interval;
    r.dropsBefore = this.pendingDrops;
    let flags = FrameFlag.TimeValid | FrameFlag.KeyFrame;
    if (this.pendingDrops > 0) flags |= FrameFlag.Discontinuity;
    if (this.firstPending) flags |= FrameFlag.FirstFrame;
    if (r.sequence === 0 && frameIndex > 0) flags |= FrameFlag.SequenceWrapped;
    this.firstPending = false;

    if ((fault & FrameFault.Drop) !== 0) {
      r.status = FrameStatus.Dropped;
      r.bytesUsed = 0;
      this.counters.framesDropped++;
      this.pendingDrops = 1;
    } else {
      const memory = this.memory!;
      const base = slotDataOffset(this.geometry!, slot) + offset;
      const previous = this.tagOffset[slot] === offset ? this.tagFrame[slot]! : -1;
      this.tagFrame[slot] = -1;
      let bytes = -1;
      try {
        bytes = this.renderer!.render(memory, base, length, frameIndex, previous);
      } catch (err) {
        this.logger.error({ err, slot, frameIndex }, 'renderer failed; frame dropped');
        bytes = -2;
      }
      this.pendingDrops = 0;
      if (bytes === -2) {
        r.status = FrameStatus.Dropped;
        r.bytesUsed = 0;
        this.counters.framesDropped++;
        this.pendingDrops = 1;
      } else if (bytes < 0) {
        r.status = FrameStatus.Truncated;
        r.bytesUsed = 0;
        this.counters.framesTruncated++;
      } else if ((fault & FrameFault.Corrupt) !== 0) {
        FaultInjector.corrupt(memory, base, bytes, k);
        r.status = FrameStatus.Corrupt;
        r.bytesUsed = bytes;
        this.counters.framesCorrupted++;
        this.counters.framesCompleted++;
      } else {
        r.status = FrameStatus.Ok;
        r.bytesUsed = bytes;
        this.tagFrame[slot] = frameIndex;
        this.tagOffset[slot] = offset;
        this.counters.framesCompleted++;
      }
    }
    r.flags = flags;
    q.shift();
    this.completions.publish(r);
  }

  private drainQueue(status: FrameStatus): void {
    if (this.queue.drain(status, this.record, this.completions) > 0) this.notify();
  }

  private notify(): void {
    this.listeners.notify(this.completions.count);
  }

  private updateConfigured(): void {
    this.current = this.fmt !== undefined && this.geometry !== undefined ? 'configured' : 'idle';
  }

  private requireState(operation: string, allowed: readonly CaptureEngineState[]): void {
    requireEngineState(operation, this.current, allowed, this.opts.deviceId);
  }
}
