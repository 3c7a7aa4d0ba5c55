// One browser tab's WebSocket: frames with one-in-flight back-pressure, JSON messages, request dispatch to the hub.
import type { Frame, Logger } from '@ksemu/ks-core';
import { WebSocket } from 'ws';
import type { CaptureHub, FrameGeometry, FrameOffer, HubClient } from './capture-hub.js';
import { FRAME_HEADER, parseViewRequest, writeFrameHeader } from './view-protocol.js';

const json = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** A frame message being built or sent: header + payload in one reusable buffer. */
interface FrameBuffer {
  bytes: Buffer;
  view: DataView;
  length: number;
}

function emptyFrameBuffer(): FrameBuffer {
  const bytes = Buffer.alloc(0);
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, 0), length: 0 };
}

/** Copies a frame (header + bytes) into `b`, growing it only when the frame is larger (a format change). */
function fill(b: FrameBuffer, frame: Frame, g: FrameGeometry, latencyMs: number, drops: number): void {
  const bytes = frame.bytesUsed;
  const total = FRAME_HEADER.bytes + bytes;
  if (b.bytes.length < total) {
    b.bytes = Buffer.allocUnsafe(total);
    b.view = new DataView(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
  }
  writeFrameHeader(b.view, frame.sequence, g.width, g.height, g.fourcc, bytes, drops, latencyMs);
  b.bytes.set(frame.data.subarray(0, bytes), FRAME_HEADER.bytes);
  b.length = total;
}

/**
 * A page connection. It holds at most `window` frames in flight (default one): a new frame is sent
 * only after the page acknowledged (`{type:'ack'}`) an earlier one. Meanwhile the newest frame waits in a
 * one-frame mailbox (newer frames replace it, counted as skipped) and goes out the moment the ack
 * arrives, so a slow browser sees fewer but fresh frames, never a growing queue, and a fast one
 * does not wait for the next frame period after each ack. Bad messages are answered with
 * `{type:'error'}` and change nothing.
 */
export class ViewerConnection implements HubClient {
  /** Buffers on the wire, oldest first (each reused only after an ack proves it arrived). */
  readonly #inFlight: FrameBuffer[] = [];
  readonly #free: FrameBuffer[] = [];
  /** The newest frame that arrived while the window was full: sent on the next ack, replaced by newer ones. */
  #pending: FrameBuffer = emptyFrameBuffer();
  #hasPending = false;
  /** Frames sent and acknowledged (for tests and stats). */
  sent = 0;
  acked = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly hub: CaptureHub,
    private readonly log: Logger,
    /** Frames the page may have unacknowledged (1: strict one-in-flight). */
    private readonly window = 1,
  ) {
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
  }

  offerFrame(frame: Frame, g: FrameGeometry, latencyMs: number, drops: number): FrameOffer {
    if (this.socket.readyState !== WebSocket.OPEN) return 'skipped';
    if (this.#inFlight.length < this.window) {
      const b = this.#free.pop() ?? emptyFrameBuffer();
      fill(b, frame, g, latencyMs, drops);
      this.#transmit(b);
      return 'sent';
    }
    const replaced = this.#hasPending;
    fill(this.#pending, frame, g, latencyMs, drops);
    this.#hasPending = true;
    return replaced ? 'skipped' : 'pending';
  }

  #transmit(b: FrameBuffer): void {
    this.#inFlight.push(b);
    this.sent++;
    this.socket.send(b.bytes.subarray(0, b.length), { binary: true });
  }

  #onAck(): void {
    // An ack for any frame means every earlier frame arrived too (one ordered stream), so the
    // oldest buffer on the wire is free whichever frame the page finished first.
    const done = this.#inFlight.shift();
    if (done === undefined) return;
    this.acked++;
    if (this.#hasPending && this.socket.readyState === WebSocket.OPEN) {
      const next = this.#pending;
      this.#pending = done;
      this.#hasPending = false;
      this.#transmit(next);
    } else this.#free.push(done);
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
      this.#onAck();
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
