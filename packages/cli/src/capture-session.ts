// Opens a HAL device as a KS device, creates its capture filter and pin with the requested format.
import type { HalDevice } from '@ksemu/hal';
import {
  KsError,
  ManualClock,
  SystemClock,
  describeFormat,
  type Clock,
  type DataFormat,
  type Adjustment,
  type FormatRequest,
  type KsDevice,
  type KsFilter,
  type KsPin,
  type Logger,
  type VideoFormat,
} from '@ksemu/ks-core';
import { WebcamPin, createWebcamDevice, fourccOfSubtype, subtypeOfFourcc } from '@ksemu/minidriver-webcam';
import { createTunerDevice, openTuner, type TunerGraph } from '@ksemu/minidriver-tuner';
import type { Fourcc } from '@ksemu/hal';
import { CliError, ExitCode } from './cli-error.js';
import type { FormatSpec } from './format-spec.js';
import { intervalToFps } from './format-spec.js';

/** How frames are paced: the wall clock, or a virtual clock the CLI steps one frame at a time. */
export type ClockMode = 'realtime' | 'virtual';

/** An open capture: the KS device, filter and capture pin (in STOP, format set). */
export interface CaptureSession {
  readonly device: KsDevice;
  readonly filter: KsFilter;
  readonly pin: KsPin;
  readonly format: VideoFormat;
  readonly fourcc: Fourcc;
  readonly clock: Clock;
  /** Set when `clockMode` is virtual: the CLI advances it. */
  readonly manualClock?: ManualClock;
  /** The TV graph (tuner, crossbar, decoder, capture) when the device is a tuner card. */
  readonly tuner?: TunerGraph;
  /** Closes pin, filter and device (idempotent). */
  close(): Promise<void>;
}

/** `FOURCC:WxH@FPS` of a KS video format. */
export function formatLabel(format: VideoFormat): string {
  const fourcc = fourccOfSubtype(format.subtype) ?? 'unknown';
  return `${fourcc}:${format.width}x${format.height}@${intervalToFps(format.frameInterval)}`;
}

/** The KS device for a HAL device: the tuner minidriver's graph for TV cards, the webcam minidriver otherwise. */
export function createKsDevice(hal: HalDevice, clock: Clock, logger: Logger): KsDevice {
  if (hal.identity.kind === 'tuner') return createTunerDevice(hal, { clock, logger });
  return createWebcamDevice(hal, { clock, logger });
}

/** A clock for a session: a manual one the CLI steps (virtual) or the system clock. */
export function sessionClock(mode: ClockMode): { clock: Clock; manualClock?: ManualClock } {
  if (mode === 'virtual') {
    const manualClock = new ManualClock(0n);
    return { clock: manualClock, manualClock };
  }
  return { clock: new SystemClock() };
}

/**
 * Waits for `pending`; with a manual clock, steps it by `step` while nothing happens, so
 * settle times and scans take no wall time.
 */
export async function driveClock<T>(
  pending: Promise<T>,
  manualClock: ManualClock | undefined,
  step: bigint,
): Promise<T> {
  if (!manualClock) return pending;
  let done = false;
  void pending.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 1_000_000 && !done; i++) {
    await new Promise<void>((r) => setImmediate(r));
    if (!done) manualClock.advance(step);
  }
  return pending;
}

async function openTunerCapture(
  hal: HalDevice,
  spec: FormatSpec | undefined,
  clockMode: ClockMode,
  logger: Logger,
): Promise<CaptureSession> {
  const { clock, manualClock } = sessionClock(clockMode);
  const device = createTunerDevice(hal, { clock, logger });
  try {
    const graph = await openTuner(device, spec ? { format: buildRequest(spec, false) } : {});
    const pin = graph.capturePin;
    const format = pin.format as DataFormat;
    if (format.kind !== 'video')
      throw new KsError('NoMatch', `pin format ${describeFormat(format)} is not video`);
    const fourcc = fourccOfSubtype(format.subtype);
    if (!fourcc) throw new KsError('NoMatch', `no FOURCC for ${describeFormat(format)}`);
    let closing: Promise<void> | undefined;
    return {
      device,
      filter: graph.filters.capture,
      pin,
      format,
      fourcc,
      clock,
      tuner: graph,
      ...(manualClock ? { manualClock } : {}),
      close: () =>
        (closing ??= (async () => {
          await graph.close();
          await device.close();
        })()),
    };
  } catch (err) {
    await device.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Opens a capture pin. Without a spec it takes YUY2 640x480@30 when offered, else the first
 * range's largest size. A spec the device cannot do fails with the nearest supported format.
 */
export async function openCapture(
  hal: HalDevice,
  spec: FormatSpec | undefined,
  options: { clockMode: ClockMode; logger: Logger },
): Promise<CaptureSession> {
  if (hal.identity.kind === 'tuner') return openTunerCapture(hal, spec, options.clockMode, options.logger);
  const { clock, manualClock } = sessionClock(options.clockMode);
  const device = createWebcamDevice(hal, { clock, logger: options.logger });
  let filter: KsFilter | undefined;
  try {
    filter = await device.createFilter(0);
    const request = buildRequest(spec);
    let proposal = filter.proposeFormat(WebcamPin.Capture, request);
    if (proposal.status === 'adjusted' && onlyRateRounding(proposal.adjustments)) {
      // `@15` means the device's own 15 fps interval, whether it stores 666666 or 666667.
      proposal = filter.proposeFormat(WebcamPin.Capture, {
        ...request,
        frameInterval:
          proposal.format.kind === 'video' ? proposal.format.frameInterval : request.frameInterval,
      });
    }
    if (proposal.status !== 'valid') {
      const nearest =
        proposal.status === 'adjusted' && proposal.format.kind === 'video'
          ? formatLabel(proposal.format)
          : undefined;
      throw new CliError(
        `${hal.identity.id} cannot capture ${spec ? specLabel(spec) : 'that format'}${proposal.reason ? ` (${proposal.reason})` : ''}`,
        ExitCode.Unsupported,
        nearest
          ? `nearest supported format: --format ${nearest}`
          : 'see `ksemu describe` for the formats it offers',
      );
    }
    const pin = await filter.createPin(WebcamPin.Capture, { format: proposal.format });
    const format = pin.format as DataFormat;
    if (format.kind !== 'video')
      throw new KsError('NoMatch', `pin format ${describeFormat(format)} is not video`);
    const fourcc = fourccOfSubtype(format.subtype);
    if (!fourcc) throw new KsError('NoMatch', `no FOURCC for ${describeFormat(format)}`);
    let closing: Promise<void> | undefined;
    const session: CaptureSession = {
      device,
      filter,
      pin,
      format,
      fourcc,
      clock,
      ...(manualClock ? { manualClock } : {}),
      close: () => (closing ??= device.close()),
    };
    return session;
  } catch (err) {
    await device.close().catch(() => undefined);
    throw err;
  }
}

/** True when the only change is the frame interval by rounding (under 0.01 %, at least 1 unit). */
function onlyRateRounding(adjustments: readonly Adjustment[]): boolean {
  return (
    adjustments.length > 0 &&
    adjustments.every((a) => {
      if (a.field !== 'frameInterval') return false;
      const req = Number(a.requested);
      const diff = Math.abs(req - Number(a.actual));
      return diff <= Math.max(1, req * 1e-4);
    })
  );
}

function specLabel(spec: FormatSpec): string {
  const size = spec.width !== undefined ? `:${spec.width}x${spec.height}` : '';
  const rate = spec.fps !== undefined ? `@${spec.fps}` : '';
  return `${spec.fourcc}${size}${rate}`;
}

function buildRequest(spec: FormatSpec | undefined, withDefaults = true): FormatRequest {
  const s =
    spec ??
    (withDefaults ? { fourcc: 'YUY2', width: 640, height: 480, interval: 333333n } : { fourcc: 'YUY2' });
  let subtype;
  try {
    subtype = subtypeOfFourcc(s.fourcc as Fourcc);
  } catch (err) {
    throw new CliError(
      `unknown FOURCC '${s.fourcc}'`,
      ExitCode.Usage,
      'use one of YUY2, UYVY, NV12, I420, RGB24, BGRA, GRAY8, MJPG',
      { cause: err },
    );
  }
  return {
    subtype,
    ...(s.width !== undefined ? { width: s.width, height: s.height } : {}),
    ...(s.interval !== undefined ? { frameInterval: s.interval as FormatRequest['frameInterval'] } : {}),
  };
}
