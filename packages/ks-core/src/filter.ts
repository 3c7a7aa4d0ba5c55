// KsFilter: a filter instance with pin instances (instance counts), topology, properties/events, master clock, and the Minidriver contract.
import type { Clock } from './clock.js';
import type { KsTime } from './ks-time.js';
import type { Communication, DataFlow, FilterDescriptor, PinDescriptor } from './descriptors.js';
import { PropSetId } from './known-guids.js';
import { PinProperty } from './property-ids.js';
import { EventSets } from './event-set.js';
import { TypedEmitter, type EmitterBaseEvents, type Listener } from './event.js';
import { intersectRanges, type FormatRequest, type IntersectionResult } from './intersection.js';
import { KsError, KsNecessaryInstancesError, KsStateError, type MissingPinInstances } from './ks-error.js';
import type { Logger } from './logger.js';
import { KsPin, type PinDispatch, type PinOwner } from './pin.js';
import { PropertyHandler, type PropertyFallback } from './property-handler.js';
import type {
  AutomationTable,
  PropertyContext,
  PropertyControl,
  PropertyItem,
  PropertyMode,
  PropertyValue,
} from './property-set.js';
import type { DataFormat } from './video-format.js';

/**
 * The contract a minidriver implements: a frozen descriptor plus a narrow dispatch. ks-core
 * does everything else (instance counts, state sequencing, format validation, property
 * validation, queueing, clocks, events). `F`/`P` are the minidriver's filter/pin context types.
 *
 * Rules: `create` must not take hardware (that happens at the pin's STOP→ACQUIRE, so creating a
 * filter on a busy device succeeds); every hook may throw a `KsError` (other errors are wrapped
 * as `DeviceFailure` with the original as `cause`).
 */
export interface Minidriver<F = unknown, P = unknown> {
  /** The filter type, from `defineFilterDescriptor` (deep-frozen). */
  readonly descriptor: FilterDescriptor<F, P>;
  /** A filter instance is being created; return its context. No hardware access. */
  create?(filter: KsFilter): F | Promise<F>;
  /** The filter is closing (all its pins are closed already). Errors are logged, not propagated. */
  close?(filter: KsFilter, context: F): void | Promise<void>;
  /** Dispatch per pin type, indexed like `descriptor.pins`; missing entries use defaults. */
  readonly pins?: readonly (PinDispatch<F, P> | undefined)[];
  /** Fallback get handler for property items that have none (filter, node and pin properties). */
  getProperty?(
    ctx: PropertyContext<F | P>,
  ): PropertyValue | PropertyControl | Promise<PropertyValue | PropertyControl>;
  /** Fallback set handler for property items that have none. */
  setProperty?(
    ctx: PropertyContext<F | P>,
    value: PropertyValue,
    mode: PropertyMode | undefined,
  ): void | Promise<void>;
}

/** What a filter needs from its factory/device (implemented by KsFilterFactory). */
export interface FilterOwner {
  readonly clock: Clock;
  /** How long a pin's stop waits for its consumer's held frames before revoking them. */
  readonly stopGrace: KsTime;
  /** Throws (typed) when the device can no longer take calls. */
  guard(operation: string): void;
  /** @internal The filter closed. */
  filterClosed(filter: KsFilter): void;
}

/** Events of a filter. */
export interface FilterEvents {
  [event: string]: unknown[];
  pinCreated: [pin: KsPin];
  pinClosed: [pin: KsPin];
  removed: [cause: unknown];
  closed: [];
}

type FilterState =
  | { readonly kind: 'open' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'removed'; readonly cause: unknown };

/** Construction options (ks-core internal: filters are created by `KsFilterFactory.createFilter`). */
export interface KsFilterInit {
  readonly owner: FilterOwner;
  readonly minidriver: Minidriver;
  readonly instance: number;
  readonly logger: Logger;
}

/**
 * A filter instance. Holds its pin instances (per pin type, limited by `instances.possible`),
 * the filter and node property sets (`properties`, addressed per node with `{ node }`), event
 * sets, and an optional filter-wide master clock.
 */
export class KsFilter implements PinOwner {
  readonly descriptor: FilterDescriptor;
  /** Instance number within its factory. */
  readonly instance: number;
  /** Filter and topology-node properties (`{ node: n }` addresses node n). */
  readonly properties: PropertyHandler;
  /** Filter and topology-node event sets. */
  readonly events: EventSets;
  readonly logger: Logger;
  readonly propertyFallback: PropertyFallback | undefined;
  readonly #owner: FilterOwner;
  readonly #minidriver: Minidriver;
  readonly #emitter: TypedEmitter<FilterEvents>;
  readonly #pins: KsPin[][];
  readonly #created: number[];
  #state: FilterState = { kind: 'open' };
  #context: unknown;
  #masterClock: Clock | undefined;
  #closing: Promise<void> | undefined;

  /** @internal Use `factory.createFilter()`. */
  constructor(init: KsFilterInit) {
    this.descriptor = init.minidriver.descriptor;
    this.instance = init.instance;
    this.#owner = init.owner;
    this.#minidriver = init.minidriver;
    this.logger = init.logger;
    this.#emitter = new TypedEmitter<FilterEvents>((error, event) =>
      this.logger.error({ err: error, event }, 'listenerError listener threw'),
    );
    this.#pins = this.descriptor.pins.map(() => []);
    this.#created = this.descriptor.pins.map(() => 0);
    const md = init.minidriver;
    this.propertyFallback =
      md.getProperty === undefined && md.setProperty === undefined
        ? undefined
        : {
            ...(md.getProperty === undefined
              ? {}
              : { get: (ctx: PropertyContext<unknown>) => md.getProperty!(ctx) }),
            ...(md.setProperty === undefined
              ? {}
              : {
                  set: (ctx: PropertyContext<unknown>, v: PropertyValue, m: PropertyMode | undefined) =>
                    md.setProperty!(ctx, v, m),
                }),
          };
    const nodes = this.descriptor.nodes.map((n) => n.automation);
    this.properties = new PropertyHandler({
      owner: this.label,
      table: withPinSet(this.descriptor.automation, this),
      nodes,
      pinCount: this.descriptor.pins.length,
      ...(this.descriptor.automation?.properties?.some((ps) => ps.set === PropSetId.Pin) === true
        ? {}
        : { builtInSets: new Set([PropSetId.Pin]) }),
      context: () => this.#context,
      guard: (op) => this.guard(op),
      logger: this.logger,
      ...(this.propertyFallback === undefined ? {} : { fallback: this.propertyFallback }),
    });
    this.events = new EventSets({
      owner: this.label,
      table: this.descriptor.automation,
      nodes,
      guard: (op) => this.guard(op),
      onListenerError: (error, event) => this.#emitter.emit('listenerError', error, event),
    });
  }

  /** @internal Runs the minidriver's create. */
  async initialise(): Promise<void> {
    if (this.#minidriver.create === undefined) return;
    try {
      this.#context = await this.#minidriver.create(this);
    } catch (err) {
      throw KsError.from(err, 'DeviceFailure', `${this.label}: minidriver refused to create the filter`);
    }
  }

  /** e.g. `filter 'Camera' #0`. */
  get label(): string {
    return `filter '${this.descriptor.name}' #${this.instance}`;
  }

  /** `open`, `closed` or `removed`. */
  get state(): FilterState['kind'] {
    return this.#state.kind;
  }

  /** The minidriver's filter context (what `Minidriver.create` returned). */
  get context(): unknown {
    return this.#context;
  }

  /** The device clock. */
  get clock(): Clock {
    return this.#owner.clock;
  }

  /** The device's stop grace period (see `KsDeviceOptions.stopGrace`). */
  get stopGrace(): KsTime {
    return this.#owner.stopGrace;
  }

  /** The filter-wide master clock, if assigned. */
  get masterClock(): Clock | undefined {
    return this.#masterClock;
  }

  /**
   * Assigns a master clock for every pin of this filter that has none of its own (`null`
   * clears). Context: open filter, no pin running or paused mid-run (`pin.midRun`: a run's
   * timestamps keep one time base).
   * @throws KsStateError when a pin is running or paused mid-run.
   */
  setMasterClock(clock: Clock | null): void {
    this.guard('setMasterClock');
    const running = this.pins().find((p) => p.midRun);
    if (running !== undefined)
      throw new KsStateError(this.label, 'setMasterClock', `running (${running.label} in ${running.state})`, [
        'no pin in run or paused mid-run',
      ]);
    if (
      clock !== null &&
      (typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.schedule !== 'function')
    ) {
      throw new TypeError('master clock must implement Clock (now, schedule)');
    }
    this.#masterClock = clock ?? undefined;
  }

  /** Adds an event listener; returns an unsubscribe function. */
  on<K extends keyof (FilterEvents & EmitterBaseEvents)>(
    event: K,
    listener: Listener<FilterEvents & EmitterBaseEvents, K>,
  ): () => void {
    return this.#emitter.on(event, listener);
  }

  /** Open pin instances: all, or those of pin type `id`. */
  pins(id?: number): readonly KsPin[] {
    if (id === undefined) return this.#pins.flat();
    this.#checkPinId(id);
    return [...this.#pins[id]!];
  }

  /** Number of open instances of pin type `id` (KSPROPERTY_PIN_CINSTANCES.CurrentCount). */
  pinCount(id: number): number {
    this.#checkPinId(id);
    return this.#pins[id]!.length;
  }

  /**
   * Pin types whose `instances.necessary` is not met (KSPROPERTY_PIN_NECESSARYINSTANCES); empty
   * when the filter is complete enough to stream. While it is not empty, no pin of the filter may
   * leave STOP (`KsNecessaryInstancesError`).
   */
  missingNecessaryPins(): number[] {
    return this.descriptor.pins.flatMap((p, i) => (this.#pins[i]!.length < p.instances.necessary ? [i] : []));
  }

  /**
   * @internal Called by a pin at its STOP→ACQUIRE step, where AVStream checks it: throws unless every
   * pin type has at least `instances.necessary` open instances.
   * @throws KsNecessaryInstancesError listing every pin type short of its count.
   */
  requireNecessaryInstances(pin: KsPin, operation: string): void {
    const missing: MissingPinInstances[] = [];
    this.descriptor.pins.forEach((p, i) => {
      const current = this.#pins[i]!.length;
      if (current < p.instances.necessary) {
        missing.push({ pinId: i, pinName: p.name, necessary: p.instances.necessary, current });
      }
    });
    if (missing.length > 0) throw new KsNecessaryInstancesError(pin.label, operation, missing);
  }

  /**
   * Pure negotiation against pin type `id`'s descriptor data ranges (no pin needed;
   * KSPROPERTY_PIN_DATAINTERSECTION). The minidriver's `intersect` refinement needs a pin
   * instance, so it applies only to `pin.proposeFormat`.
   * @throws KsError NotFound for an unknown pin id.
   */
  proposeFormat(id: number, request: FormatRequest): IntersectionResult {
    this.guard('proposeFormat');
    this.#checkPinId(id);
    return intersectRanges(this.descriptor.pins[id]!.dataRanges, request);
  }

  /**
   * Creates an instance of pin type `id` (KsCreatePin), in STOP, optionally setting a format.
   * Context: open filter.
   * @throws KsError NotFound (unknown id), InsufficientResources (`instances.possible` reached),
   *   NoMatch (format), the minidriver's KsError; KsStateError/Disconnected when closed/removed.
   */
  async createPin(
    id: number,
    options: { format?: FormatRequest | DataFormat; acceptAdjusted?: boolean } = {},
  ): Promise<KsPin> {
    this.guard('createPin');
    this.#checkPinId(id);
    const descriptor = this.descriptor.pins[id]!;
    const list = this.#pins[id]!;
    if (list.length >= descriptor.instances.possible) {
      throw new KsError(
        'InsufficientResources',
        `${this.label}: pin ${id} (${descriptor.name}) allows ${descriptor.instances.possible} instance(s), all in use`,
      );
    }
    const instance = this.#created[id]!;
    this.#created[id] = instance + 1;
    const pin = new KsPin({
      owner: this,
      id,
      instance,
      descriptor,
      dispatch: this.#minidriver.pins?.[id],
      logger: this.logger.child({ pin: id, pinInstance: instance }),
    });
    // Reserve the instance before awaiting so concurrent creations respect the limit.
    list.push(pin);
    try {
      await pin.initialise(this.#context);
      this.guard('createPin');
      if (options.format !== undefined) {
        await pin.setFormat(
          options.format,
          options.acceptAdjusted === undefined ? {} : { acceptAdjusted: options.acceptAdjusted },
        );
      }
    } catch (err) {
      const i = list.indexOf(pin);
      if (i >= 0) list.splice(i, 1);
      await pin.close().catch(() => undefined);
      throw err;
    }
    this.logger.debug({ pin: id, instance }, 'pin created');
    this.#emitter.emit('pinCreated', pin);
    return pin;
  }

  /**
   * Closes every pin (stopping them, which waits for their frames), then the filter.
   * Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(this.pins().map((p) => p.close().catch((e: unknown) => void errors.push(e))));
    if (this.#state.kind === 'open' || this.#state.kind === 'removed') {
      if (this.#minidriver.close !== undefined) {
        try {
          await this.#minidriver.close(this, this.#context);
        } catch (err) {
          this.logger.error({ err }, 'minidriver close threw');
        }
      }
    }
    this.#state = { kind: 'closed' };
    this.properties.dispose();
    this.events.dispose();
    this.#owner.filterClosed(this);
    this.#emitter.emit('closed');
    this.#emitter.removeAllListeners();
    if (errors.length > 0) throw errors[0];
  }

  /**
   * @internal Hot-unplug: every pin completes its outstanding frames with Disconnected; later
   * calls throw `KsError('Disconnected')`. The filter still needs `close()` to be released.
   */
  async remove(cause: unknown): Promise<void> {
    if (this.#state.kind !== 'open') return;
    this.#state = { kind: 'removed', cause };
    await Promise.all(this.pins().map((p) => p.remove(cause)));
    this.#emitter.emit('removed', cause);
  }

  /** @internal Throws when the filter cannot take calls. */
  guard(operation: string): void {
    const s = this.#state;
    if (s.kind === 'closed') throw new KsStateError(this.label, operation, 'closed', ['open'], 'Closed');
    if (s.kind === 'removed')
      throw new KsError('Disconnected', `${this.label}: ${operation}() failed: the device was removed`, {
        cause: s.cause,
      });
    this.#owner.guard(operation);
  }

  /** @internal */
  pinClosed(pin: KsPin): void {
    const list = this.#pins[pin.id];
    const i = list?.indexOf(pin) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (i >= 0) this.#emitter.emit('pinClosed', pin);
  }

  #checkPinId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.descriptor.pins.length) {
      throw new KsError(
        'NotFound',
        `${this.label} has no pin type ${String(id)} (it has ${this.descriptor.pins.length})`,
      );
    }
  }
}

const DATAFLOW: Readonly<Record<DataFlow, number>> = { in: 1, out: 2 };
const COMMUNICATION: Readonly<Record<Communication, number>> = {
  none: 0,
  sink: 1,
  source: 2,
  both: 3,
  bridge: 4,
};
/** KSINSTANCE_INDETERMINATE: no instance limit. */
const INDETERMINATE = 0xffffffff;

/**
 * Adds the built-in KSPROPSETID_Pin set to a filter's automation table (unless the descriptor
 * declares it): CTYPES, and per pin type (KSP_PIN) CINSTANCES (KSPIN_CINSTANCES), DATAFLOW,
 * COMMUNICATION, NECESSARYINSTANCES and CATEGORY, all read-only, answered from the descriptor
 * and the live instance counts.
 */
function withPinSet(table: AutomationTable | undefined, filter: KsFilter): AutomationTable {
  const own = table?.properties ?? [];
  if (own.some((ps) => ps.set === PropSetId.Pin)) return table!;
  const pinOf = (ctx: PropertyContext): PinDescriptor => filter.descriptor.pins[ctx.pin!]!;
  const items: PropertyItem[] = [
    {
      id: PinProperty.CTypes,
      name: 'CTypes',
      type: 'uint32',
      access: 'readonly',
      get: () => filter.descriptor.pins.length,
    },
    {
      id: PinProperty.CInstances,
      name: 'CInstances',
      type: 'bytes',
      size: 8,
      access: 'readonly',
      pinScoped: true,
      get: (ctx) => {
        const out = new Uint8Array(8);
        const v = new DataView(out.buffer);
        const possible = pinOf(ctx).instances.possible;
        v.setUint32(0, possible === Infinity ? INDETERMINATE : possible, true);
        v.setUint32(4, filter.pinCount(ctx.pin!), true);
        return out;
      },
    },
    {
      id: PinProperty.DataFlow,
      name: 'DataFlow',
      type: 'uint32',
      access: 'readonly',
      pinScoped: true,
      get: (ctx) => DATAFLOW[pinOf(ctx).dataFlow],
    },
    {
      id: PinProperty.Communication,
      name: 'Communication',
      type: 'uint32',
      access: 'readonly',
      pinScoped: true,
      get: (ctx) => COMMUNICATION[pinOf(ctx).communication],
    },
    {
      id: PinProperty.NecessaryInstances,
      name: 'NecessaryInstances',
      type: 'uint32',
      access: 'readonly',
      pinScoped: true,
      get: (ctx) => pinOf(ctx).instances.necessary,
    },
    {
      id: PinProperty.Category,
      name: 'Category',
      type: 'guid',
      access: 'readonly',
      pinScoped: true,
      get: (ctx) => {
        const category = pinOf(ctx).category;
        if (category === undefined)
          throw new KsError('NotFound', `${filter.label}: pin ${ctx.pin} has no category`);
        return category;
      },
    },
  ];
  return { ...table, properties: [...own, { set: PropSetId.Pin, items }] };
}
