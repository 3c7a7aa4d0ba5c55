// `ksemu props`: list, get and set a device's KS properties by name, across property sets and topology nodes.
import type { KsFilter, PropertyMode, PropertyValue } from '@ksemu/ks-core';
import { knownGuids } from '@ksemu/ks-core';
import { CliError, ExitCode } from './cli-error.js';

/** One property as `props list` shows it. */
export interface PropertyRow {
  readonly name: string;
  readonly set: string;
  readonly setName: string;
  readonly id: number;
  readonly node?: number;
  readonly value?: string;
  readonly mode?: PropertyMode;
  readonly min?: string;
  readonly max?: string;
  readonly step?: string;
  readonly default?: string;
  readonly access: string;
  readonly error?: string;
}

const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

const show = (v: unknown): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return JSON.stringify(v);
};

/** Every filter and node property with its current value (read errors are shown, not thrown). */
export async function listProperties(filter: KsFilter): Promise<PropertyRow[]> {
  const rows: PropertyRow[] = [];
  for (const p of filter.properties.list()) {
    const address = p.node === undefined ? {} : { node: p.node };
    const d = filter.properties.basicSupport(p.set, p.id, address);
    const row: Record<string, unknown> = {
      name: p.name,
      set: p.set,
      setName: knownGuids.nameOf(p.set) ?? p.set,
      id: p.id,
      ...(p.node !== undefined ? { node: p.node } : {}),
      min: show(d.min),
      max: show(d.max),
      step: show(d.step),
      default: show(d.default),
      access: d.canGet && d.canSet ? 'rw' : d.canSet ? 'w' : 'r',
    };
    if (d.canGet) {
      try {
        const c = await filter.properties.getControl(p.set, p.id, address);
        row.value = show(c.value);
        if (c.mode) row.mode = c.mode;
      } catch (err) {
        row.error = (err as Error).message;
      }
    }
    for (const k of Object.keys(row)) if (row[k] === undefined) delete row[k];
    rows.push(row as unknown as PropertyRow);
  }
  return rows;
}

/** Finds one property by name (case and punctuation ignored), optionally `name@node`. */
export function findProperty(
  filter: KsFilter,
  text: string,
): {
  set: ReturnType<KsFilter['properties']['list']>[number]['set'];
  id: number;
  node: number | undefined;
  name: string;
} {
  const [namePart, nodePart] = text.split('@');
  const wanted = norm(namePart ?? '');
  const node = nodePart === undefined ? undefined : Number(nodePart);
  if (nodePart !== undefined && !Number.isInteger(node))
    throw new CliError(`bad node in '${text}'`, ExitCode.Usage);
  const all = filter.properties.list();
  const matches = all.filter((p) => norm(p.name) === wanted && (node === undefined || p.node === node));
  if (matches.length === 0) {
    const names = [...new Set(all.map((p) => p.name))].join(', ');
    throw new CliError(`no property '${text}'`, ExitCode.NotFound, `properties: ${names}`);
  }
  if (matches.length > 1 && node === undefined) {
    // Same name on several nodes: the first (lowest node) is what users mean unless they say.
    matches.sort((a, b) => (a.node ?? -1) - (b.node ?? -1));
  }
  const m = matches[0]!;
  return { set: m.set, id: m.id, node: m.node, name: m.name };
}

/** Parses a value for a property of the given type; `auto` switches mode. */
export function parsePropertyValue(
  type: string,
  text: string,
): { value: PropertyValue | undefined; mode: PropertyMode | undefined } {
  const t = text.trim().toLowerCase();
  if (t === 'auto') return { value: undefined, mode: 'auto' };
  switch (type) {
    case 'bool':
      if (['1', 'true', 'on', 'yes'].includes(t)) return { value: true, mode: undefined };
      if (['0', 'false', 'off', 'no'].includes(t)) return { value: false, mode: undefined };
      throw new CliError(`'${text}' is not a boolean`, ExitCode.Usage, 'use on/off');
    case 'int64': {
      if (!/^-?\d+$/.test(t)) throw new CliError(`'${text}' is not an integer`, ExitCode.Usage);
      return { value: BigInt(t), mode: undefined };
    }
    case 'int32':
    case 'uint32': {
      if (!/^-?\d+$/.test(t)) throw new CliError(`'${text}' is not an integer`, ExitCode.Usage);
      return { value: Number(t), mode: undefined };
    }
    default:
      throw new CliError(
        `properties of type ${type} cannot be set from the command line`,
        ExitCode.Unsupported,
      );
  }
}
