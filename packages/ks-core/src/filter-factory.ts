// KsFilterFactory: creates filter instances of one minidriver's descriptor on a device.
import type { Clock } from './clock.js';
import type { FilterDescriptor } from './descriptors.js';
import type { KsTime } from './ks-time.js';
import { KsFilter, type FilterOwner, type Minidriver } from './filter.js';
import type { Logger } from './logger.js';

/** What a factory needs from its device (implemented by KsDevice). */
export interface FactoryOwner {
  readonly clock: Clock;
  /** How long a pin's stop waits for its consumer's held frames before revoking them. */
  readonly stopGrace: KsTime;
  guard(operation: string): void;
}

/**
 * A filter factory (KSFILTERFACTORY): one per minidriver registered on a device. Creating a
 * filter runs the minidriver's `create` and never touches hardware.
 */
export class KsFilterFactory implements FilterOwner {
  readonly minidriver: Minidriver;
  /** Index of this factory on its device. */
  readonly index: number;
  readonly #owner: FactoryOwner;
  readonly #logger: Logger;
  readonly #filters: KsFilter[] = [];
  #created = 0;

  /** @internal Created by `createDevice`. */
  constructor(owner: FactoryOwner, minidriver: Minidriver, index: number, logger: Logger) {
    this.#owner = owner;
    this.minidriver = minidriver;
    this.index = index;
    this.#logger = logger;
  }

  /** The filter type this factory instantiates. */
  get descriptor(): FilterDescriptor {
    return this.minidriver.descriptor;
  }

  get clock(): Clock {
    return this.#owner.clock;
  }

  /** The device's stop grace period (see `KsDeviceOptions.stopGrace`). */
  get stopGrace(): KsTime {
    return this.#owner.stopGrace;
  }

  /** Open filter instances. */
  get filters(): readonly KsFilter[] {
    return [...this.#filters];
  }

  /**
   * Creates a filter instance (KsCreateFilter).
   * @throws KsError Disconnected/Closed (device), the minidriver's KsError from `create`.
   */
  async createFilter(): Promise<KsFilter> {
    this.guard('createFilter');
    const instance = this.#created++;
    const filter = new KsFilter({
      owner: this,
      minidriver: this.minidriver,
      instance,
      logger: this.#logger.child({ filter: this.descriptor.name, instance }),
    });
    this.#filters.push(filter);
    try {
      await filter.initialise();
      this.guard('createFilter');
    } catch (err) {
      const i = this.#filters.indexOf(filter);
      if (i >= 0) this.#filters.splice(i, 1);
      throw err;
    }
    return filter;
  }

  /** @internal */
  guard(operation: string): void {
    this.#owner.guard(operation);
  }

  /** @internal */
  filterClosed(filter: KsFilter): void {
    const i = this.#filters.indexOf(filter);
    if (i >= 0) this.#filters.splice(i, 1);
  }

  /** @internal Closes every filter (device close). */
  async closeAll(): Promise<unknown[]> {
    const errors: unknown[] = [];
    await Promise.all(this.filters.map((f) => f.close().catch((e: unknown) => void errors.push(e))));
    return errors;
  }

  /** @internal Hot-unplug of every filter. */
  async removeAll(cause: unknown): Promise<void> {
    await Promise.all(this.filters.map((f) => f.remove(cause)));
  }
}
