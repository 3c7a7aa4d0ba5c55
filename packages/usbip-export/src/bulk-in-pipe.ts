// Bulk IN endpoint behaviour: hold URBs while idle, split payloads across URBs, zero-length packets at boundaries.

import type { UsbIpUrb } from './usbip-device.js';

/** Called once a payload's last byte went to the OS, or with an error when it never will (dropped, detached). */
export type PayloadDone = (error?: Error) => void;

interface QueuedPayload {
  readonly parts: readonly Uint8Array[];
  readonly length: number;
  /** Bytes already handed to URBs. */
  sent: number;
  /** Index and offset in `parts` of the next byte. */
  part: number;
  partOffset: number;
  /** URB replies carrying bytes of this payload that are not yet in the OS. */
  inFlight: number;
  /** All bytes were handed to URBs, or the payload was dropped. */
  settled: boolean;
  error: Error | undefined;
  readonly done: PayloadDone | undefined;
}

/** Runs `done` once nothing references the payload's bytes any more (all sent, or dropped and drained). */
function maybeDone(p: QueuedPayload): void {
  if (p.settled && p.inFlight === 0 && p.done) {
    const d = p.done;
    (p as { done: PayloadDone | undefined }).done = undefined;
    d(p.error);
  }
}

export interface BulkInPipeOptions {
  /**
   * The largest payload the host expects (UVC: dwMaxPayloadTransferSize). A payload shorter than this
   * that ends exactly at the end of a URB is followed by a zero-length URB, because hosts find the end
   * of a payload by a short transfer. Default: Infinity (a ZLP after every exactly-filled payload).
   */
  readonly maxPayload?: number;
}

/**
 * Feeds payloads (lists of borrowed byte views, never copied) into bulk IN URBs in order.
 * URBs with nothing to send wait (a NAK), they are never completed empty except as a deliberate ZLP.
 * A payload is split across as many URBs as needed; one URB never carries bytes of two payloads.
 */
export class BulkInPipe {
  readonly #urbs: UsbIpUrb[] = [];
  readonly #payloads: QueuedPayload[] = [];
  readonly #maxPayload: number;
  #zlpDue = false;

  constructor(options: BulkInPipeOptions = {}) {
    this.#maxPayload = options.maxPayload ?? Infinity;
  }

  /** URBs waiting for data. */
  get waitingUrbs(): number {
    return this.#urbs.length;
  }

  /** Payloads not yet fully handed to URBs. */
  get queuedPayloads(): number {
    return this.#payloads.length;
  }

  /** Takes a bulk IN URB; it completes when data exists. A cancelled URB is forgotten. */
  submit(urb: UsbIpUrb): void {
    this.#urbs.push(urb);
    urb.onCancel(() => {
      const i = this.#urbs.indexOf(urb);
      if (i >= 0) this.#urbs.splice(i, 1);
    });
    this.#pump();
  }

  /**
   * Queues one payload. `parts` are borrowed until `done` runs (then they reached the OS, or the
   * payload was dropped: `done(error)`).
   */
  enqueue(parts: readonly Uint8Array[], done?: PayloadDone): void {
    let length = 0;
    for (const p of parts) length += p.length;
    this.#payloads.push({
      parts,
      length,
      sent: 0,
      part: 0,
      partOffset: 0,
      inFlight: 0,
      settled: false,
      error: undefined,
      done,
    });
    this.#pump();
  }

  /**
   * Drops every queued payload; waiting URBs stay (the host still owns them). Each dropped payload's
   * `done` gets an error, once the replies already carrying some of its bytes have left.
   */
  flush(reason = 'stream stopped'): void {
    this.#zlpDue = false;
    for (const p of this.#payloads.splice(0)) {
      p.settled = true;
      p.error = new Error(reason);
      maybeDone(p);
    }
  }

  #pump(): void {
    while (this.#urbs.length > 0 && (this.#zlpDue || this.#payloads.length > 0)) {
      const urb = this.#urbs.shift()!;
      if (urb.state !== 'pending') continue;
      if (this.#zlpDue) {
        this.#zlpDue = false;
        urb.complete({ data: [] });
        continue;
      }
      const p = this.#payloads[0]!;
      const n = Math.min(urb.transferBufferLength, p.length - p.sent);
      const pieces: Uint8Array[] = [];
      let left = n;
      while (left > 0) {
        const part = p.parts[p.part]!;
        const take = Math.min(left, part.length - p.partOffset);
        pieces.push(take === part.length ? part : part.subarray(p.partOffset, p.partOffset + take));
        left -= take;
        p.partOffset += take;
        if (p.partOffset === part.length) {
          p.part++;
          p.partOffset = 0;
        }
      }
      p.sent += n;
      if (p.sent === p.length) {
        this.#payloads.shift();
        p.settled = true;
        if (n === urb.transferBufferLength && p.length < this.#maxPayload && n > 0) this.#zlpDue = true;
      }
      if (!p.done) {
        urb.complete({ data: pieces });
        continue;
      }
      p.inFlight++;
      urb.complete({
        data: pieces,
        onSent: (e) => {
          p.inFlight--;
          p.error ??= e;
          maybeDone(p);
        },
      });
    }
  }
}
