// The frame source a UvcFunction presents as a camera: formats, start/stop, borrowed frames, controls.

/** One format/size a source can produce (a KS data range flattened to one size). */
export interface UvcFrameFormat {
  readonly type: 'uncompressed' | 'mjpeg';
  /** FOURCC of the uncompressed GUID (`YUY2`, `NV12`, `UYVY`, …); `MJPG` for MJPEG. */
  readonly fourcc: string;
  /** Bits per pixel of uncompressed formats (YUY2: 16, NV12: 12); ignored for MJPEG. */
  readonly bitsPerPixel: number;
  readonly width: number;
  readonly height: number;
  /** Supported frame intervals in 100 ns units; the first is the default. */
  readonly intervals: readonly number[];
  /** Largest frame in bytes (uncompressed: the exact frame size). */
  readonly maxFrameSize: number;
}

/** A frame lent by the source. */
export interface UvcSourceFrame {
  /** The frame bytes, BORROWED (e.g. a pool slot view) until `release()`; never copied by the export. */
  readonly data: Uint8Array;
  /** Frame number since start (drives PTS/SCR deterministically). */
  readonly index: number;
  /** Gives the frame back. Called exactly once by the export, after its last byte left for the socket or was dropped. */
  release(): void;
}

/** Where a started source delivers frames. May be called from any callback; must not be called after `stop()` resolved. */
export type UvcFrameSink = (frame: UvcSourceFrame) => void;

/**
 * A single-valued UVC control backed by the source (e.g. a KS VideoProcAmp property).
 * `name` is a control of hal's CAMERA_TERMINAL_CONTROLS or PROCESSING_UNIT_CONTROLS tables.
 */
export interface UvcControlBinding {
  readonly unit: 'camera' | 'processing';
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly res: number;
  readonly def: number;
  get(): number | Promise<number>;
  /** Rejecting (or throwing) answers the host with a STALL and request error `out-of-range`. */
  set(value: number): void | Promise<void>;
}

/**
 * What a UvcFunction streams from. `start` is called when the host commits a format and starts the
 * stream (bulk: VS_COMMIT; iso: SET_INTERFACE alt > 0); `stop` when it stops it, detaches or goes away.
 * start/stop alternate strictly. Frames delivered while the export is busy with the previous one are
 * released at once and counted as dropped.
 */
export interface UvcFrameSource {
  readonly formats: readonly UvcFrameFormat[];
  readonly controls?: readonly UvcControlBinding[];
  start(format: UvcFrameFormat, interval: number, sink: UvcFrameSink): void | Promise<void>;
  stop(): void | Promise<void>;
}
