// One browser tab's WebSocket: frames with one-in-flight back-pressure, JSON messages, request dispatch to the hub.
import type { Frame, Logger } from '@ksemu/ks-core';
import { WebSocket } from 'ws';
import type { CaptureHub, FrameGeometry, HubClient } from './capture-hub.js';
import { FRAME_HEADER, parseViewRequest, writeFrameHeader } from './view-protocol.js';

const json = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/**
 * A page connection. It holds at most one frame in flight: a new frame is sent only after the
 * page acknowledged (`{type:'ack'}`) the previous one, so the frame buffer can be reused and a
 * slow browser sees fewer frames instead of a growing queue. Bad messages are answered with
 * `{type:'error'}` and change nothing.
 */
export class ViewerConnection implements HubClient {
  #inFlight = false;
  #buffer: Buffer = Buffer.alloc(0);
  #view: DataView = new DataView(new ArrayBuffer(FRAME_HEADER.bytes));
  /** Frames sent and acknowledged (for tests and stats). */
  sent = 0;
  acked = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly hub: CaptureHub,
    private readonly log: Logger,
  ) {
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
  }

  get readyForFrame(): boolean {
    return !this.#inFlight && this.socket.readyState === WebSocket.OPEN;
  }

  sendFrame(frame: Frame, g: FrameGeometry, latencyMs: number, drops: number): void {
    const bytes = frame.bytesUsed;
    const total = FRAME_HEADER.bytes + bytes;
    if (this.#buffer.length < total) {
      // Grows only on a format change: the buffer is reused for every later frame.
      this.#buffer = Buffer.allocUnsafe(total);
      this.#view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.byteLength);
    }
    writeFrameHeader(this.#view, frame.sequence, g.width, g.height, g.fourcc, bytes, drops, latencyMs);
    this.#buffer.set(frame.data.subarray(0, bytes), FRAME_HEADER.bytes);
    this.#inFlight = true;
    this.sent++;
    this.socket.send(this.#buffer.subarray(0, total), { binary: true });
  }

  send(message: object): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(json(message));
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.send({ type: 'error', error: 'malformed message: binary messages are not requests' });
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    const parsed = parseViewRequest(text);
    if (!parsed.ok) {
      this.send({
        type: 'error',
        error: parsed.error,
        ...(parsed.id !== undefined ? { id: parsed.id } : {}),
      });
      return;
    }
    const r = parsed.request;
    if (r.type === 'ack') {
      if (this.#inFlight) this.acked++;
      this.#inFlight = false;
      return;
    }
    const id = r.id !== undefined ? { id: r.id } : {};
    let pending: Promise<void>;
    try {
      pending = this.hub.handle(r);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      () => this.send({ type: 'ok', request: r.type, ...id }),
      (err: unknown) => {
        this.log.debug({ err, request: r.type }, 'request refused');
        this.send({ type: 'error', request: r.type, error: (err as Error).message ?? String(err), ...id });
      },
    );
  }
}
