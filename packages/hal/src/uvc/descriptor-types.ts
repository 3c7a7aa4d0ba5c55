// UVC 1.0/1.1/1.5 class codes, descriptor subtypes, GUID helpers and the typed model the descriptor parser produces.

/** Video interface class and subclasses. */
export const UvcClass = {
  video: 0x0e,
  subclassControl: 0x01,
  subclassStreaming: 0x02,
  subclassCollection: 0x03,
} as const;

/** VideoControl class-specific interface descriptor subtypes. */
export const VcSubtype = {
  header: 0x01,
  inputTerminal: 0x02,
  outputTerminal: 0x03,
  selectorUnit: 0x04,
  processingUnit: 0x05,
  extensionUnit: 0x06,
  encodingUnit: 0x07,
} as const;

/** VideoStreaming class-specific interface descriptor subtypes. */
export const VsSubtype = {
  inputHeader: 0x01,
  outputHeader: 0x02,
  stillImageFrame: 0x03,
  formatUncompressed: 0x04,
  frameUncompressed: 0x05,
  formatMjpeg: 0x06,
  frameMjpeg: 0x07,
  formatMpeg2ts: 0x0a,
  formatDv: 0x0c,
  colorFormat: 0x0d,
  formatFrameBased: 0x10,
  frameFrameBased: 0x11,
  formatStreamBased: 0x12,
  formatH264: 0x13,
  frameH264: 0x14,
  formatH264Simulcast: 0x15,
  formatVp8: 0x16,
  frameVp8: 0x17,
  formatVp8Simulcast: 0x18,
} as const;

/** Terminal types used by cameras. */
export const TerminalType = {
  vendorUsb: 0x0100,
  streaming: 0x0101,
  inputVendor: 0x0200,
  camera: 0x0201,
  mediaTransportInput: 0x0202,
  outputVendor: 0x0300,
  display: 0x0301,
  mediaTransportOutput: 0x0302,
} as const;

/** A GUID as a lower-case canonical string (`32595559-0000-0010-8000-00aa00389b71`). */
export type UvcGuid = string & { readonly __brand: 'UvcGuid' };

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Normalises and brands a GUID string (braces and case accepted). Throws `TypeError` when malformed. */
export function uvcGuid(text: string): UvcGuid {
  const t = text
    .trim()
    .replace(/^\{|\}$/g, '')
    .toLowerCase();
  if (!GUID_RE.test(t)) throw new TypeError(`malformed GUID: ${JSON.stringify(text)}`);
  return t as UvcGuid;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Reads a 16-byte mixed-endian GUID (Data1..3 little-endian, Data4 as stored) at `offset`. */
export function guidFromBytes(b: Uint8Array, offset = 0): UvcGuid {
  const x = (i: number): string => hex2(b[offset + i] ?? 0);
  return (`${x(3)}${x(2)}${x(1)}${x(0)}-${x(5)}${x(4)}-${x(7)}${x(6)}-${x(8)}${x(9)}-` +
    `${x(10)}${x(11)}${x(12)}${x(13)}${x(14)}${x(15)}`) as UvcGuid;
}

/** Writes a GUID in descriptor byte order into `out` at `offset` (16 bytes). */
export function guidToBytes(guid: UvcGuid, out: Uint8Array = new Uint8Array(16), offset = 0): Uint8Array {
  const h = guid.replace(/-/g, '');
  const byte = (i: number): number => parseInt(h.slice(i * 2, i * 2 + 2), 16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < 16; i++) out[offset + i] = byte(order[i] ?? 0);
  return out;
}

/** The media-subtype tail shared by FOURCC-derived GUIDs. */
const FOURCC_TAIL = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** GUID of the FOURCC media subtype (`fourccGuid('YUY2')` = 32595559-0000-0010-8000-00aa00389b71). */
export function fourccGuid(fourcc: string): UvcGuid {
  if (fourcc.length !== 4) throw new RangeError(`FOURCC must have 4 characters: ${JSON.stringify(fourcc)}`);
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) b[i] = fourcc.charCodeAt(i) & 0xff;
  b.set(FOURCC_TAIL, 4);
  return guidFromBytes(b);
}

/** FOURCC of a FOURCC-derived GUID stored at `offset`, or null for private GUIDs (e.g. Syntek's). */
export function fourccFromGuidBytes(b: Uint8Array, offset = 0): string | null {
  for (let i = 0; i < 12; i++) if ((b[offset + 4 + i] ?? -1) !== FOURCC_TAIL[i]) return null;
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = b[offset + i] ?? 0;
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Frame intervals in 100 ns units: discrete list or continuous range. */
export type UvcFrameIntervals = number[] | { min: number; max: number; step: number };

export type UvcFormatType =
  | 'uncompressed'
  | 'mjpeg'
  | 'frame-based'
  | 'h264'
  | 'h264-simulcast'
  | 'vp8'
  | 'vp8-simulcast'
  | 'mpeg2ts'
  | 'dv'
  | 'stream-based';

export interface UvcFrame {
  readonly index: number;
  readonly subtype: number;
  readonly capabilities: number;
  readonly width: number;
  readonly height: number;
  readonly minBitRate: number;
  readonly maxBitRate: number;
  /**
   * dwMaxVideoFrameBufferSize. Frame-based, H.264 and VP8 frames do not carry one: it is derived
   * (dwBytesPerLine × height, else bitsPerPixel × w × h / 8, else maxBitRate over the longest interval).
   */
  readonly maxFrameBufferSize: number;
  readonly defaultInterval: number;
  readonly intervals: UvcFrameIntervals;
  readonly bytesPerLine?: number;
  readonly offset: number;
}

export interface UvcColorMatching {
  readonly colorPrimaries: number;
  readonly transferCharacteristics: number;
  readonly matrixCoefficients: number;
}

export interface UvcFormat {
  readonly index: number;
  readonly type: UvcFormatType;
  readonly subtype: number;
  readonly guid: UvcGuid | null;
  readonly fourcc: string | null;
  readonly bitsPerPixel: number;
  readonly declaredFrames: number;
  readonly defaultFrameIndex: number;
  readonly aspectRatioX: number;
  readonly aspectRatioY: number;
  readonly interlaceFlags: number;
  readonly copyProtect: number;
  /** MJPEG bmFlags (D0 fixed-size samples) or frame-based bVariableSize. */
  readonly flags: number;
  readonly frames: UvcFrame[];
  colorMatching?: UvcColorMatching;
  readonly offset: number;
}

export interface UvcStillFrame {
  readonly endpointAddress: number;
  readonly sizes: { width: number; height: number }[];
  readonly compression: number[];
  /** bFormatIndex of the format this still-image descriptor follows (0 when none). */
  readonly formatIndex: number;
}

export interface UvcStreamingHeader {
  readonly direction: 'in' | 'out';
  readonly numFormats: number;
  readonly totalLength: number;
  readonly endpointAddress: number;
  readonly info: number;
  readonly terminalLink: number;
  readonly stillCaptureMethod: number;
  readonly triggerSupport: number;
  readonly triggerUsage: number;
  /** bmaControls per format (each `bControlSize` bytes, as an integer). */
  readonly formatControls: number[];
}

export interface UvcAltSetting {
  readonly alt: number;
  readonly endpointAddress: number;
  readonly transfer: 'isochronous' | 'bulk' | 'interrupt' | 'control';
  readonly maxPacketSize: number;
  readonly rawMaxPacketSize: number;
  readonly bytesPerInterval: number;
  readonly interval: number;
}

export interface UvcStreamingInterface {
  readonly interfaceNumber: number;
  header?: UvcStreamingHeader;
  /** Video data endpoint (from the header, else the first endpoint found). */
  endpointAddress: number;
  transfer: 'isochronous' | 'bulk';
  /** Alternate settings carrying the video endpoint; alt 0 only for bulk. */
  readonly altSettings: UvcAltSetting[];
  readonly formats: UvcFormat[];
  readonly stillFrames: UvcStillFrame[];
}

export interface UvcInputTerminal {
  readonly id: number;
  readonly terminalType: number;
  readonly assocTerminal: number;
  readonly objectiveFocalLengthMin?: number;
  readonly objectiveFocalLengthMax?: number;
  readonly ocularFocalLength?: number;
  readonly controlSize: number;
  readonly bmControls: number;
  readonly controls: string[];
}

export interface UvcOutputTerminal {
  readonly id: number;
  readonly terminalType: number;
  readonly assocTerminal: number;
  readonly sourceId: number;
}

export interface UvcSelectorUnit {
  readonly id: number;
  readonly sourceIds: number[];
}

export interface UvcProcessingUnit {
  readonly id: number;
  readonly sourceId: number;
  readonly maxMultiplier: number;
  readonly controlSize: number;
  readonly bmControls: number;
  readonly controls: string[];
  /** 1.1+ only (absent from 1.0 descriptors). */
  readonly videoStandards?: number;
}

export interface UvcExtensionUnit {
  readonly id: number;
  readonly guid: UvcGuid;
  readonly numControls: number;
  readonly sourceIds: number[];
  readonly controlSize: number;
  /** bmControls as an integer (first 6 bytes); `bmControlsBytes` keeps all of them. */
  readonly bmControls: number;
  readonly bmControlsBytes: Uint8Array;
}

export interface UvcEncodingUnit {
  readonly id: number;
  readonly sourceId: number;
  readonly bmControls: number;
  readonly bmControlsRuntime: number;
}

export interface UvcInterruptEndpoint {
  readonly address: number;
  readonly maxPacketSize: number;
  readonly interval: number;
  readonly maxTransferSize: number;
}

/** One camera function: a VideoControl interface and the VideoStreaming interfaces it names. */
export interface UvcFunction {
  readonly controlInterface: number;
  /** bcdUVC as a number (0x0100, 0x0110, 0x0150). */
  readonly bcdUVC: number;
  readonly clockFrequency: number;
  readonly streamingInterfaceNumbers: number[];
  readonly inputTerminals: UvcInputTerminal[];
  readonly outputTerminals: UvcOutputTerminal[];
  readonly selectorUnits: UvcSelectorUnit[];
  readonly processingUnits: UvcProcessingUnit[];
  readonly extensionUnits: UvcExtensionUnit[];
  readonly encodingUnits: UvcEncodingUnit[];
  interruptEndpoint?: UvcInterruptEndpoint;
  readonly streamingInterfaces: UvcStreamingInterface[];
}

/** Everything the parser found, in full detail. */
export interface UvcDescriptors {
  readonly functions: UvcFunction[];
  readonly warnings: string[];
}

/** Formats bcdUVC as "1.00". */
export function formatBcd(bcd: number): string {
  return `${(bcd >> 8).toString(16)}.${(bcd & 0xff).toString(16).padStart(2, '0')}`;
}
