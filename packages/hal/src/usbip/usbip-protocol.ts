// USB/IP wire protocol 0x0111: message shapes, constants and pure encoders/decoders of single messages.
//
// Layout follows Linux Documentation/usb/usbip_protocol.rst. Every integer is big endian except the
// 8 raw setup bytes (little-endian USB fields). Decoders validate everything a hostile peer controls
// and report problems as `HalError` Protocol, never as untyped throws.

import { HalError, HalErrorCode } from '../hal-error.js';

/** The typed error for anything a peer sent that the protocol does not allow. */
export function usbIpProtocolError(message: string, cause?: unknown): HalError {
  return new HalError(HalErrorCode.Protocol, `USB/IP: ${message}`, { cause });
}

/** Protocol version carried in every OP_* header. */
export const USBIP_VERSION = 0x0111;

/** OP_* codes of the connection-setup phase. */
export const UsbIpOpCode = {
  ReqDevlist: 0x8005,
  RepDevlist: 0x0005,
  ReqImport: 0x8003,
  RepImport: 0x0003,
} as const;

/** USBIP_* command codes of the URB phase. */
export const UsbIpCommand = { CmdSubmit: 1, CmdUnlink: 2, RetSubmit: 3, RetUnlink: 4 } as const;

/** `enum usb_device_speed` values used in the device record. */
export const UsbIpSpeed = {
  Unknown: 0,
  Low: 1,
  Full: 2,
  High: 3,
  Wireless: 4,
  Super: 5,
  SuperPlus: 6,
} as const;

export const OP_HEADER_SIZE = 8;
export const URB_HEADER_SIZE = 48;
export const DEVICE_RECORD_SIZE = 312;
export const INTERFACE_RECORD_SIZE = 4;
export const ISO_DESCRIPTOR_SIZE = 16;
export const OP_REQ_IMPORT_SIZE = OP_HEADER_SIZE + 32;
const PATH_SIZE = 256;
const BUSID_SIZE = 32;

/** The kernel's USBIP_MAX_ISO_PACKETS: more iso packets in one URB is a protocol error. */
export const MAX_ISO_PACKETS = 1024;
/** `number_of_packets` the protocol document prescribes for non-iso URBs (vhci sends 0; both are accepted). */
export const NON_ISO_PACKETS = 0xffffffff;
/** errno values carried (negated) in `status` fields. */
export const UsbIpErrno = {
  EPIPE: 32,
  ECONNRESET: 104,
  ENOENT: 2,
  ESHUTDOWN: 108,
  EPROTO: 71,
  EOVERFLOW: 75,
} as const;

/** `struct usbip_usb_device`: the 312-byte device record. */
export interface UsbIpDeviceRecord {
  /** sysfs-like path, at most 255 bytes. */
  readonly path: string;
  /** Bus id such as `1-1`, at most 31 bytes. */
  readonly busid: string;
  readonly busnum: number;
  readonly devnum: number;
  /** One of {@link UsbIpSpeed}. */
  readonly speed: number;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  readonly bDeviceClass: number;
  readonly bDeviceSubClass: number;
  readonly bDeviceProtocol: number;
  readonly bConfigurationValue: number;
  readonly bNumConfigurations: number;
  readonly bNumInterfaces: number;
}

/** `struct usbip_usb_interface` (4 bytes, the last is padding). */
export interface UsbIpInterfaceRecord {
  readonly bInterfaceClass: number;
  readonly bInterfaceSubClass: number;
  readonly bInterfaceProtocol: number;
}

/** One entry of OP_REP_DEVLIST: the device record followed by `bNumInterfaces` interface records. */
export interface UsbIpExportedDevice {
  readonly device: UsbIpDeviceRecord;
  readonly interfaces: readonly UsbIpInterfaceRecord[];
}

/** `struct usbip_iso_packet_descriptor`. */
export interface IsoPacketDescriptor {
  readonly offset: number;
  readonly length: number;
  readonly actualLength: number;
  readonly status: number;
}

export type UsbIpDirection = 'out' | 'in';

export interface OpReqDevlist {
  readonly kind: 'op-req-devlist';
}
export interface OpRepDevlist {
  readonly kind: 'op-rep-devlist';
  readonly status: number;
  readonly devices: readonly UsbIpExportedDevice[];
}
export interface OpReqImport {
  readonly kind: 'op-req-import';
  readonly busid: string;
}
export interface OpRepImport {
  readonly kind: 'op-rep-import';
  /** 0 = ok (then `device` is present), anything else = refused. */
  readonly status: number;
  readonly device?: UsbIpDeviceRecord;
}

/** Fields shared by the four URB-phase messages (`usbip_header_basic`). */
export interface UrbBasic {
  readonly seqnum: number;
  readonly devid: number;
  readonly direction: UsbIpDirection;
  /** Endpoint number 0..15 (no direction bit). */
  readonly ep: number;
}

export interface CmdSubmit extends UrbBasic {
  readonly kind: 'cmd-submit';
  readonly transferFlags: number;
  readonly transferBufferLength: number;
  readonly startFrame: number;
  /** Raw `number_of_packets`: 0 or 0xffffffff for non-iso URBs. */
  readonly numberOfPackets: number;
  readonly interval: number;
  /** The 8 raw setup bytes (meaningful on endpoint 0 only). */
  readonly setup: Uint8Array;
  /** OUT payload (`transferBufferLength` bytes); empty for IN. A view into received data. */
  readonly data: Uint8Array;
  /** Iso packet descriptors; present only for iso URBs. */
  readonly isoPackets?: readonly IsoPacketDescriptor[];
}

export interface RetSubmit extends UrbBasic {
  readonly kind: 'ret-submit';
  /** 0 or a negated errno. */
  readonly status: number;
  readonly actualLength: number;
  readonly startFrame: number;
  readonly numberOfPackets: number;
  readonly errorCount: number;
  /** IN payload (`actualLength` bytes, iso packets packed without gaps); empty for OUT. */
  readonly data: Uint8Array;
  readonly isoPackets?: readonly IsoPacketDescriptor[];
}

export interface CmdUnlink extends UrbBasic {
  readonly kind: 'cmd-unlink';
  /** seqnum of the CMD_SUBMIT to cancel. */
  readonly unlinkSeqnum: number;
}

export interface RetUnlink extends UrbBasic {
  readonly kind: 'ret-unlink';
  /** -ECONNRESET when the URB was cancelled, 0 when it had already completed. */
  readonly status: number;
}

/** What a server receives. */
export type UsbIpRequest = OpReqDevlist | OpReqImport | CmdSubmit | CmdUnlink;
/** What a client receives. */
export type UsbIpReply = OpRepDevlist | OpRepImport | RetSubmit | RetUnlink;

// ---------------------------------------------------------------- field helpers

function u8(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${name} must be a u8, got ${v}`);
  return v;
}
function u16(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} must be a u16, got ${v}`);
  return v;
}
function u32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new RangeError(`${name} must be a u32, got ${v}`);
  return v;
}
function s32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff)
    throw new RangeError(`${name} must be an s32, got ${v}`);
  return v;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function writeCString(out: Uint8Array, offset: number, size: number, name: string, s: string): void {
  const bytes = Buffer.from(s, 'latin1');
  if (bytes.length >= size || bytes.includes(0) || Buffer.from(bytes).toString('latin1') !== s)
    throw new RangeError(
      `${name} must be at most ${size - 1} latin-1 characters without NUL, got ${JSON.stringify(s)}`,
    );
  out.set(bytes, offset);
}

function readCString(b: Uint8Array, offset: number, size: number): string {
  const field = b.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('latin1');
}

function directionCode(d: UsbIpDirection): number {
  if (d === 'out') return 0;
  if (d === 'in') return 1;
  throw new RangeError(`direction must be 'in' or 'out', got ${String(d)}`);
}

/** True when `number_of_packets` marks a non-iso URB (0 from vhci, 0xffffffff per the protocol document). */
export function isNonIsoPacketCount(n: number): boolean {
  return n === 0 || n === NON_ISO_PACKETS;
}

// ---------------------------------------------------------------- OP phase

function opHeader(out: Uint8Array, code: number, status: number): void {
  const dv = view(out);
  dv.setUint16(0, USBIP_VERSION);
  dv.setUint16(2, code);
  dv.setUint32(4, u32('status', status));
}

/** Parses an 8-byte OP header; throws a protocol error on a wrong version. */
export function decodeOpHeader(b: Uint8Array): { code: number; status: number } {
  const dv = view(b);
  const version = dv.getUint16(0);
  if (version !== USBIP_VERSION)
    throw usbIpProtocolError(`unsupported USB/IP version 0x${version.toString(16)} (want 0x0111)`);
  return { code: dv.getUint16(2), status: dv.getUint32(4) };
}

export function encodeOpReqDevlist(): Uint8Array {
  const out = Buffer.alloc(OP_HEADER_SIZE);
  opHeader(out, UsbIpOpCode.ReqDevlist, 0);
  return out;
}

export function encodeOpReqImport(busid: string): Uint8Array {
  const out = Buffer.alloc(OP_REQ_IMPORT_SIZE);
  opHeader(out, UsbIpOpCode.ReqImport, 0);
  writeCString(out, OP_HEADER_SIZE, BUSID_SIZE, 'busid', busid);
  return out;
}

/** Writes a device record at `offset` of `out` (312 bytes). Throws RangeError on out-of-range fields. */
export function writeDeviceRecord(out: Uint8Array, offset: number, d: UsbIpDeviceRecord): void {
  writeCString(out, offset, PATH_SIZE, 'path', d.path);
  writeCString(out, offset + PATH_SIZE, BUSID_SIZE, 'busid', d.busid);
  const dv = view(out);
  dv.setUint32(offset + 288, u32('busnum', d.busnum));
  dv.setUint32(offset + 292, u32('devnum', d.devnum));
  dv.setUint32(offset + 296, u32('speed', d.speed));
  dv.setUint16(offset + 300, u16('idVendor', d.idVendor));
  dv.setUint16(offset + 302, u16('idProduct', d.idProduct));
  dv.setUint16(offset + 304, u16('bcdDevice', d.bcdDevice));
  out[offset + 306] = u8('bDeviceClass', d.bDeviceClass);
  out[offset + 307] = u8('bDeviceSubClass', d.bDeviceSubClass);
  out[offset + 308] = u8('bDeviceProtocol', d.bDeviceProtocol);
  out[offset + 309] = u8('bConfigurationValue', d.bConfigurationValue);
  out[offset + 310] = u8('bNumConfigurations', d.bNumConfigurations);
  out[offset + 311] = u8('bNumInterfaces', d.bNumInterfaces);
}

/** Reads a 312-byte device record at `offset`. */
export function readDeviceRecord(b: Uint8Array, offset: number): UsbIpDeviceRecord {
  const dv = view(b);
  return {
    path: readCString(b, offset, PATH_SIZE),
    busid: readCString(b, offset + PATH_SIZE, BUSID_SIZE),
    busnum: dv.getUint32(offset + 288),
    devnum: dv.getUint32(offset + 292),
    speed: dv.getUint32(offset + 296),
    idVendor: dv.getUint16(offset + 300),
    idProduct: dv.getUint16(offset + 302),
    bcdDevice: dv.getUint16(offset + 304),
    bDeviceClass: b[offset + 306]!,
    bDeviceSubClass: b[offset + 307]!,
    bDeviceProtocol: b[offset + 308]!,
    bConfigurationValue: b[offset + 309]!,
    bNumConfigurations: b[offset + 310]!,
    bNumInterfaces: b[offset + 311]!,
  };
}

/**
 * OP_REP_DEVLIST with its device list. Each device's `interfaces.length` must equal its
 * `bNumInterfaces` (the reader sizes the list from that field). Throws RangeError otherwise.
 */
export function encodeOpRepDevlist(devices: readonly UsbIpExportedDevice[], status = 0): Uint8Array {
  let size = OP_HEADER_SIZE + 4;
  for (const d of devices) {
    if (d.interfaces.length !== d.device.bNumInterfaces)
      throw new RangeError(
        `device ${d.device.busid}: ${d.interfaces.length} interface records but bNumInterfaces ${d.device.bNumInterfaces}`,
      );
    size += DEVICE_RECORD_SIZE + INTERFACE_RECORD_SIZE * d.interfaces.length;
  }
  const out = Buffer.alloc(size);
  opHeader(out, UsbIpOpCode.RepDevlist, status);
  view(out).setUint32(OP_HEADER_SIZE, devices.length);
  let off = OP_HEADER_SIZE + 4;
  for (const d of devices) {
    writeDeviceRecord(out, off, d.device);
    off += DEVICE_RECORD_SIZE;
    for (const i of d.interfaces) {
      out[off] = u8('bInterfaceClass', i.bInterfaceClass);
      out[off + 1] = u8('bInterfaceSubClass', i.bInterfaceSubClass);
      out[off + 2] = u8('bInterfaceProtocol', i.bInterfaceProtocol);
      off += INTERFACE_RECORD_SIZE;
    }
  }
  return out;
}

/** OP_REP_IMPORT: status 0 with the device record, or a non-zero status alone (refusal). */
export function encodeOpRepImport(status: number, device?: UsbIpDeviceRecord): Uint8Array {
  if (status === 0 && device === undefined) throw new TypeError('OP_REP_IMPORT with status 0 needs a device');
  const out = Buffer.alloc(OP_HEADER_SIZE + (status === 0 ? DEVICE_RECORD_SIZE : 0));
  opHeader(out, UsbIpOpCode.RepImport, status);
  if (status === 0 && device) writeDeviceRecord(out, OP_HEADER_SIZE, device);
  return out;
}

// ---------------------------------------------------------------- URB phase

function writeBasic(dv: DataView, command: number, m: UrbBasic): void {
  dv.setUint32(0, command);
  dv.setUint32(4, u32('seqnum', m.seqnum));
  dv.setUint32(8, u32('devid', m.devid));
  dv.setUint32(12, directionCode(m.direction));
  if (!Number.isInteger(m.ep) || m.ep < 0 || m.ep > 15) throw new RangeError(`ep must be 0..15, got ${m.ep}`);
  dv.setUint32(16, m.ep);
}

/** Reads and validates `usbip_header_basic` (command, seqnum, devid, direction, ep). */
export function decodeUrbBasic(h: Uint8Array): UrbBasic & { command: number } {
  const dv = view(h);
  const command = dv.getUint32(0);
  const dir = dv.getUint32(12);
  const ep = dv.getUint32(16);
  if (dir > 1) throw usbIpProtocolError(`bad direction ${dir} in USB/IP command ${command}`);
  if (ep > 15) throw usbIpProtocolError(`bad endpoint ${ep} in USB/IP command ${command}`);
  return {
    command,
    seqnum: dv.getUint32(4),
    devid: dv.getUint32(8),
    direction: dir === 1 ? 'in' : 'out',
    ep,
  };
}

function encodeIsoDescriptors(packets: readonly IsoPacketDescriptor[]): Uint8Array {
  const out = Buffer.alloc(packets.length * ISO_DESCRIPTOR_SIZE);
  const dv = view(out);
  packets.forEach((p, i) => {
    const o = i * ISO_DESCRIPTOR_SIZE;
    dv.setUint32(o, u32('iso offset', p.offset));
    dv.setUint32(o + 4, u32('iso length', p.length));
    dv.setUint32(o + 8, u32('iso actual_length', p.actualLength));
    dv.setInt32(o + 12, s32('iso status', p.status));
  });
  return out;
}

/** Decodes `count` iso descriptors from `b`. */
export function decodeIsoDescriptors(b: Uint8Array, count: number): IsoPacketDescriptor[] {
  const dv = view(b);
  const out: IsoPacketDescriptor[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * ISO_DESCRIPTOR_SIZE;
    out[i] = {
      offset: dv.getUint32(o),
      length: dv.getUint32(o + 4),
      actualLength: dv.getUint32(o + 8),
      status: dv.getInt32(o + 12),
    };
  }
  return out;
}

/** CMD_SUBMIT fields for the encoder; `data` is the OUT payload, `isoPackets` makes it an iso URB. */
export type CmdSubmitFields = Omit<CmdSubmit, 'kind' | 'numberOfPackets' | 'data' | 'setup'> & {
  readonly setup?: Uint8Array;
  readonly data?: Uint8Array;
  /** Raw `number_of_packets` for non-iso URBs (default 0, as vhci sends). Ignored for iso. */
  readonly numberOfPackets?: number;
};

/**
 * Encodes a CMD_SUBMIT as parts to write in order (header, OUT data, iso descriptors): the data part
 * is the caller's view, not a copy. Throws RangeError/TypeError on inconsistent fields.
 */
export function encodeCmdSubmit(m: CmdSubmitFields): Uint8Array[] {
  const data = m.data ?? new Uint8Array(0);
  if (m.direction === 'out' && data.length !== m.transferBufferLength)
    throw new RangeError(
      `OUT data is ${data.length} bytes but transferBufferLength is ${m.transferBufferLength}`,
    );
  if (m.direction === 'in' && data.length !== 0) throw new RangeError('IN CMD_SUBMIT carries no data');
  const iso = m.isoPackets;
  if (iso && iso.length > MAX_ISO_PACKETS) throw new RangeError(`at most ${MAX_ISO_PACKETS} iso packets`);
  const np = iso ? iso.length : (m.numberOfPackets ?? 0);
  if (!iso && !isNonIsoPacketCount(np))
    throw new RangeError(`non-iso numberOfPackets must be 0 or 0xffffffff`);
  const setup = m.setup ?? new Uint8Array(8);
  if (setup.length !== 8) throw new RangeError(`setup must be 8 bytes, got ${setup.length}`);
  const h = Buffer.alloc(URB_HEADER_SIZE);
  const dv = view(h);
  writeBasic(dv, UsbIpCommand.CmdSubmit, m);
  dv.setUint32(20, u32('transferFlags', m.transferFlags));
  dv.setUint32(24, u32('transferBufferLength', m.transferBufferLength));
  dv.setUint32(28, u32('startFrame', m.startFrame));
  dv.setUint32(32, np);
  dv.setUint32(36, u32('interval', m.interval));
  h.set(setup, 40);
  const parts: Uint8Array[] = [h];
  if (data.length) parts.push(data);
  if (iso && iso.length) parts.push(encodeIsoDescriptors(iso));
  return parts;
}

/** RET_SUBMIT fields for the encoder. */
export interface RetSubmitFields {
  readonly seqnum: number;
  readonly status: number;
  /**
   * IN payload pieces, written in order without copying (iso: packets packed without gaps).
   * Empty for OUT replies.
   */
  readonly data?: readonly Uint8Array[];
  /** Defaults to the total data length; for OUT replies, the number of bytes the device accepted. */
  readonly actualLength?: number;
  readonly startFrame?: number;
  readonly errorCount?: number;
  /** Iso packet results; `actualLength` of the packets must sum to the header's actual length. */
  readonly isoPackets?: readonly IsoPacketDescriptor[];
  /** Raw `number_of_packets` for non-iso replies (default 0xffffffff). Ignored for iso. */
  readonly numberOfPackets?: number;
  /** Echoed basic fields; the kernel ignores them and the stub sends zeros (default 0 / 'out' / 0). */
  readonly devid?: number;
  readonly direction?: UsbIpDirection;
  readonly ep?: number;
}

/** Encodes the 48-byte RET_SUBMIT header into `h` (allocation-free for the per-packet path). */
export function writeRetSubmitHeader(
  h: Uint8Array,
  seqnum: number,
  status: number,
  actualLength: number,
  numberOfPackets: number,
  startFrame = 0,
  errorCount = 0,
): void {
  if (h.length < URB_HEADER_SIZE) throw new RangeError('RET_SUBMIT header needs 48 bytes');
  h.fill(0, 0, URB_HEADER_SIZE);
  const dv = view(h);
  dv.setUint32(0, UsbIpCommand.RetSubmit);
  dv.setUint32(4, seqnum >>> 0);
  dv.setInt32(20, status | 0);
  dv.setUint32(24, actualLength >>> 0);
  dv.setUint32(28, startFrame >>> 0);
  dv.setUint32(32, numberOfPackets >>> 0);
  dv.setUint32(36, errorCount >>> 0);
}

/**
 * Encodes a RET_SUBMIT as parts to write in order (header, data pieces as given, iso descriptors).
 * Throws RangeError when the iso packet lengths do not add up to the actual length (vhci would drop
 * the connection).
 */
export function encodeRetSubmit(m: RetSubmitFields): Uint8Array[] {
  const data = m.data ?? [];
  let total = 0;
  for (const d of data) total += d.length;
  const actual = m.actualLength ?? total;
  u32('actualLength', actual);
  s32('status', m.status);
  if (m.actualLength !== undefined && total !== 0 && total !== actual)
    throw new RangeError(`actualLength ${actual} but ${total} data bytes`);
  const iso = m.isoPackets;
  if (iso) {
    if (iso.length > MAX_ISO_PACKETS) throw new RangeError(`at most ${MAX_ISO_PACKETS} iso packets`);
    let sum = 0;
    for (const p of iso) sum += p.actualLength;
    // IN replies carry the packed packets; OUT replies carry no data, only the accepted lengths.
    const want = total !== 0 || m.actualLength === undefined ? total : actual;
    if (sum !== want)
      throw new RangeError(`iso actual lengths sum to ${sum} but ${want} bytes were transferred`);
  }
  const np = iso ? iso.length : (m.numberOfPackets ?? NON_ISO_PACKETS);
  const h = Buffer.alloc(URB_HEADER_SIZE);
  writeRetSubmitHeader(
    h,
    u32('seqnum', m.seqnum),
    m.status,
    actual,
    np,
    m.startFrame ?? 0,
    m.errorCount ?? 0,
  );
  const dv = view(h);
  dv.setUint32(8, u32('devid', m.devid ?? 0));
  dv.setUint32(12, directionCode(m.direction ?? 'out'));
  dv.setUint32(16, m.ep ?? 0);
  const parts: Uint8Array[] = [h];
  for (const d of data) if (d.length) parts.push(d);
  if (iso && iso.length) parts.push(encodeIsoDescriptors(iso));
  return parts;
}

/** Encodes a CMD_UNLINK (48 bytes). */
export function encodeCmdUnlink(m: Omit<CmdUnlink, 'kind'>): Uint8Array {
  const h = Buffer.alloc(URB_HEADER_SIZE);
  const dv = view(h);
  writeBasic(dv, UsbIpCommand.CmdUnlink, m);
  dv.setUint32(20, u32('unlinkSeqnum', m.unlinkSeqnum));
  return h;
}

/** Encodes a RET_UNLINK (48 bytes). */
export function encodeRetUnlink(m: {
  seqnum: number;
  status: number;
  devid?: number;
  direction?: UsbIpDirection;
  ep?: number;
}): Uint8Array {
  const h = Buffer.alloc(URB_HEADER_SIZE);
  const dv = view(h);
  writeBasic(dv, UsbIpCommand.RetUnlink, {
    seqnum: m.seqnum,
    devid: m.devid ?? 0,
    direction: m.direction ?? 'out',
    ep: m.ep ?? 0,
  });
  dv.setInt32(20, s32('status', m.status));
  return h;
}

/** Concatenates encoded parts (tests and non-performance paths). */
export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
