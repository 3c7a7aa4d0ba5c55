// UVC payload writer (device side): plans a frame's payloads (header bytes + data ranges) without copying the frame.

import { PayloadHeaderBit } from './payload-reassembler.js';

export interface PayloadWriterOptions {
  /**
   * Largest payload including its header: dwMaxPayloadTransferSize for bulk, the alternate
   * setting's bytes per interval for iso (one payload per packet).
   */
  readonly maxPayloadSize: number;
  /** Put a PTS in every header (header grows by 4). */
  readonly pts?: boolean;
  /** Put an SCR in every header (header grows by 6). */
  readonly scr?: boolean;
  /** Set EOH (D7) in bmHeaderInfo, as most devices do. Default true. */
  readonly endOfHeader?: boolean;
}

/** Per-frame stamps. Times are device-clock ticks (dwClockFrequency); SOF is the 11-bit USB frame counter. */
export interface FrameStamps {
  readonly pts?: number;
  readonly scrStc?: number;
  readonly scrSof?: number;
  /** STI bit: the frame is a still image. */
  readonly still?: boolean;
  /** ERR bit in every payload of the frame. */
  readonly error?: boolean;
}

/** One planned payload. The writer reuses one instance; read it before the next `nextPayload()`. */
export interface PayloadPlan {
  /** 0-based payload number within the frame. */
  index: number;
  /** Header bytes (2, 6, 8 or 12) written by {@link PayloadWriter.writeHeader}. */
  headerLength: number;
  /** bmHeaderInfo of this payload. */
  headerInfo: number;
  /** Range of the frame carried by this payload. */
  dataOffset: number;
  dataLength: number;
  /** True for the payload with EOF. */
  last: boolean;
}

/**
 * Splits frames into UVC payloads of at most `maxPayloadSize` bytes (header included): FID toggles
 * per frame, EOF on the last payload, optional PTS/SCR. It never touches frame bytes: each plan gives
 * the header (written into caller memory by {@link writeHeader}) and an offset/length into the frame,
 * so a sender can emit `header` then `frame.subarray(offset, offset + length)`.
 * An empty frame still produces one header-only payload carrying EOF.
 */
export class PayloadWriter {
  readonly headerLength: number;
  private readonly maxPayloadSize: number;
  private readonly o: PayloadWriterOptions;
  private readonly plan: PayloadPlan = {
    index: 0,
    headerLength: 0,
    headerInfo: 0,
    dataOffset: 0,
    dataLength: 0,
    last: false,
  };
  private fid = 1;
  private frameLength = 0;
  private offset = 0;
  private index = 0;
  private pending = false;
  private stamps: FrameStamps = {};
  private scrStc = 0;
  private scrSof = 0;

  constructor(options: PayloadWriterOptions) {
    this.o = options;
    this.headerLength = 2 + (options.pts ? 4 : 0) + (options.scr ? 6 : 0);
    if (!Number.isInteger(options.maxPayloadSize) || options.maxPayloadSize <= this.headerLength) {
      throw new RangeError(
        `maxPayloadSize must exceed the ${this.headerLength}-byte header, got ${options.maxPayloadSize}`,
      );
    }
    this.maxPayloadSize = options.maxPayloadSize;
  }

  /** Payloads a frame of `frameLength` bytes needs. */
  payloadCount(frameLength: number): number {
    return Math.max(1, Math.ceil(frameLength / (this.maxPayloadSize - this.headerLength)));
  }

  /** True while payloads of the current frame remain. */
  get inFrame(): boolean {
    return this.pending;
  }

  /** The FID bit the current (or last) frame uses. */
  get currentFid(): number {
    return this.fid;
  }

  /**
   * Starts a frame of `frameLength` bytes, toggling FID. Throws an error naming the state when the
   * previous frame still has payloads (finish it or call {@link abortFrame}), RangeError on a bad length.
   */
  startFrame(frameLength: number, stamps: FrameStamps = {}): void {
    if (this.pending) throw new Error(`startFrame() requires state 'idle', current state is 'in-frame'`);
    if (!Number.isInteger(frameLength) || frameLength < 0)
      throw new RangeError(`bad frame length ${frameLength}`);
    this.fid ^= 1;
    this.frameLength = frameLength;
    this.offset = 0;
    this.index = 0;
    this.pending = true;
    this.stamps = stamps;
    this.scrStc = (stamps.scrStc ?? 0) >>> 0;
    this.scrSof = (stamps.scrSof ?? 0) & 0x7ff;
  }

  /** Drops the rest of the current frame (e.g. stream stopped); the next frame still toggles FID. */
  abortFrame(): void {
    this.pending = false;
  }

  /** Updates the SCR written in the following payloads (the SOF counter moves while a frame is sent). */
  setScr(stc: number, sof: number): void {
    this.scrStc = stc >>> 0;
    this.scrSof = sof & 0x7ff;
  }

  /** Plans the next payload of the current frame; undefined when the frame is done (or none started). */
  nextPayload(): PayloadPlan | undefined {
    if (!this.pending) return undefined;
    const room = this.maxPayloadSize - this.headerLength;
    const n = Math.min(room, this.frameLength - this.offset);
    const last = this.offset + n >= this.frameLength;
    const s = this.stamps;
    let info = this.fid;
    if (last) info |= PayloadHeaderBit.eof;
    if (this.o.pts) info |= PayloadHeaderBit.pts;
    if (this.o.scr) info |= PayloadHeaderBit.scr;
    if (s.still) info |= PayloadHeaderBit.still;
    if (s.error) info |= PayloadHeaderBit.err;
    if (this.o.endOfHeader ?? true) info |= PayloadHeaderBit.eoh;
    const p = this.plan;
    p.index = this.index++;
    p.headerLength = this.headerLength;
    p.headerInfo = info;
    p.dataOffset = this.offset;
    p.dataLength = n;
    p.last = last;
    this.offset += n;
    if (last) this.pending = false;
    return p;
  }

  /** Writes the header of `plan` into `target` at `at` (needs `plan.headerLength` bytes); returns bytes written. */
  writeHeader(plan: PayloadPlan, target: Uint8Array, at = 0): number {
    if (at < 0 || at + plan.headerLength > target.length) {
      throw new RangeError(`header of ${plan.headerLength} bytes does not fit at ${at} of ${target.length}`);
    }
    target[at] = plan.headerLength;
    target[at + 1] = plan.headerInfo;
    let p = at + 2;
    if (plan.headerInfo & PayloadHeaderBit.pts) {
      const v = (this.stamps.pts ?? 0) >>> 0;
      target[p] = v & 0xff;
      target[p + 1] = (v >>> 8) & 0xff;
      target[p + 2] = (v >>> 16) & 0xff;
      target[p + 3] = v >>> 24;
      p += 4;
    }
    if (plan.headerInfo & PayloadHeaderBit.scr) {
      const v = this.scrStc;
      target[p] = v & 0xff;
      target[p + 1] = (v >>> 8) & 0xff;
      target[p + 2] = (v >>> 16) & 0xff;
      target[p + 3] = v >>> 24;
      target[p + 4] = this.scrSof & 0xff;
      target[p + 5] = this.scrSof >> 8;
      p += 6;
    }
    return p - at;
  }

  /**
   * Writes the header-only payload an idle iso device may send (no frame data; FID of the last
   * frame, no EOF) into `target`; returns its length. Hosts ignore it; some devices send these.
   */
  writeIdleHeader(target: Uint8Array, at = 0): number {
    if (at < 0 || at + 2 > target.length) throw new RangeError('idle header does not fit');
    target[at] = 2;
    target[at + 1] = this.fid | ((this.o.endOfHeader ?? true) ? PayloadHeaderBit.eoh : 0);
    return 2;
  }
}
