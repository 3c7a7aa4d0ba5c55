// The viewer's WebSocket protocol: page→server requests (validated here) and the binary frame message layout.

/** A request from the page. Every request may carry an `id` the server echoes in its reply. */
export type ViewRequest =
  | { readonly type: 'ack'; readonly id?: number }
  | { readonly type: 'start'; readonly id?: number }
  | { readonly type: 'stop'; readonly id?: number }
  | {
      readonly type: 'format';
      readonly id?: number;
      /** Index into the capture pin's data ranges. */
      readonly range: number;
      readonly width: number;
      readonly height: number;
      /** Frame interval in 100 ns units, as a decimal string (KS intervals are bigints). */
      readonly interval: string;
    }
  | {
      readonly type: 'set';
      readonly id?: number;
      /** Property key as sent in `init` (`set-guid/id/node`). */
      readonly key: string;
      /** Omitted with `mode: 'auto'` to keep the current value. int64 values travel as strings. */
      readonly value?: number | string | boolean;
      readonly mode?: 'auto' | 'manual';
    }
  | {
      readonly type: 'tune';
      readonly id?: number;
      readonly action: 'channel-up' | 'channel-down' | 'frequency' | 'standard' | 'scan' | 'input';
      readonly value?: number | string;
    };

/** What {@link parseViewRequest} returns: a request, or the reason it was refused. */
export type ParsedRequest =
  | { readonly ok: true; readonly request: ViewRequest }
  | { readonly ok: false; readonly error: string; readonly id?: number };

const TUNE_ACTIONS = new Set(['channel-up', 'channel-down', 'frequency', 'standard', 'scan', 'input']);
const MAX_MESSAGE = 4096;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * Parses and shape-checks one text message from the page. Never throws: malformed input becomes
 * `{ ok: false, error }` (with the request id when one could be read), so the server can answer
 * with an error and change nothing. Values are checked against the device later.
 */
export function parseViewRequest(text: string): ParsedRequest {
  if (text.length > MAX_MESSAGE) return { ok: false, error: `message too long (${text.length} characters)` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'malformed message: not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, error: 'malformed message: not an object' };
  const m = raw as Record<string, unknown>;
  const id = isInt(m.id) ? m.id : undefined;
  const withId = id === undefined ? {} : { id };
  const fail = (error: string): ParsedRequest => ({ ok: false, error, ...withId });
  if (m.id !== undefined && id === undefined) return fail('malformed message: id must be an integer');
  switch (m.type) {
    case 'ack':
    case 'start':
    case 'stop':
      return { ok: true, request: { type: m.type, ...withId } };
    case 'format': {
      if (!isInt(m.range) || m.range < 0) return fail('format: range must be an index ≥ 0');
      if (!isInt(m.width) || m.width < 1 || !isInt(m.height) || m.height < 1)
        return fail('format: width and height must be whole numbers ≥ 1');
      if (typeof m.interval !== 'string' || !/^[1-9]\d{0,12}$/.test(m.interval))
        return fail('format: interval must be a positive whole number of 100 ns units, as a string');
      return {
        ok: true,
        request: {
          type: 'format',
          range: m.range,
          width: m.width,
          height: m.height,
          interval: m.interval,
          ...withId,
        },
      };
    }
    case 'set': {
      if (typeof m.key !== 'string' || m.key.length === 0 || m.key.length > 100)
        return fail('set: key must be a property key');
      const v = m.value;
      if (
        v !== undefined &&
        typeof v !== 'boolean' &&
        typeof v !== 'string' &&
        !(typeof v === 'number' && Number.isFinite(v))
      )
        return fail('set: value must be a number, a boolean or a string');
      if (m.mode !== undefined && m.mode !== 'auto' && m.mode !== 'manual')
        return fail("set: mode must be 'auto' or 'manual'");
      if (v === undefined && m.mode === undefined) return fail('set: give a value or a mode');
      return {
        ok: true,
        request: {
          type: 'set',
          key: m.key,
          ...(v !== undefined ? { value: v } : {}),
          ...(m.mode !== undefined ? { mode: m.mode } : {}),
          ...withId,
        },
      };
    }
    case 'tune': {
      if (typeof m.action !== 'string' || !TUNE_ACTIONS.has(m.action))
        return fail(`tune: action must be one of ${[...TUNE_ACTIONS].join(', ')}`);
      const v = m.value;
      if (v !== undefined && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v)))
        return fail('tune: value must be a number or a string');
      return {
        ok: true,
        request: {
          type: 'tune',
          action: m.action as Extract<ViewRequest, { type: 'tune' }>['action'],
          ...(v !== undefined ? { value: v } : {}),
          ...withId,
        },
      };
    }
    default:
      return fail(`unknown request type ${JSON.stringify(m.type) ?? 'undefined'}`);
  }
}

/**
 * Binary frame messages: a fixed little-endian header, then the frame bytes as the pin produced
 * them (the page converts raw formats itself; MJPEG is decoded by the browser).
 */
export const FRAME_HEADER = Object.freeze({
  bytes: 40,
  /** 'KSVF' */
  magic: 0x4656534b,
  magicOffset: 0,
  sequenceOffset: 4,
  widthOffset: 8,
  heightOffset: 10,
  /** 8 ASCII bytes, NUL-padded ('YUY2', 'RGB24', 'GRAY8', 'MJPG', …). */
  fourccOffset: 12,
  payloadOffset: 20,
  dropsOffset: 24,
  /** f64: capture-to-send latency in milliseconds. */
  latencyOffset: 32,
});

/** Writes a frame header into `target` (at least {@link FRAME_HEADER}.bytes long). Allocates nothing. */
export function writeFrameHeader(
  target: DataView,
  sequence: number,
  width: number,
  height: number,
  fourcc: string,
  payloadBytes: number,
  drops: number,
  latencyMs: number,
): void {
  const h = FRAME_HEADER;
  target.setUint32(h.magicOffset, h.magic, true);
  target.setUint32(h.sequenceOffset, sequence >>> 0, true);
  target.setUint16(h.widthOffset, width, true);
  target.setUint16(h.heightOffset, height, true);
  for (let i = 0; i < 8; i++)
    target.setUint8(h.fourccOffset + i, i < fourcc.length ? fourcc.charCodeAt(i) & 0xff : 0);
  target.setUint32(h.payloadOffset, payloadBytes, true);
  target.setUint32(h.dropsOffset, drops >>> 0, true);
  target.setFloat64(h.latencyOffset, latencyMs, true);
}

/** A decoded frame header (tests and tools; the page has its own reader). */
export interface FrameHeader {
  readonly sequence: number;
  readonly width: number;
  readonly height: number;
  readonly fourcc: string;
  readonly payloadBytes: number;
  readonly drops: number;
  readonly latencyMs: number;
}

/**
 * Reads a frame header. @throws RangeError when the message is shorter than a header, the magic
 * is wrong, or the payload length disagrees with the message length.
 */
export function readFrameHeader(message: Uint8Array): FrameHeader {
  const h = FRAME_HEADER;
  if (message.byteLength < h.bytes)
    throw new RangeError(`frame message of ${message.byteLength} bytes has no header`);
  const v = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (v.getUint32(h.magicOffset, true) !== h.magic) throw new RangeError('not a frame message (bad magic)');
  const payloadBytes = v.getUint32(h.payloadOffset, true);
  if (payloadBytes !== message.byteLength - h.bytes)
    throw new RangeError(
      `frame payload says ${payloadBytes} bytes, message carries ${message.byteLength - h.bytes}`,
    );
  let fourcc = '';
  for (let i = 0; i < 8; i++) fourcc += String.fromCharCode(v.getUint8(h.fourccOffset + i));
  return {
    sequence: v.getUint32(h.sequenceOffset, true),
    width: v.getUint16(h.widthOffset, true),
    height: v.getUint16(h.heightOffset, true),
    fourcc: fourcc.replace(/\0+$/, ''),
    payloadBytes,
    drops: v.getUint32(h.dropsOffset, true),
    latencyMs: v.getFloat64(h.latencyOffset, true),
  };
}
