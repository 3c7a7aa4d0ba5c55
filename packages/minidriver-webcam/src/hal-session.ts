// HalSession: shares one opened HAL device among a KS device's pins and property calls, opening on first use and closing on last release.
import type { HalDevice, OpenedHalDevice, TimeSource } from '@ksemu/hal';
import { KsError, type Logger } from '@ksemu/ks-core';
import { toKsError } from './hal-failure.js';

/** Options of {@link HalSession}. */
export interface HalSessionOptions {
  /** The time base the device produces frames on (the KS device clock). */
  readonly timeSource: TimeSource;
  readonly logger: Logger;
}

/**
 * The opened state of one HAL device, shared by reference count. A pin takes a reference at
 * STOP→ACQUIRE and gives it back at ACQUIRE→STOP; a property call takes one for the duration of
 * the call. The device is opened when the count goes 0 → 1 and closed when it returns to 0, so
 * an idle KS device holds no hardware (another process may open it) and creating a filter on a
 * busy device succeeds (Busy surfaces on first use, as a `KsError('DeviceBusy')`).
 *
 * Open and close are serialised: a release racing an acquire never closes under the acquirer.
 */
export class HalSession {
  readonly device: HalDevice;
  readonly #options: HalSessionOptions;
  #opened: OpenedHalDevice | undefined;
  #users = 0;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #openHooks: Array<(device: OpenedHalDevice) => void> = [];

  constructor(device: HalDevice, options: HalSessionOptions) {
    this.device = device;
    this.#options = options;
  }

  /** The opened device while at least one reference is held, else `undefined`. */
  get opened(): OpenedHalDevice | undefined {
    return this.#opened;
  }

  /** References held now. */
  get users(): number {
    return this.#users;
  }

  /**
   * Registers `hook` to run each time the device is opened, before anyone uses it: how settings
   * made while it was closed (remembered control values) reach the hardware. Hook errors are
   * logged, not thrown.
   */
  onOpen(hook: (device: OpenedHalDevice) => void): void {
    this.#openHooks.push(hook);
  }

  /**
   * Takes a reference, opening the device if it is the first.
   * @throws KsError DeviceBusy (opened elsewhere), Disconnected (unplugged), DeviceFailure.
   */
  acquire(): Promise<OpenedHalDevice> {
    return this.#serial(async () => {
      if (this.#opened === undefined) {
        try {
          this.#opened = await this.device.open({
            timeSource: this.#options.timeSource,
            logger: this.#options.logger,
          });
        } catch (err) {
          throw toKsError(err, `cannot open ${this.device.identity.id}`);
        }
        this.#options.logger.debug({ device: this.device.identity.id }, 'hal device opened');
        for (const hook of this.#openHooks) {
          try {
            hook(this.#opened);
          } catch (err) {
            this.#options.logger.warn({ err }, 'restoring device state after open failed');
          }
        }
      }
      this.#users++;
      return this.#opened;
    });
  }

  /** Gives back a reference; the last one closes the device. Errors of close are logged. */
  release(): Promise<void> {
    return this.#serial(async () => {
      if (this.#users === 0) return;
      this.#users--;
      if (this.#users === 0) await this.#close();
    });
  }

  /**
   * Runs `fn` with the opened device, holding a reference for its duration.
   * @throws what {@link acquire} throws; `fn`'s error, mapped by {@link toKsError}.
   */
  async use<T>(what: string, fn: (device: OpenedHalDevice) => T | Promise<T>): Promise<T> {
    const opened = await this.acquire();
    try {
      return await fn(opened);
    } catch (err) {
      throw toKsError(err, what);
    } finally {
      await this.release();
    }
  }

  /** Closes the device whatever the count (KS device closing or removed). Idempotent. */
  shutdown(): Promise<void> {
    return this.#serial(async () => {
      this.#users = 0;
      await this.#close();
    });
  }

  async #close(): Promise<void> {
    const opened = this.#opened;
    this.#opened = undefined;
    if (opened === undefined) return;
    try {
      await opened.close();
      this.#options.logger.debug({ device: this.device.identity.id }, 'hal device closed');
    } catch (err) {
      this.#options.logger.warn({ err }, 'closing the hal device failed');
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

/** Throws `KsError('InvalidDeviceState')` unless `session` is open (a minidriver invariant). */
export function openedOrThrow(session: HalSession, operation: string): OpenedHalDevice {
  const opened = session.opened;
  if (opened === undefined) {
    throw new KsError('InvalidDeviceState', `${operation}: ${session.device.identity.id} is not open`);
  }
  return opened;
}
