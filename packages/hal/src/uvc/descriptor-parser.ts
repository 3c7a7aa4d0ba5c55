// UVC descriptor parser: walks a configuration descriptor into camera functions (VC units, VS formats/frames), best effort with warnings.

import { CAMERA_TERMINAL_CONTROLS, PROCESSING_UNIT_CONTROLS, controlNames } from './controls.js';
import type {
  UvcAltSetting,
  UvcDescriptors,
  UvcFormat,
  UvcFormatType,
  UvcFrame,
  UvcFrameIntervals,
  UvcFunction,
  UvcStreamingInterface,
} from './descriptor-types.js';
import {
  TerminalType,
  UvcClass,
  VcSubtype,
  VsSubtype,
  fourccFromGuidBytes,
  fourccGuid,
  formatBcd,
  guidFromBytes,
} from './descriptor-types.js';
import type { RawDescriptor, UsbInterface } from './usb-descriptor.js';
import {
  UsbDescriptorType,
  formatOffset,
  parseUsbConfiguration,
  u16,
  u32,
  u8,
  uintLE,
} from './usb-descriptor.js';

interface MutableFunction extends UvcFunction {
  headerTotalLength: number;
  vcLength: number;
}

function warnShort(warnings: string[], d: RawDescriptor, what: string, need: number): boolean {
  if (d.length >= need) return false;
  warnings.push(`${formatOffset(d.offset)}: ${what} descriptor too short (${d.length} < ${need}); skipped`);
  return true;
}

/** Parses the class-specific VC descriptors of one VideoControl interface into a function. */
function parseControlInterface(itf: UsbInterface, warnings: string[]): MutableFunction {
  const fn: MutableFunction = {
    controlInterface: itf.number,
    bcdUVC: 0,
    clockFrequency: 0,
    streamingInterfaceNumbers: [],
    inputTerminals: [],
    outputTerminals: [],
    selectorUnits: [],
    processingUnits: [],
    extensionUnits: [],
    encodingUnits: [],
    streamingInterfaces: [],
    headerTotalLength: 0,
    vcLength: 0,
  };
  let sawHeader = false;
  for (const d of itf.extra) {
    if (d.type !== UsbDescriptorType.csInterface) {
      warnings.push(
        `${formatOffset(d.offset)}: descriptor type 0x${d.type.toString(16)} in VC interface ${itf.number}; skipped`,
      );
      continue;
    }
    const b = d.bytes;
    const subtype = u8(b, 2);
    fn.vcLength += d.length;
    switch (subtype) {
      case VcSubtype.header: {
        if (warnShort(warnings, d, 'VC header', 12)) break;
        if (sawHeader)
          warnings.push(`${formatOffset(d.offset)}: second VC header in interface ${itf.number}; ignored`);
        else {
          sawHeader = true;
          const n = u8(b, 11);
          Object.assign(fn, { bcdUVC: u16(b, 3), clockFrequency: u32(b, 7), headerTotalLength: u16(b, 5) });
          if (12 + n > d.length)
            warnings.push(
              `${formatOffset(d.offset)}: VC header lists ${n} interfaces but is ${d.length} bytes`,
            );
          for (let i = 0; i < n && 12 + i < d.length; i++) fn.streamingInterfaceNumbers.push(u8(b, 12 + i));
        }
        break;
      }
      case VcSubtype.inputTerminal: {
        if (warnShort(warnings, d, 'input terminal', 8)) break;
        const terminalType = u16(b, 4);
        const base = { id: u8(b, 3), terminalType, assocTerminal: u8(b, 6) };
        if (terminalType === TerminalType.camera) {
          if (d.length < 15) {
            warnings.push(
              `${formatOffset(d.offset)}: camera terminal too short (${d.length} < 15); no controls`,
            );
            fn.inputTerminals.push({ ...base, controlSize: 0, bmControls: 0, controls: [] });
            break;
          }
          let n = u8(b, 14);
          if (15 + n > d.length) {
            warnings.push(
              `${formatOffset(d.offset)}: camera terminal bControlSize ${n} overruns its ${d.length} bytes`,
            );
            n = d.length - 15;
          }
          const bm = uintLE(b, 15, n);
          fn.inputTerminals.push({
            ...base,
            objectiveFocalLengthMin: u16(b, 8),
            objectiveFocalLengthMax: u16(b, 10),
            ocularFocalLength: u16(b, 12),
            controlSize: n,
            bmControls: bm,
            controls: controlNames(CAMERA_TERMINAL_CONTROLS, bm, n, fn.bcdUVC),
          });
        } else if (terminalType === TerminalType.mediaTransportInput && d.length >= 9) {
          const n = Math.min(u8(b, 8), d.length - 9);
          fn.inputTerminals.push({ ...base, controlSize: n, bmControls: uintLE(b, 9, n), controls: [] });
        } else {
          fn.inputTerminals.push({ ...base, controlSize: 0, bmControls: 0, controls: [] });
        }
        break;
      }
      case VcSubtype.outputTerminal:
        if (warnShort(warnings, d, 'output terminal', 9)) break;
        fn.outputTerminals.push({
          id: u8(b, 3),
          terminalType: u16(b, 4),
          assocTerminal: u8(b, 6),
          sourceId: u8(b, 7),
        });
        break;
      case VcSubtype.selectorUnit: {
        if (warnShort(warnings, d, 'selector unit', 6)) break;
        const p = u8(b, 4);
        if (5 + p > d.length)
          warnings.push(`${formatOffset(d.offset)}: selector unit lists ${p} pins but is ${d.length} bytes`);
        const sourceIds: number[] = [];
        for (let i = 0; i < p && 5 + i < d.length; i++) sourceIds.push(u8(b, 5 + i));
        fn.selectorUnits.push({ id: u8(b, 3), sourceIds });
        break;
      }
      case VcSubtype.processingUnit: {
        if (warnShort(warnings, d, 'processing unit', 8)) break;
        let n = u8(b, 7);
        if (8 + n > d.length) {
          warnings.push(
            `${formatOffset(d.offset)}: processing unit bControlSize ${n} overruns its ${d.length} bytes`,
          );
          n = d.length - 8;
        }
        // 1.0 PUs are 9+n bytes, 1.1+ add bmVideoStandards (10+n); accept either whatever bcdUVC says.
        const hasStandards = d.length >= 10 + n;
        if (!hasStandards && fn.bcdUVC >= 0x0110) {
          warnings.push(
            `${formatOffset(d.offset)}: UVC ${formatBcd(fn.bcdUVC)} processing unit lacks bmVideoStandards (1.0 layout)`,
          );
        }
        const bm = uintLE(b, 8, n);
        fn.processingUnits.push({
          id: u8(b, 3),
          sourceId: u8(b, 4),
          maxMultiplier: u16(b, 5),
          controlSize: n,
          bmControls: bm,
          controls: controlNames(PROCESSING_UNIT_CONTROLS, bm, n, fn.bcdUVC),
          ...(hasStandards ? { videoStandards: u8(b, 9 + n) } : {}),
        });
        break;
      }
      case VcSubtype.extensionUnit: {
        if (warnShort(warnings, d, 'extension unit', 24)) break;
        const p = u8(b, 21);
        let n = u8(b, 22 + p);
        if (23 + p + n > d.length) {
          warnings.push(
            `${formatOffset(d.offset)}: extension unit (${p} pins, bControlSize ${n}) overruns its ${d.length} bytes`,
          );
          n = Math.max(0, d.length - 23 - p);
        }
        const sourceIds: number[] = [];
        for (let i = 0; i < p && 22 + i < d.length; i++) sourceIds.push(u8(b, 22 + i));
        const start = Math.min(23 + p, d.length);
        fn.extensionUnits.push({
          id: u8(b, 3),
          guid: guidFromBytes(b, 4),
          numControls: u8(b, 20),
          sourceIds,
          controlSize: n,
          bmControls: uintLE(b, 23 + p, n),
          bmControlsBytes: b.slice(start, start + n),
        });
        break;
      }
      case VcSubtype.encodingUnit:
        if (warnShort(warnings, d, 'encoding unit', 13)) break;
        fn.encodingUnits.push({
          id: u8(b, 3),
          sourceId: u8(b, 4),
          bmControls: uintLE(b, 7, Math.min(u8(b, 6), 3)),
          bmControlsRuntime: uintLE(b, 7 + u8(b, 6), Math.min(u8(b, 6), 3)),
        });
        break;
      default:
        warnings.push(
          `${formatOffset(d.offset)}: unknown VC subtype 0x${subtype.toString(16)} (${d.length} bytes); skipped`,
        );
    }
  }
  if (!sawHeader) warnings.push(`VC interface ${itf.number} has no VC header`);
  else if (fn.headerTotalLength !== fn.vcLength) {
    warnings.push(
      `VC interface ${itf.number}: header wTotalLength ${fn.headerTotalLength} but class-specific descriptors total ${fn.vcLength}`,
    );
  }
  for (const ep of itf.endpoints) {
    if (ep.transfer !== 'interrupt' || ep.direction !== 'in') continue;
    const cs = ep.extra.find((x) => x.type === UsbDescriptorType.csEndpoint && u8(x.bytes, 2) === 0x03);
    fn.interruptEndpoint = {
      address: ep.address,
      maxPacketSize: ep.maxPacketSize,
      interval: ep.interval,
      maxTransferSize: cs && cs.length >= 5 ? u16(cs.bytes, 3) : 0,
    };
  }
  return fn;
}

const FORMAT_TYPES: Partial<Record<number, UvcFormatType>> = {
  [VsSubtype.formatUncompressed]: 'uncompressed',
  [VsSubtype.formatMjpeg]: 'mjpeg',
  [VsSubtype.formatFrameBased]: 'frame-based',
  [VsSubtype.formatH264]: 'h264',
  [VsSubtype.formatH264Simulcast]: 'h264-simulcast',
  [VsSubtype.formatVp8]: 'vp8',
  [VsSubtype.formatVp8Simulcast]: 'vp8-simulcast',
  [VsSubtype.formatMpeg2ts]: 'mpeg2ts',
  [VsSubtype.formatDv]: 'dv',
  [VsSubtype.formatStreamBased]: 'stream-based',
};

/** Which frame subtype belongs to which format subtype. */
const FRAME_OF_FORMAT: Partial<Record<number, number>> = {
  [VsSubtype.formatUncompressed]: VsSubtype.frameUncompressed,
  [VsSubtype.formatMjpeg]: VsSubtype.frameMjpeg,
  [VsSubtype.formatFrameBased]: VsSubtype.frameFrameBased,
  [VsSubtype.formatH264]: VsSubtype.frameH264,
  [VsSubtype.formatH264Simulcast]: VsSubtype.frameH264,
  [VsSubtype.formatVp8]: VsSubtype.frameVp8,
  [VsSubtype.formatVp8Simulcast]: VsSubtype.frameVp8,
};

function parseFormat(d: RawDescriptor, subtype: number, warnings: string[]): UvcFormat | undefined {
  const b = d.bytes;
  const type = FORMAT_TYPES[subtype] ?? 'stream-based';
  const base = {
    index: u8(b, 3),
    type,
    subtype,
    declaredFrames: 0,
    defaultFrameIndex: 0,
    aspectRatioX: 0,
    aspectRatioY: 0,
    interlaceFlags: 0,
    copyProtect: 0,
    flags: 0,
    bitsPerPixel: 0,
    frames: [] as UvcFrame[],
    offset: d.offset,
  };
  switch (subtype) {
    case VsSubtype.formatUncompressed:
    case VsSubtype.formatFrameBased: {
      const need = subtype === VsSubtype.formatUncompressed ? 27 : 28;
      if (warnShort(warnings, d, `${type} format`, need)) return undefined;
      return {
        ...base,
        declaredFrames: u8(b, 4),
        guid: guidFromBytes(b, 5),
        fourcc: fourccFromGuidBytes(b, 5),
        bitsPerPixel: u8(b, 21),
        defaultFrameIndex: u8(b, 22),
        aspectRatioX: u8(b, 23),
        aspectRatioY: u8(b, 24),
        interlaceFlags: u8(b, 25),
        copyProtect: u8(b, 26),
        flags: subtype === VsSubtype.formatFrameBased ? u8(b, 27) : 0,
      };
    }
    case VsSubtype.formatMjpeg:
      if (warnShort(warnings, d, 'MJPEG format', 11)) return undefined;
      return {
        ...base,
        declaredFrames: u8(b, 4),
        guid: fourccGuid('MJPG'),
        fourcc: 'MJPG',
        flags: u8(b, 5),
        defaultFrameIndex: u8(b, 6),
        aspectRatioX: u8(b, 7),
        aspectRatioY: u8(b, 8),
        interlaceFlags: u8(b, 9),
        copyProtect: u8(b, 10),
      };
    case VsSubtype.formatH264:
    case VsSubtype.formatH264Simulcast:
    case VsSubtype.formatVp8:
    case VsSubtype.formatVp8Simulcast: {
      if (warnShort(warnings, d, `${type} format`, 6)) return undefined;
      const h264 = subtype === VsSubtype.formatH264 || subtype === VsSubtype.formatH264Simulcast;
      return {
        ...base,
        declaredFrames: u8(b, 4),
        defaultFrameIndex: u8(b, 5),
        guid: fourccGuid(h264 ? 'H264' : 'VP80'),
        fourcc: h264 ? 'H264' : 'VP80',
      };
    }
    case VsSubtype.formatStreamBased:
      if (warnShort(warnings, d, 'stream-based format', 20)) return undefined;
      return { ...base, guid: guidFromBytes(b, 4), fourcc: fourccFromGuidBytes(b, 4) };
    case VsSubtype.formatMpeg2ts:
      if (warnShort(warnings, d, 'MPEG-2 TS format', 7)) return undefined;
      return { ...base, guid: null, fourcc: null };
    case VsSubtype.formatDv:
      if (warnShort(warnings, d, 'DV format', 9)) return undefined;
      return { ...base, guid: null, fourcc: null };
    default:
      return undefined;
  }
}

function readIntervals(
  d: RawDescriptor,
  at: number,
  first: number,
  warnings: string[],
): { intervals: UvcFrameIntervals; intervalType: number } {
  const b = d.bytes;
  const type = u8(b, at);
  if (type === 0) {
    if (first + 12 > d.length) {
      warnings.push(`${formatOffset(d.offset)}: continuous frame intervals truncated (${d.length} bytes)`);
    }
    return {
      intervalType: 0,
      intervals: { min: u32(b, first), max: u32(b, first + 4), step: u32(b, first + 8) },
    };
  }
  const intervals: number[] = [];
  for (let i = 0; i < type; i++) {
    if (first + 4 * i + 4 > d.length) {
      warnings.push(
        `${formatOffset(d.offset)}: frame declares ${type} intervals but only ${i} fit in ${d.length} bytes`,
      );
      break;
    }
    intervals.push(u32(b, first + 4 * i));
  }
  return { intervalType: type, intervals };
}

function maxInterval(iv: UvcFrameIntervals): number {
  return Array.isArray(iv) ? Math.max(0, ...iv) : iv.max;
}

function parseFrame(
  d: RawDescriptor,
  subtype: number,
  format: UvcFormat | undefined,
  warnings: string[],
): UvcFrame | undefined {
  const b = d.bytes;
  switch (subtype) {
    case VsSubtype.frameUncompressed:
    case VsSubtype.frameMjpeg:
    case VsSubtype.frameFrameBased: {
      if (warnShort(warnings, d, 'frame', 26)) return undefined;
      const frameBased = subtype === VsSubtype.frameFrameBased;
      const { intervals } = readIntervals(d, frameBased ? 21 : 25, 26, warnings);
      const width = u16(b, 5);
      const height = u16(b, 7);
      const bytesPerLine = frameBased ? u32(b, 22) : undefined;
      let maxFrameBufferSize = frameBased ? 0 : u32(b, 17);
      if (frameBased) {
        const bpp = format?.bitsPerPixel ?? 0;
        // Frame-based frames carry no buffer size: derive one the way a host must allocate.
        if (bytesPerLine) maxFrameBufferSize = bytesPerLine * height;
        else if (bpp) maxFrameBufferSize = Math.ceil((bpp * width * height) / 8);
        else maxFrameBufferSize = Math.ceil((u32(b, 13) * maxInterval(intervals)) / 1e7 / 8);
      }
      return {
        index: u8(b, 3),
        subtype,
        capabilities: u8(b, 4),
        width,
        height,
        minBitRate: u32(b, 9),
        maxBitRate: u32(b, 13),
        maxFrameBufferSize,
        defaultInterval: u32(b, frameBased ? 17 : 21),
        intervals,
        ...(bytesPerLine !== undefined ? { bytesPerLine } : {}),
        offset: d.offset,
      };
    }
    case VsSubtype.frameH264: {
      if (warnShort(warnings, d, 'H.264 frame', 44)) return undefined;
      const { intervals } = readIntervals(d, 43, 44, warnings);
      const maxBitRate = u32(b, 35);
      return {
        index: u8(b, 3),
        subtype,
        capabilities: u16(b, 21),
        width: u16(b, 4),
        height: u16(b, 6),
        minBitRate: u32(b, 31),
        maxBitRate,
        maxFrameBufferSize: Math.ceil((maxBitRate * maxInterval(intervals)) / 1e7 / 8),
        defaultInterval: u32(b, 39),
        intervals: Array.isArray(intervals) ? intervals : [],
        offset: d.offset,
      };
    }
    case VsSubtype.frameVp8: {
      if (warnShort(warnings, d, 'VP8 frame', 31)) return undefined;
      const { intervals } = readIntervals(d, 30, 31, warnings);
      const maxBitRate = u32(b, 22);
      return {
        index: u8(b, 3),
        subtype,
        capabilities: u16(b, 12),
        width: u16(b, 4),
        height: u16(b, 6),
        minBitRate: u32(b, 18),
        maxBitRate,
        maxFrameBufferSize: Math.ceil((maxBitRate * maxInterval(intervals)) / 1e7 / 8),
        defaultInterval: u32(b, 26),
        intervals: Array.isArray(intervals) ? intervals : [],
        offset: d.offset,
      };
    }
    default:
      return undefined;
  }
}

interface StreamingState {
  si: UvcStreamingInterface;
  alts: UsbInterface[];
}

function closeFormat(f: UvcFormat | undefined, itf: number, warnings: string[]): void {
  if (!f) return;
  const expectsFrames = FRAME_OF_FORMAT[f.subtype] !== undefined;
  if (expectsFrames && f.frames.length !== f.declaredFrames) {
    warnings.push(
      `VS interface ${itf} format ${f.index} (${f.type}) declares ${f.declaredFrames} frames but has ${f.frames.length}`,
    );
  }
}

/** Parses the class-specific descriptors of a VS interface's alternate setting 0. */
function parseStreamingDescriptors(itf: UsbInterface, si: UvcStreamingInterface, warnings: string[]): void {
  // Class-specific descriptors may sit after an endpoint in alt 0 (bulk cameras); gather them in order.
  const all = [...itf.extra, ...itf.endpoints.flatMap((e) => e.extra)].sort((a, b) => a.offset - b.offset);
  let format: UvcFormat | undefined;
  let vsLength = 0;
  for (const d of all) {
    if (d.type !== UsbDescriptorType.csInterface) {
      if (d.type !== UsbDescriptorType.csEndpoint) {
        warnings.push(
          `${formatOffset(d.offset)}: descriptor type 0x${d.type.toString(16)} in VS interface ${itf.number}; skipped`,
        );
      }
      continue;
    }
    const b = d.bytes;
    const subtype = u8(b, 2);
    vsLength += d.length;
    if (subtype === VsSubtype.inputHeader || subtype === VsSubtype.outputHeader) {
      const input = subtype === VsSubtype.inputHeader;
      if (warnShort(warnings, d, input ? 'VS input header' : 'VS output header', input ? 13 : 9)) continue;
      if (si.header) {
        warnings.push(`${formatOffset(d.offset)}: second VS header in interface ${itf.number}; ignored`);
        continue;
      }
      const p = u8(b, 3);
      const n = u8(b, input ? 12 : 8);
      const at = input ? 13 : 9;
      if (at + p * n > d.length) {
        warnings.push(
          `${formatOffset(d.offset)}: VS header bmaControls (${p}×${n}) overrun its ${d.length} bytes`,
        );
      }
      const formatControls: number[] = [];
      for (let i = 0; i < p && at + (i + 1) * n <= d.length; i++)
        formatControls.push(uintLE(b, at + i * n, n));
      si.header = {
        direction: input ? 'in' : 'out',
        numFormats: p,
        totalLength: u16(b, 4),
        endpointAddress: u8(b, 6),
        info: input ? u8(b, 7) : 0,
        terminalLink: u8(b, input ? 8 : 7),
        stillCaptureMethod: input ? u8(b, 9) : 0,
        triggerSupport: input ? u8(b, 10) : 0,
        triggerUsage: input ? u8(b, 11) : 0,
        formatControls,
      };
      si.endpointAddress = u8(b, 6);
      continue;
    }
    if (FORMAT_TYPES[subtype] !== undefined) {
      closeFormat(format, itf.number, warnings);
      format = parseFormat(d, subtype, warnings);
      if (format) {
        if (si.formats.some((f) => f.index === format?.index)) {
          warnings.push(
            `${formatOffset(d.offset)}: duplicate format index ${format.index} in VS interface ${itf.number}`,
          );
        }
        si.formats.push(format);
      }
      continue;
    }
    switch (subtype) {
      case VsSubtype.frameUncompressed:
      case VsSubtype.frameMjpeg:
      case VsSubtype.frameFrameBased:
      case VsSubtype.frameH264:
      case VsSubtype.frameVp8: {
        const frame = parseFrame(d, subtype, format, warnings);
        if (!frame) break;
        if (!format) {
          warnings.push(`${formatOffset(d.offset)}: frame descriptor before any format; skipped`);
          break;
        }
        if (FRAME_OF_FORMAT[format.subtype] !== subtype) {
          warnings.push(
            `${formatOffset(d.offset)}: frame subtype 0x${subtype.toString(16)} does not match format ${format.index} (${format.type})`,
          );
        }
        if (format.frames.some((f) => f.index === frame.index)) {
          warnings.push(
            `${formatOffset(d.offset)}: duplicate frame index ${frame.index} in format ${format.index}`,
          );
        }
        format.frames.push(frame);
        break;
      }
      case VsSubtype.stillImageFrame: {
        if (warnShort(warnings, d, 'still image frame', 6)) break;
        const n = u8(b, 4);
        const sizes: { width: number; height: number }[] = [];
        let i = 0;
        for (; i < n && 5 + 4 * i + 4 <= d.length; i++)
          sizes.push({ width: u16(b, 5 + 4 * i), height: u16(b, 7 + 4 * i) });
        if (i < n)
          warnings.push(`${formatOffset(d.offset)}: still image frame lists ${n} sizes but only ${i} fit`);
        const at = 5 + 4 * sizes.length;
        const m = u8(b, at);
        const compression: number[] = [];
        for (let k = 0; k < m && at + 1 + k < d.length; k++) compression.push(u8(b, at + 1 + k));
        si.stillFrames.push({
          endpointAddress: u8(b, 3),
          sizes,
          compression,
          formatIndex: format?.index ?? 0,
        });
        break;
      }
      case VsSubtype.colorFormat:
        if (warnShort(warnings, d, 'color matching', 6)) break;
        if (format) {
          format.colorMatching = {
            colorPrimaries: u8(b, 3),
            transferCharacteristics: u8(b, 4),
            matrixCoefficients: u8(b, 5),
          };
        }
        break;
      default:
        // Vendor subtypes (Syntek 0x0E/0x0F) and future ones: skipped by bLength, parsing continues.
        warnings.push(
          `${formatOffset(d.offset)}: unknown VS subtype 0x${subtype.toString(16)} (${d.length} bytes); skipped`,
        );
    }
  }
  closeFormat(format, itf.number, warnings);
  const h = si.header;
  if (!h) warnings.push(`VS interface ${itf.number} has no input/output header`);
  else {
    if (h.numFormats !== si.formats.length) {
      warnings.push(
        `VS interface ${itf.number} header declares ${h.numFormats} formats but has ${si.formats.length}`,
      );
    }
    if (h.totalLength !== vsLength) {
      warnings.push(
        `VS interface ${itf.number}: header wTotalLength ${h.totalLength} but class-specific descriptors total ${vsLength}`,
      );
    }
  }
}

/** Fills transfer type and alternate settings from the endpoints of every alt of a VS interface. */
function resolveEndpoints(state: StreamingState, warnings: string[]): void {
  const { si, alts } = state;
  const wantDir = si.header?.direction ?? 'in';
  let address = si.endpointAddress;
  const found = alts.some((a) => a.endpoints.some((e) => e.address === address));
  if (!found) {
    const first = alts
      .flatMap((a) => a.endpoints)
      .find((e) => e.direction === wantDir && (e.transfer === 'bulk' || e.transfer === 'isochronous'));
    if (si.header) {
      warnings.push(
        `VS interface ${si.interfaceNumber}: header names endpoint 0x${address.toString(16)} which no alternate setting has` +
          (first ? `; using 0x${first.address.toString(16)}` : ''),
      );
    }
    if (first) address = first.address;
  }
  si.endpointAddress = address;
  const settings: UvcAltSetting[] = [];
  for (const a of alts) {
    const e = a.endpoints.find((x) => x.address === address);
    if (!e) continue;
    settings.push({
      alt: a.alternateSetting,
      endpointAddress: e.address,
      transfer: e.transfer,
      maxPacketSize: e.maxPacketSize,
      rawMaxPacketSize: e.rawMaxPacketSize,
      bytesPerInterval: e.bytesPerInterval,
      interval: e.interval,
    });
  }
  settings.sort((x, y) => x.alt - y.alt);
  const iso = settings.filter((s) => s.transfer === 'isochronous');
  if (iso.length > 0) {
    si.transfer = 'isochronous';
    si.altSettings.push(...iso);
  } else {
    si.transfer = 'bulk';
    si.altSettings.push(...settings.filter((s) => s.transfer === 'bulk'));
  }
  if (si.altSettings.length === 0) warnings.push(`VS interface ${si.interfaceNumber} has no video endpoint`);
}

/**
 * Parses every UVC camera function in a configuration descriptor blob. Never throws and always
 * terminates: malformed, truncated or unknown descriptors produce warnings and a best-effort result.
 * The result does not keep references into `bytes` except `bmControlsBytes` (copied).
 */
export function parseUvcDescriptors(bytes: Uint8Array): UvcDescriptors {
  const cfg = parseUsbConfiguration(bytes);
  const warnings = [...cfg.warnings];
  const functions: MutableFunction[] = [];
  const streaming = new Map<number, StreamingState>();
  for (const itf of cfg.interfaces) {
    if (itf.interfaceClass !== UvcClass.video) continue;
    if (itf.interfaceSubClass === UvcClass.subclassControl) {
      if (functions.some((f) => f.controlInterface === itf.number)) {
        if (itf.extra.length)
          warnings.push(
            `VC interface ${itf.number} alt ${itf.alternateSetting}: extra alternate setting ignored`,
          );
        continue;
      }
      functions.push(parseControlInterface(itf, warnings));
    } else if (itf.interfaceSubClass === UvcClass.subclassStreaming) {
      let st = streaming.get(itf.number);
      if (!st) {
        st = {
          si: {
            interfaceNumber: itf.number,
            endpointAddress: 0,
            transfer: 'bulk',
            altSettings: [],
            formats: [],
            stillFrames: [],
          },
          alts: [],
        };
        streaming.set(itf.number, st);
      }
      st.alts.push(itf);
      const hasCs = [...itf.extra, ...itf.endpoints.flatMap((e) => e.extra)].some(
        (d) => d.type === UsbDescriptorType.csInterface,
      );
      if (hasCs && st.si.header === undefined) parseStreamingDescriptors(itf, st.si, warnings);
      else if (hasCs)
        warnings.push(
          `VS interface ${itf.number} alt ${itf.alternateSetting}: class-specific descriptors outside alt 0 ignored`,
        );
    }
  }
  for (const st of streaming.values()) resolveEndpoints(st, warnings);
  const claimed = new Set<number>();
  for (const fn of functions) {
    for (const n of fn.streamingInterfaceNumbers) {
      const st = streaming.get(n);
      if (!st) {
        warnings.push(`VC interface ${fn.controlInterface} names VS interface ${n}, which does not exist`);
        continue;
      }
      if (claimed.has(n)) {
        warnings.push(`VS interface ${n} is claimed by more than one VC interface`);
        continue;
      }
      claimed.add(n);
      fn.streamingInterfaces.push(st.si);
    }
  }
  for (const [n] of streaming)
    if (!claimed.has(n)) warnings.push(`VS interface ${n} belongs to no VC interface; ignored`);
  if (functions.length === 0) warnings.push('no UVC VideoControl interface found');
  return {
    functions: functions.map(({ headerTotalLength: _h, vcLength: _v, ...f }) => f),
    warnings,
  };
}
