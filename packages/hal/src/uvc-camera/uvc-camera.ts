// A USB UVC camera as a HalDevice: identity and capabilities read at enumeration, open claims VC + VS (optionally detaching uvcvideo).
import type { Logger } from 'pino';
import { EventHub } from '../event-hub.js';
import type {
  ControlCapability,
  ControlId,
  FrameSizeCapability,
  HalDevice,
  HalDeviceCapabilities,
  HalDeviceEvents,
  HalDeviceIdentity,
  HalDeviceState,
  HalOpenOptions,
  OpenedHalDevice,
  StillCapability,
  VideoFormatCapability,
} from '../hal-device.js';
import { HalError, HalErrorCode, isHalError } from '../hal-error.js';
import { imageLayout, type Fourcc, type VideoFormat } from '../pixel-format.js';
import { silentLogger } from '../silent-logger.js';
import { SystemTimeSource } from '../time-source.js';
import type { UsbDeviceInfo, UsbTransport, UsbTransportProvider } from '../usb/usb-transport.js';
import { parseUvcDescriptors } from '../uvc/descriptor-parser.js';
import type {
  UvcFormat,
  UvcFrame,
  UvcFrameIntervals,
  UvcFunction,
  UvcStreamingInterface,
} from '../uvc/descriptor-types.js';
import { parseUsbDeviceDescriptor } from '../uvc/usb-descriptor.js';
import { UvcCameraSession } from './uvc-camera-session.js';
import { UvcCaptureEngine, type UvcFormatChoice, type UvcStillChoice } from './uvc-capture-engine.js';
import { UvcControlClient, type UvcBoundControl } from './uvc-control-client.js';

/** Options of a {@link UvcCamera} (and of {@link UvcCamera.probe}). */
export interface UvcCameraOptions {
  /**
   * Unbind the kernel driver (uvcvideo) from the VC and VS interfaces at open, and rebind it at
   * close. Default false: an interface held by the kernel makes `open` reject HalError(Busy).
   */
  readonly detachKernelDriver?: boolean;
  readonly logger?: Logger;
  /** Bulk transfers in flight (default 32, see the capture engine's DEFAULT_BULK_DEPTH). */
  readonly bulkDepth?: number;
  /** Iso transfers in flight (default 8) and packets per transfer (default 32). */
  readonly isoDepth?: number;
  readonly isoPacketsPerTransfer?: number;
}

/** Options of {@link UvcCamera.open}: the hal ones plus a per-open kernel-driver choice. */
export interface UvcOpenOptions extends HalOpenOptions {
  /** Overrides {@link UvcCameraOptions.detachKernelDriver} for this open. */
  readonly detachKernelDriver?: boolean;
}

/** What enumeration learnt about a camera (one short open of the transport). */
export interface UvcCameraDescriptors {
  readonly deviceDescriptor: Uint8Array;
  readonly configuration: Uint8Array;
  readonly manufacturer: string;
  readonly product: string;
  readonly serial: string;
  /** Control capabilities, or undefined when the VC interface was held (read at open instead). */
  readonly controls: readonly UvcBoundControl[] | undefined;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/** UVC GUID FOURCCs hal can carry, by the FOURCC of the format GUID. */
const UNCOMPRESSED_FOURCCS: Readonly<Record<string, Fourcc>> = {
  YUY2: 'YUY2',
  YUYV: 'YUY2',
  UYVY: 'UYVY',
  NV12: 'NV12',
  I420: 'I420',
  Y800: 'GRAY8',
  'Y8  ': 'GRAY8',
  GREY: 'GRAY8',
};

/** hal FOURCC of a UVC format, or undefined when hal has none (H.264, vendor GUIDs, …). */
export function fourccOfUvcFormat(f: UvcFormat): Fourcc | undefined {
  if (f.type === 'mjpeg') return 'MJPG';
  if (f.type === 'uncompressed' && f.fourcc !== null) return UNCOMPRESSED_FOURCCS[f.fourcc];
  return undefined;
}

const CONTINUOUS_RATES = [120, 90, 60, 50, 30, 25, 24, 20, 15, 10, 7.5, 5, 1];

/**
 * Discrete intervals (100 ns, fastest first) of a frame. A continuous range becomes its steps
 * when there are at most 16, else the usual rates inside it plus both ends.
 */
export function frameIntervals(iv: UvcFrameIntervals): number[] {
  let out: number[];
  if (Array.isArray(iv)) out = iv.filter((x) => x > 0);
  else {
    const { min, max, step } = iv;
    if (min <= 0 || max < min) out = [];
    else if (step > 0 && (max - min) / step <= 15) {
      out = [];
      for (let x = min; x <= max; x += step) out.push(x);
    } else {
      out = [min, max];
      for (const r of CONTINUOUS_RATES) {
        const x = Math.round(10_000_000 / r);
        if (x > min && x < max) out.push(x);
      }
    }
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

function streamingOf(fn: UvcFunction): UvcStreamingInterface | undefined {
  return fn.streamingInterfaces.find((s) => s.header?.direction !== 'out' && s.formats.length > 0);
}

/** Builds video and still capabilities from the parsed VS descriptors. */
export function uvcVideoCapabilities(vs: UvcStreamingInterface | undefined): {
  video: VideoFormatCapability[];
  stills: StillCapability[];
} {
  const video: VideoFormatCapability[] = [];
  const stills: StillCapability[] = [];
  if (vs === undefined) return { video, stills };
  const method = vs.header?.stillCaptureMethod ?? 0;
  for (const f of vs.formats) {
    const fourcc = fourccOfUvcFormat(f);
    if (fourcc === undefined || video.some((v) => v.fourcc === fourcc)) continue;
    const sizes: FrameSizeCapability[] = [];
    for (const fr of f.frames) {
      try {
        imageLayout(fourcc, fr.width, fr.height);
      } catch {
        continue; // a size hal cannot lay out (e.g. odd NV12 dimensions)
      }
      const intervals = frameIntervals(fr.intervals);
      if (intervals.length === 0 || sizes.some((s) => s.width === fr.width && s.height === fr.height))
        continue;
      const def = intervals.includes(fr.defaultInterval) ? fr.defaultInterval : intervals[0]!;
      sizes.push(
        Object.freeze({
          width: fr.width,
          height: fr.height,
          intervals: Object.freeze(intervals.map(BigInt)),
          defaultInterval: BigInt(def),
        }),
      );
    }
    if (sizes.length === 0) continue;
    video.push(Object.freeze({ fourcc, sizes: Object.freeze(sizes) }));
    if (method === 2 || method === 3) {
      const still = vs.stillFrames.find((s) => s.formatIndex === f.index);
      if (still !== undefined && still.sizes.length > 0) {
        stills.push(
          Object.freeze({
            fourcc,
            sizes: Object.freeze(still.sizes.map((s) => Object.freeze({ width: s.width, height: s.height }))),
          }),
        );
      }
    }
  }
  return { video, stills };
}

async function readString(t: UsbTransport, index: number): Promise<string> {
  if (index === 0) return '';
  try {
    const b = await t.controlIn(
      { requestType: 0x80, request: 0x06, value: 0x0300 | index, index: 0x0409 },
      255,
      {
        timeoutMs: 500,
      },
    );
    let s = '';
    for (let i = 2; i + 1 < Math.min(b.length, b[0] ?? 0); i += 2)
      s += String.fromCharCode(b[i]! | (b[i + 1]! << 8));
    return s;
  } catch {
    return '';
  }
}

/**
 * A USB Video Class camera reached through a {@link UsbTransportProvider}.
 *
 * Capabilities: video formats/sizes/intervals and stills come from the descriptors (read at
 * enumeration). Control ranges need class requests on the VC interface, which the OS refuses
 * while uvcvideo holds it: {@link UvcCamera.probe} reads them when it can; otherwise
 * `capabilities.controls` is empty until the first successful `open` reads them (and stays
 * filled after).
 *
 * `open` claims VC and VS. With `detachKernelDriver` it unbinds uvcvideo first and rebinds it
 * at close; without, a held interface rejects HalError(Busy) naming uvcvideo and the option.
 */
export class UvcCamera implements HalDevice {
  readonly identity: HalDeviceIdentity;
  private caps: HalDeviceCapabilities;
  private bound: readonly UvcBoundControl[] | undefined;
  private readonly fn: UvcFunction;
  private readonly vs: UvcStreamingInterface;
  private readonly logger: Logger;
  private readonly events: EventHub<HalDeviceEvents>;
  private current: HalDeviceState = 'closed';
  private opening = false;
  private session: UvcCameraSession | undefined;

  /**
   * Opens `info` briefly to read descriptors, strings and (when the VC interface is free)
   * control ranges, and returns the camera.
   * @throws HalError(NotFound) when the device has no UVC camera function; transport errors.
   */
  static async probe(
    provider: UsbTransportProvider,
    info: UsbDeviceInfo,
    options: UvcCameraOptions = {},
  ): Promise<UvcCamera> {
    const logger = options.logger ?? silentLogger();
    const t = await provider.open(info);
    try {
      const deviceDescriptor = t.deviceDescriptor();
      const configuration = await t.configDescriptor();
      const dd = parseUsbDeviceDescriptor(deviceDescriptor);
      const manufacturer = (await readString(t, dd.manufacturerIndex)) || (info.manufacturer ?? '');
      const product = (await readString(t, dd.productIndex)) || (info.product ?? '');
      const serial = (await readString(t, dd.serialNumberIndex)) || (info.serialNumber ?? '');
      const fn = parseUvcDescriptors(configuration).functions[0];
      let controls: UvcBoundControl[] | undefined;
      if (fn !== undefined && !(await t.isKernelDriverActive(fn.controlInterface).catch(() => true))) {
        try {
          controls = await new UvcControlClient(t, fn, info.location).readCapabilities((id, err) =>
            logger.debug({ err, control: id }, 'control left out: its range could not be read'),
          );
        } catch (err) {
          logger.debug({ err }, 'control ranges are read at open');
        }
      }
      return new UvcCamera(
        provider,
        info,
        { deviceDescriptor, configuration, manufacturer, product, serial, controls },
        options,
      );
    } finally {
      await t.close();
    }
  }

  /** @throws HalError(NotFound) when `descriptors.configuration` has no UVC streaming function. */
  constructor(
    private readonly provider: UsbTransportProvider,
    private readonly info: UsbDeviceInfo,
    descriptors: UvcCameraDescriptors,
    private readonly options: UvcCameraOptions = {},
  ) {
    const dd = parseUsbDeviceDescriptor(descriptors.deviceDescriptor);
    const vid = hex4(dd.vendorId);
    const pid = hex4(dd.productId);
    const id = `usb:${vid}:${pid}:${descriptors.serial !== '' ? descriptors.serial : info.location}`;
    const parsed = parseUvcDescriptors(descriptors.configuration);
    const fn = parsed.functions.find((f) => streamingOf(f) !== undefined);
    const vs = fn === undefined ? undefined : streamingOf(fn);
    if (fn === undefined || vs === undefined) {
      throw new HalError(HalErrorCode.NotFound, `${id} has no UVC video streaming function`, {
        deviceId: id,
      });
    }
    this.fn = fn;
    this.vs = vs;
    this.identity = Object.freeze({
      id,
      kind: 'camera',
      transport: 'usb',
      vendorId: dd.vendorId,
      productId: dd.productId,
      name: descriptors.product !== '' ? descriptors.product : `USB camera ${vid}:${pid}`,
      manufacturer: descriptors.manufacturer,
      serial: descriptors.serial,
      location: `usb:${info.location}`,
    });
    this.logger = (options.logger ?? silentLogger()).child({ device: id });
    this.events = new EventHub(this.logger);
    for (const w of parsed.warnings) this.logger.debug({ warning: w }, 'descriptor warning');
    const { video, stills } = uvcVideoCapabilities(vs);
    this.bound = descriptors.controls;
    this.caps = Object.freeze({
      video: Object.freeze(video),
      stills: Object.freeze(stills),
      controls: Object.freeze((descriptors.controls ?? []).map((c) => c.capability)),
    });
  }

  get capabilities(): HalDeviceCapabilities {
    return this.caps;
  }

  get state(): HalDeviceState {
    return this.current;
  }

  /** The USB device this camera is (for providers matching hotplug events). */
  get usbDevice(): UsbDeviceInfo {
    return this.info;
  }

  on<K extends keyof HalDeviceEvents & string>(
    event: K,
    listener: (...args: HalDeviceEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof HalDeviceEvents & string>(
    event: K,
    listener: (...args: HalDeviceEvents[K]) => void,
  ): void {
    this.events.off(event, listener);
  }

  /**
   * Opens the camera: claims VC and VS (see the class comment about the kernel driver), reads
   * control ranges if enumeration could not, and GET_CURs every control.
   * @throws HalError Busy (open already, or an interface held), Disconnected, AccessDenied, transport errors.
   */
  async open(options: UvcOpenOptions = {}): Promise<OpenedHalDevice> {
    const deviceId = this.identity.id;
    if (this.current === 'disconnected')
      throw new HalError(HalErrorCode.Disconnected, `${deviceId} is disconnected`, { deviceId });
    if (this.current === 'open' || this.opening)
      throw new HalError(HalErrorCode.Busy, `${deviceId} is already open`, { deviceId });
    this.opening = true;
    const logger = (options.logger ?? this.logger).child({ device: deviceId, session: true });
    const detach = options.detachKernelDriver ?? this.options.detachKernelDriver ?? false;
    let t: UsbTransport | undefined;
    const detached: number[] = [];
    const claimed: number[] = [];
    const release = async (): Promise<void> => {
      if (t === undefined) return;
      const tt = t;
      t = undefined;
      if (tt.state === 'open') {
        for (const itf of claimed.reverse())
          await tt.releaseInterface(itf).catch((err) => logger.warn({ err, itf }, 'release failed'));
        for (const itf of detached)
          await tt
            .attachKernelDriver(itf)
            .catch((err) => logger.warn({ err, itf }, 'reattaching uvcvideo failed'));
      }
      await tt.close();
    };
    try {
      t = await this.provider.open(this.info);
      const interfaces = [this.fn.controlInterface, this.vs.interfaceNumber];
      for (const itf of interfaces) {
        if (t.capabilities.kernelDriver && (await t.isKernelDriverActive(itf))) {
          if (!detach) {
            throw new HalError(
              HalErrorCode.Busy,
              `${deviceId}: interface ${itf} is held by the kernel driver (uvcvideo); ` +
                `open with { detachKernelDriver: true } to detach it for this session`,
              { deviceId },
            );
          }
          if (await t.detachKernelDriver(itf)) detached.push(itf);
        }
      }
      for (const itf of interfaces) {
        await t.claimInterface(itf);
        claimed.push(itf);
      }
      const client = new UvcControlClient(t, this.fn, deviceId);
      if (this.bound === undefined) {
        this.bound = await client.readCapabilities((id, err) =>
          logger.debug({ err, control: id }, 'control left out: its range could not be read'),
        );
        this.caps = Object.freeze({
          ...this.caps,
          controls: Object.freeze(this.bound.map((c) => c.capability)),
        });
      }
      const values = new Map<ControlId, { value: number; auto: boolean }>();
      for (const b of this.bound) values.set(b.capability.id, await this.readCurrent(client, b));
      const transport = t;
      const timeSource = options.timeSource ?? new SystemTimeSource();
      const session = new UvcCameraSession(
        this,
        transport,
        client,
        this.bound,
        values,
        (onDisconnect) =>
          new UvcCaptureEngine({
            deviceId,
            transport,
            function: this.fn,
            streaming: this.vs,
            timeSource,
            logger,
            resolve: (format) => this.resolve(format),
            resolveStill: (fourcc, width, height) => this.resolveStill(fourcc, width, height),
            onDisconnect,
            ...(this.options.bulkDepth !== undefined ? { bulkDepth: this.options.bulkDepth } : {}),
            ...(this.options.isoDepth !== undefined ? { isoDepth: this.options.isoDepth } : {}),
            ...(this.options.isoPacketsPerTransfer !== undefined
              ? { isoPacketsPerTransfer: this.options.isoPacketsPerTransfer }
              : {}),
          }),
        release,
        logger,
        {
          disconnected: (reason) => this.markDisconnected(reason),
          closed: () => {
            if (this.current === 'open') this.current = 'closed';
            this.session = undefined;
          },
          controlChanged: (id, value) => this.events.emit('control-change', id, value),
        },
      );
      this.session = session;
      this.current = 'open';
      return session;
    } catch (err) {
      await release().catch(() => undefined);
      if (isHalError(err, HalErrorCode.Disconnected)) this.markDisconnected(err);
      throw err;
    } finally {
      this.opening = false;
    }
  }

  /**
   * The device went away (hotplug detach, or the session saw it): an open session's engine
   * completes every mapping `Disconnected`; `disconnect` is emitted once. Idempotent.
   */
  markDisconnected(cause?: unknown): void {
    if (this.current === 'disconnected') return;
    const session = this.session;
    if (session !== undefined && this.current === 'open') {
      this.current = 'disconnected';
      try {
        session.captureEngineUnchecked().disconnect(cause);
      } catch {
        // already disconnected
      }
    }
    this.current = 'disconnected';
    const reason = isHalError(cause, HalErrorCode.Disconnected)
      ? cause
      : new HalError(HalErrorCode.Disconnected, `${this.identity.id} was unplugged`, {
          cause,
          deviceId: this.identity.id,
        });
    this.events.emit('disconnect', reason);
  }

  /** Resolves a hal format to the UVC format/frame/interval the camera describes. */
  resolve(format: VideoFormat): UvcFormatChoice | undefined {
    for (const f of this.vs.formats) {
      if (fourccOfUvcFormat(f) !== format.fourcc) continue;
      const frame: UvcFrame | undefined = f.frames.find(
        (fr) => fr.width === format.width && fr.height === format.height,
      );
      if (frame === undefined) continue;
      const wanted = Number(format.interval);
      const iv = frame.intervals;
      const ok = Array.isArray(iv)
        ? iv.includes(wanted)
        : wanted >= iv.min && wanted <= iv.max && (iv.step <= 0 || (wanted - iv.min) % iv.step === 0);
      if (!ok) continue;
      return { format: f, frame, interval: wanted };
    }
    return undefined;
  }

  /** Resolves a still size to the UVC format, still frame index and capture method. */
  resolveStill(fourcc: string, width: number, height: number): UvcStillChoice | undefined {
    for (const f of this.vs.formats) {
      if (fourccOfUvcFormat(f) !== fourcc) continue;
      const still = this.vs.stillFrames.find((s) => s.formatIndex === f.index);
      const i = still?.sizes.findIndex((z) => z.width === width && z.height === height) ?? -1;
      if (still === undefined || i < 0) continue;
      return {
        format: f,
        frameIndex: i + 1,
        compressionIndex: still.compression.length > 0 ? 1 : 0,
        method: this.vs.header?.stillCaptureMethod ?? 0,
      };
    }
    return undefined;
  }

  private async readCurrent(
    client: UvcControlClient,
    b: UvcBoundControl,
  ): Promise<{ value: number; auto: boolean }> {
    const c: ControlCapability = b.capability;
    let value = c.default;
    let auto = false;
    try {
      const v = await client.getValue(b.entityId, b.binding.def);
      value = typeof v === 'number' ? v : (v[b.binding.field ?? ''] ?? c.default);
      if (c.autoCapable && b.binding.auto !== undefined) {
        const a = (await client.get('cur', b.autoEntityId ?? b.entityId, b.binding.auto))[0] ?? 0;
        auto = b.binding.auto.name === 'ae-mode' ? a !== 1 : a !== 0;
      }
    } catch (err) {
      if (isHalError(err, HalErrorCode.Disconnected)) throw err;
      this.logger.debug({ err, control: c.id }, 'GET_CUR failed; using the default');
    }
    return { value, auto };
  }
}
