// The contract between the USB/IP server and an exported device model: descriptors, control requests, URBs.

import type { IsoPacketDescriptor, UsbSpeed } from '@ksemu/hal';

/** A SETUP packet as received (USB 2.0 §9.3), wLength included. */
export interface SetupPacket {
  readonly requestType: number;
  readonly request: number;
  readonly value: number;
  readonly index: number;
  readonly length: number;
}

/**
 * Outcome of a control request. `ok` with `data` (IN: at most wLength bytes are sent; OUT: ignored),
 * or `stall` (the request is refused; the host sees -EPIPE).
 */
export type ControlResult =
  { readonly status: 'ok'; readonly data?: Uint8Array } | { readonly status: 'stall' };

/** Why a URB is gone before its device completed it. */
export type UrbCancelReason = 'unlinked' | 'detached';

/**
 * How a URB ended, as the device reports it.
 * - `data`: IN payload pieces, written to the socket in order WITHOUT copying. They are borrowed until
 *   `onSent` runs (then the bytes are in the kernel's socket buffer, or the connection died).
 * - `actualLength`: OUT transfers: bytes accepted (default: all of them). IN: ignored (sum of `data`).
 * - `isoPackets`: iso URBs: one result per requested packet; IN payloads in `data` are packed without gaps
 *   and their `actualLength`s add up to the data length.
 * - `status`: 0 or a negated errno (-32 EPIPE = stall).
 */
export interface UrbCompletion {
  readonly status?: number;
  readonly data?: readonly Uint8Array[];
  readonly actualLength?: number;
  readonly isoPackets?: readonly IsoPacketDescriptor[];
  /** Called once the reply was handed to the OS (`error` set when the connection failed first). */
  readonly onSent?: (error?: Error) => void;
}

/**
 * One non-control URB handed to a device. The device completes it exactly once, at any later time
 * (a bulk IN URB waits while there is no data: that is a NAK), unless it was cancelled first.
 * States: pending → completed | cancelled.
 */
export interface UsbIpUrb {
  readonly seqnum: number;
  /** Endpoint address with the direction bit (0x81 = EP 1 IN). */
  readonly endpoint: number;
  /** `bulk`, `interrupt` or `iso`, from the configuration descriptor. */
  readonly type: EndpointType;
  readonly transferBufferLength: number;
  readonly transferFlags: number;
  readonly interval: number;
  /** OUT payload (a view into received data, valid as long as the URB is referenced). Empty for IN. */
  readonly data: Uint8Array;
  /** The requested iso packets (offset, length), for iso URBs. */
  readonly isoPackets?: readonly IsoPacketDescriptor[];
  /** `pending` until completed or cancelled. */
  readonly state: 'pending' | 'completed' | 'cancelled';
  /**
   * Sends RET_SUBMIT. Returns false (and sends nothing) when the URB is no longer pending — after an
   * unlink the kernel must never see a RET_SUBMIT for it. Throws RangeError on inconsistent lengths.
   */
  complete(result: UrbCompletion): boolean;
  /** Registers a callback run once if the URB is unlinked or its client goes away while pending. */
  onCancel(listener: (reason: UrbCancelReason) => void): void;
}

/** Transfer type of an endpoint; `control` only for endpoint 0 (whose URBs the server answers). */
export type EndpointType = 'control' | 'bulk' | 'interrupt' | 'iso';

/** A device model the server can export. One importing client at a time. */
export interface UsbIpDevice {
  /** Bus id the client imports by, e.g. `1-1` (at most 31 latin-1 characters). */
  readonly busid: string;
  readonly speed: UsbSpeed;
  /** The 18-byte device descriptor. */
  readonly deviceDescriptor: Uint8Array;
  /** The one configuration's full descriptor (wTotalLength bytes). */
  readonly configDescriptor: Uint8Array;
  /**
   * Class, vendor and the standard requests the server does not answer itself (it answers
   * GET_DESCRIPTOR device/configuration, GET/SET_CONFIGURATION, GET_STATUS, GET/SET_INTERFACE,
   * CLEAR/SET_FEATURE). `data` is the OUT data phase (borrowed). Exceptions and rejections count
   * as a stall and are logged.
   */
  handleControl(setup: SetupPacket, data: Uint8Array): ControlResult | Promise<ControlResult>;
  /** A URB on a non-zero endpoint that exists in the configuration. */
  submit(urb: UsbIpUrb): void;
  /** SET_INTERFACE reached the device (after the server checked the alternate setting exists). false = stall. */
  setInterface?(interfaceNumber: number, alternateSetting: number): boolean;
  /** CLEAR_FEATURE(ENDPOINT_HALT) on `endpoint` (UVC hosts stop bulk streams this way). */
  clearHalt?(endpoint: number): void;
  /** A client imported the device. */
  attached?(): void;
  /**
   * The importing client is gone (detach, socket error, protocol violation). Pending URBs were
   * cancelled first. The device stops its streams and returns every buffer it holds.
   */
  detached?(reason: string): void;
}
