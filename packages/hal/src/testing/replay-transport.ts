// ReplayTransport: a UsbTransport that replays a recorded UsbSession; any call the session did not record fails typed.
import { HalError, HalErrorCode } from '../hal-error.js';
import type { HalErrorCode as HalErrorCodeType } from '../hal-error.js';
import { InStreamCore } from '../usb/in-stream.js';
import { checkInEndpoint, checkSetup, matchesFilter } from '../usb/usb-transport.js';
import type {
  ControlSetup,
  InStreamOptions,
  IsoInStreamOptions,
  IsoTransferView,
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
} from '../usb/usb-transport.js';
import { fromHex, toHex } from './usb-session.js';
import type { RecordedError, UsbSession, UsbSessionEvent } from './usb-session.js';

const CODES = new Set<string>(Object.values(HalErrorCode));

function recordedError(e: RecordedError, deviceId: string): HalError {
  const code = (CODES.has(e.code) ? e.code : HalErrorCode.Io) as HalErrorCodeType;
  return new HalError(code, e.message, { deviceId });
}

const sameSetup = (a: ControlSetup, b: ControlSetup): boolean =>
  a.requestType === b.requestType && a.request === b.request && a.value === b.value && a.index === b.index;

const describeSetup = (s: ControlSetup): string =>
  `{requestType 0x${s.requestType.toString(16)}, request 0x${s.request.toString(16)}, value 0x${s.value.toString(16)}, index 0x${s.index.toString(16)}}`;

/**
 * Replays a session. Calls are matched in order on two channels: the non-streaming calls (control,
 * claim, alt…) in recorded order, and each endpoint's streams in recorded order. A call that does not
 * match the next recorded one of its channel rejects (or throws, for the synchronous stream openers)
 * `HalError` code `Protocol` naming the call and what was recorded next — so a test fails loudly
 * when the code under test changes its USB traffic. Streams deliver the recorded transfers
 * asynchronously (one per macrotask), honouring the consumer's back-pressure.
 */
export class ReplayTransport implements UsbTransport {
  readonly info: UsbDeviceInfo;
  readonly capabilities;
  private currentState: UsbTransportState = 'open';
  private readonly calls: UsbSessionEvent[];
  private readonly streamsByEp = new Map<number, UsbSessionEvent[]>();
  private readonly running = new Set<{ stop(): Promise<void> }>();
  private readonly disconnectListeners = new Set<(e: Error) => void>();
  private readonly id: string;

  constructor(private readonly session: UsbSession) {
    if (session.version !== 1) throw new TypeError(`unsupported session version ${String(session.version)}`);
    this.info = session.device;
    this.capabilities = session.capabilities;
    this.id = `replay:${session.device.location}`;
    this.calls = session.events.filter((e) => e.op !== 'inStream' && e.op !== 'isoStream');
    for (const e of session.events) {
      if (e.op === 'inStream' || e.op === 'isoStream') {
        const q = this.streamsByEp.get(e.endpoint) ?? [];
        q.push(e);
        this.streamsByEp.set(e.endpoint, q);
      }
    }
  }

  get state(): UsbTransportState {
    return this.currentState;
  }

  /** Recorded calls not yet made (a test can assert the code under test did everything it used to). */
  get remaining(): number {
    let n = this.calls.length;
    for (const q of this.streamsByEp.values()) n += q.length;
    return n;
  }

  private ensureOpen(op: string): void {
    if (this.currentState === 'disconnected') {
      throw new HalError(HalErrorCode.Disconnected, `${op}: device ${this.id} is disconnected`, {
        deviceId: this.id,
      });
    }
    if (this.currentState !== 'open') throw HalError.invalidState(op, this.currentState, 'open', this.id);
  }

  private unrecorded(call: string, next: UsbSessionEvent | undefined): HalError {
    const what = next === undefined ? 'nothing' : JSON.stringify(next).slice(0, 200);
    return new HalError(HalErrorCode.Protocol, `unrecorded call ${call}; next recorded: ${what}`, {
      deviceId: this.id,
    });
  }

  /** Takes the next non-stream event if `match` accepts it; else throws Protocol. */
  private take<E extends UsbSessionEvent>(call: string, match: (e: UsbSessionEvent) => e is E): E {
    this.ensureOpen(call);
    const next = this.calls[0];
    if (next === undefined || !match(next)) throw this.unrecorded(call, next);
    this.calls.shift();
    return next;
  }

  private simple(
    op: 'claimInterface' | 'releaseInterface' | 'attachKernelDriver' | 'clearHalt',
    n: number,
  ): Promise<void> {
    try {
      const e = this.take(
        `${op}(${n})`,
        (x): x is Extract<UsbSessionEvent, { op: typeof op }> => x.op === op && x.args[0] === n,
      );
      return e.error !== undefined ? Promise.reject(recordedError(e.error, this.id)) : Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  deviceDescriptor(): Uint8Array {
    return fromHex(this.session.deviceDescriptor);
  }

  configDescriptor(): Promise<Uint8Array> {
    try {
      this.ensureOpen('configDescriptor()');
      return Promise.resolve(fromHex(this.session.configDescriptor));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  claimInterface(n: number): Promise<void> {
    return this.simple('claimInterface', n);
  }
  releaseInterface(n: number): Promise<void> {
    return this.simple('releaseInterface', n);
  }
  attachKernelDriver(n: number): Promise<void> {
    return this.simple('attachKernelDriver', n);
  }
  clearHalt(endpoint: number): Promise<void> {
    return this.simple('clearHalt', endpoint);
  }

  private boolCall(op: 'isKernelDriverActive' | 'detachKernelDriver', n: number): Promise<boolean> {
    try {
      const e = this.take(
        `${op}(${n})`,
        (x): x is Extract<UsbSessionEvent, { op: typeof op }> => x.op === op && x.args[0] === n,
      );
      return e.error !== undefined
        ? Promise.reject(recordedError(e.error, this.id))
        : Promise.resolve(e.result ?? false);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  isKernelDriverActive(n: number): Promise<boolean> {
    return this.boolCall('isKernelDriverActive', n);
  }
  detachKernelDriver(n: number): Promise<boolean> {
    return this.boolCall('detachKernelDriver', n);
  }

  setAlternateSetting(n: number, alt: number): Promise<void> {
    try {
      const e = this.take(
        `setAlternateSetting(${n}, ${alt})`,
        (x): x is Extract<UsbSessionEvent, { op: 'setAlternateSetting' }> =>
          x.op === 'setAlternateSetting' && x.args[0] === n && x.args[1] === alt,
      );
      return e.error !== undefined ? Promise.reject(recordedError(e.error, this.id)) : Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  controlIn(setup: ControlSetup, length: number): Promise<Uint8Array> {
    checkSetup(setup, true, length);
    try {
      const e = this.take(
        `controlIn(${describeSetup(setup)}, ${length})`,
        (x): x is Extract<UsbSessionEvent, { op: 'controlIn' }> =>
          x.op === 'controlIn' && sameSetup(x.setup, setup) && x.length === length,
      );
      if (e.error !== undefined) return Promise.reject(recordedError(e.error, this.id));
      return Promise.resolve(fromHex(e.data ?? ''));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  controlOut(setup: ControlSetup, data: Uint8Array): Promise<number> {
    checkSetup(setup, false, data.length);
    try {
      const hex = toHex(data);
      const e = this.take(
        `controlOut(${describeSetup(setup)}, ${hex.slice(0, 80)})`,
        (x): x is Extract<UsbSessionEvent, { op: 'controlOut' }> =>
          x.op === 'controlOut' && sameSetup(x.setup, setup) && x.data === hex,
      );
      if (e.error !== undefined) return Promise.reject(recordedError(e.error, this.id));
      return Promise.resolve(e.result ?? data.length);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private takeStream(endpoint: number, op: 'inStream' | 'isoStream', call: string): UsbSessionEvent {
    this.ensureOpen(call);
    const q = this.streamsByEp.get(endpoint);
    const next = q?.[0];
    if (next === undefined || next.op !== op) throw this.unrecorded(call, next);
    q?.shift();
    return next;
  }

  private endOf(end: 'stopped' | 'stall' | 'disconnected' | 'error', endpoint: number): UsbStreamEnd {
    if (end === 'stopped') return { reason: 'stopped' };
    const code =
      end === 'stall'
        ? HalErrorCode.Stall
        : end === 'disconnected'
          ? HalErrorCode.Disconnected
          : HalErrorCode.Io;
    return {
      reason: end,
      error: new HalError(code, `replayed stream 0x${endpoint.toString(16)} ended: ${end}`, {
        deviceId: this.id,
      }),
    };
  }

  private disconnect(): void {
    if (this.currentState !== 'open') return;
    this.currentState = 'disconnected';
    const err = new HalError(HalErrorCode.Disconnected, `device ${this.id} disconnected (replayed)`, {
      deviceId: this.id,
    });
    for (const l of this.disconnectListeners) {
      try {
        l(err);
      } catch {
        // listeners cannot stop the replay
      }
    }
  }

  openInStream(endpoint: number, options: InStreamOptions): UsbInStream {
    checkInEndpoint(endpoint);
    const call = `openInStream(0x${endpoint.toString(16)}, transferSize ${options.transferSize})`;
    const rec = this.takeStream(endpoint, 'inStream', call);
    if (rec.op !== 'inStream') throw this.unrecorded(call, rec);
    if (rec.transferSize !== options.transferSize) throw this.unrecorded(call, rec);
    const depth = options.depth;
    const buffers =
      options.buffers ?? Array.from({ length: depth }, () => new Uint8Array(options.transferSize));
    const core = new InStreamCore(endpoint, buffers, options.onData, this.id);
    const free: number[] = buffers.map((_, i) => i);
    let next = 0;
    let stopped = false;
    let timer: NodeJS.Immediate | undefined;
    const finishEnd = (): void => {
      this.running.delete(core);
      if (rec.end === 'disconnected') this.disconnect();
      core.finish(stopped ? { reason: 'stopped' } : this.endOf(rec.end, endpoint));
    };
    const pump = (): void => {
      timer = undefined;
      if (stopped) return;
      const slot = free.shift();
      const t = rec.transfers[next];
      if (t === undefined) {
        // recorded end: a device-side end finishes now; 'stopped' idles (the device NAKs) until stop()
        if (rec.end !== 'stopped') {
          stopped = false;
          if (slot !== undefined) free.unshift(slot);
          finishEnd();
        } else if (slot !== undefined) free.unshift(slot);
        return;
      }
      if (slot === undefined) return; // consumer holds every buffer: resumes on resubmit
      next++;
      const buf = buffers[slot] ?? new Uint8Array(0);
      const data = fromHex(t.data);
      const n = Math.min(data.length, buf.length);
      buf.set(data.subarray(0, n), 0);
      const st: UsbTransferStatus = data.length > buf.length ? 'overflow' : t.status;
      if (core.complete(slot, n, st)) free.push(slot);
      if (core.running) schedule();
    };
    const schedule = (): void => {
      if (timer === undefined && !stopped) timer = setImmediate(pump);
    };
    core.attach({
      resubmit: (slot) => {
        free.push(slot);
        schedule();
      },
      cancel: () => {
        stopped = true;
        if (timer !== undefined) clearImmediate(timer);
        timer = undefined;
        setImmediate(finishEnd);
      },
    });
    this.running.add(core);
    schedule();
    return core;
  }

  openIsoInStream(endpoint: number, options: IsoInStreamOptions): UsbIsoInStream {
    checkInEndpoint(endpoint);
    if (!this.capabilities.isochronous) {
      throw new HalError(
        HalErrorCode.Unsupported,
        'isochronous transfers are not supported by this (replayed) backend',
        {
          deviceId: this.id,
        },
      );
    }
    const call = `openIsoInStream(0x${endpoint.toString(16)}, ${options.packetsPerTransfer}×${options.packetSize})`;
    const rec = this.takeStream(endpoint, 'isoStream', call);
    if (
      rec.op !== 'isoStream' ||
      rec.packetsPerTransfer !== options.packetsPerTransfer ||
      rec.packetSize !== options.packetSize
    ) {
      throw this.unrecorded(call, rec);
    }
    const size = options.packetsPerTransfer * options.packetSize;
    const view: { -readonly [K in keyof IsoTransferView]: IsoTransferView[K] } = {
      data: (options.buffers?.[0] ?? new Uint8Array(size)).subarray(0, size),
      packetCount: options.packetsPerTransfer,
      packetSize: options.packetSize,
      packetLengths: new Uint32Array(options.packetsPerTransfer),
      packetStatus: new Int32Array(options.packetsPerTransfer),
      status: 'ok',
    };
    const stats = { transfers: 0, packets: 0, bytes: 0, packetErrors: 0 };
    let resolveEnded!: (e: UsbStreamEnd) => void;
    const ended = new Promise<UsbStreamEnd>((r) => (resolveEnded = r));
    let next = 0;
    let stopped = false;
    let done = false;
    let timer: NodeJS.Immediate | undefined;
    const finish = (end: UsbStreamEnd): void => {
      if (done) return;
      done = true;
      this.running.delete(stream);
      if (end.reason === 'disconnected') this.disconnect();
      resolveEnded(end);
    };
    const pump = (): void => {
      timer = undefined;
      if (stopped) return;
      const t = rec.transfers[next++];
      if (t === undefined) {
        if (rec.end !== 'stopped') finish(this.endOf(rec.end, endpoint));
        return;
      }
      view.data.fill(0);
      for (let i = 0; i < view.packetCount; i++) {
        const p = t.packets[i];
        const d = p !== undefined ? fromHex(p.data) : new Uint8Array(0);
        const n = Math.min(d.length, options.packetSize);
        view.data.set(d.subarray(0, n), i * options.packetSize);
        view.packetLengths[i] = n;
        view.packetStatus[i] = p?.status ?? 0;
        stats.bytes += n;
        if ((p?.status ?? 0) !== 0) stats.packetErrors++;
      }
      view.status = t.status;
      stats.transfers++;
      stats.packets += view.packetCount;
      try {
        options.onTransfer(view);
      } catch (cause) {
        stopped = true;
        finish({
          reason: 'error',
          error: new HalError(HalErrorCode.Io, 'iso stream consumer threw', { cause, deviceId: this.id }),
        });
        return;
      }
      timer = setImmediate(pump);
    };
    const stream: UsbIsoInStream = {
      endpoint,
      ended,
      stats,
      stop: () => {
        if (!stopped) {
          stopped = true;
          if (timer !== undefined) clearImmediate(timer);
          setImmediate(() => finish({ reason: 'stopped' }));
        }
        return ended.then(() => undefined);
      },
    };
    this.running.add(stream);
    timer = setImmediate(pump);
    return stream;
  }

  onDisconnect(listener: (error: Error) => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    await Promise.all([...this.running].map((s) => s.stop()));
    this.currentState = 'closed';
  }
}

/** A provider over recorded sessions (one device each); `watch` never fires. */
export class ReplayTransportProvider implements UsbTransportProvider {
  readonly name = 'replay';
  readonly capabilities;

  constructor(private readonly sessions: readonly UsbSession[]) {
    this.capabilities = sessions[0]?.capabilities ?? {
      bulk: true,
      interrupt: true,
      isochronous: true,
      kernelDriver: true,
      hotplug: false,
    };
  }

  listDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
    return Promise.resolve(this.sessions.map((s) => s.device).filter((d) => matchesFilter(d, filter)));
  }

  open(device: UsbDeviceInfo): Promise<UsbTransport> {
    const s = this.sessions.find((x) => x.device.location === device.location);
    if (s === undefined) {
      return Promise.reject(
        new HalError(HalErrorCode.NotFound, `no recorded session for ${device.location}`),
      );
    }
    return Promise.resolve(new ReplayTransport(s));
  }

  watch(_listener: (event: UsbHotplugEvent) => void): () => void {
    return () => undefined;
  }
}
