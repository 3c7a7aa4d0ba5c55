// KsDevice: the root object (KSDEVICE) holding filter factories, the device clock, close cascade and hot-unplug.
import { SystemClock, type Clock } from './clock.js';
import { TypedEmitter, type EmitterBaseEvents, type Listener } from './event.js';
import { KsFilterFactory } from './filter-factory.js';
import type { KsFilter, Minidriver } from './filter.js';
import { KsError, KsStateError } from './ks-error.js';
import type { KsTime } from './ks-time.js';
import { silentLogger, type Logger } from './logger.js';
import { DEFAULT_STOP_GRACE } from './queue.js';

/** Options of {@link createDevice}. */
export interface KsDeviceOptions {
  /** Display name / id (e.g. `synthetic:camera`). */
  readonly name: string;
  /** One filter factory per minidriver (most devices have one). */
  readonly minidrivers: readonly Minidriver[];
  /** The device clock (default `SystemClock`); inject a `ManualClock` in tests. */
  readonly clock?: Clock;
  /**
   * How long a pin's stop (also through `close()` and hot-unplug) waits, on the device clock, for
   * the consumer to release frames it holds before revoking them (100 ns, ≥ 0; default one second,
   * `DEFAULT_STOP_GRACE`; 0 revokes at once). Frames delivered and not taken are reclaimed at once
   * whatever this is. See `KsQueue.stop` and `Frame`.
   */
  readonly stopGrace?: KsTime;
  /** Parent logger (default silent); the device logs through a child. */
  readonly logger?: Logger;
  /**
   * Called once when the device closes, after every filter closed (release the HAL device here).
   * Errors are logged.
   */
  readonly onClose?: () => void | Promise<void>;
}

/** Events of a device. */
export interface DeviceEvents {
  [event: string]: unknown[];
  /** Hot-unplug: the device is gone; its filters/pins reject new calls with Disconnected. */
  removed: [cause: unknown];
  closed: [];
}

type DeviceState =
  | { readonly kind: 'active' }
  | { readonly kind: 'removed'; readonly cause: unknown }
  | { readonly kind: 'closed' };

/**
 * A device: the root of a KS object tree. `close()` cascades (device → filters → pins) and is
 * idempotent. `surpriseRemoval()` is what a minidriver calls when its HAL device disconnects:
 * every running pin completes outstanding frames with `Disconnected` and ends its stream, and
 * every later call on the device, its filters or pins throws `KsError('Disconnected')`;
 * `close()` still releases everything.
 */
export class KsDevice {
  readonly name: string;
  readonly clock: Clock;
  /** See `KsDeviceOptions.stopGrace`. */
  readonly stopGrace: KsTime;
  readonly logger: Logger;
  /** Filter factories, one per minidriver, in the order given. */
  readonly factories: readonly KsFilterFactory[];
  readonly #emitter: TypedEmitter<DeviceEvents>;
  readonly #onClose: (() => void | Promise<void>) | undefined;
  #state: DeviceState = { kind: 'active' };
  #closing: Promise<void> | undefined;

  /** @internal Use {@link createDevice}. */
  constructor(options: KsDeviceOptions) {
    if (typeof options.name !== 'string' || options.name === '')
      throw new TypeError('device name must be a non-empty string');
    if (!Array.isArray(options.minidrivers) || options.minidrivers.length === 0)
      throw new TypeError('a device needs at least one minidriver');
    this.name = options.name;
    this.clock = options.clock ?? new SystemClock();
    const grace = options.stopGrace ?? DEFAULT_STOP_GRACE;
    if (typeof grace !== 'bigint') throw new TypeError(`stopGrace must be a KsTime (bigint)`);
    if (grace < 0n) throw new RangeError(`stopGrace must not be negative, got ${grace}`);
    this.stopGrace = grace;
    this.logger = (options.logger ?? silentLogger()).child({ device: options.name });
    this.#onClose = options.onClose;
    this.#emitter = new TypedEmitter<DeviceEvents>((error, event) =>
      this.logger.error({ err: error, event }, 'listenerError listener threw'),
    );
    const owner = { clock: this.clock, stopGrace: grace, guard: (op: string) => this.guard(op) };
    this.factories = Object.freeze(
      options.minidrivers.map((md, i) => {
        if (
          md === null ||
          typeof md !== 'object' ||
          typeof md.descriptor !== 'object' ||
          !Object.isFrozen(md.descriptor)
        ) {
          throw new TypeError(`minidriver ${i} needs a frozen descriptor from defineFilterDescriptor()`);
        }
        return new KsFilterFactory(owner, md, i, this.logger);
      }),
    );
  }

  /** `active`, `removed` or `closed`. */
  get state(): DeviceState['kind'] {
    return this.#state.kind;
  }

  /** Every open filter of every factory. */
  get filters(): readonly KsFilter[] {
    return this.factories.flatMap((f) => f.filters);
  }

  /** Adds an event listener; returns an unsubscribe function. */
  on<K extends keyof (DeviceEvents & EmitterBaseEvents)>(
    event: K,
    listener: Listener<DeviceEvents & EmitterBaseEvents, K>,
  ): () => void {
    return this.#emitter.on(event, listener);
  }

  /**
   * Creates a filter of factory `index` (default 0): shorthand for `factories[index].createFilter()`.
   * @throws KsError NotFound for an unknown factory.
   */
  createFilter(index = 0): Promise<KsFilter> {
    try {
      this.guard('createFilter');
    } catch (err) {
      return Promise.reject(err);
    }
    const factory = this.factories[index];
    if (factory === undefined)
      return Promise.reject(new KsError('NotFound', `device ${this.name} has no filter factory ${index}`));
    return factory.createFilter();
  }

  /**
   * Hot-unplug (called by the minidriver when the HAL reports a disconnect). Idempotent; ignored
   * after close. Resolves when every pin has completed its frames and run its `close` dispatch;
   * it does not wait for consumers to release frames (what they still have when the stop grace
   * period ends is taken back; `pin.drained()` tells when).
   */
  async surpriseRemoval(cause?: unknown): Promise<void> {
    if (this.#state.kind !== 'active') return;
    const why = cause ?? new KsError('Disconnected', `device ${this.name} was removed`);
    this.#state = { kind: 'removed', cause: why };
    this.logger.warn({ err: why }, 'device removed');
    await Promise.all(this.factories.map((f) => f.removeAll(why)));
    this.#emitter.emit('removed', why);
  }

  /**
   * Closes every filter (and so every pin, stopping it: a consumer's held frames are waited for at
   * most `stopGrace`, then revoked), then the device. Idempotent; never hangs on a consumer.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const errors = (await Promise.all(this.factories.map((f) => f.closeAll()))).flat();
    this.#state = { kind: 'closed' };
    if (this.#onClose !== undefined) {
      try {
        await this.#onClose();
      } catch (err) {
        this.logger.error({ err }, 'device onClose threw');
      }
    }
    this.#emitter.emit('closed');
    this.#emitter.removeAllListeners();
    if (errors.length > 0) throw errors[0];
  }

  /** @internal Throws when the device cannot take calls. */
  guard(operation: string): void {
    const s = this.#state;
    // Filters closing during device close still need to run; only a finished close refuses.
    if (s.kind === 'closed')
      throw new KsStateError(`device ${this.name}`, operation, 'closed', ['active'], 'Closed');
    if (s.kind === 'removed')
      throw new KsError(
        'Disconnected',
        `device ${this.name}: ${operation}() failed: the device was removed`,
        { cause: s.cause },
      );
  }
}

/**
 * Creates a device with one filter factory per minidriver.
 * @throws TypeError for a missing name, no minidrivers, or a descriptor not made by
 *   `defineFilterDescriptor`.
 */
export function createDevice(options: KsDeviceOptions): KsDevice {
  return new KsDevice(options);
}
