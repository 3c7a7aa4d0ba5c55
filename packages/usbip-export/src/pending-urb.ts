// One submitted URB on the server side: its life cycle (pending → completed | cancelled) and its RET_SUBMIT.

import { encodeRetSubmit } from '@ksemu/hal';
import type { CmdSubmit, IsoPacketDescriptor } from '@ksemu/hal';
import type { EndpointType, UrbCancelReason, UrbCompletion, UsbIpUrb } from './usbip-device.js';

/** Writes encoded reply parts to the client; `onSent` runs once they reached the OS or failed. */
export type ReplyWriter = (parts: readonly Uint8Array[], onSent?: (error?: Error) => void) => void;

/**
 * The server's record of a CMD_SUBMIT. Completion sends exactly one RET_SUBMIT; cancellation (unlink,
 * detach) guarantees none is ever sent afterwards.
 */
export class PendingUrb implements UsbIpUrb {
  readonly seqnum: number;
  readonly endpoint: number;
  readonly type: EndpointType;
  readonly transferBufferLength: number;
  readonly transferFlags: number;
  readonly interval: number;
  readonly data: Uint8Array;
  readonly isoPackets?: readonly IsoPacketDescriptor[];
  #state: 'pending' | 'completed' | 'cancelled' = 'pending';
  readonly #listeners: ((reason: UrbCancelReason) => void)[] = [];
  readonly #write: ReplyWriter;
  readonly #done: (urb: PendingUrb) => void;
  readonly #onListenerError: (error: unknown) => void;

  constructor(
    cmd: CmdSubmit,
    type: EndpointType,
    write: ReplyWriter,
    done: (urb: PendingUrb) => void,
    onListenerError: (error: unknown) => void,
  ) {
    this.seqnum = cmd.seqnum;
    this.endpoint = cmd.ep | (cmd.direction === 'in' ? 0x80 : 0);
    this.type = type;
    this.transferBufferLength = cmd.transferBufferLength;
    this.transferFlags = cmd.transferFlags;
    this.interval = cmd.interval;
    this.data = cmd.data;
    if (cmd.isoPackets) this.isoPackets = cmd.isoPackets;
    this.#write = write;
    this.#done = done;
    this.#onListenerError = onListenerError;
  }

  get state(): 'pending' | 'completed' | 'cancelled' {
    return this.#state;
  }

  get isIn(): boolean {
    return (this.endpoint & 0x80) !== 0;
  }

  complete(result: UrbCompletion): boolean {
    if (this.#state !== 'pending') return false;
    const data = this.isIn ? (result.data ?? []) : [];
    let total = 0;
    for (const d of data) total += d.length;
    if (total > this.transferBufferLength)
      throw new RangeError(
        `URB ${this.seqnum}: ${total} bytes for a ${this.transferBufferLength}-byte buffer`,
      );
    let actualLength = total;
    if (!this.isIn) {
      actualLength = result.actualLength ?? this.transferBufferLength;
      if (actualLength > this.transferBufferLength)
        throw new RangeError(`URB ${this.seqnum}: actualLength too large`);
    }
    const iso = this.isoPackets
      ? (result.isoPackets ?? this.isoPackets.map((p) => ({ ...p, actualLength: 0 })))
      : undefined;
    if (iso && this.isoPackets && iso.length !== this.isoPackets.length)
      throw new RangeError(
        `URB ${this.seqnum}: ${iso.length} iso results for ${this.isoPackets.length} packets`,
      );
    // Encode before changing state so a RangeError leaves the URB pending for a correct retry.
    const parts = encodeRetSubmit({
      seqnum: this.seqnum,
      status: result.status ?? 0,
      data,
      actualLength: iso && !this.isIn ? iso.reduce((s, p) => s + p.actualLength, 0) : actualLength,
      ...(iso ? { isoPackets: iso } : {}),
    });
    this.#state = 'completed';
    this.#done(this);
    this.#write(parts, result.onSent);
    return true;
  }

  onCancel(listener: (reason: UrbCancelReason) => void): void {
    if (this.#state === 'pending') this.#listeners.push(listener);
  }

  /** Marks the URB cancelled and runs the cancel listeners (their errors are reported, not thrown). */
  cancel(reason: UrbCancelReason): boolean {
    if (this.#state !== 'pending') return false;
    this.#state = 'cancelled';
    this.#done(this);
    for (const l of this.#listeners.splice(0)) {
      try {
        l(reason);
      } catch (e) {
        this.#onListenerError(e);
      }
    }
    return true;
  }
}
