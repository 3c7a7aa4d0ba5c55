// Frozen descriptor data: pins, topology nodes and connections, filters; validated and deep-frozen by defineFilterDescriptor.
import { isGuid, type Guid } from './guid.js';
import { DEFAULT_FRAMING, type AllocatorFraming } from './allocator-framing.js';
import type { DataRange } from './data-range.js';
import { validateAutomationTable, type AutomationTable } from './property-set.js';

/** KSPIN_DATAFLOW: `out` pins produce data (capture), `in` pins consume it. */
export type DataFlow = 'in' | 'out';

/** KSPIN_COMMUNICATION: how a pin connects (`bridge` = a physical connection named by mediums). */
export type Communication = 'none' | 'sink' | 'source' | 'both' | 'bridge';

/** KSPIN_MEDIUM: identifies a physical connection; two pins with equal mediums are wired together. */
export interface Medium {
  readonly set: Guid;
  readonly id: number;
  readonly flags: number;
}

/** Node id meaning "the filter itself" in a topology connection (KSFILTER_NODE). */
export const FILTER_NODE = -1;

/**
 * A pin type of a filter (KSPIN_DESCRIPTOR_EX essentials). `C` is the minidriver's pin context
 * type seen by the pin's property handlers.
 */
export interface PinDescriptor<C = unknown> {
  /** Display name, e.g. `'Capture'`. */
  readonly name: string;
  /** Pin category (PINNAME_VIDEO_CAPTURE …). */
  readonly category: Guid | undefined;
  readonly dataFlow: DataFlow;
  readonly communication: Communication;
  /** `possible`: maximum simultaneous instances (Infinity for no limit); `necessary`: required for the filter to run. */
  readonly instances: { readonly possible: number; readonly necessary: number };
  readonly mediums: readonly Medium[];
  readonly dataRanges: readonly DataRange[];
  readonly framing: AllocatorFraming;
  readonly automation: AutomationTable<C> | undefined;
  /** True when this pin can provide a clock that other pins may use as master clock. */
  readonly providesClock: boolean;
}

/** A topology node (KSNODE_DESCRIPTOR): type, name, and its own property/event sets. */
export interface NodeDescriptor<C = unknown> {
  readonly type: Guid;
  readonly name: string;
  readonly automation: AutomationTable<C> | undefined;
}

/**
 * A topology connection (KSTOPOLOGY_CONNECTION). A node of {@link FILTER_NODE} means the
 * filter's pin `fromPin`/`toPin`; otherwise the pin number is the node's own connection point.
 */
export interface TopologyConnection {
  readonly fromNode: number;
  readonly fromPin: number;
  readonly toNode: number;
  readonly toPin: number;
}

/**
 * A filter type (KSFILTER_DESCRIPTOR). `F`/`P` are the minidriver's filter and pin context types
 * seen by property handlers. Always produced by {@link defineFilterDescriptor}: deep-frozen.
 */
export interface FilterDescriptor<F = unknown, P = unknown> {
  /** ReferenceGuid: identifies the filter type. */
  readonly referenceGuid: Guid;
  readonly name: string;
  readonly categories: readonly Guid[];
  readonly pins: readonly PinDescriptor<P>[];
  readonly nodes: readonly NodeDescriptor<F>[];
  readonly connections: readonly TopologyConnection[];
  readonly automation: AutomationTable<F> | undefined;
}

/** Input of {@link definePin}; omitted fields take KS defaults. */
export interface PinDescriptorInit<C = unknown> {
  name: string;
  category?: Guid;
  dataFlow: DataFlow;
  communication?: Communication;
  instances?: { possible: number; necessary?: number };
  mediums?: readonly Medium[];
  dataRanges?: readonly DataRange[];
  framing?: AllocatorFraming;
  automation?: AutomationTable<C>;
  providesClock?: boolean;
}

/** Input of {@link defineFilterDescriptor}. */
export interface FilterDescriptorInit<F = unknown, P = unknown> {
  referenceGuid: Guid;
  name: string;
  categories?: readonly Guid[];
  pins: readonly (PinDescriptor<P> | PinDescriptorInit<P>)[];
  nodes?: readonly (NodeDescriptor<F> | { type: Guid; name: string; automation?: AutomationTable<F> })[];
  connections?: readonly TopologyConnection[];
  automation?: AutomationTable<F>;
}

/**
 * Freezes `value` and everything reachable from it (plain objects and arrays; functions and
 * typed arrays are left as they are). Returns `value`.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Object.isFrozen(value) && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype)
    return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return value;
}

/** Builds a pin descriptor with defaults (communication `sink`, one possible instance, default framing). */
export function definePin<C = unknown>(init: PinDescriptorInit<C>): PinDescriptor<C> {
  return {
    name: init.name,
    category: init.category,
    dataFlow: init.dataFlow,
    communication: init.communication ?? 'sink',
    instances: { possible: init.instances?.possible ?? 1, necessary: init.instances?.necessary ?? 0 },
    mediums: init.mediums ?? [],
    dataRanges: init.dataRanges ?? [],
    framing: init.framing ?? DEFAULT_FRAMING,
    automation: init.automation,
    providesClock: init.providesClock ?? false,
  };
}

/**
 * Validates and deep-freezes a filter descriptor. Checks: GUIDs normalised, names present,
 * instance counts (`0 ≤ necessary ≤ possible`), every connection endpoint exists, automation
 * tables well-formed (unique ids, defaults in range…).
 * @throws TypeError / RangeError describing the first problem (a descriptor bug).
 */
export function defineFilterDescriptor<F = unknown, P = unknown>(
  init: FilterDescriptorInit<F, P>,
): FilterDescriptor<F, P> {
  if (!isGuid(init.referenceGuid))
    throw new TypeError(`filter referenceGuid ${String(init.referenceGuid)} is not a normalised GUID`);
  if (typeof init.name !== 'string' || init.name === '')
    throw new TypeError('filter name must be a non-empty string');
  const where = `filter '${init.name}'`;
  for (const c of init.categories ?? [])
    if (!isGuid(c)) throw new TypeError(`${where}: category ${String(c)} is not a normalised GUID`);
  // definePin is idempotent on a full descriptor, so both inputs normalise the same way.
  const pins = init.pins.map((p) => definePin(p as PinDescriptorInit<P>));
  pins.forEach((p, i) => {
    const pw = `${where} pin ${i} (${p.name})`;
    if (typeof p.name !== 'string' || p.name === '')
      throw new TypeError(`${where} pin ${i}: name must be a non-empty string`);
    if (p.dataFlow !== 'in' && p.dataFlow !== 'out')
      throw new TypeError(`${pw}: dataFlow must be 'in' or 'out'`);
    if (!['none', 'sink', 'source', 'both', 'bridge'].includes(p.communication))
      throw new TypeError(`${pw}: bad communication ${String(p.communication)}`);
    if (p.category !== undefined && !isGuid(p.category))
      throw new TypeError(`${pw}: category is not a normalised GUID`);
    const { possible, necessary } = p.instances;
    if (!(possible === Infinity || (Number.isInteger(possible) && possible >= 0)))
      throw new RangeError(`${pw}: instances.possible must be a non-negative integer or Infinity`);
    if (!Number.isInteger(necessary) || necessary < 0 || necessary > possible)
      throw new RangeError(`${pw}: instances.necessary must be in 0..possible`);
    for (const m of p.mediums) {
      if (!isGuid(m.set) || !Number.isInteger(m.id) || !Number.isInteger(m.flags))
        throw new TypeError(`${pw}: malformed medium`);
    }
    for (const r of p.dataRanges) {
      if (r.kind !== 'video' && r.kind !== 'generic')
        throw new TypeError(`${pw}: data ranges must come from videoRange()/genericRange()`);
    }
    validateAutomationTable(p.automation, pw);
  });
  const nodes = (init.nodes ?? []).map((n) => ({ type: n.type, name: n.name, automation: n.automation }));
  nodes.forEach((n, i) => {
    if (!isGuid(n.type)) throw new TypeError(`${where} node ${i}: type is not a normalised GUID`);
    validateAutomationTable(n.automation, `${where} node ${i} (${n.name})`);
  });
  const connections = (init.connections ?? []).map((c) => ({
    fromNode: c.fromNode,
    fromPin: c.fromPin,
    toNode: c.toNode,
    toPin: c.toPin,
  }));
  connections.forEach((c, i) => {
    for (const [node, pin] of [
      [c.fromNode, c.fromPin],
      [c.toNode, c.toPin],
    ] as const) {
      if (node === FILTER_NODE) {
        if (!Number.isInteger(pin) || pin < 0 || pin >= pins.length)
          throw new RangeError(`${where} connection ${i}: filter pin ${pin} does not exist`);
      } else if (!Number.isInteger(node) || node < 0 || node >= nodes.length) {
        throw new RangeError(`${where} connection ${i}: node ${node} does not exist`);
      } else if (!Number.isInteger(pin) || pin < 0) {
        throw new RangeError(`${where} connection ${i}: node pin ${pin} must be a non-negative integer`);
      }
    }
  });
  validateAutomationTable(init.automation, where);
  return deepFreeze({
    referenceGuid: init.referenceGuid,
    name: init.name,
    categories: [...(init.categories ?? [])],
    pins,
    nodes,
    connections,
    automation: init.automation,
  }) as FilterDescriptor<F, P>;
}
