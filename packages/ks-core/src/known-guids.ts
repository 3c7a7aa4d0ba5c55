// Registry of the well-known KS GUIDs (categories, media types, property/event sets, node types) with their real ksmedia.h/uuids.h values.
import { fourccGuid, guid, type Guid } from './guid.js';

/**
 * A name ↔ GUID registry. Every GUID is registered once under one name, so tools can print
 * `MEDIASUBTYPE_YUY2` instead of a hex string and a typo in a table is caught at load time.
 */
export class GuidRegistry {
  readonly #byGuid = new Map<Guid, string>();
  readonly #byName = new Map<string, Guid>();

  /**
   * Registers `name` for `value`. Registering the same pair again is a no-op.
   * @throws TypeError when `value` is not a GUID.
   * @throws Error when the GUID is already registered under another name or the name under
   *   another GUID (a table bug: two names for one id make lookups ambiguous).
   */
  register(name: string, value: string): Guid {
    const g = guid(value);
    const existingName = this.#byGuid.get(g);
    if (existingName !== undefined && existingName !== name) {
      throw new Error(`GUID ${g} is already registered as ${existingName}; cannot register it as ${name}`);
    }
    const existingGuid = this.#byName.get(name);
    if (existingGuid !== undefined && existingGuid !== g) {
      throw new Error(`name ${name} is already registered for ${existingGuid}; cannot register it for ${g}`);
    }
    this.#byGuid.set(g, name);
    this.#byName.set(name, g);
    return g;
  }

  /** The registered name of `g`, or `undefined`. */
  nameOf(g: Guid): string | undefined {
    return this.#byGuid.get(g);
  }

  /** The GUID registered under `name`, or `undefined`. */
  lookup(name: string): Guid | undefined {
    return this.#byName.get(name);
  }

  /** Name when known, else the GUID text; for logs and CLI output. */
  describe(g: Guid): string {
    return this.#byGuid.get(g) ?? g;
  }

  /** Every registered entry, sorted by name. */
  entries(): Array<{ name: string; guid: Guid }> {
    return [...this.#byName]
      .map(([name, g]) => ({ name, guid: g }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}

/** The process-wide registry of well-known KS GUIDs; minidrivers may add private ones. */
export const knownGuids = new GuidRegistry();

function group<const T extends Record<string, string>>(
  prefix: string,
  table: T,
  upperCaseNames = false,
): { readonly [K in keyof T]: Guid } {
  const out: Record<string, Guid> = {};
  // Registered names are the header's names (PROPSETID_VIDCAP_VIDEOPROCAMP); keys stay readable.
  for (const [key, value] of Object.entries(table)) {
    out[key] = knownGuids.register(`${prefix}${upperCaseNames ? key.toUpperCase() : key}`, value);
  }
  return Object.freeze(out) as { readonly [K in keyof T]: Guid };
}

function fourccGroup<const T extends Record<string, string>>(
  prefix: string,
  table: T,
): { readonly [K in keyof T]: Guid } {
  const out: Record<string, string> = {};
  for (const [key, cc] of Object.entries(table)) out[key] = fourccGuid(cc);
  return group(prefix, out as T);
}

/** KSCATEGORY_*: filter categories (device interface classes). Values from ksmedia.h / ks.h. */
export const KsCategory = group('KSCATEGORY_', {
  CAPTURE: '65e8773d-8f56-11d0-a3b9-00a0c9223196',
  RENDER: '65e8773e-8f56-11d0-a3b9-00a0c9223196',
  VIDEO: '6994ad05-93ef-11d0-a3cc-00a0c9223196',
  AUDIO: '6994ad04-93ef-11d0-a3cc-00a0c9223196',
  TEXT: '6994ad06-93ef-11d0-a3cc-00a0c9223196',
  VIDEO_CAMERA: 'e5323777-f976-4f5b-9b55-b94699c46e44',
  TVTUNER: 'a799a800-a46d-11d0-a18c-00a02401dcd4',
  CROSSBAR: 'a799a801-a46d-11d0-a18c-00a02401dcd4',
  TVAUDIO: 'a799a802-a46d-11d0-a18c-00a02401dcd4',
  VPMUX: 'a799a803-a46d-11d0-a18c-00a02401dcd4',
  VBICODEC: '07dad660-22f1-11d1-a9f4-00c04fbbde8f',
  ENCODER: '19689bf6-c384-48fd-ad51-90e58c79f70b',
  BRIDGE: '085aff00-62ce-11cf-a5d6-28db04c10000',
  CLOCK: '53172480-4791-11d0-a5d6-28db04c10000',
  PROXY: '97ebaaca-95bd-11d0-a3ea-00a0c9223196',
  SPLITTER: '0a4252a0-7e70-11d0-a5d6-28db04c10000',
  DATACOMPRESSOR: '1e84c900-7e70-11d0-a5d6-28db04c10000',
  DATADECOMPRESSOR: '2721ae20-7e70-11d0-a5d6-28db04c10000',
  DATATRANSFORM: '2eb07ea0-7e70-11d0-a5d6-28db04c10000',
  MIXER: 'ad809c00-7b88-11d0-a5d6-28db04c10000',
  TOPOLOGY: 'dda54a40-1e4c-11d1-a050-405705c10000',
  VIRTUAL: '3503eac4-1f26-11d1-8ab0-00a0c9223196',
});

/** MEDIATYPE_* (= KSDATAFORMAT_TYPE_*): major types. Values from uuids.h. */
export const MediaType = group('MEDIATYPE_', {
  Video: '73646976-0000-0010-8000-00aa00389b71',
  Audio: '73647561-0000-0010-8000-00aa00389b71',
  Interleaved: '73766169-0000-0010-8000-00aa00389b71',
  Stream: 'e436eb83-524f-11ce-9f53-0020af0ba770',
  AnalogVideo: '0482dde1-7817-11cf-8a03-00aa006ecb65',
  AnalogAudio: '0482dee1-7817-11cf-8a03-00aa006ecb65',
  VBI: 'f72a76e1-eb0a-11d0-ace4-0000c0cc16ba',
});

/**
 * MEDIASUBTYPE_*: FOURCC subtypes follow the FOURCC base-GUID rule; the RGB family has its own
 * values (uuids.h). `ARGB32` is the 32-bit BGRA memory layout; `Y800` is 8-bit grey.
 */
export const MediaSubtype = Object.freeze({
  ...fourccGroup('MEDIASUBTYPE_', {
    YUY2: 'YUY2',
    UYVY: 'UYVY',
    YVYU: 'YVYU',
    NV12: 'NV12',
    I420: 'I420',
    IYUV: 'IYUV',
    YV12: 'YV12',
    Y800: 'Y800',
    MJPG: 'MJPG',
    H264: 'H264',
  }),
  ...group('MEDIASUBTYPE_', {
    RGB24: 'e436eb7d-524f-11ce-9f53-0020af0ba770',
    RGB32: 'e436eb7e-524f-11ce-9f53-0020af0ba770',
    RGB555: 'e436eb7c-524f-11ce-9f53-0020af0ba770',
    RGB565: 'e436eb7b-524f-11ce-9f53-0020af0ba770',
    ARGB32: '773c9ac0-3274-11d0-b724-00aa006c1a01',
    None: 'e436eb8e-524f-11ce-9f53-0020af0ba770',
  }),
});

/** FORMAT_* (= KSDATAFORMAT_SPECIFIER_*): the format block that follows KSDATAFORMAT. */
export const FormatType = group('FORMAT_', {
  VideoInfo: '05589f80-c356-11ce-bf01-00aa0055595a',
  VideoInfo2: 'f72a76a0-eb0a-11d0-ace4-0000c0cc16ba',
  MPEGVideo: '05589f82-c356-11ce-bf01-00aa0055595a',
  MPEG2Video: 'e06d80e3-db46-11cf-b4d1-00805f6cbbea',
  WaveFormatEx: '05589f81-c356-11ce-bf01-00aa0055595a',
  AnalogVideo: '0482dde0-7817-11cf-8a03-00aa006ecb65',
  VBI: 'f72a76e0-eb0a-11d0-ace4-0000c0cc16ba',
  None: '0f6417d6-c318-11d0-a43f-00a0c9223196',
});

/**
 * Property sets: KSPROPSETID_* and the video-capture PROPSETID_* (ksmedia.h). Keys drop the
 * prefix: `PropSetId.VideoProcAmp` is PROPSETID_VIDCAP_VIDEOPROCAMP, `PropSetId.Tuner` is
 * PROPSETID_TUNER (KSPROPSETID_Tuner), `PropSetId.Pin` is KSPROPSETID_Pin.
 */
export const PropSetId = Object.freeze({
  ...group('KSPROPSETID_', {
    General: '1464eda5-6a8f-11d1-9aa7-00a0c9223196',
    Pin: '8c134960-51ad-11cf-878a-94f801c10000',
    Connection: '1d58c920-ac9b-11cf-a5d6-28db04c10000',
    Topology: '720d4ac0-7533-11d0-a5d6-28db04c10000',
    Clock: 'df12a4c0-ac17-11cf-a5d6-28db04c10000',
    Stream: '65aaba60-98ae-11cf-a10d-0020afd156e4',
    StreamAllocator: 'cf6e4342-ec87-11cf-a130-0020afd156e4',
    Quality: 'd16ad380-ac1a-11cf-a5d6-28db04c10000',
    MediaSeeking: 'ee904f0c-d09b-11d0-abe9-00a0c9223196',
  }),
  ...group(
    'PROPSETID_VIDCAP_',
    {
      VideoProcAmp: 'c6e13360-30ac-11d0-a18c-00a0c9118956',
      CameraControl: 'c6e13370-30ac-11d0-a18c-00a0c9118956',
      VideoDecoder: 'c6e13350-30ac-11d0-a18c-00a0c9118956',
      VideoEncoder: '6a2e0610-28e4-11d0-a18c-00a0c9118956',
      VideoControl: '6a2e0670-28e4-11d0-a18c-00a0c9118956',
      VideoCompression: 'c6e13343-30ac-11d0-a18c-00a0c9118956',
      DroppedFrames: 'c6e13344-30ac-11d0-a18c-00a0c9118956',
      CrossBar: '6a2e0640-28e4-11d0-a18c-00a0c9118956',
      TVAudio: '6a2e0650-28e4-11d0-a18c-00a0c9118956',
    },
    true,
  ),
  ...group(
    'PROPSETID_',
    {
      Tuner: '6a2e0605-28e4-11d0-a18c-00a0c9118956',
    },
    true,
  ),
});

/** Event sets: KSEVENTSETID_* and the video-capture EVENTSETID_* (ksmedia.h, ks.h). */
export const EventSetId = Object.freeze({
  ...group('KSEVENTSETID_', {
    Clock: '364d8e20-62c7-11cf-a5d6-28db04c10000',
    Connection: '7f4bcbe0-9ea5-11cf-a5d6-28db04c10000',
    StreamAllocator: '75d95571-073c-11d0-a161-0020afd156e4',
    VIDCAP_TVAUDIO: '6a2e0651-28e4-11d0-a18c-00a0c9118956',
  }),
  ...group(
    'EVENTSETID_',
    {
      Tuner: '6a2e0606-28e4-11d0-a18c-00a0c9118956',
      CrossBar: '6a2e0641-28e4-11d0-a18c-00a0c9118956',
      VideoDecoder: '6a2e0621-28e4-11d0-a18c-00a0c9118956',
    },
    true,
  ),
});

/** KSNODETYPE_*: topology node types (ksmedia.h). */
export const NodeType = group('KSNODETYPE_', {
  VIDEO_STREAMING: 'dff229e1-f70f-11d0-b917-00a0c9223196',
  VIDEO_INPUT_TERMINAL: 'dff229e2-f70f-11d0-b917-00a0c9223196',
  VIDEO_OUTPUT_TERMINAL: 'dff229e3-f70f-11d0-b917-00a0c9223196',
  VIDEO_SELECTOR: 'dff229e4-f70f-11d0-b917-00a0c9223196',
  VIDEO_PROCESSING: 'dff229e5-f70f-11d0-b917-00a0c9223196',
  VIDEO_CAMERA_TERMINAL: 'dff229e6-f70f-11d0-b917-00a0c9223196',
  VIDEO_INPUT_MTT: 'dff229e7-f70f-11d0-b917-00a0c9223196',
  VIDEO_OUTPUT_MTT: 'dff229e8-f70f-11d0-b917-00a0c9223196',
  DEV_SPECIFIC: '941c7ac0-c559-11d0-8a2b-00a0c9255ac1',
  MUX: '2ceaf780-c556-11d0-8a2b-00a0c9255ac1',
  DEMUX: 'c0eb67d4-e807-11d0-958a-00c04fb925d3',
});

/** PINNAME_VIDEO_*: pin categories (ksmedia.h). */
export const PinName = group('PINNAME_VIDEO_', {
  CAPTURE: 'fb6c4281-0353-11d1-905f-0000c0cc16ba',
  PREVIEW: 'fb6c4282-0353-11d1-905f-0000c0cc16ba',
  ANALOGVIDEOIN: 'fb6c4283-0353-11d1-905f-0000c0cc16ba',
  VBI: 'fb6c4284-0353-11d1-905f-0000c0cc16ba',
  VIDEOPORT: 'fb6c4285-0353-11d1-905f-0000c0cc16ba',
  NABTS: 'fb6c4286-0353-11d1-905f-0000c0cc16ba',
  EDS: 'fb6c4287-0353-11d1-905f-0000c0cc16ba',
  TELETEXT: 'fb6c4288-0353-11d1-905f-0000c0cc16ba',
  CC: 'fb6c4289-0353-11d1-905f-0000c0cc16ba',
  STILL: 'fb6c428a-0353-11d1-905f-0000c0cc16ba',
  TIMECODE: 'fb6c428b-0353-11d1-905f-0000c0cc16ba',
  VIDEOPORT_VBI: 'fb6c428c-0353-11d1-905f-0000c0cc16ba',
});

/** KSMEDIUMSETID_* (mediums identify physical connections between filters, e.g. tuner → crossbar). */
export const MediumSetId = group('KSMEDIUMSETID_', {
  Standard: '4747b320-62ce-11cf-a5d6-28db04c10000',
  VPBus: 'a18c15ec-ce43-11d0-abe7-00a0c9223196',
});

/** KSINTERFACESETID_*. */
export const InterfaceSetId = group('KSINTERFACESETID_', {
  Standard: '1a8766a0-62ce-11cf-a5d6-28db04c10000',
  FileIo: '8c6f932c-e771-11d0-b8ff-00a0c9223196',
  Media: '3a13eb40-30a7-11d0-a5d6-28db04c10000',
});

/** KSMEMORY_TYPE_* for allocator framing. */
export const MemoryType = group('KSMEMORY_TYPE_', {
  SYSTEM: '091bb638-603f-11d1-b067-00a0c9062802',
  USER: '8cb0fc28-7893-11d1-b069-00a0c9062802',
  KERNEL_PAGED: 'd833f8f8-7894-11d1-b069-00a0c9062802',
  KERNEL_NONPAGED: '4a6d5fc4-7895-11d1-b069-00a0c9062802',
  DEVICE_UNKNOWN: '091bb639-603f-11d1-b067-00a0c9062802',
});

/** KSPROPTYPESETID_General: the type set of KSPROPERTY_DESCRIPTION.PropTypeSet (VT_* ids). */
export const PropTypeSetId = group('KSPROPTYPESETID_', {
  General: '97e99ba0-bdea-11cf-a5d6-28db04c10000',
});
