// Declarative property and event sets: items with type, range, step, default, modes and access, plus their validation.
import { isGuid, type Guid } from './guid.js';

/** Value types of property items and their raw encodings (little endian). */
export type PropertyType =
  | 'int32' // LONG, 4 bytes
  | 'uint32' // ULONG, 4 bytes
  | 'int64' // LONGLONG, 8 bytes (a bigint in the typed API)
  | 'bool' // BOOL, 4 bytes (0/1)
  | 'guid' // GUID, 16 bytes (Windows layout)
  | 'bytes'; // fixed-size opaque structure of `size` bytes

/** A typed property value. */
export type PropertyValue = number | bigint | boolean | Guid | Uint8Array;

/** Control mode of items that support it (KSPROPERTY_*_FLAGS_AUTO / _MANUAL). */
export type PropertyMode = 'auto' | 'manual';

/** Who may get/set. `readonly` items refuse set; `writeonly` refuse get. */
export type PropertyAccess = 'readwrite' | 'readonly' | 'writeonly';

/** A value with its control mode, as KSPROPERTY_VIDEOPROCAMP_S carries Value + Flags. */
export interface PropertyControl {
  readonly value: PropertyValue;
  readonly mode: PropertyMode | undefined;
}

/**
 * What a property handler is told about the call. `context` is the minidriver's own state of
 * the object that owns the automation table (what its `create` returned for the filter or pin).
 */
export interface PropertyContext<C = unknown> {
  readonly context: C;
  readonly set: Guid;
  readonly id: number;
  /** Topology node addressed, or `undefined` for the filter/pin itself. */
  readonly node: number | undefined;
  /** Pin type id addressed (KSP_PIN) for pin-scoped items, else `undefined`. */
  readonly pin: number | undefined;
  readonly item: PropertyItem<C>;
}

/**
 * One property: id within its set, type, bounds and default, access and supported modes, and
 * optional handlers. Without handlers the central handler stores the value itself (initialised
 * to `default`), which is how pure-software properties are written. Handlers may be async
 * (hardware controls are). Validation (type, range, step, access, mode) happens before `set` is
 * called, so a handler only ever sees legal values.
 */
export interface PropertyItem<C = unknown> {
  readonly id: number;
  /** Display name (`'Brightness'`), used in errors and tools. */
  readonly name: string;
  readonly type: PropertyType;
  /** For `bytes`: the exact size. */
  readonly size?: number;
  /** For numeric types: inclusive bounds and step (values must be `min + k × step`). */
  readonly min?: number | bigint;
  readonly max?: number | bigint;
  readonly step?: number | bigint;
  /** Default value; required for numeric items with bounds, used as initial stored value. */
  readonly default?: PropertyValue;
  /** Supported control modes; when present the raw layout is value + flags + capabilities. */
  readonly modes?: readonly PropertyMode[];
  /** Initial mode when `modes` is present (default: the first mode). */
  readonly defaultMode?: PropertyMode;
  readonly access?: PropertyAccess;
  /** True when the item is addressed per pin type (KSP_PIN), as KSPROPSETID_Pin items are. */
  readonly pinScoped?: boolean;
  /** Reads the value from the device. Throw a KsError on failure. */
  get?(ctx: PropertyContext<C>): PropertyValue | PropertyControl | Promise<PropertyValue | PropertyControl>;
  /** Applies a validated value. Throw a KsError on failure; the stored value is then unchanged. */
  set?(ctx: PropertyContext<C>, value: PropertyValue, mode: PropertyMode | undefined): void | Promise<void>;
}

/** A property set: one GUID and its items. */
export interface PropertySetDescriptor<C = unknown> {
  readonly set: Guid;
  readonly items: readonly PropertyItem<C>[];
}

/** One event of an event set (KSEVENT id). */
export interface EventItem {
  readonly id: number;
  readonly name: string;
}

/** An event set: one GUID and its events. */
export interface EventSetDescriptor {
  readonly set: Guid;
  readonly items: readonly EventItem[];
}

/** The property and event sets of one filter, pin or topology node (KSAUTOMATION_TABLE). */
export interface AutomationTable<C = unknown> {
  readonly properties?: readonly PropertySetDescriptor<C>[];
  readonly events?: readonly EventSetDescriptor[];
}

/** Raw byte size of an item's value (without the mode fields). */
export function valueSize(item: PropertyItem<unknown>): number {
  switch (item.type) {
    case 'int32':
    case 'uint32':
    case 'bool':
      return 4;
    case 'int64':
      return 8;
    case 'guid':
      return 16;
    case 'bytes':
      return item.size ?? 0;
  }
}

function isNumeric(item: PropertyItem<unknown>): boolean {
  return item.type === 'int32' || item.type === 'uint32' || item.type === 'int64';
}

/**
 * Checks that `value` has the item's type and lies in its bounds/step.
 * @throws TypeError for a wrong type or size; RangeError for out-of-range or off-step values.
 */
export function checkPropertyValue(item: PropertyItem<unknown>, value: unknown): PropertyValue {
  const label = `property ${item.name} (id ${item.id})`;
  switch (item.type) {
    case 'int32':
    case 'uint32': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw new TypeError(`${label} takes an integer number, got ${String(value)}`);
      const [lo, hi] = item.type === 'int32' ? [-0x80000000, 0x7fffffff] : [0, 0xffffffff];
      if (value < lo || value > hi) throw new RangeError(`${label}: ${value} does not fit ${item.type}`);
      checkBounds(item, BigInt(value), label, value);
      return value;
    }
    case 'int64': {
      if (typeof value !== 'bigint') throw new TypeError(`${label} takes a bigint, got ${typeof value}`);
      if (value < -(2n ** 63n) || value >= 2n ** 63n)
        throw new RangeError(`${label}: ${value} does not fit int64`);
      checkBounds(item, value, label, value);
      return value;
    }
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError(`${label} takes a boolean, got ${typeof value}`);
      return value;
    case 'guid':
      if (!isGuid(value)) throw new TypeError(`${label} takes a normalised GUID, got ${String(value)}`);
      return value;
    case 'bytes':
      if (!ArrayBuffer.isView(value) || (value as ArrayBufferView).byteLength !== item.size) {
        throw new TypeError(`${label} takes exactly ${item.size} bytes`);
      }
      return new Uint8Array((value as Uint8Array).buffer, (value as Uint8Array).byteOffset, item.size);
  }
}

function checkBounds(item: PropertyItem<unknown>, v: bigint, label: string, shown: number | bigint): void {
  if (item.min !== undefined && v < BigInt(item.min))
    throw new RangeError(`${label}: ${shown} is below the minimum ${item.min}`);
  if (item.max !== undefined && v > BigInt(item.max))
    throw new RangeError(`${label}: ${shown} is above the maximum ${item.max}`);
  if (
    item.step !== undefined &&
    item.min !== undefined &&
    (v - BigInt(item.min)) % BigInt(item.step) !== 0n
  ) {
    throw new RangeError(`${label}: ${shown} is not on the step ${item.step} from ${item.min}`);
  }
}

/**
 * Validates an automation table: GUIDs, unique set GUIDs and item ids, sizes, bounds ordering,
 * defaults inside bounds, modes.
 * @throws TypeError / RangeError naming the offending item (a descriptor bug, found at load).
 */
export function validateAutomationTable(table: AutomationTable<unknown> | undefined, where: string): void {
  if (table === undefined) return;
  const sets = new Set<Guid>();
  for (const ps of table.properties ?? []) {
    if (!isGuid(ps.set))
      throw new TypeError(`${where}: property set GUID ${String(ps.set)} is not normalised`);
    if (sets.has(ps.set)) throw new TypeError(`${where}: property set ${ps.set} is declared twice`);
    sets.add(ps.set);
    const ids = new Set<number>();
    for (const item of ps.items) {
      const label = `${where}: property ${ps.set}/${item.id} (${item.name})`;
      if (!Number.isInteger(item.id) || item.id < 0 || item.id > 0xffffffff)
        throw new RangeError(`${label}: id must be a ULONG`);
      if (ids.has(item.id)) throw new TypeError(`${label}: id declared twice`);
      ids.add(item.id);
      if (item.type === 'bytes' && (!Number.isInteger(item.size) || (item.size ?? 0) <= 0))
        throw new RangeError(`${label}: bytes items need a positive size`);
      if (!isNumeric(item) && (item.min !== undefined || item.max !== undefined || item.step !== undefined)) {
        throw new TypeError(`${label}: only numeric items have min/max/step`);
      }
      if (item.min !== undefined && item.max !== undefined && BigInt(item.min) > BigInt(item.max))
        throw new RangeError(`${label}: min exceeds max`);
      if (item.step !== undefined && BigInt(item.step) <= 0n)
        throw new RangeError(`${label}: step must be positive`);
      if (item.default !== undefined) checkPropertyValue(item, item.default);
      if (item.modes !== undefined) {
        if (item.modes.length === 0 || item.modes.some((m) => m !== 'auto' && m !== 'manual'))
          throw new TypeError(`${label}: modes must be 'auto'/'manual'`);
        if (item.type !== 'int32' && item.type !== 'uint32')
          throw new TypeError(`${label}: modes need a 32-bit value`);
      }
      if (item.defaultMode !== undefined && !(item.modes ?? []).includes(item.defaultMode))
        throw new TypeError(`${label}: defaultMode is not one of modes`);
    }
  }
  const eventSets = new Set<Guid>();
  for (const es of table.events ?? []) {
    if (!isGuid(es.set)) throw new TypeError(`${where}: event set GUID ${String(es.set)} is not normalised`);
    if (eventSets.has(es.set)) throw new TypeError(`${where}: event set ${es.set} is declared twice`);
    eventSets.add(es.set);
    const ids = new Set<number>();
    for (const e of es.items) {
      if (!Number.isInteger(e.id) || e.id < 0)
        throw new RangeError(`${where}: event ${es.set}/${e.id} id must be a ULONG`);
      if (ids.has(e.id)) throw new TypeError(`${where}: event ${es.set}/${e.id} declared twice`);
      ids.add(e.id);
    }
  }
}
