// The CaptureEngine of a USB UVC camera: probe/commit at start, bulk or iso streams reassembled straight into pool slots.
import type { Logger } from 'pino';
import {
  FrameFlag,
  FrameStatus,
  slotDataOffset,
  validatePoolGeometry,
  type CaptureEngine,
  type CaptureEngineState,
  type CaptureEngineStats,
  type CaptureStartOptions,
  type DmaMapping,
  type PoolGeometry,
} from '../capture-engine.js';
import { CompletionRing, emptyCompletionRecord, type CompletionRecord } from '../completion-ring.js';
import { HalError, HalErrorCode, isHalError } from '../hal-error.js';
import { validateVideoFormat, type VideoFormat } from '../pixel-format.js';
import type { TimeSource } from '../time-source.js';
import type { UsbInStream, UsbIsoInStream, UsbStreamEnd, UsbTransport } from '../usb/usb-transport.js';
import type { UvcFormat, UvcFrame, UvcFunction, UvcStreamingInterface } from '../uvc/descriptor-types.js';
import { PayloadReassembler, UvcFrameFlag, type ReassembledFrame } from '../uvc/payload-reassembler.js';
import { ProbeNegotiation, type NegotiationResult } from '../uvc/probe-commit.js';

/** A hal format resolved to the camera's UVC format and frame descriptors. */
export interface UvcFormatChoice {
  readonly format: UvcFormat;
  readonly frame: UvcFrame;
  /** The dwFrameInterval to ask for (100 ns). */
  readonly interval: number;
}

/** What a {@link UvcCaptureEngine} needs from its session. */
export interface UvcCaptureEngineOptions {
  readonly deviceId: string;
  readonly transport: UsbTransport;
  readonly function: UvcFunction;
  readonly streaming: UvcStreamingInterface;
  readonly timeSource: TimeSource;
  readonly logger: Logger;
  /** Resolves a hal format to descriptors; undefined when the camera does not produce it. */
  resolve(format: VideoFormat): UvcFormatChoice | undefined;
  /** Bulk transfers kept in flight (default 8). */
  readonly bulkDepth?: number;
  /** Iso transfers kept in flight (default 8) and packets per transfer (default 32). */
  readonly isoDepth?: number;
  readonly isoPacketsPerTransfer?: number;
  /** Called once when the engine sees the device go away. */
  onDisconnect?(reason: HalError): void;
}

const TWO_POW_32 = 4294967296;
const ERRORS = UvcFrameFlag.error | UvcFrameFlag.short | UvcFrameFlag.long;

/**
 * {@link CaptureEngine} over a UVC VideoStreaming interface.
 *
 * - `configure` checks the format against the descriptors (synchronous, no USB traffic);
 *   `start` runs probe/commit (26/34/48-byte blocks by bcdUVC, Linux fix-ups), picks the
 *   smallest iso alternate setting whose bandwidth fits, and opens the stream: bulk with
 *   `bulkDepth` transfers of dwMaxPayloadTransferSize (rounded up to wMaxPacketSize) in flight,
 *   or iso (transports without iso reject with HalError(Unsupported) before any request).
 * - Payloads are reassembled straight into the oldest programmed mapping (zero copy beyond the
 *   one from the transfer buffer). A frame that starts while no mapping is programmed is
 *   skipped whole and counted starved; the next completion carries Discontinuity/dropsBefore.
 * - Status: Ok; Corrupt for ERR/lost iso packets or the wrong size of an uncompressed frame;
 *   Truncated (bytesUsed 0) when the frame overflowed the mapping; Dropped for an empty frame;
 *   Cancelled at stop; Disconnected on unplug.
 * - Frame n (counted by FID toggles since start, so frames lost on the wire count) is stamped
 *   startTime + n × interval on the injected TimeSource.
 * - `stop` stops the stream, then selects alt 0 (iso) or clears the endpoint halt (bulk).
 */
export class UvcCaptureEngine implements CaptureEngine {
  readonly completions: CompletionRing;
  private readonly o: UvcCaptureEngineOptions;
  private readonly logger: Logger;
  private current: CaptureEngineState = 'idle';
  private fmt: VideoFormat | undefined;
  private choice: UvcFormatChoice | undefined;
  private geometry: PoolGeometry | undefined;
  private memory: Uint8Array | undefined;
  private slotViews: Array<Uint8Array | undefined> = [];
  private readonly qSlot: Int32Array;
  private readonly qOffset: Int32Array;
  private readonly qLength: Int32Array;
  private readonly qCookie: Float64Array;
  private qHead = 0;
  private qCount = 0;
  private slotBusy = new Uint8Array(0);
  private reassembler: PayloadReassembler | undefined;
  private bulk: UsbInStream | undefined;
  private iso: UsbIsoInStream | undefined;
  private negotiated: NegotiationResult | undefined;
  private startTime = 0n;
  private interval = 0n;
  private lastN = -1;
  private firstPending = false;
  private flushing = false;
  private stopping: Promise<void> | undefined;
  private readonly record: CompletionRecord = emptyCompletionRecord();
  private readonly listeners: Array<(count: number) => void> = [];
  private readonly counters: CaptureEngineStats = {
    framesProduced: 0,
    framesCompleted: 0,
    framesDropped: 0,
    framesStarved: 0,
    framesCorrupted: 0,
    framesTruncated: 0,
  };
  private readonly onFrame = (f: ReassembledFrame): void => this.frameDone(f);

  constructor(options: UvcCaptureEngineOptions, ringCapacity = 64) {
    this.o = options;
    this.logger = options.logger.child({ component: 'uvc-capture-engine' });
    this.completions = CompletionRing.create(ringCapacity);
    const cap = this.completions.capacity;
    this.qSlot = new Int32Array(cap);
    this.qOffset = new Int32Array(cap);
    this.qLength = new Int32Array(cap);
    this.qCookie = new Float64Array(cap);
  }

  get state(): CaptureEngineState {
    return this.current;
  }

  get format(): VideoFormat | undefined {
    return this.fmt;
  }

  get outstanding(): number {
    return this.qCount;
  }

  /** The last probe/commit result (after a successful `start`). */
  get negotiation(): NegotiationResult | undefined {
    return this.negotiated;
  }

  registerPool(geometry: PoolGeometry, memory: SharedArrayBuffer): void {
    this.requireState('registerPool()', ['idle', 'configured']);
    if (Object.prototype.toString.call(memory) !== '[object SharedArrayBuffer]') {
      throw new TypeError('memory must be a SharedArrayBuffer');
    }
    validatePoolGeometry(geometry, memory.byteLength);
    if (this.qCount > 0)
      throw HalError.invalidState(
        'registerPool()',
        'configured with mappings outstanding',
        'configured with no mappings',
      );
    this.geometry = Object.freeze({ ...geometry });
    this.memory = new Uint8Array(memory);
    this.slotViews = new Array<Uint8Array | undefined>(geometry.slotCount).fill(undefined);
    this.slotBusy = new Uint8Array(geometry.slotCount);
    this.updateConfigured();
  }

  configure(format: VideoFormat): void {
    this.requireState('configure()', ['idle', 'configured']);
    validateVideoFormat(format);
    const choice = this.o.resolve(format);
    if (choice === undefined) {
      throw new HalError(
        HalErrorCode.Unsupported,
        `${this.o.deviceId} does not produce ${format.fourcc} ${format.width}x${format.height} at interval ${format.interval}`,
        { deviceId: this.o.deviceId },
      );
    }
    this.fmt = Object.freeze({ ...format });
    this.choice = choice;
    this.updateConfigured();
  }

  program(mappings: readonly DmaMapping[]): void {
    this.requireState('program()', ['configured', 'running']);
    const g = this.geometry;
    if (g === undefined)
      throw HalError.invalidState('program()', 'configured without a pool', 'configured with a pool');
    if (!Array.isArray(mappings)) throw new TypeError('mappings must be an array');
    if (this.qCount + mappings.length > this.completions.capacity) {
      throw new RangeError(
        `${this.qCount + mappings.length} mappings would be outstanding; the engine takes at most ${this.completions.capacity}`,
      );
    }
    for (let i = 0; i < mappings.length; i++) {
      const m = mappings[i]!;
      if (!Number.isInteger(m.slot) || m.slot < 0 || m.slot >= g.slotCount) {
        throw new RangeError(`mapping ${i}: slot ${m.slot} is outside [0, ${g.slotCount})`);
      }
      if (!Number.isInteger(m.offset) || m.offset < 0 || m.offset % 4 !== 0) {
        throw new RangeError(`mapping ${i}: offset ${m.offset} must be an integer >= 0 and a multiple of 4`);
      }
      if (!Number.isInteger(m.length) || m.length < 1 || m.offset + m.length > g.dataLength) {
        throw new RangeError(
          `mapping ${i}: [${m.offset}, ${m.offset + m.length}) is outside the slot's ${g.dataLength} bytes`,
        );
      }
      if (typeof m.cookie !== 'number' || !Number.isFinite(m.cookie)) {
        throw new TypeError(`mapping ${i}: cookie must be a finite number`);
      }
      if (this.slotBusy[m.slot] === 1)
        throw new RangeError(`mapping ${i}: slot ${m.slot} is already programmed`);
      for (let j = 0; j < i; j++) {
        if (mappings[j]!.slot === m.slot) throw new RangeError(`mapping ${i}: slot ${m.slot} appears twice`);
      }
    }
    const cap = this.completions.capacity;
    const wasEmpty = this.qCount === 0;
    for (const m of mappings) {
      const at = (this.qHead + this.qCount) % cap;
      this.qSlot[at] = m.slot;
      this.qOffset[at] = m.offset;
      this.qLength[at] = m.length;
      this.qCookie[at] = m.cookie;
      this.qCount++;
      this.slotBusy[m.slot] = 1;
    }
    // Invariant while running: the reassembler's next destination is the head mapping.
    if (wasEmpty && this.qCount > 0 && this.reassembler !== undefined)
      this.reassembler.setDestination(this.headView());
  }

  async start(options: CaptureStartOptions = {}): Promise<void> {
    this.requireState('start()', ['configured']);
    const fmt = this.fmt;
    const choice = this.choice;
    if (fmt === undefined || choice === undefined || this.geometry === undefined) {
      throw HalError.invalidState(
        'start()',
        this.fmt === undefined ? 'no format' : 'no pool',
        'configured with format and pool',
      );
    }
    if (options.startTime !== undefined && typeof options.startTime !== 'bigint') {
      throw new TypeError('startTime must be a bigint (100 ns)');
    }
    const vs = this.o.streaming;
    const t = this.o.transport;
    if (vs.transfer === 'isochronous' && !t.capabilities.isochronous) {
      throw new HalError(
        HalErrorCode.Unsupported,
        `${this.o.deviceId} streams over isochronous endpoints, which this USB backend cannot do ` +
          `(node-usb has no isochronous transfers; on Linux build the usbfs addon)`,
        { deviceId: this.o.deviceId },
      );
    }
    // Guard against stop()/close()/unplug while negotiating.
    this.current = 'running';
    let result: NegotiationResult;
    try {
      result = await this.negotiate(choice);
      if (this.current !== 'running') throw this.stateAfterAwait('start()');
      if (vs.transfer === 'isochronous') await t.setAlternateSetting(vs.interfaceNumber, result.alt);
    } catch (err) {
      if (this.current === 'running') this.current = 'configured';
      if (isHalError(err, HalErrorCode.Disconnected)) {
        this.disconnect(err);
        throw err;
      }
      if (
        isHalError(err) &&
        (err.code === HalErrorCode.NoBandwidth || err.code === HalErrorCode.InvalidState)
      )
        throw err;
      throw new HalError(
        HalErrorCode.StartFailed,
        `${this.o.deviceId}: streaming did not start: ${(err as Error).message}`,
        {
          cause: err,
          deviceId: this.o.deviceId,
        },
      );
    }
    if (this.current !== 'running') throw this.stateAfterAwait('start()');
    this.negotiated = result;
    const committed = result.committed;
    const uncompressed = choice.format.type === 'uncompressed';
    const r = new PayloadReassembler({
      transfer: vs.transfer,
      maxPayloadTransferSize: Math.max(2, committed.maxPayloadTransferSize),
      ...(uncompressed ? { expectedFrameSize: committed.maxVideoFrameSize } : {}),
      onFrame: this.onFrame,
    });
    this.reassembler = r;
    this.startTime = options.startTime ?? this.o.timeSource.now();
    this.interval = BigInt(committed.frameInterval || choice.interval);
    this.lastN = -1;
    this.firstPending = true;
    if (this.qCount > 0) r.setDestination(this.headView());
    try {
      if (vs.transfer === 'bulk') {
        const alt = vs.altSettings[0];
        const mps = Math.max(1, alt?.maxPacketSize ?? 512);
        const transferSize = Math.ceil(Math.max(committed.maxPayloadTransferSize, 1) / mps) * mps;
        const stream = t.openInStream(vs.endpointAddress, {
          transferSize,
          depth: this.o.bulkDepth ?? 8,
          onData: (view, status) => {
            if (status === 'ok' || status === 'overflow' || status === 'error')
              r.pushBulk(view, transferSize);
          },
        });
        this.bulk = stream;
        void stream.ended.then((end) => this.streamEnded(end));
      } else {
        const stream = t.openIsoInStream(vs.endpointAddress, {
          packetsPerTransfer: this.o.isoPacketsPerTransfer ?? 32,
          packetSize: result.bytesPerInterval,
          depth: this.o.isoDepth ?? 8,
          onTransfer: (view) => r.pushIsoTransfer(view),
        });
        this.iso = stream;
        void stream.ended.then((end) => this.streamEnded(end));
      }
    } catch (err) {
      this.reassembler = undefined;
      this.current = 'configured';
      if (isHalError(err, HalErrorCode.Disconnected)) this.disconnect(err);
      throw new HalError(HalErrorCode.StartFailed, `${this.o.deviceId}: cannot open the video stream`, {
        cause: err,
        deviceId: this.o.deviceId,
      });
    }
    this.logger.debug(
      { alt: result.alt, payload: committed.maxPayloadTransferSize, frameSize: committed.maxVideoFrameSize },
      'capture started',
    );
  }

  async stop(): Promise<void> {
    if (this.current === 'configured' || this.current === 'idle') return;
    this.requireState('stop()', ['running']);
    if (this.stopping !== undefined) return this.stopping;
    this.stopping = this.stopStream(FrameStatus.Cancelled, true).finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  invalidateSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotBusy.length) {
      throw new RangeError(`slot ${slot} is outside [0, ${this.slotBusy.length})`);
    }
    // Nothing to forget: UVC frames are always written whole, never repainted in place.
  }

  onCompletion(listener: (count: number) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  stats(): CaptureEngineStats {
    return { ...this.counters };
  }

  /**
   * The device went away: stops streams (without further USB traffic), completes every
   * outstanding mapping `Disconnected`, moves to `disconnected` and tells the session. Idempotent.
   */
  disconnect(cause?: unknown): void {
    if (this.current === 'disconnected' || this.current === 'closed') return;
    this.current = 'disconnected';
    this.flushing = true;
    this.reassembler?.flush();
    this.flushing = false;
    this.reassembler = undefined;
    const bulk = this.bulk;
    const iso = this.iso;
    this.bulk = undefined;
    this.iso = undefined;
    void bulk?.stop();
    void iso?.stop();
    this.drainQueue(FrameStatus.Disconnected);
    const reason = isHalError(cause, HalErrorCode.Disconnected)
      ? cause
      : new HalError(HalErrorCode.Disconnected, `${this.o.deviceId} disconnected`, {
          cause,
          deviceId: this.o.deviceId,
        });
    this.logger.info({ err: reason }, 'device disconnected');
    this.o.onDisconnect?.(reason);
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    if (this.current === 'running')
      await this.stop().catch((err) => this.logger.warn({ err }, 'stop at close failed'));
    if (this.qCount > 0)
      this.drainQueue(this.current === 'disconnected' ? FrameStatus.Disconnected : FrameStatus.Cancelled);
    this.current = 'closed';
    this.memory = undefined;
    this.geometry = undefined;
    this.slotViews = [];
    this.listeners.length = 0;
  }

  private async negotiate(choice: UvcFormatChoice): Promise<NegotiationResult> {
    const vs = this.o.streaming;
    const n = new ProbeNegotiation(
      {
        vsInterface: vs.interfaceNumber,
        bcdUVC: this.o.function.bcdUVC,
        formats: vs.formats,
        transfer: vs.transfer,
        altSettings: vs.altSettings,
        highSpeed: this.o.transport.info.speed !== 'full' && this.o.transport.info.speed !== 'low',
      },
      { formatIndex: choice.format.index, frameIndex: choice.frame.index, frameInterval: choice.interval },
    );
    const t = this.o.transport;
    let step = n.step();
    while (step.kind === 'request') {
      const req = step.request;
      try {
        if (req.data !== undefined) {
          await t.controlOut(req, req.data, { timeoutMs: 1000 });
          step = n.reply({ status: 'ok' });
        } else {
          const data = await t.controlIn(req, req.length, { timeoutMs: 1000 });
          step = n.reply({ status: 'ok', data });
        }
      } catch (err) {
        if (!isHalError(err, HalErrorCode.Stall)) throw err;
        step = n.reply({ status: 'stall' });
      }
    }
    if (step.kind === 'failed') {
      throw new HalError(HalErrorCode[step.code], `probe/commit failed: ${step.message}`, {
        deviceId: this.o.deviceId,
      });
    }
    return step.result;
  }

  /** Stops the stream, returns the frame in progress and completes the rest with `status`. */
  private async stopStream(status: FrameStatus, resetDevice: boolean): Promise<void> {
    const bulk = this.bulk;
    const iso = this.iso;
    this.bulk = undefined;
    this.iso = undefined;
    await Promise.all([bulk?.stop(), iso?.stop()]);
    if (this.current === 'disconnected' || this.current === 'closed') return;
    this.flushing = true;
    this.reassembler?.flush();
    this.flushing = false;
    this.reassembler = undefined;
    this.current = 'configured';
    this.drainQueue(status);
    if (!resetDevice) return;
    const vs = this.o.streaming;
    try {
      if (vs.transfer === 'isochronous') await this.o.transport.setAlternateSetting(vs.interfaceNumber, 0);
      else await this.o.transport.clearHalt(vs.endpointAddress);
    } catch (err) {
      if (isHalError(err, HalErrorCode.Disconnected)) this.disconnect(err);
      else this.logger.warn({ err }, 'resetting the streaming interface after stop failed');
    }
    this.logger.debug('capture stopped');
  }

  private streamEnded(end: UsbStreamEnd): void {
    if (end.reason === 'stopped') return;
    if (end.reason === 'disconnected') {
      this.disconnect(end.error);
      return;
    }
    if (this.current !== 'running' || this.stopping !== undefined) return;
    // A STALL or transfer error ended the stream: the device stopped streaming. Return every
    // mapping (Dropped) and go back to configured so the owner can restart.
    this.logger.warn({ err: end.error }, 'video stream ended by the device');
    this.bulk = undefined;
    this.iso = undefined;
    void this.stopStream(FrameStatus.Dropped, false);
  }

  private headView(): Uint8Array {
    const at = this.qHead;
    const slot = this.qSlot[at]!;
    const offset = this.qOffset[at]!;
    const length = this.qLength[at]!;
    const g = this.geometry!;
    if (offset === 0 && length === g.dataLength) {
      // Whole-slot mappings are the common case: one cached view per slot, no per-frame allocation.
      let v = this.slotViews[slot];
      if (v === undefined) {
        v = this.memory!.subarray(slotDataOffset(g, slot), slotDataOffset(g, slot) + length);
        this.slotViews[slot] = v;
      }
      return v;
    }
    const base = slotDataOffset(g, slot) + offset;
    return this.memory!.subarray(base, base + length);
  }

  private frameDone(f: ReassembledFrame): void {
    if (this.qCount === 0) return;
    const cap = this.completions.capacity;
    const at = this.qHead;
    const slot = this.qSlot[at]!;
    const r = this.record;
    r.cookie = this.qCookie[at]!;
    r.slot = slot;
    r.offset = this.qOffset[at]!;
    if (this.flushing) {
      // The frame in progress at stop/unplug: its mapping is returned by drainQueue.
      return;
    }
    const n = Math.max(f.sequence - 1, this.lastN + 1);
    const drops = n - this.lastN - 1;
    this.counters.framesProduced += n - this.lastN;
    this.counters.framesStarved += f.skippedFrames;
    this.lastN = n;
    r.frameIndex = BigInt(n);
    r.sequence = n % TWO_POW_32;
    r.presentationTime = this.startTime + r.frameIndex * this.interval;
    r.duration = this.interval;
    r.dropsBefore = drops;
    let flags = FrameFlag.TimeValid | FrameFlag.KeyFrame;
    if (drops > 0) flags |= FrameFlag.Discontinuity;
    if (this.firstPending) flags |= FrameFlag.FirstFrame;
    if (r.sequence === 0 && n > 0) flags |= FrameFlag.SequenceWrapped;
    this.firstPending = false;
    r.flags = flags;
    if ((f.flags & UvcFrameFlag.truncated) !== 0) {
      r.status = FrameStatus.Truncated;
      r.bytesUsed = 0;
      this.counters.framesTruncated++;
    } else if (f.bytesUsed === 0) {
      r.status = FrameStatus.Dropped;
      r.bytesUsed = 0;
      this.counters.framesDropped++;
    } else if ((f.flags & ERRORS) !== 0) {
      r.status = FrameStatus.Corrupt;
      r.bytesUsed = f.bytesUsed;
      this.counters.framesCorrupted++;
      this.counters.framesCompleted++;
    } else {
      r.status = FrameStatus.Ok;
      r.bytesUsed = f.bytesUsed;
      this.counters.framesCompleted++;
    }
    this.qHead = (at + 1) % cap;
    this.qCount--;
    this.slotBusy[slot] = 0;
    this.completions.publish(r);
    this.reassembler?.setDestination(this.qCount > 0 ? this.headView() : undefined);
    this.notify();
  }

  private drainQueue(status: FrameStatus): void {
    if (this.qCount === 0) return;
    const cap = this.completions.capacity;
    const r = this.record;
    while (this.qCount > 0) {
      const at = this.qHead;
      r.cookie = this.qCookie[at]!;
      r.slot = this.qSlot[at]!;
      r.offset = this.qOffset[at]!;
      r.status = status;
      r.flags = 0;
      r.bytesUsed = 0;
      r.dropsBefore = 0;
      r.frameIndex = -1n;
      r.sequence = 0;
      r.presentationTime = 0n;
      r.duration = 0n;
      if (status === FrameStatus.Dropped) this.counters.framesDropped++;
      this.slotBusy[r.slot] = 0;
      this.qHead = (at + 1) % cap;
      this.qCount--;
      this.completions.publish(r);
    }
    this.notify();
  }

  private notify(): void {
    const count = this.completions.count;
    for (let i = 0; i < this.listeners.length; i++) {
      try {
        this.listeners[i]!(count);
      } catch (err) {
        this.logger.error({ err }, 'completion listener threw');
      }
    }
  }

  private updateConfigured(): void {
    this.current = this.fmt !== undefined && this.geometry !== undefined ? 'configured' : 'idle';
  }

  private stateAfterAwait(operation: string): HalError {
    if (this.current === 'disconnected')
      return new HalError(HalErrorCode.Disconnected, `${operation}: ${this.o.deviceId} is disconnected`, {
        deviceId: this.o.deviceId,
      });
    return HalError.invalidState(operation, this.current, 'running', this.o.deviceId);
  }

  private requireState(operation: string, allowed: readonly CaptureEngineState[]): void {
    if (allowed.includes(this.current)) return;
    if (this.current === 'disconnected') {
      throw new HalError(HalErrorCode.Disconnected, `${operation}: ${this.o.deviceId} is disconnected`, {
        deviceId: this.o.deviceId,
      });
    }
    throw HalError.invalidState(operation, this.current, allowed, this.o.deviceId);
  }
}
