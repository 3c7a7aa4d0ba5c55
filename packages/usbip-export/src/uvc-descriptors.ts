// The USB descriptors of the exported UVC 1.1 camera (bulk or iso), built by hal from the frame source's formats, with what the export needs beside them.

import {
  CAMERA_TERMINAL_CONTROLS,
  PROCESSING_UNIT_CONTROLS,
  buildUvcDescriptors as buildCameraDescriptors,
} from '@ksemu/hal';
import type { NegotiationFormat, UsbSpeed, UvcFormatDescription } from '@ksemu/hal';
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

/** Iso bytes per (micro)frame offered, smallest first (one alternate setting each). */
function isoLadder(speed: UsbSpeed): number[] {
  return speed === 'high' || speed === 'super' || speed === 'super-plus'
    ? [128, 512, 1024, 2048, 3072]
    : [128, 256, 512, 1023];
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
  const described: UvcFormatDescription[] = [];
  let formatIndex = 0;
  for (const frames of groups.values()) {
    formatIndex++;
    const first = frames[0]!;
    const mjpeg = first.type === 'mjpeg';
    const sizes = frames.map((f) => ({
      width: f.width,
      height: f.height,
      intervals: [...f.intervals],
      maxFrameBufferSize: f.maxFrameSize,
    }));
    described.push(
      mjpeg
        ? { kind: 'mjpeg', frames: sizes }
        : { kind: 'uncompressed', fourcc: first.fourcc, bitsPerPixel: first.bitsPerPixel, frames: sizes },
    );
    const sources = new Map<number, UvcFrameFormat>();
    frames.forEach((f, i) => sources.set(i + 1, f));
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
  const controlNames = (unit: UvcControlBinding['unit']): string[] =>
    o.controls.filter((c) => c.unit === unit).map((c) => c.name);
  const product = o.product ?? 'ksemu USB/IP camera';
  const serial = o.serial ?? 'KSEMU0001';
  const speed = o.speed === 'full' || o.speed === 'low' ? 'full' : 'high';
  const built = buildCameraDescriptors({
    vendorId: o.vendorId ?? 0x1209,
    productId: o.productId ?? 0x0001,
    manufacturer: 'ksemu',
    product,
    serialNumber: serial,
    speed,
    bcdUVC: 0x0110,
    clockFrequency: UVC_CLOCK_HZ,
    cameraControls: controlNames('camera'),
    processingControls: controlNames('processing'),
    interruptEndpoint: false,
    streaming: {
      transfer: o.transfer === 'bulk' ? 'bulk' : 'isochronous',
      ...(o.transfer === 'iso' ? { isoBytesPerInterval: isoLadder(o.speed) } : {}),
      formats: described,
    },
  });
  return {
    device: built.device,
    configuration: built.configuration,
    strings: ['', 'ksemu', product, serial],
    formats,
    isoAlternates: o.transfer === 'iso' ? built.layout.altSettings : [],
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
