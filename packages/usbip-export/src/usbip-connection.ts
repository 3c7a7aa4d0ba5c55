// One client connection of the USB/IP server: OP_* handshake, then URB traffic for the imported device.

import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  UsbIpErrno,
  UsbIpRequestDecoder,
  encodeOpRepDevlist,
  encodeOpRepImport,
  encodeRetUnlink,
  isHalError,
  isNonIsoPacketCount,
  usbIpProtocolError,
} from '@ksemu/hal';
import type { CmdSubmit, CmdUnlink, UsbIpExportedDevice, UsbIpRequest } from '@ksemu/hal';
import type { DeviceLayout } from './device-layout.js';
import { PendingUrb } from './pending-urb.js';
import type { ControlResult, SetupPacket, UsbIpDevice } from './usbip-device.js';

/** A registered device and who holds it; shared by all connections of one server. */
export interface ExportedDeviceEntry {
  readonly device: UsbIpDevice;
  readonly layout: DeviceLayout;
  owner: UsbIpConnection | undefined;
  configuration: number;
  readonly alternates: Map<number, number>;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  devices(): readonly ExportedDeviceEntry[];
  find(busid: string): ExportedDeviceEntry | undefined;
  closed(connection: UsbIpConnection): void;
}

const REQ_GET_STATUS = 0x00;
const REQ_CLEAR_FEATURE = 0x01;
const REQ_SET_FEATURE = 0x03;
const REQ_GET_DESCRIPTOR = 0x06;
const REQ_GET_CONFIGURATION = 0x08;
const REQ_SET_CONFIGURATION = 0x09;
const REQ_GET_INTERFACE = 0x0a;
const REQ_SET_INTERFACE = 0x0b;
const STALL: ControlResult = { status: 'stall' };

/**
 * Serves one TCP client. States: `handshake` (OP_* requests) → `imported` (URBs for one device) →
 * `closed`. Any protocol violation closes this connection only, with a log line; the imported device
 * gets `detached()` after every pending URB was cancelled.
 */
export class UsbIpConnection {
  readonly #socket: Socket;
  readonly #host: ConnectionHost;
  readonly #log: Logger;
  readonly #decoder: UsbIpRequestDecoder;
  readonly #pending = new Map<number, PendingUrb>();
  #entry: ExportedDeviceEntry | undefined;
  #state: 'handshake' | 'imported' | 'closed' = 'handshake';
  #closeReason = 'client closed the connection';

  readonly #maxPending: number;

  constructor(
    socket: Socket,
    host: ConnectionHost,
    logger: Logger,
    maxTransferLength: number,
    maxPendingUrbs: number,
  ) {
    this.#socket = socket;
    this.#maxPending = maxPendingUrbs;
    this.#host = host;
    this.#log = logger;
    this.#decoder = new UsbIpRequestDecoder({
      maxTransferLength,
      isIsoEndpoint: (_devid, dir, ep, np) => {
        const info = this.#entry?.layout.endpoints.get(ep | (dir === 'in' ? 0x80 : 0));
        return info ? info.type === 'iso' : !isNonIsoPacketCount(np);
      },
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e) => {
      this.#closeReason = `socket error: ${e.message}`;
    });
    socket.on('close', () => this.#onClose());
  }

  get state(): 'handshake' | 'imported' | 'closed' {
    return this.#state;
  }

  /** Busid of the imported device, if any. */
  get busid(): string | undefined {
    return this.#entry?.device.busid;
  }

  /** Number of URBs submitted and not yet completed or cancelled. */
  get pendingUrbs(): number {
    return this.#pending.size;
  }

  /** Closes the connection (the device, if imported, is detached). Idempotent. */
  close(reason: string): void {
    if (this.#state === 'closed' || this.#socket.destroyed) return;
    this.#closeReason = reason;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    // After a devlist reply or a refused import the connection is half-closed: ignore what follows.
    if (this.#state === 'closed' || this.#socket.writableEnded) return;
    this.#decoder.push(chunk);
    try {
      for (let m = this.#decoder.next(); m !== undefined; m = this.#decoder.next()) {
        this.#handle(m);
        if (this.#socket.destroyed || this.#socket.writableEnded) return;
      }
    } catch (e) {
      if (isHalError(e, 'Protocol')) {
        this.#log.warn({ err: e }, `closing connection: ${e.message}`);
        this.close(e.message);
        return;
      }
      // A device model bug must not take the server down: close this client only.
      this.#log.error({ err: e }, 'closing connection after an internal error');
      this.close(`internal error: ${String(e)}`);
    }
  }

  #handle(m: UsbIpRequest): void {
    switch (m.kind) {
      case 'op-req-devlist': {
        const devices: UsbIpExportedDevice[] = this.#host
          .devices()
          .map((d) => ({ device: d.layout.record, interfaces: d.layout.interfaces }));
        this.#log.info({ devices: devices.length }, 'OP_REQ_DEVLIST');
        this.#socket.end(encodeOpRepDevlist(devices));
        return;
      }
      case 'op-req-import': {
        const entry = this.#host.find(m.busid);
        if (!entry || entry.owner) {
          this.#log.info(
            { busid: m.busid },
            `OP_REQ_IMPORT refused: ${entry ? 'device busy' : 'no such device'}`,
          );
          this.#socket.end(encodeOpRepImport(1));
          return;
        }
        entry.owner = this;
        entry.configuration = 0;
        entry.alternates.clear();
        this.#entry = entry;
        this.#state = 'imported';
        this.#socket.write(encodeOpRepImport(0, entry.layout.record));
        this.#log.info({ busid: m.busid }, 'OP_REQ_IMPORT: attached');
        this.#safeDeviceCall('attached', () => entry.device.attached?.());
        return;
      }
      case 'cmd-submit':
        this.#submit(m);
        return;
      case 'cmd-unlink':
        this.#unlink(m);
        return;
    }
  }

  #write = (parts: readonly Uint8Array[], onSent?: (error?: Error) => void): void => {
    const s = this.#socket;
    if (s.destroyed || !s.writable) {
      if (onSent) queueMicrotask(() => onSent(new Error('connection closed')));
      return;
    }
    s.cork();
    for (let i = 0; i < parts.length; i++) {
      if (i === parts.length - 1 && onSent) s.write(parts[i]!, (e) => onSent(e ?? undefined));
      else s.write(parts[i]!);
    }
    s.uncork();
  };

  #newUrb(cmd: CmdSubmit, type: PendingUrb['type']): PendingUrb {
    // A client that submits without end (held bulk IN URBs cost memory) is cut off, like a malformed one.
    if (this.#pending.size >= this.#maxPending)
      throw usbIpProtocolError(`more than ${this.#maxPending} URBs pending`);
    const urb = new PendingUrb(
      cmd,
      type,
      this.#write,
      (u) => this.#pending.delete(u.seqnum),
      (e) => this.#log.error({ err: e }, 'URB cancel listener threw'),
    );
    if (this.#pending.has(cmd.seqnum))
      this.#log.warn({ seqnum: cmd.seqnum }, 'CMD_SUBMIT reuses the seqnum of a pending URB');
    this.#pending.set(cmd.seqnum, urb);
    return urb;
  }

  #submit(cmd: CmdSubmit): void {
    const entry = this.#entry!;
    if (cmd.ep === 0) {
      this.#control(entry, this.#newUrb(cmd, 'control'), cmd);
      return;
    }
    const address = cmd.ep | (cmd.direction === 'in' ? 0x80 : 0);
    const info = entry.layout.endpoints.get(address);
    const urb = this.#newUrb(cmd, info?.type ?? 'bulk');
    if (!info) {
      this.#log.debug({ endpoint: address }, 'URB for an endpoint the configuration does not have: stall');
      urb.complete({ status: -UsbIpErrno.EPIPE });
      return;
    }
    try {
      entry.device.submit(urb);
    } catch (e) {
      this.#log.error({ err: e, endpoint: address }, 'device submit() threw; URB stalled');
      urb.complete({ status: -UsbIpErrno.EPIPE });
    }
  }

  #unlink(cmd: CmdUnlink): void {
    const victim = this.#pending.get(cmd.unlinkSeqnum);
    // Pending: cancelled now, and its RET_SUBMIT can never follow. Unknown: already completed (or
    // never existed); status 0 tells the client not to wait for anything more.
    const cancelled = victim?.cancel('unlinked') ?? false;
    this.#log.debug({ seqnum: cmd.unlinkSeqnum, cancelled }, 'CMD_UNLINK');
    this.#write([encodeRetUnlink({ seqnum: cmd.seqnum, status: cancelled ? -UsbIpErrno.ECONNRESET : 0 })]);
  }

  #control(entry: ExportedDeviceEntry, urb: PendingUrb, cmd: CmdSubmit): void {
    const s = cmd.setup;
    const setup: SetupPacket = {
      requestType: s[0]!,
      request: s[1]!,
      value: s[2]! | (s[3]! << 8),
      index: s[4]! | (s[5]! << 8),
      length: s[6]! | (s[7]! << 8),
    };
    const finish = (r: ControlResult): void => {
      if (urb.state !== 'pending') return;
      if (r.status === 'stall') {
        urb.complete({ status: -UsbIpErrno.EPIPE, actualLength: 0 });
        return;
      }
      if (cmd.direction === 'in') {
        const max = Math.min(setup.length, cmd.transferBufferLength);
        const d = r.data ?? new Uint8Array(0);
        urb.complete({ data: [d.length > max ? d.subarray(0, max) : d] });
      } else {
        // vhci/uvcvideo need actual_length = the OUT length, or SET_CUR fails ("exp. 34").
        urb.complete({ actualLength: cmd.transferBufferLength });
      }
    };
    const fail = (e: unknown): void => {
      this.#log.warn({ err: e, setup }, 'control request failed in the device; stalled');
      finish(STALL);
    };
    let result: ControlResult | Promise<ControlResult> | undefined;
    try {
      result = this.#standard(entry, setup) ?? entry.device.handleControl(setup, cmd.data);
    } catch (e) {
      fail(e);
      return;
    }
    if (
      result instanceof Promise ||
      (typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function')
    )
      (result as Promise<ControlResult>).then(finish, fail);
    else finish(result);
  }

  /** The standard requests the server answers itself; undefined = pass to the device. */
  #standard(entry: ExportedDeviceEntry, setup: SetupPacket): ControlResult | undefined {
    if ((setup.requestType & 0x60) !== 0) return undefined;
    const recipient = setup.requestType & 0x1f;
    const { device, layout } = entry;
    switch (setup.request) {
      case REQ_GET_DESCRIPTOR: {
        const type = setup.value >> 8;
        if (type === 1) return { status: 'ok', data: device.deviceDescriptor };
        if (type === 2 && (setup.value & 0xff) === 0) return { status: 'ok', data: device.configDescriptor };
        return undefined; // strings, qualifier, BOS, class descriptors: the device decides
      }
      case REQ_GET_CONFIGURATION:
        return { status: 'ok', data: Uint8Array.of(entry.configuration) };
      case REQ_SET_CONFIGURATION: {
        if (setup.value !== 0 && setup.value !== layout.configurationValue) return STALL;
        entry.configuration = setup.value;
        entry.alternates.clear();
        this.#log.info({ configuration: setup.value }, 'SET_CONFIGURATION');
        return { status: 'ok' };
      }
      case REQ_GET_STATUS:
        return { status: 'ok', data: Uint8Array.of(0, 0) };
      case REQ_GET_INTERFACE: {
        if (!layout.alternates.has(setup.index & 0xff)) return STALL;
        return { status: 'ok', data: Uint8Array.of(entry.alternates.get(setup.index & 0xff) ?? 0) };
      }
      case REQ_SET_INTERFACE: {
        const intf = setup.index & 0xff;
        if (!layout.alternates.get(intf)?.has(setup.value)) return STALL;
        const ok = device.setInterface ? device.setInterface(intf, setup.value) : true;
        if (!ok) return STALL;
        entry.alternates.set(intf, setup.value);
        this.#log.debug({ interface: intf, alternate: setup.value }, 'SET_INTERFACE');
        return { status: 'ok' };
      }
      case REQ_CLEAR_FEATURE:
        if (recipient === 2 && setup.value === 0) {
          const ep = setup.index & 0xff;
          if (ep !== 0 && !layout.endpoints.has(ep)) return STALL;
          this.#log.debug({ endpoint: ep }, 'CLEAR_FEATURE(ENDPOINT_HALT)');
          device.clearHalt?.(ep);
        }
        return { status: 'ok' };
      case REQ_SET_FEATURE:
        return { status: 'ok' };
      default:
        return undefined;
    }
  }

  #safeDeviceCall(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#log.error({ err: e }, `device ${what}() threw`);
    }
  }

  #onClose(): void {
    if (this.#state === 'closed') return;
    const wasImported = this.#state === 'imported';
    this.#state = 'closed';
    for (const urb of [...this.#pending.values()]) urb.cancel('detached');
    this.#pending.clear();
    const entry = this.#entry;
    if (wasImported && entry) {
      this.#log.info({ busid: entry.device.busid, reason: this.#closeReason }, 'client detached');
      if (entry.owner === this) entry.owner = undefined;
      this.#safeDeviceCall('detached', () => entry.device.detached?.(this.#closeReason));
    } else {
      this.#log.debug({ reason: this.#closeReason }, 'connection closed');
    }
    this.#host.closed(this);
  }
}
