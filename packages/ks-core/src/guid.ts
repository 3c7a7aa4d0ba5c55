// Branded GUIDs: parse any common spelling, normalise to lower-case canonical form, compare, and convert to the Windows byte layout.

/**
 * A GUID in canonical form: lower-case `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, no braces.
 * Only {@link guid}, {@link tryParseGuid} and {@link guidFromBytes} produce one, so two equal
 * GUIDs are always equal strings and can be `Map` keys or compared with `===`.
 */
export type Guid = string & { readonly __brand: 'Guid' };

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX32 = /^[0-9a-fA-F]{32}$/;

/**
 * Parses a GUID written in any common form and returns it normalised, or `undefined` when the
 * text is not a GUID. Accepted: `xxxxxxxx-xxxx-…`, with `{}` or `()` around it, upper or lower
 * case, surrounding whitespace, or 32 bare hex digits.
 */
export function tryParseGuid(text: string): Guid | undefined {
  if (typeof text !== 'string') return undefined;
  let s = text.trim();
  if ((s.startsWith('{') && s.endsWith('}')) || (s.startsWith('(') && s.endsWith(')'))) s = s.slice(1, -1);
  if (HEX32.test(s)) {
    s = `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
  s = s.toLowerCase();
  return CANONICAL.test(s) ? (s as Guid) : undefined;
}

/**
 * Parses and normalises a GUID.
 * @throws TypeError when `text` is not a GUID in any accepted form.
 */
export function guid(text: string): Guid {
  const g = tryParseGuid(text);
  if (g === undefined) throw new TypeError(`not a GUID: ${JSON.stringify(text)}`);
  return g;
}

/** True when `value` is a string already in canonical GUID form. */
export function isGuid(value: unknown): value is Guid {
  return typeof value === 'string' && CANONICAL.test(value);
}

/** Equality of two GUIDs; both must be normalised (branded), so this is string equality. */
export function guidEquals(a: Guid, b: Guid): boolean {
  return a === b;
}

/** Total order on GUIDs (by canonical text), for sorting and deterministic output. */
export function compareGuids(a: Guid, b: Guid): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The 16-byte Windows in-memory layout of a GUID: Data1 (u32), Data2 (u16), Data3 (u16) little
 * endian, then Data4 as 8 bytes in order. This is how a GUID appears inside KSPROPERTY, UVC
 * extension-unit descriptors and USB/IP payloads.
 * @param out optional target (must have 16 bytes from `offset`); a new array otherwise.
 */
export function guidToBytes(g: Guid, out?: Uint8Array, offset = 0): Uint8Array {
  if (!isGuid(g)) throw new TypeError(`not a normalised GUID: ${String(g)}`);
  const target = out ?? new Uint8Array(16);
  if (offset < 0 || target.length - offset < 16)
    throw new RangeError('GUID needs 16 bytes in the target buffer');
  const hex = g.replace(/-/g, '');
  const byte = (i: number): number => parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  // Data1..Data3 are stored little endian, so their bytes are reversed relative to the text.
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < 16; i++) target[offset + i] = byte(order[i]!);
  return target;
}

/**
 * Reads a GUID from its 16-byte Windows layout (see {@link guidToBytes}).
 * @throws RangeError when fewer than 16 bytes are available at `offset`.
 */
export function guidFromBytes(bytes: Uint8Array, offset = 0): Guid {
  if (offset < 0 || bytes.length - offset < 16) throw new RangeError('GUID needs 16 bytes');
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  let hex = '';
  for (let i = 0; i < 16; i++) {
    hex += bytes[offset + order[i]!]!.toString(16).padStart(2, '0');
    if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
  }
  return hex as Guid;
}

/**
 * The media-subtype GUID of a FOURCC (`XXXXXXXX-0000-0010-8000-00AA00389B71`), the rule by which
 * DirectShow and KS derive YUY2, NV12, MJPG and friends.
 * @param fourcc four ASCII characters (e.g. `'YUY2'`) or the little-endian 32-bit code.
 */
export function fourccGuid(fourcc: string | number): Guid {
  let code: number;
  if (typeof fourcc === 'string') {
    if (fourcc.length !== 4 || !/^[\x20-\x7e]{4}$/.test(fourcc))
      throw new TypeError(`FOURCC must be 4 printable ASCII characters: ${JSON.stringify(fourcc)}`);
    code =
      fourcc.charCodeAt(0) |
      (fourcc.charCodeAt(1) << 8) |
      (fourcc.charCodeAt(2) << 16) |
      (fourcc.charCodeAt(3) << 24);
  } else {
    if (!Number.isInteger(fourcc) || fourcc < 0 || fourcc > 0xffffffff)
      throw new RangeError(`FOURCC code out of range: ${fourcc}`);
    code = fourcc;
  }
  return `${(code >>> 0).toString(16).padStart(8, '0')}-0000-0010-8000-00aa00389b71` as Guid;
}

/** The FOURCC text of a FOURCC-derived subtype GUID, or `undefined` for other GUIDs. */
export function fourccOf(g: Guid): string | undefined {
  if (!g.endsWith('-0000-0010-8000-00aa00389b71')) return undefined;
  const code = parseInt(g.slice(0, 8), 16);
  const chars = [code & 0xff, (code >>> 8) & 0xff, (code >>> 16) & 0xff, (code >>> 24) & 0xff];
  if (chars.some((c) => c < 0x20 || c > 0x7e)) return undefined;
  return String.fromCharCode(...chars);
}
