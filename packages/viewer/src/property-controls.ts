// Maps a filter's KS properties (filter and topology-node items) to page controls, and page values back to KS values.
import { knownGuids, type Guid, type KsFilter, type PropertyMode, type PropertyValue } from '@ksemu/ks-core';

/** The kind of widget a property gets on the page. */
export type ControlKind = 'slider' | 'toggle' | 'menu' | 'button' | 'number' | 'readonly';

/** One property as the page sees it (JSON-ready: 64-bit numbers travel as strings). */
export interface PropertyControlInfo {
  /** Stable key the page sends back: `filter/set/id/node` (node `f` for the filter itself). */
  readonly key: string;
  readonly name: string;
  /** The filter's name (its factory's), for grouping. */
  readonly filterName: string;
  readonly setName: string;
  readonly node: number | null;
  readonly nodeName: string | null;
  readonly type: string;
  readonly control: ControlKind;
  readonly min?: number | string;
  readonly max?: number | string;
  readonly step?: number | string;
  readonly default?: number | string | boolean;
  readonly modes?: readonly PropertyMode[];
  readonly options?: ReadonlyArray<{ readonly value: number; readonly label: string }>;
  readonly canGet: boolean;
  readonly canSet: boolean;
}

/** Where a key points. */
export interface PropertyTarget {
  readonly filter: KsFilter;
  readonly set: Guid;
  readonly id: number;
  readonly node: number | undefined;
  readonly info: PropertyControlInfo;
}

// Menus need labels KS does not carry; these are the documented meanings of the values.
const MENU_LABELS: Readonly<Record<string, readonly string[]>> = {
  PowerlineFrequency: ['Disabled', '50 Hz', '60 Hz', 'Auto'],
  BacklightCompensation: ['Off', 'On', 'Strong'],
  TunerInput: ['Antenna', 'Cable'],
};

/** JSON-ready form of a property value (bigint → decimal string, bytes → hex). */
export function jsonValue(v: PropertyValue | undefined): number | string | boolean | null {
  if (v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return String(v);
}

/** The key of a property address on the `filterIndex`-th filter the viewer shows. */
export function propertyKey(filterIndex: number, set: Guid, id: number, node: number | undefined): string {
  return `${filterIndex}/${set}/${id}/${node ?? 'f'}`;
}

/** Every property of every filter as a control, keyed for lookup. */
export function propertyControls(filters: readonly KsFilter[]): Map<string, PropertyTarget> {
  const out = new Map<string, PropertyTarget>();
  filters.forEach((filter, index) => addFilter(out, filter, index));
  return out;
}

function addFilter(out: Map<string, PropertyTarget>, filter: KsFilter, filterIndex: number): void {
  const nodes = filter.descriptor.nodes ?? [];
  for (const p of filter.properties.list()) {
    const address = p.node === undefined ? {} : { node: p.node };
    const d = filter.properties.basicSupport(p.set, p.id, address);
    const key = propertyKey(filterIndex, p.set, p.id, p.node);
    const num = (v: number | bigint | undefined): number | string | undefined =>
      typeof v === 'bigint' ? v.toString() : v;
    const numeric = d.type === 'int32' || d.type === 'uint32' || d.type === 'int64';
    let control: ControlKind;
    let options: PropertyControlInfo['options'];
    const labels = MENU_LABELS[d.name];
    if (!d.canSet) control = 'readonly';
    else if (!d.canGet) control = 'button';
    else if (d.type === 'bool') control = 'toggle';
    else if (numeric && d.min !== undefined && d.max !== undefined) {
      const min = Number(d.min);
      const max = Number(d.max);
      if (labels && min >= 0 && max < labels.length) {
        control = 'menu';
        options = labels.slice(min, max + 1).map((label, i) => ({ value: min + i, label }));
      } else if (min === 0 && max === 1) control = 'toggle';
      else if (d.type === 'int64' || max - min > 1e6) control = 'number';
      else control = 'slider';
    } else if (numeric) control = 'number';
    else control = 'readonly';
    const node = p.node === undefined ? null : p.node;
    const info: PropertyControlInfo = {
      key,
      name: d.name,
      filterName: filter.descriptor.name,
      setName: knownGuids.nameOf(p.set) ?? p.set,
      node,
      nodeName: node === null ? null : (nodes[node]?.name ?? `node ${node}`),
      type: d.type,
      control,
      ...(d.min !== undefined ? { min: num(d.min) } : {}),
      ...(d.max !== undefined ? { max: num(d.max) } : {}),
      ...(d.step !== undefined ? { step: num(d.step) } : {}),
      ...(d.default !== undefined ? { default: jsonValue(d.default) as number | string | boolean } : {}),
      ...(d.modes ? { modes: d.modes } : {}),
      ...(options ? { options } : {}),
      canGet: d.canGet,
      canSet: d.canSet,
    };
    out.set(key, { filter, set: p.set, id: p.id, node: p.node, info });
  }
}

/**
 * Converts a page value to the property's KS type.
 * @throws TypeError when the value cannot be of that type (the KS handler checks range and step).
 */
export function toPropertyValue(type: string, name: string, value: number | string | boolean): PropertyValue {
  switch (type) {
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      throw new TypeError(`${name} takes on/off, got ${JSON.stringify(value)}`);
    case 'int32':
    case 'uint32': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n))
        throw new TypeError(`${name} takes a whole number, got ${JSON.stringify(value)}`);
      return n;
    }
    case 'int64': {
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
      throw new TypeError(`${name} takes a whole number, got ${JSON.stringify(value)}`);
    }
    default:
      throw new TypeError(`${name} is a ${type} property and cannot be set from the page`);
  }
}
