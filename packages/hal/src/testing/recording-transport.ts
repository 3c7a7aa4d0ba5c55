// RecordingTransport: wraps a real UsbTransport and records its session (calls, results, stream data) as a UsbSession.
import { isHalError } from '../hal-error.js';
import type {
  ControlOptions,
  ControlSetup,
  InStreamOptions,
  IsoInStreamOptions,
  UsbInStream,
  UsbIsoInStream,
  UsbStreamEnd,
  UsbTransferStatus,
  UsbTransport,
  UsbTransportState,
} from '../usb/usb-transport.js';
import { toHex } from './usb-session.js';
import type { RecordedError, UsbSession, UsbSessionEvent } from './usb-session.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function errorOf(e: unknown): RecordedError {
  return {
    code: isHalError(e) ? e.code : 'Io',
    message: e instanceof Error ? e.message : String(e),
  };
}

const endName = (e: UsbStreamEnd): 'stopped' | 'stall' | 'disconnected' | 'error' => e.reason;

/**
 * Records everything the code under test does through `inner` (which it borrows; closing the
 * recorder closes it). `session()` returns the JSON-ready session once the streams have ended.
 * Streams are recorded in callback form only (wrap the consumer, copy each transfer); the async
 * iterator form of the inner stream is passed through unrecorded and marked as such.
 */
export class RecordingTransport implements UsbTransport {
  private readonly events: UsbSessionEvent[] = [];
  private configHex = '';

  constructor(private readonly inner: UsbTransport) {}

  get info() {
    return this.inner.info;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  get state(): UsbTransportState {
    return this.inner.state;
  }

  /** The recorded session so far (streams still running are included with the transfers seen). */
  session(): UsbSession {
    return {
      version: 1,
      device: this.inner.info,
      capabilities: this.inner.capabilities,
      deviceDescriptor: toHex(this.inner.deviceDescriptor()),
      configDescriptor: this.configHex,
      events: this.events.slice(),
    };
  }

  deviceDescriptor(): Uint8Array {
    return this.inner.deviceDescriptor();
  }

  async configDescriptor(): Promise<Uint8Array> {
    const c = await this.inner.configDescriptor();
    this.configHex = toHex(c);
    return c;
  }

  private async record1(
    op: 'claimInterface' | 'releaseInterface' | 'attachKernelDriver' | 'clearHalt',
    n: number,
    f: () => Promise<void>,
  ): Promise<void> {
    try {
      await f();
      this.events.push({ op, args: [n] });
    } catch (e) {
      this.events.push({ op, args: [n], error: errorOf(e) });
      throw e;
    }
  }

  claimInterface(n: number): Promise<void> {
    return this.record1('claimInterface', n, () => this.inner.claimInterface(n));
  }
  releaseInterface(n: number): Promise<void> {
    return this.record1('releaseInterface', n, () => this.inner.releaseInterface(n));
  }
  attachKernelDriver(n: number): Promise<void> {
    return this.record1('attachKernelDriver', n, () => this.inner.attachKernelDriver(n));
  }
  clearHalt(endpoint: number): Promise<void> {
    return this.record1('clearHalt', endpoint, () => this.inner.clearHalt(endpoint));
  }

  private async recordBool(
    op: 'isKernelDriverActive' | 'detachKernelDriver',
    n: number,
    f: () => Promise<boolean>,
  ): Promise<boolean> {
    try {
      const result = await f();
      this.events.push({ op, args: [n], result });
      return result;
    } catch (e) {
      this.events.push({ op, args: [n], error: errorOf(e) });
      throw e;
    }
  }
  isKernelDriverActive(n: number): Promise<boolean> {
    return this.recordBool('isKernelDriverActive', n, () => this.inner.isKernelDriverActive(n));
  }
  detachKernelDriver(n: number): Promise<boolean> {
    return this.recordBool('detachKernelDriver', n, () => this.inner.detachKernelDriver(n));
  }

  async setAlternateSetting(n: number, alt: number): Promise<void> {
    try {
      await this.inner.setAlternateSetting(n, alt);
      this.events.push({ op: 'setAlternateSetting', args: [n, alt] });
    } catch (e) {
      this.events.push({ op: 'setAlternateSetting', args: [n, alt], error: errorOf(e) });
      throw e;
    }
  }

  async controlIn(setup: ControlSetup, length: number, options?: ControlOptions): Promise<Uint8Array> {
    const s = {
      requestType: setup.requestType,
      request: setup.request,
      value: setup.value,
      index: setup.index,
    };
    try {
      const data = await this.inner.controlIn(setup, length, options);
      this.events.push({ op: 'controlIn', setup: s, length, data: toHex(data) });
      return data;
    } catch (e) {
      this.events.push({ op: 'controlIn', setup: s, length, error: errorOf(e) });
      throw e;
    }
  }

  async controlOut(setup: ControlSetup, data: Uint8Array, options?: ControlOptions): Promise<number> {
    const s = {
      requestType: setup.requestType,
      request: setup.request,
      value: setup.value,
      index: setup.index,
    };
    const hex = toHex(data);
    try {
      const result = await this.inner.controlOut(setup, data, options);
      this.events.push({ op: 'controlOut', setup: s, data: hex, result });
      return result;
    } catch (e) {
      this.events.push({ op: 'controlOut', setup: s, data: hex, error: errorOf(e) });
      throw e;
    }
  }

  openInStream(endpoint: number, options: InStreamOptions): UsbInStream {
    const rec: Mutable<Extract<UsbSessionEvent, { op: 'inStream' }>> = {
      op: 'inStream',
      endpoint,
      transferSize: options.transferSize,
      transfers: [],
      end: 'stopped',
    };
    const transfers = rec.transfers as {
      data: string;
      status: UsbTransferStatus;
    }[];
    const onData = options.onData;
    const stream = this.inner.openInStream(
      endpoint,
      onData === undefined
        ? options
        : {
            ...options,
            onData: (view, status) => {
              transfers.push({ data: toHex(view), status });
              onData(view, status);
            },
          },
    );
    this.events.push(rec);
    void stream.ended.then((e) => (rec.end = endName(e)));
    return stream;
  }

  openIsoInStream(endpoint: number, options: IsoInStreamOptions): UsbIsoInStream {
    const rec: Mutable<Extract<UsbSessionEvent, { op: 'isoStream' }>> = {
      op: 'isoStream',
      endpoint,
      packetsPerTransfer: options.packetsPerTransfer,
      packetSize: options.packetSize,
      transfers: [],
      end: 'stopped',
    };
    const transfers = rec.transfers as Mutable<(typeof rec.transfers)[number]>[];
    const stream = this.inner.openIsoInStream(endpoint, {
      ...options,
      onTransfer: (t) => {
        const packets: { data: string; status: number }[] = [];
        for (let i = 0; i < t.packetCount; i++) {
          const off = i * t.packetSize;
          packets.push({
            data: toHex(t.data.subarray(off, off + (t.packetLengths[i] ?? 0))),
            status: t.packetStatus[i] ?? 0,
          });
        }
        transfers.push({ status: t.status, packets });
        options.onTransfer(t);
      },
    });
    this.events.push(rec);
    void stream.ended.then((e) => (rec.end = endName(e)));
    return stream;
  }

  onDisconnect(listener: (error: Error) => void): () => void {
    return this.inner.onDisconnect(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
