// exportCapturePin: a KS device's capture pin as a USB/IP UVC camera (filter + pin + PinFrameSource + UvcFunction).

import {
  KsError,
  type VideoDataRange,
  type KsDevice,
  type KsFilter,
  type KsPin,
  type KsTime,
} from '@ksemu/ks-core';
import { WebcamPin, subtypeOfFourcc } from '@ksemu/minidriver-webcam';
import type { Fourcc } from '@ksemu/hal';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { PinFrameSource, uvcFormatsOfRanges, type PinFrameSourceOptions } from './pin-frame-source.js';
import { UvcFunction, type UvcFunctionOptions } from './uvc-function.js';

export interface CapturePinExportOptions
  extends PinFrameSourceOptions, Omit<UvcFunctionOptions, 'source' | 'logger'> {
  /** Filter factory index (default 0). */
  readonly factory?: number;
  /** Capture pin id (default the webcam minidriver's capture pin). */
  readonly pinId?: number;
  readonly logger?: Logger;
}

/**
 * A UvcFunction serving a capture pin it created. It owns the filter and pin (not the device):
 * `close()` stops the stream if running (every slot returns) and closes pin and filter.
 */
export class CapturePinExport extends UvcFunction {
  readonly filter: KsFilter;
  readonly pin: KsPin;
  readonly source: PinFrameSource;
  #closing: Promise<void> | undefined;

  /** Use {@link exportCapturePin}. */
  constructor(filter: KsFilter, pin: KsPin, source: PinFrameSource, options: UvcFunctionOptions) {
    super(options);
    this.filter = filter;
    this.pin = pin;
    this.source = source;
  }

  /** Stops streaming and closes pin and filter; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.detached('export closed');
      await this.whenStopped();
      await this.pin.close().catch(() => undefined);
      await this.filter.close();
    })();
    return this.#closing;
  }
}

/**
 * Creates a filter and its capture pin on `device` and wraps them as a UVC camera for
 * {@link UsbIpServer.addDevice}. The device stays the caller's (close it after the export).
 * @throws RangeError when the pin offers none of the exported FOURCCs; KsError from the device.
 */
export async function exportCapturePin(
  device: KsDevice,
  options: CapturePinExportOptions = {},
): Promise<CapturePinExport> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const filter = await device.createFilter(options.factory ?? 0);
  try {
    const pinId = options.pinId ?? WebcamPin.Capture;
    const descriptor = filter.descriptor.pins[pinId];
    if (!descriptor) throw new KsError('NotFound', `${filter.label} has no pin ${pinId}`);
    // Pin creation needs a format; the first exported one is as good as any until the host commits.
    const ranges = descriptor.dataRanges.filter((r): r is VideoDataRange => r.kind === 'video');
    const first = uvcFormatsOfRanges(ranges, options)[0];
    if (!first) throw new RangeError(`${filter.label} pin ${pinId} has none of the exported formats`);
    const pin = await filter.createPin(pinId, {
      format: {
        subtype: subtypeOfFourcc(first.fourcc as Fourcc),
        width: first.width,
        height: first.height,
        frameInterval: BigInt(first.intervals[0]!) as KsTime,
      },
    });
    const source = new PinFrameSource(filter, pin, { ...options, logger: logger.child({ part: 'pin' }) });
    return new CapturePinExport(filter, pin, source, {
      ...options,
      source,
      logger: logger.child({ part: 'uvc' }),
    });
  } catch (err) {
    await filter.close().catch(() => undefined);
    throw err;
  }
}
