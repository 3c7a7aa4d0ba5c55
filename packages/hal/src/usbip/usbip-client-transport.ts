// A USB/IP client implementing the UsbTransport port: imports a device from a USB/IP server over TCP.
//
// It plays the part of the kernel's vhci-hcd, so hal's UVC host code can run end to end in-process
// against our own USB/IP export (or any USB/IP server) without a kernel. One TCP connection per
// imported device; every transfer is a CMD_SUBMIT, every cancellation a CMD_UNLINK.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { HalError, HalErrorCode } from '../hal-error.js';
import { silentLogger } from '../silent-logger.js';
import { InStreamCore } from '../usb/in-stream.js';
import { transferStatusFromErrno } from '../usb/usb-failure.js';
import { checkInEndpoint, checkSetup, matchesFilter } from '../usb/usb-transport.js';
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
  UsbSpeed,
  UsbStreamEnd,
  UsbTransferStatus,
  UsbTransport,
  UsbTransportProvider,
  UsbTransportState,
} from '../usb/usb-transport.js';
import {
  UsbIpErrno,
  UsbIpSpeed,
  encodeCmdSubmit,
  encodeCmdUnlink,
  encodeOpReqDevlist,
  encodeOpReqImport,
} from './usbip-protocol.js';
import type {
  IsoPacketDescriptor,
  RetSubmit,
  UsbIpDeviceRecord,
  UsbIpExportedDevice,
  UsbIpReply,
} from './usbip-protocol.js';
import { UsbIpReplyDecoder } from './usbip-stream-decoder.js';
import type { SubmittedUrb } from './usbip-stream-decoder.js';

/** Where a USB/IP server listens. Loopback by default. */
export interface UsbIpEndpoint {
  readonly host?: string;
  readonly port: number;
}

export interface UsbIpClientOptions extends UsbIpEndpoint {
  /** Bus id to import, e.g. `1-1`. */
  readonly busid: string;
  readonly logger?: Logger;
  /** Milliseconds to wait for the TCP connection and the import reply (default 5000). */
  readonly connectTimeoutMs?: number;
  /**
   * Deadline of control requests that give no `timeoutMs` of their own (default 1000; 0 = none).
   * An in-process server shares this event loop, so a deadline there only measures how busy the
   * machine is: loopback tests pass 0.
   */
  readonly controlTimeoutMs?: number;
}

const CAPABILITIES: UsbCapabilities = Object.freeze({
  bulk: true,
  interrupt: true,
  isochronous: true,
  kernelDriver: false,
  hotplug: false,
});

const SPEED_NAMES: Record<number, UsbSpeed> = {
  [UsbIpSpeed.Low]: 'low',
  [UsbIpSpeed.Full]: 'full',
  [UsbIpSpeed.High]: 'high',
  [UsbIpSpeed.Super]: 'super',
  [UsbIpSpeed.SuperPlus]: 'super-plus',
};

/** UsbDeviceInfo of a USB/IP device record. The location is the busid, which is what an import needs. */
export function usbIpDeviceInfo(d: UsbIpDeviceRecord): UsbDeviceInfo {
  const m = /^(\d+)-([\d.]+)$/.exec(d.busid);
  const portPath = m ? m[2]!.split('.').map(Number) : [];
  return Object.freeze({
    vendorId: d.idVendor,
    productId: d.idProduct,
    busNumber: d.busnum,
    deviceAddress: d.devnum,
    portPath: Object.freeze(portPath),
    speed: SPEED_NAMES[d.speed] ?? 'unknown',
    deviceClass: d.bDeviceClass,
    deviceSubClass: d.bDeviceSubClass,
    deviceProtocol: d.bDeviceProtocol,
    location: d.busid,
  });
}

/** Opens a TCP connection to a USB/IP server (rejects HalError Disconnected / TimedOut). */
async function openSocket(ep: UsbIpEndpoint, timeoutMs: number): Promise<Socket> {
  const host = ep.host ?? '127.0.0.1';
  const socket = connect({ host, port: ep.port, noDelay: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new HalError(HalErrorCode.TimedOut, `USB/IP: no connection to ${host}:${ep.port} in ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(
        new HalError(HalErrorCode.Disconnected, `USB/IP: cannot connect to ${host}:${ep.port}`, { cause: e }),
      );
    });
  });
}

/** Reads the first reply on a fresh connection (OP_REP_DEVLIST or OP_REP_IMPORT). */
function firstReply(socket: Socket, decoder: UsbIpReplyDecoder, timeoutMs: number): Promise<UsbIpReply> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, r?: UsbIpReply): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (err) reject(err);
      else resolve(r!);
    };
    const onData = (c: Buffer): void => {
      decoder.push(c);
      try {
        const r = decoder.next();
        if (r) done(undefined, r);
      } catch (e) {
        done(e as Error);
      }
    };
    const onClose = (): void =>
      done(new HalError(HalErrorCode.Disconnected, 'USB/IP: server closed the connection'));
    const timer = setTimeout(
      () => done(new HalError(HalErrorCode.TimedOut, `USB/IP: no reply in ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onClose);
  });
}

/** Lists the devices a USB/IP server exports (OP_REQ_DEVLIST on a connection of its own). */
export async function listUsbIpDevices(ep: UsbIpEndpoint, timeoutMs = 5000): Promise<UsbIpExportedDevice[]> {
  const socket = await openSocket(ep, timeoutMs);
  try {
    const decoder = new UsbIpReplyDecoder({ expect: 'devlist' });
    const reply = firstReply(socket, decoder, timeoutMs);
    socket.write(encodeOpReqDevlist());
    const r = await reply;
    if (r.kind !== 'op-rep-devlist' || r.status !== 0)
      throw new HalError(
        HalErrorCode.Protocol,
        `USB/IP: device list refused (status ${r.kind === 'op-rep-devlist' ? r.status : '?'})`,
      );
    return [...r.devices];
  } finally {
    socket.destroy();
  }
}

type UrbOutcome =
  | { readonly kind: 'ret'; readonly ret: RetSubmit }
  | { readonly kind: 'unlinked' }
  | { readonly kind: 'gone'; readonly error: HalError };

interface ClientUrb extends SubmittedUrb {
  readonly settle: (o: UrbOutcome) => void;
}

interface RunningStream {
  readonly endpoint: number;
  stop(): Promise<void>;
  readonly ended: Promise<UsbStreamEnd>;
}

/**
 * A device imported over USB/IP, as a {@link UsbTransport}. Created by {@link UsbIpClientTransport.connect};
 * the device is configured (SET_CONFIGURATION) as a host would after enumeration.
 * Kernel-driver calls are no-ops (there is no OS driver in between); hotplug is not reported.
 * States: open → closed | disconnected (server gone, protocol violation).
 */
export class UsbIpClientTransport implements UsbTransport {
  readonly info: UsbDeviceInfo;
  readonly capabilities = CAPABILITIES;
  readonly #socket: Socket;
  readonly #decoder: UsbIpReplyDecoder;
  readonly #urbs = new Map<number, ClientUrb>();
  readonly #unlinks = new Map<number, number>();
  readonly #devid: number;
  readonly #log: Logger;
  #controlTimeoutMs = 1000;
  readonly #claimed = new Set<number>();
  readonly #streams = new Map<number, RunningStream>();
  readonly #disconnectListeners = new Set<(error: Error) => void>();
  readonly #endpointTypes = new Map<number, { type: number; interfaceNumber: number }>();
  #state: UsbTransportState = 'open';
  #seq = 1;
  #deviceDescriptor = new Uint8Array(0);
  #configDescriptor = new Uint8Array(0);

  private constructor(socket: Socket, decoder: UsbIpReplyDecoder, record: UsbIpDeviceRecord, log: Logger) {
    this.#socket = socket;
    this.#decoder = decoder;
    this.#devid = ((record.busnum << 16) | (record.devnum & 0xffff)) >>> 0;
    this.info = usbIpDeviceInfo(record);
    this.#log = log;
    socket.on('data', (c: Buffer) => this.#onData(c));
    socket.on('error', (e) =>
      this.#gone(new HalError(HalErrorCode.Disconnected, `USB/IP: socket error: ${e.message}`, { cause: e })),
    );
    socket.on('close', () =>
      this.#gone(new HalError(HalErrorCode.Disconnected, 'USB/IP: server closed the connection')),
    );
  }

  /**
   * Connects, imports `busid`, reads the descriptors and sets the configuration.
   * Rejects HalError NotFound when the server refuses the import (unknown busid or already imported),
   * Disconnected/TimedOut when the server cannot be reached, Protocol on a malformed reply.
   */
  static async connect(options: UsbIpClientOptions): Promise<UsbIpClientTransport> {
    if (options.controlTimeoutMs !== undefined && !(options.controlTimeoutMs >= 0)) {
      throw new RangeError(`controlTimeoutMs must be >= 0, got ${options.controlTimeoutMs}`);
    }
    const timeout = options.connectTimeoutMs ?? 5000;
    const log = (options.logger ?? silentLogger()).child({
      usbip: `${options.host ?? '127.0.0.1'}:${options.port}/${options.busid}`,
    });
    const socket = await openSocket(options, timeout);
    // The decoder outlives the handshake; its lookup reaches the transport once that exists.
    const owner: { transport?: UsbIpClientTransport } = {};
    const decoder = new UsbIpReplyDecoder({
      expect: 'import',
      lookup: (s) => (owner.transport ? owner.transport.#urbs.get(s) : undefined),
    });
    let reply: UsbIpReply;
    try {
      const p = firstReply(socket, decoder, timeout);
      socket.write(encodeOpReqImport(options.busid));
      reply = await p;
    } catch (e) {
      socket.destroy();
      throw e;
    }
    if (reply.kind !== 'op-rep-import' || reply.status !== 0 || !reply.device) {
      socket.destroy();
      throw new HalError(
        HalErrorCode.NotFound,
        `USB/IP: import of ${options.busid} refused (no such device, or already imported)`,
      );
    }
    if (reply.device.busid !== options.busid) {
      socket.destroy();
      throw new HalError(
        HalErrorCode.Protocol,
        `USB/IP: asked for ${options.busid}, server answered ${reply.device.busid}`,
      );
    }
    const transport = new UsbIpClientTransport(socket, decoder, reply.device, log);
    if (options.controlTimeoutMs !== undefined) transport.#controlTimeoutMs = options.controlTimeoutMs;
    owner.transport = transport;
    // Bytes that arrived with the import reply are already in the decoder.
    transport.#drain();
    try {
      await transport.#enumerate();
    } catch (e) {
      await transport.close();
      throw e;
    }
    log.debug('imported');
    return transport;
  }

  get state(): UsbTransportState {
    return this.#state;
  }

  /** URBs submitted and not yet answered (tests check that nothing leaks). */
  get pendingUrbs(): number {
    return this.#urbs.size;
  }

  async #enumerate(): Promise<void> {
    const dd = await this.controlIn({ requestType: 0x80, request: 0x06, value: 0x0100, index: 0 }, 18);
    if (dd.length !== 18 || dd[1] !== 1)
      throw new HalError(HalErrorCode.Protocol, 'USB/IP: bad device descriptor');
    this.#deviceDescriptor = Uint8Array.from(dd);
    const head = await this.controlIn({ requestType: 0x80, request: 0x06, value: 0x0200, index: 0 }, 9);
    if (head.length < 9 || head[1] !== 2)
      throw new HalError(HalErrorCode.Protocol, 'USB/IP: bad configuration descriptor');
    const total = head[2]! | (head[3]! << 8);
    const cd = await this.controlIn({ requestType: 0x80, request: 0x06, value: 0x0200, index: 0 }, total);
    if (cd.length !== total)
      throw new HalError(HalErrorCode.Protocol, 'USB/IP: short configuration descriptor');
    this.#configDescriptor = Uint8Array.from(cd);
    let intf = 0;
    for (let off = 0; off + 2 <= cd.length && cd[off]! >= 2; off += cd[off]!) {
      if (cd[off + 1] === 4) intf = cd[off + 2] ?? 0;
      if (cd[off + 1] === 5 && cd[off]! >= 7)
        this.#endpointTypes.set(cd[off + 2]!, { type: cd[off + 3]! & 3, interfaceNumber: intf });
    }
    await this.controlOut({ requestType: 0x00, request: 0x09, value: cd[5]!, index: 0 }, new Uint8Array(0));
  }

  // ------------------------------------------------------------ URB plumbing

  #onData(chunk: Buffer): void {
    this.#decoder.push(chunk);
    this.#drain();
  }

  #drain(): void {
    try {
      for (let m = this.#decoder.next(); m !== undefined; m = this.#decoder.next()) this.#dispatch(m);
    } catch (e) {
      const err = e as HalError;
      this.#log.warn({ err }, `closing: ${err.message}`);
      this.#gone(
        new HalError(
          HalErrorCode.Disconnected,
          `USB/IP: connection dropped after a protocol error: ${err.message}`,
          { cause: err },
        ),
      );
      this.#socket.destroy();
    }
  }

  #dispatch(m: UsbIpReply): void {
    if (m.kind === 'ret-submit') {
      const urb = this.#urbs.get(m.seqnum);
      this.#urbs.delete(m.seqnum);
      urb?.settle({ kind: 'ret', ret: m });
    } else if (m.kind === 'ret-unlink') {
      const victim = this.#unlinks.get(m.seqnum);
      this.#unlinks.delete(m.seqnum);
      if (victim === undefined) return;
      // Still pending means the server cancelled it (any status): its RET_SUBMIT will never come.
      const urb = this.#urbs.get(victim);
      this.#urbs.delete(victim);
      urb?.settle({ kind: 'unlinked' });
    } else {
      throw new HalError(HalErrorCode.Protocol, `USB/IP: unexpected ${m.kind} after import`);
    }
  }

  #nextSeq(): number {
    const s = this.#seq;
    this.#seq = this.#seq >= 0xffffffff ? 1 : this.#seq + 1;
    return s;
  }

  #requireOpen(operation: string): void {
    if (this.#state === 'closed')
      throw new Error(`${operation} requires state 'open', current state is 'closed'`);
    if (this.#state === 'disconnected')
      throw new HalError(HalErrorCode.Disconnected, `${operation}: the USB/IP device is disconnected`, {
        deviceId: this.info.location,
      });
  }

  /** Sends a CMD_SUBMIT; `settle` runs exactly once (reply, unlink or connection loss). Returns the seqnum. */
  #submit(
    f: {
      direction: 'in' | 'out';
      ep: number;
      length: number;
      setup?: Uint8Array;
      data?: Uint8Array;
      iso?: IsoPacketDescriptor[];
      interval?: number;
    },
    settle: (o: UrbOutcome) => void,
  ): number {
    const seqnum = this.#nextSeq();
    const parts = encodeCmdSubmit({
      seqnum,
      devid: this.#devid,
      direction: f.direction,
      ep: f.ep,
      transferFlags: 0,
      transferBufferLength: f.length,
      startFrame: 0,
      interval: f.interval ?? 0,
      ...(f.setup ? { setup: f.setup } : {}),
      ...(f.data ? { data: f.data } : {}),
      ...(f.iso ? { isoPackets: f.iso } : {}),
    });
    this.#urbs.set(seqnum, {
      direction: f.direction,
      transferBufferLength: f.length,
      ...(f.iso ? { isoPackets: f.iso.length } : {}),
      settle,
    });
    const s = this.#socket;
    s.cork();
    for (const p of parts) s.write(p);
    s.uncork();
    return seqnum;
  }

  #unlink(victim: number): void {
    if (!this.#urbs.has(victim) || this.#state !== 'open') return;
    const seqnum = this.#nextSeq();
    this.#unlinks.set(seqnum, victim);
    this.#socket.write(
      encodeCmdUnlink({ seqnum, devid: this.#devid, direction: 'out', ep: 0, unlinkSeqnum: victim }),
    );
  }

  #gone(error: HalError): void {
    if (this.#state !== 'open') return;
    this.#state = 'disconnected';
    this.#log.info({ err: error }, 'USB/IP device gone');
    const urbs = [...this.#urbs.values()];
    this.#urbs.clear();
    this.#unlinks.clear();
    for (const u of urbs) u.settle({ kind: 'gone', error });
    for (const l of [...this.#disconnectListeners]) {
      try {
        l(error);
      } catch (e) {
        this.#log.error({ err: e }, 'disconnect listener threw');
      }
    }
    this.#disconnectListeners.clear();
  }

  // ------------------------------------------------------------ UsbTransport

  deviceDescriptor(): Uint8Array {
    return Uint8Array.from(this.#deviceDescriptor);
  }

  async configDescriptor(): Promise<Uint8Array> {
    this.#requireOpen('configDescriptor()');
    return Uint8Array.from(this.#configDescriptor);
  }

  #control(
    setup: ControlSetup,
    length: number,
    data: Uint8Array | undefined,
    options?: ControlOptions,
  ): Promise<RetSubmit> {
    const dirIn = data === undefined;
    checkSetup(setup, dirIn, length);
    this.#requireOpen(dirIn ? 'controlIn()' : 'controlOut()');
    const raw = Uint8Array.of(
      setup.requestType,
      setup.request,
      setup.value & 0xff,
      setup.value >> 8,
      setup.index & 0xff,
      setup.index >> 8,
      length & 0xff,
      length >> 8,
    );
    const timeoutMs = options?.timeoutMs ?? this.#controlTimeoutMs;
    return new Promise<RetSubmit>((resolve, reject) => {
      let timedOut = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const seqnum = this.#submit(
        { direction: dirIn ? 'in' : 'out', ep: 0, length, setup: raw, ...(dirIn ? {} : { data }) },
        (o) => {
          if (timer) clearTimeout(timer);
          if (timedOut || o.kind === 'unlinked') {
            reject(
              new HalError(
                HalErrorCode.TimedOut,
                `control request 0x${setup.request.toString(16)} timed out after ${timeoutMs} ms`,
                { deviceId: this.info.location },
              ),
            );
          } else if (o.kind === 'gone') reject(o.error);
          else if (o.ret.status === -UsbIpErrno.EPIPE)
            reject(
              new HalError(HalErrorCode.Stall, `control request 0x${setup.request.toString(16)} stalled`, {
                deviceId: this.info.location,
              }),
            );
          else if (o.ret.status !== 0)
            reject(
              new HalError(
                transferStatusFromErrno(o.ret.status) === 'disconnected'
                  ? HalErrorCode.Disconnected
                  : HalErrorCode.Protocol,
                `control request 0x${setup.request.toString(16)} failed with status ${o.ret.status}`,
                { deviceId: this.info.location },
              ),
            );
          else resolve(o.ret);
        },
      );
      if (timeoutMs > 0)
        timer = setTimeout(() => {
          timedOut = true;
          this.#unlink(seqnum);
        }, timeoutMs);
    });
  }

  async controlIn(setup: ControlSetup, length: number, options?: ControlOptions): Promise<Uint8Array> {
    const r = await this.#control(setup, length, undefined, options);
    return Uint8Array.from(r.data);
  }

  async controlOut(setup: ControlSetup, data: Uint8Array, options?: ControlOptions): Promise<number> {
    const r = await this.#control(setup, data.length, data, options);
    return r.actualLength;
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.#requireOpen('claimInterface()');
    this.#claimed.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.#requireOpen('releaseInterface()');
    for (const s of this.#streams.values())
      if (this.#endpointTypes.get(s.endpoint)?.interfaceNumber === interfaceNumber)
        throw new Error(
          `releaseInterface(${interfaceNumber}) requires its streams 'stopped', endpoint 0x${s.endpoint.toString(16)} is 'running'`,
        );
    this.#claimed.delete(interfaceNumber);
  }

  async setAlternateSetting(interfaceNumber: number, alternateSetting: number): Promise<void> {
    if (!this.#claimed.has(interfaceNumber))
      throw new Error(
        `setAlternateSetting(${interfaceNumber}) requires the interface 'claimed', it is 'released'`,
      );
    await this.controlOut(
      { requestType: 0x01, request: 0x0b, value: alternateSetting, index: interfaceNumber },
      new Uint8Array(0),
    );
  }

  async isKernelDriverActive(_interfaceNumber: number): Promise<boolean> {
    this.#requireOpen('isKernelDriverActive()');
    return false;
  }

  async detachKernelDriver(_interfaceNumber: number): Promise<boolean> {
    this.#requireOpen('detachKernelDriver()');
    return false;
  }

  async attachKernelDriver(_interfaceNumber: number): Promise<void> {
    this.#requireOpen('attachKernelDriver()');
  }

  async clearHalt(endpoint: number): Promise<void> {
    await this.controlOut({ requestType: 0x02, request: 0x01, value: 0, index: endpoint }, new Uint8Array(0));
  }

  #checkStreamEndpoint(endpoint: number, iso: boolean): void {
    checkInEndpoint(endpoint);
    this.#requireOpen(iso ? 'openIsoInStream()' : 'openInStream()');
    const t = this.#endpointTypes.get(endpoint);
    if (!t) throw new TypeError(`endpoint 0x${endpoint.toString(16)} is not in the configuration`);
    if (iso !== (t.type === 1))
      throw new TypeError(`endpoint 0x${endpoint.toString(16)} is ${t.type === 1 ? '' : 'not '}isochronous`);
    if (this.#streams.has(endpoint))
      throw new Error(`a stream is already running on endpoint 0x${endpoint.toString(16)}`);
  }

  openInStream(endpoint: number, options: InStreamOptions): UsbInStream {
    this.#checkStreamEndpoint(endpoint, false);
    const { transferSize, depth } = options;
    if (!Number.isInteger(transferSize) || transferSize < 1 || transferSize > 16 * 1024 * 1024)
      throw new RangeError(`transferSize must be 1..16 MiB, got ${String(transferSize)}`);
    if (!Number.isInteger(depth) || depth < 1 || depth > 256)
      throw new RangeError(`depth must be 1..256, got ${String(depth)}`);
    const buffers = options.buffers ?? Array.from({ length: depth }, () => new Uint8Array(transferSize));
    if (buffers.length !== depth || buffers.some((b) => b.length < transferSize))
      throw new RangeError('buffers must be `depth` views of at least transferSize bytes');
    const core = new InStreamCore(endpoint, buffers, options.onData, this.info.location);
    const inFlight = new Map<number, number>(); // slot → seqnum
    let cancelling = false;
    const maybeFinish = (): void => {
      if (inFlight.size === 0 && (cancelling || !core.running)) {
        this.#streams.delete(endpoint);
        core.finish();
      }
    };
    const cancel = (): void => {
      cancelling = true;
      for (const seq of inFlight.values()) this.#unlink(seq);
      maybeFinish();
    };
    const submit = (slot: number): void => {
      if (cancelling || this.#state !== 'open') return maybeFinish();
      const seq = this.#submit({ direction: 'in', ep: endpoint & 0x0f, length: transferSize }, (o) => {
        inFlight.delete(slot);
        let status: UsbTransferStatus;
        let length = 0;
        if (o.kind === 'ret') {
          status = transferStatusFromErrno(o.ret.status);
          length = o.ret.data.length;
          buffers[slot]!.set(o.ret.data);
        } else status = o.kind === 'unlinked' ? 'cancelled' : 'disconnected';
        const fatal = status === 'stall' || status === 'disconnected';
        const again = core.complete(slot, length, status);
        if (fatal) cancel();
        else if (again && !cancelling) submit(slot);
        maybeFinish();
      });
      inFlight.set(slot, seq);
    };
    core.attach({ resubmit: submit, cancel });
    this.#streams.set(endpoint, core);
    for (let i = 0; i < depth; i++) submit(i);
    return core;
  }

  openIsoInStream(endpoint: number, options: IsoInStreamOptions): UsbIsoInStream {
    this.#checkStreamEndpoint(endpoint, true);
    const { packetsPerTransfer: packets, packetSize, depth } = options;
    if (!Number.isInteger(packets) || packets < 1 || packets > 1024)
      throw new RangeError(`packetsPerTransfer must be 1..1024, got ${String(packets)}`);
    if (!Number.isInteger(packetSize) || packetSize < 1 || packetSize > 3 * 1024 * 16)
      throw new RangeError(`packetSize must be 1..49152, got ${String(packetSize)}`);
    if (!Number.isInteger(depth) || depth < 1 || depth > 256)
      throw new RangeError(`depth must be 1..256, got ${String(depth)}`);
    const size = packets * packetSize;
    const buffers = options.buffers ?? Array.from({ length: depth }, () => new Uint8Array(size));
    if (buffers.length !== depth || buffers.some((b) => b.length < size))
      throw new RangeError('buffers must be `depth` views of at least packetsPerTransfer × packetSize bytes');
    const request: IsoPacketDescriptor[] = Array.from({ length: packets }, (_v, i) => ({
      offset: i * packetSize,
      length: packetSize,
      actualLength: 0,
      status: 0,
    }));
    const views: { -readonly [K in keyof IsoTransferView]: IsoTransferView[K] }[] = buffers.map((b) => ({
      data: b.subarray(0, size),
      packetCount: packets,
      packetSize,
      packetLengths: new Uint32Array(packets),
      packetStatus: new Int32Array(packets),
      status: 'ok' as UsbTransferStatus,
    }));
    const stats = { transfers: 0, packets: 0, bytes: 0, packetErrors: 0 };
    let resolveEnded!: (e: UsbStreamEnd) => void;
    const ended = new Promise<UsbStreamEnd>((r) => (resolveEnded = r));
    let endInfo: UsbStreamEnd | undefined;
    let cancelling = false;
    let finished = false;
    const inFlight = new Map<number, number>();
    const maybeFinish = (): void => {
      if (inFlight.size === 0 && cancelling && !finished) {
        finished = true;
        this.#streams.delete(endpoint);
        resolveEnded(endInfo ?? { reason: 'stopped' });
      }
    };
    const stop = (): Promise<void> => {
      if (!cancelling) {
        cancelling = true;
        for (const seq of inFlight.values()) this.#unlink(seq);
        maybeFinish();
      }
      return ended.then(() => undefined);
    };
    const submit = (slot: number): void => {
      if (cancelling || this.#state !== 'open') {
        cancelling = true;
        return maybeFinish();
      }
      const seq = this.#submit(
        { direction: 'in', ep: endpoint & 0x0f, length: size, iso: request, interval: 1 },
        (o) => {
          inFlight.delete(slot);
          const v = views[slot]!;
          if (o.kind === 'ret' && o.ret.isoPackets) {
            v.status = transferStatusFromErrno(o.ret.status);
            // vhci moves the packed packets back to their offsets; so do we.
            let src = 0;
            o.ret.isoPackets.forEach((p, i) => {
              v.data.set(o.ret.data.subarray(src, src + p.actualLength), i * packetSize);
              src += p.actualLength;
              v.packetLengths[i] = p.actualLength;
              v.packetStatus[i] = p.status;
              if (p.status !== 0) stats.packetErrors++;
            });
            stats.transfers++;
            stats.packets += packets;
            stats.bytes += o.ret.actualLength;
          } else {
            v.status =
              o.kind === 'unlinked'
                ? 'cancelled'
                : o.kind === 'gone'
                  ? 'disconnected'
                  : transferStatusFromErrno(o.ret.status);
            v.packetLengths.fill(0);
          }
          if ((v.status === 'stall' || v.status === 'disconnected') && endInfo === undefined) {
            const error =
              o.kind === 'gone'
                ? o.error
                : new HalError(
                    v.status === 'stall' ? HalErrorCode.Stall : HalErrorCode.Disconnected,
                    `iso stream 0x${endpoint.toString(16)} ended: ${v.status}`,
                    { deviceId: this.info.location },
                  );
            endInfo = { reason: v.status, error };
            cancelling = true;
          }
          if (v.status !== 'cancelled' || !cancelling) {
            try {
              options.onTransfer(v);
            } catch (cause) {
              endInfo ??= {
                reason: 'error',
                error: new HalError(HalErrorCode.Io, 'iso stream consumer threw', {
                  cause,
                  deviceId: this.info.location,
                }),
              };
              void stop();
            }
          }
          if (cancelling) {
            for (const s of inFlight.values()) this.#unlink(s);
            maybeFinish();
          } else submit(slot);
        },
      );
      inFlight.set(slot, seq);
    };
    const stream: UsbIsoInStream = { endpoint, ended, stop, stats };
    this.#streams.set(endpoint, stream);
    for (let i = 0; i < depth; i++) submit(i);
    return stream;
  }

  onDisconnect(listener: (error: Error) => void): () => void {
    if (this.#state === 'open') this.#disconnectListeners.add(listener);
    return () => this.#disconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'open') {
      await Promise.all([...this.#streams.values()].map((s) => s.stop()));
      this.#claimed.clear();
    }
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    // Anything still pending (e.g. a control request) ends now; the server detaches the device.
    const error = new HalError(HalErrorCode.Disconnected, 'USB/IP transport closed', {
      deviceId: this.info.location,
    });
    const urbs = [...this.#urbs.values()];
    this.#urbs.clear();
    for (const u of urbs) u.settle({ kind: 'gone', error });
    this.#disconnectListeners.clear();
    if (wasOpen || !this.#socket.destroyed) {
      await new Promise<void>((resolve) => {
        if (this.#socket.destroyed) return resolve();
        this.#socket.once('close', () => resolve());
        this.#socket.end();
        this.#socket.destroySoon();
      });
    }
  }
}

/**
 * A {@link UsbTransportProvider} over one USB/IP server: lists its exported devices and imports them.
 * No hotplug (USB/IP has no notification); `watch` returns a no-op unsubscribe.
 */
export class UsbIpTransportProvider implements UsbTransportProvider {
  readonly name = 'usbip';
  readonly capabilities = CAPABILITIES;
  readonly #endpoint: UsbIpEndpoint;
  readonly #logger: Logger | undefined;

  constructor(endpoint: UsbIpEndpoint, logger?: Logger) {
    this.#endpoint = endpoint;
    this.#logger = logger;
  }

  async listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
    const devices = await listUsbIpDevices(this.#endpoint);
    return devices.map((d) => usbIpDeviceInfo(d.device)).filter((d) => matchesFilter(d, filter));
  }

  /** Imports the device whose location (busid) was listed. */
  open(device: UsbDeviceInfo): Promise<UsbTransport> {
    return UsbIpClientTransport.connect({
      ...this.#endpoint,
      busid: device.location,
      ...(this.#logger ? { logger: this.#logger } : {}),
    });
  }

  watch(_listener: (event: UsbHotplugEvent) => void): () => void {
    return () => undefined;
  }
}
