// A byte-level USB/IP client for server tests: sends exactly what a test says, including garbage.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import {
  UsbIpReplyDecoder,
  concatParts,
  encodeCmdSubmit,
  encodeCmdUnlink,
  encodeOpReqDevlist,
  encodeOpReqImport,
} from '@ksemu/hal';
import type { CmdSubmitFields, IsoPacketDescriptor, SubmittedUrb, UsbIpReply } from '@ksemu/hal';

/**
 * Connects to a USB/IP server on 127.0.0.1 and decodes its replies. Each reply is delivered in order
 * through `next()`; `closed` resolves when the server closes the connection.
 */
export class RawUsbIpClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  readonly #urbs = new Map<number, SubmittedUrb>();
  readonly #replies: UsbIpReply[] = [];
  #waiter: ((r: UsbIpReply | Error) => void) | undefined;
  #decoder: UsbIpReplyDecoder;
  #error: Error | undefined;
  #seq = 1;

  private constructor(socket: Socket, expect: 'devlist' | 'import') {
    this.socket = socket;
    this.#decoder = new UsbIpReplyDecoder({ expect, lookup: (s) => this.#urbs.get(s) });
    socket.on('data', (c: Buffer) => {
      this.#decoder.push(c);
      try {
        for (let m = this.#decoder.next(); m; m = this.#decoder.next()) this.#deliver(m);
      } catch (e) {
        this.#fail(e as Error);
      }
    });
    socket.on('error', (e) => this.#fail(e));
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.#fail(new Error('connection closed'));
        resolve();
      }),
    );
  }

  /** Opens a connection whose first reply will be OP_REP_DEVLIST or OP_REP_IMPORT. */
  static async connect(port: number, expect: 'devlist' | 'import' = 'import'): Promise<RawUsbIpClient> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawUsbIpClient(socket, expect);
  }

  /** Connects and imports `busid`; throws when refused. */
  static async imported(port: number, busid: string): Promise<RawUsbIpClient> {
    const c = await RawUsbIpClient.connect(port, 'import');
    c.send(encodeOpReqImport(busid));
    const r = await c.next();
    if (r.kind !== 'op-rep-import' || r.status !== 0) throw new Error(`import of ${busid} refused`);
    return c;
  }

  #deliver(m: UsbIpReply): void {
    if (m.kind === 'ret-submit') this.#urbs.delete(m.seqnum);
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w(m);
    } else this.#replies.push(m);
  }

  #fail(e: Error): void {
    this.#error ??= e;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(e);
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  devlist(): void {
    this.send(encodeOpReqDevlist());
  }

  /** The next reply; rejects when the connection closed or broke first. */
  next(): Promise<UsbIpReply> {
    const r = this.#replies.shift();
    if (r) return Promise.resolve(r);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = (x) => (x instanceof Error || !('kind' in x) ? reject(x) : resolve(x));
    });
  }

  /** Replies received and not yet taken by next(). */
  get buffered(): number {
    return this.#replies.length;
  }

  /** Sends a CMD_SUBMIT; returns its seqnum. */
  submit(f: Omit<CmdSubmitFields, 'seqnum' | 'devid' | 'transferFlags' | 'startFrame' | 'interval'>): number {
    const seqnum = this.#seq++;
    const iso: readonly IsoPacketDescriptor[] | undefined = f.isoPackets;
    this.#urbs.set(seqnum, {
      direction: f.direction,
      transferBufferLength: f.transferBufferLength,
      ...(iso ? { isoPackets: iso.length } : {}),
    });
    this.send(
      concatParts(
        encodeCmdSubmit({ seqnum, devid: 0x10002, transferFlags: 0, startFrame: 0, interval: 1, ...f }),
      ),
    );
    return seqnum;
  }

  /** Control transfer; `setup` is [bmRequestType, bRequest, wValue, wIndex, wLength]. */
  control(
    requestType: number,
    request: number,
    value: number,
    index: number,
    length: number,
    data?: Uint8Array,
  ): number {
    const setup = Uint8Array.of(
      requestType,
      request,
      value & 0xff,
      value >> 8,
      index & 0xff,
      index >> 8,
      length & 0xff,
      length >> 8,
    );
    const dirIn = (requestType & 0x80) !== 0;
    return this.submit({
      direction: dirIn ? 'in' : 'out',
      ep: 0,
      transferBufferLength: length,
      setup,
      ...(dirIn ? {} : { data: data ?? new Uint8Array(length) }),
    });
  }

  unlink(victim: number): number {
    const seqnum = this.#seq++;
    this.send(encodeCmdUnlink({ seqnum, devid: 0x10002, direction: 'out', ep: 0, unlinkSeqnum: victim }));
    return seqnum;
  }

  close(): void {
    this.socket.destroy();
  }
}
