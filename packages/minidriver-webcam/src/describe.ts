// describeDevice/formatDescription: a JSON and text dump of any ks-core device (factories, pins, data ranges, property sets, nodes, connections, medium links).
import {
  FILTER_NODE,
  knownGuids,
  subtypeName,
  type AutomationTable,
  type DataRange,
  type Guid,
  type KsDevice,
  type Medium,
  type PinDescriptor,
  type PropertyItem,
} from '@ksemu/ks-core';

/** A GUID with its registered name (or the GUID text when it has none). */
export interface NamedGuid {
  readonly guid: string;
  readonly name: string;
}

/** JSON form of one property item (bounds as numbers or decimal strings for 64-bit values). */
export interface PropertyItemDescription {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  /** For `bytes` items: the structure's size. */
  readonly size?: number;
  readonly access: string;
  readonly min?: number | string;
  readonly max?: number | string;
  readonly step?: number | string;
  readonly default?: number | string | boolean;
  readonly modes?: readonly string[];
  readonly defaultMode?: string;
}

/** JSON form of one property set. */
export interface PropertySetDescription {
  readonly set: NamedGuid;
  readonly items: readonly PropertyItemDescription[];
}

/** JSON form of one event set. */
export interface EventSetDescription {
  readonly set: NamedGuid;
  readonly events: ReadonlyArray<{ readonly id: number; readonly name: string }>;
}

/** JSON form of a data range; times are decimal strings of 100 ns units. */
export type DataRangeDescription =
  | {
      readonly kind: 'video';
      readonly majorType: NamedGuid;
      readonly subtype: NamedGuid;
      readonly specifier: NamedGuid;
      readonly bitCount: number;
      readonly width: readonly [number, number, number];
      readonly height: readonly [number, number, number];
      readonly frameIntervals: readonly string[] | { readonly min: string; readonly max: string };
      readonly default: { readonly width: number; readonly height: number; readonly frameInterval: string };
      readonly maxImageSize?: number;
    }
  | {
      readonly kind: 'generic';
      readonly majorType: NamedGuid;
      readonly subtype: NamedGuid;
      readonly specifier: NamedGuid;
      readonly sampleSize: number;
    };

/** JSON form of a medium. */
export interface MediumDescription {
  readonly set: NamedGuid;
  readonly id: number;
  readonly flags: number;
}

/** JSON form of a pin type. */
export interface PinDescription {
  readonly id: number;
  readonly name: string;
  readonly category: NamedGuid | null;
  readonly dataFlow: string;
  readonly communication: string;
  readonly instances: { readonly possible: number | 'unlimited'; readonly necessary: number };
  readonly mediums: readonly MediumDescription[];
  readonly framing: {
    readonly frames: number;
    readonly alignment: number;
    readonly minFrameSize: number;
    readonly maxFrameSize: number;
  };
  readonly providesClock: boolean;
  readonly dataRanges: readonly DataRangeDescription[];
  readonly properties: readonly PropertySetDescription[];
}

/** JSON form of a topology node. */
export interface NodeDescription {
  readonly id: number;
  readonly name: string;
  readonly type: NamedGuid;
  readonly properties: readonly PropertySetDescription[];
}

/** JSON form of a topology connection; node `null` means the filter's own pin. */
export interface ConnectionDescription {
  readonly from: { readonly node: number | null; readonly pin: number };
  readonly to: { readonly node: number | null; readonly pin: number };
}

/** JSON form of a filter factory (its filter type). */
export interface FactoryDescription {
  readonly index: number;
  readonly name: string;
  readonly referenceGuid: string;
  readonly categories: readonly NamedGuid[];
  readonly pins: readonly PinDescription[];
  readonly nodes: readonly NodeDescription[];
  readonly connections: readonly ConnectionDescription[];
  readonly properties: readonly PropertySetDescription[];
  readonly events: readonly EventSetDescription[];
}

/** A physical connection between two filters' pins: an output pin and an input pin with the same medium. */
export interface MediumLink {
  readonly from: { readonly factory: number; readonly pin: number };
  readonly to: { readonly factory: number; readonly pin: number };
  readonly medium: MediumDescription;
}

/** JSON form of a device: what `ksemu describe` prints with `--json`. */
export interface DeviceDescription {
  readonly device: string;
  readonly factories: readonly FactoryDescription[];
  readonly mediumLinks: readonly MediumLink[];
}

function named(g: Guid): NamedGuid {
  return { guid: g, name: knownGuids.describe(g) };
}

function num(v: number | bigint | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'bigint' ? v.toString() : v;
}

function describeItem(item: PropertyItem<unknown>): PropertyItemDescription {
  const out: Record<string, unknown> = {
    id: item.id,
    name: item.name,
    type: item.type,
    ...(item.type === 'bytes' ? { size: item.size } : {}),
    access: item.access ?? 'readwrite',
  };
  if (item.min !== undefined) out.min = num(item.min);
  if (item.max !== undefined) out.max = num(item.max);
  if (item.step !== undefined) out.step = num(item.step);
  const d = item.default;
  if (typeof d === 'number' || typeof d === 'boolean') out.default = d;
  else if (typeof d === 'bigint') out.default = d.toString();
  else if (typeof d === 'string') out.default = d;
  if (item.modes !== undefined) {
    out.modes = [...item.modes];
    out.defaultMode = item.defaultMode ?? item.modes[0];
  }
  return out as unknown as PropertyItemDescription;
}

function describeSets(table: AutomationTable<unknown> | undefined): PropertySetDescription[] {
  return (table?.properties ?? []).map((ps) => ({ set: named(ps.set), items: ps.items.map(describeItem) }));
}

function describeRange(r: DataRange): DataRangeDescription {
  if (r.kind === 'generic') {
    return {
      kind: 'generic',
      majorType: named(r.majorType),
      subtype: named(r.subtype),
      specifier: named(r.specifier),
      sampleSize: r.sampleSize,
    };
  }
  return {
    kind: 'video',
    majorType: named(r.majorType),
    subtype: { guid: r.subtype, name: subtypeName(r.subtype) },
    specifier: named(r.specifier),
    bitCount: r.bitCount,
    width: [r.minWidth, r.maxWidth, r.widthGranularity],
    height: [r.minHeight, r.maxHeight, r.heightGranularity],
    frameIntervals:
      r.frameIntervals !== undefined
        ? r.frameIntervals.map((t) => t.toString())
        : { min: r.minFrameInterval.toString(), max: r.maxFrameInterval.toString() },
    default: {
      width: r.defaultWidth,
      height: r.defaultHeight,
      frameInterval: r.defaultFrameInterval.toString(),
    },
    ...(r.maxImageSize === undefined ? {} : { maxImageSize: r.maxImageSize }),
  };
}

function describeMedium(m: Medium): MediumDescription {
  return { set: named(m.set), id: m.id, flags: m.flags };
}

function describePin(p: PinDescriptor<unknown>, id: number): PinDescription {
  return {
    id,
    name: p.name,
    category: p.category === undefined ? null : named(p.category),
    dataFlow: p.dataFlow,
    communication: p.communication,
    instances: {
      possible: p.instances.possible === Infinity ? 'unlimited' : p.instances.possible,
      necessary: p.instances.necessary,
    },
    mediums: p.mediums.map(describeMedium),
    framing: {
      frames: p.framing.frames,
      alignment: p.framing.alignment,
      minFrameSize: p.framing.minFrameSize,
      maxFrameSize: p.framing.maxFrameSize,
    },
    providesClock: p.providesClock,
    dataRanges: p.dataRanges.map(describeRange),
    properties: describeSets(p.automation),
  };
}

/** Two mediums name the same physical connection (KSMEDIUM equality: set and id; flags are not compared). */
export function sameMedium(a: Medium, b: Medium): boolean {
  return a.set === b.set && a.id === b.id;
}

/**
 * Every physical link of a device's filters: an output pin of one factory and an input pin of
 * another carrying an equal medium (as the Windows graph builder matches KSPIN_MEDIUMs).
 * KSMEDIUMSETID_Standard id 0 is the "no particular connection" medium and never links.
 */
export function mediumLinks(device: KsDevice): MediumLink[] {
  const links: MediumLink[] = [];
  const standardNone = (m: Medium): boolean =>
    m.id === 0 && knownGuids.nameOf(m.set) === 'KSMEDIUMSETID_Standard';
  device.factories.forEach((fa, a) => {
    fa.descriptor.pins.forEach((pa, i) => {
      if (pa.dataFlow !== 'out') return;
      for (const ma of pa.mediums) {
        if (standardNone(ma)) continue;
        device.factories.forEach((fb, b) => {
          if (b === a) return;
          fb.descriptor.pins.forEach((pb, j) => {
            if (pb.dataFlow !== 'in') return;
            if (pb.mediums.some((mb) => sameMedium(ma, mb))) {
              links.push({
                from: { factory: a, pin: i },
                to: { factory: b, pin: j },
                medium: describeMedium(ma),
              });
            }
          });
        });
      }
    });
  });
  return links;
}

/**
 * A JSON description of a device: every filter factory with its categories, pin types (data
 * ranges, mediums, framing, instance counts, pin properties), topology nodes with their property
 * sets, topology connections, filter properties, and the medium links between factories.
 * Describes the frozen descriptors only: touches no hardware and works on a closed device.
 */
export function describeDevice(device: KsDevice): DeviceDescription {
  const factories = device.factories.map((f, index): FactoryDescription => {
    const d = f.descriptor;
    return {
      index,
      name: d.name,
      referenceGuid: d.referenceGuid,
      categories: d.categories.map(named),
      pins: d.pins.map((p, i) => describePin(p, i)),
      nodes: d.nodes.map((n, i) => ({
        id: i,
        name: n.name,
        type: named(n.type),
        properties: describeSets(n.automation),
      })),
      connections: d.connections.map((c) => ({
        from: { node: c.fromNode === FILTER_NODE ? null : c.fromNode, pin: c.fromPin },
        to: { node: c.toNode === FILTER_NODE ? null : c.toNode, pin: c.toPin },
      })),
      properties: describeSets(d.automation),
      events: (d.automation?.events ?? []).map((es) => ({
        set: named(es.set),
        events: es.items.map((e) => ({ id: e.id, name: e.name })),
      })),
    };
  });
  return { device: device.name, factories, mediumLinks: mediumLinks(device) };
}

function rate(interval: string): string {
  // 333333 × 100 ns is "30" fps as tables list it; 333667 is 29.97.
  return (10_000_000 / Number(interval)).toFixed(2).replace(/\.00$/, '');
}

function rangeOfRates(r: { min: string; max: string }): string {
  return r.min === r.max ? rate(r.min) : `${rate(r.max)}..${rate(r.min)}`;
}

function formatRange(r: DataRangeDescription): string {
  if (r.kind === 'generic') return `${r.majorType.name} / ${r.subtype.name} (${r.sampleSize} B)`;
  const size = (v: readonly [number, number, number]): string =>
    v[0] === v[1] ? String(v[0]) : `${v[0]}..${v[1]}/${v[2]}`;
  const rates = Array.isArray(r.frameIntervals)
    ? (r.frameIntervals as readonly string[]).map(rate).join(',')
    : rangeOfRates(r.frameIntervals as { min: string; max: string });
  const max = r.maxImageSize === undefined ? '' : ` max ${r.maxImageSize} B`;
  return `${r.subtype.name} ${size(r.width)}x${size(r.height)} @ ${rates} fps (default ${rate(r.default.frameInterval)})${max}`;
}

function formatItem(i: PropertyItemDescription): string {
  const range =
    i.min !== undefined || i.max !== undefined
      ? ` [${i.min ?? ''}..${i.max ?? ''}${i.step !== undefined ? ` step ${i.step}` : ''}]`
      : '';
  const def = i.default !== undefined ? ` default ${String(i.default)}` : '';
  const modes = i.modes !== undefined ? ` modes ${i.modes.join('/')} (default ${i.defaultMode})` : '';
  const access = i.access === 'readwrite' ? '' : ` ${i.access}`;
  const type = i.size === undefined ? i.type : `${i.type}(${i.size})`;
  return `${i.id} ${i.name}: ${type}${range}${def}${modes}${access}`;
}

function formatSets(lines: string[], indent: string, sets: readonly PropertySetDescription[]): void {
  for (const s of sets) {
    lines.push(`${indent}${s.set.name} {${s.set.guid}}`);
    for (const i of s.items) lines.push(`${indent}  ${formatItem(i)}`);
  }
}

/** Human-readable text of a {@link describeDevice} result, one fact per line. */
export function formatDescription(d: DeviceDescription): string {
  const lines: string[] = [`Device ${d.device}`];
  for (const f of d.factories) {
    lines.push(`  Filter factory ${f.index}: ${f.name} {${f.referenceGuid}}`);
    lines.push(`    Categories: ${f.categories.map((c) => c.name).join(', ') || '(none)'}`);
    for (const p of f.pins) {
      const cat = p.category === null ? '' : ` ${p.category.name}`;
      lines.push(
        `    Pin ${p.id} ${p.name}:${cat} ${p.dataFlow} ${p.communication}, instances ${p.instances.possible}/${p.instances.necessary} necessary` +
          (p.providesClock ? ', provides clock' : ''),
      );
      for (const m of p.mediums) lines.push(`      Medium ${m.set.name} id ${m.id} flags ${m.flags}`);
      lines.push(
        `      Framing: ${p.framing.frames} frames, align ${p.framing.alignment}, size ${p.framing.minFrameSize}..${p.framing.maxFrameSize || 'format'}`,
      );
      lines.push(`      Data ranges (${p.dataRanges.length}):`);
      for (const r of p.dataRanges) lines.push(`        ${formatRange(r)}`);
      if (p.properties.length > 0) {
        lines.push('      Properties:');
        formatSets(lines, '        ', p.properties);
      }
    }
    for (const n of f.nodes) {
      lines.push(`    Node ${n.id} ${n.name}: ${n.type.name}`);
      formatSets(lines, '      ', n.properties);
    }
    const end = (e: { node: number | null; pin: number }): string =>
      e.node === null ? `filter pin ${e.pin}` : `node ${e.node} pin ${e.pin}`;
    for (const c of f.connections) lines.push(`    Connection ${end(c.from)} -> ${end(c.to)}`);
    if (f.properties.length > 0) {
      lines.push('    Filter properties:');
      formatSets(lines, '      ', f.properties);
    }
    for (const e of f.events) {
      lines.push(
        `    Events ${e.set.name} {${e.set.guid}}: ${e.events.map((x) => `${x.id} ${x.name}`).join(', ')}`,
      );
    }
  }
  for (const l of d.mediumLinks) {
    lines.push(
      `  Link factory ${l.from.factory} pin ${l.from.pin} -> factory ${l.to.factory} pin ${l.to.pin} via ${l.medium.set.name} id ${l.medium.id}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
