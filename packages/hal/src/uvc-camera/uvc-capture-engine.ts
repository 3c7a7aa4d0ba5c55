// The CaptureEngine of a USB UVC camera: probe/commit at start, bulk or iso streams reassembled straight into pool slots.
import { CompletionListeners } from '../completion-listeners.js';
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
} from '../capture-engine.js';
import { CompletionRing, emptyCompletionRecord, type CompletionRecord } from '../completion-ring.js';
import { HalError, HalErrorCode, isHalError } from '../hal-error.js';
import { MappingQueue } from '../mapping-queue.js';
import { validateVideoFormat, type VideoFormat } from '../pixel-format.js';
import type { ScheduledCallback, TimeSource } from '../time-source.js';
import type { UsbStreamEnd, UsbTransport } from '../usb/usb-transport.js';
import { buildGetRequest, buildSetCurRequest, VsSelector } from '../uvc/controls.js';
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

/** A still size resolved to the camera's descriptors (method 2: sent on the video endpoint). */
export interface UvcStillChoice {
  readonly format: UvcFormat;
  /** 1-based index into the still image frame descriptor's sizes. */
  readonly frameIndex: number;
  /** bCompressionIndex (1-based; 0 when the descriptor lists no compression patterns). */
  readonly compressionIndex: number;
  /** bStillCaptureMethod of the VS interface. */
  readonly method: number;
}

interface PendingStill {
  readonly view: Uint8Array;
  resolve(bytesUsed: number): void;
  reject(error: Error): void;
  timer: ScheduledCallback | undefined;
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
  /** Resolves a still size to its UVC format and still frame index; undefined when not offered. */
  resolveStill?(fourcc: string, width: number, height: number): UvcStillChoice | undefined;
  /** Bulk transfers kept in flight (default {@link DEFAULT_BULK_DEPTH}). */
  readonly bulkDepth?: number;
  /** Iso transfers kept in flight (default {@link DEFAULT_ISO_DEPTH}) and packets per transfer (default 32). */
  readonly isoDepth?: number;
  readonly isoPacketsPerTransfer?: number;
  /** Called once when the engine sees the device go away. */
  onDisconnect?(reason: HalError): void;
}

/**
 * Bulk transfers kept in flight by default. uvcvideo gets by with 5 because it completes URBs in interrupt
 * context; a user-space driver sees each completion only after a poll wake-up and a reap, and a bulk device
 * sends only while transfers are queued, so a shallow queue lets its FIFO overflow through scheduling
 * hiccups. Measured in usbvm at 640x480 YUY2 30 fps (`pnpm bench usb`, host load 3–4): 8 fell to 14–28 fps
 * where 32 held 29–30, at less CPU per frame (completions are reaped in batches). 32 × 16 KiB buffers.
 */
export const DEFAULT_BULK_DEPTH = 32;
/**
 * Iso transfers kept in flight by default (× 32 packets = 32 ms of bus time at high speed). An iso device
 * paces itself; in the same measurements 8, 16 and 32 all held 30 fps, and 32 cost the guest about twice
 * the CPU per frame (vhci/network side), so iso stays at 8.
 */
export const DEFAULT_ISO_DEPTH = 8;

const TWO_POW_32 = 4294967296;
const STILL_BLOCK = 11;
/** Frame times a still may take to arrive after its trigger before the capture fails TimedOut. */
const STILL_TIMEOUT_FRAMES = 30n;

interface VideoStream {
  readonly ended: Promise<UsbStreamEnd>;
  stop(): Promise<void>;
}
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
  private readonly queue: MappingQueue;
  private reassembler: PayloadReassembler | undefined;
  private stream: VideoStream | undefined;
  private still: PendingStill | undefined;
  private stillBusy = false;
  /** A stream opened only to take a still (the engine was not running). */
  private stillStream: VideoStream | undefined;
  private negotiated: NegotiationResult | undefined;
  private startTime = 0n;
  private interval = 0n;
  private lastN = -1;
  private firstPending = false;
  private flushing = false;
  private stopping: Promise<void> | undefined;
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
  private readonly onFrame = (f: ReassembledFrame): void => this.frameDone(f);

  constructor(options: UvcCaptureEngineOptions, ringCapacity = 64) {
    this.o = options;
    this.logger = options.logger.child({ component: 'uvc-capture-engine' });
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

  /** The last probe/commit result (after a successful `start`). */
  get negotiation(): NegotiationResult | undefined {
    return this.negotiated;
  }

  registerPool(geometry: PoolGeometry, memory: SharedArrayBuffer): void {
    this.requireState('registerPool()', ['idle', 'configured']);
    validatePoolRegistration(geometry, memory, this.queue.count);
    this.geometry = Object.freeze({ ...geometry });
    this.memory = new Uint8Array(memory);
    this.slotViews = new Array<Uint8Array | undefined>(geometry.slotCount).fill(undefined);
    this.queue.resetPool(geometry.slotCount);
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
    const wasEmpty = this.queue.count === 0;
    this.queue.push(mappings, g);
    // Invariant while running: the reassembler's next destination is the head mapping.
    if (
      wasEmpty &&
      this.queue.count > 0 &&
      this.current === 'running' &&
      this.reassembler !== undefined &&
      this.still === undefined
    )
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
    if (this.stillBusy)
      throw new HalError(
        HalErrorCode.Busy,
        `${this.o.deviceId}: a still capture is streaming; start after it`,
        {
          deviceId: this.o.deviceId,
        },
      );
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
    if (this.queue.count > 0) r.setDestination(this.headView());
    try {
      const stream = this.openStream(result, r);
      this.stream = stream;
      void stream.ended.then((end) => this.streamEnded(end));
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
    const slots = this.queue.slotCount;
    if (!Number.isInteger(slot) || slot < 0 || slot >= slots) {
      throw new RangeError(`slot ${slot} is outside [0, ${slots})`);
    }
    // Nothing to forget: UVC frames are always written whole, never repainted in place.
  }

  onCompletion(listener: (count: number) => void): () => void {
    return this.listeners.add(listener);
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
    const stream = this.stream;
    const stillStream = this.stillStream;
    this.stream = undefined;
    this.stillStream = undefined;
    void stream?.stop();
    void stillStream?.stop();
    this.drainQueue(FrameStatus.Disconnected);
    const reason = isHalError(cause, HalErrorCode.Disconnected)
      ? cause
      : new HalError(HalErrorCode.Disconnected, `${this.o.deviceId} disconnected`, {
          cause,
          deviceId: this.o.deviceId,
        });
    this.logger.info({ err: reason }, 'device disconnected');
    this.failStill(reason);
    this.o.onDisconnect?.(reason);
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    this.failStill(
      new HalError(HalErrorCode.InvalidState, `${this.o.deviceId}: closed before the still arrived`, {
        deviceId: this.o.deviceId,
      }),
    );
    if (this.current === 'running')
      await this.stop().catch((err) => this.logger.warn({ err }, 'stop at close failed'));
    if (this.queue.count > 0)
      this.drainQueue(this.current === 'disconnected' ? FrameStatus.Disconnected : FrameStatus.Cancelled);
    this.current = 'closed';
    this.memory = undefined;
    this.geometry = undefined;
    this.slotViews = [];
    this.listeners.clear();
  }

  /**
   * Takes one method 2 still image (STILL_PROBE/COMMIT, then STILL_IMAGE_TRIGGER) into `target`
   * (borrowed until the promise settles) and resolves with its byte count. While running, the
   * still is taken from the live stream (a video frame arriving first is passed on to its mapping);
   * otherwise a stream is opened for the still alone (the format's default frame) and closed after.
   * @throws HalError Unsupported (size not offered, or method 3), Busy (a still is already pending),
   * TimedOut (no still within 30 frame times), InvalidState (stopped meanwhile), Disconnected;
   * RangeError when `target` is smaller than the device's dwMaxVideoFrameSize for the still.
   */
  async captureStill(fourcc: string, width: number, height: number, target: Uint8Array): Promise<number> {
    this.requireState('captureStill()', ['idle', 'configured', 'running']);
    if (this.stillBusy)
      throw new HalError(HalErrorCode.Busy, `${this.o.deviceId}: a still capture is already in progress`, {
        deviceId: this.o.deviceId,
      });
    this.stillBusy = true;
    try {
      return await this.takeStill(fourcc, width, height, target);
    } finally {
      this.stillBusy = false;
    }
  }

  private async takeStill(
    fourcc: string,
    width: number,
    height: number,
    target: Uint8Array,
  ): Promise<number> {
    const deviceId = this.o.deviceId;
    const choice = this.o.resolveStill?.(fourcc, width, height);
    if (choice === undefined || choice.method !== 2) {
      throw new HalError(
        HalErrorCode.Unsupported,
        `${deviceId}: no ${choice === undefined ? '' : `method ${choice.method} `}still ${fourcc} ${width}x${height}` +
          (choice === undefined ? '' : ' (only method 2 stills are implemented)'),
        { deviceId },
      );
    }
    const vs = this.o.streaming;
    const t = this.o.transport;
    const address = (selector: number): { interfaceNumber: number; entityId: number; selector: number } => ({
      interfaceNumber: vs.interfaceNumber,
      entityId: 0,
      selector,
    });
    const block = new Uint8Array(STILL_BLOCK);
    block[0] = choice.format.index;
    block[1] = choice.frameIndex;
    block[2] = choice.compressionIndex;
    const probe = buildSetCurRequest(address(VsSelector.stillProbe), block);
    await t.controlOut(probe, block, { timeoutMs: 1000 });
    const get = buildGetRequest('cur', address(VsSelector.stillProbe), STILL_BLOCK);
    const answer = await t.controlIn(get, STILL_BLOCK, { timeoutMs: 1000 });
    const frameSize =
      answer.length >= 7
        ? new DataView(answer.buffer, answer.byteOffset, answer.length).getUint32(3, true)
        : 0;
    if (frameSize > target.length)
      throw new RangeError(
        `target has ${target.length} bytes; the device sends this still in up to ${frameSize}`,
      );
    const commitBlock = new Uint8Array(STILL_BLOCK);
    commitBlock.set(answer.subarray(0, STILL_BLOCK));
    await t.controlOut(buildSetCurRequest(address(VsSelector.stillCommit), commitBlock), commitBlock, {
      timeoutMs: 1000,
    });
    const running = this.current === 'running' && this.reassembler !== undefined;
    let interval = this.interval;
    if (!running) {
      // Not streaming: open a stream (the still's format, default frame) only for this still.
      const fr =
        choice.format.frames.find((x) => x.index === choice.format.defaultFrameIndex) ??
        choice.format.frames[0];
      if (fr === undefined)
        throw new HalError(HalErrorCode.Unsupported, `${deviceId}: format has no frames`, { deviceId });
      if (vs.transfer === 'isochronous' && !t.capabilities.isochronous)
        throw new HalError(
          HalErrorCode.Unsupported,
          `${deviceId}: this USB backend cannot stream isochronous`,
          {
            deviceId,
          },
        );
      const result = await this.negotiate({ format: choice.format, frame: fr, interval: fr.defaultInterval });
      if (this.current !== 'idle' && this.current !== 'configured')
        throw this.stateAfterAwait('captureStill()');
      if (vs.transfer === 'isochronous') await t.setAlternateSetting(vs.interfaceNumber, result.alt);
      interval = BigInt(result.committed.frameInterval || fr.defaultInterval);
      const r = new PayloadReassembler({
        transfer: vs.transfer,
        maxPayloadTransferSize: Math.max(2, result.committed.maxPayloadTransferSize),
        onFrame: this.onFrame,
      });
      this.reassembler = r;
      try {
        this.stillStream = this.openStream(result, r);
      } catch (err) {
        this.reassembler = undefined;
        if (vs.transfer === 'isochronous')
          await t.setAlternateSetting(vs.interfaceNumber, 0).catch(() => undefined);
        throw err;
      }
    }
    const done = new Promise<number>((resolve, reject) => {
      const pending: PendingStill = { view: target, resolve, reject, timer: undefined };
      this.still = pending;
      this.reassembler?.setDestination(target);
      pending.timer = this.o.timeSource.schedule(
        this.o.timeSource.now() + STILL_TIMEOUT_FRAMES * (interval > 0n ? interval : 10_000_000n),
        () =>
          this.failStill(
            new HalError(HalErrorCode.TimedOut, `${deviceId}: no still image arrived after the trigger`, {
              deviceId,
            }),
          ),
      );
    });
    try {
      const trigger = Uint8Array.of(1);
      await t.controlOut(buildSetCurRequest(address(VsSelector.stillImageTrigger), trigger), trigger, {
        timeoutMs: 1000,
      });
    } catch (err) {
      this.failStill(err as Error);
    }
    try {
      return await done;
    } finally {
      if (!running) await this.closeStillStream();
    }
  }

  /** Rejects a pending still and gives the reassembler back to the mappings. */
  private failStill(error: Error): void {
    const s = this.still;
    if (s === undefined) return;
    this.still = undefined;
    s.timer?.cancel();
    if (this.current === 'running' && this.stillStream === undefined)
      this.reassembler?.setDestination(this.nextView());
    s.reject(error);
  }

  private async closeStillStream(): Promise<void> {
    const stream = this.stillStream;
    if (stream === undefined) return;
    this.stillStream = undefined;
    await stream.stop();
    this.reassembler = undefined;
    if (this.current === 'disconnected' || this.current === 'closed') return;
    const vs = this.o.streaming;
    try {
      if (vs.transfer === 'isochronous') await this.o.transport.setAlternateSetting(vs.interfaceNumber, 0);
      else await this.o.transport.clearHalt(vs.endpointAddress);
    } catch (err) {
      if (isHalError(err, HalErrorCode.Disconnected)) this.disconnect(err);
      else this.logger.warn({ err }, 'resetting the streaming interface after the still failed');
    }
  }

  /** Opens the bulk or iso stream that feeds `r`. */
  private openStream(result: NegotiationResult, r: PayloadReassembler): VideoStream {
    const vs = this.o.streaming;
    const t = this.o.transport;
    if (vs.transfer === 'bulk') {
      const alt = vs.altSettings[0];
      const mps = Math.max(1, alt?.maxPacketSize ?? 512);
      const transferSize = Math.ceil(Math.max(result.committed.maxPayloadTransferSize, 1) / mps) * mps;
      return t.openInStream(vs.endpointAddress, {
        transferSize,
        depth: this.o.bulkDepth ?? DEFAULT_BULK_DEPTH,
        onData: (view, status) => {
          if (status === 'ok' || status === 'overflow' || status === 'error') r.pushBulk(view, transferSize);
        },
      });
    }
    return t.openIsoInStream(vs.endpointAddress, {
      packetsPerTransfer: this.o.isoPacketsPerTransfer ?? 32,
      packetSize: result.bytesPerInterval,
      depth: this.o.isoDepth ?? DEFAULT_ISO_DEPTH,
      onTransfer: (view) => r.pushIsoTransfer(view),
    });
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
    const stream = this.stream;
    this.stream = undefined;
    // A frame that ends while the stream winds down is the one in progress at stop, finished by
    // the leftovers of cancelled transfers (cut short, or joined to the next frame's payloads):
    // its mapping goes back Cancelled with the rest (drainQueue), never as a damaged frame.
    this.flushing = true;
    try {
      await stream?.stop();
    } finally {
      this.flushing = false;
    }
    if (this.current === 'disconnected' || this.current === 'closed') return;
    this.failStill(
      new HalError(
        HalErrorCode.InvalidState,
        `${this.o.deviceId}: streaming stopped before the still arrived`,
        {
          deviceId: this.o.deviceId,
        },
      ),
    );
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
    void this.stopStream(FrameStatus.Dropped, false);
  }

  private headView(): Uint8Array {
    const slot = this.queue.headSlot;
    const offset = this.queue.headOffset;
    const length = this.queue.headLength;
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
    // The frame in progress at stop/unplug: its mapping is returned by drainQueue.
    if (this.flushing) return;
    const still = this.still;
    if (still !== undefined && f.destination === still.view) {
      this.stillFrameDone(still, f);
      return;
    }
    // Video frames of a stream opened only for a still belong to no mapping.
    if (this.queue.count === 0 || this.current !== 'running' || this.stillStream !== undefined) return;
    this.completeHead(f, f.bytesUsed, f.flags);
    this.reassembler?.setDestination(this.nextView());
  }

  /** Where the next frame goes: the armed still's buffer, else the head mapping, else nowhere. */
  private nextView(): Uint8Array | undefined {
    if (this.still !== undefined) return this.still.view;
    return this.queue.count > 0 ? this.headView() : undefined;
  }

  /** A frame landed in the armed still buffer: the still itself, or a video frame passed on. */
  private stillFrameDone(still: PendingStill, f: ReassembledFrame): void {
    if ((f.flags & UvcFrameFlag.still) !== 0) {
      this.still = undefined;
      still.timer?.cancel();
      if ((f.flags & (UvcFrameFlag.truncated | UvcFrameFlag.error)) !== 0 || f.bytesUsed === 0) {
        still.reject(
          new HalError(HalErrorCode.Protocol, `${this.o.deviceId}: the still image arrived damaged`, {
            deviceId: this.o.deviceId,
          }),
        );
      } else still.resolve(f.bytesUsed);
      this.reassembler?.setDestination(this.current === 'running' ? this.nextView() : still.view);
      return;
    }
    if (this.current === 'running' && this.queue.count > 0) {
      // A video frame arrived before the still: pass it on to its mapping (one extra copy, rare).
      const head = this.headView();
      const n = Math.min(f.bytesUsed, head.length);
      head.set(still.view.subarray(0, n), 0);
      this.completeHead(f, n, f.bytesUsed > head.length ? f.flags | UvcFrameFlag.truncated : f.flags);
    }
    this.reassembler?.setDestination(still.view);
  }

  /** Publishes the head mapping's completion for frame `f` carrying `bytesUsed` bytes. */
  private completeHead(f: ReassembledFrame, bytesUsed: number, uvcFlags: number): void {
    const q = this.queue;
    const r = this.record;
    r.cookie = q.headCookie;
    r.slot = q.headSlot;
    r.offset = q.headOffset;
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
    if ((uvcFlags & UvcFrameFlag.truncated) !== 0) {
      r.status = FrameStatus.Truncated;
      r.bytesUsed = 0;
      this.counters.framesTruncated++;
    } else if (bytesUsed === 0) {
      r.status = FrameStatus.Dropped;
      r.bytesUsed = 0;
      this.counters.framesDropped++;
    } else if ((uvcFlags & ERRORS) !== 0) {
      r.status = FrameStatus.Corrupt;
      r.bytesUsed = bytesUsed;
      this.counters.framesCorrupted++;
      this.counters.framesCompleted++;
    } else {
      r.status = FrameStatus.Ok;
      r.bytesUsed = bytesUsed;
      this.counters.framesCompleted++;
    }
    q.shift();
    this.completions.publish(r);
    this.notify();
  }

  private drainQueue(status: FrameStatus): void {
    const drained = this.queue.drain(status, this.record, this.completions);
    if (drained === 0) return;
    if (status === FrameStatus.Dropped) this.counters.framesDropped += drained;
    this.notify();
  }

  private notify(): void {
    this.listeners.notify(this.completions.count);
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
    requireEngineState(operation, this.current, allowed, this.o.deviceId);
  }
}
