// UVC probe/commit: 26/34/48-byte block codec, host-side reply quirks and Linux fix-ups, alt-setting choice, device-side negotiation.

import type { UvcControlRequest } from './controls.js';
import { UvcRequestCode, VsSelector, buildGetRequest, buildSetCurRequest } from './controls.js';
import type { ResponderAnswer } from './controls.js';
import type { UvcFormatType, UvcFrameIntervals } from './descriptor-types.js';

/** The video probe and commit control (UVC 1.5 table 4-75). Missing fields of short blocks read as 0. */
export interface ProbeCommit {
  /** bmHint: D0 dwFrameInterval, D1 wKeyFrameRate, D2 wPFrameRate, D3 wCompQuality, D4 wCompWindowSize fixed. */
  hint: number;
  formatIndex: number;
  frameIndex: number;
  /** 100 ns units. */
  frameInterval: number;
  keyFrameRate: number;
  pFrameRate: number;
  compQuality: number;
  compWindowSize: number;
  delay: number;
  maxVideoFrameSize: number;
  maxPayloadTransferSize: number;
  /** 1.1+: device clock in Hz. */
  clockFrequency: number;
  /** 1.1+: D0 FID required, D1 EOF may be present, D2 (1.5) EOS. */
  framingInfo: number;
  preferedVersion: number;
  minVersion: number;
  maxVersion: number;
  /** 1.5 fields. */
  usage: number;
  bitDepthLuma: number;
  settings: number;
  maxNumberOfRefFramesPlus1: number;
  rateControlModes: number;
  layoutPerStream: bigint;
}

/** Block size by bcdUVC, as Linux `uvc_video_ctrl_size()`: <1.10 → 26, <1.50 → 34, else 48. */
export function probeCommitSize(bcdUVC: number): 26 | 34 | 48 {
  if (bcdUVC < 0x0110) return 26;
  if (bcdUVC < 0x0150) return 34;
  return 48;
}

/** A zeroed block; override fields with `init`. */
export function emptyProbeCommit(init: Partial<ProbeCommit> = {}): ProbeCommit {
  return {
    hint: 0,
    formatIndex: 0,
    frameIndex: 0,
    frameInterval: 0,
    keyFrameRate: 0,
    pFrameRate: 0,
    compQuality: 0,
    compWindowSize: 0,
    delay: 0,
    maxVideoFrameSize: 0,
    maxPayloadTransferSize: 0,
    clockFrequency: 0,
    framingInfo: 0,
    preferedVersion: 0,
    minVersion: 0,
    maxVersion: 0,
    usage: 0,
    bitDepthLuma: 0,
    settings: 0,
    maxNumberOfRefFramesPlus1: 0,
    rateControlModes: 0,
    layoutPerStream: 0n,
    ...init,
  };
}

/**
 * Encodes a block of `size` bytes (26, 34 or 48; fields beyond `size` are dropped). Writes into `out`
 * when given (must hold `size` bytes). Throws `RangeError` for another size or out-of-range fields.
 */
export function encodeProbeCommit(p: ProbeCommit, size: number, out?: Uint8Array): Uint8Array {
  if (size !== 26 && size !== 34 && size !== 48)
    throw new RangeError(`probe/commit size must be 26, 34 or 48, got ${size}`);
  const b = out ?? new Uint8Array(size);
  if (b.length < size) throw new RangeError(`output buffer of ${b.length} bytes is shorter than ${size}`);
  b.fill(0, 0, size);
  const v = new DataView(b.buffer, b.byteOffset, size);
  const u16 = (o: number, x: number, n: string): void => {
    if (!Number.isInteger(x) || x < 0 || x > 0xffff) throw new RangeError(`${n} ${x} out of range`);
    v.setUint16(o, x, true);
  };
  const u32 = (o: number, x: number, n: string): void => {
    if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError(`${n} ${x} out of range`);
    v.setUint32(o, x, true);
  };
  const u8 = (o: number, x: number, n: string): void => {
    if (!Number.isInteger(x) || x < 0 || x > 0xff) throw new RangeError(`${n} ${x} out of range`);
    v.setUint8(o, x);
  };
  u16(0, p.hint, 'hint');
  u8(2, p.formatIndex, 'formatIndex');
  u8(3, p.frameIndex, 'frameIndex');
  u32(4, p.frameInterval, 'frameInterval');
  u16(8, p.keyFrameRate, 'keyFrameRate');
  u16(10, p.pFrameRate, 'pFrameRate');
  u16(12, p.compQuality, 'compQuality');
  u16(14, p.compWindowSize, 'compWindowSize');
  u16(16, p.delay, 'delay');
  u32(18, p.maxVideoFrameSize, 'maxVideoFrameSize');
  u32(22, p.maxPayloadTransferSize, 'maxPayloadTransferSize');
  if (size >= 34) {
    u32(26, p.clockFrequency, 'clockFrequency');
    u8(30, p.framingInfo, 'framingInfo');
    u8(31, p.preferedVersion, 'preferedVersion');
    u8(32, p.minVersion, 'minVersion');
    u8(33, p.maxVersion, 'maxVersion');
  }
  if (size >= 48) {
    u8(34, p.usage, 'usage');
    u8(35, p.bitDepthLuma, 'bitDepthLuma');
    u8(36, p.settings, 'settings');
    u8(37, p.maxNumberOfRefFramesPlus1, 'maxNumberOfRefFramesPlus1');
    u16(38, p.rateControlModes, 'rateControlModes');
    if (p.layoutPerStream < 0n || p.layoutPerStream > 0xffffffffffffffffn)
      throw new RangeError('layoutPerStream out of range');
    v.setBigUint64(40, p.layoutPerStream, true);
  }
  return b;
}

/** Decodes a block of any length (short replies allowed: missing fields are 0). Never throws. */
export function decodeProbeCommit(b: Uint8Array): ProbeCommit {
  const at = (i: number): number => b[i] ?? 0;
  const u16 = (i: number): number => at(i) | (at(i + 1) << 8);
  const u32 = (i: number): number => (u16(i) | (u16(i + 2) << 16)) >>> 0;
  let layout = 0n;
  for (let i = 7; i >= 0; i--) layout = (layout << 8n) | BigInt(at(40 + i));
  return {
    hint: u16(0),
    formatIndex: at(2),
    frameIndex: at(3),
    frameInterval: u32(4),
    keyFrameRate: u16(8),
    pFrameRate: u16(10),
    compQuality: u16(12),
    compWindowSize: u16(14),
    delay: u16(16),
    maxVideoFrameSize: u32(18),
    maxPayloadTransferSize: u32(22),
    clockFrequency: u32(26),
    framingInfo: at(30),
    preferedVersion: at(31),
    minVersion: at(32),
    maxVersion: at(33),
    usage: at(34),
    bitDepthLuma: at(35),
    settings: at(36),
    maxNumberOfRefFramesPlus1: at(37),
    rateControlModes: u16(38),
    layoutPerStream: layout,
  };
}

/** Which probe query a reply answers. */
export type ProbeQuery = 'cur' | 'min' | 'max' | 'def';

/**
 * Host-side reading of a probe GET reply with uvcvideo's quirks:
 * - GET_MIN/GET_MAX answered with 2 bytes (Bison chipsets): only wCompQuality is meaningful → `quirk: 'comp-quality-only'`.
 * - GET_DEF of the wrong length: the device does not support it → `ok: false, fallback: 'get-cur'`.
 * - any other length mismatch → `ok: false` (Linux fails the query with -EIO).
 */
export type ProbeReply =
  | { ok: true; value: ProbeCommit; quirk?: 'comp-quality-only' }
  | { ok: false; reason: string; fallback?: 'get-cur' };

export function interpretProbeReply(query: ProbeQuery, reply: Uint8Array, expectedSize: number): ProbeReply {
  if ((query === 'min' || query === 'max') && reply.length === 2) {
    return {
      ok: true,
      value: emptyProbeCommit({ compQuality: (reply[0] ?? 0) | ((reply[1] ?? 0) << 8) }),
      quirk: 'comp-quality-only',
    };
  }
  if (reply.length !== expectedSize) {
    if (query === 'def')
      return {
        ok: false,
        reason: `GET_DEF probe returned ${reply.length} of ${expectedSize} bytes`,
        fallback: 'get-cur',
      };
    return {
      ok: false,
      reason: `GET_${query.toUpperCase()} probe returned ${reply.length} of ${expectedSize} bytes`,
    };
  }
  return { ok: true, value: decodeProbeCommit(reply) };
}

/** The minimum a negotiation needs to know about a format (satisfied by the parser's `UvcFormat`). */
export interface NegotiationFormat {
  readonly index: number;
  readonly type: UvcFormatType;
  readonly bitsPerPixel: number;
  readonly defaultFrameIndex: number;
  readonly frames: readonly NegotiationFrame[];
}
export interface NegotiationFrame {
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly maxFrameBufferSize: number;
  readonly defaultInterval: number;
  readonly intervals: UvcFrameIntervals;
}

/** Options of {@link fixupProbe}, mirroring what uvcvideo knows when it applies `uvc_fixup_video_ctrl`. */
export interface FixupOptions {
  readonly bcdUVC: number;
  /** Apply the FIX_BANDWIDTH quirk (uncompressed formats on iso interfaces): recompute the payload size. */
  readonly fixBandwidth?: boolean;
  /** High speed or faster (bandwidth is per 125 µs microframe). Default true. */
  readonly highSpeed?: boolean;
  /** Largest bytes-per-interval of the interface's alternate settings; iso payload sizes above it are clamped. */
  readonly maxBytesPerInterval?: number;
}

/** Result of {@link fixupProbe}: the corrected block and what was changed (for logs and tests). */
export interface FixupResult {
  readonly value: ProbeCommit;
  readonly changes: string[];
}

/**
 * Applies the corrections Linux makes to a device's probe answer: uncompressed formats (and 1.0
 * compressed ones reporting 0) take dwMaxVideoFrameSize from the frame descriptor; a 0xFFFFxxxx
 * (sign-extended) dwMaxPayloadTransferSize is masked to 16 bits; optional FIX_BANDWIDTH estimate;
 * optional clamp to the largest alternate setting. Pure: returns a new block.
 */
export function fixupProbe(
  p: ProbeCommit,
  format: NegotiationFormat | undefined,
  frame: NegotiationFrame | undefined,
  o: FixupOptions,
): FixupResult {
  const v = { ...p };
  const changes: string[] = [];
  const compressed = format ? format.type !== 'uncompressed' : true;
  if (frame && (!compressed || (v.maxVideoFrameSize === 0 && o.bcdUVC < 0x0110))) {
    if (v.maxVideoFrameSize !== frame.maxFrameBufferSize) {
      changes.push(
        `dwMaxVideoFrameSize ${v.maxVideoFrameSize} → ${frame.maxFrameBufferSize} (frame descriptor)`,
      );
      v.maxVideoFrameSize = frame.maxFrameBufferSize;
    }
  }
  if ((v.maxPayloadTransferSize & 0xffff0000) >>> 0 === 0xffff0000) {
    const masked = v.maxPayloadTransferSize & 0xffff;
    changes.push(
      `dwMaxPayloadTransferSize 0x${v.maxPayloadTransferSize.toString(16)} → ${masked} (sign-extension masked)`,
    );
    v.maxPayloadTransferSize = masked;
  }
  if (o.fixBandwidth && !compressed && format && frame) {
    const first = Array.isArray(frame.intervals) ? (frame.intervals[0] ?? 0) : frame.intervals.min;
    const interval = v.frameInterval > 100000 ? v.frameInterval : first;
    let bw = Math.floor((frame.width * frame.height) / 8) * format.bitsPerPixel;
    bw *= Math.floor(10_000_000 / Math.max(interval, 1)) + 1;
    bw = Math.floor(bw / 1000);
    if (o.highSpeed ?? true) bw = Math.floor(bw / 8);
    bw = Math.max(bw + 12, 1024);
    changes.push(`dwMaxPayloadTransferSize ${v.maxPayloadTransferSize} → ${bw} (FIX_BANDWIDTH estimate)`);
    v.maxPayloadTransferSize = bw;
  }
  if (o.maxBytesPerInterval !== undefined && v.maxPayloadTransferSize > o.maxBytesPerInterval) {
    changes.push(
      `dwMaxPayloadTransferSize ${v.maxPayloadTransferSize} → ${o.maxBytesPerInterval} (endpoint maximum)`,
    );
    v.maxPayloadTransferSize = o.maxBytesPerInterval;
  }
  return { value: v, changes };
}

/** An alternate setting as the parser reports it. */
export interface AltSettingBandwidth {
  readonly alt: number;
  readonly bytesPerInterval: number;
}

export type AltSelection =
  { ok: true; alt: number; bytesPerInterval: number } | { ok: false; needed: number; largest: number };

/**
 * Picks the smallest alternate setting whose bytes per interval cover `maxPayloadTransferSize`
 * (0 → the lowest-bandwidth one), as uvcvideo does. Alt 0 (zero bandwidth) is never chosen for iso.
 * Returns `ok: false` with the largest available when nothing fits (callers map it to `NoBandwidth`).
 */
export function selectAltSetting(
  alts: readonly AltSettingBandwidth[],
  maxPayloadTransferSize: number,
): AltSelection {
  let best: AltSettingBandwidth | undefined;
  let largest = 0;
  for (const a of alts) {
    if (a.alt === 0 || a.bytesPerInterval === 0) continue;
    largest = Math.max(largest, a.bytesPerInterval);
    if (a.bytesPerInterval < maxPayloadTransferSize) continue;
    if (!best || a.bytesPerInterval < best.bytesPerInterval) best = a;
  }
  if (!best) return { ok: false, needed: maxPayloadTransferSize, largest };
  return { ok: true, alt: best.alt, bytesPerInterval: best.bytesPerInterval };
}

/** Host-side requests on a VS interface: GET_x / SET_CUR of probe or commit. */
export function buildProbeGet(
  query: ProbeQuery | 'len' | 'info',
  vsInterface: number,
  size: number,
): UvcControlRequest {
  return buildGetRequest(
    query,
    { interfaceNumber: vsInterface, entityId: 0, selector: VsSelector.probe },
    size,
  );
}
export function buildProbeSet(
  which: 'probe' | 'commit',
  vsInterface: number,
  block: Uint8Array,
): UvcControlRequest {
  const selector = which === 'probe' ? VsSelector.probe : VsSelector.commit;
  return buildSetCurRequest({ interfaceNumber: vsInterface, entityId: 0, selector }, block);
}

/**
 * Checks a device's GET_CUR probe answer against what was asked and what the descriptors allow.
 * Returns problems (empty = acceptable): changed format/frame index, unknown indices, a payload size
 * larger than the largest alternate setting (`maxBytesPerInterval`, iso only).
 */
export function validateProbeAnswer(
  asked: ProbeCommit,
  answer: ProbeCommit,
  formats: readonly NegotiationFormat[],
  maxBytesPerInterval?: number,
): string[] {
  const problems: string[] = [];
  const fmt = formats.find((f) => f.index === answer.formatIndex);
  if (!fmt) problems.push(`device answered unknown format index ${answer.formatIndex}`);
  else if (!fmt.frames.some((f) => f.index === answer.frameIndex)) {
    problems.push(`device answered unknown frame index ${answer.frameIndex} of format ${answer.formatIndex}`);
  }
  if (answer.formatIndex !== asked.formatIndex || answer.frameIndex !== asked.frameIndex) {
    problems.push(
      `device changed format/frame ${asked.formatIndex}/${asked.frameIndex} → ${answer.formatIndex}/${answer.frameIndex}`,
    );
  }
  if (maxBytesPerInterval !== undefined && answer.maxPayloadTransferSize > maxBytesPerInterval) {
    problems.push(
      `dwMaxPayloadTransferSize ${answer.maxPayloadTransferSize} exceeds the largest alternate setting (${maxBytesPerInterval})`,
    );
  }
  return problems;
}

/** Nearest supported interval to `wanted` (discrete: nearest value, ties to the shorter; continuous: clamp and snap to step). */
export function nearestInterval(intervals: UvcFrameIntervals, wanted: number): number {
  if (Array.isArray(intervals)) {
    let best = intervals[0] ?? wanted;
    for (const i of intervals)
      if (
        Math.abs(i - wanted) < Math.abs(best - wanted) ||
        (Math.abs(i - wanted) === Math.abs(best - wanted) && i < best)
      )
        best = i;
    return best;
  }
  const { min, max, step } = intervals;
  const clamped = Math.min(Math.max(wanted, min), max);
  if (step <= 0) return clamped;
  const snapped = min + Math.round((clamped - min) / step) * step;
  return Math.min(snapped, max);
}

/**
 * Payload size an iso device needs per service interval for a frame size and interval:
 * frameBytes × frames per second / intervals per second + a 12-byte header, rounded up.
 * `intervalsPerSecond` is 8000 at high speed (microframes), 1000 at full speed.
 */
export function estimatePayloadSize(
  frameBytes: number,
  frameInterval: number,
  intervalsPerSecond = 8000,
): number {
  const fps = 10_000_000 / Math.max(frameInterval, 1);
  return Math.ceil((frameBytes * fps) / intervalsPerSecond) + 12;
}

/** Device-side configuration of {@link negotiateProbe} and {@link ProbeCommitResponder}. */
export interface DeviceNegotiationOptions {
  readonly bcdUVC: number;
  readonly formats: readonly NegotiationFormat[];
  readonly clockFrequency: number;
  /**
   * dwMaxPayloadTransferSize the device answers for a format/frame/interval: for bulk, the payload
   * size it writes; for iso, what it needs per interval (≤ its largest alternate setting).
   */
  readonly payloadSize: (format: NegotiationFormat, frame: NegotiationFrame, interval: number) => number;
}

/**
 * Device side of SET_CUR(probe): from a (possibly short, possibly invalid) request, produce the
 * block the device will report on GET_CUR. Unknown format index → first format; unknown frame →
 * the format's default frame; interval → nearest supported. Returns undefined when the device has
 * no formats at all.
 */
export function negotiateProbe(requested: ProbeCommit, o: DeviceNegotiationOptions): ProbeCommit | undefined {
  const format = o.formats.find((f) => f.index === requested.formatIndex) ?? o.formats[0];
  if (!format) return undefined;
  const frame =
    format.frames.find((f) => f.index === requested.frameIndex) ??
    format.frames.find((f) => f.index === format.defaultFrameIndex) ??
    format.frames[0];
  if (!frame) return undefined;
  const interval = nearestInterval(frame.intervals, requested.frameInterval || frame.defaultInterval);
  const size = probeCommitSize(o.bcdUVC);
  return emptyProbeCommit({
    hint: requested.hint,
    formatIndex: format.index,
    frameIndex: frame.index,
    frameInterval: interval,
    keyFrameRate: requested.keyFrameRate,
    pFrameRate: requested.pFrameRate,
    compQuality: requested.compQuality,
    compWindowSize: requested.compWindowSize,
    maxVideoFrameSize: frame.maxFrameBufferSize,
    maxPayloadTransferSize: o.payloadSize(format, frame, interval),
    ...(size >= 34
      ? {
          clockFrequency: o.clockFrequency,
          framingInfo: 0x03,
          preferedVersion: requested.preferedVersion || 1,
          minVersion: requested.minVersion || 1,
          maxVersion: requested.maxVersion || 1,
        }
      : {}),
    ...(size >= 48 ? { bitDepthLuma: requested.bitDepthLuma || 8 } : {}),
  });
}

/**
 * Device-side probe/commit state machine for one VS interface: answers SET_CUR/GET_CUR/MIN/MAX/DEF/
 * LEN/INFO on the probe and commit selectors. `committed` changes only on a valid SET_CUR(commit);
 * streaming must not start before it is set. Requests for other selectors STALL with
 * 'invalid-control'; unsupported requests with 'invalid-request'.
 */
export class ProbeCommitResponder {
  private readonly size: 26 | 34 | 48;
  private probe: ProbeCommit;
  private committedValue: ProbeCommit | undefined;

  constructor(private readonly options: DeviceNegotiationOptions) {
    this.size = probeCommitSize(options.bcdUVC);
    const first = options.formats[0];
    this.probe =
      negotiateProbe(emptyProbeCommit({ formatIndex: first?.index ?? 0 }), options) ?? emptyProbeCommit();
  }

  /** The last committed block, or undefined before the host committed (or after {@link reset}). */
  get committed(): ProbeCommit | undefined {
    return this.committedValue;
  }

  /** The current probe state (what GET_CUR(probe) returns). */
  get current(): ProbeCommit {
    return this.probe;
  }

  /** Forgets the commit (the host selected alt 0 / stopped streaming). */
  reset(): void {
    this.committedValue = undefined;
  }

  /** Handles one class request addressed to this VS interface (entity 0). */
  handle(req: UvcControlRequest): ResponderAnswer {
    const selector = req.value >> 8;
    if (selector !== VsSelector.probe && selector !== VsSelector.commit)
      return { status: 'stall', error: 'invalid-control' };
    const isCommit = selector === VsSelector.commit;
    const reply = (p: ProbeCommit): ResponderAnswer => {
      const full = encodeProbeCommit(p, this.size);
      return { status: 'ok', data: full.subarray(0, Math.min(req.length, this.size)) };
    };
    switch (req.request) {
      case UvcRequestCode.setCur: {
        const data = req.data ?? new Uint8Array();
        if (data.length < 26) return { status: 'stall', error: 'invalid-request' };
        const asked = decodeProbeCommit(data);
        const answer = negotiateProbe(asked, this.options);
        if (!answer) return { status: 'stall', error: 'out-of-range' };
        if (isCommit) {
          // A commit must name a valid format/frame; the device adopts its own negotiated values.
          if (answer.formatIndex !== asked.formatIndex || answer.frameIndex !== asked.frameIndex) {
            return { status: 'stall', error: 'out-of-range' };
          }
          this.committedValue = answer;
        }
        this.probe = answer;
        return { status: 'ok' };
      }
      case UvcRequestCode.getCur:
        return reply(isCommit ? (this.committedValue ?? this.probe) : this.probe);
      case UvcRequestCode.getMin:
      case UvcRequestCode.getMax:
      case UvcRequestCode.getDef: {
        if (isCommit) return { status: 'stall', error: 'invalid-request' };
        if (req.request === UvcRequestCode.getDef) {
          const d = negotiateProbe(
            emptyProbeCommit({ formatIndex: this.options.formats[0]?.index ?? 0 }),
            this.options,
          );
          return d ? reply(d) : { status: 'stall', error: 'out-of-range' };
        }
        // MIN/MAX over the current format/frame: interval bounds; the rest mirrors the current state.
        const fmt = this.options.formats.find((f) => f.index === this.probe.formatIndex);
        const fr = fmt?.frames.find((f) => f.index === this.probe.frameIndex);
        const iv = fr?.intervals ?? [this.probe.frameInterval];
        const lo = Array.isArray(iv) ? Math.min(...iv) : iv.min;
        const hi = Array.isArray(iv) ? Math.max(...iv) : iv.max;
        return reply({ ...this.probe, frameInterval: req.request === UvcRequestCode.getMin ? lo : hi });
      }
      case UvcRequestCode.getLen: {
        const b = new Uint8Array([this.size & 0xff, this.size >> 8]);
        return { status: 'ok', data: b.subarray(0, Math.min(req.length, 2)) };
      }
      case UvcRequestCode.getInfo:
        return { status: 'ok', data: new Uint8Array([0x03]).subarray(0, Math.min(req.length, 1)) };
      default:
        return { status: 'stall', error: 'invalid-request' };
    }
  }
}

/** Host-side configuration of a {@link ProbeNegotiation}. */
export interface HostNegotiationOptions {
  readonly vsInterface: number;
  readonly bcdUVC: number;
  readonly formats: readonly NegotiationFormat[];
  readonly transfer: 'bulk' | 'isochronous';
  /** Iso alternate settings (from the parser); ignored for bulk. */
  readonly altSettings?: readonly AltSettingBandwidth[];
  readonly fixBandwidth?: boolean;
  readonly highSpeed?: boolean;
}

/** What the host wants: format/frame indices and interval (100 ns). */
export interface NegotiationRequest {
  readonly formatIndex: number;
  readonly frameIndex: number;
  readonly frameInterval: number;
}

/** Reply to a negotiation request: the data of a GET (possibly short), nothing for SET, or a STALL. */
export type NegotiationReply =
  { readonly status: 'ok'; readonly data?: Uint8Array } | { readonly status: 'stall' };

/** The result of a completed negotiation. */
export interface NegotiationResult {
  /** The committed block (device answer after Linux fix-ups). */
  readonly committed: ProbeCommit;
  /** Alternate setting to select before streaming (0 for bulk). */
  readonly alt: number;
  /** Bytes per interval of that alternate setting (iso). */
  readonly bytesPerInterval: number;
  /** Fix-ups applied to the device's answer. */
  readonly changes: readonly string[];
}

export type NegotiationStep =
  | { readonly kind: 'request'; readonly request: UvcControlRequest }
  | { readonly kind: 'done'; readonly result: NegotiationResult }
  | {
      readonly kind: 'failed';
      readonly code: 'Stall' | 'Protocol' | 'NoBandwidth';
      readonly message: string;
    };

/**
 * Host-side probe/commit sequencing as a pure state machine (the transport performs the requests):
 * SET_CUR(probe) → GET_CUR(probe) → validate and fix up → SET_CUR(commit) → alternate setting.
 * Call {@link step} for the current step and {@link reply} with each request's outcome. A second
 * SET_CUR/GET_CUR round is made when the first answer moved the format/frame (as uvcvideo retries).
 * Failures end in a `failed` step carrying a HalError code name; nothing throws after construction.
 */
export class ProbeNegotiation {
  private current: NegotiationStep;
  private stage: 'set-probe' | 'get-probe' | 'commit' | 'end' = 'set-probe';
  private asked: ProbeCommit;
  private answer: ProbeCommit | undefined;
  private rounds = 0;
  private changes: string[] = [];
  private readonly size: 26 | 34 | 48;

  /** Throws `RangeError` when the wanted format/frame does not exist in `options.formats`. */
  constructor(
    private readonly options: HostNegotiationOptions,
    wanted: NegotiationRequest,
  ) {
    const fmt = options.formats.find((f) => f.index === wanted.formatIndex);
    const frame = fmt?.frames.find((f) => f.index === wanted.frameIndex);
    if (!fmt || !frame) throw new RangeError(`no format ${wanted.formatIndex} / frame ${wanted.frameIndex}`);
    this.size = probeCommitSize(options.bcdUVC);
    this.asked = emptyProbeCommit({
      hint: 0x0001,
      formatIndex: wanted.formatIndex,
      frameIndex: wanted.frameIndex,
      frameInterval: nearestInterval(frame.intervals, wanted.frameInterval),
    });
    this.current = {
      kind: 'request',
      request: buildProbeSet('probe', options.vsInterface, encodeProbeCommit(this.asked, this.size)),
    };
  }

  /** The step to perform now. */
  step(): NegotiationStep {
    return this.current;
  }

  /** Feeds the outcome of the current request and returns the next step. */
  reply(r: NegotiationReply): NegotiationStep {
    if (this.current.kind !== 'request') return this.current;
    if (r.status === 'stall') return this.fail('Stall', `device stalled ${this.stage}`);
    switch (this.stage) {
      case 'set-probe':
        this.stage = 'get-probe';
        this.current = {
          kind: 'request',
          request: buildProbeGet('cur', this.options.vsInterface, this.size),
        };
        return this.current;
      case 'get-probe': {
        const parsed = interpretProbeReply('cur', r.data ?? new Uint8Array(), this.size);
        if (!parsed.ok) return this.fail('Protocol', parsed.reason);
        this.rounds++;
        const a = parsed.value;
        const fmt = this.options.formats.find((f) => f.index === a.formatIndex);
        const frame = fmt?.frames.find((f) => f.index === a.frameIndex);
        if (!fmt || !frame) {
          return this.fail(
            'Protocol',
            `device answered format ${a.formatIndex} / frame ${a.frameIndex}, which it does not describe`,
          );
        }
        if (
          (a.formatIndex !== this.asked.formatIndex || a.frameIndex !== this.asked.frameIndex) &&
          this.rounds < 2
        ) {
          // uvcvideo probes twice: ask again for what the device can do.
          this.asked = {
            ...this.asked,
            formatIndex: a.formatIndex,
            frameIndex: a.frameIndex,
            frameInterval: a.frameInterval,
          };
          this.stage = 'set-probe';
          this.current = {
            kind: 'request',
            request: buildProbeSet(
              'probe',
              this.options.vsInterface,
              encodeProbeCommit(this.asked, this.size),
            ),
          };
          return this.current;
        }
        const alts = this.options.transfer === 'isochronous' ? (this.options.altSettings ?? []) : [];
        const largest = alts.reduce((m, x) => Math.max(m, x.bytesPerInterval), 0);
        const fixed = fixupProbe(a, fmt, frame, {
          bcdUVC: this.options.bcdUVC,
          ...(this.options.fixBandwidth !== undefined ? { fixBandwidth: this.options.fixBandwidth } : {}),
          ...(this.options.highSpeed !== undefined ? { highSpeed: this.options.highSpeed } : {}),
        });
        this.answer = fixed.value;
        this.changes = fixed.changes;
        if (this.options.transfer === 'isochronous') {
          const sel = selectAltSetting(alts, this.answer.maxPayloadTransferSize);
          if (!sel.ok) {
            return this.fail(
              'NoBandwidth',
              `payload of ${sel.needed} bytes per interval exceeds the largest alternate setting (${largest})`,
            );
          }
        }
        this.stage = 'commit';
        this.current = {
          kind: 'request',
          request: buildProbeSet(
            'commit',
            this.options.vsInterface,
            encodeProbeCommit(this.answer, this.size),
          ),
        };
        return this.current;
      }
      case 'commit': {
        const committed = this.answer ?? this.asked;
        let alt = 0;
        let bytesPerInterval = 0;
        if (this.options.transfer === 'isochronous') {
          const sel = selectAltSetting(this.options.altSettings ?? [], committed.maxPayloadTransferSize);
          if (sel.ok) {
            alt = sel.alt;
            bytesPerInterval = sel.bytesPerInterval;
          }
        }
        this.stage = 'end';
        this.current = { kind: 'done', result: { committed, alt, bytesPerInterval, changes: this.changes } };
        return this.current;
      }
      default:
        return this.current;
    }
  }

  private fail(code: 'Stall' | 'Protocol' | 'NoBandwidth', message: string): NegotiationStep {
    this.stage = 'end';
    this.current = { kind: 'failed', code, message };
    return this.current;
  }
}
