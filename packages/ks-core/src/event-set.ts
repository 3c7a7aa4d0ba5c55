// KS event sets at run time: enable/disable notifications for declared events, signalled by the minidriver.
import { isGuid, type Guid } from './guid.js';
import { KsError } from './ks-error.js';
import { knownGuids } from './known-guids.js';
import type { AutomationTable } from './property-set.js';

/** Handle returned by {@link EventSets.enable}; `disable()` is idempotent. */
export interface EventSubscription {
  disable(): void;
}

/** Construction options of {@link EventSets} (ks-core internal). */
export interface EventSetsOptions {
  readonly owner: string;
  readonly table: AutomationTable<unknown> | undefined;
  readonly nodes?: readonly (AutomationTable<unknown> | undefined)[];
  readonly guard: (operation: string) => void;
  /** Receives listener errors (the owner re-emits them as `listenerError`). */
  readonly onListenerError: (error: unknown, event: string) => void;
}

/**
 * The declared event sets of a filter or pin (KSEVENT). Clients `enable` an event and get
 * called whenever the minidriver `signal`s it. Only declared events can be enabled or signalled;
 * a listener that throws is reported, never propagated into the minidriver.
 */
export class EventSets {
  readonly #opts: EventSetsOptions;
  readonly #listeners = new Map<string, Set<(data: unknown) => void>>();

  constructor(opts: EventSetsOptions) {
    this.#opts = opts;
  }

  /**
   * Enables an event.
   * @throws KsError NotFound for an undeclared set/id/node; TypeError for a non-function listener;
   *   KsStateError when the owner is closed.
   */
  enable(
    set: Guid,
    id: number,
    listener: (data: unknown) => void,
    options: { node?: number } = {},
  ): EventSubscription {
    this.#opts.guard('enableEvent');
    if (typeof listener !== 'function') throw new TypeError('event listener must be a function');
    const key = this.#key(set, id, options.node);
    const set_ = this.#listeners.get(key) ?? new Set();
    // Wrap so the same function may be enabled twice and disabled independently.
    const entry = (data: unknown): void => listener(data);
    set_.add(entry);
    this.#listeners.set(key, set_);
    return { disable: () => void set_.delete(entry) };
  }

  /**
   * Signals an event to every enabled listener (minidriver side).
   * @returns how many listeners were called.
   * @throws KsError NotFound for an undeclared event (a minidriver bug).
   */
  signal(set: Guid, id: number, data?: unknown, options: { node?: number } = {}): number {
    const key = this.#key(set, id, options.node);
    const listeners = this.#listeners.get(key);
    if (listeners === undefined) return 0;
    let n = 0;
    for (const l of [...listeners]) {
      n++;
      try {
        l(data);
      } catch (error) {
        this.#opts.onListenerError(error, `event ${knownGuids.describe(set)}/${id}`);
      }
    }
    return n;
  }

  /** Disables every listener (owner closed). */
  dispose(): void {
    this.#listeners.clear();
  }

  #key(set: Guid, id: number, node: number | undefined): string {
    if (!isGuid(set)) throw new TypeError(`event set must be a normalised GUID, got ${String(set)}`);
    const table = node === undefined ? this.#opts.table : this.#opts.nodes?.[node];
    const where = node === undefined ? this.#opts.owner : `${this.#opts.owner} node ${node}`;
    const es = table?.events?.find((e) => e.set === set);
    if (es === undefined)
      throw new KsError('NotFound', `${where} has no event set ${knownGuids.describe(set)}`);
    if (!es.items.some((e) => e.id === id))
      throw new KsError('NotFound', `${where} has no event ${id} in set ${knownGuids.describe(set)}`);
    return `${node ?? -1}/${set}/${id}`;
  }
}
