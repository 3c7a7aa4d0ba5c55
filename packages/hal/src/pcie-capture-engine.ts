// The PCIe card's driver side of the CaptureEngine contract: descriptors in, interrupts out, pacing doorbells on the injected TimeSource.
import type { Logger } from 'pino';
import {
  FrameFlag,
  FrameStatus,
  validatePoolGeometry,
  type CaptureEngine,
  type CaptureEngineState,
  type CaptureEngineStats,
  type CaptureStartOptions,
  type DmaMapping,
  type PoolGeometry,
} from './capture-engine.js';
import { clearFrameInfo, CompletionRing, emptyCompletionRecord } from './completion-ring.js';
import { DescriptorFlag, DescriptorStatus, type DescriptorStatusCode } from './descriptor-ring.js';
import {
  FRAME_TAG_ENTRIES,
  invalidateAllSlots,
  PCIE_FORMAT_CODES,
  waitForChange,
  type DmaEngine,
} from './dma-engine.js';
import { CompletionListeners } from './completion-listeners.js';
import type { FaultInjector } from './fault-plan.js';
import { HalError, HalErrorCode } from './hal-error.js';
import { ControlBit, InterruptBit, PcieRegister, StatusBit } from './pcie-registers.js';
import { validateVideoFormat, type ImageLayout, type VideoFormat } from './pixel-format.js';
import type { ScheduledCallback, TimeSource } from './time-source.js';

/** Options of {@link PcieCaptureEngine}. */
export interface PcieCaptureEngineOptions {
  /** The card's DMA engine (borrowed: the session that launched it shuts it down). */
  readonly engine: DmaEngine;
  readonly timeSource: TimeSource;
  /** The device's fault plan, host side (fail-start, frame index base). */
  readonly faults: FaultInjector;
  /** Whether the device can produce `format` (from its capabilities). */
  readonly supports: (format: VideoFormat) => boolean;
  /**
   * The video input's tag for the frame due at `time` (what the tuner had locked then); the
   * engine latches it per frame so content does not depend on worker latency. Default 0.
   */
  readonly frameTag?: (time: bigint) => number;
  /** Called once when the link goes down (fault plan or worker death). */
  readonly onDisconnect: (reason: HalError) => void;
  readonly deviceId: string;
  readonly logger: Logger;
}

const STATUS_OF: Record<DescriptorStatusCode, FrameStatus> = {
  [DescriptorStatus.Pending]: FrameStatus.Cancelled,
  [DescriptorStatus.Done]: FrameStatus.Ok,
  [DescriptorStatus.Corrupted]: FrameStatus.Corrupt,
  [DescriptorStatus.Disconnected]: FrameStatus.Disconnected,
  [DescriptorStatus.Cancelled]: FrameStatus.Cancelled,
  [DescriptorStatus.Short]: FrameStatus.Truncated,
  [DescriptorStatus.Dropped]: FrameStatus.Dropped,
};

const TWO_POW_32 = 4294967296;
/** Slices of the idle/ready waits; a dead worker is noticed through `engine.failure`. */
const WAIT_SLICE_MS = 100;
const WAIT_SLICES = 100;

/**
 * CaptureEngine of a synthetic PCIe card (see the contract in capture-engine.ts). Each
 * mapping becomes one single-descriptor chain; the engine thread completes descriptors in
 * order and raises interrupts, which this class services with `Atomics.waitAsync` (the main
 * thread never blocks) and turns into CompletionRing records. Frame n is declared due by a
 * FrameDue doorbell at `startTime + n × interval` on the TimeSource, so a manual time source
 * gives deterministic runs and a real one real-time pacing.
 */
export class PcieCaptureEngine implements CaptureEngine {
  readonly completions: CompletionRing;
  private currentState: CaptureEngineState = 'idle';
  private geometry: PoolGeometry | undefined;
  private layout: ImageLayout | undefined;
  private currentFormat: VideoFormat | undefined;
  private readonly o: PcieCaptureEngineOptions;
  private readonly listeners: CompletionListeners;
  private readonly capacity: number;
  // Outstanding mappings in programming order; position p lives at p & (capacity - 1).
  private readonly fifoCookie: Float64Array;
  private readonly fifoSlot: Int32Array;
  private readonly fifoOffset: Int32Array;
  private readonly slotBusy = new Uint8Array(4096);
  private posted = 0;
  private reaped = 0;
  private startTime = 0n;
  private interval = 0n;
  private nextDue = 0;
  private timer: ScheduledCallback | undefined;
  private firstIndex = 0;
  private lastFrame = -1;
  private lastWasDropped = false;
  private sawFirstFrame = false;
  private irqActive = false;
  private irqLoopDone: Promise<void> = Promise.resolve();
  private readonly record = emptyCompletionRecord();
  private readonly totals = { produced: 0, completed: 0, dropped: 0, starved: 0, corrupted: 0, truncated: 0 };
  private disconnectReason: HalError | undefined;

  constructor(options: PcieCaptureEngineOptions) {
    this.o = options;
    this.listeners = new CompletionListeners(options.logger);
    this.capacity = options.engine.ring.size;
    this.completions = CompletionRing.create(this.capacity);
    this.fifoCookie = new Float64Array(this.capacity);
    this.fifoSlot = new Int32Array(this.capacity);
    this.fifoOffset = new Int32Array(this.capacity);
    // The engine thread reports its own death here; streaming or not, the link is gone.
    options.engine.onFailure = (err) => this.linkDown(err);
  }

  get state(): CaptureEngineState {
    return this.currentState;
  }

  get format(): VideoFormat | undefined {
    return this.currentFormat;
  }

  get outstanding(): number {
    return (this.posted - this.reaped) >>> 0;
  }

  private get regs() {
    return this.o.engine.registers;
  }

  registerPool(geometry: PoolGeometry, memory: SharedArrayBuffer): void {
    this.requireUsable('registerPool()', ['idle', 'configured']);
    if (Object.prototype.toString.call(memory) !== '[object SharedArrayBuffer]') {
      throw new TypeError('pool memory must be a SharedArrayBuffer');
    }
    validatePoolGeometry(geometry, memory.byteLength);
    this.geometry = Object.freeze({ ...geometry });
    invalidateAllSlots(this.o.engine.slotGenerations);
    this.o.engine.map(memory, this.geometry);
    this.resetTotals();
    if (this.currentFormat !== undefined) this.currentState = 'configured';
  }

  configure(format: VideoFormat): void {
    this.requireUsable('configure()', ['idle', 'configured']);
    const layout = validateVideoFormat(format);
    const code = PCIE_FORMAT_CODES.indexOf(format.fourcc);
    if (code < 0 || !this.o.supports(format)) {
      throw new HalError(
        HalErrorCode.Unsupported,
        `${this.o.deviceId}: cannot capture ${format.fourcc} ${format.width}x${format.height} @ ${format.interval} (100 ns)`,
        { deviceId: this.o.deviceId },
      );
    }
    const r = this.regs;
    r.write(PcieRegister.FormatCode, code);
    r.write(PcieRegister.FormatWidth, format.width);
    r.write(PcieRegister.FormatHeight, format.height);
    r.write(PcieRegister.FormatStride, layout.planes[0]?.stride ?? 0);
    r.write(PcieRegister.FormatFrameBytes, layout.imageSize);
    r.write(PcieRegister.FrameInterval, Number(format.interval));
    this.layout = layout;
    this.currentFormat = Object.freeze({ ...format });
    invalidateAllSlots(this.o.engine.slotGenerations);
    this.resetTotals();
    if (this.geometry !== undefined) this.currentState = 'configured';
  }

  program(mappings: readonly DmaMapping[]): void {
    this.requireUsable('program()', ['configured', 'running']);
    const g = this.geometry!;
    if (!Array.isArray(mappings)) throw new TypeError('mappings must be an array');
    if (this.outstanding + mappings.length > this.capacity) {
      throw new RangeError(
        `${mappings.length} more mappings would exceed the ${this.capacity} the card can hold (${this.outstanding} outstanding)`,
      );
    }
    // Validate everything first: a rejected call must post nothing.
    for (let i = 0; i < mappings.length; i++) {
      const m = mappings[i]!;
      if (!Number.isInteger(m.slot) || m.slot < 0 || m.slot >= g.slotCount) {
        throw new RangeError(`mapping ${i}: slot ${m.slot} outside the pool's ${g.slotCount} slots`);
      }
      if (!Number.isInteger(m.offset) || !Number.isInteger(m.length) || m.offset < 0 || m.length < 0) {
        throw new RangeError(`mapping ${i}: offset and length must be integers >= 0`);
      }
      if (m.offset + m.length > g.dataLength) {
        throw new RangeError(
          `mapping ${i}: ${m.offset}+${m.length} exceeds the slot's ${g.dataLength} bytes`,
        );
      }
      if (typeof m.cookie !== 'number') throw new TypeError(`mapping ${i}: cookie must be a number`);
      if (this.slotBusy[m.slot] === 1 || mappings.findIndex((x) => x.slot === m.slot) !== i) {
        throw new RangeError(`mapping ${i}: slot ${m.slot} is already outstanding`);
      }
    }
    const ring = this.o.engine.ring;
    for (const m of mappings) {
      const p = this.posted;
      const e = p & (this.capacity - 1);
      this.fifoCookie[e] = m.cookie;
      this.fifoSlot[e] = m.slot;
      this.fifoOffset[e] = m.offset;
      this.slotBusy[m.slot] = 1;
      ring.post(p, {
        slot: m.slot,
        offset: m.offset,
        length: m.length,
        cookie: p,
        flags: DescriptorFlag.StartOfFrame | DescriptorFlag.EndOfFrame,
      });
      this.posted = (p + 1) >>> 0;
    }
    this.regs.write(PcieRegister.RingTail, this.posted);
    this.regs.ringDoorbell();
  }

  async start(options: CaptureStartOptions = {}): Promise<void> {
    this.requireUsable('start()', ['configured']);
    if (options.startTime !== undefined && typeof options.startTime !== 'bigint') {
      throw new TypeError('startTime must be a bigint (100 ns)');
    }
    const failure = this.o.faults.takeStartFailure(this.o.deviceId);
    if (failure !== undefined) throw failure;
    const engine = this.o.engine;
    await engine.sync(); // the engine thread has the pool mapping before it is enabled
    this.requireUsable('start()', ['configured']);
    const r = this.regs;
    this.firstIndex = this.o.faults.firstFrameIndex;
    r.write(PcieRegister.FrameIndexBaseHigh, Math.floor(this.firstIndex / TWO_POW_32));
    r.write(PcieRegister.FrameIndexBaseLow, this.firstIndex % TWO_POW_32);
    r.write(PcieRegister.Control, ControlBit.Enable | ControlBit.InterruptEnable);
    r.ringDoorbell();
    const ok = await this.waitStatus((s) => (s & (StatusBit.Running | StatusBit.LinkDown)) !== 0);
    if (!ok || (r.read(PcieRegister.Status) & StatusBit.Running) === 0) {
      r.write(PcieRegister.Control, ControlBit.InterruptEnable);
      r.ringDoorbell();
      if (this.currentState === 'disconnected') throw this.disconnectedError('start()');
      throw new HalError(HalErrorCode.StartFailed, `${this.o.deviceId}: DMA engine did not start`, {
        deviceId: this.o.deviceId,
        cause: engine.failure,
      });
    }
    this.interval = this.currentFormat!.interval;
    this.startTime = options.startTime ?? this.o.timeSource.now();
    this.nextDue = 0;
    this.lastFrame = -1;
    this.lastWasDropped = false;
    this.sawFirstFrame = false;
    this.currentState = 'running';
    this.irqActive = true;
    this.irqLoopDone = this.interruptLoop();
    this.timer = this.o.timeSource.schedule(this.startTime, this.onFrameClock);
  }

  async stop(): Promise<void> {
    if (this.currentState === 'configured' || this.currentState === 'idle') return;
    this.requireUsable('stop()', ['running']);
    this.timer?.cancel();
    this.timer = undefined;
    const r = this.regs;
    r.write(PcieRegister.Control, ControlBit.InterruptEnable);
    r.ringDoorbell();
    const idle = await this.waitStatus((s) => (s & StatusBit.Running) === 0);
    if (!idle && this.currentState === 'running') {
      // The engine thread is wedged (or dead): resetting the counters under a frame in flight
      // would corrupt them, so the card is treated as gone instead.
      this.linkDown(
        new HalError(HalErrorCode.Disconnected, `${this.o.deviceId}: DMA engine did not go idle`, {
          deviceId: this.o.deviceId,
          cause: this.o.engine.failure,
        }),
      );
    }
    await this.stopInterruptLoop();
    this.serviceInterrupt();
    if (this.currentState !== 'running') return; // the link went down meanwhile
    // Back to configured first, and the ring reset before listeners hear of the cancellations,
    // so a listener that programs again (allowed in configured) posts into the fresh ring.
    this.currentState = 'configured';
    const cancelled = this.cancelOutstanding(FrameStatus.Cancelled, false);
    this.accumulateTotals();
    r.write(PcieRegister.Control, ControlBit.Reset | ControlBit.InterruptEnable);
    this.posted = 0;
    this.reaped = 0;
    if (cancelled > 0) this.listeners.notify(this.completions.count);
  }

  invalidateSlot(slot: number): void {
    const count = this.geometry?.slotCount ?? this.o.engine.slotGenerations.length;
    if (!Number.isInteger(slot) || slot < 0 || slot >= count) {
      throw new RangeError(`slot ${slot} is outside [0, ${count})`);
    }
    Atomics.add(this.o.engine.slotGenerations, slot, 1);
  }

  onCompletion(listener: (count: number) => void): () => void {
    return this.listeners.add(listener);
  }

  stats(): CaptureEngineStats {
    const r = this.regs;
    const live = this.currentState === 'running';
    return {
      framesProduced: this.totals.produced + (live ? r.read(PcieRegister.FrameIndex) : 0),
      framesCompleted: this.totals.completed,
      framesDropped: this.totals.dropped,
      framesStarved: this.totals.starved + (live ? r.read(PcieRegister.FramesDropped) : 0),
      framesCorrupted: this.totals.corrupted,
      framesTruncated: this.totals.truncated,
    };
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    if (this.currentState === 'running') await this.stop();
    await this.stopInterruptLoop();
    if (this.outstanding > 0) this.cancelOutstanding(FrameStatus.Cancelled);
    this.currentState = 'closed';
    this.geometry = undefined;
  }

  /**
   * Resolves once the engine thread has handled every frame declared due so far and the
   * completions are published. For tests and orderly shutdown; not needed for streaming.
   * @returns false if the engine did not catch up within ~10 s (it is stuck or dead).
   */
  async settle(): Promise<boolean> {
    const release = this.o.engine.keepAlive();
    try {
      return await this.settleWait();
    } finally {
      release();
    }
  }

  private async settleWait(): Promise<boolean> {
    const r = this.regs;
    const index = PcieRegister.FrameIndex >>> 2;
    for (let slice = 0; slice < WAIT_SLICES; slice++) {
      if (this.currentState !== 'running') return true;
      const k = Atomics.load(r.words, index);
      if (
        k >>> 0 === r.read(PcieRegister.FrameDue) ||
        (r.read(PcieRegister.Status) & StatusBit.LinkDown) !== 0
      ) {
        this.serviceInterrupt();
        return true;
      }
      const w = waitForChange(r.words, index, k, WAIT_SLICE_MS);
      if (typeof w !== 'string') await w;
    }
    return false;
  }

  /** Frame clock: declares every frame due by now (normally one) and re-arms for the next. */
  private readonly onFrameClock = (): void => {
    if (this.currentState !== 'running') return;
    const now = this.o.timeSource.now();
    const r = this.regs;
    const tags = this.o.engine.tags;
    const frameTag = this.o.frameTag;
    let due = this.startTime + BigInt(this.nextDue) * this.interval;
    do {
      // Latch what the input carried when this frame was due, before the engine may look.
      tags[this.nextDue & (FRAME_TAG_ENTRIES - 1)] = frameTag === undefined ? 0 : frameTag(due);
      this.nextDue++;
      due += this.interval;
    } while (due <= now);
    r.write(PcieRegister.FrameDue, this.nextDue >>> 0);
    r.ringDoorbell();
    this.timer = this.o.timeSource.schedule(due, this.onFrameClock);
  };

  private async interruptLoop(): Promise<void> {
    const words = this.regs.words;
    const index = PcieRegister.InterruptCount >>> 2;
    // Streaming keeps the process alive, as a capture in progress should.
    const release = this.o.engine.keepAlive();
    try {
      while (this.irqActive) {
        const seen = Atomics.load(words, index);
        this.serviceInterrupt();
        if (!this.irqActive) break;
        const w = waitForChange(words, index, seen);
        if (typeof w !== 'string') await w;
      }
    } finally {
      release();
    }
  }

  private async stopInterruptLoop(): Promise<void> {
    if (!this.irqActive) return this.irqLoopDone;
    this.irqActive = false;
    Atomics.notify(this.regs.words, PcieRegister.InterruptCount >>> 2);
    return this.irqLoopDone;
  }

  /** Interrupt service routine: acknowledge (W1C), reap completed descriptors, handle link loss. */
  private serviceInterrupt(): void {
    const r = this.regs;
    const pending = r.read(PcieRegister.InterruptStatus);
    if (pending !== 0) r.write(PcieRegister.InterruptStatus, pending);
    this.reap();
    const linkLost =
      (pending & InterruptBit.LinkDown) !== 0 || (r.read(PcieRegister.Status) & StatusBit.LinkDown) !== 0;
    if (linkLost && this.currentState === 'running') {
      this.linkDown(
        this.o.engine.failure ??
          new HalError(HalErrorCode.Disconnected, `${this.o.deviceId}: link down (surprise removal)`, {
            deviceId: this.o.deviceId,
          }),
      );
    }
  }

  private reap(): void {
    const head = this.regs.read(PcieRegister.RingHead);
    const ring = this.o.engine.ring;
    const rec = this.record;
    let published = 0;
    while (this.reaped !== head) {
      const p = this.reaped;
      const code = ring.doneStatus(p);
      if (code === DescriptorStatus.Pending) break;
      const e = p & (this.capacity - 1);
      rec.cookie = this.fifoCookie[e]!;
      rec.slot = this.fifoSlot[e]!;
      rec.offset = this.fifoOffset[e]!;
      rec.status = STATUS_OF[code];
      rec.bytesUsed = ring.doneBytes(p);
      if (code === DescriptorStatus.Disconnected) {
        clearFrameInfo(rec);
      } else {
        this.fillFrame(rec, ring.doneSequence(p));
      }
      this.count(rec.status);
      this.slotBusy[rec.slot] = 0;
      this.completions.publish(rec);
      this.reaped = (p + 1) >>> 0;
      published++;
    }
    if (published > 0) this.listeners.notify(this.completions.count);
  }

  /** Frame fields of a completion for frame-time k (only its low 32 bits travel in the descriptor). */
  private fillFrame(rec: typeof this.record, kLow: number): void {
    const k = this.lastFrame + 1 + ((kLow - (this.lastFrame + 1)) >>> 0);
    const index = this.firstIndex + k;
    // Same accounting as the synthetic camera: starved frame times since the previous
    // completion, plus that completion itself if it was a Dropped one.
    const drops = k - this.lastFrame - 1 + (this.lastWasDropped ? 1 : 0);
    this.lastFrame = k;
    this.lastWasDropped = rec.status === FrameStatus.Dropped;
    rec.dropsBefore = drops;
    rec.frameIndex = BigInt(index);
    rec.sequence = index % TWO_POW_32;
    // As the camera does: the time is start + index × interval, so a near-wrap plan also puts
    // timestamps where a 32-bit frame counter would wrap.
    rec.presentationTime = this.startTime + rec.frameIndex * this.interval;
    rec.duration = this.interval;
    let flags = FrameFlag.TimeValid;
    if (rec.status === FrameStatus.Ok || rec.status === FrameStatus.Corrupt) flags |= FrameFlag.KeyFrame;
    if (drops > 0) flags |= FrameFlag.Discontinuity;
    if (rec.sequence === 0 && index > 0) flags |= FrameFlag.SequenceWrapped;
    if (!this.sawFirstFrame) {
      flags |= FrameFlag.FirstFrame;
      this.sawFirstFrame = true;
    }
    rec.flags = flags;
  }

  private count(status: FrameStatus): void {
    const t = this.totals;
    if (status === FrameStatus.Ok) t.completed++;
    else if (status === FrameStatus.Corrupt) {
      t.completed++;
      t.corrupted++;
    } else if (status === FrameStatus.Dropped) t.dropped++;
    else if (status === FrameStatus.Truncated) t.truncated++;
  }

  /** Returns every mapping the device has not completed, with `status`, in programming order. */
  private cancelOutstanding(status: FrameStatus, notify = true): number {
    const rec = this.record;
    let published = 0;
    while (this.reaped !== this.posted) {
      const e = this.reaped & (this.capacity - 1);
      rec.cookie = this.fifoCookie[e]!;
      rec.slot = this.fifoSlot[e]!;
      rec.offset = this.fifoOffset[e]!;
      rec.status = status;
      clearFrameInfo(rec);
      this.slotBusy[rec.slot] = 0;
      this.completions.publish(rec);
      this.reaped = (this.reaped + 1) >>> 0;
      published++;
    }
    if (notify && published > 0) this.listeners.notify(this.completions.count);
    return published;
  }

  private linkDown(reason: HalError): void {
    if (this.currentState === 'disconnected' || this.currentState === 'closed') return;
    this.timer?.cancel();
    this.timer = undefined;
    this.irqActive = false;
    Atomics.notify(this.regs.words, PcieRegister.InterruptCount >>> 2);
    // Disconnected first: listeners woken by the completions below must not program again.
    const wasRunning = this.currentState === 'running';
    this.disconnectReason = reason;
    this.currentState = 'disconnected';
    this.reap();
    this.cancelOutstanding(FrameStatus.Disconnected);
    if (wasRunning) this.accumulateTotals();
    this.o.logger.warn({ err: reason }, 'capture card disconnected');
    this.o.onDisconnect(reason);
  }

  private accumulateTotals(): void {
    const r = this.regs;
    this.totals.produced += r.read(PcieRegister.FrameIndex);
    this.totals.starved += r.read(PcieRegister.FramesDropped);
  }

  private resetTotals(): void {
    const t = this.totals;
    t.produced = t.completed = t.dropped = t.starved = t.corrupted = t.truncated = 0;
  }

  /** Waits (never blocking) until `test(Status)` holds; false after ~10 s or if the engine died. */
  private async waitStatus(test: (status: number) => boolean): Promise<boolean> {
    const release = this.o.engine.keepAlive();
    try {
      return await this.waitStatusSlices(test);
    } finally {
      release();
    }
  }

  private async waitStatusSlices(test: (status: number) => boolean): Promise<boolean> {
    const words = this.regs.words;
    const index = PcieRegister.Status >>> 2;
    for (let slice = 0; slice < WAIT_SLICES; slice++) {
      const s = Atomics.load(words, index);
      if (test(s)) return true;
      if (this.o.engine.failure !== undefined) return false;
      const w = waitForChange(words, index, s, WAIT_SLICE_MS);
      if (typeof w !== 'string') await w;
    }
    return false;
  }

  private disconnectedError(operation: string): HalError {
    return new HalError(
      HalErrorCode.Disconnected,
      `${this.o.deviceId}: ${operation} on a disconnected device`,
      {
        deviceId: this.o.deviceId,
        cause: this.disconnectReason,
      },
    );
  }

  private requireUsable(operation: string, allowed: readonly CaptureEngineState[]): void {
    if (this.currentState === 'disconnected') throw this.disconnectedError(operation);
    if (!allowed.includes(this.currentState)) {
      throw HalError.invalidState(operation, this.currentState, allowed, this.o.deviceId);
    }
  }
}
