// The one central property handler: typed and raw (KSPROPERTY-like) get/set/basic support with validation, defaults, topology addressing and change events.
import { guidFromBytes, guidToBytes, isGuid, type Guid } from './guid.js';
import { KsError, isKsError } from './ks-error.js';
import { PropTypeSetId, knownGuids } from './known-guids.js';
import { TypedEmitter } from './event.js';
import type { Logger } from './logger.js';
import {
  checkPropertyValue,
  valueSize,
  type AutomationTable,
  type PropertyContext,
  type PropertyControl,
  type PropertyItem,
  type PropertyMode,
  type PropertyValue,
} from './property-set.js';

/** KSPROPERTY_TYPE_* flags of the raw API. */
export const PropertyRequestFlags = Object.freeze({
  GET: 0x00000001,
  SET: 0x00000002,
  BASICSUPPORT: 0x00000200,
  DEFAULTVALUES: 0x00010000,
  TOPOLOGY: 0x10000000,
});

/** KSPROPERTY_*_FLAGS_AUTO / _MANUAL as they appear in the raw control layout. */
export const ControlFlags = Object.freeze({ AUTO: 0x1, MANUAL: 0x2 });

/** A raw request: which property, what to do (KSPROPERTY_TYPE_* flags) and, for topology, which node. */
export interface RawPropertyRequest {
  readonly set: Guid;
  readonly id: number;
  /** Exactly one of GET, SET, BASICSUPPORT, optionally OR-ed with TOPOLOGY when `node` is given. */
  readonly flags: number;
  readonly node?: number;
  /** KSP_PIN PinId, for pin-scoped filter properties (KSPROPSETID_Pin). */
  readonly pin?: number;
}

/** Result of a raw request: bytes written (get, basic support) or read (set). */
export interface RawPropertyResult {
  readonly bytes: number;
  /** True when the caller passed an empty buffer to learn the size (STATUS_BUFFER_OVERFLOW): nothing was read or written. */
  readonly sizeOnly: boolean;
}

/** Typed basic-support answer (what KSPROPERTY_TYPE_BASICSUPPORT describes). */
export interface PropertyDescription {
  readonly set: Guid;
  readonly id: number;
  readonly name: string;
  readonly type: PropertyItem['type'];
  readonly canGet: boolean;
  readonly canSet: boolean;
  readonly min: number | bigint | undefined;
  readonly max: number | bigint | undefined;
  readonly step: number | bigint | undefined;
  readonly default: PropertyValue | undefined;
  readonly modes: readonly PropertyMode[] | undefined;
  /** Raw value size in bytes (12 for value + flags + capabilities layouts). */
  readonly rawSize: number;
}

/** A change of a property's value or mode. */
export interface PropertyChange {
  readonly set: Guid;
  readonly id: number;
  readonly node: number | undefined;
  readonly value: PropertyValue;
  readonly mode: PropertyMode | undefined;
}

/** Addressing options of typed calls. */
export interface PropertyAddress {
  /** Topology node id for per-node properties (KSP_NODE). */
  readonly node?: number;
  /** Pin type id for pin-scoped filter properties (KSP_PIN, e.g. KSPROPSETID_Pin). */
  readonly pin?: number;
}

/** Minidriver-level handlers used for items without their own `get`/`set`. */
export interface PropertyFallback {
  get?(
    ctx: PropertyContext<unknown>,
  ): PropertyValue | PropertyControl | Promise<PropertyValue | PropertyControl>;
  set?(
    ctx: PropertyContext<unknown>,
    value: PropertyValue,
    mode: PropertyMode | undefined,
  ): void | Promise<void>;
}

/** Construction options of {@link PropertyHandler} (ks-core internal; filters and pins build one each). */
export interface PropertyHandlerOptions {
  /** Describes the owner in error messages, e.g. `filter 'Camera'`. */
  readonly owner: string;
  readonly table: AutomationTable<unknown> | undefined;
  /** Automation tables of topology nodes by node id (filters only). */
  readonly nodes?: readonly (AutomationTable<unknown> | undefined)[];
  /** Sets ks-core adds itself; `list()` omits them by default. */
  readonly builtInSets?: ReadonlySet<Guid>;
  /** Number of pin types, for validating the pin id of pin-scoped items (filters only). */
  readonly pinCount?: number;
  /** The minidriver context handed to handlers. */
  readonly context: () => unknown;
  readonly fallback?: PropertyFallback;
  /** Throws (typed) when the owner can no longer take calls (closed, removed). */
  readonly guard: (operation: string) => void;
  readonly logger: Logger;
}

interface Resolved {
  readonly item: PropertyItem<unknown>;
  readonly set: Guid;
  readonly node: number | undefined;
  readonly pin: number | undefined;
  readonly key: string;
}

const DESCRIPTION_SIZE = 40; // KSPROPERTY_DESCRIPTION
const MEMBERS_HEADER_SIZE = 16; // KSPROPERTY_MEMBERSHEADER
const VT: Readonly<Record<PropertyItem['type'], number>> = {
  int32: 3,
  uint32: 19,
  int64: 20,
  bool: 11,
  guid: 72,
  bytes: 0x1011,
};

/**
 * Central property handling for one filter or pin, over its automation table and (for filters)
 * its topology nodes' tables. All validation lives here so minidriver handlers only see legal
 * values: unknown set/id/node → `KsError('NotFound')`; wrong value type → `TypeError`; out of
 * range or off step → `RangeError`; set on a read-only item (or get on write-only) →
 * `KsError('InvalidDeviceRequest')`. Raw calls report every failure as a `KsError` (with
 * `requiredSize` for `BufferTooSmall`) because their callers speak status codes.
 */
export class PropertyHandler {
  readonly #opts: PropertyHandlerOptions;
  readonly #values = new Map<string, PropertyControl>();
  readonly #events = new TypedEmitter<{ change: [PropertyChange] }>();

  constructor(opts: PropertyHandlerOptions) {
    this.#opts = opts;
  }

  /**
   * Subscribes to changes (successful sets that changed value or mode, and device-reported
   * changes via {@link notifyChanged}). Listener errors are caught. Returns an unsubscribe function.
   */
  onChange(listener: (change: PropertyChange) => void): () => void {
    return this.#events.on('change', listener);
  }

  /** Whether the property exists (at `node` when given). Never throws for unknown ids. */
  has(set: Guid, id: number, address: PropertyAddress = {}): boolean {
    return this.#find(set, id, address.node) !== undefined;
  }

  /**
   * The properties of this object's own table, then each node's. The standard sets ks-core
   * answers itself (KSPROPSETID_Pin on filters, KSPROPSETID_Connection on pins) are left out
   * unless `builtIn` is true; pin-scoped items among them need a `pin` address.
   */
  list(
    options: { builtIn?: boolean } = {},
  ): Array<{ set: Guid; id: number; name: string; node: number | undefined }> {
    const out: Array<{ set: Guid; id: number; name: string; node: number | undefined }> = [];
    const add = (table: AutomationTable<unknown> | undefined, node: number | undefined): void => {
      for (const ps of table?.properties ?? []) {
        if (options.builtIn !== true && this.#opts.builtInSets?.has(ps.set) === true) continue;
        for (const item of ps.items) out.push({ set: ps.set, id: item.id, name: item.name, node });
      }
    };
    add(this.#opts.table, undefined);
    (this.#opts.nodes ?? []).forEach((t, i) => add(t, i));
    return out;
  }

  /**
   * Reads a value.
   * @throws KsError NotFound (unknown set/id/node), InvalidDeviceRequest (write-only), the
   *   handler's KsError; KsStateError when the owner is closed.
   */
  async get(set: Guid, id: number, address: PropertyAddress = {}): Promise<PropertyValue> {
    return (await this.getControl(set, id, address)).value;
  }

  /** Reads value and mode (for items with auto/manual modes). Errors as {@link get}. */
  async getControl(set: Guid, id: number, address: PropertyAddress = {}): Promise<PropertyControl> {
    this.#opts.guard('getProperty');
    const r = this.#resolve(set, id, address);
    if (r.item.access === 'writeonly')
      throw new KsError('InvalidDeviceRequest', `${this.#label(r)} is write-only`);
    const getter = r.item.get ?? this.#opts.fallback?.get;
    if (getter === undefined) return this.#stored(r);
    let got: PropertyValue | PropertyControl;
    try {
      got = await getter.call(r.item, this.#ctx(r));
    } catch (err) {
      throw handlerError(err, `${this.#label(r)}: get failed`);
    }
    const control = isControl(got) ? got : { value: got, mode: this.#storedMode(r) };
    return Object.freeze({ value: checkPropertyValue(r.item, control.value), mode: control.mode });
  }

  /**
   * Validates and applies a value (and mode). Emits `change` when value or mode changed.
   * @throws TypeError (wrong type), RangeError (out of range / off step), KsError NotFound,
   *   InvalidDeviceRequest (read-only, or a mode the item lacks), the handler's KsError;
   *   KsStateError when the owner is closed.
   */
  async set(
    set: Guid,
    id: number,
    value: PropertyValue,
    options: PropertyAddress & { mode?: PropertyMode } = {},
  ): Promise<void> {
    this.#opts.guard('setProperty');
    const r = this.#resolve(set, id, options);
    if (r.item.access === 'readonly')
      throw new KsError('InvalidDeviceRequest', `${this.#label(r)} is read-only`);
    const checked = checkPropertyValue(r.item, value);
    const mode = options.mode ?? this.#storedMode(r);
    if (options.mode !== undefined && !(r.item.modes ?? []).includes(options.mode)) {
      throw new KsError('InvalidDeviceRequest', `${this.#label(r)} does not support mode ${options.mode}`);
    }
    const setter = r.item.set ?? this.#opts.fallback?.set;
    if (setter !== undefined) {
      try {
        await setter.call(r.item, this.#ctx(r), checked, mode);
      } catch (err) {
        throw handlerError(err, `${this.#label(r)}: set failed`);
      }
    }
    this.#store(r, checked, mode);
  }

  /**
   * Records a value the device changed on its own (e.g. auto exposure) and emits `change` if it
   * differs. For minidrivers. @throws as {@link set} for unknown/invalid values.
   */
  notifyChanged(
    set: Guid,
    id: number,
    value: PropertyValue,
    options: PropertyAddress & { mode?: PropertyMode } = {},
  ): void {
    const r = this.#resolve(set, id, options);
    this.#store(r, checkPropertyValue(r.item, value), options.mode ?? this.#storedMode(r));
  }

  /** Basic support: access, type, bounds, step, default and modes. @throws KsError NotFound. */
  basicSupport(set: Guid, id: number, address: PropertyAddress = {}): PropertyDescription {
    this.#opts.guard('basicSupport');
    const { item } = this.#resolve(set, id, address);
    return Object.freeze({
      set,
      id,
      name: item.name,
      type: item.type,
      canGet: item.access !== 'writeonly',
      canSet: item.access !== 'readonly',
      min: item.min,
      max: item.max,
      step: item.step,
      default: item.default,
      modes: item.modes,
      rawSize: rawSize(item),
    });
  }

  /** The declared default value. @throws KsError NotFound, or NotSupported when none is declared. */
  defaultValue(set: Guid, id: number, address: PropertyAddress = {}): PropertyValue {
    const r = this.#resolve(set, id, address);
    if (r.item.default === undefined)
      throw new KsError('NotSupported', `${this.#label(r)} declares no default value`);
    return r.item.default;
  }

  /**
   * The raw (KSPROPERTY-like) entry point used by tools and the USB/IP export. `data` is the
   * value buffer after the KSPROPERTY/KSP_NODE header: filled for GET and BASICSUPPORT, read for
   * SET. An empty buffer asks for the size. Layouts: scalars little endian; items with modes use
   * value (LONG) + flags (ULONG) + capabilities (ULONG), as KSPROPERTY_VIDEOPROCAMP_S after its
   * header; BASICSUPPORT writes KSPROPERTY_DESCRIPTION [+ stepped-range and default member lists].
   * @throws KsError for every failure: NotFound, BufferTooSmall (with requiredSize),
   *   InvalidParameter (bad flags, bad value, node/TOPOLOGY mismatch), InvalidDeviceRequest.
   */
  async raw(request: RawPropertyRequest, data: Uint8Array): Promise<RawPropertyResult> {
    if (!ArrayBuffer.isView(data))
      throw new KsError('InvalidParameter', 'raw property data must be a Uint8Array');
    if (!isGuid(request.set))
      throw new KsError('InvalidParameter', `property set ${String(request.set)} is not a GUID`);
    const topology = (request.flags & PropertyRequestFlags.TOPOLOGY) !== 0;
    if (topology !== (request.node !== undefined)) {
      throw new KsError(
        'InvalidParameter',
        'KSPROPERTY_TYPE_TOPOLOGY must be set exactly when a node is addressed',
      );
    }
    const op = request.flags & ~PropertyRequestFlags.TOPOLOGY;
    const address = {
      ...(request.node === undefined ? {} : { node: request.node }),
      ...(request.pin === undefined ? {} : { pin: request.pin }),
    };
    try {
      if (op === PropertyRequestFlags.GET) {
        const r = this.#resolve(request.set, request.id, request);
        const size = rawSize(r.item);
        if (data.length === 0) return { bytes: size, sizeOnly: true };
        if (data.length < size)
          throw new KsError('BufferTooSmall', `${this.#label(r)} needs ${size} bytes, got ${data.length}`, {
            requiredSize: size,
          });
        const control = await this.getControl(request.set, request.id, address);
        encodeRaw(r.item, control, data);
        return { bytes: size, sizeOnly: false };
      }
      if (op === PropertyRequestFlags.SET) {
        const r = this.#resolve(request.set, request.id, request);
        const size = rawSize(r.item);
        if (data.length < size)
          throw new KsError('BufferTooSmall', `${this.#label(r)} needs ${size} bytes, got ${data.length}`, {
            requiredSize: size,
          });
        const { value, mode } = decodeRaw(r.item, data);
        await this.set(request.set, request.id, value, mode === undefined ? address : { ...address, mode });
        return { bytes: size, sizeOnly: false };
      }
      if (op === PropertyRequestFlags.BASICSUPPORT) {
        this.#opts.guard('basicSupport');
        const r = this.#resolve(request.set, request.id, request);
        return encodeBasicSupport(r.item, data);
      }
      throw new KsError(
        'InvalidParameter',
        `unsupported KSPROPERTY_TYPE flags 0x${request.flags.toString(16)}`,
      );
    } catch (err) {
      if (isKsError(err)) throw err;
      throw KsError.from(err, 'InvalidParameter', 'raw property request rejected');
    }
  }

  /** Forgets listeners (called when the owner closes). */
  dispose(): void {
    this.#events.removeAllListeners();
  }

  #find(set: Guid, id: number, node: number | undefined): PropertyItem<unknown> | undefined {
    const table = node === undefined ? this.#opts.table : this.#opts.nodes?.[node];
    return table?.properties?.find((ps) => ps.set === set)?.items.find((i) => i.id === id);
  }

  #resolve(set: Guid, id: number, address: PropertyAddress): Resolved {
    if (!isGuid(set)) throw new TypeError(`property set must be a normalised GUID, got ${String(set)}`);
    if (!Number.isInteger(id) || id < 0)
      throw new TypeError(`property id must be a non-negative integer, got ${String(id)}`);
    const { node, pin } = address;
    const setName = knownGuids.describe(set);
    if (node !== undefined) {
      if (!Number.isInteger(node) || node < 0 || node >= (this.#opts.nodes?.length ?? 0)) {
        throw new KsError('NotFound', `${this.#opts.owner} has no topology node ${String(node)}`);
      }
    }
    const where = node === undefined ? this.#opts.owner : `${this.#opts.owner} node ${node}`;
    const table = node === undefined ? this.#opts.table : this.#opts.nodes?.[node];
    const ps = table?.properties?.find((p) => p.set === set);
    if (ps === undefined) throw new KsError('NotFound', `${where} has no property set ${setName}`);
    const item = ps.items.find((i) => i.id === id);
    if (item === undefined) throw new KsError('NotFound', `${where} has no property ${id} in set ${setName}`);
    if (item.pinScoped === true) {
      if (pin === undefined)
        throw new KsError('InvalidParameter', `${where}: property ${item.name} needs a pin id (KSP_PIN)`);
      if (!Number.isInteger(pin) || pin < 0 || pin >= (this.#opts.pinCount ?? 0)) {
        throw new KsError('NotFound', `${where} has no pin type ${String(pin)}`);
      }
    } else if (pin !== undefined) {
      throw new KsError('InvalidParameter', `${where}: property ${item.name} is not addressed by pin id`);
    }
    return { item, set, node, pin, key: `${node ?? -1}/${pin ?? -1}/${set}/${id}` };
  }

  #label(r: Resolved): string {
    const where = r.node === undefined ? this.#opts.owner : `${this.#opts.owner} node ${r.node}`;
    return `${where}: property ${r.item.name} (${knownGuids.describe(r.set)}/${r.item.id})`;
  }

  #ctx(r: Resolved): PropertyContext<unknown> {
    return Object.freeze({
      context: this.#opts.context(),
      set: r.set,
      id: r.item.id,
      node: r.node,
      pin: r.pin,
      item: r.item,
    });
  }

  #stored(r: Resolved): PropertyControl {
    const v = this.#values.get(r.key);
    if (v !== undefined) return v;
    if (r.item.default === undefined) {
      throw new KsError('NotSupported', `${this.#label(r)} has neither a get handler nor a default value`);
    }
    return {
      value: r.item.default,
      mode: r.item.modes === undefined ? undefined : (r.item.defaultMode ?? r.item.modes[0]),
    };
  }

  #storedMode(r: Resolved): PropertyMode | undefined {
    if (r.item.modes === undefined) return undefined;
    return this.#values.get(r.key)?.mode ?? r.item.defaultMode ?? r.item.modes[0];
  }

  #store(r: Resolved, value: PropertyValue, mode: PropertyMode | undefined): void {
    let previous: PropertyControl | undefined;
    try {
      previous = this.#stored(r);
    } catch {
      previous = undefined;
    }
    const next = Object.freeze({ value, mode });
    this.#values.set(r.key, next);
    if (previous === undefined || !valuesEqual(previous.value, value) || previous.mode !== mode) {
      this.#opts.logger.debug({ set: r.set, id: r.item.id, node: r.node }, 'property changed');
      this.#events.emit('change', Object.freeze({ set: r.set, id: r.item.id, node: r.node, value, mode }));
    }
  }
}

/**
 * Maps what a handler threw: KsErrors pass through; TypeError/RangeError mean the handler found
 * the value unacceptable (e.g. a field inside a structure) → InvalidParameter; anything else is a
 * device failure. The original is kept as `cause`.
 */
function handlerError(err: unknown, message: string): KsError {
  if (err instanceof TypeError || err instanceof RangeError)
    return KsError.from(err, 'InvalidParameter', message);
  return KsError.from(err, 'DeviceFailure', message);
}

function isControl(v: PropertyValue | PropertyControl): v is PropertyControl {
  return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && 'value' in v;
}

function valuesEqual(a: PropertyValue, b: PropertyValue): boolean {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as Uint8Array;
    const y = b as Uint8Array;
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return a === b;
}

/** Raw size of an item: the value, or value + flags + capabilities for items with modes. */
export function rawSize(item: PropertyItem<unknown>): number {
  return item.modes === undefined ? valueSize(item) : 12;
}

function modeFlags(modes: readonly PropertyMode[] | undefined): number {
  return (modes ?? []).reduce((f, m) => f | (m === 'auto' ? ControlFlags.AUTO : ControlFlags.MANUAL), 0);
}

function encodeRaw(item: PropertyItem<unknown>, control: PropertyControl, out: Uint8Array): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const v = control.value;
  switch (item.type) {
    case 'int32':
      view.setInt32(0, v as number, true);
      break;
    case 'uint32':
      view.setUint32(0, v as number, true);
      break;
    case 'int64':
      view.setBigInt64(0, v as bigint, true);
      break;
    case 'bool':
      view.setUint32(0, v === true ? 1 : 0, true);
      break;
    case 'guid':
      guidToBytes(v as Guid, out, 0);
      break;
    case 'bytes':
      out.set(v as Uint8Array, 0);
      break;
  }
  if (item.modes !== undefined) {
    view.setUint32(4, control.mode === undefined ? 0 : modeFlags([control.mode]), true);
    view.setUint32(8, modeFlags(item.modes), true);
  }
}

function decodeRaw(
  item: PropertyItem<unknown>,
  data: Uint8Array,
): { value: PropertyValue; mode: PropertyMode | undefined } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let value: PropertyValue;
  switch (item.type) {
    case 'int32':
      value = view.getInt32(0, true);
      break;
    case 'uint32':
      value = view.getUint32(0, true);
      break;
    case 'int64':
      value = view.getBigInt64(0, true);
      break;
    case 'bool': {
      const b = view.getUint32(0, true);
      if (b > 1)
        throw new KsError('InvalidParameter', `property ${item.name}: BOOL must be 0 or 1, got ${b}`);
      value = b === 1;
      break;
    }
    case 'guid':
      value = guidFromBytes(data, 0);
      break;
    case 'bytes':
      value = data.slice(0, item.size);
      break;
  }
  let mode: PropertyMode | undefined;
  if (item.modes !== undefined) {
    const flags = view.getUint32(4, true);
    if (flags === ControlFlags.AUTO) mode = 'auto';
    else if (flags === ControlFlags.MANUAL) mode = 'manual';
    else
      throw new KsError(
        'InvalidParameter',
        `property ${item.name}: flags must be AUTO (1) or MANUAL (2), got ${flags}`,
      );
  }
  return { value, mode };
}

function encodeBasicSupport(item: PropertyItem<unknown>, data: Uint8Array): RawPropertyResult {
  const numeric = item.type === 'int32' || item.type === 'uint32' || item.type === 'int64';
  const wide = item.type === 'int64';
  const hasRange = numeric && item.min !== undefined && item.max !== undefined;
  const hasDefault = item.default !== undefined && item.type !== 'bytes';
  const rangeSize = hasRange ? MEMBERS_HEADER_SIZE + (wide ? 24 : 16) : 0;
  const defaultSize = hasDefault ? MEMBERS_HEADER_SIZE + valueSize(item) : 0;
  const full = DESCRIPTION_SIZE + rangeSize + defaultSize;
  const access =
    (item.access !== 'writeonly' ? PropertyRequestFlags.GET : 0) |
    (item.access !== 'readonly' ? PropertyRequestFlags.SET : 0) |
    PropertyRequestFlags.BASICSUPPORT;
  if (data.length === 0) return { bytes: full, sizeOnly: true };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // KS lets a caller ask for only AccessFlags (a ULONG) or only the fixed description.
  if (data.length < 4)
    throw new KsError('BufferTooSmall', `basic support needs at least 4 bytes`, { requiredSize: full });
  view.setUint32(0, access, true);
  if (data.length < DESCRIPTION_SIZE) return { bytes: 4, sizeOnly: false };
  view.setUint32(4, full, true); // DescriptionSize
  guidToBytes(PropTypeSetId.General, data, 8);
  view.setUint32(24, VT[item.type], true);
  view.setUint32(28, 0, true);
  view.setUint32(32, (hasRange ? 1 : 0) + (hasDefault ? 1 : 0), true); // MembersListCount
  view.setUint32(36, 0, true);
  if (data.length < full) return { bytes: DESCRIPTION_SIZE, sizeOnly: false };
  let at = DESCRIPTION_SIZE;
  if (hasRange) {
    view.setUint32(at, 2, true); // KSPROPERTY_MEMBER_STEPPEDRANGES
    view.setUint32(at + 4, wide ? 24 : 16, true);
    view.setUint32(at + 8, 1, true);
    view.setUint32(at + 12, 0, true);
    at += MEMBERS_HEADER_SIZE;
    if (wide) {
      view.setBigUint64(at, BigInt(item.step ?? 1n), true);
      view.setBigInt64(at + 8, BigInt(item.min!), true);
      view.setBigInt64(at + 16, BigInt(item.max!), true);
      at += 24;
    } else {
      view.setUint32(at, Number(item.step ?? 1), true);
      view.setUint32(at + 4, 0, true);
      if (item.type === 'uint32') {
        view.setUint32(at + 8, Number(item.min), true);
        view.setUint32(at + 12, Number(item.max), true);
      } else {
        view.setInt32(at + 8, Number(item.min), true);
        view.setInt32(at + 12, Number(item.max), true);
      }
      at += 16;
    }
  }
  if (hasDefault) {
    view.setUint32(at, 3, true); // KSPROPERTY_MEMBER_VALUES
    view.setUint32(at + 4, valueSize(item), true);
    view.setUint32(at + 8, 1, true);
    view.setUint32(at + 12, 1, true); // KSPROPERTY_MEMBER_FLAG_DEFAULT
    at += MEMBERS_HEADER_SIZE;
    encodeRaw({ ...item, modes: undefined }, { value: item.default!, mode: undefined }, data.subarray(at));
    at += valueSize(item);
  }
  return { bytes: full, sizeOnly: false };
}
