// Incremental USB/IP decoders: turn arbitrarily split or merged TCP chunks into whole messages.
//
// A server uses UsbIpRequestDecoder (OP_REQ_* then CMD_*), a client UsbIpReplyDecoder (OP_REP_* then
// RET_*). Both are pure (no I/O): push() chunks, then call next() until it returns undefined. The
// first malformed message poisons the decoder: that next() and every later one throw the same
// HalError Protocol, because a byte stream cannot be resynchronised once a length is wrong.

import type { HalError } from '../hal-error.js';
import { ByteQueue } from './byte-queue.js';
import {
  DEVICE_RECORD_SIZE,
  INTERFACE_RECORD_SIZE,
  ISO_DESCRIPTOR_SIZE,
  MAX_ISO_PACKETS,
  NON_ISO_PACKETS,
  OP_HEADER_SIZE,
  OP_REQ_IMPORT_SIZE,
  URB_HEADER_SIZE,
  UsbIpCommand,
  UsbIpOpCode,
  decodeIsoDescriptors,
  decodeOpHeader,
  decodeUrbBasic,
  isNonIsoPacketCount,
  readDeviceRecord,
  usbIpProtocolError,
} from './usbip-protocol.js';
import type {
  IsoPacketDescriptor,
  UsbIpDirection,
  UsbIpExportedDevice,
  UsbIpInterfaceRecord,
  UsbIpReply,
  UsbIpRequest,
} from './usbip-protocol.js';

/** Default cap on one URB's transfer_buffer_length (a hostile length must not make us buffer gigabytes). */
export const DEFAULT_MAX_TRANSFER_LENGTH = 16 * 1024 * 1024;
/** Cap on the number of devices in one OP_REP_DEVLIST. */
export const MAX_DEVLIST_DEVICES = 1024;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Validates iso descriptors against the transfer buffer they describe. */
function checkIsoLayout(packets: readonly IsoPacketDescriptor[], bufferLength: number, what: string): void {
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    if (p.offset + p.length > bufferLength)
      throw usbIpProtocolError(
        `${what}: iso packet ${i} [${p.offset}, +${p.length}) lies outside the ${bufferLength}-byte buffer`,
      );
  }
}

abstract class DecoderBase<T> {
  protected readonly queue = new ByteQueue();
  #error: HalError | undefined;

  /** Bytes received but not yet decoded (a partial message). */
  get buffered(): number {
    return this.queue.length;
  }

  /** The error that poisoned the decoder, if any. */
  get error(): HalError | undefined {
    return this.#error;
  }

  /** Appends a received chunk (borrowed: must not be modified afterwards). */
  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /**
   * The next complete message, or undefined when more bytes are needed.
   * Throws HalError Protocol on malformed input; the decoder then stays failed.
   */
  next(): T | undefined {
    if (this.#error) throw this.#error;
    try {
      return this.decode();
    } catch (e) {
      // Only our own typed errors are expected here; anything else is wrapped, never leaked untyped.
      this.#error =
        typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'HalError'
          ? (e as HalError)
          : usbIpProtocolError(`decoder failure: ${String(e)}`, e);
      this.queue.clear();
      throw this.#error;
    }
  }

  protected abstract decode(): T | undefined;
}

/** Options of {@link UsbIpRequestDecoder}. */
export interface UsbIpRequestDecoderOptions {
  /**
   * Whether the endpoint is isochronous, which decides whether iso descriptors follow a CMD_SUBMIT
   * (the kernel decides from the pipe type too). Default: iso when `number_of_packets` is neither 0
   * nor 0xffffffff ({@link isNonIsoPacketCount}).
   */
  readonly isIsoEndpoint?: (
    devid: number,
    direction: UsbIpDirection,
    ep: number,
    numberOfPackets: number,
  ) => boolean;
  /** Largest accepted transfer_buffer_length (default 16 MiB). */
  readonly maxTransferLength?: number;
}

/**
 * Server side: decodes OP_REQ_DEVLIST / OP_REQ_IMPORT, then (after an OP_REQ_IMPORT) CMD_SUBMIT and
 * CMD_UNLINK. Any other code, a wrong version, an impossible length, direction or endpoint is a
 * HalError Protocol.
 */
export class UsbIpRequestDecoder extends DecoderBase<UsbIpRequest> {
  #phase: 'op' | 'urb' = 'op';
  readonly #isIso: UsbIpRequestDecoderOptions['isIsoEndpoint'];
  readonly #maxTransfer: number;

  constructor(options: UsbIpRequestDecoderOptions = {}) {
    super();
    this.#isIso = options.isIsoEndpoint;
    this.#maxTransfer = options.maxTransferLength ?? DEFAULT_MAX_TRANSFER_LENGTH;
  }

  /** `op` until an OP_REQ_IMPORT was decoded, `urb` afterwards. */
  get phase(): 'op' | 'urb' {
    return this.#phase;
  }

  protected decode(): UsbIpRequest | undefined {
    const q = this.queue;
    if (this.#phase === 'op') {
      if (q.length < OP_HEADER_SIZE) return undefined;
      const { code } = decodeOpHeader(q.peek(OP_HEADER_SIZE));
      if (code === UsbIpOpCode.ReqDevlist) {
        q.consume(OP_HEADER_SIZE);
        return { kind: 'op-req-devlist' };
      }
      if (code === UsbIpOpCode.ReqImport) {
        if (q.length < OP_REQ_IMPORT_SIZE) return undefined;
        const b = q.take(OP_REQ_IMPORT_SIZE).subarray(OP_HEADER_SIZE);
        const end = b.indexOf(0);
        const busid = Buffer.from(end < 0 ? b : b.subarray(0, end)).toString('latin1');
        this.#phase = 'urb';
        return { kind: 'op-req-import', busid };
      }
      throw usbIpProtocolError(`unknown operation 0x${code.toString(16).padStart(4, '0')}`);
    }
    if (q.length < URB_HEADER_SIZE) return undefined;
    const h = q.peek(URB_HEADER_SIZE);
    const basic = decodeUrbBasic(h);
    const v = dv(h);
    if (basic.command === UsbIpCommand.CmdUnlink) {
      q.consume(URB_HEADER_SIZE);
      const { command: _c, ...rest } = basic;
      return { kind: 'cmd-unlink', ...rest, unlinkSeqnum: v.getUint32(20) };
    }
    if (basic.command !== UsbIpCommand.CmdSubmit)
      throw usbIpProtocolError(`unexpected command ${basic.command} from a client`);
    const transferBufferLength = v.getUint32(24);
    const numberOfPackets = v.getUint32(32);
    if (transferBufferLength > this.#maxTransfer)
      throw usbIpProtocolError(`transfer_buffer_length ${transferBufferLength} exceeds ${this.#maxTransfer}`);
    const iso = this.#isIso
      ? this.#isIso(basic.devid, basic.direction, basic.ep, numberOfPackets)
      : !isNonIsoPacketCount(numberOfPackets);
    if (iso && (numberOfPackets === NON_ISO_PACKETS || numberOfPackets > MAX_ISO_PACKETS))
      throw usbIpProtocolError(`bad number_of_packets ${numberOfPackets} for an iso URB`);
    const dataLen = basic.direction === 'out' ? transferBufferLength : 0;
    const isoLen = iso ? numberOfPackets * ISO_DESCRIPTOR_SIZE : 0;
    const total = URB_HEADER_SIZE + dataLen + isoLen;
    if (q.length < total) return undefined;
    const all = q.take(total);
    const isoPackets = iso
      ? decodeIsoDescriptors(all.subarray(URB_HEADER_SIZE + dataLen), numberOfPackets)
      : undefined;
    if (isoPackets) checkIsoLayout(isoPackets, transferBufferLength, `CMD_SUBMIT ${basic.seqnum}`);
    const { command: _c, ...rest } = basic;
    return {
      kind: 'cmd-submit',
      ...rest,
      transferFlags: v.getUint32(20),
      transferBufferLength,
      startFrame: v.getUint32(28),
      numberOfPackets,
      interval: v.getUint32(36),
      setup: all.subarray(40, 48),
      data: all.subarray(URB_HEADER_SIZE, URB_HEADER_SIZE + dataLen),
      ...(isoPackets ? { isoPackets } : {}),
    };
  }
}

/** What a client remembers of a URB it submitted; the reply decoder needs it to size RET_SUBMIT. */
export interface SubmittedUrb {
  readonly direction: UsbIpDirection;
  readonly transferBufferLength: number;
  /** Number of iso packets for an iso URB; undefined for control/bulk/interrupt. */
  readonly isoPackets?: number;
}

/** Options of {@link UsbIpReplyDecoder}. */
export interface UsbIpReplyDecoderOptions {
  /** What the client asked with its OP request: the decoder expects exactly that reply first. */
  readonly expect: 'devlist' | 'import';
  /**
   * Looks up a still-pending URB by seqnum. A RET_SUBMIT for a seqnum it does not know is a protocol
   * error (vhci drops the connection too). Needed once the import succeeded.
   */
  readonly lookup?: (seqnum: number) => SubmittedUrb | undefined;
}

/**
 * Client side: decodes the OP reply the client asked for, then (after a successful import) RET_SUBMIT
 * and RET_UNLINK. RET_SUBMIT lengths are checked against the submitted URB: actual_length beyond the
 * buffer, iso packet counts that differ from the request, or iso actual lengths that do not add up to
 * actual_length are HalError Protocol.
 */
export class UsbIpReplyDecoder extends DecoderBase<UsbIpReply> {
  #phase: 'devlist' | 'import' | 'urb' | 'done';
  readonly #lookup: UsbIpReplyDecoderOptions['lookup'];

  constructor(options: UsbIpReplyDecoderOptions) {
    super();
    this.#phase = options.expect;
    this.#lookup = options.lookup;
  }

  get phase(): 'devlist' | 'import' | 'urb' | 'done' {
    return this.#phase;
  }

  protected decode(): UsbIpReply | undefined {
    const q = this.queue;
    switch (this.#phase) {
      case 'done':
        if (q.length) throw usbIpProtocolError(`${q.length} unexpected bytes after the reply`);
        return undefined;
      case 'devlist':
        return this.#devlist();
      case 'import':
        return this.#import();
      case 'urb':
        return this.#urb();
    }
  }

  #opHeader(want: number): { status: number } | undefined {
    if (this.queue.length < OP_HEADER_SIZE) return undefined;
    const { code, status } = decodeOpHeader(this.queue.peek(OP_HEADER_SIZE));
    if (code !== want)
      throw usbIpProtocolError(`expected reply 0x${want.toString(16)}, got 0x${code.toString(16)}`);
    return { status };
  }

  #devlist(): UsbIpReply | undefined {
    const q = this.queue;
    const h = this.#opHeader(UsbIpOpCode.RepDevlist);
    if (!h) return undefined;
    if (h.status !== 0) {
      q.consume(OP_HEADER_SIZE);
      this.#phase = 'done';
      return { kind: 'op-rep-devlist', status: h.status, devices: [] };
    }
    if (q.length < OP_HEADER_SIZE + 4) return undefined;
    const count = dv(q.peek(OP_HEADER_SIZE + 4)).getUint32(OP_HEADER_SIZE);
    if (count > MAX_DEVLIST_DEVICES) throw usbIpProtocolError(`device list of ${count} devices`);
    // Walk the variable-length records to find the total size before taking anything.
    let need = OP_HEADER_SIZE + 4;
    for (let i = 0; i < count; i++) {
      if (q.length < need + DEVICE_RECORD_SIZE) return undefined;
      const nIf = q.peek(need + DEVICE_RECORD_SIZE)[need + DEVICE_RECORD_SIZE - 1]!;
      need += DEVICE_RECORD_SIZE + nIf * INTERFACE_RECORD_SIZE;
    }
    if (q.length < need) return undefined;
    const b = q.take(need);
    const devices: UsbIpExportedDevice[] = [];
    let off = OP_HEADER_SIZE + 4;
    for (let i = 0; i < count; i++) {
      const device = readDeviceRecord(b, off);
      off += DEVICE_RECORD_SIZE;
      const interfaces: UsbIpInterfaceRecord[] = [];
      for (let k = 0; k < device.bNumInterfaces; k++) {
        interfaces.push({
          bInterfaceClass: b[off]!,
          bInterfaceSubClass: b[off + 1]!,
          bInterfaceProtocol: b[off + 2]!,
        });
        off += INTERFACE_RECORD_SIZE;
      }
      devices.push({ device, interfaces });
    }
    this.#phase = 'done';
    return { kind: 'op-rep-devlist', status: 0, devices };
  }

  #import(): UsbIpReply | undefined {
    const q = this.queue;
    const h = this.#opHeader(UsbIpOpCode.RepImport);
    if (!h) return undefined;
    if (h.status !== 0) {
      q.consume(OP_HEADER_SIZE);
      this.#phase = 'done';
      return { kind: 'op-rep-import', status: h.status };
    }
    if (q.length < OP_HEADER_SIZE + DEVICE_RECORD_SIZE) return undefined;
    const device = readDeviceRecord(q.take(OP_HEADER_SIZE + DEVICE_RECORD_SIZE), OP_HEADER_SIZE);
    this.#phase = 'urb';
    return { kind: 'op-rep-import', status: 0, device };
  }

  #urb(): UsbIpReply | undefined {
    const q = this.queue;
    if (q.length < URB_HEADER_SIZE) return undefined;
    const h = q.peek(URB_HEADER_SIZE);
    const v = dv(h);
    const command = v.getUint32(0);
    if (command === UsbIpCommand.RetUnlink) {
      const basic = decodeUrbBasic(h);
      q.consume(URB_HEADER_SIZE);
      return {
        kind: 'ret-unlink',
        seqnum: basic.seqnum,
        devid: basic.devid,
        direction: basic.direction,
        ep: basic.ep,
        status: v.getInt32(20),
      };
    }
    if (command !== UsbIpCommand.RetSubmit)
      throw usbIpProtocolError(`unexpected command ${command} from a server`);
    const basic = decodeUrbBasic(h);
    const urb = this.#lookup?.(basic.seqnum);
    if (!urb) throw usbIpProtocolError(`RET_SUBMIT for unknown seqnum ${basic.seqnum}`);
    const actualLength = v.getUint32(24);
    const numberOfPackets = v.getUint32(32);
    if (actualLength > urb.transferBufferLength)
      throw usbIpProtocolError(
        `RET_SUBMIT ${basic.seqnum}: actual_length ${actualLength} exceeds the ${urb.transferBufferLength}-byte buffer`,
      );
    const iso = urb.isoPackets !== undefined;
    if (iso && numberOfPackets !== urb.isoPackets)
      throw usbIpProtocolError(
        `RET_SUBMIT ${basic.seqnum}: ${numberOfPackets} iso packets, ${urb.isoPackets} were submitted`,
      );
    const dataLen = urb.direction === 'in' ? actualLength : 0;
    const isoLen = iso ? numberOfPackets * ISO_DESCRIPTOR_SIZE : 0;
    const total = URB_HEADER_SIZE + dataLen + isoLen;
    if (q.length < total) return undefined;
    const all = q.take(total);
    let isoPackets: IsoPacketDescriptor[] | undefined;
    if (iso) {
      isoPackets = decodeIsoDescriptors(all.subarray(URB_HEADER_SIZE + dataLen), numberOfPackets);
      checkIsoLayout(isoPackets, urb.transferBufferLength, `RET_SUBMIT ${basic.seqnum}`);
      let sum = 0;
      for (const p of isoPackets) {
        if (p.actualLength > p.length)
          throw usbIpProtocolError(`RET_SUBMIT ${basic.seqnum}: iso actual_length above packet length`);
        sum += p.actualLength;
      }
      if (urb.direction === 'in' && sum !== actualLength)
        throw usbIpProtocolError(
          `RET_SUBMIT ${basic.seqnum}: iso actual lengths sum to ${sum}, header says ${actualLength}`,
        );
    }
    return {
      kind: 'ret-submit',
      seqnum: basic.seqnum,
      devid: basic.devid,
      direction: basic.direction,
      ep: basic.ep,
      status: v.getInt32(20),
      actualLength,
      startFrame: v.getUint32(28),
      numberOfPackets,
      errorCount: v.getUint32(36),
      data: all.subarray(URB_HEADER_SIZE, URB_HEADER_SIZE + dataLen),
      ...(isoPackets ? { isoPackets } : {}),
    };
  }
}
