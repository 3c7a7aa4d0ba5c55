// A fake USB UVC camera behind the UsbTransport port, built only from hal's device-side UVC code, for fast deterministic host tests.
import { HalError, HalErrorCode } from '../hal-error.js';
import type { TimeSource, ScheduledCallback } from '../time-source.js';
import { InStreamCore } from '../usb/in-stream.js';
import { checkInEndpoint, checkSetup, formatLocation, matchesFilter } from '../usb/usb-transport.js';
import type {
  ControlSetup,
  InStreamOptions,
  IsoInStreamOptions,
  IsoTransferView,
  UsbCapabilities,
  UsbDeviceFilter,
  UsbDeviceInfo,
  UsbHotplugEvent,
  UsbInStream,
  UsbIsoInStream,
  UsbStreamEnd,
  UsbTransport,
  UsbTransportProvider,
  UsbTransportState,
} from '../usb/usb-transport.js';
import { ControlResponder, numericDeviceControl } from '../uvc/control-responder.js';
import type { DeviceControl } from '../uvc/control-responder.js';
import {
  CAMERA_TERMINAL_CONTROLS,
  PROCESSING_UNIT_CONTROLS,
  findControl,
  type ResponderAnswer,
  type UvcControlRequest,
  type UvcControlValue,
  type UvcRequestErrorName,
} from '../uvc/controls.js';
import { buildStringDescriptors, buildUvcDescriptors } from '../uvc/descriptor-builder.js';
import type { BuiltUvcDescriptors, UvcCameraDescription } from '../uvc/descriptor-builder.js';
import { parseUvcDescriptors } from '../uvc/descriptor-parser.js';
import { PayloadWriter } from '../uvc/payload-writer.js';
import { ProbeCommitResponder, estimatePayloadSize } from '../uvc/probe-commit.js';
import type { ProbeCommit } from '../uvc/probe-commit.js';

/** Options of a {@link FakeUvcDevice}. */
export interface FakeUvcDeviceOptions {
  /** Frames are sent on this clock: frame n at streamOpen + (n + 1) × committed interval. */
  readonly timeSource: TimeSource;
  /** Default {@link defaultFakeUvcDescription}('bulk'). */
  readonly description?: UvcCameraDescription;
  readonly busNumber?: number;
  readonly portPath?: readonly number[];
  readonly deviceAddress?: number;
  /** uvcvideo is bound to the VC and VS interfaces (claim rejects Busy until detached). Default false. */
  readonly kernelDriverBound?: boolean;
  /** Whether transports of this device can do isochronous streams (node-usb cannot). Default true. */
  readonly isochronous?: boolean;
  /** Frames whose payloads carry the UVC ERR bit. */
  readonly corruptFrame?: (frameNumber: number) => boolean;
  /** Bulk: dwMaxPayloadTransferSize the device answers. Default 4096. */
  readonly bulkPayloadSize?: number;
  /**
   * Method 2 still sizes of format 1 (a VS still image frame descriptor is added after its frames
   * and bStillCaptureMethod set to 2). Default none (method 0).
   */
  readonly stillSizes?: ReadonlyArray<{ readonly width: number; readonly height: number }>;
  /**
   * Bulk: when a stream is stopped, three transfers that were in flight still arrive (short
   * payloads with FID 0, 1, 0: whatever the last frame's FID, one begins a frame and the next cuts
   * it), as usbfs reaps the URBs it discarded with whatever they had received. Default false.
   */
  readonly stopLeftovers?: boolean;
}

/** Frame number a fake still carries: STILL_NUMBER_BASE + the count of stills sent before it. */
export const STILL_NUMBER_BASE = 0x5000;

/**
 * Adds a method 2 still image frame descriptor (sizes, no compression patterns) after the frames of
 * the first format, sets bStillCaptureMethod = 2, and fixes both wTotalLengths.
 */
function withStillFrames(
  config: Uint8Array,
  sizes: ReadonlyArray<{ readonly width: number; readonly height: number }>,
): Uint8Array {
  const still = [5 + 4 * sizes.length + 1, 0x24, 0x03, 0x00, sizes.length];
  for (const { width, height } of sizes) still.push(width & 0xff, width >> 8, height & 0xff, height >> 8);
  still.push(0);
  let header = -1;
  let insertAt = -1;
  let inFirst = false;
  let inVs = false;
  for (let at = config[0]!; at < config.length && config[at]! > 0; at += config[at]!) {
    const type = config[at + 1];
    const sub = config[at + 2];
    if (type === 0x04) inVs = config[at + 5] === 0x0e && config[at + 6] === 0x02;
    if (!inVs) continue;
    if (type === 0x24 && sub === 0x01 && header < 0) header = at;
    if (header < 0) continue;
    const endsFirst = type !== 0x24 || sub === 0x04 || sub === 0x06 || sub === 0x0d;
    if (inFirst && endsFirst) {
      insertAt = at;
      break;
    }
    if (type === 0x24 && (sub === 0x04 || sub === 0x06)) inFirst = true;
  }
  if (header < 0 || insertAt < 0) throw new Error('no VS input header / first format to attach stills to');
  const out = new Uint8Array(config.length + still.length);
  out.set(config.subarray(0, insertAt), 0);
  out.set(still, insertAt);
  out.set(config.subarray(insertAt), insertAt + still.length);
  const total = (out[2]! | (out[3]! << 8)) + still.length;
  out[2] = total & 0xff;
  out[3] = total >> 8;
  const vsTotal = (out[header + 4]! | (out[header + 5]! << 8)) + still.length;
  out[header + 4] = vsTotal & 0xff;
  out[header + 5] = vsTotal >> 8;
  out[header + 9] = 2;
  return out;
}

/** The camera the fake device describes by default: YUY2 (two sizes), NV12 (continuous intervals), MJPEG. */
export function defaultFakeUvcDescription(transfer: 'bulk' | 'isochronous'): UvcCameraDescription {
  return {
    vendorId: 0x1209,
    productId: 0x0c01,
    manufacturer: 'ksemu',
    product: 'ksemu Fake UVC Camera',
    serialNumber: 'FAKE0001',
    bcdUVC: 0x0110,
    processingControls: [
      'brightness',
      'contrast',
      'gain',
      'white-balance-temperature',
      'white-balance-temperature-auto',
      'power-line-frequency',
    ],
    cameraControls: ['ae-mode', 'exposure-time-absolute', 'focus-absolute', 'focus-auto', 'pantilt-absolute'],
    streaming: {
      transfer,
      isoBytesPerInterval: [512, 1024, 3072],
      formats: [
        {
          kind: 'uncompressed',
          fourcc: 'YUY2',
          frames: [
            { width: 160, height: 120, intervals: [333333, 666666] },
            { width: 320, height: 240, intervals: [333333, 666666, 1000000] },
          ],
        },
        {
          kind: 'uncompressed',
          fourcc: 'NV12',
          frames: [{ width: 160, height: 120, intervals: { min: 333333, max: 1000000, step: 333333 } }],
        },
        {
          kind: 'mjpeg',
          frames: [{ width: 160, height: 120, intervals: [333333], maxFrameBufferSize: 16384 }],
        },
      ],
    },
  };
}

/** Byte `i` of fake frame `n` for uncompressed formats (the first 4 bytes hold n, little-endian). */
export function fakeFrameByte(n: number, i: number): number {
  if (i < 4) return (n >>> (8 * i)) & 0xff;
  return (i * 31 + n * 7 + (i >>> 9)) & 0xff;
}

/** Size of fake MJPEG frame `n` (varies with n, never above `max`). */
export function fakeMjpegSize(n: number, max: number): number {
  return Math.min(max, 1024 + ((n * 397) % 3000));
}

/** Writes fake frame `n` (`length` bytes) into `out`; MJPEG frames start FF D8 and end FF D9. */
export function fillFakeFrame(n: number, out: Uint8Array, length: number, mjpeg: boolean): void {
  for (let i = 0; i < length; i++) out[i] = fakeFrameByte(n, i);
  if (mjpeg && length >= 8) {
    out[0] = 0xff;
    out[1] = 0xd8;
    out[2] = n & 0xff;
    out[3] = (n >>> 8) & 0xff;
    out[length - 2] = 0xff;
    out[length - 1] = 0xd9;
  }
}

interface StreamState {
  stop(end: UsbStreamEnd): void;
}

/**
 * One simulated camera. It answers standard string requests, VC control requests (through
 * {@link ControlResponder}) and VS probe/commit (through {@link ProbeCommitResponder}), and sends
 * frames built by {@link fillFakeFrame} through {@link PayloadWriter} once committed and streamed.
 * Open it through a {@link FakeUvcProvider} (or {@link FakeUvcDevice.openTransport}).
 */
export class FakeUvcDevice {
  readonly built: BuiltUvcDescriptors;
  /** The configuration descriptor the device reports (built, plus still descriptors when asked). */
  readonly configuration: Uint8Array;
  /** Still probe/commit state (11-byte blocks) and whether a trigger is pending. */
  stillProbe: Uint8Array = new Uint8Array(11);
  stillCommit: Uint8Array | undefined;
  stillTriggered = false;
  /** Stills sent since the device was made. */
  stillsSent = 0;
  readonly description: UvcCameraDescription;
  readonly strings: Map<number, Uint8Array>;
  readonly info: UsbDeviceInfo;
  readonly vs: ProbeCommitResponder;
  readonly vc: ControlResponder;
  /** Interfaces uvcvideo is bound to. */
  readonly kernelBound = new Set<number>();
  /** Current control values by name (`brightness`, `pantilt-absolute.pan`, …). */
  readonly values = new Map<string, number>();
  /** Frames sent since the device was made. */
  framesSent = 0;
  /** Alternate setting of the VS interface. */
  alt = 0;
  private readonly options: FakeUvcDeviceOptions;
  private readonly transports = new Set<FakeUvcTransport>();
  private gone = false;
  private readonly claims = new Map<number, FakeUvcTransport>();

  constructor(options: FakeUvcDeviceOptions) {
    this.options = options;
    this.description = options.description ?? defaultFakeUvcDescription('bulk');
    this.built = buildUvcDescriptors(this.description);
    this.configuration =
      options.stillSizes !== undefined && options.stillSizes.length > 0
        ? withStillFrames(this.built.configuration, options.stillSizes)
        : this.built.configuration;
    this.strings = buildStringDescriptors(this.description);
    const busNumber = options.busNumber ?? 1;
    const portPath = options.portPath ?? [2];
    const d = this.built.device;
    this.info = Object.freeze({
      vendorId: d[8]! | (d[9]! << 8),
      productId: d[10]! | (d[11]! << 8),
      busNumber,
      deviceAddress: options.deviceAddress ?? 5,
      portPath: Object.freeze([...portPath]),
      speed: this.description.speed === 'full' ? ('full' as const) : ('high' as const),
      deviceClass: d[4]!,
      deviceSubClass: d[5]!,
      deviceProtocol: d[6]!,
      location: formatLocation(busNumber, portPath),
    });
    if (options.kernelDriverBound === true) {
      this.kernelBound.add(this.built.layout.controlInterface);
      this.kernelBound.add(this.built.layout.streamingInterface);
    }
    const fn = parseUvcDescriptors(this.configuration).functions[0]!;
    const vsItf = fn.streamingInterfaces[0]!;
    const transfer = this.description.streaming.transfer;
    const largestAlt = Math.max(0, ...this.built.layout.altSettings.map((a) => a.bytesPerInterval));
    this.vs = new ProbeCommitResponder({
      bcdUVC: fn.bcdUVC,
      formats: vsItf.formats,
      clockFrequency: fn.clockFrequency,
      payloadSize: (_f, frame, interval) =>
        transfer === 'bulk'
          ? (options.bulkPayloadSize ?? 4096)
          : Math.min(largestAlt, estimatePayloadSize(frame.maxFrameBufferSize, interval, 8000)),
    });
    this.vc = new ControlResponder(this.makeControls(), [
      this.built.layout.cameraTerminalId,
      this.built.layout.processingUnitId,
      this.built.layout.outputTerminalId,
    ]);
  }

  /** Transports currently open on this device. */
  get openTransports(): number {
    return this.transports.size;
  }

  /** True after {@link unplug}. */
  get unplugged(): boolean {
    return this.gone;
  }

  /** Opens a transport (what a provider's `open` does). Rejects Disconnected after unplug. */
  openTransport(isochronous = this.options.isochronous ?? true): Promise<FakeUvcTransport> {
    if (this.gone)
      return Promise.reject(new HalError(HalErrorCode.Disconnected, `${this.info.location} is gone`));
    const t = new FakeUvcTransport(this, isochronous);
    this.transports.add(t);
    return Promise.resolve(t);
  }

  /** Pulls the cable: every stream ends `disconnected`, every transport fires onDisconnect. */
  unplug(): void {
    if (this.gone) return;
    this.gone = true;
    for (const t of [...this.transports]) t.deviceGone();
  }

  /** @internal transport bookkeeping */
  forget(t: FakeUvcTransport): void {
    this.transports.delete(t);
    for (const [itf, owner] of this.claims) if (owner === t) this.claims.delete(itf);
  }

  /** @internal */
  claim(t: FakeUvcTransport, itf: number): void {
    const owner = this.claims.get(itf);
    if (this.kernelBound.has(itf))
      throw new HalError(HalErrorCode.Busy, `interface ${itf} is bound to kernel driver uvcvideo`);
    if (owner !== undefined && owner !== t)
      throw new HalError(HalErrorCode.Busy, `interface ${itf} is claimed by another process`);
    this.claims.set(itf, t);
  }

  /** @internal */
  release(t: FakeUvcTransport, itf: number): void {
    if (this.claims.get(itf) === t) this.claims.delete(itf);
  }

  /** @internal */
  claimedBy(itf: number): FakeUvcTransport | undefined {
    return this.claims.get(itf);
  }

  /** @internal */
  get timeSource(): TimeSource {
    return this.options.timeSource;
  }

  /** @internal */
  get stopLeftovers(): boolean {
    return this.options.stopLeftovers ?? false;
  }

  /** @internal */
  isCorrupt(n: number): boolean {
    return this.options.corruptFrame?.(n) ?? false;
  }

  /** @internal Answers a class request. */
  classRequest(req: UvcControlRequest): ResponderAnswer {
    if ((req.index & 0xff) !== this.built.layout.streamingInterface) return this.vc.handle(req);
    const selector = req.value >> 8;
    if (selector >= 3 && selector <= 5) return this.stillRequest(req, selector);
    return this.vs.handle(req);
  }

  /** @internal */
  stillSizesOf(): ReadonlyArray<{ readonly width: number; readonly height: number }> {
    return this.options.stillSizes ?? [];
  }

  /** Bytes of a still of this size (YUY2: the fake's still format is format 1). */
  stillBytes(width: number, height: number): number {
    return width * height * 2;
  }

  private stillRequest(req: UvcControlRequest, selector: number): ResponderAnswer {
    const sizes = this.options.stillSizes ?? [];
    const set = req.request === 0x01;
    const get = req.request === 0x81;
    if (selector === 5) {
      if (!set) return { status: 'stall', error: 'invalid-request' };
      if (this.stillCommit === undefined) return { status: 'stall', error: 'wrong-state' };
      if ((req.data?.[0] ?? 0) === 1) this.stillTriggered = true;
      return { status: 'ok' };
    }
    if (get) {
      const b = selector === 4 ? (this.stillCommit ?? this.stillProbe) : this.stillProbe;
      return { status: 'ok', data: b.slice(0, Math.min(req.length, 11)) };
    }
    if (!set) return { status: 'stall', error: 'invalid-request' };
    const d = req.data ?? new Uint8Array();
    const size = sizes[(d[1] ?? 0) - 1];
    if (d.length < 11 || d[0] !== 1 || size === undefined) return { status: 'stall', error: 'out-of-range' };
    const block = new Uint8Array(11);
    block[0] = 1;
    block[1] = d[1]!;
    block[2] = d[2]!;
    const view = new DataView(block.buffer);
    view.setUint32(3, this.stillBytes(size.width, size.height), true);
    view.setUint32(7, this.options.bulkPayloadSize ?? 4096, true);
    if (selector === 3) this.stillProbe = block;
    else this.stillCommit = block;
    return { status: 'ok' };
  }

  private makeControls(): DeviceControl[] {
    const { processingUnitId: puId, cameraTerminalId: ctId } = this.built.layout;
    const puNames = new Set(this.description.processingControls ?? []);
    const ctNames = new Set(this.description.cameraControls ?? []);
    const out: DeviceControl[] = [];
    const add = (
      entityId: number,
      table: typeof PROCESSING_UNIT_CONTROLS,
      name: string,
      min: number,
      max: number,
      res: number,
      def: number,
      accept?: (v: number) => UvcRequestErrorName | undefined,
      extraInfo = 0,
    ): void => {
      const d = findControl(table, name)!;
      this.values.set(name, def);
      out.push(
        numericDeviceControl({
          entityId,
          def: d,
          min,
          max,
          res,
          default: def,
          extraInfo,
          get: () => this.values.get(name) ?? 0,
          set: (v) => {
            const n = v as number;
            const refused = accept?.(n);
            if (refused !== undefined) return refused;
            this.values.set(name, n);
            return undefined;
          },
        }),
      );
    };
    const autoOff = (autoName: string) => (): UvcRequestErrorName | undefined =>
      (this.values.get(autoName) ?? 0) !== 0 ? 'wrong-state' : undefined;
    if (puNames.has('brightness')) add(puId, PROCESSING_UNIT_CONTROLS, 'brightness', -64, 64, 1, 0);
    if (puNames.has('contrast')) add(puId, PROCESSING_UNIT_CONTROLS, 'contrast', 0, 95, 1, 32);
    // GET_MAX claims 255 but the device refuses values above 200: the host only learns that from a STALL.
    if (puNames.has('gain'))
      add(puId, PROCESSING_UNIT_CONTROLS, 'gain', 0, 255, 1, 0, (v) =>
        v > 200 ? 'out-of-range' : undefined,
      );
    if (puNames.has('white-balance-temperature'))
      add(
        puId,
        PROCESSING_UNIT_CONTROLS,
        'white-balance-temperature',
        2800,
        6500,
        10,
        4600,
        autoOff('white-balance-temperature-auto'),
        0x04 | 0x08,
      );
    if (puNames.has('white-balance-temperature-auto'))
      add(puId, PROCESSING_UNIT_CONTROLS, 'white-balance-temperature-auto', 0, 1, 1, 1);
    if (puNames.has('power-line-frequency'))
      add(puId, PROCESSING_UNIT_CONTROLS, 'power-line-frequency', 0, 2, 1, 2);
    if (ctNames.has('ae-mode'))
      // GET_RES of the AE mode is the bitmap of supported modes: manual (1) and aperture priority (8).
      add(ctId, CAMERA_TERMINAL_CONTROLS, 'ae-mode', 1, 8, 9, 8, (v) =>
        v === 1 || v === 8 ? undefined : 'invalid-value-within-range',
      );
    if (ctNames.has('exposure-time-absolute'))
      add(
        ctId,
        CAMERA_TERMINAL_CONTROLS,
        'exposure-time-absolute',
        3,
        2047,
        1,
        156,
        (): UvcRequestErrorName | undefined =>
          (this.values.get('ae-mode') ?? 1) !== 1 ? 'wrong-state' : undefined,
        0x04 | 0x08,
      );
    if (ctNames.has('focus-absolute'))
      add(ctId, CAMERA_TERMINAL_CONTROLS, 'focus-absolute', 0, 250, 5, 0, autoOff('focus-auto'), 0x04);
    if (ctNames.has('focus-auto')) add(ctId, CAMERA_TERMINAL_CONTROLS, 'focus-auto', 0, 1, 1, 1);
    if (ctNames.has('pantilt-absolute')) {
      const d = findControl(CAMERA_TERMINAL_CONTROLS, 'pantilt-absolute')!;
      this.values.set('pantilt-absolute.pan', 0);
      this.values.set('pantilt-absolute.tilt', 0);
      const range = (v: number): UvcControlValue => ({ pan: v, tilt: v });
      out.push(
        numericDeviceControl({
          entityId: ctId,
          def: d,
          min: range(-36000),
          max: range(36000),
          res: range(3600),
          default: range(0),
          get: () => ({
            pan: this.values.get('pantilt-absolute.pan') ?? 0,
            tilt: this.values.get('pantilt-absolute.tilt') ?? 0,
          }),
          set: (v) => {
            const r = v as Readonly<Record<string, number>>;
            this.values.set('pantilt-absolute.pan', r['pan'] ?? 0);
            this.values.set('pantilt-absolute.tilt', r['tilt'] ?? 0);
            return undefined;
          },
        }),
      );
    }
    return out;
  }
}

const BUSY_MESSAGE = (itf: number): string =>
  `interface ${itf} is bound to kernel driver uvcvideo (usbfs: EBUSY)`;

/** The {@link UsbTransport} of one open of a {@link FakeUvcDevice}. */
export class FakeUvcTransport implements UsbTransport {
  readonly info: UsbDeviceInfo;
  readonly capabilities: UsbCapabilities;
  private current: UsbTransportState = 'open';
  private readonly claimed = new Set<number>();
  private readonly streams = new Set<StreamState>();
  private readonly disconnectListeners = new Set<(e: Error) => void>();
  /** Control requests made, as `0x<request>:<selector>:<entity>:<interface>` strings (for tests). */
  readonly requests: string[] = [];

  constructor(
    private readonly device: FakeUvcDevice,
    isochronous: boolean,
  ) {
    this.info = device.info;
    this.capabilities = Object.freeze({
      bulk: true,
      interrupt: true,
      isochronous,
      kernelDriver: true,
      hotplug: true,
    });
  }

  get state(): UsbTransportState {
    return this.current;
  }

  /** Streams running now. */
  get runningStreams(): number {
    return this.streams.size;
  }

  deviceDescriptor(): Uint8Array {
    this.check();
    return this.device.built.device.slice();
  }

  configDescriptor(): Promise<Uint8Array> {
    return this.run(() => this.device.configuration.slice());
  }

  claimInterface(n: number): Promise<void> {
    return this.run(() => {
      this.device.claim(this, n);
      this.claimed.add(n);
    });
  }

  releaseInterface(n: number): Promise<void> {
    return this.run(() => {
      this.device.release(this, n);
      this.claimed.delete(n);
    });
  }

  setAlternateSetting(n: number, alt: number): Promise<void> {
    return this.run(() => {
      if (!this.claimed.has(n)) throw new Error(`setAlternateSetting requires interface ${n} claimed`);
      if (n === this.device.built.layout.streamingInterface) {
        const known = alt === 0 || this.device.built.layout.altSettings.some((a) => a.alt === alt);
        if (!known) throw new HalError(HalErrorCode.Stall, `no alternate setting ${alt}`);
        this.device.alt = alt;
        if (alt === 0) {
          for (const s of [...this.streams]) s.stop({ reason: 'stopped' });
          this.device.vs.reset();
        }
      }
    });
  }

  isKernelDriverActive(n: number): Promise<boolean> {
    return this.run(() => this.device.kernelBound.has(n));
  }

  detachKernelDriver(n: number): Promise<boolean> {
    return this.run(() => this.device.kernelBound.delete(n));
  }

  attachKernelDriver(n: number): Promise<void> {
    return this.run(() => {
      if (this.device.claimedBy(n) !== undefined)
        throw new HalError(HalErrorCode.Busy, `interface ${n} is claimed`);
      this.device.kernelBound.add(n);
    });
  }

  controlIn(setup: ControlSetup, length: number): Promise<Uint8Array> {
    checkSetup(setup, true, length);
    return this.run(() => {
      if (setup.requestType === 0x80 && setup.request === 0x06) return this.standardDescriptor(setup, length);
      const answer = this.classAnswer({ ...setup, length });
      return answer.status === 'ok' ? (answer.data ?? new Uint8Array()).slice(0, length) : new Uint8Array();
    });
  }

  controlOut(setup: ControlSetup, data: Uint8Array): Promise<number> {
    checkSetup(setup, false, data.length);
    return this.run(() => {
      this.classAnswer({ ...setup, length: data.length, data: data.slice() });
      return data.length;
    });
  }

  clearHalt(endpoint: number): Promise<void> {
    return this.run(() => {
      if (endpoint === this.device.built.layout.videoEndpoint) this.device.vs.reset();
    });
  }

  openInStream(endpoint: number, options: InStreamOptions): UsbInStream {
    checkInEndpoint(endpoint);
    this.check();
    if (!Number.isInteger(options.transferSize) || options.transferSize < 1)
      throw new RangeError('transferSize must be >= 1');
    if (!Number.isInteger(options.depth) || options.depth < 1) throw new RangeError('depth must be >= 1');
    const buffers =
      options.buffers ?? Array.from({ length: options.depth }, () => new Uint8Array(options.transferSize));
    const core = new InStreamCore(endpoint, buffers, options.onData, this.info.location);
    let slot = 0;
    const send = (bytes: Uint8Array, length: number): void => {
      // A payload longer than one transfer arrives in several, as on the wire.
      for (let at = 0; at < length && core.running; at += options.transferSize) {
        const n = Math.min(options.transferSize, length - at);
        const buf = buffers[slot]!;
        buf.set(bytes.subarray(at, at + n), 0);
        core.complete(slot, n, 'ok');
        slot = (slot + 1) % buffers.length;
      }
    };
    const state = this.startFrames(
      endpoint,
      'bulk',
      (commit) => commit.maxPayloadTransferSize,
      send,
      (end) => {
        core.finish(end);
      },
    );
    core.attach({
      resubmit: () => undefined,
      cancel: () => {
        if (this.device.stopLeftovers) {
          // Payloads that reach the host after stop began: a 2-byte header (EOH, FID) and 14 bytes.
          for (const fid of [0, 1, 0]) {
            const buf = buffers[slot]!;
            const n = Math.min(16, buf.length);
            buf.fill(0x5a, 0, n);
            buf[0] = 2;
            buf[1] = 0x80 | fid;
            core.complete(slot, n, 'ok');
            slot = (slot + 1) % buffers.length;
          }
        }
        state.stop({ reason: 'stopped' });
      },
    });
    return core;
  }

  openIsoInStream(endpoint: number, options: IsoInStreamOptions): UsbIsoInStream {
    checkInEndpoint(endpoint);
    this.check();
    if (!this.capabilities.isochronous)
      throw new HalError(
        HalErrorCode.Unsupported,
        'isochronous transfers are not supported by this (fake node-usb) backend',
      );
    const altInfo = this.device.built.layout.altSettings.find((a) => a.alt === this.device.alt);
    if (this.device.alt === 0 || altInfo === undefined)
      throw new Error('openIsoInStream requires the VS interface on an alternate setting > 0');
    const ppt = options.packetsPerTransfer;
    const size = ppt * options.packetSize;
    const view: { -readonly [K in keyof IsoTransferView]: IsoTransferView[K] } = {
      data: (options.buffers?.[0] ?? new Uint8Array(size)).subarray(0, size),
      packetCount: ppt,
      packetSize: options.packetSize,
      packetLengths: new Uint32Array(ppt),
      packetStatus: new Int32Array(ppt),
      status: 'ok',
    };
    const stats = { transfers: 0, packets: 0, bytes: 0, packetErrors: 0 };
    let packet = 0;
    const flushTransfer = (): void => {
      for (let i = packet; i < ppt; i++) view.packetLengths[i] = 0;
      stats.transfers++;
      stats.packets += ppt;
      packet = 0;
      options.onTransfer(view);
    };
    let resolveEnded!: (e: UsbStreamEnd) => void;
    const ended = new Promise<UsbStreamEnd>((r) => (resolveEnded = r));
    const send = (bytes: Uint8Array, length: number, lastOfFrame: boolean): void => {
      view.data.set(bytes.subarray(0, length), packet * options.packetSize);
      view.packetLengths[packet] = length;
      view.packetStatus[packet] = 0;
      stats.bytes += length;
      packet++;
      if (packet === ppt || lastOfFrame) flushTransfer();
    };
    const state = this.startFrames(
      endpoint,
      'isochronous',
      () => Math.min(altInfo.bytesPerInterval, options.packetSize),
      send,
      (end) => resolveEnded(end),
    );
    return {
      endpoint,
      ended,
      stats,
      stop: () => (state.stop({ reason: 'stopped' }), ended.then(() => undefined)),
    };
  }

  onDisconnect(listener: (error: Error) => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    for (const s of [...this.streams]) s.stop({ reason: 'stopped' });
    if (this.current === 'open') this.current = 'closed';
    this.claimed.clear();
    this.device.forget(this);
  }

  /** @internal the device was unplugged. */
  deviceGone(): void {
    if (this.current !== 'open') return;
    this.current = 'disconnected';
    const error = new HalError(HalErrorCode.Disconnected, `${this.info.location} was unplugged`);
    for (const s of [...this.streams]) s.stop({ reason: 'disconnected', error });
    this.device.forget(this);
    for (const l of [...this.disconnectListeners]) l(error);
  }

  /**
   * Sends frame n at open + (n + 1) × interval on the device's clock, as payloads of at most
   * `payloadSize(commit)` bytes. `send(bytes, length, lastOfFrame)` delivers one payload.
   */
  private startFrames(
    endpoint: number,
    transfer: 'bulk' | 'isochronous',
    payloadSize: (commit: ProbeCommit) => number,
    send: (bytes: Uint8Array, length: number, lastOfFrame: boolean) => void,
    onEnd: (end: UsbStreamEnd) => void,
  ): StreamState {
    const vsItf = this.device.built.layout.streamingInterface;
    if (!this.claimed.has(vsItf)) throw new Error(`streaming requires interface ${vsItf} claimed`);
    if (endpoint !== this.device.built.layout.videoEndpoint)
      throw new TypeError(`no video endpoint 0x${endpoint.toString(16)}`);
    if (transfer !== this.device.description.streaming.transfer)
      throw new HalError(HalErrorCode.Protocol, `endpoint 0x81 is not ${transfer}`);
    const clock = this.device.timeSource;
    const t0 = clock.now();
    let n = 0;
    let timer: ScheduledCallback | undefined;
    let writer: PayloadWriter | undefined;
    let frame = new Uint8Array(0);
    let packet = new Uint8Array(0);
    const state: StreamState = {
      stop: (end) => {
        if (!this.streams.delete(state)) return;
        timer?.cancel();
        timer = undefined;
        // Streams end asynchronously, as real transports reap their URBs.
        setImmediate(() => onEnd(end));
      },
    };
    const tick = (): void => {
      timer = undefined;
      const commit = this.device.vs.committed;
      if (commit === undefined || !this.streams.has(state)) return;
      const fmt = this.device.description.streaming.formats[commit.formatIndex - 1];
      const mjpeg = fmt?.kind === 'mjpeg';
      const length = mjpeg ? fakeMjpegSize(n, commit.maxVideoFrameSize) : commit.maxVideoFrameSize;
      const max = payloadSize(commit);
      if (writer === undefined) {
        writer = new PayloadWriter({ maxPayloadSize: max, pts: true });
        packet = new Uint8Array(max);
      }
      if (this.device.stillTriggered && this.device.stillCommit !== undefined) {
        // Method 2: the still goes out on the video endpoint, STI set, in place of video frame n.
        this.device.stillTriggered = false;
        const sizes = this.device.stillSizesOf();
        const still = sizes[(this.device.stillCommit[1] ?? 1) - 1]!;
        const bytes = this.device.stillBytes(still.width, still.height);
        const image = new Uint8Array(bytes);
        fillFakeFrame(STILL_NUMBER_BASE + this.device.stillsSent, image, bytes, false);
        writer.startFrame(bytes, { still: true });
        for (let p = writer.nextPayload(); p !== undefined; p = writer.nextPayload()) {
          const h = writer.writeHeader(p, packet);
          packet.set(image.subarray(p.dataOffset, p.dataOffset + p.dataLength), h);
          send(packet, h + p.dataLength, p.last);
          if (!this.streams.has(state)) return;
        }
        this.device.stillsSent++;
        // The still took this frame time: video frame n is not sent.
        n++;
        timer = clock.schedule(t0 + BigInt(n + 1) * BigInt(commit.frameInterval), tick);
        return;
      }
      if (frame.length < length) frame = new Uint8Array(length);
      fillFakeFrame(n, frame, length, mjpeg);
      writer.startFrame(length, { pts: n * 1000, error: this.device.isCorrupt(n) });
      for (let p = writer.nextPayload(); p !== undefined; p = writer.nextPayload()) {
        const h = writer.writeHeader(p, packet);
        packet.set(frame.subarray(p.dataOffset, p.dataOffset + p.dataLength), h);
        send(packet, h + p.dataLength, p.last);
        if (!this.streams.has(state)) return;
      }
      this.device.framesSent++;
      n++;
      timer = clock.schedule(t0 + BigInt(n + 1) * BigInt(commit.frameInterval), tick);
    };
    this.streams.add(state);
    const first = this.device.vs.committed;
    if (first !== undefined) timer = clock.schedule(t0 + BigInt(first.frameInterval), tick);
    return state;
  }

  private standardDescriptor(setup: ControlSetup, length: number): Uint8Array {
    const type = setup.value >> 8;
    const index = setup.value & 0xff;
    if (type === 1) return this.device.built.device.slice(0, length);
    if (type === 2) return this.device.configuration.slice(0, length);
    if (type === 3) {
      const s = this.device.strings.get(index);
      if (s === undefined) throw new HalError(HalErrorCode.Stall, `no string descriptor ${index}`);
      return s.slice(0, length);
    }
    throw new HalError(HalErrorCode.Stall, `no descriptor type ${type}`);
  }

  private classAnswer(req: UvcControlRequest): ResponderAnswer {
    const itf = req.index & 0xff;
    this.requests.push(`0x${req.request.toString(16)}:${req.value >> 8}:${req.index >> 8}:${itf}`);
    // usbfs refuses requests to an interface another driver holds.
    if (this.device.kernelBound.has(itf)) throw new HalError(HalErrorCode.Busy, BUSY_MESSAGE(itf));
    const owner = this.device.claimedBy(itf);
    if (owner !== undefined && owner !== this)
      throw new HalError(HalErrorCode.Busy, `interface ${itf} is claimed by another process`);
    const answer = this.device.classRequest(req);
    if (answer.status === 'stall')
      throw new HalError(HalErrorCode.Stall, `request 0x${req.request.toString(16)} stalled`);
    return answer;
  }

  private check(): void {
    if (this.current === 'disconnected')
      throw new HalError(HalErrorCode.Disconnected, `${this.info.location} was unplugged`);
    if (this.current === 'closed')
      throw new Error(`transport requires state 'open', current state is 'closed'`);
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      this.check();
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

/** A {@link UsbTransportProvider} over fake devices, with plug/unplug hotplug events. */
export class FakeUvcProvider implements UsbTransportProvider {
  readonly name = 'fake';
  readonly capabilities: UsbCapabilities;
  private readonly devices: FakeUvcDevice[] = [];
  private readonly listeners = new Set<(e: UsbHotplugEvent) => void>();
  /** Transports opened through this provider (for leak checks). */
  readonly opened: FakeUvcTransport[] = [];

  constructor(
    devices: readonly FakeUvcDevice[] = [],
    private readonly isochronous = true,
  ) {
    this.devices.push(...devices);
    this.capabilities = Object.freeze({
      bulk: true,
      interrupt: true,
      isochronous,
      kernelDriver: true,
      hotplug: true,
    });
  }

  listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
    return Promise.resolve(
      this.devices.filter((d) => !d.unplugged && matchesFilter(d.info, filter)).map((d) => d.info),
    );
  }

  async open(info: UsbDeviceInfo): Promise<UsbTransport> {
    const d = this.devices.find((x) => x.info.location === info.location && !x.unplugged);
    if (d === undefined) throw new HalError(HalErrorCode.Disconnected, `no device at ${info.location}`);
    const t = await d.openTransport(this.isochronous);
    this.opened.push(t);
    return t;
  }

  watch(listener: (event: UsbHotplugEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Plugs a device in (attach event). */
  plug(device: FakeUvcDevice): void {
    this.devices.push(device);
    for (const l of [...this.listeners]) l({ type: 'attach', device: device.info });
  }

  /** Pulls a device out (its transports disconnect, then a detach event). */
  unplug(device: FakeUvcDevice): void {
    const i = this.devices.indexOf(device);
    if (i < 0) return;
    this.devices.splice(i, 1);
    device.unplug();
    for (const l of [...this.listeners]) l({ type: 'detach', device: device.info });
  }
}
