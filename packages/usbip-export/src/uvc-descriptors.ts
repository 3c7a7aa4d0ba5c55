// Builds the USB descriptors of a UVC 1.1 camera (VC + VS, bulk or iso alternate settings) from a frame source.

import { CAMERA_TERMINAL_CONTROLS, PROCESSING_UNIT_CONTROLS, fourccGuid, guidToBytes } from '@ksemu/hal';
import type { NegotiationFormat, UsbSpeed } from '@ksemu/hal';
import type { UvcControlBinding, UvcFrameFormat } from './uvc-frame-source.js';

export const UVC_VC_INTERFACE = 0;
export const UVC_VS_INTERFACE = 1;
export const UVC_STREAM_ENDPOINT = 0x81;
export const UVC_CAMERA_TERMINAL_ID = 1;
export const UVC_PROCESSING_UNIT_ID = 2;
export const UVC_OUTPUT_TERMINAL_ID = 3;
/** dwClockFrequency of the VC header: PTS/SCR tick rate. */
export const UVC_CLOCK_HZ = 48_000_000;

/** One iso alternate setting of the VS interface and what it carries per (micro)frame. */
export interface IsoAlternate {
  readonly alt: number;
  readonly wMaxPacketSize: number;
  readonly bytesPerInterval: number;
}

export interface UvcDescriptorOptions {
  readonly formats: readonly UvcFrameFormat[];
  readonly controls: readonly UvcControlBinding[];
  readonly transfer: 'bulk' | 'iso';
  readonly speed: UsbSpeed;
  readonly vendorId?: number;
  readonly productId?: number;
  readonly product?: string;
  readonly serial?: string;
}

/** A UVC format as built: its descriptor indices and the source formats behind each frame index. */
export interface BuiltFormat {
  readonly negotiation: NegotiationFormat;
  /** frame index (1-based) → source format */
  readonly sources: ReadonlyMap<number, UvcFrameFormat>;
}

export interface UvcDescriptors {
  readonly device: Uint8Array;
  readonly configuration: Uint8Array;
  /** String descriptor index → text (index 0 is the language table). */
  readonly strings: readonly string[];
  readonly formats: readonly BuiltFormat[];
  readonly isoAlternates: readonly IsoAlternate[];
  /** bmControls of the camera terminal / processing unit, and control selectors → bindings. */
  readonly cameraControls: ReadonlyMap<number, UvcControlBinding>;
  readonly processingControls: ReadonlyMap<number, UvcControlBinding>;
}

const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const desc = (type: number, body: number[]): number[] => [body.length + 2, type, ...body];
const cs = (subtype: number, body: number[]): number[] => [body.length + 3, 0x24, subtype, ...body];

/** Iso packet sizes offered, smallest first (one alternate setting each). */
function isoLadder(speed: UsbSpeed): IsoAlternate[] {
  const sizes =
    speed === 'high' || speed === 'super' || speed === 'super-plus'
      ? [128, 512, 1024, 2048, 3072]
      : [128, 256, 512, 1023];
  return sizes.map((bytes, i) => {
    const mult = bytes > 1024 ? Math.ceil(bytes / 1024) - 1 : 0;
    const base = mult ? bytes / (mult + 1) : bytes;
    return { alt: i + 1, wMaxPacketSize: (mult << 11) | base, bytesPerInterval: bytes };
  });
}

function mapControls(
  bindings: readonly UvcControlBinding[],
  unit: 'camera' | 'processing',
  maxBit: number,
): { bits: number; map: Map<number, UvcControlBinding> } {
  const table = unit === 'camera' ? CAMERA_TERMINAL_CONTROLS : PROCESSING_UNIT_CONTROLS;
  const map = new Map<number, UvcControlBinding>();
  let bits = 0;
  for (const b of bindings) {
    if (b.unit !== unit) continue;
    const def = table.find((d) => d.name === b.name);
    if (!def) throw new RangeError(`unknown ${unit} control ${JSON.stringify(b.name)}`);
    if (def.fields.length !== 1)
      throw new RangeError(`control ${b.name} has several fields; only single-valued controls can be bound`);
    if (def.bit > maxBit) throw new RangeError(`control ${b.name} needs a UVC 1.5 bmControls bit`);
    bits |= 1 << def.bit;
    map.set(def.selector, b);
  }
  return { bits: bits >>> 0, map };
}

/**
 * Builds the descriptors. Formats are grouped by (type, FOURCC) into UVC formats in first-seen order;
 * each distinct size becomes a frame. Throws RangeError for empty format lists, bad sizes or intervals,
 * unknown controls.
 */
export function buildUvcDescriptors(o: UvcDescriptorOptions): UvcDescriptors {
  if (o.formats.length === 0) throw new RangeError('a UVC function needs at least one format');
  const groups = new Map<string, UvcFrameFormat[]>();
  for (const f of o.formats) {
    if (!(f.width > 0 && f.height > 0 && f.width <= 0xffff && f.height <= 0xffff))
      throw new RangeError(`bad size ${f.width}x${f.height}`);
    if (
      f.intervals.length === 0 ||
      f.intervals.length > 255 ||
      f.intervals.some((i) => !Number.isInteger(i) || i <= 0)
    )
      throw new RangeError(
        `format ${f.fourcc} ${f.width}x${f.height}: 1..255 positive integer intervals needed`,
      );
    if (!(f.maxFrameSize > 0)) throw new RangeError(`format ${f.fourcc}: maxFrameSize must be > 0`);
    const key = `${f.type}:${f.fourcc}`;
    const g = groups.get(key) ?? [];
    if (!g.some((x) => x.width === f.width && x.height === f.height)) g.push(f);
    groups.set(key, g);
  }
  const formats: BuiltFormat[] = [];
  const vsBody: number[] = [];
  let formatIndex = 0;
  for (const frames of groups.values()) {
    formatIndex++;
    const first = frames[0]!;
    const mjpeg = first.type === 'mjpeg';
    if (mjpeg) vsBody.push(...cs(0x06, [formatIndex, frames.length, 0, 1, 0, 0, 0, 0]));
    else {
      const guid = [...guidToBytes(fourccGuid(first.fourcc))];
      vsBody.push(...cs(0x04, [formatIndex, frames.length, ...guid, first.bitsPerPixel, 1, 0, 0, 0, 0]));
    }
    const sources = new Map<number, UvcFrameFormat>();
    frames.forEach((f, i) => {
      const bitsPerFrame = f.maxFrameSize * 8;
      const fastest = Math.min(...f.intervals);
      const slowest = Math.max(...f.intervals);
      vsBody.push(
        ...cs(mjpeg ? 0x07 : 0x05, [
          i + 1,
          0,
          ...u16(f.width),
          ...u16(f.height),
          ...u32(Math.min(0xffffffff, Math.floor((bitsPerFrame * 1e7) / slowest))),
          ...u32(Math.min(0xffffffff, Math.floor((bitsPerFrame * 1e7) / fastest))),
          ...u32(f.maxFrameSize),
          ...u32(f.intervals[0]!),
          f.intervals.length,
          ...f.intervals.flatMap(u32),
        ]),
      );
      sources.set(i + 1, f);
    });
    vsBody.push(...cs(0x0d, [1, 1, 4])); // colour matching: BT.709, BT.709, SMPTE 170M
    formats.push({
      sources,
      negotiation: {
        index: formatIndex,
        type: first.type,
        bitsPerPixel: mjpeg ? 0 : first.bitsPerPixel,
        defaultFrameIndex: 1,
        frames: frames.map((f, i) => ({
          index: i + 1,
          width: f.width,
          height: f.height,
          maxFrameBufferSize: f.maxFrameSize,
          defaultInterval: f.intervals[0]!,
          intervals: [...f.intervals],
        })),
      },
    });
  }
  const ct = mapControls(o.controls, 'camera', 23);
  const pu = mapControls(o.controls, 'processing', 15);
  const vcBody = [
    ...cs(0x02, [
      UVC_CAMERA_TERMINAL_ID,
      ...u16(0x0201),
      0,
      0,
      ...u16(0),
      ...u16(0),
      ...u16(0),
      3,
      ...u32(ct.bits).slice(0, 3),
    ]),
    ...cs(0x05, [UVC_PROCESSING_UNIT_ID, UVC_CAMERA_TERMINAL_ID, ...u16(0), 2, ...u16(pu.bits), 0, 0]),
    ...cs(0x03, [UVC_OUTPUT_TERMINAL_ID, ...u16(0x0101), 0, UVC_PROCESSING_UNIT_ID, 0]),
  ];
  const vcHeader = cs(0x01, [
    ...u16(0x0110),
    ...u16(13 + vcBody.length),
    ...u32(UVC_CLOCK_HZ),
    1,
    UVC_VS_INTERFACE,
  ]);
  const nFormats = formats.length;
  const vsHeaderLen = 13 + nFormats;
  const vsHeader = cs(0x01, [
    nFormats,
    ...u16(vsHeaderLen + vsBody.length),
    UVC_STREAM_ENDPOINT,
    0,
    UVC_OUTPUT_TERMINAL_ID,
    0,
    0,
    0,
    1,
    ...new Array<number>(nFormats).fill(0),
  ]);
  const bulk = o.transfer === 'bulk';
  const highSpeed = o.speed !== 'full' && o.speed !== 'low';
  const isoAlternates = bulk ? [] : isoLadder(o.speed);
  const streaming: number[] = [
    ...desc(0x04, [UVC_VS_INTERFACE, 0, bulk ? 1 : 0, 0x0e, 0x02, 0x00, 0]),
    ...vsHeader,
    ...vsBody,
  ];
  if (bulk) streaming.push(...desc(0x05, [UVC_STREAM_ENDPOINT, 0x02, ...u16(highSpeed ? 512 : 64), 0]));
  for (const a of isoAlternates)
    streaming.push(
      ...desc(0x04, [UVC_VS_INTERFACE, a.alt, 1, 0x0e, 0x02, 0x00, 0]),
      ...desc(0x05, [UVC_STREAM_ENDPOINT, 0x05, ...u16(a.wMaxPacketSize), 1]),
    );
  const all = [
    ...desc(0x0b, [UVC_VC_INTERFACE, 2, 0x0e, 0x03, 0x00, 2]),
    ...desc(0x04, [UVC_VC_INTERFACE, 0, 0, 0x0e, 0x01, 0x00, 2]),
    ...vcHeader,
    ...vcBody,
    ...streaming,
  ];
  const configuration = Uint8Array.from([
    ...desc(0x02, [...u16(9 + all.length), 2, 1, 0, 0x80, 250]),
    ...all,
  ]);
  if (configuration.length > 0xffff)
    throw new RangeError('configuration descriptor exceeds 64 KiB; too many formats');
  const device = Uint8Array.from(
    desc(0x01, [
      ...u16(0x0200),
      0xef,
      0x02,
      0x01,
      64,
      ...u16(o.vendorId ?? 0x1209),
      ...u16(o.productId ?? 0x0001),
      ...u16(0x0100),
      1,
      2,
      3,
      1,
    ]),
  );
  return {
    device,
    configuration,
    strings: ['', 'ksemu', o.product ?? 'ksemu USB/IP camera', o.serial ?? 'KSEMU0001'],
    formats,
    isoAlternates,
    cameraControls: ct.map,
    processingControls: pu.map,
  };
}

/** String descriptor `index` (0 = language table: US English), or undefined when there is none. */
export function stringDescriptor(strings: readonly string[], index: number): Uint8Array | undefined {
  if (index === 0) return Uint8Array.of(4, 3, 0x09, 0x04);
  const s = strings[index];
  if (s === undefined || index >= strings.length) return undefined;
  const b = Buffer.from(s, 'utf16le').subarray(0, 252);
  return Uint8Array.from([b.length + 2, 3, ...b]);
}
