// A UVC camera as a USB/IP device: descriptors, probe/commit, PU/CT controls and bulk or iso streaming from a frame source.

import {
  CAMERA_TERMINAL_CONTROLS,
  PROCESSING_UNIT_CONTROLS,
  PayloadWriter,
  ProbeCommitResponder,
  UvcRequestCode,
  VcInterfaceSelector,
  VsSelector,
  decodeControlValue,
  encodeControlInfo,
  encodeControlValue,
  requestErrorCode,
} from '@ksemu/hal';
import type {
  NegotiationFormat,
  NegotiationFrame,
  ProbeCommit,
  UsbSpeed,
  UvcRequestErrorName,
} from '@ksemu/hal';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { BulkInPipe } from './bulk-in-pipe.js';
import { IsoInPipe } from './iso-in-pipe.js';
import type { PipeScheduler } from './iso-in-pipe.js';
import {
  UVC_CAMERA_TERMINAL_ID,
  UVC_CLOCK_HZ,
  UVC_PROCESSING_UNIT_ID,
  UVC_STREAM_ENDPOINT,
  UVC_VC_INTERFACE,
  UVC_VS_INTERFACE,
  buildUvcDescriptors,
  stringDescriptor,
} from './uvc-descriptors.js';
import type { UvcDescriptors } from './uvc-descriptors.js';
import type {
  UvcControlBinding,
  UvcFrameFormat,
  UvcFrameSource,
  UvcSourceFrame,
} from './uvc-frame-source.js';
import type { ControlResult, SetupPacket, UsbIpDevice, UsbIpUrb } from './usbip-device.js';

export interface UvcFunctionOptions {
  readonly source: UvcFrameSource;
  /** Bus id clients import (default `1-1`). */
  readonly busid?: string;
  /** `bulk` (default): one bulk endpoint, stream starts at VS_COMMIT; `iso`: alternate settings by bandwidth. */
  readonly transfer?: 'bulk' | 'iso';
  readonly speed?: UsbSpeed;
  /** dwMaxPayloadTransferSize of bulk streams (default 16384, what uvcvideo's URBs hold at high speed). */
  readonly bulkPayloadSize?: number;
  readonly vendorId?: number;
  readonly productId?: number;
  readonly product?: string;
  readonly serial?: string;
  readonly logger?: Logger;
  readonly scheduler?: PipeScheduler;
  /**
   * Payload header clock fields: `pts+scr` (default, like most cameras), `pts`, or `none`. With SCR,
   * uvcvideo reads the bus frame number for clock recovery, which vhci-hcd does not implement (it logs
   * "Not yet implemented", rate-limited); `pts` keeps a USB/IP kernel log quiet.
   */
  readonly headerClock?: 'pts+scr' | 'pts' | 'none';
}

/** Largest header: 2 + PTS (4) + SCR (6); header slots in the arena are this wide. */
const HEADER_LENGTH = 12;

/** Stream counters since the function was created. */
export interface UvcFunctionStats {
  framesSent: number;
  framesDropped: number;
  streamStarts: number;
}

interface FrameInFlight {
  readonly frame: UvcSourceFrame;
  /** Payloads handed out and not yet sent or dropped. */
  outstanding: number;
  /** No more payloads will be planned (last planned, or aborted). */
  planned: boolean;
  aborted: boolean;
  released: boolean;
}

/**
 * Presents a {@link UvcFrameSource} as a UVC 1.1 camera. The host negotiates with PROBE/COMMIT
 * (hal's ProbeCommitResponder); VC requests reach the source's control bindings; frames travel from
 * the source's borrowed view to the socket as header + subarray pieces, never copied, and each frame
 * is released once its last byte left (or the stream stopped).
 * Stream states: idle → starting → streaming → idle. Start: VS_COMMIT (bulk) or SET_INTERFACE alt > 0
 * (iso). Stop: CLEAR_FEATURE(HALT) on the stream endpoint, SET_INTERFACE alt 0, or detach.
 */
export class UvcFunction implements UsbIpDevice {
  readonly busid: string;
  readonly speed: UsbSpeed;
  readonly deviceDescriptor: Uint8Array;
  readonly configDescriptor: Uint8Array;
  readonly stats: UvcFunctionStats = { framesSent: 0, framesDropped: 0, streamStarts: 0 };
  readonly #o: UvcFunctionOptions;
  readonly #d: UvcDescriptors;
  readonly #log: Logger;
  readonly #responder: ProbeCommitResponder;
  readonly #transfer: 'bulk' | 'iso';
  readonly #bulk: BulkInPipe;
  readonly #iso: IsoInPipe;
  #errorCode = 0;
  #state: 'idle' | 'starting' | 'streaming' = 'idle';
  #generation = 0;
  #writer: PayloadWriter | undefined;
  #headers = new Uint8Array(0);
  #frame: FrameInFlight | undefined;
  #interval = 0;
  #stopping: Promise<void> = Promise.resolve();

  constructor(options: UvcFunctionOptions) {
    this.#o = options;
    this.busid = options.busid ?? '1-1';
    this.speed = options.speed ?? 'high';
    this.#transfer = options.transfer ?? 'bulk';
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#d = buildUvcDescriptors({
      formats: options.source.formats,
      controls: options.source.controls ?? [],
      transfer: this.#transfer,
      speed: this.speed,
      ...(options.vendorId !== undefined ? { vendorId: options.vendorId } : {}),
      ...(options.productId !== undefined ? { productId: options.productId } : {}),
      ...(options.product !== undefined ? { product: options.product } : {}),
      ...(options.serial !== undefined ? { serial: options.serial } : {}),
    });
    this.deviceDescriptor = this.#d.device;
    this.configDescriptor = this.#d.configuration;
    const bulkPayload = options.bulkPayloadSize ?? 16384;
    if (!Number.isInteger(bulkPayload) || bulkPayload <= HEADER_LENGTH || bulkPayload > 0x7fffffff)
      throw new RangeError(`bulkPayloadSize must be an integer above ${HEADER_LENGTH}`);
    const alternates = this.#d.isoAlternates;
    const frameTicks = this.speed === 'full' || this.speed === 'low' ? 10_000 : 1_250; // 100 ns per (micro)frame
    this.#responder = new ProbeCommitResponder({
      bcdUVC: 0x0110,
      formats: this.#d.formats.map((f) => f.negotiation),
      clockFrequency: UVC_CLOCK_HZ,
      payloadSize: (_format: NegotiationFormat, frame: NegotiationFrame, interval: number) => {
        if (this.#transfer === 'bulk') return bulkPayload;
        // Smallest alternate setting that carries a frame per interval; the host picks the same one.
        const perInterval =
          Math.ceil(frame.maxFrameBufferSize / Math.max(1, Math.floor(interval / frameTicks))) +
          HEADER_LENGTH;
        return (
          alternates.find((a) => a.bytesPerInterval >= perInterval) ?? alternates[alternates.length - 1]!
        ).bytesPerInterval;
      },
    });
    this.#bulk = new BulkInPipe({ maxPayload: bulkPayload });
    this.#iso = new IsoInPipe({
      intervalUs: frameTicks / 10,
      nextPacket: (max) => this.#isoPacket(max),
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    });
  }

  /** `idle`, `starting` (source.start pending) or `streaming`. */
  get streamState(): 'idle' | 'starting' | 'streaming' {
    return this.#state;
  }

  /** The committed probe/commit block, if the host committed one. */
  get committed(): ProbeCommit | undefined {
    return this.#responder.committed;
  }

  /** Resolves when the last stop of the source finished. */
  whenStopped(): Promise<void> {
    return this.#stopping;
  }

  // ---------------------------------------------------------------- control requests

  handleControl(setup: SetupPacket, data: Uint8Array): ControlResult | Promise<ControlResult> {
    const type = (setup.requestType >> 5) & 3;
    const recipient = setup.requestType & 0x1f;
    if (type === 0) {
      if (setup.request === 0x06 && setup.value >> 8 === 3) {
        const s = stringDescriptor(this.#d.strings, setup.value & 0xff);
        return s ? { status: 'ok', data: s } : { status: 'stall' };
      }
      return { status: 'stall' };
    }
    if (type !== 1 || recipient !== 1) return { status: 'stall' };
    const intf = setup.index & 0xff;
    const entity = setup.index >> 8;
    if (intf === UVC_VS_INTERFACE && entity === 0) return this.#streamingRequest(setup, data);
    if (intf === UVC_VC_INTERFACE) return this.#controlRequest(setup, data, entity);
    return { status: 'stall' };
  }

  #fail(error: UvcRequestErrorName): ControlResult {
    this.#errorCode = requestErrorCode(error);
    return { status: 'stall' };
  }

  #ok(data?: Uint8Array): ControlResult {
    this.#errorCode = 0;
    return data ? { status: 'ok', data } : { status: 'ok' };
  }

  #streamingRequest(setup: SetupPacket, data: Uint8Array): ControlResult {
    const a = this.#responder.handle({ ...setup, data });
    if (a.status === 'stall') return this.#fail(a.error);
    if (setup.request === UvcRequestCode.setCur && setup.value >> 8 === VsSelector.commit) {
      const c = this.#responder.committed;
      this.#log.info(
        { format: c?.formatIndex, frame: c?.frameIndex, interval: c?.frameInterval },
        'VS_COMMIT',
      );
      if (this.#transfer === 'bulk') this.#start('VS_COMMIT', c?.maxPayloadTransferSize ?? 0);
    }
    return this.#ok(a.data);
  }

  #controlRequest(
    setup: SetupPacket,
    data: Uint8Array,
    entity: number,
  ): ControlResult | Promise<ControlResult> {
    const selector = setup.value >> 8;
    if (entity === 0) {
      if (selector !== VcInterfaceSelector.requestErrorCode) return this.#fail('invalid-control');
      if (setup.request === UvcRequestCode.getCur)
        return { status: 'ok', data: Uint8Array.of(this.#errorCode) };
      if (setup.request === UvcRequestCode.getInfo) return { status: 'ok', data: Uint8Array.of(1) };
      return this.#fail('invalid-request');
    }
    const unit =
      entity === UVC_CAMERA_TERMINAL_ID
        ? 'camera'
        : entity === UVC_PROCESSING_UNIT_ID
          ? 'processing'
          : undefined;
    if (!unit) return this.#fail('invalid-unit');
    const binding = (unit === 'camera' ? this.#d.cameraControls : this.#d.processingControls).get(selector);
    const def = (unit === 'camera' ? CAMERA_TERMINAL_CONTROLS : PROCESSING_UNIT_CONTROLS).find(
      (d) => d.selector === selector,
    );
    if (!binding || !def) return this.#fail('invalid-control');
    const value = (v: number): ControlResult => this.#ok(encodeControlValue(def, v));
    switch (setup.request) {
      case UvcRequestCode.getCur:
        return this.#settle(binding, async () => value(await binding.get()));
      case UvcRequestCode.getMin:
        return value(binding.min);
      case UvcRequestCode.getMax:
        return value(binding.max);
      case UvcRequestCode.getRes:
        return value(binding.res);
      case UvcRequestCode.getDef:
        return value(binding.def);
      case UvcRequestCode.getLen:
        return this.#ok(Uint8Array.of(def.size & 0xff, def.size >> 8));
      case UvcRequestCode.getInfo:
        return this.#ok(Uint8Array.of(encodeControlInfo({ get: true, set: true })));
      case UvcRequestCode.setCur: {
        if (data.length < def.size) return this.#fail('invalid-value-within-range');
        const v = decodeControlValue(def, data).value;
        if (typeof v !== 'number' || v < binding.min || v > binding.max) return this.#fail('out-of-range');
        return this.#settle(binding, async () => {
          await binding.set(v);
          return this.#ok();
        });
      }
      default:
        return this.#fail('invalid-request');
    }
  }

  async #settle(binding: UvcControlBinding, fn: () => Promise<ControlResult>): Promise<ControlResult> {
    try {
      return await fn();
    } catch (e) {
      this.#log.warn({ err: e, control: binding.name }, 'control binding failed');
      return this.#fail('out-of-range');
    }
  }

  // ---------------------------------------------------------------- stream control

  setInterface(interfaceNumber: number, alternateSetting: number): boolean {
    if (interfaceNumber !== UVC_VS_INTERFACE) return true;
    if (alternateSetting === 0) {
      this.#stop('SET_INTERFACE alt 0');
      return true;
    }
    if (this.#transfer !== 'iso') return false;
    const alt = this.#d.isoAlternates.find((a) => a.alt === alternateSetting);
    if (!alt) return false;
    if (!this.#responder.committed) {
      this.#log.warn({ alternateSetting }, 'SET_INTERFACE before VS_COMMIT; not streaming');
      return true;
    }
    this.#stop('alternate setting change');
    this.#start(`SET_INTERFACE alt ${alternateSetting}`, alt.bytesPerInterval);
    return true;
  }

  clearHalt(endpoint: number): void {
    if (endpoint === UVC_STREAM_ENDPOINT) this.#stop('CLEAR_FEATURE(ENDPOINT_HALT)');
  }

  submit(urb: UsbIpUrb): void {
    if (urb.endpoint !== UVC_STREAM_ENDPOINT) {
      urb.complete({ status: -32 });
      return;
    }
    if (urb.type === 'iso') this.#iso.submit(urb);
    else this.#bulk.submit(urb);
  }

  detached(reason: string): void {
    this.#stop(`detached: ${reason}`);
    this.#responder.reset();
    this.#errorCode = 0;
  }

  #start(why: string, maxPayload: number): void {
    if (this.#state !== 'idle') this.#stop('restart');
    const c = this.#responder.committed;
    const format = this.#d.formats.find((f) => f.negotiation.index === c?.formatIndex);
    const source: UvcFrameFormat | undefined = format?.sources.get(c?.frameIndex ?? 0);
    if (!c || !source || maxPayload <= HEADER_LENGTH) {
      this.#log.warn({ why }, 'stream start without a valid commit; ignored');
      return;
    }
    const generation = ++this.#generation;
    const clock = this.#o.headerClock ?? 'pts+scr';
    this.#writer = new PayloadWriter({
      maxPayloadSize: maxPayload,
      pts: clock !== 'none',
      scr: clock === 'pts+scr',
    });
    this.#headers = new Uint8Array(this.#writer.payloadCount(source.maxFrameSize) * HEADER_LENGTH);
    this.#interval = c.frameInterval;
    this.#state = 'starting';
    this.stats.streamStarts++;
    this.#log.info(
      {
        why,
        fourcc: source.fourcc,
        width: source.width,
        height: source.height,
        interval: c.frameInterval,
        maxPayload,
      },
      'stream on',
    );
    const sink = (frame: UvcSourceFrame): void => this.#onFrame(frame, generation);
    // Starting after a stop waits for the source to have stopped (start/stop strictly alternate).
    const started = this.#stopping.then(() => this.#o.source.start(source, c.frameInterval, sink));
    started.then(
      () => {
        if (this.#generation === generation && this.#state === 'starting') this.#state = 'streaming';
      },
      (e: unknown) => {
        this.#log.error({ err: e }, 'frame source failed to start');
        if (this.#generation === generation) this.#state = 'idle';
      },
    );
    this.#stopping = started.then(
      () => undefined,
      () => undefined,
    );
  }

  #stop(why: string): void {
    if (this.#state === 'idle') return;
    this.#generation++;
    this.#state = 'idle';
    this.#log.info({ why, sent: this.stats.framesSent, dropped: this.stats.framesDropped }, 'stream off');
    const f = this.#frame;
    if (f && !f.planned) {
      f.planned = true;
      f.aborted = true;
      this.#writer?.abortFrame();
    }
    this.#bulk.flush(why);
    if (f) this.#maybeRelease(f);
    const previous = this.#stopping;
    this.#stopping = previous.then(async () => {
      try {
        await this.#o.source.stop();
      } catch (e) {
        this.#log.error({ err: e }, 'frame source failed to stop');
      }
    });
  }

  // ---------------------------------------------------------------- frame path (no logging above trace)

  #onFrame(frame: UvcSourceFrame, generation: number): void {
    if (
      generation !== this.#generation ||
      this.#state === 'idle' ||
      this.#frame !== undefined ||
      !this.#writer
    ) {
      this.stats.framesDropped++;
      frame.release();
      return;
    }
    const f: FrameInFlight = { frame, outstanding: 0, planned: false, aborted: false, released: false };
    this.#frame = f;
    const w = this.#writer;
    // PTS and SCR come from the frame index, so a replay is bit-exact: ticks = n × interval × Hz / 1e7.
    const ticks = Math.floor((frame.index * this.#interval * (UVC_CLOCK_HZ / 1e7)) % 0x100000000);
    const sof = Math.floor((frame.index * this.#interval) / 10_000) & 0x7ff;
    w.startFrame(frame.data.length, { pts: ticks, scrStc: ticks, scrSof: sof });
    if (this.#transfer === 'iso') return; // packets pull payloads as they become due
    for (let p = w.nextPayload(); p; p = w.nextPayload()) {
      const header = this.#headers.subarray(
        p.index * HEADER_LENGTH,
        p.index * HEADER_LENGTH + p.headerLength,
      );
      w.writeHeader(p, header);
      f.outstanding++;
      if (p.last) f.planned = true;
      this.#bulk.enqueue([header, frame.data.subarray(p.dataOffset, p.dataOffset + p.dataLength)], () =>
        this.#payloadDone(f),
      );
    }
  }

  #isoPacket(max: number): { parts: Uint8Array[]; done: () => void } | undefined {
    const f = this.#frame;
    const w = this.#writer;
    if (!f || f.planned || !w || this.#state === 'idle') return undefined;
    const p = w.nextPayload();
    if (!p) return undefined;
    if (p.headerLength + p.dataLength > max) {
      // The host chose smaller packets than negotiated: end this frame rather than overflow.
      f.planned = true;
      f.aborted = true;
      w.abortFrame();
      this.#maybeRelease(f);
      return undefined;
    }
    const header = this.#headers.subarray(p.index * HEADER_LENGTH, p.index * HEADER_LENGTH + p.headerLength);
    w.writeHeader(p, header);
    f.outstanding++;
    if (p.last) f.planned = true;
    return {
      parts: [header, f.frame.data.subarray(p.dataOffset, p.dataOffset + p.dataLength)],
      done: () => this.#payloadDone(f),
    };
  }

  #payloadDone(f: FrameInFlight): void {
    f.outstanding--;
    this.#maybeRelease(f);
  }

  #maybeRelease(f: FrameInFlight): void {
    if (!f.planned || f.outstanding > 0 || f.released) return;
    f.released = true;
    if (this.#frame === f) this.#frame = undefined;
    if (!f.aborted) this.stats.framesSent++;
    f.frame.release();
  }
}
