// The UsbTransport port: the USB primitives the UVC host code needs, implemented by node-usb, usbfs, USB/IP and replay adapters.

/**
 * USB device speed as the host controller reports it. `unknown` when the backend cannot tell.
 */
export type UsbSpeed = 'low' | 'full' | 'high' | 'super' | 'super-plus' | 'unknown';

/**
 * Identity and location of one attached USB device, as listed by a {@link UsbTransportProvider}.
 * Plain frozen data: safe to log, compare and send to a worker.
 */
export interface UsbDeviceInfo {
  /** idVendor from the device descriptor. */
  readonly vendorId: number;
  /** idProduct from the device descriptor. */
  readonly productId: number;
  /** iSerialNumber string when the backend could read it without opening the device (sysfs), else undefined. */
  readonly serialNumber?: string | undefined;
  readonly manufacturer?: string | undefined;
  readonly product?: string | undefined;
  /** USB bus number (Linux: BBB in /dev/bus/usb/BBB/DDD). */
  readonly busNumber: number;
  /** Device address on the bus (Linux: DDD). Changes on every re-enumeration. */
  readonly deviceAddress: number;
  /** Port numbers from the root hub down (Linux sysfs `1-1.2` → bus 1, portPath [1, 2]). Empty for a root hub. */
  readonly portPath: readonly number[];
  readonly speed: UsbSpeed;
  /** bDeviceClass, bDeviceSubClass, bDeviceProtocol. */
  readonly deviceClass: number;
  readonly deviceSubClass: number;
  readonly deviceProtocol: number;
  /**
   * Stable location key `<bus>-<port.path>` (e.g. `1-1.2`), the same string Linux uses in sysfs.
   * Unlike deviceAddress it survives re-enumeration on the same port.
   */
  readonly location: string;
}

/** What a transport can do; callers check it before asking (e.g. iso) instead of catching Unsupported. */
export interface UsbCapabilities {
  readonly bulk: boolean;
  readonly interrupt: boolean;
  readonly isochronous: boolean;
  /** detach/attach of the OS kernel driver (Linux only). */
  readonly kernelDriver: boolean;
  /** Hotplug events are delivered (node-usb on Linux needs udevd; polling elsewhere). */
  readonly hotplug: boolean;
}

/**
 * The 8-byte SETUP packet without wLength (the data phase length is implied by the call).
 * Fields are the USB 2.0 §9.3 ones; direction comes from bit 7 of requestType and must match the call
 * (controlIn needs bit 7 set, controlOut clear) or the call throws RangeError.
 */
export interface ControlSetup {
  /** bmRequestType: direction (bit 7), type (bits 6..5: standard/class/vendor), recipient (bits 4..0). */
  readonly requestType: number;
  /** bRequest (e.g. UVC SET_CUR = 0x01, GET_CUR = 0x81). */
  readonly request: number;
  /** wValue (UVC: control selector << 8). */
  readonly value: number;
  /** wIndex (UVC: entity id << 8 | interface number). */
  readonly index: number;
}

export interface ControlOptions {
  /** Milliseconds before the transfer is cancelled and the call rejects with HalError TimedOut. Default 1000; 0 = no limit. */
  readonly timeoutMs?: number;
}

/**
 * Per-transfer outcome. Reported as a value on the streaming paths (never thrown), so one bad
 * transfer never costs an exception in the per-frame path.
 * - `ok`: completed (possibly short; the view's length is the actual length).
 * - `stall`: the endpoint answered STALL (halt); the stream ends.
 * - `overflow`: the device sent more than the buffer (babble); data is truncated.
 * - `error`: a transfer-level error (CRC, bit-stuffing, iso packet missed its interval); streams continue.
 * - `cancelled`: cancelled by stop()/close(); only seen while a stream drains.
 * - `disconnected`: the device is gone; the stream ends.
 */
export type UsbTransferStatus = 'ok' | 'stall' | 'overflow' | 'error' | 'cancelled' | 'disconnected';

/** Why a stream ended. `stopped` = stop() or close() was called; the others carry the HalError too. */
export type UsbStreamEnd =
  | { readonly reason: 'stopped' }
  | { readonly reason: 'stall' | 'disconnected' | 'error'; readonly error: Error };

/**
 * Options of a bulk or interrupt IN stream. With `onData` (callback form) it runs for every
 * completed transfer, in completion order (= submission order for one endpoint); without it the
 * stream is consumed with `for await` (iterator form).
 */
export interface InStreamOptions {
  /** Bytes per transfer. UVC bulk: dwMaxPayloadTransferSize (or a multiple of wMaxPacketSize). > 0. */
  readonly transferSize: number;
  /** Transfers kept in flight. ≥ 1; 4..32 is typical for video. */
  readonly depth: number;
  /**
   * Called once per completed transfer. `view` BORROWS the transfer buffer: it is valid only until the
   * callback returns, after which the buffer is resubmitted. Copy what you keep (the UVC reassembler
   * copies straight into a frame-pool slot). Exceptions thrown by the callback end the stream with
   * reason `error` (the stream never swallows them silently).
   */
  readonly onData?: (view: Uint8Array, status: UsbTransferStatus) => void;
  /**
   * Optional caller-owned transfer buffers (depth views of ≥ transferSize bytes). The backend lends
   * them to the kernel while a transfer is in flight; the caller must not touch them until the
   * stream has ended. Default: the stream allocates its own once at open.
   */
  readonly buffers?: readonly Uint8Array[];
}

/** One completed transfer as seen by the async-iterator form of a stream. */
export interface UsbTransferResult {
  /** BORROWED until the iterator's next() is called again (then the buffer is resubmitted). */
  readonly data: Uint8Array;
  readonly status: UsbTransferStatus;
}

/**
 * A running IN stream on one endpoint with `depth` transfers in flight.
 * States: running → stopping → ended. Without `onData` it is consumed with `for await`; with
 * `onData` iterating throws TypeError.
 * Back-pressure: in iterator form a transfer is resubmitted only after the consumer pulled it,
 * so a slow consumer throttles the device (bulk NAKs) instead of losing data in memory.
 * The iterator finishes (done) when the stream ends for any reason; read `ended` for the reason and
 * the HalError (stall, disconnect). Breaking out of `for await` stops the stream.
 */
export interface UsbInStream extends AsyncIterable<UsbTransferResult> {
  readonly endpoint: number;
  /** Resolves (never rejects) once every transfer is back from the kernel and no callback will run again. */
  readonly ended: Promise<UsbStreamEnd>;
  /**
   * Cancels the transfers in flight and resolves when all are reaped (≙ `ended`). Idempotent;
   * calling it after the stream ended on its own resolves at once.
   */
  stop(): Promise<void>;
  /** Counters since open: completed transfers, bytes and transfers with a non-ok status. */
  readonly stats: { readonly transfers: number; readonly bytes: number; readonly errors: number };
}

/**
 * One completed isochronous transfer, reused between callbacks (no per-transfer allocation).
 * Packet i starts at `data[i * packetSize]` (the kernel leaves the gaps of short packets in place)
 * and holds `packetLengths[i]` valid bytes; `packetStatus[i]` is 0 or a negative errno (-EXDEV: missed,
 * -EPROTO/-EILSEQ: corrupt, -EOVERFLOW: babble). All of it is BORROWED until the callback returns.
 */
export interface IsoTransferView {
  readonly data: Uint8Array;
  readonly packetCount: number;
  readonly packetSize: number;
  readonly packetLengths: Uint32Array;
  readonly packetStatus: Int32Array;
  /** Transfer-level status; `ok` even when some packets failed (look at packetStatus). */
  readonly status: UsbTransferStatus;
}

/** Options of an isochronous IN stream (the VS interface must be on the alternate setting first). */
export interface IsoInStreamOptions {
  /** Packets per transfer (UVC hosts use 8..64). ≥ 1. */
  readonly packetsPerTransfer: number;
  /** Bytes reserved per packet: wMaxPacketSize × (1 + mult) of the endpoint's alternate setting (or SS wBytesPerInterval). */
  readonly packetSize: number;
  /** Transfers kept in flight. ≥ 2 or the device idles between reaps. */
  readonly depth: number;
  /** Called once per completed transfer in order; `transfer` is borrowed (see IsoTransferView). */
  readonly onTransfer: (transfer: IsoTransferView) => void;
  /** Optional caller-owned buffers (depth views of ≥ packetsPerTransfer × packetSize bytes), as in InStreamOptions. */
  readonly buffers?: readonly Uint8Array[];
}

/** A running isochronous IN stream; same life cycle as UsbInStream but callback-only. */
export interface UsbIsoInStream {
  readonly endpoint: number;
  readonly ended: Promise<UsbStreamEnd>;
  stop(): Promise<void>;
  readonly stats: {
    readonly transfers: number;
    readonly packets: number;
    readonly bytes: number;
    readonly packetErrors: number;
  };
}

/** Open state of a transport. `disconnected` is terminal like `closed`, but every call rejects with Disconnected. */
export type UsbTransportState = 'open' | 'closed' | 'disconnected';

/**
 * An opened USB device. One owner; not shared between drivers.
 *
 * Errors (all `HalError`, the backend's error kept as `cause`):
 * - `Disconnected`: the device went away; every later call rejects with it, running streams end with it.
 * - `Stall`: a control request was answered with STALL (UVC: read VC_REQUEST_ERROR_CODE_CONTROL next).
 * - `Protocol`: other transfer-level failures (CRC, babble, short setup).
 * - `TimedOut`: the control transfer did not complete within `timeoutMs`.
 * - `AccessDenied`: no permission on the device node (message gives the udev hint).
 * - `Busy`: a kernel driver holds the interface (detach it first) or another process claimed it.
 * - `Unsupported`: the backend cannot do this (e.g. isochronous through node-usb).
 * Calls after close() throw an Error naming the current state (`closed`) and the required one (`open`).
 * Argument errors (endpoint number out of range, wrong direction bit) throw TypeError/RangeError synchronously.
 */
export interface UsbTransport {
  readonly info: UsbDeviceInfo;
  readonly capabilities: UsbCapabilities;
  readonly state: UsbTransportState;
  /** The 18-byte device descriptor (a copy the caller owns). */
  deviceDescriptor(): Uint8Array;
  /**
   * The active configuration's full raw descriptor (wTotalLength bytes: configuration, IADs, interfaces,
   * class-specific and endpoint descriptors in device order). A copy the caller owns.
   */
  configDescriptor(): Promise<Uint8Array>;
  /** Claims an interface for this process. Rejects Busy when a kernel driver is bound (detach first). */
  claimInterface(interfaceNumber: number): Promise<void>;
  /** Releases a claimed interface; streams on its endpoints must be stopped first (else Error naming the state). */
  releaseInterface(interfaceNumber: number): Promise<void>;
  /** SET_INTERFACE. The interface must be claimed. */
  setAlternateSetting(interfaceNumber: number, alternateSetting: number): Promise<void>;
  /** Whether an OS driver is bound to the interface (false where the OS has no such notion). */
  isKernelDriverActive(interfaceNumber: number): Promise<boolean>;
  /**
   * Unbinds the OS driver (uvcvideo) from the interface. Resolves false when none was bound (this is
   * normal for a VS interface after its VC interface's driver was detached). Unsupported off Linux.
   */
  detachKernelDriver(interfaceNumber: number): Promise<boolean>;
  /** Rebinds the OS driver; the interface must not be claimed. Resolves also when already bound. */
  attachKernelDriver(interfaceNumber: number): Promise<void>;
  /** Control transfer with a data phase device→host; resolves with the bytes received (may be shorter than `length`). */
  controlIn(setup: ControlSetup, length: number, options?: ControlOptions): Promise<Uint8Array>;
  /** Control transfer host→device (data may be empty); resolves with the bytes the device accepted. Borrows `data` until settled. */
  controlOut(setup: ControlSetup, data: Uint8Array, options?: ControlOptions): Promise<number>;
  /** CLEAR_FEATURE(ENDPOINT_HALT) on an endpoint (UVC stops bulk streams this way). */
  clearHalt(endpoint: number): Promise<void>;
  /**
   * Starts a bulk or interrupt IN stream on `endpoint` (address with bit 7 set) of a claimed interface.
   * Throws TypeError for an OUT address, RangeError for transferSize/depth out of range, Error when a
   * stream is already running on the endpoint.
   */
  openInStream(endpoint: number, options: InStreamOptions): UsbInStream;
  /** Starts an isochronous IN stream. Throws HalError Unsupported when `capabilities.isochronous` is false. */
  openIsoInStream(endpoint: number, options: IsoInStreamOptions): UsbIsoInStream;
  /**
   * Subscribes to the device going away (unplug, USB/IP detach). Fired once, after which state is
   * `disconnected`. Returns the unsubscribe function.
   */
  onDisconnect(listener: (error: Error) => void): () => void;
  /** Stops all streams, releases claimed interfaces and closes the handle. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** A device appeared or went away. */
export interface UsbHotplugEvent {
  readonly type: 'attach' | 'detach';
  readonly device: UsbDeviceInfo;
}

/** Selects devices by id; every given field must match. */
export interface UsbDeviceFilter {
  readonly vendorId?: number;
  readonly productId?: number;
  readonly serialNumber?: string;
  /** `<bus>-<port.path>` as in UsbDeviceInfo.location. */
  readonly location?: string;
}

/**
 * A USB backend: lists devices, opens them, reports hotplug.
 * `open` rejects AccessDenied (with the udev hint), Disconnected (gone since listing) or Busy.
 */
export interface UsbTransportProvider {
  /** Backend name for logs and errors, e.g. `node-usb`, `usbfs`, `usbip`, `replay`. */
  readonly name: string;
  readonly capabilities: UsbCapabilities;
  listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]>;
  open(device: UsbDeviceInfo): Promise<UsbTransport>;
  /**
   * Subscribes to attach/detach events. The listener's exceptions are caught (and logged), so a bad
   * listener cannot stop hotplug delivery. Returns the unsubscribe function; the provider stops its
   * monitor when the last listener leaves (so the process can exit).
   */
  watch(listener: (event: UsbHotplugEvent) => void): () => void;
}

/** True when the device matches every field of the filter. */
export function matchesFilter(device: UsbDeviceInfo, filter: UsbDeviceFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.vendorId !== undefined && filter.vendorId !== device.vendorId) return false;
  if (filter.productId !== undefined && filter.productId !== device.productId) return false;
  if (filter.serialNumber !== undefined && filter.serialNumber !== device.serialNumber) return false;
  if (filter.location !== undefined && filter.location !== device.location) return false;
  return true;
}

/** `<bus>-<p1.p2…>`, the sysfs name of a device; a root hub is `usb<bus>`. */
export function formatLocation(busNumber: number, portPath: readonly number[]): string {
  return portPath.length === 0 ? `usb${busNumber}` : `${busNumber}-${portPath.join('.')}`;
}

/**
 * Validates the common stream arguments; throws TypeError/RangeError (argument errors are programming
 * errors, thrown synchronously, never turned into HalErrors).
 */
export function checkInEndpoint(endpoint: number): void {
  if (!Number.isInteger(endpoint) || endpoint < 0x81 || endpoint > 0x8f) {
    throw new TypeError(`IN endpoint address must be 0x81..0x8f, got ${String(endpoint)}`);
  }
}

/** Throws RangeError unless `setup` is a well-formed SETUP packet whose direction bit equals `dirIn`. */
export function checkSetup(setup: ControlSetup, dirIn: boolean, length: number): void {
  const u8 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xff;
  const u16 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (!u8(setup.requestType) || !u8(setup.request) || !u16(setup.value) || !u16(setup.index)) {
    throw new RangeError('control setup fields out of range (requestType/request u8, value/index u16)');
  }
  if (((setup.requestType & 0x80) !== 0) !== dirIn) {
    throw new RangeError(
      `bmRequestType 0x${setup.requestType.toString(16)} has direction ${(setup.requestType & 0x80) !== 0 ? 'IN' : 'OUT'}, call is ${dirIn ? 'IN' : 'OUT'}`,
    );
  }
  if (!u16(length)) throw new RangeError(`control wLength must be 0..65535, got ${String(length)}`);
}
