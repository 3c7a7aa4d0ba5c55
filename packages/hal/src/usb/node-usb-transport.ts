// UsbTransport over the npm `usb` package (2.x, libusb): enumeration, hotplug, descriptors, control, bulk/interrupt queues.
// The ONLY module that imports `usb` (dependency-cruiser rule). Isochronous is delegated to nothing: it reports Unsupported.
import type { Logger } from 'pino';
import * as usbLib from 'usb';
import { HalError, HalErrorCode } from '../hal-error.js';
import { silentLogger } from '../silent-logger.js';
import { InStreamCore } from './in-stream.js';
import { toHalError } from './usb-failure.js';
import { usbfsAvailable } from './usbfs-transport.js';
import { checkInEndpoint, checkSetup, formatLocation, matchesFilter } from './usb-transport.js';
import type {
  ControlOptions,
  ControlSetup,
  InStreamOptions,
  IsoInStreamOptions,
  UsbCapabilities,
  UsbDeviceFilter,
  UsbDeviceInfo,
  UsbHotplugEvent,
  UsbInStream,
  UsbIsoInStream,
  UsbSpeed,
  UsbTransferStatus,
  UsbTransport,
  UsbTransportProvider,
  UsbTransportState,
} from './usb-transport.js';

type LibDevice = usbLib.usb.Device;

const CAPABILITIES: UsbCapabilities = Object.freeze({
  bulk: true,
  interrupt: true,
  isochronous: false,
  kernelDriver: process.platform === 'linux',
  hotplug: true,
});

/** Options of {@link NodeUsbTransportProvider}. */
export interface NodeUsbProviderOptions {
  logger?: Logger;
}

const SPEED: Readonly<Record<number, UsbSpeed>> = {
  1: 'low',
  2: 'full',
  3: 'high',
  4: 'super',
  5: 'super-plus',
};

function describe(d: LibDevice): UsbDeviceInfo {
  const dd = d.deviceDescriptor;
  const ports = (d.portNumbers ?? []).slice();
  const speed = (d as unknown as { speed?: number }).speed;
  return Object.freeze({
    vendorId: dd.idVendor,
    productId: dd.idProduct,
    serialNumber: undefined,
    manufacturer: undefined,
    product: undefined,
    busNumber: d.busNumber,
    deviceAddress: d.deviceAddress,
    portPath: Object.freeze(ports),
    speed: (speed !== undefined ? SPEED[speed] : undefined) ?? 'unknown',
    deviceClass: dd.bDeviceClass,
    deviceSubClass: dd.bDeviceSubClass,
    deviceProtocol: dd.bDeviceProtocol,
    location: formatLocation(d.busNumber, ports),
  });
}

/**
 * The portable backend: libusb through `usb` 2.18.0 (chosen over 3.x by measurement, see USB.md).
 * Hotplug uses libusb's (udev-backed on Linux) events.
 */
export class NodeUsbTransportProvider implements UsbTransportProvider {
  readonly name = 'node-usb';
  readonly capabilities = CAPABILITIES;
  private readonly logger: Logger;
  private readonly listeners = new Set<(e: UsbHotplugEvent) => void>();
  private readonly onAttach = (d: LibDevice): void => this.emit({ type: 'attach', device: describe(d) });
  private readonly onDetach = (d: LibDevice): void => this.emit({ type: 'detach', device: describe(d) });

  constructor(options: NodeUsbProviderOptions = {}) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'node-usb' });
  }

  listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
    try {
      const all = usbLib.getDeviceList().map(describe);
      return Promise.resolve(all.filter((d) => d.portPath.length > 0 && matchesFilter(d, filter)));
    } catch (e) {
      return Promise.reject(toHalError(e, 'list USB devices'));
    }
  }

  open(device: UsbDeviceInfo): Promise<UsbTransport> {
    const id = `usb:${device.location}`;
    const d = usbLib
      .getDeviceList()
      .find((x) => describe(x).location === device.location && x.deviceAddress === device.deviceAddress);
    if (d === undefined) {
      return Promise.reject(
        new HalError(HalErrorCode.Disconnected, `${id} is no longer attached`, { deviceId: id }),
      );
    }
    try {
      d.open(); // true: also builds the interface objects of the active configuration (no SET_CONFIGURATION)
    } catch (e) {
      return Promise.reject(toHalError(e, `open ${id}`, id));
    }
    return Promise.resolve(new NodeUsbTransport(d, describe(d), this.logger.child({ device: id })));
  }

  watch(listener: (event: UsbHotplugEvent) => void): () => void {
    if (this.listeners.size === 0) {
      usbLib.usb.on('attach', this.onAttach);
      usbLib.usb.on('detach', this.onDetach);
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        usbLib.usb.off('attach', this.onAttach);
        usbLib.usb.off('detach', this.onDetach);
      }
    };
  }

  private emit(e: UsbHotplugEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error({ err }, 'hotplug listener threw');
      }
    }
  }
}

/** libusb transfer status (LibUSBException.errno in transfer callbacks) → per-transfer status. */
function transferStatus(error: usbLib.usb.LibUSBException | undefined): UsbTransferStatus {
  if (error === undefined) return 'ok';
  switch (error.errno) {
    case usbLib.usb.LIBUSB_TRANSFER_STALL:
      return 'stall';
    case usbLib.usb.LIBUSB_TRANSFER_NO_DEVICE:
    case usbLib.usb.LIBUSB_ERROR_NO_DEVICE:
      return 'disconnected';
    case usbLib.usb.LIBUSB_TRANSFER_CANCELLED:
      return 'cancelled';
    case usbLib.usb.LIBUSB_TRANSFER_OVERFLOW:
      return 'overflow';
    default:
      return 'error';
  }
}

class NodeUsbTransport implements UsbTransport {
  readonly capabilities = CAPABILITIES;
  private currentState: UsbTransportState = 'open';
  private readonly claimed = new Set<number>();
  private readonly streams = new Map<number, InStreamCore>();
  private readonly disconnectListeners = new Set<(e: Error) => void>();
  private readonly id: string;
  private readonly onLibDetach = (d: LibDevice): void => {
    if (
      d === this.dev ||
      (d.busNumber === this.info.busNumber && d.deviceAddress === this.info.deviceAddress)
    ) {
      this.markDisconnected();
    }
  };

  constructor(
    private readonly dev: LibDevice,
    readonly info: UsbDeviceInfo,
    private readonly logger: Logger,
  ) {
    this.id = `usb:${info.location}`;
    usbLib.usb.on('detach', this.onLibDetach);
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

  private markDisconnected(): void {
    if (this.currentState !== 'open') return;
    this.currentState = 'disconnected';
    const err = new HalError(HalErrorCode.Disconnected, `device ${this.id} disconnected`, {
      deviceId: this.id,
    });
    for (const l of this.disconnectListeners) {
      try {
        l(err);
      } catch (e) {
        this.logger.error({ err: e }, 'disconnect listener threw');
      }
    }
  }

  private fail(e: unknown, op: string): HalError {
    const err = toHalError(e, op, this.id);
    if (err.code === HalErrorCode.Disconnected) this.markDisconnected();
    return err;
  }

  private sync<T>(op: string, f: () => T): Promise<T> {
    try {
      this.ensureOpen(op);
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(e instanceof HalError ? e : this.fail(e, op));
    }
  }

  private callback<T>(op: string, f: (cb: (err?: unknown, v?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        this.ensureOpen(op);
        f((err, v) => (err !== undefined && err !== null ? reject(this.fail(err, op)) : resolve(v as T)));
      } catch (e) {
        reject(e instanceof HalError ? e : this.fail(e, op));
      }
    });
  }

  deviceDescriptor(): Uint8Array {
    const d = this.dev.deviceDescriptor;
    const b = new Uint8Array(18);
    const dv = new DataView(b.buffer);
    b[0] = 18;
    b[1] = 1;
    dv.setUint16(2, d.bcdUSB, true);
    b[4] = d.bDeviceClass;
    b[5] = d.bDeviceSubClass;
    b[6] = d.bDeviceProtocol;
    b[7] = d.bMaxPacketSize0;
    dv.setUint16(8, d.idVendor, true);
    dv.setUint16(10, d.idProduct, true);
    dv.setUint16(12, d.bcdDevice, true);
    b[14] = d.iManufacturer;
    b[15] = d.iProduct;
    b[16] = d.iSerialNumber;
    b[17] = d.bNumConfigurations;
    return b;
  }

  async configDescriptor(): Promise<Uint8Array> {
    // usb 2.x exposes class-specific bytes only as per-descriptor `extra`; GET_DESCRIPTOR gives the exact device order.
    const setup = { requestType: 0x80, request: 6, value: 0x0200, index: 0 };
    const head = await this.controlIn(setup, 9);
    if (head.length < 4)
      throw new HalError(HalErrorCode.Protocol, 'short configuration descriptor', { deviceId: this.id });
    const total = (head[2] ?? 0) | ((head[3] ?? 0) << 8);
    return this.controlIn(setup, total);
  }

  private iface(n: number): usbLib.Interface {
    const i = this.dev.interface(n);
    if (i === undefined) throw new RangeError(`no interface ${n} in the active configuration`);
    return i;
  }

  claimInterface(n: number): Promise<void> {
    return this.sync(`claimInterface(${n})`, () => {
      this.iface(n).claim();
      this.claimed.add(n);
    });
  }

  releaseInterface(n: number): Promise<void> {
    return this.callback<void>(`releaseInterface(${n})`, (cb) => {
      for (const s of this.streams.values())
        if (s.running) throw HalError.invalidState('releaseInterface', 'streaming', 'stopped', this.id);
      this.iface(n).release(false, (e) => {
        if (e === undefined) this.claimed.delete(n);
        cb(e);
      });
    });
  }

  setAlternateSetting(n: number, alt: number): Promise<void> {
    return this.callback<void>(`setAlternateSetting(${n}, ${alt})`, (cb) =>
      this.iface(n).setAltSetting(alt, (e) => cb(e)),
    );
  }

  isKernelDriverActive(n: number): Promise<boolean> {
    if (!CAPABILITIES.kernelDriver) return Promise.resolve(false);
    return this.sync(`isKernelDriverActive(${n})`, () => this.iface(n).isKernelDriverActive());
  }

  detachKernelDriver(n: number): Promise<boolean> {
    if (!CAPABILITIES.kernelDriver) {
      return Promise.reject(
        new HalError(HalErrorCode.Unsupported, `kernel driver detach is Linux-only`, { deviceId: this.id }),
      );
    }
    return this.sync(`detachKernelDriver(${n})`, () => {
      const i = this.iface(n);
      if (!i.isKernelDriverActive()) return false;
      i.detachKernelDriver();
      return true;
    });
  }

  attachKernelDriver(n: number): Promise<void> {
    return this.sync(`attachKernelDriver(${n})`, () => {
      if (this.claimed.has(n))
        throw HalError.invalidState(`attachKernelDriver(${n})`, 'claimed', 'released', this.id);
      const i = this.iface(n);
      if (!i.isKernelDriverActive()) i.attachKernelDriver();
    });
  }

  private control(
    setup: ControlSetup,
    dataOrLength: Buffer | number,
    options: ControlOptions | undefined,
    op: string,
  ) {
    return this.callback<Buffer | number | undefined>(op, (cb) => {
      this.dev.timeout = options?.timeoutMs ?? 1000;
      this.dev.controlTransfer(
        setup.requestType,
        setup.request,
        setup.value,
        setup.index,
        dataOrLength,
        (e, r) => cb(e, r),
      );
    });
  }

  async controlIn(setup: ControlSetup, length: number, options?: ControlOptions): Promise<Uint8Array> {
    checkSetup(setup, true, length);
    const r = await this.control(setup, length, options, `controlIn(0x${setup.request.toString(16)})`);
    return r instanceof Uint8Array ? new Uint8Array(r) : new Uint8Array(0);
  }

  async controlOut(setup: ControlSetup, data: Uint8Array, options?: ControlOptions): Promise<number> {
    checkSetup(setup, false, data.length);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const r = await this.control(setup, buf, options, `controlOut(0x${setup.request.toString(16)})`);
    return typeof r === 'number' ? r : data.length;
  }

  clearHalt(endpoint: number): Promise<void> {
    return this.callback<void>(`clearHalt(0x${endpoint.toString(16)})`, (cb) => {
      const dev = this.dev as unknown as { __clearHalt(ep: number, cb: (e?: unknown) => void): void };
      dev.__clearHalt(endpoint, (e) => cb(e));
    });
  }

  openInStream(endpoint: number, options: InStreamOptions): UsbInStream {
    checkInEndpoint(endpoint);
    const op = `openInStream(0x${endpoint.toString(16)})`;
    this.ensureOpen(op);
    const { transferSize, depth } = options;
    if (!Number.isInteger(transferSize) || transferSize < 1 || transferSize > 16 * 1024 * 1024) {
      throw new RangeError(`transferSize must be 1..16 MiB, got ${String(transferSize)}`);
    }
    if (!Number.isInteger(depth) || depth < 1 || depth > 256)
      throw new RangeError(`depth must be 1..256, got ${String(depth)}`);
    if (this.streams.get(endpoint)?.running === true)
      throw HalError.invalidState(op, 'streaming', 'idle', this.id);
    const buffers = (
      options.buffers ?? Array.from({ length: depth }, () => new Uint8Array(transferSize))
    ).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    if (buffers.length !== depth || buffers.some((b) => b.length < transferSize)) {
      throw new RangeError('buffers must be `depth` views of at least transferSize bytes');
    }
    let epObj: usbLib.InEndpoint | undefined;
    for (const i of this.dev.interfaces ?? []) {
      const e = i.endpoint(endpoint);
      if (e !== undefined && e.direction === 'in') epObj = e as usbLib.InEndpoint;
    }
    if (epObj === undefined)
      throw new RangeError(`endpoint 0x${endpoint.toString(16)} is not in the current alternate settings`);
    if (epObj.transferType === 1) {
      throw new HalError(
        HalErrorCode.Unsupported,
        'isochronous endpoint: use openIsoInStream (usbfs backend)',
        {
          deviceId: this.id,
        },
      );
    }
    const core = new InStreamCore(endpoint, buffers, options.onData, this.id);
    let inflight = 0;
    let cancelling = false;
    const transfers = buffers.map((buf, slot) =>
      epObj.makeTransfer(0, (error, _b, actual) => {
        inflight--;
        const st = transferStatus(error);
        let again = false;
        if (!(cancelling && st === 'cancelled')) again = core.complete(slot, actual, st);
        if (st === 'stall' || st === 'disconnected') {
          if (st === 'disconnected') this.markDisconnected();
          cancelling = true;
        }
        if (again && !cancelling && core.running) submit(slot);
        if (inflight === 0 && (cancelling || !core.running)) {
          this.streams.delete(endpoint);
          core.finish();
        }
      }),
    );
    const submit = (slot: number): void => {
      try {
        transfers[slot]?.submit(buffers[slot] as Buffer);
        inflight++;
      } catch (e) {
        const err = this.fail(e, op);
        core.fail(
          err.code === HalErrorCode.Disconnected
            ? { reason: 'disconnected', error: err }
            : { reason: 'error', error: err },
        );
        cancelling = true;
        for (const t of transfers) t.cancel();
        if (inflight === 0) {
          this.streams.delete(endpoint);
          core.finish();
        }
      }
    };
    core.attach({
      resubmit: (slot) => submit(slot),
      cancel: () => {
        cancelling = true;
        for (const t of transfers) t.cancel();
        if (inflight === 0) {
          this.streams.delete(endpoint);
          core.finish();
        }
      },
    });
    this.streams.set(endpoint, core);
    for (let s = 0; s < depth && !cancelling; s++) submit(s);
    return core;
  }

  openIsoInStream(endpoint: number, _options: IsoInStreamOptions): UsbIsoInStream {
    checkInEndpoint(endpoint);
    const usbfs = usbfsAvailable();
    throw new HalError(
      HalErrorCode.Unsupported,
      'isochronous transfers are not supported by node-usb (libusb binding without iso packet descriptors); ' +
        (usbfs.available
          ? 'open the device through the usbfs transport (UsbfsTransportProvider) instead'
          : `and the usbfs addon is unavailable: ${usbfs.reason}`),
      { deviceId: this.id },
    );
  }

  onDisconnect(listener: (error: Error) => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    await Promise.all([...this.streams.values()].map((s) => s.stop()));
    for (const n of this.claimed) {
      await new Promise<void>((r) => {
        try {
          this.iface(n).release(false, () => r());
        } catch {
          r();
        }
      });
    }
    this.claimed.clear();
    usbLib.usb.off('detach', this.onLibDetach);
    try {
      this.dev.close();
    } catch (err) {
      this.logger.debug({ err }, 'close failed');
    }
    this.currentState = 'closed';
  }
}
