// Isochronous IN endpoint behaviour: paced completions, one payload per packet, packed replies.

import type { IsoPacketDescriptor } from '@ksemu/hal';
import type { UsbIpUrb } from './usbip-device.js';

/** One iso packet's content: borrowed byte views (≤ the packet length in total) and a release hook. */
export interface IsoPacketContent {
  readonly parts: readonly Uint8Array[];
  /** Runs once the packet went to the OS, or with an error when it never will. */
  readonly done?: (error?: Error) => void;
}

/** Timer functions, injectable so tests control time. `now()` in milliseconds. */
export interface PipeScheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: PipeScheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface IsoInPipeOptions {
  /**
   * Supplies the next packet (at most `maxLength` bytes), or undefined for an empty packet.
   * Called when a URB is due, not when it is submitted, so the data is as fresh as on a real bus.
   */
  readonly nextPacket: (maxLength: number) => IsoPacketContent | undefined;
  /** Service interval in microseconds (125 high speed, 1000 full speed). */
  readonly intervalUs: number;
  readonly scheduler?: PipeScheduler;
}

/**
 * Completes iso IN URBs in real time: a URB of N packets completes N intervals after the previous
 * one (or after its submission if the bus was idle), because an unpaced device makes the host spin.
 * Replies pack the packets' bytes without gaps; their descriptors keep the requested offsets.
 */
export class IsoInPipe {
  readonly #options: IsoInPipeOptions;
  readonly #scheduler: PipeScheduler;
  readonly #timers = new Map<UsbIpUrb, unknown>();
  #busyUntil = 0;

  constructor(options: IsoInPipeOptions) {
    if (!(options.intervalUs > 0)) throw new RangeError('intervalUs must be > 0');
    this.#options = options;
    this.#scheduler = options.scheduler ?? realScheduler;
  }

  /** URBs scheduled and not yet completed. */
  get scheduledUrbs(): number {
    return this.#timers.size;
  }

  /** Takes an iso IN URB and schedules its completion. */
  submit(urb: UsbIpUrb): void {
    const packets = urb.isoPackets ?? [];
    const now = this.#scheduler.now();
    this.#busyUntil = Math.max(this.#busyUntil, now) + (packets.length * this.#options.intervalUs) / 1000;
    const t = this.#scheduler.setTimeout(() => this.#fire(urb), this.#busyUntil - now);
    this.#timers.set(urb, t);
    urb.onCancel(() => {
      const h = this.#timers.get(urb);
      this.#timers.delete(urb);
      if (h !== undefined) this.#scheduler.clearTimeout(h);
    });
  }

  #fire(urb: UsbIpUrb): void {
    this.#timers.delete(urb);
    if (urb.state !== 'pending') return;
    const requested = urb.isoPackets ?? [];
    const data: Uint8Array[] = [];
    const results: IsoPacketDescriptor[] = [];
    const dones: ((error?: Error) => void)[] = [];
    for (const p of requested) {
      const c = this.#options.nextPacket(p.length);
      let n = 0;
      if (c) {
        for (const part of c.parts) {
          n += part.length;
          if (part.length) data.push(part);
        }
        if (c.done) dones.push(c.done);
      }
      if (n > p.length) throw new RangeError(`iso packet of ${n} bytes for a ${p.length}-byte slot`);
      results.push({ offset: p.offset, length: p.length, actualLength: n, status: 0 });
    }
    const onSent =
      dones.length === 0
        ? undefined
        : (error?: Error): void => {
            for (const d of dones) d(error);
          };
    urb.complete(onSent ? { data, isoPackets: results, onSent } : { data, isoPackets: results });
  }
}
