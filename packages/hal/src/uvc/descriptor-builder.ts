// UVC descriptor builder (device side): a typed camera description → device, configuration and string descriptor bytes.

import type { UvcControlDef } from './controls.js';
import { CAMERA_TERMINAL_CONTROLS, PROCESSING_UNIT_CONTROLS, UVC15_CONTROL_NAMES } from './controls.js';
import type { UvcFrameIntervals, UvcGuid } from './descriptor-types.js';
import {
  TerminalType,
  UvcClass,
  VcSubtype,
  VsSubtype,
  fourccGuid,
  guidToBytes,
  uvcGuid,
} from './descriptor-types.js';

/** One frame size of a format. */
export interface UvcFrameDescription {
  readonly width: number;
  readonly height: number;
  /** 100 ns units: discrete list (ascending recommended) or continuous range. */
  readonly intervals: UvcFrameIntervals;
  /** Default: the first discrete interval, or the range minimum. */
  readonly defaultInterval?: number;
  /** Default: width × height × bpp / 8 (uncompressed) or width × height × 2 (MJPEG). */
  readonly maxFrameBufferSize?: number;
}

export type UvcFormatDescription =
  | {
      readonly kind: 'uncompressed';
      /** FOURCC of the format GUID (YUY2, UYVY, NV12, I420, Y800, …) unless `guid` is given. */
      readonly fourcc: string;
      readonly guid?: string;
      /** Default by FOURCC (YUY2/UYVY 16, NV12/I420/M420 12, Y800 8); required for others. */
      readonly bitsPerPixel?: number;
      readonly frames: readonly UvcFrameDescription[];
    }
  | { readonly kind: 'mjpeg'; readonly frames: readonly UvcFrameDescription[] };

export interface UvcCameraDescription {
  readonly vendorId: number;
  readonly productId: number;
  readonly bcdDevice?: number;
  /** String descriptor indices are assigned 1, 2, 3 when these are given (see {@link buildStringDescriptors}). */
  readonly manufacturer?: string;
  readonly product?: string;
  readonly serialNumber?: string;
  /** 'high' (default) or 'full'. Decides packet sizes. */
  readonly speed?: 'high' | 'full';
  /** 0x0100, 0x0110 (default; safest with uvcvideo) or 0x0150. */
  readonly bcdUVC?: number;
  /** dwClockFrequency in Hz (default 48 MHz). */
  readonly clockFrequency?: number;
  /** Camera terminal control names (CAMERA_TERMINAL_CONTROLS), e.g. ['ae-mode', 'focus-auto']. */
  readonly cameraControls?: readonly string[];
  /** Processing unit control names (PROCESSING_UNIT_CONTROLS), e.g. ['brightness', 'contrast']. */
  readonly processingControls?: readonly string[];
  /** Optional extension unit between the processing unit and the output terminal. */
  readonly extensionUnit?: {
    readonly guid: string;
    readonly numControls: number;
    readonly bmControls: number;
    readonly controlSize?: number;
  };
  /** Add the VC status interrupt endpoint (default true). */
  readonly interruptEndpoint?: boolean;
  readonly streaming: {
    readonly transfer: 'bulk' | 'isochronous';
    /** Iso: bytes per (micro)frame of each alternate setting 1..n, ascending (HS ≤ 3072, FS ≤ 1023). Default [1024, 2048, 3072] (HS). */
    readonly isoBytesPerInterval?: readonly number[];
    readonly formats: readonly UvcFormatDescription[];
  };
}

/** Entity ids and endpoint numbers the built descriptors use (the device model needs them). */
export interface UvcDescriptorLayout {
  readonly controlInterface: 0;
  readonly streamingInterface: 1;
  readonly cameraTerminalId: 1;
  readonly processingUnitId: 2;
  readonly extensionUnitId: number | undefined;
  readonly outputTerminalId: number;
  readonly videoEndpoint: 0x81;
  readonly interruptEndpoint: number | undefined;
  readonly bcdUVC: number;
  /** Alternate settings of the VS interface with their bytes per interval (iso), or alt 0 (bulk). */
  readonly altSettings: readonly { alt: number; bytesPerInterval: number; wMaxPacketSize: number }[];
  /** Bulk: wMaxPacketSize of the video endpoint. */
  readonly bulkMaxPacketSize: number | undefined;
}

export interface BuiltUvcDescriptors {
  readonly device: Uint8Array;
  readonly configuration: Uint8Array;
  readonly layout: UvcDescriptorLayout;
}

const DEFAULT_BPP: Record<string, number> = {
  YUY2: 16,
  YUYV: 16,
  UYVY: 16,
  NV12: 12,
  I420: 12,
  M420: 12,
  Y800: 8,
  'Y16 ': 16,
};

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer ${min}..${max}, got ${v}`);
}

const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const d = (type: number, body: number[]): number[] => [body.length + 2, type, ...body];
const cs = (body: number[]): number[] => d(0x24, body);
const bytesOf = (v: number, n: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  return out;
};

function controlBits(table: readonly UvcControlDef[], names: readonly string[], what: string): number {
  let bm = 0;
  for (const n of names) {
    const c = table.find((x) => x.name === n);
    if (!c) throw new RangeError(`unknown ${what} control '${n}'`);
    if (Math.floor(bm / 2 ** c.bit) % 2 === 0) bm += 2 ** c.bit;
  }
  return bm;
}

/** Encodes wMaxPacketSize for a bytes-per-interval budget: HS allows up to 3 × 1024 with the mult bits. */
export function encodeIsoMaxPacketSize(bytesPerInterval: number, speed: 'high' | 'full' = 'high'): number {
  if (speed === 'full') {
    checkInt('full-speed iso bytesPerInterval', bytesPerInterval, 1, 1023);
    return bytesPerInterval;
  }
  checkInt('high-speed iso bytesPerInterval', bytesPerInterval, 1, 3072);
  const transactions = Math.ceil(bytesPerInterval / 1024);
  const maxp = Math.ceil(bytesPerInterval / transactions);
  return ((transactions - 1) << 11) | maxp;
}

function intervalsOf(
  f: UvcFrameDescription,
  where: string,
): { type: number; bytes: number[]; min: number; max: number; def: number } {
  const iv = f.intervals;
  if (Array.isArray(iv)) {
    if (iv.length < 1 || iv.length > 255)
      throw new RangeError(`${where}: 1..255 discrete intervals required`);
    iv.forEach((x, i) => checkInt(`${where} interval[${i}]`, x, 1, 0xffffffff));
    const def = f.defaultInterval ?? iv[0] ?? 0;
    return { type: iv.length, bytes: iv.flatMap(le32), min: Math.min(...iv), max: Math.max(...iv), def };
  }
  const r = iv as { min: number; max: number; step: number };
  checkInt(`${where} min interval`, r.min, 1, 0xffffffff);
  checkInt(`${where} max interval`, r.max, r.min, 0xffffffff);
  checkInt(`${where} interval step`, r.step, 0, 0xffffffff);
  return {
    type: 0,
    bytes: [...le32(r.min), ...le32(r.max), ...le32(r.step)],
    min: r.min,
    max: r.max,
    def: f.defaultInterval ?? r.min,
  };
}

function frameDescriptor(
  sub: number,
  index: number,
  f: UvcFrameDescription,
  bpp: number,
  where: string,
): number[] {
  checkInt(`${where} width`, f.width, 1, 0xffff);
  checkInt(`${where} height`, f.height, 1, 0xffff);
  const iv = intervalsOf(f, where);
  const size = f.maxFrameBufferSize ?? Math.ceil((f.width * f.height * bpp) / 8);
  checkInt(`${where} maxFrameBufferSize`, size, 1, 0xffffffff);
  const bits = size * 8;
  const minBitRate = Math.min(0xffffffff, Math.floor((bits * 1e7) / iv.max));
  const maxBitRate = Math.min(0xffffffff, Math.ceil((bits * 1e7) / iv.min));
  return cs([
    sub,
    index,
    0,
    ...le16(f.width),
    ...le16(f.height),
    ...le32(minBitRate),
    ...le32(maxBitRate),
    ...le32(size),
    ...le32(iv.def),
    iv.type,
    ...iv.bytes,
  ]);
}

/**
 * Builds device and configuration descriptors of a single-function UVC camera: IAD, VC interface
 * (header, camera terminal, processing unit, optional extension unit, streaming output terminal,
 * optional status interrupt endpoint) and a VS interface with uncompressed/MJPEG formats, bulk
 * (one alt) or iso (alt 0 without bandwidth + one alt per budget). The layout follows what Linux
 * uvcvideo parses. Throws `RangeError`/`TypeError` on an invalid description (nothing partial).
 */
export function buildUvcDescriptors(desc: UvcCameraDescription): BuiltUvcDescriptors {
  const speed = desc.speed ?? 'high';
  if (speed !== 'high' && speed !== 'full')
    throw new RangeError(`speed must be 'high' or 'full', got ${String(speed)}`);
  const bcdUVC = desc.bcdUVC ?? 0x0110;
  if (bcdUVC !== 0x0100 && bcdUVC !== 0x0110 && bcdUVC !== 0x0150)
    throw new RangeError(`bcdUVC must be 0x0100, 0x0110 or 0x0150`);
  checkInt('vendorId', desc.vendorId, 0, 0xffff);
  checkInt('productId', desc.productId, 0, 0xffff);
  const s = desc.streaming;
  if (s.transfer !== 'bulk' && s.transfer !== 'isochronous')
    throw new RangeError(`transfer must be 'bulk' or 'isochronous'`);
  if (s.formats.length < 1 || s.formats.length > 255) throw new RangeError('1..255 formats required');

  // --- VideoControl
  const ctBits = controlBits(CAMERA_TERMINAL_CONTROLS, desc.cameraControls ?? [], 'camera terminal');
  const puBits = controlBits(PROCESSING_UNIT_CONTROLS, desc.processingControls ?? [], 'processing unit');
  if (bcdUVC < 0x0150) {
    for (const n of [...(desc.cameraControls ?? []), ...(desc.processingControls ?? [])]) {
      if (UVC15_CONTROL_NAMES.has(n)) throw new RangeError(`control '${n}' needs bcdUVC 0x0150`);
    }
  }
  const ctSize = 3;
  // 1.0/1.1 PUs use 2 bytes unless the analog-video bits (D16, D17) are set; 1.5 uses 3.
  const puSize = bcdUVC >= 0x0150 || puBits >= 0x10000 ? 3 : 2;
  const ct = cs([
    VcSubtype.inputTerminal,
    1,
    ...le16(TerminalType.camera),
    0,
    0,
    ...le16(0),
    ...le16(0),
    ...le16(0),
    ctSize,
    ...bytesOf(ctBits, ctSize),
  ]);
  const pu = cs([
    VcSubtype.processingUnit,
    2,
    1,
    ...le16(0),
    puSize,
    ...bytesOf(
      controlBits(PROCESSING_UNIT_CONTROLS, desc.processingControls ?? [], 'processing unit'),
      puSize,
    ),
    0,
    ...(bcdUVC >= 0x0110 ? [0] : []),
  ]);
  let xu: number[] = [];
  let xuId: number | undefined;
  if (desc.extensionUnit) {
    const x = desc.extensionUnit;
    const n = x.controlSize ?? Math.max(1, Math.ceil(Math.log2(x.bmControls + 1) / 8));
    checkInt('extension unit controlSize', n, 1, 6);
    checkInt('extension unit numControls', x.numControls, 0, 255);
    checkInt('extension unit bmControls', x.bmControls, 0, 2 ** (8 * n) - 1);
    xuId = 3;
    xu = cs([
      VcSubtype.extensionUnit,
      xuId,
      ...guidToBytes(uvcGuid(x.guid)),
      x.numControls,
      1,
      2,
      n,
      ...bytesOf(x.bmControls, n),
      0,
    ]);
  }
  const otId = xuId === undefined ? 3 : 4;
  const ot = cs([VcSubtype.outputTerminal, otId, ...le16(TerminalType.streaming), 0, xuId ?? 2, 0]);
  const vcUnitsLength = ct.length + pu.length + xu.length + ot.length;
  const vcHeader = cs([
    VcSubtype.header,
    ...le16(bcdUVC),
    ...le16(13 + vcUnitsLength),
    ...le32(desc.clockFrequency ?? 48_000_000),
    1,
    1,
  ]);
  const withInterrupt = desc.interruptEndpoint ?? true;
  const interruptEp = withInterrupt
    ? [...d(0x05, [0x82, 0x03, ...le16(16), speed === 'high' ? 8 : 16]), ...d(0x25, [0x03, ...le16(16)])]
    : [];
  const vcInterface = [
    ...d(0x04, [
      0,
      0,
      withInterrupt ? 1 : 0,
      UvcClass.video,
      UvcClass.subclassControl,
      bcdUVC >= 0x0150 ? 1 : 0,
      0,
    ]),
    ...vcHeader,
    ...ct,
    ...pu,
    ...xu,
    ...ot,
    ...interruptEp,
  ];

  // --- VideoStreaming class-specific descriptors
  const formatBytes: number[] = [];
  s.formats.forEach((f, i) => {
    const where = `format ${i + 1}`;
    if (f.frames.length < 1 || f.frames.length > 255)
      throw new RangeError(`${where}: 1..255 frames required`);
    if (f.kind === 'uncompressed') {
      const guid: UvcGuid = f.guid !== undefined ? uvcGuid(f.guid) : fourccGuid(f.fourcc);
      const bpp = f.bitsPerPixel ?? DEFAULT_BPP[f.fourcc];
      if (bpp === undefined) throw new RangeError(`${where}: bitsPerPixel required for ${f.fourcc}`);
      checkInt(`${where} bitsPerPixel`, bpp, 1, 255);
      formatBytes.push(
        ...cs([
          VsSubtype.formatUncompressed,
          i + 1,
          f.frames.length,
          ...guidToBytes(guid),
          bpp,
          1,
          0,
          0,
          0,
          0,
        ]),
      );
      f.frames.forEach((fr, k) =>
        formatBytes.push(
          ...frameDescriptor(VsSubtype.frameUncompressed, k + 1, fr, bpp, `${where} frame ${k + 1}`),
        ),
      );
    } else if (f.kind === 'mjpeg') {
      formatBytes.push(...cs([VsSubtype.formatMjpeg, i + 1, f.frames.length, 1, 1, 0, 0, 0, 0]));
      f.frames.forEach((fr, k) =>
        formatBytes.push(...frameDescriptor(VsSubtype.frameMjpeg, k + 1, fr, 16, `${where} frame ${k + 1}`)),
      );
    } else {
      throw new TypeError(`${where}: unknown format kind ${String((f as { kind: unknown }).kind)}`);
    }
    // Colour matching: BT.709 primaries and transfer, SMPTE 170M matrix (the UVC defaults).
    formatBytes.push(...cs([VsSubtype.colorFormat, 1, 1, 4]));
  });
  const p = s.formats.length;
  const vsHeaderLength = 13 + p;
  const vsHeader = cs([
    VsSubtype.inputHeader,
    p,
    ...le16(vsHeaderLength + formatBytes.length),
    0x81,
    0,
    otId,
    0,
    0,
    0,
    1,
    ...Array<number>(p).fill(0),
  ]);

  // --- VideoStreaming interface(s) and endpoints
  const altSettings: { alt: number; bytesPerInterval: number; wMaxPacketSize: number }[] = [];
  const vs: number[] = [];
  let bulkMaxPacketSize: number | undefined;
  if (s.transfer === 'bulk') {
    bulkMaxPacketSize = speed === 'high' ? 512 : 64;
    vs.push(
      ...d(0x04, [1, 0, 1, UvcClass.video, UvcClass.subclassStreaming, 0, 0]),
      ...vsHeader,
      ...formatBytes,
    );
    vs.push(...d(0x05, [0x81, 0x02, ...le16(bulkMaxPacketSize), 0]));
    altSettings.push({ alt: 0, bytesPerInterval: bulkMaxPacketSize, wMaxPacketSize: bulkMaxPacketSize });
  } else {
    const budgets = s.isoBytesPerInterval ?? (speed === 'high' ? [1024, 2048, 3072] : [1023]);
    if (budgets.length < 1 || budgets.length > 254)
      throw new RangeError('1..254 iso alternate settings required');
    vs.push(
      ...d(0x04, [1, 0, 0, UvcClass.video, UvcClass.subclassStreaming, 0, 0]),
      ...vsHeader,
      ...formatBytes,
    );
    budgets.forEach((bpi, i) => {
      const maxp = encodeIsoMaxPacketSize(bpi, speed);
      vs.push(...d(0x04, [1, i + 1, 1, UvcClass.video, UvcClass.subclassStreaming, 0, 0]));
      vs.push(...d(0x05, [0x81, 0x05, ...le16(maxp), 1]));
      altSettings.push({
        alt: i + 1,
        bytesPerInterval: (maxp & 0x7ff) * (1 + ((maxp >> 11) & 3)),
        wMaxPacketSize: maxp,
      });
    });
  }

  const iad = d(0x0b, [
    0,
    2,
    UvcClass.video,
    UvcClass.subclassCollection,
    0,
    desc.product !== undefined ? 2 : 0,
  ]);
  const body = [...iad, ...vcInterface, ...vs];
  const total = 9 + body.length;
  if (total > 0xffff)
    throw new RangeError(`configuration would be ${total} bytes (> 65535); fewer frames or intervals`);
  const configuration = new Uint8Array([9, 0x02, ...le16(total), 2, 1, 0, 0x80, 250, ...body]);

  const strIndex = (present: boolean, i: number): number => (present ? i : 0);
  const device = new Uint8Array([
    18,
    0x01,
    ...le16(0x0200),
    0xef,
    0x02,
    0x01,
    64,
    ...le16(desc.vendorId),
    ...le16(desc.productId),
    ...le16(desc.bcdDevice ?? 0x0100),
    strIndex(desc.manufacturer !== undefined, 1),
    strIndex(desc.product !== undefined, 2),
    strIndex(desc.serialNumber !== undefined, 3),
    1,
  ]);
  return {
    device,
    configuration,
    layout: {
      controlInterface: 0,
      streamingInterface: 1,
      cameraTerminalId: 1,
      processingUnitId: 2,
      extensionUnitId: xuId,
      outputTerminalId: otId,
      videoEndpoint: 0x81,
      interruptEndpoint: withInterrupt ? 0x82 : undefined,
      bcdUVC,
      altSettings,
      bulkMaxPacketSize,
    },
  };
}

/**
 * String descriptors by index for a description: 0 = language list (US English), 1 manufacturer,
 * 2 product, 3 serial (only those given). UTF-16LE; throws RangeError for strings over 126 units.
 */
export function buildStringDescriptors(
  desc: Pick<UvcCameraDescription, 'manufacturer' | 'product' | 'serialNumber'>,
): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  out.set(0, new Uint8Array([4, 0x03, 0x09, 0x04]));
  const put = (i: number, s: string | undefined): void => {
    if (s === undefined) return;
    if (s.length > 126) throw new RangeError(`string descriptor too long (${s.length} > 126 UTF-16 units)`);
    const b = new Uint8Array(2 + 2 * s.length);
    b[0] = b.length;
    b[1] = 0x03;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      b[2 + 2 * k] = c & 0xff;
      b[3 + 2 * k] = c >> 8;
    }
    out.set(i, b);
  };
  put(1, desc.manufacturer);
  put(2, desc.product);
  put(3, desc.serialNumber);
  return out;
}
