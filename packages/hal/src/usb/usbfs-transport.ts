// UsbTransport over the Linux usbfs N-API addon: claim/alt/driver control, async control, deep bulk/interrupt/iso URB queues.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { HalError, HalErrorCode } from '../hal-error.js';
import { silentLogger } from '../silent-logger.js';
import { InStreamCore } from './in-stream.js';
import { toHalError, transferStatusFromErrno } from './usb-failure.js';
import { URB_TYPE, loadUsbfsAddon } from './usbfs-addon.js';
import type { NativeDevice, NativeStream, UsbfsAddon } from './usbfs-addon.js';
import { activeConfigurationValue, listSysfsDevices, usbfsPath } from './sysfs-devices.js';
import { checkInEndpoint, checkSetup, matchesFilter } from './usb-transport.js';
import type {
  ControlOptions,
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
  UsbTransferStatus,
  UsbTransport,
  UsbTransportProvider,
  UsbTransportState,
} from './usb-transport.js';

const CAPABILITIES: UsbCapabilities = Object.freeze({
  bulk: true,
  interrupt: true,
  isochronous: true,
  kernelDriver: true,
  hotplug: true,
});

/** Options of {@link UsbfsTransportProvider}. */
export interface UsbfsProviderOptions {
  logger?: Logger;
  /** sysfs device directory (tests point it at a fixture tree). Default `/sys/bus/usb/devices`. */
  sysfsRoot?: string;
  /** usbfs device node root. Default `/dev/bus/usb`. */
  devRoot?: string;
  /** Hotplug polling period of sysfs, ms (usbfs has no event source of its own without udev). Default 500. */
  hotplugPollMs?: number;
}

/** True when the usbfs addon is loadable here; `reason` says why not. */
export function usbfsAvailable(): { available: boolean; reason: string } {
  const r = loadUsbfsAddon();
  return { available: r.addon !== undefined, reason: r.reason };
}

/**
 * Linux usbfs backend (the one that can do isochronous). Construction throws HalError Unsupported
 * when the addon is not available (other OS, not built), with the reason.
 */
export class UsbfsTransportProvider implements UsbTransportProvider {
  readonly name = 'usbfs';
  readonly capabilities = CAPABILITIES;
  private readonly addon: UsbfsAddon;
  private readonly logger: Logger;
  private readonly sysfsRoot: string;
  private readonly devRoot: string;
  private readonly pollMs: number;
  private readonly listeners = new Set<(e: UsbHotplugEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private known = new Map<string, UsbDeviceInfo>();

  constructor(options: UsbfsProviderOptions = {}) {
    const { addon, reason } = loadUsbfsAddon();
    if (addon === undefined) {
      throw new HalError(HalErrorCode.Unsupported, `usbfs transport unavailable: ${reason}`);
    }
    this.addon = addon;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'usbfs' });
    this.sysfsRoot = options.sysfsRoot ?? '/sys/bus/usb/devices';
    this.devRoot = options.devRoot ?? '/dev/bus/usb';
    this.pollMs = options.hotplugPollMs ?? 500;
  }

  listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
    return Promise.resolve(listSysfsDevices(this.sysfsRoot).filter((d) => matchesFilter(d, filter)));
  }

  open(device: UsbDeviceInfo): Promise<UsbTransport> {
    const path = usbfsPath(device, this.devRoot);
    const id = `usb:${device.location}`;
    try {
      const handle = this.addon.open(path);
      const raw = new Uint8Array(readFileSync(path));
      const configValue = activeConfigurationValue(this.sysfsRoot, device.location);
      return Promise.resolve(
        new UsbfsTransport(this.addon, handle, device, raw, configValue, this.logger.child({ device: id })),
      );
    } catch (e) {
      return Promise.reject(toHalError(e, `open ${path}`, id));
    }
  }

  watch(listener: (event: UsbHotplugEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.timer === undefined) {
      this.known = new Map(
        listSysfsDevices(this.sysfsRoot).map((d) => [`${d.location}@${d.deviceAddress}`, d]),
      );
      this.timer = setInterval(() => this.scan(), this.pollMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private scan(): void {
    const now = new Map(listSysfsDevices(this.sysfsRoot).map((d) => [`${d.location}@${d.deviceAddress}`, d]));
    const events: UsbHotplugEvent[] = [];
    for (const [k, d] of this.known) if (!now.has(k)) events.push({ type: 'detach', device: d });
    for (const [k, d] of now) if (!this.known.has(k)) events.push({ type: 'attach', device: d });
    this.known = now;
    for (const e of events) {
      for (const l of this.listeners) {
        try {
          l(e);
        } catch (err) {
          this.logger.error({ err }, 'hotplug listener threw');
        }
      }
    }
  }
}

/** Splits the usbfs node's raw bytes (device descriptor + every configuration) and picks the active configuration. */
export function splitUsbfsDescriptors(
  raw: Uint8Array,
  configValue: number | undefined,
): { device: Uint8Array; config: Uint8Array | undefined } {
  const device = raw.slice(0, 18);
  let off = 18;
  let first: Uint8Array | undefined;
  while (off + 9 <= raw.length) {
    const total = (raw[off + 2] ?? 0) | ((raw[off + 3] ?? 0) << 8);
    if (raw[off + 1] !== 2 || total < 9) break;
    const cfg = raw.slice(off, Math.min(off + total, raw.length));
    first ??= cfg;
    if (configValue === undefined || raw[off + 5] === configValue) return { device, config: cfg };
    off += total;
  }
  return { device, config: first };
}

class UsbfsTransport implements UsbTransport {
  readonly capabilities = CAPABILITIES;
  private currentState: UsbTransportState = 'open';
  private readonly claimed = new Set<number>();
  private readonly streams = new Map<number, { stop(): Promise<void>; ended: Promise<UsbStreamEnd> }>();
  private readonly disconnectListeners = new Set<(e: Error) => void>();
  private readonly device: Uint8Array;
  private readonly config: Uint8Array | undefined;
  private readonly id: string;

  constructor(
    private readonly addon: UsbfsAddon,
    private readonly handle: NativeDevice,
    readonly info: UsbDeviceInfo,
    raw: Uint8Array,
    configValue: number | undefined,
    private readonly logger: Logger,
  ) {
    const split = splitUsbfsDescriptors(raw, configValue);
    this.device = split.device;
    this.config = split.config;
    this.id = `usb:${info.location}`;
  }

  get state(): UsbTransportState {
    return this.currentState;
  }

  private ensureOpen(op: string): void {
    if (this.currentState === 'disconnected') {
      throw new HalError(HalErrorCode.Disconnected, `${op}: device ${this.id} is disconnected`, {
        deviceId: this.id,
      });
    }
    if (this.currentState !== 'open') throw HalError.invalidState(op, this.currentState, 'open', this.id);
  }

  /** Turns a native failure into a HalError; a Disconnected one also moves the transport to `disconnected`. */
  private fail(e: unknown, op: string): HalError {
    const err = toHalError(e, op, this.id);
    if (err.code === HalErrorCode.Disconnected) this.markDisconnected(err);
    return err;
  }

  private markDisconnected(err: Error): void {
    if (this.currentState !== 'open') return;
    this.currentState = 'disconnected';
    this.logger.info('device disconnected');
    for (const l of this.disconnectListeners) {
      try {
        l(err);
      } catch (e) {
        this.logger.error({ err: e }, 'disconnect listener threw');
      }
    }
  }

  private sync<T>(op: string, f: () => T): Promise<T> {
    try {
      this.ensureOpen(op);
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(e instanceof HalError ? e : this.fail(e, op));
    }
  }

  deviceDescriptor(): Uint8Array {
    return this.device.slice();
  }

  configDescriptor(): Promise<Uint8Array> {
    if (this.config === undefined) {
      return Promise.reject(
        new HalError(HalErrorCode.Protocol, 'no configuration descriptor', { deviceId: this.id }),
      );
    }
    return Promise.resolve(this.config.slice());
  }

  claimInterface(n: number): Promise<void> {
    return this.sync(`claimInterface(${n})`, () => {
      this.addon.claim(this.handle, n);
      this.claimed.add(n);
    });
  }

  releaseInterface(n: number): Promise<void> {
    return this.sync(`releaseInterface(${n})`, () => {
      this.addon.release(this.handle, n);
      this.claimed.delete(n);
    });
  }

  setAlternateSetting(n: number, alt: number): Promise<void> {
    return this.sync(`setAlternateSetting(${n}, ${alt})`, () => this.addon.setAlt(this.handle, n, alt));
  }

  isKernelDriverActive(n: number): Promise<boolean> {
    return this.sync(`isKernelDriverActive(${n})`, () => {
      const d = this.addon.getDriver(this.handle, n);
      return d !== null && d !== 'usbfs';
    });
  }

  detachKernelDriver(n: number): Promise<boolean> {
    return this.sync(`detachKernelDriver(${n})`, () => {
      const d = this.addon.getDriver(this.handle, n);
      if (d === null || d === 'usbfs') return false;
      try {
        this.addon.disconnect(this.handle, n);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENODATA') return false;
        throw e;
      }
      this.logger.debug({ iface: n, driver: d }, 'kernel driver detached');
      return true;
    });
  }

  attachKernelDriver(n: number): Promise<void> {
    return this.sync(`attachKernelDriver(${n})`, () => {
      if (this.claimed.has(n)) {
        throw HalError.invalidState(`attachKernelDriver(${n})`, 'claimed', 'released', this.id);
      }
      this.addon.connect(this.handle, n);
    });
  }

  private control(setup: ControlSetup, buffer: Uint8Array, options: ControlOptions | undefined, op: string) {
    return new Promise<number>((resolve, reject) => {
      try {
        this.ensureOpen(op);
        this.addon.control(
          this.handle,
          setup.requestType,
          setup.request,
          setup.value,
          setup.index,
          buffer,
          options?.timeoutMs ?? 1000,
          (err, actual) => (err !== null ? reject(this.fail(err, op)) : resolve(actual ?? 0)),
        );
      } catch (e) {
        reject(e instanceof HalError ? e : this.fail(e, op));
      }
    });
  }

  async controlIn(setup: ControlSetup, length: number, options?: ControlOptions): Promise<Uint8Array> {
    checkSetup(setup, true, length);
    const buf = new Uint8Array(length);
    const n = await this.control(setup, buf, options, `controlIn(0x${setup.request.toString(16)})`);
    return buf.subarray(0, n);
  }

  controlOut(setup: ControlSetup, data: Uint8Array, options?: ControlOptions): Promise<number> {
    checkSetup(setup, false, data.length);
    // The addon needs a plain Uint8Array; a Buffer is one.
    return this.control(setup, data, options, `controlOut(0x${setup.request.toString(16)})`);
  }

  clearHalt(endpoint: number): Promise<void> {
    return this.sync(`clearHalt(0x${endpoint.toString(16)})`, () =>
      this.addon.clearHalt(this.handle, endpoint),
    );
  }

  private startNative(
    endpoint: number,
    type: number,
    buffers: readonly Uint8Array[],
    transferSize: number,
    packets: number,
    packetSize: number,
    lengths: Uint32Array[] | null,
    statuses: Int32Array[] | null,
    onComplete: (slot: number, status: number, actual: number) => boolean,
    onEnd: () => void,
  ): NativeStream {
    const op = `open stream 0x${endpoint.toString(16)}`;
    this.ensureOpen(op);
    if (this.streams.has(endpoint)) {
      throw HalError.invalidState(op, 'streaming', 'idle', this.id);
    }
    try {
      return this.addon.streamStart(
        this.handle,
        type,
        endpoint,
        buffers,
        transferSize,
        packets,
        packetSize,
        lengths,
        statuses,
        (slot, status, actual) => {
          if (slot < 0) {
            onEnd();
            return true;
          }
          if (status === -19 || status === -108) {
            this.markDisconnected(
              new HalError(HalErrorCode.Disconnected, `device ${this.id} disconnected`, {
                deviceId: this.id,
              }),
            );
          }
          return onComplete(slot, status, actual);
        },
      );
    } catch (e) {
      throw this.fail(e, op);
    }
  }

  openInStream(endpoint: number, options: InStreamOptions): UsbInStream {
    checkInEndpoint(endpoint);
    const { transferSize, depth } = options;
    if (!Number.isInteger(transferSize) || transferSize < 1 || transferSize > 16 * 1024 * 1024) {
      throw new RangeError(`transferSize must be 1..16 MiB, got ${String(transferSize)}`);
    }
    if (!Number.isInteger(depth) || depth < 1 || depth > 256) {
      throw new RangeError(`depth must be 1..256, got ${String(depth)}`);
    }
    const buffers = options.buffers ?? Array.from({ length: depth }, () => new Uint8Array(transferSize));
    if (buffers.length !== depth || buffers.some((b) => b.length < transferSize)) {
      throw new RangeError('buffers must be `depth` views of at least transferSize bytes');
    }
    const core = new InStreamCore(endpoint, buffers, options.onData, this.id);
    const type = this.endpointType(endpoint) === 3 ? URB_TYPE.interrupt : URB_TYPE.bulk;
    const native = this.startNative(
      endpoint,
      type,
      buffers,
      transferSize,
      0,
      0,
      null,
      null,
      (slot, status, actual) => core.complete(slot, actual, transferStatusFromErrno(status)),
      () => {
        this.streams.delete(endpoint);
        core.finish();
      },
    );
    core.attach({
      resubmit: (slot) => this.addon.streamResubmit(native, slot),
      cancel: () => this.addon.streamStop(native),
    });
    this.streams.set(endpoint, core);
    return core;
  }

  openIsoInStream(endpoint: number, options: IsoInStreamOptions): UsbIsoInStream {
    checkInEndpoint(endpoint);
    const { packetsPerTransfer: packets, packetSize, depth } = options;
    if (!Number.isInteger(packets) || packets < 1 || packets > 1024) {
      throw new RangeError(`packetsPerTransfer must be 1..1024, got ${String(packets)}`);
    }
    if (!Number.isInteger(packetSize) || packetSize < 1 || packetSize > 3 * 1024 * 16) {
      throw new RangeError(`packetSize must be 1..49152, got ${String(packetSize)}`);
    }
    if (!Number.isInteger(depth) || depth < 1 || depth > 256) {
      throw new RangeError(`depth must be 1..256, got ${String(depth)}`);
    }
    const size = packets * packetSize;
    const buffers = options.buffers ?? Array.from({ length: depth }, () => new Uint8Array(size));
    if (buffers.length !== depth || buffers.some((b) => b.length < size)) {
      throw new RangeError('buffers must be `depth` views of at least packetsPerTransfer × packetSize bytes');
    }
    const lengths = buffers.map(() => new Uint32Array(packets));
    const statuses = buffers.map(() => new Int32Array(packets));
    const views: { -readonly [K in keyof IsoTransferView]: IsoTransferView[K] }[] = buffers.map((b, i) => ({
      data: b.subarray(0, size),
      packetCount: packets,
      packetSize,
      packetLengths: lengths[i] ?? new Uint32Array(0),
      packetStatus: statuses[i] ?? new Int32Array(0),
      status: 'ok' as UsbTransferStatus,
    }));
    const stats = { transfers: 0, packets: 0, bytes: 0, packetErrors: 0 };
    let resolveEnded!: (e: UsbStreamEnd) => void;
    const ended = new Promise<UsbStreamEnd>((r) => (resolveEnded = r));
    let endInfo: UsbStreamEnd | undefined;
    let stopping = false;
    // the native handle exists only after startNative returns, but stop() may be called from the first callback
    const handle: { native?: NativeStream } = {};
    const stop = (): Promise<void> => {
      if (!stopping && handle.native !== undefined) {
        stopping = true;
        this.addon.streamStop(handle.native);
      }
      return ended.then(() => undefined);
    };
    handle.native = this.startNative(
      endpoint,
      URB_TYPE.iso,
      buffers,
      size,
      packets,
      packetSize,
      lengths,
      statuses,
      (slot, status, actual) => {
        const v = views[slot];
        if (v === undefined) return true;
        const st = transferStatusFromErrno(status);
        v.status = st;
        stats.transfers++;
        stats.packets += packets;
        stats.bytes += actual;
        for (let i = 0; i < packets; i++) if (v.packetStatus[i] !== 0) stats.packetErrors++;
        if ((st === 'stall' || st === 'disconnected') && endInfo === undefined) {
          const code = st === 'stall' ? HalErrorCode.Stall : HalErrorCode.Disconnected;
          endInfo = {
            reason: st,
            error: new HalError(code, `iso stream 0x${endpoint.toString(16)} ended: ${st}`, {
              deviceId: this.id,
            }),
          };
        }
        try {
          options.onTransfer(v);
        } catch (cause) {
          endInfo ??= {
            reason: 'error',
            error: new HalError(HalErrorCode.Io, 'iso stream consumer threw', { cause, deviceId: this.id }),
          };
          void stop();
        }
        return true;
      },
      () => {
        this.streams.delete(endpoint);
        resolveEnded(endInfo ?? { reason: 'stopped' });
      },
    );
    const stream: UsbIsoInStream = { endpoint, ended, stop, stats };
    this.streams.set(endpoint, stream);
    return stream;
  }

  /** bmAttributes & 3 of the endpoint in the configuration descriptor (any alt setting); 2 (bulk) when not found. */
  private endpointType(endpoint: number): number {
    const c = this.config;
    if (c === undefined) return 2;
    for (let off = 0; off + 2 <= c.length;) {
      const len = c[off] ?? 0;
      if (len < 2) break;
      if (c[off + 1] === 5 && c[off + 2] === endpoint) return (c[off + 3] ?? 2) & 3;
      off += len;
    }
    return 2;
  }

  onDisconnect(listener: (error: Error) => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    await Promise.all([...this.streams.values()].map((s) => s.stop()));
    for (const n of this.claimed) {
      try {
        this.addon.release(this.handle, n);
      } catch {
        // gone or already released: closing must not fail
      }
    }
    this.claimed.clear();
    try {
      this.addon.close(this.handle);
    } catch (err) {
      this.logger.warn({ err }, 'close failed');
    }
    this.currentState = 'closed';
  }
}
