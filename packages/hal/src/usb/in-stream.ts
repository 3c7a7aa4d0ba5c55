// Backend-neutral IN stream core: slot bookkeeping, callback or async-iterator delivery, stop/ended, stats.
import { HalError, HalErrorCode } from '../hal-error.js';
import type { UsbInStream, UsbStreamEnd, UsbTransferResult, UsbTransferStatus } from './usb-transport.js';

/**
 * What a backend provides to an {@link InStreamCore}: slot buffers it submits, and the means to
 * resubmit one slot and to cancel everything. The backend calls `core.complete()` for each reaped
 * transfer and `core.finish()` once nothing is in flight after a stop (or after a fatal status).
 */
export interface TransferEngine {
  /** Give a slot's buffer back to the device (after the consumer released it). */
  resubmit(slot: number): void;
  /** Cancel every transfer in flight; `finish()` follows when all are back. */
  cancel(): void;
}

/**
 * Shared implementation of {@link UsbInStream}. In callback form the slot is resubmitted as soon as
 * the callback returns; in iterator form it is held until the consumer pulls the next result
 * (back-pressure: the device NAKs instead of us buffering). Allocation-free per transfer in
 * callback form.
 */
export class InStreamCore implements UsbInStream {
  readonly endpoint: number;
  readonly ended: Promise<UsbStreamEnd>;
  readonly stats = { transfers: 0, bytes: 0, errors: 0 };
  private engine: TransferEngine | undefined;
  private readonly buffers: readonly Uint8Array[];
  private readonly views: (Uint8Array | undefined)[] = [];
  private readonly onData: ((view: Uint8Array, status: UsbTransferStatus) => void) | undefined;
  private resolveEnded!: (end: UsbStreamEnd) => void;
  private state: 'running' | 'stopping' | 'ended' = 'running';
  private endInfo: UsbStreamEnd | undefined;
  // iterator form: completed slots waiting for the consumer, and the slot it currently holds
  private readonly ready: { slot: number; length: number; status: UsbTransferStatus }[] = [];
  private held = -1;
  private waiter: ((r: IteratorResult<UsbTransferResult>) => void) | undefined;
  private iterating = false;

  constructor(
    endpoint: number,
    buffers: readonly Uint8Array[],
    onData: ((view: Uint8Array, status: UsbTransferStatus) => void) | undefined,
    private readonly deviceId: string,
  ) {
    this.endpoint = endpoint;
    this.buffers = buffers;
    this.onData = onData;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Binds the backend (separate from the constructor because the backend needs the core's callbacks first). */
  attach(engine: TransferEngine): void {
    this.engine = engine;
  }

  /**
   * One reaped transfer. Returns true when the backend may resubmit the slot right away, false when
   * the core holds it (iterator form) and will call `engine.resubmit(slot)` later.
   */
  complete(slot: number, length: number, status: UsbTransferStatus): boolean {
    if (this.state === 'ended') return false;
    this.stats.transfers++;
    this.stats.bytes += length;
    if (status !== 'ok') this.stats.errors++;
    const fatal = status === 'stall' || status === 'disconnected';
    if (fatal && this.endInfo === undefined) {
      const code = status === 'stall' ? HalErrorCode.Stall : HalErrorCode.Disconnected;
      const error = new HalError(
        code,
        `IN stream on endpoint 0x${this.endpoint.toString(16)} ended: ${status}`,
        {
          deviceId: this.deviceId,
        },
      );
      this.endInfo = { reason: status, error };
    }
    if (this.onData !== undefined) {
      const buffer = this.buffers[slot];
      if (buffer === undefined) return true;
      // Two cached views per slot (the two lengths seen last): a stream's transfers are nearly all full
      // and its short ones mostly one length (a frame's last payload), so steady streaming allocates nothing.
      const at = slot * 2;
      let view = this.views[at];
      if (view === undefined || view.length !== length) {
        view = this.views[at + 1];
        if (view === undefined || view.length !== length) {
          view = buffer.subarray(0, length);
          this.views[at + 1] = this.views[at];
          this.views[at] = view;
        }
      }
      try {
        this.onData(view, status);
      } catch (cause) {
        // A throwing consumer ends the stream, loudly (reason 'error' with the exception as cause).
        if (this.endInfo === undefined) {
          this.endInfo = {
            reason: 'error',
            error: new HalError(HalErrorCode.Io, 'IN stream consumer threw', {
              cause,
              deviceId: this.deviceId,
            }),
          };
        }
        void this.stop();
      }
      return this.state === 'running';
    }
    this.ready.push({ slot, length, status });
    this.flushWaiter();
    return false;
  }

  /** The backend has nothing in flight any more: the stream is over. */
  finish(end?: UsbStreamEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    if (this.endInfo === undefined) this.endInfo = end ?? { reason: 'stopped' };
    this.flushWaiter();
    this.resolveEnded(this.endInfo);
  }

  /** Records a failure that ends the stream (e.g. resubmission failed) without waiting for a status. */
  fail(end: UsbStreamEnd): void {
    if (this.endInfo === undefined) this.endInfo = end;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  stop(): Promise<void> {
    if (this.state === 'running') {
      this.state = 'stopping';
      this.engine?.cancel();
    }
    return this.ended.then(() => undefined);
  }

  private flushWaiter(): void {
    const w = this.waiter;
    if (w === undefined) return;
    const next = this.ready.shift();
    if (next !== undefined) {
      this.waiter = undefined;
      this.held = next.slot;
      const data = (this.buffers[next.slot] ?? new Uint8Array(0)).subarray(0, next.length);
      w({ value: { data, status: next.status }, done: false });
    } else if (this.state === 'ended') {
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<UsbTransferResult> {
    if (this.onData !== undefined)
      throw new TypeError('stream was opened with onData; it cannot also be iterated');
    if (this.iterating) throw new TypeError('stream is already being iterated');
    this.iterating = true;
    return {
      next: () => {
        if (this.held >= 0) {
          const slot = this.held;
          this.held = -1;
          if (this.state === 'running') this.engine?.resubmit(slot);
        }
        return new Promise<IteratorResult<UsbTransferResult>>((resolve) => {
          this.waiter = resolve;
          this.flushWaiter();
        });
      },
      return: async () => {
        this.held = -1;
        await this.stop();
        return { value: undefined, done: true };
      },
    };
  }
}
