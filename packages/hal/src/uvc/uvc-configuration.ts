// The JSON summary of a UVC configuration (`ksemu uvc parse --json`): a plain, stable projection of the parsed descriptors.

import { parseUvcDescriptors } from './descriptor-parser.js';
import type { UvcDescriptors, UvcFormatType, UvcFrameIntervals } from './descriptor-types.js';
import { TerminalType, formatBcd } from './descriptor-types.js';

export interface UvcConfigurationFrame {
  index: number;
  width: number;
  height: number;
  intervals: UvcFrameIntervals;
  maxFrameBufferSize: number;
}

/** Format types of the JSON shape (simulcast variants are reported as their codec). */
export type UvcConfigurationFormatType = Exclude<UvcFormatType, 'h264-simulcast' | 'vp8-simulcast'>;

export interface UvcConfigurationFormat {
  index: number;
  type: UvcConfigurationFormatType;
  /** Lower-case canonical GUID; null for formats without one (MPEG-2 TS, DV). */
  guid: string | null;
  /** FOURCC when the GUID is FOURCC-derived, else null (private GUIDs). */
  fourcc: string | null;
  bitsPerPixel: number;
  frames: UvcConfigurationFrame[];
}

export interface UvcConfigurationStreamingInterface {
  interface: number;
  endpointAddress: number;
  transfer: 'isochronous' | 'bulk';
  altSettings: { alt: number; maxPacketSize: number; bytesPerInterval: number }[];
  formats: UvcConfigurationFormat[];
  stillFrames: { width: number; height: number }[];
}

export interface UvcConfigurationFunction {
  controlInterface: number;
  /** "1.00", "1.10", "1.50". */
  bcdUVC: string;
  clockFrequency: number;
  inputTerminals: { id: number; type: string; controls: string[]; bmControls: number }[];
  processingUnits: { id: number; sourceId: number; controls: string[]; bmControls: number }[];
  extensionUnits: { id: number; guid: string; numControls: number; bmControls: number }[];
  streamingInterfaces: UvcConfigurationStreamingInterface[];
}

/** The `uvc parse --json` shape. */
export interface UvcConfiguration {
  functions: UvcConfigurationFunction[];
  warnings: string[];
}

function terminalTypeName(t: number): string {
  switch (t) {
    case TerminalType.camera:
      return 'camera';
    case TerminalType.mediaTransportInput:
      return 'media-transport';
    case TerminalType.inputVendor:
      return 'vendor';
    default:
      return `0x${t.toString(16).padStart(4, '0')}`;
  }
}

/** Projects fully parsed descriptors onto the JSON summary shape. */
export function summarizeUvcDescriptors(d: UvcDescriptors): UvcConfiguration {
  return {
    functions: d.functions.map((f) => ({
      controlInterface: f.controlInterface,
      bcdUVC: formatBcd(f.bcdUVC),
      clockFrequency: f.clockFrequency,
      inputTerminals: f.inputTerminals.map((t) => ({
        id: t.id,
        type: terminalTypeName(t.terminalType),
        controls: [...t.controls],
        bmControls: t.bmControls,
      })),
      processingUnits: f.processingUnits.map((p) => ({
        id: p.id,
        sourceId: p.sourceId,
        controls: [...p.controls],
        bmControls: p.bmControls,
      })),
      extensionUnits: f.extensionUnits.map((x) => ({
        id: x.id,
        guid: x.guid,
        numControls: x.numControls,
        bmControls: x.bmControls,
      })),
      streamingInterfaces: f.streamingInterfaces.map((s) => ({
        interface: s.interfaceNumber,
        endpointAddress: s.endpointAddress,
        transfer: s.transfer,
        altSettings: s.altSettings.map((a) => ({
          alt: a.alt,
          maxPacketSize: a.maxPacketSize,
          bytesPerInterval: a.bytesPerInterval,
        })),
        formats: s.formats.map((fm) => ({
          index: fm.index,
          type: fm.type === 'h264-simulcast' ? 'h264' : fm.type === 'vp8-simulcast' ? 'vp8' : fm.type,
          guid: fm.guid,
          fourcc: fm.fourcc,
          bitsPerPixel: fm.bitsPerPixel,
          frames: fm.frames.map((fr) => ({
            index: fr.index,
            width: fr.width,
            height: fr.height,
            intervals: Array.isArray(fr.intervals) ? [...fr.intervals] : { ...fr.intervals },
            maxFrameBufferSize: fr.maxFrameBufferSize,
          })),
        })),
        stillFrames: s.stillFrames.flatMap((st) =>
          st.sizes.map((z) => ({ width: z.width, height: z.height })),
        ),
      })),
    })),
    warnings: [...d.warnings],
  };
}

/**
 * Parses a configuration descriptor blob into the `uvc parse --json` shape. Never throws on malformed
 * input (problems become `warnings`); `bytes` is only borrowed for the call.
 */
export function parseUvcConfiguration(bytes: Uint8Array): UvcConfiguration {
  return summarizeUvcDescriptors(parseUvcDescriptors(bytes));
}
